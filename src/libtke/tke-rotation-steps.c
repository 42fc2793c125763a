/* tke-rotation-steps.c: the service's side of a rotation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Start (or resume) the rotation, poll the service until its rewrap of the
 * key storage ends, then set the new key immediate on every target unit at
 * once and read the units and the service's rotation state again.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-auto-ceremony-private.h"
#include "tke-error.h"
#include "tke-rotation-private.h"
#include "tke-service-instance.h"

/* ---- Set immediate on every unit at once -------------------------------- */

static void
on_final_status (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeRotation *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (TkeRotationStatus) status =
      tke_service_client_get_rotation_status_finish (self->client, result, &error);
  g_autoptr (GString) failed = g_string_new (NULL);

  if (status == NULL)
    {
      _tke_rotation_fail (task, error);
      return;
    }
  _tke_rotation_take_status (self, status);
  for (guint i = 0; i < data->targets->len; i++)
    {
      const GError *unit_error = g_hash_table_lookup (self->unit_errors, data->targets->pdata[i]);

      if (unit_error != NULL)
        g_string_append_printf (failed, "\n  %s %u: %s", _ ("crypto unit"),
                                tke_crypto_unit_get_number (data->targets->pdata[i]),
                                unit_error->message);
    }
  if (failed->len > 0)
    {
      error = g_error_new (TKE_ERROR, TKE_ERROR_FAILED, _ ("Set immediate failed:%s"), failed->str);
      _tke_rotation_journal_step (self, data, TKE_JOURNAL_STEP_SET_IMMEDIATE,
                                  TKE_JOURNAL_OUTCOME_FAILED, error->message, NULL);
      data->step = NULL;
      /* The refresh just done is the fact base: advise without asking again. */
      _tke_rotation_journal_end (self, data, TKE_JOURNAL_OUTCOME_FAILED, error->message);
      _tke_rotation_compute_advice (self);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  _tke_rotation_journal_step (self, data, TKE_JOURNAL_STEP_SET_IMMEDIATE, TKE_JOURNAL_OUTCOME_OK,
                              NULL, NULL);
  data->step = NULL;
  _tke_rotation_journal_end (self, data, TKE_JOURNAL_OUTCOME_OK, NULL);
  /* An auto-mk-rotate that reached its delay for this key is done. */
  _tke_auto_journal_rotation_done (
      self->instance != NULL ? tke_service_instance_get_id (self->instance) : NULL,
      data->target_vp);
  _tke_rotation_compute_advice (self);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
on_final_refresh (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeRotation *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!tke_service_client_refresh_units_finish (self->client, result, &error))
    {
      _tke_rotation_fail (task, error);
      return;
    }
  /* Not cancellable: the units changed; the caller must learn how. */
  tke_service_client_get_rotation_status_async (self->client, NULL, on_final_status, task);
}

typedef struct
{
  GTask *task;
  TkeCryptoUnit *unit;
} UnitCall;

static void
on_unit_set (GObject *source, GAsyncResult *result, gpointer user_data)
{
  UnitCall *call = user_data;
  GTask *task = call->task;
  TkeRotation *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!tke_service_client_set_immediate_finish (self->client, result, &error))
    g_hash_table_replace (self->unit_errors, g_object_ref (call->unit), error);
  _tke_rotation_emit_unit_done (self, call->unit, error);
  g_object_unref (call->unit);
  g_free (call);
  if (--data->n_pending > 0)
    return;
  tke_service_client_refresh_units_async (self->client, G_LIST_MODEL (self->unit_model), NULL,
                                          on_final_refresh, task);
}

void
_tke_rotation_set_immediate_all (GTask *task)
{
  TkeRotation *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  g_autoptr (GPtrArray) one = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GString) numbers = g_string_new (NULL);
  GError *error = NULL;

  if (self->signers == NULL || self->signers->len == 0)
    {
      _tke_rotation_fail (task, g_error_new_literal (
                                    TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                                    _ ("Set immediate needs the signature of one administrator.")));
      return;
    }
  g_ptr_array_add (one, g_object_ref (self->signers->pdata[0]));
  for (guint i = 0; i < data->targets->len; i++)
    g_string_append_printf (numbers, "%s%u", i ? "," : "",
                            tke_crypto_unit_get_number (data->targets->pdata[i]));
  if (!_tke_rotation_journal_step (self, data, TKE_JOURNAL_STEP_SET_IMMEDIATE,
                                   TKE_JOURNAL_OUTCOME_BEGIN, numbers->str, &error))
    {
      _tke_rotation_fail (task, error);
      return;
    }
  g_hash_table_remove_all (self->unit_errors);
  data->n_pending = data->targets->len;
  /* Not cancellable once sent: every unit's outcome must be known. */
  for (guint i = 0; i < data->targets->len; i++)
    {
      UnitCall *call = g_new0 (UnitCall, 1);

      call->task = task;
      call->unit = g_object_ref (data->targets->pdata[i]);
      tke_service_client_set_immediate_async (self->client, call->unit, data->target_vp, one, NULL,
                                              on_unit_set, call);
    }
}

/* ---- Start, then wait for the rewrap ------------------------------------- */

static void poll_status (GTask *task);

static void
after_status (GTask *task, TkeRotationStatus *status)
{
  TkeRotation *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  GError *error = NULL;
  const char *why;

  _tke_rotation_take_status (self, status);
  switch (tke_rotation_status_get_state (status))
    {
    case TKE_ROTATION_STATE_REWRAPPING:
      poll_status (task);
      return;
    case TKE_ROTATION_STATE_FAILED:
      why = tke_rotation_status_get_error_message (status);
      _tke_rotation_fail (task, g_error_new (TKE_ERROR, TKE_ERROR_SERVICE,
                                             _ ("The rewrap of the key storage "
                                                "stopped: %s"),
                                             why != NULL ? why : _ ("no reason given")));
      return;
    case TKE_ROTATION_STATE_REWRAPPED:
      if (!_tke_rotation_journal_step (self, data, TKE_JOURNAL_STEP_REWRAP, TKE_JOURNAL_OUTCOME_OK,
                                       NULL, &error))
        {
          _tke_rotation_fail (task, error);
          return;
        }
      g_free (data->target_vp);
      data->target_vp = g_strdup (tke_rotation_status_get_target_vp (status));
      g_clear_pointer (&data->targets, g_ptr_array_unref);
      data->targets = g_ptr_array_ref (self->units);
      _tke_rotation_set_immediate_all (task);
      return;
    case TKE_ROTATION_STATE_COMPLETE:
    case TKE_ROTATION_STATE_NONE:
    default:
      _tke_rotation_fail (task,
                          g_error_new_literal (TKE_ERROR, TKE_ERROR_SERVICE,
                                               _ ("The service reports no rotation in progress.")));
      return;
    }
}

static void
on_poll_status (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeRotation *self = g_task_get_source_object (task);
  GError *error = NULL;
  g_autoptr (TkeRotationStatus) status =
      tke_service_client_get_rotation_status_finish (self->client, result, &error);

  if (status == NULL)
    _tke_rotation_fail (task, error);
  else
    after_status (task, status);
}

static gboolean
on_poll_timeout (gpointer user_data)
{
  GTask *task = user_data;
  TkeRotation *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->poll_source = 0;
  if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error))
    _tke_rotation_fail (task, error);
  else
    tke_service_client_get_rotation_status_async (self->client, g_task_get_cancellable (task),
                                                  on_poll_status, task);
  return G_SOURCE_REMOVE;
}

static void
poll_status (GTask *task)
{
  TkeRotation *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);

  data->poll_source = g_timeout_add (self->poll_interval, on_poll_timeout, task);
}

static void
on_started (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeRotation *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (TkeRotationStatus) status =
      tke_service_client_start_rotation_finish (self->client, result, &error);

  if (status == NULL)
    {
      _tke_rotation_fail (task, error);
      return;
    }
  if (!_tke_rotation_journal_step (self, data, TKE_JOURNAL_STEP_ROTATE, TKE_JOURNAL_OUTCOME_OK,
                                   NULL, &error) ||
      !_tke_rotation_journal_step (self, data, TKE_JOURNAL_STEP_REWRAP, TKE_JOURNAL_OUTCOME_BEGIN,
                                   NULL, &error))
    {
      _tke_rotation_fail (task, error);
      return;
    }
  after_status (task, status);
}

void
_tke_rotation_start (GTask *task)
{
  TkeRotation *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  TkeRotationState state =
      self->status != NULL ? tke_rotation_status_get_state (self->status) : TKE_ROTATION_STATE_NONE;
  GError *error = NULL;

  if (state == TKE_ROTATION_STATE_NONE || state == TKE_ROTATION_STATE_COMPLETE)
    {
      g_autoptr (GPtrArray) selected = g_ptr_array_ref (self->units);

      if (tke_precheck_rotation (
              self->instance ? tke_service_instance_get_units (self->instance) : NULL, selected,
              tke_service_client_get_token_expiration (self->client), &error) != TKE_PRECHECK_OK)
        {
          _tke_rotation_fail (task, error);
          return;
        }
    }
  else if (state == TKE_ROTATION_STATE_REWRAPPED)
    {
      /* Rotate again after the rewrap is complete: only if set immediate
       * on every unit is what the advice says. */
      _tke_rotation_compute_advice (self);
      if (self->advice != TKE_RECOVERY_ACTION_SET_IMMEDIATE)
        {
          g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_ROTATION_IN_PROGRESS, "%s",
                                   self->advice_explanation);
          g_object_unref (task);
          return;
        }
      data->target_vp = g_strdup (tke_rotation_status_get_target_vp (self->status));
      data->targets = g_ptr_array_ref (self->units);
      if (!_tke_rotation_journal_begin (self, data, "rotate", &error))
        _tke_rotation_fail (task, error);
      else
        _tke_rotation_set_immediate_all (task);
      return;
    }
  if (!_tke_rotation_journal_begin (self, data, "rotate", &error) ||
      !_tke_rotation_journal_step (
          self, data, TKE_JOURNAL_STEP_ROTATE, TKE_JOURNAL_OUTCOME_BEGIN,
          state == TKE_ROTATION_STATE_NONE || state == TKE_ROTATION_STATE_COMPLETE ? "start"
                                                                                   : "resume",
          &error))
    {
      _tke_rotation_fail (task, error);
      return;
    }
  tke_service_client_start_rotation_async (self->client, g_task_get_cancellable (task), on_started,
                                           task);
}
