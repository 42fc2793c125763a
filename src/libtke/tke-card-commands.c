/* tke-card-commands.c: the TKE card's commands (card-protocol.md §4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each command is an operation: a GTask worker that takes the card's lock,
 * begins a transaction, has the PIN typed on the pad if the command needs
 * it, and runs the command's APDUs.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <winscard.h>

#include "tke-card-private.h"
#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-pcsc-private.h"

#define POINT_SIZE 133
#define SEALED_SIZE 194
#define MAX_MESSAGE 4096
#define MAX_CHAIN_CERTIFICATES 4
#define EXPORT_FORM_CERTIFIED 0x01

TkePcscCardInfo *
_tke_card_read_info (TkeCard *self, GError **error)
{
  g_autoptr (GByteArray) data =
      _tke_card_command_ok (self, 0x80, 0xCA, 0x00, 0x00, NULL, 0, TRUE, error);

  if (data == NULL)
    return NULL;
  return _tke_pcsc_parse_card_info (data->data, data->len, error);
}

void
_tke_card_apply_info (TkeCard *self, TkePcscCardInfo *info)
{
  g_free (self->serial);
  self->serial = g_strdup (info->serial);
  self->card_type = info->card_type;
  g_free (self->zone);
  self->zone = g_strdup (info->zone);
  g_free (self->zone_description);
  self->zone_description = g_strdup (info->zone_description);
  g_free (self->description);
  self->description = g_strdup (info->description);
  self->pin_tries_left = info->pin_tries_left;
  self->has_signature_key = info->has_signature_key;
}

typedef struct _Operation Operation;
typedef gpointer (*OperationFunc) (TkeCard *self, Operation *op, GError **error);

struct _Operation
{
  OperationFunc func;
  GDestroyNotify result_free;
  gboolean needs_pin;
  guint index;
  GBytes *data;
  char *description;
};

static void
operation_free (gpointer data)
{
  Operation *op = data;

  g_clear_pointer (&op->data, g_bytes_unref);
  g_free (op->description);
  g_free (op);
}

static gpointer
run_with_pin (TkeCard *self, gpointer data, GError **error)
{
  Operation *op = data;

  if (op->needs_pin && !_tke_card_ensure_pin_verified (self, error))
    return NULL;
  return op->func (self, op, error);
}

static void
operation_thread (GTask *task,
                  gpointer source_object,
                  gpointer task_data,
                  GCancellable *cancellable)
{
  Operation *op = task_data;
  GError *error = NULL;
  gpointer result = _tke_card_transact (source_object, cancellable, run_with_pin, op, &error);

  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, op->result_free);
}

static Operation *
operation_new (OperationFunc func, GDestroyNotify result_free, gboolean needs_pin)
{
  Operation *op = g_new0 (Operation, 1);

  op->func = func;
  op->result_free = result_free;
  op->needs_pin = needs_pin;
  return op;
}

static void
run_operation (TkeCard *self,
               Operation *op,
               gpointer source_tag,
               GCancellable *cancellable,
               GAsyncReadyCallback callback,
               gpointer user_data)
{
  g_autoptr (GTask) task = _tke_card_task_new (self, source_tag, cancellable, callback, user_data);

  g_task_set_task_data (task, op, operation_free);
  g_task_run_in_thread (task, operation_thread);
}

static gpointer
finish_operation (TkeCard *self, GAsyncResult *result, gpointer source_tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The operations return a pointer; a boolean operation returns this. */
static gpointer
success (void)
{
  return GINT_TO_POINTER (1);
}

static gpointer
op_read_info (TkeCard *self, Operation *op, GError **error)
{
  return _tke_card_read_info (self, error);
}

static gpointer
op_verify (TkeCard *self, Operation *op, GError **error)
{
  return success ();
}

static GBytes *
read_public_key (TkeCard *self, GError **error)
{
  g_autoptr (GByteArray) point =
      _tke_card_command_ok (self, 0x80, 0x48, 0x00, 0x00, NULL, 0, TRUE, error);

  if (point == NULL)
    return NULL;
  if (point->len != POINT_SIZE || point->data[0] != 0x04)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's public key is malformed."));
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&point));
}

static gpointer
op_get_public_key (TkeCard *self, Operation *op, GError **error)
{
  return read_public_key (self, error);
}

static gpointer
op_sign (TkeCard *self, Operation *op, GError **error)
{
  gsize size = 0;
  const guint8 *message = g_bytes_get_data (op->data, &size);
  g_autoptr (GByteArray) signature =
      _tke_card_command_ok (self, 0x00, 0x2A, 0x9E, 0x9A, message, size, TRUE, error);

  if (signature == NULL)
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&signature));
}

static TkeCardKeyPart *
read_key_part (TkeCard *self, guint index, GError **error)
{
  g_autoptr (GByteArray) info =
      _tke_card_command_ok (self, 0x80, 0x52, (guint8) index, 0x00, NULL, 0, TRUE, error);
  TkeCardKeyPart *part;

  if (info == NULL)
    return NULL;
  if (info->len < 1 + TKE_VP_SIZE || info->data[0] != index)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's key part list is malformed."));
      return NULL;
    }
  part = g_new0 (TkeCardKeyPart, 1);
  part->index = index;
  part->check_value = tke_crypto_hex_encode (info->data + 1, TKE_VP_SIZE);
  part->description =
      _tke_pcsc_utf8_value (info->data + 1 + TKE_VP_SIZE, info->len - 1 - TKE_VP_SIZE);
  return part;
}

static gpointer
op_list_key_parts (TkeCard *self, Operation *op, GError **error)
{
  g_autoptr (GByteArray) indexes =
      _tke_card_command_ok (self, 0x80, 0x52, 0x00, 0x00, NULL, 0, TRUE, error);
  g_autoptr (GPtrArray) parts = NULL;

  if (indexes == NULL)
    return NULL;
  parts = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_card_key_part_free);
  for (guint i = 0; i < indexes->len; i++)
    {
      TkeCardKeyPart *part = read_key_part (self, indexes->data[i], error);

      if (part == NULL)
        return NULL;
      g_ptr_array_add (parts, part);
    }
  return g_steal_pointer (&parts);
}

/* The card's refusals of an importer key, in words. */
static void
export_refused (guint sw, guint index, GError **error)
{
  if (sw == 0x6A88)
    g_set_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND,
                 _ ("The card holds no unit root, so it cannot tell a genuine crypto unit from "
                    "an impostor and exports no key part. Create the card again with the unit "
                    "root (tke-card create --unit-root FILE) and copy its parts to it."));
  else if (sw == 0x6A80)
    g_set_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC,
                 _ ("The card refused to seal key part %u: the importer key is not certified by "
                    "the crypto unit named, up to the unit root the card holds. Nothing was "
                    "sealed."),
                 index);
  else
    _tke_pcsc_check_status (sw, error);
}

static gpointer
op_export_key_part (TkeCard *self, Operation *op, GError **error)
{
  g_autoptr (GByteArray) sealed = g_byte_array_new ();
  guint sw = 0;

  if (!_tke_card_command (self, 0x80, 0x54, (guint8) op->index, EXPORT_FORM_CERTIFIED,
                          g_bytes_get_data (op->data, NULL), g_bytes_get_size (op->data), TRUE,
                          sealed, &sw, error))
    return NULL;
  if (sw != 0x9000)
    return export_refused (sw, op->index, error), NULL;
  if (sealed->len != SEALED_SIZE)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's sealed key part is malformed."));
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&sealed));
}

static gpointer
op_generate_key_part (TkeCard *self, Operation *op, GError **error)
{
  g_autoptr (GByteArray) answer =
      _tke_card_command_ok (self, 0x80, 0x50, 0x00, 0x00, (const guint8 *) op->description,
                            strlen (op->description), TRUE, error);
  TkeCardKeyPart *part;

  if (answer == NULL)
    return NULL;
  if (answer->len != 1 + TKE_VP_SIZE)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's answer to generating a key part is malformed."));
      return NULL;
    }
  part = g_new0 (TkeCardKeyPart, 1);
  part->index = answer->data[0];
  part->check_value = tke_crypto_hex_encode (answer->data + 1, TKE_VP_SIZE);
  part->description = g_strdup (op->description);
  return part;
}

static gpointer
op_change_pin (TkeCard *self, Operation *op, GError **error)
{
  if (!_tke_card_pin_pad_entry (self, TKE_PIN_ENTRY_NEW, 0x24, 0x01, error))
    return NULL;
  if (!_tke_card_pin_pad_entry (self, TKE_PIN_ENTRY_NEW_AGAIN, 0x24, 0x02, error))
    return NULL;
  return success ();
}

/* ---- Async API ---- */

/**
 * tke_card_read_info_async:
 * @self: a card
 * @cancellable: (nullable): a #GCancellable
 * @callback: callback
 * @user_data: for @callback
 *
 * Reads the card's information again (tries left, signature key, …).
 */
void
tke_card_read_info_async (TkeCard *self,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  run_operation (self,
                 operation_new (op_read_info, (GDestroyNotify) _tke_pcsc_card_info_free, FALSE),
                 tke_card_read_info_async, cancellable, callback, user_data);
}

/**
 * tke_card_read_info_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Updates the card's properties from what it read.
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
tke_card_read_info_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  g_autoptr (TkePcscCardInfo) info =
      finish_operation (self, result, tke_card_read_info_async, error);

  if (info == NULL)
    return FALSE;
  _tke_card_apply_info (self, info);
  return TRUE;
}

void
_tke_card_hold_login (TkeCard *self)
{
  g_atomic_int_set (&self->login, TRUE);
}

/**
 * tke_card_verify_pin_async:
 * @self: a card
 * @cancellable: (nullable): checked before the PIN entry starts only
 * @callback: callback
 * @user_data: for @callback
 *
 * Logs in: has the person type the PIN on the PIN pad, unless it was
 * verified through this handle since its last log out.  The PIN then holds
 * for the handle's next operations until tke_card_log_out_async() (or the
 * handle is finalized, or the card removed); no other handle gets it.
 * Emits #TkeCard::pin-requested.
 */
void
tke_card_verify_pin_async (TkeCard *self,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  _tke_card_hold_login (self);
  run_operation (self, operation_new (op_verify, NULL, TRUE), tke_card_verify_pin_async,
                 cancellable, callback, user_data);
}

/**
 * tke_card_verify_pin_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the PIN is verified, %FALSE with @error set (wrong, blocked, cancelled or timed
 * out on the pad)
 */
gboolean
tke_card_verify_pin_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_verify_pin_async, error) != NULL;
}

static gpointer
op_log_out (TkeCard *self, Operation *op, GError **error)
{
  /* Nothing to send: the operation's scope ends without a login, and
   * ending it clears a PIN this handle verified (tke-card-apdu.c). */
  return success ();
}

/**
 * tke_card_log_out_async:
 * @self: a card
 * @callback: (nullable): callback
 * @user_data: for @callback
 *
 * Ends the login of tke_card_verify_pin_async() (or of a ceremony holding
 * the card): at once, no operation started on this handle from now on
 * takes the PIN as verified, and an operation queued after the one running
 * (a PIN entry in progress cannot be stopped) clears the card's security
 * state, so that no connection to the card finds the PIN verified.  It
 * cannot be cancelled.  Completes with %FALSE if the card was not there
 * to be reset (removed cards lose their PIN anyway).
 */
void
tke_card_log_out_async (TkeCard *self, GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  g_atomic_int_set (&self->login, FALSE);
  g_atomic_int_inc (&self->epoch);
  run_operation (self, operation_new (op_log_out, NULL, FALSE), tke_card_log_out_async, NULL,
                 callback, user_data);
}

/**
 * tke_card_log_out_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: %TRUE once the card's security state is cleared, %FALSE with
 *   @error set if the card could not be reached
 */
gboolean
tke_card_log_out_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_log_out_async, error) != NULL;
}

/**
 * tke_card_get_public_key_async:
 * @self: a card
 * @cancellable: (nullable): a #GCancellable
 * @callback: callback
 * @user_data: for @callback
 *
 * Reads the signature key's public point (EP11) or the zone key's (CA).
 */
void
tke_card_get_public_key_async (TkeCard *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  run_operation (self, operation_new (op_get_public_key, (GDestroyNotify) g_bytes_unref, FALSE),
                 tke_card_get_public_key_async, cancellable, callback, user_data);
}

/**
 * tke_card_get_public_key_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the uncompressed P-521 point (133 bytes)
 */
GBytes *
tke_card_get_public_key_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_get_public_key_async, error);
}

/**
 * tke_card_sign_async:
 * @self: a card
 * @data: the message (1–4096 bytes); the card hashes it with SHA-512
 * @cancellable: (nullable): checked before the PIN entry starts only
 * @callback: callback
 * @user_data: for @callback
 *
 * Has the PIN typed on the pad unless this handle's login holds it (see
 * tke_card_verify_pin_async()), then signs, in one transaction.
 */
void
tke_card_sign_async (TkeCard *self,
                     GBytes *data,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  Operation *op;

  g_return_if_fail (TKE_IS_CARD (self));
  g_return_if_fail (data != NULL);
  if (g_bytes_get_size (data) == 0 || g_bytes_get_size (data) > MAX_MESSAGE)
    {
      g_task_report_new_error (self, callback, user_data, tke_card_sign_async, TKE_ERROR,
                               TKE_ERROR_INVALID_ARGUMENT,
                               _ ("A card signs messages of 1 to %d bytes."), MAX_MESSAGE);
      return;
    }
  op = operation_new (op_sign, (GDestroyNotify) g_bytes_unref, TRUE);
  op->data = g_bytes_ref (data);
  run_operation (self, op, tke_card_sign_async, cancellable, callback, user_data);
}

/**
 * tke_card_sign_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the DER ECDSA P-521/SHA-512 signature
 */
GBytes *
tke_card_sign_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_sign_async, error);
}

/**
 * tke_card_list_key_parts_async:
 * @self: a card
 * @cancellable: (nullable): a #GCancellable
 * @callback: callback
 * @user_data: for @callback
 *
 * Lists the card's key parts (no PIN needed).
 */
void
tke_card_list_key_parts_async (TkeCard *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  run_operation (self, operation_new (op_list_key_parts, (GDestroyNotify) g_ptr_array_unref, FALSE),
                 tke_card_list_key_parts_async, cancellable, callback, user_data);
}

/**
 * tke_card_list_key_parts_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type TkeCardKeyPart): the parts
 */
GPtrArray *
tke_card_list_key_parts_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_list_key_parts_async, error);
}

static void
append_block (GByteArray *out, GBytes *block)
{
  gsize size = g_bytes_get_size (block);
  guint8 length[2] = { (guint8) (size >> 8), (guint8) size };

  g_byte_array_append (out, length, 2);
  g_byte_array_append (out, g_bytes_get_data (block, NULL), (guint) size);
}

/* EXPORT KEY PART's request (card-protocol.md §4.9.1), or %NULL if it
 * cannot be one. */
static GBytes *
export_request (guint part_number,
                guint n_parts,
                const char *hsm_id,
                GPtrArray *unit_certificates,
                GBytes *importer_certificate)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  gsize id_size = strlen (hsm_id);
  guint8 head[3] = { (guint8) part_number, (guint8) n_parts, (guint8) id_size };

  if (part_number < 1 || part_number > n_parts || n_parts > 255 || id_size < 1 || id_size > 255 ||
      unit_certificates->len < 1 || unit_certificates->len > MAX_CHAIN_CERTIFICATES)
    return NULL;
  g_byte_array_append (out, head, 3);
  g_byte_array_append (out, (const guint8 *) hsm_id, (guint) id_size);
  head[0] = (guint8) unit_certificates->len;
  g_byte_array_append (out, head, 1);
  for (guint k = 0; k < unit_certificates->len; k++)
    {
      GBytes *cert = unit_certificates->pdata[k];

      if (g_bytes_get_size (cert) < 1 || g_bytes_get_size (cert) > 1024)
        return NULL;
      append_block (out, cert);
    }
  if (g_bytes_get_size (importer_certificate) < 1 || g_bytes_get_size (importer_certificate) > 1024)
    return NULL;
  append_block (out, importer_certificate);
  if (out->len > MAX_MESSAGE)
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/**
 * tke_card_export_key_part_async:
 * @self: a card
 * @index: the key part's index on the card
 * @part_number: which part of the master key this is, 1 to @n_parts
 * @n_parts: how many parts the master key has
 * @hsm_id: the crypto unit the part is for
 * @unit_certificates: (element-type GBytes): the unit's certificate chain,
 *   the unit's own first, as the unit's signed answer carried it
 * @importer_certificate: the unit's importer certificate (binary)
 * @cancellable: (nullable): checked before the PIN entry starts only
 * @callback: callback
 * @user_data: for @callback
 *
 * The card verifies the chain against the unit root it holds, the importer
 * certificate with the certified device key, and that the chain is
 * @hsm_id's; only then it seals the part to the importer key with the
 * associated data `tke-keypart-v1|{hsm_id}|new|{part_number}|{n_parts}` it
 * builds itself.  The part never leaves the card in clear.  A refused
 * importer key fails with %TKE_ERROR_UNIT_NOT_AUTHENTIC; a card without a
 * unit root with %TKE_ERROR_NOT_FOUND.
 */
void
tke_card_export_key_part_async (TkeCard *self,
                                guint index,
                                guint part_number,
                                guint n_parts,
                                const char *hsm_id,
                                GPtrArray *unit_certificates,
                                GBytes *importer_certificate,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr (GBytes) request = NULL;
  Operation *op;

  g_return_if_fail (TKE_IS_CARD (self));
  g_return_if_fail (hsm_id != NULL && unit_certificates != NULL && importer_certificate != NULL);

  request = export_request (part_number, n_parts, hsm_id, unit_certificates, importer_certificate);
  if (index < 1 || index > 85 || request == NULL)
    {
      g_task_report_new_error (self, callback, user_data, tke_card_export_key_part_async, TKE_ERROR,
                               TKE_ERROR_INVALID_ARGUMENT,
                               _ ("Cannot export key part %u: bad index, part number or unit "
                                  "certificates."),
                               index);
      return;
    }
  op = operation_new (op_export_key_part, (GDestroyNotify) g_bytes_unref, TRUE);
  op->index = index;
  op->data = g_steal_pointer (&request);
  run_operation (self, op, tke_card_export_key_part_async, cancellable, callback, user_data);
}

/**
 * tke_card_export_key_part_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the sealed part (194 bytes), for tke_crypto_open()
 */
GBytes *
tke_card_export_key_part_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_export_key_part_async, error);
}

/**
 * tke_card_generate_key_part_async:
 * @self: a card
 * @description: 1–32 bytes of UTF-8
 * @cancellable: (nullable): checked before the PIN entry starts only
 * @callback: callback
 * @user_data: for @callback
 *
 * The card makes a random 32-byte part at its lowest free index.
 */
void
tke_card_generate_key_part_async (TkeCard *self,
                                  const char *description,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  Operation *op;
  gsize size;

  g_return_if_fail (TKE_IS_CARD (self));
  g_return_if_fail (description != NULL);
  size = strlen (description);
  if (size < 1 || size > 32 || !g_utf8_validate (description, -1, NULL))
    {
      g_task_report_new_error (self, callback, user_data, tke_card_generate_key_part_async,
                               TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                               _ ("A key part's description has 1 to 32 bytes."));
      return;
    }
  op = operation_new (op_generate_key_part, (GDestroyNotify) tke_card_key_part_free, TRUE);
  op->description = g_strdup (description);
  run_operation (self, op, tke_card_generate_key_part_async, cancellable, callback, user_data);
}

/**
 * tke_card_generate_key_part_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the new part's index, check value, description
 */
TkeCardKeyPart *
tke_card_generate_key_part_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_generate_key_part_async, error);
}

/**
 * tke_card_change_pin_async:
 * @self: a card
 * @cancellable: (nullable): checked before the first PIN entry only
 * @callback: callback
 * @user_data: for @callback
 *
 * Three entries on the PIN pad: the current PIN (unless this handle's
 * login holds it), the new
 * one, and the new one again within 20 seconds.
 */
void
tke_card_change_pin_async (TkeCard *self,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  run_operation (self, operation_new (op_change_pin, NULL, TRUE), tke_card_change_pin_async,
                 cancellable, callback, user_data);
}

/**
 * tke_card_change_pin_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the card has the new PIN, %FALSE with @error set (nothing changed)
 */
gboolean
tke_card_change_pin_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_change_pin_async, error) != NULL;
}
