/* test-client.c: libtke's service client and the tke CLI against a real
 * tke-emulator process (HTTPS verified against its CA file)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each test starts its own emulator on a temporary state directory and
 * runs the real `tke` binary with a temporary XDG_CONFIG_HOME,
 * XDG_DATA_HOME and TKE_FILES, the libsecret file backend and
 * --password-file; it asserts on the output and the exit status, and
 * re-queries the units to prove that a refused command changed nothing.
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "emu-client.h"
#include "tke-service-client-private.h"

#define N_ROOT_KEYS 3000
#define IN_FLIGHT 8

typedef struct
{
  Emu *emu;
  char *top;
  char *files;
  GPtrArray *env;
  TkeServiceClient *client;
} Fixture;

typedef struct
{
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *run)
{
  g_free (run->out);
  g_free (run->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* ---- Helpers ------------------------------------------------------------- */

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_start (Fixture *f, const char *const *emu_args)
{
  g_autofree char *state = NULL;
  g_autoptr (TkeSecret) api_key = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  f->top = g_dir_make_tmp ("tke-client-XXXXXX", NULL);
  state = g_build_filename (f->top, "state", NULL);
  f->files = g_build_filename (f->top, "files", NULL);
  f->emu = emu_start (state, emu_args);

  f->env = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (f->env, g_strdup_printf ("XDG_CONFIG_HOME=%s/config", f->top));
  g_ptr_array_add (f->env, g_strdup_printf ("XDG_DATA_HOME=%s/data", f->top));
  g_ptr_array_add (f->env, g_strdup_printf ("TKE_FILES=%s", f->files));
  g_ptr_array_add (f->env, g_strdup ("SECRET_BACKEND=file"));
  g_ptr_array_add (f->env, g_strdup_printf ("SECRET_FILE_TEST_PATH=%s/test.keyring", f->top));
  g_ptr_array_add (f->env, g_strdup ("SECRET_FILE_TEST_PASSWORD=test"));
  g_ptr_array_add (f->env, g_strdup ("LANGUAGE=C"));
  g_ptr_array_add (f->env, g_strdup ("LC_ALL=C.UTF-8"));

  /* A C client next to the CLI, for what the CLI leaves to others. */
  f->client = tke_service_client_new (f->emu->url, f->emu->ca_file);
  api_key = tke_secret_new_from_data ((const guint8 *) f->emu->api_key, strlen (f->emu->api_key));
  tke_service_client_login_async (f->client, api_key, NULL, on_done, &result);
  wait_for (&result);
  g_assert_true (tke_service_client_login_finish (f->client, result, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (tke_service_client_get_instance_id (f->client), ==, f->emu->instance);
  emu_login (f->emu);
}

static void
fixture_stop (Fixture *f)
{
  g_clear_object (&f->client);
  if (f->emu != NULL)
    {
      emu_stop (f->emu);
      emu_free (f->emu);
    }
  g_clear_pointer (&f->env, g_ptr_array_unref);
  remove_tree (f->top);
  g_free (f->top);
  g_free (f->files);
}

/* Runs `tke ARGS…`, with @passwords (lines, or NULL) in a password file. */
static Run
tke (Fixture *f, const char *passwords, ...)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *password_file = NULL;
  const char *arg;
  Run run = { 0 };
  va_list ap;

  g_ptr_array_add (argv, g_strdup (g_getenv ("TKE_CLI")));
  va_start (ap, passwords);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  if (passwords != NULL)
    {
      password_file = g_build_filename (f->top, "passwords", NULL);
      g_assert_true (g_file_set_contents_full (password_file, passwords, -1,
                                               G_FILE_SET_CONTENTS_NONE, 0600, NULL));
      g_ptr_array_add (argv, g_strdup ("--password-file"));
      g_ptr_array_add (argv, g_strdup (password_file));
    }
  g_ptr_array_add (argv, NULL);

  launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                 G_SUBPROCESS_FLAGS_STDERR_PIPE);
  for (guint i = 0; i < f->env->len; i++)
    {
      g_auto (GStrv) pair = g_strsplit (f->env->pdata[i], "=", 2);
      g_subprocess_launcher_setenv (launcher, pair[0], pair[1], TRUE);
    }
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, "", NULL, &run.out, &run.err, &error);
  g_assert_no_error (error);
  run.status = g_subprocess_get_exit_status (process);
  if (password_file != NULL)
    g_unlink (password_file);
  g_test_message ("tke %s → %d\n%s%s", (char *) argv->pdata[1], run.status, run.out, run.err);
  return run;
}

#define assert_ok(run)                                                                             \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if ((run).status != 0)                                                                         \
      g_error ("tke failed (%d): %s%s", (run).status, (run).out, (run).err);                       \
  }                                                                                                \
  G_STMT_END

#define assert_fails(run, code, message)                                                           \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_assert_cmpint ((run).status, ==, (code));                                                    \
    if (strstr ((run).err, (message)) == NULL)                                                     \
      g_error ("expected “%s” in: %s", (message), (run).err);                                      \
  }                                                                                                \
  G_STMT_END

static void
login (Fixture *f)
{
  g_autofree char *key_file = g_build_filename (f->top, "apikey", NULL);
  g_auto (Run) run = { 0 };

  g_assert_true (g_file_set_contents_full (key_file, f->emu->api_key, -1, G_FILE_SET_CONTENTS_NONE,
                                           0600, NULL));
  run = tke (f, NULL, "login", "--endpoint", f->emu->url, "--ca-file", f->emu->ca_file,
             "--api-key-file", key_file, NULL);
  assert_ok (run);
  g_assert_nonnull (strstr (run.out, f->emu->instance));
  g_unlink (key_file);
}

/* Everything the units say of themselves, to compare before and after. */
static char *
units_state (Fixture *f)
{
  g_auto (GStrv) ids = emu_unit_ids (f->emu);
  GString *state = g_string_new (NULL);

  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autofree char *text = emu_query_text (f->emu, ids[i]);
      g_string_append_printf (state, "%s\n", text);
    }
  return g_string_free (state, FALSE);
}

static TkeServiceInstance *
list_units (Fixture *f)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  TkeServiceInstance *instance;

  tke_service_client_list_units_async (f->client, NULL, on_done, &result);
  wait_for (&result);
  instance = tke_service_client_list_units_finish (f->client, result, &error);
  g_assert_no_error (error);
  return instance;
}

static TkeFileSigner *
file_signer (Fixture *f, guint keynum, const char *password)
{
  g_autofree char *name = g_strdup_printf ("%u.sigkey", keynum);
  g_autofree char *path = g_build_filename (f->files, name, NULL);
  g_autoptr (TkeSignatureKeyFile) file = tke_signature_key_file_load (path, NULL);
  g_autoptr (TkeSecret) secret =
      tke_secret_new_from_data ((const guint8 *) password, strlen (password));

  g_assert_nonnull (file);
  return tke_file_signer_new (file, secret);
}

static char *
hex_of (const TkeSecret *secret)
{
  return tke_crypto_hex_encode (tke_secret_get_data (secret), tke_secret_get_size (secret));
}

static void
on_progress (TkeCeremony *ceremony, TkeCryptoUnit *unit, const char *message, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (message));
}

/* ---- Initialization from imprint mode (issue 3, "Must show") ------------ */

typedef struct
{
  TkeServiceClient *client;
  guint started;
  guint done;
  guint failed;
} CreateState;

static void create_next (CreateState *state);

static void
on_created (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CreateState *state = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeKmsKey) key =
      tke_service_client_kms_create_key_finish (TKE_SERVICE_CLIENT (source), result, &error);

  if (key == NULL)
    {
      g_test_message ("create failed: %s", error->message);
      state->failed++;
    }
  state->done++;
  create_next (state);
}

static void
create_next (CreateState *state)
{
  g_autofree char *name = NULL;

  if (state->started >= N_ROOT_KEYS)
    return;
  name = g_strdup_printf ("root-%u", ++state->started);
  tke_service_client_kms_create_key_async (state->client, name, FALSE, NULL, on_created, state);
}

static void
test_initialization (void)
{
  const char *const args[] = { "--init", "imprint", NULL };
  Fixture fixture = { 0 }, *f = &fixture;
  g_autoptr (TkeSecret) p1 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) p2 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) p3 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) p12 = NULL;
  g_autoptr (TkeSecret) mk = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (GPtrArray) signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) keystore = NULL;
  g_autofree char *vp_hex = NULL;
  g_autofree char *vp_line = NULL;
  g_autofree char *keystore_path = NULL;
  g_autofree char *h1 = hex_of (p1), *h2 = hex_of (p2), *h3 = hex_of (p3);
  g_autofree char *pw = NULL;
  guint8 vp[TKE_VP_SIZE];
  gint64 started;
  CreateState create = { 0 };

  fixture_start (f, args);
  login (f);
  {
    g_auto (Run) run = tke (f, NULL, "cryptounits", NULL);
    assert_ok (run);
    g_assert_true (g_str_has_prefix (run.out, "SERVICE INSTANCE: "));
    g_assert_nonnull (strstr (run.out, "CRYPTO UNIT NUM   SELECTED   TYPE           LOCATION\n"));
    g_assert_nonnull (strstr (run.out, "1                 false      OPERATIONAL    [us-south]."));
    g_assert_nonnull (strstr (run.out, "3                 false      RECOVERY       [us-east]."));
  }
  {
    g_auto (Run) run = tke (f, NULL, "cryptounit-add", "1", "2", "3", NULL);
    assert_ok (run);
    g_assert_null (strstr (run.out, "false"));
  }

  /* Two administrators with signature key files. */
  {
    g_auto (Run) a =
        tke (f, "password-one\npassword-one\n", "sigkey-add", "--name", "Admin One", NULL);
    g_auto (Run) b =
        tke (f, "password-two\npassword-two\n", "sigkey-add", "--name", "Admin Two", NULL);
    g_auto (Run) list = tke (f, NULL, "sigkeys", NULL);
    assert_ok (a);
    assert_ok (b);
    assert_ok (list);
    g_assert_nonnull (strstr (list.out, "KEYNUM   DESCRIPTION   SUBJECT KEY IDENTIFIER"));
    g_assert_nonnull (strstr (list.out, "2        Admin Two     "));
  }
  {
    g_auto (Run) a = tke (f, "password-one\n", "cryptounit-admin-add", "1", NULL);
    g_auto (Run) b = tke (f, "password-two\n", "cryptounit-admin-add", "2", NULL);
    g_auto (Run) admins = tke (f, NULL, "cryptounit-admins", NULL);
    assert_ok (a);
    assert_ok (b);
    assert_ok (admins);
    g_assert_nonnull (strstr (admins.out, "ADMINISTRATORS FOR CRYPTO UNIT NUM 3"));
    g_assert_nonnull (strstr (admins.out, "Admin Two"));
  }
  {
    g_auto (Run) sel = tke (f, "password-one\npassword-two\n", "sigkey-sel", "1", "2", NULL);
    g_auto (Run) thr = tke (f, "password-one\npassword-two\n", "cryptounit-thrhld-set",
                            "--signature", "2", "--revocation", "2", NULL);
    g_auto (Run) show = tke (f, NULL, "cryptounit-thrhlds", NULL);
    assert_ok (sel);
    assert_ok (thr);
    assert_ok (show);
    g_assert_nonnull (strstr (show.out, "1                 2                     2                 "
                                        "     false"));
  }

  /* Three key part files with known values, loaded and committed. */
  pw = g_strdup_printf ("%s\nkp-pass-1\nkp-pass-1\n", h1);
  {
    g_auto (Run) a = tke (f, pw, "mk-add", "--value", "--description", "part one", NULL);
    assert_ok (a);
  }
  g_free (pw);
  pw = g_strdup_printf ("%s\nkp-pass-2\nkp-pass-2\n", h2);
  {
    g_auto (Run) b = tke (f, pw, "mk-add", "--value", "--description", "part two", NULL);
    assert_ok (b);
  }
  g_free (pw);
  pw = g_strdup_printf ("%s\nkp-pass-3\nkp-pass-3\n", h3);
  {
    g_auto (Run) c = tke (f, pw, "mk-add", "--value", "--description", "part three", NULL);
    g_auto (Run) mks = tke (f, NULL, "mks", NULL);
    assert_ok (c);
    assert_ok (mks);
    g_assert_nonnull (strstr (mks.out, "KEYNUM   DESCRIPTION   VERIFICATION PATTERN\n"));
    g_assert_nonnull (strstr (mks.out, "3        part three    "));
  }
  p12 = tke_crypto_xor (p1, p2, NULL);
  mk = tke_crypto_xor (p12, p3, NULL);
  tke_crypto_verification_pattern (mk, vp);
  vp_hex = tke_crypto_hex_encode (vp, sizeof vp);
  vp_line = g_strdup_printf ("%.32s\n", vp_hex);
  {
    g_auto (Run) load = tke (f, "password-one\nkp-pass-1\nkp-pass-2\nkp-pass-3\n",
                             "cryptounit-mk-load", "1", "2", "3", NULL);
    assert_ok (load);
    g_assert_nonnull (strstr (load.out, "Full Uncommitted   "));
    g_assert_nonnull (strstr (load.out, vp_line));
  }
  {
    g_auto (Run) commit = tke (f, "password-one\npassword-two\n", "cryptounit-mk-commit", NULL);
    assert_ok (commit);
    g_assert_nonnull (strstr (commit.out, "3                 Full Committed   "));
  }

  /* Set immediate (first activation) with the libtke ceremony. */
  instance = list_units (f);
  g_ptr_array_add (signers, file_signer (f, 1, "password-one"));
  ceremony = tke_ceremony_new (f->client, TKE_CEREMONY_SET_IMMEDIATE,
                               tke_service_instance_get_units (instance));
  tke_ceremony_set_signers (ceremony, signers);
  g_signal_connect (ceremony, "progress", G_CALLBACK (on_progress), messages);
  tke_ceremony_run_async (ceremony, NULL, on_done, &result);
  wait_for (&result);
  g_assert_true (tke_ceremony_run_finish (ceremony, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tke_ceremony_get_n_units_done (ceremony), ==, 3);
  g_assert_cmpuint (messages->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (TkeCryptoUnit) unit =
          g_list_model_get_item (tke_service_instance_get_units (instance), i);

      /* The ceremony refreshed the units it was given. */
      g_assert_cmpint (tke_crypto_unit_get_current_register_state (unit), ==,
                       TKE_CURRENT_REGISTER_VALID);
      g_assert_cmpstr (tke_crypto_unit_get_current_register_vp (unit), ==, vp_hex);
      g_assert_cmpint (tke_crypto_unit_get_new_register_state (unit), ==, TKE_NEW_REGISTER_EMPTY);
    }
  {
    g_auto (Run) show = tke (f, NULL, "cryptounit-mk", NULL);
    g_autofree char *current = NULL;
    const char *table;
    guint n = 0;

    assert_ok (show);
    table = strstr (show.out, "CURRENT MASTER KEY REGISTER");
    g_assert_nonnull (table);
    for (const char *p = table; (p = strstr (p, "Valid    ")) != NULL; p++)
      n++;
    g_assert_cmpuint (n, ==, 3);
    current =
        g_strdup_printf ("Valid    %.32s\n                           %s\n", vp_hex, vp_hex + 32);
    g_assert_nonnull (strstr (table, current));
    g_assert_null (strstr (table, "Empty"));
    g_assert_nonnull (strstr (show.out, "1                 Empty    "
                                        "00000000000000000000000000000000\n"));
  }

  /* Then 3 000 root keys through the KMS API, a few requests in flight. */
  started = g_get_monotonic_time ();
  create.client = f->client;
  for (guint i = 0; i < IN_FLIGHT; i++)
    create_next (&create);
  while (create.done < N_ROOT_KEYS)
    g_main_context_iteration (NULL, TRUE);
  g_test_message ("%u root keys created in %.1f s", N_ROOT_KEYS,
                  (g_get_monotonic_time () - started) / 1e6);
  g_assert_cmpuint (create.failed, ==, 0);
  {
    g_auto (Run) keys = tke (f, NULL, "kms-keys", "--limit", "2", NULL);
    assert_ok (keys);
    g_assert_nonnull (strstr (keys.out, "2 of 3000 keys"));
  }
  keystore_path = g_strdup_printf ("/v1/tke/%s/keystore", f->emu->instance);
  keystore = emu_call_ok (f->emu, "GET", keystore_path, NULL, 200);
  g_assert_cmpint (json_object_get_int_member (keystore, "keys_total"), ==, N_ROOT_KEYS);
  g_assert_cmpint (json_object_get_int_member (keystore, "keys_ok"), ==, N_ROOT_KEYS);

  /* KMS get and delete through the client. */
  {
    g_autoptr (GAsyncResult) res = NULL;
    g_autoptr (GPtrArray) page = NULL;
    g_autoptr (TkeKmsKey) key = NULL;
    g_autofree char *id = NULL;
    guint64 total = 0;

    tke_service_client_kms_list_keys_async (f->client, 10, 5, NULL, on_done, &res);
    wait_for (&res);
    page = tke_service_client_kms_list_keys_finish (f->client, res, &total, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (page->len, ==, 5);
    g_assert_cmpuint (total, ==, N_ROOT_KEYS);
    id = g_strdup (((TkeKmsKey *) page->pdata[0])->id);
    g_clear_object (&res);
    tke_service_client_kms_get_key_async (f->client, id, NULL, on_done, &res);
    wait_for (&res);
    key = tke_service_client_kms_get_key_finish (f->client, res, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (key->id, ==, id);
    g_assert_cmpint (key->state, ==, 1);
    g_assert_false (key->extractable);
    g_clear_object (&res);
    tke_service_client_kms_delete_key_async (f->client, id, NULL, on_done, &res);
    wait_for (&res);
    g_assert_true (tke_service_client_kms_delete_key_finish (f->client, res, &error));
    g_assert_no_error (error);
    g_clear_object (&res);
    tke_service_client_kms_get_key_async (f->client, id, NULL, on_done, &res);
    wait_for (&res);
    g_clear_pointer (&key, tke_kms_key_free);
    key = tke_service_client_kms_get_key_finish (f->client, res, &error);
    g_assert_null (key);
    g_assert_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }

  /* RewrapKeyBlob: refused until a new key is committed, then the blob
   * comes back under the new key's WKID. */
  {
    g_autoptr (JsonObject) generated =
        emu_call_ok (f->emu, "POST", "/v1/grep11/generate", "{}", 200);
    g_autofree char *blob_file = g_build_filename (f->top, "blob.b64", NULL);
    g_autofree char *out_file = g_build_filename (f->top, "blob-new.b64", NULL);
    g_autoptr (TkeSecret) p4 = tke_secret_new_random (32, NULL);
    g_autoptr (TkeSecret) p5 = tke_secret_new_random (32, NULL);
    g_autoptr (TkeSecret) next = tke_crypto_xor (p4, p5, NULL);
    g_autofree char *h4 = hex_of (p4), *h5 = hex_of (p5);
    g_autofree char *pw4 = g_strdup_printf ("%s\nkp-pass-4\nkp-pass-4\n", h4);
    g_autofree char *pw5 = g_strdup_printf ("%s\nkp-pass-5\nkp-pass-5\n", h5);
    g_autofree char *text = NULL;
    g_autofree guchar *rewrapped = NULL;
    guint8 wkid[TKE_WKID_SIZE];
    gsize size = 0;

    g_assert_true (g_file_set_contents (
        blob_file, json_object_get_string_member (generated, "blob"), -1, NULL));
    {
      g_auto (Run) early = tke (f, NULL, "rewrap-blob", blob_file, NULL);
      assert_fails (early, 1, "Full Committed");
    }
    {
      g_auto (Run) a = tke (f, pw4, "mk-add", "--value", "--description", "next 1", NULL);
      g_auto (Run) b = tke (f, pw5, "mk-add", "--value", "--description", "next 2", NULL);
      g_auto (Run) load =
          tke (f, "password-one\nkp-pass-4\nkp-pass-5\n", "cryptounit-mk-load", "4", "5", NULL);
      g_auto (Run) commit = tke (f, "password-one\npassword-two\n", "cryptounit-mk-commit", NULL);
      g_auto (Run) rewrap = tke (f, NULL, "rewrap-blob", blob_file, "--output", out_file, NULL);
      assert_ok (a);
      assert_ok (b);
      assert_ok (load);
      assert_ok (commit);
      assert_ok (rewrap);
    }
    g_assert_true (g_file_get_contents (out_file, &text, NULL, NULL));
    rewrapped = g_base64_decode (g_strstrip (text), &size);
    g_assert_cmpuint (size, >, TKE_WKID_SIZE);
    tke_crypto_wkid (next, wkid);
    g_assert_cmpmem (rewrapped, TKE_WKID_SIZE, wkid, TKE_WKID_SIZE);
  }

  fixture_stop (f);
}

/* ---- Refusals: each its own message, and no change ---------------------- */

static char *
demo_password (Fixture *f, const char *file)
{
  g_autofree char *path = g_build_filename (f->emu->state_dir, "demo-passwords.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  return g_strdup (
      json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), file));
}

static void
install_demo_sigkeys (Fixture *f)
{
  g_assert_cmpint (g_mkdir_with_parents (f->files, 0700), ==, 0);
  for (guint i = 1; i <= 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("admin%u.sigkey", i);
      g_autofree char *from = g_build_filename (f->emu->state_dir, name, NULL);
      g_autofree char *to_name = g_strdup_printf ("%u.sigkey", i);
      g_autofree char *to = g_build_filename (f->files, to_name, NULL);
      g_autofree char *contents = NULL;
      gsize size;

      g_assert_true (g_file_get_contents (from, &contents, &size, NULL));
      g_assert_true (
          g_file_set_contents_full (to, contents, size, G_FILE_SET_CONTENTS_NONE, 0600, NULL));
    }
}

static void
flip_ciphertext (const char *path)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *text = NULL;
  g_autofree char *hex = NULL;
  JsonObject *cipher;

  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  cipher = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                          "cipher");
  hex = g_strdup (json_object_get_string_member (cipher, "ciphertext"));
  hex[3] = hex[3] == 'a' ? 'b' : 'a';
  json_object_set_string_member (cipher, "ciphertext", hex);
  text = json_to_string (json_parser_get_root (parser), TRUE);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
test_refusals (void)
{
  const char *const args[] = { "--init", "demo", "--keys", "20", NULL };
  Fixture fixture = { 0 }, *f = &fixture;
  g_autofree char *pw1 = NULL, *pw2 = NULL, *both = NULL, *before = NULL, *after = NULL;
  g_autofree char *passwords = NULL;
  g_autofree char *part_path = NULL;

  fixture_start (f, args);
  login (f);
  install_demo_sigkeys (f);
  pw1 = demo_password (f, "admin1.sigkey");
  pw2 = demo_password (f, "admin2.sigkey");
  both = g_strdup_printf ("%s\n%s\n", pw1, pw2);
  {
    g_auto (Run) add = tke (f, NULL, "cryptounit-add", "1", "2", NULL);
    g_auto (Run) sel = tke (f, both, "sigkey-sel", "1", "2", NULL);
    assert_ok (add);
    assert_ok (sel);
  }
  before = units_state (f);

  /* Unknown signer: a signature key that no unit has installed. */
  {
    g_auto (Run) add =
        tke (f, "outsider-pw\noutsider-pw\n", "sigkey-add", "--name", "Outsider", NULL);
    g_auto (Run) sel = tke (f, "outsider-pw\n", "sigkey-sel", "3", NULL);
    g_auto (Run) clear = tke (f, "outsider-pw\n", "cryptounit-mk-clrnew", "--yes", NULL);
    assert_ok (add);
    assert_ok (sel);
    assert_fails (clear, 1, "is not an administrator of crypto unit 1");
    g_assert_nonnull (strstr (clear.err, "FAILED"));
  }
  after = units_state (f);
  g_assert_cmpstr (before, ==, after);
  g_clear_pointer (&after, g_free);

  /* Wrong password of a signature key file: refused before anything is sent. */
  {
    g_auto (Run) sel = tke (f, "not-the-password\n", "sigkey-sel", "1", NULL);
    g_auto (Run) sel_ok = tke (f, both, "sigkey-sel", "1", "2", NULL);
    assert_fails (sel, 1, "Invalid password.");
    assert_ok (sel_ok);
  }

  /* Two key parts; a wrong key part password, then a tampered key part file. */
  {
    g_auto (Run) a = tke (f, "part-pass-a\npart-pass-a\n", "mk-add", "--random", "--description",
                          "part a", NULL);
    g_auto (Run) b = tke (f, "part-pass-b\npart-pass-b\n", "mk-add", "--random", "--description",
                          "part b", NULL);
    assert_ok (a);
    assert_ok (b);
  }
  passwords = g_strdup_printf ("%s\npart-pass-a\nwrong-pass-b\n", pw1);
  {
    g_auto (Run) load = tke (f, passwords, "cryptounit-mk-load", "1", "2", NULL);
    assert_fails (load, 1, "Invalid password.");
  }
  part_path = g_build_filename (f->files, "2.keypart", NULL);
  flip_ciphertext (part_path);
  g_free (passwords);
  passwords = g_strdup_printf ("%s\npart-pass-a\npart-pass-b\n", pw1);
  {
    g_auto (Run) load = tke (f, passwords, "cryptounit-mk-load", "1", "2", NULL);
    assert_fails (load, 1, "is damaged or was altered");
  }
  after = units_state (f);
  g_assert_cmpstr (before, ==, after);
  g_clear_pointer (&after, g_free);

  /* One signature below a threshold of 2. */
  {
    g_auto (Run) c = tke (f, "part-pass-c\npart-pass-c\n", "mk-add", "--random", "--description",
                          "part c", NULL);
    g_autofree char *load_pw = g_strdup_printf ("%s\npart-pass-a\npart-pass-c\n", pw1);
    g_auto (Run) load = tke (f, load_pw, "cryptounit-mk-load", "1", "3", NULL);
    g_autofree char *one = g_strdup_printf ("%s\n", pw1);
    g_auto (Run) sel = tke (f, one, "sigkey-sel", "1", NULL);
    g_auto (Run) commit = { 0 };

    assert_ok (c);
    assert_ok (load);
    assert_ok (sel);
    g_clear_pointer (&before, g_free);
    before = units_state (f);
    commit = tke (f, one, "cryptounit-mk-commit", NULL);
    assert_fails (commit, 1, "needs 2 signatures from distinct administrators; 1 valid");
  }
  after = units_state (f);
  g_assert_cmpstr (before, ==, after);
  g_assert_nonnull (strstr (after, "\"new_mk_status\":\"Full Uncommitted\""));
  g_clear_pointer (&after, g_free);

  /* A destructive verb answered "no" (end of input) changes nothing. */
  {
    g_auto (Run) clear = tke (f, NULL, "cryptounit-mk-clrnew", NULL);
    g_assert_cmpint (clear.status, ==, 4);
  }
  after = units_state (f);
  g_assert_cmpstr (before, ==, after);

  fixture_stop (f);
}

/* Replay, a tampered sealed part and malformed JSON: below the CLI. */
static JsonObject *
send_command (Fixture *f, TkeCryptoUnit *unit, GBytes *command, GPtrArray *signers, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  tke_service_client_send_command_async (f->client, unit, command, signers, NULL, on_done, &result);
  wait_for (&result);
  return tke_service_client_send_command_finish (f->client, result, error);
}

static gint64
unit_counter (Fixture *f, TkeCryptoUnit *unit)
{
  g_autoptr (JsonObject) q = emu_query (f->emu, tke_crypto_unit_get_hsm_id (unit));

  return json_object_get_int_member (q, "counter");
}

static void
test_protocol_refusals (void)
{
  const char *const args[] = { "--init", "demo", "--keys", "20", NULL };
  Fixture fixture = { 0 }, *f = &fixture;
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (TkeCryptoUnit) unit = NULL;
  g_autoptr (GPtrArray) signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GBytes) command = NULL;
  g_autoptr (JsonObject) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *pw1 = NULL, *before = NULL, *after = NULL;
  gint64 counter;

  fixture_start (f, args);
  install_demo_sigkeys (f);
  pw1 = demo_password (f, "admin1.sigkey");
  g_ptr_array_add (signers, file_signer (f, 1, pw1));
  instance = list_units (f);
  unit = g_list_model_get_item (tke_service_instance_get_units (instance), 0);

  /* Replay: the same signed bytes twice. */
  counter = unit_counter (f, unit);
  command = tke_service_client_build_command (f->emu->instance, tke_crypto_unit_get_hsm_id (unit),
                                              "clear_new", counter, "{}");
  result = send_command (f, unit, command, signers, &error);
  g_assert_no_error (error);
  g_assert_cmpint (unit_counter (f, unit), ==, counter + 1);
  g_clear_pointer (&result, json_object_unref);
  before = units_state (f);
  result = send_command (f, unit, command, signers, &error);
  g_assert_null (result);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_REPLAY);
  g_assert_nonnull (strstr (error->message, "replayed or stale"));
  g_clear_error (&error);
  after = units_state (f);
  g_assert_cmpstr (before, ==, after);
  g_clear_pointer (&after, g_free);

  /* A tampered sealed key part. */
  {
    g_autoptr (TkeSecret) a = tke_secret_new_random (32, NULL);
    g_autoptr (TkeSecret) b = tke_secret_new_random (32, NULL);
    g_autoptr (GPtrArray) sealed = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
    g_autoptr (GAsyncResult) res = NULL;
    g_autoptr (GBytes) importer = NULL;
    g_autoptr (EVP_PKEY) key = NULL;
    g_autofree char *vp = NULL;
    TkeSecret *parts[] = { a, b };

    tke_service_client_generate_importer_key_async (f->client, unit, signers, NULL, on_done, &res);
    wait_for (&res);
    importer = tke_service_client_generate_importer_key_finish (f->client, res, &error);
    g_assert_no_error (error);
    key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (importer, NULL),
                                               g_bytes_get_size (importer), &error);
    g_assert_no_error (error);
    for (guint i = 0; i < 2; i++)
      {
        g_autoptr (GBytes) aad = tke_service_client_key_part_aad (unit, i + 1, 2);
        GBytes *part = tke_crypto_seal (key, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                                        parts[i], &error);
        g_assert_no_error (error);
        if (i == 1)
          {
            gsize size;
            guint8 *data = g_bytes_unref_to_data (part, &size);

            data[size - 1] ^= 0x01;
            part = g_bytes_new_take (data, size);
          }
        g_ptr_array_add (sealed, part);
      }
    before = units_state (f);
    g_clear_object (&res);
    g_ptr_array_add (signers, g_object_ref (signers->pdata[0]));
    tke_service_client_load_async (f->client, unit, sealed, signers, NULL, on_done, &res);
    wait_for (&res);
    vp = tke_service_client_load_finish (f->client, res, &error);
    g_assert_null (vp);
    g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
    g_assert_nonnull (strstr (error->message, "2"));
    g_clear_error (&error);
    after = units_state (f);
    g_assert_cmpstr (before, ==, after);
    g_clear_pointer (&after, g_free);
    g_clear_pointer (&before, g_free);
  }

  /* Malformed JSON to every endpoint that takes JSON. */
  {
    g_autofree char *hsm =
        g_strdup_printf ("/v1/tke/%s/hsms/%s", f->emu->instance, tke_crypto_unit_get_hsm_id (unit));
    g_autofree char *rotate = g_strdup_printf ("/v1/tke/%s/rotate", f->emu->instance);
    g_autoptr (GPtrArray) keys = NULL;
    g_autoptr (GAsyncResult) res = NULL;
    g_autofree char *wrap = NULL;
    g_autofree char *unwrap = NULL;
    g_autofree char *rotate_key = NULL;
    const char *paths[9] = { 0 };
    guint64 total = 0;

    tke_service_client_kms_list_keys_async (f->client, 0, 1, NULL, on_done, &res);
    wait_for (&res);
    keys = tke_service_client_kms_list_keys_finish (f->client, res, &total, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (total, ==, 20);
    wrap = g_strdup_printf ("/api/v2/keys/%s?action=wrap", ((TkeKmsKey *) keys->pdata[0])->id);
    unwrap = g_strdup_printf ("/api/v2/keys/%s?action=unwrap", ((TkeKmsKey *) keys->pdata[0])->id);
    rotate_key =
        g_strdup_printf ("/api/v2/keys/%s?action=rotate", ((TkeKmsKey *) keys->pdata[0])->id);
    paths[0] = hsm;
    paths[1] = rotate;
    paths[2] = "/api/v2/keys";
    paths[3] = wrap;
    paths[4] = unwrap;
    paths[5] = "/v1/grep11/generate";
    paths[6] = "/v1/grep11/rewrap";
    paths[7] = "/v1/grep11/check";
    paths[8] = rotate_key;

    before = units_state (f);
    for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
      {
        const char *body = "{\"request\": {\"command\": ";
        guint status = 0;
        g_autoptr (JsonNode) answer =
            emu_call (f->emu, "POST", paths[i], NULL, body, strlen (body), &status);
        g_autoptr (GError) mapped = NULL;

        g_test_message ("POST %s → %u", paths[i], status);
        g_assert_cmpuint (status, ==, 400);
        tke_service_set_error_from_response (&mapped, status, answer);
        g_assert_error (mapped, TKE_ERROR, TKE_ERROR_INVALID_DATA);
        g_assert_cmpstr (
            json_object_get_string_member (
                json_object_get_object_member (json_node_get_object (answer), "error"), "code"),
            ==, "malformed_json");
        g_assert_cmpuint (strlen (mapped->message), >, 10);
      }
    after = units_state (f);
    g_assert_cmpstr (before, ==, after);
    g_clear_object (&res);
    g_clear_pointer (&keys, g_ptr_array_unref);
    tke_service_client_kms_list_keys_async (f->client, 0, 1, NULL, on_done, &res);
    wait_for (&res);
    keys = tke_service_client_kms_list_keys_finish (f->client, res, &total, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (total, ==, 20);
  }

  fixture_stop (f);
}

/* ---- The token, TLS and cancellation ------------------------------------ */

static void
test_expired_token (void)
{
  /* Long enough for a login and a command to run inside it under ASan on a
   * loaded machine; the wait below outlasts it. */
  const char *const args[] = { "--init", "imprint", "--token-ttl", "8", NULL };
  Fixture fixture = { 0 }, *f = &fixture;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;

  fixture_start (f, args);
  login (f);
  g_usleep (9 * G_USEC_PER_SEC);
  {
    g_auto (Run) units = tke (f, NULL, "cryptounits", NULL);
    assert_fails (units, 3, "The token has expired. Log in again.");
  }
  tke_service_client_list_units_async (f->client, NULL, on_done, &result);
  wait_for (&result);
  instance = tke_service_client_list_units_finish (f->client, result, &error);
  g_assert_null (instance);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_AUTH_EXPIRED);
  {
    /* Logging in again takes the API key from the keyring. */
    g_auto (Run) again = tke (f, NULL, "login", NULL);
    g_auto (Run) units = tke (f, NULL, "cryptounits", NULL);
    assert_ok (again);
    g_assert_nonnull (strstr (again.out, "keyring"));
    assert_ok (units);
  }
  fixture_stop (f);
}

static void
test_not_logged_in_and_tls (void)
{
  const char *const args[] = { "--init", "imprint", NULL };
  Fixture fixture = { 0 }, *f = &fixture;
  g_autoptr (TkeServiceClient) wrong_ca = NULL;
  g_autoptr (TkeSecret) key = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  fixture_start (f, args);
  {
    g_auto (Run) units = tke (f, NULL, "cryptounits", NULL);
    assert_fails (units, 3, "No service endpoint is known");
  }
  {
    g_autofree char *bad_key = g_build_filename (f->top, "badkey", NULL);
    g_auto (Run) run = { 0 };

    g_assert_true (g_file_set_contents (bad_key, "not-the-key\n", -1, NULL));
    run = tke (f, NULL, "login", "--endpoint", f->emu->url, "--ca-file", f->emu->ca_file,
               "--api-key-file", bad_key, NULL);
    assert_fails (run, 3, "The API key is not valid.");
  }

  /* The system's CAs do not know the emulator's: TLS refuses, never skips. */
  wrong_ca = tke_service_client_new (f->emu->url, "/etc/ssl/certs/ca-certificates.crt");
  key = tke_secret_new_from_data ((const guint8 *) f->emu->api_key, strlen (f->emu->api_key));
  tke_service_client_login_async (wrong_ca, key, NULL, on_done, &result);
  wait_for (&result);
  g_assert_false (tke_service_client_login_finish (wrong_ca, result, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_TLS);
  fixture_stop (f);
}

static gboolean
cancel_later (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (void)
{
  const char *const args[] = { "--init", "imprint", "--latency-ms", "5000", NULL };
  Fixture fixture = { 0 }, *f = &fixture;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  gint64 started;

  fixture_start (f, args);
  started = g_get_monotonic_time ();
  g_timeout_add (200, cancel_later, cancellable);
  tke_service_client_list_units_async (f->client, cancellable, on_done, &result);
  wait_for (&result);
  instance = tke_service_client_list_units_finish (f->client, result, &error);
  g_assert_null (instance);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* Aborted by the progress callback, not after the 5 s answer. */
  g_assert_cmpint (g_get_monotonic_time () - started, <, 3 * G_USEC_PER_SEC);
  fixture_stop (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("TKE_EMULATOR") == NULL || g_getenv ("TKE_CLI") == NULL)
    {
      g_test_skip ("TKE_EMULATOR and TKE_CLI must name the programs");
      return g_test_run ();
    }

  g_test_add_func ("/client/initialization", test_initialization);
  g_test_add_func ("/client/refusals", test_refusals);
  g_test_add_func ("/client/protocol-refusals", test_protocol_refusals);
  g_test_add_func ("/client/expired-token", test_expired_token);
  g_test_add_func ("/client/not-logged-in-and-tls", test_not_logged_in_and_tls);
  g_test_add_func ("/client/cancel", test_cancel);

  return g_test_run ();
}
