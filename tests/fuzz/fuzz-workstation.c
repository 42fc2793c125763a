/* fuzz-workstation.c: tke_workstation_load on any profile.ini
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The profile is a key file the user may edit by hand.  Oracle: what a
 * loaded profile says survives a save and a load unchanged (the settings
 * the GUI shows are the ones the next start reads).
 */

#include <string.h>

#include <glib/gstdio.h>
#include <tke.h>

#include "fuzz-common.h"

static void
same_numbers (GArray *a, GArray *b, const char *what)
{
  if (a->len != b->len ||
      (a->len > 0 && memcmp (a->data, b->data, a->len * g_array_get_element_size (a)) != 0))
    fuzz_fail ("the %s changed in a save and load", what);
  for (guint i = 1; i < a->len; i++)
    if (g_array_index (a, guint, i - 1) >= g_array_index (a, guint, i))
      fuzz_fail ("the %s are not sorted without duplicates", what);
  for (guint i = 0; i < a->len; i++)
    if (g_array_index (a, guint, i) == 0)
      fuzz_fail ("the %s hold 0", what);
}

static void
same_string (const char *a, const char *b, const char *what)
{
  if (g_strcmp0 (a, b) != 0)
    fuzz_fail ("the %s changed in a save and load: “%s” → “%s”", what, a, b);
  if (a != NULL && (*a == '\0' || !g_utf8_validate (a, -1, NULL)))
    fuzz_fail ("the %s is empty or not UTF-8", what);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *in_dir = NULL;
  g_autofree char *out_dir = NULL;
  g_autofree char *files_dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr (TkeWorkstation) loaded = NULL;
  g_autoptr (TkeWorkstation) copy = NULL;
  g_autoptr (TkeWorkstation) reloaded = NULL;
  GArray *units;
  GArray *keys;
  g_autoptr (GError) error = NULL;

  fuzz_init ();
  in_dir = g_build_filename (fuzz_tmpdir (), "profile-in", NULL);
  out_dir = g_build_filename (fuzz_tmpdir (), "profile-out", NULL);
  files_dir = g_build_filename (fuzz_tmpdir (), "files", NULL);
  g_mkdir_with_parents (in_dir, 0700);
  path = fuzz_write_file ("profile-in/profile.ini", data, size);

  loaded = tke_workstation_new (in_dir, files_dir);
  if (!tke_workstation_load (loaded, &error))
    {
      if (error == NULL || error->domain != TKE_ERROR || error->message[0] == '\0')
        fuzz_fail ("a refused profile without a TKE_ERROR message");
      return 0;
    }

  /* The same settings, written by another workstation object. */
  copy = tke_workstation_new (out_dir, files_dir);
  tke_workstation_set_endpoint (copy, tke_workstation_get_endpoint (loaded));
  tke_workstation_set_ca_file (copy, tke_workstation_get_ca_file (loaded));
  tke_workstation_set_instance_id (copy, tke_workstation_get_instance_id (loaded));
  units = tke_workstation_get_selected_units (loaded);
  keys = tke_workstation_get_selected_signature_keys (loaded);
  tke_workstation_set_selected_units (copy, units);
  tke_workstation_set_selected_signature_keys (copy, keys);
  if (!tke_workstation_save (copy, &error))
    fuzz_fail ("a loaded profile cannot be saved: %s", error->message);

  reloaded = tke_workstation_new (out_dir, files_dir);
  if (!tke_workstation_load (reloaded, &error))
    fuzz_fail ("a saved profile does not load: %s", error->message);
  same_string (tke_workstation_get_endpoint (loaded), tke_workstation_get_endpoint (reloaded),
               "endpoint");
  same_string (tke_workstation_get_ca_file (loaded), tke_workstation_get_ca_file (reloaded),
               "CA file");
  same_string (tke_workstation_get_instance_id (loaded), tke_workstation_get_instance_id (reloaded),
               "instance");
  {
    GArray *units2 = tke_workstation_get_selected_units (reloaded);
    GArray *keys2 = tke_workstation_get_selected_signature_keys (reloaded);

    same_numbers (units, units2, "selected units");
    same_numbers (keys, keys2, "selected signature keys");
    for (guint i = 0; i < units->len; i++)
      if (!tke_workstation_is_unit_selected (reloaded, g_array_index (units, guint, i)))
        fuzz_fail ("a selected unit is not selected");
  }
  return 0;
}
