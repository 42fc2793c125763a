/* tke-administrator.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tke-administrator.h"

/**
 * TkeAdministrator:
 *
 * An administrator installed on a crypto unit: a name and the subject key
 * identifier (SKI) of the signature key that signs the unit's commands.
 */
struct _TkeAdministrator
{
  GObject parent_instance;

  char *name;
  char *ski;
};

enum
{
  PROP_0,
  PROP_NAME,
  PROP_SKI,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (TkeAdministrator, tke_administrator, G_TYPE_OBJECT)

/**
 * tke_administrator_new: (constructor)
 * @name: the administrator's name, at most %TKE_MAX_ADMINISTRATOR_NAME characters
 * @ski: the subject key identifier of the signature key, 64 hex digits
 *
 * Creates an administrator as a crypto unit lists it.
 *
 * Returns: (transfer full): a new #TkeAdministrator
 */
TkeAdministrator *
tke_administrator_new (const char *name, const char *ski)
{
  return g_object_new (TKE_TYPE_ADMINISTRATOR, "name", name, "ski", ski, NULL);
}

/**
 * tke_administrator_get_name:
 * @self: an administrator
 *
 * The administrator's name, as installed on the unit.
 *
 * Returns: (transfer none): the name
 */
const char *
tke_administrator_get_name (TkeAdministrator *self)
{
  g_return_val_if_fail (TKE_IS_ADMINISTRATOR (self), NULL);
  return self->name;
}

/**
 * tke_administrator_get_ski:
 * @self: an administrator
 *
 * The subject key identifier of the administrator's signature key: the
 * SHA-256 of its uncompressed public point, as 64 hex digits.
 *
 * Returns: (transfer none): the SKI
 */
const char *
tke_administrator_get_ski (TkeAdministrator *self)
{
  g_return_val_if_fail (TKE_IS_ADMINISTRATOR (self), NULL);
  return self->ski;
}

static void
tke_administrator_finalize (GObject *object)
{
  TkeAdministrator *self = TKE_ADMINISTRATOR (object);

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->ski, g_free);

  G_OBJECT_CLASS (tke_administrator_parent_class)->finalize (object);
}

static void
tke_administrator_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TkeAdministrator *self = TKE_ADMINISTRATOR (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_SKI:
      g_value_set_string (value, self->ski);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_administrator_set_property (GObject *object,
                                guint prop_id,
                                const GValue *value,
                                GParamSpec *pspec)
{
  TkeAdministrator *self = TKE_ADMINISTRATOR (object);

  switch (prop_id)
    {
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;
    case PROP_SKI:
      self->ski = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_administrator_class_init (TkeAdministratorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tke_administrator_finalize;
  object_class->get_property = tke_administrator_get_property;
  object_class->set_property = tke_administrator_set_property;

  /**
   * TkeAdministrator:name:
   *
   * The administrator's name, at most %TKE_MAX_ADMINISTRATOR_NAME characters.
   */
  properties[PROP_NAME] =
      g_param_spec_string ("name", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * TkeAdministrator:ski:
   *
   * The subject key identifier of the signature key, 64 hex digits.
   */
  properties[PROP_SKI] = g_param_spec_string (
      "ski", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tke_administrator_init (TkeAdministrator *self)
{
}
