/* tke-service-client-parse.c: reading the service's JSON answers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tke-error.h"
#include "tke-json-private.h"
#include "tke-crypto-unit-private.h"
#include "tke-service-client-private.h"

/* ---- Parsing ----------------------------------------------------------- */

gboolean
_tke_service_missing (GError **error, const char *what)
{
  g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
               _ ("The service's answer is malformed: “%s” is missing or has the wrong type."),
               what);
  return FALSE;
}

const char *
_tke_service_get_string (JsonObject *object, const char *member, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    {
      _tke_service_missing (error, member);
      return NULL;
    }
  return json_node_get_string (node);
}

gboolean
_tke_service_get_int (JsonObject *object, const char *member, gint64 *value, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return _tke_service_missing (error, member);
  *value = json_node_get_int (node);
  return TRUE;
}

gboolean
_tke_service_get_bool (JsonObject *object, const char *member, gboolean *value, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return _tke_service_missing (error, member);
  *value = json_node_get_boolean (node);
  return TRUE;
}

const char *
_tke_service_get_vp (JsonObject *object, const char *member, GError **error)
{
  const char *vp = _tke_service_get_string (object, member, error);

  if (vp != NULL && !tke_vp_is_valid (vp))
    {
      _tke_service_missing (error, member);
      return NULL;
    }
  return vp;
}

TkeCryptoUnit *
_tke_service_parse_hsm (const char *instance_id, JsonObject *hsm, GError **error)
{
  const char *hsm_id, *type_text, *location;
  TkeCryptoUnitType type;
  gint64 number;

  if ((hsm_id = _tke_service_get_string (hsm, "hsm_id", error)) == NULL ||
      !_tke_service_get_int (hsm, "crypto_unit_num", &number, error) ||
      (type_text = _tke_service_get_string (hsm, "type", error)) == NULL ||
      (location = _tke_service_get_string (hsm, "location", error)) == NULL)
    return NULL;
  if (!tke_crypto_unit_type_from_string (type_text, &type))
    return _tke_service_missing (error, "type"), NULL;
  if (number < 1 || number > G_MAXINT)
    return _tke_service_missing (error, "crypto_unit_num"), NULL;
  return tke_crypto_unit_new (instance_id, hsm_id, (guint) number, type, location);
}

static GPtrArray *
parse_admins (JsonObject *result, GError **error)
{
  g_autoptr (GPtrArray) admins = g_ptr_array_new_with_free_func (g_object_unref);
  JsonNode *node = json_object_get_member (result, "admins");
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return _tke_service_missing (error, "admins"), NULL;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      const char *name, *ski;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return _tke_service_missing (error, "admins"), NULL;
      if ((name = _tke_service_get_string (json_node_get_object (element), "name", error)) ==
              NULL ||
          (ski = _tke_service_get_vp (json_node_get_object (element), "ski", error)) == NULL)
        return NULL;
      g_ptr_array_add (admins, tke_administrator_new (name, ski));
    }
  return g_steal_pointer (&admins);
}

/* Members older services do not send: PKCS#11 keystores, control points. */
static void
apply_extras (TkeCryptoUnit *unit, JsonObject *result)
{
  JsonNode *node = json_object_get_member (result, "pkcs11_keystores");
  GArray *bits = NULL;

  g_object_set_data (G_OBJECT (unit), TKE_CRYPTO_UNIT_PKCS11_KEY,
                     GINT_TO_POINTER (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
                                      json_node_get_value_type (node) == G_TYPE_BOOLEAN &&
                                      json_node_get_boolean (node)));
  node = json_object_get_member (result, "control_points");
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      bits = g_array_new (FALSE, FALSE, sizeof (guint));
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          gint64 bit = json_array_get_int_element (array, i);

          if (bit >= 0 && bit < 256)
            g_array_append_val (bits, (guint){ (guint) bit });
        }
    }
  g_object_set_data_full (G_OBJECT (unit), TKE_CRYPTO_UNIT_CONTROL_POINTS_KEY, bits,
                          bits != NULL ? (GDestroyNotify) g_array_unref : NULL);
}

gboolean
_tke_service_apply_query (TkeCryptoUnit *unit, JsonObject *result, gint64 *counter, GError **error)
{
  g_autoptr (GPtrArray) admins = NULL;
  const char *new_status, *new_vp, *current_status, *current_vp;
  TkeNewRegisterState new_state;
  TkeCurrentRegisterState current_state;
  gboolean imprint;
  gint64 sig, rev;

  if (!_tke_service_get_bool (result, "imprint_mode", &imprint, error) ||
      !_tke_service_get_int (result, "signature_threshold", &sig, error) ||
      !_tke_service_get_int (result, "revocation_threshold", &rev, error) ||
      (new_status = _tke_service_get_string (result, "new_mk_status", error)) == NULL ||
      (new_vp = _tke_service_get_vp (result, "new_mkvp", error)) == NULL ||
      (current_status = _tke_service_get_string (result, "current_mk_status", error)) == NULL ||
      (current_vp = _tke_service_get_vp (result, "current_mkvp", error)) == NULL ||
      !_tke_service_get_int (result, "counter", counter, error) ||
      (admins = parse_admins (result, error)) == NULL)
    return FALSE;
  if (!tke_new_register_state_from_string (new_status, &new_state))
    return _tke_service_missing (error, "new_mk_status");
  if (!tke_current_register_state_from_string (current_status, &current_state))
    return _tke_service_missing (error, "current_mk_status");
  if (sig < 0 || sig > 8 || rev < 0 || rev > 8)
    return _tke_service_missing (error, "signature_threshold");

  tke_crypto_unit_set_thresholds (unit, imprint, (guint) sig, (guint) rev);
  tke_crypto_unit_set_administrators (unit, admins);
  tke_crypto_unit_set_registers (unit, new_state, new_vp, current_state, current_vp);
  tke_crypto_unit_set_reachable (unit, TRUE);
  apply_extras (unit, result);
  return TRUE;
}

static TkeRotationState
rotation_state_from_string (const char *text, gboolean *ok)
{
  static const struct
  {
    const char *text;
    TkeRotationState state;
  } states[] = {
    { "none", TKE_ROTATION_STATE_NONE },           { "rewrapping", TKE_ROTATION_STATE_REWRAPPING },
    { "rewrapped", TKE_ROTATION_STATE_REWRAPPED }, { "complete", TKE_ROTATION_STATE_COMPLETE },
    { "failed", TKE_ROTATION_STATE_FAILED },
  };

  *ok = TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (states); i++)
    if (g_str_equal (states[i].text, text))
      return states[i].state;
  *ok = FALSE;
  return TKE_ROTATION_STATE_NONE;
}

static gboolean
parse_rotation_messages (TkeRotationStatus *status, JsonObject *object, GError **error)
{
  JsonNode *node = json_object_get_member (object, "messages");
  JsonArray *array;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return _tke_service_missing (error, "messages");
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      g_autoptr (GDateTime) when = NULL;
      const char *timestamp, *text;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return _tke_service_missing (error, "messages");
      if ((timestamp = _tke_service_get_string (json_node_get_object (element), "timestamp",
                                                error)) == NULL ||
          (text = _tke_service_get_string (json_node_get_object (element), "message", error)) ==
              NULL)
        return FALSE;
      when = g_date_time_new_from_iso8601 (timestamp, NULL);
      if (when == NULL)
        return _tke_service_missing (error, "timestamp");
      tke_rotation_status_add_message (status, when, text);
    }
  return TRUE;
}

TkeRotationStatus *
_tke_service_parse_rotation_status (JsonObject *object, GError **error)
{
  g_autoptr (TkeRotationStatus) status = NULL;
  const char *state_text, *target_vp = NULL;
  TkeRotationState state;
  gint64 done = 0, total = 0;
  JsonNode *node;
  gboolean ok;

  if ((state_text = _tke_service_get_string (object, "state", error)) == NULL)
    return NULL;
  state = rotation_state_from_string (state_text, &ok);
  if (!ok)
    return _tke_service_missing (error, "state"), NULL;
  node = json_object_get_member (object, "keys_done");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node) &&
      !_tke_service_get_int (object, "keys_done", &done, error))
    return NULL;
  node = json_object_get_member (object, "keys_total");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node) &&
      !_tke_service_get_int (object, "keys_total", &total, error))
    return NULL;
  node = json_object_get_member (object, "to_mkvp");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node) &&
      (target_vp = _tke_service_get_vp (object, "to_mkvp", error)) == NULL)
    return NULL;
  if (done < 0 || total < 0)
    return _tke_service_missing (error, "keys_done"), NULL;

  status = tke_rotation_status_new (state, target_vp, (guint64) done, (guint64) total);
  if (!parse_rotation_messages (status, object, error))
    return NULL;

  node = json_object_get_member (object, "error");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *err = json_node_get_object (node);
      const char *message = _tke_json_get_string (err, "message");
      const char *code = _tke_json_get_string (err, "code");

      tke_rotation_status_set_error_message (status, message ? message : code);
    }
  return g_steal_pointer (&status);
}

TkeKmsKey *
_tke_service_parse_kms_key (JsonObject *object, GError **error)
{
  g_autoptr (TkeKmsKey) key = g_new0 (TkeKmsKey, 1);
  const char *id, *name;
  gint64 state;

  if ((id = _tke_service_get_string (object, "id", error)) == NULL ||
      (name = _tke_service_get_string (object, "name", error)) == NULL ||
      !_tke_service_get_int (object, "state", &state, error))
    return NULL;
  key->id = g_strdup (id);
  key->name = g_strdup (name);
  key->state = (int) CLAMP (state, G_MININT, G_MAXINT);
  key->creation_date = g_strdup (_tke_json_get_string (object, "creationDate"));
  key->extractable = _tke_json_get_bool (object, "extractable", FALSE);
  key->wkid = g_strdup (_tke_json_get_string (object, "wkid"));
  return g_steal_pointer (&key);
}

GPtrArray *
_tke_service_parse_key_collection (JsonObject *answer, guint64 *total, GError **error)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_kms_key_free);
  JsonNode *node = json_object_get_member (answer, "resources");
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return _tke_service_missing (error, "resources"), NULL;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      TkeKmsKey *key;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return _tke_service_missing (error, "resources"), NULL;
      key = _tke_service_parse_kms_key (json_node_get_object (element), error);
      if (key == NULL)
        return NULL;
      g_ptr_array_add (keys, key);
    }
  if (total != NULL)
    {
      JsonNode *meta = json_object_get_member (answer, "metadata");

      *total = keys->len;
      if (meta != NULL && JSON_NODE_HOLDS_OBJECT (meta))
        *total = (guint64) MAX (
            _tke_json_get_int (json_node_get_object (meta), "totalCount", keys->len), 0);
    }
  return g_steal_pointer (&keys);
}

TkeKmsKey *
_tke_service_first_key (JsonObject *answer, GError **error)
{
  g_autoptr (GPtrArray) keys = _tke_service_parse_key_collection (answer, NULL, error);

  if (keys == NULL)
    return NULL;
  if (keys->len != 1)
    return _tke_service_missing (error, "resources"), NULL;
  return g_ptr_array_steal_index (keys, 0);
}
