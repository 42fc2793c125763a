/* tke-version-macros.h: symbol visibility for libtke
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#define TKE_AVAILABLE_IN_ALL __attribute__ ((visibility ("default"))) extern
