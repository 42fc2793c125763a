/* model.c: the model suite's reference model of a service instance, and
 * the comparison with what libtke and the service report
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The model is a few lines per operation, written from DESIGN §1 and §5
 * apart from the code: each unit's two registers (state and VP), the
 * selection, the key the keystore is wrapped under, and the GREP11 blobs
 * the walk holds with the key each is under.
 */

#include "config.h"

#include <string.h>

#include "model-private.h"

/* ---- A key part held in the test, sealed with the real crypto ---- */

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

char *
vp_of (const TkeSecret *key)
{
  guint8 vp[TKE_VP_SIZE];

  tke_crypto_verification_pattern (key, vp);
  return tke_crypto_hex_encode (vp, sizeof vp);
}

TestPart *
test_part_new (TkeSecret *value, guint index)
{
  TestPart *self = g_object_new (TEST_TYPE_PART, NULL);

  self->value = tke_secret_ref (value);
  self->vp = vp_of (value);
  self->description = g_strdup_printf ("model part %u", index);
  return self;
}

void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

void
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

TkeCryptoUnit *
unit_at (Walk *w, guint i)
{
  g_autoptr (TkeCryptoUnit) unit =
      g_list_model_get_item (tke_service_instance_get_units (w->instance), i);

  return unit; /* the instance keeps it */
}

GListStore *
selected_units (Walk *w)
{
  GListStore *store = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);

  for (guint i = 0; i < w->model.n_units; i++)
    if (w->model.units[i].selected)
      g_list_store_append (store, unit_at (w, i));
  return store;
}

gboolean
all_selected (Walk *w)
{
  for (guint i = 0; i < w->model.n_units; i++)
    if (!w->model.units[i].selected)
      return FALSE;
  return TRUE;
}

void
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

static void
compare_unit (Walk *w, guint i)
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
  /* Between steps every unit holding a key holds the instance's one. */
  if (m->current_state == TKE_CURRENT_REGISTER_VALID &&
      g_strcmp0 (m->current_vp, w->model.storage_vp) != 0)
    diverge (w, "unit %u is on %s, the instance on %s", i + 1, m->current_vp, w->model.storage_vp);
}

/* Every blob under the instance's key checks with its check value; one
 * rewrapped under a new key not yet current is refused as under another key. */
static void
compare_blobs (Walk *w)
{
  for (guint i = 0; i < w->blobs->len; i++)
    {
      Blob *blob = w->blobs->pdata[i];
      g_autofree char *body = g_strdup_printf ("{\"blob\":\"%s\"}", blob->base64);
      g_autoptr (JsonNode) node = NULL;
      gboolean current = g_strcmp0 (blob->vp, w->model.storage_vp) == 0;
      guint status = 0;
      JsonObject *answer;

      node = emu_call (w->f.emu, "POST", "/v1/grep11/check", NULL, body, strlen (body), &status);
      answer = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      if (current &&
          (status != 200 || answer == NULL ||
           g_strcmp0 (json_object_get_string_member_with_default (answer, "check_value", NULL),
                      blob->check_value) != 0))
        diverge (w, "blob %u (under the instance's key) does not check: HTTP %u", i + 1, status);
      if (!current && status != 409)
        diverge (w, "blob %u under another key answers HTTP %u", i + 1, status);
    }
}

/* Every unit as libtke reads it equals the model; the keystore is whole. */
void
compare (Walk *w)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/keystore", w->f.emu->instance);
  g_autoptr (JsonObject) ks = NULL;
  g_autofree char *wkid = NULL;
  JsonObject *by;

  refresh_all (w);
  compare_unit_list (w);
  for (guint i = 0; i < w->model.n_units; i++)
    compare_unit (w, i);
  ks = emu_call_ok (w->f.emu, "GET", path, NULL, 200);
  by = json_object_get_object_member (ks, "by_wkid");
  wkid = g_strndup (w->model.storage_vp != NULL ? w->model.storage_vp : "none", 32);
  /* No keystore before auto-init: the walk makes the keys after it. */
  if (json_object_get_int_member (ks, "keys_ok") != w->model.n_keys ||
      json_object_get_int_member (ks, "keys_failed") != 0 ||
      json_object_get_size (by) != (w->model.n_keys > 0 ? 1u : 0u) ||
      (w->model.n_keys > 0 && !json_object_has_member (by, wkid)))
    diverge (w, "keystore: %" G_GINT64_FORMAT " of %u keys unwrap, %u wrapping keys, model %s",
             json_object_get_int_member (ks, "keys_ok"), w->model.n_keys, json_object_get_size (by),
             wkid);
  if (w->blobs_dirty)
    compare_blobs (w);
}

gboolean
model_allows (Walk *w, TkeCeremonyKind kind)
{
  ModelUnit *first = NULL;
  gboolean all_empty = TRUE, all_committed = TRUE, any_new = FALSE;
  gboolean same_new = TRUE, same_current = TRUE, all_current_empty = TRUE;

  for (guint i = 0; i < w->model.n_units; i++)
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

        for (guint i = 0; i < w->model.n_units; i++)
          if (w->model.units[i].selected &&
              w->model.units[i].new_state == TKE_NEW_REGISTER_FULL_UNCOMMITTED)
            {
              if (vp != NULL && g_strcmp0 (vp, w->model.units[i].new_vp) != 0)
                return FALSE;
              vp = w->model.units[i].new_vp;
            }
        for (guint i = 0; vp != NULL && i < w->model.n_units; i++)
          if (w->model.units[i].selected &&
              w->model.units[i].new_state != TKE_NEW_REGISTER_FULL_UNCOMMITTED &&
              (w->model.units[i].new_state != TKE_NEW_REGISTER_FULL_COMMITTED ||
               g_strcmp0 (vp, w->model.units[i].new_vp) != 0))
            return FALSE;
        return vp != NULL;
      }
    case TKE_CEREMONY_CLEAR_NEW:
      return any_new;
    case TKE_CEREMONY_CLEAR_CURRENT:
      return !all_current_empty;
    case TKE_CEREMONY_SET_IMMEDIATE:
      /* First activation: a unit set up again takes the key the rest of
       * the instance holds, and no other. */
      for (guint i = 0; i < w->model.n_units; i++)
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
gboolean
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

/* RewrapKeyBlob takes every operational unit of the instance (selected
 * or not) Full Committed with one key: GREP11 calls go to the operational
 * units, which hold the blobs' keys during a rotation; the recovery units
 * serve none (service-protocol.md §8).  The soak's seed 1000 found the
 * model asking the recovery unit too. */
gboolean
model_allows_blob_rewrap (Walk *w)
{
  const char *vp = NULL;

  for (guint i = 0; i < w->model.n_units; i++)
    {
      if (w->model.units[i].type == TKE_CRYPTO_UNIT_TYPE_RECOVERY)
        continue;
      if (vp == NULL)
        vp = w->model.units[i].new_vp;
      if (w->model.units[i].new_state != TKE_NEW_REGISTER_FULL_COMMITTED ||
          g_strcmp0 (w->model.units[i].new_vp, vp) != 0)
        return FALSE;
    }
  return vp != NULL;
}

/* What a ceremony that ran did to the selected units. */
void
model_apply (Walk *w, TkeCeremonyKind kind)
{
  for (guint i = 0; i < w->model.n_units; i++)
    {
      ModelUnit *m = &w->model.units[i];

      if (!m->selected)
        continue;
      if (kind == TKE_CEREMONY_COMMIT)
        m->new_state = TKE_NEW_REGISTER_FULL_COMMITTED;
      else if (kind == TKE_CEREMONY_CLEAR_NEW && !selftest_bug ())
        {
          m->new_state = TKE_NEW_REGISTER_EMPTY;
          g_clear_pointer (&m->new_vp, g_free);
        }
      else if (kind == TKE_CEREMONY_CLEAR_CURRENT)
        {
          m->current_state = TKE_CURRENT_REGISTER_EMPTY;
          g_free (m->current_vp);
          m->current_vp = g_strdup (TKE_EMPTY_VP);
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

/* Every unit's new key became current; the keystore is under it. */
void
model_rotated (Walk *w)
{
  for (guint i = 0; i < w->model.n_units; i++)
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

void
model_clear (Model *model)
{
  for (guint i = 0; i < model->n_units; i++)
    {
      g_free (model->units[i].new_vp);
      g_free (model->units[i].current_vp);
    }
  g_free (model->storage_vp);
}

void
blob_free (Blob *blob)
{
  g_free (blob->base64);
  g_free (blob->check_value);
  g_free (blob->vp);
  g_free (blob);
}
