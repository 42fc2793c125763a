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

G_END_DECLS
