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
  int lock_fd; /* holds the state directory's lock, or -1 */
  struct
  {
    gint64 offset; /* the next page's offset, */
    gint64 rowid;  /* after this key */
    guint states;
    int changes; /* db's sqlite3_total_changes() then */
  } list_cursor;
} TkeEmuStore;

TkeEmuStore *
tke_emu_store_open (const char *state_dir, const char *init_mode, guint n_keys, GError **error);
TkeEmuStore *tke_emu_store_open_full (
    const char *state_dir, const char *init_mode, guint n_keys, guint n_recovery, GError **error);
void tke_emu_store_free (TkeEmuStore *self);
sqlite3 *tke_emu_store_open_db (const char *state_dir, GError **error);

gboolean tke_emu_db_exec (sqlite3 *db, const char *sql, GError **error);
gboolean tke_emu_db_begin (sqlite3 *db, GError **error);
void tke_emu_db_rollback (sqlite3 *db);
gboolean tke_emu_db_commit (sqlite3 *db, GError **error);
gboolean tke_emu_db_error (sqlite3 *db, GError **error);
gboolean tke_emu_store_version (TkeEmuStore *self, gint64 *changes, gint64 *data_version);

void tke_emu_unit_free (TkeEmuUnit *unit);
TkeEmuUnit *tke_emu_unit_load (TkeEmuStore *self, const char *hsm_id, GError **error);
/* @operational_only: the units that serve the instance (OPERATIONAL and
 * FAILOVER), not the RECOVERY ones. */
GPtrArray *tke_emu_units_load (TkeEmuStore *self, gboolean operational_only, GError **error);
/* Control points (tke-emu-store-units.c): the set bits' numbers, sorted;
 * a unit without a row has the default set (service-protocol.md §11.3).
 * Setting NULL goes back to it. */
#define TKE_EMU_CONTROL_POINTS 128
GArray *tke_emu_unit_get_control_points (TkeEmuStore *self, const TkeEmuUnit *unit, GError **error);
gboolean tke_emu_unit_set_control_points (TkeEmuStore *self,
                                          const TkeEmuUnit *unit,
                                          GArray *bits,
                                          GError **error);
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
void tke_emu_store_close_db (sqlite3 *db);

/* Keys (tke-emu-store-keys.c): the KMS root keys, wrapped under a master key */

typedef struct
{
  gint64 rowid;
  char *id;
  char *name;
  gboolean extractable;
  gint64 state;
  char *created;
  char *updated;
  GBytes *wkid;
  GBytes *wrapped;
  gint64 version;        /* the latest version's number, from 1 */
  char *version_id;      /* its id */
  char *version_created; /* its creation date */
  char *rotated;         /* the last rotate's date, or NULL */
} TkeEmuKey;

/* One version of a key's material (Key Protect's key versions). */
typedef struct
{
  gint64 number;
  char *id;
  char *created;
  GBytes *wkid;
  GBytes *wrapped;
} TkeEmuKeyVersion;

void tke_emu_key_free (TkeEmuKey *key);
gboolean tke_emu_store_add_root_keys (
    TkeEmuStore *self, const TkeSecret *mk, guint n_keys, const char *name_prefix, GError **error);
gint64 tke_emu_keys_count (sqlite3 *db, const guint8 *wkid, gboolean equal);
GPtrArray *
tke_emu_keys_list (TkeEmuStore *self, gint64 limit, gint64 offset, guint states, GError **error);
gint64 tke_emu_keys_count_states (TkeEmuStore *self, guint states);
gboolean tke_emu_key_set_state (TkeEmuStore *self, const char *id, gint64 state, GError **error);
TkeEmuKey *tke_emu_key_find (TkeEmuStore *self, const char *id, GError **error);
char *tke_emu_key_create (
    TkeEmuStore *self, const TkeSecret *mk, const char *name, gboolean extractable, GError **error);
gboolean tke_emu_key_delete (TkeEmuStore *self, gint64 rowid, GError **error);
gboolean tke_emu_key_rotate (TkeEmuStore *self,
                             const TkeEmuKey *key,
                             const guint8 wkid[TKE_WKID_SIZE],
                             GBytes *wrapped,
                             GError **error);
void tke_emu_key_version_free (TkeEmuKeyVersion *version);
TkeEmuKeyVersion *
tke_emu_key_version_find (TkeEmuStore *self, const TkeEmuKey *key, gint64 number, GError **error);
GPtrArray *tke_emu_key_versions_list (TkeEmuStore *self, const TkeEmuKey *key, GError **error);

typedef void (*TkeEmuKeyMaterialFunc) (const guint8 *wkid,
                                       gsize wkid_size,
                                       const guint8 *wrapped,
                                       gsize wrapped_size,
                                       gpointer user_data);
gboolean tke_emu_keys_foreach_material (TkeEmuStore *self,
                                        TkeEmuKeyMaterialFunc func,
                                        gpointer user_data,
                                        GError **error);

/* Rotation (tke-emu-store-rotation.c): the keystore's master key rotation */

typedef struct
{
  gint64 id; /* 0: there was no rotation yet */
  char *state;
  char *from_vp;
  char *to_vp;
  gint64 keys_total;
  gint64 keys_done;
  char *started;
  char *error_code;
  char *error_message;
} TkeEmuRotation;

typedef struct
{
  char *timestamp;
  char *message;
} TkeEmuMessage;

void tke_emu_rotation_free (TkeEmuRotation *rotation);
void tke_emu_message_free (TkeEmuMessage *message);
TkeEmuRotation *tke_emu_rotation_load (sqlite3 *db, GError **error);
GPtrArray *tke_emu_rotation_messages (sqlite3 *db, gint64 rotation_id, GError **error);
gboolean
tke_emu_rotation_add_message (sqlite3 *db, gint64 rotation_id, const char *message, GError **error);
gint64 tke_emu_rotation_insert (
    sqlite3 *db, const char *from_vp, const char *to_vp, const char *message, GError **error);
gboolean tke_emu_rotation_resume (sqlite3 *db,
                                  gint64 rotation_id,
                                  const guint8 new_wkid[TKE_WKID_SIZE],
                                  GError **error);
gboolean tke_emu_rotation_set_rewrapped (sqlite3 *db,
                                         gint64 rotation_id,
                                         const char *message,
                                         GError **error);
gboolean tke_emu_rotation_set_complete (sqlite3 *db,
                                        gint64 rotation_id,
                                        const char *message,
                                        GError **error);
void tke_emu_rotation_record_error (sqlite3 *db, gint64 rotation_id, const GError *error);
gboolean
tke_emu_rotation_forget_key (sqlite3 *db, gint64 rotation_id, gboolean was_done, GError **error);

/* The rewrap's cursor: rows not yet under the new WKID, in rowid order. */
typedef struct _TkeEmuRewrap TkeEmuRewrap;

/* Rewraps one row into @out (@out_size bytes); returns the length, or -1. */
typedef gssize (*TkeEmuRewrapFunc) (gint64 rowid,
                                    const guint8 *wkid,
                                    gsize wkid_size,
                                    const guint8 *wrapped,
                                    gsize wrapped_size,
                                    guint8 *out,
                                    gsize out_size,
                                    gpointer user_data,
                                    GError **error);

TkeEmuRewrap *
tke_emu_rewrap_new (sqlite3 *db, const guint8 new_wkid[TKE_WKID_SIZE], GError **error);
gint64 tke_emu_rewrap_batch (
    TkeEmuRewrap *self, gint64 limit, TkeEmuRewrapFunc func, gpointer user_data, GError **error);
void tke_emu_rewrap_free (TkeEmuRewrap *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeEmuKey, tke_emu_key_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeEmuKeyVersion, tke_emu_key_version_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeEmuRotation, tke_emu_rotation_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeEmuRewrap, tke_emu_rewrap_free)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeEmuUnit, tke_emu_unit_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeEmuStore, tke_emu_store_free)

G_END_DECLS
