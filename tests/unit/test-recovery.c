/* test-recovery.c: tests of src/libtke/tke-recovery.c, row by row of DESIGN §5
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <tke.h>

#define OLD_VP "1111111111111111111111111111111111111111111111111111111111111111"
#define NEW_VP "2222222222222222222222222222222222222222222222222222222222222222"
/* Shares the first 32 digits with NEW_VP: what one line of a table shows. */
#define LOOKALIKE_VP "2222222222222222222222222222222233333333333333333333333333333333"

typedef enum
{
  PENDING,  /* current old (Valid), new committed NEW_VP */
  SWITCHED, /* current NEW_VP (Valid), new Empty */
  UNCOMMITTED,
  LOOKALIKE, /* new committed LOOKALIKE_VP */
  OTHER_OLD, /* current another old key, new committed NEW_VP */
} Phase;

static GPtrArray *
make_units (const Phase *phases, guint n)
{
  GPtrArray *units = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < n; i++)
    {
      TkeCryptoUnit *unit = tke_crypto_unit_new (
          "inst", "hsm", i + 1, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL, "[us-south].[AZ1-CS1].[01].[01]");

      switch (phases[i])
        {
        case PENDING:
          tke_crypto_unit_set_registers (unit, TKE_NEW_REGISTER_FULL_COMMITTED, NEW_VP,
                                         TKE_CURRENT_REGISTER_VALID, OLD_VP);
          break;
        case SWITCHED:
          tke_crypto_unit_set_registers (unit, TKE_NEW_REGISTER_EMPTY, TKE_EMPTY_VP,
                                         TKE_CURRENT_REGISTER_VALID, NEW_VP);
          break;
        case UNCOMMITTED:
          tke_crypto_unit_set_registers (unit, TKE_NEW_REGISTER_FULL_UNCOMMITTED, NEW_VP,
                                         TKE_CURRENT_REGISTER_VALID, OLD_VP);
          break;
        case LOOKALIKE:
          tke_crypto_unit_set_registers (unit, TKE_NEW_REGISTER_FULL_COMMITTED, LOOKALIKE_VP,
                                         TKE_CURRENT_REGISTER_VALID, OLD_VP);
          break;
        case OTHER_OLD:
        default:
          tke_crypto_unit_set_registers (
              unit, TKE_NEW_REGISTER_FULL_COMMITTED, NEW_VP, TKE_CURRENT_REGISTER_VALID,
              "4444444444444444444444444444444444444444444444444444444444444444");
          break;
        }
      g_ptr_array_add (units, unit);
    }

  return units;
}

static TkeRecoveryAction
advise (const Phase *phases, guint n, TkeRotationState state, guint64 keys_done, guint *n_switched)
{
  g_autoptr (GPtrArray) units = make_units (phases, n);
  g_autoptr (TkeRotationStatus) status = tke_rotation_status_new (state, NEW_VP, keys_done, 3000);
  g_autoptr (GPtrArray) switched = NULL;
  g_autofree char *explanation = NULL;
  TkeRecoveryAction action = tke_recovery_advise (units, status, &switched, &explanation);

  g_assert_nonnull (explanation);
  g_assert_cmpstr (explanation, !=, "");
  *n_switched = switched->len;
  return action;
}

static void
test_before_any_change (void)
{
  const Phase three[] = { PENDING, PENDING, PENDING };
  guint n;

  g_assert_cmpint (advise (three, 3, TKE_ROTATION_STATE_NONE, 0, &n), ==,
                   TKE_RECOVERY_ACTION_ROTATE);
  /* An expired token or a failed pre-check: nothing rewrapped. */
  g_assert_cmpint (advise (three, 3, TKE_ROTATION_STATE_FAILED, 0, &n), ==,
                   TKE_RECOVERY_ACTION_ROTATE);
}

static void
test_rewrap_not_complete (void)
{
  const Phase two[] = { PENDING, PENDING };
  guint n;

  g_assert_cmpint (advise (two, 2, TKE_ROTATION_STATE_REWRAPPING, 1200, &n), ==,
                   TKE_RECOVERY_ACTION_RESUME_ROTATE);
  g_assert_cmpint (advise (two, 2, TKE_ROTATION_STATE_FAILED, 1200, &n), ==,
                   TKE_RECOVERY_ACTION_RESUME_ROTATE);
}

static void
test_rewrapped_set_immediate_all (void)
{
  const Phase two[] = { PENDING, PENDING };
  const Phase three[] = { PENDING, PENDING, PENDING };
  guint n;

  g_assert_cmpint (advise (two, 2, TKE_ROTATION_STATE_REWRAPPED, 3000, &n), ==,
                   TKE_RECOVERY_ACTION_SET_IMMEDIATE);
  g_assert_cmpint (advise (three, 3, TKE_ROTATION_STATE_REWRAPPED, 3000, &n), ==,
                   TKE_RECOVERY_ACTION_SET_IMMEDIATE);
  g_assert_cmpuint (n, ==, 0);
}

static void
test_some_switched (void)
{
  const Phase one_of_three[] = { PENDING, SWITCHED, PENDING };
  const Phase two_of_three[] = { SWITCHED, PENDING, SWITCHED };
  const Phase all[] = { SWITCHED, SWITCHED };
  guint n;

  g_assert_cmpint (advise (one_of_three, 3, TKE_ROTATION_STATE_REWRAPPED, 3000, &n), ==,
                   TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (advise (two_of_three, 3, TKE_ROTATION_STATE_REWRAPPED, 3000, &n), ==,
                   TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (advise (all, 2, TKE_ROTATION_STATE_REWRAPPED, 3000, &n), ==,
                   TKE_RECOVERY_ACTION_NONE);
  g_assert_cmpuint (n, ==, 0);
}

static void
test_anything_else_stops (void)
{
  const Phase uncommitted[] = { PENDING, UNCOMMITTED, PENDING };
  const Phase lookalike[] = { PENDING, LOOKALIKE };
  const Phase mixed_old[] = { PENDING, OTHER_OLD, PENDING };
  guint n;

  g_assert_cmpint (advise (uncommitted, 3, TKE_ROTATION_STATE_REWRAPPED, 3000, &n), ==,
                   TKE_RECOVERY_ACTION_STOP);
  /* Equal on the 32 digits a table line shows, different keys all the same. */
  g_assert_cmpint (advise (lookalike, 2, TKE_ROTATION_STATE_REWRAPPED, 3000, &n), ==,
                   TKE_RECOVERY_ACTION_STOP);
  g_assert_cmpint (advise (mixed_old, 3, TKE_ROTATION_STATE_REWRAPPED, 3000, &n), ==,
                   TKE_RECOVERY_ACTION_STOP);
}

static void
test_unreachable_unit_stops (void)
{
  const Phase three[] = { PENDING, PENDING, PENDING };
  g_autoptr (GPtrArray) units = make_units (three, 3);
  g_autoptr (TkeRotationStatus) status =
      tke_rotation_status_new (TKE_ROTATION_STATE_REWRAPPED, NEW_VP, 3000, 3000);
  g_autofree char *explanation = NULL;

  tke_crypto_unit_set_reachable (g_ptr_array_index (units, 2), FALSE);
  g_assert_cmpint (tke_recovery_advise (units, status, NULL, &explanation), ==,
                   TKE_RECOVERY_ACTION_STOP);
  g_assert_nonnull (g_strstr_len (explanation, -1, "3"));
}

static void
test_complete (void)
{
  const Phase two[] = { SWITCHED, SWITCHED };
  const Phase next[] = { PENDING, PENDING, PENDING };
  guint n;

  g_assert_cmpint (advise (two, 2, TKE_ROTATION_STATE_COMPLETE, 3000, &n), ==,
                   TKE_RECOVERY_ACTION_NONE);
  /* A new key committed after the last rotation (to OLD_VP, current now):
   * the next one failed before it started. */
  {
    g_autoptr (GPtrArray) units = make_units (next, 3);
    g_autoptr (TkeRotationStatus) last =
        tke_rotation_status_new (TKE_ROTATION_STATE_COMPLETE, OLD_VP, 3000, 3000);

    g_assert_cmpint (tke_recovery_advise (units, last, NULL, NULL), ==, TKE_RECOVERY_ACTION_ROTATE);
  }
  /* Issue 13: the rotation to NEW_VP completed without the recovery unit,
   * and only it is selected now (the switched units removed, as advised):
   * Set immediate on it, never Rotate (the loop the advice used to make). */
  {
    const Phase stranded[] = { PENDING };

    g_assert_cmpint (advise (stranded, 1, TKE_ROTATION_STATE_COMPLETE, 3000, &n), ==,
                     TKE_RECOVERY_ACTION_SET_IMMEDIATE);
    g_assert_cmpuint (n, ==, 0);
  }
  /* Complete on the operational units; a selected recovery unit still waits. */
  {
    const Phase late[] = { SWITCHED, SWITCHED, PENDING };

    g_assert_cmpint (advise (late, 3, TKE_ROTATION_STATE_COMPLETE, 3000, &n), ==,
                     TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE);
    g_assert_cmpuint (n, ==, 2);
  }
}

static TkeRecoveryAction
advise_auto (const Phase *phases, guint n, TkeRotationState state, const char *delayed)
{
  g_autoptr (GPtrArray) units = make_units (phases, n);
  g_autoptr (TkeRotationStatus) status = tke_rotation_status_new (state, NEW_VP, 0, 3000);
  g_autofree char *explanation = NULL;
  TkeRecoveryAction action = tke_recovery_advise_auto_rotate (units, status, delayed, &explanation);

  g_assert_nonnull (explanation);
  g_assert_cmpstr (explanation, !=, "");
  return action;
}

/* auto-mk-rotate's three documented cases (issue 16). */
static void
test_auto_rotate (void)
{
  const Phase pending[] = { PENDING, PENDING, PENDING };
  const Phase some[] = { SWITCHED, PENDING, SWITCHED };
  const Phase done[] = { SWITCHED, SWITCHED, SWITCHED };

  /* No "Delaying…", no rewrap message: auto-mk-rotate again. */
  g_assert_cmpint (advise_auto (pending, 3, TKE_ROTATION_STATE_NONE, NULL), ==,
                   TKE_RECOVERY_ACTION_ROTATE);
  g_assert_cmpint (advise_auto (pending, 3, TKE_ROTATION_STATE_COMPLETE, OLD_VP), ==,
                   TKE_RECOVERY_ACTION_ROTATE);
  /* "Delaying…" reached (the journal), the rewrap not started or not done:
   * cryptounit-mk-rotate, never auto-mk-rotate. */
  g_assert_cmpint (advise_auto (pending, 3, TKE_ROTATION_STATE_NONE, NEW_VP), ==,
                   TKE_RECOVERY_ACTION_RESUME_ROTATE);
  g_assert_cmpint (advise_auto (pending, 3, TKE_ROTATION_STATE_FAILED, NULL), ==,
                   TKE_RECOVERY_ACTION_RESUME_ROTATE);
  g_assert_cmpint (advise_auto (pending, 3, TKE_ROTATION_STATE_REWRAPPING, NEW_VP), ==,
                   TKE_RECOVERY_ACTION_RESUME_ROTATE);
  /* Both lines: set immediate (on the units not switched yet). */
  g_assert_cmpint (advise_auto (pending, 3, TKE_ROTATION_STATE_REWRAPPED, NEW_VP), ==,
                   TKE_RECOVERY_ACTION_SET_IMMEDIATE);
  g_assert_cmpint (advise_auto (some, 3, TKE_ROTATION_STATE_REWRAPPED, NEW_VP), ==,
                   TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE);
  /* The delayed rotation completed: nothing pending. */
  g_assert_cmpint (advise_auto (done, 3, TKE_ROTATION_STATE_COMPLETE, NEW_VP), ==,
                   TKE_RECOVERY_ACTION_NONE);
}

/* A unit for auto-init's rule: recovery or not, in imprint mode or not,
 * with a key or without. */
static TkeCryptoUnit *
init_unit (guint number, gboolean recovery, gboolean imprint, gboolean keyed)
{
  TkeCryptoUnit *unit = tke_crypto_unit_new ("inst", "hsm", number,
                                             recovery ? TKE_CRYPTO_UNIT_TYPE_RECOVERY
                                                      : TKE_CRYPTO_UNIT_TYPE_OPERATIONAL,
                                             "[us-south].[AZ1-CS1].[01].[01]");

  tke_crypto_unit_set_thresholds (unit, imprint, imprint ? 0 : 1, imprint ? 0 : 1);
  if (keyed)
    tke_crypto_unit_set_registers (unit, TKE_NEW_REGISTER_EMPTY, TKE_EMPTY_VP,
                                   TKE_CURRENT_REGISTER_VALID, OLD_VP);
  else
    tke_crypto_unit_set_registers (unit, TKE_NEW_REGISTER_EMPTY, TKE_EMPTY_VP,
                                   TKE_CURRENT_REGISTER_EMPTY, TKE_EMPTY_VP);
  return unit;
}

static char *
why_not_init (gboolean imprint[3], gboolean keyed[3])
{
  g_autoptr (GListStore) units = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = init_unit (i + 1, i == 2, imprint[i], keyed[i]);

      g_list_store_append (units, unit);
    }
  return tke_auto_ceremony_why_not (TKE_AUTO_INIT, G_LIST_MODEL (units), TKE_RECOVERY_ACTION_NONE,
                                    2);
}

/* auto-init: a new instance, or one an auto-init left part way before
 * its key; never one whose every unit left imprint mode (its key storage
 * may hold keys whose key its parts can bring back). */
static void
test_auto_init_rule (void)
{
  struct
  {
    gboolean imprint[3];
    gboolean keyed[3];
    gboolean allowed;
  } rows[] = {
    { { TRUE, TRUE, TRUE }, { FALSE, FALSE, FALSE }, TRUE },     /* new */
    { { FALSE, TRUE, TRUE }, { FALSE, FALSE, FALSE }, TRUE },    /* stopped after unit 1 */
    { { FALSE, FALSE, TRUE }, { FALSE, FALSE, FALSE }, TRUE },   /* stopped after unit 2 */
    { { FALSE, FALSE, FALSE }, { FALSE, FALSE, FALSE }, FALSE }, /* every unit left it */
    { { FALSE, TRUE, TRUE }, { TRUE, FALSE, FALSE }, FALSE },    /* unit 1 holds a key */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autofree char *reason = why_not_init (rows[i].imprint, rows[i].keyed);

      g_test_message ("row %zu: %s", i, reason != NULL ? reason : "allowed");
      g_assert_cmpint (reason == NULL, ==, rows[i].allowed);
      if (reason != NULL)
        g_assert_nonnull (strstr (reason, "Crypto unit 1 is not in imprint mode"));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/recovery/before-any-change", test_before_any_change);
  g_test_add_func ("/recovery/rewrap-not-complete", test_rewrap_not_complete);
  g_test_add_func ("/recovery/rewrapped-set-immediate-all", test_rewrapped_set_immediate_all);
  g_test_add_func ("/recovery/some-switched", test_some_switched);
  g_test_add_func ("/recovery/anything-else-stops", test_anything_else_stops);
  g_test_add_func ("/recovery/unreachable-unit-stops", test_unreachable_unit_stops);
  g_test_add_func ("/recovery/complete", test_complete);
  g_test_add_func ("/recovery/auto-rotate", test_auto_rotate);
  g_test_add_func ("/recovery/auto-init-rule", test_auto_init_rule);

  return g_test_run ();
}
