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

G_END_DECLS
