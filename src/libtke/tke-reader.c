/* tke-reader.c: a smart card reader that TkeReaderMonitor sees
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Only the monitor changes it, on its owner's main context, so front ends
 * bind to its properties without locks.
 */

#include "config.h"

#include "tke-reader-private.h"

struct _TkeReader
{
  GObject parent_instance;

  char *name;
  guint index;
  gboolean card_present;
  GBytes *atr;
};

G_DEFINE_FINAL_TYPE (TkeReader, tke_reader, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_NAME,
  PROP_INDEX,
  PROP_CARD_PRESENT,
  PROP_ATR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
tke_reader_finalize (GObject *object)
{
  TkeReader *self = TKE_READER (object);

  g_free (self->name);
  g_clear_pointer (&self->atr, g_bytes_unref);
  G_OBJECT_CLASS (tke_reader_parent_class)->finalize (object);
}

static void
tke_reader_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TkeReader *self = TKE_READER (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_INDEX:
      g_value_set_uint (value, self->index);
      break;
    case PROP_CARD_PRESENT:
      g_value_set_boolean (value, self->card_present);
      break;
    case PROP_ATR:
      g_value_set_boxed (value, self->atr);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_reader_class_init (TkeReaderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tke_reader_finalize;
  object_class->get_property = tke_reader_get_property;

  /**
   * TkeReader:name:
   *
   * The PC/SC reader name (which pcsc-lite versions spell differently).
   */
  properties[PROP_NAME] =
      g_param_spec_string ("name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * TkeReader:index:
   *
   * 1 or 2 when the name starts with the monitor's reader 1 or reader 2
   * prefix; 0 for any other reader.
   */
  properties[PROP_INDEX] =
      g_param_spec_uint ("index", NULL, NULL, 0, 2, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * TkeReader:card-present:
   *
   * %TRUE while a card is in the reader.
   */
  properties[PROP_CARD_PRESENT] =
      g_param_spec_boolean ("card-present", NULL, NULL, FALSE,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * TkeReader:atr:
   *
   * The card's answer to reset while a card is present, else %NULL.
   */
  properties[PROP_ATR] =
      g_param_spec_boxed ("atr", NULL, NULL, G_TYPE_BYTES,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tke_reader_init (TkeReader *self)
{
}

TkeReader *
_tke_reader_new (const char *name, guint index)
{
  TkeReader *self = g_object_new (TKE_TYPE_READER, NULL);

  self->name = g_strdup (name);
  self->index = index;
  return self;
}

void
_tke_reader_set_index (TkeReader *self, guint index)
{
  if (self->index == index)
    return;
  self->index = index;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INDEX]);
}

gboolean
_tke_reader_set_card (TkeReader *self, gboolean present, GBytes *atr)
{
  gboolean changed = self->card_present != present;

  g_clear_pointer (&self->atr, g_bytes_unref);
  if (present && atr != NULL)
    self->atr = g_bytes_ref (atr);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ATR]);
  if (changed)
    {
      self->card_present = present;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CARD_PRESENT]);
    }
  return changed;
}

/**
 * tke_reader_get_name:
 * @self: a reader
 *
 * Returns: the full PC/SC name of the reader
 */
const char *
tke_reader_get_name (TkeReader *self)
{
  g_return_val_if_fail (TKE_IS_READER (self), NULL);
  return self->name;
}

/**
 * tke_reader_get_index:
 * @self: a reader
 *
 * Returns: 1 or 2 for the configured readers, 0 for any other reader
 */
guint
tke_reader_get_index (TkeReader *self)
{
  g_return_val_if_fail (TKE_IS_READER (self), 0);
  return self->index;
}

/**
 * tke_reader_get_card_present:
 * @self: a reader
 *
 * Returns: %TRUE if a card is in the reader
 */
gboolean
tke_reader_get_card_present (TkeReader *self)
{
  g_return_val_if_fail (TKE_IS_READER (self), FALSE);
  return self->card_present;
}

/**
 * tke_reader_get_atr:
 * @self: a reader
 *
 * Returns: (transfer none) (nullable): the card's ATR
 */
GBytes *
tke_reader_get_atr (TkeReader *self)
{
  g_return_val_if_fail (TKE_IS_READER (self), NULL);
  return self->atr;
}
