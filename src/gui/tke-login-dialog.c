/* tke-login-dialog.c: log in to the service with an API key
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The key goes straight from the entry to ::log-in (libtke exchanges it
 * for a token and keeps it in libsecret); the dialog keeps no copy and
 * empties the entry once it is sent.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-login-dialog.h"

struct _TkeLoginDialog
{
  AdwWindow parent_instance;

  AdwPreferencesGroup *group;
  AdwPasswordEntryRow *api_key_row;
  GtkSpinner *spinner;
  GtkLabel *error_label;
};

G_DEFINE_FINAL_TYPE (TkeLoginDialog, tke_login_dialog, ADW_TYPE_WINDOW)

enum
{
  SIGNAL_LOG_IN,
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
tke_login_dialog_class_init (TkeLoginDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = tke_login_dialog_dispose;

  /**
   * TkeLoginDialog::log-in:
   * @api_key: the key typed; hand it to libtke and keep no copy
   */
  signals[SIGNAL_LOG_IN] = g_signal_new ("log-in", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/tke-login-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, group);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, api_key_row);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, TkeLoginDialog, error_label);
  gtk_widget_class_bind_template_callback (widget_class, on_entry_activated);
  gtk_widget_class_install_action (widget_class, "login.submit", NULL, submit_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
tke_login_dialog_init (TkeLoginDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  tke_login_dialog_set_busy (self, FALSE);
}
