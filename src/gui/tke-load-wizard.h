/* tke-load-wizard.h: the guided Load and Commit ceremonies
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>
#include <tke.h>

#include "tke-pin-prompt.h"
#include "tke-readers-bar.h"

G_BEGIN_DECLS

typedef enum
{
  TKE_LOAD_WIZARD_LOAD,
  TKE_LOAD_WIZARD_COMMIT,
} TkeLoadWizardMode;

#define TKE_TYPE_LOAD_WIZARD (tke_load_wizard_get_type ())

G_DECLARE_FINAL_TYPE (TkeLoadWizard, tke_load_wizard, TKE, LOAD_WIZARD, AdwWindow)

TkeLoadWizard *tke_load_wizard_new (GtkWindow *parent, TkeLoadWizardMode mode);
TkeLoadWizardMode tke_load_wizard_get_mode (TkeLoadWizard *self);
guint tke_load_wizard_get_n_parts (TkeLoadWizard *self);
TkePinPrompt *tke_load_wizard_get_pin_prompt (TkeLoadWizard *self);
TkeReadersBar *tke_load_wizard_get_readers_bar (TkeLoadWizard *self);
const char *tke_load_wizard_get_step (TkeLoadWizard *self);
const char *tke_load_wizard_get_page (TkeLoadWizard *self);

void tke_load_wizard_set_virtual_pads (TkeLoadWizard *self,
                                       const char *reader1_control,
                                       const char *reader2_control);
void tke_load_wizard_show_admin_step (TkeLoadWizard *self, guint signature, guint n_signatures);
void tke_load_wizard_show_new_admin_step (TkeLoadWizard *self);
/* The signatures come from a signing service ($TKE_SIGNSERV_URL): no card. */
void tke_load_wizard_show_service_step (TkeLoadWizard *self, guint n_signatures, const char *url);
void tke_load_wizard_show_count_step (TkeLoadWizard *self);
void tke_load_wizard_show_part_step (TkeLoadWizard *self, guint part);
void tke_load_wizard_set_pin_state (TkeLoadWizard *self,
                                    TkePinPromptState state,
                                    const char *card_description,
                                    guint tries_left);
void tke_load_wizard_set_card_parts (TkeLoadWizard *self,
                                     const char *card_description,
                                     GListModel *parts);
void tke_load_wizard_choose_part (TkeLoadWizard *self, guint index);
void tke_load_wizard_show_part_loaded (TkeLoadWizard *self, guint part, const char *check_value);
void tke_load_wizard_show_result (TkeLoadWizard *self, const char *register_state, const char *vp);
void tke_load_wizard_show_done (TkeLoadWizard *self,
                                const char *title,
                                const char *description,
                                const char *vp);
void tke_load_wizard_show_error (TkeLoadWizard *self, const char *message);
void tke_load_wizard_set_heading (TkeLoadWizard *self, const char *title);
void tke_load_wizard_set_progress (TkeLoadWizard *self, const char *message);
const char *tke_load_wizard_get_progress (TkeLoadWizard *self);
void tke_load_wizard_set_summary (TkeLoadWizard *self, const char *summary);
const char *tke_load_wizard_get_summary (TkeLoadWizard *self);
const char *tke_load_wizard_get_result_text (TkeLoadWizard *self);
/* The ceremony's last record is written: "Ceremony Report" opens its
 * report, from the result or the error page. */
void tke_load_wizard_offer_report (TkeLoadWizard *self, const char *ceremony_id);
const char *tke_load_wizard_get_report_id (TkeLoadWizard *self);

G_END_DECLS
