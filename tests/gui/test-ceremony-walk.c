/* test-ceremony-walk.c: the card ceremonies as a nervous administrator
 * walks them at 2 a.m. (issue 14): Cancel and start again, every card
 * swap through the wizard's own readers strip and its Cards menus while
 * the ceremony waits, the PIN typed on the keyboard with the focus
 * anywhere, a card pulled in the middle, Set immediate's warning
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything is real, as in test-card-ceremonies: tke-emulator over HTTPS,
 * pcscd with the two virtual PIN-pad readers, card images made with
 * tke-card.  No card is swapped through the readers' control sockets
 * here: the test picks it from the Cards menu of the wizard's strip, as
 * the demo's administrator does.
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

static void swap_in_wizard (guint reader, const Card *card);

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
          swap_in_wizard (1, wanted);
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

/* ---- The wizard's readers strip and the keyboard ---- */

static TkeReadersBar *
wizard_strip (void)
{
  return tke_load_wizard_get_readers_bar (wizard ());
}

/* The item of the open menu whose label is TEXT: a GtkModelButton. */
static GtkWidget *
menu_item (GtkWidget *popover, const char *text)
{
  GtkWidget *label = tke_test_find_label (popover, text);
  GtkWidget *item = label;

  if (label == NULL)
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

/* Opens the reader's Cards menu in the wizard's strip and picks ITEM. */
static void
pick_in_wizard (guint reader, const char *item, const char *screenshot)
{
  TkeReadersBar *bar = wizard_strip ();
  GtkMenuButton *button;
  GtkWidget *popover;

  g_assert_nonnull (bar);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (bar)));
  button = tke_readers_bar_get_card_button (bar, reader);
  popover = GTK_WIDGET (gtk_menu_button_get_popover (button));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (button)));
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (button)));
  gtk_menu_button_popup (button);
  g_assert_true (tke_test_wait_until (popover_mapped, popover, 5000));
  if (screenshot != NULL)
    tke_test_save_screenshot (popover, screenshot);
  g_signal_emit_by_name (menu_item (popover, item), "clicked");
  gtk_menu_button_popdown (button);
}

typedef struct
{
  guint reader;
  const char *status;
} Status;

static gboolean
reader_has (gpointer data)
{
  Status *s = data;
  g_autofree char *status = tke_readers_ctl (&readers, s->reader, "status");

  return strstr (status, "card=present") != NULL && strstr (status, s->status) != NULL;
}

/* A card swapped while the ceremony waits, from the wizard's own strip;
 * the virtual reader then holds it. */
static void
swap_in_wizard (guint reader, const Card *card)
{
  g_autofree char *image = tke_readers_path (&readers, card->image);
  g_autofree char *expected = g_strconcat ("image=", image, NULL);
  Status s = { reader, expected };

  pick_in_wizard (reader, card->image, NULL);
  if (!tke_test_wait_until (reader_has, &s, 20000))
    g_error ("reader %u does not hold %s", reader, card->image);
  in_reader[reader] = card;
  g_test_message ("reader %u: %s picked from the wizard's Cards menu", reader, card->image);
}

/* A key pressed on the keyboard: the window's key controllers see it
 * first in the capture phase, as GTK delivers it. */
static void
press_key (GtkWidget *root, guint keyval)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (root);
  gboolean handled = FALSE;

  for (guint i = 0; !handled && i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_KEY (controller) &&
          gtk_event_controller_get_propagation_phase (controller) == GTK_PHASE_CAPTURE)
        g_signal_emit_by_name (controller, "key-pressed", keyval, 0, (GdkModifierType) 0, &handled);
    }
  if (!handled)
    g_error ("key %s: nothing in the wizard took it", gdk_keyval_name (keyval));
}

/* The PIN typed on the keyboard and Enter, with the focus on one of the
 * pad's digit keys: Enter is OK, not that key. */
static void
type_pin_on_keyboard (const char *pin)
{
  GtkWidget *pad;
  guint before;
  gpointer args[2];

  g_assert_true (tke_test_wait_until (pad_waits, NULL, 20000));
  {
    guint reader = strstr (tke_pin_prompt_get_title (prompt ()), "reader 2") != NULL ? 2 : 1;
    g_autofree char *ready = tke_readers_ctl (&readers, reader, "wait-prompt 20000");

    g_assert_cmpstr (ready, ==, "ok");
  }
  pad = tke_pin_prompt_get_pad (prompt ());
  gtk_widget_grab_focus (tke_test_find_button (pad, "5"));
  before = tke_virtual_pin_pad_get_n_replies (TKE_VIRTUAL_PIN_PAD (pad));
  args[0] = pad;
  args[1] = GUINT_TO_POINTER (before + strlen (pin) + 1);
  for (const char *k = pin; *k != '\0'; k++)
    press_key (GTK_WIDGET (wizard ()), GDK_KEY_0 + (guint) (*k - '0'));
  press_key (GTK_WIDGET (wizard ()), GDK_KEY_Return);
  g_assert_true (tke_test_wait_until (replies_reach, args, 10000));
}

static const char *
disabled_reason (const char *ceremony)
{
  return tke_master_keys_page_get_disabled_reason (tke_window_get_master_keys_page (window),
                                                   ceremony);
}

static gboolean
offered (gpointer data)
{
  return wizard () == NULL && disabled_reason (data) == NULL;
}

/* The window's button for CEREMONY is usable again (after a cancel). */
static void
wait_offered (const char *ceremony)
{
  if (!tke_test_wait_until (offered, (gpointer) ceremony, 10000))
    g_error ("“%s” is still not offered: %s", ceremony,
             wizard () != NULL ? "the wizard is open" : disabled_reason (ceremony));
}

static gboolean
no_wizard (gpointer data)
{
  return wizard () == NULL;
}

static gboolean
page_is (gpointer data)
{
  return wizard () != NULL && g_strcmp0 (tke_load_wizard_get_page (wizard ()), data) == 0;
}

/* The seed's step 1.3, after the administrator's PIN: two parts. */
static void
count_parts (void)
{
  if (!tke_test_wait_until (page_is, (gpointer) "count", 30000))
    g_error ("no count page after the administrator's PIN: %s",
             tke_load_wizard_get_page (wizard ()));
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Continue"));
}

static void
cancel_wizard (void)
{
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Cancel"));
  g_assert_true (tke_test_wait_until (no_wizard, NULL, 5000));
}

/* ---- The walk ---- */

/* Blocker 1, twice (Cancel on the count page, Cancel on the part list),
 * then a load to the end.  Blocker 2: the key part cards are swapped from
 * the wizard's strip while it waits.  Item 5: the routine swap to the
 * next key part card is no red error.  Item 10: the countdown, and the PIN
 * typed on the keyboard. */
static gboolean
pin_asked_or (gpointer data)
{
  gboolean (*done) (gpointer) = ((gpointer *) data)[0];

  return pad_waits (NULL) || done (((gpointer *) data)[1]);
}

/* Presses "Load This Part" and waits for @done.  The card's PIN, typed
 * before its list, holds while the part is sealed: libtke shares the
 * verified card with the part's source and the readers strip, so the pad
 * never asks for it again (it did, under slow builds, when each opened a
 * connection of its own and so cleared the PIN). */
static void
load_this_part (gboolean (*done) (gpointer), gpointer done_data)
{
  gpointer args[2] = { (gpointer) done, done_data };

  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Load This Part"));
  if (!tke_test_wait_until (pin_asked_or, args, 60000))
    g_error ("the part was not sealed: %s", tke_pin_prompt_get_description (prompt ()));
  if (pad_waits (NULL) && !done (done_data))
    g_error ("the card asked for its PIN again while sealing the part: %s",
             tke_pin_prompt_get_title (prompt ()));
}

static void
test_cancel_then_load (void)
{
  TkePinPrompt *p;
  GtkWidget *title;
  guint seconds;

  open_and_log_in ();
  g_assert_null (disabled_reason ("load"));

  press_keys_button ("Load…");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  type_pin (in_reader[1]->pin);
  if (!tke_test_wait_until (page_is, (gpointer) "count", 30000))
    g_error ("no count page after the administrator's PIN: %s",
             tke_load_wizard_get_page (wizard ()));
  cancel_wizard ();
  wait_offered ("load");

  /* Cancel on the part list, after the administrator's and the card's PIN. */
  press_keys_button ("Load…");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  p = prompt ();
  seconds = tke_pin_prompt_get_seconds_left (p);
  g_assert_cmpuint (seconds, >, 20);
  g_assert_cmpuint (seconds, <=, 30);
  g_assert_nonnull (strstr (tke_pin_prompt_get_countdown_text (p), "seconds left to type the PIN"));
  tke_test_iterate (2500);
  g_assert_cmpuint (tke_pin_prompt_get_seconds_left (p), <=, seconds - 1);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "walk-load-pin-countdown");
  type_pin_on_keyboard (in_reader[1]->pin);
  count_parts ();
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  g_assert_null (tke_pin_prompt_get_countdown_text (prompt ()));
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "walk-load-part-list");
  cancel_wizard ();
  wait_offered ("load");

  /* Escape on the keyboard is the pad's Cancel: the PIN entry ends, the
   * wizard says nothing was done, and Load is offered again. */
  press_keys_button ("Load…");
  g_assert_true (tke_test_wait_until (pad_waits, NULL, 20000));
  {
    g_autofree char *ready = tke_readers_ctl (&readers, 1, "wait-prompt 20000");
    g_assert_cmpstr (ready, ==, "ok");
  }
  gtk_window_set_focus (GTK_WINDOW (wizard ()), NULL);
  press_key (GTK_WIDGET (wizard ()), GDK_KEY_Escape);
  g_assert_true (tke_test_wait_until (wizard_ended, NULL, 30000));
  g_test_message ("Escape: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_cmpstr (tke_load_wizard_get_page (wizard ()), ==, "error");
  g_assert_nonnull (strstr (tke_load_wizard_get_result_text (wizard ()), "Nothing is half-done"));
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Close"));
  wait_offered ("load");

  /* Again, to the end: key part card B first, swapped in from the
   * wizard's Cards menu while the wizard shows card A's list. */
  press_keys_button ("Load…");
  type_pin (in_reader[1]->pin);
  count_parts ();
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  pick_in_wizard (2, "kpB.card", "walk-wizard-cards-menu");
  in_reader[2] = card_named ("kpB.card");
  type_pin (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpB.card");
  load_this_part (description_says, (gpointer) "Every key part on “kpB.card” is loaded");

  /* Card B has no other part: the next card, in plain words. */
  if (!tke_test_wait_until (description_says, (gpointer) "Every key part on “kpB.card” is loaded",
                            30000))
    g_error ("after part 1 the prompt shows “%s” / “%s” (state %d)",
             tke_pin_prompt_get_title (prompt ()), tke_pin_prompt_get_description (prompt ()),
             tke_pin_prompt_get_state (prompt ()));
  g_assert_cmpint (tke_pin_prompt_get_state (prompt ()), ==, TKE_PIN_PROMPT_WAITING_FOR_CARD);
  title = tke_test_find_label (GTK_WIDGET (prompt ()), tke_pin_prompt_get_title (prompt ()));
  g_assert_nonnull (title);
  g_assert_false (gtk_widget_has_css_class (title, "error"));
  g_assert_null (tke_test_find_label_containing (GTK_WIDGET (wizard ()), "This is not"));
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "walk-load-next-card");
  swap_in_wizard (2, card_named ("kpA.card"));
  type_pin_on_keyboard (in_reader[2]->pin);
  wait_prompt (TKE_PIN_PROMPT_CHOOSE, "kpA.card");
  load_this_part (wizard_ended, NULL);

  g_assert_true (tke_test_wait_until (wizard_ended, NULL, 60000));
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("load: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "New register: Full Uncommitted"));
  close_wizard ();
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Uncommitted", 20000));
}

/* Item 7: the administrator card pulled while the pad waits for its PIN:
 * the wizard says what each unit has, and that nothing is half-done.
 * Then Commit to the end, the second administrator card swapped in from
 * the wizard's strip when the wizard asks for it. */
static void
test_card_pulled_then_commit (void)
{
  const char *text;

  if (window == NULL)
    {
      g_test_skip ("needs the load before it");
      return;
    }
  press_keys_button ("Commit…");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  {
    g_autofree char *ready = tke_readers_ctl (&readers, 1, "wait-prompt 20000");
    g_assert_cmpstr (ready, ==, "ok");
  }
  pick_in_wizard (1, "Remove Card", NULL);
  in_reader[1] = NULL;
  g_assert_true (tke_test_wait_until (wizard_ended, NULL, 40000));
  text = tke_load_wizard_get_result_text (wizard ());
  g_test_message ("card pulled: %s", text);
  g_assert_cmpstr (tke_load_wizard_get_page (wizard ()), ==, "error");
  for (guint i = 1; i <= 3; i++)
    {
      g_autofree char *line = g_strdup_printf ("Crypto unit %u: unchanged", i);
      g_assert_nonnull (strstr (text, line));
    }
  g_assert_nonnull (strstr (text, "Nothing is half-done"));
  tke_test_iterate (600);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "walk-commit-card-pulled");
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Close"));
  wait_offered ("commit");
  g_assert_true (units_in_state ((gpointer) "Full Uncommitted"));

  /* Issue 14 item 6: signer by signer, 2 PIN entries and 1 card swap
   * (from the wizard's Cards menu) for 2 administrators over 3 units. */
  press_keys_button ("Commit…");
  wait_prompt (TKE_PIN_PROMPT_WAITING_FOR_CARD, "reader 1");
  swap_in_wizard (1, card_named ("admin1.card"));
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  g_assert_nonnull (strstr (tke_load_wizard_get_summary (wizard ()), "Crypto units 1, 2, 3:"));
  g_assert_nonnull (strstr (tke_load_wizard_get_progress (wizard ()),
                            "Administrator 1 of 2: signing for crypto unit 1"));
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (wizard ()), "walk-commit-summary");
  sign_until_done ();
  g_test_message ("commit: %u PIN entries, %u card swaps", n_pins_typed, n_swaps);
  if (!g_str_equal (tke_load_wizard_get_page (wizard ()), "result"))
    g_error ("commit: %s", tke_load_wizard_get_result_text (wizard ()));
  g_assert_cmpuint (n_pins_typed, ==, 2);
  g_assert_cmpuint (n_swaps, ==, 1);
  close_wizard ();
  g_assert_true (tke_test_wait_until (units_in_state, (gpointer) "Full Committed", 20000));
  {
    g_auto (GStrv) ids = emu_unit_ids (emu);

    g_assert_cmpuint (g_strv_length (ids), ==, 3);
    for (guint i = 0; ids[i] != NULL; i++)
      {
        g_autoptr (JsonObject) q = emu_query (emu, ids[i]);

        g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Full Committed");
        g_assert_cmpstr (json_object_get_string_member (q, "new_mkvp"), ==,
                         tke_crypto_unit_get_new_register_vp (unit_at (0)));
      }
  }
}

/* The open confirmation dialog. */
static AdwMessageDialog *
message_dialog (void)
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
  return ADW_MESSAGE_DIALOG (dialog);
}

/* Item 14: Set immediate's warning says it cannot be reversed and when it
 * is safe to go on. */
static void
test_set_immediate_warning (void)
{
  AdwMessageDialog *dialog;
  const char *body;

  if (window == NULL)
    {
      g_test_skip ("needs the commit before it");
      return;
    }
  press_keys_button ("Clear Current…");
  confirm ("Clear Current");
  sign_until_done ();
  close_wizard ();
  g_assert_true (tke_test_wait_until (current_in_state, (gpointer) "Empty", 20000));

  press_keys_button ("Set Immediate…");
  dialog = message_dialog ();
  body = adw_message_dialog_get_body (dialog);
  g_test_message ("set immediate: %s", body);
  g_assert_nonnull (strstr (body, "cannot be reversed"));
  g_assert_nonnull (strstr (body, "Continue only when"));
  tke_test_flush_widget (GTK_WIDGET (dialog));
  tke_test_save_screenshot (GTK_WIDGET (dialog), "walk-set-immediate-confirm");
  confirm ("Set Immediate");
  sign_until_done ();
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "Current register: Valid"));
  close_wizard ();
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
  base_dir = g_dir_make_tmp ("tke-gui-walk-XXXXXX", NULL);
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

  g_setenv ("TKE_VIRTUAL_CARDS_DIR", readers.dir, TRUE);
  g_test_add_func ("/gui/walk/cancel-then-load", test_cancel_then_load);
  g_test_add_func ("/gui/walk/card-pulled-then-commit", test_card_pulled_then_commit);
  g_test_add_func ("/gui/walk/set-immediate-warning", test_set_immediate_warning);
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
