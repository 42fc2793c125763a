/* tke-emu-server-private.h: what the server's files share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * tke-emu-server.c holds the server object and the routing;
 * tke-emu-json.c the JSON request and reply helpers; tke-emu-auth.c the
 * tokens; tke-emu-commands.c the administrative unit commands;
 * tke-emu-rotation.c the keystore's master key rotation; tke-emu-kms.c the
 * KMS calls; tke-emu-grep11.c the GREP11 calls and the keystore check;
 * tke-emu-listener.c the connections.  The SQL is in
 * tke-emu-store*.c.
 */

#pragma once

#include <stdio.h>

#include <json-glib/json-glib.h>

#include "tke-emu-error.h"
#include "tke-emu-identity.h"
#include "tke-emu-server.h"

G_BEGIN_DECLS

/* Larger request bodies are answered 413 and not kept (tke-emu-server.c). */
#define TKE_EMU_MAX_BODY (1024 * 1024)
/* A signed command's "expires" may be at most this far ahead (seconds). */
#define TKE_EMU_MAX_COMMAND_LIFETIME 900

/* Sizes checked before anything is decrypted: decryption allocates its
 * output in OpenSSL's secure heap (256 KiB for the whole process), so an
 * unbounded ciphertext would exhaust it for every other key.
 *
 * Key Protect wraps 1 to 4096 bytes of plaintext; its ciphertext here is
 * nonce, plaintext and tag. */
#define TKE_EMU_MAX_PLAINTEXT 4096
#define TKE_EMU_MAX_CIPHERTEXT (TKE_GCM_NONCE_SIZE + TKE_EMU_MAX_PLAINTEXT + TKE_GCM_TAG_SIZE)
/* Key Protect's "aad" on wrap and unwrap: at most this many strings of at
 * most this many bytes (its documented limits). */
#define TKE_EMU_MAX_AAD 255
#define TKE_EMU_MAX_AAD_LENGTH 255
/* A sealed key part is 195 bytes (version, P-521 point, nonce, the 32-byte
 * part, tag); anything much larger is not one. */
#define TKE_EMU_MAX_SEALED_PART 512
/* A GREP11 blob is a WKID and a key of at most 64 bytes wrapped with padding. */
#define TKE_EMU_MAX_BLOB (TKE_WKID_SIZE + 80)

/* Connections (tke-emu-listener.c).  A client has this long from
 * connecting to the end of its TLS handshake: plenty on loopback, and a
 * silent connection is gone soon. */
#define TKE_EMU_HANDSHAKE_TIMEOUT_S 10
/* A request has this long from its first byte to its answer: a client that
 * sends half a request and stops holds nothing for long.  (--read-timeout) */
#define TKE_EMU_READ_TIMEOUT_S 30
/* A keep-alive connection without a request for this long is closed, as
 * Key Protect's own front end does after a minute.  (--idle-timeout) */
#define TKE_EMU_IDLE_TIMEOUT_S 60
/* Connections at most, and never more than the file descriptor limit
 * leaves room for; a new client then replaces the longest-silent one.
 * (--max-connections) */
#define TKE_EMU_MAX_CONNECTIONS 1024

typedef struct _TkeEmuListener TkeEmuListener;
typedef struct _TkeEmuGrep11Keys TkeEmuGrep11Keys;

struct _TkeEmuServer
{
  TkeEmuStore *store;
  TkeEmuFaults faults;
  SoupServer *soup;
  TkeEmuListener *listener;
  TkeSecret *jwt_key;
  GThread *worker;
  gint worker_running;
  gint stop;
  gboolean fail_fired;
  /* [faults] expire-tokens-after-keys: once the rewrap has done this many
   * keys, every token issued so far expires (-1: off).  Tokens carry the
   * generation they were issued in; the worker bumps it. */
  gint64 expire_tokens_after_keys;
  gint token_generation;
  TkeEmuIdentity *identity;
  char *verified_token; /* the last bearer token that verified (tke-emu-auth.c) */
  gint64 verified_exp;
  gint verified_gen;      /* its generation (the token-expiry fault) */
  GBytes *malformed_body; /* the answer libsoup gives a request it cannot parse */
  FILE *request_log;
  TkeEmuGrep11Keys *grep11_keys; /* the GREP11 calls' master keys (tke-emu-grep11.c) */
};

gboolean _tke_emu_fail (GError **error, int code, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Sets *error in the service's domain and evaluates to FALSE. */
#define FAIL(code, ...) _tke_emu_fail (error, TKE_EMU_ERROR_##code, __VA_ARGS__)

/* tke-emu-json.c */
void _tke_emu_reply_object (SoupServerMessage *msg, guint status, JsonObject *object);
void _tke_emu_reply_error (SoupServerMessage *msg, const GError *error);
void _tke_emu_set_error_body (SoupServerMessage *msg, const GError *error);
GBytes *_tke_emu_error_bytes (const GError *error);
void _tke_emu_reply_no_content (SoupServerMessage *msg);
void _tke_emu_reply_kms_error (SoupServerMessage *msg, const GError *error);
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

/* tke-emu-listener.c */
TkeEmuListener *
_tke_emu_listener_new (SoupServer *soup, GTlsCertificate *cert, const TkeEmuFaults *config);
gboolean _tke_emu_listener_listen (TkeEmuListener *self, guint port, GError **error);
guint16 _tke_emu_listener_get_port (TkeEmuListener *self);
void _tke_emu_listener_free (TkeEmuListener *self);

/* tke-emu-auth.c */
gboolean _tke_emu_check_token (TkeEmuServer *self, SoupServerMessage *msg, GError **error);
void _tke_emu_handle_token (TkeEmuServer *self, SoupServerMessage *msg);
void _tke_emu_forget_token (TkeEmuServer *self);

/* tke-emu-commands.c */
typedef struct
{
  TkeEmuServer *self;
  TkeEmuUnit *unit;
  JsonObject *args;
  guint n_valid;      /* valid signatures, repeats included */
  GPtrArray *signers; /* distinct SKIs */
} TkeEmuCommand;

TkeEmuAdmin *_tke_emu_find_admin (TkeEmuUnit *unit, const char *ski);
gboolean
_tke_emu_need_signatures (TkeEmuCommand *cmd, guint needed, gboolean repeats_count, GError **error);
gboolean _tke_emu_refuse_in_imprint (TkeEmuCommand *cmd, const char *what, GError **error);
/* @spec: an hsm_id or a crypto unit number */
gboolean _tke_emu_matches_unit (const char *spec, const TkeEmuUnit *unit);
void _tke_emu_handle_hsms (TkeEmuServer *self, SoupServerMessage *msg);
void _tke_emu_handle_command (TkeEmuServer *self,
                              SoupServerMessage *msg,
                              const char *instance,
                              const char *hsm_id);

/* tke-emu-recovery.c: recovery units' random keys and key transfers,
 * control points, failover units */
gboolean _tke_emu_is_recovery_command (const char *name);
JsonObject *_tke_emu_run_recovery_command (TkeEmuCommand *cmd, const char *name, GError **error);
gboolean _tke_emu_add_control_points (TkeEmuServer *self,
                                      const TkeEmuUnit *unit,
                                      JsonObject *o,
                                      GError **error);
void _tke_emu_handle_failover (TkeEmuServer *self, SoupServerMessage *msg);

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
void _tke_emu_grep11_keys_free (TkeEmuGrep11Keys *keys);
JsonObject *_tke_emu_keystore_verify (TkeEmuServer *self, GError **error);

G_END_DECLS
