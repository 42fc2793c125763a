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
 * Signed commands are a small state machine on the caller's main context:
 * read the unit's counter (worker), build the bytes, ask each signer in
 * turn (a card signer may wait for a PIN on the PIN pad), send (worker).
 */

#include "config.h"

#include <openssl/crypto.h>

#include <string.h>

#include <curl/curl.h>
#include <glib/gi18n-lib.h>

#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-worker-private.h"
#include "tke-service-client-private.h"
#include "tke-service-client.h"
#include "tke-signer.h"

/* A body larger than this is not an answer of the service. */
#define MAX_RESPONSE_SIZE (256 * 1024 * 1024)
#define GRANT_TYPE "urn:ibm:params:oauth:grant-type:apikey"

struct _TkeServiceClient
{
  GObject parent_instance;

  char *endpoint;
  char *ca_file;
  guint transfer_timeout;
  guint connect_timeout;

  /* Worker threads read these; the caller may set them. */
  GMutex lock;
  TkeSecret *token;
  gint64 token_expiration;
  char *instance_id;
  GPtrArray *idle_handles;
};

G_DEFINE_FINAL_TYPE (TkeServiceClient, tke_service_client, G_TYPE_OBJECT)

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

static char *
dup_instance_id (TkeServiceClient *self)
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

/* ---- Transfers (worker threads) --------------------------------------- */

typedef enum
{
  REQUEST_AUTHORIZED = 1 << 0,
  REQUEST_INSTANCE_HEADER = 1 << 1,
} RequestFlags;

static CURL *
take_handle (TkeServiceClient *self)
{
  CURL *curl = NULL;

  g_mutex_lock (&self->lock);
  if (self->idle_handles->len > 0)
    curl = g_ptr_array_steal_index (self->idle_handles, self->idle_handles->len - 1);
  g_mutex_unlock (&self->lock);

  if (curl == NULL)
    curl = curl_easy_init ();
  else
    curl_easy_reset (curl);
  return curl;
}

static void
give_back_handle (TkeServiceClient *self, CURL *curl)
{
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->idle_handles, curl);
  g_mutex_unlock (&self->lock);
}

static size_t
on_body (char *data, size_t size, size_t n, void *user_data)
{
  GByteArray *body = user_data;

  if (body->len + size * n > MAX_RESPONSE_SIZE)
    return 0;
  g_byte_array_append (body, (const guint8 *) data, size * n);
  return size * n;
}

static int
on_progress (
    void *user_data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  /* Non-zero aborts the transfer with CURLE_ABORTED_BY_CALLBACK. */
  return g_cancellable_is_cancelled (user_data) ? 1 : 0;
}

static void
set_curl_error (GError **error,
                TkeServiceClient *self,
                CURLcode code,
                const char *detail,
                GCancellable *cancellable)
{
  const char *what = detail[0] != '\0' ? detail : curl_easy_strerror (code);

  switch (code)
    {
    case CURLE_ABORTED_BY_CALLBACK:
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return;
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
      g_set_error (error, TKE_ERROR, TKE_ERROR_TLS,
                   _ ("The certificate of the service at %s could not be verified (%s). Check the "
                      "CA file%s%s."),
                   self->endpoint, what, self->ca_file ? " " : "",
                   self->ca_file ? self->ca_file : "");
      return;
    case CURLE_OPERATION_TIMEDOUT:
      g_set_error (error, TKE_ERROR, TKE_ERROR_NETWORK,
                   _ ("The service at %s did not answer in time (%s). Try again later."),
                   self->endpoint, what);
      return;
    default:
      break;
    }
  g_set_error (error, TKE_ERROR, TKE_ERROR_NETWORK,
               _ ("The service at %s could not be reached: %s. Check the endpoint and that the "
                  "service runs."),
               self->endpoint, what);
}

/* Wipes a header that carried a credential before freeing it. */
static void
free_secret_string (char *text)
{
  if (text == NULL)
    return;
  OPENSSL_cleanse (text, strlen (text));
  g_free (text);
}

static struct curl_slist *
make_headers (TkeServiceClient *self, RequestFlags flags, const char *content_type, GError **error)
{
  struct curl_slist *headers = NULL;

  headers = curl_slist_append (headers, "Accept: application/json");
  if (content_type != NULL)
    {
      g_autofree char *line = g_strdup_printf ("Content-Type: %s", content_type);
      headers = curl_slist_append (headers, line);
    }

  g_mutex_lock (&self->lock);
  if ((flags & REQUEST_AUTHORIZED) && self->token == NULL)
    {
      g_mutex_unlock (&self->lock);
      curl_slist_free_all (headers);
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_UNAUTHORIZED,
                           _ ("Not logged in to the service. Log in first."));
      return NULL;
    }
  if (flags & REQUEST_AUTHORIZED)
    {
      g_autoptr (GString) line = g_string_new ("Authorization: Bearer ");
      char *text;

      g_string_append_len (line, (const char *) tke_secret_get_data (self->token),
                           tke_secret_get_size (self->token));
      text = g_string_free (g_steal_pointer (&line), FALSE);
      headers = curl_slist_append (headers, text);
      free_secret_string (text);
    }
  if ((flags & REQUEST_INSTANCE_HEADER) && self->instance_id != NULL)
    {
      g_autofree char *line = g_strdup_printf ("Bluemix-Instance: %s", self->instance_id);
      headers = curl_slist_append (headers, line);
    }
  g_mutex_unlock (&self->lock);
  return headers;
}

/* One HTTPS exchange.  Returns the parsed JSON body of a 2xx answer (NULL
 * with no error for an empty one, e.g. 204), or sets an error. */
static JsonNode *
http_request (TkeServiceClient *self,
              const char *method,
              const char *path,
              RequestFlags flags,
              const char *content_type,
              GBytes *body,
              GCancellable *cancellable,
              long *http_status,
              GError **error)
{
  g_autoptr (GByteArray) response = g_byte_array_new ();
  g_autoptr (JsonParser) parser = NULL;
  g_autofree char *url = g_strconcat (self->endpoint, path, NULL);
  char detail[CURL_ERROR_SIZE] = "";
  struct curl_slist *headers;
  CURLcode code;
  long status = 0;
  CURL *curl;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  headers = make_headers (self, flags, content_type, error);
  if (headers == NULL)
    return NULL;

  curl = take_handle (self);
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (self->ca_file != NULL)
    curl_easy_setopt (curl, CURLOPT_CAINFO, self->ca_file);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, (long) self->transfer_timeout);
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, (long) self->connect_timeout);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, detail);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, response);
  curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt (curl, CURLOPT_XFERINFODATA, cancellable);
  if (body != NULL)
    {
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, g_bytes_get_data (body, NULL));
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) g_bytes_get_size (body));
    }
  else if (g_str_equal (method, "GET"))
    curl_easy_setopt (curl, CURLOPT_HTTPGET, 1L);

  code = curl_easy_perform (curl);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  /* The request headers held the token; the handle does not keep them. */
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, NULL);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDS, NULL);
  give_back_handle (self, curl);
  curl_slist_free_all (headers);

  if (http_status != NULL)
    *http_status = status;
  if (code != CURLE_OK)
    {
      set_curl_error (error, self, code, detail, cancellable);
      return NULL;
    }

  if (response->len > 0)
    {
      parser = json_parser_new ();
      if (!json_parser_load_from_data (parser, (const char *) response->data, response->len, NULL))
        g_clear_object (&parser);
    }

  if (status < 200 || status > 299)
    {
      tke_service_set_error_from_response (error, status,
                                           parser ? json_parser_get_root (parser) : NULL);
      return NULL;
    }
  if (response->len == 0)
    return NULL;
  if (parser == NULL || json_parser_get_root (parser) == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("The service answered %s %s with something that is not JSON."), method, path);
      return NULL;
    }
  return json_node_copy (json_parser_get_root (parser));
}

static JsonObject *
http_request_object (TkeServiceClient *self,
                     const char *method,
                     const char *path,
                     RequestFlags flags,
                     JsonNode *body,
                     GCancellable *cancellable,
                     GError **error)
{
  g_autoptr (JsonNode) answer = NULL;
  g_autoptr (GBytes) bytes = NULL;
  JsonObject *object;

  if (body != NULL)
    {
      g_autoptr (JsonGenerator) gen = json_generator_new ();
      gsize size;
      char *text;

      json_generator_set_root (gen, body);
      text = json_generator_to_data (gen, &size);
      bytes = g_bytes_new_take (text, size);
    }
  answer = http_request (self, method, path, flags, body ? "application/json" : NULL, bytes,
                         cancellable, NULL, error);
  if (answer == NULL)
    {
      if (error == NULL || *error == NULL)
        g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                     _ ("The service answered %s %s with an empty body."), method, path);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (answer))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("The service answered %s %s with JSON that is not an object."), method, path);
      return NULL;
    }
  object = json_node_dup_object (answer);
  return object;
}

/* ---- Errors ------------------------------------------------------------ */

typedef struct
{
  const char *code;
  TkeError error;
} ErrorCode;

static const ErrorCode error_codes[] = {
  { "token_expired", TKE_ERROR_AUTH_EXPIRED },
  { "unauthorized", TKE_ERROR_UNAUTHORIZED },
  { "unknown_signer", TKE_ERROR_NOT_FOUND },
  { "bad_signature", TKE_ERROR_INTEGRITY },
  { "invalid_key_part", TKE_ERROR_INTEGRITY },
  { "threshold_not_met", TKE_ERROR_THRESHOLD_NOT_MET },
  { "replay", TKE_ERROR_REPLAY },
  { "rotation_in_progress", TKE_ERROR_ROTATION_IN_PROGRESS },
  { "wrapping_key_mismatch", TKE_ERROR_WRAPPING_KEY_MISMATCH },
  { "mk_not_initialized", TKE_ERROR_MK_NOT_INITIALIZED },
  { "not_found", TKE_ERROR_NOT_FOUND },
  { "malformed_json", TKE_ERROR_INVALID_DATA },
  { "invalid_field", TKE_ERROR_INVALID_DATA },
  { "invalid_grant", TKE_ERROR_INVALID_DATA },
  { "invalid_parameter", TKE_ERROR_INVALID_ARGUMENT },
  { "missing_instance_header", TKE_ERROR_INVALID_DATA },
  { "invalid_blob", TKE_ERROR_INVALID_DATA },
  { "payload_too_large", TKE_ERROR_INVALID_DATA },
};

static TkeError
error_for_code (const char *code)
{
  if (g_str_has_prefix (code, "precheck_"))
    return TKE_ERROR_PRECHECK_FAILED;
  for (gsize i = 0; i < G_N_ELEMENTS (error_codes); i++)
    if (g_str_equal (error_codes[i].code, code))
      return error_codes[i].error;
  return TKE_ERROR_SERVICE;
}

/* What a person can do about it, where the service's message doesn't say. */
static const char *
remedy_for_code (const char *code)
{
  if (g_str_equal (code, "replay"))
    return _ ("Refresh the crypto units and send the command again.");
  if (g_str_equal (code, "unknown_signer"))
    return _ (
        "Select the signature keys of installed administrators (cryptounit-admins lists them).");
  if (g_str_equal (code, "threshold_not_met"))
    return _ ("Select more signature keys of installed administrators.");
  if (g_str_equal (code, "unauthorized"))
    return _ ("Log in again with a valid API key.");
  if (g_str_equal (code, "rotation_in_progress"))
    return _ ("Wait for the master key rotation to finish, or resume it.");
  return NULL;
}

void
tke_service_set_error_from_response (GError **error, long http_status, JsonNode *body)
{
  JsonObject *object, *err;
  const char *code = NULL, *message = NULL, *remedy;

  if (body != NULL && JSON_NODE_HOLDS_OBJECT (body))
    {
      object = json_node_get_object (body);
      if (json_object_has_member (object, "error") &&
          JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "error")))
        {
          err = json_object_get_object_member (object, "error");
          code = json_object_get_string_member_with_default (err, "code", NULL);
          message = json_object_get_string_member_with_default (err, "message", NULL);
        }
    }

  if (code == NULL)
    {
      if (http_status == 401)
        g_set_error_literal (error, TKE_ERROR, TKE_ERROR_UNAUTHORIZED,
                             _ ("The service refused the credentials (HTTP 401). Log in again."));
      else
        g_set_error (error, TKE_ERROR, TKE_ERROR_SERVICE,
                     _ ("The service answered HTTP %ld without an error description."),
                     http_status);
      return;
    }

  if (g_str_equal (code, "token_expired"))
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_AUTH_EXPIRED,
                           _ ("The token has expired. Log in again."));
      return;
    }

  if (message == NULL)
    message = code;
  remedy = remedy_for_code (code);
  if (remedy != NULL)
    g_set_error (error, TKE_ERROR, error_for_code (code), "%s %s", message, remedy);
  else
    g_set_error_literal (error, TKE_ERROR, error_for_code (code), message);
}

/* ---- Parsing ----------------------------------------------------------- */

static gboolean
missing (GError **error, const char *what)
{
  g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
               _ ("The service's answer is malformed: “%s” is missing or has the wrong type."),
               what);
  return FALSE;
}

static const char *
get_string (JsonObject *object, const char *member, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    {
      missing (error, member);
      return NULL;
    }
  return json_node_get_string (node);
}

static gboolean
get_int (JsonObject *object, const char *member, gint64 *value, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return missing (error, member);
  *value = json_node_get_int (node);
  return TRUE;
}

static gboolean
get_bool (JsonObject *object, const char *member, gboolean *value, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return missing (error, member);
  *value = json_node_get_boolean (node);
  return TRUE;
}

static const char *
get_vp (JsonObject *object, const char *member, GError **error)
{
  const char *vp = get_string (object, member, error);

  if (vp != NULL && !tke_vp_is_valid (vp))
    {
      missing (error, member);
      return NULL;
    }
  return vp;
}

TkeCryptoUnit *
tke_service_parse_hsm (const char *instance_id, JsonObject *hsm, GError **error)
{
  const char *hsm_id, *type_text, *location;
  TkeCryptoUnitType type;
  gint64 number;

  if ((hsm_id = get_string (hsm, "hsm_id", error)) == NULL ||
      !get_int (hsm, "crypto_unit_num", &number, error) ||
      (type_text = get_string (hsm, "type", error)) == NULL ||
      (location = get_string (hsm, "location", error)) == NULL)
    return NULL;
  if (!tke_crypto_unit_type_from_string (type_text, &type))
    return missing (error, "type"), NULL;
  if (number < 1 || number > G_MAXINT)
    return missing (error, "crypto_unit_num"), NULL;
  return tke_crypto_unit_new (instance_id, hsm_id, (guint) number, type, location);
}

static GPtrArray *
parse_admins (JsonObject *result, GError **error)
{
  g_autoptr (GPtrArray) admins = g_ptr_array_new_with_free_func (g_object_unref);
  JsonNode *node = json_object_get_member (result, "admins");
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return missing (error, "admins"), NULL;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      const char *name, *ski;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return missing (error, "admins"), NULL;
      if ((name = get_string (json_node_get_object (element), "name", error)) == NULL ||
          (ski = get_vp (json_node_get_object (element), "ski", error)) == NULL)
        return NULL;
      g_ptr_array_add (admins, tke_administrator_new (name, ski));
    }
  return g_steal_pointer (&admins);
}

gboolean
tke_service_apply_query (TkeCryptoUnit *unit, JsonObject *result, gint64 *counter, GError **error)
{
  g_autoptr (GPtrArray) admins = NULL;
  const char *new_status, *new_vp, *current_status, *current_vp;
  TkeNewRegisterState new_state;
  TkeCurrentRegisterState current_state;
  gboolean imprint;
  gint64 sig, rev;

  if (!get_bool (result, "imprint_mode", &imprint, error) ||
      !get_int (result, "signature_threshold", &sig, error) ||
      !get_int (result, "revocation_threshold", &rev, error) ||
      (new_status = get_string (result, "new_mk_status", error)) == NULL ||
      (new_vp = get_vp (result, "new_mkvp", error)) == NULL ||
      (current_status = get_string (result, "current_mk_status", error)) == NULL ||
      (current_vp = get_vp (result, "current_mkvp", error)) == NULL ||
      !get_int (result, "counter", counter, error) ||
      (admins = parse_admins (result, error)) == NULL)
    return FALSE;
  if (!tke_new_register_state_from_string (new_status, &new_state))
    return missing (error, "new_mk_status");
  if (!tke_current_register_state_from_string (current_status, &current_state))
    return missing (error, "current_mk_status");
  if (sig < 0 || sig > 8 || rev < 0 || rev > 8)
    return missing (error, "signature_threshold");

  tke_crypto_unit_set_thresholds (unit, imprint, (guint) sig, (guint) rev);
  tke_crypto_unit_set_administrators (unit, admins);
  tke_crypto_unit_set_registers (unit, new_state, new_vp, current_state, current_vp);
  tke_crypto_unit_set_reachable (unit, TRUE);
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
    return missing (error, "messages");
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      g_autoptr (GDateTime) when = NULL;
      const char *timestamp, *text;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return missing (error, "messages");
      if ((timestamp = get_string (json_node_get_object (element), "timestamp", error)) == NULL ||
          (text = get_string (json_node_get_object (element), "message", error)) == NULL)
        return FALSE;
      when = g_date_time_new_from_iso8601 (timestamp, NULL);
      if (when == NULL)
        return missing (error, "timestamp");
      tke_rotation_status_add_message (status, when, text);
    }
  return TRUE;
}

TkeRotationStatus *
tke_service_parse_rotation_status (JsonObject *object, GError **error)
{
  g_autoptr (TkeRotationStatus) status = NULL;
  const char *state_text, *target_vp = NULL;
  TkeRotationState state;
  gint64 done = 0, total = 0;
  JsonNode *node;
  gboolean ok;

  if ((state_text = get_string (object, "state", error)) == NULL)
    return NULL;
  state = rotation_state_from_string (state_text, &ok);
  if (!ok)
    return missing (error, "state"), NULL;
  node = json_object_get_member (object, "keys_done");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node) && !get_int (object, "keys_done", &done, error))
    return NULL;
  node = json_object_get_member (object, "keys_total");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node) &&
      !get_int (object, "keys_total", &total, error))
    return NULL;
  node = json_object_get_member (object, "to_mkvp");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node) &&
      (target_vp = get_vp (object, "to_mkvp", error)) == NULL)
    return NULL;
  if (done < 0 || total < 0)
    return missing (error, "keys_done"), NULL;

  status = tke_rotation_status_new (state, target_vp, (guint64) done, (guint64) total);
  if (!parse_rotation_messages (status, object, error))
    return NULL;

  node = json_object_get_member (object, "error");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *err = json_node_get_object (node);
      const char *message = json_object_get_string_member_with_default (err, "message", NULL);
      const char *code = json_object_get_string_member_with_default (err, "code", NULL);

      tke_rotation_status_set_error_message (status, message ? message : code);
    }
  return g_steal_pointer (&status);
}

TkeKmsKey *
tke_service_parse_kms_key (JsonObject *object, GError **error)
{
  g_autoptr (TkeKmsKey) key = g_new0 (TkeKmsKey, 1);
  const char *id, *name;
  gint64 state;

  if ((id = get_string (object, "id", error)) == NULL ||
      (name = get_string (object, "name", error)) == NULL ||
      !get_int (object, "state", &state, error))
    return NULL;
  key->id = g_strdup (id);
  key->name = g_strdup (name);
  key->state = (int) CLAMP (state, G_MININT, G_MAXINT);
  key->creation_date =
      g_strdup (json_object_get_string_member_with_default (object, "creationDate", NULL));
  key->extractable = json_object_get_boolean_member_with_default (object, "extractable", FALSE);
  key->wkid = g_strdup (json_object_get_string_member_with_default (object, "wkid", NULL));
  return g_steal_pointer (&key);
}

/* ---- Commands: bytes, query, send (worker threads) --------------------- */

GBytes *
tke_service_client_build_command (const char *instance_id,
                                  const char *hsm_id,
                                  const char *command,
                                  gint64 counter,
                                  const char *args_json)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonNode) args = NULL;
  gsize size;
  char *text;

  g_return_val_if_fail (instance_id != NULL && hsm_id != NULL && command != NULL, NULL);

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
static JsonObject *
post_command (TkeServiceClient *self,
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
  JsonNode *node;
  JsonObject *response, *result;
  gint64 new_counter;

  answer =
      http_request_object (self, "POST", path, REQUEST_AUTHORIZED, envelope, cancellable, error);
  if (answer == NULL)
    return NULL;
  node = json_object_get_member (answer, "response");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return missing (error, "response"), NULL;
  response = json_node_get_object (node);
  if (!get_int (response, "counter", &new_counter, error))
    return NULL;
  node = json_object_get_member (response, "result");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return missing (error, "result"), NULL;
  result = json_node_get_object (node);
  if (counter != NULL)
    *counter = new_counter;
  return json_object_ref (result);
}

static JsonObject *
query_unit (TkeServiceClient *self, TkeCryptoUnit *unit, GCancellable *cancellable, GError **error)
{
  g_autoptr (GBytes) command = tke_service_client_build_command (
      tke_crypto_unit_get_instance_id (unit), tke_crypto_unit_get_hsm_id (unit), "query", 0, "{}");

  return post_command (self, unit, command, NULL, cancellable, NULL, error);
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

  answer = http_request (self, "POST", "/identity/token", 0, "application/x-www-form-urlencoded",
                         body, cancellable, NULL, &error);
  if (answer == NULL)
    {
      if (error == NULL)
        g_set_error_literal (&error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                             _ ("The service answered the login with an empty body."));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (answer) ||
      (access_token = get_string (json_node_get_object (answer), "access_token", &error)) == NULL)
    {
      if (error == NULL)
        missing (&error, "access_token");
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

/* ---- Units ------------------------------------------------------------- */

static gboolean
add_units (TkeServiceInstance *instance, JsonObject *answer, const char *member, GError **error)
{
  JsonNode *node = json_object_get_member (answer, member);
  JsonArray *array;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return missing (error, member);
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      g_autoptr (TkeCryptoUnit) unit = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return missing (error, member);
      unit = tke_service_parse_hsm (tke_service_instance_get_id (instance),
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
                 GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonObject) result = query_unit (self, unit, cancellable, &local_error);
  gint64 counter;

  if (result != NULL && tke_service_apply_query (unit, result, &counter, &local_error))
    return TRUE;
  if (g_error_matches (local_error, TKE_ERROR, TKE_ERROR_AUTH_EXPIRED) ||
      g_error_matches (local_error, TKE_ERROR, TKE_ERROR_UNAUTHORIZED) ||
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
  g_autofree char *instance_id = dup_instance_id (self);
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
  answer = http_request_object (self, "GET", path, REQUEST_AUTHORIZED, NULL, cancellable, &error);
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

      if (!query_into_unit (self, unit, cancellable, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }
  g_task_return_pointer (task, g_steal_pointer (&instance), g_object_unref);
}

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

  tke_crypto_unit_set_reachable (to, tke_crypto_unit_get_reachable (from));
  if (!tke_crypto_unit_get_reachable (from))
    return;
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
} RefreshData;

static void
refresh_data_free (RefreshData *data)
{
  g_ptr_array_unref (data->originals);
  g_ptr_array_unref (data->copies);
  g_free (data);
}

static void
refresh_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  RefreshData *data = task_data;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < data->copies->len; i++)
    if (!query_into_unit (source, data->copies->pdata[i], cancellable, &error))
      {
        g_task_return_error (task, g_steal_pointer (&error));
        return;
      }
  g_task_return_boolean (task, TRUE);
}

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

/* ---- Signed commands (caller's main context) ---------------------------- */

typedef struct
{
  TkeCryptoUnit *unit;
  char *command;
  char *args_json;
  GBytes *prebuilt;
  GBytes *bytes;
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

  result = query_unit (source, data->unit, cancellable, &error);
  if (result == NULL || !get_int (result, "counter", &counter, &error))
    {
      g_task_return_error (step, g_steal_pointer (&error));
      return;
    }
  data->bytes = tke_service_client_build_command (tke_crypto_unit_get_instance_id (data->unit),
                                                  tke_crypto_unit_get_hsm_id (data->unit),
                                                  data->command, counter, data->args_json);
  g_task_return_boolean (step, TRUE);
}

static void
command_send_thread (GTask *step, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  CommandData *data = task_data;
  g_autoptr (GError) error = NULL;
  JsonObject *result;

  result =
      post_command (source, data->unit, data->bytes, data->signatures, cancellable, NULL, &error);
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

static void
command_async (TkeServiceClient *self,
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

static JsonObject *
command_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Builds {"member": value, …} from alternating names and string values. */
static JsonNode *
string_args (const char *first_member, ...)
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

  command_async (self, unit, NULL, NULL, command, signers, tke_service_client_send_command_async,
                 cancellable, callback, user_data);
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
  return command_finish (self, result, error);
}

/**
 * tke_service_client_generate_importer_key_async:
 * @unit: the crypto unit
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 *
 * Has @unit generate a fresh importer key pair (1 signature).
 */
void
tke_service_client_generate_importer_key_async (TkeServiceClient *self,
                                                TkeCryptoUnit *unit,
                                                GPtrArray *signers,
                                                GCancellable *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer user_data)
{
  g_autoptr (JsonNode) args = string_args (NULL);

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));

  command_async (self, unit, "generate_importer_key", args, NULL, signers,
                 tke_service_client_generate_importer_key_async, cancellable, callback, user_data);
}

/**
 * tke_service_client_generate_importer_key_finish:
 *
 * Returns: (transfer full): the importer public key, an uncompressed point
 */
GBytes *
tke_service_client_generate_importer_key_finish (TkeServiceClient *self,
                                                 GAsyncResult *result,
                                                 GError **error)
{
  g_autoptr (JsonObject) object = command_finish (self, result, error);
  const char *hex;

  if (object == NULL || (hex = get_string (object, "importer_key", error)) == NULL)
    return NULL;
  return tke_crypto_hex_decode (hex, error);
}

/**
 * tke_service_client_load_async:
 * @unit: the crypto unit
 * @sealed_parts: (element-type GBytes): 2 or 3 parts sealed to the importer key
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 *
 * Loads the new master key register (one signature per part).
 */
void
tke_service_client_load_async (TkeServiceClient *self,
                               TkeCryptoUnit *unit,
                               GPtrArray *sealed_parts,
                               GPtrArray *signers,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) args = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));
  g_return_if_fail (sealed_parts != NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "parts");
  json_builder_begin_array (builder);
  for (guint i = 0; i < sealed_parts->len; i++)
    {
      GBytes *part = sealed_parts->pdata[i];
      g_autofree char *encoded =
          g_base64_encode (g_bytes_get_data (part, NULL), g_bytes_get_size (part));

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "sealed");
      json_builder_add_string_value (builder, encoded);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  args = json_builder_get_root (builder);

  command_async (self, unit, "load", args, NULL, signers, tke_service_client_load_async,
                 cancellable, callback, user_data);
}

/**
 * tke_service_client_load_finish:
 *
 * Returns: (transfer full): the new register's VP
 */
char *
tke_service_client_load_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (JsonObject) object = command_finish (self, result, error);
  const char *vp;

  if (object == NULL || (vp = get_vp (object, "new_mkvp", error)) == NULL)
    return NULL;
  return g_strdup (vp);
}

static gboolean
boolean_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (JsonObject) object = command_finish (self, result, error);

  return object != NULL;
}

/**
 * tke_service_client_commit_async:
 * @unit: the crypto unit
 * @new_vp: the VP of the new register
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_commit_async (TkeServiceClient *self,
                                 TkeCryptoUnit *unit,
                                 const char *new_vp,
                                 GPtrArray *signers,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr (JsonNode) args = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));
  g_return_if_fail (new_vp != NULL);

  args = string_args ("new_mkvp", new_vp, NULL);
  command_async (self, unit, "commit", args, NULL, signers, tke_service_client_commit_async,
                 cancellable, callback, user_data);
}

gboolean
tke_service_client_commit_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  return boolean_finish (self, result, error);
}

/**
 * tke_service_client_set_immediate_async:
 * @unit: the crypto unit
 * @new_vp: the VP of the committed new register
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_set_immediate_async (TkeServiceClient *self,
                                        TkeCryptoUnit *unit,
                                        const char *new_vp,
                                        GPtrArray *signers,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  g_autoptr (JsonNode) args = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));
  g_return_if_fail (new_vp != NULL);

  args = string_args ("new_mkvp", new_vp, NULL);
  command_async (self, unit, "set_immediate", args, NULL, signers,
                 tke_service_client_set_immediate_async, cancellable, callback, user_data);
}

gboolean
tke_service_client_set_immediate_finish (TkeServiceClient *self,
                                         GAsyncResult *result,
                                         GError **error)
{
  return boolean_finish (self, result, error);
}

/**
 * tke_service_client_clear_new_register_async:
 * @unit: the crypto unit
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_clear_new_register_async (TkeServiceClient *self,
                                             TkeCryptoUnit *unit,
                                             GPtrArray *signers,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data)
{
  g_autoptr (JsonNode) args = string_args (NULL);

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));

  command_async (self, unit, "clear_new", args, NULL, signers,
                 tke_service_client_clear_new_register_async, cancellable, callback, user_data);
}

gboolean
tke_service_client_clear_new_register_finish (TkeServiceClient *self,
                                              GAsyncResult *result,
                                              GError **error)
{
  return boolean_finish (self, result, error);
}

/**
 * tke_service_client_clear_current_register_async:
 * @unit: the crypto unit
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_clear_current_register_async (TkeServiceClient *self,
                                                 TkeCryptoUnit *unit,
                                                 GPtrArray *signers,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer user_data)
{
  g_autoptr (JsonNode) args = string_args (NULL);

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));

  command_async (self, unit, "clear_current", args, NULL, signers,
                 tke_service_client_clear_current_register_async, cancellable, callback, user_data);
}

gboolean
tke_service_client_clear_current_register_finish (TkeServiceClient *self,
                                                  GAsyncResult *result,
                                                  GError **error)
{
  return boolean_finish (self, result, error);
}

/**
 * tke_service_client_add_admin_async:
 * @unit: the crypto unit
 * @name: the administrator's name
 * @public_key: the uncompressed P-521 point
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_add_admin_async (TkeServiceClient *self,
                                    TkeCryptoUnit *unit,
                                    const char *name,
                                    GBytes *public_key,
                                    GPtrArray *signers,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  g_autoptr (JsonNode) args = NULL;
  g_autofree char *hex = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));
  g_return_if_fail (name != NULL && public_key != NULL);

  hex = tke_crypto_hex_encode (g_bytes_get_data (public_key, NULL), g_bytes_get_size (public_key));
  args = string_args ("name", name, "public_key", hex, NULL);
  command_async (self, unit, "add_admin", args, NULL, signers, tke_service_client_add_admin_async,
                 cancellable, callback, user_data);
}

/**
 * tke_service_client_add_admin_finish:
 *
 * Returns: (transfer full): the SKI of the new administrator
 */
char *
tke_service_client_add_admin_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (JsonObject) object = command_finish (self, result, error);
  const char *ski;

  if (object == NULL || (ski = get_vp (object, "ski", error)) == NULL)
    return NULL;
  return g_strdup (ski);
}

/**
 * tke_service_client_remove_admin_async:
 * @unit: the crypto unit
 * @ski: the administrator's SKI
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_remove_admin_async (TkeServiceClient *self,
                                       TkeCryptoUnit *unit,
                                       const char *ski,
                                       GPtrArray *signers,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  g_autoptr (JsonNode) args = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));
  g_return_if_fail (ski != NULL);

  args = string_args ("ski", ski, NULL);
  command_async (self, unit, "remove_admin", args, NULL, signers,
                 tke_service_client_remove_admin_async, cancellable, callback, user_data);
}

gboolean
tke_service_client_remove_admin_finish (TkeServiceClient *self,
                                        GAsyncResult *result,
                                        GError **error)
{
  return boolean_finish (self, result, error);
}

/**
 * tke_service_client_set_thresholds_async:
 * @unit: the crypto unit
 * @signature_threshold: 1–8
 * @revocation_threshold: 1–8
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_set_thresholds_async (TkeServiceClient *self,
                                         TkeCryptoUnit *unit,
                                         guint signature_threshold,
                                         guint revocation_threshold,
                                         GPtrArray *signers,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) args = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "signature_threshold");
  json_builder_add_int_value (builder, signature_threshold);
  json_builder_set_member_name (builder, "revocation_threshold");
  json_builder_add_int_value (builder, revocation_threshold);
  json_builder_end_object (builder);
  args = json_builder_get_root (builder);
  command_async (self, unit, "set_thresholds", args, NULL, signers,
                 tke_service_client_set_thresholds_async, cancellable, callback, user_data);
}

gboolean
tke_service_client_set_thresholds_finish (TkeServiceClient *self,
                                          GAsyncResult *result,
                                          GError **error)
{
  return boolean_finish (self, result, error);
}

/**
 * tke_service_client_zeroize_async:
 * @unit: the crypto unit
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_zeroize_async (TkeServiceClient *self,
                                  TkeCryptoUnit *unit,
                                  GPtrArray *signers,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_autoptr (JsonNode) args = string_args (NULL);

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));

  command_async (self, unit, "zeroize", args, NULL, signers, tke_service_client_zeroize_async,
                 cancellable, callback, user_data);
}

gboolean
tke_service_client_zeroize_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  return boolean_finish (self, result, error);
}

/**
 * tke_service_client_key_part_aad:
 *
 * Returns: (transfer full): the associated data of part @index of @n_parts
 */
GBytes *
tke_service_client_key_part_aad (TkeCryptoUnit *unit, guint index, guint n_parts)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (unit), NULL);

  text = g_strdup_printf ("tke-keypart-v1|%s|new|%u|%u", tke_crypto_unit_get_hsm_id (unit), index,
                          n_parts);
  return g_bytes_new (text, strlen (text));
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
  g_autofree char *instance_id = dup_instance_id (self);
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
  answer = http_request_object (self, start ? "POST" : "GET", path, REQUEST_AUTHORIZED, body,
                                cancellable, error);
  if (answer == NULL)
    return NULL;
  return tke_service_parse_rotation_status (answer, error);
}

static GBytes *
call_rewrap (TkeServiceClient *self, GBytes *blob, GCancellable *cancellable, GError **error)
{
  g_autofree char *encoded =
      g_base64_encode (g_bytes_get_data (blob, NULL), g_bytes_get_size (blob));
  g_autoptr (JsonNode) body = string_args ("blob", encoded, NULL);
  g_autoptr (JsonObject) answer = NULL;
  const char *text;
  guchar *data;
  gsize size;

  answer =
      http_request_object (self, "POST", "/v1/grep11/rewrap",
                           REQUEST_AUTHORIZED | REQUEST_INSTANCE_HEADER, body, cancellable, error);
  if (answer == NULL || (text = get_string (answer, "blob", error)) == NULL)
    return NULL;
  data = g_base64_decode (text, &size);
  if (size == 0)
    {
      g_free (data);
      return missing (error, "blob"), NULL;
    }
  return g_bytes_new_take (data, size);
}

static GPtrArray *
parse_key_collection (JsonObject *answer, guint64 *total, GError **error)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_kms_key_free);
  JsonNode *node = json_object_get_member (answer, "resources");
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return missing (error, "resources"), NULL;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      TkeKmsKey *key;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return missing (error, "resources"), NULL;
      key = tke_service_parse_kms_key (json_node_get_object (element), error);
      if (key == NULL)
        return NULL;
      g_ptr_array_add (keys, key);
    }
  if (total != NULL)
    {
      JsonNode *meta = json_object_get_member (answer, "metadata");

      *total = keys->len;
      if (meta != NULL && JSON_NODE_HOLDS_OBJECT (meta))
        *total = (guint64) json_object_get_int_member_with_default (json_node_get_object (meta),
                                                                    "totalCount", keys->len);
    }
  return g_steal_pointer (&keys);
}

static TkeKmsKey *
first_key (JsonObject *answer, GError **error)
{
  g_autoptr (GPtrArray) keys = parse_key_collection (answer, NULL, error);

  if (keys == NULL)
    return NULL;
  if (keys->len != 1)
    return missing (error, "resources"), NULL;
  return g_ptr_array_steal_index (keys, 0);
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
  const RequestFlags flags = REQUEST_AUTHORIZED | REQUEST_INSTANCE_HEADER;
  g_autoptr (JsonObject) answer = NULL;
  g_autofree char *path = NULL;

  switch (data->kind)
    {
    case CALL_KMS_LIST:
      path = g_strdup_printf ("/api/v2/keys?offset=%u&limit=%u", data->offset, data->limit);
      answer = http_request_object (self, "GET", path, flags, NULL, cancellable, error);
      return answer ? parse_key_collection (answer, &data->total, error) : NULL;
    case CALL_KMS_GET:
      path = key_path (data->text, NULL);
      answer = http_request_object (self, "GET", path, flags, NULL, cancellable, error);
      return answer ? first_key (answer, error) : NULL;
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
        answer =
            http_request_object (self, "POST", "/api/v2/keys", flags, body, cancellable, error);
        return answer ? first_key (answer, error) : NULL;
      }
    case CALL_KMS_DELETE:
      {
        g_autoptr (JsonNode) empty = NULL;

        path = key_path (data->text, NULL);
        empty = http_request (self, "DELETE", path, flags, NULL, NULL, cancellable, NULL, error);
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
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (tke_service_client_parent_class)->finalize (object);
}

static void
tke_service_client_class_init (TkeServiceClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tke_service_client_finalize;

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
