/* tke-emu-identity.h: the unit root, the units' device keys and signed answers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "tke-emu-store.h"

G_BEGIN_DECLS

typedef struct _TkeEmuIdentity TkeEmuIdentity;

gboolean tke_emu_identity_ensure_root (const char *state_dir, gboolean announce, GError **error);
char *tke_emu_identity_root_file (const char *state_dir);
TkeEmuIdentity *tke_emu_identity_open (TkeEmuStore *store, GError **error);
void tke_emu_identity_free (TkeEmuIdentity *self);
JsonObject *tke_emu_identity_root_json (TkeEmuIdentity *self);
char *tke_emu_identity_importer_certificate (TkeEmuIdentity *self,
                                             const char *hsm_id,
                                             GBytes *importer_point,
                                             GError **error);
gboolean tke_emu_identity_add_units (TkeEmuIdentity *self, GError **error);
gboolean tke_emu_identity_verify_importer (TkeEmuIdentity *self,
                                           const char *hsm_id,
                                           GBytes *importer_certificate,
                                           GBytes *importer_point,
                                           GError **error);
JsonObject *tke_emu_identity_sign_answer (TkeEmuIdentity *self,
                                          const char *hsm_id,
                                          GBytes *request,
                                          const char *command,
                                          gint64 counter,
                                          JsonObject *result,
                                          GError **error);

/* tke-emu-store-identity.c: the device keys' table */
gboolean tke_emu_store_identity_load (TkeEmuStore *self,
                                      const char *hsm_id,
                                      GBytes **device_sealed,
                                      GBytes **certificate,
                                      GError **error);
gboolean tke_emu_store_identity_save (TkeEmuStore *self,
                                      const char *hsm_id,
                                      GBytes *device_sealed,
                                      GBytes *certificate,
                                      GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeEmuIdentity, tke_emu_identity_free)

G_END_DECLS
