/* test-card-ceremonies.c: load, commit and set immediate with smart cards,
 * through the widgets (src/gui/tke-card-ceremony.c and the wizard)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything is real: tke-emulator over HTTPS (demo instance, its two
 * key-file administrators), pcscd with the two virtual PIN-pad readers and
 * card images made with tke-card: two administrator cards (installed on
 * every unit at the start, signed by the demo administrators) and two key
 * part cards, one with two parts.  The test is the person at the
 * workstation: it presses the Master keys tab's buttons, reads the wizard's
 * prompt, swaps the cards the prompt asks for and types PINs on the
 * on-screen PIN pad's buttons, a wrong one included.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "card-ceremony-fixture.h"
#include "tke-application.h"
#include "tke-load-wizard.h"
#include "tke-login-dialog.h"
#include "tke-virtual-pin-pad.h"
#include "tke-window.h"

/* ---- The ceremony ---- */

static gboolean
step_is (gpointer data)
{
  return wizard () != NULL && g_strcmp0 (tke_load_wizard_get_step (wizard ()), data) == 0;
}

static void
wait_step (const char *step)
{
  if (!tke_test_wait_until (step_is, (gpointer) step, 30000))
    g_error ("the wizard is at “%s” (page %s), not “%s”; prompt “%s”",
             tke_load_wizard_get_step (wizard ()), tke_load_wizard_get_page (wizard ()), step,
             tke_pin_prompt_get_title (prompt ()));
}

/* The parts on the card are not on screen: the list waits for the PIN. */
static void
assert_no_part_list (const char *part)
{
  GtkWidget *parts_list =
      tke_test_find_widget_of_type (GTK_WIDGET (wizard ()), GTK_TYPE_LIST_BOX, NULL, NULL);

  g_assert_nonnull (parts_list);
  g_assert_false (gtk_widget_is_visible (parts_list));
  g_assert_null (tke_test_find_label (parts_list, part));
}

/* Item 13: the seed's order.  The administrator card and its PIN (step
 * 1.2), then the number of parts (1.3), then per part the card in reader
 * 2 and its PIN (1.4), then the part from the card's list (1.5), with no
 * second PIN when the part is sealed. */
static void
load_two_parts (void)
{
  GtkWidget *parts_list;

  press_keys_button ("Load…");
  g_assert_nonnull (wizard ());

  /* The administrator card, with a wrong PIN first: before the count. */
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  g_assert_cmpstr (tke_load_wizard_get_page (wizard ()), ==, "card");
  g_assert_cmpstr (tke_load_wizard_get_step (wizard ()), ==,
                   "Step 1: the administrator's signature");
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-pin-prompt");
  type_pin ("999999");
  if (!tke_test_wait_until (description_says, (gpointer) "The PIN was wrong: 2 tries left", 20000))
    g_error ("after a wrong PIN the prompt shows “%s” / “%s” (state %d); wizard page %s: %s",
             tke_pin_prompt_get_title (prompt ()), tke_pin_prompt_get_description (prompt ()),
             tke_pin_prompt_get_state (prompt ()), tke_load_wizard_get_page (wizard ()),
             tke_load_wizard_get_result_text (wizard ()));
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  g_test_message ("after a wrong PIN: %s", tke_pin_prompt_get_description (prompt ()));
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-wrong-pin");
  type_pin (in_reader[1]->pin);

  /* The number of parts, after the administrator's PIN. */
  wait_step ("Step 2: the number of key parts");
  g_assert_cmpstr (tke_load_wizard_get_page (wizard ()), ==, "count");
  tke_test_iterate (400);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-count-after-pin");
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Continue"));

  /* Part 1: the card in reader 2 holds two parts.  Its PIN first, with
   * the list not shown; then the list, and the second part is chosen. */
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 2");
  g_assert_cmpstr (tke_load_wizard_get_step (wizard ()), ==, "Step 3 of 4: key part 1 of 2");
  assert_no_part_list ("part A1");
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-part-card-pin");
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  parts_list = tke_test_find_widget_of_type (GTK_WIDGET (wizard ()), GTK_TYPE_LIST_BOX, NULL, NULL);
  g_assert_nonnull (tke_test_find_label (parts_list, "part A1"));
  g_assert_nonnull (tke_test_find_label (parts_list, "part A2"));
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-choose-part");
  gtk_list_box_select_row (GTK_LIST_BOX (parts_list),
                           gtk_list_box_get_row_at_index (GTK_LIST_BOX (parts_list), 1));
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Load This Part"));

  /* Sealed with the PIN typed before the list: no second PIN.  Part 2:
   * the same card, still in with its PIN verified, offers only the part
   * not loaded, with no PIN asked again (one PIN per key part card); the
   * person takes the other card instead. */
  wait_step ("Step 4 of 4: key part 2 of 2");
  g_assert_nonnull (
      tke_test_find_label_containing (GTK_WIDGET (wizard ()), "Key part 1 is sealed"));
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  parts_list = tke_test_find_widget_of_type (GTK_WIDGET (wizard ()), GTK_TYPE_LIST_BOX, NULL, NULL);
  g_assert_nonnull (tke_test_find_label (parts_list, "part A1"));
  g_assert_null (tke_test_find_label (parts_list, "part A2"));
  swap_card (2, card_named ("kpB.card"));
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 2");
  assert_no_part_list ("part B");
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpB.card");
  parts_list = tke_test_find_widget_of_type (GTK_WIDGET (wizard ()), GTK_TYPE_LIST_BOX, NULL, NULL);
  g_assert_nonnull (tke_test_find_label (parts_list, "part B"));
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Load This Part"));

  g_assert_true (tke_test_wait_until (wizard_ended, NULL, 60000));
  g_test_message ("load: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_cmpstr (tke_load_wizard_get_page (wizard ()), ==, "result");
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "New register: Full Uncommitted"));
  tke_test_iterate (600); /* the stack's slide to the result page */
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-loaded");
  close_wizard ();
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Uncommitted", 20000));
}

static void
test_load_commit_set_immediate (void)
{
  g_autofree char *new_vp = NULL;
  g_autofree char *groups = NULL;
  g_auto (GStrv) ids = NULL;

  open_and_log_in ();
  load_two_parts ();
  new_vp = g_strdup (tke_crypto_unit_get_new_register_vp (unit_at (0)));
  for (guint i = 1; i < 3; i++)
    g_assert_cmpstr (tke_crypto_unit_get_new_register_vp (unit_at (i)), ==, new_vp);
  groups = tke_vp_format_groups (new_vp);
  tke_test_flush_widget (GTK_WIDGET (window));
  g_assert_nonnull (
      tke_test_find_label (GTK_WIDGET (tke_window_get_master_keys_page (window)), groups));
  tke_test_save_screenshot (GTK_WIDGET (window), "card-master-keys-loaded");

  /* Commit: both administrator cards, signer by signer: the first signs
   * for every unit, then the second (issue 14 item 6).  Before the first
   * PIN, the summary with each unit's VP in groups. */
  press_keys_button ("Commit…");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  g_assert_cmpstr (tke_load_wizard_get_step (wizard ()), ==,
                   "Administrator 1 of 2: one signature for every crypto unit");
  g_assert_nonnull (tke_load_wizard_get_summary (wizard ()));
  {
    g_autofree char *lines = g_strdup_printf ("Crypto units 1, 2, 3:\n%s", groups);
    g_assert_nonnull (strstr (tke_load_wizard_get_summary (wizard ()), lines));
  }
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-commit-summary");
  sign_until_done (swap_card);
  g_test_message ("commit: %u PIN entries, %u card swaps", n_pins_typed, n_swaps);
  g_assert_cmpuint (n_pins_typed, ==, 2);
  g_assert_cmpuint (n_swaps, ==, 1);
  g_test_message ("commit: %s", tke_load_wizard_get_result_text (wizard ()));
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("commit: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "New register: Full Committed"));
  close_wizard ();
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Committed", 20000));

  /* Clear current: the instance has no keys yet, so its units can start
   * over like new ones (the initialization ceremony). */
  g_assert_cmpstr (tke_master_keys_page_get_disabled_reason (
                       tke_window_get_master_keys_page (window), "set-immediate"),
                   !=, NULL);
  press_keys_button ("Clear Current…");
  confirm ("Clear Current");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  sign_until_done (swap_card);
  g_test_message ("clear current: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "Current register: Empty"));
  close_wizard ();
  g_assert_true (tke_test_wait_until (current_in_state, (gpointer) "Empty", 20000));

  /* Set immediate, now offered: one administrator card. */
  g_assert_cmpstr (tke_master_keys_page_get_disabled_reason (
                       tke_window_get_master_keys_page (window), "set-immediate"),
                   ==, NULL);
  press_keys_button ("Set Immediate…");
  confirm ("Set Immediate");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  sign_until_done (swap_card);
  g_test_message ("set immediate: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "Current register: Valid"));
  tke_test_iterate (600); /* the stack's slide to the result page */
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-set-immediate");
  close_wizard ();
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Empty", 20000));

  /* The service agrees: the loaded key is current on every unit. */
  ids = emu_unit_ids (emu);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (JsonObject) q = emu_query (emu, ids[i]);

      g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), ==, new_vp);
    }
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (tke_crypto_unit_get_current_register_vp (unit_at (i)), ==, new_vp);
  tke_test_flush_widget (GTK_WIDGET (window));
  tke_test_save_screenshot (GTK_WIDGET (window), "card-master-keys-set");
  gtk_window_destroy (GTK_WINDOW (window));
  tke_test_iterate (100);
}

int
main (int argc, char **argv)
{
  int status;

  if (!card_ceremony_set_up (&argc, &argv, "tke-gui-cards-XXXXXX"))
    return 0;
  g_test_add_func ("/gui/cards/load-commit-set-immediate", test_load_commit_set_immediate);
  status = g_test_run ();
  card_ceremony_tear_down ();
  return status;
}
