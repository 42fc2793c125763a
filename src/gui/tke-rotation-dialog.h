/* tke-rotation-dialog.h: the modal progress of a master key rotation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>
#include <tke.h>

G_BEGIN_DECLS

#define TKE_TYPE_ROTATION_DIALOG (tke_rotation_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TkeRotationDialog, tke_rotation_dialog, TKE, ROTATION_DIALOG, AdwWindow)

TkeRotationDialog *tke_rotation_dialog_new (GtkWindow *parent);
void tke_rotation_dialog_update (TkeRotationDialog *self,
                                 TkeRotationStatus *status);
void tke_rotation_dialog_set_cancel_safe (TkeRotationDialog *self,
                                          gboolean safe,
                                          const char *reason);
void tke_rotation_dialog_allow_close (TkeRotationDialog *self,
                                      const char *message);
guint tke_rotation_dialog_get_n_messages (TkeRotationDialog *self);
const char *tke_rotation_dialog_get_message (TkeRotationDialog *self,
                                             guint index);
const char *tke_rotation_dialog_get_progress_text (TkeRotationDialog *self);
gboolean tke_rotation_dialog_get_finished (TkeRotationDialog *self);

G_END_DECLS
