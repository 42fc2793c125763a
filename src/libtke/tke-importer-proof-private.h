/* tke-importer-proof-private.h: what proves an importer key to a card
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A unit's verified certificate chain and importer certificate for one of
 * its importer keys: a card verifies them itself before it seals to it. */
typedef struct
{
  char *hsm_id;
  GPtrArray *unit_certificates; /* GBytes, the unit's first */
  GBytes *importer_certificate;
} TkeImporterProof;

void _tke_importer_proof_free (TkeImporterProof *proof);
void _tke_importer_proof_remember (GBytes *importer_point,
                                   const char *hsm_id,
                                   GPtrArray *unit_certificates,
                                   GBytes *importer_certificate);
TkeImporterProof *_tke_importer_proof_lookup (GBytes *importer_point);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeImporterProof, _tke_importer_proof_free)

G_END_DECLS
