/* fuzz-common.h: what every libFuzzer target of tests/fuzz shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each target defines LLVMFuzzerTestOneInput.  With -Dfuzzing=true (clang)
 * libFuzzer supplies main(); otherwise fuzz-replay.c does, and replays the
 * committed corpus once (meson test --suite fuzz).
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

G_BEGIN_DECLS

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Once per process: criticals and warnings abort (a GLib critical is a bug
 * the input found), every XDG directory points into a private temporary
 * directory, and that directory is removed at exit. */
void fuzz_init (void);

/* The private temporary directory (in /dev/shm when it exists: the
 * targets write files on every input). */
const char *fuzz_tmpdir (void);

/* Writes @data to @name in fuzz_tmpdir() and returns the path. */
char *fuzz_write_file (const char *name, const uint8_t *data, size_t size);

/* The chip key of the virtual cards of card-image and make-corpus: fixed,
 * so that the committed card images load in the harness. */
#define FUZZ_CHIP_KEY "tke fuzz chip key: not a secret!"

/* Whether @needle occurs anywhere in @haystack. */
gboolean fuzz_contains (const uint8_t *haystack, size_t size, const void *needle, size_t length);

/* Aborts with @what: an oracle of a target failed. */
G_NORETURN void fuzz_fail (const char *format, ...) G_GNUC_PRINTF (1, 2);

G_END_DECLS
