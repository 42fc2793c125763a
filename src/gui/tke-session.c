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
#include "tke-session.h"

struct _TkeSession
{
  GObject parent_instance;

  TkeWindow *window; /* weak */
  TkeWorkstation *workstation;
  TkeServiceClient *client;
  TkeServiceInstance *instance;
  TkeReaderMonitor *monitor;
  GCancellable *cancellable;
  guint busy;

  TkeRotationDialog *rotation_dialog; /* weak */
  TkeRotation *rotation;              /* while one runs; owned by its callback */
  TkePromptedSigner *signer;
  TkeAuditTrail *trail; /* the ceremony record */
};

G_DEFINE_FINAL_TYPE (TkeSession, tke_session, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void list_units (TkeSession *self);
static void explain_root_changed (TkeSession *self, const GError *error);

static void
busy_changed (TkeSession *self, int delta)
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
static gboolean
handle_auth_error (TkeSession *self, const GError *error)
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

static const char *
card_type_name (TkeCardType type)
{
  switch (type)
    {
    case TKE_CARD_TYPE_CA:
      return _ ("CA");
    case TKE_CARD_TYPE_EP11:
      return "EP11";
    case TKE_CARD_TYPE_UNKNOWN:
    default:
      return _ ("unknown");
    }
}

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

  busy_changed (self, -1);
  if (self->window == NULL)
    goto out;
  if (!tke_card_read_info_finish (card, result, &error))
    tke_readers_bar_set_reader (tke_window_get_readers_bar (self->window), read->index,
                                TKE_READER_SLOT_CARD, _ ("unreadable"), error->message);
  else
    tke_readers_bar_set_reader (
        tke_window_get_readers_bar (self->window), read->index, TKE_READER_SLOT_CARD,
        card_type_name (tke_card_get_card_type (card)), tke_card_get_description (card));
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
      busy_changed (read->session, -1);
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
  busy_changed (self, +1);
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

  busy_changed (self, -1);
  if (self->window == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (status == NULL)
    {
      if (!handle_auth_error (self, error))
        tke_window_add_toast (self->window, error->message);
      return;
    }
  if (self->rotation != NULL)
    return; /* a rotation runs: its dialog shows the status */

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

static void
advise (TkeSession *self)
{
  busy_changed (self, +1);
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

  busy_changed (self, -1);
  if (self->window == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (instance == NULL)
    {
      if (g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED))
        explain_root_changed (self, error);
      else if (!handle_auth_error (self, error))
        tke_crypto_units_page_set_state (tke_window_get_units_page (self->window),
                                         TKE_CRYPTO_UNITS_PAGE_ERROR, error->message);
      return;
    }
  g_set_object (&self->instance, instance);
  apply_selection (self, tke_service_instance_get_units (instance));
  tke_window_set_login_state (self->window, TKE_LOGIN_STATE_LOGGED_IN,
                              tke_service_instance_get_id (instance));
  tke_window_set_units (self->window, tke_service_instance_get_units (instance));
  advise (self);
}

static void
list_units (TkeSession *self)
{
  if (self->window != NULL && self->instance == NULL)
    tke_crypto_units_page_set_state (tke_window_get_units_page (self->window),
                                     TKE_CRYPTO_UNITS_PAGE_LOADING, NULL);
  busy_changed (self, +1);
  tke_service_client_list_units_async (self->client, self->cancellable, on_units_listed,
                                       g_object_ref (self));
}

static void
on_units_refreshed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSession) self = user_data;
  g_autoptr (GError) error = NULL;

  busy_changed (self, -1);
  if (self->window == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!tke_service_client_refresh_units_finish (TKE_SERVICE_CLIENT (source), result, &error))
    {
      if (g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED))
        explain_root_changed (self, error);
      else if (!handle_auth_error (self, error))
        tke_window_add_toast (self->window, error->message);
      return;
    }
  advise (self);
}

void
tke_session_refresh (TkeSession *self)
{
  g_return_if_fail (TKE_IS_SESSION (self));

  if (self->client == NULL)
    return;
  if (self->instance == NULL)
    {
      list_units (self);
      return;
    }
  busy_changed (self, +1);
  tke_service_client_refresh_units_async (
      self->client, tke_service_instance_get_units (self->instance), self->cancellable,
      on_units_refreshed, g_object_ref (self));
}

/* ---- Logging in ---- */

typedef struct
{
  TkeSession *session;
  TkeLoginDialog *dialog; /* weak */
  TkeSecret *api_key;
  gboolean logged_in; /* the service took the key */
  gboolean finished;  /* … and the unit root held */
} Login;

/* A log-in the unit root stopped (not confirmed, or refused) leaves no
 * token behind; a refused key leaves the one before as it was. */
static void
login_free (Login *login)
{
  if (login->logged_in && !login->finished && login->session->client != NULL)
    tke_service_client_set_token (login->session->client, NULL);
  g_clear_weak_pointer (&login->dialog);
  g_clear_pointer (&login->api_key, tke_secret_unref);
  g_clear_object (&login->session);
  g_free (login);
}

/* The key goes to the keyring after it worked, from a worker: libsecret's
 * store blocks. */
static void
store_key_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Login *login = task_data;
  g_autoptr (GError) error = NULL;

  if (!tke_credentials_store (TKE_CREDENTIAL_API_KEY,
                              tke_service_client_get_endpoint (login->session->client),
                              login->api_key, cancellable, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_key_stored (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  TkeSession *self = TKE_SESSION (source);

  busy_changed (self, -1);
  if (!g_task_propagate_boolean (G_TASK (result), &error) && self->window != NULL &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *text = g_strdup_printf (
          _ ("Logged in, but the API key could not be kept in the keyring: %s"), error->message);
      tke_window_add_toast (self->window, text);
    }
}

/* The log-in and the unit root held: close the dialog, keep the key, read
 * the units. */
static void
finish_login (Login *login)
{
  TkeSession *self = login->session;

  login->finished = TRUE;
  if (login->dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (login->dialog));
  if (self->window != NULL)
    {
      tke_window_set_login_state (
          self->window, TKE_LOGIN_STATE_LOGGED_IN,
          self->instance != NULL ? tke_service_instance_get_id (self->instance) : NULL);
      tke_window_add_toast (self->window, _ ("Logged in"));
    }
  {
    g_autoptr (GTask) task = g_task_new (self, self->cancellable, on_key_stored, NULL);

    busy_changed (self, +1);
    g_task_set_task_data (task, login, (GDestroyNotify) login_free);
    g_task_run_in_thread (task, store_key_thread);
  }
  tke_session_refresh (self);
}

/* Not logged in after all: the key is not kept (nor, once the Login goes,
 * the token), and the units page says why. */
static void
stay_logged_out (TkeSession *self, const char *message)
{
  if (self->window == NULL)
    return;
  tke_window_set_login_state (self->window, TKE_LOGIN_STATE_LOGGED_OUT, NULL);
  g_clear_object (&self->instance);
  tke_window_set_units (self->window, NULL);
  tke_crypto_units_page_set_state (tke_window_get_units_page (self->window),
                                   TKE_CRYPTO_UNITS_PAGE_NOT_LOGGED_IN, message);
}

static gboolean
pin_unit_root (TkeSession *self, const char *root, TkeLoginDialog *dialog)
{
  g_autoptr (GError) error = NULL;

  tke_workstation_set_unit_root (self->workstation, root);
  if (!tke_workstation_save (self->workstation, &error))
    {
      g_autofree char *text = g_strdup_printf (
          _ ("The unit root cannot be pinned in the workstation profile: %s"), error->message);

      tke_workstation_set_unit_root (self->workstation, NULL);
      stay_logged_out (self, text);
      if (dialog != NULL)
        gtk_window_destroy (GTK_WINDOW (dialog));
      return FALSE;
    }
  tke_service_client_set_unit_root (self->client, root);
  return TRUE;
}

/* The dialog holds the Login while it asks; whichever answer comes takes it. */
static Login *
take_login (TkeLoginDialog *dialog)
{
  return g_object_steal_data (G_OBJECT (dialog), "tke-login");
}

static void
on_unit_root_confirmed (TkeLoginDialog *dialog, const char *root, gpointer user_data)
{
  Login *login = take_login (dialog);

  if (login == NULL)
    return;
  if (!pin_unit_root (login->session, root, dialog))
    {
      login_free (login);
      return;
    }
  finish_login (login);
}

static void
on_unit_root_cancelled (TkeLoginDialog *dialog, gpointer user_data)
{
  Login *login = take_login (dialog);

  if (login == NULL)
    return;
  stay_logged_out (login->session,
                   _ ("The unit root was not confirmed, so nothing was pinned and you are not "
                      "logged in. Log in again when you can compare its fingerprint with the one "
                      "your security officer gave you."));
  login_free (login);
}

static TkeLoginDialog *
dialog_for (Login *login)
{
  TkeSession *self = login->session;

  if (login->dialog == NULL && self->window != NULL)
    {
      GtkWindow *parent = tke_window_get_ceremony_window (self->window);
      TkeLoginDialog *dialog =
          tke_login_dialog_new (parent != NULL ? parent : GTK_WINDOW (self->window),
                                tke_service_client_get_endpoint (self->client));

      g_set_weak_pointer (&login->dialog, dialog);
      gtk_window_present (GTK_WINDOW (dialog));
    }
  if (login->dialog != NULL)
    {
      g_object_set_data_full (G_OBJECT (login->dialog), "tke-login", login,
                              (GDestroyNotify) login_free);
      g_signal_connect (login->dialog, "unit-root-confirmed", G_CALLBACK (on_unit_root_confirmed),
                        NULL);
      g_signal_connect (login->dialog, "unit-root-cancelled", G_CALLBACK (on_unit_root_cancelled),
                        NULL);
    }
  else
    {
      login_free (login);
      return NULL;
    }
  return login->dialog;
}

/* libtke decides what the service's unit root means (tke_unit_root_decide);
 * the dialog asks the person when it takes one. */
static void
on_unit_root_fetched (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Login *login = user_data;
  TkeSession *self = login->session;
  g_autoptr (GError) error = NULL;
  g_autofree char *service = NULL;
  const char *pinned = tke_workstation_get_unit_root (self->workstation);
  TkeLoginDialog *dialog;

  busy_changed (self, -1);
  service = tke_service_client_fetch_unit_root_finish (TKE_SERVICE_CLIENT (source), result, &error);
  /* Nothing known, so nothing to trust: like a failed log-in. */
  if (service == NULL || self->window == NULL)
    {
      if (self->window != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          tke_window_set_login_state (self->window, TKE_LOGIN_STATE_LOGGED_OUT, NULL);
          if (login->dialog != NULL)
            tke_login_dialog_set_error (login->dialog, error->message);
          else
            tke_window_add_toast (self->window, error->message);
        }
      login_free (login);
      return;
    }
  switch (tke_unit_root_decide (pinned, service, NULL, &error))
    {
    case TKE_UNIT_ROOT_PINNED:
    case TKE_UNIT_ROOT_GIVEN_MATCHES:
      finish_login (login);
      break;
    case TKE_UNIT_ROOT_ASK:
      if ((dialog = dialog_for (login)) != NULL)
        tke_login_dialog_ask_unit_root (dialog, service);
      break;
    case TKE_UNIT_ROOT_REFUSED:
    default:
      stay_logged_out (self, error->message);
      if (login->dialog != NULL)
        tke_login_dialog_set_error (login->dialog, error->message);
      login_free (login);
      break;
    }
}

/* ---- A changed unit root: refused loudly, replaced only deliberately ---- */

typedef struct
{
  TkeSession *session;
  char *message; /* libtke's refusal */
} RootChange;

static void
root_change_free (RootChange *change)
{
  g_clear_object (&change->session);
  g_free (change->message);
  g_free (change);
}

/* The person replaced the pin after the destructive confirmation. */
static void
on_root_replaced (TkeLoginDialog *dialog, const char *root, TkeSession *self)
{
  if (!pin_unit_root (self, root, dialog))
    return;
  g_object_set_data (G_OBJECT (dialog), "tke-replaced", GINT_TO_POINTER (TRUE));
  gtk_window_destroy (GTK_WINDOW (dialog));
  if (self->window != NULL)
    tke_window_set_login_state (self->window, TKE_LOGIN_STATE_LOGGING_IN, NULL);
  list_units (self);
}

/* Closed without replacing: the token goes too. */
static void
on_changed_dialog_destroyed (TkeLoginDialog *dialog, TkeSession *self)
{
  if (g_object_get_data (G_OBJECT (dialog), "tke-replaced") == NULL && self->client != NULL)
    tke_service_client_set_token (self->client, NULL);
}

static void
on_changed_root_fetched (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RootChange *change = user_data;
  TkeSession *self = change->session;
  g_autoptr (GError) error = NULL;
  g_autofree char *service =
      tke_service_client_fetch_unit_root_finish (TKE_SERVICE_CLIENT (source), result, &error);
  const char *pinned = tke_workstation_get_unit_root (self->workstation);
  GtkWindow *parent;
  TkeLoginDialog *dialog;

  busy_changed (self, -1);
  if (self->window == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return root_change_free (change);
  /* The service names the pinned root, or none: its units are refused all
   * the same, and nothing is offered to pin. */
  if (service == NULL || pinned == NULL ||
      tke_unit_root_decide (pinned, service, NULL, &error) != TKE_UNIT_ROOT_REFUSED)
    {
      stay_logged_out (self, change->message);
      tke_service_client_set_token (self->client, NULL);
      return root_change_free (change);
    }
  stay_logged_out (self, error->message);
  parent = tke_window_get_ceremony_window (self->window);
  dialog = tke_login_dialog_new (parent != NULL ? parent : GTK_WINDOW (self->window),
                                 tke_service_client_get_endpoint (self->client));
  g_signal_connect_object (dialog, "unit-root-replace", G_CALLBACK (on_root_replaced), self, 0);
  g_signal_connect_object (dialog, "destroy", G_CALLBACK (on_changed_dialog_destroyed), self, 0);
  tke_login_dialog_show_unit_root_changed (dialog, pinned, service);
  gtk_window_present (GTK_WINDOW (dialog));
  root_change_free (change);
}

/* libtke refused the units' answers: they are certified by another root
 * than the pinned one.  The dialog shows both fingerprints. */
static void
explain_root_changed (TkeSession *self, const GError *error)
{
  RootChange *change = g_new0 (RootChange, 1);

  change->session = g_object_ref (self);
  change->message = g_strdup (error->message);
  busy_changed (self, +1);
  tke_service_client_fetch_unit_root_async (self->client, self->cancellable,
                                            on_changed_root_fetched, change);
}

static void
on_logged_in (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Login *login = user_data;
  TkeSession *self = login->session;
  g_autoptr (GError) error = NULL;

  busy_changed (self, -1);
  if (!tke_service_client_login_finish (TKE_SERVICE_CLIENT (source), result, &error))
    {
      if (self->window != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          tke_window_set_login_state (self->window, TKE_LOGIN_STATE_LOGGED_OUT, NULL);
          if (login->dialog != NULL)
            tke_login_dialog_set_error (login->dialog, error->message);
        }
      login_free (login);
      return;
    }
  login->logged_in = TRUE;
  /* With a root pinned, libtke verifies every unit answer against it (a
   * changed root is explained when the listing refuses it); first contact
   * asks the person to confirm the root the service names. */
  if (tke_workstation_get_unit_root (self->workstation) != NULL &&
      *tke_workstation_get_unit_root (self->workstation) != '\0')
    {
      finish_login (login);
      return;
    }
  busy_changed (self, +1);
  tke_service_client_fetch_unit_root_async (self->client, self->cancellable, on_unit_root_fetched,
                                            login);
}

static void
log_in (TkeSession *self, TkeSecret *api_key, TkeLoginDialog *dialog)
{
  Login *login = g_new0 (Login, 1);

  login->session = g_object_ref (self);
  login->api_key = api_key;
  g_set_weak_pointer (&login->dialog, dialog);
  busy_changed (self, +1);
  tke_service_client_login_async (self->client, api_key, self->cancellable, on_logged_in, login);
}

static void
on_log_in (TkeWindow *window, const char *api_key, GtkWindow *dialog, TkeSession *self)
{
  if (self->client == NULL)
    {
      tke_login_dialog_set_error (TKE_LOGIN_DIALOG (dialog),
                                  _ ("No service endpoint is set in the workstation profile. Set "
                                     "one with “tke profile”, or start the demo."));
      return;
    }
  log_in (self, tke_secret_new_from_data ((const guint8 *) api_key, strlen (api_key)),
          TKE_LOGIN_DIALOG (dialog));
}

/* At start: the key from the keyring, if one is kept for this service. */
static void
on_key_found (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSession) self = user_data;
  g_autoptr (GError) error = NULL;
  TkeSecret *api_key = tke_credentials_lookup_finish (result, &error);

  busy_changed (self, -1);
  if (self->window == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_pointer (&api_key, tke_secret_unref);
      return;
    }
  /* The person may have logged in by hand meanwhile: leave that alone. */
  if (tke_window_get_login_state (self->window) != TKE_LOGIN_STATE_LOGGED_OUT)
    {
      g_clear_pointer (&api_key, tke_secret_unref);
      return;
    }
  if (api_key == NULL)
    return;
  tke_window_set_login_state (self->window, TKE_LOGIN_STATE_LOGGING_IN, NULL);
  log_in (self, api_key, NULL);
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
    tke_audit_trail_end_rotation (self->trail, rotation, error);
  busy_changed (self, -1);
  self->rotation = NULL; /* the reference is this function's */
  g_clear_object (&self->signer);
  if (self->window == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (self->rotation_dialog != NULL)
    {
      status = tke_rotation_get_status (rotation);
      if (ok)
        tke_rotation_dialog_finish (
            self->rotation_dialog, NULL,
            _ ("The new master key is current on every selected crypto unit."));
      else if (handle_auth_error (self, error))
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

static void
on_rotation_dialog_gone (gpointer data, GObject *where)
{
  TkeSession *self = data;

  /* The rotation's end read the units again already. */
  if (self->window != NULL)
    tke_master_keys_page_set_busy (tke_window_get_master_keys_page (self->window), FALSE);
}

/* Rotate (or recover: the advisor's one safe action) with the rotation's
 * journal in the workstation's usual place, as the CLI keeps it, and an
 * administrator card in reader 1 for set immediate. */
static void
rotate (TkeSession *self, TkeRotationDialog *dialog, GListModel *units, gboolean recover)
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
    g_object_weak_unref (G_OBJECT (self->rotation_dialog), on_rotation_dialog_gone, self);
  g_set_weak_pointer (&self->rotation_dialog, dialog);
  g_object_weak_ref (G_OBJECT (dialog), on_rotation_dialog_gone, self);
  tke_master_keys_page_set_busy (tke_window_get_master_keys_page (self->window), TRUE);
  tke_window_set_recovery (self->window, TKE_RECOVERY_ACTION_NONE, NULL);

  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    g_ptr_array_add (selected, g_list_model_get_item (units, i));
  self->rotation = tke_rotation_new (self->client, self->instance, selected);
  tke_rotation_set_journal (self->rotation, journal);
  if (tke_card_ceremony_signing_service_url () != NULL)
    {
      /* The signing service's first key signs set immediate, as in the
       * other ceremonies: no card, no PIN. */
      g_clear_pointer (&signers, g_ptr_array_unref);
      signers = tke_card_ceremony_new_service_signers (1, &error);
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
  /* No rotation runs unrecorded. */
  if (!tke_audit_trail_begin_rotation (self->trail, self->rotation, recover ? "recover" : "rotate",
                                       &error))
    {
      tke_rotation_dialog_finish (dialog, error->message, NULL);
      g_clear_object (&self->rotation);
      g_clear_object (&self->signer);
      tke_master_keys_page_set_busy (tke_window_get_master_keys_page (self->window), FALSE);
      return;
    }
  busy_changed (self, +1);
  if (recover)
    tke_rotation_recover_async (self->rotation, self->cancellable, on_rotation_done,
                                g_object_ref (self));
  else
    tke_rotation_run_async (self->rotation, self->cancellable, on_rotation_done,
                            g_object_ref (self));
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
  tke_master_keys_page_set_busy (tke_window_get_master_keys_page (self->window), FALSE);
  if (!success)
    tke_session_refresh (self);
  else if (kind == TKE_CEREMONY_SET_IMMEDIATE)
    advise (self);
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
  /* The wizard owns its ceremony: closing it ends the ceremony. */
  g_object_set_data_full (G_OBJECT (wizard), "tke-card-ceremony", ceremony, g_object_unref);
  g_signal_connect_object (ceremony, "finished", G_CALLBACK (on_card_ceremony_finished), self, 0);
  tke_master_keys_page_set_busy (tke_window_get_master_keys_page (self->window), TRUE);
  tke_card_ceremony_start (ceremony);
}

static void
on_ceremony (
    TkeWindow *window, TkeCeremonyKind kind, GListModel *units, GtkWindow *dialog, TkeSession *self)
{
  if (kind == TKE_CEREMONY_ROTATE && TKE_IS_ROTATION_DIALOG (dialog))
    rotate (self, TKE_ROTATION_DIALOG (dialog), units, FALSE);
  else if (kind != TKE_CEREMONY_ROTATE && TKE_IS_LOAD_WIZARD (dialog))
    run_card_ceremony (self, kind, units, TKE_LOAD_WIZARD (dialog));
  else
    g_return_if_reached ();
}

static void
on_recover (TkeWindow *window, GListModel *units, GtkWindow *dialog, TkeSession *self)
{
  g_return_if_fail (TKE_IS_ROTATION_DIALOG (dialog));
  rotate (self, TKE_ROTATION_DIALOG (dialog), units, TRUE);
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
  busy_changed (self, +1);
  tke_credentials_lookup_async (TKE_CREDENTIAL_API_KEY, endpoint, self->cancellable, on_key_found,
                                g_object_ref (self));
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
  g_signal_connect_object (window, "log-in", G_CALLBACK (on_log_in), self, 0);
  g_signal_connect_object (window, "refresh", G_CALLBACK (on_refresh), self, 0);
  if (self->client != NULL)
    {
      g_signal_connect_object (window, "ceremony", G_CALLBACK (on_ceremony), self, 0);
      g_signal_connect_object (window, "recover", G_CALLBACK (on_recover), self, 0);
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
  g_clear_object (&self->signer);
  g_clear_object (&self->trail);
  if (self->rotation_dialog != NULL)
    g_object_weak_unref (G_OBJECT (self->rotation_dialog), on_rotation_dialog_gone, self);
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
  g_autofree char *trail = tke_audit_trail_get_default_path ();

  self->cancellable = g_cancellable_new ();
  self->trail = tke_audit_trail_new (trail);
}
