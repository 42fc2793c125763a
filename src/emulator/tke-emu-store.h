/* tke-emu-store.h: the emulator's persistent state (SQLite, WAL)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <sqlite3.h>
#include <tke.h>

G_BEGIN_DECLS

#define TKE_EMU_MAX_ADMINS 8
#define TKE_EMU_BATCH 2000

typedef struct
{
  char *name;
  char *ski;     /* 64 hex */
  GBytes *point; /* uncompressed P-521 point */
} TkeEmuAdmin;

typedef struct
{
  char *hsm_id;
  gint64 num;
  char *type;
  char *location;
  char *serial;
  gint64 sig_thr;
  gint64 rev_thr;
  gint64 counter;
  char *new_state;
  GBytes *new_value; /* AES-GCM under the device key, or NULL */
  char *cur_state;
  GBytes *cur_value;
  GBytes *importer_priv; /* AES-GCM under the device key, or NULL */
  GBytes *importer_pub;
  GPtrArray *admins; /* TkeEmuAdmin, sorted by SKI */
} TkeEmuUnit;

typedef struct
{
  char *state_dir;
  sqlite3 *db;
  TkeSecret *device_key;
  char *instance_id;
  char *api_key;
  char *init_mode;
} TkeEmuStore;

TkeEmuStore *
tke_emu_store_open (const char *state_dir, const char *init_mode, guint n_keys, GError **error);
void tke_emu_store_free (TkeEmuStore *self);
sqlite3 *tke_emu_store_open_db (const char *state_dir, GError **error);

gboolean tke_emu_db_exec (sqlite3 *db, const char *sql, GError **error);
gboolean tke_emu_db_begin (sqlite3 *db, GError **error);
void tke_emu_db_rollback (sqlite3 *db);
gboolean tke_emu_db_commit (sqlite3 *db, GError **error);
gboolean tke_emu_db_error (sqlite3 *db, GError **error);

void tke_emu_unit_free (TkeEmuUnit *unit);
TkeEmuUnit *tke_emu_unit_load (TkeEmuStore *self, const char *hsm_id, GError **error);
GPtrArray *tke_emu_units_load (TkeEmuStore *self, gboolean operational_only, GError **error);
gboolean tke_emu_unit_save (TkeEmuStore *self, TkeEmuUnit *unit, GError **error);
gboolean tke_emu_unit_imprint (const TkeEmuUnit *unit);
TkeSecret *tke_emu_unit_get_register (TkeEmuStore *self,
                                      const TkeEmuUnit *unit,
                                      gboolean new_register,
                                      GError **error);
gboolean tke_emu_unit_set_register (TkeEmuStore *self,
                                    TkeEmuUnit *unit,
                                    gboolean new_register,
                                    const TkeSecret *value,
                                    const char *state,
                                    GError **error);
void tke_emu_unit_register_vp (TkeEmuStore *self,
                               const TkeEmuUnit *unit,
                               gboolean new_register,
                               guint8 vp[TKE_VP_SIZE]);
EVP_PKEY *tke_emu_unit_get_importer (TkeEmuStore *self, const TkeEmuUnit *unit, GError **error);
gboolean
tke_emu_unit_set_importer (TkeEmuStore *self, TkeEmuUnit *unit, EVP_PKEY *key, GError **error);

GBytes *tke_emu_seal_device (
    TkeEmuStore *self, const char *aad, const guint8 *data, gsize size, GError **error);
TkeSecret *tke_emu_open_device (TkeEmuStore *self, const char *aad, GBytes *sealed, GError **error);

char *tke_emu_now_iso (void);
gboolean tke_emu_store_add_root_keys (
    TkeEmuStore *self, const TkeSecret *mk, guint n_keys, const char *name_prefix, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeEmuUnit, tke_emu_unit_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeEmuStore, tke_emu_store_free)

G_END_DECLS
