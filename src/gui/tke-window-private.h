/* tke-window-private.h: what tke-window.c shares with tke-window-questions.c
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
gboolean
_tke_window_emit_auto (TkeWindow *self, TkeAutoKind kind, GtkWindow *dialog, guint n_admins);
void _tke_window_start_ceremony (TkeWindow *self,
                                 TkeCeremonyKind kind,
                                 GListModel *units,
                                 GtkWindow *dialog);
GtkWindow *_tke_window_ceremony_dialog (TkeWindow *self, TkeCeremonyKind kind);

/* tke-window-questions.c */
void _tke_window_confirm_ceremony (TkeWindow *self, TkeCeremonyKind kind, GListModel *units);
void _tke_window_confirm_auto (TkeWindow *self, TkeAutoKind kind);
void _tke_window_start_auto (TkeWindow *self, TkeAutoKind kind, guint n_admins);

G_END_DECLS
