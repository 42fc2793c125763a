/* tke-cli-cards.c: smart cards for the tke verbs (--cards, --card)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The same ceremonies as with key files, with administrator cards in
 * reader 1 and key part cards in reader 2.  The PINs are typed on the
 * readers' PIN pads, never here: this file only prints what libtke's card
 * signers and key part sources ask the person to do.
 */

#include "config.h"

#include <stdio.h>

#include <glib/gi18n.h>

#include "tke-cli-cards.h"

static void
print_prompt (GObject *source, TkeCardPrompt kind, const char *message, gpointer user_data)
{
  /* At once, even into a pipe: the person acts on it. */
  g_print ("%s\n", message);
  fflush (stdout);
}

GPtrArray *
tke_cli_make_card_signers (guint n_signers)
{
  GPtrArray *signers = tke_card_signer_new_group (NULL, MAX (n_signers, 1));

  for (guint i = 0; i < signers->len; i++)
    g_signal_connect (signers->pdata[i], "prompt", G_CALLBACK (print_prompt), NULL);
  return signers;
}

GPtrArray *
tke_cli_open_card_key_parts (GArray *indexes, GError **error)
{
  g_autoptr (GPtrArray) sources =
      tke_card_key_part_source_new_group (NULL, (const guint *) indexes->data, indexes->len);

  for (guint i = 0; i < sources->len; i++)
    {
      TkeCardKeyPartSource *source = sources->pdata[i];
      g_autoptr (GAsyncResult) result = NULL;

      g_signal_connect (source, "prompt", G_CALLBACK (print_prompt), NULL);
      tke_card_key_part_source_load_async (source, NULL, tke_cli_async_done, &result);
      tke_cli_wait (&result);
      if (!tke_card_key_part_source_load_finish (source, result, error))
        return NULL;
      g_print (_ ("Key part %u: “%s” (card %s, index %u)\n"), i + 1,
               tke_key_part_source_get_description (TKE_KEY_PART_SOURCE (source)),
               tke_card_key_part_source_get_serial (source),
               tke_card_key_part_source_get_index (source));
      g_print (_ ("Check value: "));
      tke_cli_print_vp (tke_key_part_source_get_check_value (TKE_KEY_PART_SOURCE (source)), 13);
    }
  return g_steal_pointer (&sources);
}

GBytes *
tke_cli_read_card_admin (char **name, GError **error)
{
  g_autoptr (TkeCardSigner) signer = tke_card_signer_new (NULL);
  g_autoptr (GAsyncResult) result = NULL;
  GBytes *point;

  g_signal_connect (signer, "prompt", G_CALLBACK (print_prompt), NULL);
  /* Reading the public key needs no PIN. */
  tke_signer_get_public_key_async (TKE_SIGNER (signer), NULL, tke_cli_async_done, &result);
  tke_cli_wait (&result);
  point = tke_signer_get_public_key_finish (TKE_SIGNER (signer), result, error);
  if (point == NULL)
    return NULL;
  *name = g_strdup (tke_signer_get_name (TKE_SIGNER (signer)));
  g_print (_ ("Administrator “%s”, SKI %s\n"), *name, tke_signer_get_ski (TKE_SIGNER (signer)));
  return point;
}
