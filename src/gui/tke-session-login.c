/* tke-session-login.c: logging in, and the unit root it must hold
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The API key goes to the service; a first unit root is shown for a
 * person to confirm before anything is pinned; a changed one is refused
 * loudly and replaced only deliberately (libtke's tke_unit_root_decide()).
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-login-dialog.h"
#include "tke-session-private.h"
#include "tke-session.h"

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

  _tke_session_busy_changed (self, -1);
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

    _tke_session_busy_changed (self, +1);
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

  _tke_session_busy_changed (self, -1);
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
  _tke_session_list_units (self);
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

  _tke_session_busy_changed (self, -1);
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
void
_tke_session_explain_root_changed (TkeSession *self, const GError *error)
{
  RootChange *change = g_new0 (RootChange, 1);

  change->session = g_object_ref (self);
  change->message = g_strdup (error->message);
  _tke_session_busy_changed (self, +1);
  tke_service_client_fetch_unit_root_async (self->client, self->cancellable,
                                            on_changed_root_fetched, change);
}

static void
on_logged_in (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Login *login = user_data;
  TkeSession *self = login->session;
  g_autoptr (GError) error = NULL;

  _tke_session_busy_changed (self, -1);
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
  _tke_session_busy_changed (self, +1);
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
  _tke_session_busy_changed (self, +1);
  tke_service_client_login_async (self->client, api_key, self->cancellable, on_logged_in, login);
}

void
_tke_session_on_log_in (TkeWindow *window, const char *api_key, GtkWindow *dialog, TkeSession *self)
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
void
_tke_session_on_key_found (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSession) self = user_data;
  g_autoptr (GError) error = NULL;
  TkeSecret *api_key = tke_credentials_lookup_finish (result, &error);

  _tke_session_busy_changed (self, -1);
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
