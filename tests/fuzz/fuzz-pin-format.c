/* fuzz-pin-format.c: the PIN-pad reader's PIN_VERIFY_STRUCTURE and formatting
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * ifd-pin-format.c runs inside pcscd and takes its structure from any
 * PC/SC client.  Input: one byte of PIN length, that many PIN characters,
 * the rest the structure.  Oracles: the APDU fits IFD_PIN_APDU_MAX (the
 * output buffer is exactly that big, so AddressSanitizer sees any byte
 * beyond), its header is the template's, Lc is its data size; a refusal is
 * one of the two documented status words; a PIN that is not 4–8 digits is
 * never formatted.
 */

#include <string.h>

#include "fuzz-common.h"
#include "ifd-pin-format.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  IfdPinVerify verify;
  g_autofree uint8_t *out = NULL;
  size_t n_digits;
  size_t out_size = 0;
  unsigned sw;
  gboolean digits_ok = TRUE;

  fuzz_init ();
  if (size < 1 || size - 1 < data[0])
    return 0;
  n_digits = data[0];
  if (ifd_pin_verify_parse (data + 1 + n_digits, size - 1 - n_digits, &verify) != 0)
    return 0;
  if (verify.apdu_size < 4 || verify.apdu_size > IFD_PIN_APDU_MAX ||
      verify.apdu != data + 1 + n_digits + IFD_PIN_VERIFY_HEADER_SIZE)
    fuzz_fail ("a parsed structure with a template of %zu bytes", verify.apdu_size);

  out = g_malloc (IFD_PIN_APDU_MAX);
  sw = ifd_pin_format (&verify, (const char *) data + 1, n_digits, out, &out_size);
  for (size_t i = 0; i < n_digits; i++)
    digits_ok = digits_ok && data[1 + i] >= '0' && data[1 + i] <= '9';
  if (sw != 0)
    {
      if (sw != 0x6403 && sw != 0x6B80)
        fuzz_fail ("status word %04X", sw);
      return 0;
    }
  if (!digits_ok || n_digits < 4 || n_digits > 8)
    fuzz_fail ("a PIN of %zu characters (digits: %d) was formatted", n_digits, digits_ok);
  if (out_size < 5 || out_size > IFD_PIN_APDU_MAX || out[4] != out_size - 5)
    fuzz_fail ("an APDU of %zu bytes with Lc %u", out_size, out[4]);
  if (memcmp (out, verify.apdu, 4) != 0)
    fuzz_fail ("the APDU's header is not the template's");
  return 0;
}
