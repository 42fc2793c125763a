/* rotation-fixture.h: an emulator (restartable on its state directory), a
 * temporary workstation for the tke CLI, and the checks that a rotation
 * lost no key
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tke-test-cli.h"
#include "tke-test-emulator.h"

G_BEGIN_DECLS

typedef struct
{
  Emu *emu;
  TkeTestCli cli; /* its top directory holds everything of the fixture */
  char *state;    /* the emulator's state directory, kept over restarts */
  guint keys;
  const char *init; /* NULL: --init demo; "imprint" for a state made so */
  EVP_PKEY *a1;
  EVP_PKEY *a2;
  char *pw1;
  char *pw2;
  TkeSecret *parts[2]; /* the parts of the last key rot_load_commit() made */
} RotFixture;

/* The short names of tke-test-cli.h's run, for the rotation tests. */
typedef TkeTestRun RotRun;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RotRun, tke_test_run_clear)

/* A demo instance (3 units, 2 admins, @keys root keys), with fault flags. */
void rot_start (RotFixture *f, guint keys, const char *const *faults);
/* Kills the emulator (SIGKILL) if it still runs, then starts it again on
 * the same state directory with @faults (NULL-terminated, may be NULL). */
void rot_restart (RotFixture *f, const char *const *faults);
void rot_kill (RotFixture *f);
void rot_stop (RotFixture *f);
/* rot_stop() as a g_test_add() tear-down. */
void rot_tear_down (RotFixture *f, gconstpointer data);

/* `tke ARGS… NULL` with @passwords in a password file (or NULL). */
#define rot_tke(f, ...) tke_test_cli_run (&(f)->cli, __VA_ARGS__)
/* tke login, signature key files, all 3 units selected, both keys selected. */
void rot_cli_setup (RotFixture *f);
void rot_cli_login (RotFixture *f);
/* Loads and commits one new random key on every unit; returns its VP. */
char *rot_load_commit (RotFixture *f);
/* Loads and commits the key of @parts (2) on unit @unit (an hsm_id); returns its VP. */
char *rot_load_commit_on (RotFixture *f, const char *unit, TkeSecret *const *parts);
char *rot_rotation_state (RotFixture *f);
/* Every root key unwraps under the key @vp names; every unit current
 * Valid with @vp, new register Empty. */
void rot_assert_done (RotFixture *f, const char *vp);
/* Root keys that do not unwrap. */
gint64 rot_keys_lost (RotFixture *f);

#define rot_assert_ok(run) tke_test_assert_ok (run)
#define rot_assert_fails(run, code, message) tke_test_assert_fails_saying (run, code, message)

G_END_DECLS
