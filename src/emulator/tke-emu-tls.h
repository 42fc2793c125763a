/* tke-emu-tls.h: the emulator's own CA and server certificate
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean tke_emu_tls_ensure (const char *state_dir, GError **error);
GTlsCertificate *tke_emu_tls_load (const char *state_dir, GError **error);

G_END_DECLS
