/* card-ceremony-fixture.c: see card-ceremony-fixture.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "card-ceremony-fixture.h"
#include "tke-login-dialog.h"
#include "tke-test-util.h"
#include "tke-virtual-pin-pad.h"

/* The cards of the ceremonies: two administrators, two with key parts. */
const Card cards[] = {
  { "admin1.card", "111111", { NULL } },
  { "admin2.card", "222222", { NULL } },
  { "kpA.card", "333333", { "part A1", "part A2", NULL } },
  { "kpB.card", "444444", { "part B", NULL } },
};

TkeApplication *app;
char *base_dir;
TkeReadersFixture readers;
Emu *emu;
TkeWindow *window;
const Card *in_reader[3];
gboolean card_ceremony_imprint;

const Card *
card_named (const char *image)
{
  for (gsize i = 0; i < G_N_ELEMENTS (cards); i++)
    if (g_str_equal (cards[i].image, image))
      return &cards[i];
  g_assert_not_reached ();
}

/* ---- The person's hands ---- */

/* Out, a moment, in: as a person swaps cards. */
void
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

/* From the Cards menu of @bar, as the demo's administrator does; the
 * virtual reader then holds the card. */
void
swap_in_strip (TkeReadersBar *bar, guint reader, const Card *card)
{
  g_autofree char *image = tke_readers_path (&readers, card->image);
  g_autofree char *expected = g_strconcat ("image=", image, NULL);
  Status s = { reader, expected };

  g_assert_nonnull (bar);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (bar)));
  tke_test_pick_card (bar, reader, card->image, NULL);
  if (!tke_test_wait_until (reader_has, &s, 20000))
    g_error ("reader %u does not hold %s", reader, card->image);
  in_reader[reader] = card;
  g_test_message ("reader %u: %s picked from a Cards menu", reader, card->image);
}

TkeLoadWizard *
wizard (void)
{
  return TKE_LOAD_WIZARD (tke_test_find_toplevel (TKE_TYPE_LOAD_WIZARD));
}

TkePinPrompt *
prompt (void)
{
  return tke_load_wizard_get_pin_prompt (wizard ());
}

gboolean
pad_waits (gpointer data)
{
  return wizard () != NULL && tke_pin_prompt_get_state (prompt ()) == TKE_PIN_PROMPT_ENTER_PIN &&
         gtk_widget_get_visible (tke_pin_prompt_get_pad (prompt ()));
}

gboolean
replies_reach (gpointer data)
{
  gpointer *args = data;
  return tke_virtual_pin_pad_get_n_replies (args[0]) >= GPOINTER_TO_UINT (args[1]);
}

/* The digits and OK pressed on @p's on-screen pad, as on the reader,
 * once it asks for the PIN. */
void
type_pin_on (TkePinPrompt *p, const char *pin)
{
  GtkWidget *pad;
  guint before;
  gpointer args[2];

  {
    /* The screen says so a moment before the reader is in PIN mode; a
     * person looks at the reader's display before pressing its keys. */
    guint reader = strstr (tke_pin_prompt_get_title (p), "reader 2") != NULL ? 2 : 1;
    g_autofree char *ready = tke_readers_ctl (&readers, reader, "wait-prompt 20000");

    g_assert_cmpstr (ready, ==, "ok");
  }
  pad = tke_pin_prompt_get_pad (p);
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

/* The same on the wizard's pad. */
void
type_pin (const char *pin)
{
  g_assert_true (tke_test_wait_until (pad_waits, NULL, 20000));
  type_pin_on (prompt (), pin);
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

void
wait_prompt (TkePinPromptState state, const char *title_part)
{
  Expect e = { state, title_part };

  if (!tke_test_wait_until (prompt_shows, &e, 30000))
    g_error ("the prompt shows “%s” / “%s” (state %d), not state %d “%s”; wizard: %s",
             tke_pin_prompt_get_title (prompt ()), tke_pin_prompt_get_description (prompt ()),
             tke_pin_prompt_get_state (prompt ()), state, title_part ? title_part : "",
             tke_load_wizard_get_result_text (wizard ()));
}

gboolean
description_says (gpointer data)
{
  return wizard () != NULL && strstr (tke_pin_prompt_get_description (prompt ()), data) != NULL;
}

gboolean
wizard_ended (gpointer data)
{
  TkeLoadWizard *w = wizard ();

  return w != NULL && (g_str_equal (tke_load_wizard_get_page (w), "result") ||
                       g_str_equal (tke_load_wizard_get_page (w), "error"));
}

gboolean
pin_taken (gpointer data)
{
  return wizard_ended (NULL) || tke_pin_prompt_get_state (prompt ()) != TKE_PIN_PROMPT_ENTER_PIN;
}

const Card *
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
 * the PIN when the reader asks for it, swaps in (with @swap) the
 * administrator card the screen names. */
guint n_pins_typed;
guint n_swaps;

void
sign_until_done (CardSwap swap)
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
          swap (1, wanted);
          n_swaps++;
          continue;
        }
      if (tke_pin_prompt_get_state (prompt ()) != TKE_PIN_PROMPT_WAITING_FOR_CARD)
        g_clear_pointer (&last_asked, g_free);
      tke_test_iterate (50);
    }
}

/* ---- The application ---- */

TkeCryptoUnit *
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

void
open_and_log_in (void)
{
  window = tke_application_open_window (app);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 760);
  gtk_window_present (GTK_WINDOW (window));
  tke_test_flush_widget (GTK_WIDGET (window));
  tke_test_log_in (GTK_WIDGET (window), emu->api_key);
  g_assert_true (tke_test_wait_until (units_shown, NULL, 20000));
  for (guint i = 0; i < 3; i++)
    tke_crypto_unit_set_selected (unit_at (i), TRUE);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "master-keys");
  tke_test_flush_widget (GTK_WIDGET (window));
}

void
press_keys_button (const char *label)
{
  tke_test_click (
      tke_test_find_button (GTK_WIDGET (tke_window_get_master_keys_page (window)), label));
  tke_test_iterate (100);
}

/* The confirmation dialog of a ceremony that has one. */
void
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

static guint
count_drawn_sensitive_buttons (GtkWidget *widget)
{
  guint n =
      GTK_IS_BUTTON (widget) && gtk_widget_is_drawable (widget) && gtk_widget_is_sensitive (widget)
          ? 1
          : 0;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    n += count_drawn_sensitive_buttons (c);
  return n;
}

void
assert_wizard_header_finished (void)
{
  GtkWidget *header =
      tke_test_find_widget_of_type (GTK_WIDGET (wizard ()), ADW_TYPE_HEADER_BAR, NULL, NULL);
  const char *page = tke_load_wizard_get_page (wizard ());

  g_assert_true (g_str_equal (page, "result") || g_str_equal (page, "error"));
  g_assert_nonnull (header);
  g_assert_true (gtk_widget_is_drawable (header));
  g_assert_null (tke_test_find_button (header, "Cancel"));
  /* Every button the header draws can be pressed. */
  g_assert_cmpuint (tke_test_count_drawn_buttons (header), ==,
                    count_drawn_sensitive_buttons (header));
}

void
close_wizard (void)
{
  assert_wizard_header_finished ();
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Done"));
  tke_test_iterate (300);
  g_assert_null (wizard ());
}

gboolean
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

gboolean
current_in_state (gpointer data)
{
  for (guint i = 0; i < 3; i++)
    if (!g_str_equal (tke_current_register_state_to_string (
                          tke_crypto_unit_get_current_register_state (unit_at (i))),
                      data))
      return FALSE;
  return TRUE;
}

/* ---- Set-up: cards, readers, the service with the card administrators ---- */

void
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
void
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

void
write_profile (void)
{
  g_autofree char *config_home = g_build_filename (base_dir, "config", NULL);

  emu_write_profile (emu, config_home);
}

gboolean
card_ceremony_set_up (int *argc, char ***argv, const char *tmpl)
{
  return card_ceremony_set_up_with (argc, argv, tmpl, NULL);
}

gboolean
card_ceremony_set_up_with (int *argc,
                           char ***argv,
                           const char *tmpl,
                           const char *const *emulator_args)
{
  const char *const env[] = { "TKE_EMULATOR", "TKE_VIRTUAL_READERS", NULL };
  const char *const demo_args[] = { "--init", card_ceremony_imprint ? "imprint" : "demo", "--keys",
                                    "0", NULL };

  if (!tke_test_gtk_can_run (env))
    return FALSE;
  base_dir = tke_test_gtk_private_home (tmpl);

  /* The emulator first: the key part cards hold its unit root. */
  {
    g_autofree char *state = g_build_filename (base_dir, "emulator", NULL);

    emu = emu_start (state, emulator_args != NULL ? emulator_args : demo_args);
    emu_login (emu);
  }
  tke_readers_fixture_init (&readers);
  make_cards ();
  tke_readers_fixture_start (&readers, "admin1.card", "kpA.card");
  in_reader[1] = card_named ("admin1.card");
  in_reader[2] = card_named ("kpA.card");
  g_setenv ("TKE_VIRTUAL_READERS_DIR", readers.state_dir, TRUE);
  /* In imprint mode the units have no administrators: the test adds them. */
  if (!card_ceremony_imprint)
    {
      install_card_admin (card_named ("admin1.card"));
      install_card_admin (card_named ("admin2.card"));
      swap_card (1, card_named ("admin1.card"));
    }
  write_profile ();

  tke_test_gtk_init (argc, argv);
  app = tke_test_gtk_application_new ();
  return TRUE;
}

void
card_ceremony_tear_down (void)
{
  emu_stop (emu);
  g_clear_pointer (&emu, emu_free);
  tke_readers_fixture_clear (&readers);
  tke_test_remove_tree (base_dir);
  g_clear_pointer (&base_dir, g_free);
}
