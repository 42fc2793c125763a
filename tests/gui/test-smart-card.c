/* test-smart-card.c: the Smart card tab and the smart card utilities, as a
 * person uses them, against the real virtual readers under a private pcscd
 * (src/gui/tke-smart-card-page.c; libtke's tke-card-zone.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Cards go in and out through the readers strip's Cards menus, every PIN is
 * typed on the on-screen pad (which forwards key presses to the reader), and
 * each test checks the cards afterwards with `tke-card info` on their image
 * files, taken out of the readers first.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "tke-application.h"
#include "tke-smart-card-page.h"
#include "tke-test-gtk.h"
#include "tke-test-util.h"
#include "tke-test-readers.h"
#include "tke-virtual-pin-pad.h"
#include "tke-window.h"

static TkeReadersFixture fixture;
static TkeApplication *app;

typedef struct
{
  TkeWindow *window;
  TkeReadersBar *bar;
  TkeSmartCardPage *page;
} Screen;

typedef struct
{
  Screen *s;
  guint reader;
  const char *text;
} Expect;

/* ---- What the person sees ---- */

static gboolean
reader_shows (gpointer data)
{
  Expect *e = data;

  return !tke_smart_card_page_get_busy (e->s->page) &&
         strstr (tke_smart_card_page_get_reader_text (e->s->page, e->reader), e->text) != NULL;
}

static void
wait_reader (Screen *s, guint reader, const char *text)
{
  Expect e = { s, reader, text };

  if (!tke_test_wait_until (reader_shows, &e, 30000))
    g_error ("reader %u: expected “%s” in “%s”", reader, text,
             tke_smart_card_page_get_reader_text (s->page, reader));
}

/* What the page says about the reader once it says TEXT, copied at that
 * moment: any card event (the pad's reset after an operation, say) makes
 * the page read the card again, and it says "Reading the card…" while it
 * does. */
static char *
reader_text_once (Screen *s, guint reader, const char *text)
{
  wait_reader (s, reader, text);
  return g_strdup (tke_smart_card_page_get_reader_text (s->page, reader));
}

static gboolean
strip_says (gpointer data)
{
  Expect *e = data;

  return g_strcmp0 (tke_readers_bar_get_summary (e->s->bar, e->reader), e->text) == 0;
}

static void
wait_strip (Screen *s, guint reader, const char *text)
{
  Expect e = { s, reader, text };

  if (!tke_test_wait_until (strip_says, &e, 30000))
    g_error ("strip, reader %u: expected “%s”, it says “%s”", reader, text,
             tke_readers_bar_get_summary (s->bar, reader));
}

static gboolean
status_has (gpointer data)
{
  Expect *e = data;

  return !tke_smart_card_page_get_busy (e->s->page) &&
         strstr (tke_smart_card_page_get_status (e->s->page), e->text) != NULL;
}

static void
wait_status (Screen *s, const char *text)
{
  Expect e = { s, 0, text };

  if (!tke_test_wait_until (status_has, &e, 30000))
    g_error ("expected “%s” in the status, it says “%s”", text,
             tke_smart_card_page_get_status (s->page));
}

static void
insert (Screen *s, guint reader, const char *description)
{
  g_autofree char *summary = g_strdup_printf ("Reader %u: EP11 card “%s”", reader, description);

  tke_test_pick_card (s->bar, reader, description, NULL);
  if (g_str_has_prefix (description, "CA "))
    {
      g_free (summary);
      summary = g_strdup_printf ("Reader %u: CA card “%s”", reader, description);
    }
  wait_strip (s, reader, summary);
  wait_reader (s, reader, description);
}

static void
take_out (Screen *s, guint reader)
{
  g_autofree char *summary = g_strdup_printf ("Reader %u: no card", reader);

  tke_test_pick_card (s->bar, reader, "Remove Card", NULL);
  wait_strip (s, reader, summary);
  wait_reader (s, reader, "No card");
}

/* ---- The PIN pad ---- */

static gboolean
pad_asks (gpointer data)
{
  Expect *e = data;
  const char *prompt = tke_smart_card_page_get_pin_prompt (e->s->page);

  return prompt != NULL && strstr (prompt, e->text) != NULL &&
         gtk_widget_get_visible (tke_smart_card_page_get_pad (e->s->page));
}

/* Waits until the page asks for a PIN on READER's pad (the prompt has
 * WHAT) and the reader itself is in PIN mode. */
static GtkWidget *
wait_pad (Screen *s, guint reader, const char *what)
{
  g_autofree char *text = g_strdup_printf ("%s on the PIN pad of reader %u", what, reader);
  Expect e = { s, reader, text };
  g_autofree char *ready = NULL;

  if (!tke_test_wait_until (pad_asks, &e, 30000))
    g_error ("no prompt “%s”; the page says “%s”", text,
             tke_smart_card_page_get_pin_prompt (s->page));
  ready = tke_readers_ctl (&fixture, reader, "wait-prompt 20000");
  g_assert_cmpstr (ready, ==, "ok");
  {
    /* The pad names its reader: two may ask in turn. */
    g_autofree char *title = g_strdup_printf ("Virtual PIN pad of reader %u", reader);

    g_assert_cmpstr (
        tke_virtual_pin_pad_get_title (TKE_VIRTUAL_PIN_PAD (tke_smart_card_page_get_pad (s->page))),
        ==, title);
  }
  return tke_smart_card_page_get_pad (s->page);
}

static gboolean
replies_reach (gpointer data)
{
  gpointer *args = data;

  return tke_virtual_pin_pad_get_n_replies (args[0]) >= GPOINTER_TO_UINT (args[1]);
}

static void
press (GtkWidget *pad, const char *keys)
{
  guint before = tke_virtual_pin_pad_get_n_replies (TKE_VIRTUAL_PIN_PAD (pad));
  gpointer args[2] = { pad, GUINT_TO_POINTER (before + strlen (keys)) };

  for (const char *k = keys; *k != '\0'; k++)
    {
      char label[2] = { *k, '\0' };

      if (*k == 'C')
        tke_test_click (tke_test_find_button (pad, "Cancel"));
      else if (*k == 'K')
        tke_test_click (tke_test_find_button (pad, "OK"));
      else
        tke_test_click (tke_test_find_button (pad, label));
    }
  if (!tke_test_wait_until (replies_reach, args, 30000))
    {
      GtkWidget *failed = tke_test_find_label_containing (pad, "could not reach");

      g_error ("the reader answered %u of %u presses of “%s”; last: %s; pad at %s mapped %d: %s",
               tke_virtual_pin_pad_get_n_replies (TKE_VIRTUAL_PIN_PAD (pad)),
               GPOINTER_TO_UINT (args[1]), keys,
               tke_virtual_pin_pad_get_last_reply (TKE_VIRTUAL_PIN_PAD (pad)),
               tke_virtual_pin_pad_get_control_path (TKE_VIRTUAL_PIN_PAD (pad)),
               gtk_widget_get_mapped (pad),
               failed != NULL ? gtk_label_get_text (GTK_LABEL (failed)) : "no error shown");
    }
}

static void
type_pin (Screen *s, guint reader, const char *what, const char *pin)
{
  g_autofree char *keys = g_strconcat (pin, "K", NULL);

  press (wait_pad (s, reader, what), keys);
}

static void
cancel_pin (Screen *s, guint reader, const char *what)
{
  press (wait_pad (s, reader, what), "C");
}

static guint
keypad_entries (guint reader)
{
  g_autofree char *counters = tke_readers_ctl (&fixture, reader, "counters");
  const char *n = strstr (counters, "keypad=");

  g_assert_nonnull (n);
  return (guint) g_ascii_strtoull (n + strlen ("keypad="), NULL, 10);
}

/* The entry whose placeholder starts with PLACEHOLDER, as a person reads it. */
static void
set_entry (Screen *s, const char *placeholder, const char *text)
{
  g_autoptr (GPtrArray) todo = g_ptr_array_new ();
  GtkWidget *found = NULL;

  g_ptr_array_add (todo, s->page);
  while (todo->len > 0 && found == NULL)
    {
      GtkWidget *w = g_ptr_array_steal_index (todo, todo->len - 1);
      const char *shown = GTK_IS_ENTRY (w) ? gtk_entry_get_placeholder_text (GTK_ENTRY (w)) : NULL;

      if (shown != NULL && g_str_has_prefix (shown, placeholder))
        found = w;
      for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL;
           c = gtk_widget_get_next_sibling (c))
        g_ptr_array_add (todo, c);
    }
  g_assert_nonnull (found);
  gtk_editable_set_text (GTK_EDITABLE (found), text);
}

/* ---- The cards afterwards ---- */

static char *
card_info (const char *image)
{
  const char *args[] = { "info", image, NULL };
  char *output = NULL;

  g_assert_cmpint (tke_readers_card (&fixture, "", args, &output), ==, 0);
  return output;
}

static void
open_screen (Screen *s)
{
  GtkWidget *stack;

  s->window = tke_application_open_window (app);
  gtk_window_present (GTK_WINDOW (s->window));
  s->bar = tke_window_get_readers_bar (s->window);
  s->page = tke_window_get_smart_card_page (s->window);
  /* The person clicks the Smart card tab. */
  stack = tke_test_find_widget_of_type (GTK_WIDGET (s->window), ADW_TYPE_VIEW_STACK, NULL, NULL);
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (stack), "smart-card");
  wait_strip (s, 1, "Reader 1: no card");
  wait_strip (s, 2, "Reader 2: no card");
}

static void
close_screen (Screen *s)
{
  gtk_window_destroy (GTK_WINDOW (s->window));
  tke_test_iterate (100);
}

/* Generate Signature Key and Generate Key Part on the card in reader 2:
 * the first PIN entry cancelled on the pad, the second time typed. */
static void
test_generate (void)
{
  Screen s;
  g_autofree char *info = NULL;
  g_autofree char *shown = NULL;
  const char *ski;
  g_autofree char *ski_hex = NULL;

  open_screen (&s);
  insert (&s, 2, "Blank card 1");
  wait_reader (&s, 2, "Signature key: none");
  wait_reader (&s, 2, "Key parts: none");
  wait_reader (&s, 2, "PIN: 3 tries left");

  tke_test_click_when_ready (tke_test_find_button (GTK_WIDGET (s.page), "Generate Signature Key"));
  cancel_pin (&s, 2, "Enter the PIN");
  wait_status (&s, "cancelled on the PIN pad of reader 2");
  wait_reader (&s, 2, "Signature key: none");
  tke_test_save_screenshot (GTK_WIDGET (s.window), "smart-card-cancelled");

  tke_test_click_when_ready (tke_test_find_button (GTK_WIDGET (s.page), "Generate Signature Key"));
  type_pin (&s, 2, "Enter the PIN", "500001");
  wait_status (&s, "has a new signature key, SKI ");
  wait_reader (&s, 2, "Signature key: SKI ");

  /* The PIN holds for the operation that asked for it, not for the next
   * one, even with the card staying in: one entry more. */
  {
    guint entries = keypad_entries (2);

    set_entry (&s, "Key part description", "Part A");
    tke_test_click_when_ready (tke_test_find_button (GTK_WIDGET (s.page), "Generate Key Part"));
    type_pin (&s, 2, "Enter the PIN", "500001");
    wait_status (&s, "has a new key part 1 “Part A”");
    g_assert_cmpuint (keypad_entries (2), ==, entries + 1);
  }
  wait_reader (&s, 2, "Key part 1 “Part A”, check value ");
  tke_test_save_screenshot (GTK_WIDGET (s.window), "smart-card-generated");

  /* What the page shows is what the card holds. */
  /* The page shows it in 16 groups of four, to read aloud. */
  shown = reader_text_once (&s, 2, "Signature key: SKI ");
  ski = strstr (shown, "SKI ");
  g_assert_cmpuint (strlen (ski), >=, 4 + 16 * 4 + 15);
  ski_hex = g_strndup (ski + 4, 16 * 4 + 15);
  g_assert_cmpuint (tke_test_count (ski_hex, " "), ==, 15);
  {
    char *to = ski_hex;

    for (const char *c = ski_hex; *c != '\0'; c++)
      if (*c != ' ')
        *to++ = *c;
    *to = '\0';
  }
  g_assert_cmpuint (strlen (ski_hex), ==, 64);
  take_out (&s, 2);
  info = card_info ("blank1.card");
  g_test_message ("%s", info);
  g_assert_nonnull (strstr (info, ski_hex));
  g_assert_nonnull (strstr (info, "Part A"));
  g_assert_nonnull (strstr (info, "Key parts: 1"));
  close_screen (&s);
}

/* Copy Smart Card: reader 1's card onto reader 2's, both PINs on the pads;
 * a card of another zone is refused before any PIN. */
static void
test_copy (void)
{
  Screen s;
  g_autofree char *source = NULL;
  g_autofree char *target = NULL;
  g_autofree char *other = NULL;
  guint entries;

  open_screen (&s);
  insert (&s, 1, "Source card");
  wait_reader (&s, 1, "Key part 2 “Part Two”");
  insert (&s, 2, "Blank card 2");
  tke_test_click_when_ready (tke_test_find_button (GTK_WIDGET (s.page), "Copy Smart Card"));
  g_assert_nonnull (strstr (tke_smart_card_page_get_status (s.page), "same zone"));
  type_pin (&s, 1, "Enter the PIN", "600001");
  /* Cancel once on the target's pad; nothing is copied. */
  cancel_pin (&s, 2, "Enter the PIN");
  wait_status (&s, "cancelled on the PIN pad of reader 2");
  wait_reader (&s, 2, "Key parts: none");

  tke_test_click_when_ready (tke_test_find_button (GTK_WIDGET (s.page), "Copy Smart Card"));
  /* Reader 1's PIN ended with the cancelled copy: both pads again. */
  type_pin (&s, 1, "Enter the PIN", "600001");
  type_pin (&s, 2, "Enter the PIN", "500002");
  wait_status (&s, "Copied 3 items");
  wait_reader (&s, 2, "Key part 2 “Part Two”");
  tke_test_save_screenshot (GTK_WIDGET (s.window), "smart-card-copied");

  /* Another zone: said at once, no PIN asked, nothing copied. */
  insert (&s, 2, "Other zone card");
  entries = keypad_entries (1) + keypad_entries (2);
  tke_test_click_when_ready (tke_test_find_button (GTK_WIDGET (s.page), "Copy Smart Card"));
  wait_status (&s, "A card is copied only to a card of its own zone. Nothing was copied.");
  g_assert_cmpuint (keypad_entries (1) + keypad_entries (2), ==, entries);
  wait_reader (&s, 2, "Key parts: none");
  tke_test_save_screenshot (GTK_WIDGET (s.window), "smart-card-other-zone");

  take_out (&s, 1);
  take_out (&s, 2);
  source = card_info ("source.card");
  target = card_info ("blank2.card");
  other = card_info ("other.card");
  {
    /* The same signature key and parts (check values), from card to card. */
    const char *s_ski = strstr (source, "SKI");
    const char *t_ski = strstr (target, "SKI");
    const char *s_parts = strstr (source, "Key parts: 2");
    const char *t_parts = strstr (target, "Key parts: 2");

    g_assert_nonnull (s_ski);
    g_assert_nonnull (t_ski);
    g_assert_nonnull (s_parts);
    g_assert_nonnull (t_parts);
    g_assert_cmpint (strncmp (s_ski, t_ski, 68), ==, 0);
    g_assert_cmpstr (s_parts, ==, t_parts);
  }
  g_assert_nonnull (strstr (other, "Key parts: 0"));
  g_assert_nonnull (strstr (other, "Signature key:    none"));
  close_screen (&s);
}

/* A card blocked by wrong PINs offers its way out; the CA card in reader 1
 * unblocks it with both of its PINs, the card takes a new PIN. */
static void
test_unblock (void)
{
  Screen s;
  g_autofree char *info = NULL;

  open_screen (&s);
  insert (&s, 2, "Forgetful card");
  for (guint left = 2; left <= 2; left--)
    {
      g_autofree char *said =
          left > 0 ? g_strdup_printf ("Wrong PIN: %u %s left", left, left == 1 ? "try" : "tries")
                   : g_strdup ("blocked");

      tke_test_click_when_ready (tke_test_find_button (GTK_WIDGET (s.page), "Change PIN"));
      type_pin (&s, 2, "Enter the PIN", "999999");
      wait_status (&s, said);
      if (left == 0)
        break;
    }
  wait_strip (&s, 2, "Reader 2: EP11 card “Forgetful card” is blocked");
  wait_reader (&s, 2, "PIN: blocked");
  g_assert_nonnull (strstr (tke_smart_card_page_get_blocked_advice (s.page),
                            "Unblock it with its zone's CA card"));
  tke_test_save_screenshot (GTK_WIDGET (s.window), "smart-card-blocked");

  insert (&s, 1, "CA Demo");
  tke_test_click_when_ready (
      tke_test_find_button (GTK_WIDGET (s.page), "Unblock With the CA Card"));
  /* Cancel once at the CA card's first PIN: the card stays blocked. */
  cancel_pin (&s, 1, "Enter the PIN");
  wait_status (&s, "cancelled on the PIN pad of reader 1");
  wait_reader (&s, 2, "PIN: blocked");

  tke_test_click_when_ready (
      tke_test_find_button (GTK_WIDGET (s.page), "Unblock With the CA Card"));
  type_pin (&s, 1, "Enter the PIN", "111111");
  type_pin (&s, 1, "Enter the CA card's PIN 2", "222222");
  type_pin (&s, 2, "Enter the new PIN", "700007");
  type_pin (&s, 2, "Enter the new PIN again", "700007");
  wait_status (&s, "is unblocked and has its new PIN");
  wait_reader (&s, 2, "PIN: 3 tries left");
  wait_strip (&s, 2, "Reader 2: EP11 card “Forgetful card”");
  g_assert_null (tke_smart_card_page_get_blocked_advice (s.page));
  tke_test_save_screenshot (GTK_WIDGET (s.window), "smart-card-unblocked");

  take_out (&s, 1);
  take_out (&s, 2);
  info = card_info ("forgetful.card");
  g_assert_nonnull (strstr (info, "PIN tries left:   3"));
  {
    /* The new PIN is the card's PIN now. */
    const char *args[] = { "gen-keypart", "--description", "After unblock", "forgetful.card",
                           NULL };
    const char *wrong[] = { "gen-keypart", "--description", "Old PIN", "forgetful.card", NULL };

    g_assert_cmpint (tke_readers_card (&fixture, "800008\n", wrong, NULL), !=, 0);
    g_assert_cmpint (tke_readers_card (&fixture, "700007\n", args, NULL), ==, 0);
  }
  close_screen (&s);
}

/* The Smart Card Utility Program's set-up: a blank card becomes a CA card
 * (two PINs, each twice, zone and card descriptions), another is
 * initialized and enrolled in its zone and personalized (PIN twice,
 * description; the first entry cancelled on the pad). */
static void
test_initialize (void)
{
  Screen s;
  g_autofree char *ca = NULL;
  g_autofree char *ep11 = NULL;
  g_autofree char *zone_line = NULL;

  open_screen (&s);
  tke_test_pick_card (s.bar, 1, "new-ca.card", NULL);
  wait_strip (&s, 1, "Reader 1: blank card");
  wait_reader (&s, 1, "Blank card");
  set_entry (&s, "Zone description", "New zone");
  set_entry (&s, "Card description", "New CA");
  tke_test_click_when_ready (tke_test_find_button (GTK_WIDGET (s.page), "Initialize CA Card"));
  type_pin (&s, 1, "Enter the new PIN", "121212");
  type_pin (&s, 1, "Enter the new PIN again", "121212");
  type_pin (&s, 1, "Enter the new PIN 2", "343434");
  type_pin (&s, 1, "Enter the new PIN 2 again", "343434");
  wait_status (&s, "is the CA card of its new zone");
  wait_reader (&s, 1, "CA card “New CA”\nZone: “New zone”");
  wait_reader (&s, 1, "PIN: 5 tries left");

  tke_test_pick_card (s.bar, 2, "new-ep11.card", NULL);
  wait_strip (&s, 2, "Reader 2: blank card");
  wait_reader (&s, 2, "Blank card\nSerial number: ");
  tke_test_click_when_ready (
      tke_test_find_button (GTK_WIDGET (s.page), "Initialize and Enroll EP11 Card"));
  /* The PINs set for the initialization ended with it: both CA PINs
   * again, for this operation. */
  type_pin (&s, 1, "Enter the PIN", "121212");
  type_pin (&s, 1, "Enter the CA card's PIN 2", "343434");
  wait_status (&s, "is enrolled in the CA card's zone");
  wait_reader (&s, 2, "Blank card, enrolled in zone “New zone”");

  set_entry (&s, "Card description", "New admin card");
  tke_test_click_when_ready (tke_test_find_button (GTK_WIDGET (s.page), "Personalize EP11 Card"));
  cancel_pin (&s, 2, "Enter the new PIN");
  wait_status (&s, "cancelled on the PIN pad of reader 2");
  wait_reader (&s, 2, "Blank card, enrolled in zone “New zone”");
  tke_test_click_when_ready (tke_test_find_button (GTK_WIDGET (s.page), "Personalize EP11 Card"));
  type_pin (&s, 2, "Enter the new PIN", "565656");
  type_pin (&s, 2, "Enter the new PIN again", "565656");
  wait_status (&s, "is a personalized EP11 card");
  wait_reader (&s, 2, "EP11 card “New admin card”\nZone: “New zone”");
  wait_strip (&s, 2, "Reader 2: EP11 card “New admin card”");
  tke_test_save_screenshot (GTK_WIDGET (s.window), "smart-card-initialized");

  take_out (&s, 1);
  take_out (&s, 2);
  ca = card_info ("new-ca.card");
  ep11 = card_info ("new-ep11.card");
  g_test_message ("%s%s", ca, ep11);
  g_assert_nonnull (strstr (ca, "Type:             CA"));
  g_assert_nonnull (strstr (ca, "Zone description: New zone"));
  g_assert_nonnull (strstr (ca, "PIN tries left:   PIN 1: 5, PIN 2: 5"));
  g_assert_nonnull (strstr (ep11, "Type:             EP11"));
  g_assert_nonnull (strstr (ep11, "Description:      New admin card"));
  zone_line = g_strndup (strstr (ca, "Zone:"), strlen ("Zone:             ") + 16);
  g_assert_nonnull (strstr (ep11, zone_line));
  {
    /* Its PIN is the one typed, and it takes a signature key. */
    const char *sigkey[] = { "gen-sigkey", "new-ep11.card", NULL };

    g_assert_cmpint (tke_readers_card (&fixture, "565656\n", sigkey, NULL), ==, 0);
  }
  close_screen (&s);
}

/* Back Up CA Card: the CA card in reader 1, a blank card in reader 2.  The
 * first time the CA card's PIN 2 is cancelled on the pad: the blank card
 * stays blank.  Then the backup is a CA card of the same zone that takes
 * the CA card's own PINs and certifies a new card of the zone. */
static void
test_backup_ca (void)
{
  Screen s;
  g_autofree char *ca = NULL;
  g_autofree char *copy = NULL;
  g_autofree char *zone_line = NULL;

  open_screen (&s);
  insert (&s, 1, "CA Demo");
  tke_test_pick_card (s.bar, 2, "backup-ca.card", NULL);
  wait_strip (&s, 2, "Reader 2: blank card");
  wait_reader (&s, 2, "Blank card");
  tke_test_click_when_ready (tke_test_find_button (GTK_WIDGET (s.page), "Back Up CA Card"));
  type_pin (&s, 1, "Enter the PIN", "111111");
  cancel_pin (&s, 1, "Enter the CA card's PIN 2");
  wait_status (&s, "cancelled on the PIN pad of reader 1");
  wait_reader (&s, 2, "Blank card");

  tke_test_click_when_ready (tke_test_find_button (GTK_WIDGET (s.page), "Back Up CA Card"));
  type_pin (&s, 1, "Enter the PIN", "111111");
  type_pin (&s, 1, "Enter the CA card's PIN 2", "222222");
  wait_status (&s, "is a backup of the CA card in reader 1");
  wait_reader (&s, 2, "CA card “CA Demo”\nZone: “Demo zone”");
  wait_strip (&s, 2, "Reader 2: CA card “CA Demo”");
  tke_test_save_screenshot (GTK_WIDGET (s.window), "smart-card-ca-backup");

  take_out (&s, 1);
  take_out (&s, 2);
  ca = card_info ("ca.card");
  copy = card_info ("backup-ca.card");
  g_test_message ("%s%s", ca, copy);
  g_assert_nonnull (strstr (copy, "Type:             CA"));
  g_assert_nonnull (strstr (copy, "PIN tries left:   PIN 1: 5, PIN 2: 5"));
  zone_line = g_strndup (strstr (ca, "Zone:"), strlen ("Zone:             ") + 16);
  g_assert_nonnull (strstr (copy, zone_line));
  {
    /* The backup's PINs are the CA card's, and it makes cards of the zone. */
    const char *create[] = {
      "create",           "--zone", "backup-ca.card", "--description", "From the backup",
      "from-backup.card", NULL
    };
    g_autofree char *made = NULL;

    g_assert_cmpint (tke_readers_card (&fixture, "111111\n222222\n515151\n", create, NULL), ==, 0);
    made = card_info ("from-backup.card");
    g_assert_nonnull (strstr (made, zone_line));
  }
  close_screen (&s);
}

static gboolean
shows_card (gpointer data)
{
  Expect *e = data;

  return !tke_smart_card_page_get_busy (e->s->page) &&
         strstr (tke_smart_card_page_get_reader_text (e->s->page, e->reader), e->text) != NULL &&
         strstr (tke_readers_bar_get_summary (e->s->bar, e->reader), e->text) != NULL;
}

static gboolean
strip_says_blocked (gpointer data)
{
  Screen *s = data;

  return tke_smart_card_page_get_blocked_advice (s->page) != NULL &&
         strstr (tke_readers_bar_get_summary (s->bar, 2), "gesperrt") != NULL;
}

/* LANGUAGE=de (the smart-card-de test): the tab in German, with a card
 * blocked beforehand, for the screenshot; the words are the catalogue's. */
static void
test_german (void)
{
  Screen s;
  Expect source = { &s, 1, "Source card" };
  Expect blocked = { &s, 2, "Forgetful card" };
  const char *wrong[] = { "gen-keypart", "--description", "X", "forgetful.card", NULL };

  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (tke_readers_card (&fixture, "000000\n", wrong, NULL), !=, 0);
  s.window = tke_application_open_window (app);
  gtk_window_present (GTK_WINDOW (s.window));
  s.bar = tke_window_get_readers_bar (s.window);
  s.page = tke_window_get_smart_card_page (s.window);
  adw_view_stack_set_visible_child_name (
      ADW_VIEW_STACK (
          tke_test_find_widget_of_type (GTK_WIDGET (s.window), ADW_TYPE_VIEW_STACK, NULL, NULL)),
      "smart-card");
  tke_test_pick_card (s.bar, 1, "Source card", NULL);
  g_assert_true (tke_test_wait_until (shows_card, &source, 30000));
  tke_test_pick_card (s.bar, 2, "Forgetful card", NULL);
  g_assert_true (tke_test_wait_until (shows_card, &blocked, 30000));
  /* Asked again until it holds: a card event can make the page read the
   * card again meanwhile, and the strip say "reading the card". */
  if (!tke_test_wait_until (strip_says_blocked, &s, 30000))
    g_error ("the strip says “%s”, the page “%s”", tke_readers_bar_get_summary (s.bar, 2),
             tke_smart_card_page_get_reader_text (s.page, 2));
  tke_test_save_screenshot (GTK_WIDGET (s.window), "smart-card-blocked-de");
  close_screen (&s);
}

/* ---- Copies between the card and files ---- */

static gboolean
pointer_is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

/* Answers the page's password question with PASSWORD (and AGAIN, for a new file). */
static void
answer_password (Screen *s, const char *password, const char *again, const char *response)
{
  AdwMessageDialog *dialog = tke_smart_card_page_get_password_dialog (s->page);
  GtkWidget *first, *second;

  g_assert_nonnull (dialog);
  first =
      tke_test_find_widget_of_type (GTK_WIDGET (dialog), ADW_TYPE_PASSWORD_ENTRY_ROW, NULL, NULL);
  g_assert_nonnull (first);
  gtk_editable_set_text (GTK_EDITABLE (first), password);
  second = gtk_widget_get_next_sibling (first);
  g_assert_true ((again != NULL) == (second != NULL));
  if (again != NULL)
    gtk_editable_set_text (GTK_EDITABLE (second), again);
  tke_test_save_screenshot (GTK_WIDGET (dialog), "smart-card-file-password");
  /* The person clicks the button; the dialog goes, with its entries. */
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog),
                                        g_str_equal (response, "copy") ? "Copy" : "Cancel"));
  g_assert_null (tke_smart_card_page_get_password_dialog (s->page));
  g_assert_true (tke_test_wait_until (pointer_is_null, &dialog, 10000));
}

/* A key part file onto the card, a wrong password, the part back into a
 * file; the signature key the same way; the passwords stay in the dialog. */
static void
test_files (void)
{
  Screen s;
  g_autoptr (GError) error = NULL;
  g_autofree char *in = g_build_filename (fixture.dir, "gui-in.keypart", NULL);
  g_autofree char *out = g_build_filename (fixture.dir, "gui-out.keypart", NULL);
  g_autofree char *sigkey_in = g_build_filename (fixture.dir, "gui-in.sigkey", NULL);
  g_autofree char *sigkey_out = g_build_filename (fixture.dir, "gui-out.sigkey", NULL);
  g_autoptr (TkeSecret) part = tke_secret_new_random (TKE_MASTER_KEY_SIZE, NULL);
  g_autoptr (TkeSecret) password = tke_secret_new_from_data ((const guint8 *) "file password", 13);
  g_autoptr (TkeSecret) new_password =
      tke_secret_new_from_data ((const guint8 *) "new password", 12);
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (NULL);
  g_autoptr (TkeKeyPartFile) in_file = NULL;
  g_autoptr (TkeKeyPartFile) out_file = NULL;
  g_autoptr (TkeSecret) opened = NULL;
  g_autoptr (TkeSignatureKeyFile) sigkey_file = NULL;
  g_autoptr (EVP_PKEY) exported = NULL;
  guint entries;

  g_assert_true (tke_key_part_file_create (in, "GUI part", part, password, &error));
  g_assert_true (tke_signature_key_file_create (sigkey_in, NULL, key, password,
                                                TKE_KEY_FILE_KDF_SCRYPT, &error));
  g_assert_no_error (error);
  in_file = tke_key_part_file_load (in, &error);
  g_assert_no_error (error);

  open_screen (&s);
  insert (&s, 2, "Files card");
  wait_reader (&s, 2, "Key parts: none");
  g_assert_nonnull (tke_test_find_button (GTK_WIDGET (s.page), "Copy Key Part File to Card…"));
  g_assert_nonnull (tke_test_find_button (GTK_WIDGET (s.page), "Copy Signature Key to File…"));

  tke_smart_card_page_copy_file (s.page, TKE_SMART_CARD_FILE_COPY_PART_TO_CARD, in);
  answer_password (&s, "not the password", NULL, "copy");
  type_pin (&s, 2, "Enter the PIN", "500003");
  wait_status (&s, "Wrong password or damaged file");
  wait_reader (&s, 2, "Key parts: none");

  tke_smart_card_page_copy_file (s.page, TKE_SMART_CARD_FILE_COPY_PART_TO_CARD, in);
  answer_password (&s, "file password", NULL, "copy");
  type_pin (&s, 2, "Enter the PIN", "500003");
  wait_status (&s, "Key part 1 “GUI part” copied onto the card in reader 2");
  wait_reader (&s, 2, "Key part 1 “GUI part”, check value ");

  /* Two passwords that differ, or Cancel: no PIN asked, nothing written. */
  entries = keypad_entries (2);
  tke_smart_card_page_copy_file (s.page, TKE_SMART_CARD_FILE_COPY_PART_TO_FILE, out);
  answer_password (&s, "new password", "new passwort", "copy");
  g_assert_nonnull (strstr (tke_smart_card_page_get_status (s.page), "do not match"));
  tke_smart_card_page_copy_file (s.page, TKE_SMART_CARD_FILE_COPY_PART_TO_FILE, out);
  answer_password (&s, "new password", "new password", "cancel");
  g_assert_cmpuint (keypad_entries (2), ==, entries);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));

  tke_smart_card_page_copy_file (s.page, TKE_SMART_CARD_FILE_COPY_PART_TO_FILE, out);
  answer_password (&s, "new password", "new password", "copy");
  type_pin (&s, 2, "Enter the PIN", "500003");
  wait_status (&s, "written to");
  out_file = tke_key_part_file_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tke_key_part_file_get_vp (out_file), ==, tke_key_part_file_get_vp (in_file));
  opened = tke_key_part_file_unlock (out_file, new_password, &error);
  g_assert_no_error (error);
  g_assert_true (tke_secret_equal (opened, part));

  tke_smart_card_page_copy_file (s.page, TKE_SMART_CARD_FILE_COPY_SIGKEY_TO_CARD, sigkey_in);
  answer_password (&s, "file password", NULL, "copy");
  type_pin (&s, 2, "Enter the PIN", "500003");
  wait_status (&s, "has the file's signature key, SKI ");
  wait_reader (&s, 2, "Signature key: SKI ");
  tke_smart_card_page_copy_file (s.page, TKE_SMART_CARD_FILE_COPY_SIGKEY_TO_FILE, sigkey_out);
  answer_password (&s, "new password", "new password", "copy");
  type_pin (&s, 2, "Enter the PIN", "500003");
  wait_status (&s, "was written to");
  tke_test_save_screenshot (GTK_WIDGET (s.window), "smart-card-files");
  sigkey_file = tke_signature_key_file_load (sigkey_out, &error);
  g_assert_no_error (error);
  exported = tke_signature_key_file_unlock (sigkey_file, new_password, &error);
  g_assert_no_error (error);
  g_assert_true (EVP_PKEY_eq (exported, key) == 1);
  close_screen (&s);
}

static void
make_cards (void)
{
  const char *ca[] = {
    "create-ca", "--zone-description", "Demo zone", "--description", "CA Demo", "ca.card", NULL
  };
  const char *other_ca[] = { "create-ca", "--zone-description", "Other zone", "--description",
                             "CA Other",  "other-ca.card",      NULL };
  const struct
  {
    const char *image, *zone, *description, *pin;
  } cards[] = {
    { "blank1.card", "ca.card", "Blank card 1", "500001" },
    { "blank2.card", "ca.card", "Blank card 2", "500002" },
    { "source.card", "ca.card", "Source card", "600001" },
    { "forgetful.card", "ca.card", "Forgetful card", "800008" },
    { "other.card", "other-ca.card", "Other zone card", "900009" },
    { "files.card", "ca.card", "Files card", "500003" },
  };

  g_assert_cmpint (tke_readers_card (&fixture, "111111\n222222\n", ca, NULL), ==, 0);
  g_assert_cmpint (tke_readers_card (&fixture, "333333\n444444\n", other_ca, NULL), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (cards); i++)
    {
      gboolean other = strcmp (cards[i].zone, "other-ca.card") == 0;
      g_autofree char *pins =
          g_strdup_printf ("%s\n%s\n", other ? "333333\n444444" : "111111\n222222", cards[i].pin);
      const char *create[] = {
        "create",       "--zone", cards[i].zone, "--description", cards[i].description,
        cards[i].image, NULL
      };

      g_assert_cmpint (tke_readers_card (&fixture, pins, create, NULL), ==, 0);
    }
  for (const char *const *blank =
           (const char *const[]){ "new-ca.card", "new-ep11.card", "backup-ca.card", NULL };
       *blank != NULL; blank++)
    {
      const char *create[] = { "create-blank", *blank, NULL };

      g_assert_cmpint (tke_readers_card (&fixture, "", create, NULL), ==, 0);
    }
  {
    const char *sigkey[] = { "gen-sigkey", "source.card", NULL };
    const char *one[] = { "gen-keypart", "--description", "Part One", "source.card", NULL };
    const char *two[] = { "gen-keypart", "--description", "Part Two", "source.card", NULL };

    g_assert_cmpint (tke_readers_card (&fixture, "600001\n", sigkey, NULL), ==, 0);
    g_assert_cmpint (tke_readers_card (&fixture, "600001\n", one, NULL), ==, 0);
    g_assert_cmpint (tke_readers_card (&fixture, "600001\n", two, NULL), ==, 0);
  }
}

int
main (int argc, char **argv)
{
  const char *const env[] = { "TKE_VIRTUAL_READERS", "TKE_CARD", NULL };
  int status;

  if (!tke_test_gtk_can_run (env))
    return 0;

  tke_readers_fixture_init (&fixture);
  {
    g_autofree char *config = tke_readers_path (&fixture, "config");

    g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  }
  g_setenv ("TKE_VIRTUAL_READERS_DIR", fixture.state_dir, TRUE);
  g_setenv ("TKE_VIRTUAL_CARDS_DIR", fixture.dir, TRUE);
  tke_application_init_i18n ();
  tke_test_gtk_init (&argc, &argv);
  make_cards ();
  tke_readers_fixture_start (&fixture, NULL, NULL);
  app = tke_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, NULL);

  if (g_str_has_prefix (g_getenv ("LANGUAGE") != NULL ? g_getenv ("LANGUAGE") : "", "de"))
    g_test_add_func ("/gui/smart-card/german", test_german);
  else
    {
      g_test_add_func ("/gui/smart-card/generate", test_generate);
      g_test_add_func ("/gui/smart-card/copy", test_copy);
      g_test_add_func ("/gui/smart-card/unblock", test_unblock);
      g_test_add_func ("/gui/smart-card/initialize", test_initialize);
      g_test_add_func ("/gui/smart-card/backup-ca", test_backup_ca);
      g_test_add_func ("/gui/smart-card/files", test_files);
    }

  status = g_test_run ();
  g_object_unref (app);
  tke_readers_fixture_clear (&fixture);
  return status;
}
