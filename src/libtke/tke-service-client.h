/* tke-service-client.h: the crypto-unit service over HTTPS
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "tke-crypto-unit.h"
#include "tke-rotation-status.h"
#include "tke-secret.h"
#include "tke-service-instance.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

/**
 * TkeKmsKey:
 * @id: the key's id
 * @name: its name
 * @state: 0 pre-active, 1 active, 2 suspended, 3 deactivated, 5 destroyed
 * @creation_date: RFC 3339
 * @extractable: whether it is a standard key (%TRUE) or a root key
 * @wkid: the WKID (32 hex) of the master key that wraps it, or %NULL
 *
 * One key of the instance's KMS keystore, as the key API lists it.
 */
typedef struct
{
  char *id;
  char *name;
  int state;
  char *creation_date;
  gboolean extractable;
  char *wkid;
} TkeKmsKey;

#define TKE_TYPE_KMS_KEY (tke_kms_key_get_type ())
TKE_AVAILABLE_IN_ALL
GType tke_kms_key_get_type (void) G_GNUC_CONST;
TKE_AVAILABLE_IN_ALL
TkeKmsKey *tke_kms_key_copy (const TkeKmsKey *key);
TKE_AVAILABLE_IN_ALL
void tke_kms_key_free (TkeKmsKey *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeKmsKey, tke_kms_key_free)

#define TKE_TYPE_SERVICE_CLIENT (tke_service_client_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeServiceClient, tke_service_client, TKE, SERVICE_CLIENT, GObject)

/*
 * The client.  Every call runs its HTTPS transfers on a worker thread
 * (libcurl, keep-alive, TLS always verified against the CA file or the
 * system's store) and completes on the thread-default main context of the
 * caller.  Cancelling the GCancellable aborts a running transfer.
 *
 * Signed commands (load, commit, set immediate, …) take a GPtrArray of
 * TkeSigner: the client reads the unit's transaction counter, builds the
 * command bytes (service-protocol.md §5.2), asks each signer in turn (a
 * card signer may prompt for its PIN on the PIN pad) and sends the command.
 * The same signer may appear more than once (load: one signature per part).
 *
 * Errors are in TKE_ERROR, with messages a person can act on; an expired
 * token is %TKE_ERROR_AUTH_EXPIRED.
 */
TKE_AVAILABLE_IN_ALL
TkeServiceClient *tke_service_client_new (const char *endpoint, const char *ca_file);
TKE_AVAILABLE_IN_ALL
const char *tke_service_client_get_endpoint (TkeServiceClient *self);
TKE_AVAILABLE_IN_ALL
const char *tke_service_client_get_ca_file (TkeServiceClient *self);
/* Seconds for a whole transfer (default 60) and to connect (default 10). */
TKE_AVAILABLE_IN_ALL
void tke_service_client_set_timeouts (TkeServiceClient *self,
                                      guint transfer_seconds,
                                      guint connect_seconds);

/* The bearer token: set by login, or restored from the keyring.  The
 * instance id is the service instance the token was issued for (the
 * token's "instance" claim), or set explicitly. */
TKE_AVAILABLE_IN_ALL
void tke_service_client_set_token (TkeServiceClient *self, const TkeSecret *access_token);
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_service_client_dup_token (TkeServiceClient *self);
TKE_AVAILABLE_IN_ALL
gint64 tke_service_client_get_token_expiration (TkeServiceClient *self);
TKE_AVAILABLE_IN_ALL
const char *tke_service_client_get_instance_id (TkeServiceClient *self);
TKE_AVAILABLE_IN_ALL
void tke_service_client_set_instance_id (TkeServiceClient *self, const char *instance_id);

/* The pinned unit root (266 hex digits) every unit answer is verified
 * against (tke-unit-identity.h); without one, administrative commands are
 * refused with TKE_ERROR_UNIT_ROOT_NOT_PINNED. */
TKE_AVAILABLE_IN_ALL
void tke_service_client_set_unit_root (TkeServiceClient *self, const char *root_hex);
TKE_AVAILABLE_IN_ALL
char *tke_service_client_dup_unit_root (TkeServiceClient *self);
/* GET …/unit_root: unsigned, only for a person to compare fingerprints. */
TKE_AVAILABLE_IN_ALL
void tke_service_client_fetch_unit_root_async (TkeServiceClient *self,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer user_data);
TKE_AVAILABLE_IN_ALL
char *tke_service_client_fetch_unit_root_finish (TkeServiceClient *self,
                                                 GAsyncResult *result,
                                                 GError **error);

/* POST /identity/token with the API key. */
TKE_AVAILABLE_IN_ALL
void tke_service_client_login_async (TkeServiceClient *self,
                                     const TkeSecret *api_key,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean
tke_service_client_login_finish (TkeServiceClient *self, GAsyncResult *result, GError **error);

/* GET …/hsms, then the query command on every unit: identity, admins,
 * thresholds, imprint mode and both registers.  A unit whose query fails
 * is listed with reachable = FALSE. */
TKE_AVAILABLE_IN_ALL
void tke_service_client_list_units_async (TkeServiceClient *self,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
TKE_AVAILABLE_IN_ALL
TkeServiceInstance *
tke_service_client_list_units_finish (TkeServiceClient *self, GAsyncResult *result, GError **error);

/* Queries each unit of @units (TkeCryptoUnit) again and updates it in
 * place, on the caller's thread: admins, thresholds, registers, reachable. */
TKE_AVAILABLE_IN_ALL
void tke_service_client_refresh_units_async (TkeServiceClient *self,
                                             GListModel *units,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_service_client_refresh_units_finish (TkeServiceClient *self,
                                                  GAsyncResult *result,
                                                  GError **error);

/* Administrative commands (service-protocol.md §5.5).  @signers is a
 * GPtrArray of TkeSigner, in the order they are asked; may be NULL or
 * empty for a unit in imprint mode. */
TKE_AVAILABLE_IN_ALL
void tke_service_client_generate_importer_key_async (TkeServiceClient *self,
                                                     TkeCryptoUnit *unit,
                                                     GPtrArray *signers,
                                                     GCancellable *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer user_data);
/* Returns the importer public key, an uncompressed P-521 point. */
TKE_AVAILABLE_IN_ALL
GBytes *tke_service_client_generate_importer_key_finish (TkeServiceClient *self,
                                                         GAsyncResult *result,
                                                         GError **error);

/* @sealed_parts: GPtrArray of GBytes, 2 or 3, part i sealed with
 * tke_service_client_key_part_aad (unit, i, n).  @signers: one per part. */
TKE_AVAILABLE_IN_ALL
void tke_service_client_load_async (TkeServiceClient *self,
                                    TkeCryptoUnit *unit,
                                    GPtrArray *sealed_parts,
                                    GPtrArray *signers,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
/* Returns the new register's VP (64 hex). */
TKE_AVAILABLE_IN_ALL
char *tke_service_client_load_finish (TkeServiceClient *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_service_client_commit_async (TkeServiceClient *self,
                                      TkeCryptoUnit *unit,
                                      const char *new_vp,
                                      GPtrArray *signers,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean
tke_service_client_commit_finish (TkeServiceClient *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_service_client_set_immediate_async (TkeServiceClient *self,
                                             TkeCryptoUnit *unit,
                                             const char *new_vp,
                                             GPtrArray *signers,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_service_client_set_immediate_finish (TkeServiceClient *self,
                                                  GAsyncResult *result,
                                                  GError **error);

TKE_AVAILABLE_IN_ALL
void tke_service_client_clear_new_register_async (TkeServiceClient *self,
                                                  TkeCryptoUnit *unit,
                                                  GPtrArray *signers,
                                                  GCancellable *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_service_client_clear_new_register_finish (TkeServiceClient *self,
                                                       GAsyncResult *result,
                                                       GError **error);

TKE_AVAILABLE_IN_ALL
void tke_service_client_clear_current_register_async (TkeServiceClient *self,
                                                      TkeCryptoUnit *unit,
                                                      GPtrArray *signers,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback,
                                                      gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_service_client_clear_current_register_finish (TkeServiceClient *self,
                                                           GAsyncResult *result,
                                                           GError **error);

/* @public_key: the uncompressed P-521 point; returns the SKI (64 hex). */
TKE_AVAILABLE_IN_ALL
void tke_service_client_add_admin_async (TkeServiceClient *self,
                                         TkeCryptoUnit *unit,
                                         const char *name,
                                         GBytes *public_key,
                                         GPtrArray *signers,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
TKE_AVAILABLE_IN_ALL
char *
tke_service_client_add_admin_finish (TkeServiceClient *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_service_client_remove_admin_async (TkeServiceClient *self,
                                            TkeCryptoUnit *unit,
                                            const char *ski,
                                            GPtrArray *signers,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_service_client_remove_admin_finish (TkeServiceClient *self,
                                                 GAsyncResult *result,
                                                 GError **error);

TKE_AVAILABLE_IN_ALL
void tke_service_client_set_thresholds_async (TkeServiceClient *self,
                                              TkeCryptoUnit *unit,
                                              guint signature_threshold,
                                              guint revocation_threshold,
                                              GPtrArray *signers,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_service_client_set_thresholds_finish (TkeServiceClient *self,
                                                   GAsyncResult *result,
                                                   GError **error);

TKE_AVAILABLE_IN_ALL
void tke_service_client_zeroize_async (TkeServiceClient *self,
                                       TkeCryptoUnit *unit,
                                       GPtrArray *signers,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean
tke_service_client_zeroize_finish (TkeServiceClient *self, GAsyncResult *result, GError **error);

/* The associated data a key part is sealed with for load:
 * "tke-keypart-v1|{hsm_id}|new|{index}|{n_parts}", index 1-based. */
TKE_AVAILABLE_IN_ALL
GBytes *tke_service_client_key_part_aad (TkeCryptoUnit *unit, guint index, guint n_parts);

/* The exact bytes a signed command carries (service-protocol.md §5.2);
 * @args is copied.  @expires is the command's end of life in Unix seconds
 * (0: now + TKE_COMMAND_LIFETIME_SECONDS); a query carries none.  Public
 * for tests and for signers that show what they sign. */
TKE_AVAILABLE_IN_ALL
GBytes *tke_service_client_build_command (const char *instance_id,
                                          const char *hsm_id,
                                          const char *command,
                                          gint64 counter,
                                          gint64 expires,
                                          const char *args_json);

/* Sends prebuilt command bytes (tke_service_client_build_command()) as
 * they are, signed by @signers: no counter is read.  For tests of replay
 * protection and for tools that show the bytes before signing.  Returns
 * the command's "result" object. */
TKE_AVAILABLE_IN_ALL
void tke_service_client_send_command_async (TkeServiceClient *self,
                                            TkeCryptoUnit *unit,
                                            GBytes *command,
                                            GPtrArray *signers,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
TKE_AVAILABLE_IN_ALL
JsonObject *tke_service_client_send_command_finish (TkeServiceClient *self,
                                                    GAsyncResult *result,
                                                    GError **error);

/* Rotation: POST …/rotate starts or resumes; GET …/rotation reads it. */
TKE_AVAILABLE_IN_ALL
void tke_service_client_start_rotation_async (TkeServiceClient *self,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
TKE_AVAILABLE_IN_ALL
TkeRotationStatus *tke_service_client_start_rotation_finish (TkeServiceClient *self,
                                                             GAsyncResult *result,
                                                             GError **error);
TKE_AVAILABLE_IN_ALL
void tke_service_client_get_rotation_status_async (TkeServiceClient *self,
                                                   GCancellable *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer user_data);
TKE_AVAILABLE_IN_ALL
TkeRotationStatus *tke_service_client_get_rotation_status_finish (TkeServiceClient *self,
                                                                  GAsyncResult *result,
                                                                  GError **error);

/* RewrapKeyBlob: a GREP11 blob under the current master key comes back
 * under the committed new one. */
TKE_AVAILABLE_IN_ALL
void tke_service_client_rewrap_key_blob_async (TkeServiceClient *self,
                                               GBytes *blob,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer user_data);
TKE_AVAILABLE_IN_ALL
GBytes *tke_service_client_rewrap_key_blob_finish (TkeServiceClient *self,
                                                   GAsyncResult *result,
                                                   GError **error);

/* The KMS key API.  list: @offset, @limit (1–5000); returns a GPtrArray
 * of TkeKmsKey and the total number of keys. */
TKE_AVAILABLE_IN_ALL
void tke_service_client_kms_list_keys_async (TkeServiceClient *self,
                                             guint offset,
                                             guint limit,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
TKE_AVAILABLE_IN_ALL
GPtrArray *tke_service_client_kms_list_keys_finish (TkeServiceClient *self,
                                                    GAsyncResult *result,
                                                    guint64 *total_count,
                                                    GError **error);
TKE_AVAILABLE_IN_ALL
void tke_service_client_kms_get_key_async (TkeServiceClient *self,
                                           const char *id,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);
TKE_AVAILABLE_IN_ALL
TkeKmsKey *tke_service_client_kms_get_key_finish (TkeServiceClient *self,
                                                  GAsyncResult *result,
                                                  GError **error);
TKE_AVAILABLE_IN_ALL
void tke_service_client_kms_create_key_async (TkeServiceClient *self,
                                              const char *name,
                                              gboolean extractable,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
TKE_AVAILABLE_IN_ALL
TkeKmsKey *tke_service_client_kms_create_key_finish (TkeServiceClient *self,
                                                     GAsyncResult *result,
                                                     GError **error);
TKE_AVAILABLE_IN_ALL
void tke_service_client_kms_delete_key_async (TkeServiceClient *self,
                                              const char *id,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_service_client_kms_delete_key_finish (TkeServiceClient *self,
                                                   GAsyncResult *result,
                                                   GError **error);

G_END_DECLS
