/* tke-card-signer.h: an administrator's signature key on a card in reader 1
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

#define TKE_TYPE_CARD_SIGNER (tke_card_signer_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeCardSigner, tke_card_signer, TKE, CARD_SIGNER, GObject)

TKE_AVAILABLE_IN_ALL
TkeCardSigner *tke_card_signer_new (const char *reader_prefix);
TKE_AVAILABLE_IN_ALL
TkeCardSigner *tke_card_signer_new_for_reader (guint reader_index, const char *reader_prefix);
TKE_AVAILABLE_IN_ALL
GPtrArray *tke_card_signer_new_group (const char *reader_prefix, guint n_signers);
TKE_AVAILABLE_IN_ALL
GPtrArray *tke_card_signer_new_for_readers (guint n_readers);
TKE_AVAILABLE_IN_ALL
TkeCard *tke_card_signer_get_card (TkeCardSigner *self);
TKE_AVAILABLE_IN_ALL
const char *tke_card_signer_get_card_serial (TkeCardSigner *self);
TKE_AVAILABLE_IN_ALL
const char *tke_card_signer_get_card_zone (TkeCardSigner *self);
TKE_AVAILABLE_IN_ALL
guint tke_card_signer_get_pin_timeout (TkeCardSigner *self);
TKE_AVAILABLE_IN_ALL
void tke_card_signer_set_pin_timeout (TkeCardSigner *self, guint seconds);
TKE_AVAILABLE_IN_ALL
void tke_card_signer_log_out (TkeCardSigner *self);
TKE_AVAILABLE_IN_ALL
void tke_card_signer_prepare_async (TkeCardSigner *self,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_card_signer_prepare_finish (TkeCardSigner *self, GAsyncResult *result, GError **error);

G_END_DECLS
