/* test-card-pin-scope.c: a card's PIN holds for the operation or ceremony
 * that asked for it, and no longer, with the Smart card tab open
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The defect this guards against: the Smart card tab kept each reader's
 * card open to describe it, libtke shared the connection whose PIN was
 * verified with every later open of that reader, and so after one ceremony
 * the next one (Clear Current) was signed by the card in reader 1 without
 * its PIN being typed.  Everything is real (card-ceremony-fixture.h): the
 * emulator, pcscd with the virtual PIN-pad readers, the cards; the test
 * counts the PIN entries the readers themselves took.  Clear Current takes
 * one signature (the first administrator's).
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "card-ceremony-fixture.h"
#include "tke-application.h"
#include "tke-smart-card-page.h"
#include "tke-virtual-pin-pad.h"
#include "tke-window.h"

/* ---- The Smart card tab ---- */

static TkeSmartCardPage *
page (void)
{
  return tke_window_get_smart_card_page (window);
}

static void
show_page (const char *name)
{
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", name);
  tke_test_flush_widget (GTK_WIDGET (window));
}

typedef struct
{
  guint reader;
  const char *text;
} Shows;

static gboolean
reader_shows (gpointer data)
{
  Shows *s = data;

  return !tke_smart_card_page_get_busy (page ()) &&
         strstr (tke_smart_card_page_get_reader_text (page (), s->reader), s->text) != NULL;
}

/* The tab describes the card of @reader (its description, and that it
 * was read to the end: its PIN tries). */
static void
wait_described (guint reader, const char *description)
{
  Shows card = { reader, description };
  Shows tries = { reader, "tries left" };

  if (!tke_test_wait_until (reader_shows, &card, 30000) ||
      !tke_test_wait_until (reader_shows, &tries, 30000))
    g_error ("the Smart card tab, reader %u: “%s”, not “%s”", reader,
             tke_smart_card_page_get_reader_text (page (), reader), description);
}

static gboolean
status_has (gpointer data)
{
  return !tke_smart_card_page_get_busy (page ()) &&
         strstr (tke_smart_card_page_get_status (page ()), data) != NULL;
}

static gboolean
page_pad_asks (gpointer data)
{
  const char *prompt_text = tke_smart_card_page_get_pin_prompt (page ());

  return prompt_text != NULL && strstr (prompt_text, data) != NULL;
}

static guint
keypad_entries (guint reader)
{
  g_autofree char *counters = tke_readers_ctl (&readers, reader, "counters");
  const char *n = strstr (counters, "keypad=");

  g_assert_nonnull (n);
  return (guint) g_ascii_strtoull (n + strlen ("keypad="), NULL, 10);
}

/* The PIN on the tab's on-screen pad, once the reader waits for it. */
static void
type_on_page_pad (guint reader, const char *pin)
{
  g_autofree char *asked = g_strdup_printf ("PIN pad of reader %u", reader);
  g_autofree char *ready = NULL;
  GtkWidget *pad;
  guint before;
  gpointer args[2];

  if (!tke_test_wait_until (page_pad_asks, asked, 30000))
    g_error ("the Smart card tab asks for no PIN on reader %u: status “%s”", reader,
             tke_smart_card_page_get_status (page ()));
  ready = tke_readers_ctl (&readers, reader, "wait-prompt 20000");
  g_assert_cmpstr (ready, ==, "ok");
  pad = tke_smart_card_page_get_pad (page ());
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

/* Generate Key Part on the card in reader 2, its PIN typed on the pad. */
static void
generate_key_part (const char *description)
{
  GtkWidget *entry = NULL;
  g_autofree char *done = g_strdup_printf ("“%s”", description);
  guint entries = keypad_entries (2);
  g_autoptr (GPtrArray) todo = g_ptr_array_new ();

  g_ptr_array_add (todo, page ());
  while (todo->len > 0 && entry == NULL)
    {
      GtkWidget *w = g_ptr_array_steal_index (todo, todo->len - 1);
      const char *shown = GTK_IS_ENTRY (w) ? gtk_entry_get_placeholder_text (GTK_ENTRY (w)) : NULL;

      if (shown != NULL && g_str_has_prefix (shown, "Key part description"))
        entry = w;
      for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL;
           c = gtk_widget_get_next_sibling (c))
        g_ptr_array_add (todo, c);
    }
  g_assert_nonnull (entry);
  gtk_editable_set_text (GTK_EDITABLE (entry), description);
  tke_test_click_when_ready (tke_test_find_button (GTK_WIDGET (page ()), "Generate Key Part"));
  type_on_page_pad (2, in_reader[2]->pin);
  if (!tke_test_wait_until (status_has, done, 30000))
    g_error ("no new key part “%s”: %s", description, tke_smart_card_page_get_status (page ()));
  /* The reader itself took the PIN: one entry for this operation. */
  g_assert_cmpuint (keypad_entries (2), ==, entries + 1);
}

/* ---- The ceremonies ---- */

static gboolean
no_wizard (gpointer data)
{
  return wizard () == NULL;
}

static gboolean
offered (gpointer data)
{
  return wizard () == NULL && tke_master_keys_page_get_disabled_reason (
                                  tke_window_get_master_keys_page (window), data) == NULL;
}

static void
start_clear_current (void)
{
  show_page ("master-keys");
  if (!tke_test_wait_until (offered, (gpointer) "clear-current", 20000))
    g_error ("Clear Current is not offered: %s",
             tke_master_keys_page_get_disabled_reason (tke_window_get_master_keys_page (window),
                                                       "clear-current"));
  press_keys_button ("Clear Current…");
  confirm ("Clear Current");
}

static gboolean
page_is (gpointer data)
{
  return wizard () != NULL && g_strcmp0 (tke_load_wizard_get_page (wizard ()), data) == 0;
}

/* Load, up to the number of parts (the seed's step 1.3, after the
 * administrator's PIN): the PIN must be typed for it.  While the PIN is
 * verified for it, the Smart card tab reads the card in reader 1 again (as
 * when the readers strip sees a card swapped); then Cancel. */
static void
load_then_cancel (void)
{
  guint entries = keypad_entries (1);

  show_page ("master-keys");
  if (!tke_test_wait_until (offered, (gpointer) "load", 20000))
    g_error ("Load is not offered: %s", tke_master_keys_page_get_disabled_reason (
                                            tke_window_get_master_keys_page (window), "load"));
  press_keys_button ("Load…");
  wait_prompt (TKE_PIN_PROMPT_ENTER_PIN, "reader 1");
  type_pin (in_reader[1]->pin);
  if (!tke_test_wait_until (page_is, (gpointer) "count", 30000))
    g_error ("no count page after the administrator's PIN: %s",
             tke_load_wizard_get_page (wizard ()));
  g_assert_cmpuint (keypad_entries (1), ==, entries + 1);
  show_page ("smart-card");
  wait_described (1, "admin1.card");
  tke_test_click (tke_test_find_button (GTK_WIDGET (wizard ()), "Cancel"));
  g_assert_true (tke_test_wait_until (no_wizard, NULL, 10000));
}

/* The Smart card tab, open and describing both cards, and then every
 * ceremony and every operation of the tab asks for the PIN it uses: the
 * tab's operations one after the other, Clear Current, a Load cancelled
 * after its PIN and the same again. */
static void
test_pin_per_ceremony (void)
{
  guint entries;

  open_and_log_in ();
  show_page ("smart-card");
  wait_described (1, "admin1.card");
  wait_described (2, "kpA.card");
  tke_test_iterate (300);
  tke_test_save_screenshot (GTK_WIDGET (window), "pin-scope-smart-card");

  /* The tab's own operations: one PIN each, the card staying in. */
  generate_key_part ("Scope 1");
  wait_described (2, "Scope 1");
  generate_key_part ("Scope 2");
  wait_described (2, "Scope 2");

  /* A ceremony signature: Clear Current, one administrator. */
  start_clear_current ();
  entries = keypad_entries (1);
  sign_until_done (swap_card);
  g_test_message ("clear current: %u PIN entries: %s", n_pins_typed,
                  tke_load_wizard_get_result_text (wizard ()));
  g_assert_cmpuint (n_pins_typed, ==, 1);
  g_assert_cmpuint (keypad_entries (1), ==, entries + 1);
  g_assert_nonnull (
      strstr (tke_load_wizard_get_result_text (wizard ()), "Current register: Empty"));
  close_wizard ();
  g_assert_true (tke_test_wait_until (current_in_state, (gpointer) "Empty", 20000));

  /* The tab reads the card in reader 1 again, with no PIN; the next
   * ceremony's signature asks for the PIN again, and the one after. */
  show_page ("smart-card");
  wait_described (1, "admin1.card");
  load_then_cancel ();
  show_page ("smart-card");
  wait_described (1, "admin1.card");
  load_then_cancel ();

  /* And the tab's operation on reader 2 still asks for its PIN. */
  show_page ("smart-card");
  wait_described (1, "admin1.card");
  generate_key_part ("Scope 3");
  wait_described (2, "Scope 3");
  tke_test_save_screenshot (GTK_WIDGET (window), "pin-scope-after");
  gtk_window_destroy (GTK_WINDOW (window));
  tke_test_iterate (100);
}

int
main (int argc, char **argv)
{
  int status;

  if (!card_ceremony_set_up (&argc, &argv, "tke-gui-pin-scope-XXXXXX"))
    return 0;
  g_test_add_func ("/gui/pin-scope/page-and-ceremonies", test_pin_per_ceremony);
  status = g_test_run ();
  card_ceremony_tear_down ();
  return status;
}
