/* test-virtual-readers-export.c: EXPORT KEY PART only to a genuine unit, through pcscd
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Part of test-virtual-readers (card-protocol.md §4.9.1): the host asks the
 * key part card in reader 2 (holding the root of the test's unit "1") to
 * seal its part to keys of the host's choosing.  Each is refused and no
 * sealed byte leaves the card; only a genuine importer key is sealed to,
 * and then only for the unit its certificate names.
 */

#define _GNU_SOURCE /* memmem */

#include <string.h>

#include "virtual-readers-common.h"

#define EXPORT_P2 0x01
#define PART_INDEX 1
#define AAD_1_OF_3 "tke-keypart-v1|1|new|1|3"

static void
append_block (GByteArray *out, GBytes *block)
{
  gsize size = g_bytes_get_size (block);
  guint8 length[2] = { (guint8) (size >> 8), (guint8) size };

  g_byte_array_append (out, length, 2);
  g_byte_array_append (out, g_bytes_get_data (block, NULL), (guint) size);
}

/* i ‖ n ‖ len ‖ hsm_id ‖ count ‖ (len ‖ unit cert)… ‖ len ‖ importer cert */
static GBytes *
request (guint8 i, guint8 n, const char *hsm_id, GPtrArray *chain, GBytes *importer_certificate)
{
  GByteArray *out = g_byte_array_new ();
  guint8 head[3] = { i, n, (guint8) strlen (hsm_id) };
  guint8 count = (guint8) chain->len;

  g_byte_array_append (out, head, 3);
  g_byte_array_append (out, (const guint8 *) hsm_id, (guint) strlen (hsm_id));
  g_byte_array_append (out, &count, 1);
  for (guint k = 0; k < chain->len; k++)
    append_block (out, chain->pdata[k]);
  append_block (out, importer_certificate);
  return g_byte_array_free_to_bytes (out);
}

/* The card's answer to EXPORT KEY PART of part 1 with REQ; SW in *SW. */
static GBytes *
export_part (Session *s, guint8 p2, GBytes *req, guint *sw)
{
  return command (s, 0x80, 0x54, PART_INDEX, p2, g_bytes_get_data (req, NULL),
                  g_bytes_get_size (req), sw);
}

static void
assert_refused (Session *s, GBytes *req, guint expected)
{
  guint sw = 0;
  g_autoptr (GBytes) answer = export_part (s, EXPORT_P2, req, &sw);

  g_assert_cmphex (sw, ==, expected);
  g_assert_cmpuint (g_bytes_get_size (answer), ==, 0); /* nothing sealed leaves the card */
}

/* A self-made "unit": its certificate is signed by its own key. */
static CardTestUnit *
self_made_unit (void)
{
  g_autoptr (GError) error = NULL;
  CardTestUnit *unit = card_test_unit_new (NULL, "1");
  g_autoptr (GBytes) point = tke_crypto_ec_public_point (unit->device, &error);
  guint8 ski[TKE_SKI_SIZE];
  g_autoptr (GBytes) own_ski = NULL;
  g_autoptr (GBytes) body = NULL;

  tke_crypto_sha256 (g_bytes_get_data (point, NULL), g_bytes_get_size (point), ski);
  own_ski = g_bytes_new (ski, sizeof ski);
  body = tke_unit_certificate_build_body ("card-test-instance", "1", point, own_ski, &error);
  g_assert_no_error (error);
  g_ptr_array_set_size (unit->chain, 0);
  g_ptr_array_add (unit->chain, card_test_sign_certificate (unit->device, body));
  return unit;
}

/* GET CARD INFO's tag 0B: the fingerprint of the card's unit root, or NULL. */
static GBytes *
unit_root_fingerprint (Session *s)
{
  guint sw;
  g_autoptr (GBytes) info = command (s, 0x80, 0xCA, 0, 0, NULL, 0, &sw);
  gsize size;
  const guint8 *data = g_bytes_get_data (info, &size);

  g_assert_cmphex (sw, ==, 0x9000);
  for (gsize at = 0; at + 2 <= size && at + 2 + data[at + 1] <= size; at += 2 + data[at + 1])
    if (data[at] == 0x0B)
      return g_bytes_new (data + at + 2, data[at + 1]);
  return NULL;
}

static TkeSecret *
open_part (EVP_PKEY *importer, const char *aad, GBytes *sealed, GError **error)
{
  return tke_crypto_open (importer, (const guint8 *) aad, strlen (aad),
                          g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), error);
}

/* Only a genuine importer key of the unit named is sealed to, with the
 * associated data the card builds. */
static void
test_export_genuine (Scene *scene, gconstpointer user_data)
{
  Session s;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) req = request (1, 3, "1", card_unit->chain, card_unit->importer_certificate);
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (GBytes) info = NULL;
  g_autoptr (TkeSecret) part = NULL;
  g_autoptr (GBytes) fingerprint = NULL;
  guint8 vp[TKE_VP_SIZE], root_ski[TKE_SKI_SIZE];
  guint sw;

  session_open (&s, 2);
  fingerprint = unit_root_fingerprint (&s);
  tke_crypto_sha256 (g_bytes_get_data (card_unit->root_point, NULL), 133, root_ski);
  g_assert_nonnull (fingerprint);
  g_assert_cmpmem (g_bytes_get_data (fingerprint, NULL), g_bytes_get_size (fingerprint), root_ski,
                   sizeof root_ski);
  g_assert_cmphex (verify_with (&s, 2, "keys 222222"), ==, 0x9000);
  sealed = export_part (&s, EXPORT_P2, req, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  info = command (&s, 0x80, 0x52, PART_INDEX, 0, NULL, 0, &sw);
  g_assert_cmphex (sw, ==, 0x9000);

  part = open_part (card_unit->importer, AAD_1_OF_3, sealed, &error);
  g_assert_no_error (error);
  tke_crypto_verification_pattern (part, vp);
  g_assert_cmpmem (vp, sizeof vp, (const guint8 *) g_bytes_get_data (info, NULL) + 1, TKE_VP_SIZE);
  g_assert_null (memmem (g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed),
                         tke_secret_get_data (part), tke_secret_get_size (part)));
  /* Bound to unit 1 and part 1 of 3: as another part or unit it does not open. */
  g_assert_null (open_part (card_unit->importer, "tke-keypart-v1|1|new|2|3", sealed, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_clear_error (&error);
  g_assert_null (open_part (card_unit->importer, "tke-keypart-v1|2|new|1|3", sealed, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  session_close (&s);
}

static void
test_export_refused (Scene *scene, gconstpointer user_data)
{
  Session s;
  g_autoptr (GError) error = NULL;
  g_autoptr (CardTestUnit) self_made = self_made_unit ();
  g_autoptr (CardTestUnit) other_root = card_test_unit_new (NULL, "1");
  g_autoptr (CardTestUnit) unit2 = card_test_unit_new (card_unit->root, "2");
  g_autoptr (EVP_PKEY) host_key = tke_crypto_ec_generate (&error);
  g_autoptr (GBytes) host_point = tke_crypto_ec_public_point (host_key, &error);
  g_autoptr (GBytes) host_body =
      tke_importer_certificate_build_body ("card-test-instance", "1", host_point, &error);
  g_autoptr (GBytes) host_importer = card_test_sign_certificate (host_key, host_body);
  g_autoptr (GBytes) req = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (GByteArray) old_form = g_byte_array_new ();
  guint sw;

  session_open (&s, 2);
  g_assert_cmphex (verify_with (&s, 2, "keys 222222"), ==, 0x9000);

  /* (a) A host-made key: a self-signed unit certificate, or the genuine
   * unit's chain with an importer certificate the host signed. */
  req = request (1, 3, "1", self_made->chain, self_made->importer_certificate);
  assert_refused (&s, req, 0x6A80);
  g_clear_pointer (&req, g_bytes_unref);
  req = request (1, 3, "1", card_unit->chain, host_importer);
  assert_refused (&s, req, 0x6A80);
  g_clear_pointer (&req, g_bytes_unref);

  /* (b) A unit certified by another root. */
  req = request (1, 3, "1", other_root->chain, other_root->importer_certificate);
  assert_refused (&s, req, 0x6A80);
  g_clear_pointer (&req, g_bytes_unref);

  /* (c) A genuine importer key of unit 2 while the host names unit 1. */
  req = request (1, 3, "1", unit2->chain, unit2->importer_certificate);
  assert_refused (&s, req, 0x6A80);
  g_clear_pointer (&req, g_bytes_unref);
  /* Named honestly, it is sealed for unit 2 only: unit 1 cannot open it. */
  req = request (1, 3, "2", unit2->chain, unit2->importer_certificate);
  sealed = export_part (&s, EXPORT_P2, req, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  g_assert_null (open_part (card_unit->importer, AAD_1_OF_3, sealed, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_clear_error (&error);
  g_assert_null (open_part (unit2->importer, AAD_1_OF_3, sealed, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_clear_error (&error);
  g_clear_pointer (&req, g_bytes_unref);

  /* Part i of n out of range, a truncated request. */
  req = request (4, 3, "1", card_unit->chain, card_unit->importer_certificate);
  assert_refused (&s, req, 0x6A80);
  g_clear_pointer (&req, g_bytes_unref);
  req = g_bytes_new_static ("\x01\x03\x01"
                            "1",
                            4);
  assert_refused (&s, req, 0x6700);
  g_clear_pointer (&req, g_bytes_unref);

  /* (d) The old form: a host-given point and associated data. */
  g_byte_array_append (old_form, g_bytes_get_data (card_unit->importer_point, NULL), 133);
  g_byte_array_append (old_form, (const guint8 *) AAD_1_OF_3, strlen (AAD_1_OF_3));
  g_clear_pointer (&sealed, g_bytes_unref);
  sealed = command (&s, 0x80, 0x54, PART_INDEX, 0x00, old_form->data, old_form->len, &sw);
  g_assert_cmphex (sw, ==, 0x6A86);
  g_assert_cmpuint (g_bytes_get_size (sealed), ==, 0);
  session_close (&s);
}

/* A card made before cards held a unit root exports nothing. */
static void
test_export_without_unit_root (Scene *scene, gconstpointer user_data)
{
  Session s;
  g_autoptr (GBytes) req = request (1, 3, "1", card_unit->chain, card_unit->importer_certificate);
  g_autoptr (GBytes) fingerprint = NULL;

  insert (2, "noroot.card");
  session_open (&s, 2);
  fingerprint = unit_root_fingerprint (&s);
  g_assert_null (fingerprint);
  g_assert_cmphex (verify_with (&s, 2, "keys 666666"), ==, 0x9000);
  assert_refused (&s, req, 0x6A88);
  session_close (&s);
}

void
add_export_tests (void)
{
  add_scene_test ("/card/export-key-part", test_export_genuine);
  add_scene_test ("/card/export-key-part-refused", test_export_refused);
  add_scene_test ("/card/export-key-part-without-unit-root", test_export_without_unit_root);
}
