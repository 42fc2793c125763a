/* tke-test-units.h: crypto units built in a test, as the service would describe them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

G_BEGIN_DECLS

#define TEST_VP_A "d2e7f8ab03c4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c2003"
#define TEST_VP_B "9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9"
#define TEST_VP_C "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

TkeCryptoUnit *tke_test_unit_new (const char *instance,
                                  guint number,
                                  TkeCryptoUnitType type,
                                  const char *location);
/* Three operational units of instance "a1b2…" with Valid current
 * registers (TEST_VP_A), empty new registers, two administrators,
 * thresholds 2/1; and one recovery unit of another instance. */
GListStore *tke_test_units_new (void);
void tke_test_units_set_new (GListStore *units, TkeNewRegisterState state, const char *vp);

/* A key part as a card lists it: description and check value. */
GObject *tke_test_key_part_new (const char *description, const char *check_value);

G_END_DECLS
