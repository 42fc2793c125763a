/* tke-card.c: provisioning of virtual smart cards, like the Smart Card Utility Program
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Works on card images offline (for setting cards up before they go into a
 * reader): every operation goes through the card's own APDUs
 * (data/doc/card-protocol.md), so the applet enforces the same rules as in
 * a reader.  PINs come from --pin-file (one a line, used in order) or from
 * the terminal without echo; never from the command line.
 */

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <openssl/crypto.h>

#include <winscard.h>
#include <reader.h>

#include "tke-virtual-card.h"

/* GET RESPONSE: no answer of card-protocol.md §4 comes near 4 096 bytes;
 * a card that goes on answering 61 xx is refused, not followed for ever
 * (16 rounds of the card's 256-byte pieces). */
#define MAX_ANSWER_SIZE 4096u
#define MAX_GET_RESPONSE_ROUNDS (MAX_ANSWER_SIZE / 256u)

/* A card: an image file (offline), or the card in a PC/SC reader. */
typedef struct
{
  TkeVirtualCard *image;
  SCARDCONTEXT context;
  SCARDHANDLE handle;
  DWORD verify_ioctl;
  guint reader;
  char *label;
} Card;

static void
card_free (Card *card)
{
  g_clear_object (&card->image);
  if (card->handle != 0)
    SCardDisconnect (card->handle, SCARD_RESET_CARD);
  if (card->context != 0)
    SCardReleaseContext (card->context);
  g_free (card->label);
  g_free (card);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Card, card_free)

static char *opt_chip_key;
static char *opt_pin_file;
static char *opt_description;
static char *opt_zone_description;
static char *opt_zone;
static char *opt_ca;
static char *opt_unit_root;
static gboolean opt_replace;
static gboolean opt_pin2;
static int opt_item = -1;
static int opt_reader;

static GPtrArray *pin_lines; /* TkeSecret, from --pin-file */
static guint pin_next;

/* ---- PINs ---- */

static gboolean
load_pin_file (GError **error)
{
  g_autofree char *data = NULL;
  gsize size;
  gsize start = 0;

  pin_lines = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_secret_unref);
  if (opt_pin_file == NULL)
    return TRUE;
  if (!g_file_get_contents (opt_pin_file, &data, &size, error))
    return FALSE;
  for (gsize i = 0; i <= size; i++)
    if (i == size || data[i] == '\n')
      {
        gsize end = i > start && data[i - 1] == '\r' ? i - 1 : i;

        if (end > start)
          g_ptr_array_add (pin_lines,
                           tke_secret_new_from_data ((guint8 *) data + start, end - start));
        start = i + 1;
      }
  OPENSSL_cleanse (data, size);
  return TRUE;
}

static TkeSecret *
read_terminal_pin (const char *prompt)
{
  struct termios old, quiet;
  char buffer[64] = "";
  gboolean tty = isatty (STDIN_FILENO);
  TkeSecret *pin;
  gsize n;

  if (tty)
    {
      g_printerr ("%s", prompt);
      tcgetattr (STDIN_FILENO, &old);
      quiet = old;
      quiet.c_lflag &= (tcflag_t) ~ECHO;
      tcsetattr (STDIN_FILENO, TCSANOW, &quiet);
    }
  if (fgets (buffer, sizeof buffer, stdin) == NULL)
    buffer[0] = '\0';
  if (tty)
    {
      tcsetattr (STDIN_FILENO, TCSANOW, &old);
      g_printerr ("\n");
    }
  n = strcspn (buffer, "\r\n");
  pin = tke_secret_new_from_data ((guint8 *) buffer, n);
  OPENSSL_cleanse (buffer, sizeof buffer);
  return pin;
}

static TkeSecret *
next_pin (const char *prompt, GError **error)
{
  if (opt_pin_file == NULL)
    return read_terminal_pin (prompt);
  if (pin_next >= pin_lines->len)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("The PIN file has too few lines (%s needs another one)."), prompt);
      return NULL;
    }
  return tke_secret_ref (g_ptr_array_index (pin_lines, pin_next++));
}

/* A new PIN: typed twice at a terminal. */
static TkeSecret *
new_pin (const char *prompt, GError **error)
{
  g_autoptr (TkeSecret) pin = next_pin (prompt, error);
  g_autoptr (TkeSecret) again = NULL;

  if (pin == NULL || opt_pin_file != NULL || !isatty (STDIN_FILENO))
    return g_steal_pointer (&pin);
  again = read_terminal_pin (_ ("Enter it again: "));
  if (!tke_secret_equal (pin, again))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT, _ ("The two PINs differ."));
      return NULL;
    }
  return g_steal_pointer (&pin);
}

/* ---- APDUs to a card image ---- */

static const char *
sw_message (guint sw)
{
  switch (sw)
    {
    case 0x6982:
      return _ ("the card's PIN has not been verified");
    case 0x6983:
      return _ ("the PIN is blocked");
    case 0x6984:
      return _ ("the cards belong to different zones");
    case 0x6985:
      return _ ("the card is not in a state that allows this (does the item already exist?)");
    case 0x6986:
      return _ ("this card type cannot do that");
    case 0x6A80:
      return _ ("the card refused the data");
    case 0x6A82:
      return _ ("no such key part on the card");
    case 0x6A84:
      return _ ("the card is full (85 key parts)");
    case 0x6A88:
      return _ ("the card has no signature key");
    case 0x6700:
      return _ ("wrong length (a PIN has 6 digits)");
    default:
      return _ ("the card answered with an error");
    }
}

static GBytes *
endless_answer (Card *card, GError **error)
{
  g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
               _ ("%s sends an answer that does not end (more than %u bytes or %u parts)."),
               card->label, MAX_ANSWER_SIZE, MAX_GET_RESPONSE_ROUNDS);
  return NULL;
}

/* Sends one command (chained if long) and collects the whole answer. */
static GBytes *
card_transmit (Card *card, const guint8 *apdu, gsize size)
{
  guint8 r[300];
  DWORD n = sizeof r;
  static const guint8 failed[] = { 0x6F, 0x00 };

  if (card->image != NULL)
    return tke_virtual_card_transmit (card->image, apdu, size);
  if (SCardTransmit (card->handle, SCARD_PCI_T1, apdu, (DWORD) size, NULL, r, &n) !=
          SCARD_S_SUCCESS ||
      n < 2)
    return g_bytes_new_static (failed, 2);
  return g_bytes_new (r, n);
}

static GBytes *
transmit (
    Card *card, guint8 ins, guint8 p1, guint8 p2, const guint8 *data, gsize size, GError **error)
{
  g_autoptr (GByteArray) answer = g_byte_array_new ();
  guint8 cla =
      (ins == 0xA4 || ins == 0x20 || ins == 0x24 || ins == 0x2C || ins == 0x2A || ins == 0x84)
          ? 0x00
          : 0x80;
  gsize offset = 0;
  guint sw;

  do
    {
      gsize piece = MIN (size - offset, 255);
      gboolean last = offset + piece == size;
      g_autoptr (GByteArray) apdu = g_byte_array_new ();
      g_autoptr (GBytes) r = NULL;
      guint8 header[5] = { last ? cla : cla | 0x10, ins, p1, p2, (guint8) piece };
      guint8 le = 0;
      const guint8 *rd;
      gsize rs;

      g_byte_array_append (apdu, header, piece > 0 ? 5 : 4);
      g_byte_array_append (apdu, data + offset, (guint) piece);
      if (last)
        g_byte_array_append (apdu, &le, 1);
      r = card_transmit (card, apdu->data, apdu->len);
      OPENSSL_cleanse (apdu->data, apdu->len);
      rd = g_bytes_get_data (r, &rs);
      sw = rd[rs - 2] << 8 | rd[rs - 1];
      offset += piece;
      if (!last && sw != 0x9000)
        break;
      if (last)
        {
          g_byte_array_append (answer, rd, (guint) rs - 2);
          for (guint round = 0; (sw >> 8) == 0x61; round++)
            {
              static const guint8 get_response[] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };
              g_autoptr (GBytes) more = NULL;

              if (round == MAX_GET_RESPONSE_ROUNDS || answer->len > MAX_ANSWER_SIZE)
                return endless_answer (card, error);
              more = card_transmit (card, get_response, 5);

              rd = g_bytes_get_data (more, &rs);
              g_byte_array_append (answer, rd, (guint) rs - 2);
              sw = rd[rs - 2] << 8 | rd[rs - 1];
            }
        }
    }
  while (offset < size);

  if (answer->len > MAX_ANSWER_SIZE)
    return endless_answer (card, error);
  if (sw != 0x9000)
    {
      if ((sw & 0xFFF0) == 0x63C0)
        g_set_error (error, TKE_ERROR, TKE_ERROR_PIN_INCORRECT,
                     _ ("Wrong PIN for %s: %u tries left."), card->label, sw & 0xF);
      else
        g_set_error (error, TKE_ERROR, sw == 0x6983 ? TKE_ERROR_PIN_BLOCKED : TKE_ERROR_FAILED,
                     _ ("%s: %s (SW %04X)."), card->label, sw_message (sw), sw);
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&answer));
}

static DWORD
verify_feature (SCARDHANDLE handle)
{
  guint8 buf[64];
  DWORD n = 0;

  if (SCardControl (handle, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, buf, sizeof buf, &n) !=
      SCARD_S_SUCCESS)
    return 0;
  for (DWORD i = 0; i + 6 <= n; i += 6)
    if (buf[i] == FEATURE_VERIFY_PIN_DIRECT)
      return (DWORD) buf[i + 2] << 24 | buf[i + 3] << 16 | buf[i + 4] << 8 | buf[i + 5];
  return 0;
}

/* Connects to the card in reader N (PCSCLITE_CSOCK_NAME names the readers' pcscd). */
static gboolean
connect_reader (Card *card, GError **error)
{
  g_autofree char *prefix = g_strdup_printf ("TKE Virtual PIN Pad Reader %u ", card->reader);
  g_autofree char *found = NULL;
  char *names = NULL;
  DWORD size = SCARD_AUTOALLOCATE;
  DWORD protocol = 0;

  if (SCardEstablishContext (SCARD_SCOPE_SYSTEM, NULL, NULL, &card->context) != SCARD_S_SUCCESS)
    {
      card->context = 0;
      g_set_error (error, TKE_ERROR, TKE_ERROR_NO_READER,
                   _ ("No PC/SC service: start tke-virtual-readers and set PCSCLITE_CSOCK_NAME."));
      return FALSE;
    }
  if (SCardListReaders (card->context, NULL, (LPSTR) &names, &size) == SCARD_S_SUCCESS)
    {
      for (char *n = names; *n != '\0'; n += strlen (n) + 1)
        if (g_str_has_prefix (n, prefix))
          found = g_strdup (n);
      SCardFreeMemory (card->context, names);
    }
  if (found == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_NO_READER, _ ("There is no reader %u."),
                   card->reader);
      return FALSE;
    }
  if (SCardConnect (card->context, found, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                    &card->handle, &protocol) != SCARD_S_SUCCESS)
    {
      card->handle = 0;
      g_set_error (error, TKE_ERROR, TKE_ERROR_NO_CARD, _ ("There is no card in reader %u."),
                   card->reader);
      return FALSE;
    }
  if ((card->verify_ioctl = verify_feature (card->handle)) == 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_NO_READER, _ ("Reader %u has no PIN pad."),
                   card->reader);
      return FALSE;
    }
  return TRUE;
}

static Card *
open_card (const char *path, TkeSecret *chip_key, GError **error)
{
  g_autoptr (Card) card = g_new0 (Card, 1);
  g_autoptr (GBytes) r = NULL;

  if (path == NULL)
    {
      card->reader = (guint) opt_reader;
      card->label = g_strdup_printf (_ ("the card in reader %u"), card->reader);
      if (!connect_reader (card, error))
        return NULL;
    }
  else
    {
      card->label = g_strdup (path);
      if ((card->image = tke_virtual_card_load (path, chip_key, error)) == NULL)
        return NULL;
    }
  if ((r = transmit (card, 0xA4, 0x04, 0x00, tke_virtual_card_aid, sizeof tke_virtual_card_aid,
                     error)) == NULL)
    return NULL;
  return g_steal_pointer (&card);
}

/* The offline stand-in for the PIN pad: the PIN goes into a VERIFY (or
 * CHANGE REFERENCE DATA) APDU that is wiped after use. */
/* The PIN pad: the reader builds the APDU with the digits typed on it. */
static gboolean
pad_pin (Card *card, guint8 ins, guint8 p1, guint8 p2, const char *prompt, GError **error)
{
  guint8 pvs[19 + 11] = { 30,   0x00, 0x82, 0x06, 0x00, 0x06, 0x06, 0x02, 0x00, 0x09,
                          0x04, 0x00, 0x00, 0x00, 0x00, 11,   0x00, 0x00, 0x00, 0x00,
                          ins,  p1,   p2,   0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
  guint8 r[16];
  DWORD n = 0;
  guint sw;

  g_print ("%s\n", prompt);
  if (SCardControl (card->handle, card->verify_ioctl, pvs, sizeof pvs, r, sizeof r, &n) !=
          SCARD_S_SUCCESS ||
      n != 2)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED,
                   _ ("The PIN entry on reader %u failed: was the card removed?"), card->reader);
      return FALSE;
    }
  sw = (guint) r[0] << 8 | r[1];
  if (sw == 0x9000)
    return TRUE;
  if (sw == 0x6400)
    g_set_error (error, TKE_ERROR, TKE_ERROR_PIN_TIMEOUT,
                 _ ("No PIN was entered on the PIN pad in time."));
  else if (sw == 0x6401)
    g_set_error (error, TKE_ERROR, TKE_ERROR_PIN_CANCELLED,
                 _ ("The PIN entry was cancelled on the PIN pad."));
  else if (sw == 0x6403)
    g_set_error (error, TKE_ERROR, TKE_ERROR_PIN_INCORRECT, _ ("A card PIN has 6 digits."));
  else if ((sw & 0xFFF0) == 0x63C0)
    g_set_error (error, TKE_ERROR, TKE_ERROR_PIN_INCORRECT, _ ("Wrong PIN for %s: %u tries left."),
                 card->label, sw & 0xF);
  else
    g_set_error (error, TKE_ERROR, sw == 0x6983 ? TKE_ERROR_PIN_BLOCKED : TKE_ERROR_FAILED,
                 _ ("%s: %s (SW %04X)."), card->label, sw_message (sw), sw);
  return FALSE;
}

static gboolean
send_pin (Card *card, guint8 ins, guint8 p1, guint8 p2, const TkeSecret *pin, GError **error)
{
  g_autoptr (GBytes) r =
      transmit (card, ins, p1, p2, tke_secret_get_data (pin), tke_secret_get_size (pin), error);
  return r != NULL;
}

static gboolean
verify (Card *card, guint8 p2, const char *prompt, GError **error)
{
  g_autoptr (TkeSecret) pin = NULL;

  if (card->reader != 0)
    return pad_pin (card, 0x20, 0x00, p2, _ ("Enter the PIN on the PIN pad of the reader."), error);
  pin = next_pin (prompt, error);
  return pin != NULL && send_pin (card, 0x20, 0x00, p2, pin, error);
}

static gboolean
verify_ca (Card *ca, GError **error)
{
  return verify (ca, 0x81, _ ("CA card PIN 1: "), error) &&
         verify (ca, 0x82, _ ("CA card PIN 2: "), error);
}

/* ---- Commands ---- */

static gboolean
cmd_create_blank (TkeSecret *chip_key, char **args, GError **error)
{
  g_autoptr (TkeVirtualCard) card = tke_virtual_card_create_blank (args[0], chip_key, error);

  if (card == NULL)
    return FALSE;
  g_print (_ ("Created blank card %s.\n"), args[0]);
  return TRUE;
}

static gboolean
cmd_create_ca (TkeSecret *chip_key, char **args, GError **error)
{
  g_autoptr (TkeSecret) pin1 = NULL;
  g_autoptr (TkeSecret) pin2 = NULL;
  g_autoptr (TkeVirtualCard) card = NULL;

  if (opt_zone_description == NULL || opt_description == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("create-ca needs --zone-description and --description."));
      return FALSE;
    }
  if ((pin1 = new_pin (_ ("New CA PIN 1 (6 digits): "), error)) == NULL ||
      (pin2 = new_pin (_ ("New CA PIN 2 (6 digits): "), error)) == NULL)
    return FALSE;
  card = tke_virtual_card_create_ca (args[0], chip_key, opt_zone_description, opt_description, pin1,
                                     pin2, error);
  if (card == NULL)
    return FALSE;
  g_print (_ ("Created CA card %s for zone “%s”.\n"), args[0], opt_zone_description);
  return TRUE;
}

static gboolean
cmd_create (TkeSecret *chip_key, char **args, GError **error)
{
  g_autoptr (Card) ca = NULL;
  g_autoptr (TkeVirtualCard) card = NULL;
  g_autoptr (TkeSecret) pin = NULL;
  g_autoptr (GByteArray) request = g_byte_array_new ();
  g_autoptr (GBytes) point = NULL;
  g_autoptr (GBytes) certificate = NULL;
  g_autoptr (GBytes) unit_root = NULL;

  if (opt_zone == NULL || opt_description == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("create needs --zone CA-CARD and --description."));
      return FALSE;
    }
  if ((ca = open_card (opt_zone, chip_key, error)) == NULL || !verify_ca (ca, error) ||
      (pin = new_pin (_ ("New card PIN (6 digits): "), error)) == NULL ||
      (card = tke_virtual_card_new_ep11 (args[0], chip_key, opt_description, pin, error)) == NULL)
    return FALSE;
  /* Without a unit root the card never exports a key part (an admin card). */
  if (opt_unit_root != NULL &&
      ((unit_root = tke_unit_root_load_file (opt_unit_root, error)) == NULL ||
       !tke_virtual_card_install_unit_root (card, unit_root, error)))
    return FALSE;
  point = tke_virtual_card_get_transport_point (card);
  g_byte_array_append (request, tke_virtual_card_get_serial (card), TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (request, g_bytes_get_data (point, NULL), (guint) g_bytes_get_size (point));
  if ((certificate = transmit (ca, 0x68, 0, 0, request->data, request->len, error)) == NULL ||
      !tke_virtual_card_install_certificate (card, g_bytes_get_data (certificate, NULL),
                                             g_bytes_get_size (certificate), error))
    return FALSE;
  g_print (_ ("Created card %s in the zone of %s.\n"), args[0], opt_zone);
  return TRUE;
}

static gboolean
print_ski (GBytes *point, GError **error)
{
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                                                  g_bytes_get_size (point), error);
  guint8 ski[TKE_SKI_SIZE];
  g_autofree char *hex = NULL;

  if (key == NULL || !tke_crypto_ski (key, ski, error))
    return FALSE;
  hex = tke_crypto_hex_encode (ski, sizeof ski);
  g_print (_ ("Signature key SKI: %s\n"), hex);
  return TRUE;
}

static gboolean
cmd_gen_sigkey (TkeSecret *chip_key, char **args, GError **error)
{
  g_autoptr (Card) card = open_card (args[0], chip_key, error);
  g_autoptr (GBytes) point = NULL;

  if (card == NULL || !verify (card, 0x81, _ ("Card PIN: "), error) ||
      (point = transmit (card, 0x46, opt_replace ? 1 : 0, 0, NULL, 0, error)) == NULL)
    return FALSE;
  return print_ski (point, error);
}

static gboolean
cmd_gen_keypart (TkeSecret *chip_key, char **args, GError **error)
{
  g_autoptr (Card) card = open_card (args[0], chip_key, error);
  g_autoptr (GBytes) r = NULL;
  g_autofree char *vp = NULL;
  const guint8 *d;

  if (opt_description == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("gen-keypart needs --description."));
      return FALSE;
    }
  if (card == NULL || !verify (card, 0x81, _ ("Card PIN: "), error) ||
      (r = transmit (card, 0x50, 0, 0, (const guint8 *) opt_description, strlen (opt_description),
                     error)) == NULL)
    return FALSE;
  d = g_bytes_get_data (r, NULL);
  vp = tke_crypto_hex_encode (d + 1, TKE_VP_SIZE);
  g_print (_ ("Key part %u: %s\nCheck value: %.32s\n             %s\n"), d[0], opt_description, vp,
           vp + 32);
  return TRUE;
}

static gboolean
list_parts (Card *card, GError **error)
{
  g_autoptr (GBytes) indexes = transmit (card, 0x52, 0, 0, NULL, 0, error);
  const guint8 *idx;
  gsize n;

  if (indexes == NULL)
    return FALSE;
  idx = g_bytes_get_data (indexes, &n);
  g_print (_ ("Key parts: %zu\n"), n);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GBytes) info = transmit (card, 0x52, idx[i], 0, NULL, 0, error);
      g_autofree char *vp = NULL;
      const guint8 *d;
      gsize size;

      if (info == NULL)
        return FALSE;
      d = g_bytes_get_data (info, &size);
      vp = tke_crypto_hex_encode (d + 1, TKE_VP_SIZE);
      g_print ("  %2u  %-32.*s  %s\n", d[0], (int) (size - 1 - TKE_VP_SIZE),
               (const char *) d + 1 + TKE_VP_SIZE, vp);
    }
  return TRUE;
}

static gboolean
cmd_info (TkeSecret *chip_key, char **args, GError **error)
{
  g_autoptr (Card) card = open_card (args[0], chip_key, error);
  g_autoptr (GBytes) info = NULL;
  g_autoptr (GBytes) point = NULL;
  g_autoptr (GError) no_key = NULL;
  const guint8 *d;
  gsize size;
  gboolean ca = FALSE;
  gboolean blank = FALSE;
  gboolean unit_root = FALSE;

  if (card == NULL || (info = transmit (card, 0xCA, 0, 0, NULL, 0, error)) == NULL)
    return FALSE;
  d = g_bytes_get_data (info, &size);
  for (gsize i = 0; i + 2 <= size && i + 2 + d[i + 1] <= size; i += 2 + d[i + 1])
    {
      const guint8 *v = d + i + 2;
      guint8 len = d[i + 1];
      g_autofree char *hex = tke_crypto_hex_encode (v, len);

      switch (d[i])
        {
        case 0x01:
          g_print (_ ("Serial:           %s\n"), hex);
          break;
        case 0x02:
          ca = v[0] == TKE_VIRTUAL_CARD_TYPE_CA;
          blank = v[0] == TKE_VIRTUAL_CARD_TYPE_BLANK;
          g_print (_ ("Type:             %s\n"), ca                                    ? "CA"
                                                 : v[0] == TKE_VIRTUAL_CARD_TYPE_BLANK ? "blank"
                                                                                       : "EP11");
          break;
        case 0x03:
          g_print (_ ("Zone:             %s\n"), hex);
          break;
        case 0x04:
          g_print (_ ("Zone description: %.*s\n"), len, v);
          break;
        case 0x05:
          g_print (_ ("Description:      %.*s\n"), len, v);
          break;
        case 0x06:
          if (len == 2)
            g_print (_ ("PIN tries left:   PIN 1: %u, PIN 2: %u\n"), v[0], v[1]);
          else
            g_print (_ ("PIN tries left:   %u%s\n"), v[0], v[0] == 0 ? _ (" (blocked)") : "");
          break;
        case 0x0B:
          unit_root = TRUE;
          g_print (_ ("Unit root:        %s\n"), hex);
          break;
        default:
          break;
        }
    }
  if (!ca && !unit_root)
    g_print (_ ("Unit root:        none (the card exports no key part)\n"));
  if (!ca && (point = transmit (card, 0x48, 0, 0, NULL, 0, &no_key)) != NULL)
    {
      if (!print_ski (point, error))
        return FALSE;
    }
  else if (!ca)
    g_print (_ ("Signature key:    none\n"));
  /* A blank card holds no key parts: LIST would be refused (69 86). */
  return ca || blank || list_parts (card, error);
}

static gboolean
cmd_list (TkeSecret *chip_key, char **args, GError **error)
{
  g_autoptr (Card) card = open_card (args[0], chip_key, error);

  return card != NULL && list_parts (card, error);
}

static gboolean
set_new_pin (Card *card, guint8 p2, GError **error)
{
  g_autoptr (TkeSecret) pin = NULL;

  if (card->reader != 0)
    return pad_pin (card, 0x24, 1, p2, _ ("Enter the new PIN on the PIN pad."), error) &&
           pad_pin (card, 0x24, 2, p2, _ ("Enter the new PIN again within 20 seconds."), error);
  pin = new_pin (_ ("New PIN (6 digits): "), error);
  return pin != NULL && send_pin (card, 0x24, 1, p2, pin, error) &&
         send_pin (card, 0x24, 2, p2, pin, error);
}

static gboolean
cmd_change_pin (TkeSecret *chip_key, char **args, GError **error)
{
  g_autoptr (Card) card = open_card (args[0], chip_key, error);
  guint8 p2 = opt_pin2 ? 0x82 : 0x81;

  if (card == NULL || !verify (card, p2, _ ("Current PIN: "), error) ||
      !set_new_pin (card, p2, error))
    return FALSE;
  g_print (_ ("PIN changed.\n"));
  return TRUE;
}

static gboolean
cmd_unblock (TkeSecret *chip_key, char **args, GError **error)
{
  g_autoptr (Card) card = open_card (args[0], chip_key, error);
  g_autoptr (Card) ca = NULL;
  g_autoptr (GBytes) challenge = NULL;
  g_autoptr (GBytes) grant = NULL;
  g_autoptr (GBytes) done = NULL;
  g_autoptr (GByteArray) request = g_byte_array_new ();

  if (opt_ca == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT, _ ("unblock needs --ca CA-CARD."));
      return FALSE;
    }
  if (card == NULL || (ca = open_card (opt_ca, chip_key, error)) == NULL ||
      !verify_ca (ca, error) || (challenge = transmit (card, 0x84, 0, 0, NULL, 0, error)) == NULL)
    return FALSE;
  g_byte_array_append (request, tke_virtual_card_get_serial (card->image),
                       TKE_VIRTUAL_CARD_SERIAL_SIZE);
  g_byte_array_append (request, g_bytes_get_data (challenge, NULL),
                       (guint) g_bytes_get_size (challenge));
  if ((grant = transmit (ca, 0x2E, 0, 0, request->data, request->len, error)) == NULL ||
      (done = transmit (card, 0x2C, 1, 0x81, g_bytes_get_data (grant, NULL),
                        g_bytes_get_size (grant), error)) == NULL ||
      !set_new_pin (card, 0x81, error))
    return FALSE;
  g_print (_ ("Card unblocked with a new PIN.\n"));
  return TRUE;
}

/* The CA card's backup onto a blank card: both CA PINs first, then card
 * to card, sealed (card-protocol.md §4.15). */
static gboolean
cmd_backup_ca (TkeSecret *chip_key, char **args, GError **error)
{
  g_autoptr (Card) blank = open_card (args[0], chip_key, error);
  g_autoptr (Card) ca = NULL;
  g_autoptr (GBytes) request = NULL;
  g_autoptr (GBytes) backup = NULL;
  g_autoptr (GBytes) done = NULL;

  if (opt_ca == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("backup-ca needs --ca CA-CARD."));
      return FALSE;
    }
  if (blank == NULL || (ca = open_card (opt_ca, chip_key, error)) == NULL ||
      !verify_ca (ca, error) || (request = transmit (blank, 0x70, 0, 0, NULL, 0, error)) == NULL ||
      (backup = transmit (ca, 0x72, 0, 0, g_bytes_get_data (request, NULL),
                          g_bytes_get_size (request), error)) == NULL ||
      (done = transmit (blank, 0x74, 0, 0, g_bytes_get_data (backup, NULL),
                        g_bytes_get_size (backup), error)) == NULL)
    return FALSE;
  g_print (_ ("The blank card is now a backup of the CA card, with the same PINs.\n"));
  return TRUE;
}

static gboolean
copy_item (Card *source, Card *target, GBytes *certificate, guint8 item, GError **error)
{
  g_autoptr (GBytes) sealed = transmit (source, 0x64, item, 0, g_bytes_get_data (certificate, NULL),
                                        g_bytes_get_size (certificate), error);
  g_autoptr (GBytes) done = NULL;

  if (sealed == NULL)
    return FALSE;
  done = transmit (target, 0x66, 0, 0, g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed),
                   error);
  return done != NULL;
}

static gboolean
cmd_copy (TkeSecret *chip_key, char **args, GError **error)
{
  g_autoptr (Card) source = open_card (args[0], chip_key, error);
  g_autoptr (Card) target = NULL;
  g_autoptr (GBytes) certificate = NULL;
  g_autoptr (GBytes) indexes = NULL;
  g_autoptr (GBytes) key = NULL;
  g_autoptr (GError) no_key = NULL;
  const guint8 *idx;
  gsize n = 0;
  guint copied = 0;

  if (source == NULL || (target = open_card (args[1], chip_key, error)) == NULL ||
      (certificate = transmit (target, 0x62, 0, 0, NULL, 0, error)) == NULL ||
      !verify (source, 0x81, _ ("Source card PIN: "), error) ||
      !verify (target, 0x81, _ ("Target card PIN: "), error))
    return FALSE;
  if (opt_item >= 0)
    {
      if (!copy_item (source, target, certificate, (guint8) opt_item, error))
        return FALSE;
      copied++;
    }
  else
    {
      if ((key = transmit (source, 0x48, 0, 0, NULL, 0, &no_key)) != NULL)
        {
          if (!copy_item (source, target, certificate, 0, error))
            return FALSE;
          copied++;
        }
      if ((indexes = transmit (source, 0x52, 0, 0, NULL, 0, error)) == NULL)
        return FALSE;
      idx = g_bytes_get_data (indexes, &n);
      for (gsize i = 0; i < n; i++, copied++)
        if (!copy_item (source, target, certificate, idx[i], error))
          return FALSE;
    }
  g_print (_ ("Copied %u items from %s to %s.\n"), copied, args[0], args[1]);
  return TRUE;
}

typedef struct
{
  const char *name;
  int n_args;
  gboolean reader; /* works on the card in a reader, with --reader N instead of IMAGE */
  const char *usage;
  gboolean (*run) (TkeSecret *chip_key, char **args, GError **error);
} Command;

static const Command commands[] = {
  { "create-blank", 1, FALSE, N_ ("create-blank IMAGE"), cmd_create_blank },
  { "create-ca", 1, FALSE, N_ ("create-ca --zone-description TEXT --description TEXT IMAGE"),
    cmd_create_ca },
  { "create", 1, FALSE, N_ ("create --zone CA-IMAGE --description TEXT [--unit-root FILE] IMAGE"),
    cmd_create },
  { "gen-sigkey", 1, TRUE, N_ ("gen-sigkey [--replace] IMAGE|--reader N"), cmd_gen_sigkey },
  { "gen-keypart", 1, TRUE, N_ ("gen-keypart --description TEXT IMAGE|--reader N"),
    cmd_gen_keypart },
  { "info", 1, TRUE, N_ ("info IMAGE|--reader N"), cmd_info },
  { "list", 1, TRUE, N_ ("list IMAGE|--reader N"), cmd_list },
  { "change-pin", 1, TRUE, N_ ("change-pin [--pin2] IMAGE|--reader N"), cmd_change_pin },
  { "unblock", 1, FALSE, N_ ("unblock --ca CA-IMAGE IMAGE"), cmd_unblock },
  { "backup-ca", 1, FALSE, N_ ("backup-ca --ca CA-IMAGE BLANK-IMAGE"), cmd_backup_ca },
  { "copy", 2, FALSE, N_ ("copy [--item N] SOURCE-IMAGE TARGET-IMAGE"), cmd_copy },
};

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) chip_key = NULL;
  g_autoptr (GString) summary =
      g_string_new (_ ("Commands (PINs from --pin-file or the terminal):\n"));
  const Command *command = NULL;
  const GOptionEntry entries[] = {
    { "chip-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_chip_key, N_ ("The card chip key file"),
      N_ ("FILE") },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_pin_file,
      N_ ("Read PINs from FILE, one a line, in the order asked"), N_ ("FILE") },
    { "description", 0, 0, G_OPTION_ARG_STRING, &opt_description,
      N_ ("Card or key part description"), N_ ("TEXT") },
    { "zone-description", 0, 0, G_OPTION_ARG_STRING, &opt_zone_description,
      N_ ("Zone description (create-ca)"), N_ ("TEXT") },
    { "zone", 0, 0, G_OPTION_ARG_FILENAME, &opt_zone, N_ ("The zone's CA card image (create)"),
      N_ ("CA-IMAGE") },
    { "unit-root", 0, 0, G_OPTION_ARG_FILENAME, &opt_unit_root,
      N_ ("The crypto units' root (PEM or hex) the card seals key parts to (create)"),
      N_ ("FILE") },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &opt_ca,
      N_ ("The zone's CA card image (unblock, backup-ca)"), N_ ("CA-IMAGE") },
    { "replace", 0, 0, G_OPTION_ARG_NONE, &opt_replace, N_ ("Replace an existing signature key"),
      NULL },
    { "pin2", 0, 0, G_OPTION_ARG_NONE, &opt_pin2, N_ ("Change a CA card's PIN 2"), NULL },
    { "reader", 0, 0, G_OPTION_ARG_INT, &opt_reader,
      N_ ("Use the card in reader N (1 or 2); its PIN is typed on the reader's PIN pad"),
      N_ ("N") },
    { "item", 0, 0, G_OPTION_ARG_INT, &opt_item,
      N_ ("Copy one item: 0 the signature key, 1–85 a key part"), N_ ("N") },
    { NULL },
  };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (summary, "  tke-card %s\n", _ (commands[i].usage));
  context = g_option_context_new (_ ("COMMAND ARGS — provision virtual smart cards"));
  g_option_context_set_description (context, summary->str);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("tke-card: %s\n", error->message);
      return 2;
    }
  for (gsize i = 0; argc >= 2 && i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      command = &commands[i];
  if (command == NULL || argc != 2 + command->n_args - (opt_reader > 0 ? 1 : 0) ||
      (opt_reader > 0 && !command->reader))
    {
      g_printerr ("%s", summary->str);
      return 2;
    }
  if (opt_chip_key == NULL)
    opt_chip_key = tke_virtual_card_default_chip_key_path ();
  if (!load_pin_file (&error) ||
      (opt_reader == 0 &&
       (chip_key = tke_virtual_card_load_chip_key (
            opt_chip_key, g_str_has_prefix (command->name, "create"), &error)) == NULL) ||
      !command->run (chip_key, argv + 2, &error))
    {
      g_printerr ("tke-card: %s\n", error->message);
      return 1;
    }
  return 0;
}
