/* tke-widget-util.h: small helpers the widgets share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A GtkWidget subclass owns its children: after its template is gone,
 * what is left (children not bound to fields) must be unparented too. */
static inline void
tke_widget_unparent_children (GtkWidget *widget)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (widget)) != NULL)
    gtk_widget_unparent (child);
}

G_END_DECLS
