/* test-model.c: a reference model of a service instance and a seeded random
 * walk over its ceremonies, compared with what libtke reports after every
 * step (issue 13)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The walk runs against the real tke-emulator over TLS, through libtke's
 * TkeCeremony, TkeRotation and tke_ceremony_why_not().  The model is a few
 * lines per operation, written from DESIGN §1 and §5 apart from the code:
 * each unit's two registers (state and VP), the selection, and the key the
 * keystore is wrapped under.  At every step the walk picks an operation:
 * load 2 or 3 parts (now and then a part repeated), commit, clear the new
 * register, rotate (with or without a fault: the rewrap failing after some
 * keys, set immediate failing on one unit, the service killed during the
 * rewrap, 20 % of the answers HTTP 500), set immediate, select or deselect a unit, zeroize a unit
 * and set it up again with the instance's key (first activation).  The model says whether the
 * operation is allowed; libtke must say the same, and when it is allowed the walk runs it and
 * compares every unit's registers, the service's messages in order, and the keystore (every root
 * key unwraps, all under one key) with the model.  After a fault it follows libtke's advice until
 * the rotation is done; an advice that is then refused is a divergence.  A divergence fails with
 * the seed and the steps so far.
 *
 * TKE_MODEL_SEED (default: the fixed seeds below) and TKE_MODEL_STEPS
 * (default 700 per seed, 2 100 in all) set the run; build-aux or a shell loop with more
 * steps makes a soak.
 */

#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "../integration/rotation-fixture.h"

#define N_KEYS 60
#define N_UNITS 3

/* ---- A key part held in the test, sealed with the real crypto --------------- */

#define TEST_TYPE_PART (test_part_get_type ())
G_DECLARE_FINAL_TYPE (TestPart, test_part, TEST, PART, GObject)

struct _TestPart
{
  GObject parent_instance;
  TkeSecret *value;
  char *vp;
  char *description;
};

static void test_part_source_init (TkeKeyPartSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestPart,
                               test_part,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TKE_TYPE_KEY_PART_SOURCE,
                                                      test_part_source_init))

static const char *
part_description (TkeKeyPartSource *source)
{
  return TEST_PART (source)->description;
}

static const char *
part_check_value (TkeKeyPartSource *source)
{
  return TEST_PART (source)->vp;
}

static void
part_seal_async (TkeKeyPartSource *source,
                 GBytes *importer,
                 GBytes *aad,
                 GCancellable *cancellable,
                 GAsyncReadyCallback callback,
                 gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (source, cancellable, callback, user_data);
  g_autoptr (EVP_PKEY) key = NULL;
  GError *error = NULL;
  GBytes *sealed;

  key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (importer, NULL),
                                             g_bytes_get_size (importer), &error);
  if (key == NULL ||
      (sealed = tke_crypto_seal (key, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                                 TEST_PART (source)->value, &error)) == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, sealed, (GDestroyNotify) g_bytes_unref);
}

static GBytes *
part_seal_finish (TkeKeyPartSource *source, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_part_source_init (TkeKeyPartSourceInterface *iface)
{
  iface->get_description = part_description;
  iface->get_check_value = part_check_value;
  iface->seal_async = part_seal_async;
  iface->seal_finish = part_seal_finish;
}

static void
test_part_finalize (GObject *object)
{
  TestPart *self = TEST_PART (object);

  tke_secret_unref (self->value);
  g_free (self->vp);
  g_free (self->description);
  G_OBJECT_CLASS (test_part_parent_class)->finalize (object);
}

static void
test_part_class_init (TestPartClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_part_finalize;
}

static void
test_part_init (TestPart *self)
{
}

static char *
vp_of (const TkeSecret *key)
{
  guint8 vp[TKE_VP_SIZE];

  tke_crypto_verification_pattern (key, vp);
  return tke_crypto_hex_encode (vp, sizeof vp);
}

static TestPart *
test_part_new (TkeSecret *value, guint index)
{
  TestPart *self = g_object_new (TEST_TYPE_PART, NULL);

  self->value = tke_secret_ref (value);
  self->vp = vp_of (value);
  self->description = g_strdup_printf ("model part %u", index);
  return self;
}

/* ---- The model --------------------------------------------------------------- */

typedef struct
{
  TkeNewRegisterState new_state;
  char *new_vp;
  TkeCurrentRegisterState current_state;
  char *current_vp;
  gboolean selected;
} ModelUnit;

typedef struct
{
  ModelUnit units[N_UNITS];
  char *storage_vp; /* the key the keystore is wrapped under */
} Model;

typedef enum
{
  OP_LOAD,
  OP_LOAD_REPEATED,
  OP_COMMIT,
  OP_CLEAR_NEW,
  OP_ROTATE,
  OP_ROTATE_FAIL_REWRAP,
  OP_ROTATE_FAIL_SETIMM,
  OP_ROTATE_KILL,
  OP_ROTATE_HTTP_500,
  OP_SET_IMMEDIATE,
  OP_TOGGLE,
  OP_RESET_UNIT,
  N_OPS
} Op;

static const char *const op_names[N_OPS] = {
  "load",
  "load-repeated-part",
  "commit",
  "clear-new",
  "rotate",
  "rotate+rewrap-fails",
  "rotate+setimm-fails",
  "rotate+kill",
  "rotate+http-500",
  "set-immediate",
  "toggle",
  "zeroize-and-set-up-again",
};

/* Which operations the walk picks how often (out of the sum). */
static const guint op_weights[N_OPS] = { 6, 2, 6, 1, 5, 2, 2, 2, 2, 1, 2, 1 };

typedef struct
{
  RotFixture f;
  GRand *rand;
  guint32 seed;
  GString *steps;
  char *faults_file;
  Model model;
  TkeServiceClient *client;
  TkeServiceInstance *instance;
  GPtrArray *signers;
  GHashTable *parts_by_vp; /* VP → GPtrArray of TkeSecret: the parts of each key loaded */
  guint n_steps, n_faults, n_rotations, n_refused, n_resets;
  guint n_by_op[N_OPS];
  gboolean cli_set_up, cli_logged_in;
  guint n_cli;
} Walk;

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

#define diverge(w, ...) diverge_at ((w), g_strdup_printf (__VA_ARGS__))

static G_NORETURN void
diverge_at (Walk *w, char *what)
{
  g_error ("model divergence: %s\n  seed %u after %u steps; reproduce with TKE_MODEL_SEED=%u "
           "TKE_MODEL_STEPS=%u:\n%s",
           what, w->seed, w->n_steps, w->seed, w->n_steps, w->steps->str);
}

static TkeCryptoUnit *
unit_at (Walk *w, guint i)
{
  g_autoptr (TkeCryptoUnit) unit =
      g_list_model_get_item (tke_service_instance_get_units (w->instance), i);

  return unit; /* the instance keeps it */
}

static GListStore *
selected_units (Walk *w)
{
  GListStore *store = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);

  for (guint i = 0; i < N_UNITS; i++)
    if (w->model.units[i].selected)
      g_list_store_append (store, unit_at (w, i));
  return store;
}

static void
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
  g_assert_cmpuint (g_list_model_get_n_items (tke_service_instance_get_units (w->instance)), ==,
                    N_UNITS);
  for (guint i = 0; i < N_UNITS; i++)
    tke_crypto_unit_set_selected (unit_at (w, i), w->model.units[i].selected);
}

static void
restart (Walk *w, const char *fault, const char *value)
{
  const char *const args[] = { "--faults-file", w->faults_file, fault, value, NULL };

  rot_restart (&w->f, args);
  connect_client (w);
  w->cli_logged_in = FALSE;
}

static void
refresh_all (Walk *w)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  tke_service_client_refresh_units_async (w->client, tke_service_instance_get_units (w->instance),
                                          NULL, on_done, &result);
  wait_for (&result);
  if (!tke_service_client_refresh_units_finish (w->client, result, &error))
    diverge (w, "the units cannot be read: %s", error->message);
}

/* Every unit as libtke reads it equals the model; the keystore is whole. */
static void
compare (Walk *w)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/keystore", w->f.emu->instance);
  g_autoptr (JsonObject) ks = NULL;
  g_autofree char *wkid = NULL;
  JsonObject *by;

  refresh_all (w);
  for (guint i = 0; i < N_UNITS; i++)
    {
      TkeCryptoUnit *unit = unit_at (w, i);
      ModelUnit *m = &w->model.units[i];

      if (tke_crypto_unit_get_new_register_state (unit) != m->new_state ||
          (m->new_state != TKE_NEW_REGISTER_EMPTY &&
           g_strcmp0 (tke_crypto_unit_get_new_register_vp (unit), m->new_vp) != 0))
        diverge (w, "unit %u new register: libtke %s %s, model %s %s", i + 1,
                 tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit)),
                 tke_crypto_unit_get_new_register_vp (unit),
                 tke_new_register_state_to_string (m->new_state), m->new_vp);
      if (tke_crypto_unit_get_current_register_state (unit) != m->current_state ||
          g_strcmp0 (tke_crypto_unit_get_current_register_vp (unit), m->current_vp) != 0)
        diverge (w, "unit %u current register: libtke %s, model %s", i + 1,
                 tke_crypto_unit_get_current_register_vp (unit), m->current_vp);
    }
  ks = emu_call_ok (w->f.emu, "GET", path, NULL, 200);
  by = json_object_get_object_member (ks, "by_wkid");
  wkid = g_strndup (w->model.storage_vp, 32);
  if (json_object_get_int_member (ks, "keys_ok") != N_KEYS ||
      json_object_get_int_member (ks, "keys_failed") != 0 || json_object_get_size (by) != 1 ||
      !json_object_has_member (by, wkid))
    diverge (w, "keystore: %" G_GINT64_FORMAT " of %d keys unwrap, %u wrapping keys, model %s",
             json_object_get_int_member (ks, "keys_ok"), N_KEYS, json_object_get_size (by), wkid);
}

/* ---- What the model allows ------------------------------------------------------ */

static gboolean
model_allows (Walk *w, TkeCeremonyKind kind)
{
  ModelUnit *first = NULL;
  gboolean all_empty = TRUE, all_committed = TRUE, any_new = FALSE;
  gboolean same_new = TRUE, same_current = TRUE, all_current_empty = TRUE;

  for (guint i = 0; i < N_UNITS; i++)
    {
      ModelUnit *m = &w->model.units[i];

      /* Every unit holds the key (the demo's recovery unit too): a
       * rotation must include all of them. */
      if (!m->selected)
        {
          if (kind == TKE_CEREMONY_ROTATE)
            return FALSE;
          continue;
        }
      if (first == NULL)
        first = m;
      all_empty &= m->new_state == TKE_NEW_REGISTER_EMPTY;
      all_committed &= m->new_state == TKE_NEW_REGISTER_FULL_COMMITTED;
      any_new |= m->new_state != TKE_NEW_REGISTER_EMPTY;
      all_current_empty &= m->current_state == TKE_CURRENT_REGISTER_EMPTY;
      same_new &= g_strcmp0 (m->new_vp, first->new_vp) == 0;
      same_current &= g_strcmp0 (m->current_vp, first->current_vp) == 0;
    }
  if (first == NULL)
    return FALSE;
  switch (kind)
    {
    case TKE_CEREMONY_LOAD:
      return all_empty;
    case TKE_CEREMONY_COMMIT:
      {
        /* Units committed with the key the others wait to commit (an
         * earlier commit on part of them) go by. */
        const char *vp = NULL;

        for (guint i = 0; i < N_UNITS; i++)
          if (w->model.units[i].selected &&
              w->model.units[i].new_state == TKE_NEW_REGISTER_FULL_UNCOMMITTED)
            {
              if (vp != NULL && g_strcmp0 (vp, w->model.units[i].new_vp) != 0)
                return FALSE;
              vp = w->model.units[i].new_vp;
            }
        for (guint i = 0; vp != NULL && i < N_UNITS; i++)
          if (w->model.units[i].selected &&
              w->model.units[i].new_state != TKE_NEW_REGISTER_FULL_UNCOMMITTED &&
              (w->model.units[i].new_state != TKE_NEW_REGISTER_FULL_COMMITTED ||
               g_strcmp0 (vp, w->model.units[i].new_vp) != 0))
            return FALSE;
        return vp != NULL;
      }
    case TKE_CEREMONY_CLEAR_NEW:
      return any_new;
    case TKE_CEREMONY_SET_IMMEDIATE:
      /* First activation: a unit set up again takes the key the rest of
       * the instance holds, and no other. */
      for (guint i = 0; i < N_UNITS; i++)
        if (!w->model.units[i].selected &&
            w->model.units[i].current_state == TKE_CURRENT_REGISTER_VALID &&
            g_strcmp0 (w->model.units[i].current_vp, first->new_vp) != 0)
          return FALSE;
      return all_current_empty && all_committed && same_new;
    case TKE_CEREMONY_ROTATE:
      return all_committed && same_new && same_current &&
             g_strcmp0 (first->new_vp, first->current_vp) != 0;
    default:
      g_assert_not_reached ();
    }
}

/* libtke and the model agree on whether @kind may run now. */
static gboolean
check_allowed (Walk *w, TkeCeremonyKind kind, const char *name)
{
  g_autoptr (GListStore) selected = selected_units (w);
  g_autofree char *reason =
      tke_ceremony_why_not (kind, G_LIST_MODEL (selected),
                            tke_service_instance_get_units (w->instance), TKE_RECOVERY_ACTION_NONE);
  gboolean allowed = model_allows (w, kind);

  if (allowed != (reason == NULL))
    diverge (w, "%s: the model says %s, libtke says %s", name, allowed ? "allowed" : "refused",
             reason != NULL ? reason : "allowed");
  if (!allowed)
    w->n_refused++;
  return allowed;
}

static gboolean
run_ceremony (Walk *w, TkeCeremony *ceremony, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  tke_ceremony_set_signers (ceremony, w->signers);
  tke_ceremony_run_async (ceremony, NULL, on_done, &result);
  wait_for (&result);
  return tke_ceremony_run_finish (ceremony, result, error);
}

/* ---- The operations --------------------------------------------------------------- */

static void
op_load (Walk *w, gboolean repeated)
{
  guint n = g_rand_int_range (w->rand, 2, 4);
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (TkeSecret) key = NULL;
  g_autoptr (GListStore) selected = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *vp = NULL;

  if (!check_allowed (w, TKE_CEREMONY_LOAD, "load"))
    return;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeSecret) value = NULL;

      if (repeated && i == n - 1)
        value = tke_secret_ref (TEST_PART (parts->pdata[0])->value);
      else
        value = tke_secret_new_random (32, NULL);
      g_ptr_array_add (parts, test_part_new (value, i + 1));
      if (key == NULL)
        key = tke_secret_ref (value);
      else
        {
          TkeSecret *sum = tke_crypto_xor (key, value, NULL);

          tke_secret_unref (key);
          key = sum;
        }
    }
  selected = selected_units (w);
  ceremony = tke_ceremony_new (w->client, TKE_CEREMONY_LOAD, G_LIST_MODEL (selected));
  tke_ceremony_set_key_parts (ceremony, parts);
  if (run_ceremony (w, ceremony, &error) == repeated)
    diverge (w, "load with %s parts: %s", repeated ? "a repeated part" : "distinct",
             error != NULL ? error->message : "accepted");
  if (repeated)
    {
      if (strstr (error->message, "same key part") == NULL)
        diverge (w, "a repeated part refused for another reason: %s", error->message);
      return;
    }
  vp = vp_of (key);
  {
    GPtrArray *values = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_secret_unref);

    for (guint i = 0; i < parts->len; i++)
      g_ptr_array_add (values, tke_secret_ref (TEST_PART (parts->pdata[i])->value));
    g_hash_table_replace (w->parts_by_vp, g_strdup (vp), values);
  }
  for (guint i = 0; i < N_UNITS; i++)
    if (w->model.units[i].selected)
      {
        w->model.units[i].new_state = TKE_NEW_REGISTER_FULL_UNCOMMITTED;
        g_free (w->model.units[i].new_vp);
        w->model.units[i].new_vp = g_strdup (vp);
      }
}

static void
op_register (Walk *w, TkeCeremonyKind kind, const char *name)
{
  g_autoptr (GListStore) selected = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (GError) error = NULL;

  if (!check_allowed (w, kind, name))
    return;
  selected = selected_units (w);
  ceremony = tke_ceremony_new (w->client, kind, G_LIST_MODEL (selected));
  if (!run_ceremony (w, ceremony, &error))
    diverge (w, "%s allowed but failed: %s", name, error->message);
  for (guint i = 0; i < N_UNITS; i++)
    {
      ModelUnit *m = &w->model.units[i];

      if (!m->selected)
        continue;
      if (kind == TKE_CEREMONY_COMMIT)
        m->new_state = TKE_NEW_REGISTER_FULL_COMMITTED;
      else if (kind == TKE_CEREMONY_CLEAR_NEW)
        {
          m->new_state = TKE_NEW_REGISTER_EMPTY;
          g_clear_pointer (&m->new_vp, g_free);
        }
      else if (kind == TKE_CEREMONY_SET_IMMEDIATE)
        {
          m->current_state = TKE_CURRENT_REGISTER_VALID;
          g_free (m->current_vp);
          m->current_vp = g_steal_pointer (&m->new_vp);
          m->new_state = TKE_NEW_REGISTER_EMPTY;
        }
    }
}

static void
on_message (TkeRotation *rotation, const char *text, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (text));
}

static TkeRotation *
new_rotation (Walk *w, GPtrArray *messages)
{
  g_autoptr (GPtrArray) units = g_ptr_array_new_with_free_func (g_object_unref);
  TkeRotation *rotation;

  for (guint i = 0; i < N_UNITS; i++)
    if (w->model.units[i].selected)
      g_ptr_array_add (units, g_object_ref (unit_at (w, i)));
  rotation = tke_rotation_new (w->client, w->instance, units);
  tke_rotation_set_signers (rotation, w->signers);
  tke_rotation_set_poll_interval (rotation, 10);
  g_ptr_array_set_size (messages, 0);
  g_signal_connect (rotation, "message", G_CALLBACK (on_message), messages);
  return rotation;
}

static const char *const all_messages[] = { TKE_ROTATION_MESSAGE_STARTED,
                                            TKE_ROTATION_MESSAGE_REWRAPPED,
                                            TKE_ROTATION_MESSAGE_SUCCESSFUL };

/* Follows the advice after a failed rotation until it is done; restarts
 * the emulator without faults first when @clean. */
static void
recover (Walk *w, TkeRotation **rotation, GPtrArray *messages, gboolean restarted)
{
  for (guint round = 0; round < 6; round++)
    {
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (GError) error = NULL;
      TkeRecoveryAction before;

      if (restarted)
        {
          g_clear_object (rotation);
          *rotation = new_rotation (w, messages);
        }
      tke_rotation_recover_async (*rotation, NULL, on_done, &result);
      wait_for (&result);
      before = tke_rotation_has_advice (*rotation) ? tke_rotation_get_advice (*rotation)
                                                   : TKE_RECOVERY_ACTION_NONE;
      if (tke_rotation_recover_finish (*rotation, result, &error))
        {
          if (tke_rotation_get_advice (*rotation) == TKE_RECOVERY_ACTION_NONE)
            return;
          continue;
        }
      if (before == TKE_RECOVERY_ACTION_STOP)
        diverge (w, "the advice stops: %s", error->message);
      g_string_append_printf (w->steps, "      recovery round %u failed: %s\n", round,
                              error->message);
    }
  diverge (w, "the advice did not end the rotation");
}

/* Every unit's new key became current; the keystore is under it. */
static void
model_rotated (Walk *w)
{
  for (guint i = 0; i < N_UNITS; i++)
    {
      ModelUnit *m = &w->model.units[i];

      m->current_state = TKE_CURRENT_REGISTER_VALID;
      g_free (m->current_vp);
      m->current_vp = g_strdup (m->new_vp);
      m->new_state = TKE_NEW_REGISTER_EMPTY;
      g_clear_pointer (&m->new_vp, g_free);
    }
  g_free (w->model.storage_vp);
  w->model.storage_vp = g_strdup (w->model.units[0].current_vp);
}

/* A plain rotation through the tke CLI (a sample of the walk): the same
 * messages in order on its output, the keys rewrapped. */
static void
rotate_with_cli (Walk *w)
{
  g_autofree char *pw = g_strdup_printf ("%s\n", w->f.pw1);
  g_autofree char *done = g_strdup_printf ("Rewrapped %d of %d keys", N_KEYS, N_KEYS);
  g_auto (RotRun) rotate = { 0 };
  const char *at;

  if (!w->cli_set_up)
    rot_cli_setup (&w->f);
  else if (!w->cli_logged_in)
    rot_cli_login (&w->f);
  w->cli_set_up = w->cli_logged_in = TRUE;
  rotate = rot_tke (&w->f, pw, "cryptounit-mk-rotate", "--yes", NULL);
  if (rotate.status != 0)
    diverge (w, "tke cryptounit-mk-rotate failed (%d): %s%s", rotate.status, rotate.out,
             rotate.err);
  at = rotate.out;
  for (guint i = 0; i < 3; i++)
    {
      const char *found = strstr (at, all_messages[i]);

      if (found == NULL)
        diverge (w, "“%s” missing or out of order in the CLI's output:\n%s", all_messages[i],
                 rotate.out);
      at = found + strlen (all_messages[i]);
    }
  if (strstr (rotate.out, done) == NULL)
    diverge (w, "the CLI does not say “%s”:\n%s", done, rotate.out);
  w->n_cli++;
}

static void
op_rotate (Walk *w, Op op)
{
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (TkeRotation) rotation = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gboolean allowed = check_allowed (w, TKE_CEREMONY_ROTATE, op_names[op]);
  gboolean ok, restarted = FALSE;

  if (allowed && op != OP_ROTATE)
    {
      g_autofree char *n = g_strdup_printf ("%d", g_rand_int_range (w->rand, 1, N_KEYS));

      w->n_faults++;
      if (op == OP_ROTATE_FAIL_REWRAP)
        {
          g_autofree char *text = g_strdup_printf ("[faults]\nfail-after-keys=%s\n", n);

          g_assert_true (g_file_set_contents (w->faults_file, text, -1, NULL));
        }
      else if (op == OP_ROTATE_FAIL_SETIMM)
        {
          g_autofree char *unit = g_strdup_printf ("%d", g_rand_int_range (w->rand, 1, 4));

          restart (w, "--fail-setimm-on", unit);
        }
      else if (op == OP_ROTATE_HTTP_500)
        restart (w, "--http-500-rate", "0.2");
      else
        restart (w, "--crash-after-keys", n);
    }
  if (allowed && op == OP_ROTATE && g_rand_int_range (w->rand, 0, 3) == 0)
    {
      rotate_with_cli (w);
      w->n_rotations++;
      g_string_append (w->steps, "      through the tke CLI\n");
      model_rotated (w);
      return;
    }
  rotation = new_rotation (w, messages);
  tke_rotation_run_async (rotation, NULL, on_done, &result);
  wait_for (&result);
  ok = tke_rotation_run_finish (rotation, result, &error);
  if (!allowed)
    {
      /* Refused before anything was sent, with an advice that is no loop. */
      if (ok || !g_error_matches (error, TKE_ERROR, TKE_ERROR_PRECHECK_FAILED))
        diverge (w, "a rotation the model refuses: %s", ok ? "ran" : error->message);
      if (!tke_rotation_has_advice (rotation) ||
          tke_rotation_get_advice (rotation) != TKE_RECOVERY_ACTION_ROTATE || messages->len > 0)
        diverge (w, "a refused rotation advises %d and says %u messages",
                 tke_rotation_get_advice (rotation), messages->len);
      return;
    }
  w->n_rotations++;
  if (!ok)
    {
      if (op == OP_ROTATE)
        diverge (w, "a rotation without a fault failed: %s", error->message);
      g_string_append_printf (w->steps, "      failed as injected: %s\n", error->message);
      if (op != OP_ROTATE_FAIL_REWRAP)
        {
          restarted = TRUE;
          restart (w, NULL, NULL);
        }
      recover (w, &rotation, messages, restarted);
    }
  else if (op == OP_ROTATE_FAIL_SETIMM)
    {
      /* The faulty unit was not selected... it always is: must not pass. */
      diverge (w, "set immediate should have failed on one unit");
    }
  else if (op != OP_ROTATE)
    {
      /* The armed fault lay past the last key, or no answer was a 500:
       * nothing to recover. */
      if (op == OP_ROTATE_KILL || op == OP_ROTATE_HTTP_500)
        restart (w, NULL, NULL);
      unlink (w->faults_file);
    }
  if (op == OP_ROTATE_FAIL_SETIMM)
    {
      /* The advice deselected the units that had switched: select all again. */
      for (guint i = 0; i < N_UNITS; i++)
        tke_crypto_unit_set_selected (unit_at (w, i), TRUE);
    }
  /* The messages of this rotation, in order, each once (a resumed rotation
   * in a new TkeRotation tells its whole story again). */
  if (messages->len != 3 && !(restarted && messages->len >= 3))
    diverge (w, "%u messages", messages->len);
  for (guint i = 0; i < 3; i++)
    if (g_strcmp0 (messages->pdata[messages->len - 3 + i], all_messages[i]) != 0)
      diverge (w, "message %u is “%s”", i + 1, (char *) messages->pdata[messages->len - 3 + i]);
  model_rotated (w);
}

static void
run_or_diverge (Walk *w, TkeCeremony *ceremony, const char *what)
{
  g_autoptr (GError) error = NULL;

  if (!run_ceremony (w, ceremony, &error))
    diverge (w, "%s failed: %s", what, error->message);
}

/* One unit zeroized and set up again as the administrators would: its
 * administrators, its thresholds, the instance's key from its parts,
 * commit, and Set immediate as its first activation (issue 13: it was
 * stuck after any completed rotation). */
static void
op_reset_unit (Walk *w)
{
  GPtrArray *values = g_hash_table_lookup (w->parts_by_vp, w->model.storage_vp);
  guint u = g_rand_int_range (w->rand, 0, N_UNITS);
  gboolean saved[N_UNITS];
  ModelUnit *m = &w->model.units[u];

  if (values == NULL)
    {
      g_string_append (w->steps, "      (the parts of the instance's key are not known yet)\n");
      return;
    }
  g_string_append_printf (w->steps, "      unit %u\n", u + 1);
  for (guint i = 0; i < N_UNITS; i++)
    {
      saved[i] = w->model.units[i].selected;
      w->model.units[i].selected = i == u;
      tke_crypto_unit_set_selected (unit_at (w, i), i == u);
    }
  {
    g_autoptr (GListStore) selected = selected_units (w);
    g_autoptr (TkeCeremony) zeroize =
        tke_ceremony_new (w->client, TKE_CEREMONY_ZEROIZE, G_LIST_MODEL (selected));
    g_autofree char *reason = NULL;

    run_or_diverge (w, zeroize, "zeroize");
    m->new_state = TKE_NEW_REGISTER_EMPTY;
    g_clear_pointer (&m->new_vp, g_free);
    m->current_state = TKE_CURRENT_REGISTER_EMPTY;
    g_free (m->current_vp);
    m->current_vp = g_strdup (TKE_EMPTY_VP);
    compare (w);
    reason = tke_ceremony_why_not (TKE_CEREMONY_LOAD, G_LIST_MODEL (selected),
                                   tke_service_instance_get_units (w->instance),
                                   TKE_RECOVERY_ACTION_NONE);
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
    {
      g_autoptr (TkeCeremony) thresholds =
          tke_ceremony_new (w->client, TKE_CEREMONY_SET_THRESHOLDS, G_LIST_MODEL (selected));
      g_autoptr (TkeCeremony) load =
          tke_ceremony_new (w->client, TKE_CEREMONY_LOAD, G_LIST_MODEL (selected));
      g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_object_unref);

      tke_ceremony_set_thresholds (thresholds, 2, 1);
      run_or_diverge (w, thresholds, "set thresholds");
      if (!check_allowed (w, TKE_CEREMONY_LOAD, "load on the unit set up again"))
        diverge (w, "load refused on the unit set up again");
      for (guint i = 0; i < values->len; i++)
        g_ptr_array_add (parts, test_part_new (values->pdata[i], i + 1));
      tke_ceremony_set_key_parts (load, parts);
      run_or_diverge (w, load, "load the instance's key");
      m->new_state = TKE_NEW_REGISTER_FULL_UNCOMMITTED;
      m->new_vp = g_strdup (w->model.storage_vp);
    }
  }
  op_register (w, TKE_CEREMONY_COMMIT, "commit on the unit set up again");
  if (!model_allows (w, TKE_CEREMONY_SET_IMMEDIATE))
    diverge (w, "the model refuses the first activation");
  op_register (w, TKE_CEREMONY_SET_IMMEDIATE, "first activation");
  w->n_resets++;
  for (guint i = 0; i < N_UNITS; i++)
    {
      w->model.units[i].selected = saved[i];
      tke_crypto_unit_set_selected (unit_at (w, i), saved[i]);
    }
}

static void
op_toggle (Walk *w)
{
  guint i = g_rand_int_range (w->rand, 0, N_UNITS);

  /* Administrators mostly work on the whole instance: a deselected unit
   * is selected again more often than a selected one is left out. */
  for (guint j = 0; j < N_UNITS; j++)
    if (!w->model.units[j].selected && g_rand_int_range (w->rand, 0, 4) > 0)
      i = j;
  w->model.units[i].selected = !w->model.units[i].selected;
  tke_crypto_unit_set_selected (unit_at (w, i), w->model.units[i].selected);
  g_string_append_printf (w->steps, "      unit %u %s\n", i + 1,
                          w->model.units[i].selected ? "selected" : "deselected");
}

static gboolean
op_allowed (Walk *w, Op op)
{
  switch (op)
    {
    case OP_LOAD:
    case OP_LOAD_REPEATED:
      return model_allows (w, TKE_CEREMONY_LOAD);
    case OP_COMMIT:
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
      return model_allows (w, TKE_CEREMONY_ROTATE);
    case OP_RESET_UNIT:
      return g_hash_table_contains (w->parts_by_vp, w->model.storage_vp);
    case OP_TOGGLE:
    case N_OPS:
    default:
      return TRUE;
    }
}

/* Three steps in four are what an administrator who knows the rules
 * would do (an operation the model allows); the fourth is any operation,
 * so that refusals are compared too. */
static Op
pick (Walk *w)
{
  gboolean sensible = g_rand_int_range (w->rand, 0, 4) > 0;
  guint total = 0, at;

  for (guint i = 0; i < N_OPS; i++)
    if (!sensible || op_allowed (w, i))
      total += op_weights[i];
  at = g_rand_int_range (w->rand, 0, total);
  for (guint i = 0; i < N_OPS; i++)
    {
      if (sensible && !op_allowed (w, i))
        continue;
      if (at < op_weights[i])
        return i;
      at -= op_weights[i];
    }
  g_assert_not_reached ();
}

static void
step (Walk *w)
{
  Op op = pick (w);

  w->n_steps++;
  w->n_by_op[op]++;
  g_string_append_printf (w->steps, "  %u. %s\n", w->n_steps, op_names[op]);
  switch (op)
    {
    case OP_LOAD:
    case OP_LOAD_REPEATED:
      op_load (w, op == OP_LOAD_REPEATED);
      break;
    case OP_COMMIT:
      op_register (w, TKE_CEREMONY_COMMIT, op_names[op]);
      break;
    case OP_CLEAR_NEW:
      op_register (w, TKE_CEREMONY_CLEAR_NEW, op_names[op]);
      break;
    case OP_SET_IMMEDIATE:
      op_register (w, TKE_CEREMONY_SET_IMMEDIATE, op_names[op]);
      break;
    case OP_ROTATE:
    case OP_ROTATE_FAIL_REWRAP:
    case OP_ROTATE_FAIL_SETIMM:
    case OP_ROTATE_KILL:
    case OP_ROTATE_HTTP_500:
      op_rotate (w, op);
      break;
    case OP_RESET_UNIT:
      op_reset_unit (w);
      break;
    case OP_TOGGLE:
    case N_OPS:
    default:
      op_toggle (w);
      break;
    }
  compare (w);
}

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

static void
walk (guint32 seed, guint n_steps)
{
  Walk w = { 0 };
  g_autofree char *faults_dir = g_dir_make_tmp ("tke-model-XXXXXX", NULL);

  w.seed = seed;
  w.rand = g_rand_new_with_seed (seed);
  w.steps = g_string_new (NULL);
  w.faults_file = g_build_filename (faults_dir, "faults.ini", NULL);
  w.parts_by_vp =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  {
    const char *const args[] = { "--faults-file", w.faults_file, NULL };

    rot_start (&w.f, N_KEYS, args);
  }
  for (guint i = 0; i < N_UNITS; i++)
    w.model.units[i].selected = TRUE;
  connect_client (&w);
  w.signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (w.signers, demo_signer (&w, 1, w.f.pw1));
  g_ptr_array_add (w.signers, demo_signer (&w, 2, w.f.pw2));
  /* The demo's units start on one key, with empty new registers. */
  refresh_all (&w);
  for (guint i = 0; i < N_UNITS; i++)
    {
      w.model.units[i].current_state = TKE_CURRENT_REGISTER_VALID;
      w.model.units[i].current_vp =
          g_strdup (tke_crypto_unit_get_current_register_vp (unit_at (&w, i)));
      w.model.units[i].new_state = TKE_NEW_REGISTER_EMPTY;
    }
  w.model.storage_vp = g_strdup (w.model.units[0].current_vp);
  compare (&w);
  for (guint i = 0; i < n_steps; i++)
    step (&w);
  {
    g_autoptr (GString) ops = g_string_new (NULL);

    for (guint i = 0; i < N_OPS; i++)
      g_string_append_printf (ops, "%s%s %u", i ? ", " : "", op_names[i], w.n_by_op[i]);
    g_test_message ("seed %u operations: %s", seed, ops->str);
  }
  g_test_message (
      "seed %u: %u steps, %u rotations (%u through the CLI), %u faults, %u units set up "
      "again, %u refusals agreed, 0 keys lost",
      seed, w.n_steps, w.n_rotations, w.n_cli, w.n_faults, w.n_resets, w.n_refused);

  for (guint i = 0; i < N_UNITS; i++)
    {
      g_free (w.model.units[i].new_vp);
      g_free (w.model.units[i].current_vp);
    }
  g_free (w.model.storage_vp);
  g_clear_pointer (&w.parts_by_vp, g_hash_table_unref);
  g_clear_pointer (&w.signers, g_ptr_array_unref);
  g_clear_object (&w.client);
  g_clear_object (&w.instance);
  rot_stop (&w.f);
  g_unlink (w.faults_file);
  g_rmdir (faults_dir);
  g_free (w.faults_file);
  g_string_free (w.steps, TRUE);
  g_rand_free (w.rand);
}

static guint
n_steps (void)
{
  const char *text = g_getenv ("TKE_MODEL_STEPS");

  return text != NULL ? (guint) atoi (text) : 700;
}

static void
test_seed (gconstpointer data)
{
  walk (GPOINTER_TO_UINT (data), n_steps ());
}

int
main (int argc, char **argv)
{
  static const guint32 seeds[] = { 1, 13, 2026 };
  const char *seed = g_getenv ("TKE_MODEL_SEED");

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < N_OPS; i++)
    g_assert_nonnull (op_names[i]);
  if (seed != NULL)
    g_test_add_data_func ("/model/seed", GUINT_TO_POINTER ((guint32) atoll (seed)), test_seed);
  else
    for (gsize i = 0; i < G_N_ELEMENTS (seeds); i++)
      {
        g_autofree char *path = g_strdup_printf ("/model/seed-%u", seeds[i]);

        g_test_add_data_func (path, GUINT_TO_POINTER (seeds[i]), test_seed);
      }
  return g_test_run ();
}
