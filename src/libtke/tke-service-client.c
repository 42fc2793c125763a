/* tke-service-client.c: the crypto-unit service over HTTPS
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The protocol is data/doc/service-protocol.md.  Transfers run on GTask
 * worker threads with libcurl; each client keeps a small pool of easy
 * handles so that connections stay alive between calls, and each transfer
 * checks the GCancellable from curl's progress callback, so cancelling
 * aborts it.  TLS verification is never switched off: the CA file names
 * the service's CA, otherwise the system's store is used.
 *
 * The type spans several files that share tke-service-client-private.h:
 * this one (the object, its token and the login), -transport.c (the
 * handle pool, libcurl, error answers), -parse.c (the JSON answers),
 * -commands.c (command bytes, signing, sending), -units.c (listing and
 * refreshing units), -methods.c (the unit's administrative commands) and
 * -kms.c (rotation, rewrap and the KMS calls).
 */

#include "config.h"

#include <openssl/crypto.h>

#include <string.h>

#include <curl/curl.h>
#include <glib/gi18n-lib.h>

#include "tke-error.h"
#include "tke-service-client-private.h"
#include "tke-worker-private.h"

#define GRANT_TYPE "urn:ibm:params:oauth:grant-type:apikey"

G_DEFINE_FINAL_TYPE (TkeServiceClient, tke_service_client, G_TYPE_OBJECT)

/* ---- The client object ------------------------------------------------ */

/**
 * tke_service_client_new:
 * @endpoint: the service's base URL, `https://host:port`
 * @ca_file: (nullable): a PEM file with the CA that issued the service's
 *   certificate; %NULL for the system's trust store
 *
 * Returns: (transfer full): a client with no token yet
 */
TkeServiceClient *
tke_service_client_new (const char *endpoint, const char *ca_file)
{
  TkeServiceClient *self;

  g_return_val_if_fail (endpoint != NULL, NULL);

  self = g_object_new (TKE_TYPE_SERVICE_CLIENT, NULL);
  self->endpoint = g_strdup (endpoint);
  /* Paths are appended with their leading slash. */
  while (g_str_has_suffix (self->endpoint, "/"))
    self->endpoint[strlen (self->endpoint) - 1] = '\0';
  self->ca_file = g_strdup (ca_file);
  return self;
}

const char *
tke_service_client_get_endpoint (TkeServiceClient *self)
{
  g_return_val_if_fail (TKE_IS_SERVICE_CLIENT (self), NULL);
  return self->endpoint;
}

const char *
tke_service_client_get_ca_file (TkeServiceClient *self)
{
  g_return_val_if_fail (TKE_IS_SERVICE_CLIENT (self), NULL);
  return self->ca_file;
}

void
tke_service_client_set_timeouts (TkeServiceClient *self,
                                 guint transfer_seconds,
                                 guint connect_seconds)
{
  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  self->transfer_timeout = transfer_seconds;
  self->connect_timeout = connect_seconds;
}

/**
 * tke_service_client_set_token:
 * @access_token: (nullable): a bearer token, e.g. restored from the keyring
 *
 * Also takes the instance id and expiry from the token's claims, unless an
 * instance id was set explicitly.
 */
void
tke_service_client_set_token (TkeServiceClient *self, const TkeSecret *access_token)
{
  g_autofree char *text = NULL;
  g_autofree char *instance_id = NULL;
  gint64 expiration = 0;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));

  if (access_token != NULL)
    {
      text = g_strndup ((const char *) tke_secret_get_data (access_token),
                        tke_secret_get_size (access_token));
      tke_service_read_token_claims (text, &instance_id, &expiration);
    }

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->token, tke_secret_unref);
  if (access_token != NULL)
    self->token = tke_secret_new_from_data (tke_secret_get_data (access_token),
                                            tke_secret_get_size (access_token));
  self->token_expiration = expiration;
  if (self->instance_id == NULL && instance_id != NULL)
    self->instance_id = g_steal_pointer (&instance_id);
  g_mutex_unlock (&self->lock);
}

/**
 * tke_service_client_dup_token:
 *
 * Returns: (transfer full) (nullable): the bearer token, to keep it in the
 *   keyring
 */
TkeSecret *
tke_service_client_dup_token (TkeServiceClient *self)
{
  TkeSecret *token = NULL;

  g_return_val_if_fail (TKE_IS_SERVICE_CLIENT (self), NULL);

  g_mutex_lock (&self->lock);
  if (self->token != NULL)
    token = tke_secret_ref (self->token);
  g_mutex_unlock (&self->lock);
  return token;
}

gint64
tke_service_client_get_token_expiration (TkeServiceClient *self)
{
  g_return_val_if_fail (TKE_IS_SERVICE_CLIENT (self), 0);
  return self->token_expiration;
}

const char *
tke_service_client_get_instance_id (TkeServiceClient *self)
{
  g_return_val_if_fail (TKE_IS_SERVICE_CLIENT (self), NULL);
  return self->instance_id;
}

void
tke_service_client_set_instance_id (TkeServiceClient *self, const char *instance_id)
{
  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));

  g_mutex_lock (&self->lock);
  g_free (self->instance_id);
  self->instance_id = g_strdup (instance_id);
  g_mutex_unlock (&self->lock);
}

char *
_tke_service_client_dup_instance_id (TkeServiceClient *self)
{
  char *id;

  g_mutex_lock (&self->lock);
  id = g_strdup (self->instance_id);
  g_mutex_unlock (&self->lock);
  return id;
}

/* ---- Token claims ------------------------------------------------------ */

static GBytes *
base64url_decode (const char *text, gsize length)
{
  g_autoptr (GString) std = g_string_new_len (text, length);
  guchar *data;
  gsize size;

  g_strdelimit (std->str, "-", '+');
  g_strdelimit (std->str, "_", '/');
  while (std->len % 4 != 0)
    g_string_append_c (std, '=');
  data = g_base64_decode (std->str, &size);
  return g_bytes_new_take (data, size);
}

gboolean
tke_service_read_token_claims (const char *token, char **instance_id, gint64 *expiration)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GBytes) payload = NULL;
  const char *start, *end;
  JsonNode *root;
  JsonObject *claims;

  *instance_id = NULL;
  *expiration = 0;
  start = strchr (token, '.');
  if (start == NULL || (end = strchr (start + 1, '.')) == NULL)
    return FALSE;
  payload = base64url_decode (start + 1, end - start - 1);
  if (!json_parser_load_from_data (parser, g_bytes_get_data (payload, NULL),
                                   g_bytes_get_size (payload), NULL))
    return FALSE;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  claims = json_node_get_object (root);
  if (json_object_has_member (claims, "instance") &&
      JSON_NODE_HOLDS_VALUE (json_object_get_member (claims, "instance")))
    *instance_id = g_strdup (json_object_get_string_member (claims, "instance"));
  *expiration = json_object_get_int_member_with_default (claims, "exp", 0);
  return TRUE;
}

/* ---- Login ------------------------------------------------------------- */

static void
login_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  TkeServiceClient *self = source;
  TkeSecret *api_key = task_data;
  g_autoptr (JsonNode) answer = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) token = NULL;
  g_autoptr (GString) form = NULL;
  JsonObject *object;
  const char *access_token;
  char *escaped;

  /* The form carries the API key: build it in one buffer and wipe it. */
  escaped = curl_easy_escape (NULL, (const char *) tke_secret_get_data (api_key),
                              (int) tke_secret_get_size (api_key));
  form = g_string_new ("grant_type=" GRANT_TYPE "&apikey=");
  g_string_append (form, escaped);
  OPENSSL_cleanse (escaped, strlen (escaped));
  curl_free (escaped);
  body = g_bytes_new (form->str, form->len);
  OPENSSL_cleanse (form->str, form->len);

  answer = _tke_service_client_request (self, "POST", "/identity/token", 0,
                                        "application/x-www-form-urlencoded", body, cancellable,
                                        NULL, &error);
  if (answer == NULL)
    {
      if (error == NULL)
        g_set_error_literal (&error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                             _ ("The service answered the login with an empty body."));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (answer) ||
      (access_token =
           _tke_service_get_string (json_node_get_object (answer), "access_token", &error)) == NULL)
    {
      if (error == NULL)
        _tke_service_missing (&error, "access_token");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  object = json_node_get_object (answer);
  token = tke_secret_new_from_data ((const guint8 *) access_token, strlen (access_token));
  tke_service_client_set_token (self, token);
  /* A token that is not a JWT: trust "expires_in". */
  g_mutex_lock (&self->lock);
  if (self->token_expiration == 0)
    self->token_expiration = g_get_real_time () / G_USEC_PER_SEC +
                             json_object_get_int_member_with_default (object, "expires_in", 0);
  g_mutex_unlock (&self->lock);
  g_task_return_boolean (task, TRUE);
}

/**
 * tke_service_client_login_async:
 * @api_key: the API key (not kept)
 *
 * Exchanges the API key for a bearer token (POST /identity/token).
 */
void
tke_service_client_login_async (TkeServiceClient *self,
                                const TkeSecret *api_key,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (api_key != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tke_service_client_login_async);
  g_task_set_task_data (
      task, tke_secret_new_from_data (tke_secret_get_data (api_key), tke_secret_get_size (api_key)),
      (GDestroyNotify) tke_secret_unref);
  g_task_run_in_thread (task, login_thread);
}

gboolean
tke_service_client_login_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- GObject ------------------------------------------------------------ */

static void
tke_service_client_finalize (GObject *object)
{
  TkeServiceClient *self = TKE_SERVICE_CLIENT (object);

  g_clear_pointer (&self->idle_handles, g_ptr_array_unref);
  g_clear_pointer (&self->token, tke_secret_unref);
  g_clear_pointer (&self->instance_id, g_free);
  g_clear_pointer (&self->endpoint, g_free);
  g_clear_pointer (&self->ca_file, g_free);
  g_clear_pointer (&self->unit_root, g_bytes_unref);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (tke_service_client_parent_class)->finalize (object);
}

static void
tke_service_client_class_init (TkeServiceClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tke_service_client_finalize;
  _tke_service_client_install_identity_properties (object_class);

  /* Once, from the thread that makes the first client, before any worker. */
  curl_global_init (CURL_GLOBAL_DEFAULT);
}

static void
tke_service_client_init (TkeServiceClient *self)
{
  g_mutex_init (&self->lock);
  self->idle_handles = g_ptr_array_new_with_free_func ((GDestroyNotify) curl_easy_cleanup);
  self->transfer_timeout = 60;
  self->connect_timeout = 10;
}
