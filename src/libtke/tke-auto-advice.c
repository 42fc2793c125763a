/* tke-auto-advice.c: what to do after auto-mk-rotate stopped
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The service's troubleshooting page for recovery units has three cases,
 * keyed on two lines of the output: no "Delaying 30 seconds…" and no
 * rewrap message → run auto-mk-rotate again; "Delaying…" but no rewrap
 * message → run cryptounit-mk-rotate and never auto-mk-rotate again (a new
 * random key would overwrite the new registers the key storage is being
 * rewrapped to); both → set immediate.  libtke keys on the same facts: its
 * journal says whether the delay was reached, the service says whether the
 * rewrap finished.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-auto-ceremony-private.h"
#include "tke-crypto-unit-private.h"
#include "tke-service-client-private.h"

char *
_tke_auto_delayed_to_vp (TkeJournal *journal)
{
  g_autoptr (GPtrArray) records = journal != NULL ? tke_journal_read (journal, NULL) : NULL;

  for (guint i = records != NULL ? records->len : 0; i > 0; i--)
    {
      TkeJournalRecord *record = records->pdata[i - 1];

      if (g_strcmp0 (record->step, TKE_AUTO_JOURNAL_STEP_DELAY) == 0 && record->detail != NULL)
        return g_strdup (record->detail);
    }
  return NULL;
}

static gboolean
all_current (GPtrArray *units, const char *vp)
{
  for (guint i = 0; i < units->len; i++)
    if (tke_crypto_unit_get_current_register_state (units->pdata[i]) !=
            TKE_CURRENT_REGISTER_VALID ||
        g_ascii_strcasecmp (tke_crypto_unit_get_current_register_vp (units->pdata[i]), vp) != 0)
      return FALSE;
  return TRUE;
}

/**
 * tke_recovery_advise_auto_rotate:
 * @units: (element-type TkeCryptoUnit): the instance's units (recovery units left out)
 * @status: (nullable): the service's rotation status
 * @delayed_to_vp: (nullable): the VP the last auto-mk-rotate reached the
 *   delay for (its journal), or %NULL
 * @explanation: (out) (optional) (transfer full): why, translated
 *
 * The documented recovery after auto-mk-rotate stopped.
 * %TKE_RECOVERY_ACTION_ROTATE: run auto-mk-rotate again (the key storage
 * was not touched); %TKE_RECOVERY_ACTION_RESUME_ROTATE: run
 * cryptounit-mk-rotate, never auto-mk-rotate; %TKE_RECOVERY_ACTION_SET_IMMEDIATE
 * (or its variant with switched units): the rewrap is done, set immediate;
 * %TKE_RECOVERY_ACTION_NONE: nothing is pending.
 *
 * Returns: the action
 */
TkeRecoveryAction
tke_recovery_advise_auto_rotate (GPtrArray *units,
                                 TkeRotationStatus *status,
                                 const char *delayed_to_vp,
                                 char **explanation)
{
  TkeRotationState state =
      status != NULL ? tke_rotation_status_get_state (status) : TKE_ROTATION_STATE_NONE;
  const char *why;
  TkeRecoveryAction action;

  g_return_val_if_fail (units != NULL, TKE_RECOVERY_ACTION_STOP);

  if (state == TKE_ROTATION_STATE_REWRAPPED)
    return tke_recovery_advise (units, status, NULL, explanation);
  if (state == TKE_ROTATION_STATE_REWRAPPING || state == TKE_ROTATION_STATE_FAILED)
    {
      action = TKE_RECOVERY_ACTION_RESUME_ROTATE;
      why = _ ("The key storage is being rewrapped to the new master key (“Delaying 30 "
               "seconds…” was printed, the rewrap message was not). Run cryptounit-mk-rotate "
               "to finish it; never run auto-mk-rotate again, which would make the key storage "
               "unusable.");
    }
  else if (delayed_to_vp != NULL && !all_current (units, delayed_to_vp))
    {
      action = TKE_RECOVERY_ACTION_RESUME_ROTATE;
      why = _ ("auto-mk-rotate reached “Delaying 30 seconds…” for this new master key, and the "
               "rewrap did not finish. Run cryptounit-mk-rotate; never run auto-mk-rotate "
               "again, which would make the key storage unusable.");
    }
  else
    {
      gboolean pending = FALSE;

      for (guint i = 0; i < units->len; i++)
        pending |=
            tke_crypto_unit_get_new_register_state (units->pdata[i]) != TKE_NEW_REGISTER_EMPTY;
      action = pending ? TKE_RECOVERY_ACTION_ROTATE : TKE_RECOVERY_ACTION_NONE;
      why = pending ? _ ("The key storage was not touched (no “Delaying 30 seconds…”): run "
                         "auto-mk-rotate again; a new random master key replaces the new "
                         "registers.")
                    : _ ("No master key rotation is pending.");
    }
  if (explanation != NULL)
    *explanation = g_strdup (why);
  return action;
}

/* ---- Control points -------------------------------------------------------- */

/**
 * tke_crypto_unit_dup_control_points:
 * @unit: a queried crypto unit
 *
 * The numbers of @unit's domain control points that are set, as its last
 * query said (EP11's numbering: #TKE_CONTROL_POINT_EDDSA,
 * #TKE_CONTROL_POINT_BTC, #TKE_CONTROL_POINT_ECDSA_OTHER).
 *
 * Returns: (transfer full) (element-type guint) (nullable): the set bits,
 *   sorted, or %NULL when the service named none
 */
GArray *
tke_crypto_unit_dup_control_points (TkeCryptoUnit *unit)
{
  GArray *bits;

  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (unit), NULL);
  bits = g_object_get_data (G_OBJECT (unit), TKE_CRYPTO_UNIT_CONTROL_POINTS_KEY);
  return bits != NULL ? g_array_copy (bits) : NULL;
}

/**
 * tke_crypto_unit_has_control_point:
 * @unit: a queried crypto unit
 * @index: a control point number
 *
 * Returns: whether the control point is set
 */
gboolean
tke_crypto_unit_has_control_point (TkeCryptoUnit *unit, guint index)
{
  GArray *bits;

  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (unit), FALSE);
  bits = g_object_get_data (G_OBJECT (unit), TKE_CRYPTO_UNIT_CONTROL_POINTS_KEY);
  for (guint i = 0; bits != NULL && i < bits->len; i++)
    if (g_array_index (bits, guint, i) == index)
      return TRUE;
  return FALSE;
}

/**
 * tke_service_client_set_control_point_async:
 * @self: a logged-in client
 * @unit: the crypto unit
 * @index: the control point number (0 to 127)
 * @value: set or clear it
 * @signers: (element-type TkeSigner) (nullable): the signature threshold's signers
 * @cancellable: (nullable): cancels the command
 * @callback: called on the caller's main context
 * @user_data: for @callback
 *
 * Sets or clears one domain control point (service-protocol.md §11.3).
 */
void
tke_service_client_set_control_point_async (TkeServiceClient *self,
                                            TkeCryptoUnit *unit,
                                            guint index,
                                            gboolean value,
                                            GPtrArray *signers,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data)
{
  g_autofree char *text =
      g_strdup_printf ("{\"index\": %u, \"value\": %s}", index, value ? "true" : "false");
  g_autoptr (JsonNode) args = json_from_string (text, NULL);

  g_return_if_fail (TKE_IS_SERVICE_CLIENT (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));
  _tke_service_client_command_async (self, unit, "set_control_point", args, NULL, signers,
                                     tke_service_client_set_control_point_async, cancellable,
                                     callback, user_data);
}

/**
 * tke_service_client_set_control_point_finish:
 * @self: the client
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the unit changed the control point
 */
gboolean
tke_service_client_set_control_point_finish (TkeServiceClient *self,
                                             GAsyncResult *result,
                                             GError **error)
{
  g_autoptr (JsonObject) object = _tke_service_client_command_finish (self, result, error);

  return object != NULL;
}
