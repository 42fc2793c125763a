/* tke-test-emulator.h: start and stop a real tke-emulator on a temporary
 * state directory, and talk to it as a test client (libsoup-3, TLS
 * verified against the emulator's CA file, answers verified against its
 * unit root)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <tke.h>

G_BEGIN_DECLS

typedef struct
{
  GSubprocess *process;
  char *state_dir;
  char *url;
  char *ca_file;
  char *api_key;
  char *instance;
  char *token;
  SoupSession *session;
  char *unit_root_file; /* the ready JSON's unit_root_file */
  char *unit_root;      /* its point, 266 hex: what a profile pins */
  GBytes *unit_root_point;
} Emu;

/* A new state directory path (not yet created) in a new temporary
 * directory, and its removal with that directory. */
char *emu_temp_state_dir (void);
void emu_remove_state_dir (const char *state_dir);

/* Starts $TKE_EMULATOR on @state_dir with @extra_args (NULL-terminated,
 * may be NULL) and waits for its ready line: URL, CA file, API key and the
 * unit root the tests pin.  The emulator dies with the test process. */
Emu *emu_start (const char *state_dir, const char *const *extra_args);
/* SIGTERM, and asserts a clean exit.  Does nothing once it has exited. */
void emu_stop (Emu *emu);
/* Kills a still running emulator and frees @emu. */
void emu_free (Emu *emu);
/* Waits for the process; its exit status, or minus the signal that ended it. */
int emu_wait_exit (Emu *emu);
/* Gets a token with the API key; emu_call() sends it from then on. */
void emu_login (Emu *emu);

/* A g_test_add() fixture: an emulator on its own temporary state directory. */
typedef struct
{
  char *state_dir;
  Emu *emu;
} TkeTestEmulator;

/* Set-up for g_test_add(): @args is the emulator's extra arguments
 * (a NULL-terminated `const char *const *`, or NULL). */
void tke_test_emulator_set_up (TkeTestEmulator *f, gconstpointer args);
/* Only the temporary state directory: the test starts f->emu itself. */
void tke_test_emulator_set_up_state_dir (TkeTestEmulator *f, gconstpointer args);
/* Same as tke_test_emulator_set_up(), and logs in (emu_login()). */
void tke_test_emulator_set_up_logged_in (TkeTestEmulator *f, gconstpointer args);
/* g_test_add() of @func (void (*) (TkeTestEmulator *, gconstpointer)) with
 * only the fixture's state directory: the test starts f->emu on it. */
#define tke_test_add_with_state_dir(path, func)                                                    \
  g_test_add ((path), TkeTestEmulator, NULL, tke_test_emulator_set_up_state_dir, (func),           \
              tke_test_emulator_tear_down)
/* Stops the emulator if it still runs (asserting a clean exit), frees it
 * and removes the state directory. */
void tke_test_emulator_tear_down (TkeTestEmulator *f, gconstpointer args);

/* Returns the parsed body (or NULL for an empty one) and sets *status. */
JsonNode *emu_call (Emu *emu,
                    const char *method,
                    const char *path,
                    const char *content_type,
                    const char *body,
                    gsize body_size,
                    guint *status);
JsonObject *emu_call_ok (
    Emu *emu, const char *method, const char *path, const char *body, guint expected_status);
void emu_call_error (Emu *emu,
                     const char *method,
                     const char *path,
                     const char *body,
                     guint expected_status,
                     const char *expected_code);

char **emu_unit_ids (Emu *emu);
JsonObject *emu_query (Emu *emu, const char *hsm_id);
char *emu_query_text (Emu *emu, const char *hsm_id);

/* Sends a command with the unit's current counter (or @counter if >= 0),
 * signed by @signers (NULL-terminated; may repeat).  Returns the answer. */
JsonNode *emu_command (Emu *emu,
                       const char *hsm_id,
                       const char *command,
                       const char *args_json,
                       gint64 counter,
                       EVP_PKEY **signers,
                       guint *status);
JsonObject *emu_command_ok (
    Emu *emu, const char *hsm_id, const char *command, const char *args_json, EVP_PKEY **signers);
void emu_command_error (Emu *emu,
                        const char *hsm_id,
                        const char *command,
                        const char *args_json,
                        gint64 counter,
                        EVP_PKEY **signers,
                        guint expected_status,
                        const char *expected_code);

/* The result of a signed answer, verified against the emulator's root. */
JsonObject *
emu_verified_result (Emu *emu, const char *hsm_id, const char *command_text, JsonNode *node);
/* Command text as the emulator takes it (a query gets a fresh nonce, any
 * other command expires in 10 minutes). */
char *emu_command_text (Emu *emu,
                        const char *hsm_id,
                        const char *command,
                        const char *args_json,
                        gint64 counter,
                        gint64 expires);
/* Sends @command_text signed by @signers; returns the answer. */
JsonNode *emu_send (
    Emu *emu, const char *hsm_id, const char *command_text, EVP_PKEY **signers, guint *status);

char *emu_point_hex (EVP_PKEY *key);
char *emu_load_args (const char *hsm_id,
                     const char *importer_hex,
                     TkeSecret **parts,
                     guint n_parts,
                     gboolean tamper);
/* The password of the demo's signature key file @file ("admin1.sigkey"…),
 * from the demo-passwords.json that `--init demo` writes. */
char *emu_demo_password (Emu *emu, const char *file);
/* The demo's administrator @index (1 or 2), its key file unlocked. */
EVP_PKEY *emu_demo_admin (Emu *emu, guint index);
JsonObject *emu_wait_rotation (Emu *emu, const char *state);
/* Writes the application's profile for @emu (endpoint, CA file,
 * instance, the pinned unit root) to @config_home/tke/profile.ini. */
void emu_write_profile (Emu *emu, const char *config_home);
/* A new random key (2 parts) loaded and committed on every unit with the
 * demo's administrators' key files; returns its VP (64 hex digits). */
char *emu_commit_new_key (Emu *emu);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Emu, emu_free)

G_END_DECLS
