/* test-precheck.c: tests of src/libtke/tke-precheck.c, one per pre-check
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <tke.h>

#define OLD_VP "1111111111111111111111111111111111111111111111111111111111111111"
#define NEW_VP "2222222222222222222222222222222222222222222222222222222222222222"
#define SKI_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SKI_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SKI_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static TkeCryptoUnit *
good_unit (const char *instance, guint number)
{
  g_autoptr (GPtrArray) admins = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *hsm = g_strdup_printf ("hsm-%u", number);
  TkeCryptoUnit *unit = tke_crypto_unit_new (
      instance, hsm, number, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL, "[us-south].[AZ1-CS1].[01].[01]");
  g_ptr_array_add (admins, tke_administrator_new ("Admin A", SKI_A));
  g_ptr_array_add (admins, tke_administrator_new ("Admin B", SKI_B));
  tke_crypto_unit_set_administrators (unit, admins);
  tke_crypto_unit_set_thresholds (unit, FALSE, 2, 1);
  tke_crypto_unit_set_registers (unit, TKE_NEW_REGISTER_FULL_COMMITTED, NEW_VP,
                                 TKE_CURRENT_REGISTER_VALID, OLD_VP);
  tke_crypto_unit_set_reachable (unit, TRUE);
  return unit;
}

/* Three good units of instance "inst", selected; the store holds all of
 * them.  Each test changes them to what it checks. */
typedef struct
{
  GListStore *store;
  GPtrArray *units;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->units = g_ptr_array_new_with_free_func (g_object_unref);
  f->store = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  for (guint i = 1; i <= 3; i++)
    {
      TkeCryptoUnit *unit = good_unit ("inst", i);

      g_ptr_array_add (f->units, unit);
      g_list_store_append (f->store, unit);
    }
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->units, g_ptr_array_unref);
  g_clear_object (&f->store);
}

static void
expect (GListStore *store, GPtrArray *units, gint64 expiry, TkePrecheck expected, int code)
{
  g_autoptr (GError) error = NULL;
  TkePrecheck got = tke_precheck_rotation (G_LIST_MODEL (store), units, expiry, &error);

  g_assert_cmpint (got, ==, expected);
  if (expected == TKE_PRECHECK_OK)
    g_assert_no_error (error);
  else
    {
      g_assert_error (error, TKE_ERROR, code);
      g_assert_cmpuint (strlen (error->message), >, 20);
    }
}

static void
test_all_good (Fixture *f, gconstpointer data)
{
  GListStore *store = f->store;
  GPtrArray *units = f->units;

  expect (store, units, 0, TKE_PRECHECK_OK, 0);
  expect (store, units, g_get_real_time () / G_USEC_PER_SEC + 3600, TKE_PRECHECK_OK, 0);
  for (guint i = 0; i < units->len; i++)
    g_assert_cmpint (tke_precheck_compare_unit (units, i), ==, TKE_COMPARE_NONE);
}

static void
test_no_units (Fixture *f, gconstpointer data)
{
  GListStore *store = f->store;
  GPtrArray *units = f->units;

  g_ptr_array_set_size (units, 0);
  expect (store, units, 0, TKE_PRECHECK_NO_UNITS, TKE_ERROR_PRECHECK_FAILED);
}

static void
test_token_expired (Fixture *f, gconstpointer data)
{
  GListStore *store = f->store;
  GPtrArray *units = f->units;

  expect (store, units, g_get_real_time () / G_USEC_PER_SEC - 1, TKE_PRECHECK_TOKEN_EXPIRED,
          TKE_ERROR_AUTH_EXPIRED);
}

static void
test_several_instances (Fixture *f, gconstpointer data)
{
  GListStore *store = f->store;
  GPtrArray *units = f->units;

  g_ptr_array_add (units, good_unit ("other", 1));
  expect (store, units, 0, TKE_PRECHECK_SEVERAL_INSTANCES, TKE_ERROR_PRECHECK_FAILED);
}

static void
test_not_all_units (Fixture *f, gconstpointer data)
{
  GListStore *store = f->store;
  GPtrArray *units = f->units;
  g_autoptr (TkeCryptoUnit) recovery = tke_crypto_unit_new (
      "inst", "hsm-9", 9, TKE_CRYPTO_UNIT_TYPE_RECOVERY, "[us-south].[AZ1-CS1].[01].[09]");

  /* A recovery unit need not be selected. */
  g_list_store_append (store, recovery);
  expect (store, units, 0, TKE_PRECHECK_OK, 0);
  g_ptr_array_remove_index (units, 2);
  expect (store, units, 0, TKE_PRECHECK_NOT_ALL_UNITS, TKE_ERROR_PRECHECK_FAILED);
}

static void
test_unreachable (Fixture *f, gconstpointer data)
{
  GListStore *store = f->store;
  GPtrArray *units = f->units;

  tke_crypto_unit_set_reachable (units->pdata[1], FALSE);
  expect (store, units, 0, TKE_PRECHECK_UNREACHABLE, TKE_ERROR_PRECHECK_FAILED);
}

static void
test_imprint_mode (Fixture *f, gconstpointer data)
{
  GListStore *store = f->store;
  GPtrArray *units = f->units;

  tke_crypto_unit_set_thresholds (units->pdata[2], TRUE, 0, 0);
  expect (store, units, 0, TKE_PRECHECK_IMPRINT_MODE, TKE_ERROR_PRECHECK_FAILED);
  g_assert_true (tke_precheck_compare_unit (units, 2) & TKE_COMPARE_IMPRINT_MODE);
  g_assert_false (tke_precheck_compare_unit (units, 0) & TKE_COMPARE_IMPRINT_MODE);
}

static void
test_thresholds (Fixture *f, gconstpointer data)
{
  GListStore *store = f->store;
  GPtrArray *units = f->units;

  tke_crypto_unit_set_thresholds (units->pdata[1], FALSE, 1, 1);
  expect (store, units, 0, TKE_PRECHECK_THRESHOLDS, TKE_ERROR_PRECHECK_FAILED);
  g_assert_cmpint (tke_precheck_compare_unit (units, 1), ==, TKE_COMPARE_SIGNATURE_THRESHOLD);
  g_assert_cmpint (tke_precheck_compare_unit (units, 0), ==, TKE_COMPARE_NONE);
}

static void
test_administrators (Fixture *f, gconstpointer data)
{
  GListStore *store = f->store;
  GPtrArray *units = f->units;
  g_autoptr (GPtrArray) other = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) common = NULL;

  /* Same count, same names, another key: only the SKI counts. */
  g_ptr_array_add (other, tke_administrator_new ("Admin A", SKI_A));
  g_ptr_array_add (other, tke_administrator_new ("Admin B", SKI_C));
  tke_crypto_unit_set_administrators (units->pdata[0], other);
  common = tke_precheck_common_administrators (units);
  g_assert_cmpuint (common->len, ==, 1);
  g_assert_cmpstr (common->pdata[0], ==, SKI_A);
  expect (store, units, 0, TKE_PRECHECK_ADMINISTRATORS, TKE_ERROR_PRECHECK_FAILED);
  g_assert_cmpint (tke_precheck_compare_unit (units, 0), ==, TKE_COMPARE_ADMINISTRATORS);

  /* Threshold 1: one common administrator suffices. */
  for (guint i = 0; i < units->len; i++)
    tke_crypto_unit_set_thresholds (units->pdata[i], FALSE, 1, 1);
  expect (store, units, 0, TKE_PRECHECK_OK, 0);
}

static void
test_current_register (Fixture *f, gconstpointer data)
{
  GListStore *store = f->store;
  GPtrArray *units = f->units;

  tke_crypto_unit_set_registers (units->pdata[1], TKE_NEW_REGISTER_FULL_COMMITTED, NEW_VP,
                                 TKE_CURRENT_REGISTER_EMPTY, TKE_EMPTY_VP);
  expect (store, units, 0, TKE_PRECHECK_CURRENT_REGISTER, TKE_ERROR_PRECHECK_FAILED);
  /* Valid everywhere, another VP on one unit (equal on the first line shown). */
  tke_crypto_unit_set_registers (
      units->pdata[1], TKE_NEW_REGISTER_FULL_COMMITTED, NEW_VP, TKE_CURRENT_REGISTER_VALID,
      "1111111111111111111111111111111199999999999999999999999999999999");
  expect (store, units, 0, TKE_PRECHECK_CURRENT_REGISTER, TKE_ERROR_PRECHECK_FAILED);
  g_assert_cmpint (tke_precheck_compare_unit (units, 1), ==, TKE_COMPARE_CURRENT_REGISTER);
}

static void
test_new_register (Fixture *f, gconstpointer data)
{
  GListStore *store = f->store;
  GPtrArray *units = f->units;

  /* Uncommitted on one unit. */
  tke_crypto_unit_set_registers (units->pdata[2], TKE_NEW_REGISTER_FULL_UNCOMMITTED, NEW_VP,
                                 TKE_CURRENT_REGISTER_VALID, OLD_VP);
  expect (store, units, 0, TKE_PRECHECK_NEW_REGISTER, TKE_ERROR_PRECHECK_FAILED);
  /* Empty everywhere (the doc's "Valid" would pass this): refused. */
  for (guint i = 0; i < units->len; i++)
    tke_crypto_unit_set_registers (units->pdata[i], TKE_NEW_REGISTER_EMPTY, TKE_EMPTY_VP,
                                   TKE_CURRENT_REGISTER_VALID, OLD_VP);
  expect (store, units, 0, TKE_PRECHECK_NEW_REGISTER, TKE_ERROR_PRECHECK_FAILED);
  /* Committed everywhere, but another VP on one unit. */
  for (guint i = 0; i < units->len; i++)
    tke_crypto_unit_set_registers (
        units->pdata[i], TKE_NEW_REGISTER_FULL_COMMITTED,
        i == 0 ? "3333333333333333333333333333333333333333333333333333333333333333" : NEW_VP,
        TKE_CURRENT_REGISTER_VALID, OLD_VP);
  expect (store, units, 0, TKE_PRECHECK_NEW_REGISTER, TKE_ERROR_PRECHECK_FAILED);
  g_assert_cmpint (tke_precheck_compare_unit (units, 0), ==, TKE_COMPARE_NEW_REGISTER);
  /* The new key equal to the current one: nothing to rotate to. */
  for (guint i = 0; i < units->len; i++)
    tke_crypto_unit_set_registers (units->pdata[i], TKE_NEW_REGISTER_FULL_COMMITTED, OLD_VP,
                                   TKE_CURRENT_REGISTER_VALID, OLD_VP);
  expect (store, units, 0, TKE_PRECHECK_NEW_REGISTER, TKE_ERROR_PRECHECK_FAILED);
}

static void
test_compare_tie (Fixture *f, gconstpointer data)
{
  GPtrArray *units = f->units;

  /* Two units that disagree: both are marked, neither is "right". */
  g_ptr_array_remove_index (units, 2);
  tke_crypto_unit_set_thresholds (units->pdata[1], FALSE, 1, 1);
  g_assert_true (tke_precheck_compare_unit (units, 0) & TKE_COMPARE_SIGNATURE_THRESHOLD);
  g_assert_true (tke_precheck_compare_unit (units, 1) & TKE_COMPARE_SIGNATURE_THRESHOLD);
}

/* Issue 13: a recovery unit that holds the master key takes part in the
 * rotation; one with no key at all (never set up) may be left out. */
static void
test_recovery_unit (Fixture *f, gconstpointer data)
{
  GListStore *store = f->store;
  GPtrArray *units = f->units;
  g_autoptr (TkeCryptoUnit) recovery = tke_crypto_unit_new (
      "inst", "hsm-4", 4, TKE_CRYPTO_UNIT_TYPE_RECOVERY, "[us-east].[AZ1-CS1].[03].[07]");
  g_autoptr (GError) error = NULL;

  tke_crypto_unit_set_reachable (recovery, TRUE);
  tke_crypto_unit_set_thresholds (recovery, TRUE, 0, 0);
  tke_crypto_unit_set_registers (recovery, TKE_NEW_REGISTER_EMPTY, TKE_EMPTY_VP,
                                 TKE_CURRENT_REGISTER_EMPTY, TKE_EMPTY_VP);
  g_list_store_append (store, recovery);
  g_assert_false (tke_precheck_unit_takes_part (recovery));
  expect (store, units, 0, TKE_PRECHECK_OK, 0);

  tke_crypto_unit_set_registers (recovery, TKE_NEW_REGISTER_FULL_COMMITTED, NEW_VP,
                                 TKE_CURRENT_REGISTER_VALID, OLD_VP);
  g_assert_true (tke_precheck_unit_takes_part (recovery));
  g_assert_cmpint (tke_precheck_rotation (G_LIST_MODEL (store), units, 0, &error), ==,
                   TKE_PRECHECK_NOT_ALL_UNITS);
  g_assert_nonnull (
      strstr (error->message, "Crypto unit 4 of the service instance is not selected"));
  g_assert_nonnull (strstr (error->message, "RECOVERY"));
  g_clear_error (&error);

  /* Its registers unknown: it may hold the key, so it takes part. */
  tke_crypto_unit_set_registers (recovery, TKE_NEW_REGISTER_EMPTY, TKE_EMPTY_VP,
                                 TKE_CURRENT_REGISTER_EMPTY, TKE_EMPTY_VP);
  tke_crypto_unit_set_reachable (recovery, FALSE);
  g_assert_true (tke_precheck_unit_takes_part (recovery));
}

int
main (int argc, char **argv)
{
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  g_test_init (&argc, &argv, NULL);
  ADD ("/precheck/all-good", test_all_good);
  ADD ("/precheck/no-units", test_no_units);
  ADD ("/precheck/token-expired", test_token_expired);
  ADD ("/precheck/several-instances", test_several_instances);
  ADD ("/precheck/not-all-units", test_not_all_units);
  ADD ("/precheck/recovery-unit", test_recovery_unit);
  ADD ("/precheck/unreachable", test_unreachable);
  ADD ("/precheck/imprint-mode", test_imprint_mode);
  ADD ("/precheck/thresholds", test_thresholds);
  ADD ("/precheck/administrators", test_administrators);
  ADD ("/precheck/current-register", test_current_register);
  ADD ("/precheck/new-register", test_new_register);
  ADD ("/precheck/compare-tie", test_compare_tie);
  return g_test_run ();
}
