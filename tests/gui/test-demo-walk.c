/* test-demo-walk.c: the whole demo as a newcomer walks it with
 * build-aux/demo (issue 14): log in, load, commit, rotate; load and commit
 * another key, make the next rotation fail from the main menu, and recover
 * on the Recovery tab as libtke advises, until every unit is on one key
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything is real, as in test-ceremony-walk: tke-emulator over HTTPS
 * with 3 000 keys and the demo's faults file, pcscd with the two virtual
 * PIN-pad readers, card images made with tke-card.  Every card swap is
 * picked from a Cards menu of a readers strip (the window's, the wizard's,
 * the rotation dialog's), never through the readers' control sockets;
 * every PIN is pressed on the on-screen pad.  After each ceremony the test
 * asks the emulator itself what the units and the rotation hold.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>
#include <glib/gstdio.h>

#include "card-ceremony-fixture.h"
#include "tke-application.h"
#include "tke-load-wizard.h"
#include "tke-rotation-dialog.h"
#include "tke-window.h"

#define N_KEYS 3000

static char *faults_dir;
static char *faults_file;

/* ---- What the emulator holds ---- */

/* Every unit's registers, from the service itself: @current_vp Valid
 * (the current one), and the new register @new_state with @new_vp (NULL:
 * any, the same on every unit).  Returns the new VP. */
static char *
assert_units (const char *current_vp, const char *new_state, const char *new_vp)
{
  g_auto (GStrv) ids = emu_unit_ids (emu);
  char *seen = NULL;

  g_assert_cmpuint (g_strv_length (ids), ==, 3);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (JsonObject) q = emu_query (emu, ids[i]);
      const char *vp = json_object_get_string_member_with_default (q, "new_mkvp", NULL);

      g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Valid");
      g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), ==, current_vp);
      g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, new_state);
      if (new_vp != NULL)
        g_assert_cmpstr (vp, ==, new_vp);
      if (seen == NULL)
        seen = g_strdup (vp);
      else
        g_assert_cmpstr (vp, ==, seen);
    }
  return seen;
}

/* The service's rotation: its state, and how many keys are rewrapped. */
static void
assert_rotation (const char *state, gint64 keys_done, const char *error_code)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/rotation", emu->instance);
  g_autoptr (JsonObject) o = emu_call_ok (emu, "GET", path, NULL, 200);
  JsonObject *error =
      json_object_get_null_member (o, "error") ? NULL : json_object_get_object_member (o, "error");

  g_test_message ("rotation: %s, %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " keys",
                  json_object_get_string_member (o, "state"),
                  json_object_get_int_member (o, "keys_done"),
                  json_object_get_int_member (o, "keys_total"));
  g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, state);
  if (keys_done >= 0)
    g_assert_cmpint (json_object_get_int_member (o, "keys_done"), ==, keys_done);
  if (error_code == NULL)
    g_assert_null (error);
  else
    g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, error_code);
}

/* ---- The person at the window ---- */

static void
swap_in_wizard (guint reader, const Card *card)
{
  swap_in_strip (tke_load_wizard_get_readers_bar (wizard ()), reader, card);
}

static gboolean
page_is (gpointer data)
{
  return wizard () != NULL && g_strcmp0 (tke_load_wizard_get_page (wizard ()), data) == 0;
}

static gboolean
load_offered (gpointer data)
{
  return wizard () == NULL && tke_master_keys_page_get_disabled_reason (
                                  tke_window_get_master_keys_page (window), data) == NULL;
}

static void
wait_offered (const char *ceremony)
{
  if (!tke_test_wait_until (load_offered, (gpointer) ceremony, 20000))
    g_error ("“%s” is not offered: %s", ceremony,
             tke_master_keys_page_get_disabled_reason (tke_window_get_master_keys_page (window),
                                                       ceremony));
}

/* Load…, the administrator's PIN, the number of parts (2). */
static void
start_load (void)
{
  wait_offered ("load");
  press_keys_button ("Load…");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  type_pin (in_reader[1]->pin);
  if (!tke_test_wait_until (page_is, (gpointer) "count", 30000))
    g_error ("no count page after the administrator's PIN: %s",
             tke_load_wizard_get_page (wizard ()));
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Continue"));
}

static gboolean
list_shown (gpointer data)
{
  GtkWidget *list;

  if (wizard () == NULL || tke_pin_prompt_get_state (prompt ()) != TKE_PIN_PROMPT_CHOOSE ||
      strstr (tke_load_wizard_get_step (wizard ()), data) == NULL)
    return FALSE;
  list = tke_test_find_widget_of_type (GTK_WIDGET (wizard ()), GTK_TYPE_LIST_BOX, NULL, NULL);
  return list != NULL && gtk_widget_is_drawable (list);
}

/* Key part @part's list on screen, and the part at @row of it loaded, as
 * a person sees and presses it. */
static void
load_part (guint part, guint row)
{
  g_autofree char *step = g_strdup_printf ("key part %u of 2", part);
  GtkWidget *list;
  GtkWidget *button;

  if (!tke_test_wait_until (list_shown, step, 60000))
    g_error ("no list of parts for %s: %s / %s", step, tke_load_wizard_get_step (wizard ()),
             tke_pin_prompt_get_description (prompt ()));
  list = tke_test_find_widget_of_type (GTK_WIDGET (wizard ()), GTK_TYPE_LIST_BOX, NULL, NULL);
  gtk_list_box_select_row (GTK_LIST_BOX (list),
                           gtk_list_box_get_row_at_index (GTK_LIST_BOX (list), (int) row));
  button = tke_test_find_button (GTK_WIDGET (wizard ()), "Load This Part");
  g_assert_true (gtk_widget_is_drawable (button));
  tke_test_click (button);
}

static void
finish_load (const char *screenshot)
{
  if (!tke_test_wait_until (wizard_ended, NULL, 90000))
    g_error ("the load did not end: %s", tke_pin_prompt_get_description (prompt ()));
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("load: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "New register: Full Uncommitted"));
  tke_test_iterate (600);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), screenshot);
  close_wizard ();
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Uncommitted", 20000));
}

/* Commit…: signer by signer, 2 PINs and 1 card swap from the wizard's
 * Cards menu, for 2 administrators over 3 units. */
static void
commit (const char *current_vp, const char *new_vp, const char *screenshot)
{
  g_autofree char *committed = NULL;

  wait_offered ("commit");
  press_keys_button ("Commit…");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  g_assert_nonnull (strstr (tke_load_wizard_get_summary (wizard ()), "Crypto units 1, 2, 3:"));
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), screenshot);
  sign_until_done (swap_in_wizard);
  g_test_message ("commit: %u PIN entries, %u card swaps", n_pins_typed, n_swaps);
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("commit: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_cmpuint (n_pins_typed, ==, 2);
  g_assert_cmpuint (n_swaps, ==, 1);
  close_wizard ();
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Committed", 20000));
  committed = assert_units (current_vp, "Full Committed", new_vp);
}

static TkeRotationDialog *
rotation_dialog (void)
{
  return TKE_ROTATION_DIALOG (tke_test_find_toplevel (TKE_TYPE_ROTATION_DIALOG));
}

static gboolean
rotation_finished (gpointer data)
{
  TkeRotationDialog *dialog = rotation_dialog ();

  return dialog != NULL && tke_rotation_dialog_get_finished (dialog);
}

static gboolean
rotation_prompt_in (gpointer data)
{
  TkeRotationDialog *dialog = rotation_dialog ();
  TkePinPrompt *p = dialog != NULL ? tke_rotation_dialog_get_pin_prompt (dialog) : NULL;

  return p != NULL && gtk_widget_get_visible (GTK_WIDGET (p)) &&
         (tke_pin_prompt_get_state (p) == (TkePinPromptState) GPOINTER_TO_INT (data) ||
          tke_rotation_dialog_get_finished (dialog));
}

static void
wait_rotation_prompt (TkePinPromptState state)
{
  if (!tke_test_wait_until (rotation_prompt_in, GINT_TO_POINTER (state), 90000))
    g_error ("the rotation dialog never asked (state %d)", state);
  if (tke_rotation_dialog_get_finished (rotation_dialog ()))
    g_error ("the rotation ended: %s", tke_rotation_dialog_get_outcome (rotation_dialog ()));
}

/* Rotate… and the confirmation's button @answer ("Rotate" or "Cancel"). */
static void
press_rotate (const char *answer)
{
  AdwMessageDialog *confirm;

  wait_offered ("rotate");
  press_keys_button ("Rotate…");
  confirm = ADW_MESSAGE_DIALOG (tke_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_assert_nonnull (confirm);
  tke_test_flush_widget (GTK_WIDGET (confirm));
  tke_test_click (tke_test_find_button (GTK_WIDGET (confirm), answer));
  tke_test_iterate (200);
}

static void
close_rotation (const char *screenshot)
{
  TkeRotationDialog *dialog = rotation_dialog ();

  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), screenshot);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
  tke_test_iterate (200);
}

static gboolean
recovery_is (gpointer data)
{
  return tke_recovery_page_get_action (tke_window_get_recovery_page (window)) ==
         (TkeRecoveryAction) GPOINTER_TO_INT (data);
}

static gboolean
is_primary_menu (GtkWidget *widget, gconstpointer data)
{
  return gtk_menu_button_get_primary (GTK_MENU_BUTTON (widget));
}

/* The main menu's item @label, clicked as a person does. */
static void
main_menu_item (const char *label)
{
  GtkWidget *button = tke_test_find_widget_of_type (GTK_WIDGET (window), GTK_TYPE_MENU_BUTTON,
                                                    is_primary_menu, NULL);
  GtkWidget *popover;

  g_assert_nonnull (button);
  popover = tke_test_popup (GTK_MENU_BUTTON (button));
  tke_test_save_screenshot (popover, "demo-walk-main-menu");
  g_signal_emit_by_name (tke_test_menu_item (popover, label), "clicked");
  gtk_menu_button_popdown (GTK_MENU_BUTTON (button));
  tke_test_iterate (200);
}

/* ---- The walk ---- */

static void
test_whole_demo (void)
{
  g_autofree char *start_vp = NULL;
  g_autofree char *first_vp = NULL;
  g_autofree char *second_vp = NULL;
  TkeReadersBar *strip;
  TkeRotationDialog *dialog;
  GtkWidget *page;

  /* Log in, as the demo's window opens: no key loaded yet. */
  open_and_log_in ();
  {
    g_auto (GStrv) ids = emu_unit_ids (emu);
    g_autoptr (JsonObject) q = emu_query (emu, ids[0]);

    start_vp = g_strdup (json_object_get_string_member (q, "current_mkvp"));
  }
  g_free (assert_units (start_vp, "Empty", NULL));
  assert_rotation ("none", 0, NULL);
  tke_test_save_screenshot (GTK_WIDGET (window), "demo-walk-logged-in");

  /* Load, with a Cancel on the first part card's list: nothing changed
   * on the service, and Load is offered again. */
  start_load ();
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Cancel"));
  g_assert_true (tke_test_wait_until (load_offered, (gpointer) "load", 20000));
  g_free (assert_units (start_vp, "Empty", NULL));

  /* Load again: the key part card B from the wizard's Cards menu while it
   * shows card A's list, then card A again for the second part. */
  start_load ();
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  swap_in_wizard (2, card_named ("kpB.card"));
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpB.card");
  load_part (1, 0);
  if (!tke_test_wait_until (description_says, (gpointer) "Every key part on “kpB.card” is loaded",
                            60000))
    g_error ("after part 1: %s", tke_pin_prompt_get_description (prompt ()));
  swap_in_wizard (2, card_named ("kpA.card"));
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  load_part (2, 0);
  finish_load ("demo-walk-loaded");
  first_vp = assert_units (start_vp, "Full Uncommitted", NULL);
  g_assert_cmpstr (first_vp, !=, start_vp);

  commit (start_vp, first_vp, "demo-walk-commit-summary");

  /* Rotate: a Cancel in the confirmation starts nothing.  Then the
   * administrator card comes out through the window's strip, and the
   * rotation dialog waits for it after the rewrap: it goes in from the
   * dialog's own strip, and its PIN on the dialog's pad. */
  press_rotate ("Cancel");
  g_assert_null (rotation_dialog ());
  assert_rotation ("none", 0, NULL);
  strip = tke_window_get_readers_bar (window);
  tke_test_pick_card (strip, 1, "Remove Card", "demo-walk-window-cards-menu");
  in_reader[1] = NULL;
  press_rotate ("Rotate");
  dialog = rotation_dialog ();
  g_assert_nonnull (dialog);
  wait_rotation_prompt (TKE_PIN_PROMPT_WAITING_FOR_CARD);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "demo-walk-rotation-waits-for-card");
  swap_in_strip (tke_rotation_dialog_get_readers_bar (dialog), 1, card_named ("admin1.card"));
  wait_rotation_prompt (TKE_PIN_PROMPT_ENTER_PIN);
  type_pin_on (tke_rotation_dialog_get_pin_prompt (dialog), in_reader[1]->pin);
  g_assert_true (tke_test_wait_until (rotation_finished, NULL, 90000));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  close_rotation ("demo-walk-rotated");
  g_free (assert_units (first_vp, "Empty", NULL));
  assert_rotation ("complete", N_KEYS, NULL);

  /* Another key (parts A2 and A1: the set B + A1 is the current key now),
   * committed. */
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Empty", 20000));
  start_load ();
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  load_part (1, 1);
  /* The same card offers the part not loaded, with no PIN again. */
  load_part (2, 0);
  finish_load ("demo-walk-loaded-again");
  second_vp = assert_units (first_vp, "Full Uncommitted", NULL);
  g_assert_cmpstr (second_vp, !=, first_vp);
  commit (first_vp, second_vp, "demo-walk-commit-again");

  /* The demo's failed rotation: the main menu arms the emulator's fault,
   * the rewrap stops after 1 000 keys, before any PIN. */
  main_menu_item ("Demo: Make the Next Rotation Fail");
  g_assert_true (g_file_test (faults_file, G_FILE_TEST_EXISTS));
  press_rotate ("Rotate");
  g_assert_true (tke_test_wait_until (rotation_finished, NULL, 90000));
  dialog = rotation_dialog ();
  g_test_message ("failed rotation: %s", tke_rotation_dialog_get_outcome (dialog));
  g_assert_nonnull (strstr (tke_rotation_dialog_get_outcome (dialog), "The rotation stopped"));
  g_assert_cmpuint (tke_rotation_dialog_get_n_unit_results (dialog), ==, 0);
  close_rotation ("demo-walk-rotation-failed");
  g_free (assert_units (first_vp, "Full Committed", second_vp));
  assert_rotation ("failed", 1000, "injected_fault");

  /* The Recovery tab: libtke's advice and its one button. */
  if (!tke_test_wait_until (recovery_is, GINT_TO_POINTER (TKE_RECOVERY_ACTION_RESUME_ROTATE),
                            30000))
    g_error ("the Recovery tab advises %d",
             tke_recovery_page_get_action (tke_window_get_recovery_page (window)));
  page = GTK_WIDGET (tke_window_get_recovery_page (window));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "recovery");
  tke_test_iterate (300);
  tke_test_flush_widget (GTK_WIDGET (window));
  g_assert_true (gtk_widget_get_mapped (page));
  g_assert_nonnull (tke_test_find_label_containing (
      page, "The key storage is only partly rewrapped. Rotate again: it resumes where it "
            "stopped."));
  g_assert_cmpuint (tke_test_count_drawn_buttons (page), ==, 1);
  tke_test_save_screenshot (GTK_WIDGET (window), "demo-walk-recovery");
  tke_test_click (tke_test_find_button (page, "Rotate Again"));
  dialog = rotation_dialog ();
  g_assert_nonnull (dialog);
  wait_rotation_prompt (TKE_PIN_PROMPT_ENTER_PIN);
  type_pin_on (tke_rotation_dialog_get_pin_prompt (dialog), in_reader[1]->pin);
  g_assert_true (tke_test_wait_until (rotation_finished, NULL, 90000));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  close_rotation ("demo-walk-recovered");

  /* Every unit on the one key the storage is under, nothing left over. */
  g_free (assert_units (second_vp, "Empty", NULL));
  assert_rotation ("complete", N_KEYS, NULL);
  g_assert_true (
      tke_test_wait_until (recovery_is, GINT_TO_POINTER (TKE_RECOVERY_ACTION_NONE), 30000));
  g_assert_false (g_file_test (faults_file, G_FILE_TEST_EXISTS));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "master-keys");
  tke_test_iterate (300);
  tke_test_flush_widget (GTK_WIDGET (window));
  tke_test_save_screenshot (GTK_WIDGET (window), "demo-walk-end");
}

int
main (int argc, char **argv)
{
  int status;

  faults_dir = g_dir_make_tmp ("tke-gui-demo-walk-faults-XXXXXX", NULL);
  faults_file = g_build_filename (faults_dir, "faults.ini", NULL);
  {
    g_autofree char *keys = g_strdup_printf ("%d", N_KEYS);
    const char *const args[] = { "--init",        "demo",      "--keys", keys,
                                 "--faults-file", faults_file, NULL };

    if (!card_ceremony_set_up_with (&argc, &argv, "tke-gui-demo-walk-XXXXXX", args))
      {
        g_rmdir (faults_dir);
        return 0;
      }
  }
  /* As build-aux/demo starts the application. */
  g_setenv ("TKE_VIRTUAL_CARDS_DIR", readers.dir, TRUE);
  g_setenv ("TKE_DEMO_FAULTS_FILE", faults_file, TRUE);
  g_test_add_func ("/gui/demo-walk/whole-demo", test_whole_demo);
  status = g_test_run ();
  card_ceremony_tear_down ();
  g_remove (faults_file);
  g_rmdir (faults_dir);
  g_free (faults_file);
  g_free (faults_dir);
  return status;
}
