/* tke-session.c: the application's libtke objects, bound to its window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window shows; libtke knows.  This object holds the workstation
 * profile, the service client and the reader monitor, answers the
 * window's ::log-in, ::refresh and ::ceremony with libtke's async calls,
 * and hands the results back to the pages.  Every call here runs off the
 * main loop (libtke's _async functions) and is cancelled when the window
 * goes.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-load-wizard.h"
#include "tke-login-dialog.h"
#include "tke-card-ceremony.h"
#include "tke-prompted-signer.h"
#include "tke-rotation-dialog.h"
#include "tke-gui-record.h"
#include "tke-session-private.h"
#include "tke-session.h"

G_DEFINE_FINAL_TYPE (TkeSession, tke_session, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

void
_tke_session_busy_changed (TkeSession *self, int delta)
{
  self->busy += delta;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

guint
tke_session_get_busy (TkeSession *self)
{
  g_return_val_if_fail (TKE_IS_SESSION (self), 0);
  return self->busy;
}

TkeWindow *
tke_session_get_window (TkeSession *self)
{
  g_return_val_if_fail (TKE_IS_SESSION (self), NULL);
  return self->window;
}

TkeServiceClient *
tke_session_get_client (TkeSession *self)
{
  g_return_val_if_fail (TKE_IS_SESSION (self), NULL);
  return self->client;
}

/* An expired token shows the banner and leaves everything else as it is:
 * logging in again continues where the person was. */
gboolean
_tke_session_handle_auth_error (TkeSession *self, const GError *error)
{
  if (!g_error_matches (error, TKE_ERROR, TKE_ERROR_AUTH_EXPIRED) &&
      !g_error_matches (error, TKE_ERROR, TKE_ERROR_UNAUTHORIZED))
    return FALSE;
  if (self->window != NULL)
    tke_window_set_login_state (
        self->window, TKE_LOGIN_STATE_EXPIRED,
        self->instance != NULL ? tke_service_instance_get_id (self->instance) : NULL);
  return TRUE;
}

/* ---- Readers ---- */

typedef struct
{
  TkeSession *session;
  guint index;
} CardRead;

static void
on_card_info (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CardRead *read = user_data;
  g_autoptr (TkeSession) self = read->session;
  g_autoptr (GError) error = NULL;
  TkeCard *card = TKE_CARD (source);

  _tke_session_busy_changed (self, -1);
  if (self->window == NULL)
    goto out;
  if (!tke_card_read_info_finish (card, result, &error))
    tke_readers_bar_set_reader (tke_window_get_readers_bar (self->window), read->index,
                                TKE_READER_SLOT_CARD, _ ("unreadable"), error->message);
  else
    tke_readers_bar_set_reader (
        tke_window_get_readers_bar (self->window), read->index,
        tke_card_get_pin_tries_left (card) == 0 ? TKE_READER_SLOT_BLOCKED : TKE_READER_SLOT_CARD,
        tke_card_type_get_name (tke_card_get_card_type (card)), tke_card_get_description (card));
out:
  g_free (read);
}

static void
on_card_opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CardRead *read = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = tke_card_open_finish (result, &error);

  if (card == NULL || read->session->window == NULL)
    {
      _tke_session_busy_changed (read->session, -1);
      g_object_unref (read->session);
      g_free (read);
      return;
    }
  tke_card_read_info_async (card, read->session->cancellable, on_card_info, read);
}

/* What is in the reader: present cards are read (serial, type,
 * description: no PIN needed) so the strip can name them. */
static void
show_reader (TkeSession *self, guint index)
{
  TkeReader *reader = tke_reader_monitor_get_reader (self->monitor, index);
  TkeReadersBar *bar;
  CardRead *read;

  if (self->window == NULL)
    return;
  bar = tke_window_get_readers_bar (self->window);
  if (reader == NULL)
    {
      tke_readers_bar_set_reader (bar, index, TKE_READER_SLOT_MISSING, NULL, NULL);
      return;
    }
  if (!tke_reader_get_card_present (reader))
    {
      tke_readers_bar_set_reader (bar, index, TKE_READER_SLOT_EMPTY, NULL, NULL);
      return;
    }
  tke_readers_bar_set_reader (bar, index, TKE_READER_SLOT_CARD, "…", _ ("reading the card"));
  read = g_new0 (CardRead, 1);
  read->session = g_object_ref (self);
  read->index = index;
  _tke_session_busy_changed (self, +1);
  tke_card_open_async (index, tke_reader_default_prefix (index), FALSE, self->cancellable,
                       on_card_opened, read);
}

static void
on_reader_event (TkeReaderMonitor *monitor, TkeReader *reader, TkeSession *self)
{
  guint index = tke_reader_get_index (reader);

  if (index == 1 || index == 2)
    show_reader (self, index);
}

static void
on_reader_removed (TkeReaderMonitor *monitor, TkeReader *reader, TkeSession *self)
{
  guint index = tke_reader_get_index (reader);

  if ((index == 1 || index == 2) && self->window != NULL)
    tke_readers_bar_set_reader (tke_window_get_readers_bar (self->window), index,
                                TKE_READER_SLOT_MISSING, NULL, NULL);
}

static void
start_readers (TkeSession *self)
{
  self->monitor =
      tke_reader_monitor_new (tke_reader_default_prefix (1), tke_reader_default_prefix (2));
  g_signal_connect_object (self->monitor, "reader-added", G_CALLBACK (on_reader_event), self, 0);
  g_signal_connect_object (self->monitor, "card-inserted", G_CALLBACK (on_reader_event), self, 0);
  g_signal_connect_object (self->monitor, "card-removed", G_CALLBACK (on_reader_event), self, 0);
  g_signal_connect_object (self->monitor, "reader-removed", G_CALLBACK (on_reader_removed), self,
                           0);
  show_reader (self, 1);
  show_reader (self, 2);
}

/* ---- Recovery: the advisor's answer ---- */

/* The journal this workstation keeps (the CLI's too) says which ceremony
 * was interrupted, and when: the person may not be the one who ran it.
 * A short local file, read once per advice. */
static char *
interrupted_note (void)
{
  g_autoptr (TkeJournal) journal = tke_journal_new (NULL);
  g_autoptr (TkeJournalRecord) record = tke_journal_find_interrupted (journal, NULL);
  g_autoptr (GDateTime) time = NULL;
  g_autofree char *when = NULL;

  if (record == NULL)
    return NULL;
  time = g_date_time_new_from_unix_local (record->time / G_USEC_PER_SEC);
  when = time != NULL ? g_date_time_format (time, "%Y-%m-%d %H:%M") : g_strdup ("?");
  /* Translators: "The “rotate” ceremony did not finish: its last step in the journal (…) is
   * “rewrap”, at 2026-11-23 19:40." */
  return g_strdup_printf (
      _ ("The “%s” ceremony did not finish: its last step in the journal (%s) is “%s”, at %s."),
      record->kind, tke_journal_get_path (journal), record->step, when);
}

static void
on_rotation_status (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSession) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeRotationStatus) status =
      tke_service_client_get_rotation_status_finish (TKE_SERVICE_CLIENT (source), result, &error);
  g_autoptr (GPtrArray) selected = NULL;
  g_autoptr (GPtrArray) switched = NULL;
  g_autofree char *explanation = NULL;
  TkeRecoveryAction action;

  _tke_session_busy_changed (self, -1);
  if (self->window == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (status == NULL)
    {
      if (!_tke_session_handle_auth_error (self, error))
        tke_window_add_toast (self->window, error->message);
      return;
    }
  if (self->rotation != NULL)
    return; /* a rotation runs: its dialog shows the status */
  if (_tke_session_advise_auto (self, status))
    return;

  /* Recovery is about a rotation that started and did not finish; with
   * none, or a finished one, the tabs offer what the registers allow. */
  if (tke_rotation_status_get_state (status) == TKE_ROTATION_STATE_NONE ||
      tke_rotation_status_get_state (status) == TKE_ROTATION_STATE_COMPLETE)
    {
      tke_window_set_recovery (self->window, TKE_RECOVERY_ACTION_NONE, NULL);
      return;
    }
  selected = self->instance != NULL ? tke_service_instance_get_selected_units (self->instance)
                                    : g_ptr_array_new ();
  action = tke_recovery_advise (selected, status, &switched, &explanation);
  if (action != TKE_RECOVERY_ACTION_NONE)
    {
      g_autofree char *note = interrupted_note ();

      if (note != NULL)
        {
          g_autofree char *both =
              g_strdup_printf ("%s\n\n%s", note, explanation != NULL ? explanation : "");

          g_free (explanation);
          explanation = g_steal_pointer (&both);
        }
    }
  tke_window_set_recovery (self->window, action, explanation);
}

void
_tke_session_advise (TkeSession *self)
{
  _tke_session_busy_changed (self, +1);
  tke_service_client_get_rotation_status_async (self->client, self->cancellable, on_rotation_status,
                                                g_object_ref (self));
}

/* ---- Units ---- */

/* The selection lives in the workstation profile, shared with the CLI
 * (tke cryptounit-add): what one selects, the other sees. */
static void
on_selection_changed (TkeCryptoUnit *changed, GParamSpec *pspec, TkeSession *self)
{
  g_autoptr (GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GError) error = NULL;
  GListModel *units;

  if (self->instance == NULL)
    return;
  units = tke_service_instance_get_units (self->instance);
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      guint number = tke_crypto_unit_get_number (unit);

      if (tke_crypto_unit_get_selected (unit))
        g_array_append_val (numbers, number);
    }
  tke_workstation_set_selected_units (self->workstation, numbers);
  if (!tke_workstation_save (self->workstation, &error) && self->window != NULL)
    tke_window_add_toast (self->window, error->message);
}

static void
apply_selection (TkeSession *self, GListModel *units)
{
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      tke_crypto_unit_set_selected (
          unit,
          tke_workstation_is_unit_selected (self->workstation, tke_crypto_unit_get_number (unit)));
      g_signal_connect_object (unit, "notify::selected", G_CALLBACK (on_selection_changed), self,
                               0);
    }
}

static void
on_units_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSession) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeServiceInstance) instance =
      tke_service_client_list_units_finish (TKE_SERVICE_CLIENT (source), result, &error);

  _tke_session_busy_changed (self, -1);
  if (self->window == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (instance == NULL)
    {
      if (g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED))
        _tke_session_explain_root_changed (self, error);
      else if (!_tke_session_handle_auth_error (self, error))
        tke_crypto_units_page_set_state (tke_window_get_units_page (self->window),
                                         TKE_CRYPTO_UNITS_PAGE_ERROR, error->message);
      return;
    }
  g_set_object (&self->instance, instance);
  apply_selection (self, tke_service_instance_get_units (instance));
  tke_window_set_login_state (self->window, TKE_LOGIN_STATE_LOGGED_IN,
                              tke_service_instance_get_id (instance));
  tke_window_set_units (self->window, tke_service_instance_get_units (instance));
  _tke_session_advise (self);
}

void
_tke_session_list_units (TkeSession *self)
{
  if (self->window != NULL && self->instance == NULL)
    tke_crypto_units_page_set_state (tke_window_get_units_page (self->window),
                                     TKE_CRYPTO_UNITS_PAGE_LOADING, NULL);
  _tke_session_busy_changed (self, +1);
  tke_service_client_list_units_async (self->client, self->cancellable, on_units_listed,
                                       g_object_ref (self));
}

static void
on_units_refreshed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSession) self = user_data;
  g_autoptr (GError) error = NULL;

  _tke_session_busy_changed (self, -1);
  if (self->window == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!tke_service_client_refresh_units_finish (TKE_SERVICE_CLIENT (source), result, &error))
    {
      if (g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED))
        _tke_session_explain_root_changed (self, error);
      else if (!_tke_session_handle_auth_error (self, error))
        tke_window_add_toast (self->window, error->message);
      return;
    }
  _tke_session_advise (self);
}

void
tke_session_refresh (TkeSession *self)
{
  g_return_if_fail (TKE_IS_SESSION (self));

  if (self->client == NULL)
    return;
  if (self->instance == NULL)
    {
      _tke_session_list_units (self);
      return;
    }
  _tke_session_busy_changed (self, +1);
  tke_service_client_refresh_units_async (
      self->client, tke_service_instance_get_units (self->instance), self->cancellable,
      on_units_refreshed, g_object_ref (self));
}

/* ---- Rotation: TkeRotation runs it, the dialog shows it ---- */

static void
on_rotation_message (TkeRotation *rotation, const char *text, TkeSession *self)
{
  if (self->rotation_dialog != NULL)
    tke_rotation_dialog_add_message (self->rotation_dialog, text);
}

static void
on_rotation_progress (TkeRotation *rotation, guint64 done, guint64 total, TkeSession *self)
{
  if (self->rotation_dialog != NULL)
    tke_rotation_dialog_set_progress (self->rotation_dialog, done, total);
}

static void
on_unit_done (TkeRotation *rotation, TkeCryptoUnit *unit, const GError *error, TkeSession *self)
{
  if (self->rotation_dialog != NULL)
    tke_rotation_dialog_add_unit_result (self->rotation_dialog, tke_crypto_unit_get_number (unit),
                                         error != NULL ? error->message : NULL);
}

/* Stopping is offered only while it is safe: during the wait for the
 * administrator card, before anything is sent to the units. */
static void
on_signer_changed (TkePromptedSigner *signer, TkeSession *self)
{
  TkePinPromptState state;

  if (self->rotation_dialog == NULL)
    return;
  if (!tke_prompted_signer_get_active (signer))
    {
      /* Done with the card.  The prompt keeps its last word about the
       * PIN; a card that could not be reached is said per unit instead. */
      state = tke_pin_prompt_get_state (tke_rotation_dialog_get_pin_prompt (self->rotation_dialog));
      if (state == TKE_PIN_PROMPT_WAITING_FOR_CARD || state == TKE_PIN_PROMPT_CARD_FOUND)
        tke_rotation_dialog_show_card_step (self->rotation_dialog, FALSE);
      tke_rotation_dialog_set_cancel_safe (
          self->rotation_dialog, FALSE,
          _ ("Set immediate was sent to the crypto units; it cannot be stopped."));
      return;
    }
  tke_rotation_dialog_show_card_step (self->rotation_dialog, TRUE);
  if (tke_prompted_signer_get_cancellable_now (signer))
    tke_rotation_dialog_set_cancel_safe (
        self->rotation_dialog, TRUE,
        _ ("Stopping now is safe: nothing has been sent to the crypto units yet. "
           "The keys stay rewrapped; the Recovery tab then offers Set immediate."));
  else
    tke_rotation_dialog_set_cancel_safe (
        self->rotation_dialog, FALSE,
        _ ("A PIN entry is cancelled on the PIN pad (its Cancel key), not from here."));
}

static void
on_cancel_requested (TkeRotationDialog *dialog, TkeSession *self)
{
  if (self->signer != NULL && tke_prompted_signer_get_cancellable_now (self->signer))
    tke_prompted_signer_cancel (self->signer);
  if (self->signer2 != NULL && tke_prompted_signer_get_cancellable_now (self->signer2))
    tke_prompted_signer_cancel (self->signer2);
}

/* What logging in again leads to, by libtke's resume rule: a pre-check
 * stop changed nothing and Rotate starts afresh; a rotation that started
 * resumes its rewrap, or is finished by Set immediate. */
static const char *
after_login_advice (TkeSession *self, TkeRotationStatus *status)
{
  g_autoptr (TkeJournal) journal = tke_journal_new (NULL);
  g_autoptr (TkeJournalRecord) interrupted = tke_journal_find_interrupted (journal, NULL);

  /* Another instance's unfinished ceremony says nothing about this one. */
  if (interrupted != NULL &&
      (self->instance == NULL ||
       g_strcmp0 (interrupted->instance, tke_service_instance_get_id (self->instance)) != 0))
    g_clear_pointer (&interrupted, tke_journal_record_free);
  switch (tke_ceremony_resume_action (status, interrupted))
    {
    case TKE_RECOVERY_ACTION_SET_IMMEDIATE:
      return _ ("Log in again: every key is rewrapped, and the Recovery tab then offers Set "
                "immediate to finish the rotation.");
    case TKE_RECOVERY_ACTION_RESUME_ROTATE:
      return _ ("Log in again, then run Rotate again: it resumes the rewrap where it stopped.");
    case TKE_RECOVERY_ACTION_ROTATE:
    default:
      return _ ("Nothing was changed. Log in again, then run Rotate again: it starts from the "
                "beginning.");
    }
}

static void
on_rotation_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSession) self = user_data;
  g_autoptr (TkeRotation) rotation = TKE_ROTATION (source);
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;
  const char *next = NULL;
  gboolean ok;
  TkeRotationStatus *status;

  ok = g_task_get_source_tag (G_TASK (result)) == tke_rotation_recover_async
           ? tke_rotation_recover_finish (rotation, result, &error)
           : tke_rotation_run_finish (rotation, result, &error);
  if (self->trail != NULL)
    tke_gui_record_end_rotation (self->trail, rotation, error, self->rotation_dialog);
  _tke_session_busy_changed (self, -1);
  self->rotation = NULL; /* the reference is this function's */
  g_clear_object (&self->signer);
  g_clear_object (&self->signer2);
  if (self->window == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (self->rotation_dialog != NULL)
    {
      status = tke_rotation_get_status (rotation);
      if (ok)
        tke_rotation_dialog_finish (
            self->rotation_dialog, NULL,
            _ ("The new master key is current on every selected crypto unit."));
      else if (_tke_session_handle_auth_error (self, error))
        tke_rotation_dialog_finish (self->rotation_dialog, error->message,
                                    after_login_advice (self, status));
      else
        {
          /* Nothing started (a pre-check refused): nothing to recover. */
          if (status == NULL || tke_rotation_status_get_state (status) == TKE_ROTATION_STATE_NONE ||
              tke_rotation_status_get_state (status) == TKE_ROTATION_STATE_COMPLETE)
            message = g_strdup_printf (_ ("Nothing was changed: %s"), error->message);
          else
            {
              /* The units' own words are in the dialog's list already. */
              message = tke_rotation_dialog_get_n_unit_results (self->rotation_dialog) > 0
                            ? g_strdup (_ ("The rotation stopped: set immediate did not succeed on "
                                           "every crypto unit (see the list above)."))
                            : g_strdup_printf (_ ("The rotation stopped: %s"), error->message);
              if (tke_rotation_has_advice (rotation))
                {
                  /* The recovery page shows the same conclusion at once;
                   * the refresh below reads the units and advises again. */
                  next = tke_rotation_get_advice_explanation (rotation);
                  tke_window_set_recovery (self->window, tke_rotation_get_advice (rotation), next);
                }
            }
          tke_rotation_dialog_finish (self->rotation_dialog, message, next);
        }
    }
  /* A rotation that ran to its end read the units and the service's
   * state itself: nothing is left to recover.  One that stopped may have
   * stopped before that. */
  if (ok)
    tke_window_set_recovery (self->window, TKE_RECOVERY_ACTION_NONE, NULL);
  else
    tke_session_refresh (self);
}

void
_tke_session_on_rotation_dialog_gone (gpointer data, GObject *where)
{
  TkeSession *self = data;

  /* The rotation's end read the units again already. */
  if (self->window != NULL)
    tke_master_keys_page_set_busy (tke_window_get_master_keys_page (self->window), FALSE);
}

static void
rotation_recorded (TkeSession *self, GAsyncResult *result, gboolean recover)
{
  g_autoptr (GError) error = NULL;

  if (!tke_audit_trail_begin_finish (self->trail, result, &error))
    {
      if (self->rotation_dialog != NULL)
        tke_rotation_dialog_finish (self->rotation_dialog, error->message, NULL);
      g_clear_object (&self->rotation);
      g_clear_object (&self->signer);
      g_clear_object (&self->signer2);
      if (self->window != NULL)
        tke_master_keys_page_set_busy (tke_window_get_master_keys_page (self->window), FALSE);
      return;
    }
  _tke_session_busy_changed (self, +1);
  if (recover)
    tke_rotation_recover_async (self->rotation, self->cancellable, on_rotation_done,
                                g_object_ref (self));
  else
    tke_rotation_run_async (self->rotation, self->cancellable, on_rotation_done,
                            g_object_ref (self));
}

static void
on_rotation_recorded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSession) self = user_data;

  rotation_recorded (self, result, FALSE);
}

static void
on_recovery_recorded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSession) self = user_data;

  rotation_recorded (self, result, TRUE);
}

/* Rotate (or recover: the advisor's one safe action) with the rotation's
 * journal in the workstation's usual place, as the CLI keeps it, and an
 * administrator card in reader 1 for set immediate (or @given, the
 * signers of the auto-mk-rotate it finishes). */
void
_tke_session_rotate (TkeSession *self,
                     TkeRotationDialog *dialog,
                     GListModel *units,
                     gboolean recover,
                     GPtrArray *given)
{
  g_autoptr (GPtrArray) selected = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) cards = NULL;
  g_autoptr (GPtrArray) signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (TkeJournal) journal = tke_journal_new (NULL);
  g_autoptr (GError) error = NULL;

  if (self->instance == NULL || self->rotation != NULL)
    {
      tke_rotation_dialog_finish (
          dialog,
          self->rotation != NULL ? _ ("A rotation is already running.")
                                 : _ ("The crypto units have not been read yet. Log in first."),
          NULL);
      return;
    }
  if (self->rotation_dialog != NULL)
    g_object_weak_unref (G_OBJECT (self->rotation_dialog), _tke_session_on_rotation_dialog_gone,
                         self);
  g_set_weak_pointer (&self->rotation_dialog, dialog);
  g_object_weak_ref (G_OBJECT (dialog), _tke_session_on_rotation_dialog_gone, self);
  tke_master_keys_page_set_busy (tke_window_get_master_keys_page (self->window), TRUE);
  tke_window_set_recovery (self->window, TKE_RECOVERY_ACTION_NONE, NULL);

  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    g_ptr_array_add (selected, g_list_model_get_item (units, i));
  self->rotation = tke_rotation_new (self->client, self->instance, selected);
  tke_rotation_set_journal (self->rotation, journal);
  if (given != NULL)
    {
      /* auto-mk-rotate goes on with the signers whose PIN was entered. */
      g_clear_pointer (&signers, g_ptr_array_unref);
      signers = g_ptr_array_ref (given);
    }
  else if (tke_service_signer_get_default_url () != NULL)
    {
      g_autoptr (TkeWorkstation) workstation = tke_workstation_new (NULL, NULL);

      /* The signing service's first key signs set immediate, as in the
       * other ceremonies: no card, no PIN. */
      g_clear_pointer (&signers, g_ptr_array_unref);
      signers = tke_service_signer_new_for_workstation (workstation, 1, TRUE, &error);
      if (signers == NULL)
        {
          tke_rotation_dialog_finish (dialog, error->message, NULL);
          g_clear_object (&self->rotation);
          tke_master_keys_page_set_busy (tke_window_get_master_keys_page (self->window), FALSE);
          return;
        }
      gtk_widget_set_visible (GTK_WIDGET (tke_rotation_dialog_get_pin_prompt (dialog)), FALSE);
    }
  else
    {
      cards = tke_card_signer_new_group (NULL, 1);
      tke_pin_prompt_set_reader (tke_rotation_dialog_get_pin_prompt (dialog), 1,
                                 _ ("an administrator card"));
      self->signer =
          tke_prompted_signer_new (cards->pdata[0], tke_rotation_dialog_get_pin_prompt (dialog));
      g_ptr_array_add (signers, g_object_ref (self->signer));
      g_signal_connect_object (self->signer, "changed", G_CALLBACK (on_signer_changed), self, 0);
    }
  tke_rotation_set_signers (self->rotation, signers);

  g_signal_connect_object (self->rotation, "message", G_CALLBACK (on_rotation_message), self, 0);
  g_signal_connect_object (self->rotation, "progress", G_CALLBACK (on_rotation_progress), self, 0);
  g_signal_connect_object (self->rotation, "unit-done", G_CALLBACK (on_unit_done), self, 0);
  g_signal_connect_object (dialog, "cancel-requested", G_CALLBACK (on_cancel_requested), self, 0);
  /* The service offers no way to stop a rewrap: nothing here pretends to. */
  tke_rotation_dialog_set_cancel_safe (
      dialog, FALSE,
      _ ("The service rewraps the keys by itself; it cannot be stopped from here. "
         "If it stops, the Recovery tab resumes it where it stopped."));
  /* No rotation runs unrecorded: it starts once its first record is on
   * disk, written off the main loop. */
  tke_audit_trail_begin_rotation_async (
      self->trail, self->rotation, recover ? "recover" : "rotate", self->cancellable,
      recover ? on_recovery_recorded : on_rotation_recorded, g_object_ref (self));
}

/* ---- The card ceremonies: load, commit, set immediate, clear ---- */

/* libtke's ceremony reads its units again when it is done, so the pages
 * show the result already: one refresh, not two.  Only set immediate can
 * end a rotation that waits for recovery, so only it asks the advisor
 * again.  A ceremony that stopped may have stopped before that re-read. */
static void
on_card_ceremony_finished (TkeCardCeremony *ceremony, gboolean success, TkeSession *self)
{
  TkeCeremonyKind kind =
      GPOINTER_TO_INT (g_object_get_data (G_OBJECT (ceremony), "tke-ceremony-kind"));

  if (self->window == NULL)
    return;
  tke_window_set_ceremony_busy (self->window, FALSE);
  if (!success)
    tke_session_refresh (self);
  else if (kind == TKE_CEREMONY_SET_IMMEDIATE)
    _tke_session_advise (self);
}

static void
run_card_ceremony (TkeSession *self, TkeCeremonyKind kind, GListModel *units, TkeLoadWizard *wizard)
{
  TkeCardCeremony *ceremony;

  if (g_list_model_get_n_items (units) == 0)
    {
      tke_load_wizard_show_error (
          wizard,
          _ ("No crypto unit is selected. Select the units on the Crypto units tab first."));
      return;
    }
  ceremony = tke_card_ceremony_new (self->client, kind, units, wizard);
  g_object_set_data (G_OBJECT (ceremony), "tke-ceremony-kind", GINT_TO_POINTER (kind));
  /* What the window read from the tabs for the ceremony. */
  tke_card_ceremony_set_administrator_ski (ceremony,
                                           g_object_get_data (G_OBJECT (wizard), "tke-admin-ski"));
  tke_card_ceremony_set_thresholds (
      ceremony, GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (wizard), "tke-signature-threshold")),
      GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (wizard), "tke-revocation-threshold")));
  /* The wizard owns its ceremony: closing it ends the ceremony. */
  g_object_set_data_full (G_OBJECT (wizard), "tke-card-ceremony", ceremony, g_object_unref);
  g_signal_connect_object (ceremony, "finished", G_CALLBACK (on_card_ceremony_finished), self, 0);
  tke_window_set_ceremony_busy (self->window, TRUE);
  tke_card_ceremony_start (ceremony);
}

static void
on_ceremony (
    TkeWindow *window, TkeCeremonyKind kind, GListModel *units, GtkWindow *dialog, TkeSession *self)
{
  if (kind == TKE_CEREMONY_ROTATE && TKE_IS_ROTATION_DIALOG (dialog))
    _tke_session_rotate (self, TKE_ROTATION_DIALOG (dialog), units, FALSE, NULL);
  else if (kind != TKE_CEREMONY_ROTATE && TKE_IS_LOAD_WIZARD (dialog))
    run_card_ceremony (self, kind, units, TKE_LOAD_WIZARD (dialog));
  else
    g_return_if_reached ();
}

static void
on_recover (TkeWindow *window, GListModel *units, GtkWindow *dialog, TkeSession *self)
{
  g_return_if_fail (TKE_IS_ROTATION_DIALOG (dialog));
  _tke_session_rotate (self, TKE_ROTATION_DIALOG (dialog), units, TRUE, NULL);
}

/* ---- Life cycle ---- */

static void
on_refresh (TkeWindow *window, TkeSession *self)
{
  tke_session_refresh (self);
}

void
tke_session_start (TkeSession *self)
{
  const char *endpoint;

  g_return_if_fail (TKE_IS_SESSION (self));

  start_readers (self);
  endpoint = tke_workstation_get_endpoint (self->workstation);
  if (endpoint == NULL || *endpoint == '\0')
    return;
  tke_window_set_endpoint (self->window, endpoint);
  _tke_session_busy_changed (self, +1);
  tke_credentials_lookup_async (TKE_CREDENTIAL_API_KEY, endpoint, self->cancellable,
                                _tke_session_on_key_found, g_object_ref (self));
}

TkeSession *
tke_session_new (TkeWindow *window, TkeWorkstation *workstation)
{
  TkeSession *self = g_object_new (TKE_TYPE_SESSION, NULL);
  const char *endpoint = tke_workstation_get_endpoint (workstation);

  g_set_weak_pointer (&self->window, window);
  self->workstation = g_object_ref (workstation);
  if (endpoint != NULL && *endpoint != '\0')
    {
      self->client = tke_service_client_new (endpoint, tke_workstation_get_ca_file (workstation));
      /* With none pinned, the log-in asks the person to confirm one. */
      tke_service_client_set_unit_root (self->client, tke_workstation_get_unit_root (workstation));
      if (tke_workstation_get_instance_id (workstation) != NULL)
        tke_service_client_set_instance_id (self->client,
                                            tke_workstation_get_instance_id (workstation));
    }
  g_signal_connect_object (window, "log-in", G_CALLBACK (_tke_session_on_log_in), self, 0);
  g_signal_connect_object (window, "refresh", G_CALLBACK (on_refresh), self, 0);
  if (self->client != NULL)
    {
      g_signal_connect_object (window, "ceremony", G_CALLBACK (on_ceremony), self, 0);
      g_signal_connect_object (window, "recover", G_CALLBACK (on_recover), self, 0);
      g_signal_connect_object (window, "auto", G_CALLBACK (_tke_session_on_auto), self, 0);
    }
  /* The window owns the session: it goes when the window goes. */
  g_object_set_data_full (G_OBJECT (window), "tke-session", self, g_object_unref);
  return self;
}

static void
tke_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_uint (value, TKE_SESSION (object)->busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_session_dispose (GObject *object)
{
  TkeSession *self = TKE_SESSION (object);

  g_cancellable_cancel (self->cancellable);
  /* A wait for the card would outlive the window otherwise. */
  if (self->signer != NULL)
    tke_prompted_signer_cancel (self->signer);
  if (self->signer2 != NULL)
    tke_prompted_signer_cancel (self->signer2);
  g_clear_object (&self->signer);
  g_clear_object (&self->signer2);
  g_clear_object (&self->auto_ceremony);
  g_clear_object (&self->auto_cancellable);
  g_clear_object (&self->trail);
  if (self->rotation_dialog != NULL)
    g_object_weak_unref (G_OBJECT (self->rotation_dialog), _tke_session_on_rotation_dialog_gone,
                         self);
  g_clear_weak_pointer (&self->rotation_dialog);
  g_clear_weak_pointer (&self->window);
  g_clear_object (&self->monitor);
  g_clear_object (&self->instance);
  g_clear_object (&self->client);
  g_clear_object (&self->workstation);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (tke_session_parent_class)->dispose (object);
}

static void
tke_session_class_init (TkeSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = tke_session_get_property;
  object_class->dispose = tke_session_dispose;

  properties[PROP_BUSY] =
      g_param_spec_uint ("busy", NULL, NULL, 0, G_MAXUINT, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tke_session_init (TkeSession *self)
{
  self->cancellable = g_cancellable_new ();
  self->trail = tke_gui_record_open ();
}
