/* tke-rotation-dialog.h: the modal progress of a master key rotation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>
#include <tke.h>

#include "tke-pin-prompt.h"
#include "tke-readers-bar.h"

G_BEGIN_DECLS

#define TKE_TYPE_ROTATION_DIALOG (tke_rotation_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TkeRotationDialog, tke_rotation_dialog, TKE, ROTATION_DIALOG, AdwWindow)

TkeRotationDialog *tke_rotation_dialog_new (GtkWindow *parent);
void tke_rotation_dialog_update (TkeRotationDialog *self, TkeRotationStatus *status);
void
tke_rotation_dialog_set_cancel_safe (TkeRotationDialog *self, gboolean safe, const char *reason);
void tke_rotation_dialog_allow_close (TkeRotationDialog *self, const char *message);
void tke_rotation_dialog_add_message (TkeRotationDialog *self, const char *text);
void tke_rotation_dialog_set_progress (TkeRotationDialog *self, guint64 done, guint64 total);
TkePinPrompt *tke_rotation_dialog_get_pin_prompt (TkeRotationDialog *self);
TkeReadersBar *tke_rotation_dialog_get_readers_bar (TkeRotationDialog *self);
void tke_rotation_dialog_set_virtual_pads (TkeRotationDialog *self,
                                           const char *reader1_control,
                                           const char *reader2_control);
void tke_rotation_dialog_set_stopped_headline (TkeRotationDialog *self, const char *headline);
void tke_rotation_dialog_set_ceremony (TkeRotationDialog *self,
                                       const char *title,
                                       const char *card_headline,
                                       const char *done_headline,
                                       gboolean counts_keys);
void tke_rotation_dialog_offer_report (TkeRotationDialog *self, const char *ceremony_id);
const char *tke_rotation_dialog_get_report_id (TkeRotationDialog *self);
void tke_rotation_dialog_show_card_step (TkeRotationDialog *self, gboolean shown);
void tke_rotation_dialog_add_unit_result (TkeRotationDialog *self,
                                          guint unit_number,
                                          const char *error_message);
guint tke_rotation_dialog_get_n_unit_results (TkeRotationDialog *self);
void
tke_rotation_dialog_finish (TkeRotationDialog *self, const char *error_message, const char *next);
const char *tke_rotation_dialog_get_outcome (TkeRotationDialog *self);
const char *tke_rotation_dialog_get_headline (TkeRotationDialog *self);
guint tke_rotation_dialog_get_n_messages (TkeRotationDialog *self);
const char *tke_rotation_dialog_get_message (TkeRotationDialog *self, guint index);
const char *tke_rotation_dialog_get_progress_text (TkeRotationDialog *self);
gboolean tke_rotation_dialog_get_finished (TkeRotationDialog *self);

G_END_DECLS
