/* tke-importer-proof.c: the certificates that came with verified importer keys
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A key part on a card is sealed by the card, which trusts no host: it
 * takes the importer key only with the unit's certificate chain and the
 * importer certificate, and verifies them against its own unit root
 * (card-protocol.md §4.9.1).  The service client keeps those certificates of
 * every importer key whose signed answer it verified, so that a card key
 * part source, handed only the importer point by the ceremony, can pass
 * them on.  Everything here is public; a wrong entry can only make a card
 * refuse, never make it seal to another key.
 */

#include "config.h"

#include "tke-importer-proof-private.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-unit-identity.h"

#define IMPORTER_MAGIC_SIZE 16

/* A ceremony uses one importer key per unit; more than enough. */
#define MAX_PROOFS 64

static GMutex proofs_lock;
static GHashTable *proofs; /* GBytes point → TkeImporterProof */
static GQueue proof_order; /* the points, oldest first */

void
_tke_importer_proof_free (TkeImporterProof *proof)
{
  if (proof == NULL)
    return;
  g_free (proof->hsm_id);
  g_clear_pointer (&proof->unit_certificates, g_ptr_array_unref);
  g_clear_pointer (&proof->importer_certificate, g_bytes_unref);
  g_free (proof);
}

static TkeImporterProof *
proof_new (const char *hsm_id, GPtrArray *unit_certificates, GBytes *importer_certificate)
{
  TkeImporterProof *proof = g_new0 (TkeImporterProof, 1);

  proof->hsm_id = g_strdup (hsm_id);
  proof->unit_certificates = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < unit_certificates->len; i++)
    g_ptr_array_add (proof->unit_certificates, g_bytes_ref (unit_certificates->pdata[i]));
  proof->importer_certificate = g_bytes_ref (importer_certificate);
  return proof;
}

/* Called only with an importer key whose certificate verified. */
void
_tke_importer_proof_remember (GBytes *importer_point,
                              const char *hsm_id,
                              GPtrArray *unit_certificates,
                              GBytes *importer_certificate)
{
  g_mutex_lock (&proofs_lock);
  if (proofs == NULL)
    proofs = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref,
                                    (GDestroyNotify) _tke_importer_proof_free);
  if (!g_hash_table_contains (proofs, importer_point))
    {
      g_queue_push_tail (&proof_order, g_bytes_ref (importer_point));
      if (g_queue_get_length (&proof_order) > MAX_PROOFS)
        {
          g_autoptr (GBytes) oldest = g_queue_pop_head (&proof_order);

          g_hash_table_remove (proofs, oldest);
        }
    }
  g_hash_table_replace (proofs, g_bytes_ref (importer_point),
                        proof_new (hsm_id, unit_certificates, importer_certificate));
  g_mutex_unlock (&proofs_lock);
}

/* Returns: (transfer full) (nullable): a copy of the proof of @importer_point */
TkeImporterProof *
_tke_importer_proof_lookup (GBytes *importer_point)
{
  TkeImporterProof *proof, *copy = NULL;

  g_mutex_lock (&proofs_lock);
  proof = proofs != NULL ? g_hash_table_lookup (proofs, importer_point) : NULL;
  if (proof != NULL)
    copy = proof_new (proof->hsm_id, proof->unit_certificates, proof->importer_certificate);
  g_mutex_unlock (&proofs_lock);
  return copy;
}

/* The importer point an importer certificate of @unit's unit names. */
static GBytes *
importer_point (TkeUnitCertificate *unit, GBytes *certificate)
{
  gsize body_size = IMPORTER_MAGIC_SIZE + 2 + strlen (tke_unit_certificate_get_instance_id (unit)) +
                    strlen (tke_unit_certificate_get_hsm_id (unit)) + TKE_UNIT_POINT_SIZE;

  if (g_bytes_get_size (certificate) <= body_size)
    return NULL;
  return g_bytes_new_from_bytes (certificate, body_size - TKE_UNIT_POINT_SIZE, TKE_UNIT_POINT_SIZE);
}

/**
 * tke_unit_identity_accept_importer:
 * @root_point: the unit root (133-byte point)
 * @unit_certificates: (element-type GBytes): the unit's certificate chain,
 *   the unit's own first
 * @importer_certificate: the unit's importer certificate (binary)
 * @error: return location for a #GError
 *
 * Verifies an importer key the way a card does: the chain up to
 * @root_point, then the importer certificate with the certified device key.
 * A #TkeCardKeyPartSource then passes the certificates to its card, which
 * verifies them again against its own unit root before it seals a part to
 * the key.  The service client does this for every importer key in a
 * verified answer; call it for a unit reached in another way.
 *
 * Returns: (transfer full): the importer key's point, or %NULL with
 *   %TKE_ERROR_UNIT_NOT_AUTHENTIC or %TKE_ERROR_UNIT_ROOT_CHANGED
 */
GBytes *
tke_unit_identity_accept_importer (GBytes *root_point,
                                   GPtrArray *unit_certificates,
                                   GBytes *importer_certificate,
                                   GError **error)
{
  g_autoptr (TkeUnitCertificate) unit = NULL;
  g_autoptr (GBytes) point = NULL;
  g_autofree char *hex = NULL;
  g_autofree char *base64 = NULL;

  g_return_val_if_fail (root_point != NULL && unit_certificates != NULL, NULL);
  g_return_val_if_fail (importer_certificate != NULL, NULL);

  if ((unit = tke_unit_identity_verify_chain (root_point, unit_certificates, error)) == NULL)
    return NULL;
  if ((point = importer_point (unit, importer_certificate)) == NULL)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC,
                           _ ("its importer certificate is malformed"));
      return NULL;
    }
  hex = tke_crypto_hex_encode (g_bytes_get_data (point, NULL), g_bytes_get_size (point));
  base64 = g_base64_encode (g_bytes_get_data (importer_certificate, NULL),
                            g_bytes_get_size (importer_certificate));
  if (!tke_unit_identity_verify_importer (unit, hex, base64, error))
    return NULL;
  _tke_importer_proof_remember (point, tke_unit_certificate_get_hsm_id (unit), unit_certificates,
                                importer_certificate);
  return g_steal_pointer (&point);
}
