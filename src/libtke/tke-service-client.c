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
#include "tke-json-private.h"
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

/**
 * tke_service_client_get_endpoint:
 * @self: a #TkeServiceClient
 *
 * Returns: the service's base URL, without a trailing slash
 */
const char *
tke_service_client_get_endpoint (TkeServiceClient *self)
{
  g_return_val_if_fail (TKE_IS_SERVICE_CLIENT (self), NULL);
  return self->endpoint;
}

/**
 * tke_service_client_get_ca_file:
 * @self: a #TkeServiceClient
 *
 * Returns: (nullable) (type filename): the CA file, or %NULL for the system's trust store
 */
const char *
tke_service_client_get_ca_file (TkeServiceClient *self)
{
  g_return_val_if_fail (TKE_IS_SERVICE_CLIENT (self), NULL);
  return self->ca_file;
}

/**
 * tke_service_client_set_timeouts:
 * @self: a #TkeServiceClient
 * @transfer_seconds: the most a whole exchange may take
 * @connect_seconds: the most connecting may take
 *
 * Bounds every transfer; 0 means no bound.
 */
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
  g_autofree char *instance_id = NULL;
  gint64 expiration = 0;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));

  /* The claims are read from the secret's bytes: a g_strndup() of the
   * token would leave a copy in freed memory. */
  if (access_token != NULL)
    _tke_service_read_token_claims ((const char *) tke_secret_get_data (access_token),
                                    tke_secret_get_size (access_token), &instance_id, &expiration);

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

/**
 * tke_service_client_get_token_expiration:
 * @self: a #TkeServiceClient
 *
 * Returns: the token's expiry in seconds since the epoch, or 0
 */
gint64
tke_service_client_get_token_expiration (TkeServiceClient *self)
{
  g_return_val_if_fail (TKE_IS_SERVICE_CLIENT (self), 0);
  return self->token_expiration;
}

/**
 * tke_service_client_get_instance_id:
 * @self: a #TkeServiceClient
 *
 * Returns: (nullable): the service instance, from the token or set explicitly
 */
const char *
tke_service_client_get_instance_id (TkeServiceClient *self)
{
  g_return_val_if_fail (TKE_IS_SERVICE_CLIENT (self), NULL);
  return self->instance_id;
}

/**
 * tke_service_client_set_instance_id:
 * @self: a #TkeServiceClient
 * @instance_id: (nullable): the instance
 *
 * Sets the service instance the calls address.
 */
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
_tke_service_read_token_claims (const char *token,
                                gsize length,
                                char **instance_id,
                                gint64 *expiration)
{
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (JsonNode) root = NULL;
  const char *start, *end;
  JsonObject *claims;

  *instance_id = NULL;
  *expiration = 0;
  /* Only the middle part (the claims) is copied, not the signature. */
  start = memchr (token, '.', length);
  if (start == NULL || (end = memchr (start + 1, '.', token + length - start - 1)) == NULL)
    return FALSE;
  payload = base64url_decode (start + 1, end - start - 1);
  root = _tke_json_parse_bytes (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload), NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  claims = json_node_get_object (root);
  *instance_id = g_strdup (_tke_json_get_string (claims, "instance"));
  *expiration = _tke_json_get_int (claims, "exp", 0);
  return TRUE;
}

/* ---- Login ------------------------------------------------------------- */

static gboolean
is_unreserved (guint8 c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* The form "grant_type=…&apikey=…" with the key percent-encoded, written
 * straight into secure memory: no curl_easy_escape() or GString whose
 * growth would leave copies of the key in freed memory. */
static GBytes *
make_login_form (const TkeSecret *api_key)
{
  static const char prefix[] = "grant_type=" GRANT_TYPE "&apikey=";
  const guint8 *key = tke_secret_get_data (api_key);
  gsize key_size = tke_secret_get_size (api_key);
  gsize size = sizeof prefix - 1;
  TkeSecret *form;
  guint8 *out;

  for (gsize i = 0; i < key_size; i++)
    size += is_unreserved (key[i]) ? 1 : 3;
  form = tke_secret_new (size);
  out = tke_secret_get_mutable_data (form);
  memcpy (out, prefix, sizeof prefix - 1);
  out += sizeof prefix - 1;
  for (gsize i = 0; i < key_size; i++)
    {
      if (is_unreserved (key[i]))
        *out++ = key[i];
      else
        {
          *out++ = '%';
          *out++ = "0123456789ABCDEF"[key[i] >> 4];
          *out++ = "0123456789ABCDEF"[key[i] & 0xf];
        }
    }
  return g_bytes_new_with_free_func (tke_secret_get_data (form), size,
                                     (GDestroyNotify) tke_secret_unref, form);
}

/* Takes the "access_token" string out of the login's raw answer into
 * secure memory and overwrites it there with 'x', so that json-glib (whose
 * scanner and nodes copy every string) never sees the token.  A JWT has
 * no escapes; a token with one is refused. */
static TkeSecret *
take_token (TkeSecret *answer, gsize *token_size)
{
  static const char key[] = "\"access_token\"";
  guint8 *data = tke_secret_get_mutable_data (answer);
  gsize size = tke_secret_get_size (answer);
  guint8 *end = data + size;
  guint8 *at = NULL;
  guint8 *value, *close;
  TkeSecret *token;

  for (gsize i = 0; at == NULL && i + sizeof key - 1 <= size; i++)
    if (memcmp (data + i, key, sizeof key - 1) == 0)
      at = data + i;
  if (at == NULL)
    return NULL;
  at += sizeof key - 1;
  while (at < end && g_ascii_isspace (*at))
    at++;
  if (at >= end || *at++ != ':')
    return NULL;
  while (at < end && g_ascii_isspace (*at))
    at++;
  if (at >= end || *at++ != '"')
    return NULL;
  value = at;
  close = memchr (value, '"', end - value);
  if (close == NULL || close == value || memchr (value, '\\', close - value) != NULL)
    return NULL;
  token = tke_secret_try_new_from_data (value, close - value, NULL);
  if (token != NULL)
    memset (value, 'x', close - value);
  *token_size = close - value;
  return token;
}

/* The answer with its token taken out still says "access_token" is the
 * string that was there (as many 'x'), so the token came from the member
 * and not from somewhere else in the text. */
static gboolean
token_came_from_member (JsonObject *object, gsize token_size)
{
  const char *placeholder = _tke_json_get_string (object, "access_token");

  if (placeholder == NULL || strlen (placeholder) != token_size)
    return FALSE;
  for (gsize i = 0; i < token_size; i++)
    if (placeholder[i] != 'x')
      return FALSE;
  return TRUE;
}

static void
login_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  TkeServiceClient *self = source;
  TkeSecret *api_key = task_data;
  g_autoptr (GBytes) body = make_login_form (api_key);
  g_autoptr (TkeSecret) answer = NULL;
  g_autoptr (TkeSecret) token = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  gsize token_size = 0;
  JsonObject *object;

  answer = _tke_service_client_request_secret (self, "POST", "/identity/token",
                                               "application/x-www-form-urlencoded", body,
                                               cancellable, &error);
  if (answer == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  token = take_token (answer, &token_size);
  root = _tke_json_parse_bytes ((const char *) tke_secret_get_data (answer),
                                tke_secret_get_size (answer), NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                               _ ("The service answered %s %s with something that is not JSON."),
                               "POST", "/identity/token");
      return;
    }
  object = json_node_get_object (root);
  if (token == NULL || !token_came_from_member (object, token_size))
    {
      _tke_service_missing (&error, "access_token");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  tke_service_client_set_token (self, token);
  /* A token that is not a JWT: trust "expires_in". */
  g_mutex_lock (&self->lock);
  if (self->token_expiration == 0)
    self->token_expiration =
        g_get_real_time () / G_USEC_PER_SEC + _tke_json_get_int (object, "expires_in", 0);
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

/**
 * tke_service_client_login_finish:
 * @self: a #TkeServiceClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the client holds a new token
 */
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
  _tke_service_client_global_init ();
}

static void
tke_service_client_init (TkeServiceClient *self)
{
  g_mutex_init (&self->lock);
  self->idle_handles = g_ptr_array_new_with_free_func ((GDestroyNotify) curl_easy_cleanup);
  self->transfer_timeout = 60;
  self->connect_timeout = 10;
}
