/* tke-cli-unit-root.h: pinning the unit root (login's step, unit-root-pin)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tke-cli-common.h"

/* Login's pinning step, once @client holds a token: keeps a pinned root
 * that the service still names, pins a first one after a person confirmed
 * its fingerprint (or it equals the one in @unit_root_file), and refuses a
 * changed one loudly.  Sets the client's root. */
gboolean tke_cli_pin_unit_root (TkeCliContext *ctx,
                                TkeServiceClient *client,
                                const char *unit_root_file,
                                GError **error);

extern const TkeCliVerbTable tke_cli_unit_root_verbs;
