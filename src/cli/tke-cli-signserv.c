/* tke-cli-signserv.c: a signing service for the tke verbs ($TKE_SIGNSERV_URL)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * As the service's CLI plug-in does: with TKE_SIGNSERV_URL set, the keys
 * that sign are those of the SIGNSERVKEYS file in the key-file directory
 * ($CLOUDTKEFILES), and a key without a token in that file has its token
 * asked for.  TKE_SIGNSERV_CA_FILE names the CA of the service's
 * certificate when the system's CAs do not cover it.  The rule is
 * libtke's (tke_service_signer_new_for_workstation()), shared with the
 * GUI.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-cli-signserv.h"

const char *
tke_cli_signing_service_url (void)
{
  return tke_service_signer_get_default_url ();
}

/* libtke's rule (tke_service_signer_new_for_workstation()): the first
 * @max_signers keys (0: all), a missing token asked for when used. */
static GPtrArray *
load_keys (TkeCliContext *ctx, guint max_signers, GError **error)
{
  if (!tke_cli_context_open_workstation (ctx, error))
    return NULL;
  return tke_service_signer_new_for_workstation (
      ctx->workstation, max_signers > 0 ? max_signers : G_MAXUINT, FALSE, error);
}

/* Asks for the token if the file gave none, then reads the public key. */
static gboolean
prepare_signer (TkeCliContext *ctx, TkeServiceSigner *signer, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GBytes) point = NULL;

  if (!tke_service_signer_has_token (signer))
    {
      g_autofree char *prompt =
          g_strdup_printf (_ ("Enter the token for the signature key identified by: %s"),
                           tke_service_signer_get_key_name (signer));
      g_autoptr (TkeSecret) token = tke_cli_read_password (ctx, prompt, error);

      if (token == NULL)
        return FALSE;
      tke_service_signer_set_token (signer, token);
    }
  tke_signer_get_public_key_async (TKE_SIGNER (signer), NULL, tke_cli_async_done, &result);
  tke_cli_wait (&result);
  point = tke_signer_get_public_key_finish (TKE_SIGNER (signer), result, error);
  return point != NULL;
}

GPtrArray *
tke_cli_make_service_signers (TkeCliContext *ctx, guint max_signers, GError **error)
{
  g_autoptr (GPtrArray) keys = load_keys (ctx, max_signers, error);

  if (keys == NULL)
    return NULL;
  for (guint i = 0; i < keys->len; i++)
    {
      TkeServiceSigner *signer = keys->pdata[i];

      if (!prepare_signer (ctx, signer, error))
        return NULL;
      g_print (_ ("Signing with “%s” of the signing service (SKI %s)\n"),
               tke_service_signer_get_key_name (signer), tke_signer_get_ski (TKE_SIGNER (signer)));
    }
  return g_steal_pointer (&keys);
}

GBytes *
tke_cli_read_service_admin (TkeCliContext *ctx, const char *key_name, char **name, GError **error)
{
  g_autoptr (GPtrArray) keys = load_keys (ctx, 0, error);
  g_autofree char *asked = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  TkeServiceSigner *signer = NULL;

  if (keys == NULL)
    return NULL;
  if (key_name == NULL)
    {
      asked = tke_cli_read_line (_ ("Enter the signature key identifier of the administrator "
                                    "you wish to load:"),
                                 error);
      if (asked == NULL)
        return NULL;
      key_name = g_strstrip (asked);
    }
  for (guint i = 0; i < keys->len && signer == NULL; i++)
    if (g_str_equal (tke_service_signer_get_key_name (keys->pdata[i]), key_name))
      signer = keys->pdata[i];
  if (signer == NULL)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND,
                   _ ("The signature key identifier “%s” is not in the SIGNSERVKEYS file. Add it "
                      "there first."),
                   key_name);
      return NULL;
    }
  if (!prepare_signer (ctx, signer, error))
    return NULL;
  *name = g_strdup (tke_service_signer_get_key_name (signer));
  g_print (_ ("Administrator “%s”, SKI %s\n"), *name, tke_signer_get_ski (TKE_SIGNER (signer)));
  tke_signer_get_public_key_async (TKE_SIGNER (signer), NULL, tke_cli_async_done, &result);
  tke_cli_wait (&result);
  return tke_signer_get_public_key_finish (TKE_SIGNER (signer), result, error);
}

gboolean
tke_cli_sigkeys_in_service (TkeCliContext *ctx, const char *verb)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) keys = NULL;

  if (tke_cli_signing_service_url () == NULL)
    return FALSE;
  g_print (_ ("TKE_SIGNSERV_URL is set: the signature keys are those of the signing service at "
              "%s, and “tke %s” does nothing.\n"),
           tke_cli_signing_service_url (), verb);
  keys = load_keys (ctx, 0, &error);
  if (keys == NULL)
    {
      g_print ("%s\n", error->message);
      return TRUE;
    }
  g_print (_ ("The SIGNSERVKEYS file lists:\n"));
  for (guint i = 0; i < keys->len; i++)
    g_print ("  %s%s\n", tke_service_signer_get_key_name (keys->pdata[i]),
             tke_service_signer_has_token (keys->pdata[i]) ? "" : _ (" (token asked when used)"));
  return TRUE;
}
