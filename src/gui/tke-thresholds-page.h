/* tke-thresholds-page.h: the Signature thresholds tab
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>
#include <tke.h>

G_BEGIN_DECLS

#define TKE_TYPE_THRESHOLDS_PAGE (tke_thresholds_page_get_type ())

G_DECLARE_FINAL_TYPE (TkeThresholdsPage, tke_thresholds_page, TKE, THRESHOLDS_PAGE, AdwBin)

void tke_thresholds_page_set_units (TkeThresholdsPage *self, GListModel *units);
void tke_thresholds_page_set_busy (TkeThresholdsPage *self, gboolean busy);
/* The thresholds chosen on the page. */
void tke_thresholds_page_get_chosen (TkeThresholdsPage *self, guint *signature, guint *revocation);
void tke_thresholds_page_set_chosen (TkeThresholdsPage *self, guint signature, guint revocation);
/* One line per selected unit: "N SIG REV imprint|set". */
char *tke_thresholds_page_describe (TkeThresholdsPage *self);
const char *tke_thresholds_page_get_reason (TkeThresholdsPage *self);

G_END_DECLS
