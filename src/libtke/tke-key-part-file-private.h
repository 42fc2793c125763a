/* tke-key-part-file-private.h: the parser on bytes (not installed)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tke-key-part-file.h"

G_BEGIN_DECLS

/* What tke_key_part_file_load() does after reading the file: @data
 * (@length bytes, any content) as the key part file @path names, for
 * messages.  Also the entry point of the fuzz target. */
TkeKeyPartFile *
_tke_key_part_file_parse_bytes (const char *path, const char *data, gsize length, GError **error);

G_END_DECLS
