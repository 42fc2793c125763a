/* tke-emu-store-keys.c: the KMS root keys, wrapped under a master key
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A row holds the key's latest material wrapped (AES key wrap with padding)
 * under the master key whose WKID it names; a key rotate moves the material
 * it replaces to key_versions, so that ciphertexts made under it still
 * unwrap.  The master key rotation rewraps both.
 */

#include "config.h"

#include <string.h>

#include "tke-emu-error.h"
#include "tke-emu-store-private.h"

#define KEY_COLUMNS                                                                                \
  "rowid, id, name, extractable, state, created, updated, wkid, wrapped, version,"                 \
  " COALESCE(version_id, id), COALESCE(version_created, created), rotated"

void
tke_emu_key_free (TkeEmuKey *key)
{
  if (key == NULL)
    return;
  g_free (key->id);
  g_free (key->name);
  g_free (key->created);
  g_free (key->updated);
  g_clear_pointer (&key->wkid, g_bytes_unref);
  g_clear_pointer (&key->wrapped, g_bytes_unref);
  g_free (key->version_id);
  g_free (key->version_created);
  g_free (key->rotated);
  g_free (key);
}

static TkeEmuKey *
key_from_row (sqlite3_stmt *stmt)
{
  TkeEmuKey *key = g_new0 (TkeEmuKey, 1);

  key->rowid = sqlite3_column_int64 (stmt, 0);
  key->id = _tke_emu_column_text (stmt, 1);
  key->name = _tke_emu_column_text (stmt, 2);
  key->extractable = sqlite3_column_int (stmt, 3) != 0;
  key->state = sqlite3_column_int64 (stmt, 4);
  key->created = _tke_emu_column_text (stmt, 5);
  key->updated = _tke_emu_column_text (stmt, 6);
  key->wkid = _tke_emu_column_bytes (stmt, 7);
  key->wrapped = _tke_emu_column_bytes (stmt, 8);
  key->version = sqlite3_column_int64 (stmt, 9);
  key->version_id = _tke_emu_column_text (stmt, 10);
  key->version_created = _tke_emu_column_text (stmt, 11);
  key->rotated = _tke_emu_column_text (stmt, 12);
  if (key->wkid == NULL)
    key->wkid = g_bytes_new (NULL, 0);
  if (key->wrapped == NULL)
    key->wrapped = g_bytes_new (NULL, 0);
  return key;
}

/* Inserts @n_keys random root keys wrapped under @mk; the caller holds the transaction. */
gboolean
tke_emu_store_add_root_keys (
    TkeEmuStore *self, const TkeSecret *mk, guint n_keys, const char *name_prefix, GError **error)
{
  g_autoptr (TkeKwpContext) kwp = tke_crypto_kwp_context_new (mk, error);
  g_autofree char *now = tke_emu_now_iso ();
  sqlite3_stmt *stmt = NULL;
  guint8 wkid[TKE_WKID_SIZE];
  gboolean ok = TRUE;

  if (kwp == NULL)
    return FALSE;
  tke_crypto_wkid (mk, wkid);
  if ((stmt = _tke_emu_store_stmt (self,
                                   "INSERT INTO keys (id, name, extractable, state, created,"
                                   " updated, wkid, wrapped) VALUES (?, ?, 0, 1, ?, ?, ?, ?)",
                                   error)) == NULL)
    return FALSE;

  for (guint i = 0; i < n_keys && ok; i++)
    {
      g_autoptr (TkeSecret) key = tke_secret_new_random (TKE_MASTER_KEY_SIZE, error);
      g_autofree char *id = g_uuid_string_random ();
      g_autofree char *name = g_strdup_printf ("%s%u", name_prefix, i + 1);
      guint8 wrapped[48];
      gssize len;

      if (key == NULL)
        {
          ok = FALSE;
          break;
        }
      len = tke_crypto_kwp_context_wrap (kwp, tke_secret_get_data (key), TKE_MASTER_KEY_SIZE,
                                         wrapped, sizeof wrapped, error);
      if (len < 0)
        {
          ok = FALSE;
          break;
        }
      sqlite3_reset (stmt);
      sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, now, -1, SQLITE_STATIC);
      sqlite3_bind_blob (stmt, 5, wkid, sizeof wkid, SQLITE_TRANSIENT);
      sqlite3_bind_blob (stmt, 6, wrapped, (int) len, SQLITE_TRANSIENT);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        ok = tke_emu_db_error (self->db, error);
    }
  _tke_emu_store_stmt_release (stmt);
  return ok;
}

/* The number of keys, of keys under @wkid (@equal) or of keys and earlier
 * versions not under it; -1 on a database error.  On any connection (the
 * rotation's worker has its own). */
gint64
tke_emu_keys_count (sqlite3 *db, const guint8 *wkid, gboolean equal)
{
  sqlite3_stmt *stmt = NULL;
  gint64 n = -1;

  /* Not under @wkid counts every version's material: a set immediate
   * with one of them under the old key would lose it. */
  if (sqlite3_prepare_v2 (db,
                          wkid == NULL ? "SELECT count(*) FROM keys"
                          : equal      ? "SELECT count(*) FROM keys WHERE wkid = ?1"
                                       : "SELECT (SELECT count(*) FROM keys WHERE wkid != ?1)"
                                         " + (SELECT count(*) FROM key_versions WHERE wkid != ?1)",
                          -1, &stmt, NULL) != SQLITE_OK)
    return -1;
  if (wkid != NULL)
    sqlite3_bind_blob (stmt, 1, wkid, TKE_WKID_SIZE, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

/* The condition for a mask of states (bit n: state n; 0: every state),
 * after an AND. */
static char *
state_clause (guint states)
{
  g_autoptr (GString) sql = g_string_new ("");

  for (guint state = 0; states != 0 && state < 32; state++)
    if (states & (1u << state))
      g_string_append_printf (sql, "%s%u", sql->len == 0 ? " AND state IN (" : ", ", state);
  if (sql->len > 0)
    g_string_append_c (sql, ')');
  return g_string_free (g_steal_pointer (&sql), FALSE);
}

/* Where the last page ended, so that the next page of a client paging
 * through the list starts there (rowid > …) instead of stepping over
 * @offset rows again: OFFSET made listing 100 000 keys quadratic.  Valid
 * while this connection changed nothing (a create, delete or state change
 * could shift the offsets; the rotation's own connection only rewraps,
 * which moves no key). */
static gboolean
cursor_fits (TkeEmuStore *self, gint64 offset, guint states)
{
  return offset > 0 && self->list_cursor.offset == offset && self->list_cursor.states == states &&
         self->list_cursor.changes == sqlite3_total_changes (self->db);
}

/* Keys in creation order: a page of @limit from @offset, of the @states
 * (a mask, see state_clause()). */
GPtrArray *
tke_emu_keys_list (TkeEmuStore *self, gint64 limit, gint64 offset, guint states, GError **error)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_emu_key_free);
  g_autofree char *where = state_clause (states);
  g_autofree char *sql = g_strdup_printf (
      "SELECT " KEY_COLUMNS " FROM keys WHERE rowid > ?3%s ORDER BY rowid LIMIT ?1 OFFSET ?2",
      where);
  gboolean resume = cursor_fits (self, offset, states);
  sqlite3_stmt *stmt = NULL;
  int rc;

  if ((stmt = _tke_emu_store_stmt (self, sql, error)) == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, limit);
  sqlite3_bind_int64 (stmt, 2, resume ? 0 : offset);
  sqlite3_bind_int64 (stmt, 3, resume ? self->list_cursor.rowid : G_MININT64);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (keys, key_from_row (stmt));
  _tke_emu_store_stmt_release (stmt);
  if (rc != SQLITE_DONE)
    return tke_emu_db_error (self->db, error), NULL;
  if (keys->len > 0)
    {
      self->list_cursor.offset = offset + keys->len;
      self->list_cursor.rowid = ((TkeEmuKey *) g_ptr_array_index (keys, keys->len - 1))->rowid;
      self->list_cursor.states = states;
      self->list_cursor.changes = sqlite3_total_changes (self->db);
    }
  return g_steal_pointer (&keys);
}

/* The number of keys in @states (a mask; 0: all), or -1. */
gint64
tke_emu_keys_count_states (TkeEmuStore *self, guint states)
{
  g_autofree char *where = state_clause (states);
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM keys WHERE 1%s", where);
  sqlite3_stmt *stmt = _tke_emu_store_stmt (self, sql, NULL);
  gint64 n = -1;

  if (stmt == NULL)
    return -1;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  _tke_emu_store_stmt_release (stmt);
  return n;
}

gboolean
tke_emu_key_set_state (TkeEmuStore *self, const char *id, gint64 state, GError **error)
{
  g_autofree char *now = tke_emu_now_iso ();
  sqlite3_stmt *stmt = NULL;
  int rc;

  if ((stmt = _tke_emu_store_stmt (self, "UPDATE keys SET state = ?, updated = ? WHERE id = ?",
                                   error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, state);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  _tke_emu_store_stmt_release (stmt);
  return rc == SQLITE_DONE || tke_emu_db_error (self->db, error);
}

/* Key @id; fails with not_found. */
TkeEmuKey *
tke_emu_key_find (TkeEmuStore *self, const char *id, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  TkeEmuKey *key = NULL;
  int rc;

  if ((stmt = _tke_emu_store_stmt (self, "SELECT " KEY_COLUMNS " FROM keys WHERE id = ?", error)) ==
      NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    key = key_from_row (stmt);
  else if (rc == SQLITE_DONE)
    g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND, "There is no key %s.", id);
  else
    tke_emu_db_error (self->db, error);
  _tke_emu_store_stmt_release (stmt);
  return key;
}

/* One new random root key under @mk; returns its id.  The caller holds the
 * transaction. */
char *
tke_emu_key_create (
    TkeEmuStore *self, const TkeSecret *mk, const char *name, gboolean extractable, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  gint64 rowid;
  char *id = NULL;
  int rc;

  if (!tke_emu_store_add_root_keys (self, mk, 1, "new-", error))
    return NULL;
  rowid = sqlite3_last_insert_rowid (self->db);
  if (sqlite3_prepare_v2 (self->db, "UPDATE keys SET name = ?, extractable = ? WHERE rowid = ?", -1,
                          &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (self->db, error), NULL;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, extractable);
  sqlite3_bind_int64 (stmt, 3, rowid);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    return tke_emu_db_error (self->db, error), NULL;
  if (sqlite3_prepare_v2 (self->db, "SELECT id FROM keys WHERE rowid = ?", -1, &stmt, NULL) !=
      SQLITE_OK)
    return tke_emu_db_error (self->db, error), NULL;
  sqlite3_bind_int64 (stmt, 1, rowid);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = _tke_emu_column_text (stmt, 0);
  sqlite3_finalize (stmt);
  if (id == NULL)
    tke_emu_db_error (self->db, error);
  return id;
}

/* Runs cached @sql with ?1 bound to @rowid. */
static gboolean
exec_with_rowid (TkeEmuStore *self, const char *sql, gint64 rowid, GError **error)
{
  sqlite3_stmt *stmt = _tke_emu_store_stmt (self, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, rowid);
  rc = sqlite3_step (stmt);
  _tke_emu_store_stmt_release (stmt);
  return rc == SQLITE_DONE || tke_emu_db_error (self->db, error);
}

/* The key and all its versions; the caller holds the transaction. */
gboolean
tke_emu_key_delete (TkeEmuStore *self, gint64 rowid, GError **error)
{
  return exec_with_rowid (self, "DELETE FROM key_versions WHERE key_rowid = ?1", rowid, error) &&
         exec_with_rowid (self, "DELETE FROM keys WHERE rowid = ?1", rowid, error);
}

/* A key rotate: the latest version moves to key_versions, unchanged, and
 * @wrapped (under the master key @wkid) becomes the next version.  The
 * caller holds the transaction. */
gboolean
tke_emu_key_rotate (TkeEmuStore *self,
                    const TkeEmuKey *key,
                    const guint8 wkid[TKE_WKID_SIZE],
                    GBytes *wrapped,
                    GError **error)
{
  g_autofree char *now = tke_emu_now_iso ();
  g_autofree char *version_id = g_uuid_string_random ();
  sqlite3_stmt *stmt;
  int rc;

  if (!exec_with_rowid (self,
                        "INSERT INTO key_versions (key_rowid, version, id, created, wkid, wrapped)"
                        " SELECT rowid, version, COALESCE(version_id, id),"
                        " COALESCE(version_created, created), wkid, wrapped"
                        " FROM keys WHERE rowid = ?1",
                        key->rowid, error) ||
      (stmt = _tke_emu_store_stmt (
           self,
           "UPDATE keys SET version = version + 1, version_id = ?2, version_created = ?3,"
           " rotated = ?3, updated = ?3, wkid = ?4, wrapped = ?5 WHERE rowid = ?1",
           error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, key->rowid);
  sqlite3_bind_text (stmt, 2, version_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 4, wkid, TKE_WKID_SIZE, SQLITE_STATIC);
  _tke_emu_bind_bytes (stmt, 5, wrapped);
  rc = sqlite3_step (stmt);
  _tke_emu_store_stmt_release (stmt);
  if (rc != SQLITE_DONE)
    return tke_emu_db_error (self->db, error);
  if (sqlite3_changes (self->db) != 1)
    return g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND, "There is no key %s.",
                        key->id),
           FALSE;
  return TRUE;
}

void
tke_emu_key_version_free (TkeEmuKeyVersion *version)
{
  if (version == NULL)
    return;
  g_free (version->id);
  g_free (version->created);
  g_clear_pointer (&version->wkid, g_bytes_unref);
  g_clear_pointer (&version->wrapped, g_bytes_unref);
  g_free (version);
}

static TkeEmuKeyVersion *
latest_version (const TkeEmuKey *key)
{
  TkeEmuKeyVersion *v = g_new0 (TkeEmuKeyVersion, 1);

  v->number = key->version;
  v->id = g_strdup (key->version_id);
  v->created = g_strdup (key->version_created);
  v->wkid = g_bytes_ref (key->wkid);
  v->wrapped = g_bytes_ref (key->wrapped);
  return v;
}

static TkeEmuKeyVersion *
version_from_row (sqlite3_stmt *stmt)
{
  TkeEmuKeyVersion *v = g_new0 (TkeEmuKeyVersion, 1);

  v->number = sqlite3_column_int64 (stmt, 0);
  v->id = _tke_emu_column_text (stmt, 1);
  v->created = _tke_emu_column_text (stmt, 2);
  v->wkid = _tke_emu_column_bytes (stmt, 3);
  v->wrapped = _tke_emu_column_bytes (stmt, 4);
  return v;
}

/* Version @number of @key; fails with not_found. */
TkeEmuKeyVersion *
tke_emu_key_version_find (TkeEmuStore *self, const TkeEmuKey *key, gint64 number, GError **error)
{
  TkeEmuKeyVersion *v = NULL;
  sqlite3_stmt *stmt;
  int rc;

  if (number == key->version)
    return latest_version (key);
  if ((stmt = _tke_emu_store_stmt (self,
                                   "SELECT version, id, created, wkid, wrapped FROM key_versions"
                                   " WHERE key_rowid = ?1 AND version = ?2",
                                   error)) == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, key->rowid);
  sqlite3_bind_int64 (stmt, 2, number);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    v = version_from_row (stmt);
  else if (rc == SQLITE_DONE)
    g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND,
                 "Key %s has no version %" G_GINT64_FORMAT ".", key->id, number);
  else
    tke_emu_db_error (self->db, error);
  _tke_emu_store_stmt_release (stmt);
  return v;
}

/* Every version of @key (TkeEmuKeyVersion), the oldest first. */
GPtrArray *
tke_emu_key_versions_list (TkeEmuStore *self, const TkeEmuKey *key, GError **error)
{
  g_autoptr (GPtrArray) versions =
      g_ptr_array_new_with_free_func ((GDestroyNotify) tke_emu_key_version_free);
  sqlite3_stmt *stmt;
  int rc;

  if ((stmt = _tke_emu_store_stmt (self,
                                   "SELECT version, id, created, wkid, wrapped FROM key_versions"
                                   " WHERE key_rowid = ?1 ORDER BY version",
                                   error)) == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, key->rowid);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (versions, version_from_row (stmt));
  _tke_emu_store_stmt_release (stmt);
  if (rc != SQLITE_DONE)
    return tke_emu_db_error (self->db, error), NULL;
  g_ptr_array_add (versions, latest_version (key));
  return g_steal_pointer (&versions);
}

/* Calls @func with the WKID and wrapped material of every key's every version. */
gboolean
tke_emu_keys_foreach_material (TkeEmuStore *self,
                               TkeEmuKeyMaterialFunc func,
                               gpointer user_data,
                               GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (self->db,
                          "SELECT wkid, wrapped FROM keys UNION ALL"
                          " SELECT wkid, wrapped FROM key_versions",
                          -1, &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (self->db, error);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    func (sqlite3_column_blob (stmt, 0), (gsize) sqlite3_column_bytes (stmt, 0),
          sqlite3_column_blob (stmt, 1), (gsize) sqlite3_column_bytes (stmt, 1), user_data);
  sqlite3_finalize (stmt);
  return rc == SQLITE_DONE || tke_emu_db_error (self->db, error);
}
