/* tke-service-signer.h: a TkeSigner that asks a signing service over HTTPS
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-secret.h"
#include "tke-version-macros.h"
#include "tke-workstation.h"

G_BEGIN_DECLS

#define TKE_TYPE_SERVICE_SIGNER (tke_service_signer_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeServiceSigner, tke_service_signer, TKE, SERVICE_SIGNER, GObject)

TKE_AVAILABLE_IN_ALL
TkeServiceSigner *
tke_service_signer_new (const char *url, const char *key_name, const char *ca_file);
TKE_AVAILABLE_IN_ALL
GPtrArray *tke_service_signer_new_from_keys_file (const char *url,
                                                  const char *path,
                                                  const char *ca_file,
                                                  GError **error);
TKE_AVAILABLE_IN_ALL
gboolean tke_service_signer_key_name_is_valid (const char *key_name);
TKE_AVAILABLE_IN_ALL
const char *tke_service_signer_get_url (TkeServiceSigner *self);
TKE_AVAILABLE_IN_ALL
const char *tke_service_signer_get_key_name (TkeServiceSigner *self);
TKE_AVAILABLE_IN_ALL
gboolean tke_service_signer_has_token (TkeServiceSigner *self);
TKE_AVAILABLE_IN_ALL
void tke_service_signer_set_token (TkeServiceSigner *self, const TkeSecret *token);

TKE_AVAILABLE_IN_ALL
const char *tke_service_signer_get_default_url (void);
TKE_AVAILABLE_IN_ALL
char *tke_service_signer_get_keys_path (TkeWorkstation *workstation);
TKE_AVAILABLE_IN_ALL
GPtrArray *tke_service_signer_new_for_workstation (TkeWorkstation *workstation,
                                                   guint max_signers,
                                                   gboolean require_tokens,
                                                   GError **error);

G_END_DECLS
