/* tke-key-part-source.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tke-key-part-source.h"

/**
 * TkeKeyPartSource:
 *
 * A master key part, as the load ceremony sees it.
 *
 * Implemented by #TkeKeyPartFile (a password-protected key part file, for
 * the command line) and #TkeCardKeyPartSource (a part on a card in reader 2).
 * The part never leaves the source in clear: the source seals it to the
 * importer key of each crypto unit.
 */
G_DEFINE_INTERFACE (TkeKeyPartSource, tke_key_part_source, G_TYPE_OBJECT)

static void
tke_key_part_source_default_init (TkeKeyPartSourceInterface *iface)
{
}

/**
 * tke_key_part_source_get_description:
 * @self: a #TkeKeyPartSource
 *
 * The part's description, as its owner named it.
 *
 * Returns: (nullable): the description
 */
const char *
tke_key_part_source_get_description (TkeKeyPartSource *self)
{
  g_return_val_if_fail (TKE_IS_KEY_PART_SOURCE (self), NULL);
  return TKE_KEY_PART_SOURCE_GET_IFACE (self)->get_description (self);
}

/**
 * tke_key_part_source_get_check_value:
 * @self: a #TkeKeyPartSource
 *
 * The verification pattern of the part (64 hex digits), which its holder
 * confirms before the part is loaded.
 *
 * Returns: (nullable): the verification pattern, or %NULL while not yet read
 */
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
 *
 * Seals the key part to a crypto unit's importer key, with @associated_data
 * bound to it, so that only that unit can open it.
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
 * Finishes tke_key_part_source_seal_async().
 *
 * Returns: (transfer full): the sealed part (see tke_crypto_seal()), or %NULL
 */
GBytes *
tke_key_part_source_seal_finish (TkeKeyPartSource *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (TKE_IS_KEY_PART_SOURCE (self), NULL);
  return TKE_KEY_PART_SOURCE_GET_IFACE (self)->seal_finish (self, result, error);
}
