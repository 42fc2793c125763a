/* tke-ceremony-rules.h: which ceremony the units allow now, and why not
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-ceremony.h"
#include "tke-crypto-unit.h"
#include "tke-journal.h"
#include "tke-recovery.h"
#include "tke-rotation-status.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

TKE_AVAILABLE_IN_ALL
char *tke_ceremony_why_not (TkeCeremonyKind kind,
                            GListModel *selected,
                            GListModel *instance_units,
                            TkeRecoveryAction recovery);
TKE_AVAILABLE_IN_ALL
gboolean
tke_ceremony_is_first_activation (GListModel *selected, GListModel *instance_units, char **reason);
TKE_AVAILABLE_IN_ALL
gboolean
tke_ceremony_unit_has_step_done (TkeCeremonyKind kind, TkeCryptoUnit *unit, GListModel *units);
TKE_AVAILABLE_IN_ALL
guint tke_ceremony_get_n_signatures (TkeCeremonyKind kind, TkeCryptoUnit *unit, guint n_parts);
TKE_AVAILABLE_IN_ALL
guint tke_ceremony_get_n_signers (TkeCeremonyKind kind, GListModel *units);
TKE_AVAILABLE_IN_ALL
TkeRecoveryAction tke_ceremony_resume_action (TkeRotationStatus *status,
                                              const TkeJournalRecord *interrupted);

G_END_DECLS
