/* tke-card-private.h: what the smart card layer's files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tke-card.h"

G_BEGIN_DECLS

/* Runs FUNC later in CONTEXT (an idle source), never in the caller's thread. */
void
tke_card_dispatch (GMainContext *context, GSourceFunc func, gpointer data, GDestroyNotify notify);

/* Completes once this card (this insertion) left the reader. */
void tke_card_wait_gone_async (TkeCard *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean tke_card_wait_gone_finish (TkeCard *self, GAsyncResult *result, GError **error);

G_END_DECLS
