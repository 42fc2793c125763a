/* kms-list-bench.c: the time to list every KMS key in pages of 5 000 over
 * HTTPS, one keep-alive connection (issue 19: 100 000 keys in ≤ 1 s).
 * A benchmark, not a test: it prints numbers and checks only that the
 * pages hold every key once.
 *
 * kms-list-bench [--keys N] [--runs R] [--page P] [--emulator PATH]
 *
 * The keys are made by the emulator's own demo set-up (--init demo
 * --keys N), the store's bulk insert of real wrapped keys.  Each run
 * reports the wall time and the CPU time of the emulator and of this
 * client while it listed: on a shared machine the first depends on the
 * load, the others much less.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>

#include "emu-client.h"

/* The emulator's user + system CPU time in seconds, from /proc. */
static double
cpu_seconds (Emu *emu)
{
  g_autofree char *path =
      g_strdup_printf ("/proc/%s/stat", g_subprocess_get_identifier (emu->process));
  g_autofree char *stat = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents (path, &stat, NULL, NULL) || (after = strrchr (stat, ')')) == NULL)
    return 0;
  /* After "pid (comm)": field 3 is the state; utime and stime are 14 and 15. */
  fields = g_strsplit (after + 2, " ", -1);
  if (g_strv_length (fields) < 13)
    return 0;
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) /
         (double) sysconf (_SC_CLK_TCK);
}

/* This process's CPU time in seconds (curl's TLS and the copies). */
static double
own_cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static size_t
on_body (char *data, size_t size, size_t n, void *user_data)
{
  g_string_append_len (user_data, data, (gssize) (size * n));
  return size * n;
}

static void
free_page (gpointer page)
{
  g_string_free (page, TRUE);
}

/* Every page parses, holds at most @page keys and none twice; returns the keys seen. */
static guint
check_pages (GPtrArray *pages, guint page, guint n_keys)
{
  g_autoptr (GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < pages->len; i++)
    {
      GString *body = g_ptr_array_index (pages, i);
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_autoptr (GError) error = NULL;
      JsonObject *o, *meta;
      JsonArray *resources;

      if (!json_parser_load_from_data (parser, body->str, (gssize) body->len, &error))
        g_error ("page %u is not JSON: %s", i, error->message);
      o = json_node_get_object (json_parser_get_root (parser));
      meta = json_object_get_object_member (o, "metadata");
      resources = json_object_get_array_member (o, "resources");
      g_assert_cmpint (json_object_get_int_member (meta, "totalCount"), ==, n_keys);
      g_assert_cmpint (json_object_get_int_member (meta, "collectionTotal"), ==,
                       json_array_get_length (resources));
      g_assert_cmpuint (json_array_get_length (resources), <=, page);
      for (guint k = 0; k < json_array_get_length (resources); k++)
        {
          const char *id =
              json_object_get_string_member (json_array_get_object_element (resources, k), "id");

          if (!g_hash_table_add (ids, g_strdup (id)))
            g_error ("key %s listed twice", id);
        }
    }
  return g_hash_table_size (ids);
}

static void
run_once (Emu *emu, CURL *easy, guint n_keys, guint page, guint run)
{
  g_autoptr (GPtrArray) pages = g_ptr_array_new_with_free_func (free_page);
  double cpu0 = cpu_seconds (emu), cpu1, own0 = own_cpu_seconds (), own1;
  gint64 start = g_get_monotonic_time (), end;
  gsize bytes = 0;
  long connects = 0;

  for (guint offset = 0;; offset += page)
    {
      g_autofree char *url =
          g_strdup_printf ("%s/api/v2/keys?limit=%u&offset=%u", emu->url, page, offset);
      GString *body = g_string_sized_new (page * 800);
      long status = 0, c = 0;

      g_ptr_array_add (pages, body);
      curl_easy_setopt (easy, CURLOPT_URL, url);
      curl_easy_setopt (easy, CURLOPT_WRITEDATA, body);
      if (curl_easy_perform (easy) != CURLE_OK)
        g_error ("the list request failed");
      curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo (easy, CURLINFO_NUM_CONNECTS, &c);
      if (status != 200)
        g_error ("list: %ld %s", status, body->str);
      connects += c;
      bytes += body->len;
      /* The last page is the one that ends before a full page. */
      if (offset + page >= n_keys)
        break;
    }
  end = g_get_monotonic_time ();
  cpu1 = cpu_seconds (emu);
  own1 = own_cpu_seconds ();
  g_assert_cmpuint (check_pages (pages, page, n_keys), ==, n_keys);
  printf ("run %u: %u keys in %u pages of %u, %.1f MB, %ld new connection(s): "
          "%.3f s wall, %.3f s emulator CPU, %.3f s client CPU\n",
          run, n_keys, pages->len, page, bytes / 1e6, connects, (end - start) / 1e6, cpu1 - cpu0,
          own1 - own0);
  fflush (stdout);
}

static void
bench_list (const char *dir, guint n_keys, guint page, guint runs)
{
  g_autofree char *keys = g_strdup_printf ("%u", n_keys);
  const char *args[] = { "--init", "demo", "--keys", keys, NULL };
  gint64 made = g_get_monotonic_time ();
  g_autoptr (Emu) emu = emu_start (dir, args);
  g_autofree char *auth = NULL, *inst = NULL;
  struct curl_slist *headers = NULL;
  CURL *easy = curl_easy_init ();

  printf ("%u keys made (--init demo) in %.1f s\n", n_keys, (g_get_monotonic_time () - made) / 1e6);
  emu_login (emu);
  auth = g_strconcat ("Authorization: Bearer ", emu->token, NULL);
  inst = g_strconcat ("Bluemix-Instance: ", emu->instance, NULL);
  headers = curl_slist_append (headers, auth);
  headers = curl_slist_append (headers, inst);
  curl_easy_setopt (easy, CURLOPT_CAINFO, emu->ca_file);
  curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, on_body);
  for (guint r = 1; r <= runs; r++)
    run_once (emu, easy, n_keys, page, r);
  curl_easy_cleanup (easy);
  curl_slist_free_all (headers);
  emu_stop (emu);
}

int
main (int argc, char **argv)
{
  int keys = 100000, runs = 3, page = 5000;
  g_autofree char *emulator = NULL;
  GOptionEntry entries[] = {
    { "keys", 0, 0, G_OPTION_ARG_INT, &keys, "Keys to make and list (100 000)", "N" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "How often to list them all (3)", "R" },
    { "page", 0, 0, G_OPTION_ARG_INT, &page, "Keys per page, 1 to 5 000 (5 000)", "P" },
    { "emulator", 0, 0, G_OPTION_ARG_FILENAME, &emulator, "The tke-emulator binary", "PATH" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- KMS list benchmark");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (keys < 1 || runs < 1 || page < 1 || page > 5000)
    {
      g_printerr ("--keys and --runs must be positive, --page 1 to 5000\n");
      return 2;
    }
  if (emulator != NULL)
    g_setenv ("TKE_EMULATOR", emulator, TRUE);
  if (g_getenv ("TKE_EMULATOR") == NULL)
    g_setenv ("TKE_EMULATOR", TKE_EMULATOR_PATH, TRUE);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  dir = emu_temp_state_dir ();
  bench_list (dir, (guint) keys, (guint) page, (guint) runs);
  emu_remove_state_dir (dir);
  curl_global_cleanup ();
  return 0;
}
