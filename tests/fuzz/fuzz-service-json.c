/* fuzz-service-json.c: libtke's reading of the service's JSON answers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The service (or whoever answers at its address) is not trusted.  The
 * first byte picks the parser of tke-service-client-private.h (the pure
 * parts of the client, exported for the tests); the rest is the body, as
 * the client parses it (json-glib).  Oracles: a refusal is a TKE_ERROR
 * with a message; a refused query leaves the crypto unit exactly as it was
 * (the GUI shows what the last good answer said); error answers always
 * give a message.
 */

#include <string.h>

#include <tke.h>

#include "fuzz-common.h"
#include "tke-service-client-private.h"

#define FUZZ_HSM                                                                                   \
  "{\"hsm_id\": \"5a1f\", \"crypto_unit_num\": 3, \"type\": \"RECOVERY\", \"location\": "          \
  "\"[us-east].[AZ1-CS1].[03].[07]\", \"state\": \"ACTIVE\", \"version\": 1, \"serial_number\": "  \
  "\"93AABEV3\"}"

static void
check_error (gboolean ok, GError *error, const char *what)
{
  if (ok != (error == NULL))
    fuzz_fail ("%s: the result and the error disagree", what);
  if (error != NULL && (error->domain != TKE_ERROR || error->message[0] == '\0' ||
                        !g_utf8_validate (error->message, -1, NULL)))
    fuzz_fail ("%s: an error that is not a TKE_ERROR with a message", what);
}

/* What a unit shows, as one string. */
static char *
describe_unit (TkeCryptoUnit *unit)
{
  GListModel *admins = tke_crypto_unit_get_administrators (unit);
  GString *s = g_string_new (NULL);

  g_string_append_printf (
      s, "%s|%s|%u|%d|%s|%d|%d|%u|%u|%d|%s|%d|%s", tke_crypto_unit_get_instance_id (unit),
      tke_crypto_unit_get_hsm_id (unit), tke_crypto_unit_get_number (unit),
      tke_crypto_unit_get_unit_type (unit), tke_crypto_unit_get_location (unit),
      tke_crypto_unit_get_reachable (unit), tke_crypto_unit_get_imprint_mode (unit),
      tke_crypto_unit_get_signature_threshold (unit),
      tke_crypto_unit_get_revocation_threshold (unit),
      tke_crypto_unit_get_new_register_state (unit), tke_crypto_unit_get_new_register_vp (unit),
      tke_crypto_unit_get_current_register_state (unit),
      tke_crypto_unit_get_current_register_vp (unit));
  for (guint i = 0; i < g_list_model_get_n_items (admins); i++)
    {
      g_autoptr (TkeAdministrator) admin = g_list_model_get_item (admins, i);

      g_string_append_printf (s, "|%s=%s", tke_administrator_get_name (admin),
                              tke_administrator_get_ski (admin));
    }
  return g_string_free (s, FALSE);
}

static JsonObject *
parse_object (const char *text, gssize size)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, text, size, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

static void
hsm (JsonObject *object)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCryptoUnit) unit = _tke_service_parse_hsm ("fuzz-instance", object, &error);

  check_error (unit != NULL, error, "hsm");
  if (unit != NULL)
    g_free (describe_unit (unit));
}

static void
query (JsonObject *object)
{
  g_autoptr (JsonObject) hsm_object = parse_object (FUZZ_HSM, -1);
  g_autoptr (TkeCryptoUnit) unit = _tke_service_parse_hsm ("fuzz-instance", hsm_object, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gint64 counter = -1;
  gboolean ok;

  if (unit == NULL)
    fuzz_fail ("the harness's own hsm entry does not parse");
  before = describe_unit (unit);
  ok = _tke_service_apply_query (unit, object, &counter, &error);
  check_error (ok, error, "query");
  after = describe_unit (unit);
  if (!ok && strcmp (before, after) != 0)
    fuzz_fail ("a refused query changed the unit:\n  %s\n  %s", before, after);
}

static void
rotation_status (JsonObject *object)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeRotationStatus) status = _tke_service_parse_rotation_status (object, &error);

  check_error (status != NULL, error, "rotation status");
}

static void
kms_key (JsonObject *object)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeKmsKey) key = _tke_service_parse_kms_key (object, &error);

  check_error (key != NULL, error, "KMS key");
  if (key != NULL && (key->id == NULL || !g_utf8_validate (key->id, -1, NULL)))
    fuzz_fail ("a KMS key without an id");
}

static void
error_response (const uint8_t *data, size_t size)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  long status;
  JsonNode *body = NULL;

  if (size < 2)
    return;
  status = (long) (data[0] << 8 | data[1]);
  if (json_parser_load_from_data (parser, (const char *) data + 2, (gssize) size - 2, NULL))
    body = json_parser_get_root (parser);
  _tke_service_set_error_from_response (&error, status, body);
  check_error (FALSE, error, "error answer");
}

static void
token (const uint8_t *data, size_t size)
{
  g_autofree char *instance = NULL;
  gint64 expiration = 0;

  /* The token is not NUL-terminated: the parser takes a length. */
  if (_tke_service_read_token_claims ((const char *) data, size, &instance, &expiration) &&
      instance != NULL && !g_utf8_validate (instance, -1, NULL))
    fuzz_fail ("a token's instance that is not UTF-8");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (JsonObject) object = NULL;
  guint8 which;

  fuzz_init ();
  if (size < 1)
    return 0;
  which = data[0] % 6;
  if (which == 4)
    {
      error_response (data + 1, size - 1);
      return 0;
    }
  if (which == 5)
    {
      token (data + 1, size - 1);
      return 0;
    }
  object = parse_object ((const char *) data + 1, (gssize) size - 1);
  if (object == NULL)
    return 0;
  switch (which)
    {
    case 0:
      hsm (object);
      break;
    case 1:
      query (object);
      break;
    case 2:
      rotation_status (object);
      break;
    default:
      kms_key (object);
      break;
    }
  return 0;
}
