/* tke-workstation.c: the workstation's profile and key files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The profile is a key file, $XDG_CONFIG_HOME/tke/profile.ini:
 *
 *   [service]
 *   endpoint=https://127.0.0.1:40123
 *   ca-file=/path/ca.pem
 *   instance=…
 *   [selection]
 *   crypto-units=1;2;
 *   signature-keys=1;
 *
 * It holds no secret: the API key and the token are in the keyring
 * (tke-credentials.c).  Key files live in one directory, named by KEYNUM
 * as the service's own CLI lists them: 1.sigkey, 2.sigkey, 1.keypart, …
 */

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "tke-error.h"
#include "tke-workstation.h"

#define PROFILE_NAME "profile.ini"

struct _TkeWorkstation
{
  GObject parent_instance;

  char *config_dir;
  char *profile_path;
  char *files_dir;

  char *endpoint;
  char *ca_file;
  char *instance_id;
  GArray *selected_units;
  GArray *selected_sigkeys;
};

G_DEFINE_FINAL_TYPE (TkeWorkstation, tke_workstation, G_TYPE_OBJECT)

/**
 * tke_workstation_new:
 * @config_dir: (nullable): the profile's directory
 * @files_dir: (nullable): the key files directory
 *
 * Returns: (transfer full): a workstation with an empty profile
 */
TkeWorkstation *
tke_workstation_new (const char *config_dir, const char *files_dir)
{
  TkeWorkstation *self = g_object_new (TKE_TYPE_WORKSTATION, NULL);
  /* CLOUDTKEFILES is the service plug-in's name for the directory, so
   * that administrators who set it for the plug-in find their files;
   * TKE_FILES, tke's own, wins when both are set. */
  const char *env_files = g_getenv ("TKE_FILES");

  if (env_files == NULL || *env_files == '\0')
    env_files = g_getenv ("CLOUDTKEFILES");

  if (config_dir != NULL)
    self->config_dir = g_strdup (config_dir);
  else
    self->config_dir = g_build_filename (g_get_user_config_dir (), "tke", NULL);
  self->profile_path = g_build_filename (self->config_dir, PROFILE_NAME, NULL);

  if (files_dir != NULL)
    self->files_dir = g_strdup (files_dir);
  else if (env_files != NULL && *env_files != '\0')
    self->files_dir = g_strdup (env_files);
  else
    self->files_dir = g_build_filename (g_get_user_data_dir (), "tke", "files", NULL);
  return self;
}

static int
compare_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return (x > y) - (x < y);
}

static void
sort_unique (GArray *numbers)
{
  guint out = 0;

  g_array_sort (numbers, compare_uint);
  for (guint i = 0; i < numbers->len; i++)
    if (out == 0 || g_array_index (numbers, guint, i) != g_array_index (numbers, guint, out - 1))
      g_array_index (numbers, guint, out++) = g_array_index (numbers, guint, i);
  g_array_set_size (numbers, out);
}

static void
set_numbers (GArray **target, GArray *numbers)
{
  g_array_set_size (*target, 0);
  if (numbers != NULL)
    g_array_append_vals (*target, numbers->data, numbers->len);
  sort_unique (*target);
}

static void
read_numbers (GKeyFile *file, const char *key, GArray **target)
{
  g_autofree gint *values = NULL;
  gsize n = 0;

  g_array_set_size (*target, 0);
  values = g_key_file_get_integer_list (file, "selection", key, &n, NULL);
  for (gsize i = 0; i < n; i++)
    if (values[i] > 0)
      {
        guint value = (guint) values[i];
        g_array_append_val (*target, value);
      }
  sort_unique (*target);
}

static char *
read_string (GKeyFile *file, const char *key)
{
  char *value = g_key_file_get_string (file, "service", key, NULL);

  if (value != NULL && *value == '\0')
    g_clear_pointer (&value, g_free);
  return value;
}

/**
 * tke_workstation_load:
 *
 * Reads the profile; a missing profile is an empty one.
 */
gboolean
tke_workstation_load (TkeWorkstation *self, GError **error)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (TKE_IS_WORKSTATION (self), FALSE);

  if (!g_key_file_load_from_file (file, self->profile_path, G_KEY_FILE_NONE, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The profile “%s” cannot be read: %s"),
                   self->profile_path, local_error->message);
      return FALSE;
    }
  g_free (self->endpoint);
  self->endpoint = read_string (file, "endpoint");
  g_free (self->ca_file);
  self->ca_file = read_string (file, "ca-file");
  g_free (self->instance_id);
  self->instance_id = read_string (file, "instance");
  read_numbers (file, "crypto-units", &self->selected_units);
  read_numbers (file, "signature-keys", &self->selected_sigkeys);
  return TRUE;
}

static void
write_numbers (GKeyFile *file, const char *key, GArray *numbers)
{
  g_autofree gint *values = g_new0 (gint, numbers->len + 1);

  for (guint i = 0; i < numbers->len; i++)
    values[i] = (gint) g_array_index (numbers, guint, i);
  g_key_file_set_integer_list (file, "selection", key, values, numbers->len);
}

gboolean
tke_workstation_save (TkeWorkstation *self, GError **error)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;
  g_autofree char *text = NULL;

  g_return_val_if_fail (TKE_IS_WORKSTATION (self), FALSE);

  g_key_file_set_string (file, "service", "endpoint", self->endpoint ? self->endpoint : "");
  g_key_file_set_string (file, "service", "ca-file", self->ca_file ? self->ca_file : "");
  g_key_file_set_string (file, "service", "instance", self->instance_id ? self->instance_id : "");
  write_numbers (file, "crypto-units", self->selected_units);
  write_numbers (file, "signature-keys", self->selected_sigkeys);
  text = g_key_file_to_data (file, NULL, NULL);

  if (g_mkdir_with_parents (self->config_dir, 0700) != 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The directory “%s” cannot be created: %s"),
                   self->config_dir, g_strerror (errno));
      return FALSE;
    }
  if (!g_file_set_contents_full (self->profile_path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                 &local_error))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The profile “%s” cannot be written: %s"),
                   self->profile_path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

const char *
tke_workstation_get_profile_path (TkeWorkstation *self)
{
  g_return_val_if_fail (TKE_IS_WORKSTATION (self), NULL);
  return self->profile_path;
}

const char *
tke_workstation_get_files_dir (TkeWorkstation *self)
{
  g_return_val_if_fail (TKE_IS_WORKSTATION (self), NULL);
  return self->files_dir;
}

#define STRING_ACCESSORS(field, name)                                                              \
  const char *tke_workstation_get_##name (TkeWorkstation *self)                                    \
  {                                                                                                \
    g_return_val_if_fail (TKE_IS_WORKSTATION (self), NULL);                                        \
    return self->field;                                                                            \
  }                                                                                                \
  void tke_workstation_set_##name (TkeWorkstation *self, const char *value)                        \
  {                                                                                                \
    g_return_if_fail (TKE_IS_WORKSTATION (self));                                                  \
    g_free (self->field);                                                                          \
    self->field = (value != NULL && *value != '\0') ? g_strdup (value) : NULL;                     \
  }

STRING_ACCESSORS (endpoint, endpoint)
STRING_ACCESSORS (ca_file, ca_file)
STRING_ACCESSORS (instance_id, instance_id)

/**
 * tke_workstation_get_selected_units:
 *
 * Returns: (transfer none) (element-type guint): the selected CRYPTO UNIT NUMs
 */
GArray *
tke_workstation_get_selected_units (TkeWorkstation *self)
{
  g_return_val_if_fail (TKE_IS_WORKSTATION (self), NULL);
  return self->selected_units;
}

/**
 * tke_workstation_set_selected_units:
 * @numbers: (element-type guint) (nullable): CRYPTO UNIT NUMs
 */
void
tke_workstation_set_selected_units (TkeWorkstation *self, GArray *numbers)
{
  g_return_if_fail (TKE_IS_WORKSTATION (self));
  set_numbers (&self->selected_units, numbers);
}

gboolean
tke_workstation_is_unit_selected (TkeWorkstation *self, guint number)
{
  g_return_val_if_fail (TKE_IS_WORKSTATION (self), FALSE);

  for (guint i = 0; i < self->selected_units->len; i++)
    if (g_array_index (self->selected_units, guint, i) == number)
      return TRUE;
  return FALSE;
}

/**
 * tke_workstation_get_selected_signature_keys:
 *
 * Returns: (transfer none) (element-type guint): the KEYNUMs selected for signing
 */
GArray *
tke_workstation_get_selected_signature_keys (TkeWorkstation *self)
{
  g_return_val_if_fail (TKE_IS_WORKSTATION (self), NULL);
  return self->selected_sigkeys;
}

/**
 * tke_workstation_set_selected_signature_keys:
 * @keynums: (element-type guint) (nullable): KEYNUMs of signature key files
 */
void
tke_workstation_set_selected_signature_keys (TkeWorkstation *self, GArray *keynums)
{
  g_return_if_fail (TKE_IS_WORKSTATION (self));
  set_numbers (&self->selected_sigkeys, keynums);
}

gboolean
tke_workstation_ensure_files_dir (TkeWorkstation *self, GError **error)
{
  g_return_val_if_fail (TKE_IS_WORKSTATION (self), FALSE);

  if (g_mkdir_with_parents (self->files_dir, 0700) != 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The directory “%s” cannot be created: %s"),
                   self->files_dir, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static const char *
suffix_for (TkeKeyFileKind kind)
{
  return kind == TKE_KEY_FILE_KEY_PART ? TKE_KEY_PART_SUFFIX : TKE_SIGNATURE_KEY_SUFFIX;
}

/* KEYNUM of a name such as "12.sigkey", or 0. */
static guint
keynum_of (const char *name, const char *suffix)
{
  gsize digits = strlen (name) - strlen (suffix);
  guint64 value = 0;

  if (!g_str_has_suffix (name, suffix) || digits == 0 || digits > 6 || name[0] == '0')
    return 0;
  for (gsize i = 0; i < digits; i++)
    {
      if (!g_ascii_isdigit (name[i]))
        return 0;
      value = value * 10 + (guint64) (name[i] - '0');
    }
  return (guint) value;
}

/**
 * tke_workstation_list_key_files:
 * @kind: signature keys or key parts
 *
 * Returns: (transfer full) (element-type guint): the KEYNUMs present, sorted
 */
GArray *
tke_workstation_list_key_files (TkeWorkstation *self, TkeKeyFileKind kind, GError **error)
{
  g_autoptr (GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDir) dir = NULL;
  const char *name;

  g_return_val_if_fail (TKE_IS_WORKSTATION (self), NULL);

  dir = g_dir_open (self->files_dir, 0, &local_error);
  if (dir == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&numbers);
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO,
                   _ ("The key files directory “%s” cannot be read: %s"), self->files_dir,
                   local_error->message);
      return NULL;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      guint keynum = keynum_of (name, suffix_for (kind));

      if (keynum > 0)
        g_array_append_val (numbers, keynum);
    }
  sort_unique (numbers);
  return g_steal_pointer (&numbers);
}

/**
 * tke_workstation_get_key_file_path:
 *
 * Returns: (transfer full): the path of KEYNUM @keynum (which may not exist)
 */
char *
tke_workstation_get_key_file_path (TkeWorkstation *self, TkeKeyFileKind kind, guint keynum)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (TKE_IS_WORKSTATION (self), NULL);

  name = g_strdup_printf ("%u%s", keynum, suffix_for (kind));
  return g_build_filename (self->files_dir, name, NULL);
}

/**
 * tke_workstation_next_keynum:
 *
 * Returns: one more than the largest KEYNUM in use (1 for none), or 0 with
 *   an error; numbers are never reused while a larger one exists
 */
guint
tke_workstation_next_keynum (TkeWorkstation *self, TkeKeyFileKind kind, GError **error)
{
  g_autoptr (GArray) numbers = tke_workstation_list_key_files (self, kind, error);

  if (numbers == NULL)
    return 0;
  return numbers->len == 0 ? 1 : g_array_index (numbers, guint, numbers->len - 1) + 1;
}

static void
tke_workstation_finalize (GObject *object)
{
  TkeWorkstation *self = TKE_WORKSTATION (object);

  g_free (self->config_dir);
  g_free (self->profile_path);
  g_free (self->files_dir);
  g_free (self->endpoint);
  g_free (self->ca_file);
  g_free (self->instance_id);
  g_array_unref (self->selected_units);
  g_array_unref (self->selected_sigkeys);

  G_OBJECT_CLASS (tke_workstation_parent_class)->finalize (object);
}

static void
tke_workstation_class_init (TkeWorkstationClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tke_workstation_finalize;
}

static void
tke_workstation_init (TkeWorkstation *self)
{
  self->selected_units = g_array_new (FALSE, FALSE, sizeof (guint));
  self->selected_sigkeys = g_array_new (FALSE, FALSE, sizeof (guint));
}
