/* tke-card-ceremony.h: a ceremony with smart cards, guided by the wizard
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

#include "tke-load-wizard.h"

G_BEGIN_DECLS

#define TKE_TYPE_CARD_CEREMONY (tke_card_ceremony_get_type ())

G_DECLARE_FINAL_TYPE (TkeCardCeremony, tke_card_ceremony, TKE, CARD_CEREMONY, GObject)

TkeCardCeremony *tke_card_ceremony_new (TkeServiceClient *client,
                                        TkeCeremonyKind kind,
                                        GListModel *units,
                                        TkeLoadWizard *wizard);
/* Remove administrator: whom (64 hex) */
void tke_card_ceremony_set_administrator_ski (TkeCardCeremony *self, const char *ski);
/* Set thresholds: the new ones */
void tke_card_ceremony_set_thresholds (TkeCardCeremony *self, guint signature, guint revocation);
void tke_card_ceremony_start (TkeCardCeremony *self);

G_END_DECLS
