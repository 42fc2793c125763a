/* test-unit-root.c: the log-in dialog's unit root step against the real
 * emulator (src/gui/tke-login-dialog.c, tke-session.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * First contact: the dialog shows the fingerprint of the root the emulator
 * names, grouped as the CLI groups it; Confirm pins it in the profile and
 * the units load; Cancel pins nothing and leaves the window logged out.  A
 * root certificate file pins only the service's own root.  A second
 * emulator with another root is refused with both fingerprints and no unit
 * shown, until the person deliberately replaces the pinned root.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <adwaita.h>

#include "emu-client.h"
#include "tke-application.h"
#include "tke-login-dialog.h"
#include "tke-readers-fixture.h"
#include "tke-session.h"
#include "tke-test-gtk-utils.h"
#include "tke-window.h"

static TkeApplication *app;
static TkeReadersFixture readers;
static char *base_dir;
static const char *const demo_args[] = { "--init", "demo", "--keys", "4", NULL };

typedef struct
{
  char *dir;
  Emu *emu;
  TkeWindow *window;
} Fixture;

static char *
profile_path (void)
{
  return g_build_filename (base_dir, "config", "tke", "profile.ini", NULL);
}

/* The profile for @emu, pinning @unit_root (NULL: none pinned). */
static void
write_profile (Emu *emu, const char *unit_root)
{
  g_autofree char *config = g_build_filename (base_dir, "config", "tke", NULL);
  g_autofree char *path = profile_path ();
  g_autofree char *text =
      g_strdup_printf ("[service]\nendpoint=%s\nca-file=%s\ninstance=%s\n%s%s%s", emu->url,
                       emu->ca_file, emu->instance, unit_root != NULL ? "unit-root=" : "",
                       unit_root != NULL ? unit_root : "", unit_root != NULL ? "\n" : "");
  g_autoptr (GError) error = NULL;

  g_mkdir_with_parents (config, 0700);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

/* What the profile pins now (NULL: nothing). */
static char *
pinned_root (void)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autofree char *path = profile_path ();
  g_autoptr (GError) error = NULL;

  g_assert_true (g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &error));
  return g_key_file_get_string (file, "service", "unit-root", NULL);
}

static Emu *
start_emulator (Fixture *f, const char *name)
{
  g_autofree char *state = g_build_filename (f->dir, name, NULL);

  return emu_start (state, demo_args);
}

static void
fixture_start (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("tke-gui-unit-root-XXXXXX", &error);
  g_assert_no_error (error);
  f->emu = start_emulator (f, "state");
}

static void
fixture_open_window (Fixture *f)
{
  f->window = tke_application_open_window (app);
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1280, 720);
  gtk_window_present (GTK_WINDOW (f->window));
  tke_test_flush_widget (GTK_WIDGET (f->window));
}

static void
fixture_stop (Fixture *f)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);
  GtkWindow *dialog;

  while ((dialog = tke_test_find_toplevel (TKE_TYPE_LOGIN_DIALOG)) != NULL)
    gtk_window_destroy (dialog);
  if (f->window != NULL)
    gtk_window_destroy (GTK_WINDOW (f->window));
  tke_test_iterate (50);
  emu_stop (f->emu);
  g_clear_pointer (&f->emu, emu_free);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (f->dir);
}

static char *
grouped_fingerprint (Emu *emu)
{
  g_autofree char *fingerprint = tke_unit_root_fingerprint (emu->unit_root_point);

  return tke_unit_root_format_fingerprint (fingerprint);
}

typedef struct
{
  TkeLoginDialog *dialog;
  const char *page;
} PageWait;

static gboolean
dialog_on_page (gpointer data)
{
  PageWait *w = data;

  w->dialog = TKE_LOGIN_DIALOG (tke_test_find_toplevel (TKE_TYPE_LOGIN_DIALOG));
  return w->dialog != NULL && g_str_equal (tke_login_dialog_get_page (w->dialog), w->page);
}

/* Log in… in the header, the key typed, Log In pressed; returns the dialog
 * once it shows @page. */
static TkeLoginDialog *
log_in_until (Fixture *f, Emu *emu, const char *page)
{
  PageWait w = { NULL, page };
  TkeLoginDialog *dialog;
  GtkWidget *entry;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-in", NULL);
  dialog = TKE_LOGIN_DIALOG (tke_test_find_toplevel (TKE_TYPE_LOGIN_DIALOG));
  g_assert_nonnull (dialog);
  g_assert_cmpstr (tke_login_dialog_get_page (dialog), ==, "key");
  entry =
      tke_test_find_widget_of_type (GTK_WIDGET (dialog), ADW_TYPE_PASSWORD_ENTRY_ROW, NULL, NULL);
  gtk_editable_set_text (GTK_EDITABLE (entry), emu->api_key);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Log In"));
  g_assert_true (tke_test_wait_until (dialog_on_page, &w, 30000));
  tke_test_flush_widget (GTK_WIDGET (w.dialog));
  return w.dialog;
}

static gboolean
units_shown (gpointer data)
{
  Fixture *f = data;
  GListModel *units = tke_crypto_units_page_get_units (tke_window_get_units_page (f->window));

  return units != NULL && g_list_model_get_n_items (units) >= 3 &&
         tke_crypto_units_page_get_state (tke_window_get_units_page (f->window)) ==
             TKE_CRYPTO_UNITS_PAGE_READY;
}

static gboolean
no_login_dialog (gpointer data)
{
  return tke_test_find_toplevel (TKE_TYPE_LOGIN_DIALOG) == NULL;
}

static void
assert_no_units (Fixture *f)
{
  TkeCryptoUnitsPage *page = tke_window_get_units_page (f->window);
  GListModel *units = tke_crypto_units_page_get_units (page);

  g_assert_true (units == NULL || g_list_model_get_n_items (units) == 0);
  g_assert_cmpint (tke_crypto_units_page_get_state (page), !=, TKE_CRYPTO_UNITS_PAGE_READY);
  g_assert_cmpint (tke_window_get_login_state (f->window), ==, TKE_LOGIN_STATE_LOGGED_OUT);
}

/* The units page's status text: it must say why nobody is logged in. */
static gboolean
window_says (Fixture *f, const char *text)
{
  return tke_test_find_label_containing (GTK_WIDGET (tke_window_get_units_page (f->window)),
                                         text) != NULL;
}

static gboolean
session_idle (gpointer data)
{
  Fixture *f = data;
  TkeSession *session = g_object_get_data (G_OBJECT (f->window), "tke-session");

  return session != NULL && tke_session_get_busy (session) == 0;
}

/* ---- First contact ---- */

static void
test_first_contact_confirm (void)
{
  Fixture f = { 0 };
  g_autofree char *expected = NULL;
  g_autofree char *pinned = NULL;
  TkeLoginDialog *dialog;

  fixture_start (&f);
  write_profile (f.emu, NULL);
  fixture_open_window (&f);
  dialog = log_in_until (&f, f.emu, "confirm");
  expected = grouped_fingerprint (f.emu);
  /* The fingerprint the person compares: the emulator's root, grouped. */
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (dialog), expected));
  g_assert_nonnull (tke_test_find_label_containing (GTK_WIDGET (dialog), "security officer"));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (dialog)), ==, "Confirm Unit Root");
  /* Nothing is pinned, and nothing read, before the person says yes. */
  pinned = pinned_root ();
  g_assert_null (pinned);
  g_assert_cmpint (tke_window_get_login_state (f.window), !=, TKE_LOGIN_STATE_LOGGED_IN);
  tke_test_save_screenshot (GTK_WIDGET (dialog), "unit-root-confirm");

  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Confirm"));
  g_assert_true (tke_test_wait_until (no_login_dialog, NULL, 20000));
  g_assert_true (tke_test_wait_until (units_shown, &f, 30000));
  g_assert_cmpint (tke_window_get_login_state (f.window), ==, TKE_LOGIN_STATE_LOGGED_IN);
  pinned = pinned_root ();
  g_assert_cmpstr (pinned, ==, f.emu->unit_root);
  tke_test_iterate (500); /* the page's crossfade */
  tke_test_save_screenshot (GTK_WIDGET (f.window), "unit-root-confirmed-units");

  /* Logging in again with a wrong key keeps the token there was. */
  {
    TkeSession *session = g_object_get_data (G_OBJECT (f.window), "tke-session");
    g_autoptr (TkeSecret) token = NULL;
    GtkWidget *entry;

    g_assert_true (tke_test_wait_until (session_idle, &f, 30000));
    gtk_widget_activate_action (GTK_WIDGET (f.window), "win.log-in", NULL);
    dialog = TKE_LOGIN_DIALOG (tke_test_find_toplevel (TKE_TYPE_LOGIN_DIALOG));
    entry =
        tke_test_find_widget_of_type (GTK_WIDGET (dialog), ADW_TYPE_PASSWORD_ENTRY_ROW, NULL, NULL);
    gtk_editable_set_text (GTK_EDITABLE (entry), "not-the-key");
    tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Log In"));
    while (tke_login_dialog_get_error (dialog) == NULL)
      g_main_context_iteration (NULL, TRUE);
    gtk_window_destroy (GTK_WINDOW (dialog));
    token = tke_service_client_dup_token (tke_session_get_client (session));
    g_assert_nonnull (token);
  }
  fixture_stop (&f);
}

static void
test_first_contact_cancel (void)
{
  Fixture f = { 0 };
  g_autofree char *pinned = NULL;
  TkeLoginDialog *dialog;

  fixture_start (&f);
  write_profile (f.emu, NULL);
  fixture_open_window (&f);
  dialog = log_in_until (&f, f.emu, "confirm");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Cancel"));
  g_assert_true (tke_test_wait_until (no_login_dialog, NULL, 20000));
  tke_test_flush_widget (GTK_WIDGET (f.window));
  pinned = pinned_root ();
  g_assert_null (pinned);
  assert_no_units (&f);
  g_assert_cmpint (tke_crypto_units_page_get_state (tke_window_get_units_page (f.window)), ==,
                   TKE_CRYPTO_UNITS_PAGE_NOT_LOGGED_IN);
  g_assert_true (window_says (&f, "The unit root was not confirmed, so nothing was pinned"));
  g_assert_cmpstr (tke_window_get_login_text (f.window), ==, "Not logged in");
  tke_test_save_screenshot (GTK_WIDGET (f.window), "unit-root-cancelled");

  /* Closing the dialog on its confirm page is a Cancel too. */
  dialog = log_in_until (&f, f.emu, "confirm");
  gtk_window_close (GTK_WINDOW (dialog));
  g_assert_true (tke_test_wait_until (no_login_dialog, NULL, 20000));
  tke_test_iterate (50);
  g_clear_pointer (&pinned, g_free);
  pinned = pinned_root ();
  g_assert_null (pinned);
  assert_no_units (&f);
  fixture_stop (&f);
}

/* At start a key kept in the keyring logs in by itself; with no root
 * pinned, the dialog comes up on its own at the confirm step. */
static void
test_keyring_login_asks (void)
{
  Fixture f = { 0 };
  g_autofree char *expected = NULL;
  g_autofree char *pinned = NULL;
  PageWait w = { NULL, "confirm" };
  TkeLoginDialog *dialog;

  fixture_start (&f);
  write_profile (f.emu, NULL);
  fixture_open_window (&f);
  dialog = log_in_until (&f, f.emu, "confirm");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Confirm"));
  g_assert_true (tke_test_wait_until (units_shown, &f, 30000));
  /* The key is in the keyring once the session is idle. */
  g_assert_true (tke_test_wait_until (session_idle, &f, 30000));
  gtk_window_destroy (GTK_WINDOW (f.window));
  tke_test_iterate (100);

  /* The profile forgets the pin; the next start must ask again. */
  write_profile (f.emu, NULL);
  fixture_open_window (&f);
  g_assert_true (tke_test_wait_until (dialog_on_page, &w, 30000));
  expected = grouped_fingerprint (f.emu);
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (w.dialog), expected));
  g_assert_cmpint (tke_window_get_login_state (f.window), !=, TKE_LOGIN_STATE_LOGGED_IN);
  tke_test_click (tke_test_find_button (GTK_WIDGET (w.dialog), "Cancel"));
  g_assert_true (tke_test_wait_until (no_login_dialog, NULL, 20000));
  tke_test_flush_widget (GTK_WIDGET (f.window));
  pinned = pinned_root ();
  g_assert_null (pinned);
  assert_no_units (&f);
  g_assert_true (window_says (&f, "The unit root was not confirmed"));
  fixture_stop (&f);
}

/* A root file of another root is refused with both fingerprints; the
 * service's own pins without asking by eye. */
static void
test_root_file (void)
{
  Fixture f = { 0 };
  g_autoptr (EVP_PKEY) other = tke_crypto_ec_generate (NULL);
  g_autoptr (GBytes) other_point = tke_crypto_ec_public_point (other, NULL);
  g_autofree char *other_hex = tke_crypto_hex_encode (g_bytes_get_data (other_point, NULL), 133);
  g_autofree char *other_fp = tke_unit_root_fingerprint (other_point);
  g_autofree char *other_text = tke_unit_root_format_fingerprint (other_fp);
  g_autofree char *expected = NULL;
  g_autofree char *other_file = NULL;
  g_autofree char *pinned = NULL;
  g_autoptr (GFile) wrong = NULL;
  g_autoptr (GFile) right = NULL;
  TkeLoginDialog *dialog;

  fixture_start (&f);
  other_file = g_build_filename (f.dir, "other-root.hex", NULL);
  g_assert_true (g_file_set_contents (other_file, other_hex, -1, NULL));
  write_profile (f.emu, NULL);
  fixture_open_window (&f);
  dialog = log_in_until (&f, f.emu, "confirm");
  g_assert_nonnull (tke_test_find_button (GTK_WIDGET (dialog), "Use Root Certificate File…"));
  expected = grouped_fingerprint (f.emu);

  wrong = g_file_new_for_path (other_file);
  g_assert_false (tke_login_dialog_use_unit_root_file (dialog, wrong));
  g_assert_nonnull (tke_login_dialog_get_confirm_error (dialog));
  g_assert_nonnull (strstr (tke_login_dialog_get_confirm_error (dialog), other_text));
  g_assert_nonnull (strstr (tke_login_dialog_get_confirm_error (dialog), expected));
  g_assert_nonnull (strstr (tke_login_dialog_get_confirm_error (dialog), "Nothing was pinned"));
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "unit-root-file-refused");
  pinned = pinned_root ();
  g_assert_null (pinned);
  g_assert_cmpstr (tke_login_dialog_get_page (dialog), ==, "confirm");

  right = g_file_new_for_path (f.emu->unit_root_file);
  g_assert_true (tke_login_dialog_use_unit_root_file (dialog, right));
  g_assert_true (tke_test_wait_until (no_login_dialog, NULL, 20000));
  g_assert_true (tke_test_wait_until (units_shown, &f, 30000));
  pinned = pinned_root ();
  g_assert_cmpstr (pinned, ==, f.emu->unit_root);
  fixture_stop (&f);
}

/* ---- A changed root ---- */

static AdwMessageDialog *
open_replace (TkeLoginDialog *dialog)
{
  AdwMessageDialog *question;

  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Replace Pinned Unit Root…"));
  question = tke_login_dialog_get_replace_dialog (dialog);
  g_assert_nonnull (question);
  tke_test_flush_widget (GTK_WIDGET (question));
  return question;
}

static void
test_root_changed (void)
{
  Fixture f = { 0 };
  g_autoptr (Emu) emu2 = NULL;
  g_autofree char *text1 = NULL;
  g_autofree char *text2 = NULL;
  g_autofree char *pinned = NULL;
  TkeLoginDialog *dialog;
  AdwMessageDialog *question;

  fixture_start (&f);
  emu2 = start_emulator (&f, "state2");
  g_assert_cmpstr (emu2->unit_root, !=, f.emu->unit_root);
  text1 = grouped_fingerprint (f.emu);
  text2 = grouped_fingerprint (emu2);
  /* Pinned to the first emulator's root, pointed at the second. */
  write_profile (emu2, f.emu->unit_root);
  fixture_open_window (&f);
  dialog = log_in_until (&f, emu2, "changed");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (dialog)), ==, "Unit Root Changed");
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (dialog), text1));
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (dialog), text2));
  g_assert_nonnull (tke_test_find_label_containing (GTK_WIDGET (dialog), "so it was refused"));
  assert_no_units (&f);
  /* The window explains too, with both fingerprints. */
  g_assert_true (window_says (&f, text1));
  g_assert_true (window_says (&f, text2));
  pinned = pinned_root ();
  g_assert_cmpstr (pinned, ==, f.emu->unit_root);
  tke_test_save_screenshot (GTK_WIDGET (dialog), "unit-root-changed");

  /* Replacing asks once more, destructively, Cancel by default. */
  question = open_replace (dialog);
  g_assert_cmpstr (adw_message_dialog_get_default_response (question), ==, "cancel");
  g_assert_cmpint (adw_message_dialog_get_response_appearance (question, "replace"), ==,
                   ADW_RESPONSE_DESTRUCTIVE);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (question), text2));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (question), text1));
  tke_test_save_screenshot (GTK_WIDGET (question), "unit-root-replace-question");
  adw_message_dialog_response (question, "cancel");
  tke_test_iterate (100);
  g_clear_pointer (&pinned, g_free);
  pinned = pinned_root ();
  g_assert_cmpstr (pinned, ==, f.emu->unit_root);
  assert_no_units (&f);
  g_assert_cmpstr (tke_login_dialog_get_page (dialog), ==, "changed");

  /* Closed: still refused, still nothing shown; the next log-in refuses
   * again (nothing was re-pinned silently). */
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
  g_assert_true (tke_test_wait_until (no_login_dialog, NULL, 20000));
  assert_no_units (&f);
  dialog = log_in_until (&f, emu2, "changed");

  /* The deliberate re-pin. */
  question = open_replace (dialog);
  adw_message_dialog_response (question, "replace");
  g_assert_true (tke_test_wait_until (no_login_dialog, NULL, 20000));
  g_assert_true (tke_test_wait_until (units_shown, &f, 30000));
  g_clear_pointer (&pinned, g_free);
  pinned = pinned_root ();
  g_assert_cmpstr (pinned, ==, emu2->unit_root);
  g_assert_cmpint (tke_window_get_login_state (f.window), ==, TKE_LOGIN_STATE_LOGGED_IN);
  emu_stop (emu2);
  fixture_stop (&f);
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
  base_dir = g_dir_make_tmp ("tke-gui-unit-root-base-XXXXXX", NULL);
  g_assert_nonnull (base_dir);
  {
    g_autofree char *config = g_build_filename (base_dir, "config", NULL);
    g_autofree char *keyring = g_build_filename (base_dir, "keyring", NULL);
    g_autofree char *state = g_build_filename (base_dir, "state", NULL);

    g_setenv ("XDG_CONFIG_HOME", config, TRUE);
    g_setenv ("XDG_STATE_HOME", state, TRUE);
    g_setenv ("SECRET_FILE_TEST_PATH", keyring, TRUE);
  }
  g_setenv ("SECRET_BACKEND", "file", TRUE);
  g_setenv ("SECRET_FILE_TEST_PASSWORD", "test", TRUE);
  tke_readers_fixture_init (&readers);
  tke_readers_fixture_start (&readers, NULL, NULL);

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  app = tke_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, NULL);

  g_test_add_func ("/gui/unit-root/first-contact-confirm", test_first_contact_confirm);
  g_test_add_func ("/gui/unit-root/first-contact-cancel", test_first_contact_cancel);
  g_test_add_func ("/gui/unit-root/keyring-login-asks", test_keyring_login_asks);
  g_test_add_func ("/gui/unit-root/root-file", test_root_file);
  g_test_add_func ("/gui/unit-root/changed", test_root_changed);

  status = g_test_run ();
  tke_readers_fixture_clear (&readers);
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", base_dir);
    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", base_dir);
  }
  g_free (base_dir);
  return status;
}
