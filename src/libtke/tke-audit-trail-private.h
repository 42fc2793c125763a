/* tke-audit-trail-private.h: what the ceremony report shares with the trail
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <openssl/evp.h>

#include "tke-audit-trail.h"

G_BEGIN_DECLS

/* The first record's "prev": nothing came before it. */
#define TKE_AUDIT_GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"

char *_tke_audit_hash_line (const char *line);
GStrv _tke_audit_trail_read_lines (TkeAuditTrail *self, GError **error);
EVP_PKEY *_tke_audit_workstation_key (gboolean create, GError **error);
char *_tke_audit_public_key_hex (EVP_PKEY *key, GError **error);
/* The records a verification failure puts in doubt, by sequence number. */
typedef struct
{
  gint64 first;
  gint64 last;
} TkeAuditDamage;

gboolean _tke_audit_check_chain (const char *const *lines,
                                 const char *first_prev,
                                 gint64 first_seq,
                                 TkeAuditDamage *damage,
                                 GError **error);

void _tke_audit_trail_queue (TkeAuditTrail *self,
                             TkeAuditEntry *entry,
                             gint *failed,
                             gboolean say_if_failed,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
void _tke_audit_trail_wait (TkeAuditTrail *self);

GHashTable *_tke_audit_trail_get_watches (TkeAuditTrail *self);
void _tke_audit_watch_free (gpointer watch);

G_END_DECLS
