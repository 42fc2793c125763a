/* test-audit-trail.c: the ceremony record on disk
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Records chain and verify; writers in parallel (two trail objects, as
 * the GUI and the CLI at once) never name the same record before them; a
 * changed, dropped or cut-off record, a head signed by another key, and a
 * record torn by a crash are each found, and a torn record is set aside
 * with a note, never lost.
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <tke.h>

#include "tke-test-util.h"

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
set_up (Fixture *f, gconstpointer data)
{
  g_autofree char *keyring = NULL;

  f->dir = g_dir_make_tmp ("tke-audit-XXXXXX", NULL);
  f->path = g_build_filename (f->dir, "audit", "trail.jsonl", NULL);
  keyring = g_build_filename (f->dir, "keyring", NULL);
  g_setenv ("SECRET_BACKEND", "file", TRUE);
  g_setenv ("SECRET_FILE_TEST_PATH", keyring, TRUE);
  g_setenv ("SECRET_FILE_TEST_PASSWORD", "test", TRUE);
}

static void
tear_down (Fixture *f, gconstpointer data)
{
  tke_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

static void
append (TkeAuditTrail *trail, const char *ceremony, const char *step)
{
  g_autoptr (TkeAuditEntry) entry = tke_audit_entry_new (ceremony, "commit", step, "ok");
  g_autoptr (GError) error = NULL;

  tke_audit_entry_add_key_part (entry, 1, 2, "part A", "check value A");
  g_assert_true (tke_audit_trail_append (trail, entry, &error));
  g_assert_no_error (error);
}

static void
assert_verifies (const char *path, guint expected)
{
  g_autoptr (TkeAuditTrail) trail = tke_audit_trail_new (path);
  g_autoptr (GError) error = NULL;
  guint n = 0;

  g_assert_true (tke_audit_trail_verify (trail, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, expected);
}

/* Refused with @expected in the message, and records @first to @last (by
 * sequence number) said to be in doubt. */
static void
assert_refused_in (const char *path, const char *expected, gint64 first, gint64 last)
{
  g_autoptr (TkeAuditTrail) trail = tke_audit_trail_new (path);
  g_autoptr (GError) error = NULL;
  gint64 first_damaged = -1, last_damaged = -1;

  g_assert_false (tke_audit_trail_verify_full (trail, NULL, &first_damaged, &last_damaged, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_RECORD_TAMPERED);
  g_test_message ("refused: %s (records %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " in doubt)",
                  error->message, first_damaged, last_damaged);
  if (strstr (error->message, expected) == NULL)
    g_error ("expected “%s” in “%s”", expected, error->message);
  if (first > 0)
    {
      g_assert_cmpint (first_damaged, ==, first);
      g_assert_cmpint (last_damaged, ==, last);
    }
}

static void
assert_refused (const char *path, const char *expected)
{
  assert_refused_in (path, expected, 0, 0);
}

static char *
read_file (const char *path)
{
  char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  return contents;
}

static void
write_file (const char *path, const char *contents)
{
  g_assert_true (
      g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
}

static void
test_chain (Fixture *f, gconstpointer data)
{
  g_autoptr (TkeAuditTrail) trail = tke_audit_trail_new (f->path);
  g_autofree char *id = tke_audit_trail_new_ceremony_id ();

  for (guint i = 0; i < 5; i++)
    append (trail, id, "step");
  assert_verifies (f->path, 5);
  /* A second object (a restart) goes on from the tail. */
  {
    g_autoptr (TkeAuditTrail) again = tke_audit_trail_new (f->path);

    append (again, id, "end");
  }
  assert_verifies (f->path, 6);
}

typedef struct
{
  const char *path;
  guint n;
} Writer;

static gpointer
write_records (gpointer data)
{
  Writer *w = data;
  g_autoptr (TkeAuditTrail) trail = tke_audit_trail_new (w->path);
  g_autofree char *id = tke_audit_trail_new_ceremony_id ();

  for (guint i = 0; i < w->n; i++)
    append (trail, id, "step");
  return NULL;
}

/* The GUI and the CLI at once: each writer its own object and file
 * descriptor, as two processes have; the lock keeps the chain whole. */
static void
test_writers_in_parallel (Fixture *f, gconstpointer data)
{
  Writer w = { f->path, 30 };
  GThread *a, *b;

  /* The workstation key exists before the race, as after a first record. */
  {
    g_autoptr (TkeAuditTrail) trail = tke_audit_trail_new (f->path);

    append (trail, "first", "begin");
  }
  a = g_thread_new ("writer-a", write_records, &w);
  b = g_thread_new ("writer-b", write_records, &w);
  g_thread_join (a);
  g_thread_join (b);
  assert_verifies (f->path, 61);
}

static void
test_tampering (Fixture *f, gconstpointer data)
{
  g_autoptr (TkeAuditTrail) trail = tke_audit_trail_new (f->path);
  g_autofree char *original = NULL;
  g_auto (GStrv) lines = NULL;

  for (guint i = 0; i < 4; i++)
    append (trail, "c", "step");
  original = read_file (f->path);
  lines = g_strsplit (original, "\n", -1);

  /* A changed byte in record 2: record 3 no longer chains to it. */
  {
    g_autofree char *changed = g_strdup (original);
    char *at = strstr (strstr (changed, "\"seq\":2"), "check value A");

    at[strlen ("check value ")] = 'B';
    write_file (f->path, changed);
    assert_refused_in (f->path, "Record 3", 2, 3);
  }
  /* Record 2 dropped. */
  {
    g_autofree char *dropped = g_strjoin ("\n", lines[0], lines[2], lines[3], "", NULL);

    write_file (f->path, dropped);
    assert_refused_in (f->path, "Record 3 (line 2): the records before it are missing", 1, 3);
  }
  /* The last record cut off: the signed head names one more. */
  {
    g_autofree char *cut = g_strjoin ("\n", lines[0], lines[1], lines[2], "", NULL);

    write_file (f->path, cut);
    assert_refused_in (f->path, "records at the end of the record were removed", 3, 3);
  }
  /* Record 3 moved before record 2. */
  {
    g_autofree char *swapped = g_strjoin ("\n", lines[0], lines[2], lines[1], lines[3], "", NULL);

    write_file (f->path, swapped);
    assert_refused_in (f->path, "Record 3 (line 2): the records before it are missing", 1, 3);
  }
  write_file (f->path, original);
  assert_verifies (f->path, 4);
}

/* A head signed, validly, by a key that is not this workstation's: what
 * someone who rewrote the trail would make with a key of their own. */
static void
test_head_by_another_key (Fixture *f, gconstpointer data)
{
  g_autoptr (TkeAuditTrail) trail = tke_audit_trail_new (f->path);
  g_autofree char *head_path = g_strconcat (f->path, ".head", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *last_hash = NULL;
  g_autofree char *bytes = NULL;
  g_autofree char *signature_base64 = NULL;
  g_autofree char *public_hex = NULL;
  g_autofree char *head = NULL;
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (NULL);
  g_autoptr (GBytes) point = tke_crypto_ec_public_point (key, NULL);
  g_autoptr (GBytes) signature = NULL;
  g_auto (GStrv) lines = NULL;
  GChecksum *sha = g_checksum_new (G_CHECKSUM_SHA256);

  append (trail, "c", "step");
  contents = read_file (f->path);
  lines = g_strsplit (contents, "\n", 2);
  g_checksum_update (sha, (const guchar *) lines[0], -1);
  last_hash = g_strdup (g_checksum_get_string (sha));
  g_checksum_free (sha);
  bytes = g_strdup_printf ("tke audit head v1\n1\n%s\n", last_hash);
  signature = tke_crypto_sign (key, (const guint8 *) bytes, strlen (bytes), NULL);
  signature_base64 =
      g_base64_encode (g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
  public_hex = tke_crypto_hex_encode (g_bytes_get_data (point, NULL), g_bytes_get_size (point));
  head = g_strdup_printf ("{\"v\":1,\"seq\":1,\"hash\":\"%s\",\"workstation_key\":\"%s\","
                          "\"signature\":\"%s\"}\n",
                          last_hash, public_hex, signature_base64);
  write_file (head_path, head);
  assert_refused (f->path, "signed by another key than this workstation's");
}

/* A crash in the middle of a record: the torn bytes go aside, the next
 * record says so, and the trail verifies. */
static void
test_torn_record (Fixture *f, gconstpointer data)
{
  g_autofree char *contents = NULL;
  g_autofree char *dir = g_path_get_dirname (f->path);
  g_autoptr (GDir) listing = NULL;
  const char *name;
  gboolean aside = FALSE;

  {
    g_autoptr (TkeAuditTrail) trail = tke_audit_trail_new (f->path);

    append (trail, "c", "step");
    append (trail, "c", "step");
  }
  contents = read_file (f->path);
  {
    g_autofree char *torn = g_strconcat (contents, "{\"v\":1,\"seq\":3,\"prev\":\"ab", NULL);

    write_file (f->path, torn);
  }
  {
    g_autoptr (TkeAuditTrail) trail = tke_audit_trail_new (f->path);

    append (trail, "c", "after the crash");
  }
  assert_verifies (f->path, 3);
  g_free (contents);
  contents = read_file (f->path);
  g_assert_nonnull (strstr (contents, "\"trail_deviation\":\"A record torn by a crash"));
  listing = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (listing)) != NULL)
    if (g_str_has_prefix (name, "trail.jsonl.torn-"))
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        g_autofree char *kept = read_file (path);

        g_assert_cmpstr (kept, ==, "{\"v\":1,\"seq\":3,\"prev\":\"ab");
        aside = TRUE;
      }
  g_assert_true (aside);
}

/* A report is read from anyone: hostile files get a clear error. */
static void
test_hostile_reports (Fixture *f, gconstpointer data)
{
  const char *shapes[] = { "",
                           "[]",
                           "{}",
                           "{\"format\":\"tke-ceremony-report\"}",
                           "{\"format\":\"tke-ceremony-report\",\"summary\":\"x\","
                           "\"records\":[1],\"signatures\":[]}",
                           NULL };
  GString *deep = g_string_new ("{\"records\":");

  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  for (guint i = 0; shapes[i] != NULL; i++)
    {
      g_autoptr (GBytes) bytes = g_bytes_new_static (shapes[i], strlen (shapes[i]));
      g_autoptr (GError) error = NULL;

      g_assert_null (tke_ceremony_report_new_from_bytes (bytes, &error));
      g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
    }
  {
    g_autoptr (GBytes) bytes = g_string_free_to_bytes (deep);
    g_autoptr (GError) error = NULL;

    g_assert_null (tke_ceremony_report_new_from_bytes (bytes, &error));
    g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  }
  /* A report whose summary is not a summary reads, but never verifies. */
  {
    static const char text[] = "{\"format\":\"tke-ceremony-report\",\"summary\":\"{}\","
                               "\"records\":[\"{}\"],\"signatures\":[{}]}";
    g_autoptr (GBytes) bytes = g_bytes_new_static (text, strlen (text));
    g_autoptr (GError) error = NULL;
    g_autoptr (TkeCeremonyReport) report = tke_ceremony_report_new_from_bytes (bytes, &error);

    g_assert_no_error (error);
    g_assert_false (tke_ceremony_report_verify (report, NULL, &error));
    g_assert_error (error, TKE_ERROR, TKE_ERROR_RECORD_TAMPERED);
  }
}

typedef struct
{
  GPtrArray *order; /* the callbacks' steps, as they came */
  guint pending;
  GError *last_error;
} Async;

static void
on_appended (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Async *a = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = tke_audit_trail_append_finish (TKE_AUDIT_TRAIL (source), result, &error);

  g_ptr_array_add (a->order, g_strdup (ok ? "ok" : "failed"));
  if (!ok)
    g_propagate_error (&a->last_error, g_steal_pointer (&error));
  a->pending--;
}

static void
append_async (TkeAuditTrail *trail, Async *a, const char *step, GCancellable *cancellable)
{
  g_autoptr (TkeAuditEntry) entry = tke_audit_entry_new ("async", "commit", step, "ok");

  a->pending++;
  tke_audit_trail_append_async (trail, entry, cancellable, on_appended, a);
}

/* The steps of the records on disk, in order. */
static char *
steps_on_disk (const char *path)
{
  g_autofree char *contents = read_file (path);
  g_auto (GStrv) lines = g_strsplit (contents, "\n", -1);
  g_autoptr (GString) steps = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      const char *step = strstr (lines[i], "\"step\":\"");

      g_assert_nonnull (step);
      step += strlen ("\"step\":\"");
      g_string_append_len (steps, step, strchr (step, '"') - step);
      g_string_append_c (steps, ' ');
    }
  return g_string_free (g_steal_pointer (&steps), FALSE);
}

/* The GUI's records are written on the trail's writer thread: in the
 * order asked for, a synchronous one (the CLI's) after every one asked for
 * before it; a cancelled one is not written and the chain goes on; a
 * record that cannot be written says so through its callback. */
static void
test_async_in_order (Fixture *f, gconstpointer data)
{
  g_autoptr (TkeAuditTrail) trail = tke_audit_trail_new (f->path);
  g_autoptr (GCancellable) cancelled = g_cancellable_new ();
  g_autoptr (GString) expected = g_string_new (NULL);
  g_autofree char *on_disk = NULL;
  Async a = { g_ptr_array_new_with_free_func (g_free), 0, NULL };

  g_cancellable_cancel (cancelled);
  for (guint i = 0; i < 12; i++)
    {
      g_autofree char *step = g_strdup_printf ("s%u", i);

      append_async (trail, &a, step, i == 5 ? cancelled : NULL);
      if (i != 5)
        g_string_append_printf (expected, "%s ", step);
      if (i == 7)
        {
          /* Waits for the eight before it, without the main loop. */
          append (trail, "sync", "sync");
          g_string_append (expected, "sync ");
          g_assert_cmpuint (a.pending, ==, 8);
        }
    }
  while (a.pending > 0)
    g_main_context_iteration (NULL, TRUE);
  /* The callbacks come in the order asked for, the cancelled one too. */
  g_assert_cmpuint (a.order->len, ==, 12);
  for (guint i = 0; i < 12; i++)
    g_assert_cmpstr (a.order->pdata[i], ==, i == 5 ? "failed" : "ok");
  g_assert_error (a.last_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&a.last_error);
  on_disk = steps_on_disk (f->path);
  g_assert_cmpstr (on_disk, ==, expected->str);
  assert_verifies (f->path, 12);

  /* A trail that cannot be written: the callback says so. */
  {
    g_autofree char *blocker = g_build_filename (f->dir, "not-a-dir", NULL);
    g_autofree char *bad = g_build_filename (blocker, "trail.jsonl", NULL);
    g_autoptr (TkeAuditTrail) unwritable = tke_audit_trail_new (bad);

    write_file (blocker, "a file\n");
    append_async (unwritable, &a, "lost", NULL);
    while (a.pending > 0)
      g_main_context_iteration (NULL, TRUE);
    g_assert_error (a.last_error, TKE_ERROR, TKE_ERROR_IO);
    g_clear_error (&a.last_error);
  }
  g_ptr_array_unref (a.order);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, set_up, func, tear_down)
  ADD ("/audit-trail/chain", test_chain);
  ADD ("/audit-trail/writers-in-parallel", test_writers_in_parallel);
  ADD ("/audit-trail/tampering", test_tampering);
  ADD ("/audit-trail/head-by-another-key", test_head_by_another_key);
  ADD ("/audit-trail/torn-record", test_torn_record);
  ADD ("/audit-trail/hostile-reports", test_hostile_reports);
  ADD ("/audit-trail/async-in-order", test_async_in_order);
  return g_test_run ();
}
