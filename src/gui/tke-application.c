/* tke-application.c: the tke-gtk application object
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "tke-application.h"
#include "tke-session.h"
#include "tke-window.h"

struct _TkeApplication
{
  AdwApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (TkeApplication, tke_application, ADW_TYPE_APPLICATION)

/**
 * tke_application_get_locale_dir:
 *
 * Where the message catalogues are: $TKE_LOCALEDIR when set; the build
 * tree's po/ when this program runs from a meson build directory
 * (build-aux/demo starts it there); else the installed LOCALEDIR.
 *
 * Returns: (transfer full): the directory
 */
char *
tke_application_get_locale_dir (void)
{
  const char *dir = g_getenv ("TKE_LOCALEDIR");
  g_autofree char *exe = NULL;
  g_autofree char *exe_dir = NULL;

  if (dir != NULL && *dir != '\0')
    return g_strdup (dir);
  exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe != NULL)
    {
      /* BUILD/src/gui/tke-gtk or BUILD/tests/gui/test-…: BUILD has
       * meson-private/ and the compiled catalogues in po/. */
      exe_dir = g_path_get_dirname (exe);
      for (guint up = 0; up < 3; up++)
        {
          g_autofree char *marker = g_build_filename (exe_dir, "meson-private", NULL);
          g_autofree char *parent = NULL;

          if (g_file_test (marker, G_FILE_TEST_IS_DIR))
            return g_build_filename (exe_dir, "po", NULL);
          parent = g_path_get_dirname (exe_dir);
          g_free (exe_dir);
          exe_dir = g_steal_pointer (&parent);
        }
    }
  return g_strdup (LOCALEDIR);
}

/**
 * tke_application_init_i18n:
 *
 * The locale and the text domain, before any window is made.
 */
void
tke_application_init_i18n (void)
{
  g_autofree char *dir = tke_application_get_locale_dir ();

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

TkeApplication *
tke_application_new (void)
{
  return g_object_new (TKE_TYPE_APPLICATION, "application-id", APP_ID, "flags",
                       G_APPLICATION_DEFAULT_FLAGS, "resource-base-path", RESOURCE_PREFIX, NULL);
}

/* The virtual readers of the demo and the tests: their control sockets
 * drive the on-screen PIN pad.  A physical reader has a real pad. */
static void
use_virtual_readers (TkeWindow *window)
{
  const char *dir = g_getenv ("TKE_VIRTUAL_READERS_DIR");
  g_autofree char *reader1 = NULL;
  g_autofree char *reader2 = NULL;

  if (dir == NULL || *dir == '\0')
    return;
  reader1 = g_build_filename (dir, "reader1.ctl", NULL);
  reader2 = g_build_filename (dir, "reader2.ctl", NULL);
  tke_window_set_virtual_readers (window, reader1, reader2);
  /* build-aux/demo: its cards for the readers strip, and the emulator's
   * run-time fault file for the demo menu. */
  tke_window_set_demo (window, g_getenv ("TKE_VIRTUAL_CARDS_DIR"),
                       g_getenv ("TKE_DEMO_FAULTS_FILE"));
}

/* What the session starts (the reader monitor, the keyring lookup and
 * the login it leads to) runs in threads that would share the CPU with
 * the window's first frame, and none of it shows in that frame: it starts
 * once the frame is painted, or a second after the window is realized if
 * nothing is painted by then (a window that starts minimized). */
#define SESSION_START_FALLBACK_MS 1000

typedef struct
{
  TkeSession *session;
  GdkFrameClock *clock;
  gulong painted;
  guint fallback;
} SessionStart;

static void
session_start_free (SessionStart *start)
{
  /* The surface's end may have disposed of its frame clock (and the
   * handler with it) before the window's data goes. */
  if (start->painted != 0 && g_signal_handler_is_connected (start->clock, start->painted))
    g_signal_handler_disconnect (start->clock, start->painted);
  g_clear_handle_id (&start->fallback, g_source_remove);
  g_clear_object (&start->clock);
  g_clear_object (&start->session);
  g_free (start);
}

/* Once: START is the window's data, freed here. */
static void
start_session_now (SessionStart *start)
{
  g_autoptr (TkeSession) session = g_object_ref (start->session);
  TkeWindow *window = tke_session_get_window (session);

  if (window == NULL)
    return;
  g_signal_handlers_disconnect_by_data (window, start);
  g_object_set_data (G_OBJECT (window), "tke-session-start", NULL);
  tke_session_start (session);
}

static void
on_first_paint (GdkFrameClock *clock, SessionStart *start)
{
  start_session_now (start);
}

static void
on_start_fallback (gpointer data)
{
  SessionStart *start = data;

  start->fallback = 0;
  start_session_now (start);
}

static void
on_window_realized (GtkWidget *window, SessionStart *start)
{
  if (start->clock != NULL)
    return;
  start->clock = g_object_ref (gtk_widget_get_frame_clock (window));
  start->painted =
      g_signal_connect (start->clock, "after-paint", G_CALLBACK (on_first_paint), start);
  start->fallback = g_timeout_add_once (SESSION_START_FALLBACK_MS, on_start_fallback, start);
}

/**
 * tke_application_open_window:
 *
 * A window bound to the workstation profile (XDG config dir, or
 * $XDG_CONFIG_HOME/tke/profile): its service, its readers.  Its session
 * starts after the window's first frame.
 */
TkeWindow *
tke_application_open_window (TkeApplication *self)
{
  g_autoptr (TkeWorkstation) workstation = tke_workstation_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  TkeWindow *window = tke_window_new (self);
  TkeSession *session;
  SessionStart *start;

  use_virtual_readers (window);
  if (!tke_workstation_load (workstation, &error))
    tke_window_add_toast (window, error->message);
  session = tke_session_new (window, workstation);
  start = g_new0 (SessionStart, 1);
  start->session = g_object_ref (session);
  g_object_set_data_full (G_OBJECT (window), "tke-session-start", start,
                          (GDestroyNotify) session_start_free);
  g_signal_connect_after (window, "realize", G_CALLBACK (on_window_realized), start);
  return window;
}

/* TKE_REPORT_FIRST_FRAME=FILE, or a file descriptor number: once the
 * window's first frame is painted, write
 * "main=USEC first-frame=USEC cpu=USEC\n" and quit.  The first two are
 * CLOCK_MONOTONIC (g_get_monotonic_time()'s clock, so the caller can
 * subtract the moment it started the process), the last the CPU time the
 * process used so far, all threads (what other processes on a busy
 * machine do not change).  tests/bench/startup-bench measures cold start
 * with it.  Unset, it costs one getenv(). */
static void
report_first_frame (GdkFrameClock *clock, GApplication *app)
{
  const char *target = g_getenv ("TKE_REPORT_FIRST_FRAME");
  gint64 *start = g_object_get_data (G_OBJECT (app), "tke-start-time");
  struct timespec cpu = { 0 };
  g_autofree char *line = NULL;
  guint64 fd;
  int out;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &cpu);
  line = g_strdup_printf ("main=%" G_GINT64_FORMAT " first-frame=%" G_GINT64_FORMAT
                          " cpu=%" G_GINT64_FORMAT "\n",
                          start != NULL ? *start : 0, g_get_monotonic_time (),
                          (gint64) cpu.tv_sec * G_USEC_PER_SEC + cpu.tv_nsec / 1000);
  g_signal_handlers_disconnect_by_func (clock, report_first_frame, app);
  if (g_ascii_string_to_unsigned (target, 10, 3, G_MAXINT, &fd, NULL))
    out = (int) fd;
  else
    out = g_open (target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0 || write (out, line, strlen (line)) != (gssize) strlen (line))
    g_warning ("TKE_REPORT_FIRST_FRAME: cannot write to %s: %s", target, g_strerror (errno));
  if (out >= 0)
    close (out);
  g_application_quit (app);
}

static void
tke_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    window = GTK_WINDOW (tke_application_open_window (TKE_APPLICATION (app)));

  if (g_getenv ("TKE_REPORT_FIRST_FRAME") != NULL)
    {
      gtk_widget_realize (GTK_WIDGET (window));
      g_signal_connect (gtk_widget_get_frame_clock (GTK_WIDGET (window)), "after-paint",
                        G_CALLBACK (report_first_frame), app);
    }
  gtk_window_present (window);
}

static void
on_quit (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
on_about (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));
  const char *developers[] = { _ ("The Trusted Key Entry developers"), NULL };

  adw_show_about_window (parent, "application-name", _ ("Trusted Key Entry"), "application-icon",
                         APP_ID, "version", PACKAGE_VERSION, "developers", developers,
                         "license-type", GTK_LICENSE_GPL_3_0, "comments",
                         _ ("Load, commit and rotate the master keys of HSM crypto units"), NULL);
}

static const GActionEntry app_actions[] = {
  { "quit", on_quit },
  { "about", on_about },
};

static void
tke_application_startup (GApplication *app)
{
  /* One list for the menus and the shortcuts window alike: both show
   * these, so they cannot disagree. */
  static const struct
  {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "win.log-in", { "<Control>l", NULL } },
    { "win.refresh", { "<Control>r", "F5", NULL } },
    { "win.show-help-overlay", { "<Control>question", NULL } },
  };

  G_APPLICATION_CLASS (tke_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action,
                                           accels[i].accels);
}

static void
tke_application_class_init (TkeApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->activate = tke_application_activate;
  app_class->startup = tke_application_startup;
}

static void
tke_application_init (TkeApplication *self)
{
}
