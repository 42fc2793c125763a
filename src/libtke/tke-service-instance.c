/* tke-service-instance.c: one service instance and its crypto units
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What tke_service_client_list_units_async() returns: the instance id and
 * its units in the order of their numbers, as a GListModel that the GUI
 * binds to directly.
 */

#include "config.h"

#include "tke-service-instance.h"

/**
 * TkeServiceInstance:
 *
 * A service instance of the crypto-unit service and its crypto units, kept
 * in the order of their numbers so that a view can bind to
 * tke_service_instance_get_units() directly.
 */
struct _TkeServiceInstance
{
  GObject parent_instance;

  char *id;
  GListStore *units;
};

enum
{
  PROP_0,
  PROP_ID,
  PROP_UNITS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (TkeServiceInstance, tke_service_instance, G_TYPE_OBJECT)

/**
 * tke_service_instance_new: (constructor)
 * @id: the service instance id
 *
 * Creates an instance with no units; tke_service_instance_add_unit() adds
 * them as the service lists them.
 *
 * Returns: (transfer full): an instance with no units
 */
TkeServiceInstance *
tke_service_instance_new (const char *id)
{
  g_return_val_if_fail (id != NULL, NULL);

  return g_object_new (TKE_TYPE_SERVICE_INSTANCE, "id", id, NULL);
}

/**
 * tke_service_instance_get_id:
 * @self: a service instance
 *
 * The id of the service instance, as the service names it.
 *
 * Returns: (transfer none): the id
 */
const char *
tke_service_instance_get_id (TkeServiceInstance *self)
{
  g_return_val_if_fail (TKE_IS_SERVICE_INSTANCE (self), NULL);
  return self->id;
}

/**
 * tke_service_instance_get_units:
 * @self: a service instance
 *
 * The crypto units of the instance, ordered by number.
 *
 * Returns: (transfer none): a #GListModel of #TkeCryptoUnit
 */
GListModel *
tke_service_instance_get_units (TkeServiceInstance *self)
{
  g_return_val_if_fail (TKE_IS_SERVICE_INSTANCE (self), NULL);
  return G_LIST_MODEL (self->units);
}

static int
compare_numbers (gconstpointer a, gconstpointer b, gpointer user_data)
{
  guint na = tke_crypto_unit_get_number ((TkeCryptoUnit *) a);
  guint nb = tke_crypto_unit_get_number ((TkeCryptoUnit *) b);

  return (na > nb) - (na < nb);
}

/**
 * tke_service_instance_add_unit:
 * @self: a service instance
 * @unit: a unit of this instance
 *
 * Adds @unit, keeping the list ordered by CRYPTO UNIT NUM.
 */
void
tke_service_instance_add_unit (TkeServiceInstance *self, TkeCryptoUnit *unit)
{
  g_return_if_fail (TKE_IS_SERVICE_INSTANCE (self));
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (unit));

  g_list_store_insert_sorted (self->units, unit, compare_numbers, NULL);
}

/**
 * tke_service_instance_find_unit:
 * @self: a service instance
 * @number: a CRYPTO UNIT NUM
 *
 * Looks up a unit by its number.
 *
 * Returns: (transfer none) (nullable): the unit with that number, or %NULL
 */
TkeCryptoUnit *
tke_service_instance_find_unit (TkeServiceInstance *self, guint number)
{
  guint n;

  g_return_val_if_fail (TKE_IS_SERVICE_INSTANCE (self), NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->units));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (G_LIST_MODEL (self->units), i);

      if (tke_crypto_unit_get_number (unit) == number)
        return unit;
    }
  return NULL;
}

/**
 * tke_service_instance_find_unit_by_hsm_id:
 * @self: a service instance
 * @hsm_id: the service's id of a unit
 *
 * Looks up a unit by the id the service gives it.
 *
 * Returns: (transfer none) (nullable): the unit with that id, or %NULL
 */
TkeCryptoUnit *
tke_service_instance_find_unit_by_hsm_id (TkeServiceInstance *self, const char *hsm_id)
{
  guint n;

  g_return_val_if_fail (TKE_IS_SERVICE_INSTANCE (self), NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->units));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (G_LIST_MODEL (self->units), i);

      if (g_strcmp0 (tke_crypto_unit_get_hsm_id (unit), hsm_id) == 0)
        return unit;
    }
  return NULL;
}

/**
 * tke_service_instance_get_selected_units:
 * @self: a service instance
 *
 * The units a ceremony works on: those whose #TkeCryptoUnit:selected is set.
 *
 * Returns: (transfer container) (element-type TkeCryptoUnit): the selected
 *   units, by number
 */
GPtrArray *
tke_service_instance_get_selected_units (TkeServiceInstance *self)
{
  GPtrArray *selected;
  guint n;

  g_return_val_if_fail (TKE_IS_SERVICE_INSTANCE (self), NULL);

  selected = g_ptr_array_new_with_free_func (g_object_unref);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->units));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (G_LIST_MODEL (self->units), i);

      if (tke_crypto_unit_get_selected (unit))
        g_ptr_array_add (selected, g_object_ref (unit));
    }
  return selected;
}

static void
tke_service_instance_finalize (GObject *object)
{
  TkeServiceInstance *self = TKE_SERVICE_INSTANCE (object);

  g_clear_pointer (&self->id, g_free);
  g_clear_object (&self->units);

  G_OBJECT_CLASS (tke_service_instance_parent_class)->finalize (object);
}

static void
tke_service_instance_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TkeServiceInstance *self = TKE_SERVICE_INSTANCE (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_UNITS:
      g_value_set_object (value, self->units);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_service_instance_set_property (GObject *object,
                                   guint prop_id,
                                   const GValue *value,
                                   GParamSpec *pspec)
{
  TkeServiceInstance *self = TKE_SERVICE_INSTANCE (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_free (self->id);
      self->id = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_service_instance_class_init (TkeServiceInstanceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tke_service_instance_finalize;
  object_class->get_property = tke_service_instance_get_property;
  object_class->set_property = tke_service_instance_set_property;

  /**
   * TkeServiceInstance:id:
   *
   * The id of the service instance.
   */
  properties[PROP_ID] = g_param_spec_string (
      "id", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * TkeServiceInstance:units:
   *
   * The crypto units of the instance (#TkeCryptoUnit), ordered by number.
   */
  properties[PROP_UNITS] = g_param_spec_object ("units", NULL, NULL, G_TYPE_LIST_MODEL,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tke_service_instance_init (TkeServiceInstance *self)
{
  self->units = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
}
