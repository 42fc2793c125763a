/* tke-credentials.h: the API key and the bearer token in the keyring
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

G_BEGIN_DECLS

/* libsecret schemas; the attribute "endpoint" names the service. */
/**
 * TKE_CREDENTIALS_API_KEY_SCHEMA:
 *
 * The name of the libsecret schema of stored API keys; the attribute
 * "endpoint" names the service.
 */
#define TKE_CREDENTIALS_API_KEY_SCHEMA "dev.tke.TrustedKeyEntry.ApiKey"
/**
 * TKE_CREDENTIALS_TOKEN_SCHEMA:
 *
 * The name of the libsecret schema of stored bearer tokens; the attribute
 * "endpoint" names the service.
 */
#define TKE_CREDENTIALS_TOKEN_SCHEMA "dev.tke.TrustedKeyEntry.Token"
/**
 * TKE_CREDENTIALS_WORKSTATION_KEY_SCHEMA:
 *
 * The libsecret schema of the workstation key, which signs the head of the
 * ceremony record (#TkeAuditTrail).
 */
#define TKE_CREDENTIALS_WORKSTATION_KEY_SCHEMA "dev.tke.TrustedKeyEntry.WorkstationKey"

/**
 * TkeCredentialKind:
 * @TKE_CREDENTIAL_API_KEY: the API key that login exchanges for a token
 * @TKE_CREDENTIAL_TOKEN: the bearer token of the last login
 * @TKE_CREDENTIAL_WORKSTATION_KEY: the workstation's signing key (PEM), which
 *   signs the ceremony record
 *
 * The credentials libtke keeps in the keyring, one of each per service
 * endpoint.
 */
typedef enum
{
  TKE_CREDENTIAL_API_KEY,
  TKE_CREDENTIAL_TOKEN,
  TKE_CREDENTIAL_WORKSTATION_KEY,
} TkeCredentialKind;

/* These talk to the Secret Service (or libsecret's file backend) and
 * block: call them from the CLI or a worker thread, or use the async
 * variants.  With no secret service there is an explicit error: a
 * credential is never written to a plain file. */
TKE_AVAILABLE_IN_ALL
gboolean tke_credentials_store (TkeCredentialKind kind,
                                const char *endpoint,
                                const TkeSecret *secret,
                                GCancellable *cancellable,
                                GError **error);
/* Returns %NULL and %TKE_ERROR_NOT_FOUND when nothing is stored. */
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_credentials_lookup (TkeCredentialKind kind,
                                   const char *endpoint,
                                   GCancellable *cancellable,
                                   GError **error);
TKE_AVAILABLE_IN_ALL
gboolean tke_credentials_clear (TkeCredentialKind kind,
                                const char *endpoint,
                                GCancellable *cancellable,
                                GError **error);

TKE_AVAILABLE_IN_ALL
void tke_credentials_lookup_async (TkeCredentialKind kind,
                                   const char *endpoint,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_credentials_lookup_finish (GAsyncResult *result, GError **error);

G_END_DECLS
