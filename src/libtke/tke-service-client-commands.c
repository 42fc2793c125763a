/* tke-service-client-commands.c: building, signing and sending commands
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Signed commands are a small state machine on the caller's main context:
 * read the unit's counter (worker), build the bytes, ask each signer in
 * turn (a card signer may wait for a PIN on the PIN pad), send (worker).
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tke-error.h"
#include "tke-service-client-private.h"
#include "tke-crypto.h"
#include "tke-crypto-unit-private.h"
#include "tke-signer.h"
#include "tke-unit-identity.h"
#include "tke-worker-private.h"

/* ---- Commands: bytes, query, send (worker threads) --------------------- */

/**
 * tke_service_client_build_command:
 * @instance_id: the service instance
 * @hsm_id: the crypto unit
 * @command: the command name, e.g. "commit"
 * @counter: the unit's current command counter
 * @args_json: (nullable): the arguments as a JSON object
 *
 * The canonical bytes of a command, which the administrators sign.
 *
 * Returns: (transfer full): the command as JSON bytes
 */
GBytes *
tke_service_client_build_command (const char *instance_id,
                                  const char *hsm_id,
                                  const char *command,
                                  gint64 counter,
                                  gint64 expires,
                                  const char *args_json)
{
  gboolean query;

  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonNode) args = NULL;
  gsize size;
  char *text;

  g_return_val_if_fail (instance_id != NULL && hsm_id != NULL && command != NULL, NULL);

  /* A query is unsigned and carries a nonce instead (service-protocol.md §10.4). */
  query = g_str_equal (command, "query");
  if (expires == 0)
    expires = g_get_real_time () / G_USEC_PER_SEC + TKE_COMMAND_LIFETIME_SECONDS;

  args = json_from_string (args_json != NULL ? args_json : "{}", NULL);
  if (args == NULL || !JSON_NODE_HOLDS_OBJECT (args))
    {
      g_clear_pointer (&args, json_node_unref);
      args = json_from_string ("{}", NULL);
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  json_builder_set_member_name (builder, "command");
  json_builder_add_string_value (builder, command);
  json_builder_set_member_name (builder, "instance");
  json_builder_add_string_value (builder, instance_id);
  json_builder_set_member_name (builder, "hsm_id");
  json_builder_add_string_value (builder, hsm_id);
  json_builder_set_member_name (builder, "counter");
  json_builder_add_int_value (builder, counter);
  if (!query)
    {
      json_builder_set_member_name (builder, "expires");
      json_builder_add_int_value (builder, expires);
    }
  json_builder_set_member_name (builder, "args");
  json_builder_add_value (builder, g_steal_pointer (&args));
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &size);
  return g_bytes_new_take (text, size);
}

static char *
unit_path (TkeCryptoUnit *unit)
{
  g_autofree char *instance =
      g_uri_escape_string (tke_crypto_unit_get_instance_id (unit), NULL, FALSE);
  g_autofree char *hsm = g_uri_escape_string (tke_crypto_unit_get_hsm_id (unit), NULL, FALSE);

  return g_strdup_printf ("/v1/tke/%s/hsms/%s", instance, hsm);
}

static JsonNode *
make_envelope (GBytes *command, GPtrArray *signatures)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *encoded =
      g_base64_encode (g_bytes_get_data (command, NULL), g_bytes_get_size (command));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "request");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "command");
  json_builder_add_string_value (builder, encoded);
  json_builder_set_member_name (builder, "signatures");
  json_builder_begin_array (builder);
  for (guint i = 0; signatures != NULL && i + 1 < signatures->len; i += 2)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "ski");
      json_builder_add_string_value (builder, signatures->pdata[i]);
      json_builder_set_member_name (builder, "signature");
      json_builder_add_string_value (builder, signatures->pdata[i + 1]);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* Sends a command; @signatures holds pairs (ski, base64 signature).
 * Returns the response's "result" and sets @counter to the new counter. */
JsonObject *
_tke_service_client_post_command (TkeServiceClient *self,
                                  TkeCryptoUnit *unit,
                                  GBytes *command,
                                  GPtrArray *signatures,
                                  GCancellable *cancellable,
                                  gint64 *counter,
                                  GError **error)
{
  g_autoptr (JsonNode) envelope = make_envelope (command, signatures);
  g_autoptr (JsonObject) answer = NULL;
  g_autofree char *path = unit_path (unit);
  JsonObject *result;
  gint64 new_counter;

  /* Nothing is sent that could not be verified when it comes back. */
  if (!_tke_service_client_require_unit_root (self, unit, error))
    return NULL;
  answer = _tke_service_client_request_object (self, "POST", path, TKE_REQUEST_AUTHORIZED, envelope,
                                               cancellable, error);
  if (answer == NULL)
    return NULL;
  result = _tke_service_client_verified_result (self, unit, answer, command, &new_counter, error);
  if (result != NULL && counter != NULL)
    *counter = new_counter;
  return result;
}

JsonObject *
_tke_service_client_query_unit (TkeServiceClient *self,
                                TkeCryptoUnit *unit,
                                GCancellable *cancellable,
                                GError **error)
{
  guint8 nonce[32];
  g_autofree char *nonce_hex = NULL;
  g_autofree char *args = NULL;
  g_autoptr (GBytes) command = NULL;

  /* A fresh nonce: an old, genuinely signed answer never matches. */
  if (!tke_crypto_random_bytes (nonce, sizeof nonce, error))
    return NULL;
  nonce_hex = tke_crypto_hex_encode (nonce, sizeof nonce);
  args = g_strdup_printf ("{\"nonce\":\"%s\"}", nonce_hex);
  command =
      tke_service_client_build_command (tke_crypto_unit_get_instance_id (unit),
                                        tke_crypto_unit_get_hsm_id (unit), "query", 0, 0, args);
  return _tke_service_client_post_command (self, unit, command, NULL, cancellable, NULL, error);
}

/* ---- Signed commands (caller's main context) ---------------------------- */

typedef struct
{
  TkeCryptoUnit *unit;
  char *command;
  char *args_json;
  GBytes *prebuilt;
  GBytes *bytes;
  guint lifetime; /* seconds; 0: TKE_COMMAND_LIFETIME_SECONDS */
  gint64 expires;
  GPtrArray *signers;
  guint next_signer;
  GPtrArray *signatures; /* ski, base64, ski, base64, … */
} CommandData;

static void
command_data_free (CommandData *data)
{
  g_clear_object (&data->unit);
  g_free (data->command);
  g_free (data->args_json);
  g_clear_pointer (&data->prebuilt, g_bytes_unref);
  g_clear_pointer (&data->bytes, g_bytes_unref);
  g_clear_pointer (&data->signers, g_ptr_array_unref);
  g_clear_pointer (&data->signatures, g_ptr_array_unref);
  g_free (data);
}

static void command_sign_next (GTask *task);

static void
command_prepare_thread (GTask *step, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  CommandData *data = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) result = NULL;
  gint64 counter;
  guint lifetime = data->lifetime != 0 ? data->lifetime : TKE_COMMAND_LIFETIME_SECONDS;

  result = _tke_service_client_query_unit (source, data->unit, cancellable, &error);
  if (result == NULL || !_tke_service_get_int (result, "counter", &counter, &error))
    {
      g_task_return_error (step, g_steal_pointer (&error));
      return;
    }
  data->expires = g_get_real_time () / G_USEC_PER_SEC + lifetime;
  data->bytes = tke_service_client_build_command (
      tke_crypto_unit_get_instance_id (data->unit), tke_crypto_unit_get_hsm_id (data->unit),
      data->command, counter, data->expires, data->args_json);
  g_task_return_boolean (step, TRUE);
}

static void
command_send_thread (GTask *step, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  CommandData *data = task_data;
  g_autoptr (GError) error = NULL;
  JsonObject *result;

  result = _tke_service_client_post_command (source, data->unit, data->bytes, data->signatures,
                                             cancellable, NULL, &error);
  if (result == NULL)
    g_task_return_error (step, g_steal_pointer (&error));
  else
    g_task_return_pointer (step, result, (GDestroyNotify) json_object_unref);
}

static void
on_command_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  JsonObject *object;

  object = g_task_propagate_pointer (G_TASK (result), &error);
  if (object == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, object, (GDestroyNotify) json_object_unref);
}

static void
run_step (GTask *task, GTaskThreadFunc func, GAsyncReadyCallback done)
{
  g_autoptr (GTask) step = g_task_new (g_task_get_source_object (task),
                                       g_task_get_cancellable (task), done, g_object_ref (task));

  g_task_set_task_data (step, g_task_get_task_data (task), NULL);
  g_task_run_in_thread (step, func);
}

static void
on_signed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CommandData *data = g_task_get_task_data (task);
  TkeSigner *signer = TKE_SIGNER (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) signature = NULL;
  const char *ski;

  signature = tke_signer_sign_finish (signer, result, &error);
  if (signature == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  ski = tke_signer_get_ski (signer);
  if (ski == NULL)
    {
      g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_FAILED,
                               _ ("The signature key did not say its subject key identifier."));
      return;
    }
  g_ptr_array_add (data->signatures, g_ascii_strdown (ski, -1));
  g_ptr_array_add (data->signatures, g_base64_encode (g_bytes_get_data (signature, NULL),
                                                      g_bytes_get_size (signature)));
  command_sign_next (g_steal_pointer (&task));
}

/* Takes the reference to @task. */
static void
command_sign_next (GTask *task)
{
  CommandData *data = g_task_get_task_data (task);

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  if (data->signers == NULL || data->next_signer >= data->signers->len)
    {
      run_step (task, command_send_thread, on_command_sent);
      g_object_unref (task);
      return;
    }
  tke_signer_sign_async (data->signers->pdata[data->next_signer++], data->bytes,
                         g_task_get_cancellable (task), on_signed, task);
}

static void
on_command_prepared (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  command_sign_next (g_steal_pointer (&task));
}

static GPtrArray *
copy_signers (GPtrArray *signers)
{
  GPtrArray *copy = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; signers != NULL && i < signers->len; i++)
    {
      g_return_val_if_fail (TKE_IS_SIGNER (signers->pdata[i]), copy);
      g_ptr_array_add (copy, g_object_ref (signers->pdata[i]));
    }
  return copy;
}

void
_tke_service_client_command_async (TkeServiceClient *self,
                                   TkeCryptoUnit *unit,
                                   const char *command,
                                   JsonNode *args,
                                   GBytes *prebuilt,
                                   GPtrArray *signers,
                                   gpointer source_tag,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  GTask *task;
  CommandData *data = g_new0 (CommandData, 1);

  data->unit = g_object_ref (unit);
  data->command = g_strdup (command);
  if (args != NULL)
    data->args_json = json_to_string (args, FALSE);
  if (prebuilt != NULL)
    data->bytes = g_bytes_ref (prebuilt);
  data->signers = copy_signers (signers);
  data->signatures = g_ptr_array_new_with_free_func (g_free);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, data, (GDestroyNotify) command_data_free);
  if (prebuilt != NULL)
    command_sign_next (task);
  else
    {
      run_step (task, command_prepare_thread, on_command_prepared);
      g_object_unref (task);
    }
}

/* On the caller's main context: the state a command's verified answer
 * carried becomes the unit's, with the signed answer as its evidence, as a
 * verified query's does. */
static gboolean
apply_answer_state (TkeCryptoUnit *unit, JsonObject *object, GError **error)
{
  g_autofree char *evidence =
      g_object_steal_data (G_OBJECT (unit), TKE_CRYPTO_UNIT_ANSWER_EVIDENCE_KEY);
  JsonNode *node = json_object_get_member (object, "state");
  gint64 counter;

  if (node == NULL || evidence == NULL)
    return TRUE;
  if (!_tke_service_apply_query (unit, json_node_get_object (node), &counter, error))
    return FALSE;
  _tke_crypto_unit_set_evidence (unit, evidence);
  g_object_set_data (G_OBJECT (unit), TKE_CRYPTO_UNIT_STATE_FROM_ANSWER_KEY, GINT_TO_POINTER (1));
  return TRUE;
}

JsonObject *
_tke_service_client_command_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  CommandData *data;
  g_autoptr (JsonObject) object = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  data = g_task_get_task_data (G_TASK (result));
  object = g_task_propagate_pointer (G_TASK (result), error);
  if (object == NULL || !apply_answer_state (data->unit, object, error))
    return NULL;
  return g_steal_pointer (&object);
}

/* ---- Sent as signed apart (a ceremony's signer-by-signer order) ---- */

void
_tke_service_client_send_signed_async (TkeServiceClient *self,
                                       TkeCryptoUnit *unit,
                                       GBytes *command,
                                       GPtrArray *signatures,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  CommandData *data = g_new0 (CommandData, 1);

  data->unit = g_object_ref (unit);
  data->bytes = g_bytes_ref (command);
  data->signatures = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; signatures != NULL && i < signatures->len; i++)
    g_ptr_array_add (data->signatures, g_strdup (signatures->pdata[i]));
  g_task_set_source_tag (task, _tke_service_client_send_signed_async);
  g_task_set_task_data (task, data, (GDestroyNotify) command_data_free);
  run_step (task, command_send_thread, on_command_sent);
}

JsonObject *
_tke_service_client_send_signed_finish (TkeServiceClient *self,
                                        GAsyncResult *result,
                                        GError **error)
{
  return _tke_service_client_command_finish (self, result, error);
}

/* Builds {"member": value, …} from alternating names and string values. */
JsonNode *
_tke_service_string_args (const char *first_member, ...)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  const char *member = first_member;
  va_list ap;

  va_start (ap, first_member);
  json_builder_begin_object (builder);
  while (member != NULL)
    {
      json_builder_set_member_name (builder, member);
      json_builder_add_string_value (builder, va_arg (ap, const char *));
      member = va_arg (ap, const char *);
    }
  json_builder_end_object (builder);
  va_end (ap);
  return json_builder_get_root (builder);
}

/**
 * tke_service_client_send_command_async:
 * @unit: the crypto unit
 * @command: the command bytes
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_send_command_async (TkeServiceClient *self,
                                       TkeCryptoUnit *unit,
                                       GBytes *command,
                                       GPtrArray *signers,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));
  g_return_if_fail (command != NULL);

  _tke_service_client_command_async (self, unit, NULL, NULL, command, signers,
                                     tke_service_client_send_command_async, cancellable, callback,
                                     user_data);
}

/**
 * tke_service_client_send_command_finish:
 *
 * Returns: (transfer full): the command's result object
 */
JsonObject *
tke_service_client_send_command_finish (TkeServiceClient *self,
                                        GAsyncResult *result,
                                        GError **error)
{
  return _tke_service_client_command_finish (self, result, error);
}
