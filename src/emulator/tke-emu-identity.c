/* tke-emu-identity.c: the unit root, the units' device keys and signed answers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The emulator stands in for the crypto modules' outbound authentication
 * (data/doc/service-protocol.md, "Unit identity"): a unit root of its own,
 * apart from the TLS CA (a real deployment pins the vendor's root), a P-521
 * device key per unit certified by that root, and every answer of an
 * administrative command signed by the unit's device key.  The root's
 * private key is read only to certify a unit's new device key.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "tke-emu-error.h"
#include "tke-emu-identity.h"

#define ROOT_KEY_FILE "unit-root-key.pem"
#define ROOT_FILE "unit-root.pem"

typedef struct
{
  EVP_PKEY *device;
  GBytes *certificate;
  /* The last importer certificate: ECDSA signatures differ each time, and a
   * pending importer key should read the same in every query. */
  GBytes *importer_point;
  char *importer_certificate;
} UnitKey;

struct _TkeEmuIdentity
{
  TkeEmuStore *store;
  GBytes *root_point;
  GHashTable *units; /* hsm_id → UnitKey */
};

static void
unit_key_free (gpointer data)
{
  UnitKey *key = data;

  EVP_PKEY_free (key->device);
  g_clear_pointer (&key->certificate, g_bytes_unref);
  g_clear_pointer (&key->importer_point, g_bytes_unref);
  g_free (key->importer_certificate);
  g_free (key);
}

static void
add_base64 (JsonArray *array, GBytes *data)
{
  g_autofree char *text = g_base64_encode (g_bytes_get_data (data, NULL), g_bytes_get_size (data));

  json_array_add_string_element (array, text);
}

static gboolean G_GNUC_PRINTF (2, 3) internal (GError **error, const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  if (error != NULL && *error == NULL)
    *error = g_error_new_valist (TKE_EMU_ERROR, TKE_EMU_ERROR_INTERNAL, format, ap);
  va_end (ap);
  return FALSE;
}

char *
tke_emu_identity_root_file (const char *state_dir)
{
  return g_build_filename (state_dir, ROOT_FILE, NULL);
}

static gboolean
write_new_file (const char *path, const char *text, mode_t mode, GError **error)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  gsize size = strlen (text);
  gboolean ok;

  if (fd < 0)
    return internal (error, "Cannot create %s", path);
  ok = write (fd, text, size) == (gssize) size && fsync (fd) == 0;
  close (fd);
  return ok || internal (error, "Cannot write %s", path);
}

static char *
public_pem (EVP_PKEY *key)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data = NULL, *text = NULL;
  long size;

  if (bio != NULL && PEM_write_bio_PUBKEY (bio, key) == 1)
    {
      size = BIO_get_mem_data (bio, &data);
      text = g_strndup (data, size);
    }
  BIO_free (bio);
  return text;
}

/* Makes the unit root at --init, or at the first start of an older state
 * directory (then it says so: the administrators must pin the new root). */
gboolean
tke_emu_identity_ensure_root (const char *state_dir, gboolean announce, GError **error)
{
  g_autofree char *key_path = g_build_filename (state_dir, ROOT_KEY_FILE, NULL);
  g_autofree char *path = tke_emu_identity_root_file (state_dir);
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (TkeSecret) pem = NULL;
  g_autofree char *public_text = NULL;
  g_autofree char *text = NULL;

  if (g_file_test (key_path, G_FILE_TEST_EXISTS) && g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (g_file_test (key_path, G_FILE_TEST_EXISTS) || g_file_test (path, G_FILE_TEST_EXISTS))
    return internal (error, "%s has only half of the unit root; restore it from a backup.",
                     state_dir);
  if ((key = tke_crypto_ec_generate (error)) == NULL ||
      (pem = tke_crypto_ec_private_key_to_pem (key, error)) == NULL ||
      (public_text = public_pem (key)) == NULL)
    return internal (error, "Cannot make the unit root in %s", state_dir);
  text = g_strndup ((const char *) tke_secret_get_data (pem), tke_secret_get_size (pem));
  if (!write_new_file (key_path, text, 0600, error))
    {
      OPENSSL_cleanse (text, strlen (text));
      return FALSE;
    }
  OPENSSL_cleanse (text, strlen (text));
  if (!write_new_file (path, public_text, 0644, error))
    return FALSE;
  if (announce)
    g_message ("This state directory had no unit root: made one in %s. Administrators must "
               "confirm its fingerprint before they log in again.",
               path);
  return TRUE;
}

static EVP_PKEY *
load_root_key (const char *state_dir, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, ROOT_KEY_FILE, NULL);
  g_autofree char *text = NULL;
  g_autoptr (TkeSecret) pem = NULL;
  gsize size = 0;

  if (!g_file_get_contents (path, &text, &size, error))
    return NULL;
  pem = tke_secret_new_from_data ((const guint8 *) text, size);
  OPENSSL_cleanse (text, size);
  return tke_crypto_ec_private_key_from_pem (pem, error);
}

static char *
device_aad (const char *hsm_id)
{
  return g_strdup_printf ("tke-unit-device|%s", hsm_id);
}

/* A unit's new device key, certified by the root. */
static UnitKey *
make_unit_key (TkeEmuIdentity *self, EVP_PKEY *root, const char *hsm_id, GError **error)
{
  g_autoptr (EVP_PKEY) device = tke_crypto_ec_generate (error);
  g_autoptr (TkeSecret) pem = NULL;
  g_autoptr (GBytes) point = NULL, ski = NULL, body = NULL, signature = NULL, sealed = NULL;
  g_autofree char *aad = device_aad (hsm_id);
  g_autofree char *root_fp = tke_unit_root_fingerprint (self->root_point);
  g_autoptr (GByteArray) cert = g_byte_array_new ();
  UnitKey *key;

  if (device == NULL || (point = tke_crypto_ec_public_point (device, error)) == NULL ||
      (ski = tke_crypto_hex_decode (root_fp, error)) == NULL ||
      (body = tke_unit_certificate_build_body (self->store->instance_id, hsm_id, point, ski,
                                               error)) == NULL ||
      (signature = tke_crypto_sign (root, g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                                    error)) == NULL ||
      (pem = tke_crypto_ec_private_key_to_pem (device, error)) == NULL ||
      (sealed = tke_emu_seal_device (self->store, aad, tke_secret_get_data (pem),
                                     tke_secret_get_size (pem), error)) == NULL)
    return NULL;
  g_byte_array_append (cert, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_byte_array_append (cert, g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
  key = g_new0 (UnitKey, 1);
  key->device = g_steal_pointer (&device);
  key->certificate = g_byte_array_free_to_bytes (g_steal_pointer (&cert));
  if (!tke_emu_store_identity_save (self->store, hsm_id, sealed, key->certificate, error))
    {
      unit_key_free (key);
      return NULL;
    }
  return key;
}

static UnitKey *
load_unit_key (
    TkeEmuIdentity *self, const char *hsm_id, GBytes *sealed, GBytes *cert, GError **error)
{
  g_autofree char *aad = device_aad (hsm_id);
  g_autoptr (TkeSecret) pem = tke_emu_open_device (self->store, aad, sealed, error);
  EVP_PKEY *device = pem != NULL ? tke_crypto_ec_private_key_from_pem (pem, error) : NULL;
  UnitKey *key;

  if (device == NULL)
    return NULL;
  key = g_new0 (UnitKey, 1);
  key->device = device;
  key->certificate = g_bytes_ref (cert);
  return key;
}

static gboolean
certified_by_root (TkeEmuIdentity *self, GBytes *cert)
{
  g_autoptr (TkeUnitCertificate) parsed = tke_unit_certificate_parse (cert, NULL);
  g_autofree char *fingerprint = tke_unit_root_fingerprint (self->root_point);
  g_autoptr (GBytes) ski = tke_crypto_hex_decode (fingerprint, NULL);

  return parsed != NULL && g_bytes_equal (tke_unit_certificate_get_issuer_ski (parsed), ski);
}

/* Loads every unit's device key, making those that are missing. */
static gboolean
load_units (TkeEmuIdentity *self, GError **error)
{
  g_autoptr (GPtrArray) units = tke_emu_units_load (self->store, FALSE, error);
  g_autoptr (EVP_PKEY) root = NULL;

  if (units == NULL || !tke_emu_db_begin (self->store->db, error))
    return FALSE;
  for (guint i = 0; i < units->len; i++)
    {
      const char *hsm_id = ((TkeEmuUnit *) units->pdata[i])->hsm_id;
      g_autoptr (GBytes) sealed = NULL, cert = NULL;
      UnitKey *key;

      if (!tke_emu_store_identity_load (self->store, hsm_id, &sealed, &cert, error))
        goto fail;
      /* A root restored or made anew certifies the units again. */
      if (sealed != NULL && !certified_by_root (self, cert))
        g_clear_pointer (&sealed, g_bytes_unref);
      if (sealed == NULL && root == NULL &&
          (root = load_root_key (self->store->state_dir, error)) == NULL)
        goto fail;
      key = sealed != NULL ? load_unit_key (self, hsm_id, sealed, cert, error)
                           : make_unit_key (self, root, hsm_id, error);
      if (key == NULL)
        goto fail;
      g_hash_table_insert (self->units, g_strdup (hsm_id), key);
    }
  return tke_emu_db_commit (self->store->db, error);

fail:
  tke_emu_db_rollback (self->store->db);
  return FALSE;
}

TkeEmuIdentity *
tke_emu_identity_open (TkeEmuStore *store, GError **error)
{
  g_autoptr (TkeEmuIdentity) self = g_new0 (TkeEmuIdentity, 1);
  g_autofree char *path = tke_emu_identity_root_file (store->state_dir);
  g_autoptr (GError) local_error = NULL;

  self->store = store;
  self->units = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, unit_key_free);
  self->root_point = tke_unit_root_load_file (path, &local_error);
  if (self->root_point == NULL)
    {
      internal (error, "%s", local_error->message);
      return NULL;
    }
  if (!load_units (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

/* Units added since the identity was opened (failover units) get their
 * device keys; the others are loaded again, unchanged. */
gboolean
tke_emu_identity_add_units (TkeEmuIdentity *self, GError **error)
{
  return load_units (self, error);
}

/* What a recovery unit checks before it seals a key to another unit: the
 * importer certificate was signed by @hsm_id's certified device key and
 * names @importer_point. */
gboolean
tke_emu_identity_verify_importer (TkeEmuIdentity *self,
                                  const char *hsm_id,
                                  GBytes *importer_certificate,
                                  GBytes *importer_point,
                                  GError **error)
{
  UnitKey *key = g_hash_table_lookup (self->units, hsm_id);
  g_autoptr (TkeUnitCertificate) unit = NULL;
  g_autofree char *hex = NULL, *base64 = NULL;
  g_autoptr (GError) local_error = NULL;

  if (key == NULL || (unit = tke_unit_certificate_parse (key->certificate, NULL)) == NULL)
    {
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND,
                   "There is no crypto unit %s in this service instance.", hsm_id);
      return FALSE;
    }
  hex = tke_crypto_hex_encode (g_bytes_get_data (importer_point, NULL),
                               g_bytes_get_size (importer_point));
  base64 = g_base64_encode (g_bytes_get_data (importer_certificate, NULL),
                            g_bytes_get_size (importer_certificate));
  if (!tke_unit_identity_verify_importer (unit, hex, base64, &local_error))
    {
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_IMPORTER_NOT_AUTHENTIC,
                   "The importer certificate is not the target unit's pending importer key: %s",
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

void
tke_emu_identity_free (TkeEmuIdentity *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->root_point, g_bytes_unref);
  g_clear_pointer (&self->units, g_hash_table_unref);
  g_free (self);
}

/* GET …/unit_root: unsigned, only for a person to compare. */
JsonObject *
tke_emu_identity_root_json (TkeEmuIdentity *self)
{
  JsonObject *out = json_object_new ();
  g_autofree char *hex =
      tke_crypto_hex_encode (g_bytes_get_data (self->root_point, NULL), TKE_UNIT_POINT_SIZE);
  g_autofree char *fingerprint = tke_unit_root_fingerprint (self->root_point);

  json_object_set_string_member (out, "public_key", hex);
  json_object_set_string_member (out, "fingerprint", fingerprint);
  return out;
}

static UnitKey *
unit_key (TkeEmuIdentity *self, const char *hsm_id, GError **error)
{
  UnitKey *key = g_hash_table_lookup (self->units, hsm_id);

  if (key == NULL)
    internal (error, "Crypto unit %s has no device key.", hsm_id);
  return key;
}

static GBytes *
sign (EVP_PKEY *key, GBytes *data, GError **error)
{
  return tke_crypto_sign (key, g_bytes_get_data (data, NULL), g_bytes_get_size (data), error);
}

/* The importer certificate of @importer_point, base64: body ‖ signature
 * by the unit's device key. */
char *
tke_emu_identity_importer_certificate (TkeEmuIdentity *self,
                                       const char *hsm_id,
                                       GBytes *importer_point,
                                       GError **error)
{
  UnitKey *key = unit_key (self, hsm_id, error);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GByteArray) cert = g_byte_array_new ();

  if (key != NULL && key->importer_point != NULL &&
      g_bytes_equal (key->importer_point, importer_point))
    return g_strdup (key->importer_certificate);
  if (key == NULL ||
      (body = tke_importer_certificate_build_body (self->store->instance_id, hsm_id, importer_point,
                                                   error)) == NULL ||
      (signature = sign (key->device, body, error)) == NULL)
    return NULL;
  g_byte_array_append (cert, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_byte_array_append (cert, g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
  g_clear_pointer (&key->importer_point, g_bytes_unref);
  g_free (key->importer_certificate);
  key->importer_point = g_bytes_ref (importer_point);
  key->importer_certificate = g_base64_encode (cert->data, cert->len);
  return g_strdup (key->importer_certificate);
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

static GBytes *
answer_bytes (TkeEmuIdentity *self,
              const char *hsm_id,
              GBytes *request,
              const char *command,
              gint64 counter,
              JsonObject *result)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonNode) result_node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *digest = sha512_hex (request);
  gsize size = 0;
  char *text;

  json_node_take_object (result_node, result);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "instance");
  json_builder_add_string_value (b, self->store->instance_id);
  json_builder_set_member_name (b, "hsm_id");
  json_builder_add_string_value (b, hsm_id);
  json_builder_set_member_name (b, "request_sha512");
  json_builder_add_string_value (b, digest);
  json_builder_set_member_name (b, "command");
  json_builder_add_string_value (b, command);
  json_builder_set_member_name (b, "counter");
  json_builder_add_int_value (b, counter);
  json_builder_set_member_name (b, "result");
  json_builder_add_value (b, g_steal_pointer (&result_node));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &size);
  return g_bytes_new_take (text, size);
}

/* The signed answer envelope of a command; takes @result. */
JsonObject *
tke_emu_identity_sign_answer (TkeEmuIdentity *self,
                              const char *hsm_id,
                              GBytes *request,
                              const char *command,
                              gint64 counter,
                              JsonObject *result,
                              GError **error)
{
  UnitKey *key = unit_key (self, hsm_id, error);
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autofree char *answer_b64 = NULL;
  g_autofree char *signature_b64 = NULL;
  JsonObject *out;
  JsonArray *certificates;

  if (key == NULL)
    {
      json_object_unref (result);
      return NULL;
    }
  answer = answer_bytes (self, hsm_id, request, command, counter, result);
  signature = sign (key->device, answer, error);
  if (signature == NULL)
    return NULL;
  answer_b64 = g_base64_encode (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
  signature_b64 =
      g_base64_encode (g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
  certificates = json_array_new ();
  add_base64 (certificates, key->certificate);
  out = json_object_new ();
  json_object_set_string_member (out, "answer", answer_b64);
  json_object_set_string_member (out, "signature", signature_b64);
  json_object_set_array_member (out, "certificates", certificates);
  return out;
}
