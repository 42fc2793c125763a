/* test-pin-pad.c: the on-screen PIN pad against the real virtual readers
 * (src/gui/tke-virtual-pin-pad.c, tke-pin-prompt.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A private pcscd with the virtual readers runs; tke-card asks the card in
 * reader 2 for a new key part, which needs its PIN typed on the PIN pad
 * (VERIFY_PIN_DIRECT).  The test presses the digits on the on-screen pad,
 * as a person would, and checks what the card said: accepted, or wrong
 * with the tries left.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "tke-application.h"
#include "tke-pin-prompt.h"
#include "tke-test-readers.h"
#include "tke-test-gtk.h"
#include "tke-virtual-pin-pad.h"
#include "tke-window.h"

static TkeReadersFixture fixture;

typedef struct
{
  GSubprocess *process;
  char *output;
  gboolean done;
} CardRun;

static void
on_card_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CardRun *run = user_data;
  g_autoptr (GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &run->output, NULL, &error);
  g_assert_no_error (error);
  run->done = TRUE;
}

/* Starts tke-card on reader 2 without blocking the main loop: it waits
 * for the PIN on the pad. */
static void
card_run_start (CardRun *run, const char *description)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);

  memset (run, 0, sizeof *run);
  run->process =
      g_subprocess_launcher_spawn (launcher, &error, g_getenv ("TKE_CARD"), "--reader", "2",
                                   "gen-keypart", "--description", description, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (run->process, NULL, NULL, on_card_done, run);
}

static gboolean
card_run_done (gpointer data)
{
  return ((CardRun *) data)->done;
}

static void
card_run_finish (CardRun *run, gboolean expect_success, const char *expect_output)
{
  g_assert_true (tke_test_wait_until (card_run_done, run, 30000));
  if (expect_success != g_subprocess_get_successful (run->process) ||
      strstr (run->output, expect_output) == NULL)
    g_error ("tke-card said: %s", run->output);
  g_clear_object (&run->process);
  g_clear_pointer (&run->output, g_free);
}

typedef struct
{
  GtkWindow *window;
  TkePinPrompt *prompt;
  GtkWidget *pad;
} Screen;

static void
screen_open (Screen *s)
{
  g_autofree char *control = g_build_filename (fixture.state_dir, "reader2.ctl", NULL);

  s->window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (s->window, 520, 640);
  s->prompt = TKE_PIN_PROMPT (tke_pin_prompt_new ());
  tke_pin_prompt_set_reader (s->prompt, 2, "the key part card");
  tke_pin_prompt_set_virtual_pad (s->prompt, control);
  gtk_window_set_child (s->window, GTK_WIDGET (s->prompt));
  gtk_window_present (s->window);
  s->pad = tke_pin_prompt_get_pad (s->prompt);
}

static gboolean
replies_reach (gpointer data)
{
  gpointer *args = data;
  return tke_virtual_pin_pad_get_n_replies (args[0]) >= GPOINTER_TO_UINT (args[1]);
}

/* Presses KEYS on the on-screen pad, one button after the other, then OK,
 * and waits until the reader answered every press. */
static void
press (Screen *s, const char *keys)
{
  guint before = tke_virtual_pin_pad_get_n_replies (TKE_VIRTUAL_PIN_PAD (s->pad));
  gpointer args[2] = { s->pad, GUINT_TO_POINTER (before + strlen (keys) + 1) };

  for (const char *k = keys; *k != '\0'; k++)
    {
      char label[2] = { *k, '\0' };
      tke_test_click (tke_test_find_button (s->pad, label));
    }
  tke_test_click (tke_test_find_button (s->pad, "OK"));
  if (!tke_test_wait_until (replies_reach, args, 10000))
    g_error ("the reader answered %u of %u presses; last: %s",
             tke_virtual_pin_pad_get_n_replies (TKE_VIRTUAL_PIN_PAD (s->pad)),
             GPOINTER_TO_UINT (args[1]),
             tke_virtual_pin_pad_get_last_reply (TKE_VIRTUAL_PIN_PAD (s->pad)));
}

/* What the person sees before pressing: the reader asks for the PIN. */
static void
wait_for_pad (Screen *s)
{
  g_autofree char *answer = tke_readers_ctl (&fixture, 2, "wait-prompt 20000");

  g_assert_cmpstr (answer, ==, "ok");
  tke_pin_prompt_set_state (s->prompt, TKE_PIN_PROMPT_ENTER_PIN, "Parts 2", 0);
  g_assert_true (gtk_widget_get_visible (s->pad));
}

static void
test_pad_enters_pin (void)
{
  Screen s;
  CardRun run;

  screen_open (&s);
  tke_pin_prompt_set_state (s.prompt, TKE_PIN_PROMPT_CARD_FOUND, "Parts 2", 0);
  g_assert_false (gtk_widget_get_visible (s.pad));

  card_run_start (&run, "typed on the screen pad");
  wait_for_pad (&s);
  tke_test_flush_widget (GTK_WIDGET (s.window));
  tke_test_save_screenshot (GTK_WIDGET (s.window), "pin-pad-reader-2");

  /* A slip, cleared with the pad's Clear key, then the right PIN. */
  tke_test_click (tke_test_find_button (s.pad, "9"));
  tke_test_click (tke_test_find_button (s.pad, "Clear"));
  {
    gpointer args[2] = { s.pad, GUINT_TO_POINTER (2) };
    g_assert_true (tke_test_wait_until (replies_reach, args, 10000));
    g_assert_cmpstr (tke_virtual_pin_pad_get_last_reply (TKE_VIRTUAL_PIN_PAD (s.pad)), ==, "ok 0");
  }
  press (&s, "222222");
  g_assert_cmpstr (tke_virtual_pin_pad_get_last_reply (TKE_VIRTUAL_PIN_PAD (s.pad)), ==, "ok");
  card_run_finish (&run, TRUE, "Check value");
  tke_pin_prompt_set_state (s.prompt, TKE_PIN_PROMPT_ACCEPTED, "Parts 2", 0);
  g_assert_false (gtk_widget_get_visible (s.pad));
  gtk_window_destroy (s.window);
}

static void
test_pad_wrong_pin (void)
{
  Screen s;
  CardRun run;

  screen_open (&s);
  card_run_start (&run, "never made");
  wait_for_pad (&s);
  press (&s, "999999");
  /* The card answered 63 C2: the wrong-PIN message the prompt shows. */
  card_run_finish (&run, FALSE, "2 tries left");
  tke_pin_prompt_set_state (s.prompt, TKE_PIN_PROMPT_WRONG_PIN, "Parts 2", 2);
  g_assert_cmpstr (tke_pin_prompt_get_title (s.prompt), ==, "Wrong PIN: 2 tries left");
  tke_test_flush_widget (GTK_WIDGET (s.window));
  tke_test_save_screenshot (GTK_WIDGET (s.window), "pin-prompt-wrong-pin");

  /* The right PIN resets the counter for the next test. */
  card_run_start (&run, "after a wrong PIN");
  wait_for_pad (&s);
  press (&s, "222222");
  card_run_finish (&run, TRUE, "Check value");
  gtk_window_destroy (s.window);
}

static void
test_pad_cancel_and_idle (void)
{
  Screen s;
  CardRun run;

  screen_open (&s);
  /* No PIN entry pending: the reader says so and the pad shows it. */
  tke_pin_prompt_set_state (s.prompt, TKE_PIN_PROMPT_ENTER_PIN, "Parts 2", 0);
  {
    gpointer args[2] = { s.pad, GUINT_TO_POINTER (1) };
    tke_test_click (tke_test_find_button (s.pad, "5"));
    g_assert_true (tke_test_wait_until (replies_reach, args, 10000));
  }
  g_assert_nonnull (tke_test_find_label (s.pad, "The reader is not waiting for a PIN now."));

  /* Cancel on the pad ends the entry: the card command fails, nothing changes. */
  card_run_start (&run, "cancelled");
  wait_for_pad (&s);
  {
    guint before = tke_virtual_pin_pad_get_n_replies (TKE_VIRTUAL_PIN_PAD (s.pad));
    gpointer args[2] = { s.pad, GUINT_TO_POINTER (before + 1) };
    tke_test_click (tke_test_find_button (s.pad, "Cancel"));
    g_assert_true (tke_test_wait_until (replies_reach, args, 10000));
  }
  card_run_finish (&run, FALSE, "cancel");
  gtk_window_destroy (s.window);
}

/* ---- The readers strip follows the real readers ---- */

static gboolean
reader_2_says (gpointer data)
{
  gpointer *args = data;
  return g_strcmp0 (tke_readers_bar_get_summary (args[0], 2), args[1]) == 0;
}

static void
test_readers_strip_is_live (void)
{
  g_autoptr (TkeApplication) app = tke_application_new ();
  TkeWindow *window;
  TkeReadersBar *bar;
  g_autofree char *path = tke_readers_path (&fixture, "parts2.card");
  g_autofree char *insert = g_strconcat ("insert ", path, NULL);
  gpointer present[2], absent[2];

  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, NULL);
  window = tke_application_open_window (app);
  bar = tke_window_get_readers_bar (window);
  gtk_window_present (GTK_WINDOW (window));
  present[0] = absent[0] = bar;
  present[1] = "Reader 2: EP11 card “Parts 2”";
  absent[1] = "Reader 2: no card";

  /* The card in reader 2 is read (no PIN) and named. */
  g_assert_true (tke_test_wait_until (reader_2_says, present, 20000));
  g_assert_cmpstr (tke_readers_bar_get_summary (bar, 1), ==, "Reader 1: no card");
  tke_test_save_screenshot (GTK_WIDGET (window), "readers-strip-live");

  /* Out and in again, as a person swaps cards. */
  g_free (tke_readers_ctl (&fixture, 2, "remove"));
  g_assert_true (tke_test_wait_until (reader_2_says, absent, 20000));
  {
    g_autofree char *answer = tke_readers_ctl (&fixture, 2, insert);
    g_assert_cmpstr (answer, ==, "ok");
  }
  g_assert_true (tke_test_wait_until (reader_2_says, present, 20000));
  gtk_window_destroy (GTK_WINDOW (window));
  tke_test_iterate (100);
}

int
main (int argc, char **argv)
{
  const char *const env[] = { "TKE_VIRTUAL_READERS", "TKE_CARD", NULL };
  int status;

  if (!tke_test_gtk_can_run (env))
    return 0;

  tke_readers_fixture_init (&fixture);
  {
    /* The application reads no profile of the person running the tests. */
    g_autofree char *config = tke_readers_path (&fixture, "config");
    g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  }
  tke_test_gtk_init (&argc, &argv);

  {
    const char *ca[] = {
      "create-ca", "--zone-description", "Zone A", "--description", "CA A", "ca.card", NULL
    };
    const char *parts[] = { "create",  "--zone",      "ca.card", "--description",
                            "Parts 2", "parts2.card", NULL };

    g_assert_cmpint (tke_readers_card (&fixture, "111111\n222222\n", ca, NULL), ==, 0);
    g_assert_cmpint (tke_readers_card (&fixture, "111111\n222222\n222222\n", parts, NULL), ==, 0);
  }
  tke_readers_fixture_start (&fixture, NULL, "parts2.card");

  g_test_add_func ("/gui/pin-pad/enters-pin", test_pad_enters_pin);
  g_test_add_func ("/gui/pin-pad/wrong-pin", test_pad_wrong_pin);
  g_test_add_func ("/gui/pin-pad/cancel-and-idle", test_pad_cancel_and_idle);
  g_test_add_func ("/gui/readers/strip-is-live", test_readers_strip_is_live);

  status = g_test_run ();
  tke_readers_fixture_clear (&fixture);
  return status;
}
