/* fuzz-key-part-file.c: tke_key_part_file_load on any bytes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A .keypart is as untrusted as a .sigkey.  Written to a file (the library
 * reads only from a path), loaded, and unlocked with the corpus's password
 * when its scrypt cost N·r·p is at most 2^14 (read by the harness: the
 * library allows far more, which would only make the fuzzer slow).
 */

#include <string.h>

#include <json-glib/json-glib.h>
#include <tke.h>

#include "fuzz-common.h"

#define FUZZ_PASSWORD "fuzz password"
#define MAX_FUZZ_SCRYPT_COST (1 << 14)

static gboolean
cheap_kdf (const uint8_t *data, size_t size)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonNode *node;
  JsonObject *kdf;
  gint64 n, r, p;

  if (!json_parser_load_from_data (parser, (const char *) data, (gssize) size, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    fuzz_fail ("a file that loads does not parse");
  node = json_object_get_member (json_node_get_object (root), "kdf");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    fuzz_fail ("a file that loads has no kdf object");
  kdf = json_node_get_object (node);
  n = json_object_get_int_member_with_default (kdf, "N", 0);
  r = json_object_get_int_member_with_default (kdf, "r", 0);
  p = json_object_get_int_member_with_default (kdf, "p", 0);
  return n > 0 && r > 0 && p > 0 && n <= MAX_FUZZ_SCRYPT_COST && r * p <= MAX_FUZZ_SCRYPT_COST / n;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *path = NULL;
  g_autoptr (TkeKeyPartFile) file = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) password = NULL;
  g_autoptr (TkeSecret) part = NULL;
  const char *vp;
  const char *description;

  fuzz_init ();
  path = fuzz_write_file ("input.keypart", data, size);
  file = tke_key_part_file_load (path, &error);
  if (file == NULL)
    {
      if (error == NULL || error->domain != TKE_ERROR || error->message[0] == '\0')
        fuzz_fail ("a refused file without a TKE_ERROR message");
      return 0;
    }
  g_assert_no_error (error);
  vp = tke_key_part_file_get_vp (file);
  description = tke_key_part_file_get_description (file);
  if (vp == NULL || strlen (vp) != 64)
    fuzz_fail ("a loaded file without a 64-digit verification pattern");
  if (description == NULL || !g_utf8_validate (description, -1, NULL) ||
      g_utf8_strlen (description, -1) > TKE_KEY_PART_DESCRIPTION_MAX)
    fuzz_fail ("a loaded file with a description that is not 1 to %d characters of UTF-8",
               TKE_KEY_PART_DESCRIPTION_MAX);
  if (!cheap_kdf (data, size))
    return 0;

  password = tke_secret_new_from_data ((const guint8 *) FUZZ_PASSWORD, strlen (FUZZ_PASSWORD));
  part = tke_key_part_file_unlock (file, password, &error);
  if (part == NULL)
    {
      if (error == NULL || error->domain != TKE_ERROR)
        fuzz_fail ("unlock failed without a TKE_ERROR");
      return 0;
    }
  if (tke_secret_get_size (part) != TKE_MASTER_KEY_SIZE)
    fuzz_fail ("an unlocked part of %zu bytes", tke_secret_get_size (part));
  return 0;
}
