/* tke-emulator.c: the crypto-unit service emulator's command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include "tke-emu-error.h"
#include "tke-emu-identity.h"
#include "tke-emu-server.h"
#include "tke-emu-tls.h"

static gboolean
quit (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_CONTINUE;
}

/* The ready line holds the API key: readable by the owner only. */
static gboolean
write_ready_file (const char *path, const char *line, GError **error)
{
  return g_file_set_contents_full (path, line, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static gboolean
parse_listen (const char *listen, guint *port, GError **error)
{
  const char *colon = listen != NULL ? strrchr (listen, ':') : NULL;
  guint64 value;

  *port = 0;
  if (listen == NULL)
    return TRUE;
  if (colon == NULL ||
      !(g_str_has_prefix (listen, "127.0.0.1:") || g_str_has_prefix (listen, "localhost:")) ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &value, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--listen takes 127.0.0.1:PORT (the emulator listens on loopback only)");
      return FALSE;
    }
  *port = (guint) value;
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autofree char *state_dir = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *init = NULL;
  g_autofree char *ready_file = NULL;
  g_autofree char *fail_setimm = NULL;
  g_autofree char *lose_new = NULL;
  g_autofree char *faults_file = NULL;
  g_autofree char *fail_import = NULL;
  int recovery_units = 1;
  gboolean pkcs11 = FALSE;
  gboolean no_answer_state = FALSE;
  g_autofree char *request_log = NULL;
  gint keys = 3000, token_ttl = 3600, latency = 0, idle_timeout = 0, read_timeout = 0;
  gint max_connections = 0;
  gint64 fail_after = -1, crash_after = -1;
  double rate = 0;
  GOptionEntry entries[] = {
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "State directory", "DIR" },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen, "Address (127.0.0.1:PORT, port 0 = any free)",
      "ADDR" },
    { "init", 0, 0, G_OPTION_ARG_STRING, &init, "Initialize a new state dir: imprint or demo",
      "MODE" },
    { "keys", 0, 0, G_OPTION_ARG_INT, &keys, "Root keys for --init demo (3000)", "N" },
    { "ready-file", 0, 0, G_OPTION_ARG_FILENAME, &ready_file, "Write the ready JSON here too",
      "PATH" },
    { "token-ttl", 0, 0, G_OPTION_ARG_INT, &token_ttl, "Token lifetime in seconds (3600)", "S" },
    { "latency-ms", 0, 0, G_OPTION_ARG_INT, &latency, "Delay every answer", "N" },
    { "http-500-rate", 0, 0, G_OPTION_ARG_DOUBLE, &rate, "Answer 500 with this probability", "P" },
    { "fail-after-keys", 0, 0, G_OPTION_ARG_INT64, &fail_after, "Rewrap fails once N keys are done",
      "N" },
    { "crash-after-keys", 0, 0, G_OPTION_ARG_INT64, &crash_after,
      "SIGKILL itself mid-rewrap at N keys", "N" },
    { "fail-setimm-on", 0, 0, G_OPTION_ARG_STRING, &fail_setimm, "Set immediate fails on this unit",
      "UNIT" },
    { "lose-new-after-rewrap", 0, 0, G_OPTION_ARG_STRING, &lose_new,
      "This unit loses its new register when the rewrap completes", "UNIT" },
    { "fail-import-on", 0, 0, G_OPTION_ARG_STRING, &fail_import,
      "A key transferred from a recovery unit fails to import on this unit", "UNIT" },
    { "recovery-units", 0, 0, G_OPTION_ARG_INT, &recovery_units,
      "Recovery units of a new state dir (0-2, default 1)", "N" },
    { "pkcs11-keystores", 0, 0, G_OPTION_ARG_NONE, &pkcs11,
      "The instance has PKCS#11 keystores (auto-mk-rotate is refused)", NULL },
    { "no-answer-state", 0, 0, G_OPTION_ARG_NONE, &no_answer_state,
      "Command answers carry no result.state, as an older service's", NULL },
    { "faults-file", 0, 0, G_OPTION_ARG_FILENAME, &faults_file,
      "Arm the faults in this key file when a rotation starts (then remove it)", "PATH" },
    { "request-log", 0, 0, G_OPTION_ARG_FILENAME, &request_log,
      "Append \"METHOD PATH\" for every request to this file (benchmarks count them)", "PATH" },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout,
      "Close a keep-alive connection idle this long (60)", "S" },
    { "read-timeout", 0, 0, G_OPTION_ARG_INT, &read_timeout,
      "A request must arrive and be answered within this (30)", "S" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &max_connections,
      "Open client connections at most (1024, and the file descriptor limit)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- crypto-unit service emulator");
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeEmuStore) store = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree char *url = NULL;
  g_autofree char *ca = NULL;
  g_autofree char *line = NULL;
  g_autofree char *unit_root = NULL;
  TkeEmuServer *server;
  TkeEmuFaults faults = { 0 };
  guint port;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      !parse_listen (listen, &port, &error))
    {
      g_printerr ("tke-emulator: %s\n", error->message);
      return 2;
    }
  if (state_dir == NULL ||
      (init != NULL && !g_str_equal (init, "imprint") && !g_str_equal (init, "demo")) || keys < 0 ||
      token_ttl < 1 || latency < 0 || rate < 0 || rate > 1 || idle_timeout < 0 ||
      read_timeout < 0 || max_connections < 0 || recovery_units < 0 || recovery_units > 2)
    {
      g_printerr ("tke-emulator: --state-dir DIR is required; --init takes imprint or demo; "
                  "--keys, --token-ttl, --latency-ms and the limits are positive; "
                  "--recovery-units takes 0 to 2; "
                  "--http-500-rate is 0..1\n");
      return 2;
    }
  OPENSSL_init_crypto (0, NULL);

  store = tke_emu_store_open_full (state_dir, init, (guint) keys, (guint) recovery_units, &error);
  if (store == NULL || !tke_emu_tls_ensure (store->state_dir, &error) ||
      !tke_emu_identity_ensure_root (store->state_dir, init == NULL, &error))
    {
      g_printerr ("tke-emulator: %s\n", error->message);
      return 1;
    }
  faults.token_ttl = token_ttl;
  faults.latency_ms = (guint) latency;
  faults.http_500_rate = rate;
  faults.fail_after_keys = fail_after;
  faults.crash_after_keys = crash_after;
  faults.fail_setimm_on = fail_setimm;
  faults.lose_new_on = lose_new;
  faults.faults_file = faults_file;
  faults.fail_import_on = fail_import;
  faults.pkcs11_keystores = pkcs11;
  faults.no_answer_state = no_answer_state;
  faults.request_log = request_log;
  faults.idle_timeout_s = (guint) idle_timeout;
  faults.read_timeout_s = (guint) read_timeout;
  faults.max_connections = (guint) max_connections;
  server = tke_emu_server_new (store, &faults, &error);
  if (server == NULL || !tke_emu_server_listen (server, port, &error))
    {
      g_printerr ("tke-emulator: %s\n", error->message);
      tke_emu_server_free (server);
      return 1;
    }

  /* Before the ready line: a client may stop the service as soon as it reads it. */
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, quit, loop);
  g_unix_signal_add (SIGINT, quit, loop);

  url = tke_emu_server_get_url (server);
  ca = g_build_filename (store->state_dir, "ca.pem", NULL);
  {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonGenerator) gen = json_generator_new ();
    g_autoptr (JsonNode) root = NULL;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "url");
    json_builder_add_string_value (b, url);
    json_builder_set_member_name (b, "ca_file");
    json_builder_add_string_value (b, ca);
    json_builder_set_member_name (b, "unit_root_file");
    unit_root = tke_emu_identity_root_file (store->state_dir);
    json_builder_add_string_value (b, unit_root);
    json_builder_set_member_name (b, "api_key");
    json_builder_add_string_value (b, store->api_key);
    json_builder_set_member_name (b, "instance_id");
    json_builder_add_string_value (b, store->instance_id);
    json_builder_set_member_name (b, "state_dir");
    json_builder_add_string_value (b, store->state_dir);
    json_builder_set_member_name (b, "pid");
    json_builder_add_int_value (b, getpid ());
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    json_generator_set_root (gen, root);
    line = json_generator_to_data (gen, NULL);
  }
  if (ready_file != NULL && !write_ready_file (ready_file, line, &error))
    {
      g_printerr ("tke-emulator: cannot write %s: %s\n", ready_file, error->message);
      tke_emu_server_free (server);
      return 1;
    }
  printf ("%s\n", line);
  fflush (stdout);

  g_main_loop_run (loop);

  tke_emu_server_free (server);
  return 0;
}
