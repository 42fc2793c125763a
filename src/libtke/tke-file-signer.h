/* tke-file-signer.h: a TkeSigner over a signature key file
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-secret.h"
#include "tke-signature-key-file.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_FILE_SIGNER (tke_file_signer_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeFileSigner, tke_file_signer, TKE, FILE_SIGNER, GObject)

/* The key is unlocked with @password only while a signature (or the public
 * key) is computed, on a worker thread, and freed right after. */
TKE_AVAILABLE_IN_ALL
TkeFileSigner *tke_file_signer_new (TkeSignatureKeyFile *file, const TkeSecret *password);
TKE_AVAILABLE_IN_ALL
TkeSignatureKeyFile *tke_file_signer_get_file (TkeFileSigner *self);

G_END_DECLS
