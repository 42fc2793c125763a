/* client-fixture.h: an emulator, a tke CLI environment and a service
 * client for the client integration tests (test-client*.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <string.h>

#include "emu-client.h"

G_BEGIN_DECLS

typedef struct
{
  Emu *emu;
  char *top;
  char *files;
  GPtrArray *env;
  TkeServiceClient *client;
} Fixture;

typedef struct
{
  int status;
  char *out;
  char *err;
} Run;

void run_clear (Run *run);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

#define assert_ok(run)                                                                             \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if ((run).status != 0)                                                                         \
      g_error ("tke failed (%d): %s%s", (run).status, (run).out, (run).err);                       \
  }                                                                                                \
  G_STMT_END

#define assert_fails(run, code, message)                                                           \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_assert_cmpint ((run).status, ==, (code));                                                    \
    if (strstr ((run).err, (message)) == NULL)                                                     \
      g_error ("expected “%s” in: %s", (message), (run).err);                                      \
  }                                                                                                \
  G_STMT_END

void on_done (GObject *source, GAsyncResult *result, gpointer user_data);
void wait_for (GAsyncResult **result);
void remove_tree (const char *path);
void fixture_start (Fixture *f, const char *const *emu_args);
void fixture_stop (Fixture *f);
Run tke (Fixture *f, const char *passwords, ...);
void fixture_login (Fixture *f);
char *units_state (Fixture *f);
TkeServiceInstance *list_units (Fixture *f);
TkeFileSigner *file_signer (Fixture *f, guint keynum, const char *password);
char *hex_of (const TkeSecret *secret);
void
on_progress (TkeCeremony *ceremony, TkeCryptoUnit *unit, const char *message, gpointer user_data);
char *demo_password (Fixture *f, const char *file);
void install_demo_sigkeys (Fixture *f);

/* test-client-protocol.c */
void client_add_protocol_tests (void);
/* test-client-errors.c */
void client_add_error_tests (void);

G_END_DECLS
