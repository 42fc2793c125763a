/* test-card-ceremonies.c: load, commit and set immediate with smart cards,
 * through the widgets (src/gui/tke-card-ceremony.c and the wizard)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything is real: tke-emulator over HTTPS (demo instance, its two
 * key-file administrators), pcscd with the two virtual PIN-pad readers and
 * card images made with tke-card: two administrator cards (installed on
 * every unit at the start, signed by the demo administrators) and two key
 * part cards, one with two parts.  The test is the person at the
 * workstation: it presses the Master keys tab's buttons, reads the wizard's
 * prompt, swaps the cards the prompt asks for and types PINs on the
 * on-screen PIN pad's buttons, a wrong one included.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "emu-client.h"
#include "tke-application.h"
#include "tke-load-wizard.h"
#include "tke-login-dialog.h"
#include "tke-readers-fixture.h"
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
  { "kpA.card", "333333", { "part A1", "part A2", NULL } },
  { "kpB.card", "444444", { "part B", NULL } },
};

static TkeApplication *app;
static char *base_dir;
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

typedef struct
{
  TkePinPromptState state;
  const char *title_part;
} Expect;

static gboolean
prompt_shows (gpointer data)
{
  const Expect *e = data;

  return wizard () != NULL && tke_pin_prompt_get_state (prompt ()) == e->state &&
         (e->title_part == NULL ||
          strstr (tke_pin_prompt_get_title (prompt ()), e->title_part) != NULL);
}

static void
wait_prompt (TkePinPromptState state, const char *title_part)
{
  Expect e = { state, title_part };

  if (!tke_test_wait_until (prompt_shows, &e, 30000))
    g_error ("the prompt shows “%s” / “%s” (state %d), not state %d “%s”; wizard: %s",
             tke_pin_prompt_get_title (prompt ()), tke_pin_prompt_get_description (prompt ()),
             tke_pin_prompt_get_state (prompt ()), state, title_part ? title_part : "",
             tke_load_wizard_get_result_text (wizard ()));
}

static gboolean
description_says (gpointer data)
{
  return wizard () != NULL && strstr (tke_pin_prompt_get_description (prompt ()), data) != NULL;
}

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
static guint n_pins_typed; /* by sign_until_done() */
static guint n_swaps;      /* cards swapped in by sign_until_done() */

static void
sign_until_done (void)
{
  g_autofree char *last_asked = NULL;

  n_pins_typed = 0;
  n_swaps = 0;

  while (!wizard_ended (NULL))
    {
      const char *asked;
      const Card *wanted;

      if (pad_waits (NULL))
        {
          type_pin (in_reader[1]->pin);
          n_pins_typed++;
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
          n_swaps++;
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

static void
press_keys_button (const char *label)
{
  tke_test_click (
      tke_test_find_button (GTK_WIDGET (tke_window_get_master_keys_page (window)), label));
  tke_test_iterate (100);
}

/* The confirmation dialog of a ceremony that has one. */
static void
confirm (const char *go)
{
  GListModel *toplevels = gtk_window_get_toplevels (); /* GTK keeps it */
  GtkWindow *dialog = NULL;

  /* The one on screen: an answered one may not be finalized yet. */
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) candidate = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (candidate) && gtk_widget_get_visible (GTK_WIDGET (candidate)))
        dialog = candidate;
    }
  g_assert_nonnull (dialog);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "go");
  g_test_message ("confirmed: %s", go);
  tke_test_iterate (100);
}

static void
close_wizard (void)
{
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Done"));
  tke_test_iterate (300);
  g_assert_null (wizard ());
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

static gboolean
current_in_state (gpointer data)
{
  for (guint i = 0; i < 3; i++)
    if (!g_str_equal (tke_current_register_state_to_string (
                          tke_crypto_unit_get_current_register_state (unit_at (i))),
                      data))
      return FALSE;
  return TRUE;
}

/* ---- The ceremony ---- */

static gboolean
step_is (gpointer data)
{
  return wizard () != NULL && g_strcmp0 (tke_load_wizard_get_step (wizard ()), data) == 0;
}

static void
wait_step (const char *step)
{
  if (!tke_test_wait_until (step_is, (gpointer) step, 30000))
    g_error ("the wizard is at “%s” (page %s), not “%s”; prompt “%s”",
             tke_load_wizard_get_step (wizard ()), tke_load_wizard_get_page (wizard ()), step,
             tke_pin_prompt_get_title (prompt ()));
}

/* The parts on the card are not on screen: the list waits for the PIN. */
static void
assert_no_part_list (const char *part)
{
  GtkWidget *parts_list =
      tke_test_find_widget_of_type (GTK_WIDGET (wizard ()), GTK_TYPE_LIST_BOX, NULL, NULL);

  g_assert_nonnull (parts_list);
  g_assert_false (gtk_widget_is_visible (parts_list));
  g_assert_null (tke_test_find_label (parts_list, part));
}

/* Item 13: the seed's order.  The administrator card and its PIN (step
 * 1.2), then the number of parts (1.3), then per part the card in reader
 * 2 and its PIN (1.4), then the part from the card's list (1.5), with no
 * second PIN when the part is sealed. */
static void
load_two_parts (void)
{
  GtkWidget *parts_list;

  press_keys_button ("Load…");
  g_assert_nonnull (wizard ());

  /* The administrator card, with a wrong PIN first: before the count. */
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  g_assert_cmpstr (tke_load_wizard_get_page (wizard ()), ==, "card");
  g_assert_cmpstr (tke_load_wizard_get_step (wizard ()), ==,
                   "Step 1: the administrator's signature");
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-pin-prompt");
  type_pin ("999999");
  if (!tke_test_wait_until (description_says, (gpointer) "The PIN was wrong: 2 tries left", 20000))
    g_error ("after a wrong PIN the prompt shows “%s” / “%s” (state %d); wizard page %s: %s",
             tke_pin_prompt_get_title (prompt ()), tke_pin_prompt_get_description (prompt ()),
             tke_pin_prompt_get_state (prompt ()), tke_load_wizard_get_page (wizard ()),
             tke_load_wizard_get_result_text (wizard ()));
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  g_test_message ("after a wrong PIN: %s", tke_pin_prompt_get_description (prompt ()));
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-wrong-pin");
  type_pin (in_reader[1]->pin);

  /* The number of parts, after the administrator's PIN. */
  wait_step ("Step 2: the number of key parts");
  g_assert_cmpstr (tke_load_wizard_get_page (wizard ()), ==, "count");
  tke_test_iterate (400);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-count-after-pin");
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Continue"));

  /* Part 1: the card in reader 2 holds two parts.  Its PIN first, with
   * the list not shown; then the list, and the second part is chosen. */
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 2");
  g_assert_cmpstr (tke_load_wizard_get_step (wizard ()), ==, "Step 3 of 4: key part 1 of 2");
  assert_no_part_list ("part A1");
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-part-card-pin");
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  parts_list = tke_test_find_widget_of_type (GTK_WIDGET (wizard ()), GTK_TYPE_LIST_BOX, NULL, NULL);
  g_assert_nonnull (tke_test_find_label (parts_list, "part A1"));
  g_assert_nonnull (tke_test_find_label (parts_list, "part A2"));
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-choose-part");
  gtk_list_box_select_row (GTK_LIST_BOX (parts_list),
                           gtk_list_box_get_row_at_index (GTK_LIST_BOX (parts_list), 1));
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Load This Part"));

  /* Sealed with the PIN typed before the list: no second PIN.  Part 2:
   * the same card, still in with its PIN verified, offers only the part
   * not loaded, with no PIN asked again (one PIN per key part card); the
   * person takes the other card instead. */
  wait_step ("Step 4 of 4: key part 2 of 2");
  g_assert_nonnull (
      tke_test_find_label_containing (GTK_WIDGET (wizard ()), "Key part 1 is sealed"));
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  parts_list = tke_test_find_widget_of_type (GTK_WIDGET (wizard ()), GTK_TYPE_LIST_BOX, NULL, NULL);
  g_assert_nonnull (tke_test_find_label (parts_list, "part A1"));
  g_assert_null (tke_test_find_label (parts_list, "part A2"));
  swap_card (2, card_named ("kpB.card"));
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 2");
  assert_no_part_list ("part B");
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpB.card");
  parts_list = tke_test_find_widget_of_type (GTK_WIDGET (wizard ()), GTK_TYPE_LIST_BOX, NULL, NULL);
  g_assert_nonnull (tke_test_find_label (parts_list, "part B"));
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Load This Part"));

  g_assert_true (tke_test_wait_until (wizard_ended, NULL, 60000));
  g_test_message ("load: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_cmpstr (tke_load_wizard_get_page (wizard ()), ==, "result");
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "New register: Full Uncommitted"));
  tke_test_iterate (600); /* the stack's slide to the result page */
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-loaded");
  close_wizard ();
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Uncommitted", 20000));
}

static void
test_load_commit_set_immediate (void)
{
  g_autofree char *new_vp = NULL;
  g_autofree char *groups = NULL;
  g_auto (GStrv) ids = NULL;

  open_and_log_in ();
  load_two_parts ();
  new_vp = g_strdup (tke_crypto_unit_get_new_register_vp (unit_at (0)));
  for (guint i = 1; i < 3; i++)
    g_assert_cmpstr (tke_crypto_unit_get_new_register_vp (unit_at (i)), ==, new_vp);
  groups = tke_vp_format_groups (new_vp);
  tke_test_flush_widget (GTK_WIDGET (window));
  g_assert_nonnull (
      tke_test_find_label (GTK_WIDGET (tke_window_get_master_keys_page (window)), groups));
  tke_test_save_screenshot (GTK_WIDGET (window), "card-master-keys-loaded");

  /* Commit: both administrator cards, signer by signer: the first signs
   * for every unit, then the second (issue 14 item 6).  Before the first
   * PIN, the summary with each unit's VP in groups. */
  press_keys_button ("Commit…");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  g_assert_cmpstr (tke_load_wizard_get_step (wizard ()), ==,
                   "Administrator 1 of 2: one signature for every crypto unit");
  g_assert_nonnull (tke_load_wizard_get_summary (wizard ()));
  {
    g_autofree char *lines = g_strdup_printf ("Crypto units 1, 2, 3:\n%s", groups);
    g_assert_nonnull (strstr (tke_load_wizard_get_summary (wizard ()), lines));
  }
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-commit-summary");
  sign_until_done ();
  g_test_message ("commit: %u PIN entries, %u card swaps", n_pins_typed, n_swaps);
  g_assert_cmpuint (n_pins_typed, ==, 2);
  g_assert_cmpuint (n_swaps, ==, 1);
  g_test_message ("commit: %s", tke_load_wizard_get_result_text (wizard ()));
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("commit: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "New register: Full Committed"));
  close_wizard ();
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Committed", 20000));

  /* Clear current: the instance has no keys yet, so its units can start
   * over like new ones (the initialization ceremony). */
  g_assert_cmpstr (tke_master_keys_page_get_disabled_reason (
                       tke_window_get_master_keys_page (window), "set-immediate"),
                   !=, NULL);
  press_keys_button ("Clear Current…");
  confirm ("Clear Current");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  sign_until_done ();
  g_test_message ("clear current: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "Current register: Empty"));
  close_wizard ();
  g_assert_true (tke_test_wait_until (current_in_state, (gpointer) "Empty", 20000));

  /* Set immediate, now offered: one administrator card. */
  g_assert_cmpstr (tke_master_keys_page_get_disabled_reason (
                       tke_window_get_master_keys_page (window), "set-immediate"),
                   ==, NULL);
  press_keys_button ("Set Immediate…");
  confirm ("Set Immediate");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  sign_until_done ();
  g_test_message ("set immediate: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "Current register: Valid"));
  tke_test_iterate (600); /* the stack's slide to the result page */
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "card-wizard-set-immediate");
  close_wizard ();
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Empty", 20000));

  /* The service agrees: the loaded key is current on every unit. */
  ids = emu_unit_ids (emu);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (JsonObject) q = emu_query (emu, ids[i]);

      g_assert_cmpstr (json_object_get_string_member (q, "current_mkvp"), ==, new_vp);
    }
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (tke_crypto_unit_get_current_register_vp (unit_at (i)), ==, new_vp);
  tke_test_flush_widget (GTK_WIDGET (window));
  tke_test_save_screenshot (GTK_WIDGET (window), "card-master-keys-set");
  gtk_window_destroy (GTK_WINDOW (window));
  tke_test_iterate (100);
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
  base_dir = g_dir_make_tmp ("tke-gui-cards-XXXXXX", NULL);
  {
    g_autofree char *config = g_build_filename (base_dir, "config", NULL);
    g_autofree char *keyring = g_build_filename (base_dir, "keyring", NULL);

    g_setenv ("XDG_CONFIG_HOME", config, TRUE);
    g_setenv ("SECRET_FILE_TEST_PATH", keyring, TRUE);
  }
  g_setenv ("SECRET_BACKEND", "file", TRUE);
  g_setenv ("SECRET_FILE_TEST_PASSWORD", "test", TRUE);

  /* The emulator first: the key part cards hold its unit root. */
  {
    g_autofree char *state = g_build_filename (base_dir, "emulator", NULL);
    const char *const args[] = { "--init", "demo", "--keys", "0", NULL };

    emu = emu_start (state, args);
    emu_login (emu);
  }
  tke_readers_fixture_init (&readers);
  make_cards ();
  tke_readers_fixture_start (&readers, "admin1.card", "kpA.card");
  in_reader[1] = card_named ("admin1.card");
  in_reader[2] = card_named ("kpA.card");
  g_setenv ("TKE_VIRTUAL_READERS_DIR", readers.state_dir, TRUE);
  install_card_admin (card_named ("admin1.card"));
  install_card_admin (card_named ("admin2.card"));
  swap_card (1, card_named ("admin1.card"));
  write_profile ();
  /* Debug messages only from this process: the readers and the
   * emulator write machine-read lines on their stdout. */
  if (g_getenv ("TKE_TEST_DEBUG") != NULL)
    g_setenv ("G_MESSAGES_DEBUG", g_getenv ("TKE_TEST_DEBUG"), TRUE);

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  app = tke_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, NULL);

  g_test_add_func ("/gui/cards/load-commit-set-immediate", test_load_commit_set_immediate);
  status = g_test_run ();

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
