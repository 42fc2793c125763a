/* tke-virtual-card.c: the card applet of the virtual smart cards
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The applet of data/doc/card-protocol.md over a card image file.  This
 * file has the type, the chip key, new cards and the accessors; the image
 * format is in tke-virtual-card-image.c, the zone (CA, certificates,
 * unblocking, copies) in tke-virtual-card-zone.c, and the APDU handlers in
 * tke-virtual-card-applet.c.  The
 * image's secrets (PINs, private keys, key parts) are sealed under the chip
 * key, which stands in for the chip's hardware key; every change is written
 * before the card answers, so a retry counter cannot be rolled back by
 * pulling the card.
 */

#include "config.h"

#include "tke-virtual-card-private.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

const guint8 tke_virtual_card_aid[8] = { 0xF0, 0x54, 0x4B, 0x45, 0x43, 0x41, 0x52, 0x44 };

static const guint8 card_atr[] = { 0x3B, 0x8A, 0x80, 0x01, 0x54, 0x4B, 0x45, 0x2D,
                                   0x56, 0x43, 0x41, 0x52, 0x44, 0x31, 0x0F };

G_DEFINE_FINAL_TYPE (TkeVirtualCard, tke_virtual_card, G_TYPE_OBJECT)

void
_tke_virtual_card_part_free (TkeVirtualCardPart *part)
{
  g_clear_pointer (&part->value, tke_secret_unref);
  g_free (part->description);
  g_free (part);
}

guint8
_tke_virtual_card_max_tries (TkeVirtualCard *self)
{
  return _tke_virtual_card_max_tries_of (self->type);
}

guint8
_tke_virtual_card_max_tries_of (guint8 type)
{
  return type == TKE_VIRTUAL_CARD_TYPE_CA ? 5 : 3;
}

static EVP_PKEY *
key_ref (EVP_PKEY *key)
{
  if (key != NULL)
    EVP_PKEY_up_ref (key);
  return key;
}

static GBytes *
bytes_ref (GBytes *bytes)
{
  return bytes != NULL ? g_bytes_ref (bytes) : NULL;
}

void
_tke_virtual_card_stage (TkeVirtualCard *self, TkeVirtualCardStaged *staged)
{
  staged->type = self->type;
  memcpy (staged->zone, self->zone, sizeof staged->zone);
  staged->zone_description = g_strdup (self->zone_description);
  staged->description = g_strdup (self->description);
  for (guint i = 0; i < 2; i++)
    {
      staged->pin[i] = self->pin[i] != NULL ? tke_secret_ref (self->pin[i]) : NULL;
      staged->tries[i] = self->tries[i];
    }
  staged->zone_point = bytes_ref (self->zone_point);
  staged->zone_key = key_ref (self->zone_key);
  staged->transport_key = key_ref (self->transport_key);
  staged->certificate = bytes_ref (self->certificate);
  staged->personalizing = self->personalizing;
}

void
_tke_virtual_card_staged_clear (TkeVirtualCardStaged *staged)
{
  g_clear_pointer (&staged->zone_description, g_free);
  g_clear_pointer (&staged->description, g_free);
  for (guint i = 0; i < 2; i++)
    g_clear_pointer (&staged->pin[i], tke_secret_unref);
  g_clear_pointer (&staged->zone_point, g_bytes_unref);
  g_clear_pointer (&staged->zone_key, EVP_PKEY_free);
  g_clear_pointer (&staged->transport_key, EVP_PKEY_free);
  g_clear_pointer (&staged->certificate, g_bytes_unref);
}

void
_tke_virtual_card_stage_type (TkeVirtualCardStaged *staged, guint8 type)
{
  staged->type = type;
  staged->tries[0] = staged->tries[1] = _tke_virtual_card_max_tries_of (type);
}

void
_tke_virtual_card_stage_text (char **field, const guint8 *text, gsize size)
{
  g_free (*field);
  *field = g_strndup ((const char *) text, size);
}

#define SWAP(type, a, b)                                                                           \
  G_STMT_START                                                                                     \
  {                                                                                                \
    type swap_tmp = (a);                                                                           \
    (a) = (b);                                                                                     \
    (b) = swap_tmp;                                                                                \
  }                                                                                                \
  G_STMT_END

/* The card's fields and @staged change places: twice is no change. */
static void
swap_staged (TkeVirtualCard *self, TkeVirtualCardStaged *staged)
{
  guint8 zone[TKE_VIRTUAL_CARD_ZONE_SIZE];

  SWAP (guint8, self->type, staged->type);
  memcpy (zone, self->zone, sizeof zone);
  memcpy (self->zone, staged->zone, sizeof zone);
  memcpy (staged->zone, zone, sizeof zone);
  SWAP (char *, self->zone_description, staged->zone_description);
  SWAP (char *, self->description, staged->description);
  for (guint i = 0; i < 2; i++)
    {
      SWAP (TkeSecret *, self->pin[i], staged->pin[i]);
      SWAP (guint8, self->tries[i], staged->tries[i]);
    }
  SWAP (GBytes *, self->zone_point, staged->zone_point);
  SWAP (EVP_PKEY *, self->zone_key, staged->zone_key);
  SWAP (EVP_PKEY *, self->transport_key, staged->transport_key);
  SWAP (GBytes *, self->certificate, staged->certificate);
  SWAP (gboolean, self->personalizing, staged->personalizing);
}

gboolean
_tke_virtual_card_commit (TkeVirtualCard *self, TkeVirtualCardStaged *staged, GError **error)
{
  swap_staged (self, staged);
  if (_tke_virtual_card_save (self, error))
    return TRUE;
  swap_staged (self, staged);
  return FALSE;
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
  g_clear_pointer (&self->unit_root, g_bytes_unref);
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
  self->parts = g_ptr_array_new_with_free_func ((GDestroyNotify) _tke_virtual_card_part_free);
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
  if (!_tke_virtual_card_valid_description ((const guint8 *) description, strlen (description)))
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
  self->tries[0] = self->tries[1] = _tke_virtual_card_max_tries (self);
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
  if (!_tke_virtual_card_save (self, error))
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
  self->personalizing = TRUE;
  return g_steal_pointer (&self);
}

/**
 * tke_virtual_card_install_unit_root:
 * @point: the crypto units' root, a 133-byte uncompressed P-521 point
 *
 * Personalization: gives a new EP11 card the root its EXPORT KEY PART
 * verifies importer keys against.  Only a card made by
 * tke_virtual_card_new_ep11() and not yet certified in its zone takes it; a
 * card's root is never replaced, and no APDU sets it, so code on a
 * workstation cannot swap in a root of its own.
 */
gboolean
tke_virtual_card_install_unit_root (TkeVirtualCard *self, GBytes *point, GError **error)
{
  g_autoptr (EVP_PKEY) key = NULL;

  if (!self->personalizing || self->unit_root != NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("The card's unit root is set when the card is created, and never again."));
      return FALSE;
    }
  key = _tke_virtual_card_point_key (g_bytes_get_data (point, NULL), g_bytes_get_size (point));
  if (key == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("The unit root is not a P-521 public key."));
      return FALSE;
    }
  self->unit_root = g_bytes_ref (point);
  return TRUE;
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
  self->pin_fresh = self->pin_fresh_now = FALSE;
  g_clear_pointer (&self->new_pin, tke_secret_unref);
  self->have_challenge = FALSE;
  OPENSSL_cleanse (self->challenge, sizeof self->challenge);
  _tke_virtual_card_drop_chain (self);
  g_clear_pointer (&self->pending, g_bytes_unref);
}
