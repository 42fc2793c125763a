/* tke-crypto-unit-private.h: what libtke sets on a crypto unit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tke-crypto-unit.h"

G_BEGIN_DECLS

void _tke_crypto_unit_set_evidence (TkeCryptoUnit *self, const char *evidence);

/* What the unit's last query said beyond the public properties: whether
 * the instance has PKCS#11 keystores, and the set control points' numbers
 * (GArray of guint, or NULL when the query named none). */
#define TKE_CRYPTO_UNIT_PKCS11_KEY "tke-pkcs11-keystores"
#define TKE_CRYPTO_UNIT_CONTROL_POINTS_KEY "tke-control-points"
/* A command answer's signed evidence, until its state is applied. */
#define TKE_CRYPTO_UNIT_ANSWER_EVIDENCE_KEY "tke-answer-evidence"
/* Set while the unit's state is the one its last command answer signed. */
#define TKE_CRYPTO_UNIT_STATE_FROM_ANSWER_KEY "tke-state-from-answer"

static inline gboolean
_tke_crypto_unit_get_pkcs11_keystores (TkeCryptoUnit *self)
{
  return GPOINTER_TO_INT (g_object_get_data (G_OBJECT (self), TKE_CRYPTO_UNIT_PKCS11_KEY));
}

G_END_DECLS
