/* test-emulator-hardening.c: tke-emulator under hostile input and load
 * (issue 19): every refusal a JSON error, no crash, connections released
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A real emulator over real TLS on loopback; every loop is bounded.
 */

#define _GNU_SOURCE /* prlimit */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "tke-test-emulator.h"

/* The emulator most tests run: a demo instance with 5 KMS keys, logged in. */
static const char *const demo_args[] = { "--init", "demo", "--keys", "5", NULL };

static pid_t
emu_pid (Emu *emu)
{
  return (pid_t) g_ascii_strtoll (g_subprocess_get_identifier (emu->process), NULL, 10);
}

static guint
open_fds (Emu *emu)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/fd", (int) emu_pid (emu));
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Waits (at most @seconds) for the emulator's descriptors to drop to @n. */
static gboolean
wait_fds (Emu *emu, guint n, guint seconds)
{
  for (guint i = 0; i < seconds * 20; i++)
    {
      if (open_fds (emu) <= n)
        return TRUE;
      g_usleep (50 * 1000);
    }
  return open_fds (emu) <= n;
}

static guint16
emu_port (Emu *emu)
{
  return (guint16) g_ascii_strtoull (strrchr (emu->url, ':') + 1, NULL, 10);
}

static void
get_ok (Emu *emu, const char *path)
{
  g_autoptr (JsonObject) answer = emu_call_ok (emu, "GET", path, NULL, 200);

  g_assert_nonnull (answer);
}

static char *
first_key_id (Emu *emu)
{
  g_autoptr (JsonObject) list = emu_call_ok (emu, "GET", "/api/v2/keys?limit=1", NULL, 200);
  JsonArray *resources = json_object_get_array_member (list, "resources");

  return g_strdup (
      json_object_get_string_member (json_array_get_object_element (resources, 0), "id"));
}

/* Raw connections: what a hostile or a plain HTTP/1.1 client sends */

typedef struct
{
  GSocketConnection *tcp;
  GIOStream *tls;
  GDataInputStream *in;
} Raw;

static void
raw_free (Raw *raw)
{
  g_clear_object (&raw->in);
  if (raw->tls != NULL)
    g_io_stream_close (raw->tls, NULL, NULL);
  g_clear_object (&raw->tls);
  g_clear_object (&raw->tcp);
  g_free (raw);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Raw, raw_free)

static GSocketConnection *
tcp_connect (Emu *emu)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  GSocketConnection *tcp =
      g_socket_client_connect_to_host (client, "127.0.0.1", emu_port (emu), NULL, &error);

  g_assert_no_error (error);
  return tcp;
}

static Raw *
raw_connect (Emu *emu)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsDatabase) db = g_tls_file_database_new (emu->ca_file, &error);
  g_autoptr (GSocketConnectable) identity = g_network_address_new ("127.0.0.1", emu_port (emu));
  Raw *raw = g_new0 (Raw, 1);

  g_assert_no_error (error);
  raw->tcp = tcp_connect (emu);
  raw->tls = g_tls_client_connection_new (G_IO_STREAM (raw->tcp), identity, &error);
  g_assert_no_error (error);
  g_tls_connection_set_database (G_TLS_CONNECTION (raw->tls), db);
  g_tls_connection_handshake (G_TLS_CONNECTION (raw->tls), NULL, &error);
  g_assert_no_error (error);
  raw->in = g_data_input_stream_new (g_io_stream_get_input_stream (raw->tls));
  g_data_input_stream_set_newline_type (raw->in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  return raw;
}

static void
raw_send (Raw *raw, const char *text)
{
  g_autoptr (GError) error = NULL;

  g_output_stream_write_all (g_io_stream_get_output_stream (raw->tls), text, strlen (text), NULL,
                             NULL, &error);
  g_assert_no_error (error);
}

/* A request with the emulator's token and instance header. */
static char *
request_text (Emu *emu, const char *method, const char *target, const char *body)
{
  return g_strdup_printf ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                          "Bluemix-Instance: %s\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n%s",
                          method, target, emu->token, emu->instance,
                          body != NULL ? strlen (body) : 0, body != NULL ? body : "");
}

/* Reads one response; returns its status, or 0 if the connection ended
 * first.  *body (if not NULL) gets the body. */
static guint
raw_response (Raw *raw, char **body)
{
  g_autofree char *status_line = g_data_input_stream_read_line (raw->in, NULL, NULL, NULL);
  gsize length = 0;
  guint status;

  if (status_line == NULL)
    return 0;
  g_assert_true (g_str_has_prefix (status_line, "HTTP/1.1 "));
  status = (guint) g_ascii_strtoull (status_line + 9, NULL, 10);
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *line = g_data_input_stream_read_line (raw->in, NULL, NULL, NULL);

      g_assert_nonnull (line);
      if (*line == '\0')
        break;
      if (g_ascii_strncasecmp (line, "Content-Length:", 15) == 0)
        length = g_ascii_strtoull (line + 15, NULL, 10);
    }
  if (body != NULL)
    {
      g_autoptr (GError) error = NULL;
      char *text = g_malloc0 (length + 1);

      g_input_stream_read_all (G_INPUT_STREAM (raw->in), text, length, NULL, NULL, &error);
      g_assert_no_error (error);
      *body = text;
    }
  return status;
}

/* @body is a JSON error with @code, and valid UTF-8. */
static void
assert_json_error (const char *body, const char *code)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *err;

  g_assert_true (g_utf8_validate (body, -1, NULL));
  json_parser_load_from_data (parser, body, -1, &error);
  g_assert_no_error (error);
  err =
      json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "error");
  g_assert_nonnull (err);
  if (code != NULL)
    g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, code);
}

static guint
raw_call (Emu *emu, const char *method, const char *target, const char *body, char **answer)
{
  g_autoptr (Raw) raw = raw_connect (emu);
  g_autofree char *request = request_text (emu, method, target, body);

  raw_send (raw, request);
  return raw_response (raw, answer);
}

/* Input the JSON parser would mishandle */

static void
test_deep_nesting (TkeTestEmulator *f, gconstpointer data)
{
  Emu *emu = f->emu;
  g_autoptr (GString) body = g_string_new ("{\"resources\":");
  g_autoptr (JsonObject) list = NULL;
  g_autoptr (JsonNode) node = NULL;
  guint status = 0;

  /* 100 000 levels overflowed json-glib's recursion (SIGSEGV). */
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (body, '[');
  node = emu_call (emu, "POST", "/api/v2/keys", NULL, body->str, body->len, &status);
  g_assert_cmpuint (status, ==, 400);
  g_assert_cmpstr (
      json_object_get_string_member (
          json_object_get_object_member (json_node_get_object (node), "error"), "code"),
      ==, "malformed_json");
  /* In a signed command's envelope too; and the service still serves. */
  {
    g_autofree char *command = g_strdup_printf ("/v1/tke/%s/hsms/y", emu->instance);

    emu_call_error (emu, "POST", command, body->str, 400, "malformed_json");
  }
  list = emu_call_ok (emu, "GET", "/api/v2/keys", NULL, 200);
  g_assert_cmpint (
      json_object_get_int_member (json_object_get_object_member (list, "metadata"), "totalCount"),
      ==, 5);
  emu_stop (emu);
}

static void
test_nul_in_string (TkeTestEmulator *f, gconstpointer data)
{
  Emu *emu = f->emu;
  g_autoptr (JsonObject) list = NULL;
  g_autoptr (JsonObject) made = NULL;

  /* "a\u0000b" was stored as "a". */
  emu_call_error (emu, "POST", "/api/v2/keys",
                  "{\"resources\":[{\"type\":\"application/vnd.ibm.kms.key+json\","
                  "\"name\":\"a\\u0000b\"}]}",
                  400, "malformed_json");
  list = emu_call_ok (emu, "GET", "/api/v2/keys", NULL, 200);
  g_assert_cmpint (
      json_object_get_int_member (json_object_get_object_member (list, "metadata"), "totalCount"),
      ==, 5);
  /* An escaped backslash before u0000 is text, not a NUL. */
  made = emu_call_ok (emu, "POST", "/api/v2/keys",
                      "{\"resources\":[{\"type\":\"application/vnd.ibm.kms.key+json\","
                      "\"name\":\"a\\\\u0000b\"}]}",
                      201);
  g_assert_cmpstr (
      json_object_get_string_member (
          json_array_get_object_element (json_object_get_array_member (made, "resources"), 0),
          "name"),
      ==, "a\\u0000b");
  emu_stop (emu);
}

/* A ciphertext far over any wrap's output aborted the emulator: decrypting
 * allocates its size in the 256 KiB secure heap. */
static void
test_kms_sizes (TkeTestEmulator *f, gconstpointer data)
{
  Emu *emu = f->emu;
  g_autofree char *id = first_key_id (emu);
  g_autofree char *unwrap = g_strdup_printf ("/api/v2/keys/%s?action=unwrap", id);
  g_autofree char *wrap = g_strdup_printf ("/api/v2/keys/%s?action=wrap", id);
  g_autofree guint8 *big = g_malloc0 (400 * 1000);
  g_autofree char *big64 = g_base64_encode (big, 400 * 1000);
  g_autofree char *body = g_strdup_printf ("{\"ciphertext\":\"%s\"}", big64);
  g_autofree char *over = g_base64_encode (big, 4097);
  g_autofree char *over_body = g_strdup_printf ("{\"plaintext\":\"%s\"}", over);
  g_autoptr (JsonObject) wrapped = NULL;
  g_autoptr (JsonObject) unwrapped = NULL;
  g_autofree char *round = NULL;

  for (guint i = 0; i < 3; i++)
    emu_call_error (emu, "POST", unwrap, body, 400, "invalid_field");
  emu_call_error (emu, "POST", wrap, over_body, 400, "invalid_field");
  /* A plaintext far over the limit is refused before it reaches the secure heap. */
  {
    g_autofree char *huge_body = g_strdup_printf ("{\"plaintext\":\"%s\"}", big64);

    emu_call_error (emu, "POST", wrap, huge_body, 400, "invalid_field");
  }
  /* What is allowed still works. */
  wrapped = emu_call_ok (emu, "POST", wrap, "{\"plaintext\":\"aGVsbG8=\"}", 200);
  round = g_strdup_printf ("{\"ciphertext\":\"%s\"}",
                           json_object_get_string_member (wrapped, "ciphertext"));
  unwrapped = emu_call_ok (emu, "POST", unwrap, round, 200);
  g_assert_cmpstr (json_object_get_string_member (unwrapped, "plaintext"), ==, "aGVsbG8=");
  emu_stop (emu);
}

/* Base64url of a 32-byte MAC has 2 unused bits in its last character: a
 * token with them set decodes to the same MAC and was accepted. */
static guint
rss_kib (Emu *emu)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) emu_pid (emu));
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents (path, &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  g_assert_nonnull (line);
  return (guint) g_ascii_strtoull (line + 6, NULL, 10);
}

/* Sends a 64 MiB body, announced (Content-Length) or chunked, and reads
 * the answer. */
static guint
send_big_body (Emu *emu, gboolean chunked, char **answer)
{
  g_autoptr (Raw) raw = raw_connect (emu);
  g_autofree char *head = g_strdup_printf (
      "POST /v1/grep11/check HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
      "Bluemix-Instance: %s\r\n%s\r\n",
      emu->token, emu->instance,
      chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: 67108864\r\n");
  g_autofree char *block = g_malloc (1024 * 1024);
  GOutputStream *out = g_io_stream_get_output_stream (raw->tls);
  g_autoptr (GError) error = NULL;

  memset (block, ' ', 1024 * 1024);
  raw_send (raw, head);
  for (guint i = 0; i < 64 && error == NULL; i++)
    {
      if (chunked)
        raw_send (raw, "100000\r\n");
      g_output_stream_write_all (out, block, 1024 * 1024, NULL, NULL, &error);
      if (chunked && error == NULL)
        raw_send (raw, "\r\n");
    }
  g_assert_no_error (error);
  if (chunked)
    raw_send (raw, "0\r\n\r\n");
  return raw_response (raw, answer);
}

/* A body over 1 MiB is answered 413 and not kept: the service held a
 * 200 MB body whole before it answered (found by fuzz-emulator). */
static void
test_big_body_not_kept (TkeTestEmulator *f, gconstpointer data)
{
  Emu *emu = f->emu;

  for (int chunked = 0; chunked < 2; chunked++)
    {
      g_autofree char *body = NULL;
      guint before = rss_kib (emu);

      g_assert_cmpuint (send_big_body (emu, chunked, &body), ==, 413);
      assert_json_error (body, "payload_too_large");
      g_test_message ("%s body of 64 MiB: the service's RSS grew by %u KiB",
                      chunked ? "a chunked" : "an announced",
                      rss_kib (emu) - MIN (before, rss_kib (emu)));
      g_assert_cmpuint (rss_kib (emu), <, before + 16 * 1024);
    }
  get_ok (emu, "/api/v2/keys?limit=1");
}

static void
test_jwt_canonical (TkeTestEmulator *f, gconstpointer data)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  Emu *emu = f->emu;
  g_autofree char *good = g_strdup (emu->token);
  char *last = emu->token + strlen (emu->token) - 1;
  const char *at = strchr (alphabet, *last);

  g_assert_nonnull (at);
  *last = alphabet[(at - alphabet) ^ 1];
  emu_call_error (emu, "GET", "/api/v2/keys", NULL, 401, "unauthorized");
  strcpy (emu->token, good);
  get_ok (emu, "/api/v2/keys");
  emu_stop (emu);
}

/* What libsoup decodes from the path and query */

static void
test_path_and_query (TkeTestEmulator *f, gconstpointer data)
{
  Emu *emu = f->emu;
  g_autofree char *body = NULL;

  /* libsoup refused %00 with an empty 400 */
  g_assert_cmpuint (raw_call (emu, "GET", "/api/v2/keys/a%00b", NULL, &body), ==, 400);
  assert_json_error (body, "malformed_request");
  g_clear_pointer (&body, g_free);
  /* and a request line it cannot parse */
  g_assert_cmpuint (raw_call (emu, "GET", "/api/v2/keys/%zz", NULL, &body), ==, 400);
  assert_json_error (body, "malformed_request");
  g_clear_pointer (&body, g_free);
  g_assert_cmpuint (raw_call (emu, "GET", "/api/v2/keys/a%2Fb", NULL, &body), >=, 400);
  assert_json_error (body, NULL);
  g_clear_pointer (&body, g_free);
  /* Invalid UTF-8 was echoed into the error */
  g_assert_cmpuint (raw_call (emu, "GET", "/api/v2/keys/%ff%fe", NULL, &body), ==, 404);
  assert_json_error (body, "not_found");
  g_clear_pointer (&body, g_free);
  /* limit=5%00 was read as 5 */
  g_assert_cmpuint (raw_call (emu, "GET", "/api/v2/keys?limit=5%00", NULL, &body), ==, 400);
  assert_json_error (body, "invalid_parameter");
  g_clear_pointer (&body, g_free);
  g_assert_cmpuint (raw_call (emu, "GET", "/api/v2/keys?limit=5", NULL, &body), ==, 200);
  emu_stop (emu);
}

/* Connections */

/* libsoup 3.2 closed the keep-alive connection after every 204. */
static void
test_keepalive_after_204 (TkeTestEmulator *f, gconstpointer data)
{
  Emu *emu = f->emu;
  g_autofree char *id = first_key_id (emu);
  g_autofree char *target = g_strdup_printf ("/api/v2/keys/%s", id);
  g_autofree char *del = request_text (emu, "DELETE", target, NULL);
  g_autofree char *get = request_text (emu, "GET", "/api/v2/keys", NULL);
  g_autoptr (Raw) raw = raw_connect (emu);
  g_autofree char *body = NULL;

  raw_send (raw, del);
  g_assert_cmpuint (raw_response (raw, NULL), ==, 204);
  raw_send (raw, get);
  g_assert_cmpuint (raw_response (raw, &body), ==, 200);
  g_assert_nonnull (strstr (body, "\"totalCount\":4"));
  emu_stop (emu);
}

/* The service holds an answer's headers to send them with its body
 * (tke-emu-join-output-stream.c): an informational answer is not held, or
 * a client that waits for "100 Continue" before its body would wait for
 * ever; the socket time-out bounds that wait here. */
static void
test_expect_continue (TkeTestEmulator *f, gconstpointer data)
{
  Emu *emu = f->emu;
  g_autofree char *head = g_strdup_printf (
      "POST /v1/grep11/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
      "Bluemix-Instance: %s\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
      "Expect: 100-continue\r\n\r\n",
      emu->token, emu->instance);
  g_autoptr (Raw) raw = raw_connect (emu);
  g_autofree char *body = NULL;

  g_socket_set_timeout (g_socket_connection_get_socket (raw->tcp), 10);
  for (guint round = 0; round < 2; round++)
    {
      raw_send (raw, head);
      g_assert_cmpuint (raw_response (raw, NULL), ==, 100);
      raw_send (raw, "{}");
      g_clear_pointer (&body, g_free);
      g_assert_cmpuint (raw_response (raw, &body), ==, 200);
      g_assert_nonnull (strstr (body, "\"blob\""));
    }
  emu_stop (emu);
}

/* Every connection a client closed after a request stayed in CLOSE-WAIT. */
static void
test_closed_connections_released (TkeTestEmulator *f, gconstpointer data)
{
  Emu *emu = f->emu;
  g_autofree char *get = request_text (emu, "GET", "/api/v2/keys", NULL);
  guint baseline;

  get_ok (emu, "/api/v2/keys");
  baseline = open_fds (emu);
  for (guint i = 0; i < 50; i++)
    {
      g_autoptr (Raw) raw = raw_connect (emu);

      raw_send (raw, get);
      g_assert_cmpuint (raw_response (raw, NULL), ==, 200);
    }
  g_assert_true (wait_fds (emu, baseline, 5));
  emu_stop (emu);
}

static GPtrArray *
silent_connections (Emu *emu, guint n)
{
  GPtrArray *all = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (all, tcp_connect (emu));
  return all;
}

/* A fresh client through libtke's own transport (a new SoupSession): it
 * fails the test if it is not served within 10 s (it waited 37 s). */
static void
assert_fresh_client_served (Emu *emu)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsDatabase) db = g_tls_file_database_new (emu->ca_file, &error);
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *uri = g_strconcat (emu->url, "/api/v2/keys", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", uri);
  g_autoptr (GBytes) body = NULL;
  g_autofree char *auth = g_strconcat ("Bearer ", emu->token, NULL);

  g_assert_no_error (error);
  soup_session_set_tls_database (session, db);
  soup_session_set_timeout (session, 10);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Bluemix-Instance",
                                emu->instance);
  body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
}

static void
test_silent_connections (TkeTestEmulator *f, gconstpointer data)
{
  Emu *emu = f->emu;
  g_autoptr (GPtrArray) silent = silent_connections (emu, 100);

  assert_fresh_client_served (emu);
  assert_fresh_client_served (emu);
  emu_stop (emu);
}

/* Under a small descriptor limit it stopped answering anyone. */
static void
test_fd_limit (TkeTestEmulator *f, gconstpointer data)
{
  Emu *emu = f->emu;
  struct rlimit rl = { 0 };
  g_autoptr (GPtrArray) silent = NULL;

  g_assert_cmpint (prlimit (emu_pid (emu), RLIMIT_NOFILE, NULL, &rl), ==, 0);
  rl.rlim_cur = 64;
  g_assert_cmpint (prlimit (emu_pid (emu), RLIMIT_NOFILE, &rl, NULL), ==, 0);
  silent = silent_connections (emu, 150);
  assert_fresh_client_served (emu);
  g_assert_cmpuint (open_fds (emu), <=, 64);
  g_clear_pointer (&silent, g_ptr_array_unref);
  assert_fresh_client_served (emu);
  emu_stop (emu);
}

/* Idle keep-alive connections and half-sent requests are closed. */
static void
test_timeouts (TkeTestEmulator *f, gconstpointer data)
{
  const char *args[] = { "--init", "demo",           "--keys", "5", "--idle-timeout",
                         "1",      "--read-timeout", "2",      NULL };
  const char *dir = f->state_dir;
  Emu *emu = f->emu = emu_start (dir, args);
  guint baseline = open_fds (emu); /* no client yet */
  g_autofree char *get = NULL;
  g_autoptr (Raw) idle = NULL;
  g_autoptr (Raw) half = NULL;

  emu_login (emu);
  get = request_text (emu, "GET", "/api/v2/keys", NULL);
  idle = raw_connect (emu);
  raw_send (idle, get);
  g_assert_cmpuint (raw_response (idle, NULL), ==, 200);
  half = raw_connect (emu);
  raw_send (half, "GET /api/v2/keys HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  /* The server ends both: the idle one after 1 s, the half request after
   * 2 s; and the login's keep-alive connection too. */
  g_assert_cmpuint (raw_response (idle, NULL), ==, 0);
  g_assert_true (raw_response (half, NULL) != 200);
  g_assert_true (wait_fds (emu, baseline, 5));
  emu_stop (emu);
}

/* The service's own files */

static void
test_one_emulator_per_state_dir (TkeTestEmulator *f, gconstpointer data)
{
  Emu *emu = f->emu;
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  const char *argv[] = {
    g_getenv ("TKE_EMULATOR"), "--state-dir", f->state_dir, "--listen", "127.0.0.1:0", NULL
  };
  g_autoptr (GSubprocess) second = g_subprocess_newv (
      argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);

  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (second, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (second), ==, 1);
  g_assert_nonnull (strstr (err, "is in use by another tke-emulator"));
  /* The first one is unaffected. */
  get_ok (emu, "/api/v2/keys");
  emu_stop (emu);
}

static void
test_ready_file_private (TkeTestEmulator *f, gconstpointer data)
{
  const char *dir = f->state_dir;
  g_autofree char *parent = g_path_get_dirname (dir);
  g_autofree char *ready = g_build_filename (parent, "ready.json", NULL);
  const char *args[] = { "--init", "imprint", "--ready-file", ready, NULL };
  Emu *emu = f->emu = emu_start (dir, args);
  g_autofree char *contents = NULL;
  struct stat st;

  g_assert_cmpint (stat (ready, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_get_contents (ready, &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, emu->api_key));
  emu_stop (emu);
}

int
main (int argc, char **argv)
{
  /* Each test its own emulator: the demo one, or one the test starts on
   * f->state_dir with its own arguments.  The tear-down stops it,
   * asserting a clean exit, and removes the directory. */
#define ADD_DEMO(path, func)                                                                       \
  g_test_add (path, TkeTestEmulator, demo_args, tke_test_emulator_set_up_logged_in, func,          \
              tke_test_emulator_tear_down)
  g_test_init (&argc, &argv, NULL);
  /* The emulators this test starts keep little freed memory in
   * AddressSanitizer's quarantine (256 MB by default), so that
   * /big-body-not-kept measures what the service keeps, not what ASan
   * holds back.  The rest of ASan's checks stay as they are. */
  {
    const char *asan = g_getenv ("ASAN_OPTIONS");
    g_autofree char *options =
        g_strdup_printf ("%s%squarantine_size_mb=4", asan ? asan : "", asan && *asan ? ":" : "");

    g_setenv ("ASAN_OPTIONS", options, TRUE);
  }
  ADD_DEMO ("/emulator/hardening/deep-nesting", test_deep_nesting);
  ADD_DEMO ("/emulator/hardening/nul-in-string", test_nul_in_string);
  ADD_DEMO ("/emulator/hardening/kms-sizes", test_kms_sizes);
  ADD_DEMO ("/emulator/hardening/big-body-not-kept", test_big_body_not_kept);
  ADD_DEMO ("/emulator/hardening/jwt-canonical", test_jwt_canonical);
  ADD_DEMO ("/emulator/hardening/path-and-query", test_path_and_query);
  ADD_DEMO ("/emulator/hardening/keepalive-after-204", test_keepalive_after_204);
  ADD_DEMO ("/emulator/hardening/expect-continue", test_expect_continue);
  ADD_DEMO ("/emulator/hardening/closed-connections-released", test_closed_connections_released);
  ADD_DEMO ("/emulator/hardening/silent-connections", test_silent_connections);
  ADD_DEMO ("/emulator/hardening/fd-limit", test_fd_limit);
  tke_test_add_with_state_dir ("/emulator/hardening/timeouts", test_timeouts);
  ADD_DEMO ("/emulator/hardening/one-emulator-per-state-dir", test_one_emulator_per_state_dir);
  tke_test_add_with_state_dir ("/emulator/hardening/ready-file-private", test_ready_file_private);
  return g_test_run ();
}
