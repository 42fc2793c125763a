/* tke-emu-auth.c: the identity token endpoint and HS256 bearer tokens
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "tke-emu-server-private.h"

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

/* Decodes unpadded base64url, or returns NULL.  Only the canonical
 * encoding is accepted (RFC 7515 §2; RFC 4648 §3.5): unused low bits must
 * be zero, so one signature has exactly one spelling. */
static GBytes *
b64url_decode (const char *text)
{
  g_autoptr (GString) s = g_string_new (text);
  g_autofree char *again = NULL;
  gsize len = 0;
  guchar *data;

  for (const char *p = text; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return NULL;
  if (s->len % 4 == 1)
    return NULL;
  g_strdelimit (s->str, "-", '+');
  g_strdelimit (s->str, "_", '/');
  while (s->len % 4 != 0)
    g_string_append_c (s, '=');
  data = g_base64_decode (s->str, &len);
  again = b64url (data, len);
  if (!g_str_equal (again, text))
    {
      g_free (data);
      return NULL;
    }
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
  g_autofree char *payload = g_strdup_printf (
      "{\"iss\":\"tke-emulator\",\"sub\":\"ServiceId-tke-"
      "emulator\",\"iam_id\":\"ServiceId-tke-emulator\","
      "\"iat\":%" G_GINT64_FORMAT ",\"exp\":%" G_GINT64_FORMAT ",\"gen\":%d,\"instance\":\"%s\"}",
      iat, exp, g_atomic_int_get (&self->token_generation), self->store->instance_id);
  g_autofree char *h = b64url ((const guint8 *) header, strlen (header));
  g_autofree char *p = b64url ((const guint8 *) payload, strlen (payload));
  g_autofree char *input = g_strconcat (h, ".", p, NULL);
  g_autofree char *sig = NULL;
  guint8 mac[32];

  jwt_mac (self, input, mac);
  sig = b64url (mac, sizeof mac);
  return g_strconcat (input, ".", sig, NULL);
}

/* The last token that verified, and its expiry: a client sends the same
 * token with every call, and checking it again (HMAC, base64, JSON) was a
 * twentieth of a RewrapKeyBlob call.  Only the same bytes match; the
 * expiry and the token generation are checked on every use. */
static gboolean
same_token (TkeEmuServer *self, const char *token)
{
  gsize len = strlen (token);

  return self->verified_token != NULL && strlen (self->verified_token) == len &&
         CRYPTO_memcmp (self->verified_token, token, len) == 0;
}

void
_tke_emu_forget_token (TkeEmuServer *self)
{
  if (self->verified_token != NULL)
    OPENSSL_cleanse (self->verified_token, strlen (self->verified_token));
  g_clear_pointer (&self->verified_token, g_free);
}

gboolean
_tke_emu_check_token (TkeEmuServer *self, SoupServerMessage *msg, GError **error)
{
  const char *auth =
      soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");
  g_auto (GStrv) parts = NULL;
  g_autofree char *input = NULL;
  g_autoptr (GBytes) sig = NULL;
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *claims;
  gint64 exp = 0, gen = 0;
  guint8 mac[32];

  if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0)
    return FAIL (UNAUTHORIZED, "Unauthorized: the request has no bearer token. Log in first.");
  if (same_token (self, auth + 7))
    {
      /* Its generation too: the token-expiry fault moves it on under a
       * token that verified before. */
      if (g_get_real_time () / G_USEC_PER_SEC >= self->verified_exp ||
          self->verified_gen != g_atomic_int_get (&self->token_generation))
        return FAIL (TOKEN_EXPIRED, "The bearer token expired. Log in again.");
      return TRUE;
    }
  parts = g_strsplit (auth + 7, ".", -1);
  if (g_strv_length (parts) != 3)
    return FAIL (UNAUTHORIZED, "Unauthorized: the bearer token is malformed.");
  input = g_strconcat (parts[0], ".", parts[1], NULL);
  jwt_mac (self, input, mac);
  sig = b64url_decode (parts[2]);
  payload = b64url_decode (parts[1]);
  if (sig == NULL || payload == NULL)
    return FAIL (UNAUTHORIZED, "Unauthorized: the bearer token is malformed.");
  if (g_bytes_get_size (sig) != sizeof mac ||
      CRYPTO_memcmp (g_bytes_get_data (sig, NULL), mac, sizeof mac) != 0)
    return FAIL (UNAUTHORIZED, "Unauthorized: the bearer token was not issued by this service.");
  claims = _tke_emu_parse_object (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload),
                                  "token", &parser, NULL);
  if (claims == NULL || !_tke_emu_get_int (claims, "exp", TRUE, &exp, NULL))
    return FAIL (UNAUTHORIZED, "Unauthorized: the bearer token is malformed.");
  if (json_object_has_member (claims, "gen") && !_tke_emu_get_int (claims, "gen", TRUE, &gen, NULL))
    return FAIL (UNAUTHORIZED, "Unauthorized: the bearer token is malformed.");
  /* An older generation: expired by the injected fault. */
  if (g_get_real_time () / G_USEC_PER_SEC >= exp ||
      gen != g_atomic_int_get (&self->token_generation))
    return FAIL (TOKEN_EXPIRED, "The bearer token expired. Log in again.");
  _tke_emu_forget_token (self);
  self->verified_token = g_strdup (auth + 7);
  self->verified_exp = exp;
  self->verified_gen = (gint) gen;
  return TRUE;
}

void
_tke_emu_handle_token (TkeEmuServer *self, SoupServerMessage *msg)
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
      _tke_emu_reply_error (msg, error);
      return;
    }

  out = json_object_new ();
  _tke_emu_take_string (out, "access_token", make_token (self, now, now + self->faults.token_ttl));
  _tke_emu_take_string (out, "refresh_token", _tke_emu_hex (refresh, sizeof refresh));
  json_object_set_string_member (out, "token_type", "Bearer");
  json_object_set_int_member (out, "expires_in", self->faults.token_ttl);
  json_object_set_int_member (out, "expiration", now + self->faults.token_ttl);
  json_object_set_string_member (out, "scope", "ibm openid");
  _tke_emu_reply_object (msg, 200, out);
}
