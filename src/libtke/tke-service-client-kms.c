/* tke-service-client-kms.c: the instance-level calls: rotation, rewrap and the KMS
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tke-error.h"
#include "tke-service-client-private.h"
#include "tke-worker-private.h"

G_DEFINE_BOXED_TYPE (TkeKmsKey, tke_kms_key, tke_kms_key_copy, tke_kms_key_free)

TkeKmsKey *
tke_kms_key_copy (const TkeKmsKey *key)
{
  TkeKmsKey *copy = g_new0 (TkeKmsKey, 1);

  copy->id = g_strdup (key->id);
  copy->name = g_strdup (key->name);
  copy->state = key->state;
  copy->creation_date = g_strdup (key->creation_date);
  copy->extractable = key->extractable;
  copy->wkid = g_strdup (key->wkid);
  return copy;
}

void
tke_kms_key_free (TkeKmsKey *key)
{
  if (key == NULL)
    return;
  g_free (key->id);
  g_free (key->name);
  g_free (key->creation_date);
  g_free (key->wkid);
  g_free (key);
}

/* ---- Instance-level calls (worker threads) ------------------------------ */

typedef enum
{
  CALL_START_ROTATION,
  CALL_ROTATION_STATUS,
  CALL_REWRAP,
  CALL_KMS_LIST,
  CALL_KMS_GET,
  CALL_KMS_CREATE,
  CALL_KMS_DELETE,
} CallKind;

typedef struct
{
  CallKind kind;
  char *text;
  GBytes *blob;
  guint offset;
  guint limit;
  gboolean flag;
  guint64 total;
} CallData;

static void
call_data_free (CallData *data)
{
  g_free (data->text);
  g_clear_pointer (&data->blob, g_bytes_unref);
  g_free (data);
}

static char *
instance_path (TkeServiceClient *self, const char *suffix, GError **error)
{
  g_autofree char *instance_id = _tke_service_client_dup_instance_id (self);
  g_autofree char *escaped = NULL;

  if (instance_id == NULL)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("No service instance is known. Log in first."));
      return NULL;
    }
  escaped = g_uri_escape_string (instance_id, NULL, FALSE);
  return g_strdup_printf ("/v1/tke/%s/%s", escaped, suffix);
}

static TkeRotationStatus *
call_rotation (TkeServiceClient *self, gboolean start, GCancellable *cancellable, GError **error)
{
  g_autofree char *path = instance_path (self, start ? "rotate" : "rotation", error);
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (JsonNode) body = NULL;

  if (path == NULL)
    return NULL;
  if (start)
    body = json_from_string ("{}", NULL);
  answer = _tke_service_client_request_object (self, start ? "POST" : "GET", path,
                                               TKE_REQUEST_AUTHORIZED, body, cancellable, error);
  if (answer == NULL)
    return NULL;
  return tke_service_parse_rotation_status (answer, error);
}

static GBytes *
call_rewrap (TkeServiceClient *self, GBytes *blob, GCancellable *cancellable, GError **error)
{
  g_autofree char *encoded =
      g_base64_encode (g_bytes_get_data (blob, NULL), g_bytes_get_size (blob));
  g_autoptr (JsonNode) body = _tke_service_string_args ("blob", encoded, NULL);
  g_autoptr (JsonObject) answer = NULL;
  const char *text;
  guchar *data;
  gsize size;

  answer = _tke_service_client_request_object (self, "POST", "/v1/grep11/rewrap",
                                               TKE_REQUEST_AUTHORIZED | TKE_REQUEST_INSTANCE_HEADER,
                                               body, cancellable, error);
  if (answer == NULL || (text = _tke_service_get_string (answer, "blob", error)) == NULL)
    return NULL;
  data = g_base64_decode (text, &size);
  if (size == 0)
    {
      g_free (data);
      return _tke_service_missing (error, "blob"), NULL;
    }
  return g_bytes_new_take (data, size);
}

static char *
key_path (const char *id, const char *query)
{
  g_autofree char *escaped = g_uri_escape_string (id, NULL, FALSE);

  return g_strdup_printf ("/api/v2/keys/%s%s", escaped, query ? query : "");
}

static gpointer
call_kms (TkeServiceClient *self, CallData *data, GCancellable *cancellable, GError **error)
{
  const TkeRequestFlags flags = TKE_REQUEST_AUTHORIZED | TKE_REQUEST_INSTANCE_HEADER;
  g_autoptr (JsonObject) answer = NULL;
  g_autofree char *path = NULL;

  switch (data->kind)
    {
    case CALL_KMS_LIST:
      path = g_strdup_printf ("/api/v2/keys?offset=%u&limit=%u", data->offset, data->limit);
      answer =
          _tke_service_client_request_object (self, "GET", path, flags, NULL, cancellable, error);
      return answer ? _tke_service_parse_key_collection (answer, &data->total, error) : NULL;
    case CALL_KMS_GET:
      path = key_path (data->text, NULL);
      answer =
          _tke_service_client_request_object (self, "GET", path, flags, NULL, cancellable, error);
      return answer ? _tke_service_first_key (answer, error) : NULL;
    case CALL_KMS_CREATE:
      {
        g_autoptr (JsonBuilder) builder = json_builder_new ();
        g_autoptr (JsonNode) body = NULL;

        json_builder_begin_object (builder);
        json_builder_set_member_name (builder, "metadata");
        json_builder_begin_object (builder);
        json_builder_set_member_name (builder, "collectionType");
        json_builder_add_string_value (builder, "application/vnd.ibm.kms.key+json");
        json_builder_set_member_name (builder, "collectionTotal");
        json_builder_add_int_value (builder, 1);
        json_builder_end_object (builder);
        json_builder_set_member_name (builder, "resources");
        json_builder_begin_array (builder);
        json_builder_begin_object (builder);
        json_builder_set_member_name (builder, "type");
        json_builder_add_string_value (builder, "application/vnd.ibm.kms.key+json");
        json_builder_set_member_name (builder, "name");
        json_builder_add_string_value (builder, data->text);
        json_builder_set_member_name (builder, "extractable");
        json_builder_add_boolean_value (builder, data->flag);
        json_builder_end_object (builder);
        json_builder_end_array (builder);
        json_builder_end_object (builder);
        body = json_builder_get_root (builder);
        answer = _tke_service_client_request_object (self, "POST", "/api/v2/keys", flags, body,
                                                     cancellable, error);
        return answer ? _tke_service_first_key (answer, error) : NULL;
      }
    case CALL_KMS_DELETE:
      {
        g_autoptr (JsonNode) empty = NULL;

        path = key_path (data->text, NULL);
        empty = _tke_service_client_request (self, "DELETE", path, flags, NULL, NULL, cancellable,
                                             NULL, error);
        if (error != NULL && *error != NULL)
          return NULL;
        return GINT_TO_POINTER (1);
      }
    default:
      g_assert_not_reached ();
    }
}

static void
call_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  CallData *data = task_data;
  g_autoptr (GError) error = NULL;
  gpointer result = NULL;
  GDestroyNotify destroy = NULL;

  switch (data->kind)
    {
    case CALL_START_ROTATION:
    case CALL_ROTATION_STATUS:
      result = call_rotation (source, data->kind == CALL_START_ROTATION, cancellable, &error);
      destroy = g_object_unref;
      break;
    case CALL_REWRAP:
      result = call_rewrap (source, data->blob, cancellable, &error);
      destroy = (GDestroyNotify) g_bytes_unref;
      break;
    case CALL_KMS_LIST:
      result = call_kms (source, data, cancellable, &error);
      destroy = (GDestroyNotify) g_ptr_array_unref;
      break;
    case CALL_KMS_GET:
    case CALL_KMS_CREATE:
      result = call_kms (source, data, cancellable, &error);
      destroy = (GDestroyNotify) tke_kms_key_free;
      break;
    case CALL_KMS_DELETE:
      result = call_kms (source, data, cancellable, &error);
      break;
    default:
      g_assert_not_reached ();
    }

  if (result == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, result, destroy);
}

static void
call_async (TkeServiceClient *self,
            CallData *data,
            gpointer source_tag,
            GCancellable *cancellable,
            GAsyncReadyCallback callback,
            gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, data, (GDestroyNotify) call_data_free);
  g_task_run_in_thread (task, call_thread);
}

static gpointer
call_finish (TkeServiceClient *self, GAsyncResult *result, gpointer source_tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static CallData *
call_data_new (CallKind kind)
{
  CallData *data = g_new0 (CallData, 1);

  data->kind = kind;
  return data;
}

void
tke_service_client_start_rotation_async (TkeServiceClient *self,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  call_async (self, call_data_new (CALL_START_ROTATION), tke_service_client_start_rotation_async,
              cancellable, callback, user_data);
}

/**
 * tke_service_client_start_rotation_finish:
 *
 * Returns: (transfer full): the rotation's status after the start
 */
TkeRotationStatus *
tke_service_client_start_rotation_finish (TkeServiceClient *self,
                                          GAsyncResult *result,
                                          GError **error)
{
  return call_finish (self, result, tke_service_client_start_rotation_async, error);
}

void
tke_service_client_get_rotation_status_async (TkeServiceClient *self,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data)
{
  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  call_async (self, call_data_new (CALL_ROTATION_STATUS),
              tke_service_client_get_rotation_status_async, cancellable, callback, user_data);
}

/**
 * tke_service_client_get_rotation_status_finish:
 *
 * Returns: (transfer full): the rotation's status
 */
TkeRotationStatus *
tke_service_client_get_rotation_status_finish (TkeServiceClient *self,
                                               GAsyncResult *result,
                                               GError **error)
{
  return call_finish (self, result, tke_service_client_get_rotation_status_async, error);
}

void
tke_service_client_rewrap_key_blob_async (TkeServiceClient *self,
                                          GBytes *blob,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  CallData *data;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (blob != NULL);

  data = call_data_new (CALL_REWRAP);
  data->blob = g_bytes_ref (blob);
  call_async (self, data, tke_service_client_rewrap_key_blob_async, cancellable, callback,
              user_data);
}

/**
 * tke_service_client_rewrap_key_blob_finish:
 *
 * Returns: (transfer full): the blob under the committed new master key
 */
GBytes *
tke_service_client_rewrap_key_blob_finish (TkeServiceClient *self,
                                           GAsyncResult *result,
                                           GError **error)
{
  return call_finish (self, result, tke_service_client_rewrap_key_blob_async, error);
}

void
tke_service_client_kms_list_keys_async (TkeServiceClient *self,
                                        guint offset,
                                        guint limit,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  CallData *data;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));

  data = call_data_new (CALL_KMS_LIST);
  data->offset = offset;
  data->limit = limit;
  call_async (self, data, tke_service_client_kms_list_keys_async, cancellable, callback, user_data);
}

/**
 * tke_service_client_kms_list_keys_finish:
 * @total_count: (out) (optional): the number of keys in the keystore
 *
 * Returns: (transfer container) (element-type TkeKmsKey): one page of keys
 */
GPtrArray *
tke_service_client_kms_list_keys_finish (TkeServiceClient *self,
                                         GAsyncResult *result,
                                         guint64 *total_count,
                                         GError **error)
{
  GPtrArray *keys = call_finish (self, result, tke_service_client_kms_list_keys_async, error);

  if (keys != NULL && total_count != NULL)
    *total_count = ((CallData *) g_task_get_task_data (G_TASK (result)))->total;
  return keys;
}

void
tke_service_client_kms_get_key_async (TkeServiceClient *self,
                                      const char *id,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  CallData *data;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (id != NULL);

  data = call_data_new (CALL_KMS_GET);
  data->text = g_strdup (id);
  call_async (self, data, tke_service_client_kms_get_key_async, cancellable, callback, user_data);
}

/**
 * tke_service_client_kms_get_key_finish:
 *
 * Returns: (transfer full): the key
 */
TkeKmsKey *
tke_service_client_kms_get_key_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  return call_finish (self, result, tke_service_client_kms_get_key_async, error);
}

void
tke_service_client_kms_create_key_async (TkeServiceClient *self,
                                         const char *name,
                                         gboolean extractable,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  CallData *data;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (name != NULL);

  data = call_data_new (CALL_KMS_CREATE);
  data->text = g_strdup (name);
  data->flag = extractable;
  call_async (self, data, tke_service_client_kms_create_key_async, cancellable, callback,
              user_data);
}

/**
 * tke_service_client_kms_create_key_finish:
 *
 * Returns: (transfer full): the new key
 */
TkeKmsKey *
tke_service_client_kms_create_key_finish (TkeServiceClient *self,
                                          GAsyncResult *result,
                                          GError **error)
{
  return call_finish (self, result, tke_service_client_kms_create_key_async, error);
}

void
tke_service_client_kms_delete_key_async (TkeServiceClient *self,
                                         const char *id,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  CallData *data;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (id != NULL);

  data = call_data_new (CALL_KMS_DELETE);
  data->text = g_strdup (id);
  call_async (self, data, tke_service_client_kms_delete_key_async, cancellable, callback,
              user_data);
}

gboolean
tke_service_client_kms_delete_key_finish (TkeServiceClient *self,
                                          GAsyncResult *result,
                                          GError **error)
{
  return call_finish (self, result, tke_service_client_kms_delete_key_async, error) != NULL;
}
