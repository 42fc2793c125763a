/* test-ceremony-rules.c: tests of src/libtke/tke-ceremony-rules.c over every
 * combination of register states of up to three units
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The oracle below restates DESIGN §1 and §5 in the plainest terms, apart
 * from the code under test, and every combination of unit states is
 * checked against it for every ceremony and every recovery advice.
 */

#include <string.h>

#include <tke.h>

#define VP_X "1111111111111111111111111111111111111111111111111111111111111111"
#define VP_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define VP_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SKI_A "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"
#define SKI_B "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"

/* One unit's state: new register (5) × current register (3), or one of two flags. */
#define N_REGISTER_STATES 15
#define STATE_IMPRINT 15
#define STATE_UNREACHABLE 16
#define N_STATES 17

typedef struct
{
  TkeNewRegisterState new_state;
  const char *new_vp;
  TkeCurrentRegisterState current_state;
  const char *current_vp;
  gboolean imprint;
  gboolean reachable;
} UnitState;

static UnitState
state_of (guint code)
{
  static const TkeNewRegisterState new_states[] = {
    TKE_NEW_REGISTER_EMPTY,
    TKE_NEW_REGISTER_FULL_UNCOMMITTED,
    TKE_NEW_REGISTER_FULL_UNCOMMITTED,
    TKE_NEW_REGISTER_FULL_COMMITTED,
    TKE_NEW_REGISTER_FULL_COMMITTED,
  };
  static const char *const new_vps[] = { TKE_EMPTY_VP, VP_A, VP_B, VP_A, VP_B };
  static const char *const current_vps[] = { TKE_EMPTY_VP, VP_X, VP_A };
  UnitState s = {
    TKE_NEW_REGISTER_EMPTY, TKE_EMPTY_VP, TKE_CURRENT_REGISTER_VALID, VP_X, FALSE, TRUE
  };

  if (code == STATE_IMPRINT)
    {
      s.imprint = TRUE;
      s.current_state = TKE_CURRENT_REGISTER_EMPTY;
      s.current_vp = TKE_EMPTY_VP;
      return s;
    }
  if (code == STATE_UNREACHABLE)
    {
      s.reachable = FALSE;
      return s;
    }
  s.new_state = new_states[code % 5];
  s.new_vp = new_vps[code % 5];
  s.current_state = code / 5 == 0 ? TKE_CURRENT_REGISTER_EMPTY : TKE_CURRENT_REGISTER_VALID;
  s.current_vp = current_vps[code / 5];
  return s;
}

static TkeCryptoUnit *
make_unit (guint number, UnitState s)
{
  g_autofree char *hsm = g_strdup_printf ("hsm-%u", number);
  g_autoptr (GPtrArray) admins = g_ptr_array_new_with_free_func (g_object_unref);
  TkeCryptoUnit *unit = tke_crypto_unit_new ("inst", hsm, number, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL,
                                             "[us-south].[AZ1-CS1].[01].[01]");

  if (!s.imprint)
    {
      g_ptr_array_add (admins, tke_administrator_new ("Admin A", SKI_A));
      g_ptr_array_add (admins, tke_administrator_new ("Admin B", SKI_B));
    }
  tke_crypto_unit_set_administrators (unit, admins);
  tke_crypto_unit_set_thresholds (unit, s.imprint, s.imprint ? 0 : 2, s.imprint ? 0 : 1);
  tke_crypto_unit_set_registers (unit, s.new_state, s.new_vp, s.current_state, s.current_vp);
  tke_crypto_unit_set_reachable (unit, s.reachable);
  return unit;
}

/* ---- The oracle ------------------------------------------------------------ */

/* Commit (@commit) or first activation: the units still waiting hold one
 * key, and every other unit took the step with that key already. */
static gboolean
resumable (const UnitState *units, guint n, gboolean commit)
{
  const char *vp = NULL;

  for (guint i = 0; i < n; i++)
    {
      gboolean waiting = commit ? units[i].new_state == TKE_NEW_REGISTER_FULL_UNCOMMITTED
                                : units[i].current_state == TKE_CURRENT_REGISTER_EMPTY &&
                                      units[i].new_state == TKE_NEW_REGISTER_FULL_COMMITTED;

      if (!waiting)
        continue;
      if (vp != NULL && !g_str_equal (vp, units[i].new_vp))
        return FALSE;
      vp = units[i].new_vp;
    }
  if (vp == NULL)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      gboolean waiting = commit ? units[i].new_state == TKE_NEW_REGISTER_FULL_UNCOMMITTED
                                : units[i].current_state == TKE_CURRENT_REGISTER_EMPTY &&
                                      units[i].new_state == TKE_NEW_REGISTER_FULL_COMMITTED;
      gboolean done = commit ? units[i].new_state == TKE_NEW_REGISTER_FULL_COMMITTED &&
                                   g_str_equal (units[i].new_vp, vp)
                             : units[i].current_state == TKE_CURRENT_REGISTER_VALID &&
                                   g_str_equal (units[i].current_vp, vp) &&
                                   units[i].new_state == TKE_NEW_REGISTER_EMPTY;

      if (!waiting && !done)
        return FALSE;
    }
  return TRUE;
}

static gboolean
oracle_allows (TkeCeremonyKind kind, const UnitState *units, guint n, TkeRecoveryAction recovery)
{
  gboolean all_new_empty = TRUE, all_committed = TRUE;
  gboolean all_current_valid = TRUE, any_new = FALSE, any_current = FALSE;
  gboolean same_new = TRUE, same_current = TRUE;

  if (n == 0)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      if (!units[i].reachable || units[i].imprint)
        return FALSE;
      all_new_empty &= units[i].new_state == TKE_NEW_REGISTER_EMPTY;
      all_committed &= units[i].new_state == TKE_NEW_REGISTER_FULL_COMMITTED;
      all_current_valid &= units[i].current_state == TKE_CURRENT_REGISTER_VALID;
      any_new |= units[i].new_state != TKE_NEW_REGISTER_EMPTY;
      any_current |= units[i].current_state == TKE_CURRENT_REGISTER_VALID;
      same_new &= g_str_equal (units[i].new_vp, units[0].new_vp);
      same_current &= g_str_equal (units[i].current_vp, units[0].current_vp);
    }
  switch (recovery)
    {
    case TKE_RECOVERY_ACTION_SET_IMMEDIATE:
      return kind == TKE_CEREMONY_SET_IMMEDIATE;
    case TKE_RECOVERY_ACTION_RESUME_ROTATE:
      return kind == TKE_CEREMONY_ROTATE;
    case TKE_RECOVERY_ACTION_STOP:
    case TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE:
      return FALSE;
    case TKE_RECOVERY_ACTION_NONE:
    case TKE_RECOVERY_ACTION_ROTATE:
    default:
      break;
    }
  switch (kind)
    {
    case TKE_CEREMONY_LOAD:
      return all_new_empty;
    case TKE_CEREMONY_COMMIT:
      return resumable (units, n, TRUE);
    case TKE_CEREMONY_ROTATE:
      return all_current_valid && same_current && all_committed && same_new &&
             !g_str_equal (units[0].new_vp, units[0].current_vp);
    case TKE_CEREMONY_SET_IMMEDIATE:
      return resumable (units, n, FALSE);
    case TKE_CEREMONY_CLEAR_NEW:
      return any_new;
    case TKE_CEREMONY_CLEAR_CURRENT:
      return any_current;
    default:
      g_assert_not_reached ();
    }
}

static const TkeCeremonyKind register_kinds[] = {
  TKE_CEREMONY_LOAD,          TKE_CEREMONY_COMMIT,    TKE_CEREMONY_ROTATE,
  TKE_CEREMONY_SET_IMMEDIATE, TKE_CEREMONY_CLEAR_NEW, TKE_CEREMONY_CLEAR_CURRENT,
};

static const TkeRecoveryAction advices[] = {
  TKE_RECOVERY_ACTION_NONE,
  TKE_RECOVERY_ACTION_ROTATE,
  TKE_RECOVERY_ACTION_RESUME_ROTATE,
  TKE_RECOVERY_ACTION_SET_IMMEDIATE,
  TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE,
  TKE_RECOVERY_ACTION_STOP,
};

static guint
check_combination (const guint *codes, guint n)
{
  g_autoptr (GListStore) store = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  UnitState states[3];
  guint checked = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = NULL;

      states[i] = state_of (codes[i]);
      unit = make_unit (i + 1, states[i]);
      g_list_store_append (store, unit);
    }
  for (gsize k = 0; k < G_N_ELEMENTS (register_kinds); k++)
    for (gsize a = 0; a < G_N_ELEMENTS (advices); a++)
      {
        g_autofree char *reason = tke_ceremony_why_not (register_kinds[k], G_LIST_MODEL (store),
                                                        G_LIST_MODEL (store), advices[a]);
        gboolean expected = oracle_allows (register_kinds[k], states, n, advices[a]);

        if (expected != (reason == NULL))
          {
            g_autoptr (GString) text = g_string_new (NULL);

            for (guint i = 0; i < n; i++)
              g_string_append_printf (text, " %u", codes[i]);
            g_error ("kind %d, advice %d, unit states%s: the oracle says %s, libtke says %s",
                     register_kinds[k], advices[a], text->str, expected ? "allowed" : "refused",
                     reason != NULL ? reason : "allowed");
          }
        if (reason != NULL)
          g_assert_cmpuint (strlen (reason), >, 10);
        checked++;
      }
  return checked;
}

static void
test_every_combination (void)
{
  guint codes[3];
  guint checked = 0;

  for (guint n = 1; n <= 3; n++)
    {
      guint total = n == 1   ? N_STATES
                    : n == 2 ? N_STATES * N_STATES
                             : N_STATES * N_STATES * N_STATES;

      for (guint c = 0; c < total; c++)
        {
          guint rest = c;

          for (guint i = 0; i < n; i++)
            {
              codes[i] = rest % N_STATES;
              rest /= N_STATES;
            }
          checked += check_combination (codes, n);
        }
    }
  g_test_message ("%u checks", checked);
  g_assert_cmpuint (checked, ==, (17 + 17 * 17 + 17 * 17 * 17) * 6 * 6);
}

static void
test_no_units (void)
{
  g_autoptr (GListStore) store = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);

  for (gsize k = 0; k < G_N_ELEMENTS (register_kinds); k++)
    {
      g_autofree char *reason = tke_ceremony_why_not (register_kinds[k], G_LIST_MODEL (store), NULL,
                                                      TKE_RECOVERY_ACTION_NONE);

      g_assert_nonnull (reason);
    }
}

/* Issue 13: a unit zeroized and set up again after a completed rotation:
 * first activation, whatever an earlier rotation did; but only with the
 * key the rest of the instance holds. */
static void
test_first_activation (void)
{
  g_autoptr (GListStore) instance = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  g_autoptr (GListStore) selected = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  UnitState valid = state_of (5);     /* new Empty, current Valid X */
  UnitState rejoining = state_of (3); /* new Committed A, current Empty */
  g_autoptr (TkeCryptoUnit) one = make_unit (1, valid);
  g_autoptr (TkeCryptoUnit) two = make_unit (2, rejoining);
  g_autofree char *reason = NULL;

  g_list_store_append (instance, one);
  g_list_store_append (instance, two);
  g_list_store_append (selected, two);
  /* Unit 1 holds X; unit 2 would take A: refused, with the reason. */
  g_assert_false (
      tke_ceremony_is_first_activation (G_LIST_MODEL (selected), G_LIST_MODEL (instance), &reason));
  g_assert_nonnull (strstr (reason, "Crypto unit 1"));
  g_clear_pointer (&reason, g_free);
  /* Unit 1 holds A, the key unit 2 takes again: allowed. */
  tke_crypto_unit_set_registers (one, TKE_NEW_REGISTER_EMPTY, TKE_EMPTY_VP,
                                 TKE_CURRENT_REGISTER_VALID, VP_A);
  g_assert_true (
      tke_ceremony_is_first_activation (G_LIST_MODEL (selected), G_LIST_MODEL (instance), &reason));
  g_assert_null (reason);
  reason = tke_ceremony_why_not (TKE_CEREMONY_SET_IMMEDIATE, G_LIST_MODEL (selected),
                                 G_LIST_MODEL (instance), TKE_RECOVERY_ACTION_NONE);
  g_assert_null (reason);
  /* Without the instance's units it is the selection alone. */
  g_assert_true (tke_ceremony_is_first_activation (G_LIST_MODEL (selected), NULL, NULL));
}

static void
test_signatures (void)
{
  g_autoptr (TkeCryptoUnit) unit = make_unit (1, state_of (8)); /* new Committed A, current X */
  g_autoptr (TkeCryptoUnit) imprint = make_unit (2, state_of (STATE_IMPRINT));
  g_autoptr (GListStore) units = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);

  g_assert_cmpuint (tke_ceremony_get_n_signatures (TKE_CEREMONY_COMMIT, unit, 0), ==, 2);
  g_assert_cmpuint (tke_ceremony_get_n_signatures (TKE_CEREMONY_ADD_ADMIN, unit, 0), ==, 2);
  g_assert_cmpuint (tke_ceremony_get_n_signatures (TKE_CEREMONY_REMOVE_ADMIN, unit, 0), ==, 1);
  g_assert_cmpuint (tke_ceremony_get_n_signatures (TKE_CEREMONY_LOAD, unit, 3), ==, 4);
  g_assert_cmpuint (tke_ceremony_get_n_signatures (TKE_CEREMONY_SET_IMMEDIATE, unit, 0), ==, 1);
  g_assert_cmpuint (tke_ceremony_get_n_signatures (TKE_CEREMONY_ZEROIZE, unit, 0), ==, 1);
  g_assert_cmpuint (tke_ceremony_get_n_signatures (TKE_CEREMONY_CLEAR_NEW, imprint, 0), ==, 0);
  g_list_store_append (units, unit);
  g_list_store_append (units, imprint);
  g_assert_cmpuint (tke_ceremony_get_n_signers (TKE_CEREMONY_COMMIT, G_LIST_MODEL (units)), ==, 2);
  g_assert_cmpuint (tke_ceremony_get_n_signers (TKE_CEREMONY_LOAD, G_LIST_MODEL (units)), ==, 1);
  g_assert_cmpuint (tke_ceremony_get_n_signers (TKE_CEREMONY_SET_IMMEDIATE, G_LIST_MODEL (units)),
                    ==, 1);
}

static TkeJournalRecord *
record (const char *step, const char *outcome)
{
  TkeJournalRecord *r = g_new0 (TkeJournalRecord, 1);

  r->step = g_strdup (step);
  r->outcome = g_strdup (outcome);
  r->units = g_new0 (char *, 1);
  return r;
}

/* Issue 13: where a rotation resumes after the token expired. */
static void
test_resume_action (void)
{
  g_autoptr (TkeRotationStatus) rewrapped =
      tke_rotation_status_new (TKE_ROTATION_STATE_REWRAPPED, VP_A, 10, 10);
  g_autoptr (TkeRotationStatus) rewrapping =
      tke_rotation_status_new (TKE_ROTATION_STATE_REWRAPPING, VP_A, 5, 10);
  g_autoptr (TkeRotationStatus) failed0 =
      tke_rotation_status_new (TKE_ROTATION_STATE_FAILED, VP_A, 0, 10);
  g_autoptr (TkeJournalRecord) setimm = record (TKE_JOURNAL_STEP_SET_IMMEDIATE, "begin");
  g_autoptr (TkeJournalRecord) rewrap_ok = record (TKE_JOURNAL_STEP_REWRAP, TKE_JOURNAL_OUTCOME_OK);
  g_autoptr (TkeJournalRecord) rewrap = record (TKE_JOURNAL_STEP_REWRAP, "begin");
  g_autoptr (TkeJournalRecord) rotate = record (TKE_JOURNAL_STEP_ROTATE, "begin");

  g_assert_cmpint (tke_ceremony_resume_action (rewrapped, NULL), ==,
                   TKE_RECOVERY_ACTION_SET_IMMEDIATE);
  g_assert_cmpint (tke_ceremony_resume_action (rewrapping, NULL), ==,
                   TKE_RECOVERY_ACTION_RESUME_ROTATE);
  g_assert_cmpint (tke_ceremony_resume_action (failed0, NULL), ==, TKE_RECOVERY_ACTION_ROTATE);
  g_assert_cmpint (tke_ceremony_resume_action (NULL, setimm), ==,
                   TKE_RECOVERY_ACTION_SET_IMMEDIATE);
  g_assert_cmpint (tke_ceremony_resume_action (NULL, rewrap_ok), ==,
                   TKE_RECOVERY_ACTION_SET_IMMEDIATE);
  g_assert_cmpint (tke_ceremony_resume_action (NULL, rewrap), ==,
                   TKE_RECOVERY_ACTION_RESUME_ROTATE);
  g_assert_cmpint (tke_ceremony_resume_action (NULL, rotate), ==, TKE_RECOVERY_ACTION_ROTATE);
  g_assert_cmpint (tke_ceremony_resume_action (NULL, NULL), ==, TKE_RECOVERY_ACTION_ROTATE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ceremony-rules/every-combination", test_every_combination);
  g_test_add_func ("/ceremony-rules/no-units", test_no_units);
  g_test_add_func ("/ceremony-rules/first-activation", test_first_activation);
  g_test_add_func ("/ceremony-rules/signatures", test_signatures);
  g_test_add_func ("/ceremony-rules/resume-action", test_resume_action);

  return g_test_run ();
}
