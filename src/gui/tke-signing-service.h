/* tke-signing-service.h: the signing service's keys, where cards would sign
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

G_BEGIN_DECLS

const char *tke_signing_service_url (void);
GPtrArray *tke_signing_service_new_signers (guint n_signers, GError **error);

G_END_DECLS
