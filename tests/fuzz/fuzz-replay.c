/* fuzz-replay.c: main() of a fuzz target in builds without libFuzzer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs LLVMFuzzerTestOneInput once on every file named on the command line
 * and on every file in every directory named (sorted, so that a failure
 * names the same input each time), so that `meson test --suite fuzz`
 * replays the committed corpus with gcc and the sanitizers of the build.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
replay_file (const char *path)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree uint8_t *exact = NULL;
  gsize size = 0;

  if (!g_file_get_contents (path, &contents, &size, &error))
    {
      fprintf (stderr, "fuzz-replay: %s\n", error->message);
      exit (1);
    }
  /* A buffer of exactly the input's size (g_file_get_contents adds a NUL),
   * so that AddressSanitizer sees a read one byte past the end. */
  exact = g_malloc (MAX (size, 1));
  memcpy (exact, contents, size);
  printf ("fuzz-replay: %s (%" G_GSIZE_FORMAT " bytes)\n", path, size);
  fflush (stdout);
  LLVMFuzzerTestOneInput (exact, size);
}

static guint
replay_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    replay_file (names->pdata[i]);
  return names->len;
}

int
main (int argc, char **argv)
{
  guint count = 0;

  fuzz_init ();
  for (int i = 1; i < argc; i++)
    {
      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        count += replay_dir (argv[i]);
      else
        {
          replay_file (argv[i]);
          count++;
        }
    }
  if (count == 0)
    {
      fprintf (stderr, "fuzz-replay: no input (an empty corpus tests nothing)\n");
      return 1;
    }
  printf ("fuzz-replay: %u inputs, no failure\n", count);
  return 0;
}
