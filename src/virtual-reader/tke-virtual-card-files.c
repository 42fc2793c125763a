/* tke-virtual-card-files.c: a key part or the signature key into and out of a file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Smart card tab's "Copy key part file" and "Copy signature key file"
 * (card-protocol.md §4.14): the host sends a password-protected file and
 * its password, and the card itself opens the file (scrypt, AES-256-GCM),
 * checks it and keeps what it holds, so the clear key never exists on the
 * host; or the card encrypts one of its keys under a password into the
 * file format libtke reads.  Each of them only with a PIN typed for it
 * (NEEDS_FRESH_PIN): the command just before must have verified the PIN,
 * so a host can neither take a key out nor plant one of its own with a
 * PIN the person typed for something else.  The password travels in
 * the APDU: it is the file's, typed on the keyboard as with the real tool; the PIN that the
 * commands need stays on the PIN pad.
 */

#include "config.h"

#include "tke-virtual-card-private.h"

#include <string.h>

#include <openssl/crypto.h>

#define FILE_NAME "the file sent to the card"
#define ADMIN_NAME_MAX 30

/* The request: password length (1 byte, 1–255), the password, the rest. */
typedef struct
{
  TkeSecret *password;
  const guint8 *rest;
  gsize rest_size;
} FileRequest;

static void
file_request_clear (FileRequest *request)
{
  g_clear_pointer (&request->password, tke_secret_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FileRequest, file_request_clear)

static gboolean
parse_request (const TkeVirtualCardCommand *c, FileRequest *request)
{
  gsize length;

  if (c->size < 1)
    return FALSE;
  length = c->data[0];
  if (length == 0 || 1 + length > c->size)
    return FALSE;
  request->password = tke_secret_new_from_data (c->data + 1, length);
  request->rest = c->data + 1 + length;
  request->rest_size = c->size - 1 - length;
  return TRUE;
}

/* Which status word says what went wrong opening the file. */
static guint16
open_failed (GError *error)
{
  if (g_error_matches (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD))
    return SW_WRONG_PASSWORD;
  if (error != NULL && error->domain == TKE_ERROR &&
      (error->code == TKE_ERROR_INVALID_DATA || error->code == TKE_ERROR_INTEGRITY ||
       error->code == TKE_ERROR_CRYPTO || error->code == TKE_ERROR_INVALID_ARGUMENT))
    return SW_BAD_DATA;
  return SW_INTERNAL;
}

static gboolean
holds_vp (TkeVirtualCard *self, const guint8 vp[TKE_VP_SIZE])
{
  for (guint i = 0; i < self->parts->len; i++)
    if (CRYPTO_memcmp (((TkeVirtualCardPart *) g_ptr_array_index (self->parts, i))->vp, vp,
                       TKE_VP_SIZE) == 0)
      return TRUE;
  return FALSE;
}

static guint8
free_index (TkeVirtualCard *self)
{
  for (guint8 i = 1; i <= TKE_VIRTUAL_CARD_MAX_PARTS; i++)
    if (_tke_virtual_card_find_part (self, i, NULL) == NULL)
      return i;
  return 0;
}

/* IMPORT KEY PART FILE `80 5A 00 00 Lc <Lpw ‖ password ‖ file>` (chained):
 * answers the new part's index ‖ VP. */
GBytes *
_tke_virtual_card_cmd_import_key_part_file (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_auto (FileRequest) request = { 0 };
  g_autoptr (GBytes) contents = NULL;
  g_autoptr (TkeKeyPartFile) file = NULL;
  g_autoptr (TkeSecret) part = NULL;
  g_autoptr (GError) error = NULL;
  const char *description;
  guint8 vp[TKE_VP_SIZE];
  guint8 r[1 + TKE_VP_SIZE];
  guint8 index;

  if (c->p1 != 0 || c->p2 != 0)
    return _tke_virtual_card_sw (SW_BAD_P1P2);
  if (!parse_request (c, &request) || request.rest_size == 0)
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  contents = g_bytes_new (request.rest, request.rest_size);
  if ((file = tke_key_part_file_new_from_bytes (FILE_NAME, contents, &error)) == NULL)
    return _tke_virtual_card_sw (SW_BAD_DATA);
  description = tke_key_part_file_get_description (file);
  if (!_tke_virtual_card_valid_description ((const guint8 *) description, strlen (description)))
    return _tke_virtual_card_sw (SW_BAD_DATA);
  if ((index = free_index (self)) == 0)
    return _tke_virtual_card_sw (SW_FULL);
  /* The file checks its password, then its VP against the part it opens. */
  if ((part = tke_key_part_file_unlock (file, request.password, &error)) == NULL)
    return _tke_virtual_card_sw (open_failed (error));
  tke_crypto_verification_pattern (part, vp);
  if (holds_vp (self, vp))
    return _tke_virtual_card_sw (SW_EXISTS);
  if (!_tke_virtual_card_add_part (self, index, g_steal_pointer (&part),
                                   (const guint8 *) description, strlen (description)))
    return _tke_virtual_card_sw (SW_INTERNAL);
  r[0] = index;
  memcpy (r + 1, vp, TKE_VP_SIZE);
  return _tke_virtual_card_respond (self, r, sizeof r);
}

/* EXPORT KEY PART FILE `80 5C P1 00 Lc <Lpw ‖ password>`: P1 the part's
 * index; answers the key part file (GET RESPONSE beyond 256 bytes). */
GBytes *
_tke_virtual_card_cmd_export_key_part_file (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_auto (FileRequest) request = { 0 };
  g_autoptr (GBytes) contents = NULL;
  TkeVirtualCardPart *part;

  if (c->p1 == 0 || c->p2 != 0)
    return _tke_virtual_card_sw (SW_BAD_P1P2);
  if (!parse_request (c, &request) || request.rest_size != 0)
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  if ((part = _tke_virtual_card_find_part (self, c->p1, NULL)) == NULL)
    return _tke_virtual_card_sw (SW_NOT_FOUND);
  contents = tke_key_part_file_build (part->description, part->value, request.password, NULL);
  return _tke_virtual_card_respond_bytes (self, contents);
}

/* IMPORT SIGNATURE KEY FILE `80 4A 00 00 Lc <Lpw ‖ password ‖ file>`
 * (chained): answers the public key; a card that has one refuses (6A89). */
GBytes *
_tke_virtual_card_cmd_import_signature_key_file (TkeVirtualCard *self,
                                                 const TkeVirtualCardCommand *c)
{
  g_auto (FileRequest) request = { 0 };
  g_autoptr (GBytes) contents = NULL;
  g_autoptr (TkeSignatureKeyFile) file = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (EVP_PKEY) check = NULL;
  g_autoptr (GBytes) point = NULL;
  g_autoptr (GError) error = NULL;

  if (c->p1 != 0 || c->p2 != 0)
    return _tke_virtual_card_sw (SW_BAD_P1P2);
  if (self->signature_key != NULL)
    return _tke_virtual_card_sw (SW_EXISTS);
  if (!parse_request (c, &request) || request.rest_size == 0)
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  contents = g_bytes_new (request.rest, request.rest_size);
  if ((file = tke_signature_key_file_new_from_bytes (FILE_NAME, contents, &error)) == NULL)
    return _tke_virtual_card_sw (SW_BAD_DATA);
  if ((key = tke_signature_key_file_unlock (file, request.password, &error)) == NULL)
    return _tke_virtual_card_sw (open_failed (error));
  /* A P-521 key, as every signature the card makes. */
  if ((point = tke_crypto_ec_public_point (key, NULL)) == NULL ||
      (check = _tke_virtual_card_point_key (g_bytes_get_data (point, NULL),
                                            g_bytes_get_size (point))) == NULL)
    return _tke_virtual_card_sw (SW_BAD_DATA);
  self->signature_key = g_steal_pointer (&key);
  if (!_tke_virtual_card_persist (self))
    {
      g_clear_pointer (&self->signature_key, EVP_PKEY_free);
      return _tke_virtual_card_sw (SW_INTERNAL);
    }
  return _tke_virtual_card_respond_bytes (self, point);
}

/* The administrator's name a file records: the host's (REST), else the
 * card's description if it fits. */
static char *
admin_name (TkeVirtualCard *self, const guint8 *rest, gsize size)
{
  if (size > 0)
    {
      if (!_tke_virtual_card_valid_description (rest, size))
        return NULL;
      return g_strndup ((const char *) rest, size);
    }
  if (g_utf8_strlen (self->description, -1) <= ADMIN_NAME_MAX)
    return g_strdup (self->description);
  return g_strdup ("");
}

/* EXPORT SIGNATURE KEY FILE `80 4C 00 00 Lc <Lpw ‖ password [‖ name]>`:
 * answers the signature key file (scrypt layout). */
GBytes *
_tke_virtual_card_cmd_export_signature_key_file (TkeVirtualCard *self,
                                                 const TkeVirtualCardCommand *c)
{
  g_auto (FileRequest) request = { 0 };
  g_autoptr (GBytes) contents = NULL;
  g_autofree char *name = NULL;

  if (c->p1 != 0 || c->p2 != 0)
    return _tke_virtual_card_sw (SW_BAD_P1P2);
  if (!parse_request (c, &request))
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  if (request.rest_size > ADMIN_NAME_MAX ||
      (name = admin_name (self, request.rest, request.rest_size)) == NULL ||
      g_utf8_strlen (name, -1) > ADMIN_NAME_MAX)
    return _tke_virtual_card_sw (SW_BAD_DATA);
  if (self->signature_key == NULL)
    return _tke_virtual_card_sw (SW_NO_KEY);
  contents = tke_signature_key_file_build (*name != '\0' ? name : NULL, self->signature_key,
                                           request.password, TKE_KEY_FILE_KDF_SCRYPT, NULL);
  return _tke_virtual_card_respond_bytes (self, contents);
}
