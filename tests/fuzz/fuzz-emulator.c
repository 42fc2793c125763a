/* fuzz-emulator.c: the emulator's request handling, without a socket
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A whole HTTP request goes through libsoup's own parser into the
 * emulator's routing and handlers (tke-emu-server*.c and the files of
 * tke-emu-server-private.h), as a connection the listener hands over:
 * soup_server_accept_iostream() on an in-memory stream.  The service runs
 * on a real store (SQLite, --init demo) in a temporary state directory,
 * restored to the same state before every input.
 *
 * The input: one byte of flags, then the request (request line, headers,
 * an empty line, the body).  The flags add what the fuzzer cannot make:
 *   0x01  an Authorization header with a valid bearer token
 *   0x02  the Bluemix-Instance header of the instance
 *   0x04  a Content-Length header of the body's length
 *   0x08  the body is a command object (data/doc/service-protocol.md §5.2):
 *         it is sent in its envelope, signed by the demo administrators
 *         1 and 2, so that the signed commands get past their signatures
 * and these words in the request are replaced: @TOKEN@, @INSTANCE@,
 * @APIKEY@, @HSM@ and @HSM2@ (the first two units), @COUNTER@ and
 * @COUNTER2@ (their transaction counters), @EXPIRES@ (in ten minutes),
 * @KEY@ (a KMS key), @BLOB@ (a GREP11 blob under the current master key).
 *
 * Oracles: no crash, leak or undefined behaviour (the sanitizers), no GLib
 * warning or critical; every answer with a body is valid UTF-8 JSON; no
 * answer is a 500; and a refused request (4xx) changes nothing in the
 * store (a digest of every table before and after).
 *
 * TKE_FUZZ_TRACE=1 prints every answer's method, status and body.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "fuzz-common.h"
#include "tke-emu-server-private.h"
#include "tke-emu-tls.h"

enum
{
  FLAG_TOKEN = 0x01,
  FLAG_INSTANCE = 0x02,
  FLAG_LENGTH = 0x04,
  FLAG_SIGN = 0x08,
};

typedef struct
{
  char *method;
  guint status;
  GBytes *body;
} Answer;

typedef struct
{
  TkeEmuStore *store;
  TkeEmuServer *server;
  sqlite3 *pristine; /* the store as it was made, in memory */
  char *pristine_digest;
  GPtrArray *answers; /* Answer, of the current input */
  GHashTable *words;  /* placeholder -> value */
  EVP_PKEY *admins[2];
  char *skis[2];
} Fixture;

static void
answer_free (gpointer data)
{
  Answer *a = data;

  g_free (a->method);
  g_bytes_unref (a->body);
  g_free (a);
}

static void
request_finished (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  Fixture *f = user_data;
  Answer *a = g_new0 (Answer, 1);
  SoupMessageBody *body = soup_server_message_get_response_body (msg);

  a->method = g_strdup (soup_server_message_get_method (msg));
  a->status = soup_server_message_get_status (msg);
  a->body = soup_message_body_flatten (body);
  g_ptr_array_add (f->answers, a);
}

/* Every table's schema and rows, in one SHA-256. */
static char *
store_digest (sqlite3 *db)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GPtrArray) tables = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db, "SELECT name, sql FROM sqlite_master ORDER BY name", -1, &stmt,
                          NULL) != SQLITE_OK)
    fuzz_fail ("digest: %s", sqlite3_errmsg (db));
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *name = (const char *) sqlite3_column_text (stmt, 0);
      const char *sql = (const char *) sqlite3_column_text (stmt, 1);

      g_checksum_update (sum, (const guchar *) name, -1);
      g_checksum_update (sum, (const guchar *) "\n", 1);
      if (sql != NULL)
        g_checksum_update (sum, (const guchar *) sql, -1);
      if (sql != NULL && g_str_has_prefix (sql, "CREATE TABLE"))
        g_ptr_array_add (tables, g_strdup (name));
    }
  sqlite3_finalize (stmt);
  for (guint t = 0; t < tables->len; t++)
    {
      g_autofree char *select = g_strdup_printf ("SELECT * FROM \"%s\"", (char *) tables->pdata[t]);

      if (sqlite3_prepare_v2 (db, select, -1, &stmt, NULL) != SQLITE_OK)
        fuzz_fail ("digest: %s", sqlite3_errmsg (db));
      while (sqlite3_step (stmt) == SQLITE_ROW)
        for (int c = 0; c < sqlite3_column_count (stmt); c++)
          {
            guint8 type = (guint8) sqlite3_column_type (stmt, c);
            const void *data = sqlite3_column_blob (stmt, c);
            guint32 size = (guint32) sqlite3_column_bytes (stmt, c);

            g_checksum_update (sum, &type, 1);
            g_checksum_update (sum, (const guchar *) &size, sizeof size);
            if (size > 0)
              g_checksum_update (sum, data, size);
          }
      sqlite3_finalize (stmt);
    }
  return g_strdup (g_checksum_get_string (sum));
}

static void
copy_db (sqlite3 *from, sqlite3 *to)
{
  sqlite3_backup *backup = sqlite3_backup_init (to, "main", from, "main");

  if (backup == NULL || sqlite3_backup_step (backup, -1) != SQLITE_DONE)
    fuzz_fail ("cannot copy the store: %s", sqlite3_errmsg (to));
  sqlite3_backup_finish (backup);
}

static const char *
find (const char *haystack, gsize size, const char *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; i + n <= size; i++)
    if (memcmp (haystack + i, needle, n) == 0)
      return haystack + i;
  return NULL;
}

/* The last answer in @data, libsoup's own (HTTP/1.x NNN …, a blank line,
 * the body up to the end, as the connection closes after it). */
static void
raw_answer (Fixture *f, const char *data, gsize size)
{
  const char *end;
  Answer *a;

  while (size >= 12 && g_str_has_prefix (data, "HTTP/1.") &&
         (end = find (data, size, "\r\n\r\n")) != NULL)
    {
      guint status = (guint) g_ascii_strtoull (data + 9, NULL, 10);
      gsize used = (gsize) (end + 4 - data);

      data += used;
      size -= used;
      if (status >= 200)
        {
          a = g_new0 (Answer, 1);
          a->method = g_strdup ("?");
          a->status = status;
          a->body = g_bytes_new (data, size);
          g_ptr_array_add (f->answers, a);
          return;
        }
    }
}

/* Runs @request as one connection and collects its answers. */
static void
serve (Fixture *f, const char *request, gsize size)
{
  g_autoptr (GInputStream) in =
      g_memory_input_stream_new_from_data (g_memdup2 (request, size), (gssize) size, g_free);
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GIOStream) stream = g_simple_io_stream_new (in, out);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) local = g_inet_socket_address_new (loopback, 443);
  g_autoptr (GSocketAddress) remote = g_inet_socket_address_new (loopback, 40000);
  g_autoptr (GError) error = NULL;

  g_ptr_array_set_size (f->answers, 0);
  if (!soup_server_accept_iostream (f->server->soup, stream, local, remote, &error))
    fuzz_fail ("accept: %s", error->message);
  /* libsoup closes the stream after the answer (the server has no
   * listener of its own, so no keep-alive) or at the input's end. */
  while (!g_io_stream_is_closed (stream))
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  /* libsoup answers a request it cannot parse without request-finished:
   * that answer is read from what it wrote. */
  if (f->answers->len == 0)
    raw_answer (f, g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out)),
                g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)));
  /* A rotation's rewrap runs in a worker thread: it ends before the next input. */
  if (f->server->worker != NULL)
    g_thread_join (g_steal_pointer (&f->server->worker));
}

static GString *
replace_words (Fixture *f, const char *text, gsize size)
{
  GString *s = g_string_new_len (text, (gssize) size);
  GHashTableIter iter;
  gpointer word, value;

  g_hash_table_iter_init (&iter, f->words);
  while (g_hash_table_iter_next (&iter, &word, &value))
    g_string_replace (s, word, value, 0);
  return s;
}

/* The command envelope of §5.1 around @cmd, signed by both administrators. */
static char *
envelope (Fixture *f, const char *cmd)
{
  g_autofree char *cmd_b64 = g_base64_encode ((const guchar *) cmd, strlen (cmd));
  GString *body = g_string_new (NULL);

  g_string_append_printf (body, "{\"request\":{\"command\":\"%s\",\"signatures\":[", cmd_b64);
  for (guint i = 0; i < G_N_ELEMENTS (f->admins); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) sig =
          tke_crypto_sign (f->admins[i], (const guint8 *) cmd, strlen (cmd), &error);
      g_autofree char *sig_b64 = NULL;

      if (sig == NULL)
        fuzz_fail ("sign: %s", error->message);
      sig_b64 = g_base64_encode (g_bytes_get_data (sig, NULL), g_bytes_get_size (sig));
      g_string_append_printf (body, "%s{\"ski\":\"%s\",\"signature\":\"%s\"}", i > 0 ? "," : "",
                              f->skis[i], sig_b64);
    }
  g_string_append (body, "]}}");
  return g_string_free (body, FALSE);
}

/* The headers the flags add, each ending in CRLF. */
static GString *
flag_headers (Fixture *f, guint8 flags, gsize body_size)
{
  GString *headers = g_string_new (NULL);

  if (flags & FLAG_TOKEN)
    g_string_append_printf (headers, "Authorization: Bearer %s\r\n",
                            (char *) g_hash_table_lookup (f->words, "@TOKEN@"));
  if (flags & FLAG_INSTANCE)
    g_string_append_printf (headers, "Bluemix-Instance: %s\r\n",
                            (char *) g_hash_table_lookup (f->words, "@INSTANCE@"));
  if (flags & FLAG_LENGTH)
    g_string_append_printf (headers, "Content-Length: %" G_GSIZE_FORMAT "\r\n", body_size);
  return headers;
}

/* The request of an input: its words replaced, the headers of its flags
 * added after the request line.  NUL bytes stay (libsoup must refuse them). */
static GString *
make_request (Fixture *f, guint8 flags, const uint8_t *data, size_t size)
{
  g_autoptr (GString) text = replace_words (f, (const char *) data, size);
  const char *end = find (text->str, text->len, "\r\n\r\n");
  gsize head_len = end != NULL ? (gsize) (end - text->str) : text->len;
  g_autoptr (GString) body = g_string_new_len (
      end != NULL ? end + 4 : "", end != NULL ? (gssize) (text->len - head_len - 4) : 0);
  g_autoptr (GString) headers = NULL;
  const char *eol = find (text->str, head_len, "\r\n");
  gsize line_len = eol != NULL ? (gsize) (eol - text->str) : head_len;
  GString *request;

  if (flags & FLAG_SIGN)
    {
      g_autofree char *cmd = g_strndup (body->str, body->len);
      g_autofree char *signed_body = envelope (f, cmd);

      g_string_assign (body, signed_body);
    }
  headers = flag_headers (f, flags, body->len);
  request = g_string_new_len (text->str, (gssize) line_len);
  if (headers->len > 0 || eol != NULL)
    g_string_append (request, "\r\n");
  g_string_append_len (request, headers->str, (gssize) headers->len);
  if (eol != NULL)
    g_string_append_len (request, eol + 2, (gssize) (head_len - line_len - 2));
  else if (headers->len > 0)
    g_string_truncate (request, request->len - 2);
  if (end != NULL || body->len > 0)
    {
      g_string_append (request, "\r\n\r\n");
      g_string_append_len (request, body->str, (gssize) body->len);
    }
  return request;
}

static void
check_answers (Fixture *f)
{
  gboolean refused = f->answers->len > 0;
  static int trace = -1;

  if (trace < 0)
    trace = g_strcmp0 (g_getenv ("TKE_FUZZ_TRACE"), "1") == 0;

  for (guint i = 0; i < f->answers->len; i++)
    {
      Answer *a = g_ptr_array_index (f->answers, i);
      gsize size = 0;
      const char *body = g_bytes_get_data (a->body, &size);

      if (trace)
        printf ("fuzz: %s %u %.*s\n", a->method, a->status, (int) MIN (size, 160), body);
      /* libsoup answers HTTP/0.1 505 and an unknown Transfer-Encoding 501
       * itself, before any handler (the body is the service's
       * malformed_request); any other 5xx is the service's. */
      if (a->status >= 500 && a->status != 501 && a->status != 505)
        fuzz_fail ("a request was answered %u: %.*s", a->status, (int) size, body);
      if (a->status < 400)
        refused = FALSE;
      if (size > 0)
        {
          g_autoptr (JsonParser) parser = json_parser_new ();
          g_autoptr (GError) error = NULL;

          if (!g_utf8_validate (body, (gssize) size, NULL))
            fuzz_fail ("an answer (%u) is not UTF-8", a->status);
          if (!json_parser_load_from_data (parser, body, (gssize) size, &error))
            fuzz_fail ("an answer (%u) is not JSON: %s: %.*s", a->status, error->message,
                       (int) size, body);
        }
      else if (a->status != 204 && !g_str_equal (a->method, "HEAD") && a->status != 0)
        fuzz_fail ("an answer (%u) to %s has no body", a->status, a->method);
    }
  if (refused)
    {
      g_autofree char *after = store_digest (f->store->db);

      if (!g_str_equal (after, f->pristine_digest))
        fuzz_fail ("a refused request changed the store");
    }
}

/* Set-up: one request through serve() and its answer's JSON. */
static JsonObject *
setup_call (Fixture *f, const char *request, JsonParser **parser)
{
  Answer *a;
  const char *body;
  gsize size;

  serve (f, request, strlen (request));
  if (f->answers->len != 1)
    fuzz_fail ("set-up: %s: no answer", request);
  a = g_ptr_array_index (f->answers, 0);
  body = g_bytes_get_data (a->body, &size);
  *parser = json_parser_new ();
  if (a->status != 200 || !json_parser_load_from_data (*parser, body, (gssize) size, NULL))
    fuzz_fail ("set-up: %s: %u %.*s", request, a->status, (int) size, body);
  return json_node_get_object (json_parser_get_root (*parser));
}

static void
word (Fixture *f, const char *name, const char *value)
{
  g_hash_table_insert (f->words, g_strdup (name), g_strdup (value));
}

static void
load_admins (Fixture *f)
{
  g_autofree char *pw_path = g_build_filename (f->store->state_dir, "demo-passwords.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  if (!json_parser_load_from_file (parser, pw_path, &error))
    fuzz_fail ("set-up: %s", error->message);
  for (guint i = 0; i < G_N_ELEMENTS (f->admins); i++)
    {
      g_autofree char *file = g_strdup_printf ("admin%u.sigkey", i + 1);
      g_autofree char *path = g_build_filename (f->store->state_dir, file, NULL);
      const char *pw = json_object_get_string_member (
          json_node_get_object (json_parser_get_root (parser)), file);
      g_autoptr (TkeSecret) password = tke_secret_new_from_data ((const guint8 *) pw, strlen (pw));
      g_autoptr (TkeSignatureKeyFile) key_file = tke_signature_key_file_load (path, &error);
      guint8 ski[TKE_SKI_SIZE];

      if (key_file == NULL ||
          (f->admins[i] = tke_signature_key_file_unlock (key_file, password, &error)) == NULL)
        fuzz_fail ("set-up: %s: %s", path, error->message);
      tke_crypto_ski (f->admins[i], ski, NULL);
      f->skis[i] = tke_crypto_hex_encode (ski, sizeof ski);
    }
}

static void
learn_words (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) units = tke_emu_units_load (f->store, FALSE, &error);
  g_autoptr (JsonParser) p1 = NULL, p2 = NULL, p3 = NULL;
  g_autofree char *token_request = g_strdup_printf (
      "POST /identity/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
      "application/x-www-form-urlencoded\r\n"
      "Content-Length: %zu\r\n\r\ngrant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=%s",
      strlen ("grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=") +
          strlen (f->store->api_key),
      f->store->api_key);
  g_autofree char *expires =
      g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / G_USEC_PER_SEC + 600);
  g_autofree char *list = NULL, *generate = NULL;
  JsonObject *o;

  if (units == NULL || units->len < 2)
    fuzz_fail ("set-up: the demo has no two units");
  word (f, "@INSTANCE@", f->store->instance_id);
  word (f, "@APIKEY@", f->store->api_key);
  word (f, "@EXPIRES@", expires);
  for (guint i = 0; i < 2; i++)
    {
      TkeEmuUnit *unit = g_ptr_array_index (units, i);
      g_autofree char *counter = g_strdup_printf ("%" G_GINT64_FORMAT, unit->counter);

      word (f, i == 0 ? "@HSM@" : "@HSM2@", unit->hsm_id);
      word (f, i == 0 ? "@COUNTER@" : "@COUNTER2@", counter);
    }
  o = setup_call (f, token_request, &p1);
  word (f, "@TOKEN@", json_object_get_string_member (o, "access_token"));
  list = g_strdup_printf (
      "GET /api/v2/keys?limit=1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
      "Bluemix-Instance: %s\r\n\r\n",
      (char *) g_hash_table_lookup (f->words, "@TOKEN@"), f->store->instance_id);
  o = setup_call (f, list, &p2);
  o = json_array_get_object_element (json_object_get_array_member (o, "resources"), 0);
  word (f, "@KEY@", json_object_get_string_member (o, "id"));
  generate = g_strdup_printf (
      "POST /v1/grep11/generate HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
      "Bluemix-Instance: %s\r\nContent-Length: 2\r\n\r\n{}",
      (char *) g_hash_table_lookup (f->words, "@TOKEN@"), f->store->instance_id);
  o = setup_call (f, generate, &p3);
  word (f, "@BLOB@", json_object_get_string_member (o, "blob"));
}

static Fixture *
fixture (void)
{
  static Fixture *f;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  guint8 seed[16];
  TkeEmuFaults faults = { .token_ttl = 7 * 24 * 3600,
                          .fail_after_keys = -1,
                          .crash_after_keys = -1 };

  if (f != NULL)
    return f;
  fuzz_init ();
  /* OpenSSL's DRBGs, before libtke sets up the secure heap: made after it,
   * their contexts live there (an mmap LeakSanitizer does not scan) and
   * what they point to looks leaked. */
  if (RAND_bytes (seed, sizeof seed) != 1 || RAND_priv_bytes (seed, sizeof seed) != 1)
    fuzz_fail ("set-up: no random bytes");
  f = g_new0 (Fixture, 1);
  dir = g_build_filename (fuzz_tmpdir (), "emulator", NULL);
  f->store = tke_emu_store_open (dir, "demo", 8, &error);
  if (f->store == NULL || !tke_emu_tls_ensure (f->store->state_dir, &error) ||
      !tke_emu_identity_ensure_root (f->store->state_dir, FALSE, &error) ||
      (f->server = tke_emu_server_new (f->store, &faults, &error)) == NULL)
    fuzz_fail ("set-up: %s", error->message);
  f->answers = g_ptr_array_new_with_free_func (answer_free);
  f->words = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_signal_connect (f->server->soup, "request-finished", G_CALLBACK (request_finished), f);
  load_admins (f);
  learn_words (f);
  if (sqlite3_open (":memory:", &f->pristine) != SQLITE_OK)
    fuzz_fail ("set-up: cannot open an in-memory database");
  copy_db (f->store->db, f->pristine);
  f->pristine_digest = store_digest (f->store->db);
  return f;
}

/* libsoup 3.2 (Debian 12) leaks the request path of a request whose body
 * encoding it does not recognize (an unknown Transfer-Encoding, a
 * Content-Length that is no number) when it refuses it: parse_headers()
 * returns before it frees the path (fixed upstream).  Not the service's:
 * reproducers-pending/emulator-libsoup-unrecognized-encoding.  libsoup's
 * own parser says which requests those are; they are skipped. */
static gboolean
unrecognized_encoding (const GString *request)
{
  const char *end = find (request->str, request->len, "\r\n\r\n");
  /* At the end of the input libsoup parses the headers it has. */
  g_autofree char *head = g_strdup_printf (
      "%.*s\r\n\r\n", (int) (end != NULL ? (gsize) (end - request->str) : request->len),
      request->str);
  g_autoptr (SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  g_autofree char *method = NULL, *path = NULL;
  SoupHTTPVersion version;

  if (soup_headers_parse_request (head, (int) strlen (head), headers, &method, &path, &version) !=
      200)
    return FALSE;
  return soup_message_headers_get_encoding (headers) == SOUP_ENCODING_UNRECOGNIZED;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  Fixture *f = fixture ();
  g_autoptr (GString) request = NULL;
  g_autofree char *after = NULL;

  /* A request has no NUL byte libsoup would read past, and more than
   * 64 KiB finds nothing the limits do not already cover. */
  if (size < 1 || size > 65536)
    return 0;
  request = make_request (f, data[0], data + 1, size - 1);
  if (unrecognized_encoding (request))
    return 0;
  serve (f, request->str, request->len);
  check_answers (f);
  after = store_digest (f->store->db);
  if (!g_str_equal (after, f->pristine_digest))
    copy_db (f->pristine, f->store->db);
  return 0;
}
