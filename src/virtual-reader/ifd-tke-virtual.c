/* ifd-tke-virtual.c: libifdtkevirtual.so, the pcscd driver of the virtual PIN-pad readers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A pcsc-lite IFD handler (API v3).  Each reader.conf entry names, in
 * DEVICENAME, the Unix socket of one reader's "cable": the tke-virtual-readers
 * process holds the card and the keypad on the other end (tke-vr-link.h).
 * This file stays a thin bridge with no crypto and no GLib because it runs
 * inside pcscd, often as root.  It formats the PIN into the VERIFY APDU
 * itself, as reader firmware does, and never logs a PIN or that APDU.
 *
 * The PIN pad is a trusted path, as on a CCID class 2 reader: the keypad
 * serves only VERIFY and CHANGE REFERENCE DATA of the applet's PINs
 * (ifd_pin_template_allowed()), and the host gets only SW1 SW2 back.
 */

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <ifdhandler.h>
#include <reader.h>

#include "ifd-pin-format.h"
#include "tke-vr-link.h"

#define MAX_READERS 16
#define IOCTL_OF(tag) SCARD_CTL_CODE (0x330000 + (tag))
#define IOCTL_VERIFY_PIN_DIRECT IOCTL_OF (FEATURE_VERIFY_PIN_DIRECT)
#define IOCTL_IFD_PIN_PROPERTIES IOCTL_OF (FEATURE_IFD_PIN_PROPERTIES)
#define IOCTL_GET_TLV_PROPERTIES IOCTL_OF (FEATURE_GET_TLV_PROPERTIES)
/* How long the other end may take for anything but a PIN entry. */
#define LINK_TIMEOUT_MS 10000
#define DEFAULT_PIN_TIMEOUT 30
#ifndef TKE_IFD_VERSION
#define TKE_IFD_VERSION 0x00010000u /* the build sets the project's version */
#endif

typedef struct
{
  int used;
  DWORD lun;
  char path[sizeof ((struct sockaddr_un *) 0)->sun_path];
  int fd;
  pthread_mutex_t lock;
  UCHAR atr[MAX_ATR_SIZE];
  DWORD atr_size;
} Reader;

static Reader readers[MAX_READERS];
static pthread_mutex_t readers_lock = PTHREAD_MUTEX_INITIALIZER;

static Reader *
find_reader (DWORD lun)
{
  Reader *found = NULL;

  pthread_mutex_lock (&readers_lock);
  for (int i = 0; i < MAX_READERS; i++)
    if (readers[i].used && readers[i].lun == lun)
      found = &readers[i];
  pthread_mutex_unlock (&readers_lock);
  return found;
}

static int64_t
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
wait_fd (int fd, short events, int64_t deadline)
{
  struct pollfd p = { .fd = fd, .events = events };

  for (;;)
    {
      int64_t left = deadline - now_ms ();
      int r;

      if (left <= 0)
        return -1;
      r = poll (&p, 1, (int) left);
      if (r > 0)
        return 0;
      if (r < 0 && errno != EINTR)
        return -1;
    }
}

static int
io_all (int fd, uint8_t *buf, size_t size, int writing, int64_t deadline)
{
  size_t done = 0;

  while (done < size)
    {
      ssize_t n;

      if (wait_fd (fd, writing ? POLLOUT : POLLIN, deadline) < 0)
        return -1;
      n = writing ? send (fd, buf + done, size - done, MSG_NOSIGNAL)
                  : recv (fd, buf + done, size - done, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      done += (size_t) n;
    }
  return 0;
}

static void
disconnect (Reader *r)
{
  if (r->fd >= 0)
    close (r->fd);
  r->fd = -1;
}

static int
connect_reader (Reader *r)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };

  if (r->fd >= 0)
    return 0;
  r->fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (r->fd < 0)
    return -1;
  memcpy (addr.sun_path, r->path, sizeof addr.sun_path);
  if (connect (r->fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      disconnect (r);
      return -1;
    }
  return 0;
}

/* One request, one reply.  Returns the reply status, or -1 when the other
 * end is gone (it is reconnected on the next request). */
static int
exchange (Reader *r,
          uint8_t type,
          const uint8_t *payload,
          size_t size,
          uint8_t *reply,
          size_t *reply_size,
          int timeout_ms)
{
  uint8_t header[3] = { type, (uint8_t) (size >> 8), (uint8_t) size };
  int64_t deadline = now_ms () + timeout_ms;
  size_t capacity = *reply_size;
  size_t length;

  *reply_size = 0;
  if (size > TKE_LINK_MAX_PAYLOAD || connect_reader (r) < 0)
    return -1;
  if (io_all (r->fd, header, 3, 1, deadline) < 0 ||
      (size > 0 && io_all (r->fd, (uint8_t *) payload, size, 1, deadline) < 0) ||
      io_all (r->fd, header, 3, 0, deadline) < 0)
    goto fail;
  length = (size_t) header[1] << 8 | header[2];
  if (length > capacity)
    goto fail;
  if (length > 0 && io_all (r->fd, reply, length, 0, deadline) < 0)
    goto fail;
  *reply_size = length;
  return header[0];

fail:
  disconnect (r);
  return -1;
}

RESPONSECODE
IFDHCreateChannelByName (DWORD Lun, LPSTR DeviceName)
{
  Reader *free_slot = NULL;

  if (DeviceName == NULL || strlen (DeviceName) >= sizeof free_slot->path || DeviceName[0] != '/')
    {
      fprintf (stderr, "tke-virtual: DEVICENAME must be the absolute path of a reader socket\n");
      return IFD_COMMUNICATION_ERROR;
    }
  pthread_mutex_lock (&readers_lock);
  for (int i = 0; i < MAX_READERS && free_slot == NULL; i++)
    if (!readers[i].used)
      free_slot = &readers[i];
  if (free_slot != NULL)
    {
      memset (free_slot, 0, sizeof *free_slot);
      free_slot->used = 1;
      free_slot->lun = Lun;
      free_slot->fd = -1;
      pthread_mutex_init (&free_slot->lock, NULL);
      snprintf (free_slot->path, sizeof free_slot->path, "%s", DeviceName);
    }
  pthread_mutex_unlock (&readers_lock);
  return free_slot != NULL ? IFD_SUCCESS : IFD_COMMUNICATION_ERROR;
}

RESPONSECODE
IFDHCreateChannel (DWORD Lun, DWORD Channel)
{
  fprintf (stderr, "tke-virtual: reader.conf needs a DEVICENAME (the reader's socket)\n");
  return IFD_COMMUNICATION_ERROR;
}

RESPONSECODE
IFDHCloseChannel (DWORD Lun)
{
  Reader *r = find_reader (Lun);

  if (r == NULL)
    return IFD_NO_SUCH_DEVICE;
  pthread_mutex_lock (&r->lock);
  disconnect (r);
  pthread_mutex_unlock (&r->lock);
  pthread_mutex_lock (&readers_lock);
  r->used = 0;
  pthread_mutex_unlock (&readers_lock);
  return IFD_SUCCESS;
}

static RESPONSECODE
put_value (PDWORD Length, PUCHAR Value, const void *data, DWORD size)
{
  if (*Length < size)
    return IFD_ERROR_INSUFFICIENT_BUFFER;
  memcpy (Value, data, size);
  *Length = size;
  return IFD_SUCCESS;
}

static RESPONSECODE card_presence (DWORD Lun, int peek);

/* A DWORD attribute, in the host's byte order (as libccid writes it). */
static RESPONSECODE
put_dword (PDWORD Length, PUCHAR Value, uint32_t value)
{
  return put_value (Length, Value, &value, sizeof value);
}

/* What SCardGetAttrib() asks for, answered as libccid answers it for a CCID
 * reader (pcsc-lite's UnitaryTests getAttrib.py and SCardGetAttrib.py). */
RESPONSECODE
IFDHGetCapabilities (DWORD Lun, DWORD Tag, PDWORD Length, PUCHAR Value)
{
  Reader *r = find_reader (Lun);
  /* Several reader.conf entries: each needs its own number and lock. */
  static const UCHAR simultaneous = MAX_READERS;
  static const UCHAR one = 1;
  static const UCHAR zero = 0;
  static const char vendor[] = "TKE";
  UCHAR byte;

  if (r == NULL)
    return IFD_NO_SUCH_DEVICE;
  if (Length == NULL || (Value == NULL && *Length > 0))
    return IFD_COMMUNICATION_ERROR;
  switch (Tag)
    {
    case TAG_IFD_ATR:
    case SCARD_ATTR_ATR_STRING:
      return put_value (Length, Value, r->atr, r->atr_size);
    case TAG_IFD_SIMULTANEOUS_ACCESS:
      return put_value (Length, Value, &simultaneous, 1);
    case TAG_IFD_THREAD_SAFE:
    case TAG_IFD_SLOTS_NUMBER:
      return put_value (Length, Value, &one, 1);
    case TAG_IFD_SLOT_THREAD_SAFE:
      return put_value (Length, Value, &zero, 1);
    case SCARD_ATTR_VENDOR_NAME:
      return put_value (Length, Value, vendor, sizeof vendor);
    case SCARD_ATTR_VENDOR_IFD_VERSION:
      /* 0xMMmmbbbb: major, minor, build (libccid: bcdDevice << 16). */
      return put_dword (Length, Value, TKE_IFD_VERSION);
    case SCARD_ATTR_VENDOR_IFD_SERIAL_NO:
      /* A reader without a serial number: success, nothing (as libccid). */
      *Length = 0;
      return IFD_SUCCESS;
    case SCARD_ATTR_ICC_PRESENCE:
      /* 0 not present, 2 present (1 would be "not swallowed"). */
      byte = card_presence (Lun, 1) == IFD_ICC_PRESENT ? 2 : 0;
      return put_value (Length, Value, &byte, 1);
    case SCARD_ATTR_ICC_INTERFACE_STATUS:
      /* Nonzero if the card's contacts are active. */
      byte = card_presence (Lun, 1) == IFD_ICC_PRESENT ? 1 : 0;
      return put_value (Length, Value, &byte, 1);
    case SCARD_ATTR_MAXINPUT:
      /* The longest command this reader passes on (IFDHTransmitToICC). */
      return put_dword (Length, Value, TKE_LINK_MAX_PAYLOAD);
    default:
      return IFD_ERROR_TAG;
    }
}

RESPONSECODE
IFDHSetCapabilities (DWORD Lun, DWORD Tag, DWORD Length, PUCHAR Value) { return IFD_NOT_SUPPORTED; }

RESPONSECODE
IFDHSetProtocolParameters (
    DWORD Lun, DWORD Protocol, UCHAR Flags, UCHAR PTS1, UCHAR PTS2, UCHAR PTS3)
{
  /* An APDU-level reader: the protocol changes nothing on this side. */
  return find_reader (Lun) != NULL ? IFD_SUCCESS : IFD_NO_SUCH_DEVICE;
}

RESPONSECODE
IFDHPowerICC (DWORD Lun, DWORD Action, PUCHAR Atr, PDWORD AtrLength)
{
  Reader *r = find_reader (Lun);
  uint8_t reply[MAX_ATR_SIZE];
  size_t size = sizeof reply;
  int status;

  if (r == NULL)
    return IFD_NO_SUCH_DEVICE;
  pthread_mutex_lock (&r->lock);
  if (Action == IFD_POWER_DOWN)
    {
      size = 0;
      (void) exchange (r, TKE_LINK_POWER_DOWN, NULL, 0, reply, &size, LINK_TIMEOUT_MS);
      r->atr_size = 0;
      pthread_mutex_unlock (&r->lock);
      if (AtrLength != NULL)
        *AtrLength = 0;
      return IFD_SUCCESS;
    }
  if (Action != IFD_POWER_UP && Action != IFD_RESET)
    {
      pthread_mutex_unlock (&r->lock);
      return IFD_NOT_SUPPORTED;
    }
  status = exchange (r, TKE_LINK_POWER_UP, NULL, 0, reply, &size, LINK_TIMEOUT_MS);
  if (status != TKE_LINK_OK || size == 0 || AtrLength == NULL || *AtrLength < size)
    {
      r->atr_size = 0;
      pthread_mutex_unlock (&r->lock);
      return status == TKE_LINK_NO_CARD ? IFD_ICC_NOT_PRESENT : IFD_ERROR_POWER_ACTION;
    }
  memcpy (r->atr, reply, size);
  r->atr_size = (DWORD) size;
  memcpy (Atr, reply, size);
  *AtrLength = (DWORD) size;
  pthread_mutex_unlock (&r->lock);
  return IFD_SUCCESS;
}

static RESPONSECODE
transmit_locked (Reader *r, const uint8_t *apdu, size_t size, PUCHAR RxBuffer, PDWORD RxLength)
{
  uint8_t reply[TKE_LINK_MAX_PAYLOAD];
  size_t reply_size = sizeof reply;
  int status = exchange (r, TKE_LINK_APDU, apdu, size, reply, &reply_size, LINK_TIMEOUT_MS);

  if (status == TKE_LINK_NO_CARD)
    return IFD_ICC_NOT_PRESENT;
  if (status != TKE_LINK_OK || reply_size < 2)
    return IFD_COMMUNICATION_ERROR;
  if (*RxLength < reply_size)
    return IFD_ERROR_INSUFFICIENT_BUFFER;
  memcpy (RxBuffer, reply, reply_size);
  *RxLength = (DWORD) reply_size;
  return IFD_SUCCESS;
}

RESPONSECODE
IFDHTransmitToICC (DWORD Lun,
                   SCARD_IO_HEADER SendPci,
                   PUCHAR TxBuffer,
                   DWORD TxLength,
                   PUCHAR RxBuffer,
                   PDWORD RxLength,
                   PSCARD_IO_HEADER RecvPci)
{
  Reader *r = find_reader (Lun);
  RESPONSECODE rc;

  if (r == NULL)
    return IFD_NO_SUCH_DEVICE;
  if (TxBuffer == NULL || RxBuffer == NULL || RxLength == NULL || TxLength < 4 ||
      TxLength > TKE_LINK_MAX_PAYLOAD)
    {
      if (RxLength != NULL)
        *RxLength = 0;
      return IFD_COMMUNICATION_ERROR;
    }
  pthread_mutex_lock (&r->lock);
  rc = transmit_locked (r, TxBuffer, TxLength, RxBuffer, RxLength);
  pthread_mutex_unlock (&r->lock);
  if (rc != IFD_SUCCESS)
    *RxLength = 0;
  if (RecvPci != NULL)
    RecvPci->Protocol = SendPci.Protocol;
  return rc;
}

/* PEEK: a client's question (SCardGetAttrib), not pcscd's presence poll,
 * so that it does not use up the polls that report a removal (tke-vr-link.h). */
static RESPONSECODE
card_presence (DWORD Lun, int peek)
{
  Reader *r = find_reader (Lun);
  static const uint8_t peek_payload[] = { TKE_LINK_PRESENCE_PEEK };
  uint8_t reply[4];
  size_t size = sizeof reply;
  int status;

  if (r == NULL)
    return IFD_NO_SUCH_DEVICE;
  pthread_mutex_lock (&r->lock);
  status = exchange (r, TKE_LINK_PRESENCE, peek ? peek_payload : NULL, peek ? 1 : 0, reply, &size,
                     LINK_TIMEOUT_MS);
  pthread_mutex_unlock (&r->lock);
  return status == TKE_LINK_OK && size == 1 && reply[0] == 1 ? IFD_ICC_PRESENT
                                                             : IFD_ICC_NOT_PRESENT;
}

RESPONSECODE
IFDHICCPresence (DWORD Lun) { return card_presence (Lun, 0); }

static RESPONSECODE
put_sw (unsigned sw, PUCHAR RxBuffer, DWORD RxLength, LPDWORD returned)
{
  if (RxLength < 2)
    return IFD_ERROR_INSUFFICIENT_BUFFER;
  RxBuffer[0] = (UCHAR) (sw >> 8);
  RxBuffer[1] = (UCHAR) sw;
  *returned = 2;
  return IFD_SUCCESS;
}

/* The card's answer to the APDU with the PIN in it: only SW1 SW2 go back
 * to the host, whatever data the card sent. */
static RESPONSECODE
transmit_pin_apdu (Reader *r, const uint8_t *apdu, size_t size, PUCHAR RxBuffer, LPDWORD returned)
{
  uint8_t answer[TKE_LINK_MAX_PAYLOAD];
  DWORD n = sizeof answer;
  RESPONSECODE rc = transmit_locked (r, apdu, size, answer, &n);

  if (rc == IFD_SUCCESS)
    {
      RxBuffer[0] = answer[n - 2];
      RxBuffer[1] = answer[n - 1];
      *returned = 2;
    }
  explicit_bzero (answer, sizeof answer);
  return rc;
}

/* VERIFY_PIN_DIRECT: the pad collects the digits, the reader builds the
 * APDU, the card answers.  Timeout and cancel are status words, not
 * errors, exactly as libccid reports them.  A template other than the
 * applet's VERIFY or CHANGE REFERENCE DATA is refused with 6B 80 before the
 * keypad starts. */
static RESPONSECODE
verify_pin (
    Reader *r, PUCHAR TxBuffer, DWORD TxLength, PUCHAR RxBuffer, DWORD RxLength, LPDWORD returned)
{
  IfdPinVerify verify;
  uint8_t request[3];
  char digits[TKE_LINK_MAX_DIGITS + 1];
  size_t n_digits = TKE_LINK_MAX_DIGITS;
  uint8_t apdu[IFD_PIN_APDU_MAX];
  size_t apdu_size = 0;
  unsigned timeout;
  unsigned sw;
  int status;
  RESPONSECODE rc;

  if (ifd_pin_verify_parse (TxBuffer, TxLength, &verify) < 0)
    return IFD_NOT_SUPPORTED;
  if (RxLength < 2)
    return IFD_ERROR_INSUFFICIENT_BUFFER;
  if (!ifd_pin_template_allowed (&verify))
    return put_sw (0x6B80, RxBuffer, RxLength, returned);

  timeout = verify.timer_out != 0 ? verify.timer_out : DEFAULT_PIN_TIMEOUT;
  request[0] = (uint8_t) timeout;
  request[1] = verify.min_digits;
  request[2] = verify.max_digits;
  status = exchange (r, TKE_LINK_KEYPAD, request, sizeof request, (uint8_t *) digits, &n_digits,
                     (int) (timeout + 5) * 1000);
  switch (status)
    {
    case TKE_LINK_OK:
      break;
    case TKE_LINK_CANCELLED:
      return put_sw (0x6401, RxBuffer, RxLength, returned);
    case TKE_LINK_TIMED_OUT:
      return put_sw (0x6400, RxBuffer, RxLength, returned);
    case TKE_LINK_NO_CARD:
      return IFD_ICC_NOT_PRESENT;
    default:
      return IFD_COMMUNICATION_ERROR;
    }

  sw = ifd_pin_format (&verify, digits, n_digits, apdu, &apdu_size);
  explicit_bzero (digits, sizeof digits);
  if (sw != 0)
    {
      explicit_bzero (apdu, sizeof apdu);
      return put_sw (sw, RxBuffer, RxLength, returned);
    }
  rc = transmit_pin_apdu (r, apdu, apdu_size, RxBuffer, returned);
  explicit_bzero (apdu, sizeof apdu);
  return rc;
}

static const UCHAR feature_list[] = {
  FEATURE_VERIFY_PIN_DIRECT,  4, 0x42, 0x33, 0x00, FEATURE_VERIFY_PIN_DIRECT,
  FEATURE_IFD_PIN_PROPERTIES, 4, 0x42, 0x33, 0x00, FEATURE_IFD_PIN_PROPERTIES,
  FEATURE_GET_TLV_PROPERTIES, 4, 0x42, 0x33, 0x00, FEATURE_GET_TLV_PROPERTIES,
};

/* wLcdLayout 0 (no display, like an SPR332), OK key, no bTimeOut2. */
static const UCHAR pin_properties[] = { 0x00, 0x00, 0x02, 0x00 };

static const UCHAR tlv_properties[] = {
  PCSCv2_PART10_PROPERTY_wLcdLayout,
  2,
  0x00,
  0x00,
  PCSCv2_PART10_PROPERTY_bEntryValidationCondition,
  1,
  0x02,
  PCSCv2_PART10_PROPERTY_bTimeOut2,
  1,
  0x00,
  PCSCv2_PART10_PROPERTY_bMinPINSize,
  1,
  4,
  PCSCv2_PART10_PROPERTY_bMaxPINSize,
  1,
  8,
  PCSCv2_PART10_PROPERTY_bPPDUSupport,
  1,
  0x00,
  PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize,
  4,
  0x00,
  0x00,
  0x00,
  0x00,
};

RESPONSECODE
IFDHControl (DWORD Lun,
             DWORD dwControlCode,
             PUCHAR TxBuffer,
             DWORD TxLength,
             PUCHAR RxBuffer,
             DWORD RxLength,
             LPDWORD pdwBytesReturned)
{
  Reader *r = find_reader (Lun);
  DWORD size = RxLength;
  RESPONSECODE rc;

  if (pdwBytesReturned == NULL)
    return IFD_COMMUNICATION_ERROR;
  *pdwBytesReturned = 0;
  if (r == NULL)
    return IFD_NO_SUCH_DEVICE;
  if (RxBuffer == NULL && RxLength > 0)
    return IFD_COMMUNICATION_ERROR;

  switch (dwControlCode)
    {
    case CM_IOCTL_GET_FEATURE_REQUEST:
      rc = put_value (&size, RxBuffer, feature_list, sizeof feature_list);
      break;
    case IOCTL_IFD_PIN_PROPERTIES:
      rc = put_value (&size, RxBuffer, pin_properties, sizeof pin_properties);
      break;
    case IOCTL_GET_TLV_PROPERTIES:
      rc = put_value (&size, RxBuffer, tlv_properties, sizeof tlv_properties);
      break;
    case IOCTL_VERIFY_PIN_DIRECT:
      if (TxBuffer == NULL)
        return IFD_NOT_SUPPORTED;
      pthread_mutex_lock (&r->lock);
      rc = verify_pin (r, TxBuffer, TxLength, RxBuffer, RxLength, pdwBytesReturned);
      pthread_mutex_unlock (&r->lock);
      return rc;
    default:
      return IFD_ERROR_NOT_SUPPORTED;
    }
  if (rc == IFD_SUCCESS)
    *pdwBytesReturned = size;
  return rc;
}
