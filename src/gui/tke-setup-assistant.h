/* tke-setup-assistant.h: setting the instance up from imprint mode, step
 * by step
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>
#include <tke.h>

G_BEGIN_DECLS

#define TKE_TYPE_SETUP_ASSISTANT (tke_setup_assistant_get_type ())

G_DECLARE_FINAL_TYPE (TkeSetupAssistant, tke_setup_assistant, TKE, SETUP_ASSISTANT, AdwBin)

void tke_setup_assistant_set_units (TkeSetupAssistant *self, GListModel *units);
void tke_setup_assistant_set_busy (TkeSetupAssistant *self, gboolean busy);
TkeSetupStep tke_setup_assistant_get_step (TkeSetupAssistant *self);
const char *tke_setup_assistant_get_description (TkeSetupAssistant *self);
GtkWidget *tke_setup_assistant_get_next_button (TkeSetupAssistant *self);

G_END_DECLS
