/* tke-test-util.c: see tke-test-util.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "tke-test-util.h"

#include <string.h>

#include <glib/gstdio.h>

void
tke_test_async_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
on_await_timeout (gpointer user_data)
{
  g_error ("no answer within %u s", GPOINTER_TO_UINT (user_data));
  return G_SOURCE_REMOVE;
}

GAsyncResult *
tke_test_await (GAsyncResult **slot, guint timeout_s)
{
  guint guard = 0;

  /* A guard, not a sleep: the loop wakes as soon as the result is in. */
  if (timeout_s > 0)
    guard = g_timeout_add_seconds (timeout_s, on_await_timeout, GUINT_TO_POINTER (timeout_s));
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (guard != 0)
    g_source_remove (guard);
  return *slot;
}

void
tke_test_remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        tke_test_remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

guint
tke_test_count (const char *text, const char *needle)
{
  guint n = 0;

  for (const char *at = strstr (text, needle); at != NULL; at = strstr (at + 1, needle))
    n++;
  return n;
}
