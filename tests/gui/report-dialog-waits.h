/* report-dialog-waits.h: waiting for the Ceremony Report dialog as a
 * person watches it (gui/history, gui/rotation-cards)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tke-report-dialog.h"

G_BEGIN_DECLS

TkeReportDialog *report_dialog (void);
gboolean report_ready (gpointer data);
gboolean report_idle (gpointer data);
gboolean report_gone (gpointer data);

G_END_DECLS
