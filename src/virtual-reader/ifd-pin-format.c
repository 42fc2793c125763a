/* ifd-pin-format.c: formatting a PIN into an APDU, as PIN-pad reader firmware does
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The rules are those of the CCID specification's PIN_VERIFY_STRUCTURE as
 * libccid readers apply them.  Every length comes from an untrusted client
 * and is checked before it is used.
 */

#include "ifd-pin-format.h"

#include <string.h>

/* The PIN lengths this reader's pad accepts (GET_TLV_PROPERTIES says so). */
#define READER_MIN_DIGITS 4
#define READER_MAX_DIGITS 8

/* The only APDUs the keypad serves (card-protocol.md §1.3, §4.2, §4.4). */
#define PIN_CLA 0x00
#define PIN_INS_VERIFY 0x20
#define PIN_INS_CHANGE_REFERENCE_DATA 0x24
#define PIN_REFERENCE_1 0x81 /* an EP11 card's PIN, a CA card's PIN 1 */
#define PIN_REFERENCE_2 0x82 /* a CA card's PIN 2 */

static uint32_t
read_le32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint32_t
read_be32 (const uint8_t *p)
{
  return (uint32_t) p[3] | (uint32_t) p[2] << 8 | (uint32_t) p[1] << 16 | (uint32_t) p[0] << 24;
}

int
ifd_pin_verify_parse (const uint8_t *data, size_t size, IfdPinVerify *out)
{
  size_t apdu_size;
  int big_endian = 0;

  if (data == NULL || size < IFD_PIN_VERIFY_HEADER_SIZE)
    return -1;
  apdu_size = size - IFD_PIN_VERIFY_HEADER_SIZE;
  /* libccid accepts a big-endian structure too and detects it here. */
  if (read_le32 (data + 15) != apdu_size)
    {
      if (read_be32 (data + 15) != apdu_size)
        return -1;
      big_endian = 1;
    }
  if (apdu_size < 4 || apdu_size > IFD_PIN_APDU_MAX)
    return -1;

  memset (out, 0, sizeof *out);
  out->timer_out = data[0];
  out->timer_out2 = data[1];
  out->format = data[2];
  out->block = data[3];
  out->length_format = data[4];
  /* wPINMaxExtraDigit = min << 8 | max */
  out->max_digits = big_endian ? data[6] : data[5];
  out->min_digits = big_endian ? data[5] : data[6];
  out->validation = data[7];
  out->apdu = data + IFD_PIN_VERIFY_HEADER_SIZE;
  out->apdu_size = apdu_size;
  return 0;
}

int
ifd_pin_template_allowed (const IfdPinVerify *verify)
{
  const uint8_t *t = verify->apdu;

  if (t == NULL || verify->apdu_size < 4 || t[0] != PIN_CLA)
    return 0;
  if (t[3] != PIN_REFERENCE_1 && t[3] != PIN_REFERENCE_2)
    return 0;
  if (t[1] == PIN_INS_VERIFY)
    return t[2] == 0x00;
  if (t[1] == PIN_INS_CHANGE_REFERENCE_DATA)
    return t[2] == 0x01 || t[2] == 0x02;
  return 0;
}

/* Writes the low @bits bits of @value at bit @position (MSB first) of @buf. */
static void
write_bits (uint8_t *buf, size_t position, unsigned bits, unsigned value)
{
  for (unsigned i = 0; i < bits; i++)
    {
      size_t bit = position + i;
      unsigned v = (value >> (bits - 1 - i)) & 1;
      uint8_t mask = (uint8_t) (0x80 >> (bit % 8));

      if (v)
        buf[bit / 8] |= mask;
      else
        buf[bit / 8] &= (uint8_t) ~mask;
    }
}

/* Encodes the digits: one byte each (ASCII, binary) or two a byte (BCD). */
static size_t
encoded_size (unsigned encoding, size_t n_digits)
{
  return encoding == 1 ? (n_digits + 1) / 2 : n_digits;
}

static void
encode_digits (unsigned encoding, const char *digits, size_t n_digits, uint8_t *dst)
{
  for (size_t i = 0; i < n_digits; i++)
    {
      uint8_t d = (uint8_t) (digits[i] - '0');

      if (encoding == 2)
        dst[i] = (uint8_t) digits[i];
      else if (encoding == 0)
        dst[i] = d;
      else if (i % 2 == 0)
        dst[i / 2] = (uint8_t) ((d << 4) | (dst[i / 2] & 0x0F));
      else
        dst[i / 2] = (uint8_t) ((dst[i / 2] & 0xF0) | d);
    }
}

unsigned
ifd_pin_format (
    const IfdPinVerify *verify, const char *digits, size_t n_digits, uint8_t *out, size_t *out_size)
{
  unsigned encoding = verify->format & 0x03;
  int byte_units = (verify->format & 0x80) != 0;
  int right = (verify->format & 0x04) != 0;
  size_t position = (verify->format >> 3) & 0x0F;
  unsigned length_bits = verify->block >> 4;
  size_t block = verify->block & 0x0F;
  int length_byte_units = (verify->length_format & 0x10) != 0;
  size_t length_position = verify->length_format & 0x0F;
  const uint8_t *t = verify->apdu;
  size_t template_data = 0;
  size_t pin_bytes;
  size_t data_size;
  uint8_t *data = out + 5;

  if (n_digits < verify->min_digits || n_digits > verify->max_digits ||
      n_digits < READER_MIN_DIGITS || n_digits > READER_MAX_DIGITS)
    return 0x6403;
  for (size_t i = 0; i < n_digits; i++)
    if (digits[i] < '0' || digits[i] > '9')
      return 0x6B80;
  if (encoding == 3)
    return 0x6B80;

  /* The template: a header, then optionally Lc and exactly Lc data bytes. */
  if (verify->apdu_size > 4)
    {
      template_data = t[4];
      if (verify->apdu_size != 5 + template_data)
        return 0x6B80;
    }

  if (!byte_units)
    {
      /* Bit units: only whole bytes are supported (OpenSC's GLP uses 8). */
      if (position % 8 != 0)
        return 0x6B80;
      position /= 8;
    }
  pin_bytes = encoded_size (encoding, n_digits);

  if (block == 0)
    {
      /* Variable length: the PIN goes at @position, Lc follows it. */
      if (position > template_data)
        return 0x6B80;
      data_size = position + pin_bytes;
    }
  else
    {
      /* The block is the whole data field the PIN is formatted into, from
       * its first byte (GLP: the control/length byte, then the digits). */
      if (position + pin_bytes > block)
        return 0x6B80;
      data_size = block > template_data ? block : template_data;
    }
  if (data_size > 255)
    return 0x6B80;

  memcpy (out, t, 4);
  memset (data, 0xFF, data_size);
  memcpy (data, t + (verify->apdu_size > 4 ? 5 : 4),
          template_data < data_size ? template_data : data_size);
  if (block != 0)
    {
      size_t at = right ? block - pin_bytes : position;

      /* An odd BCD PIN keeps the template's filler in its last nibble. */
      encode_digits (encoding, digits, n_digits, data + at);
    }
  else
    {
      memset (data + position, 0xFF, pin_bytes);
      encode_digits (encoding, digits, n_digits, data + position);
    }

  if (length_bits > 0)
    {
      size_t bit = length_byte_units ? length_position * 8 : length_position;

      if (bit + length_bits > data_size * 8)
        return 0x6B80;
      write_bits (data, bit, length_bits, (unsigned) n_digits);
    }

  out[4] = (uint8_t) data_size;
  *out_size = 5 + data_size;
  return 0;
}
