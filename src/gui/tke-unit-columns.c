/* tke-unit-columns.c: GtkColumnView columns that show a crypto unit's properties
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-unit-columns.h"

typedef struct
{
  TkeUnitCellFunc fill;
  gpointer user_data;
} ColumnData;

typedef struct
{
  TkeCryptoUnit *unit;
  gulong handler;
} CellBinding;

static void
cell_binding_free (gpointer data)
{
  CellBinding *binding = data;

  if (binding->unit != NULL)
    g_clear_signal_handler (&binding->handler, binding->unit);
  g_clear_object (&binding->unit);
  g_free (binding);
}

static void
refill (GtkListItem *item)
{
  ColumnData *column = g_object_get_data (G_OBJECT (item), "tke-column");
  TkeCryptoUnit *unit = gtk_list_item_get_item (item);
  GtkWidget *label = gtk_list_item_get_child (item);

  if (unit != NULL && label != NULL)
    column->fill (unit, GTK_LABEL (label), column->user_data);
}

static void
on_unit_notify (GObject *unit, GParamSpec *pspec, gpointer item)
{
  refill (GTK_LIST_ITEM (item));
}

static void
on_setup (GtkSignalListItemFactory *factory, GtkListItem *item, ColumnData *column)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_list_item_set_child (item, label);
  g_object_set_data (G_OBJECT (item), "tke-column", column);
}

static void
on_bind (GtkSignalListItemFactory *factory, GtkListItem *item, ColumnData *column)
{
  CellBinding *binding = g_new0 (CellBinding, 1);

  binding->unit = g_object_ref (gtk_list_item_get_item (item));
  binding->handler =
      g_signal_connect_object (binding->unit, "notify", G_CALLBACK (on_unit_notify), item, 0);
  g_object_set_data_full (G_OBJECT (item), "tke-binding", binding, cell_binding_free);
  refill (item);
}

static void
on_unbind (GtkSignalListItemFactory *factory, GtkListItem *item, ColumnData *column)
{
  g_object_set_data (G_OBJECT (item), "tke-binding", NULL);
}

static void
free_column_data (gpointer data, GObject *factory)
{
  g_free (data);
}

GtkColumnViewColumn *
tke_unit_column_new (const char *title, TkeUnitCellFunc fill, gpointer user_data, gboolean expand)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  ColumnData *column = g_new0 (ColumnData, 1);
  GtkColumnViewColumn *result;

  column->fill = fill;
  column->user_data = user_data;
  g_signal_connect (factory, "setup", G_CALLBACK (on_setup), column);
  g_signal_connect (factory, "bind", G_CALLBACK (on_bind), column);
  g_signal_connect (factory, "unbind", G_CALLBACK (on_unbind), column);
  g_object_weak_ref (G_OBJECT (factory), free_column_data, column);

  result = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_expand (result, expand);
  gtk_column_view_column_set_resizable (result, TRUE);
  return result;
}

char *
tke_unit_format_vp (const char *vp)
{
  if (vp == NULL || !tke_vp_is_valid (vp))
    return tke_vp_format_groups (TKE_EMPTY_VP);
  return tke_vp_format_groups (vp);
}

void
tke_unit_cell_number (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  g_autofree char *text = g_strdup_printf ("%u", tke_crypto_unit_get_number (unit));

  gtk_label_set_text (label, text);
  gtk_widget_add_css_class (GTK_WIDGET (label), "numeric");
}

void
tke_unit_cell_type (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  gtk_label_set_text (label, tke_crypto_unit_type_to_string (tke_crypto_unit_get_unit_type (unit)));
}

void
tke_unit_cell_location (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  gtk_label_set_text (label, tke_crypto_unit_get_location (unit));
  gtk_widget_add_css_class (GTK_WIDGET (label), "monospace");
}

void
tke_unit_cell_new_state (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  gtk_label_set_text (
      label, tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit)));
}

void
tke_unit_cell_current_state (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  gtk_label_set_text (label, tke_current_register_state_to_string (
                                 tke_crypto_unit_get_current_register_state (unit)));
}

/* An empty register has no pattern: a dash reads better than 64 zeros
 * that look like a key. */
static void
fill_vp (GtkLabel *label, const char *vp)
{
  g_autofree char *text = NULL;

  if (vp == NULL || !tke_vp_is_valid (vp) || g_str_equal (vp, TKE_EMPTY_VP))
    {
      gtk_label_set_text (label, "—");
      gtk_label_set_selectable (label, FALSE);
      gtk_accessible_update_property (GTK_ACCESSIBLE (label), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _ ("No verification pattern: the register is empty"), -1);
      gtk_widget_add_css_class (GTK_WIDGET (label), "dim-label");
      return;
    }
  text = tke_unit_format_vp (vp);
  gtk_widget_remove_css_class (GTK_WIDGET (label), "dim-label");
  gtk_accessible_reset_property (GTK_ACCESSIBLE (label), GTK_ACCESSIBLE_PROPERTY_LABEL);
  gtk_label_set_text (label, text);
  gtk_label_set_selectable (label, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (label), "monospace");
  gtk_widget_add_css_class (GTK_WIDGET (label), "vp");
}

void
tke_unit_cell_new_vp (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  fill_vp (label, tke_crypto_unit_get_new_register_vp (unit));
}

void
tke_unit_cell_current_vp (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  fill_vp (label, tke_crypto_unit_get_current_register_vp (unit));
}

void
tke_unit_cell_register_folded (GtkLabel *label, const char *state, const char *vp)
{
  g_autoptr (GString) markup = g_string_new (NULL);
  g_autofree char *escaped = g_markup_escape_text (state, -1);

  g_string_append (markup, escaped);
  if (vp == NULL || !tke_vp_is_valid (vp) || g_str_equal (vp, TKE_EMPTY_VP))
    {
      /* As in the wide table: a dash, not 64 zeros that look like a key. */
      g_string_append (markup, "\n<span alpha=\"55%\">—</span>");
      gtk_label_set_selectable (label, FALSE);
    }
  else
    {
      g_string_append (markup, "\n<span font_family=\"monospace\">");
      for (guint i = 0; i < TKE_VP_SIZE * 2; i += 4)
        {
          g_string_append_len (markup, vp + i, 4);
          if (i + 4 < TKE_VP_SIZE * 2)
            g_string_append_c (markup, (i / 4) % 4 == 3 ? '\n' : ' ');
        }
      g_string_append (markup, "</span>");
      gtk_label_set_selectable (label, TRUE);
    }
  gtk_label_set_markup (label, markup->str);
}
