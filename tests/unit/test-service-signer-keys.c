/* test-service-signer-keys.c: tests of src/libtke/tke-service-signer-keys.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Which keys of a signing service sign (the plug-in's rule both front ends
 * take from libtke): TKE_SIGNSERV_URL names the service, the first keys of
 * the workstation's SIGNSERVKEYS file sign, and a key without its token is
 * refused when tokens are required (the GUI) and kept for the front end to
 * ask for otherwise (the CLI).
 */

#include <string.h>

#include <glib/gstdio.h>

#include <tke.h>

#include "tke-test-util.h"

typedef struct
{
  char *dir;
  TkeWorkstation *workstation;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *keys = NULL;

  f->dir = g_dir_make_tmp ("tke-signserv-keys-XXXXXX", &error);
  g_assert_no_error (error);
  f->workstation = tke_workstation_new (f->dir, f->dir);
  keys = tke_service_signer_get_keys_path (f->workstation);
  g_assert_true (g_file_set_contents (keys,
                                      "[{\"key\":\"admin-one\",\"token\":\"token-one\"},"
                                      "{\"key\":\"admin-two\"},"
                                      "{\"key\":\"admin-three\",\"token\":\"token-three\"}]",
                                      -1, &error));
  g_assert_no_error (error);
  g_setenv ("TKE_SIGNSERV_URL", "https://127.0.0.1:9/", TRUE);
  g_unsetenv ("TKE_SIGNSERV_CA_FILE");
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_unsetenv ("TKE_SIGNSERV_URL");
  g_clear_object (&f->workstation);
  tke_test_remove_tree (f->dir);
  g_free (f->dir);
}

static void
test_path (Fixture *f, gconstpointer data)
{
  g_autofree char *path = tke_service_signer_get_keys_path (f->workstation);
  g_autofree char *wanted = g_build_filename (f->dir, "SIGNSERVKEYS", NULL);

  g_assert_cmpstr (path, ==, wanted);
}

/* No TKE_SIGNSERV_URL, or an empty one: no signing service, no signers. */
static void
test_no_service (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) signers = NULL;

  g_setenv ("TKE_SIGNSERV_URL", "", TRUE);
  g_assert_null (tke_service_signer_get_default_url ());
  signers = tke_service_signer_new_for_workstation (f->workstation, 2, FALSE, &error);
  g_assert_null (signers);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  g_unsetenv ("TKE_SIGNSERV_URL");
  g_assert_null (tke_service_signer_get_default_url ());
}

/* The first keys of the file, in its order, at the URL named. */
static void
test_first_keys (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) one = NULL;
  g_autoptr (GPtrArray) all = NULL;

  g_assert_cmpstr (tke_service_signer_get_default_url (), ==, "https://127.0.0.1:9/");
  one = tke_service_signer_new_for_workstation (f->workstation, 1, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (one->len, ==, 1);
  g_assert_cmpstr (tke_service_signer_get_key_name (one->pdata[0]), ==, "admin-one");
  /* The signer keeps the URL without its trailing slash. */
  g_assert_cmpstr (tke_service_signer_get_url (one->pdata[0]), ==, "https://127.0.0.1:9");
  g_assert_true (tke_service_signer_has_token (one->pdata[0]));

  all = tke_service_signer_new_for_workstation (f->workstation, G_MAXUINT, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 3);
  g_assert_cmpstr (tke_service_signer_get_key_name (all->pdata[1]), ==, "admin-two");
  g_assert_cmpstr (tke_service_signer_get_key_name (all->pdata[2]), ==, "admin-three");
}

/* A key without its token: refused naming the key and the file when
 * tokens are required, kept (to be asked for) when not. */
static void
test_token_required (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) refused = NULL;
  g_autoptr (GPtrArray) kept = NULL;
  g_autofree char *path = tke_service_signer_get_keys_path (f->workstation);

  refused = tke_service_signer_new_for_workstation (f->workstation, 2, TRUE, &error);
  g_assert_null (refused);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "“admin-two”"));
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);

  kept = tke_service_signer_new_for_workstation (f->workstation, 2, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kept->len, ==, 2);
  g_assert_false (tke_service_signer_has_token (kept->pdata[1]));
}

/* No SIGNSERVKEYS file: libtke's error, no signers. */
static void
test_no_file (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) signers = NULL;
  g_autofree char *path = tke_service_signer_get_keys_path (f->workstation);

  g_assert_cmpint (g_unlink (path), ==, 0);
  signers = tke_service_signer_new_for_workstation (f->workstation, 2, FALSE, &error);
  g_assert_null (signers);
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/service-signer-keys/path", Fixture, NULL, fixture_set_up, test_path,
              fixture_tear_down);
  g_test_add ("/service-signer-keys/no-service", Fixture, NULL, fixture_set_up, test_no_service,
              fixture_tear_down);
  g_test_add ("/service-signer-keys/first-keys", Fixture, NULL, fixture_set_up, test_first_keys,
              fixture_tear_down);
  g_test_add ("/service-signer-keys/token-required", Fixture, NULL, fixture_set_up,
              test_token_required, fixture_tear_down);
  g_test_add ("/service-signer-keys/no-file", Fixture, NULL, fixture_set_up, test_no_file,
              fixture_tear_down);
  return g_test_run ();
}
