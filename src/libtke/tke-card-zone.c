/* tke-card-zone.c: what a card does with its zone: a signature key, a copy
 * to another card of the zone, unblocking with the zone's CA card
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The copy and the unblock use two cards, each in its own reader: the
 * worker takes both cards' locks (reader 1's first, so two such operations
 * never wait for each other) and a transaction on each.  Nothing secret
 * passes through the host: a copy is sealed by the source card to the
 * target card's certified transport key (card-protocol.md §4.11), an unblock
 * grant is the CA card's signature over the blocked card's challenge (§4.5),
 * and every PIN is typed on the pads.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tke-card-private.h"
#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-pcsc-private.h"

#define POINT_SIZE 133
#define SERIAL_SIZE 8
#define CHALLENGE_SIZE 32
#define CA_PIN_1 0x81
#define CA_PIN_2 0x82

/**
 * tke_card_public_key_ski:
 * @public_key: a card's public key (the 133-byte point)
 *
 * The key's subject key identifier: SHA-256 of the point, as the crypto
 * units and the CLI name an administrator.
 *
 * Returns: (transfer full): 64 hex digits
 */
char *
tke_card_public_key_ski (GBytes *public_key)
{
  g_return_val_if_fail (public_key != NULL, NULL);
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, public_key);
}

/**
 * tke_card_type_get_name:
 * @type: a card type
 *
 * How a front end names the card type: "CA", "EP11", "blank" (translated).
 *
 * Returns: (transfer none): the name
 */
const char *
tke_card_type_get_name (TkeCardType type)
{
  switch (type)
    {
    case TKE_CARD_TYPE_CA:
      return _ ("CA");
    case TKE_CARD_TYPE_EP11:
      return "EP11";
    case TKE_CARD_TYPE_BLANK:
      return _ ("blank");
    case TKE_CARD_TYPE_UNKNOWN:
    default:
      return _ ("unknown");
    }
}

/* ---- Two cards in one worker ---- */

typedef struct _Job Job;
typedef gpointer (*PairFunc) (TkeCard *self, TkeCard *other, Job *job, GError **error);

struct _Job
{
  TkeCard *self;
  TkeCard *other; /* NULL for a one-card job */
  PairFunc func;
  gboolean replace;
  GByteArray *data; /* what the card is sent */
};

static void
job_free (gpointer data)
{
  Job *job = data;

  g_clear_object (&job->self);
  g_clear_object (&job->other);
  g_clear_pointer (&job->data, g_byte_array_unref);
  g_free (job);
}

/* Locks both cards, reader 1's first, and begins a transaction on each. */
static gboolean
lock_both (TkeCard *a, TkeCard *b, GError **error)
{
  TkeCard *first = a->reader_index <= b->reader_index ? a : b;
  TkeCard *second = first == a ? b : a;

  g_mutex_lock (&first->lock);
  g_mutex_lock (&second->lock);
  if (!_tke_card_begin_transaction (first, error))
    goto unlock;
  if (!_tke_card_begin_transaction (second, error))
    {
      _tke_card_end_transaction (first);
      goto unlock;
    }
  return TRUE;
unlock:
  g_mutex_unlock (&second->lock);
  g_mutex_unlock (&first->lock);
  return FALSE;
}

static void
unlock_both (TkeCard *a, TkeCard *b)
{
  _tke_card_end_transaction (a);
  _tke_card_end_transaction (b);
  g_mutex_unlock (&a->lock);
  g_mutex_unlock (&b->lock);
}

static void
pair_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  TkeCard *self = source_object;
  Job *job = task_data;
  TkeCard *other = job->other;
  GError *error = NULL;
  gpointer result = NULL;

  if (!g_cancellable_set_error_if_cancelled (cancellable, &error) &&
      lock_both (self, other, &error))
    {
      result = job->func (self, other, job, &error);
      unlock_both (self, other);
    }
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, NULL);
}

/* Runs FUNC on SELF and OTHER in one worker; two cards in one reader are
 * refused with SAME_READER. */
static void
run_pair (TkeCard *self,
          TkeCard *other,
          PairFunc func,
          const char *same_reader,
          gpointer source_tag,
          GCancellable *cancellable,
          GAsyncReadyCallback callback,
          gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  Job *job;

  if (self == other || self->reader_index == other->reader_index)
    {
      g_task_report_new_error (self, callback, user_data, source_tag, TKE_ERROR,
                               TKE_ERROR_INVALID_ARGUMENT, "%s", same_reader);
      return;
    }
  task = _tke_card_task_new (self, source_tag, cancellable, callback, user_data);
  job = g_new0 (Job, 1);
  job->self = g_object_ref (self);
  job->other = g_object_ref (other);
  job->func = func;
  g_task_set_task_data (task, job, job_free);
  g_task_run_in_thread (task, pair_thread);
}

/* The result of a job that returns GINT_TO_POINTER (1) on success. */
static gboolean
finish_done (TkeCard *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_pointer (G_TASK (result), error) != NULL;
}

static gboolean
serial_bytes (const char *hex, guint8 out[SERIAL_SIZE], GError **error)
{
  g_autoptr (GBytes) bytes = tke_crypto_hex_decode (hex != NULL ? hex : "", NULL);

  if (bytes == NULL || g_bytes_get_size (bytes) != SERIAL_SIZE)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's serial number is malformed."));
      return FALSE;
    }
  memcpy (out, g_bytes_get_data (bytes, NULL), SERIAL_SIZE);
  return TRUE;
}

/* ---- Generate signature key ---- */

static gpointer
generate_signature_key (TkeCard *self, gpointer data, GError **error)
{
  Job *job = data;

  if (!_tke_card_ensure_pin_verified (self, error))
    return NULL;
  return _tke_card_command_ok (self, 0x80, 0x46, job->replace ? 0x01 : 0x00, 0x00, NULL, 0, TRUE,
                               error);
}

static void
sigkey_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  GByteArray *point =
      _tke_card_transact (source_object, cancellable, generate_signature_key, task_data, &error);

  if (point != NULL && (point->len != POINT_SIZE || point->data[0] != 0x04))
    {
      g_byte_array_unref (point);
      point = NULL;
      g_set_error_literal (&error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's public key is malformed."));
    }
  if (point == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_byte_array_free_to_bytes (point),
                           (GDestroyNotify) g_bytes_unref);
}

/**
 * tke_card_generate_signature_key_async:
 * @self: an EP11 card
 * @replace: replace the card's signature key if it has one
 * @cancellable: (nullable): checked before the PIN entry only
 * @callback: callback
 * @user_data: for @callback
 *
 * The card makes an ECDSA P-521 key pair; the private key never leaves it.
 * An EP11 card holds one signature key: without @replace, a card that has
 * one refuses (the error says so, and nothing changes).  The PIN is typed
 * on the pad unless this handle's login holds it (tke_card_verify_pin_async()).
 */
void
tke_card_generate_signature_key_async (TkeCard *self,
                                       gboolean replace,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  Job *job;

  g_return_if_fail (TKE_IS_CARD (self));
  if (self->card_type != TKE_CARD_TYPE_EP11)
    {
      g_task_report_new_error (self, callback, user_data, tke_card_generate_signature_key_async,
                               TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                               _ ("Only an EP11 card holds a signature key."));
      return;
    }
  if (self->has_signature_key && !replace)
    {
      g_task_report_new_error (self, callback, user_data, tke_card_generate_signature_key_async,
                               TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                               _ ("The card already holds a signature key. A card holds one "
                                  "signature key only."));
      return;
    }
  task = _tke_card_task_new (self, tke_card_generate_signature_key_async, cancellable, callback,
                             user_data);
  job = g_new0 (Job, 1);
  job->replace = replace;
  g_task_set_task_data (task, job, job_free);
  g_task_run_in_thread (task, sigkey_thread);
}

/**
 * tke_card_generate_signature_key_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the new public key (the 133-byte point), or %NULL
 */
GBytes *
tke_card_generate_signature_key_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- Copy ---- */

/* What SELF holds: item 00 (the signature key) and each key part index. */
static GByteArray *
items_of (TkeCard *self, gboolean has_signature_key, GError **error)
{
  g_autoptr (GByteArray) indexes =
      _tke_card_command_ok (self, 0x80, 0x52, 0x00, 0x00, NULL, 0, TRUE, error);
  GByteArray *items;
  guint8 signature_key = 0x00;

  if (indexes == NULL)
    return NULL;
  items = g_byte_array_new ();
  if (has_signature_key)
    g_byte_array_append (items, &signature_key, 1);
  g_byte_array_append (items, indexes->data, indexes->len);
  return items;
}

static gboolean
holds (GByteArray *items, guint8 item)
{
  for (guint i = 0; i < items->len; i++)
    if (items->data[i] == item)
      return TRUE;
  return FALSE;
}

/* Everything that can be said before a PIN is typed: both EP11, one zone,
 * nothing of the source's already on the target. */
static GByteArray *
copy_plan (TkeCard *self, TkeCard *target, GError **error)
{
  g_autoptr (TkePcscCardInfo) from = _tke_card_read_info (self, error);
  g_autoptr (TkePcscCardInfo) to = from != NULL ? _tke_card_read_info (target, error) : NULL;
  g_autoptr (GByteArray) have = NULL;
  g_autoptr (GByteArray) items = NULL;

  if (to == NULL)
    return NULL;
  if (from->card_type != TKE_CARD_TYPE_EP11 || to->card_type != TKE_CARD_TYPE_EP11)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("Only EP11 cards are copied: put an EP11 card in each reader."));
      return NULL;
    }
  if (g_strcmp0 (from->zone, to->zone) != 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("The card in reader %u belongs to zone “%s”, the card in reader %u to zone "
                      "“%s”. A card is copied only to a card of its own zone. Nothing was "
                      "copied."),
                   self->reader_index, from->zone_description, target->reader_index,
                   to->zone_description);
      return NULL;
    }
  if (g_strcmp0 (from->serial, to->serial) == 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("Both readers hold the same card."));
      return NULL;
    }
  if ((items = items_of (self, from->has_signature_key, error)) == NULL ||
      (have = items_of (target, to->has_signature_key, error)) == NULL)
    return NULL;
  if (items->len == 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND,
                   _ ("The card in reader %u holds no signature key and no key part: nothing to "
                      "copy."),
                   self->reader_index);
      return NULL;
    }
  for (guint i = 0; i < items->len; i++)
    if (holds (have, items->data[i]))
      {
        if (items->data[i] == 0x00)
          g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                       _ ("The card in reader %u already holds a signature key. Nothing was "
                          "copied."),
                       target->reader_index);
        else
          g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                       _ ("The card in reader %u already holds a key part at index %u. Nothing "
                          "was copied."),
                       target->reader_index, items->data[i]);
        return NULL;
      }
  return g_steal_pointer (&items);
}

static gpointer
copy_pair (TkeCard *self, TkeCard *target, Job *job, GError **error)
{
  g_autoptr (GByteArray) items = copy_plan (self, target, error);
  g_autoptr (GByteArray) certificate = NULL;

  if (items == NULL || !_tke_card_ensure_pin_verified (self, error) ||
      !_tke_card_ensure_pin_verified (target, error))
    return NULL;
  certificate = _tke_card_command_ok (target, 0x80, 0x62, 0x00, 0x00, NULL, 0, TRUE, error);
  if (certificate == NULL)
    return NULL;
  for (guint i = 0; i < items->len; i++)
    {
      /* Sealed by the source to the target's certified transport key. */
      g_autoptr (GByteArray) sealed = _tke_card_command_ok (
          self, 0x80, 0x64, items->data[i], 0x00, certificate->data, certificate->len, TRUE, error);
      g_autoptr (GByteArray) done = NULL;

      if (sealed == NULL)
        return NULL;
      done = _tke_card_command_ok (target, 0x80, 0x66, 0x00, 0x00, sealed->data, sealed->len, FALSE,
                                   error);
      if (done == NULL)
        return NULL;
    }
  return GUINT_TO_POINTER (items->len);
}

/**
 * tke_card_copy_to_async:
 * @self: the EP11 card to copy
 * @target: an EP11 card of the same zone, in the other reader
 * @cancellable: (nullable): checked before the first PIN entry only
 * @callback: callback
 * @user_data: for @callback
 *
 * Copies the signature key and every key part of @self onto @target, each
 * sealed by @self to @target's transport key, which the zone's CA card
 * certified: the secrets are in clear only inside the two cards.  Before
 * any PIN is asked for, a card of another zone, a card that is not an EP11
 * card, and a target that already holds one of the items are refused, and
 * nothing is copied.  Then each card's PIN is typed on its pad.
 */
void
tke_card_copy_to_async (TkeCard *self,
                        TkeCard *target,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  g_return_if_fail (TKE_IS_CARD (target));
  run_pair (self, target, copy_pair, _ ("A card is copied to a card in the other reader."),
            tke_card_copy_to_async, cancellable, callback, user_data);
}

/**
 * tke_card_copy_to_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: how many items (the signature key, key parts) were copied; 0
 *   with @error set
 */
guint
tke_card_copy_to_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), 0);
  return GPOINTER_TO_UINT (g_task_propagate_pointer (G_TASK (result), error));
}

/* ---- Unblock ---- */

static gboolean
unblock_plan (TkeCard *self, TkeCard *ca, GError **error)
{
  g_autoptr (TkePcscCardInfo) blocked = _tke_card_read_info (self, error);
  g_autoptr (TkePcscCardInfo) zone = blocked != NULL ? _tke_card_read_info (ca, error) : NULL;

  if (zone == NULL)
    return FALSE;
  if (blocked->card_type != TKE_CARD_TYPE_EP11)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("The card in reader %u is not an EP11 card. Only an EP11 card can be "
                      "unblocked; a blocked CA card cannot."),
                   self->reader_index);
      return FALSE;
    }
  if (zone->card_type != TKE_CARD_TYPE_CA)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("Put the zone's CA card in reader %u."), ca->reader_index);
      return FALSE;
    }
  if (g_strcmp0 (blocked->zone, zone->zone) != 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("The CA card in reader %u is of zone “%s”, the card to unblock of zone "
                      "“%s”. Only the card's own zone's CA card unblocks it."),
                   ca->reader_index, zone->zone_description, blocked->zone_description);
      return FALSE;
    }
  return TRUE;
}

static gpointer
unblock_pair (TkeCard *self, TkeCard *ca, Job *job, GError **error)
{
  guint8 request[SERIAL_SIZE + CHALLENGE_SIZE];
  g_autoptr (GByteArray) challenge = NULL;
  g_autoptr (GByteArray) grant = NULL;
  g_autoptr (GByteArray) reset = NULL;

  if (!unblock_plan (self, ca, error) || !serial_bytes (self->serial, request, error))
    return NULL;
  challenge = _tke_card_command_ok (self, 0x00, 0x84, 0x00, 0x00, NULL, 0, TRUE, error);
  if (challenge == NULL)
    return NULL;
  if (challenge->len != CHALLENGE_SIZE)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's challenge is malformed."));
      return NULL;
    }
  memcpy (request + SERIAL_SIZE, challenge->data, CHALLENGE_SIZE);
  if (!_tke_card_ensure_pin_ref_verified (ca, CA_PIN_1, TKE_PIN_ENTRY_CURRENT, error) ||
      !_tke_card_ensure_pin_ref_verified (ca, CA_PIN_2, TKE_PIN_ENTRY_SECOND, error))
    return NULL;
  grant = _tke_card_command_ok (ca, 0x80, 0x2E, 0x00, 0x00, request, sizeof request, TRUE, error);
  if (grant == NULL)
    return NULL;
  reset =
      _tke_card_command_ok (self, 0x00, 0x2C, 0x01, 0x81, grant->data, grant->len, FALSE, error);
  if (reset == NULL)
    return NULL;
  /* The grant allows a new PIN without the old one: asked for at once. */
  if (!_tke_card_pin_pad_entry (self, TKE_PIN_ENTRY_NEW, 0x24, 0x01, error) ||
      !_tke_card_pin_pad_entry (self, TKE_PIN_ENTRY_NEW_AGAIN, 0x24, 0x02, error))
    return NULL;
  return GINT_TO_POINTER (1);
}

/**
 * tke_card_unblock_async:
 * @self: the blocked EP11 card
 * @ca_card: its zone's CA card, in the other reader
 * @cancellable: (nullable): checked before the first PIN entry only
 * @callback: callback
 * @user_data: for @callback
 *
 * Unblocks @self with its zone's CA card: the CA card's PIN 1 and PIN 2 on
 * its pad, then the blocked card's new PIN twice on its pad (within 20
 * seconds).  A card of another zone, a blocked CA card (which cannot be
 * unblocked) and a CA card in the wrong reader are refused before any PIN.
 * If the new PIN is not entered, the card is unblocked with its old PIN.
 */
void
tke_card_unblock_async (TkeCard *self,
                        TkeCard *ca_card,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  g_return_if_fail (TKE_IS_CARD (ca_card));
  run_pair (self, ca_card, unblock_pair,
            _ ("The CA card and the card to unblock go in different readers."),
            tke_card_unblock_async, cancellable, callback, user_data);
}

/**
 * tke_card_unblock_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the card is unblocked with its new PIN
 */
gboolean
tke_card_unblock_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_done (self, result, error);
}

/* ---- A blank card becomes a CA card or an EP11 card (§4.13) ---- */

#define NO_ZONE "0000000000000000"

static gboolean
zone_is_set (const char *zone)
{
  return zone != NULL && *zone != '\0' && strcmp (zone, NO_ZONE) != 0;
}

/**
 * tke_card_get_enrolled:
 * @self: a card
 *
 * Returns: %TRUE if the card belongs to a zone: a CA or EP11 card, or a
 *   blank card enrolled and waiting to be personalized
 */
gboolean
tke_card_get_enrolled (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), FALSE);
  return zone_is_set (self->zone);
}

static gboolean
valid_description (const char *text)
{
  gsize size = text != NULL ? strlen (text) : 0;

  return size >= 1 && size <= 32 && g_utf8_validate (text, -1, NULL);
}

/* The new PIN P2 twice on the pad, within 20 seconds. */
static gboolean
new_pin_twice (TkeCard *self, guint8 p2, GError **error)
{
  gboolean second = p2 == CA_PIN_2;

  return _tke_card_pin_pad_entry_ref (self, second ? TKE_PIN_ENTRY_NEW_SECOND : TKE_PIN_ENTRY_NEW,
                                      0x24, 0x01, p2, error) &&
         _tke_card_pin_pad_entry_ref (
             self, second ? TKE_PIN_ENTRY_NEW_SECOND_AGAIN : TKE_PIN_ENTRY_NEW_AGAIN, 0x24, 0x02,
             p2, error);
}

static gboolean
check_blank (TkeCard *self, gboolean want_enrolled, GError **error)
{
  g_autoptr (TkePcscCardInfo) info = _tke_card_read_info (self, error);

  if (info == NULL)
    return FALSE;
  if (info->card_type != TKE_CARD_TYPE_BLANK)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("The card in reader %u is not blank: it is initialized already."),
                   self->reader_index);
      return FALSE;
    }
  if (zone_is_set (info->zone) != want_enrolled)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   want_enrolled ? _ ("The blank card in reader %u is not enrolled in a zone yet: "
                                      "initialize and enroll it first.")
                                 : _ ("The blank card in reader %u is enrolled in a zone already: "
                                      "personalize it."),
                   self->reader_index);
      return FALSE;
    }
  return TRUE;
}

static gpointer
run_one_card_job (TkeCard *self, gpointer data, GError **error)
{
  Job *job = data;

  return job->func (self, NULL, job, error);
}

static void
one_card_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  gpointer result =
      _tke_card_transact (source_object, cancellable, run_one_card_job, task_data, &error);

  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, NULL);
}

static void
run_one (TkeCard *self,
         PairFunc func,
         GByteArray *data,
         gpointer source_tag,
         GCancellable *cancellable,
         GAsyncReadyCallback callback,
         gpointer user_data)
{
  g_autoptr (GTask) task = _tke_card_task_new (self, source_tag, cancellable, callback, user_data);
  Job *job = g_new0 (Job, 1);

  job->self = g_object_ref (self);
  job->func = func;
  job->data = data;
  g_task_set_task_data (task, job, job_free);
  g_task_run_in_thread (task, one_card_thread);
}

static gpointer
initialize_ca (TkeCard *self, TkeCard *unused, Job *job, GError **error)
{
  GByteArray *request = job->data;
  g_autoptr (GByteArray) done = NULL;

  if (!check_blank (self, FALSE, error) || !new_pin_twice (self, CA_PIN_1, error) ||
      !new_pin_twice (self, CA_PIN_2, error))
    return NULL;
  done = _tke_card_command_ok (self, 0x80, 0x10, 0x00, 0x00, request->data, request->len, FALSE,
                               error);
  return done != NULL ? GINT_TO_POINTER (1) : NULL;
}

/**
 * tke_card_initialize_ca_async:
 * @self: a blank card
 * @zone_description: the new zone's description (1 to 32 bytes)
 * @description: the CA card's description (1 to 32 bytes)
 * @cancellable: (nullable): checked before the first PIN entry only
 * @callback: callback
 * @user_data: for @callback
 *
 * Initializes and personalizes a CA card, as the Smart Card Utility
 * Program does: PIN 1 twice and PIN 2 twice on the pad (each pair within 20
 * seconds), then the card makes a new zone and its zone key.  A card that
 * is not blank is refused before any PIN.
 */
void
tke_card_initialize_ca_async (TkeCard *self,
                              const char *zone_description,
                              const char *description,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  GByteArray *request;
  guint8 size;

  g_return_if_fail (TKE_IS_CARD (self));
  if (!valid_description (zone_description) || !valid_description (description))
    {
      g_task_report_new_error (self, callback, user_data, tke_card_initialize_ca_async, TKE_ERROR,
                               TKE_ERROR_INVALID_ARGUMENT,
                               _ ("A zone description and a card description have 1 to 32 "
                                  "bytes each."));
      return;
    }
  size = (guint8) strlen (zone_description);
  request = g_byte_array_new ();
  g_byte_array_append (request, &size, 1);
  g_byte_array_append (request, (const guint8 *) zone_description, size);
  g_byte_array_append (request, (const guint8 *) description, (guint) strlen (description));
  run_one (self, initialize_ca, request, tke_card_initialize_ca_async, cancellable, callback,
           user_data);
}

/**
 * tke_card_initialize_ca_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the card is now its new zone's CA card
 */
gboolean
tke_card_initialize_ca_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_done (self, result, error);
}

static gpointer
enroll_pair (TkeCard *self, TkeCard *ca, Job *job, GError **error)
{
  g_autoptr (TkePcscCardInfo) zone = NULL;
  g_autoptr (GByteArray) request = NULL;
  g_autoptr (GByteArray) certificate = NULL;
  g_autoptr (GByteArray) done = NULL;

  if (!check_blank (self, FALSE, error) || (zone = _tke_card_read_info (ca, error)) == NULL)
    return NULL;
  if (zone->card_type != TKE_CARD_TYPE_CA)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("Put the zone's CA card in reader %u."), ca->reader_index);
      return NULL;
    }
  request = _tke_card_command_ok (self, 0x80, 0x12, 0x00, 0x00, NULL, 0, TRUE, error);
  if (request == NULL ||
      !_tke_card_ensure_pin_ref_verified (ca, CA_PIN_1, TKE_PIN_ENTRY_CURRENT, error) ||
      !_tke_card_ensure_pin_ref_verified (ca, CA_PIN_2, TKE_PIN_ENTRY_SECOND, error))
    return NULL;
  /* The CA card signs the blank card's serial and public transport key. */
  certificate =
      _tke_card_command_ok (ca, 0x80, 0x68, 0x00, 0x00, request->data, request->len, TRUE, error);
  if (certificate == NULL)
    return NULL;
  done = _tke_card_command_ok (self, 0x80, 0x14, 0x00, 0x00, certificate->data, certificate->len,
                               FALSE, error);
  return done != NULL ? GINT_TO_POINTER (1) : NULL;
}

/**
 * tke_card_enroll_async:
 * @self: a blank card
 * @ca_card: the zone's CA card, in the other reader
 * @cancellable: (nullable): checked before the first PIN entry only
 * @callback: callback
 * @user_data: for @callback
 *
 * Initializes and enrolls an EP11 card in the CA card's zone: the blank
 * card makes its transport key, and the CA card certifies it (both CA PINs
 * on its pad).  Personalize the card next (tke_card_personalize_async()).
 */
void
tke_card_enroll_async (TkeCard *self,
                       TkeCard *ca_card,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  g_return_if_fail (TKE_IS_CARD (ca_card));
  run_pair (self, ca_card, enroll_pair,
            _ ("The CA card and the card to enroll go in different readers."),
            tke_card_enroll_async, cancellable, callback, user_data);
}

/**
 * tke_card_enroll_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the card is enrolled in the CA card's zone
 */
gboolean
tke_card_enroll_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_done (self, result, error);
}

/* The CA card's PINs first: a cancelled entry leaves the blank card as it
 * was.  Then the blank card's request, the CA card's sealed backup, and the
 * blank card installs it (card-protocol.md §4.15). */
static gpointer
back_up_pair (TkeCard *self, TkeCard *blank, Job *job, GError **error)
{
  g_autoptr (TkePcscCardInfo) ca = _tke_card_read_info (self, error);
  g_autoptr (GByteArray) request = NULL;
  g_autoptr (GByteArray) backup = NULL;
  g_autoptr (GByteArray) done = NULL;
  g_autoptr (GError) local_error = NULL;

  if (ca == NULL || !check_blank (blank, FALSE, error))
    return NULL;
  if (ca->card_type != TKE_CARD_TYPE_CA)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("The card in reader %u is not a CA card: only a CA card is backed up."),
                   self->reader_index);
      return NULL;
    }
  if (!_tke_card_ensure_pin_ref_verified (self, CA_PIN_1, TKE_PIN_ENTRY_CURRENT, error) ||
      !_tke_card_ensure_pin_ref_verified (self, CA_PIN_2, TKE_PIN_ENTRY_SECOND, error))
    return NULL;
  request = _tke_card_command_ok (blank, 0x80, 0x70, 0x00, 0x00, NULL, 0, TRUE, error);
  if (request == NULL)
    return NULL;
  backup =
      _tke_card_command_ok (self, 0x80, 0x72, 0x00, 0x00, request->data, request->len, TRUE, error);
  if (backup == NULL)
    return NULL;
  done = _tke_card_command_ok (blank, 0x80, 0x74, 0x00, 0x00, backup->data, backup->len, FALSE,
                               &local_error);
  if (done != NULL)
    return GINT_TO_POINTER (1);
  /* Pulled while it installed: the card installs all or nothing, but its
   * answer is lost, so only the card can say which. */
  if (g_error_matches (local_error, TKE_ERROR, TKE_ERROR_CARD_REMOVED))
    g_set_error (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED,
                 _ ("The card was removed from reader %u while it installed the backup. Put it "
                    "back in: if it is still blank, back up the CA card again; if it is a CA "
                    "card of the zone now, it is the whole backup."),
                 blank->reader_index);
  else
    g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

/**
 * tke_card_back_up_ca_async:
 * @self: the CA card
 * @blank: a new blank card, in the other reader
 * @cancellable: (nullable): checked before the first PIN entry only
 * @callback: callback
 * @user_data: for @callback
 *
 * Backs up a CA card onto a blank card: the copy is a CA card of the same
 * zone, with the same zone key, descriptions and both PINs, so that a lost
 * or broken CA card does not lose the zone.  Both CA PINs are asked on the
 * CA card's pad before anything is sent to the blank card.  The zone key
 * and the PINs go sealed from card to card, only to a genuine card; the
 * host never holds them.  A card that is not blank, or was given a PIN
 * already, is refused before any PIN.
 */
void
tke_card_back_up_ca_async (TkeCard *self,
                           TkeCard *blank,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  g_return_if_fail (TKE_IS_CARD (blank));
  run_pair (self, blank, back_up_pair,
            _ ("The CA card and the blank card for its backup go in different readers."),
            tke_card_back_up_ca_async, cancellable, callback, user_data);
}

/**
 * tke_card_back_up_ca_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the blank card is now a backup of the CA card
 */
gboolean
tke_card_back_up_ca_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_done (self, result, error);
}

static gpointer
personalize (TkeCard *self, TkeCard *unused, Job *job, GError **error)
{
  GByteArray *description = job->data;
  g_autoptr (GByteArray) done = NULL;

  if (!check_blank (self, TRUE, error) || !new_pin_twice (self, CA_PIN_1, error))
    return NULL;
  done = _tke_card_command_ok (self, 0x80, 0x16, 0x00, 0x00, description->data, description->len,
                               FALSE, error);
  return done != NULL ? GINT_TO_POINTER (1) : NULL;
}

/**
 * tke_card_personalize_async:
 * @self: a blank card enrolled in a zone
 * @description: the card's description (1 to 32 bytes)
 * @cancellable: (nullable): checked before the first PIN entry only
 * @callback: callback
 * @user_data: for @callback
 *
 * Personalizes an EP11 card: its PIN twice on the pad (within 20
 * seconds), then its description.  The card is then an EP11 card of its
 * zone, ready for a signature key and key parts.
 */
void
tke_card_personalize_async (TkeCard *self,
                            const char *description,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  GByteArray *data;

  g_return_if_fail (TKE_IS_CARD (self));
  if (!valid_description (description))
    {
      g_task_report_new_error (self, callback, user_data, tke_card_personalize_async, TKE_ERROR,
                               TKE_ERROR_INVALID_ARGUMENT,
                               _ ("A card description has 1 to 32 bytes."));
      return;
    }
  data = g_byte_array_new ();
  g_byte_array_append (data, (const guint8 *) description, (guint) strlen (description));
  run_one (self, personalize, data, tke_card_personalize_async, cancellable, callback, user_data);
}

/**
 * tke_card_personalize_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the card is now a personalized EP11 card
 */
gboolean
tke_card_personalize_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_done (self, result, error);
}
