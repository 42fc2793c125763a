/* tke-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tke-error.h"

/* The macro makes the quark's string of these tokens: keep them together. */
/* clang-format off */
G_DEFINE_QUARK (tke-error-quark, tke_error)
/* clang-format on */
