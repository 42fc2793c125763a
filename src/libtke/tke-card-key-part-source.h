/* tke-card-key-part-source.h: a master key part on a card in reader 2
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-card.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_CARD_KEY_PART_SOURCE (tke_card_key_part_source_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (
    TkeCardKeyPartSource, tke_card_key_part_source, TKE, CARD_KEY_PART_SOURCE, GObject)

TKE_AVAILABLE_IN_ALL
TkeCardKeyPartSource *tke_card_key_part_source_new (const char *reader_prefix, guint index);
TKE_AVAILABLE_IN_ALL
GPtrArray *tke_card_key_part_source_new_group (const char *reader_prefix,
                                               const guint *indexes,
                                               guint n_sources);
TKE_AVAILABLE_IN_ALL
TkeCardKeyPartSource *tke_card_key_part_source_new_for_card (TkeCard *card, guint index);
TKE_AVAILABLE_IN_ALL
void tke_card_key_part_source_log_out (TkeCardKeyPartSource *self);
TKE_AVAILABLE_IN_ALL
guint tke_card_key_part_source_get_index (TkeCardKeyPartSource *self);
TKE_AVAILABLE_IN_ALL
const char *tke_card_key_part_source_get_serial (TkeCardKeyPartSource *self);
TKE_AVAILABLE_IN_ALL
TkeCard *tke_card_key_part_source_get_card (TkeCardKeyPartSource *self);
TKE_AVAILABLE_IN_ALL
void tke_card_key_part_source_set_pin_timeout (TkeCardKeyPartSource *self, guint seconds);
TKE_AVAILABLE_IN_ALL
void tke_card_key_part_source_load_async (TkeCardKeyPartSource *self,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_card_key_part_source_load_finish (TkeCardKeyPartSource *self,
                                               GAsyncResult *result,
                                               GError **error);

G_END_DECLS
