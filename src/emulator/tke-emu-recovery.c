/* tke-emu-recovery.c: recovery units' random master keys and the key
 * transfer between units, control points, failover units
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A RECOVERY unit generates a random master key inside itself
 * (generate_random_key, EP11's GEN_WK) and copies a register to another
 * unit of the instance (export_key, EXPORT_WK / EXPORT_NEXT_WK): sealed to
 * the target's pending importer key, whose importer certificate the
 * recovery unit verifies with the target's certified device key first.
 * The target opens it (import_key).  The key is never in clear outside
 * the units: the client only relays the sealed bytes
 * (service-protocol.md §11).
 */

#include "config.h"

#include <string.h>

#include "tke-emu-server-private.h"
#include "tke-emu-store-private.h"

#define TRANSFER_AAD_FORMAT "tke-mk-transfer-v1|%s|%s|%s"
/* The real service's limit (the plug-in asks "max 2"). */
#define MAX_FAILOVER_UNITS 2

static const char *const recovery_commands[] = {
  "generate_random_key", "export_key", "import_key", "set_control_point", NULL,
};

gboolean
_tke_emu_is_recovery_command (const char *name)
{
  return g_strv_contains (recovery_commands, name);
}

static gboolean
is_recovery_unit (const TkeEmuUnit *unit)
{
  return g_str_equal (unit->type, "RECOVERY");
}

static gboolean
need_recovery_unit (TkeEmuCommand *cmd, const char *what, GError **error)
{
  if (!is_recovery_unit (cmd->unit))
    return FAIL (WRONG_UNIT_TYPE,
                 "Crypto unit %" G_GINT64_FORMAT " is an %s unit: only a RECOVERY unit can %s.",
                 cmd->unit->num, cmd->unit->type, what);
  return TRUE;
}

static JsonObject *
new_register_result (const TkeSecret *value)
{
  JsonObject *out = json_object_new ();
  guint8 vp[TKE_VP_SIZE];

  tke_crypto_verification_pattern (value, vp);
  json_object_set_string_member (out, "new_mk_status", "Full Committed");
  _tke_emu_take_string (out, "new_mkvp", _tke_emu_hex (vp, sizeof vp));
  return out;
}

/* generate_random_key: a random master key into the recovery unit's new
 * register, committed (signature threshold). */
static JsonObject *
cmd_generate_random_key (TkeEmuCommand *cmd, GError **error)
{
  static const char *const allowed[] = { NULL };
  g_autoptr (TkeSecret) value = NULL;
  g_autoptr (TkeSecret) current = NULL;

  if (!_tke_emu_only_members (cmd->args, allowed, "args", error) ||
      !need_recovery_unit (cmd, "generate a random master key", error) ||
      !_tke_emu_refuse_in_imprint (cmd, "generating a master key", error) ||
      !_tke_emu_need_signatures (cmd, cmd->unit->sig_thr, FALSE, error) ||
      !_tke_emu_refuse_during_rotation (cmd->self, error))
    return NULL;
  if (g_str_equal (cmd->unit->cur_state, "Valid") && cmd->self->faults.pkcs11_keystores)
    return FAIL (PKCS11_KEYSTORES,
                 "The service instance has PKCS#11 keystores: rotate its master key with key "
                 "parts (cryptounit-mk-rotate), not with a random key of a recovery unit."),
           NULL;
  if (cmd->unit->cur_value != NULL &&
      (current = tke_emu_unit_get_register (cmd->self->store, cmd->unit, FALSE, error)) == NULL)
    return NULL;
  do
    {
      g_clear_pointer (&value, tke_secret_unref);
      if ((value = tke_secret_new_random (TKE_MASTER_KEY_SIZE, error)) == NULL)
        return NULL;
    }
  while (current != NULL && tke_secret_equal (current, value));
  if (!tke_emu_unit_set_register (cmd->self->store, cmd->unit, TRUE, value, "Full Committed",
                                  error))
    return NULL;
  return new_register_result (value);
}

/* export_key: a register of the recovery unit, sealed to the target's
 * pending importer key (1 signature). */
static JsonObject *
cmd_export_key (TkeEmuCommand *cmd, GError **error)
{
  static const char *const allowed[] = { "register", "target_hsm_id", "importer_certificate",
                                         NULL };
  const char *which, *target_id;
  g_autoptr (GBytes) certificate = NULL;
  g_autoptr (TkeEmuUnit) target = NULL;
  g_autoptr (TkeSecret) value = NULL;
  g_autoptr (EVP_PKEY) importer = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autofree char *aad = NULL;
  gboolean new_register;
  guint8 vp[TKE_VP_SIZE];
  JsonObject *out;

  if (!_tke_emu_only_members (cmd->args, allowed, "args", error) ||
      !need_recovery_unit (cmd, "export a master key", error) ||
      !_tke_emu_refuse_in_imprint (cmd, "exporting a master key", error) ||
      !_tke_emu_need_signatures (cmd, 1, FALSE, error) ||
      (which = _tke_emu_get_string (cmd->args, "register", TRUE, error)) == NULL ||
      (target_id = _tke_emu_get_string (cmd->args, "target_hsm_id", TRUE, error)) == NULL ||
      (certificate = _tke_emu_get_base64 (cmd->args, "importer_certificate", error)) == NULL)
    return NULL;
  if (!g_str_equal (which, "new") && !g_str_equal (which, "current"))
    return FAIL (INVALID_FIELD, "\"register\" is \"new\" or \"current\"."), NULL;
  new_register = g_str_equal (which, "new");
  if (!g_str_equal (new_register ? cmd->unit->new_state : cmd->unit->cur_state,
                    new_register ? "Full Committed" : "Valid"))
    return FAIL (REGISTER_STATE,
                 "The %s master key register of crypto unit %" G_GINT64_FORMAT
                 " is %s: there is no key to export.",
                 which, cmd->unit->num, new_register ? cmd->unit->new_state : cmd->unit->cur_state),
           NULL;
  if (g_str_equal (target_id, cmd->unit->hsm_id))
    return FAIL (WRONG_UNIT, "A recovery unit does not export a key to itself."), NULL;
  if ((target = tke_emu_unit_load (cmd->self->store, target_id, error)) == NULL)
    return NULL;
  if (target->importer_pub == NULL)
    return FAIL (NO_IMPORTER_KEY,
                 "Crypto unit %" G_GINT64_FORMAT " has no pending importer key: have it "
                 "generate one first.",
                 target->num),
           NULL;
  /* As a card does: only a key the target's certified device key vouches for. */
  if (!tke_emu_identity_verify_importer (cmd->self->identity, target->hsm_id, certificate,
                                         target->importer_pub, error) ||
      (importer = tke_emu_unit_get_importer (cmd->self->store, target, error)) == NULL ||
      (value = tke_emu_unit_get_register (cmd->self->store, cmd->unit, new_register, error)) ==
          NULL)
    return NULL;
  aad = g_strdup_printf (TRANSFER_AAD_FORMAT, cmd->self->store->instance_id, cmd->unit->hsm_id,
                         target->hsm_id);
  if ((sealed = tke_crypto_seal (importer, (const guint8 *) aad, strlen (aad), value, error)) ==
      NULL)
    return NULL;
  tke_crypto_verification_pattern (value, vp);
  out = json_object_new ();
  _tke_emu_take_string (
      out, "sealed", g_base64_encode (g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed)));
  _tke_emu_take_string (out, "mkvp", _tke_emu_hex (vp, sizeof vp));
  json_object_set_string_member (out, "target_hsm_id", target->hsm_id);
  return out;
}

/* import_key: a key a recovery unit sealed to this unit's importer key,
 * into the new register, committed (signature threshold). */
static JsonObject *
cmd_import_key (TkeEmuCommand *cmd, GError **error)
{
  static const char *const allowed[] = { "sealed", "source_hsm_id", "mkvp", NULL };
  const char *source_id;
  g_autoptr (GBytes) sealed = NULL, want = NULL;
  g_autoptr (TkeEmuUnit) source = NULL;
  g_autoptr (EVP_PKEY) importer = NULL;
  g_autoptr (TkeSecret) value = NULL;
  g_autofree char *aad = NULL;
  guint8 vp[TKE_VP_SIZE];

  if (!_tke_emu_only_members (cmd->args, allowed, "args", error) ||
      !_tke_emu_refuse_in_imprint (cmd, "importing a master key", error) ||
      !_tke_emu_need_signatures (cmd, cmd->unit->sig_thr, FALSE, error) ||
      !_tke_emu_refuse_during_rotation (cmd->self, error) ||
      (sealed = _tke_emu_get_base64 (cmd->args, "sealed", error)) == NULL ||
      (source_id = _tke_emu_get_string (cmd->args, "source_hsm_id", TRUE, error)) == NULL ||
      (want = _tke_emu_get_hex (cmd->args, "mkvp", TKE_VP_SIZE, error)) == NULL)
    return NULL;
  if ((source = tke_emu_unit_load (cmd->self->store, source_id, error)) == NULL)
    return NULL;
  if (!is_recovery_unit (source))
    return FAIL (WRONG_UNIT_TYPE,
                 "Only a RECOVERY unit's key is imported; crypto unit %" G_GINT64_FORMAT
                 " is an %s unit.",
                 source->num, source->type),
           NULL;
  if (cmd->unit->importer_pub == NULL)
    return FAIL (NO_IMPORTER_KEY, "Crypto unit %" G_GINT64_FORMAT " has no pending importer key.",
                 cmd->unit->num),
           NULL;
  if (g_bytes_get_size (sealed) > TKE_EMU_MAX_SEALED_PART)
    return FAIL (INVALID_KEY_PART, "The sealed key is over %d bytes.", TKE_EMU_MAX_SEALED_PART),
           NULL;
  if ((importer = tke_emu_unit_get_importer (cmd->self->store, cmd->unit, error)) == NULL)
    return NULL;
  aad = g_strdup_printf (TRANSFER_AAD_FORMAT, cmd->self->store->instance_id, source->hsm_id,
                         cmd->unit->hsm_id);
  value = tke_crypto_open (importer, (const guint8 *) aad, strlen (aad),
                           g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), NULL);
  if (value == NULL || tke_secret_get_size (value) != TKE_MASTER_KEY_SIZE)
    return FAIL (INVALID_KEY_PART,
                 "The sealed master key does not open: it was altered, or sealed to another "
                 "importer key or by another unit."),
           NULL;
  tke_crypto_verification_pattern (value, vp);
  if (memcmp (vp, g_bytes_get_data (want, NULL), TKE_VP_SIZE) != 0)
    return FAIL (VP_MISMATCH, "The imported key does not have the verification pattern the "
                              "command names."),
           NULL;
  if (_tke_emu_matches_unit (cmd->self->faults.fail_import_on, cmd->unit))
    return FAIL (INJECTED_FAULT,
                 "Injected fault: importing the master key fails on crypto unit %" G_GINT64_FORMAT
                 ".",
                 cmd->unit->num),
           NULL;
  if (!tke_emu_unit_set_register (cmd->self->store, cmd->unit, TRUE, value, "Full Committed",
                                  error) ||
      !tke_emu_unit_set_importer (cmd->self->store, cmd->unit, NULL, error))
    return NULL;
  return new_register_result (value);
}

static JsonArray *
control_points_array (GArray *bits)
{
  JsonArray *array = json_array_new ();

  for (guint i = 0; i < bits->len; i++)
    json_array_add_int_element (array, g_array_index (bits, guint, i));
  return array;
}

gboolean
_tke_emu_add_control_points (TkeEmuServer *self,
                             const TkeEmuUnit *unit,
                             JsonObject *o,
                             GError **error)
{
  g_autoptr (GArray) bits = tke_emu_unit_get_control_points (self->store, unit, error);

  if (bits == NULL)
    return FALSE;
  json_object_set_array_member (o, "control_points", control_points_array (bits));
  return TRUE;
}

/* set_control_point: sets or clears one domain control point (signature
 * threshold), EP11's DOM_CTRLPOINT_ADD / DOM_CTRLPOINT_DEL. */
static JsonObject *
cmd_set_control_point (TkeEmuCommand *cmd, GError **error)
{
  static const char *const allowed[] = { "index", "value", NULL };
  g_autoptr (GArray) bits = NULL;
  JsonNode *node;
  gint64 index = -1;
  gboolean value, found = FALSE;
  JsonObject *out;

  if (!_tke_emu_only_members (cmd->args, allowed, "args", error) ||
      !_tke_emu_refuse_in_imprint (cmd, "changing a control point", error) ||
      !_tke_emu_need_signatures (cmd, cmd->unit->sig_thr, FALSE, error) ||
      !_tke_emu_get_int (cmd->args, "index", TRUE, &index, error))
    return NULL;
  node = json_object_get_member (cmd->args, "value");
  if (index < 0 || index >= TKE_EMU_CONTROL_POINTS)
    return FAIL (INVALID_FIELD, "\"index\" is a control point number from 0 to %d.",
                 TKE_EMU_CONTROL_POINTS - 1),
           NULL;
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return FAIL (INVALID_FIELD, "\"value\" must be true or false."), NULL;
  value = json_node_get_boolean (node);
  if ((bits = tke_emu_unit_get_control_points (cmd->self->store, cmd->unit, error)) == NULL)
    return NULL;
  for (guint i = 0; i < bits->len; i++)
    if (g_array_index (bits, guint, i) == (guint) index)
      {
        found = TRUE;
        if (!value)
          g_array_remove_index (bits, i);
        break;
      }
  if (value && !found)
    g_array_append_val (bits, (guint){ (guint) index });
  if (!tke_emu_unit_set_control_points (cmd->self->store, cmd->unit, bits, error))
    return NULL;
  out = json_object_new ();
  json_object_set_array_member (out, "control_points", control_points_array (bits));
  return out;
}

JsonObject *
_tke_emu_run_recovery_command (TkeEmuCommand *cmd, const char *name, GError **error)
{
  if (g_str_equal (name, "generate_random_key"))
    return cmd_generate_random_key (cmd, error);
  if (g_str_equal (name, "export_key"))
    return cmd_export_key (cmd, error);
  if (g_str_equal (name, "import_key"))
    return cmd_import_key (cmd, error);
  return cmd_set_control_point (cmd, error);
}

/* POST …/failover {"total": N}: the instance has N failover units from
 * now on (1 to 2, at most as many as its operational units; never fewer
 * than it has; not during a rotation).  New ones are in imprint mode with Empty registers. */
static gboolean
add_failover_units (TkeEmuServer *self, gint64 total, GError **error)
{
  g_autoptr (GPtrArray) units = NULL;
  gint64 operational = 0, failover = 0, last = 0;

  /* A unit added now would hold no key of the rotation and yet count for
   * its completion. */
  if (!_tke_emu_refuse_during_rotation (self, error) ||
      (units = tke_emu_units_load (self->store, FALSE, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < units->len; i++)
    {
      TkeEmuUnit *unit = units->pdata[i];

      operational += g_str_equal (unit->type, "OPERATIONAL");
      failover += g_str_equal (unit->type, "FAILOVER");
      last = MAX (last, unit->num);
    }
  if (total < 1 || total > MIN (MAX_FAILOVER_UNITS, operational))
    return FAIL (FAILOVER_LIMIT,
                 "The service instance can have 1 to %" G_GINT64_FORMAT
                 " failover crypto units (at most %d, and no more than its %" G_GINT64_FORMAT
                 " operational units).",
                 MIN (MAX_FAILOVER_UNITS, operational), MAX_FAILOVER_UNITS, operational);
  if (total < failover)
    return FAIL (FAILOVER_LIMIT,
                 "The service instance already has %" G_GINT64_FORMAT
                 " failover crypto units; they cannot be removed.",
                 failover);
  if (!tke_emu_db_begin (self->store->db, error))
    return FALSE;
  for (gint64 i = failover; i < total; i++)
    {
      g_autoptr (TkeEmuUnit) unit = g_new0 (TkeEmuUnit, 1);

      unit->hsm_id = g_uuid_string_random ();
      unit->num = ++last;
      unit->type = g_strdup ("FAILOVER");
      unit->location = g_strdup_printf ("[us-south].[AZ3-CS4].[0%" G_GINT64_FORMAT "].[04]", 5 + i);
      unit->serial = g_strdup_printf ("93AABEF%" G_GINT64_FORMAT, i + 1);
      unit->new_state = g_strdup ("Empty");
      unit->cur_state = g_strdup ("Empty");
      unit->admins = g_ptr_array_new_with_free_func (_tke_emu_admin_free);
      if (!tke_emu_unit_save (self->store, unit, error))
        {
          tke_emu_db_rollback (self->store->db);
          return FALSE;
        }
    }
  return tke_emu_db_commit (self->store->db, error) &&
         tke_emu_identity_add_units (self->identity, error);
}

void
_tke_emu_handle_failover (TkeEmuServer *self, SoupServerMessage *msg)
{
  static const char *const allowed[] = { "total", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *body;
  gint64 total = 0;

  if ((body = _tke_emu_parse_body (msg, &parser, FALSE, &error)) == NULL ||
      !_tke_emu_only_members (body, allowed, "the body", &error) ||
      !_tke_emu_get_int (body, "total", TRUE, &total, &error) ||
      !add_failover_units (self, total, &error))
    {
      _tke_emu_reply_error (msg, error);
      return;
    }
  _tke_emu_handle_hsms (self, msg);
}
