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

#include <string.h>

#include "tke-emu-server-private.h"
#include "tke-emu-tls.h"

/* Routing */

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

  route (self, msg, path, query);
  if (self->faults.latency_ms > 0)
    {
      soup_server_message_pause (msg);
      g_timeout_add (self->faults.latency_ms, unpause, g_object_ref (msg));
    }
}

/* Refuse an oversize body before reading it. */
static void
got_headers (SoupServerMessage *msg, gpointer user_data)
{
  goffset length =
      soup_message_headers_get_content_length (soup_server_message_get_request_headers (msg));

  if (length > TKE_EMU_MAX_BODY)
    {
      g_autoptr (GError) error = g_error_new (TKE_EMU_ERROR, TKE_EMU_ERROR_PAYLOAD_TOO_LARGE,
                                              "The request body is over 1 MiB.");

      _tke_emu_reply_error (msg, error);
    }
}

static void
request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  g_signal_connect (msg, "got-headers", G_CALLBACK (got_headers), NULL);
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
  self->faults.faults_file = g_strdup (faults->faults_file);
  self->jwt_key = tke_crypto_hkdf_sha256 (store->device_key, (const guint8 *) "tke-emulator", 12,
                                          (const guint8 *) "tke-emulator jwt",
                                          strlen ("tke-emulator jwt"), 32, error);
  self->identity = tke_emu_identity_open (store, error);
  if (self->jwt_key == NULL || self->identity == NULL)
    {
      tke_emu_server_free (self);
      return NULL;
    }
  self->soup = soup_server_new ("tls-certificate", cert, "server-header", "tke-emulator ", NULL);
  soup_server_add_handler (self->soup, NULL, server_callback, self, NULL);
  g_signal_connect (self->soup, "request-started", G_CALLBACK (request_started), self);
  return self;
}

gboolean
tke_emu_server_listen (TkeEmuServer *self, guint port, GError **error)
{
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, (guint16) port);

  return soup_server_listen (self->soup, address, SOUP_SERVER_LISTEN_HTTPS, error);
}

char *
tke_emu_server_get_url (TkeEmuServer *self)
{
  GSList *uris = soup_server_get_uris (self->soup);
  char *url = NULL;

  if (uris != NULL)
    url = g_strdup_printf ("https://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return url;
}

void
tke_emu_server_free (TkeEmuServer *self)
{
  if (self == NULL)
    return;
  g_atomic_int_set (&self->stop, 1);
  if (self->worker != NULL)
    g_thread_join (self->worker);
  if (self->soup != NULL)
    {
      soup_server_disconnect (self->soup);
      g_object_unref (self->soup);
    }
  g_clear_pointer (&self->jwt_key, tke_secret_unref);
  g_clear_pointer (&self->identity, tke_emu_identity_free);
  g_free (self->faults.fail_setimm_on);
  g_free (self->faults.faults_file);
  g_free (self);
}
