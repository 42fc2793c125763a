/* tke-emu-server.h: the HTTPS service (data/doc/service-protocol.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "tke-emu-store.h"

G_BEGIN_DECLS

typedef struct
{
  gint64 token_ttl;
  guint latency_ms;
  double http_500_rate;
  gint64 fail_after_keys;    /* -1: off */
  gint64 crash_after_keys;   /* -1: off */
  char *fail_setimm_on;      /* hsm_id or unit number, or NULL */
  char *lose_new_on;         /* the same: its new register is lost when the rewrap completes */
  char *fail_import_on;      /* import_key fails on this unit (hsm_id or number), or NULL */
  gboolean pkcs11_keystores; /* the instance has PKCS#11 keystores */
  gboolean no_answer_state;  /* command answers without result.state (an older service) */
  char *faults_file;         /* armed at run time (the demo's menu), or NULL */
  char *request_log;         /* "METHOD PATH" a line per request, for benchmarks, or NULL */
  /* Limits; 0: the default (tke-emu-server-private.h) */
  guint idle_timeout_s;
  guint read_timeout_s;
  guint max_connections;
} TkeEmuFaults;

typedef struct _TkeEmuServer TkeEmuServer;

TkeEmuServer *tke_emu_server_new (TkeEmuStore *store, const TkeEmuFaults *faults, GError **error);
gboolean tke_emu_server_listen (TkeEmuServer *self, guint port, GError **error);
char *tke_emu_server_get_url (TkeEmuServer *self);
void tke_emu_server_free (TkeEmuServer *self);

G_END_DECLS
