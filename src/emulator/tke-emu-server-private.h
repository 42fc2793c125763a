/* tke-emu-server-private.h: what the server's files share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * tke-emu-server.c holds the server object and the routing;
 * tke-emu-json.c the JSON request and reply helpers; tke-emu-auth.c the
 * tokens; tke-emu-commands.c the administrative unit commands;
 * tke-emu-rotation.c the keystore's master key rotation; tke-emu-kms.c the
 * KMS calls; tke-emu-grep11.c the GREP11 calls and the keystore check.  The SQL is in
 * tke-emu-store*.c.
 */

#pragma once

#include <json-glib/json-glib.h>

#include "tke-emu-error.h"
#include "tke-emu-identity.h"
#include "tke-emu-server.h"

G_BEGIN_DECLS

/* Larger request bodies are refused before they are read. */
#define TKE_EMU_MAX_BODY (1024 * 1024)
/* A signed command's "expires" may be at most this far ahead (seconds). */
#define TKE_EMU_MAX_COMMAND_LIFETIME 900

struct _TkeEmuServer
{
  TkeEmuStore *store;
  TkeEmuFaults faults;
  SoupServer *soup;
  TkeSecret *jwt_key;
  GThread *worker;
  gint worker_running;
  gint stop;
  gboolean fail_fired;
  TkeEmuIdentity *identity;
};

gboolean _tke_emu_fail (GError **error, int code, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Sets *error in the service's domain and evaluates to FALSE. */
#define FAIL(code, ...) _tke_emu_fail (error, TKE_EMU_ERROR_##code, __VA_ARGS__)

/* tke-emu-json.c */
void _tke_emu_reply_object (SoupServerMessage *msg, guint status, JsonObject *object);
void _tke_emu_reply_error (SoupServerMessage *msg, const GError *error);
JsonObject *_tke_emu_parse_object (
    const char *data, gsize size, const char *what, JsonParser **parser_out, GError **error);
JsonObject *_tke_emu_parse_body (SoupServerMessage *msg,
                                 JsonParser **parser_out,
                                 gboolean allow_empty,
                                 GError **error);
gboolean _tke_emu_only_members (JsonObject *object,
                                const char *const *allowed,
                                const char *where,
                                GError **error);
const char *
_tke_emu_get_string (JsonObject *object, const char *name, gboolean required, GError **error);
gboolean _tke_emu_get_int (
    JsonObject *object, const char *name, gboolean required, gint64 *out, GError **error);
GBytes *_tke_emu_get_base64 (JsonObject *object, const char *name, GError **error);
GBytes *_tke_emu_get_hex (JsonObject *object, const char *name, gsize expected, GError **error);
void _tke_emu_take_string (JsonObject *object, const char *name, char *value);
char *_tke_emu_hex (const guint8 *data, gsize size);

/* tke-emu-auth.c */
gboolean _tke_emu_check_token (TkeEmuServer *self, SoupServerMessage *msg, GError **error);
void _tke_emu_handle_token (TkeEmuServer *self, SoupServerMessage *msg);

/* tke-emu-commands.c */
TkeEmuAdmin *_tke_emu_find_admin (TkeEmuUnit *unit, const char *ski);
void _tke_emu_handle_hsms (TkeEmuServer *self, SoupServerMessage *msg);
void _tke_emu_handle_command (TkeEmuServer *self,
                              SoupServerMessage *msg,
                              const char *instance,
                              const char *hsm_id);

/* tke-emu-rotation.c */
gboolean _tke_emu_refuse_during_rotation (TkeEmuServer *self, GError **error);
gboolean _tke_emu_maybe_complete_rotation (TkeEmuServer *self, GError **error);
JsonObject *_tke_emu_rotation_json (TkeEmuServer *self, GError **error);
void _tke_emu_handle_rotate (TkeEmuServer *self, SoupServerMessage *msg);

/* tke-emu-kms.c */
TkeSecret *_tke_emu_current_key (TkeEmuServer *self, GError **error);
gboolean
_tke_emu_check_instance_header (TkeEmuServer *self, SoupServerMessage *msg, GError **error);
void _tke_emu_handle_kms (TkeEmuServer *self,
                          SoupServerMessage *msg,
                          const char *method,
                          char **parts,
                          guint n_parts,
                          GHashTable *query);

/* tke-emu-grep11.c */
void _tke_emu_handle_grep11 (TkeEmuServer *self, SoupServerMessage *msg, const char *op);
JsonObject *_tke_emu_keystore_verify (TkeEmuServer *self, GError **error);

G_END_DECLS
