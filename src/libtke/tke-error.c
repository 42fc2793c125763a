/* tke-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tke-error.h"

G_DEFINE_QUARK (tke - error - quark, tke_error)
