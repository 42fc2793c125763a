/* tke-administrators-page.h: the Administrators tab
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>
#include <tke.h>

G_BEGIN_DECLS

#define TKE_TYPE_ADMINISTRATORS_PAGE (tke_administrators_page_get_type ())

G_DECLARE_FINAL_TYPE (
    TkeAdministratorsPage, tke_administrators_page, TKE, ADMINISTRATORS_PAGE, AdwBin)

void tke_administrators_page_set_units (TkeAdministratorsPage *self, GListModel *units);
void tke_administrators_page_set_busy (TkeAdministratorsPage *self, gboolean busy);
/* The SKI of the administrator chosen in the table, or NULL. */
const char *tke_administrators_page_get_selected_ski (TkeAdministratorsPage *self);
/* Chooses the administrator whose name is @name in the table. */
gboolean tke_administrators_page_select (TkeAdministratorsPage *self, const char *name);
/* The table, one line per administrator: "NAME SKI units". */
char *tke_administrators_page_describe (TkeAdministratorsPage *self);
const char *tke_administrators_page_get_reason (TkeAdministratorsPage *self);

G_END_DECLS
