/* tke-virtual-card-image.c: the card image file of a virtual card
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A key file with the public fields and "Chip": the records (tag, 16-bit
 * length, value) sealed with AES-256-GCM under the chip key.
 */

#include "config.h"

#include "tke-virtual-card-private.h"

#include <string.h>

#include <glib/gi18n.h>
#include <openssl/crypto.h>
#include <glib/gstdio.h>

#define IMAGE_GROUP "TKE Card"
#define IMAGE_FORMAT 1
#define IMAGE_AAD "tke card image v1"

enum
{
  REC_SERIAL = 0x01,
  REC_TYPE = 0x02,
  REC_ZONE = 0x03,
  REC_ZONE_DESCRIPTION = 0x04,
  REC_DESCRIPTION = 0x05,
  REC_PIN1 = 0x10,
  REC_TRIES1 = 0x11,
  REC_PIN2 = 0x12,
  REC_TRIES2 = 0x13,
  REC_ZONE_POINT = 0x20,
  REC_ZONE_KEY = 0x21,
  REC_TRANSPORT_KEY = 0x22,
  REC_CERTIFICATE = 0x23,
  REC_SIGNATURE_KEY = 0x24,
  REC_UNIT_ROOT = 0x25,
  REC_KEY_PART = 0x30,
};

typedef struct
{
  guint8 *buffer; /* NULL: only count */
  gsize offset;
} Writer;

static void
put_header (Writer *w, guint8 tag, gsize size)
{
  if (w->buffer != NULL)
    {
      w->buffer[w->offset] = tag;
      w->buffer[w->offset + 1] = (guint8) (size >> 8);
      w->buffer[w->offset + 2] = (guint8) size;
    }
  w->offset += 3;
}

static void
put_bytes (Writer *w, const void *data, gsize size)
{
  if (w->buffer != NULL && size > 0)
    memcpy (w->buffer + w->offset, data, size);
  w->offset += size;
}

static void
put (Writer *w, guint8 tag, const void *data, gsize size)
{
  put_header (w, tag, size);
  put_bytes (w, data, size);
}

static void
put_gbytes (Writer *w, guint8 tag, GBytes *bytes)
{
  if (bytes != NULL)
    put (w, tag, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static void
put_secret (Writer *w, guint8 tag, const TkeSecret *secret)
{
  if (secret != NULL)
    put (w, tag, tke_secret_get_data (secret), tke_secret_get_size (secret));
}

typedef struct
{
  TkeSecret *zone_key;
  TkeSecret *transport_key;
  TkeSecret *signature_key;
} Pems;

static void
write_records (TkeVirtualCard *self, const Pems *pems, Writer *w)
{
  put (w, REC_SERIAL, self->serial, sizeof self->serial);
  put (w, REC_TYPE, &self->type, 1);
  put (w, REC_ZONE, self->zone, sizeof self->zone);
  put (w, REC_ZONE_DESCRIPTION, self->zone_description, strlen (self->zone_description));
  put (w, REC_DESCRIPTION, self->description, strlen (self->description));
  put_secret (w, REC_PIN1, self->pin[0]);
  put (w, REC_TRIES1, &self->tries[0], 1);
  if (self->pin[1] != NULL)
    {
      put_secret (w, REC_PIN2, self->pin[1]);
      put (w, REC_TRIES2, &self->tries[1], 1);
    }
  put_gbytes (w, REC_ZONE_POINT, self->zone_point);
  put_secret (w, REC_ZONE_KEY, pems->zone_key);
  put_secret (w, REC_TRANSPORT_KEY, pems->transport_key);
  put_gbytes (w, REC_CERTIFICATE, self->certificate);
  put_secret (w, REC_SIGNATURE_KEY, pems->signature_key);
  put_gbytes (w, REC_UNIT_ROOT, self->unit_root);
  for (guint i = 0; i < self->parts->len; i++)
    {
      TkeVirtualCardPart *part = g_ptr_array_index (self->parts, i);
      gsize description_size = strlen (part->description);

      put_header (w, REC_KEY_PART, 1 + TKE_VP_SIZE + TKE_MASTER_KEY_SIZE + description_size);
      put_bytes (w, &part->index, 1);
      put_bytes (w, part->vp, TKE_VP_SIZE);
      put_bytes (w, tke_secret_get_data (part->value), TKE_MASTER_KEY_SIZE);
      put_bytes (w, part->description, description_size);
    }
}

static void
pems_clear (Pems *pems)
{
  g_clear_pointer (&pems->zone_key, tke_secret_unref);
  g_clear_pointer (&pems->transport_key, tke_secret_unref);
  g_clear_pointer (&pems->signature_key, tke_secret_unref);
}

static TkeSecret *
serialize (TkeVirtualCard *self, GError **error)
{
  Pems pems = { NULL };
  Writer w = { NULL, 0 };
  TkeSecret *payload;

  if ((self->zone_key != NULL &&
       (pems.zone_key = tke_crypto_ec_private_key_to_pem (self->zone_key, error)) == NULL) ||
      (self->transport_key != NULL && (pems.transport_key = tke_crypto_ec_private_key_to_pem (
                                           self->transport_key, error)) == NULL) ||
      (self->signature_key != NULL && (pems.signature_key = tke_crypto_ec_private_key_to_pem (
                                           self->signature_key, error)) == NULL))
    {
      pems_clear (&pems);
      return NULL;
    }
  write_records (self, &pems, &w);
  payload = tke_secret_new (w.offset);
  w.buffer = tke_secret_get_mutable_data (payload);
  w.offset = 0;
  write_records (self, &pems, &w);
  pems_clear (&pems);
  return payload;
}

static GBytes *
image_aad (const guint8 serial[TKE_VIRTUAL_CARD_SERIAL_SIZE])
{
  GByteArray *aad = g_byte_array_new ();

  g_byte_array_append (aad, (const guint8 *) IMAGE_AAD, strlen (IMAGE_AAD));
  g_byte_array_append (aad, serial, TKE_VIRTUAL_CARD_SERIAL_SIZE);
  return g_byte_array_free_to_bytes (aad);
}

static const char *
type_name (guint8 type)
{
  return type == TKE_VIRTUAL_CARD_TYPE_CA      ? "CA"
         : type == TKE_VIRTUAL_CARD_TYPE_BLANK ? "blank"
                                               : "EP11";
}

gboolean
_tke_virtual_card_save (TkeVirtualCard *self, GError **error)
{
  g_autoptr (TkeSecret) payload = serialize (self, error);
  g_autoptr (GBytes) aad = image_aad (self->serial);
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (GByteArray) chip = g_byte_array_new ();
  g_autofree char *serial = NULL;
  g_autofree char *zone = NULL;
  g_autofree char *chip_hex = NULL;
  g_autofree char *data = NULL;
  guint8 nonce[TKE_GCM_NONCE_SIZE];
  gsize size;

  if (payload == NULL || !tke_crypto_random_bytes (nonce, sizeof nonce, error))
    return FALSE;
  sealed = tke_crypto_aes_gcm_encrypt (self->chip_key, nonce, g_bytes_get_data (aad, NULL),
                                       g_bytes_get_size (aad), tke_secret_get_data (payload),
                                       tke_secret_get_size (payload), error);
  if (sealed == NULL)
    return FALSE;
  g_byte_array_append (chip, nonce, sizeof nonce);
  g_byte_array_append (chip, g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed));

  serial = tke_crypto_hex_encode (self->serial, sizeof self->serial);
  zone = tke_crypto_hex_encode (self->zone, sizeof self->zone);
  chip_hex = tke_crypto_hex_encode (chip->data, chip->len);
  g_key_file_set_integer (file, IMAGE_GROUP, "Format", IMAGE_FORMAT);
  g_key_file_set_string (file, IMAGE_GROUP, "Serial", serial);
  g_key_file_set_string (file, IMAGE_GROUP, "Type", type_name (self->type));
  g_key_file_set_string (file, IMAGE_GROUP, "Zone", zone);
  g_key_file_set_string (file, IMAGE_GROUP, "ZoneDescription", self->zone_description);
  g_key_file_set_string (file, IMAGE_GROUP, "Description", self->description);
  g_key_file_set_string (file, IMAGE_GROUP, "Chip", chip_hex);
  data = g_key_file_to_data (file, &size, NULL);
  if (!g_file_set_contents_full (self->path, data, (gssize) size,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600,
                                 NULL))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("Cannot write the card image %s."),
                   self->path);
      return FALSE;
    }
  return TRUE;
}

static EVP_PKEY *
key_from_record (const guint8 *value, gsize size, GError **error)
{
  g_autoptr (TkeSecret) pem = NULL;

  if (size == 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA, _ ("The card image is damaged."));
      return NULL;
    }
  pem = tke_secret_new_from_data (value, size);
  return tke_crypto_ec_private_key_from_pem (pem, error);
}

/* What every card of its type must hold: a CA card both PINs, its zone
 * key and the zone's point, an EP11 card its transport key (the applet
 * relies on them). */
static gboolean
has_required_records (TkeVirtualCard *self)
{
  if (self->type == TKE_VIRTUAL_CARD_TYPE_CA)
    return self->pin[1] != NULL && self->zone_key != NULL && self->zone_point != NULL &&
           g_bytes_get_size (self->zone_point) == TKE_VIRTUAL_CARD_POINT_SIZE;
  /* A blank card has what it was given so far (§4.13); no key parts. */
  if (self->type == TKE_VIRTUAL_CARD_TYPE_BLANK)
    return self->parts->len == 0 && self->signature_key == NULL && self->zone_key == NULL &&
           (self->certificate == NULL || self->transport_key != NULL);
  return self->type == TKE_VIRTUAL_CARD_TYPE_EP11 && self->transport_key != NULL;
}

gboolean
_tke_virtual_card_valid_description (const guint8 *text, gsize size)
{
  if (size == 0 || size > TKE_VIRTUAL_CARD_DESCRIPTION_MAX ||
      !g_utf8_validate ((const char *) text, (gssize) size, NULL))
    return FALSE;
  for (gsize i = 0; i < size; i++)
    if (text[i] < 0x20 || text[i] == 0x7F)
      return FALSE;
  return TRUE;
}

static gboolean
parse_key_part (TkeVirtualCard *self, const guint8 *value, gsize size)
{
  TkeVirtualCardPart *part;
  gsize fixed = 1 + TKE_VP_SIZE + TKE_MASTER_KEY_SIZE;

  if (size < fixed + 1 || !_tke_virtual_card_valid_description (value + fixed, size - fixed) ||
      value[0] == 0 || value[0] > TKE_VIRTUAL_CARD_MAX_PARTS)
    return FALSE;
  part = g_new0 (TkeVirtualCardPart, 1);
  part->index = value[0];
  memcpy (part->vp, value + 1, TKE_VP_SIZE);
  part->value = tke_secret_new_from_data (value + 1 + TKE_VP_SIZE, TKE_MASTER_KEY_SIZE);
  part->description = g_strndup ((const char *) value + fixed, size - fixed);
  g_ptr_array_add (self->parts, part);
  return TRUE;
}

/* Copies a fixed-size record; FALSE if it has another size. */
static gboolean
copy_fixed (void *dst, gsize want, const guint8 *value, gsize size)
{
  if (size != want)
    return FALSE;
  memcpy (dst, value, size);
  return TRUE;
}

static gboolean
parse_record (TkeVirtualCard *self, guint8 tag, const guint8 *value, gsize size, GError **error)
{
  switch (tag)
    {
    case REC_SERIAL:
      return copy_fixed (self->serial, sizeof self->serial, value, size);
    case REC_TYPE:
      return copy_fixed (&self->type, 1, value, size);
    case REC_ZONE:
      return copy_fixed (self->zone, sizeof self->zone, value, size);
    case REC_ZONE_DESCRIPTION:
      /* Once, and as the card would have taken it (none before enrolment):
       * GET CARD INFO sends it in a TLV of one length byte, and a second
       * record must not replace the first (found by fuzz-card-image: a
       * 384-byte "description" made the card's answer malformed). */
      if (self->zone_description != NULL ||
          (size > 0 && !_tke_virtual_card_valid_description (value, size)))
        return FALSE;
      self->zone_description = g_strndup ((const char *) value, size);
      return TRUE;
    case REC_DESCRIPTION:
      /* A blank card has none yet (REC_TYPE comes first). */
      if (self->description != NULL || (!(size == 0 && self->type == TKE_VIRTUAL_CARD_TYPE_BLANK) &&
                                        !_tke_virtual_card_valid_description (value, size)))
        return FALSE;
      self->description = g_strndup ((const char *) value, size);
      return TRUE;
    case REC_PIN1:
    case REC_PIN2:
      if (size != TKE_VIRTUAL_CARD_PIN_SIZE || self->pin[tag == REC_PIN2] != NULL)
        return FALSE;
      self->pin[tag == REC_PIN2] = tke_secret_new_from_data (value, size);
      return TRUE;
    case REC_TRIES1:
    case REC_TRIES2:
      return copy_fixed (&self->tries[tag == REC_TRIES2], 1, value, size);
    case REC_ZONE_POINT:
      g_clear_pointer (&self->zone_point, g_bytes_unref);
      self->zone_point = g_bytes_new (value, size);
      return TRUE;
    case REC_CERTIFICATE:
      g_clear_pointer (&self->certificate, g_bytes_unref);
      self->certificate = g_bytes_new (value, size);
      return TRUE;
    case REC_UNIT_ROOT:
      if (self->unit_root != NULL || size != TKE_VIRTUAL_CARD_POINT_SIZE || value[0] != 0x04)
        return FALSE;
      self->unit_root = g_bytes_new (value, size);
      return TRUE;
    case REC_ZONE_KEY:
      return self->zone_key == NULL &&
             (self->zone_key = key_from_record (value, size, error)) != NULL;
    case REC_TRANSPORT_KEY:
      return self->transport_key == NULL &&
             (self->transport_key = key_from_record (value, size, error)) != NULL;
    case REC_SIGNATURE_KEY:
      return self->signature_key == NULL &&
             (self->signature_key = key_from_record (value, size, error)) != NULL;
    case REC_KEY_PART:
      return parse_key_part (self, value, size);
    default:
      return TRUE; /* a later version's record */
    }
}

static gboolean
parse_payload (TkeVirtualCard *self, const TkeSecret *payload, GError **error)
{
  const guint8 *p = tke_secret_get_data (payload);
  gsize size = tke_secret_get_size (payload);
  gsize offset = 0;

  while (offset < size)
    {
      gsize length;

      if (size - offset < 3)
        break;
      length = (gsize) p[offset + 1] << 8 | p[offset + 2];
      if (size - offset - 3 < length)
        break;
      if (!parse_record (self, p[offset], p + offset + 3, length, error))
        {
          if (error != NULL && *error != NULL)
            return FALSE;
          break;
        }
      offset += 3 + length;
    }
  if (offset != size || (self->pin[0] == NULL && self->type != TKE_VIRTUAL_CARD_TYPE_BLANK) ||
      self->description == NULL || self->zone_description == NULL || !has_required_records (self))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA, _ ("The card image is damaged."));
      return FALSE;
    }
  return TRUE;
}

TkeVirtualCard *
tke_virtual_card_load (const char *path, TkeSecret *chip_key, GError **error)
{
  g_autoptr (TkeVirtualCard) self = g_object_new (TKE_TYPE_VIRTUAL_CARD, NULL);
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;
  g_autofree char *serial_hex = NULL;
  g_autofree char *chip_hex = NULL;
  g_autoptr (GBytes) serial = NULL;
  g_autoptr (GBytes) chip = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (TkeSecret) payload = NULL;
  const guint8 *chip_data;
  gsize chip_size;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, TKE_ERROR,
                   g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                       ? TKE_ERROR_NOT_FOUND
                       : TKE_ERROR_INVALID_DATA,
                   _ ("Cannot read the card image %s: %s"), path, local_error->message);
      return NULL;
    }
  serial_hex = g_key_file_get_string (file, IMAGE_GROUP, "Serial", NULL);
  chip_hex = g_key_file_get_string (file, IMAGE_GROUP, "Chip", NULL);
  if (g_key_file_get_integer (file, IMAGE_GROUP, "Format", NULL) != IMAGE_FORMAT ||
      serial_hex == NULL || chip_hex == NULL ||
      (serial = tke_crypto_hex_decode (serial_hex, NULL)) == NULL ||
      g_bytes_get_size (serial) != TKE_VIRTUAL_CARD_SERIAL_SIZE ||
      (chip = tke_crypto_hex_decode (chip_hex, NULL)) == NULL ||
      g_bytes_get_size (chip) < TKE_GCM_NONCE_SIZE + TKE_GCM_TAG_SIZE)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA, _ ("%s is not a TKE card image."),
                   path);
      return NULL;
    }
  aad = image_aad (g_bytes_get_data (serial, NULL));
  chip_data = g_bytes_get_data (chip, &chip_size);
  payload = tke_crypto_aes_gcm_decrypt (chip_key, chip_data, g_bytes_get_data (aad, NULL),
                                        g_bytes_get_size (aad), chip_data + TKE_GCM_NONCE_SIZE,
                                        chip_size - TKE_GCM_NONCE_SIZE, NULL);
  if (payload == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY,
                   _ ("The card %s cannot be read: its image was modified, or it belongs to "
                      "another card chip key."),
                   path);
      return NULL;
    }
  if (!parse_payload (self, payload, error))
    return NULL;
  if (memcmp (self->serial, g_bytes_get_data (serial, NULL), sizeof self->serial) != 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY, _ ("The card image %s is damaged."),
                   path);
      return NULL;
    }
  self->path = g_strdup (path);
  self->chip_key = tke_secret_ref (chip_key);
  return g_steal_pointer (&self);
}
