/* tke-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tke-error.h"

/* The macro stringifies the name as written: clang-format must not put
 * spaces around the dashes ("tke - error - quark" is another domain). */
// clang-format off
G_DEFINE_QUARK (tke-error-quark, tke_error)
// clang-format on
