/* tke-report-dialog.c: one ceremony's report: its timeline, Verify, Export…
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The report is made by libtke from the ceremony record (the trail is
 * verified first, and the summary signed with the workstation key), off
 * the main loop.  The dialog shows what libtke says of it: every unit's
 * registers before and after, and the timeline, one row per record,
 * deviations marked.  Verify runs libtke's offline verifier and shows its
 * answer, which names the record that fails; Export… writes the JSON the
 * verifier reads and the PDF for people.  Nothing is decided here.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tke-gui-record.h"
#include "tke-history-page.h"
#include "tke-prompted-signer.h"
#include "tke-report-dialog.h"

struct _TkeReportDialog
{
  AdwWindow parent_instance;

  GtkButton *verify_button;
  GtkButton *sign_button;
  GtkButton *export_button;
  TkePinPrompt *pin_prompt;
  GtkLabel *title_label;
  GtkLabel *summary_label;
  GtkBox *status_box;
  GtkImage *status_icon;
  GtkLabel *status_label;
  GtkSpinner *spinner;
  GtkLabel *units_heading;
  GtkLabel *units_label;
  GtkLabel *timeline_heading;
  GtkListBox *timeline;

  char *ceremony_id;
  TkeCeremonyReport *report;
  GCancellable *cancellable;
  GtkFileChooserNative *chooser;
  TkePromptedSigner *signer;
  char *status;
  char *exported_json;
  char *exported_pdf;
  char *virtual_pad;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (TkeReportDialog, tke_report_dialog, ADW_TYPE_WINDOW)

static void
set_busy (TkeReportDialog *self, gboolean busy)
{
  self->busy = busy;
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->verify_button), !busy && self->report != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_button), !busy && self->report != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->sign_button), !busy && self->report != NULL);
}

/* What the dialog says: good news, or what failed and why. */
static void
say (TkeReportDialog *self, gboolean good, const char *text)
{
  g_free (self->status);
  self->status = g_strdup (text);
  gtk_label_set_text (self->status_label, text);
  gtk_image_set_from_icon_name (self->status_icon,
                                good ? "emblem-ok-symbolic" : "dialog-warning-symbolic");
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_box), good ? "tke-refusal" : "tke-hint");
  gtk_widget_add_css_class (GTK_WIDGET (self->status_box), good ? "tke-hint" : "tke-refusal");
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_icon), good ? "warning" : "success");
  gtk_widget_add_css_class (GTK_WIDGET (self->status_icon), good ? "success" : "warning");
  gtk_widget_set_visible (GTK_WIDGET (self->status_box), TRUE);
}

/* ---- Showing the report ------------------------------------------------- */

static GtkWidget *
timeline_row (const char *heading, const char *body, gboolean deviation)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 3);
  GtkWidget *title = gtk_label_new (NULL);
  GtkWidget *row;

  if (deviation)
    {
      g_autofree char *markup =
          g_markup_printf_escaped ("<b>%s</b>  %s", heading, _ ("(a deviation)"));

      gtk_label_set_markup (GTK_LABEL (title), markup);
      gtk_widget_add_css_class (title, "error");
    }
  else
    {
      g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b>", heading);

      gtk_label_set_markup (GTK_LABEL (title), markup);
    }
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_wrap (GTK_LABEL (title), TRUE);
  gtk_label_set_selectable (GTK_LABEL (title), TRUE);
  gtk_box_append (GTK_BOX (box), title);
  if (body != NULL && body[0] != '\0')
    {
      GtkWidget *details = gtk_label_new (body);

      gtk_label_set_xalign (GTK_LABEL (details), 0);
      gtk_label_set_wrap (GTK_LABEL (details), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (details), PANGO_WRAP_WORD_CHAR);
      gtk_label_set_selectable (GTK_LABEL (details), TRUE);
      gtk_widget_add_css_class (details, "vp");
      gtk_widget_add_css_class (details, "caption");
      gtk_box_append (GTK_BOX (box), details);
    }
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 9);
  gtk_widget_set_margin_bottom (box, 9);
  row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  return row;
}

static void
show_report (TkeReportDialog *self)
{
  g_autofree char *units = tke_ceremony_report_format_units (self->report);
  g_auto (GStrv) signers = tke_ceremony_report_dup_signer_names (self->report);
  g_autoptr (GBytes) root = tke_ceremony_report_dup_unit_root (self->report);
  g_autofree char *digest = root != NULL ? tke_unit_root_fingerprint (root) : NULL;
  /* In groups, as the PDF and the set-up assistant show it, to compare. */
  g_autofree char *fingerprint = digest != NULL ? tke_unit_root_format_fingerprint (digest) : NULL;
  g_autofree char *signed_by = NULL;
  g_autofree char *summary = NULL;
  guint n = tke_ceremony_report_get_n_records (self->report);
  guint n_deviations = 0;
  GtkWidget *child;

  for (guint i = 0; signers[i] != NULL; i++)
    if (g_str_equal (signers[i], "workstation"))
      {
        g_free (signers[i]);
        signers[i] = g_strdup (_ ("this workstation"));
      }
  signed_by = g_strjoinv (", ", signers);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->timeline))) != NULL)
    gtk_list_box_remove (self->timeline, child);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *heading = NULL;
      g_autofree char *body = NULL;
      gboolean deviation = FALSE;

      if (!tke_ceremony_report_describe_record (self->report, i, &heading, &body, &deviation))
        continue;
      n_deviations += deviation;
      gtk_list_box_append (self->timeline, timeline_row (heading, body, deviation));
    }
  if (fingerprint != NULL)
    g_strdelimit (fingerprint, "\n", ' ');
  summary = g_strdup_printf (
      _ ("%u records, %u of them deviations. Signed by %s. Unit root fingerprint: %s."), n,
      n_deviations, signed_by, fingerprint != NULL ? fingerprint : _ ("none recorded"));
  gtk_label_set_text (self->summary_label, summary);
  gtk_label_set_text (self->units_label, units);
  gtk_widget_set_visible (GTK_WIDGET (self->units_heading), units[0] != '\0');
  gtk_widget_set_visible (GTK_WIDGET (self->units_label), units[0] != '\0');
  gtk_widget_set_visible (GTK_WIDGET (self->timeline_heading), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->timeline), TRUE);
}

/* ---- Making it, off the main loop --------------------------------------- */

typedef struct
{
  TkeCeremonyReport *report;
  char *title;
} Made;

static void
made_free (Made *made)
{
  g_clear_object (&made->report);
  g_free (made->title);
  g_free (made);
}

static void
make_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  const char *id = task_data;
  g_autoptr (TkeAuditTrail) trail = tke_gui_record_open ();
  g_autoptr (GPtrArray) ceremonies = tke_audit_trail_list_ceremonies (trail, NULL);
  GError *error = NULL;
  Made *made = g_new0 (Made, 1);

  for (guint i = 0; ceremonies != NULL && i < ceremonies->len; i++)
    if (g_strcmp0 (tke_ceremony_summary_get_id (ceremonies->pdata[i]), id) == 0)
      {
        GDateTime *started = tke_ceremony_summary_get_started (ceremonies->pdata[i]);
        g_autoptr (GDateTime) local = started != NULL ? g_date_time_to_local (started) : NULL;
        g_autofree char *when = local ? g_date_time_format (local, "%Y-%m-%d %H:%M:%S") : NULL;

        made->title = g_strdup_printf (
            "%s — %s",
            tke_history_kind_label (tke_ceremony_summary_get_kind (ceremonies->pdata[i])),
            when != NULL ? when : "?");
      }
  made->report = tke_ceremony_report_new_from_trail (trail, id, NULL, NULL, &error);
  if (made->report == NULL)
    {
      made_free (made);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, made, (GDestroyNotify) made_free);
}

static void
on_made (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  Made *made = g_task_propagate_pointer (G_TASK (result), &error);
  TkeReportDialog *self;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = TKE_REPORT_DIALOG (source);
  if (made == NULL)
    {
      g_autofree char *text =
          g_strdup_printf (_ ("No report can be made of this ceremony: %s"), error->message);

      set_busy (self, FALSE);
      say (self, FALSE, text);
      return;
    }
  self->report = g_steal_pointer (&made->report);
  if (made->title != NULL)
    gtk_label_set_text (self->title_label, made->title);
  made_free (made);
  set_busy (self, FALSE);
  show_report (self);
}

/* ---- Verify ------------------------------------------------------------- */

static void
verify_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;

  if (tke_ceremony_report_verify (task_data, NULL, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
on_verified (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);
  TkeReportDialog *self;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = TKE_REPORT_DIALOG (source);
  set_busy (self, FALSE);
  if (ok)
    {
      g_autofree char *text = g_strdup_printf (
          _ ("The report verifies: %u records, chained and unchanged; every signature over it "
             "and every unit's signed answer in it hold."),
          tke_ceremony_report_get_n_records (self->report));

      say (self, TRUE, text);
    }
  else
    say (self, FALSE, error->message);
}

static void
on_verify_clicked (TkeReportDialog *self)
{
  g_autoptr (GTask) task = NULL;

  if (self->report == NULL || self->busy)
    return;
  set_busy (self, TRUE);
  task = g_task_new (self, self->cancellable, on_verified, NULL);
  g_task_set_source_tag (task, on_verify_clicked);
  g_task_set_task_data (task, g_object_ref (self->report), g_object_unref);
  g_task_run_in_thread (task, verify_thread);
}

/* ---- Sign… -------------------------------------------------------------- */

static void
on_signed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = tke_ceremony_report_sign_finish (TKE_CEREMONY_REPORT (source), result, &error);
  g_autoptr (TkeReportDialog) self = user_data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      g_cancellable_is_cancelled (self->cancellable))
    return;
  g_clear_object (&self->signer);
  tke_pin_prompt_set_virtual_pad (self->pin_prompt, NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->pin_prompt), FALSE);
  set_busy (self, FALSE);
  if (ok)
    {
      show_report (self);
      say (self, TRUE,
           _ ("The administrator's signature is added to the report. Export… saves the signed "
              "report."));
    }
  else
    {
      g_autofree char *text = g_strdup_printf (_ ("The report was not signed: %s"), error->message);

      say (self, FALSE, text);
    }
}

static void
on_sign_clicked (TkeReportDialog *self)
{
  g_autoptr (GPtrArray) cards = NULL;

  if (self->report == NULL || self->busy)
    return;
  cards = tke_card_signer_new_group (NULL, 1);
  self->signer = tke_prompted_signer_new (cards->pdata[0], self->pin_prompt);
  tke_pin_prompt_set_reader (self->pin_prompt, 1, _ ("an administrator card"));
  if (self->virtual_pad != NULL)
    tke_pin_prompt_set_virtual_pad (self->pin_prompt, self->virtual_pad);
  gtk_widget_set_visible (GTK_WIDGET (self->pin_prompt), TRUE);
  set_busy (self, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  tke_ceremony_report_sign_async (self->report, TKE_SIGNER (self->signer), self->cancellable,
                                  on_signed, g_object_ref (self));
}

/**
 * tke_report_dialog_set_virtual_pad:
 * @self: the dialog
 * @control_path: (nullable): reader 1's control socket
 *
 * With virtual readers, Sign… shows reader 1's pad on screen.
 */
void
tke_report_dialog_set_virtual_pad (TkeReportDialog *self, const char *control_path)
{
  g_return_if_fail (TKE_IS_REPORT_DIALOG (self));
  g_free (self->virtual_pad);
  self->virtual_pad = g_strdup (control_path);
}

TkePinPrompt *
tke_report_dialog_get_pin_prompt (TkeReportDialog *self)
{
  g_return_val_if_fail (TKE_IS_REPORT_DIALOG (self), NULL);
  return self->pin_prompt;
}

/* ---- Export… ------------------------------------------------------------ */

typedef struct
{
  TkeCeremonyReport *report;
  char *json;
  char *pdf;
} Export;

static void
export_free (Export *export)
{
  g_clear_object (&export->report);
  g_free (export->json);
  g_free (export->pdf);
  g_free (export);
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Export *export = task_data;
  g_autoptr (GBytes) bytes = tke_ceremony_report_to_bytes (export->report);
  GError *error = NULL;

  if (!g_file_set_contents_full (
          export->json, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes),
          G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0644, &error) ||
      !tke_ceremony_report_write_pdf (export->report, export->pdf, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_exported (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);
  TkeReportDialog *self;
  Export *export;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = TKE_REPORT_DIALOG (source);
  export = g_task_get_task_data (G_TASK (result));
  set_busy (self, FALSE);
  if (ok)
    {
      g_autofree char *text = g_strdup_printf (
          _ ("Saved “%s” (for the verifier: tke report verify) and “%s” (for people)."),
          export->json, export->pdf);

      g_free (self->exported_json);
      self->exported_json = g_strdup (export->json);
      g_free (self->exported_pdf);
      self->exported_pdf = g_strdup (export->pdf);
      say (self, TRUE, text);
    }
  else
    {
      g_autofree char *text = g_strdup_printf (_ ("The report was not saved: %s"), error->message);

      say (self, FALSE, text);
    }
}

static void
on_file_chosen (GtkNativeDialog *chooser, int response, TkeReportDialog *self)
{
  g_autoptr (GFile) file = NULL;
  g_autoptr (GTask) task = NULL;
  g_autofree char *path = NULL;
  Export *export;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  gtk_native_dialog_destroy (chooser);
  g_clear_object (&self->chooser);
  if (file == NULL || (path = g_file_get_path (file)) == NULL || self->report == NULL)
    return;
  export = g_new0 (Export, 1);
  export->report = g_object_ref (self->report);
  export->json =
      g_str_has_suffix (path, ".json") ? g_strdup (path) : g_strconcat (path, ".json", NULL);
  {
    g_autofree char *base = g_strndup (export->json, strlen (export->json) - strlen (".json"));

    export->pdf = g_strconcat (base, ".pdf", NULL);
  }
  set_busy (self, TRUE);
  task = g_task_new (self, self->cancellable, on_exported, NULL);
  g_task_set_source_tag (task, on_file_chosen);
  g_task_set_task_data (task, export, (GDestroyNotify) export_free);
  g_task_run_in_thread (task, export_thread);
}

static void
on_export_clicked (TkeReportDialog *self)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  g_autofree char *name = g_strdup_printf ("ceremony-report-%s.json", stamp);
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();

  if (self->report == NULL || self->busy || self->chooser != NULL)
    return;
  self->chooser =
      gtk_file_chooser_native_new (_ ("Export Ceremony Report"), GTK_WINDOW (self),
                                   GTK_FILE_CHOOSER_ACTION_SAVE, _ ("_Export"), _ ("_Cancel"));
  gtk_file_filter_set_name (filter, _ ("Ceremony reports (JSON; the PDF is saved next to it)"));
  gtk_file_filter_add_pattern (filter, "*.json");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (on_file_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* ---- The object --------------------------------------------------------- */

TkeCeremonyReport *
tke_report_dialog_get_report (TkeReportDialog *self)
{
  g_return_val_if_fail (TKE_IS_REPORT_DIALOG (self), NULL);
  return self->report;
}

const char *
tke_report_dialog_get_status (TkeReportDialog *self)
{
  g_return_val_if_fail (TKE_IS_REPORT_DIALOG (self), NULL);
  return self->status;
}

gboolean
tke_report_dialog_get_busy (TkeReportDialog *self)
{
  g_return_val_if_fail (TKE_IS_REPORT_DIALOG (self), FALSE);
  return self->busy;
}

GtkFileChooser *
tke_report_dialog_get_chooser (TkeReportDialog *self)
{
  g_return_val_if_fail (TKE_IS_REPORT_DIALOG (self), NULL);
  return self->chooser != NULL ? GTK_FILE_CHOOSER (self->chooser) : NULL;
}

const char *
tke_report_dialog_get_exported_json (TkeReportDialog *self)
{
  g_return_val_if_fail (TKE_IS_REPORT_DIALOG (self), NULL);
  return self->exported_json;
}

const char *
tke_report_dialog_get_exported_pdf (TkeReportDialog *self)
{
  g_return_val_if_fail (TKE_IS_REPORT_DIALOG (self), NULL);
  return self->exported_pdf;
}

static void
tke_report_dialog_dispose (GObject *object)
{
  TkeReportDialog *self = TKE_REPORT_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  if (self->signer != NULL)
    tke_prompted_signer_cancel (self->signer);
  if (self->chooser != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->chooser, self);
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
      g_clear_object (&self->chooser);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_REPORT_DIALOG);
  G_OBJECT_CLASS (tke_report_dialog_parent_class)->dispose (object);
}

static void
tke_report_dialog_finalize (GObject *object)
{
  TkeReportDialog *self = TKE_REPORT_DIALOG (object);

  g_free (self->ceremony_id);
  g_clear_object (&self->report);
  g_clear_object (&self->cancellable);
  g_free (self->status);
  g_free (self->exported_json);
  g_free (self->exported_pdf);
  g_free (self->virtual_pad);
  g_clear_object (&self->signer);
  G_OBJECT_CLASS (tke_report_dialog_parent_class)->finalize (object);
}

static void
tke_report_dialog_class_init (TkeReportDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_report_dialog_dispose;
  object_class->finalize = tke_report_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/tke/TrustedKeyEntry/tke-report-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeReportDialog, verify_button);
  gtk_widget_class_bind_template_child (widget_class, TkeReportDialog, export_button);
  gtk_widget_class_bind_template_child (widget_class, TkeReportDialog, sign_button);
  gtk_widget_class_bind_template_child (widget_class, TkeReportDialog, pin_prompt);
  gtk_widget_class_bind_template_child (widget_class, TkeReportDialog, title_label);
  gtk_widget_class_bind_template_child (widget_class, TkeReportDialog, summary_label);
  gtk_widget_class_bind_template_child (widget_class, TkeReportDialog, status_box);
  gtk_widget_class_bind_template_child (widget_class, TkeReportDialog, status_icon);
  gtk_widget_class_bind_template_child (widget_class, TkeReportDialog, status_label);
  gtk_widget_class_bind_template_child (widget_class, TkeReportDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, TkeReportDialog, units_heading);
  gtk_widget_class_bind_template_child (widget_class, TkeReportDialog, units_label);
  gtk_widget_class_bind_template_child (widget_class, TkeReportDialog, timeline_heading);
  gtk_widget_class_bind_template_child (widget_class, TkeReportDialog, timeline);
  gtk_widget_class_bind_template_callback (widget_class, on_verify_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_export_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_sign_clicked);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
tke_report_dialog_init (TkeReportDialog *self)
{
  g_type_ensure (TKE_TYPE_PIN_PROMPT);
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  gtk_label_set_text (self->title_label, _ ("Ceremony report"));
}

/**
 * tke_report_dialog_new:
 * @parent: (nullable): the window it is for
 * @ceremony_id: the ceremony, as the record names it
 *
 * Returns: (transfer full): the dialog, making the report
 */
TkeReportDialog *
tke_report_dialog_new (GtkWindow *parent, const char *ceremony_id)
{
  TkeReportDialog *self;
  g_autoptr (GTask) task = NULL;

  g_return_val_if_fail (ceremony_id != NULL, NULL);

  self = g_object_new (TKE_TYPE_REPORT_DIALOG, "transient-for", parent, NULL);
  self->ceremony_id = g_strdup (ceremony_id);
  set_busy (self, TRUE);
  task = g_task_new (self, self->cancellable, on_made, NULL);
  g_task_set_source_tag (task, tke_report_dialog_new);
  g_task_set_task_data (task, g_strdup (ceremony_id), g_free);
  g_task_run_in_thread (task, make_thread);
  return self;
}
