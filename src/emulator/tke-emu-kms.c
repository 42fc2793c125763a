/* tke-emu-kms.c: the KMS calls (the Key Protect API for root keys)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "tke-emu-server-private.h"

#define KEY_TYPE "application/vnd.ibm.kms.key+json"
/* Key Protect's key states (the ones this service uses). */
#define KEY_ACTIVE 1
#define KEY_SUSPENDED 2

TkeSecret *
_tke_emu_current_key (TkeEmuServer *self, GError **error)
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

gboolean
_tke_emu_check_instance_header (TkeEmuServer *self, SoupServerMessage *msg, GError **error)
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
key_json (TkeEmuServer *self, const TkeEmuKey *key)
{
  JsonObject *o = json_object_new ();
  JsonObject *alg = json_object_new ();
  JsonObject *dual = json_object_new ();

  json_object_set_string_member (o, "id", key->id);
  json_object_set_string_member (o, "type", KEY_TYPE);
  json_object_set_string_member (o, "name", key->name);
  json_object_set_int_member (o, "state", key->state);
  _tke_emu_take_string (o, "crn",
                        g_strdup_printf ("crn:v1:bluemix:public:hs-crypto:us-south:a/"
                                         "tke-emulator:%s:key:%s",
                                         self->store->instance_id, key->id));
  json_object_set_string_member (o, "createdBy", "ServiceId-tke-emulator");
  json_object_set_string_member (o, "creationDate", key->created);
  json_object_set_string_member (o, "lastUpdateDate", key->updated);
  json_object_set_string_member (o, "algorithmType", "AES");
  json_object_set_string_member (alg, "bitLength", "256");
  json_object_set_string_member (alg, "mode", "CBC_PAD");
  json_object_set_object_member (o, "algorithmMetadata", alg);
  json_object_set_int_member (o, "algorithmBitSize", 256);
  json_object_set_string_member (o, "algorithmMode", "CBC_PAD");
  json_object_set_boolean_member (o, "extractable", key->extractable);
  json_object_set_boolean_member (o, "imported", FALSE);
  json_object_set_boolean_member (o, "deleted", FALSE);
  json_object_set_boolean_member (dual, "enabled", FALSE);
  json_object_set_object_member (o, "dualAuthDelete", dual);
  _tke_emu_take_string (
      o, "wkid", _tke_emu_hex (g_bytes_get_data (key->wkid, NULL), g_bytes_get_size (key->wkid)));
  return o;
}

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

/* "?state=1,2": the states to list (a bit each), or 0 for all. */
static gboolean
parse_states (GHashTable *query, guint *mask, GError **error)
{
  const char *text = query != NULL ? g_hash_table_lookup (query, "state") : NULL;
  g_auto (GStrv) items = NULL;

  *mask = 0;
  if (text == NULL)
    return TRUE;
  items = g_strsplit (text, ",", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      guint64 state;

      if (!g_ascii_string_to_unsigned (items[i], 10, 0, 5, &state, NULL) || state == 4)
        return FAIL (INVALID_PARAMETER,
                     "The state parameter is a comma-separated list of 0, 1, 2, 3 and 5.");
      *mask |= 1u << state;
    }
  return TRUE;
}

static JsonObject *
kms_list (TkeEmuServer *self, GHashTable *query, GError **error)
{
  g_autoptr (GPtrArray) keys = NULL;
  JsonArray *resources;
  gint64 offset, limit;
  guint states;

  if (!parse_param (query, "offset", 0, 0, G_MAXINT64, &offset, error) ||
      !parse_param (query, "limit", 200, 1, 5000, &limit, error) ||
      !parse_states (query, &states, error) ||
      (keys = tke_emu_keys_list (self->store, limit, offset, states, error)) == NULL)
    return NULL;
  resources = json_array_new ();
  for (guint i = 0; i < keys->len; i++)
    json_array_add_object_element (resources, key_json (self, g_ptr_array_index (keys, i)));
  return collection (resources, tke_emu_keys_count_states (self->store->db, states));
}

static JsonObject *
kms_get (TkeEmuServer *self, const char *id, GError **error)
{
  g_autoptr (TkeEmuKey) key = tke_emu_key_find (self->store, id, error);
  JsonArray *resources;

  if (key == NULL)
    return NULL;
  resources = json_array_new ();
  json_array_add_object_element (resources, key_json (self, key));
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

  if ((body = _tke_emu_parse_body (msg, &parser, FALSE, error)) == NULL)
    return NULL;
  node = json_object_get_member (body, "resources");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node) ||
      json_array_get_length (json_node_get_array (node)) != 1 ||
      !JSON_NODE_HOLDS_OBJECT (json_array_get_element (json_node_get_array (node), 0)))
    return FAIL (INVALID_FIELD, "\"resources\" must be an array of one key object."), NULL;
  resource = json_node_get_object (json_array_get_element (json_node_get_array (node), 0));
  if (!_tke_emu_only_members (resource, resource_fields, "the key", error) ||
      (name_in = _tke_emu_get_string (resource, "name", TRUE, error)) == NULL)
    return NULL;
  if (*name_in == '\0' || g_utf8_strlen (name_in, -1) > 90)
    return FAIL (INVALID_FIELD, "A key name has 1 to 90 characters."), NULL;
  extractable = json_object_get_member (resource, "extractable");
  if (extractable != NULL && (!JSON_NODE_HOLDS_VALUE (extractable) ||
                              json_node_get_value_type (extractable) != G_TYPE_BOOLEAN))
    return FAIL (INVALID_FIELD, "\"extractable\" must be a boolean."), NULL;

  if (!tke_emu_db_begin (self->store->db, error))
    return NULL;
  if (!_tke_emu_refuse_during_rotation (self, error) ||
      (mk = _tke_emu_current_key (self, error)) == NULL)
    goto fail;
  name = g_strdup (name_in);
  id = tke_emu_key_create (self->store, mk, name,
                           extractable != NULL && json_node_get_boolean (extractable), error);
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
  g_autoptr (TkeEmuRotation) r = NULL;
  g_autoptr (TkeEmuKey) key = NULL;

  if (!tke_emu_db_begin (self->store->db, error))
    return FALSE;
  if ((key = tke_emu_key_find (self->store, id, error)) == NULL ||
      (r = tke_emu_rotation_load (self->store->db, error)) == NULL ||
      !tke_emu_key_delete (self->store, key->rowid, error))
    goto fail;
  /* Keep the rotation's progress true: a key deleted mid-rotation leaves the total. */
  if (g_str_equal (r->state, "rewrapping"))
    {
      g_autofree char *to_wkid = g_strndup (r->to_vp, TKE_WKID_SIZE * 2);
      g_autofree char *row_wkid =
          _tke_emu_hex (g_bytes_get_data (key->wkid, NULL), g_bytes_get_size (key->wkid));

      if (!tke_emu_rotation_forget_key (self->store->db, r->id, g_str_equal (to_wkid, row_wkid),
                                        error))
        goto fail;
    }
  else if (g_str_equal (r->state, "rewrapped") &&
           !tke_emu_rotation_forget_key (self->store->db, r->id, TRUE, error))
    goto fail;
  return tke_emu_db_commit (self->store->db, error);

fail:
  tke_emu_db_rollback (self->store->db);
  return FALSE;
}

/* Unwraps key @id's material under the current master key. */
static TkeSecret *
root_key_material (TkeEmuServer *self, const char *id, GError **error)
{
  g_autoptr (TkeSecret) mk = _tke_emu_current_key (self, error);
  g_autoptr (TkeEmuKey) key = NULL;
  guint8 wkid[TKE_WKID_SIZE];

  if (mk == NULL || (key = tke_emu_key_find (self->store, id, error)) == NULL)
    return NULL;
  if (key->state != KEY_ACTIVE)
    return FAIL (KEY_STATE, "Key %s is suspended: enable it first.", id), NULL;
  tke_crypto_wkid (mk, wkid);
  if (g_bytes_get_size (key->wkid) != TKE_WKID_SIZE ||
      memcmp (g_bytes_get_data (key->wkid, NULL), wkid, sizeof wkid) != 0)
    return FAIL (WRAPPING_KEY_MISMATCH,
                 "Key %s is wrapped under another master key than the current one.", id),
           NULL;
  return tke_crypto_kwp_unwrap (mk, g_bytes_get_data (key->wrapped, NULL),
                                g_bytes_get_size (key->wrapped), error);
}

static gboolean
kms_rotate_key (TkeEmuServer *self, const char *id, GError **error)
{
  g_autoptr (TkeSecret) mk = NULL;
  g_autoptr (TkeSecret) fresh = NULL;
  g_autoptr (GBytes) wrapped = NULL;
  g_autoptr (TkeEmuKey) key = NULL;
  guint8 wkid[TKE_WKID_SIZE];

  if (!tke_emu_db_begin (self->store->db, error))
    return FALSE;
  if (!_tke_emu_refuse_during_rotation (self, error) ||
      (mk = _tke_emu_current_key (self, error)) == NULL ||
      (key = tke_emu_key_find (self->store, id, error)) == NULL)
    goto fail;
  if (key->state != KEY_ACTIVE)
    {
      FAIL (KEY_STATE, "Key %s is suspended: enable it first.", id);
      goto fail;
    }
  tke_crypto_wkid (mk, wkid);
  if ((fresh = tke_secret_new_random (TKE_MASTER_KEY_SIZE, error)) == NULL ||
      (wrapped = tke_crypto_kwp_wrap (mk, tke_secret_get_data (fresh), TKE_MASTER_KEY_SIZE,
                                      error)) == NULL ||
      !tke_emu_key_set_material (self->store, id, wkid, wrapped, error))
    goto fail;
  return tke_emu_db_commit (self->store->db, error);

fail:
  tke_emu_db_rollback (self->store->db);
  return FALSE;
}

typedef enum
{
  ACTION_WRAP,
  ACTION_UNWRAP,
  ACTION_REWRAP,
} WrapAction;

/* The associated data of a wrap: the key id, then each of the request's
 * "aad" strings with its length, so that no two lists give the same bytes. */
static GByteArray *
wrap_aad (JsonObject *body, const char *id, GError **error)
{
  g_autoptr (GByteArray) aad = g_byte_array_new ();
  JsonNode *node = json_object_get_member (body, "aad");
  JsonArray *list;

  g_byte_array_append (aad, (const guint8 *) id, strlen (id));
  if (node == NULL)
    return g_steal_pointer (&aad);
  if (!JSON_NODE_HOLDS_ARRAY (node) ||
      json_array_get_length (list = json_node_get_array (node)) > TKE_EMU_MAX_AAD)
    return FAIL (INVALID_FIELD, "\"aad\" must be an array of at most %d strings.", TKE_EMU_MAX_AAD),
           NULL;
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *item = json_array_get_element (list, i);
      const char *text;
      guint8 len[2];

      if (!JSON_NODE_HOLDS_VALUE (item) || json_node_get_value_type (item) != G_TYPE_STRING ||
          strlen (text = json_node_get_string (item)) > TKE_EMU_MAX_AAD_LENGTH)
        return FAIL (INVALID_FIELD, "Each \"aad\" entry must be a string of at most %d bytes.",
                     TKE_EMU_MAX_AAD_LENGTH),
               NULL;
      len[0] = (guint8) (strlen (text) >> 8);
      len[1] = (guint8) strlen (text);
      g_byte_array_append (aad, len, sizeof len);
      g_byte_array_append (aad, (const guint8 *) text, strlen (text));
    }
  return g_steal_pointer (&aad);
}

static char *
seal_with (const TkeSecret *key, GByteArray *aad, const guint8 *data, gsize size, GError **error)
{
  guint8 nonce[TKE_GCM_NONCE_SIZE];
  g_autoptr (GBytes) ct = NULL;
  g_autoptr (GByteArray) all = g_byte_array_new ();

  if (size == 0 || size > TKE_EMU_MAX_PLAINTEXT)
    return FAIL (INVALID_FIELD, "\"plaintext\" must be 1 to %d bytes.", TKE_EMU_MAX_PLAINTEXT),
           NULL;
  if (!tke_crypto_random_bytes (nonce, sizeof nonce, error) ||
      (ct = tke_crypto_aes_gcm_encrypt (key, nonce, aad->data, aad->len, data, size, error)) ==
          NULL)
    return NULL;
  g_byte_array_append (all, nonce, sizeof nonce);
  g_byte_array_append (all, g_bytes_get_data (ct, NULL), g_bytes_get_size (ct));
  return g_base64_encode (all->data, all->len);
}

/* The ciphertext's size is checked before anything is allocated for it. */
static TkeSecret *
open_with (const TkeSecret *key, GByteArray *aad, GBytes *input, GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (input, &size);
  TkeSecret *pt = NULL;

  if (size > TKE_EMU_MAX_CIPHERTEXT)
    return FAIL (INVALID_FIELD,
                 "\"ciphertext\" is over %d bytes: no wrap of at most %d bytes gives it.",
                 TKE_EMU_MAX_CIPHERTEXT, TKE_EMU_MAX_PLAINTEXT),
           NULL;
  if (size >= TKE_GCM_NONCE_SIZE + TKE_GCM_TAG_SIZE)
    pt = tke_crypto_aes_gcm_decrypt (key, data, aad->data, aad->len, data + TKE_GCM_NONCE_SIZE,
                                     size - TKE_GCM_NONCE_SIZE, NULL);
  if (pt == NULL)
    FAIL (INVALID_FIELD, "\"ciphertext\" does not decrypt under this key (or with this \"aad\").");
  return pt;
}

/* wrap: {"plaintext"?, "aad"?}, without plaintext a new 32-byte data key is
 * made and returned with its ciphertext, as Key Protect does; unwrap:
 * {"ciphertext", "aad"?}; rewrap: {"ciphertext", "aad"?} sealed again. */
static JsonObject *
kms_wrap_action (
    TkeEmuServer *self, SoupServerMessage *msg, const char *id, WrapAction action, GError **error)
{
  static const char *const fields[] = { "plaintext", "ciphertext", "aad", NULL };
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (TkeSecret) key = NULL;
  g_autoptr (TkeSecret) pt = NULL;
  g_autoptr (GBytes) input = NULL;
  g_autoptr (GByteArray) aad = NULL;
  g_autofree char *ct = NULL;
  JsonObject *body, *out;

  if ((body = _tke_emu_parse_body (msg, &parser, action == ACTION_WRAP, error)) == NULL ||
      !_tke_emu_only_members (body, fields, "the request", error) ||
      !_tke_emu_refuse_during_rotation (self, error) ||
      (aad = wrap_aad (body, id, error)) == NULL ||
      (key = root_key_material (self, id, error)) == NULL)
    return NULL;
  if (action == ACTION_WRAP && json_object_has_member (body, "plaintext"))
    {
      if ((input = _tke_emu_get_base64 (body, "plaintext", error)) == NULL)
        return NULL;
      /* Checked before it is copied into the secure heap. */
      if (g_bytes_get_size (input) == 0 || g_bytes_get_size (input) > TKE_EMU_MAX_PLAINTEXT)
        return FAIL (INVALID_FIELD, "\"plaintext\" must be 1 to %d bytes.", TKE_EMU_MAX_PLAINTEXT),
               NULL;
      pt = tke_secret_new_from_data (g_bytes_get_data (input, NULL), g_bytes_get_size (input));
    }
  else if (action == ACTION_WRAP)
    pt = tke_secret_new_random (TKE_MASTER_KEY_SIZE, error);
  else if ((input = _tke_emu_get_base64 (body, "ciphertext", error)) == NULL ||
           (pt = open_with (key, aad, input, error)) == NULL)
    return NULL;
  if (pt == NULL)
    return NULL;
  out = json_object_new ();
  if (action != ACTION_UNWRAP)
    {
      if ((ct = seal_with (key, aad, tke_secret_get_data (pt), tke_secret_get_size (pt), error)) ==
          NULL)
        return json_object_unref (out), NULL;
      json_object_set_string_member (out, "ciphertext", ct);
    }
  if (action == ACTION_UNWRAP || (action == ACTION_WRAP && input == NULL))
    _tke_emu_take_string (out, "plaintext",
                          g_base64_encode (tke_secret_get_data (pt), tke_secret_get_size (pt)));
  return out;
}

/* disable (active → suspended) and enable (suspended → active). */
static gboolean
kms_set_state (TkeEmuServer *self, const char *id, gboolean enable, GError **error)
{
  g_autoptr (TkeEmuKey) key = NULL;
  gint64 from = enable ? KEY_SUSPENDED : KEY_ACTIVE;

  if (!tke_emu_db_begin (self->store->db, error))
    return FALSE;
  if ((key = tke_emu_key_find (self->store, id, error)) == NULL)
    goto fail;
  if (key->state != from)
    {
      FAIL (KEY_STATE, "Key %s is %s: only a%s key can be %s.", id,
            key->state == KEY_ACTIVE ? "active" : "suspended", enable ? " suspended" : "n active",
            enable ? "enabled" : "disabled");
      goto fail;
    }
  if (!tke_emu_key_set_state (self->store, id, enable ? KEY_ACTIVE : KEY_SUSPENDED, error))
    goto fail;
  return tke_emu_db_commit (self->store->db, error);

fail:
  tke_emu_db_rollback (self->store->db);
  return FALSE;
}

/* POST /api/v2/keys/{id}/actions/{action}, or the older ?action= form. */
static void
kms_action (TkeEmuServer *self,
            SoupServerMessage *msg,
            const char *id,
            const char *action,
            JsonObject **out,
            guint *status,
            GError **error)
{
  if (g_strcmp0 (action, "rotate") == 0)
    {
      /* The body is optional, but when there is one it must be what
       * the KMS API allows: no half-read request rotates a key. */
      static const char *const rotate_members[] = { "metadata", "resources", "payload", NULL };
      g_autoptr (JsonParser) parser = NULL;
      JsonObject *body = _tke_emu_parse_body (msg, &parser, TRUE, error);

      if (body != NULL &&
          _tke_emu_only_members (body, rotate_members, "the rotate request", error) &&
          kms_rotate_key (self, id, error))
        *status = 204;
    }
  else if (g_strcmp0 (action, "wrap") == 0)
    *out = kms_wrap_action (self, msg, id, ACTION_WRAP, error);
  else if (g_strcmp0 (action, "unwrap") == 0)
    *out = kms_wrap_action (self, msg, id, ACTION_UNWRAP, error);
  else if (g_strcmp0 (action, "rewrap") == 0)
    *out = kms_wrap_action (self, msg, id, ACTION_REWRAP, error);
  else if (g_strcmp0 (action, "disable") == 0 || g_strcmp0 (action, "enable") == 0)
    {
      if (kms_set_state (self, id, g_str_equal (action, "enable"), error))
        *status = 204;
    }
  else
    FAIL (INVALID_PARAMETER, "The action must be wrap, unwrap, rewrap, rotate, disable or enable.");
}

/* HEAD /api/v2/keys: the number of keys in Key-Total, no body. */
static void
kms_head (TkeEmuServer *self, SoupServerMessage *msg, GHashTable *query, GError **error)
{
  guint states;
  g_autofree char *total = NULL;

  if (!parse_states (query, &states, error))
    return;
  total =
      g_strdup_printf ("%" G_GINT64_FORMAT, tke_emu_keys_count_states (self->store->db, states));
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Key-Total", total);
  soup_server_message_set_status (msg, 200, NULL);
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
}

void
_tke_emu_handle_kms (TkeEmuServer *self,
                     SoupServerMessage *msg,
                     const char *method,
                     char **parts,
                     guint n_parts,
                     GHashTable *query)
{
  g_autoptr (GError) error = NULL;
  JsonObject *out = NULL;
  const char *id = n_parts >= 4 ? parts[3] : NULL;
  gboolean get = g_str_equal (method, "GET"), post = g_str_equal (method, "POST");
  guint status = 200;

  if (!_tke_emu_check_instance_header (self, msg, &error))
    goto done;
  if (n_parts == 3 && get)
    out = kms_list (self, query, &error);
  else if (n_parts == 3 && g_str_equal (method, "HEAD"))
    {
      kms_head (self, msg, query, &error);
      if (error == NULL)
        return;
    }
  else if (n_parts == 3 && post)
    {
      out = kms_create (self, msg, &error);
      status = 201;
    }
  else if ((n_parts == 4 || (n_parts == 5 && g_str_equal (parts[4], "metadata"))) && get)
    out = kms_get (self, id, &error);
  else if (n_parts == 4 && g_str_equal (method, "DELETE"))
    {
      if (kms_delete (self, id, &error))
        status = 204;
    }
  else if (n_parts == 4 && post)
    kms_action (self, msg, id, query != NULL ? g_hash_table_lookup (query, "action") : NULL, &out,
                &status, &error);
  else if (n_parts == 6 && g_str_equal (parts[4], "actions") && post)
    kms_action (self, msg, id, parts[5], &out, &status, &error);
  else if (n_parts <= 6)
    g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_METHOD_NOT_ALLOWED, "%s is not allowed here.",
                 method);
  else
    g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND, "No such resource.");

done:
  if (error != NULL)
    _tke_emu_reply_kms_error (msg, error);
  else if (status == 204)
    _tke_emu_reply_no_content (msg);
  else
    _tke_emu_reply_object (msg, status, out);
}
