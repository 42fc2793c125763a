/* emu-client.h: a test client for tke-emulator (libsoup-3, TLS verified
 * against the emulator's CA file)
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

Emu *emu_start (const char *state_dir, const char *const *extra_args);
void emu_stop (Emu *emu);
void emu_free (Emu *emu);
int emu_wait_exit (Emu *emu);
void emu_login (Emu *emu);

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
EVP_PKEY *emu_demo_admin (Emu *emu, guint index);
JsonObject *emu_wait_rotation (Emu *emu, const char *state);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Emu, emu_free)

G_END_DECLS
