/* client-fixture.c: the shared set-up of the client integration tests:
 * an emulator on a temporary state directory, the environment of the
 * real `tke` binary (temporary XDG dirs, TKE_FILES, the libsecret file
 * backend, --password-file) and a TkeServiceClient
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "client-fixture.h"

void
run_clear (Run *run)
{
  g_free (run->out);
  g_free (run->err);
}

/* ---- Helpers ------------------------------------------------------------- */

void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

void
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

void
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

void
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
  tke_service_client_set_unit_root (f->client, f->emu->unit_root);
  api_key = tke_secret_new_from_data ((const guint8 *) f->emu->api_key, strlen (f->emu->api_key));
  tke_service_client_login_async (f->client, api_key, NULL, on_done, &result);
  wait_for (&result);
  g_assert_true (tke_service_client_login_finish (f->client, result, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (tke_service_client_get_instance_id (f->client), ==, f->emu->instance);
  emu_login (f->emu);
}

void
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
Run
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

void
fixture_login (Fixture *f)
{
  g_autofree char *key_file = g_build_filename (f->top, "apikey", NULL);
  g_auto (Run) run = { 0 };

  g_assert_true (g_file_set_contents_full (key_file, f->emu->api_key, -1, G_FILE_SET_CONTENTS_NONE,
                                           0600, NULL));
  run = tke (f, NULL, "login", "--endpoint", f->emu->url, "--ca-file", f->emu->ca_file,
             "--api-key-file", key_file, "--unit-root", f->emu->unit_root_file, NULL);
  assert_ok (run);
  g_assert_nonnull (strstr (run.out, f->emu->instance));
  g_unlink (key_file);
}

/* Everything the units say of themselves, to compare before and after. */
char *
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

TkeServiceInstance *
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

TkeFileSigner *
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

char *
hex_of (const TkeSecret *secret)
{
  return tke_crypto_hex_encode (tke_secret_get_data (secret), tke_secret_get_size (secret));
}

void
on_progress (TkeCeremony *ceremony, TkeCryptoUnit *unit, const char *message, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (message));
}

char *
demo_password (Fixture *f, const char *file)
{
  g_autofree char *path = g_build_filename (f->emu->state_dir, "demo-passwords.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  return g_strdup (
      json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), file));
}

void
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
