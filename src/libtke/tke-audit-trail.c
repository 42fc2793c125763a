/* tke-audit-trail.c: the ceremony record, a hash-chained audit trail
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Auditors ask what happened at a key ceremony, and they must be able to
 * trust the answer.  So every ceremony step appends one JSON line that
 * names the SHA-256 of the line before it ("prev"), the line reaches the
 * disk before the step goes on, and after each append the head of the
 * chain (its sequence number and hash) is signed with the workstation key,
 * which lives in the keyring.  Changing, dropping or reordering a record
 * breaks the chain; cutting records off the end no longer matches the
 * signed head, and a new head needs the key.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "tke-audit-entry-private.h"
#include "tke-audit-trail-private.h"
#include "tke-credentials.h"
#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-json-private.h"

/* The keyring item's "endpoint": one workstation key per user. */
#define WORKSTATION_KEY_ENDPOINT "workstation"
#define HEAD_CONTEXT "tke audit head v1"

/**
 * TkeAuditTrail:
 *
 * The ceremony record: one JSON line per ceremony step, each naming the
 * SHA-256 of the line before it, synced to disk before the step goes on,
 * with the chain's head signed by the workstation key kept in the keyring.
 * #TkeCeremonyReport bundles a part of it for auditors, who verify it
 * offline.  Nothing secret is recorded: see #TkeAuditEntry.
 */
struct _TkeAuditTrail
{
  GObject parent_instance;

  char *path;
  gboolean tail_known;
  gint64 last_seq;
  char *last_hash;
  goffset known_size; /* the file's size after this object's last append */
  char *deviation;    /* what the next record must say happened to the trail */
  EVP_PKEY *key;
  GHashTable *watches; /* ceremony or rotation → its watch (tke-audit-ceremony.c) */
  GThreadPool *writer; /* one thread: records are written in the order asked */
};

G_DEFINE_FINAL_TYPE (TkeAuditTrail, tke_audit_trail, G_TYPE_OBJECT)

static void write_job (gpointer data, gpointer user_data);

static void
tke_audit_trail_finalize (GObject *object)
{
  TkeAuditTrail *self = TKE_AUDIT_TRAIL (object);

  g_free (self->path);
  g_free (self->last_hash);
  g_free (self->deviation);
  g_clear_pointer (&self->key, EVP_PKEY_free);
  g_clear_pointer (&self->watches, g_hash_table_unref);
  /* Every job holds a reference, so none is left; this may run on the
   * writer thread itself, which must not wait for itself. */
  if (self->writer != NULL)
    g_thread_pool_free (self->writer, FALSE, FALSE);
  G_OBJECT_CLASS (tke_audit_trail_parent_class)->finalize (object);
}

static void
tke_audit_trail_class_init (TkeAuditTrailClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tke_audit_trail_finalize;
}

static void
tke_audit_trail_init (TkeAuditTrail *self)
{
  self->watches = g_hash_table_new_full (NULL, NULL, NULL, _tke_audit_watch_free);
  /* Not exclusive: its thread starts with the first record. */
  self->writer = g_thread_pool_new (write_job, NULL, 1, FALSE, NULL);
}

GHashTable *
_tke_audit_trail_get_watches (TkeAuditTrail *self)
{
  return self->watches;
}

/**
 * tke_audit_trail_get_default_path:
 *
 * Where the ceremony record of this user lives:
 * `$XDG_STATE_HOME/tke/audit/trail.jsonl`.
 *
 * Returns: (transfer full): the path
 */
char *
tke_audit_trail_get_default_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "tke", "audit", "trail.jsonl", NULL);
}

/**
 * tke_audit_trail_new: (constructor)
 * @path: the trail's file; its head goes next to it, with ".head" added
 *
 * Opens the ceremony record at @path.  Nothing is read or written yet.
 *
 * Returns: (transfer full): the trail
 */
TkeAuditTrail *
tke_audit_trail_new (const char *path)
{
  TkeAuditTrail *self;

  g_return_val_if_fail (path != NULL, NULL);
  self = g_object_new (TKE_TYPE_AUDIT_TRAIL, NULL);
  self->path = g_strdup (path);
  return self;
}

/**
 * tke_audit_trail_get_path:
 * @self: a trail
 *
 * Returns: the trail's file
 */
const char *
tke_audit_trail_get_path (TkeAuditTrail *self)
{
  g_return_val_if_fail (TKE_IS_AUDIT_TRAIL (self), NULL);
  return self->path;
}

/**
 * tke_audit_trail_new_ceremony_id:
 *
 * A fresh ceremony id (a random UUID): every record of one ceremony
 * carries it.
 *
 * Returns: (transfer full): the id
 */
char *
tke_audit_trail_new_ceremony_id (void)
{
  return g_uuid_string_random ();
}

/* ---- Hashes, the workstation key and the head --------------------------- */

char *
_tke_audit_hash_line (const char *line)
{
  guint8 digest[32];
  unsigned int size = 0;

  if (EVP_Digest (line, strlen (line), digest, &size, EVP_sha256 (), NULL) != 1)
    return NULL;
  return tke_crypto_hex_encode (digest, size);
}

static char *
head_bytes (gint64 seq, const char *hash)
{
  return g_strdup_printf ("%s\n%" G_GINT64_FORMAT "\n%s\n", HEAD_CONTEXT, seq, hash);
}

EVP_PKEY *
_tke_audit_workstation_key (gboolean create, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (TkeSecret) pem = tke_credentials_lookup (TKE_CREDENTIAL_WORKSTATION_KEY,
                                                      WORKSTATION_KEY_ENDPOINT, NULL, &local_error);
  EVP_PKEY *key;

  if (pem != NULL)
    return tke_crypto_ec_private_key_from_pem (pem, error);
  if (!create || !g_error_matches (local_error, TKE_ERROR, TKE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  /* The first record of this workstation: its key is made now, and kept
   * only in the keyring. */
  key = tke_crypto_ec_generate (error);
  if (key == NULL)
    return NULL;
  pem = tke_crypto_ec_private_key_to_pem (key, error);
  if (pem == NULL || !tke_credentials_store (TKE_CREDENTIAL_WORKSTATION_KEY,
                                             WORKSTATION_KEY_ENDPOINT, pem, NULL, error))
    {
      EVP_PKEY_free (key);
      return NULL;
    }
  return key;
}

char *
_tke_audit_public_key_hex (EVP_PKEY *key, GError **error)
{
  g_autoptr (GBytes) point = tke_crypto_ec_public_point (key, error);

  if (point == NULL)
    return NULL;
  return tke_crypto_hex_encode (g_bytes_get_data (point, NULL), g_bytes_get_size (point));
}

static char *
head_path (TkeAuditTrail *self)
{
  return g_strconcat (self->path, ".head", NULL);
}

static gboolean
write_head (TkeAuditTrail *self, GError **error)
{
  g_autofree char *bytes = head_bytes (self->last_seq, self->last_hash);
  g_autoptr (GBytes) signature = NULL;
  g_autofree char *signature_base64 = NULL;
  g_autofree char *public_hex = NULL;
  g_autofree char *json = NULL;
  g_autofree char *path = head_path (self);

  if (self->key == NULL && (self->key = _tke_audit_workstation_key (TRUE, error)) == NULL)
    return FALSE;
  signature = tke_crypto_sign (self->key, (const guint8 *) bytes, strlen (bytes), error);
  public_hex = _tke_audit_public_key_hex (self->key, error);
  if (signature == NULL || public_hex == NULL)
    return FALSE;
  signature_base64 =
      g_base64_encode (g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
  json = g_strdup_printf ("{\"v\":1,\"seq\":%" G_GINT64_FORMAT ",\"hash\":\"%s\","
                          "\"workstation_key\":\"%s\",\"signature\":\"%s\"}\n",
                          self->last_seq, self->last_hash, public_hex, signature_base64);
  return g_file_set_contents_full (
      path, json, -1, G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, error);
}

/* ---- Reading ------------------------------------------------------------ */

static gboolean
read_failed (GError **error, const char *path, const char *why)
{
  g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The ceremony record “%s” cannot be read: %s"),
               path, why);
  return FALSE;
}

GStrv
_tke_audit_trail_read_lines (TkeAuditTrail *self, GError **error)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  char **lines;

  if (!g_file_get_contents (self->path, &contents, NULL, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_new0 (char *, 1);
      read_failed (error, self->path, local_error->message);
      return NULL;
    }
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0')
      g_strv_builder_add (builder, lines[i]);
  g_strfreev (lines);
  return g_strv_builder_end (builder);
}

static gboolean
parse_record (const char *line, JsonObject **object, gint64 *seq, const char **prev)
{
  g_autoptr (JsonNode) node = _tke_json_parse_bytes (line, strlen (line), NULL);
  JsonObject *record;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  record = json_node_get_object (node);
  if (!json_object_has_member (record, "seq") || !json_object_has_member (record, "prev"))
    return FALSE;
  *seq = _tke_json_get_int (record, "seq", -1);
  *prev = _tke_json_get_string (record, "prev");
  if (*seq < 1 || *prev == NULL)
    return FALSE;
  *object = json_object_ref (record);
  return TRUE;
}

/* The longest record the tail is looked for in: a record holds at most a
 * few units' signed answers, a few kB each. */
#define MAX_RECORD_SIZE (256 * 1024)

static gboolean
set_aside_torn (
    TkeAuditTrail *self, int fd, const char *tail, gsize want, goffset size, GError **error)
{
  const char *newline = g_strrstr_len (tail, (gssize) want, "\n");
  gsize torn = newline != NULL ? want - (gsize) (newline + 1 - tail) : want;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  g_autofree char *aside = g_strdup_printf ("%s.torn-%s", self->path, stamp);

  if (newline == NULL && (gsize) size > want)
    return read_failed (error, self->path,
                        _ ("its last record is damaged; verify it before adding to it"));
  if (!g_file_set_contents_full (aside, tail + want - torn, (gssize) torn,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600,
                                 error) ||
      ftruncate (fd, size - (off_t) torn) != 0 || fsync (fd) != 0)
    return read_failed (error, self->path, _ ("its torn last record cannot be set aside"));
  g_free (self->deviation);
  self->deviation = g_strdup_printf (_ ("A record torn by a crash (%u bytes) was set aside in %s."),
                                     (guint) torn, aside);
  return TRUE;
}

/* Reads the last record's number and hash from @fd (locked), unless the
 * file is as this object last left it. */
static gboolean
learn_tail (TkeAuditTrail *self, int fd, GError **error)
{
  g_autofree char *tail = NULL;
  g_autoptr (JsonObject) record = NULL;
  struct stat st;
  gsize want;
  char *end, *start;
  const char *prev;

  if (fstat (fd, &st) != 0)
    return read_failed (error, self->path, g_strerror (errno));
  if (self->tail_known && st.st_size == self->known_size)
    return TRUE;
  g_clear_pointer (&self->last_hash, g_free);
  self->tail_known = FALSE;
  if (st.st_size == 0)
    {
      self->last_seq = 0;
      self->last_hash = g_strdup (TKE_AUDIT_GENESIS_HASH);
      self->known_size = 0;
      self->tail_known = TRUE;
      return TRUE;
    }
  want = MIN ((gsize) st.st_size, MAX_RECORD_SIZE);
  tail = g_malloc (want + 1);
  if (pread (fd, tail, want, st.st_size - (off_t) want) != (ssize_t) want)
    return read_failed (error, self->path, g_strerror (errno));
  tail[want] = '\0';
  /* A record ends with its newline; one without is torn (a crash while it
   * was written, before its head was signed): it is set aside, not lost,
   * and the next record says so. */
  if (tail[want - 1] != '\n')
    {
      if (!set_aside_torn (self, fd, tail, want, st.st_size, error))
        return FALSE;
      return learn_tail (self, fd, error);
    }
  end = tail + want - 1;
  *end = '\0';
  start = strrchr (tail, '\n');
  start = start != NULL ? start + 1 : tail;
  if ((start == tail && (gsize) st.st_size > want) ||
      !parse_record (start, &record, &self->last_seq, &prev))
    return read_failed (error, self->path,
                        _ ("its last record is damaged; verify it before adding to it"));
  self->last_hash = _tke_audit_hash_line (start);
  self->known_size = st.st_size;
  self->tail_known = TRUE;
  return TRUE;
}

/* ---- Appending ---------------------------------------------------------- */

static gboolean
write_failed (GError **error, const char *path, int saved_errno)
{
  g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The ceremony record “%s” cannot be written: %s"),
               path, g_strerror (saved_errno));
  return FALSE;
}

/* Opens the trail and takes its lock: one writer at a time, the GUI's and
 * the CLI's alike, so that no two records name the same one before them. */
static int
open_locked (TkeAuditTrail *self, gboolean *created, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (self->path);
  int fd;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    return write_failed (error, self->path, errno), -1;
  *created = !g_file_test (self->path, G_FILE_TEST_EXISTS);
  fd = open (self->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return write_failed (error, self->path, errno), -1;
  while (flock (fd, LOCK_EX) != 0)
    if (errno != EINTR)
      {
        int saved = errno;

        close (fd);
        return write_failed (error, self->path, saved), -1;
      }
  return fd;
}

/* One write of the whole line (O_APPEND), then fsync of the file and,
 * when it was just made, of its directory. */
static gboolean
append_line (TkeAuditTrail *self, int fd, const char *line, gboolean created, GError **error)
{
  gsize size = strlen (line);
  const char *data = line;

  while (size > 0)
    {
      ssize_t n = write (fd, data, size);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return write_failed (error, self->path, errno);
      data += n;
      size -= (gsize) n;
    }
  if (fsync (fd) != 0)
    return write_failed (error, self->path, errno);
  if (created)
    {
      g_autofree char *dir = g_path_get_dirname (self->path);
      int dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

      if (dir_fd >= 0)
        {
          fsync (dir_fd);
          close (dir_fd);
        }
    }
  return TRUE;
}

static char *
record_line (TkeAuditTrail *self, TkeAuditEntry *entry)
{
  JsonObject *fields = _tke_audit_entry_get_object (entry);
  g_autoptr (JsonObject) record = json_object_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *time = g_date_time_format_iso8601 (now);
  g_autoptr (GList) members = json_object_get_members (fields);
  g_autofree char *json = NULL;

  json_object_set_int_member (record, "v", 1);
  json_object_set_int_member (record, "seq", self->last_seq + 1);
  json_object_set_string_member (record, "prev", self->last_hash);
  json_object_set_string_member (record, "time", time);
  for (GList *l = members; l != NULL; l = l->next)
    json_object_set_member (record, l->data,
                            json_node_copy (json_object_get_member (fields, l->data)));
  if (self->deviation != NULL)
    json_object_set_string_member (record, "trail_deviation", self->deviation);
  json_node_set_object (node, record);
  json = json_to_string (node, FALSE);
  return g_strconcat (json, "\n", NULL);
}

/* Runs on the writer thread only: it alone touches the tail, the head and
 * the key. */
static gboolean
append_now (TkeAuditTrail *self, TkeAuditEntry *entry, GError **error)
{
  g_autofree char *line = NULL;
  g_autofree char *hash = NULL;
  gboolean created, ok;
  int fd;

  fd = open_locked (self, &created, error);
  if (fd < 0)
    return FALSE;
  if (!learn_tail (self, fd, error))
    {
      close (fd);
      return FALSE;
    }
  line = record_line (self, entry);
  /* The hash covers the line as it is on disk, without its newline. */
  line[strlen (line) - 1] = '\0';
  hash = _tke_audit_hash_line (line);
  line[strlen (line)] = '\n';
  if (hash == NULL || !append_line (self, fd, line, created, error))
    {
      /* What reached the disk is unknown: read the tail again next time. */
      self->tail_known = FALSE;
      close (fd);
      return FALSE;
    }
  self->last_seq++;
  self->known_size += strlen (line);
  g_clear_pointer (&self->deviation, g_free);
  g_free (self->last_hash);
  self->last_hash = g_steal_pointer (&hash);
  /* The head too while the lock is held, so that it names the last record. */
  ok = write_head (self, error);
  close (fd);
  return ok;
}

/* ---- The writer: one thread per trail, records in the order asked ------- */

/* A record asked for, on its way to the writer thread.  The disk (two
 * fsyncs) and, on the first record, the keyring are slow: no caller's
 * main loop waits for them, and the order of the records is the order
 * they were asked for, whoever asks. */
typedef struct
{
  TkeAuditTrail *trail; /* a reference */
  TkeAuditEntry *entry;
  gint *failed; /* (nullable): set when this record fails (a ceremony's) */
  gboolean say_if_failed;
  GTask *task; /* (nullable): tke_audit_trail_append_async() */
  /* tke_audit_trail_append(): its caller waits for these */
  gboolean waited, done, ok;
  GError *error;
  GMutex mutex;
  GCond cond;
} Job;

static void
job_free (Job *job)
{
  g_object_unref (job->trail);
  g_clear_pointer (&job->entry, tke_audit_entry_unref);
  if (job->failed != NULL)
    g_rc_box_release (job->failed);
  g_clear_object (&job->task);
  g_clear_error (&job->error);
  g_mutex_clear (&job->mutex);
  g_cond_clear (&job->cond);
  g_free (job);
}

static Job *
job_new (TkeAuditTrail *self, TkeAuditEntry *entry)
{
  Job *job = g_new0 (Job, 1);

  job->trail = g_object_ref (self);
  job->entry = entry != NULL ? tke_audit_entry_ref (entry) : NULL;
  g_mutex_init (&job->mutex);
  g_cond_init (&job->cond);
  return job;
}

static void
write_job (gpointer data, gpointer user_data)
{
  Job *job = data;
  g_autoptr (GError) error = NULL;
  GCancellable *cancellable = job->task != NULL ? g_task_get_cancellable (job->task) : NULL;
  gboolean ok;

  /* Every record asked for before this one is written (or failed) now. */
  if (job->entry != NULL && job->say_if_failed && job->failed != NULL &&
      g_atomic_int_get (job->failed))
    tke_audit_entry_add_message (job->entry,
                                 _ ("Some steps of this ceremony could not be recorded."));
  ok = job->entry == NULL || /* _tke_audit_trail_wait() */
       (!g_cancellable_set_error_if_cancelled (cancellable, &error) &&
        append_now (job->trail, job->entry, &error));
  if (!ok && job->failed != NULL)
    g_atomic_int_set (job->failed, TRUE);
  /* The writer is a GLib pool thread: it outlives this trail, serves other
   * pools, and may end whenever GLib retires it, at exit too, when
   * OpenSSL's per-thread state (the signature's private random generator)
   * would be left behind.  That state goes with each record instead. */
  OPENSSL_thread_stop ();
  if (job->waited)
    {
      g_mutex_lock (&job->mutex);
      job->ok = ok;
      job->error = g_steal_pointer (&error);
      job->done = TRUE;
      g_cond_signal (&job->cond);
      g_mutex_unlock (&job->mutex);
      return; /* the waiter frees it */
    }
  if (job->task != NULL)
    {
      if (ok)
        g_task_return_boolean (job->task, TRUE);
      else
        g_task_return_error (job->task, g_steal_pointer (&error));
    }
  else if (!ok)
    g_warning ("%s", error->message);
  job_free (job);
}

static void
push_job (TkeAuditTrail *self, Job *job)
{
  g_autoptr (GError) error = NULL;

  /* Fails only if the thread cannot be made; a later push makes it. */
  if (!g_thread_pool_push (self->writer, job, &error))
    g_warning ("%s", error->message);
}

/**
 * tke_audit_trail_append:
 * @self: a trail
 * @entry: what the step says about itself
 * @error: return location for a #GError (%TKE_ERROR_IO, or the keyring's)
 *
 * Writes @entry as the next record: its sequence number, the time, the
 * hash of the record before it, then the entry.  The record is on disk,
 * and the new head signed with the workstation key (made on the first
 * record, and kept in the keyring), when this returns %TRUE.  Blocks on
 * the disk and the keyring, after every record asked for before it: a
 * ceremony step waits for its record.  A main loop uses
 * tke_audit_trail_append_async().
 *
 * Returns: %TRUE when the record is written
 */
gboolean
tke_audit_trail_append (TkeAuditTrail *self, TkeAuditEntry *entry, GError **error)
{
  Job *job;
  gboolean ok;

  g_return_val_if_fail (TKE_IS_AUDIT_TRAIL (self), FALSE);
  g_return_val_if_fail (entry != NULL, FALSE);

  job = job_new (self, entry);
  job->waited = TRUE;
  push_job (self, job);
  g_mutex_lock (&job->mutex);
  while (!job->done)
    g_cond_wait (&job->cond, &job->mutex);
  g_mutex_unlock (&job->mutex);
  ok = job->ok;
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&job->error));
  job_free (job);
  return ok;
}

/**
 * tke_audit_trail_append_async:
 * @self: a trail
 * @entry: what the step says about itself; not changed after this call
 * @cancellable: (nullable): a #GCancellable: a record not yet written is
 *   not written
 * @callback: called when the record is on disk and the head signed, or not
 * @user_data: data for @callback
 *
 * Writes @entry as the next record, as tke_audit_trail_append() does, on
 * the trail's writer thread: the disk and the keyring never block the
 * caller's main loop.  Records are written in the order they are asked
 * for, by either call.
 */
void
tke_audit_trail_append_async (TkeAuditTrail *self,
                              TkeAuditEntry *entry,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  Job *job;

  g_return_if_fail (TKE_IS_AUDIT_TRAIL (self));
  g_return_if_fail (entry != NULL);

  job = job_new (self, entry);
  job->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, tke_audit_trail_append_async);
  push_job (self, job);
}

/**
 * tke_audit_trail_append_finish:
 * @self: a trail
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes tke_audit_trail_append_async().
 *
 * Returns: %TRUE when the record is written
 */
gboolean
tke_audit_trail_append_finish (TkeAuditTrail *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* A ceremony's record: @failed (a g_rc_box of a gint) is set if it fails;
 * with @say_if_failed, the record says if one before it failed.  With no
 * @callback, a failure is a warning. */
void
_tke_audit_trail_queue (TkeAuditTrail *self,
                        TkeAuditEntry *entry,
                        gint *failed,
                        gboolean say_if_failed,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  Job *job = job_new (self, entry);

  job->failed = failed != NULL ? g_rc_box_acquire (failed) : NULL;
  job->say_if_failed = say_if_failed;
  if (callback != NULL)
    {
      job->task = g_task_new (self, cancellable, callback, user_data);
      g_task_set_source_tag (job->task, tke_audit_trail_append_async);
    }
  push_job (self, job);
}

/* Waits on this thread for every record asked for before now. */
void
_tke_audit_trail_wait (TkeAuditTrail *self)
{
  Job *job = job_new (self, NULL);

  job->waited = TRUE;
  push_job (self, job);
  g_mutex_lock (&job->mutex);
  while (!job->done)
    g_cond_wait (&job->cond, &job->mutex);
  g_mutex_unlock (&job->mutex);
  job_free (job);
}

/* ---- Verifying ---------------------------------------------------------- */

/* @seq is the record named; @first the first record in doubt: a record
 * that does not chain to the one before may be either one changed. */
static gboolean
broken (GError **error,
        TkeAuditDamage *damage,
        gint64 first,
        gint64 seq,
        guint position,
        const char *why)
{
  if (damage != NULL)
    {
      damage->first = MIN (first, seq);
      damage->last = seq;
    }
  g_set_error (error, TKE_ERROR, TKE_ERROR_RECORD_TAMPERED, _ ("Record %lld (line %u): %s"),
               (long long) seq, position + 1, why);
  return FALSE;
}

gboolean
_tke_audit_check_chain (const char *const *lines,
                        const char *first_prev,
                        gint64 first_seq,
                        TkeAuditDamage *damage,
                        GError **error)
{
  g_autofree char *expected_prev = g_strdup (first_prev);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (JsonObject) record = NULL;
      gint64 seq;
      const char *prev;

      if (!parse_record (lines[i], &record, &seq, &prev))
        return broken (error, damage, first_seq + i, first_seq + i, i,
                       _ ("it is not a record of the ceremony record"));
      if (seq != first_seq + (gint64) i)
        return broken (error, damage, first_seq + (gint64) i - 1, seq, i,
                       seq > first_seq + (gint64) i ? _ ("the records before it are missing")
                                                    : _ ("it is out of order, or repeated"));
      if (g_strcmp0 (prev, expected_prev) != 0)
        return broken (error, damage, seq - 1, seq, i,
                       _ ("it does not chain to the record before it: that record, or this "
                          "one, was changed"));
      g_free (expected_prev);
      expected_prev = _tke_audit_hash_line (lines[i]);
    }
  return TRUE;
}

static gboolean
check_head (TkeAuditTrail *self, const char *const *lines, guint n, GError **error)
{
  g_autofree char *path = head_path (self);
  g_autofree char *contents = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GBytes) point = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autofree char *bytes = NULL;
  g_autofree char *last_hash = NULL;
  g_autofree guchar *signature = NULL;
  gsize signature_size = 0;
  JsonObject *head;
  gint64 seq;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return n == 0
               ? TRUE
               : broken (error, NULL, n, n, n - 1, _ ("the signed head of the record is missing"));
  node = _tke_json_parse_bytes (contents, strlen (contents), NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return broken (error, NULL, n, n, n - 1, _ ("the signed head of the record is damaged"));
  head = json_node_get_object (node);
  seq = _tke_json_get_int (head, "seq", -1);
  last_hash = n > 0 ? _tke_audit_hash_line (lines[n - 1]) : g_strdup (TKE_AUDIT_GENESIS_HASH);
  if (seq != (gint64) n)
    return broken (error, NULL, seq, seq, n > 0 ? n - 1 : 0,
                   seq > (gint64) n ? _ ("records at the end of the record were removed")
                                    : _ ("records were added after the signed head"));
  if (g_strcmp0 (_tke_json_get_string (head, "hash"), last_hash) != 0)
    return broken (error, NULL, seq, seq, n - 1,
                   _ ("the last record is not the one the head signed"));
  point = tke_crypto_hex_decode ((_tke_json_get_string (head, "workstation_key") ?: ""), NULL);
  key = point != NULL ? tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                                             g_bytes_get_size (point), NULL)
                      : NULL;
  signature = g_base64_decode ((_tke_json_get_string (head, "signature") ?: ""), &signature_size);
  bytes = head_bytes (seq, last_hash);
  if (key == NULL || !tke_crypto_verify (key, (const guint8 *) bytes, strlen (bytes), signature,
                                         signature_size, NULL))
    return broken (error, NULL, seq, seq, n - 1, _ ("the head's signature does not verify"));
  /* On this workstation, the head must be signed by its own key: anyone
   * can make a key and sign a rewritten trail with it. */
  {
    g_autoptr (EVP_PKEY) mine = _tke_audit_workstation_key (FALSE, NULL);
    g_autofree char *mine_hex = mine != NULL ? _tke_audit_public_key_hex (mine, NULL) : NULL;

    if (mine_hex != NULL &&
        g_strcmp0 (mine_hex, _tke_json_get_string (head, "workstation_key")) != 0)
      return broken (error, NULL, seq, seq, n - 1,
                     _ ("the head is signed by another key than this workstation's"));
  }
  return TRUE;
}

/**
 * tke_audit_trail_verify:
 * @self: a trail
 * @n_records: (out) (optional): how many records it holds
 * @error: return location for a #GError; %TKE_ERROR_RECORD_TAMPERED names
 *   the first record that fails, and why
 *
 * Checks the whole trail: every record in order, each chained to the one
 * before, and the last one signed in the head by the workstation key.
 * tke_audit_trail_verify_full() also says which records are in doubt.
 *
 * Returns: %TRUE if the trail is intact
 */
gboolean
tke_audit_trail_verify (TkeAuditTrail *self, guint *n_records, GError **error)
{
  return tke_audit_trail_verify_full (self, n_records, NULL, NULL, error);
}

/**
 * tke_audit_trail_verify_full:
 * @self: a trail
 * @n_records: (out) (optional): how many records it holds
 * @first_damaged: (out) (optional): if it fails, the sequence number of the
 *   first record in doubt
 * @last_damaged: (out) (optional): if it fails, that of the last record in
 *   doubt, the one the error names
 * @error: return location for a #GError, as tke_audit_trail_verify()
 *
 * As tke_audit_trail_verify(), and says which records the failure puts in
 * doubt, so that a front end can mark the ceremonies they belong to.  A
 * changed record breaks the chain at the record after it: the two are in
 * doubt, since either may be the one changed.  Records found missing put
 * the records on both sides of the gap in doubt; a bad signed head, the
 * last record.  Both are 0 when the trail verifies or cannot be read.
 *
 * Returns: %TRUE if the trail is intact
 */
gboolean
tke_audit_trail_verify_full (TkeAuditTrail *self,
                             guint *n_records,
                             gint64 *first_damaged,
                             gint64 *last_damaged,
                             GError **error)
{
  g_auto (GStrv) lines = NULL;
  TkeAuditDamage damage = { 0, 0 };
  gboolean ok;
  int fd;

  g_return_val_if_fail (TKE_IS_AUDIT_TRAIL (self), FALSE);

  /* A writer holds the lock from its record to its head: a reader that
   * waits for it never sees a record the head does not sign yet. */
  fd = open (self->path, O_RDONLY | O_CLOEXEC);
  while (fd >= 0 && flock (fd, LOCK_SH) != 0 && errno == EINTR)
    ;
  lines = _tke_audit_trail_read_lines (self, error);
  ok = lines != NULL && _tke_audit_check_chain ((const char *const *) lines, TKE_AUDIT_GENESIS_HASH,
                                                1, &damage, error);
  if (ok && !check_head (self, (const char *const *) lines, g_strv_length (lines), error))
    {
      /* The head signs the last record: it is the one in doubt. */
      damage.first = damage.last = g_strv_length (lines);
      ok = FALSE;
    }
  if (fd >= 0)
    close (fd);
  if (first_damaged != NULL)
    *first_damaged = MAX (damage.first, 0);
  if (last_damaged != NULL)
    *last_damaged = MAX (damage.last, 0);
  if (!ok)
    return FALSE;
  if (n_records != NULL)
    *n_records = g_strv_length (lines);
  return TRUE;
}
