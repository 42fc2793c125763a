/* test-sigkey-interop.c: signature key files of the service's plug-in and
 * its SDK, with the real tke CLI against a real tke-emulator
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The file in the SDK's layout is made by tests/sdk/sdk-sigkey.c with
 * OpenSSL alone, from the documented layout (data/doc/signature-key-file.md),
 * not by libtke's writer.
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "client-fixture.h"
#include "sdk-sigkey.h"

static char *
ski_of (EVP_PKEY *key)
{
  guint8 ski[TKE_SKI_SIZE];

  g_assert_true (tke_crypto_ski (key, ski, NULL));
  return tke_crypto_hex_encode (ski, sizeof ski);
}

/* Issue 17: a file in the SDK's layout installs its administrator and
 * signs the thresholds, which the emulator checks against that key. */
static void
test_sdk_file_signs (Fixture *f, gconstpointer user_data)
{
  const char *const args[] = { "--init", "imprint", NULL };
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (NULL);
  g_autofree char *path = NULL;
  g_autofree char *ski = ski_of (key);

  fixture_start (f, args);
  fixture_login (f);
  g_assert_cmpint (g_mkdir_with_parents (f->cli.files, 0700), ==, 0);
  path = g_build_filename (f->cli.files, "1.sigkey", NULL);
  sdk_sigkey_write (path, key, "sdk password", SDK_POINT_UNCOMPRESSED);
  {
    g_auto (Run) add = tke (f, NULL, "cryptounit-add", "1", "2", "3", NULL);
    g_auto (Run) list = tke (f, NULL, "sigkeys", NULL);
    assert_ok (add);
    assert_ok (list);
    g_assert_nonnull (strstr (list.out, "1        "));
  }
  {
    g_auto (Run) wrong = tke (f, "not the password\n", "cryptounit-admin-add", "1", NULL);
    assert_fails (wrong, 1, "Invalid password.");
  }
  {
    g_auto (Run) admin = tke (f, "sdk password\n", "cryptounit-admin-add", "1", NULL);
    g_auto (Run) admins = tke (f, NULL, "cryptounit-admins", NULL);
    assert_ok (admin);
    assert_ok (admins);
    g_assert_nonnull (strstr (admins.out, ski));
  }
  {
    g_auto (Run) sel = tke (f, "sdk password\n", "sigkey-sel", "1", NULL);
    g_auto (Run) thr = tke (f, "sdk password\n", "cryptounit-thrhld-set", "--signature", "1",
                            "--revocation", "1", NULL);
    g_auto (Run) show = tke (f, NULL, "cryptounit-thrhlds", NULL);
    assert_ok (sel);
    assert_ok (thr);
    assert_ok (show);
    g_assert_nonnull (
        strstr (show.out, "1                 1                     1                 "));
  }
}

static void
set_env (Fixture *f, const char *name, const char *value)
{
  g_autofree char *prefix = g_strconcat (name, "=", NULL);

  for (guint i = 0; i < f->cli.env->len; i++)
    if (g_str_has_prefix (f->cli.env->pdata[i], prefix))
      g_ptr_array_remove_index (f->cli.env, i--);
  g_ptr_array_add (f->cli.env, g_strconcat (prefix, value, NULL));
}

static char *
read_text (const char *path)
{
  char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* Issue 17: tke sigkeys names each file's KDF, tke sigkey-convert turns
 * tke's default file into one the SDK reads (and back), and the key file
 * directory may be given with the plug-in's CLOUDTKEFILES. */
static void
test_convert_and_cloudtkefiles (Fixture *f, gconstpointer user_data)
{
  const char *const args[] = { "--init", "imprint", NULL };
  g_autofree char *cloud = NULL;
  g_autofree char *path = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *message = NULL;
  g_autoptr (EVP_PKEY) key = NULL;

  fixture_start (f, args);
  cloud = g_build_filename (f->cli.top, "cloudTKE", NULL);
  path = g_build_filename (cloud, "1.sigkey", NULL);
  set_env (f, "TKE_FILES", "");
  set_env (f, "CLOUDTKEFILES", cloud);
  {
    g_auto (Run) add =
        tke (f, "password one\npassword one\n", "sigkey-add", "--name", "Cloud One", NULL);
    g_auto (Run) list = tke (f, NULL, "sigkeys", NULL);
    assert_ok (add);
    assert_ok (list);
    g_assert_nonnull (strstr (list.out, "SELECTED  KDF\n"));
    g_assert_nonnull (strstr (list.out, "false     scrypt\n"));
  }
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_assert_null (sdk_sigkey_read (path, "password one", &message));
  g_assert_cmpstr (message, ==, "Invalid password.");
  g_clear_pointer (&message, g_free);

  before = read_text (path);
  {
    g_auto (Run) usage = tke (f, NULL, "sigkey-convert", "1", NULL);
    g_auto (Run) wrong =
        tke (f, "password two\n", "sigkey-convert", "1", "--layout", "plugin", NULL);
    g_assert_cmpint (usage.status, ==, 2);
    assert_fails (wrong, 1, "Invalid password.");
  }
  after = read_text (path);
  g_assert_cmpstr (before, ==, after);
  {
    g_auto (Run) convert =
        tke (f, "password one\n", "sigkey-convert", "1", "--layout", "plugin", NULL);
    g_auto (Run) list = tke (f, NULL, "sigkeys", NULL);
    assert_ok (convert);
    assert_ok (list);
    g_assert_nonnull (strstr (list.out, "false     pbkdf2 (plug-in)\n"));
  }
  key = sdk_sigkey_read (path, "password one", &message);
  if (key == NULL)
    g_error ("the SDK's steps refused the converted file: %s", message);
  {
    g_auto (Run) back =
        tke (f, "password one\n", "sigkey-convert", "1", "--layout", "strong", NULL);
    g_auto (Run) same = tke (f, NULL, "sigkey-convert", "1", "--layout", "strong", NULL);
    assert_ok (back);
    assert_ok (same);
    g_assert_nonnull (strstr (same.out, "already"));
  }

  /* TKE_FILES, tke's own name, wins over CLOUDTKEFILES. */
  set_env (f, "TKE_FILES", f->cli.files);
  {
    g_auto (Run) list = tke (f, NULL, "sigkeys", NULL);
    assert_ok (list);
    g_assert_nonnull (strstr (list.out, "No signature key files"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  add_client_test ("/sigkey-interop/sdk-file-signs", test_sdk_file_signs);
  add_client_test ("/sigkey-interop/convert-and-cloudtkefiles", test_convert_and_cloudtkefiles);
  return g_test_run ();
}
