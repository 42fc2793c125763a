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
  gboolean pin_used; /* a PIN was verified through this handle */
  gboolean has_signature_key;
};

/* tke-card-open.c: the card of its reader whose PIN is verified; another
 * open of that reader shares it (a new connection would clear the PIN). */
void _tke_card_note_verified (TkeCard *self);

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
gboolean _tke_card_begin_transaction (TkeCard *self, GError **error);
void _tke_card_end_transaction (TkeCard *self);

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
