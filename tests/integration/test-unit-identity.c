/* test-unit-identity.c: the emulator's unit root, device certificates,
 * signed answers, query nonces and command expiry, over real HTTPS
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "tke-test-emulator.h"

static JsonObject *
signed_response (JsonNode *node)
{
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_get_object_member (json_node_get_object (node), "response");
}

/* The root is apart from the TLS CA, its file is in the ready JSON, and
 * GET …/unit_root names the same point and fingerprint. */
static void
test_root (TkeTestEmulator *f, gconstpointer data)
{
  const char *dir = f->state_dir;
  const char *args[] = { "--init", "demo", "--keys", "10", NULL };
  g_autoptr (Emu) emu = emu_start (dir, args);
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/unit_root", emu->instance);
  g_autofree char *key_path = g_build_filename (emu->state_dir, "unit-root-key.pem", NULL);
  g_autofree char *fingerprint = tke_unit_root_fingerprint (emu->unit_root_point);
  g_autoptr (JsonObject) root = NULL;
  GStatBuf st;

  g_assert_true (g_str_has_suffix (emu->unit_root_file, "/unit-root.pem"));
  g_assert_cmpint (g_stat (key_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  emu_call_error (emu, "GET", path, NULL, 401, "unauthorized");
  emu_login (emu);
  root = emu_call_ok (emu, "GET", path, NULL, 200);
  g_assert_cmpstr (json_object_get_string_member (root, "public_key"), ==, emu->unit_root);
  g_assert_cmpstr (json_object_get_string_member (root, "fingerprint"), ==, fingerprint);
  emu_free (g_steal_pointer (&emu));
}

/* Every answer is signed by the unit, over the request; a query needs a
 * nonce; the importer key comes with a certificate by the device key. */
static void
test_signed_answers (TkeTestEmulator *f, gconstpointer data)
{
  const char *dir = f->state_dir;
  const char *args[] = { "--init", "demo", "--keys", "10", NULL };
  g_autoptr (Emu) emu = emu_start (dir, args);
  g_auto (GStrv) units = NULL;
  g_autoptr (EVP_PKEY) admin1 = NULL;
  g_autoptr (JsonObject) imp = NULL;
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (TkeUnitCertificate) cert = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *cmd = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GBytes) request = NULL;
  guint status = 0;

  emu_login (emu);
  units = emu_unit_ids (emu);
  admin1 = emu_demo_admin (emu, 1);
  {
    EVP_PKEY *one[] = { admin1, NULL };

    imp = emu_command_ok (emu, units[0], "generate_importer_key", NULL, one);
  }
  /* The query answer, with its certificate and the importer certificate. */
  cmd = emu_command_text (emu, units[0], "query", NULL, 0, 0);
  node = emu_send (emu, units[0], cmd, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_false (json_object_has_member (signed_response (node), "result"));
  request = g_bytes_new (cmd, strlen (cmd));
  answer = tke_unit_identity_verify_answer (emu->unit_root_point, signed_response (node),
                                            emu->instance, units[0], request, &cert, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tke_unit_certificate_get_hsm_id (cert), ==, units[0]);
  g_assert_cmpstr (json_object_get_string_member (answer, "command"), ==, "query");
  {
    JsonObject *result = json_object_get_object_member (answer, "result");

    g_assert_cmpstr (json_object_get_string_member (result, "importer_key"), ==,
                     json_object_get_string_member (imp, "importer_key"));
    g_assert_cmpstr (json_object_get_string_member (result, "importer_certificate"), ==,
                     json_object_get_string_member (imp, "importer_certificate"));
    g_assert_true (tke_unit_identity_verify_importer (
        cert, json_object_get_string_member (result, "importer_key"),
        json_object_get_string_member (result, "importer_certificate"), &error));
    g_assert_no_error (error);
  }
  /* The same answer does not verify for another request or unit. */
  {
    g_autofree char *other = emu_command_text (emu, units[0], "query", NULL, 0, 0);
    g_autoptr (GBytes) other_request = g_bytes_new (other, strlen (other));
    g_autoptr (JsonObject) replayed =
        tke_unit_identity_verify_answer (emu->unit_root_point, signed_response (node),
                                         emu->instance, units[0], other_request, NULL, &error);

    g_assert_null (replayed);
    g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC);
    g_clear_error (&error);
    replayed = tke_unit_identity_verify_answer (emu->unit_root_point, signed_response (node),
                                                emu->instance, units[1], request, NULL, &error);
    g_assert_null (replayed);
    g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC);
    g_clear_error (&error);
  }
  /* A query without a nonce, or with a short one, is refused. */
  emu_command_error (emu, units[0], "query", "{}", 0, NULL, 400, "invalid_field");
  emu_command_error (emu, units[0], "query", "{\"nonce\":\"00ff\"}", 0, NULL, 400, "invalid_field");
  emu_free (g_steal_pointer (&emu));
}

static guint
send_with_expiry (Emu *emu, const char *hsm_id, EVP_PKEY **signers, gint64 expires, char **code)
{
  g_autoptr (JsonObject) q = emu_query (emu, hsm_id);
  g_autofree char *cmd = emu_command_text (emu, hsm_id, "generate_importer_key", NULL,
                                           json_object_get_int_member (q, "counter"), expires);
  guint status = 0;
  g_autoptr (JsonNode) node = emu_send (emu, hsm_id, cmd, signers, &status);

  if (status != 200)
    *code = g_strdup (json_object_get_string_member (
        json_object_get_object_member (json_node_get_object (node), "error"), "code"));
  return status;
}

/* A signed command expires: in the past → command_expired, more than 15
 * minutes ahead → invalid_field, and a missing "expires" is refused. */
static void
test_expiry (TkeTestEmulator *f, gconstpointer data)
{
  const char *dir = f->state_dir;
  const char *args[] = { "--init", "demo", "--keys", "10", NULL };
  g_autoptr (Emu) emu = emu_start (dir, args);
  g_auto (GStrv) units = NULL;
  g_autoptr (EVP_PKEY) admin1 = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *code = NULL;

  emu_login (emu);
  units = emu_unit_ids (emu);
  admin1 = emu_demo_admin (emu, 1);
  before = emu_query_text (emu, units[0]);
  {
    EVP_PKEY *one[] = { admin1, NULL };

    g_assert_cmpuint (send_with_expiry (emu, units[0], one, now - 5, &code), ==, 403);
    g_assert_cmpstr (code, ==, "command_expired");
    g_clear_pointer (&code, g_free);
    g_assert_cmpuint (send_with_expiry (emu, units[0], one, now + 3600, &code), ==, 400);
    g_assert_cmpstr (code, ==, "invalid_field");
    g_clear_pointer (&code, g_free);
    after = emu_query_text (emu, units[0]);
    g_assert_cmpstr (after, ==, before);
    g_assert_cmpuint (send_with_expiry (emu, units[0], one, now + 300, &code), ==, 200);
  }
  emu_free (g_steal_pointer (&emu));
}

/* A state directory without a unit root (made before unit identity) gets
 * one at its next start, and its units are certified by it. */
static void
test_old_state_dir (TkeTestEmulator *f, gconstpointer data)
{
  const char *dir = f->state_dir;
  const char *args[] = { "--init", "demo", "--keys", "10", NULL };
  g_autoptr (Emu) emu = emu_start (dir, args);
  g_autofree char *old_root = g_strdup (emu->unit_root);
  g_autofree char *key_path = g_build_filename (emu->state_dir, "unit-root-key.pem", NULL);
  g_auto (GStrv) units = NULL;
  g_autoptr (JsonObject) q = NULL;

  /* One answer first: the emulator prints its ready line before it
   * installs its SIGTERM handler. */
  emu_login (emu);
  emu_stop (emu);
  g_assert_cmpint (g_unlink (key_path), ==, 0);
  g_assert_cmpint (g_unlink (emu->unit_root_file), ==, 0);
  emu_free (g_steal_pointer (&emu));
  emu = emu_start (dir, NULL);
  g_assert_cmpstr (emu->unit_root, !=, old_root);
  emu_login (emu);
  units = emu_unit_ids (emu);
  /* emu_query verifies the answer against the new root. */
  q = emu_query (emu, units[1]);
  g_assert_cmpint (json_object_get_int_member (q, "counter"), >=, 0);
  emu_free (g_steal_pointer (&emu));
}

int
main (int argc, char **argv)
{
  /* Each test its own state directory; the tests start their emulators
   * on it, and the tear-down removes it, also after a test that returned
   * early or called g_test_fail(). */
  g_test_init (&argc, &argv, NULL);
  tke_test_add_with_state_dir ("/unit-identity/root", test_root);
  tke_test_add_with_state_dir ("/unit-identity/signed-answers", test_signed_answers);
  tke_test_add_with_state_dir ("/unit-identity/expiry", test_expiry);
  tke_test_add_with_state_dir ("/unit-identity/old-state-dir", test_old_state_dir);
  return g_test_run ();
}
