/* tke-crypto-unit-private.h: what libtke sets on a crypto unit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tke-crypto-unit.h"

G_BEGIN_DECLS

void _tke_crypto_unit_set_evidence (TkeCryptoUnit *self, const char *evidence);

G_END_DECLS
