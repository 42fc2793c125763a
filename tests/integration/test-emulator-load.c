/* test-emulator-load.c: the bounded load test of issue 19
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * On loopback only, bounded in count and time: while a master key
 * rotation rewraps the keystore, 20 000 requests over 200 keep-alive
 * connections (a thread each), plus 100 idle TCP
 * connections and 100 that completed the TLS handshake and sent half a
 * request.  Meanwhile a fresh client (a new connection, TLS handshake and
 * one request) must be served while the load still runs; its latency
 * (median of N_PROBES) is reported against PROBE_TARGET_MS, not asserted:
 * the project measures speed with benchmarks, never with timed tests,
 * and a 2-core CI machine under this load says little about time.
 * Afterwards the emulator's sockets return to their
 * baseline, and the keystore holds the same keys, each one unwrapping
 * under the new master key; a ciphertext wrapped before still unwraps.
 */

#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

#include "emu-client.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SSL_CTX, SSL_CTX_free)

#define N_KEYS 10000
#define N_REQUESTS 20000
#define N_CONNECTIONS 200
#define N_IDLE 100
#define N_HALF 100
#define N_PROBES 5
/* Issue 19's target for a fresh client's request, TLS handshake
 * included, during the load: reported in the TAP log. */
#define PROBE_TARGET_MS 100.0
/* Everything (load, rotation, descriptors settling) within this. */
#define DEADLINE_S 50

typedef struct
{
  Emu *emu;
  char *auth;
  char *instance_header;
  char *unwrap_body;
  char *plaintext;
  char *key_id;
  volatile gint done;
  volatile gint ok;
  volatile gint refused;
  volatile gint connects;
  gint64 deadline;
  GPtrArray *failures;
  GMutex lock;
} Load;

typedef struct
{
  Load *load;
  CURL *easy;
  struct curl_slist *headers;
  GString *body;
  guint index;
  guint kind;
} Conn;

static pid_t
emu_pid (Emu *emu)
{
  return (pid_t) g_ascii_strtoll (g_subprocess_get_identifier (emu->process), NULL, 10);
}

/* The emulator's sockets: the listening ones and its connections.  Not
 * all descriptors: the rewrap worker keeps its own database connection
 * open once a rotation has run (state.db, by design). */
static guint
open_sockets (Emu *emu)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/fd", (int) emu_pid (emu));
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *link = g_build_filename (path, name, NULL);
      g_autofree char *target = g_file_read_link (link, NULL);

      if (target != NULL && g_str_has_prefix (target, "socket:"))
        n++;
    }
  return n;
}

/* What the descriptors are, for the message of a failure. */
static char *
fd_targets (Emu *emu)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/fd", (int) emu_pid (emu));
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  GString *out = g_string_new (NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *link = g_build_filename (path, name, NULL);
      g_autofree char *target = g_file_read_link (link, NULL);

      g_string_append_printf (out, " %s", target != NULL ? target : "?");
    }
  return g_string_free (out, FALSE);
}

static guint
emu_port (Emu *emu)
{
  const char *colon = strrchr (emu->url, ':');

  g_assert_nonnull (colon);
  return (guint) g_ascii_strtoull (colon + 1, NULL, 10);
}

static int
tcp_connect (guint port)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  return fd;
}

/* A TLS connection (verified against the emulator's CA) that sent the
 * first half of a request and nothing more. */
static SSL *
half_sent (SSL_CTX *ctx, guint port)
{
  static const char half[] = "GET /api/v2/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ";
  SSL *ssl = SSL_new (ctx);

  SSL_set_fd (ssl, tcp_connect (port));
  g_assert_cmpint (SSL_connect (ssl), ==, 1);
  g_assert_cmpint (SSL_write (ssl, half, sizeof half - 1), ==, (int) sizeof half - 1);
  return ssl;
}

static size_t
on_body (char *data, size_t size, size_t n, void *user_data)
{
  g_string_append_len (user_data, data, (gssize) (size * n));
  return size * n;
}

static struct curl_slist *
request_headers (Load *load)
{
  struct curl_slist *list = NULL;

  list = curl_slist_append (list, load->auth);
  list = curl_slist_append (list, load->instance_header);
  list = curl_slist_append (list, "Content-Type: application/json");
  return list;
}

static CURL *
new_easy (Load *load, struct curl_slist *headers, GString *body)
{
  CURL *easy = curl_easy_init ();

  curl_easy_setopt (easy, CURLOPT_CAINFO, load->emu->ca_file);
  curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, body);
  curl_easy_setopt (easy, CURLOPT_TIMEOUT, (long) DEADLINE_S);
  curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
  return easy;
}

/* The request mix: a page of the key list, the rotation's status, an
 * unwrap (refused while the rotation runs, served after). */
static void
conn_prepare (Conn *c, guint index)
{
  Load *load = c->load;
  g_autofree char *url = NULL;

  c->kind = index % 3;
  g_string_truncate (c->body, 0);
  if (c->kind == 0)
    url =
        g_strdup_printf ("%s/api/v2/keys?limit=20&offset=%u", load->emu->url, (index * 7) % N_KEYS);
  else if (c->kind == 1)
    url = g_strdup_printf ("%s/v1/tke/%s/rotation", load->emu->url, load->emu->instance);
  else
    url = g_strdup_printf ("%s/api/v2/keys/%s/actions/unwrap", load->emu->url, load->key_id);
  curl_easy_setopt (c->easy, CURLOPT_URL, url);
  if (c->kind == 2)
    curl_easy_setopt (c->easy, CURLOPT_POSTFIELDS, load->unwrap_body);
  else
    curl_easy_setopt (c->easy, CURLOPT_HTTPGET, 1L);
}

static void
record_failure (Load *load, char *message)
{
  g_mutex_lock (&load->lock);
  if (load->failures->len < 10)
    g_ptr_array_add (load->failures, message);
  else
    g_free (message);
  g_mutex_unlock (&load->lock);
}

static void
conn_check (Conn *c, CURLcode code)
{
  Load *load = c->load;
  long status = 0, connects = 0;

  curl_easy_getinfo (c->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo (c->easy, CURLINFO_NUM_CONNECTS, &connects);
  g_atomic_int_add (&load->connects, (gint) connects);
  if (code != CURLE_OK)
    record_failure (load, g_strdup_printf ("request %u: %s", c->kind, curl_easy_strerror (code)));
  else if (status == 200 && (c->kind != 2 || strstr (c->body->str, load->plaintext) != NULL))
    g_atomic_int_inc (&load->ok);
  else if (status == 409 && c->kind == 2 && strstr (c->body->str, "rotation_in_progress") != NULL)
    g_atomic_int_inc (&load->refused);
  else
    record_failure (load,
                    g_strdup_printf ("request %u: %ld %.200s", c->kind, status, c->body->str));
  g_atomic_int_inc (&load->done);
}

/* One keep-alive connection: its share of the requests, one after the
 * other (libcurl keeps an easy handle's connection between transfers). */
static gpointer
conn_thread (gpointer user_data)
{
  Conn *c = user_data;

  for (guint i = 0; i < N_REQUESTS / N_CONNECTIONS; i++)
    {
      /* Bounded in time as well as in count. */
      if (g_get_monotonic_time () > c->load->deadline)
        break;
      conn_prepare (c, c->index + i * N_CONNECTIONS);
      conn_check (c, curl_easy_perform (c->easy));
    }
  return NULL;
}

static gpointer
load_thread (gpointer user_data)
{
  Load *load = user_data;
  Conn conns[N_CONNECTIONS];
  GThread *threads[N_CONNECTIONS];

  for (guint i = 0; i < N_CONNECTIONS; i++)
    {
      conns[i].load = load;
      conns[i].index = i;
      conns[i].headers = request_headers (load);
      conns[i].body = g_string_new (NULL);
      conns[i].easy = new_easy (load, conns[i].headers, conns[i].body);
      threads[i] = g_thread_new ("connection", conn_thread, &conns[i]);
    }
  for (guint i = 0; i < N_CONNECTIONS; i++)
    {
      g_thread_join (threads[i]);
      curl_easy_cleanup (conns[i].easy);
      curl_slist_free_all (conns[i].headers);
      g_string_free (conns[i].body, TRUE);
    }
  return NULL;
}

/* One fresh client: a new connection, its TLS handshake, one request. */
static double
probe_ms (Load *load)
{
  struct curl_slist *headers = request_headers (load);
  g_autoptr (GString) body = g_string_new (NULL);
  g_autofree char *url = g_strdup_printf ("%s/api/v2/keys?limit=1", load->emu->url);
  CURL *easy = new_easy (load, headers, body);
  curl_off_t total_us = 0;
  long status = 0;
  CURLcode code;

  curl_easy_setopt (easy, CURLOPT_URL, url);
  curl_easy_setopt (easy, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt (easy, CURLOPT_FORBID_REUSE, 1L);
  code = curl_easy_perform (easy);
  curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo (easy, CURLINFO_TOTAL_TIME_T, &total_us);
  if (code != CURLE_OK || status != 200)
    record_failure (load, g_strdup_printf ("fresh client: %s, status %ld, after %.1f ms",
                                           curl_easy_strerror (code), status, total_us / 1000.0));
  curl_easy_getinfo (easy, CURLINFO_TOTAL_TIME_T, &total_us);
  curl_easy_cleanup (easy);
  curl_slist_free_all (headers);
  return total_us / 1000.0;
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* The ids of every key, in the order the list gives them, as one string. */
static char *
key_ids (Emu *emu)
{
  GString *ids = g_string_new (NULL);

  for (guint offset = 0;; offset += 5000)
    {
      g_autofree char *path = g_strdup_printf ("/api/v2/keys?limit=5000&offset=%u", offset);
      g_autoptr (JsonObject) page = emu_call_ok (emu, "GET", path, NULL, 200);
      JsonArray *resources = json_object_get_array_member (page, "resources");
      guint n = resources == NULL ? 0 : json_array_get_length (resources);

      for (guint i = 0; i < n; i++)
        g_string_append_printf (
            ids, "%s\n",
            json_object_get_string_member (json_array_get_object_element (resources, i), "id"));
      if (n < 5000)
        break;
    }
  return g_string_free (ids, FALSE);
}

static JsonObject *
keystore (Emu *emu)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/keystore", emu->instance);

  return emu_call_ok (emu, "GET", path, NULL, 200);
}

/* A new master key loaded and committed on every unit; returns the
 * arguments of set immediate. */
static char *
commit_new_key (Emu *emu, char **units, EVP_PKEY *a1, EVP_PKEY *a2)
{
  g_autoptr (TkeSecret) p1 = tke_secret_new_random (32, NULL),
                        p2 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) mk = tke_crypto_xor (p1, p2, NULL);
  TkeSecret *parts[] = { p1, p2 };
  guint8 vp[TKE_VP_SIZE];
  g_autofree char *vp_hex = NULL;
  char *vp_args;

  tke_crypto_verification_pattern (mk, vp);
  vp_hex = tke_crypto_hex_encode (vp, sizeof vp);
  vp_args = g_strdup_printf ("{\"new_mkvp\":\"%s\"}", vp_hex);
  for (guint u = 0; units[u] != NULL; u++)
    {
      EVP_PKEY *one[] = { a1, NULL }, *both[] = { a1, a2, NULL }, *two[] = { a1, a1, NULL };
      g_autoptr (JsonObject) imp =
          emu_command_ok (emu, units[u], "generate_importer_key", NULL, one);
      g_autofree char *load = emu_load_args (
          units[u], json_object_get_string_member (imp, "importer_key"), parts, 2, FALSE);
      g_autoptr (JsonObject) r1 = emu_command_ok (emu, units[u], "load", load, two);
      g_autoptr (JsonObject) r2 = emu_command_ok (emu, units[u], "commit", vp_args, both);
    }
  return vp_args;
}

/* A key and a ciphertext made under the current master key. */
static void
wrap_one (Load *load)
{
  g_autoptr (JsonObject) keys = NULL, wrapped = NULL;
  JsonObject *first;
  g_autofree char *path = NULL;

  keys = emu_call_ok (load->emu, "GET", "/api/v2/keys?limit=1", NULL, 200);
  first = json_array_get_object_element (json_object_get_array_member (keys, "resources"), 0);
  load->key_id = g_strdup (json_object_get_string_member (first, "id"));
  path = g_strdup_printf ("/api/v2/keys/%s/actions/wrap", load->key_id);
  load->plaintext = g_strdup ("bG9hZCB0ZXN0IHBsYWludGV4dA==");
  wrapped =
      emu_call_ok (load->emu, "POST", path,
                   "{\"plaintext\":\"bG9hZCB0ZXN0IHBsYWludGV4dA==\",\"aad\":[\"load\"]}", 200);
  load->unwrap_body = g_strdup_printf ("{\"ciphertext\":\"%s\",\"aad\":[\"load\"]}",
                                       json_object_get_string_member (wrapped, "ciphertext"));
}

static void
assert_keystore_whole (JsonObject *store, gint64 n_keys)
{
  g_assert_cmpint (json_object_get_int_member (store, "keys_total"), ==, n_keys);
  g_assert_cmpint (json_object_get_int_member (store, "keys_ok"), ==, n_keys);
  g_assert_cmpint (json_object_get_int_member (store, "keys_failed"), ==, 0);
}

static void
test_load (void)
{
  g_autofree char *dir = emu_temp_state_dir ();
  g_autofree char *keys_arg = g_strdup_printf ("%u", N_KEYS);
  const char *args[] = { "--init", "demo", "--keys", keys_arg, NULL };
  g_autoptr (Emu) emu = emu_start (dir, args);
  guint baseline = open_sockets (emu);
  g_autofree char *baseline_fds = fd_targets (emu);
  Load load = { .emu = emu };
  g_autoptr (EVP_PKEY) a1 = NULL, a2 = NULL;
  g_auto (GStrv) units = NULL;
  g_autofree char *vp_args = NULL, *ids_before = NULL, *ids_after = NULL, *rotate = NULL;
  g_autoptr (JsonObject) before = NULL, after = NULL, st = NULL, back = NULL;
  g_autoptr (SSL_CTX) ctx = SSL_CTX_new (TLS_client_method ());
  int idle[N_IDLE];
  SSL *half[N_HALF];
  double probes[N_PROBES];
  guint probes_rewrapping = 0, probes_under_load = 0, final_fds = 0;
  gint64 t_start, deadline;
  GThread *thread;
  g_autofree char *unwrap_path = NULL, *status_path = NULL;

  emu_login (emu);
  units = emu_unit_ids (emu);
  a1 = emu_demo_admin (emu, 1);
  a2 = emu_demo_admin (emu, 2);
  vp_args = commit_new_key (emu, units, a1, a2);
  wrap_one (&load);
  before = keystore (emu);
  assert_keystore_whole (before, N_KEYS);
  ids_before = key_ids (emu);

  /* The silent and the half-sent connections, then the rotation. */
  SSL_CTX_load_verify_locations (ctx, emu->ca_file, NULL);
  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, NULL);
  for (guint i = 0; i < N_IDLE; i++)
    idle[i] = tcp_connect (emu_port (emu));
  for (guint i = 0; i < N_HALF; i++)
    half[i] = half_sent (ctx, emu_port (emu));
  rotate = g_strdup_printf ("/v1/tke/%s/rotate", emu->instance);
  status_path = g_strdup_printf ("/v1/tke/%s/rotation", emu->instance);
  t_start = g_get_monotonic_time ();
  deadline = t_start + DEADLINE_S * G_USEC_PER_SEC;
  st = emu_call_ok (emu, "POST", rotate, "{}", 202);
  load.deadline = deadline;

  load.auth = g_strconcat ("Authorization: Bearer ", emu->token, NULL);
  load.instance_header = g_strconcat ("Bluemix-Instance: ", emu->instance, NULL);
  load.failures = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&load.lock);
  g_test_message ("fresh client before the load: %.1f ms", probe_ms (&load));
  thread = g_thread_new ("load", load_thread, &load);

  /* The probes, spread over the load once its connections are up. */
  while (g_atomic_int_get (&load.done) < 2 * N_CONNECTIONS && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  for (guint i = 0; i < N_PROBES; i++)
    {
      g_autoptr (JsonObject) now = NULL;

      probes[i] = probe_ms (&load);
      /* Measured under the load, or it measures nothing. */
      if (g_atomic_int_get (&load.done) < N_REQUESTS)
        probes_under_load++;
      g_test_message ("probe %u at %.2f s: %.1f ms, %d requests done over %d connections", i,
                      (g_get_monotonic_time () - t_start) / 1e6, probes[i],
                      g_atomic_int_get (&load.done), g_atomic_int_get (&load.connects));
      now = emu_call_ok (emu, "GET", status_path, NULL, 200);
      if (g_strcmp0 (json_object_get_string_member (now, "state"), "rewrapping") == 0)
        probes_rewrapping++;
      g_usleep (100000);
    }
  g_thread_join (thread);
  g_test_message ("%d requests in %.2f s: %d served, %d refused (rotation_in_progress)", load.done,
                  (g_get_monotonic_time () - t_start) / 1e6, load.ok, load.refused);
  qsort (probes, N_PROBES, sizeof probes[0], cmp_double);
  g_test_message ("fresh client under load: %.1f %.1f %.1f %.1f %.1f ms (median %.1f)", probes[0],
                  probes[1], probes[2], probes[3], probes[4], probes[N_PROBES / 2]);
  g_test_message ("%u of %u probes while the rotation was rewrapping", probes_rewrapping, N_PROBES);

  for (guint i = 0; i < load.failures->len; i++)
    g_test_message ("failure: %s", (char *) load.failures->pdata[i]);
  g_assert_cmpuint (load.failures->len, ==, 0);
  g_assert_cmpint (load.done, ==, N_REQUESTS);

  g_assert_cmpuint (probes_under_load, ==, N_PROBES);

  /* The rotation ends; every key is there and unwraps under the new key. */
  g_clear_pointer (&st, json_object_unref);
  st = emu_wait_rotation (emu, "rewrapped");
  for (guint u = 0; units[u] != NULL; u++)
    {
      EVP_PKEY *one[] = { a2, NULL };
      g_autoptr (JsonObject) r = emu_command_ok (emu, units[u], "set_immediate", vp_args, one);
    }
  g_clear_pointer (&st, json_object_unref);
  st = emu_wait_rotation (emu, "complete");
  g_assert_cmpint (json_object_get_int_member (st, "keys_done"), ==, N_KEYS);
  after = keystore (emu);
  assert_keystore_whole (after, N_KEYS);
  g_assert_cmpstr (json_object_get_string_member (after, "current_wkid"), !=,
                   json_object_get_string_member (before, "current_wkid"));
  g_assert_cmpint (
      json_object_get_int_member (json_object_get_object_member (after, "by_wkid"),
                                  json_object_get_string_member (after, "current_wkid")),
      ==, N_KEYS);
  ids_after = key_ids (emu);
  g_assert_cmpstr (ids_after, ==, ids_before);
  unwrap_path = g_strdup_printf ("/api/v2/keys/%s/actions/unwrap", load.key_id);
  back = emu_call_ok (emu, "POST", unwrap_path, load.unwrap_body, 200);
  g_assert_cmpstr (json_object_get_string_member (back, "plaintext"), ==, load.plaintext);

  /* Every connection closed: the emulator's descriptors back to the
   * baseline measured before any client connected. */
  for (guint i = 0; i < N_IDLE; i++)
    close (idle[i]);
  for (guint i = 0; i < N_HALF; i++)
    {
      close (SSL_get_fd (half[i]));
      SSL_free (half[i]);
    }
  soup_session_abort (emu->session);
  while ((final_fds = open_sockets (emu)) != baseline &&
         g_get_monotonic_time () < deadline + 5000000)
    g_usleep (20000);
  g_test_message ("sockets: baseline %u, after %u", baseline, final_fds);
  if (final_fds != baseline)
    {
      g_autofree char *now = fd_targets (emu);

      g_test_message ("baseline:%s", baseline_fds);
      g_test_message ("after:%s", now);
    }
  g_assert_cmpuint (final_fds, ==, baseline);

  g_test_message ("fresh client median %.1f ms, target %.0f ms: %s", probes[N_PROBES / 2],
                  PROBE_TARGET_MS, probes[N_PROBES / 2] <= PROBE_TARGET_MS ? "met" : "NOT met");

  g_ptr_array_unref (load.failures);
  g_mutex_clear (&load.lock);
  g_free (load.auth);
  g_free (load.instance_header);
  g_free (load.unwrap_body);
  g_free (load.plaintext);
  g_free (load.key_id);
  emu_stop (emu);
  emu_remove_state_dir (dir);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  g_test_add_func ("/emulator-load/rotation-under-load", test_load);
  status = g_test_run ();
  curl_global_cleanup ();
  return status;
}
