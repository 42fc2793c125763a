/* tke-ceremony.c: one administrative ceremony over the selected units
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The domain logic the CLI and the GUI share: which signers sign what,
 * the importer key and the sealing of each part to each unit, the order of
 * the steps, and progress signals for both front ends to render.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-card-key-part-source.h"
#include "tke-card-signer.h"
#include "tke-ceremony-private.h"
#include "tke-ceremony-rules.h"
#include "tke-crypto-unit-private.h"
#include "tke-error.h"
#include "tke-key-part-source.h"
#include "tke-signer.h"

/**
 * TkeCeremony:
 *
 * One administrative ceremony: one command (#TkeCeremonyKind) on every unit
 * of a list, one unit after the other, with the signers given.
 *
 * The ceremony reads the units before it decides anything (the register
 * VPs, the imprint mode, the counter a command carries: each unit's
 * verified answer to a fresh query, read once per run, or once more for a
 * command prepared again) and after (so that a view bound to them shows the
 * result).
 * How many signatures a command takes: commit, add and remove administrator
 * and set thresholds use every signer; load uses the first signer for the
 * importer key and signer (i mod n) for part i; set immediate, clear and
 * zeroize use the first signer. A unit in imprint mode gets no signatures,
 * except for set thresholds.
 *
 * Every kind but load goes signer by signer: the command of every unit is
 * prepared first (its counter read, its expiry set:
 * #TkeCeremony::prepared, tke_ceremony_get_summary()), then the first
 * signer signs them all, then the next signer, so that administrators
 * taking turns at one reader each insert their card and type their PIN
 * once; only then are the commands sent, unit by unit. A command that would
 * expire before it is sent is prepared and signed again, never sent. A
 * failure before the sending sends nothing; a failure while sending stops
 * the ceremony at that unit, and the units before it keep the change
 * (tke_ceremony_get_n_units_done()). Run again, a ceremony starts cleanly:
 * the units that have the change go by, the others are prepared and signed
 * anew.
 *
 * Load goes part by part, the way key part cards are handed over: an importer
 * key on every unit, then part 1 sealed to every unit, then part 2, and so on,
 * then the load on each unit, so that each key part card is inserted once. A
 * front end that guides the person part by part calls
 * tke_ceremony_prepare_load_async() and tke_ceremony_seal_next_part_async()
 * for each part, then tke_ceremony_run_async(), which does what is left.
 */

enum
{
  SIGNAL_PROGRESS,
  SIGNAL_UNIT_DONE,
  SIGNAL_PREPARED,
  SIGNAL_IMPORTER_KEY,
  SIGNAL_PART_SEALED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TkeCeremony, tke_ceremony, G_TYPE_OBJECT)

/**
 * tke_ceremony_new: (constructor)
 * @client: a logged-in service client
 * @kind: the command
 * @units: a #GListModel of #TkeCryptoUnit, in the order to visit them
 *
 * Creates a ceremony; its arguments (signers, key parts, the new
 * administrator, thresholds) are set before it runs.
 *
 * Returns: (transfer full): a ceremony, ready to be given its arguments
 */
TkeCeremony *
tke_ceremony_new (TkeServiceClient *client, TkeCeremonyKind kind, GListModel *units)
{
  TkeCeremony *self;

  g_return_val_if_fail (TKE_IS_SERVICE_CLIENT (client), NULL);
  g_return_val_if_fail (G_IS_LIST_MODEL (units), NULL);

  self = g_object_new (TKE_TYPE_CEREMONY, NULL);
  self->client = g_object_ref (client);
  self->kind = kind;
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (GObject) unit = g_list_model_get_item (units, i);

      g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (unit), self);
      g_list_store_append (self->units, unit);
      g_ptr_array_add (self->sealed,
                       g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref));
    }
  return self;
}

/**
 * tke_ceremony_get_kind:
 * @self: a ceremony
 *
 * The command the ceremony runs.
 *
 * Returns: the kind
 */
TkeCeremonyKind
tke_ceremony_get_kind (TkeCeremony *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY (self), TKE_CEREMONY_LOAD);
  return self->kind;
}

static GPtrArray *
ref_array (GPtrArray *array)
{
  GPtrArray *copy = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; array != NULL && i < array->len; i++)
    g_ptr_array_add (copy, g_object_ref (array->pdata[i]));
  return copy;
}

/**
 * tke_ceremony_set_signers:
 * @self: a ceremony
 * @signers: (element-type TkeSigner) (nullable): the signers
 *
 * Sets who signs the commands; see #TkeCeremony for how many each takes.
 */
void
tke_ceremony_set_signers (TkeCeremony *self, GPtrArray *signers)
{
  g_return_if_fail (TKE_IS_CEREMONY (self));
  g_ptr_array_unref (self->signers);
  self->signers = ref_array (signers);
}

/**
 * tke_ceremony_set_key_parts:
 * @self: a load ceremony
 * @parts: (element-type TkeKeyPartSource) (nullable): 2 or 3 key parts
 *
 * Sets the key parts a load ceremony loads, when they are all known before
 * it runs.
 */
void
tke_ceremony_set_key_parts (TkeCeremony *self, GPtrArray *parts)
{
  g_return_if_fail (TKE_IS_CEREMONY (self));
  g_ptr_array_unref (self->parts);
  self->parts = ref_array (parts);
}

/**
 * tke_ceremony_set_n_key_parts:
 * @self: a load ceremony
 * @n_parts: 2 or 3; 0 counts the parts given to tke_ceremony_set_key_parts()
 *
 * Sets how many parts the key of a load has.
 *
 * For a load whose parts come one by one
 * (tke_ceremony_seal_next_part_async()): each part is sealed with its
 * position "i of n", so n must be known before the first.
 */
void
tke_ceremony_set_n_key_parts (TkeCeremony *self, guint n_parts)
{
  g_return_if_fail (TKE_IS_CEREMONY (self));
  self->n_key_parts = n_parts;
}

/**
 * tke_ceremony_get_n_key_parts:
 * @self: a load ceremony
 *
 * How many parts the key of the load has.
 *
 * Returns: 2 or 3, or 0 when not known yet
 */
guint
tke_ceremony_get_n_key_parts (TkeCeremony *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY (self), 0);
  return self->n_key_parts != 0 ? self->n_key_parts : self->parts->len;
}

/**
 * tke_ceremony_get_n_parts_sealed:
 * @self: a load ceremony
 *
 * How many key parts tke_ceremony_seal_next_part_async() has sealed to every
 * unit so far.
 *
 * Returns: the number of parts sealed
 */
guint
tke_ceremony_get_n_parts_sealed (TkeCeremony *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY (self), 0);
  return self->n_parts_sealed;
}

/**
 * tke_ceremony_set_new_administrator:
 * @self: an add-administrator ceremony
 * @name: the administrator's name, at most %TKE_MAX_ADMINISTRATOR_NAME characters
 * @public_key: (nullable): the uncompressed P-521 public point of the signature key
 *
 * Sets the administrator a %TKE_CEREMONY_ADD_ADMIN ceremony installs.
 */
void
tke_ceremony_set_new_administrator (TkeCeremony *self, const char *name, GBytes *public_key)
{
  g_return_if_fail (TKE_IS_CEREMONY (self));
  g_free (self->admin_name);
  self->admin_name = g_strdup (name);
  g_clear_pointer (&self->admin_public_key, g_bytes_unref);
  if (public_key != NULL)
    self->admin_public_key = g_bytes_ref (public_key);
}

/**
 * tke_ceremony_set_administrator_ski:
 * @self: a remove-administrator ceremony
 * @ski: the SKI of the administrator (64 hex digits, any case)
 *
 * Sets the administrator a %TKE_CEREMONY_REMOVE_ADMIN ceremony removes.
 */
void
tke_ceremony_set_administrator_ski (TkeCeremony *self, const char *ski)
{
  g_return_if_fail (TKE_IS_CEREMONY (self));
  g_free (self->admin_ski);
  self->admin_ski = g_ascii_strdown (ski, -1);
}

/**
 * tke_ceremony_set_thresholds:
 * @self: a set-thresholds ceremony
 * @signature_threshold: signatures most commands will need, 1 to %TKE_MAX_ADMINISTRATORS
 * @revocation_threshold: signatures removing an administrator will need
 *
 * Sets the thresholds a %TKE_CEREMONY_SET_THRESHOLDS ceremony sets; it also
 * takes the units out of imprint mode.
 */
void
tke_ceremony_set_thresholds (TkeCeremony *self,
                             guint signature_threshold,
                             guint revocation_threshold)
{
  g_return_if_fail (TKE_IS_CEREMONY (self));
  self->signature_threshold = signature_threshold;
  self->revocation_threshold = revocation_threshold;
}

/**
 * tke_ceremony_get_n_units_done:
 * @self: a ceremony
 *
 * How many units the command was applied on; after a failure, the units
 * before the one that failed.
 *
 * Returns: the number of units done
 */
guint
tke_ceremony_get_n_units_done (TkeCeremony *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY (self), 0);
  return self->n_done;
}

/* ---- Running ------------------------------------------------------------ */

guint
_tke_ceremony_n_units (TkeCeremony *self)
{
  return g_list_model_get_n_items (G_LIST_MODEL (self->units));
}

TkeCryptoUnit *
_tke_ceremony_unit_at (TkeCeremony *self, guint position)
{
  g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (G_LIST_MODEL (self->units), position);
  return unit; /* the store keeps it alive */
}

TkeCryptoUnit *
_tke_ceremony_current_unit (TkeCeremony *self)
{
  return _tke_ceremony_unit_at (self, self->n_done);
}

void
_tke_ceremony_progress_at (TkeCeremony *self, TkeCryptoUnit *unit, const char *format, ...)
{
  g_autofree char *what = NULL;
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  message = g_strdup_printf (_ ("Crypto unit %u: %s"), tke_crypto_unit_get_number (unit), what);
  _tke_ceremony_emit_progress (self, unit, message);
}

void
_tke_ceremony_emit_progress (TkeCeremony *self, TkeCryptoUnit *unit, const char *message)
{
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, unit, message);
}

void
_tke_ceremony_emit_unit_done (TkeCeremony *self, TkeCryptoUnit *unit)
{
  g_signal_emit (self, signals[SIGNAL_UNIT_DONE], 0, unit);
}

void
_tke_ceremony_emit_prepared (TkeCeremony *self)
{
  g_signal_emit (self, signals[SIGNAL_PREPARED], 0);
}

void
_tke_ceremony_emit_importer_key (TkeCeremony *self, TkeCryptoUnit *unit, GBytes *importer)
{
  g_signal_emit (self, signals[SIGNAL_IMPORTER_KEY], 0, unit, importer);
}

void
_tke_ceremony_emit_part_sealed (TkeCeremony *self, guint part, TkeKeyPartSource *source)
{
  g_signal_emit (self, signals[SIGNAL_PART_SEALED], 0, part, tke_ceremony_get_n_key_parts (self),
                 source);
}

/* The signers of a load step on @unit: signer (i mod n) for the i-th
 * signature (the other kinds: tke-ceremony-sign.c). */
GPtrArray *
_tke_ceremony_signers_for (TkeCeremony *self, TkeCryptoUnit *unit, guint n_first)
{
  GPtrArray *chosen = g_ptr_array_new_with_free_func (g_object_unref);

  if (tke_crypto_unit_get_imprint_mode (unit) || self->signers->len == 0)
    return chosen;
  for (guint i = 0; i < n_first; i++)
    g_ptr_array_add (chosen, g_object_ref (self->signers->pdata[i % self->signers->len]));
  return chosen;
}

/* Errors of the unit trust chain name the unit themselves. */
static gboolean
names_unit (const GError *error)
{
  return g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC) ||
         g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED) ||
         g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_NOT_PINNED);
}

/* Fails the task with a message naming @unit, keeping the error code. */
void
_tke_ceremony_fail_at (TkeCryptoUnit *unit, GTask *task, GError *error)
{
  if (unit != NULL && error->domain == TKE_ERROR && !names_unit (error))
    g_prefix_error (&error, _ ("Crypto unit %u: "), tke_crypto_unit_get_number (unit));
  g_task_return_error (task, error);
}

void
_tke_ceremony_fail_at_unit (TkeCeremony *self, GTask *task, GError *error)
{
  _tke_ceremony_fail_at (_tke_ceremony_current_unit (self), task, error);
}

void
_tke_ceremony_unit_done (GTask *task)
{
  TkeCeremony *self = g_task_get_source_object (task);

  g_signal_emit (self, signals[SIGNAL_UNIT_DONE], 0, _tke_ceremony_current_unit (self));
  self->n_done++;
  _tke_ceremony_run_next_unit (task);
}

static void
on_final_refresh (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  /* The command is applied; a failing re-read is only a stale view. */
  if (!tke_service_client_refresh_units_finish (TKE_SERVICE_CLIENT (source), result, &error))
    g_debug ("Refreshing the units after the ceremony failed: %s", error->message);
  g_task_return_boolean (task, TRUE);
}

/* The units whose state their command's signed answer did not carry (an
 * older service, or a unit done already): only they are queried again. */
static GListStore *
units_to_read_again (TkeCeremony *self)
{
  GListStore *stale = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->units)); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (G_LIST_MODEL (self->units), i);

      if (g_object_get_data (G_OBJECT (unit), TKE_CRYPTO_UNIT_STATE_FROM_ANSWER_KEY) == NULL)
        g_list_store_append (stale, unit);
    }
  return stale;
}

/* Only this run's command answers spare a unit the query after it: a
 * state an earlier ceremony's answer set is not this one's. */
static void
forget_answer_states (TkeCeremony *self)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->units)); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (G_LIST_MODEL (self->units), i);

      g_object_set_data (G_OBJECT (unit), TKE_CRYPTO_UNIT_STATE_FROM_ANSWER_KEY, NULL);
    }
}

/* Takes the reference to @task. */
void
_tke_ceremony_run_next_unit (GTask *task)
{
  TkeCeremony *self = g_task_get_source_object (task);
  TkeCryptoUnit *unit;

  /* Every unit took the step: a Cancel pressed after the last one stops
   * nothing, and the ceremony says what was done. */
  if (self->n_done >= g_list_model_get_n_items (G_LIST_MODEL (self->units)))
    {
      g_autoptr (GListStore) stale = units_to_read_again (self);

      if (g_list_model_get_n_items (G_LIST_MODEL (stale)) == 0)
        {
          g_task_return_boolean (task, TRUE);
          g_object_unref (task);
          return;
        }
      tke_service_client_refresh_units_async (self->client, G_LIST_MODEL (stale), NULL,
                                              on_final_refresh, task);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  unit = _tke_ceremony_current_unit (self);
  /* Run again after it stopped half-way: the units that took the step
   * go by (tke_ceremony_unit_has_step_done()). */
  if (tke_ceremony_unit_has_step_done (self->kind, unit, G_LIST_MODEL (self->units)))
    {
      _tke_ceremony_progress (self, _ ("done already."));
      _tke_ceremony_unit_done (task);
      return;
    }
  if (!tke_crypto_unit_get_reachable (unit))
    {
      g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_NETWORK,
                               _ ("Crypto unit %u does not answer. Try again later."),
                               tke_crypto_unit_get_number (unit));
      g_object_unref (task);
      return;
    }
  _tke_ceremony_run_load (self, unit, task);
}

void
_tke_ceremony_on_first_refresh (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCeremony *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!tke_service_client_refresh_units_finish (TKE_SERVICE_CLIENT (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (self->kind == TKE_CEREMONY_LOAD)
    _tke_ceremony_load_step (g_steal_pointer (&task));
  else
    _tke_ceremony_run_signed (g_steal_pointer (&task));
}

static gboolean
check_arguments (TkeCeremony *self, GError **error)
{
  if (g_list_model_get_n_items (G_LIST_MODEL (self->units)) == 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("No crypto unit is selected. Select the units of one service "
                              "instance first."));
      return FALSE;
    }
  if (self->kind == TKE_CEREMONY_LOAD && !_tke_ceremony_check_n_parts (self, error))
    return FALSE;
  if (self->kind == TKE_CEREMONY_LOAD && self->parts->len != tke_ceremony_get_n_key_parts (self))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("Only %u of the %u key parts are given."), self->parts->len,
                   tke_ceremony_get_n_key_parts (self));
      return FALSE;
    }
  if (self->kind == TKE_CEREMONY_LOAD && !tke_key_parts_check_distinct (self->parts, error))
    return FALSE;
  if (self->kind == TKE_CEREMONY_ROTATE)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           "A rotation runs as a TkeRotation, not as a TkeCeremony.");
      return FALSE;
    }
  if (self->kind == TKE_CEREMONY_ADD_ADMIN &&
      (self->admin_name == NULL || self->admin_public_key == NULL))
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("The administrator to install has no name or key."));
      return FALSE;
    }
  if (self->kind == TKE_CEREMONY_REMOVE_ADMIN && self->admin_ski == NULL)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("The administrator to remove is not named."));
      return FALSE;
    }
  if (self->kind == TKE_CEREMONY_SET_THRESHOLDS &&
      (self->signature_threshold < 1 || self->signature_threshold > 8 ||
       self->revocation_threshold < 1 || self->revocation_threshold > 8))
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("Thresholds are numbers from 1 to 8."));
      return FALSE;
    }
  return TRUE;
}

/* One step at a time: the task's callback marks the ceremony free again
 * before the caller's runs, so the caller may start the next step there. */
typedef struct
{
  GAsyncReadyCallback callback;
  gpointer user_data;
} StepCallback;

static void
on_step_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StepCallback *step = user_data;
  GAsyncReadyCallback callback = step->callback;
  gpointer data = step->user_data;

  TKE_CEREMONY (source)->busy = FALSE;
  g_free (step);
  if (callback != NULL)
    callback (source, result, data);
}

/* A task for a step of @self (prepare, seal, run); the ceremony is busy
 * until its callback. */
GTask *
_tke_ceremony_task_new (TkeCeremony *self,
                        gpointer source_tag,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  StepCallback *step = g_new0 (StepCallback, 1);
  GTask *task;

  step->callback = callback;
  step->user_data = user_data;
  task = g_task_new (self, cancellable, on_step_done, step);
  g_task_set_source_tag (task, source_tag);
  self->busy = TRUE;
  return task;
}

/* While a step runs, a second one is refused (%TKE_ERROR_NOT_ALLOWED) and
 * touches nothing of the first: a second seal would replace the part the
 * first is sealing.  Returns %TRUE if refused (@callback gets the error). */
gboolean
_tke_ceremony_refuse_if_busy (TkeCeremony *self,
                              gpointer source_tag,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  if (!self->busy)
    return FALSE;
  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_NOT_ALLOWED,
                           _ ("A step of this ceremony is under way already. Wait for it to end."));
  return TRUE;
}

/**
 * tke_ceremony_run_async:
 * @self: a ceremony with its arguments
 * @cancellable: (nullable): a #GCancellable; a PIN entry on a PIN pad is
 *   cancelled only on the pad
 * @callback: called when the ceremony ended
 * @user_data: data for @callback
 *
 * Runs the ceremony on every unit, one unit after the other; for a load
 * prepared with tke_ceremony_prepare_load_async(), what is left.
 * Cancelling stops it before the next unit (%G_IO_ERROR_CANCELLED, the
 * units done keep the step); cancelled after the last unit took the step,
 * the ceremony has done everything and finishes with %TRUE.  While a step
 * of the ceremony runs, a second is refused with %TKE_ERROR_NOT_ALLOWED.
 * However it ends, its #TkeCardSigner signers and #TkeCardKeyPartSource
 * parts are logged out before @callback runs (tke_card_signer_log_out()):
 * the PINs typed for this run sign nothing after it, and a run again asks
 * for them again.
 */
/* The ceremony ended: the PINs typed for it sign and seal nothing more
 * (tke-card.c, "A PIN's scope").  Its cards are logged out, whoever holds
 * them still; a run again asks for each PIN again. */
static void
log_out_cards (TkeCeremony *self)
{
  for (guint i = 0; self->signers != NULL && i < self->signers->len; i++)
    if (TKE_IS_CARD_SIGNER (self->signers->pdata[i]))
      tke_card_signer_log_out (self->signers->pdata[i]);
  for (guint i = 0; self->parts != NULL && i < self->parts->len; i++)
    if (TKE_IS_CARD_KEY_PART_SOURCE (self->parts->pdata[i]))
      tke_card_key_part_source_log_out (self->parts->pdata[i]);
}

/* However the run ended (done, failed, cancelled), the cards are logged
 * out before the caller hears of it. */
static void
run_ended (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) outer = user_data;
  GError *error = NULL;

  log_out_cards (TKE_CEREMONY (source));
  if (g_task_propagate_boolean (G_TASK (result), &error))
    g_task_return_boolean (outer, TRUE);
  else
    g_task_return_error (outer, error);
}

void
tke_ceremony_run_async (TkeCeremony *self,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GTask *outer;
  GError *error = NULL;

  g_return_if_fail (TKE_IS_CEREMONY (self));

  if (_tke_ceremony_refuse_if_busy (self, tke_ceremony_run_async, callback, user_data))
    return;
  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, tke_ceremony_run_async);
  g_task_set_check_cancellable (outer, FALSE);
  task = _tke_ceremony_task_new (self, tke_ceremony_run_async, cancellable, run_ended, outer);
  /* Cancelled is said where it stopped something (between units); a
   * Cancel after the last unit leaves the result of what was done. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, GUINT_TO_POINTER (LOAD_ALL), NULL);
  self->n_done = 0;
  forget_answer_states (self);
  if (!check_arguments (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* Every kind but load reads the units as it prepares their commands
   * (tke-ceremony-sign.c): one verified query per unit, not two. */
  if (self->kind != TKE_CEREMONY_LOAD)
    {
      _tke_ceremony_run_signed (g_steal_pointer (&task));
      return;
    }
  tke_service_client_refresh_units_async (self->client, G_LIST_MODEL (self->units), cancellable,
                                          _tke_ceremony_on_first_refresh, g_steal_pointer (&task));
}

/**
 * tke_ceremony_run_finish:
 * @self: a ceremony
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes tke_ceremony_run_async().
 *
 * Returns: %TRUE if the command was applied on every unit
 */
gboolean
tke_ceremony_run_finish (TkeCeremony *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
tke_ceremony_finalize (GObject *object)
{
  TkeCeremony *self = TKE_CEREMONY (object);

  /* Ended without a run's end (cancelled while the parts were sealed). */
  log_out_cards (self);
  g_clear_object (&self->client);
  g_clear_object (&self->units);
  g_clear_pointer (&self->signers, g_ptr_array_unref);
  g_clear_pointer (&self->parts, g_ptr_array_unref);
  g_clear_pointer (&self->admin_name, g_free);
  g_clear_pointer (&self->admin_public_key, g_bytes_unref);
  g_clear_pointer (&self->admin_ski, g_free);
  g_clear_pointer (&self->importers, g_ptr_array_unref);
  g_clear_pointer (&self->sealed, g_ptr_array_unref);
  g_clear_pointer (&self->prepared, g_ptr_array_unref);
  g_clear_pointer (&self->summary, g_free);

  G_OBJECT_CLASS (tke_ceremony_parent_class)->finalize (object);
}

static void
tke_ceremony_class_init (TkeCeremonyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tke_ceremony_finalize;

  /**
   * TkeCeremony::progress:
   * @self: the ceremony
   * @unit: the unit the step is for
   * @message: what happens now, for people
   *
   * Emitted, on the caller's main context, when a step starts.
   */
  signals[SIGNAL_PROGRESS] =
      g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, TKE_TYPE_CRYPTO_UNIT, G_TYPE_STRING);
  /**
   * TkeCeremony::unit-done:
   * @self: the ceremony
   * @unit: the unit on which the command was applied
   *
   * Emitted when the command was applied on @unit.
   */
  signals[SIGNAL_UNIT_DONE] =
      g_signal_new ("unit-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 1, TKE_TYPE_CRYPTO_UNIT);
  /**
   * TkeCeremony::prepared:
   * @self: the ceremony
   *
   * Emitted when the command of every unit is prepared (its counter read,
   * its expiry set) and before the first signature is asked for:
   * tke_ceremony_get_summary() says what the administrators sign, for a
   * front end to show before the first PIN.
   */
  signals[SIGNAL_PREPARED] = g_signal_new ("prepared", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * TkeCeremony::importer-key:
   * @self: the ceremony
   * @unit: the unit that made the key
   * @importer: the importer public key (an uncompressed P-521 point), whose
   *   certificates the unit signed and libtke verified
   *
   * Emitted by a load when a unit's importer key is verified, before any
   * key part is sealed to it.
   */
  signals[SIGNAL_IMPORTER_KEY] =
      g_signal_new ("importer-key", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 2, TKE_TYPE_CRYPTO_UNIT, G_TYPE_BYTES);
  /**
   * TkeCeremony::part-sealed:
   * @self: the ceremony
   * @part: the part's number, from 1
   * @n_parts: how many parts the key has
   * @source: the part's source: its description and check value (never
   *   the part, which only its card ever holds in clear)
   *
   * Emitted by a load when a key part is sealed to every unit's importer key.
   */
  signals[SIGNAL_PART_SEALED] =
      g_signal_new ("part-sealed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_UINT, TKE_TYPE_KEY_PART_SOURCE);
}

static void
tke_ceremony_init (TkeCeremony *self)
{
  self->units = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  self->signers = g_ptr_array_new_with_free_func (g_object_unref);
  self->parts = g_ptr_array_new_with_free_func (g_object_unref);
  self->importers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  self->sealed = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
}
