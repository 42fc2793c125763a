/* startup-bench.c: cold start of tke-gtk, from exec to the first frame
 * painted.  A benchmark, not a test.
 *
 * startup-bench [--runs N] [--app PATH] [--renderer NAME]... [--profile fresh|demo]
 *               [--wrap COMMAND]
 *
 * Starts the real tke-gtk binary N times per series on the current
 * display (xvfb-run -a dbus-run-session -- … where there is none) with
 * TKE_REPORT_FIRST_FRAME set: the application writes the monotonic time
 * of main() and of its window's first "after-paint", then quits.  The
 * time from just before the spawn to those moments is the start-up.
 *
 * A series is a profile and a renderer:
 *   fresh  empty XDG config/data/cache dirs: no profile, so the window
 *          shows its not-logged-in state;
 *   demo   the demo's set-up without cards: tke-emulator on a free
 *          loopback port, a profile naming it, the API key in a keyring
 *          of its own (libsecret's file backend): the application has
 *          a service to log in to, as in the demo.
 * and "default" (GSK_RENDERER as inherited), "gl" or "cairo".
 *
 * Each series gets new XDG dirs, XDG_CACHE_HOME included: its first run
 * starts with an empty Mesa shader cache and fontconfig user cache (the
 * first start on a new account), the others find them warm.  The page
 * cache cannot be dropped here, so "first" is as cold as it gets.  The
 * very first start under a new dbus-run-session also pays for starting
 * the accessibility bus.
 *
 * --wrap runs the application under a profiler, e.g.
 *   --wrap 'perf record -g -o /tmp/perf.data' (times then include it).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>

#include "tke-test-emulator.h"

#define RUN_TIMEOUT_S 60

typedef struct
{
  gint64 to_main;  /* spawn → main(), µs */
  gint64 to_frame; /* spawn → first frame, µs */
  gint64 cpu;      /* CPU time of the application until then, µs */
} Run;

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

typedef struct
{
  GSubprocess *process;
  char *err;
  GError *error;
  gboolean done;
} Wait;

static gboolean
on_timeout (gpointer data)
{
  g_subprocess_force_exit (G_SUBPROCESS (data));
  return G_SOURCE_REMOVE;
}

static void
on_communicated (GObject *source, GAsyncResult *result, gpointer data)
{
  Wait *wait = data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, NULL, &wait->err,
                                        &wait->error);
  wait->done = TRUE;
}

/* One start: spawn, wait for the exit the report causes, read it. */
static gboolean
run_once (
    const char *const *argv, const char *const *env, const char *report, Run *run, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  const char *app = argv[g_strv_length ((char **) argv) - 1];
  g_autoptr (GSubprocess) process = NULL;
  g_autofree char *text = NULL;
  g_autofree char *err = NULL;
  Wait wait = { NULL };
  gint64 start, main_at = 0, frame_at = 0, cpu = 0;
  guint timeout;

  g_subprocess_launcher_set_environ (launcher, (char **) env);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_unlink (report);
  start = g_get_monotonic_time ();
  process = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (process == NULL)
    return FALSE;
  timeout = g_timeout_add_seconds (RUN_TIMEOUT_S, on_timeout, process);
  /* Collects stderr while it waits for the exit, so a chatty start never
   * blocks. */
  g_subprocess_communicate_utf8_async (process, NULL, NULL, on_communicated, &wait);
  while (!wait.done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
  err = wait.err;
  if (wait.error != NULL)
    {
      g_propagate_error (error, wait.error);
      return FALSE;
    }
  if (!g_file_get_contents (report, &text, NULL, NULL) ||
      sscanf (text,
              "main=%" G_GINT64_FORMAT " first-frame=%" G_GINT64_FORMAT " cpu=%" G_GINT64_FORMAT,
              &main_at, &frame_at, &cpu) != 3)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s painted no frame (exit status %d; is another instance running?)%s%s", app,
                   g_subprocess_get_status (process), err != NULL && *err != '\0' ? "\n" : "",
                   err != NULL ? err : "");
      return FALSE;
    }
  if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s did not exit cleanly after its first frame%s%s", app,
                   err != NULL && *err != '\0' ? "\n" : "", err != NULL ? err : "");
      return FALSE;
    }
  run->to_main = main_at - start;
  run->to_frame = frame_at - start;
  run->cpu = cpu;
  return TRUE;
}

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* Sorts VALUES. */
static double
median_ms (gint64 *values, guint n)
{
  qsort (values, n, sizeof *values, compare_gint64);
  return (n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2) / 1000.0;
}

/* The first run on its own (cold), the others (warm) as min/median/max. */
static void
print_series (const char *profile, const char *renderer, const Run *runs, guint n)
{
  const Run *warm = n > 1 ? runs + 1 : runs;
  guint n_warm = n > 1 ? n - 1 : 1;
  g_autofree gint64 *frames = g_new (gint64, n_warm);
  g_autofree gint64 *mains = g_new (gint64, n_warm);
  g_autofree gint64 *cpus = g_new (gint64, n_warm);
  double frame_median, main_median, cpu_median;

  for (guint i = 0; i < n_warm; i++)
    {
      frames[i] = warm[i].to_frame;
      mains[i] = warm[i].to_main;
      cpus[i] = warm[i].cpu;
    }
  frame_median = median_ms (frames, n_warm);
  main_median = median_ms (mains, n_warm);
  cpu_median = median_ms (cpus, n_warm);
  printf ("%-7s %-8s %7.0f %5.0f  %7.0f %7.0f %7.0f  %9.0f %5.0f\n", profile, renderer,
          runs[0].to_frame / 1000.0, runs[0].cpu / 1000.0, frames[0] / 1000.0, frame_median,
          frames[n_warm - 1] / 1000.0, main_median, cpu_median);
  fflush (stdout);
}

/* The environment of one series: this one, with new XDG dirs under DIR,
 * the report file and the renderer. */
static char **
series_environ (const char *dir, const char *renderer, const char *report)
{
  char **env = g_get_environ ();
  const char *xdg[] = { "XDG_CONFIG_HOME", "config", "XDG_DATA_HOME",  "data",
                        "XDG_CACHE_HOME",  "cache",  "XDG_STATE_HOME", "state" };

  for (guint i = 0; i < G_N_ELEMENTS (xdg); i += 2)
    {
      g_autofree char *path = g_build_filename (dir, xdg[i + 1], NULL);

      g_mkdir_with_parents (path, 0700);
      env = g_environ_setenv (env, xdg[i], path, TRUE);
    }
  env = g_environ_setenv (env, "TKE_REPORT_FIRST_FRAME", report, TRUE);
  if (!g_str_equal (renderer, "default"))
    env = g_environ_setenv (env, "GSK_RENDERER", renderer, TRUE);
  return env;
}

static gboolean
series (const char *const *argv,
        const char *tmp,
        const char *profile,
        const char *renderer,
        const char *profile_ini,
        guint n_runs,
        GError **error)
{
  g_autofree char *dir = g_strdup_printf ("%s/%s-%s", tmp, profile, renderer);
  g_autofree char *report = g_build_filename (dir, "first-frame", NULL);
  g_auto (GStrv) env = series_environ (dir, renderer, report);
  g_autofree Run *runs = g_new0 (Run, n_runs);

  if (profile_ini != NULL)
    {
      g_autofree char *tke_dir = g_build_filename (dir, "config", "tke", NULL);
      g_autofree char *path = g_build_filename (tke_dir, "profile.ini", NULL);

      g_mkdir_with_parents (tke_dir, 0700);
      if (!g_file_set_contents (path, profile_ini, -1, error))
        return FALSE;
    }
  for (guint i = 0; i < n_runs; i++)
    if (!run_once (argv, (const char *const *) env, report, &runs[i], error))
      return FALSE;
  print_series (profile, renderer, runs, n_runs);
  return TRUE;
}

/* The demo without cards: the service, a profile naming it, its API key
 * in a keyring of the bench's own, which the application inherits. */
static Emu *
start_demo_service (const char *tmp, char **profile_ini, GError **error)
{
  g_autofree char *state = g_build_filename (tmp, "emulator", NULL);
  const char *args[] = { "--init", "demo", "--keys", "3000", NULL };
  Emu *emu = emu_start (state, args);
  g_autoptr (TkeSecret) key =
      tke_secret_new_from_data ((const guint8 *) emu->api_key, strlen (emu->api_key));

  if (!tke_credentials_store (TKE_CREDENTIAL_API_KEY, emu->url, key, NULL, error))
    {
      emu_free (emu);
      return NULL;
    }
  *profile_ini = g_strdup_printf ("[service]\nendpoint=%s\nca-file=%s\ninstance=%s\nunit-root=%s\n",
                                  emu->url, emu->ca_file, emu->instance, emu->unit_root);
  return emu;
}

static void
remove_tree (const char *tmp)
{
  g_autofree char *quoted = g_shell_quote (tmp);
  g_autofree char *cmd = g_strdup_printf ("rm -rf %s", quoted);

  if (system (cmd) != 0)
    g_printerr ("cannot remove %s\n", tmp);
}

int
main (int argc, char **argv)
{
  int runs = 10;
  g_auto (GStrv) profiles = NULL;
  g_autofree char *app = NULL;
  g_autofree char *emulator = NULL;
  g_autofree char *wrap = NULL;
  g_auto (GStrv) renderers = NULL;
  g_auto (GStrv) app_argv = NULL;
  GOptionEntry entries[] = {
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Starts per series (default 10)", "N" },
    { "app", 0, 0, G_OPTION_ARG_FILENAME, &app, "The tke-gtk binary", "PATH" },
    { "emulator", 0, 0, G_OPTION_ARG_FILENAME, &emulator, "The tke-emulator binary", "PATH" },
    { "renderer", 0, 0, G_OPTION_ARG_STRING_ARRAY, &renderers,
      "default (GSK_RENDERER as inherited), gl, cairo… (repeatable; default: default, gl, cairo)",
      "NAME" },
    { "profile", 0, 0, G_OPTION_ARG_STRING_ARRAY, &profiles,
      "fresh or demo (repeatable; default: both)", "NAME" },
    { "wrap", 0, 0, G_OPTION_ARG_STRING, &wrap,
      "Run the application under this command (a profiler)", "COMMAND" },
    { NULL },
  };
  const char *default_renderers[] = { "default", "gl", "cairo", NULL };
  g_autoptr (GOptionContext) context = g_option_context_new ("- tke-gtk start-up benchmark");
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *keyring = NULL;
  g_autofree char *profile_ini = NULL;
  g_autoptr (Emu) emu = NULL;
  const char *const *names;
  gboolean fresh, demo;
  int status = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || runs < 1)
    {
      g_printerr ("%s\n", error != NULL ? error->message : "--runs must be at least 1");
      return 2;
    }
  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_printerr ("startup-bench: no display; run it under xvfb-run -a dbus-run-session --\n");
      return 77; /* skipped */
    }
  if (app == NULL)
    app = g_strdup (TKE_GTK_PATH);
  {
    g_autofree char *quoted = g_shell_quote (app);
    g_autofree char *command = g_strdup_printf ("%s %s", wrap != NULL ? wrap : "", quoted);

    if (!g_shell_parse_argv (command, NULL, &app_argv, &error))
      {
        g_printerr ("--wrap: %s\n", error->message);
        return 2;
      }
  }
  g_setenv ("TKE_EMULATOR", emulator != NULL ? emulator : TKE_EMULATOR_PATH, FALSE);
  /* The schemas of this build, and settings kept in the series' own
   * XDG_CONFIG_HOME (dconf's writer is a service of the person's session
   * that would not see it), unless the caller chose. */
  g_setenv ("GSETTINGS_SCHEMA_DIR", TKE_SCHEMA_DIR, FALSE);
  g_setenv ("GSETTINGS_BACKEND", "keyfile", FALSE);
  fresh = profiles == NULL || g_strv_contains ((const char *const *) profiles, "fresh");
  demo = profiles == NULL || g_strv_contains ((const char *const *) profiles, "demo");
  names = renderers != NULL ? (const char *const *) renderers : default_renderers;

  tmp = g_dir_make_tmp ("tke-startup-bench-XXXXXX", &error);
  g_assert_no_error (error);
  /* libsecret's file backend: the person's keyring is never touched. */
  keyring = g_build_filename (tmp, "keyring", NULL);
  g_setenv ("SECRET_BACKEND", "file", TRUE);
  g_setenv ("SECRET_FILE_TEST_PATH", keyring, TRUE);
  g_setenv ("SECRET_FILE_TEST_PASSWORD", "bench", TRUE);

  printf (
      "tke-gtk: spawn to first frame painted, ms; %d starts per series, the first with empty "
      "caches,\n"
      "min/median/max of the others; cpu = the application's CPU time until its first frame\n\n",
      runs);
  printf ("                   first        warm:                 median\n");
  printf ("profile renderer    wall   cpu      min  median     max  to main()   cpu\n");
  for (guint i = 0; status == 0 && fresh && names[i] != NULL; i++)
    if (!series ((const char *const *) app_argv, tmp, "fresh", names[i], NULL, runs, &error))
      status = 1;
  if (status == 0 && demo)
    {
      emu = start_demo_service (tmp, &profile_ini, &error);
      if (emu == NULL)
        status = 1;
    }
  for (guint i = 0; status == 0 && emu != NULL && names[i] != NULL; i++)
    if (!series ((const char *const *) app_argv, tmp, "demo", names[i], profile_ini, runs, &error))
      status = 1;
  if (emu != NULL)
    emu_stop (emu);
  if (status != 0)
    g_printerr ("startup-bench: %s\n", error->message);
  remove_tree (tmp);
  return status;
}
