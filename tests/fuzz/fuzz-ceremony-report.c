/* fuzz-ceremony-report.c: a ceremony report, and a ceremony record, from anyone
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An auditor verifies a report someone hands over; a workstation reads its
 * trail after a crash or a hand edit.  The same bytes go both ways.
 * Oracles: reading never crashes or leaks; a report that reads has text
 * for people; a report that does not verify says so with
 * TKE_ERROR_RECORD_TAMPERED, and one that verifies (a genuine seed) still
 * verifies after it is written out and read again; a trail without its
 * signed head never verifies.
 */

#include <string.h>

#include <glib/gstdio.h>
#include <tke.h>

#include "fuzz-common.h"

static void
as_report (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCeremonyReport) report = tke_ceremony_report_new_from_bytes (bytes, &error);
  g_autofree char *text = NULL;
  g_autoptr (GBytes) root = NULL;
  g_autoptr (GBytes) workstation = NULL;
  g_auto (GStrv) signers = NULL;

  if (report == NULL)
    {
      if (error == NULL || error->domain != TKE_ERROR)
        fuzz_fail ("a refused report has no TKE_ERROR");
      return;
    }
  text = tke_ceremony_report_format_text (report);
  root = tke_ceremony_report_dup_unit_root (report);
  workstation = tke_ceremony_report_dup_workstation_key (report);
  signers = tke_ceremony_report_dup_signer_names (report);
  if (text == NULL || signers == NULL)
    fuzz_fail ("a report that reads has no text or no signer list");
  if (!tke_ceremony_report_verify (report, root, &error))
    {
      if (!g_error_matches (error, TKE_ERROR, TKE_ERROR_RECORD_TAMPERED))
        fuzz_fail ("a report that does not verify says: %s", error->message);
      return;
    }
  {
    g_autoptr (GBytes) again = tke_ceremony_report_to_bytes (report);
    g_autoptr (TkeCeremonyReport) reread = tke_ceremony_report_new_from_bytes (again, &error);

    if (reread == NULL || !tke_ceremony_report_verify (reread, root, &error))
      fuzz_fail ("a report that verifies does not, written out and read again: %s",
                 error != NULL ? error->message : "?");
  }
}

static void
as_trail (const uint8_t *data, size_t size)
{
  g_autofree char *path = fuzz_write_file ("trail.jsonl", data, size);
  g_autoptr (TkeAuditTrail) trail = tke_audit_trail_new (path);
  g_autoptr (GError) error = NULL;
  guint n = 0;

  /* No head file: only an empty trail verifies. */
  if (tke_audit_trail_verify (trail, &n, &error) && n != 0)
    fuzz_fail ("a trail of %u records without its signed head verifies", n);
  g_unlink (path);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init ();
  as_report (data, size);
  as_trail (data, size);
  return 0;
}
