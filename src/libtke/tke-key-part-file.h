/* tke-key-part-file.h: a master key part in a password-protected file
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

/* The longest description a key part file takes, in characters. */
/**
 * TKE_KEY_PART_DESCRIPTION_MAX:
 *
 * The longest description a key part file takes, in characters.
 */
#define TKE_KEY_PART_DESCRIPTION_MAX 64

#define TKE_TYPE_KEY_PART_FILE (tke_key_part_file_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeKeyPartFile, tke_key_part_file, TKE, KEY_PART_FILE, GObject)

/* Writes a new file (mode 0600; an existing file is refused) holding
 * @part (32 bytes) under @password.  Format: data/doc/key-part-file.md. */
TKE_AVAILABLE_IN_ALL
gboolean tke_key_part_file_create (const char *path,
                                   const char *description,
                                   const TkeSecret *part,
                                   const TkeSecret *password,
                                   GError **error);
TKE_AVAILABLE_IN_ALL
TkeKeyPartFile *tke_key_part_file_load (const char *path, GError **error);
/* The contents of such a file, for a caller that writes or sends them itself. */
TKE_AVAILABLE_IN_ALL
GBytes *tke_key_part_file_build (const char *description,
                                 const TkeSecret *part,
                                 const TkeSecret *password,
                                 GError **error);
/* A key part file from its contents; @name stands for its path in messages. */
TKE_AVAILABLE_IN_ALL
TkeKeyPartFile *
tke_key_part_file_new_from_bytes (const char *name, GBytes *contents, GError **error);
TKE_AVAILABLE_IN_ALL
const char *tke_key_part_file_get_path (TkeKeyPartFile *self);
TKE_AVAILABLE_IN_ALL
const char *tke_key_part_file_get_description (TkeKeyPartFile *self);
/* The part's verification pattern, 64 hex digits. */
TKE_AVAILABLE_IN_ALL
const char *tke_key_part_file_get_vp (TkeKeyPartFile *self);

/* Decrypts the part: %TKE_ERROR_INVALID_PASSWORD ("Invalid password.") for
 * a wrong password, %TKE_ERROR_INTEGRITY for a damaged file. */
TKE_AVAILABLE_IN_ALL
TkeSecret *
tke_key_part_file_unlock (TkeKeyPartFile *self, const TkeSecret *password, GError **error);
/* Checks @password and keeps the key it derives (in the secure heap, until
 * the object goes away) for tke_key_part_source_seal_async(), so that
 * sealing to several units runs the slow KDF once. */
TKE_AVAILABLE_IN_ALL
gboolean
tke_key_part_file_set_password (TkeKeyPartFile *self, const TkeSecret *password, GError **error);

G_END_DECLS
