/* report-dialog-waits.c: waiting for the Ceremony Report dialog as a
 * person watches it (gui/history, gui/rotation-cards)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Conditions for tke_test_wait_until(): the dialog is open, has made its
 * report (or said why there is none), is idle again after Verify or
 * Export, is closed.
 */

#include "config.h"

#include "report-dialog-waits.h"
#include "tke-test-gtk.h"

TkeReportDialog *
report_dialog (void)
{
  return TKE_REPORT_DIALOG (tke_test_find_toplevel (TKE_TYPE_REPORT_DIALOG));
}

gboolean
report_ready (gpointer data)
{
  TkeReportDialog *dialog = report_dialog ();

  return dialog != NULL && !tke_report_dialog_get_busy (dialog) &&
         (tke_report_dialog_get_report (dialog) != NULL ||
          tke_report_dialog_get_status (dialog) != NULL);
}

gboolean
report_idle (gpointer data)
{
  return !tke_report_dialog_get_busy (report_dialog ());
}

gboolean
report_gone (gpointer data)
{
  return report_dialog () == NULL;
}
