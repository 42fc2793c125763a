/* tke-card-session.c: waiting for the right card, for the card signer and key part source
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both keep a card open between operations and hold a login on it, so its
 * PIN stays verified for one ceremony (tke-card.c, "A PIN's scope"), prompt
 * the person to insert it when it is not there, and forward the PIN pad's
 * prompt.  The login ends when the ceremony logs the session out, when the
 * session drops the card (removed, swapped, or the session finalized), and
 * with the card.
 */

#include "config.h"

#include "tke-card-private.h"
#include "tke-card-session-private.h"
#include "tke-error.h"

void
_tke_card_session_init (TkeCardSession *session,
                        GObject *owner,
                        guint prompt_signal,
                        guint reader_index,
                        const char *reader_prefix,
                        const char *insert_prompt,
                        const char *pin_prompt)
{
  session->owner = owner;
  session->prompt_signal = prompt_signal;
  session->reader_index = reader_index;
  session->reader_prefix =
      g_strdup (reader_prefix != NULL ? reader_prefix : tke_reader_default_prefix (reader_index));
  session->pin_timeout = 30;
  session->insert_prompt = g_strdup (insert_prompt);
  session->pin_prompt = g_strdup (pin_prompt);
}

static void
drop (TkeCardSession *session, gboolean log_out)
{
  if (session->card == NULL)
    return;
  g_clear_signal_handler (&session->pin_handler, session->card);
  if (log_out)
    tke_card_log_out_async (session->card, NULL, NULL);
  session->lent = FALSE;
  g_clear_object (&session->card);
}

void
_tke_card_session_forget (TkeCardSession *session)
{
  drop (session, !session->lent);
}

void
_tke_card_session_log_out (TkeCardSession *session)
{
  drop (session, TRUE);
}

void
_tke_card_session_clear (TkeCardSession *session)
{
  _tke_card_session_forget (session);
  g_clear_pointer (&session->reader_prefix, g_free);
  g_clear_pointer (&session->insert_prompt, g_free);
  g_clear_pointer (&session->pin_prompt, g_free);
}

void
_tke_card_session_set_pin_timeout (TkeCardSession *session, guint seconds)
{
  session->pin_timeout = seconds;
  if (session->card != NULL)
    tke_card_set_pin_timeout (session->card, seconds);
}

static void
prompt_text (TkeCardSession *session, TkeCardPrompt kind, const char *text)
{
  g_signal_emit (session->owner, session->prompt_signal, 0, kind, text);
}

static void
prompt (TkeCardSession *session, TkeCardPrompt kind)
{
  prompt_text (session, kind,
               kind == TKE_CARD_PROMPT_INSERT_CARD ? session->insert_prompt : session->pin_prompt);
}

static void
on_pin_requested (TkeCard *card, TkePinEntry entry, gpointer user_data)
{
  prompt (user_data, TKE_CARD_PROMPT_ENTER_PIN);
}

static void
adopt (TkeCardSession *session, TkeCard *card)
{
  if (session->card == card)
    return;
  _tke_card_session_forget (session);
  session->card = g_object_ref (card);
  _tke_card_hold_login (card);
  tke_card_set_pin_timeout (card, session->pin_timeout);
  session->pin_handler =
      g_signal_connect (card, "pin-requested", G_CALLBACK (on_pin_requested), session);
}

void
_tke_card_session_lend (TkeCardSession *session, TkeCard *card)
{
  adopt (session, card);
  session->lent = TRUE;
}

/* A card pulled while it was being read, during a swap: wait again. */
static gboolean
swap_in_progress (const GError *error)
{
  return g_error_matches (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED) ||
         g_error_matches (error, TKE_ERROR, TKE_ERROR_NO_CARD);
}

static void
opened_after_wait (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCardSession *session = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (TkeCard) card = tke_card_open_finish (result, &error);

  if (card == NULL && swap_in_progress (error))
    {
      g_error_free (error);
      tke_card_open_async (session->reader_index, session->reader_prefix, TRUE,
                           g_task_get_cancellable (task), opened_after_wait, g_object_ref (task));
      return;
    }
  if (card == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  adopt (session, card);
  g_task_return_pointer (task, g_object_ref (card), g_object_unref);
}

static void
opened_at_once (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCardSession *session = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (TkeCard) card = tke_card_open_finish (result, &error);

  if (card != NULL)
    {
      adopt (session, card);
      g_task_return_pointer (task, g_object_ref (card), g_object_unref);
      return;
    }
  if (!g_error_matches (error, TKE_ERROR, TKE_ERROR_NO_CARD) &&
      !g_error_matches (error, TKE_ERROR, TKE_ERROR_NO_READER))
    {
      g_task_return_error (task, error);
      return;
    }
  g_error_free (error);
  prompt (session, TKE_CARD_PROMPT_INSERT_CARD);
  tke_card_open_async (session->reader_index, session->reader_prefix, TRUE,
                       g_task_get_cancellable (task), opened_after_wait, g_object_ref (task));
}

static void open_now (GTask *task);

/* The card we had: still the same insertion?  A removed card fails here. */
static void
checked_old_card (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCardSession *session = g_task_get_task_data (task);
  GError *error = NULL;

  if (tke_card_read_info_finish (TKE_CARD (source), result, &error))
    {
      g_task_return_pointer (task, g_object_ref (source), g_object_unref);
      return;
    }
  if (!g_error_matches (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED) &&
      !g_error_matches (error, TKE_ERROR, TKE_ERROR_NO_CARD))
    {
      g_task_return_error (task, error);
      return;
    }
  g_error_free (error);
  if (session->card == TKE_CARD (source))
    _tke_card_session_forget (session);
  open_now (task);
}

static void
open_now (GTask *task)
{
  TkeCardSession *session = g_task_get_task_data (task);

  tke_card_open_async (session->reader_index, session->reader_prefix, FALSE,
                       g_task_get_cancellable (task), opened_at_once, g_object_ref (task));
}

void
_tke_card_session_open_async (TkeCardSession *session,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (session->owner, cancellable, callback, user_data);

  g_task_set_source_tag (task, _tke_card_session_open_async);
  g_task_set_task_data (task, session, NULL);
  if (session->card != NULL)
    tke_card_read_info_async (session->card, cancellable, checked_old_card, g_object_ref (task));
  else
    open_now (task);
}

TkeCard *
_tke_card_session_open_finish (TkeCardSession *session, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Swapping cards: the rejected card may still be in the reader (then wait
 * until it is pulled) or already replaced (the person was quick). */
typedef struct
{
  TkeCardSession *session;
  char *rejected; /* serial */
} NextData;

static void
next_data_free (gpointer data)
{
  NextData *d = data;

  g_free (d->rejected);
  g_free (d);
}

static void next_removed (GObject *source, GAsyncResult *result, gpointer user_data);

static void
next_opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  NextData *d = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (TkeCard) card = tke_card_open_finish (result, &error);

  /* Caught in the middle of the swap: the old card went while we read it. */
  if (card == NULL)
    g_debug ("swap in reader %u: %s", d->session->reader_index, error->message);
  if (card == NULL && swap_in_progress (error))
    {
      g_error_free (error);
      tke_card_open_async (d->session->reader_index, d->session->reader_prefix, TRUE,
                           g_task_get_cancellable (task), next_opened, g_object_ref (task));
      return;
    }
  if (card == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_debug ("swap in reader %u: card %s is in (not wanted: %s)", d->session->reader_index,
           card != NULL ? tke_card_get_serial (card) : "none", d->rejected);
  if (d->rejected != NULL && g_strcmp0 (tke_card_get_serial (card), d->rejected) == 0)
    {
      /* Still the card we do not want: wait until it is pulled (another
       * one may already be in by then). */
      _tke_card_wait_gone_async (card, g_task_get_cancellable (task), next_removed,
                                 g_object_ref (task));
      return;
    }
  adopt (d->session, card);
  g_task_return_pointer (task, g_object_ref (card), g_object_unref);
}

static void
next_removed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  NextData *d = g_task_get_task_data (task);
  GError *error = NULL;

  if (!_tke_card_wait_gone_finish (TKE_CARD (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  tke_card_open_async (d->session->reader_index, d->session->reader_prefix, TRUE,
                       g_task_get_cancellable (task), next_opened, g_object_ref (task));
}

void
_tke_card_session_next_card_async (TkeCardSession *session,
                                   const char *text,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (session->owner, cancellable, callback, user_data);
  NextData *d = g_new0 (NextData, 1);

  d->session = session;
  d->rejected = session->card != NULL ? g_strdup (tke_card_get_serial (session->card)) : NULL;
  g_task_set_source_tag (task, _tke_card_session_open_async);
  g_task_set_task_data (task, d, next_data_free);
  _tke_card_session_forget (session);
  prompt_text (session, TKE_CARD_PROMPT_INSERT_CARD, text);
  tke_card_open_async (session->reader_index, session->reader_prefix, TRUE, cancellable,
                       next_opened, g_object_ref (task));
}
