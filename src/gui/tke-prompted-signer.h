/* tke-prompted-signer.h: an administrator card signer that shows its card and PIN steps
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

#include "tke-pin-prompt.h"

G_BEGIN_DECLS

#define TKE_TYPE_PROMPTED_SIGNER (tke_prompted_signer_get_type ())

/* The administrators whose cards can sign at once here: one in each of
 * the workstation's two readers, so that no card is swapped between the
 * commands of a ceremony that signs each command with every one. */
#define TKE_PROMPTED_SIGNERS_AT_ONCE 2

G_DECLARE_FINAL_TYPE (TkePromptedSigner, tke_prompted_signer, TKE, PROMPTED_SIGNER, GObject)

TkePromptedSigner *tke_prompted_signer_new (TkeCardSigner *card_signer, TkePinPrompt *prompt);
TkePromptedSigner *
tke_prompted_signer_new_for_reader (TkeCardSigner *card_signer, guint reader, TkePinPrompt *prompt);
/* TRUE from the first signature asked for until the PIN was accepted or refused. */
gboolean tke_prompted_signer_get_active (TkePromptedSigner *self);
/* TRUE while only the wait for the card runs: nothing was sent yet, so
 * stopping is safe. */
gboolean tke_prompted_signer_get_cancellable_now (TkePromptedSigner *self);
/* Stops the wait for the card; every signature asked for fails. */
void tke_prompted_signer_cancel (TkePromptedSigner *self);

G_END_DECLS
