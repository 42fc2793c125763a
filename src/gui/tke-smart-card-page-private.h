/* tke-smart-card-page-private.h: what the files of TkeSmartCardPage share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * TkeSmartCardPage spans tke-smart-card-page.c (the cards, the card
 * operations) and tke-smart-card-files.c (keys between a card and files).
 */

#pragma once

#include <tke.h>

#include "tke-smart-card-page.h"

G_BEGIN_DECLS

struct _TkeSmartCardPage
{
  AdwBin parent_instance;

  GtkLabel *reader1_text;
  GtkLabel *reader2_text;
  GtkWidget *pin_box;
  GtkLabel *pin_label;
  GtkWidget *pad;
  GtkLabel *status_label;
  GtkWidget *blocked_box;
  GtkLabel *blocked_label;
  GtkEntry *description_entry;
  GtkWidget *sigkey_button;
  GtkWidget *keypart_button;
  GtkWidget *copy_button;
  GtkWidget *refresh_button;
  GtkWidget *unblock_button;
  GtkWidget *backup_ca_button;
  GtkWidget *change_pin_button;
  GtkWidget *init_ca_button;
  GtkWidget *enroll_button;
  GtkWidget *personalize_button;
  GtkEntry *zone_entry;
  GtkEntry *card_entry;
  GtkSpinButton *part_index_spin;
  /* Copy Key Part File to Card, Key Part to File, Signature Key File
   * to Card, Signature Key to File (tke-smart-card-files.c) */
  GtkWidget *file_buttons[4];
  AdwMessageDialog *password_dialog; /* weak */

  char *controls[2];
  TkeReadersBar *bar; /* weak */
  gboolean updating_bar;
  TkeCard *card[2];
  gboolean blocked[2];
  guint generation[2];
  guint reading;
  gboolean busy;
  GCancellable *cancellable;
};

/* tke-smart-card-page.c */

/* Starts an operation on the cards of READERS (1, 2 or 3 for both); FALSE
 * (and says why) when a card is missing. */
gboolean _tke_smart_card_page_begin (TkeSmartCardPage *self, guint readers, const char *what);
/* Ends it: DONE or the error in the status, the cards read again. */
void _tke_smart_card_page_end (TkeSmartCardPage *self, const char *done, const GError *error);

/* tke-smart-card-files.c */

void _tke_smart_card_page_files_class_init (GtkWidgetClass *widget_class);
void _tke_smart_card_page_files_dispose (TkeSmartCardPage *self);

G_END_DECLS
