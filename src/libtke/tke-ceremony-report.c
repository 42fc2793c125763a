/* tke-ceremony-report.c: a signed ceremony report anyone can verify offline
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A report is a part of the ceremony record (#TkeAuditTrail), exactly as
 * written, with a summary that lists every record's hash, signed by the
 * workstation key.  A verifier needs nothing but the file: it checks the
 * signatures over the summary, each record against its hash, the chain
 * from record to record, and every unit's signed answer inside against the
 * unit root, and it names the first record that fails.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "tke-audit-entry-private.h"
#include "tke-audit-trail-private.h"
#include "tke-ceremony-report-private.h"
#include "tke-crypto-unit.h"
#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-json-private.h"
#include "tke-service-client-private.h"
#include "tke-unit-identity.h"

#define REPORT_FORMAT "tke-ceremony-report"
#define SIGNATURE_CONTEXT "tke ceremony report v1\n"

/**
 * TkeCeremonyReport:
 *
 * A signed ceremony report: a contiguous part of the ceremony record, as
 * written, with a summary (every record's hash, the ceremonies it covers)
 * signed by the workstation key.  tke_ceremony_report_verify() needs no
 * network, no service and no profile.
 */
struct _TkeCeremonyReport
{
  GObject parent_instance;

  char *summary; /* the signed bytes, exactly */
  GStrv records; /* the trail's lines, exactly */
  JsonArray *signatures;
};

G_DEFINE_FINAL_TYPE (TkeCeremonyReport, tke_ceremony_report, G_TYPE_OBJECT)

const char *
_tke_ceremony_report_get_summary (TkeCeremonyReport *self)
{
  return self->summary;
}

const char *const *
_tke_ceremony_report_get_records (TkeCeremonyReport *self)
{
  return (const char *const *) self->records;
}

JsonArray *
_tke_ceremony_report_get_signatures (TkeCeremonyReport *self)
{
  return self->signatures;
}

static void
tke_ceremony_report_finalize (GObject *object)
{
  TkeCeremonyReport *self = TKE_CEREMONY_REPORT (object);

  g_free (self->summary);
  g_strfreev (self->records);
  g_clear_pointer (&self->signatures, json_array_unref);
  G_OBJECT_CLASS (tke_ceremony_report_parent_class)->finalize (object);
}

static void
tke_ceremony_report_class_init (TkeCeremonyReportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tke_ceremony_report_finalize;
}

static void
tke_ceremony_report_init (TkeCeremonyReport *self)
{
  self->signatures = json_array_new ();
}

static gboolean
invalid (GError **error, const char *why)
{
  g_set_error (error, TKE_ERROR, TKE_ERROR_RECORD_TAMPERED, _ ("The report does not verify: %s"),
               why);
  return FALSE;
}

JsonObject *
_tke_ceremony_report_parse (const char *json)
{
  g_autoptr (JsonNode) node =
      json != NULL ? _tke_json_parse_bytes (json, strlen (json), NULL) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_object_ref (json_node_get_object (node));
}

/* ---- Making a report ---------------------------------------------------- */

static gboolean
record_selected (JsonObject *record, const char *ceremony_id, GDateTime *since, GDateTime *until)
{
  const char *time = _tke_json_get_string (record, "time");
  g_autoptr (GDateTime) when = time != NULL ? g_date_time_new_from_iso8601 (time, NULL) : NULL;

  if (ceremony_id != NULL &&
      g_strcmp0 (_tke_json_get_string (record, "ceremony"), ceremony_id) != 0)
    return FALSE;
  if (since != NULL && (when == NULL || g_date_time_compare (when, since) < 0))
    return FALSE;
  if (until != NULL && (when == NULL || g_date_time_compare (when, until) > 0))
    return FALSE;
  return TRUE;
}

/* One line per ceremony the records cover: its kind, first and last
 * record, times and how it ended. */
static void
add_ceremonies (JsonBuilder *builder, GPtrArray *objects)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  json_builder_begin_array (builder);
  for (guint i = 0; i < objects->len; i++)
    {
      JsonObject *record = objects->pdata[i];
      const char *id = (_tke_json_get_string (record, "ceremony") ?: "");
      JsonObject *last = record;

      if (!g_hash_table_add (seen, (gpointer) id))
        continue;
      for (guint j = i + 1; j < objects->len; j++)
        if (g_strcmp0 ((_tke_json_get_string (objects->pdata[j], "ceremony") ?: ""), id) == 0)
          last = objects->pdata[j];
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, id);
      json_builder_set_member_name (builder, "kind");
      json_builder_add_string_value (builder, (_tke_json_get_string (record, "kind") ?: ""));
      json_builder_set_member_name (builder, "started");
      json_builder_add_string_value (builder, (_tke_json_get_string (record, "time") ?: ""));
      json_builder_set_member_name (builder, "ended");
      json_builder_add_string_value (builder, (_tke_json_get_string (last, "time") ?: ""));
      json_builder_set_member_name (builder, "outcome");
      json_builder_add_string_value (builder, (_tke_json_get_string (last, "outcome") ?: "") ?: "");
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

static char *
build_summary (const char *const *lines, GPtrArray *objects, const char *workstation_hex)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);
  JsonObject *first = objects->pdata[0];

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, REPORT_FORMAT);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  json_builder_set_member_name (builder, "created");
  json_builder_add_string_value (builder, created);
  json_builder_set_member_name (builder, "workstation_key");
  json_builder_add_string_value (builder, workstation_hex);
  json_builder_set_member_name (builder, "first_seq");
  json_builder_add_int_value (builder, _tke_json_get_int (first, "seq", 0));
  json_builder_set_member_name (builder, "first_prev");
  json_builder_add_string_value (builder, _tke_json_get_string (first, "prev"));
  json_builder_set_member_name (builder, "record_hashes");
  json_builder_begin_array (builder);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *hash = _tke_audit_hash_line (lines[i]);

      json_builder_add_string_value (builder, hash);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "ceremonies");
  add_ceremonies (builder, objects);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static gboolean
add_signature (
    TkeCeremonyReport *self, const char *role, const char *name, EVP_PKEY *key, GError **error)
{
  g_autofree char *bytes = g_strconcat (SIGNATURE_CONTEXT, self->summary, NULL);
  g_autoptr (GBytes) signature =
      tke_crypto_sign (key, (const guint8 *) bytes, strlen (bytes), error);
  g_autofree char *public_hex = _tke_audit_public_key_hex (key, error);
  g_autofree char *signature_base64 = NULL;
  JsonObject *entry;

  if (signature == NULL || public_hex == NULL)
    return FALSE;
  signature_base64 =
      g_base64_encode (g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
  entry = json_object_new ();
  json_object_set_string_member (entry, "role", role);
  if (name != NULL)
    json_object_set_string_member (entry, "name", name);
  json_object_set_string_member (entry, "public_key", public_hex);
  json_object_set_string_member (entry, "signature", signature_base64);
  json_array_add_object_element (self->signatures, entry);
  return TRUE;
}

/**
 * tke_ceremony_report_new_from_trail: (constructor)
 * @trail: the ceremony record
 * @ceremony_id: (nullable): one ceremony's id, or %NULL for every record
 * @since: (nullable): the first time to cover
 * @until: (nullable): the last time to cover
 * @error: return location for a #GError
 *
 * Makes a report of the records of @ceremony_id (or of the time range):
 * the trail is verified first, then every record from the first selected
 * to the last selected is taken, as written, and the summary is signed
 * with the workstation key.
 *
 * Returns: (transfer full): the report, or %NULL (%TKE_ERROR_NOT_FOUND when
 *   nothing is selected)
 */
TkeCeremonyReport *
tke_ceremony_report_new_from_trail (TkeAuditTrail *trail,
                                    const char *ceremony_id,
                                    GDateTime *since,
                                    GDateTime *until,
                                    GError **error)
{
  g_autoptr (TkeCeremonyReport) self = NULL;
  g_autoptr (GPtrArray) objects =
      g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) lines = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autofree char *public_hex = NULL;
  gint first = -1, last = -1;

  g_return_val_if_fail (TKE_IS_AUDIT_TRAIL (trail), NULL);

  if (!tke_audit_trail_verify (trail, NULL, error) ||
      (lines = _tke_audit_trail_read_lines (trail, error)) == NULL)
    return NULL;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (JsonObject) record = _tke_ceremony_report_parse (lines[i]);

      if (record != NULL && record_selected (record, ceremony_id, since, until))
        {
          if (first < 0)
            first = (gint) i;
          last = (gint) i;
        }
    }
  if (first < 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_NOT_FOUND,
                           _ ("The ceremony record has no record of that ceremony or time."));
      return NULL;
    }
  /* Every record in between, of whatever ceremony: the chain has no gaps. */
  for (gint i = first; i <= last; i++)
    {
      g_strv_builder_add (builder, lines[i]);
      g_ptr_array_add (objects, _tke_ceremony_report_parse (lines[i]));
    }
  key = _tke_audit_workstation_key (FALSE, error);
  if (key == NULL || (public_hex = _tke_audit_public_key_hex (key, error)) == NULL)
    return NULL;
  self = g_object_new (TKE_TYPE_CEREMONY_REPORT, NULL);
  self->records = g_strv_builder_end (builder);
  self->summary = build_summary ((const char *const *) self->records, objects, public_hex);
  if (!add_signature (self, "workstation", NULL, key, error))
    return NULL;
  return g_steal_pointer (&self);
}

/* ---- The file ----------------------------------------------------------- */

/**
 * tke_ceremony_report_to_bytes:
 * @self: a report
 *
 * The report as a JSON file: the summary (a string: the signed bytes
 * exactly), the records (strings: the trail's lines exactly) and the
 * signatures.
 *
 * Returns: (transfer full): the file's contents
 */
GBytes *
tke_ceremony_report_to_bytes (TkeCeremonyReport *self)
{
  g_autoptr (JsonObject) object = json_object_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  JsonArray *records = json_array_new ();
  char *json;

  g_return_val_if_fail (TKE_IS_CEREMONY_REPORT (self), NULL);

  json_object_set_string_member (object, "format", REPORT_FORMAT);
  json_object_set_int_member (object, "version", 1);
  json_object_set_string_member (object, "summary", self->summary);
  for (guint i = 0; self->records[i] != NULL; i++)
    json_array_add_string_element (records, self->records[i]);
  json_object_set_array_member (object, "records", records);
  json_object_set_array_member (object, "signatures", json_array_ref (self->signatures));
  json_node_set_object (node, object);
  json = json_to_string (node, TRUE);
  return g_bytes_new_take (json, strlen (json));
}

/**
 * tke_ceremony_report_new_from_bytes: (constructor)
 * @bytes: a report file's contents
 * @error: return location for a #GError
 *
 * Reads a report.  Reading checks only its shape; call
 * tke_ceremony_report_verify() before trusting anything in it.
 *
 * Returns: (transfer full): the report, or %NULL (%TKE_ERROR_INVALID_DATA)
 */
TkeCeremonyReport *
tke_ceremony_report_new_from_bytes (GBytes *bytes, GError **error)
{
  g_autoptr (TkeCeremonyReport) self = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  JsonNode *records, *signatures;
  JsonObject *object;

  g_return_val_if_fail (bytes != NULL, NULL);

  /* A report comes from anyone: its nesting is bounded before json-glib
   * recurses into it. */
  root = _tke_json_parse_bytes (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    goto bad;
  object = json_node_get_object (root);
  records = json_object_get_member (object, "records");
  signatures = json_object_get_member (object, "signatures");
  if (g_strcmp0 (_tke_json_get_string (object, "format"), REPORT_FORMAT) != 0 ||
      _tke_json_get_string (object, "summary") == NULL || records == NULL ||
      !JSON_NODE_HOLDS_ARRAY (records) || signatures == NULL || !JSON_NODE_HOLDS_ARRAY (signatures))
    goto bad;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (records)); i++)
    {
      JsonNode *line = json_array_get_element (json_node_get_array (records), i);

      if (!JSON_NODE_HOLDS_VALUE (line) || json_node_get_value_type (line) != G_TYPE_STRING)
        goto bad;
      g_strv_builder_add (builder, json_node_get_string (line));
    }
  self = g_object_new (TKE_TYPE_CEREMONY_REPORT, NULL);
  self->summary = g_strdup (_tke_json_get_string (object, "summary"));
  self->records = g_strv_builder_end (builder);
  json_array_unref (self->signatures);
  self->signatures = json_array_ref (json_node_get_array (signatures));
  return g_steal_pointer (&self);

bad:
  g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                       _ ("This is not a ceremony report."));
  return NULL;
}

/**
 * tke_ceremony_report_get_n_records:
 * @self: a report
 *
 * Returns: how many records the report holds
 */
guint
tke_ceremony_report_get_n_records (TkeCeremonyReport *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY_REPORT (self), 0);
  return g_strv_length (self->records);
}

/* ---- Verifying ---------------------------------------------------------- */

static gboolean
record_fails (GError **error, gint64 seq, const char *why)
{
  g_set_error (error, TKE_ERROR, TKE_ERROR_RECORD_TAMPERED, _ ("Record %lld: %s"), (long long) seq,
               why);
  return FALSE;
}

static gboolean
verify_signatures (TkeCeremonyReport *self, JsonObject *summary, GError **error)
{
  g_autofree char *bytes = g_strconcat (SIGNATURE_CONTEXT, self->summary, NULL);
  const char *workstation = _tke_json_get_string (summary, "workstation_key");
  gboolean by_workstation = FALSE;

  for (guint i = 0; i < json_array_get_length (self->signatures); i++)
    {
      JsonNode *node = json_array_get_element (self->signatures, i);
      JsonObject *entry = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *role = entry ? (_tke_json_get_string (entry, "role") ?: "?") : "?";
      const char *public_hex = entry ? (_tke_json_get_string (entry, "public_key") ?: "") : "";
      g_autoptr (GBytes) point = tke_crypto_hex_decode (public_hex, NULL);
      g_autoptr (EVP_PKEY) key = NULL;
      g_autofree guchar *signature = NULL;
      gsize signature_size = 0;

      if (point != NULL)
        key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                                   g_bytes_get_size (point), NULL);
      if (entry != NULL)
        signature =
            g_base64_decode ((_tke_json_get_string (entry, "signature") ?: ""), &signature_size);
      if (key == NULL || !tke_crypto_verify (key, (const guint8 *) bytes, strlen (bytes), signature,
                                             signature_size, NULL))
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_RECORD_TAMPERED,
                       _ ("The report does not verify: signature %u (%s) is not a signature of "
                          "its summary."),
                       i + 1, role);
          return FALSE;
        }
      if (g_strcmp0 (role, "workstation") == 0 && g_strcmp0 (public_hex, workstation) == 0)
        by_workstation = TRUE;
    }
  if (!by_workstation)
    return invalid (error, _ ("the workstation that made it did not sign it."));
  return TRUE;
}

static gboolean
has_record (char **records, guint from, gint64 seq)
{
  for (guint i = from; records[i] != NULL; i++)
    {
      g_autoptr (JsonObject) record = _tke_ceremony_report_parse (records[i]);

      if (record != NULL && _tke_json_get_int (record, "seq", -1) == seq)
        return TRUE;
    }
  return FALSE;
}

/* Each record at its place, unchanged since the summary was signed. */
static gboolean
verify_records (TkeCeremonyReport *self, JsonObject *summary, GError **error)
{
  JsonNode *hashes_node = json_object_get_member (summary, "record_hashes");
  JsonArray *hashes =
      hashes_node && JSON_NODE_HOLDS_ARRAY (hashes_node) ? json_node_get_array (hashes_node) : NULL;
  gint64 first_seq = _tke_json_get_int (summary, "first_seq", 0);
  guint n = g_strv_length (self->records);

  if (hashes == NULL || first_seq < 1)
    return invalid (error, _ ("its summary is damaged."));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (JsonObject) record = _tke_ceremony_report_parse (self->records[i]);
      gint64 seq = record ? _tke_json_get_int (record, "seq", -1) : -1;
      gint64 expected = first_seq + i;
      g_autofree char *hash = _tke_audit_hash_line (self->records[i]);

      if (seq > expected && !has_record (self->records, i + 1, expected))
        return record_fails (error, expected, _ ("it is missing from the report."));
      if (seq > expected)
        return record_fails (error, seq, _ ("it is out of order."));
      if (seq >= first_seq && seq < expected)
        return record_fails (error, seq, _ ("it is out of order, or repeated."));
      if (i >= json_array_get_length (hashes) ||
          g_strcmp0 (json_array_get_string_element (hashes, i), hash) != 0)
        return record_fails (error, seq > 0 ? seq : expected,
                             _ ("it was changed after the report was signed."));
    }
  if (n < json_array_get_length (hashes))
    return record_fails (error, first_seq + n, _ ("it is missing from the report."));
  return _tke_audit_check_chain ((const char *const *) self->records,
                                 (_tke_json_get_string (summary, "first_prev") ?: ""), first_seq,
                                 NULL, error);
}

static gboolean
same_state (JsonObject *recorded, TkeCryptoUnit *signed_state)
{
  JsonObject *new_register = _tke_json_get_object (recorded, "new");
  JsonObject *current = _tke_json_get_object (recorded, "current");

  return new_register != NULL && current != NULL &&
         g_strcmp0 (_tke_json_get_string (new_register, "vp"),
                    tke_crypto_unit_get_new_register_vp (signed_state)) == 0 &&
         g_strcmp0 (_tke_json_get_string (new_register, "state"),
                    tke_new_register_state_to_string (
                        tke_crypto_unit_get_new_register_state (signed_state))) == 0 &&
         g_strcmp0 (_tke_json_get_string (current, "vp"),
                    tke_crypto_unit_get_current_register_vp (signed_state)) == 0 &&
         g_strcmp0 (_tke_json_get_string (current, "state"),
                    tke_current_register_state_to_string (
                        tke_crypto_unit_get_current_register_state (signed_state))) == 0;
}

/* A unit's state in a record is what the unit itself signed. */
static gboolean
verify_unit (JsonObject *unit, GBytes *root, gint64 seq, GError **error)
{
  JsonObject *evidence = _tke_json_get_object (unit, "evidence");
  const char *instance = (_tke_json_get_string (unit, "instance") ?: "");
  const char *hsm_id = (_tke_json_get_string (unit, "hsm_id") ?: "");
  guint number = _tke_json_get_int (unit, "number", 0);
  g_autoptr (GError) reason = NULL;
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (TkeCryptoUnit) signed_state = NULL;
  g_autofree guchar *request = NULL;
  g_autoptr (GBytes) request_bytes = NULL;
  g_autofree char *why = NULL;
  JsonObject *response, *result;
  gsize request_size = 0;
  gint64 counter;

  if (evidence == NULL)
    return TRUE; /* an unreachable unit: the record says so */
  if (root == NULL)
    return record_fails (error, seq,
                         _ ("it holds signed unit answers, but the report names no unit root."));
  response = _tke_json_get_object (evidence, "response");
  request = g_base64_decode ((_tke_json_get_string (evidence, "request") ?: ""), &request_size);
  request_bytes = g_bytes_new (request, request_size);
  if (response != NULL)
    answer = tke_unit_identity_verify_answer (root, response, instance, hsm_id, request_bytes, NULL,
                                              &reason);
  if (answer == NULL)
    {
      why = g_strdup_printf (_ ("the signed answer of crypto unit %u does not verify: %s."), number,
                             reason ? reason->message : _ ("it is missing"));
      return record_fails (error, seq, why);
    }
  result = _tke_json_get_object (answer, "result");
  /* A query's answer is the state; a command's answer carries it as
   * "result.state", signed with it. */
  if (result != NULL && g_strcmp0 (_tke_json_get_string (answer, "command"), "query") != 0)
    result = _tke_json_get_object (result, "state");
  signed_state =
      tke_crypto_unit_new (instance, hsm_id, number, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL, NULL);
  if (result == NULL || !_tke_service_apply_query (signed_state, result, &counter, NULL) ||
      !same_state (unit, signed_state))
    {
      why = g_strdup_printf (
          _ ("the state recorded for crypto unit %u is not the one the unit signed."), number);
      return record_fails (error, seq, why);
    }
  return TRUE;
}

/* A load's importer key is the one its unit certified. */
static gboolean
verify_importer (JsonObject *importer, GBytes *root, gint64 seq, GError **error)
{
  g_autofree char *why = NULL;

  if (importer == NULL)
    return TRUE;
  if (root == NULL)
    return record_fails (error, seq,
                         _ ("it holds an importer key, but the report names no unit root."));
  if (_tke_audit_entry_verify_importer (importer, root, &why))
    return TRUE;
  return record_fails (error, seq, why);
}

static gboolean
verify_evidence (TkeCeremonyReport *self, GBytes *trusted_root, GError **error)
{
  g_autoptr (GBytes) root = trusted_root ? g_bytes_ref (trusted_root) : NULL;

  for (guint i = 0; self->records[i] != NULL; i++)
    {
      g_autoptr (JsonObject) record = _tke_ceremony_report_parse (self->records[i]);
      gint64 seq = _tke_json_get_int (record, "seq", 0);
      const char *root_hex = _tke_json_get_string (record, "unit_root");
      JsonArray *units = _tke_json_get_array (record, "units");

      if (root_hex != NULL)
        {
          g_autoptr (GBytes) named = tke_crypto_hex_decode (root_hex, NULL);

          if (named == NULL)
            return record_fails (error, seq, _ ("the unit root it names is damaged."));
          if (trusted_root != NULL && !g_bytes_equal (named, trusted_root))
            return record_fails (error, seq,
                                 _ ("the unit root it names is not the one you trust."));
          g_clear_pointer (&root, g_bytes_unref);
          root = g_steal_pointer (&named);
        }
      if (!verify_importer (_tke_json_get_object (record, "importer_key"), root, seq, error))
        return FALSE;
      for (guint j = 0; units != NULL && j < json_array_get_length (units); j++)
        {
          JsonNode *unit = json_array_get_element (units, j);

          if (!JSON_NODE_HOLDS_OBJECT (unit) ||
              !verify_unit (json_node_get_object (unit), root, seq, error))
            return FALSE;
        }
    }
  return TRUE;
}

/**
 * tke_ceremony_report_verify:
 * @self: a report
 * @trusted_unit_root: (nullable): the unit root (133-byte point) you trust;
 *   %NULL to take the one the records name (and compare its fingerprint
 *   yourself)
 * @error: return location for a #GError; %TKE_ERROR_RECORD_TAMPERED names
 *   the first record, or signature, that fails, and why
 *
 * Verifies the report offline: every signature over its summary (the
 * workstation's among them), every record against the hash the summary
 * lists, the chain from record to record, and each unit's signed answer
 * against the unit root, with the state recorded equal to the state signed.
 *
 * Returns: %TRUE if everything verifies
 */
gboolean
tke_ceremony_report_verify (TkeCeremonyReport *self, GBytes *trusted_unit_root, GError **error)
{
  g_autoptr (JsonObject) summary = NULL;

  g_return_val_if_fail (TKE_IS_CEREMONY_REPORT (self), FALSE);

  summary = _tke_ceremony_report_parse (self->summary);
  if (summary == NULL || g_strcmp0 (_tke_json_get_string (summary, "format"), REPORT_FORMAT) != 0 ||
      _tke_json_get_int (summary, "version", 0) != 1)
    return invalid (error, _ ("its summary is damaged, or of an unknown version."));
  return verify_signatures (self, summary, error) && verify_records (self, summary, error) &&
         verify_evidence (self, trusted_unit_root, error);
}

/**
 * tke_ceremony_report_dup_unit_root:
 * @self: a report
 *
 * The unit root the report's records name (the last one named): a person
 * compares its fingerprint (tke_unit_root_fingerprint()) with the one they
 * trust, or passes that one to tke_ceremony_report_verify().
 *
 * Returns: (transfer full) (nullable): the root's 133-byte point
 */
GBytes *
tke_ceremony_report_dup_unit_root (TkeCeremonyReport *self)
{
  GBytes *root = NULL;

  g_return_val_if_fail (TKE_IS_CEREMONY_REPORT (self), NULL);

  for (guint i = 0; self->records[i] != NULL; i++)
    {
      g_autoptr (JsonObject) record = _tke_ceremony_report_parse (self->records[i]);
      const char *root_hex = record ? _tke_json_get_string (record, "unit_root") : NULL;

      if (root_hex != NULL)
        {
          g_clear_pointer (&root, g_bytes_unref);
          root = tke_crypto_hex_decode (root_hex, NULL);
        }
    }
  return root;
}

/**
 * tke_ceremony_report_dup_workstation_key:
 * @self: a report
 *
 * The public key of the workstation that made and signed the report.
 *
 * Returns: (transfer full) (nullable): its 133-byte point
 */
GBytes *
tke_ceremony_report_dup_workstation_key (TkeCeremonyReport *self)
{
  g_autoptr (JsonObject) summary = NULL;
  const char *hex;

  g_return_val_if_fail (TKE_IS_CEREMONY_REPORT (self), NULL);

  summary = _tke_ceremony_report_parse (self->summary);
  hex = summary ? _tke_json_get_string (summary, "workstation_key") : NULL;
  return hex != NULL ? tke_crypto_hex_decode (hex, NULL) : NULL;
}

/* ---- An administrator signs the summary --------------------------------- */

typedef struct
{
  GBytes *point;
  GBytes *bytes;
} SignData;

static void
sign_data_free (SignData *data)
{
  g_clear_pointer (&data->point, g_bytes_unref);
  g_clear_pointer (&data->bytes, g_bytes_unref);
  g_free (data);
}

static void
on_summary_signed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCeremonyReport *self = g_task_get_source_object (task);
  SignData *data = g_task_get_task_data (task);
  TkeSigner *signer = TKE_SIGNER (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) signature = tke_signer_sign_finish (signer, result, &error);
  g_autoptr (EVP_PKEY) key = NULL;
  g_autofree char *public_hex = NULL;
  g_autofree char *signature_base64 = NULL;
  JsonObject *entry;

  if (signature == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (data->point, NULL),
                                             g_bytes_get_size (data->point), &error);
  /* A signature that does not verify never goes into the report. */
  if (key == NULL ||
      !tke_crypto_verify (key, g_bytes_get_data (data->bytes, NULL), g_bytes_get_size (data->bytes),
                          g_bytes_get_data (signature, NULL), g_bytes_get_size (signature), NULL))
    {
      g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_CRYPTO,
                               _ ("The signature of %s over the report does not verify."),
                               tke_signer_get_name (signer) ?: _ ("the administrator"));
      return;
    }
  public_hex =
      tke_crypto_hex_encode (g_bytes_get_data (data->point, NULL), g_bytes_get_size (data->point));
  signature_base64 =
      g_base64_encode (g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
  entry = json_object_new ();
  json_object_set_string_member (entry, "role", "administrator");
  if (tke_signer_get_name (signer) != NULL)
    json_object_set_string_member (entry, "name", tke_signer_get_name (signer));
  if (tke_signer_get_ski (signer) != NULL)
    json_object_set_string_member (entry, "ski", tke_signer_get_ski (signer));
  json_object_set_string_member (entry, "public_key", public_hex);
  json_object_set_string_member (entry, "signature", signature_base64);
  json_array_add_object_element (self->signatures, entry);
  g_task_return_boolean (task, TRUE);
}

static void
on_signer_key (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCeremonyReport *self = g_task_get_source_object (task);
  SignData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autofree char *bytes = NULL;

  data->point = tke_signer_get_public_key_finish (TKE_SIGNER (source), result, &error);
  if (data->point == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  bytes = g_strconcat (SIGNATURE_CONTEXT, self->summary, NULL);
  data->bytes = g_bytes_new_take (bytes, strlen (bytes));
  bytes = NULL;
  tke_signer_sign_async (TKE_SIGNER (source), data->bytes, g_task_get_cancellable (task),
                         on_summary_signed, g_object_ref (task));
}

/**
 * tke_ceremony_report_sign_async:
 * @self: a report
 * @signer: an administrator's signer (a card asks for its PIN on the pad)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the signature is added
 * @user_data: data for @callback
 *
 * Has an administrator sign the report's summary, as a ceremony's last,
 * optional step: the signature says "I was there, and this is what
 * happened".  It is verified before it is added.
 */
void
tke_ceremony_report_sign_async (TkeCeremonyReport *self,
                                TkeSigner *signer,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (TKE_IS_CEREMONY_REPORT (self));
  g_return_if_fail (TKE_IS_SIGNER (signer));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tke_ceremony_report_sign_async);
  g_task_set_task_data (task, g_new0 (SignData, 1), (GDestroyNotify) sign_data_free);
  tke_signer_get_public_key_async (signer, cancellable, on_signer_key, g_steal_pointer (&task));
}

/**
 * tke_ceremony_report_sign_finish:
 * @self: a report
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes tke_ceremony_report_sign_async().
 *
 * Returns: %TRUE if the administrator's signature was added
 */
gboolean
tke_ceremony_report_sign_finish (TkeCeremonyReport *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * tke_ceremony_report_dup_signer_names:
 * @self: a report
 *
 * Who signed the report's summary, in order: "workstation" for the
 * workstation key, an administrator's name (or SKI) for each administrator.
 * Only tke_ceremony_report_verify() says whether the signatures hold.
 *
 * Returns: (transfer full): the names
 */
GStrv
tke_ceremony_report_dup_signer_names (TkeCeremonyReport *self)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (TKE_IS_CEREMONY_REPORT (self), NULL);

  for (guint i = 0; i < json_array_get_length (self->signatures); i++)
    {
      JsonNode *node = json_array_get_element (self->signatures, i);
      JsonObject *entry = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *role = entry ? _tke_json_get_string (entry, "role") : NULL;

      if (g_strcmp0 (role, "workstation") == 0)
        g_strv_builder_add (builder, "workstation");
      else if (entry != NULL)
        g_strv_builder_add (builder, _tke_json_get_string (entry, "name")
                                         ?: _tke_json_get_string (entry, "ski") ?: "?");
    }
  return g_strv_builder_end (builder);
}
