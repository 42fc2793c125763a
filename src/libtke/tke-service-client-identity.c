/* tke-service-client-identity.c: the pinned unit root and answer verification
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The client pins the unit root (the workstation's profile holds it) and
 * verifies every answer of an administrative command against it before any
 * of the answer is read (tke-unit-identity.c; service-protocol.md §10).  An
 * importer key is used only after its certificate verified with the unit's
 * verified device key.  The unsigned GET …/unit_root is only fetched for a
 * person to compare fingerprints, never trusted by itself.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tke-crypto.h"
#include "tke-crypto-unit-private.h"
#include "tke-error.h"
#include "tke-importer-proof-private.h"
#include "tke-service-client-private.h"
#include "tke-unit-identity.h"
#include "tke-worker-private.h"

enum
{
  PROP_0,
  PROP_UNIT_ROOT,
};

/**
 * tke_service_client_set_unit_root:
 * @root_hex: (nullable): the pinned unit root, 266 hex digits, or %NULL
 *
 * Pins the unit root that every answer must verify against.  A value that
 * is not a P-521 point pins nothing, so every command is refused with
 * %TKE_ERROR_UNIT_ROOT_NOT_PINNED.
 */
void
tke_service_client_set_unit_root (TkeServiceClient *self, const char *root_hex)
{
  GBytes *point = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));

  if (root_hex != NULL && *root_hex != '\0')
    {
      point = tke_unit_root_from_hex (root_hex, NULL);
      if (point == NULL)
        g_warning ("The unit root given to the service client is not a P-521 point.");
    }
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->unit_root, g_bytes_unref);
  self->unit_root = point;
  g_mutex_unlock (&self->lock);
  g_object_notify (G_OBJECT (self), "unit-root");
}

/**
 * tke_service_client_dup_unit_root:
 *
 * Returns: (transfer full) (nullable): the pinned unit root in hex
 */
char *
tke_service_client_dup_unit_root (TkeServiceClient *self)
{
  g_autoptr (GBytes) point = NULL;

  g_return_val_if_fail (TKE_IS_SERVICE_CLIENT (self), NULL);

  point = _tke_service_client_dup_unit_root_point (self);
  if (point == NULL)
    return NULL;
  return tke_crypto_hex_encode (g_bytes_get_data (point, NULL), g_bytes_get_size (point));
}

GBytes *
_tke_service_client_dup_unit_root_point (TkeServiceClient *self)
{
  GBytes *point;

  g_mutex_lock (&self->lock);
  point = self->unit_root != NULL ? g_bytes_ref (self->unit_root) : NULL;
  g_mutex_unlock (&self->lock);
  return point;
}

void
_tke_service_client_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TkeServiceClient *self = TKE_SERVICE_CLIENT (object);

  switch (prop_id)
    {
    case PROP_UNIT_ROOT:
      g_value_take_string (value, tke_service_client_dup_unit_root (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

void
_tke_service_client_set_property (GObject *object,
                                  guint prop_id,
                                  const GValue *value,
                                  GParamSpec *pspec)
{
  TkeServiceClient *self = TKE_SERVICE_CLIENT (object);

  switch (prop_id)
    {
    case PROP_UNIT_ROOT:
      tke_service_client_set_unit_root (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

void
_tke_service_client_install_identity_properties (GObjectClass *object_class)
{
  object_class->get_property = _tke_service_client_get_property;
  object_class->set_property = _tke_service_client_set_property;

  /**
   * TkeServiceClient:unit-root:
   *
   * The pinned unit root (266 hex digits) every unit answer is verified
   * against; %NULL: none, and every administrative command is refused.
   */
  g_object_class_install_property (
      object_class, PROP_UNIT_ROOT,
      g_param_spec_string ("unit-root", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
}

/* Names the unit in the error, with what failed. */
static void
set_unit_error (GError **error, TkeCryptoUnit *unit, GError *reason)
{
  guint number = tke_crypto_unit_get_number (unit);

  if (g_error_matches (reason, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED))
    g_set_error (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED,
                 _ ("Crypto unit %u is not certified by the pinned unit root: %s. Nothing was "
                    "sealed, signed or shown. If the service's owner changed the unit root, "
                    "compare the new fingerprint with theirs and pin it deliberately "
                    "(tke unit-root-pin FILE)."),
                 number, reason->message);
  else
    g_set_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC,
                 _ ("Crypto unit %u answered with a signature that does not verify against the "
                    "pinned unit root (%s). Nothing was sealed, signed or shown."),
                 number, reason->message);
}

gboolean
_tke_service_client_require_unit_root (TkeServiceClient *self, TkeCryptoUnit *unit, GError **error)
{
  g_autoptr (GBytes) root = _tke_service_client_dup_unit_root_point (self);

  if (root != NULL)
    return TRUE;
  g_set_error (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_NOT_PINNED,
               _ ("No unit root is pinned, so the answers of crypto unit %u cannot be verified. "
                  "Log in again and confirm the unit root."),
               tke_crypto_unit_get_number (unit));
  return FALSE;
}

/* An importer key in a result is used only once its certificate verified
 * with the unit's (verified) device key. */
static gboolean
check_importer (TkeUnitCertificate *cert, JsonObject *result, GError **error)
{
  JsonNode *key = json_object_get_member (result, "importer_key");
  JsonNode *cert_node = json_object_get_member (result, "importer_certificate");
  const char *key_hex, *cert_b64 = NULL;

  if (key == NULL || JSON_NODE_HOLDS_NULL (key))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (key) || json_node_get_value_type (key) != G_TYPE_STRING)
    return tke_unit_identity_verify_importer (cert, NULL, NULL, error);
  key_hex = json_node_get_string (key);
  if (cert_node != NULL && JSON_NODE_HOLDS_VALUE (cert_node) &&
      json_node_get_value_type (cert_node) == G_TYPE_STRING)
    cert_b64 = json_node_get_string (cert_node);
  return tke_unit_identity_verify_importer (cert, key_hex, cert_b64, error);
}

static GBytes *
decode_base64 (JsonNode *node)
{
  guchar *data;
  gsize size = 0;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  data = g_base64_decode (json_node_get_string (node), &size);
  if (size == 0)
    return g_free (data), NULL;
  return g_bytes_new_take (data, size);
}

/* Keeps the certificates of a verified importer key for a card, which
 * verifies them itself before it seals a part to the key. */
static void
remember_importer (TkeCryptoUnit *unit, JsonObject *response, JsonObject *result)
{
  g_autoptr (GPtrArray) chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GBytes) certificate =
      decode_base64 (json_object_get_member (result, "importer_certificate"));
  g_autoptr (GBytes) point = NULL;
  JsonNode *key = json_object_get_member (result, "importer_key");
  JsonNode *certs = json_object_get_member (response, "certificates");
  JsonArray *array;

  if (certificate == NULL || key == NULL || !JSON_NODE_HOLDS_VALUE (key) ||
      json_node_get_value_type (key) != G_TYPE_STRING || certs == NULL ||
      !JSON_NODE_HOLDS_ARRAY (certs) ||
      (point = tke_crypto_hex_decode (json_node_get_string (key), NULL)) == NULL)
    return;
  array = json_node_get_array (certs);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      GBytes *cert = decode_base64 (json_array_get_element (array, i));

      if (cert == NULL)
        return;
      g_ptr_array_add (chain, cert);
    }
  _tke_importer_proof_remember (point, tke_crypto_unit_get_hsm_id (unit), chain, certificate);
}

/* The signed query answer stays with the unit, with the query it answers
 * (a nonce, nothing secret), so that the ceremony record can carry the
 * unit's own word for its state and anyone can check it offline. */
static char *
evidence_json (GBytes *request, JsonNode *response)
{
  g_autoptr (JsonObject) evidence = json_object_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *request_base64 =
      g_base64_encode (g_bytes_get_data (request, NULL), g_bytes_get_size (request));

  json_object_set_string_member (evidence, "request", request_base64);
  json_object_set_member (evidence, "response", json_node_copy (response));
  json_node_set_object (node, evidence);
  return json_to_string (node, FALSE);
}

static void
keep_evidence (TkeCryptoUnit *unit, GBytes *request, JsonNode *response)
{
  g_autofree char *json = evidence_json (request, response);

  _tke_crypto_unit_set_evidence (unit, json);
  g_object_set_data (G_OBJECT (unit), TKE_CRYPTO_UNIT_STATE_FROM_ANSWER_KEY, NULL);
}

/* A command's answer may carry the unit's new state ("result.state"),
 * inside the signed bytes: it must read as a query's answer does, at the
 * answer's counter.  Its evidence waits on the unit for the caller's main
 * context (_tke_service_client_take_answer_state()).  An older service
 * sends none: then the caller queries. */
static gboolean
check_answer_state (TkeCryptoUnit *unit,
                    JsonObject *result,
                    gint64 counter,
                    GBytes *request,
                    JsonNode *response,
                    GError **error)
{
  JsonNode *node = json_object_get_member (result, "state");
  g_autoptr (TkeCryptoUnit) scratch = NULL;
  gint64 state_counter = -1;

  if (node == NULL)
    return TRUE;
  scratch = tke_crypto_unit_new (
      tke_crypto_unit_get_instance_id (unit), tke_crypto_unit_get_hsm_id (unit),
      tke_crypto_unit_get_number (unit), TKE_CRYPTO_UNIT_TYPE_OPERATIONAL, NULL);
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return _tke_service_missing (error, "state");
  if (!_tke_service_apply_query (scratch, json_node_get_object (node), &state_counter, error))
    return FALSE;
  if (state_counter != counter)
    return _tke_service_missing (error, "state");
  g_object_set_data_full (G_OBJECT (unit), TKE_CRYPTO_UNIT_ANSWER_EVIDENCE_KEY,
                          evidence_json (request, response), g_free);
  return TRUE;
}

/* Verifies the answer to @command sent to @unit; returns the verified
 * answer's "result" and sets @counter. */
JsonObject *
_tke_service_client_verified_result (TkeServiceClient *self,
                                     TkeCryptoUnit *unit,
                                     JsonObject *answer,
                                     GBytes *command,
                                     gint64 *counter,
                                     GError **error)
{
  g_autoptr (GBytes) root = _tke_service_client_dup_unit_root_point (self);
  g_autoptr (TkeUnitCertificate) cert = NULL;
  g_autoptr (JsonObject) verified = NULL;
  g_autoptr (GError) reason = NULL;
  JsonNode *node = json_object_get_member (answer, "response");
  JsonObject *result;

  if (!_tke_service_client_require_unit_root (self, unit, error))
    return NULL;
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    g_set_error_literal (&reason, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC,
                         _ ("its answer is not signed"));
  else
    verified = tke_unit_identity_verify_answer (
        root, json_node_get_object (node), tke_crypto_unit_get_instance_id (unit),
        tke_crypto_unit_get_hsm_id (unit), command, &cert, &reason);
  if (verified == NULL)
    return set_unit_error (error, unit, reason), NULL;
  node = json_object_get_member (verified, "result");
  if (!_tke_service_get_int (verified, "counter", counter, error))
    return NULL;
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return _tke_service_missing (error, "result"), NULL;
  result = json_node_get_object (node);
  if (!check_importer (cert, result, &reason))
    return set_unit_error (error, unit, reason), NULL;
  remember_importer (unit, json_node_get_object (json_object_get_member (answer, "response")),
                     result);
  if (g_strcmp0 (json_object_get_string_member_with_default (verified, "command", NULL), "query") ==
      0)
    keep_evidence (unit, command, json_object_get_member (answer, "response"));
  else if (!check_answer_state (unit, result, *counter, command,
                                json_object_get_member (answer, "response"), error))
    return NULL;
  return json_object_ref (result);
}

/* ---- GET …/unit_root: for a person to compare ---------------------------- */

static void
fetch_root_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  TkeServiceClient *self = source;
  g_autofree char *instance_id = _tke_service_client_dup_instance_id (self);
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GBytes) point = NULL;
  g_autoptr (GError) error = NULL;
  const char *hex;

  if (instance_id == NULL)
    {
      g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                               _ ("No service instance is known. Log in first."));
      return;
    }
  escaped = g_uri_escape_string (instance_id, NULL, FALSE);
  path = g_strdup_printf ("/v1/tke/%s/unit_root", escaped);
  answer = _tke_service_client_request_object (self, "GET", path, TKE_REQUEST_AUTHORIZED, NULL,
                                               cancellable, &error);
  if (answer == NULL || (hex = _tke_service_get_string (answer, "public_key", &error)) == NULL ||
      (point = tke_unit_root_from_hex (hex, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, g_ascii_strdown (hex, -1), g_free);
}

/**
 * tke_service_client_fetch_unit_root_async:
 * @cancellable: (nullable): cancels the transfer
 * @callback: called on the caller's main context
 * @user_data: for @callback
 *
 * Reads the unit root the service names (GET …/unit_root).  The answer is
 * unsigned: show its fingerprint for a person to confirm, or compare it with
 * the pinned one; never pin it without that confirmation.
 */
void
tke_service_client_fetch_unit_root_async (TkeServiceClient *self,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tke_service_client_fetch_unit_root_async);
  g_task_run_in_thread (task, fetch_root_thread);
}

/**
 * tke_service_client_fetch_unit_root_finish:
 *
 * Returns: (transfer full): the service's unit root, 266 lowercase hex digits
 */
char *
tke_service_client_fetch_unit_root_finish (TkeServiceClient *self,
                                           GAsyncResult *result,
                                           GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
