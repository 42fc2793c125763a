/* unit-proxy.c: an intercepting HTTPS proxy between libtke and tke-emulator
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What a compromised front end (or anyone holding a certificate from the
 * service's TLS CA) can do: read and change every answer.  It serves TLS
 * with a certificate it makes from the emulator's CA key, forwards each
 * request to the real emulator and, by mode, forges the answers.  It cannot
 * make a unit's signature.
 */

#include "config.h"

#include <string.h>

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "unit-proxy.h"

struct _Proxy
{
  Emu *emu;
  SoupServer *server;
  SoupSession *session;
  char *url;
  ProxyMode mode;
  GHashTable *recorded; /* hsm_id → GBytes: the first query answer */
  char *first_hsm;
  guint n_forged;
  guint n_answers;          /* signed answers forwarded */
  guint n_importer_answers; /* … that name an importer key */
  EVP_PKEY *key;            /* the proxy's own "device" and importer key */
};

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)

static EVP_PKEY *
read_ca_key (Emu *emu)
{
  g_autofree char *path = g_build_filename (emu->state_dir, "ca-key.pem", NULL);
  g_autofree char *text = NULL;
  BIO *bio;
  EVP_PKEY *key;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  bio = BIO_new_mem_buf (text, -1);
  key = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL);
  BIO_free (bio);
  g_assert_nonnull (key);
  return key;
}

static X509 *
read_ca (Emu *emu)
{
  g_autofree char *text = NULL;
  BIO *bio;
  X509 *cert;

  g_assert_true (g_file_get_contents (emu->ca_file, &text, NULL, NULL));
  bio = BIO_new_mem_buf (text, -1);
  cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  BIO_free (bio);
  g_assert_nonnull (cert);
  return cert;
}

static void
add_ext (X509 *cert, X509 *issuer, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509_EXTENSION *ext;

  X509V3_set_ctx (&ctx, issuer, cert, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  g_assert_nonnull (ext);
  g_assert_cmpint (X509_add_ext (cert, ext, -1), ==, 1);
  X509_EXTENSION_free (ext);
}

/* A server certificate for 127.0.0.1 from the emulator's own CA. */
static GTlsCertificate *
make_tls_certificate (Emu *emu)
{
  g_autoptr (EVP_PKEY) ca_key = read_ca_key (emu);
  g_autoptr (X509) ca = read_ca (emu);
  g_autoptr (X509) cert = X509_new ();
  g_autoptr (EVP_PKEY) key = EVP_EC_gen ("P-256");
  X509_NAME *name = X509_NAME_new ();
  BIO *bio = BIO_new (BIO_s_mem ());
  g_autoptr (GError) error = NULL;
  GTlsCertificate *tls;
  char *data = NULL;
  long size;

  g_assert_nonnull (key);
  X509_set_version (cert, X509_VERSION_3);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), g_random_int_range (1000, G_MAXINT32));
  X509_gmtime_adj (X509_getm_notBefore (cert), -3600);
  X509_gmtime_adj (X509_getm_notAfter (cert), 3600);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const guint8 *) "intercepting proxy", -1,
                              -1, 0);
  X509_set_subject_name (cert, name);
  X509_NAME_free (name);
  X509_set_issuer_name (cert, X509_get_subject_name (ca));
  X509_set_pubkey (cert, key);
  add_ext (cert, ca, NID_basic_constraints, "critical,CA:FALSE");
  add_ext (cert, ca, NID_ext_key_usage, "serverAuth");
  add_ext (cert, ca, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  g_assert_cmpint (X509_sign (cert, ca_key, EVP_sha256 ()), >, 0);
  PEM_write_bio_X509 (bio, cert);
  PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL);
  size = BIO_get_mem_data (bio, &data);
  {
    g_autofree char *pem = g_strndup (data, size);

    tls = g_tls_certificate_new_from_pem (pem, -1, &error);
  }
  BIO_free (bio);
  g_assert_no_error (error);
  return tls;
}

/* ---- Forging ------------------------------------------------------------- */

static char *
b64 (GBytes *bytes)
{
  return g_base64_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static GBytes *
signed_blob (EVP_PKEY *key, GBytes *body)
{
  g_autoptr (GBytes) sig =
      tke_crypto_sign (key, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL);
  g_autoptr (GByteArray) out = g_byte_array_new ();

  g_byte_array_append (out, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_byte_array_append (out, g_bytes_get_data (sig, NULL), g_bytes_get_size (sig));
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* Calls @edit on the decoded answer; re-encodes it.  With @resign, the
 * proxy signs the answer with its own key and sends a certificate of its
 * own that claims the pinned root as its issuer. */
static char *
forge (Proxy *self,
       const char *body,
       const char *hsm_id,
       gboolean (*edit) (Proxy *, JsonObject *),
       gboolean resign)
{
  g_autoptr (JsonNode) root = json_from_string (body, NULL);
  JsonObject *response = json_object_get_object_member (json_node_get_object (root), "response");
  g_autofree guchar *answer_data = NULL;
  gsize answer_size = 0;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *answer;
  g_autofree char *text = NULL;
  g_autofree char *text_b64 = NULL;

  answer_data = g_base64_decode (json_object_get_string_member (response, "answer"), &answer_size);
  g_assert_true (
      json_parser_load_from_data (parser, (const char *) answer_data, answer_size, NULL));
  answer = json_node_get_object (json_parser_get_root (parser));
  if (!edit (self, answer))
    return NULL;
  text = json_to_string (json_parser_get_root (parser), FALSE);
  text_b64 = g_base64_encode ((const guchar *) text, strlen (text));
  json_object_set_string_member (response, "answer", text_b64);
  if (resign)
    {
      g_autoptr (GBytes) data = g_bytes_new (text, strlen (text));
      g_autoptr (GBytes) sig =
          tke_crypto_sign (self->key, (const guint8 *) text, strlen (text), NULL);
      g_autoptr (GBytes) point = tke_crypto_ec_public_point (self->key, NULL);
      g_autofree char *fingerprint = tke_unit_root_fingerprint (self->emu->unit_root_point);
      g_autoptr (GBytes) root_ski = tke_crypto_hex_decode (fingerprint, NULL);
      g_autoptr (GBytes) cert_body =
          tke_unit_certificate_build_body (self->emu->instance, hsm_id, point, root_ski, NULL);
      g_autoptr (GBytes) cert = signed_blob (self->key, cert_body);
      g_autofree char *sig_b64 = b64 (sig);
      g_autofree char *cert_b64 = b64 (cert);
      JsonArray *certs = json_array_new ();

      json_object_set_string_member (response, "signature", sig_b64);
      json_array_add_string_element (certs, cert_b64);
      json_object_set_array_member (response, "certificates", certs);
    }
  self->n_forged++;
  return json_to_string (root, FALSE);
}

static gboolean
swap_importer (Proxy *self, JsonObject *answer)
{
  JsonObject *result = json_object_get_object_member (answer, "result");
  g_autoptr (GBytes) point = tke_crypto_ec_public_point (self->key, NULL);
  g_autofree char *hex = tke_crypto_hex_encode (g_bytes_get_data (point, NULL), 133);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GBytes) cert = NULL;
  g_autofree char *cert_b64 = NULL;

  if (!json_object_has_member (result, "importer_key") ||
      json_object_get_null_member (result, "importer_key"))
    return FALSE;
  body = tke_importer_certificate_build_body (json_object_get_string_member (answer, "instance"),
                                              json_object_get_string_member (answer, "hsm_id"),
                                              point, NULL);
  cert = signed_blob (self->key, body);
  cert_b64 = b64 (cert);
  json_object_set_string_member (result, "importer_key", hex);
  json_object_set_string_member (result, "importer_certificate", cert_b64);
  return TRUE;
}

static gboolean
alter_query (Proxy *self, JsonObject *answer)
{
  JsonObject *result = json_object_get_object_member (answer, "result");

  if (!g_str_equal (json_object_get_string_member (answer, "command"), "query"))
    return FALSE;
  json_object_set_string_member (
      result, "current_mkvp", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  json_object_set_string_member (result, "new_mk_status", "Full Committed");
  return TRUE;
}

static gboolean
alter_state (Proxy *self, JsonObject *answer)
{
  JsonObject *result = json_object_get_object_member (answer, "result");
  JsonObject *state;

  if (g_str_equal (json_object_get_string_member (answer, "command"), "query") ||
      !json_object_has_member (result, "state"))
    return FALSE;
  state = json_object_get_object_member (result, "state");
  json_object_set_string_member (
      state, "current_mkvp", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  json_object_set_string_member (state, "new_mk_status", "Full Committed");
  return TRUE;
}

static gboolean
is_query (const char *body)
{
  g_autoptr (JsonNode) root = json_from_string (body, NULL);
  JsonObject *response = json_object_get_object_member (json_node_get_object (root), "response");
  g_autofree guchar *data = NULL;
  gsize size = 0;

  data = g_base64_decode (json_object_get_string_member (response, "answer"), &size);
  return g_strstr_len ((const char *) data, size, "\"command\":\"query\"") != NULL;
}

static void
count_answer (Proxy *self, const char *body)
{
  g_autoptr (JsonNode) root = json_from_string (body, NULL);
  JsonObject *response = json_object_get_object_member (json_node_get_object (root), "response");
  g_autofree guchar *data = NULL;
  gsize size = 0;

  data = g_base64_decode (json_object_get_string_member (response, "answer"), &size);
  self->n_answers++;
  if (g_strstr_len ((const char *) data, size, "\"importer_key\":\"") != NULL)
    self->n_importer_answers++;
}

/* Returns the body to answer with (NULL: the emulator's, unchanged). */
static char *
tamper (Proxy *self, const char *hsm_id, const char *body)
{
  GBytes *recorded;

  switch (self->mode)
    {
    case PROXY_SWAP_IMPORTER:
      return forge (self, body, hsm_id, swap_importer, TRUE);
    case PROXY_ALTER_QUERY:
      return forge (self, body, hsm_id, alter_query, FALSE);
    case PROXY_ALTER_STATE:
      return forge (self, body, hsm_id, alter_state, FALSE);
    case PROXY_REPLAY:
    case PROXY_MOVE:
      if (!is_query (body))
        return NULL;
      if (self->first_hsm == NULL)
        self->first_hsm = g_strdup (hsm_id);
      if (!g_hash_table_contains (self->recorded, hsm_id))
        g_hash_table_insert (self->recorded, g_strdup (hsm_id), g_bytes_new (body, strlen (body)));
      recorded =
          g_hash_table_lookup (self->recorded, self->mode == PROXY_MOVE ? self->first_hsm : hsm_id);
      if (self->mode == PROXY_MOVE && g_str_equal (hsm_id, self->first_hsm))
        return NULL;
      if (self->mode == PROXY_REPLAY && g_bytes_get_size (recorded) == strlen (body) &&
          memcmp (g_bytes_get_data (recorded, NULL), body, strlen (body)) == 0)
        return NULL;
      self->n_forged++;
      return g_strndup (g_bytes_get_data (recorded, NULL), g_bytes_get_size (recorded));
    case PROXY_PASS:
    default:
      return NULL;
    }
}

/* ---- Forwarding ---------------------------------------------------------- */

static void
copy_header (SoupMessageHeaders *from, SoupMessageHeaders *to, const char *name)
{
  const char *value = soup_message_headers_get_one (from, name);

  if (value != NULL)
    soup_message_headers_replace (to, name, value);
}

static void
on_request (SoupServer *server,
            SoupServerMessage *msg,
            const char *path,
            GHashTable *query,
            gpointer user_data)
{
  Proxy *self = user_data;
  GUri *uri = soup_server_message_get_uri (msg);
  g_autofree char *target =
      g_strdup_printf ("%s%s%s%s", self->emu->url, path, g_uri_get_query (uri) != NULL ? "?" : "",
                       g_uri_get_query (uri) != NULL ? g_uri_get_query (uri) : "");
  g_autoptr (SoupMessage) up = soup_message_new (soup_server_message_get_method (msg), target);
  SoupMessageHeaders *in = soup_server_message_get_request_headers (msg);
  SoupMessageBody *request = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *forged = NULL;
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  const char *type;

  copy_header (in, soup_message_get_request_headers (up), "Authorization");
  copy_header (in, soup_message_get_request_headers (up), "Bluemix-Instance");
  if (request->length > 0)
    {
      g_autoptr (GBytes) body = soup_message_body_flatten (request);

      type = soup_message_headers_get_content_type (in, NULL);
      soup_message_set_request_body_from_bytes (up, type != NULL ? type : "application/json", body);
    }
  answer = soup_session_send_and_read (self->session, up, NULL, &error);
  g_assert_no_error (error);
  /* /v1/tke/{instance}/hsms/{hsm_id}: an administrative command's answer. */
  if (soup_message_get_status (up) == 200 && g_strv_length (parts) == 6 &&
      g_str_equal (parts[4], "hsms") && g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      g_autofree char *text =
          g_strndup (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));

      count_answer (self, text);
      forged = tamper (self, parts[5], text);
    }
  soup_server_message_set_status (msg, soup_message_get_status (up), NULL);
  type = soup_message_headers_get_content_type (soup_message_get_response_headers (up), NULL);
  if (forged != NULL)
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, forged,
                                      strlen (forged));
  else if (g_bytes_get_size (answer) > 0)
    soup_server_message_set_response (msg, type != NULL ? type : "application/json",
                                      SOUP_MEMORY_COPY, g_bytes_get_data (answer, NULL),
                                      g_bytes_get_size (answer));
}

Proxy *
proxy_start (Emu *emu)
{
  Proxy *self = g_new0 (Proxy, 1);
  g_autoptr (GTlsCertificate) cert = make_tls_certificate (emu);
  g_autoptr (GTlsDatabase) db = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  GSList *uris;

  self->emu = emu;
  self->key = tke_crypto_ec_generate (NULL);
  self->recorded =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  db = g_tls_file_database_new (emu->ca_file, &error);
  g_assert_no_error (error);
  self->session = soup_session_new ();
  soup_session_set_tls_database (self->session, db);
  self->server = soup_server_new ("tls-certificate", cert, NULL);
  soup_server_add_handler (self->server, NULL, on_request, self, NULL);
  g_assert_true (soup_server_listen (self->server, address, SOUP_SERVER_LISTEN_HTTPS, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (self->server);
  self->url = g_strdup_printf ("https://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return self;
}

void
proxy_free (Proxy *self)
{
  if (self == NULL)
    return;
  soup_server_disconnect (self->server);
  g_object_unref (self->server);
  g_object_unref (self->session);
  g_hash_table_unref (self->recorded);
  EVP_PKEY_free (self->key);
  g_free (self->first_hsm);
  g_free (self->url);
  g_free (self);
}

const char *
proxy_get_url (Proxy *self)
{
  return self->url;
}

void
proxy_set_mode (Proxy *self, ProxyMode mode)
{
  self->mode = mode;
  g_hash_table_remove_all (self->recorded);
  g_clear_pointer (&self->first_hsm, g_free);
}

guint
proxy_get_n_forged (Proxy *self)
{
  return self->n_forged;
}

void
proxy_get_counts (Proxy *self, guint *n_answers, guint *n_importer_answers)
{
  *n_answers = self->n_answers;
  *n_importer_answers = self->n_importer_answers;
}
