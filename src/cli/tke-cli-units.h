/* tke-cli-units.h: the units verbs of the tke CLI
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tke-cli.h"

extern const TkeCliVerbTable tke_cli_unit_verbs;
