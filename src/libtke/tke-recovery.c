/* tke-recovery.c: the one safe action after a rotation stopped
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * After a failed rotation "an incorrect recovery action can cause the
 * master key value for key storage to be lost".  So the decision is made
 * here, from facts only (every unit's registers and the service's
 * rotation state), by a pure function that the tests walk row by row.
 * VPs are compared in full: two VPs that share the 32 digits a table
 * shows on its first line are still different keys.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-recovery.h"

typedef enum
{
  UNIT_PENDING,  /* old key current, new key committed: waits for set immediate */
  UNIT_SWITCHED, /* new key current, new register empty: already set immediate */
  UNIT_OTHER,
} UnitPhase;

static UnitPhase
unit_phase (TkeCryptoUnit *unit, const char *target_vp)
{
  gboolean current_valid =
      tke_crypto_unit_get_current_register_state (unit) == TKE_CURRENT_REGISTER_VALID;
  const char *current_vp = tke_crypto_unit_get_current_register_vp (unit);

  if (current_valid && g_strcmp0 (current_vp, target_vp) == 0 &&
      tke_crypto_unit_get_new_register_state (unit) == TKE_NEW_REGISTER_EMPTY)
    return UNIT_SWITCHED;

  if (current_valid && g_strcmp0 (current_vp, target_vp) != 0 &&
      tke_crypto_unit_get_new_register_state (unit) == TKE_NEW_REGISTER_FULL_COMMITTED &&
      g_strcmp0 (tke_crypto_unit_get_new_register_vp (unit), target_vp) == 0)
    return UNIT_PENDING;

  return UNIT_OTHER;
}

static TkeRecoveryAction
stop (char **explanation, char *why)
{
  if (explanation != NULL)
    *explanation = why;
  else
    g_free (why);
  return TKE_RECOVERY_ACTION_STOP;
}

static TkeRecoveryAction
advise_after_rewrap (GPtrArray *units,
                     const char *target_vp,
                     GPtrArray *switched,
                     char **explanation)
{
  const char *old_vp = NULL;
  guint n_pending = 0;

  if (target_vp == NULL)
    return stop (explanation,
                 g_strdup (_ ("The service does not say which key the storage was rewrapped to.")));

  for (guint i = 0; i < units->len; i++)
    {
      TkeCryptoUnit *unit = g_ptr_array_index (units, i);

      switch (unit_phase (unit, target_vp))
        {
        case UNIT_SWITCHED:
          g_ptr_array_add (switched, g_object_ref (unit));
          break;
        case UNIT_PENDING:
          /* Every unit still on the old key must hold the same old key. */
          if (old_vp != NULL &&
              g_strcmp0 (old_vp, tke_crypto_unit_get_current_register_vp (unit)) != 0)
            return stop (
                explanation,
                g_strdup_printf (
                    _ ("Crypto unit %u has another current master key than the other units."),
                    tke_crypto_unit_get_number (unit)));
          old_vp = tke_crypto_unit_get_current_register_vp (unit);
          n_pending++;
          break;
        case UNIT_OTHER:
        default:
          return stop (
              explanation,
              g_strdup_printf (
                  _ ("Crypto unit %u holds neither the committed new master key the storage was "
                     "rewrapped to nor that key as its current key."),
                  tke_crypto_unit_get_number (unit)));
        }
    }

  if (n_pending == 0)
    {
      if (explanation != NULL)
        *explanation = g_strdup (_ ("Every crypto unit already uses the new master key."));
      return TKE_RECOVERY_ACTION_NONE;
    }

  if (switched->len == 0)
    {
      if (explanation != NULL)
        *explanation = g_strdup (_ ("The key storage is rewrapped; set immediate on every crypto "
                                    "unit to finish the rotation."));
      return TKE_RECOVERY_ACTION_SET_IMMEDIATE;
    }

  if (explanation != NULL)
    *explanation = g_strdup (
        _ ("Some crypto units already use the new master key. Remove them from the selection, "
           "then set immediate on the others."));
  return TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE;
}

/* Some unit still waits for set immediate to @target_vp. */
static gboolean
any_pending (GPtrArray *units, const char *target_vp)
{
  for (guint i = 0; target_vp != NULL && i < units->len; i++)
    if (unit_phase (g_ptr_array_index (units, i), target_vp) == UNIT_PENDING)
      return TRUE;
  return FALSE;
}

static gboolean
any_new_key_loaded (GPtrArray *units)
{
  for (guint i = 0; i < units->len; i++)
    if (tke_crypto_unit_get_new_register_state (g_ptr_array_index (units, i)) !=
        TKE_NEW_REGISTER_EMPTY)
      return TRUE;
  return FALSE;
}

/**
 * tke_recovery_advise:
 * @units: (element-type TkeCryptoUnit): every crypto unit of the instance
 *   that takes part in the rotation, freshly queried
 * @status: (nullable): the service's rotation state; %NULL if there is none
 * @switched_units: (out) (optional) (element-type TkeCryptoUnit) (transfer full):
 *   for %TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE, the units to
 *   remove from the selection; otherwise empty
 * @explanation: (out) (optional) (transfer full): why, in words for the administrator
 *
 * Works out, from the registers of the units and the state of the
 * service's rotation, the one recovery step that is safe after a rotation
 * failed, so that both front ends offer the same step and only that one.
 *
 * Returns: the only action that is safe now
 */
TkeRecoveryAction
tke_recovery_advise (GPtrArray *units,
                     TkeRotationStatus *status,
                     GPtrArray **switched_units,
                     char **explanation)
{
  g_autoptr (GPtrArray) switched = g_ptr_array_new_with_free_func (g_object_unref);
  TkeRecoveryAction action;
  TkeRotationState state =
      status != NULL ? tke_rotation_status_get_state (status) : TKE_ROTATION_STATE_NONE;

  g_return_val_if_fail (units != NULL, TKE_RECOVERY_ACTION_STOP);

  if (explanation != NULL)
    *explanation = NULL;

  for (guint i = 0; i < units->len; i++)
    if (!tke_crypto_unit_get_reachable (g_ptr_array_index (units, i)))
      {
        action = stop (
            explanation,
            g_strdup_printf (_ ("Crypto unit %u cannot be reached, so its registers are not known. "
                                "Refresh when it is reachable again."),
                             tke_crypto_unit_get_number (g_ptr_array_index (units, i))));
        goto out;
      }

  switch (state)
    {
    case TKE_ROTATION_STATE_NONE:
      action = TKE_RECOVERY_ACTION_ROTATE;
      if (explanation != NULL)
        *explanation = g_strdup (_ (
            "No rotation has changed anything yet. Fix what the pre-checks report, then rotate."));
      break;
    case TKE_ROTATION_STATE_FAILED:
    case TKE_ROTATION_STATE_REWRAPPING:
      if (state == TKE_ROTATION_STATE_FAILED && tke_rotation_status_get_keys_done (status) == 0)
        {
          action = TKE_RECOVERY_ACTION_ROTATE;
          if (explanation != NULL)
            *explanation = g_strdup (_ ("The rotation stopped before any key was rewrapped. Fix "
                                        "the cause, then rotate again."));
        }
      else
        {
          action = TKE_RECOVERY_ACTION_RESUME_ROTATE;
          if (explanation != NULL)
            *explanation = g_strdup (_ ("The key storage is only partly rewrapped. Rotate again: "
                                        "it resumes where it stopped."));
        }
      break;
    case TKE_ROTATION_STATE_REWRAPPED:
      action = advise_after_rewrap (units, tke_rotation_status_get_target_vp (status), switched,
                                    explanation);
      break;
    case TKE_ROTATION_STATE_COMPLETE:
    default:
      /* The service completed it, but a unit (e.g. a recovery unit left
       * out of the selection) still waits for set immediate to the key
       * the storage is under: with or without the switched units
       * selected, that set immediate is the way out, never Rotate. */
      if (status != NULL && any_pending (units, tke_rotation_status_get_target_vp (status)))
        {
          action = advise_after_rewrap (units, tke_rotation_status_get_target_vp (status), switched,
                                        explanation);
          break;
        }
      /* A key loaded after the last rotation means a new rotation is due
       * (or failed before it changed anything, e.g. an expired token). */
      if (any_new_key_loaded (units))
        {
          action = TKE_RECOVERY_ACTION_ROTATE;
          if (explanation != NULL)
            *explanation = g_strdup (
                _ ("The last rotation completed, and a new master key has been loaded since; "
                   "no newer rotation has changed anything yet. Fix what the pre-checks report, "
                   "then rotate."));
          break;
        }
      action = TKE_RECOVERY_ACTION_NONE;
      if (explanation != NULL)
        *explanation = g_strdup (_ ("The last rotation completed."));
      break;
    }

out:
  if (action != TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE)
    g_ptr_array_set_size (switched, 0);
  if (switched_units != NULL)
    *switched_units = g_steal_pointer (&switched);
  return action;
}
