/* auto.c: the model suite's recovery-unit path (issue 16): auto-mk-rotate
 * with the rotation that follows it, and auto-recover of a unit whose
 * current register was emptied
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The model, written from DESIGN and tke-domain.md §1.2 apart from the
 * code: auto-mk-rotate needs a recovery unit and every unit on the same
 * current key; it puts one random key, committed, into every unit's new
 * register (whatever was there), and the caller's rotation then makes it
 * current.  Nobody knows that key's parts: a unit that loses its key
 * afterwards takes it back from the recovery unit (auto-recover), never
 * from parts.  The random key's VP is read back from the units, as an
 * administrator reads it.
 */

#include "config.h"

#include <string.h>

#include "model-private.h"

ModelUnit *
recovery_unit (Walk *w)
{
  for (guint i = 0; i < w->model.n_units; i++)
    if (w->model.units[i].type == TKE_CRYPTO_UNIT_TYPE_RECOVERY)
      return &w->model.units[i];
  return NULL;
}

/* auto-mk-rotate: a recovery unit with a current key, every unit on it. */
gboolean
model_allows_auto_rotate (Walk *w)
{
  ModelUnit *source = recovery_unit (w);

  if (source == NULL || source->current_state != TKE_CURRENT_REGISTER_VALID)
    return FALSE;
  for (guint i = 0; i < w->model.n_units; i++)
    if (w->model.units[i].current_state != TKE_CURRENT_REGISTER_VALID ||
        g_strcmp0 (w->model.units[i].current_vp, source->current_vp) != 0)
      return FALSE;
  return TRUE;
}

/* The instance's key can come back to unit @u: from its parts, or from
 * the recovery unit, which holds it and is not @u. */
gboolean
model_can_restore_key (Walk *w, guint u)
{
  ModelUnit *source = recovery_unit (w);

  if (w->model.storage_vp == NULL)
    return FALSE; /* before auto-init: no key to give back */
  if (g_hash_table_contains (w->parts_by_vp, w->model.storage_vp))
    return TRUE;
  return source != NULL && source != &w->model.units[u] &&
         source->current_state == TKE_CURRENT_REGISTER_VALID &&
         g_strcmp0 (source->current_vp, w->model.storage_vp) == 0;
}

gboolean
run_auto (Walk *w, TkeAutoCeremony *ceremony, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  tke_auto_ceremony_set_signers (ceremony, w->signers);
  tke_auto_ceremony_set_delay (ceremony, 0);
  tke_auto_ceremony_run_async (ceremony, NULL, on_done, &result);
  wait_for (&result);
  return tke_auto_ceremony_run_finish (ceremony, result, error);
}

/* libtke's precheck says what the model says. */
gboolean
check_auto_allowed (Walk *w, TkeAutoKind kind, gboolean allowed)
{
  g_autofree char *reason =
      tke_auto_ceremony_why_not (kind, tke_service_instance_get_units (w->instance),
                                 TKE_RECOVERY_ACTION_NONE, w->signers->len);

  if (allowed != (reason == NULL))
    diverge (w, "%s: the model says %s, libtke %s", tke_auto_kind_get_name (kind),
             allowed ? "allowed" : "refused", reason != NULL ? reason : "allowed");
  if (!allowed)
    {
      g_string_append_printf (w->steps, "      refused: %s\n", reason);
      w->n_refused++;
    }
  return allowed;
}

/* The random key, as every unit's new register shows it. */
static char *
read_random_key (Walk *w)
{
  const char *vp;

  refresh_all (w);
  vp = tke_crypto_unit_get_new_register_vp (unit_at (w, 0));
  if (vp == NULL || g_strcmp0 (vp, w->model.storage_vp) == 0)
    diverge (w, "auto-mk-rotate: unit 1's new register holds %s", vp != NULL ? vp : "nothing");
  return g_strdup (vp);
}

/* auto-mk-rotate, then the rotation over every unit (now and then with
 * the rewrap failing, recovered as libtke advises). */
void
op_auto_rotate (Walk *w, const Step *s)
{
  g_autoptr (TkeAutoCeremony) ceremony = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *vp = NULL;
  gboolean saved[MAX_UNITS];
  Step rotate = { s->n % 3 == 0 ? OP_ROTATE_FAIL_REWRAP : OP_ROTATE, s->n, s->unit, FALSE };

  if (!check_auto_allowed (w, TKE_AUTO_MK_ROTATE, model_allows_auto_rotate (w)))
    return;
  ceremony = tke_auto_ceremony_new (w->client, w->instance, TKE_AUTO_MK_ROTATE);
  if (!run_auto (w, ceremony, &error))
    diverge (w, "auto-mk-rotate allowed but failed: %s", error->message);
  vp = read_random_key (w);
  g_string_append_printf (w->steps, "      random key %.16s…\n", vp);
  for (guint i = 0; i < w->model.n_units; i++)
    {
      ModelUnit *m = &w->model.units[i];

      m->new_state = TKE_NEW_REGISTER_FULL_COMMITTED;
      g_free (m->new_vp);
      m->new_vp = g_strdup (vp);
    }
  compare (w);
  /* Every unit holds the key: the rotation takes them all. */
  for (guint i = 0; i < w->model.n_units; i++)
    {
      saved[i] = w->model.units[i].selected;
      w->model.units[i].selected = TRUE;
      tke_crypto_unit_set_selected (unit_at (w, i), TRUE);
    }
  if (rotate.op != OP_ROTATE)
    g_string_append (w->steps, "      its rotation with the rewrap failing\n");
  op_rotate (w, &rotate);
  for (guint i = 0; i < w->model.n_units; i++)
    {
      w->model.units[i].selected = saved[i];
      tke_crypto_unit_set_selected (unit_at (w, i), saved[i]);
    }
}

/* Unit @u, the only one selected, its current register empty and its new
 * one empty, takes the instance's key from the recovery unit. */
void
auto_recover_unit (Walk *w, guint u)
{
  g_autoptr (TkeAutoCeremony) ceremony = NULL;
  g_autoptr (GError) error = NULL;
  ModelUnit *m = &w->model.units[u];

  refresh_all (w);
  check_auto_allowed (w, TKE_AUTO_RECOVER, TRUE);
  ceremony = tke_auto_ceremony_new (w->client, w->instance, TKE_AUTO_RECOVER);
  if (!run_auto (w, ceremony, &error))
    diverge (w, "auto-recover of unit %u failed: %s", u + 1, error->message);
  m->current_state = TKE_CURRENT_REGISTER_VALID;
  g_free (m->current_vp);
  m->current_vp = g_strdup (w->model.storage_vp);
  refresh_all (w);
  w->n_auto_recovered++;
}
