/* tke-sign-keys.c: the keys the reference signing service guards
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The service's configuration names each key, its signature key file
 * (any layout libtke reads) and the SHA-256 of the token that authorizes
 * it.  The files are unlocked once at start with passwords read from a
 * 0600 file or stdin, one a line in the configuration's order (one line
 * serves every key).  Neither a password nor a token is ever logged; only
 * the token's hash is stored.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-glib/json-glib.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>

#include "tke-sign-keys.h"

#define MAX_PASSWORD 1024

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIGNUM, BN_free)

void
tke_sign_key_free (TkeSignKey *key)
{
  if (key == NULL)
    return;
  g_free (key->name);
  g_clear_pointer (&key->key, EVP_PKEY_free);
  g_clear_pointer (&key->public_der, g_bytes_unref);
  OPENSSL_cleanse (key->token, sizeof key->token);
  g_free (key);
}

/* Group or others may not read what holds a key or its password. */
static gboolean
check_private (int fd, const char *path, GError **error)
{
  struct stat st;

  if (fstat (fd, &st) != 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, "%s: %s", path, g_strerror (errno));
      return FALSE;
    }
  if ((st.st_mode & 077) != 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   "%s may be read by others (mode %03o); make it 0600", path,
                   (unsigned) (st.st_mode & 0777));
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_private_path (const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, "%s: %s", path, g_strerror (errno));
      return FALSE;
    }
  ok = check_private (fd, path, error);
  close (fd);
  return ok;
}

/* One line from @fd, byte by byte so that nothing past it is read, into
 * secure memory.  NULL at the end of the input. */
static TkeSecret *
read_password_line (int fd, GError **error)
{
  g_autoptr (TkeSecret) line = tke_secret_new (MAX_PASSWORD + 1);
  guint8 *data = tke_secret_get_mutable_data (line);
  gsize length = 0;
  gboolean any = FALSE;

  for (;;)
    {
      char c;
      ssize_t n = read (fd, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || c == '\n')
        break;
      any = TRUE;
      if (length == MAX_PASSWORD)
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                       "A password is longer than %d bytes", MAX_PASSWORD);
          return NULL;
        }
      data[length++] = (guint8) c;
    }
  if (!any && length == 0)
    return NULL;
  if (length > 0 && data[length - 1] == '\r')
    length--;
  return tke_secret_new_from_data (data, length);
}

static GPtrArray *
read_passwords (const char *password_file, guint n_keys, GError **error)
{
  g_autoptr (GPtrArray) passwords =
      g_ptr_array_new_with_free_func ((GDestroyNotify) tke_secret_unref);
  int fd = 0;

  if (password_file != NULL)
    {
      fd = open (password_file, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_IO, "%s: %s", password_file, g_strerror (errno));
          return NULL;
        }
      if (!check_private (fd, password_file, error))
        {
          close (fd);
          return NULL;
        }
    }
  while (passwords->len < n_keys)
    {
      g_autoptr (GError) local_error = NULL;
      TkeSecret *password = read_password_line (fd, &local_error);

      if (password == NULL)
        {
          if (local_error != NULL)
            g_propagate_error (error, g_steal_pointer (&local_error));
          break;
        }
      g_ptr_array_add (passwords, password);
    }
  if (fd != 0)
    close (fd);
  if (error != NULL && *error != NULL)
    return NULL;
  if (passwords->len == 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           "No password for the signature key files was given");
      return NULL;
    }
  return g_steal_pointer (&passwords);
}

static gboolean
append_integer (STACK_OF (ASN1_TYPE) * items, const guint8 *bytes, gsize size)
{
  g_autoptr (BIGNUM) value = BN_bin2bn (bytes, (int) size, NULL);
  ASN1_INTEGER *integer = value != NULL ? BN_to_ASN1_INTEGER (value, NULL) : NULL;
  ASN1_TYPE *item;

  if (integer == NULL)
    return FALSE;
  item = ASN1_TYPE_new ();
  ASN1_TYPE_set (item, V_ASN1_INTEGER, integer);
  return sk_ASN1_TYPE_push (items, item) > 0;
}

/* The public key as the signing-service API gives it:
 * SEQUENCE { INTEGER X, INTEGER Y }. */
GBytes *
tke_sign_key_public_der (EVP_PKEY *key, GError **error)
{
  g_autoptr (GBytes) point = tke_crypto_ec_public_point (key, error);
  STACK_OF (ASN1_TYPE) * items;
  const guint8 *data;
  unsigned char *der = NULL;
  gsize half;
  int size = -1;
  GBytes *result;

  if (point == NULL)
    return NULL;
  data = g_bytes_get_data (point, NULL);
  half = (g_bytes_get_size (point) - 1) / 2;
  items = sk_ASN1_TYPE_new_null ();
  if (items != NULL && append_integer (items, data + 1, half) &&
      append_integer (items, data + 1 + half, half))
    size = i2d_ASN1_SEQUENCE_ANY (items, &der);
  sk_ASN1_TYPE_pop_free (items, ASN1_TYPE_free);
  if (size <= 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_CRYPTO, "Encoding a public key failed");
      return NULL;
    }
  result = g_bytes_new (der, size);
  OPENSSL_free (der);
  return result;
}

static gboolean
parse_token_hash (const char *hex, guint8 token[32])
{
  if (hex == NULL || strlen (hex) != 64)
    return FALSE;
  for (guint i = 0; i < 32; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      token[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}

static TkeSignKey *
load_key (JsonObject *entry,
          const char *config_dir,
          const TkeSecret *password,
          guint index,
          GError **error)
{
  const char *name = json_object_get_string_member_with_default (entry, "name", NULL);
  const char *file = json_object_get_string_member_with_default (entry, "file", NULL);
  const char *token = json_object_get_string_member_with_default (entry, "token_sha256", NULL);
  g_autoptr (TkeSignKey) key = g_new0 (TkeSignKey, 1);
  g_autoptr (TkeSignatureKeyFile) key_file = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) local_error = NULL;

  if (!tke_service_signer_key_name_is_valid (name) || file == NULL ||
      !parse_token_hash (token, key->token))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   "Key %u of the configuration needs \"name\" (letters, digits, - . _ ~), "
                   "\"file\" and \"token_sha256\" (64 hex digits)",
                   index + 1);
      return NULL;
    }
  path = g_path_is_absolute (file) ? g_strdup (file) : g_build_filename (config_dir, file, NULL);
  if (!check_private_path (path, error) ||
      (key_file = tke_signature_key_file_load (path, error)) == NULL)
    return NULL;
  key->key = tke_signature_key_file_unlock (key_file, password, &local_error);
  if (key->key == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD, "Key \"%s\" (%s): %s", name, path,
                   local_error->message);
      return NULL;
    }
  key->public_der = tke_sign_key_public_der (key->key, error);
  if (key->public_der == NULL)
    return NULL;
  key->name = g_strdup (name);
  return g_steal_pointer (&key);
}

static JsonArray *
config_keys (JsonParser *parser, const char *config_path, GError **error)
{
  JsonNode *root;
  JsonObject *object;
  JsonNode *keys;

  if (!check_private_path (config_path, error) ||
      !json_parser_load_from_file (parser, config_path, error))
    return NULL;
  root = json_parser_get_root (parser);
  object = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  keys = object != NULL ? json_object_get_member (object, "keys") : NULL;
  if (keys == NULL || !JSON_NODE_HOLDS_ARRAY (keys) ||
      json_array_get_length (json_node_get_array (keys)) == 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   "%s must be {\"keys\": [{\"name\": …, \"file\": …, \"token_sha256\": …}, …]}",
                   config_path);
      return NULL;
    }
  return json_node_get_array (keys);
}

GPtrArray *
tke_sign_keys_load (const char *config_path, const char *password_file, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_sign_key_free);
  g_autoptr (GPtrArray) passwords = NULL;
  g_autofree char *config_dir = g_path_get_dirname (config_path);
  JsonArray *entries;
  guint n;

  if ((entries = config_keys (parser, config_path, error)) == NULL)
    return NULL;
  n = json_array_get_length (entries);
  if ((passwords = read_passwords (password_file, n, error)) == NULL)
    return NULL;
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (entries, i);
      const TkeSecret *password = passwords->pdata[MIN (i, passwords->len - 1)];
      TkeSignKey *key;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                       "Key %u of the configuration is not an object", i + 1);
          return NULL;
        }
      key = load_key (json_node_get_object (node), config_dir, password, i, error);
      if (key == NULL)
        return NULL;
      if (tke_sign_keys_find (keys, key->name) != NULL)
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                       "Key \"%s\" is in the configuration twice", key->name);
          tke_sign_key_free (key);
          return NULL;
        }
      g_ptr_array_add (keys, key);
    }
  return g_steal_pointer (&keys);
}

TkeSignKey *
tke_sign_keys_find (GPtrArray *keys, const char *name)
{
  for (guint i = 0; i < keys->len; i++)
    if (g_str_equal (((TkeSignKey *) keys->pdata[i])->name, name))
      return keys->pdata[i];
  return NULL;
}

/* In constant time over the hashes. */
gboolean
tke_sign_key_token_matches (const TkeSignKey *key, const char *token)
{
  guint8 digest[32];
  gboolean match;

  if (token == NULL || *token == '\0')
    return FALSE;
  tke_crypto_sha256 ((const guint8 *) token, strlen (token), digest);
  match = CRYPTO_memcmp (digest, key->token, sizeof digest) == 0;
  OPENSSL_cleanse (digest, sizeof digest);
  return match;
}
