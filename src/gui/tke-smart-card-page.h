/* tke-smart-card-page.h: the Smart card tab and the smart card utilities
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tke-readers-bar.h"

G_BEGIN_DECLS

#define TKE_TYPE_SMART_CARD_PAGE (tke_smart_card_page_get_type ())
G_DECLARE_FINAL_TYPE (TkeSmartCardPage, tke_smart_card_page, TKE, SMART_CARD_PAGE, AdwBin)

void tke_smart_card_page_set_virtual_pads (TkeSmartCardPage *self,
                                           const char *reader1_control,
                                           const char *reader2_control);
void tke_smart_card_page_set_readers_bar (TkeSmartCardPage *self, TkeReadersBar *bar);
void tke_smart_card_page_refresh (TkeSmartCardPage *self);

/* The copies between the card in reader 2 and a file (tke-smart-card-files.c). */
typedef enum
{
  TKE_SMART_CARD_FILE_COPY_PART_TO_CARD,
  TKE_SMART_CARD_FILE_COPY_PART_TO_FILE,
  TKE_SMART_CARD_FILE_COPY_SIGKEY_TO_CARD,
  TKE_SMART_CARD_FILE_COPY_SIGKEY_TO_FILE,
} TkeSmartCardFileCopy;

/* What a button does once its file chooser has a file: the password, then the copy. */
void
tke_smart_card_page_copy_file (TkeSmartCardPage *self, TkeSmartCardFileCopy kind, const char *path);
AdwMessageDialog *tke_smart_card_page_get_password_dialog (TkeSmartCardPage *self);

/* What the page shows, for tests and the accessibility tree. */
const char *tke_smart_card_page_get_reader_text (TkeSmartCardPage *self, guint reader);
const char *tke_smart_card_page_get_status (TkeSmartCardPage *self);
gboolean tke_smart_card_page_get_busy (TkeSmartCardPage *self);
/* NULL unless a PIN pad waits. */
const char *tke_smart_card_page_get_pin_prompt (TkeSmartCardPage *self);
GtkWidget *tke_smart_card_page_get_pad (TkeSmartCardPage *self);
/* NULL unless a card in a reader is blocked. */
const char *tke_smart_card_page_get_blocked_advice (TkeSmartCardPage *self);

G_END_DECLS
