/* test-instance-setup.c: tests of src/libtke/tke-instance-setup.c: the
 * set-up step read from the units, and the limits on administrators and
 * thresholds
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <tke.h>

#define VP_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SKI_A "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"
#define SKI_B "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"

/* A reachable unit with @skis (NULL-terminated) as administrators. */
static TkeCryptoUnit *
unit_with (guint number, const char *const *skis, gboolean imprint, guint sig, guint rev)
{
  g_autofree char *hsm = g_strdup_printf ("hsm-%u", number);
  TkeCryptoUnit *unit =
      tke_crypto_unit_new ("instance", hsm, number, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL, "here");
  g_autoptr (GPtrArray) admins = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; skis != NULL && skis[i] != NULL; i++)
    g_ptr_array_add (admins, tke_administrator_new ("admin", skis[i]));
  tke_crypto_unit_set_administrators (unit, admins);
  tke_crypto_unit_set_thresholds (unit, imprint, sig, rev);
  tke_crypto_unit_set_reachable (unit, TRUE);
  return unit;
}

static GListModel *
units_of (TkeCryptoUnit *first, ...)
{
  GListStore *store = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  va_list args;

  va_start (args, first);
  for (TkeCryptoUnit *unit = first; unit != NULL; unit = va_arg (args, TkeCryptoUnit *))
    {
      g_list_store_append (store, unit);
      g_object_unref (unit);
    }
  va_end (args);
  return G_LIST_MODEL (store);
}

static TkeSetupStep
step_of (GListModel *units)
{
  g_autofree char *description = NULL;
  TkeSetupStep step = tke_instance_setup_get_step (units, &description);

  g_assert_nonnull (description);
  return step;
}

static void
test_steps (void)
{
  const char *one[] = { SKI_A, NULL };
  const char *two[] = { SKI_A, SKI_B, NULL };
  g_autoptr (GListModel) none = units_of (NULL, NULL);
  g_autoptr (GListModel) blank = units_of (unit_with (1, NULL, TRUE, 0, 0), NULL);
  g_autoptr (GListModel) half =
      units_of (unit_with (1, two, TRUE, 0, 0), unit_with (2, one, TRUE, 0, 0), NULL);
  g_autoptr (GListModel) admins =
      units_of (unit_with (1, two, TRUE, 0, 0), unit_with (2, two, TRUE, 0, 0), NULL);
  /* A threshold set that stopped after unit 1: set them again. */
  g_autoptr (GListModel) thresholds =
      units_of (unit_with (1, two, FALSE, 2, 2), unit_with (2, two, TRUE, 0, 0), NULL);
  g_autoptr (GListModel) out = units_of (unit_with (1, two, FALSE, 2, 2), NULL);
  TkeCryptoUnit *unit;

  g_assert_cmpint (step_of (none), ==, TKE_SETUP_STEP_BLOCKED);
  g_assert_cmpint (step_of (blank), ==, TKE_SETUP_STEP_ADMINISTRATORS);
  g_assert_cmpint (step_of (half), ==, TKE_SETUP_STEP_ADMINISTRATORS);
  g_assert_cmpint (step_of (admins), ==, TKE_SETUP_STEP_THRESHOLDS);
  g_assert_cmpint (step_of (thresholds), ==, TKE_SETUP_STEP_THRESHOLDS);
  g_assert_cmpint (step_of (out), ==, TKE_SETUP_STEP_LOAD);

  unit = g_list_model_get_item (out, 0);
  tke_crypto_unit_set_registers (unit, TKE_NEW_REGISTER_FULL_UNCOMMITTED, VP_A,
                                 TKE_CURRENT_REGISTER_EMPTY, TKE_EMPTY_VP);
  g_assert_cmpint (step_of (out), ==, TKE_SETUP_STEP_COMMIT);
  tke_crypto_unit_set_registers (unit, TKE_NEW_REGISTER_FULL_COMMITTED, VP_A,
                                 TKE_CURRENT_REGISTER_EMPTY, TKE_EMPTY_VP);
  g_assert_cmpint (step_of (out), ==, TKE_SETUP_STEP_SET_IMMEDIATE);
  tke_crypto_unit_set_registers (unit, TKE_NEW_REGISTER_EMPTY, TKE_EMPTY_VP,
                                 TKE_CURRENT_REGISTER_VALID, VP_A);
  g_assert_cmpint (step_of (out), ==, TKE_SETUP_STEP_DONE);
  tke_crypto_unit_set_reachable (unit, FALSE);
  g_assert_cmpint (step_of (out), ==, TKE_SETUP_STEP_BLOCKED);
  g_object_unref (unit);
}

static void
test_thresholds (void)
{
  const char *two[] = { SKI_A, SKI_B, NULL };
  const char *one[] = { SKI_A, NULL };
  g_autoptr (GListModel) units =
      units_of (unit_with (1, two, TRUE, 0, 0), unit_with (2, one, TRUE, 0, 0), NULL);
  g_autoptr (GListModel) both = units_of (unit_with (1, two, TRUE, 0, 0), NULL);
  g_autoptr (GError) error = NULL;

  g_assert_false (tke_instance_setup_check_thresholds (units, 0, 1, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (tke_instance_setup_check_thresholds (units, 9, 1, &error));
  g_clear_error (&error);
  /* Unit 2 has one administrator only. */
  g_assert_false (tke_instance_setup_check_thresholds (units, 2, 1, &error));
  g_assert_nonnull (strstr (error->message, "Crypto unit 2 has 1 administrator"));
  g_clear_error (&error);
  g_assert_true (tke_instance_setup_check_thresholds (units, 1, 1, &error));
  g_assert_no_error (error);
  g_assert_true (tke_instance_setup_check_thresholds (both, 2, 1, &error));
  g_assert_true (tke_instance_setup_leaves_imprint_mode (both));
}

static void
test_signers (void)
{
  const char *two[] = { SKI_A, SKI_B, NULL };
  g_autoptr (GListModel) imprint = units_of (unit_with (1, two, TRUE, 0, 0), NULL);
  g_autoptr (GListModel) set_up = units_of (unit_with (1, two, FALSE, 2, 1), NULL);
  g_autoptr (GListModel) mixed =
      units_of (unit_with (1, two, FALSE, 1, 1), unit_with (2, two, TRUE, 0, 0), NULL);

  /* In imprint mode: nothing is signed, except leaving it. */
  g_assert_cmpuint (tke_instance_setup_get_n_signers (TKE_CEREMONY_ADD_ADMIN, imprint, 0), ==, 0);
  g_assert_cmpuint (tke_instance_setup_get_n_signers (TKE_CEREMONY_ZEROIZE, imprint, 0), ==, 0);
  g_assert_cmpuint (tke_instance_setup_get_n_signers (TKE_CEREMONY_SET_THRESHOLDS, imprint, 2), ==,
                    2);
  g_assert_false (tke_instance_setup_leaves_imprint_mode (set_up));
  /* Out of it: the thresholds. */
  g_assert_cmpuint (tke_instance_setup_get_n_signers (TKE_CEREMONY_ADD_ADMIN, set_up, 0), ==, 2);
  g_assert_cmpuint (tke_instance_setup_get_n_signers (TKE_CEREMONY_REMOVE_ADMIN, set_up, 0), ==, 1);
  g_assert_cmpuint (tke_instance_setup_get_n_signers (TKE_CEREMONY_SET_THRESHOLDS, set_up, 1), ==,
                    2);
  g_assert_cmpuint (tke_instance_setup_get_n_signers (TKE_CEREMONY_ZEROIZE, set_up, 0), ==, 1);
  /* Half out: the most any unit needs. */
  g_assert_cmpuint (tke_instance_setup_get_n_signers (TKE_CEREMONY_SET_THRESHOLDS, mixed, 2), ==,
                    2);
}

static void
test_administrators (void)
{
  const char *one[] = { SKI_A, NULL };
  const char *eight[] = { SKI_A, SKI_A, SKI_A, SKI_A, SKI_A, SKI_A, SKI_A, SKI_B, NULL };
  g_autoptr (GListModel) units =
      units_of (unit_with (1, one, FALSE, 1, 1), unit_with (2, NULL, TRUE, 0, 0), NULL);
  g_autoptr (GListModel) full =
      units_of (unit_with (1, one, TRUE, 0, 0), unit_with (2, eight, TRUE, 0, 0), NULL);
  g_autoptr (GListModel) lacking = tke_instance_setup_units_lacking (units, SKI_A);
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (g_list_model_get_n_items (lacking), ==, 1);
  g_assert_true (tke_instance_setup_check_new_administrator (units, "Admin One", SKI_A, &error));
  g_assert_false (tke_instance_setup_check_new_administrator (
      units, "A name of more than thirty characters", SKI_B, &error));
  g_clear_error (&error);
  g_assert_false (
      tke_instance_setup_check_new_administrator (full, "Admin Nine", SKI_A "0", &error));
  g_assert_nonnull (strstr (error->message, "Crypto unit 2 has 8 administrators"));
  g_clear_error (&error);
  /* Unit 1 would have no administrator for its threshold of 1. */
  g_assert_false (tke_instance_setup_check_removal (units, SKI_A, &error));
  g_assert_nonnull (strstr (error->message, "Crypto unit 1"));
  g_clear_error (&error);
  g_assert_false (tke_instance_setup_check_removal (units, SKI_B, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (tke_instance_setup_check_removal (full, SKI_B, &error));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/instance-setup/steps", test_steps);
  g_test_add_func ("/instance-setup/thresholds", test_thresholds);
  g_test_add_func ("/instance-setup/signers", test_signers);
  g_test_add_func ("/instance-setup/administrators", test_administrators);
  return g_test_run ();
}
