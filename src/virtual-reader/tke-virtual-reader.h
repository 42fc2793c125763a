/* tke-virtual-reader.h: one virtual PIN-pad reader: its card slot, keypad and sockets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tke-virtual-card.h"

G_BEGIN_DECLS

#define TKE_TYPE_VIRTUAL_READER (tke_virtual_reader_get_type ())
G_DECLARE_FINAL_TYPE (TkeVirtualReader, tke_virtual_reader, TKE, VIRTUAL_READER, GObject)

/* Binds STATE_DIR/readerN.link (the driver's end) and STATE_DIR/readerN.ctl
 * (the control socket) and serves them on threads of their own. */
TkeVirtualReader *
tke_virtual_reader_new (guint number, const char *state_dir, TkeSecret *chip_key, GError **error);
const char *tke_virtual_reader_get_link_path (TkeVirtualReader *self);
const char *tke_virtual_reader_get_control_path (TkeVirtualReader *self);
gboolean tke_virtual_reader_insert (TkeVirtualReader *self, const char *image, GError **error);
/* Removes the sockets; the process is about to exit. */
void tke_virtual_reader_unlink (TkeVirtualReader *self);

G_END_DECLS
