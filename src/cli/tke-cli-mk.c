/* tke-cli-mk.c: loading, committing and clearing master key registers;
 * RewrapKeyBlob and the KMS key listing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tke-cli-cards.h"
#include "tke-cli-common.h"
#include "tke-cli-mk.h"

/* libtke's rule, the same the GUI's buttons follow: refused before any
 * password is asked or anything is sent. */
static gboolean
ceremony_allowed (TkeCliContext *ctx, TkeCeremonyKind kind, GListModel *units, GError **error)
{
  g_autofree char *reason = NULL;

  /* Clearing a register is left to the unit: an empty one is cleared
   * again, as the service's own CLI does. */
  if (kind == TKE_CEREMONY_CLEAR_NEW || kind == TKE_CEREMONY_CLEAR_CURRENT)
    return TRUE;
  reason = tke_ceremony_why_not (kind, units, tke_service_instance_get_units (ctx->instance),
                                 TKE_RECOVERY_ACTION_NONE);
  if (reason == NULL)
    return TRUE;
  g_set_error_literal (error, TKE_ERROR, TKE_ERROR_PRECHECK_FAILED, reason);
  return FALSE;
}

static int
run_register_ceremony (TkeCliContext *ctx,
                       TkeCeremonyKind kind,
                       GListModel *units,
                       guint max_signers,
                       GPtrArray *parts)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCeremony) ceremony = tke_ceremony_new (ctx->client, kind, units);
  g_autoptr (GPtrArray) signers = NULL;

  if (!ceremony_allowed (ctx, kind, units, &error))
    return tke_cli_fail (error);
  if (parts != NULL)
    tke_ceremony_set_key_parts (ceremony, parts);
  signers = tke_cli_make_signers (ctx, max_signers, &error);
  if (signers == NULL)
    return tke_cli_fail (error);
  tke_ceremony_set_signers (ceremony, signers);
  if (!tke_cli_run_ceremony (ctx, ceremony, &error))
    return tke_cli_fail (error);
  g_print ("\n");
  tke_cli_print_register_tables (tke_service_instance_get_id (ctx->instance), units);
  return tke_cli_ok ();
}

/* A ceremony signed with administrator cards (takes SIGNERS). */
static int
run_card_ceremony (TkeCliContext *ctx, TkeCeremonyKind kind, GListModel *units, GPtrArray *signers)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCeremony) ceremony = tke_ceremony_new (ctx->client, kind, units);
  g_autoptr (GPtrArray) owned = signers;

  if (!ceremony_allowed (ctx, kind, units, &error))
    return tke_cli_fail (error);
  tke_ceremony_set_signers (ceremony, owned);
  if (!tke_cli_run_ceremony (ctx, ceremony, &error))
    return tke_cli_fail (error);
  g_print ("\n");
  tke_cli_print_register_tables (tke_service_instance_get_id (ctx->instance), units);
  return tke_cli_ok ();
}

/* Key part files by KEYNUM, each with its password checked now, so that a
 * wrong one stops the load before anything is sent. */
static GPtrArray *
open_key_parts (TkeCliContext *ctx, GArray *keynums, GError **error)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (TkeSecret) key = NULL;

  for (guint i = 0; i < keynums->len; i++)
    {
      g_autofree char *path = tke_workstation_get_key_file_path (
          ctx->workstation, TKE_KEY_FILE_KEY_PART, g_array_index (keynums, guint, i));
      TkeKeyPartFile *file = tke_key_part_file_load (path, error);

      if (file == NULL)
        return NULL;
      g_ptr_array_add (parts, file);
    }
  /* The same file twice (or two copies of one part) before any password. */
  if (!tke_key_parts_check_distinct (parts, error))
    return NULL;
  for (guint i = 0; i < parts->len; i++)
    {
      g_autofree char *prompt = g_strdup_printf (_ ("Enter the password for key file %u"), i + 1);
      g_autoptr (TkeSecret) password = NULL;
      g_autoptr (TkeSecret) part = NULL;

      if ((password = tke_cli_read_password (ctx, prompt, error)) == NULL ||
          (part = tke_key_part_file_unlock (parts->pdata[i], password, error)) == NULL ||
          !tke_key_part_file_set_password (parts->pdata[i], password, error))
        return NULL;
      if (key == NULL)
        key = g_steal_pointer (&part);
      else
        {
          TkeSecret *sum = tke_crypto_xor (key, part, error);

          if (sum == NULL)
            return NULL;
          tke_secret_unref (key);
          key = sum;
        }
    }
  /* Parts such as A, B and A XOR B: the key they make is zero. */
  if (!tke_master_key_check_not_zero (key, error))
    return NULL;
  return g_steal_pointer (&parts);
}

static int
run_mk_load (int argc, char **argv)
{
  static gboolean cards;
  const GOptionEntry entries[] = {
    { "cards", 0, 0, G_OPTION_ARG_NONE, &cards,
      N_ ("Key parts on cards in reader 2 (the numbers are each part's index on its card), "
          "signed with the administrator card in reader 1"),
      NULL },
    { NULL }
  };
  BEGIN_VERB (_ ("[KEYNUM…]"),
              _ ("Load 2 or 3 master key part files into the new master key register of the "
                 "selected crypto units."),
              entries);
  g_autoptr (GListModel) units = NULL;
  g_autoptr (GArray) keynums = NULL;
  g_autoptr (GPtrArray) parts = NULL;
  g_autoptr (GPtrArray) signers = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  keynums = tke_cli_read_numbers (argc, argv,
                                  cards ? _ ("Enter the index of the key part on each card, in the "
                                             "order of loading (e.g. 1 1 1).")
                                        : _ ("Enter the KEYNUM values of the master key parts you "
                                             "wish to load."),
                                  &error);
  if (keynums == NULL)
    return tke_cli_fail (error);
  if (keynums->len < 2 || keynums->len > 3)
    {
      g_printerr (_ ("A master key is loaded from 2 or 3 key parts.\n"));
      return TKE_EXIT_USAGE;
    }
  if (!ceremony_allowed (ctx, TKE_CEREMONY_LOAD, units, &error))
    return tke_cli_fail (error);
  /* The signature key first, then the key files: the real CLI's order.
   * With cards, each part's card is read now so its holder confirms the
   * check value; one administrator card signs every command. */
  if (cards)
    {
      if ((parts = tke_cli_open_card_key_parts (keynums, &error)) == NULL)
        return tke_cli_fail (error);
      signers = tke_cli_make_card_signers (1);
    }
  else if ((signers = tke_cli_make_signers (ctx, 1, &error)) == NULL ||
           (parts = open_key_parts (ctx, keynums, &error)) == NULL)
    return tke_cli_fail (error);

  ceremony = tke_ceremony_new (ctx->client, TKE_CEREMONY_LOAD, units);
  tke_ceremony_set_key_parts (ceremony, parts);
  tke_ceremony_set_signers (ceremony, signers);
  if (!tke_cli_run_ceremony (ctx, ceremony, &error))
    return tke_cli_fail (error);
  g_print ("\n");
  tke_cli_print_register_tables (tke_service_instance_get_id (ctx->instance), units);
  return tke_cli_ok ();
}

static int
run_mk_commit (int argc, char **argv)
{
  static gboolean cards;
  const GOptionEntry entries[] = {
    { "cards", 0, 0, G_OPTION_ARG_NONE, &cards,
      N_ ("Sign with administrator cards taking turns in reader 1, as many as the signature "
          "threshold"),
      NULL },
    { NULL }
  };
  BEGIN_VERB ("", _ ("Commit the new master key register of the selected crypto units."), entries);
  g_autoptr (GListModel) units = NULL;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  if (cards)
    return run_card_ceremony (
        ctx, TKE_CEREMONY_COMMIT, units,
        tke_cli_make_card_signers (tke_ceremony_get_n_signers (TKE_CEREMONY_COMMIT, units)));
  return run_register_ceremony (ctx, TKE_CEREMONY_COMMIT, units, 0, NULL);
}

static int
run_clear (int argc, char **argv, gboolean current)
{
  BEGIN_VERB ("",
              current ? _ ("Clear the current master key register of the selected crypto units.")
                      : _ ("Clear the new master key register of the selected crypto units."),
              NULL);
  g_autoptr (GListModel) units = NULL;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  if (!tke_cli_confirm (ctx, current ? _ ("Clearing the current master key register makes the "
                                          "keys it wraps unusable. Do you want to continue?")
                                     : _ ("Clear the new master key register. Do you want to "
                                          "continue?")))
    return TKE_EXIT_CANCELLED;
  return run_register_ceremony (ctx, current ? TKE_CEREMONY_CLEAR_CURRENT : TKE_CEREMONY_CLEAR_NEW,
                                units, 1, NULL);
}

static int
run_mk_clrnew (int argc, char **argv)
{
  return run_clear (argc, argv, FALSE);
}

static int
run_mk_clrcur (int argc, char **argv)
{
  return run_clear (argc, argv, TRUE);
}

/* ---- RewrapKeyBlob and KMS keys ---------------------------------------- */

static GBytes *
read_blob (const char *path, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *text = NULL;
  guchar *data;
  gsize size;

  if (!g_file_get_contents (path, &text, NULL, &local_error))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The blob file cannot be read: %s"),
                   local_error->message);
      return NULL;
    }
  g_strstrip (text);
  data = g_base64_decode (text, &size);
  if (size == 0)
    {
      g_free (data);
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("“%s” does not hold a key blob in base64."), path);
      return NULL;
    }
  return g_bytes_new_take (data, size);
}

static int
run_rewrap_blob (int argc, char **argv)
{
  g_autofree char *output = NULL;
  const GOptionEntry entries[] = { { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
                                     N_ ("Write the rewrapped blob to FILE (else standard output)"),
                                     N_ ("FILE") },
                                   G_OPTION_ENTRY_NULL };
  BEGIN_VERB (_ ("BLOB-FILE"),
              _ ("RewrapKeyBlob: rewrap a key blob (base64) from the current master key to the "
                 "committed new one. Do it between commit and rotate."),
              entries);
  g_autoptr (GBytes) blob = NULL;
  g_autoptr (GBytes) rewrapped = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autofree char *encoded = NULL;

  if (argc != 2)
    {
      g_printerr (_ ("Name one blob file.\n"));
      return TKE_EXIT_USAGE;
    }
  if ((blob = read_blob (argv[1], &error)) == NULL || !tke_cli_context_connect (ctx, &error))
    return tke_cli_fail (error);
  tke_service_client_rewrap_key_blob_async (ctx->client, blob, NULL, tke_cli_async_done, &result);
  tke_cli_wait (&result);
  rewrapped = tke_service_client_rewrap_key_blob_finish (ctx->client, result, &error);
  if (rewrapped == NULL)
    return tke_cli_fail (error);
  encoded = g_base64_encode (g_bytes_get_data (rewrapped, NULL), g_bytes_get_size (rewrapped));
  if (output == NULL)
    {
      g_print ("%s\n", encoded);
      return TKE_EXIT_OK;
    }
  {
    g_autofree char *line = g_strconcat (encoded, "\n", NULL);

    if (!g_file_set_contents_full (output, line, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
      return tke_cli_fail (error);
  }
  return tke_cli_ok ();
}

static const char *
key_state_name (int state)
{
  switch (state)
    {
    case 0:
      return "pre-active";
    case 1:
      return "active";
    case 2:
      return "suspended";
    case 3:
      return "deactivated";
    case 5:
      return "destroyed";
    default:
      return "?";
    }
}

static int
run_kms_keys (int argc, char **argv)
{
  int offset = 0, limit = 200;
  const GOptionEntry entries[] = {
    { "offset", 0, 0, G_OPTION_ARG_INT, &offset, N_ ("Skip the first N keys"), N_ ("N") },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, N_ ("List at most N keys (1–5000)"), N_ ("N") },
    G_OPTION_ENTRY_NULL
  };
  BEGIN_VERB ("", _ ("List the keys of the instance's KMS keystore."), entries);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) keys = NULL;
  guint64 total = 0;

  if (offset < 0 || limit < 1 || limit > 5000)
    {
      g_printerr (_ ("--offset is at least 0 and --limit from 1 to 5000.\n"));
      return TKE_EXIT_USAGE;
    }
  if (!tke_cli_context_connect (ctx, &error))
    return tke_cli_fail (error);
  tke_service_client_kms_list_keys_async (ctx->client, (guint) offset, (guint) limit, NULL,
                                          tke_cli_async_done, &result);
  tke_cli_wait (&result);
  keys = tke_service_client_kms_list_keys_finish (ctx->client, result, &total, &error);
  if (keys == NULL)
    return tke_cli_fail (error);
  g_print ("%-38s%-24s%-13s%s\n", "KEY ID", "NAME", "STATE", "WKID");
  for (guint i = 0; i < keys->len; i++)
    {
      TkeKmsKey *key = keys->pdata[i];

      g_print ("%-38s%-24s%-13s%s\n", key->id, key->name, key_state_name (key->state),
               key->wkid ? key->wkid : "");
    }
  {
    g_autofree char *total_text = g_strdup_printf ("%" G_GUINT64_FORMAT, total);

    g_print (_ ("%u of %s keys\n"), keys->len, total_text);
  }
  return TKE_EXIT_OK;
}

static const TkeCliVerb mk_verbs[] = {
  { "cryptounit-mk-load", N_ ("Load 2 or 3 key parts into the new master key register"),
    run_mk_load },
  { "cryptounit-mk-commit", N_ ("Commit the new master key register"), run_mk_commit },
  { "cryptounit-mk-clrnew", N_ ("Clear the new master key register"), run_mk_clrnew },
  { "cryptounit-mk-clrcur", N_ ("Clear the current master key register"), run_mk_clrcur },
  { "rewrap-blob", N_ ("Rewrap a key blob to the committed new master key (RewrapKeyBlob)"),
    run_rewrap_blob },
  { "kms-keys", N_ ("List the keys of the KMS keystore"), run_kms_keys },
};

const TkeCliVerbTable tke_cli_mk_verbs = { mk_verbs, G_N_ELEMENTS (mk_verbs) };
