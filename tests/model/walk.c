/* walk.c: the model suite's seeded random walk over every ceremony of an
 * instance, compared with the model after every step (issue 13)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The walk runs against the real tke-emulator over TLS, through libtke's
 * TkeCeremony, TkeRotation and tke_ceremony_why_not(), and for a sample of
 * the steps through the tke CLI.  At every step it picks an operation:
 * load 2 or 3 parts (now and then a part repeated), commit, clear the new
 * register, clear a unit's current register (and set it up again), rotate
 * (with or without a fault: the rewrap failing after some keys, set
 * immediate failing on one unit, the service killed during the rewrap,
 * 20 % of the answers HTTP 500, every token expiring during the rewrap),
 * set immediate, select or deselect a unit, zeroize a unit and set it up
 * again with the instance's key (first activation), and RewrapKeyBlob of
 * a GREP11 blob, a commit with the administrator card pulled out of its
 * reader half-way (cards.c), and auto-mk-rotate: a random key from the
 * recovery unit, then its rotation, now and then with the rewrap failing
 * (auto.c); a unit that loses a random key takes it back from the
 * recovery unit (auto-recover); failover-enable adds FAILOVER units (the
 * instance has 3 to 5 units, and every later operation takes them), and a
 * walk from an instance in imprint mode starts with auto-init
 * (failover.c).  The model says whether the operation is
 * allowed; libtke (and the CLI) must say the same, and when it is allowed the walk runs it
 * and compares every unit's registers, the service's messages in order,
 * the keystore (every root key unwraps, all under one key) and the blobs
 * with the model.  After a fault it follows libtke's advice until the
 * rotation is done; an advice that is then refused is a divergence.  A
 * divergence fails with the seed and the shortest step sequence that
 * shows it (shrink.c), as a --replay file and as C for a regression test.
 *
 * TKE_MODEL_SEED (default: the fixed seeds below) and TKE_MODEL_STEPS
 * (default 620 per seed, 1 860 in all, and a sixth of a seed's from imprint
 * mode) set the run; tests/bench/model-soak runs many seeds.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "model-private.h"

const char *const op_names[N_OPS] = {
  "load",
  "load-repeated-part",
  "commit",
  "clear-new",
  "clear-current-and-set-up-again",
  "rotate",
  "rotate+rewrap-fails",
  "rotate+setimm-fails",
  "rotate+kill",
  "rotate+http-500",
  "rotate+token-expires",
  "set-immediate",
  "toggle",
  "zeroize-and-set-up-again",
  "rewrap-key-blob",
  "commit+card-pulled",
  "auto-mk-rotate",
  "failover-enable",
  "auto-init",
};

const char *const op_enum_names[N_OPS] = {
  "OP_LOAD",
  "OP_LOAD_REPEATED",
  "OP_COMMIT",
  "OP_CLEAR_NEW",
  "OP_CLEAR_CURRENT",
  "OP_ROTATE",
  "OP_ROTATE_FAIL_REWRAP",
  "OP_ROTATE_FAIL_SETIMM",
  "OP_ROTATE_KILL",
  "OP_ROTATE_HTTP_500",
  "OP_ROTATE_TOKEN_EXPIRY",
  "OP_SET_IMMEDIATE",
  "OP_TOGGLE",
  "OP_RESET_UNIT",
  "OP_REWRAP_BLOB",
  "OP_COMMIT_CARD_PULLED",
  "OP_AUTO_MK_ROTATE",
  "OP_FAILOVER_ENABLE",
  "OP_AUTO_INIT",
};

/* Which operations the walk picks how often (out of the sum). */
static const guint op_weights[N_OPS] = { 8, 2, 8, 2, 1, 6, 2, 2, 2, 2, 2, 1, 2, 1, 3, 2, 2, 1, 1 };

/* TKE_MODEL_SELFTEST_BUG: the model forgets that clear new empties the
 * register, so that the shrinker's own test has a divergence to find. */
gboolean
selftest_bug (void)
{
  return g_getenv ("TKE_MODEL_SELFTEST_BUG") != NULL;
}

void
connect_client (Walk *w)
{
  g_autoptr (TkeSecret) api_key =
      tke_secret_new_from_data ((const guint8 *) w->f.emu->api_key, strlen (w->f.emu->api_key));
  g_autoptr (GAsyncResult) login = NULL, listed = NULL;
  g_autoptr (GError) error = NULL;

  g_clear_object (&w->client);
  g_clear_object (&w->instance);
  w->client = tke_service_client_new (w->f.emu->url, w->f.emu->ca_file);
  tke_service_client_set_unit_root (w->client, w->f.emu->unit_root);
  /* With answers failing on purpose, as often as it takes. */
  for (guint attempt = 0; attempt < 50; attempt++)
    {
      g_clear_object (&login);
      g_clear_error (&error);
      tke_service_client_login_async (w->client, api_key, NULL, on_done, &login);
      wait_for (&login);
      if (tke_service_client_login_finish (w->client, login, &error))
        break;
    }
  g_assert_no_error (error);
  for (guint attempt = 0; attempt < 50 && w->instance == NULL; attempt++)
    {
      g_clear_object (&listed);
      g_clear_error (&error);
      tke_service_client_list_units_async (w->client, NULL, on_done, &listed);
      wait_for (&listed);
      w->instance = tke_service_client_list_units_finish (w->client, listed, &error);
    }
  g_assert_no_error (error);
  if (g_list_model_get_n_items (tke_service_instance_get_units (w->instance)) != w->model.n_units)
    diverge (w, "libtke lists %u units, the model has %u",
             g_list_model_get_n_items (tke_service_instance_get_units (w->instance)),
             w->model.n_units);
  for (guint i = 0; i < w->model.n_units; i++)
    tke_crypto_unit_set_selected (unit_at (w, i), w->model.units[i].selected);
}

void
restart (Walk *w, const char *fault, const char *value)
{
  const char *const args[] = { "--faults-file", w->faults_file, fault, value, NULL };

  rot_restart (&w->f, args);
  connect_client (w);
  w->cli_logged_in = FALSE;
}

gboolean
run_ceremony (Walk *w, TkeCeremony *ceremony, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  tke_ceremony_set_signers (ceremony, w->signers);
  tke_ceremony_run_async (ceremony, NULL, on_done, &result);
  wait_for (&result);
  return tke_ceremony_run_finish (ceremony, result, error);
}

static void
run_or_diverge (Walk *w, TkeCeremony *ceremony, const char *what)
{
  g_autoptr (GError) error = NULL;

  if (!run_ceremony (w, ceremony, &error))
    diverge (w, "%s failed: %s", what, error->message);
}

/* ---- The operations ---- */

static TkeSecret *
xor_all (GPtrArray *parts)
{
  TkeSecret *key = tke_secret_ref (TEST_PART (parts->pdata[0])->value);

  for (guint i = 1; i < parts->len; i++)
    {
      TkeSecret *sum = tke_crypto_xor (key, TEST_PART (parts->pdata[i])->value, NULL);

      tke_secret_unref (key);
      key = sum;
    }
  return key;
}

static void
op_load (Walk *w, const Step *s)
{
  gboolean repeated = s->op == OP_LOAD_REPEATED;
  guint n = CLAMP (s->n, 2, 3);
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (TkeSecret) key = NULL;
  g_autoptr (GListStore) selected = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *vp = NULL;
  gboolean allowed = check_allowed (w, TKE_CEREMONY_LOAD, "load");

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeSecret) value = repeated && i == n - 1
                                        ? tke_secret_ref (TEST_PART (parts->pdata[0])->value)
                                        : tke_secret_new_random (32, NULL);

      g_ptr_array_add (parts, test_part_new (value, i + 1));
    }
  if (s->cli && all_selected (w) && !repeated)
    {
      g_string_append (w->steps, "      through the tke CLI\n");
      cli_load (w, parts, allowed);
      if (!allowed)
        return;
    }
  else
    {
      if (!allowed)
        return;
      selected = selected_units (w);
      ceremony = tke_ceremony_new (w->client, TKE_CEREMONY_LOAD, G_LIST_MODEL (selected));
      tke_ceremony_set_key_parts (ceremony, parts);
      if (run_ceremony (w, ceremony, &error) == repeated)
        diverge (w, "load with %s parts: %s", repeated ? "a repeated part" : "distinct",
                 error != NULL ? error->message : "accepted");
      if (repeated)
        {
          if (!g_error_matches (error, TKE_ERROR, TKE_ERROR_REPEATED_KEY_PART))
            diverge (w, "a repeated part refused for another reason: %s", error->message);
          return;
        }
    }
  key = xor_all (parts);
  vp = vp_of (key);
  {
    GPtrArray *values = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_secret_unref);

    for (guint i = 0; i < parts->len; i++)
      g_ptr_array_add (values, tke_secret_ref (TEST_PART (parts->pdata[i])->value));
    g_hash_table_replace (w->parts_by_vp, g_strdup (vp), values);
  }
  for (guint i = 0; i < w->model.n_units; i++)
    if (w->model.units[i].selected)
      {
        w->model.units[i].new_state = TKE_NEW_REGISTER_FULL_UNCOMMITTED;
        g_free (w->model.units[i].new_vp);
        w->model.units[i].new_vp = g_strdup (vp);
      }
}

void
op_register (Walk *w, TkeCeremonyKind kind, const char *name, gboolean cli)
{
  g_autoptr (GListStore) selected = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (GError) error = NULL;
  gboolean allowed = check_allowed (w, kind, name);

  if (cli && all_selected (w))
    {
      g_string_append (w->steps, "      through the tke CLI\n");
      cli_register (w, kind, allowed);
    }
  else if (allowed)
    {
      selected = selected_units (w);
      ceremony = tke_ceremony_new (w->client, kind, G_LIST_MODEL (selected));
      if (!run_ceremony (w, ceremony, &error))
        diverge (w, "%s allowed but failed: %s", name, error->message);
    }
  if (allowed)
    model_apply (w, kind);
}

/* Only unit @u selected (the others' selection is saved in @saved). */
static void
select_only (Walk *w, guint u, gboolean *saved)
{
  for (guint i = 0; i < w->model.n_units; i++)
    {
      saved[i] = w->model.units[i].selected;
      w->model.units[i].selected = i == u;
      tke_crypto_unit_set_selected (unit_at (w, i), i == u);
    }
}

static void
select_again (Walk *w, const gboolean *saved)
{
  for (guint i = 0; i < w->model.n_units; i++)
    {
      w->model.units[i].selected = saved[i];
      tke_crypto_unit_set_selected (unit_at (w, i), saved[i]);
    }
}

/* Unit @u (the only one selected), current register empty, takes the
 * instance's key from its parts: load, commit, and Set immediate as its
 * first activation (issue 13: it was stuck after any completed rotation). */
static void
take_instance_key (Walk *w, guint u)
{
  GPtrArray *values = g_hash_table_lookup (w->parts_by_vp, w->model.storage_vp);
  g_autoptr (GListStore) selected = selected_units (w);
  g_autoptr (TkeCeremony) load =
      tke_ceremony_new (w->client, TKE_CEREMONY_LOAD, G_LIST_MODEL (selected));
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_object_unref);
  ModelUnit *m = &w->model.units[u];

  if (m->new_state != TKE_NEW_REGISTER_EMPTY)
    op_register (w, TKE_CEREMONY_CLEAR_NEW, "clear new before the set-up", FALSE);
  if (values == NULL)
    {
      /* A random key (auto-mk-rotate): nobody has its parts. */
      g_string_append (w->steps, "      the key back from the recovery unit\n");
      auto_recover_unit (w, u);
      return;
    }
  if (!check_allowed (w, TKE_CEREMONY_LOAD, "load on the unit set up again"))
    diverge (w, "load refused on the unit set up again");
  for (guint i = 0; i < values->len; i++)
    g_ptr_array_add (parts, test_part_new (values->pdata[i], i + 1));
  tke_ceremony_set_key_parts (load, parts);
  run_or_diverge (w, load, "load the instance's key");
  m->new_state = TKE_NEW_REGISTER_FULL_UNCOMMITTED;
  m->new_vp = g_strdup (w->model.storage_vp);
  op_register (w, TKE_CEREMONY_COMMIT, "commit on the unit set up again", FALSE);
  if (!model_allows (w, TKE_CEREMONY_SET_IMMEDIATE))
    diverge (w, "the model refuses the first activation");
  op_register (w, TKE_CEREMONY_SET_IMMEDIATE, "first activation", FALSE);
}

/* One unit zeroized and set up again as the administrators would: its
 * administrators, its thresholds, then the instance's key. */
static void
op_reset_unit (Walk *w, const Step *s)
{
  guint u = s->unit % w->model.n_units;
  gboolean saved[MAX_UNITS];
  ModelUnit *m = &w->model.units[u];
  g_autoptr (GListStore) selected = NULL;
  g_autoptr (TkeCeremony) zeroize = NULL, thresholds = NULL;
  g_autofree char *reason = NULL;

  if (!model_can_restore_key (w, u))
    {
      g_string_append (w->steps, "      (neither the key's parts nor a recovery unit can give "
                                 "it back)\n");
      return;
    }
  g_string_append_printf (w->steps, "      unit %u\n", u + 1);
  select_only (w, u, saved);
  selected = selected_units (w);
  zeroize = tke_ceremony_new (w->client, TKE_CEREMONY_ZEROIZE, G_LIST_MODEL (selected));
  run_or_diverge (w, zeroize, "zeroize");
  m->new_state = TKE_NEW_REGISTER_EMPTY;
  g_clear_pointer (&m->new_vp, g_free);
  m->current_state = TKE_CURRENT_REGISTER_EMPTY;
  g_free (m->current_vp);
  m->current_vp = g_strdup (TKE_EMPTY_VP);
  compare (w);
  reason =
      tke_ceremony_why_not (TKE_CEREMONY_LOAD, G_LIST_MODEL (selected),
                            tke_service_instance_get_units (w->instance), TKE_RECOVERY_ACTION_NONE);
  if (reason == NULL || strstr (reason, "imprint mode") == NULL)
    diverge (w, "load on a unit in imprint mode: %s", reason ? reason : "allowed");
  for (guint i = 0; i < w->signers->len; i++)
    {
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (GBytes) point = NULL;
      g_autoptr (TkeCeremony) add =
          tke_ceremony_new (w->client, TKE_CEREMONY_ADD_ADMIN, G_LIST_MODEL (selected));

      tke_signer_get_public_key_async (w->signers->pdata[i], NULL, on_done, &result);
      wait_for (&result);
      point = tke_signer_get_public_key_finish (w->signers->pdata[i], result, NULL);
      g_assert_nonnull (point);
      tke_ceremony_set_new_administrator (add, tke_signer_get_name (w->signers->pdata[i]), point);
      run_or_diverge (w, add, "add admin");
    }
  cards_add_admin (w, G_LIST_MODEL (selected));
  thresholds = tke_ceremony_new (w->client, TKE_CEREMONY_SET_THRESHOLDS, G_LIST_MODEL (selected));
  tke_ceremony_set_thresholds (thresholds, 2, 1);
  run_or_diverge (w, thresholds, "set thresholds");
  take_instance_key (w, u);
  w->n_resets++;
  select_again (w, saved);
}

/* One unit's current register cleared (1 signature), then the unit set up
 * again with the instance's key: its administrators stay. */
static void
op_clear_current (Walk *w, const Step *s)
{
  guint u = s->unit % w->model.n_units;
  gboolean saved[MAX_UNITS];

  if (!model_can_restore_key (w, u))
    {
      g_string_append (w->steps, "      (neither the key's parts nor a recovery unit can give "
                                 "it back)\n");
      return;
    }
  g_string_append_printf (w->steps, "      unit %u\n", u + 1);
  select_only (w, u, saved);
  op_register (w, TKE_CEREMONY_CLEAR_CURRENT, op_names[OP_CLEAR_CURRENT], FALSE);
  compare (w);
  /* Nothing else may run on it now: rotate and load need a current key
   * (load not: it needs empty new registers, which it may have). */
  if (check_allowed (w, TKE_CEREMONY_ROTATE, "rotate a unit without a current key"))
    diverge (w, "rotation allowed on a unit without a current key");
  take_instance_key (w, u);
  w->n_resets++;
  select_again (w, saved);
}

static void
op_toggle (Walk *w, const Step *s)
{
  guint i = s->unit % w->model.n_units;

  w->model.units[i].selected = !w->model.units[i].selected;
  tke_crypto_unit_set_selected (unit_at (w, i), w->model.units[i].selected);
  g_string_append_printf (w->steps, "      unit %u %s\n", i + 1,
                          w->model.units[i].selected ? "selected" : "deselected");
}

/* A GREP11 blob made under the instance's key, kept by the walk. */
static Blob *
new_blob (Walk *w)
{
  g_autoptr (JsonObject) made = emu_call_ok (w->f.emu, "POST", "/v1/grep11/generate", "{}", 200);
  Blob *blob = g_new0 (Blob, 1);

  blob->base64 = g_strdup (json_object_get_string_member (made, "blob"));
  blob->check_value = g_strdup (json_object_get_string_member (made, "check_value"));
  blob->vp = g_strdup (w->model.storage_vp);
  if (w->blobs->len == N_BLOBS)
    g_ptr_array_remove_index (w->blobs, 0);
  g_ptr_array_add (w->blobs, blob);
  return blob;
}

/* RewrapKeyBlob through libtke: a blob under the current key comes back
 * under the committed new one, with the same key in it. */
static void
op_rewrap_blob (Walk *w)
{
  gboolean allowed = model_allows_blob_rewrap (w);
  Blob *blob = new_blob (w);
  g_autoptr (GBytes) bytes = NULL, rewrapped = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  guchar *data;
  gsize size;

  data = g_base64_decode (blob->base64, &size);
  bytes = g_bytes_new_take (data, size);
  tke_service_client_rewrap_key_blob_async (w->client, bytes, NULL, on_done, &result);
  wait_for (&result);
  rewrapped = tke_service_client_rewrap_key_blob_finish (w->client, result, &error);
  if (allowed != (rewrapped != NULL))
    diverge (w, "RewrapKeyBlob: the model says %s, the service %s", allowed ? "allowed" : "refused",
             error != NULL ? error->message : "rewrapped");
  if (!allowed)
    {
      w->n_refused++;
      return;
    }
  blob = g_new0 (Blob, 1);
  blob->base64 = g_base64_encode (g_bytes_get_data (rewrapped, NULL), g_bytes_get_size (rewrapped));
  blob->check_value = g_strdup (((Blob *) w->blobs->pdata[w->blobs->len - 1])->check_value);
  blob->vp = g_strdup (w->model.units[0].new_vp); /* unit 1 is operational */
  g_ptr_array_add (w->blobs, blob);
  if (w->blobs->len > N_BLOBS)
    g_ptr_array_remove_index (w->blobs, 0);
  w->n_blobs_rewrapped++;
}

/* ---- One step ---- */

static gboolean
op_allowed (Walk *w, Op op)
{
  switch (op)
    {
    case OP_LOAD:
    case OP_LOAD_REPEATED:
      return model_allows (w, TKE_CEREMONY_LOAD);
    case OP_COMMIT:
    case OP_COMMIT_CARD_PULLED:
      return model_allows (w, TKE_CEREMONY_COMMIT);
    case OP_CLEAR_NEW:
      return model_allows (w, TKE_CEREMONY_CLEAR_NEW);
    case OP_SET_IMMEDIATE:
      return model_allows (w, TKE_CEREMONY_SET_IMMEDIATE);
    case OP_ROTATE:
    case OP_ROTATE_FAIL_REWRAP:
    case OP_ROTATE_FAIL_SETIMM:
    case OP_ROTATE_KILL:
    case OP_ROTATE_HTTP_500:
    case OP_ROTATE_TOKEN_EXPIRY:
      return model_allows (w, TKE_CEREMONY_ROTATE);
    case OP_RESET_UNIT:
    case OP_CLEAR_CURRENT:
      /* Administrators set a unit up again in a quiet moment, between
       * ceremonies: with the new registers empty. */
      for (guint i = 0; i < w->model.n_units; i++)
        if (w->model.units[i].new_state != TKE_NEW_REGISTER_EMPTY)
          return FALSE;
      return model_can_restore_key (w, 0); /* unit 1: operational */
    case OP_AUTO_MK_ROTATE:
      return model_allows_auto_rotate (w);
    case OP_FAILOVER_ENABLE:
      return model_allows_failover (w);
    case OP_AUTO_INIT:
      return model_allows_auto_init (w);
    case OP_REWRAP_BLOB:
      return model_allows_blob_rewrap (w);
    case OP_TOGGLE:
    case N_OPS:
    default:
      return TRUE;
    }
}

/* Three steps in four are what an administrator who knows the rules
 * would do (an operation the model allows); the fourth is any operation,
 * so that refusals are compared too.  Every choice is made here, so that
 * the step replays alone. */
static Step
pick (Walk *w)
{
  gboolean sensible = g_rand_int_range (w->rand, 0, 4) > 0;
  guint total = 0, at;
  Step s = { N_OPS, 0, 0, FALSE };

  for (guint i = 0; i < N_OPS; i++)
    if (!sensible || op_allowed (w, i))
      total += op_weights[i];
  at = g_rand_int_range (w->rand, 0, total);
  for (guint i = 0; i < N_OPS && s.op == N_OPS; i++)
    {
      if (sensible && !op_allowed (w, i))
        continue;
      if (at < op_weights[i])
        s.op = i;
      else
        at -= op_weights[i];
    }
  s.n = s.op == OP_LOAD || s.op == OP_LOAD_REPEATED ? (guint) g_rand_int_range (w->rand, 2, 4)
                                                    : (guint) g_rand_int_range (w->rand, 1, N_KEYS);
  s.unit = g_rand_int_range (w->rand, 0, w->model.n_units);
  /* Administrators mostly work on the whole instance: a deselected unit
   * is selected again more often than a selected one is left out. */
  if (s.op == OP_TOGGLE)
    for (guint j = 0; j < w->model.n_units; j++)
      if (!w->model.units[j].selected && g_rand_int_range (w->rand, 0, 4) > 0)
        s.unit = j;
  /* A sample through the tke CLI: a load there is 3 or 4 processes. */
  s.cli = g_rand_int_range (w->rand, 0, s.op == OP_ROTATE ? 3 : s.op == OP_LOAD ? 8 : 4) == 0;
  return s;
}

void
walk_run_step (Walk *w, const Step *s)
{
  gint64 started = g_get_monotonic_time ();

  w->n_steps++;
  w->n_by_op[s->op]++;
  g_array_append_val (w->trail, *s);
  g_string_append_printf (w->steps, "  %u. %s\n", w->n_steps, op_names[s->op]);
  /* The blobs are checked after what changes a current register or them. */
  w->blobs_dirty =
      s->op >= OP_CLEAR_CURRENT && s->op != OP_TOGGLE && s->op != OP_COMMIT_CARD_PULLED;
  switch (s->op)
    {
    case OP_LOAD:
    case OP_LOAD_REPEATED:
      op_load (w, s);
      break;
    case OP_COMMIT:
      op_register (w, TKE_CEREMONY_COMMIT, op_names[s->op], s->cli);
      break;
    case OP_CLEAR_NEW:
      op_register (w, TKE_CEREMONY_CLEAR_NEW, op_names[s->op], FALSE);
      break;
    case OP_SET_IMMEDIATE:
      op_register (w, TKE_CEREMONY_SET_IMMEDIATE, op_names[s->op], s->cli);
      break;
    case OP_CLEAR_CURRENT:
      op_clear_current (w, s);
      break;
    case OP_ROTATE:
    case OP_ROTATE_FAIL_REWRAP:
    case OP_ROTATE_FAIL_SETIMM:
    case OP_ROTATE_KILL:
    case OP_ROTATE_HTTP_500:
    case OP_ROTATE_TOKEN_EXPIRY:
      op_rotate (w, s);
      break;
    case OP_RESET_UNIT:
      op_reset_unit (w, s);
      break;
    case OP_REWRAP_BLOB:
      op_rewrap_blob (w);
      break;
    case OP_COMMIT_CARD_PULLED:
      op_commit_card_pulled (w, s);
      break;
    case OP_AUTO_MK_ROTATE:
      op_auto_rotate (w, s);
      break;
    case OP_FAILOVER_ENABLE:
      op_failover_enable (w, s);
      break;
    case OP_AUTO_INIT:
      op_auto_init (w, s);
      break;
    case OP_TOGGLE:
    case N_OPS:
    default:
      op_toggle (w, s);
      break;
    }
  compare (w);
  w->us_by_op[s->op] += g_get_monotonic_time () - started;
}

/* ---- A walk ---- */

static TkeSigner *
demo_signer (Walk *w, guint index, const char *password)
{
  g_autofree char *name = g_strdup_printf ("admin%u.sigkey", index);
  g_autofree char *path = g_build_filename (w->f.state, name, NULL);
  g_autoptr (TkeSignatureKeyFile) file = tke_signature_key_file_load (path, NULL);
  g_autoptr (TkeSecret) secret =
      tke_secret_new_from_data ((const guint8 *) password, strlen (password));

  g_assert_nonnull (file);
  return TKE_SIGNER (tke_file_signer_new (file, secret));
}

/* A fresh demo instance: its units start on one key, new registers empty;
 * with @imprint every unit is in imprint mode, without a key (auto-init). */
void
walk_init (Walk *w, guint32 seed, gboolean imprint)
{
  g_autofree char *faults_dir = g_dir_make_tmp ("tke-model-XXXXXX", NULL);

  w->seed = seed;
  w->rand = g_rand_new_with_seed (seed);
  w->steps = g_string_new (NULL);
  w->trail = g_array_new (FALSE, FALSE, sizeof (Step));
  w->faults_file = g_build_filename (faults_dir, "faults.ini", NULL);
  w->parts_by_vp =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  w->blobs = g_ptr_array_new_with_free_func ((GDestroyNotify) blob_free);
  w->next_keynum = 1;
  w->imprint = imprint;
  if (imprint)
    start_imprint (w);
  else
    {
      const char *const args[] = { "--faults-file", w->faults_file, NULL };

      rot_start (&w->f, N_KEYS, args);
    }
  w->model.n_units = DEMO_UNITS;
  for (guint i = 0; i < w->model.n_units; i++)
    w->model.units[i].selected = TRUE;
  connect_client (w);
  w->signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (w->signers, demo_signer (w, 1, w->f.pw1));
  g_ptr_array_add (w->signers, demo_signer (w, 2, w->f.pw2));
  if (!imprint)
    cards_init (w); /* else once auto-init set the units up */
  refresh_all (w);
  for (guint i = 0; i < w->model.n_units; i++)
    {
      ModelUnit *m = &w->model.units[i];

      m->current_state = imprint ? TKE_CURRENT_REGISTER_EMPTY : TKE_CURRENT_REGISTER_VALID;
      m->current_vp = g_strdup (imprint ? TKE_EMPTY_VP
                                        : tke_crypto_unit_get_current_register_vp (unit_at (w, i)));
      m->new_state = TKE_NEW_REGISTER_EMPTY;
      m->imprint = imprint;
      /* The demo's layout: units 1 and 2 operational, 3 recovery. */
      m->type = i == 2 ? TKE_CRYPTO_UNIT_TYPE_RECOVERY : TKE_CRYPTO_UNIT_TYPE_OPERATIONAL;
    }
  w->model.storage_vp = imprint ? NULL : g_strdup (w->model.units[0].current_vp);
  w->model.n_keys = imprint ? 0 : N_KEYS;
  compare (w);
}

void
walk_clear (Walk *w)
{
  g_autofree char *faults_dir = g_path_get_dirname (w->faults_file);

  model_clear (&w->model);
  cards_clear (w);
  g_clear_pointer (&w->parts_by_vp, g_hash_table_unref);
  g_clear_pointer (&w->signers, g_ptr_array_unref);
  g_clear_pointer (&w->blobs, g_ptr_array_unref);
  g_clear_object (&w->client);
  g_clear_object (&w->instance);
  rot_stop (&w->f);
  g_unlink (w->faults_file);
  g_rmdir (faults_dir);
  g_free (w->faults_file);
  g_string_free (w->steps, TRUE);
  g_array_unref (w->trail);
  g_rand_free (w->rand);
}

static void
report (Walk *w)
{
  g_autoptr (GString) ops = g_string_new (NULL);

  if (g_getenv ("TKE_MODEL_TRACE") != NULL)
    g_test_message ("steps:\n%s", w->steps->str);
  for (guint i = 0; i < N_OPS; i++)
    g_string_append_printf (ops, "%s%s %u (%.1f s)", i ? ", " : "", op_names[i], w->n_by_op[i],
                            w->us_by_op[i] / 1e6);
  g_test_message ("seed %u operations: %s", w->seed, ops->str);
  g_test_message ("seed %u: %u steps, %u rotations (%u through the CLI), %u faults, %u units set "
                  "up again (%u from the recovery unit), %u failover units added (%u units at "
                  "the end), %u blobs rewrapped, %u steps through the CLI, %u refusals agreed, "
                  "0 keys lost",
                  w->seed, w->n_steps, w->n_rotations, w->n_cli_rotations, w->n_faults, w->n_resets,
                  w->n_auto_recovered, w->n_failover_added, w->model.n_units, w->n_blobs_rewrapped,
                  w->n_cli, w->n_refused);
  /* For tests/bench/model-soak.sh. */
  g_test_message ("soak seed=%u steps=%u rotations=%u cli_rotations=%u faults=%u rewrap=%u "
                  "setimm=%u kill=%u http500=%u token=%u card=%u setups=%u blobs=%u "
                  "cli_steps=%u refusals=%u keys_lost=0",
                  w->seed, w->n_steps, w->n_rotations, w->n_cli_rotations, w->n_faults,
                  w->n_faults_by_op[OP_ROTATE_FAIL_REWRAP],
                  w->n_faults_by_op[OP_ROTATE_FAIL_SETIMM], w->n_faults_by_op[OP_ROTATE_KILL],
                  w->n_faults_by_op[OP_ROTATE_HTTP_500], w->n_faults_by_op[OP_ROTATE_TOKEN_EXPIRY],
                  w->n_faults_by_op[OP_COMMIT_CARD_PULLED], w->n_resets, w->n_blobs_rewrapped,
                  w->n_cli, w->n_refused);
}

/* A walk from imprint mode starts with auto-init (odd seeds through the
 * tke CLI), then goes on as any. */
static void
walk (guint32 seed, guint n_steps, gboolean imprint)
{
  Walk w = { 0 };

  walk_init (&w, seed, imprint);
  for (guint i = 0; i < n_steps; i++)
    {
      Step s = pick (&w);

      if (i == 0 && imprint)
        s = (Step){ OP_AUTO_INIT, 0, 0, seed % 2 == 1 };
      walk_run_step (&w, &s);
    }
  report (&w);
  walk_clear (&w);
}

static guint
n_steps (void)
{
  const char *text = g_getenv ("TKE_MODEL_STEPS");

  return text != NULL ? (guint) atoi (text) : 620;
}

static void
test_seed (gconstpointer data)
{
  walk (GPOINTER_TO_UINT (data), n_steps (), FALSE);
}

/* From --init imprint: auto-init first (issue 16); fewer steps, the seeds
 * walk the rest. */
static void
test_auto_init (void)
{
  const char *seed = g_getenv ("TKE_MODEL_SEED");

  walk (seed != NULL ? (guint32) atoll (seed) : 5, MAX (n_steps () / 6, 1), TRUE);
}

static void
replay (const Step *steps, guint n)
{
  Walk w = { 0 };

  walk_init (&w, 0, n > 0 && steps[0].op == OP_AUTO_INIT);
  for (guint i = 0; i < n; i++)
    walk_run_step (&w, &steps[i]);
  report (&w);
  walk_clear (&w);
}

/* A hand-written sequence in the shrinker's format: a token expiring
 * during the rewrap, RewrapKeyBlob before the rotation, a current register
 * cleared and set up again after it, CLI steps. */
static void
test_replay_example (void)
{
  static const Step steps[] = {
    { OP_LOAD, 2, 0, FALSE },          { OP_COMMIT, 0, 0, TRUE },
    { OP_REWRAP_BLOB, 0, 0, FALSE },   { OP_ROTATE_TOKEN_EXPIRY, 30, 0, FALSE },
    { OP_CLEAR_CURRENT, 0, 1, FALSE }, { OP_LOAD, 3, 0, TRUE },
    { OP_COMMIT, 0, 0, FALSE },        { OP_ROTATE, 0, 0, TRUE },
  };

  replay (steps, G_N_ELEMENTS (steps));
}

/* Found by the soak (seed 1000, step 152), shrunk: RewrapKeyBlob with the
 * recovery unit deselected and its new register empty.  The service
 * rewraps (the operational units are committed, as service-protocol.md §8
 * says); the model wanted the recovery unit committed too. */
static void
test_regression_blob_recovery (void)
{
  static const Step steps[] = {
    { OP_TOGGLE, 0, 2, FALSE },
    { OP_LOAD, 2, 0, FALSE },
    { OP_COMMIT, 0, 0, FALSE },
    { OP_REWRAP_BLOB, 0, 0, FALSE },
  };

  replay (steps, G_N_ELEMENTS (steps));
}

/* Found by the model suite (a seed's step 552): the card pulled after
 * the last of 2 selected units, then Cancel.  The ceremony says cancelled
 * although both units took the commit; the walk expected more to resume. */
static void
test_regression_card_last (void)
{
  static const Step steps[] = {
    { OP_TOGGLE, 0, 0, FALSE },
    { OP_LOAD, 2, 0, FALSE },
    { OP_COMMIT_CARD_PULLED, 57, 2, FALSE },
    /* Seed 2026, step 551: unit 1 selected again with the same key, the
     * card pulled after 2 of 3 units, Cancel: the units it passed over
     * had the commit before, nothing is left to resume. */
    { OP_TOGGLE, 0, 0, FALSE },
    { OP_CLEAR_NEW, 0, 0, FALSE },
    { OP_LOAD, 2, 0, FALSE },
    { OP_TOGGLE, 0, 0, FALSE },
    { OP_COMMIT_CARD_PULLED, 57, 2, FALSE },
    { OP_TOGGLE, 0, 0, FALSE },
    { OP_COMMIT_CARD_PULLED, 57, 2, FALSE },
  };

  replay (steps, G_N_ELEMENTS (steps));
}

/* failover-enable through libtke (total 1; a total of 1 again adds none)
 * and the CLI (total 2), then what every operation does with the failover
 * units: a load, commit and rotation through the CLI, a failover unit
 * zeroized and set up again, auto-mk-rotate, a failover unit's current
 * register cleared (its key back from the recovery unit), a third
 * failover-enable refused, RewrapKeyBlob, set immediate failing on unit 5. */
static void
test_replay_failover (void)
{
  static const Step steps[] = {
    { OP_FAILOVER_ENABLE, 0, 0, FALSE },
    { OP_FAILOVER_ENABLE, 2, 0, FALSE },
    { OP_LOAD, 2, 0, TRUE },
    { OP_COMMIT, 0, 0, TRUE },
    { OP_ROTATE, 0, 0, TRUE },
    { OP_FAILOVER_ENABLE, 1, 0, TRUE },
    { OP_RESET_UNIT, 0, 3, FALSE },
    { OP_AUTO_MK_ROTATE, 1, 0, FALSE },
    { OP_CLEAR_CURRENT, 0, 4, FALSE },
    { OP_FAILOVER_ENABLE, 1, 0, FALSE },
    { OP_LOAD, 3, 0, FALSE },
    { OP_COMMIT, 0, 0, FALSE },
    { OP_REWRAP_BLOB, 0, 0, FALSE },
    { OP_ROTATE_FAIL_SETIMM, 0, 4, FALSE },
  };

  replay (steps, G_N_ELEMENTS (steps));
}

/* auto-init through libtke from imprint mode, a failover unit, a unit
 * zeroized (the key from the recovery unit: nobody has its parts), a
 * second auto-init refused. */
static void
test_replay_auto_init (void)
{
  static const Step steps[] = {
    { OP_AUTO_INIT, 0, 0, FALSE },  { OP_FAILOVER_ENABLE, 0, 0, FALSE },
    { OP_RESET_UNIT, 0, 1, FALSE }, { OP_CLEAR_CURRENT, 0, 3, FALSE },
    { OP_AUTO_INIT, 0, 0, FALSE },  { OP_LOAD, 2, 0, FALSE },
    { OP_COMMIT, 0, 0, FALSE },     { OP_ROTATE, 0, 0, FALSE },
  };

  replay (steps, G_N_ELEMENTS (steps));
}

void add_shrink_tests (void);

int
main (int argc, char **argv)
{
  static const guint32 seeds[] = { 1, 13, 2026 };
  const char *seed = g_getenv ("TKE_MODEL_SEED");
  int status;

  if (argc == 3 && g_str_equal (argv[1], "--replay"))
    return shrink_replay_main (argv[2]);
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < N_OPS; i++)
    g_assert_true (op_names[i] != NULL && op_enum_names[i] != NULL);
  g_test_add_func ("/model/replay-example", test_replay_example);
  g_test_add_func ("/model/regression/blob-rewrap-recovery-unit", test_regression_blob_recovery);
  g_test_add_func ("/model/regression/card-pulled-after-last-unit", test_regression_card_last);
  g_test_add_func ("/model/replay-failover", test_replay_failover);
  g_test_add_func ("/model/replay-auto-init", test_replay_auto_init);
  g_test_add_func ("/model/auto-init", test_auto_init);
  if (seed != NULL)
    g_test_add_data_func ("/model/seed", GUINT_TO_POINTER ((guint32) atoll (seed)), test_seed);
  else
    for (gsize i = 0; i < G_N_ELEMENTS (seeds); i++)
      {
        g_autofree char *path = g_strdup_printf ("/model/seed-%u", seeds[i]);

        g_test_add_data_func (path, GUINT_TO_POINTER (seeds[i]), test_seed);
      }
  add_shrink_tests ();
  status = g_test_run ();
  cards_stop ();
  return status;
}
