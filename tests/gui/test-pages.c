/* test-pages.c: tests of the Crypto units, Master keys and Recovery pages
 * (src/gui/tke-crypto-units-page.c, tke-master-keys-page.c, tke-recovery-page.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The pages get TkeCryptoUnit objects built here, as libtke builds them
 * from the service's answers, and are driven as a person would drive
 * them: check boxes clicked, buttons pressed, tooltips read.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "tke-application.h"
#include "tke-rotation-dialog.h"
#include "tke-test-gtk.h"
#include "tke-test-units.h"
#include "tke-window.h"

static TkeApplication *app;

typedef struct
{
  TkeWindow *window;
  GListStore *units;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->window = tke_window_new (app);
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1280, 720);
  f->units = tke_test_units_new ();
  tke_window_set_login_state (f->window, TKE_LOGIN_STATE_LOGGED_IN,
                              "a1b2c3d4-0000-4e5f-8a9b-000000000001");
  tke_window_set_units (f->window, G_LIST_MODEL (f->units));
  tke_readers_bar_set_reader (tke_window_get_readers_bar (f->window), 1, TKE_READER_SLOT_CARD,
                              "EP11", "Admin 1");
  tke_readers_bar_set_reader (tke_window_get_readers_bar (f->window), 2, TKE_READER_SLOT_EMPTY,
                              NULL, NULL);
  gtk_window_present (GTK_WINDOW (f->window));
  tke_test_flush_widget (GTK_WIDGET (f->window));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  gtk_window_destroy (GTK_WINDOW (f->window));
  g_clear_object (&f->units);
}

static TkeCryptoUnit *
unit_at (Fixture *f, guint i)
{
  TkeCryptoUnit *unit = g_list_model_get_item (G_LIST_MODEL (f->units), i);
  g_object_unref (unit); /* the store keeps it */
  return unit;
}

static void
show_page (Fixture *f, const char *name)
{
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", name);
  tke_test_flush_widget (GTK_WIDGET (f->window));
}

static gboolean
tooltip_is (GtkWidget *widget, gconstpointer text)
{
  return g_strcmp0 (gtk_widget_get_tooltip_text (widget), text) == 0;
}

/* The SELECTED check box of the row that shows crypto unit NUMBER. */
static GtkWidget *
check_for_unit (Fixture *f, guint number)
{
  g_autofree char *name = g_strdup_printf ("Select crypto unit %u", number);
  GtkWidget *check = tke_test_find_widget_of_type (
      GTK_WIDGET (tke_window_get_units_page (f->window)), GTK_TYPE_CHECK_BUTTON, tooltip_is, name);
  g_assert_nonnull (check);
  return check;
}

static guint
count_visible_buttons (GtkWidget *root)
{
  guint n = GTK_IS_BUTTON (root) && gtk_widget_get_visible (root);

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (gtk_widget_get_visible (child))
      n += count_visible_buttons (child);
  return n;
}

static void
test_units_table (Fixture *f, gconstpointer data)
{
  GtkWidget *page = GTK_WIDGET (tke_window_get_units_page (f->window));
  GtkColumnView *view =
      GTK_COLUMN_VIEW (tke_test_find_widget_of_type (page, GTK_TYPE_COLUMN_VIEW, NULL, NULL));
  GListModel *columns = gtk_column_view_get_columns (view);
  const char *titles[] = {
    "SERVICE INSTANCE", "CRYPTO UNIT NUM", "SELECTED",        "TYPE",        "LOCATION",
    "ADMINISTRATORS",   "SIGNATURE THR.",  "REVOCATION THR.", "IMPRINT MODE"
  };

  show_page (f, "crypto-units");
  g_assert_cmpuint (g_list_model_get_n_items (columns), ==, G_N_ELEMENTS (titles));
  for (guint i = 0; i < G_N_ELEMENTS (titles); i++)
    {
      g_autoptr (GtkColumnViewColumn) column = g_list_model_get_item (columns, i);
      g_assert_cmpstr (gtk_column_view_column_get_title (column), ==, titles[i]);
    }

  g_assert_nonnull (tke_test_find_label (page, "[us-south].[AZ3-CS3].[02].[03]"));
  g_assert_nonnull (tke_test_find_label (page, "OPERATIONAL"));
  g_assert_nonnull (tke_test_find_label (page, "RECOVERY"));
  g_assert_nonnull (tke_test_find_label (page, "2: Alice Admin, Bob Admin"));
  g_assert_nonnull (tke_test_find_label (page, "0 of 4 crypto units selected"));

  /* A live table: a change in the unit shows without a refresh. */
  tke_crypto_unit_set_thresholds (unit_at (f, 0), TRUE, 0, 0);
  tke_test_flush_widget (GTK_WIDGET (f->window));
  g_assert_nonnull (tke_test_find_label (page, "Yes"));
  tke_crypto_unit_set_thresholds (unit_at (f, 0), FALSE, 2, 1);
}

static void
test_units_selection_refuses_two_instances (Fixture *f, gconstpointer data)
{
  TkeCryptoUnitsPage *page = tke_window_get_units_page (f->window);
  GtkWidget *refusal;

  show_page (f, "crypto-units");
  tke_test_click (check_for_unit (f, 1));
  gtk_widget_activate (check_for_unit (f, 2));
  tke_test_flush_widget (GTK_WIDGET (f->window));
  g_assert_true (tke_crypto_unit_get_selected (unit_at (f, 0)));
  g_assert_true (tke_crypto_unit_get_selected (unit_at (f, 1)));
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (page), "2 of 4 crypto units selected"));

  /* Unit 4 belongs to another service instance: refused, with the reason. */
  gtk_widget_activate (check_for_unit (f, 4));
  tke_test_flush_widget (GTK_WIDGET (f->window));
  g_assert_false (tke_crypto_unit_get_selected (unit_at (f, 3)));
  g_assert_false (gtk_check_button_get_active (GTK_CHECK_BUTTON (check_for_unit (f, 4))));
  g_assert_nonnull (tke_crypto_units_page_get_refusal (page));
  refusal =
      tke_test_find_label_containing (GTK_WIDGET (page), "must belong to one service instance");
  g_assert_nonnull (refusal);
  g_assert_true (
      gtk_widget_get_child_visible (gtk_widget_get_ancestor (refusal, GTK_TYPE_REVEALER)) ||
      gtk_revealer_get_reveal_child (
          GTK_REVEALER (gtk_widget_get_ancestor (refusal, GTK_TYPE_REVEALER))));
  tke_test_iterate (300); /* the revealer's transition */
  tke_test_save_screenshot (GTK_WIDGET (f->window), "crypto-units-refused");

  /* Add Crypto Units with the highlighted rows does the same. */
  {
    GtkColumnView *view = GTK_COLUMN_VIEW (
        tke_test_find_widget_of_type (GTK_WIDGET (page), GTK_TYPE_COLUMN_VIEW, NULL, NULL));
    GtkSelectionModel *rows = gtk_column_view_get_model (view);

    gtk_selection_model_select_item (rows, 2, TRUE);
    tke_test_click (tke_test_find_button (GTK_WIDGET (page), "Add Crypto Units"));
    g_assert_true (tke_crypto_unit_get_selected (unit_at (f, 2)));
    g_assert_null (tke_crypto_units_page_get_refusal (page));
    gtk_selection_model_select_item (rows, 3, TRUE);
    tke_test_click (tke_test_find_button (GTK_WIDGET (page), "Add Crypto Units"));
    g_assert_false (tke_crypto_unit_get_selected (unit_at (f, 3)));
    g_assert_nonnull (tke_crypto_units_page_get_refusal (page));
    gtk_selection_model_select_item (rows, 0, TRUE);
    tke_test_click (tke_test_find_button (GTK_WIDGET (page), "Remove Crypto Units"));
    g_assert_false (tke_crypto_unit_get_selected (unit_at (f, 0)));
  }
  tke_test_flush_widget (GTK_WIDGET (f->window));
  tke_test_save_screenshot (GTK_WIDGET (f->window), "crypto-units");
}

static gboolean
status_title_is (GtkWidget *widget, gconstpointer title)
{
  return g_strcmp0 (adw_status_page_get_title (ADW_STATUS_PAGE (widget)), title) == 0 &&
         gtk_widget_get_mapped (widget);
}

static void
test_units_states (Fixture *f, gconstpointer data)
{
  TkeCryptoUnitsPage *page = tke_window_get_units_page (f->window);
  struct
  {
    TkeCryptoUnitsPageState state;
    const char *title;
    const char *button;
    const char *shot;
  } states[] = {
    { TKE_CRYPTO_UNITS_PAGE_NOT_LOGGED_IN, "Not Logged In", "Log In…", "units-not-logged-in" },
    { TKE_CRYPTO_UNITS_PAGE_LOADING, "Reading Crypto Units", NULL, "units-loading" },
    { TKE_CRYPTO_UNITS_PAGE_NO_INSTANCES, "No Service Instances", "Refresh", NULL },
    { TKE_CRYPTO_UNITS_PAGE_NO_READERS, "No Smart Card Readers Found", "Refresh",
      "units-no-readers" },
    { TKE_CRYPTO_UNITS_PAGE_ERROR, "Could Not Read the Crypto Units", "Try Again", "units-error" },
  };
  guint refreshes = 0;

  show_page (f, "crypto-units");
  g_signal_connect_swapped (f->window, "refresh", G_CALLBACK (g_atomic_int_inc), &refreshes);
  for (guint i = 0; i < G_N_ELEMENTS (states); i++)
    {
      GtkWidget *status;

      tke_crypto_units_page_set_state (page, states[i].state,
                                       states[i].state == TKE_CRYPTO_UNITS_PAGE_ERROR
                                           ? "The service could not be reached: Connection refused."
                                           : NULL);
      tke_test_iterate (250);
      tke_test_flush_widget (GTK_WIDGET (f->window));
      status = tke_test_find_widget_of_type (GTK_WIDGET (page), ADW_TYPE_STATUS_PAGE,
                                             status_title_is, states[i].title);
      g_assert_nonnull (status);
      if (states[i].button != NULL)
        g_assert_nonnull (tke_test_find_button (status, states[i].button));
      if (states[i].shot != NULL)
        tke_test_save_screenshot (GTK_WIDGET (f->window), states[i].shot);
    }
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (page),
                                         "The service could not be reached: Connection refused."));
  tke_test_click (tke_test_find_button (GTK_WIDGET (page), "Try Again"));
  g_assert_cmpuint (refreshes, ==, 1);
}

/* ---- Master keys ---- */

static void
select_instance (Fixture *f)
{
  for (guint i = 0; i < 3; i++)
    tke_crypto_unit_set_selected (unit_at (f, i), TRUE);
  tke_test_iterate (50);
}

static gboolean
sensitivity_is (gpointer data)
{
  gpointer *args = data;

  return gtk_widget_is_sensitive (args[0]) == GPOINTER_TO_INT (args[1]);
}

static void
assert_enabled (TkeMasterKeysPage *page,
                const char *name,
                gboolean enabled,
                const char *reason_part)
{
  const char *labels[][2] = {
    { "load", "Load…" },           { "commit", "Commit…" },
    { "rotate", "Rotate…" },       { "set-immediate", "Set Immediate…" },
    { "clear-new", "Clear New…" }, { "clear-current", "Clear Current…" }
  };
  const char *reason = tke_master_keys_page_get_disabled_reason (page, name);
  GtkWidget *button = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_str_equal (labels[i][0], name))
      button = tke_test_find_button (GTK_WIDGET (page), labels[i][1]);
  g_assert_nonnull (button);
  /* The page follows the units on its next turn of the main loop, which a
   * slow (sanitizer) build may not have taken yet. */
  {
    gpointer args[2] = { button, GINT_TO_POINTER (enabled) };

    tke_test_wait_until (sensitivity_is, args, 5000);
  }
  g_assert_cmpint (gtk_widget_is_sensitive (button), ==, enabled);
  reason = tke_master_keys_page_get_disabled_reason (page, name);
  if (enabled)
    {
      g_assert_null (reason);
      return;
    }
  /* Disabled: the tooltip says why, in words. */
  g_assert_nonnull (reason);
  g_assert_cmpstr (gtk_widget_get_tooltip_text (button), ==, reason);
  if (reason_part != NULL && strstr (reason, reason_part) == NULL)
    g_error ("%s: “%s” does not say “%s”", name, reason, reason_part);
}

static void
test_keys_registers_and_buttons (Fixture *f, gconstpointer data)
{
  TkeMasterKeysPage *page = tke_window_get_master_keys_page (f->window);
  g_autofree char *groups = tke_vp_format_groups (TEST_VP_A);
  g_autofree char *groups_b = tke_vp_format_groups (TEST_VP_B);

  show_page (f, "master-keys");
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (page), "No Crypto Units Selected"));
  assert_enabled (page, "load", FALSE, "Select crypto units");

  select_instance (f);
  tke_test_flush_widget (GTK_WIDGET (f->window));
  g_assert_cmpuint (g_list_model_get_n_items (tke_master_keys_page_get_selected_units (page)), ==,
                    3);
  /* The VP in groups of four, eight a line, so two people can read it aloud. */
  g_assert_cmpstr (
      groups, ==,
      "d2e7 f8ab 03c4 e5f6 0718 293a 4b5c 6d7e\n8f90 a1b2 c3d4 e5f6 0718 293a 4b5c 2003");
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (page), groups));
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (page), "Same as the others"));
  g_assert_null (tke_test_find_label_containing (GTK_WIDGET (page), "Differs"));

  /* Empty new registers: only Load and Clear current. */
  assert_enabled (page, "load", TRUE, NULL);
  assert_enabled (page, "commit", FALSE, "Commit needs Full Uncommitted");
  assert_enabled (page, "rotate", FALSE, "Rotate needs Full Committed");
  assert_enabled (page, "set-immediate", FALSE, "to finish a rotation that did not complete");
  assert_enabled (page, "clear-new", FALSE, "already Empty");
  assert_enabled (page, "clear-current", TRUE, NULL);
  tke_test_save_screenshot (GTK_WIDGET (f->window), "master-keys");

  /* Loaded: Commit. */
  tke_test_units_set_new (f->units, TKE_NEW_REGISTER_FULL_UNCOMMITTED, TEST_VP_B);
  tke_test_iterate (50);
  assert_enabled (page, "load", FALSE, "is Full Uncommitted");
  assert_enabled (page, "commit", TRUE, NULL);
  assert_enabled (page, "clear-new", TRUE, NULL);

  /* Committed: Rotate. */
  tke_test_units_set_new (f->units, TKE_NEW_REGISTER_FULL_COMMITTED, TEST_VP_B);
  tke_test_iterate (50);
  assert_enabled (page, "rotate", TRUE, NULL);
  assert_enabled (page, "commit", FALSE, "is Full Committed");

  /* Unit 3 holds another key: marked in words and colour, Rotate refused. */
  tke_crypto_unit_set_registers (unit_at (f, 2), TKE_NEW_REGISTER_FULL_COMMITTED, TEST_VP_C,
                                 TKE_CURRENT_REGISTER_VALID, TEST_VP_A);
  tke_test_iterate (50);
  tke_test_flush_widget (GTK_WIDGET (f->window));
  {
    GtkWidget *marker = tke_test_find_label (GTK_WIDGET (page), "⚠ Differs: new VP");
    GtkWidget *notice =
        tke_test_find_label_containing (GTK_WIDGET (page), "The registers of crypto unit 3 differ");

    g_assert_nonnull (marker);
    g_assert_true (gtk_widget_has_css_class (marker, "tke-differs"));
    g_assert_nonnull (notice);
  }
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (page), groups_b));
  assert_enabled (page, "rotate", FALSE, "different keys");
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (f->window), "master-keys-differs");

  /* In imprint mode nothing runs. */
  tke_crypto_unit_set_thresholds (unit_at (f, 1), TRUE, 0, 0);
  tke_test_iterate (50);
  assert_enabled (page, "clear-new", FALSE, "Crypto unit 2 is in imprint mode");
}

static guint n_requests;
static char *last_request;

static void
on_ceremony (
    TkeWindow *window, TkeCeremonyKind kind, GListModel *units, GtkWindow *dialog, gpointer data)
{
  n_requests++;
  g_free (last_request);
  last_request = g_strdup ("ceremony");
  gtk_window_destroy (dialog);
}

/* The recovery's one action goes out with the selected units. */
static void
on_recover (TkeWindow *window, GListModel *units, GtkWindow *dialog, gpointer data)
{
  n_requests++;
  g_free (last_request);
  last_request = g_strdup ("recover");
  g_assert_cmpuint (g_list_model_get_n_items (units), ==, 3);
  g_assert_true (TKE_IS_ROTATION_DIALOG (dialog));
  gtk_window_destroy (dialog);
}

static void
test_recovery_offers_one_action (Fixture *f, gconstpointer data)
{
  TkeMasterKeysPage *keys = tke_window_get_master_keys_page (f->window);
  GtkWidget *recovery = GTK_WIDGET (tke_window_get_recovery_page (f->window));
  guint n_buttons = 0;

  select_instance (f);
  /* Rewrapped, then set immediate failed on unit 2: unit 1 already has the
   * new key in its current register. */
  tke_test_units_set_new (f->units, TKE_NEW_REGISTER_FULL_COMMITTED, TEST_VP_B);
  tke_crypto_unit_set_registers (unit_at (f, 0), TKE_NEW_REGISTER_EMPTY, TKE_EMPTY_VP,
                                 TKE_CURRENT_REGISTER_VALID, TEST_VP_B);
  tke_test_iterate (50);
  tke_window_set_recovery (
      f->window, TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE,
      "The key storage is rewrapped under the new master key, and crypto unit 1 already uses it. "
      "Remove crypto unit 1 from the selection, then set the new key immediately on units 2 and "
      "3.");
  tke_test_iterate (300);
  tke_test_flush_widget (GTK_WIDGET (f->window));

  g_assert_true (gtk_widget_get_mapped (recovery));
  g_assert_nonnull (
      tke_test_find_label (recovery, "Leave Out the Switched Units, Then Set Immediate"));
  g_assert_nonnull (
      tke_test_find_label_containing (recovery, "Remove crypto unit 1 from the selection"));
  n_buttons = count_visible_buttons (recovery);
  g_assert_cmpuint (n_buttons, ==, 1);
  g_assert_nonnull (tke_test_find_button (recovery, "Remove Switched Units and Set Immediate"));
  tke_test_save_screenshot (GTK_WIDGET (f->window), "recovery-page");

  /* Every ceremony button of the Master keys tab is off meanwhile. */
  assert_enabled (keys, "rotate", FALSE, "did not finish");
  assert_enabled (keys, "load", FALSE, "did not finish");
  assert_enabled (keys, "clear-current", FALSE, "did not finish");

  g_signal_connect (f->window, "ceremony", G_CALLBACK (on_ceremony), NULL);
  g_signal_connect (f->window, "recover", G_CALLBACK (on_recover), NULL);
  n_requests = 0;
  tke_test_click (tke_test_find_button (recovery, "Remove Switched Units and Set Immediate"));
  g_assert_cmpuint (n_requests, ==, 1);
  g_assert_cmpstr (last_request, ==, "recover");

  /* Set immediate advised: that button is the one enabled on the tab too. */
  tke_window_set_recovery (f->window, TKE_RECOVERY_ACTION_SET_IMMEDIATE,
                           "Set immediate on all units.");
  assert_enabled (keys, "set-immediate", TRUE, NULL);
  assert_enabled (keys, "rotate", FALSE, "did not finish");

  /* Nothing safe: no button at all. */
  tke_window_set_recovery (f->window, TKE_RECOVERY_ACTION_STOP,
                           "The new registers hold different keys.");
  g_assert_cmpuint (count_visible_buttons (recovery), ==, 0);
  for (guint i = 0; i < 6; i++)
    {
      const char *names[] = { "load",          "commit",    "rotate",
                              "set-immediate", "clear-new", "clear-current" };
      g_assert_nonnull (tke_master_keys_page_get_disabled_reason (keys, names[i]));
    }

  tke_window_set_recovery (f->window, TKE_RECOVERY_ACTION_NONE, NULL);
  g_clear_pointer (&last_request, g_free);
}

int
main (int argc, char **argv)
{
  if (!tke_test_gtk_can_run (NULL))
    return 0;

  tke_test_gtk_init (&argc, &argv);
  app = tke_test_gtk_application_new ();

#define ADD(path, func)                                                                            \
  g_test_add ("/gui/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("units/table", test_units_table);
  ADD ("units/selection-refuses-two-instances", test_units_selection_refuses_two_instances);
  ADD ("units/states", test_units_states);
  ADD ("keys/registers-and-buttons", test_keys_registers_and_buttons);
  ADD ("recovery/one-action", test_recovery_offers_one_action);

  return g_test_run ();
}
