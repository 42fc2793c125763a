/* tke-session.h: the application's libtke objects, bound to its window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

#include "tke-window.h"

G_BEGIN_DECLS

#define TKE_TYPE_SESSION (tke_session_get_type ())

G_DECLARE_FINAL_TYPE (TkeSession, tke_session, TKE, SESSION, GObject)

TkeSession *tke_session_new (TkeWindow *window, TkeWorkstation *workstation);
TkeWindow *tke_session_get_window (TkeSession *self);
TkeServiceClient *tke_session_get_client (TkeSession *self);
void tke_session_start (TkeSession *self);
void tke_session_refresh (TkeSession *self);
/* How many service calls and card reads are under way (tests wait for 0). */
guint tke_session_get_busy (TkeSession *self);

G_END_DECLS
