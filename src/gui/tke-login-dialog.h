/* tke-login-dialog.h: log in to the service with an API key
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define TKE_TYPE_LOGIN_DIALOG (tke_login_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TkeLoginDialog, tke_login_dialog, TKE, LOGIN_DIALOG, AdwWindow)

TkeLoginDialog *tke_login_dialog_new (GtkWindow *parent, const char *endpoint);
void tke_login_dialog_set_busy (TkeLoginDialog *self, gboolean busy);
void tke_login_dialog_set_error (TkeLoginDialog *self, const char *message);
const char *tke_login_dialog_get_error (TkeLoginDialog *self);

/* The unit root step after the log-in (libtke decided; the dialog asks). */
void tke_login_dialog_ask_unit_root (TkeLoginDialog *self, const char *service_root);
void tke_login_dialog_show_unit_root_changed (TkeLoginDialog *self,
                                              const char *pinned_root,
                                              const char *service_root);
/* The root certificate file the security officer gave, instead of
 * confirming by eye; FALSE (and the page says why) unless it is the
 * service's root. */
gboolean tke_login_dialog_use_unit_root_file (TkeLoginDialog *self, GFile *file);
/* "key", "confirm" or "changed". */
const char *tke_login_dialog_get_page (TkeLoginDialog *self);
const char *tke_login_dialog_get_confirm_error (TkeLoginDialog *self);
/* The open "Replace the pinned unit root?" question, or NULL. */
AdwMessageDialog *tke_login_dialog_get_replace_dialog (TkeLoginDialog *self);

G_END_DECLS
