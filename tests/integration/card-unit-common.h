/* card-unit-common.h: a crypto unit's identity made in the test, for card tests without an emulator
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

/* A unit root, one unit's device key and certificate, and an importer key
 * with its certificate, in exactly the formats of unit-identity.md §2, §3
 * (made with libtke's real crypto, as the emulator makes them). */
typedef struct
{
  EVP_PKEY *root;
  GBytes *root_point;
  char *hsm_id;
  EVP_PKEY *device;
  GPtrArray *chain; /* GBytes: the unit certificate */
  EVP_PKEY *importer;
  GBytes *importer_point;
  GBytes *importer_certificate;
} CardTestUnit;

/* ROOT: NULL makes a new root. */
CardTestUnit *card_test_unit_new (EVP_PKEY *root, const char *hsm_id);
void card_test_unit_free (CardTestUnit *unit);
/* Writes the root's point in hex to PATH, for tke-card create --unit-root. */
void card_test_unit_write_root (CardTestUnit *unit, const char *path);
/* body ‖ DER signature of BODY by KEY. */
GBytes *card_test_sign_certificate (EVP_PKEY *key, GBytes *body);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CardTestUnit, card_test_unit_free)
