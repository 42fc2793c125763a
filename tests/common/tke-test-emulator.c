/* tke-test-emulator.c: see tke-test-emulator.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "tke-test-emulator.h"

/* A test that aborts must not leave its emulator behind: it would hold the
 * test's stderr open and meson would wait for it until the timeout. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

char *
emu_temp_state_dir (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("tke-emu-XXXXXX", &error);

  g_assert_no_error (error);
  return g_build_filename (dir, "state", NULL);
}

void
emu_remove_state_dir (const char *state_dir)
{
  g_autofree char *parent = g_path_get_dirname (state_dir);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", parent);

  g_assert_cmpint (system (cmd), ==, 0);
}

/* libsoup makes each new TLS connection with the process's default
 * database (the system's CAs) and gives it the session's database only
 * after; glib-networking builds the connection's trust list from that
 * default, so every new connection parsed the whole system bundle again
 * (12 % of the model walk's CPU, after each emulator restart).  The
 * default is the emulator's CA, the only server a test talks to; each
 * session still verifies against its own emulator's CA file. */
static void
set_default_tls_database (GTlsDatabase *db)
{
  g_tls_backend_set_default_database (g_tls_backend_get_default (), db);
}

Emu *
emu_start (const char *state_dir, const char *const *extra_args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GTlsDatabase) db = NULL;
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *line = NULL;
  JsonObject *ready;
  Emu *emu = g_new0 (Emu, 1);

  g_ptr_array_add (argv, (gpointer) g_getenv ("TKE_EMULATOR"));
  g_ptr_array_add (argv, (gpointer) "--state-dir");
  g_ptr_array_add (argv, (gpointer) state_dir);
  for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) extra_args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_nonnull (argv->pdata[0]);

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  emu->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  /* The ready line says when it listens: no sleeping. */
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (emu->process));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  ready = json_node_get_object (json_parser_get_root (parser));
  emu->state_dir = g_strdup (json_object_get_string_member (ready, "state_dir"));
  emu->url = g_strdup (json_object_get_string_member (ready, "url"));
  emu->ca_file = g_strdup (json_object_get_string_member (ready, "ca_file"));
  emu->api_key = g_strdup (json_object_get_string_member (ready, "api_key"));
  emu->instance = g_strdup (json_object_get_string_member (ready, "instance_id"));
  g_assert_true (g_str_has_prefix (emu->url, "https://127.0.0.1:"));
  emu->unit_root_file = g_strdup (json_object_get_string_member (ready, "unit_root_file"));
  emu->unit_root_point = tke_unit_root_load_file (emu->unit_root_file, &error);
  g_assert_no_error (error);
  emu->unit_root = tke_crypto_hex_encode (g_bytes_get_data (emu->unit_root_point, NULL),
                                          g_bytes_get_size (emu->unit_root_point));

  db = g_tls_file_database_new (emu->ca_file, &error);
  g_assert_no_error (error);
  set_default_tls_database (db);
  emu->session = soup_session_new ();
  soup_session_set_tls_database (emu->session, db);
  soup_session_set_timeout (emu->session, 60);
  return emu;
}

int
emu_wait_exit (Emu *emu)
{
  g_autoptr (GError) error = NULL;

  g_subprocess_wait (emu->process, NULL, &error);
  g_assert_no_error (error);
  return g_subprocess_get_if_signaled (emu->process) ? -g_subprocess_get_term_sig (emu->process)
                                                     : g_subprocess_get_exit_status (emu->process);
}

void
emu_stop (Emu *emu)
{
  if (emu->process == NULL)
    return;
  g_subprocess_send_signal (emu->process, SIGTERM);
  g_assert_cmpint (emu_wait_exit (emu), ==, 0);
  g_clear_object (&emu->process);
}

void
emu_free (Emu *emu)
{
  if (emu->process != NULL)
    {
      g_subprocess_force_exit (emu->process);
      g_subprocess_wait (emu->process, NULL, NULL);
      g_object_unref (emu->process);
    }
  g_clear_object (&emu->session);
  g_free (emu->state_dir);
  g_free (emu->url);
  g_free (emu->ca_file);
  g_free (emu->api_key);
  g_free (emu->instance);
  g_free (emu->token);
  g_free (emu->unit_root_file);
  g_free (emu->unit_root);
  g_clear_pointer (&emu->unit_root_point, g_bytes_unref);
  g_free (emu);
}

JsonNode *
emu_call (Emu *emu,
          const char *method,
          const char *path,
          const char *content_type,
          const char *body,
          gsize body_size,
          guint *status)
{
  g_autofree char *uri = g_strconcat (emu->url, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, uri);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) response = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  SoupMessageHeaders *headers;

  g_assert_nonnull (msg);
  headers = soup_message_get_request_headers (msg);
  if (emu->token != NULL)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", emu->token, NULL);

      soup_message_headers_replace (headers, "Authorization", auth);
    }
  soup_message_headers_replace (headers, "Bluemix-Instance", emu->instance);
  if (body != NULL)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (body, body_size);

      soup_message_set_request_body_from_bytes (
          msg, content_type != NULL ? content_type : "application/json", bytes);
    }
  response = soup_session_send_and_read (emu->session, msg, NULL, &error);
  g_assert_no_error (error);
  *status = soup_message_get_status (msg);
  if (g_bytes_get_size (response) == 0)
    return NULL;
  json_parser_load_from_data (parser, g_bytes_get_data (response, NULL),
                              (gssize) g_bytes_get_size (response), &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static char *
to_text (JsonNode *node)
{
  return node != NULL ? json_to_string (node, FALSE) : g_strdup ("(empty)");
}

JsonObject *
emu_call_ok (
    Emu *emu, const char *method, const char *path, const char *body, guint expected_status)
{
  guint status = 0;
  g_autoptr (JsonNode) node =
      emu_call (emu, method, path, NULL, body, body != NULL ? strlen (body) : 0, &status);

  if (status != expected_status)
    {
      g_autofree char *text = to_text (node);

      g_error ("%s %s: expected %u, got %u: %s", method, path, expected_status, status, text);
    }
  if (node == NULL)
    return NULL;
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

static void
assert_error (JsonNode *node,
              guint status,
              guint expected_status,
              const char *expected_code,
              const char *what)
{
  g_autofree char *text = to_text (node);
  JsonObject *err;

  if (status != expected_status || node == NULL || !JSON_NODE_HOLDS_OBJECT (node) ||
      !json_object_has_member (json_node_get_object (node), "error"))
    g_error ("%s: expected %u %s, got %u: %s", what, expected_status, expected_code, status, text);
  err = json_object_get_object_member (json_node_get_object (node), "error");
  if (g_strcmp0 (json_object_get_string_member (err, "code"), expected_code) != 0)
    g_error ("%s: expected code %s, got %s", what, expected_code, text);
  g_assert_cmpint (json_object_get_int_member (err, "status"), ==, expected_status);
  g_assert_cmpuint (strlen (json_object_get_string_member (err, "message")), >, 10);
}

void
emu_call_error (Emu *emu,
                const char *method,
                const char *path,
                const char *body,
                guint expected_status,
                const char *expected_code)
{
  guint status = 0;
  g_autoptr (JsonNode) node =
      emu_call (emu, method, path, NULL, body, body != NULL ? strlen (body) : 0, &status);

  assert_error (node, status, expected_status, expected_code, path);
}

void
emu_login (Emu *emu)
{
  g_autofree char *form =
      g_strdup_printf ("grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=%s", emu->api_key);
  guint status = 0;
  g_autoptr (JsonNode) node =
      emu_call (emu, "POST", "/identity/token", "application/x-www-form-urlencoded", form,
                strlen (form), &status);
  JsonObject *o;

  g_assert_cmpuint (status, ==, 200);
  o = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (o, "token_type"), ==, "Bearer");
  g_assert_cmpint (json_object_get_int_member (o, "expires_in"), >, 0);
  g_free (emu->token);
  emu->token = g_strdup (json_object_get_string_member (o, "access_token"));
}

char **
emu_unit_ids (Emu *emu)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/hsms", emu->instance);
  g_autoptr (JsonObject) o = emu_call_ok (emu, "GET", path, NULL, 200);
  g_autoptr (GPtrArray) ids = g_ptr_array_new ();
  const char *lists[] = { "hsms", "source_hsms" };

  for (guint l = 0; l < 2; l++)
    {
      JsonArray *a = json_object_get_array_member (o, lists[l]);

      for (guint i = 0; i < json_array_get_length (a); i++)
        g_ptr_array_add (ids, g_strdup (json_object_get_string_member (
                                  json_array_get_object_element (a, i), "hsm_id")));
    }
  g_ptr_array_add (ids, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
}

char *
emu_command_text (Emu *emu,
                  const char *hsm_id,
                  const char *command,
                  const char *args_json,
                  gint64 counter,
                  gint64 expires)
{
  if (g_str_equal (command, "query"))
    {
      guint8 nonce[32];
      g_autofree char *nonce_hex = NULL;
      g_autofree char *args = NULL;

      g_assert_true (tke_crypto_random_bytes (nonce, sizeof nonce, NULL));
      nonce_hex = tke_crypto_hex_encode (nonce, sizeof nonce);
      args = args_json != NULL ? g_strdup (args_json)
                               : g_strdup_printf ("{\"nonce\":\"%s\"}", nonce_hex);
      return g_strdup_printf ("{\"version\":1,\"command\":\"query\",\"instance\":\"%s\","
                              "\"hsm_id\":\"%s\",\"args\":%s}",
                              emu->instance, hsm_id, args);
    }
  return g_strdup_printf ("{\"version\":1,\"command\":\"%s\",\"instance\":\"%s\",\"hsm_id\":\"%s\","
                          "\"counter\":%" G_GINT64_FORMAT ",\"expires\":%" G_GINT64_FORMAT
                          ",\"args\":%s}",
                          command, emu->instance, hsm_id, MAX (counter, 0), expires,
                          args_json != NULL ? args_json : "{}");
}

JsonNode *
emu_send (Emu *emu, const char *hsm_id, const char *cmd, EVP_PKEY **signers, guint *status)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/hsms/%s", emu->instance, hsm_id);
  g_autofree char *cmd_b64 = NULL;
  g_autoptr (GString) body = g_string_new (NULL);

  cmd_b64 = g_base64_encode ((const guchar *) cmd, strlen (cmd));
  g_string_append_printf (body, "{\"request\":{\"command\":\"%s\",\"signatures\":[", cmd_b64);
  for (guint i = 0; signers != NULL && signers[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) sig =
          tke_crypto_sign (signers[i], (const guint8 *) cmd, strlen (cmd), &error);
      g_autofree char *sig_b64 = NULL;
      g_autofree char *ski_hex = NULL;
      guint8 ski[TKE_SKI_SIZE];

      g_assert_no_error (error);
      g_assert_true (tke_crypto_ski (signers[i], ski, NULL));
      ski_hex = tke_crypto_hex_encode (ski, sizeof ski);
      sig_b64 = g_base64_encode (g_bytes_get_data (sig, NULL), g_bytes_get_size (sig));
      g_string_append_printf (body, "%s{\"ski\":\"%s\",\"signature\":\"%s\"}", i > 0 ? "," : "",
                              ski_hex, sig_b64);
    }
  g_string_append (body, "]}}");
  return emu_call (emu, "POST", path, NULL, body->str, body->len, status);
}

JsonNode *
emu_command (Emu *emu,
             const char *hsm_id,
             const char *command,
             const char *args_json,
             gint64 counter,
             EVP_PKEY **signers,
             guint *status)
{
  g_autofree char *cmd = NULL;

  if (counter < 0 && !g_str_equal (command, "query"))
    {
      g_autoptr (JsonObject) q = emu_query (emu, hsm_id);

      counter = json_object_get_int_member (q, "counter");
    }
  cmd = emu_command_text (emu, hsm_id, command, args_json, counter,
                          g_get_real_time () / G_USEC_PER_SEC + 600);
  return emu_send (emu, hsm_id, cmd, signers, status);
}

/* Every answer the tests read is verified first, as libtke does. */
JsonObject *
emu_verified_result (Emu *emu, const char *hsm_id, const char *command_text, JsonNode *node)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) request = g_bytes_new (command_text, strlen (command_text));
  g_autoptr (JsonObject) answer = NULL;
  JsonObject *response;

  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  response = json_object_get_object_member (json_node_get_object (node), "response");
  g_assert_nonnull (response);
  answer = tke_unit_identity_verify_answer (emu->unit_root_point, response, emu->instance, hsm_id,
                                            request, NULL, &error);
  g_assert_no_error (error);
  return json_object_ref (json_object_get_object_member (answer, "result"));
}

JsonObject *
emu_command_ok (
    Emu *emu, const char *hsm_id, const char *command, const char *args_json, EVP_PKEY **signers)
{
  guint status = 0;
  gint64 counter = -1;
  g_autofree char *cmd = NULL;
  g_autoptr (JsonNode) node = NULL;

  if (!g_str_equal (command, "query"))
    {
      g_autoptr (JsonObject) q = emu_query (emu, hsm_id);

      counter = json_object_get_int_member (q, "counter");
    }
  cmd = emu_command_text (emu, hsm_id, command, args_json, counter,
                          g_get_real_time () / G_USEC_PER_SEC + 600);
  node = emu_send (emu, hsm_id, cmd, signers, &status);
  if (status != 200)
    {
      g_autofree char *text = to_text (node);

      g_error ("command %s on %s: %u %s", command, hsm_id, status, text);
    }
  return emu_verified_result (emu, hsm_id, cmd, node);
}

void
emu_command_error (Emu *emu,
                   const char *hsm_id,
                   const char *command,
                   const char *args_json,
                   gint64 counter,
                   EVP_PKEY **signers,
                   guint expected_status,
                   const char *expected_code)
{
  guint status = 0;
  g_autoptr (JsonNode) node =
      emu_command (emu, hsm_id, command, args_json, counter, signers, &status);

  assert_error (node, status, expected_status, expected_code, command);
}

JsonObject *
emu_query (Emu *emu, const char *hsm_id)
{
  return emu_command_ok (emu, hsm_id, "query", NULL, NULL);
}

char *
emu_query_text (Emu *emu, const char *hsm_id)
{
  g_autoptr (JsonObject) q = emu_query (emu, hsm_id);
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, q);
  return json_to_string (node, FALSE);
}

char *
emu_point_hex (EVP_PKEY *key)
{
  g_autoptr (GBytes) point = tke_crypto_ec_public_point (key, NULL);

  return tke_crypto_hex_encode (g_bytes_get_data (point, NULL), g_bytes_get_size (point));
}

char *
emu_load_args (
    const char *hsm_id, const char *importer_hex, TkeSecret **parts, guint n_parts, gboolean tamper)
{
  g_autoptr (GBytes) point = tke_crypto_hex_decode (importer_hex, NULL);
  g_autoptr (EVP_PKEY) importer = tke_crypto_ec_public_key_from_point (
      g_bytes_get_data (point, NULL), g_bytes_get_size (point), NULL);
  g_autoptr (GString) args = g_string_new ("{\"parts\":[");

  g_assert_nonnull (importer);
  for (guint i = 0; i < n_parts; i++)
    {
      g_autofree char *aad =
          g_strdup_printf ("tke-keypart-v1|%s|new|%u|%u", hsm_id, i + 1, n_parts);
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) sealed =
          tke_crypto_seal (importer, (const guint8 *) aad, strlen (aad), parts[i], &error);
      g_autofree guint8 *copy = NULL;
      g_autofree char *b64 = NULL;
      gsize size;

      g_assert_no_error (error);
      copy = g_memdup2 (g_bytes_get_data (sealed, &size), g_bytes_get_size (sealed));
      if (tamper && i == n_parts - 1)
        copy[size - 20] ^= 0x01;
      b64 = g_base64_encode (copy, size);
      g_string_append_printf (args, "%s{\"sealed\":\"%s\"}", i > 0 ? "," : "", b64);
    }
  g_string_append (args, "]}");
  return g_string_free (g_steal_pointer (&args), FALSE);
}

char *
emu_demo_password (Emu *emu, const char *file)
{
  g_autofree char *path = g_build_filename (emu->state_dir, "demo-passwords.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  const char *password;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  password =
      json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), file);
  g_assert_nonnull (password);
  return g_strdup (password);
}

EVP_PKEY *
emu_demo_admin (Emu *emu, guint index)
{
  g_autofree char *file = g_strdup_printf ("admin%u.sigkey", index);
  g_autofree char *path = g_build_filename (emu->state_dir, file, NULL);
  g_autofree char *pw = emu_demo_password (emu, file);
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSignatureKeyFile) key_file = NULL;
  g_autoptr (TkeSecret) password = NULL;
  EVP_PKEY *key;

  password = tke_secret_new_from_data ((const guint8 *) pw, strlen (pw));
  key_file = tke_signature_key_file_load (path, &error);
  g_assert_no_error (error);
  key = tke_signature_key_file_unlock (key_file, password, &error);
  g_assert_no_error (error);
  return key;
}

/* Polls the rotation status (the rewrap runs in the service's worker). */
JsonObject *
emu_wait_rotation (Emu *emu, const char *state)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/rotation", emu->instance);

  for (guint i = 0; i < 6000; i++)
    {
      JsonObject *o = emu_call_ok (emu, "GET", path, NULL, 200);

      if (g_str_equal (json_object_get_string_member (o, "state"), state))
        return o;
      g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "rewrapping");
      json_object_unref (o);
      g_usleep (10000);
    }
  g_error ("the rotation never reached %s", state);
  return NULL;
}

void
tke_test_emulator_set_up_state_dir (TkeTestEmulator *f, gconstpointer args)
{
  f->state_dir = emu_temp_state_dir ();
  f->emu = NULL;
}

void
tke_test_emulator_set_up (TkeTestEmulator *f, gconstpointer args)
{
  tke_test_emulator_set_up_state_dir (f, args);
  f->emu = emu_start (f->state_dir, args);
}

void
tke_test_emulator_set_up_logged_in (TkeTestEmulator *f, gconstpointer args)
{
  tke_test_emulator_set_up (f, args);
  emu_login (f->emu);
}

void
tke_test_emulator_tear_down (TkeTestEmulator *f, gconstpointer args)
{
  if (f->emu != NULL)
    {
      emu_stop (f->emu);
      g_clear_pointer (&f->emu, emu_free);
    }
  emu_remove_state_dir (f->state_dir);
  g_clear_pointer (&f->state_dir, g_free);
}

char *
emu_commit_new_key (Emu *emu)
{
  g_autoptr (TkeSecret) p1 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) p2 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) mk = tke_crypto_xor (p1, p2, NULL);
  TkeSecret *parts[] = { p1, p2 };
  EVP_PKEY *a1 = emu_demo_admin (emu, 1);
  EVP_PKEY *a2 = emu_demo_admin (emu, 2);
  EVP_PKEY *one[] = { a1, NULL }, *both[] = { a1, a2, NULL }, *two[] = { a1, a1, NULL };
  g_auto (GStrv) units = emu_unit_ids (emu);
  g_autofree char *vp_args = NULL;
  guint8 vp[TKE_VP_SIZE];
  char *vp_hex;

  tke_crypto_verification_pattern (mk, vp);
  vp_hex = tke_crypto_hex_encode (vp, sizeof vp);
  vp_args = g_strdup_printf ("{\"new_mkvp\":\"%s\"}", vp_hex);
  for (guint u = 0; units[u] != NULL; u++)
    {
      g_autoptr (JsonObject) imp =
          emu_command_ok (emu, units[u], "generate_importer_key", NULL, one);
      g_autofree char *load = emu_load_args (
          units[u], json_object_get_string_member (imp, "importer_key"), parts, 2, FALSE);
      g_autoptr (JsonObject) r1 = emu_command_ok (emu, units[u], "load", load, two);
      g_autoptr (JsonObject) r2 = emu_command_ok (emu, units[u], "commit", vp_args, both);
    }
  EVP_PKEY_free (a1);
  EVP_PKEY_free (a2);
  return vp_hex;
}

void
emu_write_profile (Emu *emu, const char *config_home)
{
  g_autofree char *config = g_build_filename (config_home, "tke", NULL);
  g_autofree char *path = g_build_filename (config, "profile.ini", NULL);
  g_autofree char *text =
      g_strdup_printf ("[service]\nendpoint=%s\nca-file=%s\ninstance=%s\nunit-root=%s\n", emu->url,
                       emu->ca_file, emu->instance, emu->unit_root);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (config, 0700), ==, 0);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}
