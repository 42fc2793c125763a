/* tke-json-private.h: reading members of untrusted JSON (not installed)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * json-glib's *_member_with_default() getters raise a critical warning
 * when a member has the wrong kind (an array where a string was meant);
 * input from a file or the network must get an error instead.  These
 * return the default for a missing member, null or any other kind.
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The member's string, or NULL. */
const char *_tke_json_get_string (JsonObject *object, const char *member);
/* The member's integer (not a double, not a boolean), or @default_value. */
gint64 _tke_json_get_int (JsonObject *object, const char *member, gint64 default_value);
/* The member's boolean, or @default_value. */
gboolean _tke_json_get_bool (JsonObject *object, const char *member, gboolean default_value);
/* The member's object, or NULL. */
JsonObject *_tke_json_get_object (JsonObject *object, const char *member);
/* The member's array, or NULL. */
JsonArray *_tke_json_get_array (JsonObject *object, const char *member);
/* json-glib's parser recurses once per level of [ or {, and some 100 000
 * levels overflow a thread's stack; what libtke reads (its files, the
 * service's answers) nests a handful of levels. */
#define TKE_JSON_MAX_DEPTH 64

/* Whether @data nests no deeper than TKE_JSON_MAX_DEPTH (a scan of the
 * bytes, before any parser sees them). */
gboolean _tke_json_depth_ok (const char *data, gsize length);
/* The root of @data (@length bytes, not NUL-terminated) parsed as JSON, a
 * new reference, or NULL with @error set (also for empty or blank input, or nesting deeper than
 * TKE_JSON_MAX_DEPTH). */
JsonNode *_tke_json_parse_bytes (const char *data, gsize length, GError **error);

G_END_DECLS
