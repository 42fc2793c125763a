/* tke-virtual-card-blank.c: a blank card becomes a CA card or an EP11 card
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the Smart Card Utility Program does through the readers
 * (card-protocol.md §4.13): a blank card takes its first PINs on the PIN
 * pad (CHANGE REFERENCE DATA without a current PIN, only while the PIN is
 * not set), then INITIALIZE CA makes it its zone's CA card; or it is
 * enrolled in a zone (its transport key certified by the zone's CA card)
 * and personalized with its PIN and description, and then it is an EP11
 * card.  Nothing secret leaves the card: the host carries the enrolment
 * request (serial and public transport point) and the CA's certificate.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tke-virtual-card-private.h"

static gboolean
enrolled (TkeVirtualCard *self)
{
  return self->certificate != NULL;
}

static void
reset_tries (TkeVirtualCard *self)
{
  self->tries[0] = self->tries[1] = _tke_virtual_card_max_tries (self);
}

/* INITIALIZE CA `80 10 00 00 Lc <zone description length, 1> <zone
 * description> <card description>`: both new PINs set in this session.
 * All or nothing: the CA card is staged whole and written in one image
 * write; a write that fails leaves the blank card it was. */
GBytes *
_tke_virtual_card_cmd_initialize_ca (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_auto (TkeVirtualCardStaged) staged = { 0 };
  gsize zone_size;

  if (enrolled (self) || self->pin[0] == NULL || self->pin[1] == NULL)
    return _tke_virtual_card_sw (SW_CONDITIONS);
  if (!self->verified[0] || !self->verified[1])
    return _tke_virtual_card_sw (SW_SECURITY);
  if (c->size < 2 || (zone_size = c->data[0]) + 2 > c->size ||
      !_tke_virtual_card_valid_description (c->data + 1, zone_size) ||
      !_tke_virtual_card_valid_description (c->data + 1 + zone_size, c->size - 1 - zone_size))
    return _tke_virtual_card_sw (SW_BAD_DATA);
  _tke_virtual_card_stage (self, &staged);
  g_clear_pointer (&staged.zone_key, EVP_PKEY_free);
  g_clear_pointer (&staged.zone_point, g_bytes_unref);
  if (!tke_crypto_random_bytes (staged.zone, sizeof staged.zone, NULL) ||
      (staged.zone_key = tke_crypto_ec_generate (NULL)) == NULL ||
      (staged.zone_point = tke_crypto_ec_public_point (staged.zone_key, NULL)) == NULL)
    return _tke_virtual_card_sw (SW_INTERNAL);
  _tke_virtual_card_stage_text (&staged.zone_description, c->data + 1, zone_size);
  _tke_virtual_card_stage_text (&staged.description, c->data + 1 + zone_size,
                                c->size - 1 - zone_size);
  g_clear_pointer (&staged.transport_key, EVP_PKEY_free);
  _tke_virtual_card_stage_type (&staged, TKE_VIRTUAL_CARD_TYPE_CA);
  if (!_tke_virtual_card_persist_staged (self, &staged))
    return _tke_virtual_card_sw (SW_INTERNAL);
  return _tke_virtual_card_sw (SW_OK);
}

/* GET ENROLMENT REQUEST `80 12 00 00 00` → `<serial, 8> <transport point,
 * 133>`, what CERTIFY CARD takes.  The transport key is made once. */
GBytes *
_tke_virtual_card_cmd_enrolment_request (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_autoptr (GBytes) point = NULL;
  g_autoptr (GByteArray) r = g_byte_array_new ();

  if (enrolled (self) || self->pin[1] != NULL)
    return _tke_virtual_card_sw (SW_CONDITIONS);
  if (self->transport_key == NULL)
    {
      if ((self->transport_key = tke_crypto_ec_generate (NULL)) == NULL)
        return _tke_virtual_card_sw (SW_INTERNAL);
      if (!_tke_virtual_card_persist (self))
        {
          g_clear_pointer (&self->transport_key, EVP_PKEY_free);
          return _tke_virtual_card_sw (SW_INTERNAL);
        }
    }
  point = tke_virtual_card_get_transport_point (self);
  if (point == NULL)
    return _tke_virtual_card_sw (SW_NO_KEY);
  g_byte_array_append (r, self->serial, sizeof self->serial);
  g_byte_array_append (r, g_bytes_get_data (point, NULL), g_bytes_get_size (point));
  return _tke_virtual_card_respond (self, r->data, r->len);
}

/* ENROLL `80 14 00 00 Lc <CERTIFY CARD's answer>`: the card keeps the zone
 * whose key signed its own serial and transport point. */
GBytes *
_tke_virtual_card_cmd_enroll (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_autoptr (GError) error = NULL;

  if (enrolled (self) || self->transport_key == NULL)
    return _tke_virtual_card_sw (SW_CONDITIONS);
  if (!tke_virtual_card_install_certificate (self, c->data, c->size, &error))
    {
      if (g_error_matches (error, TKE_ERROR, TKE_ERROR_INTEGRITY))
        return _tke_virtual_card_sw (SW_BAD_DATA);
      return _tke_virtual_card_sw (SW_INTERNAL);
    }
  return _tke_virtual_card_sw (SW_OK);
}

/* PERSONALIZE `80 16 00 00 Lc <description>`: an enrolled blank card whose
 * PIN was set in this session becomes an EP11 card.  All or nothing, as
 * INITIALIZE CA. */
GBytes *
_tke_virtual_card_cmd_personalize (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_auto (TkeVirtualCardStaged) staged = { 0 };

  if (!enrolled (self) || self->pin[0] == NULL)
    return _tke_virtual_card_sw (SW_CONDITIONS);
  if (!self->verified[0])
    return _tke_virtual_card_sw (SW_SECURITY);
  if (!_tke_virtual_card_valid_description (c->data, c->size))
    return _tke_virtual_card_sw (SW_BAD_DATA);
  _tke_virtual_card_stage (self, &staged);
  _tke_virtual_card_stage_text (&staged.description, c->data, c->size);
  _tke_virtual_card_stage_type (&staged, TKE_VIRTUAL_CARD_TYPE_EP11);
  if (!_tke_virtual_card_persist_staged (self, &staged))
    return _tke_virtual_card_sw (SW_INTERNAL);
  return _tke_virtual_card_sw (SW_OK);
}

/**
 * tke_virtual_card_create_blank:
 *
 * A new blank card, as it comes from the card issuer: a serial number,
 * nothing else.
 */
TkeVirtualCard *
tke_virtual_card_create_blank (const char *path, TkeSecret *chip_key, GError **error)
{
  g_autoptr (TkeVirtualCard) self = g_object_new (TKE_TYPE_VIRTUAL_CARD, NULL);

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("%s already exists; a new card needs a new file."), path);
      return NULL;
    }
  if (!tke_crypto_random_bytes (self->serial, sizeof self->serial, error))
    return NULL;
  self->path = g_strdup (path);
  self->chip_key = tke_secret_ref (chip_key);
  self->type = TKE_VIRTUAL_CARD_TYPE_BLANK;
  self->description = g_strdup ("");
  self->zone_description = g_strdup ("");
  reset_tries (self);
  if (!_tke_virtual_card_save (self, error))
    return NULL;
  return g_steal_pointer (&self);
}
