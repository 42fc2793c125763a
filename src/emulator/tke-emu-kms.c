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

/* The key lists are written as text, not as json-glib trees: a page of
 * 5 000 keys was 100 000 nodes to build, serialise and free, 0.4 s. */

/* @text inside a JSON string: quote, backslash and control characters
 * escaped (the stored text is UTF-8, as it was parsed). */
static void
append_escaped (GString *out, const char *text)
{
  const char *run = text;

  for (const char *p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c >= 0x20 && c != '"' && c != '\\')
        continue;
      g_string_append_len (out, run, p - run);
      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else
        g_string_append_printf (out, "\\u%04x", c);
      run = p + 1;
    }
  g_string_append (out, run);
}

static void
append_json_string (GString *out, const char *text)
{
  g_string_append_c (out, '"');
  append_escaped (out, text);
  g_string_append_c (out, '"');
}

/* ,"name":"value" (or without the comma for the first member). */
static void
append_member (GString *out, const char *name, const char *value)
{
  if (out->len > 0 && out->str[out->len - 1] != '{')
    g_string_append_c (out, ',');
  g_string_append_c (out, '"');
  g_string_append (out, name);
  g_string_append (out, "\":");
  append_json_string (out, value);
}

static void
append_version (GString *out, const char *name, const char *id, const char *created)
{
  g_string_append_printf (out, ",\"%s\":{", name);
  append_member (out, "id", id);
  if (created != NULL)
    append_member (out, "creationDate", created);
  g_string_append_c (out, '}');
}

static void
append_key (GString *out, TkeEmuServer *self, const TkeEmuKey *key)
{
  gsize wkid_size;
  const guint8 *wkid = g_bytes_get_data (key->wkid, &wkid_size);
  char wkid_hex[2 * TKE_WKID_SIZE + 1] = "";

  for (gsize i = 0; i < wkid_size && i < TKE_WKID_SIZE; i++)
    {
      wkid_hex[2 * i] = "0123456789abcdef"[wkid[i] >> 4];
      wkid_hex[2 * i + 1] = "0123456789abcdef"[wkid[i] & 15];
      wkid_hex[2 * i + 2] = '\0';
    }
  g_string_append_c (out, '{');
  append_member (out, "id", key->id);
  append_member (out, "type", KEY_TYPE);
  append_member (out, "name", key->name);
  g_string_append_printf (out, ",\"state\":%" G_GINT64_FORMAT, key->state);
  g_string_append (out, ",\"crn\":\"crn:v1:bluemix:public:hs-crypto:us-south:a/tke-emulator:");
  append_escaped (out, self->store->instance_id);
  g_string_append (out, ":key:");
  append_escaped (out, key->id);
  g_string_append_c (out, '"');
  append_member (out, "createdBy", "ServiceId-tke-emulator");
  append_member (out, "creationDate", key->created);
  append_member (out, "lastUpdateDate", key->updated);
  if (key->rotated != NULL)
    append_member (out, "lastRotateDate", key->rotated);
  append_version (out, "keyVersion", key->version_id, key->version_created);
  g_string_append (out, ",\"algorithmType\":\"AES\",\"algorithmMetadata\":"
                        "{\"bitLength\":\"256\",\"mode\":\"CBC_PAD\"},"
                        "\"algorithmBitSize\":256,\"algorithmMode\":\"CBC_PAD\"");
  g_string_append_printf (out, ",\"extractable\":%s", key->extractable ? "true" : "false");
  g_string_append (out, ",\"imported\":false,\"deleted\":false,"
                        "\"dualAuthDelete\":{\"enabled\":false}");
  append_member (out, "wkid", wkid_hex);
  g_string_append_c (out, '}');
}

/* {"metadata": {…}, "resources": [ — the caller writes the resources and ends with "]}". */
static GString *
collection_start (const char *type, guint n, gint64 total, gsize size_hint)
{
  GString *out = g_string_sized_new (size_hint);

  g_string_append (out, "{\"metadata\":{");
  append_member (out, "collectionType", type);
  g_string_append_printf (out, ",\"collectionTotal\":%u", n);
  if (total >= 0)
    g_string_append_printf (out, ",\"totalCount\":%" G_GINT64_FORMAT, total);
  g_string_append (out, "},\"resources\":[");
  return out;
}

static GString *
keys_text (TkeEmuServer *self, GPtrArray *keys, gint64 total)
{
  GString *out = collection_start (KEY_TYPE, keys->len, total, 128 + keys->len * 800);

  for (guint i = 0; i < keys->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      append_key (out, self, g_ptr_array_index (keys, i));
    }
  g_string_append (out, "]}");
  return out;
}

static void
reply_text (SoupServerMessage *msg, guint status, GString *text)
{
  gsize len = text->len;

  soup_server_message_set_status (msg, status, NULL);
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    g_string_free (text, FALSE), len);
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

static GString *
kms_list (TkeEmuServer *self, GHashTable *query, GError **error)
{
  g_autoptr (GPtrArray) keys = NULL;
  gint64 offset, limit;
  guint states;

  if (!parse_param (query, "offset", 0, 0, G_MAXINT64, &offset, error) ||
      !parse_param (query, "limit", 200, 1, 5000, &limit, error) ||
      !parse_states (query, &states, error) ||
      (keys = tke_emu_keys_list (self->store, limit, offset, states, error)) == NULL)
    return NULL;
  return keys_text (self, keys, tke_emu_keys_count_states (self->store, states));
}

static GString *
kms_get (TkeEmuServer *self, const char *id, GError **error)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_emu_key_free);
  TkeEmuKey *key = tke_emu_key_find (self->store, id, error);

  if (key == NULL)
    return NULL;
  g_ptr_array_add (keys, key);
  return keys_text (self, keys, -1);
}

/* GET /api/v2/keys/{id}/versions: Key Protect's shape, the oldest first. */
static GString *
kms_versions (TkeEmuServer *self, const char *id, GHashTable *query, GError **error)
{
  g_autoptr (TkeEmuKey) key = NULL;
  g_autoptr (GPtrArray) versions = NULL;
  gint64 offset, limit;
  GString *out;
  guint first, n;

  if (!parse_param (query, "offset", 0, 0, G_MAXINT64, &offset, error) ||
      !parse_param (query, "limit", 200, 1, 5000, &limit, error) ||
      (key = tke_emu_key_find (self->store, id, error)) == NULL ||
      (versions = tke_emu_key_versions_list (self->store, key, error)) == NULL)
    return NULL;
  first = (guint) MIN ((guint64) offset, versions->len);
  n = (guint) MIN ((guint64) limit, versions->len - first);
  out = collection_start (KEY_TYPE, n, versions->len, 128 + n * 96);
  for (guint i = first; i < first + n; i++)
    {
      TkeEmuKeyVersion *v = g_ptr_array_index (versions, i);

      g_string_append (out, i > first ? ",{" : "{");
      append_member (out, "id", v->id);
      append_member (out, "creationDate", v->created);
      g_string_append_c (out, '}');
    }
  g_string_append (out, "]}");
  return out;
}

static GString *
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

/* Key @id for a wrap, unwrap, rewrap or rotate, which need it active. */
static TkeEmuKey *
active_key (TkeEmuServer *self, const char *id, GError **error)
{
  g_autoptr (TkeEmuKey) key = tke_emu_key_find (self->store, id, error);

  if (key != NULL && key->state != KEY_ACTIVE)
    return FAIL (KEY_STATE, "Key %s is suspended: enable it first.", id), NULL;
  return g_steal_pointer (&key);
}

/* Version @v of @key, unwrapped under the current master key @mk. */
static TkeSecret *
version_material (const TkeSecret *mk,
                  const TkeEmuKey *key,
                  const TkeEmuKeyVersion *v,
                  GError **error)
{
  guint8 wkid[TKE_WKID_SIZE];

  tke_crypto_wkid (mk, wkid);
  if (g_bytes_get_size (v->wkid) != TKE_WKID_SIZE ||
      memcmp (g_bytes_get_data (v->wkid, NULL), wkid, sizeof wkid) != 0)
    return FAIL (WRAPPING_KEY_MISMATCH,
                 "Key %s (version %" G_GINT64_FORMAT
                 ") is wrapped under another master key than the current one.",
                 key->id, v->number),
           NULL;
  return tke_crypto_kwp_unwrap (mk, g_bytes_get_data (v->wrapped, NULL),
                                g_bytes_get_size (v->wrapped), error);
}

/* A new version with new material; the old versions stay for unwrap. */
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
      (key = active_key (self, id, error)) == NULL)
    goto fail;
  tke_crypto_wkid (mk, wkid);
  if ((fresh = tke_secret_new_random (TKE_MASTER_KEY_SIZE, error)) == NULL ||
      (wrapped = tke_crypto_kwp_wrap (mk, tke_secret_get_data (fresh), TKE_MASTER_KEY_SIZE,
                                      error)) == NULL ||
      !tke_emu_key_rotate (self->store, key, wkid, wrapped, error))
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

/* A ciphertext names the key version that sealed it, so that it unwraps
 * after a rotate: version (4 bytes, big-endian) ‖ nonce ‖ AES-GCM ‖ tag. */
#define CT_VERSION_SIZE 4

static char *
seal_with (const TkeSecret *key,
           gint64 number,
           GByteArray *aad,
           const guint8 *data,
           gsize size,
           GError **error)
{
  guint8 head[CT_VERSION_SIZE + TKE_GCM_NONCE_SIZE];
  g_autoptr (GBytes) ct = NULL;
  g_autoptr (GByteArray) all = g_byte_array_new ();

  if (size == 0 || size > TKE_EMU_MAX_PLAINTEXT)
    return FAIL (INVALID_FIELD, "\"plaintext\" must be 1 to %d bytes.", TKE_EMU_MAX_PLAINTEXT),
           NULL;
  for (guint i = 0; i < CT_VERSION_SIZE; i++)
    head[i] = (guint8) (number >> (8 * (CT_VERSION_SIZE - 1 - i)));
  if (!tke_crypto_random_bytes (head + CT_VERSION_SIZE, TKE_GCM_NONCE_SIZE, error) ||
      (ct = tke_crypto_aes_gcm_encrypt (key, head + CT_VERSION_SIZE, aad->data, aad->len, data,
                                        size, error)) == NULL)
    return NULL;
  g_byte_array_append (all, head, sizeof head);
  g_byte_array_append (all, g_bytes_get_data (ct, NULL), g_bytes_get_size (ct));
  return g_base64_encode (all->data, all->len);
}

/* The version number a ciphertext names, or 0 when it cannot be one of
 * this service's; its size is checked before anything is allocated for it. */
static gint64
ciphertext_version (GBytes *input, GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (input, &size);
  gint64 number = 0;

  if (size > CT_VERSION_SIZE + TKE_EMU_MAX_CIPHERTEXT)
    return FAIL (INVALID_FIELD,
                 "\"ciphertext\" is over %d bytes: no wrap of at most %d bytes gives it.",
                 CT_VERSION_SIZE + TKE_EMU_MAX_CIPHERTEXT, TKE_EMU_MAX_PLAINTEXT),
           0;
  if (size < CT_VERSION_SIZE + TKE_GCM_NONCE_SIZE + TKE_GCM_TAG_SIZE)
    return FAIL (INVALID_FIELD, "\"ciphertext\" is too short for a wrap of this service."), 0;
  for (guint i = 0; i < CT_VERSION_SIZE; i++)
    number = (number << 8) | data[i];
  if (number == 0)
    FAIL (INVALID_FIELD, "\"ciphertext\" names no key version.");
  return number;
}

static TkeSecret *
open_with (const TkeSecret *key, GByteArray *aad, GBytes *input, GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (input, &size);
  const guint8 *nonce = data + CT_VERSION_SIZE;
  TkeSecret *pt;

  pt = tke_crypto_aes_gcm_decrypt (key, nonce, aad->data, aad->len, nonce + TKE_GCM_NONCE_SIZE,
                                   size - CT_VERSION_SIZE - TKE_GCM_NONCE_SIZE, NULL);
  if (pt == NULL)
    FAIL (INVALID_FIELD, "\"ciphertext\" does not decrypt under this key (or with this \"aad\").");
  return pt;
}

static void
set_version_member (JsonObject *out, const char *name, const TkeEmuKeyVersion *v)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "id", v->id);
  json_object_set_object_member (out, name, o);
}

/* The data key of a wrap: the request's plaintext, or (none given) a new
 * 32-byte data key, as Key Protect makes one. */
static TkeSecret *
wrap_input (JsonObject *body, GError **error)
{
  g_autoptr (GBytes) input = NULL;

  if (!json_object_has_member (body, "plaintext"))
    return tke_secret_new_random (TKE_MASTER_KEY_SIZE, error);
  if ((input = _tke_emu_get_base64 (body, "plaintext", error)) == NULL)
    return NULL;
  /* Checked before it is copied into the secure heap. */
  if (g_bytes_get_size (input) == 0 || g_bytes_get_size (input) > TKE_EMU_MAX_PLAINTEXT)
    return FAIL (INVALID_FIELD, "\"plaintext\" must be 1 to %d bytes.", TKE_EMU_MAX_PLAINTEXT),
           NULL;
  return tke_secret_new_from_data (g_bytes_get_data (input, NULL), g_bytes_get_size (input));
}

static JsonObject *
seal_answer (const TkeSecret *material,
             const TkeEmuKeyVersion *latest,
             GByteArray *aad,
             const TkeSecret *pt,
             GError **error)
{
  g_autofree char *ct = seal_with (material, latest->number, aad, tke_secret_get_data (pt),
                                   tke_secret_get_size (pt), error);
  JsonObject *out;

  if (ct == NULL)
    return NULL;
  out = json_object_new ();
  _tke_emu_take_string (out, "ciphertext", g_steal_pointer (&ct));
  return out;
}

/* unwrap and rewrap: the ciphertext's version opens it; the answer names
 * it in "keyVersion", and when it is not the latest, carries the data key
 * sealed under the latest as Key Protect does ("ciphertext", "rewrappedKey"
 * and "rewrappedKeyVersion").  rewrap always seals under the latest. */
static JsonObject *
open_answer (TkeEmuServer *self,
             const TkeSecret *mk,
             const TkeEmuKey *key,
             const TkeEmuKeyVersion *latest,
             const TkeSecret *latest_material,
             JsonObject *body,
             GByteArray *aad,
             WrapAction action,
             GError **error)
{
  g_autoptr (GBytes) input = _tke_emu_get_base64 (body, "ciphertext", error);
  g_autoptr (TkeEmuKeyVersion) used = NULL;
  g_autoptr (TkeSecret) used_material = NULL;
  g_autoptr (TkeSecret) pt = NULL;
  gint64 number;
  JsonObject *out;

  if (input == NULL || (number = ciphertext_version (input, error)) == 0)
    return NULL;
  if (number > latest->number)
    return FAIL (INVALID_FIELD, "\"ciphertext\" does not decrypt under this key (or with this "
                                "\"aad\")."),
           NULL;
  if (number != latest->number &&
      ((used = tke_emu_key_version_find (self->store, key, number, error)) == NULL ||
       (used_material = version_material (mk, key, used, error)) == NULL))
    return NULL;
  if ((pt = open_with (used != NULL ? used_material : latest_material, aad, input, error)) == NULL)
    return NULL;
  if (action == ACTION_UNWRAP && used == NULL)
    out = json_object_new ();
  else if ((out = seal_answer (latest_material, latest, aad, pt, error)) == NULL)
    return NULL;
  set_version_member (out, "keyVersion", used != NULL ? used : latest);
  if (action == ACTION_REWRAP || used != NULL)
    set_version_member (out, "rewrappedKeyVersion", latest);
  if (action == ACTION_UNWRAP)
    {
      if (used != NULL)
        json_object_set_string_member (out, "rewrappedKey",
                                       json_object_get_string_member (out, "ciphertext"));
      _tke_emu_take_string (out, "plaintext",
                            g_base64_encode (tke_secret_get_data (pt), tke_secret_get_size (pt)));
    }
  return out;
}

/* wrap: {"plaintext"?, "aad"?}; unwrap: {"ciphertext", "aad"?}; rewrap:
 * {"ciphertext", "aad"?} sealed again under the key's latest version. */
static JsonObject *
kms_wrap_action (
    TkeEmuServer *self, SoupServerMessage *msg, const char *id, WrapAction action, GError **error)
{
  static const char *const fields[] = { "plaintext", "ciphertext", "aad", NULL };
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (TkeSecret) mk = NULL;
  g_autoptr (TkeEmuKey) key = NULL;
  g_autoptr (TkeEmuKeyVersion) latest = NULL;
  g_autoptr (TkeSecret) material = NULL;
  g_autoptr (TkeSecret) pt = NULL;
  g_autoptr (GByteArray) aad = NULL;
  JsonObject *body, *out;

  if ((body = _tke_emu_parse_body (msg, &parser, action == ACTION_WRAP, error)) == NULL ||
      !_tke_emu_only_members (body, fields, "the request", error) ||
      !_tke_emu_refuse_during_rotation (self, error) ||
      (aad = wrap_aad (body, id, error)) == NULL ||
      (mk = _tke_emu_current_key (self, error)) == NULL ||
      (key = active_key (self, id, error)) == NULL ||
      (latest = tke_emu_key_version_find (self->store, key, key->version, error)) == NULL ||
      (material = version_material (mk, key, latest, error)) == NULL)
    return NULL;
  if (action != ACTION_WRAP)
    return open_answer (self, mk, key, latest, material, body, aad, action, error);
  if ((pt = wrap_input (body, error)) == NULL ||
      (out = seal_answer (material, latest, aad, pt, error)) == NULL)
    return NULL;
  set_version_member (out, "keyVersion", latest);
  if (!json_object_has_member (body, "plaintext"))
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
  total = g_strdup_printf ("%" G_GINT64_FORMAT, tke_emu_keys_count_states (self->store, states));
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
  GString *text = NULL;
  const char *id = n_parts >= 4 ? parts[3] : NULL;
  gboolean get = g_str_equal (method, "GET"), post = g_str_equal (method, "POST");
  guint status = 200;

  if (!_tke_emu_check_instance_header (self, msg, &error))
    goto done;
  if (n_parts == 3 && get)
    text = kms_list (self, query, &error);
  else if (n_parts == 3 && g_str_equal (method, "HEAD"))
    {
      kms_head (self, msg, query, &error);
      if (error == NULL)
        return;
    }
  else if (n_parts == 3 && post)
    {
      text = kms_create (self, msg, &error);
      status = 201;
    }
  else if ((n_parts == 4 || (n_parts == 5 && g_str_equal (parts[4], "metadata"))) && get)
    text = kms_get (self, id, &error);
  else if (n_parts == 5 && g_str_equal (parts[4], "versions") && get)
    text = kms_versions (self, id, query, &error);
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
    {
      if (text != NULL)
        g_string_free (text, TRUE);
      _tke_emu_reply_kms_error (msg, error);
    }
  else if (status == 204)
    _tke_emu_reply_no_content (msg);
  else if (text != NULL)
    reply_text (msg, status, text);
  else
    _tke_emu_reply_object (msg, status, out);
}
