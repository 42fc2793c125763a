/* commit-requests-bench.c: how many HTTPS requests one Commit makes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Issue 11's measure: one Commit over N = 3 crypto units, run as the
 * person runs it (the Master keys tab, the wizard, two administrator
 * cards in a virtual PIN-pad reader, the on-screen PIN pad), against the
 * real emulator, which writes one line per request to its --request-log.
 * The scene is the GUI card ceremony tests' (tests/gui/card-ceremony-
 * fixture.h).  The count runs from the press of Commit… until the
 * application is idle again (every read after the ceremony included).
 * Target: 1 + 2 N.  libtke's ceremony makes 2 N (a verified query before
 * each unit's command; the command's signed answer carries the unit's new
 * state, so no query after): the integration test /signers/requests keeps
 * that count.
 *
 *   xvfb-run -a dbus-run-session -- _build/…/tests/bench/commit-requests-bench
 */

#include "config.h"

#include <openssl/evp.h>

#include "card-ceremony-fixture.h"
#include "tke-test-util.h"
#include "tke-session.h"

static char *request_log;

/* A new key loaded on every unit with the demo administrators' key files:
 * the commit is what is measured. */
static void
load_new_key (void)
{
  g_auto (GStrv) ids = emu_unit_ids (emu);
  EVP_PKEY *a1 = emu_demo_admin (emu, 1);
  EVP_PKEY *one[] = { a1, NULL }, *two[] = { a1, a1, NULL };
  g_autoptr (TkeSecret) p1 = tke_secret_new_random (TKE_MASTER_KEY_SIZE, NULL);
  g_autoptr (TkeSecret) p2 = tke_secret_new_random (TKE_MASTER_KEY_SIZE, NULL);
  TkeSecret *parts[] = { p1, p2 };

  for (guint u = 0; ids[u] != NULL; u++)
    {
      g_autoptr (JsonObject) imp = emu_command_ok (emu, ids[u], "generate_importer_key", NULL, one);
      g_autofree char *load = emu_load_args (
          ids[u], json_object_get_string_member (imp, "importer_key"), parts, 2, FALSE);
      g_autoptr (JsonObject) loaded = emu_command_ok (emu, ids[u], "load", load, two);
    }
  EVP_PKEY_free (a1);
}

static guint
n_requests (void)
{
  g_autofree char *text = NULL;
  guint n = 0;

  if (!g_file_get_contents (request_log, &text, NULL, NULL))
    return 0;
  for (const char *c = text; *c != '\0'; c++)
    n += *c == '\n';
  return n;
}

static void
print_requests (guint from)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  g_file_get_contents (request_log, &text, NULL, NULL);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = from; lines[i] != NULL && lines[i][0] != '\0'; i++)
    g_print ("  %s\n", lines[i]);
}

static gboolean
session_idle (gpointer data)
{
  TkeSession *session = g_object_get_data (G_OBJECT (window), "tke-session");

  return session != NULL && tke_session_get_busy (session) == 0;
}

int
main (int argc, char **argv)
{
  g_autofree char *log_dir = g_dir_make_tmp ("tke-bench-commit-log-XXXXXX", NULL);
  guint before, after, n_units = 3;

  /* The programs, as meson test would give them. */
  g_setenv ("TKE_EMULATOR", TKE_EMULATOR_PATH, FALSE);
  g_setenv ("TKE_VIRTUAL_READERS", TKE_VIRTUAL_READERS_PATH, FALSE);
  g_setenv ("TKE_CARD", TKE_CARD_PATH, FALSE);
  g_setenv ("GSETTINGS_SCHEMA_DIR", TKE_SCHEMA_DIR, FALSE);
  request_log = g_build_filename (log_dir, "requests.log", NULL);
  {
    const char *const args[] = {
      "--init", "demo", "--keys", "0", "--request-log", request_log, NULL
    };

    if (!card_ceremony_set_up_with (&argc, &argv, "tke-bench-commit-XXXXXX", args))
      return 77;
  }
  load_new_key ();
  open_and_log_in ();
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Uncommitted", 20000));
  g_assert_true (tke_test_wait_until (session_idle, NULL, 20000));

  before = n_requests ();
  /* By its label, as a person finds it. */
  press_keys_button ("Commit…");
  sign_until_done (swap_card);
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("commit: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Committed", 20000));
  g_assert_true (tke_test_wait_until (session_idle, NULL, 20000));
  tke_test_iterate (1000); /* anything queued after the ceremony */
  g_assert_true (tke_test_wait_until (session_idle, NULL, 20000));
  after = n_requests ();

  g_print ("commit-requests: Commit over N=%u units: %u HTTPS requests (target 1 + 2N = %u)\n",
           n_units, after - before, 1 + 2 * n_units);
  print_requests (before);

  gtk_window_destroy (GTK_WINDOW (window));
  tke_test_iterate (100);
  g_object_unref (app);
  card_ceremony_tear_down ();
  tke_test_remove_tree (log_dir);
  return 0;
}
