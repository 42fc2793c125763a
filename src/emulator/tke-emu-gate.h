/* tke-emu-gate.h: holds back the connections already served while new clients come in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _TkeEmuGate TkeEmuGate;

TkeEmuGate *tke_emu_gate_new (void);
TkeEmuGate *tke_emu_gate_ref (TkeEmuGate *self);
void tke_emu_gate_unref (TkeEmuGate *self);
gboolean tke_emu_gate_is_closed (TkeEmuGate *self);
void tke_emu_gate_set_closed (TkeEmuGate *self, gboolean closed);
GSource *tke_emu_gate_create_source (TkeEmuGate *self);
void tke_emu_gate_knock (TkeEmuGate *self);
void tke_emu_gate_answer (TkeEmuGate *self);
gboolean tke_emu_gate_is_knocked (TkeEmuGate *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeEmuGate, tke_emu_gate_unref)

G_END_DECLS
