/* tke-card-open.c: opening a TKE card, waiting for a card or its removal
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each wait runs in a worker thread on its own SCARDCONTEXT, with
 * SCardCancel wired to the caller's GCancellable.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <winscard.h>

#include "tke-card-private.h"
#include "tke-error.h"
#include "tke-pcsc-private.h"

#define PNP_NOTIFICATION "\\\\?PnP?\\Notification"
/* Bounds a wait between two checks of the cancellable, should SCardCancel
 * arrive before the wait began (pcsc-lite then ignores it). */
#define WAIT_SLICE_MS 1000
/* A card just inserted: how often and how long apart to try connecting. */
#define CONNECT_ATTEMPTS 10
#define CONNECT_RETRY_MS 300
/* How long a card just inserted may stay mute before it counts as mute. */
#define MUTE_GRACE_MS 3000

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
  _tke_pcsc_set_error (rv, d->reader_index, error);
  return NULL;
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

/* The card's information.  When another handle has the applet selected
 * already, it answers without a SELECT, and none is sent: a SELECT clears
 * the PIN (card-protocol.md §4.1), and another handle may be using that PIN
 * now (the readers strip reads a card a ceremony just verified).  This
 * handle does not get that PIN: an operation through it has the person
 * type it (tke-card-pin-pad.c).  A card just inserted has nothing
 * selected, refuses (69 85), and is selected. */
static TkePcscCardInfo *
read_info_keeping_pin (TkeCard *self, GError **error)
{
  TkePcscCardInfo *info = _tke_card_read_info (self, NULL);

  if (info != NULL)
    {
      g_debug ("reader %u: the applet is selected already; not selecting it again",
               self->reader_index);
      return info;
    }
  if (!_tke_card_select_applet (self, error))
    return NULL;
  return _tke_card_read_info (self, error);
}

/* Connects, learns the reader's features, selects the applet (unless it is
 * selected) and reads the card's information.  Takes the PC/SC context:
 * the card releases it. */
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
      _tke_pcsc_set_error (rv == SCARD_E_NO_SMARTCARD ? SCARD_E_TIMEOUT : rv, d->reader_index,
                           error);
      return NULL;
    }
  /* In a transaction: it also reconnects if another program just reset
   * the card (SCARD_W_RESET_CARD), e.g. the previous TkeCard going away. */
  if (!_tke_card_begin_transaction (self, error))
    return NULL;
  if (_tke_card_read_features (self, error))
    info = read_info_keeping_pin (self, error);
  _tke_card_end_transaction (self);
  if (info == NULL)
    return NULL;
  _tke_card_apply_info (self, info);
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
      _tke_pcsc_set_error (rv, d->reader_index, error);
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
  g_autofree char *name = NULL;
  TkeCard *card;

  /* Always a connection of its own: a PIN verified through another one is
   * not this one's (tke-card.c, "A PIN's scope"). */
  name = wait_cancellably (d, wait_for_card, cancellable, &error);
  card = name != NULL ? connect_card (d, name, &error) : NULL;

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
  _tke_pcsc_set_error (rv, d->reader_index, error);
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
gboolean
_tke_card_still_ours (TkeCard *self)
{
  DWORD state = 0;
  DWORD protocol = 0;
  DWORD atr_size = MAX_ATR_SIZE;
  BYTE atr[MAX_ATR_SIZE];

  LONG rv = SCardStatus (self->handle, NULL, NULL, &state, &protocol, atr, &atr_size);

  if (rv != SCARD_S_SUCCESS)
    g_debug ("reader %u: card %s: status rv 0x%lX", self->reader_index, self->serial,
             (unsigned long) rv);
  return rv == SCARD_S_SUCCESS;
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
  while (_tke_card_still_ours (self) && !g_cancellable_is_cancelled (cancellable))
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
_tke_card_wait_gone_async (TkeCard *self,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, _tke_card_wait_gone_async);
  g_task_run_in_thread (task, wait_gone_thread);
}

gboolean
_tke_card_wait_gone_finish (TkeCard *self, GAsyncResult *result, GError **error)
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

/**
 * tke_card_wait_removed_finish:
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: %TRUE once the reader has no card, %FALSE with @error set
 */
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
