/* fuzz-journal.c: tke_journal_read on any journal file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The journal is what a crash left behind: torn lines, garbage, a hand
 * edit.  Oracles: every record read has its ceremony, step and outcome; a
 * ceremony begun and ended after that content is read back whole as the
 * last two records, and what was there before reads the same (a torn last
 * line must not swallow the next record); find_interrupted then says the
 * last ceremony ended.
 */

#include <string.h>

#include <glib/gstdio.h>
#include <tke.h>

#include "fuzz-common.h"

static void
check_records (GPtrArray *records)
{
  for (guint i = 0; i < records->len; i++)
    {
      TkeJournalRecord *r = records->pdata[i];

      if (r->ceremony == NULL || r->step == NULL || r->outcome == NULL || r->units == NULL)
        fuzz_fail ("record %u lacks its ceremony, step, outcome or units", i);
    }
}

static gboolean
same_record (const TkeJournalRecord *a, const TkeJournalRecord *b)
{
  return g_strcmp0 (a->ceremony, b->ceremony) == 0 && g_strcmp0 (a->step, b->step) == 0 &&
         g_strcmp0 (a->outcome, b->outcome) == 0 && g_strcmp0 (a->detail, b->detail) == 0 &&
         a->time == b->time;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *path = NULL;
  g_autoptr (TkeJournal) journal = NULL;
  g_autoptr (GPtrArray) before = NULL;
  g_autoptr (GPtrArray) after = NULL;
  g_autoptr (GPtrArray) units = g_ptr_array_new ();
  g_autoptr (TkeJournalRecord) interrupted = NULL;
  g_autoptr (GError) error = NULL;
  TkeJournalRecord *begin, *end;

  fuzz_init ();
  path = fuzz_write_file ("journal.jsonl", data, size);
  journal = tke_journal_new (path);
  before = tke_journal_read (journal, &error);
  if (before == NULL)
    fuzz_fail ("a journal that exists cannot be read: %s", error->message);
  check_records (before);
  g_clear_pointer (&interrupted, tke_journal_record_free);
  interrupted = tke_journal_find_interrupted (journal, &error);
  g_assert_no_error (error);
  g_clear_pointer (&interrupted, tke_journal_record_free);

  if (!tke_journal_begin (journal, "rotate", "fuzz-instance", units, NULL, NULL, &error) ||
      !tke_journal_end (journal, TKE_JOURNAL_OUTCOME_OK, "fuzz", &error))
    fuzz_fail ("cannot append to the journal: %s", error->message);
  after = tke_journal_read (journal, &error);
  if (after == NULL)
    fuzz_fail ("the journal cannot be read back: %s", error->message);
  check_records (after);
  if (after->len != before->len + 2)
    fuzz_fail ("%u records before, %u after appending two", before->len, after->len);
  for (guint i = 0; i < before->len; i++)
    if (!same_record (before->pdata[i], after->pdata[i]))
      fuzz_fail ("record %u changed when two were appended", i);
  begin = after->pdata[after->len - 2];
  end = after->pdata[after->len - 1];
  if (g_strcmp0 (begin->step, TKE_JOURNAL_STEP_CEREMONY) != 0 ||
      g_strcmp0 (begin->outcome, TKE_JOURNAL_OUTCOME_BEGIN) != 0 ||
      g_strcmp0 (end->step, TKE_JOURNAL_STEP_END) != 0 ||
      g_strcmp0 (begin->ceremony, end->ceremony) != 0)
    fuzz_fail ("the appended ceremony does not read back");
  interrupted = tke_journal_find_interrupted (journal, &error);
  g_assert_no_error (error);
  if (interrupted != NULL)
    fuzz_fail ("a ceremony that ended is reported interrupted");
  return 0;
}
