/* tke-ceremony-private.h: what the files of TkeCeremony share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TkeCeremony spans tke-ceremony.c (the type, its arguments and the
 * command on each unit in turn) and tke-ceremony-load.c (the load, part by
 * part: importer keys, sealing each part to every unit, then the load).
 */

#pragma once

#include <gio/gio.h>

#include "tke-ceremony.h"

G_BEGIN_DECLS

struct _TkeCeremony
{
  GObject parent_instance;

  TkeServiceClient *client;
  TkeCeremonyKind kind;
  GListStore *units;
  GPtrArray *signers;
  GPtrArray *parts;
  char *admin_name;
  GBytes *admin_public_key;
  char *admin_ski;
  guint signature_threshold;
  guint revocation_threshold;

  guint n_key_parts; /* 0: as many as parts */

  /* While running */
  guint n_done;
  guint cursor;         /* the unit a load step is at */
  GPtrArray *importers; /* GBytes, one per unit once prepared */
  guint n_parts_sealed;
  GPtrArray *sealed; /* per unit, a GPtrArray of GBytes (one per part) */
};

/* How far a load task goes. */
typedef enum
{
  LOAD_UNTIL_PREPARED,
  LOAD_UNTIL_NEXT_PART_SEALED,
  LOAD_ALL,
} LoadGoal;

guint _tke_ceremony_n_units (TkeCeremony *self);
TkeCryptoUnit *_tke_ceremony_unit_at (TkeCeremony *self, guint position);
TkeCryptoUnit *_tke_ceremony_current_unit (TkeCeremony *self);
void _tke_ceremony_progress_at (TkeCeremony *self, TkeCryptoUnit *unit, const char *format, ...)
    G_GNUC_PRINTF (3, 4);
GPtrArray *_tke_ceremony_signers_for (TkeCeremony *self, TkeCryptoUnit *unit, guint n_first);
void _tke_ceremony_fail_at (TkeCryptoUnit *unit, GTask *task, GError *error);
void _tke_ceremony_fail_at_unit (TkeCeremony *self, GTask *task, GError *error);
void _tke_ceremony_unit_done (GTask *task);
void _tke_ceremony_run_next_unit (GTask *task);
void _tke_ceremony_on_first_refresh (GObject *source, GAsyncResult *result, gpointer user_data);

void _tke_ceremony_load_step (GTask *task);
void _tke_ceremony_run_load (TkeCeremony *self, TkeCryptoUnit *unit, GTask *task);
gboolean _tke_ceremony_check_n_parts (TkeCeremony *self, GError **error);

/* A progress message for the unit the ceremony is at. */
#define _tke_ceremony_progress(self, ...)                                                          \
  _tke_ceremony_progress_at ((self), _tke_ceremony_current_unit (self), __VA_ARGS__)

G_END_DECLS
