/* tke-crypto-unit.h: one crypto unit (an HSM domain) of a service instance
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-administrator.h"
#include "tke-types.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_CRYPTO_UNIT (tke_crypto_unit_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeCryptoUnit, tke_crypto_unit, TKE, CRYPTO_UNIT, GObject)

TKE_AVAILABLE_IN_ALL
TkeCryptoUnit *tke_crypto_unit_new (const char *instance_id,
                                    const char *hsm_id,
                                    guint number,
                                    TkeCryptoUnitType unit_type,
                                    const char *location);

TKE_AVAILABLE_IN_ALL
const char *tke_crypto_unit_get_instance_id (TkeCryptoUnit *self);
TKE_AVAILABLE_IN_ALL
const char *tke_crypto_unit_get_hsm_id (TkeCryptoUnit *self);
TKE_AVAILABLE_IN_ALL
guint tke_crypto_unit_get_number (TkeCryptoUnit *self);
TKE_AVAILABLE_IN_ALL
TkeCryptoUnitType tke_crypto_unit_get_unit_type (TkeCryptoUnit *self);
TKE_AVAILABLE_IN_ALL
const char *tke_crypto_unit_get_location (TkeCryptoUnit *self);

TKE_AVAILABLE_IN_ALL
gboolean tke_crypto_unit_get_selected (TkeCryptoUnit *self);
TKE_AVAILABLE_IN_ALL
void tke_crypto_unit_set_selected (TkeCryptoUnit *self, gboolean selected);
TKE_AVAILABLE_IN_ALL
gboolean tke_crypto_unit_get_reachable (TkeCryptoUnit *self);
TKE_AVAILABLE_IN_ALL
void tke_crypto_unit_set_reachable (TkeCryptoUnit *self, gboolean reachable);

TKE_AVAILABLE_IN_ALL
gboolean tke_crypto_unit_get_imprint_mode (TkeCryptoUnit *self);
TKE_AVAILABLE_IN_ALL
guint tke_crypto_unit_get_signature_threshold (TkeCryptoUnit *self);
TKE_AVAILABLE_IN_ALL
guint tke_crypto_unit_get_revocation_threshold (TkeCryptoUnit *self);
/* How many administrators must sign a command for all of @units (at least 1). */
TKE_AVAILABLE_IN_ALL
guint tke_crypto_units_get_signature_threshold (GListModel *units);
TKE_AVAILABLE_IN_ALL
void tke_crypto_unit_set_thresholds (TkeCryptoUnit *self,
                                     gboolean imprint_mode,
                                     guint signature_threshold,
                                     guint revocation_threshold);

TKE_AVAILABLE_IN_ALL
GListModel *tke_crypto_unit_get_administrators (TkeCryptoUnit *self);
TKE_AVAILABLE_IN_ALL
void tke_crypto_unit_set_administrators (TkeCryptoUnit *self, GPtrArray *administrators);

TKE_AVAILABLE_IN_ALL
TkeNewRegisterState tke_crypto_unit_get_new_register_state (TkeCryptoUnit *self);
TKE_AVAILABLE_IN_ALL
const char *tke_crypto_unit_get_new_register_vp (TkeCryptoUnit *self);
TKE_AVAILABLE_IN_ALL
TkeCurrentRegisterState tke_crypto_unit_get_current_register_state (TkeCryptoUnit *self);
TKE_AVAILABLE_IN_ALL
const char *tke_crypto_unit_get_current_register_vp (TkeCryptoUnit *self);
TKE_AVAILABLE_IN_ALL
void tke_crypto_unit_set_registers (TkeCryptoUnit *self,
                                    TkeNewRegisterState new_state,
                                    const char *new_vp,
                                    TkeCurrentRegisterState current_state,
                                    const char *current_vp);

TKE_AVAILABLE_IN_ALL
char *tke_crypto_unit_dup_evidence (TkeCryptoUnit *self);

G_END_DECLS
