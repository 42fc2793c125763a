/* tke-rotation-private.h: what the files of TkeRotation share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TkeRotation spans tke-rotation.c (the type, the journal, the status, the
 * advice and the recovery) and tke-rotation-steps.c (start, wait for the
 * rewrap, set immediate on every unit).  Everything runs on the caller's
 * main context.
 */

#pragma once

#include <gio/gio.h>

#include "tke-rotation.h"

G_BEGIN_DECLS

struct _TkeRotation
{
  GObject parent_instance;

  TkeServiceClient *client;
  TkeServiceInstance *instance;
  GPtrArray *units; /* TkeCryptoUnit, the selection */
  GListStore *unit_model;
  GPtrArray *signers;
  TkeJournal *journal;
  guint poll_interval;

  TkeRotationStatus *status;
  /* The messages of one rotation of the service are sent once each; a
   * rotation is told apart by its target VP and its first message. */
  char *messages_of;
  guint n_messages_seen;
  char *history;           /* a rotation that ended before this one ran: never sent */
  GHashTable *unit_errors; /* TkeCryptoUnit → GError */

  gboolean has_advice;
  TkeRecoveryAction advice;
  char *advice_explanation;
  GPtrArray *switched;
};

typedef enum
{
  MODE_RUN,
  MODE_ADVISE,
  MODE_RECOVER,
} Mode;

typedef struct
{
  Mode mode;
  gboolean journaled; /* a ceremony is open in the journal */
  const char *step;   /* the step begun in the journal */
  GPtrArray *targets; /* units to set immediate */
  char *target_vp;
  guint n_pending;
  guint poll_source;
  GError *failure; /* kept while the facts for the advice are read */
} RunData;

void _tke_rotation_fail (GTask *task, GError *error);
void _tke_rotation_take_status (TkeRotation *self, TkeRotationStatus *status);
void _tke_rotation_compute_advice (TkeRotation *self);
void _tke_rotation_emit_unit_done (TkeRotation *self, TkeCryptoUnit *unit, const GError *error);

gboolean
_tke_rotation_journal_begin (TkeRotation *self, RunData *data, const char *kind, GError **error);
gboolean _tke_rotation_journal_step (TkeRotation *self,
                                     RunData *data,
                                     const char *step,
                                     const char *outcome,
                                     const char *detail,
                                     GError **error);
void _tke_rotation_journal_end (TkeRotation *self,
                                RunData *data,
                                const char *outcome,
                                const char *detail);

void _tke_rotation_start (GTask *task);
void _tke_rotation_set_immediate_all (GTask *task);

G_END_DECLS
