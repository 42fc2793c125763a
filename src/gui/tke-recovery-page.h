/* tke-recovery-page.h: what to do after a failed rotation, and only that
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>
#include <tke.h>

G_BEGIN_DECLS

/**
 * TkeRecoveryPageAction:
 * @TKE_RECOVERY_PAGE_NONE: no rotation is waiting for recovery
 * @TKE_RECOVERY_PAGE_ROTATE_AGAIN: run Rotate again (it resumes)
 * @TKE_RECOVERY_PAGE_SET_IMMEDIATE: Set immediate on all selected units
 * @TKE_RECOVERY_PAGE_REMOVE_AND_SET_IMMEDIATE: deselect the units already
 *   switched to the new key, then Set immediate on the rest
 * @TKE_RECOVERY_PAGE_DO_NOTHING: no action is safe; the explanation says what differs
 *
 * The answers of libtke's recovery advisor (DESIGN §5), as the page shows them.
 */
typedef enum
{
  TKE_RECOVERY_PAGE_NONE,
  TKE_RECOVERY_PAGE_ROTATE_AGAIN,
  TKE_RECOVERY_PAGE_SET_IMMEDIATE,
  TKE_RECOVERY_PAGE_REMOVE_AND_SET_IMMEDIATE,
  TKE_RECOVERY_PAGE_DO_NOTHING,
} TkeRecoveryPageAction;

#define TKE_TYPE_RECOVERY_PAGE (tke_recovery_page_get_type ())

G_DECLARE_FINAL_TYPE (TkeRecoveryPage, tke_recovery_page, TKE, RECOVERY_PAGE, AdwBin)

GtkWidget *tke_recovery_page_new (void);
void tke_recovery_page_set_advice (TkeRecoveryPage *self,
                                   TkeRecoveryPageAction action,
                                   const char *explanation,
                                   GListModel *units);
TkeRecoveryPageAction tke_recovery_page_get_action (TkeRecoveryPage *self);

G_END_DECLS
