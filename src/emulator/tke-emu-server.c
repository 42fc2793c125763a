/* tke-emu-server.c: the HTTPS service (data/doc/service-protocol.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every request runs on the main context; a state change is one SQLite
 * transaction that is rolled back on any error, so a refused request
 * changes nothing.  The rotation's rewrap runs in a worker thread with its
 * own connection, one transaction per batch.  This file holds the server
 * object and the routing; tke-emu-server-private.h says where the rest is.
 */

#include "config.h"

#include <errno.h>
#include <string.h>

#include "tke-emu-server-private.h"
#include "tke-emu-tls.h"

/* Routing */

/* The path and query as libsoup decoded them must mean what they say: a
 * %00 would end the C string early ("limit=5%00" read as 5), and an error
 * that quotes the path must stay UTF-8. */
static gboolean
check_uri (SoupServerMessage *msg, const char *path, GError **error)
{
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));

  if (!g_utf8_validate (path, -1, NULL))
    return FAIL (NOT_FOUND, "No such resource: the path is not valid UTF-8.");
  if (query != NULL && strstr (query, "%00") != NULL)
    return FAIL (INVALID_PARAMETER, "The query has a NUL byte (%%00).");
  if (query != NULL)
    {
      g_autofree char *decoded = g_uri_unescape_string (query, NULL);

      if (decoded == NULL || !g_utf8_validate (decoded, -1, NULL))
        return FAIL (INVALID_PARAMETER, "The query is not valid UTF-8.");
    }
  return TRUE;
}

static void
route (TkeEmuServer *self, SoupServerMessage *msg, const char *path, GHashTable *query)
{
  const char *method = soup_server_message_get_method (msg);
  g_auto (GStrv) parts = g_strsplit (path[0] == '/' ? path + 1 : path, "/", -1);
  guint n = g_strv_length (parts);
  g_autoptr (GError) error = NULL;
  gboolean post = g_str_equal (method, "POST"), get = g_str_equal (method, "GET");

  if (soup_server_message_get_request_body (msg)->length > TKE_EMU_MAX_BODY)
    {
      g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_PAYLOAD_TOO_LARGE,
                   "The request body is over 1 MiB.");
      goto error;
    }
  if (!check_uri (msg, path, &error))
    goto error;
  if (g_str_equal (path, "/identity/token"))
    {
      if (!post)
        goto not_allowed;
      _tke_emu_handle_token (self, msg);
      return;
    }
  if (self->faults.http_500_rate > 0 && g_random_double () < self->faults.http_500_rate)
    {
      g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_INJECTED_FAULT,
                   "Injected fault: HTTP 500.");
      goto error;
    }
  if (n < 2 || !((g_str_equal (parts[0], "v1") &&
                  (g_str_equal (parts[1], "tke") || g_str_equal (parts[1], "grep11"))) ||
                 (g_str_equal (parts[0], "api") && g_str_equal (parts[1], "v2") && n >= 3 &&
                  g_str_equal (parts[2], "keys"))))
    {
      g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND, "No such resource: %s", path);
      goto error;
    }
  if (!_tke_emu_check_token (self, msg, &error))
    goto error;

  if (g_str_equal (parts[0], "api"))
    {
      _tke_emu_handle_kms (self, msg, method, parts, n, query);
      return;
    }
  if (g_str_equal (parts[1], "grep11"))
    {
      if (n != 3)
        goto not_found;
      if (!post)
        goto not_allowed;
      _tke_emu_handle_grep11 (self, msg, parts[2]);
      return;
    }
  /* /v1/tke/{instance}/… */
  if (n < 4)
    goto not_found;
  if (!g_str_equal (parts[2], self->store->instance_id))
    {
      g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND,
                   "There is no service instance %s.", parts[2]);
      goto error;
    }
  if (n == 4 && g_str_equal (parts[3], "hsms"))
    {
      if (!get)
        goto not_allowed;
      _tke_emu_handle_hsms (self, msg);
    }
  else if (n == 5 && g_str_equal (parts[3], "hsms"))
    {
      if (!post)
        goto not_allowed;
      _tke_emu_handle_command (self, msg, parts[2], parts[4]);
    }
  else if (n == 4 && g_str_equal (parts[3], "unit_root"))
    {
      if (!get)
        goto not_allowed;
      _tke_emu_reply_object (msg, 200, tke_emu_identity_root_json (self->identity));
    }
  else if (n == 4 && g_str_equal (parts[3], "failover"))
    {
      if (!post)
        goto not_allowed;
      _tke_emu_handle_failover (self, msg);
    }
  else if (n == 4 && g_str_equal (parts[3], "rotate"))
    {
      if (!post)
        goto not_allowed;
      _tke_emu_handle_rotate (self, msg);
    }
  else if (n == 4 && (g_str_equal (parts[3], "rotation") || g_str_equal (parts[3], "keystore")))
    {
      JsonObject *out;

      if (!get)
        goto not_allowed;
      out = g_str_equal (parts[3], "rotation") ? _tke_emu_rotation_json (self, &error)
                                               : _tke_emu_keystore_verify (self, &error);
      if (out == NULL)
        goto error;
      _tke_emu_reply_object (msg, 200, out);
    }
  else
    goto not_found;
  return;

not_found:
  g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND, "No such resource: %s", path);
  goto error;
not_allowed:
  g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_METHOD_NOT_ALLOWED, "%s is not allowed on %s.",
               method, path);
error:
  _tke_emu_reply_error (msg, error);
}

static gboolean
unpause (gpointer data)
{
  soup_server_message_unpause (data);
  g_object_unref (data);
  return G_SOURCE_REMOVE;
}

static void
server_callback (SoupServer *server,
                 SoupServerMessage *msg,
                 const char *path,
                 GHashTable *query,
                 gpointer user_data)
{
  TkeEmuServer *self = user_data;

  /* Counted by the benchmarks: what a ceremony costs in requests. */
  if (self->request_log != NULL)
    {
      fprintf (self->request_log, "%s %s\n", soup_server_message_get_method (msg), path);
      fflush (self->request_log);
    }
  route (self, msg, path, query);
  if (self->faults.latency_ms > 0)
    {
      soup_server_message_pause (msg);
      g_timeout_add (self->faults.latency_ms, unpause, g_object_ref (msg));
    }
}

/* A body over TKE_EMU_MAX_BODY is answered 413 and no longer kept:
 * libsoup reads a body to its end even after an answer is set (unless the
 * client asked for 100-continue), and would otherwise hold all of it (a
 * 200 MB body took the service to 450 MB).  The connection closes after
 * the answer. */
static void
refuse_body (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GError) error = g_error_new (TKE_EMU_ERROR, TKE_EMU_ERROR_PAYLOAD_TOO_LARGE,
                                          "The request body is over 1 MiB.");

  soup_message_body_set_accumulate (body, FALSE);
  soup_message_body_truncate (body);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
  _tke_emu_reply_error (msg, error);
}

/* A chunked body has no length up front: it is counted as it arrives. */
static void
got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  if (soup_server_message_get_request_body (msg)->length > TKE_EMU_MAX_BODY &&
      soup_server_message_get_status (msg) == 0)
    refuse_body (msg);
}

/* Runs after libsoup's own got-headers handler: a request libsoup refused
 * (a %00 in the path) gets a JSON error, not an empty 400. */
static void
got_headers (SoupServerMessage *msg, gpointer user_data)
{
  goffset length =
      soup_message_headers_get_content_length (soup_server_message_get_request_headers (msg));

  if (soup_server_message_get_status (msg) == SOUP_STATUS_BAD_REQUEST)
    {
      g_autoptr (GError) error =
          g_error_new (TKE_EMU_ERROR, TKE_EMU_ERROR_MALFORMED_REQUEST,
                       "The request path is malformed (for example a %%00 or a \"..\" in it).");

      _tke_emu_reply_error (msg, error);
    }
  else if (length > TKE_EMU_MAX_BODY) /* refused before the body is read */
    refuse_body (msg);
}

/* libsoup 3.2 forgets that a 204 has no body once it has written the
 * headers, takes the response for one that ends at the end of the stream,
 * and closes the keep-alive connection: say it again. */
static void
wrote_headers (SoupServerMessage *msg, gpointer user_data)
{
  if (soup_server_message_get_status (msg) == SOUP_STATUS_NO_CONTENT)
    soup_message_headers_set_encoding (soup_server_message_get_response_headers (msg),
                                       SOUP_ENCODING_NONE);
}

static void
request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  TkeEmuServer *self = user_data;

  /* libsoup answers a request line it cannot parse itself, without a
   * signal before it writes: this body is there for it.  Every answer of
   * the service replaces it.  Made once: it was a twentieth of a call. */
  if (self->malformed_body == NULL)
    {
      g_autoptr (GError) error = g_error_new (TKE_EMU_ERROR, TKE_EMU_ERROR_MALFORMED_REQUEST,
                                              "The request line or headers are malformed HTTP.");

      self->malformed_body = _tke_emu_error_bytes (error);
    }
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_message_headers_set_content_type (soup_server_message_get_response_headers (msg),
                                         "application/json", NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg),
                                  self->malformed_body);
  g_signal_connect (msg, "got-headers", G_CALLBACK (got_headers), NULL);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (got_chunk), NULL);
  g_signal_connect (msg, "wrote-headers", G_CALLBACK (wrote_headers), NULL);
}

TkeEmuServer *
tke_emu_server_new (TkeEmuStore *store, const TkeEmuFaults *faults, GError **error)
{
  TkeEmuServer *self = g_new0 (TkeEmuServer, 1);
  g_autoptr (GTlsCertificate) cert = tke_emu_tls_load (store->state_dir, error);

  if (cert == NULL)
    {
      g_free (self);
      return NULL;
    }
  self->store = store;
  self->faults = *faults;
  self->faults.fail_setimm_on = g_strdup (faults->fail_setimm_on);
  self->faults.lose_new_on = g_strdup (faults->lose_new_on);
  self->faults.fail_import_on = g_strdup (faults->fail_import_on);
  self->faults.faults_file = g_strdup (faults->faults_file);
  self->faults.request_log = NULL;
  if (faults->request_log != NULL && (self->request_log = fopen (faults->request_log, "a")) == NULL)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s",
                   faults->request_log, g_strerror (errno));
      tke_emu_server_free (self);
      return NULL;
    }
  self->expire_tokens_after_keys = -1;
  self->jwt_key = tke_crypto_hkdf_sha256 (store->device_key, (const guint8 *) "tke-emulator", 12,
                                          (const guint8 *) "tke-emulator jwt",
                                          strlen ("tke-emulator jwt"), 32, error);
  self->identity = tke_emu_identity_open (store, error);
  if (self->jwt_key == NULL || self->identity == NULL)
    {
      tke_emu_server_free (self);
      return NULL;
    }
  self->soup = soup_server_new ("server-header", "tke-emulator ", NULL);
  soup_server_add_handler (self->soup, NULL, server_callback, self, NULL);
  g_signal_connect (self->soup, "request-started", G_CALLBACK (request_started), self);
  self->listener = _tke_emu_listener_new (self->soup, cert, &self->faults);
  return self;
}

gboolean
tke_emu_server_listen (TkeEmuServer *self, guint port, GError **error)
{
  return _tke_emu_listener_listen (self->listener, port, error);
}

char *
tke_emu_server_get_url (TkeEmuServer *self)
{
  guint16 port = _tke_emu_listener_get_port (self->listener);

  return port != 0 ? g_strdup_printf ("https://127.0.0.1:%u", port) : NULL;
}

void
tke_emu_server_free (TkeEmuServer *self)
{
  if (self == NULL)
    return;
  g_atomic_int_set (&self->stop, 1);
  if (self->worker != NULL)
    g_thread_join (self->worker);
  g_clear_pointer (&self->listener, _tke_emu_listener_free);
  if (self->soup != NULL)
    {
      soup_server_disconnect (self->soup);
      g_object_unref (self->soup);
    }
  g_clear_pointer (&self->jwt_key, tke_secret_unref);
  g_clear_pointer (&self->identity, tke_emu_identity_free);
  _tke_emu_forget_token (self);
  g_clear_pointer (&self->malformed_body, g_bytes_unref);
  g_clear_pointer (&self->grep11_keys, _tke_emu_grep11_keys_free);
  g_free (self->faults.fail_setimm_on);
  g_free (self->faults.lose_new_on);
  g_free (self->faults.fail_import_on);
  g_free (self->faults.faults_file);
  if (self->request_log != NULL)
    fclose (self->request_log);
  g_free (self);
}
