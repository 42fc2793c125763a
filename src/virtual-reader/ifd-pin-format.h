/* ifd-pin-format.h: formatting a PIN into an APDU, as PIN-pad reader firmware does
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * No GLib: this runs inside pcscd.
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

#define IFD_PIN_VERIFY_HEADER_SIZE 19
#define IFD_PIN_APDU_MAX 260

typedef struct
{
  uint8_t timer_out;
  uint8_t timer_out2;
  uint8_t format;        /* bmFormatString */
  uint8_t block;         /* bmPINBlockString */
  uint8_t length_format; /* bmPINLengthFormat */
  uint8_t min_digits;
  uint8_t max_digits;
  uint8_t validation;
  const uint8_t *apdu; /* the template */
  size_t apdu_size;
} IfdPinVerify;

/* Parses a PIN_VERIFY_STRUCTURE.  Returns 0, or -1 when it is malformed
 * (a length that does not add up): the reader refuses it. */
int ifd_pin_verify_parse (const uint8_t *data, size_t size, IfdPinVerify *out);

/* The reader's firmware policy, as a CCID class 2 reader's: its keypad
 * serves only VERIFY (INS 20, P1 00) and CHANGE REFERENCE DATA (INS 24,
 * P1 01 or 02) with CLA 00 and one of the applet's PIN references (P2 81
 * or 82).  Returns 1 if the template is one of them, else 0: the reader
 * refuses it before the keypad lights up, so that no PC/SC client can have
 * a PIN typed into another command (card-protocol.md §1.3). */
int ifd_pin_template_allowed (const IfdPinVerify *verify);

/* Builds the APDU with @digits (ASCII '0'–'9') in it.  Returns 0 and the
 * APDU in @out (at least IFD_PIN_APDU_MAX bytes), or the status word the
 * reader answers: 0x6403 for a PIN length outside min/max, 0x6B80 for a
 * layout it cannot format. */
unsigned ifd_pin_format (const IfdPinVerify *verify,
                         const char *digits,
                         size_t n_digits,
                         uint8_t *out,
                         size_t *out_size);
