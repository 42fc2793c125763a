/* test-pcsc.c: the pure parts of libtke's smart card layer (src/libtke/tke-pcsc.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The reader's feature list (PC/SC part 10), the PIN_VERIFY_STRUCTURE we
 * send, and every status word and PC/SC code a PIN-pad reader or the card
 * can give, with the error a person sees.
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <winscard.h>

#include "tke-error.h"
#include "tke-pcsc-private.h"

static void
test_features_virtual_reader (void)
{
  /* What the virtual readers answer (card-protocol.md §1.1). */
  static const guint8 tlv[] = { 0x06, 4,    0x42, 0x33, 0x00, 0x06, 0x0A, 4,    0x42,
                                0x33, 0x00, 0x0A, 0x12, 4,    0x42, 0x33, 0x00, 0x12 };
  TkePcscFeatures f;
  g_autoptr (GError) error = NULL;

  g_assert_true (_tke_pcsc_parse_features (tlv, sizeof tlv, &f, &error));
  g_assert_no_error (error);
  g_assert_cmphex (f.verify_pin_direct, ==, 0x42330006);
  g_assert_cmphex (f.modify_pin_direct, ==, 0);
  g_assert_cmphex (f.ifd_pin_properties, ==, 0x4233000A);
  g_assert_cmphex (f.get_tlv_properties, ==, 0x42330012);
}

static void
test_features_big_endian_and_unknown (void)
{
  /* libccid's SPR532 with the escape feature (0x13) and MODIFY; the IOCTL
   * is big-endian whatever the host's byte order. */
  static const guint8 tlv[] = { 0x13, 4,    0x42, 0x33, 0x00, 0x13, 0x07, 4,    0x42,
                                0x33, 0x00, 0x07, 0x06, 4,    0x12, 0x34, 0x56, 0x78 };
  TkePcscFeatures f;

  g_assert_true (_tke_pcsc_parse_features (tlv, sizeof tlv, &f, NULL));
  g_assert_cmphex (f.verify_pin_direct, ==, 0x12345678);
  g_assert_cmphex (f.modify_pin_direct, ==, 0x42330007);
  g_assert_cmphex (f.ifd_pin_properties, ==, 0);
}

static void
test_features_empty (void)
{
  TkePcscFeatures f;

  /* A reader without a PIN pad: no features, no error. */
  g_assert_true (_tke_pcsc_parse_features (NULL, 0, &f, NULL));
  g_assert_cmphex (f.verify_pin_direct, ==, 0);
}

static void
test_features_malformed (void)
{
  static const guint8 short_tlv[] = { 0x06, 4, 0x42, 0x33, 0x00 };
  static const guint8 bad_length[] = { 0x06, 2, 0x42, 0x33, 0x00, 0x06 };
  TkePcscFeatures f;
  g_autoptr (GError) error = NULL;

  g_assert_false (_tke_pcsc_parse_features (short_tlv, sizeof short_tlv, &f, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_false (_tke_pcsc_parse_features (bad_length, sizeof bad_length, &f, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_assert_cmphex (f.verify_pin_direct, ==, 0);
}

static void
test_verify_structure (void)
{
  /* card-protocol.md §1.2, byte for byte. */
  static const guint8 expected[TKE_PCSC_VERIFY_STRUCTURE_SIZE] = {
    0x1E, 0x00, 0x82, 0x06, 0x00, 0x06, 0x06, 0x02, 0x00, 0x09, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x0B, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x81, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
  };
  guint8 out[TKE_PCSC_VERIFY_STRUCTURE_SIZE];

  memset (out, 0xAA, sizeof out);
  _tke_pcsc_build_verify_structure (30, 0x20, 0x00, 0x81, out);
  g_assert_cmpmem (out, sizeof out, expected, sizeof expected);
}

static void
test_change_pin_structure (void)
{
  guint8 out[TKE_PCSC_VERIFY_STRUCTURE_SIZE];
  guint32 length;

  _tke_pcsc_build_verify_structure (5, 0x24, 0x02, 0x81, out);
  g_assert_cmpuint (out[0], ==, 5);
  /* ulDataLength is little-endian and covers the template exactly. */
  length = (guint32) out[15] | (guint32) out[16] << 8 | (guint32) out[17] << 16 |
           (guint32) out[18] << 24;
  g_assert_cmpuint (19 + length, ==, sizeof out);
  g_assert_cmphex (out[19], ==, 0x00);
  g_assert_cmphex (out[20], ==, 0x24);
  g_assert_cmphex (out[21], ==, 0x02);
  g_assert_cmphex (out[22], ==, 0x81);
  g_assert_cmphex (out[23], ==, 0x06);
}

static void
test_card_info (void)
{
  /* An EP11 card with a signature key, an unknown tag 0x7F in the middle
   * (later protocol versions may add some) and empty key part list. */
  static const guint8 tlv[] = {
    0x01, 8,    0x9F, 0x2C, 0x4A, 0x0B, 0x11, 0xD3, 0xE8, 0x70, 0x02, 1,    0x02, 0x03, 8,
    0x5A, 0x1B, 0x3C, 0x4D, 0x5E, 0x6F, 0x70, 0x81, 0x04, 4,    'Z',  'o',  'n',  'e',  0x7F,
    3,    1,    2,    3,    0x05, 7,    'A',  'd',  'm',  'i',  'n',  ' ',  '1',  0x06, 1,
    2,    0x07, 1,    3,    0x08, 1,    0x03, 0x09, 0,    0x0A, 1,    0x55,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkePcscCardInfo) info = _tke_pcsc_parse_card_info (tlv, sizeof tlv, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (info->serial, ==, "9f2c4a0b11d3e870");
  g_assert_cmpint (info->card_type, ==, TKE_CARD_TYPE_EP11);
  g_assert_cmpstr (info->zone, ==, "5a1b3c4d5e6f7081");
  g_assert_cmpstr (info->zone_description, ==, "Zone");
  g_assert_cmpstr (info->description, ==, "Admin 1");
  g_assert_cmpuint (info->pin_tries_left, ==, 2);
  g_assert_true (info->has_signature_key);
}

static void
test_card_info_ca_and_bad_text (void)
{
  /* A CA card: two tries counters; a description that is not UTF-8. */
  static const guint8 tlv[] = {
    0x01, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0x02, 1, 0x01, 0x05, 2, 0xC3, 0x28, 0x06, 2, 5, 4,
  };
  g_autoptr (TkePcscCardInfo) info = _tke_pcsc_parse_card_info (tlv, sizeof tlv, NULL);

  g_assert_nonnull (info);
  g_assert_cmpint (info->card_type, ==, TKE_CARD_TYPE_CA);
  g_assert_cmpstr (info->description, ==, "?");
  /* The weaker PIN counts: a CA card needs both, and either blocked
   * blocks the card for good. */
  g_assert_cmpuint (info->pin_tries_left, ==, 4);
  g_assert_false (info->has_signature_key);
}

static void
test_card_info_malformed (void)
{
  static const guint8 truncated[] = { 0x01, 8, 1, 2, 3 };
  static const guint8 no_serial[] = { 0x02, 1, 0x02 };
  static const guint8 bad_type[] = { 0x01, 1, 1, 0x02, 1, 0x09 };
  /* Issue 19: each text tag twice (the first values leaked before). */
  static const guint8 twice[] = { 0x01, 1, 1,   0x02, 1, 0x02, 0x03, 1, 9,
                                  0x04, 1, 'a', 0x05, 1, 'b',  0x01, 1, 2,
                                  0x03, 1, 8,   0x04, 1, 'c',  0x05, 1, 'd' };
  static const guint8 type_twice[] = { 0x01, 1, 1, 0x02, 1, 0x02, 0x02, 1, 0x01 };
  const struct
  {
    const guint8 *data;
    gsize size;
  } cases[] = {
    { truncated, sizeof truncated }, { no_serial, sizeof no_serial },
    { bad_type, sizeof bad_type },   { truncated, 1 },
    { twice, sizeof twice },         { type_twice, sizeof type_twice },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_null (_tke_pcsc_parse_card_info (cases[i].data, cases[i].size, &error));
      g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
    }
}

typedef struct
{
  guint sw;
  GQuark domain; /* 0: success */
  int code;
  const char *message_part;
} SwCase;

/* Every SW of research §4.1 and card-protocol.md §1.2 after a PIN entry. */
static void
test_pin_status_words (void)
{
  const SwCase cases[] = {
    { 0x9000, 0, 0, NULL },
    { 0x63C2, TKE_ERROR, TKE_ERROR_PIN_INCORRECT, "Wrong PIN: 2 tries left" },
    { 0x63C1, TKE_ERROR, TKE_ERROR_PIN_INCORRECT, "Wrong PIN: 1 try left" },
    { 0x63C9, TKE_ERROR, TKE_ERROR_PIN_INCORRECT, "Wrong PIN: 9 tries left" },
    { 0x63C0, TKE_ERROR, TKE_ERROR_PIN_BLOCKED, "blocked" },
    { 0x6983, TKE_ERROR, TKE_ERROR_PIN_BLOCKED, "blocked" },
    { 0x6984, TKE_ERROR, TKE_ERROR_PIN_BLOCKED, "cannot be used" },
    { 0x6400, TKE_ERROR, TKE_ERROR_PIN_TIMEOUT, "PIN pad of reader 2 in time" },
    { 0x6401, TKE_ERROR, TKE_ERROR_PIN_CANCELLED, "cancelled on the PIN pad of reader 2" },
    { 0x6402, TKE_ERROR, TKE_ERROR_PIN_INCORRECT, "differ" },
    { 0x6403, TKE_ERROR, TKE_ERROR_PIN_INCORRECT, "6 digits" },
    { 0x6700, TKE_ERROR, TKE_ERROR_PIN_INCORRECT, "6 digits" },
    { 0x6B80, TKE_ERROR, TKE_ERROR_NO_READER, "PIN pad of reader 2" },
    { 0x6A80, TKE_ERROR, TKE_ERROR_PIN_INCORRECT, "differ" },
    { 0x6982, TKE_ERROR, TKE_ERROR_FAILED, "PIN verified first" },
    { 0x6A86, TKE_ERROR, TKE_ERROR_FAILED, "status 6A86" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = _tke_pcsc_check_pin_status (cases[i].sw, 2, &error);

      g_test_message ("SW %04X", cases[i].sw);
      if (cases[i].domain == 0)
        {
          g_assert_true (ok);
          g_assert_no_error (error);
          continue;
        }
      g_assert_false (ok);
      g_assert_error (error, cases[i].domain, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].message_part));
    }
}

/* Every SW of card-protocol.md §3 after any other command. */
static void
test_command_status_words (void)
{
  const SwCase cases[] = {
    { 0x9000, 0, 0, NULL },
    { 0x6700, TKE_ERROR, TKE_ERROR_INVALID_DATA, "data" },
    { 0x6882, TKE_ERROR, TKE_ERROR_FAILED, "6882" },
    { 0x6883, TKE_ERROR, TKE_ERROR_FAILED, "6883" },
    { 0x6982, TKE_ERROR, TKE_ERROR_FAILED, "PIN" },
    { 0x6983, TKE_ERROR, TKE_ERROR_PIN_BLOCKED, "blocked" },
    { 0x6984, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT, "another zone" },
    { 0x6985, TKE_ERROR, TKE_ERROR_FAILED, "state" },
    { 0x6986, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT, "kind of card" },
    { 0x6A80, TKE_ERROR, TKE_ERROR_INVALID_DATA, "data" },
    { 0x6A82, TKE_ERROR, TKE_ERROR_NOT_FOUND, "item" },
    { 0x6A84, TKE_ERROR, TKE_ERROR_FAILED, "full" },
    { 0x6A86, TKE_ERROR, TKE_ERROR_FAILED, "6A86" },
    { 0x6A88, TKE_ERROR, TKE_ERROR_NOT_FOUND, "signature key" },
    { 0x6D00, TKE_ERROR, TKE_ERROR_FAILED, "6D00" },
    { 0x6E00, TKE_ERROR, TKE_ERROR_FAILED, "6E00" },
    { 0x6F00, TKE_ERROR, TKE_ERROR_IO, "Nothing was changed" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = _tke_pcsc_check_status (cases[i].sw, &error);

      g_test_message ("SW %04X", cases[i].sw);
      if (cases[i].domain == 0)
        {
          g_assert_true (ok);
          continue;
        }
      g_assert_false (ok);
      g_assert_error (error, cases[i].domain, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].message_part));
    }
}

typedef struct
{
  LONG rv;
  int code; /* in TKE_ERROR, or -1 for G_IO_ERROR_CANCELLED */
  const char *message_part;
} RvCase;

static void
test_pcsc_errors (void)
{
  const RvCase cases[] = {
    { SCARD_W_REMOVED_CARD, TKE_ERROR_CARD_REMOVED, "removed from reader 1" },
    { SCARD_E_NO_SMARTCARD, TKE_ERROR_CARD_REMOVED, "removed from reader 1" },
    { SCARD_W_RESET_CARD, TKE_ERROR_CARD_REMOVED, "reset" },
    { SCARD_E_TIMEOUT, TKE_ERROR_NO_CARD, "no card in reader 1" },
    { SCARD_E_READER_UNAVAILABLE, TKE_ERROR_NO_READER, "Reader 1 is not connected" },
    { SCARD_E_UNKNOWN_READER, TKE_ERROR_NO_READER, "Reader 1 is not connected" },
    { SCARD_E_NO_SERVICE, TKE_ERROR_NO_READER, "pcscd" },
    { SCARD_E_SERVICE_STOPPED, TKE_ERROR_NO_READER, "pcscd" },
    { SCARD_F_COMM_ERROR, TKE_ERROR_NO_READER, "pcscd" },
    { SCARD_E_NO_READERS_AVAILABLE, TKE_ERROR_NO_READER, "pcscd" },
    { SCARD_E_UNSUPPORTED_FEATURE, TKE_ERROR_NO_READER, "no PIN pad" },
    { SCARD_E_SHARING_VIOLATION, TKE_ERROR_FAILED, "Another program" },
    { SCARD_E_NOT_TRANSACTED, TKE_ERROR_FAILED, "could not complete" },
    { SCARD_E_INVALID_PARAMETER, TKE_ERROR_FAILED, "Smart card error on reader 1" },
    { SCARD_E_CANCELLED, -1, "cancelled" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("rv %lX", (unsigned long) cases[i].rv);
      _tke_pcsc_set_error (cases[i].rv, 1, &error);
      if (cases[i].code < 0)
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      else
        g_assert_error (error, TKE_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].message_part));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pcsc/features/virtual-reader", test_features_virtual_reader);
  g_test_add_func ("/pcsc/features/big-endian-unknown", test_features_big_endian_and_unknown);
  g_test_add_func ("/pcsc/features/empty", test_features_empty);
  g_test_add_func ("/pcsc/features/malformed", test_features_malformed);
  g_test_add_func ("/pcsc/verify-structure", test_verify_structure);
  g_test_add_func ("/pcsc/change-pin-structure", test_change_pin_structure);
  g_test_add_func ("/pcsc/status-words/pin", test_pin_status_words);
  g_test_add_func ("/pcsc/status-words/command", test_command_status_words);
  g_test_add_func ("/pcsc/errors", test_pcsc_errors);
  g_test_add_func ("/pcsc/card-info/ep11", test_card_info);
  g_test_add_func ("/pcsc/card-info/ca-bad-text", test_card_info_ca_and_bad_text);
  g_test_add_func ("/pcsc/card-info/malformed", test_card_info_malformed);
  return g_test_run ();
}
