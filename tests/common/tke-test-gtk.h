/* tke-test-gtk.h: the set-up of a GUI test process, and finding, clicking
 * and waiting on widgets as a person would
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "tke-application.h"
#include "tke-readers-bar.h"

G_BEGIN_DECLS

/* ---- A GUI test's main() ---------------------------------------------- */

/* TRUE when a GUI test can run: there is a display, and every variable of
 * @env (NULL-terminated; NULL for none) that meson test sets is set.  When
 * not, prints a TAP plan that skips everything: main() returns 0. */
gboolean tke_test_gtk_can_run (const char *const *env);
/* A new temporary directory (@tmpl as for g_dir_make_tmp()) that is the
 * application's home: XDG_CONFIG_HOME (the profile), XDG_STATE_HOME (the
 * ceremony journal) and libsecret's file backend point below it, never at
 * the person's own.  Remove it with tke_test_remove_tree(). */
char *tke_test_gtk_private_home (const char *tmpl);
/* gtk_test_init() and adw_init().  TKE_TEST_DEBUG becomes this process's
 * G_MESSAGES_DEBUG: call it after starting the readers and the emulator,
 * whose stdout the tests read line by line. */
void tke_test_gtk_init (int *argc, char ***argv);
/* One registered TkeApplication for the whole test process (a second one
 * with the same ID would be a remote of the first), its own instance on the
 * shared session bus. */
TkeApplication *tke_test_gtk_application_new (void);

/* ---- Drawing and screenshots -------------------------------------------- */

gboolean tke_test_have_display (void);
/* Waits until @widget has been drawn and the display has caught up. */
void tke_test_flush_widget (GtkWidget *widget);
/* Writes NAME.png into TKE_SCREENSHOT_DIR (or the build's screenshots/). */
void tke_test_save_screenshot (GtkWidget *widget, const char *name);

/* ---- Finding widgets ---------------------------------------------------- */

/* The first widget below @root (depth first) of @type for which @match
 * (may be NULL) returns TRUE. */
GtkWidget *tke_test_find_widget_of_type (GtkWidget *root,
                                         GType type,
                                         gboolean (*match) (GtkWidget *widget, gconstpointer data),
                                         gconstpointer data);
/* A label whose text is TEXT, or contains it (tke_test_find_label_containing). */
GtkWidget *tke_test_find_label (GtkWidget *root, const char *text);
GtkWidget *tke_test_find_label_containing (GtkWidget *root, const char *text);
/* A visible button whose label, mnemonic underscores removed, is LABEL. */
GtkWidget *tke_test_find_button (GtkWidget *root, const char *label);
/* How many buttons below @widget (itself included) are drawn: what a
 * person can press. */
guint tke_test_count_drawn_buttons (GtkWidget *widget);
/* Whether all of @widget shows in @scrolled's view, without scrolling. */
gboolean tke_test_in_view (GtkWidget *widget, GtkWidget *scrolled);
/* The first toplevel window of @type. */
GtkWindow *tke_test_find_toplevel (GType type);

/* ---- Acting and waiting ------------------------------------------------- */

/* Clicks BUTTON as a person would: it must be visible and sensitive. */
void tke_test_click (GtkWidget *button);
/* Waits (up to 30 s) until BUTTON can be pressed, as a person waits for a
 * greyed button while the page is still reading, then clicks it. */
void tke_test_click_when_ready (GtkWidget *button);
/* Iterates the main loop until @condition returns TRUE (TRUE) or
 * @timeout_ms has passed (FALSE).  Never a fixed sleep. */
gboolean
tke_test_wait_until (gboolean (*condition) (gpointer data), gpointer data, guint timeout_ms);
/* Logs in as the person does: Log In… (win.log-in) on @window, @api_key
 * typed in the dialog, Log In pressed; the entry no longer holds the key,
 * and the dialog closes. */
void tke_test_log_in (GtkWidget *window, const char *api_key);
/* Pops @button's menu up and waits until it is on screen; its popover. */
GtkWidget *tke_test_popup (GtkMenuButton *button);
/* The item of the open menu @popover whose label is @text (a
 * GtkModelButton); the test fails without one. */
GtkWidget *tke_test_menu_item (GtkWidget *popover, const char *text);
/* Opens @reader's Cards menu in @bar and picks @item, as a person clicks;
 * with @screenshot, the open menu is saved first. */
void
tke_test_pick_card (TkeReadersBar *bar, guint reader, const char *item, const char *screenshot);
/* Runs the main loop for MS milliseconds. */
void tke_test_iterate (guint ms);

G_END_DECLS
