/* tke-smart-card-page.c: the Smart card tab and the smart card utilities
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The page describes the card in each reader and runs libtke's card
 * operations on them: generating a signature key or a key part on the card
 * in reader 2, copying the card in reader 1 onto the card in reader 2,
 * unblocking the EP11 card in reader 2 with the CA card in reader 1, and
 * changing a PIN (copying keys between a card and files:
 * tke-smart-card-files.c).  Every rule and every APDU is libtke's; the page shows
 * what the cards say and which PIN pad waits.  PINs are typed on the pads
 * (with the virtual readers, on the on-screen pad, which forwards key
 * presses to the reader and holds no PIN).
 */

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <tke.h>

#include "tke-readers-bar.h"
#include "tke-smart-card-page-private.h"
#include "tke-virtual-pin-pad.h"

G_DEFINE_FINAL_TYPE (TkeSmartCardPage, tke_smart_card_page, ADW_TYPE_BIN)

static void refresh_reader (TkeSmartCardPage *self, guint reader);

static GtkLabel *
reader_label (TkeSmartCardPage *self, guint reader)
{
  return reader == 1 ? self->reader1_text : self->reader2_text;
}

static void
update_buttons (TkeSmartCardPage *self)
{
  GtkWidget *buttons[] = { self->sigkey_button,   self->keypart_button, self->copy_button,
                           self->refresh_button,  self->unblock_button, self->change_pin_button,
                           self->init_ca_button,  self->enroll_button,  self->personalize_button,
                           self->backup_ca_button };

  for (gsize i = 0; i < G_N_ELEMENTS (buttons); i++)
    gtk_widget_set_sensitive (buttons[i], !self->busy && self->reading == 0);
  for (gsize i = 0; i < G_N_ELEMENTS (self->file_buttons); i++)
    gtk_widget_set_sensitive (self->file_buttons[i], !self->busy && self->reading == 0);
}

static void
set_status (TkeSmartCardPage *self, const char *text)
{
  gtk_label_set_text (self->status_label, text != NULL ? text : "");
}

/* ---- Describing the cards ---- */

typedef struct
{
  TkeSmartCardPage *page;
  guint reader;
  guint generation;
  TkeCard *card;
  GPtrArray *parts;
  char *ski;
} Read;

static void
read_free (Read *read)
{
  read->page->reading--;
  update_buttons (read->page);
  g_object_unref (read->page);
  g_clear_object (&read->card);
  g_clear_pointer (&read->parts, g_ptr_array_unref);
  g_free (read->ski);
  g_free (read);
}

static gboolean
read_is_current (Read *read)
{
  return read->page->generation[read->reader - 1] == read->generation;
}

static void
show_blocked (TkeSmartCardPage *self)
{
  g_autoptr (GString) text = g_string_new (NULL);

  for (guint r = 1; r <= 2; r++)
    {
      TkeCard *card = self->card[r - 1];

      if (!self->blocked[r - 1] || card == NULL)
        continue;
      if (text->len > 0)
        g_string_append_c (text, '\n');
      if (tke_card_get_card_type (card) == TKE_CARD_TYPE_CA)
        g_string_append_printf (text,
                                _ ("The CA card “%s” in reader %u is blocked for good: a CA card "
                                   "cannot be unblocked. Use the zone's backup CA card."),
                                tke_card_get_description (card), r);
      else
        g_string_append_printf (
            text,
            _ ("The card “%s” in reader %u is blocked. Unblock it with its zone's CA card: the "
               "CA card in reader 1, the blocked card in reader 2, then Unblock With the CA "
               "Card. Or use another administrator card."),
            tke_card_get_description (card), r);
    }
  gtk_label_set_text (self->blocked_label, text->str);
  gtk_widget_set_visible (self->blocked_box, text->len > 0);
}

/* The readers strip says "blocked" too; its reader-changed signal must not
 * make us read the card again. */
static void
tell_bar (TkeSmartCardPage *self, guint reader)
{
  TkeCard *card = self->card[reader - 1];

  if (self->bar == NULL || card == NULL)
    return;
  self->updating_bar = TRUE;
  tke_readers_bar_set_reader (
      self->bar, reader, self->blocked[reader - 1] ? TKE_READER_SLOT_BLOCKED : TKE_READER_SLOT_CARD,
      tke_card_type_get_name (tke_card_get_card_type (card)), tke_card_get_description (card));
  self->updating_bar = FALSE;
}

static void
describe (Read *read)
{
  TkeSmartCardPage *self = read->page;
  TkeCard *card = read->card;
  guint tries = tke_card_get_pin_tries_left (card);
  g_autoptr (GString) text = g_string_new (NULL);

  if (tke_card_get_card_type (card) == TKE_CARD_TYPE_BLANK)
    {
      if (tke_card_get_enrolled (card))
        g_string_append_printf (text,
                                _ ("Blank card, enrolled in zone “%s” (%s): personalize it.\n"
                                   "Serial number: %s"),
                                tke_card_get_zone_description (card), tke_card_get_zone (card),
                                tke_card_get_serial (card));
      else
        g_string_append_printf (text, _ ("Blank card\nSerial number: %s"),
                                tke_card_get_serial (card));
      gtk_label_set_text (reader_label (self, read->reader), text->str);
      g_set_object (&self->card[read->reader - 1], card);
      self->blocked[read->reader - 1] = FALSE;
      show_blocked (self);
      tell_bar (self, read->reader);
      return;
    }
  /* Translators: "EP11 card “Admin 1”" */
  g_string_append_printf (text, _ ("%s card “%s”"),
                          tke_card_type_get_name (tke_card_get_card_type (card)),
                          tke_card_get_description (card));
  g_string_append_c (text, '\n');
  g_string_append_printf (text, _ ("Zone: “%s” (%s)"), tke_card_get_zone_description (card),
                          tke_card_get_zone (card));
  g_string_append_c (text, '\n');
  g_string_append_printf (text, _ ("Serial number: %s"), tke_card_get_serial (card));
  g_string_append_c (text, '\n');
  if (tries == 0)
    g_string_append (text, _ ("PIN: blocked"));
  else
    g_string_append_printf (
        text, g_dngettext (GETTEXT_PACKAGE, "PIN: %u try left", "PIN: %u tries left", tries),
        tries);
  if (tke_card_get_card_type (card) == TKE_CARD_TYPE_EP11)
    {
      g_string_append_c (text, '\n');
      g_autofree char *ski = tke_vp_format_one_line (read->ski);

      if (read->ski != NULL)
        g_string_append_printf (text, _ ("Signature key: SKI %s"), ski);
      else
        g_string_append (text, _ ("Signature key: none"));
      g_string_append_c (text, '\n');
      if (read->parts == NULL || read->parts->len == 0)
        g_string_append (text, _ ("Key parts: none"));
      else
        for (guint i = 0; i < read->parts->len; i++)
          {
            TkeCardKeyPart *part = g_ptr_array_index (read->parts, i);
            g_autofree char *check_value = tke_vp_format_one_line (part->check_value);

            if (i > 0)
              g_string_append_c (text, '\n');
            /* Translators: "Key part 1 “Part A”, check value 2857…" */
            g_string_append_printf (text, _ ("Key part %u “%s”, check value %s"), part->index,
                                    part->description, check_value);
          }
    }
  gtk_label_set_text (reader_label (self, read->reader), text->str);
  g_set_object (&self->card[read->reader - 1], card);
  self->blocked[read->reader - 1] = tries == 0;
  show_blocked (self);
  tell_bar (self, read->reader);
}

static void
read_failed (Read *read, const GError *error)
{
  TkeSmartCardPage *self = read->page;

  g_clear_object (&self->card[read->reader - 1]);
  self->blocked[read->reader - 1] = FALSE;
  show_blocked (self);
  if (g_error_matches (error, TKE_ERROR, TKE_ERROR_NO_CARD) ||
      g_error_matches (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED))
    gtk_label_set_text (reader_label (self, read->reader), _ ("No card"));
  else
    gtk_label_set_text (reader_label (self, read->reader), error->message);
}

static void
on_public_key (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Read *read = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) point = tke_card_get_public_key_finish (TKE_CARD (source), result, &error);

  if (read_is_current (read))
    {
      if (point != NULL)
        read->ski = tke_card_public_key_ski (point);
      describe (read);
    }
  read_free (read);
}

static void
on_parts (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Read *read = user_data;
  g_autoptr (GError) error = NULL;

  read->parts = tke_card_list_key_parts_finish (TKE_CARD (source), result, &error);
  if (!read_is_current (read))
    read_free (read);
  else if (read->parts == NULL)
    {
      read_failed (read, error);
      read_free (read);
    }
  else if (tke_card_get_has_signature_key (read->card))
    tke_card_get_public_key_async (read->card, read->page->cancellable, on_public_key, read);
  else
    {
      describe (read);
      read_free (read);
    }
}

static void
on_info (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Read *read = user_data;
  g_autoptr (GError) error = NULL;

  if (!tke_card_read_info_finish (TKE_CARD (source), result, &error))
    {
      if (read_is_current (read))
        read_failed (read, error);
      read_free (read);
    }
  else if (!read_is_current (read))
    read_free (read);
  else if (tke_card_get_card_type (read->card) == TKE_CARD_TYPE_EP11)
    tke_card_list_key_parts_async (read->card, read->page->cancellable, on_parts, read);
  else
    {
      describe (read);
      read_free (read);
    }
}

static void
on_opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Read *read = user_data;
  g_autoptr (GError) error = NULL;

  read->card = tke_card_open_finish (result, &error);
  if (read->card == NULL)
    {
      if (read_is_current (read))
        read_failed (read, error);
      read_free (read);
      return;
    }
  tke_card_read_info_async (read->card, read->page->cancellable, on_info, read);
}

static void
refresh_reader (TkeSmartCardPage *self, guint reader)
{
  Read *read = g_new0 (Read, 1);

  read->page = g_object_ref (self);
  read->reader = reader;
  read->generation = ++self->generation[reader - 1];
  self->reading++;
  update_buttons (self);
  gtk_label_set_text (reader_label (self, reader), _ ("Reading the card…"));
  tke_card_open_async (reader, tke_reader_default_prefix (reader), FALSE, self->cancellable,
                       on_opened, read);
}

/**
 * tke_smart_card_page_refresh:
 *
 * Reads the cards in both readers again (no PIN is needed).
 */
void
tke_smart_card_page_refresh (TkeSmartCardPage *self)
{
  g_return_if_fail (TKE_IS_SMART_CARD_PAGE (self));
  refresh_reader (self, 1);
  refresh_reader (self, 2);
}

static void
on_reader_changed (TkeReadersBar *bar, guint reader, TkeSmartCardPage *self)
{
  if (!self->updating_bar && !self->busy && (reader == 1 || reader == 2))
    refresh_reader (self, reader);
}

/* ---- Operations ---- */

static void
on_pin_requested (TkeCard *card, TkePinEntry entry, TkeSmartCardPage *self)
{
  guint reader = tke_card_get_reader_index (card);
  g_autofree char *prompt = tke_card_pin_prompt (reader, entry);
  const char *control = reader == 1 || reader == 2 ? self->controls[reader - 1] : NULL;

  gtk_label_set_text (self->pin_label, prompt);
  tke_virtual_pin_pad_set_control_path (TKE_VIRTUAL_PIN_PAD (self->pad), control);
  tke_virtual_pin_pad_set_reader (TKE_VIRTUAL_PIN_PAD (self->pad), reader);
  gtk_widget_set_visible (self->pad, control != NULL);
  gtk_widget_set_visible (self->pin_box, TRUE);
}

static void
on_waiting_changed (TkeCard *card, GParamSpec *pspec, TkeSmartCardPage *self)
{
  if (!tke_card_get_waiting_for_pin (card))
    gtk_widget_set_visible (self->pin_box, FALSE);
}

static void
watch_card (TkeSmartCardPage *self, TkeCard *card)
{
  g_signal_connect_object (card, "pin-requested", G_CALLBACK (on_pin_requested), self, 0);
  g_signal_connect_object (card, "notify::waiting-for-pin", G_CALLBACK (on_waiting_changed), self,
                           0);
}

static void
unwatch_cards (TkeSmartCardPage *self)
{
  for (guint r = 0; r < 2; r++)
    if (self->card[r] != NULL)
      g_signal_handlers_disconnect_by_data (self->card[r], self);
}

/* Starts an operation on the cards of READERS (1, 2 or 3 for both); FALSE
 * (and says why) when a card is missing. */
gboolean
_tke_smart_card_page_begin (TkeSmartCardPage *self, guint readers, const char *what)
{
  for (guint r = 1; r <= 2; r++)
    if ((readers & r) != 0 && self->card[r - 1] == NULL)
      {
        g_autofree char *text = g_strdup_printf (_ ("Put a card in reader %u first."), r);

        set_status (self, text);
        return FALSE;
      }
  for (guint r = 1; r <= 2; r++)
    if ((readers & r) != 0)
      watch_card (self, self->card[r - 1]);
  self->busy = TRUE;
  update_buttons (self);
  set_status (self, what);
  return TRUE;
}

void
_tke_smart_card_page_end (TkeSmartCardPage *self, const char *done, const GError *error)
{
  unwatch_cards (self);
  /* The pad keeps its reader: the reply to the key that ended the entry
   * may still be on its way. */
  gtk_widget_set_visible (self->pin_box, FALSE);
  self->busy = FALSE;
  set_status (self, error != NULL ? error->message : done);
  tke_smart_card_page_refresh (self);
}

static void
on_sigkey_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSmartCardPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) point =
      tke_card_generate_signature_key_finish (TKE_CARD (source), result, &error);
  g_autofree char *ski = point != NULL ? tke_card_public_key_ski (point) : NULL;
  g_autofree char *done =
      ski != NULL
          ? g_strdup_printf (_ ("The card in reader 2 has a new signature key, SKI %s."), ski)
          : NULL;

  _tke_smart_card_page_end (self, done, error);
}

static void
on_sigkey_clicked (TkeSmartCardPage *self)
{
  if (!_tke_smart_card_page_begin (self, 2,
                                   _ ("Generating a signature key on the card in reader 2…")))
    return;
  tke_card_generate_signature_key_async (self->card[1], FALSE, self->cancellable, on_sigkey_done,
                                         g_object_ref (self));
}

static void
on_keypart_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSmartCardPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCardKeyPart) part =
      tke_card_generate_key_part_finish (TKE_CARD (source), result, &error);
  g_autofree char *check_value = part != NULL ? tke_vp_format_one_line (part->check_value) : NULL;
  g_autofree char *done =
      part != NULL ? g_strdup_printf (_ ("The card in reader 2 has a new key part %u “%s”, check "
                                         "value %s."),
                                      part->index, part->description, check_value)
                   : NULL;

  _tke_smart_card_page_end (self, done, error);
}

static void
on_keypart_clicked (TkeSmartCardPage *self)
{
  const char *description = gtk_editable_get_text (GTK_EDITABLE (self->description_entry));

  if (!_tke_smart_card_page_begin (self, 2, _ ("Generating a key part on the card in reader 2…")))
    return;
  tke_card_generate_key_part_async (self->card[1], description, self->cancellable, on_keypart_done,
                                    g_object_ref (self));
}

static void
on_copy_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSmartCardPage) self = user_data;
  g_autoptr (GError) error = NULL;
  guint n = tke_card_copy_to_finish (TKE_CARD (source), result, &error);
  g_autofree char *done = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE,
                   "Copied %u item (signature key, key parts) onto the card in reader 2.",
                   "Copied %u items (signature key, key parts) onto the card in reader 2.", n),
      n);

  _tke_smart_card_page_end (self, done, error);
}

static void
on_copy_clicked (TkeSmartCardPage *self)
{
  if (!_tke_smart_card_page_begin (
          self, 3,
          _ ("Copying the card in reader 1 onto the card in reader 2. Only a card of the same "
             "zone takes the copy.")))
    return;
  tke_card_copy_to_async (self->card[0], self->card[1], self->cancellable, on_copy_done,
                          g_object_ref (self));
}

static void
on_unblock_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSmartCardPage) self = user_data;
  g_autoptr (GError) error = NULL;

  tke_card_unblock_finish (TKE_CARD (source), result, &error);
  _tke_smart_card_page_end (self, _ ("The card in reader 2 is unblocked and has its new PIN."),
                            error);
}

static void
on_unblock_clicked (TkeSmartCardPage *self)
{
  if (!_tke_smart_card_page_begin (
          self, 3,
          _ ("Unblocking the card in reader 2 with the CA card in reader 1: both CA PINs on "
             "the pad of reader 1, then the new PIN twice on the pad of reader 2.")))
    return;
  tke_card_unblock_async (self->card[1], self->card[0], self->cancellable, on_unblock_done,
                          g_object_ref (self));
}

static void
on_backup_ca_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSmartCardPage) self = user_data;
  g_autoptr (GError) error = NULL;

  tke_card_back_up_ca_finish (TKE_CARD (source), result, &error);
  _tke_smart_card_page_end (
      self,
      _ ("The card in reader 2 is a backup of the CA card in reader 1: the same zone and the "
         "same PINs. Keep it apart from the first."),
      error);
}

static void
on_backup_ca_clicked (TkeSmartCardPage *self)
{
  if (!_tke_smart_card_page_begin (
          self, 3,
          _ ("Backing up the CA card in reader 1 onto the blank card in reader 2: both CA "
             "PINs on the pad of reader 1. Nothing is sent to the blank card before them.")))
    return;
  tke_card_back_up_ca_async (self->card[0], self->card[1], self->cancellable, on_backup_ca_done,
                             g_object_ref (self));
}

static void
on_change_pin_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSmartCardPage) self = user_data;
  g_autoptr (GError) error = NULL;

  tke_card_change_pin_finish (TKE_CARD (source), result, &error);
  _tke_smart_card_page_end (self, _ ("The card in reader 2 has its new PIN."), error);
}

static void
on_change_pin_clicked (TkeSmartCardPage *self)
{
  if (!_tke_smart_card_page_begin (self, 2, _ ("Changing the PIN of the card in reader 2…")))
    return;
  tke_card_change_pin_async (self->card[1], self->cancellable, on_change_pin_done,
                             g_object_ref (self));
}

static void
on_init_ca_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSmartCardPage) self = user_data;
  g_autoptr (GError) error = NULL;

  tke_card_initialize_ca_finish (TKE_CARD (source), result, &error);
  _tke_smart_card_page_end (self, _ ("The card in reader 1 is the CA card of its new zone."),
                            error);
}

static void
on_init_ca_clicked (TkeSmartCardPage *self)
{
  if (!_tke_smart_card_page_begin (
          self, 1,
          _ ("Initializing the CA card in reader 1: PIN 1 twice, then PIN 2 twice, on the pad "
             "of reader 1.")))
    return;
  tke_card_initialize_ca_async (self->card[0],
                                gtk_editable_get_text (GTK_EDITABLE (self->zone_entry)),
                                gtk_editable_get_text (GTK_EDITABLE (self->card_entry)),
                                self->cancellable, on_init_ca_done, g_object_ref (self));
}

static void
on_enroll_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSmartCardPage) self = user_data;
  g_autoptr (GError) error = NULL;

  tke_card_enroll_finish (TKE_CARD (source), result, &error);
  _tke_smart_card_page_end (
      self,
      _ ("The card in reader 2 is enrolled in the CA card's zone. Personalize it next: its PIN "
         "and description."),
      error);
}

static void
on_enroll_clicked (TkeSmartCardPage *self)
{
  if (!_tke_smart_card_page_begin (
          self, 3,
          _ ("Enrolling the blank card in reader 2 in the zone of the CA card in reader 1: "
             "both CA PINs on the pad of reader 1.")))
    return;
  tke_card_enroll_async (self->card[1], self->card[0], self->cancellable, on_enroll_done,
                         g_object_ref (self));
}

static void
on_personalize_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSmartCardPage) self = user_data;
  g_autoptr (GError) error = NULL;

  tke_card_personalize_finish (TKE_CARD (source), result, &error);
  _tke_smart_card_page_end (self, _ ("The card in reader 2 is a personalized EP11 card."), error);
}

static void
on_personalize_clicked (TkeSmartCardPage *self)
{
  if (!_tke_smart_card_page_begin (
          self, 2,
          _ ("Personalizing the card in reader 2: its new PIN twice on the pad of reader 2.")))
    return;
  tke_card_personalize_async (self->card[1],
                              gtk_editable_get_text (GTK_EDITABLE (self->card_entry)),
                              self->cancellable, on_personalize_done, g_object_ref (self));
}

/* ---- Set-up ---- */

/**
 * tke_smart_card_page_set_virtual_pads:
 * @reader1_control: (nullable): the control socket of virtual reader 1
 * @reader2_control: (nullable): the control socket of virtual reader 2
 *
 * With virtual readers the page shows an on-screen pad for the reader whose
 * PIN pad waits.
 */
void
tke_smart_card_page_set_virtual_pads (TkeSmartCardPage *self,
                                      const char *reader1_control,
                                      const char *reader2_control)
{
  g_return_if_fail (TKE_IS_SMART_CARD_PAGE (self));
  g_free (self->controls[0]);
  g_free (self->controls[1]);
  self->controls[0] = g_strdup (reader1_control);
  self->controls[1] = g_strdup (reader2_control);
}

/**
 * tke_smart_card_page_set_readers_bar:
 *
 * The page reads a reader's card again whenever the strip shows a change,
 * and tells the strip when a card is blocked.
 */
void
tke_smart_card_page_set_readers_bar (TkeSmartCardPage *self, TkeReadersBar *bar)
{
  g_return_if_fail (TKE_IS_SMART_CARD_PAGE (self));
  if (self->bar != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->bar, self);
      g_object_remove_weak_pointer (G_OBJECT (self->bar), (gpointer *) &self->bar);
    }
  self->bar = bar;
  if (bar != NULL)
    {
      g_object_add_weak_pointer (G_OBJECT (bar), (gpointer *) &self->bar);
      g_signal_connect (bar, "reader-changed", G_CALLBACK (on_reader_changed), self);
    }
}

const char *
tke_smart_card_page_get_reader_text (TkeSmartCardPage *self, guint reader)
{
  g_return_val_if_fail (TKE_IS_SMART_CARD_PAGE (self), NULL);
  g_return_val_if_fail (reader == 1 || reader == 2, NULL);
  return gtk_label_get_text (reader_label (self, reader));
}

const char *
tke_smart_card_page_get_status (TkeSmartCardPage *self)
{
  g_return_val_if_fail (TKE_IS_SMART_CARD_PAGE (self), NULL);
  return gtk_label_get_text (self->status_label);
}

gboolean
tke_smart_card_page_get_busy (TkeSmartCardPage *self)
{
  g_return_val_if_fail (TKE_IS_SMART_CARD_PAGE (self), FALSE);
  return self->busy || self->reading > 0;
}

const char *
tke_smart_card_page_get_pin_prompt (TkeSmartCardPage *self)
{
  g_return_val_if_fail (TKE_IS_SMART_CARD_PAGE (self), NULL);
  return gtk_widget_get_visible (self->pin_box) ? gtk_label_get_text (self->pin_label) : NULL;
}

GtkWidget *
tke_smart_card_page_get_pad (TkeSmartCardPage *self)
{
  g_return_val_if_fail (TKE_IS_SMART_CARD_PAGE (self), NULL);
  return self->pad;
}

const char *
tke_smart_card_page_get_blocked_advice (TkeSmartCardPage *self)
{
  g_return_val_if_fail (TKE_IS_SMART_CARD_PAGE (self), NULL);
  return gtk_widget_get_visible (self->blocked_box) ? gtk_label_get_text (self->blocked_label)
                                                    : NULL;
}

static void
tke_smart_card_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (tke_smart_card_page_parent_class)->map (widget);
  tke_smart_card_page_refresh (TKE_SMART_CARD_PAGE (widget));
}

static void
tke_smart_card_page_dispose (GObject *object)
{
  TkeSmartCardPage *self = TKE_SMART_CARD_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  tke_smart_card_page_set_readers_bar (self, NULL);
  unwatch_cards (self);
  g_clear_object (&self->card[0]);
  g_clear_object (&self->card[1]);
  _tke_smart_card_page_files_dispose (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_SMART_CARD_PAGE);
  G_OBJECT_CLASS (tke_smart_card_page_parent_class)->dispose (object);
}

static void
tke_smart_card_page_finalize (GObject *object)
{
  TkeSmartCardPage *self = TKE_SMART_CARD_PAGE (object);

  g_free (self->controls[0]);
  g_free (self->controls[1]);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (tke_smart_card_page_parent_class)->finalize (object);
}

static void
tke_smart_card_page_class_init (TkeSmartCardPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_smart_card_page_dispose;
  object_class->finalize = tke_smart_card_page_finalize;
  widget_class->map = tke_smart_card_page_map;

  g_type_ensure (TKE_TYPE_VIRTUAL_PIN_PAD);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/tke-smart-card-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, reader1_text);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, reader2_text);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, pin_box);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, pin_label);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, pad);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, blocked_box);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, blocked_label);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, description_entry);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, sigkey_button);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, keypart_button);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, copy_button);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, refresh_button);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, unblock_button);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, backup_ca_button);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, change_pin_button);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, init_ca_button);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, enroll_button);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, personalize_button);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, zone_entry);
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, card_entry);
  gtk_widget_class_bind_template_callback (widget_class, on_init_ca_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_enroll_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_personalize_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_backup_ca_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_sigkey_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_keypart_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_copy_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_unblock_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_change_pin_clicked);
  gtk_widget_class_bind_template_callback (widget_class, tke_smart_card_page_refresh);
  _tke_smart_card_page_files_class_init (widget_class);
}

static void
tke_smart_card_page_init (TkeSmartCardPage *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_label_set_text (self->reader1_text, _ ("No card"));
  gtk_label_set_text (self->reader2_text, _ ("No card"));
}
