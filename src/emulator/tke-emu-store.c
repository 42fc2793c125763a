/* tke-emu-store.c: the emulator's persistent state (SQLite, WAL)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Opening, the schema, transactions, the device key and initializing a
 * new state directory.  Units are in tke-emu-store-units.c, root keys in
 * tke-emu-store-keys.c, the rotation record in tke-emu-store-rotation.c.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "tke-emu-error.h"
#include "tke-emu-store-private.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS units (hsm_id TEXT PRIMARY KEY, num INTEGER NOT NULL,"
    " type TEXT NOT NULL, location TEXT NOT NULL, serial TEXT NOT NULL,"
    " sig_thr INTEGER NOT NULL, rev_thr INTEGER NOT NULL, counter INTEGER NOT NULL,"
    " new_state TEXT NOT NULL, new_value BLOB, cur_state TEXT NOT NULL, cur_value BLOB,"
    " importer_priv BLOB, importer_pub BLOB);"
    "CREATE TABLE IF NOT EXISTS admins (hsm_id TEXT NOT NULL, ski TEXT NOT NULL,"
    " name TEXT NOT NULL, point BLOB NOT NULL, PRIMARY KEY (hsm_id, ski));"
    "CREATE TABLE IF NOT EXISTS keys (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL, extractable INTEGER NOT NULL, state INTEGER NOT NULL,"
    " created TEXT NOT NULL, updated TEXT NOT NULL, wkid BLOB NOT NULL, wrapped BLOB NOT NULL,"
    " version INTEGER NOT NULL DEFAULT 1, version_id TEXT, version_created TEXT, rotated TEXT);"
    /* A rotated key's earlier versions, whose material still unwraps
     * their ciphertexts; the master key rotation rewraps them too. */
    "CREATE TABLE IF NOT EXISTS key_versions (rowid INTEGER PRIMARY KEY,"
    " key_rowid INTEGER NOT NULL, version INTEGER NOT NULL, id TEXT NOT NULL UNIQUE,"
    " created TEXT NOT NULL, wkid BLOB NOT NULL, wrapped BLOB NOT NULL,"
    " UNIQUE (key_rowid, version));"
    "CREATE INDEX IF NOT EXISTS keys_by_state ON keys (state);"
    "CREATE TABLE IF NOT EXISTS rotation (id INTEGER PRIMARY KEY, state TEXT NOT NULL,"
    " from_vp TEXT NOT NULL, to_vp TEXT NOT NULL, keys_total INTEGER NOT NULL,"
    " keys_done INTEGER NOT NULL, started TEXT NOT NULL, error_code TEXT, error_message TEXT);"
    "CREATE TABLE IF NOT EXISTS rotation_messages (id INTEGER PRIMARY KEY,"
    " rotation_id INTEGER NOT NULL, ts TEXT NOT NULL, message TEXT NOT NULL);"
    /* A unit's domain control points (service-protocol.md §11.3): the
     * numbers of the bits that are set; no row is the default set. */
    "CREATE TABLE IF NOT EXISTS control_points (hsm_id TEXT PRIMARY KEY, bits TEXT NOT NULL);";

char *
tke_emu_now_iso (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *seconds = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03dZ", seconds, g_date_time_get_microsecond (now) / 1000);
}

gboolean
tke_emu_db_error (sqlite3 *db, GError **error)
{
  g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL, "Database: %s", sqlite3_errmsg (db));
  return FALSE;
}

gboolean
tke_emu_db_exec (sqlite3 *db, const char *sql, GError **error)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    {
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL, "Database: %s",
                   message != NULL ? message : "error");
      sqlite3_free (message);
      return FALSE;
    }
  return TRUE;
}

/* Prepared statements kept per connection.  Every request runs the same
 * few queries (the units, their administrators, the rotation), and parsing
 * their SQL again was a quarter of a RewrapKeyBlob call.  Each connection
 * is used by one thread at a time (the server's on the main context, the
 * rewrap worker's in its thread); the map of connections is shared. */
static GMutex stmt_lock;
static GHashTable *stmt_caches; /* sqlite3 * -> (SQL text -> sqlite3_stmt *) */

static void
finalize_stmt (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static GHashTable *
stmt_cache (sqlite3 *db, gboolean create)
{
  GHashTable *cache;

  g_mutex_lock (&stmt_lock);
  if (stmt_caches == NULL)
    stmt_caches = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_hash_table_unref);
  cache = g_hash_table_lookup (stmt_caches, db);
  if (cache == NULL && create)
    {
      cache = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, finalize_stmt);
      g_hash_table_insert (stmt_caches, db, cache);
    }
  g_mutex_unlock (&stmt_lock);
  return cache;
}

/* @sql (a string constant) prepared on @db, or NULL (sqlite3_errmsg says
 * why).  Give it back with _tke_emu_stmt_done(), never sqlite3_finalize(). */
sqlite3_stmt *
_tke_emu_stmt (sqlite3 *db, const char *sql)
{
  GHashTable *cache = stmt_cache (db, TRUE);
  sqlite3_stmt *stmt = g_hash_table_lookup (cache, sql);

  /* In use further up the stack: a statement of its own. */
  if (stmt != NULL && !sqlite3_stmt_busy (stmt))
    return stmt;
  if (sqlite3_prepare_v3 (db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      sqlite3_finalize (stmt);
      return NULL;
    }
  if (!g_hash_table_contains (cache, sql))
    g_hash_table_insert (cache, (gpointer) sqlite3_sql (stmt), stmt);
  return stmt;
}

/* Resets a statement of _tke_emu_stmt() for its next use (finalizes it
 * if it was not the cached one).  Keeps sqlite3_errmsg() of a failed step. */
void
_tke_emu_stmt_done (sqlite3_stmt *stmt)
{
  GHashTable *cache;

  if (stmt == NULL)
    return;
  cache = stmt_cache (sqlite3_db_handle (stmt), FALSE);
  if (cache != NULL && g_hash_table_lookup (cache, sqlite3_sql (stmt)) == stmt)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
    }
  else
    sqlite3_finalize (stmt);
}

/* Where the store stands: the rows this connection changed so far and
 * PRAGMA data_version, which moves when any other connection (the rewrap
 * worker's, another process's) commits.  Both unchanged: nothing was
 * written since.  FALSE when the version cannot be read. */
gboolean
tke_emu_store_version (TkeEmuStore *self, gint64 *changes, gint64 *data_version)
{
  sqlite3_stmt *stmt = _tke_emu_stmt (self->db, "PRAGMA data_version");
  gboolean ok = stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW;

  if (ok)
    *data_version = sqlite3_column_int64 (stmt, 0);
  _tke_emu_stmt_done (stmt);
  *changes = sqlite3_total_changes64 (self->db);
  return ok;
}

/* Closes @db and drops its statements. */
static void
close_db (sqlite3 *db)
{
  g_mutex_lock (&stmt_lock);
  if (stmt_caches != NULL)
    g_hash_table_remove (stmt_caches, db);
  g_mutex_unlock (&stmt_lock);
  sqlite3_close (db);
}

gboolean
tke_emu_db_begin (sqlite3 *db, GError **error)
{
  return tke_emu_db_exec (db, "BEGIN IMMEDIATE", error);
}

void
tke_emu_db_rollback (sqlite3 *db)
{
  if (!sqlite3_get_autocommit (db))
    sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
}

gboolean
tke_emu_db_commit (sqlite3 *db, GError **error)
{
  if (!tke_emu_db_exec (db, "COMMIT", error))
    {
      tke_emu_db_rollback (db);
      return FALSE;
    }
  return TRUE;
}

/* A state directory from before key versions: its keys are at version 1,
 * whose id is the key's and whose date is the key's creation. */
static gboolean
add_version_columns (sqlite3 *db, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db, "SELECT version FROM keys LIMIT 0", -1, &stmt, NULL) == SQLITE_OK)
    {
      sqlite3_finalize (stmt);
      return TRUE;
    }
  return tke_emu_db_exec (db,
                          "ALTER TABLE keys ADD COLUMN version INTEGER NOT NULL DEFAULT 1;"
                          "ALTER TABLE keys ADD COLUMN version_id TEXT;"
                          "ALTER TABLE keys ADD COLUMN version_created TEXT;"
                          "ALTER TABLE keys ADD COLUMN rotated TEXT;",
                          error);
}

sqlite3 *
tke_emu_store_open_db (const char *state_dir, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, "state.db", NULL);
  sqlite3 *db = NULL;

  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                       NULL) != SQLITE_OK)
    {
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL, "Cannot open %s: %s", path,
                   db != NULL ? sqlite3_errmsg (db) : "out of memory");
      close_db (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, 10000);
  if (!tke_emu_db_exec (db,
                        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                        "PRAGMA foreign_keys=ON;"
                        /* Reads from the map, not pread into a 2 MB cache: a
                         * list of 100 000 keys read the file 20 times over. */
                        "PRAGMA mmap_size=268435456; PRAGMA cache_size=-16384;",
                        error) ||
      !tke_emu_db_exec (db, schema, error) || !add_version_columns (db, error))
    {
      close_db (db);
      return NULL;
    }
  return db;
}

/* The store's statements are those of its connection (_tke_emu_stmt()):
 * preparing the key list's SQL anew took as long as running it.  A
 * statement is released (reset, bindings cleared) after each use, so it
 * holds no read transaction and no pointer into its caller's memory. */
sqlite3_stmt *
_tke_emu_store_stmt (TkeEmuStore *self, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = _tke_emu_stmt (self->db, sql);

  if (stmt == NULL)
    tke_emu_db_error (self->db, error);
  return stmt;
}

void
_tke_emu_store_stmt_release (sqlite3_stmt *stmt)
{
  _tke_emu_stmt_done (stmt);
}

/* Device key and secret files */

static gboolean
write_private_file (const char *path, const guint8 *data, gsize size, GError **error)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  gboolean ok;

  if (fd < 0)
    {
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL, "Cannot create %s: %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  ok = write (fd, data, size) == (gssize) size && fsync (fd) == 0;
  close (fd);
  if (!ok)
    g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL, "Cannot write %s", path);
  return ok;
}

static TkeSecret *
load_or_create_device_key (const char *state_dir, gboolean create, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, "device.key", NULL);
  g_autofree char *contents = NULL;
  gsize size = 0;
  TkeSecret *key;

  if (create)
    {
      key = tke_secret_new_random (32, error);
      if (key == NULL || !write_private_file (path, tke_secret_get_data (key), 32, error))
        {
          g_clear_pointer (&key, tke_secret_unref);
          return NULL;
        }
      return key;
    }

  if (!g_file_get_contents (path, &contents, &size, error))
    return NULL;
  if (size != 32)
    {
      OPENSSL_cleanse (contents, size);
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL, "%s is not a 32-byte key", path);
      return NULL;
    }
  key = tke_secret_new_from_data ((const guint8 *) contents, size);
  OPENSSL_cleanse (contents, size);
  return key;
}

GBytes *
tke_emu_seal_device (
    TkeEmuStore *self, const char *aad, const guint8 *data, gsize size, GError **error)
{
  guint8 nonce[TKE_GCM_NONCE_SIZE];
  g_autoptr (GBytes) ciphertext = NULL;
  g_autoptr (GByteArray) out = g_byte_array_new ();

  if (!tke_crypto_random_bytes (nonce, sizeof nonce, error))
    return NULL;
  ciphertext = tke_crypto_aes_gcm_encrypt (self->device_key, nonce, (const guint8 *) aad,
                                           strlen (aad), data, size, error);
  if (ciphertext == NULL)
    return NULL;
  g_byte_array_append (out, nonce, sizeof nonce);
  g_byte_array_append (out, g_bytes_get_data (ciphertext, NULL), g_bytes_get_size (ciphertext));
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

TkeSecret *
tke_emu_open_device (TkeEmuStore *self, const char *aad, GBytes *sealed, GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (sealed, &size);

  if (size < TKE_GCM_NONCE_SIZE + TKE_GCM_TAG_SIZE)
    {
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL, "Corrupt stored secret");
      return NULL;
    }
  return tke_crypto_aes_gcm_decrypt (self->device_key, data, (const guint8 *) aad, strlen (aad),
                                     data + TKE_GCM_NONCE_SIZE, size - TKE_GCM_NONCE_SIZE, error);
}

/* Opening and initializing */

static const struct
{
  const char *type;
  const char *location;
  const char *serial;
} unit_templates[] = {
  { "OPERATIONAL", "[us-south].[AZ1-CS1].[01].[05]", "93AABEV1" },
  { "OPERATIONAL", "[us-south].[AZ2-CS2].[02].[11]", "93AABEV2" },
  { "RECOVERY", "[us-east].[AZ1-CS1].[03].[07]", "93AABEV3" },
  { "RECOVERY", "[eu-de].[AZ2-CS3].[04].[09]", "93AABEV4" },
};

/* The operational units come first in unit_templates, then the recovery ones. */
#define N_OPERATIONAL_TEMPLATES 2

static gboolean
meta_set (sqlite3 *db, const char *key, const char *value, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", -1, &stmt,
                          NULL) != SQLITE_OK)
    return tke_emu_db_error (db, error);
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  return rc == SQLITE_DONE || tke_emu_db_error (db, error);
}

static char *
meta_get (sqlite3 *db, const char *key)
{
  sqlite3_stmt *stmt = NULL;
  char *value = NULL;

  if (sqlite3_prepare_v2 (db, "SELECT value FROM meta WHERE key = ?", -1, &stmt, NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = _tke_emu_column_text (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

static char *
random_password (GError **error)
{
  guint8 raw[18];

  if (!tke_crypto_random_bytes (raw, sizeof raw, error))
    return NULL;
  return g_base64_encode (raw, sizeof raw);
}

static TkeEmuAdmin *
demo_admin (TkeEmuStore *self, guint index, GString *passwords, GError **error)
{
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (error);
  g_autofree char *file = g_strdup_printf ("admin%u.sigkey", index);
  g_autofree char *path = g_build_filename (self->state_dir, file, NULL);
  g_autofree char *password = NULL;
  g_autoptr (TkeSecret) password_secret = NULL;
  TkeEmuAdmin *admin;
  guint8 ski[TKE_SKI_SIZE];

  if (key == NULL || (password = random_password (error)) == NULL ||
      !tke_crypto_ski (key, ski, error))
    return NULL;
  admin = g_new0 (TkeEmuAdmin, 1);
  admin->name = g_strdup (index == 1 ? "Admin One" : "Admin Two");
  admin->ski = tke_crypto_hex_encode (ski, sizeof ski);
  admin->point = tke_crypto_ec_public_point (key, error);
  password_secret = tke_secret_new_from_data ((const guint8 *) password, strlen (password));
  if (admin->point == NULL ||
      !tke_signature_key_file_create (path, admin->name, key, password_secret,
                                      TKE_KEY_FILE_KDF_PBKDF2, error))
    {
      _tke_emu_admin_free (admin);
      return NULL;
    }
  g_string_append_printf (passwords, "%s\"%s\": \"%s\"", passwords->len > 1 ? ", " : "", file,
                          password);
  OPENSSL_cleanse (password, strlen (password));
  return admin;
}

static gboolean
initialize (TkeEmuStore *self, const char *mode, guint n_keys, guint n_recovery, GError **error)
{
  gboolean demo = g_strcmp0 (mode, "demo") == 0;
  g_autoptr (TkeSecret) mk = NULL;
  g_autoptr (GPtrArray) admins = g_ptr_array_new_with_free_func (_tke_emu_admin_free);
  g_autoptr (GString) passwords = g_string_new ("{");

  if (demo)
    {
      for (guint i = 1; i <= 2; i++)
        {
          TkeEmuAdmin *admin = demo_admin (self, i, passwords, error);

          if (admin == NULL)
            return FALSE;
          g_ptr_array_add (admins, admin);
        }
      g_string_append (passwords, "}\n");
      {
        g_autofree char *path = g_build_filename (self->state_dir, "demo-passwords.json", NULL);
        gboolean ok =
            write_private_file (path, (const guint8 *) passwords->str, passwords->len, error);

        OPENSSL_cleanse (passwords->str, passwords->len);
        if (!ok)
          return FALSE;
      }
      mk = tke_secret_new_random (TKE_MASTER_KEY_SIZE, error);
      if (mk == NULL)
        return FALSE;
    }

  if (!tke_emu_db_begin (self->db, error))
    return FALSE;
  for (guint i = 0; i < N_OPERATIONAL_TEMPLATES + n_recovery; i++)
    {
      g_autoptr (TkeEmuUnit) unit = g_new0 (TkeEmuUnit, 1);

      unit->hsm_id = g_uuid_string_random ();
      unit->num = i + 1;
      unit->type = g_strdup (unit_templates[i].type);
      unit->location = g_strdup (unit_templates[i].location);
      unit->serial = g_strdup (unit_templates[i].serial);
      unit->new_state = g_strdup ("Empty");
      unit->cur_state = g_strdup ("Empty");
      unit->admins = g_ptr_array_new_with_free_func (_tke_emu_admin_free);
      if (demo)
        {
          unit->sig_thr = 2;
          unit->rev_thr = 1;
          for (guint a = 0; a < admins->len; a++)
            {
              TkeEmuAdmin *src = g_ptr_array_index (admins, a), *copy = g_new0 (TkeEmuAdmin, 1);

              copy->name = g_strdup (src->name);
              copy->ski = g_strdup (src->ski);
              copy->point = g_bytes_ref (src->point);
              g_ptr_array_add (unit->admins, copy);
            }
          if (!tke_emu_unit_set_register (self, unit, FALSE, mk, "Valid", error))
            goto fail;
        }
      if (!tke_emu_unit_save (self, unit, error))
        goto fail;
    }
  if (demo && !tke_emu_store_add_root_keys (self, mk, n_keys, "root-key-", error))
    goto fail;
  if (!meta_set (self->db, "instance_id", self->instance_id, error) ||
      !meta_set (self->db, "init_mode", mode, error))
    goto fail;
  return tke_emu_db_commit (self->db, error);

fail:
  tke_emu_db_rollback (self->db);
  return FALSE;
}

/* One service per state directory: two would each hold the registers in
 * memory and interleave their transactions.  The lock (flock, so a killed
 * emulator releases it) is held for the life of the store; the file names
 * the holder's pid for the error message. */
static int
lock_state_dir (const char *state_dir, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, "lock", NULL);
  g_autofree char *pid = NULL;
  g_autofree char *holder = NULL;
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  if (fd < 0)
    {
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL, "Cannot open %s: %s", path,
                   g_strerror (errno));
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int saved = errno;

      close (fd);
      if (saved != EWOULDBLOCK)
        {
          g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL, "Cannot lock %s: %s", path,
                       g_strerror (saved));
          return -1;
        }
      g_file_get_contents (path, &holder, NULL, NULL);
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL,
                   "%s is in use by another tke-emulator (pid %s): stop it first, or use "
                   "another --state-dir.",
                   state_dir, holder != NULL && *holder != '\0' ? g_strstrip (holder) : "unknown");
      return -1;
    }
  pid = g_strdup_printf ("%d\n", (int) getpid ());
  if (ftruncate (fd, 0) != 0 || write (fd, pid, strlen (pid)) != (gssize) strlen (pid))
    g_debug ("Cannot write the pid into %s", path);
  return fd;
}

/**
 * tke_emu_store_open:
 * @state_dir: the state directory (created if missing)
 * @init_mode: (nullable): "imprint" or "demo" for a new state directory
 * @n_keys: root keys for "demo"
 * @error: return location for a #GError
 *
 * A new state directory gets one recovery unit.
 */
TkeEmuStore *
tke_emu_store_open (const char *state_dir, const char *init_mode, guint n_keys, GError **error)
{
  return tke_emu_store_open_full (state_dir, init_mode, n_keys, 1, error);
}

/**
 * tke_emu_store_open_full:
 * @n_recovery: recovery units (0 to 2) of a new state directory
 *
 * As tke_emu_store_open().
 */
TkeEmuStore *
tke_emu_store_open_full (
    const char *state_dir, const char *init_mode, guint n_keys, guint n_recovery, GError **error)
{
  g_autoptr (TkeEmuStore) self = g_new0 (TkeEmuStore, 1);
  g_autofree char *db_path = g_build_filename (state_dir, "state.db", NULL);
  g_autofree char *api_key_path = g_build_filename (state_dir, "api-key", NULL);
  gboolean fresh;

  self->lock_fd = -1;
  if (g_mkdir_with_parents (state_dir, 0700) != 0)
    {
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL, "Cannot create %s: %s", state_dir,
                   g_strerror (errno));
      return NULL;
    }
  self->state_dir = g_canonicalize_filename (state_dir, NULL);
  self->lock_fd = lock_state_dir (self->state_dir, error);
  if (self->lock_fd < 0)
    return NULL;
  fresh = !g_file_test (db_path, G_FILE_TEST_EXISTS);
  if (fresh && init_mode == NULL)
    {
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL,
                   "%s holds no state: start with --init imprint or --init demo.", state_dir);
      return NULL;
    }

  self->device_key = load_or_create_device_key (self->state_dir, fresh, error);
  if (self->device_key == NULL)
    return NULL;
  self->db = tke_emu_store_open_db (self->state_dir, error);
  if (self->db == NULL)
    return NULL;

  if (fresh)
    {
      g_autofree char *api_key = random_password (error);

      if (api_key == NULL)
        return NULL;
      g_strdelimit (api_key, "+/=", '_');
      if (!write_private_file (api_key_path, (const guint8 *) api_key, strlen (api_key), error))
        return NULL;
      self->instance_id = g_uuid_string_random ();
      if (!initialize (self, init_mode, n_keys, MIN (n_recovery, 2), error))
        return NULL;
    }

  self->instance_id =
      self->instance_id != NULL ? self->instance_id : meta_get (self->db, "instance_id");
  self->init_mode = meta_get (self->db, "init_mode");
  if (self->instance_id == NULL || self->init_mode == NULL)
    {
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL,
                   "%s was not initialized completely; remove it and start again.", state_dir);
      return NULL;
    }
  if (init_mode != NULL && !fresh && g_strcmp0 (init_mode, self->init_mode) != 0)
    {
      g_set_error (
          error, TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL,
          "%s was initialized with --init %s; --init %s applies only to a new state directory.",
          state_dir, self->init_mode, init_mode);
      return NULL;
    }
  if (!g_file_get_contents (api_key_path, &self->api_key, NULL, error))
    return NULL;
  g_strstrip (self->api_key);
  return g_steal_pointer (&self);
}

void
tke_emu_store_free (TkeEmuStore *self)
{
  if (self == NULL)
    return;
  /* The statements before their connection, which will not close under them. */
  if (self->db != NULL)
    close_db (self->db);
  g_clear_pointer (&self->device_key, tke_secret_unref);
  g_free (self->state_dir);
  g_free (self->instance_id);
  g_free (self->init_mode);
  if (self->api_key != NULL)
    OPENSSL_cleanse (self->api_key, strlen (self->api_key));
  g_free (self->api_key);
  if (self->lock_fd >= 0)
    close (self->lock_fd); /* releases the lock */
  g_free (self);
}

void
tke_emu_store_close_db (sqlite3 *db)
{
  close_db (db);
}
