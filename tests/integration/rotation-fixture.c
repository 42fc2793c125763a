/* rotation-fixture.c: see rotation-fixture.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>

#include "rotation-fixture.h"

void
rot_run_clear (RotRun *run)
{
  g_free (run->out);
  g_free (run->err);
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

static char *
demo_password (RotFixture *f, const char *file)
{
  g_autofree char *path = g_build_filename (f->state, "demo-passwords.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  return g_strdup (
      json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), file));
}

static Emu *
start_emu (RotFixture *f, const char *const *faults)
{
  g_autofree char *keys = g_strdup_printf ("%u", f->keys);
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  Emu *emu;

  g_ptr_array_add (args, (gpointer) "--init");
  g_ptr_array_add (args, (gpointer) "demo");
  g_ptr_array_add (args, (gpointer) "--keys");
  g_ptr_array_add (args, keys);
  for (guint i = 0; faults != NULL && faults[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) faults[i]);
  g_ptr_array_add (args, NULL);
  emu = emu_start (f->state, (const char *const *) args->pdata);
  emu_login (emu);
  return emu;
}

void
rot_start (RotFixture *f, guint keys, const char *const *faults)
{
  f->top = g_dir_make_tmp ("tke-rotation-XXXXXX", NULL);
  f->state = g_build_filename (f->top, "state", NULL);
  f->files = g_build_filename (f->top, "files", NULL);
  f->keys = keys;
  f->emu = start_emu (f, faults);
  f->a1 = emu_demo_admin (f->emu, 1);
  f->a2 = emu_demo_admin (f->emu, 2);
  f->pw1 = demo_password (f, "admin1.sigkey");
  f->pw2 = demo_password (f, "admin2.sigkey");

  f->env = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (f->env, g_strdup_printf ("XDG_CONFIG_HOME=%s/config", f->top));
  g_ptr_array_add (f->env, g_strdup_printf ("XDG_DATA_HOME=%s/data", f->top));
  g_ptr_array_add (f->env, g_strdup_printf ("XDG_STATE_HOME=%s/xdgstate", f->top));
  g_ptr_array_add (f->env, g_strdup_printf ("TKE_FILES=%s", f->files));
  g_ptr_array_add (f->env, g_strdup ("SECRET_BACKEND=file"));
  g_ptr_array_add (f->env, g_strdup_printf ("SECRET_FILE_TEST_PATH=%s/test.keyring", f->top));
  g_ptr_array_add (f->env, g_strdup ("SECRET_FILE_TEST_PASSWORD=test"));
  g_ptr_array_add (f->env, g_strdup ("LANGUAGE=C"));
  g_ptr_array_add (f->env, g_strdup ("LC_ALL=C.UTF-8"));
}

void
rot_kill (RotFixture *f)
{
  if (f->emu == NULL || f->emu->process == NULL)
    return;
  g_subprocess_send_signal (f->emu->process, SIGKILL);
  emu_wait_exit (f->emu);
  g_clear_object (&f->emu->process);
}

void
rot_restart (RotFixture *f, const char *const *faults)
{
  if (f->emu->process != NULL && g_subprocess_get_identifier (f->emu->process) != NULL)
    rot_kill (f);
  else if (f->emu->process != NULL)
    {
      emu_wait_exit (f->emu);
      g_clear_object (&f->emu->process);
    }
  emu_free (f->emu);
  f->emu = start_emu (f, faults);
}

void
rot_stop (RotFixture *f)
{
  if (f->emu != NULL)
    {
      rot_kill (f);
      emu_free (f->emu);
    }
  if (f->a1 != NULL)
    EVP_PKEY_free (f->a1);
  if (f->a2 != NULL)
    EVP_PKEY_free (f->a2);
  g_clear_pointer (&f->env, g_ptr_array_unref);
  remove_tree (f->top);
  g_free (f->top);
  g_free (f->state);
  g_free (f->files);
  g_free (f->pw1);
  g_free (f->pw2);
  g_clear_pointer (&f->parts[0], tke_secret_unref);
  g_clear_pointer (&f->parts[1], tke_secret_unref);
}

RotRun
rot_tke (RotFixture *f, const char *passwords, ...)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *password_file = NULL;
  const char *arg;
  RotRun run = { 0 };
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
rot_cli_login (RotFixture *f)
{
  g_autofree char *key_file = g_build_filename (f->top, "apikey", NULL);
  g_auto (RotRun) run = { 0 };

  g_assert_true (g_file_set_contents_full (key_file, f->emu->api_key, -1, G_FILE_SET_CONTENTS_NONE,
                                           0600, NULL));
  run = rot_tke (f, NULL, "login", "--endpoint", f->emu->url, "--ca-file", f->emu->ca_file,
                 "--api-key-file", key_file, "--unit-root", f->emu->unit_root_file, NULL);
  rot_assert_ok (run);
  g_unlink (key_file);
}

void
rot_cli_setup (RotFixture *f)
{
  g_autofree char *both = g_strdup_printf ("%s\n%s\n", f->pw1, f->pw2);

  rot_cli_login (f);
  g_assert_cmpint (g_mkdir_with_parents (f->files, 0700), ==, 0);
  for (guint i = 1; i <= 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("admin%u.sigkey", i);
      g_autofree char *from = g_build_filename (f->state, name, NULL);
      g_autofree char *to_name = g_strdup_printf ("%u.sigkey", i);
      g_autofree char *to = g_build_filename (f->files, to_name, NULL);
      g_autofree char *contents = NULL;
      gsize size;

      g_assert_true (g_file_get_contents (from, &contents, &size, NULL));
      g_assert_true (
          g_file_set_contents_full (to, contents, size, G_FILE_SET_CONTENTS_NONE, 0600, NULL));
    }
  {
    g_auto (RotRun) add = rot_tke (f, NULL, "cryptounit-add", "1", "2", "3", NULL);
    g_auto (RotRun) sel = rot_tke (f, both, "sigkey-sel", "1", "2", NULL);

    rot_assert_ok (add);
    rot_assert_ok (sel);
  }
}

char *
rot_load_commit_on (RotFixture *f, const char *unit, TkeSecret *const *parts)
{
  TkeSecret *both_parts[2] = { parts[0], parts[1] };
  g_autoptr (TkeSecret) mk = tke_crypto_xor (parts[0], parts[1], NULL);
  EVP_PKEY *one[] = { f->a1, NULL }, *both[] = { f->a1, f->a2, NULL },
           *two[] = { f->a2, f->a2, NULL };
  g_autofree char *commit_args = NULL;
  guint8 vp[TKE_VP_SIZE];
  char *vp_hex;

  tke_crypto_verification_pattern (mk, vp);
  vp_hex = tke_crypto_hex_encode (vp, sizeof vp);
  commit_args = g_strdup_printf ("{\"new_mkvp\":\"%s\"}", vp_hex);
  {
    g_autoptr (JsonObject) imp = emu_command_ok (f->emu, unit, "generate_importer_key", NULL, one);
    g_autofree char *load = emu_load_args (
        unit, json_object_get_string_member (imp, "importer_key"), both_parts, 2, FALSE);
    g_autoptr (JsonObject) r1 = emu_command_ok (f->emu, unit, "load", load, two);
    g_autoptr (JsonObject) r2 = emu_command_ok (f->emu, unit, "commit", commit_args, both);
  }
  return vp_hex;
}

char *
rot_load_commit (RotFixture *f)
{
  g_auto (GStrv) units = emu_unit_ids (f->emu);
  char *vp_hex = NULL;

  for (guint i = 0; i < 2; i++)
    {
      g_clear_pointer (&f->parts[i], tke_secret_unref);
      f->parts[i] = tke_secret_new_random (32, NULL);
    }
  for (guint u = 0; units[u] != NULL; u++)
    {
      g_free (vp_hex);
      vp_hex = rot_load_commit_on (f, units[u], f->parts);
    }
  return vp_hex;
}

char *
rot_rotation_state (RotFixture *f)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/rotation", f->emu->instance);
  g_autoptr (JsonObject) o = emu_call_ok (f->emu, "GET", path, NULL, 200);

  return g_strdup (json_object_get_string_member (o, "state"));
}

gint64
rot_keys_lost (RotFixture *f)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/keystore", f->emu->instance);
  g_autoptr (JsonObject) ks = emu_call_ok (f->emu, "GET", path, NULL, 200);

  return json_object_get_int_member (ks, "keys_total") - json_object_get_int_member (ks, "keys_ok");
}

void
rot_assert_done (RotFixture *f, const char *vp)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/keystore", f->emu->instance);
  g_autoptr (JsonObject) ks = emu_call_ok (f->emu, "GET", path, NULL, 200);
  g_autofree char *wkid = g_strndup (vp, 32);
  JsonObject *by = json_object_get_object_member (ks, "by_wkid");
  g_auto (GStrv) units = emu_unit_ids (f->emu);
  g_autofree char *state = rot_rotation_state (f);

  if (!json_object_has_member (by, wkid))
    {
      g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), ks);
      g_autofree char *text = json_to_string (node, FALSE);
      g_autofree char *q0 = emu_query_text (f->emu, units[0]);

      g_error ("the keys are not under the new key %s: %s; unit: %s; rotation %s", wkid, text, q0,
               state);
    }
  g_assert_cmpint (json_object_get_int_member (ks, "keys_total"), ==, f->keys);
  g_assert_cmpint (json_object_get_int_member (ks, "keys_ok"), ==, f->keys);
  g_assert_cmpint (json_object_get_int_member (ks, "keys_failed"), ==, 0);
  g_assert_cmpuint (json_object_get_size (by), ==, 1);
  g_assert_cmpint (json_object_get_int_member (by, wkid), ==, f->keys);
  for (guint u = 0; units[u] != NULL; u++)
    {
      g_autoptr (JsonObject) q = emu_query (f->emu, units[u]);

      g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Valid");
      g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), ==, vp);
      g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Empty");
    }
  g_assert_cmpstr (state, ==, "complete");
}
