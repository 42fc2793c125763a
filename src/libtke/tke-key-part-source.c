/* tke-key-part-source.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tke-key-part-source.h"

G_DEFINE_INTERFACE (TkeKeyPartSource, tke_key_part_source, G_TYPE_OBJECT)

static void
tke_key_part_source_default_init (TkeKeyPartSourceInterface *iface)
{
}

const char *
tke_key_part_source_get_description (TkeKeyPartSource *self)
{
  g_return_val_if_fail (TKE_IS_KEY_PART_SOURCE (self), NULL);
  return TKE_KEY_PART_SOURCE_GET_IFACE (self)->get_description (self);
}

const char *
tke_key_part_source_get_check_value (TkeKeyPartSource *self)
{
  g_return_val_if_fail (TKE_IS_KEY_PART_SOURCE (self), NULL);
  return TKE_KEY_PART_SOURCE_GET_IFACE (self)->get_check_value (self);
}

/**
 * tke_key_part_source_seal_async:
 * @self: a #TkeKeyPartSource
 * @importer_public_key: the unit's importer key, an uncompressed P-521 point
 * @associated_data: binds the sealed part to its unit, register and position
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the part is sealed
 * @user_data: data for @callback
 */
void
tke_key_part_source_seal_async (TkeKeyPartSource *self,
                                GBytes *importer_public_key,
                                GBytes *associated_data,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_return_if_fail (TKE_IS_KEY_PART_SOURCE (self));
  g_return_if_fail (importer_public_key != NULL);
  g_return_if_fail (associated_data != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  TKE_KEY_PART_SOURCE_GET_IFACE (self)->seal_async (self, importer_public_key, associated_data,
                                                    cancellable, callback, user_data);
}

/**
 * tke_key_part_source_seal_finish:
 * @self: a #TkeKeyPartSource
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the sealed part (see tke_crypto_seal()), or %NULL
 */
GBytes *
tke_key_part_source_seal_finish (TkeKeyPartSource *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (TKE_IS_KEY_PART_SOURCE (self), NULL);
  return TKE_KEY_PART_SOURCE_GET_IFACE (self)->seal_finish (self, result, error);
}
