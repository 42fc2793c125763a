/* tke-journal.h: the ceremony journal, written before every step
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-version-macros.h"

G_BEGIN_DECLS

/* Outcomes of a record: a step about to be taken, and how it ended. */
/**
 * TKE_JOURNAL_OUTCOME_BEGIN:
 *
 * The outcome of a record written before its step is taken.
 */
#define TKE_JOURNAL_OUTCOME_BEGIN "begin"
/**
 * TKE_JOURNAL_OUTCOME_OK:
 *
 * The outcome of a step, or a ceremony, that succeeded.
 */
#define TKE_JOURNAL_OUTCOME_OK "ok"
/**
 * TKE_JOURNAL_OUTCOME_FAILED:
 *
 * The outcome of a step, or a ceremony, that failed.
 */
#define TKE_JOURNAL_OUTCOME_FAILED "failed"
/**
 * TKE_JOURNAL_OUTCOME_CANCELLED:
 *
 * The outcome of a step, or a ceremony, that was cancelled.
 */
#define TKE_JOURNAL_OUTCOME_CANCELLED "cancelled"

/* Steps of a rotation ceremony; "end" closes a ceremony. */
/**
 * TKE_JOURNAL_STEP_CEREMONY:
 *
 * The step of the first record of a ceremony.
 */
#define TKE_JOURNAL_STEP_CEREMONY "ceremony"
/**
 * TKE_JOURNAL_STEP_ROTATE:
 *
 * A rotation's step: asking the service to start (or resume) the rotation.
 */
#define TKE_JOURNAL_STEP_ROTATE "rotate"
/**
 * TKE_JOURNAL_STEP_REWRAP:
 *
 * A rotation's step: the service rewraps its keys under the new master key.
 */
#define TKE_JOURNAL_STEP_REWRAP "rewrap"
/**
 * TKE_JOURNAL_STEP_SET_IMMEDIATE:
 *
 * A rotation's step: set immediate on every unit.
 */
#define TKE_JOURNAL_STEP_SET_IMMEDIATE "set-immediate"
/**
 * TKE_JOURNAL_STEP_END:
 *
 * The step of the record that closes a ceremony.
 */
#define TKE_JOURNAL_STEP_END "end"

/**
 * TkeJournalRecord:
 * @ceremony: the ceremony's id (all records of one ceremony share it)
 * @kind: what the ceremony does ("rotate", "recover", …)
 * @step: the step
 * @outcome: %TKE_JOURNAL_OUTCOME_BEGIN before the step, then how it ended
 * @instance: the service instance
 * @units: (array zero-terminated=1): the crypto unit numbers, as text
 * @from_vp: (nullable): the current master key's VP
 * @to_vp: (nullable): the new master key's VP
 * @detail: (nullable): an error message or a note
 * @time: Unix microseconds of the record
 *
 * One line of the journal.
 */
typedef struct
{
  char *ceremony;
  char *kind;
  char *step;
  char *outcome;
  char *instance;
  char **units;
  char *from_vp;
  char *to_vp;
  char *detail;
  gint64 time;
} TkeJournalRecord;

#define TKE_TYPE_JOURNAL_RECORD (tke_journal_record_get_type ())
TKE_AVAILABLE_IN_ALL
GType tke_journal_record_get_type (void) G_GNUC_CONST;
TKE_AVAILABLE_IN_ALL
TkeJournalRecord *tke_journal_record_copy (const TkeJournalRecord *record);
TKE_AVAILABLE_IN_ALL
void tke_journal_record_free (TkeJournalRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeJournalRecord, tke_journal_record_free)

#define TKE_TYPE_JOURNAL (tke_journal_get_type ())
TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeJournal, tke_journal, TKE, JOURNAL, GObject)

TKE_AVAILABLE_IN_ALL
char *tke_journal_get_default_path (void);
TKE_AVAILABLE_IN_ALL
TkeJournal *tke_journal_new (const char *path);
TKE_AVAILABLE_IN_ALL
const char *tke_journal_get_path (TkeJournal *self);

TKE_AVAILABLE_IN_ALL
gboolean tke_journal_begin (TkeJournal *self,
                            const char *kind,
                            const char *instance,
                            GPtrArray *units,
                            const char *from_vp,
                            const char *to_vp,
                            GError **error);
TKE_AVAILABLE_IN_ALL
gboolean tke_journal_append (
    TkeJournal *self, const char *step, const char *outcome, const char *detail, GError **error);
TKE_AVAILABLE_IN_ALL
gboolean
tke_journal_end (TkeJournal *self, const char *outcome, const char *detail, GError **error);

TKE_AVAILABLE_IN_ALL
GPtrArray *tke_journal_read (TkeJournal *self, GError **error);
TKE_AVAILABLE_IN_ALL
TkeJournalRecord *tke_journal_find_interrupted (TkeJournal *self, GError **error);

G_END_DECLS
