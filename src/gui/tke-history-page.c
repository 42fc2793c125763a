/* tke-history-page.c: the History tab, the ceremonies of the record
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One row per past ceremony, newest first: when, which kind, which units,
 * how it ended, and its deviations marked.  libtke reads and verifies the
 * record (off the main loop: the keyring may be slow); a record that does
 * not verify is said above the list, naming the record and why, and the
 * list stays, with the ceremonies whose records are in doubt marked.  The record's directory is
 * watched, so a ceremony of this session, or one the CLI runs, appears when its records are
 * written.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-gui-record.h"
#include "tke-history-page.h"
#include "tke-report-dialog.h"
#include "tke-window.h"

struct _TkeHistoryPage
{
  AdwBin parent_instance;

  GtkListBox *list;
  GtkBox *problem_box;
  GtkLabel *problem_label;

  TkeAuditTrail *trail;
  GFileMonitor *monitor;
  GCancellable *cancellable;
  GPtrArray *ceremonies; /* TkeCeremonySummary, newest first */
  char *problem;
  gint64 first_damaged, last_damaged; /* the records in doubt, or 0 */
  guint reload_source;
  gboolean loading, again;
  guint n_loads;
};

G_DEFINE_FINAL_TYPE (TkeHistoryPage, tke_history_page, ADW_TYPE_BIN)

/**
 * tke_history_kind_label:
 * @kind: a ceremony kind as recorded
 *
 * Returns: the kind for people, or @kind itself if it is not known
 */
const char *
tke_history_kind_label (const char *kind)
{
  static const struct
  {
    const char *nick;
    const char *label;
  } kinds[] = {
    { "load", N_ ("Load") },
    { "commit", N_ ("Commit") },
    { "set-immediate", N_ ("Set immediate") },
    { "clear-new", N_ ("Clear new") },
    { "clear-current", N_ ("Clear current") },
    { "add-admin", N_ ("Add administrator") },
    { "remove-admin", N_ ("Remove administrator") },
    { "set-thresholds", N_ ("Set thresholds") },
    { "zeroize", N_ ("Zeroize") },
    { "rotate", N_ ("Rotation") },
    { "recover", N_ ("Recovery") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (g_strcmp0 (kind, kinds[i].nick) == 0)
      return _ (kinds[i].label);
  return kind != NULL ? kind : "?";
}

static const char *
outcome_label (const char *outcome)
{
  if (outcome == NULL)
    return _ ("Not finished");
  if (g_str_equal (outcome, TKE_JOURNAL_OUTCOME_OK))
    return _ ("Completed");
  if (g_str_equal (outcome, TKE_JOURNAL_OUTCOME_FAILED))
    return _ ("Failed");
  if (g_str_equal (outcome, TKE_JOURNAL_OUTCOME_CANCELLED))
    return _ ("Cancelled");
  return outcome;
}

static char *
units_text (TkeCeremonySummary *summary, const char *separator)
{
  guint n = 0;
  const guint *units = tke_ceremony_summary_get_units (summary, &n);
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (text, "%s%u", i > 0 ? separator : "", units[i]);
  return g_string_free (text, FALSE);
}

/* A ceremony's records run from its first to its last sequence number (a
 * ceremony of the CLI may interleave with one of the GUI: both are marked). */
static gboolean
in_doubt (TkeHistoryPage *self, TkeCeremonySummary *summary)
{
  return self->last_damaged > 0 &&
         tke_ceremony_summary_get_first_seq (summary) <= self->last_damaged &&
         tke_ceremony_summary_get_last_seq (summary) >= self->first_damaged;
}

static void
mark_in_doubt (GtkWidget *row, GtkWidget *icon)
{
  GtkWidget *tag = gtk_label_new (_ ("Does Not Verify"));

  gtk_image_set_from_icon_name (GTK_IMAGE (icon), "dialog-error-symbolic");
  gtk_widget_remove_css_class (icon, "warning");
  gtk_widget_add_css_class (icon, "error");
  gtk_widget_add_css_class (tag, "error");
  gtk_widget_set_valign (tag, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (tag, _ ("This ceremony holds the records that fail verification: "
                                       "one of them was changed, removed or added."));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), tag);
}

static GtkWidget *
make_row (TkeHistoryPage *self, TkeCeremonySummary *summary)
{
  GtkWidget *row = adw_action_row_new ();
  GDateTime *started = tke_ceremony_summary_get_started (summary);
  g_autoptr (GDateTime) local = started != NULL ? g_date_time_to_local (started) : NULL;
  g_autofree char *when = local != NULL ? g_date_time_format (local, "%Y-%m-%d %H:%M:%S") : NULL;
  g_autofree char *title =
      g_strdup_printf ("%s — %s", tke_history_kind_label (tke_ceremony_summary_get_kind (summary)),
                       when != NULL ? when : _ ("unknown time"));
  g_autofree char *units = units_text (summary, ", ");
  const char *outcome = tke_ceremony_summary_get_outcome (summary);
  guint n_deviations = tke_ceremony_summary_get_n_deviations (summary);
  g_autofree char *deviations = n_deviations > 0
                                    ? g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u deviation",
                                                                    "%u deviations", n_deviations),
                                                       n_deviations)
                                    : NULL;
  g_autofree char *unit_words = units[0] != '\0' ? g_strdup_printf (_ ("Crypto units %s"), units)
                                                 : g_strdup (_ ("No crypto unit recorded"));
  g_autofree char *subtitle =
      g_strdup_printf ("%s · %s%s%s", unit_words, outcome_label (outcome),
                       deviations != NULL ? " · " : "", deviations != NULL ? deviations : "");
  gboolean marked = n_deviations > 0 || g_strcmp0 (outcome, TKE_JOURNAL_OUTCOME_OK) != 0;
  GtkWidget *icon =
      gtk_image_new_from_icon_name (marked ? "dialog-warning-symbolic" : "emblem-ok-symbolic");

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  if (marked)
    {
      GtkWidget *tag =
          gtk_label_new (deviations != NULL ? _ ("Deviation") : outcome_label (outcome));

      gtk_widget_add_css_class (tag, "error");
      gtk_widget_set_valign (tag, GTK_ALIGN_CENTER);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), tag);
      gtk_widget_add_css_class (icon, "warning");
    }
  if (in_doubt (self, summary))
    mark_in_doubt (row, icon);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name ("go-next-symbolic"));
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "tke-ceremony-id",
                          g_strdup (tke_ceremony_summary_get_id (summary)), g_free);
  return row;
}

static void
rebuild (TkeHistoryPage *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  for (guint i = 0; self->ceremonies != NULL && i < self->ceremonies->len; i++)
    gtk_list_box_append (self->list, make_row (self, self->ceremonies->pdata[i]));
  if (self->ceremonies == NULL || self->ceremonies->len == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     _ ("No ceremony is recorded on this workstation yet."));
      gtk_list_box_append (self->list, row);
    }
  if (self->problem != NULL)
    {
      gboolean stop = g_str_has_suffix (self->problem, ".");
      g_autofree char *text =
          g_strdup_printf (_ ("The ceremony record does not verify. %s%s The ceremonies are listed "
                              "as recorded; do not trust them before the record is examined."),
                           self->problem, stop ? "" : ".");

      gtk_label_set_text (self->problem_label, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->problem_box), self->problem != NULL);
}

/* ---- Reading the record, off the main loop ------------------------------ */

typedef struct
{
  GPtrArray *ceremonies;
  char *problem;
  gint64 first_damaged, last_damaged;
} Loaded;

static void
loaded_free (Loaded *loaded)
{
  g_clear_pointer (&loaded->ceremonies, g_ptr_array_unref);
  g_free (loaded->problem);
  g_free (loaded);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TkeAuditTrail *trail = task_data;
  Loaded *loaded = g_new0 (Loaded, 1);
  g_autoptr (GError) error = NULL;

  loaded->ceremonies = tke_audit_trail_list_ceremonies (trail, &error);
  if (loaded->ceremonies == NULL)
    loaded->problem = g_strdup (error->message);
  else if (!tke_audit_trail_verify_full (trail, NULL, &loaded->first_damaged, &loaded->last_damaged,
                                         &error))
    loaded->problem = g_strdup (error->message);
  g_task_return_pointer (task, loaded, (GDestroyNotify) loaded_free);
}

static void start_load (TkeHistoryPage *self);

static void
on_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TkeHistoryPage *self = TKE_HISTORY_PAGE (source);
  g_autoptr (GError) error = NULL;
  Loaded *loaded = g_task_propagate_pointer (G_TASK (result), &error);

  if (loaded == NULL)
    return; /* cancelled: the page is gone */
  self->loading = FALSE;
  self->n_loads++;
  g_clear_pointer (&self->ceremonies, g_ptr_array_unref);
  self->ceremonies = g_steal_pointer (&loaded->ceremonies);
  /* Newest first. */
  for (guint i = 0, j = self->ceremonies->len; j > 0 && i < --j; i++)
    {
      gpointer swap = self->ceremonies->pdata[i];

      self->ceremonies->pdata[i] = self->ceremonies->pdata[j];
      self->ceremonies->pdata[j] = swap;
    }
  g_free (self->problem);
  self->problem = g_steal_pointer (&loaded->problem);
  self->first_damaged = loaded->first_damaged;
  self->last_damaged = loaded->last_damaged;
  loaded_free (loaded);
  rebuild (self);
  if (self->again)
    {
      self->again = FALSE;
      start_load (self);
    }
}

static void
start_load (TkeHistoryPage *self)
{
  g_autoptr (GTask) task = NULL;

  if (self->loading)
    {
      self->again = TRUE;
      return;
    }
  self->loading = TRUE;
  task = g_task_new (self, self->cancellable, on_loaded, NULL);
  g_task_set_source_tag (task, start_load);
  g_task_set_task_data (task, g_object_ref (self->trail), g_object_unref);
  g_task_run_in_thread (task, load_thread);
}

/**
 * tke_history_page_reload:
 * @self: the page
 *
 * Reads the ceremony record again (it is watched: this is for a record
 * changed where no watch sees it).
 */
void
tke_history_page_reload (TkeHistoryPage *self)
{
  g_return_if_fail (TKE_IS_HISTORY_PAGE (self));
  start_load (self);
}

static gboolean
reload_now (gpointer data)
{
  TkeHistoryPage *self = data;

  self->reload_source = 0;
  start_load (self);
  return G_SOURCE_REMOVE;
}

/* A record is a line and then its signed head: one read for both. */
static void
on_record_changed (
    GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event, TkeHistoryPage *self)
{
  if (self->reload_source != 0)
    g_source_remove (self->reload_source);
  self->reload_source = g_timeout_add (200, reload_now, self);
}

static void
on_row_activated (TkeHistoryPage *self, GtkListBoxRow *row)
{
  const char *id = g_object_get_data (G_OBJECT (row), "tke-ceremony-id");
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  TkeReportDialog *dialog;

  if (id == NULL)
    return;
  dialog = tke_report_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, id);
  if (TKE_IS_WINDOW (root))
    tke_report_dialog_set_virtual_pad (dialog,
                                       tke_window_get_virtual_reader (TKE_WINDOW (root), 1));
  gtk_window_present (GTK_WINDOW (dialog));
}

/**
 * tke_history_page_open_row:
 * @self: the page
 * @index: the row, 0 for the newest ceremony
 *
 * Opens the ceremony's report, as a click on its row does.
 */
void
tke_history_page_open_row (TkeHistoryPage *self, guint index)
{
  GtkListBoxRow *row;

  g_return_if_fail (TKE_IS_HISTORY_PAGE (self));
  row = gtk_list_box_get_row_at_index (self->list, (int) index);
  g_return_if_fail (row != NULL);
  g_signal_emit_by_name (self->list, "row-activated", row);
}

guint
tke_history_page_get_n_ceremonies (TkeHistoryPage *self)
{
  g_return_val_if_fail (TKE_IS_HISTORY_PAGE (self), 0);
  return self->ceremonies != NULL ? self->ceremonies->len : 0;
}

guint
tke_history_page_get_n_loads (TkeHistoryPage *self)
{
  g_return_val_if_fail (TKE_IS_HISTORY_PAGE (self), 0);
  return self->n_loads;
}

const char *
tke_history_page_get_problem (TkeHistoryPage *self)
{
  g_return_val_if_fail (TKE_IS_HISTORY_PAGE (self), NULL);
  return self->problem;
}

char *
tke_history_page_describe (TkeHistoryPage *self)
{
  GString *text = g_string_new (NULL);

  g_return_val_if_fail (TKE_IS_HISTORY_PAGE (self), NULL);
  for (guint i = 0; self->ceremonies != NULL && i < self->ceremonies->len; i++)
    {
      TkeCeremonySummary *summary = self->ceremonies->pdata[i];
      g_autofree char *units = units_text (summary, ",");

      g_string_append_printf (text, "%s %s units=%s deviations=%u\n",
                              tke_ceremony_summary_get_kind (summary),
                              tke_ceremony_summary_get_outcome (summary) ?: "none", units,
                              tke_ceremony_summary_get_n_deviations (summary));
    }
  return g_string_free (text, FALSE);
}

/* ---- The object --------------------------------------------------------- */

static void
tke_history_page_dispose (GObject *object)
{
  TkeHistoryPage *self = TKE_HISTORY_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  if (self->reload_source != 0)
    g_source_remove (self->reload_source);
  self->reload_source = 0;
  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);
  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_HISTORY_PAGE);
  G_OBJECT_CLASS (tke_history_page_parent_class)->dispose (object);
}

static void
tke_history_page_finalize (GObject *object)
{
  TkeHistoryPage *self = TKE_HISTORY_PAGE (object);

  g_clear_object (&self->trail);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->ceremonies, g_ptr_array_unref);
  g_free (self->problem);
  G_OBJECT_CLASS (tke_history_page_parent_class)->finalize (object);
}

static void
tke_history_page_class_init (TkeHistoryPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_history_page_dispose;
  object_class->finalize = tke_history_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/tke/TrustedKeyEntry/tke-history-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeHistoryPage, list);
  gtk_widget_class_bind_template_child (widget_class, TkeHistoryPage, problem_box);
  gtk_widget_class_bind_template_child (widget_class, TkeHistoryPage, problem_label);
  gtk_widget_class_bind_template_callback (widget_class, on_row_activated);
}

static void
tke_history_page_init (TkeHistoryPage *self)
{
  g_autoptr (GFile) dir = NULL;
  g_autofree char *dir_path = NULL;
  g_autoptr (GError) error = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->trail = tke_gui_record_open ();
  /* The directory, not the file: the head is replaced, not written in
   * place, and the record may not exist yet. */
  dir_path = g_path_get_dirname (tke_audit_trail_get_path (self->trail));
  g_mkdir_with_parents (dir_path, 0700);
  dir = g_file_new_for_path (dir_path);
  self->monitor = g_file_monitor_directory (dir, G_FILE_MONITOR_NONE, NULL, &error);
  if (self->monitor != NULL)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (on_record_changed), self);
  else
    g_warning ("the ceremony record is not watched: %s", error->message);
  rebuild (self);
  start_load (self);
}
