/* tke-credentials.c: the API key and the bearer token in the keyring
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both live in the Secret Service through libsecret, keyed by the
 * service's endpoint.  When no secret service answers, the caller gets an
 * error that says so: there is no plain-file fallback.  Tests use
 * libsecret's file backend (SECRET_BACKEND=file).
 */

#include "config.h"

#include <openssl/crypto.h>

#include <string.h>

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>

#include "tke-credentials.h"
#include "tke-error.h"
#include "tke-worker-private.h"

static const SecretSchema *
schema_for (TkeCredentialKind kind)
{
  static const SecretSchema api_key_schema = {
    TKE_CREDENTIALS_API_KEY_SCHEMA,
    SECRET_SCHEMA_NONE,
    {
        { "endpoint", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { NULL, 0 },
    },
  };
  static const SecretSchema token_schema = {
    TKE_CREDENTIALS_TOKEN_SCHEMA,
    SECRET_SCHEMA_NONE,
    {
        { "endpoint", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { NULL, 0 },
    },
  };

  static const SecretSchema workstation_key_schema = {
    TKE_CREDENTIALS_WORKSTATION_KEY_SCHEMA,
    SECRET_SCHEMA_NONE,
    {
        { "endpoint", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { NULL, 0 },
    },
  };

  switch (kind)
    {
    case TKE_CREDENTIAL_TOKEN:
      return &token_schema;
    case TKE_CREDENTIAL_WORKSTATION_KEY:
      return &workstation_key_schema;
    case TKE_CREDENTIAL_API_KEY:
    default:
      return &api_key_schema;
    }
}

/* Some backends (the file backend) match on attributes only, not on the
 * schema name: "kind" keeps the two credentials of an endpoint apart. */
static const char *
kind_attribute (TkeCredentialKind kind)
{
  switch (kind)
    {
    case TKE_CREDENTIAL_TOKEN:
      return "token";
    case TKE_CREDENTIAL_WORKSTATION_KEY:
      return "workstation-key";
    case TKE_CREDENTIAL_API_KEY:
    default:
      return "api-key";
    }
}

static const char *
kind_name (TkeCredentialKind kind)
{
  switch (kind)
    {
    case TKE_CREDENTIAL_TOKEN:
      return _ ("token");
    case TKE_CREDENTIAL_WORKSTATION_KEY:
      return _ ("workstation key");
    case TKE_CREDENTIAL_API_KEY:
    default:
      return _ ("API key");
    }
}

static void
set_keyring_error (GError **error, TkeCredentialKind kind, GError *cause)
{
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_error_copy (cause));
      return;
    }
  g_set_error (error, TKE_ERROR, TKE_ERROR_FAILED,
               _ ("The keyring that keeps the %s could not be used (%s). Start a Secret Service "
                  "such as GNOME Keyring and try again; credentials are never stored in a plain "
                  "file."),
               kind_name (kind), cause->message);
}

/**
 * tke_credentials_store:
 * @kind: which credential
 * @endpoint: the service endpoint it belongs to
 * @secret: the credential
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Stores a credential in the keyring (the Secret Service), replacing the one
 * stored for @endpoint before. This blocks: call it from the command line or a
 * worker thread. Without a Secret Service it fails; a credential is never
 * written to a plain file.
 *
 * Returns: %TRUE if the credential is stored
 */
gboolean
tke_credentials_store (TkeCredentialKind kind,
                       const char *endpoint,
                       const TkeSecret *secret,
                       GCancellable *cancellable,
                       GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *label = NULL;
  SecretValue *value;
  gboolean ok;

  g_return_val_if_fail (endpoint != NULL, FALSE);
  g_return_val_if_fail (secret != NULL, FALSE);

  label = g_strdup_printf (_ ("Trusted Key Entry %s for %s"), kind_name (kind), endpoint);
  value = secret_value_new ((const char *) tke_secret_get_data (secret),
                            (gssize) tke_secret_get_size (secret), "text/plain");
  ok = secret_password_store_binary_sync (schema_for (kind), SECRET_COLLECTION_DEFAULT, label,
                                          value, cancellable, &local_error, "endpoint", endpoint,
                                          "kind", kind_attribute (kind), NULL);
  secret_value_unref (value);
  if (!ok)
    set_keyring_error (error, kind, local_error);
  return ok;
}

/**
 * tke_credentials_lookup:
 * @kind: which credential
 * @endpoint: the service endpoint it belongs to
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Looks a credential up in the keyring. This blocks; see
 * tke_credentials_lookup_async().
 *
 * Returns: (transfer full): the credential in secure memory, or %NULL with
 *   %TKE_ERROR_NOT_FOUND when none is stored
 */
TkeSecret *
tke_credentials_lookup (TkeCredentialKind kind,
                        const char *endpoint,
                        GCancellable *cancellable,
                        GError **error)
{
  g_autoptr (GError) local_error = NULL;
  SecretValue *value;
  const gchar *data;
  gsize size;
  TkeSecret *secret;

  g_return_val_if_fail (endpoint != NULL, NULL);

  value =
      secret_password_lookup_binary_sync (schema_for (kind), cancellable, &local_error, "endpoint",
                                          endpoint, "kind", kind_attribute (kind), NULL);
  if (local_error != NULL)
    {
      set_keyring_error (error, kind, local_error);
      return NULL;
    }
  if (value == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND,
                   _ ("No %s is stored for %s. Log in first."), kind_name (kind), endpoint);
      return NULL;
    }
  data = secret_value_get (value, &size);
  secret = tke_secret_new_from_data ((const guint8 *) data, size);
  secret_value_unref (value);
  return secret;
}

/**
 * tke_credentials_clear:
 * @kind: which credential
 * @endpoint: the service endpoint it belongs to
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Removes a credential from the keyring, as logging out does. Clearing a
 * credential that is not stored succeeds. This blocks.
 *
 * Returns: %TRUE unless the keyring failed
 */
gboolean
tke_credentials_clear (TkeCredentialKind kind,
                       const char *endpoint,
                       GCancellable *cancellable,
                       GError **error)
{
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (endpoint != NULL, FALSE);

  secret_password_clear_sync (schema_for (kind), cancellable, &local_error, "endpoint", endpoint,
                              "kind", kind_attribute (kind), NULL);
  if (local_error != NULL)
    {
      set_keyring_error (error, kind, local_error);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  TkeCredentialKind kind;
  char *endpoint;
} LookupData;

static void
lookup_data_free (LookupData *data)
{
  g_free (data->endpoint);
  g_free (data);
}

static void
lookup_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  LookupData *data = task_data;
  GError *error = NULL;
  TkeSecret *secret = tke_credentials_lookup (data->kind, data->endpoint, cancellable, &error);

  if (secret == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, secret, (GDestroyNotify) tke_secret_unref);
}

/**
 * tke_credentials_lookup_async:
 * @kind: which credential
 * @endpoint: the service endpoint it belongs to
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the lookup is done
 * @user_data: data for @callback
 *
 * Looks a credential up in the keyring on a worker thread.
 */
void
tke_credentials_lookup_async (TkeCredentialKind kind,
                              const char *endpoint,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  LookupData *data = g_new0 (LookupData, 1);

  data->kind = kind;
  data->endpoint = g_strdup (endpoint);
  g_task_set_source_tag (task, tke_credentials_lookup_async);
  g_task_set_task_data (task, data, (GDestroyNotify) lookup_data_free);
  g_task_run_in_thread (task, lookup_thread);
}

/**
 * tke_credentials_lookup_finish:
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes tke_credentials_lookup_async().
 *
 * Returns: (transfer full): the stored credential, or %NULL with
 *   %TKE_ERROR_NOT_FOUND when none is stored
 */
TkeSecret *
tke_credentials_lookup_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
