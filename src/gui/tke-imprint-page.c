/* tke-imprint-page.c: the Imprint mode tab, with the set-up assistant
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The assistant that sets an instance up from imprint mode (first, so
 * that its step's button is on screen), then which selected units are in
 * imprint mode and Zeroize crypto unit (the window confirms it, saying
 * what is lost).
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-imprint-page.h"
#include "tke-unit-selection.h"

struct _TkeImprintPage
{
  AdwBin parent_instance;

  GtkListBox *list;
  GtkLabel *reason_label;
  GtkButton *zeroize_button;
  TkeSetupAssistant *assistant;

  TkeUnitSelection *selection;
  GString *lines;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (TkeImprintPage, tke_imprint_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_CEREMONY_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
rebuild (TkeImprintPage *self)
{
  GListModel *selected = tke_unit_selection_get_selected (self->selection);
  g_autofree char *reason =
      tke_ceremony_why_not (TKE_CEREMONY_ZEROIZE, selected, NULL, TKE_RECOVERY_ACTION_NONE);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  g_string_truncate (self->lines, 0);
  for (guint i = 0; i < g_list_model_get_n_items (selected); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (selected, i);
      gboolean imprint = tke_crypto_unit_get_imprint_mode (unit);
      g_autofree char *title =
          g_strdup_printf (_ ("Crypto unit %u"), tke_crypto_unit_get_number (unit));
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *icon =
          gtk_image_new_from_icon_name (imprint ? "dialog-warning-symbolic" : "emblem-ok-symbolic");

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (
          ADW_ACTION_ROW (row),
          imprint ? _ ("In imprint mode: no administrators and no thresholds are set")
                  : _ ("Out of imprint mode: commands need the administrators' signatures"));
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
      gtk_list_box_append (self->list, row);
      g_string_append_printf (self->lines, "%u %s\n", tke_crypto_unit_get_number (unit),
                              imprint ? "imprint" : "set");
    }
  if (g_list_model_get_n_items (selected) == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ ("No crypto unit is selected."));
      gtk_list_box_append (self->list, row);
    }
  gtk_label_set_text (self->reason_label, reason != NULL ? reason : "");
  gtk_widget_set_visible (GTK_WIDGET (self->reason_label), reason != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->zeroize_button), !self->busy && reason == NULL);
}

static void
on_zeroize_clicked (TkeImprintPage *self)
{
  g_signal_emit (self, signals[SIGNAL_CEREMONY_REQUESTED], 0, TKE_CEREMONY_ZEROIZE,
                 tke_unit_selection_get_selected (self->selection));
}

static void
on_assistant_requested (TkeImprintPage *self, TkeCeremonyKind kind, GListModel *units)
{
  g_signal_emit (self, signals[SIGNAL_CEREMONY_REQUESTED], 0, kind, units);
}

void
tke_imprint_page_set_units (TkeImprintPage *self, GListModel *units)
{
  g_return_if_fail (TKE_IS_IMPRINT_PAGE (self));
  tke_unit_selection_set_units (self->selection, units);
  tke_setup_assistant_set_units (self->assistant, units);
}

void
tke_imprint_page_set_busy (TkeImprintPage *self, gboolean busy)
{
  g_return_if_fail (TKE_IS_IMPRINT_PAGE (self));
  self->busy = busy;
  tke_setup_assistant_set_busy (self->assistant, busy);
  rebuild (self);
}

TkeSetupAssistant *
tke_imprint_page_get_assistant (TkeImprintPage *self)
{
  g_return_val_if_fail (TKE_IS_IMPRINT_PAGE (self), NULL);
  return self->assistant;
}

char *
tke_imprint_page_describe (TkeImprintPage *self)
{
  g_return_val_if_fail (TKE_IS_IMPRINT_PAGE (self), NULL);
  return g_strdup (self->lines->str);
}

static void
tke_imprint_page_dispose (GObject *object)
{
  TkeImprintPage *self = TKE_IMPRINT_PAGE (object);

  g_clear_object (&self->selection);
  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_IMPRINT_PAGE);
  G_OBJECT_CLASS (tke_imprint_page_parent_class)->dispose (object);
}

static void
tke_imprint_page_finalize (GObject *object)
{
  TkeImprintPage *self = TKE_IMPRINT_PAGE (object);

  g_string_free (self->lines, TRUE);
  G_OBJECT_CLASS (tke_imprint_page_parent_class)->finalize (object);
}

static void
tke_imprint_page_class_init (TkeImprintPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_imprint_page_dispose;
  object_class->finalize = tke_imprint_page_finalize;

  /**
   * TkeImprintPage::ceremony-requested:
   * @kind: %TKE_CEREMONY_ZEROIZE, or the set-up step's ceremony
   * @units: the selected units
   */
  signals[SIGNAL_CEREMONY_REQUESTED] =
      g_signal_new ("ceremony-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 2, TKE_TYPE_CEREMONY_KIND, G_TYPE_LIST_MODEL);

  g_type_ensure (TKE_TYPE_SETUP_ASSISTANT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/tke/TrustedKeyEntry/tke-imprint-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeImprintPage, list);
  gtk_widget_class_bind_template_child (widget_class, TkeImprintPage, reason_label);
  gtk_widget_class_bind_template_child (widget_class, TkeImprintPage, zeroize_button);
  gtk_widget_class_bind_template_child (widget_class, TkeImprintPage, assistant);
  gtk_widget_class_bind_template_callback (widget_class, on_zeroize_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_assistant_requested);
}

static void
tke_imprint_page_init (TkeImprintPage *self)
{
  self->lines = g_string_new (NULL);
  self->selection = tke_unit_selection_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (self->selection, "changed", G_CALLBACK (rebuild), self,
                           G_CONNECT_SWAPPED);
  rebuild (self);
}

GtkWidget *
tke_imprint_page_get_zeroize_button (TkeImprintPage *self)
{
  g_return_val_if_fail (TKE_IS_IMPRINT_PAGE (self), NULL);
  return GTK_WIDGET (self->zeroize_button);
}
