/* tke-service-client-transport.c: the HTTPS transfers of the service client (libcurl)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Each client keeps a small pool of easy handles so that connections stay
 * alive between calls; each transfer checks the GCancellable from curl's
 * progress callback.  TLS verification is never switched off.  Also maps
 * the service's error answers to TKE_ERROR.
 */

#include "config.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <glib/gi18n-lib.h>

#include "tke-error.h"
#include "tke-json-private.h"
#include "tke-service-client-private.h"

/* A body larger than this is not an answer of the service. */
#define MAX_RESPONSE_SIZE (256 * 1024 * 1024)

/* ---- libcurl's memory -------------------------------------------------- */

/* curl copies the request's header lines (the bearer token), builds the
 * request and reads the answer (the token of a login) in buffers of its
 * own; with these it cleanses every one of them before it is freed. */
static void
cleansing_free (void *pointer)
{
  if (pointer == NULL)
    return;
  OPENSSL_cleanse (pointer, malloc_usable_size (pointer));
  free (pointer);
}

static void *
cleansing_realloc (void *pointer, size_t size)
{
  size_t old_size;
  void *copy;

  if (pointer == NULL)
    return malloc (size);
  if (size == 0)
    {
      cleansing_free (pointer);
      return NULL;
    }
  /* By hand: realloc() would free the old block uncleansed. */
  old_size = malloc_usable_size (pointer);
  copy = malloc (size);
  if (copy == NULL)
    return NULL;
  memcpy (copy, pointer, MIN (old_size, size));
  cleansing_free (pointer);
  return copy;
}

static char *
cleansing_strdup (const char *text)
{
  size_t size = strlen (text) + 1;
  char *copy = malloc (size);

  if (copy != NULL)
    memcpy (copy, text, size);
  return copy;
}

void
_tke_service_client_global_init (void)
{
  curl_global_init_mem (CURL_GLOBAL_DEFAULT, malloc, cleansing_free, cleansing_realloc,
                        cleansing_strdup, calloc);
}

/* ---- Transfers (worker threads) --------------------------------------- */

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

/* The answer's bytes.  The login's answer holds the token, so a buffer
 * that grows is copied by hand and the old one cleansed (realloc would
 * leave the bytes in freed memory), and the last one is cleansed too. */
typedef struct
{
  guint8 *data;
  gsize len;
  gsize allocated;
} Body;

static void
body_clear (Body *body)
{
  if (body->data != NULL)
    OPENSSL_cleanse (body->data, body->len);
  g_clear_pointer (&body->data, g_free);
  body->len = body->allocated = 0;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Body, body_clear)

static size_t
on_body (char *data, size_t size, size_t n, void *user_data)
{
  Body *body = user_data;
  gsize length = size * n;

  if (body->len + length > MAX_RESPONSE_SIZE)
    return 0;
  if (body->len + length > body->allocated)
    {
      gsize allocated = MAX (MAX (body->allocated * 2, 16 * 1024), body->len + length);
      guint8 *bigger = g_malloc (allocated);
      gsize kept = body->len;

      if (kept > 0)
        memcpy (bigger, body->data, kept);
      body_clear (body);
      body->data = bigger;
      body->len = kept;
      body->allocated = allocated;
    }
  memcpy (body->data + body->len, data, length);
  body->len += length;
  return length;
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

/* curl_slist_append() copies each line: wipe the copies (the token's)
 * before they go back to the allocator. */
static void
free_headers (struct curl_slist *headers)
{
  for (struct curl_slist *item = headers; item != NULL; item = item->next)
    OPENSSL_cleanse (item->data, strlen (item->data));
  curl_slist_free_all (headers);
}

/* "Authorization: Bearer <token>" built in secure memory, not in a
 * GString that grows and leaves copies behind. */
static struct curl_slist *
append_authorization (struct curl_slist *headers, const TkeSecret *token)
{
  static const char prefix[] = "Authorization: Bearer ";
  gsize size = tke_secret_get_size (token);
  g_autoptr (TkeSecret) line = tke_secret_new (sizeof prefix + size);
  guint8 *data = tke_secret_get_mutable_data (line);

  memcpy (data, prefix, sizeof prefix - 1);
  memcpy (data + sizeof prefix - 1, tke_secret_get_data (token), size);
  data[sizeof prefix - 1 + size] = '\0';
  return curl_slist_append (headers, (const char *) data);
}

static struct curl_slist *
make_headers (TkeServiceClient *self,
              TkeRequestFlags flags,
              const char *content_type,
              GError **error)
{
  struct curl_slist *headers = NULL;

  headers = curl_slist_append (headers, "Accept: application/json");
  if (content_type != NULL)
    {
      g_autofree char *line = g_strdup_printf ("Content-Type: %s", content_type);
      headers = curl_slist_append (headers, line);
    }

  g_mutex_lock (&self->lock);
  if ((flags & TKE_REQUEST_AUTHORIZED) && self->token == NULL)
    {
      g_mutex_unlock (&self->lock);
      free_headers (headers);
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_UNAUTHORIZED,
                           _ ("Not logged in to the service. Log in first."));
      return NULL;
    }
  if (flags & TKE_REQUEST_AUTHORIZED)
    headers = append_authorization (headers, self->token);
  if ((flags & TKE_REQUEST_INSTANCE_HEADER) && self->instance_id != NULL)
    {
      g_autofree char *line = g_strdup_printf ("Bluemix-Instance: %s", self->instance_id);
      headers = curl_slist_append (headers, line);
    }
  g_mutex_unlock (&self->lock);
  return headers;
}

/* Lets OpenSSL wipe the plaintext of each TLS record once read (the
 * token's answer, the login's form), not leave it in its buffers. */
static CURLcode
on_ssl_context (CURL *curl, void *ssl_context, void *user_data)
{
  SSL_CTX_set_options (ssl_context, SSL_OP_CLEANSE_PLAINTEXT);
  return CURLE_OK;
}

/* One HTTPS exchange: the answer's status and bytes in @response. */
static gboolean
perform (TkeServiceClient *self,
         const char *method,
         const char *path,
         TkeRequestFlags flags,
         const char *content_type,
         GBytes *body,
         GCancellable *cancellable,
         long *http_status,
         Body *response,
         GError **error)
{
  g_autofree char *url = g_strconcat (self->endpoint, path, NULL);
  char detail[CURL_ERROR_SIZE] = "";
  struct curl_slist *headers;
  CURLcode code;
  long status = 0;
  CURL *curl;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  headers = make_headers (self, flags, content_type, error);
  if (headers == NULL)
    return FALSE;

  curl = take_handle (self);
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt (curl, CURLOPT_SSL_CTX_FUNCTION, on_ssl_context);
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
  if (flags & TKE_REQUEST_SENSITIVE)
    curl_easy_cleanup (curl);
  else
    give_back_handle (self, curl);
  free_headers (headers);

  if (http_status != NULL)
    *http_status = status;
  if (code != CURLE_OK)
    {
      set_curl_error (error, self, code, detail, cancellable);
      return FALSE;
    }
  return TRUE;
}

static JsonNode *
parse_answer (const Body *response)
{
  if (response->len == 0)
    return NULL;
  return _tke_json_parse_bytes ((const char *) response->data, response->len, NULL);
}

/* Returns the parsed JSON body of a 2xx answer (NULL with no error for an
 * empty one, e.g. 204), or sets an error. */
JsonNode *
_tke_service_client_request (TkeServiceClient *self,
                             const char *method,
                             const char *path,
                             TkeRequestFlags flags,
                             const char *content_type,
                             GBytes *body,
                             GCancellable *cancellable,
                             long *http_status,
                             GError **error)
{
  g_auto (Body) response = { 0 };
  g_autoptr (JsonNode) root = NULL;
  long status = 0;

  if (!perform (self, method, path, flags, content_type, body, cancellable, &status, &response,
                error))
    return NULL;
  if (http_status != NULL)
    *http_status = status;

  root = parse_answer (&response);
  if (status < 200 || status > 299)
    {
      _tke_service_set_error_from_response (error, status, root);
      return NULL;
    }
  if (response.len == 0)
    return NULL;
  if (root == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("The service answered %s %s with something that is not JSON."), method, path);
      return NULL;
    }
  return g_steal_pointer (&root);
}

TkeSecret *
_tke_service_client_request_secret (TkeServiceClient *self,
                                    const char *method,
                                    const char *path,
                                    const char *content_type,
                                    GBytes *body,
                                    GCancellable *cancellable,
                                    GError **error)
{
  g_auto (Body) response = { 0 };
  long status = 0;

  if (!perform (self, method, path, TKE_REQUEST_SENSITIVE, content_type, body, cancellable, &status,
                &response, error))
    return NULL;
  if (status < 200 || status > 299)
    {
      g_autoptr (JsonNode) root = parse_answer (&response);

      _tke_service_set_error_from_response (error, status, root);
      return NULL;
    }
  if (response.len == 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("The service answered %s %s with an empty body."), method, path);
      return NULL;
    }
  return tke_secret_try_new_from_data (response.data, response.len, error);
}

JsonObject *
_tke_service_client_request_object (TkeServiceClient *self,
                                    const char *method,
                                    const char *path,
                                    TkeRequestFlags flags,
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
  answer = _tke_service_client_request (self, method, path, flags, body ? "application/json" : NULL,
                                        bytes, cancellable, NULL, error);
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
  { "malformed_request", TKE_ERROR_INVALID_DATA },
  { "repeated_key_part", TKE_ERROR_REPEATED_KEY_PART },
  { "weak_key", TKE_ERROR_WEAK_KEY },
  { "key_state", TKE_ERROR_KEY_STATE },
  { "command_expired", TKE_ERROR_COMMAND_EXPIRED },
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
  if (g_str_equal (code, "command_expired"))
    return _ ("Check the workstation's clock, then run the command again.");
  return NULL;
}

static void set_error_from_response (GError **error, long http_status, JsonNode *body);

/* The service plug-in's words for a 401 after ours (its SDK's, in
 * English as it prints them): its troubleshooting pages quote them. */
void
_tke_service_set_error_from_response (GError **error, long http_status, JsonNode *body)
{
  char *message;

  set_error_from_response (error, http_status, body);
  if (http_status != 401 || error == NULL || *error == NULL)
    return;
  message = g_strdup_printf ("%s\nStatus code: 401\nMessage: Unauthorized\nYour access token is "
                             "invalid, expired, or does not have the necessary permissions to "
                             "access this instance.",
                             (*error)->message);
  g_free ((*error)->message);
  (*error)->message = message;
}

static void
set_error_from_response (GError **error, long http_status, JsonNode *body)
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
          code = _tke_json_get_string (err, "code");
          message = _tke_json_get_string (err, "message");
        }
    }
  /* An empty code or message says nothing a person could act on: the
   * error then says what is known, never an empty sentence. */
  if (code != NULL && *code == '\0')
    code = NULL;
  if (message != NULL && *message == '\0')
    message = NULL;

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
