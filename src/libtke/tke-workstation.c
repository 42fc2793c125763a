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
 *   unit-root=04…   (the pinned unit root, 266 hex: see tke-unit-identity.h)
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
#include <unistd.h>

#include "tke-error.h"
#include "tke-workstation.h"

#define PROFILE_NAME "profile.ini"

/**
 * TkeWorkstation:
 *
 * The profile of the workstation: the service endpoint, its CA file and the
 * service instance, the selected crypto units and signature keys, and the
 * directory of the key files.
 *
 * The profile is a key file, `$XDG_CONFIG_HOME/tke/profile.ini`. It holds no
 * secret: the API key and the token are in the keyring (see
 * tke_credentials_store()). The key files live in one directory, named by
 * KEYNUM as the service's own command line lists them: `1.sigkey`,
 * `2.sigkey`, `1.keypart`, …
 */
struct _TkeWorkstation
{
  GObject parent_instance;

  char *config_dir;
  char *profile_path;
  char *files_dir;

  char *endpoint;
  char *ca_file;
  char *instance_id;
  char *unit_root;
  GArray *selected_units;
  GArray *selected_sigkeys;
};

G_DEFINE_FINAL_TYPE (TkeWorkstation, tke_workstation, G_TYPE_OBJECT)

/**
 * tke_workstation_new: (constructor)
 * @config_dir: (nullable): the profile's directory, %NULL for `$XDG_CONFIG_HOME/tke`
 * @files_dir: (nullable): the key files directory, %NULL for `$TKE_FILES` or
 *   `$XDG_DATA_HOME/tke/files`
 *
 * Creates a workstation; tke_workstation_load() reads its profile.
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
  /* The raw value, split here: GLib 2.74's g_key_file_get_integer_list()
   * warns ("GError set over the top") on a bad escape in a list, and a
   * profile is input we must read without warnings.  Numbers need no
   * escapes; anything that is not a positive number is skipped. */
  g_autofree char *raw = g_key_file_get_value (file, "selection", key, NULL);
  g_auto (GStrv) items = raw != NULL ? g_strsplit (raw, ";", -1) : NULL;

  g_array_set_size (*target, 0);
  for (guint i = 0; items != NULL && items[i] != NULL; i++)
    {
      guint64 number;
      guint value;

      if (!g_ascii_string_to_unsigned (g_strstrip (items[i]), 10, 1, G_MAXINT, &number, NULL))
        continue;
      value = (guint) number;
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
 * @self: a workstation
 * @error: return location for a #GError
 *
 * Reads the profile; a missing profile is an empty one.
 *
 * Returns: %TRUE unless the profile exists and cannot be read
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
  g_free (self->unit_root);
  self->unit_root = read_string (file, "unit-root");
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

/**
 * tke_workstation_save:
 * @self: a workstation
 * @error: return location for a #GError
 *
 * Writes the profile (mode 0600), replacing the old one in one step.
 *
 * Returns: %TRUE when the profile is written
 */
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
  if (self->unit_root != NULL)
    g_key_file_set_string (file, "service", "unit-root", self->unit_root);
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

/**
 * tke_workstation_get_profile_path:
 * @self: a workstation
 *
 * The file the profile is read from and written to.
 *
 * Returns: (transfer none): its path
 */
const char *
tke_workstation_get_profile_path (TkeWorkstation *self)
{
  g_return_val_if_fail (TKE_IS_WORKSTATION (self), NULL);
  return self->profile_path;
}

/**
 * tke_workstation_get_files_dir:
 * @self: a workstation
 *
 * The directory of the key files.
 *
 * Returns: (transfer none): its path
 */
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

/**
 * tke_workstation_get_endpoint:
 * @self: a workstation
 *
 * The URL of the crypto-unit service.
 *
 * Returns: (nullable): the endpoint, or %NULL when not set
 */
/**
 * tke_workstation_set_endpoint:
 * @self: a workstation
 * @endpoint: (nullable): the URL of the service; %NULL or "" unsets it
 *
 * Sets the URL of the crypto-unit service.
 */
STRING_ACCESSORS (endpoint, endpoint)
/**
 * tke_workstation_get_ca_file:
 * @self: a workstation
 *
 * The CA certificates the service's certificate is verified against.
 *
 * Returns: (nullable): the path of a PEM file, or %NULL for the system's CAs
 */
/**
 * tke_workstation_set_ca_file:
 * @self: a workstation
 * @ca_file: (nullable): the path of a PEM file; %NULL or "" unsets it
 *
 * Sets the CA certificates the service's certificate is verified against.
 */
STRING_ACCESSORS (ca_file, ca_file)
/**
 * tke_workstation_get_instance_id:
 * @self: a workstation
 *
 * The service instance the workstation works with.
 *
 * Returns: (nullable): the instance id, or %NULL when not set
 */
/**
 * tke_workstation_set_instance_id:
 * @self: a workstation
 * @instance_id: (nullable): the instance id; %NULL or "" unsets it
 *
 * Sets the service instance the workstation works with.
 */
STRING_ACCESSORS (instance_id, instance_id)
/**
 * tke_workstation_get_unit_root:
 * @self: a workstation
 *
 * The pinned unit root: the public point (266 hex digits) every crypto
 * unit's certificate chain must lead to.
 *
 * Returns: (nullable): the pinned root, or %NULL when none is pinned
 */
/**
 * tke_workstation_set_unit_root:
 * @self: a workstation
 * @unit_root: (nullable): the root's point in hex; %NULL or "" unsets it
 *
 * Pins the unit root.  Only for a person's deliberate confirmation (the
 * first login, `tke unit-root-pin`): a root is never re-pinned silently.
 */
STRING_ACCESSORS (unit_root, unit_root)

/**
 * tke_workstation_get_selected_units:
 * @self: a workstation
 *
 * The crypto units selected for the ceremonies, as the command line's
 * `cryptounit-add` keeps them.
 *
 * Returns: (transfer none) (element-type guint): the selected CRYPTO UNIT NUMs, sorted
 */
GArray *
tke_workstation_get_selected_units (TkeWorkstation *self)
{
  g_return_val_if_fail (TKE_IS_WORKSTATION (self), NULL);
  return self->selected_units;
}

/**
 * tke_workstation_set_selected_units:
 * @self: a workstation
 * @numbers: (element-type guint) (nullable): CRYPTO UNIT NUMs
 *
 * Sets the selected crypto units; they are kept sorted, without duplicates.
 */
void
tke_workstation_set_selected_units (TkeWorkstation *self, GArray *numbers)
{
  g_return_if_fail (TKE_IS_WORKSTATION (self));
  set_numbers (&self->selected_units, numbers);
}

/**
 * tke_workstation_is_unit_selected:
 * @self: a workstation
 * @number: a CRYPTO UNIT NUM
 *
 * Whether the unit @number is selected.
 *
 * Returns: %TRUE if selected
 */
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
 * @self: a workstation
 *
 * The signature key files that sign the commands, as the command line's
 * `sigkey-sel` keeps them.
 *
 * Returns: (transfer none) (element-type guint): the KEYNUMs selected for signing, sorted
 */
GArray *
tke_workstation_get_selected_signature_keys (TkeWorkstation *self)
{
  g_return_val_if_fail (TKE_IS_WORKSTATION (self), NULL);
  return self->selected_sigkeys;
}

/**
 * tke_workstation_set_selected_signature_keys:
 * @self: a workstation
 * @keynums: (element-type guint) (nullable): KEYNUMs of signature key files
 *
 * Sets the signature key files that sign; they are kept sorted, without
 * duplicates.
 */
void
tke_workstation_set_selected_signature_keys (TkeWorkstation *self, GArray *keynums)
{
  g_return_if_fail (TKE_IS_WORKSTATION (self));
  set_numbers (&self->selected_sigkeys, keynums);
}

/**
 * tke_workstation_ensure_files_dir:
 * @self: a workstation
 * @error: return location for a #GError
 *
 * Makes the key files directory (mode 0700) if it is not there.
 *
 * Returns: %TRUE if the directory exists
 */
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
 * @self: a workstation
 * @kind: signature keys or key parts
 * @error: return location for a #GError
 *
 * Lists the key files of one kind in the key files directory.
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
 * @self: a workstation
 * @kind: signature key or key part
 * @keynum: a KEYNUM
 *
 * The path of a key file in the key files directory.
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
 * @self: a workstation
 * @kind: signature keys or key parts
 * @error: return location for a #GError
 *
 * The KEYNUM for a new key file.
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

/**
 * tke_workstation_new_staging_path:
 * @self: the workstation
 * @kind: the kind of key file to be written
 * @error: why the staging directory cannot be made
 *
 * Where to write a new key file before it gets its KEYNUM: a path in a
 * fresh private directory inside the files directory (so that installing
 * it is a link on one file system), which no listing counts.
 *
 * Returns: (transfer full): the path (which does not exist yet), or %NULL
 */
char *
tke_workstation_new_staging_path (TkeWorkstation *self, TkeKeyFileKind kind, GError **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *name = NULL;

  g_return_val_if_fail (TKE_IS_WORKSTATION (self), NULL);

  if (!tke_workstation_ensure_files_dir (self, error))
    return NULL;
  dir = g_build_filename (self->files_dir, ".new-XXXXXX", NULL);
  if (g_mkdtemp_full (dir, 0700) == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("“%s” cannot be created: %s"), dir,
                   g_strerror (errno));
      return NULL;
    }
  name = g_strconcat ("new", suffix_for (kind), NULL);
  return g_build_filename (dir, name, NULL);
}

/**
 * tke_workstation_discard_staging_path:
 * @staging_path: (nullable): a path from tke_workstation_new_staging_path()
 *
 * Removes the staged file (if any) and its directory.
 */
void
tke_workstation_discard_staging_path (const char *staging_path)
{
  g_autofree char *dir = NULL;

  if (staging_path == NULL)
    return;
  dir = g_path_get_dirname (staging_path);
  g_unlink (staging_path);
  g_rmdir (dir);
}

/**
 * tke_workstation_install_key_file:
 * @self: the workstation
 * @kind: the kind of key file
 * @staging_path: the complete file, written at a path from
 *   tke_workstation_new_staging_path()
 * @error: why it could not be installed
 *
 * Gives the staged file the next free KEYNUM.  The name is taken with
 * link(2), which fails if it exists: two processes that add key files at
 * once get different KEYNUMs, and no file is ever overwritten.  The staged
 * path and its directory are removed.
 *
 * Returns: the KEYNUM, or 0 with @error
 */
guint
tke_workstation_install_key_file (TkeWorkstation *self,
                                  TkeKeyFileKind kind,
                                  const char *staging_path,
                                  GError **error)
{
  g_return_val_if_fail (TKE_IS_WORKSTATION (self), 0);
  g_return_val_if_fail (staging_path != NULL, 0);

  for (guint attempt = 0; attempt < 1000; attempt++)
    {
      guint keynum = tke_workstation_next_keynum (self, kind, error);
      g_autofree char *path = NULL;

      if (keynum == 0)
        return 0;
      path = tke_workstation_get_key_file_path (self, kind, keynum);
      if (link (staging_path, path) == 0)
        {
          tke_workstation_discard_staging_path (staging_path);
          return keynum;
        }
      if (errno != EEXIST)
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("“%s” cannot be created: %s"), path,
                       g_strerror (errno));
          return 0;
        }
      /* Another process took this KEYNUM a moment ago: the next one. */
    }
  g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("No free KEYNUM in %s."), self->files_dir);
  return 0;
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
  g_free (self->unit_root);
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
