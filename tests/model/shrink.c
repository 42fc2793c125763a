/* shrink.c: the shortest step sequence that shows a divergence, and
 * --replay (issue 13)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * On a divergence the walk's steps so far (each with every choice made,
 * walk.c's Step) are cut to the failing prefix and shrunk by delta
 * debugging: subsets are replayed, each in a fresh `test-model --replay
 * FILE` (a fresh emulator and model), and kept while they still diverge
 * (exit status 3).  The result is printed as a --replay file and as C for
 * a regression test in walk.c; TKE_MODEL_SHRUNK_FILE names where the file
 * goes (else a temporary file), TKE_MODEL_SHRINK_RUNS caps the replays
 * (default 60).
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "model-private.h"

#define EXIT_DIVERGED 3

static char *
steps_to_text (const Step *steps, guint n)
{
  GString *text = g_string_new ("# tke model steps: op n unit cli\n");

  for (guint i = 0; i < n; i++)
    g_string_append_printf (text, "%s %u %u %d\n", op_names[steps[i].op], steps[i].n, steps[i].unit,
                            steps[i].cli);
  return g_string_free (text, FALSE);
}

static char *
steps_to_c (const Step *steps, guint n)
{
  GString *text = g_string_new ("  static const Step steps[] = {\n");

  for (guint i = 0; i < n; i++)
    g_string_append_printf (text, "    { %s, %u, %u, %s },\n", op_enum_names[steps[i].op],
                            steps[i].n, steps[i].unit, steps[i].cli ? "TRUE" : "FALSE");
  g_string_append (text, "  };\n");
  return g_string_free (text, FALSE);
}

gboolean
shrink_read_steps (const char *path, GArray *steps, GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) words = g_strsplit (g_strstrip (lines[i]), " ", -1);
      Step s = { N_OPS, 0, 0, FALSE };

      if (words[0] == NULL || words[0][0] == '\0' || words[0][0] == '#')
        continue;
      for (guint op = 0; op < N_OPS; op++)
        if (g_str_equal (words[0], op_names[op]))
          s.op = op;
      if (s.op == N_OPS || g_strv_length (words) != 4)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s:%u: not a step: %s", path,
                       i + 1, lines[i]);
          return FALSE;
        }
      s.n = (guint) atoi (words[1]);
      s.unit = (guint) atoi (words[2]) % MAX_UNITS;
      s.cli = atoi (words[3]) != 0;
      g_array_append_val (steps, s);
    }
  return TRUE;
}

/* Replays @steps in a fresh process; TRUE if it diverges. */
static gboolean
replay_diverges (const Step *steps, guint n, const char *dir, guint *runs)
{
  g_autofree char *text = steps_to_text (steps, n);
  g_autofree char *path = g_strdup_printf ("%s/candidate-%u.steps", dir, (*runs)++);
  g_autoptr (GSubprocess) child = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                            &error, "/proc/self/exe", "--replay", path, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait (child, NULL, NULL));
  g_unlink (path);
  return g_subprocess_get_if_exited (child) &&
         g_subprocess_get_exit_status (child) == EXIT_DIVERGED;
}

/* Delta debugging (ddmin, complements only): drops chunks of the
 * sequence while what is left still diverges. */
static void
ddmin (GArray *steps, const char *dir, guint max_runs)
{
  guint chunks = 2, runs = 0;

  while (steps->len >= 2 && runs < max_runs)
    {
      guint size = (steps->len + chunks - 1) / chunks;
      gboolean reduced = FALSE;

      for (guint c = 0; c * size < steps->len && runs < max_runs && !reduced; c++)
        {
          g_autoptr (GArray) rest = g_array_new (FALSE, FALSE, sizeof (Step));

          for (guint i = 0; i < steps->len; i++)
            if (i < c * size || i >= (c + 1) * size)
              g_array_append_val (rest, g_array_index (steps, Step, i));
          if (rest->len > 0 && replay_diverges ((Step *) rest->data, rest->len, dir, &runs))
            {
              g_array_set_size (steps, 0);
              g_array_append_vals (steps, rest->data, rest->len);
              chunks = MAX (chunks - 1, 2);
              reduced = TRUE;
            }
        }
      if (!reduced)
        {
          if (chunks >= steps->len)
            break;
          chunks = MIN (chunks * 2, steps->len);
        }
    }
  g_printerr ("shrinking: %u replays\n", runs);
}

static void
shrink_and_print (Walk *w)
{
  g_autoptr (GArray) steps = g_array_copy (w->trail);
  g_autofree char *dir = g_dir_make_tmp ("tke-model-shrink-XXXXXX", NULL);
  const char *cap = g_getenv ("TKE_MODEL_SHRINK_RUNS");
  const char *out = g_getenv ("TKE_MODEL_SHRUNK_FILE");
  g_autofree char *path = NULL, *text = NULL, *c = NULL;
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);

  g_printerr ("model divergence after %u steps: shrinking the sequence\n", steps->len);
  ddmin (steps, dir, cap != NULL ? (guint) atoi (cap) : 60);
  g_rmdir (dir);
  text = steps_to_text ((Step *) steps->data, steps->len);
  c = steps_to_c ((Step *) steps->data, steps->len);
  path = out != NULL ? g_strdup (out)
                     : g_strdup_printf ("%s/tke-model-%u.steps", g_get_tmp_dir (), w->seed);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_printerr ("shortest failing sequence: %u steps; replay with\n  %s --replay %s\n%s\n"
              "as a regression test (walk.c, like test_replay_example):\n%s",
              steps->len, self != NULL ? self : "test-model", path, text, c);
}

G_NORETURN void
diverge_at (Walk *w, char *what)
{
  static gboolean shrinking;

  g_printerr ("model divergence: %s\n  seed %u after %u steps; reproduce with TKE_MODEL_SEED=%u "
              "TKE_MODEL_STEPS=%u:\n%s",
              what, w->seed, w->n_steps, w->seed, w->n_steps, w->steps->str);
  if (w->replaying)
    {
      cards_stop ();
      exit (EXIT_DIVERGED);
    }
  if (!shrinking && w->trail != NULL && w->trail->len > 0)
    {
      shrinking = TRUE;
      shrink_and_print (w);
    }
  g_error ("model divergence: %s (seed %u, step %u)", what, w->seed, w->n_steps);
}

int
shrink_replay_main (const char *path)
{
  g_autoptr (GArray) steps = g_array_new (FALSE, FALSE, sizeof (Step));
  g_autoptr (GError) error = NULL;
  Walk w = { 0 };

  if (!shrink_read_steps (path, steps, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  walk_init (&w, 0, steps->len > 0 && g_array_index (steps, Step, 0).op == OP_AUTO_INIT);
  w.replaying = TRUE;
  for (guint i = 0; i < steps->len; i++)
    walk_run_step (&w, &g_array_index (steps, Step, i));
  if (g_getenv ("TKE_MODEL_TRACE") != NULL)
    g_print ("%s", w.steps->str);
  g_print ("replayed %u steps: no divergence\n", steps->len);
  walk_clear (&w);
  cards_stop ();
  return 0;
}

/* ---- The shrinker's own test ---- */

static GSubprocess *
spawn_model (const char *shrunk, gboolean bug, GError **error, ...)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  const char *arg;
  va_list args;

  if (bug)
    g_subprocess_launcher_setenv (launcher, "TKE_MODEL_SELFTEST_BUG", "1", TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "TKE_MODEL_SELFTEST_BUG");
  g_subprocess_launcher_setenv (launcher, "TKE_MODEL_SHRUNK_FILE", shrunk, TRUE);
  g_subprocess_launcher_setenv (launcher, "TKE_MODEL_SEED", "11", TRUE);
  g_subprocess_launcher_setenv (launcher, "TKE_MODEL_STEPS", "40", TRUE);
  g_ptr_array_add (argv, "/proc/self/exe");
  va_start (args, error);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  return g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, error);
}

static int
finish (GSubprocess *child, char **output)
{
  g_assert_true (g_subprocess_communicate_utf8 (child, NULL, NULL, output, NULL, NULL));
  return g_subprocess_get_if_exited (child) ? g_subprocess_get_exit_status (child) : -1;
}

/* A deliberate model bug (clear new leaves the register full in the
 * model): a 40-step walk diverges, the shrinker cuts it to at most three
 * steps (load, clear new: two suffice), and replaying those diverges
 * with the bug and passes without it. */
static void
test_shrink_selftest (void)
{
  g_autofree char *dir = g_dir_make_tmp ("tke-model-selftest-XXXXXX", NULL);
  g_autofree char *shrunk = g_build_filename (dir, "shrunk.steps", NULL);
  g_autoptr (GArray) steps = g_array_new (FALSE, FALSE, sizeof (Step));
  g_autoptr (GError) error = NULL;
  g_autofree char *walked = NULL, *bugged = NULL, *clean = NULL;
  gboolean has_clear = FALSE;

  {
    g_autoptr (GSubprocess) walk = spawn_model (shrunk, TRUE, &error, "-p", "/model/seed", NULL);

    g_assert_no_error (error);
    g_assert_cmpint (finish (walk, &walked), !=, 0);
  }
  g_test_message ("%s", walked);
  g_assert_nonnull (strstr (walked, "shortest failing sequence"));
  g_assert_true (shrink_read_steps (shrunk, steps, &error));
  g_assert_no_error (error);
  g_test_message ("shrunk to %u steps", steps->len);
  g_assert_cmpuint (steps->len, >=, 1);
  g_assert_cmpuint (steps->len, <=, 3);
  for (guint i = 0; i < steps->len; i++)
    has_clear |= g_array_index (steps, Step, i).op == OP_CLEAR_NEW ||
                 g_array_index (steps, Step, i).op == OP_CLEAR_CURRENT ||
                 g_array_index (steps, Step, i).op == OP_RESET_UNIT;
  g_assert_true (has_clear);
  {
    g_autoptr (GSubprocess) bug = spawn_model (shrunk, TRUE, &error, "--replay", shrunk, NULL);

    g_assert_no_error (error);
    g_assert_cmpint (finish (bug, &bugged), ==, EXIT_DIVERGED);
    g_assert_nonnull (strstr (bugged, "model divergence"));
  }
  {
    g_autoptr (GSubprocess) fine = spawn_model (shrunk, FALSE, &error, "--replay", shrunk, NULL);

    g_assert_no_error (error);
    g_assert_cmpint (finish (fine, &clean), ==, 0);
  }
  g_unlink (shrunk);
  g_rmdir (dir);
}

void add_shrink_tests (void);

void
add_shrink_tests (void)
{
  /* Not inside the child walks it starts. */
  if (!selftest_bug ())
    g_test_add_func ("/model/shrink-selftest", test_shrink_selftest);
}
