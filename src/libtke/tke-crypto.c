/* tke-crypto.c: the cryptography of the ceremonies (OpenSSL 3 EVP)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Only OpenSSL 3's EVP and provider interfaces are used (the build sets
 * OPENSSL_NO_DEPRECATED).  Every value that is key material comes back as
 * a TkeSecret; public values (points, signatures, ciphertexts) as GBytes.
 *
 * This file: encodings, digests, ECDSA P-521 and sealing to a public key;
 * tke-crypto-symmetric.c: key wrap, AES-GCM and the KDFs.
 */

#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <glib/gi18n-lib.h>

#include "tke-crypto-private.h"
#include "tke-crypto.h"
#include "tke-error.h"

#define EC_GROUP_NAME "P-521"
#define SEAL_VERSION 0x01
#define SEAL_INFO "tke seal v1"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OSSL_PARAM_BLD, OSSL_PARAM_BLD_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OSSL_PARAM, OSSL_PARAM_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIGNUM, BN_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OSSL_ENCODER_CTX, OSSL_ENCODER_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OSSL_DECODER_CTX, OSSL_DECODER_CTX_free)

gboolean
_tke_crypto_set_error (GError **error, const char *what)
{
  unsigned long code = ERR_peek_last_error ();
  char reason[256] = "";

  if (code != 0)
    ERR_error_string_n (code, reason, sizeof reason);
  ERR_clear_error ();

  g_set_error (error, TKE_ERROR, TKE_ERROR_CRYPTO, _ ("%s failed: %s"), what,
               code != 0 ? reason : _ ("unknown error"));
  return FALSE;
}

/**
 * tke_crypto_hex_encode:
 * @data: (array length=size): the bytes
 * @size: their number
 *
 * Returns: (transfer full): @data as lower-case hexadecimal digits
 */
char *
tke_crypto_hex_encode (const guint8 *data, gsize size)
{
  static const char digits[] = "0123456789abcdef";
  char *hex = g_malloc (size * 2 + 1);

  for (gsize i = 0; i < size; i++)
    {
      hex[2 * i] = digits[data[i] >> 4];
      hex[2 * i + 1] = digits[data[i] & 0x0f];
    }
  hex[size * 2] = '\0';

  return hex;
}

/**
 * tke_crypto_hex_decode:
 * @hex: hexadecimal digits, either case, an even number of them
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the bytes, or %NULL with %TKE_ERROR_INVALID_DATA
 */
GBytes *
tke_crypto_hex_decode (const char *hex, GError **error)
{
  gsize len;
  g_autofree guint8 *bytes = NULL;

  g_return_val_if_fail (hex != NULL, NULL);

  len = strlen (hex);
  if (len % 2 != 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("A hexadecimal value has an odd number of digits."));
      return NULL;
    }

  bytes = g_malloc (len / 2 + 1);
  for (gsize i = 0; i < len / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        {
          g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                               _ ("A hexadecimal value contains a character that is not a digit."));
          return NULL;
        }
      bytes[i] = (guint8) (hi << 4 | lo);
    }

  return g_bytes_new_take (g_steal_pointer (&bytes), len / 2);
}

/**
 * tke_crypto_sha256:
 * @data: (array length=size): the message
 * @size: its length
 * @digest: (out caller-allocates) (array fixed-size=32): the SHA-256 of @data
 */
void
tke_crypto_sha256 (const guint8 *data, gsize size, guint8 digest[32])
{
  unsigned int digest_len = 32;

  if (!EVP_Digest (data, size, digest, &digest_len, EVP_sha256 (), NULL))
    g_error ("SHA-256 failed");
}

/**
 * tke_crypto_random_bytes:
 * @buffer: (out caller-allocates) (array length=size): the buffer to fill
 * @size: its length
 * @error: return location for a #GError
 *
 * Fills @buffer from OpenSSL's random number generator.
 *
 * Returns: %TRUE, or %FALSE with %TKE_ERROR_CRYPTO
 */
gboolean
tke_crypto_random_bytes (guint8 *buffer, gsize size, GError **error)
{
  if (RAND_bytes (buffer, (int) size) != 1)
    return _tke_crypto_set_error (error, "RAND_bytes");
  return TRUE;
}

/**
 * tke_crypto_verification_pattern:
 * @key: a master key or key part
 * @vp: (out caller-allocates) (array fixed-size=32): the SHA-256 of @key
 */
void
tke_crypto_verification_pattern (const TkeSecret *key, guint8 vp[TKE_VP_SIZE])
{
  g_return_if_fail (key != NULL);

  tke_crypto_sha256 (tke_secret_get_data (key), tke_secret_get_size (key), vp);
}

/**
 * tke_crypto_wkid:
 * @key: a master key
 * @wkid: (out caller-allocates) (array fixed-size=16): the key's identifier
 *
 * As in EP11, a blob names the key that wraps it by the first 16 bytes of
 * that key's verification pattern.
 */
void
tke_crypto_wkid (const TkeSecret *key, guint8 wkid[TKE_WKID_SIZE])
{
  guint8 vp[TKE_VP_SIZE];

  tke_crypto_verification_pattern (key, vp);
  memcpy (wkid, vp, TKE_WKID_SIZE);
}

/**
 * tke_crypto_xor:
 * @a: a key part
 * @b: a key part of the same size
 * @error: return location for a #GError
 *
 * Returns: (transfer full): @a XOR @b, or %NULL if the sizes differ
 */
TkeSecret *
tke_crypto_xor (const TkeSecret *a, const TkeSecret *b, GError **error)
{
  gsize size = tke_secret_get_size (a);
  TkeSecret *result;
  guint8 *out;

  if (size != tke_secret_get_size (b))
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("Key parts of different lengths cannot be combined."));
      return NULL;
    }

  result = tke_secret_try_new (size, error);
  if (result == NULL)
    return NULL;
  out = tke_secret_get_mutable_data (result);
  for (gsize i = 0; i < size; i++)
    out[i] = tke_secret_get_data (a)[i] ^ tke_secret_get_data (b)[i];

  return result;
}

/* ECDSA P-521 */

/**
 * tke_crypto_ec_generate: (skip)
 * @error: return location for a #GError
 *
 * Skipped by introspection: OpenSSL's EVP_PKEY is no GObject type.
 *
 * Returns: (transfer full): a new P-521 key pair, or %NULL
 */
EVP_PKEY *
tke_crypto_ec_generate (GError **error)
{
  EVP_PKEY *key = EVP_EC_gen (EC_GROUP_NAME);

  if (key == NULL)
    _tke_crypto_set_error (error, "EC key generation");
  return key;
}

/**
 * tke_crypto_ec_public_point: (skip)
 * @key: an EC key
 * @error: return location for a #GError
 *
 * Always the uncompressed form, whatever form the key was read in: the
 * SKI is defined on it (a SEC1 key may carry a compressed point, and
 * OpenSSL then encodes the key's point compressed).
 *
 * Returns: (transfer full): the uncompressed public point, 0x04 ‖ X ‖ Y
 *   with each coordinate left-padded to the field size (133 bytes for P-521)
 */
GBytes *
tke_crypto_ec_public_point (EVP_PKEY *key, GError **error)
{
  g_autoptr (BIGNUM) x = NULL;
  g_autoptr (BIGNUM) y = NULL;
  g_autofree guint8 *point = NULL;
  int bits;
  gsize field;

  g_return_val_if_fail (key != NULL, NULL);

  bits = EVP_PKEY_get_bits (key);
  if (bits <= 0 || !EVP_PKEY_get_bn_param (key, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
      !EVP_PKEY_get_bn_param (key, OSSL_PKEY_PARAM_EC_PUB_Y, &y))
    {
      _tke_crypto_set_error (error, "Reading the public key");
      return NULL;
    }

  field = ((gsize) bits + 7) / 8;
  point = g_malloc (1 + 2 * field);
  point[0] = 0x04;
  if (BN_bn2binpad (x, point + 1, (int) field) < 0 ||
      BN_bn2binpad (y, point + 1 + field, (int) field) < 0)
    {
      _tke_crypto_set_error (error, "Reading the public key");
      return NULL;
    }

  return g_bytes_new_take (g_steal_pointer (&point), 1 + 2 * field);
}

static EVP_PKEY *
public_key_from_point (const char *group, const guint8 *point, gsize size, GError **error)
{
  g_autoptr (OSSL_PARAM_BLD) builder = OSSL_PARAM_BLD_new ();
  g_autoptr (OSSL_PARAM) params = NULL;
  g_autoptr (EVP_PKEY_CTX) ctx = NULL;
  EVP_PKEY *key = NULL;

  if (builder == NULL ||
      !OSSL_PARAM_BLD_push_utf8_string (builder, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string (builder, OSSL_PKEY_PARAM_PUB_KEY, point, size) ||
      (params = OSSL_PARAM_BLD_to_param (builder)) == NULL)
    {
      _tke_crypto_set_error (error, "Building a public key");
      return NULL;
    }

  ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);
  if (ctx == NULL || EVP_PKEY_fromdata_init (ctx) <= 0 ||
      EVP_PKEY_fromdata (ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    {
      ERR_clear_error ();
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The public key is not a valid point on the curve."));
      return NULL;
    }

  return key;
}

/**
 * tke_crypto_ec_public_key_from_point: (skip)
 * @point: (array length=size): an uncompressed P-521 point
 * @size: its length
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the public key, or %NULL if @point is not on the curve
 */
EVP_PKEY *
tke_crypto_ec_public_key_from_point (const guint8 *point, gsize size, GError **error)
{
  g_return_val_if_fail (point != NULL, NULL);

  return public_key_from_point (EC_GROUP_NAME, point, size, error);
}

static TkeSecret *
secret_from_bio (BIO *bio)
{
  char *data = NULL;
  long len = BIO_get_mem_data (bio, &data);

  return tke_secret_new_from_data ((const guint8 *) data, (gsize) len);
}

/**
 * tke_crypto_ec_private_key_to_pem: (skip)
 * @key: a private key
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the PKCS#8 PEM text, in secure memory, without a terminating NUL
 */
TkeSecret *
tke_crypto_ec_private_key_to_pem (EVP_PKEY *key, GError **error)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_secmem ());

  if (bio == NULL || !PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL))
    {
      _tke_crypto_set_error (error, "Writing the private key");
      return NULL;
    }

  return secret_from_bio (bio);
}

/**
 * tke_crypto_ec_private_key_to_sec1_pem: (skip)
 * @key: an EC private key
 * @error: return location for a #GError
 *
 * What the service's plug-in and its SDK keep in a signature key file:
 * the SEC1 `ECPrivateKey` DER (RFC 5915, with the curve's name and the
 * public point) in a PEM block labelled `PRIVATE KEY` — the label of
 * PKCS#8, but the SDK parses the content with `x509.ParseECPrivateKey`.
 *
 * Returns: (transfer full): the PEM text, in secure memory, without a
 *   terminating NUL
 */
TkeSecret *
tke_crypto_ec_private_key_to_sec1_pem (EVP_PKEY *key, GError **error)
{
  g_autoptr (BIO) der = BIO_new (BIO_s_secmem ());
  g_autoptr (BIO) pem = BIO_new (BIO_s_secmem ());
  g_autoptr (OSSL_ENCODER_CTX) ctx = NULL;
  unsigned char *data = NULL;
  long len;

  g_return_val_if_fail (key != NULL, NULL);

  ctx = OSSL_ENCODER_CTX_new_for_pkey (key, EVP_PKEY_KEYPAIR, "DER", "type-specific", NULL);
  if (der == NULL || pem == NULL || ctx == NULL || OSSL_ENCODER_CTX_get_num_encoders (ctx) == 0 ||
      !OSSL_ENCODER_to_bio (ctx, der))
    {
      _tke_crypto_set_error (error, "Writing the private key");
      return NULL;
    }

  len = BIO_get_mem_data (der, (char **) &data);
  if (len <= 0 || !PEM_write_bio (pem, PEM_STRING_PKCS8INF, "", data, len))
    {
      _tke_crypto_set_error (error, "Writing the private key");
      return NULL;
    }

  return secret_from_bio (pem);
}

static void
pem_der_free (unsigned char *der, long len)
{
  OPENSSL_secure_clear_free (der, (size_t) MAX (len, 0));
}

/* The DER of one PEM block, in secure memory: PKCS#8 (which tke wrote
 * before) or SEC1 (which the plug-in writes), under either label. */
static EVP_PKEY *
private_key_from_der (const unsigned char *der, long len)
{
  g_autoptr (OSSL_DECODER_CTX) ctx = NULL;
  EVP_PKEY *key = NULL;
  size_t left = (size_t) len;

  ctx = OSSL_DECODER_CTX_new_for_pkey (&key, "DER", NULL, "EC", EVP_PKEY_KEYPAIR, NULL, NULL);
  if (ctx == NULL || OSSL_DECODER_CTX_get_num_decoders (ctx) == 0 ||
      !OSSL_DECODER_from_data (ctx, &der, &left))
    return NULL;
  return key;
}

/**
 * tke_crypto_ec_private_key_from_pem: (skip)
 * @pem: PEM text: `PRIVATE KEY` holding PKCS#8 or SEC1 `ECPrivateKey`
 *   DER (the plug-in's files), or `EC PRIVATE KEY` holding SEC1
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the P-521 private key, or %NULL
 */
EVP_PKEY *
tke_crypto_ec_private_key_from_pem (const TkeSecret *pem, GError **error)
{
  g_autoptr (BIO) bio =
      BIO_new_mem_buf (tke_secret_get_data (pem), (int) tke_secret_get_size (pem));
  g_autoptr (EVP_PKEY) key = NULL;
  char *name = NULL;
  char *header = NULL;
  unsigned char *der = NULL;
  long len = 0;
  char group[32] = "";

  if (bio != NULL && PEM_read_bio_ex (bio, &name, &header, &der, &len, PEM_FLAG_SECURE) > 0 &&
      (g_strcmp0 (name, PEM_STRING_PKCS8INF) == 0 ||
       g_strcmp0 (name, PEM_STRING_ECPRIVATEKEY) == 0))
    key = private_key_from_der (der, len);
  OPENSSL_secure_free (name);
  OPENSSL_secure_free (header);
  if (der != NULL)
    pem_der_free (der, len);

  if (key == NULL ||
      !EVP_PKEY_get_utf8_string_param (key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       NULL) ||
      (g_ascii_strcasecmp (group, EC_GROUP_NAME) != 0 &&
       g_ascii_strcasecmp (group, "secp521r1") != 0))
    {
      ERR_clear_error ();
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The private key is not a P-521 key in PEM format."));
      return NULL;
    }

  return g_steal_pointer (&key);
}

/**
 * tke_crypto_ski: (skip)
 * @key: an administrator's signature key
 * @ski: (out caller-allocates) (array fixed-size=32): SHA-256 of the uncompressed public point
 * @error: return location for a #GError
 */
gboolean
tke_crypto_ski (EVP_PKEY *key, guint8 ski[TKE_SKI_SIZE], GError **error)
{
  g_autoptr (GBytes) point = tke_crypto_ec_public_point (key, error);
  gsize size;
  const guint8 *data;

  if (point == NULL)
    return FALSE;

  data = g_bytes_get_data (point, &size);
  tke_crypto_sha256 (data, size, ski);
  return TRUE;
}

/**
 * tke_crypto_sign: (skip)
 * @key: a P-521 private key
 * @data: (array length=size): the message
 * @size: its length
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a DER ECDSA-Sig-Value over SHA-512 of @data
 */
GBytes *
tke_crypto_sign (EVP_PKEY *key, const guint8 *data, gsize size, GError **error)
{
  g_autoptr (EVP_MD_CTX) ctx = EVP_MD_CTX_new ();
  g_autofree guint8 *signature = NULL;
  size_t signature_len = 0;

  if (ctx == NULL || EVP_DigestSignInit (ctx, NULL, EVP_sha512 (), NULL, key) != 1 ||
      EVP_DigestSign (ctx, NULL, &signature_len, data, size) != 1)
    {
      _tke_crypto_set_error (error, "Signing");
      return NULL;
    }

  signature = g_malloc (signature_len);
  if (EVP_DigestSign (ctx, signature, &signature_len, data, size) != 1)
    {
      _tke_crypto_set_error (error, "Signing");
      return NULL;
    }

  return g_bytes_new_take (g_steal_pointer (&signature), signature_len);
}

/**
 * tke_crypto_verify: (skip)
 * @key: a P-521 public key
 * @data: (array length=size): the message
 * @size: its length
 * @signature: (array length=signature_size): a DER ECDSA signature
 * @signature_size: its length
 * @error: return location for a #GError
 *
 * Returns: %TRUE if @signature is @key's over @data; otherwise
 *   %FALSE with %TKE_ERROR_INTEGRITY
 */
gboolean
tke_crypto_verify (EVP_PKEY *key,
                   const guint8 *data,
                   gsize size,
                   const guint8 *signature,
                   gsize signature_size,
                   GError **error)
{
  g_autoptr (EVP_MD_CTX) ctx = EVP_MD_CTX_new ();

  if (ctx == NULL || EVP_DigestVerifyInit (ctx, NULL, EVP_sha512 (), NULL, key) != 1)
    return _tke_crypto_set_error (error, "Verifying a signature");

  if (EVP_DigestVerify (ctx, signature, signature_size, data, size) != 1)
    {
      ERR_clear_error ();
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INTEGRITY,
                           _ ("The signature does not verify."));
      return FALSE;
    }

  return TRUE;
}

/* Sealing */

static TkeSecret *
ecdh_shared_secret (EVP_PKEY *own, EVP_PKEY *peer, GError **error)
{
  g_autoptr (EVP_PKEY_CTX) ctx = EVP_PKEY_CTX_new_from_pkey (NULL, own, NULL);
  g_autoptr (TkeSecret) secret = NULL;
  size_t len = 0;

  if (ctx == NULL || EVP_PKEY_derive_init (ctx) <= 0 || EVP_PKEY_derive_set_peer (ctx, peer) <= 0 ||
      EVP_PKEY_derive (ctx, NULL, &len) <= 0)
    {
      _tke_crypto_set_error (error, "ECDH");
      return NULL;
    }

  secret = tke_secret_try_new (len, error);
  if (secret == NULL)
    return NULL;
  if (EVP_PKEY_derive (ctx, tke_secret_get_mutable_data (secret), &len) <= 0)
    {
      _tke_crypto_set_error (error, "ECDH");
      return NULL;
    }

  return g_steal_pointer (&secret);
}

/* The sealing key is bound to both public points, so a sealed part can
 * neither be redirected to another unit nor have its ephemeral key swapped. */
static TkeSecret *
derive_seal_key (
    EVP_PKEY *own, EVP_PKEY *peer, GBytes *ephemeral_point, GBytes *recipient_point, GError **error)
{
  g_autoptr (TkeSecret) shared = ecdh_shared_secret (own, peer, error);
  g_autoptr (GByteArray) salt = g_byte_array_new ();
  gsize size;
  const guint8 *data;

  if (shared == NULL)
    return NULL;

  data = g_bytes_get_data (ephemeral_point, &size);
  g_byte_array_append (salt, data, size);
  data = g_bytes_get_data (recipient_point, &size);
  g_byte_array_append (salt, data, size);

  return tke_crypto_hkdf_sha256 (shared, salt->data, salt->len, (const guint8 *) SEAL_INFO,
                                 strlen (SEAL_INFO), 32, error);
}

/**
 * tke_crypto_seal: (skip)
 * @recipient: the unit's importer public key (P-521)
 * @aad: (array length=aad_size) (nullable): associated data: unit, register, part number
 * @aad_size: its length
 * @plaintext: the key part
 * @error: return location for a #GError
 *
 * The sealed form is: version (1 byte) ‖ ephemeral public point ‖
 * GCM nonce (12) ‖ ciphertext ‖ tag (16).  Only the holder of the
 * importer private key can open it, and only with the same @aad.
 *
 * Returns: (transfer full): the sealed part
 */
GBytes *
tke_crypto_seal (EVP_PKEY *recipient,
                 const guint8 *aad,
                 gsize aad_size,
                 const TkeSecret *plaintext,
                 GError **error)
{
  g_autoptr (EVP_PKEY_CTX) gen = EVP_PKEY_CTX_new_from_pkey (NULL, recipient, NULL);
  g_autoptr (EVP_PKEY) ephemeral = NULL;
  g_autoptr (GBytes) ephemeral_point = NULL;
  g_autoptr (GBytes) recipient_point = NULL;
  g_autoptr (TkeSecret) key = NULL;
  g_autoptr (GBytes) ciphertext = NULL;
  g_autoptr (GByteArray) sealed = g_byte_array_new ();
  guint8 version = SEAL_VERSION;
  guint8 nonce[TKE_GCM_NONCE_SIZE];
  gsize size;
  const guint8 *data;

  if (gen == NULL || EVP_PKEY_keygen_init (gen) <= 0 || EVP_PKEY_keygen (gen, &ephemeral) <= 0)
    {
      _tke_crypto_set_error (error, "Ephemeral key generation");
      return NULL;
    }

  if ((ephemeral_point = tke_crypto_ec_public_point (ephemeral, error)) == NULL ||
      (recipient_point = tke_crypto_ec_public_point (recipient, error)) == NULL ||
      (key = derive_seal_key (ephemeral, recipient, ephemeral_point, recipient_point, error)) ==
          NULL ||
      !tke_crypto_random_bytes (nonce, sizeof nonce, error))
    return NULL;

  ciphertext =
      tke_crypto_aes_gcm_encrypt (key, nonce, aad, aad_size, tke_secret_get_data (plaintext),
                                  tke_secret_get_size (plaintext), error);
  if (ciphertext == NULL)
    return NULL;

  g_byte_array_append (sealed, &version, 1);
  data = g_bytes_get_data (ephemeral_point, &size);
  g_byte_array_append (sealed, data, size);
  g_byte_array_append (sealed, nonce, sizeof nonce);
  data = g_bytes_get_data (ciphertext, &size);
  g_byte_array_append (sealed, data, size);

  return g_byte_array_free_to_bytes (g_steal_pointer (&sealed));
}

/**
 * tke_crypto_open: (skip)
 * @recipient: the importer private key
 * @aad: (array length=aad_size) (nullable): the associated data it was sealed with
 * @aad_size: its length
 * @sealed: (array length=sealed_size): the output of tke_crypto_seal()
 * @sealed_size: its length
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the key part, or %NULL with %TKE_ERROR_INTEGRITY
 *   if it was tampered with, sealed to another key or with other data
 */
TkeSecret *
tke_crypto_open (EVP_PKEY *recipient,
                 const guint8 *aad,
                 gsize aad_size,
                 const guint8 *sealed,
                 gsize sealed_size,
                 GError **error)
{
  g_autoptr (GBytes) recipient_point = NULL;
  g_autoptr (GBytes) ephemeral_point = NULL;
  g_autoptr (EVP_PKEY) ephemeral = NULL;
  g_autoptr (TkeSecret) key = NULL;
  char group[32] = "";
  gsize point_size;
  gsize header;

  if ((recipient_point = tke_crypto_ec_public_point (recipient, error)) == NULL)
    return NULL;

  point_size = g_bytes_get_size (recipient_point);
  header = 1 + point_size + TKE_GCM_NONCE_SIZE;
  if (sealed_size < header + TKE_GCM_TAG_SIZE || sealed[0] != SEAL_VERSION)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The sealed key part is malformed."));
      return NULL;
    }

  EVP_PKEY_get_utf8_string_param (recipient, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL);
  ephemeral = public_key_from_point (group, sealed + 1, point_size, error);
  if (ephemeral == NULL)
    return NULL;

  ephemeral_point = g_bytes_new (sealed + 1, point_size);
  key = derive_seal_key (recipient, ephemeral, ephemeral_point, recipient_point, error);
  if (key == NULL)
    return NULL;

  return tke_crypto_aes_gcm_decrypt (key, sealed + 1 + point_size, aad, aad_size, sealed + header,
                                     sealed_size - header, error);
}
