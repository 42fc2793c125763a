/* card-layer-common.h: the person at the readers and the main-loop helpers of test-card-layer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

#include "card-unit-common.h"
#include "tke-readers-fixture.h"

#define ADMIN_PIN "123456"
#define PARTS_PIN "222222"
#define ADMIN2_PIN "654321"

extern TkeReadersFixture fixture;
/* The crypto unit whose root every card of the tests holds. */
extern CardTestUnit *card_unit;

typedef struct
{
  guint reader;
  GQueue actions; /* of char *: "keys D", "cancel", "timeout", "remove",
                   * "kill-pcscd", "insert IMAGE", "none" */
  guint prompts;
  GPtrArray *messages;
  GCancellable *cancel_on_prompt;
} Person;

extern Person person;

/* ACTIONS: what the person does at each prompt of READER, in order. */
void person_expect (guint reader, const char *const *actions);
void kill_pcscd (void);
void on_pin_requested (TkeCard *card, TkePinEntry entry, gpointer user_data);
void on_prompt (GObject *source, TkeCardPrompt kind, const char *message, gpointer user_data);

/* A main-loop guard: aborts the test with USER_DATA (a string). */
gboolean too_long (gpointer user_data);
void got_result (GObject *source, GAsyncResult *result, gpointer user_data);
GAsyncResult *await (GAsyncResult **slot);
TkeCard *open_card (guint reader, gboolean wait, GError **error);
TkeCard *open_card_ok (guint reader);
gboolean verify (TkeCard *card, GError **error);
GBytes *sign_on_card (TkeCard *card, GBytes *data, GError **error);
void swap_card (guint reader, const char *image);
void make_card (const char *name, const char *pin);
void restart_readers (const char *card1, const char *card2);

/* test-card-layer-sources.c */
void add_source_tests (void);
