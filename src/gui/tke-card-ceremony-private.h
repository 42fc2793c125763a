/* tke-card-ceremony-private.h: TkeCardCeremony's parts: the ceremony
 * (tke-card-ceremony.c), the new administrator's card
 * (tke-card-ceremony-admin.c) and its words (tke-card-ceremony-words.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

#include "tke-card-ceremony.h"
#include "tke-load-wizard.h"

G_BEGIN_DECLS

struct _TkeCardCeremony
{
  GObject parent_instance;

  TkeServiceClient *client;
  TkeCeremonyKind kind;
  GListStore *units;     /* still to do */
  TkeLoadWizard *wizard; /* weak */
  GCancellable *cancellable;
  TkeCeremony *ceremony;
  GPtrArray *signers;
  guint active_signer; /* 1-based: whose card the wizard asks for */
  TkeCard *pin_typed;  /* the card that took a PIN; asked again, it was wrong */

  /* Load */
  guint part;             /* 1-based: the part being chosen or sealed */
  GCancellable *choosing; /* the wait for the card in reader 2 to go */
  GPtrArray *used;        /* "serial:index" of the parts sealed */
  GListStore *offered;    /* sources for the parts on the card in reader 2 */
  TkeCard *part_card;     /* the card in reader 2 whose PIN is asked before its list */
  TkeCardKeyPartSource *sealing;

  TkeAuditTrail *trail; /* the ceremony record, made on the first run */

  /* Administrators and thresholds */
  char *admin_ski; /* remove: whom */
  guint signature; /* set thresholds: the new ones */
  guint revocation;
  char *new_name; /* add: read from the new administrator's card */
  GBytes *new_key;
  TkeCard *new_card;

  gboolean finished;    /* ::finished was emitted */
  gboolean running;     /* the ceremony sends the commands (Load: after the sealing) */
  gboolean sealing_now; /* a part is being sealed: no second one until it ends */
  gboolean recording;   /* its first record is written, its last one not yet */
};

/* tke-card-ceremony.c, for the other parts */
gboolean _tke_card_ceremony_is_cancelled (const GError *error);
void _tke_card_ceremony_fail (TkeCardCeremony *self, const GError *error);
gboolean _tke_card_ceremony_handle_pin_error (TkeCardCeremony *self,
                                              const GError *error,
                                              TkeCard *card,
                                              void (*retry) (TkeCardCeremony *self));
void _tke_card_ceremony_show_prompt (TkeCardCeremony *self,
                                     TkeCardPrompt kind,
                                     const char *text,
                                     TkeCard *card);
void _tke_card_ceremony_start_signing (TkeCardCeremony *self);

/* tke-card-ceremony-admin.c: Add administrator reads the new one's card */
void _tke_card_ceremony_open_new_admin_card (TkeCardCeremony *self);

/* Unit by unit, what a ceremony of @kind that did @done units left. */
char *_tke_card_ceremony_describe_units (TkeCeremonyKind kind, GListModel *units, guint done);
/* The wizard's last page after a ceremony of @kind; @unit is the first. */
void
_tke_card_ceremony_show_result (TkeLoadWizard *wizard, TkeCeremonyKind kind, TkeCryptoUnit *unit);

G_END_DECLS
