/* tke-pcsc.c: PC/SC part 10 and ISO 7816-4 helpers of libtke's smart card layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a PIN-pad reader and the card say, turned into TKE_ERROR codes and
 * messages a person can act on.  Timeout and cancel on the pad are not PC/SC
 * errors: like libccid, the reader answers SCardControl with SW 64 00 / 64 01.
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <winscard.h>

#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-pcsc-private.h"

gboolean
_tke_pcsc_parse_features (const guint8 *tlv, gsize size, TkePcscFeatures *features, GError **error)
{
  *features = (TkePcscFeatures){ 0 };

  /* Each entry is tag, length 4, IOCTL in network byte order (part 10). */
  if (size % 6 != 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("The reader's feature list is malformed (%u bytes)."), (guint) size);
      return FALSE;
    }
  for (gsize i = 0; i < size; i += 6)
    {
      guint32 ioctl;

      if (tlv[i + 1] != 4)
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                       _ ("The reader's feature list is malformed (feature %02X has length %u)."),
                       tlv[i], tlv[i + 1]);
          return FALSE;
        }
      ioctl = (guint32) tlv[i + 2] << 24 | (guint32) tlv[i + 3] << 16 | (guint32) tlv[i + 4] << 8 |
              tlv[i + 5];
      switch (tlv[i])
        {
        case TKE_PCSC_FEATURE_VERIFY_PIN_DIRECT:
          features->verify_pin_direct = ioctl;
          break;
        case TKE_PCSC_FEATURE_MODIFY_PIN_DIRECT:
          features->modify_pin_direct = ioctl;
          break;
        case TKE_PCSC_FEATURE_IFD_PIN_PROPERTIES:
          features->ifd_pin_properties = ioctl;
          break;
        case TKE_PCSC_FEATURE_GET_TLV_PROPERTIES:
          features->get_tlv_properties = ioctl;
          break;
        default:
          /* Other features (PACE, escape, …) are of no use to us. */
          break;
        }
    }
  return TRUE;
}

void
_tke_pcsc_card_info_free (TkePcscCardInfo *info)
{
  g_free (info->serial);
  g_free (info->zone);
  g_free (info->zone_description);
  g_free (info->description);
  g_free (info);
}

char *
_tke_pcsc_utf8_value (const guint8 *value, gsize size)
{
  if (!g_utf8_validate ((const char *) value, (gssize) size, NULL))
    return g_strdup ("?");
  return g_strndup ((const char *) value, size);
}

/* GET CARD INFO (card-protocol.md §4.3): TLVs (tag, length, value); unknown tags are skipped. */
TkePcscCardInfo *
_tke_pcsc_parse_card_info (const guint8 *data, gsize size, GError **error)
{
  g_autoptr (TkePcscCardInfo) info = g_new0 (TkePcscCardInfo, 1);
  guint32 seen = 0; /* the known tags (01–1F) met so far */
  gsize i = 0;

  while (i + 2 <= size)
    {
      guint8 tag = data[i];
      gsize length = data[i + 1];
      const guint8 *value = data + i + 2;

      if (i + 2 + length > size)
        break;
      /* A tag the card sends twice: its information is not to be trusted
       * (and the first value must not be lost, or leak). */
      if (tag >= 0x01 && tag <= 0x1F)
        {
          if ((seen & (1u << tag)) != 0)
            break;
          seen |= 1u << tag;
        }
      switch (tag)
        {
        case 0x01:
          info->serial = tke_crypto_hex_encode (value, length);
          break;
        case 0x02:
          if (length == 1)
            info->card_type = value[0] == 0x01   ? TKE_CARD_TYPE_CA
                              : value[0] == 0x02 ? TKE_CARD_TYPE_EP11
                              : value[0] == 0x00 ? TKE_CARD_TYPE_BLANK
                                                 : TKE_CARD_TYPE_UNKNOWN;
          break;
        case 0x03:
          info->zone = tke_crypto_hex_encode (value, length);
          break;
        case 0x04:
          info->zone_description = _tke_pcsc_utf8_value (value, length);
          break;
        case 0x05:
          info->description = _tke_pcsc_utf8_value (value, length);
          break;
        case 0x06:
          /* A CA card has two PINs: the one with fewer tries left counts. */
          if (length >= 2)
            info->pin_tries_left = MIN (value[0], value[1]);
          else if (length >= 1)
            info->pin_tries_left = value[0];
          break;
        case 0x08:
          if (length == 1)
            info->has_signature_key = (value[0] & 0x01) != 0;
          break;
        default:
          break;
        }
      i += 2 + length;
    }
  if (i != size || info->serial == NULL || info->card_type == TKE_CARD_TYPE_UNKNOWN)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's information is malformed."));
      return NULL;
    }
  return g_steal_pointer (&info);
}

/* card-protocol.md §1.2: the reader puts 6 ASCII digits at offset 0 of a
 * 6-byte data field; nothing on the host ever holds them. */
void
_tke_pcsc_build_verify_structure (guint8 timeout_seconds,
                                  guint8 ins,
                                  guint8 p1,
                                  guint8 p2,
                                  guint8 out[TKE_PCSC_VERIFY_STRUCTURE_SIZE])
{
  static const guint8 header[19] = {
    0x00,                   /* bTimerOut (set below) */
    0x00,                   /* bTimerOut2 */
    0x82,                   /* bmFormatString: byte units, offset 0, left-justified, ASCII */
    0x06,                   /* bmPINBlockString: no length field, 6-byte block */
    0x00,                   /* bmPINLengthFormat */
    0x06, 0x06,             /* wPINMaxExtraDigit: min 6, max 6 (little-endian: max, min) */
    0x02,                   /* bEntryValidationCondition: OK key */
    0x00,                   /* bNumberMessage: the pad has no display */
    0x09, 0x04,             /* wLangId 0x0409 */
    0x00,                   /* bMsgIndex */
    0x00, 0x00, 0x00,       /* bTeoPrologue */
    11,   0x00, 0x00, 0x00, /* ulDataLength */
  };

  memcpy (out, header, sizeof header);
  out[0] = timeout_seconds;
  out[19] = 0x00;
  out[20] = ins;
  out[21] = p1;
  out[22] = p2;
  out[23] = 0x06;
  memset (out + 24, 0xFF, 6);
}

gboolean
_tke_pcsc_check_pin_status (guint sw, guint reader, GError **error)
{
  if (sw == 0x9000)
    return TRUE;
  if ((sw & 0xFFF0) == 0x63C0 && (sw & 0x000F) > 0)
    {
      int left = sw & 0x000F;

      g_set_error (
          error, TKE_ERROR, TKE_ERROR_PIN_INCORRECT,
          g_dngettext (GETTEXT_PACKAGE, "Wrong PIN: %d try left", "Wrong PIN: %d tries left", left),
          left);
      return FALSE;
    }
  switch (sw)
    {
    case 0x63C0:
    case 0x6983:
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_PIN_BLOCKED,
                           _ ("The card's PIN is blocked. Unblock it with the zone's CA card."));
      return FALSE;
    case 0x6984:
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_PIN_BLOCKED,
                           _ ("The card's PIN cannot be used (reference data not usable)."));
      return FALSE;
    case 0x6400:
      g_set_error (error, TKE_ERROR, TKE_ERROR_PIN_TIMEOUT,
                   _ ("Nobody entered the PIN on the PIN pad of reader %u in time."), reader);
      return FALSE;
    case 0x6401:
      g_set_error (error, TKE_ERROR, TKE_ERROR_PIN_CANCELLED,
                   _ ("The PIN entry was cancelled on the PIN pad of reader %u."), reader);
      return FALSE;
    case 0x6402:
    case 0x6A80:
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_PIN_INCORRECT,
                           _ ("The two entries of the new PIN differ. Nothing was changed."));
      return FALSE;
    case 0x6403:
    case 0x6700:
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_PIN_INCORRECT,
                           _ ("The PIN must have 6 digits. The card did not count this entry."));
      return FALSE;
    case 0x6B80:
      g_set_error (error, TKE_ERROR, TKE_ERROR_NO_READER,
                   _ ("The PIN pad of reader %u cannot take this PIN entry."), reader);
      return FALSE;
    default:
      return _tke_pcsc_check_status (sw, error);
    }
}

gboolean
_tke_pcsc_check_status (guint sw, GError **error)
{
  if (sw == 0x9000)
    return TRUE;
  switch (sw)
    {
    case 0x6982:
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_FAILED,
                           _ ("The card wants its PIN verified first."));
      break;
    case 0x6983:
      return _tke_pcsc_check_pin_status (sw, 0, error);
    case 0x6984:
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("The other card belongs to another zone."));
      break;
    case 0x6985:
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_FAILED,
                           _ ("The card refused the command in its current state."));
      break;
    case 0x6986:
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("This kind of card cannot do that."));
      break;
    case 0x6A80:
    case 0x6700:
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card refused the data of the command."));
      break;
    case 0x6A82:
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_NOT_FOUND,
                           _ ("The card does not hold that item (or is not a TKE card)."));
      break;
    case 0x6A84:
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_FAILED, _ ("The card is full."));
      break;
    case 0x6A88:
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_NOT_FOUND,
                           _ ("The card has no signature key."));
      break;
    case 0x6F00:
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_IO,
                           _ ("The card could not store the change. Nothing was changed."));
      break;
    default:
      g_set_error (error, TKE_ERROR, TKE_ERROR_FAILED,
                   _ ("The card refused the command (status %04X)."), sw);
      break;
    }
  return FALSE;
}

void
_tke_pcsc_set_error (glong rv, guint reader, GError **error)
{
  switch ((LONG) rv)
    {
    case SCARD_E_CANCELLED:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           _ ("The operation was cancelled."));
      break;
    case SCARD_W_REMOVED_CARD:
    case SCARD_E_NO_SMARTCARD:
      g_set_error (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED,
                   _ ("The card was removed from reader %u."), reader);
      break;
    case SCARD_W_RESET_CARD:
      g_set_error (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED,
                   _ ("Another program reset the card in reader %u. Try again."), reader);
      break;
    case SCARD_E_TIMEOUT:
      g_set_error (error, TKE_ERROR, TKE_ERROR_NO_CARD, _ ("There is no card in reader %u."),
                   reader);
      break;
    case SCARD_E_READER_UNAVAILABLE:
    case SCARD_E_UNKNOWN_READER:
      g_set_error (error, TKE_ERROR, TKE_ERROR_NO_READER, _ ("Reader %u is not connected."),
                   reader);
      break;
    case SCARD_E_NO_SERVICE:
    case SCARD_E_SERVICE_STOPPED:
    case SCARD_F_COMM_ERROR:
    case SCARD_E_NO_READERS_AVAILABLE:
    case SCARD_E_INVALID_HANDLE:
      g_set_error (error, TKE_ERROR, TKE_ERROR_NO_READER,
                   _ ("The smart card service (pcscd) is not running or stopped: reader %u is "
                      "not available."),
                   reader);
      break;
    case SCARD_E_UNSUPPORTED_FEATURE:
      g_set_error (error, TKE_ERROR, TKE_ERROR_NO_READER,
                   _ ("Reader %u has no PIN pad that this program can use."), reader);
      break;
    case SCARD_E_SHARING_VIOLATION:
      g_set_error (error, TKE_ERROR, TKE_ERROR_FAILED,
                   _ ("Another program is using the card in reader %u."), reader);
      break;
    case SCARD_E_NOT_TRANSACTED:
      g_set_error (error, TKE_ERROR, TKE_ERROR_FAILED,
                   _ ("Reader %u could not complete the command."), reader);
      break;
    default:
      g_set_error (error, TKE_ERROR, TKE_ERROR_FAILED, _ ("Smart card error on reader %u: %s"),
                   reader, pcsc_stringify_error ((LONG) rv));
      break;
    }
}
