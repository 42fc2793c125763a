/* test-journal.c: tests of src/libtke/tke-journal.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <glib/gstdio.h>
#include <tke.h>

#include "tke-journal-private.h"

#define OLD_VP "1111111111111111111111111111111111111111111111111111111111111111"
#define NEW_VP "2222222222222222222222222222222222222222222222222222222222222222"

typedef struct
{
  char *dir;
  char *path;
  GPtrArray *units;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("tke-journal-XXXXXX", NULL);
  /* A directory that does not exist yet: the journal makes it. */
  f->path = g_build_filename (f->dir, "state", "tke", "journal", NULL);
  f->units = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 1; i <= 3; i++)
    g_ptr_array_add (f->units,
                     tke_crypto_unit_new ("inst", "hsm", i, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL,
                                          "[us-south].[AZ1-CS1].[01].[01]"));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *d1 = g_path_get_dirname (f->path);
  g_autofree char *d2 = g_path_get_dirname (d1);

  g_unlink (f->path);
  g_rmdir (d1);
  g_rmdir (d2);
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->path);
  g_ptr_array_unref (f->units);
}

static void
test_default_path (void)
{
  g_autofree char *path = tke_journal_get_default_path ();
  g_autofree char *expected = g_build_filename (g_get_user_state_dir (), "tke", "journal", NULL);

  g_assert_cmpstr (path, ==, expected);
}

static void
test_complete_ceremony (Fixture *f, gconstpointer data)
{
  g_autoptr (TkeJournal) journal = tke_journal_new (f->path);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (TkeJournalRecord) interrupted = NULL;
  GStatBuf st;

  g_assert_null (tke_journal_find_interrupted (journal, &error));
  g_assert_no_error (error);
  g_assert_true (tke_journal_begin (journal, "rotate", "inst", f->units, OLD_VP, NEW_VP, &error));
  g_assert_no_error (error);
  g_assert_true (tke_journal_append (journal, TKE_JOURNAL_STEP_ROTATE, TKE_JOURNAL_OUTCOME_BEGIN,
                                     "start", &error));
  g_assert_true (
      tke_journal_append (journal, TKE_JOURNAL_STEP_ROTATE, TKE_JOURNAL_OUTCOME_OK, NULL, &error));
  g_assert_true (tke_journal_end (journal, TKE_JOURNAL_OUTCOME_OK, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  records = tke_journal_read (journal, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 4);
  {
    TkeJournalRecord *r = records->pdata[1];

    g_assert_cmpstr (r->step, ==, "rotate");
    g_assert_cmpstr (r->outcome, ==, "begin");
    g_assert_cmpstr (r->detail, ==, "start");
    g_assert_cmpstr (r->instance, ==, "inst");
    g_assert_cmpstr (r->from_vp, ==, OLD_VP);
    g_assert_cmpstr (r->to_vp, ==, NEW_VP);
    g_assert_cmpuint (g_strv_length (r->units), ==, 3);
    g_assert_cmpstr (r->units[2], ==, "3");
    g_assert_cmpint (r->time, >, 0);
    g_assert_cmpstr (r->ceremony, ==, ((TkeJournalRecord *) records->pdata[3])->ceremony);
  }
  interrupted = tke_journal_find_interrupted (journal, &error);
  g_assert_no_error (error);
  g_assert_null (interrupted);
}

static void
test_interrupted (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeJournalRecord) last = NULL;

  {
    /* The process "dies" after announcing set immediate. */
    g_autoptr (TkeJournal) journal = tke_journal_new (f->path);

    g_assert_true (tke_journal_begin (journal, "rotate", "inst", f->units, OLD_VP, NEW_VP, NULL));
    g_assert_true (
        tke_journal_append (journal, TKE_JOURNAL_STEP_REWRAP, TKE_JOURNAL_OUTCOME_OK, NULL, NULL));
    g_assert_true (tke_journal_append (journal, TKE_JOURNAL_STEP_SET_IMMEDIATE,
                                       TKE_JOURNAL_OUTCOME_BEGIN, "1,2,3", NULL));
  }
  {
    g_autoptr (TkeJournal) reader = tke_journal_new (f->path);

    last = tke_journal_find_interrupted (reader, &error);
    g_assert_no_error (error);
    g_assert_nonnull (last);
    g_assert_cmpstr (last->kind, ==, "rotate");
    g_assert_cmpstr (last->step, ==, TKE_JOURNAL_STEP_SET_IMMEDIATE);
    g_assert_cmpstr (last->outcome, ==, TKE_JOURNAL_OUTCOME_BEGIN);
    g_assert_cmpstr (last->to_vp, ==, NEW_VP);
  }
  {
    /* A later ceremony that ends closes the question. */
    g_autoptr (TkeJournal) journal = tke_journal_new (f->path);
    g_autoptr (TkeJournalRecord) none = NULL;

    g_assert_true (tke_journal_begin (journal, "recover", "inst", f->units, OLD_VP, NEW_VP, NULL));
    g_assert_true (tke_journal_end (journal, TKE_JOURNAL_OUTCOME_OK, NULL, NULL));
    none = tke_journal_find_interrupted (journal, &error);
    g_assert_null (none);
  }
}

static void
test_torn_write (Fixture *f, gconstpointer data)
{
  g_autoptr (TkeJournal) journal = tke_journal_new (f->path);
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeJournalRecord) last = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autofree char *text = NULL;
  gsize size;

  g_assert_true (tke_journal_begin (journal, "rotate", "inst", f->units, OLD_VP, NEW_VP, NULL));
  g_assert_true (
      tke_journal_append (journal, TKE_JOURNAL_STEP_ROTATE, TKE_JOURNAL_OUTCOME_BEGIN, NULL, NULL));
  g_assert_true (
      tke_journal_append (journal, TKE_JOURNAL_STEP_REWRAP, TKE_JOURNAL_OUTCOME_BEGIN, NULL, NULL));
  /* Cut the last record in the middle, as a crash during write() would. */
  g_assert_true (g_file_get_contents (f->path, &text, &size, NULL));
  g_assert_true (g_file_set_contents (f->path, text, (gssize) size - 40, NULL));

  last = tke_journal_find_interrupted (journal, &error);
  g_assert_no_error (error);
  g_assert_nonnull (last);
  g_assert_cmpstr (last->step, ==, TKE_JOURNAL_STEP_ROTATE);

  /* The next record starts a line of its own and is read back whole. */
  g_assert_true (
      tke_journal_append (journal, TKE_JOURNAL_STEP_REWRAP, TKE_JOURNAL_OUTCOME_OK, NULL, &error));
  g_assert_no_error (error);
  records = tke_journal_read (journal, &error);
  g_assert_cmpuint (records->len, ==, 3);
  g_assert_cmpstr (((TkeJournalRecord *) records->pdata[2])->outcome, ==, "ok");

  /* Garbage in the middle does not hide the records after it. */
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (f->path, &text, &size, NULL));
  {
    g_autofree char *bad = g_strconcat ("{\"ceremony\": 3, broken\n\x01\x02\n", text, NULL);

    g_assert_true (g_file_set_contents (f->path, bad, -1, NULL));
  }
  g_clear_pointer (&records, g_ptr_array_unref);
  records = tke_journal_read (journal, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 3);
}

static void
test_unwritable (Fixture *f, gconstpointer data)
{
  g_autofree char *blocker = g_build_filename (f->dir, "state", NULL);
  g_autoptr (TkeJournal) journal = tke_journal_new (f->path);
  g_autoptr (GError) error = NULL;

  /* A file where the directory should be. */
  g_assert_true (g_file_set_contents (blocker, "x", 1, NULL));
  g_assert_false (tke_journal_begin (journal, "rotate", "inst", f->units, OLD_VP, NEW_VP, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_IO);
  g_unlink (blocker);
}

/* Issue 19: "units": [null, "x"] leaked "x" (and read as no units), and
 * "units": "x" or "time": [] raised json-glib criticals (fatal here).
 * Such lines were not written by us: they are skipped like torn ones. */
static void
test_hostile_lines (Fixture *f, gconstpointer data)
{
  static const char *const lines[] = {
    "{\"ceremony\": \"c1\", \"step\": \"s\", \"outcome\": \"ok\", \"units\": [null, \"x\"]}",
    "{\"ceremony\": \"c2\", \"step\": \"s\", \"outcome\": \"ok\", \"units\": \"x\"}",
    "{\"ceremony\": \"c3\", \"step\": \"s\", \"outcome\": \"ok\", \"units\": [1, {}]}",
    "{\"ceremony\": [], \"step\": {}, \"outcome\": 1, \"time\": []}",
    "{\"ceremony\":\"c4\",\"step\":\"s\",\"outcome\":\"ok\",\"time\":[],\"units\":[\"2\"]}",
  };
  g_autofree char *deep = g_strnfill (100000, '[');
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (TkeJournal) journal = tke_journal_new (f->path);
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GError) error = NULL;
  TkeJournalRecord *record;

  for (gsize i = 0; i < G_N_ELEMENTS (lines); i++)
    g_string_append_printf (text, "%s\n", lines[i]);
  g_string_append_printf (text, "%s\n", deep);
  g_assert_true (tke_journal_begin (journal, "rotate", "inst", f->units, OLD_VP, NEW_VP, NULL));
  {
    g_autofree char *written = NULL;

    g_assert_true (g_file_get_contents (f->path, &written, NULL, NULL));
    g_string_append (text, written);
  }
  g_assert_true (g_file_set_contents (f->path, text->str, (gssize) text->len, NULL));

  records = tke_journal_read (journal, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 2);
  record = records->pdata[0];
  g_assert_cmpstr (record->ceremony, ==, "c4");
  g_assert_cmpint (record->time, ==, 0);
  g_assert_cmpuint (g_strv_length (record->units), ==, 1);
  record = records->pdata[1];
  g_assert_cmpuint (g_strv_length (record->units), ==, 3);

  /* The parser on bytes, for the fuzz target: not NUL-terminated. */
  g_clear_pointer (&records, g_ptr_array_unref);
  records = _tke_journal_parse_bytes (text->str, strlen (lines[0]) - 1);
  g_assert_cmpuint (records->len, ==, 0);
  g_clear_pointer (&records, g_ptr_array_unref);
  records = _tke_journal_parse_bytes (NULL, 0);
  g_assert_cmpuint (records->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/journal/default-path", test_default_path);
  g_test_add ("/journal/complete", Fixture, NULL, setup, test_complete_ceremony, teardown);
  g_test_add ("/journal/interrupted", Fixture, NULL, setup, test_interrupted, teardown);
  g_test_add ("/journal/torn-write", Fixture, NULL, setup, test_torn_write, teardown);
  g_test_add ("/journal/unwritable", Fixture, NULL, setup, test_unwritable, teardown);
  g_test_add ("/journal/hostile-lines", Fixture, NULL, setup, test_hostile_lines, teardown);
  return g_test_run ();
}
