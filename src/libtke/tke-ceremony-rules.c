/* tke-ceremony-rules.c: which ceremony the units allow now, and why not
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every rule that decides whether a ceremony may run lives here, so that
 * the GUI's disabled button and the CLI's refusal say the same sentence
 * for the same registers: the register states each step needs (DESIGN
 * §1), the rotation pre-checks (§5, tke_precheck_rotation()), what first
 * activation is, how many signatures a command takes, and where an
 * interrupted rotation resumes.  The functions are pure: they read
 * freshly queried TkeCryptoUnit objects only.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-ceremony-rules.h"
#include "tke-precheck.h"

typedef gboolean (*UnitTest) (TkeCryptoUnit *unit);

static TkeCryptoUnit *
first_where (GListModel *units, UnitTest test)
{
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (test (unit))
        return unit; /* the model keeps it alive */
    }
  return NULL;
}

static gboolean
all_where (GListModel *units, UnitTest test)
{
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (!test (unit))
        return FALSE;
    }
  return TRUE;
}

static gboolean
unreachable (TkeCryptoUnit *unit)
{
  return !tke_crypto_unit_get_reachable (unit);
}

static gboolean
in_imprint_mode (TkeCryptoUnit *unit)
{
  return tke_crypto_unit_get_imprint_mode (unit);
}

static gboolean
new_not_empty (TkeCryptoUnit *unit)
{
  return tke_crypto_unit_get_new_register_state (unit) != TKE_NEW_REGISTER_EMPTY;
}

static gboolean
new_empty (TkeCryptoUnit *unit)
{
  return !new_not_empty (unit);
}

static gboolean
new_not_uncommitted (TkeCryptoUnit *unit)
{
  return tke_crypto_unit_get_new_register_state (unit) != TKE_NEW_REGISTER_FULL_UNCOMMITTED;
}

static gboolean
new_not_committed (TkeCryptoUnit *unit)
{
  return tke_crypto_unit_get_new_register_state (unit) != TKE_NEW_REGISTER_FULL_COMMITTED;
}

static gboolean
current_not_valid (TkeCryptoUnit *unit)
{
  return tke_crypto_unit_get_current_register_state (unit) != TKE_CURRENT_REGISTER_VALID;
}

static gboolean
current_empty (TkeCryptoUnit *unit)
{
  return tke_crypto_unit_get_current_register_state (unit) == TKE_CURRENT_REGISTER_EMPTY;
}

static const char *
vp_of (const char *vp)
{
  return vp != NULL ? vp : TKE_EMPTY_VP;
}

/* Whether every unit's register (as @vp_func reads it) holds the same key. */
static gboolean
same_vp (GListModel *units, const char *(*vp_func) (TkeCryptoUnit *unit))
{
  g_autoptr (TkeCryptoUnit) first = g_list_model_get_item (units, 0);

  for (guint i = 1; first != NULL && i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (g_strcmp0 (vp_of (vp_func (unit)), vp_of (vp_func (first))) != 0)
        return FALSE;
    }
  return TRUE;
}

static gboolean
same_new_vp (GListModel *units)
{
  return same_vp (units, tke_crypto_unit_get_new_register_vp);
}

static gboolean
same_threshold (GListModel *units)
{
  g_autoptr (TkeCryptoUnit) first = g_list_model_get_item (units, 0);

  for (guint i = 1; first != NULL && i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (tke_crypto_unit_get_signature_threshold (unit) !=
          tke_crypto_unit_get_signature_threshold (first))
        return FALSE;
    }
  return TRUE;
}

static gboolean
in_model (GListModel *units, TkeCryptoUnit *unit)
{
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) other = g_list_model_get_item (units, i);

      if (other == unit ||
          (g_strcmp0 (tke_crypto_unit_get_hsm_id (other), tke_crypto_unit_get_hsm_id (unit)) == 0 &&
           g_strcmp0 (tke_crypto_unit_get_instance_id (other),
                      tke_crypto_unit_get_instance_id (unit)) == 0))
        return TRUE;
    }
  return FALSE;
}

/* The unit that still waits for @kind's step, whose key the done ones must hold. */
static TkeCryptoUnit *
first_pending (TkeCeremonyKind kind, GListModel *units)
{
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      gboolean pending =
          kind == TKE_CEREMONY_COMMIT
              ? tke_crypto_unit_get_new_register_state (unit) == TKE_NEW_REGISTER_FULL_UNCOMMITTED
              : current_empty (unit) && !new_not_committed (unit);

      if (pending)
        return unit; /* the model keeps it alive */
    }
  return NULL;
}

/**
 * tke_ceremony_unit_has_step_done:
 * @kind: the ceremony
 * @unit: a unit of @units
 * @units: the units the ceremony runs on, freshly queried
 *
 * Where an interrupted ceremony resumes: a ceremony that stopped at a unit
 * (a card pulled, the service unreachable) is run again on the same
 * units, and the units that already took the step are passed over.  A
 * unit has taken it if its registers show the step done with the key the
 * units still waiting for it hold: for commit, its new register is Full
 * Committed with their VP; for set immediate (first activation), its
 * current register holds their new key and its new register is Empty.
 * Other ceremonies are not resumed unit by unit (a load starts again).
 *
 * Returns: %TRUE if @unit has the step of @kind done already
 */
gboolean
tke_ceremony_unit_has_step_done (TkeCeremonyKind kind, TkeCryptoUnit *unit, GListModel *units)
{
  TkeCryptoUnit *pending;
  const char *vp;

  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (unit), FALSE);
  g_return_val_if_fail (G_IS_LIST_MODEL (units), FALSE);

  if (kind != TKE_CEREMONY_COMMIT && kind != TKE_CEREMONY_SET_IMMEDIATE)
    return FALSE;
  if ((pending = first_pending (kind, units)) == NULL || pending == unit)
    return FALSE;
  vp = tke_crypto_unit_get_new_register_vp (pending);
  if (kind == TKE_CEREMONY_COMMIT)
    return tke_crypto_unit_get_new_register_state (unit) == TKE_NEW_REGISTER_FULL_COMMITTED &&
           g_strcmp0 (tke_crypto_unit_get_new_register_vp (unit), vp) == 0;
  return tke_crypto_unit_get_current_register_state (unit) == TKE_CURRENT_REGISTER_VALID &&
         g_strcmp0 (tke_crypto_unit_get_current_register_vp (unit), vp) == 0 && new_empty (unit);
}

/* The units of @units that still wait for @kind's step. */
static GListStore *
pending_units (TkeCeremonyKind kind, GListModel *units)
{
  GListStore *store = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);

  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (!tke_ceremony_unit_has_step_done (kind, unit, units))
        g_list_store_append (store, unit);
    }
  return store;
}

/**
 * tke_ceremony_is_first_activation:
 * @selected: the selected units, freshly queried
 * @instance_units: (nullable): every unit of the service instance
 * @reason: (out) (optional) (transfer full): why not, when not
 *
 * First activation is the one case besides recovery in which Set
 * immediate is the normal step: no selected unit has a current key (a new
 * instance, or units zeroized and set up again), and each new register is
 * Full Committed with one key.  Any earlier rotation does not matter.  A
 * unit that joins an instance whose other units already hold a current key
 * must take exactly that key, so that all units of the instance hold the
 * same one.
 *
 * Returns: %TRUE if Set immediate is first activation now
 */
gboolean
tke_ceremony_is_first_activation (GListModel *selected, GListModel *instance_units, char **reason)
{
  TkeCryptoUnit *unit;
  g_autoptr (TkeCryptoUnit) first = NULL;
  const char *new_vp;

  g_autoptr (GListStore) pending = NULL;

  g_return_val_if_fail (G_IS_LIST_MODEL (selected), FALSE);

  if (reason != NULL)
    *reason = NULL;
  if (g_list_model_get_n_items (selected) == 0)
    return FALSE;
  /* Units that took the key already in an interrupted run are passed over. */
  pending = pending_units (TKE_CEREMONY_SET_IMMEDIATE, selected);
  selected = G_LIST_MODEL (pending);
  if (!all_where (selected, current_empty))
    {
      if (reason != NULL)
        *reason = g_strdup (_ ("Set immediate is offered to set the first master key of crypto "
                               "units whose current registers are Empty, and to finish a rotation "
                               "that did not complete. Otherwise Rotate sets the new key on every "
                               "unit by itself."));
      return FALSE;
    }
  if ((unit = first_where (selected, new_not_committed)) != NULL)
    {
      if (reason != NULL)
        *reason = g_strdup_printf (
            _ ("The new register of crypto unit %u is %s. Set immediate "
               "needs Full Committed new registers: commit first."),
            tke_crypto_unit_get_number (unit),
            tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit)));
      return FALSE;
    }
  if (!same_new_vp (selected))
    {
      if (reason != NULL)
        *reason = g_strdup (_ ("The new registers hold different keys (their verification "
                               "patterns differ). Clear them and load again."));
      return FALSE;
    }
  first = g_list_model_get_item (selected, 0);
  new_vp = tke_crypto_unit_get_new_register_vp (first);
  for (guint i = 0; instance_units != NULL && i < g_list_model_get_n_items (instance_units); i++)
    {
      g_autoptr (TkeCryptoUnit) other = g_list_model_get_item (instance_units, i);

      if (in_model (selected, other) ||
          tke_crypto_unit_get_current_register_state (other) != TKE_CURRENT_REGISTER_VALID ||
          g_strcmp0 (tke_crypto_unit_get_current_register_vp (other), new_vp) == 0)
        continue;
      if (reason != NULL)
        *reason = g_strdup_printf (
            _ ("Crypto unit %u of the instance holds another current master key than the new "
               "registers of the selected units. Load and commit that key to set the units up "
               "again."),
            tke_crypto_unit_get_number (other));
      return FALSE;
    }
  return TRUE;
}

/* While a rotation waits for recovery, the advice's action is the only one
 * on offer (DESIGN §5: never offer what the table forbids).  ROTATE means
 * nothing changed yet, so it restricts nothing. */
static char *
recovery_forbids (TkeCeremonyKind kind, TkeRecoveryAction recovery)
{
  gboolean allowed;

  switch (recovery)
    {
    case TKE_RECOVERY_ACTION_NONE:
    case TKE_RECOVERY_ACTION_ROTATE:
      return NULL;
    case TKE_RECOVERY_ACTION_RESUME_ROTATE:
      allowed = kind == TKE_CEREMONY_ROTATE;
      break;
    case TKE_RECOVERY_ACTION_SET_IMMEDIATE:
      allowed = kind == TKE_CEREMONY_SET_IMMEDIATE;
      break;
    case TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE:
    case TKE_RECOVERY_ACTION_STOP:
    default:
      allowed = FALSE;
      break;
    }
  if (allowed)
    return NULL;
  return g_strdup (
      _ ("A master key rotation did not finish. The recovery page shows the one safe action."));
}

static char *
common_reason (GListModel *selected)
{
  TkeCryptoUnit *unit;

  if (g_list_model_get_n_items (selected) == 0)
    return g_strdup (_ ("Select crypto units on the Crypto units tab first."));
  if ((unit = first_where (selected, unreachable)) != NULL)
    return g_strdup_printf (_ ("Crypto unit %u cannot be reached. Refresh the crypto units."),
                            tke_crypto_unit_get_number (unit));
  if ((unit = first_where (selected, in_imprint_mode)) != NULL)
    return g_strdup_printf (_ ("Crypto unit %u is in imprint mode: add administrators and set the "
                               "signature thresholds first."),
                            tke_crypto_unit_get_number (unit));
  return NULL;
}

static char *
register_reason (TkeCeremonyKind kind, GListModel *selected, GListModel *instance_units)
{
  g_autoptr (GListStore) pending = NULL;
  TkeCryptoUnit *unit;
  char *reason = NULL;

  switch (kind)
    {
    case TKE_CEREMONY_LOAD:
      if ((unit = first_where (selected, new_not_empty)) != NULL)
        return g_strdup_printf (
            _ ("The new register of crypto unit %u is %s. Load needs empty new "
               "registers: clear them first."),
            tke_crypto_unit_get_number (unit),
            tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit)));
      return NULL;
    case TKE_CEREMONY_COMMIT:
      /* A commit that stopped half-way goes on with the others. */
      pending = pending_units (kind, selected);
      selected = G_LIST_MODEL (pending);
      if ((unit = first_where (selected, new_not_uncommitted)) != NULL)
        return g_strdup_printf (
            _ ("The new register of crypto unit %u is %s. Commit needs Full "
               "Uncommitted new registers."),
            tke_crypto_unit_get_number (unit),
            tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit)));
      if (!same_new_vp (selected))
        return g_strdup (_ ("The new registers hold different keys (their verification patterns "
                            "differ). Clear them and load again."));
      return NULL;
    case TKE_CEREMONY_ROTATE:
      {
        g_autoptr (GPtrArray) units = g_ptr_array_new_with_free_func (g_object_unref);
        g_autoptr (GError) error = NULL;

        /* What to do next, in the words of the registers; the remaining
         * pre-checks in their own. */
        if ((unit = first_where (selected, current_not_valid)) != NULL)
          return g_strdup_printf (_ ("The current register of crypto unit %u is %s. Rotate needs "
                                     "Valid current registers."),
                                  tke_crypto_unit_get_number (unit),
                                  tke_current_register_state_to_string (
                                      tke_crypto_unit_get_current_register_state (unit)));
        if ((unit = first_where (selected, new_not_committed)) != NULL)
          return g_strdup_printf (
              _ ("The new register of crypto unit %u is %s. Rotate needs Full "
                 "Committed new registers: commit first."),
              tke_crypto_unit_get_number (unit),
              tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit)));

        if (!same_vp (selected, tke_crypto_unit_get_current_register_vp))
          return g_strdup (_ ("The current registers hold different keys (their verification "
                              "patterns differ)."));
        if (!same_new_vp (selected))
          return g_strdup (_ ("The new registers hold different keys (their verification patterns "
                              "differ)."));
        if (!same_threshold (selected))
          return g_strdup (_ ("The signature thresholds of the selected crypto units differ."));
        for (guint i = 0; i < g_list_model_get_n_items (selected); i++)
          g_ptr_array_add (units, g_list_model_get_item (selected, i));
        /* The token is checked when Rotate runs; the registers now. */
        if (tke_precheck_rotation (instance_units, units, 0, &error) != TKE_PRECHECK_OK)
          return g_strdup (error->message);
        return NULL;
      }
    case TKE_CEREMONY_SET_IMMEDIATE:
      if (!tke_ceremony_is_first_activation (selected, instance_units, &reason))
        return reason;
      return NULL;
    case TKE_CEREMONY_CLEAR_NEW:
      if (all_where (selected, new_empty))
        return g_strdup (_ ("The new registers are already Empty."));
      return NULL;
    case TKE_CEREMONY_CLEAR_CURRENT:
      if (all_where (selected, current_empty))
        return g_strdup (_ ("The current registers are already Empty."));
      return NULL;
    case TKE_CEREMONY_ADD_ADMIN:
    case TKE_CEREMONY_REMOVE_ADMIN:
    case TKE_CEREMONY_SET_THRESHOLDS:
    case TKE_CEREMONY_ZEROIZE:
    default:
      return NULL;
    }
}

/**
 * tke_ceremony_why_not:
 * @kind: the ceremony
 * @selected: the selected units, freshly queried
 * @instance_units: (nullable): every unit of the service instance (for the
 *   rotation pre-checks and first activation)
 * @recovery: the recovery advice while a rotation waits for recovery, else
 *   %TKE_RECOVERY_ACTION_NONE
 *
 * Whether the units allow @kind now.  The GUI shows the sentence on the
 * disabled button, the CLI prints it and refuses.  Set immediate while a
 * rotation waits for it is allowed by the advice
 * (%TKE_RECOVERY_ACTION_SET_IMMEDIATE); otherwise only as first
 * activation (tke_ceremony_is_first_activation()).
 *
 * Returns: (transfer full) (nullable): why @kind cannot run now, or %NULL
 *   if it can
 */
char *
tke_ceremony_why_not (TkeCeremonyKind kind,
                      GListModel *selected,
                      GListModel *instance_units,
                      TkeRecoveryAction recovery)
{
  char *reason;
  gboolean set_up = kind == TKE_CEREMONY_ADD_ADMIN || kind == TKE_CEREMONY_REMOVE_ADMIN ||
                    kind == TKE_CEREMONY_SET_THRESHOLDS || kind == TKE_CEREMONY_ZEROIZE;

  g_return_val_if_fail (G_IS_LIST_MODEL (selected), NULL);

  if (g_list_model_get_n_items (selected) == 0)
    return common_reason (selected);
  /* Setting up and zeroizing work in imprint mode; the register steps not. */
  if (!set_up && (reason = common_reason (selected)) != NULL)
    return reason;
  if ((reason = recovery_forbids (kind, recovery)) != NULL)
    return reason;
  if (recovery == TKE_RECOVERY_ACTION_SET_IMMEDIATE ||
      recovery == TKE_RECOVERY_ACTION_RESUME_ROTATE)
    return NULL;
  return register_reason (kind, selected, instance_units);
}

/**
 * tke_ceremony_get_n_signatures:
 * @kind: the ceremony
 * @unit: the crypto unit the command goes to
 * @n_parts: for a load, the number of key parts
 *
 * How many signatures @unit needs for @kind (DESIGN §1): none in imprint
 * mode (except leaving it, which takes the new signature threshold, known
 * only to the caller: 1 is returned); add admin, commit and set thresholds
 * the signature threshold; remove admin the revocation threshold; load one
 * for the importer key and one per part; set immediate, clear, rotate and
 * zeroize one.
 *
 * Returns: the number of signatures
 */
guint
tke_ceremony_get_n_signatures (TkeCeremonyKind kind, TkeCryptoUnit *unit, guint n_parts)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (unit), 1);

  if (tke_crypto_unit_get_imprint_mode (unit))
    return kind == TKE_CEREMONY_SET_THRESHOLDS ? 1 : 0;
  switch (kind)
    {
    case TKE_CEREMONY_COMMIT:
    case TKE_CEREMONY_ADD_ADMIN:
    case TKE_CEREMONY_SET_THRESHOLDS:
      return MAX (tke_crypto_unit_get_signature_threshold (unit), 1);
    case TKE_CEREMONY_REMOVE_ADMIN:
      return MAX (tke_crypto_unit_get_revocation_threshold (unit), 1);
    case TKE_CEREMONY_LOAD:
      return 1 + n_parts;
    case TKE_CEREMONY_SET_IMMEDIATE:
    case TKE_CEREMONY_CLEAR_NEW:
    case TKE_CEREMONY_CLEAR_CURRENT:
    case TKE_CEREMONY_ZEROIZE:
    case TKE_CEREMONY_ROTATE:
    default:
      return 1;
    }
}

/**
 * tke_ceremony_get_n_signers:
 * @kind: the ceremony
 * @units: the units the ceremony runs on
 *
 * How many different administrators must sign for @kind on each of the
 * @units, that is the threshold for commit, add admin and set thresholds (the
 * revocation threshold for remove admin); one for every other ceremony (a
 * load's importer key and parts may all be signed by one administrator).
 *
 * Returns: the number of signers (at least 1)
 */
guint
tke_ceremony_get_n_signers (TkeCeremonyKind kind, GListModel *units)
{
  guint n = 1;

  g_return_val_if_fail (G_IS_LIST_MODEL (units), 1);

  if (kind == TKE_CEREMONY_LOAD)
    return 1;
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      n = MAX (n, tke_ceremony_get_n_signatures (kind, unit, 0));
    }
  return n;
}

/**
 * tke_ceremony_resume_action:
 * @status: (nullable): the service's rotation state, if it could be read
 * @interrupted: (nullable): the journal's interrupted ceremony
 *   (tke_journal_find_interrupted()), if any
 *
 * Where an interrupted rotation resumes when the registers cannot be read
 * now (e.g. the login token expired): from the service's state if known,
 * else from the last step the journal recorded.  Once the key storage is
 * rewrapped it is Set immediate, never Rotate (DESIGN §5).
 *
 * Returns: %TKE_RECOVERY_ACTION_SET_IMMEDIATE, %TKE_RECOVERY_ACTION_RESUME_ROTATE
 *   or %TKE_RECOVERY_ACTION_ROTATE
 */
TkeRecoveryAction
tke_ceremony_resume_action (TkeRotationStatus *status, const TkeJournalRecord *interrupted)
{
  TkeRotationState state =
      status != NULL ? tke_rotation_status_get_state (status) : TKE_ROTATION_STATE_NONE;

  switch (state)
    {
    case TKE_ROTATION_STATE_REWRAPPED:
      return TKE_RECOVERY_ACTION_SET_IMMEDIATE;
    case TKE_ROTATION_STATE_REWRAPPING:
      return TKE_RECOVERY_ACTION_RESUME_ROTATE;
    case TKE_ROTATION_STATE_FAILED:
      return tke_rotation_status_get_keys_done (status) > 0 ? TKE_RECOVERY_ACTION_RESUME_ROTATE
                                                            : TKE_RECOVERY_ACTION_ROTATE;
    case TKE_ROTATION_STATE_NONE:
    case TKE_ROTATION_STATE_COMPLETE:
    default:
      break;
    }
  if (interrupted == NULL || interrupted->step == NULL)
    return TKE_RECOVERY_ACTION_ROTATE;
  if (g_str_equal (interrupted->step, TKE_JOURNAL_STEP_SET_IMMEDIATE) ||
      (g_str_equal (interrupted->step, TKE_JOURNAL_STEP_REWRAP) &&
       g_strcmp0 (interrupted->outcome, TKE_JOURNAL_OUTCOME_OK) == 0))
    return TKE_RECOVERY_ACTION_SET_IMMEDIATE;
  if (g_str_equal (interrupted->step, TKE_JOURNAL_STEP_REWRAP) ||
      (g_str_equal (interrupted->step, TKE_JOURNAL_STEP_ROTATE) &&
       g_strcmp0 (interrupted->outcome, TKE_JOURNAL_OUTCOME_OK) == 0))
    return TKE_RECOVERY_ACTION_RESUME_ROTATE;
  return TKE_RECOVERY_ACTION_ROTATE;
}
