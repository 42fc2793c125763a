/* tke-thresholds-page.c: the Signature thresholds tab
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Both thresholds of every selected unit, and the new ones to set.  libtke
 * says whether they fit (1 to 8, at most the administrators installed:
 * tke_instance_setup_check_thresholds()); the window confirms before the
 * ceremony, saying plainly when it takes units out of imprint mode.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-thresholds-page.h"
#include "tke-unit-selection.h"

struct _TkeThresholdsPage
{
  AdwBin parent_instance;

  GtkListBox *list;
  GtkLabel *reason_label;
  GtkButton *change_button;
  GtkSpinButton *signature_spin;
  GtkSpinButton *revocation_spin;

  TkeUnitSelection *selection;
  GString *lines;
  char *reason;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (TkeThresholdsPage, tke_thresholds_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_CEREMONY_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
update_actions (TkeThresholdsPage *self)
{
  GListModel *selected = tke_unit_selection_get_selected (self->selection);
  g_autoptr (GError) error = NULL;
  guint sig, rev;
  char *reason =
      tke_ceremony_why_not (TKE_CEREMONY_SET_THRESHOLDS, selected, NULL, TKE_RECOVERY_ACTION_NONE);

  tke_thresholds_page_get_chosen (self, &sig, &rev);
  if (reason == NULL && !tke_instance_setup_check_thresholds (selected, sig, rev, &error))
    reason = g_strdup (error->message);
  g_free (self->reason);
  self->reason = reason;
  gtk_label_set_text (self->reason_label, reason != NULL ? reason : "");
  gtk_widget_set_visible (GTK_WIDGET (self->reason_label), reason != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->change_button), !self->busy && reason == NULL);
}

static void
rebuild (TkeThresholdsPage *self)
{
  GListModel *selected = tke_unit_selection_get_selected (self->selection);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  g_string_truncate (self->lines, 0);
  for (guint i = 0; i < g_list_model_get_n_items (selected); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (selected, i);
      guint sig = tke_crypto_unit_get_signature_threshold (unit);
      guint rev = tke_crypto_unit_get_revocation_threshold (unit);
      guint admins = g_list_model_get_n_items (tke_crypto_unit_get_administrators (unit));
      gboolean imprint = tke_crypto_unit_get_imprint_mode (unit);
      g_autofree char *title =
          g_strdup_printf (_ ("Crypto unit %u"), tke_crypto_unit_get_number (unit));
      g_autofree char *n_admins = g_strdup_printf (
          g_dngettext (GETTEXT_PACKAGE, "%u administrator", "%u administrators", admins), admins);
      /* Translators: "Signature threshold 2 · Revocation threshold 1 · 2 administrators" */
      g_autofree char *subtitle =
          g_strdup_printf (_ ("Signature threshold %u · Revocation threshold %u · %s%s"), sig, rev,
                           n_admins, imprint ? _ (" · imprint mode") : "");
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_list_box_append (self->list, row);
      g_string_append_printf (self->lines, "%u %u %u %s\n", tke_crypto_unit_get_number (unit), sig,
                              rev, imprint ? "imprint" : "set");
    }
  if (g_list_model_get_n_items (selected) == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ ("No crypto unit is selected."));
      gtk_list_box_append (self->list, row);
    }
  update_actions (self);
}

static void
on_selection_changed (TkeThresholdsPage *self)
{
  rebuild (self);
}

static void
on_value_changed (TkeThresholdsPage *self)
{
  update_actions (self);
}

static void
on_change_clicked (TkeThresholdsPage *self)
{
  g_signal_emit (self, signals[SIGNAL_CEREMONY_REQUESTED], 0, TKE_CEREMONY_SET_THRESHOLDS,
                 tke_unit_selection_get_selected (self->selection));
}

void
tke_thresholds_page_set_units (TkeThresholdsPage *self, GListModel *units)
{
  g_return_if_fail (TKE_IS_THRESHOLDS_PAGE (self));
  tke_unit_selection_set_units (self->selection, units);
}

void
tke_thresholds_page_set_busy (TkeThresholdsPage *self, gboolean busy)
{
  g_return_if_fail (TKE_IS_THRESHOLDS_PAGE (self));
  self->busy = busy;
  update_actions (self);
}

void
tke_thresholds_page_get_chosen (TkeThresholdsPage *self, guint *signature, guint *revocation)
{
  g_return_if_fail (TKE_IS_THRESHOLDS_PAGE (self));
  *signature = (guint) gtk_spin_button_get_value_as_int (self->signature_spin);
  *revocation = (guint) gtk_spin_button_get_value_as_int (self->revocation_spin);
}

void
tke_thresholds_page_set_chosen (TkeThresholdsPage *self, guint signature, guint revocation)
{
  g_return_if_fail (TKE_IS_THRESHOLDS_PAGE (self));
  gtk_spin_button_set_value (self->signature_spin, signature);
  gtk_spin_button_set_value (self->revocation_spin, revocation);
}

char *
tke_thresholds_page_describe (TkeThresholdsPage *self)
{
  g_return_val_if_fail (TKE_IS_THRESHOLDS_PAGE (self), NULL);
  return g_strdup (self->lines->str);
}

const char *
tke_thresholds_page_get_reason (TkeThresholdsPage *self)
{
  g_return_val_if_fail (TKE_IS_THRESHOLDS_PAGE (self), NULL);
  return self->reason;
}

static void
tke_thresholds_page_dispose (GObject *object)
{
  TkeThresholdsPage *self = TKE_THRESHOLDS_PAGE (object);

  g_clear_object (&self->selection);
  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_THRESHOLDS_PAGE);
  G_OBJECT_CLASS (tke_thresholds_page_parent_class)->dispose (object);
}

static void
tke_thresholds_page_finalize (GObject *object)
{
  TkeThresholdsPage *self = TKE_THRESHOLDS_PAGE (object);

  g_string_free (self->lines, TRUE);
  g_free (self->reason);
  G_OBJECT_CLASS (tke_thresholds_page_parent_class)->finalize (object);
}

static void
tke_thresholds_page_class_init (TkeThresholdsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_thresholds_page_dispose;
  object_class->finalize = tke_thresholds_page_finalize;

  /**
   * TkeThresholdsPage::ceremony-requested:
   * @kind: %TKE_CEREMONY_SET_THRESHOLDS
   * @units: the selected units
   */
  signals[SIGNAL_CEREMONY_REQUESTED] =
      g_signal_new ("ceremony-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 2, TKE_TYPE_CEREMONY_KIND, G_TYPE_LIST_MODEL);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/tke/TrustedKeyEntry/tke-thresholds-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeThresholdsPage, list);
  gtk_widget_class_bind_template_child (widget_class, TkeThresholdsPage, reason_label);
  gtk_widget_class_bind_template_child (widget_class, TkeThresholdsPage, change_button);
  gtk_widget_class_bind_template_child (widget_class, TkeThresholdsPage, signature_spin);
  gtk_widget_class_bind_template_child (widget_class, TkeThresholdsPage, revocation_spin);
  gtk_widget_class_bind_template_callback (widget_class, on_change_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_value_changed);
}

static void
tke_thresholds_page_init (TkeThresholdsPage *self)
{
  self->lines = g_string_new (NULL);
  self->selection = tke_unit_selection_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (self->selection, "changed", G_CALLBACK (on_selection_changed), self,
                           G_CONNECT_SWAPPED);
  rebuild (self);
}
