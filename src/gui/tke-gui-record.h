/* tke-gui-record.h: the GUI's side of the ceremony record
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

#include "tke-load-wizard.h"
#include "tke-rotation-dialog.h"

G_BEGIN_DECLS

TkeAuditTrail *tke_gui_record_open (void);
/* With a @wizard or @dialog, it offers the ceremony's report once the last record is
 * written. */
void tke_gui_record_end_ceremony (TkeAuditTrail *trail,
                                  TkeCeremony *ceremony,
                                  const GError *failure,
                                  TkeLoadWizard *wizard);
void tke_gui_record_end_rotation (TkeAuditTrail *trail,
                                  TkeRotation *rotation,
                                  const GError *failure,
                                  TkeRotationDialog *dialog);
void tke_gui_record_end_auto (TkeAuditTrail *trail,
                              TkeAutoCeremony *ceremony,
                              const GError *failure,
                              TkeRotationDialog *dialog);

G_END_DECLS
