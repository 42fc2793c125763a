/* tke-cli.h: the verbs of the tke command
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each group of verbs lives in its own tke-cli-GROUP.c and exports one
 * TkeCliVerbTable; tke-cli.c lists the tables.  Adding a group is one
 * line there and one file here.
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
  TKE_EXIT_AUTH = 3,
  TKE_EXIT_CANCELLED = 4,
} TkeExitCode;

typedef struct
{
  const char *name;
  const char *summary;
  /* argv[0] is the verb's name; "--help" prints its usage. */
  int (*run) (int argc, char **argv);
} TkeCliVerb;

typedef struct
{
  const TkeCliVerb *verbs;
  gsize n_verbs;
} TkeCliVerbTable;

const TkeCliVerb *tke_cli_find_verb (const char *name);

G_END_DECLS
