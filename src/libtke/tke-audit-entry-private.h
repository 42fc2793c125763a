/* tke-audit-entry-private.h: what TkeAuditTrail reads of an entry
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "tke-audit-entry.h"

G_BEGIN_DECLS

JsonObject *_tke_audit_entry_get_object (TkeAuditEntry *self);
gboolean _tke_audit_entry_verify_importer (JsonObject *importer, GBytes *root, char **why);

G_END_DECLS
