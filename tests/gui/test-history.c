/* test-history.c: the History tab and the ceremony report, through the
 * widgets (src/gui/tke-history-page.c, src/gui/tke-report-dialog.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything is real, as in test-card-ceremonies: tke-emulator over HTTPS,
 * pcscd with the two virtual PIN-pad readers, card images made with
 * tke-card.  The person runs a ceremony with an administrator card, finds
 * it on the History tab without a restart, opens its report, verifies it,
 * cancels the export dialog, exports JSON and PDF that `tke report verify`
 * accepts, opens the report a second time; then someone changes a byte of
 * the ceremony record, and the tab says which record fails.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "card-ceremony-fixture.h"
#include "tke-history-page.h"
#include "report-dialog-waits.h"
#include "tke-report-dialog.h"
#include "tke-virtual-pin-pad.h"
#include "tke-window.h"

static TkeHistoryPage *
history (void)
{
  return tke_window_get_history_page (window);
}

static gboolean
history_read (gpointer data)
{
  return tke_history_page_get_n_loads (history ()) >= GPOINTER_TO_UINT (data);
}

static gboolean
history_lists (gpointer data)
{
  return tke_history_page_get_n_ceremonies (history ()) >= GPOINTER_TO_UINT (data);
}

static gboolean
history_has_problem (gpointer data)
{
  return tke_history_page_get_problem (history ()) != NULL;
}

static gboolean
chooser_shown (gpointer data)
{
  GtkWindow *dialog = tke_test_find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG);

  return dialog != NULL && gtk_widget_get_mapped (GTK_WIDGET (dialog));
}

static gboolean
chooser_gone (gpointer data)
{
  return tke_report_dialog_get_chooser (report_dialog ()) == NULL &&
         tke_test_find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG) == NULL;
}

static gboolean
exported (gpointer data)
{
  return tke_report_dialog_get_exported_json (report_dialog ()) != NULL &&
         !tke_report_dialog_get_busy (report_dialog ());
}

/* The PIN on the pad of @p, one key at a time, each once the reader has
 * taken the one before, as a person watches the dots.  (The fixture's
 * type_pin_on() presses every key at once; on this dialog's pad the
 * reader did not answer them all within its 10 s.) */
static void
type_pin_key_by_key (TkePinPrompt *p, const char *pin)
{
  GtkWidget *pad = tke_pin_prompt_get_pad (p);
  guint n = tke_virtual_pin_pad_get_n_replies (TKE_VIRTUAL_PIN_PAD (pad));
  gpointer args[2] = { pad, NULL };
  g_autofree char *ready = tke_readers_ctl (&readers, 1, "wait-prompt 20000");

  /* The screen says so a moment before the reader is in PIN mode. */
  g_assert_cmpstr (ready, ==, "ok");
  for (const char *k = pin;; k++)
    {
      char label[2] = { *k, '\0' };

      tke_test_click (tke_test_find_button (pad, *k != '\0' ? label : "OK"));
      args[1] = GUINT_TO_POINTER (++n);
      if (!tke_test_wait_until (replies_reach, args, 10000))
        g_error ("the reader did not take key %u of the PIN (last reply “%s”)",
                 (guint) (k - pin) + 1,
                 tke_virtual_pin_pad_get_last_reply (TKE_VIRTUAL_PIN_PAD (pad)));
      if (*k == '\0')
        break;
    }
}

static gboolean
prompt_waits (gpointer data)
{
  return tke_pin_prompt_get_state (data) == TKE_PIN_PROMPT_ENTER_PIN;
}

static gboolean
report_offered (gpointer data)
{
  return wizard () != NULL && tke_load_wizard_get_report_id (wizard ()) != NULL;
}

static void
show_history (void)
{
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "history");
  tke_test_flush_widget (GTK_WIDGET (window));
}

/* Opens the newest ceremony's report, as a click on its row. */
static TkeReportDialog *
open_newest_report (void)
{
  tke_history_page_open_row (history (), 0);
  g_assert_true (tke_test_wait_until (report_ready, NULL, 30000));
  tke_test_flush_widget (GTK_WIDGET (report_dialog ()));
  return report_dialog ();
}

static void
close_report (void)
{
  gtk_window_close (GTK_WINDOW (report_dialog ()));
  g_assert_true (tke_test_wait_until (report_gone, NULL, 5000));
}

static void
press_verify (TkeReportDialog *dialog)
{
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Verify"));
  g_assert_true (tke_test_wait_until (report_idle, NULL, 30000));
  tke_test_flush_widget (GTK_WIDGET (dialog));
}

static GtkFileChooser *
press_export (TkeReportDialog *dialog)
{
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Export…"));
  g_assert_true (tke_test_wait_until (chooser_shown, NULL, 10000));
  g_assert_nonnull (tke_report_dialog_get_chooser (dialog));
  tke_test_iterate (300); /* it loads its first folder */
  return GTK_FILE_CHOOSER (tke_test_find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG));
}

static gboolean
chooser_names (gpointer data)
{
  GtkFileChooser *chooser =
      GTK_FILE_CHOOSER (tke_test_find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG));
  g_autoptr (GFile) file = chooser != NULL ? gtk_file_chooser_get_file (chooser) : NULL;
  g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

  return g_strcmp0 (path, data) == 0;
}

/* The folder and the name typed, as a person does: the folder loads
 * before the name is taken. */
static void
choose_file (GtkFileChooser *chooser, const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *name = g_path_get_basename (path);
  g_autoptr (GFile) folder = g_file_new_for_path (dir);

  g_autoptr (GError) error = NULL;

  if (!gtk_file_chooser_set_current_folder (chooser, folder, &error))
    g_error ("the file chooser does not go to %s: %s", dir, error ? error->message : "?");
  /* GTK 4.8's chooser loads the folder it opened with, then this one,
   * and says neither: a person's moment, then the name. */
  tke_test_iterate (500);
  gtk_file_chooser_set_current_name (chooser, name);
  if (!tke_test_wait_until (chooser_names, (gpointer) path, 10000))
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (chooser);
      g_autofree char *chosen = file != NULL ? g_file_get_path (file) : NULL;

      g_error ("the file chooser names %s, not %s", chosen, path);
    }
}

static char *
run_tke_report_verify (const char *file, int *status)
{
  const char *tke = g_getenv ("TKE_CLI");
  const char *argv[] = { tke, "report", "verify", file, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (tke);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               status, &error));
  g_assert_no_error (error);
  return g_strconcat (out, err, NULL);
}

/* ---- The tests ---- */

static guint n_before;

static void
test_lists_a_ceremony (void)
{
  g_autofree char *lines = NULL;
  gint64 start = g_get_monotonic_time ();

  open_and_log_in ();
  show_history ();
  g_assert_true (tke_test_wait_until (history_read, GUINT_TO_POINTER (1), 20000));
  n_before = tke_history_page_get_n_ceremonies (history ());
  g_test_message ("History lists %u ceremonies before", n_before);
  g_assert_null (tke_history_page_get_problem (history ()));

  /* Clear Current, with the administrator card in reader 1. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "master-keys");
  tke_test_flush_widget (GTK_WIDGET (window));
  press_keys_button ("Clear Current…");
  confirm ("Clear Current");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  sign_until_done (swap_card);
  g_test_message ("clear current: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "Current register: Empty"));

  /* "Ceremony Report" on the result page, once the last record is
   * written: the timeline to its end. */
  g_assert_true (tke_test_wait_until (report_offered, NULL, 20000));
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Ceremony Report"));
  g_assert_true (tke_test_wait_until (report_ready, NULL, 30000));
  g_assert_nonnull (tke_report_dialog_get_report (report_dialog ()));
  tke_test_flush_widget (GTK_WIDGET (report_dialog ()));
  g_assert_nonnull (
      tke_test_find_label_containing (GTK_WIDGET (report_dialog ()), "clear-current end ok"));
  tke_test_iterate (200);
  tke_test_save_screenshot (GTK_WIDGET (report_dialog ()), "history-report-after-ceremony");
  close_report ();
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "history-wizard-result");
  close_wizard ();

  /* On the History tab, without a restart: the record's directory is
   * watched. */
  show_history ();
  if (!tke_test_wait_until (history_lists, GUINT_TO_POINTER (n_before + 1), 20000))
    g_error ("History still lists %u ceremonies", tke_history_page_get_n_ceremonies (history ()));
  /* Its last record (written after the wizard's result) too. */
  {
    gboolean ended = FALSE;

    for (guint tries = 0; !ended && tries < 100; tries++)
      {
        g_free (lines);
        lines = tke_history_page_describe (history ());
        ended = g_str_has_prefix (lines, "clear-current ok ");
        if (!ended)
          tke_test_iterate (100);
      }
  }
  g_test_message ("History:\n%s", lines);
  g_assert_true (g_str_has_prefix (lines, "clear-current ok units=1,2,3 deviations=0"));
  g_assert_null (tke_history_page_get_problem (history ()));
  tke_test_flush_widget (GTK_WIDGET (window));
  g_assert_nonnull (tke_test_find_label_containing (GTK_WIDGET (history ()), "Clear current"));
  g_assert_nonnull (
      tke_test_find_label_containing (GTK_WIDGET (history ()), "Crypto units 1, 2, 3 · Completed"));
  tke_test_save_screenshot (GTK_WIDGET (window), "history-after-clear-current");
  g_test_message ("ceremony to History row: %.1f s", (g_get_monotonic_time () - start) / 1e6);
}

static void
test_report_verify_export (void)
{
  TkeReportDialog *dialog;
  GtkFileChooser *chooser;
  g_autofree char *dir = g_build_filename (base_dir, "exports", NULL);
  g_autofree char *json = g_build_filename (dir, "clear-current.json", NULL);
  g_autofree char *pdf = g_build_filename (dir, "clear-current.pdf", NULL);
  g_autofree char *signed_json = g_build_filename (dir, "clear-current-signed.json", NULL);
  g_autofree char *cancelled_status = NULL;
  g_autofree char *out = NULL;
  g_autofree char *pdf_head = NULL;
  gint64 start;
  int status = -1;

  if (window == NULL)
    {
      g_test_skip ("needs the ceremony before it");
      return;
    }
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  show_history ();
  dialog = open_newest_report ();
  g_assert_nonnull (tke_report_dialog_get_report (dialog));
  /* The timeline: the ceremony's records, before and after per unit. */
  g_assert_nonnull (
      tke_test_find_label_containing (GTK_WIDGET (dialog), "clear-current ceremony begin"));
  g_assert_nonnull (tke_test_find_label_containing (GTK_WIDGET (dialog), "clear-current end ok"));
  g_assert_nonnull (tke_test_find_label_containing (GTK_WIDGET (dialog),
                                                    "Crypto unit 1\n  before, new register:"));
  g_assert_nonnull (tke_test_find_label_containing (GTK_WIDGET (dialog), "administrator"));
  tke_test_iterate (200);
  tke_test_save_screenshot (GTK_WIDGET (dialog), "history-report");

  /* Verify. */
  start = g_get_monotonic_time ();
  press_verify (dialog);
  g_test_message ("Verify: %s (%.2f s)", tke_report_dialog_get_status (dialog),
                  (g_get_monotonic_time () - start) / 1e6);
  g_assert_true (g_str_has_prefix (tke_report_dialog_get_status (dialog), "The report verifies"));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "history-report-verified");

  /* Export…, cancelled: nothing written, nothing said. */
  chooser = press_export (dialog);
  choose_file (chooser, json);
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (chooser), "history-export-chooser");
  cancelled_status = g_strdup (tke_report_dialog_get_status (dialog));
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_CANCEL);
  g_assert_true (tke_test_wait_until (chooser_gone, NULL, 5000));
  tke_test_iterate (200);
  g_assert_null (tke_report_dialog_get_exported_json (dialog));
  g_assert_false (g_file_test (json, G_FILE_TEST_EXISTS));
  g_assert_cmpstr (tke_report_dialog_get_status (dialog), ==, cancelled_status);

  /* Export… again, saved: the JSON and the PDF next to it. */
  chooser = press_export (dialog);
  choose_file (chooser, json);
  start = g_get_monotonic_time ();
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  g_assert_true (tke_test_wait_until (exported, NULL, 30000));
  g_test_message ("Export: %s (%.2f s)", tke_report_dialog_get_status (dialog),
                  (g_get_monotonic_time () - start) / 1e6);
  g_assert_cmpstr (tke_report_dialog_get_exported_json (dialog), ==, json);
  g_assert_cmpstr (tke_report_dialog_get_exported_pdf (dialog), ==, pdf);
  g_assert_true (g_file_get_contents (pdf, &pdf_head, NULL, NULL));
  g_assert_true (g_str_has_prefix (pdf_head, "%PDF-"));
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "history-report-exported");
  out = run_tke_report_verify (json, &status);
  g_test_message ("tke report verify: %s", out);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "The report verifies"));
  close_report ();

  /* A second time: the same report, Verify and Export… again; and Sign…
   * with the administrator card in reader 1, its PIN on the pad. */
  dialog = open_newest_report ();
  press_verify (dialog);
  g_assert_true (g_str_has_prefix (tke_report_dialog_get_status (dialog), "The report verifies"));
  chooser = press_export (dialog);
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_CANCEL);
  g_assert_true (tke_test_wait_until (chooser_gone, NULL, 5000));
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Sign…"));
  {
    TkePinPrompt *pad_prompt = tke_report_dialog_get_pin_prompt (dialog);

    if (!tke_test_wait_until (prompt_waits, pad_prompt, 20000))
      g_error ("Sign…: the prompt shows “%s” (state %d)", tke_pin_prompt_get_title (pad_prompt),
               tke_pin_prompt_get_state (pad_prompt));
    tke_test_iterate (300);
    tke_test_save_screenshot (GTK_WIDGET (dialog), "history-report-sign-pin");
    type_pin_key_by_key (pad_prompt, in_reader[1]->pin);
  }
  g_assert_true (tke_test_wait_until (report_idle, NULL, 30000));
  g_test_message ("Sign…: %s", tke_report_dialog_get_status (dialog));
  g_assert_true (g_str_has_prefix (tke_report_dialog_get_status (dialog),
                                   "The administrator's signature is added"));
  {
    g_auto (GStrv) names =
        tke_ceremony_report_dup_signer_names (tke_report_dialog_get_report (dialog));

    g_assert_cmpuint (g_strv_length (names), ==, 2);
    g_test_message ("signed by %s and %s", names[0], names[1]);
  }
  press_verify (dialog);
  g_assert_true (g_str_has_prefix (tke_report_dialog_get_status (dialog), "The report verifies"));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "history-report-signed");
  chooser = press_export (dialog);
  choose_file (chooser, signed_json);
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  g_assert_true (tke_test_wait_until (exported, NULL, 30000));
  g_assert_cmpstr (tke_report_dialog_get_exported_json (dialog), ==, signed_json);
  g_free (out);
  out = run_tke_report_verify (signed_json, &status);
  g_test_message ("tke report verify (signed): %s", out);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "Signed by: workstation, "));
  close_report ();
}

/* A second ceremony after the GUI's, as the CLI on this workstation
 * records one, so that the History tab lists more than the one changed. */
static void
append_other_ceremony (void)
{
  g_autofree char *path = tke_audit_trail_get_default_path ();
  g_autoptr (TkeAuditTrail) trail = tke_audit_trail_new (path);
  g_autofree char *id = tke_audit_trail_new_ceremony_id ();
  const char *steps[][2] = { { TKE_JOURNAL_STEP_CEREMONY, TKE_JOURNAL_OUTCOME_BEGIN },
                             { TKE_JOURNAL_STEP_END, TKE_JOURNAL_OUTCOME_OK } };

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      g_autoptr (TkeAuditEntry) entry =
          tke_audit_entry_new (id, "commit", steps[i][0], steps[i][1]);
      g_autoptr (GError) error = NULL;

      g_assert_true (tke_audit_trail_append (trail, entry, &error));
      g_assert_no_error (error);
    }
}

/* Records 1 and 2 are in doubt (either may be the one changed): both are
 * the oldest ceremony's, and only its row says so. */
static void
assert_only_oldest_marked (void)
{
  GtkListBox *list = GTK_LIST_BOX (
      tke_test_find_widget_of_type (GTK_WIDGET (history ()), GTK_TYPE_LIST_BOX, NULL, NULL));
  guint n = tke_history_page_get_n_ceremonies (history ());

  g_assert_cmpuint (n, >=, 2);
  for (guint i = 0; i < n; i++)
    {
      GtkWidget *row = GTK_WIDGET (gtk_list_box_get_row_at_index (list, (int) i));
      gboolean marked = tke_test_find_label (row, "Does Not Verify") != NULL;

      if (marked != (i == n - 1))
        g_error ("row %u of %u is %s", i + 1, n, marked ? "marked" : "not marked");
    }
}

static void
test_tampered_record (void)
{
  g_autofree char *path = tke_audit_trail_get_default_path ();
  g_autofree char *contents = NULL;
  g_autofree char *expected = NULL;
  TkeReportDialog *dialog;
  char *at;

  if (window == NULL)
    {
      g_test_skip ("needs the ceremony before it");
      return;
    }
  show_history ();
  append_other_ceremony ();
  if (!tke_test_wait_until (history_lists, GUINT_TO_POINTER (n_before + 2), 20000))
    g_error ("the History tab does not list the ceremony recorded after it");
  /* One byte of the first record's time, as someone with the file open
   * in an editor would: the second record no longer chains to it. */
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  at = strstr (contents, "\"time\":\"20");
  g_assert_nonnull (at);
  at += strlen ("\"time\":\"20");
  *at = *at == '2' ? '3' : '2';
  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  if (!tke_test_wait_until (history_has_problem, NULL, 20000))
    g_error ("the History tab does not see the changed record");
  g_test_message ("History says: %s", tke_history_page_get_problem (history ()));
  expected = g_strdup ("Record 2 (line 2): it does not chain to the record before it");
  g_assert_nonnull (strstr (tke_history_page_get_problem (history ()), expected));
  /* Shown, not hidden: the ceremonies are still listed, under the warning. */
  g_assert_cmpuint (tke_history_page_get_n_ceremonies (history ()), ==, n_before + 2);
  tke_test_flush_widget (GTK_WIDGET (window));
  g_assert_nonnull (tke_test_find_label_containing (GTK_WIDGET (history ()), expected));
  assert_only_oldest_marked ();
  tke_test_save_screenshot (GTK_WIDGET (window), "history-tampered");

  /* Its report cannot be made, and the dialog says why. */
  dialog = open_newest_report ();
  g_assert_null (tke_report_dialog_get_report (dialog));
  g_test_message ("the report dialog says: %s", tke_report_dialog_get_status (dialog));
  g_assert_nonnull (strstr (tke_report_dialog_get_status (dialog), expected));
  g_assert_false (gtk_widget_get_sensitive (tke_test_find_button (GTK_WIDGET (dialog), "Export…")));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "history-tampered-report");
  close_report ();
}

int
main (int argc, char **argv)
{
  int status;

  if (!card_ceremony_set_up (&argc, &argv, "tke-gui-history-XXXXXX"))
    return 0;
  g_test_add_func ("/gui/history/lists-a-ceremony", test_lists_a_ceremony);
  g_test_add_func ("/gui/history/report-verify-export", test_report_verify_export);
  g_test_add_func ("/gui/history/tampered-record", test_tampered_record);
  status = g_test_run ();
  card_ceremony_tear_down ();
  return status;
}
