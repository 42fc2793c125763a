/* tke-unit-columns.h: GtkColumnView columns that show a crypto unit's properties
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <tke.h>

G_BEGIN_DECLS

/* Fills LABEL (text, CSS classes, tooltip) from UNIT.  Called again each
 * time the unit notifies a change, so the cell is always live. */
typedef void (*TkeUnitCellFunc) (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data);

GtkColumnViewColumn *
tke_unit_column_new (const char *title, TkeUnitCellFunc fill, gpointer user_data, gboolean expand);

/* The cell functions shared by the pages. */
void tke_unit_cell_number (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data);
void tke_unit_cell_type (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data);
void tke_unit_cell_location (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data);
void tke_unit_cell_new_state (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data);
void tke_unit_cell_new_vp (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data);
void tke_unit_cell_current_state (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data);
void tke_unit_cell_current_vp (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data);

/* Narrow windows: a register's state and its VP in one cell, the VP in
 * four lines of four groups (a dash for an empty register). */
void tke_unit_cell_register_folded (GtkLabel *label, const char *state, const char *vp);

/* A VP in readable groups (two lines of eight groups of four), or the
 * empty register's zeros in the same shape. */
char *tke_unit_format_vp (const char *vp);

G_END_DECLS
