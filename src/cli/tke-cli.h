/* tke-cli.h: the verbs of the tke command
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Exit codes, as `tke help` documents them. */
typedef enum
{
  TKE_EXIT_OK = 0,
  TKE_EXIT_FAILED = 1,
  TKE_EXIT_USAGE = 2,
} TkeExitCode;

typedef struct
{
  const char *name;
  const char *summary;
  int (*run) (int argc, char **argv);
} TkeCliVerb;

const TkeCliVerb *tke_cli_find_verb (const char *name);
const TkeCliVerb *tke_cli_get_verbs (gsize *n_verbs);

G_END_DECLS
