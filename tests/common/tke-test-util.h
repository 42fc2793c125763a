/* tke-test-util.h: waiting on the main loop for an async result, and
 * temporary directory trees, for every kind of test
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A GAsyncReadyCallback: stores a reference to @result in the
 * `GAsyncResult *` that @user_data points to. */
void tke_test_async_done (GObject *source, GAsyncResult *result, gpointer user_data);
/* Iterates the default main context until *@slot is set (by
 * tke_test_async_done()); aborts the test after @timeout_s seconds
 * (0: no limit).  Returns *@slot, still owned by the caller. */
GAsyncResult *tke_test_await (GAsyncResult **slot, guint timeout_s);

/* Removes @path and everything below it; symbolic links are removed, not
 * followed.  A missing @path is not an error. */
void tke_test_remove_tree (const char *path);

/* How many times @needle occurs in @text (overlapping ones too). */
guint tke_test_count (const char *text, const char *needle);

G_END_DECLS
