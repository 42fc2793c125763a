/* tke-unit-identity.c: crypto unit certificates, signed answers and the unit root
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The formats are in data/doc/service-protocol.md ("Unit identity").  A
 * crypto unit's device key is certified by the unit root that the
 * workstation's profile pins; every answer of an administrative command is
 * signed by that device key over the answer, which names the unit and the
 * SHA-512 of the request.  Nothing of an answer is read before all of it
 * verified: that is what keeps a man in the middle (a compromised front
 * end, a proxy trusted through the TLS CA) from choosing the importer key a
 * key part is sealed to, or the register state a person decides on.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-unit-identity.h"

#define UNIT_CERT_MAGIC "tke unit cert v1"
#define IMPORTER_CERT_MAGIC "tke importer v1\0"
#define MAGIC_SIZE 16
#define SHA512_HEX_SIZE 128

struct _TkeUnitCertificate
{
  gatomicrefcount ref_count;
  char *instance_id;
  char *hsm_id;
  GBytes *point;
  GBytes *issuer_ski;
  GBytes *body;
  GBytes *signature;
};

G_DEFINE_BOXED_TYPE (TkeUnitCertificate,
                     tke_unit_certificate,
                     tke_unit_certificate_ref,
                     tke_unit_certificate_unref)

static gboolean
not_authentic (GError **error, const char *reason)
{
  g_set_error_literal (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC, reason);
  return FALSE;
}

/* g_base64_decode() skips what is not base64; a signed answer must be exact. */
static GBytes *
strict_base64 (const char *text)
{
  g_autofree guchar *data = NULL;
  g_autofree char *again = NULL;
  gsize size = 0;

  if (text == NULL || *text == '\0' || strlen (text) % 4 != 0)
    return NULL;
  data = g_base64_decode (text, &size);
  again = g_base64_encode (data, size);
  if (size == 0 || !g_str_equal (again, text))
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&data), size);
}

static gboolean
append_id (GByteArray *out, const char *id, GError **error)
{
  gsize length = id != NULL ? strlen (id) : 0;
  guint8 byte = (guint8) length;

  if (length == 0 || length > 255)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("A unit certificate names an instance and a unit of 1 to 255 "
                              "characters."));
      return FALSE;
    }
  g_byte_array_append (out, &byte, 1);
  g_byte_array_append (out, (const guint8 *) id, (guint) length);
  return TRUE;
}

static gboolean
check_point (GBytes *point, GError **error)
{
  g_autoptr (EVP_PKEY) key = NULL;

  if (point != NULL && g_bytes_get_size (point) == TKE_UNIT_POINT_SIZE)
    key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL), TKE_UNIT_POINT_SIZE,
                                               NULL);
  if (key == NULL)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("The key is not an uncompressed P-521 point."));
      return FALSE;
    }
  return TRUE;
}

static GByteArray *
body_start (const char *magic, const char *instance_id, const char *hsm_id, GError **error)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();

  g_byte_array_append (out, (const guint8 *) magic, MAGIC_SIZE);
  if (!append_id (out, instance_id, error) || !append_id (out, hsm_id, error))
    return NULL;
  return g_steal_pointer (&out);
}

/**
 * tke_unit_certificate_build_body:
 * @instance_id: the service instance
 * @hsm_id: the crypto unit
 * @subject_point: the unit's device public key (133-byte point)
 * @issuer_ski: the issuer's SKI (32 bytes: SHA-256 of its point)
 * @error: return location for a #GError
 *
 * Builds the signed part of a unit certificate; the service signs it with
 * the issuer's key and appends the DER signature.
 *
 * Returns: (transfer full): the body, or %NULL
 */
GBytes *
tke_unit_certificate_build_body (const char *instance_id,
                                 const char *hsm_id,
                                 GBytes *subject_point,
                                 GBytes *issuer_ski,
                                 GError **error)
{
  g_autoptr (GByteArray) out = NULL;

  if (!check_point (subject_point, error))
    return NULL;
  if (issuer_ski == NULL || g_bytes_get_size (issuer_ski) != TKE_SKI_SIZE)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("An issuer SKI has 32 bytes."));
      return NULL;
    }
  out = body_start (UNIT_CERT_MAGIC, instance_id, hsm_id, error);
  if (out == NULL)
    return NULL;
  g_byte_array_append (out, g_bytes_get_data (subject_point, NULL), TKE_UNIT_POINT_SIZE);
  g_byte_array_append (out, g_bytes_get_data (issuer_ski, NULL), TKE_SKI_SIZE);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/**
 * tke_importer_certificate_build_body:
 * @instance_id: the service instance
 * @hsm_id: the crypto unit
 * @importer_point: the unit's importer public key (133-byte point)
 * @error: return location for a #GError
 *
 * Builds the signed part of an importer certificate; the unit signs it
 * with its device key.
 *
 * Returns: (transfer full): the body, or %NULL
 */
GBytes *
tke_importer_certificate_build_body (const char *instance_id,
                                     const char *hsm_id,
                                     GBytes *importer_point,
                                     GError **error)
{
  g_autoptr (GByteArray) out = NULL;

  if (!check_point (importer_point, error))
    return NULL;
  out = body_start (IMPORTER_CERT_MAGIC, instance_id, hsm_id, error);
  if (out == NULL)
    return NULL;
  g_byte_array_append (out, g_bytes_get_data (importer_point, NULL), TKE_UNIT_POINT_SIZE);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* Reads a length-prefixed id at *offset. */
static char *
read_id (const guint8 *data, gsize size, gsize *offset)
{
  gsize length;

  if (*offset >= size)
    return NULL;
  length = data[*offset];
  if (length == 0 || *offset + 1 + length > size)
    return NULL;
  for (gsize i = 0; i < length; i++)
    if (data[*offset + 1 + i] < 0x21 || data[*offset + 1 + i] > 0x7e)
      return NULL;
  *offset += 1 + length;
  return g_strndup ((const char *) data + *offset - length, length);
}

/* Parses magic ‖ instance ‖ hsm and sets *offset after them. */
static gboolean
read_header (const char *magic,
             const guint8 *data,
             gsize size,
             gsize *offset,
             char **instance_id,
             char **hsm_id)
{
  if (size < MAGIC_SIZE || memcmp (data, magic, MAGIC_SIZE) != 0)
    return FALSE;
  *offset = MAGIC_SIZE;
  *instance_id = read_id (data, size, offset);
  if (*instance_id == NULL)
    return FALSE;
  *hsm_id = read_id (data, size, offset);
  return *hsm_id != NULL;
}

/**
 * tke_unit_certificate_parse:
 * @data: a unit certificate (body ‖ DER signature)
 * @error: return location for a #GError
 *
 * Parses the certificate; it does not verify its signature
 * (tke_unit_identity_verify_chain() does).
 *
 * Returns: (transfer full): the certificate, or %NULL with
 *   %TKE_ERROR_UNIT_NOT_AUTHENTIC
 */
TkeUnitCertificate *
tke_unit_certificate_parse (GBytes *data, GError **error)
{
  g_autoptr (TkeUnitCertificate) self = g_new0 (TkeUnitCertificate, 1);
  gsize size, offset = 0;
  const guint8 *bytes;

  g_return_val_if_fail (data != NULL, NULL);

  g_atomic_ref_count_init (&self->ref_count);
  bytes = g_bytes_get_data (data, &size);
  if (!read_header (UNIT_CERT_MAGIC, bytes, size, &offset, &self->instance_id, &self->hsm_id) ||
      offset + TKE_UNIT_POINT_SIZE + TKE_SKI_SIZE >= size)
    return not_authentic (error, _ ("a unit certificate is malformed")), NULL;
  self->point = g_bytes_new (bytes + offset, TKE_UNIT_POINT_SIZE);
  self->issuer_ski = g_bytes_new (bytes + offset + TKE_UNIT_POINT_SIZE, TKE_SKI_SIZE);
  offset += TKE_UNIT_POINT_SIZE + TKE_SKI_SIZE;
  self->body = g_bytes_new (bytes, offset);
  self->signature = g_bytes_new (bytes + offset, size - offset);
  return g_steal_pointer (&self);
}

/**
 * tke_unit_certificate_ref:
 *
 * Returns: (transfer full): @self
 */
TkeUnitCertificate *
tke_unit_certificate_ref (TkeUnitCertificate *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * tke_unit_certificate_unref:
 */
void
tke_unit_certificate_unref (TkeUnitCertificate *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->instance_id);
  g_free (self->hsm_id);
  g_clear_pointer (&self->point, g_bytes_unref);
  g_clear_pointer (&self->issuer_ski, g_bytes_unref);
  g_clear_pointer (&self->body, g_bytes_unref);
  g_clear_pointer (&self->signature, g_bytes_unref);
  g_free (self);
}

/**
 * tke_unit_certificate_get_instance_id:
 *
 * Returns: the service instance the certificate names
 */
const char *
tke_unit_certificate_get_instance_id (TkeUnitCertificate *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->instance_id;
}

/**
 * tke_unit_certificate_get_hsm_id:
 *
 * Returns: the crypto unit the certificate names
 */
const char *
tke_unit_certificate_get_hsm_id (TkeUnitCertificate *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->hsm_id;
}

/**
 * tke_unit_certificate_get_public_point:
 *
 * Returns: (transfer none): the certified device key (133-byte point)
 */
GBytes *
tke_unit_certificate_get_public_point (TkeUnitCertificate *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->point;
}

/**
 * tke_unit_certificate_get_issuer_ski:
 *
 * Returns: (transfer none): the issuer's SKI (32 bytes)
 */
GBytes *
tke_unit_certificate_get_issuer_ski (TkeUnitCertificate *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->issuer_ski;
}

static GBytes *
point_ski (GBytes *point)
{
  guint8 ski[TKE_SKI_SIZE];

  tke_crypto_sha256 (g_bytes_get_data (point, NULL), g_bytes_get_size (point), ski);
  return g_bytes_new (ski, sizeof ski);
}

static gboolean
verify_with_point (GBytes *point, GBytes *data, GBytes *signature)
{
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                                                  g_bytes_get_size (point), NULL);

  return key != NULL &&
         tke_crypto_verify (key, g_bytes_get_data (data, NULL), g_bytes_get_size (data),
                            g_bytes_get_data (signature, NULL), g_bytes_get_size (signature), NULL);
}

static gboolean
root_changed (GError **error, GBytes *root_point, GBytes *issuer_ski)
{
  g_autofree char *pinned = tke_unit_root_fingerprint (root_point);
  g_autofree char *other =
      tke_crypto_hex_encode (g_bytes_get_data (issuer_ski, NULL), g_bytes_get_size (issuer_ski));
  g_autofree char *pinned_text = tke_unit_root_format_fingerprint (pinned);
  g_autofree char *other_text = tke_unit_root_format_fingerprint (other);

  g_set_error (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED,
               _ ("it is certified by the unit root\n%s\nnot by the pinned unit root\n%s"),
               other_text, pinned_text);
  return FALSE;
}

/* Chains that verified, each as root point ‖ (length ‖ certificate)…: a
 * unit sends the same chain with every answer, and its two or three P-521
 * verifications were a tenth of a refresh's CPU.  The whole bytes are the
 * key (no digest to trust), so a hit is exactly a chain that verified
 * before: verify_chain() is a function of these bytes alone (no clock, no
 * revocation).  Only successes are kept; a few units per instance, so a
 * small table that starts over when full. */
#define VERIFIED_CHAINS_MAX 64

static GMutex verified_lock;
static GHashTable *verified_chains;

static GBytes *
chain_key (GBytes *root_point, GPtrArray *chain)
{
  GByteArray *key = g_byte_array_new ();

  g_byte_array_append (key, g_bytes_get_data (root_point, NULL),
                       (guint) g_bytes_get_size (root_point));
  for (guint i = 0; i < chain->len; i++)
    {
      guint32 size = GUINT32_TO_BE ((guint32) g_bytes_get_size (chain->pdata[i]));

      g_byte_array_append (key, (const guint8 *) &size, sizeof size);
      g_byte_array_append (key, g_bytes_get_data (chain->pdata[i], NULL),
                           (guint) g_bytes_get_size (chain->pdata[i]));
    }
  return g_byte_array_free_to_bytes (key);
}

static gboolean
chain_verified_before (GBytes *key)
{
  gboolean found;

  g_mutex_lock (&verified_lock);
  found = verified_chains != NULL && g_hash_table_contains (verified_chains, key);
  g_mutex_unlock (&verified_lock);
  return found;
}

static void
remember_verified_chain (GBytes *key)
{
  g_mutex_lock (&verified_lock);
  if (verified_chains == NULL)
    verified_chains =
        g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref, NULL);
  if (g_hash_table_size (verified_chains) >= VERIFIED_CHAINS_MAX)
    g_hash_table_remove_all (verified_chains);
  g_hash_table_add (verified_chains, g_bytes_ref (key));
  g_mutex_unlock (&verified_lock);
}

/**
 * tke_unit_identity_verify_chain:
 * @root_point: the pinned unit root (133-byte point)
 * @chain: (element-type GBytes): the certificates, the unit's first
 * @error: return location for a #GError
 *
 * Walks the chain: each certificate's signature verifies with the point of
 * the next one (the one its issuer SKI names), and the last one is signed by
 * the pinned root.  A self-signed certificate is refused.  The error is
 * %TKE_ERROR_UNIT_ROOT_CHANGED when the chain ends at another root, else
 * %TKE_ERROR_UNIT_NOT_AUTHENTIC; its message is a reason, not a sentence.
 * A chain whose bytes verified under the same root before is not verified
 * again (the process remembers a few).
 *
 * Returns: (transfer full): the unit's (first) certificate, or %NULL
 */
TkeUnitCertificate *
tke_unit_identity_verify_chain (GBytes *root_point, GPtrArray *chain, GError **error)
{
  g_autoptr (GPtrArray) certs =
      g_ptr_array_new_with_free_func ((GDestroyNotify) tke_unit_certificate_unref);
  g_autoptr (GBytes) root_ski = NULL;
  g_autoptr (GBytes) key = NULL;

  g_return_val_if_fail (root_point != NULL && chain != NULL, NULL);

  root_ski = point_ski (root_point);
  if (chain->len == 0 || chain->len > 8)
    return not_authentic (error, _ ("it sent no usable certificate chain")), NULL;
  key = chain_key (root_point, chain);
  if (chain_verified_before (key))
    return tke_unit_certificate_parse (chain->pdata[0], error);
  for (guint i = 0; i < chain->len; i++)
    {
      TkeUnitCertificate *cert = tke_unit_certificate_parse (chain->pdata[i], error);

      if (cert == NULL)
        return NULL;
      g_ptr_array_add (certs, cert);
    }
  for (guint i = 0; i < certs->len; i++)
    {
      TkeUnitCertificate *cert = certs->pdata[i];
      gboolean last = i + 1 == certs->len;
      GBytes *parent = last ? root_point : ((TkeUnitCertificate *) certs->pdata[i + 1])->point;
      g_autoptr (GBytes) own_ski = point_ski (cert->point);
      g_autoptr (GBytes) parent_ski = point_ski (parent);

      if (g_bytes_equal (own_ski, cert->issuer_ski) || g_bytes_equal (cert->point, root_point))
        return not_authentic (error, _ ("its certificate chain holds a self-signed certificate")),
               NULL;
      if (last && !g_bytes_equal (cert->issuer_ski, root_ski))
        return root_changed (error, root_point, cert->issuer_ski), NULL;
      if (!g_bytes_equal (cert->issuer_ski, parent_ski))
        return not_authentic (error, _ ("its certificate chain is out of order")), NULL;
      if (!verify_with_point (parent, cert->body, cert->signature))
        return not_authentic (error, _ ("a certificate of its chain does not verify")), NULL;
    }
  remember_verified_chain (key);
  return tke_unit_certificate_ref (certs->pdata[0]);
}

static GPtrArray *
decode_chain (JsonObject *response)
{
  g_autoptr (GPtrArray) chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  JsonNode *node = json_object_get_member (response, "certificates");
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      GBytes *cert = NULL;

      if (JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING)
        cert = strict_base64 (json_node_get_string (element));
      if (cert == NULL)
        return NULL;
      g_ptr_array_add (chain, cert);
    }
  return g_steal_pointer (&chain);
}

static GBytes *
get_base64 (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return strict_base64 (json_node_get_string (node));
}

static char *
sha512_hex (GBytes *data)
{
  guint8 digest[64];
  unsigned int size = 0;

  if (EVP_Digest (g_bytes_get_data (data, NULL), g_bytes_get_size (data), digest, &size,
                  EVP_sha512 (), NULL) != 1)
    return NULL;
  return tke_crypto_hex_encode (digest, size);
}

static gboolean
member_equals (JsonObject *object, const char *member, const char *expected)
{
  JsonNode *node = json_object_get_member (object, member);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_STRING &&
         g_strcmp0 (json_node_get_string (node), expected) == 0;
}

/* Checks the signed answer's own members against the request. */
static gboolean
check_answer (JsonObject *answer,
              const char *instance_id,
              const char *hsm_id,
              GBytes *request,
              GError **error)
{
  JsonNode *version = json_object_get_member (answer, "version");
  g_autofree char *digest = sha512_hex (request);

  if (version == NULL || !JSON_NODE_HOLDS_VALUE (version) ||
      json_node_get_value_type (version) != G_TYPE_INT64 || json_node_get_int (version) != 1)
    return not_authentic (error, _ ("its signed answer has an unknown version"));
  if (!member_equals (answer, "instance", instance_id) || !member_equals (answer, "hsm_id", hsm_id))
    return not_authentic (error, _ ("its signed answer is another unit's"));
  if (digest == NULL || !member_equals (answer, "request_sha512", digest))
    return not_authentic (error, _ ("its signed answer is for another request (a replay)"));
  return TRUE;
}

/**
 * tke_unit_identity_verify_answer:
 * @root_point: the pinned unit root (133-byte point)
 * @response: the "response" object of a command's answer
 * @instance_id: the service instance the request addressed
 * @hsm_id: the crypto unit the request addressed
 * @request: the command bytes that were sent
 * @unit_certificate: (out) (optional) (transfer full): the unit's verified certificate
 * @error: return location for a #GError
 *
 * Verifies, in this order, the certificate chain up to @root_point, that
 * the certificate is @hsm_id's of @instance_id, the signature over the
 * answer bytes with the certified device key, and the answer's version,
 * instance, hsm_id and request_sha512.  Only then does it parse the answer.
 * Errors are %TKE_ERROR_UNIT_NOT_AUTHENTIC or %TKE_ERROR_UNIT_ROOT_CHANGED
 * with a reason (the caller names the unit).
 *
 * Returns: (transfer full): the verified answer object ("command",
 *   "counter", "result", …), or %NULL
 */
JsonObject *
tke_unit_identity_verify_answer (GBytes *root_point,
                                 JsonObject *response,
                                 const char *instance_id,
                                 const char *hsm_id,
                                 GBytes *request,
                                 TkeUnitCertificate **unit_certificate,
                                 GError **error)
{
  g_autoptr (GPtrArray) chain = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (TkeUnitCertificate) cert = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  g_return_val_if_fail (root_point != NULL && response != NULL && request != NULL, NULL);

  answer = get_base64 (response, "answer");
  signature = get_base64 (response, "signature");
  chain = decode_chain (response);
  if (answer == NULL || signature == NULL || chain == NULL)
    return not_authentic (error, _ ("its answer is not signed")), NULL;
  cert = tke_unit_identity_verify_chain (root_point, chain, error);
  if (cert == NULL)
    return NULL;
  if (g_strcmp0 (cert->instance_id, instance_id) != 0 || g_strcmp0 (cert->hsm_id, hsm_id) != 0)
    return not_authentic (error, _ ("it answered with another unit's certificate")), NULL;
  if (!verify_with_point (cert->point, answer, signature))
    return not_authentic (error, _ ("the signature over its answer does not verify")), NULL;
  if (!json_parser_load_from_data (parser, g_bytes_get_data (answer, NULL),
                                   (gssize) g_bytes_get_size (answer), NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return not_authentic (error, _ ("its signed answer is not a JSON object")), NULL;
  if (!check_answer (json_node_get_object (root), instance_id, hsm_id, request, error))
    return NULL;
  if (unit_certificate != NULL)
    *unit_certificate = g_steal_pointer (&cert);
  return json_object_ref (json_node_get_object (root));
}

/**
 * tke_unit_identity_verify_importer:
 * @unit_certificate: the unit's verified certificate
 * @importer_hex: the importer key, 266 hex digits
 * @importer_certificate: (nullable): the importer certificate, base64
 * @error: return location for a #GError
 *
 * Checks that the importer certificate names @importer_hex and the
 * certificate's unit, and that the unit's device key signed it.
 *
 * Returns: %TRUE if the importer key may be sealed to
 */
gboolean
tke_unit_identity_verify_importer (TkeUnitCertificate *unit_certificate,
                                   const char *importer_hex,
                                   const char *importer_certificate,
                                   GError **error)
{
  g_autoptr (GBytes) cert = strict_base64 (importer_certificate);
  g_autoptr (GBytes) point = importer_hex ? tke_crypto_hex_decode (importer_hex, NULL) : NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GBytes) signature = NULL;
  gsize size, body_size;

  g_return_val_if_fail (unit_certificate != NULL, FALSE);

  if (cert == NULL || point == NULL)
    return not_authentic (error, _ ("its importer key has no certificate"));
  body = tke_importer_certificate_build_body (unit_certificate->instance_id,
                                              unit_certificate->hsm_id, point, NULL);
  if (body == NULL)
    return not_authentic (error, _ ("its importer key is not a P-521 point"));
  body_size = g_bytes_get_size (body);
  if (g_bytes_get_size (cert) <= body_size ||
      memcmp (g_bytes_get_data (cert, &size), g_bytes_get_data (body, NULL), body_size) != 0)
    return not_authentic (error, _ ("its importer certificate names another key or unit"));
  signature = g_bytes_new_from_bytes (cert, body_size, size - body_size);
  if (!verify_with_point (unit_certificate->point, body, signature))
    return not_authentic (error, _ ("its importer certificate does not verify"));
  return TRUE;
}

/**
 * tke_unit_root_from_hex:
 * @hex: the root's point, 266 hex digits
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the 133-byte point, or %NULL
 */
GBytes *
tke_unit_root_from_hex (const char *hex, GError **error)
{
  g_autoptr (GBytes) point = NULL;
  g_autofree char *stripped = g_strstrip (g_strdup (hex != NULL ? hex : ""));

  point = tke_crypto_hex_decode (stripped, NULL);
  if (point == NULL || g_bytes_get_size (point) != TKE_UNIT_POINT_SIZE ||
      !check_point (point, NULL))
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("A unit root is an uncompressed P-521 point: 266 hex digits."));
      return NULL;
    }
  return g_steal_pointer (&point);
}

static GBytes *
point_from_pem (const char *text)
{
  BIO *bio = BIO_new_mem_buf (text, -1);
  EVP_PKEY *key = bio != NULL ? PEM_read_bio_PUBKEY (bio, NULL, NULL, NULL) : NULL;
  GBytes *point = key != NULL ? tke_crypto_ec_public_point (key, NULL) : NULL;

  EVP_PKEY_free (key);
  BIO_free (bio);
  return point;
}

/**
 * tke_unit_root_load_file:
 * @path: a file with the unit root: a PEM public key (SubjectPublicKeyInfo)
 *   or the point in hex
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the 133-byte point, or %NULL
 */
GBytes *
tke_unit_root_load_file (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GBytes) point = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &text, NULL, &local_error))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The unit root file cannot be read: %s"),
                   local_error->message);
      return NULL;
    }
  if (strstr (text, "-----BEGIN PUBLIC KEY-----") != NULL)
    point = point_from_pem (text);
  else
    point = tke_unit_root_from_hex (text, NULL);
  if (point == NULL || !check_point (point, NULL))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("“%s” holds no unit root: a PEM P-521 public key or 266 hex digits."), path);
      return NULL;
    }
  return g_steal_pointer (&point);
}

/**
 * tke_unit_root_fingerprint:
 * @root_point: the root's 133-byte point
 *
 * Returns: (transfer full): its fingerprint, 64 hex digits (SHA-256 of the
 *   point, the same as its SKI)
 */
char *
tke_unit_root_fingerprint (GBytes *root_point)
{
  g_autoptr (GBytes) ski = NULL;

  g_return_val_if_fail (root_point != NULL, NULL);
  ski = point_ski (root_point);
  return tke_crypto_hex_encode (g_bytes_get_data (ski, NULL), TKE_SKI_SIZE);
}

/**
 * tke_unit_root_format_fingerprint:
 * @fingerprint: 64 hex digits
 *
 * Groups the digits by four, eight groups a line, upper case, so that a
 * person can compare them with the ones the service owner gave.
 *
 * Returns: (transfer full): the text (no final newline)
 */
char *
tke_unit_root_format_fingerprint (const char *fingerprint)
{
  g_autoptr (GString) out = g_string_new (NULL);
  gsize length;

  g_return_val_if_fail (fingerprint != NULL, NULL);
  length = strlen (fingerprint);
  for (gsize i = 0; i < length; i++)
    {
      if (i > 0 && i % 32 == 0)
        g_string_append_c (out, '\n');
      else if (i > 0 && i % 4 == 0)
        g_string_append_c (out, ' ');
      g_string_append_c (out, g_ascii_toupper (fingerprint[i]));
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * tke_unit_root_hex_fingerprint:
 * @root_hex: a unit root, 266 hex digits
 *
 * The fingerprint of @root_hex as a person compares it: grouped as
 * tke_unit_root_format_fingerprint() groups it.
 *
 * Returns: (transfer full): the grouped fingerprint, or a note that
 *   @root_hex is not a unit root
 */
char *
tke_unit_root_hex_fingerprint (const char *root_hex)
{
  g_autoptr (GBytes) point = tke_unit_root_from_hex (root_hex, NULL);
  g_autofree char *fingerprint = point != NULL ? tke_unit_root_fingerprint (point) : NULL;

  return fingerprint != NULL ? tke_unit_root_format_fingerprint (fingerprint)
                             : g_strdup (_ ("(not a unit root)"));
}

static TkeUnitRootDecision
refuse_changed (GError **error, const char *pinned_hex, const char *service_hex)
{
  g_autofree char *pinned = tke_unit_root_hex_fingerprint (pinned_hex);
  g_autofree char *service = tke_unit_root_hex_fingerprint (service_hex);

  g_set_error (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED,
               _ ("The service names another unit root than the one pinned in the profile.\n"
                  "Pinned unit root:\n%s\nThe service's unit root:\n%s\n"
                  "Nothing was pinned or changed. A changed root may mean that someone is "
                  "impersonating the crypto units. Only if your security officer confirms the "
                  "new fingerprint, replace the pinned unit root deliberately."),
               pinned, service);
  return TKE_UNIT_ROOT_REFUSED;
}

static TkeUnitRootDecision
refuse_given (GError **error, const char *given_hex, const char *service_hex)
{
  g_autofree char *given = tke_unit_root_hex_fingerprint (given_hex);
  g_autofree char *service = tke_unit_root_hex_fingerprint (service_hex);

  g_set_error (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED,
               _ ("The unit root you gave is not the one the service names.\n"
                  "The unit root you gave:\n%s\nThe service's unit root:\n%s\n"
                  "Nothing was pinned. Someone may be impersonating the crypto units, or the "
                  "file is another service's: ask your security officer."),
               given, service);
  return TKE_UNIT_ROOT_REFUSED;
}

static gboolean
same_root (const char *a, const char *b)
{
  g_autoptr (GBytes) pa = tke_unit_root_from_hex (a, NULL);
  g_autoptr (GBytes) pb = tke_unit_root_from_hex (b, NULL);

  return pa != NULL && pb != NULL && g_bytes_equal (pa, pb);
}

/**
 * tke_unit_root_decide:
 * @pinned_hex: (nullable): the root pinned in the profile, or %NULL
 * @service_hex: the root the service names (GET …/unit_root, unsigned)
 * @given_hex: (nullable): a root a person gave (a file from the service's
 *   owner), or %NULL
 * @error: return location for a #GError
 *
 * The one rule for pinning, shared by the CLI and the GUI: a pinned root
 * must be the service's (and the given one, if any); with none pinned, a
 * given root must be the service's and is pinned without asking; with none
 * pinned and none given, a person must confirm the service's fingerprint.
 * A root that differs is refused with %TKE_ERROR_UNIT_ROOT_CHANGED and
 * both fingerprints, never re-pinned: replacing a pinned root is a separate,
 * deliberate step.
 *
 * Returns: what to do; %TKE_UNIT_ROOT_REFUSED with @error set
 */
TkeUnitRootDecision
tke_unit_root_decide (const char *pinned_hex,
                      const char *service_hex,
                      const char *given_hex,
                      GError **error)
{
  g_return_val_if_fail (service_hex != NULL, TKE_UNIT_ROOT_REFUSED);

  if (pinned_hex != NULL && *pinned_hex != '\0')
    {
      if (!same_root (pinned_hex, service_hex))
        return refuse_changed (error, pinned_hex, service_hex);
      if (given_hex != NULL && !same_root (given_hex, pinned_hex))
        return refuse_changed (error, pinned_hex, given_hex);
      return TKE_UNIT_ROOT_PINNED;
    }
  if (given_hex != NULL)
    {
      if (!same_root (given_hex, service_hex))
        return refuse_given (error, given_hex, service_hex);
      return TKE_UNIT_ROOT_GIVEN_MATCHES;
    }
  return TKE_UNIT_ROOT_ASK;
}
