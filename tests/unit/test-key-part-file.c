/* test-key-part-file.c: tests of src/libtke/tke-key-part-file.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <tke.h>

#include "tke-key-part-file-private.h"

typedef struct
{
  char *dir;
  char *path;
  TkeSecret *part;
  TkeSecret *password;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  fixture->dir = g_dir_make_tmp ("tke-keypart-XXXXXX", NULL);
  fixture->path = g_build_filename (fixture->dir, "1.keypart", NULL);
  fixture->part = tke_secret_new_random (TKE_MASTER_KEY_SIZE, NULL);
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
  g_free (fixture->path);
  tke_secret_unref (fixture->part);
  tke_secret_unref (fixture->password);
}

static void
create (Fixture *fixture, const char *description)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (tke_key_part_file_create (fixture->path, description, fixture->part,
                                           fixture->password, &error));
  g_assert_no_error (error);
}

static void
test_roundtrip (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeKeyPartFile) file = NULL;
  g_autoptr (TkeSecret) part = NULL;
  guint8 vp[TKE_VP_SIZE];
  g_autofree char *vp_hex = NULL;
  GStatBuf st;

  create (fixture, "part one — für Alice");
  g_assert_cmpint (g_stat (fixture->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  file = tke_key_part_file_load (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tke_key_part_file_get_description (file), ==, "part one — für Alice");
  tke_crypto_verification_pattern (fixture->part, vp);
  vp_hex = tke_crypto_hex_encode (vp, sizeof vp);
  g_assert_cmpstr (tke_key_part_file_get_vp (file), ==, vp_hex);
  g_assert_cmpstr (tke_key_part_source_get_check_value (TKE_KEY_PART_SOURCE (file)), ==, vp_hex);

  part = tke_key_part_file_unlock (file, fixture->password, &error);
  g_assert_no_error (error);
  g_assert_true (tke_secret_is_secure (part));
  g_assert_true (tke_secret_equal (part, fixture->part));
}

static void
test_wrong_password (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeKeyPartFile) file = NULL;
  g_autoptr (TkeSecret) wrong = tke_secret_new_from_data ((const guint8 *) "correct hors", 12);
  g_autoptr (TkeSecret) part = NULL;

  create (fixture, "part");
  file = tke_key_part_file_load (fixture->path, &error);
  g_assert_no_error (error);
  part = tke_key_part_file_unlock (file, wrong, &error);
  g_assert_null (part);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD);
  g_assert_cmpstr (error->message, ==, "Invalid password.");
  g_clear_error (&error);
  g_assert_false (tke_key_part_file_set_password (file, wrong, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD);
}

/* Rewrites one member of the file's JSON (a member of "cipher" if @in_cipher). */
static void
rewrite_member (const char *path, gboolean in_cipher, const char *member, const char *value)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *text = NULL;
  JsonObject *object;

  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  object = json_node_get_object (json_parser_get_root (parser));
  if (in_cipher)
    object = json_object_get_object_member (object, "cipher");
  json_object_set_string_member (object, member, value);
  text = json_to_string (json_parser_get_root (parser), TRUE);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
test_tampered_description (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeKeyPartFile) file = NULL;
  g_autoptr (TkeSecret) part = NULL;

  create (fixture, "part A");
  rewrite_member (fixture->path, FALSE, "description", "part B");
  file = tke_key_part_file_load (fixture->path, &error);
  g_assert_no_error (error);
  part = tke_key_part_file_unlock (file, fixture->password, &error);
  g_assert_null (part);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_assert_nonnull (strstr (error->message, "damaged or was altered"));
}

static void
test_tampered_ciphertext (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeKeyPartFile) file = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (TkeSecret) part = NULL;
  g_autofree char *hex = NULL;

  create (fixture, "part");
  g_assert_true (json_parser_load_from_file (parser, fixture->path, NULL));
  hex = g_strdup (json_object_get_string_member (
      json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                     "cipher"),
      "ciphertext"));
  hex[0] = hex[0] == '0' ? '1' : '0';
  rewrite_member (fixture->path, TRUE, "ciphertext", hex);

  file = tke_key_part_file_load (fixture->path, &error);
  g_assert_no_error (error);
  part = tke_key_part_file_unlock (file, fixture->password, &error);
  g_assert_null (part);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
}

static void
test_bad_files (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeKeyPartFile) file = NULL;
  g_autoptr (TkeSecret) short_part = tke_secret_new (16);

  file = tke_key_part_file_load (fixture->path, &error);
  g_assert_null (file);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (fixture->path, "{\"format\": 3", -1, NULL));
  file = tke_key_part_file_load (fixture->path, &error);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* A file that asks scrypt for 2^30 iterations is refused before deriving. */
  g_unlink (fixture->path);
  create (fixture, "part");
  {
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autofree char *text = NULL;

    g_assert_true (json_parser_load_from_file (parser, fixture->path, NULL));
    json_object_set_int_member (
        json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "kdf"),
        "N", G_GINT64_CONSTANT (1) << 30);
    text = json_to_string (json_parser_get_root (parser), FALSE);
    g_assert_true (g_file_set_contents (fixture->path, text, -1, NULL));
  }
  file = tke_key_part_file_load (fixture->path, &error);
  g_assert_null (file);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* An existing file is never overwritten. */
  g_assert_false (
      tke_key_part_file_create (fixture->path, "x", fixture->part, fixture->password, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_IO);
  g_clear_error (&error);
  g_unlink (fixture->path);

  g_assert_false (
      tke_key_part_file_create (fixture->path, "", fixture->part, fixture->password, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (tke_key_part_file_create (fixture->path, "line\nbreak", fixture->part,
                                            fixture->password, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (
      tke_key_part_file_create (fixture->path, "short", short_part, fixture->password, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  g_assert_false (g_file_test (fixture->path, G_FILE_TEST_EXISTS));
}

static void
on_sealed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GBytes *
seal (TkeKeyPartSource *source, GBytes *importer, GBytes *aad, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  tke_key_part_source_seal_async (source, importer, aad, NULL, on_sealed, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return tke_key_part_source_seal_finish (source, result, error);
}

static void
test_seal (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeKeyPartFile) file = NULL;
  g_autoptr (EVP_PKEY) importer = tke_crypto_ec_generate (NULL);
  g_autoptr (GBytes) point = tke_crypto_ec_public_point (importer, NULL);
  g_autoptr (GBytes) aad = g_bytes_new_static ("tke-keypart-v1|u|new|1|2", 24);
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (TkeSecret) opened = NULL;

  create (fixture, "part");
  file = tke_key_part_file_load (fixture->path, &error);
  g_assert_no_error (error);

  /* Without a password the source refuses to seal. */
  sealed = seal (TKE_KEY_PART_SOURCE (file), point, aad, &error);
  g_assert_null (sealed);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (tke_key_part_file_set_password (file, fixture->password, &error));
  sealed = seal (TKE_KEY_PART_SOURCE (file), point, aad, &error);
  g_assert_no_error (error);
  opened = tke_crypto_open (importer, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                            g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), &error);
  g_assert_no_error (error);
  g_assert_true (tke_secret_equal (opened, fixture->part));
}

/* Sets "kdf" (or another member) of the file to @json_value. */
static void
set_member_json (const char *path, const char *member, const char *json_value)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonNode) value = json_from_string (json_value, NULL);
  g_autofree char *text = NULL;

  g_assert_nonnull (value);
  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  json_object_set_member (json_node_get_object (json_parser_get_root (parser)), member,
                          g_steal_pointer (&value));
  text = json_to_string (json_parser_get_root (parser), FALSE);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
assert_load_refused (Fixture *fixture, const char *member, const char *json_value)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeKeyPartFile) file = NULL;

  g_autofree char *base = g_strconcat (fixture->path, ".base", NULL);
  g_autofree char *text = NULL;
  gsize size;

  /* One scrypt derivation per test, not one per edit. */
  if (!g_file_test (base, G_FILE_TEST_EXISTS))
    {
      g_unlink (fixture->path);
      create (fixture, "part");
      g_assert_cmpint (g_rename (fixture->path, base), ==, 0);
    }
  g_assert_true (g_file_get_contents (base, &text, &size, NULL));
  g_assert_true (g_file_set_contents (fixture->path, text, (gssize) size, NULL));
  set_member_json (fixture->path, member, json_value);
  file = tke_key_part_file_load (fixture->path, &error);
  g_assert_null (file);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
}

/* Issue 19: scrypt's cost is one bound on N·r·p (N 2^20 with r 15 passed
 * the per-parameter bounds and cost 1.9 GiB), and members of the wrong
 * kind are refused without json-glib criticals (fatal here). */
static void
test_hostile_files (Fixture *fixture, gconstpointer data)
{
  g_autofree char *salt = g_strnfill (64, '0');
  g_autofree char *kdf = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeKeyPartFile) file = NULL;

  kdf = g_strdup_printf ("{\"name\": \"scrypt\", \"N\": 1048576, \"r\": 15, \"p\": 1, \"salt\": "
                         "\"%s\"}",
                         salt);
  assert_load_refused (fixture, "kdf", kdf);
  g_free (kdf);
  kdf = g_strdup_printf ("{\"name\": \"scrypt\", \"N\": 32768, \"r\": 8, \"p\": 16, \"salt\": "
                         "\"%s\"}",
                         salt);
  assert_load_refused (fixture, "kdf", kdf);
  assert_load_refused (fixture, "kdf", "\"scrypt\"");
  assert_load_refused (fixture, "kdf", "{\"name\": [1], \"N\": {}, \"salt\": []}");
  assert_load_refused (fixture, "cipher", "[\"aes-256-gcm\"]");
  assert_load_refused (fixture, "format", "{}");
  assert_load_refused (fixture, "description", "[]");
  assert_load_refused (fixture, "version", "[1]");

  g_assert_true (g_file_set_contents (fixture->path, " \n ", -1, NULL));
  file = tke_key_part_file_load (fixture->path, &error);
  g_assert_null (file);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* The parser on bytes, for the fuzz target: not NUL-terminated. */
  file = _tke_key_part_file_parse_bytes ("buffer", "[]]]", 2, &error);
  g_assert_null (file);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) g_test_add (name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/key-part-file/roundtrip", test_roundtrip);
  ADD ("/key-part-file/wrong-password", test_wrong_password);
  ADD ("/key-part-file/tampered-description", test_tampered_description);
  ADD ("/key-part-file/tampered-ciphertext", test_tampered_ciphertext);
  ADD ("/key-part-file/bad-files", test_bad_files);
  ADD ("/key-part-file/seal", test_seal);
  ADD ("/key-part-file/hostile", test_hostile_files);
#undef ADD

  return g_test_run ();
}
