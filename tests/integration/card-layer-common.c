/* card-layer-common.c: the person at the readers and the main-loop helpers of test-card-layer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * When libtke says the PIN pad waits, the person waits for the reader's
 * prompt on its control socket and types digits, presses Cancel, lets it
 * time out, pulls the card, or kills pcscd.
 */

#define _GNU_SOURCE
#include <signal.h>
#include <string.h>

#include "card-layer-common.h"

TkeReadersFixture fixture;

/* ---- The person at the readers ---- */

Person person;

void
person_expect (guint reader, const char *const *actions)
{
  g_queue_clear_full (&person.actions, g_free);
  person.reader = reader;
  person.prompts = 0;
  g_clear_pointer (&person.messages, g_ptr_array_unref);
  person.messages = g_ptr_array_new_with_free_func (g_free);
  for (; *actions != NULL; actions++)
    g_queue_push_tail (&person.actions, g_strdup (*actions));
}

void
kill_pcscd (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (kill (fixture.pcscd, SIGKILL), ==, 0);
  g_subprocess_wait (fixture.launcher, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (fixture.launcher), ==, 1);
  g_clear_object (&fixture.launcher);
}

static void
person_act (gboolean pin_prompt)
{
  g_autofree char *action = g_queue_pop_head (&person.actions);
  g_autofree char *answer = NULL;

  person.prompts++;
  g_test_message ("prompt %u on reader %u: %s", person.prompts, person.reader,
                  action != NULL && g_str_has_prefix (action, "keys") ? "keys" : action);
  if (person.cancel_on_prompt != NULL)
    g_cancellable_cancel (person.cancel_on_prompt);
  if (action == NULL || g_str_equal (action, "none"))
    return;
  if (pin_prompt)
    {
      g_autofree char *ready = tke_readers_ctl (&fixture, person.reader, "wait-prompt 8000");

      /* The operation failed before the pad asked: its error tells why. */
      if (!g_str_equal (ready, "ok"))
        {
          g_autofree char *status = tke_readers_ctl (&fixture, person.reader, "status");

          g_test_message ("no PIN prompt on reader %u: %s, %s", person.reader, ready, status);
          return;
        }
    }
  if (g_str_equal (action, "kill-pcscd"))
    {
      kill_pcscd ();
      return;
    }
  if (g_str_has_prefix (action, "swap "))
    {
      swap_card (person.reader, action + 5);
      return;
    }
  if (g_str_has_prefix (action, "insert "))
    {
      g_autofree char *path = tke_readers_path (&fixture, action + 7);
      g_autofree char *command = g_strconcat ("insert ", path, NULL);

      answer = tke_readers_ctl (&fixture, person.reader, command);
    }
  else
    answer = tke_readers_ctl (&fixture, person.reader, action);
  g_assert_cmpstr (answer, ==, "ok");
}

void
on_pin_requested (TkeCard *card, TkePinEntry entry, gpointer user_data)
{
  person_act (TRUE);
}

void
on_prompt (GObject *source, TkeCardPrompt kind, const char *message, gpointer user_data)
{
  g_ptr_array_add (person.messages, g_strdup (message));
  person_act (kind == TKE_CARD_PROMPT_ENTER_PIN);
}

/* ---- Main loop helpers ---- */

gboolean
too_long (gpointer user_data)
{
  g_error ("%s: no answer within 60 s", (const char *) user_data);
  return G_SOURCE_REMOVE;
}

TkeCard *
open_card (guint reader, gboolean wait, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  TkeCard *card;

  tke_card_open_async (reader, NULL, wait, NULL, tke_test_async_done, &result);
  card = tke_card_open_finish (tke_test_await (&result, 60), error);
  if (card == NULL && error != NULL && *error != NULL)
    g_test_message ("opening the card in reader %u: %s", reader, (*error)->message);
  if (card != NULL)
    {
      tke_card_set_pin_timeout (card, 20);
      g_signal_connect (card, "pin-requested", G_CALLBACK (on_pin_requested), NULL);
    }
  return card;
}

TkeCard *
open_card_ok (guint reader)
{
  g_autoptr (GError) error = NULL;
  TkeCard *card = open_card (reader, FALSE, &error);

  g_assert_no_error (error);
  g_assert_nonnull (card);
  return card;
}

gboolean
verify (TkeCard *card, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  tke_card_verify_pin_async (card, NULL, tke_test_async_done, &result);
  return tke_card_verify_pin_finish (card, tke_test_await (&result, 60), error);
}

GBytes *
sign_on_card (TkeCard *card, GBytes *data, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  tke_card_sign_async (card, data, NULL, tke_test_async_done, &result);
  return tke_card_sign_finish (card, tke_test_await (&result, 60), error);
}

/* Out, seen out by pcscd, then in: as a person swaps cards. */
void
swap_card (guint reader, const char *image)
{
  g_autofree char *path = tke_readers_path (&fixture, image);
  g_autofree char *command = g_strconcat ("insert ", path, NULL);
  g_autofree char *removed = tke_readers_ctl (&fixture, reader, "remove");
  g_autofree char *inserted = NULL;
  SCARDCONTEXT context;

  g_assert_cmpint (SCardEstablishContext (SCARD_SCOPE_SYSTEM, NULL, NULL, &context), ==,
                   SCARD_S_SUCCESS);
  tke_readers_wait_card (context, reader, FALSE);
  if (image != NULL)
    {
      inserted = tke_readers_ctl (&fixture, reader, command);
      g_assert_cmpstr (inserted, ==, "ok");
      tke_readers_wait_card (context, reader, TRUE);
    }
  SCardReleaseContext (context);
}

CardTestUnit *card_unit;

/* Every card holds the root of CARD_UNIT, the test's crypto unit. */
void
make_card (const char *name, const char *pin)
{
  g_autofree char *pins = g_strdup_printf ("111111\n222222\n%s\n", pin);
  g_autofree char *root = tke_readers_path (&fixture, "unit-root.hex");
  const char *args[] = { "create",        "--zone", "ca.card", "--description", name, "--unit-root",
                         "unit-root.hex", name,     NULL };

  if (card_unit == NULL)
    card_unit = card_test_unit_new (NULL, "1");
  card_test_unit_write_root (card_unit, root);

  g_assert_cmpint (tke_readers_card (&fixture, pins, args, NULL), ==, 0);
}

/* ---- The scene ---- */

static void
person_leaves (void)
{
  g_queue_clear_full (&person.actions, g_free);
  person.prompts = 0;
  person.cancel_on_prompt = NULL;
  g_clear_pointer (&person.messages, g_ptr_array_unref);
  person.messages = g_ptr_array_new_with_free_func (g_free);
}

void
scene_set_up (Scene *scene, gconstpointer data)
{
  static const char *const standard[] = { NULL, "admin1.card", "keyparts.card" };

  scene->readers = &fixture;
  person_leaves ();
  if (fixture.launcher == NULL)
    tke_readers_fixture_start (&fixture, standard[1], standard[2]);
  for (guint reader = 1; reader <= 2; reader++)
    if (!tke_readers_holds (&fixture, reader, standard[reader]))
      swap_card (reader, standard[reader]);
}

void
scene_tear_down (Scene *scene, gconstpointer data)
{
  person_leaves ();
}

void
restart_readers (const char *card1, const char *card2)
{
  tke_readers_fixture_stop (&fixture);
  tke_readers_fixture_start (&fixture, card1, card2);
}
