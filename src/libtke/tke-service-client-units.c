/* tke-service-client-units.c: listing and refreshing the crypto units
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tke-crypto-unit-private.h"
#include "tke-error.h"
#include "tke-service-client-private.h"
#include "tke-worker-private.h"

/* ---- Units ------------------------------------------------------------- */

static gboolean
add_units (TkeServiceInstance *instance, JsonObject *answer, const char *member, GError **error)
{
  JsonNode *node = json_object_get_member (answer, member);
  JsonArray *array;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return _tke_service_missing (error, member);
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      g_autoptr (TkeCryptoUnit) unit = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return _tke_service_missing (error, member);
      unit = _tke_service_parse_hsm (tke_service_instance_get_id (instance),
                                     json_node_get_object (element), error);
      if (unit == NULL)
        return FALSE;
      tke_service_instance_add_unit (instance, unit);
    }
  return TRUE;
}

/* Queries one unit; a unit that does not answer is unreachable, but an
 * expired token or a cancellation stops the whole listing. */
static gboolean
query_into_unit (TkeServiceClient *self,
                 TkeCryptoUnit *unit,
                 GCancellable *cancellable,
                 gint64 *counter,
                 GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonObject) result =
      _tke_service_client_query_unit (self, unit, cancellable, &local_error);

  *counter = -1;
  if (result != NULL && _tke_service_apply_query (unit, result, counter, &local_error))
    return TRUE;
  *counter = -1;
  /* A unit that is not authentic is refused loudly, never listed as merely
   * unreachable. */
  if (g_error_matches (local_error, TKE_ERROR, TKE_ERROR_AUTH_EXPIRED) ||
      g_error_matches (local_error, TKE_ERROR, TKE_ERROR_UNAUTHORIZED) ||
      g_error_matches (local_error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC) ||
      g_error_matches (local_error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_NOT_PINNED) ||
      g_error_matches (local_error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED) ||
      g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_debug ("Crypto unit %u did not answer the query: %s", tke_crypto_unit_get_number (unit),
           local_error->message);
  tke_crypto_unit_set_reachable (unit, FALSE);
  return TRUE;
}

static void
list_units_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  TkeServiceClient *self = source;
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *instance_id = _tke_service_client_dup_instance_id (self);
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  GListModel *units;

  if (instance_id == NULL)
    {
      g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                               _ ("No service instance is known. Log in first."));
      return;
    }
  escaped = g_uri_escape_string (instance_id, NULL, FALSE);
  path = g_strdup_printf ("/v1/tke/%s/hsms", escaped);
  answer = _tke_service_client_request_object (self, "GET", path, TKE_REQUEST_AUTHORIZED, NULL,
                                               cancellable, &error);
  instance = tke_service_instance_new (instance_id);
  if (answer == NULL || !add_units (instance, answer, "hsms", &error) ||
      !add_units (instance, answer, "source_hsms", &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  units = tke_service_instance_get_units (instance);
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      gint64 counter;

      if (!query_into_unit (self, unit, cancellable, &counter, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }
  g_task_return_pointer (task, g_steal_pointer (&instance), g_object_unref);
}

/**
 * tke_service_client_list_units_async:
 * @self: a #TkeServiceClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the call completes
 * @user_data: for @callback
 *
 * Lists the instance's crypto units and queries each.
 */
void
tke_service_client_list_units_async (TkeServiceClient *self,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tke_service_client_list_units_async);
  g_task_run_in_thread (task, list_units_thread);
}

/**
 * tke_service_client_list_units_finish:
 *
 * Returns: (transfer full): the instance with its units
 */
TkeServiceInstance *
tke_service_client_list_units_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Refresh: the worker queries copies; finish applies them on the caller's
 * thread, so that property notifications reach the GUI where it runs. */
static TkeCryptoUnit *
copy_unit_identity (TkeCryptoUnit *unit)
{
  return tke_crypto_unit_new (tke_crypto_unit_get_instance_id (unit),
                              tke_crypto_unit_get_hsm_id (unit), tke_crypto_unit_get_number (unit),
                              tke_crypto_unit_get_unit_type (unit),
                              tke_crypto_unit_get_location (unit));
}

static void
copy_unit_state (TkeCryptoUnit *to, TkeCryptoUnit *from)
{
  GListModel *admins = tke_crypto_unit_get_administrators (from);
  g_autoptr (GPtrArray) array = g_ptr_array_new_with_free_func (g_object_unref);

  g_autofree char *evidence = tke_crypto_unit_dup_evidence (from);

  tke_crypto_unit_set_reachable (to, tke_crypto_unit_get_reachable (from));
  if (!tke_crypto_unit_get_reachable (from))
    return;
  _tke_crypto_unit_set_evidence (to, evidence);
  for (guint i = 0; i < g_list_model_get_n_items (admins); i++)
    g_ptr_array_add (array, g_list_model_get_item (admins, i));
  tke_crypto_unit_set_administrators (to, array);
  tke_crypto_unit_set_thresholds (to, tke_crypto_unit_get_imprint_mode (from),
                                  tke_crypto_unit_get_signature_threshold (from),
                                  tke_crypto_unit_get_revocation_threshold (from));
  tke_crypto_unit_set_registers (to, tke_crypto_unit_get_new_register_state (from),
                                 tke_crypto_unit_get_new_register_vp (from),
                                 tke_crypto_unit_get_current_register_state (from),
                                 tke_crypto_unit_get_current_register_vp (from));
}

typedef struct
{
  GPtrArray *originals;
  GPtrArray *copies;
  GArray *counters; /* gint64 per unit, from its verified answer; -1: none */
} RefreshData;

static void
refresh_data_free (RefreshData *data)
{
  g_ptr_array_unref (data->originals);
  g_ptr_array_unref (data->copies);
  g_array_unref (data->counters);
  g_free (data);
}

static void
refresh_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  RefreshData *data = task_data;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < data->copies->len; i++)
    if (!query_into_unit (source, data->copies->pdata[i], cancellable,
                          &g_array_index (data->counters, gint64, i), &error))
      {
        g_task_return_error (task, g_steal_pointer (&error));
        return;
      }
  g_task_return_boolean (task, TRUE);
}

/**
 * tke_service_client_refresh_units_async:
 * @self: a #TkeServiceClient
 * @units: a #GListModel of the #TkeCryptoUnit objects to refresh
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the call completes
 * @user_data: for @callback
 *
 * Queries @units again; the finish function updates them.
 */
void
tke_service_client_refresh_units_async (TkeServiceClient *self,
                                        GListModel *units,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  RefreshData *data;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (G_IS_LIST_MODEL (units));

  data = g_new0 (RefreshData, 1);
  data->originals = g_ptr_array_new_with_free_func (g_object_unref);
  data->copies = g_ptr_array_new_with_free_func (g_object_unref);
  data->counters = g_array_new (FALSE, TRUE, sizeof (gint64));
  g_array_set_size (data->counters, g_list_model_get_n_items (units));
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      TkeCryptoUnit *unit = g_list_model_get_item (units, i);

      g_ptr_array_add (data->originals, unit);
      g_ptr_array_add (data->copies, copy_unit_identity (unit));
    }
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tke_service_client_refresh_units_async);
  g_task_set_task_data (task, data, (GDestroyNotify) refresh_data_free);
  g_task_run_in_thread (task, refresh_thread);
}

/**
 * tke_service_client_refresh_units_finish:
 *
 * Updates the units passed to the async call (on the calling thread).
 */
gboolean
tke_service_client_refresh_units_finish (TkeServiceClient *self,
                                         GAsyncResult *result,
                                         GError **error)
{
  RefreshData *data;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  data = g_task_get_task_data (G_TASK (result));
  for (guint i = 0; i < data->originals->len; i++)
    copy_unit_state (data->originals->pdata[i], data->copies->pdata[i]);
  return TRUE;
}

/* The same, with each unit's transaction counter from the verified, fresh
 * answer its state came from (-1 for a unit that did not answer): the
 * counter a command prepared from that state carries. */
gboolean
_tke_service_client_refresh_units_finish_counters (TkeServiceClient *self,
                                                   GAsyncResult *result,
                                                   GArray **counters,
                                                   GError **error)
{
  RefreshData *data;

  if (!tke_service_client_refresh_units_finish (self, result, error))
    return FALSE;
  data = g_task_get_task_data (G_TASK (result));
  *counters = g_array_ref (data->counters);
  return TRUE;
}
