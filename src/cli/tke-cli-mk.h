/* tke-cli-mk.h: the mk verbs of the tke CLI
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tke-cli.h"

extern const TkeCliVerbTable tke_cli_mk_verbs;
