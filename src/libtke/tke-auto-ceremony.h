/* tke-auto-ceremony.h: master keys made by a recovery crypto unit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-audit-trail.h"
#include "tke-journal.h"
#include "tke-recovery.h"
#include "tke-service-client.h"
#include "tke-service-instance.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

/**
 * TkeAutoKind:
 * @TKE_AUTO_INIT: auto-init: administrators, thresholds, a random master
 *   key made in a recovery unit and copied to every unit, set immediate
 * @TKE_AUTO_MK_ROTATE: auto-mk-rotate: a random key made in a recovery unit
 *   and copied into every unit's new register, the delay, then the caller
 *   runs a #TkeRotation
 * @TKE_AUTO_RECOVER: auto-recover (auto-mk-recover): the current master key
 *   of a recovery unit copied to the units whose current register is Empty
 * @TKE_AUTO_FAILOVER: failover-enable: the service adds failover units, which
 *   get the administrators, thresholds and current master key
 *
 * The operations of the recovery-unit path.
 */
typedef enum
{
  TKE_AUTO_INIT,
  TKE_AUTO_MK_ROTATE,
  TKE_AUTO_RECOVER,
  TKE_AUTO_FAILOVER,
} TkeAutoKind;

/**
 * TKE_AUTO_DELAY_MESSAGE:
 *
 * The line auto-mk-rotate prints before the key storage is rewrapped; its
 * recovery depends on whether it was printed.
 */
#define TKE_AUTO_DELAY_MESSAGE                                                                     \
  "Delaying 30 seconds to allow server to discover new master key values"

/**
 * TKE_AUTO_DEFAULT_DELAY_MS:
 *
 * The real plug-in's delay before the rewrap.
 */
#define TKE_AUTO_DEFAULT_DELAY_MS 30000

#define TKE_TYPE_AUTO_CEREMONY (tke_auto_ceremony_get_type ())
TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeAutoCeremony, tke_auto_ceremony, TKE, AUTO_CEREMONY, GObject)

TKE_AVAILABLE_IN_ALL
TkeAutoCeremony *
tke_auto_ceremony_new (TkeServiceClient *client, TkeServiceInstance *instance, TkeAutoKind kind);
TKE_AVAILABLE_IN_ALL
void tke_auto_ceremony_set_signers (TkeAutoCeremony *self, GPtrArray *signers);
TKE_AVAILABLE_IN_ALL
void tke_auto_ceremony_set_thresholds (TkeAutoCeremony *self,
                                       guint signature_threshold,
                                       guint revocation_threshold);
TKE_AVAILABLE_IN_ALL
void tke_auto_ceremony_set_failover_total (TkeAutoCeremony *self, guint total);
TKE_AVAILABLE_IN_ALL
void tke_auto_ceremony_set_delay (TkeAutoCeremony *self, guint milliseconds);
TKE_AVAILABLE_IN_ALL
void tke_auto_ceremony_set_journal (TkeAutoCeremony *self, TkeJournal *journal);
TKE_AVAILABLE_IN_ALL
TkeServiceInstance *tke_auto_ceremony_get_instance (TkeAutoCeremony *self);

TKE_AVAILABLE_IN_ALL
void tke_auto_ceremony_run_async (TkeAutoCeremony *self,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_auto_ceremony_run_finish (TkeAutoCeremony *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
TkeRecoveryAction tke_auto_ceremony_get_advice (TkeAutoCeremony *self);
TKE_AVAILABLE_IN_ALL
const char *tke_auto_ceremony_get_advice_explanation (TkeAutoCeremony *self);

TKE_AVAILABLE_IN_ALL
char *tke_auto_journal_get_default_path (void);
TKE_AVAILABLE_IN_ALL
char *tke_auto_journal_dup_delayed_vp (TkeJournal *journal);
TKE_AVAILABLE_IN_ALL
guint tke_auto_ceremony_get_n_signers (TkeAutoKind kind, GListModel *units);
TKE_AVAILABLE_IN_ALL
char *tke_auto_ceremony_why_not (TkeAutoKind kind,
                                 GListModel *units,
                                 TkeRecoveryAction advice,
                                 guint n_signers);
TKE_AVAILABLE_IN_ALL
const char *tke_auto_kind_get_name (TkeAutoKind kind);

TKE_AVAILABLE_IN_ALL
gboolean
tke_audit_trail_begin_auto (TkeAuditTrail *self, TkeAutoCeremony *ceremony, GError **error);
TKE_AVAILABLE_IN_ALL
void tke_audit_trail_begin_auto_async (TkeAuditTrail *self,
                                       TkeAutoCeremony *ceremony,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
TKE_AVAILABLE_IN_ALL
void
tke_audit_trail_end_auto (TkeAuditTrail *self, TkeAutoCeremony *ceremony, const GError *failure);
TKE_AVAILABLE_IN_ALL
void tke_audit_trail_end_auto_async (TkeAuditTrail *self,
                                     TkeAutoCeremony *ceremony,
                                     const GError *failure,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);

TKE_AVAILABLE_IN_ALL
TkeRecoveryAction tke_recovery_advise_auto_rotate (GPtrArray *units,
                                                   TkeRotationStatus *status,
                                                   const char *delayed_to_vp,
                                                   char **explanation);

/**
 * TKE_CONTROL_POINT_EDDSA:
 *
 * EP11's XCP_CPB_ALG_EC_25519: curve 25519 and 448, EdDSA (cryptounit-cp-eddsa).
 */
#define TKE_CONTROL_POINT_EDDSA 55
/**
 * TKE_CONTROL_POINT_BTC:
 *
 * EP11's XCP_CPB_BTC: BTC-related functions (cryptounit-cp-btc).
 */
#define TKE_CONTROL_POINT_BTC 66
/**
 * TKE_CONTROL_POINT_ECDSA_OTHER:
 *
 * EP11's XCP_CPB_ECDSA_OTHER: non-ECDSA, non-EdDSA elliptic curve signature
 * algorithms (cryptounit-cp-sig-other).
 */
#define TKE_CONTROL_POINT_ECDSA_OTHER 67

TKE_AVAILABLE_IN_ALL
GArray *tke_crypto_unit_dup_control_points (TkeCryptoUnit *unit);
TKE_AVAILABLE_IN_ALL
gboolean tke_crypto_unit_has_control_point (TkeCryptoUnit *unit, guint index);

TKE_AVAILABLE_IN_ALL
void tke_service_client_set_control_point_async (TkeServiceClient *self,
                                                 TkeCryptoUnit *unit,
                                                 guint index,
                                                 gboolean value,
                                                 GPtrArray *signers,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_service_client_set_control_point_finish (TkeServiceClient *self,
                                                      GAsyncResult *result,
                                                      GError **error);

G_END_DECLS
