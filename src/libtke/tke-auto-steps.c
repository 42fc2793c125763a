/* tke-auto-steps.c: the steps of the recovery-unit path, in a worker thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each step is one of the service client's async calls, awaited on the
 * worker's own main context, so that the ceremony reads as the sequence
 * of the plug-in's step lines.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-auto-ceremony-private.h"
#include "tke-card.h"
#include "tke-crypto-unit-private.h"
#include "tke-error.h"
#include "tke-importer-proof-private.h"
#include "tke-json-private.h"
#include "tke-service-client-private.h"
#include "tke-signer.h"

typedef struct
{
  TkeAutoCeremony *self;
  /* The worker's own copy of the instance, read at the start: the units
   * the caller gave are never touched off its thread. */
  TkeServiceInstance *instance;
  GMainContext *context;
  GCancellable *cancellable;
  GAsyncResult *result;
} Run;

static void
await_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;

  run->result = g_object_ref (result);
}

/* Waits for the call just started with await_done; the caller takes the result. */
static GAsyncResult *
await (Run *run)
{
  while (run->result == NULL)
    g_main_context_iteration (run->context, TRUE);
  return g_steal_pointer (&run->result);
}

static GPtrArray *
units_where (TkeServiceInstance *instance, gboolean recovery)
{
  GListModel *all = tke_service_instance_get_units (instance);
  GPtrArray *units = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < g_list_model_get_n_items (all); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (all, i);

      if ((tke_crypto_unit_get_unit_type (unit) == TKE_CRYPTO_UNIT_TYPE_RECOVERY) == recovery)
        g_ptr_array_add (units, g_object_ref (unit));
    }
  return units;
}

static gboolean
refresh (Run *run, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  tke_service_client_refresh_units_async (run->self->client,
                                          tke_service_instance_get_units (run->instance),
                                          run->cancellable, await_done, run);
  result = await (run);
  return tke_service_client_refresh_units_finish (run->self->client, result, error);
}

static JsonObject *
command (Run *run, TkeCryptoUnit *unit, const char *name, JsonNode *args, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  _tke_service_client_command_async (run->self->client, unit, name, args, NULL, run->self->signers,
                                     command, run->cancellable, await_done, run);
  result = await (run);
  return _tke_service_client_command_finish (run->self->client, result, error);
}

static gboolean
is_administrator (TkeCryptoUnit *unit, const char *ski)
{
  GListModel *admins = tke_crypto_unit_get_administrators (unit);

  for (guint i = 0; admins != NULL && i < g_list_model_get_n_items (admins); i++)
    {
      g_autoptr (TkeAdministrator) admin = g_list_model_get_item (admins, i);

      if (g_ascii_strcasecmp (tke_administrator_get_ski (admin), ski) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Installs the signers as administrators of @unit (in imprint mode), then
 * sets the thresholds, which leaves imprint mode.  A signer installed by an
 * earlier run that stopped before the thresholds (a PIN cancelled on the
 * pad) stays as it is: the run goes on from there. */
static gboolean
set_up_unit (Run *run, TkeCryptoUnit *unit, guint sig, guint rev, GError **error)
{
  TkeAutoCeremony *self = run->self;

  for (guint i = 0; self->signers != NULL && i < self->signers->len; i++)
    {
      TkeSigner *signer = self->signers->pdata[i];
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (GBytes) point = NULL;
      g_autofree char *hex = NULL;

      tke_signer_get_public_key_async (signer, run->cancellable, await_done, run);
      result = await (run);
      if ((point = tke_signer_get_public_key_finish (signer, result, error)) == NULL)
        return FALSE;
      g_clear_object (&result);
      {
        g_autofree char *ski = tke_card_public_key_ski (point);

        if (ski != NULL && is_administrator (unit, ski))
          continue;
      }
      tke_service_client_add_admin_async (self->client, unit, tke_signer_get_name (signer), point,
                                          NULL, run->cancellable, await_done, run);
      result = await (run);
      hex = tke_service_client_add_admin_finish (self->client, result, error);
      if (hex == NULL)
        return FALSE;
    }
  {
    g_autoptr (GAsyncResult) result = NULL;

    tke_service_client_set_thresholds_async (self->client, unit, sig, rev, self->signers,
                                             run->cancellable, await_done, run);
    result = await (run);
    return tke_service_client_set_thresholds_finish (self->client, result, error);
  }
}

/* Copies @source's @register ("new" or "current") into @target's new
 * register: the target makes an importer key, the source seals its key to
 * it (after checking the importer certificate), the target opens it. */
static gboolean
transfer (Run *run,
          TkeCryptoUnit *source,
          TkeCryptoUnit *target,
          const char *which,
          const char *vp,
          GError **error)
{
  TkeAutoCeremony *self = run->self;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GBytes) point = NULL;
  g_autoptr (TkeImporterProof) proof = NULL;
  g_autoptr (JsonObject) exported = NULL;
  g_autoptr (JsonNode) args = NULL;
  g_autofree char *certificate = NULL;
  const char *sealed, *mkvp, *named_target;

  tke_service_client_generate_importer_key_async (self->client, target, self->signers,
                                                  run->cancellable, await_done, run);
  result = await (run);
  if ((point = tke_service_client_generate_importer_key_finish (self->client, result, error)) ==
      NULL)
    return FALSE;
  /* Only an importer key the target's certified device key signed. */
  if ((proof = _tke_importer_proof_lookup (point)) == NULL ||
      g_strcmp0 (proof->hsm_id, tke_crypto_unit_get_hsm_id (target)) != 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC,
                   _ ("Crypto unit %u: its importer key is not certified by the unit."),
                   tke_crypto_unit_get_number (target));
      return FALSE;
    }
  certificate = g_base64_encode (g_bytes_get_data (proof->importer_certificate, NULL),
                                 g_bytes_get_size (proof->importer_certificate));
  args = _tke_service_string_args ("register", which, "target_hsm_id",
                                   tke_crypto_unit_get_hsm_id (target), "importer_certificate",
                                   certificate, NULL);
  if ((exported = command (run, source, "export_key", args, error)) == NULL ||
      (sealed = _tke_service_get_string (exported, "sealed", error)) == NULL ||
      (mkvp = _tke_service_get_vp (exported, "mkvp", error)) == NULL ||
      (named_target = _tke_service_get_string (exported, "target_hsm_id", error)) == NULL)
    return FALSE;
  /* The recovery unit's signed answer names the key and the target. */
  if (g_ascii_strcasecmp (mkvp, vp) != 0 ||
      !g_str_equal (named_target, tke_crypto_unit_get_hsm_id (target)))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC,
                   _ ("Crypto unit %u exported another key or for another unit than asked."),
                   tke_crypto_unit_get_number (source));
      return FALSE;
    }
  g_clear_pointer (&args, json_node_unref);
  args = _tke_service_string_args ("sealed", sealed, "source_hsm_id",
                                   tke_crypto_unit_get_hsm_id (source), "mkvp", mkvp, NULL);
  {
    g_autoptr (JsonObject) imported = command (run, target, "import_key", args, error);
    const char *new_vp;

    if (imported == NULL || (new_vp = _tke_service_get_vp (imported, "new_mkvp", error)) == NULL)
      return FALSE;
    if (g_ascii_strcasecmp (new_vp, vp) != 0)
      {
        g_set_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC,
                     _ ("Crypto unit %u imported another key than the recovery unit sent."),
                     tke_crypto_unit_get_number (target));
        return FALSE;
      }
  }
  return TRUE;
}

static gboolean
set_immediate (Run *run, TkeCryptoUnit *unit, const char *vp, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  tke_service_client_set_immediate_async (run->self->client, unit, vp, run->self->signers,
                                          run->cancellable, await_done, run);
  result = await (run);
  return tke_service_client_set_immediate_finish (run->self->client, result, error);
}

static TkeCryptoUnit *
first_recovery_unit (Run *run, gboolean with_current, GError **error)
{
  g_autoptr (GPtrArray) recovery = units_where (run->instance, TRUE);

  for (guint i = 0; i < recovery->len; i++)
    {
      TkeCryptoUnit *unit = recovery->pdata[i];

      if (!with_current ||
          tke_crypto_unit_get_current_register_state (unit) == TKE_CURRENT_REGISTER_VALID)
        return g_object_ref (unit);
    }
  g_set_error_literal (error, TKE_ERROR, TKE_ERROR_PRECHECK_FAILED,
                       with_current
                           ? _ ("No recovery crypto unit holds a current master key.")
                           : _ ("The service instance has no recovery crypto unit: use key parts "
                                "(cryptounit-mk-load) instead."));
  return NULL;
}

/* A random key in @source's new register, copied to every other unit's;
 * returns its VP. */
static char *
generate_and_copy (Run *run, TkeCryptoUnit *source, GError **error)
{
  g_autoptr (JsonObject) made = NULL;
  g_autoptr (JsonNode) args = _tke_service_string_args (NULL);
  GListModel *all = tke_service_instance_get_units (run->instance);
  g_autofree char *vp = NULL;
  guint n = g_list_model_get_n_items (all), done = 0;
  const char *made_vp;

  _tke_auto_step (run->self, _ ("Generating a random master key value...."));
  if ((made = command (run, source, "generate_random_key", args, error)) == NULL ||
      (made_vp = _tke_service_get_vp (made, "new_mkvp", error)) == NULL)
    return NULL;
  vp = g_strdup (made_vp);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (all, i);

      if (unit == source)
        continue;
      _tke_auto_step (run->self,
                      _ ("Transferring the master key value to %u of %u crypto units...."), ++done,
                      n - 1);
      if (!transfer (run, source, unit, "new", vp, error))
        return NULL;
    }
  return g_steal_pointer (&vp);
}

static gboolean
set_immediate_everywhere (Run *run, const char *vp, GError **error)
{
  GListModel *all = tke_service_instance_get_units (run->instance);

  for (guint i = 0; i < g_list_model_get_n_items (all); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (all, i);

      if (!set_immediate (run, unit, vp, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
run_init (Run *run, GError **error)
{
  TkeAutoCeremony *self = run->self;
  GListModel *all = tke_service_instance_get_units (run->instance);
  guint n_admins = self->signers != NULL ? self->signers->len : 0;
  g_autoptr (TkeCryptoUnit) source = NULL;
  g_autofree char *vp = NULL;
  guint blocker = 0;

  if (n_admins < MAX (self->signature_threshold, self->revocation_threshold))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("%u administrators cannot meet thresholds of %u and %u."), n_admins,
                   self->signature_threshold, self->revocation_threshold);
      return FALSE;
    }
  if ((source = first_recovery_unit (run, FALSE, error)) == NULL)
    return FALSE;
  if (!_tke_auto_init_allowed (all, &blocker))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_PRECHECK_FAILED,
                   _ ("Crypto unit %u is not in imprint mode: auto-init initializes a new "
                      "service instance (zeroize it first)."),
                   blocker);
      return FALSE;
    }
  for (guint i = 0; i < n_admins; i++)
    _tke_auto_step (self, _ ("Installing %u of %u administrators...."), i + 1, n_admins);
  _tke_auto_step (self, _ ("Setting signature thresholds...."));
  for (guint i = 0; i < g_list_model_get_n_items (all); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (all, i);

      /* Set up by an earlier run that stopped before its key. */
      if (!tke_crypto_unit_get_imprint_mode (unit))
        continue;
      if (!set_up_unit (run, unit, self->signature_threshold, self->revocation_threshold, error))
        {
          g_clear_pointer (&self->advice_explanation, g_free);
          self->advice_explanation =
              g_strdup (_ ("No master key was made yet. Run the initialization again: it keeps the "
                           "administrators and thresholds set so far and goes on from there."));
          return FALSE;
        }
    }
  if (!refresh (run, error) || (vp = generate_and_copy (run, source, error)) == NULL)
    return FALSE;
  return set_immediate_everywhere (run, vp, error) && refresh (run, error);
}

static gboolean
refuse_rerun (Run *run, GError **error)
{
  TkeAutoCeremony *self = run->self;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeRotationStatus) status = NULL;
  g_autoptr (GPtrArray) units = units_where (run->instance, FALSE);
  g_autofree char *delayed = _tke_auto_delayed_to_vp (self->journal);
  TkeRecoveryAction action;

  tke_service_client_get_rotation_status_async (self->client, run->cancellable, await_done, run);
  result = await (run);
  if ((status = tke_service_client_get_rotation_status_finish (self->client, result, error)) ==
      NULL)
    return FALSE;
  g_clear_pointer (&self->advice_explanation, g_free);
  action = tke_recovery_advise_auto_rotate (units, status, delayed, &self->advice_explanation);
  if (action == TKE_RECOVERY_ACTION_NONE || action == TKE_RECOVERY_ACTION_ROTATE)
    {
      g_clear_pointer (&self->advice_explanation, g_free);
      /* A delay record the advice passed over is an old one: its case
       * ended (the rotation finished, or its key left the new registers). */
      return delayed == NULL || _tke_auto_journal_close_delay (
                                    self->journal, tke_service_instance_get_id (run->instance),
                                    delayed, "no longer pending", error);
    }
  self->advice = action;
  g_set_error (error, TKE_ERROR, TKE_ERROR_NOT_ALLOWED,
               _ ("auto-mk-rotate must not run again now: %s"), self->advice_explanation);
  return FALSE;
}

static gboolean
run_rotate (Run *run, GError **error)
{
  TkeAutoCeremony *self = run->self;
  g_autoptr (TkeCryptoUnit) source = NULL;
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  g_autofree char *vp = NULL;

  if (!refuse_rerun (run, error) || (source = first_recovery_unit (run, TRUE, error)) == NULL)
    return FALSE;
  if (_tke_crypto_unit_get_pkcs11_keystores (source))
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_NOT_ALLOWED,
                           _ ("The service instance has PKCS#11 keystores: auto-mk-rotate is not "
                              "allowed. Rotate with key parts (cryptounit-mk-load, "
                              "cryptounit-mk-commit, cryptounit-mk-rotate)."));
      return FALSE;
    }
  if ((vp = generate_and_copy (run, source, error)) == NULL)
    {
      g_clear_pointer (&self->advice_explanation, g_free);
      self->advice = TKE_RECOVERY_ACTION_ROTATE;
      self->advice_explanation = g_strdup (
          _ ("The key storage was not touched: run auto-mk-rotate again (a new random master "
             "key replaces the new registers)."));
      return FALSE;
    }
  for (guint i = 0; i < g_list_model_get_n_items (tke_service_instance_get_units (run->instance));
       i++)
    g_ptr_array_add (all,
                     g_list_model_get_item (tke_service_instance_get_units (run->instance), i));
  g_ptr_array_set_free_func (all, g_object_unref);
  /* From here on only cryptounit-mk-rotate may go on: recorded before the line. */
  if (!tke_journal_begin (self->journal, TKE_AUTO_JOURNAL_KIND_ROTATE,
                          tke_service_instance_get_id (run->instance), all,
                          tke_crypto_unit_get_current_register_vp (source), vp, error) ||
      !tke_journal_append (self->journal, TKE_AUTO_JOURNAL_STEP_DELAY, TKE_JOURNAL_OUTCOME_BEGIN,
                           vp, error))
    return FALSE;
  _tke_auto_step (self, "%s", TKE_AUTO_DELAY_MESSAGE);
  if (self->delay_ms > 0)
    g_usleep ((gulong) self->delay_ms * 1000);
  return refresh (run, error);
}

static gboolean
run_recover (Run *run, GPtrArray *targets, GError **error)
{
  g_autoptr (TkeCryptoUnit) source = first_recovery_unit (run, TRUE, error);
  const char *vp;
  guint n = 0, done = 0;

  if (source == NULL)
    return FALSE;
  vp = tke_crypto_unit_get_current_register_vp (source);
  for (guint i = 0; i < targets->len; i++)
    n += tke_crypto_unit_get_current_register_state (targets->pdata[i]) ==
         TKE_CURRENT_REGISTER_EMPTY;
  if (n == 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_PRECHECK_FAILED,
                           _ ("No crypto unit lost its master key: every current register is "
                              "Valid."));
      return FALSE;
    }
  for (guint i = 0; i < targets->len; i++)
    {
      TkeCryptoUnit *unit = targets->pdata[i];

      if (tke_crypto_unit_get_current_register_state (unit) != TKE_CURRENT_REGISTER_EMPTY)
        continue;
      if (tke_crypto_unit_get_imprint_mode (unit) &&
          !set_up_unit (run, unit, tke_crypto_unit_get_signature_threshold (source),
                        tke_crypto_unit_get_revocation_threshold (source), error))
        return FALSE;
      _tke_auto_step (run->self,
                      _ ("Transferring the master key value to %u of %u crypto units...."), ++done,
                      n);
      if (!transfer (run, source, unit, "current", vp, error) ||
          !set_immediate (run, unit, vp, error))
        return FALSE;
    }
  return refresh (run, error);
}

/* The total when the caller named none: one failover unit more (at most
 * 2), unless a failover-enable stopped before its new units got their
 * key: then it is finished, never doubled. */
static guint
default_failover_total (TkeServiceInstance *instance)
{
  GListModel *all = tke_service_instance_get_units (instance);
  guint n = 0;
  gboolean waiting = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (all); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (all, i);

      if (tke_crypto_unit_get_unit_type (unit) != TKE_CRYPTO_UNIT_TYPE_FAILOVER)
        continue;
      n++;
      waiting |= tke_crypto_unit_get_current_register_state (unit) == TKE_CURRENT_REGISTER_EMPTY;
    }
  return waiting ? n : MIN (n + 1, 2);
}

static gboolean
run_failover (Run *run, GError **error)
{
  TkeAutoCeremony *self = run->self;
  g_autofree char *instance_id = _tke_service_client_dup_instance_id (self->client);
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/failover", instance_id);
  guint total =
      self->failover_total != 0 ? self->failover_total : default_failover_total (run->instance);
  g_autofree char *body_text = g_strdup_printf ("{\"total\": %u}", total);
  g_autoptr (JsonNode) body = json_from_string (body_text, NULL);
  g_autoptr (JsonObject) answer = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeServiceInstance) listed = NULL;
  g_autoptr (GPtrArray) targets = NULL;

  _tke_auto_step (self, _ ("Adding failover crypto units...."));
  answer = _tke_service_client_request_object (self->client, "POST", path, TKE_REQUEST_AUTHORIZED,
                                               body, run->cancellable, error);
  if (answer == NULL)
    return FALSE;
  tke_service_client_list_units_async (self->client, run->cancellable, await_done, run);
  result = await (run);
  if ((listed = tke_service_client_list_units_finish (self->client, result, error)) == NULL)
    return FALSE;
  g_set_object (&run->instance, listed);
  targets = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < g_list_model_get_n_items (tke_service_instance_get_units (listed)); i++)
    {
      g_autoptr (TkeCryptoUnit) unit =
          g_list_model_get_item (tke_service_instance_get_units (listed), i);

      if (tke_crypto_unit_get_unit_type (unit) == TKE_CRYPTO_UNIT_TYPE_FAILOVER &&
          tke_crypto_unit_get_current_register_state (unit) == TKE_CURRENT_REGISTER_EMPTY)
        g_ptr_array_add (targets, g_object_ref (unit));
    }
  if (targets->len == 0)
    return TRUE;
  _tke_auto_step (self, _ ("Initializing %u failover crypto units...."), targets->len);
  return run_recover (run, targets, error);
}

/* Reads the instance's units afresh into the worker's own objects. */
static gboolean
list_units (Run *run, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  tke_service_client_list_units_async (run->self->client, run->cancellable, await_done, run);
  result = await (run);
  run->instance = tke_service_client_list_units_finish (run->self->client, result, error);
  return run->instance != NULL;
}

static gboolean
run_kind (Run *run, GError **error)
{
  switch (run->self->kind)
    {
    case TKE_AUTO_INIT:
      return run_init (run, error);
    case TKE_AUTO_MK_ROTATE:
      return run_rotate (run, error);
    case TKE_AUTO_RECOVER:
      {
        g_autoptr (GPtrArray) targets = units_where (run->instance, FALSE);

        return run_recover (run, targets, error);
      }
    case TKE_AUTO_FAILOVER:
    default:
      return run_failover (run, error);
    }
}

gboolean
_tke_auto_run (TkeAutoCeremony *self,
               GMainContext *context,
               GCancellable *cancellable,
               TkeServiceInstance **instance,
               GError **error)
{
  Run run = { self, NULL, context, cancellable, NULL };
  gboolean ok = list_units (&run, error) && run_kind (&run, error);

  *instance = run.instance;
  return ok;
}
