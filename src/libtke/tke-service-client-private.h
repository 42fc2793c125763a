/* tke-service-client-private.h: the pure parts of the service client,
 * exported for the unit tests only (not installed)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "tke-crypto-unit.h"
#include "tke-rotation-status.h"
#include "tke-service-client.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

/* A unit from an entry of GET …/hsms (identity only). */
TKE_AVAILABLE_IN_ALL
TkeCryptoUnit *tke_service_parse_hsm (const char *instance_id, JsonObject *hsm, GError **error);
/* Applies the result of the query command to @unit; returns the counter. */
TKE_AVAILABLE_IN_ALL
gboolean
tke_service_apply_query (TkeCryptoUnit *unit, JsonObject *result, gint64 *counter, GError **error);
TKE_AVAILABLE_IN_ALL
TkeRotationStatus *tke_service_parse_rotation_status (JsonObject *object, GError **error);
TKE_AVAILABLE_IN_ALL
TkeKmsKey *tke_service_parse_kms_key (JsonObject *object, GError **error);
/* Maps an error answer (HTTP status and body, which may be NULL) to a
 * TKE_ERROR with a message a person can act on. */
TKE_AVAILABLE_IN_ALL
void tke_service_set_error_from_response (GError **error, long http_status, JsonNode *body);
/* The "instance" and "exp" claims of a JWT access token (not verified:
 * the service verifies it; the client only reads where it points). */
TKE_AVAILABLE_IN_ALL
gboolean tke_service_read_token_claims (const char *token, char **instance_id, gint64 *expiration);

G_END_DECLS
