/* tke-emu-join-output-stream.h: a client connection's output, as libsoup writes it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TKE_EMU_TYPE_JOIN_OUTPUT_STREAM (tke_emu_join_output_stream_get_type ())
G_DECLARE_FINAL_TYPE (
    TkeEmuJoinOutputStream, tke_emu_join_output_stream, TKE_EMU, JOIN_OUTPUT_STREAM, GOutputStream)

TkeEmuJoinOutputStream *tke_emu_join_output_stream_new (GOutputStream *base);

G_END_DECLS
