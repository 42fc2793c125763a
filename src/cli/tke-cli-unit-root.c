/* tke-cli-unit-root.c: pinning the unit root (login's step, unit-root-pin)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The profile pins the unit root every crypto unit answer is verified
 * against.  GET …/unit_root is unsigned, so a root is pinned only after a
 * person compared its fingerprint with the one the service's owner gave
 * (or named it in a file), and a changed root is never pinned silently:
 * re-pinning is its own verb.
 */

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "tke-cli-unit-root.h"

static char *
fingerprint_text (const char *root_hex)
{
  g_autoptr (GBytes) point = tke_unit_root_from_hex (root_hex, NULL);
  g_autofree char *fingerprint = point != NULL ? tke_unit_root_fingerprint (point) : NULL;

  return fingerprint != NULL ? tke_unit_root_format_fingerprint (fingerprint)
                             : g_strdup (_ ("(not a unit root)"));
}

static char *
read_root_file (const char *path, GError **error)
{
  g_autoptr (GBytes) point = tke_unit_root_load_file (path, error);

  if (point == NULL)
    return NULL;
  return tke_crypto_hex_encode (g_bytes_get_data (point, NULL), g_bytes_get_size (point));
}

static char *
fetch_root (TkeServiceClient *client, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  tke_service_client_fetch_unit_root_async (client, NULL, tke_cli_async_done, &result);
  tke_cli_wait (&result);
  return tke_service_client_fetch_unit_root_finish (client, result, error);
}

/* First contact: the person compares the fingerprint and says yes. */
static gboolean
ask_to_trust (const char *service, GError **error)
{
  g_autofree char *text = fingerprint_text (service);
  g_autofree char *answer = NULL;

  if (!isatty (STDIN_FILENO))
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_NOT_PINNED,
                           _ ("No unit root is pinned yet and nobody is at the terminal to "
                              "confirm it. Log in with --unit-root FILE (the root your "
                              "service's owner gave you)."));
      return FALSE;
    }
  g_print (_ ("The crypto units of this service are certified by the unit root with the "
              "fingerprint\n%s\n"),
           text);
  answer = tke_cli_read_line (_ ("Trust this unit root? Compare it with the one your service "
                                 "owner gave you. [y/N]"),
                              NULL);
  if (answer != NULL &&
      (g_ascii_strcasecmp (answer, "y") == 0 || g_ascii_strcasecmp (answer, "yes") == 0))
    return TRUE;
  g_set_error_literal (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_NOT_PINNED,
                       _ ("The unit root was not confirmed; nothing was pinned."));
  return FALSE;
}

gboolean
tke_cli_pin_unit_root (TkeCliContext *ctx,
                       TkeServiceClient *client,
                       const char *unit_root_file,
                       GError **error)
{
  const char *pinned = tke_workstation_get_unit_root (ctx->workstation);
  g_autofree char *service = fetch_root (client, error);
  g_autofree char *given = NULL;
  g_autoptr (GError) local_error = NULL;

  if (service == NULL)
    return FALSE;
  if (unit_root_file != NULL && (given = read_root_file (unit_root_file, error)) == NULL)
    return FALSE;
  /* libtke's one pinning rule, the GUI's too. */
  switch (tke_unit_root_decide (pinned, service, given, &local_error))
    {
    case TKE_UNIT_ROOT_REFUSED:
      if (pinned != NULL && *pinned != '\0')
        {
          /* The CLI's deliberate step for it. */
          g_autofree char *message = g_strdup_printf (
              "%s %s", local_error->message,
              _ ("The command for it is “tke unit-root-pin FILE”, with the file your security "
                 "officer gives you."));

          g_free (local_error->message);
          local_error->message = g_steal_pointer (&message);
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    case TKE_UNIT_ROOT_ASK:
      if (!ask_to_trust (service, error))
        return FALSE;
      break;
    case TKE_UNIT_ROOT_PINNED:
    case TKE_UNIT_ROOT_GIVEN_MATCHES:
    default:
      break;
    }
  tke_workstation_set_unit_root (ctx->workstation, service);
  tke_service_client_set_unit_root (client, service);
  return TRUE;
}

/* The deliberate step: the person got FILE from the service's owner.  The
 * next login checks that the service names the same root. */
static int
run_unit_root_pin (int argc, char **argv)
{
  BEGIN_VERB (_ ("FILE"),
              _ ("Pin a new unit root (a PEM public key or 266 hex digits) after the service's "
                 "owner confirmed it. The next login checks that the service names it."),
              NULL);
  g_autofree char *given = NULL;
  g_autofree char *old_text = NULL;
  g_autofree char *new_text = NULL;
  const char *pinned;

  if (argc != 2)
    {
      g_printerr (_ ("Usage: tke unit-root-pin FILE\n"));
      return TKE_EXIT_USAGE;
    }
  if (!tke_cli_context_open_workstation (ctx, &error) ||
      (given = read_root_file (argv[1], &error)) == NULL)
    return tke_cli_fail (error);
  pinned = tke_workstation_get_unit_root (ctx->workstation);
  old_text = pinned != NULL ? fingerprint_text (pinned) : g_strdup (_ ("(none)"));
  new_text = fingerprint_text (given);
  g_print (_ ("Pinned unit root until now:\n%s\nNew pinned unit root:\n%s\n"), old_text, new_text);
  tke_workstation_set_unit_root (ctx->workstation, given);
  if (!tke_workstation_save (ctx->workstation, &error))
    return tke_cli_fail (error);
  return tke_cli_ok ();
}

static const TkeCliVerb unit_root_verbs[] = {
  { "unit-root-pin", N_ ("Pin a new unit root, deliberately"), run_unit_root_pin },
};

const TkeCliVerbTable tke_cli_unit_root_verbs = { unit_root_verbs, G_N_ELEMENTS (unit_root_verbs) };
