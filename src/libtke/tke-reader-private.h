/* tke-reader-private.h: what TkeReaderMonitor changes on a TkeReader
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tke-reader.h"

G_BEGIN_DECLS

TkeReader *_tke_reader_new (const char *name, guint index);
void _tke_reader_set_index (TkeReader *self, guint index);
/* ATR may be NULL; returns TRUE if presence changed. */
gboolean _tke_reader_set_card (TkeReader *self, gboolean present, GBytes *atr);

G_END_DECLS
