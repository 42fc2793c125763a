/* test-auto.c: the recovery-unit path (issue 16) through the real tke CLI
 * and the real emulator: auto-init, auto-mk-rotate and its three failure
 * cases, auto-recover, failover-enable.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <openssl/core_names.h>

#include "rotation-fixture.h"
#include "tke-test-util.h"

#define NO_DELAY "--delay-ms", "0"

static char *
both_passwords (RotFixture *f)
{
  return g_strdup_printf ("%s\n%s\n", f->pw1, f->pw2);
}

static void
assert_said (const TkeTestRun *run, const char *text)
{
  if (strstr (run->out, text) == NULL && strstr (run->err, text) == NULL)
    g_error ("expected “%s” in: %s%s", text, run->out, run->err);
}

static void
assert_not_said (const TkeTestRun *run, const char *text)
{
  if (strstr (run->out, text) != NULL || strstr (run->err, text) != NULL)
    g_error ("did not expect “%s” in: %s%s", text, run->out, run->err);
}

static char *
unit_member (RotFixture *f, guint index, const char *member)
{
  g_auto (GStrv) units = emu_unit_ids (f->emu);
  g_autoptr (JsonObject) q = emu_query (f->emu, units[index]);

  return g_strdup (json_object_get_string_member (q, member));
}

static guint
n_units (RotFixture *f)
{
  g_auto (GStrv) units = emu_unit_ids (f->emu);

  return g_strv_length (units);
}

/* Every unit holds @vp as its current key, and every root key unwraps
 * under it (no rotation was needed). */
static void
assert_all_hold (RotFixture *f, const char *vp)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/keystore", f->emu->instance);
  g_autoptr (JsonObject) ks = emu_call_ok (f->emu, "GET", path, NULL, 200);
  g_autofree char *wkid = g_strndup (vp, 32);
  g_auto (GStrv) units = emu_unit_ids (f->emu);

  g_assert_cmpint (json_object_get_int_member (ks, "keys_ok"), ==, f->keys);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (ks, "by_wkid"), wkid),
                   ==, f->keys);
  for (guint u = 0; units[u] != NULL; u++)
    {
      g_autoptr (JsonObject) q = emu_query (f->emu, units[u]);

      g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Valid");
      g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), ==, vp);
      g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Empty");
    }
}

/* auto-init from imprint mode: every unit Valid with one VP. */
static void
test_init (RotFixture *f, gconstpointer data)
{
  const char *const args[] = { "--init", "imprint", NULL };
  g_autofree char *top = g_dir_make_tmp ("tke-auto-XXXXXX", NULL);
  g_autofree char *vp = NULL;

  tke_test_cli_init (&f->cli, top);
  f->state = g_build_filename (top, "state", NULL);
  f->emu = emu_start (f->state, args);
  emu_login (f->emu);
  rot_cli_login (f);
  {
    g_auto (RotRun) k1 = rot_tke (f, "pw-one-1\npw-one-1\n", "sigkey-add", "--name", "One", NULL);
    g_auto (RotRun) k2 = rot_tke (f, "pw-two-2\npw-two-2\n", "sigkey-add", "--name", "Two", NULL);
    g_auto (RotRun) add = rot_tke (f, NULL, "cryptounit-add", "1", "2", "3", NULL);
    g_auto (RotRun) sel = rot_tke (f, "pw-one-1\npw-two-2\n", "sigkey-sel", "1", "2", NULL);

    rot_assert_ok (k1);
    rot_assert_ok (k2);
    rot_assert_ok (add);
    rot_assert_ok (sel);
  }
  {
    g_auto (RotRun) init = rot_tke (f, "pw-one-1\npw-two-2\n", "auto-init", "--signature", "2",
                                    "--revocation", "1", NULL);

    rot_assert_ok (init);
    assert_said (&init, "ENTER SIGNATURE THRESHOLD VALUES");
    assert_said (&init,
                 "Installing 1 of 2 administrators....\nInstalling 2 of 2 administrators....\n"
                 "Setting signature thresholds....\n"
                 "Generating a random master key value....\n"
                 "Transferring the master key value to 1 of 2 crypto units....\n"
                 "Transferring the master key value to 2 of 2 crypto units....\n"
                 "OK\nThe selected service instance has been initialized.\n");
  }
  vp = unit_member (f, 0, "current_mkvp");
  g_assert_cmpstr (vp, !=, "0000000000000000000000000000000000000000000000000000000000000000");
  for (guint u = 0; u < n_units (f); u++)
    {
      g_auto (GStrv) units = emu_unit_ids (f->emu);
      g_autoptr (JsonObject) q = emu_query (f->emu, units[u]);

      g_assert_false (json_object_get_boolean_member (q, "imprint_mode"));
      g_assert_cmpint (json_object_get_int_member (q, "signature_threshold"), ==, 2);
      g_assert_cmpint (json_array_get_length (json_object_get_array_member (q, "admins")), ==, 2);
      g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Valid");
      g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), ==, vp);
      g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Empty");
    }
  {
    /* A second auto-init would overwrite an initialized instance. */
    g_auto (RotRun) again = rot_tke (f, "pw-one-1\npw-two-2\n", "auto-init", "--signature", "2",
                                     "--revocation", "1", NULL);

    rot_assert_fails (again, 1, "is not in imprint mode");
  }
}

/* The workstation's signature key file @keynum, unlocked. */
static EVP_PKEY *
sigkey_unlock (RotFixture *f, guint keynum, const char *password)
{
  g_autofree char *name = g_strdup_printf ("%u.sigkey", keynum);
  g_autofree char *path = g_build_filename (f->cli.files, name, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSignatureKeyFile) file = tke_signature_key_file_load (path, &error);
  g_autoptr (TkeSecret) secret = NULL;
  EVP_PKEY *key;

  g_assert_no_error (error);
  secret = tke_secret_new_from_data ((const guint8 *) password, strlen (password));
  key = tke_signature_key_file_unlock (file, secret, &error);
  g_assert_no_error (error);
  return key;
}

/* The public key of the workstation's signature key file @keynum, in hex,
 * as the add_admin command takes it. */
static char *
sigkey_public_hex (RotFixture *f, guint keynum, const char *password)
{
  g_autoptr (GString) hex = g_string_new (NULL);
  guint8 point[256];
  gsize size = 0;
  EVP_PKEY *key = sigkey_unlock (f, keynum, password);

  g_assert_true (
      EVP_PKEY_get_octet_string_param (key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &size));
  EVP_PKEY_free (key);
  for (gsize i = 0; i < size; i++)
    g_string_append_printf (hex, "%02x", point[i]);
  return g_string_free (g_steal_pointer (&hex), FALSE);
}

/* An auto-init that stopped part way: unit 1 has one of its two
 * administrators (a PIN cancelled on the pad before the thresholds), unit
 * 2 has both and its thresholds (the network failed at unit 3's).  Run
 * again, it keeps what is there and goes on to the end. */
static void
test_init_resumed (RotFixture *f, gconstpointer data)
{
  const char *const args[] = { "--init", "imprint", NULL };
  g_autofree char *top = g_dir_make_tmp ("tke-auto-XXXXXX", NULL);

  tke_test_cli_init (&f->cli, top);
  f->state = g_build_filename (top, "state", NULL);
  f->emu = emu_start (f->state, args);
  emu_login (f->emu);
  rot_cli_login (f);
  {
    g_auto (RotRun) k1 = rot_tke (f, "pw-one-1\npw-one-1\n", "sigkey-add", "--name", "One", NULL);
    g_auto (RotRun) k2 = rot_tke (f, "pw-two-2\npw-two-2\n", "sigkey-add", "--name", "Two", NULL);
    g_auto (RotRun) add = rot_tke (f, NULL, "cryptounit-add", "1", "2", "3", NULL);
    g_auto (RotRun) sel = rot_tke (f, "pw-one-1\npw-two-2\n", "sigkey-sel", "1", "2", NULL);

    rot_assert_ok (k1);
    rot_assert_ok (k2);
    rot_assert_ok (add);
    rot_assert_ok (sel);
  }
  {
    g_autofree char *one = sigkey_public_hex (f, 1, "pw-one-1");
    g_autofree char *two = sigkey_public_hex (f, 2, "pw-two-2");
    g_autofree char *admin1 = g_strdup_printf ("{\"name\":\"One\",\"public_key\":\"%s\"}", one);
    g_autofree char *admin2 = g_strdup_printf ("{\"name\":\"Two\",\"public_key\":\"%s\"}", two);
    EVP_PKEY *both[3] = { sigkey_unlock (f, 1, "pw-one-1"), sigkey_unlock (f, 2, "pw-two-2"),
                          NULL };
    g_auto (GStrv) units = emu_unit_ids (f->emu);

    json_object_unref (emu_command_ok (f->emu, units[0], "add_admin", admin1, NULL));
    json_object_unref (emu_command_ok (f->emu, units[1], "add_admin", admin1, NULL));
    json_object_unref (emu_command_ok (f->emu, units[1], "add_admin", admin2, NULL));
    json_object_unref (emu_command_ok (f->emu, units[1], "set_thresholds",
                                       "{\"signature_threshold\":2,\"revocation_threshold\":1}",
                                       both));
    EVP_PKEY_free (both[0]);
    EVP_PKEY_free (both[1]);
  }
  {
    g_auto (RotRun) init = rot_tke (f, "pw-one-1\npw-two-2\n", "auto-init", "--signature", "2",
                                    "--revocation", "1", NULL);

    rot_assert_ok (init);
    assert_said (&init, "The selected service instance has been initialized.");
  }
  for (guint u = 0; u < n_units (f); u++)
    {
      g_auto (GStrv) units = emu_unit_ids (f->emu);
      g_autoptr (JsonObject) q = emu_query (f->emu, units[u]);

      g_assert_false (json_object_get_boolean_member (q, "imprint_mode"));
      g_assert_cmpint (json_array_get_length (json_object_get_array_member (q, "admins")), ==, 2);
      g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Valid");
    }
}

static void
setup_demo (RotFixture *f, guint keys, const char *const *faults)
{
  rot_start (f, keys, faults);
  rot_cli_setup (f);
}

static char *
auto_rotate_ok (RotFixture *f)
{
  g_autofree char *pw = both_passwords (f);
  g_autofree char *before = unit_member (f, 0, "current_mkvp");
  g_auto (RotRun) rotate = rot_tke (f, pw, "auto-mk-rotate", "--yes", NO_DELAY, NULL);
  char *vp;

  rot_assert_ok (rotate);
  assert_said (&rotate, "Generating a random master key value....\n");
  assert_said (&rotate, TKE_AUTO_DELAY_MESSAGE "\n" TKE_ROTATION_MESSAGE_STARTED);
  assert_said (&rotate, TKE_ROTATION_MESSAGE_REWRAPPED);
  assert_said (&rotate, TKE_ROTATION_MESSAGE_SUCCESSFUL);
  vp = unit_member (f, 0, "current_mkvp");
  g_assert_cmpstr (vp, !=, before);
  rot_assert_done (f, vp);
  return vp;
}

/* auto-mk-rotate: every key of the key storage still unwraps. */
static void
test_rotate (RotFixture *f, gconstpointer data)
{
  g_autofree char *first = NULL, *second = NULL;

  setup_demo (f, 100, NULL);
  first = auto_rotate_ok (f);
  {
    /* The completed rotation closed the delay's case in the journal, so
     * that no later advice sees a stale "Delaying…". */
    g_autofree char *journal =
        g_build_filename (f->cli.top, "xdgstate", "tke", "auto-journal", NULL);
    g_autofree char *text = NULL;

    g_assert_true (g_file_get_contents (journal, &text, NULL, NULL));
    g_assert_nonnull (g_strrstr (text, "\"delay-ended\""));
    g_assert_true (g_strrstr (text, "\"delay-ended\"") > g_strrstr (text, "\"delay\""));
  }
  /* Once the rotation completed, auto-mk-rotate may run again. */
  second = auto_rotate_ok (f);
  g_assert_cmpstr (first, !=, second);
}

/* Case 1: no "Delaying…", no rewrap message → auto-mk-rotate again. */
static void
test_fail_before_delay (RotFixture *f, gconstpointer data)
{
  const char *const faults[] = { "--fail-import-on", "2", NULL };
  g_autofree char *pw = NULL, *old = NULL, *half = NULL;

  setup_demo (f, 100, faults);
  pw = both_passwords (f);
  old = unit_member (f, 0, "current_mkvp");
  {
    g_auto (RotRun) rotate = rot_tke (f, pw, "auto-mk-rotate", "--yes", NO_DELAY, NULL);

    rot_assert_fails (rotate, 1, "Injected fault: importing the master key fails on crypto unit 2");
    assert_not_said (&rotate, TKE_AUTO_DELAY_MESSAGE);
    assert_not_said (&rotate, TKE_ROTATION_MESSAGE_REWRAPPED);
    assert_said (&rotate, "Next: tke auto-mk-rotate\n");
  }
  half = unit_member (f, 0, "new_mk_status");
  g_assert_cmpstr (half, ==, "Full Committed");
  {
    g_autofree char *cur = unit_member (f, 0, "current_mkvp");

    g_assert_cmpstr (cur, ==, old);
  }
  rot_restart (f, NULL);
  rot_cli_login (f);
  g_free (auto_rotate_ok (f));
}

/* Case 2: "Delaying…" but no rewrap message → cryptounit-mk-rotate, and
 * auto-mk-rotate is refused by libtke until the rotation completed. */
static void
test_fail_in_rewrap (RotFixture *f, gconstpointer data)
{
  const char *const faults[] = { "--fail-after-keys", "100", NULL };
  g_autofree char *pw = NULL, *target = NULL, *state = NULL;

  setup_demo (f, 300, faults);
  pw = both_passwords (f);
  {
    g_auto (RotRun) rotate = rot_tke (f, pw, "auto-mk-rotate", "--yes", NO_DELAY, NULL);

    g_assert_cmpint (rotate.status, !=, 0);
    assert_said (&rotate, TKE_AUTO_DELAY_MESSAGE);
    assert_not_said (&rotate, TKE_ROTATION_MESSAGE_REWRAPPED);
    assert_said (&rotate, "Next: tke cryptounit-mk-rotate");
    assert_said (&rotate, "Do not run tke auto-mk-rotate again until this rotation is complete.");
  }
  target = unit_member (f, 0, "new_mkvp");
  {
    g_auto (RotRun) again = rot_tke (f, pw, "auto-mk-rotate", "--yes", NO_DELAY, NULL);
    g_autofree char *still = unit_member (f, 0, "new_mkvp");

    rot_assert_fails (again, 1, "auto-mk-rotate must not run again now");
    assert_said (&again, "Next: tke cryptounit-mk-rotate (never tke auto-mk-rotate)");
    assert_not_said (&again, "Generating a random master key value");
    g_assert_cmpstr (still, ==, target);
  }
  state = rot_rotation_state (f);
  g_assert_cmpstr (state, ==, "failed");
  {
    g_auto (RotRun) resume = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);

    rot_assert_ok (resume);
  }
  rot_assert_done (f, target);
}

/* Polls the journal (the CLI is another process) until it names the
 * delay; the test's own timeout bounds it. */
static void
wait_for_delay_record (const char *journal)
{
  for (;;)
    {
      g_autofree char *text = NULL;

      if (g_file_get_contents (journal, &text, NULL, NULL) && strstr (text, "\"delay\"") != NULL)
        return;
      g_usleep (20000);
    }
}

/* Case 2 without a rewrap started: the journal alone says the delay was
 * reached (the service was stopped during the delay). */
static void
test_stopped_in_delay (RotFixture *f, gconstpointer data)
{
  g_autofree char *pw = NULL, *target = NULL;
  g_autoptr (GSubprocess) tke = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autofree char *journal = NULL, *pw_file = NULL;

  setup_demo (f, 100, NULL);
  pw = both_passwords (f);
  pw_file = g_build_filename (f->cli.top, "delay-passwords", NULL);
  g_assert_true (
      g_file_set_contents_full (pw_file, pw, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
  launcher = tke_test_cli_launcher (&f->cli, G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                                 G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                 G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  tke =
      g_subprocess_launcher_spawn (launcher, NULL, g_getenv ("TKE_CLI"), "auto-mk-rotate", "--yes",
                                   "--password-file", pw_file, "--delay-ms", "600000", NULL);
  g_assert_nonnull (tke);
  journal = g_build_filename (f->cli.top, "xdgstate", "tke", "auto-journal", NULL);
  /* Wait until the delay is recorded, then end the CLI in its delay. */
  wait_for_delay_record (journal);
  g_subprocess_force_exit (tke);
  g_subprocess_wait (tke, NULL, NULL);
  target = unit_member (f, 0, "new_mkvp");
  {
    g_auto (RotRun) again = rot_tke (f, pw, "auto-mk-rotate", "--yes", NO_DELAY, NULL);

    rot_assert_fails (again, 1, "reached “Delaying 30 seconds…”");
  }
  {
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);

    rot_assert_ok (rotate);
  }
  rot_assert_done (f, target);
}

/* Case 3: both lines → set immediate. */
static void
test_fail_in_setimm (RotFixture *f, gconstpointer data)
{
  const char *const faults[] = { "--fail-setimm-on", "2", NULL };
  g_autofree char *pw = NULL, *target = NULL;

  setup_demo (f, 100, faults);
  pw = both_passwords (f);
  {
    g_auto (RotRun) rotate = rot_tke (f, pw, "auto-mk-rotate", "--yes", NO_DELAY, NULL);

    g_assert_cmpint (rotate.status, !=, 0);
    assert_said (&rotate, TKE_AUTO_DELAY_MESSAGE);
    assert_said (&rotate, TKE_ROTATION_MESSAGE_REWRAPPED);
    assert_said (&rotate, "then tke cryptounit-mk-setimm");
  }
  target = unit_member (f, 1, "new_mkvp");
  {
    g_auto (RotRun) again = rot_tke (f, pw, "auto-mk-rotate", "--yes", NO_DELAY, NULL);

    rot_assert_fails (again, 1, "auto-mk-rotate must not run again now");
  }
  rot_restart (f, NULL);
  rot_cli_login (f);
  {
    g_auto (RotRun) rm = rot_tke (f, NULL, "cryptounit-rm", "1", "3", NULL);
    g_auto (RotRun) setimm = rot_tke (f, pw, "cryptounit-mk-setimm", "--yes", NULL);
    g_auto (RotRun) add = rot_tke (f, NULL, "cryptounit-add", "1", "3", NULL);

    rot_assert_ok (rm);
    rot_assert_ok (setimm);
    rot_assert_ok (add);
  }
  rot_assert_done (f, target);
}

/* PKCS#11 keystores: auto-mk-rotate is refused before anything changes. */
static void
test_pkcs11 (RotFixture *f, gconstpointer data)
{
  const char *const faults[] = { "--pkcs11-keystores", NULL };
  g_autofree char *pw = NULL, *new_state = NULL;

  setup_demo (f, 10, faults);
  pw = both_passwords (f);
  {
    g_auto (RotRun) rotate = rot_tke (f, pw, "auto-mk-rotate", "--yes", NO_DELAY, NULL);

    rot_assert_fails (rotate, 1, "PKCS#11 keystores");
  }
  new_state = unit_member (f, 2, "new_mk_status");
  g_assert_cmpstr (new_state, ==, "Empty");
}

/* auto-recover onto a zeroized unit. */
static void
test_recover (RotFixture *f, gconstpointer data)
{
  g_autofree char *pw = NULL, *vp = NULL;
  EVP_PKEY *one[] = { NULL, NULL };
  g_auto (GStrv) units = NULL;

  setup_demo (f, 100, NULL);
  pw = both_passwords (f);
  one[0] = f->a1;
  units = emu_unit_ids (f->emu);
  vp = unit_member (f, 0, "current_mkvp");
  {
    g_autoptr (JsonObject) z = emu_command_ok (f->emu, units[1], "zeroize", NULL, one);
  }
  {
    g_auto (RotRun) recover = rot_tke (f, pw, "auto-mk-recover", NULL);

    rot_assert_ok (recover);
    assert_said (&recover, "Transferring the master key value to 1 of 1 crypto units....");
  }
  assert_all_hold (f, vp);
  {
    g_autoptr (JsonObject) q = emu_query (f->emu, units[1]);

    g_assert_false (json_object_get_boolean_member (q, "imprint_mode"));
    g_assert_cmpint (json_object_get_int_member (q, "signature_threshold"), ==, 2);
  }
  {
    g_auto (RotRun) nothing = rot_tke (f, pw, "auto-recover", NULL);

    rot_assert_fails (nothing, 1, "No crypto unit lost its master key");
  }
}

/* failover-enable: two failover units, which then take part in a rotation. */
static void
test_failover (RotFixture *f, gconstpointer data)
{
  g_autofree char *pw = NULL, *vp = NULL;

  setup_demo (f, 100, NULL);
  pw = both_passwords (f);
  vp = unit_member (f, 0, "current_mkvp");
  {
    g_auto (RotRun) three = rot_tke (f, pw, "failover-enable", "--yes", "--total", "3", NULL);

    rot_assert_fails (three, 1, "Enter a number from 1 to 2.");
  }
  {
    /* The service's own rule: at most 2, and no more than the 2
     * operational units. */
    g_autofree char *path = g_strdup_printf ("/v1/tke/%s/failover", f->emu->instance);

    emu_call_error (f->emu, "POST", path, "{\"total\": 3}", 409, "failover_limit");
    g_assert_cmpuint (n_units (f), ==, 3);
  }
  {
    g_auto (RotRun) enable = rot_tke (f, pw, "failover-enable", "--yes", "--total", "2", NULL);

    rot_assert_ok (enable);
    assert_said (&enable, "Initializing 2 failover crypto units....");
  }
  g_assert_cmpuint (n_units (f), ==, 5);
  assert_all_hold (f, vp);
  {
    g_auto (RotRun) list = rot_tke (f, NULL, "cryptounits", NULL);
    g_auto (RotRun) add = rot_tke (f, NULL, "cryptounit-add", "4", "5", NULL);

    rot_assert_ok (list);
    assert_said (&list, "FAILOVER");
    rot_assert_ok (add);
  }
  g_free (auto_rotate_ok (f));
}

static gboolean
unit_has_point (RotFixture *f, guint index, gint64 bit)
{
  g_auto (GStrv) units = emu_unit_ids (f->emu);
  g_autoptr (JsonObject) q = emu_query (f->emu, units[index]);
  JsonArray *bits = json_object_get_array_member (q, "control_points");

  for (guint i = 0; i < json_array_get_length (bits); i++)
    if (json_array_get_int_element (bits, i) == bit)
      return TRUE;
  return FALSE;
}

/* The control point verbs, with EP11's numbers. */
static void
test_control_points (RotFixture *f, gconstpointer data)
{
  g_autofree char *pw = NULL;

  setup_demo (f, 10, NULL);
  pw = both_passwords (f);
  {
    g_auto (RotRun) show = rot_tke (f, NULL, "cryptounit-cp", NULL);

    rot_assert_ok (show);
    assert_said (&show, "CONTROL POINTS\n");
    assert_said (&show,
                 "CRYPTO UNIT NUM   XCP_CPB_ALG_EC_25519   XCP_CPB_BTC   XCP_CPB_ECDSA_OTHER   \n"
                 "1                 Set                    Not Set       Not Set");
    assert_said (&show, "3*                Set");
  }
  {
    g_auto (RotRun) btc = rot_tke (f, pw, "cryptounit-cp-btc", NULL);
    g_auto (RotRun) other = rot_tke (f, pw, "cryptounit-cp-sig-other", NULL);

    rot_assert_ok (btc);
    rot_assert_ok (other);
    assert_said (&btc, "CONTROL POINT 66");
  }
  for (guint u = 0; u < 3; u++)
    {
      g_assert_true (unit_has_point (f, u, TKE_CONTROL_POINT_BTC));
      g_assert_true (unit_has_point (f, u, TKE_CONTROL_POINT_ECDSA_OTHER));
    }
  {
    g_auto (RotRun) off = rot_tke (f, pw, "cryptounit-cp", "55", "off", NULL);
    g_auto (RotRun) bad = rot_tke (f, NULL, "cryptounit-cp", "200", "on", NULL);

    rot_assert_ok (off);
    assert_said (&off, "1                 Not Set");
    g_assert_cmpint (bad.status, !=, 0);
  }
  g_assert_false (unit_has_point (f, 1, TKE_CONTROL_POINT_EDDSA));
  g_assert_true (unit_has_point (f, 1, 0));
}

#define add_auto_test(path, func) g_test_add ((path), RotFixture, NULL, NULL, (func), rot_tear_down)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  add_auto_test ("/auto/init", test_init);
  add_auto_test ("/auto/init-resumed", test_init_resumed);
  add_auto_test ("/auto/rotate", test_rotate);
  add_auto_test ("/auto/rotate-fails-before-delay", test_fail_before_delay);
  add_auto_test ("/auto/rotate-fails-in-rewrap", test_fail_in_rewrap);
  add_auto_test ("/auto/rotate-stopped-in-delay", test_stopped_in_delay);
  add_auto_test ("/auto/rotate-fails-in-setimm", test_fail_in_setimm);
  add_auto_test ("/auto/pkcs11-keystores", test_pkcs11);
  add_auto_test ("/auto/recover-zeroized", test_recover);
  add_auto_test ("/auto/failover", test_failover);
  add_auto_test ("/auto/control-points", test_control_points);
  return g_test_run ();
}
