/* tke-ceremony-load.c: the load ceremony, part by part
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Key part cards are handed over one at a time: an importer key on every
 * unit first, then part 1 sealed to every unit, then part 2, and so on,
 * then the load on each unit, so that each card is inserted once.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-ceremony-private.h"
#include "tke-ceremony-rules.h"
#include "tke-error.h"
#include "tke-key-part-source.h"

static gboolean
unit_unreachable (TkeCryptoUnit *unit, GError **error)
{
  if (tke_crypto_unit_get_reachable (unit))
    return FALSE;
  g_set_error (error, TKE_ERROR, TKE_ERROR_NETWORK,
               _ ("Crypto unit %u does not answer. Try again later."),
               tke_crypto_unit_get_number (unit));
  return TRUE;
}

static void prepare_next_unit (GTask *task);

static void
on_importer (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeCeremony *self = g_task_get_source_object (task);
  GError *error = NULL;
  GBytes *importer;

  importer =
      tke_service_client_generate_importer_key_finish (TKE_SERVICE_CLIENT (source), result, &error);
  if (importer == NULL)
    {
      _tke_ceremony_fail_at (_tke_ceremony_unit_at (self, self->cursor), task, error);
      g_object_unref (task);
      return;
    }
  g_ptr_array_add (self->importers, importer);
  _tke_ceremony_emit_importer_key (self, _tke_ceremony_unit_at (self, self->cursor), importer);
  self->cursor++;
  prepare_next_unit (task);
}

/* An importer key on each unit still without one.  Takes @task. */
static void
prepare_next_unit (GTask *task)
{
  TkeCeremony *self = g_task_get_source_object (task);
  TkeCryptoUnit *unit;
  g_autoptr (GPtrArray) signers = NULL;
  GError *error = NULL;

  self->cursor = self->importers->len;
  if (self->cursor >= _tke_ceremony_n_units (self))
    {
      _tke_ceremony_load_step (task);
      return;
    }
  unit = _tke_ceremony_unit_at (self, self->cursor);
  if (unit_unreachable (unit, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  signers = _tke_ceremony_signers_for (self, unit, 1);
  _tke_ceremony_progress_at (self, unit, _ ("generating an importer key…"));
  tke_service_client_generate_importer_key_async (self->client, unit, signers,
                                                  g_task_get_cancellable (task), on_importer, task);
}

static void seal_for_next_unit (GTask *task);

static void
on_sealed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeCeremony *self = g_task_get_source_object (task);
  GError *error = NULL;
  GBytes *sealed;

  sealed = tke_key_part_source_seal_finish (TKE_KEY_PART_SOURCE (source), result, &error);
  if (sealed == NULL)
    {
      _tke_ceremony_fail_at (_tke_ceremony_unit_at (self, self->cursor), task, error);
      g_object_unref (task);
      return;
    }
  g_ptr_array_add (self->sealed->pdata[self->cursor], sealed);
  self->cursor++;
  seal_for_next_unit (task);
}

/* Part n_parts_sealed + 1 to every unit, one after the other: one card
 * insertion (and PIN) for all of them.  Takes @task. */
static void
seal_for_next_unit (GTask *task)
{
  TkeCeremony *self = g_task_get_source_object (task);
  guint part = self->n_parts_sealed;
  guint n_parts = tke_ceremony_get_n_key_parts (self);
  TkeKeyPartSource *source = self->parts->pdata[part];
  TkeCryptoUnit *unit;
  GPtrArray *unit_sealed;
  g_autoptr (GBytes) aad = NULL;

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  if (self->cursor >= _tke_ceremony_n_units (self))
    {
      self->n_parts_sealed++;
      _tke_ceremony_emit_part_sealed (self, part + 1, source);
      if (GPOINTER_TO_UINT (g_task_get_task_data (task)) == LOAD_UNTIL_NEXT_PART_SEALED)
        {
          g_task_return_boolean (task, TRUE);
          g_object_unref (task);
        }
      else
        _tke_ceremony_load_step (task);
      return;
    }
  unit = _tke_ceremony_unit_at (self, self->cursor);
  /* A part sealed before a failure is sealed again, never twice. */
  unit_sealed = self->sealed->pdata[self->cursor];
  g_ptr_array_set_size (unit_sealed, part);
  _tke_ceremony_progress_at (self, unit, _ ("sealing key part %u of %u (%s)…"), part + 1, n_parts,
                             tke_key_part_source_get_description (source));
  aad = tke_service_client_key_part_aad (unit, part + 1, n_parts);
  tke_key_part_source_seal_async (source, self->importers->pdata[self->cursor], aad,
                                  g_task_get_cancellable (task), on_sealed, task);
}

/* What the load still needs, as far as the task's goal.  Takes @task. */
void
_tke_ceremony_load_step (GTask *task)
{
  TkeCeremony *self = g_task_get_source_object (task);
  LoadGoal goal = GPOINTER_TO_UINT (g_task_get_task_data (task));
  GError *error = NULL;

  if (self->importers->len < _tke_ceremony_n_units (self))
    {
      prepare_next_unit (task);
      return;
    }
  if (goal == LOAD_UNTIL_PREPARED)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  if (self->n_parts_sealed < self->parts->len)
    {
      self->cursor = 0;
      seal_for_next_unit (task);
      return;
    }
  if (goal == LOAD_UNTIL_NEXT_PART_SEALED)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  /* The cards' check values are known now: still nothing is loaded. */
  if (!tke_key_parts_check_distinct (self->parts, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  self->n_done = 0;
  _tke_ceremony_run_next_unit (task);
}

static void
on_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCeremony *self = g_task_get_source_object (task);
  g_autofree char *vp = NULL;
  GError *error = NULL;

  vp = tke_service_client_load_finish (TKE_SERVICE_CLIENT (source), result, &error);
  if (vp == NULL)
    {
      _tke_ceremony_fail_at_unit (self, task, error);
      return;
    }
  _tke_ceremony_progress (self, _ ("loaded; new register verification pattern %s."), vp);
  _tke_ceremony_unit_done (g_steal_pointer (&task));
}

void
_tke_ceremony_run_load (TkeCeremony *self, TkeCryptoUnit *unit, GTask *task)
{
  g_autoptr (GPtrArray) signers = _tke_ceremony_signers_for (self, unit, self->parts->len);

  _tke_ceremony_progress (self, _ ("loading %u key parts…"), self->parts->len);
  tke_service_client_load_async (self->client, unit, self->sealed->pdata[self->n_done], signers,
                                 g_task_get_cancellable (task), on_loaded, task);
}

gboolean
_tke_ceremony_check_n_parts (TkeCeremony *self, GError **error)
{
  guint n_parts = tke_ceremony_get_n_key_parts (self);

  if (n_parts >= 2 && n_parts <= 3 && self->parts->len <= n_parts)
    return TRUE;
  g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                       _ ("A master key is loaded from 2 or 3 key parts."));
  return FALSE;
}

static GTask *
load_task_new (TkeCeremony *self,
               LoadGoal goal,
               gpointer source_tag,
               GCancellable *cancellable,
               GAsyncReadyCallback callback,
               gpointer user_data)
{
  GTask *task = _tke_ceremony_task_new (self, source_tag, cancellable, callback, user_data);

  g_task_set_task_data (task, GUINT_TO_POINTER (goal), NULL);
  return task;
}

/**
 * tke_ceremony_prepare_load_async:
 * @self: a load ceremony with its signers and its number of key parts
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when every unit has an importer key
 * @user_data: data for @callback
 *
 * Refreshes the units and has an importer key generated on each (signed
 * by the first signer: an administrator card asks for its PIN here).
 */
void
tke_ceremony_prepare_load_async (TkeCeremony *self,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (TKE_IS_CEREMONY (self));
  g_return_if_fail (self->kind == TKE_CEREMONY_LOAD);

  if (_tke_ceremony_refuse_if_busy (self, tke_ceremony_prepare_load_async, callback, user_data))
    return;
  task = load_task_new (self, LOAD_UNTIL_PREPARED, tke_ceremony_prepare_load_async, cancellable,
                        callback, user_data);
  if (_tke_ceremony_n_units (self) == 0 || !_tke_ceremony_check_n_parts (self, &error))
    {
      if (error == NULL)
        g_set_error_literal (
            &error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
            _ ("No crypto unit is selected. Select the units of one service instance first."));
      g_task_return_error (task, error);
      return;
    }
  tke_service_client_refresh_units_async (self->client, G_LIST_MODEL (self->units), cancellable,
                                          _tke_ceremony_on_first_refresh, g_steal_pointer (&task));
}

/**
 * tke_ceremony_prepare_load_finish:
 * @self: a load ceremony
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes tke_ceremony_prepare_load_async().
 *
 * Returns: %TRUE if every unit has an importer key
 */
gboolean
tke_ceremony_prepare_load_finish (TkeCeremony *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * tke_ceremony_seal_next_part_async:
 * @self: a load ceremony
 * @part: the next key part (a key part card asks for its PIN here)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the part is sealed to every unit
 * @user_data: data for @callback
 *
 * Seals @part, as part "i of n", to the importer key of every unit.  A
 * failed seal can be tried again with the same or another source.  While
 * a step of the ceremony runs (this seal, its preparation or its run) a
 * second one is refused with %TKE_ERROR_NOT_ALLOWED and the first goes on.
 */
void
tke_ceremony_seal_next_part_async (TkeCeremony *self,
                                   TkeKeyPartSource *part,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (TKE_IS_CEREMONY (self));
  g_return_if_fail (TKE_IS_KEY_PART_SOURCE (part));
  g_return_if_fail (self->kind == TKE_CEREMONY_LOAD);

  /* A second seal while one runs would replace the part being sealed
   * (a second click on "Load This Part", say): refused, the first goes on. */
  if (_tke_ceremony_refuse_if_busy (self, tke_ceremony_seal_next_part_async, callback, user_data))
    return;
  task = load_task_new (self, LOAD_UNTIL_NEXT_PART_SEALED, tke_ceremony_seal_next_part_async,
                        cancellable, callback, user_data);
  if (self->n_parts_sealed >= tke_ceremony_get_n_key_parts (self))
    {
      g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                               _ ("All %u key parts are sealed already."),
                               tke_ceremony_get_n_key_parts (self));
      return;
    }
  /* The part replaces one that failed to seal. */
  g_ptr_array_set_size (self->parts, self->n_parts_sealed);
  g_ptr_array_add (self->parts, g_object_ref (part));
  if (!tke_key_parts_check_distinct (self->parts, &error))
    {
      g_ptr_array_set_size (self->parts, self->n_parts_sealed);
      g_task_return_error (task, error);
      return;
    }
  _tke_ceremony_load_step (g_steal_pointer (&task));
}

/**
 * tke_ceremony_seal_next_part_finish:
 * @self: a load ceremony
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes tke_ceremony_seal_next_part_async().
 *
 * Returns: %TRUE if the part is sealed to every unit
 */
gboolean
tke_ceremony_seal_next_part_finish (TkeCeremony *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
