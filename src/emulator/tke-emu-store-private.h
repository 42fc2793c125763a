/* tke-emu-store-private.h: what the store's files share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every sqlite3_* call of the emulator is in tke-emu-store*.c; the
 * server's files call the store's functions.
 */

#pragma once

#include "tke-emu-store.h"

G_BEGIN_DECLS

void _tke_emu_admin_free (gpointer data);
GBytes *_tke_emu_column_bytes (sqlite3_stmt *stmt, int column);
char *_tke_emu_column_text (sqlite3_stmt *stmt, int column);
sqlite3_stmt *_tke_emu_stmt (sqlite3 *db, const char *sql);
void _tke_emu_stmt_done (sqlite3_stmt *stmt);
void _tke_emu_bind_bytes (sqlite3_stmt *stmt, int index, GBytes *bytes);
sqlite3_stmt *_tke_emu_store_stmt (TkeEmuStore *self, const char *sql, GError **error);
void _tke_emu_store_stmt_release (sqlite3_stmt *stmt);

G_END_DECLS
