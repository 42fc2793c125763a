/* tke-service-client-methods.c: the administrative commands of a crypto unit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tke-error.h"
#include "tke-service-client-private.h"
#include "tke-crypto.h"

/**
 * tke_service_client_generate_importer_key_async:
 * @unit: the crypto unit
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 *
 * Has @unit generate a fresh importer key pair (1 signature).
 */
void
tke_service_client_generate_importer_key_async (TkeServiceClient *self,
                                                TkeCryptoUnit *unit,
                                                GPtrArray *signers,
                                                GCancellable *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer user_data)
{
  g_autoptr (JsonNode) args = _tke_service_string_args (NULL);

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));

  _tke_service_client_command_async (self, unit, "generate_importer_key", args, NULL, signers,
                                     tke_service_client_generate_importer_key_async, cancellable,
                                     callback, user_data);
}

/**
 * tke_service_client_generate_importer_key_finish:
 *
 * Returns: (transfer full): the importer public key, an uncompressed point
 */
GBytes *
tke_service_client_generate_importer_key_finish (TkeServiceClient *self,
                                                 GAsyncResult *result,
                                                 GError **error)
{
  g_autoptr (JsonObject) object = _tke_service_client_command_finish (self, result, error);
  const char *hex;

  if (object == NULL || (hex = _tke_service_get_string (object, "importer_key", error)) == NULL)
    return NULL;
  return tke_crypto_hex_decode (hex, error);
}

/**
 * tke_service_client_load_async:
 * @unit: the crypto unit
 * @sealed_parts: (element-type GBytes): 2 or 3 parts sealed to the importer key
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 *
 * Loads the new master key register (one signature per part).
 */
void
tke_service_client_load_async (TkeServiceClient *self,
                               TkeCryptoUnit *unit,
                               GPtrArray *sealed_parts,
                               GPtrArray *signers,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) args = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));
  g_return_if_fail (sealed_parts != NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "parts");
  json_builder_begin_array (builder);
  for (guint i = 0; i < sealed_parts->len; i++)
    {
      GBytes *part = sealed_parts->pdata[i];
      g_autofree char *encoded =
          g_base64_encode (g_bytes_get_data (part, NULL), g_bytes_get_size (part));

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "sealed");
      json_builder_add_string_value (builder, encoded);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  args = json_builder_get_root (builder);

  _tke_service_client_command_async (self, unit, "load", args, NULL, signers,
                                     tke_service_client_load_async, cancellable, callback,
                                     user_data);
}

/**
 * tke_service_client_load_finish:
 *
 * Returns: (transfer full): the new register's VP
 */
char *
tke_service_client_load_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (JsonObject) object = _tke_service_client_command_finish (self, result, error);
  const char *vp;

  if (object == NULL || (vp = _tke_service_get_vp (object, "new_mkvp", error)) == NULL)
    return NULL;
  return g_strdup (vp);
}

static gboolean
boolean_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (JsonObject) object = _tke_service_client_command_finish (self, result, error);

  return object != NULL;
}

/**
 * tke_service_client_commit_async:
 * @unit: the crypto unit
 * @new_vp: the VP of the new register
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_commit_async (TkeServiceClient *self,
                                 TkeCryptoUnit *unit,
                                 const char *new_vp,
                                 GPtrArray *signers,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr (JsonNode) args = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));
  g_return_if_fail (new_vp != NULL);

  args = _tke_service_string_args ("new_mkvp", new_vp, NULL);
  _tke_service_client_command_async (self, unit, "commit", args, NULL, signers,
                                     tke_service_client_commit_async, cancellable, callback,
                                     user_data);
}

gboolean
tke_service_client_commit_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  return boolean_finish (self, result, error);
}

/**
 * tke_service_client_set_immediate_async:
 * @unit: the crypto unit
 * @new_vp: the VP of the committed new register
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_set_immediate_async (TkeServiceClient *self,
                                        TkeCryptoUnit *unit,
                                        const char *new_vp,
                                        GPtrArray *signers,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  g_autoptr (JsonNode) args = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));
  g_return_if_fail (new_vp != NULL);

  args = _tke_service_string_args ("new_mkvp", new_vp, NULL);
  _tke_service_client_command_async (self, unit, "set_immediate", args, NULL, signers,
                                     tke_service_client_set_immediate_async, cancellable, callback,
                                     user_data);
}

gboolean
tke_service_client_set_immediate_finish (TkeServiceClient *self,
                                         GAsyncResult *result,
                                         GError **error)
{
  return boolean_finish (self, result, error);
}

/**
 * tke_service_client_clear_new_register_async:
 * @unit: the crypto unit
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_clear_new_register_async (TkeServiceClient *self,
                                             TkeCryptoUnit *unit,
                                             GPtrArray *signers,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data)
{
  g_autoptr (JsonNode) args = _tke_service_string_args (NULL);

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));

  _tke_service_client_command_async (self, unit, "clear_new", args, NULL, signers,
                                     tke_service_client_clear_new_register_async, cancellable,
                                     callback, user_data);
}

gboolean
tke_service_client_clear_new_register_finish (TkeServiceClient *self,
                                              GAsyncResult *result,
                                              GError **error)
{
  return boolean_finish (self, result, error);
}

/**
 * tke_service_client_clear_current_register_async:
 * @unit: the crypto unit
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_clear_current_register_async (TkeServiceClient *self,
                                                 TkeCryptoUnit *unit,
                                                 GPtrArray *signers,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer user_data)
{
  g_autoptr (JsonNode) args = _tke_service_string_args (NULL);

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));

  _tke_service_client_command_async (self, unit, "clear_current", args, NULL, signers,
                                     tke_service_client_clear_current_register_async, cancellable,
                                     callback, user_data);
}

gboolean
tke_service_client_clear_current_register_finish (TkeServiceClient *self,
                                                  GAsyncResult *result,
                                                  GError **error)
{
  return boolean_finish (self, result, error);
}

/**
 * tke_service_client_add_admin_async:
 * @unit: the crypto unit
 * @name: the administrator's name
 * @public_key: the uncompressed P-521 point
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_add_admin_async (TkeServiceClient *self,
                                    TkeCryptoUnit *unit,
                                    const char *name,
                                    GBytes *public_key,
                                    GPtrArray *signers,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  g_autoptr (JsonNode) args = NULL;
  g_autofree char *hex = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));
  g_return_if_fail (name != NULL && public_key != NULL);

  hex = tke_crypto_hex_encode (g_bytes_get_data (public_key, NULL), g_bytes_get_size (public_key));
  args = _tke_service_string_args ("name", name, "public_key", hex, NULL);
  _tke_service_client_command_async (self, unit, "add_admin", args, NULL, signers,
                                     tke_service_client_add_admin_async, cancellable, callback,
                                     user_data);
}

/**
 * tke_service_client_add_admin_finish:
 *
 * Returns: (transfer full): the SKI of the new administrator
 */
char *
tke_service_client_add_admin_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (JsonObject) object = _tke_service_client_command_finish (self, result, error);
  const char *ski;

  if (object == NULL || (ski = _tke_service_get_vp (object, "ski", error)) == NULL)
    return NULL;
  return g_strdup (ski);
}

/**
 * tke_service_client_remove_admin_async:
 * @unit: the crypto unit
 * @ski: the administrator's SKI
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_remove_admin_async (TkeServiceClient *self,
                                       TkeCryptoUnit *unit,
                                       const char *ski,
                                       GPtrArray *signers,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  g_autoptr (JsonNode) args = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));
  g_return_if_fail (ski != NULL);

  args = _tke_service_string_args ("ski", ski, NULL);
  _tke_service_client_command_async (self, unit, "remove_admin", args, NULL, signers,
                                     tke_service_client_remove_admin_async, cancellable, callback,
                                     user_data);
}

gboolean
tke_service_client_remove_admin_finish (TkeServiceClient *self,
                                        GAsyncResult *result,
                                        GError **error)
{
  return boolean_finish (self, result, error);
}

/**
 * tke_service_client_set_thresholds_async:
 * @unit: the crypto unit
 * @signature_threshold: 1–8
 * @revocation_threshold: 1–8
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_set_thresholds_async (TkeServiceClient *self,
                                         TkeCryptoUnit *unit,
                                         guint signature_threshold,
                                         guint revocation_threshold,
                                         GPtrArray *signers,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) args = NULL;

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "signature_threshold");
  json_builder_add_int_value (builder, signature_threshold);
  json_builder_set_member_name (builder, "revocation_threshold");
  json_builder_add_int_value (builder, revocation_threshold);
  json_builder_end_object (builder);
  args = json_builder_get_root (builder);
  _tke_service_client_command_async (self, unit, "set_thresholds", args, NULL, signers,
                                     tke_service_client_set_thresholds_async, cancellable, callback,
                                     user_data);
}

gboolean
tke_service_client_set_thresholds_finish (TkeServiceClient *self,
                                          GAsyncResult *result,
                                          GError **error)
{
  return boolean_finish (self, result, error);
}

/**
 * tke_service_client_zeroize_async:
 * @unit: the crypto unit
 * @signers: (element-type TkeSigner) (nullable): the signers, asked in this order
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 */
void
tke_service_client_zeroize_async (TkeServiceClient *self,
                                  TkeCryptoUnit *unit,
                                  GPtrArray *signers,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_autoptr (JsonNode) args = _tke_service_string_args (NULL);

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));

  _tke_service_client_command_async (self, unit, "zeroize", args, NULL, signers,
                                     tke_service_client_zeroize_async, cancellable, callback,
                                     user_data);
}

gboolean
tke_service_client_zeroize_finish (TkeServiceClient *self, GAsyncResult *result, GError **error)
{
  return boolean_finish (self, result, error);
}

/**
 * tke_service_client_key_part_aad:
 *
 * Returns: (transfer full): the associated data of part @index of @n_parts
 */
GBytes *
tke_service_client_key_part_aad (TkeCryptoUnit *unit, guint index, guint n_parts)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (unit), NULL);

  text = g_strdup_printf ("tke-keypart-v1|%s|new|%u|%u", tke_crypto_unit_get_hsm_id (unit), index,
                          n_parts);
  return g_bytes_new (text, strlen (text));
}
