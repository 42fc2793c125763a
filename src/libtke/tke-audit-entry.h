/* tke-audit-entry.h: one record of the ceremony record, before it is written
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-crypto-unit.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_AUDIT_ENTRY (tke_audit_entry_get_type ())

typedef struct _TkeAuditEntry TkeAuditEntry;

TKE_AVAILABLE_IN_ALL
GType tke_audit_entry_get_type (void) G_GNUC_CONST;

TKE_AVAILABLE_IN_ALL
TkeAuditEntry *tke_audit_entry_new (const char *ceremony_id,
                                    const char *kind,
                                    const char *step,
                                    const char *outcome);
TKE_AVAILABLE_IN_ALL
TkeAuditEntry *tke_audit_entry_ref (TkeAuditEntry *self);
TKE_AVAILABLE_IN_ALL
void tke_audit_entry_unref (TkeAuditEntry *self);

TKE_AVAILABLE_IN_ALL
void tke_audit_entry_set_detail (TkeAuditEntry *self, const char *detail);
TKE_AVAILABLE_IN_ALL
void tke_audit_entry_add_administrator (TkeAuditEntry *self, const char *name, const char *ski);
TKE_AVAILABLE_IN_ALL
void tke_audit_entry_add_card_administrator (
    TkeAuditEntry *self, const char *name, const char *ski, const char *serial, const char *zone);
TKE_AVAILABLE_IN_ALL
void tke_audit_entry_set_card (TkeAuditEntry *self, const char *serial, const char *zone);
TKE_AVAILABLE_IN_ALL
void tke_audit_entry_add_key_part (TkeAuditEntry *self,
                                   guint index,
                                   guint n_parts,
                                   const char *description,
                                   const char *check_value);
TKE_AVAILABLE_IN_ALL
void tke_audit_entry_set_unit_root (TkeAuditEntry *self, const char *root_hex);
TKE_AVAILABLE_IN_ALL
void tke_audit_entry_add_unit (TkeAuditEntry *self, TkeCryptoUnit *unit);
TKE_AVAILABLE_IN_ALL
void tke_audit_entry_set_importer_key (TkeAuditEntry *self, TkeCryptoUnit *unit, GBytes *importer);
TKE_AVAILABLE_IN_ALL
void tke_audit_entry_add_message (TkeAuditEntry *self, const char *message);
TKE_AVAILABLE_IN_ALL
void tke_audit_entry_set_advice (TkeAuditEntry *self, const char *action, const char *explanation);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeAuditEntry, tke_audit_entry_unref)

G_END_DECLS
