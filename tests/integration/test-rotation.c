/* test-rotation.c: every row of DESIGN §5 through the tke CLI against a
 * real tke-emulator with fault injection
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each test ends with every root key unwrapping under the new master key
 * (the emulator's keystore check) and every unit Valid with one VP.
 */

#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "rotation-fixture.h"
#include "tke-test-util.h"

static char *
pw1_line (RotFixture *f)
{
  return g_strdup_printf ("%s\n", f->pw1);
}

static void
assert_state (RotFixture *f, const char *expected)
{
  g_autofree char *state = rot_rotation_state (f);

  g_assert_cmpstr (state, ==, expected);
}

static void
assert_in_order (const char *text, const char *const *parts)
{
  const char *at = text;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *found = strstr (at, parts[i]);

      if (found == NULL)
        g_error ("“%s” missing or out of order in:\n%s", parts[i], text);
      at = found + strlen (parts[i]);
    }
}

static const char *const all_messages[] = { TKE_ROTATION_MESSAGE_STARTED,
                                            TKE_ROTATION_MESSAGE_REWRAPPED,
                                            TKE_ROTATION_MESSAGE_SUCCESSFUL, NULL };

/* Row 1 (nothing changed) then a complete rotation with the messages in order. */
static void
test_complete (RotFixture *f, gconstpointer user_data)
{
  g_autofree char *pw = NULL, *vp = NULL;

  rot_start (f, 500, NULL);
  rot_cli_setup (f);
  pw = pw1_line (f);
  {
    /* No committed new key: refused by the pre-check, nothing changed. */
    g_auto (RotRun) compare = rot_tke (f, NULL, "cryptounit-compare", NULL);
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);

    /* A failed pre-check is a failure for scripts too. */
    g_assert_cmpint (compare.status, ==, 1);
    g_assert_nonnull (strstr (compare.out, "new master key register of crypto unit 1 is not Full"));
    rot_assert_fails (rotate, 1, "is not Full Committed");
    rot_assert_fails (rotate, 1, "Next: tke cryptounit-mk-rotate");
    assert_state (f, "none");
  }
  vp = rot_load_commit (f);
  {
    g_auto (RotRun) compare = rot_tke (f, NULL, "cryptounit-compare", NULL);
    g_auto (RotRun) no = rot_tke (f, pw, "cryptounit-mk-rotate", NULL);
    g_auto (RotRun) rotate = { 0 };
    g_auto (RotRun) again = { 0 };

    rot_assert_ok (compare);
    g_assert_nonnull (strstr (compare.out, "Rotation pre-checks: passed"));
    g_assert_null (strstr (compare.out, "*"));
    /* Answered no: nothing changes. */
    g_assert_cmpint (no.status, ==, 4);
    assert_state (f, "none");

    rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);
    rot_assert_ok (rotate);
    assert_in_order (rotate.out, all_messages);
    g_assert_nonnull (strstr (rotate.out, "Rewrapped 500 of 500 keys"));
    g_assert_null (strstr (rotate.err, "Warning"));
    rot_assert_done (f, vp);

    /* A closed ceremony in the journal: no warning next time; and the
     * refused rotation says nothing of the one that completed. */
    again = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);
    g_assert_null (strstr (again.err, "interrupted"));
    rot_assert_fails (again, 1, "is not Full Committed");
    rot_assert_fails (again, 1, "Nothing was changed");
    g_assert_null (strstr (again.out, "Rewrapped"));
    g_assert_null (strstr (again.out, TKE_ROTATION_MESSAGE_SUCCESSFUL));
    g_assert_null (strstr (again.err, "The last rotation completed"));
  }
}

/* Row 1: each pre-check the client meets, and an expired token. */
static void
test_prechecks (RotFixture *f, gconstpointer user_data)
{
  g_autofree char *pw = NULL, *vp = NULL, *sig1 = NULL, *sig2 = NULL;
  EVP_PKEY *both[] = { NULL, NULL, NULL }, *one[] = { NULL, NULL };
  g_auto (GStrv) units = NULL;

  rot_start (f, 200, NULL);
  rot_cli_setup (f);
  pw = pw1_line (f);
  both[0] = one[0] = f->a1;
  both[1] = f->a2;
  units = emu_unit_ids (f->emu);
  vp = rot_load_commit (f);

  /* Not all operational units of the instance selected (3 is the recovery unit). */
  {
    g_auto (RotRun) rm = rot_tke (f, NULL, "cryptounit-rm", "2", NULL);
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);
    g_auto (RotRun) add = rot_tke (f, NULL, "cryptounit-add", "2", NULL);

    rot_assert_ok (rm);
    rot_assert_fails (rotate, 1, "Crypto unit 2 of the service instance is not selected");
    rot_assert_ok (add);
    assert_state (f, "none");
  }
  /* Different signature thresholds. */
  sig1 = g_strdup ("{\"signature_threshold\":1,\"revocation_threshold\":1}");
  sig2 = g_strdup ("{\"signature_threshold\":2,\"revocation_threshold\":1}");
  {
    g_autoptr (JsonObject) r = emu_command_ok (f->emu, units[1], "set_thresholds", sig1, both);
    g_auto (RotRun) compare = rot_tke (f, NULL, "cryptounit-compare", NULL);
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);
    g_autoptr (JsonObject) back = NULL;

    g_assert_nonnull (strstr (compare.out, "1* "));
    rot_assert_fails (rotate, 1, "another signature threshold");
    back = emu_command_ok (f->emu, units[1], "set_thresholds", sig2, both);
    assert_state (f, "none");
  }
  /* A new register not committed on one unit (cleared here). */
  {
    g_autoptr (JsonObject) r = emu_command_ok (f->emu, units[1], "clear_new", "{}", one);
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);

    rot_assert_fails (rotate, 1, "new master key register of crypto unit 2 is not Full Committed");
    assert_state (f, "none");
  }
  for (guint u = 0; units[u] != NULL; u++)
    {
      g_autoptr (JsonObject) r = emu_command_ok (f->emu, units[u], "clear_new", "{}", one);
    }
  g_free (vp);
  vp = rot_load_commit (f);
  {
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);

    rot_assert_ok (rotate);
    rot_assert_done (f, vp);
  }
}

static void
test_expired_token (RotFixture *f, gconstpointer user_data)
{
  const char *const faults[] = { "--token-ttl", "10", NULL };
  g_autofree char *pw = NULL, *vp = NULL;

  rot_start (f, 200, faults);
  rot_cli_setup (f);
  pw = pw1_line (f);
  emu_login (f->emu);
  vp = rot_load_commit (f);
  rot_cli_login (f);
  /* Slow builds (sanitizers) take seconds for the steps above: the wait
   * counts from the last login. */
  g_usleep (11 * G_USEC_PER_SEC);
  {
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);

    rot_assert_fails (rotate, 3, "Log in again");
  }
  emu_login (f->emu);
  assert_state (f, "none");
  rot_cli_login (f);
  {
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);

    rot_assert_ok (rotate);
  }
  emu_login (f->emu);
  rot_assert_done (f, vp);
}

/* Row 2: the service dies during the rewrap, twice (before the first batch
 * is committed, and after it); Rotate again resumes. */
static void
test_crash_during_rewrap (RotFixture *f, gconstpointer user_data)
{
  const char *const first[] = { "--crash-after-keys", "1000", NULL };
  const char *const second[] = { "--crash-after-keys", "3000", NULL };
  g_autofree char *pw = NULL, *vp = NULL;

  rot_start (f, 5000, first);
  rot_cli_setup (f);
  pw = pw1_line (f);
  vp = rot_load_commit (f);
  {
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);

    g_assert_cmpint (rotate.status, ==, 1);
    g_assert_nonnull (strstr (rotate.out, TKE_ROTATION_MESSAGE_STARTED));
  }
  g_assert_cmpint (emu_wait_exit (f->emu), ==, -SIGKILL);
  g_clear_object (&f->emu->process);
  rot_restart (f, second);
  rot_cli_login (f);
  assert_state (f, "failed");
  g_assert_cmpint (rot_keys_lost (f), ==, 0);
  {
    /* Set immediate is refused: the storage is not rewrapped. */
    g_auto (RotRun) setimm = rot_tke (f, pw, "cryptounit-mk-setimm", "--yes", NULL);
    g_auto (RotRun) rotate = { 0 };

    rot_assert_fails (setimm, 1, "Set immediate is not safe now");
    rot_assert_fails (setimm, 1, "Next: tke cryptounit-mk-rotate");
    rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);
    g_assert_cmpint (rotate.status, ==, 1);
  }
  g_assert_cmpint (emu_wait_exit (f->emu), ==, -SIGKILL);
  g_clear_object (&f->emu->process);
  rot_restart (f, NULL);
  rot_cli_login (f);
  assert_state (f, "failed");
  g_assert_cmpint (rot_keys_lost (f), ==, 0);
  {
    g_auto (RotRun) setimm = rot_tke (f, pw, "cryptounit-mk-setimm", "--yes", NULL);
    g_auto (RotRun) rotate = { 0 };

    rot_assert_fails (setimm, 1, "partly rewrapped");
    rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);
    rot_assert_ok (rotate);
    g_assert_nonnull (strstr (rotate.out, TKE_ROTATION_MESSAGE_SUCCESSFUL));
  }
  rot_assert_done (f, vp);
}

static gboolean
journal_has (RotFixture *f, const char *text)
{
  g_autofree char *path = g_build_filename (f->cli.top, "xdgstate", "tke", "journal", NULL);
  g_autofree char *contents = NULL;

  return g_file_get_contents (path, &contents, NULL, NULL) && strstr (contents, text) != NULL;
}

/* Row 3: the workstation dies after the rewrap, before set immediate; the
 * journal shows the interrupted ceremony and set immediate finishes it. */
static void
test_after_rewrap (RotFixture *f, gconstpointer user_data)
{
  const char *const slow[] = { "--latency-ms", "300", NULL };
  g_autofree char *pw = NULL, *vp = NULL, *password_file = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) cli = NULL;
  g_autoptr (GError) error = NULL;

  rot_start (f, 500, NULL);
  rot_cli_setup (f);
  pw = pw1_line (f);
  vp = rot_load_commit (f);
  rot_restart (f, slow);
  rot_cli_login (f);

  password_file = g_build_filename (f->cli.top, "pw-rotate", NULL);
  g_assert_true (g_file_set_contents (password_file, pw, -1, NULL));
  launcher = tke_test_cli_launcher (&f->cli, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                 G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  cli = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("TKE_CLI"), "cryptounit-mk-rotate",
                                     "--yes", "--password-file", password_file, NULL);
  g_assert_no_error (error);
  /* Kill the CLI once the journal says it waits for the rewrap. */
  for (guint i = 0; i < 3000 && !journal_has (f, "\"step\":\"rewrap\""); i++)
    g_usleep (10000);
  g_assert_true (journal_has (f, "\"step\":\"rewrap\""));
  g_subprocess_force_exit (cli);
  g_subprocess_wait (cli, NULL, NULL);
  {
    g_autoptr (JsonObject) status = emu_wait_rotation (f->emu, "rewrapped");
  }
  {
    /* Any ceremony verb warns; the service refuses to clear the new key now. */
    g_auto (RotRun) clear = rot_tke (f, pw, "cryptounit-mk-clrnew", "--yes", NULL);

    g_assert_nonnull (strstr (clear.err, "interrupted “rotate” ceremony"));
    g_assert_cmpint (clear.status, ==, 1);
  }
  {
    g_auto (RotRun) setimm = rot_tke (f, pw, "cryptounit-mk-setimm", "--yes", NULL);

    rot_assert_ok (setimm);
    g_assert_nonnull (strstr (setimm.err, "interrupted “rotate” ceremony"));
    g_assert_nonnull (strstr (setimm.out, "set immediate on every crypto unit"));
  }
  rot_assert_done (f, vp);
  {
    g_auto (RotRun) setimm = rot_tke (f, pw, "cryptounit-mk-setimm", "--yes", NULL);

    /* Done: nothing interrupted, and nothing left to set. */
    g_assert_null (strstr (setimm.err, "interrupted"));
    rot_assert_fails (setimm, 1, "Set immediate is not safe now");
  }
}

/* Row 4: set immediate fails on one of 3 units; remove the switched units,
 * then set immediate on the rest. */
static void
test_setimm_failed_on_one (RotFixture *f, gconstpointer user_data)
{
  const char *const faults[] = { "--fail-setimm-on", "2", NULL };
  g_autofree char *pw = NULL, *vp = NULL;

  rot_start (f, 500, faults);
  rot_cli_setup (f);
  pw = pw1_line (f);
  vp = rot_load_commit (f);
  {
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);
    g_auto (RotRun) setimm = { 0 };

    rot_assert_fails (rotate, 1, "Next: tke cryptounit-rm 1 3, then tke cryptounit-mk-setimm");
    g_assert_nonnull (strstr (rotate.out, "Crypto unit 1: set immediate OK"));
    g_assert_nonnull (strstr (rotate.out, "Crypto unit 2: set immediate FAILED"));
    g_assert_nonnull (strstr (rotate.out, "Crypto unit 3: set immediate OK"));
    g_assert_nonnull (strstr (rotate.out, TKE_ROTATION_MESSAGE_REWRAPPED));
    g_assert_null (strstr (rotate.out, TKE_ROTATION_MESSAGE_SUCCESSFUL));

    setimm = rot_tke (f, pw, "cryptounit-mk-setimm", "--yes", NULL);
    rot_assert_fails (setimm, 1, "Remove them from the selection first: tke cryptounit-rm 1 3");
  }
  assert_state (f, "rewrapped");
  rot_restart (f, NULL);
  rot_cli_login (f);
  {
    g_auto (RotRun) rm = rot_tke (f, NULL, "cryptounit-rm", "1", "3", NULL);
    g_auto (RotRun) setimm = rot_tke (f, pw, "cryptounit-mk-setimm", "--yes", NULL);

    rot_assert_ok (rm);
    rot_assert_ok (setimm);
    g_assert_nonnull (strstr (setimm.out, "Crypto unit 2: set immediate OK"));
    g_assert_nonnull (strstr (setimm.out, TKE_ROTATION_MESSAGE_SUCCESSFUL));
  }
  rot_assert_done (f, vp);
}

/* Issue 13: the second and third rotation of an instance, through the
 * CLI, each show the service's three messages in order. */
static void
test_rotations_in_a_row (RotFixture *f, gconstpointer user_data)
{
  g_autofree char *pw = NULL;

  rot_start (f, 300, NULL);
  rot_cli_setup (f);
  pw = pw1_line (f);
  for (guint round = 1; round <= 3; round++)
    {
      g_autofree char *vp = rot_load_commit (f);
      g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);

      g_test_message ("rotation %u", round);
      rot_assert_ok (rotate);
      assert_in_order (rotate.out, all_messages);
      g_assert_nonnull (strstr (rotate.out, "Rewrapped 300 of 300 keys"));
      rot_assert_done (f, vp);
    }
}

/* Issue 13: the recovery unit (3) holds the master key, so a rotation
 * without it is refused before anything changes. */
static void
test_recovery_unit_deselected (RotFixture *f, gconstpointer user_data)
{
  g_autofree char *pw = NULL, *vp = NULL;

  rot_start (f, 200, NULL);
  rot_cli_setup (f);
  pw = pw1_line (f);
  vp = rot_load_commit (f);
  {
    g_auto (RotRun) rm = rot_tke (f, NULL, "cryptounit-rm", "3", NULL);
    g_auto (RotRun) compare = rot_tke (f, NULL, "cryptounit-compare", NULL);
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);
    g_auto (RotRun) add = { 0 };

    rot_assert_ok (rm);
    rot_assert_fails (compare, 1, "Crypto unit 3 of the service instance is not selected");
    rot_assert_fails (rotate, 1, "Crypto unit 3 of the service instance is not selected");
    rot_assert_fails (rotate, 1, "Next: tke cryptounit-mk-rotate");
    assert_state (f, "none");
    add = rot_tke (f, NULL, "cryptounit-add", "3", NULL);
    rot_assert_ok (add);
  }
  {
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);

    rot_assert_ok (rotate);
  }
  rot_assert_done (f, vp);
}

/* Issue 13: after a completed rotation, unit 2 is zeroized and set up
 * again with the instance's key; Set immediate is its first activation. */
static void
test_zeroize_and_set_up_again (RotFixture *f, gconstpointer user_data)
{
  g_autofree char *pw = NULL, *vp = NULL, *again_vp = NULL, *add1 = NULL, *add2 = NULL;
  g_autofree char *p1 = NULL, *p2 = NULL;
  EVP_PKEY *one[] = { NULL, NULL }, *both[] = { NULL, NULL, NULL };
  g_auto (GStrv) units = NULL;

  rot_start (f, 200, NULL);
  rot_cli_setup (f);
  pw = pw1_line (f);
  one[0] = both[0] = f->a1;
  both[1] = f->a2;
  units = emu_unit_ids (f->emu);
  vp = rot_load_commit (f);
  {
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);

    rot_assert_ok (rotate);
  }
  p1 = emu_point_hex (f->a1);
  p2 = emu_point_hex (f->a2);
  add1 = g_strdup_printf ("{\"name\":\"admin1\",\"public_key\":\"%s\"}", p1);
  add2 = g_strdup_printf ("{\"name\":\"admin2\",\"public_key\":\"%s\"}", p2);
  {
    g_autoptr (JsonObject) z = emu_command_ok (f->emu, units[1], "zeroize", NULL, one);
    g_autoptr (JsonObject) r1 = emu_command_ok (f->emu, units[1], "add_admin", add1, NULL);
    g_autoptr (JsonObject) r2 = emu_command_ok (f->emu, units[1], "add_admin", add2, NULL);
    g_autoptr (JsonObject) r3 =
        emu_command_ok (f->emu, units[1], "set_thresholds",
                        "{\"signature_threshold\":2,\"revocation_threshold\":1}", both);
  }
  again_vp = rot_load_commit_on (f, units[1], f->parts);
  g_assert_cmpstr (again_vp, ==, vp);
  {
    g_auto (RotRun) rm = rot_tke (f, NULL, "cryptounit-rm", "1", "3", NULL);
    g_auto (RotRun) setimm = rot_tke (f, pw, "cryptounit-mk-setimm", "--yes", NULL);
    g_auto (RotRun) add = rot_tke (f, NULL, "cryptounit-add", "1", "3", NULL);

    rot_assert_ok (rm);
    rot_assert_ok (setimm);
    rot_assert_ok (add);
  }
  rot_assert_done (f, vp);
}

/* Set immediate as the advice says: on every unit, or (when the killed
 * CLI's requests still reached some units) on the others. */
static void
follow_setimm_advice (RotFixture *f, const char *pw)
{
  g_auto (RotRun) setimm = rot_tke (f, pw, "cryptounit-mk-setimm", "--yes", NULL);
  const char *rm;
  g_auto (GStrv) numbers = NULL;
  g_autofree char *state = NULL;

  if (setimm.status == 0)
    return;
  state = rot_rotation_state (f);
  if (g_str_equal (state, "complete"))
    return;
  rm = strstr (setimm.err, "first: tke cryptounit-rm ");
  g_assert_nonnull (rm);
  numbers = g_strsplit_set (rm + strlen ("first: tke cryptounit-rm "), " \n", -1);
  for (guint i = 0; numbers[i] != NULL && *numbers[i] != '\0'; i++)
    {
      g_auto (RotRun) out = rot_tke (f, NULL, "cryptounit-rm", numbers[i], NULL);

      rot_assert_ok (out);
    }
  {
    g_auto (RotRun) rest = rot_tke (f, pw, "cryptounit-mk-setimm", "--yes", NULL);
    g_auto (RotRun) add = rot_tke (f, NULL, "cryptounit-add", "1", "2", "3", NULL);

    rot_assert_ok (rest);
  }
}

/* Issue 13: the token expires after the rewrap, before set immediate: the
 * hint names Set immediate, as the advice does once logged in again. */
static void
test_expired_after_rewrap (RotFixture *f, gconstpointer user_data)
{
  const char *const slow[] = { "--latency-ms", "300", "--token-ttl", "8", NULL };
  g_autofree char *pw = NULL, *vp = NULL, *password_file = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) cli = NULL;
  g_autoptr (GError) error = NULL;
  gint64 logged_in;

  rot_start (f, 200, NULL);
  rot_cli_setup (f);
  pw = pw1_line (f);
  vp = rot_load_commit (f);
  rot_restart (f, slow);
  rot_cli_login (f);
  logged_in = g_get_monotonic_time ();

  password_file = g_build_filename (f->cli.top, "pw-rotate", NULL);
  g_assert_true (g_file_set_contents (password_file, pw, -1, NULL));
  launcher = tke_test_cli_launcher (&f->cli, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                 G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  cli = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("TKE_CLI"), "cryptounit-mk-rotate",
                                     "--yes", "--password-file", password_file, NULL);
  g_assert_no_error (error);
  /* Killed once the journal says the rewrap is done. */
  for (guint i = 0; i < 3000 && !journal_has (f, "\"step\":\"set-immediate\""); i++)
    g_usleep (5000);
  g_assert_true (journal_has (f, "\"step\":\"set-immediate\""));
  g_subprocess_force_exit (cli);
  g_subprocess_wait (cli, NULL, NULL);
  /* Until the token has expired. */
  while (g_get_monotonic_time () < logged_in + 9 * G_USEC_PER_SEC)
    g_usleep (100000);
  {
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);

    rot_assert_fails (rotate, 3, "Log in again");
    rot_assert_fails (rotate, 3, "then tke cryptounit-mk-setimm");
  }
  rot_restart (f, NULL);
  rot_cli_login (f);
  follow_setimm_advice (f, pw);
  rot_assert_done (f, vp);
}

static void
add_part_by_value (RotFixture *f, const char *hex, guint expected_keynum)
{
  g_autofree char *lines =
      g_strdup_printf ("%s\npartpass%u\npartpass%u\n", hex, expected_keynum, expected_keynum);
  g_autofree char *expected = g_strdup_printf ("KEYNUM %u:", expected_keynum);
  g_auto (RotRun) add = rot_tke (f, lines, "mk-add", "--value", "--description", "by value", NULL);

  rot_assert_ok (add);
  g_assert_nonnull (strstr (add.out, expected));
}

static void
assert_new_registers_empty (RotFixture *f)
{
  g_auto (GStrv) units = emu_unit_ids (f->emu);

  for (guint u = 0; units[u] != NULL; u++)
    {
      g_autoptr (JsonObject) q = emu_query (f->emu, units[u]);

      g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Empty");
    }
}

/* Issue 13: the same part twice, parts whose XOR is zero, and a zero part
 * typed in are refused before anything reaches a unit. */
static void
test_weak_keys (RotFixture *f, gconstpointer user_data)
{
  static const char a[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  static const char b[] = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
  static const char a_xor_b[] = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
  static const char zero[] = "0000000000000000000000000000000000000000000000000000000000000000";
  g_autofree char *pw = NULL;

  rot_start (f, 50, NULL);
  rot_cli_setup (f);
  pw = pw1_line (f);
  add_part_by_value (f, a, 1);
  add_part_by_value (f, b, 2);
  add_part_by_value (f, a_xor_b, 3);
  {
    g_autofree char *lines = g_strdup_printf ("%s\npartpass0\npartpass0\n", zero);
    g_auto (RotRun) add = rot_tke (f, lines, "mk-add", "--value", "--description", "zero", NULL);

    rot_assert_fails (add, 1, "all zero");
  }
  {
    g_autofree char *lines = g_strdup_printf ("%spartpass1\npartpass1\n", pw);
    g_auto (RotRun) load = rot_tke (f, lines, "cryptounit-mk-load", "1", "1", "--yes", NULL);

    rot_assert_fails (load, 1, "Key parts 1 and 2 are the same key part");
    assert_new_registers_empty (f);
  }
  {
    g_autofree char *lines = g_strdup_printf ("%spartpass1\npartpass2\npartpass3\n", pw);
    g_auto (RotRun) load = rot_tke (f, lines, "cryptounit-mk-load", "1", "2", "3", "--yes", NULL);

    rot_assert_fails (load, 1, "all zero");
    assert_new_registers_empty (f);
  }
  {
    g_autofree char *lines = g_strdup_printf ("%spartpass1\npartpass2\n", pw);
    g_auto (RotRun) load = rot_tke (f, lines, "cryptounit-mk-load", "1", "2", "--yes", NULL);

    rot_assert_ok (load);
  }
}

/* Issue 13: mk-add and sigkey-add at once get different KEYNUMs and no
 * file is lost. */
static void
test_concurrent_keynums (RotFixture *f, gconstpointer user_data)
{
  g_autoptr (GPtrArray) processes = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *password_file = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  const guint n = 6;

  rot_start (f, 10, NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->cli.files, 0700), ==, 0);
  password_file = g_build_filename (f->cli.top, "pw-new", NULL);
  g_assert_true (g_file_set_contents (password_file, "concurrent1\nconcurrent1\n", -1, NULL));
  launcher = tke_test_cli_launcher (&f->cli, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                 G_SUBPROCESS_FLAGS_STDERR_PIPE);
  for (guint i = 0; i < 2 * n; i++)
    {
      g_autofree char *description = g_strdup_printf ("part %u", i);
      g_autoptr (GError) error = NULL;
      GSubprocess *p =
          i < n ? g_subprocess_launcher_spawn (launcher, &error, g_getenv ("TKE_CLI"), "mk-add",
                                               "--random", "--description", description,
                                               "--password-file", password_file, NULL)
                : g_subprocess_launcher_spawn (launcher, &error, g_getenv ("TKE_CLI"), "sigkey-add",
                                               "--name", description, "--password-file",
                                               password_file, NULL);

      g_assert_no_error (error);
      g_ptr_array_add (processes, p);
    }
  for (guint i = 0; i < processes->len; i++)
    {
      g_autofree char *out = NULL, *err = NULL;
      g_autoptr (GError) error = NULL;
      const char *kind = i < n ? "part" : "sig";

      g_subprocess_communicate_utf8 (processes->pdata[i], NULL, NULL, &out, &err, &error);
      g_assert_no_error (error);
      if (g_subprocess_get_exit_status (processes->pdata[i]) != 0 ||
          strstr (out, "KEYNUM ") == NULL)
        g_error ("tke %u failed: %s%s", i, out, err);
      {
        g_autofree char *key =
            g_strdup_printf ("%s %u", kind, (guint) atoi (strstr (out, "KEYNUM ") + 7));

        if (!g_hash_table_add (seen, g_steal_pointer (&key)))
          g_error ("KEYNUM given twice: %s", out);
      }
    }
  for (guint k = 1; k <= n; k++)
    {
      g_autofree char *part = g_strdup_printf ("%s/%u.keypart", f->cli.files, k);
      g_autofree char *sig = g_strdup_printf ("%s/%u.sigkey", f->cli.files, k);

      g_assert_true (g_file_test (part, G_FILE_TEST_IS_REGULAR));
      g_assert_true (g_file_test (sig, G_FILE_TEST_IS_REGULAR));
    }
  {
    /* Nothing staged is left behind. */
    g_autoptr (GDir) dir = g_dir_open (f->cli.files, 0, NULL);
    const char *name;
    guint count = 0;

    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_assert_false (g_str_has_prefix (name, ".new-"));
        count++;
      }
    g_assert_cmpuint (count, ==, 2 * n);
  }
}

/* Issue 13: a commit that stopped after the first unit goes on with the
 * others when run again (it used to fail at the first unit, in the CLI). */
static void
test_commit_resumes (RotFixture *f, gconstpointer user_data)
{
  g_autofree char *pw = NULL, *both = NULL, *commit_args = NULL;
  EVP_PKEY *signers[] = { NULL, NULL, NULL };
  g_auto (GStrv) units = NULL;

  rot_start (f, 50, NULL);
  rot_cli_setup (f);
  pw = pw1_line (f);
  both = g_strdup_printf ("%s\n%s\n", f->pw1, f->pw2);
  signers[0] = f->a1;
  signers[1] = f->a2;
  units = emu_unit_ids (f->emu);
  for (guint i = 1; i <= 2; i++)
    {
      g_auto (RotRun) add = rot_tke (f, "partpass1\npartpass1\n", "mk-add", "--random",
                                     "--description", "part", NULL);

      rot_assert_ok (add);
    }
  {
    g_autofree char *lines = g_strdup_printf ("%spartpass1\npartpass1\n", pw);
    g_auto (RotRun) load = rot_tke (f, lines, "cryptounit-mk-load", "1", "2", "--yes", NULL);

    rot_assert_ok (load);
  }
  {
    g_autoptr (JsonObject) q = emu_query (f->emu, units[0]);
    g_autoptr (JsonObject) r = NULL;

    commit_args =
        g_strdup_printf ("{\"new_mkvp\":\"%s\"}", json_object_get_string_member (q, "new_mkvp"));
    r = emu_command_ok (f->emu, units[0], "commit", commit_args, signers);
  }
  {
    g_auto (RotRun) commit = rot_tke (f, both, "cryptounit-mk-commit", "--yes", NULL);

    rot_assert_ok (commit);
    g_assert_nonnull (strstr (commit.out, "done already"));
  }
  for (guint u = 0; units[u] != NULL; u++)
    {
      g_autoptr (JsonObject) q = emu_query (f->emu, units[u]);

      g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Full Committed");
    }
}

static void
on_message (TkeRotation *rotation, const char *text, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (text));
}

static gboolean
cancel_when_rewrapping (gpointer user_data)
{
  TkeRotation *rotation = g_object_get_data (user_data, "rotation");
  TkeRotationStatus *status = tke_rotation_get_status (rotation);

  if (status == NULL || tke_rotation_status_get_state (status) != TKE_ROTATION_STATE_REWRAPPING)
    return G_SOURCE_CONTINUE;
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

/* The library: cancel stops the wait and journals it; recover finishes. */
static void
test_cancel_and_recover (RotFixture *f, gconstpointer user_data)
{
  const char *const slow[] = { "--latency-ms", "100", NULL };
  g_autofree char *vp = NULL, *key_path = NULL, *journal_path = NULL;
  g_autoptr (TkeServiceClient) client = NULL;
  g_autoptr (TkeSecret) api_key = NULL, password = NULL;
  g_autoptr (GAsyncResult) login = NULL, listed = NULL, ran = NULL, recovered = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (GPtrArray) units = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (TkeSignatureKeyFile) key_file = NULL;
  g_autoptr (TkeRotation) rotation = NULL;
  g_autoptr (TkeJournal) journal = NULL;
  g_autoptr (TkeJournalRecord) last = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  GListModel *model;

  rot_start (f, 20000, slow);
  vp = rot_load_commit (f);
  client = tke_service_client_new (f->emu->url, f->emu->ca_file);
  tke_service_client_set_unit_root (client, f->emu->unit_root);
  api_key = tke_secret_new_from_data ((const guint8 *) f->emu->api_key, strlen (f->emu->api_key));
  tke_service_client_login_async (client, api_key, NULL, tke_test_async_done, &login);
  tke_test_await (&login, 0);
  g_assert_true (tke_service_client_login_finish (client, login, &error));
  tke_service_client_list_units_async (client, NULL, tke_test_async_done, &listed);
  tke_test_await (&listed, 0);
  instance = tke_service_client_list_units_finish (client, listed, &error);
  g_assert_no_error (error);
  model = tke_service_instance_get_units (instance);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    g_ptr_array_add (units, g_list_model_get_item (model, i));
  key_path = g_build_filename (f->state, "admin1.sigkey", NULL);
  key_file = tke_signature_key_file_load (key_path, &error);
  g_assert_no_error (error);
  password = tke_secret_new_from_data ((const guint8 *) f->pw1, strlen (f->pw1));
  g_ptr_array_add (signers, tke_file_signer_new (key_file, password));
  journal_path = g_build_filename (f->cli.top, "journal", NULL);
  journal = tke_journal_new (journal_path);

  rotation = tke_rotation_new (client, instance, units);
  tke_rotation_set_signers (rotation, signers);
  tke_rotation_set_journal (rotation, journal);
  tke_rotation_set_poll_interval (rotation, 20);
  g_signal_connect (rotation, "message", G_CALLBACK (on_message), messages);
  g_object_set_data (G_OBJECT (cancellable), "rotation", rotation);
  g_timeout_add (5, cancel_when_rewrapping, cancellable);
  tke_rotation_run_async (rotation, cancellable, tke_test_async_done, &ran);
  tke_test_await (&ran, 0);
  g_assert_false (tke_rotation_run_finish (rotation, ran, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_false (tke_rotation_has_advice (rotation));
  {
    /* The journal says where it stopped, and that the ceremony ended. */
    g_autoptr (GPtrArray) records = tke_journal_read (journal, &error);
    TkeJournalRecord *end = records->pdata[records->len - 1];
    TkeJournalRecord *step = records->pdata[records->len - 2];

    g_assert_cmpstr (end->step, ==, TKE_JOURNAL_STEP_END);
    g_assert_cmpstr (end->outcome, ==, TKE_JOURNAL_OUTCOME_CANCELLED);
    g_assert_cmpstr (step->step, ==, TKE_JOURNAL_STEP_REWRAP);
    g_assert_cmpstr (step->outcome, ==, TKE_JOURNAL_OUTCOME_CANCELLED);
    g_assert_cmpstr (end->to_vp, ==, vp);
  }
  last = tke_journal_find_interrupted (journal, &error);
  g_assert_null (last);

  /* The service rewraps on; recover follows the advice to the end. */
  tke_rotation_recover_async (rotation, NULL, tke_test_async_done, &recovered);
  tke_test_await (&recovered, 0);
  g_assert_true (tke_rotation_recover_finish (rotation, recovered, &error));
  g_assert_no_error (error);
  g_assert_cmpint (tke_rotation_get_advice (rotation), ==, TKE_RECOVERY_ACTION_NONE);
  g_assert_cmpuint (messages->len, >=, 2);
  g_assert_cmpstr (messages->pdata[0], ==, TKE_ROTATION_MESSAGE_STARTED);
  g_assert_cmpstr (messages->pdata[messages->len - 1], ==, TKE_ROTATION_MESSAGE_SUCCESSFUL);
  for (guint i = 0; i < units->len; i++)
    g_assert_null (tke_rotation_get_unit_error (rotation, units->pdata[i]));
  rot_assert_done (f, vp);
}

int
main (int argc, char **argv)
{
  /* Each test starts the fixture's emulator with the keys and faults it
   * needs; the tear-down stops it and removes its workstation. */
#define add_rotation_test(path, func) g_test_add (path, RotFixture, NULL, NULL, func, rot_tear_down)
  g_test_init (&argc, &argv, NULL);
  add_rotation_test ("/rotation/complete", test_complete);
  add_rotation_test ("/rotation/prechecks", test_prechecks);
  add_rotation_test ("/rotation/expired-token", test_expired_token);
  add_rotation_test ("/rotation/crash-during-rewrap", test_crash_during_rewrap);
  add_rotation_test ("/rotation/after-rewrap", test_after_rewrap);
  add_rotation_test ("/rotation/setimm-failed-on-one", test_setimm_failed_on_one);
  add_rotation_test ("/rotation/cancel-and-recover", test_cancel_and_recover);
  add_rotation_test ("/rotation/in-a-row", test_rotations_in_a_row);
  add_rotation_test ("/rotation/weak-keys", test_weak_keys);
  add_rotation_test ("/rotation/commit-resumes", test_commit_resumes);
  add_rotation_test ("/rotation/concurrent-keynums", test_concurrent_keynums);
  add_rotation_test ("/rotation/recovery-unit-deselected", test_recovery_unit_deselected);
  add_rotation_test ("/rotation/zeroize-and-set-up-again", test_zeroize_and_set_up_again);
  add_rotation_test ("/rotation/expired-after-rewrap", test_expired_after_rewrap);
  return g_test_run ();
}
