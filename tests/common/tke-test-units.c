/* tke-test-units.c: crypto units built in a test, as the service would describe them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "tke-test-units.h"

TkeCryptoUnit *
tke_test_unit_new (const char *instance, guint number, TkeCryptoUnitType type, const char *location)
{
  g_autofree char *hsm = g_strdup_printf ("%s-hsm-%u", instance, number);
  TkeCryptoUnit *unit = tke_crypto_unit_new (instance, hsm, number, type, location);
  g_autoptr (GPtrArray) admins = g_ptr_array_new_with_free_func (g_object_unref);

  g_ptr_array_add (admins, tke_administrator_new (
                               "Alice Admin",
                               "4f2a9c0e11d3e870aa55bb66cc77dd88ee99ff00112233445566778899aabbcc"));
  g_ptr_array_add (
      admins, tke_administrator_new (
                  "Bob Admin", "7be10a4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708"));
  tke_crypto_unit_set_administrators (unit, admins);
  tke_crypto_unit_set_thresholds (unit, FALSE, 2, 1);
  tke_crypto_unit_set_registers (unit, TKE_NEW_REGISTER_EMPTY, TKE_EMPTY_VP,
                                 TKE_CURRENT_REGISTER_VALID, TEST_VP_A);
  return unit;
}

GListStore *
tke_test_units_new (void)
{
  GListStore *units = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  const char *instance = "a1b2c3d4-0000-4e5f-8a9b-000000000001";
  const char *other = "f9e8d7c6-1111-4b2a-9c8d-000000000002";
  g_autoptr (TkeCryptoUnit) u1 = tke_test_unit_new (instance, 1, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL,
                                                    "[us-south].[AZ1-CS1].[00].[03]");
  g_autoptr (TkeCryptoUnit) u2 = tke_test_unit_new (instance, 2, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL,
                                                    "[us-south].[AZ2-CS2].[01].[03]");
  g_autoptr (TkeCryptoUnit) u3 = tke_test_unit_new (instance, 3, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL,
                                                    "[us-south].[AZ3-CS3].[02].[03]");
  g_autoptr (TkeCryptoUnit) u4 =
      tke_test_unit_new (other, 4, TKE_CRYPTO_UNIT_TYPE_RECOVERY, "[us-east].[AZ1-CS4].[00].[07]");

  g_list_store_append (units, u1);
  g_list_store_append (units, u2);
  g_list_store_append (units, u3);
  g_list_store_append (units, u4);
  return units;
}

void
tke_test_units_set_new (GListStore *units, TkeNewRegisterState state, const char *vp)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (units)); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (G_LIST_MODEL (units), i);

      tke_crypto_unit_set_registers (unit, state, vp,
                                     tke_crypto_unit_get_current_register_state (unit),
                                     tke_crypto_unit_get_current_register_vp (unit));
    }
}

/* ---- A key part as listed on a card ---- */

#define TEST_TYPE_KEY_PART (test_key_part_get_type ())
G_DECLARE_FINAL_TYPE (TestKeyPart, test_key_part, TEST, KEY_PART, GObject)

struct _TestKeyPart
{
  GObject parent_instance;
  char *description;
  char *check_value;
};

static void test_key_part_iface_init (TkeKeyPartSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestKeyPart,
                               test_key_part,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TKE_TYPE_KEY_PART_SOURCE,
                                                      test_key_part_iface_init))

static const char *
get_description (TkeKeyPartSource *source)
{
  return TEST_KEY_PART (source)->description;
}

static const char *
get_check_value (TkeKeyPartSource *source)
{
  return TEST_KEY_PART (source)->check_value;
}

/* The views never seal: the ceremony does.  A test that got here is wrong. */
static void
seal_async (TkeKeyPartSource *source,
            GBytes *importer,
            GBytes *aad,
            GCancellable *cancellable,
            GAsyncReadyCallback callback,
            gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (source, cancellable, callback, user_data);
  g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_FAILED, "a view must not seal key parts");
}

static GBytes *
seal_finish (TkeKeyPartSource *source, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_key_part_iface_init (TkeKeyPartSourceInterface *iface)
{
  iface->get_description = get_description;
  iface->get_check_value = get_check_value;
  iface->seal_async = seal_async;
  iface->seal_finish = seal_finish;
}

static void
test_key_part_finalize (GObject *object)
{
  TestKeyPart *self = TEST_KEY_PART (object);

  g_free (self->description);
  g_free (self->check_value);
  G_OBJECT_CLASS (test_key_part_parent_class)->finalize (object);
}

static void
test_key_part_class_init (TestKeyPartClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_key_part_finalize;
}

static void
test_key_part_init (TestKeyPart *self)
{
}

GObject *
tke_test_key_part_new (const char *description, const char *check_value)
{
  TestKeyPart *part = g_object_new (TEST_TYPE_KEY_PART, NULL);

  part->description = g_strdup (description);
  part->check_value = g_strdup (check_value);
  return G_OBJECT (part);
}
