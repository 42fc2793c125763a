/* tke-journal.c: the ceremony journal, written before every step
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A workstation can crash in the middle of a rotation.  So before each
 * step libtke appends one JSON line (ceremony, step, instance, units, VPs,
 * time, outcome) and fsyncs the file and its directory: after a restart
 * the last lines say which ceremony was interrupted and in which step, and
 * the recovery advisor says what to do.  A crash during a write leaves a
 * torn last line; reading skips it and the next append starts a new line.
 * The journal holds no secrets: VPs are hashes of keys, not keys.
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "tke-crypto-unit.h"
#include "tke-error.h"
#include "tke-journal-private.h"
#include "tke-journal.h"
#include "tke-json-private.h"

/**
 * TkeJournal:
 *
 * The ceremony journal, written before every step of a ceremony.
 *
 * A workstation can crash in the middle of a rotation, so before each step
 * libtke appends one JSON line (ceremony, step, instance, units, VPs, time,
 * outcome) and syncs the file and its directory to disk: after a restart
 * tke_journal_find_interrupted() says which ceremony was interrupted and in
 * which step. The journal holds no secrets: verification patterns are hashes
 * of keys, not keys.
 */
struct _TkeJournal
{
  GObject parent_instance;

  char *path;
  TkeJournalRecord *current; /* the ceremony begun, its step fields unused */
};

G_DEFINE_FINAL_TYPE (TkeJournal, tke_journal, G_TYPE_OBJECT)

/**
 * tke_journal_record_copy:
 * @record: a journal record
 *
 * Copies a record.
 *
 * Returns: (transfer full): a copy of @record
 */
TkeJournalRecord *
tke_journal_record_copy (const TkeJournalRecord *record)
{
  TkeJournalRecord *copy = g_new0 (TkeJournalRecord, 1);

  copy->ceremony = g_strdup (record->ceremony);
  copy->kind = g_strdup (record->kind);
  copy->step = g_strdup (record->step);
  copy->outcome = g_strdup (record->outcome);
  copy->instance = g_strdup (record->instance);
  copy->units = g_strdupv (record->units);
  copy->from_vp = g_strdup (record->from_vp);
  copy->to_vp = g_strdup (record->to_vp);
  copy->detail = g_strdup (record->detail);
  copy->time = record->time;
  return copy;
}

/**
 * tke_journal_record_free:
 * @record: (transfer full) (nullable): a journal record
 *
 * Frees a record and its strings.
 */
void
tke_journal_record_free (TkeJournalRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->ceremony);
  g_free (record->kind);
  g_free (record->step);
  g_free (record->outcome);
  g_free (record->instance);
  g_strfreev (record->units);
  g_free (record->from_vp);
  g_free (record->to_vp);
  g_free (record->detail);
  g_free (record);
}

G_DEFINE_BOXED_TYPE (TkeJournalRecord,
                     tke_journal_record,
                     tke_journal_record_copy,
                     tke_journal_record_free)

static void
tke_journal_finalize (GObject *object)
{
  TkeJournal *self = TKE_JOURNAL (object);

  g_free (self->path);
  tke_journal_record_free (self->current);
  G_OBJECT_CLASS (tke_journal_parent_class)->finalize (object);
}

static void
tke_journal_class_init (TkeJournalClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tke_journal_finalize;
}

static void
tke_journal_init (TkeJournal *self)
{
}

/**
 * tke_journal_get_default_path:
 *
 * The journal file of this user.
 *
 * Returns: (transfer full): `$XDG_STATE_HOME/tke/journal`
 */
char *
tke_journal_get_default_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "tke", "journal", NULL);
}

/**
 * tke_journal_new:
 * @path: (nullable): the journal file; %NULL for the default
 *
 * Opens the journal at @path; nothing is read or written until a record is.
 *
 * Returns: (transfer full): a journal (the file is made on the first append)
 */
TkeJournal *
tke_journal_new (const char *path)
{
  TkeJournal *self = g_object_new (TKE_TYPE_JOURNAL, NULL);

  self->path = path != NULL ? g_strdup (path) : tke_journal_get_default_path ();
  return self;
}

/**
 * tke_journal_get_path:
 * @self: the journal
 *
 * The file the journal is written to.
 *
 * Returns: (transfer none): its path
 */
const char *
tke_journal_get_path (TkeJournal *self)
{
  g_return_val_if_fail (TKE_IS_JOURNAL (self), NULL);
  return self->path;
}

static char *
record_to_line (const TkeJournalRecord *record)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *json = NULL;

  json_builder_begin_object (builder);
#define MEMBER(name, value)                                                                        \
  json_builder_set_member_name (builder, name);                                                    \
  if ((value) != NULL)                                                                             \
    json_builder_add_string_value (builder, value);                                                \
  else                                                                                             \
    json_builder_add_null_value (builder);
  MEMBER ("ceremony", record->ceremony);
  MEMBER ("kind", record->kind);
  MEMBER ("step", record->step);
  MEMBER ("outcome", record->outcome);
  MEMBER ("instance", record->instance);
  MEMBER ("from_mkvp", record->from_vp);
  MEMBER ("to_mkvp", record->to_vp);
  MEMBER ("detail", record->detail);
#undef MEMBER
  json_builder_set_member_name (builder, "units");
  json_builder_begin_array (builder);
  for (guint i = 0; record->units != NULL && record->units[i] != NULL; i++)
    json_builder_add_string_value (builder, record->units[i]);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "time");
  json_builder_add_int_value (builder, record->time);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json = json_generator_to_data (generator, NULL);
  return g_strconcat (json, "\n", NULL);
}

static gboolean
io_error (GError **error, const char *path, int saved_errno)
{
  g_set_error (error, TKE_ERROR, TKE_ERROR_IO,
               _ ("The ceremony journal “%s” cannot be written: %s"), path,
               g_strerror (saved_errno));
  return FALSE;
}

static gboolean
write_all (int fd, const char *data, gsize size)
{
  while (size > 0)
    {
      ssize_t n = write (fd, data, size);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      size -= (gsize) n;
    }
  return TRUE;
}

/* The record reaches the disk, and so does the file's directory entry,
 * before the step it announces is taken. */
static gboolean
append_line (TkeJournal *self, const char *line, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (self->path);
  int fd, dir_fd;
  off_t end;
  char last = '\n';

  if (g_mkdir_with_parents (dir, 0700) != 0)
    return io_error (error, self->path, errno);
  fd = open (self->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return io_error (error, self->path, errno);
  /* A torn last line (a crash mid-write) must not swallow this record. */
  end = lseek (fd, 0, SEEK_END);
  if (end > 0 && pread (fd, &last, 1, end - 1) != 1)
    last = '\n';
  if ((last != '\n' && !write_all (fd, "\n", 1)) || !write_all (fd, line, strlen (line)) ||
      fsync (fd) != 0)
    {
      int saved = errno;

      close (fd);
      return io_error (error, self->path, saved);
    }
  close (fd);
  dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || fsync (dir_fd) != 0)
    {
      int saved = errno;

      if (dir_fd >= 0)
        close (dir_fd);
      return io_error (error, self->path, saved);
    }
  close (dir_fd);
  return TRUE;
}

static gboolean
write_record (
    TkeJournal *self, const char *step, const char *outcome, const char *detail, GError **error)
{
  TkeJournalRecord record = *self->current;
  g_autofree char *line = NULL;

  record.step = (char *) step;
  record.outcome = (char *) outcome;
  record.detail = (char *) detail;
  record.time = g_get_real_time ();
  line = record_to_line (&record);
  return append_line (self, line, error);
}

/**
 * tke_journal_begin:
 * @self: the journal
 * @kind: what the ceremony does, e.g. "rotate"
 * @instance: the service instance
 * @units: (element-type TkeCryptoUnit): the units it works on
 * @from_vp: (nullable): the current master key's VP
 * @to_vp: (nullable): the new master key's VP
 * @error: an I/O error
 *
 * Starts a ceremony and writes its first record.
 *
 * Returns: %TRUE when the record is on disk
 */
gboolean
tke_journal_begin (TkeJournal *self,
                   const char *kind,
                   const char *instance,
                   GPtrArray *units,
                   const char *from_vp,
                   const char *to_vp,
                   GError **error)
{
  TkeJournalRecord *current = g_new0 (TkeJournalRecord, 1);

  g_return_val_if_fail (TKE_IS_JOURNAL (self), FALSE);

  current->ceremony = g_uuid_string_random ();
  current->kind = g_strdup (kind);
  current->instance = g_strdup (instance);
  current->units = g_new0 (char *, units->len + 1);
  for (guint i = 0; i < units->len; i++)
    current->units[i] = g_strdup_printf ("%u", tke_crypto_unit_get_number (units->pdata[i]));
  current->from_vp = g_strdup (from_vp);
  current->to_vp = g_strdup (to_vp);
  tke_journal_record_free (self->current);
  self->current = current;
  return write_record (self, TKE_JOURNAL_STEP_CEREMONY, TKE_JOURNAL_OUTCOME_BEGIN, NULL, error);
}

/**
 * tke_journal_append:
 * @self: the journal
 * @step: the step
 * @outcome: %TKE_JOURNAL_OUTCOME_BEGIN before the step, then its outcome
 * @detail: (nullable): an error message or a note
 * @error: an I/O error
 *
 * Appends a record of one step of the open ceremony, and syncs it to disk
 * before the step is taken.
 *
 * Returns: %TRUE when the record is on disk
 */
gboolean
tke_journal_append (
    TkeJournal *self, const char *step, const char *outcome, const char *detail, GError **error)
{
  g_return_val_if_fail (TKE_IS_JOURNAL (self), FALSE);
  g_return_val_if_fail (self->current != NULL, FALSE);

  return write_record (self, step, outcome, detail, error);
}

/**
 * tke_journal_end:
 * @self: the journal
 * @outcome: how the ceremony ended
 * @detail: (nullable): an error message or a note
 * @error: an I/O error
 *
 * Closes the open ceremony with its outcome.
 *
 * Returns: %TRUE when the record is on disk
 */
gboolean
tke_journal_end (TkeJournal *self, const char *outcome, const char *detail, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (TKE_IS_JOURNAL (self), FALSE);
  if (self->current == NULL)
    return TRUE;
  ok = write_record (self, TKE_JOURNAL_STEP_END, outcome, detail, error);
  g_clear_pointer (&self->current, tke_journal_record_free);
  return ok;
}

static char *
dup_member (JsonObject *object, const char *name)
{
  return g_strdup (_tke_json_get_string (object, name));
}

/* Every element a string, or NULL: a line with anything else in "units"
 * was not written by us and is skipped like a torn one. */
static char **
dup_units (JsonObject *object)
{
  JsonNode *node = json_object_get_member (object, "units");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *units;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_strv_builder_end (builder);
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  units = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (units); i++)
    {
      JsonNode *element = json_array_get_element (units, i);

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
        return NULL;
      g_strv_builder_add (builder, json_node_get_string (element));
    }
  return g_strv_builder_end (builder);
}

static TkeJournalRecord *
parse_line (const char *line, gsize length)
{
  g_autoptr (JsonNode) root = _tke_json_parse_bytes (line, length, NULL);
  g_autoptr (TkeJournalRecord) record = NULL;
  JsonObject *object;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  object = json_node_get_object (root);
  record = g_new0 (TkeJournalRecord, 1);
  record->ceremony = dup_member (object, "ceremony");
  record->kind = dup_member (object, "kind");
  record->step = dup_member (object, "step");
  record->outcome = dup_member (object, "outcome");
  record->instance = dup_member (object, "instance");
  record->from_vp = dup_member (object, "from_mkvp");
  record->to_vp = dup_member (object, "to_mkvp");
  record->detail = dup_member (object, "detail");
  record->time = _tke_json_get_int (object, "time", 0);
  record->units = dup_units (object);
  if (record->ceremony == NULL || record->step == NULL || record->outcome == NULL ||
      record->units == NULL)
    return NULL;
  return g_steal_pointer (&record);
}

GPtrArray *
_tke_journal_parse_bytes (const char *data, gsize length)
{
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_journal_record_free);
  const char *end = data + length;

  g_return_val_if_fail (data != NULL || length == 0, records);

  while (data != NULL && data < end)
    {
      const char *newline = memchr (data, '\n', end - data);
      const char *line_end = newline != NULL ? newline : end;
      TkeJournalRecord *record = line_end > data ? parse_line (data, line_end - data) : NULL;

      if (record != NULL)
        g_ptr_array_add (records, record);
      data = line_end + 1;
    }
  return records;
}

/**
 * tke_journal_read:
 * @self: the journal
 * @error: an I/O error (a missing journal is not one)
 *
 * Reads every record of the journal.
 *
 * Lines that cannot be read (a torn last write) are skipped.
 *
 * Returns: (transfer full) (element-type TkeJournalRecord): every record, oldest first
 */
GPtrArray *
tke_journal_read (TkeJournal *self, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *text = NULL;
  gsize length = 0;

  g_return_val_if_fail (TKE_IS_JOURNAL (self), NULL);

  if (!g_file_get_contents (self->path, &text, &length, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_ptr_array_new_with_free_func ((GDestroyNotify) tke_journal_record_free);
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The ceremony journal cannot be read: %s"),
                   local_error->message);
      return NULL;
    }
  return _tke_journal_parse_bytes (text, length);
}

/**
 * tke_journal_find_interrupted:
 * @self: the journal
 * @error: an I/O error
 *
 * Finds a ceremony that began but never ended, for example because the
 * workstation crashed during a rotation.
 *
 * Returns: (transfer full) (nullable): the last record of the most recent
 *   ceremony if it never ended (the step it was in), else %NULL
 */
TkeJournalRecord *
tke_journal_find_interrupted (TkeJournal *self, GError **error)
{
  g_autoptr (GPtrArray) records = tke_journal_read (self, error);
  TkeJournalRecord *last;

  if (records == NULL || records->len == 0)
    return NULL;
  last = records->pdata[records->len - 1];
  if (g_strcmp0 (last->step, TKE_JOURNAL_STEP_END) == 0)
    return NULL;
  /* Only that ceremony's records count, not an older one's. */
  return tke_journal_record_copy (last);
}
