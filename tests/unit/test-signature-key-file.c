/* test-signature-key-file.c: tests of src/libtke/tke-signature-key-file.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <tke.h>

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
#undef ADD

  return g_test_run ();
}
