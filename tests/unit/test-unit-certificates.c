/* test-unit-identity.c: unit certificates, chains, importer certificates
 * and the unit root's fingerprint (tke-unit-identity.c), without a service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <tke.h>

static GBytes *
point_of (EVP_PKEY *key)
{
  g_autoptr (GError) error = NULL;
  GBytes *point = tke_crypto_ec_public_point (key, &error);

  g_assert_no_error (error);
  return point;
}

static GBytes *
ski_of (EVP_PKEY *key)
{
  g_autoptr (GBytes) point = point_of (key);
  guint8 ski[32];

  tke_crypto_sha256 (g_bytes_get_data (point, NULL), g_bytes_get_size (point), ski);
  return g_bytes_new (ski, sizeof ski);
}

/* body ‖ signature by @issuer */
static GBytes *
certificate (const char *hsm_id, EVP_PKEY *subject, GBytes *issuer_ski, EVP_PKEY *issuer)
{
  g_autoptr (GBytes) point = point_of (subject);
  g_autoptr (GBytes) body =
      tke_unit_certificate_build_body ("inst-1", hsm_id, point, issuer_ski, NULL);
  g_autoptr (GBytes) sig =
      tke_crypto_sign (issuer, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL);
  g_autoptr (GByteArray) out = g_byte_array_new ();

  g_assert_nonnull (body);
  g_byte_array_append (out, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_byte_array_append (out, g_bytes_get_data (sig, NULL), g_bytes_get_size (sig));
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static GPtrArray *
chain_of (GBytes *first, GBytes *second)
{
  GPtrArray *chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  g_ptr_array_add (chain, g_bytes_ref (first));
  if (second != NULL)
    g_ptr_array_add (chain, g_bytes_ref (second));
  return chain;
}

/* The body's layout is the one the card applet will parse too. */
static void
test_body_layout (void)
{
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (NULL);
  g_autoptr (GBytes) point = point_of (key);
  g_autoptr (GBytes) ski = ski_of (key);
  g_autoptr (GBytes) body = tke_unit_certificate_build_body ("ab", "xyz", point, ski, NULL);
  g_autoptr (GBytes) importer = tke_importer_certificate_build_body ("ab", "xyz", point, NULL);
  const guint8 *data = g_bytes_get_data (body, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (g_bytes_get_size (body), ==, 16 + 1 + 2 + 1 + 3 + 133 + 32);
  g_assert_cmpmem (data, 16, "tke unit cert v1", 16);
  g_assert_cmpmem (data + 16, 3, "\002ab", 3);
  g_assert_cmpmem (data + 19, 4, "\003xyz", 4);
  g_assert_cmpmem (data + 23, 133, g_bytes_get_data (point, NULL), 133);
  g_assert_cmpmem (data + 156, 32, g_bytes_get_data (ski, NULL), 32);
  g_assert_cmpuint (g_bytes_get_size (importer), ==, 16 + 3 + 4 + 133);
  g_assert_cmpmem (g_bytes_get_data (importer, NULL), 16, "tke importer v1\0", 16);
  /* An id longer than 255 bytes does not fit its length byte. */
  {
    g_autofree char *long_id = g_strnfill (256, 'a');
    g_autoptr (GBytes) none = tke_unit_certificate_build_body ("ab", long_id, point, ski, &error);

    g_assert_null (none);
    g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_chain (void)
{
  g_autoptr (EVP_PKEY) root = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) other_root = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) device = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) middle = tke_crypto_ec_generate (NULL);
  g_autoptr (GBytes) root_point = point_of (root);
  g_autoptr (GBytes) root_ski = ski_of (root);
  g_autoptr (GBytes) other_ski = ski_of (other_root);
  g_autoptr (GBytes) middle_ski = ski_of (middle);
  g_autoptr (GBytes) device_ski = ski_of (device);
  g_autoptr (GBytes) good = certificate ("hsm-1", device, root_ski, root);
  g_autoptr (GBytes) by_other = certificate ("hsm-1", device, other_ski, other_root);
  g_autoptr (GBytes) forged = certificate ("hsm-1", device, root_ski, device);
  g_autoptr (GBytes) self_signed = certificate ("hsm-1", device, device_ski, device);
  g_autoptr (GBytes) leaf = certificate ("hsm-1", device, middle_ski, middle);
  g_autoptr (GBytes) intermediate = certificate ("mid", middle, root_ski, root);
  g_autoptr (GError) error = NULL;
  struct
  {
    GBytes *first, *second;
    int code;
  } bad[] = {
    { by_other, NULL, TKE_ERROR_UNIT_ROOT_CHANGED },
    { forged, NULL, TKE_ERROR_UNIT_NOT_AUTHENTIC },
    { self_signed, NULL, TKE_ERROR_UNIT_NOT_AUTHENTIC },
    { leaf, NULL, TKE_ERROR_UNIT_ROOT_CHANGED },
    { intermediate, leaf, TKE_ERROR_UNIT_NOT_AUTHENTIC },
  };

  {
    g_autoptr (GPtrArray) chain = chain_of (good, NULL);
    g_autoptr (TkeUnitCertificate) cert =
        tke_unit_identity_verify_chain (root_point, chain, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (tke_unit_certificate_get_hsm_id (cert), ==, "hsm-1");
    g_assert_cmpstr (tke_unit_certificate_get_instance_id (cert), ==, "inst-1");
  }
  /* Walked generally: root → middle → device. */
  {
    g_autoptr (GPtrArray) chain = chain_of (leaf, intermediate);
    g_autoptr (TkeUnitCertificate) cert =
        tke_unit_identity_verify_chain (root_point, chain, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (tke_unit_certificate_get_hsm_id (cert), ==, "hsm-1");
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GPtrArray) chain = chain_of (bad[i].first, bad[i].second);
      g_autoptr (TkeUnitCertificate) cert =
          tke_unit_identity_verify_chain (root_point, chain, &error);

      g_assert_null (cert);
      g_assert_error (error, TKE_ERROR, bad[i].code);
      g_clear_error (&error);
    }
  /* Every truncation of a certificate is refused, never read past. */
  for (gsize n = 0; n < g_bytes_get_size (good); n += 7)
    {
      g_autoptr (GBytes) cut = g_bytes_new_from_bytes (good, 0, n);
      g_autoptr (GPtrArray) chain = chain_of (cut, NULL);
      g_autoptr (TkeUnitCertificate) cert =
          tke_unit_identity_verify_chain (root_point, chain, &error);

      g_assert_null (cert);
      g_assert_true (g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC) ||
                     g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED));
      g_clear_error (&error);
    }
}

/* A chain that verified is remembered (tke-unit-identity.c): the same
 * bytes under another root, or a byte changed, are still refused. */
static void
test_chain_remembered (void)
{
  g_autoptr (EVP_PKEY) root = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) other_root = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) device = tke_crypto_ec_generate (NULL);
  g_autoptr (GBytes) root_point = point_of (root);
  g_autoptr (GBytes) other_point = point_of (other_root);
  g_autoptr (GBytes) root_ski = ski_of (root);
  g_autoptr (GBytes) good = certificate ("hsm-1", device, root_ski, root);
  g_autoptr (GPtrArray) chain = chain_of (good, NULL);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (TkeUnitCertificate) cert =
          tke_unit_identity_verify_chain (root_point, chain, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (tke_unit_certificate_get_hsm_id (cert), ==, "hsm-1");
    }
  {
    g_autoptr (TkeUnitCertificate) cert =
        tke_unit_identity_verify_chain (other_point, chain, &error);

    g_assert_null (cert);
    g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED);
    g_clear_error (&error);
  }
  /* Each byte of the signature, then of the body, changed in turn. */
  for (gsize at = 0; at < g_bytes_get_size (good); at++)
    {
      g_autoptr (GByteArray) copy = g_byte_array_new ();
      g_autoptr (GBytes) changed = NULL;
      g_autoptr (GPtrArray) bad = NULL;
      g_autoptr (TkeUnitCertificate) cert = NULL;

      g_byte_array_append (copy, g_bytes_get_data (good, NULL), (guint) g_bytes_get_size (good));
      copy->data[g_bytes_get_size (good) - 1 - at] ^= 0x01;
      changed = g_byte_array_free_to_bytes (g_steal_pointer (&copy));
      bad = chain_of (changed, NULL);
      cert = tke_unit_identity_verify_chain (root_point, bad, &error);
      g_assert_null (cert);
      g_assert_true (g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC) ||
                     g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED));
      g_clear_error (&error);
    }
}

static void
test_importer (void)
{
  g_autoptr (EVP_PKEY) root = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) device = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) importer = tke_crypto_ec_generate (NULL);
  g_autoptr (GBytes) root_point = point_of (root);
  g_autoptr (GBytes) root_ski = ski_of (root);
  g_autoptr (GBytes) good = certificate ("hsm-1", device, root_ski, root);
  g_autoptr (GPtrArray) chain = chain_of (good, NULL);
  g_autoptr (TkeUnitCertificate) cert = tke_unit_identity_verify_chain (root_point, chain, NULL);
  g_autoptr (GBytes) point = point_of (importer);
  g_autofree char *hex = tke_crypto_hex_encode (g_bytes_get_data (point, NULL), 133);
  g_autoptr (GBytes) body = tke_importer_certificate_build_body ("inst-1", "hsm-1", point, NULL);
  g_autoptr (GBytes) other_body =
      tke_importer_certificate_build_body ("inst-1", "hsm-2", point, NULL);
  g_autoptr (GBytes) sig =
      tke_crypto_sign (device, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL);
  g_autoptr (GBytes) bad_sig =
      tke_crypto_sign (importer, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL);
  g_autoptr (GBytes) other_sig = tke_crypto_sign (device, g_bytes_get_data (other_body, NULL),
                                                  g_bytes_get_size (other_body), NULL);
  g_autoptr (GError) error = NULL;
  struct
  {
    GBytes *body, *sig;
    gboolean ok;
  } cases[] = { { body, sig, TRUE }, { body, bad_sig, FALSE }, { other_body, other_sig, FALSE } };

  g_assert_nonnull (cert);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GByteArray) blob = g_byte_array_new ();
      g_autofree char *b64 = NULL;

      g_byte_array_append (blob, g_bytes_get_data (cases[i].body, NULL),
                           g_bytes_get_size (cases[i].body));
      g_byte_array_append (blob, g_bytes_get_data (cases[i].sig, NULL),
                           g_bytes_get_size (cases[i].sig));
      b64 = g_base64_encode (blob->data, blob->len);
      g_assert_cmpint (tke_unit_identity_verify_importer (cert, hex, b64, &error), ==, cases[i].ok);
      if (!cases[i].ok)
        g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC);
      g_clear_error (&error);
    }
  g_assert_false (tke_unit_identity_verify_importer (cert, hex, NULL, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC);
}

static void
test_fingerprint (void)
{
  g_autoptr (EVP_PKEY) root = tke_crypto_ec_generate (NULL);
  g_autoptr (GBytes) point = point_of (root);
  g_autofree char *hex = tke_crypto_hex_encode (g_bytes_get_data (point, NULL), 133);
  g_autoptr (GBytes) again = tke_unit_root_from_hex (hex, NULL);
  g_autofree char *fp = tke_unit_root_fingerprint (point);
  g_autofree char *text = tke_unit_root_format_fingerprint ("00112233445566778899aabbccddeeff"
                                                            "00112233445566778899aabbccddeeff");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) none = tke_unit_root_from_hex ("04abcd", &error);

  g_assert_true (g_bytes_equal (point, again));
  g_assert_cmpuint (strlen (fp), ==, 64);
  g_assert_cmpstr (text, ==,
                   "0011 2233 4455 6677 8899 AABB CCDD EEFF\n"
                   "0011 2233 4455 6677 8899 AABB CCDD EEFF");
  g_assert_null (none);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
}

/* ---- Answers bound to their instance ---- */

static GBytes *
instance_certificate (const char *instance, const char *hsm_id, EVP_PKEY *device, EVP_PKEY *root)
{
  g_autoptr (GBytes) point = point_of (device);
  g_autoptr (GBytes) ski = ski_of (root);
  g_autoptr (GBytes) body = tke_unit_certificate_build_body (instance, hsm_id, point, ski, NULL);
  g_autoptr (GBytes) sig =
      tke_crypto_sign (root, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL);
  g_autoptr (GByteArray) out = g_byte_array_new ();

  g_byte_array_append (out, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_byte_array_append (out, g_bytes_get_data (sig, NULL), g_bytes_get_size (sig));
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static char *
sha512_hex_of (GBytes *data)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA512);

  g_checksum_update (sum, g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  return g_strdup (g_checksum_get_string (sum));
}

/* A genuinely signed answer, as a unit of @instance makes it. */
static JsonObject *
signed_response (
    const char *instance, const char *hsm_id, GBytes *request, GBytes *cert, EVP_PKEY *device)
{
  g_autofree char *digest = sha512_hex_of (request);
  g_autofree char *answer = g_strdup_printf (
      "{\"version\":1,\"instance\":\"%s\",\"hsm_id\":\"%s\",\"request_sha512\":\"%s\","
      "\"command\":\"query\",\"counter\":4,\"result\":{}}",
      instance, hsm_id, digest);
  g_autoptr (GBytes) sig = tke_crypto_sign (device, (const guint8 *) answer, strlen (answer), NULL);
  g_autofree char *answer_b64 = g_base64_encode ((const guchar *) answer, strlen (answer));
  g_autofree char *sig_b64 = g_base64_encode (g_bytes_get_data (sig, NULL), g_bytes_get_size (sig));
  g_autofree char *cert_b64 =
      g_base64_encode (g_bytes_get_data (cert, NULL), g_bytes_get_size (cert));
  g_autofree char *text =
      g_strdup_printf ("{\"answer\":\"%s\",\"signature\":\"%s\",\"certificates\":[\"%s\"]}",
                       answer_b64, sig_b64, cert_b64);
  g_autoptr (JsonNode) node = json_from_string (text, NULL);

  return json_object_ref (json_node_get_object (node));
}

/* Issue 12: an answer of another instance's unit with the same unit id,
 * certified by the same root and genuinely signed, is refused: the
 * certificate, the signed answer and the request's hash all name the
 * instance. */
static void
test_other_instance (void)
{
  g_autoptr (EVP_PKEY) root = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) device_a = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) device_b = tke_crypto_ec_generate (NULL);
  g_autoptr (GBytes) root_point = point_of (root);
  g_autoptr (GBytes) cert_a = instance_certificate ("inst-A", "unit-1", device_a, root);
  g_autoptr (GBytes) cert_b = instance_certificate ("inst-B", "unit-1", device_b, root);
  g_autoptr (GBytes) request_a =
      tke_service_client_build_command ("inst-A", "unit-1", "query", 4, 0, "{}");
  g_autoptr (GBytes) request_b =
      tke_service_client_build_command ("inst-B", "unit-1", "query", 4, 0, "{}");
  g_autoptr (GError) error = NULL;

  g_assert_false (g_bytes_equal (request_a, request_b));
  /* The genuine answer of inst-A's unit 1 verifies. */
  {
    g_autoptr (JsonObject) response =
        signed_response ("inst-A", "unit-1", request_a, cert_a, device_a);
    g_autoptr (JsonObject) answer = tke_unit_identity_verify_answer (
        root_point, response, "inst-A", "unit-1", request_a, NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (answer);
  }
  /* inst-B's unit 1 answering inst-A's request, whole and genuine. */
  {
    g_autoptr (JsonObject) response =
        signed_response ("inst-B", "unit-1", request_a, cert_b, device_b);
    g_autoptr (JsonObject) answer = tke_unit_identity_verify_answer (
        root_point, response, "inst-A", "unit-1", request_a, NULL, &error);

    g_assert_null (answer);
    g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC);
    g_assert_nonnull (strstr (error->message, "another unit's certificate"));
    g_clear_error (&error);
  }
  /* Its answer to its own instance's request, moved over. */
  {
    g_autoptr (JsonObject) response =
        signed_response ("inst-B", "unit-1", request_b, cert_b, device_b);
    g_autoptr (JsonObject) answer = tke_unit_identity_verify_answer (
        root_point, response, "inst-A", "unit-1", request_a, NULL, &error);

    g_assert_null (answer);
    g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC);
    g_clear_error (&error);
  }
  /* Even with inst-A's certificate, bytes signed for another instance
   * (or for another instance's request) are refused. */
  {
    g_autoptr (JsonObject) response =
        signed_response ("inst-B", "unit-1", request_a, cert_a, device_a);
    g_autoptr (JsonObject) answer = tke_unit_identity_verify_answer (
        root_point, response, "inst-A", "unit-1", request_a, NULL, &error);

    g_assert_null (answer);
    g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC);
    g_assert_nonnull (strstr (error->message, "another unit's"));
    g_clear_error (&error);
  }
  {
    g_autoptr (JsonObject) response =
        signed_response ("inst-A", "unit-1", request_b, cert_a, device_a);
    g_autoptr (JsonObject) answer = tke_unit_identity_verify_answer (
        root_point, response, "inst-A", "unit-1", request_a, NULL, &error);

    g_assert_null (answer);
    g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC);
    g_assert_nonnull (strstr (error->message, "another request"));
    g_clear_error (&error);
  }
}

/* ---- The pinning rule ---- */

static char *
root_hex (EVP_PKEY *key)
{
  g_autoptr (GBytes) point = point_of (key);

  return tke_crypto_hex_encode (g_bytes_get_data (point, NULL), g_bytes_get_size (point));
}

static void
test_root_decide (void)
{
  g_autoptr (EVP_PKEY) a = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) b = tke_crypto_ec_generate (NULL);
  g_autofree char *ha = root_hex (a);
  g_autofree char *hb = root_hex (b);
  g_autofree char *ha_upper = g_ascii_strup (ha, -1);
  g_autofree char *fa = tke_unit_root_hex_fingerprint (ha);
  g_autofree char *fb = tke_unit_root_hex_fingerprint (hb);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (tke_unit_root_decide (ha, ha_upper, NULL, &error), ==, TKE_UNIT_ROOT_PINNED);
  g_assert_no_error (error);
  g_assert_cmpint (tke_unit_root_decide (NULL, ha, NULL, &error), ==, TKE_UNIT_ROOT_ASK);
  g_assert_cmpint (tke_unit_root_decide ("", ha, NULL, &error), ==, TKE_UNIT_ROOT_ASK);
  g_assert_cmpint (tke_unit_root_decide (NULL, ha, ha, &error), ==, TKE_UNIT_ROOT_GIVEN_MATCHES);
  g_assert_no_error (error);

  /* Changed: both fingerprints, never re-pinned (not even with a file). */
  g_assert_cmpint (tke_unit_root_decide (ha, hb, NULL, &error), ==, TKE_UNIT_ROOT_REFUSED);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED);
  g_assert_nonnull (strstr (error->message, fa));
  g_assert_nonnull (strstr (error->message, fb));
  g_clear_error (&error);
  g_assert_cmpint (tke_unit_root_decide (ha, hb, hb, &error), ==, TKE_UNIT_ROOT_REFUSED);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED);
  g_clear_error (&error);
  g_assert_cmpint (tke_unit_root_decide (ha, ha, hb, &error), ==, TKE_UNIT_ROOT_REFUSED);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED);
  g_clear_error (&error);
  /* A file that is not the service's root. */
  g_assert_cmpint (tke_unit_root_decide (NULL, ha, hb, &error), ==, TKE_UNIT_ROOT_REFUSED);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED);
  g_assert_nonnull (strstr (error->message, fa));
  g_assert_nonnull (strstr (error->message, fb));
  g_clear_error (&error);
  /* A service root that is no point is never taken. */
  g_assert_cmpint (tke_unit_root_decide (ha, "04abcd", NULL, &error), ==, TKE_UNIT_ROOT_REFUSED);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED);
  g_clear_error (&error);
  g_assert_cmpint (tke_unit_root_decide (NULL, "04abcd", "04abcd", &error), ==,
                   TKE_UNIT_ROOT_REFUSED);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/unit-certificates/body-layout", test_body_layout);
  g_test_add_func ("/unit-certificates/chain", test_chain);
  g_test_add_func ("/unit-certificates/chain-remembered", test_chain_remembered);
  g_test_add_func ("/unit-certificates/importer", test_importer);
  g_test_add_func ("/unit-certificates/fingerprint", test_fingerprint);
  g_test_add_func ("/unit-certificates/other-instance", test_other_instance);
  g_test_add_func ("/unit-certificates/root-decide", test_root_decide);
  return g_test_run ();
}
