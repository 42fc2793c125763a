/* test-signing-service.c: ceremonies signed by a signing service
 * (TKE_SIGNSERV_URL), with the real tke CLI, the real tke-emulator and the
 * real tke-signing-service, both over HTTPS with their own CAs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "client-fixture.h"
#include "signserv-fixture.h"

#define assert_said_err(run, words)                                                                \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if (strstr ((run).err, (words)) == NULL)                                                       \
      g_error ("expected “%s” in: %s", (words), (run).err);                                        \
  }                                                                                                \
  G_STMT_END

typedef struct
{
  Fixture base;
  SignServ *service;
} ServFixture;

static void
serv_start (ServFixture *sf)
{
  const char *const args[] = { "--init", "demo", "--keys", "20", NULL };
  Fixture *f = &sf->base;
  g_autofree char *dir = NULL;

  fixture_start (f, args);
  fixture_login (f);
  dir = g_build_filename (f->cli.top, "signserv", NULL);
  sf->service = signserv_start (dir, f->emu->state_dir);
  g_ptr_array_add (f->cli.env, g_strdup_printf ("TKE_SIGNSERV_URL=%s", sf->service->url));
  g_ptr_array_add (f->cli.env, g_strdup_printf ("TKE_SIGNSERV_CA_FILE=%s", sf->service->ca_file));
  /* admin-two's token is asked for; admin-one's is in the file. */
  signserv_write_keys (f->cli.files,
                       "[{\"key\":\"admin-one\",\"token\":\"token-one\"},{\"key\":\"admin-two\"}]");
  {
    g_auto (Run) add = tke (f, NULL, "cryptounit-add", "1", "2", "3", NULL);
    assert_ok (add);
  }
}

static char *
serv_stop (ServFixture *sf)
{
  char *log = signserv_stop (sf->service);

  g_clear_pointer (&sf->service, signserv_free);
  fixture_stop (&sf->base);
  return log;
}

static char *
current_vp_line (Run *show)
{
  const char *table = strstr (show->out, "CURRENT MASTER KEY REGISTER");
  const char *valid;

  g_assert_nonnull (table);
  valid = strstr (table, "Valid    ");
  g_assert_nonnull (valid);
  return g_strndup (valid + strlen ("Valid    "), 32);
}

/* Issue 17: load, commit and rotate, every signature by the service. */
static void
test_ceremony (void)
{
  ServFixture sfixture = { 0 }, *sf = &sfixture;
  Fixture *f = &sf->base;
  g_autoptr (TkeSecret) p1 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) p2 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) mk = tke_crypto_xor (p1, p2, NULL);
  g_autofree char *h1 = hex_of (p1), *h2 = hex_of (p2);
  g_autofree char *pw1 = g_strdup_printf ("%s\nkp-pass-1\nkp-pass-1\n", h1);
  g_autofree char *pw2 = g_strdup_printf ("%s\nkp-pass-2\nkp-pass-2\n", h2);
  g_autofree char *vp_hex = NULL, *before = NULL, *after = NULL, *log = NULL;
  g_autofree char *sigkey = NULL;
  guint8 vp[TKE_VP_SIZE];

  tke_crypto_verification_pattern (mk, vp);
  vp_hex = tke_crypto_hex_encode (vp, sizeof vp);
  serv_start (sf);
  sigkey = g_build_filename (f->cli.files, "1.sigkey", NULL);
  {
    /* The sigkey verbs do nothing with a service, and say so. */
    g_auto (Run) list = tke (f, NULL, "sigkeys", NULL);
    g_auto (Run) add = tke (f, NULL, "sigkey-add", "--name", "Nobody", NULL);
    assert_ok (list);
    assert_ok (add);
    g_assert_nonnull (strstr (list.out, "TKE_SIGNSERV_URL is set"));
    g_assert_nonnull (strstr (list.out, "  admin-one\n  admin-two (token asked when used)\n"));
    g_assert_nonnull (strstr (add.out, "“tke sigkey-add” does nothing"));
    g_assert_false (g_file_test (sigkey, G_FILE_TEST_EXISTS));
  }
  {
    g_auto (Run) a = tke (f, pw1, "mk-add", "--value", "--description", "part one", NULL);
    g_auto (Run) b = tke (f, pw2, "mk-add", "--value", "--description", "part two", NULL);
    assert_ok (a);
    assert_ok (b);
  }
  {
    g_auto (Run) show = tke (f, NULL, "cryptounit-mk", NULL);
    assert_ok (show);
    before = current_vp_line (&show);
  }
  {
    /* One signer (admin-one, whose token is in the file): only the key
     * part passwords are asked. */
    g_auto (Run) load = tke (f, "kp-pass-1\nkp-pass-2\n", "cryptounit-mk-load", "1", "2", NULL);
    assert_ok (load);
    g_assert_nonnull (strstr (load.out, "Signing with “admin-one” of the signing service"));
    g_assert_null (strstr (load.out, "admin-two"));
    g_assert_nonnull (strstr (load.out, "Full Uncommitted   "));
  }
  {
    /* Threshold 2: both keys; admin-two's token is asked for. */
    g_auto (Run) commit = tke (f, "token-two\n", "cryptounit-mk-commit", NULL);
    assert_ok (commit);
    g_assert_nonnull (
        strstr (commit.err, "Enter the token for the signature key identified by: admin-two"));
    g_assert_nonnull (strstr (commit.out, "3                 Full Committed   "));
  }
  {
    g_auto (Run) rotate = tke (f, NULL, "cryptounit-mk-rotate", "--yes", NULL);
    g_auto (Run) show = tke (f, NULL, "cryptounit-mk", NULL);
    assert_ok (rotate);
    assert_ok (show);
    g_assert_nonnull (strstr (rotate.out, "Rewrapped 20 of 20 keys"));
    after = current_vp_line (&show);
    g_assert_cmpstr (after, !=, before);
    g_assert_cmpmem (after, 32, vp_hex, 32);
  }
  log = serv_stop (sf);
  /* Both keys signed through the service; neither token nor password is in its log. */
  g_assert_nonnull (strstr (log, "POST /sign/admin-one key=admin-one -> 200"));
  g_assert_nonnull (strstr (log, "POST /sign/admin-two key=admin-two -> 200"));
  g_assert_null (strstr (log, "token-one"));
  g_assert_null (strstr (log, "token-two"));
}

/* Key files like the emulator's demo ones, for an instance in imprint
 * mode: admin1.sigkey, admin2.sigkey and demo-passwords.json in @dir. */
static void
make_key_files (const char *dir)
{
  g_autofree char *passwords = g_build_filename (dir, "demo-passwords.json", NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  for (guint i = 1; i <= 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("admin%u.sigkey", i);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *text = g_strdup_printf ("password-%u", i);
      g_autoptr (TkeSecret) password =
          tke_secret_new_from_data ((const guint8 *) text, strlen (text));
      g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (NULL);
      g_autoptr (GError) error = NULL;

      g_assert_true (tke_signature_key_file_create (path, i == 1 ? "Admin One" : "Admin Two", key,
                                                    password, TKE_KEY_FILE_KDF_PBKDF2, &error));
      g_assert_no_error (error);
    }
  g_assert_true (g_file_set_contents_full (
      passwords, "{\"admin1.sigkey\": \"password-1\", \"admin2.sigkey\": \"password-2\"}", -1,
      G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
}

/* A new instance set up with the service's keys: administrators installed
 * and thresholds set by the CLI, signed by the service. */
static void
test_initialization (void)
{
  const char *const args[] = { "--init", "imprint", NULL };
  Fixture fixture = { 0 }, *f = &fixture;
  g_autoptr (SignServ) service = NULL;
  g_autofree char *keys = NULL, *dir = NULL, *log = NULL;

  fixture_start (f, args);
  fixture_login (f);
  keys = g_build_filename (f->cli.top, "keys", NULL);
  dir = g_build_filename (f->cli.top, "signserv", NULL);
  make_key_files (keys);
  service = signserv_start (dir, keys);
  g_ptr_array_add (f->cli.env, g_strdup_printf ("TKE_SIGNSERV_URL=%s", service->url));
  g_ptr_array_add (f->cli.env, g_strdup_printf ("TKE_SIGNSERV_CA_FILE=%s", service->ca_file));
  signserv_write_keys (f->cli.files,
                       "[{\"key\":\"admin-one\",\"token\":\"token-one\"},{\"key\":\"admin-two\"}]");
  {
    g_auto (Run) add = tke (f, NULL, "cryptounit-add", "1", "2", "3", NULL);
    g_auto (Run) one = tke (f, NULL, "cryptounit-admin-add", "admin-one", NULL);
    g_auto (Run) two = tke (f, "token-two\n", "cryptounit-admin-add", "admin-two", NULL);
    g_auto (Run) stranger = tke (f, NULL, "cryptounit-admin-add", "admin-three", NULL);
    g_auto (Run) admins = tke (f, NULL, "cryptounit-admins", NULL);
    assert_ok (add);
    assert_ok (one);
    assert_ok (two);
    assert_ok (admins);
    assert_said_err (two, "Enter the token for the signature key identified by: admin-two\n");
    assert_fails (stranger, 1,
                  "The signature key identifier “admin-three” is not in the "
                  "SIGNSERVKEYS file.");
    g_assert_nonnull (strstr (admins.out, "admin-one"));
    g_assert_nonnull (strstr (admins.out, "admin-two"));
  }
  {
    /* Leaving imprint mode: both of the service's keys sign. */
    g_auto (Run) thr = tke (f, "token-two\n", "cryptounit-thrhld-set", "--signature", "2",
                            "--revocation", "1", NULL);
    g_auto (Run) show = tke (f, NULL, "cryptounit-thrhlds", NULL);
    assert_ok (thr);
    assert_ok (show);
    g_assert_nonnull (strstr (show.out, "1                 2                     1                 "
                                        "     false"));
  }
  log = signserv_stop (service);
  g_assert_nonnull (strstr (log, "POST /sign/admin-two key=admin-two -> 200"));
  g_clear_pointer (&service, signserv_free);
  fixture_stop (f);
}

/* What goes wrong says so, and nothing is sent to the units. */
static void
test_refusals (void)
{
  ServFixture sfixture = { 0 }, *sf = &sfixture;
  Fixture *f = &sf->base;
  g_autofree char *before = NULL, *after = NULL, *log = NULL;

  serv_start (sf);
  before = units_state (f);
  signserv_write_keys (f->cli.files, "[{\"key\":\"admin-two\"}]");
  {
    /* A wrong token: the plug-in's words, then ours. */
    g_auto (Run) clear = tke (f, "not-the-token\n", "cryptounit-thrhld-set", "--signature", "2",
                              "--revocation", "1", NULL);
    assert_fails (clear, 1,
                  "Error requesting public part of signature key “admin-two”.\n"
                  "Status code: 401\nMessage: Unauthorized\n"
                  "Check the token of the key in the SIGNSERVKEYS file");
  }
  signserv_write_keys (f->cli.files, "[{\"key\":\"no-such-key\",\"token\":\"x\"}]");
  {
    g_auto (Run) clear =
        tke (f, NULL, "cryptounit-thrhld-set", "--signature", "2", "--revocation", "1", NULL);
    assert_fails (clear, 1, "Status code: 404\nMessage: Not Found");
  }
  signserv_write_keys (f->cli.files, "[{\"key\":\"admin/one\"}]");
  {
    g_auto (Run) clear =
        tke (f, NULL, "cryptounit-thrhld-set", "--signature", "2", "--revocation", "1", NULL);
    assert_fails (clear, 1, "has no usable “key”");
  }
  signserv_write_keys (f->cli.files, "{\"key\":\"admin-one\"}");
  {
    g_auto (Run) clear =
        tke (f, NULL, "cryptounit-thrhld-set", "--signature", "2", "--revocation", "1", NULL);
    assert_fails (clear, 1, "is not a JSON array of signature keys");
  }
  signserv_write_keys (f->cli.files, "[{\"key\":\"admin-one\",\"token\":\"token-one\"}]");
  /* The emulator's CA does not vouch for the signing service. */
  g_ptr_array_add (f->cli.env, g_strdup_printf ("TKE_SIGNSERV_CA_FILE=%s", f->emu->ca_file));
  {
    g_auto (Run) clear =
        tke (f, NULL, "cryptounit-thrhld-set", "--signature", "2", "--revocation", "1", NULL);
    assert_fails (clear, 1, "could not be verified");
  }
  g_ptr_array_add (f->cli.env, g_strdup_printf ("TKE_SIGNSERV_CA_FILE=%s", sf->service->ca_file));
  {
    g_autofree char *http =
        g_strdup_printf ("TKE_SIGNSERV_URL=http://%s", sf->service->url + strlen ("https://"));
    g_auto (Run) clear = { 0 };

    g_ptr_array_add (f->cli.env, g_steal_pointer (&http));
    clear = tke (f, NULL, "cryptounit-thrhld-set", "--signature", "2", "--revocation", "1", NULL);
    assert_fails (clear, 1, "is not an https:// URL");
  }
  after = units_state (f);
  g_assert_cmpstr (before, ==, after);
  log = serv_stop (sf);
  g_assert_nonnull (strstr (log, "GET /keys/admin-two key=admin-two -> 401"));
  g_assert_null (strstr (log, "not-the-token"));
}

/* The service guards its keys: a wrong password or a readable file stops it
 * at start, and says which, never with the password. */
static void
test_service_start (void)
{
  g_autofree char *top = g_dir_make_tmp ("tke-signserv-XXXXXX", NULL);
  g_autofree char *config = g_build_filename (top, "config.json", NULL);
  g_autofree char *keyfile = g_build_filename (top, "k.sigkey", NULL);
  g_autofree char *state = g_build_filename (top, "state", NULL);
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (NULL);
  g_autoptr (TkeSecret) password = tke_secret_new_from_data ((const guint8 *) "right password", 14);
  g_autoptr (GError) error = NULL;
  const char *service = g_getenv ("TKE_SIGNING_SERVICE");

  g_assert_true (
      tke_signature_key_file_create (keyfile, "k", key, password, TKE_KEY_FILE_KDF_PBKDF2, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents_full (
      config,
      "{\"keys\":[{\"name\":\"k\",\"file\":\"k.sigkey\",\"token_sha256\":"
      "\"0000000000000000000000000000000000000000000000000000000000000000\"}]}",
      -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
  {
    g_autoptr (GSubprocess) p =
        g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                              G_SUBPROCESS_FLAGS_STDERR_PIPE,
                          &error, service, "--config", config, "--state-dir", state, NULL);
    g_autofree char *out = NULL, *err = NULL;

    g_assert_no_error (error);
    g_subprocess_communicate_utf8 (p, "a wrong secret\n", NULL, &out, &err, &error);
    g_assert_no_error (error);
    g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 1);
    g_assert_nonnull (strstr (err, "Key \"k\""));
    g_assert_nonnull (strstr (err, "Invalid password."));
    g_assert_null (strstr (err, "wrong secret"));
  }
  g_assert_cmpint (g_chmod (keyfile, 0644), ==, 0);
  {
    g_autoptr (GSubprocess) p =
        g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                              G_SUBPROCESS_FLAGS_STDERR_PIPE,
                          &error, service, "--config", config, "--state-dir", state, NULL);
    g_autofree char *out = NULL, *err = NULL;

    g_assert_no_error (error);
    g_subprocess_communicate_utf8 (p, "right password\n", NULL, &out, &err, &error);
    g_assert_no_error (error);
    g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 1);
    g_assert_nonnull (strstr (err, "may be read by others (mode 644); make it 0600"));
  }
  tke_test_remove_tree (top);
}

static void
on_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

/* libtke's TkeServiceSigner against the service, without the CLI: the key
 * it reads is the file's, its signatures verify, a cancelled call stops. */
static void
test_signer (void)
{
  const char *const args[] = { "--init", "demo", "--keys", "0", NULL };
  Fixture fixture = { 0 }, *f = &fixture;
  g_autoptr (SignServ) service = NULL;
  g_autoptr (TkeServiceSigner) signer = NULL;
  g_autoptr (TkeSecret) token = tke_secret_new_from_data ((const guint8 *) "token-one", 9);
  g_autoptr (GBytes) data = g_bytes_new_static ("a command", 9);
  g_autoptr (EVP_PKEY) admin = NULL;
  g_autofree char *dir = NULL, *path = NULL, *pw = NULL;
  g_autoptr (TkeSignatureKeyFile) file = NULL;
  g_autoptr (TkeSecret) password = NULL;

  fixture_start (f, args);
  dir = g_build_filename (f->cli.top, "signserv", NULL);
  service = signserv_start (dir, f->emu->state_dir);
  path = g_build_filename (f->emu->state_dir, "admin1.sigkey", NULL);
  file = tke_signature_key_file_load (path, NULL);
  pw = demo_password (f, "admin1.sigkey");
  password = tke_secret_new_from_data ((const guint8 *) pw, strlen (pw));
  admin = tke_signature_key_file_unlock (file, password, NULL);
  g_assert_nonnull (admin);

  signer = tke_service_signer_new (service->url, "admin-one", service->ca_file);
  g_assert_false (tke_service_signer_has_token (signer));
  tke_service_signer_set_token (signer, token);
  g_assert_null (tke_signer_get_ski (TKE_SIGNER (signer)));
  g_assert_cmpstr (tke_signer_get_name (TKE_SIGNER (signer)), ==, "admin-one");
  {
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (GBytes) point = NULL;
    g_autoptr (GBytes) expected = tke_crypto_ec_public_point (admin, NULL);
    g_autoptr (GError) error = NULL;

    tke_signer_get_public_key_async (TKE_SIGNER (signer), NULL, on_result, &result);
    point = tke_signer_get_public_key_finish (TKE_SIGNER (signer), wait_result (&result), &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (point, expected));
    g_assert_cmpstr (tke_signer_get_ski (TKE_SIGNER (signer)), ==,
                     tke_signature_key_file_get_ski (file));
  }
  {
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (GBytes) signature = NULL;
    g_autoptr (GError) error = NULL;

    tke_signer_sign_async (TKE_SIGNER (signer), data, NULL, on_result, &result);
    signature = tke_signer_sign_finish (TKE_SIGNER (signer), wait_result (&result), &error);
    g_assert_no_error (error);
    g_assert_true (tke_crypto_verify (admin, g_bytes_get_data (data, NULL), g_bytes_get_size (data),
                                      g_bytes_get_data (signature, NULL),
                                      g_bytes_get_size (signature), &error));
  }
  {
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (GBytes) signature = NULL;
    g_autoptr (GError) error = NULL;

    g_cancellable_cancel (cancellable);
    tke_signer_sign_async (TKE_SIGNER (signer), data, cancellable, on_result, &result);
    signature = tke_signer_sign_finish (TKE_SIGNER (signer), wait_result (&result), &error);
    g_assert_null (signature);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  }
  {
    /* No token: the service's 401, in the plug-in's words. */
    g_autoptr (TkeServiceSigner) none =
        tke_service_signer_new (service->url, "admin-one", service->ca_file);
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (GBytes) signature = NULL;
    g_autoptr (GError) error = NULL;

    tke_signer_sign_async (TKE_SIGNER (none), data, NULL, on_result, &result);
    signature = tke_signer_sign_finish (TKE_SIGNER (none), wait_result (&result), &error);
    g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD);
    g_assert_true (g_str_has_prefix (error->message,
                                     "Error requesting public part of signature key “admin-one”.\n"
                                     "Status code: 401\nMessage: Unauthorized\n"));
  }
  g_clear_pointer (&service, signserv_free);
  fixture_stop (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signing-service/signer", test_signer);
  g_test_add_func ("/signing-service/initialization", test_initialization);
  g_test_add_func ("/signing-service/ceremony", test_ceremony);
  g_test_add_func ("/signing-service/refusals", test_refusals);
  g_test_add_func ("/signing-service/service-start", test_service_start);
  return g_test_run ();
}
