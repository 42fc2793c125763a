/* tke-emu-server.c: the HTTPS service (data/doc/service-protocol.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every request runs on the main context; a state change is one SQLite
 * transaction that is rolled back on any error, so a refused request
 * changes nothing.  The rotation's rewrap runs in a worker thread with its
 * own connection, one transaction per batch.
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <openssl/crypto.h>

#include "tke-emu-error.h"
#include "tke-emu-server.h"
#include "tke-emu-tls.h"

#define MAX_BODY (1024 * 1024)
#define MSG_STARTED "Master key rotation started."
#define MSG_REWRAPPED "KMS CRK rewrap successful, waiting on cryptounit-mk-setimm."
#define MSG_DONE "Master key rotation successful."
#define KEY_TYPE "application/vnd.ibm.kms.key+json"

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
};

typedef struct
{
  gint64 id;
  char *state;
  char *from_vp;
  char *to_vp;
  gint64 keys_total;
  gint64 keys_done;
  char *started;
  char *error_code;
  char *error_message;
} Rotation;

static void
rotation_free (Rotation *r)
{
  if (r == NULL)
    return;
  g_free (r->state);
  g_free (r->from_vp);
  g_free (r->to_vp);
  g_free (r->started);
  g_free (r->error_code);
  g_free (r->error_message);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Rotation, rotation_free)

static gboolean set_fail (GError **error, int code, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
set_fail (GError **error, int code, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  if (error != NULL)
    *error = g_error_new_valist (TKE_EMU_ERROR, code, format, args);
  va_end (args);
  return FALSE;
}

#define FAIL(code, ...) set_fail (error, TKE_EMU_ERROR_##code, __VA_ARGS__)

/* JSON helpers */

static void
reply_node (SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  gsize len = 0;
  char *text;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, &len);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, len);
}

static void
reply_object (SoupServerMessage *msg, guint status, JsonObject *object)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  reply_node (msg, status, node);
}

static void
reply_error (SoupServerMessage *msg, const GError *error)
{
  JsonObject *outer = json_object_new ();
  JsonObject *inner = json_object_new ();
  guint status = tke_emu_error_status (error);

  json_object_set_string_member (inner, "code", tke_emu_error_code (error));
  json_object_set_int_member (inner, "status", status);
  json_object_set_string_member (inner, "message", error->message);
  json_object_set_object_member (outer, "error", inner);
  reply_object (msg, status, outer);
}

static JsonObject *
parse_object (
    const char *data, gsize size, const char *what, JsonParser **parser_out, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;
  JsonNode *root;

  if (size == 0 || !g_utf8_validate (data, (gssize) size, NULL) ||
      !json_parser_load_from_data (parser, data, (gssize) size, &local))
    {
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_MALFORMED_JSON,
                   "The %s is not valid JSON%s%s.", what, local != NULL ? ": " : "",
                   local != NULL ? local->message : "");
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_MALFORMED_JSON,
                   "The %s must be a JSON object.", what);
      return NULL;
    }
  *parser_out = g_steal_pointer (&parser);
  return json_node_get_object (root);
}

static JsonObject *
parse_body (SoupServerMessage *msg, JsonParser **parser_out, gboolean allow_empty, GError **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  if (body->length == 0 && allow_empty)
    {
      *parser_out = json_parser_new ();
      json_parser_load_from_data (*parser_out, "{}", -1, NULL);
      return json_node_get_object (json_parser_get_root (*parser_out));
    }
  return parse_object (body->data, (gsize) body->length, "request body", parser_out, error);
}

static gboolean
only_members (JsonObject *object, const char *const *allowed, const char *where, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      return FAIL (INVALID_FIELD, "Unknown field \"%s\" in %s.", (const char *) l->data, where);
  return TRUE;
}

static const char *
get_string (JsonObject *object, const char *name, gboolean required, GError **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL)
    {
      if (required)
        FAIL (INVALID_FIELD, "The field \"%s\" is missing.", name);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      FAIL (INVALID_FIELD, "The field \"%s\" must be a string.", name);
      return NULL;
    }
  return json_node_get_string (node);
}

static gboolean
get_int (JsonObject *object, const char *name, gboolean required, gint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL)
    return required ? FAIL (INVALID_FIELD, "The field \"%s\" is missing.", name) : TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FAIL (INVALID_FIELD, "The field \"%s\" must be an integer.", name);
  *out = json_node_get_int (node);
  return TRUE;
}

static GBytes *
get_base64 (JsonObject *object, const char *name, GError **error)
{
  const char *text = get_string (object, name, TRUE, error);
  gsize len = 0;
  guchar *data;

  if (text == NULL)
    return NULL;
  for (const char *p = text; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=')
      {
        FAIL (INVALID_FIELD, "The field \"%s\" must be base64.", name);
        return NULL;
      }
  data = g_base64_decode (text, &len);
  if (len == 0 && *text != '\0')
    {
      g_free (data);
      FAIL (INVALID_FIELD, "The field \"%s\" must be base64.", name);
      return NULL;
    }
  return g_bytes_new_take (data, len);
}

static GBytes *
get_hex (JsonObject *object, const char *name, gsize expected, GError **error)
{
  const char *text = get_string (object, name, TRUE, error);
  GBytes *bytes;

  if (text == NULL)
    return NULL;
  bytes = tke_crypto_hex_decode (text, NULL);
  if (bytes == NULL || (expected != 0 && g_bytes_get_size (bytes) != expected))
    {
      g_clear_pointer (&bytes, g_bytes_unref);
      if (expected != 0)
        FAIL (INVALID_FIELD, "The field \"%s\" must be %" G_GSIZE_FORMAT " hex digits.", name,
              expected * 2);
      else
        FAIL (INVALID_FIELD, "The field \"%s\" must be hex.", name);
    }
  return bytes;
}

static void
take_string (JsonObject *object, const char *name, char *value)
{
  json_object_set_string_member (object, name, value);
  g_free (value);
}

static char *
hex (const guint8 *data, gsize size)
{
  return tke_crypto_hex_encode (data, size);
}

/* Tokens: HS256 JWTs */

static char *
b64url (const guint8 *data, gsize size)
{
  char *text = g_base64_encode (data, size);
  char *end;

  g_strdelimit (text, "+", '-');
  g_strdelimit (text, "/", '_');
  end = strchr (text, '=');
  if (end != NULL)
    *end = '\0';
  return text;
}

static GBytes *
b64url_decode (const char *text)
{
  g_autoptr (GString) s = g_string_new (text);
  gsize len = 0;
  guchar *data;

  g_strdelimit (s->str, "-", '+');
  g_strdelimit (s->str, "_", '/');
  while (s->len % 4 != 0)
    g_string_append_c (s, '=');
  data = g_base64_decode (s->str, &len);
  return g_bytes_new_take (data, len);
}

static void
jwt_mac (TkeEmuServer *self, const char *signing_input, guint8 mac[32])
{
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, tke_secret_get_data (self->jwt_key),
                                       tke_secret_get_size (self->jwt_key));
  gsize len = 32;

  g_hmac_update (hmac, (const guchar *) signing_input, (gssize) strlen (signing_input));
  g_hmac_get_digest (hmac, mac, &len);
}

static char *
make_token (TkeEmuServer *self, gint64 iat, gint64 exp)
{
  static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  g_autofree char *payload = g_strdup_printf ("{\"iss\":\"tke-emulator\",\"sub\":\"ServiceId-tke-"
                                              "emulator\",\"iam_id\":\"ServiceId-tke-emulator\","
                                              "\"iat\":%" G_GINT64_FORMAT
                                              ",\"exp\":%" G_GINT64_FORMAT ",\"instance\":\"%s\"}",
                                              iat, exp, self->store->instance_id);
  g_autofree char *h = b64url ((const guint8 *) header, strlen (header));
  g_autofree char *p = b64url ((const guint8 *) payload, strlen (payload));
  g_autofree char *input = g_strconcat (h, ".", p, NULL);
  g_autofree char *sig = NULL;
  guint8 mac[32];

  jwt_mac (self, input, mac);
  sig = b64url (mac, sizeof mac);
  return g_strconcat (input, ".", sig, NULL);
}

static gboolean
check_token (TkeEmuServer *self, SoupServerMessage *msg, GError **error)
{
  const char *auth =
      soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");
  g_auto (GStrv) parts = NULL;
  g_autofree char *input = NULL;
  g_autoptr (GBytes) sig = NULL;
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *claims;
  gint64 exp = 0;
  guint8 mac[32];

  if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0)
    return FAIL (UNAUTHORIZED, "Unauthorized: the request has no bearer token. Log in first.");
  parts = g_strsplit (auth + 7, ".", -1);
  if (g_strv_length (parts) != 3)
    return FAIL (UNAUTHORIZED, "Unauthorized: the bearer token is malformed.");
  input = g_strconcat (parts[0], ".", parts[1], NULL);
  jwt_mac (self, input, mac);
  sig = b64url_decode (parts[2]);
  if (g_bytes_get_size (sig) != sizeof mac ||
      CRYPTO_memcmp (g_bytes_get_data (sig, NULL), mac, sizeof mac) != 0)
    return FAIL (UNAUTHORIZED, "Unauthorized: the bearer token was not issued by this service.");
  payload = b64url_decode (parts[1]);
  claims = parse_object (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload), "token",
                         &parser, NULL);
  if (claims == NULL || !get_int (claims, "exp", TRUE, &exp, NULL))
    return FAIL (UNAUTHORIZED, "Unauthorized: the bearer token is malformed.");
  if (g_get_real_time () / G_USEC_PER_SEC >= exp)
    return FAIL (TOKEN_EXPIRED, "The bearer token expired. Log in again.");
  return TRUE;
}

static void
handle_token (TkeEmuServer *self, SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autofree char *text = g_strndup (body->data, (gsize) body->length);
  g_autoptr (GHashTable) form = soup_form_decode (text);
  g_autoptr (GError) error = NULL;
  const char *grant = g_hash_table_lookup (form, "grant_type");
  const char *apikey = g_hash_table_lookup (form, "apikey");
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint8 refresh[24];
  JsonObject *out;

  if (g_strcmp0 (grant, "urn:ibm:params:oauth:grant-type:apikey") != 0)
    g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_INVALID_GRANT,
                 "grant_type must be urn:ibm:params:oauth:grant-type:apikey.");
  else if (apikey == NULL)
    g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_INVALID_FIELD,
                 "The apikey field is missing.");
  else if (strlen (apikey) != strlen (self->store->api_key) ||
           CRYPTO_memcmp (apikey, self->store->api_key, strlen (apikey)) != 0)
    g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_UNAUTHORIZED, "The API key is not valid.");
  if (error != NULL || !tke_crypto_random_bytes (refresh, sizeof refresh, &error))
    {
      reply_error (msg, error);
      return;
    }

  out = json_object_new ();
  take_string (out, "access_token", make_token (self, now, now + self->faults.token_ttl));
  take_string (out, "refresh_token", hex (refresh, sizeof refresh));
  json_object_set_string_member (out, "token_type", "Bearer");
  json_object_set_int_member (out, "expires_in", self->faults.token_ttl);
  json_object_set_int_member (out, "expiration", now + self->faults.token_ttl);
  json_object_set_string_member (out, "scope", "ibm openid");
  reply_object (msg, 200, out);
}

/* Rotation state */

static Rotation *
rotation_load (sqlite3 *db, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  Rotation *r = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db,
                          "SELECT id, state, from_vp, to_vp, keys_total, keys_done, started,"
                          " error_code, error_message FROM rotation ORDER BY id DESC LIMIT 1",
                          -1, &stmt, NULL) != SQLITE_OK)
    {
      tke_emu_db_error (db, error);
      return NULL;
    }
  rc = sqlite3_step (stmt);
  r = g_new0 (Rotation, 1);
  if (rc == SQLITE_ROW)
    {
      r->id = sqlite3_column_int64 (stmt, 0);
      r->state = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      r->from_vp = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      r->to_vp = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      r->keys_total = sqlite3_column_int64 (stmt, 4);
      r->keys_done = sqlite3_column_int64 (stmt, 5);
      r->started = g_strdup ((const char *) sqlite3_column_text (stmt, 6));
      r->error_code = g_strdup ((const char *) sqlite3_column_text (stmt, 7));
      r->error_message = g_strdup ((const char *) sqlite3_column_text (stmt, 8));
    }
  else if (rc == SQLITE_DONE)
    r->state = g_strdup ("none");
  else
    {
      g_clear_pointer (&r, rotation_free);
      tke_emu_db_error (db, error);
    }
  sqlite3_finalize (stmt);
  return r;
}

static gboolean
rotation_active (const Rotation *r)
{
  return g_strcmp0 (r->state, "rewrapping") == 0 || g_strcmp0 (r->state, "rewrapped") == 0;
}

static gboolean
refuse_during_rotation (TkeEmuServer *self, GError **error)
{
  g_autoptr (Rotation) r = rotation_load (self->store->db, error);

  if (r == NULL)
    return FALSE;
  if (rotation_active (r))
    return FAIL (
        ROTATION_IN_PROGRESS,
        "A master key rotation is in progress; this operation is refused until it completes.");
  return TRUE;
}

static gboolean
add_message (sqlite3 *db, gint64 rotation_id, const char *message, GError **error)
{
  g_autofree char *now = tke_emu_now_iso ();
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (
          db, "INSERT INTO rotation_messages (rotation_id, ts, message) VALUES (?, ?, ?)", -1,
          &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (db, error);
  sqlite3_bind_int64 (stmt, 1, rotation_id);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, message, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  return rc == SQLITE_DONE || tke_emu_db_error (db, error);
}

static gboolean
exec_int (sqlite3 *db, const char *sql, gint64 a, const char *text, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (db, error);
  sqlite3_bind_int64 (stmt, 1, a);
  if (text != NULL)
    sqlite3_bind_text (stmt, 2, text, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  return rc == SQLITE_DONE || tke_emu_db_error (db, error);
}

static gint64
count_keys (sqlite3 *db, const guint8 *wkid, gboolean equal)
{
  sqlite3_stmt *stmt = NULL;
  gint64 n = -1;

  if (sqlite3_prepare_v2 (db,
                          wkid == NULL ? "SELECT count(*) FROM keys"
                          : equal      ? "SELECT count(*) FROM keys WHERE wkid = ?"
                                       : "SELECT count(*) FROM keys WHERE wkid != ?",
                          -1, &stmt, NULL) != SQLITE_OK)
    return -1;
  if (wkid != NULL)
    sqlite3_bind_blob (stmt, 1, wkid, TKE_WKID_SIZE, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

static JsonObject *
rotation_json (TkeEmuServer *self, GError **error)
{
  /* The flag before the row: the worker records its last state before it
   * clears the flag, so a row still "rewrapping" with the flag clear
   * before the read was interrupted; read after, it may just have ended. */
  gboolean running = g_atomic_int_get (&self->worker_running);
  g_autoptr (Rotation) r = rotation_load (self->store->db, error);
  JsonObject *out;
  JsonArray *messages = json_array_new ();
  sqlite3_stmt *stmt = NULL;
  const char *state;

  if (r == NULL)
    {
      json_array_unref (messages);
      return NULL;
    }
  state = r->state;
  if (g_strcmp0 (state, "rewrapping") == 0 && !running)
    state = "failed";

  out = json_object_new ();
  json_object_set_string_member (out, "state", state);
  json_object_set_int_member (out, "keys_total", r->keys_total);
  json_object_set_int_member (out, "keys_done", r->keys_done);
  if (r->id != 0)
    {
      json_object_set_string_member (out, "from_mkvp", r->from_vp);
      json_object_set_string_member (out, "to_mkvp", r->to_vp);
      json_object_set_string_member (out, "started", r->started);
    }
  else
    {
      json_object_set_null_member (out, "from_mkvp");
      json_object_set_null_member (out, "to_mkvp");
      json_object_set_null_member (out, "started");
    }
  if (sqlite3_prepare_v2 (self->store->db,
                          "SELECT ts, message FROM rotation_messages WHERE rotation_id = ?"
                          " ORDER BY id",
                          -1, &stmt, NULL) == SQLITE_OK)
    {
      sqlite3_bind_int64 (stmt, 1, r->id);
      while (sqlite3_step (stmt) == SQLITE_ROW)
        {
          JsonObject *m = json_object_new ();

          json_object_set_string_member (m, "timestamp",
                                         (const char *) sqlite3_column_text (stmt, 0));
          json_object_set_string_member (m, "message",
                                         (const char *) sqlite3_column_text (stmt, 1));
          json_array_add_object_element (messages, m);
        }
      sqlite3_finalize (stmt);
    }
  json_object_set_array_member (out, "messages", messages);
  if (r->error_code != NULL)
    {
      JsonObject *e = json_object_new ();

      json_object_set_string_member (e, "code", r->error_code);
      json_object_set_string_member (e, "message",
                                     r->error_message != NULL ? r->error_message : "");
      json_object_set_object_member (out, "error", e);
    }
  else if (g_str_equal (state, "failed"))
    {
      JsonObject *e = json_object_new ();

      json_object_set_string_member (e, "code", "interrupted");
      json_object_set_string_member (
          e, "message", "The service stopped during the rewrap; run Rotate again to resume it.");
      json_object_set_object_member (out, "error", e);
    }
  else
    json_object_set_null_member (out, "error");
  return out;
}

/* Units */

static JsonObject *
unit_summary (const TkeEmuUnit *unit)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "hsm_id", unit->hsm_id);
  json_object_set_int_member (o, "crypto_unit_num", unit->num);
  json_object_set_string_member (o, "type", unit->type);
  json_object_set_string_member (o, "location", unit->location);
  json_object_set_string_member (o, "state", "ACTIVE");
  json_object_set_int_member (o, "version", 1);
  json_object_set_string_member (o, "serial_number", unit->serial);
  return o;
}

static JsonObject *
unit_query (TkeEmuServer *self, const TkeEmuUnit *unit)
{
  JsonObject *o = unit_summary (unit);
  JsonArray *admins = json_array_new ();
  guint8 vp[TKE_VP_SIZE];

  json_object_remove_member (o, "state");
  json_object_remove_member (o, "version");
  json_object_set_boolean_member (o, "imprint_mode", tke_emu_unit_imprint (unit));
  json_object_set_int_member (o, "signature_threshold", unit->sig_thr);
  json_object_set_int_member (o, "revocation_threshold", unit->rev_thr);
  for (guint i = 0; i < unit->admins->len; i++)
    {
      TkeEmuAdmin *admin = g_ptr_array_index (unit->admins, i);
      JsonObject *a = json_object_new ();

      json_object_set_string_member (a, "name", admin->name);
      json_object_set_string_member (a, "ski", admin->ski);
      json_array_add_object_element (admins, a);
    }
  json_object_set_array_member (o, "admins", admins);
  json_object_set_string_member (o, "new_mk_status", unit->new_state);
  tke_emu_unit_register_vp (self->store, unit, TRUE, vp);
  take_string (o, "new_mkvp", hex (vp, sizeof vp));
  json_object_set_string_member (o, "current_mk_status", unit->cur_state);
  tke_emu_unit_register_vp (self->store, unit, FALSE, vp);
  take_string (o, "current_mkvp", hex (vp, sizeof vp));
  json_object_set_int_member (o, "counter", unit->counter);
  if (unit->importer_pub != NULL)
    take_string (
        o, "importer_key",
        hex (g_bytes_get_data (unit->importer_pub, NULL), g_bytes_get_size (unit->importer_pub)));
  else
    json_object_set_null_member (o, "importer_key");
  return o;
}

static void
handle_hsms (TkeEmuServer *self, SoupServerMessage *msg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) units = tke_emu_units_load (self->store, FALSE, &error);
  JsonObject *out, *meta;
  JsonArray *metadata, *hsms, *source;

  if (units == NULL)
    {
      reply_error (msg, error);
      return;
    }
  out = json_object_new ();
  metadata = json_array_new ();
  meta = json_object_new ();
  json_object_set_string_member (meta, "collectionType", "application/vnd.ibm.tke.hsm+json");
  json_object_set_int_member (meta, "collectionTotal", units->len);
  json_array_add_object_element (metadata, meta);
  hsms = json_array_new ();
  source = json_array_new ();
  for (guint i = 0; i < units->len; i++)
    {
      TkeEmuUnit *unit = g_ptr_array_index (units, i);

      json_array_add_object_element (g_str_equal (unit->type, "RECOVERY") ? source : hsms,
                                     unit_summary (unit));
    }
  json_object_set_array_member (out, "metadata", metadata);
  json_object_set_array_member (out, "hsms", hsms);
  json_object_set_array_member (out, "source_hsms", source);
  reply_object (msg, 200, out);
}

/* Administrative commands */

typedef struct
{
  TkeEmuServer *self;
  TkeEmuUnit *unit;
  JsonObject *args;
  guint n_valid;      /* valid signatures, repeats included */
  GPtrArray *signers; /* distinct SKIs */
} Command;

static TkeEmuAdmin *
find_admin (TkeEmuUnit *unit, const char *ski)
{
  for (guint i = 0; i < unit->admins->len; i++)
    {
      TkeEmuAdmin *admin = g_ptr_array_index (unit->admins, i);

      if (g_ascii_strcasecmp (admin->ski, ski) == 0)
        return admin;
    }
  return NULL;
}

static gboolean
verify_signatures (Command *cmd, JsonArray *signatures, GBytes *command_bytes, GError **error)
{
  guint n = signatures != NULL ? json_array_get_length (signatures) : 0;

  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (signatures, i);
      JsonObject *entry;
      const char *ski;
      g_autoptr (GBytes) sig = NULL;
      g_autoptr (EVP_PKEY) key = NULL;
      TkeEmuAdmin *admin;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return FAIL (INVALID_FIELD, "Each entry of \"signatures\" must be an object.");
      entry = json_node_get_object (node);
      if ((ski = get_string (entry, "ski", TRUE, error)) == NULL ||
          (sig = get_base64 (entry, "signature", error)) == NULL)
        return FALSE;
      admin = find_admin (cmd->unit, ski);
      if (admin == NULL)
        return FAIL (UNKNOWN_SIGNER,
                     "The signer %.16s… is not an administrator of crypto unit %" G_GINT64_FORMAT
                     ".",
                     ski, cmd->unit->num);
      key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (admin->point, NULL),
                                                 g_bytes_get_size (admin->point), NULL);
      if (key == NULL ||
          !tke_crypto_verify (key, g_bytes_get_data (command_bytes, NULL),
                              g_bytes_get_size (command_bytes), g_bytes_get_data (sig, NULL),
                              g_bytes_get_size (sig), NULL))
        return FAIL (BAD_SIGNATURE,
                     "The signature of %s (%.16s…) does not verify over the command.", admin->name,
                     admin->ski);
      cmd->n_valid++;
      if (!g_ptr_array_find_with_equal_func (cmd->signers, admin->ski, g_str_equal, NULL))
        g_ptr_array_add (cmd->signers, admin->ski);
    }
  return TRUE;
}

static gboolean
need_signatures (Command *cmd, guint needed, gboolean repeats_count, GError **error)
{
  guint have = repeats_count ? cmd->n_valid : cmd->signers->len;

  if (have < needed)
    return FAIL (THRESHOLD_NOT_MET,
                 "The command needs %u signature%s%s; %u valid signature%s given.", needed,
                 needed == 1 ? "" : "s", repeats_count ? "" : " from distinct administrators", have,
                 have == 1 ? " was" : "s were");
  return TRUE;
}

static gboolean
refuse_in_imprint (Command *cmd, const char *what, GError **error)
{
  if (tke_emu_unit_imprint (cmd->unit))
    return FAIL (IMPRINT_MODE,
                 "Crypto unit %" G_GINT64_FORMAT " is in imprint mode: %s is not allowed "
                 "until administrators and signature thresholds are set.",
                 cmd->unit->num, what);
  return TRUE;
}

static gboolean
check_vp_arg (Command *cmd, const TkeSecret *value, GError **error)
{
  g_autoptr (GBytes) want = get_hex (cmd->args, "new_mkvp", TKE_VP_SIZE, error);
  guint8 vp[TKE_VP_SIZE];

  if (want == NULL)
    return FALSE;
  tke_crypto_verification_pattern (value, vp);
  if (memcmp (vp, g_bytes_get_data (want, NULL), TKE_VP_SIZE) != 0)
    return FAIL (VP_MISMATCH,
                 "The new master key register of crypto unit %" G_GINT64_FORMAT
                 " does not hold the verification pattern the command names.",
                 cmd->unit->num);
  return TRUE;
}

static JsonObject *
cmd_add_admin (Command *cmd, GError **error)
{
  static const char *const allowed[] = { "name", "public_key", NULL };
  const char *name;
  g_autoptr (GBytes) point = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  guint8 ski[TKE_SKI_SIZE];
  g_autofree char *ski_hex = NULL;
  TkeEmuAdmin *admin;
  JsonObject *out;

  if (!only_members (cmd->args, allowed, "args", error) ||
      (!tke_emu_unit_imprint (cmd->unit) &&
       !need_signatures (cmd, cmd->unit->sig_thr, FALSE, error)) ||
      (name = get_string (cmd->args, "name", TRUE, error)) == NULL ||
      (point = get_hex (cmd->args, "public_key", 0, error)) == NULL)
    return NULL;
  if (*name == '\0' || g_utf8_strlen (name, -1) > 30)
    return FAIL (INVALID_FIELD, "An administrator name has 1 to 30 characters."), NULL;
  key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                             g_bytes_get_size (point), NULL);
  if (key == NULL || g_bytes_get_size (point) != 133 || !tke_crypto_ski (key, ski, NULL))
    return FAIL (INVALID_FIELD, "\"public_key\" is not an uncompressed P-521 point."), NULL;
  ski_hex = hex (ski, sizeof ski);
  if (find_admin (cmd->unit, ski_hex) != NULL)
    return FAIL (ADMIN_EXISTS, "That signature key is already installed as an administrator."),
           NULL;
  if (cmd->unit->admins->len >= TKE_EMU_MAX_ADMINS)
    return FAIL (ADMIN_LIMIT, "A crypto unit has at most 8 administrators."), NULL;
  admin = g_new0 (TkeEmuAdmin, 1);
  admin->name = g_strdup (name);
  admin->ski = g_strdup (ski_hex);
  admin->point = g_bytes_ref (point);
  g_ptr_array_add (cmd->unit->admins, admin);
  out = json_object_new ();
  json_object_set_string_member (out, "ski", ski_hex);
  return out;
}

static JsonObject *
cmd_remove_admin (Command *cmd, GError **error)
{
  static const char *const allowed[] = { "ski", NULL };
  const char *ski;
  TkeEmuAdmin *admin;
  guint remaining;

  if (!only_members (cmd->args, allowed, "args", error) ||
      (!tke_emu_unit_imprint (cmd->unit) &&
       !need_signatures (cmd, cmd->unit->rev_thr, FALSE, error)) ||
      (ski = get_string (cmd->args, "ski", TRUE, error)) == NULL)
    return NULL;
  admin = find_admin (cmd->unit, ski);
  if (admin == NULL)
    return FAIL (NOT_FOUND, "No administrator with that SKI is installed."), NULL;
  remaining = cmd->unit->admins->len - 1;
  if (remaining < cmd->unit->sig_thr || remaining < cmd->unit->rev_thr)
    return FAIL (THRESHOLD_EXCEEDS_ADMINS,
                 "Removing this administrator would leave fewer administrators "
                 "than the signature or revocation threshold."),
           NULL;
  g_ptr_array_remove (cmd->unit->admins, admin);
  return json_object_new ();
}

static JsonObject *
cmd_set_thresholds (Command *cmd, GError **error)
{
  static const char *const allowed[] = { "signature_threshold", "revocation_threshold", NULL };
  gint64 sig = 0, rev = 0;
  JsonObject *out;

  if (!only_members (cmd->args, allowed, "args", error) ||
      !get_int (cmd->args, "signature_threshold", TRUE, &sig, error) ||
      !get_int (cmd->args, "revocation_threshold", TRUE, &rev, error))
    return NULL;
  if (sig < 1 || sig > 8 || rev < 1 || rev > 8)
    return FAIL (INVALID_FIELD, "Thresholds are 1 to 8."), NULL;
  if (sig > cmd->unit->admins->len || rev > cmd->unit->admins->len)
    return FAIL (THRESHOLD_EXCEEDS_ADMINS,
                 "A threshold cannot exceed the number of installed "
                 "administrators (%u).",
                 cmd->unit->admins->len),
           NULL;
  /* Leaving imprint mode takes the new signature threshold's signatures. */
  if (!need_signatures (cmd,
                        tke_emu_unit_imprint (cmd->unit) ? (guint) sig : (guint) cmd->unit->sig_thr,
                        FALSE, error))
    return NULL;
  cmd->unit->sig_thr = sig;
  cmd->unit->rev_thr = rev;
  out = json_object_new ();
  json_object_set_boolean_member (out, "imprint_mode", FALSE);
  return out;
}

static JsonObject *
cmd_generate_importer (Command *cmd, GError **error)
{
  static const char *const allowed[] = { NULL };
  g_autoptr (EVP_PKEY) key = NULL;
  JsonObject *out;

  if (!only_members (cmd->args, allowed, "args", error) ||
      !refuse_in_imprint (cmd, "generating an importer key", error) ||
      !need_signatures (cmd, 1, FALSE, error) || (key = tke_crypto_ec_generate (error)) == NULL ||
      !tke_emu_unit_set_importer (cmd->self->store, cmd->unit, key, error))
    return NULL;
  out = json_object_new ();
  take_string (out, "importer_key",
               hex (g_bytes_get_data (cmd->unit->importer_pub, NULL),
                    g_bytes_get_size (cmd->unit->importer_pub)));
  return out;
}

static JsonObject *
cmd_load (Command *cmd, GError **error)
{
  static const char *const allowed[] = { "parts", NULL };
  JsonNode *parts_node;
  JsonArray *parts;
  g_autoptr (EVP_PKEY) importer = NULL;
  g_autoptr (TkeSecret) value = NULL;
  g_autoptr (TkeSecret) current = NULL;
  guint n;
  guint8 vp[TKE_VP_SIZE];
  JsonObject *out;

  if (!only_members (cmd->args, allowed, "args", error) ||
      !refuse_in_imprint (cmd, "loading", error))
    return NULL;
  parts_node = json_object_get_member (cmd->args, "parts");
  if (parts_node == NULL || !JSON_NODE_HOLDS_ARRAY (parts_node))
    return FAIL (INVALID_FIELD, "\"parts\" must be an array of 2 or 3 sealed key parts."), NULL;
  parts = json_node_get_array (parts_node);
  n = json_array_get_length (parts);
  if (n < 2 || n > 3)
    return FAIL (INVALID_FIELD, "A master key is loaded from 2 or 3 parts, not %u.", n), NULL;
  if (!need_signatures (cmd, n, TRUE, error))
    return NULL;
  if (!g_str_equal (cmd->unit->new_state, "Empty"))
    return FAIL (REGISTER_NOT_EMPTY,
                 "The new master key register of crypto unit %" G_GINT64_FORMAT
                 " is %s; clear it before loading.",
                 cmd->unit->num, cmd->unit->new_state),
           NULL;
  importer = tke_emu_unit_get_importer (cmd->self->store, cmd->unit, error);
  if (importer == NULL)
    return NULL;

  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (parts, i);
      g_autoptr (GBytes) sealed = NULL;
      g_autoptr (TkeSecret) part = NULL;
      g_autofree char *aad = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return FAIL (INVALID_FIELD, "Each part must be an object with \"sealed\"."), NULL;
      sealed = get_base64 (json_node_get_object (node), "sealed", error);
      if (sealed == NULL)
        return NULL;
      aad = g_strdup_printf ("tke-keypart-v1|%s|new|%u|%u", cmd->unit->hsm_id, i + 1, n);
      part = tke_crypto_open (importer, (const guint8 *) aad, strlen (aad),
                              g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), NULL);
      if (part == NULL || tke_secret_get_size (part) != TKE_MASTER_KEY_SIZE)
        return FAIL (INVALID_KEY_PART,
                     "Key part %u of %u does not open: it was altered, or sealed to "
                     "another importer key or for another unit or position.",
                     i + 1, n),
               NULL;
      if (value == NULL)
        value = g_steal_pointer (&part);
      else
        {
          TkeSecret *x = tke_crypto_xor (value, part, error);

          if (x == NULL)
            return NULL;
          tke_secret_unref (value);
          value = x;
        }
    }

  if (cmd->unit->cur_value != NULL)
    {
      current = tke_emu_unit_get_register (cmd->self->store, cmd->unit, FALSE, error);
      if (current == NULL)
        return NULL;
      if (tke_secret_equal (current, value))
        return FAIL (
                   SAME_AS_CURRENT,
                   "The loaded key equals the current master key; at least one part must differ."),
               NULL;
    }
  if (!tke_emu_unit_set_register (cmd->self->store, cmd->unit, TRUE, value, "Full Uncommitted",
                                  error) ||
      !tke_emu_unit_set_importer (cmd->self->store, cmd->unit, NULL, error))
    return NULL;
  tke_crypto_verification_pattern (value, vp);
  out = json_object_new ();
  json_object_set_string_member (out, "new_mk_status", "Full Uncommitted");
  take_string (out, "new_mkvp", hex (vp, sizeof vp));
  return out;
}

static JsonObject *
cmd_commit (Command *cmd, GError **error)
{
  static const char *const allowed[] = { "new_mkvp", NULL };
  g_autoptr (TkeSecret) value = NULL;
  guint8 vp[TKE_VP_SIZE];
  JsonObject *out;

  if (!only_members (cmd->args, allowed, "args", error) ||
      !refuse_in_imprint (cmd, "commit", error) ||
      !need_signatures (cmd, cmd->unit->sig_thr, FALSE, error))
    return NULL;
  if (!g_str_equal (cmd->unit->new_state, "Full Uncommitted"))
    return FAIL (REGISTER_STATE,
                 "Only a Full Uncommitted new register can be committed; crypto unit "
                 "%" G_GINT64_FORMAT "'s is %s.",
                 cmd->unit->num, cmd->unit->new_state),
           NULL;
  value = tke_emu_unit_get_register (cmd->self->store, cmd->unit, TRUE, error);
  if (value == NULL || !check_vp_arg (cmd, value, error) ||
      !tke_emu_unit_set_register (cmd->self->store, cmd->unit, TRUE, value, "Full Committed",
                                  error))
    return NULL;
  tke_crypto_verification_pattern (value, vp);
  out = json_object_new ();
  json_object_set_string_member (out, "new_mk_status", "Full Committed");
  take_string (out, "new_mkvp", hex (vp, sizeof vp));
  return out;
}

static gboolean
matches_unit (const char *spec, const TkeEmuUnit *unit)
{
  g_autofree char *num = g_strdup_printf ("%" G_GINT64_FORMAT, unit->num);

  return spec != NULL && (g_str_equal (spec, unit->hsm_id) || g_str_equal (spec, num));
}

static gboolean maybe_complete_rotation (TkeEmuServer *self, GError **error);

static JsonObject *
cmd_set_immediate (Command *cmd, GError **error)
{
  static const char *const allowed[] = { "new_mkvp", NULL };
  g_autoptr (TkeSecret) value = NULL;
  g_autoptr (Rotation) rotation = NULL;
  g_autofree char *vp_hex = NULL;
  guint8 vp[TKE_VP_SIZE], wkid[TKE_WKID_SIZE];
  gint64 stale;
  JsonObject *out;

  if (!only_members (cmd->args, allowed, "args", error) ||
      !refuse_in_imprint (cmd, "set immediate", error) || !need_signatures (cmd, 1, FALSE, error))
    return NULL;
  if (!g_str_equal (cmd->unit->new_state, "Full Committed"))
    return FAIL (REGISTER_STATE,
                 "Set immediate needs a Full Committed new register; crypto unit %" G_GINT64_FORMAT
                 "'s is %s.",
                 cmd->unit->num, cmd->unit->new_state),
           NULL;
  value = tke_emu_unit_get_register (cmd->self->store, cmd->unit, TRUE, error);
  if (value == NULL || !check_vp_arg (cmd, value, error))
    return NULL;
  tke_crypto_verification_pattern (value, vp);
  tke_crypto_wkid (value, wkid);
  vp_hex = hex (vp, sizeof vp);

  rotation = rotation_load (cmd->self->store->db, error);
  if (rotation == NULL)
    return NULL;
  if (g_str_equal (rotation->state, "rewrapping"))
    return FAIL (ROTATION_IN_PROGRESS,
                 "The keystore is still being rewrapped: run Rotate again to finish "
                 "it before set immediate."),
           NULL;
  if (g_str_equal (rotation->state, "rewrapped") && g_strcmp0 (rotation->to_vp, vp_hex) != 0)
    return FAIL (VP_MISMATCH,
                 "The keystore was rewrapped to another master key than this unit's new register."),
           NULL;
  stale = count_keys (cmd->self->store->db, wkid, FALSE);
  if (stale != 0)
    return FAIL (REWRAP_REQUIRED,
                 "%" G_GINT64_FORMAT " keys in the keystore are not wrapped under the new "
                 "master key yet: rotate first.",
                 stale),
           NULL;
  if (matches_unit (cmd->self->faults.fail_setimm_on, cmd->unit))
    return FAIL (INJECTED_FAULT,
                 "Injected fault: set immediate fails on crypto unit %" G_GINT64_FORMAT ".",
                 cmd->unit->num),
           NULL;

  if (!tke_emu_unit_set_register (cmd->self->store, cmd->unit, FALSE, value, "Valid", error) ||
      !tke_emu_unit_set_register (cmd->self->store, cmd->unit, TRUE, NULL, "Empty", error) ||
      !tke_emu_unit_save (cmd->self->store, cmd->unit, error) ||
      !maybe_complete_rotation (cmd->self, error))
    return NULL;
  out = json_object_new ();
  json_object_set_string_member (out, "current_mk_status", "Valid");
  json_object_set_string_member (out, "current_mkvp", vp_hex);
  json_object_set_string_member (out, "new_mk_status", "Empty");
  return out;
}

static JsonObject *
cmd_clear (Command *cmd, gboolean new_register, GError **error)
{
  static const char *const allowed[] = { NULL };

  if (!only_members (cmd->args, allowed, "args", error) ||
      !refuse_in_imprint (cmd, "clearing a register", error) ||
      !need_signatures (cmd, 1, FALSE, error) || !refuse_during_rotation (cmd->self, error) ||
      !tke_emu_unit_set_register (cmd->self->store, cmd->unit, new_register, NULL, "Empty", error))
    return NULL;
  if (new_register && !tke_emu_unit_set_importer (cmd->self->store, cmd->unit, NULL, error))
    return NULL;
  return json_object_new ();
}

static JsonObject *
cmd_zeroize (Command *cmd, GError **error)
{
  static const char *const allowed[] = { NULL };

  if (!only_members (cmd->args, allowed, "args", error) ||
      (!tke_emu_unit_imprint (cmd->unit) && !need_signatures (cmd, 1, FALSE, error)) ||
      !refuse_during_rotation (cmd->self, error) ||
      !tke_emu_unit_set_register (cmd->self->store, cmd->unit, TRUE, NULL, "Empty", error) ||
      !tke_emu_unit_set_register (cmd->self->store, cmd->unit, FALSE, NULL, "Empty", error) ||
      !tke_emu_unit_set_importer (cmd->self->store, cmd->unit, NULL, error))
    return NULL;
  g_ptr_array_set_size (cmd->unit->admins, 0);
  cmd->unit->sig_thr = 0;
  cmd->unit->rev_thr = 0;
  return json_object_new ();
}

static JsonObject *
run_command (Command *cmd, const char *name, GError **error)
{
  if (g_str_equal (name, "add_admin"))
    return cmd_add_admin (cmd, error);
  if (g_str_equal (name, "remove_admin"))
    return cmd_remove_admin (cmd, error);
  if (g_str_equal (name, "set_thresholds"))
    return cmd_set_thresholds (cmd, error);
  if (g_str_equal (name, "generate_importer_key"))
    return cmd_generate_importer (cmd, error);
  if (g_str_equal (name, "load"))
    return cmd_load (cmd, error);
  if (g_str_equal (name, "commit"))
    return cmd_commit (cmd, error);
  if (g_str_equal (name, "set_immediate"))
    return cmd_set_immediate (cmd, error);
  if (g_str_equal (name, "clear_new"))
    return cmd_clear (cmd, TRUE, error);
  if (g_str_equal (name, "clear_current"))
    return cmd_clear (cmd, FALSE, error);
  if (g_str_equal (name, "zeroize"))
    return cmd_zeroize (cmd, error);
  return FAIL (INVALID_FIELD, "Unknown command \"%s\".", name), NULL;
}

static JsonObject *
execute (TkeEmuServer *self,
         const char *instance,
         const char *hsm_id,
         SoupServerMessage *msg,
         GError **error)
{
  static const char *const envelope_fields[] = { "command", "signatures", NULL };
  static const char *const command_fields[] = { "version", "command", "instance", "hsm_id",
                                                "counter", "args",    NULL };
  g_autoptr (JsonParser) body_parser = NULL;
  g_autoptr (JsonParser) command_parser = NULL;
  g_autoptr (GBytes) command_bytes = NULL;
  g_autoptr (TkeEmuUnit) unit = NULL;
  g_autoptr (GPtrArray) signers = g_ptr_array_new ();
  JsonObject *body, *request, *command, *result, *response;
  JsonNode *node, *sig_node;
  JsonArray *signatures = NULL;
  const char *name, *cmd_instance, *cmd_hsm;
  gint64 version = 0, counter = -1;
  gboolean query, imprint;
  Command cmd = { 0 };

  if ((body = parse_body (msg, &body_parser, FALSE, error)) == NULL)
    return NULL;
  node = json_object_get_member (body, "request");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return FAIL (MALFORMED_JSON,
                 "The body must be {\"request\": {\"command\": …, \"signatures\": […]}}."),
           NULL;
  request = json_node_get_object (node);
  if (!only_members (request, envelope_fields, "request", error) ||
      (command_bytes = get_base64 (request, "command", error)) == NULL)
    return NULL;
  sig_node = json_object_get_member (request, "signatures");
  if (sig_node != NULL && !JSON_NODE_HOLDS_NULL (sig_node))
    {
      if (!JSON_NODE_HOLDS_ARRAY (sig_node))
        return FAIL (INVALID_FIELD, "\"signatures\" must be an array."), NULL;
      signatures = json_node_get_array (sig_node);
    }
  command = parse_object (g_bytes_get_data (command_bytes, NULL), g_bytes_get_size (command_bytes),
                          "decoded command", &command_parser, error);
  if (command == NULL || !only_members (command, command_fields, "the command", error) ||
      !get_int (command, "version", TRUE, &version, error) ||
      (name = get_string (command, "command", TRUE, error)) == NULL ||
      (cmd_instance = get_string (command, "instance", TRUE, error)) == NULL ||
      (cmd_hsm = get_string (command, "hsm_id", TRUE, error)) == NULL)
    return NULL;
  if (version != 1)
    return FAIL (INVALID_FIELD, "Command version %" G_GINT64_FORMAT " is not supported; use 1.",
                 version),
           NULL;
  query = g_str_equal (name, "query");
  if (!get_int (command, "counter", !query, &counter, error))
    return NULL;
  node = json_object_get_member (command, "args");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return FAIL (INVALID_FIELD, "\"args\" must be an object."), NULL;
  cmd.args = json_node_get_object (node);

  if (!tke_emu_db_begin (self->store->db, error))
    return NULL;
  unit = tke_emu_unit_load (self->store, hsm_id, error);
  if (unit == NULL)
    goto fail;
  if (!g_str_equal (cmd_instance, instance) || !g_str_equal (cmd_hsm, hsm_id))
    {
      FAIL (
          WRONG_UNIT,
          "The signed command is for another service instance or crypto unit than the URL names.");
      goto fail;
    }
  cmd.self = self;
  cmd.unit = unit;
  cmd.signers = signers;
  if (query)
    {
      static const char *const no_args[] = { NULL };

      if (!only_members (cmd.args, no_args, "args", error))
        goto fail;
      result = unit_query (self, unit);
      tke_emu_db_rollback (self->store->db);
    }
  else
    {
      if (counter != unit->counter)
        {
          FAIL (REPLAY,
                "The command carries transaction counter %" G_GINT64_FORMAT
                " but crypto unit %" G_GINT64_FORMAT " expects %" G_GINT64_FORMAT
                ": a replayed or stale command.",
                counter, unit->num, unit->counter);
          goto fail;
        }
      imprint = tke_emu_unit_imprint (unit);
      if ((!imprint || g_str_equal (name, "set_thresholds")) &&
          !verify_signatures (&cmd, signatures, command_bytes, error))
        goto fail;
      result = run_command (&cmd, name, error);
      if (result == NULL)
        goto fail;
      unit->counter++;
      if (!tke_emu_unit_save (self->store, unit, error) ||
          !tke_emu_db_commit (self->store->db, error))
        {
          json_object_unref (result);
          goto fail;
        }
    }

  response = json_object_new ();
  json_object_set_string_member (response, "command", name);
  json_object_set_string_member (response, "hsm_id", hsm_id);
  json_object_set_int_member (response, "counter", unit->counter);
  json_object_set_object_member (response, "result", result);
  return response;

fail:
  tke_emu_db_rollback (self->store->db);
  return NULL;
}

static void
handle_command (TkeEmuServer *self,
                SoupServerMessage *msg,
                const char *instance,
                const char *hsm_id)
{
  g_autoptr (GError) error = NULL;
  JsonObject *response = execute (self, instance, hsm_id, msg, &error);
  JsonObject *out;

  if (response == NULL)
    {
      reply_error (msg, error);
      return;
    }
  out = json_object_new ();
  json_object_set_object_member (out, "response", response);
  reply_object (msg, 200, out);
}

/* Rotation */

typedef struct
{
  TkeEmuServer *self;
  TkeSecret *old_key;
  TkeSecret *new_key;
  gint64 rotation_id;
} Worker;

static void
worker_free (Worker *w)
{
  g_clear_pointer (&w->old_key, tke_secret_unref);
  g_clear_pointer (&w->new_key, tke_secret_unref);
  g_free (w);
}

static void
record_worker_error (sqlite3 *db, gint64 rotation_id, const GError *error)
{
  sqlite3_stmt *stmt = NULL;

  tke_emu_db_rollback (db);
  if (sqlite3_prepare_v2 (db, "UPDATE rotation SET error_code = ?, error_message = ? WHERE id = ?",
                          -1, &stmt, NULL) != SQLITE_OK)
    return;
  sqlite3_bind_text (stmt, 1, tke_emu_error_code (error), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, error->message, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, rotation_id);
  sqlite3_step (stmt);
  sqlite3_finalize (stmt);
}

/* One batch in one transaction: rows not yet under the new WKID are
 * unwrapped under the old key and wrapped under the new one.  Returns the
 * number of rows rewrapped, or -1. */
static gint64
rewrap_batch (Worker *w,
              sqlite3 *db,
              sqlite3_stmt *select,
              sqlite3_stmt *update,
              TkeKwpContext *old_ctx,
              TkeKwpContext *new_ctx,
              const guint8 *old_wkid,
              const guint8 *new_wkid,
              gint64 *cursor,
              gint64 limit,
              gint64 done_before,
              GError **error)
{
  TkeEmuServer *self = w->self;
  guint8 key[64], wrapped[64];
  gint64 n = 0;
  int rc;

  if (!tke_emu_db_begin (db, error))
    return -1;
  sqlite3_reset (select);
  sqlite3_bind_int64 (select, 1, *cursor);
  sqlite3_bind_blob (select, 2, new_wkid, TKE_WKID_SIZE, SQLITE_STATIC);
  sqlite3_bind_int64 (select, 3, limit);
  while ((rc = sqlite3_step (select)) == SQLITE_ROW)
    {
      gint64 rowid = sqlite3_column_int64 (select, 0);
      const guint8 *wkid = sqlite3_column_blob (select, 1);
      const guint8 *blob = sqlite3_column_blob (select, 2);
      gsize blob_size = (gsize) sqlite3_column_bytes (select, 2);
      gssize key_len, wrapped_len;

      if (self->faults.crash_after_keys >= 0 && done_before + n >= self->faults.crash_after_keys)
        kill (getpid (), SIGKILL); /* like kill -9: the open transaction is lost */

      if (sqlite3_column_bytes (select, 1) != TKE_WKID_SIZE ||
          memcmp (wkid, old_wkid, TKE_WKID_SIZE) != 0)
        {
          FAIL (WRAPPING_KEY_MISMATCH,
                "Key row %" G_GINT64_FORMAT " is wrapped under neither the current "
                "nor the new master key.",
                rowid);
          goto fail;
        }
      key_len = tke_crypto_kwp_context_unwrap (old_ctx, blob, blob_size, key, sizeof key, error);
      if (key_len < 0)
        goto fail;
      wrapped_len = tke_crypto_kwp_context_wrap (new_ctx, key, (gsize) key_len, wrapped,
                                                 sizeof wrapped, error);
      OPENSSL_cleanse (key, sizeof key);
      if (wrapped_len < 0)
        goto fail;
      sqlite3_reset (update);
      sqlite3_bind_blob (update, 1, new_wkid, TKE_WKID_SIZE, SQLITE_STATIC);
      sqlite3_bind_blob (update, 2, wrapped, (int) wrapped_len, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (update, 3, rowid);
      if (sqlite3_step (update) != SQLITE_DONE)
        {
          tke_emu_db_error (db, error);
          goto fail;
        }
      *cursor = rowid;
      n++;
    }
  if (rc != SQLITE_DONE)
    {
      tke_emu_db_error (db, error);
      goto fail;
    }
  sqlite3_reset (select);
  if (n > 0 &&
      !exec_int (db, "UPDATE rotation SET keys_done = keys_done + ?1 WHERE state = 'rewrapping'", n,
                 NULL, error))
    goto fail;
  if (!tke_emu_db_commit (db, error))
    return -1;
  return n;

fail:
  sqlite3_reset (select);
  tke_emu_db_rollback (db);
  return -1;
}

static gboolean
finish_rewrap (sqlite3 *db, gint64 rotation_id, const guint8 *new_wkid, GError **error)
{
  gint64 left;

  if (!tke_emu_db_begin (db, error))
    return FALSE;
  left = count_keys (db, new_wkid, FALSE);
  if (left != 0)
    {
      tke_emu_db_rollback (db);
      return FAIL (INTERNAL, "%" G_GINT64_FORMAT " keys are still not rewrapped.", left);
    }
  if (!exec_int (db,
                 "UPDATE rotation SET state = 'rewrapped', error_code = NULL, error_message = NULL,"
                 " keys_done = keys_total WHERE id = ?1",
                 rotation_id, NULL, error) ||
      !add_message (db, rotation_id, MSG_REWRAPPED, error))
    {
      tke_emu_db_rollback (db);
      return FALSE;
    }
  return tke_emu_db_commit (db, error);
}

static gpointer
worker_run (gpointer data)
{
  Worker *w = data;
  TkeEmuServer *self = w->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeKwpContext) old_ctx = NULL;
  g_autoptr (TkeKwpContext) new_ctx = NULL;
  sqlite3 *db = tke_emu_store_open_db (self->store->state_dir, &error);
  sqlite3_stmt *select = NULL, *update = NULL;
  guint8 old_wkid[TKE_WKID_SIZE], new_wkid[TKE_WKID_SIZE];
  g_autoptr (Rotation) r = NULL;
  gint64 cursor = 0;

  tke_crypto_wkid (w->old_key, old_wkid);
  tke_crypto_wkid (w->new_key, new_wkid);
  if (db == NULL || (old_ctx = tke_crypto_kwp_context_new (w->old_key, &error)) == NULL ||
      (new_ctx = tke_crypto_kwp_context_new (w->new_key, &error)) == NULL)
    goto out;
  if (sqlite3_prepare_v2 (db,
                          "SELECT rowid, wkid, wrapped FROM keys WHERE rowid > ?1 AND wkid != ?2"
                          " ORDER BY rowid LIMIT ?3",
                          -1, &select, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db, "UPDATE keys SET wkid = ?1, wrapped = ?2 WHERE rowid = ?3", -1,
                          &update, NULL) != SQLITE_OK)
    {
      tke_emu_db_error (db, &error);
      goto out;
    }

  while (!g_atomic_int_get (&self->stop))
    {
      gint64 limit = TKE_EMU_BATCH, n;

      g_clear_pointer (&r, rotation_free);
      if ((r = rotation_load (db, &error)) == NULL)
        goto out;
      /* Stop exactly at the fault point so that the test knows where. */
      if (self->faults.fail_after_keys >= 0 && !self->fail_fired)
        {
          if (r->keys_done >= self->faults.fail_after_keys)
            {
              self->fail_fired = TRUE;
              g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_INJECTED_FAULT,
                           "Injected fault: the rewrap stopped after %" G_GINT64_FORMAT " keys.",
                           r->keys_done);
              goto out;
            }
          limit = MIN (limit, self->faults.fail_after_keys - r->keys_done);
        }
      n = rewrap_batch (w, db, select, update, old_ctx, new_ctx, old_wkid, new_wkid, &cursor, limit,
                        r->keys_done, &error);
      if (n < 0)
        goto out;
      if (n == 0)
        {
          finish_rewrap (db, w->rotation_id, new_wkid, &error);
          goto out;
        }
    }

out:
  if (error != NULL && db != NULL)
    record_worker_error (db, w->rotation_id, error);
  if (error != NULL)
    g_message ("Rotation: %s", error->message);
  sqlite3_finalize (select);
  sqlite3_finalize (update);
  if (db != NULL)
    sqlite3_close (db);
  worker_free (w);
  g_atomic_int_set (&self->worker_running, 0);
  return NULL;
}

static gboolean
precheck (GPtrArray *units, TkeEmuServer *self, GError **error)
{
  TkeEmuUnit *first = g_ptr_array_index (units, 0);
  guint8 cur_vp[TKE_VP_SIZE], new_vp[TKE_VP_SIZE];
  guint common = 0;

  for (guint i = 0; i < units->len; i++)
    if (tke_emu_unit_imprint (g_ptr_array_index (units, i)))
      return FAIL (PRECHECK_IMPRINT_MODE, "Crypto unit %" G_GINT64_FORMAT " is in imprint mode.",
                   ((TkeEmuUnit *) g_ptr_array_index (units, i))->num);
  for (guint i = 1; i < units->len; i++)
    if (((TkeEmuUnit *) g_ptr_array_index (units, i))->sig_thr != first->sig_thr)
      return FAIL (PRECHECK_THRESHOLDS, "The crypto units have different signature thresholds.");
  for (guint a = 0; a < first->admins->len; a++)
    {
      TkeEmuAdmin *admin = g_ptr_array_index (first->admins, a);
      gboolean everywhere = TRUE;

      for (guint i = 1; i < units->len; i++)
        everywhere = everywhere && find_admin (g_ptr_array_index (units, i), admin->ski) != NULL;
      common += everywhere;
    }
  if (common < first->sig_thr)
    return FAIL (PRECHECK_ADMINS,
                 "The crypto units share %u administrators, fewer than the signature threshold "
                 "%" G_GINT64_FORMAT ".",
                 common, first->sig_thr);
  tke_emu_unit_register_vp (self->store, first, FALSE, cur_vp);
  tke_emu_unit_register_vp (self->store, first, TRUE, new_vp);
  for (guint i = 0; i < units->len; i++)
    {
      TkeEmuUnit *unit = g_ptr_array_index (units, i);
      guint8 vp[TKE_VP_SIZE];

      tke_emu_unit_register_vp (self->store, unit, FALSE, vp);
      if (!g_str_equal (unit->cur_state, "Valid") || memcmp (vp, cur_vp, sizeof vp) != 0)
        return FAIL (PRECHECK_CURRENT_REGISTER,
                     "The current master key registers are not all Valid with one "
                     "verification pattern (crypto unit %" G_GINT64_FORMAT ").",
                     unit->num);
    }
  for (guint i = 0; i < units->len; i++)
    {
      TkeEmuUnit *unit = g_ptr_array_index (units, i);
      guint8 vp[TKE_VP_SIZE];

      tke_emu_unit_register_vp (self->store, unit, TRUE, vp);
      if (!g_str_equal (unit->new_state, "Full Committed") || memcmp (vp, new_vp, sizeof vp) != 0 ||
          memcmp (vp, cur_vp, sizeof vp) == 0)
        return FAIL (PRECHECK_NEW_REGISTER,
                     "The new master key registers are not all Full Committed with one "
                     "verification pattern (crypto unit %" G_GINT64_FORMAT ").",
                     unit->num);
    }
  return TRUE;
}

static gboolean
start_worker (TkeEmuServer *self, gint64 rotation_id, TkeSecret *old_key, TkeSecret *new_key)
{
  Worker *w = g_new0 (Worker, 1);

  if (self->worker != NULL)
    g_thread_join (g_steal_pointer (&self->worker));
  w->self = self;
  w->old_key = tke_secret_ref (old_key);
  w->new_key = tke_secret_ref (new_key);
  w->rotation_id = rotation_id;
  g_atomic_int_set (&self->worker_running, 1);
  self->worker = g_thread_new ("rewrap", worker_run, w);
  return TRUE;
}

/* --faults-file: a fault armed while the service runs (the demo's menu
 * "Make the next rotation fail").  The file is read and removed when a
 * rotation starts or resumes, so it arms that rotation only; the worker is
 * not running then, so the faults can change under no one. */
static void
arm_faults_from_file (TkeEmuServer *self)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  gint64 keys;

  if (self->faults.faults_file == NULL ||
      !g_key_file_load_from_file (file, self->faults.faults_file, G_KEY_FILE_NONE, &error))
    return;
  g_unlink (self->faults.faults_file);
  keys = g_key_file_get_int64 (file, "faults", "fail-after-keys", &error);
  if (error != NULL || keys < 0)
    {
      g_printerr ("tke-emulator: %s: [faults] fail-after-keys is not a number of keys; ignored\n",
                  self->faults.faults_file);
      return;
    }
  g_message ("Fault armed: the rewrap stops after %" G_GINT64_FORMAT " keys.", keys);
  self->faults.fail_after_keys = keys;
  self->fail_fired = FALSE;
}

/* Starts or resumes; returns the HTTP status, or 0 with @error. */
static guint
rotate (TkeEmuServer *self, GError **error)
{
  sqlite3 *db = self->store->db;
  g_autoptr (Rotation) r = NULL;
  g_autoptr (GPtrArray) units = NULL;
  g_autoptr (TkeSecret) old_key = NULL;
  g_autoptr (TkeSecret) new_key = NULL;
  TkeEmuUnit *first;
  guint8 old_vp[TKE_VP_SIZE], new_vp[TKE_VP_SIZE], new_wkid[TKE_WKID_SIZE];
  g_autofree char *old_hex = NULL, *new_hex = NULL, *now = NULL;
  gint64 id;
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (g_atomic_int_get (&self->worker_running))
    return 202;
  arm_faults_from_file (self);
  if (!tke_emu_db_begin (db, error))
    return 0;
  if ((r = rotation_load (db, error)) == NULL ||
      (units = tke_emu_units_load (self->store, TRUE, error)) == NULL)
    goto fail;
  if (g_str_equal (r->state, "rewrapped"))
    {
      tke_emu_db_rollback (db);
      return 200;
    }
  first = g_ptr_array_index (units, 0);

  if (g_str_equal (r->state, "rewrapping"))
    {
      /* Resume: the registers cannot have changed since (set immediate and
       * clear are refused), so the keys are still those of the record. */
      if ((old_key = tke_emu_unit_get_register (self->store, first, FALSE, error)) == NULL ||
          (new_key = tke_emu_unit_get_register (self->store, first, TRUE, error)) == NULL)
        goto fail;
      tke_crypto_verification_pattern (new_key, new_vp);
      tke_crypto_wkid (new_key, new_wkid);
      new_hex = hex (new_vp, sizeof new_vp);
      if (!g_str_equal (new_hex, r->to_vp))
        {
          FAIL (PRECHECK_NEW_REGISTER,
                "The new master key register no longer holds the rotation's target key.");
          goto fail;
        }
      if (!exec_int (db,
                     "UPDATE rotation SET error_code = NULL, error_message = NULL, keys_total = "
                     "(SELECT count(*)"
                     " FROM keys) WHERE id = ?1",
                     r->id, NULL, error))
        goto fail;
      /* Recount what is done: batches lost in a crash are not counted. */
      if (sqlite3_prepare_v2 (
              db,
              "UPDATE rotation SET keys_done = (SELECT count(*) FROM keys WHERE wkid = ?2)"
              " WHERE id = ?1",
              -1, &stmt, NULL) != SQLITE_OK)
        {
          tke_emu_db_error (db, error);
          goto fail;
        }
      sqlite3_bind_int64 (stmt, 1, r->id);
      sqlite3_bind_blob (stmt, 2, new_wkid, sizeof new_wkid, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
      sqlite3_finalize (stmt);
      if (rc != SQLITE_DONE || !tke_emu_db_commit (db, error))
        {
          if (rc != SQLITE_DONE)
            tke_emu_db_error (db, error);
          goto fail;
        }
      start_worker (self, r->id, old_key, new_key);
      return 202;
    }

  if (!precheck (units, self, error) ||
      (old_key = tke_emu_unit_get_register (self->store, first, FALSE, error)) == NULL ||
      (new_key = tke_emu_unit_get_register (self->store, first, TRUE, error)) == NULL)
    goto fail;
  tke_crypto_verification_pattern (old_key, old_vp);
  tke_crypto_verification_pattern (new_key, new_vp);
  old_hex = hex (old_vp, sizeof old_vp);
  new_hex = hex (new_vp, sizeof new_vp);
  now = tke_emu_now_iso ();
  if (sqlite3_prepare_v2 (
          db,
          "INSERT INTO rotation (state, from_vp, to_vp, keys_total, keys_done, started)"
          " VALUES ('rewrapping', ?, ?, (SELECT count(*) FROM keys), 0, ?)",
          -1, &stmt, NULL) != SQLITE_OK)
    {
      tke_emu_db_error (db, error);
      goto fail;
    }
  sqlite3_bind_text (stmt, 1, old_hex, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, new_hex, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      tke_emu_db_error (db, error);
      goto fail;
    }
  id = sqlite3_last_insert_rowid (db);
  if (!add_message (db, id, MSG_STARTED, error) || !tke_emu_db_commit (db, error))
    goto fail;
  start_worker (self, id, old_key, new_key);
  return 202;

fail:
  tke_emu_db_rollback (db);
  return 0;
}

static gboolean
maybe_complete_rotation (TkeEmuServer *self, GError **error)
{
  g_autoptr (Rotation) r = rotation_load (self->store->db, error);
  g_autoptr (GPtrArray) units = NULL;

  if (r == NULL)
    return FALSE;
  if (!g_str_equal (r->state, "rewrapped"))
    return TRUE;
  if ((units = tke_emu_units_load (self->store, TRUE, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < units->len; i++)
    {
      guint8 vp[TKE_VP_SIZE];
      g_autofree char *vp_hex = NULL;

      tke_emu_unit_register_vp (self->store, g_ptr_array_index (units, i), FALSE, vp);
      vp_hex = hex (vp, sizeof vp);
      if (!g_str_equal (vp_hex, r->to_vp))
        return TRUE;
    }
  return exec_int (self->store->db, "UPDATE rotation SET state = 'complete' WHERE id = ?1", r->id,
                   NULL, error) &&
         add_message (self->store->db, r->id, MSG_DONE, error);
}

static void
handle_rotate (TkeEmuServer *self, SoupServerMessage *msg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = NULL;
  guint status;
  JsonObject *out;

  if (parse_body (msg, &parser, TRUE, &error) == NULL || (status = rotate (self, &error)) == 0 ||
      (out = rotation_json (self, &error)) == NULL)
    {
      reply_error (msg, error);
      return;
    }
  reply_object (msg, status, out);
}

/* KMS and GREP11 */

static TkeSecret *
current_key (TkeEmuServer *self, GError **error)
{
  g_autoptr (GPtrArray) units = tke_emu_units_load (self->store, TRUE, error);

  if (units == NULL)
    return NULL;
  for (guint i = 0; i < units->len; i++)
    {
      TkeEmuUnit *unit = g_ptr_array_index (units, i);

      if (g_str_equal (unit->cur_state, "Valid"))
        return tke_emu_unit_get_register (self->store, unit, FALSE, error);
    }
  FAIL (MK_NOT_INITIALIZED,
        "The master key is not initialized: no crypto unit has a Valid current master key.");
  return NULL;
}

static gboolean
check_instance_header (TkeEmuServer *self, SoupServerMessage *msg, GError **error)
{
  const char *instance = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Bluemix-Instance");

  if (instance == NULL)
    return FAIL (MISSING_INSTANCE_HEADER, "The Bluemix-Instance header is missing.");
  if (!g_str_equal (instance, self->store->instance_id))
    return FAIL (NOT_FOUND, "There is no service instance %s.", instance);
  return TRUE;
}

static JsonObject *
key_json (TkeEmuServer *self, sqlite3_stmt *stmt)
{
  JsonObject *o = json_object_new ();
  JsonObject *alg = json_object_new ();
  JsonObject *dual = json_object_new ();
  const char *id = (const char *) sqlite3_column_text (stmt, 0);

  json_object_set_string_member (o, "id", id);
  json_object_set_string_member (o, "type", KEY_TYPE);
  json_object_set_string_member (o, "name", (const char *) sqlite3_column_text (stmt, 1));
  json_object_set_int_member (o, "state", sqlite3_column_int64 (stmt, 3));
  take_string (o, "crn",
               g_strdup_printf ("crn:v1:bluemix:public:hs-crypto:us-south:a/tke-emulator:%s:key:%s",
                                self->store->instance_id, id));
  json_object_set_string_member (o, "createdBy", "ServiceId-tke-emulator");
  json_object_set_string_member (o, "creationDate", (const char *) sqlite3_column_text (stmt, 4));
  json_object_set_string_member (o, "lastUpdateDate", (const char *) sqlite3_column_text (stmt, 5));
  json_object_set_string_member (o, "algorithmType", "AES");
  json_object_set_string_member (alg, "bitLength", "256");
  json_object_set_string_member (alg, "mode", "CBC_PAD");
  json_object_set_object_member (o, "algorithmMetadata", alg);
  json_object_set_int_member (o, "algorithmBitSize", 256);
  json_object_set_string_member (o, "algorithmMode", "CBC_PAD");
  json_object_set_boolean_member (o, "extractable", sqlite3_column_int (stmt, 2) != 0);
  json_object_set_boolean_member (o, "imported", FALSE);
  json_object_set_boolean_member (o, "deleted", FALSE);
  json_object_set_boolean_member (dual, "enabled", FALSE);
  json_object_set_object_member (o, "dualAuthDelete", dual);
  take_string (o, "wkid",
               hex (sqlite3_column_blob (stmt, 6), (gsize) sqlite3_column_bytes (stmt, 6)));
  return o;
}

#define KEY_COLUMNS "id, name, extractable, state, created, updated, wkid, wrapped"

static JsonObject *
collection (JsonArray *resources, gint64 total)
{
  JsonObject *out = json_object_new ();
  JsonObject *meta = json_object_new ();

  json_object_set_string_member (meta, "collectionType", KEY_TYPE);
  json_object_set_int_member (meta, "collectionTotal", json_array_get_length (resources));
  if (total >= 0)
    json_object_set_int_member (meta, "totalCount", total);
  json_object_set_object_member (out, "metadata", meta);
  json_object_set_array_member (out, "resources", resources);
  return out;
}

static gboolean
parse_param (GHashTable *query,
             const char *name,
             gint64 def,
             gint64 min,
             gint64 max,
             gint64 *out,
             GError **error)
{
  const char *text = query != NULL ? g_hash_table_lookup (query, name) : NULL;
  guint64 value;

  *out = def;
  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, min, max, &value, NULL))
    return FAIL (INVALID_PARAMETER,
                 "The %s parameter must be an integer from %" G_GINT64_FORMAT
                 " to %" G_GINT64_FORMAT ".",
                 name, min, max);
  *out = (gint64) value;
  return TRUE;
}

static JsonObject *
kms_list (TkeEmuServer *self, GHashTable *query, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  JsonArray *resources;
  gint64 offset, limit;

  if (!parse_param (query, "offset", 0, 0, G_MAXINT64, &offset, error) ||
      !parse_param (query, "limit", 200, 1, 5000, &limit, error))
    return NULL;
  if (sqlite3_prepare_v2 (self->store->db,
                          "SELECT " KEY_COLUMNS " FROM keys ORDER BY rowid LIMIT ? OFFSET ?", -1,
                          &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (self->store->db, error), NULL;
  sqlite3_bind_int64 (stmt, 1, limit);
  sqlite3_bind_int64 (stmt, 2, offset);
  resources = json_array_new ();
  while (sqlite3_step (stmt) == SQLITE_ROW)
    json_array_add_object_element (resources, key_json (self, stmt));
  sqlite3_finalize (stmt);
  return collection (resources, count_keys (self->store->db, NULL, FALSE));
}

/* The row of key @id, stepped; fails with not_found.  The caller finalizes it. */
static sqlite3_stmt *
kms_find (TkeEmuServer *self, const char *id, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (self->store->db, "SELECT " KEY_COLUMNS " FROM keys WHERE id = ?", -1,
                          &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (self->store->db, error), NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_finalize (stmt);
      return FAIL (NOT_FOUND, "There is no key %s.", id), NULL;
    }
  return stmt;
}

static JsonObject *
kms_get (TkeEmuServer *self, const char *id, GError **error)
{
  sqlite3_stmt *stmt = kms_find (self, id, error);
  JsonArray *resources;

  if (stmt == NULL)
    return NULL;
  resources = json_array_new ();
  json_array_add_object_element (resources, key_json (self, stmt));
  sqlite3_finalize (stmt);
  return collection (resources, -1);
}

static JsonObject *
kms_create (TkeEmuServer *self, SoupServerMessage *msg, GError **error)
{
  static const char *const resource_fields[] = { "type", "name", "extractable", "description",
                                                 NULL };
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (TkeSecret) mk = NULL;
  g_autofree char *name = NULL;
  JsonObject *body, *resource;
  JsonNode *node, *extractable;
  const char *name_in;
  g_autofree char *id = NULL;

  if ((body = parse_body (msg, &parser, FALSE, error)) == NULL)
    return NULL;
  node = json_object_get_member (body, "resources");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node) ||
      json_array_get_length (json_node_get_array (node)) != 1 ||
      !JSON_NODE_HOLDS_OBJECT (json_array_get_element (json_node_get_array (node), 0)))
    return FAIL (INVALID_FIELD, "\"resources\" must be an array of one key object."), NULL;
  resource = json_node_get_object (json_array_get_element (json_node_get_array (node), 0));
  if (!only_members (resource, resource_fields, "the key", error) ||
      (name_in = get_string (resource, "name", TRUE, error)) == NULL)
    return NULL;
  if (*name_in == '\0' || g_utf8_strlen (name_in, -1) > 90)
    return FAIL (INVALID_FIELD, "A key name has 1 to 90 characters."), NULL;
  extractable = json_object_get_member (resource, "extractable");
  if (extractable != NULL && (!JSON_NODE_HOLDS_VALUE (extractable) ||
                              json_node_get_value_type (extractable) != G_TYPE_BOOLEAN))
    return FAIL (INVALID_FIELD, "\"extractable\" must be a boolean."), NULL;

  if (!tke_emu_db_begin (self->store->db, error))
    return NULL;
  if (!refuse_during_rotation (self, error) || (mk = current_key (self, error)) == NULL)
    goto fail;
  name = g_strdup (name_in);
  /* One new row under the current master key; then rename it and read it back. */
  if (!tke_emu_store_add_root_keys (self->store, mk, 1, "new-", error))
    goto fail;
  {
    sqlite3_stmt *stmt = NULL;
    gint64 rowid = sqlite3_last_insert_rowid (self->store->db);

    if (sqlite3_prepare_v2 (self->store->db,
                            "UPDATE keys SET name = ?, extractable = ? WHERE rowid = ?", -1, &stmt,
                            NULL) != SQLITE_OK)
      {
        tke_emu_db_error (self->store->db, error);
        goto fail;
      }
    sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 2, extractable != NULL && json_node_get_boolean (extractable));
    sqlite3_bind_int64 (stmt, 3, rowid);
    if (sqlite3_step (stmt) != SQLITE_DONE)
      {
        sqlite3_finalize (stmt);
        tke_emu_db_error (self->store->db, error);
        goto fail;
      }
    sqlite3_finalize (stmt);
    if (sqlite3_prepare_v2 (self->store->db, "SELECT id FROM keys WHERE rowid = ?", -1, &stmt,
                            NULL) != SQLITE_OK)
      {
        tke_emu_db_error (self->store->db, error);
        goto fail;
      }
    sqlite3_bind_int64 (stmt, 1, rowid);
    if (sqlite3_step (stmt) == SQLITE_ROW)
      id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
    sqlite3_finalize (stmt);
  }
  if (id == NULL || !tke_emu_db_commit (self->store->db, error))
    goto fail;
  return kms_get (self, id, error);

fail:
  tke_emu_db_rollback (self->store->db);
  return NULL;
}

static gboolean
kms_delete (TkeEmuServer *self, const char *id, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  g_autoptr (Rotation) r = NULL;
  gint64 rowid;
  gboolean rewrapped;
  g_autoptr (GBytes) wkid = NULL;

  if (!tke_emu_db_begin (self->store->db, error))
    return FALSE;
  if ((stmt = kms_find (self, id, error)) == NULL ||
      (r = rotation_load (self->store->db, error)) == NULL)
    goto fail;
  wkid = g_bytes_new (sqlite3_column_blob (stmt, 6), (gsize) sqlite3_column_bytes (stmt, 6));
  sqlite3_finalize (stmt);
  stmt = NULL;
  if (sqlite3_prepare_v2 (self->store->db, "SELECT rowid FROM keys WHERE id = ?", -1, &stmt,
                          NULL) != SQLITE_OK)
    goto db_fail;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_step (stmt);
  rowid = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  stmt = NULL;
  if (!exec_int (self->store->db, "DELETE FROM keys WHERE rowid = ?1", rowid, NULL, error))
    goto fail;
  /* Keep the rotation's progress true: a key deleted mid-rotation leaves the total. */
  if (g_str_equal (r->state, "rewrapping"))
    {
      g_autofree char *to_wkid = g_strndup (r->to_vp, TKE_WKID_SIZE * 2);
      g_autofree char *row_wkid = hex (g_bytes_get_data (wkid, NULL), g_bytes_get_size (wkid));

      rewrapped = g_str_equal (to_wkid, row_wkid);
      if (!exec_int (self->store->db,
                     rewrapped ? "UPDATE rotation SET keys_total = keys_total - 1, keys_done = "
                                 "keys_done - 1 WHERE id = ?1"
                               : "UPDATE rotation SET keys_total = keys_total - 1 WHERE id = ?1",
                     r->id, NULL, error))
        goto fail;
    }
  else if (g_str_equal (r->state, "rewrapped") &&
           !exec_int (self->store->db,
                      "UPDATE rotation SET keys_total = keys_total - 1,"
                      " keys_done = keys_done - 1 WHERE id = ?1",
                      r->id, NULL, error))
    goto fail;
  return tke_emu_db_commit (self->store->db, error);

db_fail:
  tke_emu_db_error (self->store->db, error);
fail:
  if (stmt != NULL)
    sqlite3_finalize (stmt);
  tke_emu_db_rollback (self->store->db);
  return FALSE;
}

/* Unwraps key @id's material under the current master key. */
static TkeSecret *
root_key_material (TkeEmuServer *self, const char *id, GError **error)
{
  g_autoptr (TkeSecret) mk = current_key (self, error);
  sqlite3_stmt *stmt;
  guint8 wkid[TKE_WKID_SIZE];
  TkeSecret *key = NULL;

  if (mk == NULL || (stmt = kms_find (self, id, error)) == NULL)
    return NULL;
  tke_crypto_wkid (mk, wkid);
  if (sqlite3_column_bytes (stmt, 6) != TKE_WKID_SIZE ||
      memcmp (sqlite3_column_blob (stmt, 6), wkid, sizeof wkid) != 0)
    FAIL (WRAPPING_KEY_MISMATCH, "Key %s is wrapped under another master key than the current one.",
          id);
  else
    key = tke_crypto_kwp_unwrap (mk, sqlite3_column_blob (stmt, 7),
                                 (gsize) sqlite3_column_bytes (stmt, 7), error);
  sqlite3_finalize (stmt);
  return key;
}

static gboolean
kms_rotate_key (TkeEmuServer *self, const char *id, GError **error)
{
  g_autoptr (TkeSecret) mk = NULL;
  g_autoptr (TkeSecret) fresh = NULL;
  g_autoptr (GBytes) wrapped = NULL;
  g_autofree char *now = tke_emu_now_iso ();
  sqlite3_stmt *stmt = NULL;
  guint8 wkid[TKE_WKID_SIZE];
  int rc;

  if (!tke_emu_db_begin (self->store->db, error))
    return FALSE;
  if (!refuse_during_rotation (self, error) || (mk = current_key (self, error)) == NULL ||
      (stmt = kms_find (self, id, error)) == NULL)
    goto fail;
  sqlite3_finalize (stmt);
  tke_crypto_wkid (mk, wkid);
  if ((fresh = tke_secret_new_random (TKE_MASTER_KEY_SIZE, error)) == NULL ||
      (wrapped = tke_crypto_kwp_wrap (mk, tke_secret_get_data (fresh), TKE_MASTER_KEY_SIZE,
                                      error)) == NULL)
    goto fail;
  if (sqlite3_prepare_v2 (self->store->db,
                          "UPDATE keys SET wkid = ?, wrapped = ?, updated = ? WHERE id = ?", -1,
                          &stmt, NULL) != SQLITE_OK)
    {
      tke_emu_db_error (self->store->db, error);
      goto fail;
    }
  sqlite3_bind_blob (stmt, 1, wkid, sizeof wkid, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 2, g_bytes_get_data (wrapped, NULL), (int) g_bytes_get_size (wrapped),
                     SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, id, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      tke_emu_db_error (self->store->db, error);
      goto fail;
    }
  return tke_emu_db_commit (self->store->db, error);

fail:
  tke_emu_db_rollback (self->store->db);
  return FALSE;
}

static JsonObject *
kms_wrap_action (
    TkeEmuServer *self, SoupServerMessage *msg, const char *id, gboolean wrap, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (TkeSecret) key = NULL;
  g_autoptr (GBytes) input = NULL;
  JsonObject *body, *out;
  const guint8 *data;
  gsize size;

  if ((body = parse_body (msg, &parser, FALSE, error)) == NULL ||
      !refuse_during_rotation (self, error) ||
      (input = get_base64 (body, wrap ? "plaintext" : "ciphertext", error)) == NULL ||
      (key = root_key_material (self, id, error)) == NULL)
    return NULL;
  data = g_bytes_get_data (input, &size);
  out = json_object_new ();
  if (wrap)
    {
      guint8 nonce[TKE_GCM_NONCE_SIZE];
      g_autoptr (GBytes) ct = NULL;
      g_autoptr (GByteArray) all = g_byte_array_new ();

      if (size == 0 || size > 4096)
        return json_object_unref (out),
               FAIL (INVALID_FIELD, "\"plaintext\" must be 1 to 4096 bytes."), NULL;
      if (!tke_crypto_random_bytes (nonce, sizeof nonce, error) ||
          (ct = tke_crypto_aes_gcm_encrypt (key, nonce, (const guint8 *) id, strlen (id), data,
                                            size, error)) == NULL)
        return json_object_unref (out), NULL;
      g_byte_array_append (all, nonce, sizeof nonce);
      g_byte_array_append (all, g_bytes_get_data (ct, NULL), g_bytes_get_size (ct));
      take_string (out, "ciphertext", g_base64_encode (all->data, all->len));
    }
  else
    {
      g_autoptr (TkeSecret) pt = NULL;

      if (size < TKE_GCM_NONCE_SIZE + TKE_GCM_TAG_SIZE ||
          (pt = tke_crypto_aes_gcm_decrypt (key, data, (const guint8 *) id, strlen (id),
                                            data + TKE_GCM_NONCE_SIZE, size - TKE_GCM_NONCE_SIZE,
                                            NULL)) == NULL)
        return json_object_unref (out),
               FAIL (INVALID_FIELD, "\"ciphertext\" does not decrypt under this key."), NULL;
      take_string (out, "plaintext",
                   g_base64_encode (tke_secret_get_data (pt), tke_secret_get_size (pt)));
    }
  return out;
}

static void
handle_kms (TkeEmuServer *self,
            SoupServerMessage *msg,
            const char *method,
            char **parts,
            guint n_parts,
            GHashTable *query)
{
  g_autoptr (GError) error = NULL;
  JsonObject *out = NULL;
  const char *id = n_parts >= 4 ? parts[3] : NULL;
  const char *action = query != NULL ? g_hash_table_lookup (query, "action") : NULL;
  guint status = 200;

  if (!check_instance_header (self, msg, &error))
    goto done;
  if (n_parts == 3 && g_str_equal (method, "GET"))
    out = kms_list (self, query, &error);
  else if (n_parts == 3 && g_str_equal (method, "POST"))
    {
      out = kms_create (self, msg, &error);
      status = 201;
    }
  else if (n_parts == 4 && g_str_equal (method, "GET"))
    out = kms_get (self, id, &error);
  else if (n_parts == 5 && g_str_equal (parts[4], "metadata") && g_str_equal (method, "GET"))
    out = kms_get (self, id, &error);
  else if (n_parts == 4 && g_str_equal (method, "DELETE"))
    {
      if (kms_delete (self, id, &error))
        status = 204;
    }
  else if (n_parts == 4 && g_str_equal (method, "POST"))
    {
      if (g_strcmp0 (action, "rotate") == 0)
        {
          /* The body is optional, but when there is one it must be what
           * the KMS API allows: no half-read request rotates a key. */
          static const char *const rotate_members[] = { "metadata", "resources", NULL };
          g_autoptr (JsonParser) parser = NULL;
          JsonObject *body = parse_body (msg, &parser, TRUE, &error);

          if (body != NULL && only_members (body, rotate_members, "the rotate request", &error) &&
              kms_rotate_key (self, id, &error))
            status = 204;
        }
      else if (g_strcmp0 (action, "wrap") == 0 || g_strcmp0 (action, "unwrap") == 0)
        out = kms_wrap_action (self, msg, id, g_str_equal (action, "wrap"), &error);
      else
        g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_INVALID_PARAMETER,
                     "The action parameter must be rotate, wrap or unwrap.");
    }
  else if (n_parts <= 5)
    g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_METHOD_NOT_ALLOWED, "%s is not allowed here.",
                 method);
  else
    g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND, "No such resource.");

done:
  if (error != NULL)
    reply_error (msg, error);
  else if (status == 204)
    soup_server_message_set_status (msg, 204, NULL);
  else
    reply_object (msg, status, out);
}

static TkeSecret *
blob_key (TkeEmuServer *self, JsonObject *body, const TkeSecret *mk, GError **error)
{
  g_autoptr (GBytes) blob = get_base64 (body, "blob", error);
  guint8 wkid[TKE_WKID_SIZE];
  const guint8 *data;
  gsize size;
  TkeSecret *key;

  if (blob == NULL)
    return NULL;
  data = g_bytes_get_data (blob, &size);
  if (size < TKE_WKID_SIZE + 16)
    return FAIL (INVALID_BLOB, "The blob is too short."), NULL;
  tke_crypto_wkid (mk, wkid);
  if (memcmp (data, wkid, sizeof wkid) != 0)
    return FAIL (WRAPPING_KEY_MISMATCH,
                 "The blob is wrapped under another master key than the current one "
                 "(wrapping key mismatch)."),
           NULL;
  key = tke_crypto_kwp_unwrap (mk, data + TKE_WKID_SIZE, size - TKE_WKID_SIZE, NULL);
  if (key == NULL)
    return FAIL (INVALID_BLOB, "The blob does not unwrap: it was altered."), NULL;
  return key;
}

static char *
make_blob (const TkeSecret *mk, const guint8 *key, gsize size, GError **error)
{
  g_autoptr (GBytes) wrapped = tke_crypto_kwp_wrap (mk, key, size, error);
  g_autoptr (GByteArray) blob = g_byte_array_new ();
  guint8 wkid[TKE_WKID_SIZE];

  if (wrapped == NULL)
    return NULL;
  tke_crypto_wkid (mk, wkid);
  g_byte_array_append (blob, wkid, sizeof wkid);
  g_byte_array_append (blob, g_bytes_get_data (wrapped, NULL), g_bytes_get_size (wrapped));
  return g_base64_encode (blob->data, blob->len);
}

static TkeSecret *
committed_new_key (TkeEmuServer *self, GError **error)
{
  g_autoptr (GPtrArray) units = tke_emu_units_load (self->store, TRUE, error);
  guint8 first[TKE_VP_SIZE];

  if (units == NULL)
    return NULL;
  for (guint i = 0; i < units->len; i++)
    {
      TkeEmuUnit *unit = g_ptr_array_index (units, i);
      guint8 vp[TKE_VP_SIZE];

      tke_emu_unit_register_vp (self->store, unit, TRUE, vp);
      if (i == 0)
        memcpy (first, vp, sizeof vp);
      if (!g_str_equal (unit->new_state, "Full Committed") || memcmp (vp, first, sizeof vp) != 0)
        return FAIL (NEW_MK_NOT_COMMITTED,
                     "The new master key registers are not all Full Committed with one "
                     "verification pattern."),
               NULL;
    }
  return tke_emu_unit_get_register (self->store, g_ptr_array_index (units, 0), TRUE, error);
}

static void
handle_grep11 (TkeEmuServer *self, SoupServerMessage *msg, const char *op)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (TkeSecret) mk = NULL;
  g_autoptr (TkeSecret) new_mk = NULL;
  g_autoptr (TkeSecret) key = NULL;
  JsonObject *body, *out = NULL;
  guint8 vp[TKE_VP_SIZE], wkid[TKE_WKID_SIZE];

  if (!check_instance_header (self, msg, &error) ||
      (body = parse_body (msg, &parser, TRUE, &error)) == NULL ||
      !refuse_during_rotation (self, &error) || (mk = current_key (self, &error)) == NULL)
    goto done;
  if (g_str_equal (op, "generate"))
    {
      g_autoptr (TkeSecret) fresh = tke_secret_new_random (TKE_MASTER_KEY_SIZE, &error);
      char *blob;

      if (fresh == NULL ||
          (blob = make_blob (mk, tke_secret_get_data (fresh), TKE_MASTER_KEY_SIZE, &error)) == NULL)
        goto done;
      out = json_object_new ();
      take_string (out, "blob", blob);
      tke_crypto_verification_pattern (fresh, vp);
      take_string (out, "check_value", hex (vp, sizeof vp));
    }
  else if (g_str_equal (op, "rewrap"))
    {
      char *blob;

      if ((key = blob_key (self, body, mk, &error)) == NULL ||
          (new_mk = committed_new_key (self, &error)) == NULL ||
          (blob = make_blob (new_mk, tke_secret_get_data (key), tke_secret_get_size (key),
                             &error)) == NULL)
        goto done;
      out = json_object_new ();
      take_string (out, "blob", blob);
    }
  else if (g_str_equal (op, "check"))
    {
      if ((key = blob_key (self, body, mk, &error)) == NULL)
        goto done;
      tke_crypto_verification_pattern (key, vp);
      tke_crypto_wkid (mk, wkid);
      out = json_object_new ();
      take_string (out, "check_value", hex (vp, sizeof vp));
      take_string (out, "wkid", hex (wkid, sizeof wkid));
    }
  else
    g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND, "No such GREP11 operation.");

done:
  if (error != NULL)
    reply_error (msg, error);
  else
    reply_object (msg, 200, out);
}

/* Every row unwrapped under the register its WKID names: no key lost. */
static JsonObject *
keystore_verify (TkeEmuServer *self, GError **error)
{
  g_autoptr (GPtrArray) units = tke_emu_units_load (self->store, TRUE, error);
  g_autoptr (GPtrArray) ctxs =
      g_ptr_array_new_with_free_func ((GDestroyNotify) tke_crypto_kwp_context_free);
  g_autoptr (GArray) wkids = g_array_new (FALSE, FALSE, TKE_WKID_SIZE);
  g_autoptr (GHashTable) by_wkid = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  sqlite3_stmt *stmt = NULL;
  gint64 total = 0, ok = 0;
  JsonObject *out, *counts;
  GHashTableIter iter;
  gpointer k, v;
  guint8 cur_wkid[TKE_WKID_SIZE] = { 0 };
  guint8 key[64];

  if (units == NULL)
    return NULL;
  for (guint i = 0; i < units->len; i++)
    for (int reg = 0; reg < 2; reg++)
      {
        g_autoptr (TkeSecret) mk = NULL;
        guint8 wkid[TKE_WKID_SIZE];

        if ((reg ? ((TkeEmuUnit *) g_ptr_array_index (units, i))->new_value
                 : ((TkeEmuUnit *) g_ptr_array_index (units, i))->cur_value) == NULL)
          continue;
        mk = tke_emu_unit_get_register (self->store, g_ptr_array_index (units, i), reg, error);
        if (mk == NULL)
          return NULL;
        tke_crypto_wkid (mk, wkid);
        if (i == 0 && reg == 0)
          memcpy (cur_wkid, wkid, sizeof wkid);
        g_array_append_vals (wkids, wkid, 1);
        g_ptr_array_add (ctxs, tke_crypto_kwp_context_new (mk, NULL));
      }
  if (sqlite3_prepare_v2 (self->store->db, "SELECT wkid, wrapped FROM keys", -1, &stmt, NULL) !=
      SQLITE_OK)
    return tke_emu_db_error (self->store->db, error), NULL;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const guint8 *wkid = sqlite3_column_blob (stmt, 0);
      g_autofree char *wkid_hex = hex (wkid, (gsize) sqlite3_column_bytes (stmt, 0));

      total++;
      g_hash_table_insert (
          by_wkid, g_strdup (wkid_hex),
          GSIZE_TO_POINTER (GPOINTER_TO_SIZE (g_hash_table_lookup (by_wkid, wkid_hex)) + 1));
      for (guint i = 0; i < wkids->len; i++)
        if (sqlite3_column_bytes (stmt, 0) == TKE_WKID_SIZE &&
            memcmp (wkid, wkids->data + i * TKE_WKID_SIZE, TKE_WKID_SIZE) == 0)
          {
            if (tke_crypto_kwp_context_unwrap (
                    g_ptr_array_index (ctxs, i), sqlite3_column_blob (stmt, 1),
                    (gsize) sqlite3_column_bytes (stmt, 1), key, sizeof key, NULL) == 32)
              ok++;
            break;
          }
    }
  OPENSSL_cleanse (key, sizeof key);
  sqlite3_finalize (stmt);
  out = json_object_new ();
  json_object_set_int_member (out, "keys_total", total);
  json_object_set_int_member (out, "keys_ok", ok);
  json_object_set_int_member (out, "keys_failed", total - ok);
  take_string (out, "current_wkid", hex (cur_wkid, sizeof cur_wkid));
  counts = json_object_new ();
  g_hash_table_iter_init (&iter, by_wkid);
  while (g_hash_table_iter_next (&iter, &k, &v))
    json_object_set_int_member (counts, k, (gint64) GPOINTER_TO_SIZE (v));
  json_object_set_object_member (out, "by_wkid", counts);
  return out;
}

/* Routing */

static void
route (TkeEmuServer *self, SoupServerMessage *msg, const char *path, GHashTable *query)
{
  const char *method = soup_server_message_get_method (msg);
  g_auto (GStrv) parts = g_strsplit (path[0] == '/' ? path + 1 : path, "/", -1);
  guint n = g_strv_length (parts);
  g_autoptr (GError) error = NULL;
  gboolean post = g_str_equal (method, "POST"), get = g_str_equal (method, "GET");

  if (soup_server_message_get_request_body (msg)->length > MAX_BODY)
    {
      g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_PAYLOAD_TOO_LARGE,
                   "The request body is over 1 MiB.");
      goto error;
    }
  if (g_str_equal (path, "/identity/token"))
    {
      if (!post)
        goto not_allowed;
      handle_token (self, msg);
      return;
    }
  if (self->faults.http_500_rate > 0 && g_random_double () < self->faults.http_500_rate)
    {
      g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_INJECTED_FAULT,
                   "Injected fault: HTTP 500.");
      goto error;
    }
  if (n < 2 || !((g_str_equal (parts[0], "v1") &&
                  (g_str_equal (parts[1], "tke") || g_str_equal (parts[1], "grep11"))) ||
                 (g_str_equal (parts[0], "api") && g_str_equal (parts[1], "v2") && n >= 3 &&
                  g_str_equal (parts[2], "keys"))))
    {
      g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND, "No such resource: %s", path);
      goto error;
    }
  if (!check_token (self, msg, &error))
    goto error;

  if (g_str_equal (parts[0], "api"))
    {
      handle_kms (self, msg, method, parts, n, query);
      return;
    }
  if (g_str_equal (parts[1], "grep11"))
    {
      if (n != 3)
        goto not_found;
      if (!post)
        goto not_allowed;
      handle_grep11 (self, msg, parts[2]);
      return;
    }
  /* /v1/tke/{instance}/… */
  if (n < 4)
    goto not_found;
  if (!g_str_equal (parts[2], self->store->instance_id))
    {
      g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND,
                   "There is no service instance %s.", parts[2]);
      goto error;
    }
  if (n == 4 && g_str_equal (parts[3], "hsms"))
    {
      if (!get)
        goto not_allowed;
      handle_hsms (self, msg);
    }
  else if (n == 5 && g_str_equal (parts[3], "hsms"))
    {
      if (!post)
        goto not_allowed;
      handle_command (self, msg, parts[2], parts[4]);
    }
  else if (n == 4 && g_str_equal (parts[3], "rotate"))
    {
      if (!post)
        goto not_allowed;
      handle_rotate (self, msg);
    }
  else if (n == 4 && (g_str_equal (parts[3], "rotation") || g_str_equal (parts[3], "keystore")))
    {
      JsonObject *out;

      if (!get)
        goto not_allowed;
      out = g_str_equal (parts[3], "rotation") ? rotation_json (self, &error)
                                               : keystore_verify (self, &error);
      if (out == NULL)
        goto error;
      reply_object (msg, 200, out);
    }
  else
    goto not_found;
  return;

not_found:
  g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND, "No such resource: %s", path);
  goto error;
not_allowed:
  g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_METHOD_NOT_ALLOWED, "%s is not allowed on %s.",
               method, path);
error:
  reply_error (msg, error);
}

static gboolean
unpause (gpointer data)
{
  soup_server_message_unpause (data);
  g_object_unref (data);
  return G_SOURCE_REMOVE;
}

static void
server_callback (SoupServer *server,
                 SoupServerMessage *msg,
                 const char *path,
                 GHashTable *query,
                 gpointer user_data)
{
  TkeEmuServer *self = user_data;

  route (self, msg, path, query);
  if (self->faults.latency_ms > 0)
    {
      soup_server_message_pause (msg);
      g_timeout_add (self->faults.latency_ms, unpause, g_object_ref (msg));
    }
}

/* Refuse an oversize body before reading it. */
static void
got_headers (SoupServerMessage *msg, gpointer user_data)
{
  goffset length =
      soup_message_headers_get_content_length (soup_server_message_get_request_headers (msg));

  if (length > MAX_BODY)
    {
      g_autoptr (GError) error = g_error_new (TKE_EMU_ERROR, TKE_EMU_ERROR_PAYLOAD_TOO_LARGE,
                                              "The request body is over 1 MiB.");

      reply_error (msg, error);
    }
}

static void
request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  g_signal_connect (msg, "got-headers", G_CALLBACK (got_headers), NULL);
}

TkeEmuServer *
tke_emu_server_new (TkeEmuStore *store, const TkeEmuFaults *faults, GError **error)
{
  TkeEmuServer *self = g_new0 (TkeEmuServer, 1);
  g_autoptr (GTlsCertificate) cert = tke_emu_tls_load (store->state_dir, error);

  if (cert == NULL)
    {
      g_free (self);
      return NULL;
    }
  self->store = store;
  self->faults = *faults;
  self->faults.fail_setimm_on = g_strdup (faults->fail_setimm_on);
  self->faults.faults_file = g_strdup (faults->faults_file);
  self->jwt_key = tke_crypto_hkdf_sha256 (store->device_key, (const guint8 *) "tke-emulator", 12,
                                          (const guint8 *) "tke-emulator jwt",
                                          strlen ("tke-emulator jwt"), 32, error);
  if (self->jwt_key == NULL)
    {
      tke_emu_server_free (self);
      return NULL;
    }
  self->soup = soup_server_new ("tls-certificate", cert, "server-header", "tke-emulator ", NULL);
  soup_server_add_handler (self->soup, NULL, server_callback, self, NULL);
  g_signal_connect (self->soup, "request-started", G_CALLBACK (request_started), self);
  return self;
}

gboolean
tke_emu_server_listen (TkeEmuServer *self, guint port, GError **error)
{
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, (guint16) port);

  return soup_server_listen (self->soup, address, SOUP_SERVER_LISTEN_HTTPS, error);
}

char *
tke_emu_server_get_url (TkeEmuServer *self)
{
  GSList *uris = soup_server_get_uris (self->soup);
  char *url = NULL;

  if (uris != NULL)
    url = g_strdup_printf ("https://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return url;
}

void
tke_emu_server_free (TkeEmuServer *self)
{
  if (self == NULL)
    return;
  g_atomic_int_set (&self->stop, 1);
  if (self->worker != NULL)
    g_thread_join (self->worker);
  if (self->soup != NULL)
    {
      soup_server_disconnect (self->soup);
      g_object_unref (self->soup);
    }
  g_clear_pointer (&self->jwt_key, tke_secret_unref);
  g_free (self->faults.fail_setimm_on);
  g_free (self->faults.faults_file);
  g_free (self);
}
