/* tke-test-gtk.c: see tke-test-gtk.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "tke-test-gtk.h"

#include <adwaita.h>

#include "tke-login-dialog.h"

#include <string.h>

gboolean
tke_test_have_display (void)
{
  return g_getenv ("DISPLAY") != NULL || g_getenv ("WAYLAND_DISPLAY") != NULL;
}

void
tke_test_flush_widget (GtkWidget *widget)
{
  gtk_test_widget_wait_for_draw (widget);
  gdk_display_sync (gtk_widget_get_display (widget));
}

typedef struct
{
  GtkWidget *widget;
  GdkPaintable *paintable;
  char *path;
  gboolean done;
} Screenshot;

/* A paintable only has contents once the widget was drawn after it was
 * made, so the shot is taken when it says its contents changed. */
static void
on_contents_invalidated (GdkPaintable *paintable, Screenshot *shot)
{
  g_autoptr (GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  GskRenderer *renderer;
  int width = gtk_widget_get_width (shot->widget);
  int height = gtk_widget_get_height (shot->widget);

  if (shot->done)
    return;

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    return;

  renderer = gtk_native_get_renderer (gtk_widget_get_native (shot->widget));
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_true (gdk_texture_save_to_png (texture, shot->path));
  shot->done = TRUE;
}

/* Writes NAME.png into the directory TKE_SCREENSHOT_DIR names, or the
 * build directory's screenshots/ folder. */
void
tke_test_save_screenshot (GtkWidget *widget, const char *name)
{
  const char *dir = g_getenv ("TKE_SCREENSHOT_DIR");
  g_autofree char *fallback = NULL;
  g_autofree char *file = g_strdup_printf ("%s.png", name);
  Screenshot shot = { widget, NULL, NULL, FALSE };
  gulong handler;

  if (dir == NULL)
    dir = fallback = g_build_filename (g_test_get_dir (G_TEST_BUILT), "screenshots", NULL);
  g_mkdir_with_parents (dir, 0755);
  shot.path = g_build_filename (dir, file, NULL);

  tke_test_flush_widget (widget);
  shot.paintable = gtk_widget_paintable_new (widget);
  handler = g_signal_connect (shot.paintable, "invalidate-contents",
                              G_CALLBACK (on_contents_invalidated), &shot);
  gtk_widget_queue_draw (widget);

  while (!shot.done)
    g_main_context_iteration (NULL, TRUE);

  g_signal_handler_disconnect (shot.paintable, handler);
  g_object_unref (shot.paintable);
  g_test_message ("screenshot: %s", shot.path);
  g_free (shot.path);
}

GtkWidget *
tke_test_find_widget_of_type (GtkWidget *root,
                              GType type,
                              gboolean (*match) (GtkWidget *widget, gconstpointer data),
                              gconstpointer data)
{
  if (g_type_is_a (G_OBJECT_TYPE (root), type) && (match == NULL || match (root, data)))
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = tke_test_find_widget_of_type (child, type, match, data);
      if (found != NULL)
        return found;
    }

  return NULL;
}

static gboolean
on_wait_timeout (gpointer data)
{
  gboolean *timed_out = data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the main context until CONDITION holds; FALSE on timeout. */
gboolean
tke_test_wait_until (gboolean (*condition) (gpointer data), gpointer data, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint source = g_timeout_add (timeout_ms, on_wait_timeout, &timed_out);

  while (!condition (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (source);

  return !timed_out;
}

static gboolean
label_is (GtkWidget *widget, gconstpointer text)
{
  return g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0;
}

static gboolean
label_contains (GtkWidget *widget, gconstpointer text)
{
  return strstr (gtk_label_get_text (GTK_LABEL (widget)), text) != NULL;
}

GtkWidget *
tke_test_find_label (GtkWidget *root, const char *text)
{
  return tke_test_find_widget_of_type (root, GTK_TYPE_LABEL, label_is, text);
}

GtkWidget *
tke_test_find_label_containing (GtkWidget *root, const char *text)
{
  return tke_test_find_widget_of_type (root, GTK_TYPE_LABEL, label_contains, text);
}

static gboolean
button_is (GtkWidget *widget, gconstpointer wanted)
{
  const char *label = gtk_button_get_label (GTK_BUTTON (widget));
  g_autoptr (GString) plain = NULL;

  if (label == NULL || !gtk_widget_get_visible (widget))
    return FALSE;
  plain = g_string_new (label);
  g_string_replace (plain, "_", "", 0);
  return g_str_equal (plain->str, wanted);
}

GtkWidget *
tke_test_find_button (GtkWidget *root, const char *label)
{
  return tke_test_find_widget_of_type (root, GTK_TYPE_BUTTON, button_is, label);
}

void
tke_test_click (GtkWidget *button)
{
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_get_visible (button));
  g_assert_true (gtk_widget_is_sensitive (button));
  /* A check button toggles on "activate" (Space); a button's "activate"
   * only shows the press and clicks 250 ms later, so click it at once. */
  if (GTK_IS_CHECK_BUTTON (button))
    g_assert_true (gtk_widget_activate (button));
  else
    g_signal_emit_by_name (button, "clicked");
}

static gboolean
button_is_ready (gpointer button)
{
  return gtk_widget_is_sensitive (button);
}

void
tke_test_click_when_ready (GtkWidget *button)
{
  g_assert_nonnull (button);
  g_assert_true (tke_test_wait_until (button_is_ready, button, 30000));
  tke_test_click (button);
}

guint
tke_test_count_drawn_buttons (GtkWidget *widget)
{
  guint n = GTK_IS_BUTTON (widget) && gtk_widget_is_drawable (widget) ? 1 : 0;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    n += tke_test_count_drawn_buttons (c);
  return n;
}

gboolean
tke_test_in_view (GtkWidget *widget, GtkWidget *scrolled)
{
  graphene_rect_t box;

  if (!gtk_widget_get_mapped (widget) || !gtk_widget_compute_bounds (widget, scrolled, &box))
    return FALSE;
  g_test_message ("%s: y %.0f..%.0f of %d", G_OBJECT_TYPE_NAME (widget), box.origin.y,
                  box.origin.y + box.size.height, gtk_widget_get_height (scrolled));
  return box.origin.y >= -0.5 && box.origin.x >= -0.5 && box.size.height > 0 &&
         box.origin.y + box.size.height <= gtk_widget_get_height (scrolled) + 0.5 &&
         box.origin.x + box.size.width <= gtk_widget_get_width (scrolled) + 0.5;
}

GtkWindow *
tke_test_find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels (); /* transfer none */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      GtkWindow *window = g_list_model_get_item (toplevels, i);

      g_object_unref (window); /* the toplevels list keeps it */
      if (g_type_is_a (G_OBJECT_TYPE (window), type) &&
          gtk_widget_get_visible (GTK_WIDGET (window)))
        return window;
    }
  return NULL;
}

static gboolean
always_false (gpointer data)
{
  return FALSE;
}

void
tke_test_iterate (guint ms)
{
  tke_test_wait_until (always_false, NULL, ms);
}

gboolean
tke_test_gtk_can_run (const char *const *env)
{
  if (!tke_test_have_display ())
    {
      g_print ("1..0 # SKIP no display; run the gui suite under xvfb-run\n");
      return FALSE;
    }
  for (guint i = 0; env != NULL && env[i] != NULL; i++)
    if (g_getenv (env[i]) == NULL)
      {
        g_print ("1..0 # SKIP run from meson test\n");
        return FALSE;
      }
  return TRUE;
}

static void
setenv_below (const char *variable, const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_setenv (variable, path, TRUE);
}

char *
tke_test_gtk_private_home (const char *tmpl)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp (tmpl, &error);

  g_assert_no_error (error);
  /* Read once by GLib: set before anything asks for them. */
  setenv_below ("XDG_CONFIG_HOME", dir, "config");
  setenv_below ("XDG_STATE_HOME", dir, "state");
  setenv_below ("SECRET_FILE_TEST_PATH", dir, "keyring");
  /* libsecret's file backend: no Secret Service needed, nothing of the
   * person's keyring touched. */
  g_setenv ("SECRET_BACKEND", "file", TRUE);
  g_setenv ("SECRET_FILE_TEST_PASSWORD", "test", TRUE);
  return dir;
}

void
tke_test_gtk_init (int *argc, char ***argv)
{
  if (g_getenv ("TKE_TEST_DEBUG") != NULL)
    g_setenv ("G_MESSAGES_DEBUG", g_getenv ("TKE_TEST_DEBUG"), TRUE);
  gtk_test_init (argc, argv, NULL);
  adw_init ();
}

TkeApplication *
tke_test_gtk_application_new (void)
{
  TkeApplication *app = tke_application_new ();

  /* Tests run in parallel on one session bus: each its own instance. */
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, NULL);
  return app;
}

static gboolean
no_login_dialog (gpointer data)
{
  return tke_test_find_toplevel (TKE_TYPE_LOGIN_DIALOG) == NULL;
}

void
tke_test_log_in (GtkWidget *window, const char *api_key)
{
  TkeLoginDialog *dialog;
  GtkWidget *entry;

  gtk_widget_activate_action (window, "win.log-in", NULL);
  dialog = TKE_LOGIN_DIALOG (tke_test_find_toplevel (TKE_TYPE_LOGIN_DIALOG));
  g_assert_nonnull (dialog);
  entry =
      tke_test_find_widget_of_type (GTK_WIDGET (dialog), ADW_TYPE_PASSWORD_ENTRY_ROW, NULL, NULL);
  g_assert_nonnull (entry);
  gtk_editable_set_text (GTK_EDITABLE (entry), api_key);
  tke_test_click (tke_test_find_button (GTK_WIDGET (dialog), "Log In"));
  /* The key is not kept in the entry once sent. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "");
  g_assert_true (tke_test_wait_until (no_login_dialog, NULL, 20000));
}

static gboolean
popover_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data);
}

GtkWidget *
tke_test_popup (GtkMenuButton *button)
{
  GtkWidget *popover = GTK_WIDGET (gtk_menu_button_get_popover (button));

  gtk_menu_button_popup (button);
  g_assert_true (tke_test_wait_until (popover_mapped, popover, 5000));
  return popover;
}

GtkWidget *
tke_test_menu_item (GtkWidget *popover, const char *text)
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

void
tke_test_pick_card (TkeReadersBar *bar, guint reader, const char *item, const char *screenshot)
{
  GtkMenuButton *button = tke_readers_bar_get_card_button (bar, reader);
  GtkWidget *popover;

  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (button)));
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (button)));
  popover = tke_test_popup (button);
  if (screenshot != NULL)
    tke_test_save_screenshot (popover, screenshot);
  g_signal_emit_by_name (tke_test_menu_item (popover, item), "clicked");
  gtk_menu_button_popdown (button);
}
