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
/* The step that closes the last delay record: the rotation it started
 * finished, or the key it was for is gone from the new registers. */
#define TKE_AUTO_JOURNAL_STEP_DELAY_ENDED "delay-ended"

struct _TkeAutoCeremony
{
  GObject parent_instance;

  TkeServiceClient *client;
  TkeServiceInstance *instance;
  TkeAutoKind kind;
  GPtrArray *signers;
  guint signature_threshold;
  guint revocation_threshold;
  gboolean thresholds_set; /* by tke_auto_ceremony_set_thresholds() */
  guint failover_total;
  guint delay_ms;
  TkeJournal *journal;
  GMainContext *caller;

  TkeRecoveryAction advice;
  char *advice_explanation;
};

void _tke_auto_step (TkeAutoCeremony *self, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* The steps, in the worker thread with @context pushed, on the worker's
 * own copy of the instance (returned in @instance, or NULL). */
gboolean _tke_auto_run (TkeAutoCeremony *self,
                        GMainContext *context,
                        GCancellable *cancellable,
                        TkeServiceInstance **instance,
                        GError **error);
/* The VP the last auto-mk-rotate of @journal reached the delay for, or
 * NULL (none did, or its case was closed since). */
char *_tke_auto_delayed_to_vp (TkeJournal *journal);
/* auto-init may run on @units: each in imprint mode, or set up by an
 * auto-init that stopped before its key while another still is.
 * @blocker: the number of a unit that stops it. */
gboolean _tke_auto_init_allowed (GListModel *units, guint *blocker);
/* Closes @journal's delay record for @vp (a record of its own: the
 * ceremony that wrote the delay may be another process's); @why is the
 * note. */
gboolean _tke_auto_journal_close_delay (
    TkeJournal *journal, const char *instance_id, const char *vp, const char *why, GError **error);
/* A rotation to @vp completed: closes the default auto journal's delay
 * record when it is for @vp.  Called by #TkeRotation. */
void _tke_auto_journal_rotation_done (const char *instance_id, const char *vp);

G_END_DECLS
