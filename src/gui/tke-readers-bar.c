/* tke-readers-bar.c: reader 1 and reader 2, and the cards in them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Always in sight at the bottom of the window, so that nobody puts the
 * administrator card into the key part reader: "No smart card inserted"
 * because readers 1 and 2 are swapped is a known pain of the real tool.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-readers-bar.h"
#include "tke-widget-util.h"

struct _TkeReadersBar
{
  GtkWidget parent_instance;

  GtkWidget *reader_box[2];
  GtkImage *reader_icon[2];
  GtkLabel *reader_label[2];
  GtkWidget *virtual_label;
};

G_DEFINE_FINAL_TYPE (TkeReadersBar, tke_readers_bar, GTK_TYPE_WIDGET)

GtkWidget *
tke_readers_bar_new (void)
{
  return g_object_new (TKE_TYPE_READERS_BAR, NULL);
}

static const char *
role_of (guint reader)
{
  return reader == 1 ? _("administrator cards") : _("key part cards");
}

/**
 * tke_readers_bar_set_reader:
 * @reader: 1 or 2
 *
 * Shows what is in READER now.  Call it each time the reader monitor says
 * a card went in or out.
 */
void
tke_readers_bar_set_reader (TkeReadersBar *self,
                            guint reader,
                            TkeReaderSlotState state,
                            const char *card_type,
                            const char *card_description)
{
  g_autofree char *text = NULL;
  g_autofree char *tooltip = NULL;
  GtkWidget *box;

  g_return_if_fail (TKE_IS_READERS_BAR (self));
  g_return_if_fail (reader == 1 || reader == 2);

  box = self->reader_box[reader - 1];
  switch (state)
    {
    case TKE_READER_SLOT_MISSING:
      /* Translators: "Reader 1: not connected" */
      text = g_strdup_printf (_("Reader %u: not connected"), reader);
      gtk_image_set_from_icon_name (self->reader_icon[reader - 1], "dialog-warning-symbolic");
      break;
    case TKE_READER_SLOT_EMPTY:
      text = g_strdup_printf (_("Reader %u: no card"), reader);
      gtk_image_set_from_icon_name (self->reader_icon[reader - 1], "media-removable-symbolic");
      break;
    case TKE_READER_SLOT_CARD:
    default:
      /* Translators: "Reader 2: EP11 card “Key parts A”" */
      text = g_strdup_printf (_("Reader %u: %s card “%s”"), reader, card_type != NULL ? card_type : "?",
                              card_description != NULL ? card_description : "");
      gtk_image_set_from_icon_name (self->reader_icon[reader - 1], "emblem-ok-symbolic");
      break;
    }
  tooltip = g_strdup_printf (_("Reader %u is for %s"), reader, role_of (reader));
  gtk_label_set_text (self->reader_label[reader - 1], text);
  gtk_widget_set_tooltip_text (box, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
  if (state == TKE_READER_SLOT_CARD)
    gtk_widget_add_css_class (box, "tke-card-present");
  else
    gtk_widget_remove_css_class (box, "tke-card-present");
  if (state == TKE_READER_SLOT_MISSING)
    gtk_widget_add_css_class (box, "warning");
  else
    gtk_widget_remove_css_class (box, "warning");
}

const char *
tke_readers_bar_get_summary (TkeReadersBar *self,
                             guint reader)
{
  g_return_val_if_fail (TKE_IS_READERS_BAR (self), NULL);
  g_return_val_if_fail (reader == 1 || reader == 2, NULL);
  return gtk_label_get_text (self->reader_label[reader - 1]);
}

void
tke_readers_bar_set_virtual (TkeReadersBar *self,
                             gboolean is_virtual)
{
  g_return_if_fail (TKE_IS_READERS_BAR (self));
  gtk_widget_set_visible (self->virtual_label, is_virtual);
}

static void
tke_readers_bar_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), TKE_TYPE_READERS_BAR);
  tke_widget_unparent_children (GTK_WIDGET (object));
  G_OBJECT_CLASS (tke_readers_bar_parent_class)->dispose (object);
}

static void
tke_readers_bar_class_init (TkeReadersBarClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = tke_readers_bar_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/tke-readers-bar.ui");
  gtk_widget_class_bind_template_child_full (widget_class, "reader1_box", FALSE, G_STRUCT_OFFSET (TkeReadersBar, reader_box[0]));
  gtk_widget_class_bind_template_child_full (widget_class, "reader2_box", FALSE, G_STRUCT_OFFSET (TkeReadersBar, reader_box[1]));
  gtk_widget_class_bind_template_child_full (widget_class, "reader1_icon", FALSE, G_STRUCT_OFFSET (TkeReadersBar, reader_icon[0]));
  gtk_widget_class_bind_template_child_full (widget_class, "reader2_icon", FALSE, G_STRUCT_OFFSET (TkeReadersBar, reader_icon[1]));
  gtk_widget_class_bind_template_child_full (widget_class, "reader1_label", FALSE, G_STRUCT_OFFSET (TkeReadersBar, reader_label[0]));
  gtk_widget_class_bind_template_child_full (widget_class, "reader2_label", FALSE, G_STRUCT_OFFSET (TkeReadersBar, reader_label[1]));
  gtk_widget_class_bind_template_child (widget_class, TkeReadersBar, virtual_label);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
tke_readers_bar_init (TkeReadersBar *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  tke_readers_bar_set_reader (self, 1, TKE_READER_SLOT_MISSING, NULL, NULL);
  tke_readers_bar_set_reader (self, 2, TKE_READER_SLOT_MISSING, NULL, NULL);
}
