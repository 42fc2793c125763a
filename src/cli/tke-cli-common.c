/* tke-cli-common.c: what every verb of the tke CLI shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <openssl/crypto.h>

#include "tke-cli-common.h"
#include "tke-cli-signserv.h"

/* The longest password or key line read. */
#define MAX_SECRET_LINE 1024
#define VP_HALF 32

TkeCliContext *
tke_cli_context_new (void)
{
  return g_new0 (TkeCliContext, 1);
}

void
tke_cli_context_free (TkeCliContext *ctx)
{
  if (ctx == NULL)
    return;
  g_free (ctx->endpoint);
  g_free (ctx->ca_file);
  g_free (ctx->password_file);
  g_clear_pointer (&ctx->file_passwords, g_ptr_array_unref);
  g_clear_object (&ctx->workstation);
  g_clear_object (&ctx->client);
  g_clear_object (&ctx->instance);
  g_free (ctx);
}

gboolean
tke_cli_context_parse (TkeCliContext *ctx,
                       int *argc,
                       char ***argv,
                       const char *parameters,
                       const char *description,
                       const GOptionEntry *entries,
                       int *exit_code)
{
  const GOptionEntry common[] = {
    { "endpoint", 0, 0, G_OPTION_ARG_STRING, &ctx->endpoint,
      N_ ("The service's URL (else $TKE_ENDPOINT, else the profile)"), N_ ("URL") },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ctx->ca_file,
      N_ ("The CA that issued the service's certificate (else $TKE_CA_FILE, else the profile)"),
      N_ ("FILE") },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &ctx->password_file,
      N_ ("Read passwords from FILE, one a line, in the order they are asked"), N_ ("FILE") },
    { "yes", 'y', 0, G_OPTION_ARG_NONE, &ctx->yes, N_ ("Answer yes to confirmations"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) options = g_option_context_new (parameters);
  g_autoptr (GError) error = NULL;
  g_autofree char *prgname = g_strdup_printf ("tke %s", (*argv)[0]);

  g_set_prgname (prgname);
  g_option_context_set_summary (options, description);
  g_option_context_set_translation_domain (options, GETTEXT_PACKAGE);
  if (entries != NULL)
    g_option_context_add_main_entries (options, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (options, common, GETTEXT_PACKAGE);

  for (int i = 1; i < *argc; i++)
    if (g_str_equal ((*argv)[i], "--help") || g_str_equal ((*argv)[i], "-h"))
      {
        g_autofree char *help = g_option_context_get_help (options, TRUE, NULL);
        g_print ("%s", help);
        *exit_code = TKE_EXIT_OK;
        return FALSE;
      }
  g_option_context_set_help_enabled (options, FALSE);
  if (!g_option_context_parse (options, argc, argv, &error))
    {
      g_printerr ("%s\n", error->message);
      g_printerr (_ ("Run “tke help %s” for the options.\n"), (*argv)[0]);
      *exit_code = TKE_EXIT_USAGE;
      return FALSE;
    }
  return TRUE;
}

static const char *
first_set (const char *a, const char *b)
{
  return (a != NULL && *a != '\0') ? a : ((b != NULL && *b != '\0') ? b : NULL);
}

gboolean
tke_cli_context_open_workstation (TkeCliContext *ctx, GError **error)
{
  const char *endpoint, *ca_file;

  if (ctx->workstation != NULL)
    return TRUE;
  ctx->workstation = tke_workstation_new (NULL, NULL);
  if (!tke_workstation_load (ctx->workstation, error))
    return FALSE;
  endpoint = first_set (ctx->endpoint, g_getenv ("TKE_ENDPOINT"));
  ca_file = first_set (ctx->ca_file, g_getenv ("TKE_CA_FILE"));
  if (endpoint != NULL)
    tke_workstation_set_endpoint (ctx->workstation, endpoint);
  if (ca_file != NULL)
    tke_workstation_set_ca_file (ctx->workstation, ca_file);
  return TRUE;
}

gboolean
tke_cli_context_connect (TkeCliContext *ctx, GError **error)
{
  g_autoptr (TkeSecret) token = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *endpoint;

  if (ctx->client != NULL)
    return TRUE;
  if (!tke_cli_context_open_workstation (ctx, error))
    return FALSE;
  endpoint = tke_workstation_get_endpoint (ctx->workstation);
  if (endpoint == NULL)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_UNAUTHORIZED,
                           _ ("No service endpoint is known. Run “tke login --endpoint URL”."));
      return FALSE;
    }
  token = tke_credentials_lookup (TKE_CREDENTIAL_TOKEN, endpoint, NULL, &local_error);
  if (token == NULL)
    {
      if (g_error_matches (local_error, TKE_ERROR, TKE_ERROR_NOT_FOUND))
        g_set_error (error, TKE_ERROR, TKE_ERROR_UNAUTHORIZED,
                     _ ("Not logged in to %s. Run “tke login”."), endpoint);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  ctx->client = tke_service_client_new (endpoint, tke_workstation_get_ca_file (ctx->workstation));
  if (tke_workstation_get_instance_id (ctx->workstation) != NULL)
    tke_service_client_set_instance_id (ctx->client,
                                        tke_workstation_get_instance_id (ctx->workstation));
  tke_service_client_set_token (ctx->client, token);
  tke_service_client_set_unit_root (ctx->client, tke_workstation_get_unit_root (ctx->workstation));
  return TRUE;
}

gboolean
tke_cli_context_load_units (TkeCliContext *ctx, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  GListModel *units;

  if (!tke_cli_context_connect (ctx, error))
    return FALSE;
  tke_service_client_list_units_async (ctx->client, NULL, tke_cli_async_done, &result);
  tke_cli_wait (&result);
  g_clear_object (&ctx->instance);
  ctx->instance = tke_service_client_list_units_finish (ctx->client, result, error);
  if (ctx->instance == NULL)
    return FALSE;
  units = tke_service_instance_get_units (ctx->instance);
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      tke_crypto_unit_set_selected (unit, tke_workstation_is_unit_selected (
                                              ctx->workstation, tke_crypto_unit_get_number (unit)));
    }
  return TRUE;
}

GListModel *
tke_cli_context_get_selected_units (TkeCliContext *ctx, GError **error)
{
  g_autoptr (GPtrArray) selected = NULL;
  GListStore *store;

  g_return_val_if_fail (ctx->instance != NULL, NULL);

  selected = tke_service_instance_get_selected_units (ctx->instance);
  if (selected->len == 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("No crypto unit is selected. Run “tke cryptounit-add”."));
      return NULL;
    }
  store = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  g_list_store_splice (store, 0, 0, selected->pdata, selected->len);
  return G_LIST_MODEL (store);
}

GListModel *
tke_cli_context_load_selected (TkeCliContext *ctx, GError **error)
{
  if (!tke_cli_context_load_units (ctx, error))
    return NULL;
  return tke_cli_context_get_selected_units (ctx, error);
}

gboolean
tke_cli_units_need_signatures (GListModel *units)
{
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (!tke_crypto_unit_get_imprint_mode (unit))
        return TRUE;
    }
  return FALSE;
}

/* ---- Reading secrets and answers ---------------------------------------- */

static gboolean
load_password_file (TkeCliContext *ctx, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  char *contents = NULL;
  gsize size = 0, start = 0;

  if (ctx->file_passwords != NULL)
    return TRUE;
  if (!g_file_get_contents (ctx->password_file, &contents, &size, &local_error))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The password file cannot be read: %s"),
                   local_error->message);
      return FALSE;
    }
  ctx->file_passwords = g_ptr_array_new_with_free_func ((GDestroyNotify) tke_secret_unref);
  for (gsize i = 0; i <= size; i++)
    if (i == size || contents[i] == '\n')
      {
        gsize end = i;

        if (end > start && contents[end - 1] == '\r')
          end--;
        if (i < size || end > start)
          g_ptr_array_add (
              ctx->file_passwords,
              tke_secret_new_from_data ((const guint8 *) contents + start, end - start));
        start = i + 1;
      }
  OPENSSL_cleanse (contents, size);
  g_free (contents);
  return TRUE;
}

/* Reads one line from the terminal with echo off, into the secure heap. */
static TkeSecret *
read_terminal_secret (const char *prompt, GError **error)
{
  g_autoptr (TkeSecret) buffer = tke_secret_new (MAX_SECRET_LINE);
  guint8 *data = tke_secret_get_mutable_data (buffer);
  struct termios saved, quiet;
  gsize length = 0;
  gboolean ok = TRUE;

  if (!isatty (STDIN_FILENO) || tcgetattr (STDIN_FILENO, &saved) != 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("There is no terminal to ask for a password. Use --password-file "
                              "FILE."));
      return NULL;
    }
  g_printerr ("%s ", prompt);
  quiet = saved;
  quiet.c_lflag &= ~(tcflag_t) (ECHO | ECHONL);
  quiet.c_lflag |= ICANON;
  tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
  for (;;)
    {
      char c;
      ssize_t n = read (STDIN_FILENO, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || c == '\n')
        {
          ok = n > 0 || length > 0;
          break;
        }
      if (length < MAX_SECRET_LINE)
        data[length++] = (guint8) c;
    }
  tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
  g_printerr ("\n");
  if (!ok)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("No password was entered."));
      return NULL;
    }
  return tke_secret_new_from_data (data, length);
}

TkeSecret *
tke_cli_read_password (TkeCliContext *ctx, const char *prompt, GError **error)
{
  TkeSecret *secret;

  if (ctx->password_file == NULL)
    return read_terminal_secret (prompt, error);
  if (!load_password_file (ctx, error))
    return NULL;
  /* Echo the prompt so that a log shows what was asked (never the answer). */
  g_printerr ("%s\n", prompt);
  if (ctx->next_password >= ctx->file_passwords->len)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("The password file has only %u lines; one more is needed for “%s”"),
                   ctx->file_passwords->len, prompt);
      return NULL;
    }
  secret = ctx->file_passwords->pdata[ctx->next_password++];
  return tke_secret_ref (secret);
}

TkeSecret *
tke_cli_read_new_password (TkeCliContext *ctx, const char *prompt, GError **error)
{
  g_autoptr (TkeSecret) first = tke_cli_read_password (ctx, prompt, error);
  g_autoptr (TkeSecret) second = NULL;

  if (first == NULL)
    return NULL;
  second = tke_cli_read_password (ctx, _ ("Re-enter the password to confirm:"), error);
  if (second == NULL)
    return NULL;
  if (!tke_secret_equal (first, second))
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("The passwords do not match."));
      return NULL;
    }
  if (tke_secret_get_size (first) < 8)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("A password has at least 8 characters."));
      return NULL;
    }
  return g_steal_pointer (&first);
}

char *
tke_cli_read_line (const char *prompt, GError **error)
{
  GString *line = g_string_new (NULL);
  int c;

  g_print ("%s\n> ", prompt);
  fflush (stdout);
  while ((c = getchar ()) != EOF && c != '\n')
    g_string_append_c (line, (char) c);
  if (c == EOF && line->len == 0)
    {
      g_string_free (line, TRUE);
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("No answer: the input ended."));
      return NULL;
    }
  g_strstrip (line->str);
  return g_string_free (line, FALSE);
}

static gboolean
parse_numbers (char **words, GArray *numbers, GError **error)
{
  for (guint i = 0; words[i] != NULL; i++)
    {
      guint64 value;

      if (*words[i] == '\0')
        continue;
      if (!g_ascii_string_to_unsigned (words[i], 10, 1, G_MAXINT, &value, NULL))
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT, _ ("“%s” is not a number."),
                       words[i]);
          return FALSE;
        }
      guint number = (guint) value;
      g_array_append_val (numbers, number);
    }
  return TRUE;
}

GArray *
tke_cli_read_numbers (int argc, char **argv, const char *prompt, GError **error)
{
  g_autoptr (GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));

  if (argc > 1)
    {
      if (!parse_numbers (argv + 1, numbers, error))
        return NULL;
    }
  else
    {
      g_autofree char *line = tke_cli_read_line (prompt, error);
      g_auto (GStrv) words = NULL;

      if (line == NULL)
        return NULL;
      words = g_strsplit_set (line, " \t,", -1);
      if (!parse_numbers (words, numbers, error))
        return NULL;
    }
  if (numbers->len == 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("No number was given."));
      return NULL;
    }
  return g_steal_pointer (&numbers);
}

gboolean
tke_cli_confirm (TkeCliContext *ctx, const char *question)
{
  g_autofree char *answer = NULL;
  g_autofree char *prompt = NULL;

  if (ctx->yes)
    return TRUE;
  prompt = g_strdup_printf (_ ("%s [y/n]"), question);
  answer = tke_cli_read_line (prompt, NULL);
  return answer != NULL &&
         (g_ascii_strcasecmp (answer, "y") == 0 || g_ascii_strcasecmp (answer, "yes") == 0);
}

/* ---- Signers ------------------------------------------------------------ */

GPtrArray *
tke_cli_make_signers (TkeCliContext *ctx, guint max_signers, GError **error)
{
  g_autoptr (GPtrArray) signers = g_ptr_array_new_with_free_func (g_object_unref);
  GArray *selected;

  /* As in the plug-in: with a signing service, its keys replace the files. */
  if (tke_cli_signing_service_url () != NULL)
    return tke_cli_make_service_signers (ctx, max_signers, error);
  if (!tke_cli_context_open_workstation (ctx, error))
    return NULL;
  selected = tke_workstation_get_selected_signature_keys (ctx->workstation);
  if (selected->len == 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("No signature key is selected for signing. Run “tke sigkey-sel”."));
      return NULL;
    }
  for (guint i = 0; i < selected->len && (max_signers == 0 || i < max_signers); i++)
    {
      guint keynum = g_array_index (selected, guint, i);
      g_autofree char *path =
          tke_workstation_get_key_file_path (ctx->workstation, TKE_KEY_FILE_SIGNATURE_KEY, keynum);
      g_autoptr (TkeSignatureKeyFile) file = tke_signature_key_file_load (path, error);
      g_autoptr (TkeSecret) password = NULL;
      g_autoptr (EVP_PKEY) key = NULL;
      g_autofree char *prompt = NULL;

      if (file == NULL)
        return NULL;
      prompt = g_strdup_printf (_ ("Enter the password for the signature key identified by: %s "
                                   "(KEYNUM %u, %s)"),
                                tke_signature_key_file_get_ski (file), keynum,
                                tke_signature_key_file_get_admin_name (file)
                                    ? tke_signature_key_file_get_admin_name (file)
                                    : "");
      password = tke_cli_read_password (ctx, prompt, error);
      if (password == NULL)
        return NULL;
      /* A wrong password fails here, before anything is sent. */
      key = tke_signature_key_file_unlock (file, password, error);
      if (key == NULL)
        return NULL;
      g_ptr_array_add (signers, tke_file_signer_new (file, password));
    }
  return g_steal_pointer (&signers);
}

/* ---- Running ------------------------------------------------------------ */

void
tke_cli_async_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

void
tke_cli_wait (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

static void
on_progress (TkeCeremony *ceremony, TkeCryptoUnit *unit, const char *message, gpointer user_data)
{
  g_print ("%s\n", message);
  fflush (stdout);
}

/* Before the first signature: what is signed, to read aloud. */
static void
on_prepared (TkeCeremony *ceremony, gpointer user_data)
{
  g_print ("%s\n", tke_ceremony_get_summary (ceremony));
  fflush (stdout);
}

/* Verbs that start a ceremony say so when the last one never ended. */
void
tke_cli_warn_interrupted (void)
{
  g_autoptr (TkeJournal) journal = tke_journal_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeJournalRecord) last = tke_journal_find_interrupted (journal, &error);
  g_autoptr (GDateTime) when = NULL;
  g_autofree char *units = NULL;
  g_autofree char *time_text = NULL;

  if (error != NULL)
    {
      g_printerr (_ ("Warning: %s\n"), error->message);
      return;
    }
  if (last == NULL)
    return;
  when = g_date_time_new_from_unix_local (last->time / G_USEC_PER_SEC);
  time_text = when != NULL ? g_date_time_format (when, "%Y-%m-%d %H:%M:%S") : g_strdup ("?");
  units = g_strjoinv (", ", last->units);
  g_printerr (_ ("Warning: the ceremony journal shows an interrupted “%s” ceremony on instance %s "
                 "(crypto units %s), last step “%s” (%s) at %s. The advice below says what is "
                 "safe now.\n"),
              last->kind ? last->kind : "?", last->instance ? last->instance : "?", units,
              last->step, last->outcome, time_text);
}

TkeAuditTrail *
tke_cli_open_audit_trail (void)
{
  g_autofree char *path = tke_audit_trail_get_default_path ();

  return tke_audit_trail_new (path);
}

gboolean
tke_cli_run_ceremony (TkeCliContext *ctx, TkeCeremony *ceremony, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeAuditTrail) trail = tke_cli_open_audit_trail ();
  g_autoptr (GError) local_error = NULL;
  gulong id, prepared_id;
  gboolean ok;

  tke_cli_warn_interrupted ();
  /* No ceremony runs unrecorded. */
  if (!tke_audit_trail_begin_ceremony (trail, ceremony, error))
    return FALSE;
  id = g_signal_connect (ceremony, "progress", G_CALLBACK (on_progress), NULL);
  prepared_id = g_signal_connect (ceremony, "prepared", G_CALLBACK (on_prepared), NULL);
  tke_ceremony_run_async (ceremony, NULL, tke_cli_async_done, &result);
  tke_cli_wait (&result);
  ok = tke_ceremony_run_finish (ceremony, result, &local_error);
  g_signal_handler_disconnect (ceremony, id);
  g_signal_handler_disconnect (ceremony, prepared_id);
  tke_audit_trail_end_ceremony (trail, ceremony, local_error);
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return ok;
}

/* ---- Printing ----------------------------------------------------------- */

void
tke_cli_print_vp (const char *vp, guint indent)
{
  g_print ("%.*s\n%*s%s\n", VP_HALF, vp, (int) indent, "", vp + VP_HALF);
}

static void
print_register_table (const char *title,
                      const char *instance_id,
                      GListModel *units,
                      gboolean new_register)
{
  const char *num_header = "CRYPTO UNIT NUM";
  guint num_width = strlen (num_header) + 3;
  guint status_width = strlen ("STATUS");

  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      const char *status =
          new_register
              ? tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit))
              : tke_current_register_state_to_string (
                    tke_crypto_unit_get_current_register_state (unit));

      status_width = MAX (status_width, strlen (status));
    }
  status_width += 3;

  g_print ("%s\n", title);
  g_print ("SERVICE INSTANCE: %s\n", instance_id);
  g_print ("%-*s%-*s%s\n", num_width, num_header, status_width, "STATUS", "VERIFICATION PATTERN");
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      g_autofree char *number = g_strdup_printf ("%u", tke_crypto_unit_get_number (unit));

      if (!tke_crypto_unit_get_reachable (unit))
        {
          g_print ("%-*s%s\n", num_width, number, _ ("(does not answer)"));
          continue;
        }
      g_print ("%-*s%-*s", num_width, number, status_width,
               new_register ? tke_new_register_state_to_string (
                                  tke_crypto_unit_get_new_register_state (unit))
                            : tke_current_register_state_to_string (
                                  tke_crypto_unit_get_current_register_state (unit)));
      tke_cli_print_vp (new_register ? tke_crypto_unit_get_new_register_vp (unit)
                                     : tke_crypto_unit_get_current_register_vp (unit),
                        num_width + status_width);
    }
}

void
tke_cli_print_register_tables (const char *instance_id, GListModel *units)
{
  print_register_table ("NEW MASTER KEY REGISTER", instance_id, units, TRUE);
  g_print ("\n");
  print_register_table ("CURRENT MASTER KEY REGISTER", instance_id, units, FALSE);
}

int
tke_cli_fail (GError *error)
{
  g_printerr ("FAILED\n%s\n", error->message);
  if (g_error_matches (error, TKE_ERROR, TKE_ERROR_AUTH_EXPIRED) ||
      g_error_matches (error, TKE_ERROR, TKE_ERROR_UNAUTHORIZED))
    return TKE_EXIT_AUTH;
  return TKE_EXIT_FAILED;
}

int
tke_cli_ok (void)
{
  g_print ("OK\n");
  return TKE_EXIT_OK;
}
