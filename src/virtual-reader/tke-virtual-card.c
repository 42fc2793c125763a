/* tke-virtual-card.c: the card applet of the virtual smart cards
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The applet of data/doc/card-protocol.md over a card image file.  The
 * image's secrets (PINs, private keys, key parts) are sealed under the chip
 * key, which stands in for the chip's hardware key; every change is written
 * before the card answers, so a retry counter cannot be rolled back by
 * pulling the card.
 */

#include "config.h"

#include "tke-virtual-card.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <openssl/crypto.h>

const guint8 tke_virtual_card_aid[8] = { 0xF0, 0x54, 0x4B, 0x45, 0x43, 0x41, 0x52, 0x44 };

static const guint8 card_atr[] = { 0x3B, 0x8A, 0x80, 0x01, 0x54, 0x4B, 0x45, 0x2D,
                                   0x56, 0x43, 0x41, 0x52, 0x44, 0x31, 0x0F };

#define IMAGE_GROUP "TKE Card"
#define IMAGE_FORMAT 1
#define IMAGE_AAD "tke card image v1"
#define UNBLOCK_CONTEXT "tke unblock v1"
#define CERT_CONTEXT "tke zone cert v1"
#define COPY_CONTEXT "tke copy v1"
#define MAX_CHAIN 4096
#define MAX_AAD 2048
#define NEW_PIN_WINDOW_US (20 * G_USEC_PER_SEC)
#define CHALLENGE_SIZE 32

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
  REC_KEY_PART = 0x30,
};

enum
{
  SW_OK = 0x9000,
  SW_WRONG_LENGTH = 0x6700,
  SW_SM_UNSUPPORTED = 0x6882,
  SW_CHAIN = 0x6883,
  SW_SECURITY = 0x6982,
  SW_BLOCKED = 0x6983,
  SW_OTHER_ZONE = 0x6984,
  SW_CONDITIONS = 0x6985,
  SW_NOT_ALLOWED = 0x6986,
  SW_BAD_DATA = 0x6A80,
  SW_NOT_FOUND = 0x6A82,
  SW_FULL = 0x6A84,
  SW_BAD_P1P2 = 0x6A86,
  SW_NO_KEY = 0x6A88,
  SW_BAD_INS = 0x6D00,
  SW_BAD_CLA = 0x6E00,
  SW_INTERNAL = 0x6F00,
};

typedef struct
{
  guint8 index;
  guint8 vp[TKE_VP_SIZE];
  TkeSecret *value;
  char *description;
} KeyPart;

struct _TkeVirtualCard
{
  GObject parent_instance;

  char *path;
  TkeSecret *chip_key;

  /* What the chip stores */
  guint8 serial[TKE_VIRTUAL_CARD_SERIAL_SIZE];
  guint8 type;
  guint8 zone[TKE_VIRTUAL_CARD_ZONE_SIZE];
  char *zone_description;
  char *description;
  TkeSecret *pin[2];
  guint8 tries[2];
  GBytes *zone_point;
  EVP_PKEY *zone_key;      /* CA: the zone's private key */
  EVP_PKEY *transport_key; /* EP11 */
  GBytes *certificate;     /* EP11: the CA's signature over the transport key */
  EVP_PKEY *signature_key; /* EP11 */
  GPtrArray *parts;        /* KeyPart, by ascending index */

  /* Security state: lost on reset */
  gboolean selected;
  gboolean verified[2];
  gboolean unblock_grant;
  TkeSecret *new_pin;
  guint8 new_pin_p2;
  gint64 new_pin_time;
  guint8 challenge[CHALLENGE_SIZE];
  gboolean have_challenge;
  GByteArray *chain;
  guint8 chain_header[3];
  GBytes *pending;
  gsize pending_offset;
};

G_DEFINE_FINAL_TYPE (TkeVirtualCard, tke_virtual_card, G_TYPE_OBJECT)

static void
key_part_free (KeyPart *part)
{
  g_clear_pointer (&part->value, tke_secret_unref);
  g_free (part->description);
  g_free (part);
}

static guint8
max_tries (TkeVirtualCard *self)
{
  return self->type == TKE_VIRTUAL_CARD_TYPE_CA ? 5 : 3;
}

static void
tke_virtual_card_finalize (GObject *object)
{
  TkeVirtualCard *self = TKE_VIRTUAL_CARD (object);

  tke_virtual_card_reset (self);
  g_free (self->path);
  g_clear_pointer (&self->chip_key, tke_secret_unref);
  g_free (self->zone_description);
  g_free (self->description);
  g_clear_pointer (&self->pin[0], tke_secret_unref);
  g_clear_pointer (&self->pin[1], tke_secret_unref);
  g_clear_pointer (&self->zone_point, g_bytes_unref);
  g_clear_pointer (&self->zone_key, EVP_PKEY_free);
  g_clear_pointer (&self->transport_key, EVP_PKEY_free);
  g_clear_pointer (&self->certificate, g_bytes_unref);
  g_clear_pointer (&self->signature_key, EVP_PKEY_free);
  g_ptr_array_unref (self->parts);
  G_OBJECT_CLASS (tke_virtual_card_parent_class)->finalize (object);
}

static void
tke_virtual_card_class_init (TkeVirtualCardClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tke_virtual_card_finalize;
}

static void
tke_virtual_card_init (TkeVirtualCard *self)
{
  self->parts = g_ptr_array_new_with_free_func ((GDestroyNotify) key_part_free);
}

/* ---- The chip key ---- */

char *
tke_virtual_card_default_chip_key_path (void)
{
  const char *env = g_getenv ("TKE_CARD_CHIP_KEY");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "tke", "virtual-cards", "chip.key", NULL);
}

static TkeSecret *
create_chip_key (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (TkeSecret) key = tke_secret_new_random (32, error);

  if (key == NULL)
    return NULL;
  if (g_mkdir_with_parents (dir, 0700) < 0 ||
      !g_file_set_contents_full (path, (const char *) tke_secret_get_data (key), 32,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600,
                                 NULL))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("Cannot create the card chip key %s."), path);
      return NULL;
    }
  return g_steal_pointer (&key);
}

TkeSecret *
tke_virtual_card_load_chip_key (const char *path, gboolean create, GError **error)
{
  g_autofree char *data = NULL;
  gsize size = 0;
  GStatBuf st;
  TkeSecret *key;

  if (g_stat (path, &st) < 0)
    {
      if (errno == ENOENT && create)
        return create_chip_key (path, error);
      g_set_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND,
                   _ ("The card chip key %s does not exist. Create a card with tke-card first, "
                      "or name the key with --chip-key or TKE_CARD_CHIP_KEY."),
                   path);
      return NULL;
    }
  if ((st.st_mode & 077) != 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("The card chip key %s can be read by other users; run “chmod 600 %s”."), path,
                   path);
      return NULL;
    }
  if (!g_file_get_contents (path, &data, &size, NULL) || size != 32)
    {
      if (data != NULL)
        OPENSSL_cleanse (data, size);
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("The card chip key %s is not a 32-byte key file."), path);
      return NULL;
    }
  key = tke_secret_new_from_data ((const guint8 *) data, size);
  OPENSSL_cleanse (data, size);
  return key;
}

/* ---- The image file ---- */

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
  for (guint i = 0; i < self->parts->len; i++)
    {
      KeyPart *part = g_ptr_array_index (self->parts, i);
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
  return type == TKE_VIRTUAL_CARD_TYPE_CA ? "CA" : "EP11";
}

static gboolean
save (TkeVirtualCard *self, GError **error)
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
  g_autoptr (TkeSecret) pem = tke_secret_new_from_data (value, size);

  return tke_crypto_ec_private_key_from_pem (pem, error);
}

static gboolean
valid_description (const guint8 *text, gsize size)
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
  KeyPart *part;
  gsize fixed = 1 + TKE_VP_SIZE + TKE_MASTER_KEY_SIZE;

  if (size < fixed + 1 || !valid_description (value + fixed, size - fixed) || value[0] == 0 ||
      value[0] > TKE_VIRTUAL_CARD_MAX_PARTS)
    return FALSE;
  part = g_new0 (KeyPart, 1);
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
      g_free (self->zone_description);
      self->zone_description = g_strndup ((const char *) value, size);
      return TRUE;
    case REC_DESCRIPTION:
      g_free (self->description);
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
  if (offset != size || self->pin[0] == NULL || self->description == NULL ||
      self->zone_description == NULL ||
      (self->type != TKE_VIRTUAL_CARD_TYPE_CA && self->type != TKE_VIRTUAL_CARD_TYPE_EP11))
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

static gboolean
check_new_card (const char *path, const char *description, const TkeSecret *pin, GError **error)
{
  const guint8 *p = tke_secret_get_data (pin);

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("%s already exists; a new card needs a new file."), path);
      return FALSE;
    }
  if (!valid_description ((const guint8 *) description, strlen (description)))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("A description has 1 to 32 printable characters."));
      return FALSE;
    }
  for (gsize i = 0; i < tke_secret_get_size (pin); i++)
    if (p[i] < '0' || p[i] > '9')
      goto bad_pin;
  if (tke_secret_get_size (pin) == TKE_VIRTUAL_CARD_PIN_SIZE)
    return TRUE;
bad_pin:
  g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
               _ ("A card PIN has exactly 6 digits."));
  return FALSE;
}

static TkeVirtualCard *
new_card (
    const char *path, TkeSecret *chip_key, guint8 type, const char *description, GError **error)
{
  g_autoptr (TkeVirtualCard) self = g_object_new (TKE_TYPE_VIRTUAL_CARD, NULL);

  if (!tke_crypto_random_bytes (self->serial, sizeof self->serial, error))
    return NULL;
  self->path = g_strdup (path);
  self->chip_key = tke_secret_ref (chip_key);
  self->type = type;
  self->description = g_strdup (description);
  self->zone_description = g_strdup ("");
  self->tries[0] = self->tries[1] = max_tries (self);
  return g_steal_pointer (&self);
}

TkeVirtualCard *
tke_virtual_card_create_ca (const char *path,
                            TkeSecret *chip_key,
                            const char *zone_description,
                            const char *description,
                            const TkeSecret *pin1,
                            const TkeSecret *pin2,
                            GError **error)
{
  g_autoptr (TkeVirtualCard) self = NULL;

  if (!check_new_card (path, description, pin1, error) ||
      !check_new_card (path, zone_description, pin2, error))
    return NULL;
  self = new_card (path, chip_key, TKE_VIRTUAL_CARD_TYPE_CA, description, error);
  if (self == NULL || !tke_crypto_random_bytes (self->zone, sizeof self->zone, error) ||
      (self->zone_key = tke_crypto_ec_generate (error)) == NULL ||
      (self->zone_point = tke_crypto_ec_public_point (self->zone_key, error)) == NULL)
    return NULL;
  g_free (self->zone_description);
  self->zone_description = g_strdup (zone_description);
  self->pin[0] = tke_secret_new_from_data (tke_secret_get_data (pin1), TKE_VIRTUAL_CARD_PIN_SIZE);
  self->pin[1] = tke_secret_new_from_data (tke_secret_get_data (pin2), TKE_VIRTUAL_CARD_PIN_SIZE);
  if (!save (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

TkeVirtualCard *
tke_virtual_card_new_ep11 (const char *path,
                           TkeSecret *chip_key,
                           const char *description,
                           const TkeSecret *pin,
                           GError **error)
{
  g_autoptr (TkeVirtualCard) self = NULL;

  if (!check_new_card (path, description, pin, error))
    return NULL;
  self = new_card (path, chip_key, TKE_VIRTUAL_CARD_TYPE_EP11, description, error);
  if (self == NULL || (self->transport_key = tke_crypto_ec_generate (error)) == NULL)
    return NULL;
  self->pin[0] = tke_secret_new_from_data (tke_secret_get_data (pin), TKE_VIRTUAL_CARD_PIN_SIZE);
  return g_steal_pointer (&self);
}

static GBytes *
cert_message (const guint8 *zone, const guint8 *serial, const guint8 *point)
{
  GByteArray *m = g_byte_array_new ();

  g_byte_array_append (m, (const guint8 *) CERT_CONTEXT, strlen (CERT_CONTEXT));
  g_byte_array_append (m, zone, TKE_VIRTUAL_CARD_ZONE_SIZE);
  g_byte_array_append (m, serial, TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (m, point, TKE_VIRTUAL_CARD_POINT_SIZE);
  return g_byte_array_free_to_bytes (m);
}

static gboolean
verify_with_point (GBytes *point, GBytes *message, const guint8 *signature, gsize size)
{
  g_autoptr (EVP_PKEY) key = NULL;

  if (point == NULL)
    return FALSE;
  key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                             g_bytes_get_size (point), NULL);
  return key != NULL && tke_crypto_verify (key, g_bytes_get_data (message, NULL),
                                           g_bytes_get_size (message), signature, size, NULL);
}

/**
 * tke_virtual_card_install_certificate:
 * @response: a CA card's answer to CERTIFY CARD for this card
 *
 * Puts a new EP11 card into its zone and writes its image.
 */
gboolean
tke_virtual_card_install_certificate (TkeVirtualCard *self,
                                      const guint8 *response,
                                      gsize size,
                                      GError **error)
{
  gsize fixed = TKE_VIRTUAL_CARD_ZONE_SIZE + TKE_VIRTUAL_CARD_POINT_SIZE + 1;
  g_autoptr (GBytes) point = NULL;
  g_autoptr (GBytes) own_point = tke_virtual_card_get_transport_point (self);
  g_autoptr (GBytes) message = NULL;
  gsize description_size;

  if (size < fixed || size < fixed + response[fixed - 1] + 8)
    goto bad;
  description_size = response[fixed - 1];
  point = g_bytes_new (response + TKE_VIRTUAL_CARD_ZONE_SIZE, TKE_VIRTUAL_CARD_POINT_SIZE);
  message = cert_message (response, self->serial, g_bytes_get_data (own_point, NULL));
  if (!verify_with_point (point, message, response + fixed + description_size,
                          size - fixed - description_size))
    goto bad;
  memcpy (self->zone, response, TKE_VIRTUAL_CARD_ZONE_SIZE);
  g_free (self->zone_description);
  self->zone_description = g_strndup ((const char *) response + fixed, description_size);
  g_clear_pointer (&self->zone_point, g_bytes_unref);
  self->zone_point = g_steal_pointer (&point);
  g_clear_pointer (&self->certificate, g_bytes_unref);
  self->certificate =
      g_bytes_new (response + fixed + description_size, size - fixed - description_size);
  return save (self, error);

bad:
  g_set_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY,
               _ ("The CA card's certificate is not valid."));
  return FALSE;
}

const char *
tke_virtual_card_get_path (TkeVirtualCard *self)
{
  return self->path;
}

const guint8 *
tke_virtual_card_get_serial (TkeVirtualCard *self)
{
  return self->serial;
}

GBytes *
tke_virtual_card_get_transport_point (TkeVirtualCard *self)
{
  if (self->transport_key == NULL)
    return NULL;
  return tke_crypto_ec_public_point (self->transport_key, NULL);
}

const guint8 *
tke_virtual_card_get_atr (gsize *size)
{
  *size = sizeof card_atr;
  return card_atr;
}

void
tke_virtual_card_reset (TkeVirtualCard *self)
{
  self->selected = FALSE;
  self->verified[0] = self->verified[1] = FALSE;
  self->unblock_grant = FALSE;
  g_clear_pointer (&self->new_pin, tke_secret_unref);
  self->have_challenge = FALSE;
  OPENSSL_cleanse (self->challenge, sizeof self->challenge);
  g_clear_pointer (&self->chain, g_byte_array_unref);
  g_clear_pointer (&self->pending, g_bytes_unref);
}

/* ---- The applet ---- */

typedef struct
{
  guint8 cla;
  guint8 ins;
  guint8 p1;
  guint8 p2;
  const guint8 *data;
  gsize size;
} Command;

static GBytes *
sw_only (guint16 sw)
{
  guint8 r[2] = { sw >> 8, sw & 0xFF };

  return g_bytes_new (r, 2);
}

/* Answers @data, the part beyond 256 bytes kept for GET RESPONSE. */
static GBytes *
respond (TkeVirtualCard *self, const guint8 *data, gsize size)
{
  GByteArray *r = g_byte_array_new ();
  gsize now = MIN (size, 256);
  guint8 sw[2] = { 0x90, 0x00 };

  g_clear_pointer (&self->pending, g_bytes_unref);
  g_byte_array_append (r, data, now);
  if (size > now)
    {
      gsize left = size - now;

      self->pending = g_bytes_new (data, size);
      self->pending_offset = now;
      sw[0] = 0x61;
      sw[1] = left >= 256 ? 0 : (guint8) left;
    }
  g_byte_array_append (r, sw, 2);
  return g_byte_array_free_to_bytes (r);
}

static GBytes *
respond_bytes (TkeVirtualCard *self, GBytes *data)
{
  if (data == NULL)
    return sw_only (SW_INTERNAL);
  return respond (self, g_bytes_get_data (data, NULL), g_bytes_get_size (data));
}

static GBytes *
get_response (TkeVirtualCard *self)
{
  g_autoptr (GBytes) pending = g_steal_pointer (&self->pending);
  const guint8 *data;
  gsize size;

  if (pending == NULL)
    return sw_only (SW_CONDITIONS);
  data = g_bytes_get_data (pending, &size);
  return respond (self, data + self->pending_offset, size - self->pending_offset);
}

static int
pin_slot (TkeVirtualCard *self, guint8 p2)
{
  if (p2 == 0x81)
    return 0;
  if (p2 == 0x82 && self->type == TKE_VIRTUAL_CARD_TYPE_CA)
    return 1;
  return -1;
}

static gboolean
is_pin (const Command *c)
{
  if (c->size != TKE_VIRTUAL_CARD_PIN_SIZE)
    return FALSE;
  for (gsize i = 0; i < c->size; i++)
    if (c->data[i] < '0' || c->data[i] > '9')
      return FALSE;
  return TRUE;
}

/* Writes the image; on failure the card answers 6F00 and the caller
 * restores what it changed in memory. */
static gboolean
persist (TkeVirtualCard *self)
{
  g_autoptr (GError) error = NULL;

  if (save (self, &error))
    return TRUE;
  g_warning ("%s", error->message);
  return FALSE;
}

static GBytes *
cmd_verify (TkeVirtualCard *self, const Command *c)
{
  int slot = pin_slot (self, c->p2);
  guint8 before;

  if (c->p1 != 0 || slot < 0)
    return sw_only (SW_BAD_P1P2);
  if (c->size == 0)
    {
      if (self->verified[slot])
        return sw_only (SW_OK);
      return sw_only (self->tries[slot] == 0 ? SW_BLOCKED : 0x63C0 | self->tries[slot]);
    }
  if (!is_pin (c))
    return sw_only (SW_WRONG_LENGTH);
  if (self->tries[slot] == 0)
    return sw_only (SW_BLOCKED);

  before = self->tries[slot];
  if (CRYPTO_memcmp (c->data, tke_secret_get_data (self->pin[slot]), TKE_VIRTUAL_CARD_PIN_SIZE) ==
      0)
    {
      self->tries[slot] = max_tries (self);
      if (before != self->tries[slot] && !persist (self))
        {
          self->tries[slot] = before;
          return sw_only (SW_INTERNAL);
        }
      self->verified[slot] = TRUE;
      return sw_only (SW_OK);
    }
  self->verified[slot] = FALSE;
  self->tries[slot]--;
  if (!persist (self))
    {
      self->tries[slot] = before;
      return sw_only (SW_INTERNAL);
    }
  return sw_only (self->tries[slot] == 0 ? SW_BLOCKED : 0x63C0 | self->tries[slot]);
}

static GBytes *
cmd_change_pin (TkeVirtualCard *self, const Command *c)
{
  int slot = pin_slot (self, c->p2);
  g_autoptr (TkeSecret) first = NULL;
  g_autoptr (TkeSecret) old_pin = NULL;
  guint8 old_tries;

  if ((c->p1 != 1 && c->p1 != 2) || slot < 0)
    return sw_only (SW_BAD_P1P2);
  if (!is_pin (c))
    return sw_only (SW_WRONG_LENGTH);
  if (!self->verified[slot] && !(slot == 0 && self->unblock_grant))
    return sw_only (SW_SECURITY);
  if (c->p1 == 1)
    {
      g_clear_pointer (&self->new_pin, tke_secret_unref);
      self->new_pin = tke_secret_new_from_data (c->data, c->size);
      self->new_pin_p2 = c->p2;
      self->new_pin_time = g_get_monotonic_time ();
      return sw_only (SW_OK);
    }

  first = g_steal_pointer (&self->new_pin);
  if (first == NULL || self->new_pin_p2 != c->p2 ||
      g_get_monotonic_time () - self->new_pin_time > NEW_PIN_WINDOW_US)
    return sw_only (SW_CONDITIONS);
  if (CRYPTO_memcmp (c->data, tke_secret_get_data (first), TKE_VIRTUAL_CARD_PIN_SIZE) != 0)
    return sw_only (SW_BAD_DATA);

  old_pin = g_steal_pointer (&self->pin[slot]);
  old_tries = self->tries[slot];
  self->pin[slot] = g_steal_pointer (&first);
  self->tries[slot] = max_tries (self);
  if (!persist (self))
    {
      g_clear_pointer (&self->pin[slot], tke_secret_unref);
      self->pin[slot] = g_steal_pointer (&old_pin);
      self->tries[slot] = old_tries;
      return sw_only (SW_INTERNAL);
    }
  self->verified[slot] = TRUE;
  self->unblock_grant = FALSE;
  return sw_only (SW_OK);
}

static GBytes *
cmd_get_challenge (TkeVirtualCard *self, const Command *c)
{
  if (!tke_crypto_random_bytes (self->challenge, sizeof self->challenge, NULL))
    return sw_only (SW_INTERNAL);
  self->have_challenge = TRUE;
  return respond (self, self->challenge, sizeof self->challenge);
}

static GBytes *
unblock_message (const guint8 *zone, const guint8 *serial, const guint8 *challenge)
{
  GByteArray *m = g_byte_array_new ();

  g_byte_array_append (m, (const guint8 *) UNBLOCK_CONTEXT, strlen (UNBLOCK_CONTEXT));
  g_byte_array_append (m, zone, TKE_VIRTUAL_CARD_ZONE_SIZE);
  g_byte_array_append (m, serial, TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (m, challenge, CHALLENGE_SIZE);
  return g_byte_array_free_to_bytes (m);
}

static gboolean
ca_authorized (TkeVirtualCard *self)
{
  return self->verified[0] && self->verified[1];
}

static GBytes *
cmd_authorize_unblock (TkeVirtualCard *self, const Command *c)
{
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GByteArray) r = NULL;

  if (self->type != TKE_VIRTUAL_CARD_TYPE_CA)
    return sw_only (SW_NOT_ALLOWED);
  if (!ca_authorized (self))
    return sw_only (SW_SECURITY);
  if (c->size != TKE_VIRTUAL_CARD_SERIAL_SIZE + CHALLENGE_SIZE)
    return sw_only (SW_WRONG_LENGTH);
  message = unblock_message (self->zone, c->data, c->data + TKE_VIRTUAL_CARD_SERIAL_SIZE);
  signature = tke_crypto_sign (self->zone_key, g_bytes_get_data (message, NULL),
                               g_bytes_get_size (message), NULL);
  if (signature == NULL)
    return sw_only (SW_INTERNAL);
  r = g_byte_array_new ();
  g_byte_array_append (r, self->zone, sizeof self->zone);
  g_byte_array_append (r, g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
  return respond (self, r->data, r->len);
}

static GBytes *
cmd_reset_retry_counter (TkeVirtualCard *self, const Command *c)
{
  g_autoptr (GBytes) message = NULL;
  gboolean had_challenge = self->have_challenge;
  guint8 before = self->tries[0];

  if (self->type != TKE_VIRTUAL_CARD_TYPE_EP11)
    return sw_only (SW_NOT_ALLOWED);
  if (c->p1 != 1 || c->p2 != 0x81)
    return sw_only (SW_BAD_P1P2);
  if (c->size < TKE_VIRTUAL_CARD_ZONE_SIZE + 8)
    return sw_only (SW_WRONG_LENGTH);
  self->have_challenge = FALSE;
  if (memcmp (c->data, self->zone, sizeof self->zone) != 0)
    return sw_only (SW_OTHER_ZONE);
  if (!had_challenge)
    return sw_only (SW_CONDITIONS);
  message = unblock_message (self->zone, self->serial, self->challenge);
  if (!verify_with_point (self->zone_point, message, c->data + TKE_VIRTUAL_CARD_ZONE_SIZE,
                          c->size - TKE_VIRTUAL_CARD_ZONE_SIZE))
    return sw_only (SW_BAD_DATA);
  self->tries[0] = max_tries (self);
  if (!persist (self))
    {
      self->tries[0] = before;
      return sw_only (SW_INTERNAL);
    }
  self->unblock_grant = TRUE;
  return sw_only (SW_OK);
}

static void
append_tlv (GByteArray *r, guint8 tag, const void *value, gsize size)
{
  guint8 header[2] = { tag, (guint8) size };

  g_byte_array_append (r, header, 2);
  g_byte_array_append (r, value, (guint) size);
}

static GBytes *
cmd_card_info (TkeVirtualCard *self, const Command *c)
{
  g_autoptr (GByteArray) r = g_byte_array_new ();
  g_autoptr (GByteArray) indexes = g_byte_array_new ();
  gboolean ca = self->type == TKE_VIRTUAL_CARD_TYPE_CA;
  guint8 max = max_tries (self);
  guint8 max_parts = ca ? 0 : TKE_VIRTUAL_CARD_MAX_PARTS;
  guint8 flags = (self->signature_key != NULL ? 1 : 0) | (self->verified[0] ? 2 : 0) |
                 (self->verified[1] ? 4 : 0);

  for (guint i = 0; i < self->parts->len; i++)
    g_byte_array_append (indexes, &((KeyPart *) g_ptr_array_index (self->parts, i))->index, 1);
  append_tlv (r, 0x01, self->serial, sizeof self->serial);
  append_tlv (r, 0x02, &self->type, 1);
  append_tlv (r, 0x03, self->zone, sizeof self->zone);
  append_tlv (r, 0x04, self->zone_description, strlen (self->zone_description));
  append_tlv (r, 0x05, self->description, strlen (self->description));
  append_tlv (r, 0x06, self->tries, ca ? 2 : 1);
  append_tlv (r, 0x07, &max, 1);
  append_tlv (r, 0x08, &flags, 1);
  append_tlv (r, 0x09, indexes->data, indexes->len);
  append_tlv (r, 0x0A, &max_parts, 1);
  return respond (self, r->data, r->len);
}

static GBytes *
cmd_generate_signature_key (TkeVirtualCard *self, const Command *c)
{
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (EVP_PKEY) old = NULL;
  g_autoptr (GBytes) point = NULL;

  if (c->p1 > 1 || c->p2 != 0)
    return sw_only (SW_BAD_P1P2);
  if (self->signature_key != NULL && c->p1 == 0)
    return sw_only (SW_CONDITIONS);
  if ((key = tke_crypto_ec_generate (NULL)) == NULL ||
      (point = tke_crypto_ec_public_point (key, NULL)) == NULL)
    return sw_only (SW_INTERNAL);
  old = g_steal_pointer (&self->signature_key);
  self->signature_key = g_steal_pointer (&key);
  if (!persist (self))
    {
      g_clear_pointer (&self->signature_key, EVP_PKEY_free);
      self->signature_key = g_steal_pointer (&old);
      return sw_only (SW_INTERNAL);
    }
  return respond_bytes (self, point);
}

static GBytes *
cmd_get_public_key (TkeVirtualCard *self, const Command *c)
{
  g_autoptr (GBytes) point = NULL;
  gboolean ca = self->type == TKE_VIRTUAL_CARD_TYPE_CA;

  if (c->p1 == 0 && ca)
    return respond_bytes (self, self->zone_point);
  if (c->p1 == 0)
    {
      if (self->signature_key == NULL)
        return sw_only (SW_NO_KEY);
      point = tke_crypto_ec_public_point (self->signature_key, NULL);
    }
  else if (c->p1 == 2 && !ca)
    point = tke_virtual_card_get_transport_point (self);
  else
    return sw_only (SW_BAD_P1P2);
  return respond_bytes (self, point);
}

static GBytes *
cmd_sign (TkeVirtualCard *self, const Command *c)
{
  g_autoptr (GBytes) signature = NULL;

  if (c->p1 != 0x9E || c->p2 != 0x9A)
    return sw_only (SW_BAD_P1P2);
  if (!self->verified[0])
    return sw_only (SW_SECURITY);
  if (self->signature_key == NULL)
    return sw_only (SW_NO_KEY);
  if (c->size == 0)
    return sw_only (SW_WRONG_LENGTH);
  signature = tke_crypto_sign (self->signature_key, c->data, c->size, NULL);
  return respond_bytes (self, signature);
}

static KeyPart *
find_part (TkeVirtualCard *self, guint8 index, guint *position)
{
  for (guint i = 0; i < self->parts->len; i++)
    {
      KeyPart *part = g_ptr_array_index (self->parts, i);

      if (part->index == index)
        {
          if (position != NULL)
            *position = i;
          return part;
        }
    }
  return NULL;
}

static gint
compare_parts (gconstpointer a, gconstpointer b)
{
  const KeyPart *pa = *(const KeyPart *const *) a;
  const KeyPart *pb = *(const KeyPart *const *) b;

  return (gint) pa->index - (gint) pb->index;
}

/* Adds a part (taking @value) and writes the image; FALSE leaves the card as it was. */
static gboolean
add_part (
    TkeVirtualCard *self, guint8 index, TkeSecret *value, const guint8 *description, gsize size)
{
  KeyPart *part = g_new0 (KeyPart, 1);
  guint position = 0;

  part->index = index;
  part->value = value;
  part->description = g_strndup ((const char *) description, size);
  tke_crypto_verification_pattern (value, part->vp);
  g_ptr_array_add (self->parts, part);
  g_ptr_array_sort (self->parts, compare_parts);
  if (persist (self))
    return TRUE;
  find_part (self, index, &position);
  g_ptr_array_remove_index (self->parts, position);
  return FALSE;
}

static GBytes *
cmd_generate_key_part (TkeVirtualCard *self, const Command *c)
{
  TkeSecret *value;
  KeyPart *part;
  guint8 index = 0;
  guint8 r[1 + TKE_VP_SIZE];

  if (!valid_description (c->data, c->size))
    return sw_only (SW_BAD_DATA);
  for (guint8 i = 1; i <= TKE_VIRTUAL_CARD_MAX_PARTS && index == 0; i++)
    if (find_part (self, i, NULL) == NULL)
      index = i;
  if (index == 0)
    return sw_only (SW_FULL);
  if ((value = tke_secret_new_random (TKE_MASTER_KEY_SIZE, NULL)) == NULL)
    return sw_only (SW_INTERNAL);
  if (!add_part (self, index, value, c->data, c->size))
    return sw_only (SW_INTERNAL);
  part = find_part (self, index, NULL);
  r[0] = index;
  memcpy (r + 1, part->vp, TKE_VP_SIZE);
  return respond (self, r, sizeof r);
}

static GBytes *
cmd_key_part_info (TkeVirtualCard *self, const Command *c)
{
  g_autoptr (GByteArray) r = g_byte_array_new ();
  KeyPart *part;

  if (c->p1 == 0)
    {
      for (guint i = 0; i < self->parts->len; i++)
        g_byte_array_append (r, &((KeyPart *) g_ptr_array_index (self->parts, i))->index, 1);
      return respond (self, r->data, r->len);
    }
  if ((part = find_part (self, c->p1, NULL)) == NULL)
    return sw_only (SW_NOT_FOUND);
  g_byte_array_append (r, &part->index, 1);
  g_byte_array_append (r, part->vp, TKE_VP_SIZE);
  g_byte_array_append (r, (const guint8 *) part->description, strlen (part->description));
  return respond (self, r->data, r->len);
}

static GBytes *
cmd_delete_key_part (TkeVirtualCard *self, const Command *c)
{
  KeyPart *part;
  guint position = 0;

  if ((part = find_part (self, c->p1, &position)) == NULL)
    return sw_only (SW_NOT_FOUND);
  g_ptr_array_steal_index (self->parts, position);
  if (!persist (self))
    {
      g_ptr_array_insert (self->parts, (gint) position, part);
      return sw_only (SW_INTERNAL);
    }
  key_part_free (part);
  return sw_only (SW_OK);
}

static EVP_PKEY *
point_key (const guint8 *data, gsize size)
{
  if (size != TKE_VIRTUAL_CARD_POINT_SIZE || data[0] != 0x04)
    return NULL;
  return tke_crypto_ec_public_key_from_point (data, size, NULL);
}

static GBytes *
cmd_export_key_part (TkeVirtualCard *self, const Command *c)
{
  g_autoptr (EVP_PKEY) importer = NULL;
  g_autoptr (GBytes) sealed = NULL;
  KeyPart *part;

  if ((part = find_part (self, c->p1, NULL)) == NULL)
    return sw_only (SW_NOT_FOUND);
  if (c->size < TKE_VIRTUAL_CARD_POINT_SIZE || c->size > TKE_VIRTUAL_CARD_POINT_SIZE + MAX_AAD)
    return sw_only (SW_WRONG_LENGTH);
  if ((importer = point_key (c->data, TKE_VIRTUAL_CARD_POINT_SIZE)) == NULL)
    return sw_only (SW_BAD_DATA);
  sealed = tke_crypto_seal (importer, c->data + TKE_VIRTUAL_CARD_POINT_SIZE,
                            c->size - TKE_VIRTUAL_CARD_POINT_SIZE, part->value, NULL);
  return respond_bytes (self, sealed);
}

static GBytes *
cmd_get_certificate (TkeVirtualCard *self, const Command *c)
{
  g_autoptr (GByteArray) r = g_byte_array_new ();
  g_autoptr (GBytes) point = tke_virtual_card_get_transport_point (self);

  if (self->certificate == NULL || point == NULL)
    return sw_only (SW_CONDITIONS);
  g_byte_array_append (r, self->serial, sizeof self->serial);
  g_byte_array_append (r, self->zone, sizeof self->zone);
  g_byte_array_append (r, g_bytes_get_data (point, NULL), g_bytes_get_size (point));
  g_byte_array_append (r, g_bytes_get_data (self->certificate, NULL),
                       g_bytes_get_size (self->certificate));
  return respond (self, r->data, r->len);
}

static GBytes *
copy_aad (
    const guint8 *source, const guint8 *target, guint8 item, const guint8 *description, gsize size)
{
  GByteArray *a = g_byte_array_new ();

  g_byte_array_append (a, (const guint8 *) COPY_CONTEXT, strlen (COPY_CONTEXT));
  g_byte_array_append (a, source, TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (a, target, TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (a, &item, 1);
  g_byte_array_append (a, description, (guint) size);
  return g_byte_array_free_to_bytes (a);
}

#define CERT_FIXED                                                                                 \
  (TKE_VIRTUAL_CARD_SERIAL_SIZE + TKE_VIRTUAL_CARD_ZONE_SIZE + TKE_VIRTUAL_CARD_POINT_SIZE)

static GBytes *
cmd_export_for_copy (TkeVirtualCard *self, const Command *c)
{
  const guint8 *target = c->data;
  const guint8 *zone = c->data + TKE_VIRTUAL_CARD_SERIAL_SIZE;
  const guint8 *point = zone + TKE_VIRTUAL_CARD_ZONE_SIZE;
  g_autoptr (EVP_PKEY) target_key = NULL;
  g_autoptr (GBytes) message = NULL;
  g_autoptr (TkeSecret) secret = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (GByteArray) r = NULL;
  const char *description = "";
  guint8 description_size;

  if (c->size < CERT_FIXED + 8)
    return sw_only (SW_WRONG_LENGTH);
  if (memcmp (zone, self->zone, sizeof self->zone) != 0)
    return sw_only (SW_OTHER_ZONE);
  message = cert_message (zone, target, point);
  if (memcmp (target, self->serial, sizeof self->serial) == 0 ||
      (target_key = point_key (point, TKE_VIRTUAL_CARD_POINT_SIZE)) == NULL ||
      !verify_with_point (self->zone_point, message, c->data + CERT_FIXED, c->size - CERT_FIXED))
    return sw_only (SW_BAD_DATA);

  if (c->p1 == 0)
    {
      if (self->signature_key == NULL)
        return sw_only (SW_NO_KEY);
      secret = tke_crypto_ec_private_key_to_pem (self->signature_key, NULL);
    }
  else
    {
      KeyPart *part = find_part (self, c->p1, NULL);

      if (part == NULL)
        return sw_only (SW_NOT_FOUND);
      secret = tke_secret_ref (part->value);
      description = part->description;
    }
  description_size = (guint8) strlen (description);
  aad = copy_aad (self->serial, target, c->p1, (const guint8 *) description, description_size);
  if (secret == NULL || (sealed = tke_crypto_seal (target_key, g_bytes_get_data (aad, NULL),
                                                   g_bytes_get_size (aad), secret, NULL)) == NULL)
    return sw_only (SW_INTERNAL);
  r = g_byte_array_new ();
  g_byte_array_append (r, self->serial, sizeof self->serial);
  g_byte_array_append (r, &c->p1, 1);
  g_byte_array_append (r, &description_size, 1);
  g_byte_array_append (r, (const guint8 *) description, description_size);
  g_byte_array_append (r, g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed));
  return respond (self, r->data, r->len);
}

static GBytes *
import_item (
    TkeVirtualCard *self, guint8 item, TkeSecret *secret, const guint8 *description, gsize size)
{
  if (item == 0)
    {
      EVP_PKEY *key;

      if (self->signature_key != NULL)
        return sw_only (SW_CONDITIONS);
      if ((key = tke_crypto_ec_private_key_from_pem (secret, NULL)) == NULL)
        return sw_only (SW_BAD_DATA);
      self->signature_key = key;
      if (persist (self))
        return sw_only (SW_OK);
      g_clear_pointer (&self->signature_key, EVP_PKEY_free);
      return sw_only (SW_INTERNAL);
    }
  if (item > TKE_VIRTUAL_CARD_MAX_PARTS || tke_secret_get_size (secret) != TKE_MASTER_KEY_SIZE ||
      !valid_description (description, size))
    return sw_only (SW_BAD_DATA);
  if (find_part (self, item, NULL) != NULL)
    return sw_only (SW_CONDITIONS);
  if (!add_part (self, item, tke_secret_ref (secret), description, size))
    return sw_only (SW_INTERNAL);
  return sw_only (SW_OK);
}

static GBytes *
cmd_import_copy (TkeVirtualCard *self, const Command *c)
{
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (TkeSecret) secret = NULL;
  gsize description_size;
  gsize header;

  if (c->size < TKE_VIRTUAL_CARD_SERIAL_SIZE + 2)
    return sw_only (SW_WRONG_LENGTH);
  description_size = c->data[TKE_VIRTUAL_CARD_SERIAL_SIZE + 1];
  header = TKE_VIRTUAL_CARD_SERIAL_SIZE + 2 + description_size;
  if (c->size <= header)
    return sw_only (SW_WRONG_LENGTH);
  aad = copy_aad (c->data, self->serial, c->data[TKE_VIRTUAL_CARD_SERIAL_SIZE],
                  c->data + header - description_size, description_size);
  secret = tke_crypto_open (self->transport_key, g_bytes_get_data (aad, NULL),
                            g_bytes_get_size (aad), c->data + header, c->size - header, NULL);
  if (secret == NULL)
    return sw_only (SW_BAD_DATA);
  return import_item (self, c->data[TKE_VIRTUAL_CARD_SERIAL_SIZE], secret,
                      c->data + header - description_size, description_size);
}

static GBytes *
cmd_certify_card (TkeVirtualCard *self, const Command *c)
{
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GByteArray) r = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  guint8 description_size = (guint8) strlen (self->zone_description);

  if (!ca_authorized (self))
    return sw_only (SW_SECURITY);
  if (c->size != TKE_VIRTUAL_CARD_SERIAL_SIZE + TKE_VIRTUAL_CARD_POINT_SIZE)
    return sw_only (SW_WRONG_LENGTH);
  if ((key = point_key (c->data + TKE_VIRTUAL_CARD_SERIAL_SIZE, TKE_VIRTUAL_CARD_POINT_SIZE)) ==
      NULL)
    return sw_only (SW_BAD_DATA);
  message = cert_message (self->zone, c->data, c->data + TKE_VIRTUAL_CARD_SERIAL_SIZE);
  signature = tke_crypto_sign (self->zone_key, g_bytes_get_data (message, NULL),
                               g_bytes_get_size (message), NULL);
  if (signature == NULL)
    return sw_only (SW_INTERNAL);
  r = g_byte_array_new ();
  g_byte_array_append (r, self->zone, sizeof self->zone);
  g_byte_array_append (r, g_bytes_get_data (self->zone_point, NULL), TKE_VIRTUAL_CARD_POINT_SIZE);
  g_byte_array_append (r, &description_size, 1);
  g_byte_array_append (r, (const guint8 *) self->zone_description, description_size);
  g_byte_array_append (r, g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
  return respond (self, r->data, r->len);
}

static GBytes *
cmd_select (TkeVirtualCard *self, const Command *c)
{
  static const guint8 version[] = { 0x01, 0x00 };

  if (c->p1 != 0x04)
    return sw_only (SW_BAD_P1P2);
  tke_virtual_card_reset (self);
  if (c->size != sizeof tke_virtual_card_aid ||
      memcmp (c->data, tke_virtual_card_aid, sizeof tke_virtual_card_aid) != 0)
    return sw_only (SW_NOT_FOUND);
  self->selected = TRUE;
  return respond (self, version, sizeof version);
}

typedef enum
{
  NEEDS_NOTHING = 0,
  NEEDS_PIN = 1 << 0,
  NEEDS_EP11 = 1 << 1,
  NEEDS_CA = 1 << 2,
} Needs;

typedef struct
{
  guint8 ins;
  Needs needs;
  GBytes *(*run) (TkeVirtualCard *self, const Command *c);
} Instruction;

static const Instruction instructions[] = {
  { 0x20, NEEDS_NOTHING, cmd_verify },
  { 0x24, NEEDS_NOTHING, cmd_change_pin },
  { 0x84, NEEDS_NOTHING, cmd_get_challenge },
  { 0x2C, NEEDS_NOTHING, cmd_reset_retry_counter },
  { 0x2A, NEEDS_EP11, cmd_sign },
  { 0xCA, NEEDS_NOTHING, cmd_card_info },
  { 0x2E, NEEDS_NOTHING, cmd_authorize_unblock },
  { 0x46, NEEDS_EP11 | NEEDS_PIN, cmd_generate_signature_key },
  { 0x48, NEEDS_NOTHING, cmd_get_public_key },
  { 0x50, NEEDS_EP11 | NEEDS_PIN, cmd_generate_key_part },
  { 0x52, NEEDS_EP11, cmd_key_part_info },
  { 0x54, NEEDS_EP11 | NEEDS_PIN, cmd_export_key_part },
  { 0x56, NEEDS_EP11 | NEEDS_PIN, cmd_delete_key_part },
  { 0x62, NEEDS_EP11, cmd_get_certificate },
  { 0x64, NEEDS_EP11 | NEEDS_PIN, cmd_export_for_copy },
  { 0x66, NEEDS_EP11 | NEEDS_PIN, cmd_import_copy },
  { 0x68, NEEDS_CA, cmd_certify_card },
};

static GBytes *
dispatch (TkeVirtualCard *self, const Command *c)
{
  for (gsize i = 0; i < G_N_ELEMENTS (instructions); i++)
    {
      const Instruction *in = &instructions[i];

      if (in->ins != c->ins)
        continue;
      if (((in->needs & NEEDS_EP11) && self->type != TKE_VIRTUAL_CARD_TYPE_EP11) ||
          ((in->needs & NEEDS_CA) && self->type != TKE_VIRTUAL_CARD_TYPE_CA))
        return sw_only (SW_NOT_ALLOWED);
      if ((in->needs & NEEDS_PIN) && !self->verified[0])
        return sw_only (SW_SECURITY);
      return in->run (self, c);
    }
  return sw_only (SW_BAD_INS);
}

/* Parses a short APDU: header, optional Lc and data, optional Le. */
static gboolean
parse_apdu (const guint8 *apdu, gsize size, Command *c)
{
  c->cla = apdu[0];
  c->ins = apdu[1];
  c->p1 = apdu[2];
  c->p2 = apdu[3];
  c->data = NULL;
  c->size = 0;
  if (size <= 5)
    return TRUE; /* case 1 or 2 */
  if (apdu[4] == 0)
    return FALSE; /* extended length: not supported */
  c->size = apdu[4];
  c->data = apdu + 5;
  return size == 5 + c->size || size == 6 + c->size;
}

/* Command chaining: collects the pieces; returns NULL when @c is complete. */
static GBytes *
chain (TkeVirtualCard *self, Command *c, gboolean more)
{
  guint8 header[3] = { c->ins, c->p1, c->p2 };

  if (self->chain != NULL && memcmp (header, self->chain_header, 3) != 0)
    {
      g_clear_pointer (&self->chain, g_byte_array_unref);
      return sw_only (SW_CHAIN);
    }
  if (self->chain == NULL && !more)
    return NULL;
  if (self->chain == NULL)
    {
      self->chain = g_byte_array_new ();
      memcpy (self->chain_header, header, 3);
    }
  if (self->chain->len + c->size > MAX_CHAIN)
    {
      g_clear_pointer (&self->chain, g_byte_array_unref);
      return sw_only (SW_WRONG_LENGTH);
    }
  g_byte_array_append (self->chain, c->data, (guint) c->size);
  if (more)
    return sw_only (SW_OK);
  c->data = self->chain->data;
  c->size = self->chain->len;
  return NULL;
}

GBytes *
tke_virtual_card_transmit (TkeVirtualCard *self, const guint8 *apdu, gsize size)
{
  Command c;
  GBytes *r;
  gboolean more;

  g_return_val_if_fail (TKE_IS_VIRTUAL_CARD (self), NULL);

  if (size < 4 || !parse_apdu (apdu, size, &c))
    return sw_only (SW_WRONG_LENGTH);
  if ((c.cla & 0x0C) != 0)
    return sw_only (SW_SM_UNSUPPORTED);
  more = (c.cla & 0x10) != 0;
  if ((c.cla & ~0x10) != 0x00 && (c.cla & ~0x10) != 0x80)
    return sw_only (SW_BAD_CLA);
  if (c.ins == 0xC0 && !more)
    return get_response (self);
  g_clear_pointer (&self->pending, g_bytes_unref);
  if (c.ins == 0xA4 && !more)
    return cmd_select (self, &c);
  if (!self->selected)
    return sw_only (SW_CONDITIONS);
  if ((r = chain (self, &c, more)) != NULL)
    return r;
  r = dispatch (self, &c);
  g_clear_pointer (&self->chain, g_byte_array_unref);
  return r;
}
