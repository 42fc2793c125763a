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

static JsonObject *
first_resource (JsonObject *collection)
{
  return json_array_get_object_element (json_object_get_array_member (collection, "resources"), 0);
}

static const char *
version_id (JsonObject *o, const char *member)
{
  return json_object_get_string_member (json_object_get_object_member (o, member), "id");
}

/* Key @id's versions (the collection). */
static JsonObject *
versions (Fixture *f, const char *query)
{
  g_autofree char *path = g_strdup_printf ("/api/v2/keys/%s/versions%s", f->id, query);

  return emu_call_ok (f->emu, "GET", path, NULL, 200);
}

/* @ct with the version its first 4 bytes name replaced by @number. */
static char *
with_version (const char *ct, guint32 number)
{
  gsize len = 0;
  g_autofree guchar *raw = g_base64_decode (ct, &len);

  g_assert_cmpuint (len, >, 4);
  raw[0] = (guchar) (number >> 24);
  raw[1] = (guchar) (number >> 16);
  raw[2] = (guchar) (number >> 8);
  raw[3] = (guchar) number;
  return g_base64_encode (raw, len);
}

/* A rotate makes a new version and keeps the old one: a ciphertext from
 * before it unwraps, and the answer says so as Key Protect does. */
static void
test_versions (Fixture *f, gconstpointer data)
{
  g_autofree char *key_path = g_strdup_printf ("/api/v2/keys/%s", f->id);
  g_autoptr (JsonObject) before = versions (f, "");
  g_autoptr (JsonObject) old =
      act_ok (f, "wrap", "{\"plaintext\":\"aGVsbG8=\",\"aad\":[\"x\"]}", 200);
  g_autofree char *old_body = ciphertext_body (old, "[\"x\"]");
  g_autofree char *v1 = NULL, *v2 = NULL, *again_body = NULL, *forged = NULL, *forged_body = NULL;
  g_autoptr (JsonObject) after = NULL, key = NULL, unwrapped = NULL, again = NULL, rewrapped = NULL,
                         fresh = NULL, page = NULL;
  JsonObject *meta;

  g_assert_cmpint (
      json_object_get_int_member (json_object_get_object_member (before, "metadata"), "totalCount"),
      ==, 1);
  v1 = g_strdup (json_object_get_string_member (first_resource (before), "id"));
  g_assert_cmpstr (v1, ==, f->id); /* the first version's id is the key's */
  g_assert_cmpstr (version_id (old, "keyVersion"), ==, v1);

  g_assert_null (act_ok (f, "rotate", NULL, 204));
  after = versions (f, "");
  meta = json_object_get_object_member (after, "metadata");
  g_assert_cmpint (json_object_get_int_member (meta, "collectionTotal"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (meta, "totalCount"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (first_resource (after), "id"), ==, v1);
  v2 = g_strdup (json_object_get_string_member (
      json_array_get_object_element (json_object_get_array_member (after, "resources"), 1), "id"));
  g_assert_cmpstr (v2, !=, v1);
  g_assert_true (json_object_has_member (first_resource (after), "creationDate"));
  key = emu_call_ok (f->emu, "GET", key_path, NULL, 200);
  g_assert_cmpstr (version_id (first_resource (key), "keyVersion"), ==, v2);
  g_assert_true (json_object_has_member (first_resource (key), "lastRotateDate"));

  /* Unwrap of the old ciphertext: its plaintext, its version, and the data
   * key sealed under the latest. */
  unwrapped = act_ok (f, "unwrap", old_body, 200);
  g_assert_cmpstr (json_object_get_string_member (unwrapped, "plaintext"), ==, "aGVsbG8=");
  g_assert_cmpstr (version_id (unwrapped, "keyVersion"), ==, v1);
  g_assert_cmpstr (version_id (unwrapped, "rewrappedKeyVersion"), ==, v2);
  g_assert_cmpstr (json_object_get_string_member (unwrapped, "rewrappedKey"), ==,
                   json_object_get_string_member (unwrapped, "ciphertext"));
  again_body = ciphertext_body (unwrapped, "[\"x\"]");
  again = act_ok (f, "unwrap", again_body, 200);
  g_assert_cmpstr (json_object_get_string_member (again, "plaintext"), ==, "aGVsbG8=");
  g_assert_cmpstr (version_id (again, "keyVersion"), ==, v2);
  g_assert_false (json_object_has_member (again, "rewrappedKey"));
  g_assert_false (json_object_has_member (again, "ciphertext"));

  /* rewrap moves the old ciphertext to the latest version. */
  rewrapped = act_ok (f, "rewrap", old_body, 200);
  g_assert_cmpstr (version_id (rewrapped, "keyVersion"), ==, v1);
  g_assert_cmpstr (version_id (rewrapped, "rewrappedKeyVersion"), ==, v2);
  fresh = act_ok (f, "wrap", "{\"plaintext\":\"aGVsbG8=\"}", 200);
  g_assert_cmpstr (version_id (fresh, "keyVersion"), ==, v2);

  /* A ciphertext naming another version does not open under it. */
  forged = with_version (json_object_get_string_member (old, "ciphertext"), 2);
  forged_body = g_strdup_printf ("{\"ciphertext\":\"%s\",\"aad\":[\"x\"]}", forged);
  act_error (f, "unwrap", forged_body, 400, "invalid_field");
  g_free (forged_body);
  g_free (forged);
  forged = with_version (json_object_get_string_member (old, "ciphertext"), 3);
  forged_body = g_strdup_printf ("{\"ciphertext\":\"%s\",\"aad\":[\"x\"]}", forged);
  act_error (f, "unwrap", forged_body, 400, "invalid_field");

  page = versions (f, "?offset=1&limit=1");
  g_assert_cmpstr (json_object_get_string_member (first_resource (page), "id"), ==, v2);
  g_assert_cmpint (
      json_object_get_int_member (json_object_get_object_member (page, "metadata"), "totalCount"),
      ==, 2);
  emu_call_error (f->emu, "GET", "/api/v2/keys/no-such-key/versions", NULL, 404, "not_found");
  {
    g_autofree char *path = g_strdup_printf ("/api/v2/keys/%s/versions", f->id);

    emu_call_error (f->emu, "POST", path, "{}", 405, "method_not_allowed");
    emu_call_ok (f->emu, "DELETE", key_path, NULL, 204);
    emu_call_error (f->emu, "GET", path, NULL, 404, "not_found");
  }
}

/* Names are written into the list as JSON strings, escaped. */
static void
test_list_escaping (Fixture *f, gconstpointer data)
{
  static const char name[] = "q\"b\\s/n\nt\tc\001 \xc3\xa9\xe2\x82\xac";
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *body = NULL, *path = NULL;
  g_autoptr (JsonObject) created = NULL, got = NULL, list = NULL;
  const char *id;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resources");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  body = json_generator_to_data (gen, NULL);
  created = emu_call_ok (f->emu, "POST", "/api/v2/keys", body, 201);
  g_assert_cmpstr (json_object_get_string_member (first_resource (created), "name"), ==, name);
  id = json_object_get_string_member (first_resource (created), "id");
  path = g_strdup_printf ("/api/v2/keys/%s", id);
  got = emu_call_ok (f->emu, "GET", path, NULL, 200);
  g_assert_cmpstr (json_object_get_string_member (first_resource (got), "name"), ==, name);
  list = emu_call_ok (f->emu, "GET", "/api/v2/keys?offset=5&limit=1", NULL, 200);
  g_assert_cmpstr (json_object_get_string_member (first_resource (list), "name"), ==, name);
  g_assert_cmpstr (json_object_get_string_member (first_resource (list), "id"), ==, id);
}

/* A new master key loaded and committed on every unit; returns the
 * set_immediate arguments for it. */
static char *
commit_new_master_key (Emu *emu)
{
  g_auto (GStrv) units = emu_unit_ids (emu);
  g_autoptr (EVP_PKEY) a1 = emu_demo_admin (emu, 1), a2 = emu_demo_admin (emu, 2);
  g_autoptr (TkeSecret) p1 = tke_secret_new_random (32, NULL),
                        p2 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) mk = tke_crypto_xor (p1, p2, NULL);
  TkeSecret *parts[] = { p1, p2 };
  EVP_PKEY *one[] = { a1, NULL }, *both[] = { a1, a2, NULL }, *two[] = { a2, a2, NULL };
  g_autofree char *vp_hex = NULL;
  guint8 vp[TKE_VP_SIZE];
  char *vp_args;

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
  return vp_args;
}

/* Set immediate everywhere after the rewrap; waits for the rotation to complete. */
static void
activate_new_master_key (Emu *emu, const char *vp_args)
{
  g_auto (GStrv) units = emu_unit_ids (emu);
  g_autoptr (EVP_PKEY) a1 = emu_demo_admin (emu, 1);
  EVP_PKEY *one[] = { a1, NULL };
  g_autoptr (JsonObject) status = NULL;

  for (guint u = 0; units[u] != NULL; u++)
    {
      g_autoptr (JsonObject) r = emu_command_ok (emu, units[u], "set_immediate", vp_args, one);
    }
  status = emu_wait_rotation (emu, "complete");
}

/* Every stored material (@n of them) unwraps, all under one master key. */
static void
assert_keystore_whole (Emu *emu, gint64 n)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/keystore", emu->instance);
  g_autoptr (JsonObject) ks = emu_call_ok (emu, "GET", path, NULL, 200);

  g_assert_cmpint (json_object_get_int_member (ks, "keys_total"), ==, n);
  g_assert_cmpint (json_object_get_int_member (ks, "keys_ok"), ==, n);
  g_assert_cmpuint (json_object_get_size (json_object_get_object_member (ks, "by_wkid")), ==, 1);
}

/* The keystore's master key rotation rewraps every version of every key
 * (issue 13's invariant: no key lost), and each version's ciphertexts
 * unwrap under the new master key. */
static void
test_versions_survive_mk_rotation (Fixture *f, gconstpointer data)
{
  g_autofree char *vp_args = NULL, *rotate = NULL;
  g_autoptr (JsonObject) status = NULL;
  g_autoptr (GPtrArray) cts = g_ptr_array_new_with_free_func (g_free);

  for (guint v = 0; v < 3; v++)
    {
      g_autoptr (JsonObject) w = act_ok (f, "wrap", "{\"plaintext\":\"aGVsbG8=\"}", 200);

      g_ptr_array_add (cts, ciphertext_body (w, NULL));
      if (v < 2)
        g_assert_null (act_ok (f, "rotate", "{}", 204));
    }
  vp_args = commit_new_master_key (f->emu);
  rotate = g_strdup_printf ("/v1/tke/%s/rotate", f->emu->instance);
  status = emu_call_ok (f->emu, "POST", rotate, "{}", 202);
  g_clear_pointer (&status, json_object_unref);
  status = emu_wait_rotation (f->emu, "rewrapped");
  g_assert_cmpint (json_object_get_int_member (status, "keys_done"), ==, 5);
  activate_new_master_key (f->emu, vp_args);

  /* 5 keys, one of them with 2 earlier versions: 7 materials, all under the new key. */
  assert_keystore_whole (f->emu, 7);
  for (guint i = 0; i < cts->len; i++)
    {
      g_autoptr (JsonObject) u = act_ok (f, "unwrap", g_ptr_array_index (cts, i), 200);

      g_assert_cmpstr (json_object_get_string_member (u, "plaintext"), ==, "aGVsbG8=");
      g_assert_cmpuint (json_object_has_member (u, "rewrappedKey"), ==, i < 2);
    }
}

/* Key @index (0-based, creation order) of @emu: its id. */
static char *
key_at (Emu *emu, guint index)
{
  g_autofree char *path = g_strdup_printf ("/api/v2/keys?offset=%u&limit=1", index);
  g_autoptr (JsonObject) page = emu_call_ok (emu, "GET", path, NULL, 200);

  return g_strdup (json_object_get_string_member (first_resource (page), "id"));
}

/* Wraps under key @id, rotates it, twice; returns the two ciphertext bodies. */
static void
wrap_and_rotate_twice (Emu *emu, const char *id, GPtrArray *bodies)
{
  g_autofree char *wrap = g_strdup_printf ("/api/v2/keys/%s/actions/wrap", id);
  g_autofree char *rotate = g_strdup_printf ("/api/v2/keys/%s/actions/rotate", id);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (JsonObject) w = emu_call_ok (emu, "POST", wrap, "{\"plaintext\":\"aGk=\"}", 200);

      g_ptr_array_add (
          bodies, g_strdup_printf ("%s\n%s", id, json_object_get_string_member (w, "ciphertext")));
      g_assert_null (emu_call_ok (emu, "POST", rotate, NULL, 204));
    }
}

/* Killed (-9) in the middle of the rewrap's second batch, which holds a
 * rotated key: its versions roll back with it, the resumed rotation
 * rewraps them, and nothing is lost. */
static void
test_versions_survive_crash (void)
{
  g_autofree char *dir = emu_temp_state_dir ();
  const char *init_args[] = {
    "--init", "demo", "--keys", "2500", "--crash-after-keys", "2300", NULL
  };
  const char *no_args[] = { NULL };
  g_autoptr (Emu) emu = emu_start (dir, init_args);
  g_autoptr (Emu) again = NULL;
  g_autoptr (GPtrArray) bodies = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *vp_args = NULL, *rotate = NULL, *first = NULL, *late = NULL;
  g_autoptr (JsonObject) status = NULL;

  emu_login (emu);
  first = key_at (emu, 0);   /* in the first batch of 2 000 */
  late = key_at (emu, 2100); /* in the second, before the crash */
  wrap_and_rotate_twice (emu, first, bodies);
  wrap_and_rotate_twice (emu, late, bodies);
  vp_args = commit_new_master_key (emu);
  rotate = g_strdup_printf ("/v1/tke/%s/rotate", emu->instance);
  status = emu_call_ok (emu, "POST", rotate, "{}", 202);
  g_assert_cmpint (emu_wait_exit (emu), ==, -9);
  g_clear_object (&emu->process);

  again = emu_start (dir, no_args);
  emu_login (again);
  g_clear_pointer (&status, json_object_unref);
  status = emu_call_ok (again, "POST", rotate, NULL, 202);
  g_clear_pointer (&status, json_object_unref);
  status = emu_wait_rotation (again, "rewrapped");
  g_assert_cmpint (json_object_get_int_member (status, "keys_done"), ==, 2500);
  activate_new_master_key (again, vp_args);
  assert_keystore_whole (again, 2504);
  for (guint i = 0; i < bodies->len; i++)
    {
      g_auto (GStrv) idct = g_strsplit (g_ptr_array_index (bodies, i), "\n", 2);
      g_autofree char *path = g_strdup_printf ("/api/v2/keys/%s/actions/unwrap", idct[0]);
      g_autofree char *body = g_strdup_printf ("{\"ciphertext\":\"%s\"}", idct[1]);
      g_autoptr (JsonObject) u = emu_call_ok (again, "POST", path, body, 200);

      g_assert_cmpstr (json_object_get_string_member (u, "plaintext"), ==, "aGk=");
      g_assert_true (json_object_has_member (u, "rewrappedKey"));
    }
  emu_stop (again);
  emu_remove_state_dir (dir);
}

/* The ids of the keys listed by pages of @limit (with @query's filter). */
static GPtrArray *
paged_ids (Fixture *f, const char *query, guint limit)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);

  for (guint offset = 0;; offset += limit)
    {
      g_autofree char *path =
          g_strdup_printf ("/api/v2/keys?limit=%u&offset=%u%s", limit, offset, query);
      g_autoptr (JsonObject) page = emu_call_ok (f->emu, "GET", path, NULL, 200);
      JsonArray *resources = json_object_get_array_member (page, "resources");

      for (guint i = 0; i < json_array_get_length (resources); i++)
        g_ptr_array_add (ids, g_strdup (json_object_get_string_member (
                                  json_array_get_object_element (resources, i), "id")));
      if (json_array_get_length (resources) < limit)
        return ids;
    }
}

static void
assert_same_ids (GPtrArray *a, GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    g_assert_cmpstr (g_ptr_array_index (a, i), ==, g_ptr_array_index (b, i));
}

/* Paging goes on where the last page ended, unless the keys changed in
 * between: a delete or a state change shifts the offsets. */
static void
test_list_paging (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) all = paged_ids (f, "", 5000);
  g_autoptr (GPtrArray) paged = paged_ids (f, "", 2);
  g_autoptr (GPtrArray) after = NULL, active = NULL, active_paged = NULL;
  g_autoptr (JsonObject) first = NULL, second = NULL;
  g_autofree char *del = NULL, *disable = NULL;

  g_assert_cmpuint (all->len, ==, 5);
  assert_same_ids (all, paged);
  /* Page 1, then a delete before the page's end, then page 2. */
  first = emu_call_ok (f->emu, "GET", "/api/v2/keys?limit=2&offset=0", NULL, 200);
  del = g_strdup_printf ("/api/v2/keys/%s", (char *) g_ptr_array_index (all, 1));
  emu_call_ok (f->emu, "DELETE", del, NULL, 204);
  second = emu_call_ok (f->emu, "GET", "/api/v2/keys?limit=2&offset=2", NULL, 200);
  g_assert_cmpstr (json_object_get_string_member (first_resource (second), "id"), ==,
                   g_ptr_array_index (all, 3));
  after = paged_ids (f, "", 2);
  g_assert_cmpuint (after->len, ==, 4);
  /* A state filter pages over its own keys, before and after a change. */
  active = paged_ids (f, "&state=1", 5000);
  g_assert_cmpuint (active->len, ==, 4);
  g_clear_pointer (&first, json_object_unref);
  first = emu_call_ok (f->emu, "GET", "/api/v2/keys?limit=1&offset=0&state=1", NULL, 200);
  disable =
      g_strdup_printf ("/api/v2/keys/%s/actions/disable", (char *) g_ptr_array_index (all, 0));
  g_assert_null (emu_call_ok (f->emu, "POST", disable, NULL, 204));
  g_clear_pointer (&second, json_object_unref);
  second = emu_call_ok (f->emu, "GET", "/api/v2/keys?limit=1&offset=1&state=1", NULL, 200);
  g_assert_cmpstr (json_object_get_string_member (first_resource (second), "id"), ==,
                   g_ptr_array_index (all, 3));
  active_paged = paged_ids (f, "&state=1", 1);
  g_assert_cmpuint (active_paged->len, ==, 3);
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
  g_test_add ("/emulator/kms/versions", Fixture, NULL, fixture_set_up, test_versions,
              fixture_tear_down);
  g_test_add ("/emulator/kms/list-escaping", Fixture, NULL, fixture_set_up, test_list_escaping,
              fixture_tear_down);
  g_test_add ("/emulator/kms/versions-survive-mk-rotation", Fixture, NULL, fixture_set_up,
              test_versions_survive_mk_rotation, fixture_tear_down);
  g_test_add ("/emulator/kms/list-paging", Fixture, NULL, fixture_set_up, test_list_paging,
              fixture_tear_down);
  g_test_add_func ("/emulator/kms/versions-survive-crash", test_versions_survive_crash);
  return g_test_run ();
}
