/* test-signature-key-file.c: tests of src/libtke/tke-signature-key-file.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <tke.h>

#include "sdk-sigkey.h"
#include "tke-signature-key-file-private.h"

typedef struct
{
  char *dir;
  EVP_PKEY *key;
  TkeSecret *password;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  fixture->dir = g_dir_make_tmp ("tke-sigkey-XXXXXX", NULL);
  fixture->key = tke_crypto_ec_generate (NULL);
  fixture->password = tke_secret_new_from_data ((const guint8 *) "correct horse", 13);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GDir) dir = g_dir_open (fixture->dir, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fixture->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (fixture->dir);
  g_free (fixture->dir);
  EVP_PKEY_free (fixture->key);
  tke_secret_unref (fixture->password);
}

static void
assert_roundtrip (Fixture *fixture, TkeKeyFileKdf kdf, const char *file_name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (fixture->dir, file_name, NULL);
  g_autoptr (TkeSignatureKeyFile) file = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  guint8 ski[TKE_SKI_SIZE];
  g_autofree char *ski_hex = NULL;
  GStatBuf st;

  g_assert_true (
      tke_signature_key_file_create (path, "admin1", fixture->key, fixture->password, kdf, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  file = tke_signature_key_file_load (path, &error);
  g_assert_no_error (error);
  tke_crypto_ski (fixture->key, ski, NULL);
  ski_hex = tke_crypto_hex_encode (ski, sizeof ski);
  g_assert_cmpstr (tke_signature_key_file_get_ski (file), ==, ski_hex);
  g_assert_cmpstr (tke_signature_key_file_get_admin_name (file), ==, "admin1");
  g_assert_cmpint (tke_signature_key_file_get_kdf (file), ==, kdf);

  key = tke_signature_key_file_unlock (file, fixture->password, &error);
  g_assert_no_error (error);
  g_assert_true (EVP_PKEY_eq (key, fixture->key) == 1);
}

static void
test_roundtrip_scrypt (Fixture *fixture, gconstpointer data)
{
  assert_roundtrip (fixture, TKE_KEY_FILE_KDF_SCRYPT, "1.sigkey");
}

/* What the service's own plug-in writes and reads: no "kdf" member. */
static void
test_roundtrip_legacy (Fixture *fixture, gconstpointer data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "2.sigkey", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *object;

  assert_roundtrip (fixture, TKE_KEY_FILE_KDF_PBKDF2, "2.sigkey");

  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "keyType"), ==, "p521ec");
  g_assert_cmpuint (strlen (json_object_get_string_member (object, "seaSalt")), ==, 64);
  g_assert_cmpuint (strlen (json_object_get_string_member (object, "ski")), ==, 64);
  g_assert_false (json_object_has_member (object, "kdf"));
}

static void
test_wrong_password (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (fixture->dir, "3.sigkey", NULL);
  g_autoptr (TkeSecret) wrong = tke_secret_new_from_data ((const guint8 *) "Correct horse", 13);
  g_autoptr (TkeSignatureKeyFile) file = NULL;
  EVP_PKEY *key;

  g_assert_true (tke_signature_key_file_create (path, NULL, fixture->key, fixture->password,
                                                TKE_KEY_FILE_KDF_SCRYPT, &error));
  file = tke_signature_key_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_null (tke_signature_key_file_get_admin_name (file));

  key = tke_signature_key_file_unlock (file, wrong, &error);
  g_assert_null (key);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD);
  g_assert_cmpstr (error->message, ==, "Invalid password.");
}

static void
test_file_names_another_key (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (fixture->dir, "4.sigkey", NULL);
  g_autofree char *text = NULL;
  g_autoptr (TkeSignatureKeyFile) file = NULL;
  EVP_PKEY *key;
  char *ski;

  g_assert_true (tke_signature_key_file_create (path, NULL, fixture->key, fixture->password,
                                                TKE_KEY_FILE_KDF_SCRYPT, &error));
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  ski = strstr (text, "\"ski\"");
  g_assert_nonnull (ski);
  ski = strchr (ski + 5, '"') + 1;
  *ski = *ski == 'a' ? 'b' : 'a';
  g_assert_true (g_file_set_contents (path, text, -1, NULL));

  file = tke_signature_key_file_load (path, &error);
  g_assert_no_error (error);
  key = tke_signature_key_file_unlock (file, fixture->password, &error);
  g_assert_null (key);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
}

static void
test_malformed_files (Fixture *fixture, gconstpointer data)
{
  static const char *const bad[] = {
    "not json",
    "[1, 2]",
    "{\"keyType\": \"rsa2048\"}",
    "{\"keyType\": \"p521ec\", \"ski\": \"00\"}",
    "{\"keyType\": \"p521ec\", \"ski\": "
    "\"0000000000000000000000000000000000000000000000000000000000000000\","
    " \"seaSalt\": \"zz\", \"enckey\": \"00\"}",
    "{\"keyType\": \"p521ec\", \"ski\": "
    "\"0000000000000000000000000000000000000000000000000000000000000000\","
    " \"seaSalt\": \"0000000000000000000000000000000000000000000000000000000000000000\","
    " \"enckey\": \"000000000000000000000000000000000000000000000000000000000000000000\","
    " \"kdf\": {\"name\": \"scrypt\", \"N\": 1099511627776, \"r\": 8, \"p\": 1}}",
  };
  g_autofree char *path = g_build_filename (fixture->dir, "bad.sigkey", NULL);
  g_autofree char *missing = g_build_filename (fixture->dir, "missing.sigkey", NULL);
  g_autoptr (GError) error = NULL;
  TkeSignatureKeyFile *file;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_true (g_file_set_contents (path, bad[i], -1, NULL));
      file = tke_signature_key_file_load (path, &error);
      g_assert_null (file);
      g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
      g_clear_error (&error);
    }

  file = tke_signature_key_file_load (missing, &error);
  g_assert_null (file);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND);
}

static void
test_refuses_to_overwrite (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (fixture->dir, "5.sigkey", NULL);

  g_assert_true (g_file_set_contents (path, "keep me", -1, NULL));
  g_assert_false (tke_signature_key_file_create (path, "admin", fixture->key, fixture->password,
                                                 TKE_KEY_FILE_KDF_SCRYPT, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_IO);
  g_clear_error (&error);

  g_assert_false (tke_signature_key_file_create (path, "a name that is far too long for a unit",
                                                 fixture->key, fixture->password,
                                                 TKE_KEY_FILE_KDF_SCRYPT, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
}

/* Writes a fresh file with @member set to @json_value; returns its path. */
static char *
write_edited (Fixture *fixture, const char *member, const char *json_value)
{
  g_autofree char *path = g_build_filename (fixture->dir, "edited.sigkey", NULL);
  g_autofree char *base = g_build_filename (fixture->dir, "base.sigkey", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonNode) value = json_from_string (json_value, NULL);
  g_autofree char *text = NULL;
  JsonObject *object;

  /* One scrypt derivation per test, not one per edit. */
  if (!g_file_test (base, G_FILE_TEST_EXISTS))
    g_assert_true (tke_signature_key_file_create (base, NULL, fixture->key, fixture->password,
                                                  TKE_KEY_FILE_KDF_SCRYPT, NULL));
  g_assert_true (json_parser_load_from_file (parser, base, NULL));
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_nonnull (value);
  json_object_set_member (object, member, g_steal_pointer (&value));
  text = json_to_string (json_parser_get_root (parser), FALSE);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return g_steal_pointer (&path);
}

static void
assert_refused (const char *path, const char *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSignatureKeyFile) file = tke_signature_key_file_load (path, &error);

  g_assert_null (file);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  if (message != NULL && strstr (error->message, message) == NULL)
    g_error ("expected “%s” in: %s", message, error->message);
}

static void
assert_edit_refused (Fixture *fixture, const char *member, const char *value, const char *message)
{
  g_autofree char *path = write_edited (fixture, member, value);

  assert_refused (path, message);
}

static char *
hex_string_json (gsize n_bytes)
{
  char *text = g_malloc (2 * n_bytes + 3);

  memset (text, '0', 2 * n_bytes + 2);
  text[0] = text[2 * n_bytes + 1] = '"';
  text[2 * n_bytes + 2] = '\0';
  return text;
}

/* Issue 19: a 300 kB enckey took the secure heap (and aborted tke and the
 * GUI), scrypt was bounded one parameter at a time, and a blank file or a
 * member of the wrong kind raised json-glib criticals (fatal here). */
static void
test_hostile_files (Fixture *fixture, gconstpointer data)
{
  static const char *const members[] = { "kdf", "ski", "keyType", "seaSalt", "adminName" };
  g_autofree char *path = g_build_filename (fixture->dir, "hostile.sigkey", NULL);
  g_autofree char *enckey = hex_string_json (5000);
  g_autofree char *huge = hex_string_json (300000);
  g_autofree char *deep = g_strnfill (100000, '[');
  g_autofree char *edited = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSignatureKeyFile) file = NULL;

  g_assert_true (g_file_set_contents (path, "  \n\t  ", -1, NULL));
  assert_refused (path, NULL);
  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  assert_refused (path, NULL);
  g_assert_true (g_file_set_contents (path, deep, -1, NULL));
  assert_refused (path, NULL);

  assert_edit_refused (fixture, "enckey", enckey, "too large");
  assert_edit_refused (fixture, "enckey", huge, "too large");

  assert_edit_refused (fixture, "kdf",
                       "{\"name\": \"scrypt\", \"N\": 1048576, \"r\": 15, \"p\": 1}", "scrypt");
  assert_edit_refused (fixture, "kdf", "{\"name\": \"scrypt\", \"N\": 32768, \"r\": 8, \"p\": 16}",
                       "scrypt");
  edited =
      write_edited (fixture, "kdf", "{\"name\": \"scrypt\", \"N\": 32768, \"r\": 8, \"p\": 8}");
  file = tke_signature_key_file_load (edited, &error);
  g_assert_no_error (error);
  g_assert_nonnull (file);

  for (guint i = 0; i < G_N_ELEMENTS (members) - 1; i++)
    assert_edit_refused (fixture, members[i], "[\"x\"]", NULL);
  assert_edit_refused (fixture, "kdf", "{\"name\": [], \"N\": {}, \"r\": \"8\", \"p\": null}",
                       NULL);
  /* An optional member of the wrong kind is as good as missing. */
  g_clear_object (&file);
  g_free (edited);
  edited = write_edited (fixture, "adminName", "{\"x\": 1}");
  file = tke_signature_key_file_load (edited, &error);
  g_assert_no_error (error);
  g_assert_null (tke_signature_key_file_get_admin_name (file));
  g_clear_object (&file);

  /* The parser on bytes, for the fuzz target: not NUL-terminated. */
  file = _tke_signature_key_file_parse_bytes ("buffer", "{}xxxx", 2, &error);
  g_assert_null (file);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
}

/* Issue 17: a file in the SDK's layout (SEC1 inside "PRIVATE KEY", made
 * here without libtke) was refused: "The private key is not a P-521 key
 * in PEM format." */
static void
assert_reads_sdk_file (Fixture *fixture, SdkPointForm form)
{
  g_autofree char *path = g_build_filename (fixture->dir, "sdk.sigkey", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSignatureKeyFile) file = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (TkeSecret) wrong = tke_secret_new_from_data ((const guint8 *) "wrong", 5);
  EVP_PKEY *none;

  sdk_sigkey_write (path, fixture->key, "correct horse", form);
  file = tke_signature_key_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tke_signature_key_file_get_kdf (file), ==, TKE_KEY_FILE_KDF_PBKDF2);
  g_assert_null (tke_signature_key_file_get_admin_name (file));

  key = tke_signature_key_file_unlock (file, fixture->password, &error);
  g_assert_no_error (error);
  g_assert_true (EVP_PKEY_eq (key, fixture->key) == 1);

  none = tke_signature_key_file_unlock (file, wrong, &error);
  g_assert_null (none);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD);
}

static void
test_reads_sdk_layout (Fixture *fixture, gconstpointer data)
{
  assert_reads_sdk_file (fixture, SDK_POINT_UNCOMPRESSED);
}

/* SEC1 may carry the point compressed; the SKI is on the uncompressed
 * point all the same (OpenSSL would encode such a key compressed). */
static void
test_reads_sdk_layout_compressed_point (Fixture *fixture, gconstpointer data)
{
  assert_reads_sdk_file (fixture, SDK_POINT_COMPRESSED);
}

/* Issue 17: the plug-in layout we write decodes with the SDK's steps
 * (PBKDF2 → GCM → PEM "PRIVATE KEY" → SEC1 version 1 → SKI), done here
 * with OpenSSL alone; before, the PEM held PKCS#8 and the SDK said
 * "use ParsePKCS8PrivateKey instead". */
static void
test_plugin_layout_sdk_steps (Fixture *fixture, gconstpointer data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "plugin.sigkey", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  EVP_PKEY *none;

  g_assert_true (tke_signature_key_file_create (path, "Admin One", fixture->key, fixture->password,
                                                TKE_KEY_FILE_KDF_PBKDF2, &error));
  g_assert_no_error (error);
  key = sdk_sigkey_read (path, "correct horse", &message);
  if (key == NULL)
    g_error ("the SDK's steps refused the file: %s", message);
  g_assert_true (EVP_PKEY_eq (key, fixture->key) == 1);

  none = sdk_sigkey_read (path, "Correct horse", &message);
  g_assert_null (none);
  g_assert_cmpstr (message, ==, "Invalid password.");
}

/* Issue 17: the stronger layout made the SDK panic (an object "kdf" in
 * its map of strings); now every member is a string, the SDK derives the
 * PBKDF2 key, the GCM open fails and it says "Invalid password.". */
static void
test_strong_layout_refused_cleanly (Fixture *fixture, gconstpointer data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "strong.sigkey", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *message = NULL;
  EVP_PKEY *none;
  JsonObject *object;

  g_assert_true (tke_signature_key_file_create (path, "Admin One", fixture->key, fixture->password,
                                                TKE_KEY_FILE_KDF_SCRYPT, &error));
  g_assert_no_error (error);

  none = sdk_sigkey_read (path, "correct horse", &message);
  g_assert_null (none);
  g_assert_cmpstr (message, ==, "Invalid password.");

  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "keyType"), ==, "p521ec");
  g_assert_cmpstr (json_object_get_string_member (object, "kdf"), ==, "scrypt:N=32768,r=8,p=1");
}

/* What tke wrote before issue 17: "kdf" an object, PKCS#8 in the PEM.
 * Made here from libtke's primitives, as the old writer did. */
static void
test_reads_old_tke_layout (Fixture *fixture, gconstpointer data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "old.sigkey", NULL);
  g_autoptr (GError) error = NULL;
  guint8 salt[32], nonce[TKE_GCM_NONCE_SIZE], ski[TKE_SKI_SIZE];
  g_autoptr (TkeSecret) aes = NULL;
  g_autoptr (TkeSecret) pem = tke_crypto_ec_private_key_to_pem (fixture->key, NULL);
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (GByteArray) enckey = g_byte_array_new ();
  g_autofree char *enckey_hex = NULL, *salt_hex = NULL, *ski_hex = NULL, *text = NULL;
  g_autoptr (TkeSignatureKeyFile) file = NULL;
  g_autoptr (EVP_PKEY) key = NULL;

  g_assert_true (g_str_has_prefix ((const char *) tke_secret_get_data (pem),
                                   "-----BEGIN PRIVATE KEY-----\nMIH"));
  g_assert_true (tke_crypto_random_bytes (salt, sizeof salt, NULL));
  g_assert_true (tke_crypto_random_bytes (nonce, sizeof nonce, NULL));
  aes = tke_crypto_scrypt (fixture->password, salt, sizeof salt, 32768, 8, 1, 32, NULL);
  sealed = tke_crypto_aes_gcm_encrypt (aes, nonce, NULL, 0, tke_secret_get_data (pem),
                                       tke_secret_get_size (pem), NULL);
  g_byte_array_append (enckey, nonce, sizeof nonce);
  g_byte_array_append (enckey, g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed));
  tke_crypto_ski (fixture->key, ski, NULL);
  enckey_hex = tke_crypto_hex_encode (enckey->data, enckey->len);
  salt_hex = tke_crypto_hex_encode (salt, sizeof salt);
  ski_hex = tke_crypto_hex_encode (ski, sizeof ski);
  text = g_strdup_printf ("{\"keyType\": \"p521ec\", \"ski\": \"%s\", \"enckey\": \"%s\", "
                          "\"seaSalt\": \"%s\", \"adminName\": \"Old\", \"kdf\": {\"name\": "
                          "\"scrypt\", \"N\": 32768, \"r\": 8, \"p\": 1}}",
                          ski_hex, enckey_hex, salt_hex);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));

  file = tke_signature_key_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tke_signature_key_file_get_kdf (file), ==, TKE_KEY_FILE_KDF_SCRYPT);
  key = tke_signature_key_file_unlock (file, fixture->password, &error);
  g_assert_no_error (error);
  g_assert_true (EVP_PKEY_eq (key, fixture->key) == 1);
}

static void
test_refuses_rsa_and_bad_kdf_strings (Fixture *fixture, gconstpointer data)
{
  static const char *const bad_kdf[] = {
    "\"pbkdf2:c=1\"",
    "\"scrypt:\"",
    "\"scrypt:N=32768,r=8\"",
    "\"scrypt:r=8,N=32768,p=1\"",
    "\"scrypt:N=32768,r=8,p=1,x=2\"",
    "\"scrypt:N=-1,r=8,p=1\"",
    "\"scrypt:N=1048576,r=15,p=1\"",
    "\"scrypt:N=32768,r=8,p= 1\"",
    "17",
  };
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSignatureKeyFile) file = NULL;

  path = write_edited (fixture, "keyType", "\"rsa2048\"");
  file = tke_signature_key_file_load (path, &error);
  g_assert_null (file);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "“rsa2048”"));
  g_assert_nonnull (strstr (error->message, "RSA-2048"));
  g_clear_error (&error);
  g_free (path);

  path = write_edited (fixture, "keyType",
                       "\"\\u001b[2Jrsa-2048-with-a-type-name-far-too-long-to-show\"");
  file = tke_signature_key_file_load (path, &error);
  g_assert_null (file);
  g_assert_nonnull (strstr (error->message, "“\\033[2Jrsa-2048-with-a-type-name-far-...”"));
  g_clear_error (&error);
  g_free (path);

  path = write_edited (fixture, "keyType", "null");
  assert_refused (path, "no key type");

  for (gsize i = 0; i < G_N_ELEMENTS (bad_kdf); i++)
    assert_edit_refused (fixture, "kdf", bad_kdf[i], NULL);

  g_free (path);
  path = write_edited (fixture, "kdf", "\"scrypt:N=16384,r=8,p=2\"");
  file = tke_signature_key_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tke_signature_key_file_get_kdf (file), ==, TKE_KEY_FILE_KDF_SCRYPT);
}

static char *
read_text (const char *path)
{
  char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* tke sigkey-convert: the other layout, same key, name and password; a
 * wrong password leaves the file as it was, and no stray file behind. */
static void
test_rewrite (Fixture *fixture, gconstpointer data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "7.sigkey", NULL);
  g_autoptr (TkeSecret) wrong = tke_secret_new_from_data ((const guint8 *) "wrong", 5);
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSignatureKeyFile) file = NULL;
  g_autoptr (TkeSignatureKeyFile) again = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autofree char *message = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr (GDir) dir = NULL;
  GStatBuf st;
  guint n = 0;

  g_assert_true (tke_signature_key_file_create (path, "Admin Seven", fixture->key,
                                                fixture->password, TKE_KEY_FILE_KDF_SCRYPT, NULL));
  file = tke_signature_key_file_load (path, &error);
  g_assert_no_error (error);
  before = read_text (path);

  g_assert_false (tke_signature_key_file_rewrite (file, wrong, TKE_KEY_FILE_KDF_PBKDF2, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD);
  g_clear_error (&error);
  after = read_text (path);
  g_assert_cmpstr (before, ==, after);

  g_assert_true (
      tke_signature_key_file_rewrite (file, fixture->password, TKE_KEY_FILE_KDF_PBKDF2, &error));
  g_assert_no_error (error);
  g_assert_cmpint (tke_signature_key_file_get_kdf (file), ==, TKE_KEY_FILE_KDF_PBKDF2);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  key = sdk_sigkey_read (path, "correct horse", &message);
  g_assert_nonnull (key);
  g_assert_true (EVP_PKEY_eq (key, fixture->key) == 1);
  g_clear_pointer (&key, EVP_PKEY_free);

  /* The object was updated in place: it unlocks with the new layout. */
  key = tke_signature_key_file_unlock (file, fixture->password, &error);
  g_assert_no_error (error);
  g_clear_pointer (&key, EVP_PKEY_free);

  g_assert_true (
      tke_signature_key_file_rewrite (file, fixture->password, TKE_KEY_FILE_KDF_SCRYPT, &error));
  again = tke_signature_key_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tke_signature_key_file_get_kdf (again), ==, TKE_KEY_FILE_KDF_SCRYPT);
  g_assert_cmpstr (tke_signature_key_file_get_admin_name (again), ==, "Admin Seven");
  key = tke_signature_key_file_unlock (again, fixture->password, &error);
  g_assert_no_error (error);
  g_assert_true (EVP_PKEY_eq (key, fixture->key) == 1);

  dir = g_dir_open (fixture->dir, 0, NULL);
  while (g_dir_read_name (dir) != NULL)
    n++;
  g_assert_cmpuint (n, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/signature-key-file/roundtrip-scrypt", test_roundtrip_scrypt);
  ADD ("/signature-key-file/roundtrip-legacy", test_roundtrip_legacy);
  ADD ("/signature-key-file/wrong-password", test_wrong_password);
  ADD ("/signature-key-file/names-another-key", test_file_names_another_key);
  ADD ("/signature-key-file/malformed", test_malformed_files);
  ADD ("/signature-key-file/refuses-to-overwrite", test_refuses_to_overwrite);
  ADD ("/signature-key-file/hostile", test_hostile_files);
  ADD ("/signature-key-file/sdk-layout", test_reads_sdk_layout);
  ADD ("/signature-key-file/sdk-layout-compressed-point", test_reads_sdk_layout_compressed_point);
  ADD ("/signature-key-file/plugin-layout-sdk-steps", test_plugin_layout_sdk_steps);
  ADD ("/signature-key-file/strong-layout-refused-cleanly", test_strong_layout_refused_cleanly);
  ADD ("/signature-key-file/old-tke-layout", test_reads_old_tke_layout);
  ADD ("/signature-key-file/rsa-and-kdf-strings", test_refuses_rsa_and_bad_kdf_strings);
  ADD ("/signature-key-file/rewrite", test_rewrite);
#undef ADD

  return g_test_run ();
}
