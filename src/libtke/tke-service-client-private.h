/* tke-service-client-private.h: what the files of TkeServiceClient share
 * (not installed)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "tke-crypto-unit.h"
#include "tke-rotation-status.h"
#include "tke-service-client.h"

G_BEGIN_DECLS

struct _TkeServiceClient
{
  GObject parent_instance;

  char *endpoint;
  char *ca_file;
  guint transfer_timeout;
  guint connect_timeout;

  /* Worker threads read these; the caller may set them. */
  GMutex lock;
  TkeSecret *token;
  gint64 token_expiration;
  char *instance_id;
  GPtrArray *idle_handles; /* CURL * */
  GBytes *unit_root;       /* the pinned unit root's point, or NULL */
};

typedef enum
{
  TKE_REQUEST_AUTHORIZED = 1 << 0,
  TKE_REQUEST_INSTANCE_HEADER = 1 << 1,
  /* The exchange carries a credential (the login): its handle, with
   * curl's buffers and the TLS connection, is closed, not pooled. */
  TKE_REQUEST_SENSITIVE = 1 << 2,
} TkeRequestFlags;

/* tke-service-client.c */
char *_tke_service_client_dup_instance_id (TkeServiceClient *self);

/* tke-service-client-transport.c: libcurl's global set-up, with an
 * allocator that cleanses what it frees (once, before any transfer). */
void _tke_service_client_global_init (void);

/* tke-service-client-identity.c: the pinned root and signed answers */
GBytes *_tke_service_client_dup_unit_root_point (TkeServiceClient *self);
void _tke_service_client_install_identity_properties (GObjectClass *object_class);
void
_tke_service_client_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec);
void _tke_service_client_set_property (GObject *object,
                                       guint prop_id,
                                       const GValue *value,
                                       GParamSpec *pspec);
gboolean
_tke_service_client_require_unit_root (TkeServiceClient *self, TkeCryptoUnit *unit, GError **error);
/* Verifies the answer (the whole body) to @command sent to @unit before
 * reading it; returns its "result" and sets @counter. */
JsonObject *_tke_service_client_verified_result (TkeServiceClient *self,
                                                 TkeCryptoUnit *unit,
                                                 JsonObject *answer,
                                                 GBytes *command,
                                                 gint64 *counter,
                                                 GError **error);

/* tke-service-client-transport.c: one HTTPS exchange (worker threads).
 * Returns the parsed JSON body of a 2xx answer (NULL with no error for an
 * empty one, e.g. 204), or sets an error. */
JsonNode *_tke_service_client_request (TkeServiceClient *self,
                                       const char *method,
                                       const char *path,
                                       TkeRequestFlags flags,
                                       const char *content_type,
                                       GBytes *body,
                                       GCancellable *cancellable,
                                       long *http_status,
                                       GError **error);
/* The raw bytes of a 2xx answer, in secure memory (the login's answer,
 * which holds the token); an error answer sets an error. */
TkeSecret *_tke_service_client_request_secret (TkeServiceClient *self,
                                               const char *method,
                                               const char *path,
                                               const char *content_type,
                                               GBytes *body,
                                               GCancellable *cancellable,
                                               GError **error);
/* The same with a JSON @body (nullable) and an object for an answer. */
JsonObject *_tke_service_client_request_object (TkeServiceClient *self,
                                                const char *method,
                                                const char *path,
                                                TkeRequestFlags flags,
                                                JsonNode *body,
                                                GCancellable *cancellable,
                                                GError **error);

/* tke-service-client-parse.c: members of an answer; each sets an error
 * naming the member when it is missing or has the wrong type. */
gboolean _tke_service_missing (GError **error, const char *what);
const char *_tke_service_get_string (JsonObject *object, const char *member, GError **error);
gboolean
_tke_service_get_int (JsonObject *object, const char *member, gint64 *value, GError **error);
gboolean
_tke_service_get_bool (JsonObject *object, const char *member, gboolean *value, GError **error);
const char *_tke_service_get_vp (JsonObject *object, const char *member, GError **error);
/* A KMS collection's "resources" (TkeKmsKey) and its total count. */
GPtrArray *_tke_service_parse_key_collection (JsonObject *answer, guint64 *total, GError **error);
/* The one key of a collection. */
TkeKmsKey *_tke_service_first_key (JsonObject *answer, GError **error);

/* tke-service-client-commands.c */
/* Sends a command; @signatures holds pairs (ski, base64 signature).
 * Returns the response's "result" and sets @counter to the new counter. */
JsonObject *_tke_service_client_post_command (TkeServiceClient *self,
                                              TkeCryptoUnit *unit,
                                              GBytes *command,
                                              GPtrArray *signatures,
                                              GCancellable *cancellable,
                                              gint64 *counter,
                                              GError **error);
JsonObject *_tke_service_client_query_unit (TkeServiceClient *self,
                                            TkeCryptoUnit *unit,
                                            GCancellable *cancellable,
                                            GError **error);
/* Runs @command with @args (or the @prebuilt bytes) through the signers
 * and sends it; the result is the command's "result" object. */
void _tke_service_client_command_async (TkeServiceClient *self,
                                        TkeCryptoUnit *unit,
                                        const char *command,
                                        JsonNode *args,
                                        GBytes *prebuilt,
                                        GPtrArray *signers,
                                        gpointer source_tag,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data);
JsonObject *
_tke_service_client_command_finish (TkeServiceClient *self, GAsyncResult *result, GError **error);
/* tke_service_client_refresh_units_finish(), also giving each unit's
 * transaction counter (gint64, -1: the unit did not answer) from the
 * verified answer its state was read from. */
gboolean _tke_service_client_refresh_units_finish_counters (TkeServiceClient *self,
                                                            GAsyncResult *result,
                                                            GArray **counters,
                                                            GError **error);
/* Sends @command (bytes built with tke_service_client_build_command())
 * with @signatures (pairs ski, base64 signature) as they are. */
void _tke_service_client_send_signed_async (TkeServiceClient *self,
                                            TkeCryptoUnit *unit,
                                            GBytes *command,
                                            GPtrArray *signatures,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
JsonObject *_tke_service_client_send_signed_finish (TkeServiceClient *self,
                                                    GAsyncResult *result,
                                                    GError **error);
/* Builds {"member": value, …} from alternating names and string values. */
JsonNode *_tke_service_string_args (const char *first_member, ...);

/* The pure parts, also used by the unit tests (which link libtke-testable). */

/* A unit from an entry of GET …/hsms (identity only). */
TkeCryptoUnit *_tke_service_parse_hsm (const char *instance_id, JsonObject *hsm, GError **error);
/* Applies the result of the query command to @unit; returns the counter. */
gboolean
_tke_service_apply_query (TkeCryptoUnit *unit, JsonObject *result, gint64 *counter, GError **error);
TkeRotationStatus *_tke_service_parse_rotation_status (JsonObject *object, GError **error);
TkeKmsKey *_tke_service_parse_kms_key (JsonObject *object, GError **error);
/* Maps an error answer (HTTP status and body, which may be NULL) to a
 * TKE_ERROR with a message a person can act on. */
void _tke_service_set_error_from_response (GError **error, long http_status, JsonNode *body);
/* The "instance" and "exp" claims of a JWT access token (not verified:
 * the service verifies it; the client only reads where it points). */
gboolean _tke_service_read_token_claims (const char *token,
                                         gsize length,
                                         char **instance_id,
                                         gint64 *expiration);

G_END_DECLS
