/* tke-virtual-readers.c: two virtual PIN-pad readers under a private pcscd
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   tke-virtual-readers --state-dir DIR [--chip-key FILE] [--card1 IMAGE] [--card2 IMAGE]
 *
 * Serves the cards and keypads of readers 1 and 2 (TkeVirtualReader), writes
 * DIR/reader.conf for libifdtkevirtual.so, and starts pcscd on the private
 * socket DIR/pcscd.comm.  pcscd 1.9.9 ignores PCSCLITE_CSOCK_NAME for its own
 * socket, so the socket is handed over by systemd's socket-activation
 * protocol (LISTEN_FDS=1, LISTEN_PID).  Prints "ready …" once PC/SC shows
 * both readers; SIGTERM stops pcscd and cleans up.
 */

#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <winscard.h>

#include "tke-virtual-reader.h"

#define READER_NAME "TKE Virtual PIN Pad Reader"
#define READY_TIMEOUT_S 30
#define PCSCD_RUN_DIR "/run/pcscd"
#define PCSCD_DRIVER_DIR "/usr/lib/pcsc/drivers"

typedef struct
{
  char *state_dir;
  char *socket_path;
  char *cards[2];
  TkeVirtualReader *readers[2];
  GMainLoop *loop;
  GPid pcscd;
  gboolean stopping;
  int status;
} Launcher;

static char *
find_driver (const char *option)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = exe != NULL ? g_path_get_dirname (exe) : NULL;
  g_autofree char *beside =
      dir != NULL ? g_build_filename (dir, "libifdtkevirtual.so", NULL) : NULL;

  if (option != NULL)
    return g_canonicalize_filename (option, NULL);
  /* In a build tree the driver is built next to this program. */
  if (beside != NULL && g_file_test (beside, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&beside);
  return g_build_filename (TKE_PKGLIBDIR, "libifdtkevirtual.so", NULL);
}

static gboolean
check_run_dir (GError **error)
{
  if (g_file_test (PCSCD_RUN_DIR, G_FILE_TEST_IS_DIR))
    return TRUE;
  if (geteuid () == 0 && g_mkdir (PCSCD_RUN_DIR, 0755) == 0)
    return TRUE;
  g_set_error (error, TKE_ERROR, TKE_ERROR_IO,
               _ ("pcscd needs the directory %s, which does not exist and cannot be created by "
                  "this user. Create it once with: sudo install -d -m 755 %s"),
               PCSCD_RUN_DIR, PCSCD_RUN_DIR);
  return FALSE;
}

static gboolean
write_reader_conf (Launcher *self, const char *driver, GError **error)
{
  g_autoptr (GString) conf =
      g_string_new ("# Written by tke-virtual-readers; rewritten at every start.\n");
  g_autofree char *path = g_build_filename (self->state_dir, "reader.conf", NULL);

  if (!g_file_test (driver, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND,
                   _ ("The reader driver %s is missing; name it with --driver."), driver);
      return FALSE;
    }
  for (guint i = 0; i < 2; i++)
    g_string_append_printf (
        conf, "\nFRIENDLYNAME \"%s %u\"\nDEVICENAME %s\nLIBPATH %s\nCHANNELID %u\n", READER_NAME,
        i + 1, tke_virtual_reader_get_link_path (self->readers[i]), driver, i + 1);
  return g_file_set_contents_full (path, conf->str, (gssize) conf->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static int
bind_pcscd_socket (const char *path, GError **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof addr.sun_path)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("The state directory path is too long for a socket."));
      return -1;
    }
  strcpy (addr.sun_path, path);
  unlink (path);
  /* Not close-on-exec: pcscd inherits it as fd 3. */
  fd = socket (AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || chmod (path, 0600) < 0 ||
      listen (fd, 64) < 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("Cannot listen on %s: %s"), path,
                   g_strerror (errno));
      if (fd >= 0)
        close (fd);
      return -1;
    }
  return fd;
}

/* As root, a private mount namespace keeps this pcscd away from real USB
 * readers (no drivers) and from a system pcscd's pid file.  Best effort:
 * where unshare is not allowed, the readers work anyway. */
static void
isolate_child (const char *empty_dir, const char *run_dir)
{
  if (geteuid () != 0 || unshare (CLONE_NEWNS) != 0 ||
      mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    return;
  if (access (PCSCD_DRIVER_DIR, F_OK) == 0)
    (void) mount (empty_dir, PCSCD_DRIVER_DIR, NULL, MS_BIND, NULL);
  (void) mount (run_dir, PCSCD_RUN_DIR, NULL, MS_BIND, NULL);
}

static void
format_pid (char *out, pid_t pid)
{
  char digits[16];
  int n = 0;

  do
    digits[n++] = (char) ('0' + pid % 10);
  while ((pid /= 10) > 0);
  while (n > 0)
    *out++ = digits[--n];
  *out = '\0';
}

static gboolean
spawn_pcscd (Launcher *self, const char *pcscd, int socket_fd, GError **error)
{
  g_autofree char *conf = g_build_filename (self->state_dir, "reader.conf", NULL);
  g_autofree char *log = g_build_filename (self->state_dir, "pcscd.log", NULL);
  g_autofree char *empty_dir = g_build_filename (self->state_dir, "no-usb-drivers", NULL);
  g_autofree char *run_dir = g_build_filename (self->state_dir, "run", NULL);
  char *argv[] = { (char *) pcscd, (char *) "--foreground", (char *) "--config", conf, NULL };
  g_auto (GStrv) env = g_get_environ ();
  char listen_pid[32] = "LISTEN_PID=";
  int log_fd;
  pid_t pid;

  g_mkdir (empty_dir, 0700);
  g_mkdir (run_dir, 0700);
  log_fd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("Cannot write %s."), log);
      return FALSE;
    }
  env = g_environ_setenv (env, "LISTEN_FDS", "1", TRUE);
  env = g_environ_unsetenv (env, "LISTEN_FDNAMES");
  env = g_environ_setenv (env, "LISTEN_PID", "0", TRUE);
  for (char **e = env; *e != NULL; e++)
    if (g_str_has_prefix (*e, "LISTEN_PID="))
      {
        g_free (*e);
        *e = listen_pid; /* filled in by the child, which knows its pid */
      }
  pid = fork ();
  if (pid == 0)
    {
      format_pid (listen_pid + strlen ("LISTEN_PID="), getpid ());
      prctl (PR_SET_PDEATHSIG, SIGTERM);
      isolate_child (empty_dir, run_dir);
      if (dup2 (socket_fd, 3) < 0 || dup2 (log_fd, 1) < 0 || dup2 (log_fd, 2) < 0)
        _exit (127);
      execve (pcscd, argv, env);
      _exit (127);
    }
  close (log_fd);
  /* env's LISTEN_PID entry points at a stack buffer: take it back out before freeing. */
  for (char **e = env; *e != NULL; e++)
    if (*e == listen_pid)
      *e = g_strdup ("LISTEN_PID=");
  if (pid < 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_FAILED, _ ("Cannot start pcscd: %s"),
                   g_strerror (errno));
      return FALSE;
    }
  self->pcscd = pid;
  return TRUE;
}

/* ---- Readiness: both readers (and the cards asked for) seen through PC/SC ---- */

static gboolean
readers_ready (Launcher *self, SCARDCONTEXT context, gboolean *ready)
{
  SCARD_READERSTATE states[3] = { { 0 } };
  char *names = NULL;
  DWORD size = SCARD_AUTOALLOCATE;
  int found = 0;
  LONG rc = SCardListReaders (context, NULL, (LPSTR) &names, &size);

  *ready = FALSE;
  if (rc == SCARD_S_SUCCESS)
    for (char *n = names; *n != '\0'; n += strlen (n) + 1)
      for (guint i = 0; i < 2; i++)
        {
          g_autofree char *prefix = g_strdup_printf ("%s %u ", READER_NAME, i + 1);

          if (g_str_has_prefix (n, prefix) && states[i].szReader == NULL)
            {
              states[i].szReader = n;
              found++;
            }
        }
  states[2].szReader = "\\\\?PnP?\\Notification";
  if (found == 2 && SCardGetStatusChange (context, 0, states, 2) == SCARD_S_SUCCESS)
    {
      *ready = TRUE;
      for (guint i = 0; i < 2; i++)
        if (self->cards[i] != NULL && !(states[i].dwEventState & SCARD_STATE_PRESENT))
          *ready = FALSE;
    }
  if (!*ready)
    {
      /* Wait for a change instead of polling: readers appearing, cards arriving. */
      for (guint i = 0; i < 3; i++)
        states[i].dwCurrentState = states[i].szReader != NULL ? states[i].dwEventState : 0;
      if (found == 2)
        SCardGetStatusChange (context, 1000, states, 2);
      else
        SCardGetStatusChange (context, 1000, states + 2, 1);
    }
  if (names != NULL)
    SCardFreeMemory (context, names);
  return rc == SCARD_S_SUCCESS || rc == SCARD_E_NO_READERS_AVAILABLE;
}

static gboolean
announce_ready (gpointer data)
{
  Launcher *self = data;

  g_print ("ready PCSCLITE_CSOCK_NAME=%s pcscd-pid=%d\n", self->socket_path, (int) self->pcscd);
  fflush (stdout);
  return G_SOURCE_REMOVE;
}

static gboolean
announce_failure (gpointer data)
{
  Launcher *self = data;

  g_printerr (
      _ ("tke-virtual-readers: pcscd did not show both readers within %d s; see %s/pcscd.log\n"),
      READY_TIMEOUT_S, self->state_dir);
  self->status = 1;
  if (!self->stopping)
    {
      self->stopping = TRUE;
      kill (self->pcscd, SIGTERM);
    }
  return G_SOURCE_REMOVE;
}

static gpointer
wait_ready_thread (gpointer data)
{
  Launcher *self = data;
  gint64 deadline = g_get_monotonic_time () + READY_TIMEOUT_S * G_USEC_PER_SEC;
  SCARDCONTEXT context = 0;
  gboolean ready = FALSE;

  while (!ready && g_get_monotonic_time () < deadline)
    {
      if (context == 0 &&
          SCardEstablishContext (SCARD_SCOPE_SYSTEM, NULL, NULL, &context) != SCARD_S_SUCCESS)
        {
          context = 0;
          g_usleep (100 * 1000); /* pcscd still starting: nothing to wait on yet */
          continue;
        }
      if (!readers_ready (self, context, &ready))
        {
          SCardReleaseContext (context);
          context = 0;
        }
    }
  if (context != 0)
    SCardReleaseContext (context);
  g_idle_add (ready ? announce_ready : announce_failure, self);
  return NULL;
}

/* ---- Life cycle ---- */

static void
pcscd_exited (GPid pid, gint wait_status, gpointer data)
{
  Launcher *self = data;

  g_spawn_close_pid (pid);
  if (!self->stopping)
    {
      g_printerr (_ ("tke-virtual-readers: pcscd stopped unexpectedly; see %s/pcscd.log\n"),
                  self->state_dir);
      self->status = 1;
    }
  self->pcscd = 0;
  g_main_loop_quit (self->loop);
}

static gboolean
kill_hard (gpointer data)
{
  Launcher *self = data;

  if (self->pcscd > 0)
    kill (self->pcscd, SIGKILL);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer data)
{
  Launcher *self = data;

  self->stopping = TRUE;
  if (self->pcscd > 0)
    {
      kill (self->pcscd, SIGTERM);
      /* pcscd may be inside a driver call; do not wait for ever. */
      g_timeout_add_seconds (5, kill_hard, self);
    }
  else
    g_main_loop_quit (self->loop);
  return G_SOURCE_CONTINUE;
}

static int
run (Launcher *self, const char *chip_key_path, const char *driver_option, const char *pcscd_option)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) chip_key = NULL;
  g_autofree char *driver = find_driver (driver_option);
  g_autofree char *pcscd = NULL;
  int socket_fd;

  pcscd = pcscd_option != NULL ? g_strdup (pcscd_option) : g_find_program_in_path ("pcscd");
  if (pcscd == NULL && g_file_test ("/usr/sbin/pcscd", G_FILE_TEST_IS_EXECUTABLE))
    pcscd = g_strdup ("/usr/sbin/pcscd");
  if (pcscd == NULL)
    {
      g_printerr (
          _ ("tke-virtual-readers: pcscd is not installed (Debian: apt-get install pcscd).\n"));
      return 1;
    }
  if (!check_run_dir (&error) || g_mkdir_with_parents (self->state_dir, 0700) < 0 ||
      (chip_key = tke_virtual_card_load_chip_key (chip_key_path, TRUE, &error)) == NULL)
    goto fail;
  for (guint i = 0; i < 2; i++)
    if ((self->readers[i] = tke_virtual_reader_new (i + 1, self->state_dir, chip_key, &error)) ==
            NULL ||
        (self->cards[i] != NULL &&
         !tke_virtual_reader_insert (self->readers[i], self->cards[i], &error)))
      goto fail;
  if (!write_reader_conf (self, driver, &error) ||
      (socket_fd = bind_pcscd_socket (self->socket_path, &error)) < 0)
    goto fail;
  if (!spawn_pcscd (self, pcscd, socket_fd, &error))
    goto fail;
  close (socket_fd);

  g_setenv ("PCSCLITE_CSOCK_NAME", self->socket_path, TRUE);
  g_child_watch_add (self->pcscd, pcscd_exited, self);
  g_unix_signal_add (SIGTERM, on_signal, self);
  g_unix_signal_add (SIGINT, on_signal, self);
  g_thread_unref (g_thread_new ("tke-wait-ready", wait_ready_thread, self));
  g_main_loop_run (self->loop);
  return self->status;

fail:
  g_printerr ("tke-virtual-readers: %s\n", error->message);
  return 1;
}

int
main (int argc, char **argv)
{
  g_autofree char *state_dir = NULL;
  g_autofree char *chip_key = NULL;
  g_autofree char *driver = NULL;
  g_autofree char *pcscd = NULL;
  g_autofree char *card1 = NULL;
  g_autofree char *card2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) context = NULL;
  Launcher self = { NULL };
  int status;
  const GOptionEntry entries[] = {
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
      N_ ("Directory for the sockets, reader.conf and pcscd.log"), N_ ("DIR") },
    { "chip-key", 0, 0, G_OPTION_ARG_FILENAME, &chip_key,
      N_ ("The card chip key (default: $TKE_CARD_CHIP_KEY or the user data dir)"), N_ ("FILE") },
    { "card1", 0, 0, G_OPTION_ARG_FILENAME, &card1, N_ ("Insert this card image in reader 1"),
      N_ ("IMAGE") },
    { "card2", 0, 0, G_OPTION_ARG_FILENAME, &card2, N_ ("Insert this card image in reader 2"),
      N_ ("IMAGE") },
    { "driver", 0, 0, G_OPTION_ARG_FILENAME, &driver, N_ ("The pcscd driver libifdtkevirtual.so"),
      N_ ("FILE") },
    { "pcscd", 0, 0, G_OPTION_ARG_FILENAME, &pcscd, N_ ("The pcscd program"), N_ ("FILE") },
    { NULL },
  };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  /* A control client that hangs up must not kill the readers. */
  signal (SIGPIPE, SIG_IGN);

  context = g_option_context_new (_ ("— virtual PIN-pad readers 1 and 2 under a private pcscd"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error) || state_dir == NULL)
    {
      g_printerr ("tke-virtual-readers: %s\n",
                  error != NULL ? error->message : _ ("--state-dir is required"));
      return 2;
    }
  self.state_dir = g_canonicalize_filename (state_dir, NULL);
  self.socket_path = g_build_filename (self.state_dir, "pcscd.comm", NULL);
  self.cards[0] = card1;
  self.cards[1] = card2;
  self.loop = g_main_loop_new (NULL, FALSE);
  if (chip_key == NULL)
    chip_key = tke_virtual_card_default_chip_key_path ();

  status = run (&self, chip_key, driver, pcscd);

  unlink (self.socket_path);
  for (guint i = 0; i < 2; i++)
    if (self.readers[i] != NULL)
      tke_virtual_reader_unlink (self.readers[i]);
  /* The reader threads still hold their readers; the process ends here. */
  g_main_loop_unref (self.loop);
  g_free (self.state_dir);
  g_free (self.socket_path);
  return status;
}
