/* tke-history-page.h: the History tab, the ceremonies of the record
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>
#include <tke.h>

G_BEGIN_DECLS

#define TKE_TYPE_HISTORY_PAGE (tke_history_page_get_type ())

G_DECLARE_FINAL_TYPE (TkeHistoryPage, tke_history_page, TKE, HISTORY_PAGE, AdwBin)

void tke_history_page_reload (TkeHistoryPage *self);
/* For tests: how many ceremonies are listed, how many times the list was
 * read, why the record does not verify (NULL if it does), one line per
 * ceremony ("KIND OUTCOME units=1,2,3 deviations=N", newest first). */
guint tke_history_page_get_n_ceremonies (TkeHistoryPage *self);
guint tke_history_page_get_n_loads (TkeHistoryPage *self);
const char *tke_history_page_get_problem (TkeHistoryPage *self);
char *tke_history_page_describe (TkeHistoryPage *self);
/* Opens the report of the @index-th row (0: the newest), as a click does. */
void tke_history_page_open_row (TkeHistoryPage *self, guint index);

/* The ceremony's kind as people say it ("load" → "Load"). */
const char *tke_history_kind_label (const char *kind);

G_END_DECLS
