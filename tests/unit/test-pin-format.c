/* test-pin-format.c: the PIN formatting of the virtual PIN-pad reader's firmware
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * ifd-pin-format.c runs inside pcscd on input from any PC/SC client: the
 * layouts real clients send, and random structures that must never make it
 * read or write out of bounds (ASan watches).
 */

#include <string.h>

#include <glib.h>

#include "ifd-pin-format.h"

static void
build (guint8 *out,
       gsize *size,
       guint8 format,
       guint8 block,
       guint8 length_format,
       guint8 min,
       guint8 max,
       const guint8 *apdu,
       gsize apdu_size)
{
  guint8 header[19] = { 5, 0, format, block, length_format,      max, min, 2, 0, 0x09, 0x04,
                        0, 0, 0,      0,     (guint8) apdu_size, 0,   0,   0 };

  memcpy (out, header, 19);
  memcpy (out + 19, apdu, apdu_size);
  *size = 19 + apdu_size;
}

static void
check (guint8 format,
       guint8 block,
       guint8 length_format,
       const guint8 *apdu,
       gsize apdu_size,
       const char *digits,
       unsigned want_sw,
       const char *want_hex)
{
  guint8 pvs[300];
  gsize size;
  IfdPinVerify v;
  guint8 out[IFD_PIN_APDU_MAX];
  gsize out_size = 0;
  unsigned sw;
  g_autoptr (GString) hex = g_string_new (NULL);

  build (pvs, &size, format, block, length_format, 4, 8, apdu, apdu_size);
  g_assert_cmpint (ifd_pin_verify_parse (pvs, size, &v), ==, 0);
  sw = ifd_pin_format (&v, digits, strlen (digits), out, &out_size);
  g_assert_cmphex (sw, ==, want_sw);
  if (want_hex == NULL)
    return;
  for (gsize i = 0; i < out_size; i++)
    g_string_append_printf (hex, "%02X", out[i]);
  g_assert_cmpstr (hex->str, ==, want_hex);
}

static void
test_layouts (void)
{
  static const guint8 fixed[] = {
    0x00, 0x20, 0x00, 0x81, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF
  };
  static const guint8 opensc[] = { 0x00, 0x20, 0x00, 0x81, 0x00 };
  static const guint8 case1[] = { 0x00, 0x20, 0x00, 0x81 };
  static const guint8 bcd8[] = { 0x00, 0x20, 0x00, 0x81, 0x08, 0xFF, 0xFF,
                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
  static const guint8 glp[] = { 0x00, 0x20, 0x00, 0x81, 0x08, 0x20, 0xFF,
                                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

  /* The structure card-protocol.md recommends: ASCII, 6-byte block. */
  check (0x82, 0x06, 0x00, fixed, sizeof fixed, "123456", 0, "0020008106313233343536");
  /* OpenSC: ASCII appended, Lc fixed by the reader. */
  check (0x82, 0x00, 0x00, opensc, sizeof opensc, "1234", 0, "002000810431323334");
  check (0x82, 0x00, 0x00, case1, sizeof case1, "123456", 0, "0020008106313233343536");
  /* BCD, right-justified in an 8-byte block. */
  check (0x85, 0x08, 0x00, bcd8, sizeof bcd8, "12345", 0, "0020008108FFFFFFFFFF12345F");
  /* GLP (ISO 9564 format 2): BCD at bit 8, a 4-bit length at bit 4. */
  check (0x41, 0x48, 0x04, glp, sizeof glp, "1234", 0, "0020008108241234FFFFFFFFFF");
  /* Binary digits. */
  check (0x80, 0x00, 0x00, opensc, sizeof opensc, "4321", 0, "002000810404030201");
  /* Lengths outside min/max (4–8 here, and the reader's 4–8). */
  check (0x82, 0x06, 0x00, fixed, sizeof fixed, "123", 0x6403, NULL);
  check (0x82, 0x06, 0x00, fixed, sizeof fixed, "123456789", 0x6403, NULL);
  /* A PIN that does not fit its block, a bit position off a byte, a bad encoding. */
  check (0x82, 0x04, 0x00, fixed, sizeof fixed, "123456", 0x6B80, NULL);
  check (0x0A, 0x06, 0x00, fixed, sizeof fixed, "123456", 0x6B80, NULL);
  check (0x83, 0x06, 0x00, fixed, sizeof fixed, "123456", 0x6B80, NULL);
}

static void
test_malformed (void)
{
  guint8 pvs[40];
  IfdPinVerify v;
  gsize size;
  static const guint8 apdu[] = { 0x00, 0x20, 0x00, 0x81, 0x00 };

  build (pvs, &size, 0x82, 0, 0, 4, 8, apdu, sizeof apdu);
  g_assert_cmpint (ifd_pin_verify_parse (pvs, size - 1, &v), ==, -1); /* ulDataLength too big */
  g_assert_cmpint (ifd_pin_verify_parse (pvs, 18, &v), ==, -1);
  g_assert_cmpint (ifd_pin_verify_parse (NULL, 0, &v), ==, -1);
  pvs[15] = 3; /* a template shorter than a header */
  g_assert_cmpint (ifd_pin_verify_parse (pvs, 22, &v), ==, -1);
}

static void
test_random_structures (void)
{
  GRand *rand = g_rand_new_with_seed (4);

  for (int round = 0; round < 200000; round++)
    {
      gsize size = (gsize) g_rand_int_range (rand, 0, 290);
      guint8 *pvs = g_malloc (size + 1);
      IfdPinVerify v;
      guint8 out[IFD_PIN_APDU_MAX];
      gsize out_size = 0;
      char digits[9] = "12345678";

      for (gsize i = 0; i < size; i++)
        pvs[i] = (guint8) g_rand_int (rand);
      if (size >= 19 && g_rand_boolean (rand))
        {
          pvs[15] = (guint8) (size - 19);
          pvs[16] = pvs[17] = pvs[18] = 0;
        }
      if (ifd_pin_verify_parse (pvs, size, &v) == 0 &&
          ifd_pin_format (&v, digits, (gsize) g_rand_int_range (rand, 0, 9), out, &out_size) == 0)
        g_assert_cmpuint (out_size, <=, IFD_PIN_APDU_MAX);
      g_free (pvs);
    }
  g_rand_free (rand);
}

/* The firmware's policy: the keypad serves VERIFY and CHANGE REFERENCE
 * DATA of the applet's PINs, nothing else (card-protocol.md §1.3). */
static gboolean
allowed (guint8 cla, guint8 ins, guint8 p1, guint8 p2)
{
  const guint8 apdu[] = { cla, ins, p1, p2, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
  guint8 pvs[300];
  gsize size;
  IfdPinVerify v;

  build (pvs, &size, 0x82, 0x06, 0x00, 6, 6, apdu, sizeof apdu);
  g_assert_cmpint (ifd_pin_verify_parse (pvs, size, &v), ==, 0);
  return ifd_pin_template_allowed (&v) != 0;
}

static void
test_template_policy (void)
{
  g_assert_true (allowed (0x00, 0x20, 0x00, 0x81));
  g_assert_true (allowed (0x00, 0x20, 0x00, 0x82));
  g_assert_true (allowed (0x00, 0x24, 0x01, 0x81));
  g_assert_true (allowed (0x00, 0x24, 0x02, 0x82));

  g_assert_false (allowed (0x80, 0x50, 0x00, 0x00)); /* GENERATE KEY PART */
  g_assert_false (allowed (0x00, 0x2A, 0x9E, 0x9A)); /* SIGN */
  g_assert_false (allowed (0x80, 0x54, 0x01, 0x00)); /* EXPORT KEY PART */
  g_assert_false (allowed (0x80, 0x64, 0x01, 0x00)); /* EXPORT FOR COPY */
  g_assert_false (allowed (0x00, 0xA4, 0x04, 0x00)); /* SELECT */
  g_assert_false (allowed (0x80, 0x20, 0x00, 0x81)); /* proprietary class */
  g_assert_false (allowed (0x10, 0x20, 0x00, 0x81)); /* chained */
  g_assert_false (allowed (0x0C, 0x20, 0x00, 0x81)); /* secure messaging */
  g_assert_false (allowed (0x00, 0x20, 0x00, 0x01)); /* another PIN reference */
  g_assert_false (allowed (0x00, 0x20, 0x00, 0x00));
  g_assert_false (allowed (0x00, 0x20, 0x01, 0x81));
  g_assert_false (allowed (0x00, 0x24, 0x00, 0x81));
  g_assert_false (allowed (0x00, 0x24, 0x03, 0x81));
  g_assert_false (allowed (0x00, 0x2C, 0x01, 0x81)); /* RESET RETRY COUNTER */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pin-format/layouts", test_layouts);
  g_test_add_func ("/pin-format/malformed", test_malformed);
  g_test_add_func ("/pin-format/random", test_random_structures);
  g_test_add_func ("/pin-format/template-policy", test_template_policy);
  return g_test_run ();
}
