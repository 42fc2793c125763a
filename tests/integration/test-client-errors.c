/* test-client-errors.c: the service's error codes that libtke maps to
 * their own TkeError (issue 13): each one provoked on a real tke-emulator
 * and read through libtke
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * repeated_key_part and weak_key through a load (the sealed parts built
 * here, below the key part sources that refuse a repeat themselves),
 * command_expired through a command signed with an end of life in the
 * past, key_state through a KMS unwrap of a suspended key, and
 * malformed_request through a path libsoup refuses.
 */

#include "config.h"

#include <string.h>

#include "client-fixture.h"
#include "tke-service-client-private.h"

typedef struct
{
  Fixture f;
  TkeServiceInstance *instance;
  TkeCryptoUnit *unit;
  GPtrArray *signers;
} Errors;

static void
errors_start (Errors *e)
{
  const char *const args[] = { "--init", "demo", "--keys", "3", NULL };
  g_autofree char *pw1 = NULL;

  fixture_start (&e->f, args);
  install_demo_sigkeys (&e->f);
  pw1 = demo_password (&e->f, "admin1.sigkey");
  e->signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (e->signers, file_signer (&e->f, 1, pw1));
  e->instance = list_units (&e->f);
  e->unit = g_list_model_get_item (tke_service_instance_get_units (e->instance), 0);
}

static void
errors_stop (Errors *e)
{
  g_clear_object (&e->unit);
  g_clear_object (&e->instance);
  g_clear_pointer (&e->signers, g_ptr_array_unref);
  fixture_stop (&e->f);
}

/* Loads @n values, sealed for the unit's fresh importer key; returns the
 * error the load ended with (the load must fail). */
static GError *
load_values (Errors *e, TkeSecret *const *values, guint n)
{
  g_autoptr (GPtrArray) sealed = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GPtrArray) signers = g_ptr_array_new ();
  g_autoptr (GAsyncResult) res = NULL, loaded = NULL;
  g_autoptr (GBytes) importer = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autofree char *vp = NULL;
  GError *error = NULL;

  tke_service_client_generate_importer_key_async (e->f.client, e->unit, e->signers, NULL, on_done,
                                                  &res);
  wait_for (&res);
  importer = tke_service_client_generate_importer_key_finish (e->f.client, res, &error);
  g_assert_no_error (error);
  key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (importer, NULL),
                                             g_bytes_get_size (importer), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GBytes) aad = tke_service_client_key_part_aad (e->unit, i + 1, n);
      GBytes *part = tke_crypto_seal (key, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                                      values[i], &error);

      g_assert_no_error (error);
      g_ptr_array_add (sealed, part);
    }
  /* One signature for the importer key's use and one per part. */
  for (guint i = 0; i <= n; i++)
    g_ptr_array_add (signers, e->signers->pdata[0]);
  tke_service_client_load_async (e->f.client, e->unit, sealed, signers, NULL, on_done, &loaded);
  wait_for (&loaded);
  vp = tke_service_client_load_finish (e->f.client, loaded, &error);
  g_assert_null (vp);
  g_assert_nonnull (error);
  return error;
}

static void
test_load_errors (void)
{
  Errors e = { 0 };
  g_autoptr (TkeSecret) a = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) b = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) ab = tke_crypto_xor (a, b, NULL);
  g_autoptr (GError) repeated = NULL, weak = NULL;
  g_autoptr (JsonObject) q = NULL;

  errors_start (&e);
  {
    TkeSecret *values[] = { a, b, a };

    repeated = load_values (&e, values, 3);
  }
  g_assert_error (repeated, TKE_ERROR, TKE_ERROR_REPEATED_KEY_PART);
  {
    TkeSecret *values[] = { a, b, ab };

    weak = load_values (&e, values, 3);
  }
  g_assert_error (weak, TKE_ERROR, TKE_ERROR_WEAK_KEY);
  g_assert_nonnull (strstr (weak->message, "all-zero"));
  /* Refused: the new register is still empty. */
  q = emu_query (e.f.emu, tke_crypto_unit_get_hsm_id (e.unit));
  g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Empty");
  errors_stop (&e);
}

static void
test_command_expired (void)
{
  Errors e = { 0 };
  g_autoptr (JsonObject) q = NULL, result = NULL;
  g_autoptr (GBytes) command = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  gint64 past;

  errors_start (&e);
  q = emu_query (e.f.emu, tke_crypto_unit_get_hsm_id (e.unit));
  past = g_get_real_time () / G_USEC_PER_SEC - 60;
  command = tke_service_client_build_command (
      e.f.emu->instance, tke_crypto_unit_get_hsm_id (e.unit), "clear_new",
      json_object_get_int_member (q, "counter"), past, "{}");
  tke_service_client_send_command_async (e.f.client, e.unit, command, e.signers, NULL, on_done,
                                         &res);
  wait_for (&res);
  result = tke_service_client_send_command_finish (e.f.client, res, &error);
  g_assert_null (result);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_COMMAND_EXPIRED);
  g_assert_nonnull (strstr (error->message, "expired"));
  errors_stop (&e);
}

/* One request through libtke's transport, with the token and the
 * instance header; %TRUE for a 2xx answer. */
static gboolean
request (Errors *e, const char *method, const char *path, const char *body, GError **error)
{
  g_autoptr (GBytes) bytes = body != NULL ? g_bytes_new_static (body, strlen (body)) : NULL;
  g_autoptr (JsonNode) answer = NULL;
  long status = 0;

  answer = _tke_service_client_request (
      e->f.client, method, path, TKE_REQUEST_AUTHORIZED | TKE_REQUEST_INSTANCE_HEADER,
      body != NULL ? "application/json" : NULL, bytes, NULL, &status, error);
  return error == NULL || *error == NULL;
}

static void
test_key_state (void)
{
  Errors e = { 0 };
  g_autoptr (GPtrArray) keys = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *disable = NULL, *wrap = NULL;
  guint64 total = 0;
  const char *id;

  errors_start (&e);
  tke_service_client_kms_list_keys_async (e.f.client, 0, 1, NULL, on_done, &res);
  wait_for (&res);
  keys = tke_service_client_kms_list_keys_finish (e.f.client, res, &total, &error);
  g_assert_no_error (error);
  id = ((TkeKmsKey *) keys->pdata[0])->id;
  disable = g_strdup_printf ("/api/v2/keys/%s?action=disable", id);
  wrap = g_strdup_printf ("/api/v2/keys/%s?action=wrap", id);
  g_assert_true (request (&e, "POST", wrap, "{}", &error));
  g_assert_no_error (error);
  g_assert_true (request (&e, "POST", disable, "{}", &error));
  g_assert_no_error (error);
  g_assert_false (request (&e, "POST", wrap, "{}", &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_KEY_STATE);
  g_assert_nonnull (strstr (error->message, "suspended"));
  g_clear_error (&error);
  /* Disabled twice: the state again. */
  g_assert_false (request (&e, "POST", disable, "{}", &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_KEY_STATE);
  errors_stop (&e);
}

static void
test_malformed_request (void)
{
  Errors e = { 0 };
  g_autoptr (GError) error = NULL;

  errors_start (&e);
  g_assert_false (request (&e, "GET", "/api/v2/keys/a%00b", NULL, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "malformed"));
  errors_stop (&e);
}

void
client_add_error_tests (void)
{
  g_test_add_func ("/client/errors/load", test_load_errors);
  g_test_add_func ("/client/errors/command-expired", test_command_expired);
  g_test_add_func ("/client/errors/key-state", test_key_state);
  g_test_add_func ("/client/errors/malformed-request", test_malformed_request);
}
