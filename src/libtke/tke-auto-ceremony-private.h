/* tke-auto-ceremony-private.h: what the recovery-unit path's files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tke-auto-ceremony.c holds the object; tke-auto-steps.c the steps, run in
 * a worker thread; tke-auto-advice.c the recovery advice.
 */

#pragma once

#include "tke-auto-ceremony.h"

G_BEGIN_DECLS

/* The journal's kind and step for auto-mk-rotate's delay; the step's
 * detail is the VP the key storage is rewrapped to. */
#define TKE_AUTO_JOURNAL_KIND_ROTATE "auto-mk-rotate"
#define TKE_AUTO_JOURNAL_STEP_DELAY "delay"

struct _TkeAutoCeremony
{
  GObject parent_instance;

  TkeServiceClient *client;
  TkeServiceInstance *instance;
  TkeAutoKind kind;
  GPtrArray *signers;
  guint signature_threshold;
  guint revocation_threshold;
  guint failover_total;
  guint delay_ms;
  TkeJournal *journal;
  GMainContext *caller;

  TkeRecoveryAction advice;
  char *advice_explanation;
};

void _tke_auto_step (TkeAutoCeremony *self, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* The steps, in the worker thread with @context pushed. */
gboolean _tke_auto_run (TkeAutoCeremony *self,
                        GMainContext *context,
                        GCancellable *cancellable,
                        GError **error);
/* The VP the last auto-mk-rotate of @journal reached the delay for, or NULL. */
char *_tke_auto_delayed_to_vp (TkeJournal *journal);

G_END_DECLS
