/* test-crypto.c: tests of src/libtke/tke-crypto.c and tke-secret.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Known-answer vectors from the RFCs and NIST where they exist; each
 * primitive also has negative tests: a tampered tag, the wrong associated
 * data, the wrong key.
 */

#define _GNU_SOURCE
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>

#include <tke.h>

static GBytes *
hex (const char *digits)
{
  g_autoptr (GError) error = NULL;
  GBytes *bytes = tke_crypto_hex_decode (digits, &error);

  g_assert_no_error (error);
  return bytes;
}

static TkeSecret *
secret_from_hex (const char *digits)
{
  g_autoptr (GBytes) bytes = hex (digits);

  return tke_secret_new_from_data (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static TkeSecret *
secret_from_string (const char *text)
{
  return tke_secret_new_from_data ((const guint8 *) text, strlen (text));
}

static void
assert_secret_hex (const TkeSecret *secret, const char *expected)
{
  g_autofree char *actual =
      tke_crypto_hex_encode (tke_secret_get_data (secret), tke_secret_get_size (secret));
  g_assert_cmpstr (actual, ==, expected);
}

static void
assert_bytes_hex (GBytes *bytes, const char *expected)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  g_autofree char *actual = tke_crypto_hex_encode (data, size);

  g_assert_cmpstr (actual, ==, expected);
}

static void
test_hex (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = hex ("00ff10AB");
  g_autoptr (GBytes) odd = NULL;
  g_autoptr (GBytes) junk = NULL;

  assert_bytes_hex (bytes, "00ff10ab");

  odd = tke_crypto_hex_decode ("abc", &error);
  g_assert_null (odd);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);

  junk = tke_crypto_hex_decode ("zz", &error);
  g_assert_null (junk);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
}

static void
test_secret_secure_heap (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) a = tke_secret_new_random (32, &error);
  g_autoptr (TkeSecret) b = NULL;

  g_assert_no_error (error);
  g_assert_true (tke_secret_is_secure (a));
  g_assert_cmpuint (tke_secret_get_size (a), ==, 32);

  b = tke_secret_new_from_data (tke_secret_get_data (a), 32);
  g_assert_true (tke_secret_equal (a, b));
  tke_secret_get_mutable_data (b)[31] ^= 1;
  g_assert_false (tke_secret_equal (a, b));
}

/* FIPS 180-2, appendix B.1 */
static void
test_sha256 (void)
{
  guint8 digest[32];
  g_autofree char *digest_hex = NULL;

  tke_crypto_sha256 ((const guint8 *) "abc", 3, digest);
  digest_hex = tke_crypto_hex_encode (digest, sizeof digest);
  g_assert_cmpstr (digest_hex, ==,
                   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_verification_pattern_and_wkid (void)
{
  g_autoptr (TkeSecret) key = secret_from_string ("abc");
  guint8 vp[TKE_VP_SIZE];
  guint8 wkid[TKE_WKID_SIZE];
  g_autofree char *vp_hex = NULL;
  g_autofree char *wkid_hex = NULL;

  tke_crypto_verification_pattern (key, vp);
  tke_crypto_wkid (key, wkid);
  vp_hex = tke_crypto_hex_encode (vp, sizeof vp);
  wkid_hex = tke_crypto_hex_encode (wkid, sizeof wkid);

  g_assert_cmpstr (vp_hex, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  g_assert_cmpstr (wkid_hex, ==, "ba7816bf8f01cfea414140de5dae2223");
}

static void
test_xor_parts (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) a = secret_from_hex ("0f0f");
  g_autoptr (TkeSecret) b = secret_from_hex ("ff00");
  g_autoptr (TkeSecret) c = secret_from_hex ("00");
  g_autoptr (TkeSecret) sum = tke_crypto_xor (a, b, &error);
  g_autoptr (TkeSecret) bad = NULL;

  g_assert_no_error (error);
  assert_secret_hex (sum, "f00f");

  bad = tke_crypto_xor (a, c, &error);
  g_assert_null (bad);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
}

/* RFC 5649, section 6 (both vectors use a 192-bit KEK) */
static void
test_kwp_rfc5649 (void)
{
  static const struct
  {
    const char *key;
    const char *wrapped;
  } vectors[] = {
    { "c37b7e6492584340bed12207808941155068f738",
      "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a" },
    { "466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f" },
  };
  g_autoptr (TkeSecret) kek = secret_from_hex ("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");

  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) key = hex (vectors[i].key);
      g_autoptr (GBytes) wrapped =
          tke_crypto_kwp_wrap (kek, g_bytes_get_data (key, NULL), g_bytes_get_size (key), &error);
      g_autoptr (TkeSecret) unwrapped = NULL;

      g_assert_no_error (error);
      assert_bytes_hex (wrapped, vectors[i].wrapped);

      unwrapped = tke_crypto_kwp_unwrap (kek, g_bytes_get_data (wrapped, NULL),
                                         g_bytes_get_size (wrapped), &error);
      g_assert_no_error (error);
      assert_secret_hex (unwrapped, vectors[i].key);
    }
}

/* The reusable context gives the one-shot functions' results, call after
 * call, and keeps working after a failed unwrap. */
static void
test_kwp_context (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) kek = tke_secret_new_random (32, &error);
  g_autoptr (TkeSecret) other = tke_secret_new_random (32, &error);
  g_autoptr (TkeKwpContext) ctx = tke_crypto_kwp_context_new (kek, &error);
  g_autoptr (TkeKwpContext) other_ctx = tke_crypto_kwp_context_new (other, &error);
  guint8 out[48], back[48];
  gssize len;

  g_assert_no_error (error);
  g_assert_nonnull (ctx);

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (TkeSecret) key = tke_secret_new_random (32 - i, NULL);
      g_autoptr (GBytes) expected =
          tke_crypto_kwp_wrap (kek, tke_secret_get_data (key), tke_secret_get_size (key), &error);
      g_autoptr (TkeSecret) one_shot = NULL;

      g_assert_no_error (error);
      len = tke_crypto_kwp_context_wrap (ctx, tke_secret_get_data (key), tke_secret_get_size (key),
                                         out, sizeof out, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (out, len, g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));

      /* Under the wrong key: an integrity failure, then the context still works. */
      g_assert_cmpint (
          tke_crypto_kwp_context_unwrap (other_ctx, out, len, back, sizeof back, &error), ==, -1);
      g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
      g_clear_error (&error);
      out[3] ^= 1;
      g_assert_cmpint (tke_crypto_kwp_context_unwrap (ctx, out, len, back, sizeof back, &error), ==,
                       -1);
      g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
      g_clear_error (&error);
      out[3] ^= 1;

      len = tke_crypto_kwp_context_unwrap (ctx, out, len, back, sizeof back, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (back, len, tke_secret_get_data (key), tke_secret_get_size (key));
      one_shot =
          tke_crypto_kwp_unwrap (kek, out, ((tke_secret_get_size (key) + 7) / 8) * 8 + 8, &error);
      g_assert_no_error (error);
      g_assert_true (tke_secret_equal (one_shot, key));
    }

  /* Too small an output buffer, and a wrapped length that cannot be. */
  g_assert_cmpint (tke_crypto_kwp_context_wrap (ctx, back, 32, out, 39, &error), ==, -1);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (tke_crypto_kwp_context_unwrap (ctx, out, 39, back, sizeof back, &error), ==, -1);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);
  {
    g_autoptr (TkeSecret) bad_kek = tke_secret_new (20);

    g_assert_null (tke_crypto_kwp_context_new (bad_kek, &error));
    g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_kwp_negative (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) kek = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) other = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) root_key = tke_secret_new_random (32, NULL);
  g_autoptr (GBytes) wrapped =
      tke_crypto_kwp_wrap (kek, tke_secret_get_data (root_key), 32, &error);
  g_autofree guint8 *tampered = NULL;
  g_autoptr (TkeSecret) result = NULL;
  g_autoptr (TkeSecret) short_kek = secret_from_hex ("00");

  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (wrapped), ==, 40);

  result = tke_crypto_kwp_unwrap (kek, g_bytes_get_data (wrapped, NULL), 40, &error);
  g_assert_no_error (error);
  g_assert_true (tke_secret_equal (result, root_key));
  g_clear_pointer (&result, tke_secret_unref);

  result = tke_crypto_kwp_unwrap (other, g_bytes_get_data (wrapped, NULL), 40, &error);
  g_assert_null (result);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_clear_error (&error);

  tampered = g_memdup2 (g_bytes_get_data (wrapped, NULL), 40);
  tampered[7] ^= 0x80;
  result = tke_crypto_kwp_unwrap (kek, tampered, 40, &error);
  g_assert_null (result);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_clear_error (&error);

  result = tke_crypto_kwp_unwrap (kek, tampered, 39, &error);
  g_assert_null (result);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);

  g_assert_null (tke_crypto_kwp_wrap (short_kek, tampered, 8, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
}

/* McGrew & Viega, "The Galois/Counter Mode of Operation", test case 14 */
static void
test_gcm_known_answer (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) key = tke_secret_new (32);
  guint8 nonce[TKE_GCM_NONCE_SIZE] = { 0 };
  guint8 plaintext[16] = { 0 };
  g_autoptr (GBytes) sealed =
      tke_crypto_aes_gcm_encrypt (key, nonce, NULL, 0, plaintext, 16, &error);
  g_autoptr (TkeSecret) opened = NULL;

  g_assert_no_error (error);
  assert_bytes_hex (sealed, "cea7403d4d606b6e074ec5d3baf39d18"
                            "d0d1c8a799996bf0265b98b5d48ab919");

  opened = tke_crypto_aes_gcm_decrypt (key, nonce, NULL, 0, g_bytes_get_data (sealed, NULL),
                                       g_bytes_get_size (sealed), &error);
  g_assert_no_error (error);
  assert_secret_hex (opened, "00000000000000000000000000000000");
}

static void
test_gcm_negative (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) key = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) wrong_key = tke_secret_new_random (32, NULL);
  guint8 nonce[TKE_GCM_NONCE_SIZE] = { 1, 2, 3 };
  const guint8 aad[] = "unit 1, new register, part 2";
  const guint8 wrong_aad[] = "unit 2, new register, part 2";
  g_autoptr (GBytes) sealed = tke_crypto_aes_gcm_encrypt (key, nonce, aad, sizeof aad,
                                                          (const guint8 *) "key part", 8, &error);
  g_autofree guint8 *tampered = NULL;
  gsize size = g_bytes_get_size (sealed);
  TkeSecret *opened;

  g_assert_no_error (error);

  opened = tke_crypto_aes_gcm_decrypt (key, nonce, wrong_aad, sizeof wrong_aad,
                                       g_bytes_get_data (sealed, NULL), size, &error);
  g_assert_null (opened);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_clear_error (&error);

  opened = tke_crypto_aes_gcm_decrypt (wrong_key, nonce, aad, sizeof aad,
                                       g_bytes_get_data (sealed, NULL), size, &error);
  g_assert_null (opened);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_clear_error (&error);

  tampered = g_memdup2 (g_bytes_get_data (sealed, NULL), size);
  tampered[size - 1] ^= 1;
  opened = tke_crypto_aes_gcm_decrypt (key, nonce, aad, sizeof aad, tampered, size, &error);
  g_assert_null (opened);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_clear_error (&error);

  opened = tke_crypto_aes_gcm_decrypt (key, nonce, aad, sizeof aad, tampered, 16, &error);
  g_assert_null (opened);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
}

/* RFC 5869, test case 1 */
static void
test_hkdf_rfc5869 (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) ikm = secret_from_hex ("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  g_autoptr (GBytes) salt = hex ("000102030405060708090a0b0c");
  g_autoptr (GBytes) info = hex ("f0f1f2f3f4f5f6f7f8f9");
  g_autoptr (TkeSecret) okm =
      tke_crypto_hkdf_sha256 (ikm, g_bytes_get_data (salt, NULL), g_bytes_get_size (salt),
                              g_bytes_get_data (info, NULL), g_bytes_get_size (info), 42, &error);

  g_assert_no_error (error);
  assert_secret_hex (
      okm, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

/* RFC 7914, section 11 (PBKDF2-HMAC-SHA256) */
static void
test_pbkdf2_rfc7914 (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) password = secret_from_string ("passwd");
  g_autoptr (TkeSecret) dk =
      tke_crypto_pbkdf2_sha256 (password, (const guint8 *) "salt", 4, 1, 64, &error);

  g_assert_no_error (error);
  assert_secret_hex (dk, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                         "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
}

/* RFC 7914, section 12 */
static void
test_scrypt_rfc7914 (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) password = secret_from_string ("password");
  g_autoptr (TkeSecret) dk =
      tke_crypto_scrypt (password, (const guint8 *) "NaCl", 4, 1024, 8, 16, 64, &error);

  g_assert_no_error (error);
  assert_secret_hex (dk, "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
                         "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
}

/* RFC 6979, A.2.7: P-521, SHA-512, message "sample".  The signature is
 * given as (r, s); we encode it in DER and check that it verifies. */
#define RFC6979_P521_PUBLIC                                                                        \
  "0401894550d0785932e00eaa23b694f213f8c3121f86dc97a04e5a7167db4e5bcd371123d46e45db6b5d5370a7f20f" \
  "b6"                                                                                             \
  "33155d38ffa16d2bd761dcac474b9a2f5023a400493101c962cd4d2fddf782285e64584139c2f91b47f87ff82354d6" \
  "63"                                                                                             \
  "0f746a28a0db25741b5b34a828008b22acc23f924faafbd4d33f81ea66956dfeaa2bfdfcf5"
#define RFC6979_P521_SHA512_R                                                                      \
  "00c328fafcbd79dd77850370c46325d987cb525569fb63c5d3bc53950e6d4c5f174e25a1ee9017b5d450606add152b" \
  "53"                                                                                             \
  "4931d7d4e8455cc91f9b15bf05ec36e377fa"
#define RFC6979_P521_SHA512_S                                                                      \
  "00617cce7cf5064806c467f678d3b4080d6f1cc50af26ca209417308281b68af282623eaa63e5b5c0723d8b8c37ff0" \
  "77"                                                                                             \
  "7b1a20f8ccb1dccc43997f1ee0e44da4a67a"

static GBytes *
der_signature (const char *r_hex, const char *s_hex)
{
  ECDSA_SIG *sig = ECDSA_SIG_new ();
  BIGNUM *r = NULL;
  BIGNUM *s = NULL;
  unsigned char *der = NULL;
  int len;
  GBytes *result;

  BN_hex2bn (&r, r_hex);
  BN_hex2bn (&s, s_hex);
  ECDSA_SIG_set0 (sig, r, s);
  len = i2d_ECDSA_SIG (sig, &der);
  g_assert_cmpint (len, >, 0);
  result = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  ECDSA_SIG_free (sig);

  return result;
}

static void
test_ecdsa_rfc6979 (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) point = hex (RFC6979_P521_PUBLIC);
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                                                  g_bytes_get_size (point), &error);
  g_autoptr (GBytes) signature = der_signature (RFC6979_P521_SHA512_R, RFC6979_P521_SHA512_S);
  gsize sig_size;
  const guint8 *sig = g_bytes_get_data (signature, &sig_size);

  g_assert_no_error (error);
  g_assert_true (tke_crypto_verify (key, (const guint8 *) "sample", 6, sig, sig_size, &error));
  g_assert_no_error (error);

  g_assert_false (tke_crypto_verify (key, (const guint8 *) "sampla", 6, sig, sig_size, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
}

static void
test_ecdsa_sign_verify (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) admin = tke_crypto_ec_generate (&error);
  g_autoptr (EVP_PKEY) intruder = tke_crypto_ec_generate (&error);
  const guint8 command[] = "{\"command\":\"commit\",\"counter\":7}";
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) point = NULL;
  g_autoptr (EVP_PKEY) public_key = NULL;
  guint8 ski[TKE_SKI_SIZE];
  guint8 expected_ski[TKE_SKI_SIZE];
  gsize sig_size;
  const guint8 *sig;

  g_assert_no_error (error);
  signature = tke_crypto_sign (admin, command, sizeof command, &error);
  g_assert_no_error (error);
  sig = g_bytes_get_data (signature, &sig_size);

  point = tke_crypto_ec_public_point (admin, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (point), ==, 133);
  public_key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL), 133, &error);
  g_assert_no_error (error);

  g_assert_true (tke_crypto_verify (public_key, command, sizeof command, sig, sig_size, &error));
  g_assert_no_error (error);

  g_assert_false (tke_crypto_verify (intruder, command, sizeof command, sig, sig_size, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_clear_error (&error);

  g_assert_true (tke_crypto_ski (admin, ski, &error));
  tke_crypto_sha256 (g_bytes_get_data (point, NULL), 133, expected_ski);
  g_assert_cmpmem (ski, sizeof ski, expected_ski, sizeof expected_ski);
}

static void
test_ecdsa_pem_roundtrip (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (&error);
  g_autoptr (TkeSecret) pem = tke_crypto_ec_private_key_to_pem (key, &error);
  g_autoptr (EVP_PKEY) restored = NULL;
  g_autoptr (TkeSecret) junk = secret_from_string ("-----BEGIN PRIVATE KEY-----\nAAAA\n");
  g_autoptr (EVP_PKEY) none = NULL;
  g_autoptr (EVP_PKEY) p256 = EVP_EC_gen ("P-256");
  g_autoptr (TkeSecret) p256_pem = tke_crypto_ec_private_key_to_pem (p256, &error);

  g_assert_no_error (error);
  g_assert_true (tke_secret_is_secure (pem));
  g_assert_true (
      g_str_has_prefix ((const char *) tke_secret_get_data (pem), "-----BEGIN PRIVATE KEY-----"));

  restored = tke_crypto_ec_private_key_from_pem (pem, &error);
  g_assert_no_error (error);
  g_assert_true (EVP_PKEY_eq (key, restored) == 1);

  none = tke_crypto_ec_private_key_from_pem (junk, &error);
  g_assert_null (none);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);

  none = tke_crypto_ec_private_key_from_pem (p256_pem, &error);
  g_assert_null (none);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
}

/* Issue 17: the plug-in's files hold SEC1 ECPrivateKey DER (version 1:
 * "MIHcAgEB") under the PKCS#8 label; tke reads it, and "EC PRIVATE KEY". */
static void
test_ecdsa_sec1_pem (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (&error);
  g_autoptr (TkeSecret) pem = tke_crypto_ec_private_key_to_sec1_pem (key, &error);
  g_autoptr (EVP_PKEY) restored = NULL;
  g_autoptr (EVP_PKEY) relabelled = NULL;
  g_autoptr (TkeSecret) ec_pem = NULL;
  g_autoptr (GString) text = NULL;

  g_assert_no_error (error);
  g_assert_true (tke_secret_is_secure (pem));
  text = g_string_new_len ((const char *) tke_secret_get_data (pem), tke_secret_get_size (pem));
  g_assert_true (g_str_has_prefix (text->str, "-----BEGIN PRIVATE KEY-----\nMIHcAgEB"));
  g_assert_true (g_str_has_suffix (text->str, "-----END PRIVATE KEY-----\n"));

  restored = tke_crypto_ec_private_key_from_pem (pem, &error);
  g_assert_no_error (error);
  g_assert_true (EVP_PKEY_eq (key, restored) == 1);

  g_string_replace (text, "PRIVATE KEY", "EC PRIVATE KEY", 0);
  ec_pem = secret_from_string (text->str);
  relabelled = tke_crypto_ec_private_key_from_pem (ec_pem, &error);
  g_assert_no_error (error);
  g_assert_true (EVP_PKEY_eq (key, relabelled) == 1);
}

static void
test_point_not_on_curve (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) point = hex (RFC6979_P521_PUBLIC);
  g_autofree guint8 *bad = g_memdup2 (g_bytes_get_data (point, NULL), 133);
  g_autoptr (EVP_PKEY) key = NULL;

  bad[100] ^= 1;
  key = tke_crypto_ec_public_key_from_point (bad, 133, &error);
  g_assert_null (key);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
}

static void
test_seal_open (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) importer = tke_crypto_ec_generate (&error);
  g_autoptr (EVP_PKEY) other_unit = tke_crypto_ec_generate (&error);
  g_autoptr (TkeSecret) part = tke_secret_new_random (TKE_MASTER_KEY_SIZE, &error);
  const guint8 aad[] = "unit=1;register=new;part=1";
  const guint8 other_aad[] = "unit=1;register=new;part=2";
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (TkeSecret) opened = NULL;
  g_autofree guint8 *tampered = NULL;
  gsize size;
  const guint8 *data;

  g_assert_no_error (error);
  sealed = tke_crypto_seal (importer, aad, sizeof aad, part, &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (sealed, &size);
  g_assert_cmpuint (size, ==, 1 + 133 + 12 + 32 + 16);

  /* The part never appears in clear in what travels. */
  g_assert_null (memmem (data, size, tke_secret_get_data (part), TKE_MASTER_KEY_SIZE));

  opened = tke_crypto_open (importer, aad, sizeof aad, data, size, &error);
  g_assert_no_error (error);
  g_assert_true (tke_secret_equal (opened, part));
  g_clear_pointer (&opened, tke_secret_unref);

  opened = tke_crypto_open (importer, other_aad, sizeof other_aad, data, size, &error);
  g_assert_null (opened);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_clear_error (&error);

  opened = tke_crypto_open (other_unit, aad, sizeof aad, data, size, &error);
  g_assert_null (opened);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_clear_error (&error);

  tampered = g_memdup2 (data, size);
  tampered[1 + 133 + 12 + 3] ^= 0x01;
  opened = tke_crypto_open (importer, aad, sizeof aad, tampered, size, &error);
  g_assert_null (opened);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_clear_error (&error);

  opened = tke_crypto_open (importer, aad, sizeof aad, data, 40, &error);
  g_assert_null (opened);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
}

/* Issue 19: tke_secret_new() called g_error() when the 256 KiB secure heap
 * was full; input-sized allocations now fail with a GError instead. */
static void
test_secret_fallible (void)
{
  g_autoptr (GPtrArray) hold = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_secret_unref);
  g_autoptr (TkeSecret) probe = tke_secret_new (32);
  g_autoptr (TkeSecret) key = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) fallback = NULL;
  g_autoptr (TkeSecret) plain = NULL;
  g_autoptr (GError) error = NULL;
  guint8 nonce[TKE_GCM_NONCE_SIZE] = { 0 };
  guint8 ciphertext[64] = { 0 };
  TkeSecret *secret;

  /* Larger than the whole secure heap: refused whether or not it exists. */
  g_assert_null (tke_secret_try_new (256 * 1024 + 1, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_CRYPTO);
  g_clear_error (&error);
  g_assert_null (tke_secret_try_new (0, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  if (!tke_secret_is_secure (probe))
    {
      g_test_skip ("no secure heap here (RLIMIT_MEMLOCK?)");
      return;
    }
  /* Fill the heap, then ask for more. */
  for (gsize size = 8 * 1024; size >= 16; size /= 8)
    {
      for (guint i = 0; i < 20000 && (secret = tke_secret_try_new (size, &error)) != NULL; i++)
        g_ptr_array_add (hold, secret);
      g_assert_error (error, TKE_ERROR, TKE_ERROR_CRYPTO);
      g_clear_error (&error);
    }

  /* A decryption now fails cleanly, and a fixed-size secret falls back. */
  plain = tke_crypto_aes_gcm_decrypt (key, nonce, NULL, 0, ciphertext, sizeof ciphertext, &error);
  g_assert_null (plain);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_CRYPTO);
  fallback = tke_secret_new (32);
  g_assert_nonnull (fallback);
  g_assert_false (tke_secret_is_secure (fallback));
}

/* Issue 19: decrypt and unwrap took the input's size in secure memory
 * before any check (a 400 kB KMS unwrap aborted the emulator). */
static void
test_large_inputs (void)
{
  g_autoptr (TkeSecret) key = tke_secret_new_random (32, NULL);
  guint8 nonce[TKE_GCM_NONCE_SIZE] = { 0 };
  gsize size = 400 * 1024;
  g_autofree guint8 *big = g_malloc0 (size);
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) out = NULL;

  out = tke_crypto_aes_gcm_decrypt (key, nonce, NULL, 0, big, size, &error);
  g_assert_null (out);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);
  out = tke_crypto_kwp_unwrap (key, big, size, &error);
  g_assert_null (out);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* The largest accepted size still decrypts to an integrity error. */
  out = tke_crypto_aes_gcm_decrypt (key, nonce, NULL, 0, big,
                                    TKE_CRYPTO_MAX_SECRET_SIZE + TKE_GCM_TAG_SIZE, &error);
  g_assert_null (out);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
}

/* Issue 19: scrypt's parameters were bounded one by one (N 2^20 with r 15
 * cost 1.9 GiB and 10 s; p multiplied the time). */
static void
test_scrypt_cost (void)
{
  g_autoptr (TkeSecret) password = secret_from_string ("password");
  static const struct
  {
    guint64 n;
    guint32 r, p;
  } refused[] = {
    { G_GUINT64_CONSTANT (1) << 20, 15, 1 },
    { 32768, 8, 16 },
    { G_GUINT64_CONSTANT (1) << 22, 1, 1 },
    { 32768, G_MAXUINT32, G_MAXUINT32 },
    { 1000, 8, 1 },
  };
  gint64 started = g_get_monotonic_time ();

  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TkeSecret) key =
          tke_crypto_scrypt (password, (const guint8 *) "salt", 4, refused[i].n, refused[i].r,
                             refused[i].p, 32, &error);

      g_assert_null (key);
      g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
    }
  /* Refused before any work. */
  g_assert_cmpint (g_get_monotonic_time () - started, <, G_USEC_PER_SEC / 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/crypto/hex", test_hex);
  g_test_add_func ("/crypto/secret/secure-heap", test_secret_secure_heap);
  g_test_add_func ("/crypto/sha256/fips180", test_sha256);
  g_test_add_func ("/crypto/vp-and-wkid", test_verification_pattern_and_wkid);
  g_test_add_func ("/crypto/xor", test_xor_parts);
  g_test_add_func ("/crypto/kwp/rfc5649", test_kwp_rfc5649);
  g_test_add_func ("/crypto/kwp/negative", test_kwp_negative);
  g_test_add_func ("/crypto/kwp/context", test_kwp_context);
  g_test_add_func ("/crypto/gcm/known-answer", test_gcm_known_answer);
  g_test_add_func ("/crypto/gcm/negative", test_gcm_negative);
  g_test_add_func ("/crypto/hkdf/rfc5869", test_hkdf_rfc5869);
  g_test_add_func ("/crypto/pbkdf2/rfc7914", test_pbkdf2_rfc7914);
  g_test_add_func ("/crypto/scrypt/rfc7914", test_scrypt_rfc7914);
  g_test_add_func ("/crypto/ecdsa/rfc6979", test_ecdsa_rfc6979);
  g_test_add_func ("/crypto/ecdsa/sign-verify", test_ecdsa_sign_verify);
  g_test_add_func ("/crypto/ecdsa/pem-roundtrip", test_ecdsa_pem_roundtrip);
  g_test_add_func ("/crypto/ecdsa/sec1-pem", test_ecdsa_sec1_pem);
  g_test_add_func ("/crypto/ecdsa/point-not-on-curve", test_point_not_on_curve);
  g_test_add_func ("/crypto/seal/open", test_seal_open);
  g_test_add_func ("/crypto/secret/fallible", test_secret_fallible);
  g_test_add_func ("/crypto/large-inputs", test_large_inputs);
  g_test_add_func ("/crypto/scrypt/cost", test_scrypt_cost);

  return g_test_run ();
}
