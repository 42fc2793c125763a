/* signserv-fixture.h: a tke-signing-service for the tests, guarding the
 * emulator's demo administrators' signature key files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

G_BEGIN_DECLS

typedef struct
{
  GSubprocess *process;
  char *dir;
  char *url;
  char *ca_file;
} SignServ;

/* Starts $TKE_SIGNING_SERVICE in @dir (created) with the keys "admin-one"
 * and "admin-two": the demo files admin1.sigkey and admin2.sigkey of the
 * emulator state in @emu_state_dir, unlocked with their demo passwords
 * given on stdin, authorized by the tokens "token-one" and "token-two". */
SignServ *signserv_start (const char *dir, const char *emu_state_dir);
/* Stops it (SIGTERM) and returns what it logged on stderr. */
char *signserv_stop (SignServ *service);
void signserv_free (SignServ *service);
/* A SIGNSERVKEYS file in @files_dir with @json. */
void signserv_write_keys (const char *files_dir, const char *json);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignServ, signserv_free)

G_END_DECLS
