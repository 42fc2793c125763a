/* tke-version.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tke.h"

/**
 * tke_get_version:
 *
 * Returns: (transfer none): the version of libtke, e.g. "0.1.0"
 */
const char *
tke_get_version (void)
{
  return TKE_VERSION;
}
