/* tke-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define TKE_TYPE_APPLICATION (tke_application_get_type ())

G_DECLARE_FINAL_TYPE (TkeApplication, tke_application, TKE, APPLICATION, AdwApplication)

TkeApplication *tke_application_new (void);
char *tke_application_get_locale_dir (void);
void tke_application_init_i18n (void);

typedef struct _TkeWindow TkeWindow;
TkeWindow *tke_application_open_window (TkeApplication *self);

G_END_DECLS
