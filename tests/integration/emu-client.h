/* emu-client.h: the old name of tests/common/tke-test-emulator.h, for tests written before
 * tests/common existed.  New tests include "tke-test-emulator.h" and use tke_test_common_dep.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tke-test-emulator.h"
