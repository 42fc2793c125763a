/* tke-version.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tke.h"

/**
 * tke_get_version:
 *
 * The version of the libtke the program runs with, which may be newer than
 * %TKE_VERSION, the one it was built against.
 *
 * Returns: (transfer none): the version of libtke, e.g. "0.1.0"
 */
const char *
tke_get_version (void)
{
  return TKE_VERSION;
}
