/* tke-audit-entry.c: one record of the ceremony record, before it is written
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An entry is what a ceremony step says about itself: who signed, with
 * which card, which key part (by its check value, never its value), and
 * each unit's state as the unit itself signed it.  TkeAuditTrail adds the
 * sequence number, the time and the hash chain when it writes the entry.
 */

#include "config.h"

#include <json-glib/json-glib.h>

#include <glib/gi18n-lib.h>

#include "tke-audit-entry-private.h"
#include "tke-audit-entry.h"
#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-importer-proof-private.h"
#include "tke-types.h"
#include "tke-unit-identity.h"

/**
 * TkeAuditEntry:
 *
 * One record of the ceremony record (#TkeAuditTrail), before it is
 * written: the ceremony, its step and outcome, the administrator and card
 * that signed, the key part's check value and description, the units'
 * states with their signed answers, the service's messages and the advice
 * followed.  Nothing secret goes into an entry: there is no setter for a
 * PIN, a password or a key.
 */
struct _TkeAuditEntry
{
  gatomicrefcount ref_count;
  JsonObject *object;
};

G_DEFINE_BOXED_TYPE (TkeAuditEntry, tke_audit_entry, tke_audit_entry_ref, tke_audit_entry_unref)

/* The entry's array @member, made on first use. */
static JsonArray *
array_member (TkeAuditEntry *self, const char *member)
{
  JsonNode *node = json_object_get_member (self->object, member);

  if (node == NULL)
    {
      json_object_set_array_member (self->object, member, json_array_new ());
      node = json_object_get_member (self->object, member);
    }
  return json_node_get_array (node);
}

static void
set_string_or_null (JsonObject *object, const char *member, const char *value)
{
  if (value != NULL)
    json_object_set_string_member (object, member, value);
  else
    json_object_set_null_member (object, member);
}

/**
 * tke_audit_entry_new:
 * @ceremony_id: the ceremony's id; every record of one ceremony shares it
 * @kind: what the ceremony does ("load", "commit", "rotate", …)
 * @step: the step ("begin", "unit", "seal", "end", …)
 * @outcome: (nullable): how the step ended (#TKE_JOURNAL_OUTCOME_OK, …)
 *
 * Creates an entry to give to tke_audit_trail_append().
 *
 * Returns: (transfer full): a new entry
 */
TkeAuditEntry *
tke_audit_entry_new (const char *ceremony_id,
                     const char *kind,
                     const char *step,
                     const char *outcome)
{
  TkeAuditEntry *self;

  g_return_val_if_fail (ceremony_id != NULL && kind != NULL && step != NULL, NULL);

  self = g_new0 (TkeAuditEntry, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->object = json_object_new ();
  json_object_set_string_member (self->object, "ceremony", ceremony_id);
  json_object_set_string_member (self->object, "kind", kind);
  json_object_set_string_member (self->object, "step", step);
  set_string_or_null (self->object, "outcome", outcome);
  return self;
}

/**
 * tke_audit_entry_ref:
 * @self: an entry
 *
 * Returns: (transfer full): @self, with one more reference
 */
TkeAuditEntry *
tke_audit_entry_ref (TkeAuditEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * tke_audit_entry_unref:
 * @self: an entry
 *
 * Drops a reference.
 */
void
tke_audit_entry_unref (TkeAuditEntry *self)
{
  g_return_if_fail (self != NULL);
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  json_object_unref (self->object);
  g_free (self);
}

/**
 * tke_audit_entry_set_detail:
 * @self: an entry
 * @detail: (nullable): what happened, for people (an error message, …)
 *
 * Sets the entry's detail.
 */
void
tke_audit_entry_set_detail (TkeAuditEntry *self, const char *detail)
{
  g_return_if_fail (self != NULL);
  set_string_or_null (self->object, "detail", detail);
}

/**
 * tke_audit_entry_add_administrator:
 * @self: an entry
 * @name: (nullable): the administrator's name
 * @ski: (nullable): the subject key identifier of the administrator's signature key
 *
 * Names an administrator who signs in this step, in the order they sign.
 */
void
tke_audit_entry_add_administrator (TkeAuditEntry *self, const char *name, const char *ski)
{
  JsonObject *admin;

  g_return_if_fail (self != NULL);
  admin = json_object_new ();
  set_string_or_null (admin, "name", name);
  set_string_or_null (admin, "ski", ski);
  json_array_add_object_element (array_member (self, "administrators"), admin);
}

/**
 * tke_audit_entry_add_card_administrator:
 * @self: an entry
 * @name: (nullable): the administrator's name, %NULL before the card was read
 * @ski: (nullable): the SKI of the card's signature key, %NULL before the card was read
 * @serial: (nullable): the card's serial number, %NULL before the card was read
 * @zone: (nullable): the card's zone
 *
 * Names an administrator who signs with a smart card, as
 * tke_audit_entry_add_administrator(), and the card.  A ceremony's first
 * record is written before any card is read: it names such an administrator
 * with %NULL for all four, and its last record names the card that signed.
 */
void
tke_audit_entry_add_card_administrator (
    TkeAuditEntry *self, const char *name, const char *ski, const char *serial, const char *zone)
{
  JsonArray *admins;
  JsonObject *admin;
  JsonObject *card = json_object_new ();

  g_return_if_fail (self != NULL);
  tke_audit_entry_add_administrator (self, name, ski);
  admins = array_member (self, "administrators");
  admin = json_array_get_object_element (admins, json_array_get_length (admins) - 1);
  set_string_or_null (card, "serial", serial);
  set_string_or_null (card, "zone", zone);
  json_object_set_object_member (admin, "card", card);
}

/**
 * tke_audit_entry_set_card:
 * @self: an entry
 * @serial: the card's serial number
 * @zone: (nullable): the card's zone
 *
 * Names the smart card used in this step.
 */
void
tke_audit_entry_set_card (TkeAuditEntry *self, const char *serial, const char *zone)
{
  JsonObject *card = json_object_new ();

  g_return_if_fail (self != NULL && serial != NULL);
  json_object_set_string_member (card, "serial", serial);
  set_string_or_null (card, "zone", zone);
  json_object_set_object_member (self->object, "card", card);
}

/**
 * tke_audit_entry_add_key_part:
 * @self: an entry
 * @index: the part's position, from 1
 * @n_parts: how many parts the key has
 * @description: (nullable): the part's description
 * @check_value: (nullable): the part's check value, as read aloud
 *
 * Names a key part of this step by its check value: the record never holds
 * the part itself.
 */
void
tke_audit_entry_add_key_part (TkeAuditEntry *self,
                              guint index,
                              guint n_parts,
                              const char *description,
                              const char *check_value)
{
  JsonObject *part;

  g_return_if_fail (self != NULL);
  part = json_object_new ();
  json_object_set_int_member (part, "index", index);
  json_object_set_int_member (part, "of", n_parts);
  set_string_or_null (part, "description", description);
  set_string_or_null (part, "check_value", check_value);
  json_array_add_object_element (array_member (self, "key_parts"), part);
}

/**
 * tke_audit_entry_set_unit_root:
 * @self: an entry
 * @root_hex: the pinned unit root's public point, in hex
 *
 * Names the unit root the units' signed answers chain to, so that the
 * record can be verified offline.
 */
void
tke_audit_entry_set_unit_root (TkeAuditEntry *self, const char *root_hex)
{
  g_return_if_fail (self != NULL && root_hex != NULL);
  json_object_set_string_member (self->object, "unit_root", root_hex);
}

static JsonObject *
register_object (const char *state, const char *vp)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "state", state);
  json_object_set_string_member (object, "vp", vp);
  return object;
}

/**
 * tke_audit_entry_add_unit:
 * @self: an entry
 * @unit: a crypto unit, as last read
 *
 * Adds @unit's state: its registers and their verification patterns, its
 * imprint mode and thresholds, and the unit's signed answer they come from
 * (tke_crypto_unit_dup_evidence()).
 */
void
tke_audit_entry_add_unit (TkeAuditEntry *self, TkeCryptoUnit *unit)
{
  g_autofree char *evidence = NULL;
  JsonObject *object;

  g_return_if_fail (self != NULL && TKE_IS_CRYPTO_UNIT (unit));

  object = json_object_new ();
  json_object_set_int_member (object, "number", tke_crypto_unit_get_number (unit));
  json_object_set_string_member (object, "instance", tke_crypto_unit_get_instance_id (unit));
  json_object_set_string_member (object, "hsm_id", tke_crypto_unit_get_hsm_id (unit));
  json_object_set_boolean_member (object, "reachable", tke_crypto_unit_get_reachable (unit));
  json_object_set_boolean_member (object, "imprint_mode", tke_crypto_unit_get_imprint_mode (unit));
  json_object_set_int_member (object, "signature_threshold",
                              tke_crypto_unit_get_signature_threshold (unit));
  json_object_set_int_member (object, "revocation_threshold",
                              tke_crypto_unit_get_revocation_threshold (unit));
  json_object_set_object_member (
      object, "new",
      register_object (
          tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit)),
          tke_crypto_unit_get_new_register_vp (unit)));
  json_object_set_object_member (
      object, "current",
      register_object (
          tke_current_register_state_to_string (tke_crypto_unit_get_current_register_state (unit)),
          tke_crypto_unit_get_current_register_vp (unit)));
  evidence = tke_crypto_unit_dup_evidence (unit);
  if (evidence != NULL)
    {
      g_autoptr (JsonNode) node = json_from_string (evidence, NULL);

      if (node != NULL)
        json_object_set_member (object, "evidence", g_steal_pointer (&node));
    }
  json_array_add_object_element (array_member (self, "units"), object);
}

static char *
base64_of (GBytes *bytes)
{
  return g_base64_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/**
 * tke_audit_entry_set_importer_key:
 * @self: an entry
 * @unit: the unit that made the importer key
 * @importer: the importer public key (an uncompressed P-521 point)
 *
 * Records the importer key a unit made for a load: its SHA-256
 * fingerprint, the key (public), and the unit's evidence for it, its
 * certificate chain and the importer certificate it signed, as libtke
 * verified them; tke_ceremony_report_verify() checks them again against
 * the unit root.
 */
void
tke_audit_entry_set_importer_key (TkeAuditEntry *self, TkeCryptoUnit *unit, GBytes *importer)
{
  g_autoptr (TkeImporterProof) proof = NULL;
  g_autofree char *key = NULL;
  g_autofree char *fingerprint = NULL;
  JsonObject *object;

  g_return_if_fail (self != NULL && TKE_IS_CRYPTO_UNIT (unit) && importer != NULL);

  object = json_object_new ();
  key = tke_crypto_hex_encode (g_bytes_get_data (importer, NULL), g_bytes_get_size (importer));
  fingerprint = tke_unit_root_fingerprint (importer);
  json_object_set_int_member (object, "unit", tke_crypto_unit_get_number (unit));
  json_object_set_string_member (object, "instance", tke_crypto_unit_get_instance_id (unit));
  json_object_set_string_member (object, "hsm_id", tke_crypto_unit_get_hsm_id (unit));
  json_object_set_string_member (object, "fingerprint", fingerprint);
  json_object_set_string_member (object, "key", key);
  proof = _tke_importer_proof_lookup (importer);
  if (proof != NULL)
    {
      JsonArray *chain = json_array_new ();
      g_autofree char *certificate = base64_of (proof->importer_certificate);

      for (guint i = 0; i < proof->unit_certificates->len; i++)
        json_array_add_string_element (chain, base64_of (proof->unit_certificates->pdata[i]));
      json_object_set_string_member (object, "importer_certificate", certificate);
      json_object_set_array_member (object, "certificates", chain);
    }
  json_object_set_object_member (self->object, "importer_key", object);
}

static GBytes *
decode (const char *base64)
{
  gsize size = 0;
  guchar *data = g_base64_decode (base64 != NULL ? base64 : "", &size);

  return g_bytes_new_take (data, size);
}

/* The record's importer key is the one the unit's certificate names, in a
 * chain up to @root: for tke-ceremony-report.c.  Sets a reason for people. */
gboolean
_tke_audit_entry_verify_importer (JsonObject *importer, GBytes *root, char **why)
{
  JsonNode *chain_node = json_object_get_member (importer, "certificates");
  JsonNode *certificate = json_object_get_member (importer, "importer_certificate");
  JsonNode *key = json_object_get_member (importer, "key");
  JsonNode *hsm_id = json_object_get_member (importer, "hsm_id");
  g_autoptr (GPtrArray) chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GBytes) point = NULL;
  g_autoptr (GBytes) recorded = NULL;
  g_autoptr (GBytes) importer_certificate = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeImporterProof) proof = NULL;
  g_autofree char *fingerprint = NULL;
  JsonArray *array;

  if (chain_node == NULL || !JSON_NODE_HOLDS_ARRAY (chain_node) || certificate == NULL ||
      json_node_get_value_type (certificate) != G_TYPE_STRING || key == NULL ||
      json_node_get_value_type (key) != G_TYPE_STRING || hsm_id == NULL ||
      json_node_get_value_type (hsm_id) != G_TYPE_STRING)
    {
      *why = g_strdup (_ ("the unit's evidence for its importer key is missing"));
      return FALSE;
    }
  array = json_node_get_array (chain_node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (json_node_get_value_type (element) != G_TYPE_STRING)
        break;
      g_ptr_array_add (chain, decode (json_node_get_string (element)));
    }
  importer_certificate = decode (json_node_get_string (certificate));
  recorded = tke_crypto_hex_decode (json_node_get_string (key), NULL);
  if (chain->len == 0 || chain->len != json_array_get_length (array) ||
      (point = tke_unit_identity_accept_importer (root, chain, importer_certificate, &error)) ==
          NULL)
    {
      *why = g_strdup_printf (_ ("the importer key is not certified by the unit: %s"),
                              error != NULL ? error->message : _ ("its certificates are damaged"));
      return FALSE;
    }
  proof = _tke_importer_proof_lookup (point);
  fingerprint = tke_unit_root_fingerprint (point);
  if (recorded == NULL || !g_bytes_equal (point, recorded) || proof == NULL ||
      g_strcmp0 (proof->hsm_id, json_node_get_string (hsm_id)) != 0 ||
      g_strcmp0 (fingerprint,
                 json_object_get_string_member_with_default (importer, "fingerprint", "")) != 0)
    {
      *why = g_strdup (_ ("the importer key recorded is not the one its unit certified"));
      return FALSE;
    }
  return TRUE;
}

/**
 * tke_audit_entry_add_message:
 * @self: an entry
 * @message: a message of the service (a rotation's progress message, …)
 *
 * Adds one of the service's messages, in the order given.
 */
void
tke_audit_entry_add_message (TkeAuditEntry *self, const char *message)
{
  g_return_if_fail (self != NULL && message != NULL);

  json_array_add_string_element (array_member (self, "messages"), message);
}

/**
 * tke_audit_entry_set_advice:
 * @self: an entry
 * @action: the recovery action advised (or followed)
 * @explanation: (nullable): the advice's explanation, for people
 *
 * Records the recovery advice of this step.
 */
void
tke_audit_entry_set_advice (TkeAuditEntry *self, const char *action, const char *explanation)
{
  JsonObject *advice = json_object_new ();

  g_return_if_fail (self != NULL && action != NULL);
  json_object_set_string_member (advice, "action", action);
  set_string_or_null (advice, "explanation", explanation);
  json_object_set_object_member (self->object, "advice", advice);
}

JsonObject *
_tke_audit_entry_get_object (TkeAuditEntry *self)
{
  return self->object;
}
