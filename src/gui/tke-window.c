/* tke-window.c: the main window, with the Crypto units and Master keys tabs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-window.h"

struct _TkeWindow
{
  AdwApplicationWindow parent_instance;

  GSettings *settings;

  AdwViewStack *stack;
};

G_DEFINE_FINAL_TYPE (TkeWindow, tke_window, ADW_TYPE_APPLICATION_WINDOW)

TkeWindow *
tke_window_new (TkeApplication *application)
{
  return g_object_new (TKE_TYPE_WINDOW, "application", application, NULL);
}

/* The window remembers its size and last tab; GSettings writes them out
 * when the window goes, so nothing is written on every resize. */
static void
bind_settings (TkeWindow *self)
{
  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "last-page", self->stack, "visible-child-name", G_SETTINGS_BIND_DEFAULT);
}

static void
tke_window_dispose (GObject *object)
{
  TkeWindow *self = TKE_WINDOW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (tke_window_parent_class)->dispose (object);
}

static void
tke_window_class_init (TkeWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/tke-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, stack);
}

static void
tke_window_init (TkeWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (APP_ID);
  bind_settings (self);
}
