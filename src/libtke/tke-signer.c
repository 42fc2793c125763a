/* tke-signer.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tke-signer.h"

/**
 * TkeSigner:
 *
 * An administrator's signature key, as the ceremonies see it.
 *
 * Implemented by #TkeFileSigner (a signature key file and its password, for
 * the command line) and #TkeCardSigner (a card in reader 1 whose PIN is
 * typed on the reader's PIN pad). Signatures are ECDSA on P-521 over SHA-512.
 */
G_DEFINE_INTERFACE (TkeSigner, tke_signer, G_TYPE_OBJECT)

static void
tke_signer_default_init (TkeSignerInterface *iface)
{
}

/**
 * tke_signer_get_name:
 * @self: a #TkeSigner
 *
 * The administrator's name. A card signer learns it from the card, so it is
 * %NULL until a first operation read it.
 *
 * Returns: (nullable): the name, or %NULL while not yet known
 */
const char *
tke_signer_get_name (TkeSigner *self)
{
  g_return_val_if_fail (TKE_IS_SIGNER (self), NULL);
  return TKE_SIGNER_GET_IFACE (self)->get_name (self);
}

/**
 * tke_signer_get_ski:
 * @self: a #TkeSigner
 *
 * The subject key identifier of the signature key (64 hex digits), which
 * names the administrator on the crypto units.
 *
 * Returns: (nullable): the SKI, or %NULL while not yet known
 */
const char *
tke_signer_get_ski (TkeSigner *self)
{
  g_return_val_if_fail (TKE_IS_SIGNER (self), NULL);
  return TKE_SIGNER_GET_IFACE (self)->get_ski (self);
}

/**
 * tke_signer_get_public_key_async:
 * @self: a #TkeSigner
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the key was read
 * @user_data: data for @callback
 *
 * Reads the signer's public key, e.g. to install its administrator.
 */
void
tke_signer_get_public_key_async (TkeSigner *self,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_return_if_fail (TKE_IS_SIGNER (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  TKE_SIGNER_GET_IFACE (self)->get_public_key_async (self, cancellable, callback, user_data);
}

/**
 * tke_signer_get_public_key_finish:
 * @self: a #TkeSigner
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Finishes tke_signer_get_public_key_async().
 *
 * Returns: (transfer full): the uncompressed P-521 public point, or %NULL
 */
GBytes *
tke_signer_get_public_key_finish (TkeSigner *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (TKE_IS_SIGNER (self), NULL);
  return TKE_SIGNER_GET_IFACE (self)->get_public_key_finish (self, result, error);
}

/**
 * tke_signer_sign_async:
 * @self: a #TkeSigner
 * @data: the exact bytes to sign
 * @cancellable: (nullable): a #GCancellable; a PIN entry on a PIN pad
 *   cannot be cancelled from the host, only on the pad
 * @callback: called when the signature is made
 * @user_data: data for @callback
 *
 * Signs @data with the administrator's key. A card signer asks for the PIN
 * on the PIN pad of reader 1 when the card needs it.
 */
void
tke_signer_sign_async (TkeSigner *self,
                       GBytes *data,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
  g_return_if_fail (TKE_IS_SIGNER (self));
  g_return_if_fail (data != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  TKE_SIGNER_GET_IFACE (self)->sign_async (self, data, cancellable, callback, user_data);
}

/**
 * tke_signer_sign_finish:
 * @self: a #TkeSigner
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Finishes tke_signer_sign_async().
 *
 * Returns: (transfer full): a DER ECDSA signature over SHA-512 of the data, or %NULL
 */
GBytes *
tke_signer_sign_finish (TkeSigner *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (TKE_IS_SIGNER (self), NULL);
  return TKE_SIGNER_GET_IFACE (self)->sign_finish (self, result, error);
}
