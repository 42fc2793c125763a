/* tke-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tke-application.h"

G_BEGIN_DECLS

#define TKE_TYPE_WINDOW (tke_window_get_type ())

G_DECLARE_FINAL_TYPE (TkeWindow, tke_window, TKE, WINDOW, AdwApplicationWindow)

TkeWindow *tke_window_new (TkeApplication *application);

G_END_DECLS
