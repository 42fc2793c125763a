/* tke-cli-report.h: tke report show|export|verify
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tke-cli-common.h"

extern const TkeCliVerbTable tke_cli_report_verbs;
