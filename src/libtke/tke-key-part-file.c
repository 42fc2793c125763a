/* tke-key-part-file.c: a master key part in a password-protected file
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The format (data/doc/key-part-file.md) is JSON:
 *
 *   { "format": "tke-key-part", "version": 1,
 *     "description": "…", "vp": "<64 hex>",
 *     "kdf": { "name": "scrypt", "N": 32768, "r": 8, "p": 1, "salt": "<64 hex>" },
 *     "check": "<32 hex>",
 *     "cipher": { "name": "aes-256-gcm", "nonce": "<24 hex>", "ciphertext": "<96 hex>" } }
 *
 * The file key is scrypt(password, salt); "check" is the first 16 bytes of
 * HKDF-SHA256(file key, salt, info "tke-key-part-check") so that a wrong password
 * and a damaged file give different messages; the ciphertext is
 * AES-256-GCM of the 32-byte part with the associated data
 * "tke-key-part-v1\n" ‖ vp ‖ "\n" ‖ description, which binds both.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <openssl/crypto.h>

#include "tke-crypto-private.h"
#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-json-private.h"
#include "tke-key-part-file-private.h"
#include "tke-key-part-file.h"
#include "tke-worker-private.h"
#include "tke-key-part-source.h"
#include "tke-types.h"

#define FORMAT_NAME "tke-key-part"
#define SALT_SIZE 32
#define CHECK_SIZE 16
#define CHECK_INFO "tke-key-part-check"
#define AAD_PREFIX "tke-key-part-v1\n"
#define SCRYPT_N TKE_KEY_FILE_SCRYPT_N
#define SCRYPT_R 8
#define SCRYPT_P 1
/* A key part file of ours is under 1 KiB. */
#define MAX_FILE_SIZE (16 * 1024)

/**
 * TkeKeyPartFile:
 *
 * A master key part in a password-protected file, a #TkeKeyPartSource for
 * the `tke` command line.
 *
 * The part is encrypted with AES-256-GCM under a key derived from the
 * owner's password with scrypt; the file also records the part's description
 * and verification pattern, so that they can be shown without the password.
 * The format is `data/doc/key-part-file.md`.
 */
struct _TkeKeyPartFile
{
  GObject parent_instance;

  char *path;
  char *description;
  char *vp;
  guint64 n;
  guint32 r;
  guint32 p;
  GBytes *salt;
  GBytes *check;
  GBytes *nonce;
  GBytes *ciphertext;
  TkeSecret *file_key;
};

static void tke_key_part_file_source_init (TkeKeyPartSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TkeKeyPartFile,
                               tke_key_part_file,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TKE_TYPE_KEY_PART_SOURCE,
                                                      tke_key_part_file_source_init))

static GBytes *
make_aad (const char *vp, const char *description)
{
  g_autofree char *text = g_strconcat (AAD_PREFIX, vp, "\n", description, NULL);

  return g_bytes_new (text, strlen (text));
}

static gboolean
description_is_valid (const char *description, GError **error)
{
  if (description == NULL || *description == '\0' || !g_utf8_validate (description, -1, NULL) ||
      g_utf8_strlen (description, -1) > TKE_KEY_PART_DESCRIPTION_MAX)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("A key part description has 1 to %d characters."),
                   TKE_KEY_PART_DESCRIPTION_MAX);
      return FALSE;
    }
  for (const char *c = description; *c != '\0'; c++)
    if ((guchar) *c < 0x20)
      {
        g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                             _ ("A key part description cannot contain control characters."));
        return FALSE;
      }
  return TRUE;
}

/* The file key and its check value. */
static TkeSecret *
derive (const TkeSecret *password,
        GBytes *salt,
        guint64 n,
        guint32 r,
        guint32 p,
        guint8 check[CHECK_SIZE],
        GError **error)
{
  g_autoptr (TkeSecret) key = NULL;
  g_autoptr (TkeSecret) check_key = NULL;

  key = tke_crypto_scrypt (password, g_bytes_get_data (salt, NULL), g_bytes_get_size (salt), n, r,
                           p, 32, error);
  if (key == NULL)
    return NULL;
  check_key =
      tke_crypto_hkdf_sha256 (key, g_bytes_get_data (salt, NULL), g_bytes_get_size (salt),
                              (const guint8 *) CHECK_INFO, strlen (CHECK_INFO), CHECK_SIZE, error);
  if (check_key == NULL)
    return NULL;
  memcpy (check, tke_secret_get_data (check_key), CHECK_SIZE);
  return g_steal_pointer (&key);
}

static void
add_hex (JsonBuilder *builder, const char *member, const guint8 *data, gsize size)
{
  g_autofree char *hex = tke_crypto_hex_encode (data, size);

  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, hex);
}

static char *
build_json (const char *description,
            const char *vp,
            const guint8 *salt,
            const guint8 *check,
            const guint8 *nonce,
            GBytes *ciphertext)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, FORMAT_NAME);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  json_builder_set_member_name (builder, "description");
  json_builder_add_string_value (builder, description);
  json_builder_set_member_name (builder, "vp");
  json_builder_add_string_value (builder, vp);
  json_builder_set_member_name (builder, "kdf");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, "scrypt");
  json_builder_set_member_name (builder, "N");
  json_builder_add_int_value (builder, SCRYPT_N);
  json_builder_set_member_name (builder, "r");
  json_builder_add_int_value (builder, SCRYPT_R);
  json_builder_set_member_name (builder, "p");
  json_builder_add_int_value (builder, SCRYPT_P);
  add_hex (builder, "salt", salt, SALT_SIZE);
  json_builder_end_object (builder);
  add_hex (builder, "check", check, CHECK_SIZE);
  json_builder_set_member_name (builder, "cipher");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, "aes-256-gcm");
  add_hex (builder, "nonce", nonce, TKE_GCM_NONCE_SIZE);
  add_hex (builder, "ciphertext", g_bytes_get_data (ciphertext, NULL),
           g_bytes_get_size (ciphertext));
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, TRUE);
}

/**
 * tke_key_part_file_build:
 * @description: what the owner calls the part (1 to %TKE_KEY_PART_DESCRIPTION_MAX characters)
 * @part: the 32-byte part
 * @password: the owner's password
 * @error: return location for a #GError
 *
 * The contents of a new key part file holding @part under @password, for a
 * caller that writes or sends the file itself (a card that exports a part
 * into a file, card-protocol.md).
 *
 * Returns: (transfer full): the file's contents, or %NULL with an error
 */
GBytes *
tke_key_part_file_build (const char *description,
                         const TkeSecret *part,
                         const TkeSecret *password,
                         GError **error)
{
  guint8 salt[SALT_SIZE], check[CHECK_SIZE], nonce[TKE_GCM_NONCE_SIZE], vp_bytes[TKE_VP_SIZE];
  g_autoptr (GBytes) salt_bytes = NULL;
  g_autoptr (TkeSecret) file_key = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) ciphertext = NULL;
  g_autofree char *vp = NULL;
  char *text;

  g_return_val_if_fail (part != NULL && password != NULL, NULL);

  if (!description_is_valid (description, error))
    return NULL;
  if (tke_secret_get_size (part) != TKE_MASTER_KEY_SIZE)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("A master key part is 32 bytes (64 hex digits)."));
      return NULL;
    }
  if (tke_secret_get_size (password) == 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("The password cannot be empty."));
      return NULL;
    }

  if (!tke_crypto_random_bytes (salt, sizeof salt, error) ||
      !tke_crypto_random_bytes (nonce, sizeof nonce, error))
    return NULL;
  salt_bytes = g_bytes_new (salt, sizeof salt);
  file_key = derive (password, salt_bytes, SCRYPT_N, SCRYPT_R, SCRYPT_P, check, error);
  if (file_key == NULL)
    return NULL;

  tke_crypto_verification_pattern (part, vp_bytes);
  vp = tke_crypto_hex_encode (vp_bytes, sizeof vp_bytes);
  aad = make_aad (vp, description);
  ciphertext = tke_crypto_aes_gcm_encrypt (file_key, nonce, g_bytes_get_data (aad, NULL),
                                           g_bytes_get_size (aad), tke_secret_get_data (part),
                                           tke_secret_get_size (part), error);
  if (ciphertext == NULL)
    return NULL;

  text = build_json (description, vp, salt, check, nonce, ciphertext);
  return g_bytes_new_take (text, strlen (text));
}

/**
 * tke_key_part_file_create:
 * @path: where to write; must not exist
 * @description: what the owner calls the part (1 to %TKE_KEY_PART_DESCRIPTION_MAX characters)
 * @part: the 32-byte part
 * @password: the owner's password
 * @error: return location for a #GError
 *
 * Writes a new key part file holding @part under @password, with mode 0600;
 * an existing file is refused.
 *
 * Returns: %TRUE when the file was written
 */
gboolean
tke_key_part_file_create (const char *path,
                          const char *description,
                          const TkeSecret *part,
                          const TkeSecret *password,
                          GError **error)
{
  g_autoptr (GBytes) contents = NULL;

  g_return_val_if_fail (path != NULL && part != NULL && password != NULL, FALSE);

  if (!description_is_valid (description, error))
    return FALSE;
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The file “%s” exists already."), path);
      return FALSE;
    }
  contents = tke_key_part_file_build (description, part, password, error);
  return contents != NULL && g_file_set_contents_full (path, g_bytes_get_data (contents, NULL),
                                                       (gssize) g_bytes_get_size (contents),
                                                       G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static gboolean
damaged (GError **error, const char *path, const char *what)
{
  g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
               _ ("“%s” is not a valid key part file: %s."), path, what);
  return FALSE;
}

static GBytes *
read_hex (JsonObject *object, const char *member, gsize size, const char *path, GError **error)
{
  const char *hex = _tke_json_get_string (object, member);
  g_autoptr (GBytes) bytes = NULL;

  if (hex == NULL || (bytes = tke_crypto_hex_decode (hex, NULL)) == NULL ||
      g_bytes_get_size (bytes) != size)
    {
      g_autofree char *what =
          g_strdup_printf (_ ("“%s” is missing or has the wrong length"), member);
      damaged (error, path, what);
      return NULL;
    }
  return g_steal_pointer (&bytes);
}

static gboolean
parse_kdf (TkeKeyPartFile *self, JsonObject *root, GError **error)
{
  JsonObject *kdf = _tke_json_get_object (root, "kdf");
  gint64 n, r, p;

  if (kdf == NULL)
    return damaged (error, self->path, _ ("“kdf” is missing"));
  if (g_strcmp0 (_tke_json_get_string (kdf, "name"), "scrypt") != 0)
    return damaged (error, self->path, _ ("the KDF is not scrypt"));
  n = _tke_json_get_int (kdf, "N", 0);
  r = _tke_json_get_int (kdf, "r", 0);
  p = _tke_json_get_int (kdf, "p", 0);
  /* One bound on N·r·p (memory and time together), not one per value:
   * N 2^20 with r 15 passed bounds of 2^20 and 32 and cost 1.9 GiB. */
  if (n < TKE_KEY_FILE_SCRYPT_MIN_N || r < 1 || p < 1 ||
      !_tke_crypto_scrypt_cost_ok ((guint64) n, (guint64) r, (guint64) p))
    return damaged (error, self->path, _ ("the scrypt parameters are out of range"));
  self->n = (guint64) n;
  self->r = (guint32) r;
  self->p = (guint32) p;
  self->salt = read_hex (kdf, "salt", SALT_SIZE, self->path, error);
  return self->salt != NULL;
}

static gboolean
parse_cipher (TkeKeyPartFile *self, JsonObject *root, GError **error)
{
  JsonObject *cipher = _tke_json_get_object (root, "cipher");

  if (cipher == NULL)
    return damaged (error, self->path, _ ("“cipher” is missing"));
  if (g_strcmp0 (_tke_json_get_string (cipher, "name"), "aes-256-gcm") != 0)
    return damaged (error, self->path, _ ("the cipher is not AES-256-GCM"));
  self->nonce = read_hex (cipher, "nonce", TKE_GCM_NONCE_SIZE, self->path, error);
  if (self->nonce == NULL)
    return FALSE;
  self->ciphertext =
      read_hex (cipher, "ciphertext", TKE_MASTER_KEY_SIZE + TKE_GCM_TAG_SIZE, self->path, error);
  return self->ciphertext != NULL;
}

TkeKeyPartFile *
_tke_key_part_file_parse_bytes (const char *path, const char *data, gsize length, GError **error)
{
  g_autoptr (TkeKeyPartFile) self = NULL;
  g_autoptr (JsonNode) root_node = NULL;
  JsonObject *root;
  const char *description, *vp;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (length > MAX_FILE_SIZE)
    return damaged (error, path, _ ("it is too large")), NULL;
  root_node = _tke_json_parse_bytes (data, length, NULL);
  if (root_node == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("“%s” is not a valid key part file: it is not JSON."), path);
      return NULL;
    }

  self = g_object_new (TKE_TYPE_KEY_PART_FILE, NULL);
  self->path = g_strdup (path);
  if (!JSON_NODE_HOLDS_OBJECT (root_node))
    return damaged (error, path, _ ("it is not a JSON object")), NULL;
  root = json_node_get_object (root_node);
  if (g_strcmp0 (_tke_json_get_string (root, "format"), FORMAT_NAME) != 0 ||
      _tke_json_get_int (root, "version", 0) != 1)
    return damaged (error, path, _ ("unknown format or version")), NULL;
  description = _tke_json_get_string (root, "description");
  vp = _tke_json_get_string (root, "vp");
  if (!description_is_valid (description, NULL))
    return damaged (error, path, _ ("the description is missing or invalid")), NULL;
  if (vp == NULL || strlen (vp) != 64 || !tke_vp_is_valid (vp))
    return damaged (error, path, _ ("the verification pattern is missing or invalid")), NULL;
  self->description = g_strdup (description);
  self->vp = g_ascii_strdown (vp, -1);
  if (!parse_kdf (self, root, error) || !parse_cipher (self, root, error) ||
      (self->check = read_hex (root, "check", CHECK_SIZE, path, error)) == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * tke_key_part_file_load:
 * @path: a key part file
 *
 * Opens a key part file.
 *
 * Reads the file's public parts; the part stays encrypted.
 *
 * Returns: (transfer full): the file, or %NULL with an error
 */
TkeKeyPartFile *
tke_key_part_file_load (const char *path, GError **error)
{
  g_autoptr (GMappedFile) file = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  file = g_mapped_file_new (path, FALSE, &local_error);
  if (file == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND, _ ("There is no key part file “%s”."),
                     path);
      else
        g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("“%s” cannot be read: %s"), path,
                     local_error->message);
      return NULL;
    }
  return _tke_key_part_file_parse_bytes (path, g_mapped_file_get_contents (file),
                                         g_mapped_file_get_length (file), error);
}

/**
 * tke_key_part_file_new_from_bytes:
 * @name: what messages call the file: its path, or a label
 * @contents: the file's contents, as tke_key_part_file_build() makes them
 * @error: return location for a #GError
 *
 * Reads a key part file that is not on disk (one a card received, or
 * one about to be written), as tke_key_part_file_load() reads a file.
 *
 * Returns: (transfer full): the file, or %NULL with an error
 */
TkeKeyPartFile *
tke_key_part_file_new_from_bytes (const char *name, GBytes *contents, GError **error)
{
  gsize size = 0;
  const char *data;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (contents != NULL, NULL);

  data = g_bytes_get_data (contents, &size);
  return _tke_key_part_file_parse_bytes (name, data != NULL ? data : "", size, error);
}

/**
 * tke_key_part_file_get_path:
 * @self: a key part file
 *
 * The path the file was loaded from.
 *
 * Returns: (transfer none): the path
 */
const char *
tke_key_part_file_get_path (TkeKeyPartFile *self)
{
  g_return_val_if_fail (TKE_IS_KEY_PART_FILE (self), NULL);
  return self->path;
}

/**
 * tke_key_part_file_get_description:
 * @self: a key part file
 *
 * What the owner calls the part.
 *
 * Returns: (transfer none): the description
 */
const char *
tke_key_part_file_get_description (TkeKeyPartFile *self)
{
  g_return_val_if_fail (TKE_IS_KEY_PART_FILE (self), NULL);
  return self->description;
}

/**
 * tke_key_part_file_get_vp:
 * @self: a key part file
 *
 * The verification pattern of the part, which its holder confirms.
 *
 * Returns: (transfer none): 64 hex digits
 */
const char *
tke_key_part_file_get_vp (TkeKeyPartFile *self)
{
  g_return_val_if_fail (TKE_IS_KEY_PART_FILE (self), NULL);
  return self->vp;
}

static TkeSecret *
derive_checked (TkeKeyPartFile *self, const TkeSecret *password, GError **error)
{
  guint8 check[CHECK_SIZE];
  g_autoptr (TkeSecret) file_key = NULL;

  file_key = derive (password, self->salt, self->n, self->r, self->p, check, error);
  if (file_key == NULL)
    return NULL;
  if (CRYPTO_memcmp (check, g_bytes_get_data (self->check, NULL), CHECK_SIZE) != 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD, _ ("Invalid password."));
      return NULL;
    }
  return g_steal_pointer (&file_key);
}

static TkeSecret *
decrypt_part (TkeKeyPartFile *self, const TkeSecret *file_key, GError **error)
{
  guint8 vp[TKE_VP_SIZE];
  g_autoptr (TkeSecret) part = NULL;
  g_autoptr (GBytes) aad = make_aad (self->vp, self->description);
  g_autofree char *vp_hex = NULL;

  part = tke_crypto_aes_gcm_decrypt (file_key, g_bytes_get_data (self->nonce, NULL),
                                     g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                                     g_bytes_get_data (self->ciphertext, NULL),
                                     g_bytes_get_size (self->ciphertext), NULL);
  if (part != NULL)
    {
      tke_crypto_verification_pattern (part, vp);
      vp_hex = tke_crypto_hex_encode (vp, sizeof vp);
    }
  if (part == NULL || g_strcmp0 (vp_hex, self->vp) != 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY,
                   _ ("The key part file “%s” is damaged or was altered: its contents do not "
                      "verify. Use an intact copy."),
                   self->path);
      return NULL;
    }
  return g_steal_pointer (&part);
}

/**
 * tke_key_part_file_unlock:
 * @self: a key part file
 * @password: the file's password
 * @error: return location for a #GError
 *
 * Decrypts the part. A wrong password fails with
 * %TKE_ERROR_INVALID_PASSWORD, a damaged file with %TKE_ERROR_INTEGRITY.
 *
 * Returns: (transfer full): the 32-byte part, in secure memory, or %NULL
 */
TkeSecret *
tke_key_part_file_unlock (TkeKeyPartFile *self, const TkeSecret *password, GError **error)
{
  g_autoptr (TkeSecret) file_key = NULL;

  g_return_val_if_fail (TKE_IS_KEY_PART_FILE (self), NULL);
  g_return_val_if_fail (password != NULL, NULL);

  file_key = derive_checked (self, password, error);
  if (file_key == NULL)
    return NULL;
  return decrypt_part (self, file_key, error);
}

/**
 * tke_key_part_file_set_password:
 * @self: a key part file
 * @password: the file's password
 * @error: return location for a #GError
 *
 * Checks @password and keeps the key it derives (in secure memory, until the
 * object goes away) for tke_key_part_source_seal_async(), so that sealing
 * the part to several units runs the slow key derivation once.
 *
 * Returns: %TRUE if @password opens the file
 */
gboolean
tke_key_part_file_set_password (TkeKeyPartFile *self, const TkeSecret *password, GError **error)
{
  g_autoptr (TkeSecret) file_key = NULL;
  g_autoptr (TkeSecret) part = NULL;

  g_return_val_if_fail (TKE_IS_KEY_PART_FILE (self), FALSE);
  g_return_val_if_fail (password != NULL, FALSE);

  file_key = derive_checked (self, password, error);
  if (file_key == NULL || (part = decrypt_part (self, file_key, error)) == NULL)
    return FALSE;
  g_clear_pointer (&self->file_key, tke_secret_unref);
  self->file_key = g_steal_pointer (&file_key);
  return TRUE;
}

/* ---- TkeKeyPartSource --------------------------------------------------- */

static const char *
get_description (TkeKeyPartSource *source)
{
  return TKE_KEY_PART_FILE (source)->description;
}

static const char *
get_check_value (TkeKeyPartSource *source)
{
  return TKE_KEY_PART_FILE (source)->vp;
}

typedef struct
{
  GBytes *importer;
  GBytes *aad;
} SealData;

static void
seal_data_free (SealData *data)
{
  g_bytes_unref (data->importer);
  g_bytes_unref (data->aad);
  g_free (data);
}

static void
seal_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  TkeKeyPartFile *self = source;
  SealData *data = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) part = NULL;
  g_autoptr (EVP_PKEY) importer = NULL;
  GBytes *sealed;

  if (self->file_key == NULL)
    {
      g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                               _ ("No password was given for the key part file “%s”."), self->path);
      return;
    }
  importer = tke_crypto_ec_public_key_from_point (g_bytes_get_data (data->importer, NULL),
                                                  g_bytes_get_size (data->importer), &error);
  if (importer == NULL || (part = decrypt_part (self, self->file_key, &error)) == NULL ||
      (sealed = tke_crypto_seal (importer, g_bytes_get_data (data->aad, NULL),
                                 g_bytes_get_size (data->aad), part, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, sealed, (GDestroyNotify) g_bytes_unref);
}

static void
seal_async (TkeKeyPartSource *source,
            GBytes *importer_public_key,
            GBytes *associated_data,
            GCancellable *cancellable,
            GAsyncReadyCallback callback,
            gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (source, cancellable, callback, user_data);
  SealData *data = g_new0 (SealData, 1);

  data->importer = g_bytes_ref (importer_public_key);
  data->aad = g_bytes_ref (associated_data);
  g_task_set_source_tag (task, seal_async);
  g_task_set_task_data (task, data, (GDestroyNotify) seal_data_free);
  g_task_run_in_thread (task, seal_thread);
}

static GBytes *
seal_finish (TkeKeyPartSource *source, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, source), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
tke_key_part_file_source_init (TkeKeyPartSourceInterface *iface)
{
  iface->get_description = get_description;
  iface->get_check_value = get_check_value;
  iface->seal_async = seal_async;
  iface->seal_finish = seal_finish;
}

static void
tke_key_part_file_finalize (GObject *object)
{
  TkeKeyPartFile *self = TKE_KEY_PART_FILE (object);

  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->description, g_free);
  g_clear_pointer (&self->vp, g_free);
  g_clear_pointer (&self->salt, g_bytes_unref);
  g_clear_pointer (&self->check, g_bytes_unref);
  g_clear_pointer (&self->nonce, g_bytes_unref);
  g_clear_pointer (&self->ciphertext, g_bytes_unref);
  g_clear_pointer (&self->file_key, tke_secret_unref);

  G_OBJECT_CLASS (tke_key_part_file_parent_class)->finalize (object);
}

static void
tke_key_part_file_class_init (TkeKeyPartFileClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tke_key_part_file_finalize;
}

static void
tke_key_part_file_init (TkeKeyPartFile *self)
{
}
