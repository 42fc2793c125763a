/* tke-sign-keys.h: the keys the reference signing service guards
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

G_BEGIN_DECLS

typedef struct
{
  char *name;
  EVP_PKEY *key;      /* the private key, unlocked at start */
  guint8 token[32];   /* SHA-256 of the token that authorizes it */
  GBytes *public_der; /* SEQUENCE { INTEGER X, INTEGER Y } */
} TkeSignKey;

void tke_sign_key_free (TkeSignKey *key);

GPtrArray *tke_sign_keys_load (const char *config_path, const char *password_file, GError **error);
TkeSignKey *tke_sign_keys_find (GPtrArray *keys, const char *name);
gboolean tke_sign_key_token_matches (const TkeSignKey *key, const char *token);
GBytes *tke_sign_key_public_der (EVP_PKEY *key, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeSignKey, tke_sign_key_free)

G_END_DECLS
