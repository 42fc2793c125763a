/* tke-cli.c: the tke command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `tke VERB [OPTIONS]`, with the verbs administrators know from the
 * service's own command-line plug-in.  All the work is libtke's; this file
 * only parses arguments, prints, and maps errors to exit codes.
 */

#include "config.h"

#include <locale.h>

#include <glib/gi18n.h>

#include <tke.h>

#include "tke-cli.h"
#include "tke-cli-keys.h"
#include "tke-cli-mk.h"
#include "tke-cli-units.h"
#include "tke-cli-rotation.h"
#include "tke-cli-unit-root.h"
#include "tke-cli-report.h"
#include "tke-cli-card-files.h"

static int run_help (int argc, char **argv);
static int run_version (int argc, char **argv);

static const TkeCliVerb general_verbs[] = {
  { "help", N_ ("Show the verbs, or the help of one verb"), run_help },
  { "h", N_ ("The same as help, as in the service's plug-in"), run_help },
  { "version", N_ ("Show the version of tke"), run_version },
};

static const TkeCliVerbTable general_table = { general_verbs, G_N_ELEMENTS (general_verbs) };

/* One line per group of verbs, in the order `tke help` lists them. */
static const TkeCliVerbTable *const verb_tables[] = {
  &general_table,           &tke_cli_unit_verbs,     &tke_cli_key_verbs,
  &tke_cli_mk_verbs,        &tke_cli_rotation_verbs, &tke_cli_auto_verbs,
  &tke_cli_unit_root_verbs, &tke_cli_report_verbs,   &tke_cli_card_file_verbs,
};

const TkeCliVerb *
tke_cli_find_verb (const char *name)
{
  for (gsize t = 0; t < G_N_ELEMENTS (verb_tables); t++)
    for (gsize i = 0; i < verb_tables[t]->n_verbs; i++)
      if (g_strcmp0 (verb_tables[t]->verbs[i].name, name) == 0)
        return &verb_tables[t]->verbs[i];
  return NULL;
}

/* Names people type from the service's troubleshooting pages, which
 * misspell them, and what they mean. */
static void
print_unknown_verb (const char *name)
{
  g_printerr (_ ("Unknown verb “%s”. Run “tke help” for the list.\n"), name);
  if (g_str_equal (name, "cryptounit-mks"))
    g_printerr (_ ("Did you mean “tke cryptounit-mk” (the master key registers of the selected "
                   "crypto units) or “tke mks” (the master key part files on this "
                   "workstation)?\n"));
}

static void
print_usage (void)
{
  g_print (_ ("Usage: tke VERB [OPTIONS…]\n\n"));
  g_print (_ ("Load, commit and rotate the master keys of HSM crypto units.\n\n"));
  g_print (_ ("Verbs:\n"));
  for (gsize t = 0; t < G_N_ELEMENTS (verb_tables); t++)
    for (gsize i = 0; i < verb_tables[t]->n_verbs; i++)
      g_print ("  %-28s %s\n", verb_tables[t]->verbs[i].name, _ (verb_tables[t]->verbs[i].summary));
  g_print (_ ("\nExit status:\n"
              "  0  the operation succeeded\n"
              "  1  the operation failed; the message says why and what to do\n"
              "  2  the command line was wrong\n"));
  g_print (_ ("  3  not logged in, or the token expired: run “tke login”\n"
              "  4  you answered no to a confirmation; nothing was changed\n"));
  g_print (_ ("\nRun “tke help VERB” for the options of a verb.\n"));
}

static int
run_help (int argc, char **argv)
{
  const TkeCliVerb *verb;

  if (argc < 2)
    {
      print_usage ();
      return TKE_EXIT_OK;
    }

  verb = tke_cli_find_verb (argv[1]);
  if (verb == NULL)
    {
      print_unknown_verb (argv[1]);
      return TKE_EXIT_USAGE;
    }

  if (verb->run == run_help)
    {
      print_usage ();
      return TKE_EXIT_OK;
    }

  {
    char *help_argv[] = { argv[1], (char *) "--help", NULL };
    return verb->run (2, help_argv);
  }
}

static int
run_version (int argc, char **argv)
{
  if (argc > 1 && g_strcmp0 (argv[1], "--help") == 0)
    {
      g_print (_ ("Usage: tke version\n\nShow the version of tke and libtke.\n"));
      return TKE_EXIT_OK;
    }

  g_print ("tke %s (libtke %s)\n", PACKAGE_VERSION, tke_get_version ());
  return TKE_EXIT_OK;
}

int
main (int argc, char **argv)
{
  const TkeCliVerb *verb;
  /* TKE_LOCALEDIR: the tests point it at the build's po/ so that tke
   * speaks the translations of this build without being installed. */
  const char *localedir = g_getenv ("TKE_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2)
    {
      print_usage ();
      return TKE_EXIT_USAGE;
    }

  if (g_strcmp0 (argv[1], "--version") == 0 || g_strcmp0 (argv[1], "-V") == 0)
    return run_version (1, argv + 1);
  if (g_strcmp0 (argv[1], "--help") == 0 || g_strcmp0 (argv[1], "-h") == 0)
    return run_help (1, argv + 1);

  verb = tke_cli_find_verb (argv[1]);
  if (verb == NULL)
    {
      print_unknown_verb (argv[1]);
      return TKE_EXIT_USAGE;
    }

  return verb->run (argc - 1, argv + 1);
}
