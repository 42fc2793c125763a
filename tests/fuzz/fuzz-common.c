/* fuzz-common.c: what every libFuzzer target of tests/fuzz shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

static char *tmpdir;

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
remove_tmpdir (void)
{
  if (tmpdir != NULL)
    remove_tree (tmpdir);
}

static void
make_tmpdir (void)
{
  /* TKE_FUZZ_TMPDIR: build-aux/fuzz's scratch directory, which it removes
   * even when a crash skips atexit (). */
  const char *env = g_getenv ("TKE_FUZZ_TMPDIR");
  const char *base =
      env != NULL ? env
      : g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) && g_access ("/dev/shm", W_OK) == 0
          ? "/dev/shm"
          : g_get_tmp_dir ();
  g_autofree char *template = g_build_filename (base, "tke-fuzz-XXXXXX", NULL);
  static const char *const xdg[] = { "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
                                     "XDG_CACHE_HOME", "XDG_RUNTIME_DIR" };

  if (g_mkdtemp (template) == NULL)
    fuzz_fail ("cannot create a temporary directory in %s", base);
  tmpdir = g_steal_pointer (&template);
  atexit (remove_tmpdir);
  for (gsize i = 0; i < G_N_ELEMENTS (xdg); i++)
    {
      g_autofree char *dir = g_build_filename (tmpdir, xdg[i], NULL);

      g_mkdir_with_parents (dir, 0700);
      g_setenv (xdg[i], dir, TRUE);
    }
}

/* GLib's fatal log raises SIGTRAP, which libFuzzer does not catch: it
 * would not save the input.  abort() it is. */
static GLogWriterOutput
abort_on_warning (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  GLogWriterOutput out = g_log_writer_standard_streams (level, fields, n_fields, data);
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    abort ();
  return out;
}

void
fuzz_init (void)
{
  static gsize once;

  if (!g_once_init_enter (&once))
    return;
  /* A critical is a precondition the input broke: a bug, as in the
   * tests (G_DEBUG=fatal-criticals). */
  g_log_set_writer_func (abort_on_warning, NULL, NULL);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  make_tmpdir ();
  g_once_init_leave (&once, 1);
}

const char *
fuzz_tmpdir (void)
{
  fuzz_init ();
  return tmpdir;
}

char *
fuzz_write_file (const char *name, const uint8_t *data, size_t size)
{
  char *path = g_build_filename (fuzz_tmpdir (), name, NULL);
  g_autoptr (GError) error = NULL;

  /* G_FILE_SET_CONTENTS_NONE writes in place without truncating. */
  g_unlink (path);
  if (!g_file_set_contents_full (path, (const char *) data, (gssize) size, G_FILE_SET_CONTENTS_NONE,
                                 0600, &error))
    fuzz_fail ("cannot write %s: %s", path, error->message);
  return path;
}

gboolean
fuzz_contains (const uint8_t *haystack, size_t size, const void *needle, size_t length)
{
  if (length == 0 || size < length)
    return FALSE;
  for (size_t i = 0; i + length <= size; i++)
    if (haystack[i] == *(const uint8_t *) needle && memcmp (haystack + i, needle, length) == 0)
      return TRUE;
  return FALSE;
}

void
fuzz_fail (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  fputs ("fuzz: oracle failed: ", stderr);
  vfprintf (stderr, format, args);
  fputc ('\n', stderr);
  va_end (args);
  abort ();
}
