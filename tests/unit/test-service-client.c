/* test-service-client.c: the pure parts of src/libtke/tke-service-client.c
 * (command bytes, JSON of the service's answers, error mapping), the file
 * signer and the keyring credentials (libsecret's file backend)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <glib/gstdio.h>

#include <tke.h>

#include "tke-service-client-private.h"
#include "tke-test-util.h"

/* libsecret 0.20.5's file backend leaks a string of GIO's (an etag) on
 * every store; that is theirs, not libtke's.  LeakSanitizer asks these
 * hooks (unused in builds without it); the slow unwinder sees through
 * GLib's frames to the libsecret call the suppression names. */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions (void);
const char *
__lsan_default_suppressions (void)
{
  return "leak:secret_password_storev_binary_sync\n";
}

#define VP_A "a3f4000000000000000000000000000000000000000000000000000000000001"
#define SKI_1 "9c1e000000000000000000000000000000000000000000000000000000000002"

static JsonObject *
parse_object (const char *text)
{
  g_autoptr (JsonNode) node = json_from_string (text, NULL);

  g_assert_nonnull (node);
  return json_node_dup_object (node);
}

static void
test_command_bytes (void)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (JsonObject) object = NULL;
  g_autofree char *text = NULL;
  JsonObject *args;

  bytes = tke_service_client_build_command ("inst-1", "hsm-\"2\"", "add_admin", 7, 1764627000,
                                            "{\"name\": \"Alice\", \"public_key\": \"04ab\"}");
  text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  /* Compact and in the documented member order. */
  g_assert_cmpstr (text, ==,
                   "{\"version\":1,\"command\":\"add_admin\",\"instance\":\"inst-1\","
                   "\"hsm_id\":\"hsm-\\\"2\\\"\",\"counter\":7,\"expires\":1764627000,"
                   "\"args\":{\"name\":\"Alice\",\"public_key\":\"04ab\"}}");
  object = parse_object (text);
  g_assert_cmpint (json_object_get_int_member (object, "counter"), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (object, "hsm_id"), ==, "hsm-\"2\"");
  args = json_object_get_object_member (object, "args");
  g_assert_cmpstr (json_object_get_string_member (args, "name"), ==, "Alice");

  /* The same input always gives the same bytes. */
  {
    g_autoptr (GBytes) again =
        tke_service_client_build_command ("inst-1", "hsm-\"2\"", "add_admin", 7, 1764627000,
                                          "{\"name\": \"Alice\", \"public_key\": \"04ab\"}");
    g_assert_true (g_bytes_equal (bytes, again));
  }
}

static void
test_key_part_aad (void)
{
  g_autoptr (TkeCryptoUnit) unit =
      tke_crypto_unit_new ("inst", "5a1f-77", 1, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL, "[x]");
  g_autoptr (GBytes) aad = tke_service_client_key_part_aad (unit, 2, 3);

  g_assert_cmpmem (g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                   "tke-keypart-v1|5a1f-77|new|2|3", 30);
}

static void
test_parse_unit (void)
{
  g_autoptr (JsonObject) hsm = parse_object (
      "{\"hsm_id\": \"5a1f\", \"crypto_unit_num\": 3, \"type\": \"RECOVERY\","
      " \"location\": \"[us-east].[AZ1-CS1].[03].[07]\", \"state\": \"ACTIVE\", \"version\": 1,"
      " \"serial_number\": \"93AABEV3\"}");
  g_autoptr (JsonObject) query = parse_object (
      "{\"hsm_id\": \"5a1f\", \"imprint_mode\": false, \"signature_threshold\": 2,"
      " \"revocation_threshold\": 1, \"admins\": [{\"name\": \"Admin One\", \"ski\": \"" SKI_1
      "\"}], \"new_mk_status\": \"Full Committed\", \"new_mkvp\": \"" VP_A "\","
      " \"current_mk_status\": \"Valid\", \"current_mkvp\": \"" VP_A "\", \"counter\": 7,"
      " \"importer_key\": null}");
  g_autoptr (JsonObject) broken = parse_object (
      "{\"imprint_mode\": false, \"signature_threshold\": 2, \"revocation_threshold\": 1,"
      " \"admins\": [], \"new_mk_status\": \"Partially Full\", \"new_mkvp\": \"" VP_A "\","
      " \"current_mk_status\": \"Valid\", \"current_mkvp\": \"" VP_A "\", \"counter\": 7}");
  g_autoptr (JsonObject) bad_hsm = parse_object ("{\"hsm_id\": 5}");
  g_autoptr (TkeCryptoUnit) unit = NULL;
  g_autoptr (TkeAdministrator) admin = NULL;
  g_autoptr (GError) error = NULL;
  gint64 counter = 0;

  unit = _tke_service_parse_hsm ("inst", hsm, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tke_crypto_unit_get_number (unit), ==, 3);
  g_assert_cmpint (tke_crypto_unit_get_unit_type (unit), ==, TKE_CRYPTO_UNIT_TYPE_RECOVERY);
  g_assert_cmpstr (tke_crypto_unit_get_location (unit), ==, "[us-east].[AZ1-CS1].[03].[07]");
  g_assert_cmpstr (tke_crypto_unit_get_instance_id (unit), ==, "inst");

  g_assert_true (_tke_service_apply_query (unit, query, &counter, &error));
  g_assert_no_error (error);
  g_assert_cmpint (counter, ==, 7);
  g_assert_true (tke_crypto_unit_get_reachable (unit));
  g_assert_false (tke_crypto_unit_get_imprint_mode (unit));
  g_assert_cmpuint (tke_crypto_unit_get_signature_threshold (unit), ==, 2);
  g_assert_cmpuint (tke_crypto_unit_get_revocation_threshold (unit), ==, 1);
  g_assert_cmpint (tke_crypto_unit_get_new_register_state (unit), ==,
                   TKE_NEW_REGISTER_FULL_COMMITTED);
  g_assert_cmpint (tke_crypto_unit_get_current_register_state (unit), ==,
                   TKE_CURRENT_REGISTER_VALID);
  g_assert_cmpstr (tke_crypto_unit_get_current_register_vp (unit), ==, VP_A);
  g_assert_cmpuint (g_list_model_get_n_items (tke_crypto_unit_get_administrators (unit)), ==, 1);
  admin = g_list_model_get_item (tke_crypto_unit_get_administrators (unit), 0);
  g_assert_cmpstr (tke_administrator_get_name (admin), ==, "Admin One");
  g_assert_cmpstr (tke_administrator_get_ski (admin), ==, SKI_1);

  /* "Partially Full" is not a state: refused, and the unit keeps its values. */
  g_assert_false (_tke_service_apply_query (unit, broken, &counter, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "new_mk_status"));
  g_clear_error (&error);
  g_assert_cmpint (tke_crypto_unit_get_new_register_state (unit), ==,
                   TKE_NEW_REGISTER_FULL_COMMITTED);

  g_assert_null (_tke_service_parse_hsm ("inst", bad_hsm, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
}

static void
test_parse_rotation (void)
{
  g_autoptr (JsonObject) object = parse_object (
      "{\"state\": \"rewrapped\", \"keys_total\": 3000, \"keys_done\": 3000,"
      " \"from_mkvp\": \"" VP_A "\", \"to_mkvp\": \"" VP_A "\","
      " \"started\": \"2026-11-23T14:31:07.123Z\","
      " \"messages\": [{\"timestamp\": \"2026-11-23T14:31:07.123Z\", \"message\": "
      "\"Master key rotation started.\"},"
      " {\"timestamp\": \"2026-11-23T14:31:09.000Z\", \"message\": "
      "\"KMS CRK rewrap successful, waiting on cryptounit-mk-setimm.\"}],"
      " \"error\": {\"code\": \"interrupted\", \"message\": \"The service was stopped.\"}}");
  g_autoptr (JsonObject) none = parse_object (
      "{\"state\": \"none\", \"keys_total\": 0, \"keys_done\": 0, \"from_mkvp\": null,"
      " \"to_mkvp\": null, \"started\": null, \"messages\": [], \"error\": null}");
  g_autoptr (JsonObject) unknown = parse_object ("{\"state\": \"exploded\"}");
  g_autoptr (TkeRotationStatus) status = NULL;
  g_autoptr (GError) error = NULL;
  GDateTime *when = NULL;

  status = _tke_service_parse_rotation_status (object, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tke_rotation_status_get_state (status), ==, TKE_ROTATION_STATE_REWRAPPED);
  g_assert_cmpuint (tke_rotation_status_get_keys_done (status), ==, 3000);
  g_assert_cmpuint (tke_rotation_status_get_keys_total (status), ==, 3000);
  g_assert_cmpstr (tke_rotation_status_get_target_vp (status), ==, VP_A);
  g_assert_cmpuint (tke_rotation_status_get_n_messages (status), ==, 2);
  g_assert_cmpstr (tke_rotation_status_get_message (status, 0, &when), ==,
                   TKE_ROTATION_MESSAGE_STARTED);
  g_assert_nonnull (when);
  g_assert_cmpint (g_date_time_get_second (when), ==, 7);
  g_assert_cmpstr (tke_rotation_status_get_message (status, 1, NULL), ==,
                   TKE_ROTATION_MESSAGE_REWRAPPED);
  g_assert_cmpstr (tke_rotation_status_get_error_message (status), ==, "The service was stopped.");
  g_clear_object (&status);

  status = _tke_service_parse_rotation_status (none, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tke_rotation_status_get_state (status), ==, TKE_ROTATION_STATE_NONE);
  g_assert_null (tke_rotation_status_get_target_vp (status));
  g_assert_cmpuint (tke_rotation_status_get_n_messages (status), ==, 0);
  g_clear_object (&status);

  g_assert_null (_tke_service_parse_rotation_status (unknown, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
}

static void
test_parse_kms_key (void)
{
  g_autoptr (JsonObject) object = parse_object (
      "{\"id\": \"0f6f\", \"type\": \"application/vnd.ibm.kms.key+json\", \"name\": \"root-17\","
      " \"state\": 1, \"creationDate\": \"2026-11-23T14:31:07.123Z\", \"extractable\": false,"
      " \"wkid\": \"00112233445566778899aabbccddeeff\"}");
  g_autoptr (TkeKmsKey) key = NULL;
  g_autoptr (TkeKmsKey) copy = NULL;
  g_autoptr (GError) error = NULL;

  key = _tke_service_parse_kms_key (object, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (key->id, ==, "0f6f");
  g_assert_cmpstr (key->name, ==, "root-17");
  g_assert_cmpint (key->state, ==, 1);
  g_assert_false (key->extractable);
  copy = tke_kms_key_copy (key);
  g_assert_cmpstr (copy->wkid, ==, "00112233445566778899aabbccddeeff");
}

static GError *
error_for (long status, const char *body)
{
  g_autoptr (JsonNode) node = body ? json_from_string (body, NULL) : NULL;
  GError *error = NULL;

  _tke_service_set_error_from_response (&error, status, node);
  g_assert_nonnull (error);
  return error;
}

static void
test_error_mapping (void)
{
  struct
  {
    long status;
    const char *code;
    gint expected;
  } cases[] = {
    { 401, "unauthorized", TKE_ERROR_UNAUTHORIZED },
    { 403, "unknown_signer", TKE_ERROR_NOT_FOUND },
    { 403, "bad_signature", TKE_ERROR_INTEGRITY },
    { 403, "threshold_not_met", TKE_ERROR_THRESHOLD_NOT_MET },
    { 409, "replay", TKE_ERROR_REPLAY },
    { 409, "rotation_in_progress", TKE_ERROR_ROTATION_IN_PROGRESS },
    { 409, "wrapping_key_mismatch", TKE_ERROR_WRAPPING_KEY_MISMATCH },
    { 409, "mk_not_initialized", TKE_ERROR_MK_NOT_INITIALIZED },
    { 409, "precheck_thresholds", TKE_ERROR_PRECHECK_FAILED },
    { 400, "invalid_key_part", TKE_ERROR_INTEGRITY },
    { 400, "malformed_json", TKE_ERROR_INVALID_DATA },
    { 404, "not_found", TKE_ERROR_NOT_FOUND },
    { 409, "register_state", TKE_ERROR_SERVICE },
    { 500, "injected_fault", TKE_ERROR_SERVICE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *body = g_strdup_printf (
          "{\"error\": {\"code\": \"%s\", \"status\": %ld, \"message\": \"Service says %s.\"}}",
          cases[i].code, cases[i].status, cases[i].code);
      g_autoptr (GError) error = error_for (cases[i].status, body);
      g_autofree char *said = g_strdup_printf ("Service says %s.", cases[i].code);

      g_assert_error (error, TKE_ERROR, cases[i].expected);
      g_assert_true (g_str_has_prefix (error->message, said));
    }

  {
    g_autoptr (GError) error = error_for (401, "{\"error\": {\"code\": \"token_expired\","
                                               " \"message\": \"The bearer token expired.\"}}");
    g_assert_error (error, TKE_ERROR, TKE_ERROR_AUTH_EXPIRED);
    /* Ours, then the plug-in's words (issue 17). */
    g_assert_cmpstr (error->message, ==,
                     "The token has expired. Log in again.\nStatus code: 401\nMessage: "
                     "Unauthorized\nYour access token is invalid, expired, or does not have the "
                     "necessary permissions to access this instance.");
  }
  {
    g_autoptr (GError) error = error_for (403, "{\"error\": {\"code\": \"unknown_signer\","
                                               " \"message\": \"Who?\"}}");
    g_assert_null (strstr (error->message, "Status code"));
  }
  {
    g_autoptr (GError) error = error_for (409, "{\"error\": {\"code\": \"replay\","
                                               " \"message\": \"Stale.\"}}");
    g_assert_nonnull (strstr (error->message, "Refresh the crypto units"));
  }
  {
    g_autoptr (GError) error = error_for (502, NULL);
    g_assert_error (error, TKE_ERROR, TKE_ERROR_SERVICE);
    g_assert_nonnull (strstr (error->message, "502"));
  }
  {
    g_autoptr (GError) error = error_for (401, "[1, 2]");
    g_assert_error (error, TKE_ERROR, TKE_ERROR_UNAUTHORIZED);
  }
}

static void
test_token_claims (void)
{
  /* header {"alg":"HS256","typ":"JWT"}, payload {"iat":1,"exp":1795530667,"instance":"i-1"} */
  g_autofree char *payload =
      g_base64_encode ((const guchar *) "{\"iat\":1,\"exp\":1795530667,\"instance\":\"i-1\"}", 43);
  g_autofree char *token = NULL;
  g_autofree char *instance = NULL;
  g_autoptr (TkeServiceClient) client = tke_service_client_new ("https://127.0.0.1:1/", NULL);
  g_autoptr (TkeSecret) secret = NULL;
  g_autoptr (TkeSecret) copy = NULL;
  gint64 exp = 0;

  /* base64url without padding, as JWTs are. */
  g_strdelimit (payload, "=", '\0');
  g_strdelimit (payload, "+", '-');
  g_strdelimit (payload, "/", '_');
  token = g_strconcat ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", payload, ".c2ln", NULL);
  g_assert_true (_tke_service_read_token_claims (token, strlen (token), &instance, &exp));
  g_assert_cmpstr (instance, ==, "i-1");
  g_assert_cmpint (exp, ==, 1795530667);

  g_clear_pointer (&instance, g_free);
  g_assert_false (_tke_service_read_token_claims ("not-a-jwt", 9, &instance, &exp));
  g_assert_null (instance);

  g_assert_cmpstr (tke_service_client_get_endpoint (client), ==, "https://127.0.0.1:1");
  secret = tke_secret_new_from_data ((const guint8 *) token, strlen (token));
  tke_service_client_set_token (client, secret);
  g_assert_cmpstr (tke_service_client_get_instance_id (client), ==, "i-1");
  g_assert_cmpint (tke_service_client_get_token_expiration (client), ==, 1795530667);
  copy = tke_service_client_dup_token (client);
  g_assert_true (tke_secret_equal (copy, secret));
}

static void
test_file_signer (void)
{
  g_autofree char *dir = g_dir_make_tmp ("tke-signer-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "1.sigkey", NULL);
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (NULL);
  g_autoptr (GBytes) point = tke_crypto_ec_public_point (key, NULL);
  g_autoptr (TkeSecret) password = tke_secret_new_from_data ((const guint8 *) "pass word", 9);
  g_autoptr (TkeSecret) wrong = tke_secret_new_from_data ((const guint8 *) "pass wort", 9);
  g_autoptr (TkeSignatureKeyFile) file = NULL;
  g_autoptr (TkeFileSigner) signer = NULL;
  g_autoptr (TkeFileSigner) bad = NULL;
  g_autoptr (GBytes) data = g_bytes_new_static ("command bytes", 13);
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) public_key = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (tke_signature_key_file_create (path, "Alice", key, password,
                                                TKE_KEY_FILE_KDF_SCRYPT, &error));
  file = tke_signature_key_file_load (path, &error);
  g_assert_no_error (error);
  signer = tke_file_signer_new (file, password);
  g_assert_cmpstr (tke_signer_get_name (TKE_SIGNER (signer)), ==, "Alice");
  g_assert_cmpstr (tke_signer_get_ski (TKE_SIGNER (signer)), ==,
                   tke_signature_key_file_get_ski (file));

  tke_signer_sign_async (TKE_SIGNER (signer), data, NULL, tke_test_async_done, &result);
  tke_test_await (&result, 0);
  signature = tke_signer_sign_finish (TKE_SIGNER (signer), result, &error);
  g_assert_no_error (error);
  g_assert_true (tke_crypto_verify (key, g_bytes_get_data (data, NULL), g_bytes_get_size (data),
                                    g_bytes_get_data (signature, NULL),
                                    g_bytes_get_size (signature), &error));
  g_clear_object (&result);

  tke_signer_get_public_key_async (TKE_SIGNER (signer), NULL, tke_test_async_done, &result);
  tke_test_await (&result, 0);
  public_key = tke_signer_get_public_key_finish (TKE_SIGNER (signer), result, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (public_key, point));
  g_clear_object (&result);

  bad = tke_file_signer_new (file, wrong);
  tke_signer_sign_async (TKE_SIGNER (bad), data, NULL, tke_test_async_done, &result);
  tke_test_await (&result, 0);
  g_assert_null (tke_signer_sign_finish (TKE_SIGNER (bad), result, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD);
  g_assert_cmpstr (error->message, ==, "Invalid password.");

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_credentials (void)
{
  g_autoptr (TkeSecret) key = tke_secret_new_from_data ((const guint8 *) "api-key-1", 9);
  g_autoptr (TkeSecret) token = tke_secret_new_from_data ((const guint8 *) "tok", 3);
  g_autoptr (TkeSecret) found = NULL;
  g_autoptr (GError) error = NULL;
  const char *endpoint = "https://127.0.0.1:9";

  found = tke_credentials_lookup (TKE_CREDENTIAL_API_KEY, endpoint, NULL, &error);
  g_assert_null (found);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (tke_credentials_store (TKE_CREDENTIAL_API_KEY, endpoint, key, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (tke_credentials_store (TKE_CREDENTIAL_TOKEN, endpoint, token, NULL, &error));
  found = tke_credentials_lookup (TKE_CREDENTIAL_API_KEY, endpoint, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tke_secret_equal (found, key));
  g_clear_pointer (&found, tke_secret_unref);
  found = tke_credentials_lookup (TKE_CREDENTIAL_TOKEN, endpoint, NULL, &error);
  g_assert_true (tke_secret_equal (found, token));
  g_clear_pointer (&found, tke_secret_unref);

  /* Another endpoint has its own. */
  found = tke_credentials_lookup (TKE_CREDENTIAL_API_KEY, "https://127.0.0.1:10", NULL, &error);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (tke_credentials_clear (TKE_CREDENTIAL_API_KEY, endpoint, NULL, &error));
  found = tke_credentials_lookup (TKE_CREDENTIAL_API_KEY, endpoint, NULL, &error);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND);
}

static void
test_cancelled_before_start (void)
{
  g_autoptr (TkeServiceClient) client = tke_service_client_new ("https://127.0.0.1:9", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeRotationStatus) status = NULL;

  tke_service_client_set_instance_id (client, "i");
  g_cancellable_cancel (cancellable);
  tke_service_client_get_rotation_status_async (client, cancellable, tke_test_async_done, &result);
  tke_test_await (&result, 0);
  status = tke_service_client_get_rotation_status_finish (client, result, &error);
  g_assert_null (status);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Issue 19 (fuzzing the service client's JSON): members of the wrong kind
 * in an answer are refused or ignored, never a json-glib critical (fatal
 * here). */
static void
test_hostile_answers (void)
{
  g_autoptr (GError) error = NULL;

  error = error_for (400, "{\"error\": {\"code\": [], \"message\": {\"a\": 1}}}");
  g_assert_error (error, TKE_ERROR, TKE_ERROR_SERVICE);
  g_clear_error (&error);
  error = error_for (409, "{\"error\": {\"code\": \"replay\", \"message\": [\"x\"]}}");
  g_assert_error (error, TKE_ERROR, TKE_ERROR_REPLAY);
  g_clear_error (&error);

  {
    g_autoptr (JsonObject) object =
        parse_object ("{\"id\": \"k\", \"name\": \"n\", \"state\": 1, \"creationDate\": [], "
                      "\"extractable\": {}, \"wkid\": 7}");
    g_autoptr (TkeKmsKey) key = _tke_service_parse_kms_key (object, &error);

    g_assert_no_error (error);
    g_assert_null (key->creation_date);
    g_assert_false (key->extractable);
    g_assert_null (key->wkid);
  }
  {
    g_autoptr (JsonObject) object = parse_object (
        "{\"state\": \"failed\", \"error\": {\"message\": [], \"code\": {}}, \"messages\": null}");
    g_autoptr (TkeRotationStatus) status = _tke_service_parse_rotation_status (object, &error);

    g_assert_no_error (error);
    g_assert_nonnull (status);
  }
  {
    g_autoptr (JsonObject) object =
        parse_object ("{\"metadata\": {\"totalCount\": [5]}, \"resources\": []}");
    g_autoptr (GPtrArray) keys = NULL;
    guint64 total = 99;

    keys = _tke_service_parse_key_collection (object, &total, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (total, ==, 0);
  }
  {
    g_autoptr (JsonObject) object =
        parse_object ("{\"metadata\": {\"totalCount\": -4}, \"resources\": []}");
    g_autoptr (GPtrArray) keys = NULL;
    guint64 total = 99;

    keys = _tke_service_parse_key_collection (object, &total, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (total, ==, 0);
  }
  {
    /* Claims of the wrong kind in a token. */
    g_autofree char *payload =
        g_base64_encode ((const guint8 *) "{\"instance\":[],\"exp\":{}}", 24);
    g_autofree char *token = g_strconcat ("e30.", payload, ".c2ln", NULL);
    g_autofree char *instance = NULL;
    gint64 exp = -1;

    g_strdelimit (token, "=", '\0');
    g_assert_true (_tke_service_read_token_claims (token, strlen (token), &instance, &exp));
    g_assert_null (instance);
    g_assert_cmpint (exp, ==, 0);
  }
}

int
main (int argc, char **argv)
{
  g_autofree char *keyring_dir = g_dir_make_tmp ("tke-keyring-XXXXXX", NULL);
  g_autofree char *keyring = g_build_filename (keyring_dir, "test.keyring", NULL);
  int status;

  /* libsecret's file backend: no D-Bus, no daemon; never the user's keyring. */
  g_setenv ("SECRET_BACKEND", "file", TRUE);
  g_setenv ("SECRET_FILE_TEST_PATH", keyring, TRUE);
  g_setenv ("SECRET_FILE_TEST_PASSWORD", "test", TRUE);

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/service-client/command-bytes", test_command_bytes);
  g_test_add_func ("/service-client/key-part-aad", test_key_part_aad);
  g_test_add_func ("/service-client/parse-unit", test_parse_unit);
  g_test_add_func ("/service-client/parse-rotation", test_parse_rotation);
  g_test_add_func ("/service-client/parse-kms-key", test_parse_kms_key);
  g_test_add_func ("/service-client/error-mapping", test_error_mapping);
  g_test_add_func ("/service-client/token-claims", test_token_claims);
  g_test_add_func ("/service-client/hostile-answers", test_hostile_answers);
  g_test_add_func ("/service-client/cancelled", test_cancelled_before_start);
  g_test_add_func ("/file-signer/sign", test_file_signer);
  g_test_add_func ("/credentials/file-backend", test_credentials);

  status = g_test_run ();
  g_unlink (keyring);
  g_rmdir (keyring_dir);
  return status;
}
