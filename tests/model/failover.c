/* failover.c: the model suite's failover-enable, and auto-init of an
 * instance started in imprint mode (issue 16)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The model, written from tke-domain.md §1.2, §1.3 and §6, tke.1 and
 * service-protocol.md §9 and §11 apart from the code:
 *
 * failover-enable asks for the total number of failover units the
 * instance has afterwards (at most 2, never fewer than it has, no more
 * than its operational units); each new one is a FAILOVER unit that gets
 * the administrators, the thresholds and the current master key from the
 * recovery unit, as auto-recover gives it: so the instance needs a
 * recovery unit holding a current key, and an instance with 2 failover
 * units already is refused.  A new unit is Valid with the instance's key,
 * its new register Empty, and from then on it is one of the units every
 * operation takes (a rotation, a load, a commit, auto-mk-rotate, ...).
 *
 * auto-init initializes a new instance (its units in imprint mode, or left
 * keyless by an auto-init that stopped while another still is) which has
 * a recovery unit: thresholds, administrators, a random key
 * made in the recovery unit and copied to every unit.  Afterwards every
 * unit is Valid with one VP (read back from the units, as an
 * administrator reads it) and nobody knows that key's parts.
 */

#include "config.h"

#include <string.h>

#include "model-private.h"

/* ---- An instance in imprint mode ---- */

/* An administrator's signature key file where the demo keeps its own, so
 * that the fixture and the CLI helpers find it. */
static void
write_admin (RotFixture *f, guint index, GString *passwords)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (&error);
  g_autofree char *file = g_strdup_printf ("admin%u.sigkey", index);
  g_autofree char *path = g_build_filename (f->state, file, NULL);
  g_autofree char *password = g_strdup_printf ("model-admin-%u-password", index);
  g_autoptr (TkeSecret) secret =
      tke_secret_new_from_data ((const guint8 *) password, strlen (password));

  g_assert_no_error (error);
  g_assert_true (tke_signature_key_file_create (path, index == 1 ? "Admin One" : "Admin Two", key,
                                                secret, TKE_KEY_FILE_KDF_PBKDF2, &error));
  g_assert_no_error (error);
  g_string_append_printf (passwords, "%s\"%s\": \"%s\"", passwords->len > 1 ? ", " : "", file,
                          password);
}

/* rot_start() with --init imprint: every unit (2 operational, 1
 * recovery) in imprint mode, no administrators, no keys.  A restart
 * (rot_restart()) keeps the state: the emulator takes the same --init on
 * a state it made. */
void
start_imprint (Walk *w)
{
  RotFixture *f = &w->f;
  g_autofree char *top = g_dir_make_tmp ("tke-model-imprint-XXXXXX", NULL);
  g_autofree char *passwords_path = NULL;
  g_autoptr (GString) passwords = g_string_new ("{");
  const char *const args[] = { "--init", "imprint", "--faults-file", w->faults_file, NULL };

  g_assert_nonnull (top);
  tke_test_cli_init (&f->cli, top);
  f->state = g_build_filename (top, "state", NULL);
  f->keys = N_KEYS;
  f->init = "imprint";
  f->emu = emu_start (f->state, args);
  emu_login (f->emu);
  write_admin (f, 1, passwords);
  write_admin (f, 2, passwords);
  g_string_append (passwords, "}");
  passwords_path = g_build_filename (f->state, "demo-passwords.json", NULL);
  g_assert_true (g_file_set_contents (passwords_path, passwords->str, -1, NULL));
  f->a1 = emu_demo_admin (f->emu, 1);
  f->a2 = emu_demo_admin (f->emu, 2);
  f->pw1 = emu_demo_password (f->emu, "admin1.sigkey");
  f->pw2 = emu_demo_password (f->emu, "admin2.sigkey");
}

/* ---- The units the service lists ---- */

static const char *
type_name (TkeCryptoUnitType type)
{
  switch (type)
    {
    case TKE_CRYPTO_UNIT_TYPE_RECOVERY:
      return "RECOVERY";
    case TKE_CRYPTO_UNIT_TYPE_FAILOVER:
      return "FAILOVER";
    case TKE_CRYPTO_UNIT_TYPE_OPERATIONAL:
    default:
      return "OPERATIONAL";
    }
}

static void
compare_listed (Walk *w, JsonArray *listed, guint *n)
{
  for (guint i = 0; i < json_array_get_length (listed); i++)
    {
      JsonObject *unit = json_array_get_object_element (listed, i);
      gint64 num = json_object_get_int_member (unit, "crypto_unit_num");
      const char *type = json_object_get_string_member (unit, "type");

      if (num < 1 || num > w->model.n_units)
        diverge (w, "the service lists crypto unit %" G_GINT64_FORMAT ", the model has %u units",
                 num, w->model.n_units);
      if (g_strcmp0 (type, type_name (w->model.units[num - 1].type)) != 0)
        diverge (w, "unit %" G_GINT64_FORMAT " is %s, the model says %s", num, type,
                 type_name (w->model.units[num - 1].type));
      (*n)++;
    }
}

/* The service's own list of units (GET …/hsms, not libtke's), and
 * libtke's, have the model's units: as many, each of its type. */
void
compare_unit_list (Walk *w)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/hsms", w->f.emu->instance);
  g_autoptr (JsonObject) hsms = emu_call_ok (w->f.emu, "GET", path, NULL, 200);
  GListModel *units = tke_service_instance_get_units (w->instance);
  guint n = 0;

  compare_listed (w, json_object_get_array_member (hsms, "hsms"), &n);
  compare_listed (w, json_object_get_array_member (hsms, "source_hsms"), &n);
  if (n != w->model.n_units)
    diverge (w, "the service lists %u units, the model has %u", n, w->model.n_units);
  if (g_list_model_get_n_items (units) != w->model.n_units)
    diverge (w, "libtke has %u units, the model %u", g_list_model_get_n_items (units),
             w->model.n_units);
  for (guint i = 0; i < w->model.n_units; i++)
    if (tke_crypto_unit_get_unit_type (unit_at (w, i)) != w->model.units[i].type)
      diverge (w, "libtke's unit %u is %s, the model's %s", i + 1,
               type_name (tke_crypto_unit_get_unit_type (unit_at (w, i))),
               type_name (w->model.units[i].type));
}

/* ---- failover-enable ---- */

static guint
n_failover (Walk *w)
{
  guint n = 0;

  for (guint i = 0; i < w->model.n_units; i++)
    n += w->model.units[i].type == TKE_CRYPTO_UNIT_TYPE_FAILOVER;
  return n;
}

static guint
n_operational (Walk *w)
{
  guint n = 0;

  for (guint i = 0; i < w->model.n_units; i++)
    n += w->model.units[i].type == TKE_CRYPTO_UNIT_TYPE_OPERATIONAL;
  return n;
}

/* A recovery unit to copy the current key from, and room for a failover
 * unit more. */
gboolean
model_allows_failover (Walk *w)
{
  ModelUnit *source = recovery_unit (w);

  return source != NULL && source->current_state == TKE_CURRENT_REGISTER_VALID &&
         n_failover (w) < MIN (2, n_operational (w));
}

/* The new failover units, as the model sees them: the recovery unit's
 * current key, the new register empty, selected with the rest. */
static void
model_add_failover (Walk *w, guint total)
{
  ModelUnit *source = recovery_unit (w);

  for (guint i = n_failover (w); i < total; i++)
    {
      ModelUnit *m = &w->model.units[w->model.n_units++];

      g_assert_cmpuint (w->model.n_units, <=, MAX_UNITS);
      m->type = TKE_CRYPTO_UNIT_TYPE_FAILOVER;
      m->current_state = TKE_CURRENT_REGISTER_VALID;
      m->current_vp = g_strdup (source->current_vp);
      m->new_state = TKE_NEW_REGISTER_EMPTY;
      m->new_vp = NULL;
      m->selected = TRUE;
      m->imprint = FALSE;
      w->n_failover_added++;
    }
}

static void
failover_with_cli (Walk *w, guint total)
{
  g_autofree char *both = g_strdup_printf ("%s\n%s\n", w->f.pw1, w->f.pw2);
  g_autofree char *n = g_strdup_printf ("%u", total);
  g_auto (RotRun) run = { 0 };

  cli_ensure (w);
  run = rot_tke (&w->f, both, "failover-enable", "--total", n, "--yes", NULL);
  if (run.status != 0 || strstr (run.out, "Failover crypto units were added.") == NULL)
    diverge (w, "tke failover-enable --total %u failed (%d): %s%s", total, run.status, run.out,
             run.err);
  w->n_cli++;
}

/* failover-enable for a total of 1 or 2 failover units (a total the
 * instance has already adds none). */
void
op_failover_enable (Walk *w, const Step *s)
{
  guint total = 1 + s->n % 2, before = w->model.n_units;
  g_autoptr (GListStore) added = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);

  if (!check_auto_allowed (w, TKE_AUTO_FAILOVER, model_allows_failover (w)))
    return;
  g_string_append_printf (w->steps, "      a total of %u failover units%s\n", total,
                          s->cli ? ", through the tke CLI" : "");
  if (s->cli)
    failover_with_cli (w, total);
  else
    {
      g_autoptr (TkeAutoCeremony) ceremony =
          tke_auto_ceremony_new (w->client, w->instance, TKE_AUTO_FAILOVER);
      g_autoptr (GError) error = NULL;

      tke_auto_ceremony_set_failover_total (ceremony, total);
      if (!run_auto (w, ceremony, &error))
        diverge (w, "failover-enable allowed but failed: %s", error->message);
    }
  model_add_failover (w, total);
  /* The instance as listed now, with the new units. */
  connect_client (w);
  for (guint i = before; i < w->model.n_units; i++)
    g_list_store_append (added, unit_at (w, i));
  /* The third administrator, the card's, as on the other units. */
  if (w->model.n_units > before)
    cards_add_admin (w, G_LIST_MODEL (added));
}

/* ---- auto-init ---- */

/* A recovery unit to make the key, and a new instance: every unit in
 * imprint mode, or set up by an auto-init that stopped before its key (out
 * of imprint mode with both registers Empty) while another unit still is
 * in imprint mode (tke.1, auto-init). */
gboolean
model_allows_auto_init (Walk *w)
{
  gboolean any_imprint = FALSE;
  gboolean any_set_up = FALSE;

  if (recovery_unit (w) == NULL)
    return FALSE;
  for (guint i = 0; i < w->model.n_units; i++)
    {
      const ModelUnit *m = &w->model.units[i];

      if (m->imprint)
        {
          any_imprint = TRUE;
          continue;
        }
      if (m->new_state != TKE_NEW_REGISTER_EMPTY || m->current_state != TKE_CURRENT_REGISTER_EMPTY)
        return FALSE;
      any_set_up = TRUE;
    }
  return any_imprint || !any_set_up;
}

static void
auto_init_with_cli (Walk *w)
{
  g_autofree char *both = g_strdup_printf ("%s\n%s\n", w->f.pw1, w->f.pw2);
  g_auto (RotRun) run = { 0 };

  cli_ensure (w);
  run = rot_tke (&w->f, both, "auto-init", "--signature", "2", "--revocation", "1", NULL);
  if (run.status != 0 ||
      strstr (run.out, "The selected service instance has been initialized.") == NULL)
    diverge (w, "tke auto-init failed (%d): %s%s", run.status, run.out, run.err);
  w->n_cli++;
}

/* The instance's root keys, made in KMS once it has a master key. */
static void
make_root_keys (Walk *w)
{
  for (guint i = 0; i < N_KEYS; i++)
    {
      g_autofree char *body = g_strdup_printf (
          "{\"resources\":[{\"type\":\"application/vnd.ibm.kms.key+json\",\"name\":\"model-%u\"}]}",
          i + 1);
      g_autoptr (JsonObject) made = emu_call_ok (w->f.emu, "POST", "/api/v2/keys", body, 201);
    }
  w->model.n_keys = N_KEYS;
}

/* auto-init with thresholds 2 and 1 and the two administrators; then the
 * instance's root keys and the card's administrator. */
void
op_auto_init (Walk *w, const Step *s)
{
  const char *vp;

  if (!check_auto_allowed (w, TKE_AUTO_INIT, model_allows_auto_init (w)))
    return;
  if (s->cli)
    {
      g_string_append (w->steps, "      through the tke CLI\n");
      auto_init_with_cli (w);
    }
  else
    {
      g_autoptr (TkeAutoCeremony) ceremony =
          tke_auto_ceremony_new (w->client, w->instance, TKE_AUTO_INIT);
      g_autoptr (GError) error = NULL;

      tke_auto_ceremony_set_thresholds (ceremony, 2, 1);
      if (!run_auto (w, ceremony, &error))
        diverge (w, "auto-init allowed but failed: %s", error->message);
    }
  refresh_all (w);
  vp = tke_crypto_unit_get_current_register_vp (unit_at (w, 0));
  if (vp == NULL || g_strcmp0 (vp, TKE_EMPTY_VP) == 0)
    diverge (w, "auto-init: unit 1's current register holds %s", vp != NULL ? vp : "nothing");
  g_string_append_printf (w->steps, "      random key %.16s…\n", vp);
  for (guint i = 0; i < w->model.n_units; i++)
    {
      ModelUnit *m = &w->model.units[i];

      m->imprint = FALSE;
      m->current_state = TKE_CURRENT_REGISTER_VALID;
      g_free (m->current_vp);
      m->current_vp = g_strdup (vp);
      m->new_state = TKE_NEW_REGISTER_EMPTY;
      g_clear_pointer (&m->new_vp, g_free);
    }
  g_free (w->model.storage_vp);
  w->model.storage_vp = g_strdup (vp);
  compare (w);
  make_root_keys (w);
  cards_init (w);
}
