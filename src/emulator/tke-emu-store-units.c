/* tke-emu-store-units.c: crypto units, their registers and importer keys
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Register values and importer private keys are stored only encrypted
 * under device.key, which stands in for the HSM's tamper-protected memory.
 */

#include "config.h"

#include <string.h>

#include "tke-emu-error.h"
#include "tke-emu-store-private.h"

void
_tke_emu_admin_free (gpointer data)
{
  TkeEmuAdmin *admin = data;

  g_free (admin->name);
  g_free (admin->ski);
  g_clear_pointer (&admin->point, g_bytes_unref);
  g_free (admin);
}

void
tke_emu_unit_free (TkeEmuUnit *unit)
{
  if (unit == NULL)
    return;
  g_free (unit->hsm_id);
  g_free (unit->type);
  g_free (unit->location);
  g_free (unit->serial);
  g_free (unit->new_state);
  g_free (unit->cur_state);
  g_clear_pointer (&unit->new_value, g_bytes_unref);
  g_clear_pointer (&unit->cur_value, g_bytes_unref);
  g_clear_pointer (&unit->importer_priv, g_bytes_unref);
  g_clear_pointer (&unit->importer_pub, g_bytes_unref);
  g_clear_pointer (&unit->admins, g_ptr_array_unref);
  g_free (unit);
}

gboolean
tke_emu_unit_imprint (const TkeEmuUnit *unit)
{
  return unit->sig_thr == 0 && unit->rev_thr == 0;
}

GBytes *
_tke_emu_column_bytes (sqlite3_stmt *stmt, int column)
{
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return NULL;
  return g_bytes_new (sqlite3_column_blob (stmt, column),
                      (gsize) sqlite3_column_bytes (stmt, column));
}

char *
_tke_emu_column_text (sqlite3_stmt *stmt, int column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

static int
compare_admins (gconstpointer a, gconstpointer b)
{
  const TkeEmuAdmin *x = *(TkeEmuAdmin **) a, *y = *(TkeEmuAdmin **) b;

  return strcmp (x->ski, y->ski);
}

static TkeEmuUnit *
unit_from_row (TkeEmuStore *self, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (TkeEmuUnit) unit = g_new0 (TkeEmuUnit, 1);
  sqlite3_stmt *admins = NULL;
  int rc;

  unit->hsm_id = _tke_emu_column_text (stmt, 0);
  unit->num = sqlite3_column_int64 (stmt, 1);
  unit->type = _tke_emu_column_text (stmt, 2);
  unit->location = _tke_emu_column_text (stmt, 3);
  unit->serial = _tke_emu_column_text (stmt, 4);
  unit->sig_thr = sqlite3_column_int64 (stmt, 5);
  unit->rev_thr = sqlite3_column_int64 (stmt, 6);
  unit->counter = sqlite3_column_int64 (stmt, 7);
  unit->new_state = _tke_emu_column_text (stmt, 8);
  unit->new_value = _tke_emu_column_bytes (stmt, 9);
  unit->cur_state = _tke_emu_column_text (stmt, 10);
  unit->cur_value = _tke_emu_column_bytes (stmt, 11);
  unit->importer_priv = _tke_emu_column_bytes (stmt, 12);
  unit->importer_pub = _tke_emu_column_bytes (stmt, 13);
  unit->admins = g_ptr_array_new_with_free_func (_tke_emu_admin_free);

  if ((admins = _tke_emu_stmt (
           self->db, "SELECT ski, name, point FROM admins WHERE hsm_id = ? ORDER BY ski")) == NULL)
    {
      tke_emu_db_error (self->db, error);
      return NULL;
    }
  sqlite3_bind_text (admins, 1, unit->hsm_id, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (admins)) == SQLITE_ROW)
    {
      TkeEmuAdmin *admin = g_new0 (TkeEmuAdmin, 1);

      admin->ski = _tke_emu_column_text (admins, 0);
      admin->name = _tke_emu_column_text (admins, 1);
      admin->point = _tke_emu_column_bytes (admins, 2);
      g_ptr_array_add (unit->admins, admin);
    }
  _tke_emu_stmt_done (admins);
  if (rc != SQLITE_DONE)
    {
      tke_emu_db_error (self->db, error);
      return NULL;
    }
  return g_steal_pointer (&unit);
}

#define UNIT_COLUMNS                                                                               \
  "hsm_id, num, type, location, serial, sig_thr, rev_thr, counter,"                                \
  " new_state, new_value, cur_state, cur_value, importer_priv, importer_pub"

TkeEmuUnit *
tke_emu_unit_load (TkeEmuStore *self, const char *hsm_id, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  TkeEmuUnit *unit = NULL;
  int rc;

  if ((stmt = _tke_emu_stmt (self->db, "SELECT " UNIT_COLUMNS " FROM units WHERE hsm_id = ?")) ==
      NULL)
    {
      tke_emu_db_error (self->db, error);
      return NULL;
    }
  sqlite3_bind_text (stmt, 1, hsm_id, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    unit = unit_from_row (self, stmt, error);
  else if (rc == SQLITE_DONE)
    g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND,
                 "There is no crypto unit %s in this service instance.", hsm_id);
  else
    tke_emu_db_error (self->db, error);
  _tke_emu_stmt_done (stmt);
  return unit;
}

GPtrArray *
tke_emu_units_load (TkeEmuStore *self, gboolean operational_only, GError **error)
{
  g_autoptr (GPtrArray) units = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_emu_unit_free);
  sqlite3_stmt *stmt = NULL;
  int rc;

  if ((stmt = _tke_emu_stmt (
           self->db, operational_only ? "SELECT " UNIT_COLUMNS
                                        " FROM units WHERE type != 'RECOVERY' ORDER BY num"
                                      : "SELECT " UNIT_COLUMNS " FROM units ORDER BY num")) == NULL)
    {
      tke_emu_db_error (self->db, error);
      return NULL;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      TkeEmuUnit *unit = unit_from_row (self, stmt, error);

      if (unit == NULL)
        {
          _tke_emu_stmt_done (stmt);
          return NULL;
        }
      g_ptr_array_add (units, unit);
    }
  _tke_emu_stmt_done (stmt);
  if (rc != SQLITE_DONE)
    {
      tke_emu_db_error (self->db, error);
      return NULL;
    }
  return g_steal_pointer (&units);
}

void
_tke_emu_bind_bytes (sqlite3_stmt *stmt, int index, GBytes *bytes)
{
  if (bytes == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_blob (stmt, index, g_bytes_get_data (bytes, NULL), (int) g_bytes_get_size (bytes),
                       SQLITE_TRANSIENT);
}

/* Writes the whole unit; the caller holds the transaction. */
gboolean
tke_emu_unit_save (TkeEmuStore *self, TkeEmuUnit *unit, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (self->db,
                          "INSERT OR REPLACE INTO units (" UNIT_COLUMNS ") VALUES"
                          " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                          -1, &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (self->db, error);
  sqlite3_bind_text (stmt, 1, unit->hsm_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, unit->num);
  sqlite3_bind_text (stmt, 3, unit->type, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, unit->location, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, unit->serial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, unit->sig_thr);
  sqlite3_bind_int64 (stmt, 7, unit->rev_thr);
  sqlite3_bind_int64 (stmt, 8, unit->counter);
  sqlite3_bind_text (stmt, 9, unit->new_state, -1, SQLITE_TRANSIENT);
  _tke_emu_bind_bytes (stmt, 10, unit->new_value);
  sqlite3_bind_text (stmt, 11, unit->cur_state, -1, SQLITE_TRANSIENT);
  _tke_emu_bind_bytes (stmt, 12, unit->cur_value);
  _tke_emu_bind_bytes (stmt, 13, unit->importer_priv);
  _tke_emu_bind_bytes (stmt, 14, unit->importer_pub);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    return tke_emu_db_error (self->db, error);

  if (sqlite3_prepare_v2 (self->db, "DELETE FROM admins WHERE hsm_id = ?", -1, &stmt, NULL) !=
      SQLITE_OK)
    return tke_emu_db_error (self->db, error);
  sqlite3_bind_text (stmt, 1, unit->hsm_id, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    return tke_emu_db_error (self->db, error);

  for (guint i = 0; i < unit->admins->len; i++)
    {
      TkeEmuAdmin *admin = g_ptr_array_index (unit->admins, i);

      if (sqlite3_prepare_v2 (self->db,
                              "INSERT INTO admins (hsm_id, ski, name, point) VALUES (?, ?, ?, ?)",
                              -1, &stmt, NULL) != SQLITE_OK)
        return tke_emu_db_error (self->db, error);
      sqlite3_bind_text (stmt, 1, unit->hsm_id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, admin->ski, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, admin->name, -1, SQLITE_TRANSIENT);
      _tke_emu_bind_bytes (stmt, 4, admin->point);
      rc = sqlite3_step (stmt);
      sqlite3_finalize (stmt);
      if (rc != SQLITE_DONE)
        return tke_emu_db_error (self->db, error);
    }
  g_ptr_array_sort (unit->admins, compare_admins);
  return TRUE;
}

static char *
register_aad (const TkeEmuUnit *unit, gboolean new_register)
{
  return g_strdup_printf ("tke-register|%s|%s", unit->hsm_id, new_register ? "new" : "current");
}

TkeSecret *
tke_emu_unit_get_register (TkeEmuStore *self,
                           const TkeEmuUnit *unit,
                           gboolean new_register,
                           GError **error)
{
  g_autofree char *aad = register_aad (unit, new_register);
  GBytes *value = new_register ? unit->new_value : unit->cur_value;

  if (value == NULL)
    {
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_MK_NOT_INITIALIZED,
                   "The %s master key register of crypto unit %" G_GINT64_FORMAT " is empty.",
                   new_register ? "new" : "current", unit->num);
      return NULL;
    }
  return tke_emu_open_device (self, aad, value, error);
}

gboolean
tke_emu_unit_set_register (TkeEmuStore *self,
                           TkeEmuUnit *unit,
                           gboolean new_register,
                           const TkeSecret *value,
                           const char *state,
                           GError **error)
{
  g_autofree char *aad = register_aad (unit, new_register);
  GBytes *sealed = NULL;

  if (value != NULL)
    {
      sealed = tke_emu_seal_device (self, aad, tke_secret_get_data (value),
                                    tke_secret_get_size (value), error);
      if (sealed == NULL)
        return FALSE;
    }
  if (new_register)
    {
      g_clear_pointer (&unit->new_value, g_bytes_unref);
      unit->new_value = sealed;
      g_free (unit->new_state);
      unit->new_state = g_strdup (state);
    }
  else
    {
      g_clear_pointer (&unit->cur_value, g_bytes_unref);
      unit->cur_value = sealed;
      g_free (unit->cur_state);
      unit->cur_state = g_strdup (state);
    }
  return TRUE;
}

/* The VP is computed from the value when asked; an empty register has 64 zeros. */
void
tke_emu_unit_register_vp (TkeEmuStore *self,
                          const TkeEmuUnit *unit,
                          gboolean new_register,
                          guint8 vp[TKE_VP_SIZE])
{
  g_autoptr (TkeSecret) value = NULL;

  memset (vp, 0, TKE_VP_SIZE);
  if ((new_register ? unit->new_value : unit->cur_value) == NULL)
    return;
  value = tke_emu_unit_get_register (self, unit, new_register, NULL);
  if (value != NULL)
    tke_crypto_verification_pattern (value, vp);
}

EVP_PKEY *
tke_emu_unit_get_importer (TkeEmuStore *self, const TkeEmuUnit *unit, GError **error)
{
  g_autofree char *aad = g_strdup_printf ("tke-importer|%s", unit->hsm_id);
  g_autoptr (TkeSecret) pem = NULL;

  if (unit->importer_priv == NULL)
    {
      g_set_error (error, TKE_EMU_ERROR, TKE_EMU_ERROR_NO_IMPORTER_KEY,
                   "Crypto unit %" G_GINT64_FORMAT " has no importer key: generate one first.",
                   unit->num);
      return NULL;
    }
  pem = tke_emu_open_device (self, aad, unit->importer_priv, error);
  if (pem == NULL)
    return NULL;
  return tke_crypto_ec_private_key_from_pem (pem, error);
}

gboolean
tke_emu_unit_set_importer (TkeEmuStore *self, TkeEmuUnit *unit, EVP_PKEY *key, GError **error)
{
  g_autofree char *aad = g_strdup_printf ("tke-importer|%s", unit->hsm_id);
  g_autoptr (TkeSecret) pem = NULL;
  GBytes *sealed, *point;

  g_clear_pointer (&unit->importer_priv, g_bytes_unref);
  g_clear_pointer (&unit->importer_pub, g_bytes_unref);
  if (key == NULL)
    return TRUE;
  pem = tke_crypto_ec_private_key_to_pem (key, error);
  if (pem == NULL)
    return FALSE;
  sealed =
      tke_emu_seal_device (self, aad, tke_secret_get_data (pem), tke_secret_get_size (pem), error);
  if (sealed == NULL)
    return FALSE;
  point = tke_crypto_ec_public_point (key, error);
  if (point == NULL)
    {
      g_bytes_unref (sealed);
      return FALSE;
    }
  unit->importer_priv = sealed;
  unit->importer_pub = point;
  return TRUE;
}

/* Control points */

static GArray *
default_control_points (void)
{
  GArray *bits = g_array_new (FALSE, FALSE, sizeof (guint));

  /* EP11's domain control points 0-48 and XCP_CPB_ALG_EC_25519 (55, EdDSA);
   * XCP_CPB_BTC (66) and XCP_CPB_ECDSA_OTHER (67) are off until enabled. */
  for (guint i = 0; i <= 48; i++)
    g_array_append_val (bits, i);
  g_array_append_val (bits, (guint){ 55 });
  return bits;
}

static gint
compare_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

GArray *
tke_emu_unit_get_control_points (TkeEmuStore *self, const TkeEmuUnit *unit, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  g_autoptr (GArray) bits = NULL;
  int rc;

  if (sqlite3_prepare_v2 (self->db, "SELECT bits FROM control_points WHERE hsm_id = ?", -1, &stmt,
                          NULL) != SQLITE_OK)
    {
      tke_emu_db_error (self->db, error);
      return NULL;
    }
  sqlite3_bind_text (stmt, 1, unit->hsm_id, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      g_autofree char *text = _tke_emu_column_text (stmt, 0);
      g_auto (GStrv) words = g_strsplit (text != NULL ? text : "", " ", -1);

      bits = g_array_new (FALSE, FALSE, sizeof (guint));
      for (guint i = 0; words[i] != NULL; i++)
        {
          guint64 bit;

          if (*words[i] != '\0' &&
              g_ascii_string_to_unsigned (words[i], 10, 0, TKE_EMU_CONTROL_POINTS - 1, &bit, NULL))
            g_array_append_val (bits, (guint){ (guint) bit });
        }
    }
  else if (rc == SQLITE_DONE)
    bits = default_control_points ();
  sqlite3_finalize (stmt);
  if (bits == NULL)
    tke_emu_db_error (self->db, error);
  return g_steal_pointer (&bits);
}

gboolean
tke_emu_unit_set_control_points (TkeEmuStore *self,
                                 const TkeEmuUnit *unit,
                                 GArray *bits,
                                 GError **error)
{
  sqlite3_stmt *stmt = NULL;
  g_autoptr (GString) text = g_string_new ("");
  int rc;

  if (bits != NULL)
    {
      g_array_sort (bits, compare_uint);
      for (guint i = 0; i < bits->len; i++)
        g_string_append_printf (text, "%s%u", i > 0 ? " " : "", g_array_index (bits, guint, i));
    }
  if (sqlite3_prepare_v2 (self->db,
                          bits != NULL
                              ? "INSERT OR REPLACE INTO control_points (hsm_id, bits) VALUES (?, ?)"
                              : "DELETE FROM control_points WHERE hsm_id = ?",
                          -1, &stmt, NULL) != SQLITE_OK)
    return tke_emu_db_error (self->db, error);
  sqlite3_bind_text (stmt, 1, unit->hsm_id, -1, SQLITE_TRANSIENT);
  if (bits != NULL)
    sqlite3_bind_text (stmt, 2, text->str, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  return rc == SQLITE_DONE || tke_emu_db_error (self->db, error);
}
