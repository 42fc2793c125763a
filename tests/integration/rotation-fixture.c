/* rotation-fixture.c: see rotation-fixture.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include "rotation-fixture.h"
#include "tke-test-util.h"

static Emu *
start_emu (RotFixture *f, const char *const *faults)
{
  g_autofree char *keys = g_strdup_printf ("%u", f->keys);
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  Emu *emu;

  g_ptr_array_add (args, (gpointer) "--init");
  g_ptr_array_add (args, (gpointer) (f->init != NULL ? f->init : "demo"));
  if (f->init == NULL)
    {
      g_ptr_array_add (args, (gpointer) "--keys");
      g_ptr_array_add (args, keys);
    }
  for (guint i = 0; faults != NULL && faults[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) faults[i]);
  g_ptr_array_add (args, NULL);
  emu = emu_start (f->state, (const char *const *) args->pdata);
  emu_login (emu);
  return emu;
}

void
rot_start (RotFixture *f, guint keys, const char *const *faults)
{
  g_autofree char *top = g_dir_make_tmp ("tke-rotation-XXXXXX", NULL);

  g_assert_nonnull (top);
  tke_test_cli_init (&f->cli, top);
  f->state = g_build_filename (top, "state", NULL);
  f->keys = keys;
  f->emu = start_emu (f, faults);
  f->a1 = emu_demo_admin (f->emu, 1);
  f->a2 = emu_demo_admin (f->emu, 2);
  f->pw1 = emu_demo_password (f->emu, "admin1.sigkey");
  f->pw2 = emu_demo_password (f->emu, "admin2.sigkey");
}

void
rot_kill (RotFixture *f)
{
  if (f->emu == NULL || f->emu->process == NULL)
    return;
  g_subprocess_send_signal (f->emu->process, SIGKILL);
  emu_wait_exit (f->emu);
  g_clear_object (&f->emu->process);
}

void
rot_restart (RotFixture *f, const char *const *faults)
{
  if (f->emu->process != NULL && g_subprocess_get_identifier (f->emu->process) != NULL)
    rot_kill (f);
  else if (f->emu->process != NULL)
    {
      emu_wait_exit (f->emu);
      g_clear_object (&f->emu->process);
    }
  emu_free (f->emu);
  f->emu = start_emu (f, faults);
}

void
rot_stop (RotFixture *f)
{
  if (f->emu != NULL)
    {
      rot_kill (f);
      g_clear_pointer (&f->emu, emu_free);
    }
  g_clear_pointer (&f->a1, EVP_PKEY_free);
  g_clear_pointer (&f->a2, EVP_PKEY_free);
  if (f->cli.top != NULL)
    tke_test_remove_tree (f->cli.top);
  tke_test_cli_clear (&f->cli);
  g_clear_pointer (&f->state, g_free);
  g_clear_pointer (&f->pw1, g_free);
  g_clear_pointer (&f->pw2, g_free);
  g_clear_pointer (&f->parts[0], tke_secret_unref);
  g_clear_pointer (&f->parts[1], tke_secret_unref);
}

void
rot_tear_down (RotFixture *f, gconstpointer data)
{
  rot_stop (f);
}

void
rot_cli_login (RotFixture *f)
{
  tke_test_cli_login (&f->cli, f->emu);
}

void
rot_cli_setup (RotFixture *f)
{
  g_autofree char *both = g_strdup_printf ("%s\n%s\n", f->pw1, f->pw2);

  rot_cli_login (f);
  tke_test_cli_install_demo_sigkeys (&f->cli, f->emu);
  {
    g_auto (RotRun) add = rot_tke (f, NULL, "cryptounit-add", "1", "2", "3", NULL);
    g_auto (RotRun) sel = rot_tke (f, both, "sigkey-sel", "1", "2", NULL);

    rot_assert_ok (add);
    rot_assert_ok (sel);
  }
}

char *
rot_load_commit_on (RotFixture *f, const char *unit, TkeSecret *const *parts)
{
  TkeSecret *both_parts[2] = { parts[0], parts[1] };
  g_autoptr (TkeSecret) mk = tke_crypto_xor (parts[0], parts[1], NULL);
  EVP_PKEY *one[] = { f->a1, NULL }, *both[] = { f->a1, f->a2, NULL },
           *two[] = { f->a2, f->a2, NULL };
  g_autofree char *commit_args = NULL;
  guint8 vp[TKE_VP_SIZE];
  char *vp_hex;

  tke_crypto_verification_pattern (mk, vp);
  vp_hex = tke_crypto_hex_encode (vp, sizeof vp);
  commit_args = g_strdup_printf ("{\"new_mkvp\":\"%s\"}", vp_hex);
  {
    g_autoptr (JsonObject) imp = emu_command_ok (f->emu, unit, "generate_importer_key", NULL, one);
    g_autofree char *load = emu_load_args (
        unit, json_object_get_string_member (imp, "importer_key"), both_parts, 2, FALSE);
    g_autoptr (JsonObject) r1 = emu_command_ok (f->emu, unit, "load", load, two);
    g_autoptr (JsonObject) r2 = emu_command_ok (f->emu, unit, "commit", commit_args, both);
  }
  return vp_hex;
}

char *
rot_load_commit (RotFixture *f)
{
  g_auto (GStrv) units = emu_unit_ids (f->emu);
  char *vp_hex = NULL;

  for (guint i = 0; i < 2; i++)
    {
      g_clear_pointer (&f->parts[i], tke_secret_unref);
      f->parts[i] = tke_secret_new_random (32, NULL);
    }
  for (guint u = 0; units[u] != NULL; u++)
    {
      g_free (vp_hex);
      vp_hex = rot_load_commit_on (f, units[u], f->parts);
    }
  return vp_hex;
}

char *
rot_rotation_state (RotFixture *f)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/rotation", f->emu->instance);
  g_autoptr (JsonObject) o = emu_call_ok (f->emu, "GET", path, NULL, 200);

  return g_strdup (json_object_get_string_member (o, "state"));
}

gint64
rot_keys_lost (RotFixture *f)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/keystore", f->emu->instance);
  g_autoptr (JsonObject) ks = emu_call_ok (f->emu, "GET", path, NULL, 200);

  return json_object_get_int_member (ks, "keys_total") - json_object_get_int_member (ks, "keys_ok");
}

void
rot_assert_done (RotFixture *f, const char *vp)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/keystore", f->emu->instance);
  g_autoptr (JsonObject) ks = emu_call_ok (f->emu, "GET", path, NULL, 200);
  g_autofree char *wkid = g_strndup (vp, 32);
  JsonObject *by = json_object_get_object_member (ks, "by_wkid");
  g_auto (GStrv) units = emu_unit_ids (f->emu);
  g_autofree char *state = rot_rotation_state (f);

  if (!json_object_has_member (by, wkid))
    {
      g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), ks);
      g_autofree char *text = json_to_string (node, FALSE);
      g_autofree char *q0 = emu_query_text (f->emu, units[0]);

      g_error ("the keys are not under the new key %s: %s; unit: %s; rotation %s", wkid, text, q0,
               state);
    }
  g_assert_cmpint (json_object_get_int_member (ks, "keys_total"), ==, f->keys);
  g_assert_cmpint (json_object_get_int_member (ks, "keys_ok"), ==, f->keys);
  g_assert_cmpint (json_object_get_int_member (ks, "keys_failed"), ==, 0);
  g_assert_cmpuint (json_object_get_size (by), ==, 1);
  g_assert_cmpint (json_object_get_int_member (by, wkid), ==, f->keys);
  for (guint u = 0; units[u] != NULL; u++)
    {
      g_autoptr (JsonObject) q = emu_query (f->emu, units[u]);

      g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Valid");
      g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), ==, vp);
      g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Empty");
    }
  g_assert_cmpstr (state, ==, "complete");
}
