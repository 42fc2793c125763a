/* tke-file-signer.c: a TkeSigner over a signature key file
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CLI path: an administrator's signature key file and the password its
 * owner typed.  The private key exists only inside one worker-thread call
 * (unlock, sign, free); the password is kept in the secure heap.
 */

#include "config.h"

#include <openssl/crypto.h>

#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-worker-private.h"
#include "tke-file-signer.h"
#include "tke-signer.h"

/**
 * TkeFileSigner:
 *
 * A #TkeSigner with a signature key file and the password its owner typed,
 * as the `tke` command line uses it.
 *
 * The private key exists only inside one call on a worker thread (unlock,
 * sign, free); the password is kept in secure memory.
 */
struct _TkeFileSigner
{
  GObject parent_instance;

  TkeSignatureKeyFile *file;
  TkeSecret *password;
};

static void tke_file_signer_signer_init (TkeSignerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TkeFileSigner,
                               tke_file_signer,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TKE_TYPE_SIGNER, tke_file_signer_signer_init))

/**
 * tke_file_signer_new:
 * @file: a loaded signature key file
 * @password: its password (copied)
 *
 * Creates a signer that unlocks @file with @password for each signature.
 *
 * Returns: (transfer full): a signer
 */
TkeFileSigner *
tke_file_signer_new (TkeSignatureKeyFile *file, const TkeSecret *password)
{
  TkeFileSigner *self;

  g_return_val_if_fail (TKE_IS_SIGNATURE_KEY_FILE (file), NULL);
  g_return_val_if_fail (password != NULL, NULL);

  self = g_object_new (TKE_TYPE_FILE_SIGNER, NULL);
  self->file = g_object_ref (file);
  self->password =
      tke_secret_new_from_data (tke_secret_get_data (password), tke_secret_get_size (password));
  return self;
}

/**
 * tke_file_signer_get_file:
 * @self: a file signer
 *
 * The signature key file the signer signs with.
 *
 * Returns: (transfer none): the signature key file
 */
TkeSignatureKeyFile *
tke_file_signer_get_file (TkeFileSigner *self)
{
  g_return_val_if_fail (TKE_IS_FILE_SIGNER (self), NULL);
  return self->file;
}

static const char *
get_name (TkeSigner *signer)
{
  return tke_signature_key_file_get_admin_name (TKE_FILE_SIGNER (signer)->file);
}

static const char *
get_ski (TkeSigner *signer)
{
  return tke_signature_key_file_get_ski (TKE_FILE_SIGNER (signer)->file);
}

static void
public_key_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  TkeFileSigner *self = source;
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  GBytes *point;

  key = tke_signature_key_file_unlock (self->file, self->password, &error);
  if (key == NULL || (point = tke_crypto_ec_public_point (key, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, point, (GDestroyNotify) g_bytes_unref);
}

static void
get_public_key_async (TkeSigner *signer,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (signer, cancellable, callback, user_data);

  g_task_set_source_tag (task, get_public_key_async);
  g_task_run_in_thread (task, public_key_thread);
}

static GBytes *
get_public_key_finish (TkeSigner *signer, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, signer), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
sign_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TKE_WORKER_THREAD_SCOPE;
  TkeFileSigner *self = source;
  GBytes *data = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  GBytes *signature;

  key = tke_signature_key_file_unlock (self->file, self->password, &error);
  if (key == NULL || (signature = tke_crypto_sign (key, g_bytes_get_data (data, NULL),
                                                   g_bytes_get_size (data), &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, signature, (GDestroyNotify) g_bytes_unref);
}

static void
sign_async (TkeSigner *signer,
            GBytes *data,
            GCancellable *cancellable,
            GAsyncReadyCallback callback,
            gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (signer, cancellable, callback, user_data);

  g_task_set_source_tag (task, sign_async);
  g_task_set_task_data (task, g_bytes_ref (data), (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (task, sign_thread);
}

static GBytes *
sign_finish (TkeSigner *signer, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, signer), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
tke_file_signer_signer_init (TkeSignerInterface *iface)
{
  iface->get_name = get_name;
  iface->get_ski = get_ski;
  iface->get_public_key_async = get_public_key_async;
  iface->get_public_key_finish = get_public_key_finish;
  iface->sign_async = sign_async;
  iface->sign_finish = sign_finish;
}

static void
tke_file_signer_finalize (GObject *object)
{
  TkeFileSigner *self = TKE_FILE_SIGNER (object);

  g_clear_object (&self->file);
  g_clear_pointer (&self->password, tke_secret_unref);

  G_OBJECT_CLASS (tke_file_signer_parent_class)->finalize (object);
}

static void
tke_file_signer_class_init (TkeFileSignerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tke_file_signer_finalize;
}

static void
tke_file_signer_init (TkeFileSigner *self)
{
}
