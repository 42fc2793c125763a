/* tke-test-gtk-utils.h: helpers for GUI tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

gboolean tke_test_have_display (void);
void tke_test_flush_widget (GtkWidget *widget);
void tke_test_save_screenshot (GtkWidget *widget, const char *name);
GtkWidget *tke_test_find_widget_of_type (GtkWidget *root,
                                         GType type,
                                         gboolean (*match) (GtkWidget *widget, gconstpointer data),
                                         gconstpointer data);
gboolean
tke_test_wait_until (gboolean (*condition) (gpointer data), gpointer data, guint timeout_ms);

G_END_DECLS

G_BEGIN_DECLS

/* A label whose text is TEXT, or contains it (tke_test_find_label_containing). */
GtkWidget *tke_test_find_label (GtkWidget *root, const char *text);
GtkWidget *tke_test_find_label_containing (GtkWidget *root, const char *text);
/* A visible button whose label, mnemonic underscores removed, is LABEL. */
GtkWidget *tke_test_find_button (GtkWidget *root, const char *label);
/* Clicks BUTTON as a person would: it must be visible and sensitive. */
void tke_test_click (GtkWidget *button);
GtkWindow *tke_test_find_toplevel (GType type);
/* Runs the main loop for MS milliseconds. */
void tke_test_iterate (guint ms);

G_END_DECLS
