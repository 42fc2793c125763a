/* test-types.c: tests of src/libtke/tke-types.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <tke.h>

static void
test_register_state_strings (void)
{
  TkeNewRegisterState new_state;
  TkeCurrentRegisterState current_state;

  g_assert_cmpstr (tke_new_register_state_to_string (TKE_NEW_REGISTER_EMPTY), ==, "Empty");
  g_assert_cmpstr (tke_new_register_state_to_string (TKE_NEW_REGISTER_FULL_UNCOMMITTED), ==,
                   "Full Uncommitted");
  g_assert_cmpstr (tke_new_register_state_to_string (TKE_NEW_REGISTER_FULL_COMMITTED), ==,
                   "Full Committed");
  g_assert_cmpstr (tke_current_register_state_to_string (TKE_CURRENT_REGISTER_EMPTY), ==, "Empty");
  g_assert_cmpstr (tke_current_register_state_to_string (TKE_CURRENT_REGISTER_VALID), ==, "Valid");

  g_assert_true (tke_new_register_state_from_string ("Full Committed", &new_state));
  g_assert_cmpint (new_state, ==, TKE_NEW_REGISTER_FULL_COMMITTED);
  g_assert_true (tke_new_register_state_from_string ("full uncommitted", &new_state));
  g_assert_cmpint (new_state, ==, TKE_NEW_REGISTER_FULL_UNCOMMITTED);
  g_assert_false (tke_new_register_state_from_string ("Partially Full", &new_state));
  g_assert_false (tke_new_register_state_from_string (NULL, &new_state));
  g_assert_true (tke_current_register_state_from_string ("Valid", &current_state));
  g_assert_cmpint (current_state, ==, TKE_CURRENT_REGISTER_VALID);
  g_assert_false (tke_current_register_state_from_string ("Full Committed", &current_state));
}

static void
test_unit_type_strings (void)
{
  TkeCryptoUnitType type;

  g_assert_cmpstr (tke_crypto_unit_type_to_string (TKE_CRYPTO_UNIT_TYPE_RECOVERY), ==, "RECOVERY");
  g_assert_true (tke_crypto_unit_type_from_string ("failover", &type));
  g_assert_cmpint (type, ==, TKE_CRYPTO_UNIT_TYPE_FAILOVER);
  g_assert_false (tke_crypto_unit_type_from_string ("BACKUP", &type));
}

static void
test_vp_groups (void)
{
  const char *vp = "d2e7f8abd41e8042801da385d14c2003d4fd42c1c37bde4b672ac6fcff42cff9";
  g_autofree char *grouped = tke_vp_format_groups (vp);

  g_assert_true (tke_vp_is_valid (vp));
  g_assert_true (tke_vp_is_valid (TKE_EMPTY_VP));
  g_assert_false (
      tke_vp_is_valid ("D2E7F8ABD41E8042801DA385D14C2003D4FD42C1C37BDE4B672AC6FCFF42CFF9"));
  g_assert_false (tke_vp_is_valid ("d2e7"));
  g_assert_false (tke_vp_is_valid (NULL));
  g_assert_cmpstr (grouped, ==,
                   "d2e7 f8ab d41e 8042 801d a385 d14c 2003\n"
                   "d4fd 42c1 c37b de4b 672a c6fc ff42 cff9");
}

static void
test_vp_one_line (void)
{
  g_autofree char *line =
      tke_vp_format_one_line ("d2e7f8abd41e8042801da385d14c2003d4fd42c1c37bde4b672ac6fcff42cff9");
  g_autofree char *short_hex = tke_vp_format_one_line ("d2e7f8ab");
  g_autofree char *upper =
      tke_vp_format_one_line ("D2E7F8ABD41E8042801DA385D14C2003D4FD42C1C37BDE4B672AC6FCFF42CFF9");

  g_assert_cmpstr (line, ==,
                   "d2e7 f8ab d41e 8042 801d a385 d14c 2003 "
                   "d4fd 42c1 c37b de4b 672a c6fc ff42 cff9");
  /* Not a 64-digit value: shown as it came, for the reader to see. */
  g_assert_cmpstr (short_hex, ==, "d2e7f8ab");
  g_assert_cmpstr (upper, ==, "D2E7F8ABD41E8042801DA385D14C2003D4FD42C1C37BDE4B672AC6FCFF42CFF9");
  g_assert_null (tke_vp_format_one_line (NULL));
}

static void
test_rotation_status_keeps_message_order (void)
{
  g_autoptr (TkeRotationStatus) status =
      tke_rotation_status_new (TKE_ROTATION_STATE_REWRAPPED, TKE_EMPTY_VP, 3000, 3000);
  g_autoptr (GDateTime) first = g_date_time_new_utc (2026, 11, 23, 14, 0, 0);
  g_autoptr (GDateTime) second = g_date_time_add_seconds (first, 1.5);
  GDateTime *when = NULL;

  tke_rotation_status_add_message (status, first, TKE_ROTATION_MESSAGE_STARTED);
  tke_rotation_status_add_message (status, second, TKE_ROTATION_MESSAGE_REWRAPPED);

  g_assert_cmpint (tke_rotation_status_get_state (status), ==, TKE_ROTATION_STATE_REWRAPPED);
  g_assert_cmpuint (tke_rotation_status_get_keys_done (status), ==, 3000);
  g_assert_cmpuint (tke_rotation_status_get_n_messages (status), ==, 2);
  g_assert_cmpstr (tke_rotation_status_get_message (status, 0, &when), ==,
                   "Master key rotation started.");
  g_assert_true (g_date_time_equal (when, first));
  g_assert_cmpstr (tke_rotation_status_get_message (status, 1, &when), ==,
                   "KMS CRK rewrap successful, waiting on cryptounit-mk-setimm.");
  g_assert_true (g_date_time_equal (when, second));
  g_assert_null (tke_rotation_status_get_error_message (status));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/types/register-state-strings", test_register_state_strings);
  g_test_add_func ("/types/unit-type-strings", test_unit_type_strings);
  g_test_add_func ("/types/vp-groups", test_vp_groups);
  g_test_add_func ("/types/vp-one-line", test_vp_one_line);
  g_test_add_func ("/types/rotation-status", test_rotation_status_keeps_message_order);

  return g_test_run ();
}
