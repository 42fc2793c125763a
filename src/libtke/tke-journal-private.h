/* tke-journal-private.h: the journal's parser on bytes (not installed)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tke-journal.h"

G_BEGIN_DECLS

/* The records of a journal's text (@length bytes, any content), oldest
 * first; lines that are not records are skipped.  What tke_journal_read()
 * does after reading the file, and the entry point of the fuzz target. */
GPtrArray *_tke_journal_parse_bytes (const char *data, gsize length);

G_END_DECLS
