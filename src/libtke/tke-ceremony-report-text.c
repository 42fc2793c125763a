/* tke-ceremony-report-text.c: the ceremony report, for people to read
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "tke-ceremony-report-private.h"
#include "tke-json-private.h"

/* ---- For people --------------------------------------------------------- */

static void
append_units (GString *text, JsonArray *units)
{
  for (guint i = 0; units != NULL && i < json_array_get_length (units); i++)
    {
      JsonNode *node = json_array_get_element (units, i);
      JsonObject *unit = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      JsonObject *new_register = unit ? _tke_json_get_object (unit, "new") : NULL;
      JsonObject *current = unit ? _tke_json_get_object (unit, "current") : NULL;

      if (unit == NULL || new_register == NULL || current == NULL)
        continue;
      g_string_append_printf (
          text, _ ("      crypto unit %u: new %s %s, current %s %s%s\n"),
          (guint) _tke_json_get_int (unit, "number", 0),
          _tke_json_get_string (new_register, "state") ?: "?",
          _tke_json_get_string (new_register, "vp") ?: "?",
          _tke_json_get_string (current, "state") ?: "?",
          _tke_json_get_string (current, "vp") ?: "?",
          _tke_json_get_object (unit, "evidence") != NULL ? _ (" (signed by the unit)") : "");
    }
}

void
_tke_ceremony_report_append_record (GString *text, JsonObject *record)
{
  JsonArray *admins = _tke_json_get_array (record, "administrators");
  JsonObject *card = _tke_json_get_object (record, "card");
  JsonArray *parts = _tke_json_get_array (record, "key_parts");
  JsonObject *advice = _tke_json_get_object (record, "advice");
  JsonObject *importer = _tke_json_get_object (record, "importer_key");
  JsonArray *messages = _tke_json_get_array (record, "messages");
  const char *detail = _tke_json_get_string (record, "detail");

  g_string_append_printf (
      text, "  %4" G_GINT64_FORMAT "  %s  %s %s %s\n", _tke_json_get_int (record, "seq", 0),
      _tke_json_get_string (record, "time") ?: "?", _tke_json_get_string (record, "kind") ?: "?",
      _tke_json_get_string (record, "step") ?: "?", _tke_json_get_string (record, "outcome") ?: "");
  for (guint i = 0; admins != NULL && i < json_array_get_length (admins); i++)
    {
      JsonNode *node = json_array_get_element (admins, i);
      JsonObject *admin = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (admin != NULL)
        g_string_append_printf (text, _ ("      administrator %s (SKI %s)\n"),
                                _tke_json_get_string (admin, "name") ?: "?",
                                _tke_json_get_string (admin, "ski") ?: "?");
    }
  if (card != NULL)
    g_string_append_printf (text, _ ("      card %s, zone %s\n"),
                            _tke_json_get_string (card, "serial") ?: "?",
                            _tke_json_get_string (card, "zone") ?: "?");
  for (guint i = 0; parts != NULL && i < json_array_get_length (parts); i++)
    {
      JsonNode *node = json_array_get_element (parts, i);
      JsonObject *part = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (part != NULL)
        g_string_append_printf (text, _ ("      key part %u of %u “%s”, check value %s\n"),
                                (guint) _tke_json_get_int (part, "index", 0),
                                (guint) _tke_json_get_int (part, "of", 0),
                                _tke_json_get_string (part, "description") ?: "",
                                _tke_json_get_string (part, "check_value") ?: "?");
    }
  for (guint i = 0; messages != NULL && i < json_array_get_length (messages); i++)
    {
      JsonNode *node = json_array_get_element (messages, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_string_append_printf (text, _ ("      service: %s\n"), json_node_get_string (node));
    }
  if (importer != NULL)
    g_string_append_printf (text, _ ("      crypto unit %u: importer key, fingerprint %s%s\n"),
                            (guint) _tke_json_get_int (importer, "unit", 0),
                            _tke_json_get_string (importer, "fingerprint") ?: "?",
                            _tke_json_get_string (importer, "importer_certificate") != NULL
                                ? _ (" (certified by the unit)")
                                : "");
  if (detail != NULL)
    g_string_append_printf (text, "      %s\n", detail);
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
