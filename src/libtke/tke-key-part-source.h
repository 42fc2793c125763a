/* tke-key-part-source.h: where a master key part comes from
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-secret.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_KEY_PART_SOURCE (tke_key_part_source_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (TkeKeyPartSource, tke_key_part_source, TKE, KEY_PART_SOURCE, GObject)

/**
 * TkeKeyPartSourceInterface:
 * @get_description: the part's description, as its owner named it
 * @get_check_value: the part's verification pattern (64 hex digits), which
 *   its holder confirms; %NULL while not yet read
 * @seal_async: seals the part to a crypto unit's importer key
 * @seal_finish: returns the sealed part
 *
 * A master key part: a password-protected key part file on the
 * workstation, or a part on a card in reader 2.  The part itself never
 * leaves the source in clear: the source seals it (tke_crypto_seal()) to
 * the importer public key of the unit with the given associated data.
 */
struct _TkeKeyPartSourceInterface
{
  GTypeInterface parent_iface;

  const char *(*get_description) (TkeKeyPartSource *self);
  const char *(*get_check_value) (TkeKeyPartSource *self);
  void (*seal_async) (TkeKeyPartSource *self,
                      GBytes *importer_public_key,
                      GBytes *associated_data,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data);
  GBytes *(*seal_finish) (TkeKeyPartSource *self, GAsyncResult *result, GError **error);
};

TKE_AVAILABLE_IN_ALL
const char *tke_key_part_source_get_description (TkeKeyPartSource *self);
TKE_AVAILABLE_IN_ALL
const char *tke_key_part_source_get_check_value (TkeKeyPartSource *self);
TKE_AVAILABLE_IN_ALL
void tke_key_part_source_seal_async (TkeKeyPartSource *self,
                                     GBytes *importer_public_key,
                                     GBytes *associated_data,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
TKE_AVAILABLE_IN_ALL
GBytes *
tke_key_part_source_seal_finish (TkeKeyPartSource *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
gboolean tke_key_parts_check_distinct (GPtrArray *parts, GError **error);
TKE_AVAILABLE_IN_ALL
gboolean tke_master_key_check_not_zero (const TkeSecret *key, GError **error);

G_END_DECLS
