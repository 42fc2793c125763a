/* tke-ceremony-private.h: what the files of TkeCeremony share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TkeCeremony spans tke-ceremony.c (the type, its arguments, the run),
 * tke-ceremony-load.c (the load, part by part: importer keys, sealing each
 * part to every unit, then the load) and tke-ceremony-sign.c (every other
 * command, signer by signer: each unit's command prepared, then signed by
 * the first signer for every unit, then by the next, then sent unit by
 * unit).
 */

#pragma once

#include <gio/gio.h>

#include "tke-ceremony.h"
#include "tke-key-part-source.h"

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
  gboolean busy; /* a step (prepare, seal, run) is under way: no second one */
  guint n_done;
  guint cursor;         /* the unit a load step is at */
  GPtrArray *importers; /* GBytes, one per unit once prepared */
  guint n_parts_sealed;
  GPtrArray *sealed; /* per unit, a GPtrArray of GBytes (one per part) */

  /* Signer by signer (tke-ceremony-sign.c) */
  guint command_lifetime; /* seconds; 0: TKE_COMMAND_LIFETIME_SECONDS */
  GPtrArray *prepared;    /* _TkeCeremonyCommand, one per unit from n_done on */
  guint sign_signer;      /* who signs now */
  guint sign_command;     /* which command they sign now */
  char *summary;
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

void _tke_ceremony_emit_progress (TkeCeremony *self, TkeCryptoUnit *unit, const char *message);
void _tke_ceremony_emit_unit_done (TkeCeremony *self, TkeCryptoUnit *unit);
void _tke_ceremony_emit_prepared (TkeCeremony *self);
void _tke_ceremony_emit_importer_key (TkeCeremony *self, TkeCryptoUnit *unit, GBytes *importer);
void _tke_ceremony_emit_part_sealed (TkeCeremony *self, guint part, TkeKeyPartSource *source);

/* tke-ceremony-sign.c: runs every kind but load; takes the reference to @task. */
void _tke_ceremony_run_signed (GTask *task);
/* For the tests: commands that expire sooner than libtke's default. */
void _tke_ceremony_set_command_lifetime (TkeCeremony *self, guint seconds);

void _tke_ceremony_load_step (GTask *task);
GTask *_tke_ceremony_task_new (TkeCeremony *self,
                               gpointer source_tag,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean _tke_ceremony_refuse_if_busy (TkeCeremony *self,
                                       gpointer source_tag,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
void _tke_ceremony_run_load (TkeCeremony *self, TkeCryptoUnit *unit, GTask *task);
gboolean _tke_ceremony_check_n_parts (TkeCeremony *self, GError **error);

/* A progress message for the unit the ceremony is at. */
#define _tke_ceremony_progress(self, ...)                                                          \
  _tke_ceremony_progress_at ((self), _tke_ceremony_current_unit (self), __VA_ARGS__)

G_END_DECLS
