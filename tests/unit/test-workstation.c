/* test-workstation.c: tests of src/libtke/tke-workstation.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>

#include <tke.h>

static char *
make_tree (void)
{
  return g_dir_make_tmp ("tke-ws-XXXXXX", NULL);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static GArray *
numbers (guint n, ...)
{
  GArray *array = g_array_new (FALSE, FALSE, sizeof (guint));
  va_list ap;

  va_start (ap, n);
  for (guint i = 0; i < n; i++)
    {
      guint value = va_arg (ap, guint);
      g_array_append_val (array, value);
    }
  va_end (ap);
  return array;
}

static void
assert_numbers (GArray *array, guint n, const guint *expected)
{
  g_assert_cmpuint (array->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (g_array_index (array, guint, i), ==, expected[i]);
}

static void
test_profile_roundtrip (void)
{
  g_autofree char *top = make_tree ();
  g_autofree char *config = g_build_filename (top, "config", "tke", NULL);
  g_autofree char *files = g_build_filename (top, "files", NULL);
  g_autoptr (TkeWorkstation) ws = tke_workstation_new (config, files);
  g_autoptr (TkeWorkstation) again = tke_workstation_new (config, files);
  g_autoptr (GArray) units = numbers (4, 3, 1, 3, 2);
  g_autoptr (GArray) keys = numbers (1, 7);
  g_autoptr (GError) error = NULL;
  const guint expected_units[] = { 1, 2, 3 };
  const guint expected_keys[] = { 7 };
  GStatBuf st;

  /* No profile yet: an empty one. */
  g_assert_true (tke_workstation_load (ws, &error));
  g_assert_no_error (error);
  g_assert_null (tke_workstation_get_endpoint (ws));
  g_assert_cmpuint (tke_workstation_get_selected_units (ws)->len, ==, 0);

  tke_workstation_set_endpoint (ws, "https://127.0.0.1:4443");
  tke_workstation_set_ca_file (ws, "/tmp/ca.pem");
  tke_workstation_set_instance_id (ws, "inst-1");
  tke_workstation_set_selected_units (ws, units);
  tke_workstation_set_selected_signature_keys (ws, keys);
  g_assert_true (tke_workstation_save (ws, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (tke_workstation_get_profile_path (ws), &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  g_assert_true (tke_workstation_load (again, &error));
  g_assert_cmpstr (tke_workstation_get_endpoint (again), ==, "https://127.0.0.1:4443");
  g_assert_cmpstr (tke_workstation_get_ca_file (again), ==, "/tmp/ca.pem");
  g_assert_cmpstr (tke_workstation_get_instance_id (again), ==, "inst-1");
  assert_numbers (tke_workstation_get_selected_units (again), 3, expected_units);
  assert_numbers (tke_workstation_get_selected_signature_keys (again), 1, expected_keys);
  g_assert_true (tke_workstation_is_unit_selected (again, 2));
  g_assert_false (tke_workstation_is_unit_selected (again, 4));

  /* Clearing a value. */
  tke_workstation_set_ca_file (again, NULL);
  g_assert_true (tke_workstation_save (again, &error));
  g_assert_true (tke_workstation_load (ws, &error));
  g_assert_null (tke_workstation_get_ca_file (ws));

  remove_tree (top);
}

static void
touch (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, "{}", -1, NULL));
}

static void
test_keynums (void)
{
  g_autofree char *top = make_tree ();
  g_autofree char *files = g_build_filename (top, "files", NULL);
  g_autoptr (TkeWorkstation) ws = tke_workstation_new (top, files);
  g_autoptr (GArray) sigkeys = NULL;
  g_autoptr (GArray) parts = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  const guint expected_sigkeys[] = { 1, 3, 12 };
  const guint expected_parts[] = { 2 };

  /* No directory yet: nothing, and KEYNUM 1 comes first. */
  sigkeys = tke_workstation_list_key_files (ws, TKE_KEY_FILE_SIGNATURE_KEY, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sigkeys->len, ==, 0);
  g_assert_cmpuint (tke_workstation_next_keynum (ws, TKE_KEY_FILE_SIGNATURE_KEY, &error), ==, 1);
  g_clear_pointer (&sigkeys, g_array_unref);

  g_assert_true (tke_workstation_ensure_files_dir (ws, &error));
  touch (files, "1.sigkey");
  touch (files, "3.sigkey");
  touch (files, "12.sigkey");
  touch (files, "0.sigkey");
  touch (files, "01.sigkey");
  touch (files, "a.sigkey");
  touch (files, ".sigkey");
  touch (files, "4.sigkey.bak");
  touch (files, "2.keypart");

  sigkeys = tke_workstation_list_key_files (ws, TKE_KEY_FILE_SIGNATURE_KEY, &error);
  g_assert_no_error (error);
  assert_numbers (sigkeys, 3, expected_sigkeys);
  parts = tke_workstation_list_key_files (ws, TKE_KEY_FILE_KEY_PART, &error);
  assert_numbers (parts, 1, expected_parts);
  g_assert_cmpuint (tke_workstation_next_keynum (ws, TKE_KEY_FILE_SIGNATURE_KEY, NULL), ==, 13);
  g_assert_cmpuint (tke_workstation_next_keynum (ws, TKE_KEY_FILE_KEY_PART, NULL), ==, 3);

  path = tke_workstation_get_key_file_path (ws, TKE_KEY_FILE_KEY_PART, 5);
  g_assert_true (g_str_has_suffix (path, "/files/5.keypart"));

  remove_tree (top);
}

static void
test_env_files_dir (void)
{
  g_autoptr (TkeWorkstation) ws = NULL;

  g_setenv ("TKE_FILES", "/somewhere/keys", TRUE);
  ws = tke_workstation_new ("/tmp/cfg", NULL);
  g_assert_cmpstr (tke_workstation_get_files_dir (ws), ==, "/somewhere/keys");
  g_unsetenv ("TKE_FILES");
}

/* Issue 13: a staged key file takes the next free KEYNUM, never an
 * existing one's name, and leaves nothing staged behind. */
static void
test_install_key_file (void)
{
  g_autofree char *top = make_tree ();
  g_autofree char *files = g_build_filename (top, "files", NULL);
  g_autoptr (TkeWorkstation) ws = tke_workstation_new (top, files);
  g_autoptr (GError) error = NULL;
  g_autofree char *first = NULL, *second = NULL, *kept = NULL, *contents = NULL;
  g_autoptr (GArray) parts = NULL;
  const guint expected[] = { 1, 2, 3 };

  first = tke_workstation_new_staging_path (ws, TKE_KEY_FILE_KEY_PART, &error);
  g_assert_no_error (error);
  second = tke_workstation_new_staging_path (ws, TKE_KEY_FILE_KEY_PART, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first, !=, second);
  g_assert_true (g_file_set_contents (first, "first", -1, NULL));
  g_assert_true (g_file_set_contents (second, "second", -1, NULL));
  /* Staged files are no KEYNUMs. */
  parts = tke_workstation_list_key_files (ws, TKE_KEY_FILE_KEY_PART, &error);
  g_assert_cmpuint (parts->len, ==, 0);
  g_clear_pointer (&parts, g_array_unref);

  g_assert_cmpuint (tke_workstation_install_key_file (ws, TKE_KEY_FILE_KEY_PART, first, &error), ==,
                    1);
  /* Someone else takes KEYNUM 2 meanwhile: the second one gets 3. */
  touch (files, "2.keypart");
  kept = g_build_filename (files, "2.keypart", NULL);
  g_assert_cmpuint (tke_workstation_install_key_file (ws, TKE_KEY_FILE_KEY_PART, second, &error),
                    ==, 3);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (kept, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "{}");
  g_assert_false (g_file_test (first, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (second, G_FILE_TEST_EXISTS));
  parts = tke_workstation_list_key_files (ws, TKE_KEY_FILE_KEY_PART, &error);
  assert_numbers (parts, 3, expected);
  {
    g_autoptr (GDir) dir = g_dir_open (files, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name (dir)) != NULL)
      g_assert_false (g_str_has_prefix (name, ".new-"));
  }
  remove_tree (top);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/workstation/profile-roundtrip", test_profile_roundtrip);
  g_test_add_func ("/workstation/keynums", test_keynums);
  g_test_add_func ("/workstation/install-key-file", test_install_key_file);
  g_test_add_func ("/workstation/env-files-dir", test_env_files_dir);

  return g_test_run ();
}
