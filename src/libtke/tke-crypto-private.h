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

/* The scrypt N of the key files libtke writes (with r 8, p 1), and the
 * least N it reads: a file of lower cost is refused as damaged.
 *
 * Only a fuzz build (-Dfuzzing=true puts the define in config.h) writes
 * N 16 and reads down to it: the virtual card's EXPORT KEY PART FILE and
 * EXPORT SIGNATURE KEY FILE run this KDF, and at N 32768 (32 MiB, about
 * 0.2 s each there) they took a quarter of fuzz-virtual-card's time.
 * N 16 is below every other build's minimum, so a file a fuzz build wrote
 * never opens in one that is not.  Without config.h first, the real
 * values hold. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define TKE_KEY_FILE_SCRYPT_N 16
#define TKE_KEY_FILE_SCRYPT_MIN_N 16
#else
#define TKE_KEY_FILE_SCRYPT_N 32768
#define TKE_KEY_FILE_SCRYPT_MIN_N 1024
#endif

G_END_DECLS
