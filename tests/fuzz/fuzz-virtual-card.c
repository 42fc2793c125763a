/* fuzz-virtual-card.c: the virtual card's applet under any APDU sequence
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Anything that can open the virtual reader sends the card APDUs.  Once
 * per process the harness makes a zone: a CA card (PINs 111111, 222222)
 * and an EP11 card (PIN 333333) certified by it, holding a signature key
 * and two key parts the harness imported with IMPORT COPY (so it knows
 * their values) and one the card generated.  Each input then runs on a
 * fresh copy of one of the two images (card-protocol.md):
 *
 *   byte 0   bit 0: 0 the CA card, 1 the EP11 card; bit 1: SELECT first;
 *            bit 2: VERIFY the (first) PIN; bit 3: VERIFY PIN 2 (CA)
 *   then operations, at most MAX_OPERATIONS, each one byte OP:
 *     OP & 3 = 0  an APDU of (next byte + 256·(OP >> 2 & 1)) bytes
 *     OP & 3 = 1  a reset (the card's security state is lost)
 *     OP & 3 = 2  the card pulled and inserted: its image loaded again
 *     OP & 3 = 3  a step the input cannot forge (its keys are made per
 *                 process), by OP >> 2 & 3: 0 GET RESPONSE until the
 *                 pending answer is fetched; 1 EXPORT FOR COPY (P1 = next
 *                 byte) with the certificate of another EP11 card of the
 *                 zone; 2 IMPORT COPY of a key part (index 4) sealed to the
 *                 EP11 card; 3 the unblock of §4.5: GET CHALLENGE, the CA
 *                 card's AUTHORIZE UNBLOCK, RESET RETRY COUNTER
 *
 * The seeds include the key file commands (§4.14: ep11-key-part-file.bin,
 * ep11-signature-key-file.bin), with the cheap-KDF files of make-corpus.c.
 *
 * Oracles after every answer: it is 2 to 258 bytes; it never holds a key
 * part's value, the signature key's private scalar or the chip key, nor a
 * PIN or a PEM private key (outside the answers that echo descriptions the
 * input chose); a refused command (any status but 90 00, 61 xx and a wrong
 * or blocked PIN's 63 Cx / 69 83) does not write the card image; no
 * internal error (6F 00).  After the sequence: what the card in memory
 * says (GET CARD INFO, key parts, public key) is what its image says
 * (loaded again if it was written, else as it was made), so every change
 * was written before the card answered.
 *
 * TKE_FUZZ_TRACE=1 prints every APDU's CLA, INS, P1 and the answer.
 */

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "fuzz-common.h"
#include "tke-virtual-card.h"

#define MAX_OPERATIONS 64
#define MAX_GET_RESPONSE 32
#define SCALAR_SIZE 66
#define PIN1 "111111"
#define PIN2 "222222"
#define EP11_PIN "333333"
#define COPY_CONTEXT "tke copy v1"

typedef struct
{
  TkeSecret *chip_key;
  GBytes *image[2];                    /* CA, EP11 */
  guint8 part[3][TKE_MASTER_KEY_SIZE]; /* 1 and 2 on the card, 3 in import */
  guint8 scalar[SCALAR_SIZE];
  GBytes *peer_certificate; /* GET CERTIFICATE of another EP11 card */
  GBytes *import;           /* IMPORT COPY data of key part 4 (part[2]) */
  TkeVirtualCard *ca;       /* both PINs verified: signs unblock challenges */
  GBytes *description[2];   /* what the images say (describe ()) */
  EVP_PKEY *source_key;     /* the transport key of the copies' sender */
  GBytes *source_proof;     /* its CERTIFY CARD answer from the zone's CA */
} Zone;

static Zone zone;

typedef struct
{
  TkeVirtualCard *card;
  const char *path;
  struct stat written; /* the image as the harness wrote it */
  guint8 last_ins;     /* of the last command that was not GET RESPONSE */
  guint16 last_sw;
} Run;

/* ---- Talking to a card during setup ---- */

static GBytes *
raw_transmit (TkeVirtualCard *card, const guint8 *apdu, gsize size, guint16 *sw)
{
  g_autoptr (GBytes) r = tke_virtual_card_transmit (card, apdu, size);
  const guint8 *p;
  gsize n;

  p = g_bytes_get_data (r, &n);
  if (n < 2)
    fuzz_fail ("an answer of %zu bytes", n);
  *sw = (guint16) (p[n - 2] << 8 | p[n - 1]);
  return g_bytes_new_from_bytes (r, 0, n - 2);
}

/* Sends a command (chained if longer than 255 bytes), fetches a long
 * answer, and insists on 90 00. */
static GBytes *
setup_command (TkeVirtualCard *card,
               guint8 cla,
               guint8 ins,
               guint8 p1,
               guint8 p2,
               const void *data,
               gsize size)
{
  g_autoptr (GByteArray) answer = g_byte_array_new ();
  const guint8 *d = data;
  guint16 sw = 0;
  gsize done = 0;

  do
    {
      gsize piece = MIN (size - done, 255);
      gboolean last = done + piece == size;
      guint8 apdu[5 + 255];
      g_autoptr (GBytes) r = NULL;

      apdu[0] = (guint8) (cla | (last ? 0 : 0x10));
      apdu[1] = ins;
      apdu[2] = p1;
      apdu[3] = p2;
      apdu[4] = (guint8) piece;
      if (piece > 0)
        memcpy (apdu + 5, d + done, piece);
      r = raw_transmit (card, apdu, piece > 0 ? 5 + piece : 4, &sw);
      done += piece;
      if (last)
        g_byte_array_append (answer, g_bytes_get_data (r, NULL), (guint) g_bytes_get_size (r));
      else if (sw != 0x9000)
        fuzz_fail ("setup: chained INS %02X piece answered %04X", ins, sw);
    }
  while (done < size);
  while ((sw & 0xFF00) == 0x6100)
    {
      static const guint8 get_response[] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };
      g_autoptr (GBytes) r = raw_transmit (card, get_response, sizeof get_response, &sw);

      g_byte_array_append (answer, g_bytes_get_data (r, NULL), (guint) g_bytes_get_size (r));
    }
  if (sw != 0x9000)
    fuzz_fail ("setup: INS %02X answered %04X", ins, sw);
  return g_byte_array_free_to_bytes (g_steal_pointer (&answer));
}

static void
select_and_verify (TkeVirtualCard *card, const char *pin, const char *pin2)
{
  g_bytes_unref (setup_command (card, 0x00, 0xA4, 0x04, 0x00, tke_virtual_card_aid,
                                sizeof tke_virtual_card_aid));
  g_bytes_unref (setup_command (card, 0x00, 0x20, 0x00, 0x81, pin, 6));
  if (pin2 != NULL)
    g_bytes_unref (setup_command (card, 0x00, 0x20, 0x00, 0x82, pin2, 6));
}

#define COPY_SIGNATURE_CONTEXT "tke copy sig v1"
#define SOURCE_SERIAL                                                                              \
  {                                                                                                \
    0xA5, 1, 2, 3, 4, 5, 6, 7                                                                      \
  }

/* The zone id and the CA's signature in a CERTIFY CARD answer (§4.10):
 * <zone id, 8> <zone point, 133> <description length, 1> <description>
 * <DER signature>. */
static void
split_certify_answer (GBytes *answer, const guint8 **zone_id, const guint8 **sig, gsize *sig_size)
{
  gsize size;
  const guint8 *p = g_bytes_get_data (answer, &size);
  gsize fixed = TKE_VIRTUAL_CARD_SERIAL_SIZE + 133 + 1;

  if (size <= fixed || size <= fixed + p[fixed - 1])
    fuzz_fail ("setup: a CERTIFY CARD answer of %zu bytes", size);
  *zone_id = p;
  *sig = p + fixed + p[fixed - 1];
  *sig_size = size - fixed - p[fixed - 1];
}

/* IMPORT COPY's data for @secret as @item, as card A of the zone would
 * export it (§4.11): sealed to @ep11's transport key, with A's certified
 * transport point and A's signature over the copy. */
static GBytes *
import_data (TkeVirtualCard *ep11, guint8 item, const char *description, const TkeSecret *secret)
{
  static const guint8 source[TKE_VIRTUAL_CARD_SERIAL_SIZE] = SOURCE_SERIAL;
  g_autoptr (GBytes) point = tke_virtual_card_get_transport_point (ep11);
  g_autoptr (GBytes) source_point = tke_crypto_ec_public_point (zone.source_key, NULL);
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (GByteArray) aad = g_byte_array_new ();
  g_autoptr (GByteArray) data = g_byte_array_new ();
  g_autoptr (GByteArray) signed_data = g_byte_array_new ();
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (GBytes) signature = NULL;
  guint8 description_size = (guint8) strlen (description);
  const guint8 *zone_id, *ca_signature;
  gsize ca_signature_size;
  guint8 length[2];

  split_certify_answer (zone.source_proof, &zone_id, &ca_signature, &ca_signature_size);
  key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                             g_bytes_get_size (point), NULL);
  g_byte_array_append (aad, (const guint8 *) COPY_CONTEXT, strlen (COPY_CONTEXT));
  g_byte_array_append (aad, source, sizeof source);
  g_byte_array_append (aad, tke_virtual_card_get_serial (ep11), TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (aad, &item, 1);
  g_byte_array_append (aad, (const guint8 *) description, description_size);
  sealed = tke_crypto_seal (key, aad->data, aad->len, secret, NULL);
  if (sealed == NULL || source_point == NULL || ca_signature_size > 255)
    fuzz_fail ("setup: cannot seal");
  g_byte_array_append (data, source, sizeof source);
  g_byte_array_append (data, &item, 1);
  g_byte_array_append (data, &description_size, 1);
  g_byte_array_append (data, (const guint8 *) description, description_size);
  g_byte_array_append (data, g_bytes_get_data (source_point, NULL),
                       (guint) g_bytes_get_size (source_point));
  length[0] = (guint8) ca_signature_size;
  g_byte_array_append (data, length, 1);
  g_byte_array_append (data, ca_signature, (guint) ca_signature_size);
  length[0] = (guint8) (g_bytes_get_size (sealed) >> 8);
  length[1] = (guint8) g_bytes_get_size (sealed);
  g_byte_array_append (data, length, 2);
  g_byte_array_append (data, g_bytes_get_data (sealed, NULL), (guint) g_bytes_get_size (sealed));

  g_byte_array_append (signed_data, (const guint8 *) COPY_SIGNATURE_CONTEXT,
                       strlen (COPY_SIGNATURE_CONTEXT));
  g_byte_array_append (signed_data, zone_id, TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (signed_data, data->data, data->len);
  signature = tke_crypto_sign (zone.source_key, signed_data->data, signed_data->len, NULL);
  if (signature == NULL)
    fuzz_fail ("setup: cannot sign the copy");
  g_byte_array_append (data, g_bytes_get_data (signature, NULL),
                       (guint) g_bytes_get_size (signature));
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

/* The sender of the copies: a transport key that the zone's CA certifies
 * for SOURCE_SERIAL, as it certifies every card of the zone. */
static void
make_copy_source (TkeVirtualCard *ca)
{
  static const guint8 source[TKE_VIRTUAL_CARD_SERIAL_SIZE] = SOURCE_SERIAL;
  g_autoptr (GByteArray) request = g_byte_array_new ();
  g_autoptr (GBytes) point = NULL;

  zone.source_key = tke_crypto_ec_generate (NULL);
  point = zone.source_key != NULL ? tke_crypto_ec_public_point (zone.source_key, NULL) : NULL;
  if (point == NULL)
    fuzz_fail ("setup: no source transport key");
  g_byte_array_append (request, source, sizeof source);
  g_byte_array_append (request, g_bytes_get_data (point, NULL), (guint) g_bytes_get_size (point));
  zone.source_proof = setup_command (ca, 0x80, 0x68, 0x00, 0x00, request->data, request->len);
}

static void
import_item (TkeVirtualCard *ep11, guint8 item, const char *description, const TkeSecret *secret)
{
  g_autoptr (GBytes) data = import_data (ep11, item, description, secret);

  g_bytes_unref (setup_command (ep11, 0x80, 0x66, 0x00, 0x00, g_bytes_get_data (data, NULL),
                                g_bytes_get_size (data)));
}

static void
import_signature_key (TkeVirtualCard *ep11)
{
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (TkeSecret) pem = NULL;
  BIGNUM *scalar = NULL;

  /* A scalar with a byte no description can hold (< 0x20), so that no
   * answer that echoes a description can hold it by the input's choice. */
  do
    {
      g_clear_pointer (&key, EVP_PKEY_free);
      key = tke_crypto_ec_generate (NULL);
      if (key == NULL || !EVP_PKEY_get_bn_param (key, OSSL_PKEY_PARAM_PRIV_KEY, &scalar) ||
          BN_bn2binpad (scalar, zone.scalar, SCALAR_SIZE) != SCALAR_SIZE)
        fuzz_fail ("setup: no private scalar");
      g_clear_pointer (&scalar, BN_clear_free);
    }
  while (memchr (zone.scalar, 0x01, SCALAR_SIZE) == NULL &&
         memchr (zone.scalar, 0x02, SCALAR_SIZE) == NULL);
  pem = tke_crypto_ec_private_key_to_pem (key, NULL);
  import_item (ep11, 0, "", pem);
}

static GBytes *
read_image (const char *path)
{
  g_autofree char *contents = NULL;
  gsize size;

  if (!g_file_get_contents (path, &contents, &size, NULL))
    fuzz_fail ("setup: cannot read %s", path);
  return g_bytes_new_take (g_steal_pointer (&contents), size);
}

static GBytes *
certify (TkeVirtualCard *ca, TkeVirtualCard *ep11)
{
  g_autoptr (GByteArray) request = g_byte_array_new ();
  g_autoptr (GBytes) point = tke_virtual_card_get_transport_point (ep11);
  g_autoptr (GBytes) certificate = NULL;
  g_autoptr (GError) error = NULL;

  g_byte_array_append (request, tke_virtual_card_get_serial (ep11), TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (request, g_bytes_get_data (point, NULL), (guint) g_bytes_get_size (point));
  certificate = setup_command (ca, 0x80, 0x68, 0x00, 0x00, request->data, request->len);
  if (!tke_virtual_card_install_certificate (ep11, g_bytes_get_data (certificate, NULL),
                                             g_bytes_get_size (certificate), &error))
    fuzz_fail ("setup: %s", error->message);
  select_and_verify (ep11, EP11_PIN, NULL);
  return setup_command (ep11, 0x80, 0x62, 0x00, 0x00, NULL, 0);
}

static void
make_zone (void)
{
  g_autofree char *chip_path = g_build_filename (fuzz_tmpdir (), "chip.key", NULL);
  g_autofree char *ca_path = g_build_filename (fuzz_tmpdir (), "ca.card", NULL);
  g_autofree char *ep11_path = g_build_filename (fuzz_tmpdir (), "ep11.card", NULL);
  g_autoptr (TkeSecret) pin1 = tke_secret_new_from_data ((const guint8 *) PIN1, 6);
  g_autoptr (TkeSecret) pin2 = tke_secret_new_from_data ((const guint8 *) PIN2, 6);
  g_autoptr (TkeSecret) ep11_pin = tke_secret_new_from_data ((const guint8 *) EP11_PIN, 6);
  g_autofree char *peer_path = g_build_filename (fuzz_tmpdir (), "peer.card", NULL);
  g_autoptr (TkeVirtualCard) ca = NULL;
  g_autoptr (TkeVirtualCard) ep11 = NULL;
  g_autoptr (TkeVirtualCard) peer = NULL;
  g_autoptr (TkeSecret) fourth = NULL;
  g_autoptr (GError) error = NULL;

  zone.chip_key = tke_virtual_card_load_chip_key (chip_path, TRUE, &error);
  if (zone.chip_key == NULL ||
      (ca = tke_virtual_card_create_ca (ca_path, zone.chip_key, "Fuzz zone", "Fuzz CA card", pin1,
                                        pin2, &error)) == NULL ||
      (ep11 = tke_virtual_card_new_ep11 (ep11_path, zone.chip_key, "Fuzz EP11 card", ep11_pin,
                                         &error)) == NULL ||
      (peer = tke_virtual_card_new_ep11 (peer_path, zone.chip_key, "Fuzz peer card", ep11_pin,
                                         &error)) == NULL)
    fuzz_fail ("setup: %s", error->message);

  select_and_verify (ca, PIN1, PIN2);
  make_copy_source (ca);
  g_bytes_unref (certify (ca, ep11));
  zone.peer_certificate = certify (ca, peer);
  import_signature_key (ep11);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (TkeSecret) value = NULL;

      for (guint j = 0; j < TKE_MASTER_KEY_SIZE; j++)
        zone.part[i][j] = (guint8) (i * 97 + j * 13 + 1);
      zone.part[i][0] = 0x01; /* no description holds it */
      value = tke_secret_new_from_data (zone.part[i], TKE_MASTER_KEY_SIZE);
      if (i < 2)
        import_item (ep11, (guint8) (i + 1), i == 0 ? "Imported one" : "Imported two", value);
      else
        fourth = g_steal_pointer (&value);
    }
  g_bytes_unref (setup_command (ep11, 0x80, 0x50, 0x00, 0x00, "Generated", 9));
  zone.import = import_data (ep11, 4, "Imported four", fourth);
  zone.ca = g_steal_pointer (&ca);

  zone.image[0] = read_image (ca_path);
  zone.image[1] = read_image (ep11_path);
}

/* ---- The oracles ---- */

static gboolean
same_stat (const struct stat *a, const struct stat *b)
{
  return a->st_ino == b->st_ino && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* KEY PART INFO and EXPORT FOR COPY echo a description the input may have
 * set (on GENERATE KEY PART): any printable text, so a PIN too. */
static gboolean
echoes_description (guint8 ins)
{
  return ins == 0x52 || ins == 0x64;
}

static void
check_secrets (Run *run, const guint8 *answer, gsize size)
{
  static const char *const pem_markers[] = { "PRIVATE KEY", "-----BEGIN" };
  const guint8 *chip = tke_secret_get_data (zone.chip_key);

  for (guint i = 0; i < 3; i++)
    if (fuzz_contains (answer, size, zone.part[i], TKE_MASTER_KEY_SIZE))
      fuzz_fail ("INS %02X answered key part %u in clear", run->last_ins, i + 1);
  if (fuzz_contains (answer, size, zone.scalar, SCALAR_SIZE))
    fuzz_fail ("INS %02X answered the signature key's private scalar", run->last_ins);
  if (fuzz_contains (answer, size, chip, tke_secret_get_size (zone.chip_key)))
    fuzz_fail ("INS %02X answered the chip key", run->last_ins);
  if (echoes_description (run->last_ins))
    return;
  if (fuzz_contains (answer, size, PIN1, 6) || fuzz_contains (answer, size, PIN2, 6) ||
      fuzz_contains (answer, size, EP11_PIN, 6))
    fuzz_fail ("INS %02X answered a PIN", run->last_ins);
  for (gsize i = 0; i < G_N_ELEMENTS (pem_markers); i++)
    if (fuzz_contains (answer, size, pem_markers[i], strlen (pem_markers[i])))
      fuzz_fail ("INS %02X answered a PEM private key", run->last_ins);
}

static gboolean
may_write (guint8 ins, guint16 sw)
{
  if (sw == 0x9000 || (sw & 0xFF00) == 0x6100)
    return TRUE;
  /* A wrong PIN is counted, and the count written, before the answer. */
  return ins == 0x20 && ((sw & 0xFFF0) == 0x63C0 || sw == 0x6983);
}

static void
stat_image (Run *run, struct stat *st)
{
  if (g_stat (run->path, st) != 0)
    fuzz_fail ("the card image is gone");
}

/* One APDU through every oracle; returns the answer without SW1 SW2. */
static GBytes *
transmit (Run *run, const guint8 *apdu, gsize size)
{
  g_autoptr (GBytes) r = NULL;
  struct stat before, after;
  const guint8 *p;
  gsize n;
  guint8 ins = size >= 2 ? apdu[1] : 0;

  stat_image (run, &before);
  r = tke_virtual_card_transmit (run->card, apdu, size);
  stat_image (run, &after);
  p = g_bytes_get_data (r, &n);
  if (n < 2 || n > 258)
    fuzz_fail ("INS %02X: an answer of %zu bytes", ins, n);
  if (ins != 0xC0)
    run->last_ins = ins;
  run->last_sw = (guint16) (p[n - 2] << 8 | p[n - 1]);
  if (g_getenv ("TKE_FUZZ_TRACE") != NULL)
    g_printerr ("  %02X %02X %02X -> %zu bytes %04X\n", size >= 4 ? apdu[0] : 0, ins,
                size >= 4 ? apdu[2] : 0, n - 2, run->last_sw);
  check_secrets (run, p, n);
  if (run->last_sw == 0x6F00)
    fuzz_fail ("INS %02X: internal error 6F00", ins);
  if (!may_write (ins, run->last_sw) && !same_stat (&before, &after))
    fuzz_fail ("INS %02X refused with %04X but wrote the card image", ins, run->last_sw);
  return g_bytes_new_from_bytes (r, 0, n - 2);
}

static void
transmit_copy (Run *run, const guint8 *apdu, gsize size)
{
  /* A buffer of exactly the APDU's size: AddressSanitizer sees a read past it. */
  g_autofree guint8 *exact = g_malloc (MAX (size, 1));

  if (size > 0)
    memcpy (exact, apdu, size);

  g_bytes_unref (transmit (run, exact, size));
}

static void
get_responses (Run *run)
{
  static const guint8 get_response[] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };

  for (guint i = 0; i < MAX_GET_RESPONSE && (run->last_sw & 0xFF00) == 0x6100; i++)
    g_bytes_unref (transmit (run, get_response, sizeof get_response));
}

static void
command (Run *run, guint8 cla, guint8 ins, guint8 p1, guint8 p2, const char *data, guint8 size)
{
  guint8 apdu[5 + 255] = { cla, ins, p1, p2, size };

  memcpy (apdu + 5, data, size);
  g_bytes_unref (transmit (run, apdu, size > 0 ? 5u + size : 4u));
}

static TkeVirtualCard *
load (const char *path)
{
  g_autoptr (GError) error = NULL;
  TkeVirtualCard *card = tke_virtual_card_load (path, zone.chip_key, &error);

  if (card == NULL)
    fuzz_fail ("an image the card wrote does not load: %s", error->message);
  return card;
}

/* What a card says about itself, read-only, after a fresh SELECT. */
static GBytes *
describe (Run *run, gboolean ep11)
{
  static const guint8 info[] = { 0x80, 0xCA, 0x00, 0x00, 0x00 };
  static const guint8 list[] = { 0x80, 0x52, 0x00, 0x00, 0x00 };
  static const guint8 public_key[] = { 0x80, 0x48, 0x00, 0x00, 0x00 };
  const guint8 *queries[] = { info, public_key, list };
  g_autoptr (GByteArray) all = g_byte_array_new ();
  g_autoptr (GBytes) parts = NULL;

  command (run, 0x00, 0xA4, 0x04, 0x00, (const char *) tke_virtual_card_aid, 8);
  for (guint i = 0; i < (ep11 ? 3u : 2u); i++)
    {
      g_autoptr (GBytes) r = transmit (run, queries[i], 5);
      guint8 sw[2] = { run->last_sw >> 8, run->last_sw & 0xFF };

      g_byte_array_append (all, g_bytes_get_data (r, NULL), (guint) g_bytes_get_size (r));
      g_byte_array_append (all, sw, 2);
      if (i == 2)
        parts = g_steal_pointer (&r);
    }
  for (gsize i = 0; parts != NULL && i < g_bytes_get_size (parts); i++)
    {
      guint8 apdu[5] = { 0x80, 0x52, ((const guint8 *) g_bytes_get_data (parts, NULL))[i], 0, 0 };
      g_autoptr (GBytes) r = transmit (run, apdu, 5);

      g_byte_array_append (all, g_bytes_get_data (r, NULL), (guint) g_bytes_get_size (r));
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&all));
}

static void
check_persisted (Run *run, gboolean ep11)
{
  g_autoptr (GBytes) in_memory = NULL;
  g_autoptr (GBytes) on_disk = NULL;
  Run reloaded = { .path = run->path };
  struct stat now;

  tke_virtual_card_reset (run->card);
  in_memory = describe (run, ep11);
  stat_image (run, &now);
  if (same_stat (&now, &run->written))
    on_disk = g_bytes_ref (zone.description[ep11]); /* never written: as made */
  else
    {
      reloaded.card = load (run->path);
      on_disk = describe (&reloaded, ep11);
      g_object_unref (reloaded.card);
    }
  if (!g_bytes_equal (in_memory, on_disk))
    fuzz_fail ("the card in memory and its image differ: a change was not written");
}

/* Sends @data as INS (chained when longer than 255 bytes) through the oracles. */
static void
chained (Run *run, guint8 ins, guint8 p1, const guint8 *data, gsize size)
{
  gsize done = 0;

  do
    {
      gsize piece = MIN (size - done, 255);
      gboolean last = done + piece == size;
      guint8 apdu[5 + 255] = { last ? 0x80 : 0x90, ins, p1, 0x00, (guint8) piece };

      memcpy (apdu + 5, data + done, piece);
      g_bytes_unref (transmit (run, apdu, 5 + piece));
      done += piece;
      if (!last && run->last_sw != 0x9000)
        return;
    }
  while (done < size);
}

static void
unblock (Run *run)
{
  static const guint8 get_challenge[] = { 0x00, 0x84, 0x00, 0x00, 0x20 };
  g_autoptr (GBytes) challenge = transmit (run, get_challenge, sizeof get_challenge);
  g_autoptr (GByteArray) request = g_byte_array_new ();
  g_autoptr (GBytes) grant = NULL;
  guint8 header[5] = { 0x00, 0x2C, 0x01, 0x81, 0 };
  g_autoptr (GByteArray) reset = g_byte_array_new ();

  if (run->last_sw != 0x9000 || g_bytes_get_size (challenge) != 32)
    return;
  /* The serial the CA card signs is the one GET CARD INFO gave: this card's. */
  g_byte_array_append (request, tke_virtual_card_get_serial (run->card),
                       TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (request, g_bytes_get_data (challenge, NULL), 32);
  grant = setup_command (zone.ca, 0x80, 0x2E, 0x00, 0x00, request->data, request->len);
  header[4] = (guint8) g_bytes_get_size (grant);
  g_byte_array_append (reset, header, 5);
  g_byte_array_append (reset, g_bytes_get_data (grant, NULL), (guint) g_bytes_get_size (grant));
  g_bytes_unref (transmit (run, reset->data, reset->len));
}

static size_t
forged_step (Run *run, guint8 op, const uint8_t *data, size_t size)
{
  switch ((op >> 2) & 3)
    {
    case 0:
      get_responses (run);
      return 0;
    case 1:
      chained (run, 0x64, size > 0 ? data[0] : 1, g_bytes_get_data (zone.peer_certificate, NULL),
               g_bytes_get_size (zone.peer_certificate));
      return size > 0 ? 1 : 0;
    case 2:
      chained (run, 0x66, 0x00, g_bytes_get_data (zone.import, NULL),
               g_bytes_get_size (zone.import));
      return 0;
    default:
      unblock (run);
      return 0;
    }
}

/* What each image says, loaded as it was made. */
static void
describe_zone (void)
{
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *path = fuzz_write_file ("card.image", g_bytes_get_data (zone.image[i], NULL),
                                               g_bytes_get_size (zone.image[i]));
      Run run = { .path = path };

      run.card = load (path);
      zone.description[i] = describe (&run, i == 1);
      g_object_unref (run.card);
    }
}

/* ---- The input ---- */

static void
run_operations (Run *run, const uint8_t *data, size_t size)
{
  size_t i = 0;

  for (guint n = 0; n < MAX_OPERATIONS && i < size; n++)
    {
      guint8 op = data[i++];

      switch (op & 3)
        {
        case 0:
          {
            size_t length;

            if (i >= size)
              return;
            length = MIN (data[i] + 256u * ((op >> 2) & 1u), size - i - 1);
            i++;
            transmit_copy (run, data + i, length);
            i += length;
            break;
          }
        case 1:
          tke_virtual_card_reset (run->card);
          break;
        case 2:
          g_object_unref (run->card);
          run->card = load (run->path);
          break;
        default:
          i += forged_step (run, op, data + i, size - i);
          break;
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static gsize once;
  g_autofree char *path = NULL;
  Run run = { 0 };
  gboolean ep11;

  fuzz_init ();
  if (g_once_init_enter (&once))
    {
      make_zone ();
      describe_zone ();
      g_once_init_leave (&once, 1);
    }
  if (size < 1)
    return 0;
  ep11 = (data[0] & 1) != 0;
  path = fuzz_write_file ("card.image", g_bytes_get_data (zone.image[ep11], NULL),
                          g_bytes_get_size (zone.image[ep11]));
  run.path = path;
  stat_image (&run, &run.written);
  run.card = load (path);
  if (data[0] & 2)
    command (&run, 0x00, 0xA4, 0x04, 0x00, (const char *) tke_virtual_card_aid, 8);
  if (data[0] & 4)
    command (&run, 0x00, 0x20, 0x00, 0x81, ep11 ? EP11_PIN : PIN1, 6);
  if ((data[0] & 8) && !ep11)
    command (&run, 0x00, 0x20, 0x00, 0x82, PIN2, 6);
  run_operations (&run, data + 1, size - 1);
  check_persisted (&run, ep11);
  g_object_unref (run.card);
  return 0;
}
