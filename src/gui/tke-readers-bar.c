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
#include "tke-virtual-cards.h"
#include "tke-widget-util.h"

struct _TkeReadersBar
{
  GtkWidget parent_instance;

  GtkWidget *reader_box[2];
  GtkImage *reader_icon[2];
  GtkLabel *reader_label[2];
  GtkWidget *virtual_label;

  /* The demo's card switcher: a "Cards" menu per virtual reader. */
  GtkMenuButton *cards_button[2];
  GMenu *cards_menu[2];
  char *cards_dir;
  char *controls[2];
  GCancellable *cancellable;

  /* What set_reader() was told last, for the copies that follow it. */
  TkeReaderSlotState state[2];
  char *card_type[2];
  char *card_description[2];
};

G_DEFINE_FINAL_TYPE (TkeReadersBar, tke_readers_bar, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_READER_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

GtkWidget *
tke_readers_bar_new (void)
{
  return g_object_new (TKE_TYPE_READERS_BAR, NULL);
}

static const char *
role_of (guint reader)
{
  return reader == 1 ? _ ("administrator cards") : _ ("key part cards");
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
  self->state[reader - 1] = state;
  if (card_type != self->card_type[reader - 1])
    {
      g_free (self->card_type[reader - 1]);
      self->card_type[reader - 1] = g_strdup (card_type);
    }
  if (card_description != self->card_description[reader - 1])
    {
      g_free (self->card_description[reader - 1]);
      self->card_description[reader - 1] = g_strdup (card_description);
    }
  switch (state)
    {
    case TKE_READER_SLOT_MISSING:
      /* Translators: "Reader 1: not connected" */
      text = g_strdup_printf (_ ("Reader %u: not connected"), reader);
      gtk_image_set_from_icon_name (self->reader_icon[reader - 1], "dialog-warning-symbolic");
      break;
    case TKE_READER_SLOT_EMPTY:
      text = g_strdup_printf (_ ("Reader %u: no card"), reader);
      gtk_image_set_from_icon_name (self->reader_icon[reader - 1], "media-removable-symbolic");
      break;
    case TKE_READER_SLOT_BLOCKED:
      /* Translators: "Reader 2: EP11 card “Key parts A” is blocked" */
      text = g_strdup_printf (_ ("Reader %u: %s card “%s” is blocked"), reader,
                              card_type != NULL ? card_type : "?",
                              card_description != NULL ? card_description : "");
      gtk_image_set_from_icon_name (self->reader_icon[reader - 1], "dialog-error-symbolic");
      break;
    case TKE_READER_SLOT_CARD:
    default:
      if (card_description != NULL && *card_description == '\0')
        {
          /* Translators: "Reader 1: blank card" (a card without a description yet) */
          text = g_strdup_printf (_ ("Reader %u: %s card"), reader,
                                  card_type != NULL ? card_type : "?");
          gtk_image_set_from_icon_name (self->reader_icon[reader - 1], "emblem-ok-symbolic");
          break;
        }
      /* Translators: "Reader 2: EP11 card “Key parts A”" */
      text = g_strdup_printf (_ ("Reader %u: %s card “%s”"), reader,
                              card_type != NULL ? card_type : "?",
                              card_description != NULL ? card_description : "");
      gtk_image_set_from_icon_name (self->reader_icon[reader - 1], "emblem-ok-symbolic");
      break;
    }
  tooltip = g_strdup_printf (_ ("Reader %u is for %s"), reader, role_of (reader));
  gtk_label_set_text (self->reader_label[reader - 1], text);
  gtk_widget_set_tooltip_text (box, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
  if (state == TKE_READER_SLOT_CARD || state == TKE_READER_SLOT_BLOCKED)
    gtk_widget_add_css_class (box, "tke-card-present");
  else
    gtk_widget_remove_css_class (box, "tke-card-present");
  if (state == TKE_READER_SLOT_BLOCKED)
    gtk_widget_add_css_class (box, "error");
  else
    gtk_widget_remove_css_class (box, "error");
  if (state == TKE_READER_SLOT_MISSING)
    gtk_widget_add_css_class (box, "warning");
  else
    gtk_widget_remove_css_class (box, "warning");
  g_signal_emit (self, signals[SIGNAL_READER_CHANGED], 0, reader);
}

const char *
tke_readers_bar_get_summary (TkeReadersBar *self, guint reader)
{
  g_return_val_if_fail (TKE_IS_READERS_BAR (self), NULL);
  g_return_val_if_fail (reader == 1 || reader == 2, NULL);
  return gtk_label_get_text (self->reader_label[reader - 1]);
}

void
tke_readers_bar_set_virtual (TkeReadersBar *self, gboolean is_virtual)
{
  g_return_if_fail (TKE_IS_READERS_BAR (self));
  gtk_widget_set_visible (self->virtual_label, is_virtual);
}

/* ---- The demo's card switcher ---- */

/* The menu is filled again each time it opens: the directory is the
 * truth, and the demo may add cards while the window is open. */
static void
fill_cards_menu (TkeReadersBar *self, guint reader)
{
  GMenu *menu = self->cards_menu[reader - 1];
  g_autoptr (GMenu) cards = g_menu_new ();
  g_autoptr (GMenu) actions = g_menu_new ();
  g_autoptr (GMenuItem) remove = NULL;
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GError) error = NULL;

  g_menu_remove_all (menu);
  images = tke_virtual_cards_list (self->cards_dir, &error);
  if (images == NULL)
    g_warning ("The demo's cards: %s", error->message);
  for (guint i = 0; images != NULL && i < images->len; i++)
    {
      TkeVirtualCardImage *image = g_ptr_array_index (images, i);
      g_autoptr (GMenuItem) item = g_menu_item_new (image->description, NULL);

      g_menu_item_set_action_and_target (item, "readers.insert-card", "(us)", reader, image->path);
      g_menu_append_item (cards, item);
    }
  remove = g_menu_item_new (_ ("Remove Card"), NULL);
  g_menu_item_set_action_and_target (remove, "readers.remove-card", "u", reader);
  g_menu_append_item (actions, remove);
  g_menu_append_section (menu, NULL, G_MENU_MODEL (cards));
  g_menu_append_section (menu, NULL, G_MENU_MODEL (actions));
}

static void
on_cards_popover_show (GtkWidget *popover, TkeReadersBar *self)
{
  if (self->cards_dir != NULL)
    fill_cards_menu (
        self, popover == GTK_WIDGET (gtk_menu_button_get_popover (self->cards_button[0])) ? 1 : 2);
}

typedef struct
{
  TkeReadersBar *self;
  guint reader;
} SwapDone;

static void
on_swapped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SwapDone *done = user_data;
  g_autoptr (TkeReadersBar) self = done->self;
  g_autoptr (GError) error = NULL;
  guint reader = done->reader;

  g_free (done);
  /* Disposed meanwhile (the cancellable goes with the widgets). */
  if (!tke_virtual_cards_swap_finish (result, &error) && self->cancellable != NULL)
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* Translators: "Reader 1: the card was not changed: MESSAGE" */
      text =
          g_strdup_printf (_ ("Reader %u: the card was not changed: %s"), reader, error->message);
      gtk_label_set_text (self->reader_label[reader - 1], text);
      gtk_widget_add_css_class (self->reader_box[reader - 1], "warning");
    }
  if (self->cancellable != NULL)
    gtk_widget_set_sensitive (GTK_WIDGET (self->cards_button[reader - 1]), TRUE);
}

/* The pcscd monitor then shows the change, as for a real card. */
static void
swap_card (TkeReadersBar *self, guint reader, const char *image_path)
{
  SwapDone *done;

  if ((reader != 1 && reader != 2) || self->controls[reader - 1] == NULL)
    return;
  if (self->cancellable == NULL)
    self->cancellable = g_cancellable_new ();
  gtk_widget_set_sensitive (GTK_WIDGET (self->cards_button[reader - 1]), FALSE);
  done = g_new0 (SwapDone, 1);
  done->self = g_object_ref (self);
  done->reader = reader;
  tke_virtual_cards_swap_async (self->controls[reader - 1], image_path, self->cancellable,
                                on_swapped, done);
}

static void
insert_card_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  guint reader;
  const char *path;

  g_variant_get (parameter, "(u&s)", &reader, &path);
  swap_card (TKE_READERS_BAR (widget), reader, path);
}

static void
remove_card_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  swap_card (TKE_READERS_BAR (widget), g_variant_get_uint32 (parameter), NULL);
}

/**
 * tke_readers_bar_set_card_switcher:
 * @cards_dir: (nullable): the demo's card images (`*.card`), or NULL for
 *   no switcher
 * @reader1_control: (nullable): the control socket of virtual reader 1
 * @reader2_control: (nullable): the control socket of virtual reader 2
 *
 * Offers a "Cards" menu next to each virtual reader, listing the
 * images in @cards_dir by their description, and "Remove Card".
 */
void
tke_readers_bar_set_card_switcher (TkeReadersBar *self,
                                   const char *cards_dir,
                                   const char *reader1_control,
                                   const char *reader2_control)
{
  const char *controls[2] = { reader1_control, reader2_control };

  g_return_if_fail (TKE_IS_READERS_BAR (self));

  g_free (self->cards_dir);
  self->cards_dir = g_strdup (cards_dir);
  for (guint i = 0; i < 2; i++)
    {
      g_free (self->controls[i]);
      self->controls[i] = g_strdup (controls[i]);
      gtk_widget_set_visible (GTK_WIDGET (self->cards_button[i]),
                              cards_dir != NULL && controls[i] != NULL);
      if (cards_dir != NULL && controls[i] != NULL)
        fill_cards_menu (self, i + 1);
    }
}

static void
on_source_changed (TkeReadersBar *source, guint reader, TkeReadersBar *self)
{
  tke_readers_bar_set_reader (self, reader, source->state[reader - 1],
                              source->card_type[reader - 1], source->card_description[reader - 1]);
}

/**
 * tke_readers_bar_follow:
 * @source: the window's readers strip, which the reader monitor updates
 *
 * Makes @self a copy of @source that stays up to date: the same readers,
 * cards and "Cards" menus.  A ceremony dialog shows one, so that the
 * cards it asks for can be seen, and with the demo's virtual readers
 * swapped, while it waits (the window's own strip is behind the dialog).
 */
void
tke_readers_bar_follow (TkeReadersBar *self, TkeReadersBar *source)
{
  g_return_if_fail (TKE_IS_READERS_BAR (self));
  g_return_if_fail (TKE_IS_READERS_BAR (source));

  for (guint reader = 1; reader <= 2; reader++)
    on_source_changed (source, reader, self);
  /* A dialog is narrower than the window: the readers get its width. */
  tke_readers_bar_set_virtual (self, FALSE);
  for (guint i = 0; i < 2; i++)
    {
      gtk_widget_set_hexpand (self->reader_box[i], TRUE);
      gtk_label_set_ellipsize (self->reader_label[i], PANGO_ELLIPSIZE_NONE);
      gtk_label_set_wrap (self->reader_label[i], TRUE);
      gtk_widget_set_hexpand (GTK_WIDGET (self->reader_label[i]), TRUE);
    }
  tke_readers_bar_set_card_switcher (self, source->cards_dir, source->controls[0],
                                     source->controls[1]);
  g_signal_connect_object (source, "reader-changed", G_CALLBACK (on_source_changed), self, 0);
}

/**
 * tke_readers_bar_get_card_button:
 * @reader: 1 or 2
 *
 * Returns: (transfer none): the "Cards" menu button of the reader.
 */
GtkMenuButton *
tke_readers_bar_get_card_button (TkeReadersBar *self, guint reader)
{
  g_return_val_if_fail (TKE_IS_READERS_BAR (self), NULL);
  g_return_val_if_fail (reader == 1 || reader == 2, NULL);
  return self->cards_button[reader - 1];
}

static void
tke_readers_bar_dispose (GObject *object)
{
  TkeReadersBar *self = TKE_READERS_BAR (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (object), TKE_TYPE_READERS_BAR);
  tke_widget_unparent_children (GTK_WIDGET (object));
  G_OBJECT_CLASS (tke_readers_bar_parent_class)->dispose (object);
}

static void
tke_readers_bar_finalize (GObject *object)
{
  TkeReadersBar *self = TKE_READERS_BAR (object);

  g_free (self->cards_dir);
  g_free (self->controls[0]);
  g_free (self->controls[1]);
  g_clear_object (&self->cards_menu[0]);
  g_clear_object (&self->cards_menu[1]);
  for (guint i = 0; i < 2; i++)
    {
      g_free (self->card_type[i]);
      g_free (self->card_description[i]);
    }
  G_OBJECT_CLASS (tke_readers_bar_parent_class)->finalize (object);
}

static void
tke_readers_bar_class_init (TkeReadersBarClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = tke_readers_bar_dispose;
  G_OBJECT_CLASS (klass)->finalize = tke_readers_bar_finalize;

  /**
   * TkeReadersBar::reader-changed:
   * @reader: 1 or 2
   *
   * tke_readers_bar_set_reader() changed what the strip shows of @reader.
   */
  signals[SIGNAL_READER_CHANGED] =
      g_signal_new ("reader-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/tke-readers-bar.ui");
  gtk_widget_class_bind_template_child_full (widget_class, "reader1_box", FALSE,
                                             G_STRUCT_OFFSET (TkeReadersBar, reader_box[0]));
  gtk_widget_class_bind_template_child_full (widget_class, "reader2_box", FALSE,
                                             G_STRUCT_OFFSET (TkeReadersBar, reader_box[1]));
  gtk_widget_class_bind_template_child_full (widget_class, "reader1_icon", FALSE,
                                             G_STRUCT_OFFSET (TkeReadersBar, reader_icon[0]));
  gtk_widget_class_bind_template_child_full (widget_class, "reader2_icon", FALSE,
                                             G_STRUCT_OFFSET (TkeReadersBar, reader_icon[1]));
  gtk_widget_class_bind_template_child_full (widget_class, "reader1_label", FALSE,
                                             G_STRUCT_OFFSET (TkeReadersBar, reader_label[0]));
  gtk_widget_class_bind_template_child_full (widget_class, "reader2_label", FALSE,
                                             G_STRUCT_OFFSET (TkeReadersBar, reader_label[1]));
  gtk_widget_class_bind_template_child (widget_class, TkeReadersBar, virtual_label);
  gtk_widget_class_bind_template_child_full (widget_class, "reader1_cards", FALSE,
                                             G_STRUCT_OFFSET (TkeReadersBar, cards_button[0]));
  gtk_widget_class_bind_template_child_full (widget_class, "reader2_cards", FALSE,
                                             G_STRUCT_OFFSET (TkeReadersBar, cards_button[1]));
  gtk_widget_class_install_action (widget_class, "readers.insert-card", "(us)", insert_card_action);
  gtk_widget_class_install_action (widget_class, "readers.remove-card", "u", remove_card_action);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
tke_readers_bar_init (TkeReadersBar *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  for (guint i = 0; i < 2; i++)
    {
      self->cards_menu[i] = g_menu_new ();
      gtk_menu_button_set_menu_model (self->cards_button[i], G_MENU_MODEL (self->cards_menu[i]));
      g_signal_connect (gtk_menu_button_get_popover (self->cards_button[i]), "show",
                        G_CALLBACK (on_cards_popover_show), self);
    }
  tke_readers_bar_set_reader (self, 1, TKE_READER_SLOT_MISSING, NULL, NULL);
  tke_readers_bar_set_reader (self, 2, TKE_READER_SLOT_MISSING, NULL, NULL);
}
