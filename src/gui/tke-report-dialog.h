/* tke-report-dialog.h: one ceremony's report: its timeline, Verify, Export…
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>
#include <tke.h>

#include "tke-pin-prompt.h"

G_BEGIN_DECLS

#define TKE_TYPE_REPORT_DIALOG (tke_report_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TkeReportDialog, tke_report_dialog, TKE, REPORT_DIALOG, AdwWindow)

TkeReportDialog *tke_report_dialog_new (GtkWindow *parent, const char *ceremony_id);
/* Reader 1's control socket, when the readers are virtual: its pad is
 * on screen for Sign…. */
void tke_report_dialog_set_virtual_pad (TkeReportDialog *self, const char *control_path);
TkePinPrompt *tke_report_dialog_get_pin_prompt (TkeReportDialog *self);

/* For tests: the report once made (NULL before, or if it cannot be), what
 * the dialog says (the verifier's result, the export's, or why there is
 * no report), the file chooser while it is open, and the last files
 * written. */
TkeCeremonyReport *tke_report_dialog_get_report (TkeReportDialog *self);
const char *tke_report_dialog_get_status (TkeReportDialog *self);
gboolean tke_report_dialog_get_busy (TkeReportDialog *self);
GtkFileChooser *tke_report_dialog_get_chooser (TkeReportDialog *self);
const char *tke_report_dialog_get_exported_json (TkeReportDialog *self);
const char *tke_report_dialog_get_exported_pdf (TkeReportDialog *self);

G_END_DECLS
