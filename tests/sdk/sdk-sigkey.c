/* sdk-sigkey.c: signature key files as the service's plug-in and its SDK
 * write and read them, with OpenSSL directly
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Nothing here calls libtke, so that libtke's reader and writer are
 * checked against the layout as documented (data/doc/signature-key-file.md
 * and the SDK's common/signer.go, common/misc.go), not against themselves.
 */

#include <string.h>

#include <json-glib/json-glib.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "sdk-sigkey.h"

#define FIELD 66
#define SALT 32
#define NONCE 12
#define TAG 16

static void
coordinates (EVP_PKEY *key, guint8 d[FIELD], guint8 x[FIELD], guint8 y[FIELD])
{
  BIGNUM *bn_d = NULL, *bn_x = NULL, *bn_y = NULL;

  g_assert_true (EVP_PKEY_get_bn_param (key, OSSL_PKEY_PARAM_PRIV_KEY, &bn_d));
  g_assert_true (EVP_PKEY_get_bn_param (key, OSSL_PKEY_PARAM_EC_PUB_X, &bn_x));
  g_assert_true (EVP_PKEY_get_bn_param (key, OSSL_PKEY_PARAM_EC_PUB_Y, &bn_y));
  g_assert_cmpint (BN_bn2binpad (bn_d, d, FIELD), ==, FIELD);
  g_assert_cmpint (BN_bn2binpad (bn_x, x, FIELD), ==, FIELD);
  g_assert_cmpint (BN_bn2binpad (bn_y, y, FIELD), ==, FIELD);
  BN_clear_free (bn_d);
  BN_free (bn_x);
  BN_free (bn_y);
}

static char *
hex (const guint8 *data, gsize size)
{
  GString *text = g_string_sized_new (2 * size);

  for (gsize i = 0; i < size; i++)
    g_string_append_printf (text, "%02x", data[i]);
  return g_string_free (text, FALSE);
}

static char *
ski_hex (const guint8 x[FIELD], const guint8 y[FIELD])
{
  guint8 point[1 + 2 * FIELD];
  guint8 digest[SHA256_DIGEST_LENGTH];

  point[0] = 0x04;
  memcpy (point + 1, x, FIELD);
  memcpy (point + 1 + FIELD, y, FIELD);
  SHA256 (point, sizeof point, digest);
  return hex (digest, sizeof digest);
}

/* RFC 5915 ECPrivateKey, as x509.MarshalECPrivateKey writes it:
 * SEQUENCE { INTEGER 1, OCTET STRING d (66), [0] OID secp521r1,
 *            [1] BIT STRING point } */
static GByteArray *
sec1_der (const guint8 d[FIELD], const guint8 x[FIELD], const guint8 y[FIELD], SdkPointForm form)
{
  static const guint8 version[] = { 0x02, 0x01, 0x01 };
  static const guint8 curve[] = { 0xa0, 0x07, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 };
  GByteArray *der = g_byte_array_new ();
  GByteArray *body = g_byte_array_new ();
  guint8 octet[] = { 0x04, FIELD };
  guint8 tag;

  g_byte_array_append (body, version, sizeof version);
  g_byte_array_append (body, octet, sizeof octet);
  g_byte_array_append (body, d, FIELD);
  g_byte_array_append (body, curve, sizeof curve);
  if (form == SDK_POINT_UNCOMPRESSED)
    {
      static const guint8 head[] = { 0xa1, 0x81, 0x89, 0x03, 0x81, 0x86, 0x00, 0x04 };

      g_byte_array_append (body, head, sizeof head);
      g_byte_array_append (body, x, FIELD);
      g_byte_array_append (body, y, FIELD);
    }
  else
    {
      static const guint8 head[] = { 0xa1, 0x46, 0x03, 0x44, 0x00 };

      g_byte_array_append (body, head, sizeof head);
      tag = 0x02 | (y[FIELD - 1] & 1);
      g_byte_array_append (body, &tag, 1);
      g_byte_array_append (body, x, FIELD);
    }

  g_assert_cmpuint (body->len, <, 256);
  tag = 0x30;
  g_byte_array_append (der, &tag, 1);
  tag = 0x81;
  g_byte_array_append (der, &tag, 1);
  tag = (guint8) body->len;
  g_byte_array_append (der, &tag, 1);
  g_byte_array_append (der, body->data, body->len);
  g_byte_array_unref (body);
  return der;
}

static void
file_key (const char *password, const guint8 *salt, gsize salt_size, guint8 out[32])
{
  g_assert_cmpint (PKCS5_PBKDF2_HMAC (password, (int) strlen (password), salt, (int) salt_size,
                                      4096, EVP_sha256 (), 32, out),
                   ==, 1);
}

static GByteArray *
gcm_seal (const guint8 key[32], const guint8 *plaintext, gsize size)
{
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  GByteArray *out = g_byte_array_sized_new (NONCE + size + TAG);
  int len = 0;

  g_byte_array_set_size (out, NONCE + size + TAG);
  g_assert_cmpint (RAND_bytes (out->data, NONCE), ==, 1);
  g_assert_cmpint (EVP_EncryptInit_ex2 (ctx, EVP_aes_256_gcm (), key, out->data, NULL), ==, 1);
  g_assert_cmpint (EVP_EncryptUpdate (ctx, out->data + NONCE, &len, plaintext, (int) size), ==, 1);
  g_assert_cmpint (len, ==, (int) size);
  g_assert_cmpint (EVP_EncryptFinal_ex (ctx, out->data + NONCE + len, &len), ==, 1);
  g_assert_cmpint (EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_GET_TAG, TAG, out->data + NONCE + size),
                   ==, 1);
  EVP_CIPHER_CTX_free (ctx);
  return out;
}

void
sdk_sigkey_write (const char *path, EVP_PKEY *key, const char *password, SdkPointForm form)
{
  guint8 d[FIELD], x[FIELD], y[FIELD], salt[SALT], aes[32];
  GByteArray *der, *enc;
  BIO *bio = BIO_new (BIO_s_mem ());
  char *pem = NULL;
  long pem_size;
  g_autofree char *ski = NULL;
  g_autofree char *salt_hex = NULL;
  g_autofree char *enc_hex = NULL;
  g_autofree char *text = NULL;

  coordinates (key, d, x, y);
  der = sec1_der (d, x, y, form);
  g_assert_cmpint (PEM_write_bio (bio, "PRIVATE KEY", "", der->data, der->len), >, 0);
  pem_size = BIO_get_mem_data (bio, &pem);

  g_assert_cmpint (RAND_bytes (salt, sizeof salt), ==, 1);
  file_key (password, salt, sizeof salt, aes);
  enc = gcm_seal (aes, (const guint8 *) pem, (gsize) pem_size);

  ski = ski_hex (x, y);
  salt_hex = hex (salt, sizeof salt);
  enc_hex = hex (enc->data, enc->len);
  text = g_strdup_printf ("{\"keyType\":\"p521ec\",\"ski\":\"%s\",\"enckey\":\"%s\","
                          "\"seaSalt\":\"%s\"}",
                          ski, enc_hex, salt_hex);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));

  OPENSSL_cleanse (d, sizeof d);
  OPENSSL_cleanse (aes, sizeof aes);
  g_byte_array_unref (der);
  g_byte_array_unref (enc);
  BIO_free (bio);
}

static GBytes *
unhex (const char *text)
{
  gsize size = strlen (text);
  g_autofree guint8 *out = NULL;

  if (size % 2 != 0)
    return NULL;
  out = g_malloc (size / 2 + 1);
  for (gsize i = 0; i < size / 2; i++)
    {
      int hi = g_ascii_xdigit_value (text[2 * i]), lo = g_ascii_xdigit_value (text[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return NULL;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return g_bytes_new_take (g_steal_pointer (&out), size / 2);
}

/* json.Unmarshal into map[string]string: a member of another kind is an
 * error, and the SDK panics on it. */
static GHashTable *
string_map (const char *path, char **message)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GHashTable) map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GList) members = NULL;
  JsonObject *object;

  if (!json_parser_load_from_file (parser, path, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      *message = g_strdup ("panic: not a JSON object");
      return NULL;
    }
  object = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (object, l->data);

      if (JSON_NODE_HOLDS_NULL (node))
        continue;
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          *message = g_strdup_printf ("panic: json: cannot unmarshal member “%s” into a string",
                                      (const char *) l->data);
          return NULL;
        }
      g_hash_table_insert (map, g_strdup (l->data), g_strdup (json_node_get_string (node)));
    }
  return g_steal_pointer (&map);
}

static const char *
member (GHashTable *map, const char *name)
{
  const char *value = g_hash_table_lookup (map, name);

  return value != NULL ? value : "";
}

/* gcm.Open: NULL if the tag does not match. */
static GBytes *
gcm_open (const guint8 key[32], GBytes *sealed)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (sealed, &size);
  EVP_CIPHER_CTX *ctx = NULL;
  g_autofree guint8 *out = NULL;
  int len = 0, ok;
  gsize n;

  if (size < NONCE + TAG)
    return NULL;
  n = size - NONCE - TAG;
  out = g_malloc (n + 1);
  ctx = EVP_CIPHER_CTX_new ();
  ok = EVP_DecryptInit_ex2 (ctx, EVP_aes_256_gcm (), key, data, NULL) == 1 &&
       EVP_DecryptUpdate (ctx, out, &len, data + NONCE, (int) n) == 1 &&
       EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_SET_TAG, TAG, (void *) (data + NONCE + n)) == 1 &&
       EVP_DecryptFinal_ex (ctx, out + len, &len) == 1;
  EVP_CIPHER_CTX_free (ctx);
  return ok ? g_bytes_new_take (g_steal_pointer (&out), n) : NULL;
}

/* x509.ParseECPrivateKey: SEC1 only ("use ParsePKCS8PrivateKey instead"
 * for PKCS#8, whose version is 0), version 1, a named curve. */
static EVP_PKEY *
parse_ec_private_key (const guint8 *der, long size, char **message)
{
  OSSL_DECODER_CTX *ctx = NULL;
  EVP_PKEY *key = NULL;
  const guint8 *p = der;
  size_t left = (size_t) size;
  gsize at;
  char group[32] = "";

  /* SEQUENCE (length in short or 1-2 byte long form), then INTEGER 1. */
  at = size > 2 && der[1] < 0x80 ? 2 : size > 2 ? 2 + (der[1] & 0x7f) : 0;
  if (size < 5 || der[0] != 0x30 || (long) at + 3 > size || der[at] != 0x02 ||
      der[at + 1] != 0x01 || der[at + 2] != 0x01)
    {
      *message = g_strdup ("x509: failed to parse EC private key (not SEC1 version 1; use "
                           "ParsePKCS8PrivateKey instead for this key format)");
      return NULL;
    }

  ctx = OSSL_DECODER_CTX_new_for_pkey (&key, "DER", "type-specific", "EC", EVP_PKEY_KEYPAIR, NULL,
                                       NULL);
  if (ctx == NULL || OSSL_DECODER_from_data (ctx, &p, &left) != 1 || key == NULL ||
      !EVP_PKEY_get_utf8_string_param (key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       NULL) ||
      (g_ascii_strcasecmp (group, "P-521") != 0 && g_ascii_strcasecmp (group, "secp521r1") != 0))
    {
      *message = g_strdup ("x509: failed to parse EC private key");
      EVP_PKEY_free (key);
      key = NULL;
    }
  OSSL_DECODER_CTX_free (ctx);
  return key;
}

static EVP_PKEY *
sign_with_p521_key (GBytes *pem, const char *saved_ski, char **message)
{
  BIO *bio = BIO_new_mem_buf (g_bytes_get_data (pem, NULL), (int) g_bytes_get_size (pem));
  char *name = NULL, *header = NULL;
  unsigned char *der = NULL;
  long size = 0;
  EVP_PKEY *key = NULL;
  guint8 d[FIELD], x[FIELD], y[FIELD];
  g_autofree char *ski = NULL;

  if (PEM_read_bio (bio, &name, &header, &der, &size) != 1 || strcmp (name, "PRIVATE KEY") != 0)
    *message = g_strdup ("PEM decode of signature key failed.");
  else if ((key = parse_ec_private_key (der, size, message)) != NULL)
    {
      coordinates (key, d, x, y);
      OPENSSL_cleanse (d, sizeof d);
      ski = ski_hex (x, y);
      if (strcmp (ski, saved_ski) != 0)
        {
          *message = g_strdup ("Miscompare on saved and calculated Subject Key Identifier.");
          g_clear_pointer (&key, EVP_PKEY_free);
        }
    }
  OPENSSL_free (name);
  OPENSSL_free (header);
  OPENSSL_clear_free (der, (size_t) size);
  BIO_free (bio);
  return key;
}

EVP_PKEY *
sdk_sigkey_read (const char *path, const char *password, char **message)
{
  g_autoptr (GHashTable) map = string_map (path, message);
  g_autoptr (GBytes) salt = NULL;
  g_autoptr (GBytes) enckey = NULL;
  g_autoptr (GBytes) pem = NULL;
  guint8 aes[32];

  if (map == NULL)
    return NULL;
  /* Derive_aes_key and hex.DecodeString panic on bad hex. */
  if ((salt = unhex (member (map, "seaSalt"))) == NULL ||
      (enckey = unhex (member (map, "enckey"))) == NULL)
    {
      *message = g_strdup ("panic: encoding/hex: invalid byte");
      return NULL;
    }

  file_key (password, g_bytes_get_data (salt, NULL), g_bytes_get_size (salt), aes);
  pem = gcm_open (aes, enckey);
  OPENSSL_cleanse (aes, sizeof aes);
  if (pem == NULL)
    {
      *message = g_strdup ("Invalid password.");
      return NULL;
    }
  if (strcmp (member (map, "keyType"), "p521ec") != 0)
    {
      *message = g_strdup ("RSA-2048 key (SignWithRSA2048Key)");
      return NULL;
    }
  return sign_with_p521_key (pem, member (map, "ski"), message);
}
