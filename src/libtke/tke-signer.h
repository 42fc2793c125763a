/* tke-signer.h: something that signs administrative commands
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_SIGNER (tke_signer_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (TkeSigner, tke_signer, TKE, SIGNER, GObject)

/**
 * TkeSignerInterface:
 * @get_name: the administrator's name, or %NULL while not yet known
 * @get_ski: the SKI (64 hex digits), or %NULL while not yet known
 * @get_public_key_async: reads the uncompressed P-521 public point
 * @get_public_key_finish: finishes it
 * @sign_async: signs data with ECDSA P-521 / SHA-512
 * @sign_finish: returns the DER signature
 *
 * An administrator's signature key: a signature key file on the
 * workstation, or a card in reader 1 whose PIN is typed on the PIN pad.
 * The ceremonies only see this interface.  A card signer learns its name
 * and SKI from the card, so they may be %NULL until a first operation.
 */
struct _TkeSignerInterface
{
  GTypeInterface parent_iface;

  const char *(*get_name) (TkeSigner *self);
  const char *(*get_ski) (TkeSigner *self);
  void (*get_public_key_async) (TkeSigner *self,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
  GBytes *(*get_public_key_finish) (TkeSigner *self, GAsyncResult *result, GError **error);
  void (*sign_async) (TkeSigner *self,
                      GBytes *data,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data);
  GBytes *(*sign_finish) (TkeSigner *self, GAsyncResult *result, GError **error);
};

TKE_AVAILABLE_IN_ALL
const char *tke_signer_get_name (TkeSigner *self);
TKE_AVAILABLE_IN_ALL
const char *tke_signer_get_ski (TkeSigner *self);
TKE_AVAILABLE_IN_ALL
void tke_signer_get_public_key_async (TkeSigner *self,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
TKE_AVAILABLE_IN_ALL
GBytes *tke_signer_get_public_key_finish (TkeSigner *self, GAsyncResult *result, GError **error);
TKE_AVAILABLE_IN_ALL
void tke_signer_sign_async (TkeSigner *self,
                            GBytes *data,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data);
TKE_AVAILABLE_IN_ALL
GBytes *tke_signer_sign_finish (TkeSigner *self, GAsyncResult *result, GError **error);

G_END_DECLS
