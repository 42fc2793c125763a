/* tke-gui-record.c: the GUI's side of the ceremony record
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libtke writes the records on the trail's writer thread: the main loop
 * never waits for the disk or the keyring.  A ceremony's last record is
 * asked for when it ends; the application stays until it is on disk.
 */

#include "config.h"

#include "tke-gui-record.h"
#include "tke-load-wizard.h"
#include "tke-rotation-dialog.h"

/* The workstation's ceremony record, where the CLI keeps it too. */
TkeAuditTrail *
tke_gui_record_open (void)
{
  g_autofree char *path = tke_audit_trail_get_default_path ();

  return tke_audit_trail_new (path);
}

static void
hold (void)
{
  if (g_application_get_default () != NULL)
    g_application_hold (g_application_get_default ());
}

/* The window that offers the ceremony's report, once its last record is
 * written; it may be closed before. */
typedef void (*OfferReport) (gpointer window, const char *ceremony_id);

typedef struct
{
  GWeakRef window;
  OfferReport offer;
  char *id;
} Ended;

static Ended *
ended_new (TkeAuditTrail *trail, gpointer ceremony, gpointer window, OfferReport offer)
{
  Ended *ended;

  if (window == NULL)
    return NULL;
  ended = g_new0 (Ended, 1);
  g_weak_ref_init (&ended->window, window);
  ended->offer = offer;
  ended->id = tke_audit_trail_dup_ceremony_id (trail, ceremony);
  return ended;
}

static void
ended_free (Ended *ended)
{
  g_weak_ref_clear (&ended->window);
  g_free (ended->id);
  g_free (ended);
}

static void
on_end_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Ended *ended = user_data;
  g_autoptr (GError) error = NULL;
  gboolean written = tke_audit_trail_end_finish (TKE_AUDIT_TRAIL (source), result, &error);

  if (!written)
    g_warning ("%s", error->message);
  if (ended != NULL)
    {
      g_autoptr (GObject) window = g_weak_ref_get (&ended->window);

      if (window != NULL && written && ended->id != NULL)
        ended->offer (window, ended->id);
      ended_free (ended);
    }
  if (g_application_get_default () != NULL)
    g_application_release (g_application_get_default ());
}

static void
offer_in_wizard (gpointer window, const char *ceremony_id)
{
  tke_load_wizard_offer_report (TKE_LOAD_WIZARD (window), ceremony_id);
}

static void
offer_in_dialog (gpointer window, const char *ceremony_id)
{
  tke_rotation_dialog_offer_report (TKE_ROTATION_DIALOG (window), ceremony_id);
}

void
tke_gui_record_end_ceremony (TkeAuditTrail *trail,
                             TkeCeremony *ceremony,
                             const GError *failure,
                             TkeLoadWizard *wizard)
{
  Ended *ended = ended_new (trail, ceremony, wizard, offer_in_wizard);

  hold ();
  tke_audit_trail_end_ceremony_async (trail, ceremony, failure, NULL, on_end_written, ended);
}

void
tke_gui_record_end_rotation (TkeAuditTrail *trail,
                             TkeRotation *rotation,
                             const GError *failure,
                             TkeRotationDialog *dialog)
{
  Ended *ended = ended_new (trail, rotation, dialog, offer_in_dialog);

  hold ();
  tke_audit_trail_end_rotation_async (trail, rotation, failure, NULL, on_end_written, ended);
}

void
tke_gui_record_end_auto (TkeAuditTrail *trail,
                         TkeAutoCeremony *ceremony,
                         const GError *failure,
                         TkeRotationDialog *dialog)
{
  Ended *ended = ended_new (trail, ceremony, dialog, offer_in_dialog);

  hold ();
  tke_audit_trail_end_auto_async (trail, ceremony, failure, NULL, on_end_written, ended);
}
