/* tke-cli-common.h: what every verb of the tke CLI shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A verb makes a TkeCliContext, parses its options with
 * tke_cli_context_parse() (which adds --endpoint, --ca-file,
 * --password-file and --yes), connects with tke_cli_context_connect(),
 * lists the units with tke_cli_context_load_units(), and reports a failure
 * with tke_cli_fail().  Async libtke calls are awaited with:
 *
 *   g_autoptr (GAsyncResult) res = NULL;
 *   tke_service_client_x_async (…, tke_cli_async_done, &res);
 *   tke_cli_wait (&res);
 *   … = tke_service_client_x_finish (…, res, &error);
 */

#pragma once

#include <tke.h>

#include "tke-cli.h"

G_BEGIN_DECLS

typedef struct
{
  /* Common options */
  char *endpoint;
  char *ca_file;
  char *password_file;
  gboolean yes;

  /* Passwords from --password-file, in the order asked */
  GPtrArray *file_passwords;
  guint next_password;

  TkeWorkstation *workstation;
  TkeServiceClient *client;
  TkeServiceInstance *instance;
} TkeCliContext;

TkeCliContext *tke_cli_context_new (void);
void tke_cli_context_free (TkeCliContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeCliContext, tke_cli_context_free)

/* The start of every verb: its context, parsed options, and the `error`
 * and `exit_code` the verb returns through. */
#define BEGIN_VERB(parameters, description, entries)                                               \
  g_autoptr (TkeCliContext) ctx = tke_cli_context_new ();                                          \
  g_autoptr (GError) error = NULL;                                                                 \
  int exit_code = TKE_EXIT_OK;                                                                     \
  if (!tke_cli_context_parse (ctx, &argc, &argv, parameters, description, entries, &exit_code))    \
    return exit_code;

/* Parses the verb's options (@entries may be NULL) and the common ones.
 * Returns FALSE when the verb must stop, with *exit_code set: 0 after
 * --help, TKE_EXIT_USAGE for a bad command line. */
gboolean tke_cli_context_parse (TkeCliContext *ctx,
                                int *argc,
                                char ***argv,
                                const char *parameters,
                                const char *description,
                                const GOptionEntry *entries,
                                int *exit_code);

/* Reads the profile and applies --endpoint/--ca-file or $TKE_ENDPOINT/$TKE_CA_FILE. */
gboolean tke_cli_context_open_workstation (TkeCliContext *ctx, GError **error);
/* open_workstation, then a service client with the token from the keyring. */
gboolean tke_cli_context_connect (TkeCliContext *ctx, GError **error);
/* Lists the units (with their query state) and marks the selected ones. */
gboolean tke_cli_context_load_units (TkeCliContext *ctx, GError **error);
/* The selected units, as a GListModel of TkeCryptoUnit; an error if none. */
GListModel *tke_cli_context_get_selected_units (TkeCliContext *ctx, GError **error);
/* load_units, then get_selected_units. */
GListModel *tke_cli_context_load_selected (TkeCliContext *ctx, GError **error);
/* TRUE if any of @units is out of imprint mode (so signatures are needed). */
gboolean tke_cli_units_need_signatures (GListModel *units);

/* Secrets: from --password-file (next line), else the terminal without echo. */
TkeSecret *tke_cli_read_password (TkeCliContext *ctx, const char *prompt, GError **error);
TkeSecret *tke_cli_read_new_password (TkeCliContext *ctx, const char *prompt, GError **error);
/* A non-secret answer from standard input; NULL at end of input. */
char *tke_cli_read_line (const char *prompt, GError **error);
/* Numbers from @argv (argc > 1) or, if none, from a prompt. */
GArray *tke_cli_read_numbers (int argc, char **argv, const char *prompt, GError **error);
/* y/n, unless --yes. */
gboolean tke_cli_confirm (TkeCliContext *ctx, const char *question);

/* Signers from the signature keys selected with sigkey-sel, each asking
 * its password (verified at once); at most @max_signers (0: all). */
GPtrArray *tke_cli_make_signers (TkeCliContext *ctx, guint max_signers, GError **error);

/* Warns when the ceremony journal shows a ceremony that never ended. */
void tke_cli_warn_interrupted (void);
/* Runs a ceremony (after tke_cli_warn_interrupted()), printing its progress; FALSE with an error.
 */
/* The workstation's ceremony record ($XDG_STATE_HOME/tke/audit). */
TkeAuditTrail *tke_cli_open_audit_trail (void);

gboolean tke_cli_run_ceremony (TkeCliContext *ctx, TkeCeremony *ceremony, GError **error);

/* NEW and CURRENT MASTER KEY REGISTER tables of @units. */
void tke_cli_print_register_tables (const char *instance_id, GListModel *units);
/* A VP as two lines of 32 hex digits, the second indented by @indent. */
void tke_cli_print_vp (const char *vp, guint indent);

void tke_cli_async_done (GObject *source, GAsyncResult *result, gpointer user_data);
void tke_cli_wait (GAsyncResult **result);

/* Prints "FAILED" and the message; returns the exit code for it. */
int tke_cli_fail (GError *error);
/* Prints "OK"; returns TKE_EXIT_OK. */
int tke_cli_ok (void);

G_END_DECLS
