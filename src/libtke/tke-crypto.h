/* tke-crypto.h: the cryptography of the ceremonies (OpenSSL 3 EVP)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <glib.h>
#include <openssl/evp.h>

#include "tke-secret.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

/* A master key and each of its parts: AES-256. */
#define TKE_MASTER_KEY_SIZE 32
/* Verification pattern: SHA-256 of a key value. */
#define TKE_VP_SIZE 32
/* Wrapping key identifier: the first 16 bytes of the wrapping key's VP. */
#define TKE_WKID_SIZE 16
/* Subject key identifier of an administrator's signature key. */
#define TKE_SKI_SIZE 32
#define TKE_GCM_NONCE_SIZE 12
#define TKE_GCM_TAG_SIZE 16

/**
 * TKE_CRYPTO_MAX_SECRET_SIZE:
 *
 * The largest secret a decryption or an unwrap produces, checked before
 * any secure memory is taken: a quarter of the 256 KiB secure heap, so
 * that one hostile input cannot take the room the ceremony's keys need.
 * Keys are 16 to 32 bytes, a P-521 private key in PEM under 400, and Key
 * Protect's own limit for a data key is 7 680 bytes.
 */
#define TKE_CRYPTO_MAX_SECRET_SIZE (64 * 1024)

/**
 * TKE_CRYPTO_SCRYPT_MAX_COST:
 *
 * The largest N·r·p that tke_crypto_scrypt() accepts, so that a file
 * cannot ask for gigabytes or minutes.  scrypt needs 128·N·r bytes and
 * time in proportion to N·r·p; 2^21 is 256 MiB in one lane (about a
 * second), 8 times the key files' own parameters (N 2^15, r 8, p 1).
 */
#define TKE_CRYPTO_SCRYPT_MAX_COST (G_GUINT64_CONSTANT (1) << 21)

/* Hex and digests */
TKE_AVAILABLE_IN_ALL
char *tke_crypto_hex_encode (const guint8 *data, gsize size);
TKE_AVAILABLE_IN_ALL
GBytes *tke_crypto_hex_decode (const char *hex, GError **error);
TKE_AVAILABLE_IN_ALL
void tke_crypto_sha256 (const guint8 *data, gsize size, guint8 digest[32]);
TKE_AVAILABLE_IN_ALL
gboolean tke_crypto_random_bytes (guint8 *buffer, gsize size, GError **error);

/* Master keys */
TKE_AVAILABLE_IN_ALL
void tke_crypto_verification_pattern (const TkeSecret *key, guint8 vp[TKE_VP_SIZE]);
TKE_AVAILABLE_IN_ALL
void tke_crypto_wkid (const TkeSecret *key, guint8 wkid[TKE_WKID_SIZE]);
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_crypto_xor (const TkeSecret *a, const TkeSecret *b, GError **error);

/* ECDSA P-521 with SHA-512 */
TKE_AVAILABLE_IN_ALL
EVP_PKEY *tke_crypto_ec_generate (GError **error);
TKE_AVAILABLE_IN_ALL
GBytes *tke_crypto_ec_public_point (EVP_PKEY *key, GError **error);
TKE_AVAILABLE_IN_ALL
EVP_PKEY *tke_crypto_ec_public_key_from_point (const guint8 *point, gsize size, GError **error);
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_crypto_ec_private_key_to_pem (EVP_PKEY *key, GError **error);
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_crypto_ec_private_key_to_sec1_pem (EVP_PKEY *key, GError **error);
TKE_AVAILABLE_IN_ALL
EVP_PKEY *tke_crypto_ec_private_key_from_pem (const TkeSecret *pem, GError **error);
TKE_AVAILABLE_IN_ALL
gboolean tke_crypto_ski (EVP_PKEY *key, guint8 ski[TKE_SKI_SIZE], GError **error);
TKE_AVAILABLE_IN_ALL
GBytes *tke_crypto_sign (EVP_PKEY *key, const guint8 *data, gsize size, GError **error);
TKE_AVAILABLE_IN_ALL
gboolean tke_crypto_verify (EVP_PKEY *key,
                            const guint8 *data,
                            gsize size,
                            const guint8 *signature,
                            gsize signature_size,
                            GError **error);

/* Sealing a key part to a crypto unit's importer key:
 * ECDH (P-521) + HKDF-SHA256 + AES-256-GCM with associated data. */
TKE_AVAILABLE_IN_ALL
GBytes *tke_crypto_seal (EVP_PKEY *recipient,
                         const guint8 *aad,
                         gsize aad_size,
                         const TkeSecret *plaintext,
                         GError **error);
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_crypto_open (EVP_PKEY *recipient,
                            const guint8 *aad,
                            gsize aad_size,
                            const guint8 *sealed,
                            gsize sealed_size,
                            GError **error);

/* AES-256 key wrap with padding (RFC 5649); the KEK may also be 128 or
 * 192 bits, for the RFC's own test vectors. */
TKE_AVAILABLE_IN_ALL
GBytes *
tke_crypto_kwp_wrap (const TkeSecret *kek, const guint8 *plaintext, gsize size, GError **error);
TKE_AVAILABLE_IN_ALL
TkeSecret *
tke_crypto_kwp_unwrap (const TkeSecret *kek, const guint8 *wrapped, gsize size, GError **error);

/**
 * TkeKwpContext: (skip)
 *
 * A reusable key-wrap context for bulk rewrapping: the KEK's key schedule
 * is set up once, each call wraps or unwraps one key.
 */
typedef struct _TkeKwpContext TkeKwpContext;

TKE_AVAILABLE_IN_ALL
TkeKwpContext *tke_crypto_kwp_context_new (const TkeSecret *kek, GError **error);
TKE_AVAILABLE_IN_ALL
void tke_crypto_kwp_context_free (TkeKwpContext *self);
TKE_AVAILABLE_IN_ALL
gssize tke_crypto_kwp_context_wrap (TkeKwpContext *self,
                                    const guint8 *plaintext,
                                    gsize size,
                                    guint8 *out,
                                    gsize out_size,
                                    GError **error);
TKE_AVAILABLE_IN_ALL
gssize tke_crypto_kwp_context_unwrap (TkeKwpContext *self,
                                      const guint8 *wrapped,
                                      gsize size,
                                      guint8 *out,
                                      gsize out_size,
                                      GError **error);

/* AES-256-GCM: the output is ciphertext followed by the 16-byte tag. */
TKE_AVAILABLE_IN_ALL
GBytes *tke_crypto_aes_gcm_encrypt (const TkeSecret *key,
                                    const guint8 nonce[TKE_GCM_NONCE_SIZE],
                                    const guint8 *aad,
                                    gsize aad_size,
                                    const guint8 *plaintext,
                                    gsize size,
                                    GError **error);
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_crypto_aes_gcm_decrypt (const TkeSecret *key,
                                       const guint8 nonce[TKE_GCM_NONCE_SIZE],
                                       const guint8 *aad,
                                       gsize aad_size,
                                       const guint8 *ciphertext,
                                       gsize size,
                                       GError **error);

/* Key derivation */
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_crypto_hkdf_sha256 (const TkeSecret *ikm,
                                   const guint8 *salt,
                                   gsize salt_size,
                                   const guint8 *info,
                                   gsize info_size,
                                   gsize out_size,
                                   GError **error);
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_crypto_pbkdf2_sha256 (const TkeSecret *password,
                                     const guint8 *salt,
                                     gsize salt_size,
                                     guint iterations,
                                     gsize out_size,
                                     GError **error);
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_crypto_scrypt (const TkeSecret *password,
                              const guint8 *salt,
                              gsize salt_size,
                              guint64 n,
                              guint32 r,
                              guint32 p,
                              gsize out_size,
                              GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY_CTX, EVP_PKEY_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeKwpContext, tke_crypto_kwp_context_free)

G_END_DECLS
