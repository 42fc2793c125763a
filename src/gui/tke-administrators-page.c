/* tke-administrators-page.c: the Administrators tab
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One row per administrator of the selected units, by SKI: the name, the
 * SKI in groups to read aloud, and the units it is installed on.  Add
 * administrator and Remove administrator are offered as libtke allows
 * them (tke_ceremony_why_not(), tke_instance_setup_check_removal()); the
 * ceremony itself runs in the wizard, through ::ceremony-requested.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tke-administrators-page.h"
#include "tke-unit-selection.h"
#include "tke-widget-util.h"

struct _TkeAdministratorsPage
{
  AdwBin parent_instance;

  GtkListBox *list;
  GtkLabel *reason_label;
  GtkButton *add_button;
  GtkButton *remove_button;

  TkeUnitSelection *selection;
  GPtrArray *skis;  /* by row */
  GPtrArray *lines; /* by row: what the row says, for tests */
  char *reason;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (TkeAdministratorsPage, tke_administrators_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_CEREMONY_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
set_reason (TkeAdministratorsPage *self, char *reason)
{
  g_free (self->reason);
  self->reason = reason;
  gtk_label_set_text (self->reason_label, reason != NULL ? reason : "");
  gtk_widget_set_visible (GTK_WIDGET (self->reason_label), reason != NULL);
}

static void
update_actions (TkeAdministratorsPage *self)
{
  GListModel *selected = tke_unit_selection_get_selected (self->selection);
  g_autofree char *add_reason =
      tke_ceremony_why_not (TKE_CEREMONY_ADD_ADMIN, selected, NULL, TKE_RECOVERY_ACTION_NONE);
  const char *ski = tke_administrators_page_get_selected_ski (self);
  g_autoptr (GError) error = NULL;
  gboolean can_remove = ski != NULL && tke_instance_setup_check_removal (selected, ski, &error);

  gtk_widget_set_sensitive (GTK_WIDGET (self->add_button), !self->busy && add_reason == NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->remove_button), !self->busy && can_remove);
  if (add_reason != NULL)
    set_reason (self, g_steal_pointer (&add_reason));
  else if (ski == NULL && self->skis->len > 0)
    set_reason (self, g_strdup (_ ("Choose an administrator in the table to remove it.")));
  else if (error != NULL)
    set_reason (self, g_strdup (error->message));
  else
    set_reason (self, NULL);
}

static void
add_row (TkeAdministratorsPage *self, const char *name, const char *ski, GListModel *units)
{
  g_autofree char *groups = tke_vp_format_groups (ski);
  g_autofree char *where = tke_unit_selection_describe_numbers (units);
  /* Translators: the SKI in groups, then "on crypto units 1, 2, 3" */
  g_autofree char *subtitle =
      g_strdup_printf (_ ("SKI %s\nInstalled on: %s"), groups != NULL ? groups : ski, where);
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 4);
  gtk_widget_add_css_class (row, "monospace-subtitle");
  gtk_list_box_append (self->list, row);
  g_ptr_array_add (self->skis, g_strdup (ski));
  g_ptr_array_add (self->lines, g_strdup_printf ("%s %s %s", name, ski, where));
}

static void
rebuild (TkeAdministratorsPage *self)
{
  GListModel *selected = tke_unit_selection_get_selected (self->selection);
  g_autofree char *chosen = g_strdup (tke_administrators_page_get_selected_ski (self));
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  g_ptr_array_set_size (self->skis, 0);
  g_ptr_array_set_size (self->lines, 0);
  for (guint i = 0; i < g_list_model_get_n_items (selected); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (selected, i);
      GListModel *admins = tke_crypto_unit_get_administrators (unit);

      for (guint j = 0; j < g_list_model_get_n_items (admins); j++)
        {
          g_autoptr (TkeAdministrator) admin = g_list_model_get_item (admins, j);
          const char *ski = tke_administrator_get_ski (admin);
          g_autoptr (GListModel) lacking = NULL;
          g_autoptr (GListStore) having = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);

          if (g_hash_table_contains (seen, ski))
            continue;
          g_hash_table_add (seen, (gpointer) ski);
          lacking = tke_instance_setup_units_lacking (selected, ski);
          for (guint k = 0; k < g_list_model_get_n_items (selected); k++)
            {
              g_autoptr (TkeCryptoUnit) other = g_list_model_get_item (selected, k);
              guint pos;

              if (!g_list_store_find (G_LIST_STORE (lacking), other, &pos))
                g_list_store_append (having, other);
            }
          add_row (self, tke_administrator_get_name (admin), ski, G_LIST_MODEL (having));
        }
    }
  if (self->skis->len == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (
          ADW_PREFERENCES_ROW (row),
          g_list_model_get_n_items (selected) == 0
              ? _ ("No crypto unit is selected.")
              : _ ("No administrator is installed: the units are in imprint mode."));
      gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE);
      gtk_list_box_append (self->list, row);
    }
  for (guint i = 0; chosen != NULL && i < self->skis->len; i++)
    if (g_str_equal (self->skis->pdata[i], chosen))
      gtk_list_box_select_row (self->list, gtk_list_box_get_row_at_index (self->list, (int) i));
  update_actions (self);
}

static void
on_selection_changed (TkeAdministratorsPage *self)
{
  rebuild (self);
}

static void
on_row_selected (GtkListBox *list, GtkListBoxRow *row, TkeAdministratorsPage *self)
{
  update_actions (self);
}

static void
on_add_clicked (TkeAdministratorsPage *self)
{
  g_signal_emit (self, signals[SIGNAL_CEREMONY_REQUESTED], 0, TKE_CEREMONY_ADD_ADMIN,
                 tke_unit_selection_get_selected (self->selection));
}

static void
on_remove_clicked (TkeAdministratorsPage *self)
{
  g_signal_emit (self, signals[SIGNAL_CEREMONY_REQUESTED], 0, TKE_CEREMONY_REMOVE_ADMIN,
                 tke_unit_selection_get_selected (self->selection));
}

void
tke_administrators_page_set_units (TkeAdministratorsPage *self, GListModel *units)
{
  g_return_if_fail (TKE_IS_ADMINISTRATORS_PAGE (self));
  tke_unit_selection_set_units (self->selection, units);
}

void
tke_administrators_page_set_busy (TkeAdministratorsPage *self, gboolean busy)
{
  g_return_if_fail (TKE_IS_ADMINISTRATORS_PAGE (self));
  self->busy = busy;
  update_actions (self);
}

const char *
tke_administrators_page_get_selected_ski (TkeAdministratorsPage *self)
{
  GtkListBoxRow *row;
  int index;

  g_return_val_if_fail (TKE_IS_ADMINISTRATORS_PAGE (self), NULL);
  row = gtk_list_box_get_selected_row (self->list);
  if (row == NULL || (index = gtk_list_box_row_get_index (row)) < 0 ||
      (guint) index >= self->skis->len)
    return NULL;
  return self->skis->pdata[index];
}

gboolean
tke_administrators_page_select (TkeAdministratorsPage *self, const char *name)
{
  g_return_val_if_fail (TKE_IS_ADMINISTRATORS_PAGE (self), FALSE);

  for (guint i = 0; i < self->lines->len; i++)
    if (g_str_has_prefix (self->lines->pdata[i], name) &&
        ((const char *) self->lines->pdata[i])[strlen (name)] == ' ')
      {
        gtk_list_box_select_row (self->list, gtk_list_box_get_row_at_index (self->list, (int) i));
        return TRUE;
      }
  return FALSE;
}

char *
tke_administrators_page_describe (TkeAdministratorsPage *self)
{
  g_autoptr (GString) text = g_string_new (NULL);

  g_return_val_if_fail (TKE_IS_ADMINISTRATORS_PAGE (self), NULL);
  for (guint i = 0; i < self->lines->len; i++)
    g_string_append_printf (text, "%s\n", (const char *) self->lines->pdata[i]);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

const char *
tke_administrators_page_get_reason (TkeAdministratorsPage *self)
{
  g_return_val_if_fail (TKE_IS_ADMINISTRATORS_PAGE (self), NULL);
  return self->reason;
}

static void
tke_administrators_page_dispose (GObject *object)
{
  TkeAdministratorsPage *self = TKE_ADMINISTRATORS_PAGE (object);

  g_clear_object (&self->selection);
  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_ADMINISTRATORS_PAGE);
  G_OBJECT_CLASS (tke_administrators_page_parent_class)->dispose (object);
}

static void
tke_administrators_page_finalize (GObject *object)
{
  TkeAdministratorsPage *self = TKE_ADMINISTRATORS_PAGE (object);

  g_clear_pointer (&self->skis, g_ptr_array_unref);
  g_clear_pointer (&self->lines, g_ptr_array_unref);
  g_free (self->reason);
  G_OBJECT_CLASS (tke_administrators_page_parent_class)->finalize (object);
}

static void
tke_administrators_page_class_init (TkeAdministratorsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_administrators_page_dispose;
  object_class->finalize = tke_administrators_page_finalize;

  /**
   * TkeAdministratorsPage::ceremony-requested:
   * @kind: %TKE_CEREMONY_ADD_ADMIN or %TKE_CEREMONY_REMOVE_ADMIN
   * @units: the selected units
   */
  signals[SIGNAL_CEREMONY_REQUESTED] =
      g_signal_new ("ceremony-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 2, TKE_TYPE_CEREMONY_KIND, G_TYPE_LIST_MODEL);

  gtk_widget_class_set_template_from_resource (
      widget_class, "/dev/tke/TrustedKeyEntry/tke-administrators-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeAdministratorsPage, list);
  gtk_widget_class_bind_template_child (widget_class, TkeAdministratorsPage, reason_label);
  gtk_widget_class_bind_template_child (widget_class, TkeAdministratorsPage, add_button);
  gtk_widget_class_bind_template_child (widget_class, TkeAdministratorsPage, remove_button);
  gtk_widget_class_bind_template_callback (widget_class, on_add_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_remove_clicked);
}

static void
tke_administrators_page_init (TkeAdministratorsPage *self)
{
  self->skis = g_ptr_array_new_with_free_func (g_free);
  self->lines = g_ptr_array_new_with_free_func (g_free);
  self->selection = tke_unit_selection_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (self->selection, "changed", G_CALLBACK (on_selection_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->list, "row-selected", G_CALLBACK (on_row_selected), self, 0);
  rebuild (self);
}
