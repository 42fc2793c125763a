/* unit-proxy.h: an intercepting HTTPS proxy between libtke and tke-emulator
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tke-test-emulator.h"

G_BEGIN_DECLS

typedef enum
{
  PROXY_PASS,
  PROXY_SWAP_IMPORTER, /* its own importer key, certificate, answer signature and chain */
  PROXY_ALTER_QUERY,   /* a query answer's current VP and register state */
  PROXY_ALTER_STATE,   /* the same in a command answer's "result.state" */
  PROXY_REPLAY,        /* the first query answer of a unit, again for every later query */
  PROXY_MOVE,          /* the first unit's query answer for the other units' queries */
} ProxyMode;

typedef struct _Proxy Proxy;

/* A TLS server with a certificate from the emulator's CA (its state dir's
 * ca-key.pem), forwarding to @emu. */
Proxy *proxy_start (Emu *emu);
void proxy_free (Proxy *proxy);
const char *proxy_get_url (Proxy *proxy);
void proxy_set_mode (Proxy *proxy, ProxyMode mode);
/* How many answers the proxy changed or replaced. */
guint proxy_get_n_forged (Proxy *proxy);
/* How many signed answers it forwarded, and how many named an importer key
 * (each costs one more signature to verify). */
void proxy_get_counts (Proxy *proxy, guint *n_answers, guint *n_importer_answers);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Proxy, proxy_free)

G_END_DECLS
