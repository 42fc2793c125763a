/* tke-readers-bar.h: reader 1 and reader 2, and the cards in them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/**
 * TkeReaderSlotState:
 * @TKE_READER_SLOT_MISSING: the reader is not connected
 * @TKE_READER_SLOT_EMPTY: the reader is there, without a card
 * @TKE_READER_SLOT_CARD: a card is in the reader
 * @TKE_READER_SLOT_BLOCKED: a card is in the reader, its PIN blocked
 */
typedef enum
{
  TKE_READER_SLOT_MISSING,
  TKE_READER_SLOT_EMPTY,
  TKE_READER_SLOT_CARD,
  TKE_READER_SLOT_BLOCKED,
} TkeReaderSlotState;

#define TKE_TYPE_READERS_BAR (tke_readers_bar_get_type ())

G_DECLARE_FINAL_TYPE (TkeReadersBar, tke_readers_bar, TKE, READERS_BAR, GtkWidget)

GtkWidget *tke_readers_bar_new (void);
void tke_readers_bar_set_reader (TkeReadersBar *self,
                                 guint reader,
                                 TkeReaderSlotState state,
                                 const char *card_type,
                                 const char *card_description);
const char *tke_readers_bar_get_summary (TkeReadersBar *self, guint reader);
void tke_readers_bar_set_virtual (TkeReadersBar *self, gboolean is_virtual);
void tke_readers_bar_set_card_switcher (TkeReadersBar *self,
                                        const char *cards_dir,
                                        const char *reader1_control,
                                        const char *reader2_control);
void tke_readers_bar_follow (TkeReadersBar *self, TkeReadersBar *source);
GtkMenuButton *tke_readers_bar_get_card_button (TkeReadersBar *self, guint reader);

G_END_DECLS
