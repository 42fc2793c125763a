/* test-card-layer-sources.c: TkeCardSigner and TkeCardKeyPartSource on the virtual readers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Part of test-card-layer (see test-card-layer.c): a front end's signer and
 * key part source, with the person at the readers of card-layer-common.c.
 */

#define _GNU_SOURCE
#include <string.h>

#include "card-layer-common.h"

/* ---- TkeCardSigner ---- */

static void
test_card_signer (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "keys " ADMIN_PIN, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCardSigner) card_signer = tke_card_signer_new (NULL);
  TkeSigner *signer = TKE_SIGNER (card_signer);
  g_autoptr (GAsyncResult) r1 = NULL;
  g_autoptr (GAsyncResult) r2 = NULL;
  g_autoptr (GAsyncResult) r3 = NULL;
  g_autoptr (GBytes) point = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) signature2 = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (GBytes) message = NULL;
  guint8 ski[TKE_SKI_SIZE];
  g_autofree char *ski_hex = NULL;
  guint8 data[700];

  for (gsize i = 0; i < sizeof data; i++)
    data[i] = (guint8) (i * 13);
  message = g_bytes_new (data, sizeof data); /* chained APDUs */
  g_signal_connect (card_signer, "prompt", G_CALLBACK (on_prompt), NULL);
  tke_card_signer_set_pin_timeout (card_signer, 20);
  person_expect (1, actions);
  g_assert_null (tke_signer_get_ski (signer));

  tke_signer_sign_async (signer, message, NULL, tke_test_async_done, &r1);
  signature = tke_signer_sign_finish (signer, tke_test_await (&r1, 60), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (person.messages->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (person.messages, 0), ==,
                   "Enter the PIN of the administrator card on the PIN pad of reader 1");
  g_assert_cmpstr (tke_signer_get_name (signer), ==, "admin1.card");

  tke_signer_get_public_key_async (signer, NULL, tke_test_async_done, &r2);
  point = tke_signer_get_public_key_finish (signer, tke_test_await (&r2, 60), &error);
  g_assert_no_error (error);
  key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                             g_bytes_get_size (point), &error);
  g_assert_no_error (error);
  g_assert_true (tke_crypto_verify (key, data, sizeof data, g_bytes_get_data (signature, NULL),
                                    g_bytes_get_size (signature), &error));
  g_assert_true (tke_crypto_ski (key, ski, &error));
  ski_hex = tke_crypto_hex_encode (ski, sizeof ski);
  g_assert_cmpstr (tke_signer_get_ski (signer), ==, ski_hex);

  /* The same ceremony signs again without a second PIN entry. */
  tke_signer_sign_async (signer, message, NULL, tke_test_async_done, &r3);
  signature2 = tke_signer_sign_finish (signer, tke_test_await (&r3, 60), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (person.prompts, ==, 1);
  data[0] ^= 1;
  g_assert_false (tke_crypto_verify (key, data, sizeof data, g_bytes_get_data (signature2, NULL),
                                     g_bytes_get_size (signature2), NULL));
}

/* No card yet: the signer says what to do and waits for it. */
static void
test_card_signer_waits_for_card (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "insert admin1.card", "keys " ADMIN_PIN, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCardSigner) card_signer = tke_card_signer_new (NULL);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) message = g_bytes_new_static ("load", 4);

  swap_card (1, NULL);
  g_signal_connect (card_signer, "prompt", G_CALLBACK (on_prompt), NULL);
  person_expect (1, actions);
  tke_signer_sign_async (TKE_SIGNER (card_signer), message, NULL, tke_test_async_done, &result);
  signature =
      tke_signer_sign_finish (TKE_SIGNER (card_signer), tke_test_await (&result, 60), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (person.messages->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (person.messages, 0), ==,
                   "Insert the administrator card in reader 1 and enter its PIN on the PIN pad");
}

/* A key part card is not an administrator card. */
static void
test_card_signer_wrong_card (Scene *scene, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCardSigner) card_signer = tke_card_signer_new (TKE_READER_2_DEFAULT_PREFIX);
  g_autoptr (GAsyncResult) result = NULL;

  tke_card_signer_prepare_async (card_signer, NULL, tke_test_async_done, &result);
  g_assert_false (
      tke_card_signer_prepare_finish (card_signer, tke_test_await (&result, 60), &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "not an administrator card"));
}

/* ---- TkeCardKeyPartSource ---- */

static void
test_card_key_part_source (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "keys " PARTS_PIN, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCardKeyPartSource) card_source = tke_card_key_part_source_new (NULL, 2);
  TkeKeyPartSource *source = TKE_KEY_PART_SOURCE (card_source);
  EVP_PKEY *importer = card_unit->importer;
  g_autoptr (GBytes) importer_point = tke_unit_identity_accept_importer (
      card_unit->root_point, card_unit->chain, card_unit->importer_certificate, &error);
  g_autoptr (GBytes) aad = g_bytes_new_static ("tke-keypart-v1|1|new|2|3", 24);
  g_autoptr (GAsyncResult) r1 = NULL;
  g_autoptr (GAsyncResult) r2 = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (TkeSecret) part = NULL;
  g_autofree char *vp_hex = NULL;
  g_autofree guint8 *tampered = NULL;
  guint8 vp[TKE_VP_SIZE];
  gsize size;

  g_signal_connect (card_source, "prompt", G_CALLBACK (on_prompt), NULL);
  tke_card_key_part_source_set_pin_timeout (card_source, 20);
  person_expect (2, actions);
  g_assert_null (tke_key_part_source_get_check_value (source));
  tke_card_key_part_source_load_async (card_source, NULL, tke_test_async_done, &r1);
  g_assert_true (
      tke_card_key_part_source_load_finish (card_source, tke_test_await (&r1, 60), &error));
  g_assert_no_error (error);
  g_assert_cmpstr (tke_key_part_source_get_description (source), ==, "MK part 2");
  g_assert_true (tke_vp_is_valid (tke_key_part_source_get_check_value (source)));
  g_assert_cmpuint (person.prompts, ==, 0); /* no PIN to read the list */

  tke_key_part_source_seal_async (source, importer_point, aad, NULL, tke_test_async_done, &r2);
  sealed = tke_key_part_source_seal_finish (source, tke_test_await (&r2, 60), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (person.prompts, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (person.messages, 0), ==,
                   "Enter the PIN of the key part card on the PIN pad of reader 2");

  part = tke_crypto_open (importer, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                          g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), &error);
  g_assert_no_error (error);
  tke_crypto_verification_pattern (part, vp);
  vp_hex = tke_crypto_hex_encode (vp, sizeof vp);
  g_assert_cmpstr (vp_hex, ==, tke_key_part_source_get_check_value (source));
  g_assert_null (memmem (g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed),
                         tke_secret_get_data (part), tke_secret_get_size (part)));

  /* Tampered, or opened with other associated data: refused. */
  tampered = g_memdup2 (g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed));
  size = g_bytes_get_size (sealed);
  tampered[size - 30] ^= 0x40;
  g_assert_null (tke_crypto_open (importer, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                                  tampered, size, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_clear_error (&error);
  g_assert_null (tke_crypto_open (importer, (const guint8 *) "tke-keypart-v1|2|new|2|3", 24,
                                  g_bytes_get_data (sealed, NULL), size, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
}

/* The source seals only to an importer key a unit proved; the card itself
 * refuses one proved only up to another root. */
static void
test_card_key_part_source_unproven (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "keys " PARTS_PIN, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCardKeyPartSource) card_source = tke_card_key_part_source_new (NULL, 2);
  TkeKeyPartSource *source = TKE_KEY_PART_SOURCE (card_source);
  g_autoptr (EVP_PKEY) host_key = tke_crypto_ec_generate (&error);
  g_autoptr (GBytes) host_point = tke_crypto_ec_public_point (host_key, &error);
  g_autoptr (CardTestUnit) other = card_test_unit_new (NULL, "1");
  g_autoptr (GBytes) other_point = NULL;
  g_autoptr (GBytes) aad = g_bytes_new_static ("tke-keypart-v1|1|new|2|3", 24);
  g_autoptr (GBytes) wrong_aad = g_bytes_new_static ("tke-keypart-v1|2|new|2|3", 24);
  g_autoptr (GAsyncResult) r1 = NULL;
  g_autoptr (GAsyncResult) r2 = NULL;
  g_autoptr (GAsyncResult) r3 = NULL;
  g_autoptr (GBytes) sealed = NULL;

  g_signal_connect (card_source, "prompt", G_CALLBACK (on_prompt), NULL);
  tke_card_key_part_source_set_pin_timeout (card_source, 20);
  person_expect (2, actions);
  /* A host-made key: refused before the card is asked. */
  tke_key_part_source_seal_async (source, host_point, aad, NULL, tke_test_async_done, &r1);
  g_assert_null (tke_key_part_source_seal_finish (source, tke_test_await (&r1, 60), &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC);
  g_clear_error (&error);
  g_assert_cmpuint (person.prompts, ==, 0);

  /* Part of another unit than the key's: refused before the card is asked. */
  other_point = tke_unit_identity_accept_importer (other->root_point, other->chain,
                                                   other->importer_certificate, &error);
  g_assert_no_error (error);
  tke_key_part_source_seal_async (source, other_point, wrong_aad, NULL, tke_test_async_done, &r2);
  g_assert_null (tke_key_part_source_seal_finish (source, tke_test_await (&r2, 60), &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Certified up to another root: the card refuses after its PIN. */
  tke_key_part_source_seal_async (source, other_point, aad, NULL, tke_test_async_done, &r3);
  sealed = tke_key_part_source_seal_finish (source, tke_test_await (&r3, 60), &error);
  g_assert_null (sealed);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC);
  g_assert_nonnull (strstr (error->message, "not certified by the crypto unit named"));
  g_assert_cmpuint (person.prompts, ==, 1);
}

/* A load swaps cards between parts: a source seals only from its card and
 * asks for it back. */
static void
test_card_key_part_source_other_card (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "swap keyparts.card", "keys " PARTS_PIN, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCardKeyPartSource) card_source = tke_card_key_part_source_new (NULL, 1);
  TkeKeyPartSource *source = TKE_KEY_PART_SOURCE (card_source);
  EVP_PKEY *importer = card_unit->importer;
  g_autoptr (GBytes) importer_point = tke_unit_identity_accept_importer (
      card_unit->root_point, card_unit->chain, card_unit->importer_certificate, &error);
  g_autoptr (GBytes) aad = g_bytes_new_static ("tke-keypart-v1|1|new|1|3", 24);
  g_autoptr (GAsyncResult) r1 = NULL;
  g_autoptr (GAsyncResult) r2 = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (TkeSecret) part = NULL;

  g_signal_connect (card_source, "prompt", G_CALLBACK (on_prompt), NULL);
  tke_card_key_part_source_set_pin_timeout (card_source, 20);
  person_expect (2, actions);
  tke_card_key_part_source_load_async (card_source, NULL, tke_test_async_done, &r1);
  g_assert_true (
      tke_card_key_part_source_load_finish (card_source, tke_test_await (&r1, 60), &error));
  g_assert_no_error (error);
  swap_card (2, "spare.card");
  tke_key_part_source_seal_async (source, importer_point, aad, NULL, tke_test_async_done, &r2);
  sealed = tke_key_part_source_seal_finish (source, tke_test_await (&r2, 60), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (person.messages->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (person.messages, 0), ==,
                   "Insert the key part card with “MK part 1” in reader 2");
  part = tke_crypto_open (importer, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                          g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), &error);
  g_assert_no_error (error);
}

/* Parts 1 of two cards: the second source waits for the second card. */
static void
test_card_key_part_source_group (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "swap spare.card", NULL };
  const guint indexes[] = { 1, 1 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) sources = tke_card_key_part_source_new_group (NULL, indexes, 2);
  g_autoptr (GAsyncResult) r1 = NULL;
  g_autoptr (GAsyncResult) r2 = NULL;
  TkeCardKeyPartSource *first = g_ptr_array_index (sources, 0);
  TkeCardKeyPartSource *second = g_ptr_array_index (sources, 1);

  person_expect (2, actions);
  g_signal_connect (first, "prompt", G_CALLBACK (on_prompt), NULL);
  g_signal_connect (second, "prompt", G_CALLBACK (on_prompt), NULL);
  tke_card_key_part_source_load_async (first, NULL, tke_test_async_done, &r1);
  g_assert_true (tke_card_key_part_source_load_finish (first, tke_test_await (&r1, 60), &error));
  tke_card_key_part_source_load_async (second, NULL, tke_test_async_done, &r2);
  g_assert_true (tke_card_key_part_source_load_finish (second, tke_test_await (&r2, 60), &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_ptr_array_index (person.messages, 0), ==,
                   "Insert the next key part card in reader 2");
  g_assert_cmpstr (tke_key_part_source_get_description (TKE_KEY_PART_SOURCE (first)), ==,
                   "MK part 1");
  g_assert_cmpstr (tke_key_part_source_get_description (TKE_KEY_PART_SOURCE (second)), ==,
                   "made here");
  g_assert_cmpstr (tke_card_key_part_source_get_serial (first), !=,
                   tke_card_key_part_source_get_serial (second));
}

/* Two administrators take turns at reader 1 (a signature threshold of 2). */
static void
test_card_signer_group (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "keys " ADMIN_PIN,  "swap admin2.card", "keys " ADMIN2_PIN,
                            "swap admin1.card", "keys " ADMIN_PIN,  NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) signers = tke_card_signer_new_group (NULL, 2);
  g_autoptr (GBytes) message = g_bytes_new_static ("commit", 6);
  g_autoptr (GAsyncResult) r1 = NULL;
  g_autoptr (GAsyncResult) r2 = NULL;
  g_autoptr (GAsyncResult) r3 = NULL;
  g_autoptr (GBytes) s1 = NULL;
  g_autoptr (GBytes) s2 = NULL;
  g_autoptr (GBytes) s3 = NULL;
  TkeSigner *first = g_ptr_array_index (signers, 0);
  TkeSigner *second = g_ptr_array_index (signers, 1);

  person_expect (1, actions);
  for (guint i = 0; i < signers->len; i++)
    {
      g_signal_connect (signers->pdata[i], "prompt", G_CALLBACK (on_prompt), NULL);
      tke_card_signer_set_pin_timeout (signers->pdata[i], 20);
    }
  tke_signer_sign_async (first, message, NULL, tke_test_async_done, &r1);
  s1 = tke_signer_sign_finish (first, tke_test_await (&r1, 60), &error);
  g_assert_no_error (error);
  tke_signer_sign_async (second, message, NULL, tke_test_async_done, &r2);
  s2 = tke_signer_sign_finish (second, tke_test_await (&r2, 60), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tke_signer_get_name (first), ==, "admin1.card");
  g_assert_cmpstr (tke_signer_get_name (second), ==, "admin2.card");
  g_assert_cmpstr (tke_signer_get_ski (first), !=, tke_signer_get_ski (second));
  g_assert_cmpstr (g_ptr_array_index (person.messages, 1), ==,
                   "Insert the next administrator card in reader 1 and enter its PIN on the PIN "
                   "pad");

  /* The first administrator again: asked for by name. */
  tke_signer_sign_async (first, message, NULL, tke_test_async_done, &r3);
  s3 = tke_signer_sign_finish (first, tke_test_await (&r3, 60), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_ptr_array_index (person.messages, 3), ==,
                   "Insert the administrator card of admin1.card in reader 1 and enter its PIN on "
                   "the PIN pad");
  g_assert_cmpuint (person.messages->len, ==, 5);
}

/* One administrator card in each reader (tke_card_signer_new_for_readers()):
 * a copy of reader 1's card in reader 2 is not a second administrator; its
 * signer asks for the next administrator card there, before its PIN. */
static void
test_card_signer_pair (Scene *scene, gconstpointer user_data)
{
  const char *first_actions[] = { "keys " ADMIN_PIN, NULL };
  const char *second_actions[] = { "swap admin2.card", "keys " ADMIN2_PIN, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) signers = tke_card_signer_new_for_readers (2);
  g_autoptr (GBytes) message = g_bytes_new_static ("set immediate", 13);
  g_autoptr (GAsyncResult) r1 = NULL;
  g_autoptr (GAsyncResult) r2 = NULL;
  g_autoptr (GBytes) s1 = NULL;
  g_autoptr (GBytes) s2 = NULL;
  TkeSigner *first = g_ptr_array_index (signers, 0);
  TkeSigner *second = g_ptr_array_index (signers, 1);

  swap_card (2, "admin1-copy.card");
  for (guint i = 0; i < signers->len; i++)
    {
      g_signal_connect (signers->pdata[i], "prompt", G_CALLBACK (on_prompt), NULL);
      tke_card_signer_set_pin_timeout (signers->pdata[i], 20);
    }
  person_expect (1, first_actions);
  tke_signer_sign_async (first, message, NULL, tke_test_async_done, &r1);
  s1 = tke_signer_sign_finish (first, tke_test_await (&r1, 60), &error);
  g_assert_no_error (error);
  person_expect (2, second_actions);
  tke_signer_sign_async (second, message, NULL, tke_test_async_done, &r2);
  s2 = tke_signer_sign_finish (second, tke_test_await (&r2, 60), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_ptr_array_index (person.messages, 0), ==,
                   "Insert the next administrator card in reader 2 and enter its PIN on the PIN "
                   "pad");
  g_assert_cmpstr (tke_signer_get_name (first), ==, "admin1.card");
  g_assert_cmpstr (tke_signer_get_name (second), ==, "admin2.card");
  g_assert_cmpstr (tke_signer_get_ski (first), !=, tke_signer_get_ski (second));
  /* On reader 2 the swap, then admin2's PIN: the copy's PIN was never asked. */
  g_assert_cmpuint (person.prompts, ==, 2);
}

void
add_source_tests (void)
{
  add_scene_test ("/card-layer/signer/pair", test_card_signer_pair);
  add_scene_test ("/card-layer/signer/sign-verify-ski", test_card_signer);
  add_scene_test ("/card-layer/signer/waits-for-card", test_card_signer_waits_for_card);
  add_scene_test ("/card-layer/signer/wrong-card", test_card_signer_wrong_card);
  add_scene_test ("/card-layer/key-part-source/seal-open-tamper", test_card_key_part_source);
  add_scene_test ("/card-layer/key-part-source/other-card", test_card_key_part_source_other_card);
  add_scene_test ("/card-layer/key-part-source/unproven-importer",
                  test_card_key_part_source_unproven);
  add_scene_test ("/card-layer/key-part-source/group", test_card_key_part_source_group);
  add_scene_test ("/card-layer/signer/group", test_card_signer_group);
}
