/* tke-audit-ceremony.c: what a ceremony and a rotation write to the record
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both front ends run ceremonies the same way, so the record is written
 * here, not there: a "begin" record with who signs, which key parts (by
 * check value) and every unit's signed state; one record per step as the
 * ceremony reports it; and an "end" record with the outcome, the units'
 * signed state after, and the recovery advice.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-audit-trail-private.h"
#include "tke-ceremony-private.h"
#include "tke-enum-types.h"
#include "tke-journal.h"
#include "tke-rotation-private.h"
#include "tke-signer.h"

typedef struct
{
  TkeAuditTrail *trail; /* not a reference: the trail owns the watch */
  GObject *ceremony;
  char *id;
  char *kind;
  GPtrArray *units;
  gboolean failed_to_record;
} Watch;

static void
watch_free (Watch *watch)
{
  g_signal_handlers_disconnect_by_data (watch->ceremony, watch);
  g_object_unref (watch->ceremony);
  g_free (watch->id);
  g_free (watch->kind);
  g_ptr_array_unref (watch->units);
  g_free (watch);
}

/* A step whose record cannot be written is still taken (the units may
 * be half-way); the "end" record says that records are missing. */
static void
append_or_warn (Watch *watch, TkeAuditEntry *entry)
{
  g_autoptr (GError) error = NULL;

  if (!tke_audit_trail_append (watch->trail, entry, &error))
    {
      watch->failed_to_record = TRUE;
      g_warning ("%s", error->message);
    }
}

static const char *
kind_nick (TkeCeremonyKind kind)
{
  GEnumClass *klass = g_type_class_ref (TKE_TYPE_CEREMONY_KIND);
  GEnumValue *value = g_enum_get_value (klass, kind);
  const char *nick = value != NULL ? value->value_nick : "unknown";

  g_type_class_unref (klass);
  return nick;
}

static void
add_units (TkeAuditEntry *entry, GPtrArray *units)
{
  for (guint i = 0; i < units->len; i++)
    tke_audit_entry_add_unit (entry, units->pdata[i]);
}

static void
add_signers (TkeAuditEntry *entry, GPtrArray *signers)
{
  for (guint i = 0; signers != NULL && i < signers->len; i++)
    tke_audit_entry_add_administrator (entry, tke_signer_get_name (signers->pdata[i]),
                                       tke_signer_get_ski (signers->pdata[i]));
}

static Watch *
watch_new (TkeAuditTrail *trail, GObject *ceremony, const char *kind, GPtrArray *units)
{
  Watch *watch = g_new0 (Watch, 1);

  watch->trail = trail;
  watch->ceremony = g_object_ref (ceremony);
  watch->id = tke_audit_trail_new_ceremony_id ();
  watch->kind = g_strdup (kind);
  watch->units = g_ptr_array_ref (units);
  return watch;
}

static TkeAuditEntry *
begin_entry (Watch *watch, TkeServiceClient *client)
{
  TkeAuditEntry *entry = tke_audit_entry_new (watch->id, watch->kind, TKE_JOURNAL_STEP_CEREMONY,
                                              TKE_JOURNAL_OUTCOME_BEGIN);
  g_autofree char *root = client != NULL ? tke_service_client_dup_unit_root (client) : NULL;

  if (root != NULL)
    tke_audit_entry_set_unit_root (entry, root);
  return entry;
}

static void
finish (Watch *watch, const GError *failure, TkeAuditEntry *entry)
{
  if (watch->failed_to_record)
    tke_audit_entry_add_message (entry, _ ("Some steps of this ceremony could not be recorded."));
  if (failure != NULL)
    tke_audit_entry_set_detail (entry, failure->message);
  add_units (entry, watch->units);
  append_or_warn (watch, entry);
}

static const char *
outcome_of (const GError *failure)
{
  if (failure == NULL)
    return TKE_JOURNAL_OUTCOME_OK;
  if (failure->domain == G_IO_ERROR && failure->code == G_IO_ERROR_CANCELLED)
    return TKE_JOURNAL_OUTCOME_CANCELLED;
  return TKE_JOURNAL_OUTCOME_FAILED;
}

static Watch *
take_watch (TkeAuditTrail *self, gpointer ceremony)
{
  GHashTable *watches = _tke_audit_trail_get_watches (self);
  Watch *watch = g_hash_table_lookup (watches, ceremony);

  if (watch != NULL)
    g_hash_table_steal (watches, ceremony);
  return watch;
}

/* ---- TkeCeremony -------------------------------------------------------- */

static void
on_ceremony_progress (TkeCeremony *ceremony, TkeCryptoUnit *unit, const char *message, Watch *watch)
{
  g_autoptr (TkeAuditEntry) entry =
      tke_audit_entry_new (watch->id, watch->kind, "step", TKE_JOURNAL_OUTCOME_BEGIN);

  tke_audit_entry_set_detail (entry, message);
  append_or_warn (watch, entry);
}

static void
on_ceremony_unit_done (TkeCeremony *ceremony, TkeCryptoUnit *unit, Watch *watch)
{
  g_autoptr (TkeAuditEntry) entry =
      tke_audit_entry_new (watch->id, watch->kind, "unit-done", TKE_JOURNAL_OUTCOME_OK);
  g_autofree char *detail =
      g_strdup_printf (_ ("Crypto unit %u: done."), tke_crypto_unit_get_number (unit));

  tke_audit_entry_set_detail (entry, detail);
  append_or_warn (watch, entry);
}

/**
 * tke_audit_trail_begin_ceremony:
 * @self: the ceremony record
 * @ceremony: a ceremony with its arguments, about to run
 * @error: return location for a #GError
 *
 * Writes the ceremony's first record (its kind, the administrators who
 * sign, the key parts by description and check value, the unit root and
 * every unit's signed state), then one record per step while it runs,
 * until tke_audit_trail_end_ceremony().
 *
 * Returns: %TRUE if the first record is written; a ceremony that cannot
 *   be recorded should not start
 */
gboolean
tke_audit_trail_begin_ceremony (TkeAuditTrail *self, TkeCeremony *ceremony, GError **error)
{
  g_autoptr (GPtrArray) units = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (TkeAuditEntry) entry = NULL;
  guint n_parts;
  Watch *watch;

  g_return_val_if_fail (TKE_IS_AUDIT_TRAIL (self), FALSE);
  g_return_val_if_fail (TKE_IS_CEREMONY (ceremony), FALSE);

  for (guint i = 0; i < _tke_ceremony_n_units (ceremony); i++)
    g_ptr_array_add (units, g_object_ref (_tke_ceremony_unit_at (ceremony, i)));
  watch = watch_new (self, G_OBJECT (ceremony), kind_nick (ceremony->kind), units);
  entry = begin_entry (watch, ceremony->client);
  add_signers (entry, ceremony->signers);
  n_parts = tke_ceremony_get_n_key_parts (ceremony);
  for (guint i = 0; ceremony->parts != NULL && i < ceremony->parts->len; i++)
    tke_audit_entry_add_key_part (entry, i + 1, n_parts,
                                  tke_key_part_source_get_description (ceremony->parts->pdata[i]),
                                  tke_key_part_source_get_check_value (ceremony->parts->pdata[i]));
  add_units (entry, units);
  if (!tke_audit_trail_append (self, entry, error))
    {
      watch_free (watch);
      return FALSE;
    }
  g_signal_connect (ceremony, "progress", G_CALLBACK (on_ceremony_progress), watch);
  g_signal_connect (ceremony, "unit-done", G_CALLBACK (on_ceremony_unit_done), watch);
  g_hash_table_replace (_tke_audit_trail_get_watches (self), ceremony, watch);
  return TRUE;
}

/**
 * tke_audit_trail_end_ceremony:
 * @self: the ceremony record
 * @ceremony: a ceremony begun with tke_audit_trail_begin_ceremony()
 * @failure: (nullable): how it failed, or %NULL if it succeeded
 *
 * Writes the ceremony's last record: its outcome, what failed, and every
 * unit's signed state now.
 */
void
tke_audit_trail_end_ceremony (TkeAuditTrail *self, TkeCeremony *ceremony, const GError *failure)
{
  g_autoptr (TkeAuditEntry) entry = NULL;
  Watch *watch;

  g_return_if_fail (TKE_IS_AUDIT_TRAIL (self));
  g_return_if_fail (TKE_IS_CEREMONY (ceremony));

  watch = take_watch (self, ceremony);
  if (watch == NULL)
    return;
  entry = tke_audit_entry_new (watch->id, watch->kind, TKE_JOURNAL_STEP_END, outcome_of (failure));
  finish (watch, failure, entry);
  watch_free (watch);
}

/* ---- TkeRotation -------------------------------------------------------- */

static void
on_rotation_message (TkeRotation *rotation, const char *message, Watch *watch)
{
  g_autoptr (TkeAuditEntry) entry =
      tke_audit_entry_new (watch->id, watch->kind, "service-message", NULL);

  tke_audit_entry_add_message (entry, message);
  append_or_warn (watch, entry);
}

static void
on_rotation_unit_done (TkeRotation *rotation,
                       TkeCryptoUnit *unit,
                       const GError *unit_error,
                       Watch *watch)
{
  g_autoptr (TkeAuditEntry) entry = tke_audit_entry_new (
      watch->id, watch->kind, TKE_JOURNAL_STEP_SET_IMMEDIATE,
      unit_error == NULL ? TKE_JOURNAL_OUTCOME_OK : TKE_JOURNAL_OUTCOME_FAILED);
  g_autofree char *detail = g_strdup_printf (
      unit_error == NULL ? _ ("Crypto unit %u: set immediate done.")
                         : _ ("Crypto unit %u: set immediate failed: %s"),
      tke_crypto_unit_get_number (unit), unit_error != NULL ? unit_error->message : "");

  tke_audit_entry_set_detail (entry, detail);
  append_or_warn (watch, entry);
}

/**
 * tke_audit_trail_begin_rotation:
 * @self: the ceremony record
 * @rotation: a rotation about to run, or to recover
 * @kind: "rotate" or "recover"
 * @error: return location for a #GError
 *
 * Writes the rotation's first record (the signer, the unit root and every
 * unit's signed state), then each of the service's messages, in order, and
 * each unit's set immediate, until tke_audit_trail_end_rotation().
 *
 * Returns: %TRUE if the first record is written
 */
gboolean
tke_audit_trail_begin_rotation (TkeAuditTrail *self,
                                TkeRotation *rotation,
                                const char *kind,
                                GError **error)
{
  g_autoptr (TkeAuditEntry) entry = NULL;
  Watch *watch;

  g_return_val_if_fail (TKE_IS_AUDIT_TRAIL (self), FALSE);
  g_return_val_if_fail (TKE_IS_ROTATION (rotation), FALSE);
  g_return_val_if_fail (kind != NULL, FALSE);

  watch = watch_new (self, G_OBJECT (rotation), kind, rotation->units);
  entry = begin_entry (watch, rotation->client);
  add_signers (entry, rotation->signers);
  add_units (entry, rotation->units);
  if (!tke_audit_trail_append (self, entry, error))
    {
      watch_free (watch);
      return FALSE;
    }
  g_signal_connect (rotation, "message", G_CALLBACK (on_rotation_message), watch);
  g_signal_connect (rotation, "unit-done", G_CALLBACK (on_rotation_unit_done), watch);
  g_hash_table_replace (_tke_audit_trail_get_watches (self), rotation, watch);
  return TRUE;
}

/**
 * tke_audit_trail_end_rotation:
 * @self: the ceremony record
 * @rotation: a rotation begun with tke_audit_trail_begin_rotation()
 * @failure: (nullable): how it failed, or %NULL if it succeeded
 *
 * Writes the rotation's last record: its outcome, the recovery advice (the
 * action and why), and every unit's signed state now.
 */
void
tke_audit_trail_end_rotation (TkeAuditTrail *self, TkeRotation *rotation, const GError *failure)
{
  g_autoptr (TkeAuditEntry) entry = NULL;
  Watch *watch;

  g_return_if_fail (TKE_IS_AUDIT_TRAIL (self));
  g_return_if_fail (TKE_IS_ROTATION (rotation));

  watch = take_watch (self, rotation);
  if (watch == NULL)
    return;
  entry = tke_audit_entry_new (watch->id, watch->kind, TKE_JOURNAL_STEP_END, outcome_of (failure));
  if (tke_rotation_has_advice (rotation))
    {
      GEnumClass *klass = g_type_class_ref (TKE_TYPE_RECOVERY_ACTION);
      GEnumValue *value = g_enum_get_value (klass, tke_rotation_get_advice (rotation));

      tke_audit_entry_set_advice (entry, value != NULL ? value->value_nick : "unknown",
                                  tke_rotation_get_advice_explanation (rotation));
      g_type_class_unref (klass);
    }
  finish (watch, failure, entry);
  watch_free (watch);
}

void
_tke_audit_watch_free (gpointer watch)
{
  watch_free (watch);
}
