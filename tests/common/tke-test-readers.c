/* tke-test-readers.c: see tke-test-readers.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Starts the real launcher (which starts the real pcscd with the real
 * driver), tracks it by its process, never by name, and stops it with
 * SIGTERM.  Nothing here sleeps: readiness is the launcher's ready line, and
 * card presence is SCardGetStatusChange.
 */

#include "tke-test-readers.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>

void
tke_readers_fixture_init (TkeReadersFixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *socket = NULL;
  g_autofree char *chip = NULL;

  f->dir = g_dir_make_tmp ("tke-readers-XXXXXX", &error);
  g_assert_no_error (error);
  f->state_dir = g_build_filename (f->dir, "state", NULL);
  socket = g_build_filename (f->state_dir, "pcscd.comm", NULL);
  chip = g_build_filename (f->dir, "chip.key", NULL);
  g_setenv ("PCSCLITE_CSOCK_NAME", socket, TRUE);
  g_setenv ("TKE_CARD_CHIP_KEY", chip, TRUE);
}

char *
tke_readers_path (TkeReadersFixture *f, const char *name)
{
  return g_build_filename (f->dir, name, NULL);
}

gboolean
tke_readers_holds (TkeReadersFixture *f, guint reader, const char *name)
{
  g_autofree char *path = tke_readers_path (f, name);
  g_autofree char *suffix = g_strconcat (" image=", path, NULL);
  g_autofree char *status = tke_readers_ctl (f, reader, "status");

  return strstr (status, "card=present") != NULL && g_str_has_suffix (status, suffix);
}

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

void
tke_readers_fixture_start (TkeReadersFixture *f, const char *card1, const char *card2)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;

  g_ptr_array_add (argv, g_strdup (g_getenv ("TKE_VIRTUAL_READERS")));
  g_ptr_array_add (argv, g_strdup ("--state-dir"));
  g_ptr_array_add (argv, g_strdup (f->state_dir));
  if (card1 != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--card1"));
      g_ptr_array_add (argv, tke_readers_path (f, card1));
    }
  if (card2 != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--card2"));
      g_ptr_array_add (argv, tke_readers_path (f, card2));
    }
  g_ptr_array_add (argv, NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* A test that aborts must not leave the readers running. */
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  f->launcher = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->launcher));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "ready PCSCLITE_CSOCK_NAME="));
  g_assert_nonnull (strstr (line, " pcscd-pid="));
  f->pcscd = (GPid) g_ascii_strtoll (strstr (line, " pcscd-pid=") + 11, NULL, 10);
  g_assert_cmpint (f->pcscd, >, 1);
}

void
tke_readers_fixture_stop (TkeReadersFixture *f)
{
  g_autoptr (GError) error = NULL;

  if (f->launcher == NULL)
    return;
  g_subprocess_send_signal (f->launcher, SIGTERM);
  g_subprocess_wait_check (f->launcher, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&f->launcher);
}

void
tke_readers_fixture_clear (TkeReadersFixture *f)
{
  g_autofree char *cmd = NULL;

  tke_readers_fixture_stop (f);
  cmd = g_strdup_printf ("rm -rf '%s'", f->dir);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (f->dir);
  g_free (f->state_dir);
}

char *
tke_readers_ctl (TkeReadersFixture *f, guint reader, const char *command)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("reader%u.ctl", reader);
  g_autofree char *path = g_build_filename (f->state_dir, name, NULL);
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  g_autofree char *line = g_strconcat (command, "\n", NULL);
  char *answer;

  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)), line,
                             strlen (line), NULL, NULL, &error);
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  answer = g_data_input_stream_read_line (in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (answer);
  return answer;
}

int
tke_readers_card (TkeReadersFixture *f, const char *pins, const char *const *args, char **output)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *pin_file = tke_readers_path (f, "pins");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_file_set_contents (pin_file, pins != NULL ? pins : "", -1, &error);
  g_assert_no_error (error);
  g_ptr_array_add (argv, (gpointer) g_getenv ("TKE_CARD"));
  g_ptr_array_add (argv, "--pin-file");
  g_ptr_array_add (argv, pin_file);
  for (; *args != NULL; args++)
    g_ptr_array_add (argv, (gpointer) *args);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (f->dir, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                &status, &error);
  g_assert_no_error (error);
  g_unlink (pin_file);
  if (output != NULL)
    *output = g_strconcat (out, err, NULL);
  return g_spawn_check_wait_status (status, NULL)
             ? 0
             : (WIFEXITED (status) ? WEXITSTATUS (status) : -1);
}

char *
tke_readers_name (SCARDCONTEXT context, guint reader)
{
  g_autofree char *prefix = g_strdup_printf ("TKE Virtual PIN Pad Reader %u ", reader);
  char *names = NULL;
  DWORD size = SCARD_AUTOALLOCATE;
  char *found = NULL;

  g_assert_cmpint (SCardListReaders (context, NULL, (LPSTR) &names, &size), ==, SCARD_S_SUCCESS);
  for (char *n = names; *n != '\0'; n += strlen (n) + 1)
    if (g_str_has_prefix (n, prefix))
      found = g_strdup (n);
  SCardFreeMemory (context, names);
  g_assert_nonnull (found);
  return found;
}

void
tke_readers_wait_card (SCARDCONTEXT context, guint reader, gboolean present)
{
  g_autofree char *name = tke_readers_name (context, reader);
  SCARD_READERSTATE state = { .szReader = name, .dwCurrentState = SCARD_STATE_UNAWARE };

  for (int round = 0; round < 20; round++)
    {
      LONG rc = SCardGetStatusChange (context, 1000, &state, 1);

      g_assert_true (rc == SCARD_S_SUCCESS || rc == (LONG) SCARD_E_TIMEOUT);
      if (rc == SCARD_S_SUCCESS)
        {
          gboolean is_present = (state.dwEventState & SCARD_STATE_PRESENT) != 0;

          if (is_present == present)
            return;
          state.dwCurrentState = state.dwEventState & ~SCARD_STATE_CHANGED;
        }
    }
  g_assert_not_reached ();
}
