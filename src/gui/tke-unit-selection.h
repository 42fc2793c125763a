/* tke-unit-selection.h: the selected crypto units, followed as they change
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

G_BEGIN_DECLS

#define TKE_TYPE_UNIT_SELECTION (tke_unit_selection_get_type ())

G_DECLARE_FINAL_TYPE (TkeUnitSelection, tke_unit_selection, TKE, UNIT_SELECTION, GObject)

TkeUnitSelection *tke_unit_selection_new (void);
void tke_unit_selection_set_units (TkeUnitSelection *self, GListModel *units);
/* Every unit of the instance, or NULL before the log-in. */
GListModel *tke_unit_selection_get_units (TkeUnitSelection *self);
/* The selected ones, a GListModel of TkeCryptoUnit kept up to date. */
GListModel *tke_unit_selection_get_selected (TkeUnitSelection *self);
/* "Crypto units 1, 2 and 3" style list of @units' numbers. */
char *tke_unit_selection_describe_numbers (GListModel *units);

G_END_DECLS
