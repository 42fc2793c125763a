/* tke-ceremony-report.h: a signed ceremony report anyone can verify offline
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-audit-trail.h"
#include "tke-signer.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_CEREMONY_REPORT (tke_ceremony_report_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeCeremonyReport, tke_ceremony_report, TKE, CEREMONY_REPORT, GObject)

TKE_AVAILABLE_IN_ALL
TkeCeremonyReport *tke_ceremony_report_new_from_trail (TkeAuditTrail *trail,
                                                       const char *ceremony_id,
                                                       GDateTime *since,
                                                       GDateTime *until,
                                                       GError **error);
TKE_AVAILABLE_IN_ALL
TkeCeremonyReport *tke_ceremony_report_new_from_bytes (GBytes *bytes, GError **error);
TKE_AVAILABLE_IN_ALL
GBytes *tke_ceremony_report_to_bytes (TkeCeremonyReport *self);
TKE_AVAILABLE_IN_ALL
guint tke_ceremony_report_get_n_records (TkeCeremonyReport *self);
TKE_AVAILABLE_IN_ALL
gboolean
tke_ceremony_report_verify (TkeCeremonyReport *self, GBytes *trusted_unit_root, GError **error);
TKE_AVAILABLE_IN_ALL
GBytes *tke_ceremony_report_dup_unit_root (TkeCeremonyReport *self);
TKE_AVAILABLE_IN_ALL
GBytes *tke_ceremony_report_dup_workstation_key (TkeCeremonyReport *self);
TKE_AVAILABLE_IN_ALL
void tke_ceremony_report_sign_async (TkeCeremonyReport *self,
                                     TkeSigner *signer,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean
tke_ceremony_report_sign_finish (TkeCeremonyReport *self, GAsyncResult *result, GError **error);
TKE_AVAILABLE_IN_ALL
GStrv tke_ceremony_report_dup_signer_names (TkeCeremonyReport *self);
TKE_AVAILABLE_IN_ALL
char *tke_ceremony_report_format_text (TkeCeremonyReport *self);
TKE_AVAILABLE_IN_ALL
gboolean tke_ceremony_report_describe_record (
    TkeCeremonyReport *self, guint index, char **heading, char **body, gboolean *deviation);
TKE_AVAILABLE_IN_ALL
char *tke_ceremony_report_format_units (TkeCeremonyReport *self);
TKE_AVAILABLE_IN_ALL
gboolean tke_ceremony_report_write_pdf (TkeCeremonyReport *self, const char *path, GError **error);

G_END_DECLS
