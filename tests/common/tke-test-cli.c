/* tke-test-cli.c: see tke-test-cli.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>

#include "tke-test-cli.h"

void
tke_test_run_clear (TkeTestRun *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

void
tke_test_cli_init (TkeTestCli *cli, const char *top)
{
  cli->top = g_strdup (top);
  cli->files = g_build_filename (top, "files", NULL);
  cli->env = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (cli->env, g_strdup_printf ("XDG_CONFIG_HOME=%s/config", top));
  g_ptr_array_add (cli->env, g_strdup_printf ("XDG_DATA_HOME=%s/data", top));
  g_ptr_array_add (cli->env, g_strdup_printf ("XDG_STATE_HOME=%s/xdgstate", top));
  g_ptr_array_add (cli->env, g_strdup_printf ("TKE_FILES=%s", cli->files));
  g_ptr_array_add (cli->env, g_strdup ("SECRET_BACKEND=file"));
  g_ptr_array_add (cli->env, g_strdup_printf ("SECRET_FILE_TEST_PATH=%s/test.keyring", top));
  g_ptr_array_add (cli->env, g_strdup ("SECRET_FILE_TEST_PASSWORD=test"));
  g_ptr_array_add (cli->env, g_strdup ("LANGUAGE=C"));
  g_ptr_array_add (cli->env, g_strdup ("LC_ALL=C.UTF-8"));
}

void
tke_test_cli_clear (TkeTestCli *cli)
{
  g_clear_pointer (&cli->env, g_ptr_array_unref);
  g_clear_pointer (&cli->top, g_free);
  g_clear_pointer (&cli->files, g_free);
}

GSubprocessLauncher *
tke_test_cli_launcher (TkeTestCli *cli, GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  for (guint i = 0; i < cli->env->len; i++)
    {
      g_auto (GStrv) pair = g_strsplit (cli->env->pdata[i], "=", 2);

      g_subprocess_launcher_setenv (launcher, pair[0], pair[1], TRUE);
    }
  return launcher;
}

TkeTestRun
tke_test_cli_run_va (TkeTestCli *cli, const char *passwords, va_list args)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *password_file = NULL;
  const char *arg;
  TkeTestRun run = { 0 };

  g_assert_nonnull (g_getenv ("TKE_CLI"));
  g_ptr_array_add (argv, g_strdup (g_getenv ("TKE_CLI")));
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  if (passwords != NULL)
    {
      password_file = g_build_filename (cli->top, "passwords", NULL);
      g_assert_true (g_file_set_contents_full (password_file, passwords, -1,
                                               G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
      g_ptr_array_add (argv, g_strdup ("--password-file"));
      g_ptr_array_add (argv, g_strdup (password_file));
    }
  g_ptr_array_add (argv, NULL);

  launcher =
      tke_test_cli_launcher (cli, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                      G_SUBPROCESS_FLAGS_STDERR_PIPE);
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

TkeTestRun
tke_test_cli_run (TkeTestCli *cli, const char *passwords, ...)
{
  TkeTestRun run;
  va_list args;

  va_start (args, passwords);
  run = tke_test_cli_run_va (cli, passwords, args);
  va_end (args);
  return run;
}

void
tke_test_cli_login (TkeTestCli *cli, Emu *emu)
{
  g_autofree char *key_file = g_build_filename (cli->top, "apikey", NULL);
  g_auto (TkeTestRun) run = { 0 };

  /* The key goes in a file, never on the command line. */
  g_assert_true (g_file_set_contents_full (key_file, emu->api_key, -1,
                                           G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
  run = tke_test_cli_run (cli, NULL, "login", "--endpoint", emu->url, "--ca-file", emu->ca_file,
                          "--api-key-file", key_file, "--unit-root", emu->unit_root_file, NULL);
  tke_test_assert_ok (run);
  g_assert_nonnull (strstr (run.out, emu->instance));
  g_unlink (key_file);
}

void
tke_test_cli_install_demo_sigkeys (TkeTestCli *cli, Emu *emu)
{
  g_assert_cmpint (g_mkdir_with_parents (cli->files, 0700), ==, 0);
  for (guint i = 1; i <= 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("admin%u.sigkey", i);
      g_autofree char *from = g_build_filename (emu->state_dir, name, NULL);
      g_autofree char *to_name = g_strdup_printf ("%u.sigkey", i);
      g_autofree char *to = g_build_filename (cli->files, to_name, NULL);
      g_autofree char *contents = NULL;
      gsize size;

      g_assert_true (g_file_get_contents (from, &contents, &size, NULL));
      g_assert_true (g_file_set_contents_full (to, contents, size, G_FILE_SET_CONTENTS_CONSISTENT,
                                               0600, NULL));
    }
}
