/* rewrap-bench.c: RewrapKeyBlob calls per second from one client over one
 * keep-alive connection, a fresh client's latency (new connection, TLS
 * handshake, one request), and the time to list 100 000 KMS keys in pages
 * of 5 000 (issue 19).  A benchmark, not a test.
 *
 * rewrap-bench [--seconds S] [--keys N] [--emulator PATH]
 *
 * RewrapKeyBlob is measured twice: with libcurl directly (the service's
 * cost) and through libtke's TkeServiceClient (what the application pays).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tke-test-emulator.h"
#include "tke-test-util.h"

static Emu *
start (const char *tmp, const char *name, guint n_keys)
{
  g_autofree char *dir = g_build_filename (tmp, name, NULL);
  g_autofree char *keys = g_strdup_printf ("%u", n_keys);
  const char *args[] = { "--init", "demo", "--keys", keys, NULL };
  Emu *emu = emu_start (dir, args);

  emu_login (emu);
  return emu;
}

/* CPU seconds (user + system) the process @pid used so far. */
static double
cpu_seconds (const char *pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", pid);
  g_autofree char *stat = NULL;
  g_auto (GStrv) fields = NULL;

  if (!g_file_get_contents (path, &stat, NULL, NULL) || strrchr (stat, ')') == NULL)
    return 0;
  /* After "pid (comm) ": state is field 3, utime 14 and stime 15. */
  fields = g_strsplit (strrchr (stat, ')') + 2, " ", -1);
  if (g_strv_length (fields) < 13)
    return 0;
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) /
         (double) sysconf (_SC_CLK_TCK);
}

static size_t
on_body (char *data, size_t size, size_t n, void *user_data)
{
  g_string_append_len (user_data, data, (gssize) (size * n));
  return size * n;
}

/* libcurl, not the test client: libsoup's synchronous API opened a new
 * connection (and TLS handshake) for every call here, which measured the
 * handshake instead of RewrapKeyBlob. */
static void
bench_rewrap (const char *tmp, double seconds)
{
  g_autoptr (Emu) emu = start (tmp, "rewrap", 1);
  g_autoptr (JsonObject) made = NULL;
  g_autofree char *body = NULL, *url = NULL, *auth = NULL, *inst = NULL;
  g_autoptr (GString) answer = g_string_new (NULL);
  struct curl_slist *headers = NULL;
  CURL *easy = curl_easy_init ();
  gint64 start, end;
  guint n = 0;
  long connects = 0;
  double emu_cpu, own_cpu;

  /* A new master key committed on every unit: RewrapKeyBlob rewraps to it. */
  g_free (emu_commit_new_key (emu));
  made = emu_call_ok (emu, "POST", "/v1/grep11/generate", "{}", 200);
  body = g_strdup_printf ("{\"blob\":\"%s\"}", json_object_get_string_member (made, "blob"));
  url = g_strconcat (emu->url, "/v1/grep11/rewrap", NULL);
  auth = g_strconcat ("Authorization: Bearer ", emu->token, NULL);
  inst = g_strconcat ("Bluemix-Instance: ", emu->instance, NULL);
  headers = curl_slist_append (headers, auth);
  headers = curl_slist_append (headers, inst);
  headers = curl_slist_append (headers, "Content-Type: application/json");
  curl_easy_setopt (easy, CURLOPT_URL, url);
  curl_easy_setopt (easy, CURLOPT_CAINFO, emu->ca_file);
  curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (easy, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, answer);
  start = g_get_monotonic_time ();
  end = start + (gint64) (seconds * G_USEC_PER_SEC);
  emu_cpu = cpu_seconds (g_subprocess_get_identifier (emu->process));
  own_cpu = cpu_seconds ("self");
  while (g_get_monotonic_time () < end)
    {
      long status = 0, c = 0;

      g_string_truncate (answer, 0);
      if (curl_easy_perform (easy) != CURLE_OK)
        g_error ("RewrapKeyBlob failed");
      curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo (easy, CURLINFO_NUM_CONNECTS, &c);
      if (status != 200 || strstr (answer->str, "\"blob\"") == NULL)
        g_error ("RewrapKeyBlob: %ld %s", status, answer->str);
      connects += c;
      n++;
    }
  emu_cpu = cpu_seconds (g_subprocess_get_identifier (emu->process)) - emu_cpu;
  own_cpu = cpu_seconds ("self") - own_cpu;
  printf ("RewrapKeyBlob, one client, %ld connection(s): %u calls in %.2f s = %.0f calls/s\n",
          connects, n, (g_get_monotonic_time () - start) / 1e6,
          n / ((g_get_monotonic_time () - start) / 1e6));
  /* On a shared machine the wall clock counts other processes too; the
   * CPU time per call is what the service itself spends. */
  printf ("  CPU per call: service %.0f µs, client %.0f µs (%.0f calls/s if the service had a "
          "core to itself; one client waits for each answer, so with both on idle cores at most "
          "%.0f calls/s)\n",
          n > 0 ? emu_cpu * 1e6 / n : 0, n > 0 ? own_cpu * 1e6 / n : 0,
          emu_cpu > 0 ? n / emu_cpu : 0, emu_cpu + own_cpu > 0 ? n / (emu_cpu + own_cpu) : 0);
  fflush (stdout);
  curl_easy_cleanup (easy);
  curl_slist_free_all (headers);
  emu_stop (emu);
}

/* The same calls through libtke's service client, as the application
 * makes them: its worker thread, handle reuse, headers, JSON and the
 * answer's checks.  Its process CPU counts the worker thread too. */
static void
bench_rewrap_libtke (const char *tmp, double seconds)
{
  g_autoptr (Emu) emu = start (tmp, "rewrap-libtke", 1);
  g_autoptr (TkeServiceClient) client = tke_service_client_new (emu->url, emu->ca_file);
  g_autoptr (TkeSecret) api_key =
      tke_secret_new_from_data ((const guint8 *) emu->api_key, strlen (emu->api_key));
  g_autoptr (GAsyncResult) login = NULL;
  g_autoptr (JsonObject) made = NULL;
  g_autoptr (GBytes) blob = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *raw = NULL;
  gsize raw_size = 0;
  gint64 start, end;
  guint n = 0;
  double emu_cpu, own_cpu;

  g_free (emu_commit_new_key (emu));
  made = emu_call_ok (emu, "POST", "/v1/grep11/generate", "{}", 200);
  raw = g_base64_decode (json_object_get_string_member (made, "blob"), &raw_size);
  blob = g_bytes_new (raw, raw_size);
  tke_service_client_set_unit_root (client, emu->unit_root);
  tke_service_client_login_async (client, api_key, NULL, tke_test_async_done, &login);
  if (!tke_service_client_login_finish (client, tke_test_await (&login, 0), &error))
    g_error ("login: %s", error->message);
  start = g_get_monotonic_time ();
  end = start + (gint64) (seconds * G_USEC_PER_SEC);
  emu_cpu = cpu_seconds (g_subprocess_get_identifier (emu->process));
  own_cpu = cpu_seconds ("self");
  while (g_get_monotonic_time () < end)
    {
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (GBytes) rewrapped = NULL;

      tke_service_client_rewrap_key_blob_async (client, blob, NULL, tke_test_async_done, &result);
      rewrapped =
          tke_service_client_rewrap_key_blob_finish (client, tke_test_await (&result, 0), &error);
      if (rewrapped == NULL)
        g_error ("RewrapKeyBlob through libtke: %s", error->message);
      n++;
    }
  emu_cpu = cpu_seconds (g_subprocess_get_identifier (emu->process)) - emu_cpu;
  own_cpu = cpu_seconds ("self") - own_cpu;
  printf ("RewrapKeyBlob through libtke: %u calls in %.2f s = %.0f calls/s\n", n,
          (g_get_monotonic_time () - start) / 1e6, n / ((g_get_monotonic_time () - start) / 1e6));
  printf ("  CPU per call: service %.0f µs, client %.0f µs\n", n > 0 ? emu_cpu * 1e6 / n : 0,
          n > 0 ? own_cpu * 1e6 / n : 0);
  fflush (stdout);
  emu_stop (emu);
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Fresh clients one after another: each a new connection, its TLS
 * handshake and one request (what the load test's probes measure, without
 * the load). */
static void
bench_fresh (const char *tmp, guint n)
{
  g_autoptr (Emu) emu = start (tmp, "fresh", 1);
  g_autofree char *url = g_strdup_printf ("%s/v1/tke/%s/rotation", emu->url, emu->instance);
  g_autofree char *auth = g_strconcat ("Authorization: Bearer ", emu->token, NULL);
  g_autofree double *total = g_new0 (double, n);
  g_autofree double *handshake = g_new0 (double, n);
  g_autoptr (GString) answer = g_string_new (NULL);
  struct curl_slist *headers = curl_slist_append (NULL, auth);

  for (guint i = 0; i < n; i++)
    {
      CURL *easy = curl_easy_init ();
      curl_off_t total_us = 0, tls_us = 0, tcp_us = 0;
      long status = 0;

      g_string_truncate (answer, 0);
      curl_easy_setopt (easy, CURLOPT_URL, url);
      curl_easy_setopt (easy, CURLOPT_CAINFO, emu->ca_file);
      curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, on_body);
      curl_easy_setopt (easy, CURLOPT_WRITEDATA, answer);
      curl_easy_setopt (easy, CURLOPT_FRESH_CONNECT, 1L);
      curl_easy_setopt (easy, CURLOPT_FORBID_REUSE, 1L);
      if (curl_easy_perform (easy) != CURLE_OK)
        g_error ("fresh client: no answer");
      curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
      if (status != 200)
        g_error ("fresh client: %ld %s", status, answer->str);
      curl_easy_getinfo (easy, CURLINFO_TOTAL_TIME_T, &total_us);
      curl_easy_getinfo (easy, CURLINFO_APPCONNECT_TIME_T, &tls_us);
      curl_easy_getinfo (easy, CURLINFO_CONNECT_TIME_T, &tcp_us);
      total[i] = total_us / 1000.0;
      handshake[i] = (tls_us - tcp_us) / 1000.0;
      curl_easy_cleanup (easy);
    }
  qsort (total, n, sizeof total[0], cmp_double);
  qsort (handshake, n, sizeof handshake[0], cmp_double);
  printf ("Fresh client (new connection, TLS handshake, one request), %u in a row: median %.1f ms "
          "(handshake %.1f ms), slowest %.1f ms\n",
          n, total[n / 2], handshake[n / 2], total[n - 1]);
  fflush (stdout);
  curl_slist_free_all (headers);
  emu_stop (emu);
}

static void
bench_list (const char *tmp, guint n_keys)
{
  g_autoptr (Emu) emu = start (tmp, "list", n_keys);
  gint64 start = g_get_monotonic_time ();
  guint listed = 0;

  for (guint offset = 0;; offset += 5000)
    {
      g_autofree char *path = g_strdup_printf ("/api/v2/keys?limit=5000&offset=%u", offset);
      g_autoptr (JsonObject) page = emu_call_ok (emu, "GET", path, NULL, 200);
      guint n = json_array_get_length (json_object_get_array_member (page, "resources"));

      listed += n;
      if (n < 5000)
        break;
    }
  g_assert_cmpuint (listed, ==, n_keys);
  printf ("KMS list of %u keys in pages of 5 000: %.3f s\n", listed,
          (g_get_monotonic_time () - start) / 1e6);
  fflush (stdout);
  emu_stop (emu);
}

int
main (int argc, char **argv)
{
  double seconds = 5;
  int keys = 100000;
  g_autofree char *emulator = NULL;
  GOptionEntry entries[] = {
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "How long to call RewrapKeyBlob", "S" },
    { "keys", 0, 0, G_OPTION_ARG_INT, &keys, "Keys to list (0: skip)", "N" },
    { "emulator", 0, 0, G_OPTION_ARG_FILENAME, &emulator, "The tke-emulator binary", "PATH" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- RewrapKeyBlob and list benchmark");
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = NULL, *cmd = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (emulator != NULL)
    g_setenv ("TKE_EMULATOR", emulator, TRUE);
  if (g_getenv ("TKE_EMULATOR") == NULL)
    g_setenv ("TKE_EMULATOR", TKE_EMULATOR_PATH, TRUE);
  tmp = g_dir_make_tmp ("tke-bench-XXXXXX", &error);
  g_assert_no_error (error);
  bench_rewrap (tmp, seconds);
  bench_rewrap_libtke (tmp, seconds);
  bench_fresh (tmp, 50);
  if (keys > 0)
    bench_list (tmp, (guint) keys);
  cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  if (system (cmd) != 0)
    g_printerr ("cannot remove %s\n", tmp);
  return 0;
}
