/* test-crypto-unit.c: tests of src/libtke/tke-crypto-unit.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <tke.h>

#define VP_A "1111111111111111111111111111111111111111111111111111111111111111"
#define VP_B "2222222222222222222222222222222222222222222222222222222222222222"

static void
count_notify (GObject *object, GParamSpec *pspec, guint *count)
{
  (*count)++;
}

static void
test_new_unit_is_empty (void)
{
  g_autoptr (TkeCryptoUnit) unit = tke_crypto_unit_new (
      "482cf2ce", "hsm-1", 1, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL, "[us-south].[AZ3-CS3].[02].[03]");

  g_assert_cmpstr (tke_crypto_unit_get_instance_id (unit), ==, "482cf2ce");
  g_assert_cmpuint (tke_crypto_unit_get_number (unit), ==, 1);
  g_assert_cmpstr (tke_crypto_unit_get_location (unit), ==, "[us-south].[AZ3-CS3].[02].[03]");
  g_assert_false (tke_crypto_unit_get_selected (unit));
  g_assert_true (tke_crypto_unit_get_reachable (unit));
  g_assert_cmpint (tke_crypto_unit_get_new_register_state (unit), ==, TKE_NEW_REGISTER_EMPTY);
  g_assert_cmpstr (tke_crypto_unit_get_new_register_vp (unit), ==, TKE_EMPTY_VP);
  g_assert_cmpint (tke_crypto_unit_get_current_register_state (unit), ==,
                   TKE_CURRENT_REGISTER_EMPTY);
  g_assert_cmpstr (tke_crypto_unit_get_current_register_vp (unit), ==, TKE_EMPTY_VP);
  g_assert_cmpuint (g_list_model_get_n_items (tke_crypto_unit_get_administrators (unit)), ==, 0);
}

static void
test_registers_notify_once_per_change (void)
{
  g_autoptr (TkeCryptoUnit) unit = tke_crypto_unit_new (
      "i", "hsm-2", 2, TKE_CRYPTO_UNIT_TYPE_RECOVERY, "[us-east].[AZ2-CS4].[03].[06]");
  guint count = 0;

  g_signal_connect (unit, "notify", G_CALLBACK (count_notify), &count);

  tke_crypto_unit_set_registers (unit, TKE_NEW_REGISTER_FULL_COMMITTED, VP_B,
                                 TKE_CURRENT_REGISTER_VALID, VP_A);
  g_assert_cmpuint (count, ==, 4);
  g_assert_cmpstr (tke_crypto_unit_get_new_register_vp (unit), ==, VP_B);
  g_assert_cmpstr (tke_crypto_unit_get_current_register_vp (unit), ==, VP_A);

  count = 0;
  tke_crypto_unit_set_registers (unit, TKE_NEW_REGISTER_FULL_COMMITTED, VP_B,
                                 TKE_CURRENT_REGISTER_VALID, VP_A);
  g_assert_cmpuint (count, ==, 0);

  tke_crypto_unit_set_registers (unit, TKE_NEW_REGISTER_EMPTY, TKE_EMPTY_VP,
                                 TKE_CURRENT_REGISTER_VALID, VP_B);
  g_assert_cmpuint (count, ==, 3);

  count = 0;
  tke_crypto_unit_set_selected (unit, TRUE);
  tke_crypto_unit_set_selected (unit, TRUE);
  g_assert_cmpuint (count, ==, 1);
}

static void
test_administrators_and_thresholds (void)
{
  g_autoptr (TkeCryptoUnit) unit = tke_crypto_unit_new (
      "i", "hsm-3", 3, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL, "[us-south].[AZ1-CS1].[01].[01]");
  g_autoptr (GPtrArray) admins = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (TkeAdministrator) first = NULL;

  tke_crypto_unit_set_thresholds (unit, TRUE, 0, 0);
  g_assert_true (tke_crypto_unit_get_imprint_mode (unit));

  g_ptr_array_add (admins, tke_administrator_new ("admin1", VP_A));
  g_ptr_array_add (admins, tke_administrator_new ("admin2", VP_B));
  tke_crypto_unit_set_administrators (unit, admins);
  tke_crypto_unit_set_thresholds (unit, FALSE, 2, 1);

  g_assert_false (tke_crypto_unit_get_imprint_mode (unit));
  g_assert_cmpuint (tke_crypto_unit_get_signature_threshold (unit), ==, 2);
  g_assert_cmpuint (tke_crypto_unit_get_revocation_threshold (unit), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (tke_crypto_unit_get_administrators (unit)), ==, 2);
  first = g_list_model_get_item (tke_crypto_unit_get_administrators (unit), 0);
  g_assert_cmpstr (tke_administrator_get_name (first), ==, "admin1");
  g_assert_cmpstr (tke_administrator_get_ski (first), ==, VP_A);
}

/* The signatures a command over several units needs: the highest
 * threshold among them, and never 0 (units in imprint mode report 0). */
static void
test_signature_threshold_of_units (void)
{
  g_autoptr (GListStore) units = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  g_autoptr (TkeCryptoUnit) a =
      tke_crypto_unit_new ("i", "hsm-a", 1, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL, "[x].[y].[01].[01]");
  g_autoptr (TkeCryptoUnit) b =
      tke_crypto_unit_new ("i", "hsm-b", 2, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL, "[x].[y].[01].[02]");

  g_assert_cmpuint (tke_crypto_units_get_signature_threshold (G_LIST_MODEL (units)), ==, 1);
  g_list_store_append (units, a);
  g_list_store_append (units, b);
  tke_crypto_unit_set_thresholds (a, TRUE, 0, 0);
  tke_crypto_unit_set_thresholds (b, TRUE, 0, 0);
  g_assert_cmpuint (tke_crypto_units_get_signature_threshold (G_LIST_MODEL (units)), ==, 1);
  tke_crypto_unit_set_thresholds (a, FALSE, 2, 1);
  tke_crypto_unit_set_thresholds (b, FALSE, 3, 1);
  g_assert_cmpuint (tke_crypto_units_get_signature_threshold (G_LIST_MODEL (units)), ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/crypto-unit/new-is-empty", test_new_unit_is_empty);
  g_test_add_func ("/crypto-unit/registers-notify", test_registers_notify_once_per_change);
  g_test_add_func ("/crypto-unit/administrators-and-thresholds",
                   test_administrators_and_thresholds);
  g_test_add_func ("/crypto-unit/signature-threshold-of-units", test_signature_threshold_of_units);

  return g_test_run ();
}
