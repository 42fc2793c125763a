/* tke-session-private.h: what the files of TkeSession share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * TkeSession spans tke-session.c (readers, units, recovery, rotation, the
 * card ceremonies, its life cycle) and tke-session-login.c (logging in and
 * the unit root).
 */

#pragma once

#include "tke-prompted-signer.h"
#include "tke-rotation-dialog.h"
#include "tke-session.h"

G_BEGIN_DECLS

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
  TkePromptedSigner *signer2; /* reader 2's, when two administrators sign */
  TkeAuditTrail *trail;       /* the ceremony record */

  /* The recovery-unit path (tke-session-auto.c). */
  TkeAutoCeremony *auto_ceremony; /* while one runs */
  GCancellable *auto_cancellable;
  gboolean auto_rotate_failed; /* before the delay: auto-mk-rotate may run again */
};

void _tke_session_busy_changed (TkeSession *self, int delta);
void _tke_session_list_units (TkeSession *self);
void _tke_session_explain_root_changed (TkeSession *self, const GError *error);
void _tke_session_on_log_in (TkeWindow *window,
                             const char *api_key,
                             GtkWindow *dialog,
                             TkeSession *self);
void _tke_session_rotate (TkeSession *self,
                          TkeRotationDialog *dialog,
                          GListModel *units,
                          gboolean recover,
                          GPtrArray *given);
void _tke_session_on_rotation_dialog_gone (gpointer data, GObject *where);
gboolean _tke_session_handle_auth_error (TkeSession *self, const GError *error);
void _tke_session_advise (TkeSession *self);
/* tke-session-auto.c */
void _tke_session_on_auto (
    TkeWindow *window, int kind, GtkWindow *dialog, guint n_admins, TkeSession *self);
gboolean _tke_session_advise_auto (TkeSession *self, TkeRotationStatus *status);
void _tke_session_on_key_found (GObject *source, GAsyncResult *result, gpointer user_data);

G_END_DECLS
