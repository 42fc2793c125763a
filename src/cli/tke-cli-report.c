/* tke-cli-report.c: tke report show|export|verify
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The ceremony record for auditors: `show` lists the workstation's
 * ceremonies, or one ceremony's timeline, or a report file; `export`
 * writes a signed report; `verify` checks a report offline, with nothing
 * but the file (and, if given, the unit root the auditor trusts).
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-cli-report.h"

static char *opt_ceremony;
static char *opt_since;
static char *opt_until;
static char *opt_unit_root;
static gboolean opt_sign;
static char *opt_pdf;

static const GOptionEntry report_entries[] = {
  { "ceremony", 0, 0, G_OPTION_ARG_STRING, &opt_ceremony, N_ ("One ceremony, by its id"),
    N_ ("ID") },
  { "since", 0, 0, G_OPTION_ARG_STRING, &opt_since, N_ ("From this time (ISO 8601)"), N_ ("TIME") },
  { "until", 0, 0, G_OPTION_ARG_STRING, &opt_until, N_ ("Until this time (ISO 8601)"),
    N_ ("TIME") },
  { "sign", 0, 0, G_OPTION_ARG_NONE, &opt_sign,
    N_ ("export: each selected administrator signs the report too"), NULL },
  { "pdf", 0, 0, G_OPTION_ARG_FILENAME, &opt_pdf,
    N_ ("export: also (or only) the report for people, as a PDF"), N_ ("PDF") },
  { "unit-root", 0, 0, G_OPTION_ARG_FILENAME, &opt_unit_root,
    N_ ("verify: the unit root you trust (PEM or hex)"), N_ ("FILE") },
  G_OPTION_ENTRY_NULL
};

static gboolean
parse_time (const char *text, GDateTime **time, GError **error)
{
  if (text == NULL)
    return TRUE;
  *time = g_date_time_new_from_iso8601 (text, NULL);
  if (*time != NULL)
    return TRUE;
  g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
               _ ("“%s” is not a time in ISO 8601 form (2026-12-01T10:00:00Z)."), text);
  return FALSE;
}

static TkeCeremonyReport *
report_of_trail (GError **error)
{
  g_autoptr (TkeAuditTrail) trail = tke_cli_open_audit_trail ();
  g_autoptr (GDateTime) since = NULL;
  g_autoptr (GDateTime) until = NULL;

  if (!parse_time (opt_since, &since, error) || !parse_time (opt_until, &until, error))
    return NULL;
  return tke_ceremony_report_new_from_trail (trail, opt_ceremony, since, until, error);
}

static TkeCeremonyReport *
report_of_file (const char *path, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_commandline_arg (path);
  g_autoptr (GBytes) bytes = g_file_load_bytes (file, NULL, NULL, error);

  if (bytes == NULL)
    return NULL;
  return tke_ceremony_report_new_from_bytes (bytes, error);
}

static char *
fingerprint_of (GBytes *point)
{
  g_autofree char *fingerprint = point != NULL ? tke_unit_root_fingerprint (point) : NULL;

  return fingerprint != NULL ? tke_unit_root_format_fingerprint (fingerprint)
                             : g_strdup (_ ("(none)"));
}

static int
show_report (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCeremonyReport) report = NULL;
  g_autofree char *text = NULL;

  report = path != NULL ? report_of_file (path, &error) : report_of_trail (&error);
  if (report == NULL)
    return tke_cli_fail (g_steal_pointer (&error));
  text = tke_ceremony_report_format_text (report);
  g_print ("%s", text);
  if (path != NULL)
    g_print (_ ("\nThis shows what the file says; “tke report verify %s” checks it.\n"), path);
  return tke_cli_ok ();
}

/* The ceremony's last, optional step: the administrators sign what
 * happened, each with their own key. */
static gboolean
sign_by_administrators (TkeCliContext *ctx, TkeCeremonyReport *report, GError **error)
{
  g_autoptr (GPtrArray) signers = tke_cli_make_signers (ctx, 0, error);

  if (signers == NULL)
    return FALSE;
  for (guint i = 0; i < signers->len; i++)
    {
      g_autoptr (GAsyncResult) result = NULL;

      tke_ceremony_report_sign_async (report, signers->pdata[i], NULL, tke_cli_async_done, &result);
      tke_cli_wait (&result);
      if (!tke_ceremony_report_sign_finish (report, result, error))
        return FALSE;
    }
  return TRUE;
}

static int
export_report (TkeCliContext *ctx, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCeremonyReport) report = report_of_trail (&error);
  g_autoptr (GBytes) bytes = NULL;

  if (report == NULL || (opt_sign && !sign_by_administrators (ctx, report, &error)))
    return tke_cli_fail (g_steal_pointer (&error));
  if (opt_pdf != NULL)
    {
      if (!tke_ceremony_report_write_pdf (report, opt_pdf, &error))
        return tke_cli_fail (g_steal_pointer (&error));
      g_print (_ ("Wrote the ceremony report for people (%u records) to %s.\n"),
               tke_ceremony_report_get_n_records (report), opt_pdf);
      if (path == NULL)
        return tke_cli_ok ();
    }
  bytes = tke_ceremony_report_to_bytes (report);
  if (!g_file_set_contents_full (
          path, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes),
          G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0644, &error))
    return tke_cli_fail (g_steal_pointer (&error));
  g_print (_ ("Wrote the ceremony report (%u records) to %s.\n"),
           tke_ceremony_report_get_n_records (report), path);
  return tke_cli_ok ();
}

static int
verify_report (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCeremonyReport) report = report_of_file (path, &error);
  g_autoptr (GBytes) trusted = NULL;
  g_autoptr (GBytes) named_root = NULL;
  g_autoptr (GBytes) workstation = NULL;
  g_autofree char *root_text = NULL;
  g_autofree char *workstation_text = NULL;
  g_auto (GStrv) signers = NULL;
  g_autofree char *signer_text = NULL;

  if (report == NULL)
    return tke_cli_fail (g_steal_pointer (&error));
  if (opt_unit_root != NULL && (trusted = tke_unit_root_load_file (opt_unit_root, &error)) == NULL)
    return tke_cli_fail (g_steal_pointer (&error));
  if (!tke_ceremony_report_verify (report, trusted, &error))
    return tke_cli_fail (g_steal_pointer (&error));
  named_root = tke_ceremony_report_dup_unit_root (report);
  workstation = tke_ceremony_report_dup_workstation_key (report);
  root_text = fingerprint_of (named_root);
  workstation_text = fingerprint_of (workstation);
  g_print (_ ("The report verifies: %u records, every one unchanged and in order, every signature "
              "and every signed unit answer valid.\n"),
           tke_ceremony_report_get_n_records (report));
  g_print (_ ("Unit root the units' answers chain to%s:\n%s\n"),
           trusted != NULL ? _ (" (the one you gave)") : _ (" (compare it with the one you trust)"),
           root_text);
  g_print (_ ("Workstation key that signed it:\n%s\n"), workstation_text);
  signers = tke_ceremony_report_dup_signer_names (report);
  signer_text = g_strjoinv (", ", signers);
  g_print (_ ("Signed by: %s\n"), signer_text);
  signers = tke_ceremony_report_dup_signer_names (report);
  signer_text = g_strjoinv (", ", signers);
  g_print (_ ("Signed by: %s\n"), signer_text);
  return tke_cli_ok ();
}

static int
run_report (int argc, char **argv)
{
  BEGIN_VERB (_ ("show [FILE] | export [--pdf PDF] FILE | verify FILE"),
              _ ("The ceremony record: show the workstation's ceremonies (or a report file), "
                 "export a signed report of one ceremony or a time range, or verify a report "
                 "offline."),
              report_entries);
  (void) error;
  (void) exit_code;

  if (argc >= 2 && g_strcmp0 (argv[1], "show") == 0 && argc <= 3)
    return show_report (argc == 3 ? argv[2] : NULL);
  if ((argc == 3 || (argc == 2 && opt_pdf != NULL)) && g_strcmp0 (argv[1], "export") == 0)
    return export_report (ctx, argc == 3 ? argv[2] : NULL);
  if (argc == 3 && g_strcmp0 (argv[1], "verify") == 0)
    return verify_report (argv[2]);
  g_printerr (_ ("Usage: tke report show [FILE] | export [--pdf PDF] FILE | verify FILE\n"));
  return TKE_EXIT_USAGE;
}

static const TkeCliVerb report_verbs[] = {
  { "report", N_ ("Show, export or verify the ceremony record"), run_report },
};

const TkeCliVerbTable tke_cli_report_verbs = { report_verbs, G_N_ELEMENTS (report_verbs) };
