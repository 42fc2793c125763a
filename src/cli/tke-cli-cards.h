/* tke-cli-cards.h: smart cards for the tke verbs (--cards, --card)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

#include "tke-cli-common.h"

G_BEGIN_DECLS

/* N administrator cards taking turns in reader 1, prompts printed. */
GPtrArray *tke_cli_make_card_signers (guint n_signers);

/* The key parts at INDEXES (0: a card's only part) of cards taking turns
 * in reader 2; each is read now, so its holder sees its check value. */
GPtrArray *tke_cli_open_card_key_parts (GArray *indexes, GError **error);

/* The administrator card in reader 1: its name and public key. */
GBytes *tke_cli_read_card_admin (char **name, GError **error);

/* The highest signature threshold among UNITS (at least 1). */

G_END_DECLS
