/* tke-worker-private.h: what every GTask worker function of libtke does
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <openssl/crypto.h>

/* GTask's worker threads live as long as the process, so OpenSSL's
 * per-thread state (the thread's DRBG, its error queue) would stay
 * allocated in each; LeakSanitizer reports it.  Releasing it when a worker
 * function returns costs one reseed from the parent DRBG per task. */
static inline void
tke_worker_thread_done (int *unused)
{
  OPENSSL_thread_stop ();
}

/* Put first in the body of a GTaskThreadFunc. */
#define TKE_WORKER_THREAD_SCOPE                                                                    \
  G_GNUC_UNUSED __attribute__ ((cleanup (tke_worker_thread_done))) int tke_worker_scope_ = 0
