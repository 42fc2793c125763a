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
test_sdk_file_signs (void)
{
  const char *const args[] = { "--init", "imprint", NULL };
  Fixture fixture = { 0 }, *f = &fixture;
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (NULL);
  g_autofree char *path = NULL;
  g_autofree char *ski = ski_of (key);

  fixture_start (f, args);
  fixture_login (f);
  g_assert_cmpint (g_mkdir_with_parents (f->files, 0700), ==, 0);
  path = g_build_filename (f->files, "1.sigkey", NULL);
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
  fixture_stop (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sigkey-interop/sdk-file-signs", test_sdk_file_signs);
  return g_test_run ();
}
