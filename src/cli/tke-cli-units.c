/* tke-cli-units.c: login, the crypto units, administrators and thresholds
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "tke-cli-cards.h"
#include "tke-cli-common.h"
#include "tke-cli-signserv.h"
#include "tke-cli-unit-root.h"
#include "tke-cli-units.h"

/* ---- login ---------------------------------------------------------------- */

static TkeSecret *
read_api_key_file (const char *path, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  char *contents = NULL;
  gsize size = 0, length = 0;
  TkeSecret *key;

  if (!g_file_get_contents (path, &contents, &size, &local_error))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The API key file cannot be read: %s"),
                   local_error->message);
      return NULL;
    }
  while (length < size && contents[length] != '\n' && contents[length] != '\r')
    length++;
  key = length > 0 ? tke_secret_new_from_data ((const guint8 *) contents, length) : NULL;
  OPENSSL_cleanse (contents, size);
  g_free (contents);
  if (key == NULL)
    g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                         _ ("The API key file is empty."));
  return key;
}

static TkeSecret *
get_api_key (TkeCliContext *ctx, const char *api_key_file, const char *endpoint, GError **error)
{
  TkeSecret *key;

  if (api_key_file != NULL)
    return read_api_key_file (api_key_file, error);
  key = tke_credentials_lookup (TKE_CREDENTIAL_API_KEY, endpoint, NULL, NULL);
  if (key != NULL)
    {
      g_print (_ ("Using the API key kept in the keyring for %s.\n"), endpoint);
      return key;
    }
  return tke_cli_read_password (ctx, _ ("Enter the API key:"), error);
}

static int
run_login (int argc, char **argv)
{
  g_autofree char *api_key_file = NULL;
  g_autofree char *instance = NULL;
  g_autofree char *unit_root_file = NULL;
  const GOptionEntry entries[] = {
    { "unit-root", 0, 0, G_OPTION_ARG_FILENAME, &unit_root_file,
      N_ ("Pin the unit root in FILE (PEM or hex) if the service names the same, without asking"),
      N_ ("FILE") },
    { "api-key-file", 0, 0, G_OPTION_ARG_FILENAME, &api_key_file,
      N_ ("Read the API key from the first line of FILE"), N_ ("FILE") },
    { "instance", 0, 0, G_OPTION_ARG_STRING, &instance,
      N_ ("The service instance (else the one the token names)"), N_ ("ID") },
    G_OPTION_ENTRY_NULL
  };
  BEGIN_VERB ("",
              _ ("Log in to the service with an API key. The key and the token are kept in "
                 "the keyring."),
              entries);
  g_autoptr (TkeSecret) api_key = NULL;
  g_autoptr (TkeSecret) token = NULL;
  g_autoptr (TkeServiceClient) client = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GDateTime) expires = NULL;
  g_autofree char *expires_text = NULL;
  const char *endpoint;

  if (!tke_cli_context_open_workstation (ctx, &error))
    return tke_cli_fail (error);
  endpoint = tke_workstation_get_endpoint (ctx->workstation);
  if (endpoint == NULL)
    {
      g_printerr (_ ("No service endpoint: use --endpoint URL or set TKE_ENDPOINT.\n"));
      return TKE_EXIT_USAGE;
    }
  api_key = get_api_key (ctx, api_key_file, endpoint, &error);
  if (api_key == NULL)
    return tke_cli_fail (error);

  client = tke_service_client_new (endpoint, tke_workstation_get_ca_file (ctx->workstation));
  if (instance != NULL)
    tke_service_client_set_instance_id (client, instance);
  tke_service_client_login_async (client, api_key, NULL, tke_cli_async_done, &result);
  tke_cli_wait (&result);
  if (!tke_service_client_login_finish (client, result, &error) ||
      !tke_cli_pin_unit_root (ctx, client, unit_root_file, &error))
    return tke_cli_fail (error);

  token = tke_service_client_dup_token (client);
  if (!tke_credentials_store (TKE_CREDENTIAL_API_KEY, endpoint, api_key, NULL, &error) ||
      !tke_credentials_store (TKE_CREDENTIAL_TOKEN, endpoint, token, NULL, &error))
    return tke_cli_fail (error);
  tke_workstation_set_instance_id (ctx->workstation, tke_service_client_get_instance_id (client));
  if (!tke_workstation_save (ctx->workstation, &error))
    return tke_cli_fail (error);

  expires = g_date_time_new_from_unix_utc (tke_service_client_get_token_expiration (client));
  expires_text = expires ? g_date_time_format_iso8601 (expires) : g_strdup ("?");
  g_print ("API endpoint:      %s\n", endpoint);
  g_print ("Service instance:  %s\n", tke_service_client_get_instance_id (client)
                                          ? tke_service_client_get_instance_id (client)
                                          : _ ("(unknown: use --instance)"));
  g_print ("Token expires:     %s\n", expires_text);
  {
    g_autoptr (GBytes) root =
        tke_unit_root_from_hex (tke_workstation_get_unit_root (ctx->workstation), NULL);
    g_autofree char *fingerprint = root != NULL ? tke_unit_root_fingerprint (root) : NULL;

    g_print ("Unit root:         %s\n", fingerprint != NULL ? fingerprint : "?");
  }
  return tke_cli_ok ();
}

/* ---- cryptounits, cryptounit-add, cryptounit-rm ---------------------------- */

static void
print_units (TkeServiceInstance *instance)
{
  GListModel *units = tke_service_instance_get_units (instance);

  g_print ("SERVICE INSTANCE: %s\n", tke_service_instance_get_id (instance));
  g_print ("%-18s%-11s%-15s%s\n", "CRYPTO UNIT NUM", "SELECTED", "TYPE", "LOCATION");
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      g_autofree char *number = g_strdup_printf ("%u", tke_crypto_unit_get_number (unit));

      g_print ("%-18s%-11s%-15s%s\n", number,
               tke_crypto_unit_get_selected (unit) ? "true" : "false",
               tke_crypto_unit_type_to_string (tke_crypto_unit_get_unit_type (unit)),
               tke_crypto_unit_get_location (unit));
    }
}

/* The token's claims (its middle part only, never the signature). */
static JsonObject *
token_claims (TkeServiceClient *client)
{
  g_autoptr (TkeSecret) token = tke_service_client_dup_token (client);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *part = NULL;
  g_autofree guchar *payload = NULL;
  const char *start, *end;
  JsonNode *root;
  gsize size = 0;

  if (token == NULL)
    return NULL;
  start = memchr (tke_secret_get_data (token), '.', tke_secret_get_size (token));
  end = start != NULL ? memchr (start + 1, '.',
                                (const char *) tke_secret_get_data (token) +
                                    tke_secret_get_size (token) - start - 1)
                      : NULL;
  if (end == NULL)
    return NULL;
  part = g_strndup (start + 1, end - start - 1);
  g_strdelimit (part, "-", '+');
  g_strdelimit (part, "_", '/');
  {
    g_autofree char *padded = g_strnfill ((4 - strlen (part) % 4) % 4, '=');
    g_autofree char *text = g_strconcat (part, padded, NULL);

    payload = g_base64_decode (text, &size);
  }
  if (size == 0 || !json_parser_load_from_data (parser, (const char *) payload, size, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return JSON_NODE_HOLDS_OBJECT (root) ? json_object_ref (json_node_get_object (root)) : NULL;
}

static const char *
claim (JsonObject *claims, const char *const *names)
{
  for (guint i = 0; claims != NULL && names[i] != NULL; i++)
    {
      JsonNode *node = json_object_get_member (claims, names[i]);

      if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
          json_node_get_value_type (node) == G_TYPE_STRING)
        return json_node_get_string (node);
    }
  return "-";
}

/* "[us-south].[AZ3-CS3].[02].[03]" → "us-south". */
static char *
first_region (TkeServiceInstance *instance)
{
  GListModel *units = tke_service_instance_get_units (instance);
  g_autoptr (TkeCryptoUnit) unit =
      g_list_model_get_n_items (units) > 0 ? g_list_model_get_item (units, 0) : NULL;
  const char *location = unit != NULL ? tke_crypto_unit_get_location (unit) : NULL;
  const char *close;

  if (location == NULL || location[0] != '[' || (close = strchr (location, ']')) == NULL)
    return g_strdup ("-");
  return g_strndup (location + 1, close - location - 1);
}

/* The block the plug-in prints before the table (the IBM Cloud CLI's
 * target): what the table is of, and as whom. */
static void
print_target (TkeCliContext *ctx)
{
  static const char *const user[] = { "email", "name", "iam_id", "sub", NULL };
  static const char *const group[] = { "resource_group", NULL };
  g_autoptr (JsonObject) claims = token_claims (ctx->client);
  g_autofree char *region = first_region (ctx->instance);
  JsonObject *account = NULL;
  const char *bss = "-";

  if (claims != NULL && json_object_has_member (claims, "account") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (claims, "account")))
    {
      static const char *const id[] = { "bss", NULL };

      account = json_object_get_object_member (claims, "account");
      bss = claim (account, id);
    }
  g_print ("API endpoint:      %s\n", tke_workstation_get_endpoint (ctx->workstation));
  g_print ("Region:            %s\n", region);
  g_print ("User:              %s\n", claim (claims, user));
  g_print ("Account:           %s\n", bss);
  g_print ("Resource group:    %s\n\n", claim (claims, group));
}

static int
run_cryptounits (int argc, char **argv)
{
  BEGIN_VERB ("", _ ("List the crypto units of the service instance."), NULL);

  if (!tke_cli_context_load_units (ctx, &error))
    return tke_cli_fail (error);
  print_target (ctx);
  print_units (ctx->instance);
  return TKE_EXIT_OK;
}

static int
change_selection (int argc, char **argv, gboolean add)
{
  BEGIN_VERB (_ ("[CRYPTO-UNIT-NUM…]"),
              add ? _ ("Add crypto units to the selection that commands apply to.")
                  : _ ("Remove crypto units from the selection."),
              NULL);
  g_autoptr (GArray) numbers = NULL;
  g_autoptr (GArray) selection = NULL;

  if (!tke_cli_context_load_units (ctx, &error))
    return tke_cli_fail (error);
  numbers = tke_cli_read_numbers (argc, argv,
                                  add ? _ ("Enter a list of CRYPTO UNIT NUM to add, separated by "
                                           "spaces:")
                                      : _ ("Enter a list of CRYPTO UNIT NUM to remove, separated "
                                           "by spaces:"),
                                  &error);
  if (numbers == NULL)
    return tke_cli_fail (error);

  selection = g_array_copy (tke_workstation_get_selected_units (ctx->workstation));
  for (guint i = 0; i < numbers->len; i++)
    {
      guint number = g_array_index (numbers, guint, i);
      TkeCryptoUnit *unit = tke_service_instance_find_unit (ctx->instance, number);

      if (unit == NULL)
        {
          g_set_error (&error, TKE_ERROR, TKE_ERROR_NOT_FOUND,
                       _ ("There is no crypto unit %u in service instance %s."), number,
                       tke_service_instance_get_id (ctx->instance));
          return tke_cli_fail (error);
        }
      tke_crypto_unit_set_selected (unit, add);
      for (guint j = 0; j < selection->len; j++)
        if (g_array_index (selection, guint, j) == number)
          g_array_remove_index (selection, j--);
      if (add)
        g_array_append_val (selection, number);
    }
  tke_workstation_set_selected_units (ctx->workstation, selection);
  if (!tke_workstation_save (ctx->workstation, &error))
    return tke_cli_fail (error);
  print_units (ctx->instance);
  return TKE_EXIT_OK;
}

static int
run_cryptounit_add (int argc, char **argv)
{
  return change_selection (argc, argv, TRUE);
}

static int
run_cryptounit_rm (int argc, char **argv)
{
  return change_selection (argc, argv, FALSE);
}

/* ---- Views of the selected units ---------------------------------------- */

static int
run_cryptounit_mk (int argc, char **argv)
{
  BEGIN_VERB ("", _ ("Show the master key registers of the selected crypto units."), NULL);
  g_autoptr (GListModel) units = NULL;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  tke_cli_print_register_tables (tke_service_instance_get_id (ctx->instance), units);
  return TKE_EXIT_OK;
}

static int
run_cryptounit_admins (int argc, char **argv)
{
  BEGIN_VERB ("", _ ("List the administrators installed in the selected crypto units."), NULL);
  g_autoptr (GListModel) units = NULL;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  g_print ("SERVICE INSTANCE: %s\n", tke_service_instance_get_id (ctx->instance));
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      GListModel *admins = tke_crypto_unit_get_administrators (unit);

      g_print ("\nADMINISTRATORS FOR CRYPTO UNIT NUM %u\n", tke_crypto_unit_get_number (unit));
      if (g_list_model_get_n_items (admins) == 0)
        {
          g_print (_ ("No administrators are installed.\n"));
          continue;
        }
      g_print ("%-32s%s\n", "ADMIN NAME", "SUBJECT KEY IDENTIFIER");
      for (guint j = 0; j < g_list_model_get_n_items (admins); j++)
        {
          g_autoptr (TkeAdministrator) admin = g_list_model_get_item (admins, j);

          g_print ("%-32s%s\n", tke_administrator_get_name (admin),
                   tke_administrator_get_ski (admin));
        }
    }
  return TKE_EXIT_OK;
}

static int
run_cryptounit_thrhlds (int argc, char **argv)
{
  BEGIN_VERB ("", _ ("Show the signature thresholds of the selected crypto units."), NULL);
  g_autoptr (GListModel) units = NULL;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  g_print ("SERVICE INSTANCE: %s\n", tke_service_instance_get_id (ctx->instance));
  g_print ("%-18s%-22s%-23s%s\n", "CRYPTO UNIT NUM", "SIGNATURE THRESHOLD", "REVOCATION THRESHOLD",
           "IMPRINT MODE");
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      g_autofree char *number = g_strdup_printf ("%u", tke_crypto_unit_get_number (unit));
      g_autofree char *sig = g_strdup_printf ("%u", tke_crypto_unit_get_signature_threshold (unit));
      g_autofree char *rev =
          g_strdup_printf ("%u", tke_crypto_unit_get_revocation_threshold (unit));

      g_print ("%-18s%-22s%-23s%s\n", number, sig, rev,
               tke_crypto_unit_get_imprint_mode (unit) ? "true" : "false");
    }
  return TKE_EXIT_OK;
}

/* ---- Ceremonies on administrators and thresholds ------------------------ */

static int
run_ceremony_verb (TkeCliContext *ctx,
                   TkeCeremony *ceremony,
                   GListModel *units,
                   guint max_signers,
                   guint new_signature_threshold)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) signers = NULL;

  /* libtke's rule: none in imprint mode, except leaving it. */
  if (tke_instance_setup_get_n_signers (tke_ceremony_get_kind (ceremony), units,
                                        new_signature_threshold) > 0)
    {
      signers = tke_cli_make_signers (ctx, max_signers, &error);
      if (signers == NULL)
        return tke_cli_fail (error);
      tke_ceremony_set_signers (ceremony, signers);
    }
  if (!tke_cli_run_ceremony (ctx, ceremony, &error))
    return tke_cli_fail (error);
  return tke_cli_ok ();
}

/* libtke's rules first (name, room, already installed); units that have
 * the administrator already (an earlier run that stopped) are passed over. */
static int
add_admin (TkeCliContext *ctx, GListModel *units, const char *name, GBytes *point)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (GListModel) lacking = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autofree char *ski = NULL;
  guint8 ski_bytes[TKE_SKI_SIZE];

  key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                             g_bytes_get_size (point), &error);
  if (key == NULL || !tke_crypto_ski (key, ski_bytes, &error))
    return tke_cli_fail (error);
  ski = tke_crypto_hex_encode (ski_bytes, sizeof ski_bytes);
  if (!tke_instance_setup_check_new_administrator (units, name, ski, &error))
    return tke_cli_fail (error);
  lacking = tke_instance_setup_units_lacking (units, ski);
  ceremony = tke_ceremony_new (ctx->client, TKE_CEREMONY_ADD_ADMIN, lacking);
  tke_ceremony_set_new_administrator (ceremony, name, point);
  return run_ceremony_verb (ctx, ceremony, lacking, 0, 0);
}

static int
run_cryptounit_admin_add (int argc, char **argv)
{
  static gboolean card;
  const GOptionEntry entries[] = {
    { "card", 0, 0, G_OPTION_ARG_NONE, &card,
      N_ ("Install the administrator of the card in reader 1 instead of a key file"), NULL },
    { NULL }
  };
  BEGIN_VERB (_ ("[KEYNUM]"),
              _ ("Install the administrator of a signature key file in the selected crypto units."),
              entries);
  g_autoptr (GListModel) units = NULL;
  g_autoptr (GArray) keynum = NULL;
  g_autoptr (TkeSignatureKeyFile) file = NULL;
  g_autoptr (TkeSecret) password = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (GBytes) point = NULL;
  g_autofree char *path = NULL;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  if (card)
    {
      g_autofree char *name = NULL;

      if ((point = tke_cli_read_card_admin (&name, &error)) == NULL)
        return tke_cli_fail (error);
      return add_admin (ctx, units, name != NULL ? name : "admin", point);
    }
  if (tke_cli_signing_service_url () != NULL)
    {
      g_autofree char *name = NULL;

      if ((point = tke_cli_read_service_admin (ctx, argc > 1 ? argv[1] : NULL, &name, &error)) ==
          NULL)
        return tke_cli_fail (error);
      return add_admin (ctx, units, name, point);
    }
  keynum = tke_cli_read_numbers (argc, argv,
                                 _ ("Enter the KEYNUM of the administrator signature key you wish "
                                    "to load:"),
                                 &error);
  if (keynum == NULL)
    return tke_cli_fail (error);
  path = tke_workstation_get_key_file_path (ctx->workstation, TKE_KEY_FILE_SIGNATURE_KEY,
                                            g_array_index (keynum, guint, 0));
  if ((file = tke_signature_key_file_load (path, &error)) == NULL)
    return tke_cli_fail (error);
  password = tke_cli_read_password (
      ctx, _ ("Enter the password for the administrator signature key file:"), &error);
  if (password == NULL || (key = tke_signature_key_file_unlock (file, password, &error)) == NULL ||
      (point = tke_crypto_ec_public_point (key, &error)) == NULL)
    return tke_cli_fail (error);

  return add_admin (ctx, units,
                    tke_signature_key_file_get_admin_name (file)
                        ? tke_signature_key_file_get_admin_name (file)
                        : "admin",
                    point);
}

/* The SKI of the administrator whose SKI starts with @prefix, in any unit. */
static char *
find_admin_ski (GListModel *units, const char *prefix, GError **error)
{
  g_autofree char *lower = g_ascii_strdown (prefix, -1);
  g_autofree char *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      GListModel *admins = tke_crypto_unit_get_administrators (unit);

      for (guint j = 0; j < g_list_model_get_n_items (admins); j++)
        {
          g_autoptr (TkeAdministrator) admin = g_list_model_get_item (admins, j);
          const char *ski = tke_administrator_get_ski (admin);

          if (!g_str_has_prefix (ski, lower))
            continue;
          if (found != NULL && !g_str_equal (found, ski))
            {
              g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("“%s” names more than one administrator. Give more digits."), prefix);
              return NULL;
            }
          g_free (found);
          found = g_strdup (ski);
        }
    }
  if (found == NULL)
    g_set_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND,
                 _ ("No administrator of the selected crypto units has the SKI “%s”."), prefix);
  return g_steal_pointer (&found);
}

static int
run_cryptounit_admin_rm (int argc, char **argv)
{
  BEGIN_VERB (_ ("[SKI]"), _ ("Remove an administrator from the selected crypto units."), NULL);
  g_autoptr (GListModel) units = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *ski = NULL;
  g_autofree char *question = NULL;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  if (argc > 1)
    answer = g_strdup (argv[1]);
  else if ((answer = tke_cli_read_line (_ ("Enter the SUBJECT KEY IDENTIFIER of the "
                                           "administrator to remove:"),
                                        &error)) == NULL)
    return tke_cli_fail (error);
  if (strlen (answer) < 8)
    {
      g_printerr (_ ("Give at least the first 8 hex digits of the SKI.\n"));
      return TKE_EXIT_USAGE;
    }
  if ((ski = find_admin_ski (units, answer, &error)) == NULL ||
      !tke_instance_setup_check_removal (units, ski, &error))
    return tke_cli_fail (error);
  question =
      g_strdup_printf (_ ("Remove the administrator %s from the selected crypto units?"), ski);
  if (!tke_cli_confirm (ctx, question))
    return TKE_EXIT_CANCELLED;

  ceremony = tke_ceremony_new (ctx->client, TKE_CEREMONY_REMOVE_ADMIN, units);
  tke_ceremony_set_administrator_ski (ceremony, ski);
  return run_ceremony_verb (ctx, ceremony, units, 0, 0);
}

static gboolean
read_threshold (const char *prompt, int given, guint *value, GError **error)
{
  g_autofree char *line = NULL;
  guint64 number;

  if (given > 0)
    {
      *value = (guint) given;
      return *value <= 8 || (g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                                                  _ ("Thresholds are numbers from 1 to 8.")),
                             FALSE);
    }
  if ((line = tke_cli_read_line (prompt, error)) == NULL)
    return FALSE;
  if (!g_ascii_string_to_unsigned (line, 10, 1, 8, &number, NULL))
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("Thresholds are numbers from 1 to 8."));
      return FALSE;
    }
  *value = (guint) number;
  return TRUE;
}

static int
run_cryptounit_thrhld_set (int argc, char **argv)
{
  int signature = 0, revocation = 0;
  static gboolean cards;
  const GOptionEntry entries[] = { { "signature", 0, 0, G_OPTION_ARG_INT, &signature,
                                     N_ ("The new signature threshold"), N_ ("N") },
                                   { "revocation", 0, 0, G_OPTION_ARG_INT, &revocation,
                                     N_ ("The new revocation threshold"), N_ ("N") },
                                   { "cards", 0, 0, G_OPTION_ARG_NONE, &cards,
                                     N_ ("Sign with administrator cards taking turns in reader 1"),
                                     NULL },
                                   G_OPTION_ENTRY_NULL };
  BEGIN_VERB ("", _ ("Set the signature and revocation thresholds of the selected crypto units."),
              entries);
  g_autoptr (GListModel) units = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  guint sig, rev;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  if (!read_threshold (_ ("Enter the new signature threshold value:"), signature, &sig, &error) ||
      !read_threshold (_ ("Enter the new revocation signature threshold value:"), revocation, &rev,
                       &error))
    return tke_cli_fail (error);
  if (!tke_instance_setup_check_thresholds (units, sig, rev, &error))
    return tke_cli_fail (error);

  ceremony = tke_ceremony_new (ctx->client, TKE_CEREMONY_SET_THRESHOLDS, units);
  tke_ceremony_set_thresholds (ceremony, sig, rev);
  if (cards)
    {
      /* Leaving imprint mode takes the new threshold's signatures. */
      g_autoptr (GPtrArray) signers = tke_cli_make_card_signers (
          tke_instance_setup_get_n_signers (TKE_CEREMONY_SET_THRESHOLDS, units, sig));

      tke_ceremony_set_signers (ceremony, signers);
      if (!tke_cli_run_ceremony (ctx, ceremony, &error))
        return tke_cli_fail (error);
      return tke_cli_ok ();
    }
  return run_ceremony_verb (ctx, ceremony, units, 0, sig);
}

static int
run_cryptounit_zeroize (int argc, char **argv)
{
  BEGIN_VERB ("",
              _ ("Zeroize the selected crypto units: administrators, thresholds and both "
                 "master key registers are erased."),
              NULL);
  g_autoptr (GListModel) units = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  if (!tke_cli_confirm (ctx, _ ("Zeroizing erases the master keys and administrators of the "
                                "selected crypto units. Continue?")))
    return TKE_EXIT_CANCELLED;
  ceremony = tke_ceremony_new (ctx->client, TKE_CEREMONY_ZEROIZE, units);
  return run_ceremony_verb (ctx, ceremony, units, 1, 0);
}

static const TkeCliVerb unit_verbs[] = {
  { "login", N_ ("Log in to the service with an API key"), run_login },
  { "cryptounits", N_ ("List the crypto units of the service instance"), run_cryptounits },
  { "cryptounit-add", N_ ("Add crypto units to the selection"), run_cryptounit_add },
  { "cryptounit-rm", N_ ("Remove crypto units from the selection"), run_cryptounit_rm },
  { "cryptounit-mk", N_ ("Show the master key registers of the selected units"),
    run_cryptounit_mk },
  { "cryptounit-admins", N_ ("List the administrators of the selected units"),
    run_cryptounit_admins },
  { "cryptounit-admin-add", N_ ("Install an administrator in the selected units"),
    run_cryptounit_admin_add },
  { "cryptounit-admin-rm", N_ ("Remove an administrator from the selected units"),
    run_cryptounit_admin_rm },
  { "cryptounit-thrhlds", N_ ("Show the thresholds of the selected units"),
    run_cryptounit_thrhlds },
  { "cryptounit-thrhld-set", N_ ("Set the thresholds of the selected units"),
    run_cryptounit_thrhld_set },
  { "cryptounit-zeroize", N_ ("Zeroize the selected units"), run_cryptounit_zeroize },
};

const TkeCliVerbTable tke_cli_unit_verbs = { unit_verbs, G_N_ELEMENTS (unit_verbs) };
