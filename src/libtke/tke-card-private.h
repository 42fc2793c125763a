/* tke-card-private.h: what the files of TkeCard and the smart card layer share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TkeCard spans tke-card.c (the type), tke-card-apdu.c (APDU transport),
 * tke-card-pin-pad.c (the PIN pad), tke-card-open.c (opening and waiting)
 * and tke-card-commands.c (the card's commands).  The functions that take
 * a TkeCard run in worker threads with self->lock held, unless said.
 */

#pragma once

#include <gio/gio.h>
#include <winscard.h>

#include "tke-card.h"
#include "tke-pcsc-private.h"

G_BEGIN_DECLS

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
  gboolean has_signature_key;

  /* The PIN's scope (tke-card.c, "A PIN's scope").  Atomic, set by the
   * owner: login (the handle keeps what it verifies between operations:
   * tke_card_verify_pin_async(), a ceremony's signer or key part source)
   * and epoch (one more at each log out).  The rest belongs to the
   * operation that holds the lock. */
  gint login;
  gint epoch;
  guint verified;       /* PINs verified through this handle in its scope: bit 0 P2 81, bit 1 82 */
  guint verified_epoch; /* the epoch they were verified in */
  gboolean op_login;    /* the running operation keeps what it verifies */
  gboolean pin_used;    /* a PIN typed through this handle may still be verified on the card */
};

/* tke-card-commands.c: from now on what an operation verifies through
 * this handle is kept for its next operations, until
 * tke_card_log_out_async() (owner's thread). */
void _tke_card_hold_login (TkeCard *self);

/* tke-card.c */

/* Runs FUNC later in CONTEXT (an idle source), never in the caller's thread. */
void
_tke_card_dispatch (GMainContext *context, GSourceFunc func, gpointer data, GDestroyNotify notify);
/* From a worker: the PIN pad starts (WAITING) or stopped waiting. */
void _tke_card_post_pin_event (TkeCard *self, gboolean waiting, TkePinEntry entry);

/* tke-card-apdu.c */

void _tke_card_set_error (TkeCard *self, LONG rv, GError **error);
gboolean _tke_card_transmit (
    TkeCard *self, const guint8 *apdu, gsize size, GByteArray *out, guint *sw, GError **error);
gboolean _tke_card_command (TkeCard *self,
                            guint8 cla,
                            guint8 ins,
                            guint8 p1,
                            guint8 p2,
                            const guint8 *data,
                            gsize size,
                            gboolean with_le,
                            GByteArray *out,
                            guint *sw,
                            GError **error);
GByteArray *_tke_card_command_ok (TkeCard *self,
                                  guint8 cla,
                                  guint8 ins,
                                  guint8 p1,
                                  guint8 p2,
                                  const guint8 *data,
                                  gsize size,
                                  gboolean with_le,
                                  GError **error);
gboolean _tke_card_select_applet (TkeCard *self, GError **error);
/* Every operation runs inside one transaction; beginning it begins the
 * operation's PIN scope, ending it ends the scope: a PIN verified in an
 * operation without a login is cleared on the card (SELECT) before the
 * transaction ends. */
gboolean _tke_card_begin_transaction (TkeCard *self, GError **error);
void _tke_card_end_transaction (TkeCard *self);

/* What the worker of every one-card operation does: takes the card's
 * lock, checks @cancellable (once: a PIN entry cannot be stopped), begins
 * a transaction and runs @func in it.  @func's result, or NULL. */
typedef gpointer (*TkeCardTransactFunc) (TkeCard *self, gpointer data, GError **error);
gpointer _tke_card_transact (TkeCard *self,
                             GCancellable *cancellable,
                             TkeCardTransactFunc func,
                             gpointer data,
                             GError **error);

/* A card operation's task: once started, its result is real (a PIN
 * entry cannot be stopped), so it is reported even if @cancellable fired
 * meanwhile. */
GTask *_tke_card_task_new (TkeCard *self,
                           gpointer source_tag,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data);

/* tke-card-pin-pad.c */

gboolean _tke_card_read_features (TkeCard *self, GError **error);
gboolean
_tke_card_pin_pad_entry (TkeCard *self, TkePinEntry entry, guint8 ins, guint8 p1, GError **error);
gboolean _tke_card_ensure_pin_verified (TkeCard *self, GError **error);
gboolean _tke_card_pin_pad_entry_ref (
    TkeCard *self, TkePinEntry entry, guint8 ins, guint8 p1, guint8 p2, GError **error);
gboolean
_tke_card_ensure_pin_ref_verified (TkeCard *self, guint8 p2, TkePinEntry entry, GError **error);

/* tke-card-open.c */

gboolean _tke_card_still_ours (TkeCard *self);
/* Completes once this card (this insertion) left the reader (owner's thread). */
void _tke_card_wait_gone_async (TkeCard *self,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean _tke_card_wait_gone_finish (TkeCard *self, GAsyncResult *result, GError **error);

/* tke-card-commands.c */

TkePcscCardInfo *_tke_card_read_info (TkeCard *self, GError **error);
void _tke_card_apply_info (TkeCard *self, TkePcscCardInfo *info);

G_END_DECLS
