/* tke-cli-rotation.h: the rotation verbs of the tke CLI
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tke-cli-common.h"

extern const TkeCliVerbTable tke_cli_rotation_verbs;
extern const TkeCliVerbTable tke_cli_auto_verbs;

int tke_cli_rotate (TkeCliContext *ctx, GListModel *units, GPtrArray *signers, const char *kind);
