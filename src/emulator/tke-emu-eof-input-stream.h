/* tke-emu-eof-input-stream.h: a client connection's input, as libsoup reads it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tke-emu-gate.h"

G_BEGIN_DECLS

#define TKE_EMU_TYPE_EOF_INPUT_STREAM (tke_emu_eof_input_stream_get_type ())
G_DECLARE_FINAL_TYPE (
    TkeEmuEofInputStream, tke_emu_eof_input_stream, TKE_EMU, EOF_INPUT_STREAM, GInputStream)

TkeEmuEofInputStream *tke_emu_eof_input_stream_new (GIOStream *base);
void tke_emu_eof_input_stream_start_request (TkeEmuEofInputStream *self);
void tke_emu_eof_input_stream_set_gate (TkeEmuEofInputStream *self, TkeEmuGate *gate);

G_END_DECLS
