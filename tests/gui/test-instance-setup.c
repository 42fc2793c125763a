/* test-instance-setup.c: the Administrators, Signature thresholds and
 * Imprint mode tabs and the set-up assistant, driven as a person would
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything is real (card-ceremony-fixture.h), with the emulator started
 * in imprint mode: the assistant takes the instance from imprint mode to
 * a Valid current master key (two administrators from their cards, the
 * thresholds with Cancel once, load, commit, set immediate); then an
 * administrator is added and removed out of imprint mode, with the
 * thresholds' signatures; then the units are zeroized (Cancel once).
 * After each step the emulator's own answers are checked.  Every card
 * goes in and out as in the demo, picked from a Cards menu of the readers
 * strip in front (the wizard's or the window's), never behind the window.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "card-ceremony-fixture.h"
#include "tke-test-util.h"

/* A card swapped as a person does it in the demo: picked from the
 * reader's Cards menu in the readers strip in front, the wizard's while
 * one is open, the window's otherwise.  @screenshot (nullable) is the
 * open menu. */
static void
pick_card (guint reader, const Card *card, const char *screenshot)
{
  TkeLoadWizard *front = wizard ();
  TkeReadersBar *bar =
      front != NULL ? tke_load_wizard_get_readers_bar (front) : tke_window_get_readers_bar (window);

  if (screenshot != NULL)
    {
      /* Only the menu is photographed: the pick itself is swap_in_strip's. */
      GtkMenuButton *button = tke_readers_bar_get_card_button (bar, reader);
      GtkWidget *popover = tke_test_popup (button);

      tke_test_save_screenshot (popover, screenshot);
      g_assert_nonnull (tke_test_find_label (popover, card->image));
      gtk_menu_button_popdown (button);
      tke_test_iterate (100);
    }
  swap_in_strip (bar, reader, card);
}

static void
swap_here (guint reader, const Card *card)
{
  pick_card (reader, card, NULL);
}

static TkeSetupAssistant *
assistant (void)
{
  return tke_imprint_page_get_assistant (tke_window_get_imprint_page (window));
}

static gboolean
step_reached (gpointer data)
{
  return tke_setup_assistant_get_step (assistant ()) == (TkeSetupStep) GPOINTER_TO_INT (data);
}

static void
wait_setup_step (TkeSetupStep step)
{
  if (!tke_test_wait_until (step_reached, GINT_TO_POINTER (step), 20000))
    g_error ("the assistant is at step %d (%s), not %d",
             tke_setup_assistant_get_step (assistant ()),
             tke_setup_assistant_get_description (assistant ()), step);
}

static void
show_page (const char *name)
{
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", name);
  tke_test_flush_widget (GTK_WIDGET (window));
}

static void
press (GtkWidget *page, const char *label)
{
  GtkWidget *button = tke_test_find_button (page, label);

  g_assert_nonnull (button);
  g_assert_true (gtk_widget_is_sensitive (button));
  tke_test_click (button);
  tke_test_iterate (100);
}

static AdwMessageDialog *
confirmation (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  AdwMessageDialog *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) candidate = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (candidate) && gtk_widget_get_visible (GTK_WIDGET (candidate)))
        found = ADW_MESSAGE_DIALOG (candidate);
    }
  g_assert_nonnull (found);
  return found;
}

/* Every unit as the emulator answers: imprint mode, thresholds, admins. */
static void
assert_service_units (gboolean imprint, guint sig, guint rev, guint n_admins)
{
  g_auto (GStrv) ids = emu_unit_ids (emu);

  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (JsonObject) q = emu_query (emu, ids[i]);

      g_assert_cmpint (json_object_get_boolean_member (q, "imprint_mode"), ==, imprint);
      g_assert_cmpint (json_object_get_int_member (q, "signature_threshold"), ==, sig);
      g_assert_cmpint (json_object_get_int_member (q, "revocation_threshold"), ==, rev);
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (q, "admins")), ==,
                        n_admins);
    }
}

static gboolean
wizard_gone (gpointer data)
{
  return wizard () == NULL;
}

/* The window's readers strip has read the card in reader 1, as a person
 * sees it there before pressing a button. */
static gboolean
strip_shows (gpointer data)
{
  const char *summary = tke_readers_bar_get_summary (tke_window_get_readers_bar (window), 1);

  return summary != NULL && strstr (summary, in_reader[1]->image) != NULL;
}

static void
wait_strip (void)
{
  if (!tke_test_wait_until (strip_shows, NULL, 30000))
    g_error ("the readers strip shows “%s”, not %s",
             tke_readers_bar_get_summary (tke_window_get_readers_bar (window), 1),
             in_reader[1]->image);
}

static gboolean
sliding (GtkWidget *widget)
{
  if (GTK_IS_STACK (widget) && gtk_stack_get_transition_running (GTK_STACK (widget)))
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (sliding (child))
      return TRUE;
  return FALSE;
}

static gboolean
slide_done (gpointer data)
{
  return wizard () != NULL && !sliding (GTK_WIDGET (wizard ()));
}

/* The wizard's stack has slid to its page, as the screenshot shows it. */
static void
wait_slide_done (void)
{
  g_assert_true (tke_test_wait_until (slide_done, NULL, 20000));
  tke_test_flush_widget (GTK_WIDGET (wizard ()));
}

/* Add administrator: the new administrator's card is in reader 1 already. */
static void
add_admin_from_card (GtkWidget *page, const char *label)
{
  wait_strip ();
  press (page, label);
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  g_assert_cmpstr (tke_load_wizard_get_step (wizard ()), ==, "The new administrator's card");
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "setup-new-admin-pin");
  type_pin (in_reader[1]->pin);
  /* The pad has answered the keys a moment before the card answers the
   * PIN: until then the prompt still asks for it, and sign_until_done()
   * would type it a second time on a reader no longer in PIN mode. */
  g_assert_true (tke_test_wait_until (pin_taken, NULL, 20000));
  sign_until_done (swap_here);
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("add administrator: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "Administrator installed"));
  wait_slide_done ();
}

static void
set_thresholds (guint sig, guint rev, gboolean cancel_first)
{
  TkeThresholdsPage *page = tke_window_get_thresholds_page (window);
  AdwMessageDialog *dialog;

  show_page ("thresholds");
  tke_thresholds_page_set_chosen (page, sig, rev);
  tke_test_iterate (100);
  if (cancel_first)
    {
      /* Cancel is the default; the dialog says what happens first. */
      press (GTK_WIDGET (page), "Change Signature Thresholds…");
      dialog = confirmation ();
      g_assert_cmpstr (adw_message_dialog_get_default_response (dialog), ==, "cancel");
      g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "out of imprint mode"));
      tke_test_save_screenshot (GTK_WIDGET (dialog), "setup-thresholds-confirm");
      adw_message_dialog_response (dialog, "cancel");
      tke_test_iterate (200);
      g_assert_null (wizard ());
      assert_service_units (TRUE, 0, 0, 2);
    }
  press (GTK_WIDGET (page), "Change Signature Thresholds…");
  adw_message_dialog_response (confirmation (), "go");
  tke_test_iterate (100);
  sign_until_done (swap_here);
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("thresholds: %s", tke_load_wizard_get_result_text (wizard ()));
  close_wizard ();
}

static gboolean
step_is (gpointer data)
{
  return wizard () != NULL && g_strcmp0 (tke_load_wizard_get_step (wizard ()), data) == 0;
}

static gboolean
continue_shown (gpointer data)
{
  GtkWidget *go =
      wizard () != NULL ? tke_test_find_button (GTK_WIDGET (wizard ()), "Continue") : NULL;

  /* On screen, not only visible: the count page's Continue is "visible"
   * in the wizard's stack from the start, while the card page is shown
   * and the importer keys are still being made. */
  return go != NULL && gtk_widget_get_mapped (go) &&
         step_is ((gpointer) "Step 2: the number of key parts");
}

/* Load from the assistant: the administrator's PIN, 2 parts, part 1
 * from kpA.card and part 2 from kpB.card. */
static void
load_from_assistant (void)
{
  GtkWidget *parts;

  show_page ("imprint-mode");
  press (GTK_WIDGET (assistant ()), "Load…");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  type_pin (in_reader[1]->pin);
  g_assert_true (tke_test_wait_until (continue_shown, NULL, 30000));
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Continue"));
  /* Part 1 from kpA.card, part 2 from kpB.card: a swap in reader 2. */
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 2");
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  parts = tke_test_find_widget_of_type (GTK_WIDGET (wizard ()), GTK_TYPE_LIST_BOX, NULL, NULL);
  gtk_list_box_select_row (GTK_LIST_BOX (parts),
                           gtk_list_box_get_row_at_index (GTK_LIST_BOX (parts), 0));
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Load This Part"));
  /* Part 1 sealed: the wizard moves on to part 2 before the swap. */
  if (!tke_test_wait_until (step_is, (gpointer) "Step 4 of 4: key part 2 of 2", 60000))
    g_error ("load: the wizard is at “%s” (page %s): %s", tke_load_wizard_get_step (wizard ()),
             tke_load_wizard_get_page (wizard ()), tke_load_wizard_get_result_text (wizard ()));
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  swap_here (2, card_named ("kpB.card"));
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 2");
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpB.card");
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Load This Part"));
  g_assert_true (tke_test_wait_until (wizard_ended, NULL, 60000));
  if (strstr (tke_load_wizard_get_result_text (wizard ()), "New register: Full Uncommitted") ==
      NULL)
    g_error ("load: %s", tke_load_wizard_get_result_text (wizard ()));
  close_wizard ();
}

/* Commit and set immediate from the assistant: the administrators' cards. */
static void
sign_from_assistant (const char *label, const char *confirm_go, const char *result)
{
  show_page ("imprint-mode");
  press (GTK_WIDGET (assistant ()), label);
  if (confirm_go != NULL)
    confirm (confirm_go);
  sign_until_done (swap_here);
  if (strstr (tke_load_wizard_get_result_text (wizard ()), result) == NULL)
    g_error ("%s: %s", label, tke_load_wizard_get_result_text (wizard ()));
  close_wizard ();
}

static gboolean
table_lists (gpointer data)
{
  g_autofree char *table =
      tke_administrators_page_describe (tke_window_get_administrators_page (window));

  return strstr (table, data) != NULL;
}

static void
test_setup_from_imprint (void)
{
  TkeAdministratorsPage *admins;
  g_autofree char *table = NULL;
  g_auto (GStrv) ids = NULL;
  g_autofree char *vp = NULL;

  open_and_log_in ();
  admins = tke_window_get_administrators_page (window);
  assert_service_units (TRUE, 0, 0, 0);
  show_page ("imprint-mode");
  wait_setup_step (TKE_SETUP_STEP_ADMINISTRATORS);
  {
    g_autofree char *imprint = tke_imprint_page_describe (tke_window_get_imprint_page (window));
    g_assert_cmpstr (imprint, ==, "1 imprint\n2 imprint\n3 imprint\n");
  }
  tke_test_save_screenshot (GTK_WIDGET (window), "setup-imprint-mode");

  /* The first administrator: no signatures in imprint mode. */
  add_admin_from_card (GTK_WIDGET (assistant ()), "Add Administrator…");
  g_assert_cmpuint (n_pins_typed, ==, 0); /* sign_until_done: nothing signed */
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "setup-admin-added");
  close_wizard ();
  assert_service_units (TRUE, 0, 0, 1);
  wait_setup_step (TKE_SETUP_STEP_THRESHOLDS);

  /* The second, from the Administrators tab: Cancel once before the PIN. */
  show_page ("administrators");
  pick_card (1, card_named ("admin2.card"), "setup-strip-cards");
  press (GTK_WIDGET (admins), "Add Administrator…");
  g_assert_true (tke_test_wait_until (pad_waits, NULL, 20000));
  {
    g_autofree char *ready = tke_readers_ctl (&readers, 1, "wait-prompt 20000");
    g_assert_cmpstr (ready, ==, "ok");
  }
  tke_test_click (tke_test_find_button (tke_pin_prompt_get_pad (prompt ()), "Cancel"));
  g_assert_true (tke_test_wait_until (wizard_ended, NULL, 20000));
  g_test_message ("cancelled on the pad: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_cmpstr (tke_load_wizard_get_page (wizard ()), ==, "error");
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Close"));
  g_assert_true (tke_test_wait_until (wizard_gone, NULL, 20000));
  assert_service_units (TRUE, 0, 0, 1);
  /* The second time, the card still in. */
  add_admin_from_card (GTK_WIDGET (admins), "Add Administrator…");
  close_wizard ();
  assert_service_units (TRUE, 0, 0, 2);
  g_assert_true (tke_test_wait_until (table_lists, (gpointer) "admin2.card ", 20000));
  table = tke_administrators_page_describe (admins);
  g_test_message ("administrators:\n%s", table);
  g_assert_nonnull (strstr (table, "admin1.card "));
  g_assert_nonnull (strstr (table, "admin2.card "));
  g_assert_nonnull (strstr (table, "Crypto units 1, 2, 3"));
  tke_test_save_screenshot (GTK_WIDGET (window), "setup-administrators");

  /* More than the two administrators: libtke refuses before anything. */
  show_page ("thresholds");
  tke_thresholds_page_set_chosen (tke_window_get_thresholds_page (window), 3, 1);
  tke_test_iterate (100);
  g_assert_nonnull (
      strstr (tke_thresholds_page_get_reason (tke_window_get_thresholds_page (window)),
              "has 2 administrators"));
  tke_test_save_screenshot (GTK_WIDGET (window), "setup-thresholds-too-many");

  /* Leaving imprint mode: the new threshold's two signatures. */
  set_thresholds (2, 1, TRUE);
  assert_service_units (FALSE, 2, 1, 2);
  wait_setup_step (TKE_SETUP_STEP_LOAD);
  {
    g_autofree char *lines = tke_thresholds_page_describe (tke_window_get_thresholds_page (window));
    g_assert_cmpstr (lines, ==, "1 2 1 set\n2 2 1 set\n3 2 1 set\n");
  }
  tke_test_save_screenshot (GTK_WIDGET (window), "setup-thresholds");

  load_from_assistant ();
  wait_setup_step (TKE_SETUP_STEP_COMMIT);
  sign_from_assistant ("Commit…", NULL, "New register: Full Committed");
  wait_setup_step (TKE_SETUP_STEP_SET_IMMEDIATE);
  sign_from_assistant ("Set Immediate…", "Set Immediate", "Current register: Valid");
  wait_setup_step (TKE_SETUP_STEP_DONE);
  show_page ("imprint-mode");
  tke_test_save_screenshot (GTK_WIDGET (window), "setup-done");

  /* The service agrees: the same Valid current key on every unit. */
  ids = emu_unit_ids (emu);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (JsonObject) q = emu_query (emu, ids[i]);

      g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Valid");
      if (vp == NULL)
        vp = g_strdup (json_object_get_string_member (q, "current_mkvp"));
      g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), ==, vp);
    }
}

/* Out of imprint mode: an administrator added with 2 signatures and
 * removed with 1 (the revocation threshold), then the thresholds changed. */
static void
test_add_remove_admin (void)
{
  TkeAdministratorsPage *admins = tke_window_get_administrators_page (window);
  AdwMessageDialog *dialog;

  /* kpB.card has no signature key: the wizard says it is the wrong card. */
  show_page ("administrators");
  swap_here (1, card_named ("kpB.card"));
  press (GTK_WIDGET (admins), "Add Administrator…");
  wait_prompt (TKE_PIN_PROMPT_WRONG_CARD, NULL);
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Cancel"));
  g_assert_true (tke_test_wait_until (wizard_gone, NULL, 20000));
  assert_service_units (FALSE, 2, 1, 2);

  /* admin2 again: already on every unit, refused by libtke. */
  swap_here (1, card_named ("admin2.card"));
  wait_strip ();
  press (GTK_WIDGET (admins), "Add Administrator…");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  type_pin (in_reader[1]->pin);
  g_assert_true (tke_test_wait_until (wizard_ended, NULL, 20000));
  g_assert_nonnull (strstr (tke_load_wizard_get_result_text (wizard ()),
                            "already an administrator of every selected crypto unit"));
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Close"));
  g_assert_true (tke_test_wait_until (wizard_gone, NULL, 20000));

  /* Remove admin2: the revocation threshold is 1, but 2 administrators
   * must stay for the signature threshold: libtke refuses. */
  g_assert_true (tke_administrators_page_select (admins, "admin2.card"));
  tke_test_iterate (100);
  g_assert_false (gtk_widget_is_sensitive (
      tke_test_find_button (GTK_WIDGET (admins), "Remove Administrator…")));
  g_assert_nonnull (strstr (tke_administrators_page_get_reason (admins), "Lower the thresholds"));
  tke_test_save_screenshot (GTK_WIDGET (window), "admins-remove-refused");

  /* Lower the signature threshold to 1 (two signatures, the current one). */
  set_thresholds (1, 1, FALSE);
  assert_service_units (FALSE, 1, 1, 2);

  /* Now remove admin2: Cancel once, then with one signature. */
  show_page ("administrators");
  g_assert_true (tke_administrators_page_select (admins, "admin2.card"));
  tke_test_iterate (100);
  press (GTK_WIDGET (admins), "Remove Administrator…");
  dialog = confirmation ();
  g_assert_cmpstr (adw_message_dialog_get_default_response (dialog), ==, "cancel");
  tke_test_save_screenshot (GTK_WIDGET (dialog), "admins-remove-confirm");
  adw_message_dialog_response (dialog, "cancel");
  tke_test_iterate (200);
  g_assert_null (wizard ());
  press (GTK_WIDGET (admins), "Remove Administrator…");
  confirm ("Remove");
  sign_until_done (swap_here);
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("remove: %s", tke_load_wizard_get_result_text (wizard ()));
  close_wizard ();
  assert_service_units (FALSE, 1, 1, 1);

  /* And admin2 back, with admin1's one signature: its card is read first,
   * then it comes out for admin1's. */
  swap_here (1, card_named ("admin2.card"));
  wait_strip ();
  press (GTK_WIDGET (admins), "Add Administrator…");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  type_pin (in_reader[1]->pin);
  wait_prompt (TKE_PIN_PROMPT_WAITING_FOR_CARD, NULL);
  swap_here (1, card_named ("admin1.card"));
  sign_until_done (swap_here);
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("add out of imprint mode: %s", tke_load_wizard_get_result_text (wizard ()));
  close_wizard ();
  assert_service_units (FALSE, 1, 1, 2);
}

/* The person scrolls the tab to its end, where Zeroize is: the set-up
 * assistant above it pushes it under the fold (issue 15). */
static void
scroll_to_zeroize (TkeImprintPage *page)
{
  GtkWidget *zeroize = tke_test_find_button (GTK_WIDGET (page), "Zeroize Crypto Unit…");
  GtkWidget *scrolled =
      zeroize != NULL ? gtk_widget_get_ancestor (zeroize, GTK_TYPE_SCROLLED_WINDOW) : NULL;
  GtkAdjustment *v;
  graphene_rect_t box;

  g_assert_nonnull (scrolled);
  g_assert_true (gtk_widget_is_ancestor (scrolled, GTK_WIDGET (page)));
  v = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  gtk_adjustment_set_value (v, gtk_adjustment_get_upper (v) - gtk_adjustment_get_page_size (v));
  tke_test_flush_widget (GTK_WIDGET (window));
  tke_test_iterate (100);
  g_assert_true (gtk_widget_get_mapped (zeroize));
  g_assert_true (gtk_widget_compute_bounds (zeroize, scrolled, &box));
  g_test_message ("Zeroize at y %.0f–%.0f of the tab's %d px (scrolled %.0f of %.0f)", box.origin.y,
                  box.origin.y + box.size.height, gtk_widget_get_height (scrolled),
                  gtk_adjustment_get_value (v), gtk_adjustment_get_upper (v));
  g_assert_cmpfloat (box.origin.y, >=, 0);
  g_assert_cmpfloat (box.origin.y + box.size.height, <=, gtk_widget_get_height (scrolled) + 0.5);
  tke_test_save_screenshot (GTK_WIDGET (window), "imprint-zeroize-scrolled");
}

/* Zeroize: Cancel (the default) once, then zeroize with one signature. */
static void
test_zeroize (void)
{
  TkeImprintPage *page = tke_window_get_imprint_page (window);
  AdwMessageDialog *dialog;

  show_page ("imprint-mode");
  scroll_to_zeroize (page);
  press (GTK_WIDGET (page), "Zeroize Crypto Unit…");
  dialog = confirmation ();
  g_assert_cmpstr (adw_message_dialog_get_default_response (dialog), ==, "cancel");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "cannot be undone"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "every administrator"));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "imprint-zeroize-confirm");
  adw_message_dialog_response (dialog, "cancel");
  tke_test_iterate (200);
  g_assert_null (wizard ());
  assert_service_units (FALSE, 1, 1, 2);

  press (GTK_WIDGET (page), "Zeroize Crypto Unit…");
  confirm ("Zeroize");
  sign_until_done (swap_here);
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("zeroize: %s", tke_load_wizard_get_result_text (wizard ()));
  close_wizard ();
  assert_service_units (TRUE, 0, 0, 0);
  wait_setup_step (TKE_SETUP_STEP_ADMINISTRATORS);
  {
    g_auto (GStrv) ids = emu_unit_ids (emu);
    g_autoptr (JsonObject) q = emu_query (emu, ids[0]);

    g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Empty");
  }
  tke_test_save_screenshot (GTK_WIDGET (window), "imprint-zeroized");
  gtk_window_destroy (GTK_WINDOW (window));
  tke_test_iterate (100);
}

int
main (int argc, char **argv)
{
  int status;

  card_ceremony_imprint = TRUE;
  if (!card_ceremony_set_up (&argc, &argv, "tke-instance-setup-XXXXXX"))
    return 0;
  /* As build-aux/demo starts the application: every card is swapped
   * through the readers strips' Cards menus, not behind the window. */
  g_setenv ("TKE_VIRTUAL_CARDS_DIR", readers.dir, TRUE);
  /* In this order: each starts where the one before left the units. */
  g_test_add_func ("/instance-setup/from-imprint-mode", test_setup_from_imprint);
  g_test_add_func ("/instance-setup/add-remove-admin", test_add_remove_admin);
  g_test_add_func ("/instance-setup/zeroize", test_zeroize);
  status = g_test_run ();
  card_ceremony_tear_down ();
  return status;
}
