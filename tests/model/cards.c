/* cards.c: the model walk's administrator card, and the card pulled in the
 * middle of a commit
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * When the virtual readers are there (TKE_VIRTUAL_READERS, TKE_CARD: meson
 * sets them), a private pcscd runs them once per process with an
 * administrator card (made with tke-card) in reader 1, installed as a
 * third administrator of every unit.  The fault: a commit signed by the
 * card and one key file, the card pulled out of the reader after some of
 * the units took the commit (at the PIN prompt when none did).  The card
 * signer then waits for the card: put back, the commit goes on; after
 * Cancel the ceremony stops at that unit, the units before it keep the
 * commit (tke_ceremony_get_n_units_done()), and the model says so.  The
 * advice (tke_ceremony_unit_has_step_done()): insert the card and run the
 * same commit on the same units; the ones done are passed over.
 */

#include "config.h"

#include <string.h>

#include "model-private.h"
#include "tke-readers-fixture.h"

#define ADMIN_CARD "model-admin.card"
#define ADMIN_PIN "100001"

static TkeReadersFixture readers;
static gboolean readers_up;

static void
make_card (void)
{
  const char *ca[] = {
    "create-ca", "--zone-description", "Zone M", "--description", "CA M", "ca.card", NULL
  };
  const char *create[] = { "create",      "--zone",   "ca.card", "--description",
                           "Model admin", ADMIN_CARD, NULL };
  const char *sigkey[] = { "gen-sigkey", ADMIN_CARD, NULL };

  g_assert_cmpint (tke_readers_card (&readers, "777777\n888888\n", ca, NULL), ==, 0);
  g_assert_cmpint (tke_readers_card (&readers, "777777\n888888\n" ADMIN_PIN "\n", create, NULL), ==,
                   0);
  g_assert_cmpint (tke_readers_card (&readers, ADMIN_PIN "\n", sigkey, NULL), ==, 0);
}

/* Once per process; FALSE when the readers are not there. */
static gboolean
readers_start (void)
{
  if (readers_up)
    return TRUE;
  if (g_getenv ("TKE_VIRTUAL_READERS") == NULL || g_getenv ("TKE_CARD") == NULL)
    return FALSE;
  tke_readers_fixture_init (&readers);
  make_card ();
  tke_readers_fixture_start (&readers, ADMIN_CARD, NULL);
  readers_up = TRUE;
  return TRUE;
}

void
cards_stop (void)
{
  if (!readers_up)
    return;
  tke_readers_fixture_stop (&readers);
  tke_readers_fixture_clear (&readers);
  readers_up = FALSE;
}

/* The card's administrator on the units of @units (signed by both key files). */
void
cards_add_admin (Walk *w, GListModel *units)
{
  g_autoptr (TkeCeremony) add = NULL;
  g_autoptr (GError) error = NULL;

  if (w->card == NULL)
    return;
  add = tke_ceremony_new (w->client, TKE_CEREMONY_ADD_ADMIN, units);
  tke_ceremony_set_new_administrator (add, w->card_name, w->card_point);
  if (!run_ceremony (w, add, &error))
    diverge (w, "the card's administrator not added: %s", error->message);
}

void
cards_init (Walk *w)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GListStore) all = NULL;

  if (!readers_start ())
    return;
  w->card = TKE_SIGNER (tke_card_signer_new (NULL));
  tke_signer_get_public_key_async (w->card, NULL, on_done, &result);
  wait_for (&result);
  w->card_point = tke_signer_get_public_key_finish (w->card, result, &error);
  g_assert_no_error (error);
  w->card_name = g_strdup (tke_signer_get_name (w->card));
  all = selected_units (w);
  cards_add_admin (w, G_LIST_MODEL (all));
}

void
cards_clear (Walk *w)
{
  g_clear_object (&w->card);
  g_clear_pointer (&w->card_point, g_bytes_unref);
  g_clear_pointer (&w->card_name, g_free);
}

/* ---- The person at reader 1 ---- */

/* What the administrator does once the card is out: put it back (the
 * signer waits for it and the ceremony goes on), or press Cancel (the
 * ceremony stops; the units before keep the commit). */
typedef struct
{
  gint stop;
  gint pull_at_prompt; /* remove the card at the next PIN prompt */
  gint prompts;
  guint pull_after; /* units done before the pull */
  guint done;
  gboolean pulled;
  gboolean put_back; /* else Cancel */
  GCancellable *cancellable;
} Person;

static void
insert_card (void)
{
  g_autofree char *path = tke_readers_path (&readers, ADMIN_CARD);
  g_autofree char *command = g_strconcat ("insert ", path, NULL);
  g_autofree char *inserted = tke_readers_ctl (&readers, 1, command);

  g_assert_cmpstr (inserted, ==, "ok");
}

static void wait_card (gboolean present);

/* The card out; once pcscd has seen it gone, back in, or Cancel. */
static void
pull_card (Person *p)
{
  g_autofree char *removed = tke_readers_ctl (&readers, 1, "remove");

  g_assert_cmpstr (removed, ==, "ok");
  p->pulled = TRUE;
  wait_card (FALSE);
  if (p->put_back)
    insert_card ();
  else
    g_cancellable_cancel (p->cancellable);
}

static gpointer
person_run (gpointer data)
{
  Person *p = data;

  while (!g_atomic_int_get (&p->stop))
    {
      g_autofree char *prompt = tke_readers_ctl (&readers, 1, "wait-prompt 200");
      g_autofree char *keys = NULL, *ok = NULL;

      if (g_strcmp0 (prompt, "ok") != 0)
        continue;
      g_atomic_int_inc (&p->prompts);
      if (g_atomic_int_compare_and_exchange (&p->pull_at_prompt, 1, 0))
        {
          pull_card (p);
          continue;
        }
      keys = tke_readers_ctl (&readers, 1, "keys " ADMIN_PIN);
      ok = tke_readers_ctl (&readers, 1, "ok");
    }
  return NULL;
}

/* After @pull_after units took the commit, the card leaves the reader. */
static void
on_unit_done (TkeCeremony *ceremony, TkeCryptoUnit *unit, gpointer data)
{
  Person *p = data;

  if (++p->done == p->pull_after && !p->pulled)
    pull_card (p);
}

/* Until pcscd sees the card in reader 1 (or sees it gone). */
static void
wait_card (gboolean present)
{
  SCARDCONTEXT context;

  g_assert_cmpint (SCardEstablishContext (SCARD_SCOPE_SYSTEM, NULL, NULL, &context), ==,
                   SCARD_S_SUCCESS);
  tke_readers_wait_card (context, 1, present);
  SCardReleaseContext (context);
}

static void
wait_card_present (void)
{
  wait_card (TRUE);
}

static gboolean
run_commit (Walk *w, GListModel *units, Person *p, guint *n_done, GError **error)
{
  g_autoptr (TkeCeremony) commit = tke_ceremony_new (w->client, TKE_CEREMONY_COMMIT, units);
  /* A new signer: a new card session, so the PIN is asked again. */
  g_autoptr (TkeCardSigner) card = tke_card_signer_new (NULL);
  g_autoptr (GPtrArray) signers = g_ptr_array_new ();
  g_autoptr (GAsyncResult) result = NULL;
  GThread *thread;
  gboolean ok;

  g_ptr_array_add (signers, card);
  g_ptr_array_add (signers, w->signers->pdata[1]);
  tke_ceremony_set_signers (commit, signers);
  if (p->pull_after > 0)
    g_signal_connect (commit, "unit-done", G_CALLBACK (on_unit_done), p);
  thread = g_thread_new ("person", person_run, p);
  tke_ceremony_run_async (commit, p->cancellable, on_done, &result);
  wait_for (&result);
  ok = tke_ceremony_run_finish (commit, result, error);
  g_atomic_int_set (&p->stop, 1);
  g_thread_join (thread);
  *n_done = tke_ceremony_get_n_units_done (commit);
  return ok;
}

void
op_commit_card_pulled (Walk *w, const Step *s)
{
  g_autoptr (GListStore) selected = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  guint n_selected, n_done = 0, seen = 0;
  Person p = { 0 };
  gboolean ok;

  if (w->card == NULL)
    {
      /* No readers: a plain commit. */
      op_register (w, TKE_CEREMONY_COMMIT, "commit (no card readers)", FALSE);
      return;
    }
  if (!check_allowed (w, TKE_CEREMONY_COMMIT, op_names[s->op]))
    return;
  selected = selected_units (w);
  n_selected = g_list_model_get_n_items (G_LIST_MODEL (selected));
  /* 0: at the PIN prompt; n_selected: after the last unit. */
  p.pull_after = s->unit % (n_selected + 1);
  p.pull_at_prompt = p.pull_after == 0;
  p.put_back = s->n % 2 == 0;
  p.cancellable = cancellable;
  w->n_faults++;
  w->n_faults_by_op[s->op]++;
  ok = run_commit (w, G_LIST_MODEL (selected), &p, &n_done, &error);
  g_string_append_printf (w->steps, "      card pulled after %u of %u units, then %s: %s\n",
                          p.pull_after, n_selected, p.put_back ? "put back" : "Cancel",
                          ok ? "done" : error->message);
  if (ok)
    {
      /* Pulled between two signatures and put back (the signer waited for
       * it), pulled after the last unit, or no PIN prompt to pull it at
       * (the card's session was still open). */
      if (p.pulled ? p.pull_after > 0 && p.pull_after < n_selected && !p.put_back
                   : p.pull_after != 0)
        diverge (w, "the commit went on without the card (pulled after %u units)", p.pull_after);
      if (p.pulled && !p.put_back)
        {
          insert_card ();
          wait_card_present ();
        }
      model_apply (w, TKE_CEREMONY_COMMIT);
      return;
    }
  if (!p.pulled)
    diverge (w, "the commit failed, the card never pulled: %s", error->message);
  /* Pulled during the PIN entry (the card says so at once), or Cancel. */
  if (!g_error_matches (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    diverge (w, "the card pulled after %u units: %s", p.pull_after, error->message);
  if (p.put_back && p.pull_after > 0)
    diverge (w, "the card was put back, the commit failed: %s", error->message);
  /* The units before the pull keep the commit; the rest wait for it. */
  /* Units passed over (they had the commit before) count as done too
   * (soak seed 7010, step 202). */
  if (n_done < p.pull_after)
    diverge (w, "the card was pulled after %u units, libtke says %u were done", p.pull_after,
             n_done);
  for (guint i = 0; i < w->model.n_units; i++)
    if (w->model.units[i].selected && seen++ < n_done)
      w->model.units[i].new_state = TKE_NEW_REGISTER_FULL_COMMITTED;
  compare (w);
  if (!p.put_back)
    insert_card ();
  wait_card_present ();
  /* The advice: the card back in, the same commit on the same units; the
   * units done are passed over.  Nothing to resume when every unit took
   * the commit (Cancel after the last one, or the rest had it before):
   * libtke must say so too (seed 2026, step 551). */
  if (!check_allowed (w, TKE_CEREMONY_COMMIT, "commit again after the card was pulled"))
    return;
  {
    Person again = { 0 };

    g_clear_error (&error);
    if (!run_commit (w, G_LIST_MODEL (selected), &again, &n_done, &error))
      diverge (w, "the commit resumed with the card back: %s", error->message);
  }
  model_apply (w, TKE_CEREMONY_COMMIT);
}
