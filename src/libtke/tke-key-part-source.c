/* tke-key-part-source.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-card-key-part-source.h"
#include "tke-error.h"
#include "tke-key-part-file.h"
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

/* Two sources that are the same part: the same object, the same file, the
 * same part of the same card, or (once known) the same check value. */
static gboolean
same_part (TkeKeyPartSource *a, TkeKeyPartSource *b)
{
  const char *vp_a = tke_key_part_source_get_check_value (a);
  const char *vp_b = tke_key_part_source_get_check_value (b);

  if (a == b || (vp_a != NULL && vp_b != NULL && g_ascii_strcasecmp (vp_a, vp_b) == 0))
    return TRUE;
  if (TKE_IS_KEY_PART_FILE (a) && TKE_IS_KEY_PART_FILE (b))
    {
      g_autoptr (GFile) file_a =
          g_file_new_for_path (tke_key_part_file_get_path (TKE_KEY_PART_FILE (a)));
      g_autoptr (GFile) file_b =
          g_file_new_for_path (tke_key_part_file_get_path (TKE_KEY_PART_FILE (b)));

      return g_file_equal (file_a, file_b);
    }
  if (TKE_IS_CARD_KEY_PART_SOURCE (a) && TKE_IS_CARD_KEY_PART_SOURCE (b))
    {
      TkeCardKeyPartSource *card_a = TKE_CARD_KEY_PART_SOURCE (a);
      TkeCardKeyPartSource *card_b = TKE_CARD_KEY_PART_SOURCE (b);
      const char *serial_a = tke_card_key_part_source_get_serial (card_a);

      return serial_a != NULL &&
             g_strcmp0 (serial_a, tke_card_key_part_source_get_serial (card_b)) == 0 &&
             tke_card_key_part_source_get_index (card_a) ==
                 tke_card_key_part_source_get_index (card_b);
    }
  return FALSE;
}

/**
 * tke_key_parts_check_distinct:
 * @parts: (element-type TkeKeyPartSource): the parts of one master key, in order
 * @error: %TKE_ERROR_INVALID_ARGUMENT naming the two parts that are the same
 *
 * Refuses a key whose parts repeat: the same file, the same part of a
 * card, or two parts with one check value.  Two equal parts cancel out in
 * the XOR, so such a key is all zero or equals the remaining part, known
 * to its one holder.  Called before anything is sent to a unit, and again
 * once each card's check values are read.
 *
 * Returns: %TRUE if no part repeats
 */
gboolean
tke_key_parts_check_distinct (GPtrArray *parts, GError **error)
{
  g_return_val_if_fail (parts != NULL, FALSE);

  for (guint j = 1; j < parts->len; j++)
    for (guint i = 0; i < j; i++)
      if (same_part (parts->pdata[i], parts->pdata[j]))
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_REPEATED_KEY_PART,
                       _ ("Key parts %u and %u are the same key part (“%s”). A master key "
                          "from repeated parts is weak: load different parts."),
                       i + 1, j + 1,
                       tke_key_part_source_get_description (parts->pdata[i]) != NULL
                           ? tke_key_part_source_get_description (parts->pdata[i])
                           : "?");
          return FALSE;
        }
  return TRUE;
}

/**
 * tke_master_key_check_not_zero:
 * @key: a master key or key part value (in the secure heap)
 * @error: %TKE_ERROR_INVALID_ARGUMENT if it is all zero
 *
 * An all-zero key is publicly known: every key wrapped under it could be
 * unwrapped by anyone.  Refused for a key part typed in by value and for
 * the XOR of the parts of a load, wherever the workstation knows them.
 *
 * Returns: %TRUE if @key is not all zero
 */
gboolean
tke_master_key_check_not_zero (const TkeSecret *key, GError **error)
{
  const guint8 *data;
  guint8 any = 0;

  g_return_val_if_fail (key != NULL, FALSE);

  data = tke_secret_get_data (key);
  for (gsize i = 0; i < tke_secret_get_size (key); i++)
    any |= data[i];
  if (any != 0)
    return TRUE;
  g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                       _ ("The key is all zero, a value anyone knows: every key wrapped under it "
                          "could be read. Use other key parts."));
  return FALSE;
}
