/* fuzz-card-image.c: tke_virtual_card_load on any card image, then the card in use
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A card image (data/doc/card-protocol.md §7) is a key file anyone with
 * the file can edit; its Chip is sealed under the chip key.  The harness
 * holds a chip key, so it fuzzes both layers: byte 0 bit 0 = 0, the rest
 * is the image file; = 1, the rest is a serial (8 bytes) and the sealed
 * records, which the harness seals as the card would.  A card that loads
 * then answers a fixed script (SELECT, GET CARD INFO, VERIFY with the
 * corpus's PINs, public keys, certificate, key parts, SIGN, the CA's
 * commands).  Oracles: SELECT answers 01 00; GET CARD INFO is what
 * libtke's own parser (tke-pcsc.c, compiled in) reads, with the image's
 * serial; no answer is malformed; nothing crashes on a card whose image
 * lacks a record.
 */

#include <string.h>

#include "fuzz-common.h"
#include "tke-pcsc-private.h"
#include "tke-virtual-card.h"

#define IMAGE_AAD "tke card image v1"

static TkeSecret *chip_key;
static GBytes *point; /* a valid P-521 point, for CERTIFY CARD and EXPORT */

static void
init (void)
{
  static gsize once;
  g_autofree char *chip_path = NULL;
  g_autoptr (EVP_PKEY) key = NULL;

  if (!g_once_init_enter (&once))
    return;
  g_free (fuzz_write_file ("chip.key", (const uint8_t *) FUZZ_CHIP_KEY, 32));
  chip_path = g_build_filename (fuzz_tmpdir (), "chip.key", NULL);
  chip_key = tke_virtual_card_load_chip_key (chip_path, FALSE, NULL);
  key = tke_crypto_ec_generate (NULL);
  point = tke_crypto_ec_public_point (key, NULL);
  if (chip_key == NULL || point == NULL)
    fuzz_fail ("setup: no chip key or point");
  g_once_init_leave (&once, 1);
}

/* The image file of @serial ‖ @records, sealed as the card seals it. */
static char *
seal_image (const uint8_t *data, size_t size)
{
  g_autoptr (GByteArray) aad = g_byte_array_new ();
  g_autoptr (GByteArray) chip = g_byte_array_new ();
  g_autoptr (GBytes) sealed = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *chip_hex = NULL;
  guint8 nonce[TKE_GCM_NONCE_SIZE] = { 0 };

  if (size < TKE_VIRTUAL_CARD_SERIAL_SIZE)
    return NULL;
  g_byte_array_append (aad, (const guint8 *) IMAGE_AAD, strlen (IMAGE_AAD));
  g_byte_array_append (aad, data, TKE_VIRTUAL_CARD_SERIAL_SIZE);
  sealed = tke_crypto_aes_gcm_encrypt (chip_key, nonce, aad->data, aad->len,
                                       data + TKE_VIRTUAL_CARD_SERIAL_SIZE,
                                       size - TKE_VIRTUAL_CARD_SERIAL_SIZE, NULL);
  if (sealed == NULL)
    fuzz_fail ("cannot seal");
  g_byte_array_append (chip, nonce, sizeof nonce);
  g_byte_array_append (chip, g_bytes_get_data (sealed, NULL), (guint) g_bytes_get_size (sealed));
  serial = tke_crypto_hex_encode (data, TKE_VIRTUAL_CARD_SERIAL_SIZE);
  chip_hex = tke_crypto_hex_encode (chip->data, chip->len);
  return g_strdup_printf ("[TKE Card]\nFormat=1\nSerial=%s\nChip=%s\n", serial, chip_hex);
}

/* One command, its long answer fetched; returns the data, *sw the status. */
static GBytes *
command (TkeVirtualCard *card, const char *hex, const void *data, gsize size, guint16 *sw)
{
  g_autoptr (GBytes) header = tke_crypto_hex_decode (hex, NULL);
  g_autoptr (GByteArray) apdu = g_byte_array_new ();
  g_autoptr (GByteArray) answer = g_byte_array_new ();
  guint8 lc = (guint8) size;

  g_byte_array_append (apdu, g_bytes_get_data (header, NULL), 4);
  if (size > 0)
    {
      g_byte_array_append (apdu, &lc, 1);
      g_byte_array_append (apdu, data, (guint) size);
    }
  for (;;)
    {
      g_autoptr (GBytes) r = tke_virtual_card_transmit (card, apdu->data, apdu->len);
      gsize n;
      const guint8 *p = g_bytes_get_data (r, &n);
      static const guint8 get_response[] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };

      if (n < 2 || n > 258)
        fuzz_fail ("%s: an answer of %zu bytes", hex, n);
      g_byte_array_append (answer, p, (guint) n - 2);
      *sw = (guint16) (p[n - 2] << 8 | p[n - 1]);
      if ((*sw & 0xFF00) != 0x6100 || answer->len > 65536)
        break;
      g_byte_array_set_size (apdu, 0);
      g_byte_array_append (apdu, get_response, sizeof get_response);
    }
  if (*sw == 0x6F00)
    fuzz_fail ("%s: internal error 6F00", hex);
  return g_byte_array_free_to_bytes (g_steal_pointer (&answer));
}

static void
check_card_info (TkeVirtualCard *card)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkePcscCardInfo) info = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autofree char *serial = NULL;
  guint16 sw;

  answer = command (card, "80CA0000", NULL, 0, &sw);
  if (sw != 0x9000)
    fuzz_fail ("GET CARD INFO answered %04X", sw);
  info = _tke_pcsc_parse_card_info (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer),
                                    &error);
  if (info == NULL)
    fuzz_fail ("libtke cannot read the card's GET CARD INFO: %s", error->message);
  serial = tke_crypto_hex_encode (tke_virtual_card_get_serial (card), TKE_VIRTUAL_CARD_SERIAL_SIZE);
  if (g_strcmp0 (info->serial, serial) != 0)
    fuzz_fail ("GET CARD INFO gives serial %s, the image %s", info->serial, serial);
}

static void
use_card (TkeVirtualCard *card)
{
  static const char *const script[] = {
    "00208100", "80480000", "80480200", "80620000", "80520000",
    "80520100", "80520200", "00840000", "00208200",
  };
  g_autoptr (GByteArray) certify = g_byte_array_new ();
  g_autoptr (GByteArray) unblock = g_byte_array_new ();
  guint16 sw;

  g_bytes_unref (command (card, "00A40400", tke_virtual_card_aid, 8, &sw));
  if (sw != 0x9000)
    fuzz_fail ("SELECT answered %04X", sw);
  check_card_info (card);
  g_bytes_unref (command (card, "00200081", "123456", 6, &sw));
  g_bytes_unref (command (card, "00200082", "654321", 6, &sw));
  for (gsize i = 0; i < G_N_ELEMENTS (script); i++)
    g_bytes_unref (command (card, script[i], NULL, 0, &sw));
  g_bytes_unref (command (card, "002A9E9A", "message", 7, &sw));
  g_byte_array_append (certify, tke_virtual_card_get_serial (card), TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (certify, g_bytes_get_data (point, NULL), (guint) g_bytes_get_size (point));
  g_bytes_unref (command (card, "80680000", certify->data, certify->len, &sw));
  g_byte_array_append (unblock, certify->data, TKE_VIRTUAL_CARD_SERIAL_SIZE + 32);
  g_bytes_unref (command (card, "802E0000", unblock->data, unblock->len, &sw));
  g_bytes_unref (
      command (card, "80540100", g_bytes_get_data (point, NULL), g_bytes_get_size (point), &sw));
  check_card_info (card);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = NULL;
  g_autofree char *path = NULL;
  g_autoptr (TkeVirtualCard) card = NULL;
  g_autoptr (GError) error = NULL;

  fuzz_init ();
  init ();
  if (size < 1)
    return 0;
  if (data[0] & 1)
    {
      if ((text = seal_image (data + 1, size - 1)) == NULL)
        return 0;
      path = fuzz_write_file ("card.image", (const uint8_t *) text, strlen (text));
    }
  else
    path = fuzz_write_file ("card.image", data + 1, size - 1);
  card = tke_virtual_card_load (path, chip_key, &error);
  if (card == NULL)
    {
      if (error == NULL || error->domain != TKE_ERROR || error->message[0] == '\0')
        fuzz_fail ("a refused image without a TKE_ERROR message");
      return 0;
    }
  use_card (card);
  return 0;
}
