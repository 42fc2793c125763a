/* test-window.c: tests of src/gui/tke-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>

#include "tke-application.h"
#include "tke-test-gtk-utils.h"
#include "tke-window.h"

static gboolean
page_has_title (GtkWidget *widget, gconstpointer title)
{
  return g_strcmp0 (adw_status_page_get_title (ADW_STATUS_PAGE (widget)), title) == 0;
}

static void
test_window_opens_with_both_tabs (void)
{
  g_autoptr (TkeApplication) app = tke_application_new ();
  TkeWindow *window;
  AdwViewStack *stack;
  GtkWidget *status;

  /* Tests run in parallel on one session bus: each its own instance. */
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, NULL);
  window = tke_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  tke_test_flush_widget (GTK_WIDGET (window));

  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Trusted Key Entry");

  stack = ADW_VIEW_STACK (
      tke_test_find_widget_of_type (GTK_WIDGET (window), ADW_TYPE_VIEW_STACK, NULL, NULL));
  g_assert_nonnull (stack);
  g_assert_cmpstr (adw_view_stack_page_get_title (adw_view_stack_get_page (
                       stack, adw_view_stack_get_child_by_name (stack, "crypto-units"))),
                   ==, "Crypto units");
  g_assert_cmpstr (adw_view_stack_page_get_title (adw_view_stack_get_page (
                       stack, adw_view_stack_get_child_by_name (stack, "master-keys"))),
                   ==, "Master keys");

  status = tke_test_find_widget_of_type (GTK_WIDGET (window), ADW_TYPE_STATUS_PAGE, page_has_title,
                                         "Not Logged In");
  g_assert_nonnull (status);
  g_assert_true (gtk_widget_get_mapped (status));
  tke_test_save_screenshot (GTK_WIDGET (window), "window-crypto-units");

  adw_view_stack_set_visible_child_name (stack, "master-keys");
  status = tke_test_find_widget_of_type (GTK_WIDGET (window), ADW_TYPE_STATUS_PAGE, page_has_title,
                                         "No Crypto Units Selected");
  g_assert_nonnull (status);
  tke_test_flush_widget (GTK_WIDGET (window));
  g_assert_true (gtk_widget_get_mapped (status));
  tke_test_save_screenshot (GTK_WIDGET (window), "window-master-keys");

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  if (!g_getenv ("DISPLAY") && !g_getenv ("WAYLAND_DISPLAY"))
    {
      g_print ("1..0 # SKIP no display; run the gui suite under xvfb-run\n");
      return 0;
    }

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/gui/window/opens-with-both-tabs", test_window_opens_with_both_tabs);

  return g_test_run ();
}
