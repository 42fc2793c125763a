/* tke-emu-grep11.c: the GREP11 calls and the keystore check
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "tke-emu-server-private.h"

/* The master keys the GREP11 calls need, kept while the store is
 * unchanged: opening the units' registers (sealed under the device key) and
 * setting up the key schedules took most of a RewrapKeyBlob.  Valid while
 * neither this connection wrote (sqlite3_total_changes64) nor any other one
 * committed (PRAGMA data_version: the rewrap worker, another process): a
 * register set, a unit added or a rotation started each end it, so every
 * call still sees what the store holds. */
struct _TkeEmuGrep11Keys
{
  gint64 changes;
  gint64 data_version;
  TkeSecret *cur; /* the current master key */
  TkeKwpContext *cur_ctx;
  guint8 cur_wkid[TKE_WKID_SIZE];
  TkeSecret *next; /* the new one, if every unit holds it Full Committed */
  TkeKwpContext *next_ctx;
  guint8 next_wkid[TKE_WKID_SIZE];
};

void
_tke_emu_grep11_keys_free (TkeEmuGrep11Keys *keys)
{
  if (keys == NULL)
    return;
  g_clear_pointer (&keys->cur, tke_secret_unref);
  g_clear_pointer (&keys->cur_ctx, tke_crypto_kwp_context_free);
  g_clear_pointer (&keys->next, tke_secret_unref);
  g_clear_pointer (&keys->next_ctx, tke_crypto_kwp_context_free);
  g_free (keys);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeEmuGrep11Keys, _tke_emu_grep11_keys_free)

/* The wrapped key of the body's "blob" under the current master key, into
 * @out (TKE_EMU_MAX_BLOB bytes, which the caller wipes): its length, or -1. */
static gssize
blob_key (TkeEmuGrep11Keys *keys, JsonObject *body, guint8 *out, GError **error)
{
  g_autoptr (GBytes) blob = _tke_emu_get_base64 (body, "blob", error);
  const guint8 *data;
  gsize size;
  gssize n;

  if (blob == NULL)
    return -1;
  data = g_bytes_get_data (blob, &size);
  if (size < TKE_WKID_SIZE + 16)
    return FAIL (INVALID_BLOB, "The blob is too short."), -1;
  if (size > TKE_EMU_MAX_BLOB)
    return FAIL (INVALID_BLOB, "The blob is over %d bytes: it wraps no key.", TKE_EMU_MAX_BLOB), -1;
  if (memcmp (data, keys->cur_wkid, TKE_WKID_SIZE) != 0)
    return FAIL (WRAPPING_KEY_MISMATCH,
                 "The blob is wrapped under another master key than the current one "
                 "(wrapping key mismatch)."),
           -1;
  n = tke_crypto_kwp_context_unwrap (keys->cur_ctx, data + TKE_WKID_SIZE, size - TKE_WKID_SIZE, out,
                                     TKE_EMU_MAX_BLOB, NULL);
  if (n <= 0)
    return FAIL (INVALID_BLOB, "The blob does not unwrap: it was altered."), -1;
  return n;
}

/* @key wrapped under @ctx, behind @wkid, in base64. */
static char *
make_blob (TkeKwpContext *ctx,
           const guint8 wkid[TKE_WKID_SIZE],
           const guint8 *key,
           gsize size,
           GError **error)
{
  guint8 blob[TKE_WKID_SIZE + TKE_EMU_MAX_BLOB];
  gssize n;

  g_return_val_if_fail (size <= TKE_EMU_MAX_BLOB - 16, NULL);
  memcpy (blob, wkid, TKE_WKID_SIZE);
  n = tke_crypto_kwp_context_wrap (ctx, key, size, blob + TKE_WKID_SIZE,
                                   sizeof blob - TKE_WKID_SIZE, error);
  if (n < 0)
    return NULL;
  return g_base64_encode (blob, TKE_WKID_SIZE + (gsize) n);
}

/* The current master key, from @units (the operational ones): as
 * _tke_emu_current_key(), without loading them again. */
static TkeSecret *
current_key (TkeEmuServer *self, GPtrArray *units, GError **error)
{
  for (guint i = 0; i < units->len; i++)
    {
      TkeEmuUnit *unit = g_ptr_array_index (units, i);

      if (g_str_equal (unit->cur_state, "Valid"))
        return tke_emu_unit_get_register (self->store, unit, FALSE, error);
    }
  return FAIL (MK_NOT_INITIALIZED,
               "The master key is not initialized: no crypto unit has a Valid current master key."),
         NULL;
}

/* The new master key, when every unit of @units holds it Full Committed;
 * NULL otherwise. */
static TkeSecret *
committed_new_key (TkeEmuServer *self, GPtrArray *units)
{
  g_autoptr (TkeSecret) first = NULL;
  guint8 first_vp[TKE_VP_SIZE];

  for (guint i = 0; i < units->len; i++)
    {
      TkeEmuUnit *unit = g_ptr_array_index (units, i);
      g_autoptr (TkeSecret) value = NULL;
      guint8 vp[TKE_VP_SIZE];

      if (!g_str_equal (unit->new_state, "Full Committed") ||
          (value = tke_emu_unit_get_register (self->store, unit, TRUE, NULL)) == NULL)
        break;
      tke_crypto_verification_pattern (value, vp);
      if (first == NULL)
        {
          memcpy (first_vp, vp, sizeof vp);
          first = g_steal_pointer (&value);
        }
      else if (memcmp (vp, first_vp, sizeof vp) != 0)
        break;
      if (i + 1 == units->len)
        return g_steal_pointer (&first);
    }
  return NULL;
}

/* The keys for this call: refused during a rotation and without a current
 * master key, as before they were kept.  Borrowed from @self (changes -1:
 * read again on the next call). */
static TkeEmuGrep11Keys *
grep11_keys (TkeEmuServer *self, GError **error)
{
  g_autoptr (TkeEmuGrep11Keys) keys = g_new0 (TkeEmuGrep11Keys, 1);
  g_autoptr (GPtrArray) units = NULL;
  gint64 changes, data_version;
  gboolean versioned = tke_emu_store_version (self->store, &keys->changes, &keys->data_version);

  if (versioned && self->grep11_keys != NULL && self->grep11_keys->changes == keys->changes &&
      self->grep11_keys->data_version == keys->data_version)
    return self->grep11_keys;
  g_clear_pointer (&self->grep11_keys, _tke_emu_grep11_keys_free);
  if (!_tke_emu_refuse_during_rotation (self, error) ||
      (units = tke_emu_units_load (self->store, TRUE, error)) == NULL ||
      (keys->cur = current_key (self, units, error)) == NULL ||
      (keys->cur_ctx = tke_crypto_kwp_context_new (keys->cur, error)) == NULL)
    return NULL;
  tke_crypto_wkid (keys->cur, keys->cur_wkid);
  if ((keys->next = committed_new_key (self, units)) != NULL)
    {
      if ((keys->next_ctx = tke_crypto_kwp_context_new (keys->next, error)) == NULL)
        return NULL;
      tke_crypto_wkid (keys->next, keys->next_wkid);
    }
  /* Kept for the next call only if nothing was written meanwhile. */
  if (!versioned || !tke_emu_store_version (self->store, &changes, &data_version) ||
      changes != keys->changes || data_version != keys->data_version)
    keys->changes = -1;
  self->grep11_keys = g_steal_pointer (&keys);
  return self->grep11_keys;
}

void
_tke_emu_handle_grep11 (TkeEmuServer *self, SoupServerMessage *msg, const char *op)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = NULL;
  TkeEmuGrep11Keys *keys = NULL;
  JsonObject *body, *out = NULL;
  guint8 vp[TKE_VP_SIZE], key[TKE_EMU_MAX_BLOB];
  gssize n;

  if (!_tke_emu_check_instance_header (self, msg, &error) ||
      (body = _tke_emu_parse_body (msg, &parser, TRUE, &error)) == NULL ||
      (keys = grep11_keys (self, &error)) == NULL)
    goto done;
  if (g_str_equal (op, "generate"))
    {
      g_autoptr (TkeSecret) fresh = tke_secret_new_random (TKE_MASTER_KEY_SIZE, &error);
      char *blob;

      if (fresh == NULL ||
          (blob = make_blob (keys->cur_ctx, keys->cur_wkid, tke_secret_get_data (fresh),
                             TKE_MASTER_KEY_SIZE, &error)) == NULL)
        goto done;
      out = json_object_new ();
      _tke_emu_take_string (out, "blob", blob);
      tke_crypto_verification_pattern (fresh, vp);
      _tke_emu_take_string (out, "check_value", _tke_emu_hex (vp, sizeof vp));
    }
  else if (g_str_equal (op, "rewrap"))
    {
      char *blob;

      if ((n = blob_key (keys, body, key, &error)) < 0)
        goto done;
      if (keys->next == NULL)
        {
          g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_NEW_MK_NOT_COMMITTED,
                       "The new master key registers are not all Full Committed with one "
                       "verification pattern.");
          goto done;
        }
      if ((blob = make_blob (keys->next_ctx, keys->next_wkid, key, (gsize) n, &error)) == NULL)
        goto done;
      out = json_object_new ();
      _tke_emu_take_string (out, "blob", blob);
    }
  else if (g_str_equal (op, "check"))
    {
      g_autoptr (TkeSecret) unwrapped = NULL;

      if ((n = blob_key (keys, body, key, &error)) < 0 ||
          (unwrapped = tke_secret_try_new_from_data (key, (gsize) n, &error)) == NULL)
        goto done;
      tke_crypto_verification_pattern (unwrapped, vp);
      out = json_object_new ();
      _tke_emu_take_string (out, "check_value", _tke_emu_hex (vp, sizeof vp));
      _tke_emu_take_string (out, "wkid", _tke_emu_hex (keys->cur_wkid, TKE_WKID_SIZE));
    }
  else
    g_set_error (&error, TKE_EMU_ERROR, TKE_EMU_ERROR_NOT_FOUND, "No such GREP11 operation.");

done:
  OPENSSL_cleanse (key, sizeof key);
  if (error != NULL)
    _tke_emu_reply_error (msg, error);
  else
    _tke_emu_reply_object (msg, 200, out);
}

typedef struct
{
  GPtrArray *ctxs;     /* TkeKwpContext, one per register */
  GArray *wkids;       /* their WKIDs */
  GHashTable *by_wkid; /* hex WKID -> number of rows */
  gint64 total;
  gint64 ok;
} Verify;

static void
verify_row (
    const guint8 *wkid, gsize wkid_size, const guint8 *wrapped, gsize wrapped_size, gpointer data)
{
  Verify *v = data;
  g_autofree char *wkid_hex = _tke_emu_hex (wkid, wkid_size);
  guint8 key[64];

  v->total++;
  g_hash_table_insert (
      v->by_wkid, g_strdup (wkid_hex),
      GSIZE_TO_POINTER (GPOINTER_TO_SIZE (g_hash_table_lookup (v->by_wkid, wkid_hex)) + 1));
  for (guint i = 0; i < v->wkids->len; i++)
    if (wkid_size == TKE_WKID_SIZE &&
        memcmp (wkid, v->wkids->data + i * TKE_WKID_SIZE, TKE_WKID_SIZE) == 0)
      {
        if (tke_crypto_kwp_context_unwrap (g_ptr_array_index (v->ctxs, i), wrapped, wrapped_size,
                                           key, sizeof key, NULL) == 32)
          v->ok++;
        break;
      }
  OPENSSL_cleanse (key, sizeof key);
}

/* Every row unwrapped under the register its WKID names: no key lost. */
JsonObject *
_tke_emu_keystore_verify (TkeEmuServer *self, GError **error)
{
  g_autoptr (GPtrArray) units = tke_emu_units_load (self->store, TRUE, error);
  g_autoptr (GPtrArray) ctxs =
      g_ptr_array_new_with_free_func ((GDestroyNotify) tke_crypto_kwp_context_free);
  g_autoptr (GArray) wkids = g_array_new (FALSE, FALSE, TKE_WKID_SIZE);
  g_autoptr (GHashTable) by_wkid = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Verify v = { ctxs, wkids, by_wkid, 0, 0 };
  JsonObject *out, *counts;
  GHashTableIter iter;
  gpointer k, n;
  guint8 cur_wkid[TKE_WKID_SIZE] = { 0 };

  if (units == NULL)
    return NULL;
  for (guint i = 0; i < units->len; i++)
    for (int reg = 0; reg < 2; reg++)
      {
        g_autoptr (TkeSecret) mk = NULL;
        guint8 wkid[TKE_WKID_SIZE];

        if ((reg ? ((TkeEmuUnit *) g_ptr_array_index (units, i))->new_value
                 : ((TkeEmuUnit *) g_ptr_array_index (units, i))->cur_value) == NULL)
          continue;
        mk = tke_emu_unit_get_register (self->store, g_ptr_array_index (units, i), reg, error);
        if (mk == NULL)
          return NULL;
        tke_crypto_wkid (mk, wkid);
        if (i == 0 && reg == 0)
          memcpy (cur_wkid, wkid, sizeof wkid);
        g_array_append_vals (wkids, wkid, 1);
        g_ptr_array_add (ctxs, tke_crypto_kwp_context_new (mk, NULL));
      }
  if (!tke_emu_keys_foreach_material (self->store, verify_row, &v, error))
    return NULL;
  out = json_object_new ();
  json_object_set_int_member (out, "keys_total", v.total);
  json_object_set_int_member (out, "keys_ok", v.ok);
  json_object_set_int_member (out, "keys_failed", v.total - v.ok);
  _tke_emu_take_string (out, "current_wkid", _tke_emu_hex (cur_wkid, sizeof cur_wkid));
  counts = json_object_new ();
  g_hash_table_iter_init (&iter, by_wkid);
  while (g_hash_table_iter_next (&iter, &k, &n))
    json_object_set_int_member (counts, k, (gint64) GPOINTER_TO_SIZE (n));
  json_object_set_object_member (out, "by_wkid", counts);
  return out;
}
