/* tke-cli-card-files.h: tke card-copy-file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tke-cli-common.h"

G_BEGIN_DECLS

extern const TkeCliVerbTable tke_cli_card_file_verbs;

G_END_DECLS
