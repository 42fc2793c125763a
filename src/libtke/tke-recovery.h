/* tke-recovery.h: the one safe action after a rotation stopped
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <glib.h>

#include "tke-crypto-unit.h"
#include "tke-rotation-status.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

/**
 * TkeRecoveryAction:
 * @TKE_RECOVERY_ACTION_NONE: nothing to recover: no rotation stopped half-way
 * @TKE_RECOVERY_ACTION_ROTATE: nothing was changed; fix the cause and run Rotate again
 * @TKE_RECOVERY_ACTION_RESUME_ROTATE: the rewrap is not complete; Rotate again resumes it
 * @TKE_RECOVERY_ACTION_SET_IMMEDIATE: the rewrap is complete; Set immediate on every unit
 * @TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE: some units already
 *   switched to the new key; remove them from the selection, then Set
 *   immediate on the rest
 * @TKE_RECOVERY_ACTION_STOP: the units disagree in a way no action can
 *   repair safely; do nothing and find out why
 *
 * The rows of DESIGN §5, in one place so that both front ends offer the
 * same, and only the safe, action.
 */
typedef enum
{
  TKE_RECOVERY_ACTION_NONE,
  TKE_RECOVERY_ACTION_ROTATE,
  TKE_RECOVERY_ACTION_RESUME_ROTATE,
  TKE_RECOVERY_ACTION_SET_IMMEDIATE,
  TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE,
  TKE_RECOVERY_ACTION_STOP,
} TkeRecoveryAction;

TKE_AVAILABLE_IN_ALL
TkeRecoveryAction tke_recovery_advise (GPtrArray *units,
                                       TkeRotationStatus *status,
                                       GPtrArray **switched_units,
                                       char **explanation);

G_END_DECLS
