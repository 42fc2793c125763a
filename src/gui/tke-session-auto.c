/* tke-session-auto.c: the recovery-unit path of TkeSession
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Initialize, rotate, recover and failover enable with recovery crypto
 * units: libtke's TkeAutoCeremony does the work on every unit of the
 * instance and names each step with the plug-in's line, which the
 * rotation dialog lists.  The administrator card in reader 1 signs, its
 * PIN typed on the pad (TkePromptedSigner), and the one in reader 2 too
 * when the thresholds take two signatures: the workstation's two readers,
 * so that no card is swapped between a unit's commands.  Every ceremony is recorded
 * before it starts.  auto-mk-rotate goes on with the service's rotation
 * in the same dialog with the same card; once "Delaying 30 seconds…" was
 * shown, only Rotate (never auto-mk-rotate) may finish it, and the
 * Recovery tab says so (tke_recovery_advise_auto_rotate()).
 */

#include "config.h"

#include <stdlib.h>

#include <glib/gi18n.h>

#include "tke-gui-record.h"
#include "tke-session-private.h"

/* ---- The advice ---- */

static GPtrArray *
units_but_recovery (TkeSession *self)
{
  GListModel *all = tke_service_instance_get_units (self->instance);
  GPtrArray *units = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < g_list_model_get_n_items (all); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (all, i);

      if (tke_crypto_unit_get_unit_type (unit) != TKE_CRYPTO_UNIT_TYPE_RECOVERY)
        g_ptr_array_add (units, g_object_ref (unit));
    }
  return units;
}

/* After auto-mk-rotate: the service's three cases, keyed on the auto
 * journal (the delay was reached) and the service's rotation state.
 * Returns TRUE if the advice is the auto path's. */
gboolean
_tke_session_advise_auto (TkeSession *self, TkeRotationStatus *status)
{
  g_autofree char *delayed = tke_auto_journal_dup_delayed_vp (NULL);
  g_autoptr (GPtrArray) units = NULL;
  g_autofree char *explanation = NULL;
  TkeRecoveryAction action;

  if (self->instance == NULL || (delayed == NULL && !self->auto_rotate_failed))
    return FALSE;
  units = units_but_recovery (self);
  action = tke_recovery_advise_auto_rotate (units, status, delayed, &explanation);
  if (action == TKE_RECOVERY_ACTION_NONE)
    {
      self->auto_rotate_failed = FALSE;
      return FALSE;
    }
  /* A plain rotation that failed on its own is the plain advisor's. */
  if (action == TKE_RECOVERY_ACTION_ROTATE && !self->auto_rotate_failed)
    return FALSE;
  tke_window_set_auto_recovery (self->window, action, explanation, TRUE);
  return TRUE;
}

/* ---- Running ---- */

static void
end_auto (TkeSession *self)
{
  g_clear_object (&self->auto_ceremony);
  g_clear_object (&self->auto_cancellable);
  if (self->window != NULL)
    tke_window_set_ceremony_busy (self->window, FALSE);
}

static const char *
done_message (TkeAutoKind kind)
{
  switch (kind)
    {
    case TKE_AUTO_INIT:
      return _ ("The selected service instance has been initialized.");
    case TKE_AUTO_RECOVER:
      return _ ("The master key was recovered.");
    case TKE_AUTO_FAILOVER:
      return _ ("Failover crypto units were added.");
    case TKE_AUTO_MK_ROTATE:
    default:
      return _ ("The new master key is current on every selected crypto unit.");
    }
}

static GListModel *
selected_units (TkeSession *self)
{
  return tke_master_keys_page_get_selected_units (tke_window_get_master_keys_page (self->window));
}

static void
on_auto_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSession) self = user_data;
  TkeAutoCeremony *ceremony = TKE_AUTO_CEREMONY (source);
  g_autoptr (TkeAutoCeremony) held = g_object_ref (ceremony);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) signers = NULL;
  TkeAutoKind kind = GPOINTER_TO_INT (g_object_get_data (source, "tke-auto-kind"));
  gboolean ok = tke_auto_ceremony_run_finish (ceremony, result, &error);

  tke_gui_record_end_auto (self->trail, ceremony, error, self->rotation_dialog);
  _tke_session_busy_changed (self, -1);
  end_auto (self);
  if (self->window == NULL)
    return;
  if (ok && kind == TKE_AUTO_MK_ROTATE && self->rotation_dialog != NULL)
    {
      /* The same card signs set immediate: its PIN was entered. */
      self->auto_rotate_failed = FALSE;
      signers = g_ptr_array_new_with_free_func (g_object_unref);
      if (self->signer != NULL)
        g_ptr_array_add (signers, g_object_ref (self->signer));
      if (self->signer2 != NULL)
        g_ptr_array_add (signers, g_object_ref (self->signer2));
      _tke_session_rotate (self, self->rotation_dialog, selected_units (self), FALSE,
                           signers->len > 0 ? signers : NULL);
      return;
    }
  g_clear_object (&self->signer);
  g_clear_object (&self->signer2);
  if (ok)
    {
      if (self->rotation_dialog != NULL)
        tke_rotation_dialog_finish (self->rotation_dialog, NULL, done_message (kind));
      if (kind == TKE_AUTO_FAILOVER)
        {
          /* New units: the instance is read again. */
          g_clear_object (&self->instance);
          _tke_session_list_units (self);
        }
      else
        tke_session_refresh (self);
      return;
    }
  if (kind == TKE_AUTO_MK_ROTATE &&
      tke_auto_ceremony_get_advice (ceremony) == TKE_RECOVERY_ACTION_ROTATE)
    self->auto_rotate_failed = TRUE;
  if (self->rotation_dialog != NULL)
    {
      g_autofree char *message =
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
              ? g_strdup (_ ("Stopped before anything was sent to the crypto units."))
              : g_strdup (error->message);

      tke_rotation_dialog_finish (self->rotation_dialog, message,
                                  tke_auto_ceremony_get_advice_explanation (ceremony));
    }
  if (_tke_session_handle_auth_error (self, error))
    return;
  if (kind == TKE_AUTO_FAILOVER)
    {
      /* Stopped after the service added units (they wait for their key):
       * the instance is read again, so that they show. */
      g_clear_object (&self->instance);
      _tke_session_list_units (self);
    }
  else
    tke_session_refresh (self); /* reads the units, then the advice */
}

static void
on_auto_recorded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSession) self = user_data;
  g_autoptr (GError) error = NULL;

  if (self->auto_ceremony == NULL)
    return;
  if (!tke_audit_trail_begin_finish (self->trail, result, &error))
    {
      if (self->rotation_dialog != NULL)
        tke_rotation_dialog_finish (self->rotation_dialog, error->message, NULL);
      g_clear_object (&self->signer);
      g_clear_object (&self->signer2);
      end_auto (self);
      return;
    }
  _tke_session_busy_changed (self, +1);
  tke_auto_ceremony_run_async (self->auto_ceremony, self->auto_cancellable, on_auto_done,
                               g_object_ref (self));
}

static void
on_auto_step (TkeAutoCeremony *ceremony, const char *text, TkeSession *self)
{
  if (self->rotation_dialog == NULL)
    return;
  tke_rotation_dialog_add_message (self->rotation_dialog, text);
  /* From here on the rotation is finished by Rotate only. */
  if (g_str_equal (text, TKE_AUTO_DELAY_MESSAGE))
    tke_rotation_dialog_set_cancel_safe (
        self->rotation_dialog, FALSE,
        _ ("The new master key is in every crypto unit and the key storage is about to be "
           "rewrapped: this cannot be stopped from here."));
}

/* Stopping is offered while the card is awaited; during the PIN entry it
 * is the pad's Cancel key; afterwards between the steps. */
static void
on_auto_signer_changed (TkePromptedSigner *signer, TkeSession *self)
{
  if (self->rotation_dialog == NULL || self->auto_ceremony == NULL)
    return;
  tke_rotation_dialog_show_card_step (self->rotation_dialog,
                                      tke_prompted_signer_get_active (signer));
  if (tke_prompted_signer_get_active (signer) && !tke_prompted_signer_get_cancellable_now (signer))
    tke_rotation_dialog_set_cancel_safe (
        self->rotation_dialog, FALSE,
        _ ("A PIN entry is cancelled on the PIN pad (its Cancel key), not from here."));
  else
    tke_rotation_dialog_set_cancel_safe (
        self->rotation_dialog, TRUE,
        _ ("Stopping now is safe: the ceremony stops before its next step."));
}

static void
on_auto_cancel_requested (TkeRotationDialog *dialog, TkeSession *self)
{
  if (self->auto_cancellable == NULL)
    return;
  if (self->signer != NULL && tke_prompted_signer_get_cancellable_now (self->signer))
    tke_prompted_signer_cancel (self->signer);
  if (self->signer2 != NULL && tke_prompted_signer_get_cancellable_now (self->signer2))
    tke_prompted_signer_cancel (self->signer2);
  g_cancellable_cancel (self->auto_cancellable);
}

/* The wait before the rewrap: the plug-in's 30 s; TKE_AUTO_DELAY_MS
 * shortens it (tests), as for the CLI. */
static guint
auto_delay (void)
{
  const char *env = g_getenv ("TKE_AUTO_DELAY_MS");

  return env != NULL ? (guint) strtoul (env, NULL, 10) : TKE_AUTO_DEFAULT_DELAY_MS;
}

static TkePromptedSigner *
prompted (TkeSession *self, TkeCardSigner *card, guint reader, TkePinPrompt *prompt)
{
  TkePromptedSigner *signer = tke_prompted_signer_new_for_reader (card, reader, prompt);

  g_signal_connect_object (signer, "changed", G_CALLBACK (on_auto_signer_changed), self, 0);
  return signer;
}

/* @n_signers administrators: the signing service's keys, or the cards in
 * reader 1 and (for two) reader 2, each PIN on its reader's pad. */
static GPtrArray *
make_signers (TkeSession *self, TkeRotationDialog *dialog, guint n_signers, GError **error)
{
  TkePinPrompt *prompt = tke_rotation_dialog_get_pin_prompt (dialog);
  g_autoptr (GPtrArray) cards = NULL;
  GPtrArray *signers;

  if (tke_service_signer_get_default_url () != NULL)
    {
      g_autoptr (TkeWorkstation) workstation = tke_workstation_new (NULL, NULL);

      gtk_widget_set_visible (GTK_WIDGET (prompt), FALSE);
      return tke_service_signer_new_for_workstation (workstation, n_signers, TRUE, error);
    }
  /* One group: the same key in both readers (a copied card) is refused. */
  cards = tke_card_signer_new_for_readers (MIN (n_signers, 2));
  g_clear_object (&self->signer);
  g_clear_object (&self->signer2);
  self->signer = prompted (self, cards->pdata[0], 1, prompt);
  if (cards->len >= 2)
    self->signer2 = prompted (self, cards->pdata[1], 2, prompt);
  signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (signers, g_object_ref (self->signer));
  if (self->signer2 != NULL)
    g_ptr_array_add (signers, g_object_ref (self->signer2));
  /* The first to sign is reader 1's. */
  tke_pin_prompt_set_reader (prompt, 1, _ ("an administrator card"));
  return signers;
}

/* The dialog in the ceremony's words; auto-mk-rotate ends as a rotation. */
static void
name_dialog (TkeRotationDialog *dialog, TkeAutoKind kind, guint n_signers)
{
  const char *card = n_signers >= 2 ? _ ("The recovery unit's commands need the signatures of "
                                         "the administrator cards in reader 1 and reader 2.")
                                    : _ ("The recovery unit's commands need the signature of an "
                                         "administrator card.");

  switch (kind)
    {
    case TKE_AUTO_INIT:
      tke_rotation_dialog_set_ceremony (dialog, _ ("Initializing with Recovery Units"), card,
                                        _ ("The service instance is initialized."), FALSE);
      tke_rotation_dialog_set_stopped_headline (
          dialog, _ ("The initialization stopped. What happened and what is safe next are below."));
      break;
    case TKE_AUTO_RECOVER:
      tke_rotation_dialog_set_ceremony (dialog, _ ("Recovering from a Recovery Unit"), card,
                                        _ ("The master key is recovered."), FALSE);
      tke_rotation_dialog_set_stopped_headline (
          dialog, _ ("The recovery stopped. What happened and what is safe next are below."));
      break;
    case TKE_AUTO_FAILOVER:
      tke_rotation_dialog_set_ceremony (dialog, _ ("Enabling Failover Crypto Units"), card,
                                        _ ("The failover crypto units are added."), FALSE);
      tke_rotation_dialog_set_stopped_headline (dialog,
                                                _ ("Adding the failover crypto units stopped. What "
                                                   "happened and what is safe next are below."));
      break;
    case TKE_AUTO_MK_ROTATE:
    default:
      tke_rotation_dialog_set_ceremony (dialog, _ ("Rotating with Recovery Units"), card, NULL,
                                        TRUE);
      break;
    }
}

typedef struct
{
  TkeSession *self;
  TkeAutoKind kind;
  GPtrArray *signers;
} AutoStart;

static void
auto_start_free (AutoStart *start)
{
  g_object_unref (start->self);
  g_ptr_array_unref (start->signers);
  g_free (start);
}

static void
on_auto_units_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AutoStart *start = user_data;
  TkeSession *self = start->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeServiceInstance) instance =
      tke_service_client_list_units_finish (TKE_SERVICE_CLIENT (source), result, &error);

  _tke_session_busy_changed (self, -1);
  if (instance == NULL)
    {
      if (self->rotation_dialog != NULL)
        tke_rotation_dialog_finish (self->rotation_dialog,
                                    g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                        ? _ ("Stopped before anything was sent to the crypto "
                                             "units.")
                                        : error->message,
                                    NULL);
      g_clear_object (&self->signer);
      g_clear_object (&self->signer2);
      end_auto (self);
      auto_start_free (start);
      return;
    }
  self->auto_ceremony = tke_auto_ceremony_new (self->client, instance, start->kind);
  g_object_set_data (G_OBJECT (self->auto_ceremony), "tke-auto-kind",
                     GINT_TO_POINTER (start->kind));
  /* auto-init's thresholds are libtke's: every administrator signs, one
   * may remove another. */
  tke_auto_ceremony_set_signers (self->auto_ceremony, start->signers);
  /* failover-enable's total is libtke's: one more failover unit, or the
   * ones a stopped failover-enable added. */
  tke_auto_ceremony_set_delay (self->auto_ceremony, auto_delay ());
  g_signal_connect_object (self->auto_ceremony, "step", G_CALLBACK (on_auto_step), self, 0);
  /* No ceremony runs unrecorded. */
  tke_audit_trail_begin_auto_async (self->trail, self->auto_ceremony, self->cancellable,
                                    on_auto_recorded, g_object_ref (self));
  auto_start_free (start);
}

static void
run_auto (TkeSession *self, TkeAutoKind kind, TkeRotationDialog *dialog, guint n_admins)
{
  g_autoptr (GPtrArray) signers = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *reason = NULL;
  AutoStart *start;
  guint n_signers = 1;

  if (self->instance != NULL)
    n_signers = kind == TKE_AUTO_INIT ? CLAMP (n_admins, 1, TKE_PROMPTED_SIGNERS_AT_ONCE)
                                      : tke_auto_ceremony_get_n_signers (
                                            kind, tke_service_instance_get_units (self->instance));
  name_dialog (dialog, kind, n_signers);
  if (self->instance == NULL || self->rotation != NULL || self->auto_ceremony != NULL ||
      self->auto_cancellable != NULL)
    {
      tke_rotation_dialog_finish (dialog,
                                  self->instance == NULL
                                      ? _ ("The crypto units have not been read yet. Log in first.")
                                      : _ ("A ceremony is already running."),
                                  NULL);
      return;
    }
  /* Asked again now: the units may have changed since the button. */
  reason = tke_auto_ceremony_why_not (kind, tke_service_instance_get_units (self->instance),
                                      TKE_RECOVERY_ACTION_NONE, TKE_PROMPTED_SIGNERS_AT_ONCE);
  if (reason != NULL)
    {
      tke_rotation_dialog_finish (dialog, reason, NULL);
      return;
    }
  if (self->rotation_dialog != NULL)
    g_object_weak_unref (G_OBJECT (self->rotation_dialog), _tke_session_on_rotation_dialog_gone,
                         self);
  g_set_weak_pointer (&self->rotation_dialog, dialog);
  g_object_weak_ref (G_OBJECT (dialog), _tke_session_on_rotation_dialog_gone, self);
  if ((signers = make_signers (self, dialog, n_signers, &error)) == NULL)
    {
      tke_rotation_dialog_finish (dialog, error->message, NULL);
      return;
    }
  tke_window_set_ceremony_busy (self->window, TRUE);
  if (kind == TKE_AUTO_MK_ROTATE)
    tke_window_set_recovery (self->window, TKE_RECOVERY_ACTION_NONE, NULL);
  g_signal_connect_object (dialog, "cancel-requested", G_CALLBACK (on_auto_cancel_requested), self,
                           0);
  tke_rotation_dialog_set_cancel_safe (
      dialog, TRUE, _ ("Stopping now is safe: the ceremony stops before its next step."));
  self->auto_cancellable = g_cancellable_new ();
  start = g_new0 (AutoStart, 1);
  start->self = g_object_ref (self);
  start->kind = kind;
  start->signers = g_steal_pointer (&signers);
  /* The ceremony reads and changes its units in a worker thread: its own
   * copy of them, not the ones the tabs show (their notifications would
   * reach the widgets from that thread).  The tabs read theirs again when
   * it is done. */
  _tke_session_busy_changed (self, +1);
  tke_service_client_list_units_async (self->client, self->auto_cancellable, on_auto_units_listed,
                                       start);
}

void
_tke_session_on_auto (
    TkeWindow *window, int kind, GtkWindow *dialog, guint n_admins, TkeSession *self)
{
  g_return_if_fail (TKE_IS_ROTATION_DIALOG (dialog));
  run_auto (self, (TkeAutoKind) kind, TKE_ROTATION_DIALOG (dialog), n_admins);
}
