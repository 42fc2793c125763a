/* tke-cli-keys.c: signature key files and key part files on the workstation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "tke-cli-common.h"
#include "tke-cli-keys.h"
#include "tke-cli-signserv.h"

/* The key file verbs also need the workstation's files directory. */
#define BEGIN_KEYS_VERB(parameters, description, entries)                                          \
  BEGIN_VERB (parameters, description, entries)                                                    \
  if (!tke_cli_context_open_workstation (ctx, &error))                                             \
    return tke_cli_fail (error);

/* With a signing service the signature key verbs do nothing, as in the
 * plug-in; they say so and list the service's keys. */
#define BEGIN_SIGKEY_VERB(parameters, description, entries)                                        \
  BEGIN_KEYS_VERB (parameters, description, entries)                                               \
  if (tke_cli_sigkeys_in_service (ctx, argv[0]))                                                   \
    return TKE_EXIT_OK;

#define KEYNUM_WIDTH 9
#define SKI_SHOWN 30

static guint
description_width (GPtrArray *descriptions)
{
  guint width = strlen ("DESCRIPTION");

  for (guint i = 0; i < descriptions->len; i++)
    width = MAX (width, g_utf8_strlen (descriptions->pdata[i], -1));
  return width + 3;
}

/* printf pads by bytes; pad by characters for UTF-8 descriptions. */
static void
print_padded (const char *text, guint width)
{
  glong length = g_utf8_strlen (text, -1);

  g_print ("%s%*s", text, (int) (width > length ? width - length : 1), "");
}

/* ---- Signature keys ------------------------------------------------------ */

static int
run_sigkey_add (int argc, char **argv)
{
  g_autofree char *name = NULL;
  gboolean legacy = FALSE;
  const GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name,
      N_ ("The administrator's name (up to 30 characters)"), N_ ("NAME") },
    { "legacy-kdf", 0, 0, G_OPTION_ARG_NONE, &legacy,
      N_ ("Protect the file with the plug-in's PBKDF2 instead of scrypt (weaker)"), NULL },
    G_OPTION_ENTRY_NULL
  };
  BEGIN_SIGKEY_VERB ("", _ ("Create an administrator signature key (ECDSA P-521) in a new file."),
                     entries);
  g_autoptr (TkeSecret) password = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (TkeSignatureKeyFile) file = NULL;
  g_autofree char *path = NULL;
  guint keynum;

  if (name == NULL &&
      (name = tke_cli_read_line (_ ("Enter an administrator name to be associated with the "
                                    "signature key:"),
                                 &error)) == NULL)
    return tke_cli_fail (error);
  if (*name == '\0' || g_utf8_strlen (name, -1) > TKE_MAX_ADMINISTRATOR_NAME)
    {
      g_printerr (_ ("An administrator name has 1 to 30 characters.\n"));
      return TKE_EXIT_USAGE;
    }
  password =
      tke_cli_read_new_password (ctx, _ ("Enter a password to protect the signature key:"), &error);
  if (password == NULL || (key = tke_crypto_ec_generate (&error)) == NULL ||
      (path = tke_workstation_new_staging_path (ctx->workstation, TKE_KEY_FILE_SIGNATURE_KEY,
                                                &error)) == NULL)
    return tke_cli_fail (error);
  /* Written first, then given its KEYNUM atomically (never overwriting). */
  if (!tke_signature_key_file_create (path, name, key, password,
                                      legacy ? TKE_KEY_FILE_KDF_PBKDF2 : TKE_KEY_FILE_KDF_SCRYPT,
                                      &error) ||
      (file = tke_signature_key_file_load (path, &error)) == NULL ||
      (keynum = tke_workstation_install_key_file (ctx->workstation, TKE_KEY_FILE_SIGNATURE_KEY,
                                                  path, &error)) == 0)
    {
      tke_workstation_discard_staging_path (path);
      return tke_cli_fail (error);
    }
  g_print ("KEYNUM %u: %s, SKI %s\n", keynum, name, tke_signature_key_file_get_ski (file));
  return tke_cli_ok ();
}

static gboolean
is_selected (GArray *selected, guint keynum)
{
  for (guint i = 0; i < selected->len; i++)
    if (g_array_index (selected, guint, i) == keynum)
      return TRUE;
  return FALSE;
}

/* The KDF column of sigkeys: the plug-in reads only the PBKDF2 layout. */
static const char *
kdf_name (TkeKeyFileKdf kdf)
{
  return kdf == TKE_KEY_FILE_KDF_SCRYPT ? "scrypt" : "pbkdf2 (plug-in)";
}

static int
run_sigkeys (int argc, char **argv)
{
  BEGIN_SIGKEY_VERB ("", _ ("List the signature key files on this workstation."), NULL);
  g_autoptr (GArray) keynums = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  GArray *selected = tke_workstation_get_selected_signature_keys (ctx->workstation);
  guint width;

  keynums = tke_workstation_list_key_files (ctx->workstation, TKE_KEY_FILE_SIGNATURE_KEY, &error);
  if (keynums == NULL)
    return tke_cli_fail (error);
  for (guint i = 0; i < keynums->len; i++)
    {
      g_autofree char *path = tke_workstation_get_key_file_path (
          ctx->workstation, TKE_KEY_FILE_SIGNATURE_KEY, g_array_index (keynums, guint, i));
      TkeSignatureKeyFile *file = tke_signature_key_file_load (path, &error);

      if (file == NULL)
        return tke_cli_fail (error);
      g_ptr_array_add (files, file);
      g_ptr_array_add (names, (gpointer) (tke_signature_key_file_get_admin_name (file)
                                              ? tke_signature_key_file_get_admin_name (file)
                                              : ""));
    }
  if (keynums->len == 0)
    {
      g_print (_ ("No signature key files in %s. Run “tke sigkey-add”.\n"),
               tke_workstation_get_files_dir (ctx->workstation));
      return TKE_EXIT_OK;
    }
  width = description_width (names);
  g_print ("%-*s", KEYNUM_WIDTH, "KEYNUM");
  print_padded ("DESCRIPTION", width);
  g_print ("%-36s%-10s%s\n", "SUBJECT KEY IDENTIFIER", "SELECTED", "KDF");
  for (guint i = 0; i < keynums->len; i++)
    {
      guint keynum = g_array_index (keynums, guint, i);
      g_autofree char *number = g_strdup_printf ("%u", keynum);
      g_autofree char *ski =
          g_strdup_printf ("%.*s...", SKI_SHOWN, tke_signature_key_file_get_ski (files->pdata[i]));

      g_print ("%-*s", KEYNUM_WIDTH, number);
      print_padded (names->pdata[i], width);
      g_print ("%-36s%-10s%s\n", ski, is_selected (selected, keynum) ? "true" : "false",
               kdf_name (tke_signature_key_file_get_kdf (files->pdata[i])));
    }
  return TKE_EXIT_OK;
}

static int
run_sigkey_sel (int argc, char **argv)
{
  BEGIN_SIGKEY_VERB (
      _ ("[KEYNUM…]"),
      _ ("Select the signature keys that sign commands. Each password is checked now "
         "and asked again when a command is signed."),
      NULL);
  g_autoptr (GArray) keynums = NULL;

  keynums = tke_cli_read_numbers (argc, argv,
                                  _ ("Enter the KEYNUM values to select as current signature "
                                     "keys, separated by spaces:"),
                                  &error);
  if (keynums == NULL)
    return tke_cli_fail (error);
  for (guint i = 0; i < keynums->len; i++)
    {
      guint keynum = g_array_index (keynums, guint, i);
      g_autofree char *path =
          tke_workstation_get_key_file_path (ctx->workstation, TKE_KEY_FILE_SIGNATURE_KEY, keynum);
      g_autofree char *prompt = g_strdup_printf (_ ("Enter the password for KEYNUM %u:"), keynum);
      g_autoptr (TkeSignatureKeyFile) file = NULL;
      g_autoptr (TkeSecret) password = NULL;
      g_autoptr (EVP_PKEY) key = NULL;

      if ((file = tke_signature_key_file_load (path, &error)) == NULL ||
          (password = tke_cli_read_password (ctx, prompt, &error)) == NULL ||
          (key = tke_signature_key_file_unlock (file, password, &error)) == NULL)
        return tke_cli_fail (error);
    }
  tke_workstation_set_selected_signature_keys (ctx->workstation, keynums);
  if (!tke_workstation_save (ctx->workstation, &error))
    return tke_cli_fail (error);
  return tke_cli_ok ();
}

static gboolean
parse_layout (const char *layout, TkeKeyFileKdf *kdf)
{
  if (g_strcmp0 (layout, "plugin") == 0)
    *kdf = TKE_KEY_FILE_KDF_PBKDF2;
  else if (g_strcmp0 (layout, "strong") == 0)
    *kdf = TKE_KEY_FILE_KDF_SCRYPT;
  else
    return FALSE;
  return TRUE;
}

static int
run_sigkey_convert (int argc, char **argv)
{
  g_autofree char *layout = NULL;
  const GOptionEntry entries[] = {
    { "layout", 0, 0, G_OPTION_ARG_STRING, &layout,
      N_ ("“plugin”: the service plug-in's and its SDK's (PBKDF2, weaker); “strong”: tke's "
          "default (scrypt)"),
      N_ ("LAYOUT") },
    G_OPTION_ENTRY_NULL
  };
  BEGIN_KEYS_VERB (_ ("KEYNUM --layout plugin|strong"),
                   _ ("Rewrite a signature key file in the other layout, after asking its "
                      "password. The new file replaces the old one only once it is read back."),
                   entries);
  g_autoptr (GArray) keynums = NULL;
  g_autoptr (TkeSignatureKeyFile) file = NULL;
  g_autoptr (TkeSecret) password = NULL;
  g_autofree char *path = NULL;
  g_autofree char *prompt = NULL;
  TkeKeyFileKdf kdf;
  guint keynum;

  if (!parse_layout (layout, &kdf))
    {
      g_printerr (_ ("Give the layout: --layout plugin or --layout strong.\n"));
      return TKE_EXIT_USAGE;
    }
  keynums = tke_cli_read_numbers (argc, argv,
                                  _ ("Enter the KEYNUM of the signature key to convert:"), &error);
  if (keynums == NULL)
    return tke_cli_fail (error);
  keynum = g_array_index (keynums, guint, 0);
  path = tke_workstation_get_key_file_path (ctx->workstation, TKE_KEY_FILE_SIGNATURE_KEY, keynum);
  if ((file = tke_signature_key_file_load (path, &error)) == NULL)
    return tke_cli_fail (error);
  if (tke_signature_key_file_get_kdf (file) == kdf)
    {
      g_print (_ ("KEYNUM %u is in that layout already (%s).\n"), keynum, kdf_name (kdf));
      return TKE_EXIT_OK;
    }
  prompt = g_strdup_printf (_ ("Enter the password for KEYNUM %u:"), keynum);
  if ((password = tke_cli_read_password (ctx, prompt, &error)) == NULL ||
      !tke_signature_key_file_rewrite (file, password, kdf, &error))
    return tke_cli_fail (error);
  g_print (_ ("KEYNUM %u rewritten (%s).\n"), keynum, kdf_name (kdf));
  return tke_cli_ok ();
}

static int
remove_key_file (TkeCliContext *ctx, int argc, char **argv, TkeKeyFileKind kind)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) keynums = NULL;
  g_autofree char *path = NULL;
  g_autofree char *question = NULL;
  guint keynum;

  keynums = tke_cli_read_numbers (argc, argv,
                                  kind == TKE_KEY_FILE_SIGNATURE_KEY
                                      ? _ ("Enter the KEYNUM of the signature key to remove:")
                                      : _ ("Enter the KEYNUM of the master key part to remove:"),
                                  &error);
  if (keynums == NULL)
    return tke_cli_fail (error);
  keynum = g_array_index (keynums, guint, 0);
  path = tke_workstation_get_key_file_path (ctx->workstation, kind, keynum);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (&error, TKE_ERROR, TKE_ERROR_NOT_FOUND, _ ("There is no KEYNUM %u (%s)."),
                   keynum, path);
      return tke_cli_fail (error);
    }
  question = g_strdup_printf (_ ("Delete %s? It cannot be recovered."), path);
  if (!tke_cli_confirm (ctx, question))
    return TKE_EXIT_CANCELLED;
  if (g_unlink (path) != 0)
    {
      g_set_error (&error, TKE_ERROR, TKE_ERROR_IO, _ ("“%s” cannot be deleted: %s"), path,
                   g_strerror (errno));
      return tke_cli_fail (error);
    }
  if (kind == TKE_KEY_FILE_SIGNATURE_KEY)
    {
      g_autoptr (GArray) selected =
          g_array_copy (tke_workstation_get_selected_signature_keys (ctx->workstation));

      for (guint i = 0; i < selected->len; i++)
        if (g_array_index (selected, guint, i) == keynum)
          g_array_remove_index (selected, i--);
      tke_workstation_set_selected_signature_keys (ctx->workstation, selected);
      if (!tke_workstation_save (ctx->workstation, &error))
        return tke_cli_fail (error);
    }
  return tke_cli_ok ();
}

static int
run_sigkey_rm (int argc, char **argv)
{
  BEGIN_SIGKEY_VERB (_ ("[KEYNUM]"), _ ("Delete a signature key file."), NULL);
  return remove_key_file (ctx, argc, argv, TKE_KEY_FILE_SIGNATURE_KEY);
}

/* ---- Master key parts ----------------------------------------------------- */

static int
hex_digit (char c)
{
  return g_ascii_xdigit_value (c);
}

/* 64 hex digits into a 32-byte secret, without a copy outside the secure heap. */
static TkeSecret *
secret_from_hex (const TkeSecret *text, GError **error)
{
  const char *hex = (const char *) tke_secret_get_data (text);
  gsize length = tke_secret_get_size (text);
  g_autoptr (TkeSecret) value = NULL;
  guint8 *out;

  while (length > 0 && g_ascii_isspace (hex[length - 1]))
    length--;
  if (length != 2 * TKE_MASTER_KEY_SIZE)
    goto bad;
  value = tke_secret_new (TKE_MASTER_KEY_SIZE);
  out = tke_secret_get_mutable_data (value);
  for (gsize i = 0; i < TKE_MASTER_KEY_SIZE; i++)
    {
      int hi = hex_digit (hex[2 * i]), lo = hex_digit (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        goto bad;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return g_steal_pointer (&value);

bad:
  g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                       _ ("A key part value is 64 hex digits (32 bytes)."));
  return NULL;
}

static int
run_mk_add (int argc, char **argv)
{
  g_autofree char *description = NULL;
  gboolean random = FALSE, value = FALSE;
  const GOptionEntry entries[] = {
    { "random", 0, 0, G_OPTION_ARG_NONE, &random, N_ ("Make a random key part"), NULL },
    { "value", 0, 0, G_OPTION_ARG_NONE, &value,
      N_ ("Enter a known key part value (64 hex digits; asked like a password)"), NULL },
    { "description", 0, 0, G_OPTION_ARG_STRING, &description, N_ ("What to call the key part"),
      N_ ("TEXT") },
    G_OPTION_ENTRY_NULL
  };
  BEGIN_KEYS_VERB ("--random|--value", _ ("Create a master key part file protected by a password."),
                   entries);
  g_autoptr (TkeSecret) part = NULL;
  g_autoptr (TkeSecret) password = NULL;
  g_autoptr (TkeKeyPartFile) file = NULL;
  g_autofree char *path = NULL;
  guint keynum;

  if (random == value)
    {
      g_printerr (_ ("Give exactly one of --random and --value.\n"));
      return TKE_EXIT_USAGE;
    }
  if (random)
    part = tke_secret_new_random (TKE_MASTER_KEY_SIZE, &error);
  else
    {
      g_autoptr (TkeSecret) text =
          tke_cli_read_password (ctx, _ ("Enter the key part value:"), &error);
      if (text != NULL)
        part = secret_from_hex (text, &error);
    }
  if (part == NULL || !tke_master_key_check_not_zero (part, &error))
    return tke_cli_fail (error);
  if (description == NULL && (description = tke_cli_read_line (
                                  _ ("Enter a description for the key part:"), &error)) == NULL)
    return tke_cli_fail (error);
  password =
      tke_cli_read_new_password (ctx, _ ("Enter a password to protect the key part:"), &error);
  if (password == NULL || (path = tke_workstation_new_staging_path (
                               ctx->workstation, TKE_KEY_FILE_KEY_PART, &error)) == NULL)
    return tke_cli_fail (error);
  /* Written first, then given its KEYNUM atomically (never overwriting). */
  if (!tke_key_part_file_create (path, description, part, password, &error) ||
      (file = tke_key_part_file_load (path, &error)) == NULL ||
      (keynum = tke_workstation_install_key_file (ctx->workstation, TKE_KEY_FILE_KEY_PART, path,
                                                  &error)) == 0)
    {
      tke_workstation_discard_staging_path (path);
      return tke_cli_fail (error);
    }
  g_print ("KEYNUM %u: %s\n", keynum, description);
  g_print ("VERIFICATION PATTERN: ");
  tke_cli_print_vp (tke_key_part_file_get_vp (file), strlen ("VERIFICATION PATTERN: "));
  return tke_cli_ok ();
}

static int
run_mks (int argc, char **argv)
{
  BEGIN_KEYS_VERB ("", _ ("List the master key part files on this workstation."), NULL);
  g_autoptr (GArray) keynums = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  guint width;

  keynums = tke_workstation_list_key_files (ctx->workstation, TKE_KEY_FILE_KEY_PART, &error);
  if (keynums == NULL)
    return tke_cli_fail (error);
  for (guint i = 0; i < keynums->len; i++)
    {
      g_autofree char *path = tke_workstation_get_key_file_path (
          ctx->workstation, TKE_KEY_FILE_KEY_PART, g_array_index (keynums, guint, i));
      TkeKeyPartFile *file = tke_key_part_file_load (path, &error);

      if (file == NULL)
        return tke_cli_fail (error);
      g_ptr_array_add (files, file);
      g_ptr_array_add (names, (gpointer) tke_key_part_file_get_description (file));
    }
  if (keynums->len == 0)
    {
      g_print (_ ("No master key part files in %s. Run “tke mk-add”.\n"),
               tke_workstation_get_files_dir (ctx->workstation));
      return TKE_EXIT_OK;
    }
  width = description_width (names);
  g_print ("%-*s", KEYNUM_WIDTH, "KEYNUM");
  print_padded ("DESCRIPTION", width);
  g_print ("VERIFICATION PATTERN\n");
  for (guint i = 0; i < keynums->len; i++)
    {
      g_autofree char *number = g_strdup_printf ("%u", g_array_index (keynums, guint, i));

      g_print ("%-*s", KEYNUM_WIDTH, number);
      print_padded (names->pdata[i], width);
      tke_cli_print_vp (tke_key_part_file_get_vp (files->pdata[i]), KEYNUM_WIDTH + width);
    }
  return TKE_EXIT_OK;
}

static int
run_mk_rm (int argc, char **argv)
{
  BEGIN_KEYS_VERB (_ ("[KEYNUM]"), _ ("Delete a master key part file."), NULL);
  return remove_key_file (ctx, argc, argv, TKE_KEY_FILE_KEY_PART);
}

static const TkeCliVerb key_verbs[] = {
  { "sigkey-add", N_ ("Create a signature key file"), run_sigkey_add },
  { "sigkeys", N_ ("List the signature key files"), run_sigkeys },
  { "sigkey-sel", N_ ("Select the signature keys that sign commands"), run_sigkey_sel },
  { "sigkey-rm", N_ ("Delete a signature key file"), run_sigkey_rm },
  { "sigkey-convert", N_ ("Rewrite a signature key file in the plug-in's or the strong layout"),
    run_sigkey_convert },
  { "mk-add", N_ ("Create a master key part file (--random or --value)"), run_mk_add },
  { "mks", N_ ("List the master key part files"), run_mks },
  { "mk-rm", N_ ("Delete a master key part file"), run_mk_rm },
};

const TkeCliVerbTable tke_cli_key_verbs = { key_verbs, G_N_ELEMENTS (key_verbs) };
