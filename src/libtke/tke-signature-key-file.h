/* tke-signature-key-file.h: an administrator's signature key in a file
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>
#include <openssl/evp.h>

#include "tke-secret.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

/**
 * TkeKeyFileKdf:
 * @TKE_KEY_FILE_KDF_PBKDF2: the plug-in layout: PBKDF2-HMAC-SHA256 with
 *   4096 iterations, as the service's own command-line plug-in and its
 *   SDK write and read; weak, for files that must go to those tools
 * @TKE_KEY_FILE_KDF_SCRYPT: the stronger layout: scrypt (N=2^15, r=8,
 *   p=1), tke's default; the plug-in refuses it with "Invalid password."
 *
 * How a signature key file turns its password into the key that encrypts
 * the private key, which is also the file's layout
 * (data/doc/signature-key-file.md).
 */
typedef enum
{
  TKE_KEY_FILE_KDF_PBKDF2,
  TKE_KEY_FILE_KDF_SCRYPT,
} TkeKeyFileKdf;

#define TKE_TYPE_SIGNATURE_KEY_FILE (tke_signature_key_file_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeSignatureKeyFile, tke_signature_key_file, TKE, SIGNATURE_KEY_FILE, GObject)

TKE_AVAILABLE_IN_ALL
gboolean tke_signature_key_file_create (const char *path,
                                        const char *admin_name,
                                        EVP_PKEY *key,
                                        const TkeSecret *password,
                                        TkeKeyFileKdf kdf,
                                        GError **error);
TKE_AVAILABLE_IN_ALL
TkeSignatureKeyFile *tke_signature_key_file_load (const char *path, GError **error);
TKE_AVAILABLE_IN_ALL
GBytes *tke_signature_key_file_build (const char *admin_name,
                                      EVP_PKEY *key,
                                      const TkeSecret *password,
                                      TkeKeyFileKdf kdf,
                                      GError **error);
TKE_AVAILABLE_IN_ALL
TkeSignatureKeyFile *
tke_signature_key_file_new_from_bytes (const char *name, GBytes *contents, GError **error);
TKE_AVAILABLE_IN_ALL
const char *tke_signature_key_file_get_path (TkeSignatureKeyFile *self);
TKE_AVAILABLE_IN_ALL
const char *tke_signature_key_file_get_admin_name (TkeSignatureKeyFile *self);
TKE_AVAILABLE_IN_ALL
const char *tke_signature_key_file_get_ski (TkeSignatureKeyFile *self);
TKE_AVAILABLE_IN_ALL
TkeKeyFileKdf tke_signature_key_file_get_kdf (TkeSignatureKeyFile *self);
TKE_AVAILABLE_IN_ALL
EVP_PKEY *tke_signature_key_file_unlock (TkeSignatureKeyFile *self,
                                         const TkeSecret *password,
                                         GError **error);
TKE_AVAILABLE_IN_ALL
gboolean tke_signature_key_file_rewrite (TkeSignatureKeyFile *self,
                                         const TkeSecret *password,
                                         TkeKeyFileKdf kdf,
                                         GError **error);

G_END_DECLS
