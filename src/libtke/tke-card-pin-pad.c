/* tke-card-pin-pad.c: the reader's PIN pad (PC/SC part 10)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The reader's features (CM_IOCTL_GET_FEATURE_REQUEST) and the PIN entries
 * through FEATURE_VERIFY_PIN_DIRECT.  No function here takes a PIN: the
 * reader formats it into the APDU; the host sees only the status word.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <winscard.h>

#include "tke-card-private.h"
#include "tke-error.h"
#include "tke-pcsc-private.h"

#define PIN_REFERENCE 0x81

/* The bit of TkeCard.verified for the PIN P2. */
static guint
pin_bit (guint8 p2)
{
  return p2 == 0x82 ? 2 : 1;
}

gboolean
_tke_card_read_features (TkeCard *self, GError **error)
{
  guint8 tlv[256];
  DWORD n = 0;
  LONG rv =
      SCardControl (self->handle, TKE_PCSC_IOCTL_GET_FEATURE_REQUEST, NULL, 0, tlv, sizeof tlv, &n);

  /* A reader without part 10 features is a reader without a PIN pad:
   * the card still opens (info, public key), PIN operations are refused. */
  if (rv == SCARD_E_UNSUPPORTED_FEATURE || rv == SCARD_E_NOT_TRANSACTED ||
      rv == SCARD_E_INVALID_PARAMETER)
    return TRUE;
  if (rv != SCARD_S_SUCCESS)
    {
      _tke_card_set_error (self, rv, error);
      return FALSE;
    }
  return _tke_pcsc_parse_features (tlv, n, &self->features, error);
}

/* The tries left as the card counts them (63 Cx), for a front end that
 * says "wrong PIN, x tries left" after a failed entry.  Written on the
 * worker, read by the owner after the operation completed. */
static void
note_pin_status (TkeCard *self, guint sw)
{
  if (sw == 0x9000)
    self->pin_used = TRUE; /* cleared on the card at the end of the PIN's scope */
  else if ((sw & 0xFFF0) == 0x63C0)
    self->pin_tries_left = sw & 0x000F;
  else if (sw == 0x6983)
    self->pin_tries_left = 0;
}

/* One entry on the PIN pad: the reader sends the APDU INS P1 P2 with the
 * digits it read; we see only the status word. */
gboolean
_tke_card_pin_pad_entry (TkeCard *self, TkePinEntry entry, guint8 ins, guint8 p1, GError **error)
{
  return _tke_card_pin_pad_entry_ref (self, entry, ins, p1, PIN_REFERENCE, error);
}

/* The same for the PIN P2 (81, or a CA card's PIN 2: 82). */
gboolean
_tke_card_pin_pad_entry_ref (
    TkeCard *self, TkePinEntry entry, guint8 ins, guint8 p1, guint8 p2, GError **error)
{
  guint8 structure[TKE_PCSC_VERIFY_STRUCTURE_SIZE];
  guint8 response[16];
  DWORD n = 0;
  LONG rv;
  guint sw;

  if (self->features.verify_pin_direct == 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_NO_READER,
                   _ ("Reader %u has no PIN pad. PINs are entered only on a PIN pad."),
                   self->reader_index);
      return FALSE;
    }
  _tke_pcsc_build_verify_structure ((guint8) g_atomic_int_get (&self->pin_timeout), ins, p1, p2,
                                    structure);
  _tke_card_post_pin_event (self, TRUE, entry);
  rv = SCardControl (self->handle, self->features.verify_pin_direct, structure, sizeof structure,
                     response, sizeof response, &n);
  _tke_card_post_pin_event (self, FALSE, entry);
  /* The status word only: the PIN never reaches the host. */
  g_debug ("PIN entry %d on reader %u: rv 0x%lX, %lu bytes, SW %02X%02X", entry, self->reader_index,
           (unsigned long) rv, (unsigned long) n, n == 2 ? response[0] : 0,
           n == 2 ? response[1] : 0);
  if (rv != SCARD_S_SUCCESS)
    {
      _tke_card_set_error (self, rv, error);
      return FALSE;
    }
  if (n != 2)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("The PIN pad of reader %u gave a malformed answer."), self->reader_index);
      return FALSE;
    }
  sw = (guint) response[0] << 8 | response[1];
  note_pin_status (self, sw);
  /* Verified (or set, the new PIN's second entry) through this handle. */
  if (sw == 0x9000 && (ins == 0x20 || (ins == 0x24 && p1 == 0x02)))
    self->verified |= pin_bit (p2);
  /* 69 85 after the second entry of a new PIN: the 20 s window passed. */
  if ((entry == TKE_PIN_ENTRY_NEW_AGAIN || entry == TKE_PIN_ENTRY_NEW_SECOND_AGAIN) && sw == 0x6985)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_PIN_TIMEOUT,
                           _ ("The new PIN was not entered again within 20 seconds. Nothing was "
                              "changed."));
      return FALSE;
    }
  return _tke_pcsc_check_pin_status (sw, self->reader_index, error);
}

/* VERIFY without data tells whether the PIN is verified in this session
 * (never changes the counter) and how many tries are left; the person
 * types it on the pad unless this handle verified it in its scope. */
gboolean
_tke_card_ensure_pin_verified (TkeCard *self, GError **error)
{
  return _tke_card_ensure_pin_ref_verified (self, PIN_REFERENCE, TKE_PIN_ENTRY_CURRENT, error);
}

/* The same for the PIN P2, asked for as ENTRY (a CA card's PIN 2 is 82).
 *
 * The card's security state is shared by every connection to it
 * (card-protocol.md §4.1): a PIN verified through another handle (the
 * Smart card tab describing the card, another ceremony's signer), or
 * through this one before its log out, is not this operation's PIN, even
 * though the card says "verified".  Only a PIN this handle verified in its
 * scope (TkeCard.verified) is taken; otherwise the person types it. */
gboolean
_tke_card_ensure_pin_ref_verified (TkeCard *self, guint8 p2, TkePinEntry entry, GError **error)
{
  const guint8 query[] = { 0x00, 0x20, 0x00, p2 };
  guint sw = 0;

  if (!_tke_card_transmit (self, query, sizeof query, NULL, &sw, error))
    return FALSE;
  if (sw == 0x9000 && (self->verified & pin_bit (p2)) != 0)
    return TRUE;
  if (sw == 0x9000)
    return _tke_card_pin_pad_entry_ref (self, entry, 0x20, 0x00, p2, error);
  note_pin_status (self, sw);
  if ((sw & 0xFFF0) != 0x63C0 || sw == 0x63C0)
    return _tke_pcsc_check_pin_status (sw, self->reader_index, error);
  return _tke_card_pin_pad_entry_ref (self, entry, 0x20, 0x00, p2, error);
}
