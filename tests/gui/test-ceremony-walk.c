/* test-ceremony-walk.c: the card ceremonies as a nervous administrator
 * walks them at 2 a.m. (issue 14): Cancel and start again, every card
 * swap through the wizard's own readers strip and its Cards menus while
 * the ceremony waits, the PIN typed on the keyboard with the focus
 * anywhere, a card pulled in the middle, Set immediate's warning
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything is real, as in test-card-ceremonies: tke-emulator over HTTPS,
 * pcscd with the two virtual PIN-pad readers, card images made with
 * tke-card.  No card is swapped through the readers' control sockets
 * here: the test picks it from the Cards menu of the wizard's strip, as
 * the demo's administrator does.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "card-ceremony-fixture.h"
#include "tke-test-util.h"
#include "tke-application.h"
#include "tke-load-wizard.h"
#include "tke-login-dialog.h"
#include "tke-virtual-pin-pad.h"
#include "tke-window.h"

/* ---- The wizard's readers strip and the keyboard ---- */

static TkeReadersBar *
wizard_strip (void)
{
  return tke_load_wizard_get_readers_bar (wizard ());
}

/* Opens the reader's Cards menu in the wizard's strip and picks ITEM. */
static void
pick_in_wizard (guint reader, const char *item, const char *screenshot)
{
  TkeReadersBar *bar = wizard_strip ();

  g_assert_nonnull (bar);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (bar)));
  tke_test_pick_card (bar, reader, item, screenshot);
}

/* A card swapped while the ceremony waits, from the wizard's own strip. */
static void
swap_in_wizard (guint reader, const Card *card)
{
  swap_in_strip (wizard_strip (), reader, card);
}

/* A key pressed on the keyboard: the window's key controllers see it
 * first in the capture phase, as GTK delivers it. */
static void
press_key (GtkWidget *root, guint keyval)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (root);
  gboolean handled = FALSE;

  for (guint i = 0; !handled && i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_KEY (controller) &&
          gtk_event_controller_get_propagation_phase (controller) == GTK_PHASE_CAPTURE)
        g_signal_emit_by_name (controller, "key-pressed", keyval, 0, (GdkModifierType) 0, &handled);
    }
  if (!handled)
    g_error ("key %s: nothing in the wizard took it", gdk_keyval_name (keyval));
}

/* The PIN typed on the keyboard and Enter, with the focus on one of the
 * pad's digit keys: Enter is OK, not that key. */
static void
type_pin_on_keyboard (const char *pin)
{
  GtkWidget *pad;
  guint before;
  gpointer args[2];

  g_assert_true (tke_test_wait_until (pad_waits, NULL, 20000));
  {
    guint reader = strstr (tke_pin_prompt_get_title (prompt ()), "reader 2") != NULL ? 2 : 1;
    g_autofree char *ready = tke_readers_ctl (&readers, reader, "wait-prompt 20000");

    g_assert_cmpstr (ready, ==, "ok");
  }
  pad = tke_pin_prompt_get_pad (prompt ());
  gtk_widget_grab_focus (tke_test_find_button (pad, "5"));
  before = tke_virtual_pin_pad_get_n_replies (TKE_VIRTUAL_PIN_PAD (pad));
  args[0] = pad;
  args[1] = GUINT_TO_POINTER (before + strlen (pin) + 1);
  for (const char *k = pin; *k != '\0'; k++)
    press_key (GTK_WIDGET (wizard ()), GDK_KEY_0 + (guint) (*k - '0'));
  press_key (GTK_WIDGET (wizard ()), GDK_KEY_Return);
  g_assert_true (tke_test_wait_until (replies_reach, args, 10000));
}

static const char *
disabled_reason (const char *ceremony)
{
  return tke_master_keys_page_get_disabled_reason (tke_window_get_master_keys_page (window),
                                                   ceremony);
}

static gboolean
offered (gpointer data)
{
  return wizard () == NULL && disabled_reason (data) == NULL;
}

/* The window's button for CEREMONY is usable again (after a cancel). */
static void
wait_offered (const char *ceremony)
{
  if (!tke_test_wait_until (offered, (gpointer) ceremony, 10000))
    g_error ("“%s” is still not offered: %s", ceremony,
             wizard () != NULL ? "the wizard is open" : disabled_reason (ceremony));
}

static gboolean
no_wizard (gpointer data)
{
  return wizard () == NULL;
}

static gboolean
page_is (gpointer data)
{
  return wizard () != NULL && g_strcmp0 (tke_load_wizard_get_page (wizard ()), data) == 0;
}

/* The seed's step 1.3, after the administrator's PIN: two parts. */
static void
count_parts (void)
{
  if (!tke_test_wait_until (page_is, (gpointer) "count", 30000))
    g_error ("no count page after the administrator's PIN: %s",
             tke_load_wizard_get_page (wizard ()));
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Continue"));
}

static void
cancel_wizard (void)
{
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Cancel"));
  g_assert_true (tke_test_wait_until (no_wizard, NULL, 5000));
}

/* ---- The walk ---- */

/* Blocker 1, twice (Cancel on the count page, Cancel on the part list),
 * then a load to the end.  Blocker 2: the key part cards are swapped from
 * the wizard's strip while it waits.  Item 5: the routine swap to the
 * next key part card is no red error.  Item 10: the countdown, and the PIN
 * typed on the keyboard. */
static gboolean
pin_asked_or (gpointer data)
{
  gboolean (*done) (gpointer) = ((gpointer *) data)[0];

  return pad_waits (NULL) || done (((gpointer *) data)[1]);
}

/* Presses "Load This Part" (then again, to no effect) and waits for
 * @done.  The card's PIN, typed before its list, holds while the part is
 * sealed: the part's source works with the connection that verified it,
 * and the readers strip's connection of its own does not clear it, so the
 * pad never asks for it again (it did, under slow builds, when a second
 * connection selected the applet and so cleared the PIN). */
static void
load_this_part (gboolean (*done) (gpointer), gpointer done_data)
{
  gpointer args[2] = { (gpointer) done, done_data };
  GtkWidget *button = tke_test_find_button (GTK_WIDGET (wizard ()), "Load This Part");

  tke_test_click (button);
  /* Pressed again while the part is sealed (a double click, Enter on the
   * hidden button): nothing.  It started a second seal of the same
   * ceremony, which replaced the part being sealed and once crashed. */
  g_assert_false (gtk_widget_is_sensitive (button));
  gtk_widget_activate_action (GTK_WIDGET (wizard ()), "wizard.load-part", NULL);
  if (!tke_test_wait_until (pin_asked_or, args, 60000))
    g_error ("the part was not sealed: %s", tke_pin_prompt_get_description (prompt ()));
  if (pad_waits (NULL) && !done (done_data))
    g_error ("the card asked for its PIN again while sealing the part: %s",
             tke_pin_prompt_get_title (prompt ()));
}

static void
test_cancel_then_load (void)
{
  TkePinPrompt *p;
  GtkWidget *title;
  guint seconds;

  open_and_log_in ();
  g_assert_null (disabled_reason ("load"));

  press_keys_button ("Load…");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  type_pin (in_reader[1]->pin);
  if (!tke_test_wait_until (page_is, (gpointer) "count", 30000))
    g_error ("no count page after the administrator's PIN: %s",
             tke_load_wizard_get_page (wizard ()));
  cancel_wizard ();
  wait_offered ("load");

  /* Cancel on the part list, after the administrator's and the card's PIN. */
  press_keys_button ("Load…");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  p = prompt ();
  seconds = tke_pin_prompt_get_seconds_left (p);
  g_assert_cmpuint (seconds, >, 20);
  g_assert_cmpuint (seconds, <=, 30);
  g_assert_nonnull (strstr (tke_pin_prompt_get_countdown_text (p), "seconds left to type the PIN"));
  tke_test_iterate (2500);
  g_assert_cmpuint (tke_pin_prompt_get_seconds_left (p), <=, seconds - 1);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "walk-load-pin-countdown");
  type_pin_on_keyboard (in_reader[1]->pin);
  count_parts ();
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  g_assert_null (tke_pin_prompt_get_countdown_text (prompt ()));
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "walk-load-part-list");
  cancel_wizard ();
  wait_offered ("load");

  /* Escape on the keyboard is the pad's Cancel: the PIN entry ends, the
   * wizard says nothing was done, and Load is offered again. */
  press_keys_button ("Load…");
  g_assert_true (tke_test_wait_until (pad_waits, NULL, 20000));
  {
    g_autofree char *ready = tke_readers_ctl (&readers, 1, "wait-prompt 20000");
    g_assert_cmpstr (ready, ==, "ok");
  }
  gtk_window_set_focus (GTK_WINDOW (wizard ()), NULL);
  press_key (GTK_WIDGET (wizard ()), GDK_KEY_Escape);
  g_assert_true (tke_test_wait_until (wizard_ended, NULL, 30000));
  g_test_message ("Escape: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_cmpstr (tke_load_wizard_get_page (wizard ()), ==, "error");
  g_assert_nonnull (strstr (tke_load_wizard_get_result_text (wizard ()), "Nothing is half-done"));
  assert_wizard_header_finished ();
  tke_test_iterate (600); /* the stack's slide to the error page */
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "walk-load-escape-stopped");
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Close"));
  wait_offered ("load");

  /* Again, to the end: key part card B first, swapped in from the
   * wizard's Cards menu while the wizard shows card A's list. */
  press_keys_button ("Load…");
  type_pin (in_reader[1]->pin);
  count_parts ();
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  pick_in_wizard (2, "kpB.card", "walk-wizard-cards-menu");
  in_reader[2] = card_named ("kpB.card");
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpB.card");
  load_this_part (description_says, (gpointer) "Every key part on “kpB.card” is loaded");

  /* Card B has no other part: the next card, in plain words. */
  if (!tke_test_wait_until (description_says, (gpointer) "Every key part on “kpB.card” is loaded",
                            30000))
    g_error ("after part 1 the prompt shows “%s” / “%s” (state %d)",
             tke_pin_prompt_get_title (prompt ()), tke_pin_prompt_get_description (prompt ()),
             tke_pin_prompt_get_state (prompt ()));
  g_assert_cmpint (tke_pin_prompt_get_state (prompt ()), ==, TKE_PIN_PROMPT_WAITING_FOR_CARD);
  title = tke_test_find_label (GTK_WIDGET (prompt ()), tke_pin_prompt_get_title (prompt ()));
  g_assert_nonnull (title);
  g_assert_false (gtk_widget_has_css_class (title, "error"));
  g_assert_null (tke_test_find_label_containing (GTK_WIDGET (wizard ()), "This is not"));
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "walk-load-next-card");
  swap_in_wizard (2, card_named ("kpA.card"));
  type_pin_on_keyboard (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  load_this_part (wizard_ended, NULL);

  g_assert_true (tke_test_wait_until (wizard_ended, NULL, 60000));
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("load: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "New register: Full Uncommitted"));
  close_wizard ();
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Uncommitted", 20000));
}

/* Item 7: the administrator card pulled while the pad waits for its PIN:
 * the wizard says what each unit has, and that nothing is half-done.
 * Then Commit to the end, the second administrator card swapped in from
 * the wizard's strip when the wizard asks for it. */
static void
test_card_pulled_then_commit (void)
{
  const char *text;

  if (window == NULL)
    {
      g_test_skip ("needs the load before it");
      return;
    }
  press_keys_button ("Commit…");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  {
    g_autofree char *ready = tke_readers_ctl (&readers, 1, "wait-prompt 20000");
    g_assert_cmpstr (ready, ==, "ok");
  }
  pick_in_wizard (1, "Remove Card", NULL);
  in_reader[1] = NULL;
  g_assert_true (tke_test_wait_until (wizard_ended, NULL, 40000));
  text = tke_load_wizard_get_result_text (wizard ());
  g_test_message ("card pulled: %s", text);
  g_assert_cmpstr (tke_load_wizard_get_page (wizard ()), ==, "error");
  for (guint i = 1; i <= 3; i++)
    {
      g_autofree char *line = g_strdup_printf ("Crypto unit %u: unchanged", i);
      g_assert_nonnull (strstr (text, line));
    }
  g_assert_nonnull (strstr (text, "Nothing is half-done"));
  tke_test_iterate (600);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "walk-commit-card-pulled");
  assert_wizard_header_finished ();
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Close"));
  wait_offered ("commit");
  g_assert_true (units_in_state ((gpointer) "Full Uncommitted"));

  /* Issue 14 item 6: signer by signer, 2 PIN entries and 1 card swap
   * (from the wizard's Cards menu) for 2 administrators over 3 units. */
  press_keys_button ("Commit…");
  wait_prompt (TKE_PIN_PROMPT_WAITING_FOR_CARD, "reader 1");
  swap_in_wizard (1, card_named ("admin1.card"));
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  g_assert_nonnull (strstr (tke_load_wizard_get_summary (wizard ()), "Crypto units 1, 2, 3:"));
  g_assert_nonnull (strstr (tke_load_wizard_get_progress (wizard ()),
                            "Administrator 1 of 2: signing for crypto unit 1"));
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "walk-commit-summary");
  sign_until_done (swap_in_wizard);
  g_test_message ("commit: %u PIN entries, %u card swaps", n_pins_typed, n_swaps);
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("commit: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_cmpuint (n_pins_typed, ==, 2);
  g_assert_cmpuint (n_swaps, ==, 1);
  close_wizard ();
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Committed", 20000));
  {
    g_auto (GStrv) ids = emu_unit_ids (emu);

    g_assert_cmpuint (g_strv_length (ids), ==, 3);
    for (guint i = 0; ids[i] != NULL; i++)
      {
        g_autoptr (JsonObject) q = emu_query (emu, ids[i]);

        g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Full Committed");
        g_assert_cmpstr (json_object_get_string_member (q, "new_mkvp"), ==,
                         tke_crypto_unit_get_new_register_vp (unit_at (0)));
      }
  }
}

/* The open confirmation dialog. */
static AdwMessageDialog *
message_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  GtkWindow *dialog = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) candidate = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (candidate) && gtk_widget_get_visible (GTK_WIDGET (candidate)))
        dialog = candidate;
    }
  g_assert_nonnull (dialog);
  return ADW_MESSAGE_DIALOG (dialog);
}

/* Item 14: Set immediate's warning says it cannot be reversed and when it
 * is safe to go on. */
static void
test_set_immediate_warning (void)
{
  AdwMessageDialog *dialog;
  const char *body;

  if (window == NULL)
    {
      g_test_skip ("needs the commit before it");
      return;
    }
  press_keys_button ("Clear Current…");
  confirm ("Clear Current");
  sign_until_done (swap_in_wizard);
  close_wizard ();
  g_assert_true (tke_test_wait_until (current_in_state, (gpointer) "Empty", 20000));

  press_keys_button ("Set Immediate…");
  dialog = message_dialog ();
  body = adw_message_dialog_get_body (dialog);
  g_test_message ("set immediate: %s", body);
  g_assert_nonnull (strstr (body, "cannot be reversed"));
  g_assert_nonnull (strstr (body, "Continue only when"));
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "walk-set-immediate-confirm");
  confirm ("Set Immediate");
  sign_until_done (swap_in_wizard);
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "Current register: Valid"));
  close_wizard ();
}

/* Every ceremony begun has its last record (written on the trail's
 * writer thread after the wizard shows the end). */
static gboolean
every_ceremony_ended (gpointer data)
{
  g_autofree char *contents = NULL;
  guint begun;

  if (!g_file_get_contents (data, &contents, NULL, NULL))
    return FALSE;
  begun = tke_test_count (contents, "\"step\":\"ceremony\"");
  return begun >= 5 && begun == tke_test_count (contents, "\"step\":\"end\"");
}

static void
assert_no_secret (const char *what, const char *text)
{
  for (guint i = 0; i < G_N_ELEMENTS (cards); i++)
    if (strstr (text, cards[i].pin) != NULL)
      g_error ("%s holds the PIN of %s", what, cards[i].image);
  if (strstr (text, emu->api_key) != NULL || strstr (text, emu->token) != NULL)
    g_error ("%s holds the API key or the token", what);
}

/* Issue 18: the GUI's ceremonies above are in the ceremony record, the
 * load with its own steps (each unit's importer key, each part sealed),
 * the cancelled load too; the trail and the report made from it verify;
 * and neither holds a PIN, the API key or the token. */
static void
test_record_of_the_walk (void)
{
  g_autofree char *path = tke_audit_trail_get_default_path ();
  g_autoptr (TkeAuditTrail) trail = tke_audit_trail_new (path);
  g_autoptr (TkeCeremonyReport) report = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *exported = NULL;
  guint n = 0;

  if (window == NULL)
    {
      g_test_skip ("needs the ceremonies before it");
      return;
    }
  g_assert_true (tke_test_wait_until (every_ceremony_ended, path, 30000));
  g_assert_true (tke_audit_trail_verify (trail, &n, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_test_message ("the walk's record: %u records", n);
  g_assert_cmpuint (tke_test_count (contents, "\"step\":\"importer-key\""), >=, 3);
  g_assert_cmpuint (tke_test_count (contents, "\"step\":\"part-sealed\""), ==, 2);
  g_assert_cmpuint (tke_test_count (contents, "\"importer_certificate\""), >=, 3);
  g_assert_nonnull (
      strstr (contents, "\"kind\":\"load\",\"step\":\"end\",\"outcome\":\"cancelled\""));
  g_assert_nonnull (strstr (contents, "\"kind\":\"load\",\"step\":\"end\",\"outcome\":\"ok\""));
  g_assert_nonnull (strstr (contents, "\"kind\":\"commit\",\"step\":\"end\",\"outcome\":\"ok\""));
  assert_no_secret ("the trail", contents);
  report = tke_ceremony_report_new_from_trail (trail, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tke_ceremony_report_verify (report, NULL, &error));
  g_assert_no_error (error);
  bytes = tke_ceremony_report_to_bytes (report);
  exported = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  assert_no_secret ("the report", exported);
}

int
main (int argc, char **argv)
{
  int status;

  if (!card_ceremony_set_up (&argc, &argv, "tke-gui-walk-XXXXXX"))
    return 0;
  g_setenv ("TKE_VIRTUAL_CARDS_DIR", readers.dir, TRUE);
  g_test_add_func ("/gui/walk/cancel-then-load", test_cancel_then_load);
  g_test_add_func ("/gui/walk/card-pulled-then-commit", test_card_pulled_then_commit);
  g_test_add_func ("/gui/walk/set-immediate-warning", test_set_immediate_warning);
  g_test_add_func ("/gui/walk/record-of-the-walk", test_record_of_the_walk);
  status = g_test_run ();
  card_ceremony_tear_down ();
  return status;
}
