/* tke-reader-monitor.h: smart card readers and cards coming and going
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-reader.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_READER_MONITOR (tke_reader_monitor_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeReaderMonitor, tke_reader_monitor, TKE, READER_MONITOR, GObject)

TKE_AVAILABLE_IN_ALL
TkeReaderMonitor *tke_reader_monitor_new (const char *reader1_prefix, const char *reader2_prefix);
TKE_AVAILABLE_IN_ALL
GListModel *tke_reader_monitor_get_readers (TkeReaderMonitor *self);
TKE_AVAILABLE_IN_ALL
TkeReader *tke_reader_monitor_get_reader (TkeReaderMonitor *self, guint index);
TKE_AVAILABLE_IN_ALL
gboolean tke_reader_monitor_get_available (TkeReaderMonitor *self);
TKE_AVAILABLE_IN_ALL
const char *tke_reader_monitor_get_reader1_prefix (TkeReaderMonitor *self);
TKE_AVAILABLE_IN_ALL
void tke_reader_monitor_set_reader1_prefix (TkeReaderMonitor *self, const char *prefix);
TKE_AVAILABLE_IN_ALL
const char *tke_reader_monitor_get_reader2_prefix (TkeReaderMonitor *self);
TKE_AVAILABLE_IN_ALL
void tke_reader_monitor_set_reader2_prefix (TkeReaderMonitor *self, const char *prefix);

G_END_DECLS
