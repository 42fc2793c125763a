/* tke-cli-card-files.c: tke card-copy-file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Smart card tab's "Copy key part file" and "Copy signature key file"
 * on the command line: a key part file or a signature key file onto the
 * card in a reader, or a card's key part or signature key into a new
 * file.  The card opens and makes the files itself (card-protocol.md
 * §4.14); the file's password is typed here without echo (or read from
 * --password-file), the card's PIN on the reader's PIN pad.
 */

#include "config.h"

#include <stdio.h>

#include <glib/gi18n.h>

#include "tke-cli-card-files.h"

static char *opt_to_card;
static char *opt_from_card;
static int opt_reader;
static gboolean opt_replace;

static const GOptionEntry copy_entries[] = {
  { "to-card", 0, 0, G_OPTION_ARG_FILENAME, &opt_to_card,
    N_ ("Copy FILE (a key part file or a signature key file) onto the card"), N_ ("FILE") },
  { "from-card", 0, 0, G_OPTION_ARG_STRING, &opt_from_card,
    N_ ("Copy the card's key part INDEX, or its signature key (“sigkey”), into a new file"),
    N_ ("INDEX|sigkey") },
  { "reader", 0, 0, G_OPTION_ARG_INT, &opt_reader,
    N_ ("The reader of the card (default: 2 for key parts, 1 for the signature key)"), N_ ("N") },
  { "replace", 0, 0, G_OPTION_ARG_NONE, &opt_replace,
    N_ ("--from-card: write over the file if it exists"), NULL },
  G_OPTION_ENTRY_NULL
};

static void
print_pin_prompt (TkeCard *card, TkePinEntry entry, gpointer user_data)
{
  g_autofree char *prompt = tke_card_pin_prompt (tke_card_get_reader_index (card), entry);

  /* At once, even into a pipe: the person acts on it. */
  g_print ("%s\n", prompt);
  fflush (stdout);
}

static TkeCard *
open_card (guint reader, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  TkeCard *card;

  g_print (_ ("Using the card in reader %u.\n"), reader);
  fflush (stdout);
  tke_card_open_async (reader, NULL, TRUE, NULL, tke_cli_async_done, &result);
  tke_cli_wait (&result);
  card = tke_card_open_finish (result, error);
  if (card != NULL)
    g_signal_connect (card, "pin-requested", G_CALLBACK (print_pin_prompt), NULL);
  return card;
}

static guint
reader_or (guint fallback)
{
  return opt_reader > 0 ? (guint) opt_reader : fallback;
}

static int
key_part_to_card (TkeCliContext *ctx, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *prompt = g_strdup_printf (_ ("Password of the key part file “%s”:"), path);
  g_autoptr (TkeSecret) password = tke_cli_read_password (ctx, prompt, &error);
  g_autoptr (TkeCard) card = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeCardKeyPart) part = NULL;

  if (password == NULL || (card = open_card (reader_or (2), &error)) == NULL)
    return tke_cli_fail (g_steal_pointer (&error));
  tke_card_import_key_part_file_async (card, path, password, NULL, tke_cli_async_done, &result);
  tke_cli_wait (&result);
  if ((part = tke_card_import_key_part_file_finish (card, result, &error)) == NULL)
    return tke_cli_fail (g_steal_pointer (&error));
  g_print (_ ("Key part “%s” copied to the card in reader %u, index %u.\n"), part->description,
           tke_card_get_reader_index (card), part->index);
  g_print (_ ("Check value: "));
  tke_cli_print_vp (part->check_value, 13);
  return tke_cli_ok ();
}

static int
signature_key_to_card (TkeCliContext *ctx, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *prompt = g_strdup_printf (_ ("Password of the signature key file “%s”:"), path);
  g_autoptr (TkeSecret) password = tke_cli_read_password (ctx, prompt, &error);
  g_autoptr (TkeCard) card = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GBytes) point = NULL;
  g_autofree char *ski = NULL;

  if (password == NULL || (card = open_card (reader_or (1), &error)) == NULL)
    return tke_cli_fail (g_steal_pointer (&error));
  tke_card_import_signature_key_file_async (card, path, password, NULL, tke_cli_async_done,
                                            &result);
  tke_cli_wait (&result);
  if ((point = tke_card_import_signature_key_file_finish (card, result, &error)) == NULL)
    return tke_cli_fail (g_steal_pointer (&error));
  ski = tke_card_public_key_ski (point);
  g_print (_ ("Signature key copied to the card in reader %u, SKI %s.\n"),
           tke_card_get_reader_index (card), ski);
  return tke_cli_ok ();
}

/* Which kind of file @path is: a key part file, else a signature key file. */
static int
copy_to_card (TkeCliContext *ctx, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) sigkey_error = NULL;
  g_autoptr (TkeKeyPartFile) part = tke_key_part_file_load (path, &error);
  g_autoptr (TkeSignatureKeyFile) key = NULL;

  if (part != NULL)
    return key_part_to_card (ctx, path);
  if (!g_error_matches (error, TKE_ERROR, TKE_ERROR_INVALID_DATA))
    return tke_cli_fail (g_steal_pointer (&error));
  if ((key = tke_signature_key_file_load (path, &sigkey_error)) != NULL)
    return signature_key_to_card (ctx, path);
  g_printerr (_ ("“%s” is neither a key part file nor a signature key file:\n  %s\n  %s\n"), path,
              error->message, sigkey_error->message);
  return tke_cli_fail (g_error_new_literal (TKE_ERROR, TKE_ERROR_INVALID_DATA,
                                            _ ("Nothing was copied to the card.")));
}

static int
key_part_from_card (TkeCliContext *ctx, guint index, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *prompt = g_strdup_printf (_ ("New password for “%s”:"), path);
  g_autoptr (TkeSecret) password = NULL;
  g_autoptr (TkeCard) card = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeKeyPartFile) file = NULL;

  if (!opt_replace && g_file_test (path, G_FILE_TEST_EXISTS))
    return tke_cli_fail (
        g_error_new (TKE_ERROR, TKE_ERROR_IO, _ ("The file “%s” exists already."), path));
  if ((password = tke_cli_read_new_password (ctx, prompt, &error)) == NULL ||
      (card = open_card (reader_or (2), &error)) == NULL)
    return tke_cli_fail (g_steal_pointer (&error));
  tke_card_export_key_part_file_async (card, index, path, opt_replace, password, NULL,
                                       tke_cli_async_done, &result);
  tke_cli_wait (&result);
  if ((file = tke_card_export_key_part_file_finish (card, result, &error)) == NULL)
    return tke_cli_fail (g_steal_pointer (&error));
  g_print (_ ("Key part %u (“%s”) of the card in reader %u written to “%s”.\n"), index,
           tke_key_part_file_get_description (file), tke_card_get_reader_index (card), path);
  g_print (_ ("Check value: "));
  tke_cli_print_vp (tke_key_part_file_get_vp (file), 13);
  return tke_cli_ok ();
}

static int
signature_key_from_card (TkeCliContext *ctx, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *prompt = g_strdup_printf (_ ("New password for “%s”:"), path);
  g_autoptr (TkeSecret) password = NULL;
  g_autoptr (TkeCard) card = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeSignatureKeyFile) file = NULL;

  if (!opt_replace && g_file_test (path, G_FILE_TEST_EXISTS))
    return tke_cli_fail (
        g_error_new (TKE_ERROR, TKE_ERROR_IO, _ ("The file “%s” exists already."), path));
  if ((password = tke_cli_read_new_password (ctx, prompt, &error)) == NULL ||
      (card = open_card (reader_or (1), &error)) == NULL)
    return tke_cli_fail (g_steal_pointer (&error));
  tke_card_export_signature_key_file_async (card, path, opt_replace, password, NULL,
                                            tke_cli_async_done, &result);
  tke_cli_wait (&result);
  if ((file = tke_card_export_signature_key_file_finish (card, result, &error)) == NULL)
    return tke_cli_fail (g_steal_pointer (&error));
  g_print (_ ("Signature key of the card in reader %u written to “%s”, SKI %s.\n"),
           tke_card_get_reader_index (card), path, tke_signature_key_file_get_ski (file));
  return tke_cli_ok ();
}

static int
copy_from_card (TkeCliContext *ctx, const char *item, const char *path)
{
  guint64 index = 0;

  if (g_str_equal (item, "sigkey"))
    return signature_key_from_card (ctx, path);
  if (!g_ascii_string_to_unsigned (item, 10, 1, 255, &index, NULL))
    {
      g_printerr (_ ("--from-card takes a key part index (1 to 255) or “sigkey”, not “%s”.\n"),
                  item);
      return TKE_EXIT_USAGE;
    }
  return key_part_from_card (ctx, (guint) index, path);
}

static int
run_card_copy_file (int argc, char **argv)
{
  BEGIN_VERB (_ ("--to-card FILE | --from-card INDEX|sigkey FILE"),
              _ ("Copy a key part file or a signature key file onto a smart card, or a card's key "
                 "part or signature key into a new password-protected file (mode 0600). The card "
                 "opens and makes the file itself; its PIN is entered on the PIN pad."),
              copy_entries);
  (void) error;
  (void) exit_code;

  if (opt_reader < 0 || opt_reader > 2)
    {
      g_printerr (_ ("--reader is 1 or 2.\n"));
      return TKE_EXIT_USAGE;
    }
  if (opt_to_card != NULL && opt_from_card == NULL && argc == 1)
    return copy_to_card (ctx, opt_to_card);
  if (opt_from_card != NULL && opt_to_card == NULL && argc == 2)
    return copy_from_card (ctx, opt_from_card, argv[1]);
  g_printerr (_ ("Usage: tke card-copy-file --to-card FILE | --from-card INDEX|sigkey FILE\n"));
  return TKE_EXIT_USAGE;
}

static const TkeCliVerb card_file_verbs[] = {
  { "card-copy-file", N_ ("Copy a key part or signature key file onto a card, or back"),
    run_card_copy_file },
};

const TkeCliVerbTable tke_cli_card_file_verbs = { card_file_verbs, G_N_ELEMENTS (card_file_verbs) };
