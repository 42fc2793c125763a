/* main.c: tke-gtk
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>

#include <glib/gi18n.h>

#include "tke-application.h"

int
main (int argc,
      char **argv)
{
  g_autoptr(TkeApplication) app = NULL;
  gint64 *start = g_new (gint64, 1);

  *start = g_get_monotonic_time ();

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_application_name (_("Trusted Key Entry"));

  app = tke_application_new ();
  g_object_set_data_full (G_OBJECT (app), "tke-start-time", start, g_free);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
