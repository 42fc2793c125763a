/* test-auto-gui.c: the recovery-unit path through the widgets (issue 16)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything is real: tke-emulator over HTTPS in imprint mode with a
 * recovery crypto unit (--recovery-units 1, as tests/integration auto),
 * pcscd with the virtual PIN-pad readers, the administrator cards
 * admin1.card in reader 1 and admin2.card in reader 2 (put there through
 * the readers strip): the instance is initialized with both, signature
 * threshold 2, and every later ceremony takes both PINs, one per pad.  The test is the person: it
 * presses the Master keys tab's Initialize with recovery units, Rotate with recovery units (twice,
 * and once stopped while the dialog waits for the card), Recover from recovery unit after the
 * Imprint mode tab's Zeroize of one unit, the Crypto units tab's Failover enable, and a rotation
 * that stops after "Delaying 30 seconds…" (the emulator's faults file), whose Recovery tab offers
 * Rotate and never the rerun.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "card-ceremony-fixture.h"
#include "tke-application.h"
#include "tke-imprint-page.h"
#include "tke-recovery-page.h"
#include "tke-rotation-dialog.h"
#include "tke-test-util.h"
#include "tke-readers-bar.h"
#include "tke-virtual-pin-pad.h"
#include "tke-window.h"

static char *faults_dir;
static char *faults_file;
static gboolean reader_2_shown;

/* ---- What the person reads ---- */

static TkeRotationDialog *
dialog (void)
{
  return TKE_ROTATION_DIALOG (tke_test_find_toplevel (TKE_TYPE_ROTATION_DIALOG));
}

static gboolean
shows_unscrolled (GtkWidget *widget)
{
  GtkWidget *scrolled =
      tke_test_find_widget_of_type (GTK_WIDGET (dialog ()), GTK_TYPE_SCROLLED_WINDOW, NULL, NULL);

  return widget != NULL && tke_test_in_view (widget, scrolled);
}

static gboolean
pad_in_view (gpointer data)
{
  return gtk_widget_get_height (GTK_WIDGET (dialog ())) <= 540 &&
         shows_unscrolled (tke_pin_prompt_get_pad (tke_rotation_dialog_get_pin_prompt (dialog ())));
}

static gboolean
outcome_in_view (gpointer data)
{
  return shows_unscrolled (tke_test_find_label (
      GTK_WIDGET (dialog ()), "The selected service instance has been initialized."));
}

static gboolean
dialog_finished (gpointer data)
{
  return dialog () != NULL && tke_rotation_dialog_get_finished (dialog ());
}

static gboolean
dialog_prompt_in (gpointer data)
{
  TkePinPrompt *p = dialog () != NULL ? tke_rotation_dialog_get_pin_prompt (dialog ()) : NULL;

  return p != NULL && (tke_pin_prompt_get_state (p) == (TkePinPromptState) GPOINTER_TO_INT (data) ||
                       tke_rotation_dialog_get_finished (dialog ()));
}

static void
wait_dialog_prompt (TkePinPromptState state)
{
  if (!tke_test_wait_until (dialog_prompt_in, GINT_TO_POINTER (state), 60000))
    g_error ("the dialog never asked (state %d)", state);
  if (tke_rotation_dialog_get_finished (dialog ()))
    g_error ("the ceremony ended: %s", tke_rotation_dialog_get_outcome (dialog ()));
}

static gboolean
dialog_said (const char *line)
{
  for (guint i = 0; i < tke_rotation_dialog_get_n_messages (dialog ()); i++)
    if (strstr (tke_rotation_dialog_get_message (dialog (), i), line) != NULL)
      return TRUE;
  return FALSE;
}

static void
assert_said (const char *line)
{
  if (!dialog_said (line))
    {
      for (guint i = 0; i < tke_rotation_dialog_get_n_messages (dialog ()); i++)
        g_test_message ("said: %s", tke_rotation_dialog_get_message (dialog (), i));
      g_error ("the dialog did not say “%s”", line);
    }
}

static TkeMasterKeysPage *
keys_page (void)
{
  return tke_window_get_master_keys_page (window);
}

static GtkWidget *
auto_button (TkeAutoKind kind)
{
  return tke_master_keys_page_get_auto_button (keys_page (), kind);
}

static gboolean
auto_offered (gpointer data)
{
  TkeAutoKind kind = GPOINTER_TO_INT (data);

  return gtk_widget_get_visible (auto_button (kind)) &&
         tke_master_keys_page_get_auto_reason (keys_page (), kind) == NULL;
}

static void
wait_auto_offered (TkeAutoKind kind)
{
  if (!tke_test_wait_until (auto_offered, GINT_TO_POINTER (kind), 20000))
    g_error ("%s is not offered: %s", gtk_button_get_label (GTK_BUTTON (auto_button (kind))),
             tke_master_keys_page_get_auto_reason (keys_page (), kind));
}

/* The one on screen: an answered one may not be finalized yet. */
static AdwMessageDialog *
visible_message_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  AdwMessageDialog *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) candidate = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (candidate) && gtk_widget_get_visible (GTK_WIDGET (candidate)))
        found = ADW_MESSAGE_DIALOG (candidate);
    }
  return found;
}

/* The button, then the confirmation's @answer; @two_admins checks its
 * "Two administrators" box first (auto-init's only). */
static void
press_and_answer_full (GtkWidget *button, const char *answer, gboolean two_admins)
{
  AdwMessageDialog *confirmation;

  gtk_widget_activate_action (
      GTK_WIDGET (window), "win.show-page", "s",
      gtk_widget_is_ancestor (button, GTK_WIDGET (tke_window_get_units_page (window)))
          ? "crypto-units"
          : "master-keys");
  tke_test_flush_widget (GTK_WIDGET (window));
  tke_test_click (button);
  tke_test_iterate (100);
  confirmation = visible_message_dialog ();
  g_assert_nonnull (confirmation);
  tke_test_flush_widget (GTK_WIDGET (confirmation));
  if (two_admins)
    {
      GtkWidget *two = tke_test_find_widget_of_type (GTK_WIDGET (confirmation),
                                                     GTK_TYPE_CHECK_BUTTON, NULL, NULL);

      g_assert_nonnull (two);
      g_assert_false (gtk_check_button_get_active (GTK_CHECK_BUTTON (two)));
      tke_test_click (two);
      g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (two)));
      tke_test_flush_widget (GTK_WIDGET (confirmation));
      tke_test_save_screenshot (GTK_WIDGET (confirmation), "auto-init-confirm-two");
    }
  tke_test_click (tke_test_find_button (GTK_WIDGET (confirmation), answer));
  tke_test_iterate (200);
}

static void
press_and_answer (GtkWidget *button, const char *answer)
{
  press_and_answer_full (button, answer, FALSE);
}

static void
press_and_answer_two (GtkWidget *button, const char *answer)
{
  press_and_answer_full (button, answer, TRUE);
}

/* Every unit as the emulator answers: admin1 and admin2, thresholds 2 and 1. */
static void
assert_two_admins (void)
{
  g_auto (GStrv) ids = emu_unit_ids (emu);

  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (JsonObject) q = emu_query (emu, ids[i]);

      g_assert_cmpint (json_object_get_int_member (q, "signature_threshold"), ==, 2);
      g_assert_cmpint (json_object_get_int_member (q, "revocation_threshold"), ==, 1);
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (q, "admins")), ==, 2);
    }
}

static gboolean
pin_asked_or_finished (gpointer data)
{
  TkePinPrompt *p = tke_rotation_dialog_get_pin_prompt (dialog ());

  return tke_rotation_dialog_get_finished (dialog ()) ||
         (tke_pin_prompt_get_state (p) == TKE_PIN_PROMPT_ENTER_PIN &&
          gtk_widget_get_visible (tke_pin_prompt_get_pad (p)));
}

/* Which reader the dialog's prompt asks at: its title names it. */
static guint
prompt_reader (void)
{
  const char *title = tke_pin_prompt_get_title (tke_rotation_dialog_get_pin_prompt (dialog ()));

  return strstr (title, "reader 2") != NULL ? 2 : 1;
}

static gboolean
pin_taken_at (gpointer data)
{
  TkePinPrompt *p = tke_rotation_dialog_get_pin_prompt (dialog ());

  return tke_rotation_dialog_get_finished (dialog ()) ||
         tke_pin_prompt_get_state (p) != TKE_PIN_PROMPT_ENTER_PIN ||
         prompt_reader () != GPOINTER_TO_UINT (data);
}

/* Each PIN on the pad of the reader the dialog asks at, until the end;
 * returns the readers asked, in order ("12": reader 1, then reader 2). */
static char *
sign_in_dialog (void)
{
  GString *asked = g_string_new (NULL);

  while (tke_test_wait_until (pin_asked_or_finished, NULL, 120000) &&
         !tke_rotation_dialog_get_finished (dialog ()))
    {
      guint reader = prompt_reader ();

      g_string_append_printf (asked, "%u", reader);
      if (reader == 2 && !reader_2_shown)
        {
          /* Once: the same dialog now asks at the second reader's pad. */
          reader_2_shown = TRUE;
          tke_test_iterate (300);
          tke_test_flush_widget (GTK_WIDGET (dialog ()));
          tke_test_save_screenshot (GTK_WIDGET (dialog ()), "auto-pin-reader-2");
        }
      g_assert_cmpuint (asked->len, <=, 2);
      type_pin_on (tke_rotation_dialog_get_pin_prompt (dialog ()), in_reader[reader]->pin);
      /* The pad has answered the keys a moment before the card answers
       * the PIN: until then the prompt still asks at this reader. */
      if (!tke_test_wait_until (pin_taken_at, GUINT_TO_POINTER (reader), 20000))
        g_error ("reader %u: the PIN was not taken", reader);
    }
  if (!tke_rotation_dialog_get_finished (dialog ()))
    g_error ("the ceremony did not end");
  g_test_message ("outcome: %s (PINs at readers %s)", tke_rotation_dialog_get_outcome (dialog ()),
                  asked->str);
  return g_string_free (asked, FALSE);
}

/* Reader 1's PIN typed, reader 2's cancelled on its pad. */
static void
cancel_at_reader_2 (void)
{
  TkePinPrompt *p;

  g_assert_true (tke_test_wait_until (pin_asked_or_finished, NULL, 60000));
  g_assert_cmpuint (prompt_reader (), ==, 1);
  p = tke_rotation_dialog_get_pin_prompt (dialog ());
  type_pin_on (p, in_reader[1]->pin);
  g_assert_true (tke_test_wait_until (pin_taken_at, GUINT_TO_POINTER (1), 20000));
  g_assert_true (tke_test_wait_until (pin_asked_or_finished, NULL, 60000));
  g_assert_cmpuint (prompt_reader (), ==, 2);
  {
    g_autofree char *ready = tke_readers_ctl (&readers, 2, "wait-prompt 20000");

    g_assert_cmpstr (ready, ==, "ok");
  }
  tke_test_click (tke_test_find_button (tke_pin_prompt_get_pad (p), "Cancel"));
}

/* Both administrators signed: admin1 in reader 1, then admin2 in reader 2. */
static void
sign_with_both (void)
{
  g_autofree char *asked = sign_in_dialog ();

  g_assert_cmpstr (asked, ==, "12");
}

static void
close_dialog (const char *screenshot)
{
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog ()));
  tke_test_save_screenshot (GTK_WIDGET (dialog ()), screenshot);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog ()), "Close"));
  tke_test_iterate (200);
  g_assert_null (dialog ());
}

static char *
current_vp (guint i)
{
  return g_strdup (tke_crypto_unit_get_current_register_vp (unit_at (i)));
}

static gboolean
current_changed (gpointer data)
{
  return current_in_state ((gpointer) "Valid") &&
         g_strcmp0 (tke_crypto_unit_get_current_register_vp (unit_at (0)), data) != 0 &&
         units_in_state ((gpointer) "Empty");
}

/* ---- The walk ---- */

static void
test_init (void)
{
  open_and_log_in ();
  for (guint i = 0; i < 3; i++)
    g_test_message ("unit %u: number %u, type %d", i, tke_crypto_unit_get_number (unit_at (i)),
                    tke_crypto_unit_get_unit_type (unit_at (i)));
  /* A new instance: Initialize, not Rotate. */
  wait_auto_offered (TKE_AUTO_INIT);
  g_assert_false (gtk_widget_get_visible (auto_button (TKE_AUTO_MK_ROTATE)));
  g_assert_nonnull (tke_master_keys_page_get_auto_reason (keys_page (), TKE_AUTO_RECOVER));
  tke_test_flush_widget (GTK_WIDGET (window));
  tke_test_save_screenshot (GTK_WIDGET (window), "auto-keys-imprint");

  /* Cancel in the confirmation starts nothing. */
  press_and_answer (auto_button (TKE_AUTO_INIT), "Cancel");
  g_assert_null (dialog ());

  /* Two administrators: admin2's card goes into reader 2, through the
   * strip, and the confirmation is told so. */
  swap_in_strip (tke_window_get_readers_bar (window), 2, card_named ("admin2.card"));

  /* The first time, reader 2's PIN is cancelled on its pad, after the
   * first unit got both administrators: that unit stays in imprint mode
   * with them, and Initialize is offered again. */
  press_and_answer_two (auto_button (TKE_AUTO_INIT), "Initialize");
  cancel_at_reader_2 ();
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_test_message ("cancelled at reader 2: %s", tke_rotation_dialog_get_outcome (dialog ()));
  g_assert_nonnull (strstr (tke_rotation_dialog_get_outcome (dialog ()), "PIN pad of reader 2"));
  g_assert_nonnull (
      strstr (tke_rotation_dialog_get_outcome (dialog ()), "Run the initialization again"));
  close_dialog ("auto-init-cancelled");
  {
    g_auto (GStrv) ids = emu_unit_ids (emu);
    g_autoptr (JsonObject) q = emu_query (emu, ids[0]);

    g_assert_true (json_object_get_boolean_member (q, "imprint_mode"));
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (q, "admins")), ==, 2);
  }
  wait_auto_offered (TKE_AUTO_INIT);

  /* The second time to the end: the administrators already there stay. */
  press_and_answer_two (auto_button (TKE_AUTO_INIT), "Initialize");
  g_assert_nonnull (dialog ());
  wait_dialog_prompt (TKE_PIN_PROMPT_ENTER_PIN);
  tke_test_iterate (300);
  tke_test_flush_widget (GTK_WIDGET (dialog ()));
  tke_test_save_screenshot (GTK_WIDGET (dialog ()), "auto-init-pin");
  /* On an 800×600 screen the window manager makes the dialog smaller:
   * the PIN pad is scrolled into view, and so is the outcome. */
  gtk_window_set_default_size (GTK_WINDOW (dialog ()), 640, 540);
  g_assert_true (tke_test_wait_until (pad_in_view, NULL, 10000));
  /* All of the prompt that shows is the pad: it names its reader. */
  g_assert_cmpstr (tke_virtual_pin_pad_get_title (TKE_VIRTUAL_PIN_PAD (
                       tke_pin_prompt_get_pad (tke_rotation_dialog_get_pin_prompt (dialog ())))),
                   ==, "Virtual PIN pad of reader 1");
  tke_test_save_screenshot (GTK_WIDGET (dialog ()), "auto-init-pin-small-screen");
  sign_with_both ();
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog ()), ==,
                   "The selected service instance has been initialized.");
  g_assert_true (tke_test_wait_until (outcome_in_view, NULL, 10000));
  tke_test_save_screenshot (GTK_WIDGET (dialog ()), "auto-init-done-small-screen");
  assert_said ("Installing 2 of 2 administrators....");
  assert_said ("Setting signature thresholds....");
  assert_said ("Generating a random master key value....");
  assert_said ("Transferring the master key value to 2 of 2 crypto units....");
  close_dialog ("auto-init-done");
  g_assert_true (tke_test_wait_until (current_in_state, (gpointer) "Valid", 20000));
  assert_two_admins ();
  /* Initialized: Rotate instead, and Initialize is gone. */
  wait_auto_offered (TKE_AUTO_MK_ROTATE);
  g_assert_false (gtk_widget_get_visible (auto_button (TKE_AUTO_INIT)));
  tke_test_flush_widget (GTK_WIDGET (window));
  tke_test_save_screenshot (GTK_WIDGET (window), "auto-keys-initialized");
}

static void
rotate_ok (const char *screenshot)
{
  g_autofree char *before = current_vp (0);

  wait_auto_offered (TKE_AUTO_MK_ROTATE);
  press_and_answer (auto_button (TKE_AUTO_MK_ROTATE), "Rotate");
  sign_with_both ();
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog ()), ==,
                   "The new master key is current on every selected crypto unit.");
  assert_said ("Generating a random master key value....");
  assert_said (TKE_AUTO_DELAY_MESSAGE);
  assert_said (TKE_ROTATION_MESSAGE_STARTED);
  assert_said (TKE_ROTATION_MESSAGE_SUCCESSFUL);
  close_dialog (screenshot);
  g_assert_true (tke_test_wait_until (current_changed, before, 20000));
}

static gboolean
reader_1_empty (gpointer data)
{
  return g_strcmp0 (tke_readers_bar_get_summary (tke_window_get_readers_bar (window), 1),
                    "Reader 1: no card") == 0;
}

static void
test_rotate (void)
{
  /* Stopped while the dialog waits for the card: nothing changes. */
  g_autofree char *before = current_vp (0);

  {
    g_autofree char *removed = tke_readers_ctl (&readers, 1, "remove");

    g_assert_cmpstr (removed, ==, "ok");
    in_reader[1] = NULL;
  }
  /* As a person does, press Rotate once the strip shows the reader empty:
   * pressed sooner, the card signer may open the card pcscd has not yet
   * seen go, and the ceremony ends on "the card was removed". */
  g_assert_true (tke_test_wait_until (reader_1_empty, NULL, 20000));
  press_and_answer (auto_button (TKE_AUTO_MK_ROTATE), "Rotate");
  wait_dialog_prompt (TKE_PIN_PROMPT_WAITING_FOR_CARD);
  tke_test_iterate (300);
  tke_test_flush_widget (GTK_WIDGET (dialog ()));
  tke_test_save_screenshot (GTK_WIDGET (dialog ()), "auto-rotate-waits-for-card");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog ()), "Stop Rotation"));
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 20000));
  g_test_message ("stopped: %s", tke_rotation_dialog_get_outcome (dialog ()));
  g_assert_false (dialog_said (TKE_AUTO_DELAY_MESSAGE));
  close_dialog ("auto-rotate-stopped");
  tke_test_iterate (500);
  g_assert_cmpstr (current_vp (0), ==, before);
  {
    g_autofree char *path = tke_readers_path (&readers, "admin1.card");
    g_autofree char *insert = g_strconcat ("insert ", path, NULL);
    g_autofree char *inserted = tke_readers_ctl (&readers, 1, insert);

    g_assert_cmpstr (inserted, ==, "ok");
    in_reader[1] = card_named ("admin1.card");
  }

  /* Then twice to the end: once one finished, it may run again. */
  rotate_ok ("auto-rotate-done");
  rotate_ok ("auto-rotate-again");
}

static gboolean
unit_zeroized (gpointer data)
{
  return tke_crypto_unit_get_current_register_state (unit_at (GPOINTER_TO_UINT (data))) ==
         TKE_CURRENT_REGISTER_EMPTY;
}

static void
test_recover (void)
{
  g_autofree char *vp = current_vp (0);

  /* Unit 2 zeroized from the Imprint mode tab, with the card. */
  for (guint i = 0; i < 3; i++)
    tke_crypto_unit_set_selected (unit_at (i), i == 1);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "imprint-mode");
  tke_test_iterate (200);
  tke_test_click (tke_imprint_page_get_zeroize_button (tke_window_get_imprint_page (window)));
  tke_test_iterate (100);
  confirm ("Zeroize");
  sign_until_done (swap_card);
  close_wizard ();
  g_assert_true (tke_test_wait_until (unit_zeroized, GUINT_TO_POINTER (1), 20000));
  for (guint i = 0; i < 3; i++)
    tke_crypto_unit_set_selected (unit_at (i), TRUE);

  /* Rotate is refused now; Recover is offered. */
  wait_auto_offered (TKE_AUTO_RECOVER);
  g_assert_nonnull (tke_master_keys_page_get_auto_reason (keys_page (), TKE_AUTO_MK_ROTATE));
  tke_test_flush_widget (GTK_WIDGET (window));
  tke_test_save_screenshot (GTK_WIDGET (window), "auto-keys-unit-zeroized");
  press_and_answer (auto_button (TKE_AUTO_RECOVER), "Recover");
  sign_with_both ();
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog ()), ==,
                   "The master key was recovered.");
  assert_said ("Transferring the master key value to 1 of 1 crypto units....");
  close_dialog ("auto-recover-done");
  g_assert_true (tke_test_wait_until (current_in_state, (gpointer) "Valid", 20000));
  g_assert_cmpstr (tke_crypto_unit_get_current_register_vp (unit_at (1)), ==, vp);
  g_assert_nonnull (tke_master_keys_page_get_auto_reason (keys_page (), TKE_AUTO_RECOVER));
}

/* Failover units listed: all of them, or those with a master key. */
static guint
count_failover (gboolean with_key)
{
  GListModel *units = tke_crypto_units_page_get_units (tke_window_get_units_page (window));
  guint n = 0;

  for (guint i = 0; units != NULL && i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      n += tke_crypto_unit_get_unit_type (unit) == TKE_CRYPTO_UNIT_TYPE_FAILOVER &&
           (!with_key ||
            tke_crypto_unit_get_current_register_state (unit) == TKE_CURRENT_REGISTER_VALID);
    }
  return n;
}

static gboolean
n_failover (gpointer data)
{
  return count_failover (TRUE) == GPOINTER_TO_UINT (data);
}

static gboolean
n_failover_listed (gpointer data)
{
  return count_failover (FALSE) == GPOINTER_TO_UINT (data);
}

static GtkWidget *
failover_button (void)
{
  return tke_test_find_button (GTK_WIDGET (tke_window_get_units_page (window)), "Failover Enable…");
}

static void
test_failover (void)
{
  for (guint n = 1; n <= 2; n++)
    {
      gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "crypto-units");
      tke_test_iterate (200);
      g_assert_true (gtk_widget_get_visible (failover_button ()));
      g_assert_null (
          tke_crypto_units_page_get_failover_reason (tke_window_get_units_page (window)));
      press_and_answer (failover_button (), n == 1 ? "Cancel" : "Enable");
      if (n == 1)
        {
          g_assert_null (dialog ());
          press_and_answer (failover_button (), "Enable");
          /* Stopped on reader 2's pad once the service added the unit:
           * the next press gives that unit its key and adds none. */
          cancel_at_reader_2 ();
          g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
          g_test_message ("failover-enable stopped: %s",
                          tke_rotation_dialog_get_outcome (dialog ()));
          close_dialog ("auto-failover-stopped");
          g_assert_true (tke_test_wait_until (n_failover_listed, GUINT_TO_POINTER (1), 20000));
          g_assert_false (n_failover (GUINT_TO_POINTER (1)));
          press_and_answer (failover_button (), "Enable");
        }
      sign_with_both ();
      g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog ()), ==,
                       "Failover crypto units were added.");
      assert_said ("Adding failover crypto units....");
      close_dialog (n == 1 ? "auto-failover-done" : "auto-failover-again");
      g_assert_true (tke_test_wait_until (n_failover, GUINT_TO_POINTER (n), 20000));
      g_assert_true (n_failover_listed (GUINT_TO_POINTER (n)));
    }
  tke_test_flush_widget (GTK_WIDGET (window));
  tke_test_save_screenshot (GTK_WIDGET (window), "auto-units-failover");
  /* Two is the most: refused, in libtke's words. */
  g_assert_nonnull (tke_crypto_units_page_get_failover_reason (tke_window_get_units_page (window)));
  /* A rotation needs the failover and recovery units too (libtke's
   * pre-check): every unit is selected. */
  g_assert_true (tke_test_wait_until (current_in_state, (gpointer) "Valid", 20000));
  {
    GListModel *units = tke_crypto_units_page_get_units (tke_window_get_units_page (window));

    for (guint i = 0; i < g_list_model_get_n_items (units); i++)
      {
        g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

        tke_crypto_unit_set_selected (unit, TRUE);
      }
  }
}

static gboolean
recovery_is (gpointer data)
{
  return tke_recovery_page_get_action (tke_window_get_recovery_page (window)) ==
             (TkeRecoveryAction) GPOINTER_TO_INT (data) &&
         tke_recovery_page_get_auto_path (tke_window_get_recovery_page (window));
}

/* Case 2 of the service's troubleshooting page: "Delaying…" was printed,
 * the rewrap message was not.  The Recovery tab offers Rotate; the
 * Master keys tab refuses Rotate with recovery units. */
static void
test_fault_after_delay (void)
{
  TkeRecoveryPage *recovery = tke_window_get_recovery_page (window);
  g_autofree char *before = current_vp (0);

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (JsonObject) made = emu_call_ok (
          emu, "POST", "/api/v2/keys",
          "{\"resources\":[{\"type\":\"application/vnd.ibm.kms.key+json\",\"name\":\"k\"}]}", 201);
    }
  g_assert_true (g_file_set_contents (faults_file, "[faults]\nfail-after-keys=1\n", -1, NULL));
  wait_auto_offered (TKE_AUTO_MK_ROTATE);
  press_and_answer (auto_button (TKE_AUTO_MK_ROTATE), "Rotate");
  sign_with_both ();
  assert_said (TKE_AUTO_DELAY_MESSAGE);
  g_assert_false (dialog_said (TKE_ROTATION_MESSAGE_REWRAPPED));
  close_dialog ("auto-rotate-failed");

  g_assert_true (tke_test_wait_until (recovery_is,
                                      GINT_TO_POINTER (TKE_RECOVERY_ACTION_RESUME_ROTATE), 20000));
  g_test_message ("recovery: %s / %s", tke_recovery_page_get_title (recovery),
                  tke_recovery_page_get_button_label (recovery));
  g_assert_cmpstr (tke_recovery_page_get_button_label (recovery), ==,
                   "_Rotate (Resume the Rewrap)");
  g_assert_null (tke_test_find_button (GTK_WIDGET (recovery), "Rotate with Recovery Units Again"));
  /* The forbidden rerun is not offered. */
  g_assert_nonnull (tke_master_keys_page_get_auto_reason (keys_page (), TKE_AUTO_MK_ROTATE));
  g_test_message ("refused: %s",
                  tke_master_keys_page_get_auto_reason (keys_page (), TKE_AUTO_MK_ROTATE));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "recovery");
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (window));
  tke_test_save_screenshot (GTK_WIDGET (window), "auto-recovery-tab");

  tke_test_click (tke_test_find_button (GTK_WIDGET (recovery), "Rotate (Resume the Rewrap)"));
  tke_test_iterate (200);
  g_assert_nonnull (dialog ());
  {
    /* A plain rotation: set immediate takes one signature, reader 1's. */
    g_autofree char *asked = sign_in_dialog ();

    g_assert_cmpstr (asked, ==, "1");
  }
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog ()), ==,
                   "The new master key is current on every selected crypto unit.");
  close_dialog ("auto-recovered-by-rotate");
  g_assert_true (tke_test_wait_until (current_changed, before, 20000));
  /* Done: auto-mk-rotate may run again. */
  wait_auto_offered (TKE_AUTO_MK_ROTATE);
  gtk_window_destroy (GTK_WINDOW (window));
  tke_test_iterate (100);
}

int
main (int argc, char **argv)
{
  int status;
  const char *args[] = {
    "--init", "imprint", "--recovery-units", "1", "--faults-file", NULL, NULL
  };

  faults_dir = g_dir_make_tmp ("tke-auto-faults-XXXXXX", NULL);
  faults_file = g_build_filename (faults_dir, "faults.ini", NULL);
  args[5] = faults_file;
  card_ceremony_imprint = TRUE;
  /* The plug-in's 30 s before the rewrap, shortened. */
  g_setenv ("TKE_AUTO_DELAY_MS", "0", TRUE);
  if (!card_ceremony_set_up_with (&argc, &argv, "tke-gui-auto-XXXXXX", args))
    return 0;
  /* As build-aux/demo starts the application: the strips' Cards menus. */
  g_setenv ("TKE_VIRTUAL_CARDS_DIR", readers.dir, TRUE);
  g_test_add_func ("/gui/auto/init", test_init);
  g_test_add_func ("/gui/auto/rotate", test_rotate);
  g_test_add_func ("/gui/auto/recover", test_recover);
  g_test_add_func ("/gui/auto/failover", test_failover);
  g_test_add_func ("/gui/auto/fault-after-delay", test_fault_after_delay);
  status = g_test_run ();
  card_ceremony_tear_down ();
  tke_test_remove_tree (faults_dir);
  return status;
}
