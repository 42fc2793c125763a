/* tke-cli-signserv.h: a signing service for the tke verbs ($TKE_SIGNSERV_URL)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

#include "tke-cli-common.h"

G_BEGIN_DECLS

/* The signing service's URL when $TKE_SIGNSERV_URL is set, else NULL. */
const char *tke_cli_signing_service_url (void);

/* Signers for the keys of the SIGNSERVKEYS file, at most @max_signers
 * (0: all), each with its token (asked for when the file has none) and
 * its public key read, so that a wrong token fails before anything is sent. */
GPtrArray *tke_cli_make_service_signers (TkeCliContext *ctx, guint max_signers, GError **error);

/* For cryptounit-admin-add: the key @key_name (NULL: asked for) of the
 * SIGNSERVKEYS file, its token and public key. */
GBytes *
tke_cli_read_service_admin (TkeCliContext *ctx, const char *key_name, char **name, GError **error);

/* The sigkey verbs do nothing with a signing service, as in the plug-in:
 * TRUE (and a note printed) if that is the case. */
gboolean tke_cli_sigkeys_in_service (TkeCliContext *ctx, const char *verb);

G_END_DECLS
