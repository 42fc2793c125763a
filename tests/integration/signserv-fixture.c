/* signserv-fixture.c: a tke-signing-service for the tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "signserv-fixture.h"

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static char *
token_hash (const char *token)
{
  guint8 digest[32];

  tke_crypto_sha256 ((const guint8 *) token, strlen (token), digest);
  return tke_crypto_hex_encode (digest, sizeof digest);
}

static char *
demo_password (const char *emu_state_dir, const char *file)
{
  g_autofree char *path = g_build_filename (emu_state_dir, "demo-passwords.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  return g_strdup (
      json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), file));
}

/* The service's copy of a key file, private as it requires. */
static void
copy_key_file (const char *emu_state_dir, const char *name, const char *dir)
{
  g_autofree char *from = g_build_filename (emu_state_dir, name, NULL);
  g_autofree char *to = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  gsize size;

  g_assert_true (g_file_get_contents (from, &contents, &size, NULL));
  g_assert_true (
      g_file_set_contents_full (to, contents, size, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
}

static void
write_config (const char *dir)
{
  g_autofree char *one = token_hash ("token-one");
  g_autofree char *two = token_hash ("token-two");
  g_autofree char *path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *text = g_strdup_printf (
      "{\"keys\": [{\"name\": \"admin-one\", \"file\": \"admin1.sigkey\", \"token_sha256\": "
      "\"%s\"}, {\"name\": \"admin-two\", \"file\": \"admin2.sigkey\", \"token_sha256\": \"%s\"}]}",
      one, two);

  g_assert_true (
      g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
}

SignServ *
signserv_start (const char *dir, const char *emu_state_dir)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *config = g_build_filename (dir, "config.json", NULL);
  g_autofree char *state = g_build_filename (dir, "state", NULL);
  g_autofree char *log = g_build_filename (dir, "service.log", NULL);
  g_autofree char *pw1 = demo_password (emu_state_dir, "admin1.sigkey");
  g_autofree char *pw2 = demo_password (emu_state_dir, "admin2.sigkey");
  g_autofree char *passwords = g_strdup_printf ("%s\n%s\n", pw1, pw2);
  g_autofree char *line = NULL;
  SignServ *service = g_new0 (SignServ, 1);
  JsonObject *ready;

  g_assert_nonnull (g_getenv ("TKE_SIGNING_SERVICE"));
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  copy_key_file (emu_state_dir, "admin1.sigkey", dir);
  copy_key_file (emu_state_dir, "admin2.sigkey", dir);
  write_config (dir);
  service->dir = g_strdup (dir);

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  service->process =
      g_subprocess_launcher_spawn (launcher, &error, g_getenv ("TKE_SIGNING_SERVICE"), "--config",
                                   config, "--state-dir", state, "--listen", "127.0.0.1:0", NULL);
  g_assert_no_error (error);
  /* The passwords on stdin, never on the command line. */
  g_assert_true (g_output_stream_write_all (g_subprocess_get_stdin_pipe (service->process),
                                            passwords, strlen (passwords), NULL, NULL, &error));
  g_assert_no_error (error);
  g_output_stream_close (g_subprocess_get_stdin_pipe (service->process), NULL, NULL);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (service->process));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL)
    {
      g_autofree char *said = NULL;

      g_file_get_contents (log, &said, NULL, NULL);
      g_error ("tke-signing-service did not start: %s", said);
    }
  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  ready = json_node_get_object (json_parser_get_root (parser));
  service->url = g_strdup (json_object_get_string_member (ready, "url"));
  service->ca_file = g_strdup (json_object_get_string_member (ready, "ca_file"));
  g_assert_true (g_str_has_prefix (service->url, "https://127.0.0.1:"));
  return service;
}

char *
signserv_stop (SignServ *service)
{
  g_autofree char *log = g_build_filename (service->dir, "service.log", NULL);
  g_autoptr (GError) error = NULL;
  char *said = NULL;

  if (service->process == NULL)
    return g_strdup ("");
  g_subprocess_send_signal (service->process, SIGTERM);
  g_subprocess_wait (service->process, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&service->process);
  g_assert_true (g_file_get_contents (log, &said, NULL, NULL));
  return said;
}

void
signserv_free (SignServ *service)
{
  if (service == NULL)
    return;
  g_free (signserv_stop (service));
  g_free (service->dir);
  g_free (service->url);
  g_free (service->ca_file);
  g_free (service);
}

void
signserv_write_keys (const char *files_dir, const char *json)
{
  g_autofree char *path = g_build_filename (files_dir, "SIGNSERVKEYS", NULL);

  g_assert_cmpint (g_mkdir_with_parents (files_dir, 0700), ==, 0);
  /* Replaced whole (G_FILE_SET_CONTENTS_NONE on GLib 2.74 wrote over the
   * old file without truncating it). */
  g_assert_true (
      g_file_set_contents_full (path, json, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
}
