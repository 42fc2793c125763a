/* test-ceremony.c: tests of the ceremony views: src/gui/tke-load-wizard.c,
 * tke-pin-prompt.c and tke-rotation-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The test plays the ceremony's part (what libtke's load ceremony and
 * rotation report) and a person's part (the buttons pressed), and checks
 * what the views say at each step.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "tke-load-wizard.h"
#include "tke-rotation-dialog.h"
#include "tke-test-gtk.h"
#include "tke-test-units.h"

typedef struct
{
  guint n_parts;
  guint part;
  TkeKeyPartSource *source;
  gboolean cancelled;
} WizardEvents;

static void
on_parts_chosen (TkeLoadWizard *wizard, guint n_parts, WizardEvents *events)
{
  events->n_parts = n_parts;
}

static void
on_part_chosen (TkeLoadWizard *wizard, guint part, GObject *source, WizardEvents *events)
{
  events->part = part;
  g_set_object (&events->source, TKE_KEY_PART_SOURCE (source));
}

static void
on_cancelled (TkeLoadWizard *wizard, WizardEvents *events)
{
  events->cancelled = TRUE;
}

static void
test_load_wizard (void)
{
  TkeLoadWizard *wizard = tke_load_wizard_new (NULL, TKE_LOAD_WIZARD_LOAD);
  GtkWidget *root = GTK_WIDGET (wizard);
  TkePinPrompt *prompt = tke_load_wizard_get_pin_prompt (wizard);
  WizardEvents events = { 0 };
  g_autoptr (GListStore) parts = g_list_store_new (TKE_TYPE_KEY_PART_SOURCE);
  g_autoptr (GObject) part_a = tke_test_key_part_new ("MK part 1 (2026 rotation)", TEST_VP_C);
  g_autoptr (GObject) part_b = tke_test_key_part_new ("MK part 1b (spare)", TEST_VP_B);
  g_autofree char *vp_groups = tke_vp_format_groups (TEST_VP_B);

  g_signal_connect (wizard, "parts-chosen", G_CALLBACK (on_parts_chosen), &events);
  g_signal_connect (wizard, "part-chosen", G_CALLBACK (on_part_chosen), &events);
  g_signal_connect (wizard, "cancelled", G_CALLBACK (on_cancelled), &events);
  tke_load_wizard_set_virtual_pads (wizard, "/nonexistent/reader1.ctl", "/nonexistent/reader2.ctl");
  gtk_window_present (GTK_WINDOW (wizard));
  tke_test_flush_widget (root);

  /* 2 or 3 parts, nothing else. */
  g_assert_cmpstr (tke_load_wizard_get_page (wizard), ==, "count");
  tke_test_click (tke_test_find_button (root, "3 parts"));
  tke_test_click (tke_test_find_button (root, "Continue"));
  g_assert_cmpuint (events.n_parts, ==, 3);
  g_assert_cmpuint (tke_load_wizard_get_n_parts (wizard), ==, 3);

  /* The administrator's card in reader 1, live as the reader reports it. */
  tke_load_wizard_show_admin_step (wizard, 1, 1);
  g_assert_cmpstr (tke_load_wizard_get_step (wizard), ==, "Step 1: the administrator's signature");
  g_assert_cmpstr (tke_pin_prompt_get_title (prompt), ==,
                   "Insert an administrator card in reader 1");
  g_assert_cmpstr (tke_pin_prompt_get_description (prompt), ==, "Waiting for a card in reader 1…");
  tke_load_wizard_set_pin_state (wizard, TKE_PIN_PROMPT_CARD_FOUND, "Admin 1", 0);
  g_assert_cmpstr (tke_pin_prompt_get_title (prompt), ==, "Card found: “Admin 1”");
  tke_load_wizard_set_pin_state (wizard, TKE_PIN_PROMPT_ENTER_PIN, "Admin 1", 0);
  g_assert_cmpstr (tke_pin_prompt_get_title (prompt), ==,
                   "Enter the PIN on the PIN pad of reader 1");
  /* A PIN pad is cancelled on the pad: the prompt says so, and the
   * wizard's Cancel is off meanwhile. */
  g_assert_nonnull (
      tke_test_find_label (root, "The PIN entry can only be cancelled on the PIN pad: press its "
                                 "Cancel key. The application cannot stop it."));
  g_assert_false (gtk_widget_is_sensitive (tke_test_find_button (root, "Cancel")));
  g_assert_true (gtk_widget_get_visible (tke_pin_prompt_get_pad (prompt)));
  tke_test_flush_widget (root);
  tke_test_iterate (400);
  tke_test_save_screenshot (root, "wizard-pin-prompt");

  tke_load_wizard_set_pin_state (wizard, TKE_PIN_PROMPT_WRONG_PIN, "Admin 1", 2);
  g_assert_cmpstr (tke_pin_prompt_get_title (prompt), ==, "Wrong PIN: 2 tries left");
  tke_load_wizard_set_pin_state (wizard, TKE_PIN_PROMPT_WRONG_PIN, "Admin 1", 1);
  g_assert_cmpstr (tke_pin_prompt_get_title (prompt), ==, "Wrong PIN: 1 try left");
  tke_test_save_screenshot (root, "wizard-wrong-pin");
  tke_load_wizard_set_pin_state (wizard, TKE_PIN_PROMPT_ACCEPTED, "Admin 1", 0);
  g_assert_cmpstr (tke_pin_prompt_get_title (prompt), ==, "PIN accepted");
  g_assert_true (gtk_widget_is_sensitive (tke_test_find_button (root, "Cancel")));

  /* Part 1: the card in reader 2, the part chosen from its list. */
  tke_load_wizard_show_part_step (wizard, 1);
  g_assert_cmpstr (tke_load_wizard_get_step (wizard), ==, "Step 3 of 5: key part 1 of 3");
  g_assert_cmpstr (tke_pin_prompt_get_title (prompt), ==,
                   "Insert the card with key part 1 in reader 2");
  tke_load_wizard_set_pin_state (wizard, TKE_PIN_PROMPT_CARD_FOUND, "Parts 1", 0);
  g_list_store_append (parts, part_a);
  g_list_store_append (parts, part_b);
  tke_load_wizard_set_card_parts (wizard, "Parts 1", G_LIST_MODEL (parts));
  tke_test_flush_widget (root);
  g_assert_nonnull (tke_test_find_label (root, "MK part 1b (spare)"));
  g_assert_nonnull (tke_test_find_label_containing (root, "0123 4567 89ab cdef"));
  g_assert_cmpstr (tke_pin_prompt_get_description (prompt), ==,
                   "Choose what to load from the card's list below.");
  g_assert_false (gtk_widget_get_visible (tke_pin_prompt_get_pad (prompt)));
  tke_test_save_screenshot (root, "wizard-choose-part");
  tke_load_wizard_choose_part (wizard, 1);
  tke_test_click (tke_test_find_button (root, "Load This Part"));
  g_assert_cmpuint (events.part, ==, 1);
  g_assert_true (events.source == TKE_KEY_PART_SOURCE (part_b));
  tke_load_wizard_set_pin_state (wizard, TKE_PIN_PROMPT_ENTER_PIN, "Parts 1", 0);
  tke_load_wizard_set_pin_state (wizard, TKE_PIN_PROMPT_ACCEPTED, "Parts 1", 0);
  tke_load_wizard_show_part_loaded (wizard, 1, TEST_VP_B);
  g_assert_nonnull (tke_test_find_label_containing (
      root, "Key part 1 is sealed to every selected crypto unit; the units load the parts "
            "together once all are in. Its check value:\n9a8b 7c6d"));

  /* A blocked card says what to do. */
  tke_load_wizard_show_part_step (wizard, 2);
  tke_load_wizard_set_pin_state (wizard, TKE_PIN_PROMPT_BLOCKED, "Parts 2", 0);
  g_assert_cmpstr (tke_pin_prompt_get_title (prompt), ==, "The card is blocked");
  g_assert_nonnull (strstr (tke_pin_prompt_get_description (prompt), "zone's CA card"));

  /* The end: the register's state and the new VP. */
  tke_load_wizard_show_result (wizard, "Full Uncommitted", TEST_VP_B);
  g_assert_cmpstr (tke_load_wizard_get_page (wizard), ==, "result");
  g_assert_nonnull (tke_test_find_label (root, vp_groups));
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard), "New register: Full Uncommitted"));
  tke_test_iterate (400);
  tke_test_save_screenshot (root, "wizard-result");
  g_assert_false (events.cancelled);
  g_clear_object (&events.source);
  tke_test_click (tke_test_find_button (root, "Done"));
  tke_test_iterate (50);
}

static void
test_commit_wizard_and_cancel (void)
{
  TkeLoadWizard *wizard = tke_load_wizard_new (NULL, TKE_LOAD_WIZARD_COMMIT);
  GtkWidget *root = GTK_WIDGET (wizard);
  WizardEvents events = { 0 };

  g_signal_connect (wizard, "cancelled", G_CALLBACK (on_cancelled), &events);
  gtk_window_present (GTK_WINDOW (wizard));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (wizard)), ==, "Commit the New Master Key");
  tke_load_wizard_show_admin_step (wizard, 2, 2);
  g_assert_cmpstr (tke_load_wizard_get_step (wizard), ==,
                   "Administrator 2 of 2: one signature for every crypto unit");
  /* Waiting for a card can be cancelled from here. */
  tke_test_click (tke_test_find_button (root, "Cancel"));
  g_assert_true (events.cancelled);
  tke_test_iterate (50);
}

/* ---- The rotation dialog ---- */

static TkeRotationStatus *
status_at (TkeRotationState state, guint64 done, guint64 total, guint n_messages)
{
  const char *messages[] = { TKE_ROTATION_MESSAGE_STARTED, TKE_ROTATION_MESSAGE_REWRAPPED,
                             TKE_ROTATION_MESSAGE_SUCCESSFUL };
  TkeRotationStatus *status = tke_rotation_status_new (state, TEST_VP_B, done, total);
  g_autoptr (GDateTime) now = g_date_time_new_utc (2026, 11, 23, 14, 31, 7);

  for (guint i = 0; i < n_messages; i++)
    {
      g_autoptr (GDateTime) t = g_date_time_add_seconds (now, 20.0 * i);
      tke_rotation_status_add_message (status, t, messages[i]);
    }
  return status;
}

static void
on_cancel_requested (TkeRotationDialog *dialog, gboolean *requested)
{
  *requested = TRUE;
}

static void
test_rotation_dialog (void)
{
  TkeRotationDialog *dialog = tke_rotation_dialog_new (NULL);
  GtkWidget *root = GTK_WIDGET (dialog);
  gboolean cancel_requested = FALSE;
  GtkWidget *stop;

  g_signal_connect (dialog, "cancel-requested", G_CALLBACK (on_cancel_requested),
                    &cancel_requested);
  gtk_window_present (GTK_WINDOW (dialog));
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (dialog)));

  {
    g_autoptr (TkeRotationStatus) s = status_at (TKE_ROTATION_STATE_REWRAPPING, 1200, 3000, 1);
    tke_rotation_dialog_update (dialog, s);
    tke_rotation_dialog_set_cancel_safe (dialog, TRUE, NULL);
  }
  g_assert_cmpuint (tke_rotation_dialog_get_n_messages (dialog), ==, 1);
  g_assert_cmpstr (tke_rotation_dialog_get_message (dialog, 0), ==, "Master key rotation started.");
  g_assert_cmpstr (tke_rotation_dialog_get_progress_text (dialog), ==,
                   "1200 of 3000 keys rewrapped");
  g_assert_nonnull (tke_test_find_label (root, "Master key rotation started."));
  stop = tke_test_find_button (root, "Stop Rotation");
  g_assert_true (gtk_widget_is_sensitive (stop));
  /* Escape does not close it while keys are rewrapped. */
  g_assert_true (tke_rotation_dialog_get_finished (dialog) == FALSE);
  gtk_window_close (GTK_WINDOW (dialog));
  g_assert_true (gtk_widget_get_visible (root));
  g_assert_false (gtk_widget_is_sensitive (tke_test_find_button (root, "Close")));
  tke_test_flush_widget (root);
  tke_test_save_screenshot (root, "rotation-progress");

  /* Past the rewrap, stopping is no longer safe: the rotation says so. */
  {
    g_autoptr (TkeRotationStatus) s = status_at (TKE_ROTATION_STATE_REWRAPPED, 3000, 3000, 2);
    tke_rotation_dialog_update (dialog, s);
    tke_rotation_dialog_set_cancel_safe (
        dialog, FALSE, "The keys are rewrapped: the units are being switched to the new key.");
  }
  g_assert_false (gtk_widget_is_sensitive (stop));
  g_assert_cmpstr (tke_rotation_dialog_get_message (dialog, 1), ==,
                   "KMS CRK rewrap successful, waiting on cryptounit-mk-setimm.");
  g_assert_nonnull (tke_test_find_label (
      root, "The keys are rewrapped: the units are being switched to the new key."));
  tke_test_flush_widget (root);
  tke_test_save_screenshot (root, "rotation-rewrapped");

  {
    g_autoptr (TkeRotationStatus) s = status_at (TKE_ROTATION_STATE_COMPLETE, 3000, 3000, 3);
    tke_rotation_dialog_update (dialog, s);
  }
  g_assert_cmpuint (tke_rotation_dialog_get_n_messages (dialog), ==, 3);
  g_assert_cmpstr (tke_rotation_dialog_get_message (dialog, 2), ==,
                   "Master key rotation successful.");
  g_assert_true (tke_rotation_dialog_get_finished (dialog));
  g_assert_false (gtk_widget_get_visible (stop));
  g_assert_false (cancel_requested);
  tke_test_flush_widget (root);
  tke_test_save_screenshot (root, "rotation-complete");
  tke_test_click (tke_test_find_button (root, "Close"));
  tke_test_iterate (50);
}

static void
test_rotation_dialog_failure_and_stop (void)
{
  TkeRotationDialog *dialog = tke_rotation_dialog_new (NULL);
  GtkWidget *root = GTK_WIDGET (dialog);
  gboolean cancel_requested = FALSE;

  g_signal_connect (dialog, "cancel-requested", G_CALLBACK (on_cancel_requested),
                    &cancel_requested);
  gtk_window_present (GTK_WINDOW (dialog));
  {
    g_autoptr (TkeRotationStatus) s = status_at (TKE_ROTATION_STATE_REWRAPPING, 10, 3000, 1);
    tke_rotation_dialog_update (dialog, s);
    tke_rotation_dialog_set_cancel_safe (dialog, TRUE, NULL);
  }
  tke_test_click (tke_test_find_button (root, "Stop Rotation"));
  g_assert_true (cancel_requested);
  /* Stopping: the button goes rather than stay greyed. */
  g_assert_null (tke_test_find_button (root, "Stop Rotation"));
  {
    g_autoptr (TkeRotationStatus) s = status_at (TKE_ROTATION_STATE_FAILED, 1000, 3000, 1);
    tke_rotation_status_set_error_message (
        s, "injected_fault: the rewrap worker stopped after 1000 keys");
    tke_rotation_dialog_update (dialog, s);
  }
  g_assert_nonnull (tke_test_find_label (
      root, "The rotation stopped: injected_fault: the rewrap worker stopped after 1000 keys"));
  g_assert_true (tke_rotation_dialog_get_finished (dialog));
  tke_test_click (tke_test_find_button (root, "Close"));
  tke_test_iterate (50);
}

/* Issue 14 item 4: the time left comes from the service's pace and the
 * real number of keys, not a fixed "about a minute for 3 000 keys". */
static void
test_rotation_time_left (void)
{
  const guint64 totals[] = { 200000, 3000 };
  const char *expected[] = { "minutes left", "seconds left" };

  for (guint i = 0; i < G_N_ELEMENTS (totals); i++)
    {
      TkeRotationDialog *dialog = tke_rotation_dialog_new (NULL);
      const char *text;

      gtk_window_present (GTK_WINDOW (dialog));
      {
        g_autoptr (TkeRotationStatus) s =
            status_at (TKE_ROTATION_STATE_REWRAPPING, 1000, totals[i], 1);
        tke_rotation_dialog_update (dialog, s);
      }
      /* No pace yet: no guess. */
      g_assert_null (strstr (tke_rotation_dialog_get_progress_text (dialog), "left"));
      tke_test_iterate (1200);
      {
        g_autoptr (TkeRotationStatus) s =
            status_at (TKE_ROTATION_STATE_REWRAPPING, 2000, totals[i], 1);
        tke_rotation_dialog_update (dialog, s);
      }
      text = tke_rotation_dialog_get_progress_text (dialog);
      g_test_message ("%" G_GUINT64_FORMAT " keys: %s", totals[i], text);
      g_assert_true (g_str_has_prefix (text, "2000 of "));
      g_assert_nonnull (strstr (text, expected[i]));
      g_assert_null (strstr (text, "about a minute"));
      gtk_window_destroy (GTK_WINDOW (dialog));
    }
}

int
main (int argc, char **argv)
{
  if (!tke_test_gtk_can_run (NULL))
    return 0;

  tke_test_gtk_init (&argc, &argv);

  g_test_add_func ("/gui/wizard/load", test_load_wizard);
  g_test_add_func ("/gui/wizard/commit-and-cancel", test_commit_wizard_and_cancel);
  g_test_add_func ("/gui/rotation/dialog", test_rotation_dialog);
  g_test_add_func ("/gui/rotation/failure-and-stop", test_rotation_dialog_failure_and_stop);
  g_test_add_func ("/gui/rotation/time-left", test_rotation_time_left);

  return g_test_run ();
}
