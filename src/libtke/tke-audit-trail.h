/* tke-audit-trail.h: the ceremony record, a hash-chained audit trail
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-audit-entry.h"
#include "tke-ceremony.h"
#include "tke-rotation.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_AUDIT_TRAIL (tke_audit_trail_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeAuditTrail, tke_audit_trail, TKE, AUDIT_TRAIL, GObject)

TKE_AVAILABLE_IN_ALL
char *tke_audit_trail_get_default_path (void);
TKE_AVAILABLE_IN_ALL
TkeAuditTrail *tke_audit_trail_new (const char *path);
TKE_AVAILABLE_IN_ALL
const char *tke_audit_trail_get_path (TkeAuditTrail *self);
TKE_AVAILABLE_IN_ALL
char *tke_audit_trail_new_ceremony_id (void);
TKE_AVAILABLE_IN_ALL
gboolean tke_audit_trail_append (TkeAuditTrail *self, TkeAuditEntry *entry, GError **error);
TKE_AVAILABLE_IN_ALL
void tke_audit_trail_append_async (TkeAuditTrail *self,
                                   TkeAuditEntry *entry,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_audit_trail_append_finish (TkeAuditTrail *self, GAsyncResult *result, GError **error);
TKE_AVAILABLE_IN_ALL
gboolean tke_audit_trail_verify (TkeAuditTrail *self, guint *n_records, GError **error);
TKE_AVAILABLE_IN_ALL
gboolean tke_audit_trail_verify_full (TkeAuditTrail *self,
                                      guint *n_records,
                                      gint64 *first_damaged,
                                      gint64 *last_damaged,
                                      GError **error);

TKE_AVAILABLE_IN_ALL
gboolean
tke_audit_trail_begin_ceremony (TkeAuditTrail *self, TkeCeremony *ceremony, GError **error);
TKE_AVAILABLE_IN_ALL
void
tke_audit_trail_end_ceremony (TkeAuditTrail *self, TkeCeremony *ceremony, const GError *failure);
TKE_AVAILABLE_IN_ALL
gboolean tke_audit_trail_begin_rotation (TkeAuditTrail *self,
                                         TkeRotation *rotation,
                                         const char *kind,
                                         GError **error);
TKE_AVAILABLE_IN_ALL
void
tke_audit_trail_end_rotation (TkeAuditTrail *self, TkeRotation *rotation, const GError *failure);

TKE_AVAILABLE_IN_ALL
void tke_audit_trail_begin_ceremony_async (TkeAuditTrail *self,
                                           TkeCeremony *ceremony,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);
TKE_AVAILABLE_IN_ALL
void tke_audit_trail_end_ceremony_async (TkeAuditTrail *self,
                                         TkeCeremony *ceremony,
                                         const GError *failure,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
TKE_AVAILABLE_IN_ALL
void tke_audit_trail_begin_rotation_async (TkeAuditTrail *self,
                                           TkeRotation *rotation,
                                           const char *kind,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_audit_trail_begin_finish (TkeAuditTrail *self, GAsyncResult *result, GError **error);
TKE_AVAILABLE_IN_ALL
void tke_audit_trail_end_rotation_async (TkeAuditTrail *self,
                                         TkeRotation *rotation,
                                         const GError *failure,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
TKE_AVAILABLE_IN_ALL
char *tke_audit_trail_dup_ceremony_id (TkeAuditTrail *self, gpointer ceremony);
TKE_AVAILABLE_IN_ALL
gboolean tke_audit_trail_end_finish (TkeAuditTrail *self, GAsyncResult *result, GError **error);

G_END_DECLS
