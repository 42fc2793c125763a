/* tke-types.h: the enumerations of the domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <glib.h>

#include "tke-version-macros.h"

G_BEGIN_DECLS

/**
 * TkeCryptoUnitType:
 * @TKE_CRYPTO_UNIT_TYPE_OPERATIONAL: serves the instance's keys
 * @TKE_CRYPTO_UNIT_TYPE_RECOVERY: holds a copy of the master key for recovery
 * @TKE_CRYPTO_UNIT_TYPE_FAILOVER: stands by in another region
 *
 * The role of a crypto unit in its service instance.
 */
typedef enum
{
  TKE_CRYPTO_UNIT_TYPE_OPERATIONAL,
  TKE_CRYPTO_UNIT_TYPE_RECOVERY,
  TKE_CRYPTO_UNIT_TYPE_FAILOVER,
} TkeCryptoUnitType;

/**
 * TkeNewRegisterState:
 * @TKE_NEW_REGISTER_EMPTY: "Empty"
 * @TKE_NEW_REGISTER_FULL_UNCOMMITTED: "Full Uncommitted": parts loaded
 * @TKE_NEW_REGISTER_FULL_COMMITTED: "Full Committed": ready to rotate or set immediate
 *
 * The state of a crypto unit's new master key register. There is no
 * "partially full" state: a load is all or nothing.
 */
typedef enum
{
  TKE_NEW_REGISTER_EMPTY,
  TKE_NEW_REGISTER_FULL_UNCOMMITTED,
  TKE_NEW_REGISTER_FULL_COMMITTED,
} TkeNewRegisterState;

/**
 * TkeCurrentRegisterState:
 * @TKE_CURRENT_REGISTER_EMPTY: "Empty"
 * @TKE_CURRENT_REGISTER_VALID: "Valid": the key that wraps key storage
 *
 * The state of a crypto unit's current master key register.
 */
typedef enum
{
  TKE_CURRENT_REGISTER_EMPTY,
  TKE_CURRENT_REGISTER_VALID,
} TkeCurrentRegisterState;

/* The exact strings of the service and of the real tool; not translated,
 * since administrators compare them with the service's own output. */
TKE_AVAILABLE_IN_ALL
const char *tke_crypto_unit_type_to_string (TkeCryptoUnitType type);
TKE_AVAILABLE_IN_ALL
gboolean tke_crypto_unit_type_from_string (const char *text, TkeCryptoUnitType *type);
TKE_AVAILABLE_IN_ALL
const char *tke_new_register_state_to_string (TkeNewRegisterState state);
TKE_AVAILABLE_IN_ALL
gboolean tke_new_register_state_from_string (const char *text, TkeNewRegisterState *state);
TKE_AVAILABLE_IN_ALL
const char *tke_current_register_state_to_string (TkeCurrentRegisterState state);
TKE_AVAILABLE_IN_ALL
gboolean tke_current_register_state_from_string (const char *text, TkeCurrentRegisterState *state);

/**
 * TKE_EMPTY_VP:
 *
 * The verification pattern of an empty register: 64 zeros.
 */
#define TKE_EMPTY_VP "0000000000000000000000000000000000000000000000000000000000000000"

TKE_AVAILABLE_IN_ALL
gboolean tke_vp_is_valid (const char *vp);
TKE_AVAILABLE_IN_ALL
char *tke_vp_format_groups (const char *vp);
TKE_AVAILABLE_IN_ALL
char *tke_vp_format_one_line (const char *hex);

G_END_DECLS
