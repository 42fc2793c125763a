/* tke-rotation.c: a master key rotation, and the recovery after one failed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Rotate = pre-check → start (or resume) → wait for the service's rewrap
 * → set immediate on every unit → refresh.  Each step is written to the
 * ceremony journal before it is taken.  After any failure the units and
 * the service's rotation state are read again and tke_recovery_advise()
 * says what is safe; recover carries out that action and nothing else.
 *
 * Everything runs on the caller's main context as a chain of callbacks of
 * TkeServiceClient's async calls; set immediate goes out to every unit at
 * once, and each unit's outcome is kept so that one failure does not hide
 * the others.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-error.h"
#include "tke-rotation-private.h"
#include "tke-service-instance.h"

/**
 * TkeRotation:
 *
 * A master key rotation over the selected crypto units of a service instance,
 * and the recovery after one failed.
 *
 * Rotate runs the pre-checks, starts (or resumes) the service's rewrap of its
 * key storage under the new master key, waits for it and sets the new key
 * immediate on every unit; each step is recorded in the #TkeJournal first.
 * After a failure tke_rotation_get_advice() says the one recovery step that
 * is safe, and tke_rotation_recover_async() carries out that step only.
 */
G_DEFINE_FINAL_TYPE (TkeRotation, tke_rotation, G_TYPE_OBJECT)

enum
{
  SIGNAL_MESSAGE,
  SIGNAL_PROGRESS,
  SIGNAL_UNIT_DONE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
run_data_free (RunData *data)
{
  g_clear_pointer (&data->targets, g_ptr_array_unref);
  g_free (data->target_vp);
  g_clear_handle_id (&data->poll_source, g_source_remove);
  g_clear_error (&data->failure);
  g_free (data);
}

static void
tke_rotation_finalize (GObject *object)
{
  TkeRotation *self = TKE_ROTATION (object);

  g_clear_object (&self->client);
  g_clear_object (&self->instance);
  g_clear_pointer (&self->units, g_ptr_array_unref);
  g_clear_object (&self->unit_model);
  g_clear_pointer (&self->signers, g_ptr_array_unref);
  g_clear_object (&self->journal);
  g_clear_object (&self->status);
  g_free (self->messages_of);
  g_free (self->history);
  g_clear_pointer (&self->unit_errors, g_hash_table_unref);
  g_free (self->advice_explanation);
  g_clear_pointer (&self->switched, g_ptr_array_unref);
  G_OBJECT_CLASS (tke_rotation_parent_class)->finalize (object);
}

static void
tke_rotation_class_init (TkeRotationClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tke_rotation_finalize;

  /**
   * TkeRotation::message:
   * @self: the rotation
   * @text: the message
   *
   * Emitted for each new message of the service's rotation status, in order.
   */
  signals[SIGNAL_MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * TkeRotation::progress:
   * @self: the rotation
   * @keys_done: the keys rewrapped so far
   * @keys_total: the keys to rewrap
   *
   * Emitted while the service rewraps its keys.
   */
  signals[SIGNAL_PROGRESS] =
      g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_UINT64);
  /**
   * TkeRotation::unit-done:
   * @self: the rotation
   * @unit: the crypto unit
   * @error: (nullable) (type GLib.Error): why set immediate failed on @unit, or %NULL
   *
   * Emitted when set immediate on one unit ended.
   */
  signals[SIGNAL_UNIT_DONE] =
      g_signal_new ("unit-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, TKE_TYPE_CRYPTO_UNIT, G_TYPE_POINTER);
}

static void
tke_rotation_init (TkeRotation *self)
{
  self->poll_interval = 200;
  self->unit_errors = g_hash_table_new_full (g_direct_hash, g_direct_equal, g_object_unref,
                                             (GDestroyNotify) g_error_free);
  self->switched = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * tke_rotation_new: (constructor)
 * @client: a logged-in service client
 * @instance: (nullable): the service instance (all its units, for the pre-check)
 * @selected_units: (element-type TkeCryptoUnit): the selected units
 *
 * Creates a rotation of the master key of @selected_units.
 *
 * Returns: (transfer full): a rotation
 */
TkeRotation *
tke_rotation_new (TkeServiceClient *client, TkeServiceInstance *instance, GPtrArray *selected_units)
{
  TkeRotation *self = g_object_new (TKE_TYPE_ROTATION, NULL);

  self->client = g_object_ref (client);
  self->instance = instance != NULL ? g_object_ref (instance) : NULL;
  self->units = g_ptr_array_new_with_free_func (g_object_unref);
  self->unit_model = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  for (guint i = 0; i < selected_units->len; i++)
    {
      g_ptr_array_add (self->units, g_object_ref (selected_units->pdata[i]));
      g_list_store_append (self->unit_model, selected_units->pdata[i]);
    }
  return self;
}

/**
 * tke_rotation_set_signers:
 * @self: the rotation
 * @signers: (nullable) (element-type TkeSigner): the signers; set immediate uses the first
 *
 * Sets who signs the set immediate commands.
 */
void
tke_rotation_set_signers (TkeRotation *self, GPtrArray *signers)
{
  g_return_if_fail (TKE_IS_ROTATION (self));
  g_clear_pointer (&self->signers, g_ptr_array_unref);
  self->signers = signers != NULL ? g_ptr_array_ref (signers) : NULL;
}

/**
 * tke_rotation_set_journal:
 * @self: the rotation
 * @journal: (nullable): where every step is recorded before it is taken
 *
 * Sets the ceremony journal; without one (tests of the logic only) nothing is
 * recorded.
 */
void
tke_rotation_set_journal (TkeRotation *self, TkeJournal *journal)
{
  g_return_if_fail (TKE_IS_ROTATION (self));
  g_set_object (&self->journal, journal);
}

/**
 * tke_rotation_set_poll_interval:
 * @self: the rotation
 * @milliseconds: the interval, at least 10
 *
 * Sets how often the service's rotation status is read during the rewrap;
 * the default is 200 ms.
 */
void
tke_rotation_set_poll_interval (TkeRotation *self, guint milliseconds)
{
  g_return_if_fail (TKE_IS_ROTATION (self));
  self->poll_interval = MAX (milliseconds, 10);
}

/**
 * tke_rotation_has_advice:
 * @self: the rotation
 *
 * Whether a failure, tke_rotation_advise_async() or
 * tke_rotation_recover_async() left advice to read with
 * tke_rotation_get_advice().
 *
 * Returns: %TRUE if there is advice
 */
gboolean
tke_rotation_has_advice (TkeRotation *self)
{
  return self->has_advice;
}

/**
 * tke_rotation_get_advice:
 * @self: the rotation
 *
 * The recovery step that is safe after the last failure (or advise or
 * recover), worked out by tke_recovery_advise().
 *
 * Returns: the advised action
 */
TkeRecoveryAction
tke_rotation_get_advice (TkeRotation *self)
{
  return self->advice;
}

/**
 * tke_rotation_get_advice_explanation:
 * @self: the rotation
 *
 * Why tke_rotation_get_advice() advises what it does, for the person.
 *
 * Returns: (nullable): the explanation, translated
 */
const char *
tke_rotation_get_advice_explanation (TkeRotation *self)
{
  return self->advice_explanation;
}

/**
 * tke_rotation_get_switched_units:
 * @self: the rotation
 *
 * The units on which set immediate succeeded, so that already have the new
 * master key as their current one.
 *
 * Returns: (element-type TkeCryptoUnit) (transfer none): the switched units
 */
GPtrArray *
tke_rotation_get_switched_units (TkeRotation *self)
{
  return self->switched;
}

/**
 * tke_rotation_get_status:
 * @self: the rotation
 *
 * The service's rotation state as last read.
 *
 * Returns: (nullable) (transfer none): the status, or %NULL before the first read
 */
TkeRotationStatus *
tke_rotation_get_status (TkeRotation *self)
{
  return self->status;
}

/**
 * tke_rotation_get_unit_error:
 * @self: the rotation
 * @unit: a selected unit
 *
 * Why set immediate failed on @unit in the last run.
 *
 * Returns: (nullable) (transfer none): the error, or %NULL if it did not fail
 */
const GError *
tke_rotation_get_unit_error (TkeRotation *self, TkeCryptoUnit *unit)
{
  return g_hash_table_lookup (self->unit_errors, unit);
}

/* ---- Journal ------------------------------------------------------------ */

gboolean
_tke_rotation_journal_begin (TkeRotation *self, RunData *data, const char *kind, GError **error)
{
  TkeCryptoUnit *first = self->units->len > 0 ? self->units->pdata[0] : NULL;

  if (self->journal == NULL || data->journaled)
    return TRUE;
  if (!tke_journal_begin (self->journal, kind,
                          first ? tke_crypto_unit_get_instance_id (first) : NULL, self->units,
                          first ? tke_crypto_unit_get_current_register_vp (first) : NULL,
                          data->target_vp != NULL ? data->target_vp
                          : first                 ? tke_crypto_unit_get_new_register_vp (first)
                                                  : NULL,
                          error))
    return FALSE;
  data->journaled = TRUE;
  return TRUE;
}

gboolean
_tke_rotation_journal_step (TkeRotation *self,
                            RunData *data,
                            const char *step,
                            const char *outcome,
                            const char *detail,
                            GError **error)
{
  if (self->journal == NULL || !data->journaled)
    return TRUE;
  data->step = g_strcmp0 (outcome, TKE_JOURNAL_OUTCOME_BEGIN) == 0 ? step : NULL;
  return tke_journal_append (self->journal, step, outcome, detail, error);
}

void
_tke_rotation_journal_end (TkeRotation *self,
                           RunData *data,
                           const char *outcome,
                           const char *detail)
{
  g_autoptr (GError) error = NULL;

  if (self->journal == NULL || !data->journaled)
    return;
  if (data->step != NULL)
    tke_journal_append (self->journal, data->step, outcome, detail, NULL);
  if (!tke_journal_end (self->journal, outcome, detail, &error))
    g_warning ("%s", error->message);
  data->journaled = FALSE;
  data->step = NULL;
}

/* ---- Status and advice ------------------------------------------------- */

/* Which rotation of the service @status describes, or NULL before its first message. */
static char *
rotation_identity (TkeRotationStatus *status)
{
  GDateTime *first = NULL;
  g_autofree char *when = NULL;

  if (status == NULL || tke_rotation_status_get_n_messages (status) == 0)
    return NULL;
  tke_rotation_status_get_message (status, 0, &first);
  when = first != NULL ? g_date_time_format_iso8601 (first) : g_strdup ("");
  return g_strdup_printf ("%s@%s", tke_rotation_status_get_target_vp (status), when);
}

void
_tke_rotation_take_status (TkeRotation *self, TkeRotationStatus *status)
{
  guint n = tke_rotation_status_get_n_messages (status);
  g_autofree char *identity = rotation_identity (status);

  g_set_object (&self->status, status);
  /* What an earlier, finished rotation said is history, not progress. */
  if (identity != NULL && g_strcmp0 (identity, self->history) == 0)
    return;
  /* A new rotation of the service has its own messages, from the first;
   * a resumed one repeats nothing already sent. */
  if (g_strcmp0 (identity, self->messages_of) != 0)
    {
      g_free (self->messages_of);
      self->messages_of = g_steal_pointer (&identity);
      self->n_messages_seen = 0;
    }
  for (; self->n_messages_seen < n; self->n_messages_seen++)
    g_signal_emit (self, signals[SIGNAL_MESSAGE], 0,
                   tke_rotation_status_get_message (status, self->n_messages_seen, NULL));
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, tke_rotation_status_get_keys_done (status),
                 tke_rotation_status_get_keys_total (status));
}

void
_tke_rotation_compute_advice (TkeRotation *self)
{
  g_autoptr (GPtrArray) switched = NULL;

  g_clear_pointer (&self->advice_explanation, g_free);
  self->advice =
      tke_recovery_advise (self->units, self->status, &switched, &self->advice_explanation);
  g_clear_pointer (&self->switched, g_ptr_array_unref);
  self->switched = g_steal_pointer (&switched);
  self->has_advice = TRUE;
}

/* For the set-immediate step, which reports each unit's outcome. */
void
_tke_rotation_emit_unit_done (TkeRotation *self, TkeCryptoUnit *unit, const GError *error)
{
  g_signal_emit (self, signals[SIGNAL_UNIT_DONE], 0, unit, error);
}

static void gather_facts (GTask *task);

/* Every failure ends here: the journal is closed, and the facts are read
 * again (unless the token expired or the caller cancelled) for the advice. */
void
_tke_rotation_fail (GTask *task, GError *error)
{
  TkeRotation *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  gboolean cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  _tke_rotation_journal_end (self, data,
                             cancelled ? TKE_JOURNAL_OUTCOME_CANCELLED : TKE_JOURNAL_OUTCOME_FAILED,
                             error->message);
  self->has_advice = FALSE;
  if (data->mode == MODE_RUN && g_error_matches (error, TKE_ERROR, TKE_ERROR_PRECHECK_FAILED))
    {
      /* Refused before anything was sent: the facts just read are the
       * advice's (a unit left behind by an earlier rotation still needs
       * its set immediate); otherwise the pre-check says what to fix. */
      _tke_rotation_compute_advice (self);
      if (self->advice == TKE_RECOVERY_ACTION_NONE || self->advice == TKE_RECOVERY_ACTION_ROTATE)
        {
          self->advice = TKE_RECOVERY_ACTION_ROTATE;
          g_free (self->advice_explanation);
          self->advice_explanation = g_strdup (
              _ ("Nothing was changed. Fix what the pre-check reports, then rotate again."));
        }
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (cancelled || g_error_matches (error, TKE_ERROR, TKE_ERROR_AUTH_EXPIRED) ||
      data->mode == MODE_ADVISE || data->failure != NULL)
    {
      if (data->failure != NULL && data->failure != error)
        {
          /* The advice could not be read: report the first failure. */
          g_error_free (error);
          error = g_steal_pointer (&data->failure);
        }
      else if (data->failure == error)
        data->failure = NULL;
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  data->failure = error;
  data->mode = MODE_ADVISE;
  gather_facts (task);
}

static void
facts_done (GTask *task)
{
  TkeRotation *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);

  _tke_rotation_compute_advice (self);
  if (data->failure != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&data->failure));
      g_object_unref (task);
      return;
    }
  if (data->mode == MODE_ADVISE)
    {
      g_task_return_int (task, self->advice);
      g_object_unref (task);
      return;
    }
  /* MODE_RECOVER: the advised action, and nothing else. */
  switch (self->advice)
    {
    case TKE_RECOVERY_ACTION_NONE:
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    case TKE_RECOVERY_ACTION_ROTATE:
    case TKE_RECOVERY_ACTION_RESUME_ROTATE:
      data->mode = MODE_RUN;
      _tke_rotation_start (task);
      return;
    case TKE_RECOVERY_ACTION_SET_IMMEDIATE:
    case TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE:
      g_clear_pointer (&data->targets, g_ptr_array_unref);
      data->targets = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < self->units->len; i++)
        {
          TkeCryptoUnit *unit = self->units->pdata[i];

          if (g_ptr_array_find (self->switched, unit, NULL))
            tke_crypto_unit_set_selected (unit, FALSE);
          else
            g_ptr_array_add (data->targets, g_object_ref (unit));
        }
      g_free (data->target_vp);
      data->target_vp = g_strdup (tke_rotation_status_get_target_vp (self->status));
      {
        g_autoptr (GError) error = NULL;

        if (!_tke_rotation_journal_begin (self, data, "recover", &error))
          {
            _tke_rotation_fail (task, g_steal_pointer (&error));
            return;
          }
      }
      _tke_rotation_set_immediate_all (task);
      return;
    case TKE_RECOVERY_ACTION_STOP:
    default:
      g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_FAILED, "%s", self->advice_explanation);
      g_object_unref (task);
      return;
    }
}

static void
on_facts_status (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeRotation *self = g_task_get_source_object (task);
  GError *error = NULL;
  g_autoptr (TkeRotationStatus) status =
      tke_service_client_get_rotation_status_finish (self->client, result, &error);

  if (status == NULL)
    {
      _tke_rotation_fail (task, error);
      return;
    }
  _tke_rotation_take_status (self, status);
  facts_done (task);
}

static void
on_facts_refreshed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeRotation *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!tke_service_client_refresh_units_finish (self->client, result, &error))
    {
      _tke_rotation_fail (task, error);
      return;
    }
  tke_service_client_get_rotation_status_async (self->client, g_task_get_cancellable (task),
                                                on_facts_status, task);
}

static void
gather_facts (GTask *task)
{
  TkeRotation *self = g_task_get_source_object (task);

  tke_service_client_refresh_units_async (self->client, G_LIST_MODEL (self->unit_model),
                                          g_task_get_cancellable (task), on_facts_refreshed, task);
}

static void
on_run_status (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeRotation *self = g_task_get_source_object (task);
  GError *error = NULL;
  g_autoptr (TkeRotationStatus) status =
      tke_service_client_get_rotation_status_finish (self->client, result, &error);

  if (status == NULL)
    {
      _tke_rotation_fail (task, error);
      return;
    }
  g_set_object (&self->status, status);
  /* A rotation that completed before this run is history: this run starts
   * a new one, whose messages all go out.  One that stopped half-way is
   * resumed, and its messages so far go out too, so that a view that
   * opens now shows the whole story in order. */
  if (tke_rotation_status_get_state (status) == TKE_ROTATION_STATE_COMPLETE ||
      tke_rotation_status_get_state (status) == TKE_ROTATION_STATE_NONE)
    {
      g_free (self->history);
      self->history = rotation_identity (status);
    }
  _tke_rotation_start (task);
}

static void
on_run_refreshed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeRotation *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!tke_service_client_refresh_units_finish (self->client, result, &error))
    {
      _tke_rotation_fail (task, error);
      return;
    }
  tke_service_client_get_rotation_status_async (self->client, g_task_get_cancellable (task),
                                                on_run_status, task);
}

static GTask *
new_task (TkeRotation *self,
          Mode mode,
          GCancellable *cancellable,
          GAsyncReadyCallback callback,
          gpointer user_data,
          gpointer source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  RunData *data = g_new0 (RunData, 1);

  data->mode = mode;
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, data, (GDestroyNotify) run_data_free);
  return task;
}

/**
 * tke_rotation_run_async:
 * @self: the rotation
 * @cancellable: (nullable): stops waiting (the journal records where)
 * @callback: called when done
 * @user_data: for @callback
 *
 * Refreshes the units, runs the pre-checks, starts the rotation (or resumes
 * an interrupted rewrap), waits for the rewrap and sets immediate on every
 * unit.  A pre-check failure changes nothing.  After any failure the advice
 * (tke_rotation_get_advice()) says what is safe next.
 */
void
tke_rotation_run_async (TkeRotation *self,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  GTask *task;
  GError *error = NULL;
  g_autoptr (GPtrArray) selected = NULL;

  g_return_if_fail (TKE_IS_ROTATION (self));

  task = new_task (self, MODE_RUN, cancellable, callback, user_data, tke_rotation_run_async);
  self->has_advice = FALSE;
  /* An expired token fails before anything is sent. */
  selected = g_ptr_array_ref (self->units);
  if (self->units->len == 0 || (tke_service_client_get_token_expiration (self->client) > 0 &&
                                tke_service_client_get_token_expiration (self->client) <=
                                    g_get_real_time () / G_USEC_PER_SEC))
    {
      tke_precheck_rotation (NULL, selected, tke_service_client_get_token_expiration (self->client),
                             &error);
      if (self->units->len == 0)
        {
          /* Nothing was read, nothing changed: select the units, rotate. */
          self->has_advice = TRUE;
          self->advice = TKE_RECOVERY_ACTION_ROTATE;
          g_free (self->advice_explanation);
          self->advice_explanation = g_strdup (
              _ ("Nothing was changed. Fix what the pre-check reports, then rotate again."));
        }
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  tke_service_client_refresh_units_async (self->client, G_LIST_MODEL (self->unit_model),
                                          cancellable, on_run_refreshed, task);
}

/**
 * tke_rotation_run_finish:
 * @self: the rotation
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes tke_rotation_run_async().
 *
 * Returns: %TRUE if every unit has the new master key
 */
gboolean
tke_rotation_run_finish (TkeRotation *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * tke_rotation_advise_async:
 * @self: the rotation
 * @cancellable: (nullable): a cancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Reads every selected unit and the service's rotation state again and
 * computes tke_recovery_advise().
 */
void
tke_rotation_advise_async (TkeRotation *self,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  GTask *task =
      new_task (self, MODE_ADVISE, cancellable, callback, user_data, tke_rotation_advise_async);

  self->has_advice = FALSE;
  gather_facts (task);
}

/**
 * tke_rotation_advise_finish:
 * @self: the rotation
 * @result: the result
 * @error: why the facts could not be read
 *
 * Finishes tke_rotation_advise_async().
 *
 * Returns: the advised action (%TKE_RECOVERY_ACTION_STOP with an error)
 */
TkeRecoveryAction
tke_rotation_advise_finish (TkeRotation *self, GAsyncResult *result, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gssize action;

  g_return_val_if_fail (g_task_is_valid (result, self), TKE_RECOVERY_ACTION_STOP);
  action = g_task_propagate_int (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return TKE_RECOVERY_ACTION_STOP;
    }
  return (TkeRecoveryAction) action;
}

/**
 * tke_rotation_recover_async:
 * @self: the rotation
 * @cancellable: (nullable): a cancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Advises, then does what the advice says: rotate again (resume), set
 * immediate on every unit, or set immediate on the units that have not
 * switched after removing the switched ones from the selection.  With
 * %TKE_RECOVERY_ACTION_STOP it changes nothing and fails with the
 * explanation.
 */
void
tke_rotation_recover_async (TkeRotation *self,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  GTask *task =
      new_task (self, MODE_RECOVER, cancellable, callback, user_data, tke_rotation_recover_async);

  self->has_advice = FALSE;
  gather_facts (task);
}

/**
 * tke_rotation_recover_finish:
 * @self: the rotation
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes tke_rotation_recover_async().
 *
 * Returns: %TRUE if the advised step succeeded
 */
gboolean
tke_rotation_recover_finish (TkeRotation *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
