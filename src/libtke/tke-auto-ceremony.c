/* tke-auto-ceremony.c: master keys made by a recovery crypto unit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * TkeAutoCeremony:
 *
 * The recovery-unit path of the service plug-in (auto-init,
 * auto-mk-rotate, auto-recover, failover-enable): a RECOVERY unit makes a
 * random master key inside itself and copies it to the instance's other
 * units, sealed to each target's importer key.  libtke only relays the
 * sealed bytes: it verifies the recovery unit's signed answer and the
 * target's importer certificate (the service client does, for every
 * answer), and never sees the key.
 *
 * auto-mk-rotate stops after the delay (#TKE_AUTO_DELAY_MESSAGE); the
 * caller then runs a #TkeRotation, as for cryptounit-mk-rotate.  Once the
 * delay was reached the ceremony's journal says so, and a second
 * auto-mk-rotate is refused until that rotation completed: a new random key
 * would overwrite the new registers the key storage is being rewrapped to.
 * tke_recovery_advise_auto_rotate() gives the documented three cases.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-auto-ceremony-private.h"

G_DEFINE_FINAL_TYPE (TkeAutoCeremony, tke_auto_ceremony, G_TYPE_OBJECT)

enum
{
  SIGNAL_STEP,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
tke_auto_ceremony_dispose (GObject *object)
{
  TkeAutoCeremony *self = TKE_AUTO_CEREMONY (object);

  g_clear_object (&self->client);
  g_clear_object (&self->instance);
  g_clear_object (&self->journal);
  g_clear_pointer (&self->signers, g_ptr_array_unref);
  g_clear_pointer (&self->caller, g_main_context_unref);
  G_OBJECT_CLASS (tke_auto_ceremony_parent_class)->dispose (object);
}

static void
tke_auto_ceremony_finalize (GObject *object)
{
  TkeAutoCeremony *self = TKE_AUTO_CEREMONY (object);

  g_free (self->advice_explanation);
  G_OBJECT_CLASS (tke_auto_ceremony_parent_class)->finalize (object);
}

static void
tke_auto_ceremony_class_init (TkeAutoCeremonyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tke_auto_ceremony_dispose;
  object_class->finalize = tke_auto_ceremony_finalize;

  /**
   * TkeAutoCeremony::step:
   * @self: the ceremony
   * @text: the step's line, as the plug-in prints it
   *
   * Emitted on the caller's main context before each step.
   */
  signals[SIGNAL_STEP] = g_signal_new ("step", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
tke_auto_ceremony_init (TkeAutoCeremony *self)
{
  self->delay_ms = TKE_AUTO_DEFAULT_DELAY_MS;
  self->signature_threshold = 1;
  self->revocation_threshold = 1;
}

/**
 * tke_auto_ceremony_new:
 * @client: a logged-in service client
 * @instance: the instance with every unit queried
 * @kind: what to do
 *
 * Returns: (transfer full): a new ceremony
 */
TkeAutoCeremony *
tke_auto_ceremony_new (TkeServiceClient *client, TkeServiceInstance *instance, TkeAutoKind kind)
{
  TkeAutoCeremony *self;

  g_return_val_if_fail (TKE_IS_SERVICE_CLIENT (client), NULL);
  g_return_val_if_fail (TKE_IS_SERVICE_INSTANCE (instance), NULL);

  self = g_object_new (TKE_TYPE_AUTO_CEREMONY, NULL);
  self->client = g_object_ref (client);
  self->instance = g_object_ref (instance);
  self->kind = kind;
  return self;
}

/**
 * tke_auto_ceremony_set_signers:
 * @self: the ceremony
 * @signers: (element-type TkeSigner): the administrators who sign; for
 *   auto-init, auto-recover and failover-enable also the administrators
 *   installed in units in imprint mode
 *
 * Sets the signers.  Unless tke_auto_ceremony_set_thresholds() says
 * otherwise, auto-init sets a signature threshold of every one of them
 * (at most 8: each command then takes all their signatures) and a
 * revocation threshold of 1.
 */
void
tke_auto_ceremony_set_signers (TkeAutoCeremony *self, GPtrArray *signers)
{
  g_return_if_fail (TKE_IS_AUTO_CEREMONY (self));
  g_clear_pointer (&self->signers, g_ptr_array_unref);
  if (signers != NULL)
    self->signers = g_ptr_array_ref (signers);
  if (!self->thresholds_set)
    {
      self->signature_threshold = CLAMP (signers != NULL ? signers->len : 0, 1, 8);
      self->revocation_threshold = 1;
    }
}

/**
 * tke_auto_ceremony_set_thresholds:
 * @self: the ceremony
 * @signature_threshold: 1 to 8
 * @revocation_threshold: 1 to 8
 *
 * The thresholds auto-init sets, instead of the signers' number and 1.
 */
void
tke_auto_ceremony_set_thresholds (TkeAutoCeremony *self,
                                  guint signature_threshold,
                                  guint revocation_threshold)
{
  g_return_if_fail (TKE_IS_AUTO_CEREMONY (self));
  self->thresholds_set = TRUE;
  self->signature_threshold = signature_threshold;
  self->revocation_threshold = revocation_threshold;
}

/**
 * tke_auto_ceremony_set_failover_total:
 * @self: the ceremony
 * @total: the failover units the instance has after failover-enable (1 or
 *   2), or 0 for one more than it has, unless failover units it has still
 *   wait for their master key (a failover-enable that stopped): then they
 *   get it and none is added
 *
 * Sets the number failover-enable asks for (by default 0).
 */
void
tke_auto_ceremony_set_failover_total (TkeAutoCeremony *self, guint total)
{
  g_return_if_fail (TKE_IS_AUTO_CEREMONY (self));
  self->failover_total = total;
}

/**
 * tke_auto_ceremony_set_delay:
 * @self: the ceremony
 * @milliseconds: the wait after #TKE_AUTO_DELAY_MESSAGE (default
 *   #TKE_AUTO_DEFAULT_DELAY_MS; tests shorten it)
 *
 * Sets auto-mk-rotate's delay before the rewrap.
 */
void
tke_auto_ceremony_set_delay (TkeAutoCeremony *self, guint milliseconds)
{
  g_return_if_fail (TKE_IS_AUTO_CEREMONY (self));
  self->delay_ms = milliseconds;
}

/**
 * tke_auto_ceremony_set_journal:
 * @self: the ceremony
 * @journal: (nullable): where auto-mk-rotate records that it reached the
 *   delay; %NULL: tke_auto_journal_get_default_path()
 *
 * Sets the journal.
 */
void
tke_auto_ceremony_set_journal (TkeAutoCeremony *self, TkeJournal *journal)
{
  g_return_if_fail (TKE_IS_AUTO_CEREMONY (self));
  g_set_object (&self->journal, journal);
}

/**
 * tke_auto_ceremony_get_instance:
 * @self: the ceremony
 *
 * The instance: before a run the one given to tke_auto_ceremony_new();
 * after tke_auto_ceremony_run_finish() libtke's own copy as the run left it
 * (after failover-enable with its new failover units).  The ceremony never
 * changes the units it was given: its worker thread reads the instance
 * afresh into objects of its own, so that a front end's units are only
 * changed on its own main context (it refreshes them after the run).
 *
 * Returns: (transfer none): the instance
 */
TkeServiceInstance *
tke_auto_ceremony_get_instance (TkeAutoCeremony *self)
{
  g_return_val_if_fail (TKE_IS_AUTO_CEREMONY (self), NULL);
  return self->instance;
}

/**
 * tke_auto_ceremony_get_advice:
 * @self: the ceremony
 *
 * After a failed run: the one safe next step (for auto-mk-rotate,
 * %TKE_RECOVERY_ACTION_ROTATE means "run auto-mk-rotate again" and
 * %TKE_RECOVERY_ACTION_RESUME_ROTATE "run cryptounit-mk-rotate").
 *
 * Returns: the advice
 */
TkeRecoveryAction
tke_auto_ceremony_get_advice (TkeAutoCeremony *self)
{
  g_return_val_if_fail (TKE_IS_AUTO_CEREMONY (self), TKE_RECOVERY_ACTION_NONE);
  return self->advice;
}

/**
 * tke_auto_ceremony_get_advice_explanation:
 * @self: the ceremony
 *
 * Returns: (nullable): why, translated
 */
const char *
tke_auto_ceremony_get_advice_explanation (TkeAutoCeremony *self)
{
  g_return_val_if_fail (TKE_IS_AUTO_CEREMONY (self), NULL);
  return self->advice_explanation;
}

/**
 * tke_auto_journal_get_default_path:
 *
 * The journal of the recovery-unit path (apart from the rotation's, which
 * tke_journal_get_default_path() names).
 *
 * Returns: (transfer full): `$XDG_STATE_HOME/tke/auto-journal`
 */
char *
tke_auto_journal_get_default_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "tke", "auto-journal", NULL);
}

/* ---- The step line, on the caller's context ---------------------------- */

typedef struct
{
  TkeAutoCeremony *self;
  char *text;
} Step;

static gboolean
emit_step (gpointer data)
{
  Step *step = data;

  g_signal_emit (step->self, signals[SIGNAL_STEP], 0, step->text);
  return G_SOURCE_REMOVE;
}

static void
step_free (gpointer data)
{
  Step *step = data;

  g_object_unref (step->self);
  g_free (step->text);
  g_free (step);
}

void
_tke_auto_step (TkeAutoCeremony *self, const char *format, ...)
{
  Step *step = g_new0 (Step, 1);
  va_list args;

  va_start (args, format);
  step->text = g_strdup_vprintf (format, args);
  va_end (args);
  step->self = g_object_ref (self);
  g_main_context_invoke_full (self->caller, G_PRIORITY_DEFAULT, emit_step, step, step_free);
}

/* ---- Running ------------------------------------------------------------- */

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TkeAutoCeremony *self = source;
  g_autoptr (GMainContext) context = g_main_context_new ();
  TkeServiceInstance *instance = NULL;
  GError *error = NULL;
  gboolean ok;

  g_main_context_push_thread_default (context);
  ok = _tke_auto_run (self, context, cancellable, &instance, &error);
  g_main_context_pop_thread_default (context);
  /* The worker is done with its copy: the caller's context takes it over
   * in tke_auto_ceremony_run_finish(). */
  g_task_set_task_data (task, instance, instance != NULL ? g_object_unref : NULL);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * tke_auto_ceremony_run_async:
 * @self: the ceremony
 * @cancellable: (nullable): stops it between steps
 * @callback: called on the caller's main context
 * @user_data: for @callback
 *
 * Runs the ceremony; #TkeAutoCeremony::step names each step as it starts.
 */
void
tke_auto_ceremony_run_async (TkeAutoCeremony *self,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (TKE_IS_AUTO_CEREMONY (self));

  g_clear_pointer (&self->caller, g_main_context_unref);
  self->caller = g_main_context_ref_thread_default ();
  self->advice = TKE_RECOVERY_ACTION_NONE;
  g_clear_pointer (&self->advice_explanation, g_free);
  if (self->journal == NULL)
    {
      g_autofree char *path = tke_auto_journal_get_default_path ();

      self->journal = tke_journal_new (path);
    }
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tke_auto_ceremony_run_async);
  g_task_run_in_thread (task, run_thread);
}

/**
 * tke_auto_ceremony_run_finish:
 * @self: the ceremony
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: %TRUE when every step succeeded; otherwise
 *   tke_auto_ceremony_get_advice() says what to do
 */
gboolean
tke_auto_ceremony_run_finish (TkeAutoCeremony *self, GAsyncResult *result, GError **error)
{
  TkeServiceInstance *instance;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  instance = g_task_get_task_data (G_TASK (result));
  if (instance != NULL)
    g_set_object (&self->instance, instance);
  return g_task_propagate_boolean (G_TASK (result), error);
}
