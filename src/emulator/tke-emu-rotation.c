/* tke-emu-rotation.c: the keystore's master key rotation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/crypto.h>

#include "tke-emu-server-private.h"

#define MSG_STARTED "Master key rotation started."
#define MSG_REWRAPPED "KMS CRK rewrap successful, waiting on cryptounit-mk-setimm."
#define MSG_DONE "Master key rotation successful."

/* Rotation state */

static gboolean
rotation_active (const TkeEmuRotation *r)
{
  return g_strcmp0 (r->state, "rewrapping") == 0 || g_strcmp0 (r->state, "rewrapped") == 0;
}

gboolean
_tke_emu_refuse_during_rotation (TkeEmuServer *self, GError **error)
{
  g_autoptr (TkeEmuRotation) r = tke_emu_rotation_load (self->store->db, error);

  if (r == NULL)
    return FALSE;
  if (rotation_active (r))
    return FAIL (
        ROTATION_IN_PROGRESS,
        "A master key rotation is in progress; this operation is refused until it completes.");
  return TRUE;
}

JsonObject *
_tke_emu_rotation_json (TkeEmuServer *self, GError **error)
{
  /* The flag before the row: the worker records its last state before it
   * clears the flag, so a row still "rewrapping" with the flag clear
   * before the read was interrupted; read after, it may just have ended. */
  gboolean running = g_atomic_int_get (&self->worker_running);
  g_autoptr (TkeEmuRotation) r = tke_emu_rotation_load (self->store->db, error);
  JsonObject *out;
  JsonArray *messages = json_array_new ();
  g_autoptr (GPtrArray) stored = NULL;
  const char *state;

  if (r == NULL)
    {
      json_array_unref (messages);
      return NULL;
    }
  state = r->state;
  if (g_strcmp0 (state, "rewrapping") == 0 && !running)
    state = "failed";

  out = json_object_new ();
  json_object_set_string_member (out, "state", state);
  json_object_set_int_member (out, "keys_total", r->keys_total);
  json_object_set_int_member (out, "keys_done", r->keys_done);
  if (r->id != 0)
    {
      json_object_set_string_member (out, "from_mkvp", r->from_vp);
      json_object_set_string_member (out, "to_mkvp", r->to_vp);
      json_object_set_string_member (out, "started", r->started);
    }
  else
    {
      json_object_set_null_member (out, "from_mkvp");
      json_object_set_null_member (out, "to_mkvp");
      json_object_set_null_member (out, "started");
    }
  stored = tke_emu_rotation_messages (self->store->db, r->id, NULL);
  for (guint i = 0; stored != NULL && i < stored->len; i++)
    {
      TkeEmuMessage *message = g_ptr_array_index (stored, i);
      JsonObject *m = json_object_new ();

      json_object_set_string_member (m, "timestamp", message->timestamp);
      json_object_set_string_member (m, "message", message->message);
      json_array_add_object_element (messages, m);
    }
  json_object_set_array_member (out, "messages", messages);
  if (r->error_code != NULL)
    {
      JsonObject *e = json_object_new ();

      json_object_set_string_member (e, "code", r->error_code);
      json_object_set_string_member (e, "message",
                                     r->error_message != NULL ? r->error_message : "");
      json_object_set_object_member (out, "error", e);
    }
  else if (g_str_equal (state, "failed"))
    {
      JsonObject *e = json_object_new ();

      json_object_set_string_member (e, "code", "interrupted");
      json_object_set_string_member (
          e, "message", "The service stopped during the rewrap; run Rotate again to resume it.");
      json_object_set_object_member (out, "error", e);
    }
  else
    json_object_set_null_member (out, "error");
  return out;
}

/* The rewrap, in a worker thread with its own connection */

typedef struct
{
  TkeEmuServer *self;
  TkeSecret *old_key;
  TkeSecret *new_key;
  gint64 rotation_id;
  TkeKwpContext *old_ctx;
  TkeKwpContext *new_ctx;
  guint8 old_wkid[TKE_WKID_SIZE];
  gint64 done; /* keys done before the current row */
} Worker;

static void
worker_free (Worker *w)
{
  g_clear_pointer (&w->old_key, tke_secret_unref);
  g_clear_pointer (&w->new_key, tke_secret_unref);
  g_clear_pointer (&w->old_ctx, tke_crypto_kwp_context_free);
  g_clear_pointer (&w->new_ctx, tke_crypto_kwp_context_free);
  g_free (w);
}

/* A row not yet under the new WKID is unwrapped under the old key and
 * wrapped under the new one. */
static gssize
rewrap_row (gint64 rowid,
            const guint8 *wkid,
            gsize wkid_size,
            const guint8 *blob,
            gsize blob_size,
            guint8 *out,
            gsize out_size,
            gpointer data,
            GError **error)
{
  Worker *w = data;
  guint8 key[64];
  gssize key_len, wrapped_len;

  if (w->self->faults.crash_after_keys >= 0 && w->done >= w->self->faults.crash_after_keys)
    kill (getpid (), SIGKILL); /* like kill -9: the open transaction is lost */
  if (wkid_size != TKE_WKID_SIZE || memcmp (wkid, w->old_wkid, TKE_WKID_SIZE) != 0)
    return FAIL (WRAPPING_KEY_MISMATCH,
                 "Key row %" G_GINT64_FORMAT " is wrapped under neither the current "
                 "nor the new master key.",
                 rowid),
           -1;
  key_len = tke_crypto_kwp_context_unwrap (w->old_ctx, blob, blob_size, key, sizeof key, error);
  if (key_len < 0)
    return -1;
  wrapped_len =
      tke_crypto_kwp_context_wrap (w->new_ctx, key, (gsize) key_len, out, out_size, error);
  OPENSSL_cleanse (key, sizeof key);
  if (wrapped_len >= 0)
    w->done++;
  return wrapped_len;
}

/* --lose-new-after-rewrap UNIT: in the transaction that ends the rewrap,
 * the unit's new register (and importer key) is lost, as when a unit is
 * replaced while the storage is rewrapped: the registers then fit no row
 * of the recovery rules but the last ("do nothing; explain"). */
static gboolean
lose_new_register (sqlite3 *db, const char *unit, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok;

  if (sqlite3_prepare_v2 (db,
                          "UPDATE units SET new_state = 'Empty', new_value = NULL,"
                          " importer_priv = NULL, importer_pub = NULL"
                          " WHERE hsm_id = ?1 OR CAST (num AS TEXT) = ?1",
                          -1, &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (db, error);
  sqlite3_bind_text (stmt, 1, unit, -1, SQLITE_TRANSIENT);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  sqlite3_finalize (stmt);
  if (!ok)
    return tke_emu_db_error (db, error);
  g_message ("Fault: crypto unit %s lost its new master key register.", unit);
  return TRUE;
}

static gboolean
finish_rewrap (sqlite3 *db,
               gint64 rotation_id,
               const guint8 *new_wkid,
               const char *lose_new_on,
               GError **error)
{
  gint64 left;

  if (!tke_emu_db_begin (db, error))
    return FALSE;
  left = tke_emu_keys_count (db, new_wkid, FALSE);
  if (left != 0)
    {
      tke_emu_db_rollback (db);
      return FAIL (INTERNAL, "%" G_GINT64_FORMAT " keys are still not rewrapped.", left);
    }
  if (!tke_emu_rotation_set_rewrapped (db, rotation_id, MSG_REWRAPPED, error) ||
      (lose_new_on != NULL && !lose_new_register (db, lose_new_on, error)))
    {
      tke_emu_db_rollback (db);
      return FALSE;
    }
  return tke_emu_db_commit (db, error);
}

/* Stops exactly at the fault point so that the test knows where; returns
 * the batch size to use, or 0 with @error when the fault fires. */
static gint64
fault_limit (TkeEmuServer *self, const TkeEmuRotation *r, GError **error)
{
  gint64 limit = TKE_EMU_BATCH;

  /* The token expiry does not stop the rewrap: the client meets it. */
  if (self->expire_tokens_after_keys >= 0)
    {
      if (r->keys_done >= self->expire_tokens_after_keys)
        {
          self->expire_tokens_after_keys = -1;
          g_atomic_int_inc (&self->token_generation);
          g_message ("Injected fault: every token expired after %" G_GINT64_FORMAT " keys.",
                     r->keys_done);
        }
      else
        limit = MIN (limit, self->expire_tokens_after_keys - r->keys_done);
    }
  if (self->faults.fail_after_keys < 0 || self->fail_fired)
    return limit;
  if (r->keys_done >= self->faults.fail_after_keys)
    {
      self->fail_fired = TRUE;
      FAIL (INJECTED_FAULT, "Injected fault: the rewrap stopped after %" G_GINT64_FORMAT " keys.",
            r->keys_done);
      return 0;
    }
  return MIN (limit, self->faults.fail_after_keys - r->keys_done);
}

static void
rewrap_all (Worker *w, sqlite3 *db, GError **error)
{
  g_autoptr (TkeEmuRewrap) rewrap = NULL;
  guint8 new_wkid[TKE_WKID_SIZE];

  tke_crypto_wkid (w->old_key, w->old_wkid);
  tke_crypto_wkid (w->new_key, new_wkid);
  if ((w->old_ctx = tke_crypto_kwp_context_new (w->old_key, error)) == NULL ||
      (w->new_ctx = tke_crypto_kwp_context_new (w->new_key, error)) == NULL ||
      (rewrap = tke_emu_rewrap_new (db, new_wkid, error)) == NULL)
    return;
  while (!g_atomic_int_get (&w->self->stop))
    {
      g_autoptr (TkeEmuRotation) r = tke_emu_rotation_load (db, error);
      gint64 limit, n;

      if (r == NULL || (limit = fault_limit (w->self, r, error)) == 0)
        return;
      w->done = r->keys_done;
      n = tke_emu_rewrap_batch (rewrap, limit, rewrap_row, w, error);
      if (n < 0)
        return;
      if (n == 0)
        {
          finish_rewrap (db, w->rotation_id, new_wkid, w->self->faults.lose_new_on, error);
          return;
        }
    }
}

static gpointer
worker_run (gpointer data)
{
  Worker *w = data;
  TkeEmuServer *self = w->self;
  g_autoptr (GError) error = NULL;
  sqlite3 *db = tke_emu_store_open_db (self->store->state_dir, &error);

  if (db != NULL)
    rewrap_all (w, db, &error);
  if (error != NULL && db != NULL)
    tke_emu_rotation_record_error (db, w->rotation_id, error);
  if (error != NULL)
    g_message ("Rotation: %s", error->message);
  if (db != NULL)
    tke_emu_store_close_db (db);
  worker_free (w);
  g_atomic_int_set (&self->worker_running, 0);
  return NULL;
}

static gboolean
precheck (GPtrArray *units, TkeEmuServer *self, GError **error)
{
  TkeEmuUnit *first = g_ptr_array_index (units, 0);
  guint8 cur_vp[TKE_VP_SIZE], new_vp[TKE_VP_SIZE];
  guint common = 0;

  for (guint i = 0; i < units->len; i++)
    if (tke_emu_unit_imprint (g_ptr_array_index (units, i)))
      return FAIL (PRECHECK_IMPRINT_MODE, "Crypto unit %" G_GINT64_FORMAT " is in imprint mode.",
                   ((TkeEmuUnit *) g_ptr_array_index (units, i))->num);
  for (guint i = 1; i < units->len; i++)
    if (((TkeEmuUnit *) g_ptr_array_index (units, i))->sig_thr != first->sig_thr)
      return FAIL (PRECHECK_THRESHOLDS, "The crypto units have different signature thresholds.");
  for (guint a = 0; a < first->admins->len; a++)
    {
      TkeEmuAdmin *admin = g_ptr_array_index (first->admins, a);
      gboolean everywhere = TRUE;

      for (guint i = 1; i < units->len; i++)
        everywhere =
            everywhere && _tke_emu_find_admin (g_ptr_array_index (units, i), admin->ski) != NULL;
      common += everywhere;
    }
  if (common < first->sig_thr)
    return FAIL (PRECHECK_ADMINS,
                 "The crypto units share %u administrators, fewer than the signature threshold "
                 "%" G_GINT64_FORMAT ".",
                 common, first->sig_thr);
  tke_emu_unit_register_vp (self->store, first, FALSE, cur_vp);
  tke_emu_unit_register_vp (self->store, first, TRUE, new_vp);
  for (guint i = 0; i < units->len; i++)
    {
      TkeEmuUnit *unit = g_ptr_array_index (units, i);
      guint8 vp[TKE_VP_SIZE];

      tke_emu_unit_register_vp (self->store, unit, FALSE, vp);
      if (!g_str_equal (unit->cur_state, "Valid") || memcmp (vp, cur_vp, sizeof vp) != 0)
        return FAIL (PRECHECK_CURRENT_REGISTER,
                     "The current master key registers are not all Valid with one "
                     "verification pattern (crypto unit %" G_GINT64_FORMAT ").",
                     unit->num);
    }
  for (guint i = 0; i < units->len; i++)
    {
      TkeEmuUnit *unit = g_ptr_array_index (units, i);
      guint8 vp[TKE_VP_SIZE];

      tke_emu_unit_register_vp (self->store, unit, TRUE, vp);
      if (!g_str_equal (unit->new_state, "Full Committed") || memcmp (vp, new_vp, sizeof vp) != 0 ||
          memcmp (vp, cur_vp, sizeof vp) == 0)
        return FAIL (PRECHECK_NEW_REGISTER,
                     "The new master key registers are not all Full Committed with one "
                     "verification pattern (crypto unit %" G_GINT64_FORMAT ").",
                     unit->num);
    }
  return TRUE;
}

static gboolean
start_worker (TkeEmuServer *self, gint64 rotation_id, TkeSecret *old_key, TkeSecret *new_key)
{
  Worker *w = g_new0 (Worker, 1);

  if (self->worker != NULL)
    g_thread_join (g_steal_pointer (&self->worker));
  w->self = self;
  w->old_key = tke_secret_ref (old_key);
  w->new_key = tke_secret_ref (new_key);
  w->rotation_id = rotation_id;
  g_atomic_int_set (&self->worker_running, 1);
  self->worker = g_thread_new ("rewrap", worker_run, w);
  return TRUE;
}

/* --faults-file: a fault armed while the service runs (the demo's menu
 * "Make the next rotation fail").  The file is read and removed when a
 * rotation starts or resumes, so it arms that rotation only; the worker is
 * not running then, so the faults can change under no one. */
static void
arm_faults_from_file (TkeEmuServer *self)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  gint64 keys;

  if (self->faults.faults_file == NULL ||
      !g_key_file_load_from_file (file, self->faults.faults_file, G_KEY_FILE_NONE, &error))
    return;
  g_unlink (self->faults.faults_file);
  for (guint i = 0; i < 2; i++)
    {
      const char *name = i == 0 ? "fail-after-keys" : "expire-tokens-after-keys";

      if (!g_key_file_has_key (file, "faults", name, NULL))
        continue;
      keys = g_key_file_get_int64 (file, "faults", name, &error);
      if (error != NULL || keys < 0)
        {
          g_printerr ("tke-emulator: %s: [faults] %s is not a number of keys; ignored\n",
                      self->faults.faults_file, name);
          g_clear_error (&error);
          continue;
        }
      if (i == 0)
        {
          g_message ("Fault armed: the rewrap stops after %" G_GINT64_FORMAT " keys.", keys);
          self->faults.fail_after_keys = keys;
          self->fail_fired = FALSE;
        }
      else
        {
          g_message ("Fault armed: every token expires after %" G_GINT64_FORMAT " keys.", keys);
          self->expire_tokens_after_keys = keys;
        }
    }
}

/* Resumes rotation @r: the registers cannot have changed since (set
 * immediate and clear are refused), so the keys are still those of the
 * record.  The caller holds the transaction. */
static gboolean
resume (TkeEmuServer *self, TkeEmuRotation *r, TkeEmuUnit *first, GError **error)
{
  g_autoptr (TkeSecret) old_key = NULL;
  g_autoptr (TkeSecret) new_key = NULL;
  guint8 new_vp[TKE_VP_SIZE], new_wkid[TKE_WKID_SIZE];
  g_autofree char *new_hex = NULL;

  if ((old_key = tke_emu_unit_get_register (self->store, first, FALSE, error)) == NULL ||
      (new_key = tke_emu_unit_get_register (self->store, first, TRUE, error)) == NULL)
    return FALSE;
  tke_crypto_verification_pattern (new_key, new_vp);
  tke_crypto_wkid (new_key, new_wkid);
  new_hex = _tke_emu_hex (new_vp, sizeof new_vp);
  if (!g_str_equal (new_hex, r->to_vp))
    return FAIL (PRECHECK_NEW_REGISTER,
                 "The new master key register no longer holds the rotation's target key.");
  if (!tke_emu_rotation_resume (self->store->db, r->id, new_wkid, error) ||
      !tke_emu_db_commit (self->store->db, error))
    return FALSE;
  start_worker (self, r->id, old_key, new_key);
  return TRUE;
}

/* Starts a rotation after the pre-checks; the caller holds the transaction. */
static gboolean
start (TkeEmuServer *self, GPtrArray *units, GError **error)
{
  TkeEmuUnit *first = g_ptr_array_index (units, 0);
  g_autoptr (TkeSecret) old_key = NULL;
  g_autoptr (TkeSecret) new_key = NULL;
  guint8 old_vp[TKE_VP_SIZE], new_vp[TKE_VP_SIZE];
  g_autofree char *old_hex = NULL, *new_hex = NULL;
  gint64 id;

  if (!precheck (units, self, error) ||
      (old_key = tke_emu_unit_get_register (self->store, first, FALSE, error)) == NULL ||
      (new_key = tke_emu_unit_get_register (self->store, first, TRUE, error)) == NULL)
    return FALSE;
  tke_crypto_verification_pattern (old_key, old_vp);
  tke_crypto_verification_pattern (new_key, new_vp);
  old_hex = _tke_emu_hex (old_vp, sizeof old_vp);
  new_hex = _tke_emu_hex (new_vp, sizeof new_vp);
  id = tke_emu_rotation_insert (self->store->db, old_hex, new_hex, MSG_STARTED, error);
  if (id == 0 || !tke_emu_db_commit (self->store->db, error))
    return FALSE;
  start_worker (self, id, old_key, new_key);
  return TRUE;
}

/* Starts or resumes; returns the HTTP status, or 0 with @error. */
static guint
rotate (TkeEmuServer *self, GError **error)
{
  sqlite3 *db = self->store->db;
  g_autoptr (TkeEmuRotation) r = NULL;
  g_autoptr (GPtrArray) units = NULL;
  gboolean ok;

  if (g_atomic_int_get (&self->worker_running))
    return 202;
  arm_faults_from_file (self);
  if (!tke_emu_db_begin (db, error))
    return 0;
  if ((r = tke_emu_rotation_load (db, error)) == NULL ||
      (units = tke_emu_units_load (self->store, TRUE, error)) == NULL)
    {
      tke_emu_db_rollback (db);
      return 0;
    }
  if (g_str_equal (r->state, "rewrapped"))
    {
      tke_emu_db_rollback (db);
      return 200;
    }
  if (g_str_equal (r->state, "rewrapping"))
    ok = resume (self, r, g_ptr_array_index (units, 0), error);
  else
    ok = start (self, units, error);
  if (!ok)
    tke_emu_db_rollback (db);
  return ok ? 202 : 0;
}

gboolean
_tke_emu_maybe_complete_rotation (TkeEmuServer *self, GError **error)
{
  g_autoptr (TkeEmuRotation) r = tke_emu_rotation_load (self->store->db, error);
  g_autoptr (GPtrArray) units = NULL;

  if (r == NULL)
    return FALSE;
  if (!g_str_equal (r->state, "rewrapped"))
    return TRUE;
  if ((units = tke_emu_units_load (self->store, TRUE, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < units->len; i++)
    {
      guint8 vp[TKE_VP_SIZE];
      g_autofree char *vp_hex = NULL;

      tke_emu_unit_register_vp (self->store, g_ptr_array_index (units, i), FALSE, vp);
      vp_hex = _tke_emu_hex (vp, sizeof vp);
      if (!g_str_equal (vp_hex, r->to_vp))
        return TRUE;
    }
  return tke_emu_rotation_set_complete (self->store->db, r->id, MSG_DONE, error);
}

void
_tke_emu_handle_rotate (TkeEmuServer *self, SoupServerMessage *msg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = NULL;
  guint status;
  JsonObject *out;

  if (_tke_emu_parse_body (msg, &parser, TRUE, &error) == NULL ||
      (status = rotate (self, &error)) == 0 ||
      (out = _tke_emu_rotation_json (self, &error)) == NULL)
    {
      _tke_emu_reply_error (msg, error);
      return;
    }
  _tke_emu_reply_object (msg, status, out);
}
