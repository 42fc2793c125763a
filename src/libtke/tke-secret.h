/* tke-secret.h: key material that lives in OpenSSL's secure heap
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <glib-object.h>

#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_SECRET (tke_secret_get_type ())

typedef struct _TkeSecret TkeSecret;

TKE_AVAILABLE_IN_ALL
GType tke_secret_get_type (void) G_GNUC_CONST;
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_secret_new (gsize size);
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_secret_new_from_data (const guint8 *data, gsize size);
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_secret_try_new (gsize size, GError **error);
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_secret_try_new_from_data (const guint8 *data, gsize size, GError **error);
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_secret_new_random (gsize size, GError **error);
TKE_AVAILABLE_IN_ALL
TkeSecret *tke_secret_ref (TkeSecret *self);
TKE_AVAILABLE_IN_ALL
void tke_secret_unref (TkeSecret *self);
TKE_AVAILABLE_IN_ALL
const guint8 *tke_secret_get_data (const TkeSecret *self);
TKE_AVAILABLE_IN_ALL
guint8 *tke_secret_get_mutable_data (TkeSecret *self);
TKE_AVAILABLE_IN_ALL
gsize tke_secret_get_size (const TkeSecret *self);
TKE_AVAILABLE_IN_ALL
gboolean tke_secret_equal (const TkeSecret *a, const TkeSecret *b);
TKE_AVAILABLE_IN_ALL
gboolean tke_secret_is_secure (const TkeSecret *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeSecret, tke_secret_unref)

G_END_DECLS
