/* tke-emu-commands.c: the administrative commands of a crypto unit
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "tke-emu-server-private.h"

/* Units */

static JsonObject *
unit_summary (const TkeEmuUnit *unit)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "hsm_id", unit->hsm_id);
  json_object_set_int_member (o, "crypto_unit_num", unit->num);
  json_object_set_string_member (o, "type", unit->type);
  json_object_set_string_member (o, "location", unit->location);
  json_object_set_string_member (o, "state", "ACTIVE");
  json_object_set_int_member (o, "version", 1);
  json_object_set_string_member (o, "serial_number", unit->serial);
  return o;
}

/* The importer certificate beside "importer_key" (null with it). */
static gboolean
add_importer_certificate (TkeEmuServer *self, const TkeEmuUnit *unit, JsonObject *o, GError **error)
{
  char *cert;

  if (unit->importer_pub == NULL)
    {
      json_object_set_null_member (o, "importer_certificate");
      return TRUE;
    }
  cert = tke_emu_identity_importer_certificate (self->identity, unit->hsm_id, unit->importer_pub,
                                                error);
  if (cert == NULL)
    return FALSE;
  _tke_emu_take_string (o, "importer_certificate", cert);
  return TRUE;
}

static JsonObject *
unit_query (TkeEmuServer *self, const TkeEmuUnit *unit, GError **error)
{
  JsonObject *o = unit_summary (unit);
  JsonArray *admins = json_array_new ();
  guint8 vp[TKE_VP_SIZE];

  json_object_remove_member (o, "state");
  json_object_remove_member (o, "version");
  json_object_set_boolean_member (o, "imprint_mode", tke_emu_unit_imprint (unit));
  json_object_set_int_member (o, "signature_threshold", unit->sig_thr);
  json_object_set_int_member (o, "revocation_threshold", unit->rev_thr);
  for (guint i = 0; i < unit->admins->len; i++)
    {
      TkeEmuAdmin *admin = g_ptr_array_index (unit->admins, i);
      JsonObject *a = json_object_new ();

      json_object_set_string_member (a, "name", admin->name);
      json_object_set_string_member (a, "ski", admin->ski);
      json_array_add_object_element (admins, a);
    }
  json_object_set_array_member (o, "admins", admins);
  json_object_set_string_member (o, "new_mk_status", unit->new_state);
  tke_emu_unit_register_vp (self->store, unit, TRUE, vp);
  _tke_emu_take_string (o, "new_mkvp", _tke_emu_hex (vp, sizeof vp));
  json_object_set_string_member (o, "current_mk_status", unit->cur_state);
  tke_emu_unit_register_vp (self->store, unit, FALSE, vp);
  _tke_emu_take_string (o, "current_mkvp", _tke_emu_hex (vp, sizeof vp));
  json_object_set_int_member (o, "counter", unit->counter);
  if (unit->importer_pub != NULL)
    _tke_emu_take_string (o, "importer_key",
                          _tke_emu_hex (g_bytes_get_data (unit->importer_pub, NULL),
                                        g_bytes_get_size (unit->importer_pub)));
  else
    json_object_set_null_member (o, "importer_key");
  if (!add_importer_certificate (self, unit, o, error) ||
      !_tke_emu_add_control_points (self, unit, o, error))
    {
      json_object_unref (o);
      return NULL;
    }
  json_object_set_boolean_member (o, "pkcs11_keystores", self->faults.pkcs11_keystores);
  return o;
}

void
_tke_emu_handle_hsms (TkeEmuServer *self, SoupServerMessage *msg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) units = tke_emu_units_load (self->store, FALSE, &error);
  JsonObject *out, *meta;
  JsonArray *metadata, *hsms, *source;

  if (units == NULL)
    {
      _tke_emu_reply_error (msg, error);
      return;
    }
  out = json_object_new ();
  metadata = json_array_new ();
  meta = json_object_new ();
  json_object_set_string_member (meta, "collectionType", "application/vnd.ibm.tke.hsm+json");
  json_object_set_int_member (meta, "collectionTotal", units->len);
  json_array_add_object_element (metadata, meta);
  hsms = json_array_new ();
  source = json_array_new ();
  for (guint i = 0; i < units->len; i++)
    {
      TkeEmuUnit *unit = g_ptr_array_index (units, i);

      json_array_add_object_element (g_str_equal (unit->type, "RECOVERY") ? source : hsms,
                                     unit_summary (unit));
    }
  json_object_set_array_member (out, "metadata", metadata);
  json_object_set_array_member (out, "hsms", hsms);
  json_object_set_array_member (out, "source_hsms", source);
  _tke_emu_reply_object (msg, 200, out);
}

/* Administrative commands */

TkeEmuAdmin *
_tke_emu_find_admin (TkeEmuUnit *unit, const char *ski)
{
  for (guint i = 0; i < unit->admins->len; i++)
    {
      TkeEmuAdmin *admin = g_ptr_array_index (unit->admins, i);

      if (g_ascii_strcasecmp (admin->ski, ski) == 0)
        return admin;
    }
  return NULL;
}

static gboolean
verify_signatures (TkeEmuCommand *cmd, JsonArray *signatures, GBytes *command_bytes, GError **error)
{
  guint n = signatures != NULL ? json_array_get_length (signatures) : 0;

  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (signatures, i);
      JsonObject *entry;
      const char *ski;
      g_autoptr (GBytes) sig = NULL;
      g_autoptr (EVP_PKEY) key = NULL;
      TkeEmuAdmin *admin;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return FAIL (INVALID_FIELD, "Each entry of \"signatures\" must be an object.");
      entry = json_node_get_object (node);
      if ((ski = _tke_emu_get_string (entry, "ski", TRUE, error)) == NULL ||
          (sig = _tke_emu_get_base64 (entry, "signature", error)) == NULL)
        return FALSE;
      admin = _tke_emu_find_admin (cmd->unit, ski);
      if (admin == NULL)
        return FAIL (UNKNOWN_SIGNER,
                     "The signer %.16s… is not an administrator of crypto unit %" G_GINT64_FORMAT
                     ".",
                     ski, cmd->unit->num);
      key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (admin->point, NULL),
                                                 g_bytes_get_size (admin->point), NULL);
      if (key == NULL ||
          !tke_crypto_verify (key, g_bytes_get_data (command_bytes, NULL),
                              g_bytes_get_size (command_bytes), g_bytes_get_data (sig, NULL),
                              g_bytes_get_size (sig), NULL))
        return FAIL (BAD_SIGNATURE,
                     "The signature of %s (%.16s…) does not verify over the command.", admin->name,
                     admin->ski);
      cmd->n_valid++;
      if (!g_ptr_array_find_with_equal_func (cmd->signers, admin->ski, g_str_equal, NULL))
        g_ptr_array_add (cmd->signers, admin->ski);
    }
  return TRUE;
}

gboolean
_tke_emu_need_signatures (TkeEmuCommand *cmd, guint needed, gboolean repeats_count, GError **error)
{
  guint have = repeats_count ? cmd->n_valid : cmd->signers->len;

  if (have < needed)
    return FAIL (THRESHOLD_NOT_MET,
                 "The command needs %u signature%s%s; %u valid signature%s given.", needed,
                 needed == 1 ? "" : "s", repeats_count ? "" : " from distinct administrators", have,
                 have == 1 ? " was" : "s were");
  return TRUE;
}

gboolean
_tke_emu_refuse_in_imprint (TkeEmuCommand *cmd, const char *what, GError **error)
{
  if (tke_emu_unit_imprint (cmd->unit))
    return FAIL (IMPRINT_MODE,
                 "Crypto unit %" G_GINT64_FORMAT " is in imprint mode: %s is not allowed "
                 "until administrators and signature thresholds are set.",
                 cmd->unit->num, what);
  return TRUE;
}

static gboolean
check_vp_arg (TkeEmuCommand *cmd, const TkeSecret *value, GError **error)
{
  g_autoptr (GBytes) want = _tke_emu_get_hex (cmd->args, "new_mkvp", TKE_VP_SIZE, error);
  guint8 vp[TKE_VP_SIZE];

  if (want == NULL)
    return FALSE;
  tke_crypto_verification_pattern (value, vp);
  if (memcmp (vp, g_bytes_get_data (want, NULL), TKE_VP_SIZE) != 0)
    return FAIL (VP_MISMATCH,
                 "The new master key register of crypto unit %" G_GINT64_FORMAT
                 " does not hold the verification pattern the command names.",
                 cmd->unit->num);
  return TRUE;
}

static JsonObject *
cmd_add_admin (TkeEmuCommand *cmd, GError **error)
{
  static const char *const allowed[] = { "name", "public_key", NULL };
  const char *name;
  g_autoptr (GBytes) point = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  guint8 ski[TKE_SKI_SIZE];
  g_autofree char *ski_hex = NULL;
  TkeEmuAdmin *admin;
  JsonObject *out;

  if (!_tke_emu_only_members (cmd->args, allowed, "args", error) ||
      (!tke_emu_unit_imprint (cmd->unit) &&
       !_tke_emu_need_signatures (cmd, cmd->unit->sig_thr, FALSE, error)) ||
      (name = _tke_emu_get_string (cmd->args, "name", TRUE, error)) == NULL ||
      (point = _tke_emu_get_hex (cmd->args, "public_key", 0, error)) == NULL)
    return NULL;
  if (*name == '\0' || g_utf8_strlen (name, -1) > 30)
    return FAIL (INVALID_FIELD, "An administrator name has 1 to 30 characters."), NULL;
  key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                             g_bytes_get_size (point), NULL);
  if (key == NULL || g_bytes_get_size (point) != 133 || !tke_crypto_ski (key, ski, NULL))
    return FAIL (INVALID_FIELD, "\"public_key\" is not an uncompressed P-521 point."), NULL;
  ski_hex = _tke_emu_hex (ski, sizeof ski);
  if (_tke_emu_find_admin (cmd->unit, ski_hex) != NULL)
    return FAIL (ADMIN_EXISTS, "That signature key is already installed as an administrator."),
           NULL;
  if (cmd->unit->admins->len >= TKE_EMU_MAX_ADMINS)
    return FAIL (ADMIN_LIMIT, "A crypto unit has at most 8 administrators."), NULL;
  admin = g_new0 (TkeEmuAdmin, 1);
  admin->name = g_strdup (name);
  admin->ski = g_strdup (ski_hex);
  admin->point = g_bytes_ref (point);
  g_ptr_array_add (cmd->unit->admins, admin);
  out = json_object_new ();
  json_object_set_string_member (out, "ski", ski_hex);
  return out;
}

static JsonObject *
cmd_remove_admin (TkeEmuCommand *cmd, GError **error)
{
  static const char *const allowed[] = { "ski", NULL };
  const char *ski;
  TkeEmuAdmin *admin;
  guint remaining;

  if (!_tke_emu_only_members (cmd->args, allowed, "args", error) ||
      (!tke_emu_unit_imprint (cmd->unit) &&
       !_tke_emu_need_signatures (cmd, cmd->unit->rev_thr, FALSE, error)) ||
      (ski = _tke_emu_get_string (cmd->args, "ski", TRUE, error)) == NULL)
    return NULL;
  admin = _tke_emu_find_admin (cmd->unit, ski);
  if (admin == NULL)
    return FAIL (NOT_FOUND, "No administrator with that SKI is installed."), NULL;
  remaining = cmd->unit->admins->len - 1;
  if (remaining < cmd->unit->sig_thr || remaining < cmd->unit->rev_thr)
    return FAIL (THRESHOLD_EXCEEDS_ADMINS,
                 "Removing this administrator would leave fewer administrators "
                 "than the signature or revocation threshold."),
           NULL;
  g_ptr_array_remove (cmd->unit->admins, admin);
  return json_object_new ();
}

static JsonObject *
cmd_set_thresholds (TkeEmuCommand *cmd, GError **error)
{
  static const char *const allowed[] = { "signature_threshold", "revocation_threshold", NULL };
  gint64 sig = 0, rev = 0;
  JsonObject *out;

  if (!_tke_emu_only_members (cmd->args, allowed, "args", error) ||
      !_tke_emu_get_int (cmd->args, "signature_threshold", TRUE, &sig, error) ||
      !_tke_emu_get_int (cmd->args, "revocation_threshold", TRUE, &rev, error))
    return NULL;
  if (sig < 1 || sig > 8 || rev < 1 || rev > 8)
    return FAIL (INVALID_FIELD, "Thresholds are 1 to 8."), NULL;
  if (sig > cmd->unit->admins->len || rev > cmd->unit->admins->len)
    return FAIL (THRESHOLD_EXCEEDS_ADMINS,
                 "A threshold cannot exceed the number of installed "
                 "administrators (%u).",
                 cmd->unit->admins->len),
           NULL;
  /* Leaving imprint mode takes the new signature threshold's signatures. */
  if (!_tke_emu_need_signatures (
          cmd, tke_emu_unit_imprint (cmd->unit) ? (guint) sig : (guint) cmd->unit->sig_thr, FALSE,
          error))
    return NULL;
  cmd->unit->sig_thr = sig;
  cmd->unit->rev_thr = rev;
  out = json_object_new ();
  json_object_set_boolean_member (out, "imprint_mode", FALSE);
  return out;
}

static JsonObject *
cmd_generate_importer (TkeEmuCommand *cmd, GError **error)
{
  static const char *const allowed[] = { NULL };
  g_autoptr (EVP_PKEY) key = NULL;
  JsonObject *out;

  if (!_tke_emu_only_members (cmd->args, allowed, "args", error) ||
      !_tke_emu_refuse_in_imprint (cmd, "generating an importer key", error) ||
      !_tke_emu_need_signatures (cmd, 1, FALSE, error) ||
      (key = tke_crypto_ec_generate (error)) == NULL ||
      !tke_emu_unit_set_importer (cmd->self->store, cmd->unit, key, error))
    return NULL;
  out = json_object_new ();
  _tke_emu_take_string (out, "importer_key",
                        _tke_emu_hex (g_bytes_get_data (cmd->unit->importer_pub, NULL),
                                      g_bytes_get_size (cmd->unit->importer_pub)));
  if (!add_importer_certificate (cmd->self, cmd->unit, out, error))
    {
      json_object_unref (out);
      return NULL;
    }
  return out;
}

/* Part @i of @n, opened with the unit's importer key. */
static TkeSecret *
open_part (TkeEmuCommand *cmd, JsonNode *node, guint i, guint n, EVP_PKEY *importer, GError **error)
{
  g_autoptr (GBytes) sealed = NULL;
  g_autofree char *aad = NULL;
  TkeSecret *part;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FAIL (INVALID_FIELD, "Each part must be an object with \"sealed\"."), NULL;
  sealed = _tke_emu_get_base64 (json_node_get_object (node), "sealed", error);
  if (sealed == NULL)
    return NULL;
  if (g_bytes_get_size (sealed) > TKE_EMU_MAX_SEALED_PART)
    return FAIL (INVALID_KEY_PART, "Key part %u of %u is over %d bytes: it is not a sealed part.",
                 i + 1, n, TKE_EMU_MAX_SEALED_PART),
           NULL;
  aad = g_strdup_printf ("tke-keypart-v1|%s|new|%u|%u", cmd->unit->hsm_id, i + 1, n);
  part = tke_crypto_open (importer, (const guint8 *) aad, strlen (aad),
                          g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), NULL);
  if (part == NULL || tke_secret_get_size (part) != TKE_MASTER_KEY_SIZE)
    {
      g_clear_pointer (&part, tke_secret_unref);
      return FAIL (INVALID_KEY_PART,
                   "Key part %u of %u does not open: it was altered, or sealed to "
                   "another importer key or for another unit or position.",
                   i + 1, n),
             NULL;
    }
  return part;
}

static gboolean
is_all_zero (const TkeSecret *key)
{
  static const guint8 zero[TKE_MASTER_KEY_SIZE] = { 0 };

  return tke_secret_get_size (key) == sizeof zero &&
         CRYPTO_memcmp (tke_secret_get_data (key), zero, sizeof zero) == 0;
}

/* The XOR of the parts, refusing weak keys: a part loaded twice cancels
 * out (parts A, B, A give B; A, A gives zero), and parts A, B, A xor B
 * give zero, a publicly known key every root key would then unwrap under. */
static TkeSecret *
combine_parts (TkeSecret **parts, guint n, GError **error)
{
  g_autoptr (TkeSecret) value = NULL;

  for (guint i = 0; i < n; i++)
    for (guint j = i + 1; j < n; j++)
      if (tke_secret_equal (parts[i], parts[j]))
        return FAIL (REPEATED_KEY_PART,
                     "Key parts %u and %u are the same value: each part must be entered once, "
                     "and the parts must differ.",
                     i + 1, j + 1),
               NULL;
  value = tke_secret_ref (parts[0]);
  for (guint i = 1; i < n; i++)
    {
      TkeSecret *x = tke_crypto_xor (value, parts[i], error);

      if (x == NULL)
        return NULL;
      tke_secret_unref (value);
      value = x;
    }
  if (is_all_zero (value))
    return FAIL (WEAK_KEY, "The key parts combine to an all-zero master key (a part is the XOR of "
                           "the others); load parts generated independently."),
           NULL;
  return g_steal_pointer (&value);
}

static JsonObject *
cmd_load (TkeEmuCommand *cmd, GError **error)
{
  static const char *const allowed[] = { "parts", NULL };
  JsonNode *parts_node;
  JsonArray *parts;
  g_autoptr (EVP_PKEY) importer = NULL;
  g_autoptr (TkeSecret) value = NULL;
  g_autoptr (TkeSecret) current = NULL;
  g_autoptr (GPtrArray) opened = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_secret_unref);
  guint n;
  guint8 vp[TKE_VP_SIZE];
  JsonObject *out;

  if (!_tke_emu_only_members (cmd->args, allowed, "args", error) ||
      !_tke_emu_refuse_in_imprint (cmd, "loading", error))
    return NULL;
  parts_node = json_object_get_member (cmd->args, "parts");
  if (parts_node == NULL || !JSON_NODE_HOLDS_ARRAY (parts_node))
    return FAIL (INVALID_FIELD, "\"parts\" must be an array of 2 or 3 sealed key parts."), NULL;
  parts = json_node_get_array (parts_node);
  n = json_array_get_length (parts);
  if (n < 2 || n > 3)
    return FAIL (INVALID_FIELD, "A master key is loaded from 2 or 3 parts, not %u.", n), NULL;
  if (!_tke_emu_need_signatures (cmd, n, TRUE, error))
    return NULL;
  if (!g_str_equal (cmd->unit->new_state, "Empty"))
    return FAIL (REGISTER_NOT_EMPTY,
                 "The new master key register of crypto unit %" G_GINT64_FORMAT
                 " is %s; clear it before loading.",
                 cmd->unit->num, cmd->unit->new_state),
           NULL;
  importer = tke_emu_unit_get_importer (cmd->self->store, cmd->unit, error);
  if (importer == NULL)
    return NULL;

  for (guint i = 0; i < n; i++)
    {
      TkeSecret *part = open_part (cmd, json_array_get_element (parts, i), i, n, importer, error);

      if (part == NULL)
        return NULL;
      g_ptr_array_add (opened, part);
    }
  if ((value = combine_parts ((TkeSecret **) opened->pdata, n, error)) == NULL)
    return NULL;

  if (cmd->unit->cur_value != NULL)
    {
      current = tke_emu_unit_get_register (cmd->self->store, cmd->unit, FALSE, error);
      if (current == NULL)
        return NULL;
      if (tke_secret_equal (current, value))
        return FAIL (
                   SAME_AS_CURRENT,
                   "The loaded key equals the current master key; at least one part must differ."),
               NULL;
    }
  if (!tke_emu_unit_set_register (cmd->self->store, cmd->unit, TRUE, value, "Full Uncommitted",
                                  error) ||
      !tke_emu_unit_set_importer (cmd->self->store, cmd->unit, NULL, error))
    return NULL;
  tke_crypto_verification_pattern (value, vp);
  out = json_object_new ();
  json_object_set_string_member (out, "new_mk_status", "Full Uncommitted");
  _tke_emu_take_string (out, "new_mkvp", _tke_emu_hex (vp, sizeof vp));
  return out;
}

static JsonObject *
cmd_commit (TkeEmuCommand *cmd, GError **error)
{
  static const char *const allowed[] = { "new_mkvp", NULL };
  g_autoptr (TkeSecret) value = NULL;
  guint8 vp[TKE_VP_SIZE];
  JsonObject *out;

  if (!_tke_emu_only_members (cmd->args, allowed, "args", error) ||
      !_tke_emu_refuse_in_imprint (cmd, "commit", error) ||
      !_tke_emu_need_signatures (cmd, cmd->unit->sig_thr, FALSE, error))
    return NULL;
  if (!g_str_equal (cmd->unit->new_state, "Full Uncommitted"))
    return FAIL (REGISTER_STATE,
                 "Only a Full Uncommitted new register can be committed; crypto unit "
                 "%" G_GINT64_FORMAT "'s is %s.",
                 cmd->unit->num, cmd->unit->new_state),
           NULL;
  value = tke_emu_unit_get_register (cmd->self->store, cmd->unit, TRUE, error);
  if (value == NULL || !check_vp_arg (cmd, value, error) ||
      !tke_emu_unit_set_register (cmd->self->store, cmd->unit, TRUE, value, "Full Committed",
                                  error))
    return NULL;
  tke_crypto_verification_pattern (value, vp);
  out = json_object_new ();
  json_object_set_string_member (out, "new_mk_status", "Full Committed");
  _tke_emu_take_string (out, "new_mkvp", _tke_emu_hex (vp, sizeof vp));
  return out;
}

gboolean
_tke_emu_matches_unit (const char *spec, const TkeEmuUnit *unit)
{
  g_autofree char *num = g_strdup_printf ("%" G_GINT64_FORMAT, unit->num);

  return spec != NULL && (g_str_equal (spec, unit->hsm_id) || g_str_equal (spec, num));
}

static JsonObject *
cmd_set_immediate (TkeEmuCommand *cmd, GError **error)
{
  static const char *const allowed[] = { "new_mkvp", NULL };
  g_autoptr (TkeSecret) value = NULL;
  g_autoptr (TkeEmuRotation) rotation = NULL;
  g_autofree char *vp_hex = NULL;
  guint8 vp[TKE_VP_SIZE], wkid[TKE_WKID_SIZE];
  gint64 stale;
  JsonObject *out;

  if (!_tke_emu_only_members (cmd->args, allowed, "args", error) ||
      !_tke_emu_refuse_in_imprint (cmd, "set immediate", error) ||
      !_tke_emu_need_signatures (cmd, 1, FALSE, error))
    return NULL;
  if (!g_str_equal (cmd->unit->new_state, "Full Committed"))
    return FAIL (REGISTER_STATE,
                 "Set immediate needs a Full Committed new register; crypto unit %" G_GINT64_FORMAT
                 "'s is %s.",
                 cmd->unit->num, cmd->unit->new_state),
           NULL;
  value = tke_emu_unit_get_register (cmd->self->store, cmd->unit, TRUE, error);
  if (value == NULL || !check_vp_arg (cmd, value, error))
    return NULL;
  tke_crypto_verification_pattern (value, vp);
  tke_crypto_wkid (value, wkid);
  vp_hex = _tke_emu_hex (vp, sizeof vp);

  rotation = tke_emu_rotation_load (cmd->self->store->db, error);
  if (rotation == NULL)
    return NULL;
  if (g_str_equal (rotation->state, "rewrapping"))
    return FAIL (ROTATION_IN_PROGRESS,
                 "The keystore is still being rewrapped: run Rotate again to finish "
                 "it before set immediate."),
           NULL;
  if (g_str_equal (rotation->state, "rewrapped") && g_strcmp0 (rotation->to_vp, vp_hex) != 0)
    return FAIL (VP_MISMATCH,
                 "The keystore was rewrapped to another master key than this unit's new register."),
           NULL;
  stale = tke_emu_keys_count (cmd->self->store->db, wkid, FALSE);
  if (stale != 0)
    return FAIL (REWRAP_REQUIRED,
                 "%" G_GINT64_FORMAT " keys in the keystore are not wrapped under the new "
                 "master key yet: rotate first.",
                 stale),
           NULL;
  if (_tke_emu_matches_unit (cmd->self->faults.fail_setimm_on, cmd->unit))
    return FAIL (INJECTED_FAULT,
                 "Injected fault: set immediate fails on crypto unit %" G_GINT64_FORMAT ".",
                 cmd->unit->num),
           NULL;

  if (!tke_emu_unit_set_register (cmd->self->store, cmd->unit, FALSE, value, "Valid", error) ||
      !tke_emu_unit_set_register (cmd->self->store, cmd->unit, TRUE, NULL, "Empty", error) ||
      !tke_emu_unit_save (cmd->self->store, cmd->unit, error) ||
      !_tke_emu_maybe_complete_rotation (cmd->self, error))
    return NULL;
  out = json_object_new ();
  json_object_set_string_member (out, "current_mk_status", "Valid");
  json_object_set_string_member (out, "current_mkvp", vp_hex);
  json_object_set_string_member (out, "new_mk_status", "Empty");
  return out;
}

static JsonObject *
cmd_clear (TkeEmuCommand *cmd, gboolean new_register, GError **error)
{
  static const char *const allowed[] = { NULL };

  if (!_tke_emu_only_members (cmd->args, allowed, "args", error) ||
      !_tke_emu_refuse_in_imprint (cmd, "clearing a register", error) ||
      !_tke_emu_need_signatures (cmd, 1, FALSE, error) ||
      !_tke_emu_refuse_during_rotation (cmd->self, error) ||
      !tke_emu_unit_set_register (cmd->self->store, cmd->unit, new_register, NULL, "Empty", error))
    return NULL;
  if (new_register && !tke_emu_unit_set_importer (cmd->self->store, cmd->unit, NULL, error))
    return NULL;
  return json_object_new ();
}

static JsonObject *
cmd_zeroize (TkeEmuCommand *cmd, GError **error)
{
  static const char *const allowed[] = { NULL };

  if (!_tke_emu_only_members (cmd->args, allowed, "args", error) ||
      (!tke_emu_unit_imprint (cmd->unit) && !_tke_emu_need_signatures (cmd, 1, FALSE, error)) ||
      !_tke_emu_refuse_during_rotation (cmd->self, error) ||
      !tke_emu_unit_set_register (cmd->self->store, cmd->unit, TRUE, NULL, "Empty", error) ||
      !tke_emu_unit_set_register (cmd->self->store, cmd->unit, FALSE, NULL, "Empty", error) ||
      !tke_emu_unit_set_importer (cmd->self->store, cmd->unit, NULL, error) ||
      !tke_emu_unit_set_control_points (cmd->self->store, cmd->unit, NULL, error))
    return NULL;
  g_ptr_array_set_size (cmd->unit->admins, 0);
  cmd->unit->sig_thr = 0;
  cmd->unit->rev_thr = 0;
  return json_object_new ();
}

static JsonObject *
run_command (TkeEmuCommand *cmd, const char *name, GError **error)
{
  if (g_str_equal (name, "add_admin"))
    return cmd_add_admin (cmd, error);
  if (g_str_equal (name, "remove_admin"))
    return cmd_remove_admin (cmd, error);
  if (g_str_equal (name, "set_thresholds"))
    return cmd_set_thresholds (cmd, error);
  if (g_str_equal (name, "generate_importer_key"))
    return cmd_generate_importer (cmd, error);
  if (g_str_equal (name, "load"))
    return cmd_load (cmd, error);
  if (g_str_equal (name, "commit"))
    return cmd_commit (cmd, error);
  if (g_str_equal (name, "set_immediate"))
    return cmd_set_immediate (cmd, error);
  if (g_str_equal (name, "clear_new"))
    return cmd_clear (cmd, TRUE, error);
  if (g_str_equal (name, "clear_current"))
    return cmd_clear (cmd, FALSE, error);
  if (g_str_equal (name, "zeroize"))
    return cmd_zeroize (cmd, error);
  if (_tke_emu_is_recovery_command (name))
    return _tke_emu_run_recovery_command (cmd, name, error);
  return FAIL (INVALID_FIELD, "Unknown command \"%s\".", name), NULL;
}

/* A signed command carries its own end of life, so that one held back
 * (by a proxy, or a workstation that waited) dies in minutes even when the
 * unit's counter did not move. */
static gboolean
check_expiry (JsonObject *command, GError **error)
{
  gint64 expires = 0, now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr (GDateTime) when = NULL;
  g_autofree char *text = NULL;

  if (!_tke_emu_get_int (command, "expires", TRUE, &expires, error))
    return FALSE;
  if (expires > now + TKE_EMU_MAX_COMMAND_LIFETIME)
    return FAIL (INVALID_FIELD, "\"expires\" is more than 15 minutes ahead: a command may live "
                                "at most 15 minutes.");
  if (expires < now)
    {
      when = g_date_time_new_from_unix_utc (expires);
      text = when != NULL ? g_date_time_format_iso8601 (when) : g_strdup ("?");
      return FAIL (COMMAND_EXPIRED, "The signed command expired at %s; sign it again.", text);
    }
  return TRUE;
}

/* A query carries a fresh client nonce, so that an old answer (signed
 * over another request) cannot be replayed for a new one. */
static gboolean
check_query_args (JsonObject *args, GError **error)
{
  static const char *const allowed[] = { "nonce", NULL };
  g_autoptr (GBytes) nonce = NULL;

  if (!_tke_emu_only_members (args, allowed, "args", error) ||
      (nonce = _tke_emu_get_hex (args, "nonce", 32, error)) == NULL)
    return FALSE;
  return TRUE;
}

static JsonObject *
execute (TkeEmuServer *self,
         const char *instance,
         const char *hsm_id,
         SoupServerMessage *msg,
         GBytes **request_out,
         GError **error)
{
  static const char *const envelope_fields[] = { "command", "signatures", NULL };
  static const char *const command_fields[] = { "version", "command", "instance", "hsm_id",
                                                "counter", "expires", "args",     NULL };
  g_autoptr (JsonParser) body_parser = NULL;
  g_autoptr (JsonParser) command_parser = NULL;
  g_autoptr (GBytes) command_bytes = NULL;
  g_autoptr (TkeEmuUnit) unit = NULL;
  g_autoptr (GPtrArray) signers = g_ptr_array_new ();
  JsonObject *body, *request, *command, *result, *response, *state;
  JsonNode *node, *sig_node;
  JsonArray *signatures = NULL;
  const char *name, *cmd_instance, *cmd_hsm;
  gint64 version = 0, counter = -1;
  gboolean query, imprint;
  TkeEmuCommand cmd = { 0 };

  if ((body = _tke_emu_parse_body (msg, &body_parser, FALSE, error)) == NULL)
    return NULL;
  node = json_object_get_member (body, "request");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return FAIL (MALFORMED_JSON,
                 "The body must be {\"request\": {\"command\": …, \"signatures\": […]}}."),
           NULL;
  request = json_node_get_object (node);
  if (!_tke_emu_only_members (request, envelope_fields, "request", error) ||
      (command_bytes = _tke_emu_get_base64 (request, "command", error)) == NULL)
    return NULL;
  sig_node = json_object_get_member (request, "signatures");
  if (sig_node != NULL && !JSON_NODE_HOLDS_NULL (sig_node))
    {
      if (!JSON_NODE_HOLDS_ARRAY (sig_node))
        return FAIL (INVALID_FIELD, "\"signatures\" must be an array."), NULL;
      signatures = json_node_get_array (sig_node);
    }
  command = _tke_emu_parse_object (g_bytes_get_data (command_bytes, NULL),
                                   g_bytes_get_size (command_bytes), "decoded command",
                                   &command_parser, error);
  if (command == NULL || !_tke_emu_only_members (command, command_fields, "the command", error) ||
      !_tke_emu_get_int (command, "version", TRUE, &version, error) ||
      (name = _tke_emu_get_string (command, "command", TRUE, error)) == NULL ||
      (cmd_instance = _tke_emu_get_string (command, "instance", TRUE, error)) == NULL ||
      (cmd_hsm = _tke_emu_get_string (command, "hsm_id", TRUE, error)) == NULL)
    return NULL;
  if (version != 1)
    return FAIL (INVALID_FIELD, "Command version %" G_GINT64_FORMAT " is not supported; use 1.",
                 version),
           NULL;
  query = g_str_equal (name, "query");
  if (!_tke_emu_get_int (command, "counter", !query, &counter, error))
    return NULL;
  node = json_object_get_member (command, "args");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return FAIL (INVALID_FIELD, "\"args\" must be an object."), NULL;
  cmd.args = json_node_get_object (node);
  if (query ? !check_query_args (cmd.args, error) : !check_expiry (command, error))
    return NULL;

  if (!tke_emu_db_begin (self->store->db, error))
    return NULL;
  unit = tke_emu_unit_load (self->store, hsm_id, error);
  if (unit == NULL)
    goto fail;
  if (!g_str_equal (cmd_instance, instance) || !g_str_equal (cmd_hsm, hsm_id))
    {
      FAIL (
          WRONG_UNIT,
          "The signed command is for another service instance or crypto unit than the URL names.");
      goto fail;
    }
  cmd.self = self;
  cmd.unit = unit;
  cmd.signers = signers;
  if (query)
    {
      result = unit_query (self, unit, error);
      tke_emu_db_rollback (self->store->db);
      if (result == NULL)
        return NULL;
    }
  else
    {
      if (counter != unit->counter)
        {
          FAIL (REPLAY,
                "The command carries transaction counter %" G_GINT64_FORMAT
                " but crypto unit %" G_GINT64_FORMAT " expects %" G_GINT64_FORMAT
                ": a replayed or stale command.",
                counter, unit->num, unit->counter);
          goto fail;
        }
      imprint = tke_emu_unit_imprint (unit);
      if ((!imprint || g_str_equal (name, "set_thresholds")) &&
          !verify_signatures (&cmd, signatures, command_bytes, error))
        goto fail;
      result = run_command (&cmd, name, error);
      if (result == NULL)
        goto fail;
      unit->counter++;
      /* The answer carries the unit's new state, exactly what a query
       * would say, inside the signed bytes: no query after. */
      if (!tke_emu_unit_save (self->store, unit, error) ||
          (state = unit_query (self, unit, error)) == NULL)
        {
          json_object_unref (result);
          goto fail;
        }
      if (!self->faults.no_answer_state)
        json_object_set_object_member (result, "state", state);
      else
        json_object_unref (state);
      if (!tke_emu_db_commit (self->store->db, error))
        {
          json_object_unref (result);
          goto fail;
        }
    }

  response = json_object_new ();
  json_object_set_string_member (response, "command", name);
  json_object_set_string_member (response, "hsm_id", hsm_id);
  json_object_set_int_member (response, "counter", unit->counter);
  json_object_set_object_member (response, "result", result);
  *request_out = g_steal_pointer (&command_bytes);
  return response;

fail:
  tke_emu_db_rollback (self->store->db);
  return NULL;
}

void
_tke_emu_handle_command (TkeEmuServer *self,
                         SoupServerMessage *msg,
                         const char *instance,
                         const char *hsm_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) request = NULL;
  g_autoptr (JsonObject) response = execute (self, instance, hsm_id, msg, &request, &error);
  JsonObject *out, *signed_answer = NULL;

  /* Only the signed answer goes out: no unsigned copy of its members. */
  if (response != NULL)
    signed_answer = tke_emu_identity_sign_answer (
        self->identity, hsm_id, request, json_object_get_string_member (response, "command"),
        json_object_get_int_member (response, "counter"),
        json_object_ref (json_object_get_object_member (response, "result")), &error);
  if (signed_answer == NULL)
    {
      _tke_emu_reply_error (msg, error);
      return;
    }
  out = json_object_new ();
  json_object_set_object_member (out, "response", signed_answer);
  _tke_emu_reply_object (msg, 200, out);
}
