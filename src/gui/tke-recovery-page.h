/* tke-recovery-page.h: what to do after a failed rotation, and only that
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>
#include <tke.h>

G_BEGIN_DECLS

#define TKE_TYPE_RECOVERY_PAGE (tke_recovery_page_get_type ())

G_DECLARE_FINAL_TYPE (TkeRecoveryPage, tke_recovery_page, TKE, RECOVERY_PAGE, AdwBin)

GtkWidget *tke_recovery_page_new (void);
void tke_recovery_page_set_advice (TkeRecoveryPage *self,
                                   TkeRecoveryAction action,
                                   const char *explanation,
                                   GListModel *units);
TkeRecoveryAction tke_recovery_page_get_action (TkeRecoveryPage *self);
void tke_recovery_page_set_auto_path (TkeRecoveryPage *self, gboolean auto_path);
gboolean tke_recovery_page_get_auto_path (TkeRecoveryPage *self);
const char *tke_recovery_page_get_button_label (TkeRecoveryPage *self);
const char *tke_recovery_page_get_title (TkeRecoveryPage *self);

G_END_DECLS
