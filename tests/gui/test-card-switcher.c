/* test-card-switcher.c: the demo's "Cards" menus in the readers
 * strip, against the real virtual readers under a private pcscd
 * (src/gui/tke-readers-bar.c, tke-virtual-cards.c), and the demo menu's
 * fault switch (tke-window.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window is opened as build-aux/demo opens it: TKE_VIRTUAL_READERS_DIR
 * names the readers' control sockets, TKE_VIRTUAL_CARDS_DIR the card
 * images.  The test opens a reader's menu, picks a card by the
 * description it shows, and waits until the strip, which follows pcscd,
 * names that card; "Remove Card" empties the reader again.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>
#include <glib/gstdio.h>

#include "tke-application.h"
#include "tke-test-readers.h"
#include "tke-test-gtk.h"
#include "tke-window.h"

static TkeReadersFixture fixture;
static TkeApplication *app;

typedef struct
{
  TkeReadersBar *bar;
  guint reader;
  const char *summary;
} Expect;

static gboolean
reader_says (gpointer data)
{
  Expect *e = data;
  return g_strcmp0 (tke_readers_bar_get_summary (e->bar, e->reader), e->summary) == 0;
}

static void
wait_for_summary (TkeReadersBar *bar, guint reader, const char *summary)
{
  Expect e = { bar, reader, summary };

  if (!tke_test_wait_until (reader_says, &e, 20000))
    g_error ("reader %u: expected “%s”, the strip says “%s”", reader, summary,
             tke_readers_bar_get_summary (bar, reader));
}

static TkeWindow *
open_demo_window (void)
{
  TkeWindow *window;

  window = tke_application_open_window (app);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static void
test_insert_and_remove (void)
{
  TkeWindow *window = open_demo_window ();
  TkeReadersBar *bar = tke_window_get_readers_bar (window);
  GtkWidget *popover =
      GTK_WIDGET (gtk_menu_button_get_popover (tke_readers_bar_get_card_button (bar, 1)));

  wait_for_summary (bar, 1, "Reader 1: no card");
  wait_for_summary (bar, 2, "Reader 2: no card");

  /* The menu lists the demo's cards by description, the CA card too. */
  tke_test_pick_card (bar, 1, "Admin card 1", "card-switcher-menu");
  for (const char *const *name = (const char *const[]){ "Admin card 2", "Demo CA",
                                                        "Key part card 1", "Remove Card", NULL };
       *name != NULL; name++)
    g_assert_nonnull (tke_test_find_label (popover, *name));
  wait_for_summary (bar, 1, "Reader 1: EP11 card “Admin card 1”");

  tke_test_pick_card (bar, 2, "Key part card 1", NULL);
  wait_for_summary (bar, 2, "Reader 2: EP11 card “Key part card 1”");
  tke_test_save_screenshot (GTK_WIDGET (window), "card-switcher-inserted");

  /* A card picked for a full reader replaces the one in it. */
  tke_test_pick_card (bar, 1, "Admin card 2", NULL);
  wait_for_summary (bar, 1, "Reader 1: EP11 card “Admin card 2”");
  {
    g_autofree char *status = tke_readers_ctl (&fixture, 1, "status");
    g_autofree char *image = tke_readers_path (&fixture, "admin2.card");
    g_autofree char *expected = g_strconcat ("ok card=present prompt=idle image=", image, NULL);

    g_assert_cmpstr (status, ==, expected);
  }

  tke_test_pick_card (bar, 1, "Remove Card", NULL);
  wait_for_summary (bar, 1, "Reader 1: no card");
  tke_test_pick_card (bar, 2, "Remove Card", NULL);
  wait_for_summary (bar, 2, "Reader 2: no card");
  tke_test_save_screenshot (GTK_WIDGET (window), "card-switcher-removed");

  gtk_window_destroy (GTK_WINDOW (window));
  tke_test_iterate (100);
}

static gboolean
label_starts_with (gpointer data)
{
  Expect *e = data;
  return g_str_has_prefix (tke_readers_bar_get_summary (e->bar, e->reader), e->summary);
}

/* A damaged image: the reader refuses it, the strip says so, the reader
 * stays empty and the menu can be used again. */
static void
test_unreadable_card (void)
{
  TkeWindow *window = open_demo_window ();
  TkeReadersBar *bar = tke_window_get_readers_bar (window);
  g_autofree char *broken = tke_readers_path (&fixture, "broken.card");
  Expect refused = { bar, 1, "Reader 1: the card was not changed: " };

  g_assert_true (
      g_file_set_contents (broken, "[TKE Card]\nFormat=1\nDescription=Broken card\n", -1, NULL));
  wait_for_summary (bar, 1, "Reader 1: no card");
  tke_test_pick_card (bar, 1, "Broken card", NULL);
  g_assert_true (tke_test_wait_until (label_starts_with, &refused, 20000));
  g_test_message ("%s", tke_readers_bar_get_summary (bar, 1));
  {
    g_autofree char *status = tke_readers_ctl (&fixture, 1, "status");
    g_assert_cmpstr (status, ==, "ok card=absent prompt=idle");
  }
  g_unlink (broken);
  tke_test_pick_card (bar, 1, "Admin card 1", NULL);
  wait_for_summary (bar, 1, "Reader 1: EP11 card “Admin card 1”");
  tke_test_pick_card (bar, 1, "Remove Card", NULL);
  wait_for_summary (bar, 1, "Reader 1: no card");

  gtk_window_destroy (GTK_WINDOW (window));
  tke_test_iterate (100);
}

/* The demo menu writes the emulator's fault file (tke-emulator
 * --faults-file); the emulator's side is in test-emulator. */
static void
test_demo_fault_menu (void)
{
  TkeWindow *window = open_demo_window ();
  g_autofree char *path = tke_readers_path (&fixture, "faults.ini");
  g_autofree char *contents = NULL;
  g_autoptr (GKeyFile) faults = g_key_file_new ();

  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.demo-fail-rotation", NULL));
  g_assert_true (g_key_file_load_from_file (faults, path, G_KEY_FILE_NONE, NULL));
  g_assert_cmpint (g_key_file_get_int64 (faults, "faults", "fail-after-keys", NULL), ==, 1000);
  g_unlink (path);
  gtk_window_destroy (GTK_WINDOW (window));
  tke_test_iterate (100);

  /* Without the demo, no switcher and no fault menu. */
  {
    TkeWindow *plain = tke_application_open_window (app);

    tke_window_set_virtual_readers (plain, NULL, NULL);
    tke_window_set_demo (plain, NULL, NULL);
    g_assert_false (gtk_widget_get_visible (
        GTK_WIDGET (tke_readers_bar_get_card_button (tke_window_get_readers_bar (plain), 1))));
    gtk_widget_activate_action (GTK_WIDGET (plain), "win.demo-fail-rotation", NULL);
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
    gtk_window_destroy (GTK_WINDOW (plain));
    tke_test_iterate (100);
  }
}

static void
make_cards (void)
{
  const char *ca[] = {
    "create-ca", "--zone-description", "Demo zone", "--description", "Demo CA", "ca.card", NULL
  };
  const struct
  {
    const char *image, *description, *pin;
  } cards[] = {
    { "admin1.card", "Admin card 1", "100001" },
    { "admin2.card", "Admin card 2", "100002" },
    { "keypart1.card", "Key part card 1", "300001" },
  };

  g_assert_cmpint (tke_readers_card (&fixture, "111111\n222222\n", ca, NULL), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (cards); i++)
    {
      g_autofree char *pins = g_strdup_printf ("111111\n222222\n%s\n", cards[i].pin);
      const char *create[] = {
        "create", "--zone", "ca.card", "--description", cards[i].description, cards[i].image, NULL
      };

      g_assert_cmpint (tke_readers_card (&fixture, pins, create, NULL), ==, 0);
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
    /* The application reads no profile of the person running the tests. */
    g_autofree char *config = tke_readers_path (&fixture, "config");
    g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  }
  {
    /* As build-aux/demo sets them for tke-gtk. */
    g_autofree char *faults = tke_readers_path (&fixture, "faults.ini");

    g_setenv ("TKE_VIRTUAL_READERS_DIR", fixture.state_dir, TRUE);
    g_setenv ("TKE_VIRTUAL_CARDS_DIR", fixture.dir, TRUE);
    g_setenv ("TKE_DEMO_FAULTS_FILE", faults, TRUE);
  }
  tke_test_gtk_init (&argc, &argv);
  make_cards ();
  tke_readers_fixture_start (&fixture, NULL, NULL);
  app = tke_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, NULL);

  g_test_add_func ("/gui/card-switcher/insert-and-remove", test_insert_and_remove);
  g_test_add_func ("/gui/card-switcher/unreadable-card", test_unreadable_card);
  g_test_add_func ("/gui/card-switcher/demo-fault-menu", test_demo_fault_menu);

  status = g_test_run ();
  g_object_unref (app);
  tke_readers_fixture_clear (&fixture);
  return status;
}
