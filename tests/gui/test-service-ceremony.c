/* test-service-ceremony.c: commit, clear current and set immediate through
 * the widgets, every signature from a signing service (TKE_SIGNSERV_URL)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Real tke-emulator (demo instance) and real tke-signing-service, both
 * over HTTPS with their own CAs.  The service guards the emulator's demo
 * administrators' key files; the application reads the keys and tokens
 * from SIGNSERVKEYS in its key-file directory, as the plug-in does, and
 * no card or reader takes part.  Issue 17.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "emu-client.h"
#include "signserv-fixture.h"
#include "tke-application.h"
#include "tke-load-wizard.h"
#include "tke-login-dialog.h"
#include "tke-rotation-dialog.h"
#include "tke-test-gtk-utils.h"
#include "tke-window.h"

static TkeApplication *app;
static char *base_dir;
static Emu *emu;
static SignServ *service;
static TkeWindow *window;

static TkeLoadWizard *
wizard (void)
{
  return TKE_LOAD_WIZARD (tke_test_find_toplevel (TKE_TYPE_LOAD_WIZARD));
}

static gboolean
wizard_ended (gpointer data)
{
  TkeLoadWizard *w = wizard ();

  return w != NULL && (g_str_equal (tke_load_wizard_get_page (w), "result") ||
                       g_str_equal (tke_load_wizard_get_page (w), "error"));
}

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
  g_assert_true (tke_test_wait_until (no_login_dialog, NULL, 20000));
  g_assert_true (tke_test_wait_until (units_shown, NULL, 20000));
  for (guint i = 0; i < 3; i++)
    tke_crypto_unit_set_selected (unit_at (i), TRUE);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "master-keys");
  tke_test_flush_widget (GTK_WIDGET (window));
}

static gboolean
button_sensitive (gpointer label)
{
  GtkWidget *button =
      tke_test_find_button (GTK_WIDGET (tke_window_get_master_keys_page (window)), label);

  return button != NULL && gtk_widget_is_sensitive (button);
}

/* As a person does: the button once the page offers it. */
static void
press_keys_button (const char *label)
{
  if (!tke_test_wait_until (button_sensitive, (gpointer) label, 20000))
    g_error ("%s is not offered", label);
  tke_test_click (
      tke_test_find_button (GTK_WIDGET (tke_window_get_master_keys_page (window)), label));
  tke_test_iterate (100);
}

static void
confirm (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  GtkWindow *dialog = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) candidate = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (candidate) && gtk_widget_get_visible (GTK_WIDGET (candidate)))
        dialog = candidate;
    }
  g_assert_nonnull (dialog);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "go");
  tke_test_iterate (100);
}

/* The wizard's result, then closed. */
static void
finish_wizard (const char *expected)
{
  g_assert_true (tke_test_wait_until (wizard_ended, NULL, 60000));
  g_test_message ("result: %s", tke_load_wizard_get_result_text (wizard ()));
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("the ceremony failed: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_nonnull (strstr (tke_load_wizard_get_result_text (wizard ()), expected));
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Done"));
  tke_test_iterate (300);
  g_assert_null (wizard ());
}

static gboolean
units_in_state (gpointer data)
{
  for (guint i = 0; i < 3; i++)
    if (!g_str_equal (
            tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit_at (i))),
            data))
      return FALSE;
  return TRUE;
}

/* The new key loaded (not committed) on every unit, signed with the demo
 * administrators' key files straight to the emulator. */
static char *
load_new_key (void)
{
  g_autoptr (TkeSecret) p1 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) p2 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) mk = tke_crypto_xor (p1, p2, NULL);
  TkeSecret *parts[] = { p1, p2 };
  g_autoptr (EVP_PKEY) a1 = emu_demo_admin (emu, 1);
  g_auto (GStrv) units = emu_unit_ids (emu);
  guint8 vp[TKE_VP_SIZE];

  tke_crypto_verification_pattern (mk, vp);
  for (guint u = 0; units[u] != NULL; u++)
    {
      EVP_PKEY *one[] = { a1, NULL }, *two[] = { a1, a1, NULL };
      g_autoptr (JsonObject) imp =
          emu_command_ok (emu, units[u], "generate_importer_key", NULL, one);
      g_autofree char *load = emu_load_args (
          units[u], json_object_get_string_member (imp, "importer_key"), parts, 2, FALSE);
      g_autoptr (JsonObject) r1 = emu_command_ok (emu, units[u], "load", load, two);
    }
  return tke_crypto_hex_encode (vp, sizeof vp);
}

static void
test_commit_set_immediate (void)
{
  g_autofree char *vp = load_new_key ();
  g_autofree char *log = NULL;
  g_auto (GStrv) ids = NULL;

  open_and_log_in ();
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Uncommitted", 20000));

  /* Commit: threshold 2, so both keys of the service sign. */
  press_keys_button ("Commit…");
  g_assert_nonnull (wizard ());
  g_assert_cmpstr (tke_load_wizard_get_step (wizard ()), ==,
                   "2 signatures from the signing service");
  finish_wizard ("New register: Full Committed");
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Committed", 20000));

  /* Clear current, then set immediate (the first activation). */
  press_keys_button ("Clear Current…");
  confirm ();
  finish_wizard ("Current register: Empty");
  press_keys_button ("Set Immediate…");
  confirm ();
  g_assert_cmpstr (tke_load_wizard_get_step (wizard ()), ==,
                   "1 signature from the signing service");
  tke_test_flush_widget (GTK_WIDGET (wizard ()));
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "service-wizard-set-immediate");
  finish_wizard ("Current register: Valid");

  /* The emulator agrees, and the service signed every command. */
  ids = emu_unit_ids (emu);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (JsonObject) q = emu_query (emu, ids[i]);

      g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), ==, vp);
    }
}

static TkeRotationDialog *
rotation_dialog (void)
{
  return TKE_ROTATION_DIALOG (tke_test_find_toplevel (TKE_TYPE_ROTATION_DIALOG));
}

static gboolean
rotation_finished (gpointer data)
{
  TkeRotationDialog *dialog = rotation_dialog ();

  return dialog != NULL && tke_rotation_dialog_get_finished (dialog);
}

static gboolean
rotate_offered (gpointer keys)
{
  return tke_master_keys_page_get_disabled_reason (keys, "rotate") == NULL;
}

/* A whole rotation from the window, set immediate signed by the signing
 * service: no card, no PIN (issue 17: load, commit and rotate through the
 * service, in the GUI too). */
static void
test_rotate (void)
{
  TkeMasterKeysPage *keys = tke_window_get_master_keys_page (window);
  g_autofree char *vp = load_new_key ();
  g_autofree char *log = NULL;
  g_auto (GStrv) ids = NULL;
  TkeRotationDialog *dialog;

  gtk_widget_activate_action (GTK_WIDGET (window), "win.refresh", NULL);
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Uncommitted", 20000));
  press_keys_button ("Commit…");
  finish_wizard ("New register: Full Committed");
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Committed", 20000));

  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "master-keys");
  if (!tke_test_wait_until (rotate_offered, keys, 20000))
    g_error ("Rotate is not offered: %s",
             tke_master_keys_page_get_disabled_reason (keys, "rotate"));
  press_keys_button ("Rotate…");
  confirm ();
  g_assert_true (tke_test_wait_until (rotation_finished, NULL, 60000));
  dialog = rotation_dialog ();
  g_test_message ("rotation: %s", tke_rotation_dialog_get_outcome (dialog));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  g_assert_false (
      gtk_widget_get_visible (GTK_WIDGET (tke_rotation_dialog_get_pin_prompt (dialog))));
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "service-rotation-done");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));

  ids = emu_unit_ids (emu);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (JsonObject) q = emu_query (emu, ids[i]);

      g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), ==, vp);
    }
  log = signserv_stop (service);
  g_assert_nonnull (strstr (log, "POST /sign/admin-one key=admin-one -> 200"));
  g_assert_nonnull (strstr (log, "POST /sign/admin-two key=admin-two -> 200"));
  g_assert_null (strstr (log, "-> 401"));
  gtk_window_destroy (GTK_WINDOW (window));
  tke_test_iterate (100);
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

int
main (int argc, char **argv)
{
  g_autofree char *files = NULL;
  int status;

  if (!g_getenv ("DISPLAY") && !g_getenv ("WAYLAND_DISPLAY"))
    {
      g_print ("1..0 # SKIP no display; run the gui suite under xvfb-run\n");
      return 0;
    }
  if (g_getenv ("TKE_EMULATOR") == NULL || g_getenv ("TKE_SIGNING_SERVICE") == NULL)
    {
      g_print ("1..0 # SKIP run from meson test\n");
      return 0;
    }
  base_dir = g_dir_make_tmp ("tke-gui-signserv-XXXXXX", NULL);
  {
    g_autofree char *config = g_build_filename (base_dir, "config", NULL);
    g_autofree char *keyring = g_build_filename (base_dir, "keyring", NULL);

    files = g_build_filename (base_dir, "files", NULL);
    g_setenv ("XDG_CONFIG_HOME", config, TRUE);
    g_setenv ("SECRET_FILE_TEST_PATH", keyring, TRUE);
    g_setenv ("TKE_FILES", files, TRUE);
  }
  g_setenv ("SECRET_BACKEND", "file", TRUE);
  g_setenv ("SECRET_FILE_TEST_PASSWORD", "test", TRUE);
  {
    g_autofree char *state = g_build_filename (base_dir, "emulator", NULL);
    g_autofree char *dir = g_build_filename (base_dir, "signserv", NULL);
    const char *const args[] = { "--init", "demo", "--keys", "0", NULL };

    emu = emu_start (state, args);
    emu_login (emu);
    service = signserv_start (dir, emu->state_dir);
  }
  g_setenv ("TKE_SIGNSERV_URL", service->url, TRUE);
  g_setenv ("TKE_SIGNSERV_CA_FILE", service->ca_file, TRUE);
  signserv_write_keys (files, "[{\"key\":\"admin-one\",\"token\":\"token-one\"},"
                              "{\"key\":\"admin-two\",\"token\":\"token-two\"}]");
  write_profile ();

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  app = tke_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, NULL);

  g_test_add_func ("/gui/signing-service/commit-set-immediate", test_commit_set_immediate);
  g_test_add_func ("/gui/signing-service/rotate", test_rotate);
  status = g_test_run ();

  signserv_free (service);
  emu_stop (emu);
  emu_free (emu);
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", base_dir);
    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", base_dir);
  }
  g_free (base_dir);
  return status;
}
