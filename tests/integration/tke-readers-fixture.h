/* tke-readers-fixture.h: the old name of tests/common/tke-test-readers.h, for tests written before
 * tests/common existed.  New tests include "tke-test-readers.h" and use tke_test_common_dep.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tke-test-readers.h"
