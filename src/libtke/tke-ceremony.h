/* tke-ceremony.h: one administrative ceremony over the selected units
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-key-part-source.h"
#include "tke-service-client.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

/**
 * TkeCeremonyKind:
 * @TKE_CEREMONY_LOAD: load 2 or 3 key parts into the new register
 * @TKE_CEREMONY_COMMIT: commit the new register (signature threshold)
 * @TKE_CEREMONY_SET_IMMEDIATE: promote new to current (1 signature)
 * @TKE_CEREMONY_CLEAR_NEW: clear the new register (1 signature)
 * @TKE_CEREMONY_CLEAR_CURRENT: clear the current register (1 signature)
 * @TKE_CEREMONY_ADD_ADMIN: install an administrator (signature threshold)
 * @TKE_CEREMONY_REMOVE_ADMIN: remove an administrator (revocation threshold)
 * @TKE_CEREMONY_SET_THRESHOLDS: set both thresholds (leaves imprint mode)
 * @TKE_CEREMONY_ZEROIZE: zeroize the units (1 signature)
 * @TKE_CEREMONY_ROTATE: rotate the master key (a #TkeRotation, not a
 *   #TkeCeremony; here for the rules of tke_ceremony_why_not())
 *
 * The ceremonies, as front ends name them to libtke (never as strings).
 */
typedef enum
{
  TKE_CEREMONY_LOAD,
  TKE_CEREMONY_COMMIT,
  TKE_CEREMONY_SET_IMMEDIATE,
  TKE_CEREMONY_CLEAR_NEW,
  TKE_CEREMONY_CLEAR_CURRENT,
  TKE_CEREMONY_ADD_ADMIN,
  TKE_CEREMONY_REMOVE_ADMIN,
  TKE_CEREMONY_SET_THRESHOLDS,
  TKE_CEREMONY_ZEROIZE,
  TKE_CEREMONY_ROTATE,
} TkeCeremonyKind;

#define TKE_TYPE_CEREMONY (tke_ceremony_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeCeremony, tke_ceremony, TKE, CEREMONY, GObject)

/*
 * A ceremony runs one command on every unit of @units (TkeCryptoUnit), one
 * unit after the other, with the signers given; it refreshes the units
 * before (to read register VPs and imprint mode) and after (so that a view
 * bound to them shows the result).  Signals, on the caller's main context:
 *
 *   "progress" (TkeCryptoUnit *unit, const char *message): a step starts
 *   "unit-done" (TkeCryptoUnit *unit): the command was applied on @unit
 *
 * How many signatures each command takes (DESIGN §1): commit, add and
 * remove admin and set thresholds use every signer; load uses the first
 * signer for the importer key and signer (i mod n) for part i; set
 * immediate, clear and zeroize use the first signer.  A unit in imprint
 * mode gets no signatures, except set thresholds.
 *
 * Every kind but load goes signer by signer: every unit's command is
 * prepared ("prepared" signal, tke_ceremony_get_summary()), the first
 * signer signs them all, then the next one, then they are sent unit by
 * unit.  Nothing is sent before every signature is in; a failure while
 * sending stops the ceremony at that unit; units before it keep the
 * change (tke_ceremony_get_n_units_done() says how many).
 *
 * Load goes part by part, the way key part cards are handed over: an
 * importer key on every unit, then part 1 sealed to every unit, then
 * part 2, …, then the load on each unit, so that each key part card is
 * inserted once.  A front end that guides the person part by part calls
 * tke_ceremony_prepare_load_async() and tke_ceremony_seal_next_part_async()
 * for each part, then tke_ceremony_run_async(), which does what is left.
 */
TKE_AVAILABLE_IN_ALL
TkeCeremony *tke_ceremony_new (TkeServiceClient *client, TkeCeremonyKind kind, GListModel *units);
TKE_AVAILABLE_IN_ALL
TkeCeremonyKind tke_ceremony_get_kind (TkeCeremony *self);
/* @signers: GPtrArray of TkeSigner */
TKE_AVAILABLE_IN_ALL
void tke_ceremony_set_signers (TkeCeremony *self, GPtrArray *signers);
/* @parts: GPtrArray of TkeKeyPartSource, 2 or 3 (load) */
TKE_AVAILABLE_IN_ALL
void tke_ceremony_set_key_parts (TkeCeremony *self, GPtrArray *parts);
/* load part by part: how many parts the key has (2 or 3) */
TKE_AVAILABLE_IN_ALL
void tke_ceremony_set_n_key_parts (TkeCeremony *self, guint n_parts);
TKE_AVAILABLE_IN_ALL
guint tke_ceremony_get_n_key_parts (TkeCeremony *self);
/* add admin: the name and the uncompressed P-521 public key */
TKE_AVAILABLE_IN_ALL
void tke_ceremony_set_new_administrator (TkeCeremony *self, const char *name, GBytes *public_key);
/* remove admin: the SKI (64 hex) */
TKE_AVAILABLE_IN_ALL
void tke_ceremony_set_administrator_ski (TkeCeremony *self, const char *ski);
TKE_AVAILABLE_IN_ALL
void tke_ceremony_set_thresholds (TkeCeremony *self,
                                  guint signature_threshold,
                                  guint revocation_threshold);

TKE_AVAILABLE_IN_ALL
void tke_ceremony_run_async (TkeCeremony *self,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_ceremony_run_finish (TkeCeremony *self, GAsyncResult *result, GError **error);
TKE_AVAILABLE_IN_ALL
guint tke_ceremony_get_n_units_done (TkeCeremony *self);
TKE_AVAILABLE_IN_ALL
const char *tke_ceremony_get_summary (TkeCeremony *self);

/* Load, step by step: an importer key on every unit (the first signer
 * signs), then each part sealed to every unit. */
TKE_AVAILABLE_IN_ALL
void tke_ceremony_prepare_load_async (TkeCeremony *self,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_ceremony_prepare_load_finish (TkeCeremony *self, GAsyncResult *result, GError **error);
TKE_AVAILABLE_IN_ALL
void tke_ceremony_seal_next_part_async (TkeCeremony *self,
                                        TkeKeyPartSource *part,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean
tke_ceremony_seal_next_part_finish (TkeCeremony *self, GAsyncResult *result, GError **error);
TKE_AVAILABLE_IN_ALL
guint tke_ceremony_get_n_parts_sealed (TkeCeremony *self);

G_END_DECLS
