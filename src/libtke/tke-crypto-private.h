/* tke-crypto-private.h: what the files of tke-crypto share (not installed)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reports an OpenSSL failure with the library's reason, then clears the
 * queue so that a later error is not blamed on this one. */
gboolean _tke_crypto_set_error (GError **error, const char *what);

/* N a power of 2 and N·r·p within TKE_CRYPTO_SCRYPT_MAX_COST. */
gboolean _tke_crypto_scrypt_cost_ok (guint64 n, guint64 r, guint64 p);

G_END_DECLS
