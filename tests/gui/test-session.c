/* test-session.c: the application against the real emulator
 * (src/gui/tke-session.c, tke-window.c and the pages)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A tke-emulator process serves a demo instance over HTTPS on loopback
 * (TLS verified against its CA file).  The application opens on a
 * workstation profile that points at it, and the test drives it as an
 * administrator would: Log in…, the API key typed, the units read, a
 * rotation started from the Master keys tab and followed in its dialog,
 * the recovery page after a rotation that stopped, the banner when the
 * token expired.  It also measures the main loop's worst stall while a
 * rotation of many keys runs, and the time to the first frame.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <adwaita.h>

#include "tke-test-emulator.h"
#include "tke-application.h"
#include "tke-load-wizard.h"
#include "tke-login-dialog.h"
#include "tke-pin-prompt.h"
#include "tke-test-readers.h"
#include "tke-rotation-dialog.h"
#include "tke-test-gtk.h"
#include "tke-test-util.h"
#include "tke-window.h"

static TkeApplication *app;
/* A private pcscd with the two virtual readers and no card: set immediate
 * waits for the administrator card until the person stops it. */
static TkeReadersFixture readers;
/* GLib reads XDG_CONFIG_HOME once: one configuration directory for the
 * whole run, set before GTK starts; each test writes its profile there. */
static char *base_dir;

typedef struct
{
  char *dir;
  Emu *emu;
  TkeWindow *window;
} Fixture;

static void
write_profile (Fixture *f)
{
  g_autofree char *config_home = g_build_filename (base_dir, "config", NULL);

  emu_write_profile (f->emu, config_home);
}

static void
fixture_start (Fixture *f, const char *const *emulator_args)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *state = NULL;

  f->dir = g_dir_make_tmp ("tke-gui-session-XXXXXX", &error);
  g_assert_no_error (error);
  state = g_build_filename (f->dir, "state", NULL);
  f->emu = emu_start (state, emulator_args);
  write_profile (f);
}

static void
fixture_open_window (Fixture *f)
{
  f->window = tke_application_open_window (app);
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1280, 720);
  gtk_window_present (GTK_WINDOW (f->window));
  tke_test_flush_widget (GTK_WIDGET (f->window));
}

/* The g_test_add() tear-down: each test starts the fixture's emulator
 * (fixture_start()) with the arguments it needs. */
static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  if (f->window != NULL)
    gtk_window_destroy (GTK_WINDOW (g_steal_pointer (&f->window)));
  tke_test_iterate (50);
  if (f->emu != NULL)
    emu_stop (f->emu);
  g_clear_pointer (&f->emu, emu_free);
  if (f->dir != NULL)
    tke_test_remove_tree (f->dir);
  g_clear_pointer (&f->dir, g_free);
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

static TkeCryptoUnit *
unit_at (Fixture *f, guint i)
{
  GListModel *units = tke_crypto_units_page_get_units (tke_window_get_units_page (f->window));
  TkeCryptoUnit *unit = g_list_model_get_item (units, i);

  g_object_unref (unit);
  return unit;
}

static void
select_all (Fixture *f)
{
  GListModel *units = tke_crypto_units_page_get_units (tke_window_get_units_page (f->window));

  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    tke_crypto_unit_set_selected (unit_at (f, i), TRUE);
  tke_test_iterate (50);
}

/* ---- Logging in, the units, the registers ---- */

static void
test_login_and_units (Fixture *f, gconstpointer user_data)
{
  g_autofree char *queried = NULL;
  g_autofree char *groups = NULL;
  g_auto (GStrv) ids = NULL;

  fixture_start (f, (const char *const[]){ "--init", "demo", "--keys", "20", NULL });
  fixture_open_window (f);
  g_assert_cmpstr (tke_window_get_login_text (f->window), ==, "Not logged in");

  /* A wrong key: the dialog says what the service said. */
  {
    TkeLoginDialog *dialog;
    GtkWidget *entry;

    gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-in", NULL);
    dialog = TKE_LOGIN_DIALOG (tke_test_find_toplevel (TKE_TYPE_LOGIN_DIALOG));
    entry =
        tke_test_find_widget_of_type (GTK_WIDGET (dialog), ADW_TYPE_PASSWORD_ENTRY_ROW, NULL, NULL);
    gtk_editable_set_text (GTK_EDITABLE (entry), "not-the-key");
    tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Log In"));
    while (tke_login_dialog_get_error (dialog) == NULL)
      g_main_context_iteration (NULL, TRUE);
    g_test_message ("wrong key: %s", tke_login_dialog_get_error (dialog));
    tke_test_save_screenshot (GTK_WIDGET (dialog), "login-refused");
    gtk_window_destroy (GTK_WINDOW (dialog));
  }

  tke_test_log_in (GTK_WIDGET (f->window), f->emu->api_key);
  g_assert_true (tke_test_wait_until (units_shown, f, 20000));
  g_assert_cmpint (tke_window_get_login_state (f->window), ==, TKE_LOGIN_STATE_LOGGED_IN);
  g_assert_nonnull (strstr (tke_window_get_login_text (f->window), f->emu->instance));

  /* The registers are the emulator's: every unit's current VP. */
  emu_login (f->emu);
  ids = emu_unit_ids (f->emu);
  {
    g_autoptr (JsonObject) q = emu_query (f->emu, ids[0]);
    g_test_message ("query: %s",
                    json_to_string (json_object_get_member (q, "current_mkvp"), FALSE));
  }
  select_all (f);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "master-keys");
  tke_test_flush_widget (GTK_WIDGET (f->window));
  groups = tke_vp_format_groups (tke_crypto_unit_get_current_register_vp (unit_at (f, 0)));
  g_assert_cmpint (tke_crypto_unit_get_current_register_state (unit_at (f, 0)), ==,
                   TKE_CURRENT_REGISTER_VALID);
  g_assert_nonnull (
      tke_test_find_label (GTK_WIDGET (tke_window_get_master_keys_page (f->window)), groups));
  tke_test_save_screenshot (GTK_WIDGET (f->window), "session-master-keys");
  g_assert_cmpstr (tke_master_keys_page_get_disabled_reason (
                       tke_window_get_master_keys_page (f->window), "load"),
                   ==, NULL);

  /* The key went to the keyring: a new window logs in by itself. */
  gtk_window_destroy (GTK_WINDOW (f->window));
  fixture_open_window (f);
  g_assert_true (tke_test_wait_until (units_shown, f, 20000));
}

/* ---- The token expires: the banner, and nothing lost ---- */

static gboolean
banner_shown (gpointer data)
{
  return tke_window_get_banner_revealed (((Fixture *) data)->window);
}

static gboolean
banner_gone (gpointer data)
{
  return !tke_window_get_banner_revealed (((Fixture *) data)->window) &&
         tke_window_get_login_state (((Fixture *) data)->window) == TKE_LOGIN_STATE_LOGGED_IN;
}

static void
on_load (
    TkeWindow *window, TkeCeremonyKind kind, GListModel *units, GtkWindow *dialog, gpointer data)
{
  /* This test only needs the wizard open, as during a ceremony. */
}

static gboolean
load_offered (gpointer data)
{
  Fixture *f = data;
  return tke_master_keys_page_get_disabled_reason (tke_window_get_master_keys_page (f->window),
                                                   "load") == NULL;
}

static void
test_expired_token_banner (Fixture *f, gconstpointer user_data)
{
  GtkWindow *wizard;

  fixture_start (
      f, (const char *const[]){ "--init", "demo", "--keys", "20", "--token-ttl", "8", NULL });
  fixture_open_window (f);
  tke_test_log_in (GTK_WIDGET (f->window), f->emu->api_key);
  g_assert_true (tke_test_wait_until (units_shown, f, 20000));
  select_all (f);

  /* A ceremony is open when the token expires. */
  g_signal_connect (f->window, "ceremony::load", G_CALLBACK (on_load), NULL);
  if (!tke_test_wait_until (load_offered, f, 20000))
    g_error ("Load is not offered: %s", tke_master_keys_page_get_disabled_reason (
                                            tke_window_get_master_keys_page (f->window), "load"));
  tke_test_click (
      tke_test_find_button (GTK_WIDGET (tke_window_get_master_keys_page (f->window)), "Load…"));
  wizard = tke_window_get_ceremony_window (f->window);
  g_assert_true (TKE_IS_LOAD_WIZARD (wizard));

  /* 8 s: on a loaded machine, logging in and reading the units (each
   * answer's signature checked) took more than 2 s. */
  tke_test_iterate (8500);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.refresh", NULL);
  g_assert_true (tke_test_wait_until (banner_shown, f, 20000));
  g_assert_cmpint (tke_window_get_login_state (f->window), ==, TKE_LOGIN_STATE_EXPIRED);
  g_assert_nonnull (
      tke_test_find_label_containing (GTK_WIDGET (f->window), "Log in again to continue."));
  g_assert_true (tke_window_get_ceremony_window (f->window) == wizard);
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (f->window), "banner-token-expired");

  /* Log in again from the banner: the wizard is still there, the banner goes. */
  tke_test_click (tke_test_find_button (GTK_WIDGET (f->window), "Log In Again…"));
  {
    TkeLoginDialog *dialog = TKE_LOGIN_DIALOG (tke_test_find_toplevel (TKE_TYPE_LOGIN_DIALOG));
    GtkWidget *entry =
        tke_test_find_widget_of_type (GTK_WIDGET (dialog), ADW_TYPE_PASSWORD_ENTRY_ROW, NULL, NULL);

    g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (dialog)) == wizard);
    gtk_editable_set_text (GTK_EDITABLE (entry), f->emu->api_key);
    tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Log In"));
  }
  g_assert_true (tke_test_wait_until (banner_gone, f, 20000));
  g_assert_true (tke_window_get_ceremony_window (f->window) == wizard);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (wizard)));
  gtk_window_destroy (wizard);
}

/* ---- Rotation, and recovery after a stopped one ---- */

/* The new key loaded and committed on every unit with the emulator's demo
 * administrators' key files (the card ceremony is another test's). */
static char *
commit_new_key (Emu *emu)
{
  emu_login (emu);
  return emu_commit_new_key (emu);
}

typedef struct
{
  gint64 last;
  gint64 worst;
  guint ticks;
} Stall;

/* A 5 ms timer on the GUI's main context: the longest gap between two of
 * its runs is the longest the main loop was kept from running. */
static gboolean
on_tick (gpointer data)
{
  Stall *s = data;
  gint64 now = g_get_monotonic_time ();

  if (s->last != 0 && now - s->last > s->worst)
    s->worst = now - s->last;
  if (s->last != 0 && now - s->last > 25000 && g_getenv ("TKE_TEST_STALL_DEBUG") != NULL)
    {
      TkeRotationDialog *d =
          TKE_ROTATION_DIALOG (tke_test_find_toplevel (TKE_TYPE_ROTATION_DIALOG));
      g_printerr (
          "STALL %.1f ms at tick %u: messages %u, prompt %d, progress %s\n",
          (now - s->last) / 1000.0, s->ticks, d ? tke_rotation_dialog_get_n_messages (d) : 0,
          d ? gtk_widget_get_visible (GTK_WIDGET (tke_rotation_dialog_get_pin_prompt (d))) : -1,
          d ? tke_rotation_dialog_get_progress_text (d) : "");
    }
  s->last = now;
  s->ticks++;
  return G_SOURCE_CONTINUE;
}

static gboolean
rotation_dialog_finished (gpointer data)
{
  TkeRotationDialog *dialog =
      TKE_ROTATION_DIALOG (tke_test_find_toplevel (TKE_TYPE_ROTATION_DIALOG));
  return dialog != NULL && tke_rotation_dialog_get_finished (dialog);
}

/* The rewrap is done and set immediate waits for the administrator card
 * (these tests have no readers: it waits until Stop is pressed). */
static gboolean
waiting_for_card (gpointer data)
{
  TkeRotationDialog *dialog =
      TKE_ROTATION_DIALOG (tke_test_find_toplevel (TKE_TYPE_ROTATION_DIALOG));
  TkePinPrompt *prompt = dialog != NULL ? tke_rotation_dialog_get_pin_prompt (dialog) : NULL;

  return prompt != NULL && gtk_widget_get_visible (GTK_WIDGET (prompt)) &&
         tke_pin_prompt_get_state (prompt) == TKE_PIN_PROMPT_WAITING_FOR_CARD &&
         gtk_widget_is_sensitive (tke_test_find_button (GTK_WIDGET (dialog), "Stop Rotation"));
}

/* Stopping the wait for the card is safe: nothing was sent; each unit
 * reports that set immediate did not run. */
static void
stop_at_card_wait (TkeRotationDialog *dialog)
{
  g_assert_nonnull (tke_test_find_label_containing (
      GTK_WIDGET (dialog), "nothing has been sent to the crypto units yet"));
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Stop Rotation"));
  g_assert_true (tke_test_wait_until (rotation_dialog_finished, NULL, 30000));
  g_assert_cmpuint (tke_rotation_dialog_get_n_unit_results (dialog), ==, 3);
  g_assert_nonnull (tke_test_find_label_containing (
      GTK_WIDGET (dialog), "Stopped while waiting for the administrator card"));
  g_assert_nonnull (strstr (tke_rotation_dialog_get_outcome (dialog), "The rotation stopped:"));
}

static gboolean
recovery_advised (gpointer data)
{
  Fixture *f = data;
  return tke_recovery_page_get_action (tke_window_get_recovery_page (f->window)) !=
         TKE_RECOVERY_ACTION_NONE;
}

static void
start_rotation_in_gui (Fixture *f)
{
  AdwMessageDialog *confirm;
  TkeMasterKeysPage *keys = tke_window_get_master_keys_page (f->window);

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "master-keys");
  tke_test_flush_widget (GTK_WIDGET (f->window));
  g_assert_null (tke_master_keys_page_get_disabled_reason (keys, "rotate"));
  tke_test_click (tke_test_find_button (GTK_WIDGET (keys), "Rotate…"));
  confirm = ADW_MESSAGE_DIALOG (tke_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_assert_nonnull (confirm);
  /* The confirmation says what happens and what is blocked meanwhile. */
  g_assert_nonnull (strstr (adw_message_dialog_get_body (confirm),
                            "creating or rotating keys, PKCS #11 and GREP11 calls are refused"));
  tke_test_flush_widget (GTK_WIDGET (confirm));
  tke_test_save_screenshot (GTK_WIDGET (confirm), "rotate-confirmation");
  adw_message_dialog_response (confirm, "go");
}

static void
test_rotation_and_recovery (Fixture *f, gconstpointer user_data)
{
  const char *keys =
      g_getenv ("TKE_TEST_ROTATION_KEYS") != NULL ? g_getenv ("TKE_TEST_ROTATION_KEYS") : "100000";
  g_autofree char *vp = NULL;
  TkeRotationDialog *dialog;
  Stall stall = { 0 };
  guint tick;
  gint64 started;

  fixture_start (f, (const char *const[]){ "--init", "demo", "--keys", keys, NULL });
  vp = commit_new_key (f->emu);
  fixture_open_window (f);
  tke_test_log_in (GTK_WIDGET (f->window), f->emu->api_key);
  g_assert_true (tke_test_wait_until (units_shown, f, 60000));
  select_all (f);

  start_rotation_in_gui (f);
  /* Measured once the dialog is up and drawn: the stall of the long
   * operation itself, not of opening a window. */
  dialog = TKE_ROTATION_DIALOG (tke_test_find_toplevel (TKE_TYPE_ROTATION_DIALOG));
  g_assert_nonnull (dialog);
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (dialog)));
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tick = g_timeout_add (5, on_tick, &stall);
  started = g_get_monotonic_time ();
  while (tke_rotation_dialog_get_n_messages (dialog) < 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (tke_test_wait_until (waiting_for_card, NULL, 600000));
  g_source_remove (tick);
  g_test_message (
      "rotation of %s keys: %.2f s; main loop worst stall %.1f ms over %u ticks (renderer %s)",
      keys, (g_get_monotonic_time () - started) / 1e6, stall.worst / 1000.0, stall.ticks,
      G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (dialog))));
  printf ("# MEASURE rotation-keys=%s worst-main-loop-stall-ms=%.1f renderer=%s\n", keys,
          stall.worst / 1000.0, G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (dialog))));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "session-rotation-rewrapped");
  g_assert_cmpstr (tke_rotation_dialog_get_message (dialog, 0), ==, TKE_ROTATION_MESSAGE_STARTED);
  g_assert_cmpstr (tke_rotation_dialog_get_message (dialog, 1), ==, TKE_ROTATION_MESSAGE_REWRAPPED);
  if (g_getenv ("TKE_TEST_STRICT_STALL") != NULL)
    g_assert_cmpint (stall.worst, <, 50000);

  /* Stopped before Set immediate: the advisor says Set immediate, and the
   * recovery page offers only that. */
  stop_at_card_wait (dialog);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
  g_assert_true (tke_test_wait_until (recovery_advised, f, 20000));
  g_assert_cmpint (tke_recovery_page_get_action (tke_window_get_recovery_page (f->window)), ==,
                   TKE_RECOVERY_ACTION_SET_IMMEDIATE);
  g_assert_nonnull (tke_test_find_button (GTK_WIDGET (tke_window_get_recovery_page (f->window)),
                                          "Set Immediate"));
  g_assert_null (tke_master_keys_page_get_disabled_reason (
      tke_window_get_master_keys_page (f->window), "set-immediate"));
  g_assert_nonnull (tke_master_keys_page_get_disabled_reason (
      tke_window_get_master_keys_page (f->window), "rotate"));
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (f->window), "session-recovery-set-immediate");
}

/* A whole rotation of the instance done by the service's own commands
 * (another workstation, say): rotate, then set immediate on every unit. */
static void
rotate_by_hand (Emu *emu, const char *vp)
{
  g_autofree char *path = g_strdup_printf ("/v1/tke/%s/rotate", emu->instance);
  g_autofree char *vp_args = g_strdup_printf ("{\"new_mkvp\":\"%s\"}", vp);
  g_autoptr (EVP_PKEY) a1 = emu_demo_admin (emu, 1);
  EVP_PKEY *one[] = { a1, NULL };
  g_auto (GStrv) units = emu_unit_ids (emu);
  g_autoptr (JsonObject) started = emu_call_ok (emu, "POST", path, "{}", 202);
  g_autoptr (JsonObject) rewrapped = emu_wait_rotation (emu, "rewrapped");
  g_autoptr (JsonObject) complete = NULL;

  for (guint u = 0; units[u] != NULL; u++)
    {
      g_autoptr (JsonObject) r = emu_command_ok (emu, units[u], "set_immediate", vp_args, one);
    }
  complete = emu_wait_rotation (emu, "complete");
}

/* Issue 13: the instance's second rotation, from the GUI, shows its
 * messages in order (the dialog's list used to stay empty: the count of
 * messages seen started at the first rotation's). */
static void
test_second_rotation_messages (Fixture *f, gconstpointer user_data)
{
  g_autofree char *first = NULL, *second = NULL;
  TkeRotationDialog *dialog;

  fixture_start (f, (const char *const[]){ "--init", "demo", "--keys", "300", NULL });
  first = commit_new_key (f->emu);
  rotate_by_hand (f->emu, first);
  second = commit_new_key (f->emu);
  fixture_open_window (f);
  tke_test_log_in (GTK_WIDGET (f->window), f->emu->api_key);
  g_assert_true (tke_test_wait_until (units_shown, f, 60000));
  select_all (f);

  start_rotation_in_gui (f);
  dialog = TKE_ROTATION_DIALOG (tke_test_find_toplevel (TKE_TYPE_ROTATION_DIALOG));
  g_assert_nonnull (dialog);
  g_assert_true (tke_test_wait_until (waiting_for_card, NULL, 120000));
  g_assert_cmpuint (tke_rotation_dialog_get_n_messages (dialog), ==, 2);
  g_assert_cmpstr (tke_rotation_dialog_get_message (dialog, 0), ==, TKE_ROTATION_MESSAGE_STARTED);
  g_assert_cmpstr (tke_rotation_dialog_get_message (dialog, 1), ==, TKE_ROTATION_MESSAGE_REWRAPPED);
  stop_at_card_wait (dialog);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
}

static void
test_failed_rotation_recovery (Fixture *f, gconstpointer user_data)
{
  g_autofree char *vp = NULL;
  TkeRotationDialog *dialog;

  fixture_start (f, (const char *const[]){ "--init", "demo", "--keys", "3000", "--fail-after-keys",
                                           "1000", NULL });
  vp = commit_new_key (f->emu);
  fixture_open_window (f);
  tke_test_log_in (GTK_WIDGET (f->window), f->emu->api_key);
  g_assert_true (tke_test_wait_until (units_shown, f, 20000));
  select_all (f);

  start_rotation_in_gui (f);
  g_assert_true (tke_test_wait_until (rotation_dialog_finished, NULL, 60000));
  dialog = TKE_ROTATION_DIALOG (tke_test_find_toplevel (TKE_TYPE_ROTATION_DIALOG));
  g_assert_nonnull (tke_test_find_label_containing (GTK_WIDGET (dialog), "The rotation stopped:"));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "session-rotation-failed");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));

  /* The rewrap stopped half-way: Rotate again (it resumes), nothing else. */
  g_assert_true (tke_test_wait_until (recovery_advised, f, 20000));
  g_assert_cmpint (tke_recovery_page_get_action (tke_window_get_recovery_page (f->window)), ==,
                   TKE_RECOVERY_ACTION_RESUME_ROTATE);
  g_assert_nonnull (
      tke_test_find_button (GTK_WIDGET (tke_window_get_recovery_page (f->window)), "Rotate Again"));
  g_assert_null (tke_test_find_button (GTK_WIDGET (tke_window_get_recovery_page (f->window)),
                                       "Set Immediate"));
  g_assert_nonnull (tke_master_keys_page_get_disabled_reason (
      tke_window_get_master_keys_page (f->window), "set-immediate"));
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (f->window), "session-recovery-rotate-again");

  /* Rotate again from the recovery page: the service resumes and finishes the rewrap. */
  tke_test_click (
      tke_test_find_button (GTK_WIDGET (tke_window_get_recovery_page (f->window)), "Rotate Again"));
  g_assert_true (tke_test_wait_until (waiting_for_card, NULL, 60000));
  dialog = TKE_ROTATION_DIALOG (tke_test_find_toplevel (TKE_TYPE_ROTATION_DIALOG));
  stop_at_card_wait (dialog);
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (dialog), TKE_ROTATION_MESSAGE_REWRAPPED));
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (dialog), "3000 of 3000 keys rewrapped"));
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
}

/* ---- Cold start ---- */

static void
on_first_frame (GdkFrameClock *clock, gint64 *painted)
{
  if (*painted == 0)
    *painted = g_get_monotonic_time ();
}

static gboolean
painted (gpointer data)
{
  return *(gint64 *) data != 0;
}

static void
test_first_frame (void)
{
  gint64 start = g_get_monotonic_time ();
  gint64 first = 0;
  TkeWindow *window = tke_application_open_window (app);

  gtk_widget_realize (GTK_WIDGET (window));
  g_signal_connect (gtk_widget_get_frame_clock (GTK_WIDGET (window)), "after-paint",
                    G_CALLBACK (on_first_frame), &first);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (tke_test_wait_until (painted, &first, 10000));
  g_test_message ("window built and first frame painted in %.1f ms", (first - start) / 1000.0);
  printf ("# MEASURE window-to-first-frame-ms=%.1f\n", (first - start) / 1000.0);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  const char *const env[] = { "TKE_EMULATOR", "TKE_VIRTUAL_READERS", NULL };
  int status;

  if (!tke_test_gtk_can_run (env))
    return 0;
  base_dir = tke_test_gtk_private_home ("tke-gui-session-base-XXXXXX");
  tke_readers_fixture_init (&readers);
  tke_readers_fixture_start (&readers, NULL, NULL);

  tke_test_gtk_init (&argc, &argv);
  app = tke_test_gtk_application_new ();

  g_test_add_func ("/gui/session/first-frame", test_first_frame);
  g_test_add ("/gui/session/login-and-units", Fixture, NULL, NULL, test_login_and_units,
              fixture_tear_down);
  g_test_add ("/gui/session/expired-token-banner", Fixture, NULL, NULL, test_expired_token_banner,
              fixture_tear_down);
  g_test_add ("/gui/session/rotation-and-recovery", Fixture, NULL, NULL, test_rotation_and_recovery,
              fixture_tear_down);
  g_test_add ("/gui/session/failed-rotation-recovery", Fixture, NULL, NULL,
              test_failed_rotation_recovery, fixture_tear_down);
  g_test_add ("/gui/session/second-rotation-messages", Fixture, NULL, NULL,
              test_second_rotation_messages, fixture_tear_down);

  status = g_test_run ();
  tke_readers_fixture_clear (&readers);
  tke_test_remove_tree (base_dir);
  g_free (base_dir);
  return status;
}
