/* tke-card-apdu.c: APDUs to a TKE card: transmit, chaining, GET RESPONSE, transactions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Worker threads only, with the card's lock held.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <openssl/crypto.h>
#include <winscard.h>

#include "tke-card-private.h"
#include "tke-error.h"
#include "tke-pcsc-private.h"

/* How long after a failed command pcscd may take to see a card pulled. */
#define REMOVAL_GRACE_MS 1500
/* The longest answer of any command of card-protocol.md §4 is well under
 * this (a certificate or a sealed copy: a few hundred bytes); the card
 * itself accepts at most 4 096 bytes of chained command data. */
#define MAX_RESPONSE_SIZE 4096u
/* GET RESPONSE rounds: MAX_RESPONSE_SIZE in the card's 256-byte pieces.  A
 * card that answers 61 xx with fewer bytes each time still stops here. */
#define MAX_GET_RESPONSE_ROUNDS (MAX_RESPONSE_SIZE / 256u)

static const guint8 applet_aid[] = { 0xF0, 0x54, 0x4B, 0x45, 0x43, 0x41, 0x52, 0x44 };

/* After "not transacted": was the card pulled?  pcscd notices a removal on
 * its next presence poll (every 400 ms), so wait a little for it. */
static gboolean
card_was_removed (TkeCard *self)
{
  SCARD_READERSTATE state = { .szReader = self->reader_name,
                              .dwCurrentState = SCARD_STATE_UNAWARE };
  LONG rv = SCardGetStatusChange (self->pcsc, 0, &state, 1);

  if (rv == SCARD_S_SUCCESS && (state.dwEventState & SCARD_STATE_PRESENT) != 0)
    {
      state.dwCurrentState = state.dwEventState & ~SCARD_STATE_CHANGED;
      rv = SCardGetStatusChange (self->pcsc, REMOVAL_GRACE_MS, &state, 1);
    }
  return rv == SCARD_S_SUCCESS && (state.dwEventState & SCARD_STATE_PRESENT) == 0;
}

/* A failed PC/SC call: "not transacted" with the card gone is a removal. */
void
_tke_card_set_error (TkeCard *self, LONG rv, GError **error)
{
  /* "Not transacted" (libccid, card pulled during a PIN entry), or a
   * handle whose card was swapped meanwhile and not yet powered up. */
  if (rv == SCARD_E_NOT_TRANSACTED || rv == SCARD_F_UNKNOWN_ERROR || rv == SCARD_E_PROTO_MISMATCH ||
      rv == SCARD_W_UNPOWERED_CARD || rv == SCARD_W_UNRESPONSIVE_CARD || rv == SCARD_E_NOT_READY)
    {
      DWORD state = 0;
      DWORD protocol = 0;
      DWORD atr_size = MAX_ATR_SIZE;
      BYTE atr[MAX_ATR_SIZE];
      LONG status = SCardStatus (self->handle, NULL, NULL, &state, &protocol, atr, &atr_size);

      if (status == SCARD_E_NO_SERVICE || status == SCARD_E_READER_UNAVAILABLE)
        rv = status;
      else if (status == SCARD_W_REMOVED_CARD || status == SCARD_E_NO_SMARTCARD ||
               status == SCARD_W_RESET_CARD || card_was_removed (self))
        rv = SCARD_W_REMOVED_CARD;
    }
  _tke_pcsc_set_error (rv, self->reader_index, error);
}

static const SCARD_IO_REQUEST *
send_pci (TkeCard *self)
{
  return self->protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
}

gboolean
_tke_card_transmit (
    TkeCard *self, const guint8 *apdu, gsize size, GByteArray *out, guint *sw, GError **error)
{
  guint8 response[258];
  DWORD n = sizeof response;
  LONG rv = SCardTransmit (self->handle, send_pci (self), apdu, (DWORD) size, NULL, response, &n);

  if (rv != SCARD_S_SUCCESS)
    {
      _tke_card_set_error (self, rv, error);
      return FALSE;
    }
  if (n < 2)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("The card in reader %u gave a malformed answer."), self->reader_index);
      return FALSE;
    }
  if (out != NULL)
    g_byte_array_append (out, response, n - 2);
  *sw = (guint) response[n - 2] << 8 | response[n - 1];
  return TRUE;
}

static gboolean
endless_answer (TkeCard *self, GError **error)
{
  g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
               _ ("The card in reader %u sends an answer that does not end (more than %u bytes "
                  "or %u parts). Remove the card; it may be damaged."),
               self->reader_index, MAX_RESPONSE_SIZE, MAX_GET_RESPONSE_ROUNDS);
  return FALSE;
}

/* While the card says 61 xx: GET RESPONSE, at most MAX_RESPONSE_SIZE bytes
 * in at most MAX_GET_RESPONSE_ROUNDS rounds, so that a card answering 61 xx
 * for ever neither keeps the worker (and the card's lock) busy for ever nor
 * grows the answer without bound. */
static gboolean
get_response (TkeCard *self, GByteArray *out, guint *sw, GError **error)
{
  static const guint8 get_response_apdu[] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };
  g_autoptr (GByteArray) ignored = out == NULL ? g_byte_array_new () : NULL;
  GByteArray *answer = out != NULL ? out : ignored;

  for (guint round = 0; (*sw >> 8) == 0x61; round++)
    {
      if (round == MAX_GET_RESPONSE_ROUNDS || answer->len > MAX_RESPONSE_SIZE)
        return endless_answer (self, error);
      if (!_tke_card_transmit (self, get_response_apdu, sizeof get_response_apdu, answer, sw,
                               error))
        return FALSE;
    }
  if (answer->len > MAX_RESPONSE_SIZE)
    return endless_answer (self, error);
  return TRUE;
}

/* One command: chained when the data exceed 255 bytes (ISO 7816-4
 * 5.1.1.1), with GET RESPONSE while the card says 61 xx.  WITH_LE asks for
 * response data. */
gboolean
_tke_card_command (TkeCard *self,
                   guint8 cla,
                   guint8 ins,
                   guint8 p1,
                   guint8 p2,
                   const guint8 *data,
                   gsize size,
                   gboolean with_le,
                   GByteArray *out,
                   guint *sw,
                   GError **error)
{
  gsize offset = 0;

  do
    {
      gsize piece = MIN (size - offset, 255);
      gboolean last = offset + piece == size;
      guint8 apdu[5 + 255 + 1] = { last ? cla : cla | 0x10, ins, p1, p2, (guint8) piece };
      gsize length = 4;

      if (piece > 0)
        {
          memcpy (apdu + 5, data + offset, piece);
          length = 5 + piece;
        }
      if (last && with_le)
        apdu[length++] = 0x00;
      gboolean sent = _tke_card_transmit (self, apdu, length, last ? out : NULL, sw, error);

      /* The data may be a file's password (tke-card-files.c). */
      OPENSSL_cleanse (apdu, sizeof apdu);
      if (!sent)
        return FALSE;
      offset += piece;
      if (!last && *sw != 0x9000)
        return TRUE;
    }
  while (offset < size);

  return get_response (self, out, sw, error);
}

/* A command that must succeed. */
GByteArray *
_tke_card_command_ok (TkeCard *self,
                      guint8 cla,
                      guint8 ins,
                      guint8 p1,
                      guint8 p2,
                      const guint8 *data,
                      gsize size,
                      gboolean with_le,
                      GError **error)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  guint sw = 0;

  if (!_tke_card_command (self, cla, ins, p1, p2, data, size, with_le, out, &sw, error))
    return NULL;
  if (!_tke_pcsc_check_status (sw, error))
    return NULL;
  return g_steal_pointer (&out);
}

gboolean
_tke_card_select_applet (TkeCard *self, GError **error)
{
  g_autoptr (GByteArray) version = NULL;
  g_autoptr (GError) local_error = NULL;

  version = _tke_card_command_ok (self, 0x00, 0xA4, 0x04, 0x00, applet_aid, sizeof applet_aid, TRUE,
                                  &local_error);
  if (version == NULL)
    {
      if (g_error_matches (local_error, TKE_ERROR, TKE_ERROR_NOT_FOUND))
        g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                     _ ("The card in reader %u is not a TKE card."), self->reader_index);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (version->len < 1 || version->data[0] != 0x01)
    {
      g_set_error (
          error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
          _ ("The card in reader %u speaks a protocol version this program does not know."),
          self->reader_index);
      return FALSE;
    }
  return TRUE;
}

/* ---- Transactions and the PIN's scope ---- */

/* What this operation may take as verified: what this handle verified
 * while it holds a login, in the epoch of its last log out; nothing for
 * a handle without a login (each operation types its own PIN). */
static void
scope_begin (TkeCard *self)
{
  guint epoch = (guint) g_atomic_int_get (&self->epoch);

  self->op_login = g_atomic_int_get (&self->login);
  if (!self->op_login || self->verified_epoch != epoch)
    self->verified = 0;
  self->verified_epoch = epoch;
}

/* The operation's PIN ends with it unless the handle holds a login that
 * was not logged out meanwhile: SELECT clears the card's security state
 * (card-protocol.md §4.1), inside the operation's transaction, so that no
 * operation through any connection comes in between. */
static void
scope_end (TkeCard *self)
{
  g_autoptr (GError) error = NULL;

  if (self->op_login && g_atomic_int_get (&self->login) &&
      (guint) g_atomic_int_get (&self->epoch) == self->verified_epoch)
    return;
  self->verified = 0;
  if (!self->pin_used)
    return;
  if (!_tke_card_select_applet (self, &error))
    g_debug ("reader %u: logging out: %s", self->reader_index, error->message);
  self->pin_used = FALSE;
}

gboolean
_tke_card_begin_transaction (TkeCard *self, GError **error)
{
  LONG rv = SCardBeginTransaction (self->handle);

  /* Another program reset the card since our last operation: reconnect,
   * select again; the PIN is no longer verified, the card will say so. */
  if (rv == SCARD_W_RESET_CARD || rv == SCARD_E_PROTO_MISMATCH)
    {
      self->verified = 0;
      self->pin_used = FALSE;
      rv = SCardReconnect (self->handle, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                           SCARD_LEAVE_CARD, &self->protocol);
      if (rv == SCARD_S_SUCCESS)
        rv = SCardBeginTransaction (self->handle);
      if (rv == SCARD_S_SUCCESS && !_tke_card_select_applet (self, error))
        {
          SCardEndTransaction (self->handle, SCARD_LEAVE_CARD);
          return FALSE;
        }
    }
  if (rv != SCARD_S_SUCCESS)
    {
      _tke_card_set_error (self, rv, error);
      return FALSE;
    }
  scope_begin (self);
  return TRUE;
}

void
_tke_card_end_transaction (TkeCard *self)
{
  scope_end (self);
  SCardEndTransaction (self->handle, SCARD_LEAVE_CARD);
}

gpointer
_tke_card_transact (TkeCard *self,
                    GCancellable *cancellable,
                    TkeCardTransactFunc func,
                    gpointer data,
                    GError **error)
{
  gpointer result = NULL;

  g_mutex_lock (&self->lock);
  if (!g_cancellable_set_error_if_cancelled (cancellable, error) &&
      _tke_card_begin_transaction (self, error))
    {
      result = func (self, data, error);
      _tke_card_end_transaction (self);
    }
  g_mutex_unlock (&self->lock);
  return result;
}

GTask *
_tke_card_task_new (TkeCard *self,
                    gpointer source_tag,
                    GCancellable *cancellable,
                    GAsyncReadyCallback callback,
                    gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_check_cancellable (task, FALSE);
  return task;
}
