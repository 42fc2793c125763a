/* tke-login-dialog.c: log in to the service with an API key
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The key goes straight from the entry to ::log-in (libtke exchanges it
 * for a token and keeps it in libsecret); the dialog keeps no copy and
 * empties the entry once it is sent.
 *
 * After the log-in the dialog also shows libtke's verdict on the unit root
 * the service names (tke_unit_root_decide()): on first contact its
 * fingerprint, for the person to compare with the security officer's and
 * confirm (or a root file instead); a changed root, refused, with both
 * fingerprints and the separate, destructive way to replace the pin.  The
 * dialog only asks; the session pins.
 */

#include "config.h"

#include <glib/gi18n.h>

#include <tke.h>

#include "tke-login-dialog.h"

struct _TkeLoginDialog
{
  AdwWindow parent_instance;

  GtkStack *stack;
  GtkWidget *cancel_button;
  GtkWidget *log_in_button;
  AdwPreferencesGroup *group;
  AdwPasswordEntryRow *api_key_row;
  GtkSpinner *spinner;
  GtkLabel *error_label;
  GtkLabel *fingerprint_label;
  GtkLabel *confirm_error_label;
  GtkLabel *pinned_label;
  GtkLabel *service_label;
  GtkWidget *root_cancel_button;
  GtkWidget *close_button;

  char *service_root;               /* the root the service names, 266 hex */
  char *pinned_root;                /* on the "changed" page: the pinned one */
  gboolean answered;                /* the confirm page got its Confirm or Cancel */
  AdwMessageDialog *replace_dialog; /* weak */
};

G_DEFINE_FINAL_TYPE (TkeLoginDialog, tke_login_dialog, ADW_TYPE_WINDOW)

enum
{
  SIGNAL_LOG_IN,
  SIGNAL_UNIT_ROOT_CONFIRMED,
  SIGNAL_UNIT_ROOT_CANCELLED,
  SIGNAL_UNIT_ROOT_REPLACE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

TkeLoginDialog *
tke_login_dialog_new (GtkWindow *parent, const char *endpoint)
{
  TkeLoginDialog *self = g_object_new (TKE_TYPE_LOGIN_DIALOG, "transient-for", parent, NULL);

  if (endpoint != NULL)
    {
      /* Translators: "Service: https://127.0.0.1:8443" */
      g_autofree char *title = g_strdup_printf (_ ("Service: %s"), endpoint);
      adw_preferences_group_set_title (self->group, title);
    }
  return self;
}

void
tke_login_dialog_set_busy (TkeLoginDialog *self, gboolean busy)
{
  g_return_if_fail (TKE_IS_LOGIN_DIALOG (self));

  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "login.submit", !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->api_key_row), !busy);
}

void
tke_login_dialog_set_error (TkeLoginDialog *self, const char *message)
{
  g_return_if_fail (TKE_IS_LOGIN_DIALOG (self));

  tke_login_dialog_set_busy (self, FALSE);
  gtk_label_set_text (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

const char *
tke_login_dialog_get_error (TkeLoginDialog *self)
{
  g_return_val_if_fail (TKE_IS_LOGIN_DIALOG (self), NULL);
  return gtk_widget_get_visible (GTK_WIDGET (self->error_label))
             ? gtk_label_get_text (self->error_label)
             : NULL;
}

/* Only the API key page has the header's Cancel and Log In: the other pages
 * ask their own question with their own buttons. */
static void
show_page (TkeLoginDialog *self, const char *name, const char *title)
{
  gboolean key_page = g_str_equal (name, "key");

  gtk_stack_set_visible_child_name (self->stack, name);
  gtk_widget_set_visible (self->cancel_button, key_page);
  gtk_widget_set_visible (self->log_in_button, key_page);
  gtk_window_set_title (GTK_WINDOW (self), title);
}

const char *
tke_login_dialog_get_page (TkeLoginDialog *self)
{
  g_return_val_if_fail (TKE_IS_LOGIN_DIALOG (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}

void
tke_login_dialog_ask_unit_root (TkeLoginDialog *self, const char *service_root)
{
  g_autofree char *text = NULL;

  g_return_if_fail (TKE_IS_LOGIN_DIALOG (self));
  g_return_if_fail (service_root != NULL);

  g_free (self->service_root);
  self->service_root = g_strdup (service_root);
  self->answered = FALSE;
  text = tke_unit_root_hex_fingerprint (service_root);
  gtk_label_set_text (self->fingerprint_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->confirm_error_label), FALSE);
  show_page (self, "confirm", _ ("Confirm Unit Root"));
  /* Enter must not confirm what nobody compared. */
  gtk_widget_grab_focus (self->root_cancel_button);
}

void
tke_login_dialog_show_unit_root_changed (TkeLoginDialog *self,
                                         const char *pinned_root,
                                         const char *service_root)
{
  g_autofree char *pinned = NULL;
  g_autofree char *service = NULL;

  g_return_if_fail (TKE_IS_LOGIN_DIALOG (self));
  g_return_if_fail (pinned_root != NULL && service_root != NULL);

  g_free (self->service_root);
  self->service_root = g_strdup (service_root);
  g_free (self->pinned_root);
  self->pinned_root = g_strdup (pinned_root);
  self->answered = TRUE;
  pinned = tke_unit_root_hex_fingerprint (pinned_root);
  service = tke_unit_root_hex_fingerprint (service_root);
  gtk_label_set_text (self->pinned_label, pinned);
  gtk_label_set_text (self->service_label, service);
  show_page (self, "changed", _ ("Unit Root Changed"));
  gtk_widget_grab_focus (self->close_button);
}

const char *
tke_login_dialog_get_confirm_error (TkeLoginDialog *self)
{
  g_return_val_if_fail (TKE_IS_LOGIN_DIALOG (self), NULL);
  return gtk_widget_get_visible (GTK_WIDGET (self->confirm_error_label))
             ? gtk_label_get_text (self->confirm_error_label)
             : NULL;
}

static void
confirm_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeLoginDialog *self = TKE_LOGIN_DIALOG (widget);

  if (self->answered || self->service_root == NULL)
    return;
  self->answered = TRUE;
  g_signal_emit (self, signals[SIGNAL_UNIT_ROOT_CONFIRMED], 0, self->service_root);
}

static void
cancel_root_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeLoginDialog *self = TKE_LOGIN_DIALOG (widget);

  if (!self->answered)
    {
      self->answered = TRUE;
      g_signal_emit (self, signals[SIGNAL_UNIT_ROOT_CANCELLED], 0);
    }
  gtk_window_destroy (GTK_WINDOW (self));
}

gboolean
tke_login_dialog_use_unit_root_file (TkeLoginDialog *self, GFile *file)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GBytes) point = NULL;
  g_autofree char *given = NULL;

  g_return_val_if_fail (TKE_IS_LOGIN_DIALOG (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  if (self->answered || self->service_root == NULL)
    return FALSE;
  path = g_file_get_path (file);
  if (path == NULL)
    g_set_error_literal (&error, TKE_ERROR, TKE_ERROR_IO,
                         _ ("The unit root file must be a local file."));
  else if ((point = tke_unit_root_load_file (path, &error)) != NULL)
    {
      given = tke_crypto_hex_encode (g_bytes_get_data (point, NULL), g_bytes_get_size (point));
      tke_unit_root_decide (NULL, self->service_root, given, &error);
    }
  if (error != NULL)
    {
      gtk_label_set_text (self->confirm_error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->confirm_error_label), TRUE);
      return FALSE;
    }
  self->answered = TRUE;
  g_signal_emit (self, signals[SIGNAL_UNIT_ROOT_CONFIRMED], 0, self->service_root);
  return TRUE;
}

static void
on_file_chosen (GtkNativeDialog *chooser, int response, TkeLoginDialog *self)
{
  g_autoptr (GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
  if (file != NULL)
    tke_login_dialog_use_unit_root_file (self, file);
}

static void
choose_file_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeLoginDialog *self = TKE_LOGIN_DIALOG (widget);
  GtkFileChooserNative *chooser =
      gtk_file_chooser_native_new (_ ("Unit Root Certificate"), GTK_WINDOW (self),
                                   GTK_FILE_CHOOSER_ACTION_OPEN, _ ("_Use"), _ ("_Cancel"));

  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect_object (chooser, "response", G_CALLBACK (on_file_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static gboolean
emit_replace (gpointer data)
{
  TkeLoginDialog *self = data;

  if (self->service_root != NULL)
    g_signal_emit (self, signals[SIGNAL_UNIT_ROOT_REPLACE], 0, self->service_root);
  return G_SOURCE_REMOVE;
}

/* The answer may close this dialog, the question's parent: it waits until
 * the question is gone. */
static void
on_replace_response (AdwMessageDialog *dialog, const char *response, TkeLoginDialog *self)
{
  if (g_str_equal (response, "replace"))
    g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, emit_replace, g_object_ref (self), g_object_unref);
}

AdwMessageDialog *
tke_login_dialog_get_replace_dialog (TkeLoginDialog *self)
{
  g_return_val_if_fail (TKE_IS_LOGIN_DIALOG (self), NULL);
  return self->replace_dialog;
}

/* Re-pinning is its own deliberate step, destructive in look, Cancel by
 * default, with both fingerprints once more. */
static void
replace_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeLoginDialog *self = TKE_LOGIN_DIALOG (widget);
  g_autofree char *pinned = NULL;
  g_autofree char *service = NULL;
  g_autofree char *body = NULL;
  AdwMessageDialog *dialog;

  if (self->service_root == NULL || self->pinned_root == NULL)
    return;
  pinned = tke_unit_root_hex_fingerprint (self->pinned_root);
  service = tke_unit_root_hex_fingerprint (self->service_root);
  body = g_markup_printf_escaped (
      _ ("From now on every crypto unit answer is verified against the service's new unit root. "
         "Replace the pinned root only if your security officer confirmed this fingerprint:"
         "\n\n<tt>%s</tt>\n\nThe root pinned until now:\n\n<tt>%s</tt>"),
      service, pinned);
  dialog = ADW_MESSAGE_DIALOG (
      adw_message_dialog_new (GTK_WINDOW (self), _ ("Replace the Pinned Unit Root?"), NULL));
  adw_message_dialog_set_body_use_markup (dialog, TRUE);
  adw_message_dialog_set_body (dialog, body);
  adw_message_dialog_add_responses (dialog, "cancel", _ ("_Cancel"), "replace",
                                    _ ("_Replace Pinned Root"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "replace", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_replace_response), self, 0);
  g_set_weak_pointer (&self->replace_dialog, dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Closing the window on the confirm page is a Cancel: nothing is pinned. */
static gboolean
on_close_request (GtkWindow *window)
{
  TkeLoginDialog *self = TKE_LOGIN_DIALOG (window);

  if (!self->answered && self->service_root != NULL)
    {
      self->answered = TRUE;
      g_signal_emit (self, signals[SIGNAL_UNIT_ROOT_CANCELLED], 0);
    }
  return FALSE;
}

static void
submit_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeLoginDialog *self = TKE_LOGIN_DIALOG (widget);
  const char *key = gtk_editable_get_text (GTK_EDITABLE (self->api_key_row));

  if (key == NULL || *key == '\0')
    {
      tke_login_dialog_set_error (self, _ ("Enter the API key of your service ID."));
      return;
    }
  tke_login_dialog_set_error (self, NULL);
  tke_login_dialog_set_busy (self, TRUE);
  g_signal_emit (self, signals[SIGNAL_LOG_IN], 0, key);
  gtk_editable_set_text (GTK_EDITABLE (self->api_key_row), "");
}

static void
on_entry_activated (TkeLoginDialog *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "login.submit", NULL);
}

static void
tke_login_dialog_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), TKE_TYPE_LOGIN_DIALOG);
  G_OBJECT_CLASS (tke_login_dialog_parent_class)->dispose (object);
}

static void
tke_login_dialog_finalize (GObject *object)
{
  TkeLoginDialog *self = TKE_LOGIN_DIALOG (object);

  g_clear_weak_pointer (&self->replace_dialog);
  g_free (self->service_root);
  g_free (self->pinned_root);
  G_OBJECT_CLASS (tke_login_dialog_parent_class)->finalize (object);
}

static void
tke_login_dialog_class_init (TkeLoginDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = tke_login_dialog_dispose;
  G_OBJECT_CLASS (klass)->finalize = tke_login_dialog_finalize;
  GTK_WINDOW_CLASS (klass)->close_request = on_close_request;

  /**
   * TkeLoginDialog::log-in:
   * @api_key: the key typed; hand it to libtke and keep no copy
   */
  signals[SIGNAL_LOG_IN] = g_signal_new ("log-in", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * TkeLoginDialog::unit-root-confirmed:
   * @root: the service's unit root (266 hex) the person confirmed, or
   *   whose root file matched it: pin it
   */
  signals[SIGNAL_UNIT_ROOT_CONFIRMED] =
      g_signal_new ("unit-root-confirmed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * TkeLoginDialog::unit-root-cancelled:
   *
   * The person did not confirm the unit root: pin nothing, stay logged out.
   */
  signals[SIGNAL_UNIT_ROOT_CANCELLED] =
      g_signal_new ("unit-root-cancelled", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 0);
  /**
   * TkeLoginDialog::unit-root-replace:
   * @root: the service's new unit root (266 hex)
   *
   * The person deliberately replaces the pinned root by the service's,
   * after the destructive confirmation.
   */
  signals[SIGNAL_UNIT_ROOT_REPLACE] =
      g_signal_new ("unit-root-replace", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/tke-login-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, stack);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, log_in_button);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, fingerprint_label);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, confirm_error_label);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, pinned_label);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, service_label);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, root_cancel_button);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, close_button);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, group);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, api_key_row);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, error_label);
  gtk_widget_class_bind_template_callback (widget_class, on_entry_activated);
  gtk_widget_class_install_action (widget_class, "login.submit", NULL, submit_action);
  gtk_widget_class_install_action (widget_class, "unit-root.confirm", NULL, confirm_action);
  gtk_widget_class_install_action (widget_class, "unit-root.cancel", NULL, cancel_root_action);
  gtk_widget_class_install_action (widget_class, "unit-root.choose-file", NULL, choose_file_action);
  gtk_widget_class_install_action (widget_class, "unit-root.replace", NULL, replace_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
tke_login_dialog_init (TkeLoginDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  tke_login_dialog_set_busy (self, FALSE);
}
