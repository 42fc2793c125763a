/* tke-signature-key-file.c: an administrator's signature key in a file
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The format of the service's command-line plug-in and its SDK, so that
 * administrators can bring the files they have and take ours to the
 * plug-in and to Terraform (data/doc/signature-key-file.md):
 *
 *   { "keyType": "p521ec", "ski": "<64 hex>",
 *     "enckey": "<hex of 12-byte nonce ‖ AES-256-GCM(PEM private key) ‖ tag>",
 *     "seaSalt": "<hex of 32 bytes>" }
 *
 * with the AES key PBKDF2-HMAC-SHA256(password, seaSalt, 4096, 32) and the
 * PEM a `PRIVATE KEY` block holding SEC1 ECPrivateKey DER.  The SDK reads
 * the file into a map of strings, so every member must be a string, or it
 * panics.  That KDF is weak, so the stronger files we write add two
 * string members the SDK ignores: "kdf": "scrypt:N=32768,r=8,p=1" and
 * "adminName".  The SDK then derives the PBKDF2 key, the GCM open fails
 * and it says "Invalid password.", which is a clean refusal.  A file
 * without "kdf" is the plug-in's; tke's files before 2026-12 had "kdf" as
 * an object and PKCS#8 inside the PEM, and are still read.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "tke-crypto-private.h"
#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-json-private.h"
#include "tke-signature-key-file-private.h"
#include "tke-signature-key-file.h"

#define KEY_TYPE_P521 "p521ec"
#define SALT_SIZE 32
#define LEGACY_PBKDF2_ITERATIONS 4096
#define SCRYPT_N TKE_KEY_FILE_SCRYPT_N
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SCRYPT_PREFIX "scrypt:"
/* A P-521 private key in PEM is about 384 bytes, so its encryption is
 * about 412; this leaves room for any PEM variant and refuses a file that
 * would make the decryption take a large piece of the secure heap. */
#define MAX_ENCKEY_SIZE 4096
/* Hex doubles the members: a file of ours is under 1.2 KiB. */
#define MAX_FILE_SIZE (16 * 1024)

/**
 * TkeSignatureKeyFile:
 *
 * An administrator's P-521 signature key in a password-protected file
 * (`KEYNUM.sigkey`), in the format of the service's own command-line
 * plug-in, so that administrators can bring the files they have.
 *
 * The files libtke writes derive the file key with scrypt
 * (%TKE_KEY_FILE_KDF_SCRYPT) and record the administrator's name; files
 * without that are read with the plug-in's PBKDF2.
 */
struct _TkeSignatureKeyFile
{
  GObject parent_instance;

  char *path;
  char *admin_name;
  char *ski;
  TkeKeyFileKdf kdf;
  guint64 scrypt_n;
  guint32 scrypt_r;
  guint32 scrypt_p;
  GBytes *salt;
  GBytes *enckey;
};

G_DEFINE_FINAL_TYPE (TkeSignatureKeyFile, tke_signature_key_file, G_TYPE_OBJECT)

static TkeSecret *
derive_file_key (const TkeSecret *password,
                 GBytes *salt,
                 TkeKeyFileKdf kdf,
                 guint64 n,
                 guint32 r,
                 guint32 p,
                 GError **error)
{
  gsize salt_size;
  const guint8 *salt_data = g_bytes_get_data (salt, &salt_size);

  if (kdf == TKE_KEY_FILE_KDF_PBKDF2)
    return tke_crypto_pbkdf2_sha256 (password, salt_data, salt_size, LEGACY_PBKDF2_ITERATIONS, 32,
                                     error);

  return tke_crypto_scrypt (password, salt_data, salt_size, n, r, p, 32, error);
}

static JsonNode *
build_file_json (const char *admin_name,
                 const char *ski,
                 TkeKeyFileKdf kdf,
                 const char *salt_hex,
                 const char *enckey_hex)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "keyType");
  json_builder_add_string_value (builder, KEY_TYPE_P521);
  json_builder_set_member_name (builder, "ski");
  json_builder_add_string_value (builder, ski);
  json_builder_set_member_name (builder, "enckey");
  json_builder_add_string_value (builder, enckey_hex);
  json_builder_set_member_name (builder, "seaSalt");
  json_builder_add_string_value (builder, salt_hex);
  if (admin_name != NULL)
    {
      json_builder_set_member_name (builder, "adminName");
      json_builder_add_string_value (builder, admin_name);
    }
  /* A string, not an object: the SDK reads a map of strings. */
  if (kdf == TKE_KEY_FILE_KDF_SCRYPT)
    {
      g_autofree char *params =
          g_strdup_printf (SCRYPT_PREFIX "N=%u,r=%u,p=%u", SCRYPT_N, SCRYPT_R, SCRYPT_P);

      json_builder_set_member_name (builder, "kdf");
      json_builder_add_string_value (builder, params);
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* The file's text for @key under @password, or %NULL. */
static char *
file_text_for_key (const char *admin_name,
                   EVP_PKEY *key,
                   const TkeSecret *password,
                   TkeKeyFileKdf kdf,
                   GError **error)
{
  guint8 salt[SALT_SIZE];
  guint8 nonce[TKE_GCM_NONCE_SIZE];
  guint8 ski[TKE_SKI_SIZE];
  g_autoptr (GBytes) salt_bytes = NULL;
  g_autoptr (TkeSecret) file_key = NULL;
  g_autoptr (TkeSecret) pem = NULL;
  g_autoptr (GBytes) ciphertext = NULL;
  g_autoptr (GByteArray) enckey = g_byte_array_new ();
  g_autofree char *ski_hex = NULL;
  g_autofree char *salt_hex = NULL;
  g_autofree char *enckey_hex = NULL;
  g_autoptr (JsonNode) root = NULL;

  if (!tke_crypto_random_bytes (salt, sizeof salt, error) ||
      !tke_crypto_random_bytes (nonce, sizeof nonce, error) || !tke_crypto_ski (key, ski, error))
    return NULL;

  salt_bytes = g_bytes_new (salt, sizeof salt);
  file_key = derive_file_key (password, salt_bytes, kdf, SCRYPT_N, SCRYPT_R, SCRYPT_P, error);
  if (file_key == NULL || (pem = tke_crypto_ec_private_key_to_sec1_pem (key, error)) == NULL)
    return NULL;

  ciphertext = tke_crypto_aes_gcm_encrypt (file_key, nonce, NULL, 0, tke_secret_get_data (pem),
                                           tke_secret_get_size (pem), error);
  if (ciphertext == NULL)
    return NULL;

  g_byte_array_append (enckey, nonce, sizeof nonce);
  g_byte_array_append (enckey, g_bytes_get_data (ciphertext, NULL), g_bytes_get_size (ciphertext));

  ski_hex = tke_crypto_hex_encode (ski, sizeof ski);
  salt_hex = tke_crypto_hex_encode (salt, sizeof salt);
  enckey_hex = tke_crypto_hex_encode (enckey->data, enckey->len);
  root = build_file_json (admin_name, ski_hex, kdf, salt_hex, enckey_hex);
  return json_to_string (root, TRUE);
}

/**
 * tke_signature_key_file_create: (skip)
 * @path: where to write the file; it must not exist
 * @admin_name: (nullable): the administrator's name, at most 30 characters
 * @key: the P-521 private key
 * @password: the password that protects the file
 * @kdf: the layout: %TKE_KEY_FILE_KDF_SCRYPT unless the file must be read
 *   by the service's own plug-in or its SDK (%TKE_KEY_FILE_KDF_PBKDF2)
 * @error: return location for a #GError
 *
 * Writes the file with mode 0600.
 *
 * Returns: %TRUE on success
 */
gboolean
tke_signature_key_file_create (const char *path,
                               const char *admin_name,
                               EVP_PKEY *key,
                               const TkeSecret *password,
                               TkeKeyFileKdf kdf,
                               GError **error)
{
  g_autoptr (GBytes) contents = NULL;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (password != NULL, FALSE);

  if (admin_name != NULL && g_utf8_strlen (admin_name, -1) > 30)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("An administrator name can have at most 30 characters."));
      return FALSE;
    }
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The file “%s” exists already."), path);
      return FALSE;
    }

  contents = tke_signature_key_file_build (admin_name, key, password, kdf, error);
  return contents != NULL && g_file_set_contents_full (path, g_bytes_get_data (contents, NULL),
                                                       (gssize) g_bytes_get_size (contents),
                                                       G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

/**
 * tke_signature_key_file_build: (skip)
 * @admin_name: (nullable): the administrator's name, at most 30 characters
 * @key: the P-521 private key
 * @password: the password that protects the file
 * @kdf: the layout, as for tke_signature_key_file_create()
 * @error: return location for a #GError
 *
 * The contents of a new signature key file holding @key, for a caller
 * that writes or sends the file itself (a card that exports its key into
 * a file, card-protocol.md).
 *
 * Returns: (transfer full): the file's contents, or %NULL with an error
 */
GBytes *
tke_signature_key_file_build (const char *admin_name,
                              EVP_PKEY *key,
                              const TkeSecret *password,
                              TkeKeyFileKdf kdf,
                              GError **error)
{
  char *text;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  if (admin_name != NULL && g_utf8_strlen (admin_name, -1) > 30)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("An administrator name can have at most 30 characters."));
      return NULL;
    }
  if ((text = file_text_for_key (admin_name, key, password, kdf, error)) == NULL)
    return NULL;
  return g_bytes_new_take (text, strlen (text));
}

static gboolean
invalid_file (GError **error, const char *path, const char *why)
{
  g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA, _ ("“%s” is not a signature key file: %s"),
               path, why);
  return FALSE;
}

static GBytes *
hex_member (JsonObject *object, const char *name, gsize expected_size)
{
  const char *text = _tke_json_get_string (object, name);
  g_autoptr (GBytes) bytes = NULL;

  if (text == NULL || (bytes = tke_crypto_hex_decode (text, NULL)) == NULL)
    return NULL;
  if (expected_size != 0 && g_bytes_get_size (bytes) != expected_size)
    return NULL;
  return g_steal_pointer (&bytes);
}

static gboolean
set_scrypt (TkeSignatureKeyFile *self, gint64 n, gint64 r, gint64 p, GError **error)
{
  /* One bound on N·r·p (memory and time together), not one per value:
   * N 2^20 with r 15 passed bounds of 2^20 and 32 and cost 1.9 GiB. */
  if (n < TKE_KEY_FILE_SCRYPT_MIN_N || r < 1 || p < 1 ||
      !_tke_crypto_scrypt_cost_ok ((guint64) n, (guint64) r, (guint64) p))
    return invalid_file (error, self->path, _ ("its scrypt parameters are out of range"));

  self->kdf = TKE_KEY_FILE_KDF_SCRYPT;
  self->scrypt_n = (guint64) n;
  self->scrypt_r = (guint32) r;
  self->scrypt_p = (guint32) p;
  return TRUE;
}

/* "N=32768,r=8,p=1": each name once, decimal values, nothing else. */
static gboolean
parse_scrypt_string (TkeSignatureKeyFile *self, const char *params, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (params, ",", -1);
  gint64 values[3] = { -1, -1, -1 };
  static const char *const names[] = { "N=", "r=", "p=" };

  if (g_strv_length (parts) != 3)
    return invalid_file (error, self->path, _ ("its key derivation is unknown"));
  for (guint i = 0; i < 3; i++)
    {
      guint64 value = 0;

      if (!g_str_has_prefix (parts[i], names[i]) ||
          !g_ascii_string_to_unsigned (parts[i] + 2, 10, 1, G_MAXINT64, &value, NULL))
        return invalid_file (error, self->path, _ ("its key derivation is unknown"));
      values[i] = (gint64) value;
    }
  return set_scrypt (self, values[0], values[1], values[2], error);
}

/* The object form of tke's files before the plug-in's SDK was followed. */
static gboolean
parse_scrypt_object (TkeSignatureKeyFile *self, JsonObject *kdf, GError **error)
{
  if (g_strcmp0 (_tke_json_get_string (kdf, "name"), "scrypt") != 0)
    return invalid_file (error, self->path, _ ("its key derivation is unknown"));
  return set_scrypt (self, _tke_json_get_int (kdf, "N", 0), _tke_json_get_int (kdf, "r", 0),
                     _tke_json_get_int (kdf, "p", 0), error);
}

static gboolean
parse_kdf (TkeSignatureKeyFile *self, JsonObject *object, GError **error)
{
  const char *text;
  JsonObject *kdf;

  if (!json_object_has_member (object, "kdf"))
    {
      self->kdf = TKE_KEY_FILE_KDF_PBKDF2;
      return TRUE;
    }

  if ((text = _tke_json_get_string (object, "kdf")) != NULL)
    {
      if (!g_str_has_prefix (text, SCRYPT_PREFIX))
        return invalid_file (error, self->path, _ ("its key derivation is unknown"));
      return parse_scrypt_string (self, text + strlen (SCRYPT_PREFIX), error);
    }
  if ((kdf = _tke_json_get_object (object, "kdf")) != NULL)
    return parse_scrypt_object (self, kdf, error);
  return invalid_file (error, self->path, _ ("its key derivation is unknown"));
}

/* The SDK takes any keyType other than "p521ec" for a legacy RSA-2048
 * key (signed with X9.31 padding); we sign only with P-521 keys. */
static gboolean
check_key_type (TkeSignatureKeyFile *self, JsonObject *object, GError **error)
{
  const char *key_type = _tke_json_get_string (object, "keyType");
  g_autofree char *escaped = NULL;

  if (g_strcmp0 (key_type, KEY_TYPE_P521) == 0)
    return TRUE;
  if (key_type == NULL)
    return invalid_file (error, self->path,
                         _ ("it has no key type (the plug-in would take it for a legacy RSA-2048 "
                            "key); only P-521 keys (keyType “p521ec”) are supported"));

  /* The type comes from the file: escaped and cut short, so that it
   * cannot put control sequences or kilobytes into a terminal. */
  escaped = g_strescape (key_type, NULL);
  if (strlen (escaped) > 40)
    strcpy (escaped + 37, "...");
  g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
               _ ("“%s” holds a key of type “%s”, a legacy RSA-2048 signature key; tke signs only "
                  "with P-521 keys (keyType “p521ec”). Make a new signature key with "
                  "“tke sigkey-add”."),
               self->path, escaped);
  return FALSE;
}

static gboolean
parse_file (TkeSignatureKeyFile *self, JsonNode *root, GError **error)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  const char *ski;

  if (object == NULL)
    return invalid_file (error, self->path, _ ("it is not a JSON object"));
  if (!check_key_type (self, object, error))
    return FALSE;

  ski = _tke_json_get_string (object, "ski");
  if (ski == NULL || strlen (ski) != 64 ||
      (self->salt = hex_member (object, "seaSalt", SALT_SIZE)) == NULL ||
      (self->enckey = hex_member (object, "enckey", 0)) == NULL ||
      g_bytes_get_size (self->enckey) <= TKE_GCM_NONCE_SIZE + TKE_GCM_TAG_SIZE)
    return invalid_file (error, self->path, _ ("a member is missing or malformed"));
  if (g_bytes_get_size (self->enckey) > MAX_ENCKEY_SIZE)
    return invalid_file (error, self->path, _ ("its encrypted key is too large"));

  self->ski = g_ascii_strdown (ski, -1);
  self->admin_name = g_strdup (_tke_json_get_string (object, "adminName"));

  return parse_kdf (self, object, error);
}

TkeSignatureKeyFile *
_tke_signature_key_file_parse_bytes (const char *path,
                                     const char *data,
                                     gsize length,
                                     GError **error)
{
  g_autoptr (TkeSignatureKeyFile) self = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (length > MAX_FILE_SIZE)
    return invalid_file (error, path, _ ("it is too large")), NULL;
  root = _tke_json_parse_bytes (data, length, &local_error);
  if (root == NULL)
    return invalid_file (error, path, local_error->message), NULL;

  self = g_object_new (TKE_TYPE_SIGNATURE_KEY_FILE, NULL);
  self->path = g_strdup (path);
  if (!parse_file (self, root, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * tke_signature_key_file_load:
 * @path: a `.sigkey` file
 * @error: return location for a #GError
 *
 * Opens a signature key file.
 *
 * Reads what the file says of itself; the key stays locked.
 *
 * Returns: (transfer full): the file, or %NULL
 */
TkeSignatureKeyFile *
tke_signature_key_file_load (const char *path, GError **error)
{
  g_autoptr (GMappedFile) file = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  file = g_mapped_file_new (path, FALSE, &local_error);
  if (file == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND, _ ("The file “%s” does not exist."),
                     path);
      else
        invalid_file (error, path, local_error->message);
      return NULL;
    }
  return _tke_signature_key_file_parse_bytes (path, g_mapped_file_get_contents (file),
                                              g_mapped_file_get_length (file), error);
}

/**
 * tke_signature_key_file_new_from_bytes:
 * @name: what messages call the file: its path, or a label
 * @contents: the file's contents
 * @error: return location for a #GError
 *
 * Reads a signature key file that is not on disk (one a card received, or
 * one about to be written), as tke_signature_key_file_load() reads a file.
 *
 * Returns: (transfer full): the file, or %NULL with an error
 */
TkeSignatureKeyFile *
tke_signature_key_file_new_from_bytes (const char *name, GBytes *contents, GError **error)
{
  gsize size = 0;
  const char *data;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (contents != NULL, NULL);

  data = g_bytes_get_data (contents, &size);
  return _tke_signature_key_file_parse_bytes (name, data != NULL ? data : "", size, error);
}

/**
 * tke_signature_key_file_get_path:
 * @self: a #TkeSignatureKeyFile
 *
 * The path the file was loaded from.
 *
 * Returns: (transfer none): the path
 */
const char *
tke_signature_key_file_get_path (TkeSignatureKeyFile *self)
{
  g_return_val_if_fail (TKE_IS_SIGNATURE_KEY_FILE (self), NULL);
  return self->path;
}

/**
 * tke_signature_key_file_get_admin_name:
 * @self: a #TkeSignatureKeyFile
 *
 * The name of the administrator whose key the file holds.
 *
 * Returns: (nullable): the administrator's name; files written by the
 *   service's own plug-in do not record it
 */
const char *
tke_signature_key_file_get_admin_name (TkeSignatureKeyFile *self)
{
  g_return_val_if_fail (TKE_IS_SIGNATURE_KEY_FILE (self), NULL);
  return self->admin_name;
}

/**
 * tke_signature_key_file_get_ski:
 * @self: a #TkeSignatureKeyFile
 *
 * The subject key identifier of the key, as the file records it.
 *
 * Returns: (transfer none): 64 hex digits
 */
const char *
tke_signature_key_file_get_ski (TkeSignatureKeyFile *self)
{
  g_return_val_if_fail (TKE_IS_SIGNATURE_KEY_FILE (self), NULL);
  return self->ski;
}

/**
 * tke_signature_key_file_get_kdf:
 * @self: a #TkeSignatureKeyFile
 *
 * How the file's password becomes the file key.
 *
 * Returns: the key derivation of the file
 */
TkeKeyFileKdf
tke_signature_key_file_get_kdf (TkeSignatureKeyFile *self)
{
  g_return_val_if_fail (TKE_IS_SIGNATURE_KEY_FILE (self), TKE_KEY_FILE_KDF_PBKDF2);
  return self->kdf;
}

/**
 * tke_signature_key_file_unlock: (skip)
 * @self: a #TkeSignatureKeyFile
 * @password: the file's password
 * @error: return location for a #GError
 *
 * Decrypts the private key; the caller frees it as soon as it signed.
 *
 * Returns: (transfer full): the private key, or %NULL with
 *   %TKE_ERROR_INVALID_PASSWORD ("Invalid password.")
 */
EVP_PKEY *
tke_signature_key_file_unlock (TkeSignatureKeyFile *self, const TkeSecret *password, GError **error)
{
  g_autoptr (TkeSecret) file_key = NULL;
  g_autoptr (TkeSecret) pem = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (GError) local_error = NULL;
  guint8 ski[TKE_SKI_SIZE];
  g_autofree char *ski_hex = NULL;
  gsize size;
  const guint8 *enckey;

  g_return_val_if_fail (TKE_IS_SIGNATURE_KEY_FILE (self), NULL);
  g_return_val_if_fail (password != NULL, NULL);

  file_key = derive_file_key (password, self->salt, self->kdf, self->scrypt_n, self->scrypt_r,
                              self->scrypt_p, error);
  if (file_key == NULL)
    return NULL;

  enckey = g_bytes_get_data (self->enckey, &size);
  pem = tke_crypto_aes_gcm_decrypt (file_key, enckey, NULL, 0, enckey + TKE_GCM_NONCE_SIZE,
                                    size - TKE_GCM_NONCE_SIZE, &local_error);
  if (pem == NULL)
    {
      if (g_error_matches (local_error, TKE_ERROR, TKE_ERROR_INTEGRITY))
        g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD, _ ("Invalid password."));
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if ((key = tke_crypto_ec_private_key_from_pem (pem, error)) == NULL ||
      !tke_crypto_ski (key, ski, error))
    return NULL;

  /* The SKI member is not covered by the encryption: make sure the file
   * names the key it really holds, or a signature would be refused later
   * with a far less helpful message. */
  ski_hex = tke_crypto_hex_encode (ski, sizeof ski);
  if (g_strcmp0 (ski_hex, self->ski) != 0)
    {
      invalid_file (error, self->path, _ ("its SKI does not belong to its key"));
      return NULL;
    }

  return g_steal_pointer (&key);
}

/* Writes @text to a new file beside @path, mode 0600, flushed to disk. */
static char *
write_beside (const char *path, const char *text, GError **error)
{
  g_autofree char *tmp = g_strconcat (path, ".new-XXXXXX", NULL);
  gsize size = strlen (text);
  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  gboolean ok;

  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("Could not write “%s”: %s"), path,
                   g_strerror (saved));
      return NULL;
    }
  ok = write (fd, text, size) == (gssize) size && fsync (fd) == 0;
  if (!g_close (fd, NULL) || !ok)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("Could not write “%s”: %s"), path,
                   g_strerror (errno));
      g_unlink (tmp);
      return NULL;
    }
  return g_steal_pointer (&tmp);
}

/* The file at @tmp, if it holds @key under @password. */
static TkeSignatureKeyFile *
load_verified (const char *tmp, EVP_PKEY *key, const TkeSecret *password, GError **error)
{
  g_autoptr (TkeSignatureKeyFile) written = tke_signature_key_file_load (tmp, error);
  g_autoptr (EVP_PKEY) again = NULL;

  if (written == NULL || (again = tke_signature_key_file_unlock (written, password, error)) == NULL)
    return NULL;
  if (EVP_PKEY_eq (again, key) != 1)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY,
                   _ ("The rewritten file “%s” does not hold the same key."), tmp);
      return NULL;
    }
  return g_steal_pointer (&written);
}

static void
take_members (TkeSignatureKeyFile *self, TkeSignatureKeyFile *from)
{
  self->kdf = from->kdf;
  self->scrypt_n = from->scrypt_n;
  self->scrypt_r = from->scrypt_r;
  self->scrypt_p = from->scrypt_p;
  g_clear_pointer (&self->salt, g_bytes_unref);
  g_clear_pointer (&self->enckey, g_bytes_unref);
  self->salt = g_steal_pointer (&from->salt);
  self->enckey = g_steal_pointer (&from->enckey);
}

/**
 * tke_signature_key_file_rewrite:
 * @self: a #TkeSignatureKeyFile
 * @password: the file's password
 * @kdf: the layout to write: %TKE_KEY_FILE_KDF_PBKDF2 for the service's
 *   plug-in and its SDK, %TKE_KEY_FILE_KDF_SCRYPT for the stronger one
 * @error: return location for a #GError
 *
 * Rewrites the file in @kdf's layout, with the same key, administrator
 * name and password and a fresh salt and nonce.  The new file is written
 * beside the old one and read back with @password; only if it holds the
 * same key does it replace the old file (by a rename, so that the path
 * always holds one complete file).
 *
 * Returns: %TRUE on success; on failure the old file is untouched
 */
gboolean
tke_signature_key_file_rewrite (TkeSignatureKeyFile *self,
                                const TkeSecret *password,
                                TkeKeyFileKdf kdf,
                                GError **error)
{
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (TkeSignatureKeyFile) written = NULL;
  g_autofree char *text = NULL;
  g_autofree char *tmp = NULL;

  g_return_val_if_fail (TKE_IS_SIGNATURE_KEY_FILE (self), FALSE);
  g_return_val_if_fail (password != NULL, FALSE);

  if ((key = tke_signature_key_file_unlock (self, password, error)) == NULL ||
      (text = file_text_for_key (self->admin_name, key, password, kdf, error)) == NULL ||
      (tmp = write_beside (self->path, text, error)) == NULL)
    return FALSE;

  if ((written = load_verified (tmp, key, password, error)) == NULL)
    {
      g_unlink (tmp);
      return FALSE;
    }
  if (g_rename (tmp, self->path) != 0)
    {
      int saved = errno;

      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("Could not replace “%s”: %s"), self->path,
                   g_strerror (saved));
      g_unlink (tmp);
      return FALSE;
    }

  take_members (self, written);
  return TRUE;
}

static void
tke_signature_key_file_finalize (GObject *object)
{
  TkeSignatureKeyFile *self = TKE_SIGNATURE_KEY_FILE (object);

  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->admin_name, g_free);
  g_clear_pointer (&self->ski, g_free);
  g_clear_pointer (&self->salt, g_bytes_unref);
  g_clear_pointer (&self->enckey, g_bytes_unref);

  G_OBJECT_CLASS (tke_signature_key_file_parent_class)->finalize (object);
}

static void
tke_signature_key_file_class_init (TkeSignatureKeyFileClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tke_signature_key_file_finalize;
}

static void
tke_signature_key_file_init (TkeSignatureKeyFile *self)
{
}
