/* tke-ceremony-report-text.c: the ceremony report, for people to read
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "tke-ceremony-report-private.h"
#include "tke-json-private.h"
#include "tke-types.h"

/* ---- For people --------------------------------------------------------- */

static char *register_text (JsonObject *reg);

static void
append_units (GString *text, JsonArray *units)
{
  for (guint i = 0; units != NULL && i < json_array_get_length (units); i++)
    {
      JsonNode *node = json_array_get_element (units, i);
      JsonObject *unit = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      JsonObject *new_register = unit ? _tke_json_get_object (unit, "new") : NULL;
      JsonObject *current = unit ? _tke_json_get_object (unit, "current") : NULL;
      g_autofree char *new_text = NULL;
      g_autofree char *current_text = NULL;

      if (unit == NULL || new_register == NULL || current == NULL)
        continue;
      /* An Empty register has no pattern to read aloud: the service's
       * 64 zeros would look like a key. */
      new_text = register_text (new_register);
      current_text = register_text (current);
      g_string_append_printf (
          text, _ ("      crypto unit %u: new %s, current %s%s\n"),
          (guint) _tke_json_get_int (unit, "number", 0), new_text, current_text,
          _tke_json_get_object (unit, "evidence") != NULL ? _ (" (signed by the unit)") : "");
    }
}

/* A check value or fingerprint in groups of four, on one line; "?" when
 * the record has none. */
static char *
hex_in_groups (const char *hex)
{
  return hex != NULL ? tke_vp_format_one_line (hex) : g_strdup ("?");
}

static void append_body (GString *text, JsonObject *record);

void
_tke_ceremony_report_append_record (GString *text, JsonObject *record)
{
  g_string_append_printf (
      text, "  %4" G_GINT64_FORMAT "  %s  %s %s %s\n", _tke_json_get_int (record, "seq", 0),
      _tke_json_get_string (record, "time") ?: "?", _tke_json_get_string (record, "kind") ?: "?",
      _tke_json_get_string (record, "step") ?: "?", _tke_json_get_string (record, "outcome") ?: "");
  append_body (text, record);
}

/* A card's administrator is known once the card is read, as it signs. */
static void
append_administrator (GString *text, JsonObject *admin)
{
  const char *name = _tke_json_get_string (admin, "name");
  const char *ski = _tke_json_get_string (admin, "ski");
  JsonObject *card = _tke_json_get_object (admin, "card");
  const char *serial = card != NULL ? _tke_json_get_string (card, "serial") : NULL;

  if (name == NULL && ski == NULL && card != NULL)
    g_string_append (text, _ ("      administrator with a smart card, named when the card is read "
                              "to sign\n"));
  else if (serial != NULL)
    g_string_append_printf (text, _ ("      administrator %s (SKI %s), card %s, zone %s\n"),
                            name ?: "?", ski ?: "?", serial,
                            _tke_json_get_string (card, "zone") ?: "?");
  else
    g_string_append_printf (text, _ ("      administrator %s (SKI %s)\n"), name ?: "?", ski ?: "?");
}

/* What a record says beyond its number, time, kind, step and outcome. */
static void
append_body (GString *text, JsonObject *record)
{
  JsonArray *admins = _tke_json_get_array (record, "administrators");
  JsonObject *card = _tke_json_get_object (record, "card");
  JsonArray *parts = _tke_json_get_array (record, "key_parts");
  JsonObject *advice = _tke_json_get_object (record, "advice");
  JsonObject *importer = _tke_json_get_object (record, "importer_key");
  JsonArray *messages = _tke_json_get_array (record, "messages");
  const char *detail = _tke_json_get_string (record, "detail");
  g_autofree char *fingerprint =
      importer != NULL ? hex_in_groups (_tke_json_get_string (importer, "fingerprint")) : NULL;

  for (guint i = 0; admins != NULL && i < json_array_get_length (admins); i++)
    {
      JsonNode *node = json_array_get_element (admins, i);
      JsonObject *admin = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (admin != NULL)
        append_administrator (text, admin);
    }
  if (card != NULL)
    g_string_append_printf (text, _ ("      card %s, zone %s\n"),
                            _tke_json_get_string (card, "serial") ?: "?",
                            _tke_json_get_string (card, "zone") ?: "?");
  for (guint i = 0; parts != NULL && i < json_array_get_length (parts); i++)
    {
      JsonNode *node = json_array_get_element (parts, i);
      JsonObject *part = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      g_autofree char *check_value =
          part != NULL ? hex_in_groups (_tke_json_get_string (part, "check_value")) : NULL;

      if (part != NULL)
        g_string_append_printf (text, _ ("      key part %u of %u “%s”, check value %s\n"),
                                (guint) _tke_json_get_int (part, "index", 0),
                                (guint) _tke_json_get_int (part, "of", 0),
                                _tke_json_get_string (part, "description") ?: "", check_value);
    }
  for (guint i = 0; messages != NULL && i < json_array_get_length (messages); i++)
    {
      JsonNode *node = json_array_get_element (messages, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_string_append_printf (text, _ ("      service: %s\n"), json_node_get_string (node));
    }
  if (importer != NULL)
    g_string_append_printf (text, _ ("      crypto unit %u: importer key, fingerprint %s%s\n"),
                            (guint) _tke_json_get_int (importer, "unit", 0), fingerprint,
                            _tke_json_get_string (importer, "importer_certificate") != NULL
                                ? _ (" (certified by the unit)")
                                : "");
  if (detail != NULL)
    g_string_append_printf (text, "      %s\n", detail);
  if (_tke_json_get_string (record, "trail_deviation") != NULL)
    g_string_append_printf (text, _ ("      the record itself: %s\n"),
                            _tke_json_get_string (record, "trail_deviation"));
  if (advice != NULL)
    g_string_append_printf (text, _ ("      advice: %s — %s\n"),
                            _tke_json_get_string (advice, "action") ?: "?",
                            _tke_json_get_string (advice, "explanation") ?: "");
  append_units (text, _tke_json_get_array (record, "units"));
}

/**
 * tke_ceremony_report_format_text:
 * @self: a report
 *
 * The report for people: the ceremonies it covers and the timeline, with
 * each step's administrator, card, key part check value, service messages,
 * advice and the units' registers.  It says nothing about whether the
 * report verifies: call tke_ceremony_report_verify() for that.
 *
 * Returns: (transfer full): the text
 */
char *
tke_ceremony_report_format_text (TkeCeremonyReport *self)
{
  g_autoptr (JsonObject) summary = NULL;
  GString *text = g_string_new (NULL);
  const char *const *records;
  JsonArray *ceremonies;

  g_return_val_if_fail (TKE_IS_CEREMONY_REPORT (self), NULL);

  records = _tke_ceremony_report_get_records (self);
  summary = _tke_ceremony_report_parse (_tke_ceremony_report_get_summary (self));
  g_string_append_printf (text, _ ("Ceremony report: %u records, made %s\n"),
                          g_strv_length ((GStrv) records),
                          summary ? _tke_json_get_string (summary, "created") ?: "?" : "?");
  ceremonies = summary ? _tke_json_get_array (summary, "ceremonies") : NULL;
  g_string_append (text, _ ("\nCeremonies:\n"));
  for (guint i = 0; ceremonies != NULL && i < json_array_get_length (ceremonies); i++)
    {
      JsonNode *node = json_array_get_element (ceremonies, i);
      JsonObject *ceremony = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (ceremony != NULL)
        g_string_append_printf (text, "  %s  %s  %s – %s  %s\n",
                                _tke_json_get_string (ceremony, "id") ?: "?",
                                _tke_json_get_string (ceremony, "kind") ?: "?",
                                _tke_json_get_string (ceremony, "started") ?: "?",
                                _tke_json_get_string (ceremony, "ended") ?: "?",
                                _tke_json_get_string (ceremony, "outcome") ?: "");
    }
  g_string_append (text, _ ("\nTimeline:\n"));
  for (guint i = 0; records[i] != NULL; i++)
    {
      g_autoptr (JsonObject) record = _tke_ceremony_report_parse (records[i]);

      if (record != NULL)
        _tke_ceremony_report_append_record (text, record);
    }
  return g_string_free (text, FALSE);
}

/* A step that failed or was cancelled, or a record that says the trail
 * was damaged (a torn record set aside): the report marks it. */
gboolean
_tke_audit_record_is_deviation (JsonObject *record)
{
  const char *outcome = _tke_json_get_string (record, "outcome");

  return g_strcmp0 (outcome, "failed") == 0 || g_strcmp0 (outcome, "cancelled") == 0 ||
         json_object_has_member (record, "trail_deviation");
}

/**
 * tke_ceremony_report_describe_record:
 * @self: a report
 * @index: a record, from 0 to tke_ceremony_report_get_n_records() - 1
 * @heading: (out) (optional) (transfer full): its number, time, kind,
 *   step and outcome, on one line
 * @body: (out) (optional) (transfer full): the rest, one line each: the
 *   administrators and card, key parts with their check values, importer
 *   keys, the service's messages, the advice and every unit's registers
 * @deviation: (out) (optional): whether the record is a deviation (a
 *   step that failed or was cancelled, a damaged trail)
 *
 * One record of the timeline, for people, as tke_ceremony_report_format_text()
 * writes it.  It says nothing about whether it verifies.
 *
 * Returns: %FALSE if @index is past the end, or the record is not one
 */
gboolean
tke_ceremony_report_describe_record (
    TkeCeremonyReport *self, guint index, char **heading, char **body, gboolean *deviation)
{
  const char *const *records;
  g_autoptr (JsonObject) record = NULL;
  g_autoptr (GString) text = NULL;

  g_return_val_if_fail (TKE_IS_CEREMONY_REPORT (self), FALSE);

  records = _tke_ceremony_report_get_records (self);
  if (index >= g_strv_length ((GStrv) records) ||
      (record = _tke_ceremony_report_parse (records[index])) == NULL)
    return FALSE;
  if (heading != NULL)
    *heading = g_strdup_printf (
        "%" G_GINT64_FORMAT "  %s  %s %s %s", _tke_json_get_int (record, "seq", 0),
        _tke_json_get_string (record, "time") ?: "?", _tke_json_get_string (record, "kind") ?: "?",
        _tke_json_get_string (record, "step") ?: "?",
        _tke_json_get_string (record, "outcome") ?: "");
  if (body != NULL)
    {
      text = g_string_new (NULL);
      append_body (text, record);
      /* The lines are indented for the text report: not here. */
      {
        g_auto (GStrv) lines = g_strsplit (g_strchomp (text->str), "\n", -1);

        for (guint i = 0; lines[i] != NULL; i++)
          g_strstrip (lines[i]);
        *body = g_strjoinv ("\n", lines);
      }
    }
  if (deviation != NULL)
    *deviation = _tke_audit_record_is_deviation (record);
  return TRUE;
}

/* A register's VP in groups, as two people read it aloud to each other;
 * none for an Empty register. */
static char *
register_text (JsonObject *reg)
{
  const char *state = reg != NULL ? _tke_json_get_string (reg, "state") : NULL;
  const char *vp = reg != NULL ? _tke_json_get_string (reg, "vp") : NULL;
  g_autofree char *groups = NULL;

  if (state == NULL)
    return g_strdup ("?");
  if (g_strcmp0 (state, "Empty") == 0 || vp == NULL || !tke_vp_is_valid (vp))
    return g_strdup (state);
  groups = tke_vp_format_groups (vp);
  g_strdelimit (groups, "\n", ' ');
  return g_strdup_printf ("%s  %s", state, groups);
}

/* The VP of a register holding a key, under its line in the before/after
 * table: two lines of eight groups, the way it is read aloud. */
static void
append_register_vp (GString *text, JsonObject *reg)
{
  const char *state = reg != NULL ? _tke_json_get_string (reg, "state") : NULL;
  const char *vp = reg != NULL ? _tke_json_get_string (reg, "vp") : NULL;
  g_autofree char *groups = NULL;
  g_auto (GStrv) halves = NULL;

  if (state == NULL || g_strcmp0 (state, "Empty") == 0 || vp == NULL || !tke_vp_is_valid (vp))
    return;
  groups = tke_vp_format_groups (vp);
  halves = g_strsplit (groups, "\n", -1);
  for (guint i = 0; halves[i] != NULL; i++)
    g_string_append_printf (text, "      %s\n", halves[i]);
}

static const char *
state_of (JsonObject *reg)
{
  const char *state = reg != NULL ? _tke_json_get_string (reg, "state") : NULL;

  return state != NULL ? state : "?";
}

static void
append_state (GString *text, const char *when, JsonObject *unit)
{
  JsonObject *new_register = unit ? _tke_json_get_object (unit, "new") : NULL;
  JsonObject *current = unit ? _tke_json_get_object (unit, "current") : NULL;

  g_string_append_printf (text, _ ("  %s, new register: %s\n"), when, state_of (new_register));
  append_register_vp (text, new_register);
  g_string_append_printf (text, _ ("  %s, current register: %s\n"), when, state_of (current));
  append_register_vp (text, current);
}

static JsonObject *
unit_in (JsonObject *record, guint number)
{
  JsonArray *units = _tke_json_get_array (record, "units");

  for (guint i = 0; units != NULL && i < json_array_get_length (units); i++)
    {
      JsonNode *node = json_array_get_element (units, i);
      JsonObject *unit = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (unit != NULL && (guint) _tke_json_get_int (unit, "number", 0) == number)
        return unit;
    }
  return NULL;
}

/**
 * tke_ceremony_report_format_units:
 * @self: a report
 *
 * Every crypto unit of each ceremony in the report, its registers before
 * (the ceremony's first record that names it) and after (the last), as
 * the units signed them.  It says nothing about whether the report
 * verifies.
 *
 * Returns: (transfer full): the text, empty if no record names a unit
 */
char *
tke_ceremony_report_format_units (TkeCeremonyReport *self)
{
  const char *const *records;
  g_autoptr (GPtrArray) objects =
      g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GString *text = g_string_new (NULL);

  g_return_val_if_fail (TKE_IS_CEREMONY_REPORT (self), NULL);

  records = _tke_ceremony_report_get_records (self);
  for (guint i = 0; records[i] != NULL; i++)
    {
      JsonObject *record = _tke_ceremony_report_parse (records[i]);

      if (record != NULL)
        g_ptr_array_add (objects, record);
    }
  for (guint i = 0; i < objects->len; i++)
    {
      const char *id = _tke_json_get_string (objects->pdata[i], "ceremony") ?: "";
      g_autoptr (GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));

      if (!g_hash_table_add (seen, (gpointer) id))
        continue;
      for (guint j = i; j < objects->len; j++)
        {
          JsonArray *units;

          if (g_strcmp0 (_tke_json_get_string (objects->pdata[j], "ceremony") ?: "", id) != 0)
            continue;
          units = _tke_json_get_array (objects->pdata[j], "units");
          for (guint k = 0; units != NULL && k < json_array_get_length (units); k++)
            {
              JsonNode *node = json_array_get_element (units, k);
              guint number =
                  JSON_NODE_HOLDS_OBJECT (node)
                      ? (guint) _tke_json_get_int (json_node_get_object (node), "number", 0)
                      : 0;
              gboolean known = FALSE;

              for (guint m = 0; m < numbers->len && !known; m++)
                known = g_array_index (numbers, guint, m) == number;
              if (!known && JSON_NODE_HOLDS_OBJECT (node))
                g_array_append_val (numbers, number);
            }
        }
      if (numbers->len == 0)
        continue;
      g_string_append_printf (text, _ ("%s (ceremony %s):\n"),
                              _tke_json_get_string (objects->pdata[i], "kind") ?: "?", id);
      for (guint m = 0; m < numbers->len; m++)
        {
          guint number = g_array_index (numbers, guint, m);
          JsonObject *before = NULL, *after = NULL;

          for (guint j = i; j < objects->len; j++)
            {
              JsonObject *unit;

              if (g_strcmp0 (_tke_json_get_string (objects->pdata[j], "ceremony") ?: "", id) != 0 ||
                  (unit = unit_in (objects->pdata[j], number)) == NULL)
                continue;
              if (before == NULL)
                before = unit;
              after = unit;
            }
          g_string_append_printf (text, _ ("Crypto unit %u\n"), number);
          append_state (text, _ ("before"), before);
          append_state (text, _ ("after"), after);
        }
    }
  return g_string_free (text, FALSE);
}
