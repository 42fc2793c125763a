/* client-fixture.h: an emulator, a tke CLI environment and a service
 * client for the client integration tests (test-client*.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <string.h>

#include "tke-test-cli.h"
#include "tke-test-emulator.h"
#include "tke-test-util.h"

G_BEGIN_DECLS

typedef struct
{
  Emu *emu;
  TkeTestCli cli; /* its top directory holds everything of the fixture */
  TkeServiceClient *client;
} Fixture;

/* The short names of tke-test-cli.h's run, for the client tests. */
typedef TkeTestRun Run;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, tke_test_run_clear)

#define assert_ok(run) tke_test_assert_ok (run)
#define assert_fails(run, code, message) tke_test_assert_fails (run, code, message)

#define on_done tke_test_async_done
#define wait_for(result) tke_test_await ((result), 0)

/* An emulator started with @emu_args, a workstation for the CLI and a
 * TkeServiceClient logged in to it (and the test client emu_login()ed). */
void fixture_start (Fixture *f, const char *const *emu_args);
void fixture_stop (Fixture *f);
/* fixture_stop() as a g_test_add() tear-down: the test itself calls
 * fixture_start() with the emulator arguments it needs. */
void fixture_tear_down (Fixture *f, gconstpointer data);
/* fixture_start() as a g_test_add() set-up, @args the emulator's. */
void fixture_set_up (Fixture *f, gconstpointer args);
#define add_client_test(path, func)                                                                \
  g_test_add ((path), Fixture, NULL, NULL, (func), fixture_tear_down)
/* `tke ARGS… NULL` on the fixture's workstation (tke_test_cli_run()). */
#define tke(f, ...) tke_test_cli_run (&(f)->cli, __VA_ARGS__)
void fixture_login (Fixture *f);
char *units_state (Fixture *f);
TkeServiceInstance *list_units (Fixture *f);
TkeFileSigner *file_signer (Fixture *f, guint keynum, const char *password);
char *hex_of (const TkeSecret *secret);
void
on_progress (TkeCeremony *ceremony, TkeCryptoUnit *unit, const char *message, gpointer user_data);
#define demo_password(f, file) emu_demo_password ((f)->emu, (file))
#define install_demo_sigkeys(f) tke_test_cli_install_demo_sigkeys (&(f)->cli, (f)->emu)

/* test-client-protocol.c */
void client_add_protocol_tests (void);
/* test-client-errors.c */
void client_add_error_tests (void);

G_END_DECLS
