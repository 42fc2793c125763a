/* tke-virtual-card-zone.c: a virtual card in its zone
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The zone's CA: certificates of EP11 cards, the CA's authorization to
 * unblock a PIN, and copies from card to card within the zone.
 */

#include "config.h"

#include "tke-virtual-card-private.h"

#include <string.h>

#include <glib/gi18n.h>
#include <openssl/crypto.h>

#define UNBLOCK_CONTEXT "tke unblock v1"
#define CERT_CONTEXT "tke zone cert v1"
#define COPY_CONTEXT "tke copy v1"
#define COPY_SIGNATURE_CONTEXT "tke copy sig v1"

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
 * Puts a new EP11 card into its zone and writes its image: all or nothing,
 * a card whose image cannot be written stays out of the zone.
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
  g_auto (TkeVirtualCardStaged) staged = { 0 };
  gsize description_size;

  if (size < fixed || size < fixed + response[fixed - 1] + 8)
    goto bad;
  description_size = response[fixed - 1];
  if (!_tke_virtual_card_valid_description (response + fixed, description_size))
    goto bad;
  point = g_bytes_new (response + TKE_VIRTUAL_CARD_ZONE_SIZE, TKE_VIRTUAL_CARD_POINT_SIZE);
  message = cert_message (response, self->serial, g_bytes_get_data (own_point, NULL));
  if (!verify_with_point (point, message, response + fixed + description_size,
                          size - fixed - description_size))
    goto bad;
  _tke_virtual_card_stage (self, &staged);
  memcpy (staged.zone, response, TKE_VIRTUAL_CARD_ZONE_SIZE);
  _tke_virtual_card_stage_text (&staged.zone_description, response + fixed, description_size);
  g_clear_pointer (&staged.zone_point, g_bytes_unref);
  staged.zone_point = g_steal_pointer (&point);
  g_clear_pointer (&staged.certificate, g_bytes_unref);
  staged.certificate =
      g_bytes_new (response + fixed + description_size, size - fixed - description_size);
  staged.personalizing = FALSE;
  return _tke_virtual_card_commit (self, &staged, error);

bad:
  g_set_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY,
               _ ("The CA card's certificate is not valid."));
  return FALSE;
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

GBytes *
_tke_virtual_card_cmd_authorize_unblock (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GByteArray) r = NULL;

  if (self->type != TKE_VIRTUAL_CARD_TYPE_CA)
    return _tke_virtual_card_sw (SW_NOT_ALLOWED);
  if (!ca_authorized (self))
    return _tke_virtual_card_sw (SW_SECURITY);
  if (c->size != TKE_VIRTUAL_CARD_SERIAL_SIZE + CHALLENGE_SIZE)
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  message = unblock_message (self->zone, c->data, c->data + TKE_VIRTUAL_CARD_SERIAL_SIZE);
  signature = tke_crypto_sign (self->zone_key, g_bytes_get_data (message, NULL),
                               g_bytes_get_size (message), NULL);
  if (signature == NULL)
    return _tke_virtual_card_sw (SW_INTERNAL);
  r = g_byte_array_new ();
  g_byte_array_append (r, self->zone, sizeof self->zone);
  g_byte_array_append (r, g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
  return _tke_virtual_card_respond (self, r->data, r->len);
}

GBytes *
_tke_virtual_card_cmd_reset_retry_counter (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_autoptr (GBytes) message = NULL;
  gboolean had_challenge = self->have_challenge;
  guint8 before = self->tries[0];

  if (self->type != TKE_VIRTUAL_CARD_TYPE_EP11)
    return _tke_virtual_card_sw (SW_NOT_ALLOWED);
  if (c->p1 != 1 || c->p2 != 0x81)
    return _tke_virtual_card_sw (SW_BAD_P1P2);
  if (c->size < TKE_VIRTUAL_CARD_ZONE_SIZE + 8)
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  self->have_challenge = FALSE;
  if (memcmp (c->data, self->zone, sizeof self->zone) != 0)
    return _tke_virtual_card_sw (SW_OTHER_ZONE);
  if (!had_challenge)
    return _tke_virtual_card_sw (SW_CONDITIONS);
  message = unblock_message (self->zone, self->serial, self->challenge);
  if (!verify_with_point (self->zone_point, message, c->data + TKE_VIRTUAL_CARD_ZONE_SIZE,
                          c->size - TKE_VIRTUAL_CARD_ZONE_SIZE))
    return _tke_virtual_card_sw (SW_BAD_DATA);
  self->tries[0] = _tke_virtual_card_max_tries (self);
  if (!_tke_virtual_card_persist (self))
    {
      self->tries[0] = before;
      return _tke_virtual_card_sw (SW_INTERNAL);
    }
  self->unblock_grant = TRUE;
  return _tke_virtual_card_sw (SW_OK);
}

GBytes *
_tke_virtual_card_cmd_get_certificate (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_autoptr (GByteArray) r = g_byte_array_new ();
  g_autoptr (GBytes) point = tke_virtual_card_get_transport_point (self);

  if (self->certificate == NULL || point == NULL)
    return _tke_virtual_card_sw (SW_CONDITIONS);
  g_byte_array_append (r, self->serial, sizeof self->serial);
  g_byte_array_append (r, self->zone, sizeof self->zone);
  g_byte_array_append (r, g_bytes_get_data (point, NULL), g_bytes_get_size (point));
  g_byte_array_append (r, g_bytes_get_data (self->certificate, NULL),
                       g_bytes_get_size (self->certificate));
  return _tke_virtual_card_respond (self, r->data, r->len);
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

/* What the sending card signs: everything of the copy before its signature,
 * bound to the zone. */
static GBytes *
copy_signature_message (const guint8 *zone, const guint8 *copy, gsize size)
{
  GByteArray *m = g_byte_array_new ();

  g_byte_array_append (m, (const guint8 *) COPY_SIGNATURE_CONTEXT, strlen (COPY_SIGNATURE_CONTEXT));
  g_byte_array_append (m, zone, TKE_VIRTUAL_CARD_ZONE_SIZE);
  g_byte_array_append (m, copy, (guint) size);
  return g_byte_array_free_to_bytes (m);
}

/* Appends to the copy in R this card's proof that it is a card of the zone:
 * its transport point and the CA's certificate of it, then the sealed
 * secret, then this card's signature over all of it (card-protocol.md
 * §4.11). */
static gboolean
append_sender_proof (TkeVirtualCard *self, GByteArray *r, GBytes *sealed)
{
  g_autoptr (GBytes) point = tke_virtual_card_get_transport_point (self);
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GBytes) signature = NULL;
  gsize certificate_size = g_bytes_get_size (self->certificate);
  gsize sealed_size = g_bytes_get_size (sealed);
  guint8 n[2];

  if (point == NULL || certificate_size > 255 || sealed_size > 0xFFFF)
    return FALSE;
  g_byte_array_append (r, g_bytes_get_data (point, NULL), TKE_VIRTUAL_CARD_POINT_SIZE);
  n[0] = (guint8) certificate_size;
  g_byte_array_append (r, n, 1);
  g_byte_array_append (r, g_bytes_get_data (self->certificate, NULL), (guint) certificate_size);
  n[0] = (guint8) (sealed_size >> 8);
  n[1] = (guint8) sealed_size;
  g_byte_array_append (r, n, 2);
  g_byte_array_append (r, g_bytes_get_data (sealed, NULL), (guint) sealed_size);
  message = copy_signature_message (self->zone, r->data, r->len);
  signature = tke_crypto_sign (self->transport_key, g_bytes_get_data (message, NULL),
                               g_bytes_get_size (message), NULL);
  if (signature == NULL)
    return FALSE;
  g_byte_array_append (r, g_bytes_get_data (signature, NULL), (guint) g_bytes_get_size (signature));
  return TRUE;
}

#define CERT_FIXED                                                                                 \
  (TKE_VIRTUAL_CARD_SERIAL_SIZE + TKE_VIRTUAL_CARD_ZONE_SIZE + TKE_VIRTUAL_CARD_POINT_SIZE)

GBytes *
_tke_virtual_card_cmd_export_for_copy (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  const guint8 *target;
  const guint8 *zone;
  const guint8 *point;
  g_autoptr (EVP_PKEY) target_key = NULL;
  g_autoptr (GBytes) message = NULL;
  g_autoptr (TkeSecret) secret = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (GByteArray) r = NULL;
  const char *description = "";
  guint8 description_size;

  /* Only now may the data be indexed: without data, c->data is NULL. */
  if (c->size < CERT_FIXED + 8)
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  if (self->certificate == NULL || self->transport_key == NULL)
    return _tke_virtual_card_sw (SW_CONDITIONS); /* not in a zone: cannot prove itself */
  target = c->data;
  zone = c->data + TKE_VIRTUAL_CARD_SERIAL_SIZE;
  point = zone + TKE_VIRTUAL_CARD_ZONE_SIZE;
  if (memcmp (zone, self->zone, sizeof self->zone) != 0)
    return _tke_virtual_card_sw (SW_OTHER_ZONE);
  message = cert_message (zone, target, point);
  if (memcmp (target, self->serial, sizeof self->serial) == 0 ||
      (target_key = _tke_virtual_card_point_key (point, TKE_VIRTUAL_CARD_POINT_SIZE)) == NULL ||
      !verify_with_point (self->zone_point, message, c->data + CERT_FIXED, c->size - CERT_FIXED))
    return _tke_virtual_card_sw (SW_BAD_DATA);

  if (c->p1 == 0)
    {
      if (self->signature_key == NULL)
        return _tke_virtual_card_sw (SW_NO_KEY);
      secret = tke_crypto_ec_private_key_to_pem (self->signature_key, NULL);
    }
  else
    {
      TkeVirtualCardPart *part = _tke_virtual_card_find_part (self, c->p1, NULL);

      if (part == NULL)
        return _tke_virtual_card_sw (SW_NOT_FOUND);
      secret = tke_secret_ref (part->value);
      description = part->description;
    }
  description_size = (guint8) strlen (description);
  aad = copy_aad (self->serial, target, c->p1, (const guint8 *) description, description_size);
  if (secret == NULL || (sealed = tke_crypto_seal (target_key, g_bytes_get_data (aad, NULL),
                                                   g_bytes_get_size (aad), secret, NULL)) == NULL)
    return _tke_virtual_card_sw (SW_INTERNAL);
  r = g_byte_array_new ();
  g_byte_array_append (r, self->serial, sizeof self->serial);
  g_byte_array_append (r, &c->p1, 1);
  g_byte_array_append (r, &description_size, 1);
  g_byte_array_append (r, (const guint8 *) description, description_size);
  if (!append_sender_proof (self, r, sealed))
    return _tke_virtual_card_sw (SW_INTERNAL);
  return _tke_virtual_card_respond (self, r->data, r->len);
}

static GBytes *
import_item (
    TkeVirtualCard *self, guint8 item, TkeSecret *secret, const guint8 *description, gsize size)
{
  if (item == 0)
    {
      EVP_PKEY *key;

      if (self->signature_key != NULL)
        return _tke_virtual_card_sw (SW_CONDITIONS);
      if ((key = tke_crypto_ec_private_key_from_pem (secret, NULL)) == NULL)
        return _tke_virtual_card_sw (SW_BAD_DATA);
      self->signature_key = key;
      if (_tke_virtual_card_persist (self))
        return _tke_virtual_card_sw (SW_OK);
      g_clear_pointer (&self->signature_key, EVP_PKEY_free);
      return _tke_virtual_card_sw (SW_INTERNAL);
    }
  if (item > TKE_VIRTUAL_CARD_MAX_PARTS || tke_secret_get_size (secret) != TKE_MASTER_KEY_SIZE ||
      !_tke_virtual_card_valid_description (description, size))
    return _tke_virtual_card_sw (SW_BAD_DATA);
  if (_tke_virtual_card_find_part (self, item, NULL) != NULL)
    return _tke_virtual_card_sw (SW_CONDITIONS);
  if (!_tke_virtual_card_add_part (self, item, tke_secret_ref (secret), description, size))
    return _tke_virtual_card_sw (SW_INTERNAL);
  return _tke_virtual_card_sw (SW_OK);
}

/* IMPORT COPY's data: the sending card's EXPORT FOR COPY answer. */
typedef struct
{
  const guint8 *sender; /* serial, 8 */
  guint8 item;
  const guint8 *description;
  gsize description_size;
  const guint8 *point; /* the sender's transport point, 133 */
  const guint8 *certificate;
  gsize certificate_size;
  const guint8 *sealed;
  gsize sealed_size;
  gsize signed_size; /* everything before the signature */
  const guint8 *signature;
  gsize signature_size;
} Copy;

/* Takes SIZE bytes at *AT of DATA (LENGTH bytes); NULL if there are fewer. */
static const guint8 *
take (const guint8 *data, gsize length, gsize *at, gsize size)
{
  const guint8 *p;

  if (length - *at < size)
    return NULL;
  p = data + *at;
  *at += size;
  return p;
}

static gboolean
parse_copy (const guint8 *data, gsize size, Copy *copy)
{
  const guint8 *n;
  gsize at = 0;

  if ((copy->sender = take (data, size, &at, TKE_VIRTUAL_CARD_SERIAL_SIZE)) == NULL ||
      (n = take (data, size, &at, 2)) == NULL)
    return FALSE;
  copy->item = n[0];
  copy->description_size = n[1];
  if ((copy->description = take (data, size, &at, copy->description_size)) == NULL ||
      (copy->point = take (data, size, &at, TKE_VIRTUAL_CARD_POINT_SIZE)) == NULL ||
      (n = take (data, size, &at, 1)) == NULL)
    return FALSE;
  copy->certificate_size = n[0];
  if ((copy->certificate = take (data, size, &at, copy->certificate_size)) == NULL ||
      (n = take (data, size, &at, 2)) == NULL)
    return FALSE;
  copy->sealed_size = (gsize) n[0] << 8 | n[1];
  if ((copy->sealed = take (data, size, &at, copy->sealed_size)) == NULL || at == size)
    return FALSE;
  copy->signed_size = at;
  copy->signature = data + at;
  copy->signature_size = size - at;
  return TRUE;
}

/* IMPORT COPY accepts a copy only from a card of this zone: one whose
 * transport key the zone's CA certified (the certificate verifies with the
 * zone key this card holds) and which signed the copy with that key.  The
 * host can seal anything to this card's (public) transport key, but it
 * cannot make that proof. */
GBytes *
_tke_virtual_card_cmd_import_copy (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) message = NULL;
  g_autoptr (TkeSecret) secret = NULL;
  g_autoptr (EVP_PKEY) sender_key = NULL;
  Copy copy;

  if (!parse_copy (c->data, c->size, &copy))
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  if (memcmp (copy.sender, self->serial, sizeof self->serial) == 0)
    return _tke_virtual_card_sw (SW_BAD_DATA);
  message = cert_message (self->zone, copy.sender, copy.point);
  if (!verify_with_point (self->zone_point, message, copy.certificate, copy.certificate_size))
    return _tke_virtual_card_sw (SW_OTHER_ZONE);
  g_clear_pointer (&message, g_bytes_unref);
  message = copy_signature_message (self->zone, c->data, copy.signed_size);
  if ((sender_key = _tke_virtual_card_point_key (copy.point, TKE_VIRTUAL_CARD_POINT_SIZE)) ==
          NULL ||
      !tke_crypto_verify (sender_key, g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                          copy.signature, copy.signature_size, NULL))
    return _tke_virtual_card_sw (SW_BAD_DATA);
  aad = copy_aad (copy.sender, self->serial, copy.item, copy.description, copy.description_size);
  secret = tke_crypto_open (self->transport_key, g_bytes_get_data (aad, NULL),
                            g_bytes_get_size (aad), copy.sealed, copy.sealed_size, NULL);
  if (secret == NULL)
    return _tke_virtual_card_sw (SW_BAD_DATA);
  return import_item (self, copy.item, secret, copy.description, copy.description_size);
}

GBytes *
_tke_virtual_card_cmd_certify_card (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GByteArray) r = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  guint8 description_size = (guint8) strlen (self->zone_description);

  if (!ca_authorized (self))
    return _tke_virtual_card_sw (SW_SECURITY);
  if (c->size != TKE_VIRTUAL_CARD_SERIAL_SIZE + TKE_VIRTUAL_CARD_POINT_SIZE)
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  if ((key = _tke_virtual_card_point_key (c->data + TKE_VIRTUAL_CARD_SERIAL_SIZE,
                                          TKE_VIRTUAL_CARD_POINT_SIZE)) == NULL)
    return _tke_virtual_card_sw (SW_BAD_DATA);
  message = cert_message (self->zone, c->data, c->data + TKE_VIRTUAL_CARD_SERIAL_SIZE);
  signature = tke_crypto_sign (self->zone_key, g_bytes_get_data (message, NULL),
                               g_bytes_get_size (message), NULL);
  if (signature == NULL)
    return _tke_virtual_card_sw (SW_INTERNAL);
  r = g_byte_array_new ();
  g_byte_array_append (r, self->zone, sizeof self->zone);
  g_byte_array_append (r, g_bytes_get_data (self->zone_point, NULL), TKE_VIRTUAL_CARD_POINT_SIZE);
  g_byte_array_append (r, &description_size, 1);
  g_byte_array_append (r, (const guint8 *) self->zone_description, description_size);
  g_byte_array_append (r, g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
  return _tke_virtual_card_respond (self, r->data, r->len);
}
