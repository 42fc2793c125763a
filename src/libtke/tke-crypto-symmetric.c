/* tke-crypto-symmetric.c: key wrap (RFC 5649), AES-256-GCM and the KDFs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>

#include <glib/gi18n-lib.h>

#include "tke-crypto-private.h"
#include "tke-crypto.h"
#include "tke-error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_KDF, EVP_KDF_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_KDF_CTX, EVP_KDF_CTX_free)

/* Key wrap with padding */

static const EVP_CIPHER *
kwp_cipher_for (const TkeSecret *kek, GError **error)
{
  switch (tke_secret_get_size (kek))
    {
    case 16:
      return EVP_aes_128_wrap_pad ();
    case 24:
      return EVP_aes_192_wrap_pad ();
    case 32:
      return EVP_aes_256_wrap_pad ();
    default:
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("A key-encrypting key must be 128, 192 or 256 bits long."));
      return NULL;
    }
}

/**
 * tke_crypto_kwp_wrap:
 * @kek: the key-encrypting key (the master key)
 * @plaintext: (array length=size): the key to wrap
 * @size: its length, 1 to 2^31 bytes
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the RFC 5649 wrapping of @plaintext
 */
GBytes *
tke_crypto_kwp_wrap (const TkeSecret *kek, const guint8 *plaintext, gsize size, GError **error)
{
  const EVP_CIPHER *cipher = kwp_cipher_for (kek, error);
  g_autoptr (EVP_CIPHER_CTX) ctx = NULL;
  g_autofree guint8 *out = NULL;
  int out_len = 0;

  if (cipher == NULL)
    return NULL;
  if (size == 0 || size > G_MAXINT - 16)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("Nothing to wrap, or too much."));
      return NULL;
    }

  out = g_malloc (size + 16);
  ctx = EVP_CIPHER_CTX_new ();
  if (ctx == NULL ||
      EVP_EncryptInit_ex2 (ctx, cipher, tke_secret_get_data (kek), NULL, NULL) != 1 ||
      EVP_EncryptUpdate (ctx, out, &out_len, plaintext, (int) size) != 1)
    {
      _tke_crypto_set_error (error, "Key wrap");
      return NULL;
    }

  return g_bytes_new_take (g_steal_pointer (&out), (gsize) out_len);
}

/**
 * tke_crypto_kwp_unwrap:
 * @kek: the key-encrypting key
 * @wrapped: (array length=size): an RFC 5649 wrapped key
 * @size: its length
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the unwrapped key, or %NULL with
 *   %TKE_ERROR_INTEGRITY when the integrity check fails (wrong KEK or tampered)
 */
TkeSecret *
tke_crypto_kwp_unwrap (const TkeSecret *kek, const guint8 *wrapped, gsize size, GError **error)
{
  const EVP_CIPHER *cipher = kwp_cipher_for (kek, error);
  g_autoptr (EVP_CIPHER_CTX) ctx = NULL;
  g_autoptr (TkeSecret) buffer = NULL;
  int out_len = 0;

  if (cipher == NULL)
    return NULL;
  if (size < 16 || size % 8 != 0 || size > G_MAXINT)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("A wrapped key must be a multiple of 8 bytes and at least 16."));
      return NULL;
    }

  buffer = tke_secret_new (size);
  ctx = EVP_CIPHER_CTX_new ();
  if (ctx == NULL || EVP_DecryptInit_ex2 (ctx, cipher, tke_secret_get_data (kek), NULL, NULL) != 1)
    {
      _tke_crypto_set_error (error, "Key unwrap");
      return NULL;
    }

  if (EVP_DecryptUpdate (ctx, tke_secret_get_mutable_data (buffer), &out_len, wrapped,
                         (int) size) != 1 ||
      out_len <= 0)
    {
      ERR_clear_error ();
      g_set_error_literal (
          error, TKE_ERROR, TKE_ERROR_INTEGRITY,
          _ ("The wrapped key does not unwrap: wrong key, or the data was altered."));
      return NULL;
    }

  return tke_secret_new_from_data (tke_secret_get_data (buffer), (gsize) out_len);
}

/* Reusable key wrap contexts */

struct _TkeKwpContext
{
  EVP_CIPHER_CTX *wrap;
  EVP_CIPHER_CTX *unwrap;
};

/**
 * tke_crypto_kwp_context_new:
 * @kek: the key-encrypting key (128, 192 or 256 bits)
 * @error: return location for a #GError
 *
 * The key schedule lives in OpenSSL's cipher contexts, which are freed
 * (and cleansed) by tke_crypto_kwp_context_free().
 *
 * Returns: (transfer full): a context for many wraps and unwraps under @kek
 */
TkeKwpContext *
tke_crypto_kwp_context_new (const TkeSecret *kek, GError **error)
{
  const EVP_CIPHER *cipher = kwp_cipher_for (kek, error);
  g_autoptr (TkeKwpContext) self = NULL;

  if (cipher == NULL)
    return NULL;

  self = g_new0 (TkeKwpContext, 1);
  self->wrap = EVP_CIPHER_CTX_new ();
  self->unwrap = EVP_CIPHER_CTX_new ();
  if (self->wrap == NULL || self->unwrap == NULL ||
      EVP_EncryptInit_ex2 (self->wrap, cipher, tke_secret_get_data (kek), NULL, NULL) != 1 ||
      EVP_DecryptInit_ex2 (self->unwrap, cipher, tke_secret_get_data (kek), NULL, NULL) != 1)
    {
      _tke_crypto_set_error (error, "Key wrap");
      return NULL;
    }

  return g_steal_pointer (&self);
}

void
tke_crypto_kwp_context_free (TkeKwpContext *self)
{
  if (self == NULL)
    return;
  EVP_CIPHER_CTX_free (self->wrap);
  EVP_CIPHER_CTX_free (self->unwrap);
  g_free (self);
}

/**
 * tke_crypto_kwp_context_wrap:
 * @self: a context
 * @plaintext: (array length=size): the key to wrap
 * @size: its length
 * @out: (array length=out_size): the buffer for the wrapped key
 * @out_size: its length, at least @size + 15 rounded up to 8, plus 8
 * @error: return location for a #GError
 *
 * Returns: the length of the wrapped key, or -1
 */
gssize
tke_crypto_kwp_context_wrap (TkeKwpContext *self,
                             const guint8 *plaintext,
                             gsize size,
                             guint8 *out,
                             gsize out_size,
                             GError **error)
{
  gsize needed = ((size + 7) / 8) * 8 + 8;
  int out_len = 0;

  g_return_val_if_fail (self != NULL, -1);

  if (size == 0 || size > G_MAXINT - 16 || out_size < needed)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("Nothing to wrap, or too much."));
      return -1;
    }

  if (EVP_EncryptUpdate (self->wrap, out, &out_len, plaintext, (int) size) != 1 || out_len <= 0)
    {
      _tke_crypto_set_error (error, "Key wrap");
      return -1;
    }

  return out_len;
}

/**
 * tke_crypto_kwp_context_unwrap:
 * @self: a context
 * @wrapped: (array length=size): an RFC 5649 wrapped key
 * @size: its length
 * @out: (array length=out_size): the buffer for the key, at least @size bytes;
 *   the caller wipes it
 * @out_size: its length
 * @error: return location for a #GError
 *
 * Returns: the length of the key, or -1 with %TKE_ERROR_INTEGRITY when the
 *   integrity check fails
 */
gssize
tke_crypto_kwp_context_unwrap (TkeKwpContext *self,
                               const guint8 *wrapped,
                               gsize size,
                               guint8 *out,
                               gsize out_size,
                               GError **error)
{
  int out_len = 0;

  g_return_val_if_fail (self != NULL, -1);

  if (size < 16 || size % 8 != 0 || size > G_MAXINT || out_size < size)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("A wrapped key must be a multiple of 8 bytes and at least 16."));
      return -1;
    }

  if (EVP_DecryptUpdate (self->unwrap, out, &out_len, wrapped, (int) size) != 1 || out_len <= 0)
    {
      ERR_clear_error ();
      OPENSSL_cleanse (out, out_size);
      g_set_error_literal (
          error, TKE_ERROR, TKE_ERROR_INTEGRITY,
          _ ("The wrapped key does not unwrap: wrong key, or the data was altered."));
      return -1;
    }

  return out_len;
}

/* AES-256-GCM */

/**
 * tke_crypto_aes_gcm_encrypt:
 * @key: a 256-bit key
 * @nonce: (array fixed-size=12): a nonce never used before with @key
 * @aad: (array length=aad_size) (nullable): associated data
 * @aad_size: its length
 * @plaintext: (array length=size): the data to encrypt
 * @size: its length
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the ciphertext followed by the 16-byte tag
 */
GBytes *
tke_crypto_aes_gcm_encrypt (const TkeSecret *key,
                            const guint8 nonce[TKE_GCM_NONCE_SIZE],
                            const guint8 *aad,
                            gsize aad_size,
                            const guint8 *plaintext,
                            gsize size,
                            GError **error)
{
  g_autoptr (EVP_CIPHER_CTX) ctx = EVP_CIPHER_CTX_new ();
  g_autofree guint8 *out = g_malloc (size + TKE_GCM_TAG_SIZE);
  int len = 0;
  int final_len = 0;

  if (tke_secret_get_size (key) != 32)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("AES-256-GCM needs a 256-bit key."));
      return NULL;
    }

  if (ctx == NULL ||
      EVP_EncryptInit_ex2 (ctx, EVP_aes_256_gcm (), tke_secret_get_data (key), nonce, NULL) != 1 ||
      (aad_size > 0 && EVP_EncryptUpdate (ctx, NULL, &len, aad, (int) aad_size) != 1) ||
      EVP_EncryptUpdate (ctx, out, &len, plaintext, (int) size) != 1 ||
      EVP_EncryptFinal_ex (ctx, out + len, &final_len) != 1 ||
      EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_GET_TAG, TKE_GCM_TAG_SIZE, out + len + final_len) != 1)
    {
      _tke_crypto_set_error (error, "AES-GCM encryption");
      return NULL;
    }

  return g_bytes_new_take (g_steal_pointer (&out), (gsize) (len + final_len) + TKE_GCM_TAG_SIZE);
}

/**
 * tke_crypto_aes_gcm_decrypt:
 * @key: a 256-bit key
 * @nonce: (array fixed-size=12): the nonce of the encryption
 * @aad: (array length=aad_size) (nullable): the associated data
 * @aad_size: its length
 * @ciphertext: (array length=size): the ciphertext followed by the tag
 * @size: its length
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the plaintext, or %NULL with %TKE_ERROR_INTEGRITY
 */
TkeSecret *
tke_crypto_aes_gcm_decrypt (const TkeSecret *key,
                            const guint8 nonce[TKE_GCM_NONCE_SIZE],
                            const guint8 *aad,
                            gsize aad_size,
                            const guint8 *ciphertext,
                            gsize size,
                            GError **error)
{
  g_autoptr (EVP_CIPHER_CTX) ctx = EVP_CIPHER_CTX_new ();
  g_autoptr (TkeSecret) out = NULL;
  gsize body = size - TKE_GCM_TAG_SIZE;
  int len = 0;
  int final_len = 0;

  if (tke_secret_get_size (key) != 32)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("AES-256-GCM needs a 256-bit key."));
      return NULL;
    }
  if (size <= TKE_GCM_TAG_SIZE)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The encrypted data is too short."));
      return NULL;
    }

  out = tke_secret_new (body);
  if (ctx == NULL ||
      EVP_DecryptInit_ex2 (ctx, EVP_aes_256_gcm (), tke_secret_get_data (key), nonce, NULL) != 1 ||
      (aad_size > 0 && EVP_DecryptUpdate (ctx, NULL, &len, aad, (int) aad_size) != 1) ||
      EVP_DecryptUpdate (ctx, tke_secret_get_mutable_data (out), &len, ciphertext, (int) body) !=
          1 ||
      EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_SET_TAG, TKE_GCM_TAG_SIZE,
                           (void *) (ciphertext + body)) != 1)
    {
      _tke_crypto_set_error (error, "AES-GCM decryption");
      return NULL;
    }

  if (EVP_DecryptFinal_ex (ctx, tke_secret_get_mutable_data (out) + len, &final_len) != 1)
    {
      ERR_clear_error ();
      g_set_error_literal (
          error, TKE_ERROR, TKE_ERROR_INTEGRITY,
          _ ("The encrypted data does not authenticate: wrong key, or it was altered."));
      return NULL;
    }

  return g_steal_pointer (&out);
}

/* Key derivation */

static TkeSecret *
run_kdf (const char *name, const OSSL_PARAM *params, gsize out_size, GError **error)
{
  g_autoptr (EVP_KDF) kdf = EVP_KDF_fetch (NULL, name, NULL);
  g_autoptr (EVP_KDF_CTX) ctx = NULL;
  g_autoptr (TkeSecret) out = tke_secret_new (out_size);

  if (kdf == NULL || (ctx = EVP_KDF_CTX_new (kdf)) == NULL ||
      EVP_KDF_derive (ctx, tke_secret_get_mutable_data (out), out_size, params) != 1)
    {
      _tke_crypto_set_error (error, name);
      return NULL;
    }

  return g_steal_pointer (&out);
}

/**
 * tke_crypto_hkdf_sha256:
 * @ikm: the input key material
 * @salt: (array length=salt_size) (nullable): the salt
 * @salt_size: its length
 * @info: (array length=info_size) (nullable): the context
 * @info_size: its length
 * @out_size: the number of bytes to derive
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the derived key
 */
TkeSecret *
tke_crypto_hkdf_sha256 (const TkeSecret *ikm,
                        const guint8 *salt,
                        gsize salt_size,
                        const guint8 *info,
                        gsize info_size,
                        gsize out_size,
                        GError **error)
{
  OSSL_PARAM params[] = {
    OSSL_PARAM_utf8_string (OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0),
    OSSL_PARAM_octet_string (OSSL_KDF_PARAM_KEY, (void *) tke_secret_get_data (ikm),
                             tke_secret_get_size (ikm)),
    OSSL_PARAM_octet_string (OSSL_KDF_PARAM_SALT, (void *) salt, salt_size),
    OSSL_PARAM_octet_string (OSSL_KDF_PARAM_INFO, (void *) info, info_size),
    OSSL_PARAM_END,
  };

  return run_kdf (OSSL_KDF_NAME_HKDF, params, out_size, error);
}

/**
 * tke_crypto_pbkdf2_sha256:
 * @password: the password
 * @salt: (array length=salt_size): the salt
 * @salt_size: its length
 * @iterations: the iteration count
 * @out_size: the number of bytes to derive
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the derived key
 */
TkeSecret *
tke_crypto_pbkdf2_sha256 (const TkeSecret *password,
                          const guint8 *salt,
                          gsize salt_size,
                          guint iterations,
                          gsize out_size,
                          GError **error)
{
  uint64_t iter = iterations;
  /* The legacy key file format has 4096 iterations and short test
   * vectors; SP 800-132's lower bounds are checked by the callers. */
  int lower_bound_checks_off = 1;
  OSSL_PARAM params[] = {
    OSSL_PARAM_utf8_string (OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0),
    OSSL_PARAM_octet_string (OSSL_KDF_PARAM_PASSWORD, (void *) tke_secret_get_data (password),
                             tke_secret_get_size (password)),
    OSSL_PARAM_octet_string (OSSL_KDF_PARAM_SALT, (void *) salt, salt_size),
    OSSL_PARAM_uint64 (OSSL_KDF_PARAM_ITER, &iter),
    OSSL_PARAM_int (OSSL_KDF_PARAM_PKCS5, &lower_bound_checks_off),
    OSSL_PARAM_END,
  };

  return run_kdf (OSSL_KDF_NAME_PBKDF2, params, out_size, error);
}

/**
 * tke_crypto_scrypt:
 * @password: the password
 * @salt: (array length=salt_size): the salt
 * @salt_size: its length
 * @n: the CPU/memory cost, a power of 2
 * @r: the block size
 * @p: the parallelism
 * @out_size: the number of bytes to derive
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the derived key
 */
TkeSecret *
tke_crypto_scrypt (const TkeSecret *password,
                   const guint8 *salt,
                   gsize salt_size,
                   guint64 n,
                   guint32 r,
                   guint32 p,
                   gsize out_size,
                   GError **error)
{
  uint64_t cost = n;
  uint32_t block_size = r;
  uint32_t parallelism = p;
  uint64_t max_memory = G_GUINT64_CONSTANT (1) << 31;
  OSSL_PARAM params[] = {
    OSSL_PARAM_octet_string (OSSL_KDF_PARAM_PASSWORD, (void *) tke_secret_get_data (password),
                             tke_secret_get_size (password)),
    OSSL_PARAM_octet_string (OSSL_KDF_PARAM_SALT, (void *) salt, salt_size),
    OSSL_PARAM_uint64 (OSSL_KDF_PARAM_SCRYPT_N, &cost),
    OSSL_PARAM_uint32 (OSSL_KDF_PARAM_SCRYPT_R, &block_size),
    OSSL_PARAM_uint32 (OSSL_KDF_PARAM_SCRYPT_P, &parallelism),
    OSSL_PARAM_uint64 (OSSL_KDF_PARAM_SCRYPT_MAXMEM, &max_memory),
    OSSL_PARAM_END,
  };

  return run_kdf (OSSL_KDF_NAME_SCRYPT, params, out_size, error);
}
