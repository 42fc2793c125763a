/* tke-master-keys-page.h: the Master keys tab
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>
#include <tke.h>

#include "tke-recovery-page.h"

G_BEGIN_DECLS

#define TKE_TYPE_MASTER_KEYS_PAGE (tke_master_keys_page_get_type ())

G_DECLARE_FINAL_TYPE (TkeMasterKeysPage, tke_master_keys_page, TKE, MASTER_KEYS_PAGE, AdwBin)

GtkWidget *tke_master_keys_page_new (void);
void tke_master_keys_page_set_units (TkeMasterKeysPage *self, GListModel *units);
void tke_master_keys_page_set_recovery (TkeMasterKeysPage *self, TkeRecoveryAction action);
void tke_master_keys_page_set_busy (TkeMasterKeysPage *self, gboolean busy);
GListModel *tke_master_keys_page_get_selected_units (TkeMasterKeysPage *self);
/* Why the ceremony @kind (load, commit, rotate, set immediate, clear new,
 * clear current) is not offered now, or NULL if it is: the sentence of
 * tke_ceremony_why_not(). */
const char *tke_master_keys_page_get_reason (TkeMasterKeysPage *self, TkeCeremonyKind kind);
/* The same by the kind's nick ("load", "commit", "rotate", "set-immediate",
 * "clear-new", "clear-current"), the page's action names. */
const char *tke_master_keys_page_get_disabled_reason (TkeMasterKeysPage *self, const char *name);
int tke_master_keys_page_get_suggested (TkeMasterKeysPage *self);
const char *tke_master_keys_page_get_selection_warning (TkeMasterKeysPage *self);
const char *tke_master_keys_page_get_hint (TkeMasterKeysPage *self);
GtkWidget *tke_master_keys_page_get_button (TkeMasterKeysPage *self, TkeCeremonyKind kind);
/* The recovery-unit path (init, rotate, recover): libtke's refusal, the button. */
const char *tke_master_keys_page_get_auto_reason (TkeMasterKeysPage *self, TkeAutoKind kind);
GtkWidget *tke_master_keys_page_get_auto_button (TkeMasterKeysPage *self, TkeAutoKind kind);
void tke_master_keys_page_set_auto_advice (TkeMasterKeysPage *self, TkeRecoveryAction advice);

G_END_DECLS
