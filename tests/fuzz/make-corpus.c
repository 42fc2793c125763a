/* make-corpus.c: writes the seed corpus of tests/fuzz from the real library
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   fuzz-make-corpus DIR     (build-aux/fuzz --corpus runs it on tests/fuzz/corpus)
 *
 * Valid files written by libtke itself (signature keys, key parts, a
 * profile, journals), answers of real virtual cards, the PIN-pad
 * structures libtke and OpenSC send, the service's documented answers and
 * APDU sequences of the card protocol.  Seeds whose bytes are random (keys,
 * salts) differ on every run: commit them once, regenerate on a format
 * change.
 */

#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "fuzz-common.h"
#include "tke-virtual-card.h"

#define FUZZ_PASSWORD "fuzz password"

static const char *top;

static void
seed (const char *target, const char *name, const void *data, gsize size)
{
  g_autofree char *dir = g_build_filename (top, target, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_mkdir_with_parents (dir, 0755);
  if (!g_file_set_contents (path, data, (gssize) size, &error))
    fuzz_fail ("%s", error->message);
  printf ("%s\n", path);
}

static void
seed_text (const char *target, const char *name, const char *text)
{
  seed (target, name, text, strlen (text));
}

/* A seed that is a prefix byte (which parser) and a text. */
static void
seed_tagged (const char *target, const char *name, guint8 tag, const void *data, gsize size)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();

  g_byte_array_append (b, &tag, 1);
  g_byte_array_append (b, data, (guint) size);
  seed (target, name, b->data, b->len);
}

static void
seed_file (const char *target, const char *name, const char *path)
{
  g_autofree char *contents = NULL;
  gsize size;

  if (!g_file_get_contents (path, &contents, &size, NULL))
    fuzz_fail ("cannot read %s", path);
  seed (target, name, contents, size);
}

static char *
scratch (const char *name)
{
  char *path = g_build_filename (fuzz_tmpdir (), name, NULL);

  g_unlink (path);
  return path;
}

/* The key part file at @path again, sealed with a cheap scrypt (N 1024):
 * the only kind the harness unlocks.  The format of tke-key-part-file.c,
 * rebuilt from the library's own crypto. */
static void
seed_cheap_key_part (const char *path, const TkeSecret *part, const TkeSecret *password)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  JsonObject *root, *kdf, *cipher;
  g_autoptr (GBytes) salt = NULL;
  g_autoptr (TkeSecret) key = NULL;
  g_autoptr (TkeSecret) check = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autofree char *aad = NULL;
  g_autofree char *check_hex = NULL;
  g_autofree char *sealed_hex = NULL;
  g_autofree char *nonce_hex = NULL;
  g_autofree char *text = NULL;
  static const guint8 nonce[TKE_GCM_NONCE_SIZE] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

  if (!json_parser_load_from_file (parser, path, NULL))
    fuzz_fail ("cannot read %s", path);
  root = json_node_get_object (json_parser_get_root (parser));
  kdf = json_object_get_object_member (root, "kdf");
  cipher = json_object_get_object_member (root, "cipher");
  salt = tke_crypto_hex_decode (json_object_get_string_member (kdf, "salt"), NULL);
  key = tke_crypto_scrypt (password, g_bytes_get_data (salt, NULL), g_bytes_get_size (salt), 1024,
                           8, 1, 32, NULL);
  check = tke_crypto_hkdf_sha256 (key, g_bytes_get_data (salt, NULL), g_bytes_get_size (salt),
                                  (const guint8 *) "tke-key-part-check", 18, 16, NULL);
  aad = g_strconcat ("tke-key-part-v1\n", json_object_get_string_member (root, "vp"), "\n",
                     json_object_get_string_member (root, "description"), NULL);
  sealed =
      tke_crypto_aes_gcm_encrypt (key, nonce, (const guint8 *) aad, strlen (aad),
                                  tke_secret_get_data (part), tke_secret_get_size (part), NULL);
  if (check == NULL || sealed == NULL)
    fuzz_fail ("cannot seal a key part");
  check_hex = tke_crypto_hex_encode (tke_secret_get_data (check), 16);
  sealed_hex = tke_crypto_hex_encode (g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed));
  nonce_hex = tke_crypto_hex_encode (nonce, sizeof nonce);
  json_object_set_int_member (kdf, "N", 1024);
  json_object_set_string_member (root, "check", check_hex);
  json_object_set_string_member (cipher, "nonce", nonce_hex);
  json_object_set_string_member (cipher, "ciphertext", sealed_hex);
  json_generator_set_root (generator, json_parser_get_root (parser));
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  seed_text ("key-part-file", "cheap-kdf.keypart", text);
}

static void
key_files (void)
{
  g_autoptr (TkeSecret) password = tke_secret_new_from_data ((const guint8 *) FUZZ_PASSWORD, 13);
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (NULL);
  g_autoptr (TkeSecret) part = tke_secret_new_random (TKE_MASTER_KEY_SIZE, NULL);
  g_autofree char *pbkdf2 = scratch ("a.sigkey");
  g_autofree char *scrypt = scratch ("b.sigkey");
  g_autofree char *anonymous = scratch ("c.sigkey");
  g_autofree char *keypart = scratch ("a.keypart");
  g_autoptr (GError) error = NULL;

  if (!tke_signature_key_file_create (pbkdf2, "Fuzz Admin", key, password, TKE_KEY_FILE_KDF_PBKDF2,
                                      &error) ||
      !tke_signature_key_file_create (scrypt, "Fuzz Admin", key, password, TKE_KEY_FILE_KDF_SCRYPT,
                                      &error) ||
      !tke_signature_key_file_create (anonymous, NULL, key, password, TKE_KEY_FILE_KDF_PBKDF2,
                                      &error) ||
      !tke_key_part_file_create (keypart, "Fuzz part", part, password, &error))
    fuzz_fail ("%s", error->message);
  seed_file ("signature-key-file", "pbkdf2.sigkey", pbkdf2);
  seed_file ("signature-key-file", "scrypt.sigkey", scrypt);
  seed_file ("signature-key-file", "no-admin-name.sigkey", anonymous);
  seed_text ("signature-key-file", "wrong-key-type.sigkey",
             "{\"keyType\": \"p256ec\", \"ski\": \"00\"}");
  seed_file ("key-part-file", "part.keypart", keypart);
  seed_cheap_key_part (keypart, part, password);
  seed_text ("key-part-file", "not-an-object.keypart", "[\"tke-key-part\", 1]");
}

static void
profile (void)
{
  g_autofree char *dir = scratch ("profile");
  g_autofree char *path = g_build_filename (dir, "profile.ini", NULL);
  g_autoptr (TkeWorkstation) ws = tke_workstation_new (dir, NULL);
  g_autoptr (GArray) units = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) keys = g_array_new (FALSE, FALSE, sizeof (guint));
  guint u[] = { 1, 3, 4 }, k[] = { 2 };
  g_autoptr (GError) error = NULL;

  g_array_append_vals (units, u, 3);
  g_array_append_vals (keys, k, 1);
  tke_workstation_set_endpoint (ws, "https://127.0.0.1:8443");
  tke_workstation_set_ca_file (ws, "/etc/tke/ca.pem");
  tke_workstation_set_instance_id (ws, "3f2a9c1e-fuzz");
  tke_workstation_set_selected_units (ws, units);
  tke_workstation_set_selected_signature_keys (ws, keys);
  if (!tke_workstation_save (ws, &error))
    fuzz_fail ("%s", error->message);
  seed_file ("workstation", "profile.ini", path);
  seed_text ("workstation", "hand-edited.ini",
             "# edited by hand\n[service]\nendpoint = https://tke.example:443 \ninstance=\n"
             "[selection]\ncrypto-units=5;5;-1;2;\nsignature-keys=x;7\n");
}

static void
journals (void)
{
  g_autofree char *done = scratch ("done.jsonl");
  g_autofree char *torn = scratch ("torn.jsonl");
  g_autoptr (TkeJournal) a = tke_journal_new (done);
  g_autoptr (TkeJournal) b = tke_journal_new (torn);
  g_autoptr (GPtrArray) units = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;
  static const char vp[] = "4e2c0d7b1f3a5968e7d6c5b4a3928170f1e2d3c4b5a69788796a5b4c3d2e1f00";
  FILE *f;

  g_ptr_array_add (units, tke_crypto_unit_new ("inst", "hsm-1", 1, TKE_CRYPTO_UNIT_TYPE_OPERATIONAL,
                                               "[us-east].[AZ1].[01].[01]"));
  g_ptr_array_add (units, tke_crypto_unit_new ("inst", "hsm-2", 2, TKE_CRYPTO_UNIT_TYPE_RECOVERY,
                                               "[us-east].[AZ1].[01].[02]"));
  if (!tke_journal_begin (a, "rotate", "inst", units, vp, vp, &error) ||
      !tke_journal_append (a, TKE_JOURNAL_STEP_ROTATE, TKE_JOURNAL_OUTCOME_BEGIN, NULL, &error) ||
      !tke_journal_append (a, TKE_JOURNAL_STEP_ROTATE, TKE_JOURNAL_OUTCOME_OK, NULL, &error) ||
      !tke_journal_end (a, TKE_JOURNAL_OUTCOME_OK, NULL, &error) ||
      !tke_journal_begin (b, "rotate", "inst", units, vp, NULL, &error) ||
      !tke_journal_append (b, TKE_JOURNAL_STEP_REWRAP, TKE_JOURNAL_OUTCOME_FAILED, "HTTP 502",
                           &error))
    fuzz_fail ("%s", error->message);
  /* A crash in the middle of a write. */
  f = fopen (torn, "a");
  fputs ("{\"ceremony\":\"0b7e\",\"kind\":\"rotate\",\"step\":\"set-imm", f);
  fclose (f);
  seed_file ("journal", "ended.jsonl", done);
  seed_file ("journal", "interrupted-torn.jsonl", torn);
}

static void
pin_formats (void)
{
  /* libtke's structure (card-protocol.md §1.2, tke_pcsc_build_verify_structure):
   * timeouts, bmFormatString 82 (ASCII, byte units), bmPINBlockString 06,
   * bmPINLengthFormat 00, max 6 min 6, … ulDataLength 11, the template. */
  static const guint8 tke[] = { 6,    '1',  '2',  '3',  '4',  '5',  '6',  0x1E, 0x1E, 0x82,
                                0x06, 0x00, 0x06, 0x06, 0x02, 0x01, 0x04, 0x09, 0x00, 0x00,
                                0x00, 0x00, 0x00, 0x0B, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00,
                                0x81, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
  /* OpenSC's GLP block: BCD, length nibble at bit 4, 8-byte block, right-justified false. */
  static const guint8 glp[] = { 4,    '9',  '8',  '7',  '6',  0x00, 0x00, 0x89, 0x47, 0x04,
                                0x0C, 0x04, 0x02, 0x01, 0x04, 0x09, 0x00, 0x00, 0x00, 0x00,
                                0x0D, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x81, 0x08, 0x20,
                                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
  /* A variable-length PIN (block 0) and a header-only template, big-endian length. */
  static const guint8 variable[] = { 5,    '1',  '3',  '5',  '7',  '9',  0x00, 0x00, 0x02, 0x00,
                                     0x00, 0x08, 0x04, 0x02, 0x01, 0x04, 0x09, 0x00, 0x00, 0x00,
                                     0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x20, 0x00, 0x82 };

  seed ("pin-format", "tke-ascii.bin", tke, sizeof tke);
  seed ("pin-format", "opensc-glp.bin", glp, sizeof glp);
  seed ("pin-format", "variable-big-endian.bin", variable, sizeof variable);
}

/* ---- Virtual cards ---- */

static GBytes *
transmit (TkeVirtualCard *card, const guint8 *apdu, gsize size)
{
  return tke_virtual_card_transmit (card, apdu, size);
}

/* Sends @hex, fetching a long answer; returns the data. */
static GBytes *
exchange (TkeVirtualCard *card, const char *hex)
{
  g_autoptr (GBytes) apdu = tke_crypto_hex_decode (hex, NULL);
  g_autoptr (GByteArray) answer = g_byte_array_new ();
  g_autoptr (GBytes) r =
      tke_virtual_card_transmit (card, g_bytes_get_data (apdu, NULL), g_bytes_get_size (apdu));
  static const guint8 get_response[] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };

  for (;;)
    {
      gsize n;
      const guint8 *p = g_bytes_get_data (r, &n);

      g_byte_array_append (answer, p, (guint) n - 2);
      if (p[n - 2] != 0x61)
        break;
      g_bytes_unref (r);
      r = tke_virtual_card_transmit (card, get_response, sizeof get_response);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&answer));
}

/* The image file as is, and its sealed records as the harness seals them. */
static void
seed_image (TkeSecret *chip, const char *path, const char *name)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autofree char *serial_hex = NULL;
  g_autofree char *chip_hex = NULL;
  g_autoptr (GBytes) serial = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (GByteArray) aad = g_byte_array_new ();
  g_autoptr (GByteArray) records = g_byte_array_new ();
  g_autoptr (TkeSecret) payload = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *file_name = g_strconcat (name, ".image", NULL);
  g_autofree char *records_name = g_strconcat (name, ".records", NULL);
  const guint8 *c;
  gsize size;

  if (!g_file_get_contents (path, &contents, &size, NULL) ||
      !g_key_file_load_from_data (file, contents, size, G_KEY_FILE_NONE, NULL))
    fuzz_fail ("cannot read %s", path);
  seed_tagged ("card-image", file_name, 0, contents, size);
  serial_hex = g_key_file_get_string (file, "TKE Card", "Serial", NULL);
  chip_hex = g_key_file_get_string (file, "TKE Card", "Chip", NULL);
  serial = tke_crypto_hex_decode (serial_hex, NULL);
  sealed = tke_crypto_hex_decode (chip_hex, NULL);
  g_byte_array_append (aad, (const guint8 *) "tke card image v1", 17);
  g_byte_array_append (aad, g_bytes_get_data (serial, NULL), 8);
  c = g_bytes_get_data (sealed, &size);
  payload = tke_crypto_aes_gcm_decrypt (chip, c, aad->data, aad->len, c + TKE_GCM_NONCE_SIZE,
                                        size - TKE_GCM_NONCE_SIZE, NULL);
  if (payload == NULL)
    fuzz_fail ("cannot open %s", path);
  g_byte_array_append (records, g_bytes_get_data (serial, NULL), 8);
  g_byte_array_append (records, tke_secret_get_data (payload),
                       (guint) tke_secret_get_size (payload));
  seed_tagged ("card-image", records_name, 1, records->data, records->len);
}

static void
card_images (TkeSecret *chip, TkeVirtualCard *ca, TkeVirtualCard *ep11)
{
  g_autoptr (GBytes) point = tke_virtual_card_get_transport_point (ep11);
  g_autoptr (GBytes) certificate = NULL;
  g_autofree char *point_hex = NULL;
  g_autofree char *certify = NULL;
  g_autofree char *serial_hex = NULL;

  serial_hex = tke_crypto_hex_encode (tke_virtual_card_get_serial (ep11), 8);
  point_hex = tke_crypto_hex_encode (g_bytes_get_data (point, NULL), g_bytes_get_size (point));
  certify = g_strdup_printf ("806800008D%s%s00", serial_hex, point_hex);
  g_bytes_unref (exchange (ca, "00A4040008F0544B4543415244"));
  g_bytes_unref (exchange (ca, "0020008106313233343536"));
  g_bytes_unref (exchange (ca, "0020008206363534333231"));
  certificate = exchange (ca, certify);
  if (!tke_virtual_card_install_certificate (ep11, g_bytes_get_data (certificate, NULL),
                                             g_bytes_get_size (certificate), NULL))
    fuzz_fail ("cannot certify");
  g_bytes_unref (exchange (ep11, "00A4040008F0544B4543415244"));
  g_bytes_unref (exchange (ep11, "0020008106313233343536"));
  g_bytes_unref (exchange (ep11, "8046000000"));
  g_bytes_unref (exchange (ep11, "80500000045061727400"));
  seed_image (chip, tke_virtual_card_get_path (ca), "ca");
  seed_image (chip, tke_virtual_card_get_path (ep11), "ep11");
}

static void
card_answers (void)
{
  g_autofree char *chip_path = scratch ("chip.key");
  g_autofree char *ca_path = scratch ("ca.card");
  g_autofree char *ep11_path = scratch ("ep11.card");
  g_autoptr (TkeSecret) pin = tke_secret_new_from_data ((const guint8 *) "123456", 6);
  g_autoptr (TkeSecret) pin2 = tke_secret_new_from_data ((const guint8 *) "654321", 6);
  g_autoptr (TkeSecret) chip = NULL;
  g_autoptr (TkeVirtualCard) ca = NULL;
  g_autoptr (TkeVirtualCard) ep11 = NULL;
  static const guint8 select[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xF0, 0x54,
                                   0x4B, 0x45, 0x43, 0x41, 0x52, 0x44 };
  static const guint8 info[] = { 0x80, 0xCA, 0x00, 0x00, 0x00 };
  static const guint8 features[] = { 0x06, 4,    0x42, 0x33, 0x00, 0x06, 0x07, 4,
                                     0x42, 0x33, 0x00, 0x07, 0x0A, 4,    0x42, 0x33,
                                     0x00, 0x0A, 0x12, 4,    0x42, 0x33, 0x00, 0x12 };
  static const guint8 sw_wrong_pin[] = { 0x63, 0xC2, 1, 0x80, 0x10, 0x00, 0x0C };
  static const guint8 sw_ok[] = { 0x90, 0x00, 2, 0x00, 0x00, 0x00, 0x00 };
  static const guint8 sw_timeout[] = { 0x64, 0x00, 1, 0x80, 0x10, 0x00, 0x69 };

  g_free (fuzz_write_file ("chip.key", (const uint8_t *) FUZZ_CHIP_KEY, 32));
  chip = tke_virtual_card_load_chip_key (chip_path, FALSE, NULL);
  ca = tke_virtual_card_create_ca (ca_path, chip, "Zone Z", "CA card", pin, pin2, NULL);
  ep11 = tke_virtual_card_new_ep11 (ep11_path, chip, "Admin", pin, NULL);
  if (ca == NULL || ep11 == NULL)
    fuzz_fail ("cannot create the cards");
  for (guint i = 0; i < 2; i++)
    {
      TkeVirtualCard *card = i == 0 ? ca : ep11;
      g_autoptr (GBytes) r = NULL;
      const guint8 *p;
      gsize n;

      g_bytes_unref (transmit (card, select, sizeof select));
      r = transmit (card, info, sizeof info);
      p = g_bytes_get_data (r, &n);
      seed_tagged ("card-response", i == 0 ? "card-info-ca.bin" : "card-info-ep11.bin", 0, p,
                   n - 2);
    }
  card_images (chip, ca, ep11);
  seed_tagged ("card-response", "features.bin", 1, features, sizeof features);
  seed_tagged ("card-response", "text.bin", 2, "Zone Zürich", strlen ("Zone Zürich"));
  seed_tagged ("card-response", "sw-wrong-pin.bin", 3, sw_wrong_pin, sizeof sw_wrong_pin);
  seed_tagged ("card-response", "sw-ok.bin", 3, sw_ok, sizeof sw_ok);
  seed_tagged ("card-response", "sw-timeout.bin", 3, sw_timeout, sizeof sw_timeout);
}

/* An APDU operation of fuzz-virtual-card's input. */
static void
apdu (GByteArray *b, const char *hex)
{
  g_autoptr (GBytes) bytes = tke_crypto_hex_decode (hex, NULL);
  gsize size;
  const guint8 *data;
  guint8 head[2];

  if (bytes == NULL)
    fuzz_fail ("bad hex %s", hex);
  data = g_bytes_get_data (bytes, &size);
  head[0] = (guint8) (size > 255 ? 4 : 0);
  head[1] = (guint8) (size & 0xFF);
  g_byte_array_append (b, head, 2);
  g_byte_array_append (b, data, (guint) size);
}

static void
op (GByteArray *b, guint8 value)
{
  g_byte_array_append (b, &value, 1);
}

static void
seed_sequence (const char *name, GByteArray *b)
{
  seed ("virtual-card", name, b->data, b->len);
  g_byte_array_set_size (b, 0);
}

#define SELECT "00A4040008F0544B4543415244"
#define VERIFY_EP11 "0020008106333333333333"
#define VERIFY_WRONG "0020008106393939393939"
#define GET_RESPONSES 3
#define RESET 1
#define RELOAD 2
#define EXPORT_FOR_COPY 7
#define IMPORT_COPY 11
#define UNBLOCK 15

static void
apdu_sequences (void)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_autoptr (EVP_PKEY) importer = tke_crypto_ec_generate (NULL);
  g_autoptr (GBytes) point = tke_crypto_ec_public_point (importer, NULL);
  g_autofree char *point_hex = tke_crypto_hex_encode (g_bytes_get_data (point, NULL), 133);
  g_autofree char *export_part =
      g_strdup_printf ("80540100%02X%s%s00", 133 + 12, point_hex, "756E69747C6E65777C317C31");

  /* EP11, selected and verified by the harness: everything it reads. */
  op (b, 0x07);
  apdu (b, "80CA000000");
  apdu (b, "8052000000");
  apdu (b, "8052010000");
  apdu (b, "8052030000");
  apdu (b, "8048000000");
  apdu (b, "8048020000");
  apdu (b, "8062000000");
  op (b, GET_RESPONSES);
  apdu (b, "0020008100");
  seed_sequence ("ep11-read.bin", b);

  /* The host does SELECT and VERIFY itself; sign; generate and delete a part. */
  op (b, 0x01);
  apdu (b, SELECT);
  apdu (b, VERIFY_EP11);
  apdu (b, "002A9E9A0B68656C6C6F20776F726C6400");
  apdu (b, "80500000084E6577207061727400");
  apdu (b, "8056030000");
  op (b, RELOAD);
  apdu (b, SELECT);
  apdu (b, "80CA000000");
  seed_sequence ("ep11-sign-parts.bin", b);

  /* Export a part to an importer key, with associated data. */
  op (b, 0x07);
  apdu (b, export_part);
  op (b, GET_RESPONSES);
  seed_sequence ("ep11-export.bin", b);

  /* A chained SIGN of 300 bytes, then a broken chain. */
  op (b, 0x07);
  {
    g_autofree char *piece1 = g_strdup_printf ("102A9E9AFF%s", "");
    GString *s = g_string_new (piece1);

    for (guint i = 0; i < 255; i++)
      g_string_append (s, "41");
    apdu (b, s->str);
    g_string_assign (s, "002A9E9A2D");
    for (guint i = 0; i < 45; i++)
      g_string_append (s, "42");
    g_string_append (s, "00");
    apdu (b, s->str);
    apdu (b, "102A9E9A0141");
    apdu (b, "80CA000000");
    g_string_free (s, TRUE);
  }
  seed_sequence ("ep11-chained-sign.bin", b);

  /* Copy: export to the zone's other card; import a sealed part. */
  op (b, 0x07);
  op (b, EXPORT_FOR_COPY);
  op (b, 0x01);
  op (b, GET_RESPONSES);
  op (b, EXPORT_FOR_COPY);
  op (b, 0x00);
  op (b, GET_RESPONSES);
  op (b, IMPORT_COPY);
  op (b, IMPORT_COPY);
  apdu (b, "8052040000");
  seed_sequence ("ep11-copy.bin", b);

  /* Block the PIN with three wrong entries, unblock, change the PIN. */
  op (b, 0x03);
  apdu (b, VERIFY_WRONG);
  apdu (b, VERIFY_WRONG);
  apdu (b, VERIFY_WRONG);
  apdu (b, VERIFY_EP11);
  op (b, UNBLOCK);
  apdu (b, "0024018106343434343434");
  apdu (b, "0024028106343434343434");
  apdu (b, "0020008106343434343434");
  op (b, RESET);
  apdu (b, "0020008100");
  seed_sequence ("ep11-block-unblock.bin", b);

  /* CA: both PINs by the harness; info, zone key, certify a made-up card. */
  op (b, 0x0E);
  apdu (b, "80CA000000");
  apdu (b, "8048000000");
  {
    g_autofree char *certify = g_strdup_printf ("806800008D0102030405060708%s00", point_hex);

    apdu (b, certify);
  }
  op (b, GET_RESPONSES);
  apdu (b, "802E000028"
           "0102030405060708"
           "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00");
  op (b, GET_RESPONSES);
  seed_sequence ("ca-certify.bin", b);

  /* CA: the host's own VERIFY of PIN 2, wrong CLA, secure messaging, a
   * command before SELECT. */
  op (b, 0x00);
  apdu (b, "80CA000000");
  apdu (b, SELECT);
  apdu (b, "0020008206323232323232");
  apdu (b, "0020008200");
  apdu (b, "A0CA000000");
  apdu (b, "0CCA000000");
  apdu (b, "00C0000000");
  apdu (b, "8084000020");
  seed_sequence ("ca-misc.bin", b);
}

/* A command of any length as fuzz-virtual-card's APDU operations: pieces
 * of 255 bytes chained (CLA | 0x10), Le on the last. */
static void
chained_apdu (GByteArray *b, guint8 ins, guint8 p1, const guint8 *data, gsize size)
{
  gsize offset = 0;

  do
    {
      gsize piece = MIN (size - offset, 255);
      gboolean last = offset + piece == size;
      g_autoptr (GByteArray) a = g_byte_array_new ();
      guint8 head[5] = { last ? 0x80 : 0x90, ins, p1, 0x00, (guint8) piece };
      guint8 le = 0;
      g_autofree char *hex = NULL;

      g_byte_array_append (a, head, 5);
      g_byte_array_append (a, data + offset, (guint) piece);
      if (last)
        g_byte_array_append (a, &le, 1);
      hex = tke_crypto_hex_encode (a->data, a->len);
      apdu (b, hex);
      offset += piece;
    }
  while (offset < size);
}

/* <Lpw> <password> <the file at DIR/NAME of the corpus, if any> */
static GByteArray *
file_request (const char *password, const char *dir, const char *name)
{
  GByteArray *r = g_byte_array_new ();
  guint8 length = (guint8) strlen (password);
  g_autofree char *path = dir != NULL ? g_build_filename (top, dir, name, NULL) : NULL;
  g_autofree char *text = NULL;
  gsize size = 0;

  g_byte_array_append (r, &length, 1);
  g_byte_array_append (r, (const guint8 *) password, length);
  if (path != NULL && !g_file_get_contents (path, &text, &size, NULL))
    fuzz_fail ("cannot read %s", path);
  if (text != NULL)
    g_byte_array_append (r, (const guint8 *) text, (guint) size);
  return r;
}

/* The key file commands (card-protocol.md §4.14), with the cheap files of key_files (). */
static void
key_file_sequences (void)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_autoptr (GByteArray) part = file_request (FUZZ_PASSWORD, "key-part-file", "cheap-kdf.keypart");
  g_autoptr (GByteArray) wrong = file_request ("wrong", "key-part-file", "cheap-kdf.keypart");
  g_autoptr (GByteArray) sigkey =
      file_request (FUZZ_PASSWORD, "signature-key-file", "pbkdf2.sigkey");
  g_autoptr (GByteArray) password = file_request (FUZZ_PASSWORD, NULL, NULL);

  /* EP11, verified: a part from a file, twice, with a wrong password; out again. */
  op (b, 0x07);
  chained_apdu (b, 0x5A, 0x00, wrong->data, wrong->len);
  chained_apdu (b, 0x5A, 0x00, part->data, part->len);
  chained_apdu (b, 0x5A, 0x00, part->data, part->len);
  apdu (b, "8052000000");
  chained_apdu (b, 0x5C, 0x01, password->data, password->len);
  op (b, GET_RESPONSES);
  seed_sequence ("ep11-key-part-file.bin", b);

  /* The signature key out into a file; a second one refused; without the PIN. */
  op (b, 0x07);
  chained_apdu (b, 0x4C, 0x00, password->data, password->len);
  op (b, GET_RESPONSES);
  chained_apdu (b, 0x4A, 0x00, sigkey->data, sigkey->len);
  op (b, RESET);
  apdu (b, SELECT);
  chained_apdu (b, 0x4A, 0x00, sigkey->data, sigkey->len);
  seed_sequence ("ep11-signature-key-file.bin", b);
}

static void
service_json (void)
{
  static const char *const seeds[][2] = {
    { "hsm.json", "\x00{\"hsm_id\": \"5a1f\", \"crypto_unit_num\": 3, \"type\": \"RECOVERY\","
                  " \"location\": \"[us-east].[AZ1-CS1].[03].[07]\", \"state\": \"ACTIVE\","
                  " \"version\": 1, \"serial_number\": \"93AABEV3\"}" },
    { "query.json",
      "\x01{\"hsm_id\": \"5a1f\", \"imprint_mode\": false, \"signature_threshold\": 2,"
      " \"revocation_threshold\": 1, \"admins\": [{\"name\": \"Admin One\", \"ski\":"
      " \"8e1b0f5a35b5c1dd0e4c39b3e8b1f4a9d7c2e6f1a0b3c5d7e9f1a2b3c4d5e6f7\"}],"
      " \"new_mk_status\": \"Full Committed\", \"new_mkvp\":"
      " \"4e2c0d7b1f3a5968e7d6c5b4a3928170f1e2d3c4b5a69788796a5b4c3d2e1f00\","
      " \"current_mk_status\": \"Valid\", \"current_mkvp\":"
      " \"4e2c0d7b1f3a5968e7d6c5b4a3928170f1e2d3c4b5a69788796a5b4c3d2e1f00\", \"counter\": 7,"
      " \"importer_key\": null}" },
    { "query-bad-state.json",
      "\x01{\"imprint_mode\": true, \"signature_threshold\": 1, \"revocation_threshold\": 1,"
      " \"admins\": [], \"new_mk_status\": \"Partially Full\", \"new_mkvp\": null,"
      " \"current_mk_status\": \"Empty\", \"current_mkvp\": null, \"counter\": 0}" },
    { "rotation.json",
      "\x02{\"state\": \"rewrapped\", \"keys_total\": 3000, \"keys_done\": 3000,"
      " \"from_mkvp\": \"4e2c0d7b1f3a5968e7d6c5b4a3928170f1e2d3c4b5a69788796a5b4c3d2e1f00\","
      " \"to_mkvp\": \"4e2c0d7b1f3a5968e7d6c5b4a3928170f1e2d3c4b5a69788796a5b4c3d2e1f00\","
      " \"started\": \"2026-11-23T14:31:07.123Z\", \"messages\": [{\"timestamp\":"
      " \"2026-11-23T14:31:07.123Z\", \"message\": \"Master key rotation started.\"}],"
      " \"error\": {\"code\": \"interrupted\", \"message\": \"The service was stopped.\"}}" },
    { "rotation-none.json",
      "\x02{\"state\": \"none\", \"keys_total\": 0, \"keys_done\": 0, \"from_mkvp\": null,"
      " \"to_mkvp\": null, \"started\": null, \"messages\": [], \"error\": null}" },
    { "kms-key.json",
      "\x03{\"id\": \"0f6f\", \"type\": \"application/vnd.ibm.kms.key+json\", \"name\":"
      " \"root-17\", \"state\": 1, \"creationDate\": \"2026-11-23T14:31:07.123Z\","
      " \"extractable\": false, \"wkid\": \"00112233445566778899aabbccddeeff\"}" },
    { "error-403.json", "\x04\x01\x93{\"error\": {\"code\": \"threshold_not_met\", \"status\":"
                        " 403, \"message\": \"Service says threshold_not_met.\"}}" },
    { "error-401-expired.json", "\x04\x01\x91{\"error\": {\"code\": \"token_expired\","
                                " \"message\": \"The bearer token expired.\"}}" },
    { "error-502-empty.json", "\x04\x01\xF6" },
    { "token.jwt", "\x05"
                   "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                   "eyJpYXQiOjEsImV4cCI6MTc5NTUzMDY2NywiaW5zdGFuY2UiOiJpLTEifQ.c2ln" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (seeds); i++)
    {
      /* The tag byte may be 0: the first byte is counted apart. */
      const char *s = seeds[i][1];
      gsize size = 1 + strlen (s + 1);

      seed ("service-json", seeds[i][0], s, size);
    }
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s CORPUS-DIR\n", argv[0]);
      return 2;
    }
  fuzz_init ();
  top = argv[1];
  key_files ();
  profile ();
  journals ();
  pin_formats ();
  card_answers ();
  apdu_sequences ();
  key_file_sequences ();
  service_json ();
  return 0;
}
