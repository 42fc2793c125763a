/* card-unit-common.c: a crypto unit's identity made in the test
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "card-unit-common.h"

#define TEST_INSTANCE "card-test-instance"

GBytes *
card_test_sign_certificate (EVP_PKEY *key, GBytes *body)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) signature =
      tke_crypto_sign (key, g_bytes_get_data (body, NULL), g_bytes_get_size (body), &error);
  GByteArray *out = g_byte_array_new ();

  g_assert_no_error (error);
  g_byte_array_append (out, g_bytes_get_data (body, NULL), (guint) g_bytes_get_size (body));
  g_byte_array_append (out, g_bytes_get_data (signature, NULL),
                       (guint) g_bytes_get_size (signature));
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
ski (GBytes *point)
{
  guint8 digest[TKE_SKI_SIZE];

  tke_crypto_sha256 (g_bytes_get_data (point, NULL), g_bytes_get_size (point), digest);
  return g_bytes_new (digest, sizeof digest);
}

CardTestUnit *
card_test_unit_new (EVP_PKEY *root, const char *hsm_id)
{
  g_autoptr (GError) error = NULL;
  CardTestUnit *unit = g_new0 (CardTestUnit, 1);
  g_autoptr (GBytes) device_point = NULL;
  g_autoptr (GBytes) root_ski = NULL;
  g_autoptr (GBytes) body = NULL;

  unit->root = root != NULL ? EVP_PKEY_dup (root) : tke_crypto_ec_generate (&error);
  g_assert_no_error (error);
  unit->root_point = tke_crypto_ec_public_point (unit->root, &error);
  unit->hsm_id = g_strdup (hsm_id);
  unit->device = tke_crypto_ec_generate (&error);
  device_point = tke_crypto_ec_public_point (unit->device, &error);
  root_ski = ski (unit->root_point);
  body = tke_unit_certificate_build_body (TEST_INSTANCE, hsm_id, device_point, root_ski, &error);
  g_assert_no_error (error);
  unit->chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (unit->chain, card_test_sign_certificate (unit->root, body));
  g_clear_pointer (&body, g_bytes_unref);
  unit->importer = tke_crypto_ec_generate (&error);
  unit->importer_point = tke_crypto_ec_public_point (unit->importer, &error);
  body = tke_importer_certificate_build_body (TEST_INSTANCE, hsm_id, unit->importer_point, &error);
  g_assert_no_error (error);
  unit->importer_certificate = card_test_sign_certificate (unit->device, body);
  return unit;
}

void
card_test_unit_free (CardTestUnit *unit)
{
  EVP_PKEY_free (unit->root);
  g_bytes_unref (unit->root_point);
  g_free (unit->hsm_id);
  EVP_PKEY_free (unit->device);
  g_ptr_array_unref (unit->chain);
  EVP_PKEY_free (unit->importer);
  g_bytes_unref (unit->importer_point);
  g_bytes_unref (unit->importer_certificate);
  g_free (unit);
}

void
card_test_unit_write_root (CardTestUnit *unit, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hex = tke_crypto_hex_encode (g_bytes_get_data (unit->root_point, NULL),
                                                g_bytes_get_size (unit->root_point));

  g_file_set_contents (path, hex, -1, &error);
  g_assert_no_error (error);
}
