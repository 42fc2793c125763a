/* tke-service-signer.c: a TkeSigner that asks a signing service over HTTPS
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The signing-service API of the service's CLI plug-in ($TKE_SIGNSERV_URL):
 * `GET /keys/NAME` answers {"publickey": base64 DER SEQUENCE {X, Y}} and
 * `POST /sign/NAME` with {"hash_algorithm":"sha2-512","input": base64 data}
 * answers {"signature": base64 DER SEQUENCE {R, S}}.  The key's token goes
 * in the Authorization header as it is, as the plug-in sends it.
 *
 * Every signature is checked against the public key the service gave before
 * it is used: a service that signs with another key, or not at all, is
 * caught here and not by the crypto unit.  TLS verification is never off.
 */

#include "config.h"

#include <string.h>

#include <curl/curl.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <glib/gi18n-lib.h>

#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-json-private.h"
#include "tke-service-client.h"
#include "tke-service-signer.h"
#include "tke-signer.h"
#include "tke-worker-private.h"

/* An answer of the signing service is a few hundred bytes. */
#define MAX_ANSWER_SIZE (64 * 1024)
#define COORDINATE_SIZE 66
#define CONNECT_TIMEOUT_S 10L
#define TRANSFER_TIMEOUT_S 60L

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIGNUM, BN_free)

/**
 * TkeServiceSigner:
 *
 * A #TkeSigner whose key lives in a signing service, as the service's CLI
 * plug-in uses one when `TKE_SIGNSERV_URL` is set: the service signs the
 * SHA-512 hash of each command with a P-521 key it names, after checking
 * the key's token.
 *
 * The signer's name is the key's name in the service; its SKI is known once
 * the public key has been read (tke_signer_get_public_key_async(), or the
 * first signature).
 */
struct _TkeServiceSigner
{
  GObject parent_instance;

  char *url;
  char *key_name;
  char *ca_file;

  GMutex lock;
  TkeSecret *token; /* NULL: none (the service may not need one) */
  GBytes *point;    /* the uncompressed public point, once read */
  char *ski;
};

static void tke_service_signer_signer_init (TkeSignerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TkeServiceSigner,
                               tke_service_signer,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TKE_TYPE_SIGNER,
                                                      tke_service_signer_signer_init))

/**
 * tke_service_signer_key_name_is_valid:
 * @key_name: a key's name in a signing service
 *
 * The name goes into the request's path, so it may hold only the
 * unreserved characters of RFC 3986 (letters, digits, `-`, `.`, `_`, `~`),
 * as the signing-service API requires.
 *
 * Returns: whether @key_name is a usable name
 */
gboolean
tke_service_signer_key_name_is_valid (const char *key_name)
{
  if (key_name == NULL || *key_name == '\0' || strlen (key_name) > 256)
    return FALSE;
  for (const char *p = key_name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("-._~", *p) == NULL)
      return FALSE;
  return TRUE;
}

/**
 * tke_service_signer_new:
 * @url: the signing service's URL (https://HOST:PORT, as `TKE_SIGNSERV_URL`)
 * @key_name: the key's name in the service
 * @ca_file: (nullable): the CA that issued the service's certificate, or
 *   %NULL for the system's
 *
 * Creates a signer for the key @key_name of the signing service at @url.
 * A token is set with tke_service_signer_set_token().  A bad URL or name is
 * reported by the first request.
 *
 * Returns: (transfer full): a signer
 */
TkeServiceSigner *
tke_service_signer_new (const char *url, const char *key_name, const char *ca_file)
{
  TkeServiceSigner *self;
  gsize length;

  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (key_name != NULL, NULL);

  self = g_object_new (TKE_TYPE_SERVICE_SIGNER, NULL);
  /* "https://host:port/" and "https://host:port" name the same service. */
  length = strlen (url);
  while (length > 0 && url[length - 1] == '/')
    length--;
  self->url = g_strndup (url, length);
  self->key_name = g_strdup (key_name);
  self->ca_file = g_strdup (ca_file);
  return self;
}

static TkeSecret *
token_from_member (JsonObject *entry, gboolean *present)
{
  JsonNode *node = json_object_get_member (entry, "token");
  const char *text;

  *present = node != NULL;
  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  text = json_node_get_string (node);
  return tke_secret_new_from_data ((const guint8 *) text, strlen (text));
}

static gboolean
add_key_entry (GPtrArray *signers,
               JsonNode *node,
               guint index,
               const char *url,
               const char *path,
               const char *ca_file,
               GError **error)
{
  g_autoptr (TkeSecret) token = NULL;
  g_autoptr (TkeServiceSigner) signer = NULL;
  JsonObject *entry;
  const char *key;
  gboolean has_token;

  entry = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  key = entry != NULL ? _tke_json_get_string (entry, "key") : NULL;
  if (key == NULL || !tke_service_signer_key_name_is_valid (key))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("Entry %u of %s has no usable “key”: it must be a name of letters, digits "
                      "and - . _ ~ only."),
                   index + 1, path);
      return FALSE;
    }
  token = token_from_member (entry, &has_token);
  if (has_token && token == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("The “token” of key “%s” in %s is not a string."), key, path);
      return FALSE;
    }
  signer = tke_service_signer_new (url, key, ca_file);
  if (token != NULL)
    tke_service_signer_set_token (signer, token);
  g_ptr_array_add (signers, g_steal_pointer (&signer));
  return TRUE;
}

/**
 * tke_service_signer_new_from_keys_file:
 * @url: the signing service's URL
 * @path: a `SIGNSERVKEYS` file
 * @ca_file: (nullable): the CA that issued the service's certificate
 * @error: return location for a #GError
 *
 * Reads a `SIGNSERVKEYS` file as the service's CLI plug-in does: a JSON
 * array of `{"key": NAME}` or `{"key": NAME, "token": TOKEN}`, and makes a
 * signer for each entry, in the file's order.  A signer without a token
 * has tke_service_signer_has_token() %FALSE; its owner is asked for one.
 *
 * Returns: (transfer full) (element-type TkeServiceSigner): the signers,
 *   or %NULL with @error set
 */
GPtrArray *
tke_service_signer_new_from_keys_file (const char *url,
                                       const char *path,
                                       const char *ca_file,
                                       GError **error)
{
  g_autoptr (GPtrArray) signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *contents = NULL;
  JsonArray *array;
  gsize size = 0;

  g_return_val_if_fail (url != NULL && path != NULL, NULL);

  if (!g_file_get_contents (path, &contents, &size, &local_error))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND,
                   _ ("The signing service's key list %s cannot be read: %s. Create it with the "
                      "keys the service offers, e.g. [{\"key\":\"first-key\"}]."),
                   path, local_error->message);
      return NULL;
    }
  root = _tke_json_parse_bytes (contents, size, &local_error);
  /* Tokens may be in it. */
  OPENSSL_cleanse (contents, size);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("%s is not a JSON array of signature keys such as "
                      "[{\"key\":\"first-key\",\"token\":\"…\"}]%s%s"),
                   path, local_error != NULL ? ": " : ".",
                   local_error != NULL ? local_error->message : "");
      return NULL;
    }
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (!add_key_entry (signers, json_array_get_element (array, i), i, url, path, ca_file, error))
      return NULL;
  if (signers->len == 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("%s lists no signature keys of the signing service."), path);
      return NULL;
    }
  return g_steal_pointer (&signers);
}

/**
 * tke_service_signer_get_url:
 * @self: a service signer
 *
 * The signing service's URL.
 *
 * Returns: (transfer none): the URL
 */
const char *
tke_service_signer_get_url (TkeServiceSigner *self)
{
  g_return_val_if_fail (TKE_IS_SERVICE_SIGNER (self), NULL);
  return self->url;
}

/**
 * tke_service_signer_get_key_name:
 * @self: a service signer
 *
 * The key's name in the signing service.
 *
 * Returns: (transfer none): the name
 */
const char *
tke_service_signer_get_key_name (TkeServiceSigner *self)
{
  g_return_val_if_fail (TKE_IS_SERVICE_SIGNER (self), NULL);
  return self->key_name;
}

/**
 * tke_service_signer_has_token:
 * @self: a service signer
 *
 * Whether a token for the key is set.
 *
 * Returns: %TRUE if a token is set
 */
gboolean
tke_service_signer_has_token (TkeServiceSigner *self)
{
  gboolean has;

  g_return_val_if_fail (TKE_IS_SERVICE_SIGNER (self), FALSE);
  g_mutex_lock (&self->lock);
  has = self->token != NULL;
  g_mutex_unlock (&self->lock);
  return has;
}

/**
 * tke_service_signer_set_token:
 * @self: a service signer
 * @token: the token that authorizes use of the key (copied)
 *
 * Sets the token sent with each request, kept in secure memory.
 */
void
tke_service_signer_set_token (TkeServiceSigner *self, const TkeSecret *token)
{
  g_return_if_fail (TKE_IS_SERVICE_SIGNER (self));
  g_return_if_fail (token != NULL);

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->token, tke_secret_unref);
  self->token = tke_secret_new_from_data (tke_secret_get_data (token), tke_secret_get_size (token));
  g_mutex_unlock (&self->lock);
}

/* ---- HTTPS (worker threads) ---------------------------------------------- */

typedef struct
{
  GByteArray *data;
  gboolean too_big;
} Answer;

static size_t
on_answer (char *data, size_t size, size_t n, void *user_data)
{
  Answer *answer = user_data;

  if (answer->data->len + size * n > MAX_ANSWER_SIZE)
    {
      answer->too_big = TRUE;
      return 0;
    }
  g_byte_array_append (answer->data, (const guint8 *) data, size * n);
  return size * n;
}

static int
on_progress (
    void *user_data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  return g_cancellable_is_cancelled (user_data) ? 1 : 0;
}

static CURLcode
on_ssl_context (CURL *curl, void *ssl_context, void *user_data)
{
  SSL_CTX_set_options (ssl_context, SSL_OP_CLEANSE_PLAINTEXT);
  return CURLE_OK;
}

/* "Authorization: TOKEN", built in secure memory; curl copies the line,
 * and free_headers() wipes the copy. */
static struct curl_slist *
make_headers (TkeServiceSigner *self)
{
  static const char prefix[] = "Authorization: ";
  struct curl_slist *headers = NULL;

  headers = curl_slist_append (headers, "Accept: application/json");
  headers = curl_slist_append (headers, "Content-Type: application/json");
  g_mutex_lock (&self->lock);
  if (self->token != NULL)
    {
      gsize size = tke_secret_get_size (self->token);
      g_autoptr (TkeSecret) line = tke_secret_new (sizeof prefix + size);
      guint8 *data = tke_secret_get_mutable_data (line);

      memcpy (data, prefix, sizeof prefix - 1);
      memcpy (data + sizeof prefix - 1, tke_secret_get_data (self->token), size);
      data[sizeof prefix - 1 + size] = '\0';
      headers = curl_slist_append (headers, (const char *) data);
    }
  g_mutex_unlock (&self->lock);
  return headers;
}

static void
free_headers (struct curl_slist *headers)
{
  for (struct curl_slist *item = headers; item != NULL; item = item->next)
    OPENSSL_cleanse (item->data, strlen (item->data));
  curl_slist_free_all (headers);
}

static const char *
reason_phrase (long status)
{
  switch (status)
    {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
    }
}

/* A short one-line text body, as a service may answer an error. */
static char *
text_body (const GByteArray *data)
{
  if (data->len == 0 || data->len > 200 || memchr (data->data, '\n', data->len) != NULL ||
      memchr (data->data, '\0', data->len) != NULL ||
      !g_utf8_validate ((const char *) data->data, data->len, NULL))
    return NULL;
  return g_strndup ((const char *) data->data, data->len);
}

/* The message of an error answer: its "message" (or "error") string, or
 * its short text, as a signing service may word it, else the status
 * line's reason. */
static char *
answer_message (const GByteArray *data, long status)
{
  g_autoptr (JsonNode) root = NULL;
  const char *message = NULL;

  if (data->len > 0)
    root = _tke_json_parse_bytes ((const char *) data->data, data->len, NULL);
  if (root == NULL)
    {
      char *text = text_body (data);

      if (text != NULL)
        return text;
    }
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *object = json_node_get_object (root);

      message = _tke_json_get_string (object, "message");
      if (message == NULL)
        message = _tke_json_get_string (object, "error");
    }
  if (message == NULL || *message == '\0' || !g_utf8_validate (message, -1, NULL))
    message = reason_phrase (status);
  return g_strdup (message);
}

static void
set_status_error (
    GError **error, TkeServiceSigner *self, const char *what, long status, const GByteArray *data)
{
  g_autofree char *message = answer_message (data, status);
  TkeError code = TKE_ERROR_SERVICE;
  const char *remedy;

  if (status == 401 || status == 403)
    {
      /* The key's token was refused: like a wrong password, not a login. */
      code = TKE_ERROR_INVALID_PASSWORD;
      remedy = _ ("Check the token of the key in the SIGNSERVKEYS file, or the one you typed.");
    }
  else if (status == 404)
    {
      code = TKE_ERROR_NOT_FOUND;
      remedy = _ ("Check that the key's name in the SIGNSERVKEYS file is one the service has.");
    }
  else
    remedy = _ ("Check the signing service's log.");
  /* The plug-in's words first, so that its troubleshooting pages apply. */
  g_set_error (error, TKE_ERROR, code, "%s\nStatus code: %ld\nMessage: %s\n%s", what, status,
               message, remedy);
}

static void
set_transfer_error (GError **error,
                    TkeServiceSigner *self,
                    const char *what,
                    CURLcode code,
                    const char *detail,
                    GCancellable *cancellable)
{
  const char *text = detail[0] != '\0' ? detail : curl_easy_strerror (code);

  if (code == CURLE_ABORTED_BY_CALLBACK &&
      g_cancellable_set_error_if_cancelled (cancellable, error))
    return;
  switch (code)
    {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
      g_set_error (error, TKE_ERROR, TKE_ERROR_TLS,
                   _ ("%s\nThe certificate of the signing service at %s could not be verified "
                      "(%s). Check the CA file%s%s."),
                   what, self->url, text, self->ca_file ? " " : "",
                   self->ca_file ? self->ca_file : "");
      return;
    case CURLE_UNSUPPORTED_PROTOCOL:
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("%s\nThe signing service's URL %s is not an https:// URL. Signatures are "
                      "only asked for over TLS."),
                   what, self->url);
      return;
    default:
      g_set_error (error, TKE_ERROR, TKE_ERROR_NETWORK,
                   _ ("%s\nMessage: The signing service at %s could not be reached: %s. Check "
                      "TKE_SIGNSERV_URL and that the service runs."),
                   what, self->url, text);
      return;
    }
}

/* One exchange; returns the parsed JSON object of a 2xx answer. */
static JsonObject *
request (TkeServiceSigner *self,
         const char *what,
         const char *method,
         const char *kind,
         GBytes *body,
         GCancellable *cancellable,
         GError **error)
{
  g_autofree char *url = NULL;
  g_autoptr (GByteArray) data = g_byte_array_new ();
  g_autoptr (JsonNode) root = NULL;
  char detail[CURL_ERROR_SIZE] = "";
  Answer answer = { data, FALSE };
  struct curl_slist *headers;
  long status = 0;
  CURLcode code;
  CURL *curl;

  if (!tke_service_signer_key_name_is_valid (self->key_name))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("%s\n“%s” is not a key name a signing service can have: use letters, digits "
                      "and - . _ ~ only."),
                   what, self->key_name);
      return NULL;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  url = g_strdup_printf ("%s/%s/%s", self->url, kind, self->key_name);
  curl = curl_easy_init ();
  if (curl == NULL)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_FAILED, what);
      return NULL;
    }
  headers = make_headers (self);
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt (curl, CURLOPT_SSL_CTX_FUNCTION, on_ssl_context);
  if (self->ca_file != NULL)
    curl_easy_setopt (curl, CURLOPT_CAINFO, self->ca_file);
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, TRANSFER_TIMEOUT_S);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, detail);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_answer);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt (curl, CURLOPT_XFERINFODATA, cancellable);
  if (body != NULL)
    {
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, g_bytes_get_data (body, NULL));
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) g_bytes_get_size (body));
    }
  else
    curl_easy_setopt (curl, CURLOPT_HTTPGET, 1L);

  code = curl_easy_perform (curl);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  /* The handle held the token's header line: not kept for another call. */
  curl_easy_cleanup (curl);
  free_headers (headers);

  if (answer.too_big)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("%s\nThe signing service at %s answered with more than %u bytes."), what,
                   self->url, MAX_ANSWER_SIZE);
      return NULL;
    }
  if (code != CURLE_OK)
    {
      set_transfer_error (error, self, what, code, detail, cancellable);
      return NULL;
    }
  if (status < 200 || status > 299)
    {
      set_status_error (error, self, what, status, data);
      return NULL;
    }
  root = data->len > 0 ? _tke_json_parse_bytes ((const char *) data->data, data->len, NULL) : NULL;
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("%s\nThe signing service at %s did not answer with a JSON object."), what,
                   self->url);
      return NULL;
    }
  return json_node_dup_object (root);
}

/* A base64 member of an answer, decoded. */
static GBytes *
answer_bytes (JsonObject *answer, const char *member, const char *what, GError **error)
{
  const char *text = _tke_json_get_string (answer, member);
  guchar *data;
  gsize size = 0;

  if (text == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA, _ ("%s\n%s not found"), what, member);
      return NULL;
    }
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("+/=", *p) == NULL)
      {
        g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA, _ ("%s\n%s is not base64"), what,
                     member);
        return NULL;
      }
  data = g_base64_decode (text, &size);
  if (size == 0)
    {
      g_free (data);
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA, _ ("%s\n%s is empty"), what, member);
      return NULL;
    }
  return g_bytes_new_take (data, size);
}

/* ---- The public key --------------------------------------------------- */

static gboolean
append_coordinate (GByteArray *point, const ASN1_TYPE *item)
{
  g_autoptr (BIGNUM) value = NULL;
  guint8 buffer[COORDINATE_SIZE];

  if (item == NULL || ASN1_TYPE_get (item) != V_ASN1_INTEGER)
    return FALSE;
  value = ASN1_INTEGER_to_BN (item->value.integer, NULL);
  if (value == NULL || BN_is_negative (value) || BN_bn2binpad (value, buffer, sizeof buffer) < 0)
    return FALSE;
  g_byte_array_append (point, buffer, sizeof buffer);
  return TRUE;
}

/* The documented form, SEQUENCE { INTEGER X, INTEGER Y }, or a
 * SubjectPublicKeyInfo, which some services give instead. */
static EVP_PKEY *
parse_public_key (GBytes *der, GError **error)
{
  const guint8 *data = g_bytes_get_data (der, NULL);
  const guint8 *cursor = data;
  long size = (long) g_bytes_get_size (der);
  STACK_OF (ASN1_TYPE) *items = d2i_ASN1_SEQUENCE_ANY (NULL, &cursor, size);
  g_autoptr (GByteArray) point = g_byte_array_new ();
  guint8 uncompressed = 0x04;
  EVP_PKEY *key = NULL;

  if (items != NULL && cursor == data + size && sk_ASN1_TYPE_num (items) == 2)
    {
      g_byte_array_append (point, &uncompressed, 1);
      if (append_coordinate (point, sk_ASN1_TYPE_value (items, 0)) &&
          append_coordinate (point, sk_ASN1_TYPE_value (items, 1)))
        key = tke_crypto_ec_public_key_from_point (point->data, point->len, NULL);
    }
  sk_ASN1_TYPE_pop_free (items, ASN1_TYPE_free);
  if (key == NULL)
    {
      cursor = data;
      key = d2i_PUBKEY (NULL, &cursor, size);
      if (key != NULL && !EVP_PKEY_is_a (key, "EC"))
        g_clear_pointer (&key, EVP_PKEY_free);
      if (key != NULL)
        {
          /* Only a P-521 key passes: the point goes through the same check. */
          g_autoptr (GBytes) spki_point = tke_crypto_ec_public_point (key, NULL);

          g_clear_pointer (&key, EVP_PKEY_free);
          if (spki_point != NULL)
            key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (spki_point, NULL),
                                                       g_bytes_get_size (spki_point), NULL);
        }
    }
  if (key == NULL)
    g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                         _ ("The signing service's public key is not a P-521 EC key given as "
                            "SEQUENCE { INTEGER X, INTEGER Y }."));
  return key;
}

/* The key's public key, read once and kept. */
static EVP_PKEY *
ensure_public_key (TkeServiceSigner *self, GCancellable *cancellable, GError **error)
{
  g_autofree char *what = NULL;
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GBytes) der = NULL;
  g_autoptr (GBytes) point = NULL;
  EVP_PKEY *key;
  guint8 ski[TKE_SKI_SIZE];

  g_mutex_lock (&self->lock);
  point = self->point != NULL ? g_bytes_ref (self->point) : NULL;
  g_mutex_unlock (&self->lock);
  if (point != NULL)
    return tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                                g_bytes_get_size (point), error);

  what =
      g_strdup_printf (_ ("Error requesting public part of signature key “%s”."), self->key_name);
  answer = request (self, what, "GET", "keys", NULL, cancellable, error);
  if (answer == NULL || (der = answer_bytes (answer, "publickey", what, error)) == NULL)
    return NULL;
  key = parse_public_key (der, error);
  if (key == NULL || (point = tke_crypto_ec_public_point (key, error)) == NULL ||
      !tke_crypto_ski (key, ski, error))
    {
      g_clear_pointer (&key, EVP_PKEY_free);
      return NULL;
    }
  g_mutex_lock (&self->lock);
  if (self->point == NULL)
    {
      self->point = g_bytes_ref (point);
      self->ski = tke_crypto_hex_encode (ski, sizeof ski);
    }
  g_mutex_unlock (&self->lock);
  return key;
}

static void
public_key_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  TkeServiceSigner *self = source;
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = ensure_public_key (self, cancellable, &error);
  GBytes *point;

  if (key == NULL || (point = tke_crypto_ec_public_point (key, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, point, (GDestroyNotify) g_bytes_unref);
}

/* ---- Signing ----------------------------------------------------------- */

static GBytes *
sign_body (GBytes *data)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *input = g_base64_encode (g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  gsize size;
  char *text;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "hash_algorithm");
  json_builder_add_string_value (builder, "sha2-512");
  json_builder_set_member_name (builder, "input");
  json_builder_add_string_value (builder, input);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &size);
  return g_bytes_new_take (text, size);
}

static void
sign_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  TkeServiceSigner *self = source;
  GBytes *data = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autofree char *what = NULL;

  key = ensure_public_key (self, cancellable, &error);
  if (key == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  what = g_strdup_printf (_ ("Error requesting a signature over supplied data with key “%s”."),
                          self->key_name);
  body = sign_body (data);
  answer = request (self, what, "POST", "sign", body, cancellable, &error);
  if (answer == NULL || (signature = answer_bytes (answer, "signature", what, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!tke_crypto_verify (key, g_bytes_get_data (data, NULL), g_bytes_get_size (data),
                          g_bytes_get_data (signature, NULL), g_bytes_get_size (signature), NULL))
    {
      g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_INTEGRITY,
                               _ ("%s\nThe signing service's signature does not verify with the "
                                  "public key it gave for “%s”. Nothing was sent."),
                               what, self->key_name);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&signature), (GDestroyNotify) g_bytes_unref);
}

/* ---- TkeSigner ---------------------------------------------------------- */

static const char *
get_name (TkeSigner *signer)
{
  return TKE_SERVICE_SIGNER (signer)->key_name;
}

static const char *
get_ski (TkeSigner *signer)
{
  TkeServiceSigner *self = TKE_SERVICE_SIGNER (signer);
  const char *ski;

  /* Set once, never changed after: the pointer stays valid. */
  g_mutex_lock (&self->lock);
  ski = self->ski;
  g_mutex_unlock (&self->lock);
  return ski;
}

static void
get_public_key_async (TkeSigner *signer,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (signer, cancellable, callback, user_data);

  g_task_set_source_tag (task, get_public_key_async);
  g_task_run_in_thread (task, public_key_thread);
}

static GBytes *
get_public_key_finish (TkeSigner *signer, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, signer), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
sign_async (TkeSigner *signer,
            GBytes *data,
            GCancellable *cancellable,
            GAsyncReadyCallback callback,
            gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (signer, cancellable, callback, user_data);

  g_task_set_source_tag (task, sign_async);
  g_task_set_task_data (task, g_bytes_ref (data), (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (task, sign_thread);
}

static GBytes *
sign_finish (TkeSigner *signer, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, signer), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
tke_service_signer_signer_init (TkeSignerInterface *iface)
{
  iface->get_name = get_name;
  iface->get_ski = get_ski;
  iface->get_public_key_async = get_public_key_async;
  iface->get_public_key_finish = get_public_key_finish;
  iface->sign_async = sign_async;
  iface->sign_finish = sign_finish;
}

static void
tke_service_signer_finalize (GObject *object)
{
  TkeServiceSigner *self = TKE_SERVICE_SIGNER (object);

  g_free (self->url);
  g_free (self->key_name);
  g_free (self->ca_file);
  g_clear_pointer (&self->token, tke_secret_unref);
  g_clear_pointer (&self->point, g_bytes_unref);
  g_free (self->ski);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (tke_service_signer_parent_class)->finalize (object);
}

static void
tke_service_signer_class_init (TkeServiceSignerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tke_service_signer_finalize;

  /* libcurl's global set-up, with the cleansing allocator, is done by the
   * service client's class: once, before any worker thread runs. */
  g_type_class_unref (g_type_class_ref (TKE_TYPE_SERVICE_CLIENT));
}

static void
tke_service_signer_init (TkeServiceSigner *self)
{
  g_mutex_init (&self->lock);
}
