/* tke-precheck.h: the pre-checks before a master key rotation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-crypto-unit.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

/**
 * TkePrecheck:
 * @TKE_PRECHECK_OK: every pre-check passed
 * @TKE_PRECHECK_NO_UNITS: no crypto unit is selected
 * @TKE_PRECHECK_SEVERAL_INSTANCES: the selection spans more than one service instance
 * @TKE_PRECHECK_NOT_ALL_UNITS: a unit of the instance that must take part
 *   (tke_precheck_unit_takes_part()) is not selected
 * @TKE_PRECHECK_UNREACHABLE: a selected unit cannot be reached
 * @TKE_PRECHECK_IMPRINT_MODE: a selected unit is in imprint mode
 * @TKE_PRECHECK_THRESHOLDS: the signature thresholds differ
 * @TKE_PRECHECK_ADMINISTRATORS: fewer common administrators than the threshold
 * @TKE_PRECHECK_CURRENT_REGISTER: current registers not all Valid with one VP
 * @TKE_PRECHECK_NEW_REGISTER: new registers not all Full Committed with one VP
 *   (different from the current one)
 * @TKE_PRECHECK_TOKEN_EXPIRED: the login token has expired
 *
 * The pre-checks of DESIGN §5, each with its own code and sentence.
 */
typedef enum
{
  TKE_PRECHECK_OK,
  TKE_PRECHECK_NO_UNITS,
  TKE_PRECHECK_SEVERAL_INSTANCES,
  TKE_PRECHECK_NOT_ALL_UNITS,
  TKE_PRECHECK_UNREACHABLE,
  TKE_PRECHECK_IMPRINT_MODE,
  TKE_PRECHECK_THRESHOLDS,
  TKE_PRECHECK_ADMINISTRATORS,
  TKE_PRECHECK_CURRENT_REGISTER,
  TKE_PRECHECK_NEW_REGISTER,
  TKE_PRECHECK_TOKEN_EXPIRED,
} TkePrecheck;

/**
 * TkeCompareField:
 * @TKE_COMPARE_NONE: the unit agrees with the others
 * @TKE_COMPARE_IMPRINT_MODE: its imprint mode differs
 * @TKE_COMPARE_SIGNATURE_THRESHOLD: its signature threshold differs
 * @TKE_COMPARE_REVOCATION_THRESHOLD: its revocation threshold differs
 * @TKE_COMPARE_ADMINISTRATORS: its set of administrators (by SKI) differs
 * @TKE_COMPARE_CURRENT_REGISTER: its current register (state or VP) differs
 * @TKE_COMPARE_NEW_REGISTER: its new register (state or VP) differs
 *
 * Which values of one unit differ from those most of the units hold.
 */
typedef enum /*< flags >*/
{
  TKE_COMPARE_NONE = 0,
  TKE_COMPARE_IMPRINT_MODE = 1 << 0,
  TKE_COMPARE_SIGNATURE_THRESHOLD = 1 << 1,
  TKE_COMPARE_REVOCATION_THRESHOLD = 1 << 2,
  TKE_COMPARE_ADMINISTRATORS = 1 << 3,
  TKE_COMPARE_CURRENT_REGISTER = 1 << 4,
  TKE_COMPARE_NEW_REGISTER = 1 << 5,
} TkeCompareField;

TKE_AVAILABLE_IN_ALL
TkePrecheck tke_precheck_rotation (GListModel *instance_units,
                                   GPtrArray *selected,
                                   gint64 token_expiration,
                                   GError **error);

TKE_AVAILABLE_IN_ALL
gboolean tke_precheck_unit_takes_part (TkeCryptoUnit *unit);

TKE_AVAILABLE_IN_ALL
TkeCompareField tke_precheck_compare_unit (GPtrArray *units, guint index);

TKE_AVAILABLE_IN_ALL
GPtrArray *tke_precheck_common_administrators (GPtrArray *units);

G_END_DECLS
