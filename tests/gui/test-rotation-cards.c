/* test-rotation-cards.c: a master key rotation through the widgets, with an
 * administrator card and its PIN typed on the on-screen PIN pad
 * (src/gui/tke-session.c's rotation, tke-rotation-dialog.c,
 * tke-prompted-signer.c, tke-recovery-page.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A real tke-emulator serves a demo instance over HTTPS; a private pcscd
 * runs the two virtual PIN-pad readers with an administrator card (made
 * with tke-card) in reader 1, installed as an administrator of every unit.
 * The test presses what a person presses: Rotate…, Rotate in the
 * confirmation, the PIN's digits on the virtual pad's buttons; after a
 * rewrap that failed (the emulator's fault injection), the recovery page's
 * one button.  What it checks is what the service holds afterwards: the
 * new master key current (Valid) on every unit.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>
#include <glib/gstdio.h>

#include "emu-client.h"
#include "tke-application.h"
#include "tke-login-dialog.h"
#include "tke-pin-prompt.h"
#include "tke-readers-fixture.h"
#include "tke-rotation-dialog.h"
#include "tke-test-gtk-utils.h"
#include "tke-virtual-pin-pad.h"
#include "tke-window.h"

#define ADMIN_CARD "admin1.card"
#define ADMIN_PIN "100001"

static TkeApplication *app;
static char *base_dir;
static TkeReadersFixture readers;

typedef struct
{
  char *dir;
  Emu *emu;
  TkeWindow *window;
  char *vp;
} Fixture;

/* ---- The service: demo units, a committed new key, the card's administrator ---- */

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* The card's public key, read as the application reads it (no PIN). */
static char *
card_public_key_hex (char **name)
{
  g_autoptr (TkeCardSigner) signer = tke_card_signer_new (NULL);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) point = NULL;

  tke_signer_get_public_key_async (TKE_SIGNER (signer), NULL, on_done, &result);
  wait_for (&result);
  point = tke_signer_get_public_key_finish (TKE_SIGNER (signer), result, &error);
  g_assert_no_error (error);
  *name = g_strdup (tke_signer_get_name (TKE_SIGNER (signer)));
  return tke_crypto_hex_encode (g_bytes_get_data (point, NULL), g_bytes_get_size (point));
}

/* The new key loaded and committed on every unit with the emulator's demo
 * administrators' key files, and the card's key added as a third
 * administrator (signed by both: the signature threshold is 2). */
static char *
prepare_service (Emu *emu)
{
  g_autoptr (TkeSecret) p1 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) p2 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) mk = tke_crypto_xor (p1, p2, NULL);
  TkeSecret *parts[] = { p1, p2 };
  g_autoptr (EVP_PKEY) a1 = emu_demo_admin (emu, 1);
  g_autoptr (EVP_PKEY) a2 = emu_demo_admin (emu, 2);
  g_autofree char *name = NULL;
  g_autofree char *point = card_public_key_hex (&name);
  g_autofree char *admin_args =
      g_strdup_printf ("{\"name\":\"%s\",\"public_key\":\"%s\"}", name, point);
  g_auto (GStrv) units = NULL;
  g_autofree char *vp_args = NULL;
  guint8 vp[TKE_VP_SIZE];
  char *vp_hex;

  emu_login (emu);
  units = emu_unit_ids (emu);
  tke_crypto_verification_pattern (mk, vp);
  vp_hex = tke_crypto_hex_encode (vp, sizeof vp);
  vp_args = g_strdup_printf ("{\"new_mkvp\":\"%s\"}", vp_hex);
  for (guint u = 0; units[u] != NULL; u++)
    {
      EVP_PKEY *one[] = { a1, NULL }, *both[] = { a1, a2, NULL }, *two[] = { a1, a1, NULL };
      g_autoptr (JsonObject) added = emu_command_ok (emu, units[u], "add_admin", admin_args, both);
      g_autoptr (JsonObject) imp =
          emu_command_ok (emu, units[u], "generate_importer_key", NULL, one);
      g_autofree char *load = emu_load_args (
          units[u], json_object_get_string_member (imp, "importer_key"), parts, 2, FALSE);
      g_autoptr (JsonObject) r1 = emu_command_ok (emu, units[u], "load", load, two);
      g_autoptr (JsonObject) r2 = emu_command_ok (emu, units[u], "commit", vp_args, both);
    }
  return vp_hex;
}

/* Every unit holds the new key as its current one, and nothing new. */
static void
assert_rotated (Fixture *f)
{
  g_auto (GStrv) ids = emu_unit_ids (f->emu);

  g_assert_cmpuint (g_strv_length (ids), ==, 3);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (JsonObject) q = emu_query (f->emu, ids[i]);

      g_assert_cmpstr (json_object_get_string_member (q, "current_mk_status"), ==, "Valid");
      g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), ==, f->vp);
      g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Empty");
    }
}

static void
write_profile (Fixture *f)
{
  g_autofree char *config = g_build_filename (base_dir, "config", "tke", NULL);
  g_autofree char *path = g_build_filename (config, "profile.ini", NULL);
  g_autofree char *text =
      g_strdup_printf ("[service]\nendpoint=%s\nca-file=%s\ninstance=%s\nunit-root=%s\n",
                       f->emu->url, f->emu->ca_file, f->emu->instance, f->emu->unit_root);
  g_autoptr (GError) error = NULL;

  g_mkdir_with_parents (config, 0700);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
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
log_in (Fixture *f)
{
  TkeLoginDialog *dialog;
  GtkWidget *entry;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-in", NULL);
  dialog = TKE_LOGIN_DIALOG (tke_test_find_toplevel (TKE_TYPE_LOGIN_DIALOG));
  g_assert_nonnull (dialog);
  entry =
      tke_test_find_widget_of_type (GTK_WIDGET (dialog), ADW_TYPE_PASSWORD_ENTRY_ROW, NULL, NULL);
  gtk_editable_set_text (GTK_EDITABLE (entry), f->emu->api_key);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Log In"));
  g_assert_true (tke_test_wait_until (no_login_dialog, NULL, 20000));
}

static void
fixture_start (Fixture *f, const char *const *emulator_args)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *state = NULL;
  GListModel *units;

  f->dir = g_dir_make_tmp ("tke-gui-rotation-XXXXXX", &error);
  g_assert_no_error (error);
  state = g_build_filename (f->dir, "state", NULL);
  f->emu = emu_start (state, emulator_args);
  f->vp = prepare_service (f->emu);
  write_profile (f);

  f->window = tke_application_open_window (app);
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1280, 720);
  gtk_window_present (GTK_WINDOW (f->window));
  log_in (f);
  g_assert_true (tke_test_wait_until (units_shown, f, 30000));
  units = tke_crypto_units_page_get_units (tke_window_get_units_page (f->window));
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      tke_crypto_unit_set_selected (unit, TRUE);
    }
  tke_test_iterate (50);
}

static void
fixture_stop (Fixture *f)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);

  gtk_window_destroy (GTK_WINDOW (f->window));
  tke_test_iterate (50);
  emu_stop (f->emu);
  g_clear_pointer (&f->emu, emu_free);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (f->dir);
  g_free (f->vp);
}

/* ---- The person at the screen ---- */

static TkeRotationDialog *
rotation_dialog (void)
{
  return TKE_ROTATION_DIALOG (tke_test_find_toplevel (TKE_TYPE_ROTATION_DIALOG));
}

static gboolean
dialog_finished (gpointer data)
{
  TkeRotationDialog *dialog = rotation_dialog ();
  return dialog != NULL && tke_rotation_dialog_get_finished (dialog);
}

static gboolean
prompt_in_state (gpointer data)
{
  TkeRotationDialog *dialog = rotation_dialog ();
  TkePinPrompt *prompt = dialog != NULL ? tke_rotation_dialog_get_pin_prompt (dialog) : NULL;

  return prompt != NULL && gtk_widget_get_visible (GTK_WIDGET (prompt)) &&
         tke_pin_prompt_get_state (prompt) == (TkePinPromptState) GPOINTER_TO_INT (data);
}

static void
click_rotate (Fixture *f)
{
  TkeMasterKeysPage *keys = tke_window_get_master_keys_page (f->window);
  AdwMessageDialog *confirm;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "master-keys");
  tke_test_flush_widget (GTK_WIDGET (f->window));
  g_assert_null (tke_master_keys_page_get_disabled_reason (keys, "rotate"));
  tke_test_click (tke_test_find_button (GTK_WIDGET (keys), "Rotate…"));
  confirm = ADW_MESSAGE_DIALOG (tke_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_assert_nonnull (confirm);
  tke_test_flush_widget (GTK_WIDGET (confirm));
  tke_test_click (tke_test_find_button (GTK_WIDGET (confirm), "Rotate"));
}

typedef struct
{
  char *answer;
  gboolean done;
} PadWait;

static gpointer
wait_prompt_thread (gpointer data)
{
  PadWait *wait = data;

  wait->answer = tke_readers_ctl (&readers, 1, "wait-prompt 20000");
  g_atomic_int_set (&wait->done, TRUE);
  return NULL;
}

static gboolean
pad_wait_done (gpointer data)
{
  return g_atomic_int_get (&((PadWait *) data)->done);
}

/* The reader itself waits for the PIN (asked in a thread: the
 * application's main loop must keep running meanwhile). */
static void
wait_for_reader_prompt (void)
{
  PadWait wait = { 0 };
  GThread *thread = g_thread_new ("wait-prompt", wait_prompt_thread, &wait);

  g_assert_true (tke_test_wait_until (pad_wait_done, &wait, 30000));
  g_thread_join (thread);
  g_assert_cmpstr (wait.answer, ==, "ok");
  g_free (wait.answer);
}

static gboolean
replies_reach (gpointer data)
{
  gpointer *args = data;
  return tke_virtual_pin_pad_get_n_replies (args[0]) >= GPOINTER_TO_UINT (args[1]);
}

/* The digits pressed on the on-screen pad's buttons, then OK (or Cancel). */
static void
press_on_pad (TkeRotationDialog *dialog, const char *keys, const char *last)
{
  GtkWidget *pad = tke_pin_prompt_get_pad (tke_rotation_dialog_get_pin_prompt (dialog));
  guint before = tke_virtual_pin_pad_get_n_replies (TKE_VIRTUAL_PIN_PAD (pad));
  gpointer args[2] = { pad, GUINT_TO_POINTER (before + strlen (keys) + 1) };

  wait_for_reader_prompt ();
  g_assert_true (gtk_widget_get_visible (pad));
  for (const char *k = keys; *k != '\0'; k++)
    {
      char label[2] = { *k, '\0' };
      tke_test_click (tke_test_find_button (pad, label));
    }
  tke_test_click (tke_test_find_button (pad, last));
  g_assert_true (tke_test_wait_until (replies_reach, args, 10000));
}

/* WIDGET is inside the dialog's scrolled area as it opened, unscrolled:
 * a person sees it without scrolling. */
static gboolean
in_view (TkeRotationDialog *dialog, GtkWidget *widget)
{
  GtkWidget *scrolled =
      tke_test_find_widget_of_type (GTK_WIDGET (dialog), GTK_TYPE_SCROLLED_WINDOW, NULL, NULL);
  graphene_rect_t bounds;

  g_assert_nonnull (scrolled);
  if (!gtk_widget_is_visible (widget) || !gtk_widget_compute_bounds (widget, scrolled, &bounds))
    return FALSE;
  g_test_message ("%s: y %.0f..%.0f of %d", G_OBJECT_TYPE_NAME (widget), bounds.origin.y,
                  bounds.origin.y + bounds.size.height, gtk_widget_get_height (scrolled));
  return bounds.origin.y >= 0 &&
         bounds.origin.y + bounds.size.height <= gtk_widget_get_height (scrolled) + 0.5;
}

static gboolean
shows_label_containing (GtkWidget *root, const char *text)
{
  GtkWidget *label = tke_test_find_label_containing (root, text);

  return label != NULL && gtk_widget_is_visible (label);
}

/* ---- Tests ---- */

/* (a) Rotate… → Rotate → the service's messages and the bar → the
 * administrator card's PIN on the pad → every unit switched. */
static void
test_whole_rotation (void)
{
  Fixture f = { 0 };
  TkeRotationDialog *dialog;
  TkePinPrompt *prompt;

  fixture_start (&f, (const char *const[]){ "--init", "demo", "--keys", "3000", NULL });
  click_rotate (&f);
  dialog = rotation_dialog ();
  g_assert_nonnull (dialog);
  prompt = tke_rotation_dialog_get_pin_prompt (dialog);

  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  g_assert_cmpstr (tke_rotation_dialog_get_message (dialog, 0), ==, TKE_ROTATION_MESSAGE_STARTED);
  g_assert_cmpstr (tke_rotation_dialog_get_message (dialog, 1), ==, TKE_ROTATION_MESSAGE_REWRAPPED);
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (dialog), "3000 of 3000 keys rewrapped"));
  g_assert_cmpstr (tke_pin_prompt_get_title (prompt), ==,
                   "Enter the PIN on the PIN pad of reader 1");
  /* The PIN entry is cancelled on the pad, not here: no Stop button
   * that could never be pressed. */
  g_assert_null (tke_test_find_button (GTK_WIDGET (dialog), "Stop Rotation"));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  /* The service's messages and the pad, both without scrolling, and the
   * reader's time-out counted down. */
  g_assert_true (in_view (
      dialog, tke_test_find_widget_of_type (GTK_WIDGET (dialog), GTK_TYPE_LIST_BOX, NULL, NULL)));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-card-pin-prompt");
  g_assert_true (in_view (dialog, tke_pin_prompt_get_pad (prompt)));
  g_assert_nonnull (strstr (tke_pin_prompt_get_countdown_text (prompt), "seconds left"));

  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  g_assert_cmpuint (tke_rotation_dialog_get_n_unit_results (dialog), ==, 3);
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (dialog), "Crypto unit 2"));
  g_assert_cmpint (tke_pin_prompt_get_state (prompt), ==, TKE_PIN_PROMPT_ACCEPTED);
  g_assert_cmpstr (
      tke_rotation_dialog_get_message (dialog, tke_rotation_dialog_get_n_messages (dialog) - 1), ==,
      TKE_ROTATION_MESSAGE_SUCCESSFUL);
  /* The headline is the outcome; what was under way is gone. */
  g_assert_cmpstr (tke_rotation_dialog_get_headline (dialog), ==, "The rotation is complete.");
  g_assert_false (shows_label_containing (GTK_WIDGET (dialog), "Set immediate now makes"));
  g_assert_false (shows_label_containing (GTK_WIDGET (dialog), "PIN accepted"));
  g_assert_true (
      shows_label_containing (GTK_WIDGET (dialog), "Set immediate done: the new master key"));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-card-done");
  assert_rotated (&f);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
  fixture_stop (&f);
}

/* Another new key loaded and committed on every unit by the demo
 * administrators' key files (another workstation, say); returns its VP. */
static char *
commit_next_key (Emu *emu)
{
  g_autoptr (TkeSecret) p1 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) p2 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) mk = tke_crypto_xor (p1, p2, NULL);
  TkeSecret *parts[] = { p1, p2 };
  g_autoptr (EVP_PKEY) a1 = emu_demo_admin (emu, 1);
  g_autoptr (EVP_PKEY) a2 = emu_demo_admin (emu, 2);
  g_auto (GStrv) units = NULL;
  g_autofree char *vp_args = NULL;
  guint8 vp[TKE_VP_SIZE];
  char *vp_hex;

  emu_login (emu);
  units = emu_unit_ids (emu);
  tke_crypto_verification_pattern (mk, vp);
  vp_hex = tke_crypto_hex_encode (vp, sizeof vp);
  vp_args = g_strdup_printf ("{\"new_mkvp\":\"%s\"}", vp_hex);
  for (guint u = 0; units[u] != NULL; u++)
    {
      EVP_PKEY *one[] = { a1, NULL }, *both[] = { a1, a2, NULL }, *two[] = { a1, a1, NULL };
      g_autoptr (JsonObject) imp =
          emu_command_ok (emu, units[u], "generate_importer_key", NULL, one);
      g_autofree char *load = emu_load_args (
          units[u], json_object_get_string_member (imp, "importer_key"), parts, 2, FALSE);
      g_autoptr (JsonObject) r1 = emu_command_ok (emu, units[u], "load", load, two);
      g_autoptr (JsonObject) r2 = emu_command_ok (emu, units[u], "commit", vp_args, both);
    }
  return vp_hex;
}

static gboolean
rotate_enabled (gpointer data)
{
  Fixture *f = data;
  const char *reason = tke_master_keys_page_get_disabled_reason (
      tke_window_get_master_keys_page (f->window), "rotate");

  return reason == NULL && units_shown (f);
}

/* Issue 13: the first, second and third rotation of an instance in a row,
 * each from Rotate… to the card's PIN, each dialog showing the service's
 * three messages in order, once (the second and later ones used to show
 * none: the count seen started at the previous rotation's). */
static void
test_three_in_a_row (void)
{
  static const char *const expected[] = { TKE_ROTATION_MESSAGE_STARTED,
                                          TKE_ROTATION_MESSAGE_REWRAPPED,
                                          TKE_ROTATION_MESSAGE_SUCCESSFUL };
  Fixture f = { 0 };

  fixture_start (&f, (const char *const[]){ "--init", "demo", "--keys", "300", NULL });
  for (guint round = 1; round <= 3; round++)
    {
      TkeRotationDialog *dialog;

      if (round > 1)
        {
          g_free (f.vp);
          f.vp = commit_next_key (f.emu);
          gtk_widget_activate_action (GTK_WIDGET (f.window), "win.refresh", NULL);
          g_assert_true (tke_test_wait_until (rotate_enabled, &f, 30000));
        }
      click_rotate (&f);
      dialog = rotation_dialog ();
      g_assert_nonnull (dialog);
      g_assert_true (
          tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
      press_on_pad (dialog, ADMIN_PIN, "OK");
      g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
      g_test_message ("rotation %u: %u messages", round,
                      tke_rotation_dialog_get_n_messages (dialog));
      g_assert_cmpuint (tke_rotation_dialog_get_n_messages (dialog), ==, 3);
      for (guint i = 0; i < 3; i++)
        g_assert_cmpstr (tke_rotation_dialog_get_message (dialog, i), ==, expected[i]);
      g_assert_cmpstr (tke_rotation_dialog_get_headline (dialog), ==, "The rotation is complete.");
      assert_rotated (&f);
      if (round == 3)
        {
          tke_test_iterate (200);
          tke_test_flush_widget (GTK_WIDGET (dialog));
          tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-third-in-a-row");
        }
      tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
      tke_test_iterate (50);
    }
  fixture_stop (&f);
}

static gboolean
recovery_is (gpointer data)
{
  gpointer *args = data;
  Fixture *f = args[0];

  return tke_recovery_page_get_action (tke_window_get_recovery_page (f->window)) ==
         (TkeRecoveryAction) GPOINTER_TO_INT (args[1]);
}

static guint
count_visible_buttons (GtkWidget *widget)
{
  guint n = GTK_IS_BUTTON (widget) && gtk_widget_is_drawable (widget) ? 1 : 0;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    n += count_visible_buttons (c);
  return n;
}

/* The recovery page: the advisor's words, the table, one button. */
static void
assert_recovery_page (Fixture *f,
                      TkeRecoveryAction action,
                      const char *button,
                      const char *screenshot)
{
  gpointer args[2] = { f, GINT_TO_POINTER (action) };
  GtkWidget *page = GTK_WIDGET (tke_window_get_recovery_page (f->window));

  g_assert_true (tke_test_wait_until (recovery_is, args, 30000));
  tke_test_iterate (300);
  tke_test_flush_widget (GTK_WIDGET (f->window));
  g_assert_true (gtk_widget_get_mapped (page));
  g_assert_cmpuint (count_visible_buttons (page), ==, 1);
  g_assert_nonnull (tke_test_find_button (page, button));
  tke_test_save_screenshot (GTK_WIDGET (f->window), screenshot);
}

static gboolean
page_says (gpointer data)
{
  gpointer *args = data;
  TkeWindow *window = args[1];

  return tke_test_find_label_containing (GTK_WIDGET (tke_window_get_recovery_page (window)),
                                         args[0]) != NULL;
}

/* (b) The rewrap fails half-way (injected): the recovery page offers
 * only Rotate Again; pressed, it resumes, and (c) a wrong PIN on the pad
 * says how many tries are left and asks again; the right one finishes. */
static void
test_recovery_after_failed_rewrap (void)
{
  Fixture f = { 0 };
  TkeRotationDialog *dialog;
  TkePinPrompt *prompt;

  fixture_start (&f, (const char *const[]){ "--init", "demo", "--keys", "3000", "--fail-after-keys",
                                            "1000", NULL });
  click_rotate (&f);
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  dialog = rotation_dialog ();
  g_assert_nonnull (strstr (tke_rotation_dialog_get_outcome (dialog),
                            "The rotation stopped: The rewrap of the key storage stopped"));
  /* The advisor's conclusion is in the dialog too. */
  g_assert_nonnull (strstr (tke_rotation_dialog_get_outcome (dialog), "\n\n"));
  g_assert_cmpuint (tke_rotation_dialog_get_n_unit_results (dialog), ==, 0);
  /* The headline no longer says the service is at work. */
  g_test_message ("failed rewrap: %s", tke_rotation_dialog_get_headline (dialog));
  g_assert_null (strstr (tke_rotation_dialog_get_headline (dialog), "is re-encrypting"));
  g_assert_nonnull (strstr (tke_rotation_dialog_get_headline (dialog), "The rotation stopped"));
  g_assert_null (tke_test_find_button (GTK_WIDGET (dialog), "Stop Rotation"));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-failed-rewrap");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));

  /* As if this workstation had stopped during the rewrap: the journal's
   * last ceremony has no end; the page names it. */
  {
    g_autoptr (TkeJournal) journal = tke_journal_new (NULL);
    g_autoptr (GPtrArray) units = g_ptr_array_new_with_free_func (g_object_unref);
    GListModel *model = tke_crypto_units_page_get_units (tke_window_get_units_page (f.window));
    g_autoptr (GError) error = NULL;

    for (guint i = 0; i < g_list_model_get_n_items (model); i++)
      g_ptr_array_add (units, g_list_model_get_item (model, i));
    g_assert_true (
        tke_journal_begin (journal, "rotate", f.emu->instance, units, NULL, f.vp, &error));
    g_assert_true (tke_journal_append (journal, TKE_JOURNAL_STEP_REWRAP, TKE_JOURNAL_OUTCOME_BEGIN,
                                       NULL, &error));
    g_assert_no_error (error);
    gtk_widget_activate_action (GTK_WIDGET (f.window), "win.refresh", NULL);
  }
  assert_recovery_page (&f, TKE_RECOVERY_ACTION_RESUME_ROTATE, "Rotate Again",
                        "rotation-recovery-page");
  {
    gpointer args[2] = {
      (gpointer) "The “rotate” ceremony did not finish: its last step in the journal", f.window
    };
    g_assert_true (tke_test_wait_until (page_says, args, 20000));
  }
  g_assert_nonnull (tke_test_find_label_containing (
      GTK_WIDGET (tke_window_get_recovery_page (f.window)), "is “rewrap”, at"));
  tke_test_flush_widget (GTK_WIDGET (f.window));
  tke_test_save_screenshot (GTK_WIDGET (f.window), "rotation-recovery-page");
  tke_test_click (
      tke_test_find_button (GTK_WIDGET (tke_window_get_recovery_page (f.window)), "Rotate Again"));
  dialog = rotation_dialog ();
  g_assert_nonnull (dialog);
  prompt = tke_rotation_dialog_get_pin_prompt (dialog);
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (dialog), "3000 of 3000 keys rewrapped"));

  press_on_pad (dialog, "999999", "OK");
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_WRONG_PIN), 20000));
  g_assert_cmpstr (tke_pin_prompt_get_title (prompt), ==, "Wrong PIN: 2 tries left");
  g_assert_nonnull (tke_test_find_label (GTK_WIDGET (dialog), "Wrong PIN: 2 tries left"));
  g_assert_false (tke_rotation_dialog_get_finished (dialog));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-card-wrong-pin");

  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  assert_rotated (&f);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
  {
    gpointer args[2] = { &f, GINT_TO_POINTER (TKE_RECOVERY_ACTION_NONE) };
    g_assert_true (tke_test_wait_until (recovery_is, args, 30000));
  }
  fixture_stop (&f);
}

/* The PIN entry cancelled on the pad: nothing is sent, the rotation stops
 * with the keys rewrapped, and the recovery page offers Set Immediate only;
 * pressed, it asks for the card again and finishes. */
static void
test_pin_cancelled_then_set_immediate (void)
{
  Fixture f = { 0 };
  TkeRotationDialog *dialog;

  fixture_start (&f, (const char *const[]){ "--init", "demo", "--keys", "500", NULL });
  click_rotate (&f);
  dialog = rotation_dialog ();
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  press_on_pad (dialog, "", "Cancel");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_assert_cmpint (tke_pin_prompt_get_state (tke_rotation_dialog_get_pin_prompt (dialog)), ==,
                   TKE_PIN_PROMPT_CANCELLED);
  g_assert_cmpuint (tke_rotation_dialog_get_n_unit_results (dialog), ==, 3);
  g_assert_nonnull (
      tke_test_find_label_containing (GTK_WIDGET (dialog), "cancelled on the PIN pad of reader 1"));
  /* A deliberate Cancel is no failure of the units. */
  g_assert_null (tke_test_find_label_containing (GTK_WIDGET (dialog), "FAILED"));
  g_assert_null (tke_test_find_label_containing (GTK_WIDGET (dialog), "failed"));
  g_assert_true (shows_label_containing (GTK_WIDGET (dialog), "Not set yet: "));
  g_assert_nonnull (strstr (tke_rotation_dialog_get_headline (dialog), "was not sent"));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-pin-cancelled");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));

  assert_recovery_page (&f, TKE_RECOVERY_ACTION_SET_IMMEDIATE, "Set Immediate",
                        "rotation-recovery-set-immediate");
  tke_test_click (
      tke_test_find_button (GTK_WIDGET (tke_window_get_recovery_page (f.window)), "Set Immediate"));
  dialog = rotation_dialog ();
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  assert_rotated (&f);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
  fixture_stop (&f);
}

/* The emulator again on the same state and port, without the fault it
 * was started with: the service mended.  Its tokens are gone with it, so
 * the person logs in again. */
static void
restart_emulator (Fixture *f)
{
  g_autofree char *state = g_build_filename (f->dir, "state", NULL);
  const char *port = strrchr (f->emu->url, ':') + 1;
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%d", atoi (port));

  emu_stop (f->emu);
  g_clear_pointer (&f->emu, emu_free);
  f->emu = emu_start (state, (const char *const[]){ "--listen", listen, NULL });
  emu_login (f->emu);
  log_in (f);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.refresh", NULL);
  g_assert_true (tke_test_wait_until (units_shown, f, 30000));
}

/* Row 4 of DESIGN §5 with the real fault (--fail-setimm-on 2): set
 * immediate fails on unit 2 after units 1 and 3 switched.  The recovery
 * page names the one safe action, leaving out the switched units; once
 * the service works again, its one button finishes unit 2, and every
 * unit ends on the one new key. */
static void
test_setimm_failed_on_one_unit (void)
{
  Fixture f = { 0 };
  TkeRotationDialog *dialog;
  GtkWidget *page;

  fixture_start (&f, (const char *const[]){ "--init", "demo", "--keys", "500", "--fail-setimm-on",
                                            "2", NULL });
  click_rotate (&f);
  dialog = rotation_dialog ();
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_test_message ("set immediate failed on unit 2: %s / %s",
                  tke_rotation_dialog_get_headline (dialog),
                  tke_rotation_dialog_get_outcome (dialog));
  g_assert_cmpuint (tke_rotation_dialog_get_n_unit_results (dialog), ==, 3);
  g_assert_true (shows_label_containing (GTK_WIDGET (dialog), "Injected fault"));
  /* No green "PIN accepted" over a failed set immediate. */
  g_assert_false (shows_label_containing (GTK_WIDGET (dialog), "PIN accepted"));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-setimm-failed-on-2");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));

  assert_recovery_page (&f, TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE,
                        "Remove Switched Units and Set Immediate",
                        "rotation-recovery-remove-switched");
  page = GTK_WIDGET (tke_window_get_recovery_page (f.window));
  g_assert_nonnull (
      tke_test_find_label_containing (page, "Leave Out the Switched Units, Then Set Immediate"));

  restart_emulator (&f);
  assert_recovery_page (&f, TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE,
                        "Remove Switched Units and Set Immediate",
                        "rotation-recovery-remove-switched-again");
  tke_test_click (tke_test_find_button (page, "Remove Switched Units and Set Immediate"));
  dialog = rotation_dialog ();
  g_assert_nonnull (dialog);
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_test_message ("after the recovery: %s", tke_rotation_dialog_get_outcome (dialog));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-recovery-remove-switched-done");
  assert_rotated (&f);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
  {
    gpointer args[2] = { &f, GINT_TO_POINTER (TKE_RECOVERY_ACTION_NONE) };
    g_assert_true (tke_test_wait_until (recovery_is, args, 30000));
  }
  fixture_stop (&f);
}

/* Row 1 of DESIGN §5 with the emulator's real token expiry: the token
 * runs out before Rotate, the pre-check reports it before anything is
 * touched and names the one action (log in again, then rotate); done,
 * every unit ends on the one new key. */
static void
test_token_expired_then_rotate_again (void)
{
  Fixture f = { 0 };
  TkeRotationDialog *dialog;
  GtkWidget *page;
  const char *outcome;

  fixture_start (
      &f, (const char *const[]){ "--init", "demo", "--keys", "200", "--token-ttl", "10", NULL });
  tke_test_iterate (11000);
  click_rotate (&f);
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  dialog = rotation_dialog ();
  outcome = tke_rotation_dialog_get_outcome (dialog);
  g_test_message ("expired token: %s / %s", tke_rotation_dialog_get_headline (dialog), outcome);
  g_assert_nonnull (strstr (outcome, "og in"));
  g_assert_cmpuint (tke_rotation_dialog_get_n_unit_results (dialog), ==, 0);
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-precheck-token-expired");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));

  /* Nothing was touched: no rotation to recover (the Recovery tab says
   * so, with no button), and the one action is the one the dialog named:
   * log in again, then Rotate… on the Master keys tab. */
  log_in (&f);
  gtk_widget_activate_action (GTK_WIDGET (f.window), "win.refresh", NULL);
  g_assert_true (tke_test_wait_until (units_shown, &f, 30000));
  {
    gpointer args[2] = { &f, GINT_TO_POINTER (TKE_RECOVERY_ACTION_NONE) };
    g_assert_true (tke_test_wait_until (recovery_is, args, 30000));
  }
  page = GTK_WIDGET (tke_window_get_recovery_page (f.window));
  gtk_widget_activate_action (GTK_WIDGET (f.window), "win.show-page", "s", "recovery");
  tke_test_iterate (300);
  tke_test_flush_widget (GTK_WIDGET (f.window));
  g_assert_cmpuint (count_visible_buttons (page), ==, 0);
  tke_test_save_screenshot (GTK_WIDGET (f.window), "rotation-precheck-nothing-to-recover");
  click_rotate (&f);
  dialog = rotation_dialog ();
  g_assert_nonnull (dialog);
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  emu_login (f.emu); /* the test's own token expired too */
  assert_rotated (&f);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
  fixture_stop (&f);
}

/* The demo's failed rotation: "Demo: Make the Next Rotation Fail" arms
 * the emulator's --faults-file; the rewrap stops after 1000 keys, the
 * recovery page offers Rotate Again only, and it resumes to the end. */
static void
test_demo_failed_rotation (void)
{
  Fixture f = { 0 };
  TkeRotationDialog *dialog;
  g_autofree char *faults_dir = g_dir_make_tmp ("tke-gui-faults-XXXXXX", NULL);
  g_autofree char *faults = g_build_filename (faults_dir, "faults.ini", NULL);

  fixture_start (&f, (const char *const[]){ "--init", "demo", "--keys", "3000", "--faults-file",
                                            faults, NULL });
  tke_window_set_demo (f.window, NULL, faults);
  g_assert_true (
      gtk_widget_activate_action (GTK_WIDGET (f.window), "win.demo-fail-rotation", NULL));
  g_assert_true (g_file_test (faults, G_FILE_TEST_EXISTS));
  click_rotate (&f);
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  dialog = rotation_dialog ();
  g_test_message ("demo failure: %s", tke_rotation_dialog_get_outcome (dialog));
  g_assert_nonnull (strstr (tke_rotation_dialog_get_outcome (dialog),
                            "The rotation stopped: The rewrap of the key storage stopped"));
  /* Armed for that rotation only. */
  g_assert_false (g_file_test (faults, G_FILE_TEST_EXISTS));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-demo-failed");
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));

  assert_recovery_page (&f, TKE_RECOVERY_ACTION_RESUME_ROTATE, "Rotate Again",
                        "rotation-recovery-demo-resume");
  tke_test_click (
      tke_test_find_button (GTK_WIDGET (tke_window_get_recovery_page (f.window)), "Rotate Again"));
  dialog = rotation_dialog ();
  g_assert_nonnull (dialog);
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 60000));
  press_on_pad (dialog, ADMIN_PIN, "OK");
  g_assert_true (tke_test_wait_until (dialog_finished, NULL, 60000));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  assert_rotated (&f);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
  fixture_stop (&f);
  g_rmdir (faults_dir);
}

/* The item of the open menu whose label is TEXT: a GtkModelButton. */
static GtkWidget *
menu_item (GtkWidget *popover, const char *text)
{
  GtkWidget *item = tke_test_find_label (popover, text);

  if (item == NULL)
    g_error ("the menu has no item “%s”", text);
  while (item != NULL && !g_str_equal (G_OBJECT_TYPE_NAME (item), "GtkModelButton"))
    item = gtk_widget_get_parent (item);
  g_assert_nonnull (item);
  return item;
}

static gboolean
popover_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data);
}

/* Blocker 2 of issue 14: set immediate waits for the administrator card,
 * and the demo's administrator inserts it from the Cards menu of the
 * dialog's own readers strip (the window's is behind the modal dialog). */
static void
test_card_from_dialog_strip (void)
{
  Fixture f = { 0 };
  TkeRotationDialog *dialog;
  GtkMenuButton *button;
  GtkWidget *popover;

  /* The card installs its administrator first, then leaves the reader. */
  fixture_start (&f, (const char *const[]){ "--init", "demo", "--keys", "500", NULL });
  {
    g_autofree char *removed = tke_readers_ctl (&readers, 1, "remove");
    g_assert_cmpstr (removed, ==, "ok");
  }
  tke_test_iterate (500);
  click_rotate (&f);
  dialog = rotation_dialog ();
  g_assert_true (tke_test_wait_until (prompt_in_state,
                                      GINT_TO_POINTER (TKE_PIN_PROMPT_WAITING_FOR_CARD), 60000));
  button = tke_readers_bar_get_card_button (tke_rotation_dialog_get_readers_bar (dialog), 1);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (button)));
  popover = GTK_WIDGET (gtk_menu_button_get_popover (button));
  gtk_menu_button_popup (button);
  g_assert_true (tke_test_wait_until (popover_mapped, popover, 5000));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "rotation-waits-for-card");
  g_signal_emit_by_name (menu_item (popover, "Admin card 1"), "clicked");
  gtk_menu_button_popdown (button);
  g_assert_true (
      tke_test_wait_until (prompt_in_state, GINT_TO_POINTER (TKE_PIN_PROMPT_ENTER_PIN), 30000));
  press_on_pad (dialog, ADMIN_PIN, "OK");
  if (!tke_test_wait_until (dialog_finished, NULL, 60000))
    g_error ("the dialog did not finish: the prompt says “%s” / “%s”",
             tke_pin_prompt_get_title (tke_rotation_dialog_get_pin_prompt (dialog)),
             tke_pin_prompt_get_description (tke_rotation_dialog_get_pin_prompt (dialog)));
  g_assert_cmpstr (tke_rotation_dialog_get_outcome (dialog), ==,
                   "The new master key is current on every selected crypto unit.");
  assert_rotated (&f);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Close"));
  fixture_stop (&f);
}

/* ---- Setup ---- */

static void
make_cards (void)
{
  const char *ca[] = {
    "create-ca", "--zone-description", "Zone A", "--description", "CA A", "ca.card", NULL
  };
  const char *create[] = { "create",       "--zone",   "ca.card", "--description",
                           "Admin card 1", ADMIN_CARD, NULL };
  const char *sigkey[] = { "gen-sigkey", ADMIN_CARD, NULL };

  g_assert_cmpint (tke_readers_card (&readers, "777777\n888888\n", ca, NULL), ==, 0);
  g_assert_cmpint (tke_readers_card (&readers, "777777\n888888\n" ADMIN_PIN "\n", create, NULL), ==,
                   0);
  g_assert_cmpint (tke_readers_card (&readers, ADMIN_PIN "\n", sigkey, NULL), ==, 0);
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
  base_dir = g_dir_make_tmp ("tke-gui-rotation-base-XXXXXX", NULL);
  g_assert_nonnull (base_dir);
  {
    g_autofree char *config = g_build_filename (base_dir, "config", NULL);
    g_autofree char *state = g_build_filename (base_dir, "state", NULL);
    g_autofree char *keyring = g_build_filename (base_dir, "keyring", NULL);

    /* Read once by GLib: the profile, the ceremony journal, the keyring. */
    g_setenv ("XDG_CONFIG_HOME", config, TRUE);
    g_setenv ("XDG_STATE_HOME", state, TRUE);
    g_setenv ("SECRET_FILE_TEST_PATH", keyring, TRUE);
  }
  g_setenv ("SECRET_BACKEND", "file", TRUE);
  g_setenv ("SECRET_FILE_TEST_PASSWORD", "test", TRUE);

  tke_readers_fixture_init (&readers);
  make_cards ();
  tke_readers_fixture_start (&readers, ADMIN_CARD, NULL);
  /* The application shows the on-screen pad for these readers. */
  g_setenv ("TKE_VIRTUAL_READERS_DIR", readers.state_dir, TRUE);
  g_setenv ("TKE_VIRTUAL_CARDS_DIR", readers.dir, TRUE);

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  app = tke_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, NULL);

  g_test_add_func ("/gui/rotation-cards/whole-rotation", test_whole_rotation);
  g_test_add_func ("/gui/rotation-cards/three-in-a-row", test_three_in_a_row);
  g_test_add_func ("/gui/rotation-cards/recovery-after-failed-rewrap",
                   test_recovery_after_failed_rewrap);
  g_test_add_func ("/gui/rotation-cards/pin-cancelled-then-set-immediate",
                   test_pin_cancelled_then_set_immediate);
  g_test_add_func ("/gui/rotation-cards/card-from-dialog-strip", test_card_from_dialog_strip);
  g_test_add_func ("/gui/rotation-cards/token-expired-then-rotate-again",
                   test_token_expired_then_rotate_again);
  g_test_add_func ("/gui/rotation-cards/demo-failed-rotation", test_demo_failed_rotation);
  g_test_add_func ("/gui/rotation-cards/setimm-failed-on-one-unit", test_setimm_failed_on_one_unit);

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
