/* tke-card-session-private.h: waiting for the right card, for the card signer and key part source
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tke-card.h"

G_BEGIN_DECLS

/* Emits PROMPT (a "prompt" signal of OWNER, signature (TkeCardPrompt, const
 * char *)) with the texts below, forwards the card's pin-requested to it. */
typedef struct
{
  GObject *owner;
  guint prompt_signal;
  guint reader_index;
  char *reader_prefix;
  guint pin_timeout;
  TkeCard *card;
  gboolean lent; /* the card was handed over: its lender logs it out */
  gulong pin_handler;
  char *insert_prompt;
  char *pin_prompt;
} TkeCardSession;

void _tke_card_session_init (TkeCardSession *session,
                             GObject *owner,
                             guint prompt_signal,
                             guint reader_index,
                             const char *reader_prefix,
                             const char *insert_prompt,
                             const char *pin_prompt);
void _tke_card_session_clear (TkeCardSession *session);
void _tke_card_session_set_pin_timeout (TkeCardSession *session, guint seconds);
/* Drops the card, e.g. after it was removed; a card the session opened
 * is logged out (tke_card_log_out_async()). */
void _tke_card_session_forget (TkeCardSession *session);
/* The ceremony ended: logs the card out, even a lent one, and drops it;
 * the next operation opens the card again and asks for its PIN. */
void _tke_card_session_log_out (TkeCardSession *session);
/* Works with @card, opened and logged in by the caller (its PIN holds
 * for the session), until it is removed or the session logs out. */
void _tke_card_session_lend (TkeCardSession *session, TkeCard *card);

/* Opens the card in the reader (the one already open if it is still
 * there): tries at once, and if there is no card, emits the insert prompt
 * and waits.  Completes with the TkeCard. */
void _tke_card_session_open_async (TkeCardSession *session,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
TkeCard *
_tke_card_session_open_finish (TkeCardSession *session, GAsyncResult *result, GError **error);

/* The card in the reader is not the one wanted: forgets it, emits the
 * insert prompt with TEXT, waits until it is pulled and another one is
 * inserted.  Completes like _tke_card_session_open_async(). */
void _tke_card_session_next_card_async (TkeCardSession *session,
                                        const char *text,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data);

G_END_DECLS
