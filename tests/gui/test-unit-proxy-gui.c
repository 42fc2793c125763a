/* test-unit-proxy-gui.c: the Load wizard refuses what an intercepting
 * proxy forges (issue 12, through the GUI ceremony)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The application talks to the real emulator through the intercepting TLS
 * proxy of tests/integration/unit-proxy.c (a certificate from the
 * emulator's own CA); pcscd runs the two virtual PIN-pad readers with an
 * administrator card and a key part card made with tke-card.  The person
 * starts Load… on the Master keys tab while the proxy (a) swaps the
 * importer key, (b) alters a query answer's VP and register state, (c)
 * replays an old, genuinely signed answer, (d) moves unit 1's answer to
 * unit 2.  Each time the wizard ends on its error page with a message
 * naming the unit; the key part card's keypad never starts (nothing is
 * sealed), and the emulator, asked directly, is unchanged.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "emu-client.h"
#include "tke-application.h"
#include "tke-load-wizard.h"
#include "tke-login-dialog.h"
#include "tke-pin-prompt.h"
#include "tke-readers-fixture.h"
#include "tke-test-gtk-utils.h"
#include "tke-virtual-pin-pad.h"
#include "tke-window.h"
#include "unit-proxy.h"

#define ADMIN_PIN "111111"
#define PART_PIN "333333"

static TkeApplication *app;
static char *base_dir;
static TkeReadersFixture readers;
static Emu *emu;
static Proxy *proxy;
static TkeWindow *window;

/* ---- The person's hands (as in test-card-ceremonies.c) ---- */

static TkeLoadWizard *
wizard (void)
{
  return TKE_LOAD_WIZARD (tke_test_find_toplevel (TKE_TYPE_LOAD_WIZARD));
}

static TkePinPrompt *
prompt (void)
{
  return tke_load_wizard_get_pin_prompt (wizard ());
}

static gboolean
pad_waits (gpointer data)
{
  return wizard () != NULL && tke_pin_prompt_get_state (prompt ()) == TKE_PIN_PROMPT_ENTER_PIN &&
         gtk_widget_get_visible (tke_pin_prompt_get_pad (prompt ()));
}

static gboolean
replies_reach (gpointer data)
{
  gpointer *args = data;
  return tke_virtual_pin_pad_get_n_replies (args[0]) >= GPOINTER_TO_UINT (args[1]);
}

static gboolean
wizard_ended (gpointer data)
{
  TkeLoadWizard *w = wizard ();

  return w != NULL && (g_str_equal (tke_load_wizard_get_page (w), "result") ||
                       g_str_equal (tke_load_wizard_get_page (w), "error"));
}

/* The administrator's PIN on the on-screen pad, once reader 1 asks. */
static void
type_admin_pin (void)
{
  g_autofree char *ready = NULL;
  GtkWidget *pad;
  gpointer args[2];

  g_assert_true (tke_test_wait_until (pad_waits, NULL, 30000));
  g_assert_nonnull (strstr (tke_pin_prompt_get_title (prompt ()), "reader 1"));
  ready = tke_readers_ctl (&readers, 1, "wait-prompt 20000");
  g_assert_cmpstr (ready, ==, "ok");
  pad = tke_pin_prompt_get_pad (prompt ());
  args[0] = pad;
  args[1] = GUINT_TO_POINTER (tke_virtual_pin_pad_get_n_replies (TKE_VIRTUAL_PIN_PAD (pad)) +
                              strlen (ADMIN_PIN) + 1);
  for (const char *k = ADMIN_PIN; *k != '\0'; k++)
    {
      char label[2] = { *k, '\0' };
      tke_test_click (tke_test_find_button (pad, label));
    }
  tke_test_click (tke_test_find_button (pad, "OK"));
  g_assert_true (tke_test_wait_until (replies_reach, args, 10000));
}

/* How often a reader's keypad started: a sealed key part needs the part
 * card's PIN on reader 2. */
static guint64
keypad_starts (guint reader)
{
  g_autofree char *answer = tke_readers_ctl (&readers, reader, "counters");
  const char *keypad = strstr (answer, "keypad=");

  g_assert_nonnull (keypad);
  return g_ascii_strtoull (keypad + strlen ("keypad="), NULL, 10);
}

/* ---- The application ---- */

static GListModel *
units (void)
{
  return tke_crypto_units_page_get_units (tke_window_get_units_page (window));
}

static gboolean
units_shown (gpointer data)
{
  return units () != NULL && g_list_model_get_n_items (units ()) >= 3;
}

static gboolean
no_login_dialog (gpointer data)
{
  return tke_test_find_toplevel (TKE_TYPE_LOGIN_DIALOG) == NULL;
}

static void
open_and_log_in (void)
{
  TkeLoginDialog *dialog;
  GtkWidget *entry;

  window = tke_application_open_window (app);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 760);
  gtk_window_present (GTK_WINDOW (window));
  tke_test_flush_widget (GTK_WIDGET (window));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.log-in", NULL);
  dialog = TKE_LOGIN_DIALOG (tke_test_find_toplevel (TKE_TYPE_LOGIN_DIALOG));
  entry =
      tke_test_find_widget_of_type (GTK_WIDGET (dialog), ADW_TYPE_PASSWORD_ENTRY_ROW, NULL, NULL);
  gtk_editable_set_text (GTK_EDITABLE (entry), emu->api_key);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Log In"));
  g_assert_true (tke_test_wait_until (no_login_dialog, NULL, 30000));
  g_assert_true (tke_test_wait_until (units_shown, NULL, 30000));
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units (), i);

      tke_crypto_unit_set_selected (unit, TRUE);
    }
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "master-keys");
  tke_test_flush_widget (GTK_WIDGET (window));
}

/* Everything the units say of themselves, asked directly. */
static char *
emulator_state (void)
{
  g_auto (GStrv) ids = emu_unit_ids (emu);
  GString *state = g_string_new (NULL);

  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autofree char *text = emu_query_text (emu, ids[i]);
      g_string_append_printf (state, "%s\n", text);
    }
  return g_string_free (state, FALSE);
}

static gboolean
answers_reach (gpointer data)
{
  guint n_answers, n_importer;

  proxy_get_counts (proxy, &n_answers, &n_importer);
  return n_answers >= GPOINTER_TO_UINT (data);
}

/* The window's Refresh, through the proxy, until its three queries went by. */
static void
refresh_units (void)
{
  guint n_answers, n_importer;

  proxy_get_counts (proxy, &n_answers, &n_importer);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.refresh", NULL);
  g_assert_true (tke_test_wait_until (answers_reach, GUINT_TO_POINTER (n_answers + 3), 30000));
  tke_test_iterate (200);
}

/* Load… pressed; for a swapped importer key the administrator's card signs
 * the importer key's generation (so its PIN is typed) and the answer is
 * refused; for the forged queries nothing is asked at all.  Returns the
 * error page's text. */
static char *
load_refused (gboolean admin_signs, const char *screenshot)
{
  guint64 part_keypad = keypad_starts (2);
  guint64 admin_keypad = keypad_starts (1);
  char *text;

  tke_test_click (
      tke_test_find_button (GTK_WIDGET (tke_window_get_master_keys_page (window)), "Load…"));
  g_assert_nonnull (wizard ());
  if (admin_signs)
    type_admin_pin ();
  g_assert_true (tke_test_wait_until (wizard_ended, NULL, 60000));
  g_assert_cmpstr (tke_load_wizard_get_page (wizard ()), ==, "error");
  text = g_strdup (tke_load_wizard_get_result_text (wizard ()));
  g_test_message ("refused: %s", text);
  g_assert_nonnull (strstr (text, "answered with a signature that does not verify"));
  g_assert_nonnull (strstr (text, "Nothing was sealed, signed or shown."));
  /* Not "start Load again": the same forger would answer. */
  g_assert_nonnull (strstr (text, "Do not start again: tell your security officer."));
  g_assert_null (strstr (text, "Start Load again"));
  /* Said once, not "Crypto unit 1: Crypto unit 1 answered…". */
  g_assert_null (strstr (text, ": Crypto unit"));
  /* Nothing sealed: the key part card was never asked for its PIN. */
  g_assert_cmpuint (keypad_starts (2), ==, part_keypad);
  if (!admin_signs)
    g_assert_cmpuint (keypad_starts (1), ==, admin_keypad);
  tke_test_iterate (600); /* the stack's slide to the error page */
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), screenshot);
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Close"));
  tke_test_iterate (300);
  g_assert_null (wizard ());
  return text;
}

static void
assert_names_unit (const char *text, guint unit)
{
  g_autofree char *name = g_strdup_printf ("Crypto unit %u ", unit);

  g_assert_nonnull (strstr (text, name));
}

static void
assert_new_registers_empty (void)
{
  g_auto (GStrv) ids = emu_unit_ids (emu);

  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (JsonObject) q = emu_query (emu, ids[i]);

      g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Empty");
    }
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units (), i);

      g_assert_cmpint (tke_crypto_unit_get_new_register_state (unit), ==, TKE_NEW_REGISTER_EMPTY);
    }
}

/* ---- The four forgeries ---- */

/* (a) The importer key swapped: refused at unit 1's importer key; the other
 * units are never asked for one. */
static void
test_swap_importer (void)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) ids = emu_unit_ids (emu);
  g_autofree char *unit2_before = emu_query_text (emu, ids[1]);
  g_autofree char *unit3_before = emu_query_text (emu, ids[2]);
  g_autofree char *unit2_after = NULL;
  g_autofree char *unit3_after = NULL;
  guint forged = proxy_get_n_forged (proxy);

  proxy_set_mode (proxy, PROXY_SWAP_IMPORTER);
  text = load_refused (TRUE, "proxy-swap-importer-refused");
  proxy_set_mode (proxy, PROXY_PASS);
  assert_names_unit (text, 1);
  g_assert_cmpuint (proxy_get_n_forged (proxy), >=, forged + 1);
  assert_new_registers_empty ();
  unit2_after = emu_query_text (emu, ids[1]);
  unit3_after = emu_query_text (emu, ids[2]);
  g_assert_cmpstr (unit2_after, ==, unit2_before);
  g_assert_cmpstr (unit3_after, ==, unit3_before);
}

/* (b) A query answer with another VP and register state. */
static void
test_alter_query (void)
{
  g_autofree char *before = emulator_state ();
  g_autofree char *after = NULL;
  g_autofree char *text = NULL;

  proxy_set_mode (proxy, PROXY_ALTER_QUERY);
  text = load_refused (FALSE, "proxy-alter-query-refused");
  proxy_set_mode (proxy, PROXY_PASS);
  assert_names_unit (text, 1);
  /* The window never showed the forged state. */
  assert_new_registers_empty ();
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units (), i);

      g_assert_cmpstr (tke_crypto_unit_get_current_register_vp (unit), !=,
                       "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    }
  after = emulator_state ();
  g_assert_cmpstr (after, ==, before);
}

/* (c) Each unit's first answer, recorded by a Refresh, replayed to Load. */
static void
test_replay (void)
{
  g_autofree char *before = emulator_state ();
  g_autofree char *after = NULL;
  g_autofree char *text = NULL;
  guint forged;

  proxy_set_mode (proxy, PROXY_REPLAY);
  forged = proxy_get_n_forged (proxy);
  refresh_units ();
  g_assert_cmpuint (proxy_get_n_forged (proxy), ==, forged);
  text = load_refused (FALSE, "proxy-replay-refused");
  proxy_set_mode (proxy, PROXY_PASS);
  assert_names_unit (text, 1);
  g_assert_nonnull (strstr (text, "replay"));
  g_assert_cmpuint (proxy_get_n_forged (proxy), >, forged);
  after = emulator_state ();
  g_assert_cmpstr (after, ==, before);
}

/* (d) Unit 1's genuine answer for unit 2's query. */
static void
test_move (void)
{
  g_autofree char *before = emulator_state ();
  g_autofree char *after = NULL;
  g_autofree char *text = NULL;

  proxy_set_mode (proxy, PROXY_MOVE);
  text = load_refused (FALSE, "proxy-move-refused");
  proxy_set_mode (proxy, PROXY_PASS);
  assert_names_unit (text, 2);
  g_assert_nonnull (strstr (text, "another unit"));
  after = emulator_state ();
  g_assert_cmpstr (after, ==, before);
}

/* ---- Set-up: cards, readers, the service with the card administrator ---- */

static void
make_cards (void)
{
  const char *ca[] = {
    "create-ca", "--zone-description", "Zone A", "--description", "CA A", "ca.card", NULL
  };
  const char *create_admin[] = { "create",      "--zone",      "ca.card",           "--description",
                                 "admin1.card", "--unit-root", emu->unit_root_file, "admin1.card",
                                 NULL };
  const char *create_part[] = { "create",   "--zone",      "ca.card",           "--description",
                                "kpA.card", "--unit-root", emu->unit_root_file, "kpA.card",
                                NULL };
  const char *sigkey[] = { "gen-sigkey", "admin1.card", NULL };
  const char *part[] = { "gen-keypart", "--description", "part A1", "kpA.card", NULL };

  g_assert_cmpint (tke_readers_card (&readers, "777777\n888888\n", ca, NULL), ==, 0);
  g_assert_cmpint (
      tke_readers_card (&readers, "777777\n888888\n" ADMIN_PIN "\n", create_admin, NULL), ==, 0);
  g_assert_cmpint (tke_readers_card (&readers, ADMIN_PIN "\n", sigkey, NULL), ==, 0);
  g_assert_cmpint (tke_readers_card (&readers, "777777\n888888\n" PART_PIN "\n", create_part, NULL),
                   ==, 0);
  g_assert_cmpint (tke_readers_card (&readers, PART_PIN "\n", part, NULL), ==, 0);
}

static void
on_public_key (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GBytes **point = user_data;
  g_autoptr (GError) error = NULL;

  *point = tke_signer_get_public_key_finish (TKE_SIGNER (source), result, &error);
  g_assert_no_error (error);
}

/* The card in reader 1, installed as an administrator on every unit with
 * the demo administrators' signatures. */
static void
install_card_admin (void)
{
  g_autoptr (TkeCardSigner) signer = tke_card_signer_new (NULL);
  g_autoptr (GBytes) point = NULL;
  g_auto (GStrv) ids = emu_unit_ids (emu);
  EVP_PKEY *admins[3] = { emu_demo_admin (emu, 1), emu_demo_admin (emu, 2), NULL };
  g_autofree char *hex = NULL;
  g_autofree char *args = NULL;

  tke_signer_get_public_key_async (TKE_SIGNER (signer), NULL, on_public_key, &point);
  while (point == NULL)
    g_main_context_iteration (NULL, TRUE);
  hex = tke_crypto_hex_encode (g_bytes_get_data (point, NULL), g_bytes_get_size (point));
  args = g_strdup_printf ("{\"name\":\"admin1.card\",\"public_key\":\"%s\"}", hex);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (JsonObject) answer = emu_command_ok (emu, ids[i], "add_admin", args, admins);
    }
  EVP_PKEY_free (admins[0]);
  EVP_PKEY_free (admins[1]);
}

/* The profile points at the proxy, trusting the emulator's TLS CA (whose
 * certificate the proxy shows) and pinning the emulator's unit root. */
static void
write_profile (void)
{
  g_autofree char *config = g_build_filename (base_dir, "config", "tke", NULL);
  g_autofree char *path = g_build_filename (config, "profile.ini", NULL);
  g_autofree char *text =
      g_strdup_printf ("[service]\nendpoint=%s\nca-file=%s\ninstance=%s\nunit-root=%s\n",
                       proxy_get_url (proxy), emu->ca_file, emu->instance, emu->unit_root);

  g_mkdir_with_parents (config, 0700);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

int
main (int argc, char **argv)
{
  int status;

  if (!g_getenv ("DISPLAY") && !g_getenv ("WAYLAND_DISPLAY"))
    {
      g_print ("1..0 # SKIP no display; run the gui suite under xvfb-run\n");
      return 0;
    }
  if (g_getenv ("TKE_EMULATOR") == NULL || g_getenv ("TKE_VIRTUAL_READERS") == NULL)
    {
      g_print ("1..0 # SKIP run from meson test\n");
      return 0;
    }
  base_dir = g_dir_make_tmp ("tke-gui-proxy-XXXXXX", NULL);
  {
    g_autofree char *config = g_build_filename (base_dir, "config", NULL);
    g_autofree char *keyring = g_build_filename (base_dir, "keyring", NULL);
    g_autofree char *state = g_build_filename (base_dir, "xdg-state", NULL);

    g_setenv ("XDG_CONFIG_HOME", config, TRUE);
    g_setenv ("XDG_STATE_HOME", state, TRUE);
    g_setenv ("SECRET_FILE_TEST_PATH", keyring, TRUE);
  }
  g_setenv ("SECRET_BACKEND", "file", TRUE);
  g_setenv ("SECRET_FILE_TEST_PASSWORD", "test", TRUE);

  {
    g_autofree char *state = g_build_filename (base_dir, "emulator", NULL);
    const char *const args[] = { "--init", "demo", "--keys", "0", NULL };

    emu = emu_start (state, args);
    emu_login (emu);
  }
  tke_readers_fixture_init (&readers);
  make_cards ();
  tke_readers_fixture_start (&readers, "admin1.card", "kpA.card");
  g_setenv ("TKE_VIRTUAL_READERS_DIR", readers.state_dir, TRUE);
  install_card_admin ();
  proxy = proxy_start (emu);
  write_profile ();

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  app = tke_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, NULL);
  open_and_log_in ();

  g_test_add_func ("/gui/unit-proxy/swap-importer", test_swap_importer);
  g_test_add_func ("/gui/unit-proxy/alter-query", test_alter_query);
  g_test_add_func ("/gui/unit-proxy/replay", test_replay);
  g_test_add_func ("/gui/unit-proxy/move", test_move);
  status = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  tke_test_iterate (100);
  proxy_free (proxy);
  emu_stop (emu);
  emu_free (emu);
  tke_readers_fixture_clear (&readers);
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", base_dir);
    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", base_dir);
  }
  g_free (base_dir);
  return status;
}
