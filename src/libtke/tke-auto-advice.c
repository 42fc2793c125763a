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

      /* The last delay's case was closed: nothing is delayed. */
      if (g_strcmp0 (record->step, TKE_AUTO_JOURNAL_STEP_DELAY_ENDED) == 0)
        return NULL;
      if (g_strcmp0 (record->step, TKE_AUTO_JOURNAL_STEP_DELAY) == 0 && record->detail != NULL)
        return g_strdup (record->detail);
    }
  return NULL;
}

gboolean
_tke_auto_journal_close_delay (
    TkeJournal *journal, const char *instance_id, const char *vp, const char *why, GError **error)
{
  g_autoptr (GPtrArray) none = g_ptr_array_new ();

  return tke_journal_begin (journal, TKE_AUTO_JOURNAL_KIND_ROTATE, instance_id, none, NULL, vp,
                            error) &&
         tke_journal_append (journal, TKE_AUTO_JOURNAL_STEP_DELAY_ENDED, TKE_JOURNAL_OUTCOME_OK,
                             why, error) &&
         tke_journal_end (journal, TKE_JOURNAL_OUTCOME_OK, NULL, error);
}

void
_tke_auto_journal_rotation_done (const char *instance_id, const char *vp)
{
  g_autofree char *path = tke_auto_journal_get_default_path ();
  g_autoptr (TkeJournal) journal = NULL;
  g_autofree char *delayed = NULL;
  g_autoptr (GError) error = NULL;

  if (vp == NULL || !g_file_test (path, G_FILE_TEST_EXISTS))
    return;
  journal = tke_journal_new (path);
  delayed = _tke_auto_delayed_to_vp (journal);
  if (delayed == NULL || g_ascii_strcasecmp (delayed, vp) != 0)
    return;
  if (!_tke_auto_journal_close_delay (journal, instance_id, vp, "the rotation completed", &error))
    g_warning ("The recovery-unit journal cannot be written: %s", error->message);
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

/* Some unit's new register still holds @vp: the key the delay was
 * reached for is still pending.  When none does (the rotation finished on
 * every unit, or the new registers were loaded with key parts since), the
 * journal's delay record is an old one. */
static gboolean
any_new (GPtrArray *units, const char *vp)
{
  for (guint i = 0; i < units->len; i++)
    {
      const char *new_vp = tke_crypto_unit_get_new_register_vp (units->pdata[i]);

      if (tke_crypto_unit_get_new_register_state (units->pdata[i]) != TKE_NEW_REGISTER_EMPTY &&
          new_vp != NULL && g_ascii_strcasecmp (new_vp, vp) == 0)
        return TRUE;
    }
  return FALSE;
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
  else if (delayed_to_vp != NULL && !all_current (units, delayed_to_vp) &&
           any_new (units, delayed_to_vp))
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

/**
 * tke_auto_journal_dup_delayed_vp:
 * @journal: (nullable): the recovery-unit path's journal
 *   (tke_auto_journal_get_default_path()); %NULL: that one
 *
 * The VP of the new master key the last auto-mk-rotate reached
 * #TKE_AUTO_DELAY_MESSAGE for, as tke_recovery_advise_auto_rotate() takes
 * it.  The delay's case is closed, and %NULL returned, once the rotation
 * it started completed (a #TkeRotation to that key records it in the
 * default journal) or the next auto-mk-rotate found the key gone from the
 * new registers.
 *
 * Returns: (transfer full) (nullable): the VP, or %NULL if no
 *   auto-mk-rotate reached the delay or its case ended
 */
char *
tke_auto_journal_dup_delayed_vp (TkeJournal *journal)
{
  g_autoptr (TkeJournal) own = NULL;

  if (journal == NULL)
    {
      g_autofree char *path = tke_auto_journal_get_default_path ();

      journal = own = tke_journal_new (path);
    }
  return _tke_auto_delayed_to_vp (journal);
}

/**
 * tke_auto_kind_get_name:
 * @kind: the operation
 *
 * Returns: the CLI verb of @kind ("auto-init", "auto-mk-rotate",
 *   "auto-recover", "failover-enable"), also the ceremony record's kind
 */
const char *
tke_auto_kind_get_name (TkeAutoKind kind)
{
  switch (kind)
    {
    case TKE_AUTO_INIT:
      return "auto-init";
    case TKE_AUTO_MK_ROTATE:
      return "auto-mk-rotate";
    case TKE_AUTO_RECOVER:
      return "auto-recover";
    case TKE_AUTO_FAILOVER:
    default:
      return "failover-enable";
    }
}

/* ---- What the units allow ---------------------------------------------------- */

static TkeCryptoUnit *
first_of_type (GListModel *units, TkeCryptoUnitType type, gboolean with_current)
{
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (tke_crypto_unit_get_unit_type (unit) == type &&
          (!with_current ||
           tke_crypto_unit_get_current_register_state (unit) == TKE_CURRENT_REGISTER_VALID))
        return unit; /* the list holds it */
    }
  return NULL;
}

static guint
count_of_type (GListModel *units, TkeCryptoUnitType type)
{
  guint n = 0;

  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      n += tke_crypto_unit_get_unit_type (unit) == type;
    }
  return n;
}

/* The signatures the path's commands take on @units: the highest
 * signature threshold (none in imprint mode), at least one. */
static guint
needed_signers (GListModel *units)
{
  guint n = 1;

  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (!tke_crypto_unit_get_imprint_mode (unit))
        n = MAX (n, tke_crypto_unit_get_signature_threshold (unit));
    }
  return n;
}

/* Whether auto-init may run on @units: every unit is in imprint mode, or
 * was set up by an auto-init that stopped before its key (out of imprint
 * mode, both registers Empty) while another is still in imprint mode.  An
 * instance whose every unit left imprint mode is not a new one, keys or
 * not: its key storage may hold keys under a key whose parts can bring it
 * back, and a new random key would bury them.  @blocker: the number of a
 * unit that stops it. */
gboolean
_tke_auto_init_allowed (GListModel *units, guint *blocker)
{
  gboolean any_imprint = FALSE;
  gboolean keyless_out = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (tke_crypto_unit_get_imprint_mode (unit))
        {
          any_imprint = TRUE;
          continue;
        }
      if (!keyless_out)
        *blocker = tke_crypto_unit_get_number (unit);
      keyless_out = TRUE;
      if (tke_crypto_unit_get_current_register_state (unit) != TKE_CURRENT_REGISTER_EMPTY ||
          tke_crypto_unit_get_new_register_state (unit) != TKE_NEW_REGISTER_EMPTY)
        {
          *blocker = tke_crypto_unit_get_number (unit);
          return FALSE;
        }
    }
  return !keyless_out || any_imprint;
}

static char *
why_not_init (GListModel *units)
{
  guint blocker = 0;

  if (!_tke_auto_init_allowed (units, &blocker))
    return g_strdup_printf (_ ("Crypto unit %u is not in imprint mode: initializing with "
                               "recovery units is for a new service instance."),
                            blocker);
  return NULL;
}

static char *
why_not_rotate (GListModel *units, TkeRecoveryAction advice)
{
  TkeCryptoUnit *source = first_of_type (units, TKE_CRYPTO_UNIT_TYPE_RECOVERY, TRUE);

  if (advice == TKE_RECOVERY_ACTION_RESUME_ROTATE)
    return g_strdup (_ ("The key storage is being rewrapped to the new master key the last "
                        "rotation with recovery units made: finish it on the Recovery tab. "
                        "Rotating with recovery units again would make the key storage "
                        "unusable."));
  if (advice == TKE_RECOVERY_ACTION_SET_IMMEDIATE ||
      advice == TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE)
    return g_strdup (_ ("The key storage is rewrapped to the new master key: finish the rotation "
                        "with Set immediate on the Recovery tab."));
  if (advice == TKE_RECOVERY_ACTION_STOP)
    return g_strdup (_ ("A rotation waits for recovery: see the Recovery tab."));
  if (source == NULL)
    return g_strdup (_ ("No recovery crypto unit holds a current master key."));
  if (_tke_crypto_unit_get_pkcs11_keystores (source))
    return g_strdup (_ ("The service instance has PKCS#11 keystores: rotating with recovery "
                        "units is not allowed. Rotate with key parts."));
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (tke_crypto_unit_get_imprint_mode (unit))
        return g_strdup_printf (_ ("Crypto unit %u is in imprint mode."),
                                tke_crypto_unit_get_number (unit));
      if (tke_crypto_unit_get_current_register_state (unit) != TKE_CURRENT_REGISTER_VALID)
        return g_strdup_printf (_ ("The current register of crypto unit %u is %s: recover it "
                                   "from a recovery unit first."),
                                tke_crypto_unit_get_number (unit),
                                tke_current_register_state_to_string (
                                    tke_crypto_unit_get_current_register_state (unit)));
      if (g_ascii_strcasecmp (tke_crypto_unit_get_current_register_vp (unit),
                              tke_crypto_unit_get_current_register_vp (source)) != 0)
        return g_strdup (_ ("The current registers hold different keys (their verification "
                            "patterns differ)."));
    }
  return NULL;
}

static char *
why_not_recover (GListModel *units)
{
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (tke_crypto_unit_get_unit_type (unit) != TKE_CRYPTO_UNIT_TYPE_RECOVERY &&
          tke_crypto_unit_get_current_register_state (unit) == TKE_CURRENT_REGISTER_EMPTY)
        return NULL;
    }
  return g_strdup (_ ("No crypto unit lost its master key: every current register is Valid."));
}

static char *
why_not_failover (GListModel *units)
{
  if (count_of_type (units, TKE_CRYPTO_UNIT_TYPE_FAILOVER) >= 2)
    return g_strdup (_ ("The service instance has 2 failover crypto units already, the most it "
                        "can have."));
  return NULL;
}

/**
 * tke_auto_ceremony_get_n_signers:
 * @kind: the operation
 * @units: every unit (#TkeCryptoUnit) of the service instance, freshly
 *   queried
 *
 * How many administrators must sign @kind's commands on @units: the
 * highest signature threshold of the units out of imprint mode.  auto-init
 * needs one; every administrator it is given is installed, and its
 * thresholds are the number of them and 1 unless the caller sets others
 * (tke_auto_ceremony_set_thresholds()).
 *
 * Returns: that number, at least 1
 */
guint
tke_auto_ceremony_get_n_signers (TkeAutoKind kind, GListModel *units)
{
  g_return_val_if_fail (G_IS_LIST_MODEL (units), 1);

  return kind == TKE_AUTO_INIT ? 1 : needed_signers (units);
}

/**
 * tke_auto_ceremony_why_not:
 * @kind: the operation
 * @units: every unit (#TkeCryptoUnit) of the service
 *   instance, recovery units included, freshly queried
 * @advice: the recovery advice while a rotation waits for recovery
 *   (tke_recovery_advise_auto_rotate()), else %TKE_RECOVERY_ACTION_NONE
 * @n_signers: how many administrators the front end can have sign
 *
 * Whether the units allow @kind now: the same refusals the ceremony's
 * run makes, known before it starts, so that a front end offers only what
 * may run.  auto-mk-rotate is refused while its rotation waits for
 * recovery (the forbidden rerun), when the instance has PKCS#11 keystores,
 * or when a unit has no current key.
 *
 * Returns: (transfer full) (nullable): why not, translated, or %NULL
 */
char *
tke_auto_ceremony_why_not (TkeAutoKind kind,
                           GListModel *units,
                           TkeRecoveryAction advice,
                           guint n_signers)
{
  guint needed;

  g_return_val_if_fail (G_IS_LIST_MODEL (units), NULL);

  if (g_list_model_get_n_items (units) == 0)
    return g_strdup (_ ("The crypto units have not been read yet."));
  if (count_of_type (units, TKE_CRYPTO_UNIT_TYPE_RECOVERY) == 0)
    return g_strdup (_ ("The service instance has no recovery crypto unit: use key parts "
                        "instead."));
  if (kind != TKE_AUTO_INIT && first_of_type (units, TKE_CRYPTO_UNIT_TYPE_RECOVERY, TRUE) == NULL)
    return g_strdup (_ ("No recovery crypto unit holds a current master key: initialize the "
                        "service instance with recovery units first."));
  needed = tke_auto_ceremony_get_n_signers (kind, units);
  if (n_signers < needed)
    return g_strdup_printf (_ ("The commands take %u administrator signatures; %u can be given "
                               "here."),
                            needed, n_signers);
  switch (kind)
    {
    case TKE_AUTO_INIT:
      return why_not_init (units);
    case TKE_AUTO_MK_ROTATE:
      return why_not_rotate (units, advice);
    case TKE_AUTO_RECOVER:
      return why_not_recover (units);
    case TKE_AUTO_FAILOVER:
    default:
      return why_not_failover (units);
    }
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
