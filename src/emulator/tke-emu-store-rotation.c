/* tke-emu-store-rotation.c: the keystore's master key rotation record
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One row per rotation (the newest is the current one) and its messages;
 * the rewrap's cursor walks the keys not yet under the new master key.
 */

#include "config.h"

#include <string.h>

#include "tke-emu-error.h"
#include "tke-emu-store-private.h"

void
tke_emu_rotation_free (TkeEmuRotation *r)
{
  if (r == NULL)
    return;
  g_free (r->state);
  g_free (r->from_vp);
  g_free (r->to_vp);
  g_free (r->started);
  g_free (r->error_code);
  g_free (r->error_message);
  g_free (r);
}

void
tke_emu_message_free (TkeEmuMessage *message)
{
  if (message == NULL)
    return;
  g_free (message->timestamp);
  g_free (message->message);
  g_free (message);
}

/* The newest rotation, or one in state "none" with id 0 if there was none. */
TkeEmuRotation *
tke_emu_rotation_load (sqlite3 *db, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  TkeEmuRotation *r = NULL;
  int rc;

  if ((stmt = _tke_emu_stmt (
           db, "SELECT id, state, from_vp, to_vp, keys_total, keys_done, started,"
               " error_code, error_message FROM rotation ORDER BY id DESC LIMIT 1")) == NULL)
    {
      tke_emu_db_error (db, error);
      return NULL;
    }
  rc = sqlite3_step (stmt);
  r = g_new0 (TkeEmuRotation, 1);
  if (rc == SQLITE_ROW)
    {
      r->id = sqlite3_column_int64 (stmt, 0);
      r->state = _tke_emu_column_text (stmt, 1);
      r->from_vp = _tke_emu_column_text (stmt, 2);
      r->to_vp = _tke_emu_column_text (stmt, 3);
      r->keys_total = sqlite3_column_int64 (stmt, 4);
      r->keys_done = sqlite3_column_int64 (stmt, 5);
      r->started = _tke_emu_column_text (stmt, 6);
      r->error_code = _tke_emu_column_text (stmt, 7);
      r->error_message = _tke_emu_column_text (stmt, 8);
    }
  else if (rc == SQLITE_DONE)
    r->state = g_strdup ("none");
  else
    {
      g_clear_pointer (&r, tke_emu_rotation_free);
      tke_emu_db_error (db, error);
    }
  _tke_emu_stmt_done (stmt);
  return r;
}

/* Rotation @rotation_id's messages (TkeEmuMessage) in order. */
GPtrArray *
tke_emu_rotation_messages (sqlite3 *db, gint64 rotation_id, GError **error)
{
  g_autoptr (GPtrArray) messages =
      g_ptr_array_new_with_free_func ((GDestroyNotify) tke_emu_message_free);
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db,
                          "SELECT ts, message FROM rotation_messages WHERE rotation_id = ?"
                          " ORDER BY id",
                          -1, &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (db, error), NULL;
  sqlite3_bind_int64 (stmt, 1, rotation_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      TkeEmuMessage *m = g_new0 (TkeEmuMessage, 1);

      m->timestamp = _tke_emu_column_text (stmt, 0);
      m->message = _tke_emu_column_text (stmt, 1);
      g_ptr_array_add (messages, m);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    return tke_emu_db_error (db, error), NULL;
  return g_steal_pointer (&messages);
}

gboolean
tke_emu_rotation_add_message (sqlite3 *db, gint64 rotation_id, const char *message, GError **error)
{
  g_autofree char *now = tke_emu_now_iso ();
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (
          db, "INSERT INTO rotation_messages (rotation_id, ts, message) VALUES (?, ?, ?)", -1,
          &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (db, error);
  sqlite3_bind_int64 (stmt, 1, rotation_id);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, message, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  return rc == SQLITE_DONE || tke_emu_db_error (db, error);
}

/* Runs @sql with ?1 bound to @id. */
static gboolean
exec_with_id (sqlite3 *db, const char *sql, gint64 id, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (db, error);
  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  return rc == SQLITE_DONE || tke_emu_db_error (db, error);
}

/* A new rotation in state "rewrapping" over every key, with its first
 * message; returns its id, or 0.  The caller holds the transaction. */
gint64
tke_emu_rotation_insert (
    sqlite3 *db, const char *from_vp, const char *to_vp, const char *message, GError **error)
{
  g_autofree char *now = tke_emu_now_iso ();
  sqlite3_stmt *stmt = NULL;
  gint64 id;
  int rc;

  if (sqlite3_prepare_v2 (
          db,
          "INSERT INTO rotation (state, from_vp, to_vp, keys_total, keys_done, started)"
          " VALUES ('rewrapping', ?, ?, (SELECT count(*) FROM keys), 0, ?)",
          -1, &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (db, error), 0;
  sqlite3_bind_text (stmt, 1, from_vp, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, to_vp, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    return tke_emu_db_error (db, error), 0;
  id = sqlite3_last_insert_rowid (db);
  if (!tke_emu_rotation_add_message (db, id, message, error))
    return 0;
  return id;
}

/* Clears the error and recounts: batches lost in a crash are not counted. */
gboolean
tke_emu_rotation_resume (sqlite3 *db,
                         gint64 rotation_id,
                         const guint8 new_wkid[TKE_WKID_SIZE],
                         GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (!exec_with_id (db,
                     "UPDATE rotation SET error_code = NULL, error_message = NULL,"
                     " keys_total = (SELECT count(*) FROM keys) WHERE id = ?1",
                     rotation_id, error))
    return FALSE;
  if (sqlite3_prepare_v2 (
          db,
          "UPDATE rotation SET keys_done = (SELECT count(*) FROM keys WHERE wkid = ?2)"
          " WHERE id = ?1",
          -1, &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (db, error);
  sqlite3_bind_int64 (stmt, 1, rotation_id);
  sqlite3_bind_blob (stmt, 2, new_wkid, TKE_WKID_SIZE, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  return rc == SQLITE_DONE || tke_emu_db_error (db, error);
}

gboolean
tke_emu_rotation_set_rewrapped (sqlite3 *db,
                                gint64 rotation_id,
                                const char *message,
                                GError **error)
{
  return exec_with_id (db,
                       "UPDATE rotation SET state = 'rewrapped', error_code = NULL,"
                       " error_message = NULL, keys_done = keys_total WHERE id = ?1",
                       rotation_id, error) &&
         tke_emu_rotation_add_message (db, rotation_id, message, error);
}

gboolean
tke_emu_rotation_set_complete (sqlite3 *db, gint64 rotation_id, const char *message, GError **error)
{
  return exec_with_id (db, "UPDATE rotation SET state = 'complete' WHERE id = ?1", rotation_id,
                       error) &&
         tke_emu_rotation_add_message (db, rotation_id, message, error);
}

/* Rolls back the open transaction and records @error on the rotation. */
void
tke_emu_rotation_record_error (sqlite3 *db, gint64 rotation_id, const GError *error)
{
  sqlite3_stmt *stmt = NULL;

  tke_emu_db_rollback (db);
  if (sqlite3_prepare_v2 (db, "UPDATE rotation SET error_code = ?, error_message = ? WHERE id = ?",
                          -1, &stmt, NULL) != SQLITE_OK)
    return;
  sqlite3_bind_text (stmt, 1, tke_emu_error_code (error), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, error->message, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, rotation_id);
  sqlite3_step (stmt);
  sqlite3_finalize (stmt);
}

/* A key was deleted during the rotation: it leaves the total, and the
 * count of done keys if it was rewrapped already. */
gboolean
tke_emu_rotation_forget_key (sqlite3 *db, gint64 rotation_id, gboolean was_done, GError **error)
{
  return exec_with_id (db,
                       was_done ? "UPDATE rotation SET keys_total = keys_total - 1,"
                                  " keys_done = keys_done - 1 WHERE id = ?1"
                                : "UPDATE rotation SET keys_total = keys_total - 1 WHERE id = ?1",
                       rotation_id, error);
}

/* The rewrap */

struct _TkeEmuRewrap
{
  sqlite3 *db;
  sqlite3_stmt *select;
  sqlite3_stmt *update;
  sqlite3_stmt *select_versions;
  sqlite3_stmt *update_version;
  guint8 new_wkid[TKE_WKID_SIZE];
  gint64 cursor;
};

TkeEmuRewrap *
tke_emu_rewrap_new (sqlite3 *db, const guint8 new_wkid[TKE_WKID_SIZE], GError **error)
{
  g_autoptr (TkeEmuRewrap) self = g_new0 (TkeEmuRewrap, 1);

  self->db = db;
  memcpy (self->new_wkid, new_wkid, TKE_WKID_SIZE);
  if (sqlite3_prepare_v2 (db,
                          "SELECT rowid, wkid, wrapped FROM keys WHERE rowid > ?1 AND wkid != ?2"
                          " ORDER BY rowid LIMIT ?3",
                          -1, &self->select, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db, "UPDATE keys SET wkid = ?1, wrapped = ?2 WHERE rowid = ?3", -1,
                          &self->update, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db,
                          "SELECT rowid, wkid, wrapped FROM key_versions"
                          " WHERE key_rowid = ?1 AND wkid != ?2",
                          -1, &self->select_versions, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db, "UPDATE key_versions SET wkid = ?1, wrapped = ?2 WHERE rowid = ?3",
                          -1, &self->update_version, NULL) != SQLITE_OK)
    return tke_emu_db_error (db, error), NULL;
  return g_steal_pointer (&self);
}

void
tke_emu_rewrap_free (TkeEmuRewrap *self)
{
  if (self == NULL)
    return;
  sqlite3_finalize (self->select);
  sqlite3_finalize (self->update);
  sqlite3_finalize (self->select_versions);
  sqlite3_finalize (self->update_version);
  g_free (self);
}

/* Rewraps the material in @select's current row and stores it with @update. */
static gboolean
rewrap_material (TkeEmuRewrap *self,
                 sqlite3_stmt *select,
                 sqlite3_stmt *update,
                 TkeEmuRewrapFunc func,
                 gpointer user_data,
                 GError **error)
{
  gint64 rowid = sqlite3_column_int64 (select, 0);
  guint8 wrapped[64];
  gssize len;

  len = func (rowid, sqlite3_column_blob (select, 1), (gsize) sqlite3_column_bytes (select, 1),
              sqlite3_column_blob (select, 2), (gsize) sqlite3_column_bytes (select, 2), wrapped,
              sizeof wrapped, user_data, error);
  if (len < 0)
    return FALSE;
  sqlite3_reset (update);
  sqlite3_bind_blob (update, 1, self->new_wkid, TKE_WKID_SIZE, SQLITE_STATIC);
  sqlite3_bind_blob (update, 2, wrapped, (int) len, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (update, 3, rowid);
  if (sqlite3_step (update) != SQLITE_DONE)
    return tke_emu_db_error (self->db, error);
  return TRUE;
}

/* A key's earlier versions go with it, in its batch's transaction: a key
 * counted done has all its material under the new master key. */
static gboolean
rewrap_versions (
    TkeEmuRewrap *self, gint64 key_rowid, TkeEmuRewrapFunc func, gpointer user_data, GError **error)
{
  gboolean ok = TRUE;
  int rc = SQLITE_DONE;

  sqlite3_reset (self->select_versions);
  sqlite3_bind_int64 (self->select_versions, 1, key_rowid);
  sqlite3_bind_blob (self->select_versions, 2, self->new_wkid, TKE_WKID_SIZE, SQLITE_STATIC);
  while (ok && (rc = sqlite3_step (self->select_versions)) == SQLITE_ROW)
    ok =
        rewrap_material (self, self->select_versions, self->update_version, func, user_data, error);
  if (ok && rc != SQLITE_DONE)
    ok = tke_emu_db_error (self->db, error);
  sqlite3_reset (self->select_versions);
  return ok;
}

static gboolean
rewrap_row (TkeEmuRewrap *self, TkeEmuRewrapFunc func, gpointer user_data, GError **error)
{
  gint64 rowid = sqlite3_column_int64 (self->select, 0);

  if (!rewrap_material (self, self->select, self->update, func, user_data, error) ||
      !rewrap_versions (self, rowid, func, user_data, error))
    return FALSE;
  self->cursor = rowid;
  return TRUE;
}

/* One batch of up to @limit rows in one transaction, each rewrapped by
 * @func, and the rotation's count of done keys; returns the number of rows,
 * or -1 (the batch rolled back). */
gint64
tke_emu_rewrap_batch (
    TkeEmuRewrap *self, gint64 limit, TkeEmuRewrapFunc func, gpointer user_data, GError **error)
{
  gint64 n = 0;
  int rc;

  if (!tke_emu_db_begin (self->db, error))
    return -1;
  sqlite3_reset (self->select);
  sqlite3_bind_int64 (self->select, 1, self->cursor);
  sqlite3_bind_blob (self->select, 2, self->new_wkid, TKE_WKID_SIZE, SQLITE_STATIC);
  sqlite3_bind_int64 (self->select, 3, limit);
  while ((rc = sqlite3_step (self->select)) == SQLITE_ROW)
    {
      if (!rewrap_row (self, func, user_data, error))
        goto fail;
      n++;
    }
  if (rc != SQLITE_DONE)
    {
      tke_emu_db_error (self->db, error);
      goto fail;
    }
  sqlite3_reset (self->select);
  if (n > 0 && !exec_with_id (self->db,
                              "UPDATE rotation SET keys_done = keys_done + ?1"
                              " WHERE state = 'rewrapping'",
                              n, error))
    goto fail;
  if (!tke_emu_db_commit (self->db, error))
    return -1;
  return n;

fail:
  sqlite3_reset (self->select);
  tke_emu_db_rollback (self->db);
  return -1;
}
