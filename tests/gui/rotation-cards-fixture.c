/* rotation-cards-fixture.c: the rotation tests' emulator, readers, window
 * and the person's hands at the rotation dialog (test-rotation-cards.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>
#include <glib/gstdio.h>

#include "rotation-cards-fixture.h"
#include "tke-login-dialog.h"
#include "tke-pin-prompt.h"
#include "report-dialog-waits.h"
#include "tke-test-gtk.h"
#include "tke-test-util.h"
#include "tke-virtual-pin-pad.h"

TkeApplication *app;
char *base_dir;
TkeReadersFixture readers;

/* ---- The service: demo units, a committed new key, the card's administrator ---- */

/* The card's public key, read as the application reads it (no PIN). */
char *
card_public_key_hex (char **name)
{
  g_autoptr (TkeCardSigner) signer = tke_card_signer_new (NULL);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) point = NULL;

  tke_signer_get_public_key_async (TKE_SIGNER (signer), NULL, tke_test_async_done, &result);
  tke_test_await (&result, 0);
  point = tke_signer_get_public_key_finish (TKE_SIGNER (signer), result, &error);
  g_assert_no_error (error);
  *name = g_strdup (tke_signer_get_name (TKE_SIGNER (signer)));
  return tke_crypto_hex_encode (g_bytes_get_data (point, NULL), g_bytes_get_size (point));
}

/* The new key loaded and committed on every unit with the emulator's demo
 * administrators' key files, and the card's key added as a third
 * administrator (signed by both: the signature threshold is 2). */
char *
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
void
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

void
write_profile (Fixture *f)
{
  g_autofree char *config_home = g_build_filename (base_dir, "config", NULL);

  emu_write_profile (f->emu, config_home);
}

gboolean
units_shown (gpointer data)
{
  Fixture *f = data;
  GListModel *units = tke_crypto_units_page_get_units (tke_window_get_units_page (f->window));

  return units != NULL && g_list_model_get_n_items (units) >= 3 &&
         tke_crypto_units_page_get_state (tke_window_get_units_page (f->window)) ==
             TKE_CRYPTO_UNITS_PAGE_READY;
}

void
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
  tke_test_log_in (GTK_WIDGET (f->window), f->emu->api_key);
  g_assert_true (tke_test_wait_until (units_shown, f, 30000));
  units = tke_crypto_units_page_get_units (tke_window_get_units_page (f->window));
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      tke_crypto_unit_set_selected (unit, TRUE);
    }
  tke_test_iterate (50);
}

/* The g_test_add() tear-down: each test starts the fixture's emulator
 * (fixture_start()) with the arguments it needs. */
void
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
  g_clear_pointer (&f->vp, g_free);
}

/* ---- The person at the screen ---- */

TkeRotationDialog *
rotation_dialog (void)
{
  return TKE_ROTATION_DIALOG (tke_test_find_toplevel (TKE_TYPE_ROTATION_DIALOG));
}

gboolean
dialog_finished (gpointer data)
{
  TkeRotationDialog *dialog = rotation_dialog ();
  return dialog != NULL && tke_rotation_dialog_get_finished (dialog);
}

gboolean
prompt_in_state (gpointer data)
{
  TkeRotationDialog *dialog = rotation_dialog ();
  TkePinPrompt *prompt = dialog != NULL ? tke_rotation_dialog_get_pin_prompt (dialog) : NULL;

  return prompt != NULL && gtk_widget_get_visible (GTK_WIDGET (prompt)) &&
         tke_pin_prompt_get_state (prompt) == (TkePinPromptState) GPOINTER_TO_INT (data);
}

gboolean
rotate_offered (gpointer keys)
{
  return tke_master_keys_page_get_disabled_reason (keys, "rotate") == NULL;
}

void
click_rotate (Fixture *f)
{
  TkeMasterKeysPage *keys = tke_window_get_master_keys_page (f->window);
  AdwMessageDialog *confirm;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "master-keys");
  tke_test_flush_widget (GTK_WIDGET (f->window));
  /* The selection reaches the page on its next refresh. */
  if (!tke_test_wait_until (rotate_offered, keys, 20000))
    g_error ("Rotate is not offered: %s",
             tke_master_keys_page_get_disabled_reason (keys, "rotate"));
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
void
wait_for_reader_prompt (void)
{
  PadWait wait = { 0 };
  GThread *thread = g_thread_new ("wait-prompt", wait_prompt_thread, &wait);

  g_assert_true (tke_test_wait_until (pad_wait_done, &wait, 30000));
  g_thread_join (thread);
  g_assert_cmpstr (wait.answer, ==, "ok");
  g_free (wait.answer);
}

gboolean
replies_reach (gpointer data)
{
  gpointer *args = data;
  return tke_virtual_pin_pad_get_n_replies (args[0]) >= GPOINTER_TO_UINT (args[1]);
}

/* The digits pressed on the on-screen pad's buttons, then OK (or Cancel). */
void
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
gboolean
in_view (TkeRotationDialog *dialog, GtkWidget *widget)
{
  GtkWidget *scrolled =
      tke_test_find_widget_of_type (GTK_WIDGET (dialog), GTK_TYPE_SCROLLED_WINDOW, NULL, NULL);

  g_assert_nonnull (scrolled);
  return tke_test_in_view (widget, scrolled);
}

gboolean
shows_label_containing (GtkWidget *root, const char *text)
{
  GtkWidget *label = tke_test_find_label_containing (root, text);

  return label != NULL && gtk_widget_is_visible (label);
}

/* ---- Tests ---- */

/* (a) Rotate… → Rotate → the service's messages and the bar → the
 * administrator card's PIN on the pad → every unit switched. */

void
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

/* ---- The ceremony's report, from the dialog ---- */

static gboolean
report_offered (gpointer data)
{
  return tke_rotation_dialog_get_report_id (data) != NULL;
}

/* "Ceremony Report" shows once the rotation's last record is written;
 * pressed, it opens this rotation's report — one ceremony, of @kind,
 * whose line in the list ends with @outcome — and Verify accepts it. */
void
assert_dialog_report (TkeRotationDialog *dialog,
                      const char *kind,
                      const char *outcome,
                      const char *screenshot)
{
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  g_autofree char *entry = NULL;
  g_autofree char *shot = NULL;
  TkeReportDialog *report;

  g_assert_true (tke_test_wait_until (report_offered, dialog, 30000));
  tke_test_iterate (100);
  tke_test_flush_widget (GTK_WIDGET (dialog));
  shot = g_strconcat (screenshot, "-offered", NULL);
  tke_test_save_screenshot (GTK_WIDGET (dialog), shot);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Ceremony Report"));
  g_assert_true (tke_test_wait_until (report_ready, NULL, 30000));
  report = report_dialog ();
  g_assert_nonnull (tke_report_dialog_get_report (report));
  text = tke_ceremony_report_format_text (tke_report_dialog_get_report (report));
  g_test_message ("%s", text);
  line = g_strdup_printf ("%s  %s  ", tke_rotation_dialog_get_report_id (dialog), kind);
  g_assert_nonnull (strstr (text, line));
  entry = g_strndup (strstr (text, line), strcspn (strstr (text, line), "\n"));
  g_assert_true (g_str_has_suffix (entry, outcome));
  tke_test_click (tke_test_find_button (GTK_WIDGET (report), "Verify"));
  g_assert_true (tke_test_wait_until (report_idle, NULL, 30000));
  g_assert_true (g_str_has_prefix (tke_report_dialog_get_status (report), "The report verifies"));
  tke_test_iterate (200);
  tke_test_flush_widget (GTK_WIDGET (report));
  tke_test_save_screenshot (GTK_WIDGET (report), screenshot);
  gtk_window_close (GTK_WINDOW (report));
  g_assert_true (tke_test_wait_until (report_gone, NULL, 5000));
}
