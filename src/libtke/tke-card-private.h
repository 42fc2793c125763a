/* tke-card-private.h: what the smart card layer's files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Runs FUNC later in CONTEXT (an idle source), never in the caller's thread. */
void tke_card_dispatch (GMainContext *context,
                        GSourceFunc func,
                        gpointer data,
                        GDestroyNotify notify);

G_END_DECLS
