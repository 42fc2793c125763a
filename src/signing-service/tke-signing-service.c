/* tke-signing-service.c: a reference signing service for TKE_SIGNSERV_URL
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The signing-service API of the service's CLI plug-in, over HTTPS:
 *   GET  /keys/NAME  → {"publickey": base64 DER SEQUENCE {INTEGER X, INTEGER Y}}
 *   POST /sign/NAME  {"hash_algorithm": "sha2-512", "input": base64}
 *                    → {"signature": base64 DER SEQUENCE {INTEGER R, INTEGER S}}
 * each with the key's token in the Authorization header.  For tests and
 * the demo: it listens on loopback only, with a certificate from its own
 * CA (ca.pem in --state-dir), and logs each request without its token.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <openssl/crypto.h>

#include "tke-emu-tls.h"
#include "tke-sign-keys.h"

/* A command to sign is a few kilobytes. */
#define MAX_BODY (1024 * 1024)

typedef struct
{
  GPtrArray *keys;
  guint64 signatures;
} Service;

static void
answer_json (SoupServerMessage *msg, guint status, JsonBuilder *builder)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  gsize size;
  char *text;

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &size);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, size);
}

static void
answer_member (SoupServerMessage *msg, guint status, const char *member, const char *value)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
  json_builder_end_object (builder);
  answer_json (msg, status, builder);
}

/* Plain text, as the SDK's client prints the body of an error answer as
 * it is ("Message: Unauthorized"); libtke reads either. */
static void
answer_error (SoupServerMessage *msg, guint status, const char *message)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_COPY, message,
                                    strlen (message));
}

static void
log_request (SoupServerMessage *msg, const char *name)
{
  g_printerr ("tke-signing-service: %s %s key=%s -> %u\n", soup_server_message_get_method (msg),
              g_uri_get_path (soup_server_message_get_uri (msg)), name ? name : "-",
              soup_server_message_get_status (msg));
}

/* The key named by the path's last segment, if the request carries its
 * token (as is, as the plug-in sends it, or after "Bearer "). */
static TkeSignKey *
authorized_key (Service *service, SoupServerMessage *msg, const char *prefix)
{
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
  const char *name = path + strlen (prefix);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *token = soup_message_headers_get_one (headers, "Authorization");
  TkeSignKey *key;

  if (!tke_service_signer_key_name_is_valid (name) ||
      (key = tke_sign_keys_find (service->keys, name)) == NULL)
    {
      answer_error (msg, SOUP_STATUS_NOT_FOUND, "Not Found: no signature key has this name");
      return NULL;
    }
  if (token != NULL && g_str_has_prefix (token, "Bearer "))
    token += strlen ("Bearer ");
  if (!tke_sign_key_token_matches (key, token))
    {
      answer_error (msg, SOUP_STATUS_UNAUTHORIZED, "Unauthorized");
      return NULL;
    }
  return key;
}

static void
on_keys (SoupServer *server,
         SoupServerMessage *msg,
         const char *path,
         GHashTable *query,
         gpointer user_data)
{
  Service *service = user_data;
  TkeSignKey *key;
  g_autofree char *text = NULL;

  if (!g_str_equal (soup_server_message_get_method (msg), "GET"))
    answer_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Method Not Allowed");
  else if ((key = authorized_key (service, msg, "/keys/")) != NULL)
    {
      text = g_base64_encode (g_bytes_get_data (key->public_der, NULL),
                              g_bytes_get_size (key->public_der));
      answer_member (msg, SOUP_STATUS_OK, "publickey", text);
    }
  log_request (msg, path + strlen ("/keys/"));
}

/* The data to sign from the request body, or NULL with the answer set. */
static GBytes *
sign_input (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *object;
  const char *algorithm, *input;
  guchar *data;
  gsize size = 0;

  if (body->length > MAX_BODY)
    {
      answer_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "Payload Too Large");
      return NULL;
    }
  if (!json_parser_load_from_data (parser, body->data, body->length, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      answer_error (msg, SOUP_STATUS_BAD_REQUEST, "Bad Request: the body is not a JSON object");
      return NULL;
    }
  object = json_node_get_object (json_parser_get_root (parser));
  algorithm = json_object_get_string_member_with_default (object, "hash_algorithm", NULL);
  input = json_object_get_string_member_with_default (object, "input", NULL);
  if (g_strcmp0 (algorithm, "sha2-512") != 0)
    {
      answer_error (msg, SOUP_STATUS_BAD_REQUEST,
                    "Bad Request: hash_algorithm must be \"sha2-512\"");
      return NULL;
    }
  if (input == NULL || *input == '\0' ||
      strspn (input, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw"
                     "xyz0123456789+/=") != strlen (input))
    {
      answer_error (msg, SOUP_STATUS_BAD_REQUEST, "Bad Request: input must be base64");
      return NULL;
    }
  data = g_base64_decode (input, &size);
  if (size == 0)
    {
      g_free (data);
      answer_error (msg, SOUP_STATUS_BAD_REQUEST, "Bad Request: input is empty");
      return NULL;
    }
  return g_bytes_new_take (data, size);
}

static void
on_sign (SoupServer *server,
         SoupServerMessage *msg,
         const char *path,
         GHashTable *query,
         gpointer user_data)
{
  Service *service = user_data;
  g_autoptr (GBytes) input = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  TkeSignKey *key;

  if (!g_str_equal (soup_server_message_get_method (msg), "POST"))
    answer_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Method Not Allowed");
  else if ((key = authorized_key (service, msg, "/sign/")) != NULL &&
           (input = sign_input (msg)) != NULL)
    {
      signature = tke_crypto_sign (key->key, g_bytes_get_data (input, NULL),
                                   g_bytes_get_size (input), &error);
      if (signature == NULL)
        answer_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
      else
        {
          text = g_base64_encode (g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
          answer_member (msg, SOUP_STATUS_OK, "signature", text);
          service->signatures++;
        }
    }
  log_request (msg, path + strlen ("/sign/"));
}

static void
on_other (SoupServer *server,
          SoupServerMessage *msg,
          const char *path,
          GHashTable *query,
          gpointer user_data)
{
  answer_error (msg, SOUP_STATUS_NOT_FOUND, "Not Found");
  log_request (msg, NULL);
}

static gboolean
quit (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_CONTINUE;
}

static gboolean
parse_listen (const char *listen, guint *port)
{
  guint64 value;

  *port = 0;
  if (listen == NULL)
    return TRUE;
  if (!g_str_has_prefix (listen, "127.0.0.1:") ||
      !g_ascii_string_to_unsigned (listen + strlen ("127.0.0.1:"), 10, 0, 65535, &value, NULL))
    return FALSE;
  *port = (guint) value;
  return TRUE;
}

static SoupServer *
start_server (Service *service, const char *state_dir, guint port, char **url, GError **error)
{
  g_autoptr (GTlsCertificate) certificate = NULL;
  g_autoptr (SoupServer) server = NULL;
  GSList *uris;

  if (!tke_emu_tls_ensure (state_dir, error) ||
      (certificate = tke_emu_tls_load (state_dir, error)) == NULL)
    return NULL;
  server = soup_server_new ("tls-certificate", certificate, "server-header", "tke-signing-service",
                            NULL);
  soup_server_add_handler (server, "/keys/", on_keys, service, NULL);
  soup_server_add_handler (server, "/sign/", on_sign, service, NULL);
  soup_server_add_handler (server, NULL, on_other, service, NULL);
  if (!soup_server_listen_local (server, port,
                                 SOUP_SERVER_LISTEN_HTTPS | SOUP_SERVER_LISTEN_IPV4_ONLY, error))
    return NULL;
  uris = soup_server_get_uris (server);
  *url = g_strdup_printf ("https://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return g_steal_pointer (&server);
}

static char *
ready_line (const char *url, const char *ca_file, Service *service)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "url");
  json_builder_add_string_value (b, url);
  json_builder_set_member_name (b, "ca_file");
  json_builder_add_string_value (b, ca_file);
  json_builder_set_member_name (b, "keys");
  json_builder_begin_array (b);
  for (guint i = 0; i < service->keys->len; i++)
    json_builder_add_string_value (b, ((TkeSignKey *) service->keys->pdata[i])->name);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, getpid ());
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

int
main (int argc, char **argv)
{
  g_autofree char *state_dir = NULL, *config = NULL, *password_file = NULL;
  g_autofree char *listen = NULL, *ready_file = NULL;
  GOptionEntry entries[] = {
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config,
      "The keys: {\"keys\": [{\"name\", \"file\", \"token_sha256\"}, …]} (mode 0600)", "FILE" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
      "Where its TLS CA (ca.pem) and certificate are kept", "DIR" },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
      "The key files' passwords, one a line (mode 0600); else read from stdin", "FILE" },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen, "127.0.0.1:PORT (port 0: any free)", "ADDR" },
    { "ready-file", 0, 0, G_OPTION_ARG_FILENAME, &ready_file, "Write the ready JSON here too",
      "PATH" },
    { NULL },
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- a signing service for TKE_SIGNSERV_URL");
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupServer) server = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree char *url = NULL, *ca_file = NULL, *line = NULL;
  Service service = { 0 };
  guint port;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("tke-signing-service: %s\n", error->message);
      return 2;
    }
  if (config == NULL || state_dir == NULL || !parse_listen (listen, &port))
    {
      g_printerr ("tke-signing-service: --config FILE and --state-dir DIR are required; "
                  "--listen takes 127.0.0.1:PORT (loopback only)\n");
      return 2;
    }
  OPENSSL_init_crypto (0, NULL);
  if (g_mkdir_with_parents (state_dir, 0700) != 0 ||
      (service.keys = tke_sign_keys_load (config, password_file, &error)) == NULL ||
      (server = start_server (&service, state_dir, port, &url, &error)) == NULL)
    {
      g_printerr ("tke-signing-service: %s\n",
                  error != NULL ? error->message : "cannot create the state directory");
      g_clear_pointer (&service.keys, g_ptr_array_unref);
      return 1;
    }

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, quit, loop);
  g_unix_signal_add (SIGINT, quit, loop);
  {
    g_autofree char *path = g_build_filename (state_dir, "ca.pem", NULL);

    /* Absolute: the ready line is read by another process. */
    ca_file = g_canonicalize_filename (path, NULL);
  }
  line = ready_line (url, ca_file, &service);
  if (ready_file != NULL && !g_file_set_contents_full (
                                ready_file, line, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    {
      g_printerr ("tke-signing-service: cannot write %s: %s\n", ready_file, error->message);
      g_ptr_array_unref (service.keys);
      return 1;
    }
  printf ("%s\n", line);
  fflush (stdout);

  g_main_loop_run (loop);

  g_printerr ("tke-signing-service: %" G_GUINT64_FORMAT " signatures given\n", service.signatures);
  soup_server_disconnect (server);
  g_ptr_array_unref (service.keys);
  return 0;
}
