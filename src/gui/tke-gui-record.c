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

/* The wizard that offers the ceremony's report, once its last record is
 * written; it may be closed before. */
typedef struct
{
  GWeakRef wizard;
  char *id;
} Ended;

static void
ended_free (Ended *ended)
{
  g_weak_ref_clear (&ended->wizard);
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
      g_autoptr (TkeLoadWizard) wizard = g_weak_ref_get (&ended->wizard);

      if (wizard != NULL && written && ended->id != NULL)
        tke_load_wizard_offer_report (wizard, ended->id);
      ended_free (ended);
    }
  if (g_application_get_default () != NULL)
    g_application_release (g_application_get_default ());
}

void
tke_gui_record_end_ceremony (TkeAuditTrail *trail,
                             TkeCeremony *ceremony,
                             const GError *failure,
                             TkeLoadWizard *wizard)
{
  Ended *ended = NULL;

  hold ();
  if (wizard != NULL)
    {
      ended = g_new0 (Ended, 1);
      g_weak_ref_init (&ended->wizard, wizard);
      ended->id = tke_audit_trail_dup_ceremony_id (trail, ceremony);
    }
  tke_audit_trail_end_ceremony_async (trail, ceremony, failure, NULL, on_end_written, ended);
}

void
tke_gui_record_end_rotation (TkeAuditTrail *trail, TkeRotation *rotation, const GError *failure)
{
  hold ();
  tke_audit_trail_end_rotation_async (trail, rotation, failure, NULL, on_end_written, NULL);
}

void
tke_gui_record_end_auto (TkeAuditTrail *trail, TkeAutoCeremony *ceremony, const GError *failure)
{
  hold ();
  tke_audit_trail_end_auto_async (trail, ceremony, failure, NULL, on_end_written, NULL);
}
