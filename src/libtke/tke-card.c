/* tke-card.c: a TKE smart card in a PIN-pad reader, through PC/SC
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The host side of data/doc/card-protocol.md.  Every blocking PC/SC call
 * runs in a GTask worker thread on the card's own SCARDCONTEXT, one
 * operation at a time (a mutex), so several cards work in parallel and the
 * caller's main loop never waits.
 *
 * PINs: there is no function here that takes a PIN.  A PIN is typed on the
 * reader's PIN pad (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT); the reader
 * formats it into the VERIFY APDU.  A reader without a PIN pad is refused.
 *
 * Cancellation: a GCancellable stops the wait for a reader or a card
 * (SCardCancel) and an operation that has not started.  It cannot stop a PIN
 * entry in progress: no PIN-pad reader lets the host abort it (there is no
 * FEATURE_ABORT; SCardCancel does not reach SCardControl).  The person
 * presses Cancel on the pad, or the pad times out (pin-timeout seconds), so
 * front ends say "press Cancel on the PIN pad" instead of offering a cancel
 * button that would do nothing.
 *
 * A PIN verified once stays verified on the card until the card is removed
 * or reset: when this object is finalized it selects the applet again,
 * which clears the card's security state, so nobody else inherits the
 * verified PIN.  The PIN and the operation it protects run
 * inside one SCardBeginTransaction, so no other program comes in between.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <winscard.h>

#include "tke-card.h"
#include "tke-card-private.h"
#include "tke-crypto.h"
#include "tke-enum-types.h"
#include "tke-error.h"
#include "tke-pcsc-private.h"

#define PNP_NOTIFICATION "\\\\?PnP?\\Notification"
#define DEFAULT_PIN_TIMEOUT 30
#define POINT_SIZE 133
#define SEALED_SIZE 194
#define MAX_MESSAGE 4096
#define MAX_ASSOCIATED_DATA 2048
#define PIN_REFERENCE 0x81
/* Bounds a wait between two checks of the cancellable, should SCardCancel
 * arrive before the wait began (pcsc-lite then ignores it). */
#define WAIT_SLICE_MS 1000
/* How long after a failed command pcscd may take to see a card pulled. */
#define REMOVAL_GRACE_MS 1500
/* A card just inserted: how often and how long apart to try connecting. */
#define CONNECT_ATTEMPTS 10
#define CONNECT_RETRY_MS 300
/* How long a card just inserted may stay mute before it counts as mute. */
#define MUTE_GRACE_MS 3000

static const guint8 applet_aid[] = { 0xF0, 0x54, 0x4B, 0x45, 0x43, 0x41, 0x52, 0x44 };

struct _TkeCard
{
  GObject parent_instance;

  GMainContext *context; /* the owner's: signals are emitted there */
  GMutex lock;           /* one operation at a time on the handle */
  SCARDCONTEXT pcsc;
  SCARDHANDLE handle;
  DWORD protocol;
  TkePcscFeatures features;
  char *reader_name;
  guint reader_index;
  gint pin_timeout; /* atomic: workers read it */
  gboolean waiting_for_pin;

  /* Card info: written before the object is published, then only on the
   * owner's context (tke_card_read_info_finish). */
  char *serial;
  TkeCardType card_type;
  char *zone;
  char *zone_description;
  char *description;
  guint pin_tries_left;
  gboolean pin_used; /* a PIN was verified through this handle */
  gboolean has_signature_key;
};

G_DEFINE_FINAL_TYPE (TkeCard, tke_card, G_TYPE_OBJECT)
G_DEFINE_BOXED_TYPE (TkeCardKeyPart,
                     tke_card_key_part,
                     tke_card_key_part_copy,
                     tke_card_key_part_free)

enum
{
  PROP_0,
  PROP_READER_NAME,
  PROP_READER_INDEX,
  PROP_PIN_TIMEOUT,
  PROP_WAITING_FOR_PIN,
  N_PROPS
};

enum
{
  SIGNAL_PIN_REQUESTED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

TkeCardKeyPart *
tke_card_key_part_copy (const TkeCardKeyPart *part)
{
  TkeCardKeyPart *copy = g_new0 (TkeCardKeyPart, 1);

  copy->index = part->index;
  copy->check_value = g_strdup (part->check_value);
  copy->description = g_strdup (part->description);
  return copy;
}

void
tke_card_key_part_free (TkeCardKeyPart *part)
{
  if (part == NULL)
    return;
  g_free (part->check_value);
  g_free (part->description);
  g_free (part);
}

/**
 * tke_reader_default_prefix:
 * @reader_index: 1 or 2
 *
 * The name prefix that identifies reader 1 or 2 when the front end has
 * no configuration: `$TKE_READER1_PREFIX` / `$TKE_READER2_PREFIX` if set
 * (a physical reader), else the virtual readers' names.
 *
 * Returns: the prefix
 */
const char *
tke_reader_default_prefix (guint reader_index)
{
  const char *env = g_getenv (reader_index == 1 ? "TKE_READER1_PREFIX" : "TKE_READER2_PREFIX");

  if (env != NULL && *env != '\0')
    return env;
  return reader_index == 1 ? TKE_READER_1_DEFAULT_PREFIX : TKE_READER_2_DEFAULT_PREFIX;
}

/**
 * tke_card_pin_prompt:
 * @reader_index: 1 or 2
 * @entry: which PIN the pad asks for
 *
 * The text a front end shows while the PIN pad waits (translated).
 *
 * Returns: (transfer full): the prompt
 */
char *
tke_card_pin_prompt (guint reader_index, TkePinEntry entry)
{
  switch (entry)
    {
    case TKE_PIN_ENTRY_NEW:
      return g_strdup_printf (_ ("Enter the new PIN on the PIN pad of reader %u"), reader_index);
    case TKE_PIN_ENTRY_NEW_AGAIN:
      return g_strdup_printf (_ ("Enter the new PIN again on the PIN pad of reader %u"),
                              reader_index);
    case TKE_PIN_ENTRY_CURRENT:
    default:
      return g_strdup_printf (_ ("Enter the PIN on the PIN pad of reader %u"), reader_index);
    }
}

/* ---- Signals from worker threads, delivered on the owner's context ---- */

/* Runs FUNC in CONTEXT's thread, always later.  Not g_main_context_invoke():
 * it runs the function right here when this thread can acquire the context
 * (the global default, while its owner is not iterating), and a signal
 * handler would then run in the worker thread. */
void
tke_card_dispatch (GMainContext *context, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  g_source_set_static_name (source, "[tke] card event");
  g_source_attach (source, context);
  g_source_unref (source);
}

/* Holds the card weakly: a late event must not keep a card alive, or its
 * finalization (which resets the card) would happen at a random moment. */
typedef struct
{
  GWeakRef card;
  gboolean waiting;
  TkePinEntry entry;
} PinEvent;

static void
pin_event_free (gpointer data)
{
  PinEvent *event = data;

  g_weak_ref_clear (&event->card);
  g_free (event);
}

static gboolean
deliver_pin_event (gpointer data)
{
  PinEvent *event = data;
  g_autoptr (TkeCard) self = g_weak_ref_get (&event->card);

  if (self == NULL)
    return G_SOURCE_REMOVE;
  if (event->waiting)
    g_signal_emit (self, signals[SIGNAL_PIN_REQUESTED], 0, event->entry);
  if (self->waiting_for_pin != event->waiting)
    {
      self->waiting_for_pin = event->waiting;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WAITING_FOR_PIN]);
    }
  return G_SOURCE_REMOVE;
}

static void
post_pin_event (TkeCard *self, gboolean waiting, TkePinEntry entry)
{
  PinEvent *event = g_new0 (PinEvent, 1);

  g_weak_ref_init (&event->card, self);
  event->waiting = waiting;
  event->entry = entry;
  tke_card_dispatch (self->context, deliver_pin_event, event, pin_event_free);
}

/* ---- APDUs (worker threads, with self->lock held) ---- */

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
static void
set_card_error (TkeCard *self, LONG rv, GError **error)
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
  tke_pcsc_set_error (rv, self->reader_index, error);
}

static const SCARD_IO_REQUEST *
send_pci (TkeCard *self)
{
  return self->protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
}

static gboolean
transmit_raw (
    TkeCard *self, const guint8 *apdu, gsize size, GByteArray *out, guint *sw, GError **error)
{
  guint8 response[258];
  DWORD n = sizeof response;
  LONG rv = SCardTransmit (self->handle, send_pci (self), apdu, (DWORD) size, NULL, response, &n);

  if (rv != SCARD_S_SUCCESS)
    {
      set_card_error (self, rv, error);
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

/* One command: chained when the data exceed 255 bytes (ISO 7816-4
 * 5.1.1.1), with GET RESPONSE while the card says 61 xx.  WITH_LE asks for
 * response data. */
static gboolean
command (TkeCard *self,
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
      if (!transmit_raw (self, apdu, length, last ? out : NULL, sw, error))
        return FALSE;
      offset += piece;
      if (!last && *sw != 0x9000)
        return TRUE;
    }
  while (offset < size);

  while ((*sw >> 8) == 0x61)
    {
      static const guint8 get_response[] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };

      if (!transmit_raw (self, get_response, sizeof get_response, out, sw, error))
        return FALSE;
    }
  return TRUE;
}

/* A command that must succeed. */
static GByteArray *
command_ok (TkeCard *self,
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

  if (!command (self, cla, ins, p1, p2, data, size, with_le, out, &sw, error))
    return NULL;
  if (!tke_pcsc_check_status (sw, error))
    return NULL;
  return g_steal_pointer (&out);
}

static gboolean
select_applet (TkeCard *self, GError **error)
{
  g_autoptr (GByteArray) version = NULL;
  g_autoptr (GError) local_error = NULL;

  version =
      command_ok (self, 0x00, 0xA4, 0x04, 0x00, applet_aid, sizeof applet_aid, TRUE, &local_error);
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

static TkePcscCardInfo *
read_card_info (TkeCard *self, GError **error)
{
  g_autoptr (GByteArray) data = command_ok (self, 0x80, 0xCA, 0x00, 0x00, NULL, 0, TRUE, error);

  if (data == NULL)
    return NULL;
  return tke_pcsc_parse_card_info (data->data, data->len, error);
}

static void
apply_card_info (TkeCard *self, TkePcscCardInfo *info)
{
  g_free (self->serial);
  self->serial = g_strdup (info->serial);
  self->card_type = info->card_type;
  g_free (self->zone);
  self->zone = g_strdup (info->zone);
  g_free (self->zone_description);
  self->zone_description = g_strdup (info->zone_description);
  g_free (self->description);
  self->description = g_strdup (info->description);
  self->pin_tries_left = info->pin_tries_left;
  self->has_signature_key = info->has_signature_key;
}

/* ---- Transactions and the PIN pad ---- */

static gboolean
begin_transaction (TkeCard *self, GError **error)
{
  LONG rv = SCardBeginTransaction (self->handle);

  /* Another program reset the card since our last operation: reconnect,
   * select again; the PIN is no longer verified, the card will say so. */
  if (rv == SCARD_W_RESET_CARD || rv == SCARD_E_PROTO_MISMATCH)
    {
      rv = SCardReconnect (self->handle, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                           SCARD_LEAVE_CARD, &self->protocol);
      if (rv == SCARD_S_SUCCESS)
        rv = SCardBeginTransaction (self->handle);
      if (rv == SCARD_S_SUCCESS && !select_applet (self, error))
        {
          SCardEndTransaction (self->handle, SCARD_LEAVE_CARD);
          return FALSE;
        }
    }
  if (rv != SCARD_S_SUCCESS)
    {
      set_card_error (self, rv, error);
      return FALSE;
    }
  return TRUE;
}

static void
end_transaction (TkeCard *self)
{
  SCardEndTransaction (self->handle, SCARD_LEAVE_CARD);
}

/* One entry on the PIN pad: the reader sends the APDU INS P1 P2 with the
 * digits it read; we see only the status word. */
/* The tries left as the card counts them (63 Cx), for a front end that
 * says "wrong PIN, x tries left" after a failed entry.  Written on the
 * worker, read by the owner after the operation completed. */
static void
note_pin_status (TkeCard *self, guint sw)
{
  if (sw == 0x9000)
    self->pin_used = TRUE;
  else if ((sw & 0xFFF0) == 0x63C0)
    self->pin_tries_left = sw & 0x000F;
  else if (sw == 0x6983)
    self->pin_tries_left = 0;
}

static gboolean
pin_pad_entry (TkeCard *self, TkePinEntry entry, guint8 ins, guint8 p1, GError **error)
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
  tke_pcsc_build_verify_structure ((guint8) g_atomic_int_get (&self->pin_timeout), ins, p1,
                                   PIN_REFERENCE, structure);
  post_pin_event (self, TRUE, entry);
  rv = SCardControl (self->handle, self->features.verify_pin_direct, structure, sizeof structure,
                     response, sizeof response, &n);
  post_pin_event (self, FALSE, entry);
  /* The status word only: the PIN never reaches the host. */
  g_debug ("PIN entry %d on reader %u: rv 0x%lX, %lu bytes, SW %02X%02X", entry, self->reader_index,
           (unsigned long) rv, (unsigned long) n, n == 2 ? response[0] : 0,
           n == 2 ? response[1] : 0);
  if (rv != SCARD_S_SUCCESS)
    {
      set_card_error (self, rv, error);
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
  /* 69 85 after the second entry of a new PIN: the 20 s window passed. */
  if (entry == TKE_PIN_ENTRY_NEW_AGAIN && sw == 0x6985)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_PIN_TIMEOUT,
                           _ ("The new PIN was not entered again within 20 seconds. Nothing was "
                              "changed."));
      return FALSE;
    }
  return tke_pcsc_check_pin_status (sw, self->reader_index, error);
}

/* VERIFY without data tells whether the PIN is verified in this session
 * (never changes the counter); otherwise the person types it on the pad. */
static gboolean
ensure_pin_verified (TkeCard *self, GError **error)
{
  static const guint8 query[] = { 0x00, 0x20, 0x00, PIN_REFERENCE };
  guint sw = 0;

  if (!transmit_raw (self, query, sizeof query, NULL, &sw, error))
    return FALSE;
  note_pin_status (self, sw);
  if (sw == 0x9000)
    return TRUE;
  if ((sw & 0xFFF0) != 0x63C0 || sw == 0x63C0)
    return tke_pcsc_check_pin_status (sw, self->reader_index, error);
  return pin_pad_entry (self, TKE_PIN_ENTRY_CURRENT, 0x20, 0x00, error);
}

/* ---- Operations ---- */

typedef struct _Operation Operation;
typedef gpointer (*OperationFunc) (TkeCard *self, Operation *op, GError **error);

struct _Operation
{
  OperationFunc func;
  GDestroyNotify result_free;
  gboolean needs_pin;
  guint index;
  GBytes *data;
  GBytes *associated_data;
  char *description;
};

static void
operation_free (gpointer data)
{
  Operation *op = data;

  g_clear_pointer (&op->data, g_bytes_unref);
  g_clear_pointer (&op->associated_data, g_bytes_unref);
  g_free (op->description);
  g_free (op);
}

static void
operation_thread (GTask *task,
                  gpointer source_object,
                  gpointer task_data,
                  GCancellable *cancellable)
{
  TkeCard *self = source_object;
  Operation *op = task_data;
  GError *error = NULL;
  gpointer result = NULL;

  g_mutex_lock (&self->lock);
  if (!g_cancellable_set_error_if_cancelled (cancellable, &error) &&
      begin_transaction (self, &error))
    {
      if (!op->needs_pin || ensure_pin_verified (self, &error))
        result = op->func (self, op, &error);
      end_transaction (self);
    }
  g_mutex_unlock (&self->lock);
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, op->result_free);
}

static Operation *
operation_new (OperationFunc func, GDestroyNotify result_free, gboolean needs_pin)
{
  Operation *op = g_new0 (Operation, 1);

  op->func = func;
  op->result_free = result_free;
  op->needs_pin = needs_pin;
  return op;
}

static void
run_operation (TkeCard *self,
               Operation *op,
               gpointer source_tag,
               GCancellable *cancellable,
               GAsyncReadyCallback callback,
               gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, op, operation_free);
  /* Once started, an operation's result is real (a PIN entry cannot be
   * stopped): report it even if the cancellable fired meanwhile. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_run_in_thread (task, operation_thread);
}

static gpointer
finish_operation (TkeCard *self, GAsyncResult *result, gpointer source_tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The operations return a pointer; a boolean operation returns this. */
static gpointer
success (void)
{
  return GINT_TO_POINTER (1);
}

static gpointer
op_read_info (TkeCard *self, Operation *op, GError **error)
{
  return read_card_info (self, error);
}

static gpointer
op_verify (TkeCard *self, Operation *op, GError **error)
{
  return success ();
}

static GBytes *
read_public_key (TkeCard *self, GError **error)
{
  g_autoptr (GByteArray) point = command_ok (self, 0x80, 0x48, 0x00, 0x00, NULL, 0, TRUE, error);

  if (point == NULL)
    return NULL;
  if (point->len != POINT_SIZE || point->data[0] != 0x04)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's public key is malformed."));
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&point));
}

static gpointer
op_get_public_key (TkeCard *self, Operation *op, GError **error)
{
  return read_public_key (self, error);
}

static gpointer
op_sign (TkeCard *self, Operation *op, GError **error)
{
  gsize size = 0;
  const guint8 *message = g_bytes_get_data (op->data, &size);
  g_autoptr (GByteArray) signature =
      command_ok (self, 0x00, 0x2A, 0x9E, 0x9A, message, size, TRUE, error);

  if (signature == NULL)
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&signature));
}

static TkeCardKeyPart *
read_key_part (TkeCard *self, guint index, GError **error)
{
  g_autoptr (GByteArray) info =
      command_ok (self, 0x80, 0x52, (guint8) index, 0x00, NULL, 0, TRUE, error);
  TkeCardKeyPart *part;

  if (info == NULL)
    return NULL;
  if (info->len < 1 + TKE_VP_SIZE || info->data[0] != index)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's key part list is malformed."));
      return NULL;
    }
  part = g_new0 (TkeCardKeyPart, 1);
  part->index = index;
  part->check_value = tke_crypto_hex_encode (info->data + 1, TKE_VP_SIZE);
  part->description =
      tke_pcsc_utf8_value (info->data + 1 + TKE_VP_SIZE, info->len - 1 - TKE_VP_SIZE);
  return part;
}

static gpointer
op_list_key_parts (TkeCard *self, Operation *op, GError **error)
{
  g_autoptr (GByteArray) indexes = command_ok (self, 0x80, 0x52, 0x00, 0x00, NULL, 0, TRUE, error);
  g_autoptr (GPtrArray) parts = NULL;

  if (indexes == NULL)
    return NULL;
  parts = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_card_key_part_free);
  for (guint i = 0; i < indexes->len; i++)
    {
      TkeCardKeyPart *part = read_key_part (self, indexes->data[i], error);

      if (part == NULL)
        return NULL;
      g_ptr_array_add (parts, part);
    }
  return g_steal_pointer (&parts);
}

static gpointer
op_export_key_part (TkeCard *self, Operation *op, GError **error)
{
  g_autoptr (GByteArray) request = g_byte_array_new ();
  g_autoptr (GByteArray) sealed = NULL;
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (op->data, &size);

  g_byte_array_append (request, data, (guint) size);
  data = g_bytes_get_data (op->associated_data, &size);
  if (size > 0)
    g_byte_array_append (request, data, (guint) size);
  sealed = command_ok (self, 0x80, 0x54, (guint8) op->index, 0x00, request->data, request->len,
                       TRUE, error);
  if (sealed == NULL)
    return NULL;
  if (sealed->len != SEALED_SIZE)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's sealed key part is malformed."));
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&sealed));
}

static gpointer
op_generate_key_part (TkeCard *self, Operation *op, GError **error)
{
  g_autoptr (GByteArray) answer =
      command_ok (self, 0x80, 0x50, 0x00, 0x00, (const guint8 *) op->description,
                  strlen (op->description), TRUE, error);
  TkeCardKeyPart *part;

  if (answer == NULL)
    return NULL;
  if (answer->len != 1 + TKE_VP_SIZE)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's answer to generating a key part is malformed."));
      return NULL;
    }
  part = g_new0 (TkeCardKeyPart, 1);
  part->index = answer->data[0];
  part->check_value = tke_crypto_hex_encode (answer->data + 1, TKE_VP_SIZE);
  part->description = g_strdup (op->description);
  return part;
}

static gpointer
op_change_pin (TkeCard *self, Operation *op, GError **error)
{
  if (!pin_pad_entry (self, TKE_PIN_ENTRY_NEW, 0x24, 0x01, error))
    return NULL;
  if (!pin_pad_entry (self, TKE_PIN_ENTRY_NEW_AGAIN, 0x24, 0x02, error))
    return NULL;
  return success ();
}

/* ---- Opening a card ---- */

typedef struct
{
  guint reader_index;
  char *prefix;
  gboolean wait;
  GMainContext *context;
  SCARDCONTEXT pcsc;
  gboolean have_pcsc;
  GMutex lock; /* guards have_pcsc against the cancel handler */
} OpenData;

static void
open_data_free (gpointer data)
{
  OpenData *d = data;

  g_free (d->prefix);
  g_main_context_unref (d->context);
  g_mutex_clear (&d->lock);
  g_free (d);
}

static void
open_cancelled (GCancellable *cancellable, gpointer user_data)
{
  OpenData *d = user_data;

  g_mutex_lock (&d->lock);
  if (d->have_pcsc)
    SCardCancel (d->pcsc);
  g_mutex_unlock (&d->lock);
}

/* The first reader whose name starts with the prefix, or NULL. */
static char *
find_reader (SCARDCONTEXT pcsc, const char *prefix, LONG *rv)
{
  char *names = NULL;
  DWORD size = SCARD_AUTOALLOCATE;
  char *found = NULL;

  *rv = SCardListReaders (pcsc, NULL, (LPSTR) &names, &size);
  if (*rv == SCARD_E_NO_READERS_AVAILABLE)
    {
      *rv = SCARD_S_SUCCESS;
      return NULL;
    }
  if (*rv != SCARD_S_SUCCESS)
    return NULL;
  for (const char *n = names; *n != '\0' && found == NULL; n += strlen (n) + 1)
    if (g_str_has_prefix (n, prefix))
      found = g_strdup (n);
  SCardFreeMemory (pcsc, names);
  return found;
}

/* A card that answered its reset; a mute one only after MUTE_GRACE_MS
 * (then it is really mute: the caller says so). */
static gboolean
card_ready (DWORD state, gint64 *mute_since)
{
  gint64 now = g_get_monotonic_time ();

  if ((state & SCARD_STATE_PRESENT) == 0)
    {
      *mute_since = 0;
      return FALSE;
    }
  if ((state & SCARD_STATE_MUTE) == 0)
    return TRUE;
  if (*mute_since == 0)
    *mute_since = now;
  return now - *mute_since > MUTE_GRACE_MS * G_TIME_SPAN_MILLISECOND;
}

/* Waits for a reader with a card; returns its name. */
static char *
wait_for_card (OpenData *d, GCancellable *cancellable, GError **error)
{
  SCARD_READERSTATE pnp = { .szReader = PNP_NOTIFICATION, .dwCurrentState = SCARD_STATE_UNAWARE };
  gint64 mute_since = 0;
  LONG rv;

  for (;;)
    {
      g_autofree char *name = NULL;
      SCARD_READERSTATE state = { 0 };

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      name = find_reader (d->pcsc, d->prefix, &rv);
      if (rv != SCARD_S_SUCCESS)
        break;
      if (name == NULL)
        {
          if (!d->wait)
            {
              rv = SCARD_E_UNKNOWN_READER;
              break;
            }
          /* No such reader yet: wait until readers come or go. */
          rv = SCardGetStatusChange (d->pcsc, WAIT_SLICE_MS, &pnp, 1);
          pnp.dwCurrentState = pnp.dwEventState & ~SCARD_STATE_CHANGED;
          if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
            break;
          continue;
        }
      state.szReader = name;
      state.dwCurrentState = SCARD_STATE_UNAWARE;
      rv = SCardGetStatusChange (d->pcsc, 0, &state, 1);
      g_debug ("waiting for a card in reader %u: state 0x%lX, rv 0x%lX", d->reader_index,
               (unsigned long) state.dwEventState, (unsigned long) rv);
      /* A card just inserted is mute until pcscd has powered it up. */
      while (rv == SCARD_S_SUCCESS && d->wait && !card_ready (state.dwEventState, &mute_since) &&
             (state.dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE)) == 0 &&
             !g_cancellable_is_cancelled (cancellable))
        {
          state.dwCurrentState = state.dwEventState & ~SCARD_STATE_CHANGED;
          rv = SCardGetStatusChange (d->pcsc, WAIT_SLICE_MS, &state, 1);
          if (rv == SCARD_E_TIMEOUT)
            rv = SCARD_S_SUCCESS;
        }
      if (rv == SCARD_E_UNKNOWN_READER)
        continue; /* unplugged while we waited: wait for it again */
      if (rv != SCARD_S_SUCCESS)
        break;
      if ((state.dwEventState & SCARD_STATE_PRESENT) != 0 &&
          (state.dwEventState & SCARD_STATE_MUTE) == 0)
        return g_steal_pointer (&name);
      if (!d->wait)
        {
          rv = SCARD_E_TIMEOUT; /* "no card" */
          break;
        }
      if (state.dwEventState & SCARD_STATE_MUTE)
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_NO_CARD,
                       _ ("The card in reader %u does not answer. Insert it the right way round."),
                       d->reader_index);
          return NULL;
        }
    }
  tke_pcsc_set_error (rv, d->reader_index, error);
  return NULL;
}

static gboolean
read_features (TkeCard *self, GError **error)
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
      set_card_error (self, rv, error);
      return FALSE;
    }
  return tke_pcsc_parse_features (tlv, n, &self->features, error);
}

/* SCardConnect, allowing a card just inserted the moment pcscd needs to
 * power it up (it then answers "protocol mismatch", "unpowered", …). */
static LONG
connect_settled (SCARDCONTEXT pcsc, const char *reader_name, SCARDHANDLE *handle, DWORD *protocol)
{
  LONG rv = SCARD_S_SUCCESS;

  for (guint attempt = 0; attempt < CONNECT_ATTEMPTS; attempt++)
    {
      if (attempt > 0)
        g_usleep (CONNECT_RETRY_MS * G_TIME_SPAN_MILLISECOND);
      rv = SCardConnect (pcsc, reader_name, SCARD_SHARE_SHARED,
                         SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, handle, protocol);
      if (rv != SCARD_E_PROTO_MISMATCH && rv != SCARD_W_UNPOWERED_CARD &&
          rv != SCARD_W_UNRESPONSIVE_CARD && rv != SCARD_E_NOT_READY)
        break;
    }
  return rv;
}

/* Connects, learns the reader's features, selects the applet and reads the
 * card's information.  Takes the PC/SC context: the card releases it. */
static TkeCard *
connect_card (OpenData *d, const char *reader_name, GError **error)
{
  g_autoptr (TkeCard) self = g_object_new (TKE_TYPE_CARD, NULL);
  g_autoptr (TkePcscCardInfo) info = NULL;
  LONG rv;

  self->context = g_main_context_ref (d->context);
  self->pcsc = d->pcsc; /* from now on the card releases it */
  self->reader_name = g_strdup (reader_name);
  self->reader_index = d->reader_index;
  rv = connect_settled (d->pcsc, reader_name, &self->handle, &self->protocol);
  g_debug ("connecting to reader %u: rv 0x%lX", d->reader_index, (unsigned long) rv);
  if (rv != SCARD_S_SUCCESS)
    {
      tke_pcsc_set_error (rv == SCARD_E_NO_SMARTCARD ? SCARD_E_TIMEOUT : rv, d->reader_index,
                          error);
      return NULL;
    }
  /* In a transaction: it also reconnects if another program just reset
   * the card (SCARD_W_RESET_CARD), e.g. the previous TkeCard going away. */
  if (!begin_transaction (self, error))
    return NULL;
  if (read_features (self, error) && select_applet (self, error))
    info = read_card_info (self, error);
  end_transaction (self);
  if (info == NULL)
    return NULL;
  apply_card_info (self, info);
  return g_steal_pointer (&self);
}

/* Establishes D's context and runs WAIT with SCardCancel wired to the
 * cancellable; the context stays established only if WAIT returns a name. */
typedef char *(*WaitFunc) (OpenData *d, GCancellable *cancellable, GError **error);

static char *
wait_cancellably (OpenData *d, WaitFunc wait, GCancellable *cancellable, GError **error)
{
  char *name;
  gulong handler = 0;
  LONG rv = SCardEstablishContext (SCARD_SCOPE_SYSTEM, NULL, NULL, &d->pcsc);

  if (rv != SCARD_S_SUCCESS)
    {
      tke_pcsc_set_error (rv, d->reader_index, error);
      return NULL;
    }
  g_mutex_lock (&d->lock);
  d->have_pcsc = TRUE;
  g_mutex_unlock (&d->lock);
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (open_cancelled), d, NULL);
  name = wait (d, cancellable, error);
  /* After this, the cancel handler no longer runs: SCardCancel cannot
   * meet a released context. */
  g_cancellable_disconnect (cancellable, handler);
  g_mutex_lock (&d->lock);
  d->have_pcsc = FALSE;
  g_mutex_unlock (&d->lock);
  if (name == NULL)
    SCardReleaseContext (d->pcsc);
  return name;
}

static void
open_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  OpenData *d = task_data;
  GError *error = NULL;
  g_autofree char *name = wait_cancellably (d, wait_for_card, cancellable, &error);
  TkeCard *card = name != NULL ? connect_card (d, name, &error) : NULL;

  if (card == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, card, g_object_unref);
}

/* Waits until the reader has no card (or is gone); returns a dummy name. */
static char *
wait_for_removal (OpenData *d, GCancellable *cancellable, GError **error)
{
  LONG rv = SCARD_S_SUCCESS;
  g_autofree char *name = find_reader (d->pcsc, d->prefix, &rv);
  SCARD_READERSTATE state = { .szReader = name, .dwCurrentState = SCARD_STATE_UNAWARE };

  if (name == NULL && rv == SCARD_S_SUCCESS)
    return g_strdup ("");
  if (name != NULL)
    rv = SCardGetStatusChange (d->pcsc, 0, &state, 1);
  while (rv == SCARD_S_SUCCESS && (state.dwEventState & SCARD_STATE_PRESENT) != 0 &&
         !g_cancellable_is_cancelled (cancellable))
    {
      state.dwCurrentState = state.dwEventState & ~SCARD_STATE_CHANGED;
      rv = SCardGetStatusChange (d->pcsc, WAIT_SLICE_MS, &state, 1);
      if (rv == SCARD_E_TIMEOUT)
        rv = SCARD_S_SUCCESS;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  if (rv == SCARD_E_UNKNOWN_READER || rv == SCARD_S_SUCCESS)
    return g_strdup ("");
  tke_pcsc_set_error (rv, d->reader_index, error);
  return NULL;
}

static void
wait_removed_thread (GTask *task,
                     gpointer source_object,
                     gpointer task_data,
                     GCancellable *cancellable)
{
  OpenData *d = task_data;
  GError *error = NULL;
  g_autofree char *done = wait_cancellably (d, wait_for_removal, cancellable, &error);

  if (done == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  SCardReleaseContext (d->pcsc);
  g_task_return_boolean (task, TRUE);
}

static GTask *
open_task_new (guint reader_index,
               const char *reader_prefix,
               gboolean wait,
               gpointer source_tag,
               GCancellable *cancellable,
               GAsyncReadyCallback callback,
               gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  OpenData *d = g_new0 (OpenData, 1);

  d->reader_index = reader_index;
  d->prefix =
      g_strdup (reader_prefix != NULL ? reader_prefix : tke_reader_default_prefix (reader_index));
  d->wait = wait;
  d->context = g_main_context_ref_thread_default ();
  g_mutex_init (&d->lock);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, d, open_data_free);
  return task;
}

/* Is the card of this handle still in the reader (not pulled, not swapped)? */
static gboolean
still_our_card (TkeCard *self)
{
  DWORD state = 0;
  DWORD protocol = 0;
  DWORD atr_size = MAX_ATR_SIZE;
  BYTE atr[MAX_ATR_SIZE];

  return SCardStatus (self->handle, NULL, NULL, &state, &protocol, atr, &atr_size) ==
         SCARD_S_SUCCESS;
}

/* When we let go of the card, its verified PIN must not outlive us: SELECT
 * clears the card's security state (card-protocol.md §4.1).  Not a reset:
 * pcscd would power-cycle whatever card is in the reader, under the feet of
 * other handles, and a card swapped in meanwhile is not ours to touch. */
static void
forget_pin (TkeCard *self)
{
  g_autoptr (GError) error = NULL;

  /* A handle that only read the card (the readers strip, a list of key
   * parts) must not clear a PIN another handle is using right now. */
  if (!self->pin_used || !still_our_card (self))
    return;
  if (SCardBeginTransaction (self->handle) != SCARD_S_SUCCESS)
    return;
  select_applet (self, &error);
  SCardEndTransaction (self->handle, SCARD_LEAVE_CARD);
}

/* Until this card (this insertion) is no longer in the reader: pulled,
 * even if another card was inserted since. */
static void
wait_gone_thread (GTask *task,
                  gpointer source_object,
                  gpointer task_data,
                  GCancellable *cancellable)
{
  TkeCard *self = source_object;
  SCARD_READERSTATE state = { .szReader = self->reader_name,
                              .dwCurrentState = SCARD_STATE_UNAWARE };
  GError *error = NULL;

  g_mutex_lock (&self->lock);
  while (still_our_card (self) && !g_cancellable_is_cancelled (cancellable))
    {
      LONG rv = SCardGetStatusChange (self->pcsc, WAIT_SLICE_MS, &state, 1);

      if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
        break;
      state.dwCurrentState = state.dwEventState & ~SCARD_STATE_CHANGED;
    }
  g_mutex_unlock (&self->lock);
  g_debug ("card %s left reader %u", self->serial, self->reader_index);
  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
tke_card_wait_gone_async (TkeCard *self,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, tke_card_wait_gone_async);
  g_task_run_in_thread (task, wait_gone_thread);
}

gboolean
tke_card_wait_gone_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * tke_card_wait_removed_async:
 * @reader_index: 1 or 2: how messages name the reader
 * @reader_prefix: (nullable): the reader's name prefix, or %NULL for
 *   tke_reader_default_prefix()
 * @cancellable: (nullable): stops the wait
 * @callback: callback
 * @user_data: for @callback
 *
 * Completes when the reader has no card (at once if it has none), e.g.
 * after "Remove the card from reader 1".
 */
void
tke_card_wait_removed_async (guint reader_index,
                             const char *reader_prefix,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr (GTask) task =
      open_task_new (reader_index, reader_prefix, TRUE, tke_card_wait_removed_async, cancellable,
                     callback, user_data);

  g_task_run_in_thread (task, wait_removed_thread);
}

gboolean
tke_card_wait_removed_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * tke_card_open_async:
 * @reader_index: 1 or 2: how prompts and messages name the reader
 * @reader_prefix: (nullable): the reader's name prefix, or %NULL for
 *   tke_reader_default_prefix()
 * @wait_for_card: wait until a reader with that prefix has a card;
 *   otherwise fail at once with %TKE_ERROR_NO_READER or %TKE_ERROR_NO_CARD
 * @cancellable: (nullable): stops the wait
 * @callback: called on the thread-default main context of the caller
 * @user_data: for @callback
 *
 * Connects to the card in a reader, selects the TKE applet and reads the
 * card's information.  The card's signals are emitted on the caller's
 * thread-default main context.
 */
void
tke_card_open_async (guint reader_index,
                     const char *reader_prefix,
                     gboolean wait_for_card,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  g_autoptr (GTask) task = open_task_new (reader_index, reader_prefix, wait_for_card,
                                          tke_card_open_async, cancellable, callback, user_data);

  g_task_run_in_thread (task, open_thread);
}

/**
 * tke_card_open_finish:
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the card, or %NULL with @error set
 */
TkeCard *
tke_card_open_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- GObject ---- */

static void
tke_card_finalize (GObject *object)
{
  TkeCard *self = TKE_CARD (object);

  if (self->handle != 0)
    {
      forget_pin (self);
      SCardDisconnect (self->handle, SCARD_LEAVE_CARD);
    }
  if (self->pcsc != 0)
    SCardReleaseContext (self->pcsc);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_clear (&self->lock);
  g_free (self->reader_name);
  g_free (self->serial);
  g_free (self->zone);
  g_free (self->zone_description);
  g_free (self->description);
  G_OBJECT_CLASS (tke_card_parent_class)->finalize (object);
}

static void
tke_card_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TkeCard *self = TKE_CARD (object);

  switch (prop_id)
    {
    case PROP_READER_NAME:
      g_value_set_string (value, self->reader_name);
      break;
    case PROP_READER_INDEX:
      g_value_set_uint (value, self->reader_index);
      break;
    case PROP_PIN_TIMEOUT:
      g_value_set_uint (value, (guint) self->pin_timeout);
      break;
    case PROP_WAITING_FOR_PIN:
      g_value_set_boolean (value, self->waiting_for_pin);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_card_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TkeCard *self = TKE_CARD (object);

  switch (prop_id)
    {
    case PROP_PIN_TIMEOUT:
      tke_card_set_pin_timeout (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_card_class_init (TkeCardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tke_card_finalize;
  object_class->get_property = tke_card_get_property;
  object_class->set_property = tke_card_set_property;

  properties[PROP_READER_NAME] = g_param_spec_string ("reader-name", NULL, NULL, NULL,
                                                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_READER_INDEX] = g_param_spec_uint ("reader-index", NULL, NULL, 0, 2, 0,
                                                     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * TkeCard:pin-timeout:
   *
   * Seconds the PIN pad waits for the PIN (bTimerOut; 0 = the reader's
   * default).  The only way besides Cancel on the pad to end a PIN entry.
   */
  properties[PROP_PIN_TIMEOUT] =
      g_param_spec_uint ("pin-timeout", NULL, NULL, 0, 255, DEFAULT_PIN_TIMEOUT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * TkeCard:waiting-for-pin:
   *
   * %TRUE while the PIN pad waits for the person to type.
   */
  properties[PROP_WAITING_FOR_PIN] = g_param_spec_boolean (
      "waiting-for-pin", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * TkeCard::pin-requested:
   * @card: the card
   * @entry: which PIN is asked for
   *
   * The PIN pad now waits for the PIN: show tke_card_pin_prompt().  A
   * front end cannot end the entry; the person presses Cancel on the pad.
   */
  signals[SIGNAL_PIN_REQUESTED] =
      g_signal_new ("pin-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, TKE_TYPE_PIN_ENTRY);
}

static void
tke_card_init (TkeCard *self)
{
  g_mutex_init (&self->lock);
  self->pin_timeout = DEFAULT_PIN_TIMEOUT;
}

/* ---- Accessors ---- */

const char *
tke_card_get_reader_name (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), NULL);
  return self->reader_name;
}

guint
tke_card_get_reader_index (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), 0);
  return self->reader_index;
}

guint
tke_card_get_pin_timeout (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), 0);
  return (guint) g_atomic_int_get (&self->pin_timeout);
}

void
tke_card_set_pin_timeout (TkeCard *self, guint seconds)
{
  g_return_if_fail (TKE_IS_CARD (self));
  seconds = MIN (seconds, 255);
  if ((guint) g_atomic_int_get (&self->pin_timeout) == seconds)
    return;
  g_atomic_int_set (&self->pin_timeout, (gint) seconds);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PIN_TIMEOUT]);
}

gboolean
tke_card_get_waiting_for_pin (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), FALSE);
  return self->waiting_for_pin;
}

const char *
tke_card_get_serial (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), NULL);
  return self->serial;
}

TkeCardType
tke_card_get_card_type (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), TKE_CARD_TYPE_UNKNOWN);
  return self->card_type;
}

const char *
tke_card_get_zone (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), NULL);
  return self->zone;
}

const char *
tke_card_get_zone_description (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), NULL);
  return self->zone_description;
}

const char *
tke_card_get_description (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), NULL);
  return self->description;
}

guint
tke_card_get_pin_tries_left (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), 0);
  return self->pin_tries_left;
}

gboolean
tke_card_get_has_signature_key (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), FALSE);
  return self->has_signature_key;
}

/* ---- Async API ---- */

/**
 * tke_card_read_info_async:
 * @self: a card
 * @cancellable: (nullable): a #GCancellable
 * @callback: callback
 * @user_data: for @callback
 *
 * Reads the card's information again (tries left, signature key, …).
 */
void
tke_card_read_info_async (TkeCard *self,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  run_operation (self,
                 operation_new (op_read_info, (GDestroyNotify) tke_pcsc_card_info_free, FALSE),
                 tke_card_read_info_async, cancellable, callback, user_data);
}

gboolean
tke_card_read_info_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  g_autoptr (TkePcscCardInfo) info =
      finish_operation (self, result, tke_card_read_info_async, error);

  if (info == NULL)
    return FALSE;
  apply_card_info (self, info);
  return TRUE;
}

/**
 * tke_card_verify_pin_async:
 * @self: a card
 * @cancellable: (nullable): checked before the PIN entry starts only
 * @callback: callback
 * @user_data: for @callback
 *
 * Has the person type the PIN on the PIN pad, unless it is verified
 * already in this session.  Emits #TkeCard::pin-requested.
 */
void
tke_card_verify_pin_async (TkeCard *self,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  run_operation (self, operation_new (op_verify, NULL, TRUE), tke_card_verify_pin_async,
                 cancellable, callback, user_data);
}

gboolean
tke_card_verify_pin_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_verify_pin_async, error) != NULL;
}

/**
 * tke_card_get_public_key_async:
 * @self: a card
 * @cancellable: (nullable): a #GCancellable
 * @callback: callback
 * @user_data: for @callback
 *
 * Reads the signature key's public point (EP11) or the zone key's (CA).
 */
void
tke_card_get_public_key_async (TkeCard *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  run_operation (self, operation_new (op_get_public_key, (GDestroyNotify) g_bytes_unref, FALSE),
                 tke_card_get_public_key_async, cancellable, callback, user_data);
}

/**
 * tke_card_get_public_key_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the uncompressed P-521 point (133 bytes)
 */
GBytes *
tke_card_get_public_key_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_get_public_key_async, error);
}

/**
 * tke_card_sign_async:
 * @self: a card
 * @data: the message (1–4096 bytes); the card hashes it with SHA-512
 * @cancellable: (nullable): checked before the PIN entry starts only
 * @callback: callback
 * @user_data: for @callback
 *
 * Verifies the PIN on the pad if needed, then signs, in one transaction.
 */
void
tke_card_sign_async (TkeCard *self,
                     GBytes *data,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  Operation *op;

  g_return_if_fail (TKE_IS_CARD (self));
  g_return_if_fail (data != NULL);
  if (g_bytes_get_size (data) == 0 || g_bytes_get_size (data) > MAX_MESSAGE)
    {
      g_task_report_new_error (self, callback, user_data, tke_card_sign_async, TKE_ERROR,
                               TKE_ERROR_INVALID_ARGUMENT,
                               _ ("A card signs messages of 1 to %d bytes."), MAX_MESSAGE);
      return;
    }
  op = operation_new (op_sign, (GDestroyNotify) g_bytes_unref, TRUE);
  op->data = g_bytes_ref (data);
  run_operation (self, op, tke_card_sign_async, cancellable, callback, user_data);
}

/**
 * tke_card_sign_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the DER ECDSA P-521/SHA-512 signature
 */
GBytes *
tke_card_sign_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_sign_async, error);
}

/**
 * tke_card_list_key_parts_async:
 * @self: a card
 * @cancellable: (nullable): a #GCancellable
 * @callback: callback
 * @user_data: for @callback
 *
 * Lists the card's key parts (no PIN needed).
 */
void
tke_card_list_key_parts_async (TkeCard *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  run_operation (self, operation_new (op_list_key_parts, (GDestroyNotify) g_ptr_array_unref, FALSE),
                 tke_card_list_key_parts_async, cancellable, callback, user_data);
}

/**
 * tke_card_list_key_parts_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type TkeCardKeyPart): the parts
 */
GPtrArray *
tke_card_list_key_parts_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_list_key_parts_async, error);
}

/**
 * tke_card_export_key_part_async:
 * @self: a card
 * @index: the key part's index on the card
 * @importer_public_key: the unit's importer public point (133 bytes)
 * @associated_data: (nullable): bound to the sealed part (0–2048 bytes)
 * @cancellable: (nullable): checked before the PIN entry starts only
 * @callback: callback
 * @user_data: for @callback
 *
 * The card seals the part to the importer key (tke_crypto_seal()); the part
 * never leaves the card in clear.
 */
void
tke_card_export_key_part_async (TkeCard *self,
                                guint index,
                                GBytes *importer_public_key,
                                GBytes *associated_data,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  Operation *op;

  g_return_if_fail (TKE_IS_CARD (self));
  g_return_if_fail (importer_public_key != NULL);
  if (index < 1 || index > 85 || g_bytes_get_size (importer_public_key) != POINT_SIZE ||
      (associated_data != NULL && g_bytes_get_size (associated_data) > MAX_ASSOCIATED_DATA))
    {
      g_task_report_new_error (self, callback, user_data, tke_card_export_key_part_async, TKE_ERROR,
                               TKE_ERROR_INVALID_ARGUMENT,
                               _ ("Cannot export key part %u: bad index, importer key or "
                                  "associated data."),
                               index);
      return;
    }
  op = operation_new (op_export_key_part, (GDestroyNotify) g_bytes_unref, TRUE);
  op->index = index;
  op->data = g_bytes_ref (importer_public_key);
  op->associated_data =
      associated_data != NULL ? g_bytes_ref (associated_data) : g_bytes_new (NULL, 0);
  run_operation (self, op, tke_card_export_key_part_async, cancellable, callback, user_data);
}

/**
 * tke_card_export_key_part_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the sealed part (194 bytes), for tke_crypto_open()
 */
GBytes *
tke_card_export_key_part_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_export_key_part_async, error);
}

/**
 * tke_card_generate_key_part_async:
 * @self: a card
 * @description: 1–32 bytes of UTF-8
 * @cancellable: (nullable): checked before the PIN entry starts only
 * @callback: callback
 * @user_data: for @callback
 *
 * The card makes a random 32-byte part at its lowest free index.
 */
void
tke_card_generate_key_part_async (TkeCard *self,
                                  const char *description,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  Operation *op;
  gsize size;

  g_return_if_fail (TKE_IS_CARD (self));
  g_return_if_fail (description != NULL);
  size = strlen (description);
  if (size < 1 || size > 32 || !g_utf8_validate (description, -1, NULL))
    {
      g_task_report_new_error (self, callback, user_data, tke_card_generate_key_part_async,
                               TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                               _ ("A key part's description has 1 to 32 bytes."));
      return;
    }
  op = operation_new (op_generate_key_part, (GDestroyNotify) tke_card_key_part_free, TRUE);
  op->description = g_strdup (description);
  run_operation (self, op, tke_card_generate_key_part_async, cancellable, callback, user_data);
}

/**
 * tke_card_generate_key_part_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the new part's index, check value, description
 */
TkeCardKeyPart *
tke_card_generate_key_part_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_generate_key_part_async, error);
}

/**
 * tke_card_change_pin_async:
 * @self: a card
 * @cancellable: (nullable): checked before the first PIN entry only
 * @callback: callback
 * @user_data: for @callback
 *
 * Three entries on the PIN pad: the current PIN (unless verified), the new
 * one, and the new one again within 20 seconds.
 */
void
tke_card_change_pin_async (TkeCard *self,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  run_operation (self, operation_new (op_change_pin, NULL, TRUE), tke_card_change_pin_async,
                 cancellable, callback, user_data);
}

gboolean
tke_card_change_pin_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  return finish_operation (self, result, tke_card_change_pin_async, error) != NULL;
}
