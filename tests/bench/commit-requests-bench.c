/* commit-requests-bench.c: how many HTTPS requests one Commit makes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Issue 11's measure: one Commit over N = 3 crypto units, run as the
 * person runs it (the Master keys tab, the wizard, two administrator
 * cards in a virtual PIN-pad reader, the on-screen PIN pad), against the
 * real emulator, which writes one line per request to its --request-log.
 * The count runs from the press of Commit… until the application is idle
 * again (every read after the ceremony included).  Target: 1 + 2 N.
 *
 *   xvfb-run -a dbus-run-session -- _build/…/tests/bench/commit-requests-bench
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "emu-client.h"
#include "tke-application.h"
#include "tke-load-wizard.h"
#include "tke-login-dialog.h"
#include "tke-readers-fixture.h"
#include "tke-session.h"
#include "tke-test-gtk-utils.h"
#include "tke-virtual-pin-pad.h"
#include "tke-window.h"

typedef struct
{
  const char *image;
  const char *pin;
  const char *parts[3]; /* key part descriptions; none for an admin card */
} Card;

static const Card cards[] = {
  { "admin1.card", "111111", { NULL } },
  { "admin2.card", "222222", { NULL } },
};

static TkeApplication *app;
static char *base_dir;
static char *request_log;
static TkeReadersFixture readers;
static Emu *emu;
static TkeWindow *window;
static const Card *in_reader[3];

static const Card *
card_named (const char *image)
{
  for (gsize i = 0; i < G_N_ELEMENTS (cards); i++)
    if (g_str_equal (cards[i].image, image))
      return &cards[i];
  g_assert_not_reached ();
}

/* ---- The person's hands ---- */

/* Out, a moment, in: as a person swaps cards. */
static void
swap_card (guint reader, const Card *card)
{
  g_autofree char *path = tke_readers_path (&readers, card->image);
  g_autofree char *insert = g_strconcat ("insert ", path, NULL);
  g_autofree char *removed = tke_readers_ctl (&readers, reader, "remove");
  g_autofree char *inserted = NULL;

  g_assert_cmpstr (removed, ==, "ok");
  tke_test_iterate (800);
  inserted = tke_readers_ctl (&readers, reader, insert);
  g_assert_cmpstr (inserted, ==, "ok");
  in_reader[reader] = card;
  g_test_message ("reader %u: %s inserted", reader, card->image);
}

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

/* The digits and OK pressed on the on-screen pad, as on the reader. */
static void
type_pin (const char *pin)
{
  GtkWidget *pad;
  guint before;
  gpointer args[2];

  g_assert_true (tke_test_wait_until (pad_waits, NULL, 20000));
  {
    /* The screen says so a moment before the reader is in PIN mode; a
     * person looks at the reader's display before pressing its keys. */
    guint reader = strstr (tke_pin_prompt_get_title (prompt ()), "reader 2") != NULL ? 2 : 1;
    g_autofree char *ready = tke_readers_ctl (&readers, reader, "wait-prompt 20000");

    g_assert_cmpstr (ready, ==, "ok");
  }
  pad = tke_pin_prompt_get_pad (prompt ());
  before = tke_virtual_pin_pad_get_n_replies (TKE_VIRTUAL_PIN_PAD (pad));
  args[0] = pad;
  args[1] = GUINT_TO_POINTER (before + strlen (pin) + 1);
  for (const char *k = pin; *k != '\0'; k++)
    {
      char label[2] = { *k, '\0' };
      tke_test_click (tke_test_find_button (pad, label));
    }
  tke_test_click (tke_test_find_button (pad, "OK"));
  g_assert_true (tke_test_wait_until (replies_reach, args, 10000));
}

/* ---- What the person reads ---- */

static gboolean
wizard_ended (gpointer data)
{
  TkeLoadWizard *w = wizard ();

  return w != NULL && (g_str_equal (tke_load_wizard_get_page (w), "result") ||
                       g_str_equal (tke_load_wizard_get_page (w), "error"));
}

static gboolean
pin_taken (gpointer data)
{
  return wizard_ended (NULL) || tke_pin_prompt_get_state (prompt ()) != TKE_PIN_PROMPT_ENTER_PIN;
}

static const Card *
admin_card_asked (const char *asked)
{
  if (strstr (asked, "admin1.card") != NULL)
    return card_named ("admin1.card");
  if (strstr (asked, "admin2.card") != NULL)
    return card_named ("admin2.card");
  if (strstr (asked, "next administrator card") != NULL)
    return in_reader[1] == card_named ("admin1.card") ? card_named ("admin2.card")
                                                      : card_named ("admin1.card");
  return NULL;
}

/* The person at reader 1 during a signing ceremony, until it ends: types
 * the PIN when the reader asks for it, swaps in the administrator card
 * the screen names. */
static void
sign_until_done (void)
{
  g_autofree char *last_asked = NULL;

  while (!wizard_ended (NULL))
    {
      const char *asked;
      const Card *wanted;

      if (pad_waits (NULL))
        {
          type_pin (in_reader[1]->pin);
          /* The prompt moves on once the card has the PIN. */
          g_assert_true (tke_test_wait_until (pin_taken, NULL, 20000));
          continue;
        }
      asked = tke_pin_prompt_get_description (prompt ());
      if (tke_pin_prompt_get_state (prompt ()) == TKE_PIN_PROMPT_WAITING_FOR_CARD &&
          g_strcmp0 (asked, last_asked) != 0 && (wanted = admin_card_asked (asked)) != NULL)
        {
          /* Each request once: the screen may still show it a moment. */
          g_free (last_asked);
          last_asked = g_strdup (asked);
          swap_card (1, wanted);
          continue;
        }
      if (tke_pin_prompt_get_state (prompt ()) != TKE_PIN_PROMPT_WAITING_FOR_CARD)
        g_clear_pointer (&last_asked, g_free);
      tke_test_iterate (50);
    }
}

/* ---- The application ---- */

static TkeCryptoUnit *
unit_at (guint i)
{
  GListModel *units = tke_crypto_units_page_get_units (tke_window_get_units_page (window));
  TkeCryptoUnit *unit = g_list_model_get_item (units, i);

  g_object_unref (unit);
  return unit;
}

static gboolean
units_shown (gpointer data)
{
  GListModel *units = tke_crypto_units_page_get_units (tke_window_get_units_page (window));

  return units != NULL && g_list_model_get_n_items (units) >= 3;
}

static gboolean
no_login_dialog (gpointer data)
{
  return tke_test_find_toplevel (TKE_TYPE_LOGIN_DIALOG) == NULL;
}

static gboolean
units_in_state (gpointer data)
{
  const char *wanted = data;

  for (guint i = 0; i < 3; i++)
    if (!g_str_equal (
            tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit_at (i))),
            wanted))
      return FALSE;
  return TRUE;
}

/* ---- Set-up: cards, readers, the service with the card administrators ---- */

static void
make_cards (void)
{
  const char *ca[] = {
    "create-ca", "--zone-description", "Zone A", "--description", "CA A", "ca.card", NULL
  };

  g_assert_cmpint (tke_readers_card (&readers, "777777\n888888\n", ca, NULL), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (cards); i++)
    {
      g_autofree char *pins = g_strdup_printf ("777777\n888888\n%s\n", cards[i].pin);
      g_autofree char *pin = g_strdup_printf ("%s\n", cards[i].pin);
      const char *create[] = { "create",
                               "--zone",
                               "ca.card",
                               "--description",
                               cards[i].image,
                               "--unit-root",
                               emu->unit_root_file,
                               cards[i].image,
                               NULL };
      const char *sigkey[] = { "gen-sigkey", cards[i].image, NULL };

      g_assert_cmpint (tke_readers_card (&readers, pins, create, NULL), ==, 0);
      if (cards[i].parts[0] == NULL)
        g_assert_cmpint (tke_readers_card (&readers, pin, sigkey, NULL), ==, 0);
      for (guint p = 0; cards[i].parts[p] != NULL; p++)
        {
          const char *part[] = { "gen-keypart", "--description", cards[i].parts[p], cards[i].image,
                                 NULL };
          g_assert_cmpint (tke_readers_card (&readers, pin, part, NULL), ==, 0);
        }
    }
}

static void
on_public_key (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GBytes **point = user_data;
  g_autoptr (GError) error = NULL;

  *point = tke_signer_get_public_key_finish (TKE_SIGNER (source), result, &error);
  g_assert_no_error (error);
}

/* The card in reader 1's administrator, installed on every unit with the
 * demo administrators' signatures (the threshold is 2). */
static void
install_card_admin (const Card *card)
{
  g_autoptr (TkeCardSigner) signer = tke_card_signer_new (NULL);
  g_autoptr (GBytes) point = NULL;
  g_autoptr (GString) hex = g_string_new (NULL);
  g_auto (GStrv) ids = emu_unit_ids (emu);
  EVP_PKEY *admins[3] = { emu_demo_admin (emu, 1), emu_demo_admin (emu, 2), NULL };
  g_autofree char *args = NULL;
  gsize size;
  const guint8 *data;

  if (in_reader[1] != card)
    swap_card (1, card);
  tke_signer_get_public_key_async (TKE_SIGNER (signer), NULL, on_public_key, &point);
  while (point == NULL)
    g_main_context_iteration (NULL, TRUE);
  data = g_bytes_get_data (point, &size);
  for (gsize i = 0; i < size; i++)
    g_string_append_printf (hex, "%02x", data[i]);
  args = g_strdup_printf ("{\"name\":\"%s\",\"public_key\":\"%s\"}", card->image, hex->str);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (JsonObject) answer = emu_command_ok (emu, ids[i], "add_admin", args, admins);
    }
  EVP_PKEY_free (admins[0]);
  EVP_PKEY_free (admins[1]);
}

static void
write_profile (void)
{
  g_autofree char *config = g_build_filename (base_dir, "config", "tke", NULL);
  g_autofree char *path = g_build_filename (config, "profile.ini", NULL);
  g_autofree char *text =
      g_strdup_printf ("[service]\nendpoint=%s\nca-file=%s\ninstance=%s\nunit-root=%s\n", emu->url,
                       emu->ca_file, emu->instance, emu->unit_root);

  g_mkdir_with_parents (config, 0700);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

/* A new key loaded on every unit with the demo administrators' key files:
 * the commit is what is measured. */
static void
load_new_key (void)
{
  g_auto (GStrv) ids = emu_unit_ids (emu);
  EVP_PKEY *a1 = emu_demo_admin (emu, 1), *a2 = emu_demo_admin (emu, 2);
  EVP_PKEY *one[] = { a1, NULL }, *two[] = { a1, a1, a1, NULL };
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
  EVP_PKEY_free (a2);
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

static void
open_window (void)
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
  g_assert_true (tke_test_wait_until (no_login_dialog, NULL, 20000));
  g_assert_true (tke_test_wait_until (units_shown, NULL, 20000));
  for (guint i = 0; i < 3; i++)
    tke_crypto_unit_set_selected (unit_at (i), TRUE);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "master-keys");
  tke_test_flush_widget (GTK_WIDGET (window));
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Uncommitted", 20000));
  g_assert_true (tke_test_wait_until (session_idle, NULL, 20000));
}

int
main (int argc, char **argv)
{
  guint before, after, n_units = 3;

  if (!g_getenv ("DISPLAY") && !g_getenv ("WAYLAND_DISPLAY"))
    {
      g_printerr ("commit-requests-bench: run under xvfb-run\n");
      return 77;
    }
  base_dir = g_dir_make_tmp ("tke-bench-commit-XXXXXX", NULL);
  {
    g_autofree char *config = g_build_filename (base_dir, "config", NULL);
    g_autofree char *keyring = g_build_filename (base_dir, "keyring", NULL);
    g_autofree char *state = g_build_filename (base_dir, "state", NULL);
    g_autofree char *data = g_build_filename (base_dir, "data", NULL);
    g_autofree char *cache = g_build_filename (base_dir, "cache", NULL);

    g_setenv ("XDG_CONFIG_HOME", config, TRUE);
    g_setenv ("XDG_STATE_HOME", state, TRUE);
    g_setenv ("XDG_DATA_HOME", data, TRUE);
    g_setenv ("XDG_CACHE_HOME", cache, TRUE);
    g_setenv ("SECRET_FILE_TEST_PATH", keyring, TRUE);
  }
  g_setenv ("SECRET_BACKEND", "file", TRUE);
  g_setenv ("SECRET_FILE_TEST_PASSWORD", "test", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GSETTINGS_SCHEMA_DIR", TKE_SCHEMA_DIR, TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("TKE_EMULATOR", TKE_EMULATOR_PATH, FALSE);
  g_setenv ("TKE_VIRTUAL_READERS", TKE_VIRTUAL_READERS_PATH, FALSE);
  g_setenv ("TKE_CARD", TKE_CARD_PATH, FALSE);

  request_log = g_build_filename (base_dir, "requests.log", NULL);
  {
    g_autofree char *state = g_build_filename (base_dir, "emulator", NULL);
    const char *const args[] = {
      "--init", "demo", "--keys", "0", "--request-log", request_log, NULL
    };

    emu = emu_start (state, args);
    emu_login (emu);
  }
  tke_readers_fixture_init (&readers);
  make_cards ();
  tke_readers_fixture_start (&readers, "admin1.card", "admin2.card");
  in_reader[1] = card_named ("admin1.card");
  in_reader[2] = card_named ("admin2.card");
  g_setenv ("TKE_VIRTUAL_READERS_DIR", readers.state_dir, TRUE);
  install_card_admin (card_named ("admin1.card"));
  install_card_admin (card_named ("admin2.card"));
  swap_card (1, card_named ("admin1.card"));
  load_new_key ();
  write_profile ();

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  app = tke_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, NULL);

  open_window ();
  before = n_requests ();
  /* By its label, as a person finds it (and as the code before the
   * change offered it, to measure both). */
  tke_test_click (
      tke_test_find_button (GTK_WIDGET (tke_window_get_master_keys_page (window)), "Commit…"));
  sign_until_done ();
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
  emu_stop (emu);
  emu_free (emu);
  tke_readers_fixture_clear (&readers);
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", base_dir);
    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", base_dir);
  }
  return 0;
}
