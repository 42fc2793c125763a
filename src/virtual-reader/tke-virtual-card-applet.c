/* tke-virtual-card-applet.c: the APDU handlers of the virtual card applet
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Parses a short APDU, collects command chains, answers with GET RESPONSE
 * beyond 256 bytes, and dispatches to the instruction's handler.
 */

#include "config.h"

#include "tke-virtual-card-private.h"

#include <string.h>

#include <glib/gi18n.h>
#include <openssl/crypto.h>

#define MAX_CHAIN 4096
#define NEW_PIN_WINDOW_US (20 * G_USEC_PER_SEC)

GBytes *
_tke_virtual_card_sw (guint16 sw)
{
  guint8 r[2] = { sw >> 8, sw & 0xFF };

  return g_bytes_new (r, 2);
}

/* Answers @data, the part beyond 256 bytes kept for GET RESPONSE. */
GBytes *
_tke_virtual_card_respond (TkeVirtualCard *self, const guint8 *data, gsize size)
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

GBytes *
_tke_virtual_card_respond_bytes (TkeVirtualCard *self, GBytes *data)
{
  if (data == NULL)
    return _tke_virtual_card_sw (SW_INTERNAL);
  return _tke_virtual_card_respond (self, g_bytes_get_data (data, NULL), g_bytes_get_size (data));
}

static GBytes *
get_response (TkeVirtualCard *self)
{
  g_autoptr (GBytes) pending = g_steal_pointer (&self->pending);
  const guint8 *data;
  gsize size;

  if (pending == NULL)
    return _tke_virtual_card_sw (SW_CONDITIONS);
  data = g_bytes_get_data (pending, &size);
  return _tke_virtual_card_respond (self, data + self->pending_offset, size - self->pending_offset);
}

static int
pin_slot (TkeVirtualCard *self, guint8 p2)
{
  if (p2 == 0x81)
    return 0;
  if (p2 == 0x82 &&
      (self->type == TKE_VIRTUAL_CARD_TYPE_CA || self->type == TKE_VIRTUAL_CARD_TYPE_BLANK))
    return 1;
  return -1;
}

static gboolean
is_pin (const TkeVirtualCardCommand *c)
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
gboolean
_tke_virtual_card_persist (TkeVirtualCard *self)
{
  g_autoptr (GError) error = NULL;

  if (_tke_virtual_card_save (self, &error))
    return TRUE;
  g_warning ("%s", error->message);
  return FALSE;
}

gboolean
_tke_virtual_card_persist_staged (TkeVirtualCard *self, TkeVirtualCardStaged *staged)
{
  g_autoptr (GError) error = NULL;

  if (_tke_virtual_card_commit (self, staged, &error))
    return TRUE;
  g_warning ("%s", error->message);
  return FALSE;
}

static GBytes *
cmd_verify (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  int slot = pin_slot (self, c->p2);
  guint8 before;

  if (c->p1 != 0 || slot < 0)
    return _tke_virtual_card_sw (SW_BAD_P1P2);
  /* A blank card's PIN that is not set yet: nothing to verify. */
  if (self->pin[slot] == NULL)
    return _tke_virtual_card_sw (SW_CONDITIONS);
  if (c->size == 0)
    {
      if (self->verified[slot])
        return _tke_virtual_card_sw (SW_OK);
      return _tke_virtual_card_sw (self->tries[slot] == 0 ? SW_BLOCKED
                                                          : 0x63C0 | self->tries[slot]);
    }
  if (!is_pin (c))
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  if (self->tries[slot] == 0)
    return _tke_virtual_card_sw (SW_BLOCKED);

  before = self->tries[slot];
  if (CRYPTO_memcmp (c->data, tke_secret_get_data (self->pin[slot]), TKE_VIRTUAL_CARD_PIN_SIZE) ==
      0)
    {
      self->tries[slot] = _tke_virtual_card_max_tries (self);
      if (before != self->tries[slot] && !_tke_virtual_card_persist (self))
        {
          self->tries[slot] = before;
          return _tke_virtual_card_sw (SW_INTERNAL);
        }
      self->verified[slot] = TRUE;
      self->pin_fresh = slot == 0;
      return _tke_virtual_card_sw (SW_OK);
    }
  self->verified[slot] = FALSE;
  self->tries[slot]--;
  if (!_tke_virtual_card_persist (self))
    {
      self->tries[slot] = before;
      return _tke_virtual_card_sw (SW_INTERNAL);
    }
  return _tke_virtual_card_sw (self->tries[slot] == 0 ? SW_BLOCKED : 0x63C0 | self->tries[slot]);
}

static GBytes *
cmd_change_pin (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  int slot = pin_slot (self, c->p2);
  g_autoptr (TkeSecret) first = NULL;
  g_autoptr (TkeSecret) old_pin = NULL;
  guint8 old_tries;

  if ((c->p1 != 1 && c->p1 != 2) || slot < 0)
    return _tke_virtual_card_sw (SW_BAD_P1P2);
  if (!is_pin (c))
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  /* A blank card takes its first PIN without one (§4.13). */
  if (!self->verified[slot] && !(slot == 0 && self->unblock_grant) &&
      !(self->type == TKE_VIRTUAL_CARD_TYPE_BLANK && self->pin[slot] == NULL))
    return _tke_virtual_card_sw (SW_SECURITY);
  if (c->p1 == 1)
    {
      g_clear_pointer (&self->new_pin, tke_secret_unref);
      self->new_pin = tke_secret_new_from_data (c->data, c->size);
      self->new_pin_p2 = c->p2;
      self->new_pin_time = g_get_monotonic_time ();
      return _tke_virtual_card_sw (SW_OK);
    }

  first = g_steal_pointer (&self->new_pin);
  if (first == NULL || self->new_pin_p2 != c->p2 ||
      g_get_monotonic_time () - self->new_pin_time > NEW_PIN_WINDOW_US)
    return _tke_virtual_card_sw (SW_CONDITIONS);
  if (CRYPTO_memcmp (c->data, tke_secret_get_data (first), TKE_VIRTUAL_CARD_PIN_SIZE) != 0)
    return _tke_virtual_card_sw (SW_BAD_DATA);

  old_pin = g_steal_pointer (&self->pin[slot]);
  old_tries = self->tries[slot];
  self->pin[slot] = g_steal_pointer (&first);
  self->tries[slot] = _tke_virtual_card_max_tries (self);
  if (!_tke_virtual_card_persist (self))
    {
      g_clear_pointer (&self->pin[slot], tke_secret_unref);
      self->pin[slot] = g_steal_pointer (&old_pin);
      self->tries[slot] = old_tries;
      return _tke_virtual_card_sw (SW_INTERNAL);
    }
  self->verified[slot] = TRUE;
  self->unblock_grant = FALSE;
  return _tke_virtual_card_sw (SW_OK);
}

static GBytes *
cmd_get_challenge (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  if (!tke_crypto_random_bytes (self->challenge, sizeof self->challenge, NULL))
    return _tke_virtual_card_sw (SW_INTERNAL);
  self->have_challenge = TRUE;
  return _tke_virtual_card_respond (self, self->challenge, sizeof self->challenge);
}

static void
append_tlv (GByteArray *r, guint8 tag, const void *value, gsize size)
{
  guint8 header[2] = { tag, (guint8) size };

  g_byte_array_append (r, header, 2);
  g_byte_array_append (r, value, (guint) size);
}

static GBytes *
cmd_card_info (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_autoptr (GByteArray) r = g_byte_array_new ();
  g_autoptr (GByteArray) indexes = g_byte_array_new ();
  gboolean ca = self->type == TKE_VIRTUAL_CARD_TYPE_CA;
  guint8 max = _tke_virtual_card_max_tries (self);
  guint8 max_parts = ca ? 0 : TKE_VIRTUAL_CARD_MAX_PARTS;
  guint8 flags = (self->signature_key != NULL ? 1 : 0) | (self->verified[0] ? 2 : 0) |
                 (self->verified[1] ? 4 : 0);

  for (guint i = 0; i < self->parts->len; i++)
    g_byte_array_append (indexes,
                         &((TkeVirtualCardPart *) g_ptr_array_index (self->parts, i))->index, 1);
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
  if (self->unit_root != NULL)
    {
      guint8 fingerprint[TKE_SKI_SIZE];

      tke_crypto_sha256 (g_bytes_get_data (self->unit_root, NULL),
                         g_bytes_get_size (self->unit_root), fingerprint);
      append_tlv (r, 0x0B, fingerprint, sizeof fingerprint);
    }
  return _tke_virtual_card_respond (self, r->data, r->len);
}

static GBytes *
cmd_generate_signature_key (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (EVP_PKEY) old = NULL;
  g_autoptr (GBytes) point = NULL;

  if (c->p1 > 1 || c->p2 != 0)
    return _tke_virtual_card_sw (SW_BAD_P1P2);
  if (self->signature_key != NULL && c->p1 == 0)
    return _tke_virtual_card_sw (SW_CONDITIONS);
  if ((key = tke_crypto_ec_generate (NULL)) == NULL ||
      (point = tke_crypto_ec_public_point (key, NULL)) == NULL)
    return _tke_virtual_card_sw (SW_INTERNAL);
  old = g_steal_pointer (&self->signature_key);
  self->signature_key = g_steal_pointer (&key);
  if (!_tke_virtual_card_persist (self))
    {
      g_clear_pointer (&self->signature_key, EVP_PKEY_free);
      self->signature_key = g_steal_pointer (&old);
      return _tke_virtual_card_sw (SW_INTERNAL);
    }
  return _tke_virtual_card_respond_bytes (self, point);
}

static GBytes *
cmd_get_public_key (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_autoptr (GBytes) point = NULL;
  gboolean ca = self->type == TKE_VIRTUAL_CARD_TYPE_CA;

  if (c->p1 == 0 && ca)
    return _tke_virtual_card_respond_bytes (self, self->zone_point);
  if (c->p1 == 0)
    {
      if (self->signature_key == NULL)
        return _tke_virtual_card_sw (SW_NO_KEY);
      point = tke_crypto_ec_public_point (self->signature_key, NULL);
    }
  else if (c->p1 == 2 && !ca)
    point = tke_virtual_card_get_transport_point (self);
  else
    return _tke_virtual_card_sw (SW_BAD_P1P2);
  /* A blank card made without its transport key has none to give. */
  if (point == NULL)
    return _tke_virtual_card_sw (SW_NO_KEY);
  return _tke_virtual_card_respond_bytes (self, point);
}

static GBytes *
cmd_sign (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_autoptr (GBytes) signature = NULL;

  if (c->p1 != 0x9E || c->p2 != 0x9A)
    return _tke_virtual_card_sw (SW_BAD_P1P2);
  if (!self->verified[0])
    return _tke_virtual_card_sw (SW_SECURITY);
  if (self->signature_key == NULL)
    return _tke_virtual_card_sw (SW_NO_KEY);
  if (c->size == 0)
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  signature = tke_crypto_sign (self->signature_key, c->data, c->size, NULL);
  return _tke_virtual_card_respond_bytes (self, signature);
}

TkeVirtualCardPart *
_tke_virtual_card_find_part (TkeVirtualCard *self, guint8 index, guint *position)
{
  for (guint i = 0; i < self->parts->len; i++)
    {
      TkeVirtualCardPart *part = g_ptr_array_index (self->parts, i);

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
  const TkeVirtualCardPart *pa = *(const TkeVirtualCardPart *const *) a;
  const TkeVirtualCardPart *pb = *(const TkeVirtualCardPart *const *) b;

  return (gint) pa->index - (gint) pb->index;
}

/* Adds a part (taking @value) and writes the image; FALSE leaves the card as it was. */
gboolean
_tke_virtual_card_add_part (
    TkeVirtualCard *self, guint8 index, TkeSecret *value, const guint8 *description, gsize size)
{
  TkeVirtualCardPart *part = g_new0 (TkeVirtualCardPart, 1);
  guint position = 0;

  part->index = index;
  part->value = value;
  part->description = g_strndup ((const char *) description, size);
  tke_crypto_verification_pattern (value, part->vp);
  g_ptr_array_add (self->parts, part);
  g_ptr_array_sort (self->parts, compare_parts);
  if (_tke_virtual_card_persist (self))
    return TRUE;
  _tke_virtual_card_find_part (self, index, &position);
  g_ptr_array_remove_index (self->parts, position);
  return FALSE;
}

static GBytes *
cmd_generate_key_part (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  TkeSecret *value;
  TkeVirtualCardPart *part;
  guint8 index = 0;
  guint8 r[1 + TKE_VP_SIZE];

  if (!_tke_virtual_card_valid_description (c->data, c->size))
    return _tke_virtual_card_sw (SW_BAD_DATA);
  for (guint8 i = 1; i <= TKE_VIRTUAL_CARD_MAX_PARTS && index == 0; i++)
    if (_tke_virtual_card_find_part (self, i, NULL) == NULL)
      index = i;
  if (index == 0)
    return _tke_virtual_card_sw (SW_FULL);
  if ((value = tke_secret_new_random (TKE_MASTER_KEY_SIZE, NULL)) == NULL)
    return _tke_virtual_card_sw (SW_INTERNAL);
  if (!_tke_virtual_card_add_part (self, index, value, c->data, c->size))
    return _tke_virtual_card_sw (SW_INTERNAL);
  part = _tke_virtual_card_find_part (self, index, NULL);
  r[0] = index;
  memcpy (r + 1, part->vp, TKE_VP_SIZE);
  return _tke_virtual_card_respond (self, r, sizeof r);
}

static GBytes *
cmd_key_part_info (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_autoptr (GByteArray) r = g_byte_array_new ();
  TkeVirtualCardPart *part;

  if (c->p1 == 0)
    {
      for (guint i = 0; i < self->parts->len; i++)
        g_byte_array_append (r, &((TkeVirtualCardPart *) g_ptr_array_index (self->parts, i))->index,
                             1);
      return _tke_virtual_card_respond (self, r->data, r->len);
    }
  if ((part = _tke_virtual_card_find_part (self, c->p1, NULL)) == NULL)
    return _tke_virtual_card_sw (SW_NOT_FOUND);
  g_byte_array_append (r, &part->index, 1);
  g_byte_array_append (r, part->vp, TKE_VP_SIZE);
  g_byte_array_append (r, (const guint8 *) part->description, strlen (part->description));
  return _tke_virtual_card_respond (self, r->data, r->len);
}

static GBytes *
cmd_delete_key_part (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  TkeVirtualCardPart *part;
  guint position = 0;

  if ((part = _tke_virtual_card_find_part (self, c->p1, &position)) == NULL)
    return _tke_virtual_card_sw (SW_NOT_FOUND);
  g_ptr_array_steal_index (self->parts, position);
  if (!_tke_virtual_card_persist (self))
    {
      g_ptr_array_insert (self->parts, (gint) position, part);
      return _tke_virtual_card_sw (SW_INTERNAL);
    }
  _tke_virtual_card_part_free (part);
  return _tke_virtual_card_sw (SW_OK);
}

EVP_PKEY *
_tke_virtual_card_point_key (const guint8 *data, gsize size)
{
  if (size != TKE_VIRTUAL_CARD_POINT_SIZE || data[0] != 0x04)
    return NULL;
  return tke_crypto_ec_public_key_from_point (data, size, NULL);
}

static GBytes *
cmd_select (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  static const guint8 version[] = { 0x01, 0x00 };

  if (c->p1 != 0x04)
    return _tke_virtual_card_sw (SW_BAD_P1P2);
  tke_virtual_card_reset (self);
  if (c->size != sizeof tke_virtual_card_aid ||
      memcmp (c->data, tke_virtual_card_aid, sizeof tke_virtual_card_aid) != 0)
    return _tke_virtual_card_sw (SW_NOT_FOUND);
  self->selected = TRUE;
  return _tke_virtual_card_respond (self, version, sizeof version);
}

typedef enum
{
  NEEDS_NOTHING = 0,
  NEEDS_PIN = 1 << 0,
  NEEDS_EP11 = 1 << 1,
  NEEDS_CA = 1 << 2,
  NEEDS_BLANK = 1 << 3,
  /* The PIN verified by the command just before, and used up: the key
   * files' commands, so that a PIN typed for something else lets a host
   * neither take a key out of the card nor plant one of its own. */
  NEEDS_FRESH_PIN = 1 << 4,
} Needs;

typedef struct
{
  guint8 ins;
  Needs needs;
  GBytes *(*run) (TkeVirtualCard *self, const TkeVirtualCardCommand *c);
} Instruction;

static const Instruction instructions[] = {
  { 0x20, NEEDS_NOTHING, cmd_verify },
  { 0x24, NEEDS_NOTHING, cmd_change_pin },
  { 0x84, NEEDS_NOTHING, cmd_get_challenge },
  { 0x2C, NEEDS_NOTHING, _tke_virtual_card_cmd_reset_retry_counter },
  { 0x2A, NEEDS_EP11, cmd_sign },
  { 0xCA, NEEDS_NOTHING, cmd_card_info },
  { 0x2E, NEEDS_NOTHING, _tke_virtual_card_cmd_authorize_unblock },
  { 0x46, NEEDS_EP11 | NEEDS_PIN, cmd_generate_signature_key },
  { 0x48, NEEDS_NOTHING, cmd_get_public_key },
  { 0x50, NEEDS_EP11 | NEEDS_PIN, cmd_generate_key_part },
  { 0x52, NEEDS_EP11, cmd_key_part_info },
  { 0x54, NEEDS_EP11 | NEEDS_PIN, _tke_virtual_card_cmd_export_key_part },
  { 0x56, NEEDS_EP11 | NEEDS_PIN, cmd_delete_key_part },
  { 0x5A, NEEDS_EP11 | NEEDS_PIN | NEEDS_FRESH_PIN, _tke_virtual_card_cmd_import_key_part_file },
  { 0x5C, NEEDS_EP11 | NEEDS_PIN | NEEDS_FRESH_PIN, _tke_virtual_card_cmd_export_key_part_file },
  { 0x4A, NEEDS_EP11 | NEEDS_PIN | NEEDS_FRESH_PIN,
    _tke_virtual_card_cmd_import_signature_key_file },
  { 0x4C, NEEDS_EP11 | NEEDS_PIN | NEEDS_FRESH_PIN,
    _tke_virtual_card_cmd_export_signature_key_file },
  { 0x62, NEEDS_EP11, _tke_virtual_card_cmd_get_certificate },
  { 0x64, NEEDS_EP11 | NEEDS_PIN, _tke_virtual_card_cmd_export_for_copy },
  { 0x66, NEEDS_EP11 | NEEDS_PIN, _tke_virtual_card_cmd_import_copy },
  { 0x68, NEEDS_CA, _tke_virtual_card_cmd_certify_card },
  { 0x10, NEEDS_BLANK, _tke_virtual_card_cmd_initialize_ca },
  { 0x12, NEEDS_BLANK, _tke_virtual_card_cmd_enrolment_request },
  { 0x14, NEEDS_BLANK, _tke_virtual_card_cmd_enroll },
  { 0x16, NEEDS_BLANK, _tke_virtual_card_cmd_personalize },
  { 0x70, NEEDS_BLANK, _tke_virtual_card_cmd_backup_request },
  { 0x72, NEEDS_CA, _tke_virtual_card_cmd_export_ca_backup },
  { 0x74, NEEDS_BLANK, _tke_virtual_card_cmd_install_ca_backup },
};

static GBytes *
dispatch (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  for (gsize i = 0; i < G_N_ELEMENTS (instructions); i++)
    {
      const Instruction *in = &instructions[i];

      if (in->ins != c->ins)
        continue;
      if (((in->needs & NEEDS_EP11) && self->type != TKE_VIRTUAL_CARD_TYPE_EP11) ||
          ((in->needs & NEEDS_CA) && self->type != TKE_VIRTUAL_CARD_TYPE_CA) ||
          ((in->needs & NEEDS_BLANK) && self->type != TKE_VIRTUAL_CARD_TYPE_BLANK))
        return _tke_virtual_card_sw (SW_NOT_ALLOWED);
      if ((in->needs & NEEDS_PIN) && !self->verified[0])
        return _tke_virtual_card_sw (SW_SECURITY);
      if ((in->needs & NEEDS_FRESH_PIN) && !self->pin_fresh_now)
        return _tke_virtual_card_sw (SW_SECURITY);
      return in->run (self, c);
    }
  return _tke_virtual_card_sw (SW_BAD_INS);
}

/* Parses a short APDU: header, optional Lc and data, optional Le. */
static gboolean
parse_apdu (const guint8 *apdu, gsize size, TkeVirtualCardCommand *c)
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

/* Forgets a command chain, wiped first: it may carry a file's password. */
void
_tke_virtual_card_drop_chain (TkeVirtualCard *self)
{
  if (self->chain != NULL)
    OPENSSL_cleanse (self->chain->data, self->chain->len);
  g_clear_pointer (&self->chain, g_byte_array_unref);
}

/* TkeVirtualCardCommand chaining: collects the pieces; returns NULL when @c is complete. */
static GBytes *
chain (TkeVirtualCard *self, TkeVirtualCardCommand *c, gboolean more)
{
  guint8 header[3] = { c->ins, c->p1, c->p2 };

  if (self->chain != NULL && memcmp (header, self->chain_header, 3) != 0)
    {
      _tke_virtual_card_drop_chain (self);
      return _tke_virtual_card_sw (SW_CHAIN);
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
      _tke_virtual_card_drop_chain (self);
      return _tke_virtual_card_sw (SW_WRONG_LENGTH);
    }
  g_byte_array_append (self->chain, c->data, (guint) c->size);
  if (more)
    return _tke_virtual_card_sw (SW_OK);
  c->data = self->chain->data;
  c->size = self->chain->len;
  return NULL;
}

GBytes *
tke_virtual_card_transmit (TkeVirtualCard *self, const guint8 *apdu, gsize size)
{
  TkeVirtualCardCommand c;
  GBytes *r;
  gboolean more;

  g_return_val_if_fail (TKE_IS_VIRTUAL_CARD (self), NULL);

  if (size < 4 || !parse_apdu (apdu, size, &c))
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  if ((c.cla & 0x0C) != 0)
    return _tke_virtual_card_sw (SW_SM_UNSUPPORTED);
  more = (c.cla & 0x10) != 0;
  if ((c.cla & ~0x10) != 0x00 && (c.cla & ~0x10) != 0x80)
    return _tke_virtual_card_sw (SW_BAD_CLA);
  if (c.ins == 0xC0 && !more)
    return get_response (self);
  g_clear_pointer (&self->pending, g_bytes_unref);
  if (c.ins == 0xA4 && !more)
    {
      self->pin_fresh = FALSE;
      return cmd_select (self, &c);
    }
  if (!self->selected)
    return _tke_virtual_card_sw (SW_CONDITIONS);
  if ((r = chain (self, &c, more)) != NULL)
    return r;
  /* Whether the PIN was verified by the command just before
   * (NEEDS_FRESH_PIN). */
  self->pin_fresh_now = self->pin_fresh;
  self->pin_fresh = FALSE;
  r = dispatch (self, &c);
  self->pin_fresh_now = FALSE;
  _tke_virtual_card_drop_chain (self);
  return r;
}
