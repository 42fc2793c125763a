/* tke-instance-setup.h: setting an instance up from imprint mode, and the
 * rules on administrators and thresholds
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
#include "tke-version-macros.h"

G_BEGIN_DECLS

/**
 * TkeSetupStep:
 * @TKE_SETUP_STEP_ADMINISTRATORS: the units are in imprint mode: install
 *   administrators (then set the thresholds)
 * @TKE_SETUP_STEP_THRESHOLDS: administrators are installed and the units
 *   are still in imprint mode: set the signature thresholds
 * @TKE_SETUP_STEP_LOAD: the units left imprint mode; load the first
 *   master key
 * @TKE_SETUP_STEP_COMMIT: the new registers are loaded: commit them
 * @TKE_SETUP_STEP_SET_IMMEDIATE: the new registers are committed: set
 *   immediate (first activation)
 * @TKE_SETUP_STEP_DONE: every unit has a Valid current master key
 * @TKE_SETUP_STEP_BLOCKED: the units are in no state the set-up knows
 *   (unreachable, or some in imprint mode and some not): the description
 *   says why
 *
 * Where the set-up of an instance stands, read from the units' registers,
 * administrators and imprint mode alone, so that a set-up resumes where it
 * was after a restart.
 */
typedef enum
{
  TKE_SETUP_STEP_ADMINISTRATORS,
  TKE_SETUP_STEP_THRESHOLDS,
  TKE_SETUP_STEP_LOAD,
  TKE_SETUP_STEP_COMMIT,
  TKE_SETUP_STEP_SET_IMMEDIATE,
  TKE_SETUP_STEP_DONE,
  TKE_SETUP_STEP_BLOCKED,
} TkeSetupStep;

TKE_AVAILABLE_IN_ALL
TkeSetupStep tke_instance_setup_get_step (GListModel *units, char **description);
TKE_AVAILABLE_IN_ALL
gboolean tke_instance_setup_check_thresholds (GListModel *units,
                                              guint signature_threshold,
                                              guint revocation_threshold,
                                              GError **error);
TKE_AVAILABLE_IN_ALL
guint tke_instance_setup_get_n_signers (TkeCeremonyKind kind,
                                        GListModel *units,
                                        guint new_signature_threshold);
TKE_AVAILABLE_IN_ALL
gboolean tke_instance_setup_leaves_imprint_mode (GListModel *units);
TKE_AVAILABLE_IN_ALL
gboolean tke_instance_setup_check_new_administrator (GListModel *units,
                                                     const char *name,
                                                     const char *ski,
                                                     GError **error);
TKE_AVAILABLE_IN_ALL
gboolean tke_instance_setup_check_removal (GListModel *units, const char *ski, GError **error);
TKE_AVAILABLE_IN_ALL
GListModel *tke_instance_setup_units_lacking (GListModel *units, const char *ski);

G_END_DECLS
