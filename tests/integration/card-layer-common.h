/* card-layer-common.h: the person at the readers and the main-loop helpers of test-card-layer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tke.h>

#include "card-unit-common.h"
#include "tke-test-readers.h"
#include "tke-test-util.h"

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

/* The g_test_add() fixture of every card layer test: the scene it starts
 * from.  pcscd runs with admin1.card in reader 1 and keyparts.card in
 * reader 2, and nobody at the readers has anything to do.  The set-up
 * puts back what a test before changed (a card swapped, pcscd killed), so
 * a test need not restore the readers itself. */
typedef struct
{
  TkeReadersFixture *readers; /* the process's readers: pcscd is slow to start */
} Scene;

void scene_set_up (Scene *scene, gconstpointer data);
void scene_tear_down (Scene *scene, gconstpointer data);
/* g_test_add() with the scene. */
#define add_scene_test(path, func)                                                                 \
  g_test_add ((path), Scene, NULL, scene_set_up, (func), scene_tear_down)

/* ACTIONS: what the person does at each prompt of READER, in order. */
void person_expect (guint reader, const char *const *actions);
void kill_pcscd (void);
void on_pin_requested (TkeCard *card, TkePinEntry entry, gpointer user_data);
void on_prompt (GObject *source, TkeCardPrompt kind, const char *message, gpointer user_data);

/* A main-loop guard: aborts the test with USER_DATA (a string). */
gboolean too_long (gpointer user_data);
TkeCard *open_card (guint reader, gboolean wait, GError **error);
TkeCard *open_card_ok (guint reader);
gboolean verify (TkeCard *card, GError **error);
GBytes *sign_on_card (TkeCard *card, GBytes *data, GError **error);
void swap_card (guint reader, const char *image);
void make_card (const char *name, const char *pin);
void restart_readers (const char *card1, const char *card2);

/* test-card-layer-sources.c */
void add_source_tests (void);

/* test-card-layer-files.c */
void add_file_tests (void);

/* test-card-layer-backup.c */
void add_backup_tests (void);
