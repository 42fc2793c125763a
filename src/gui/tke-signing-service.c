/* tke-signing-service.c: the signing service's keys, where cards would sign
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * As the service's plug-in does, TKE_SIGNSERV_URL makes a signing service
 * sign every command: the wizard's ceremonies and the rotation alike.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-signing-service.h"

/**
 * tke_signing_service_url:
 *
 * The signing service the plug-in's TKE_SIGNSERV_URL names, if any: then
 * its keys sign instead of cards, in every ceremony.
 *
 * Returns: (nullable): the URL
 */
const char *
tke_signing_service_url (void)
{
  const char *url = g_getenv ("TKE_SIGNSERV_URL");

  return url != NULL && *url != '\0' ? url : NULL;
}

/**
 * tke_signing_service_new_signers:
 * @n_signers: how many are needed
 * @error: return location for a #GError
 *
 * As the service's plug-in does with TKE_SIGNSERV_URL: the keys of the
 * SIGNSERVKEYS file in the key-file directory sign, instead of cards.
 * Here each needs its token in that file.
 *
 * Returns: (transfer full) (element-type TkeSigner): at most @n_signers
 *   signers, or %NULL
 */
GPtrArray *
tke_signing_service_new_signers (guint n_signers, GError **error)
{
  g_autoptr (TkeWorkstation) workstation = tke_workstation_new (NULL, NULL);
  g_autofree char *path =
      g_build_filename (tke_workstation_get_files_dir (workstation), "SIGNSERVKEYS", NULL);
  const char *ca_file = g_getenv ("TKE_SIGNSERV_CA_FILE");
  g_autoptr (GPtrArray) signers = tke_service_signer_new_from_keys_file (
      tke_signing_service_url (), path, ca_file != NULL && *ca_file != '\0' ? ca_file : NULL,
      error);

  if (signers == NULL)
    return NULL;
  if (signers->len > n_signers)
    g_ptr_array_set_size (signers, n_signers);
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
