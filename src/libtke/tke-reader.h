/* tke-reader.h: a smart card reader that TkeReaderMonitor sees
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_READER (tke_reader_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeReader, tke_reader, TKE, READER, GObject)

TKE_AVAILABLE_IN_ALL
const char *tke_reader_get_name (TkeReader *self);
TKE_AVAILABLE_IN_ALL
guint tke_reader_get_index (TkeReader *self);
TKE_AVAILABLE_IN_ALL
gboolean tke_reader_get_card_present (TkeReader *self);
TKE_AVAILABLE_IN_ALL
GBytes *tke_reader_get_atr (TkeReader *self);

G_END_DECLS
