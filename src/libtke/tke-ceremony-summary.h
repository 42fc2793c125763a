/* tke-ceremony-summary.h: one past ceremony, as the ceremony record tells it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-audit-trail.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_CEREMONY_SUMMARY (tke_ceremony_summary_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeCeremonySummary, tke_ceremony_summary, TKE, CEREMONY_SUMMARY, GObject)

TKE_AVAILABLE_IN_ALL
GPtrArray *tke_audit_trail_list_ceremonies (TkeAuditTrail *trail, GError **error);

TKE_AVAILABLE_IN_ALL
const char *tke_ceremony_summary_get_id (TkeCeremonySummary *self);
TKE_AVAILABLE_IN_ALL
const char *tke_ceremony_summary_get_kind (TkeCeremonySummary *self);
TKE_AVAILABLE_IN_ALL
GDateTime *tke_ceremony_summary_get_started (TkeCeremonySummary *self);
TKE_AVAILABLE_IN_ALL
GDateTime *tke_ceremony_summary_get_ended (TkeCeremonySummary *self);
TKE_AVAILABLE_IN_ALL
const char *tke_ceremony_summary_get_outcome (TkeCeremonySummary *self);
TKE_AVAILABLE_IN_ALL
const guint *tke_ceremony_summary_get_units (TkeCeremonySummary *self, guint *n_units);
TKE_AVAILABLE_IN_ALL
guint tke_ceremony_summary_get_n_records (TkeCeremonySummary *self);
TKE_AVAILABLE_IN_ALL
guint tke_ceremony_summary_get_n_deviations (TkeCeremonySummary *self);
TKE_AVAILABLE_IN_ALL
gint64 tke_ceremony_summary_get_first_seq (TkeCeremonySummary *self);
TKE_AVAILABLE_IN_ALL
gint64 tke_ceremony_summary_get_last_seq (TkeCeremonySummary *self);

G_END_DECLS
