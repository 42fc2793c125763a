/* tke-virtual-card-backup.c: a CA card backed up onto a blank card
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Smart Card Utility Program's "Back up CA smart card"
 * (card-protocol.md §4.15).  The zone key and the two PINs go from the CA
 * card to the blank card sealed to a transport key the blank card made,
 * and only to a card: the blank card proves it is one with a MAC under the
 * chip key every card of this issuer holds (a host cannot make that MAC).
 * The host carries the request and the sealed backup, and learns nothing
 * it could use.  The copy keeps both PINs; both must be verified on the
 * CA card's pad before it seals anything.
 */

#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "tke-virtual-card-private.h"

#define ATTEST_SIZE 32
#define REQUEST_SIZE (TKE_VIRTUAL_CARD_SERIAL_SIZE + TKE_VIRTUAL_CARD_POINT_SIZE + ATTEST_SIZE)
#define BACKUP_HEAD (TKE_VIRTUAL_CARD_SERIAL_SIZE + TKE_VIRTUAL_CARD_ZONE_SIZE)

static const char attest_label[] = "tke ca backup request v1";
static const char seal_label[] = "tke ca backup v1";

/* The issuer's proof that @serial and @point come from one of its cards. */
static gboolean
attest (TkeVirtualCard *self, const guint8 *serial, const guint8 *point, guint8 out[ATTEST_SIZE])
{
  g_autoptr (GByteArray) message = g_byte_array_new ();
  size_t size = 0;

  g_byte_array_append (message, (const guint8 *) attest_label, sizeof attest_label - 1);
  g_byte_array_append (message, serial, TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (message, point, TKE_VIRTUAL_CARD_POINT_SIZE);
  return EVP_Q_mac (NULL, "HMAC", NULL, "SHA256", NULL, tke_secret_get_data (self->chip_key),
                    tke_secret_get_size (self->chip_key), message->data, message->len, out,
                    ATTEST_SIZE, &size) != NULL &&
         size == ATTEST_SIZE;
}

static GBytes *
seal_aad (const guint8 *source, const guint8 *target, const guint8 *zone)
{
  g_autoptr (GByteArray) aad = g_byte_array_new ();

  g_byte_array_append (aad, (const guint8 *) seal_label, sizeof seal_label - 1);
  g_byte_array_append (aad, source, TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (aad, target, TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (aad, zone, TKE_VIRTUAL_CARD_ZONE_SIZE);
  return g_byte_array_free_to_bytes (g_steal_pointer (&aad));
}

static gboolean
is_fresh_blank (TkeVirtualCard *self)
{
  return self->type == TKE_VIRTUAL_CARD_TYPE_BLANK && self->certificate == NULL &&
         self->pin[0] == NULL && self->pin[1] == NULL;
}

/* GET BACKUP REQUEST `80 70 00 00 00` (a blank card no PIN was set on) →
 * `<serial, 8> <transport point, 133> <attestation, 32>`. */
GBytes *
_tke_virtual_card_cmd_backup_request (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_autoptr (GBytes) point = NULL;
  guint8 r[REQUEST_SIZE];

  if (!is_fresh_blank (self))
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
  if ((point = tke_virtual_card_get_transport_point (self)) == NULL ||
      g_bytes_get_size (point) != TKE_VIRTUAL_CARD_POINT_SIZE)
    return _tke_virtual_card_sw (SW_INTERNAL);
  memcpy (r, self->serial, TKE_VIRTUAL_CARD_SERIAL_SIZE);
  memcpy (r + TKE_VIRTUAL_CARD_SERIAL_SIZE, g_bytes_get_data (point, NULL),
          TKE_VIRTUAL_CARD_POINT_SIZE);
  if (!attest (self, r, r + TKE_VIRTUAL_CARD_SERIAL_SIZE,
               r + TKE_VIRTUAL_CARD_SERIAL_SIZE + TKE_VIRTUAL_CARD_POINT_SIZE))
    return _tke_virtual_card_sw (SW_INTERNAL);
  return _tke_virtual_card_respond (self, r, sizeof r);
}

/* What is sealed: <zone description length, 1> <zone description> <card
 * description length, 1> <card description> <PIN 1, 6> <PIN 2, 6> <zone
 * key, PEM>.  In secure memory throughout. */
static TkeSecret *
backup_payload (TkeVirtualCard *self)
{
  g_autoptr (TkeSecret) pem = tke_crypto_ec_private_key_to_pem (self->zone_key, NULL);
  gsize zone_size = strlen (self->zone_description);
  gsize card_size = strlen (self->description);
  TkeSecret *payload;
  guint8 *p;

  if (pem == NULL || zone_size > 32 || card_size > 32)
    return NULL;
  payload = tke_secret_new (2 + zone_size + card_size + 2 * TKE_VIRTUAL_CARD_PIN_SIZE +
                            tke_secret_get_size (pem));
  p = tke_secret_get_mutable_data (payload);
  *p++ = (guint8) zone_size;
  memcpy (p, self->zone_description, zone_size);
  p += zone_size;
  *p++ = (guint8) card_size;
  memcpy (p, self->description, card_size);
  p += card_size;
  for (guint i = 0; i < 2; i++, p += TKE_VIRTUAL_CARD_PIN_SIZE)
    memcpy (p, tke_secret_get_data (self->pin[i]), TKE_VIRTUAL_CARD_PIN_SIZE);
  memcpy (p, tke_secret_get_data (pem), tke_secret_get_size (pem));
  return payload;
}

/* EXPORT CA BACKUP `80 72 00 00 Lc <GET BACKUP REQUEST's answer>` (CA, both
 * PINs verified) → `<CA serial, 8> <zone, 8> <sealed backup>`. */
GBytes *
_tke_virtual_card_cmd_export_ca_backup (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  const guint8 *target, *point;
  guint8 expected[ATTEST_SIZE];
  g_autoptr (EVP_PKEY) target_key = NULL;
  g_autoptr (TkeSecret) payload = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (GByteArray) r = NULL;

  if (!self->verified[0] || !self->verified[1])
    return _tke_virtual_card_sw (SW_SECURITY);
  /* Only now may the data be indexed: without data, c->data is NULL. */
  if (c->size != REQUEST_SIZE)
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  target = c->data;
  point = c->data + TKE_VIRTUAL_CARD_SERIAL_SIZE;
  if (memcmp (target, self->serial, TKE_VIRTUAL_CARD_SERIAL_SIZE) == 0 ||
      !attest (self, target, point, expected) ||
      CRYPTO_memcmp (expected, point + TKE_VIRTUAL_CARD_POINT_SIZE, ATTEST_SIZE) != 0 ||
      (target_key = _tke_virtual_card_point_key (point, TKE_VIRTUAL_CARD_POINT_SIZE)) == NULL)
    return _tke_virtual_card_sw (SW_BAD_DATA);
  aad = seal_aad (self->serial, target, self->zone);
  if ((payload = backup_payload (self)) == NULL ||
      (sealed = tke_crypto_seal (target_key, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                                 payload, NULL)) == NULL)
    return _tke_virtual_card_sw (SW_INTERNAL);
  r = g_byte_array_new ();
  g_byte_array_append (r, self->serial, TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (r, self->zone, TKE_VIRTUAL_CARD_ZONE_SIZE);
  g_byte_array_append (r, g_bytes_get_data (sealed, NULL), (guint) g_bytes_get_size (sealed));
  return _tke_virtual_card_respond (self, r->data, r->len);
}

/* The payload's fields, all checked, into @staged (the blank card's, from
 * _tke_virtual_card_stage()): the card itself is not touched. */
static gboolean
stage_payload (const guint8 *zone, const TkeSecret *payload, TkeVirtualCardStaged *staged)
{
  const guint8 *p = tke_secret_get_data (payload);
  const guint8 *end = p + tke_secret_get_size (payload);
  g_autoptr (TkeSecret) pem = NULL;
  g_autoptr (EVP_PKEY) zone_key = NULL;
  g_autoptr (GBytes) zone_point = NULL;
  const guint8 *zone_text, *card_text, *pins;
  gsize zone_size, card_size;

  if (end - p < 1 || (zone_size = p[0]) > (gsize) (end - p - 1))
    return FALSE;
  zone_text = p + 1;
  p = zone_text + zone_size;
  if (end - p < 1 || (card_size = p[0]) > (gsize) (end - p - 1))
    return FALSE;
  card_text = p + 1;
  p = card_text + card_size;
  if (end - p <= 2 * TKE_VIRTUAL_CARD_PIN_SIZE ||
      !_tke_virtual_card_valid_description (zone_text, zone_size) ||
      !_tke_virtual_card_valid_description (card_text, card_size))
    return FALSE;
  pins = p;
  p += 2 * TKE_VIRTUAL_CARD_PIN_SIZE;
  pem = tke_secret_new_from_data (p, (gsize) (end - p));
  if ((zone_key = tke_crypto_ec_private_key_from_pem (pem, NULL)) == NULL ||
      (zone_point = tke_crypto_ec_public_point (zone_key, NULL)) == NULL)
    return FALSE;
  _tke_virtual_card_stage_type (staged, TKE_VIRTUAL_CARD_TYPE_CA);
  memcpy (staged->zone, zone, TKE_VIRTUAL_CARD_ZONE_SIZE);
  _tke_virtual_card_stage_text (&staged->zone_description, zone_text, zone_size);
  _tke_virtual_card_stage_text (&staged->description, card_text, card_size);
  for (guint i = 0; i < 2; i++)
    {
      g_clear_pointer (&staged->pin[i], tke_secret_unref);
      staged->pin[i] = tke_secret_new_from_data (pins + i * TKE_VIRTUAL_CARD_PIN_SIZE,
                                                 TKE_VIRTUAL_CARD_PIN_SIZE);
    }
  g_clear_pointer (&staged->zone_key, EVP_PKEY_free);
  staged->zone_key = g_steal_pointer (&zone_key);
  g_clear_pointer (&staged->zone_point, g_bytes_unref);
  staged->zone_point = g_steal_pointer (&zone_point);
  g_clear_pointer (&staged->transport_key, EVP_PKEY_free); /* used up */
  return TRUE;
}

/* INSTALL CA BACKUP `80 74 00 00 Lc <EXPORT CA BACKUP's answer>` (the blank
 * card that made the request): it becomes a CA card of the same zone,
 * with the same PINs.  All or nothing: the whole CA card is staged, then
 * written in one image write; a write that fails leaves the card the
 * blank card it was, in memory as in its image. */
GBytes *
_tke_virtual_card_cmd_install_ca_backup (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (TkeSecret) payload = NULL;
  g_auto (TkeVirtualCardStaged) staged = { 0 };

  if (!is_fresh_blank (self) || self->transport_key == NULL)
    return _tke_virtual_card_sw (SW_CONDITIONS);
  if (c->size <= BACKUP_HEAD)
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  aad = seal_aad (c->data, self->serial, c->data + TKE_VIRTUAL_CARD_SERIAL_SIZE);
  payload =
      tke_crypto_open (self->transport_key, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                       c->data + BACKUP_HEAD, c->size - BACKUP_HEAD, NULL);
  _tke_virtual_card_stage (self, &staged);
  if (payload == NULL || !stage_payload (c->data + TKE_VIRTUAL_CARD_SERIAL_SIZE, payload, &staged))
    return _tke_virtual_card_sw (SW_BAD_DATA);
  if (!_tke_virtual_card_persist_staged (self, &staged))
    return _tke_virtual_card_sw (SW_INTERNAL);
  return _tke_virtual_card_sw (SW_OK);
}
