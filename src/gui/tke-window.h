/* tke-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tke-administrators-page.h"
#include "tke-application.h"
#include "tke-crypto-units-page.h"
#include "tke-history-page.h"
#include "tke-imprint-page.h"
#include "tke-master-keys-page.h"
#include "tke-readers-bar.h"
#include "tke-recovery-page.h"
#include "tke-thresholds-page.h"
#include "tke-smart-card-page.h"

G_BEGIN_DECLS

/**
 * TkeLoginState:
 * @TKE_LOGIN_STATE_LOGGED_OUT: no token
 * @TKE_LOGIN_STATE_LOGGING_IN: exchanging the API key for a token
 * @TKE_LOGIN_STATE_LOGGED_IN: a valid token
 * @TKE_LOGIN_STATE_EXPIRED: the token expired: the banner asks to log in again
 */
typedef enum
{
  TKE_LOGIN_STATE_LOGGED_OUT,
  TKE_LOGIN_STATE_LOGGING_IN,
  TKE_LOGIN_STATE_LOGGED_IN,
  TKE_LOGIN_STATE_EXPIRED,
} TkeLoginState;

#define TKE_TYPE_WINDOW (tke_window_get_type ())

G_DECLARE_FINAL_TYPE (TkeWindow, tke_window, TKE, WINDOW, AdwApplicationWindow)

TkeWindow *tke_window_new (TkeApplication *application);

TkeCryptoUnitsPage *tke_window_get_units_page (TkeWindow *self);
TkeMasterKeysPage *tke_window_get_master_keys_page (TkeWindow *self);
TkeRecoveryPage *tke_window_get_recovery_page (TkeWindow *self);
TkeAdministratorsPage *tke_window_get_administrators_page (TkeWindow *self);
TkeThresholdsPage *tke_window_get_thresholds_page (TkeWindow *self);
TkeImprintPage *tke_window_get_imprint_page (TkeWindow *self);
TkeHistoryPage *tke_window_get_history_page (TkeWindow *self);
const char *tke_window_get_virtual_reader (TkeWindow *self, guint reader);
void tke_window_set_ceremony_busy (TkeWindow *self, gboolean busy);
TkeSmartCardPage *tke_window_get_smart_card_page (TkeWindow *self);
TkeReadersBar *tke_window_get_readers_bar (TkeWindow *self);
GtkPopover *tke_window_get_instance_popover (TkeWindow *self);

void tke_window_set_units (TkeWindow *self, GListModel *units);
void tke_window_set_login_state (TkeWindow *self, TkeLoginState state, const char *instance);
TkeLoginState tke_window_get_login_state (TkeWindow *self);
gboolean tke_window_get_banner_revealed (TkeWindow *self);
const char *tke_window_get_login_text (TkeWindow *self);
void tke_window_set_recovery (TkeWindow *self, TkeRecoveryAction action, const char *explanation);
void tke_window_set_auto_recovery (TkeWindow *self,
                                   TkeRecoveryAction action,
                                   const char *explanation,
                                   gboolean auto_path);
void tke_window_set_virtual_readers (TkeWindow *self,
                                     const char *reader1_control,
                                     const char *reader2_control);
void tke_window_set_demo (TkeWindow *self, const char *cards_dir, const char *faults_file);
void tke_window_add_toast (TkeWindow *self, const char *text);
GtkWindow *tke_window_get_ceremony_window (TkeWindow *self);
void tke_window_set_endpoint (TkeWindow *self, const char *endpoint);

G_END_DECLS
