/* fuzz-signature-key-file.c: tke_signature_key_file_load on any bytes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A .sigkey comes from a USB stick or a share: its JSON is untrusted.  The
 * library reads only from a path, so the input is written to a file.  A
 * file that loads is unlocked with the corpus's password when its KDF is
 * cheap (the legacy PBKDF2, or scrypt with N·r·p at most 2^14, which the
 * harness reads itself): otherwise every input would cost up to the
 * library's own bound (seconds) and the fuzzer would find nothing else.
 */

#include <string.h>

#include <json-glib/json-glib.h>
#include <tke.h>

#include "fuzz-common.h"

#define FUZZ_PASSWORD "fuzz password"
#define MAX_FUZZ_SCRYPT_COST (1 << 14)

static gboolean
cheap_kdf (TkeSignatureKeyFile *file, const uint8_t *data, size_t size)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *kdf;
  gint64 n, r, p;

  if (tke_signature_key_file_get_kdf (file) == TKE_KEY_FILE_KDF_PBKDF2)
    return TRUE;
  /* It loaded, so it is a JSON object whose "kdf" is an object. */
  if (!json_parser_load_from_data (parser, (const char *) data, (gssize) size, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    fuzz_fail ("a file that loads does not parse");
  kdf = json_object_get_object_member (json_node_get_object (root), "kdf");
  n = json_object_get_int_member_with_default (kdf, "N", 0);
  r = json_object_get_int_member_with_default (kdf, "r", 0);
  p = json_object_get_int_member_with_default (kdf, "p", 0);
  return n > 0 && r > 0 && p > 0 && n <= MAX_FUZZ_SCRYPT_COST && r * p <= MAX_FUZZ_SCRYPT_COST / n;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *path = NULL;
  g_autoptr (TkeSignatureKeyFile) file = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) password = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  const char *ski;

  fuzz_init ();
  path = fuzz_write_file ("input.sigkey", data, size);
  file = tke_signature_key_file_load (path, &error);
  if (file == NULL)
    {
      if (error == NULL || error->domain != TKE_ERROR || error->message[0] == '\0')
        fuzz_fail ("a refused file without a TKE_ERROR message");
      return 0;
    }
  g_assert_no_error (error);
  ski = tke_signature_key_file_get_ski (file);
  if (ski == NULL || strlen (ski) != 64)
    fuzz_fail ("a loaded file without a 64-digit SKI");
  if (g_strcmp0 (tke_signature_key_file_get_path (file), path) != 0)
    fuzz_fail ("the path changed");
  tke_signature_key_file_get_admin_name (file);
  if (!cheap_kdf (file, data, size))
    return 0;

  password = tke_secret_new_from_data ((const guint8 *) FUZZ_PASSWORD, strlen (FUZZ_PASSWORD));
  key = tke_signature_key_file_unlock (file, password, &error);
  if (key == NULL)
    {
      if (error == NULL || error->domain != TKE_ERROR)
        fuzz_fail ("unlock failed without a TKE_ERROR");
      return 0;
    }
  g_assert_no_error (error);
  return 0;
}
