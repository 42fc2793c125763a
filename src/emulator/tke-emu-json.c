/* tke-emu-json.c: JSON request parsing and replies (data/doc/service-protocol.md §2)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "tke-emu-server-private.h"

/* json-glib parses nested arrays and objects by recursion, so 100 000
 * levels overflow the stack.  No message of the protocol nests deeper than
 * 5; 64 leaves room for any client and refuses the attack before
 * json-glib sees it. */
#define TKE_EMU_MAX_JSON_DEPTH 64

gboolean
_tke_emu_fail (GError **error, int code, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  if (error != NULL)
    *error = g_error_new_valist (TKE_EMU_ERROR, code, format, args);
  va_end (args);
  return FALSE;
}

static void
reply_node (SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  gsize len = 0;
  char *text;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, &len);
  soup_server_message_set_status (msg, status, NULL);
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, len);
}

void
_tke_emu_reply_object (SoupServerMessage *msg, guint status, JsonObject *object)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  reply_node (msg, status, node);
}

static char *
error_text (const GError *error, gsize *len)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *outer = json_object_new ();
  JsonObject *inner = json_object_new ();
  /* A message may quote the request (a key id from the path); JSON is UTF-8. */
  g_autofree char *message = g_utf8_make_valid (error->message, -1);

  json_object_set_string_member (inner, "code", tke_emu_error_code (error));
  json_object_set_int_member (inner, "status", tke_emu_error_status (error));
  json_object_set_string_member (inner, "message", message);
  json_object_set_object_member (outer, "error", inner);
  json_node_take_object (node, outer);
  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, len);
}

/* The body of @error's answer. */
GBytes *
_tke_emu_error_bytes (const GError *error)
{
  gsize len = 0;
  char *text = error_text (error, &len);

  return g_bytes_new_take (text, len);
}

/* The body of @error's answer, leaving the status as it is. */
void
_tke_emu_set_error_body (SoupServerMessage *msg, const GError *error)
{
  gsize len = 0;
  char *text = error_text (error, &len);

  /* set_response appends to a body already set */
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, len);
}

void
_tke_emu_reply_error (SoupServerMessage *msg, const GError *error)
{
  soup_server_message_set_status (msg, tke_emu_error_status (error), NULL);
  _tke_emu_set_error_body (msg, error);
}

/* Key Protect's error shape for the KMS API, with the service's own
 * "error" object besides it (the libtke client reads that one). */
void
_tke_emu_reply_kms_error (SoupServerMessage *msg, const GError *error)
{
  JsonObject *out = json_object_new ();
  JsonObject *inner = json_object_new ();
  JsonObject *meta = json_object_new ();
  JsonObject *resource = json_object_new ();
  JsonObject *reason = json_object_new ();
  JsonArray *resources = json_array_new ();
  JsonArray *reasons = json_array_new ();
  guint status = tke_emu_error_status (error);
  g_autofree char *message = g_utf8_make_valid (error->message, -1);
  g_autofree char *code = g_ascii_strup (tke_emu_error_code (error), -1);

  json_object_set_string_member (inner, "code", tke_emu_error_code (error));
  json_object_set_int_member (inner, "status", status);
  json_object_set_string_member (inner, "message", message);
  json_object_set_object_member (out, "error", inner);
  json_object_set_string_member (meta, "collectionType", "application/vnd.ibm.kms.error+json");
  json_object_set_int_member (meta, "collectionTotal", 1);
  json_object_set_object_member (out, "metadata", meta);
  _tke_emu_take_string (resource, "errorMsg",
                        g_strdup_printf ("%s: %s", soup_status_get_phrase (status), message));
  _tke_emu_take_string (reason, "code", g_strconcat (code, "_ERR", NULL));
  json_object_set_string_member (reason, "message", message);
  json_object_set_int_member (reason, "status", status);
  json_object_set_string_member (reason, "moreInfo", "data/doc/service-protocol.md");
  json_array_add_object_element (reasons, reason);
  json_object_set_array_member (resource, "reasons", reasons);
  json_array_add_object_element (resources, resource);
  json_object_set_array_member (out, "resources", resources);
  _tke_emu_reply_object (msg, status, out);
}

void
_tke_emu_reply_no_content (SoupServerMessage *msg)
{
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_message_headers_remove (soup_server_message_get_response_headers (msg), "Content-Type");
}

/* \u0000 at @p (just after a backslash inside a string)? */
static gboolean
is_nul_escape (const char *p, const char *end)
{
  return end - p >= 5 && p[0] == 'u' && memcmp (p + 1, "0000", 4) == 0;
}

/* Refuses what json-glib would mishandle, before it parses: nesting
 * deeper than TKE_EMU_MAX_JSON_DEPTH (stack overflow), and \u0000 in a
 * string (json-glib keeps C strings, so "a\u0000b" would become "a"). */
static gboolean
prescan (const char *data, gsize size, const char *what, GError **error)
{
  const char *end = data + size;
  gboolean in_string = FALSE;
  guint depth = 0;

  for (const char *p = data; p < end; p++)
    {
      if (in_string)
        {
          if (*p == '"')
            in_string = FALSE;
          else if (*p == '\\' && p + 1 < end)
            {
              if (is_nul_escape (p + 1, end))
                return FAIL (MALFORMED_JSON, "The %s has a NUL character (\\u0000) in a string.",
                             what);
              p++;
            }
        }
      else if (*p == '"')
        in_string = TRUE;
      else if (*p == '[' || *p == '{')
        {
          if (++depth > TKE_EMU_MAX_JSON_DEPTH)
            return FAIL (MALFORMED_JSON, "The %s nests arrays and objects deeper than %u levels.",
                         what, TKE_EMU_MAX_JSON_DEPTH);
        }
      else if ((*p == ']' || *p == '}') && depth > 0)
        depth--;
    }
  return TRUE;
}

JsonObject *
_tke_emu_parse_object (
    const char *data, gsize size, const char *what, JsonParser **parser_out, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;
  JsonNode *root;

  if (size > 0 && g_utf8_validate (data, (gssize) size, NULL) && !prescan (data, size, what, error))
    return NULL;
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

JsonObject *
_tke_emu_parse_body (SoupServerMessage *msg,
                     JsonParser **parser_out,
                     gboolean allow_empty,
                     GError **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  if (body->length == 0 && allow_empty)
    {
      *parser_out = json_parser_new ();
      json_parser_load_from_data (*parser_out, "{}", -1, NULL);
      return json_node_get_object (json_parser_get_root (*parser_out));
    }
  return _tke_emu_parse_object (body->data, (gsize) body->length, "request body", parser_out,
                                error);
}

gboolean
_tke_emu_only_members (JsonObject *object,
                       const char *const *allowed,
                       const char *where,
                       GError **error)
{
  g_autoptr (GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      return FAIL (INVALID_FIELD, "Unknown field \"%s\" in %s.", (const char *) l->data, where);
  return TRUE;
}

const char *
_tke_emu_get_string (JsonObject *object, const char *name, gboolean required, GError **error)
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

gboolean
_tke_emu_get_int (
    JsonObject *object, const char *name, gboolean required, gint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL)
    return required ? FAIL (INVALID_FIELD, "The field \"%s\" is missing.", name) : TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FAIL (INVALID_FIELD, "The field \"%s\" must be an integer.", name);
  *out = json_node_get_int (node);
  return TRUE;
}

GBytes *
_tke_emu_get_base64 (JsonObject *object, const char *name, GError **error)
{
  const char *text = _tke_emu_get_string (object, name, TRUE, error);
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

GBytes *
_tke_emu_get_hex (JsonObject *object, const char *name, gsize expected, GError **error)
{
  const char *text = _tke_emu_get_string (object, name, TRUE, error);
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

void
_tke_emu_take_string (JsonObject *object, const char *name, char *value)
{
  json_object_set_string_member (object, name, value);
  g_free (value);
}

char *
_tke_emu_hex (const guint8 *data, gsize size)
{
  return tke_crypto_hex_encode (data, size);
}
