/* tke-emu-tls.c: the emulator's own CA and server certificate
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * On first start the emulator makes a CA (ca.pem, for clients to trust)
 * and a certificate for 127.0.0.1/localhost signed by it, so that clients
 * verify TLS as they would against the real service instead of turning
 * verification off.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <tke.h>

#include "tke-emu-tls.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_NAME, X509_NAME_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIGNUM, BN_free)

static gboolean
tls_error (GError **error, const char *what)
{
  unsigned long code = ERR_peek_last_error ();
  char reason[256] = "";

  if (code != 0)
    ERR_error_string_n (code, reason, sizeof reason);
  ERR_clear_error ();
  g_set_error (error, TKE_ERROR, TKE_ERROR_CRYPTO, "%s failed: %s", what, reason);
  return FALSE;
}

static gboolean
add_extension (X509 *cert, X509 *issuer, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509_EXTENSION *ext;
  gboolean ok;

  X509V3_set_ctx (&ctx, issuer, cert, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  if (ext == NULL)
    return FALSE;
  ok = X509_add_ext (cert, ext, -1) == 1;
  X509_EXTENSION_free (ext);
  return ok;
}

static X509 *
make_certificate (EVP_PKEY *key,
                  const char *common_name,
                  X509 *issuer,
                  EVP_PKEY *issuer_key,
                  gboolean is_ca,
                  GError **error)
{
  g_autoptr (X509) cert = X509_new ();
  g_autoptr (X509_NAME) name = X509_NAME_new ();
  guint8 serial[16];
  g_autoptr (BIGNUM) bn = NULL;

  if (cert == NULL || name == NULL || RAND_bytes (serial, sizeof serial) != 1)
    {
      tls_error (error, "Making a certificate");
      return NULL;
    }
  serial[0] &= 0x7f;
  bn = BN_bin2bn (serial, sizeof serial, NULL);

  if (X509_set_version (cert, X509_VERSION_3) != 1 || bn == NULL ||
      BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (cert)) == NULL ||
      X509_gmtime_adj (X509_getm_notBefore (cert), -3600) == NULL ||
      X509_gmtime_adj (X509_getm_notAfter (cert), 60L * 60 * 24 * 825) == NULL ||
      X509_NAME_add_entry_by_txt (name, "O", MBSTRING_UTF8, (const guint8 *) "tke-emulator", -1, -1,
                                  0) != 1 ||
      X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const guint8 *) common_name, -1, -1,
                                  0) != 1 ||
      X509_set_subject_name (cert, name) != 1 ||
      X509_set_issuer_name (cert, issuer != NULL ? X509_get_subject_name (issuer) : name) != 1 ||
      X509_set_pubkey (cert, key) != 1)
    {
      tls_error (error, "Making a certificate");
      return NULL;
    }

  if (is_ca)
    {
      if (!add_extension (cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
          !add_extension (cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
          !add_extension (cert, cert, NID_subject_key_identifier, "hash"))
        {
          tls_error (error, "Adding CA extensions");
          return NULL;
        }
    }
  else if (!add_extension (cert, issuer, NID_basic_constraints, "critical,CA:FALSE") ||
           !add_extension (cert, issuer, NID_key_usage, "critical,digitalSignature") ||
           !add_extension (cert, issuer, NID_ext_key_usage, "serverAuth") ||
           !add_extension (cert, issuer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") ||
           !add_extension (cert, issuer, NID_authority_key_identifier, "keyid:always"))
    {
      tls_error (error, "Adding server extensions");
      return NULL;
    }

  if (X509_sign (cert, issuer_key, EVP_sha256 ()) <= 0)
    {
      tls_error (error, "Signing a certificate");
      return NULL;
    }

  return g_steal_pointer (&cert);
}

/* Private keys are created 0600 before a byte is written. */
static gboolean
write_pem (const char *path, X509 *cert, X509 *chain, EVP_PKEY *key, GError **error)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;
  int fd;
  gboolean ok;

  if (bio == NULL || (cert != NULL && PEM_write_bio_X509 (bio, cert) != 1) ||
      (chain != NULL && PEM_write_bio_X509 (bio, chain) != 1) ||
      (key != NULL && PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL) != 1))
    return tls_error (error, "Writing PEM");

  len = BIO_get_mem_data (bio, &data);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, key != NULL ? 0600 : 0644);
  if (fd < 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, "Cannot create %s: %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  ok = write (fd, data, (size_t) len) == len && fsync (fd) == 0;
  close (fd);
  if (key != NULL)
    OPENSSL_cleanse (data, (size_t) len);
  if (!ok)
    g_set_error (error, TKE_ERROR, TKE_ERROR_IO, "Cannot write %s", path);
  return ok;
}

/**
 * tke_emu_tls_ensure:
 * @state_dir: the state directory
 * @error: return location for a #GError
 *
 * Creates ca.pem, ca-key.pem, server.pem (certificate and chain) and
 * server-key.pem unless server.pem already exists.
 */
gboolean
tke_emu_tls_ensure (const char *state_dir, GError **error)
{
  g_autofree char *ca_path = g_build_filename (state_dir, "ca.pem", NULL);
  g_autofree char *ca_key_path = g_build_filename (state_dir, "ca-key.pem", NULL);
  g_autofree char *server_path = g_build_filename (state_dir, "server.pem", NULL);
  g_autofree char *server_key_path = g_build_filename (state_dir, "server-key.pem", NULL);
  g_autoptr (EVP_PKEY) ca_key = NULL;
  g_autoptr (EVP_PKEY) server_key = NULL;
  g_autoptr (X509) ca = NULL;
  g_autoptr (X509) server = NULL;

  if (g_file_test (server_path, G_FILE_TEST_EXISTS) && g_file_test (ca_path, G_FILE_TEST_EXISTS))
    return TRUE;

  ca_key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  server_key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  if (ca_key == NULL || server_key == NULL)
    return tls_error (error, "Generating TLS keys");

  ca = make_certificate (ca_key, "tke-emulator CA", NULL, ca_key, TRUE, error);
  if (ca == NULL)
    return FALSE;
  server = make_certificate (server_key, "127.0.0.1", ca, ca_key, FALSE, error);
  if (server == NULL)
    return FALSE;

  return write_pem (ca_key_path, NULL, NULL, ca_key, error) &&
         write_pem (server_key_path, NULL, NULL, server_key, error) &&
         write_pem (ca_path, ca, NULL, NULL, error) &&
         write_pem (server_path, server, ca, NULL, error);
}

GTlsCertificate *
tke_emu_tls_load (const char *state_dir, GError **error)
{
  g_autofree char *server_path = g_build_filename (state_dir, "server.pem", NULL);
  g_autofree char *server_key_path = g_build_filename (state_dir, "server-key.pem", NULL);

  return g_tls_certificate_new_from_files (server_path, server_key_path, error);
}
