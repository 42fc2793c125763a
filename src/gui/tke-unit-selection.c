/* tke-unit-selection.c: the selected crypto units, followed as they change
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Administrators, Signature thresholds and Imprint mode tabs show the
 * selected units and ask libtke what they allow.  Many properties change
 * at once when the units are read again: ::changed is emitted once after
 * them, from an idle, with the selected units gathered again.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-unit-selection.h"

struct _TkeUnitSelection
{
  GObject parent_instance;

  GListModel *units;
  GListStore *selected;
  guint idle;
};

G_DEFINE_FINAL_TYPE (TkeUnitSelection, tke_unit_selection, G_TYPE_OBJECT)

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
gather (TkeUnitSelection *self)
{
  g_autoptr (GPtrArray) chosen = g_ptr_array_new_with_free_func (g_object_unref);
  guint n = self->units != NULL ? g_list_model_get_n_items (self->units) : 0;

  for (guint i = 0; i < n; i++)
    {
      TkeCryptoUnit *unit = g_list_model_get_item (self->units, i);

      if (tke_crypto_unit_get_selected (unit))
        g_ptr_array_add (chosen, unit);
      else
        g_object_unref (unit);
    }
  g_list_store_splice (self->selected, 0, g_list_model_get_n_items (G_LIST_MODEL (self->selected)),
                       chosen->pdata, chosen->len);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static gboolean
gather_idle (gpointer data)
{
  TkeUnitSelection *self = data;

  self->idle = 0;
  gather (self);
  return G_SOURCE_REMOVE;
}

static void
queue_gather (TkeUnitSelection *self)
{
  if (self->idle == 0)
    self->idle = g_idle_add_full (G_PRIORITY_HIGH_IDLE, gather_idle, self, NULL);
}

static void
on_unit_notify (GObject *unit, GParamSpec *pspec, TkeUnitSelection *self)
{
  queue_gather (self);
}

/* A unit's administrators change in place, without a notify. */
static void
on_admins_changed (
    GListModel *admins, guint position, guint removed, guint added, TkeUnitSelection *self)
{
  queue_gather (self);
}

static void
on_units_changed (
    GListModel *units, guint position, guint removed, guint added, TkeUnitSelection *self)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr (GObject) unit = g_list_model_get_item (units, i);

      g_signal_handlers_disconnect_by_func (unit, on_unit_notify, self);
      g_signal_connect_object (unit, "notify", G_CALLBACK (on_unit_notify), self, 0);
      g_signal_handlers_disconnect_by_func (
          tke_crypto_unit_get_administrators (TKE_CRYPTO_UNIT (unit)), on_admins_changed, self);
      g_signal_connect_object (tke_crypto_unit_get_administrators (TKE_CRYPTO_UNIT (unit)),
                               "items-changed", G_CALLBACK (on_admins_changed), self, 0);
    }
  queue_gather (self);
}

void
tke_unit_selection_set_units (TkeUnitSelection *self, GListModel *units)
{
  g_return_if_fail (TKE_IS_UNIT_SELECTION (self));
  g_return_if_fail (units == NULL || G_IS_LIST_MODEL (units));

  if (self->units != NULL)
    g_signal_handlers_disconnect_by_data (self->units, self);
  g_set_object (&self->units, units);
  if (units != NULL)
    {
      g_signal_connect_object (units, "items-changed", G_CALLBACK (on_units_changed), self, 0);
      on_units_changed (units, 0, 0, g_list_model_get_n_items (units), self);
    }
  else
    queue_gather (self);
}

GListModel *
tke_unit_selection_get_units (TkeUnitSelection *self)
{
  g_return_val_if_fail (TKE_IS_UNIT_SELECTION (self), NULL);
  return self->units;
}

GListModel *
tke_unit_selection_get_selected (TkeUnitSelection *self)
{
  g_return_val_if_fail (TKE_IS_UNIT_SELECTION (self), NULL);
  return G_LIST_MODEL (self->selected);
}

char *
tke_unit_selection_describe_numbers (GListModel *units)
{
  g_autoptr (GString) numbers = g_string_new (NULL);
  guint n = g_list_model_get_n_items (units);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (i > 0)
        g_string_append (numbers, ", ");
      g_string_append_printf (numbers, "%u", tke_crypto_unit_get_number (unit));
    }
  /* Translators: "Crypto units 1, 2, 3" or "Crypto unit 2" */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Crypto unit %s", "Crypto units %s", n),
                          numbers->str);
}

TkeUnitSelection *
tke_unit_selection_new (void)
{
  return g_object_new (TKE_TYPE_UNIT_SELECTION, NULL);
}

static void
tke_unit_selection_dispose (GObject *object)
{
  TkeUnitSelection *self = TKE_UNIT_SELECTION (object);

  g_clear_handle_id (&self->idle, g_source_remove);
  if (self->units != NULL)
    g_signal_handlers_disconnect_by_data (self->units, self);
  g_clear_object (&self->units);
  G_OBJECT_CLASS (tke_unit_selection_parent_class)->dispose (object);
}

static void
tke_unit_selection_finalize (GObject *object)
{
  TkeUnitSelection *self = TKE_UNIT_SELECTION (object);

  g_clear_object (&self->selected);
  G_OBJECT_CLASS (tke_unit_selection_parent_class)->finalize (object);
}

static void
tke_unit_selection_class_init (TkeUnitSelectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tke_unit_selection_dispose;
  object_class->finalize = tke_unit_selection_finalize;

  /**
   * TkeUnitSelection::changed:
   *
   * The units, their selection or their state changed.
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
tke_unit_selection_init (TkeUnitSelection *self)
{
  self->selected = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
}
