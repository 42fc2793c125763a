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
#include "tke-auto-ceremony-private.h"
#include "tke-card-signer.h"
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
  GPtrArray *signers; /* nullable: the ceremony's, named again at its end */
  gint *failed;       /* g_rc_box: a record of this ceremony could not be written */
  void (*connect) (gpointer ceremony, gpointer watch);
} Watch;

static void
watch_free (Watch *watch)
{
  g_signal_handlers_disconnect_by_data (watch->ceremony, watch);
  g_object_unref (watch->ceremony);
  g_free (watch->id);
  g_free (watch->kind);
  g_ptr_array_unref (watch->units);
  g_clear_pointer (&watch->signers, g_ptr_array_unref);
  g_rc_box_release (watch->failed);
  g_free (watch);
}

/* A step whose record cannot be written is still taken (the units may
 * be half-way); the "end" record says that records are missing.  The
 * record is written on the trail's writer thread, in order: the step does
 * not wait for the disk. */
static void
append_or_warn (Watch *watch, TkeAuditEntry *entry)
{
  _tke_audit_trail_queue (watch->trail, entry, watch->failed, FALSE, NULL, NULL, NULL);
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

/* A card signer knows its administrator only once the card is read, when
 * it first signs: the first record names it as a card not read yet, the
 * last one with its name, SKI and card. */
static void
add_signer (TkeAuditEntry *entry, TkeSigner *signer)
{
  const char *name = tke_signer_get_name (signer);
  const char *ski = tke_signer_get_ski (signer);

  if (TKE_IS_CARD_SIGNER (signer))
    tke_audit_entry_add_card_administrator (
        entry, name, ski, tke_card_signer_get_card_serial (TKE_CARD_SIGNER (signer)),
        tke_card_signer_get_card_zone (TKE_CARD_SIGNER (signer)));
  else
    tke_audit_entry_add_administrator (entry, name, ski);
}

static void
add_signers (TkeAuditEntry *entry, GPtrArray *signers)
{
  for (guint i = 0; signers != NULL && i < signers->len; i++)
    add_signer (entry, signers->pdata[i]);
}

static void
watch_signers (Watch *watch, GPtrArray *signers)
{
  if (signers != NULL)
    watch->signers = g_ptr_array_ref (signers);
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
  watch->failed = g_rc_box_new0 (gint);
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

/* The last record says whether one before it could not be written: the
 * writer thread knows when it comes to it. */
static void
finish (Watch *watch,
        const GError *failure,
        TkeAuditEntry *entry,
        GCancellable *cancellable,
        GAsyncReadyCallback callback,
        gpointer user_data)
{
  if (failure != NULL)
    tke_audit_entry_set_detail (entry, failure->message);
  add_signers (entry, watch->signers);
  add_units (entry, watch->units);
  _tke_audit_trail_queue (watch->trail, entry, watch->failed, TRUE, cancellable, callback,
                          user_data);
}

/* ---- Beginning: the first record, then the watch ------------------------ */

static void
start_watching (Watch *watch)
{
  watch->connect (watch->ceremony, watch);
  g_hash_table_replace (_tke_audit_trail_get_watches (watch->trail), watch->ceremony, watch);
}

/* The watch of a ceremony whose first record is on its way. */
typedef struct
{
  Watch *watch; /* NULL once watching */
} Pending;

static void
pending_free (Pending *pending)
{
  if (pending->watch != NULL)
    watch_free (pending->watch);
  g_free (pending);
}

static void
on_begin_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Pending *pending = g_task_get_task_data (task);
  GError *error = NULL;

  if (!tke_audit_trail_append_finish (TKE_AUDIT_TRAIL (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  start_watching (g_steal_pointer (&pending->watch));
  g_task_return_boolean (task, TRUE);
}

static gboolean
begin_now (Watch *watch, TkeAuditEntry *entry, GError **error)
{
  if (!tke_audit_trail_append (watch->trail, entry, error))
    {
      watch_free (watch);
      return FALSE;
    }
  start_watching (watch);
  return TRUE;
}

static void
begin_later (Watch *watch,
             TkeAuditEntry *entry,
             gpointer source_tag,
             GCancellable *cancellable,
             GAsyncReadyCallback callback,
             gpointer user_data)
{
  GTask *task = g_task_new (watch->trail, cancellable, callback, user_data);
  Pending *pending = g_new0 (Pending, 1);

  pending->watch = watch;
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, pending, (GDestroyNotify) pending_free);
  tke_audit_trail_append_async (watch->trail, entry, cancellable, on_begin_written, task);
}

static void
on_end_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (tke_audit_trail_append_finish (TKE_AUDIT_TRAIL (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
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

/* A load's own steps: each unit's importer key with the unit's evidence,
 * then each part as sealed to every unit (its description and check
 * value: the part itself never leaves its card in clear). */
static void
on_importer_key (TkeCeremony *ceremony, TkeCryptoUnit *unit, GBytes *importer, Watch *watch)
{
  g_autoptr (TkeAuditEntry) entry =
      tke_audit_entry_new (watch->id, watch->kind, "importer-key", TKE_JOURNAL_OUTCOME_OK);
  g_autofree char *detail =
      g_strdup_printf (_ ("Crypto unit %u: importer key made and verified against the unit root."),
                       tke_crypto_unit_get_number (unit));

  tke_audit_entry_set_detail (entry, detail);
  tke_audit_entry_set_importer_key (entry, unit, importer);
  append_or_warn (watch, entry);
}

static void
on_part_sealed (
    TkeCeremony *ceremony, guint part, guint n_parts, TkeKeyPartSource *source, Watch *watch)
{
  g_autoptr (TkeAuditEntry) entry =
      tke_audit_entry_new (watch->id, watch->kind, "part-sealed", TKE_JOURNAL_OUTCOME_OK);
  g_autofree char *detail = g_strdup_printf (
      _ ("Key part %u of %u sealed to the importer key of every crypto unit."), part, n_parts);

  tke_audit_entry_set_detail (entry, detail);
  tke_audit_entry_add_key_part (entry, part, n_parts, tke_key_part_source_get_description (source),
                                tke_key_part_source_get_check_value (source));
  append_or_warn (watch, entry);
}

static void
connect_ceremony (gpointer ceremony, gpointer watch)
{
  g_signal_connect (ceremony, "importer-key", G_CALLBACK (on_importer_key), watch);
  g_signal_connect (ceremony, "part-sealed", G_CALLBACK (on_part_sealed), watch);
  g_signal_connect (ceremony, "progress", G_CALLBACK (on_ceremony_progress), watch);
  g_signal_connect (ceremony, "unit-done", G_CALLBACK (on_ceremony_unit_done), watch);
}

static Watch *
ceremony_begin_entry (TkeAuditTrail *self, TkeCeremony *ceremony, TkeAuditEntry **entry)
{
  g_autoptr (GPtrArray) units = g_ptr_array_new_with_free_func (g_object_unref);
  guint n_parts;
  Watch *watch;

  for (guint i = 0; i < _tke_ceremony_n_units (ceremony); i++)
    g_ptr_array_add (units, g_object_ref (_tke_ceremony_unit_at (ceremony, i)));
  watch = watch_new (self, G_OBJECT (ceremony), kind_nick (ceremony->kind), units);
  watch->connect = connect_ceremony;
  *entry = begin_entry (watch, ceremony->client);
  add_signers (*entry, ceremony->signers);
  watch_signers (watch, ceremony->signers);
  n_parts = tke_ceremony_get_n_key_parts (ceremony);
  for (guint i = 0; ceremony->parts != NULL && i < ceremony->parts->len; i++)
    tke_audit_entry_add_key_part (*entry, i + 1, n_parts,
                                  tke_key_part_source_get_description (ceremony->parts->pdata[i]),
                                  tke_key_part_source_get_check_value (ceremony->parts->pdata[i]));
  add_units (*entry, units);
  return watch;
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
 * until tke_audit_trail_end_ceremony().  Blocks until the first record is
 * on disk: a main loop uses tke_audit_trail_begin_ceremony_async().
 *
 * Returns: %TRUE if the first record is written; a ceremony that cannot
 *   be recorded should not start
 */
gboolean
tke_audit_trail_begin_ceremony (TkeAuditTrail *self, TkeCeremony *ceremony, GError **error)
{
  g_autoptr (TkeAuditEntry) entry = NULL;
  Watch *watch;

  g_return_val_if_fail (TKE_IS_AUDIT_TRAIL (self), FALSE);
  g_return_val_if_fail (TKE_IS_CEREMONY (ceremony), FALSE);

  watch = ceremony_begin_entry (self, ceremony, &entry);
  return begin_now (watch, entry, error);
}

/**
 * tke_audit_trail_begin_ceremony_async:
 * @self: the ceremony record
 * @ceremony: a ceremony with its arguments, about to run
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the first record is written, or not
 * @user_data: data for @callback
 *
 * As tke_audit_trail_begin_ceremony(), with the first record written on
 * the trail's writer thread.  The ceremony's state is read now; it should
 * not start before tke_audit_trail_begin_finish() says the record
 * is written.
 */
void
tke_audit_trail_begin_ceremony_async (TkeAuditTrail *self,
                                      TkeCeremony *ceremony,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  g_autoptr (TkeAuditEntry) entry = NULL;
  Watch *watch;

  g_return_if_fail (TKE_IS_AUDIT_TRAIL (self));
  g_return_if_fail (TKE_IS_CEREMONY (ceremony));

  watch = ceremony_begin_entry (self, ceremony, &entry);
  begin_later (watch, entry, tke_audit_trail_begin_ceremony_async, cancellable, callback,
               user_data);
}

/* The watch of @object, to end, and its last record's entry; or NULL,
 * with @task returned, if nothing watches it. */
static Watch *
end_watch (
    TkeAuditTrail *self, gpointer object, const GError *failure, GTask *task, TkeAuditEntry **entry)
{
  Watch *watch = take_watch (self, object);

  if (watch == NULL)
    {
      if (task != NULL)
        g_task_return_boolean (task, TRUE);
      g_clear_object (&task);
      return NULL;
    }
  *entry = tke_audit_entry_new (watch->id, watch->kind, TKE_JOURNAL_STEP_END, outcome_of (failure));
  return watch;
}

static void
end_write (Watch *watch, const GError *failure, TkeAuditEntry *entry, GTask *task)
{
  finish (watch, failure, entry, task != NULL ? g_task_get_cancellable (task) : NULL,
          task != NULL ? on_end_written : NULL, task);
  watch_free (watch);
}

static void
end_ceremony (TkeAuditTrail *self, TkeCeremony *ceremony, const GError *failure, GTask *task)
{
  g_autoptr (TkeAuditEntry) entry = NULL;
  Watch *watch = end_watch (self, ceremony, failure, task, &entry);

  if (watch != NULL)
    end_write (watch, failure, entry, task);
}

/**
 * tke_audit_trail_end_ceremony:
 * @self: the ceremony record
 * @ceremony: a ceremony begun with tke_audit_trail_begin_ceremony()
 * @failure: (nullable): how it failed, or %NULL if it succeeded
 *
 * Writes the ceremony's last record: its outcome, what failed, and every
 * unit's signed state now.  Blocks until every record of it is on disk (a
 * failure is a warning): a main loop uses tke_audit_trail_end_ceremony_async().
 */
void
tke_audit_trail_end_ceremony (TkeAuditTrail *self, TkeCeremony *ceremony, const GError *failure)
{
  g_return_if_fail (TKE_IS_AUDIT_TRAIL (self));
  g_return_if_fail (TKE_IS_CEREMONY (ceremony));

  end_ceremony (self, ceremony, failure, NULL);
  _tke_audit_trail_wait (self);
}

/**
 * tke_audit_trail_end_ceremony_async:
 * @self: the ceremony record
 * @ceremony: a ceremony begun with tke_audit_trail_begin_ceremony_async()
 * @failure: (nullable): how it failed, or %NULL if it succeeded
 * @cancellable: (nullable): a #GCancellable
 * @callback: (nullable): called when the last record is written, or not
 * @user_data: data for @callback
 *
 * As tke_audit_trail_end_ceremony(), on the trail's writer thread.  The
 * units' state is read now.
 */
void
tke_audit_trail_end_ceremony_async (TkeAuditTrail *self,
                                    TkeCeremony *ceremony,
                                    const GError *failure,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  GTask *task;

  g_return_if_fail (TKE_IS_AUDIT_TRAIL (self));
  g_return_if_fail (TKE_IS_CEREMONY (ceremony));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tke_audit_trail_end_ceremony_async);
  end_ceremony (self, ceremony, failure, task);
}

/**
 * tke_audit_trail_end_finish:
 * @self: the ceremony record
 * @result: the result given to the callback of
 *   tke_audit_trail_end_ceremony_async() or tke_audit_trail_end_rotation_async()
 * @error: return location for a #GError
 *
 * Finishes the writing of a ceremony's or rotation's last record.
 *
 * Returns: %TRUE if the last record is written
 */
gboolean
tke_audit_trail_end_finish (TkeAuditTrail *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
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

static void
connect_rotation (gpointer rotation, gpointer watch)
{
  g_signal_connect (rotation, "message", G_CALLBACK (on_rotation_message), watch);
  g_signal_connect (rotation, "unit-done", G_CALLBACK (on_rotation_unit_done), watch);
}

static Watch *
rotation_begin_entry (TkeAuditTrail *self,
                      TkeRotation *rotation,
                      const char *kind,
                      TkeAuditEntry **entry)
{
  Watch *watch = watch_new (self, G_OBJECT (rotation), kind, rotation->units);

  watch->connect = connect_rotation;
  *entry = begin_entry (watch, rotation->client);
  add_signers (*entry, rotation->signers);
  watch_signers (watch, rotation->signers);
  add_units (*entry, rotation->units);
  return watch;
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
 * each unit's set immediate, until tke_audit_trail_end_rotation().  Blocks
 * until the first record is on disk: a main loop uses
 * tke_audit_trail_begin_rotation_async().
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

  watch = rotation_begin_entry (self, rotation, kind, &entry);
  return begin_now (watch, entry, error);
}

/**
 * tke_audit_trail_begin_rotation_async:
 * @self: the ceremony record
 * @rotation: a rotation about to run, or to recover
 * @kind: "rotate" or "recover"
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the first record is written, or not
 * @user_data: data for @callback
 *
 * As tke_audit_trail_begin_rotation(), with the first record written on
 * the trail's writer thread; finish with
 * tke_audit_trail_begin_finish() before the rotation starts.
 */
void
tke_audit_trail_begin_rotation_async (TkeAuditTrail *self,
                                      TkeRotation *rotation,
                                      const char *kind,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  g_autoptr (TkeAuditEntry) entry = NULL;
  Watch *watch;

  g_return_if_fail (TKE_IS_AUDIT_TRAIL (self));
  g_return_if_fail (TKE_IS_ROTATION (rotation));
  g_return_if_fail (kind != NULL);

  watch = rotation_begin_entry (self, rotation, kind, &entry);
  begin_later (watch, entry, tke_audit_trail_begin_rotation_async, cancellable, callback,
               user_data);
}

/**
 * tke_audit_trail_begin_finish:
 * @self: the ceremony record
 * @result: the result given to the callback of
 *   tke_audit_trail_begin_ceremony_async() or tke_audit_trail_begin_rotation_async()
 * @error: return location for a #GError
 *
 * Finishes the writing of a ceremony's or rotation's first record.
 *
 * Returns: %TRUE if the first record is written; a ceremony or rotation
 *   that cannot be recorded should not start
 */
gboolean
tke_audit_trail_begin_finish (TkeAuditTrail *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
end_rotation (TkeAuditTrail *self, TkeRotation *rotation, const GError *failure, GTask *task)
{
  g_autoptr (TkeAuditEntry) entry = NULL;
  Watch *watch = end_watch (self, rotation, failure, task, &entry);

  if (watch == NULL)
    return;
  if (tke_rotation_has_advice (rotation))
    {
      GEnumClass *klass = g_type_class_ref (TKE_TYPE_RECOVERY_ACTION);
      GEnumValue *value = g_enum_get_value (klass, tke_rotation_get_advice (rotation));

      tke_audit_entry_set_advice (entry, value != NULL ? value->value_nick : "unknown",
                                  tke_rotation_get_advice_explanation (rotation));
      g_type_class_unref (klass);
    }
  end_write (watch, failure, entry, task);
}

/**
 * tke_audit_trail_end_rotation:
 * @self: the ceremony record
 * @rotation: a rotation begun with tke_audit_trail_begin_rotation()
 * @failure: (nullable): how it failed, or %NULL if it succeeded
 *
 * Writes the rotation's last record: its outcome, the recovery advice (the
 * action and why), and every unit's signed state now.  Blocks until every
 * record of it is on disk (a failure is a warning).
 */
void
tke_audit_trail_end_rotation (TkeAuditTrail *self, TkeRotation *rotation, const GError *failure)
{
  g_return_if_fail (TKE_IS_AUDIT_TRAIL (self));
  g_return_if_fail (TKE_IS_ROTATION (rotation));

  end_rotation (self, rotation, failure, NULL);
  _tke_audit_trail_wait (self);
}

/**
 * tke_audit_trail_end_rotation_async:
 * @self: the ceremony record
 * @rotation: a rotation begun with tke_audit_trail_begin_rotation_async()
 * @failure: (nullable): how it failed, or %NULL if it succeeded
 * @cancellable: (nullable): a #GCancellable
 * @callback: (nullable): called when the last record is written, or not;
 *   finish with tke_audit_trail_end_finish()
 * @user_data: data for @callback
 *
 * As tke_audit_trail_end_rotation(), on the trail's writer thread.
 */
void
tke_audit_trail_end_rotation_async (TkeAuditTrail *self,
                                    TkeRotation *rotation,
                                    const GError *failure,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  GTask *task;

  g_return_if_fail (TKE_IS_AUDIT_TRAIL (self));
  g_return_if_fail (TKE_IS_ROTATION (rotation));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tke_audit_trail_end_rotation_async);
  end_rotation (self, rotation, failure, task);
}

/**
 * tke_audit_trail_dup_ceremony_id:
 * @self: the ceremony record
 * @ceremony: a #TkeCeremony or #TkeRotation being recorded: after its
 *   first record is written, until its last is asked for
 *
 * The id its records carry, for tke_ceremony_report_new_from_trail():
 * a front end takes it before it ends the ceremony, to offer its report.
 *
 * Returns: (transfer full) (nullable): the id, or %NULL if @ceremony is
 *   not being recorded
 */
char *
tke_audit_trail_dup_ceremony_id (TkeAuditTrail *self, gpointer ceremony)
{
  Watch *watch;

  g_return_val_if_fail (TKE_IS_AUDIT_TRAIL (self), NULL);
  g_return_val_if_fail (G_IS_OBJECT (ceremony), NULL);

  watch = g_hash_table_lookup (_tke_audit_trail_get_watches (self), ceremony);
  return watch != NULL ? g_strdup (watch->id) : NULL;
}

/* ---- TkeAutoCeremony ---------------------------------------------------- */

static void
on_auto_step (TkeAutoCeremony *ceremony, const char *text, Watch *watch)
{
  g_autoptr (TkeAuditEntry) entry =
      tke_audit_entry_new (watch->id, watch->kind, "step", TKE_JOURNAL_OUTCOME_BEGIN);

  tke_audit_entry_set_detail (entry, text);
  append_or_warn (watch, entry);
}

static void
connect_auto (gpointer ceremony, gpointer watch)
{
  g_signal_connect (ceremony, "step", G_CALLBACK (on_auto_step), watch);
}

static GPtrArray *
auto_units (TkeAutoCeremony *ceremony)
{
  GListModel *all = tke_service_instance_get_units (ceremony->instance);
  GPtrArray *units = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < g_list_model_get_n_items (all); i++)
    g_ptr_array_add (units, g_list_model_get_item (all, i));
  return units;
}

static Watch *
auto_begin_entry (TkeAuditTrail *self, TkeAutoCeremony *ceremony, TkeAuditEntry **entry)
{
  g_autoptr (GPtrArray) units = auto_units (ceremony);
  Watch *watch =
      watch_new (self, G_OBJECT (ceremony), tke_auto_kind_get_name (ceremony->kind), units);

  watch->connect = connect_auto;
  *entry = begin_entry (watch, ceremony->client);
  add_signers (*entry, ceremony->signers);
  watch_signers (watch, ceremony->signers);
  add_units (*entry, units);
  return watch;
}

/**
 * tke_audit_trail_begin_auto:
 * @self: the ceremony record
 * @ceremony: a recovery-unit ceremony with its signers, about to run
 * @error: return location for a #GError
 *
 * Writes the first record of an auto-init, auto-mk-rotate, auto-recover
 * or failover-enable (the administrators who sign, the unit root and every
 * unit's signed state), then one record per step line, until
 * tke_audit_trail_end_auto().  Blocks until the first record is on disk:
 * a main loop uses tke_audit_trail_begin_auto_async().
 *
 * Returns: %TRUE if the first record is written
 */
gboolean
tke_audit_trail_begin_auto (TkeAuditTrail *self, TkeAutoCeremony *ceremony, GError **error)
{
  g_autoptr (TkeAuditEntry) entry = NULL;
  Watch *watch;

  g_return_val_if_fail (TKE_IS_AUDIT_TRAIL (self), FALSE);
  g_return_val_if_fail (TKE_IS_AUTO_CEREMONY (ceremony), FALSE);

  watch = auto_begin_entry (self, ceremony, &entry);
  return begin_now (watch, entry, error);
}

/**
 * tke_audit_trail_begin_auto_async:
 * @self: the ceremony record
 * @ceremony: a recovery-unit ceremony about to run
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the first record is written, or not
 * @user_data: data for @callback
 *
 * As tke_audit_trail_begin_auto(), on the trail's writer thread; finish
 * with tke_audit_trail_begin_finish() before the ceremony starts.
 */
void
tke_audit_trail_begin_auto_async (TkeAuditTrail *self,
                                  TkeAutoCeremony *ceremony,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_autoptr (TkeAuditEntry) entry = NULL;
  Watch *watch;

  g_return_if_fail (TKE_IS_AUDIT_TRAIL (self));
  g_return_if_fail (TKE_IS_AUTO_CEREMONY (ceremony));

  watch = auto_begin_entry (self, ceremony, &entry);
  begin_later (watch, entry, tke_audit_trail_begin_auto_async, cancellable, callback, user_data);
}

static void
end_auto (TkeAuditTrail *self, TkeAutoCeremony *ceremony, const GError *failure, GTask *task)
{
  g_autoptr (TkeAuditEntry) entry = NULL;
  Watch *watch = end_watch (self, ceremony, failure, task, &entry);

  if (watch == NULL)
    return;
  if (tke_auto_ceremony_get_advice_explanation (ceremony) != NULL)
    {
      GEnumClass *klass = g_type_class_ref (TKE_TYPE_RECOVERY_ACTION);
      GEnumValue *value = g_enum_get_value (klass, tke_auto_ceremony_get_advice (ceremony));

      tke_audit_entry_set_advice (entry, value != NULL ? value->value_nick : "unknown",
                                  tke_auto_ceremony_get_advice_explanation (ceremony));
      g_type_class_unref (klass);
    }
  /* failover-enable added units: the last record shows them too. */
  g_ptr_array_unref (watch->units);
  watch->units = auto_units (ceremony);
  end_write (watch, failure, entry, task);
}

/**
 * tke_audit_trail_end_auto:
 * @self: the ceremony record
 * @ceremony: a ceremony begun with tke_audit_trail_begin_auto()
 * @failure: (nullable): how it failed, or %NULL if it succeeded
 *
 * Writes the last record: the outcome, the advice after a failure, and
 * every unit's signed state now (failover units included).  Blocks until
 * every record of it is on disk (a failure is a warning).
 */
void
tke_audit_trail_end_auto (TkeAuditTrail *self, TkeAutoCeremony *ceremony, const GError *failure)
{
  g_return_if_fail (TKE_IS_AUDIT_TRAIL (self));
  g_return_if_fail (TKE_IS_AUTO_CEREMONY (ceremony));

  end_auto (self, ceremony, failure, NULL);
  _tke_audit_trail_wait (self);
}

/**
 * tke_audit_trail_end_auto_async:
 * @self: the ceremony record
 * @ceremony: a ceremony begun with tke_audit_trail_begin_auto_async()
 * @failure: (nullable): how it failed, or %NULL if it succeeded
 * @cancellable: (nullable): a #GCancellable
 * @callback: (nullable): called when the last record is written, or not;
 *   finish with tke_audit_trail_end_finish()
 * @user_data: data for @callback
 *
 * As tke_audit_trail_end_auto(), on the trail's writer thread.
 */
void
tke_audit_trail_end_auto_async (TkeAuditTrail *self,
                                TkeAutoCeremony *ceremony,
                                const GError *failure,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  GTask *task;

  g_return_if_fail (TKE_IS_AUDIT_TRAIL (self));
  g_return_if_fail (TKE_IS_AUTO_CEREMONY (ceremony));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tke_audit_trail_end_auto_async);
  end_auto (self, ceremony, failure, task);
}

void
_tke_audit_watch_free (gpointer watch)
{
  watch_free (watch);
}
