/* tke-service-signer-keys.c: which keys of a signing service sign
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The service's plug-in's rule, for both front ends: with TKE_SIGNSERV_URL
 * set, the keys that sign are the first ones of the SIGNSERVKEYS file in
 * the workstation's key-file directory ($TKE_FILES or $CLOUDTKEFILES),
 * and TKE_SIGNSERV_CA_FILE names the CA of the service's certificate when
 * the system's CAs do not cover it.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-error.h"
#include "tke-service-signer.h"

static const char *
nonempty_env (const char *name)
{
  const char *value = g_getenv (name);

  return value != NULL && *value != '\0' ? value : NULL;
}

/**
 * tke_service_signer_get_default_url:
 *
 * The signing service that `TKE_SIGNSERV_URL` names, as the service's
 * plug-in reads it: when it is set, the keys of that service sign every
 * command (tke_service_signer_new_for_workstation()), instead of key files
 * or cards.
 *
 * Returns: (nullable): the URL, or %NULL when no signing service is named
 */
const char *
tke_service_signer_get_default_url (void)
{
  return nonempty_env ("TKE_SIGNSERV_URL");
}

/**
 * tke_service_signer_get_keys_path:
 * @workstation: the workstation whose key-file directory holds the file
 *
 * The SIGNSERVKEYS file that names the signing service's keys and tokens.
 *
 * Returns: (transfer full): its path
 */
char *
tke_service_signer_get_keys_path (TkeWorkstation *workstation)
{
  g_return_val_if_fail (TKE_IS_WORKSTATION (workstation), NULL);

  return g_build_filename (tke_workstation_get_files_dir (workstation), "SIGNSERVKEYS", NULL);
}

/**
 * tke_service_signer_new_for_workstation:
 * @workstation: the workstation whose SIGNSERVKEYS file names the keys
 * @max_signers: how many sign at most (%G_MAXUINT: every key of the file)
 * @require_tokens: whether each key must have its token in the file
 * @error: return location for a #GError
 *
 * The signers of the signing service tke_service_signer_get_default_url()
 * names, in the plug-in's rule: the first @max_signers keys of the
 * SIGNSERVKEYS file (tke_service_signer_get_keys_path()), with the CA file
 * `TKE_SIGNSERV_CA_FILE` names, if any.  With
 * @require_tokens, a key without its token in the file
 * is an error that names the key and the file (a front end that cannot ask
 * for a token); without it, a key may have no token yet
 * (tke_service_signer_has_token()), for the front end to ask.
 *
 * Returns: (transfer full) (element-type TkeServiceSigner): the signers,
 *   or %NULL with @error set (also when no signing service is named)
 */
GPtrArray *
tke_service_signer_new_for_workstation (TkeWorkstation *workstation,
                                        guint max_signers,
                                        gboolean require_tokens,
                                        GError **error)
{
  g_autofree char *path = NULL;
  g_autoptr (GPtrArray) signers = NULL;

  g_return_val_if_fail (TKE_IS_WORKSTATION (workstation), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (tke_service_signer_get_default_url () == NULL)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("No signing service is named: set TKE_SIGNSERV_URL."));
      return NULL;
    }
  path = tke_service_signer_get_keys_path (workstation);
  signers = tke_service_signer_new_from_keys_file (tke_service_signer_get_default_url (), path,
                                                   nonempty_env ("TKE_SIGNSERV_CA_FILE"), error);
  if (signers == NULL)
    return NULL;
  if (signers->len > max_signers)
    g_ptr_array_set_size (signers, max_signers);
  if (require_tokens)
    for (guint i = 0; i < signers->len; i++)
      if (!tke_service_signer_has_token (signers->pdata[i]))
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                       _ ("The signature key “%s” has no token in %s. Add its \"token\" there: "
                          "this application takes the tokens of the signing service from that "
                          "file."),
                       tke_service_signer_get_key_name (signers->pdata[i]), path);
          return NULL;
        }
  return g_steal_pointer (&signers);
}
