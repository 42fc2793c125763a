/* test-emulator-kms.c: the emulator's KMS API as Key Protect's own SDK
 * calls it (issue 19, "Key Protect API fidelity")
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "emu-client.h"

typedef struct
{
  char *dir;
  Emu *emu;
  char *id;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  const char *args[] = { "--init", "demo", "--keys", "5", NULL };
  g_autoptr (JsonObject) list = NULL;

  f->dir = emu_temp_state_dir ();
  f->emu = emu_start (f->dir, args);
  emu_login (f->emu);
  list = emu_call_ok (f->emu, "GET", "/api/v2/keys?limit=1", NULL, 200);
  f->id = g_strdup (json_object_get_string_member (
      json_array_get_object_element (json_object_get_array_member (list, "resources"), 0), "id"));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  emu_stop (f->emu);
  g_clear_pointer (&f->emu, emu_free);
  emu_remove_state_dir (f->dir);
  g_free (f->dir);
  g_free (f->id);
}

static char *
action_path (Fixture *f, const char *action)
{
  return g_strdup_printf ("/api/v2/keys/%s/actions/%s", f->id, action);
}

static JsonObject *
act_ok (Fixture *f, const char *action, const char *body, guint status)
{
  g_autofree char *path = action_path (f, action);

  return emu_call_ok (f->emu, "POST", path, body, status);
}

static void
act_error (Fixture *f, const char *action, const char *body, guint status, const char *code)
{
  g_autofree char *path = action_path (f, action);

  emu_call_error (f->emu, "POST", path, body, status, code);
}

static char *
ciphertext_body (JsonObject *wrapped, const char *aad_json)
{
  return g_strdup_printf ("{\"ciphertext\":\"%s\"%s%s}",
                          json_object_get_string_member (wrapped, "ciphertext"),
                          aad_json != NULL ? ",\"aad\":" : "", aad_json != NULL ? aad_json : "");
}

/* The SDK's form of the actions; the older ?action= form still works. */
static void
test_action_paths (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) wrapped = act_ok (f, "wrap", "{\"plaintext\":\"aGVsbG8=\"}", 200);
  g_autofree char *body = ciphertext_body (wrapped, NULL);
  g_autoptr (JsonObject) unwrapped = act_ok (f, "unwrap", body, 200);
  g_autofree char *old = g_strdup_printf ("/api/v2/keys/%s?action=unwrap", f->id);
  g_autoptr (JsonObject) again = emu_call_ok (f->emu, "POST", old, body, 200);

  g_assert_cmpstr (json_object_get_string_member (unwrapped, "plaintext"), ==, "aGVsbG8=");
  g_assert_cmpstr (json_object_get_string_member (again, "plaintext"), ==, "aGVsbG8=");
  g_assert_null (act_ok (f, "rotate", "{}", 204));
  act_error (f, "restore", "{}", 400, "invalid_parameter");
}

static void
test_aad (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) wrapped =
      act_ok (f, "wrap", "{\"plaintext\":\"aGVsbG8=\",\"aad\":[\"a\",\"b\"]}", 200);
  g_autofree char *right = ciphertext_body (wrapped, "[\"a\",\"b\"]");
  g_autofree char *none = ciphertext_body (wrapped, NULL);
  g_autofree char *joined = ciphertext_body (wrapped, "[\"ab\"]");
  g_autofree char *other = ciphertext_body (wrapped, "[\"a\",\"c\"]");
  g_autoptr (JsonObject) unwrapped = act_ok (f, "unwrap", right, 200);

  g_assert_cmpstr (json_object_get_string_member (unwrapped, "plaintext"), ==, "aGVsbG8=");
  act_error (f, "unwrap", none, 400, "invalid_field");
  act_error (f, "unwrap", joined, 400, "invalid_field");
  act_error (f, "unwrap", other, 400, "invalid_field");
  act_error (f, "wrap", "{\"plaintext\":\"aGVsbG8=\",\"aad\":\"a\"}", 400, "invalid_field");
}

/* Wrap without a plaintext makes a data key, and returns it with its ciphertext. */
static void
test_data_key (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) made = act_ok (f, "wrap", NULL, 200);
  g_autofree char *body = ciphertext_body (made, NULL);
  g_autoptr (JsonObject) unwrapped = act_ok (f, "unwrap", body, 200);
  gsize len = 0;
  g_autofree guchar *key =
      g_base64_decode (json_object_get_string_member (made, "plaintext"), &len);

  g_assert_cmpuint (len, ==, 32);
  g_assert_cmpstr (json_object_get_string_member (unwrapped, "plaintext"), ==,
                   json_object_get_string_member (made, "plaintext"));
}

static void
test_rewrap (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) wrapped = act_ok (f, "wrap", "{\"plaintext\":\"aGVsbG8=\"}", 200);
  g_autofree char *body = ciphertext_body (wrapped, NULL);
  g_autoptr (JsonObject) rewrapped = act_ok (f, "rewrap", body, 200);
  g_autofree char *again = ciphertext_body (rewrapped, NULL);
  g_autoptr (JsonObject) unwrapped = act_ok (f, "unwrap", again, 200);

  g_assert_cmpstr (json_object_get_string_member (rewrapped, "ciphertext"), !=,
                   json_object_get_string_member (wrapped, "ciphertext"));
  g_assert_false (json_object_has_member (rewrapped, "plaintext"));
  g_assert_cmpstr (json_object_get_string_member (unwrapped, "plaintext"), ==, "aGVsbG8=");
}

static gint64
key_total (Fixture *f, const char *query)
{
  g_autofree char *uri = g_strconcat (f->emu->url, "/api/v2/keys", query, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("HEAD", uri);
  g_autofree char *auth = g_strconcat ("Bearer ", f->emu->token, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  const char *total;

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Bluemix-Instance",
                                f->emu->instance);
  body = soup_session_send_and_read (f->emu->session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  g_assert_cmpuint (g_bytes_get_size (body), ==, 0);
  total = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Key-Total");
  g_assert_nonnull (total);
  return g_ascii_strtoll (total, NULL, 10);
}

static gint64
listed (Fixture *f, const char *query)
{
  g_autofree char *path = g_strconcat ("/api/v2/keys", query, NULL);
  g_autoptr (JsonObject) list = emu_call_ok (f->emu, "GET", path, NULL, 200);

  return json_object_get_int_member (json_object_get_object_member (list, "metadata"),
                                     "totalCount");
}

/* disable and enable, the state filter and HEAD's Key-Total. */
static void
test_states (Fixture *f, gconstpointer data)
{
  g_autofree char *key_path = g_strdup_printf ("/api/v2/keys/%s", f->id);
  g_autoptr (JsonObject) key = NULL;
  g_autoptr (JsonObject) wrapped = NULL;

  g_assert_cmpint (key_total (f, ""), ==, 5);
  g_assert_null (act_ok (f, "disable", NULL, 204));
  key = emu_call_ok (f->emu, "GET", key_path, NULL, 200);
  g_assert_cmpint (
      json_object_get_int_member (
          json_array_get_object_element (json_object_get_array_member (key, "resources"), 0),
          "state"),
      ==, 2);
  act_error (f, "wrap", "{\"plaintext\":\"aGVsbG8=\"}", 409, "key_state");
  act_error (f, "rotate", "{}", 409, "key_state");
  act_error (f, "disable", NULL, 409, "key_state");
  g_assert_cmpint (listed (f, "?state=2"), ==, 1);
  g_assert_cmpint (listed (f, "?state=1"), ==, 4);
  g_assert_cmpint (listed (f, "?state=1,2"), ==, 5);
  g_assert_cmpint (key_total (f, "?state=2"), ==, 1);
  emu_call_error (f->emu, "GET", "/api/v2/keys?state=4", NULL, 400, "invalid_parameter");
  g_assert_null (act_ok (f, "enable", NULL, 204));
  wrapped = act_ok (f, "wrap", "{\"plaintext\":\"aGVsbG8=\"}", 200);
  g_assert_cmpint (listed (f, "?state=2"), ==, 0);
}

/* Errors carry Key Protect's shape next to the service's own. */
static void
test_error_body (Fixture *f, gconstpointer data)
{
  guint status = 0;
  g_autoptr (JsonNode) node =
      emu_call (f->emu, "GET", "/api/v2/keys/no-such-key", NULL, NULL, 0, &status);
  JsonObject *o = json_node_get_object (node);
  JsonObject *resource;
  JsonObject *reason;

  g_assert_cmpuint (status, ==, 404);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "metadata"),
                                                  "collectionType"),
                   ==, "application/vnd.ibm.kms.error+json");
  resource = json_array_get_object_element (json_object_get_array_member (o, "resources"), 0);
  g_assert_nonnull (strstr (json_object_get_string_member (resource, "errorMsg"), "no-such-key"));
  reason = json_array_get_object_element (json_object_get_array_member (resource, "reasons"), 0);
  g_assert_cmpstr (json_object_get_string_member (reason, "code"), ==, "NOT_FOUND_ERR");
  g_assert_cmpint (json_object_get_int_member (reason, "status"), ==, 404);
  g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (o, "error"), "code"), ==,
      "not_found");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/emulator/kms/action-paths", Fixture, NULL, fixture_set_up, test_action_paths,
              fixture_tear_down);
  g_test_add ("/emulator/kms/aad", Fixture, NULL, fixture_set_up, test_aad, fixture_tear_down);
  g_test_add ("/emulator/kms/data-key", Fixture, NULL, fixture_set_up, test_data_key,
              fixture_tear_down);
  g_test_add ("/emulator/kms/rewrap", Fixture, NULL, fixture_set_up, test_rewrap,
              fixture_tear_down);
  g_test_add ("/emulator/kms/states", Fixture, NULL, fixture_set_up, test_states,
              fixture_tear_down);
  g_test_add ("/emulator/kms/error-body", Fixture, NULL, fixture_set_up, test_error_body,
              fixture_tear_down);
  return g_test_run ();
}
