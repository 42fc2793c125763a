/* tke-imprint-page.h: the Imprint mode tab, with the set-up assistant
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>
#include <tke.h>

#include "tke-setup-assistant.h"

G_BEGIN_DECLS

#define TKE_TYPE_IMPRINT_PAGE (tke_imprint_page_get_type ())

G_DECLARE_FINAL_TYPE (TkeImprintPage, tke_imprint_page, TKE, IMPRINT_PAGE, AdwBin)

void tke_imprint_page_set_units (TkeImprintPage *self, GListModel *units);
void tke_imprint_page_set_busy (TkeImprintPage *self, gboolean busy);
TkeSetupAssistant *tke_imprint_page_get_assistant (TkeImprintPage *self);
/* One line per selected unit: "N imprint|set". */
char *tke_imprint_page_describe (TkeImprintPage *self);
GtkWidget *tke_imprint_page_get_zeroize_button (TkeImprintPage *self);

G_END_DECLS
