/* tke-emu-store-identity.c: the units' device keys and certificates (SQLite)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A table of its own, made on first use, so that a state directory from
 * before unit identity gains it at its first start.  The device key's
 * private part is stored only sealed under device.key.
 */

#include "config.h"

#include "tke-emu-error.h"
#include "tke-emu-identity.h"
#include "tke-emu-store-private.h"

static gboolean
ensure_table (TkeEmuStore *self, GError **error)
{
  return tke_emu_db_exec (self->db,
                          "CREATE TABLE IF NOT EXISTS unit_identity (hsm_id TEXT PRIMARY KEY,"
                          " device_sealed BLOB NOT NULL, certificate BLOB NOT NULL)",
                          error);
}

/* Sets both to NULL when the unit has no device key yet. */
gboolean
tke_emu_store_identity_load (TkeEmuStore *self,
                             const char *hsm_id,
                             GBytes **device_sealed,
                             GBytes **certificate,
                             GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  *device_sealed = *certificate = NULL;
  if (!ensure_table (self, error))
    return FALSE;
  if (sqlite3_prepare_v2 (self->db,
                          "SELECT device_sealed, certificate FROM unit_identity WHERE hsm_id = ?",
                          -1, &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (self->db, error);
  sqlite3_bind_text (stmt, 1, hsm_id, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *device_sealed = _tke_emu_column_bytes (stmt, 0);
      *certificate = _tke_emu_column_bytes (stmt, 1);
    }
  sqlite3_finalize (stmt);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || tke_emu_db_error (self->db, error);
}

gboolean
tke_emu_store_identity_save (TkeEmuStore *self,
                             const char *hsm_id,
                             GBytes *device_sealed,
                             GBytes *certificate,
                             GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (!ensure_table (self, error))
    return FALSE;
  if (sqlite3_prepare_v2 (
          self->db,
          "INSERT OR REPLACE INTO unit_identity (hsm_id, device_sealed, certificate)"
          " VALUES (?, ?, ?)",
          -1, &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (self->db, error);
  sqlite3_bind_text (stmt, 1, hsm_id, -1, SQLITE_TRANSIENT);
  _tke_emu_bind_bytes (stmt, 2, device_sealed);
  _tke_emu_bind_bytes (stmt, 3, certificate);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  return rc == SQLITE_DONE || tke_emu_db_error (self->db, error);
}
