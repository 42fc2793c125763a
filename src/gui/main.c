/* main.c: tke-gtk
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "tke-application.h"

/* Whether OpenGL here can be drawn by a GPU: a DRM device (Mesa's
 * drivers) or Nvidia's own driver that this user may open, and Mesa not
 * told to rasterise in software. */
static gboolean
have_gpu (void)
{
  const char *software = g_getenv ("LIBGL_ALWAYS_SOFTWARE");
  g_autoptr (GDir) dri = NULL;
  const char *name;

  if (software != NULL && *software != '\0' && !g_str_equal (software, "0") &&
      g_ascii_strcasecmp (software, "false") != 0)
    return FALSE;
  if (g_access ("/dev/nvidiactl", R_OK | W_OK) == 0)
    return TRUE;
  dri = g_dir_open ("/dev/dri", 0, NULL);
  while (dri != NULL && (name = g_dir_read_name (dri)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/dev/dri", name, NULL);

      if ((g_str_has_prefix (name, "renderD") || g_str_has_prefix (name, "card")) &&
          g_access (path, R_OK | W_OK) == 0)
        return TRUE;
    }
  return FALSE;
}

/* The renderer, chosen before GTK starts (and before any thread: setenv
 * is not thread-safe).  GTK 4.8 draws with OpenGL whenever it gets a GL
 * context, and Mesa always gives one: without a GPU (a virtual machine,
 * Xvfb in CI, a thin client) it is llvmpipe, OpenGL run on the CPU.  There
 * GDK loads LLVM to open the display and GSK's GL renderer compiles its
 * shaders before the first frame: on a 2-core VM under Xvfb the first
 * frame comes after about 0.75 s of CPU instead of 0.3 s
 * (tests/bench/startup-bench), and later frames cost more too (the GUI
 * suite runs in half the time with cairo).
 * The cairo renderer is GSK's renderer for drawing on the CPU, and it
 * draws this application's labels, lists and buttons the same (the GUI
 * tests' screenshots under both match but for glyph antialiasing).  So
 * without a GPU cairo draws, and GDK does not start OpenGL at all.  A
 * GSK_RENDERER that is set wins (GSK_RENDERER=gl brings OpenGL back), a
 * GDK_DEBUG that is set is left alone; both are inherited by what this
 * process starts. */
static void
choose_renderer (void)
{
  if (g_getenv ("GSK_RENDERER") != NULL || have_gpu ())
    return;
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("GDK_DEBUG", "gl-disable", FALSE);
}

int
main (int argc, char **argv)
{
  g_autoptr (TkeApplication) app = NULL;
  gint64 *start = g_new (gint64, 1);

  *start = g_get_monotonic_time ();
  choose_renderer ();

  tke_application_init_i18n ();

  g_set_application_name (_ ("Trusted Key Entry"));

  app = tke_application_new ();
  g_object_set_data_full (G_OBJECT (app), "tke-start-time", start, g_free);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
