/* tke-pin-prompt.h: "insert the card, enter the PIN on the PIN pad", live
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/**
 * TkePinPromptState:
 * @TKE_PIN_PROMPT_WAITING_FOR_CARD: waiting for a card in the reader
 * @TKE_PIN_PROMPT_CARD_FOUND: a card is in; reading it
 * @TKE_PIN_PROMPT_ENTER_PIN: the PIN pad waits for the PIN
 * @TKE_PIN_PROMPT_ACCEPTED: the card took the PIN
 * @TKE_PIN_PROMPT_WRONG_PIN: the PIN was wrong; tries are left
 * @TKE_PIN_PROMPT_BLOCKED: the card is blocked
 * @TKE_PIN_PROMPT_CANCELLED: the PIN entry was cancelled on the pad, or timed out
 * @TKE_PIN_PROMPT_WRONG_CARD: the card in the reader is not the kind asked for
 * @TKE_PIN_PROMPT_CHOOSE: the card was read; the person chooses what to use from it
 * @TKE_PIN_PROMPT_WORKING: the pad has the PIN; the card checks it and does its work
 */
typedef enum
{
  TKE_PIN_PROMPT_WAITING_FOR_CARD,
  TKE_PIN_PROMPT_CARD_FOUND,
  TKE_PIN_PROMPT_ENTER_PIN,
  TKE_PIN_PROMPT_ACCEPTED,
  TKE_PIN_PROMPT_WRONG_PIN,
  TKE_PIN_PROMPT_BLOCKED,
  TKE_PIN_PROMPT_CANCELLED,
  TKE_PIN_PROMPT_WRONG_CARD,
  TKE_PIN_PROMPT_CHOOSE,
  TKE_PIN_PROMPT_WORKING,
} TkePinPromptState;

#define TKE_TYPE_PIN_PROMPT (tke_pin_prompt_get_type ())

G_DECLARE_FINAL_TYPE (TkePinPrompt, tke_pin_prompt, TKE, PIN_PROMPT, GtkWidget)

GtkWidget *tke_pin_prompt_new (void);
void tke_pin_prompt_set_reader (TkePinPrompt *self, guint reader, const char *card_kind);
void tke_pin_prompt_set_state (TkePinPrompt *self,
                               TkePinPromptState state,
                               const char *card_description,
                               guint tries_left);
TkePinPromptState tke_pin_prompt_get_state (TkePinPrompt *self);
const char *tke_pin_prompt_get_title (TkePinPrompt *self);
const char *tke_pin_prompt_get_description (TkePinPrompt *self);
/* Shows the on-screen pad wired to CONTROL_PATH, or hides it (NULL). */
void tke_pin_prompt_set_pin_timeout (TkePinPrompt *self, guint seconds);
guint tke_pin_prompt_get_seconds_left (TkePinPrompt *self);
const char *tke_pin_prompt_get_countdown_text (TkePinPrompt *self);
void tke_pin_prompt_set_virtual_pad (TkePinPrompt *self, const char *control_path);
guint tke_pin_prompt_get_reader (TkePinPrompt *self);
/* Both readers' pads: the one shown follows tke_pin_prompt_set_reader(). */
void tke_pin_prompt_set_virtual_pads (TkePinPrompt *self,
                                      const char *reader1_control,
                                      const char *reader2_control);
GtkWidget *tke_pin_prompt_get_pad (TkePinPrompt *self);

G_END_DECLS
