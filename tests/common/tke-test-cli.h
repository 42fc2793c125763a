/* tke-test-cli.h: run the real `tke` binary ($TKE_CLI) on a temporary
 * workstation and read what it printed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <stdarg.h>
#include <string.h>

#include "tke-test-emulator.h"

G_BEGIN_DECLS

/* What one run of `tke` did: its exit status and everything it printed. */
typedef struct
{
  int status;
  char *out;
  char *err;
} TkeTestRun;

void tke_test_run_clear (TkeTestRun *run);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TkeTestRun, tke_test_run_clear)

/* A workstation of its own: the XDG directories, TKE_FILES (@files),
 * libsecret's file backend and the C locale, all under @top. */
typedef struct
{
  char *top;
  char *files;
  GPtrArray *env; /* of "NAME=value" */
} TkeTestCli;

/* Takes @top (an existing directory; the caller removes it). */
void tke_test_cli_init (TkeTestCli *cli, const char *top);
void tke_test_cli_clear (TkeTestCli *cli);

/* A launcher with @flags and the workstation's environment, for a test
 * that runs tke its own way (in the background, several at once). */
GSubprocessLauncher *tke_test_cli_launcher (TkeTestCli *cli, GSubprocessFlags flags);
/* Runs `tke ARGS…` (NULL-terminated), with @passwords (lines, or NULL) in
 * a 0600 password file passed as --password-file and removed afterwards.
 * Standard input is empty: a prompt fails instead of waiting. */
TkeTestRun tke_test_cli_run (TkeTestCli *cli, const char *passwords, ...) G_GNUC_NULL_TERMINATED;
TkeTestRun tke_test_cli_run_va (TkeTestCli *cli, const char *passwords, va_list args);
/* `tke login` against @emu with its API key, pinning its unit root;
 * asserts that it succeeded and named the instance. */
void tke_test_cli_login (TkeTestCli *cli, Emu *emu);
/* Copies the demo's admin1/admin2.sigkey from @emu's state directory to
 * 1.sigkey and 2.sigkey in TKE_FILES. */
void tke_test_cli_install_demo_sigkeys (TkeTestCli *cli, Emu *emu);

/* The run exited 0, or the test fails with what it printed. */
#define tke_test_assert_ok(run)                                                                    \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if ((run).status != 0)                                                                         \
      g_error ("tke failed (%d): %s%s", (run).status, (run).out, (run).err);                       \
  }                                                                                                \
  G_STMT_END

/* The run exited @code and said @message on standard error. */
#define tke_test_assert_fails(run, code, message)                                                  \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_assert_cmpint ((run).status, ==, (code));                                                    \
    if (strstr ((run).err, (message)) == NULL)                                                     \
      g_error ("expected “%s” in: %s", (message), (run).err);                                      \
  }                                                                                                \
  G_STMT_END

/* The run exited @code and said @message on either output. */
#define tke_test_assert_fails_saying(run, code, message)                                           \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if ((run).status != (code) ||                                                                  \
        (strstr ((run).err, (message)) == NULL && strstr ((run).out, (message)) == NULL))          \
      g_error ("expected exit %d and “%s”, got %d: %s%s", (code), (message), (run).status,         \
               (run).out, (run).err);                                                              \
  }                                                                                                \
  G_STMT_END

G_END_DECLS
