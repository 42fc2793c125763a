/* sdk-sigkey.h: signature key files as the service's plug-in and its SDK
 * write and read them, done with OpenSSL directly (not with libtke), for
 * the tests of libtke's reader and writer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <openssl/evp.h>

G_BEGIN_DECLS

/* How the helper writes the public point inside the SEC1 DER. */
typedef enum
{
  SDK_POINT_UNCOMPRESSED, /* what Go's x509.MarshalECPrivateKey writes */
  SDK_POINT_COMPRESSED,   /* allowed by SEC1; the SKI is still on the uncompressed point */
} SdkPointForm;

/* Writes @key (P-521) to @path in the SDK's layout: the SEC1 DER that
 * x509.MarshalECPrivateKey produces, built byte by byte, in a PEM block
 * labelled PRIVATE KEY, AES-256-GCM under PBKDF2-HMAC-SHA256(@password,
 * salt, 4096); the SKI is SHA-256 of 0x04 ‖ X ‖ Y (66 bytes each). */
void sdk_sigkey_write (const char *path, EVP_PKEY *key, const char *password, SdkPointForm form);

/* Reads @path with the SDK's steps (common/signer.go,
 * SignWithSignatureKeyFile and SignWithP521ECKey): every member must be a
 * string (else the SDK panics), PBKDF2 → GCM open ("Invalid password.")
 * → PEM label PRIVATE KEY → SEC1 ECPrivateKey (version 1, named curve) →
 * SKI compare.  Returns the key, or %NULL with the SDK's message in
 * @message (or "panic: …" where the SDK would panic). */
EVP_PKEY *sdk_sigkey_read (const char *path, const char *password, char **message);

G_END_DECLS
