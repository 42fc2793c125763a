/* test-emulator.c: tke-emulator over real HTTPS, from imprint mode to a
 * rotation, with the refusals of DESIGN §1/§3 and crash recovery
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "tke-test-emulator.h"

static char *
path_for (Emu *emu, const char *suffix)
{
  return g_strdup_printf ("/v1/tke/%s/%s", emu->instance, suffix);
}

static void
test_token (TkeTestEmulator *f, gconstpointer data)
{
  const char *dir = f->state_dir;
  const char *args[] = { "--init", "imprint", "--token-ttl", "1", NULL };
  Emu *emu = f->emu = emu_start (dir, args);
  g_autofree char *hsms = path_for (emu, "hsms");
  g_autofree char *bad_form =
      g_strdup ("grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=wrong");
  guint status = 0;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonObject) list = NULL;
  g_auto (GStrv) parts = NULL;

  emu_call_error (emu, "GET", hsms, NULL, 401, "unauthorized");
  node = emu_call (emu, "POST", "/identity/token", "application/x-www-form-urlencoded", bad_form,
                   strlen (bad_form), &status);
  g_assert_cmpuint (status, ==, 401);
  emu_login (emu);
  /* A real JWT: three parts, HS256 header. */
  parts = g_strsplit (emu->token, ".", -1);
  g_assert_cmpuint (g_strv_length (parts), ==, 3);
  list = emu_call_ok (emu, "GET", hsms, NULL, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (list, "hsms")), ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (list, "source_hsms")), ==,
                    1);
  g_assert_cmpstr (
      json_object_get_string_member (
          json_array_get_object_element (json_object_get_array_member (list, "source_hsms"), 0),
          "type"),
      ==, "RECOVERY");

  g_usleep (2100 * 1000); /* the token lives 1 s */
  emu_call_error (emu, "GET", hsms, NULL, 401, "token_expired");
  emu_login (emu);
  g_clear_pointer (&list, json_object_unref);
  list = emu_call_ok (emu, "GET", hsms, NULL, 200);
  emu_stop (emu);
}

static void
assert_unchanged (Emu *emu, const char *hsm, const char *before)
{
  g_autofree char *after = emu_query_text (emu, hsm);

  g_assert_cmpstr (after, ==, before);
}

static void
test_imprint_initialization (TkeTestEmulator *f, gconstpointer data)
{
  const char *dir = f->state_dir;
  const char *args[] = { "--init", "imprint", NULL };
  Emu *emu = f->emu = emu_start (dir, args);
  g_autoptr (EVP_PKEY) a1 = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) a2 = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) stranger = tke_crypto_ec_generate (NULL);
  g_autofree char *p1 = emu_point_hex (a1), *p2 = emu_point_hex (a2);
  TkeSecret *parts[3] = { 0 };
  g_autoptr (TkeSecret) mk = NULL;
  g_autofree char *mk_vp_hex = NULL;
  g_auto (GStrv) units = NULL;
  guint8 vp[TKE_VP_SIZE];

  emu_login (emu);
  units = emu_unit_ids (emu);
  g_assert_cmpuint (g_strv_length (units), ==, 3);
  for (guint i = 0; i < 3; i++)
    parts[i] = tke_secret_new_random (32, NULL);
  mk = tke_crypto_xor (parts[0], parts[1], NULL);
  {
    TkeSecret *x = tke_crypto_xor (mk, parts[2], NULL);

    tke_secret_unref (mk);
    mk = x;
  }
  tke_crypto_verification_pattern (mk, vp);
  mk_vp_hex = tke_crypto_hex_encode (vp, sizeof vp);

  for (guint u = 0; units[u] != NULL; u++)
    {
      const char *hsm = units[u];
      EVP_PKEY *both[] = { a1, a2, NULL }, *one[] = { a1, NULL }, *three[] = { a1, a1, a1, NULL };
      EVP_PKEY *with_stranger[] = { a1, stranger, NULL };
      g_autofree char *add1 = g_strdup_printf ("{\"name\":\"Alice\",\"public_key\":\"%s\"}", p1);
      g_autofree char *add2 = g_strdup_printf ("{\"name\":\"Bob\",\"public_key\":\"%s\"}", p2);
      g_autofree char *commit_args = g_strdup_printf ("{\"new_mkvp\":\"%s\"}", mk_vp_hex);
      g_autofree char *before = NULL, *load = NULL, *tampered = NULL;
      g_autoptr (JsonObject) q = emu_query (emu, hsm);
      g_autoptr (JsonObject) r1 = NULL, r2 = NULL, r3 = NULL, imp = NULL, loaded = NULL, r4 = NULL,
                             r5 = NULL;
      gint64 counter;

      g_assert_true (json_object_get_boolean_member (q, "imprint_mode"));
      g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Empty");
      g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Empty");

      /* Imprint mode: set-up commands unsigned; load and friends refused. */
      before = emu_query_text (emu, hsm);
      emu_command_error (emu, hsm, "generate_importer_key", NULL, -1, one, 409, "imprint_mode");
      emu_command_error (emu, hsm, "set_immediate", commit_args, -1, one, 409, "imprint_mode");
      assert_unchanged (emu, hsm, before);
      r1 = emu_command_ok (emu, hsm, "add_admin", add1, NULL);
      r2 = emu_command_ok (emu, hsm, "add_admin", add2, NULL);
      g_free (before);
      before = emu_query_text (emu, hsm);
      emu_command_error (emu, hsm, "add_admin", add2, -1, NULL, 409, "admin_exists");
      /* Leaving imprint mode takes the new threshold's signatures. */
      emu_command_error (emu, hsm, "set_thresholds",
                         "{\"signature_threshold\":2,\"revocation_threshold\":2}", -1, one, 403,
                         "threshold_not_met");
      emu_command_error (emu, hsm, "set_thresholds",
                         "{\"signature_threshold\":3,\"revocation_threshold\":2}", -1, both, 409,
                         "threshold_exceeds_admins");
      assert_unchanged (emu, hsm, before);
      r3 = emu_command_ok (emu, hsm, "set_thresholds",
                           "{\"signature_threshold\":2,\"revocation_threshold\":2}", both);

      imp = emu_command_ok (emu, hsm, "generate_importer_key", NULL, one);
      load =
          emu_load_args (hsm, json_object_get_string_member (imp, "importer_key"), parts, 3, FALSE);
      tampered =
          emu_load_args (hsm, json_object_get_string_member (imp, "importer_key"), parts, 3, TRUE);

      if (u == 0)
        {
          g_autofree char *other_unit = emu_load_args (
              units[1], json_object_get_string_member (imp, "importer_key"), parts, 3, FALSE);

          g_free (before);
          before = emu_query_text (emu, hsm);
          g_clear_pointer (&q, json_object_unref);
          q = emu_query (emu, hsm);
          counter = json_object_get_int_member (q, "counter");
          /* Each refusal with its own code and no change at all. */
          emu_command_error (emu, hsm, "load", tampered, -1, three, 400, "invalid_key_part");
          emu_command_error (emu, hsm, "load", other_unit, -1, three, 400, "invalid_key_part");
          emu_command_error (emu, hsm, "load", load, -1, one, 403, "threshold_not_met");
          emu_command_error (emu, hsm, "load", load, counter - 1, three, 409, "replay");
          emu_command_error (emu, hsm, "load", load, counter + 1, three, 409, "replay");
          emu_command_error (emu, hsm, "load", load, -1, with_stranger, 403, "unknown_signer");
          emu_command_error (emu, hsm, "load", "{\"parts\":\"x\"}", -1, three, 400,
                             "invalid_field");
          emu_command_error (emu, hsm, "load", "{\"parts\":[],\"extra\":1}", -1, three, 400,
                             "invalid_field");
          emu_command_error (emu, hsm, "commit", commit_args, -1, both, 409, "register_state");
          assert_unchanged (emu, hsm, before);
        }

      loaded = emu_command_ok (emu, hsm, "load", load, three);
      g_assert_cmpstr (json_object_get_string_member (loaded, "new_mk_status"), ==,
                       "Full Uncommitted");
      g_assert_cmpstr (json_object_get_string_member (loaded, "new_mkvp"), ==, mk_vp_hex);

      if (u == 0)
        {
          guint status = 0;
          g_autoptr (JsonNode) replayed = NULL;

          g_free (before);
          before = emu_query_text (emu, hsm);
          /* 1 signature below threshold 2. */
          emu_command_error (emu, hsm, "commit", commit_args, -1, one, 403, "threshold_not_met");
          emu_command_error (emu, hsm, "commit", "{\"new_mkvp\":\"00\"}", -1, both, 400,
                             "invalid_field");
          assert_unchanged (emu, hsm, before);
          /* A replayed accepted command: same counter as the one that was just used. */
          g_clear_pointer (&q, json_object_unref);
          q = emu_query (emu, hsm);
          counter = json_object_get_int_member (q, "counter");
          replayed = emu_command (emu, hsm, "load", load, counter - 1, three, &status);
          g_assert_cmpuint (status, ==, 409);
          assert_unchanged (emu, hsm, before);
        }

      r4 = emu_command_ok (emu, hsm, "commit", commit_args, both);
      g_assert_cmpstr (json_object_get_string_member (r4, "new_mk_status"), ==, "Full Committed");
      r5 = emu_command_ok (emu, hsm, "set_immediate", commit_args, one);
      g_clear_pointer (&q, json_object_unref);
      q = emu_query (emu, hsm);
      g_assert_false (json_object_get_boolean_member (q, "imprint_mode"));
      g_assert_cmpint (json_object_get_int_member (q, "signature_threshold"), ==, 2);
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (q, "admins")), ==, 2);
      g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Valid");
      g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), ==, mk_vp_hex);
      g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Empty");
    }

  /* KMS works now; create a few root keys. */
  for (guint i = 0; i < 20; i++)
    {
      g_autoptr (JsonObject) created =
          emu_call_ok (emu, "POST", "/api/v2/keys",
                       "{\"metadata\":{\"collectionType\":\"application/vnd.ibm.kms.key+json\","
                       "\"collectionTotal\":1},\"resources\":[{\"type\":"
                       "\"application/vnd.ibm.kms.key+json\",\"name\":\"k\"}]}",
                       201);
    }
  {
    g_autoptr (JsonObject) list = emu_call_ok (emu, "GET", "/api/v2/keys?limit=5", NULL, 200);
    JsonObject *meta = json_object_get_object_member (list, "metadata");

    g_assert_cmpint (json_object_get_int_member (meta, "collectionTotal"), ==, 5);
    g_assert_cmpint (json_object_get_int_member (meta, "totalCount"), ==, 20);
    emu_call_error (emu, "GET", "/api/v2/keys?limit=5001", NULL, 400, "invalid_parameter");
  }
  emu_stop (emu);
  for (guint i = 0; i < 3; i++)
    tke_secret_unref (parts[i]);
}

/* Malformed JSON to every endpoint that takes a body, and wrong shapes. */
static void
test_malformed (TkeTestEmulator *f, gconstpointer data)
{
  const char *dir = f->state_dir;
  const char *args[] = { "--init", "demo", "--keys", "10", NULL };
  Emu *emu = f->emu = emu_start (dir, args);
  g_auto (GStrv) units = NULL;
  g_autofree char *cmd_path = NULL, *rotate = NULL, *before = NULL, *big = NULL;
  const char *bodies[] = { "{bad", "[]", "\"x\"", "{\"request\":1}", "\xff\xfe", NULL };

  emu_login (emu);
  units = emu_unit_ids (emu);
  before = emu_query_text (emu, units[0]);
  cmd_path = g_strdup_printf ("/v1/tke/%s/hsms/%s", emu->instance, units[0]);
  rotate = path_for (emu, "rotate");
  for (guint i = 0; bodies[i] != NULL; i++)
    {
      const char *code = i == 3 ? "malformed_json" : "malformed_json";

      emu_call_error (emu, "POST", cmd_path, bodies[i], 400, code);
      if (i < 3 || i == 4)
        {
          emu_call_error (emu, "POST", rotate, bodies[i], 400, "malformed_json");
          emu_call_error (emu, "POST", "/api/v2/keys", bodies[i], 400, "malformed_json");
          emu_call_error (emu, "POST", "/v1/grep11/rewrap", bodies[i], 400, "malformed_json");
          emu_call_error (emu, "POST", "/v1/grep11/generate", bodies[i], 400, "malformed_json");
          emu_call_error (emu, "POST", "/v1/grep11/check", bodies[i], 400, "malformed_json");
        }
    }
  emu_call_error (emu, "POST", cmd_path, "{\"request\":{\"command\":\"e2JhZA==\"}}", 400,
                  "malformed_json");
  emu_call_error (emu, "POST", cmd_path, "{\"request\":{\"command\":\"!!\"}}", 400,
                  "invalid_field");
  emu_call_error (emu, "POST", cmd_path, "{\"request\":{\"command\":5}}", 400, "invalid_field");
  emu_call_error (emu, "POST", "/v1/grep11/rewrap", "{\"blob\":7}", 400, "invalid_field");
  emu_call_error (emu, "POST", "/v1/grep11/check", "{\"blob\":\"AAAA\"}", 400, "invalid_blob");
  emu_call_error (emu, "POST", "/api/v2/keys", "{\"resources\":[{\"name\":3}]}", 400,
                  "invalid_field");
  emu_call_error (emu, "POST", "/identity/token", "grant_type=password", 400, "invalid_grant");
  {
    g_autofree char *unknown = g_strdup_printf ("/v1/tke/%s/hsms/nope", emu->instance);

    emu_command_error (emu, "nope", "query", NULL, -1, NULL, 404, "not_found");
    emu_call_error (emu, "POST", unknown, "{}", 400, "malformed_json");
    emu_call_error (emu, "GET", "/v1/tke/not-an-instance/hsms", NULL, 404, "not_found");
    emu_call_error (emu, "GET", "/api/v2/keys/not-a-key", NULL, 404, "not_found");
    emu_call_error (emu, "DELETE", cmd_path, NULL, 405, "method_not_allowed");
  }
  /* Oversize: refused before anything is read into state. */
  big = g_malloc (2 * 1024 * 1024 + 1);
  memset (big, ' ', 2 * 1024 * 1024);
  big[2 * 1024 * 1024] = '\0';
  emu_call_error (emu, "POST", cmd_path, big, 413, "payload_too_large");
  assert_unchanged (emu, units[0], before);
  emu_stop (emu);
}

/* Issue 13: a load whose parts repeat, or combine to zero, is refused by
 * the unit itself (parts A, A and A, B, A xor B gave an all-zero key). */
static void
test_weak_keys (TkeTestEmulator *f, gconstpointer data)
{
  const char *dir = f->state_dir;
  const char *args[] = { "--init", "demo", "--keys", "3", NULL };
  Emu *emu = f->emu = emu_start (dir, args);
  g_autoptr (EVP_PKEY) a1 = NULL, a2 = NULL;
  g_autoptr (TkeSecret) pa = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) pb = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) pab = tke_crypto_xor (pa, pb, NULL);
  g_auto (GStrv) units = NULL;
  g_autofree char *before = NULL;
  struct
  {
    TkeSecret *parts[3];
    guint n;
    const char *code;
  } cases[] = {
    { { pa, pa, NULL }, 2, "repeated_key_part" },
    { { pa, pb, pa }, 3, "repeated_key_part" },
    { { pb, pb, pb }, 3, "repeated_key_part" },
    { { pa, pb, pab }, 3, "weak_key" },
  };

  emu_login (emu);
  units = emu_unit_ids (emu);
  a1 = emu_demo_admin (emu, 1);
  a2 = emu_demo_admin (emu, 2);
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      EVP_PKEY *one[] = { a1, NULL }, *signers[] = { a1, a2, a1, NULL };
      g_autoptr (JsonObject) imp =
          emu_command_ok (emu, units[0], "generate_importer_key", NULL, one);
      g_autofree char *load =
          emu_load_args (units[0], json_object_get_string_member (imp, "importer_key"),
                         cases[c].parts, cases[c].n, FALSE);

      signers[cases[c].n] = NULL;
      g_clear_pointer (&before, g_free);
      before = emu_query_text (emu, units[0]);
      emu_command_error (emu, units[0], "load", load, -1, signers, 409, cases[c].code);
      assert_unchanged (emu, units[0], before);
    }
  /* Independent parts still load. */
  {
    EVP_PKEY *one[] = { a1, NULL }, *two[] = { a1, a2, NULL };
    TkeSecret *good[] = { pa, pb };
    g_autoptr (JsonObject) imp = emu_command_ok (emu, units[0], "generate_importer_key", NULL, one);
    g_autofree char *load = emu_load_args (
        units[0], json_object_get_string_member (imp, "importer_key"), good, 2, FALSE);
    g_autoptr (JsonObject) loaded = emu_command_ok (emu, units[0], "load", load, two);

    g_assert_cmpstr (json_object_get_string_member (loaded, "new_mk_status"), ==,
                     "Full Uncommitted");
  }
  emu_stop (emu);
}

typedef struct
{
  EVP_PKEY *a1;
  EVP_PKEY *a2;
  char *new_vp;
} Demo;

/* Loads and commits the same new key, from 2 parts, on every unit. */
static void
load_and_commit_everywhere (Emu *emu, char **units, Demo *demo)
{
  g_autoptr (TkeSecret) p1 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) p2 = tke_secret_new_random (32, NULL);
  TkeSecret *parts[2] = { p1, p2 };
  g_autoptr (TkeSecret) mk = tke_crypto_xor (parts[0], parts[1], NULL);
  EVP_PKEY *one[] = { demo->a1, NULL }, *both[] = { demo->a1, demo->a2, NULL },
           *two[] = { demo->a2, demo->a2, NULL };
  g_autofree char *commit_args = NULL;
  guint8 vp[TKE_VP_SIZE];

  tke_crypto_verification_pattern (mk, vp);
  demo->new_vp = tke_crypto_hex_encode (vp, sizeof vp);
  commit_args = g_strdup_printf ("{\"new_mkvp\":\"%s\"}", demo->new_vp);
  for (guint u = 0; units[u] != NULL; u++)
    {
      g_autoptr (JsonObject) imp =
          emu_command_ok (emu, units[u], "generate_importer_key", NULL, one);
      g_autofree char *load = emu_load_args (
          units[u], json_object_get_string_member (imp, "importer_key"), parts, 2, FALSE);
      g_autoptr (JsonObject) r1 = emu_command_ok (emu, units[u], "load", load, two);
      g_autoptr (JsonObject) r2 = emu_command_ok (emu, units[u], "commit", commit_args, both);
    }
}

static void
set_immediate_everywhere (Emu *emu, char **units, Demo *demo)
{
  EVP_PKEY *one[] = { demo->a2, NULL };
  g_autofree char *args = g_strdup_printf ("{\"new_mkvp\":\"%s\"}", demo->new_vp);

  for (guint u = 0; units[u] != NULL; u++)
    {
      g_autoptr (JsonObject) r = emu_command_ok (emu, units[u], "set_immediate", args, one);
      g_autoptr (JsonObject) q = emu_query (emu, units[u]);

      g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Valid");
      g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), ==, demo->new_vp);
      g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Empty");
    }
}

static void
assert_keystore (Emu *emu, gint64 total, const char *vp)
{
  g_autofree char *path = path_for (emu, "keystore");
  g_autoptr (JsonObject) ks = emu_call_ok (emu, "GET", path, NULL, 200);
  g_autofree char *wkid = g_strndup (vp, 32);
  JsonObject *by = json_object_get_object_member (ks, "by_wkid");

  g_assert_cmpint (json_object_get_int_member (ks, "keys_total"), ==, total);
  g_assert_cmpint (json_object_get_int_member (ks, "keys_ok"), ==, total);
  g_assert_cmpint (json_object_get_int_member (ks, "keys_failed"), ==, 0);
  if (vp != NULL)
    {
      g_assert_cmpuint (json_object_get_size (by), ==, 1);
      g_assert_cmpint (json_object_get_int_member (by, wkid), ==, total);
    }
}

static void
test_rotation (TkeTestEmulator *f, gconstpointer data)
{
  const char *dir = f->state_dir;
  const char *args[] = { "--init", "demo", "--keys", "3000", NULL };
  Emu *emu = f->emu = emu_start (dir, args);
  g_auto (GStrv) units = NULL;
  g_autofree char *rotate = NULL, *key_path = NULL, *blob_body = NULL, *new_blob_body = NULL,
                  *setimm = NULL;
  g_autofree char *check_value = NULL, *dek_ct = NULL, *wrap_path = NULL, *unwrap_path = NULL,
                  *unwrap_body = NULL;
  g_autoptr (JsonObject) blob = NULL, rewrapped = NULL, status = NULL, list = NULL, wrapped = NULL,
                         final = NULL;
  Demo demo = { 0 };
  const char *key_id, *delete_id;
  EVP_PKEY *one[] = { NULL, NULL };
  JsonArray *messages;

  emu_login (emu);
  units = emu_unit_ids (emu);
  demo.a1 = emu_demo_admin (emu, 1);
  demo.a2 = emu_demo_admin (emu, 2);
  one[0] = demo.a1;
  rotate = path_for (emu, "rotate");

  /* A blob an application keeps itself, and a DEK wrapped with a root key. */
  blob = emu_call_ok (emu, "POST", "/v1/grep11/generate", "{}", 200);
  check_value = g_strdup (json_object_get_string_member (blob, "check_value"));
  list = emu_call_ok (emu, "GET", "/api/v2/keys?offset=10&limit=2", NULL, 200);
  key_id = json_object_get_string_member (
      json_array_get_object_element (json_object_get_array_member (list, "resources"), 0), "id");
  delete_id = json_object_get_string_member (
      json_array_get_object_element (json_object_get_array_member (list, "resources"), 1), "id");
  wrap_path = g_strdup_printf ("/api/v2/keys/%s?action=wrap", key_id);
  unwrap_path = g_strdup_printf ("/api/v2/keys/%s?action=unwrap", key_id);
  wrapped = emu_call_ok (emu, "POST", wrap_path, "{\"plaintext\":\"aGVsbG8gd29ybGQ=\"}", 200);
  dek_ct = g_strdup (json_object_get_string_member (wrapped, "ciphertext"));

  /* No committed new key yet: rotate's pre-check refuses. */
  emu_call_error (emu, "POST", rotate, "{}", 409, "precheck_new_register");
  load_and_commit_everywhere (emu, units, &demo);
  setimm = g_strdup_printf ("{\"new_mkvp\":\"%s\"}", demo.new_vp);
  /* Set immediate before the rewrap would orphan the keystore. */
  emu_command_error (emu, units[0], "set_immediate", setimm, -1, one, 409, "rewrap_required");

  blob_body = g_strdup_printf ("{\"blob\":\"%s\"}", json_object_get_string_member (blob, "blob"));
  rewrapped = emu_call_ok (emu, "POST", "/v1/grep11/rewrap", blob_body, 200);
  new_blob_body =
      g_strdup_printf ("{\"blob\":\"%s\"}", json_object_get_string_member (rewrapped, "blob"));

  status = emu_call_ok (emu, "POST", rotate, "{}", 202);
  g_clear_pointer (&status, json_object_unref);
  status = emu_wait_rotation (emu, "rewrapped");
  g_assert_cmpint (json_object_get_int_member (status, "keys_done"), ==, 3000);
  g_assert_cmpint (json_object_get_int_member (status, "keys_total"), ==, 3000);

  /* During the rotation: create, rotate, GREP11 refused; list, get, metadata, delete allowed. */
  emu_call_error (emu, "POST", "/api/v2/keys", "{\"resources\":[{\"name\":\"late\"}]}", 409,
                  "rotation_in_progress");
  {
    g_autofree char *rot = g_strdup_printf ("/api/v2/keys/%s?action=rotate", key_id);
    g_autofree char *get = g_strdup_printf ("/api/v2/keys/%s", key_id);
    g_autofree char *meta = g_strdup_printf ("/api/v2/keys/%s/metadata", key_id);
    g_autofree char *del = g_strdup_printf ("/api/v2/keys/%s", delete_id);
    g_autoptr (JsonObject) l = NULL, g = NULL, m = NULL;

    emu_call_error (emu, "POST", rot, "{}", 409, "rotation_in_progress");
    emu_call_error (emu, "POST", "/v1/grep11/generate", "{}", 409, "rotation_in_progress");
    emu_command_error (emu, units[0], "clear_new", NULL, -1, one, 409, "rotation_in_progress");
    {
      g_autofree char *failover = path_for (emu, "failover");

      emu_call_error (emu, "POST", failover, "{\"total\":1}", 409, "rotation_in_progress");
    }
    l = emu_call_ok (emu, "GET", "/api/v2/keys", NULL, 200);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (l, "resources")), ==,
                      200);
    g = emu_call_ok (emu, "GET", get, NULL, 200);
    m = emu_call_ok (emu, "GET", meta, NULL, 200);
    emu_call_ok (emu, "DELETE", del, NULL, 204);
    emu_call_error (emu, "GET", del, NULL, 404, "not_found");
  }
  assert_keystore (emu, 2999, demo.new_vp);

  set_immediate_everywhere (emu, units, &demo);
  final = emu_wait_rotation (emu, "complete");
  messages = json_object_get_array_member (final, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 3);
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (messages, 0), "message"), ==,
      "Master key rotation started.");
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (messages, 1), "message"), ==,
      "KMS CRK rewrap successful, waiting on cryptounit-mk-setimm.");
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (messages, 2), "message"), ==,
      "Master key rotation successful.");
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (messages, 0), "timestamp"), <=,
      json_object_get_string_member (json_array_get_object_element (messages, 2), "timestamp"));

  /* Every root key and the rewrapped blob unwrap under the new key; the old blob does not. */
  assert_keystore (emu, 2999, demo.new_vp);
  {
    g_autoptr (JsonObject) checked =
        emu_call_ok (emu, "POST", "/v1/grep11/check", new_blob_body, 200);
    g_autoptr (JsonObject) dek = NULL;

    g_assert_cmpstr (json_object_get_string_member (checked, "check_value"), ==, check_value);
    emu_call_error (emu, "POST", "/v1/grep11/check", blob_body, 409, "wrapping_key_mismatch");
    unwrap_body = g_strdup_printf ("{\"ciphertext\":\"%s\"}", dek_ct);
    dek = emu_call_ok (emu, "POST", unwrap_path, unwrap_body, 200);
    g_assert_cmpstr (json_object_get_string_member (dek, "plaintext"), ==, "aGVsbG8gd29ybGQ=");
  }
  {
    g_autoptr (JsonObject) created =
        emu_call_ok (emu, "POST", "/api/v2/keys", "{\"resources\":[{\"name\":\"after\"}]}", 201);
  }

  /* Restart on the same state: nothing lost. */
  {
    g_autofree char *before = emu_query_text (emu, units[1]);
    const char *no_args[] = { NULL };
    g_autoptr (Emu) again = NULL;
    g_autofree char *after = NULL;

    emu_stop (emu);
    again = emu_start (dir, no_args);
    emu_login (again);
    after = emu_query_text (again, units[1]);
    g_assert_cmpstr (after, ==, before);
    assert_keystore (again, 3000, demo.new_vp);
    emu_stop (again);
  }
  EVP_PKEY_free (demo.a1);
  EVP_PKEY_free (demo.a2);
  g_free (demo.new_vp);
}

static void
test_crash_and_resume (TkeTestEmulator *f, gconstpointer data)
{
  const char *dir = f->state_dir;
  const char *init_args[] = {
    "--init", "demo", "--keys", "6000", "--crash-after-keys", "3100", NULL
  };
  const char *fail_args[] = { "--fail-after-keys", "4500", "--fail-setimm-on", "2", NULL };
  const char *no_args[] = { NULL };
  Emu *emu = f->emu = emu_start (dir, init_args);
  g_autoptr (Emu) second = NULL, third = NULL;
  g_auto (GStrv) units = NULL;
  g_autofree char *rotate = NULL, *old_vp = NULL, *setimm = NULL;
  g_autoptr (JsonObject) status = NULL, q = NULL;
  Demo demo = { 0 };
  EVP_PKEY *one[] = { NULL, NULL };

  emu_login (emu);
  units = emu_unit_ids (emu);
  demo.a1 = emu_demo_admin (emu, 1);
  demo.a2 = emu_demo_admin (emu, 2);
  one[0] = demo.a1;
  rotate = path_for (emu, "rotate");
  q = emu_query (emu, units[0]);
  old_vp = g_strdup (json_object_get_string_member (q, "current_mkvp"));
  load_and_commit_everywhere (emu, units, &demo);
  status = emu_call_ok (emu, "POST", rotate, "{}", 202);
  /* It kills itself with SIGKILL mid-batch. */
  g_assert_cmpint (emu_wait_exit (emu), ==, -9);
  g_clear_object (&emu->process);

  second = emu_start (dir, fail_args);
  emu_login (second);
  g_clear_pointer (&status, json_object_unref);
  emu_call_error (second, "GET", "/v1/tke/x/rotation", NULL, 404, "not_found");
  {
    g_autofree char *rotation = path_for (second, "rotation");

    status = emu_call_ok (second, "GET", rotation, NULL, 200);
  }
  g_assert_cmpstr (json_object_get_string_member (status, "state"), ==, "failed");
  /* Whole batches only: the batch that was running when it died is not counted. */
  g_assert_cmpint (json_object_get_int_member (status, "keys_done"), ==, 2000);
  assert_keystore (second, 6000, NULL);

  /* Resume; the injected failure stops it at 4500. */
  g_clear_pointer (&status, json_object_unref);
  status = emu_call_ok (second, "POST", rotate, NULL, 202);
  g_clear_pointer (&status, json_object_unref);
  status = emu_wait_rotation (second, "failed");
  g_assert_cmpint (json_object_get_int_member (status, "keys_done"), ==, 4500);
  g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (status, "error"), "code"), ==,
      "injected_fault");
  assert_keystore (second, 6000, NULL);
  g_clear_pointer (&status, json_object_unref);
  status = emu_call_ok (second, "POST", rotate, NULL, 202);
  g_clear_pointer (&status, json_object_unref);
  status = emu_wait_rotation (second, "rewrapped");
  g_assert_cmpint (json_object_get_int_member (status, "keys_done"), ==, 6000);
  assert_keystore (second, 6000, demo.new_vp);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (status, "messages")), ==,
                    2);

  /* Set immediate fails on unit 2: unit 1 is promoted, the rotation waits. */
  setimm = g_strdup_printf ("{\"new_mkvp\":\"%s\"}", demo.new_vp);
  {
    g_autoptr (JsonObject) r = emu_command_ok (second, units[0], "set_immediate", setimm, one);
    g_autofree char *before = emu_query_text (second, units[1]);

    emu_command_error (second, units[1], "set_immediate", setimm, -1, one, 500, "injected_fault");
    assert_unchanged (second, units[1], before);
  }
  emu_stop (second);

  third = emu_start (dir, no_args);
  emu_login (third);
  {
    char *rest[] = { units[1], units[2], NULL };
    g_autoptr (JsonObject) done = NULL;

    set_immediate_everywhere (third, rest, &demo);
    done = emu_wait_rotation (third, "complete");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (done, "messages")), ==,
                      3);
  }
  assert_keystore (third, 6000, demo.new_vp);
  emu_stop (third);
  EVP_PKEY_free (demo.a1);
  EVP_PKEY_free (demo.a2);
  g_free (demo.new_vp);
}

/* --faults-file (the demo's "Make the Next Rotation Fail"): armed while
 * the emulator runs, consumed by the next rotation only. */
static void
test_faults_file (TkeTestEmulator *f, gconstpointer data)
{
  const char *dir = f->state_dir;
  g_autofree char *faults = g_strconcat (dir, ".faults", NULL);
  const char *args[] = { "--init", "demo", "--keys", "3000", "--faults-file", faults, NULL };
  Emu *emu = f->emu = emu_start (dir, args);
  g_auto (GStrv) units = NULL;
  g_autofree char *rotate = NULL;
  g_autoptr (JsonObject) status = NULL;
  Demo demo = { 0 };

  emu_login (emu);
  units = emu_unit_ids (emu);
  demo.a1 = emu_demo_admin (emu, 1);
  demo.a2 = emu_demo_admin (emu, 2);
  rotate = path_for (emu, "rotate");
  load_and_commit_everywhere (emu, units, &demo);

  g_assert_true (g_file_set_contents (faults, "[faults]\nfail-after-keys=1000\n", -1, NULL));
  status = emu_call_ok (emu, "POST", rotate, "{}", 202);
  g_clear_pointer (&status, json_object_unref);
  status = emu_wait_rotation (emu, "failed");
  g_assert_cmpint (json_object_get_int_member (status, "keys_done"), ==, 1000);
  g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (status, "error"), "code"), ==,
      "injected_fault");
  g_assert_false (g_file_test (faults, G_FILE_TEST_EXISTS));

  /* A file that arms nothing is removed too, and the resumed rotation
   * runs to the end. */
  g_assert_true (g_file_set_contents (faults, "[faults]\nfail-after-keys=soon\n", -1, NULL));
  g_clear_pointer (&status, json_object_unref);
  status = emu_call_ok (emu, "POST", rotate, NULL, 202);
  g_clear_pointer (&status, json_object_unref);
  status = emu_wait_rotation (emu, "rewrapped");
  g_assert_cmpint (json_object_get_int_member (status, "keys_done"), ==, 3000);
  g_assert_false (g_file_test (faults, G_FILE_TEST_EXISTS));
  assert_keystore (emu, 3000, demo.new_vp);

  emu_stop (emu);
  EVP_PKEY_free (demo.a1);
  EVP_PKEY_free (demo.a2);
  g_free (demo.new_vp);
}

/* Remove admin, clear and zeroize, with their signature counts. */
static void
test_admin_commands (TkeTestEmulator *f, gconstpointer data)
{
  const char *dir = f->state_dir;
  const char *args[] = { "--init", "demo", "--keys", "0", NULL };
  Emu *emu = f->emu = emu_start (dir, args);
  g_autoptr (EVP_PKEY) a1 = NULL, a2 = NULL;
  g_autoptr (JsonObject) q = NULL, r = NULL;
  g_auto (GStrv) units = NULL;
  g_autofree char *remove = NULL, *before = NULL;
  guint8 ski[TKE_SKI_SIZE];
  gint64 counter;
  EVP_PKEY *one[2] = { NULL, NULL }, *both[3] = { NULL, NULL, NULL };

  emu_login (emu);
  units = emu_unit_ids (emu);
  a1 = emu_demo_admin (emu, 1);
  a2 = emu_demo_admin (emu, 2);
  one[0] = both[0] = a1;
  both[1] = a2;
  g_assert_true (tke_crypto_ski (a2, ski, NULL));
  {
    g_autofree char *ski_hex = tke_crypto_hex_encode (ski, sizeof ski);

    remove = g_strdup_printf ("{\"ski\":\"%s\"}", ski_hex);
  }
  /* Thresholds 2/1: removing one of 2 admins would leave 1 < 2. */
  before = emu_query_text (emu, units[2]);
  emu_command_error (emu, units[2], "remove_admin", remove, -1, one, 409,
                     "threshold_exceeds_admins");
  emu_command_error (emu, units[2], "remove_admin", remove, -1, NULL, 403, "threshold_not_met");
  emu_command_error (emu, units[2], "set_thresholds",
                     "{\"signature_threshold\":\"1\",\"revocation_threshold\":1}", -1, both, 400,
                     "invalid_field");
  emu_command_error (emu, units[2], "bogus", NULL, -1, one, 400, "invalid_field");
  assert_unchanged (emu, units[2], before);
  r = emu_command_ok (emu, units[2], "set_thresholds",
                      "{\"signature_threshold\":1,\"revocation_threshold\":1}", both);
  g_clear_pointer (&r, json_object_unref);
  r = emu_command_ok (emu, units[2], "remove_admin", remove, one);
  g_clear_pointer (&r, json_object_unref);
  r = emu_command_ok (emu, units[2], "clear_current", NULL, one);
  q = emu_query (emu, units[2]);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (q, "admins")), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Empty");
  g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), ==,
                   "0000000000000000000000000000000000000000000000000000000000000000");
  counter = json_object_get_int_member (q, "counter");
  g_clear_pointer (&r, json_object_unref);
  r = emu_command_ok (emu, units[2], "zeroize", NULL, one);
  g_clear_pointer (&q, json_object_unref);
  q = emu_query (emu, units[2]);
  g_assert_true (json_object_get_boolean_member (q, "imprint_mode"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (q, "admins")), ==, 0);
  g_assert_cmpint (json_object_get_int_member (q, "counter"), ==, counter + 1);
  /* The other units are untouched. */
  g_clear_pointer (&q, json_object_unref);
  q = emu_query (emu, units[0]);
  g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Valid");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (q, "admins")), ==, 2);
  emu_stop (emu);
}

/* --latency-ms delays every answer; --http-500-rate 1 fails every call
 * but the token request, before any change. */
static void
test_faults (TkeTestEmulator *f, gconstpointer data)
{
  const char *dir = f->state_dir;
  const char *args[] = { "--init",          "demo", "--keys", "5", "--latency-ms", "150",
                         "--http-500-rate", "1",    NULL };
  Emu *emu = f->emu = emu_start (dir, args);
  g_autofree char *hsms = path_for (emu, "hsms");
  gint64 start;

  start = g_get_monotonic_time ();
  emu_login (emu);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 150 * 1000);
  emu_call_error (emu, "GET", hsms, NULL, 500, "injected_fault");
  emu_call_error (emu, "POST", "/api/v2/keys", "{\"resources\":[{\"name\":\"x\"}]}", 500,
                  "injected_fault");
  emu_stop (emu);
  {
    const char *plain[] = { NULL };
    g_autoptr (Emu) again = emu_start (dir, plain);
    g_autoptr (JsonObject) list = NULL;

    emu_login (again);
    list = emu_call_ok (again, "GET", "/api/v2/keys", NULL, 200);
    g_assert_cmpint (
        json_object_get_int_member (json_object_get_object_member (list, "metadata"), "totalCount"),
        ==, 5);
    emu_stop (again);
  }
}

int
main (int argc, char **argv)
{
  /* Each test its own emulator, started by the test on f->state_dir;
   * the tear-down stops it, asserting a clean exit, and removes the
   * directory, also after a test that returned early or called
   * g_test_fail().  (A failed g_assert aborts the process: the emulator
   * dies with it, PR_SET_PDEATHSIG.) */
  g_test_init (&argc, &argv, NULL);
  tke_test_add_with_state_dir ("/emulator/token", test_token);
  tke_test_add_with_state_dir ("/emulator/imprint-initialization", test_imprint_initialization);
  tke_test_add_with_state_dir ("/emulator/malformed", test_malformed);
  tke_test_add_with_state_dir ("/emulator/rotation", test_rotation);
  tke_test_add_with_state_dir ("/emulator/crash-and-resume", test_crash_and_resume);
  tke_test_add_with_state_dir ("/emulator/faults", test_faults);
  tke_test_add_with_state_dir ("/emulator/admin-commands", test_admin_commands);
  tke_test_add_with_state_dir ("/emulator/faults-file", test_faults_file);
  tke_test_add_with_state_dir ("/emulator/weak-keys", test_weak_keys);
  return g_test_run ();
}
