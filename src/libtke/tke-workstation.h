/* tke-workstation.h: the workstation's profile and key files
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

/* File name suffixes in the key files directory: KEYNUM.sigkey, KEYNUM.keypart. */
/**
 * TKE_SIGNATURE_KEY_SUFFIX:
 *
 * The file name suffix of signature key files: `KEYNUM.sigkey`.
 */
#define TKE_SIGNATURE_KEY_SUFFIX ".sigkey"
/**
 * TKE_KEY_PART_SUFFIX:
 *
 * The file name suffix of key part files: `KEYNUM.keypart`.
 */
#define TKE_KEY_PART_SUFFIX ".keypart"

/**
 * TkeKeyFileKind:
 * @TKE_KEY_FILE_SIGNATURE_KEY: an administrator's signature key file
 * @TKE_KEY_FILE_KEY_PART: a master key part file
 *
 * The kinds of key file in the key files directory of a #TkeWorkstation.
 */
typedef enum
{
  TKE_KEY_FILE_SIGNATURE_KEY,
  TKE_KEY_FILE_KEY_PART,
} TkeKeyFileKind;

#define TKE_TYPE_WORKSTATION (tke_workstation_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeWorkstation, tke_workstation, TKE, WORKSTATION, GObject)

/* @config_dir: the profile's directory, %NULL for $XDG_CONFIG_HOME/tke;
 * @files_dir: the key files, %NULL for $TKE_FILES, else $CLOUDTKEFILES (the
 *   plug-in's name), else $XDG_DATA_HOME/tke/files.
 * The profile is read by tke_workstation_load(). */
TKE_AVAILABLE_IN_ALL
TkeWorkstation *tke_workstation_new (const char *config_dir, const char *files_dir);
TKE_AVAILABLE_IN_ALL
gboolean tke_workstation_load (TkeWorkstation *self, GError **error);
TKE_AVAILABLE_IN_ALL
gboolean tke_workstation_save (TkeWorkstation *self, GError **error);
TKE_AVAILABLE_IN_ALL
const char *tke_workstation_get_profile_path (TkeWorkstation *self);
TKE_AVAILABLE_IN_ALL
const char *tke_workstation_get_files_dir (TkeWorkstation *self);

TKE_AVAILABLE_IN_ALL
const char *tke_workstation_get_endpoint (TkeWorkstation *self);
TKE_AVAILABLE_IN_ALL
void tke_workstation_set_endpoint (TkeWorkstation *self, const char *endpoint);
TKE_AVAILABLE_IN_ALL
const char *tke_workstation_get_ca_file (TkeWorkstation *self);
TKE_AVAILABLE_IN_ALL
void tke_workstation_set_ca_file (TkeWorkstation *self, const char *ca_file);
TKE_AVAILABLE_IN_ALL
const char *tke_workstation_get_instance_id (TkeWorkstation *self);
TKE_AVAILABLE_IN_ALL
void tke_workstation_set_instance_id (TkeWorkstation *self, const char *instance_id);
/* The pinned unit root, 266 hex digits (profile key unit-root). */
TKE_AVAILABLE_IN_ALL
const char *tke_workstation_get_unit_root (TkeWorkstation *self);
TKE_AVAILABLE_IN_ALL
void tke_workstation_set_unit_root (TkeWorkstation *self, const char *unit_root);

/* Selections, as sorted numbers without duplicates. */
TKE_AVAILABLE_IN_ALL
GArray *tke_workstation_get_selected_units (TkeWorkstation *self);
TKE_AVAILABLE_IN_ALL
void tke_workstation_set_selected_units (TkeWorkstation *self, GArray *numbers);
TKE_AVAILABLE_IN_ALL
gboolean tke_workstation_is_unit_selected (TkeWorkstation *self, guint number);
TKE_AVAILABLE_IN_ALL
GArray *tke_workstation_get_selected_signature_keys (TkeWorkstation *self);
TKE_AVAILABLE_IN_ALL
void tke_workstation_set_selected_signature_keys (TkeWorkstation *self, GArray *keynums);

/* Key files, by KEYNUM. */
TKE_AVAILABLE_IN_ALL
gboolean tke_workstation_ensure_files_dir (TkeWorkstation *self, GError **error);
TKE_AVAILABLE_IN_ALL
GArray *tke_workstation_list_key_files (TkeWorkstation *self, TkeKeyFileKind kind, GError **error);
TKE_AVAILABLE_IN_ALL
char *tke_workstation_get_key_file_path (TkeWorkstation *self, TkeKeyFileKind kind, guint keynum);
TKE_AVAILABLE_IN_ALL
guint tke_workstation_next_keynum (TkeWorkstation *self, TkeKeyFileKind kind, GError **error);
TKE_AVAILABLE_IN_ALL
char *tke_workstation_new_staging_path (TkeWorkstation *self, TkeKeyFileKind kind, GError **error);
TKE_AVAILABLE_IN_ALL
guint tke_workstation_install_key_file (TkeWorkstation *self,
                                        TkeKeyFileKind kind,
                                        const char *staging_path,
                                        GError **error);
TKE_AVAILABLE_IN_ALL
void tke_workstation_discard_staging_path (const char *staging_path);

G_END_DECLS
