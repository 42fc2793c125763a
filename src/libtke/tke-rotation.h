/* tke-rotation.h: a master key rotation, and the recovery after one failed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-journal.h"
#include "tke-precheck.h"
#include "tke-recovery.h"
#include "tke-service-client.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_ROTATION (tke_rotation_get_type ())
TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeRotation, tke_rotation, TKE, ROTATION, GObject)

/*
 * Signals:
 *   "message" (const char *text): each new message of the service, in order
 *   "progress" (guint64 keys_done, guint64 keys_total): during the rewrap
 *   "unit-done" (TkeCryptoUnit *unit, const GError *error): set immediate on
 *     one unit ended (error NULL on success)
 */
TKE_AVAILABLE_IN_ALL
TkeRotation *tke_rotation_new (TkeServiceClient *client,
                               TkeServiceInstance *instance,
                               GPtrArray *selected_units);
/* @signers: GPtrArray of TkeSigner; set immediate needs one signature. */
TKE_AVAILABLE_IN_ALL
void tke_rotation_set_signers (TkeRotation *self, GPtrArray *signers);
/* NULL: no journal (tests of the logic only); default: none set. */
TKE_AVAILABLE_IN_ALL
void tke_rotation_set_journal (TkeRotation *self, TkeJournal *journal);
TKE_AVAILABLE_IN_ALL
void tke_rotation_set_poll_interval (TkeRotation *self, guint milliseconds);

/* Pre-check, start (or resume), rewrap, set immediate on every unit. */
TKE_AVAILABLE_IN_ALL
void tke_rotation_run_async (TkeRotation *self,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_rotation_run_finish (TkeRotation *self, GAsyncResult *result, GError **error);

/* Refreshes the units and the rotation state and computes the advice. */
TKE_AVAILABLE_IN_ALL
void tke_rotation_advise_async (TkeRotation *self,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
TKE_AVAILABLE_IN_ALL
TkeRecoveryAction
tke_rotation_advise_finish (TkeRotation *self, GAsyncResult *result, GError **error);

/* Advises, then carries out the advised action; never anything else. */
TKE_AVAILABLE_IN_ALL
void tke_rotation_recover_async (TkeRotation *self,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_rotation_recover_finish (TkeRotation *self, GAsyncResult *result, GError **error);

/* The advice computed after the last failure (or advise/recover). */
TKE_AVAILABLE_IN_ALL
gboolean tke_rotation_has_advice (TkeRotation *self);
TKE_AVAILABLE_IN_ALL
TkeRecoveryAction tke_rotation_get_advice (TkeRotation *self);
TKE_AVAILABLE_IN_ALL
const char *tke_rotation_get_advice_explanation (TkeRotation *self);
/* Returns: (element-type TkeCryptoUnit) (transfer none): units already switched */
TKE_AVAILABLE_IN_ALL
GPtrArray *tke_rotation_get_switched_units (TkeRotation *self);
/* Returns: (nullable) (transfer none): the service's last rotation state */
TKE_AVAILABLE_IN_ALL
TkeRotationStatus *tke_rotation_get_status (TkeRotation *self);
/* Returns: (nullable) (transfer none): why set immediate failed on @unit */
TKE_AVAILABLE_IN_ALL
const GError *tke_rotation_get_unit_error (TkeRotation *self, TkeCryptoUnit *unit);

G_END_DECLS
