/* tke-window-private.h: what tke-window.c shares with tke-window-auto.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tke-window.h"

G_BEGIN_DECLS

/* tke-window.c */
GtkWindow *_tke_window_new_rotation_dialog (TkeWindow *self);
void _tke_window_present_ceremony (TkeWindow *self, GtkWindow *dialog);
void _tke_window_no_service (TkeWindow *self, GtkWindow *dialog);
AdwMessageDialog *_tke_window_confirmation_dialog_new (TkeWindow *self,
                                                       const char *heading,
                                                       const char *body,
                                                       const char *go,
                                                       AdwResponseAppearance appearance);
gboolean
_tke_window_emit_auto (TkeWindow *self, TkeAutoKind kind, GtkWindow *dialog, guint n_admins);

/* tke-window-auto.c */
void _tke_window_confirm_auto (TkeWindow *self, TkeAutoKind kind);
void _tke_window_start_auto (TkeWindow *self, TkeAutoKind kind, guint n_admins);

G_END_DECLS
