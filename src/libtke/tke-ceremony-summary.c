/* tke-ceremony-summary.c: one past ceremony, as the ceremony record tells it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A history of the ceremonies is read from the trail as written: one
 * summary per ceremony id, with its kind, when it began and ended, the
 * units it touched, how it ended and how many of its records are
 * deviations (a step that failed or was cancelled, a record torn by a
 * crash).  Listing does not verify: tke_audit_trail_verify() says whether
 * the trail can be trusted, and a front end shows both.
 */

#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "tke-audit-trail-private.h"
#include "tke-ceremony-report-private.h"
#include "tke-ceremony-summary.h"
#include "tke-journal.h"
#include "tke-json-private.h"

/**
 * TkeCeremonySummary:
 *
 * One past ceremony of the ceremony record (#TkeAuditTrail): its id,
 * kind, times, units, outcome and deviations.  Made by
 * tke_audit_trail_list_ceremonies(); what it says is only as good as the
 * trail, which tke_audit_trail_verify() checks.
 */
struct _TkeCeremonySummary
{
  GObject parent_instance;

  char *id;
  char *kind;
  GDateTime *started;
  GDateTime *ended;
  char *outcome; /* the "end" record's, or NULL while none is written */
  GArray *units; /* guint unit numbers, in the order first recorded */
  guint n_records;
  guint n_deviations;
  gint64 first_seq;
  gint64 last_seq;
};

G_DEFINE_FINAL_TYPE (TkeCeremonySummary, tke_ceremony_summary, G_TYPE_OBJECT)

static void
tke_ceremony_summary_finalize (GObject *object)
{
  TkeCeremonySummary *self = TKE_CEREMONY_SUMMARY (object);

  g_free (self->id);
  g_free (self->kind);
  g_clear_pointer (&self->started, g_date_time_unref);
  g_clear_pointer (&self->ended, g_date_time_unref);
  g_free (self->outcome);
  g_array_unref (self->units);
  G_OBJECT_CLASS (tke_ceremony_summary_parent_class)->finalize (object);
}

static void
tke_ceremony_summary_class_init (TkeCeremonySummaryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tke_ceremony_summary_finalize;
}

static void
tke_ceremony_summary_init (TkeCeremonySummary *self)
{
  self->units = g_array_new (FALSE, FALSE, sizeof (guint));
}

static void
add_units (TkeCeremonySummary *self, JsonArray *units)
{
  for (guint i = 0; units != NULL && i < json_array_get_length (units); i++)
    {
      JsonNode *node = json_array_get_element (units, i);
      JsonObject *unit = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      guint number = unit != NULL ? (guint) _tke_json_get_int (unit, "number", 0) : 0;
      gboolean known = FALSE;

      for (guint j = 0; j < self->units->len && !known; j++)
        known = g_array_index (self->units, guint, j) == number;
      if (unit != NULL && !known)
        g_array_append_val (self->units, number);
    }
}

static void
add_record (TkeCeremonySummary *self, JsonObject *record)
{
  const char *time = _tke_json_get_string (record, "time");
  g_autoptr (GDateTime) when = time != NULL ? g_date_time_new_from_iso8601 (time, NULL) : NULL;
  gint64 seq = _tke_json_get_int (record, "seq", 0);

  if (self->n_records++ == 0)
    {
      self->kind = g_strdup (_tke_json_get_string (record, "kind") ?: "");
      self->started = when != NULL ? g_date_time_ref (when) : NULL;
      self->first_seq = seq;
    }
  self->last_seq = seq;
  if (when != NULL)
    {
      g_clear_pointer (&self->ended, g_date_time_unref);
      self->ended = g_date_time_ref (when);
    }
  if (g_strcmp0 (_tke_json_get_string (record, "step"), TKE_JOURNAL_STEP_END) == 0)
    {
      g_free (self->outcome);
      self->outcome = g_strdup (_tke_json_get_string (record, "outcome") ?: "");
    }
  if (_tke_audit_record_is_deviation (record))
    self->n_deviations++;
  add_units (self, _tke_json_get_array (record, "units"));
}

/**
 * tke_audit_trail_list_ceremonies:
 * @trail: the ceremony record
 * @error: return location for a #GError (%TKE_ERROR_IO)
 *
 * The ceremonies of the record, in the order they began, one summary
 * each.  A line that is not a record is passed over: this does not
 * verify the trail, tke_audit_trail_verify() does.
 *
 * Returns: (transfer full) (element-type TkeCeremonySummary): the
 *   ceremonies, or %NULL if the trail cannot be read
 */
GPtrArray *
tke_audit_trail_list_ceremonies (TkeAuditTrail *trail, GError **error)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GHashTable) by_id = g_hash_table_new (g_str_hash, g_str_equal);
  g_auto (GStrv) lines = NULL;

  g_return_val_if_fail (TKE_IS_AUDIT_TRAIL (trail), NULL);

  lines = _tke_audit_trail_read_lines (trail, error);
  if (lines == NULL)
    return NULL;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (JsonObject) record = _tke_ceremony_report_parse (lines[i]);
      const char *id = record != NULL ? _tke_json_get_string (record, "ceremony") : NULL;
      TkeCeremonySummary *summary;

      if (id == NULL)
        continue;
      summary = g_hash_table_lookup (by_id, id);
      if (summary == NULL)
        {
          summary = g_object_new (TKE_TYPE_CEREMONY_SUMMARY, NULL);
          summary->id = g_strdup (id);
          g_ptr_array_add (list, summary);
          g_hash_table_insert (by_id, summary->id, summary);
        }
      add_record (summary, record);
    }
  return g_steal_pointer (&list);
}

/**
 * tke_ceremony_summary_get_id:
 * @self: a summary
 *
 * Returns: the ceremony's id, for tke_ceremony_report_new_from_trail()
 */
const char *
tke_ceremony_summary_get_id (TkeCeremonySummary *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY_SUMMARY (self), NULL);
  return self->id;
}

/**
 * tke_ceremony_summary_get_kind:
 * @self: a summary
 *
 * Returns: the ceremony's kind as recorded: a #TkeCeremonyKind nick
 *   ("load", "commit", …), "rotate" or "recover"
 */
const char *
tke_ceremony_summary_get_kind (TkeCeremonySummary *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY_SUMMARY (self), NULL);
  return self->kind;
}

/**
 * tke_ceremony_summary_get_started:
 * @self: a summary
 *
 * Returns: (transfer none) (nullable): the time of its first record
 */
GDateTime *
tke_ceremony_summary_get_started (TkeCeremonySummary *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY_SUMMARY (self), NULL);
  return self->started;
}

/**
 * tke_ceremony_summary_get_ended:
 * @self: a summary
 *
 * Returns: (transfer none) (nullable): the time of its last record
 */
GDateTime *
tke_ceremony_summary_get_ended (TkeCeremonySummary *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY_SUMMARY (self), NULL);
  return self->ended;
}

/**
 * tke_ceremony_summary_get_outcome:
 * @self: a summary
 *
 * Returns: (nullable): how it ended (%TKE_JOURNAL_OUTCOME_OK,
 *   %TKE_JOURNAL_OUTCOME_FAILED, %TKE_JOURNAL_OUTCOME_CANCELLED), or %NULL
 *   if no last record was written: it runs, or it was cut short
 */
const char *
tke_ceremony_summary_get_outcome (TkeCeremonySummary *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY_SUMMARY (self), NULL);
  return self->outcome;
}

/**
 * tke_ceremony_summary_get_units:
 * @self: a summary
 * @n_units: (out): how many
 *
 * Returns: (array length=n_units) (transfer none): the numbers of the
 *   crypto units its records name, in the order first named
 */
const guint *
tke_ceremony_summary_get_units (TkeCeremonySummary *self, guint *n_units)
{
  g_return_val_if_fail (TKE_IS_CEREMONY_SUMMARY (self), NULL);
  g_return_val_if_fail (n_units != NULL, NULL);
  *n_units = self->units->len;
  return (const guint *) self->units->data;
}

/**
 * tke_ceremony_summary_get_n_records:
 * @self: a summary
 *
 * Returns: how many records the ceremony wrote
 */
guint
tke_ceremony_summary_get_n_records (TkeCeremonySummary *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY_SUMMARY (self), 0);
  return self->n_records;
}

/**
 * tke_ceremony_summary_get_n_deviations:
 * @self: a summary
 *
 * Returns: how many of its records are deviations: a step that failed or
 *   was cancelled, or a record that says the trail was damaged by a crash
 */
guint
tke_ceremony_summary_get_n_deviations (TkeCeremonySummary *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY_SUMMARY (self), 0);
  return self->n_deviations;
}

/**
 * tke_ceremony_summary_get_first_seq:
 * @self: a summary
 *
 * Returns: the sequence number of its first record
 */
gint64
tke_ceremony_summary_get_first_seq (TkeCeremonySummary *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY_SUMMARY (self), 0);
  return self->first_seq;
}

/**
 * tke_ceremony_summary_get_last_seq:
 * @self: a summary
 *
 * Returns: the sequence number of its last record
 */
gint64
tke_ceremony_summary_get_last_seq (TkeCeremonySummary *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY_SUMMARY (self), 0);
  return self->last_seq;
}
