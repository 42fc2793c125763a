/* test-rotation-cards.c: a master key rotation through the widgets, with an
 * administrator card and its PIN typed on the on-screen PIN pad
 * (src/gui/tke-session.c's rotation, tke-rotation-dialog.c,
 * tke-prompted-signer.c, tke-recovery-page.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A real tke-emulator serves a demo instance over HTTPS; a private pcscd
 * runs the two virtual PIN-pad readers with an administrator card (made
 * with tke-card) in reader 1, installed as an administrator of every unit.
 * The test presses what a person presses: Rotate…, Rotate in the
 * confirmation, the PIN's digits on the virtual pad's buttons; after a
 * rewrap that failed (the emulator's fault injection), the recovery page's
 * one button.  What it checks is what the service holds afterwards: the
 * new master key current (Valid) on every unit.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>
#include <glib/gstdio.h>

#include "rotation-cards-fixture.h"
#include "tke-test-emulator.h"
#include "tke-application.h"
#include "tke-login-dialog.h"
#include "tke-pin-prompt.h"
#include "tke-test-readers.h"
#include "tke-rotation-dialog.h"
#include "tke-test-gtk.h"
#include "tke-test-util.h"
#include "tke-virtual-pin-pad.h"
#include "tke-window.h"

static void
test_whole_rotation (Fixture *f, gconstpointer user_data)
{
  TkeRotationDialog *dialog;
  TkePinPrompt *prompt;

  fixture_start (f, (const char *const[]){ "--init", "demo", "--keys", "3000", NULL });
  click_rotate (f);
  dialog = rotation_dialog ();
  g_assert_nonnull (dialog);
  prompt = tke_rotation_dialog_get_pin_prompt (dialog);

  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  g_assert_cmpstr (tke_rotation_dialog_get_message (dialog, 0), ==, TKE_ROTATION_MESSAGE_STARTED);
  g_assert_cmpstr (tke_rotation_dialog_get_message (dialog, 1), ==, TKE_ROTATION_MESSAGE_REWRAPPED);
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (dialog), "3000 of 3000 keys rewrapped"));
  g_assert_cmpstr (tke_pin_prompt_get_title (prompt), ==,
                   "Enter the PIN on the PIN pad of reader 1");
  /* The PIN entry is cancelled on the pad, not here: no Stop button
   * that could never be pressed. */
  g_assert_null (tke_test_find_button (GTK_WIDGET (dialog), "Stop Rotation"));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  /* The service's messages and the pad, both without scrolling, and the
   * reader's time-out counted down. */
  g_assert_true (in_view (
      dialog, tke_test_find_widget_of_type (GTK_WIDGET (dialog), GTK_TYPE_LIST_BOX, NULL, NULL)));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-card-pin-prompt");
  g_assert_true (in_view (dialog, tke_pin_prompt_get_pad (prompt)));
  g_assert_nonnull (strstr (tke_pin_prompt_get_countdown_text (prompt), "seconds left"));

  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  g_assert_cmpuint (tke_rotation_dialog_get_n_unit_results (dialog), ==, 3);
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (dialog), "Crypto unit 2"));
  g_assert_cmpint (tke_pin_prompt_get_state (prompt), ==, TKE_PIN_PROMPT_ACCEPTED);
  g_assert_cmpstr (
      tke_rotation_dialog_get_message (dialog, tke_rotation_dialog_get_n_messages (dialog) - 1), ==,
      TKE_ROTATION_MESSAGE_SUCCESSFUL);
  /* The headline is the outcome; what was under way is gone. */
  g_assert_cmpstr (tke_rotation_dialog_get_headline (dialog), ==, "The rotation is complete.");
  g_assert_false (shows_label_containing (GTK_WIDGET (dialog), "Set immediate now makes"));
  g_assert_false (shows_label_containing (GTK_WIDGET (dialog), "PIN accepted"));
  g_assert_true (
      shows_label_containing (GTK_WIDGET (dialog), "Set immediate done: the new master key"));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-card-done");
  assert_rotated (f);
  assert_dialog_report (dialog, "rotate", "  ok", "rotation-card-report");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
}

static gboolean
rotate_enabled (gpointer data)
{
  Fixture *f = data;
  const char *reason = tke_master_keys_page_get_disabled_reason (
      tke_window_get_master_keys_page (f->window), "rotate");

  return reason == NULL && units_shown (f);
}

/* Issue 13: the first, second and third rotation of an instance in a row,
 * each from Rotate… to the card's PIN, each dialog showing the service's
 * three messages in order, once (the second and later ones used to show
 * none: the count seen started at the previous rotation's). */
static void
test_three_in_a_row (Fixture *f, gconstpointer data)
{
  static const char *const expected[] = { TKE_ROTATION_MESSAGE_STARTED,
                                          TKE_ROTATION_MESSAGE_REWRAPPED,
                                          TKE_ROTATION_MESSAGE_SUCCESSFUL };

  fixture_start (f, (const char *const[]){ "--init", "demo", "--keys", "300", NULL });
  for (guint round = 1; round <= 3; round++)
    {
      TkeRotationDialog *dialog;

      if (round > 1)
        {
          g_free (f->vp);
          emu_login (f->emu);
          f->vp = emu_commit_new_key (f->emu);
          gtk_widget_activate_action (GTK_WIDGET (f->window), "win.refresh", NULL);
          g_assert_true (tke_test_wait_until (rotate_enabled, f, 30000));
        }
      click_rotate (f);
      dialog = rotation_dialog ();
      g_assert_nonnull (dialog);
      g_assert_true (
          tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
      press_on_pad (dialog, ADMIN_PIN, "OK");
      g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
      g_test_message ("rotation %u: %u messages", round,
                      tke_rotation_dialog_get_n_messages (dialog));
      g_assert_cmpuint (tke_rotation_dialog_get_n_messages (dialog), ==, 3);
      for (guint i = 0; i < 3; i++)
        g_assert_cmpstr (tke_rotation_dialog_get_message (dialog, i), ==, expected[i]);
      g_assert_cmpstr (tke_rotation_dialog_get_headline (dialog), ==, "The rotation is complete.");
      assert_rotated (f);
      if (round == 3)
        {
          tke_test_iterate (200);
          tke_test_flush_widget (GTK_WIDGET (dialog));
          tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-third-in-a-row");
        }
      tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
      tke_test_iterate (50);
    }
}

static gboolean
recovery_is (gpointer data)
{
  gpointer *args = data;
  Fixture *f = args[0];

  return tke_recovery_page_get_action (tke_window_get_recovery_page (f->window)) ==
         (TkeRecoveryAction) GPOINTER_TO_INT (args[1]);
}

/* The recovery page: the advisor's words, the table, one button. */
static void
assert_recovery_page (Fixture *f,
                      TkeRecoveryAction action,
                      const char *button,
                      const char *screenshot)
{
  gpointer args[2] = { f, GINT_TO_POINTER (action) };
  GtkWidget *page = GTK_WIDGET (tke_window_get_recovery_page (f->window));

  g_assert_true (tke_test_wait_until (recovery_is, args, 30000));
  tke_test_iterate (300);
  tke_test_flush_widget (GTK_WIDGET (f->window));
  g_assert_true (gtk_widget_get_mapped (page));
  g_assert_cmpuint (tke_test_count_drawn_buttons (page), ==, 1);
  g_assert_nonnull (tke_test_find_button (page, button));
  tke_test_save_screenshot (GTK_WIDGET (f->window), screenshot);
}

static gboolean
page_says (gpointer data)
{
  gpointer *args = data;
  TkeWindow *window = args[1];

  return tke_test_find_label_containing (GTK_WIDGET (tke_window_get_recovery_page (window)),
                                         args[0]) != NULL;
}

/* (b) The rewrap fails half-way (injected): the recovery page offers
 * only Rotate Again; pressed, it resumes, and (c) a wrong PIN on the pad
 * says how many tries are left and asks again; the right one finishes. */
static void
test_recovery_after_failed_rewrap (Fixture *f, gconstpointer user_data)
{
  TkeRotationDialog *dialog;
  TkePinPrompt *prompt;

  fixture_start (f, (const char *const[]){ "--init", "demo", "--keys", "3000", "--fail-after-keys",
                                           "1000", NULL });
  click_rotate (f);
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  dialog = rotation_dialog ();
  g_assert_nonnull (strstr (tke_rotation_dialog_get_outcome (dialog),
                            "The rotation stopped: The rewrap of the key storage stopped"));
  /* The advisor's conclusion is in the dialog too. */
  g_assert_nonnull (strstr (tke_rotation_dialog_get_outcome (dialog), "\n\n"));
  g_assert_cmpuint (tke_rotation_dialog_get_n_unit_results (dialog), ==, 0);
  /* The service's messages stay: the rotation's start, at least (issue 14
   * item 3: the list was empty after a failed rewrap). */
  g_test_message ("failed rewrap: %u messages", tke_rotation_dialog_get_n_messages (dialog));
  g_assert_cmpuint (tke_rotation_dialog_get_n_messages (dialog), >=, 1);
  g_assert_cmpstr (tke_rotation_dialog_get_message (dialog, 0), ==, TKE_ROTATION_MESSAGE_STARTED);
  /* The headline no longer says the service is at work. */
  g_test_message ("failed rewrap: %s", tke_rotation_dialog_get_headline (dialog));
  g_assert_null (strstr (tke_rotation_dialog_get_headline (dialog), "is re-encrypting"));
  g_assert_nonnull (strstr (tke_rotation_dialog_get_headline (dialog), "The rotation stopped"));
  g_assert_null (tke_test_find_button (GTK_WIDGET (dialog), "Stop Rotation"));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-failed-rewrap");
  assert_dialog_report (dialog, "rotate", "  failed", "rotation-failed-report");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));

  /* As if this workstation had stopped during the rewrap: the journal's
   * last ceremony has no end; the page names it. */
  {
    g_autoptr (TkeJournal) journal = tke_journal_new (NULL);
    g_autoptr (GPtrArray) units = g_ptr_array_new_with_free_func (g_object_unref);
    GListModel *model = tke_crypto_units_page_get_units (tke_window_get_units_page (f->window));
    g_autoptr (GError) error = NULL;

    for (guint i = 0; i < g_list_model_get_n_items (model); i++)
      g_ptr_array_add (units, g_list_model_get_item (model, i));
    g_assert_true (
        tke_journal_begin (journal, "rotate", f->emu->instance, units, NULL, f->vp, &error));
    g_assert_true (tke_journal_append (journal, TKE_JOURNAL_STEP_REWRAP, TKE_JOURNAL_OUTCOME_BEGIN,
                                       NULL, &error));
    g_assert_no_error (error);
    gtk_widget_activate_action (GTK_WIDGET (f->window), "win.refresh", NULL);
  }
  assert_recovery_page (f, TKE_RECOVERY_ACTION_RESUME_ROTATE, "Rotate Again",
                        "rotation-recovery-page");
  {
    gpointer args[2] = {
      (gpointer) "The “rotate” ceremony did not finish: its last step in the journal", f->window
    };
    g_assert_true (tke_test_wait_until (page_says, args, 20000));
  }
  g_assert_nonnull (tke_test_find_label_containing (
      GTK_WIDGET (tke_window_get_recovery_page (f->window)), "is “rewrap”, at"));
  tke_test_flush_widget (GTK_WIDGET (f->window));
  tke_test_save_screenshot (GTK_WIDGET (f->window), "rotation-recovery-page");
  tke_test_click (
      tke_test_find_button (GTK_WIDGET (tke_window_get_recovery_page (f->window)), "Rotate Again"));
  dialog = rotation_dialog ();
  g_assert_nonnull (dialog);
  prompt = tke_rotation_dialog_get_pin_prompt (dialog);
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (dialog), "3000 of 3000 keys rewrapped"));

  press_on_pad (dialog, "999999", "OK");
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_WRONG_PIN), 20000));
  g_assert_cmpstr (tke_pin_prompt_get_title (prompt), ==, "Wrong PIN: 2 tries left");
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (dialog), "Wrong PIN: 2 tries left"));
  g_assert_false (tke_rotation_dialog_get_finished (dialog));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-card-wrong-pin");

  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  assert_rotated (f);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
  {
    gpointer args[2] = { f, GINT_TO_POINTER (TKE_RECOVERY_ACTION_NONE) };
    g_assert_true (tke_test_wait_until (recovery_is, args, 30000));
  }
}

/* The PIN entry cancelled on the pad: nothing is sent, the rotation stops
 * with the keys rewrapped, and the recovery page offers Set Immediate only;
 * pressed, it asks for the card again and finishes. */
static void
test_pin_cancelled_then_set_immediate (Fixture *f, gconstpointer user_data)
{
  TkeRotationDialog *dialog;

  fixture_start (f, (const char *const[]){ "--init", "demo", "--keys", "500", NULL });
  click_rotate (f);
  dialog = rotation_dialog ();
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  press_on_pad (dialog, "", "Cancel");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_assert_cmpint (tke_pin_prompt_get_state (tke_rotation_dialog_get_pin_prompt (dialog)), ==,
                   TKE_PIN_PROMPT_CANCELLED);
  g_assert_cmpuint (tke_rotation_dialog_get_n_unit_results (dialog), ==, 3);
  g_assert_nonnull (
      tke_test_find_label_containing (GTK_WIDGET (dialog), "cancelled on the PIN pad of reader 1"));
  /* A deliberate Cancel is no failure of the units. */
  g_assert_null (tke_test_find_label_containing (GTK_WIDGET (dialog), "FAILED"));
  g_assert_null (tke_test_find_label_containing (GTK_WIDGET (dialog), "failed"));
  g_assert_true (shows_label_containing (GTK_WIDGET (dialog), "Not set yet: "));
  g_assert_nonnull (strstr (tke_rotation_dialog_get_headline (dialog), "was not sent"));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-pin-cancelled");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));

  assert_recovery_page (f, TKE_RECOVERY_ACTION_SET_IMMEDIATE, "Set Immediate",
                        "rotation-recovery-set-immediate");
  tke_test_click (tke_test_find_button (GTK_WIDGET (tke_window_get_recovery_page (f->window)),
                                        "Set Immediate"));
  dialog = rotation_dialog ();
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  assert_rotated (f);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
}

/* The emulator again on the same state and port, without the fault it
 * was started with: the service mended.  Its tokens are gone with it, so
 * the person logs in again. */
static void
restart_emulator (Fixture *f)
{
  g_autofree char *state = g_build_filename (f->dir, "state", NULL);
  const char *port = strrchr (f->emu->url, ':') + 1;
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%d", atoi (port));

  emu_stop (f->emu);
  g_clear_pointer (&f->emu, emu_free);
  f->emu = emu_start (state, (const char *const[]){ "--listen", listen, NULL });
  emu_login (f->emu);
  tke_test_log_in (GTK_WIDGET (f->window), f->emu->api_key);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.refresh", NULL);
  g_assert_true (tke_test_wait_until (units_shown, f, 30000));
}

/* Row 4 of DESIGN §5 with the real fault (--fail-setimm-on 2): set
 * immediate fails on unit 2 after units 1 and 3 switched.  The recovery
 * page names the one safe action, leaving out the switched units; once
 * the service works again, its one button finishes unit 2, and every
 * unit ends on the one new key. */
static void
test_setimm_failed_on_one_unit (Fixture *f, gconstpointer user_data)
{
  TkeRotationDialog *dialog;
  GtkWidget *page;

  fixture_start (
      f, (const char *const[]){ "--init", "demo", "--keys", "500", "--fail-setimm-on", "2", NULL });
  click_rotate (f);
  dialog = rotation_dialog ();
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_test_message ("set immediate failed on unit 2: %s / %s",
                  tke_rotation_dialog_get_headline (dialog),
                  tke_rotation_dialog_get_outcome (dialog));
  g_assert_cmpuint (tke_rotation_dialog_get_n_unit_results (dialog), ==, 3);
  g_assert_true (shows_label_containing (GTK_WIDGET (dialog), "Injected fault"));
  /* No green "PIN accepted" over a failed set immediate. */
  g_assert_false (shows_label_containing (GTK_WIDGET (dialog), "PIN accepted"));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-setimm-failed-on-2");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));

  assert_recovery_page (f, TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE,
                        "Remove Switched Units and Set Immediate",
                        "rotation-recovery-remove-switched");
  page = GTK_WIDGET (tke_window_get_recovery_page (f->window));
  g_assert_nonnull (
      tke_test_find_label_containing (page, "Leave Out the Switched Units, Then Set Immediate"));

  restart_emulator (f);
  assert_recovery_page (f, TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE,
                        "Remove Switched Units and Set Immediate",
                        "rotation-recovery-remove-switched-again");
  tke_test_click (tke_test_find_button (page, "Remove Switched Units and Set Immediate"));
  dialog = rotation_dialog ();
  g_assert_nonnull (dialog);
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_test_message ("after the recovery: %s", tke_rotation_dialog_get_outcome (dialog));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-recovery-remove-switched-done");
  assert_rotated (f);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
  {
    gpointer args[2] = { f, GINT_TO_POINTER (TKE_RECOVERY_ACTION_NONE) };
    g_assert_true (tke_test_wait_until (recovery_is, args, 30000));
  }
}

/* Row 1 of DESIGN §5 with the emulator's real token expiry: the token
 * runs out before Rotate, the pre-check reports it before anything is
 * touched and names the one action (log in again, then rotate); done,
 * every unit ends on the one new key. */
static void
test_token_expired_then_rotate_again (Fixture *f, gconstpointer user_data)
{
  TkeRotationDialog *dialog;
  GtkWidget *page;
  const char *outcome;

  fixture_start (
      f, (const char *const[]){ "--init", "demo", "--keys", "200", "--token-ttl", "20", NULL });
  /* 20 s: on a loaded machine the second login's rotation must still
   * start within the token's life. */
  tke_test_iterate (21000);
  click_rotate (f);
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  dialog = rotation_dialog ();
  outcome = tke_rotation_dialog_get_outcome (dialog);
  g_test_message ("expired token: %s / %s", tke_rotation_dialog_get_headline (dialog), outcome);
  g_assert_nonnull (strstr (outcome, "og in"));
  /* Nothing started, so nothing resumes (libtke's resume rule): Rotate
   * starts afresh. */
  g_assert_null (strstr (outcome, "resumes"));
  g_assert_nonnull (strstr (outcome, "Nothing was changed. Log in again, then run Rotate again: it "
                                     "starts from the beginning."));
  g_assert_cmpuint (tke_rotation_dialog_get_n_unit_results (dialog), ==, 0);
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-precheck-token-expired");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));

  /* Nothing was touched: no rotation to recover (the Recovery tab says
   * so, with no button), and the one action is the one the dialog named:
   * log in again, then Rotate… on the Master keys tab. */
  tke_test_log_in (GTK_WIDGET (f->window), f->emu->api_key);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.refresh", NULL);
  g_assert_true (tke_test_wait_until (units_shown, f, 30000));
  {
    gpointer args[2] = { f, GINT_TO_POINTER (TKE_RECOVERY_ACTION_NONE) };
    g_assert_true (tke_test_wait_until (recovery_is, args, 30000));
  }
  page = GTK_WIDGET (tke_window_get_recovery_page (f->window));
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "recovery");
  tke_test_iterate (300);
  tke_test_flush_widget (GTK_WIDGET (f->window));
  g_assert_cmpuint (tke_test_count_drawn_buttons (page), ==, 0);
  tke_test_save_screenshot (GTK_WIDGET (f->window), "rotation-precheck-nothing-to-recover");
  click_rotate (f);
  dialog = rotation_dialog ();
  g_assert_nonnull (dialog);
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  emu_login (f->emu); /* the test's own token expired too */
  assert_rotated (f);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
}

/* The demo's failed rotation: "Demo: Make the Next Rotation Fail" arms
 * the emulator's --faults-file; the rewrap stops after 1000 keys, the
 * recovery page offers Rotate Again only, and it resumes to the end. */
static void
test_demo_failed_rotation (Fixture *f, gconstpointer user_data)
{
  TkeRotationDialog *dialog;
  g_autofree char *faults_dir = g_dir_make_tmp ("tke-gui-faults-XXXXXX", NULL);
  g_autofree char *faults = g_build_filename (faults_dir, "faults.ini", NULL);

  fixture_start (f, (const char *const[]){ "--init", "demo", "--keys", "3000", "--faults-file",
                                           faults, NULL });
  tke_window_set_demo (f->window, NULL, faults);
  g_assert_true (
      gtk_widget_activate_action (GTK_WIDGET (f->window), "win.demo-fail-rotation", NULL));
  g_assert_true (g_file_test (faults, G_FILE_TEST_EXISTS));
  click_rotate (f);
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  dialog = rotation_dialog ();
  g_test_message ("demo failure: %s", tke_rotation_dialog_get_outcome (dialog));
  g_assert_nonnull (strstr (tke_rotation_dialog_get_outcome (dialog),
                            "The rotation stopped: The rewrap of the key storage stopped"));
  /* Armed for that rotation only. */
  g_assert_false (g_file_test (faults, G_FILE_TEST_EXISTS));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-demo-failed");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));

  assert_recovery_page (f, TKE_RECOVERY_ACTION_RESUME_ROTATE, "Rotate Again",
                        "rotation-recovery-demo-resume");
  tke_test_click (
      tke_test_find_button (GTK_WIDGET (tke_window_get_recovery_page (f->window)), "Rotate Again"));
  dialog = rotation_dialog ();
  g_assert_nonnull (dialog);
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  assert_rotated (f);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
  /* The emulator stopped before its faults file's directory goes. */
  fixture_tear_down (f, NULL);
  g_rmdir (faults_dir);
}

/* Blocker 2 of issue 14: set immediate waits for the administrator card,
 * and the demo's administrator inserts it from the Cards menu of the
 * dialog's own readers strip (the window's is behind the modal dialog). */
static void
test_card_from_dialog_strip (Fixture *f, gconstpointer user_data)
{
  TkeRotationDialog *dialog;
  GtkMenuButton *button;
  GtkWidget *popover;

  /* The card installs its administrator first, then leaves the reader. */
  fixture_start (f, (const char *const[]){ "--init", "demo", "--keys", "500", NULL });
  {
    g_autofree char *removed = tke_readers_ctl (&readers, 1, "remove");
    g_assert_cmpstr (removed, ==, "ok");
  }
  tke_test_iterate (500);
  click_rotate (f);
  dialog = rotation_dialog ();
  g_assert_true (tke_test_wait_until (prompt_in_state,
                                      GINT_TO_POINTER (TKE_PIN_PROMPT_WAITING_FOR_CARD), 60000));
  button = tke_readers_bar_get_card_button (tke_rotation_dialog_get_readers_bar (dialog), 1);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (button)));
  popover = tke_test_popup (button);
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-waits-for-card");
  g_signal_emit_by_name (tke_test_menu_item (popover, "Admin card 1"), "clicked");
  gtk_menu_button_popdown (button);
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 30000));
  press_on_pad (dialog, ADMIN_PIN, "OK");
  if (!tke_test_wait_until (dialog_finished, NULL, 60000))
    g_error ("the dialog did not finish: the prompt says “%s” / “%s”",
             tke_pin_prompt_get_title (tke_rotation_dialog_get_pin_prompt (dialog)),
             tke_pin_prompt_get_description (tke_rotation_dialog_get_pin_prompt (dialog)));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  assert_rotated (f);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
}

/* ---- Item 15: every pre-check message, from the real service ---- */

/* Rotate's reason, once the window has read the units again. */
static gboolean
rotate_reason_says (gpointer data)
{
  gpointer *args = data;
  Fixture *f = args[0];
  const char *reason = tke_master_keys_page_get_reason (tke_window_get_master_keys_page (f->window),
                                                        TKE_CEREMONY_ROTATE);

  return reason != NULL && strstr (reason, args[1]) != NULL;
}

/* The units as the service has them now, then Rotate refused in words:
 * the button off, its tooltip the sentence. */
static void
assert_rotate_refused (Fixture *f, const char *says, const char *screenshot)
{
  TkeMasterKeysPage *keys = tke_window_get_master_keys_page (f->window);
  GtkWidget *button = tke_master_keys_page_get_button (keys, TKE_CEREMONY_ROTATE);
  gpointer args[2] = { f, (gpointer) says };
  const char *reason;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.refresh", NULL);
  if (!tke_test_wait_until (rotate_reason_says, args, 30000))
    g_error ("Rotate's reason is “%s”, not “%s”",
             tke_master_keys_page_get_reason (keys, TKE_CEREMONY_ROTATE), says);
  reason = tke_master_keys_page_get_reason (keys, TKE_CEREMONY_ROTATE);
  g_test_message ("Rotate refused: %s", reason);
  g_assert_false (gtk_widget_is_sensitive (button));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (button), ==, reason);
  /* Said on the page too, not only in the tooltip (with units selected). */
  if (g_list_model_get_n_items (tke_master_keys_page_get_selected_units (keys)) > 0)
    {
      g_autofree char *hint = g_strdup_printf ("Rotate is not offered: %s", reason);

      g_assert_cmpstr (tke_master_keys_page_get_hint (keys), ==, hint);
    }
  tke_test_flush_widget (GTK_WIDGET (f->window));
  tke_test_save_screenshot (GTK_WIDGET (f->window), screenshot);
}

static char *
ski_of (EVP_PKEY *key)
{
  guint8 ski[TKE_SKI_SIZE];

  g_assert_true (tke_crypto_ski (key, ski, NULL));
  return tke_crypto_hex_encode (ski, sizeof ski);
}

/* Each pre-check of DESIGN §5 broken on the real service by its own
 * commands (signed with the demo administrators' key files), each
 * refusal in the page's words.  They are broken one after the other, each
 * new one before the earlier in the order libtke checks them. */
static void
test_every_precheck (Fixture *f, gconstpointer data)
{
  g_auto (GStrv) ids = NULL;
  g_autoptr (EVP_PKEY) a1 = NULL;
  g_autoptr (EVP_PKEY) a2 = NULL;
  TkeMasterKeysPage *keys;
  TkeCryptoUnit *third;

  fixture_start (f, (const char *const[]){ "--init", "demo", "--keys", "20", NULL });
  keys = tke_window_get_master_keys_page (f->window);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "master-keys");
  ids = emu_unit_ids (f->emu);
  a1 = emu_demo_admin (f->emu, 1);
  a2 = emu_demo_admin (f->emu, 2);
  /* The page says so once it has seen the selection (under ASan that can
   * take longer than the fixture's moment). */
  if (!tke_test_wait_until (rotate_enabled, f, 30000))
    g_error ("Rotate stays refused with every unit selected: %s",
             tke_master_keys_page_get_reason (keys, TKE_CEREMONY_ROTATE));
  g_assert_null (tke_master_keys_page_get_selection_warning (keys));

  /* No unit selected at all. */
  {
    GListModel *units = tke_crypto_units_page_get_units (tke_window_get_units_page (f->window));

    for (guint i = 0; i < g_list_model_get_n_items (units); i++)
      {
        g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

        tke_crypto_unit_set_selected (unit, FALSE);
      }
    assert_rotate_refused (f, "Select crypto units on the Crypto units tab first.",
                           "precheck-no-units");
    for (guint i = 0; i < g_list_model_get_n_items (units); i++)
      {
        g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

        tke_crypto_unit_set_selected (unit, TRUE);
      }
  }

  /* 1: all units of the one instance selected.  Unit 3 left out: Rotate
   * is refused, and the page says so while it waits for the unit. */
  third = g_list_model_get_item (
      tke_crypto_units_page_get_units (tke_window_get_units_page (f->window)), 2);
  g_object_unref (third); /* the list keeps it */
  tke_crypto_unit_set_selected (third, FALSE);
  /* The demo's unit 3 is a recovery unit that holds the key: it takes part. */
  assert_rotate_refused (f,
                         "Crypto unit 3 of the service instance is not selected. It is a RECOVERY "
                         "unit that holds the master key",
                         "precheck-not-all-units");
  g_assert_nonnull (strstr (tke_master_keys_page_get_selection_warning (keys),
                            "A rotation needs every crypto unit of the instance."));
  tke_crypto_unit_set_selected (third, TRUE);
  tke_test_iterate (100);
  g_assert_null (tke_master_keys_page_get_selection_warning (keys));

  /* 3: equal signature thresholds. */
  {
    EVP_PKEY *both[] = { a1, a2, NULL };
    g_autoptr (JsonObject) set =
        emu_command_ok (f->emu, ids[0], "set_thresholds",
                        "{\"signature_threshold\":1,\"revocation_threshold\":1}", both);
  }
  assert_rotate_refused (f, "The signature thresholds of the selected crypto units differ.",
                         "precheck-thresholds");
  {
    EVP_PKEY *one[] = { a1, NULL };
    g_autoptr (JsonObject) set =
        emu_command_ok (f->emu, ids[0], "set_thresholds",
                        "{\"signature_threshold\":2,\"revocation_threshold\":1}", one);
  }

  /* 4: common administrators.  Unit 1 loses demo administrator 2, unit
   * 2 demo administrator 1: only the card's administrator is in every
   * unit, one fewer than the threshold 2. */
  {
    EVP_PKEY *one[] = { a1, NULL }, *other[] = { a2, NULL };
    g_autofree char *ski1 = ski_of (a1);
    g_autofree char *ski2 = ski_of (a2);
    g_autofree char *remove2 = g_strdup_printf ("{\"ski\":\"%s\"}", ski2);
    g_autofree char *remove1 = g_strdup_printf ("{\"ski\":\"%s\"}", ski1);
    g_autoptr (JsonObject) r1 = emu_command_ok (f->emu, ids[0], "remove_admin", remove2, one);
    g_autoptr (JsonObject) r2 = emu_command_ok (f->emu, ids[1], "remove_admin", remove1, other);
  }
  assert_rotate_refused (f,
                         "Only 1 administrators are installed in every selected crypto unit, fewer "
                         "than the signature threshold 2.",
                         "precheck-common-administrators");

  /* 6: new registers Full Committed with one VP. */
  {
    EVP_PKEY *one[] = { a1, NULL };
    g_autoptr (JsonObject) cleared = emu_command_ok (f->emu, ids[2], "clear_new", NULL, one);
  }
  assert_rotate_refused (f, "The new register of crypto unit 3 is Empty.", "precheck-new-register");

  /* 5: current registers Valid with one VP. */
  {
    EVP_PKEY *one[] = { a2, NULL };
    g_autoptr (JsonObject) cleared = emu_command_ok (f->emu, ids[1], "clear_current", NULL, one);
  }
  assert_rotate_refused (f, "The current register of crypto unit 2 is Empty.",
                         "precheck-current-register");

  /* 2: no unit in imprint mode (zeroized: no administrators, no thresholds). */
  {
    EVP_PKEY *one[] = { a1, NULL };
    g_autoptr (JsonObject) zeroized = emu_command_ok (f->emu, ids[0], "zeroize", NULL, one);
  }
  assert_rotate_refused (f, "Crypto unit 1 is in imprint mode", "precheck-imprint-mode");

  /* Reachable: the service gone, every unit is unreachable and said so. */
  emu_stop (f->emu);
  assert_rotate_refused (f, "cannot be reached", "precheck-unreachable");
  g_assert_nonnull (
      strstr (tke_master_keys_page_get_reason (keys, TKE_CEREMONY_LOAD), "cannot be reached"));
  /* The tear-down closes the window and removes the directory. */
}

/* Row 1 of DESIGN §5 from the service's side: the rewrap fails before
 * any key is rewrapped (the emulator's fault at 0 keys).  The Recovery
 * tab offers Rotate again only, with the advisor's words; pressed, the
 * rotation runs from the start and ends on the new key. */
static void
test_failed_before_any_key (Fixture *f, gconstpointer data)
{
  TkeRotationDialog *dialog;
  GtkWidget *page;

  fixture_start (f, (const char *const[]){ "--init", "demo", "--keys", "200", "--fail-after-keys",
                                           "0", NULL });
  click_rotate (f);
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  dialog = rotation_dialog ();
  g_test_message ("failed at 0 keys: %s", tke_rotation_dialog_get_outcome (dialog));
  g_assert_cmpuint (tke_rotation_dialog_get_n_unit_results (dialog), ==, 0);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));

  assert_recovery_page (f, TKE_RECOVERY_ACTION_ROTATE, "Rotate Again",
                        "rotation-recovery-before-any-key");
  page = GTK_WIDGET (tke_window_get_recovery_page (f->window));
  g_assert_nonnull (
      tke_test_find_label_containing (page, "The rotation stopped before any key was rewrapped."));
  tke_test_click (tke_test_find_button (page, "Rotate Again"));
  dialog = rotation_dialog ();
  g_assert_nonnull (dialog);
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  assert_rotated (f);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
  {
    gpointer args[2] = { f, GINT_TO_POINTER (TKE_RECOVERY_ACTION_NONE) };
    g_assert_true (tke_test_wait_until (recovery_is, args, 30000));
  }
}

/* The last row of DESIGN §5 with the real fault (--lose-new-after-rewrap
 * 2): the storage is rewrapped, then unit 2's new register is lost.  Set
 * immediate cannot finish unit 2; the Recovery tab says, in libtke's
 * words, what differs and that nothing is to be done yet: no button.  The
 * units and the service stay as they are. */
static void
test_do_nothing_row (Fixture *f, gconstpointer data)
{
  TkeRotationDialog *dialog;
  GtkWidget *page;
  g_auto (GStrv) ids = NULL;

  fixture_start (f, (const char *const[]){ "--init", "demo", "--keys", "200",
                                           "--lose-new-after-rewrap", "2", NULL });
  click_rotate (f);
  dialog = rotation_dialog ();
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000) ||
      dialog_finished (NULL));
  if (!dialog_finished (NULL))
    press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_test_message ("unit 2 lost its new register: %s / %s",
                  tke_rotation_dialog_get_headline (dialog),
                  tke_rotation_dialog_get_outcome (dialog));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-lost-new-register");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "recovery");
  {
    gpointer args[2] = { f, GINT_TO_POINTER (TKE_RECOVERY_ACTION_STOP) };

    if (!tke_test_wait_until (recovery_is, args, 30000))
      g_error ("the Recovery tab advises %d, not “do nothing”",
               tke_recovery_page_get_action (tke_window_get_recovery_page (f->window)));
  }
  page = GTK_WIDGET (tke_window_get_recovery_page (f->window));
  {
    gpointer args[2] = { (gpointer) "Crypto unit 2 holds neither the committed new master key the "
                                    "storage was rewrapped to nor that key as its current key.",
                         f->window };

    g_assert_true (tke_test_wait_until (page_says, args, 20000));
  }
  g_assert_nonnull (tke_test_find_label (page, "Do Not Change Anything Yet"));
  tke_test_iterate (300);
  tke_test_flush_widget (GTK_WIDGET (f->window));
  g_assert_true (gtk_widget_get_mapped (page));
  g_assert_cmpuint (tke_test_count_drawn_buttons (page), ==, 0);
  tke_test_save_screenshot (GTK_WIDGET (f->window), "rotation-recovery-do-nothing");

  /* Nothing more was sent: unit 2 is as the fault left it, the service
   * still waits on set immediate. */
  ids = emu_unit_ids (f->emu);
  {
    g_autoptr (JsonObject) q = emu_query (f->emu, ids[1]);
    g_autofree char *path = g_strdup_printf ("/v1/tke/%s/rotation", f->emu->instance);
    g_autoptr (JsonObject) rotation = emu_call_ok (f->emu, "GET", path, NULL, 200);

    g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Empty");
    g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Valid");
    g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), !=, f->vp);
    g_assert_cmpstr (json_object_get_string_member (rotation, "state"), ==, "rewrapped");
  }
}

/* ---- Setup ---- */

int
main (int argc, char **argv)
{
  const char *const env[] = { "TKE_EMULATOR", "TKE_VIRTUAL_READERS", NULL };
  int status;

  if (!tke_test_gtk_can_run (env))
    return 0;
  base_dir = tke_test_gtk_private_home ("tke-gui-rotation-base-XXXXXX");

  tke_readers_fixture_init (&readers);
  make_cards ();
  tke_readers_fixture_start (&readers, ADMIN_CARD, NULL);
  /* The application shows the on-screen pad for these readers. */
  g_setenv ("TKE_VIRTUAL_READERS_DIR", readers.state_dir, TRUE);
  g_setenv ("TKE_VIRTUAL_CARDS_DIR", readers.dir, TRUE);

  tke_test_gtk_init (&argc, &argv);
  app = tke_test_gtk_application_new ();

  g_test_add ("/gui/rotation-cards/whole-rotation", Fixture, NULL, NULL, test_whole_rotation,
              fixture_tear_down);
  g_test_add ("/gui/rotation-cards/three-in-a-row", Fixture, NULL, NULL, test_three_in_a_row,
              fixture_tear_down);
  g_test_add ("/gui/rotation-cards/recovery-after-failed-rewrap", Fixture, NULL, NULL,
              test_recovery_after_failed_rewrap, fixture_tear_down);
  g_test_add ("/gui/rotation-cards/pin-cancelled-then-set-immediate", Fixture, NULL, NULL,
              test_pin_cancelled_then_set_immediate, fixture_tear_down);
  g_test_add ("/gui/rotation-cards/card-from-dialog-strip", Fixture, NULL, NULL,
              test_card_from_dialog_strip, fixture_tear_down);
  g_test_add ("/gui/rotation-cards/token-expired-then-rotate-again", Fixture, NULL, NULL,
              test_token_expired_then_rotate_again, fixture_tear_down);
  g_test_add ("/gui/rotation-cards/demo-failed-rotation", Fixture, NULL, NULL,
              test_demo_failed_rotation, fixture_tear_down);
  g_test_add ("/gui/rotation-cards/setimm-failed-on-one-unit", Fixture, NULL, NULL,
              test_setimm_failed_on_one_unit, fixture_tear_down);
  g_test_add ("/gui/rotation-cards/every-precheck", Fixture, NULL, NULL, test_every_precheck,
              fixture_tear_down);
  g_test_add ("/gui/rotation-cards/failed-before-any-key", Fixture, NULL, NULL,
              test_failed_before_any_key, fixture_tear_down);
  g_test_add ("/gui/rotation-cards/do-nothing-row", Fixture, NULL, NULL, test_do_nothing_row,
              fixture_tear_down);

  status = g_test_run ();
  tke_readers_fixture_clear (&readers);
  tke_test_remove_tree (base_dir);
  g_free (base_dir);
  return status;
}
