/* tke-ceremony-report-private.h: what the report's renderers read of it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "tke-ceremony-report.h"

G_BEGIN_DECLS

const char *_tke_ceremony_report_get_summary (TkeCeremonyReport *self);
const char *const *_tke_ceremony_report_get_records (TkeCeremonyReport *self);
JsonArray *_tke_ceremony_report_get_signatures (TkeCeremonyReport *self);
JsonObject *_tke_ceremony_report_parse (const char *json);
void _tke_ceremony_report_append_record (GString *text, JsonObject *record);
gboolean _tke_audit_record_is_deviation (JsonObject *record);

G_END_DECLS
