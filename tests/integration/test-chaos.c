/* test-chaos.c: kill -9 the service at a random point of a rotation,
 * restart it, follow tke_recovery_advise() until done, verify every key
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One emulator state directory, one rotation per iteration.  Half the
 * iterations start the emulator with a random --crash-after-keys (it kills
 * itself in the middle of a rewrap batch), the other half SIGKILL it after
 * a random delay, which can land anywhere: before the start, during the
 * rewrap, between the set immediate calls of the units, or after the end.
 * Then the emulator is restarted (sometimes with another crash armed) and
 * TkeRotation's recover does what the advice says, until the advice is
 * "nothing to do".  Every root key must unwrap afterwards: keys lost = 0.
 *
 * TKE_CHAOS_ITERATIONS (default 25) and TKE_CHAOS_SEED set the run.
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>

#include "rotation-fixture.h"
#include "tke-test-util.h"

#define N_KEYS 4500
#define MAX_STEPS 12

typedef struct
{
  RotFixture f;
  GRand *rand;
  TkeJournal *journal;
  gint64 full_run_us;    /* how long a whole rotation takes, measured */
  GHashTable *histogram; /* advice sequence → count */
  guint kills;
  guint kill_source;
  gboolean killed;
  gint64 keys_lost;
} Chaos;

static gboolean
emu_alive (Emu *emu)
{
  return emu->process != NULL && g_subprocess_get_identifier (emu->process) != NULL;
}

/* A logged-in client, the instance, and a rotation over all its units. */
static TkeRotation *
make_rotation (Chaos *c)
{
  RotFixture *f = &c->f;
  g_autoptr (TkeServiceClient) client = tke_service_client_new (f->emu->url, f->emu->ca_file);
  g_autoptr (TkeSecret) api_key =
      tke_secret_new_from_data ((const guint8 *) f->emu->api_key, strlen (f->emu->api_key));
  g_autoptr (GAsyncResult) login = NULL, listed = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (GPtrArray) units = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *key_path = g_build_filename (f->state, "admin1.sigkey", NULL);
  g_autoptr (TkeSignatureKeyFile) key_file = tke_signature_key_file_load (key_path, NULL);
  g_autoptr (TkeSecret) password =
      tke_secret_new_from_data ((const guint8 *) f->pw1, strlen (f->pw1));
  g_autoptr (GError) error = NULL;
  GListModel *model;
  TkeRotation *rotation;

  /* NULL if the service died (an armed crash) in the meantime. */
  tke_service_client_set_unit_root (client, f->emu->unit_root);
  tke_service_client_login_async (client, api_key, NULL, tke_test_async_done, &login);
  tke_test_await (&login, 0);
  if (!tke_service_client_login_finish (client, login, &error))
    return NULL;
  tke_service_client_list_units_async (client, NULL, tke_test_async_done, &listed);
  tke_test_await (&listed, 0);
  instance = tke_service_client_list_units_finish (client, listed, &error);
  if (instance == NULL)
    return NULL;
  model = tke_service_instance_get_units (instance);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      TkeCryptoUnit *unit = g_list_model_get_item (model, i);

      tke_crypto_unit_set_selected (unit, TRUE);
      g_ptr_array_add (units, unit);
    }
  g_assert_nonnull (key_file);
  g_ptr_array_add (signers, tke_file_signer_new (key_file, password));
  rotation = tke_rotation_new (client, instance, units);
  tke_rotation_set_signers (rotation, signers);
  tke_rotation_set_journal (rotation, c->journal);
  tke_rotation_set_poll_interval (rotation, 20);
  return rotation;
}

/* An armed crash kills the service by itself; wait until it is reaped. */
static void
wait_dead (Chaos *c)
{
  for (guint i = 0; i < 500 && emu_alive (c->f.emu); i++)
    g_usleep (10000);
  if (!emu_alive (c->f.emu) && c->f.emu->process != NULL)
    emu_wait_exit (c->f.emu);
}

static gboolean
kill_now (gpointer user_data)
{
  Chaos *c = user_data;

  c->kill_source = 0;
  c->killed = TRUE;
  g_subprocess_send_signal (c->f.emu->process, SIGKILL);
  return G_SOURCE_REMOVE;
}

/* Restarts the emulator (killing it if it runs), sometimes with a crash armed. */
static void
restart (Chaos *c, gboolean arm)
{
  g_autofree char *n = g_strdup_printf ("%d", g_rand_int_range (c->rand, 1, N_KEYS + 1));
  const char *const crash[] = { "--crash-after-keys", n, NULL };

  rot_restart (&c->f, arm ? crash : NULL);
}

static const char *
action_name (TkeRecoveryAction action)
{
  switch (action)
    {
    case TKE_RECOVERY_ACTION_NONE:
      return "none";
    case TKE_RECOVERY_ACTION_ROTATE:
      return "rotate";
    case TKE_RECOVERY_ACTION_RESUME_ROTATE:
      return "resume";
    case TKE_RECOVERY_ACTION_SET_IMMEDIATE:
      return "setimm";
    case TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE:
      return "rm-switched+setimm";
    case TKE_RECOVERY_ACTION_STOP:
    default:
      return "STOP";
    }
}

/* Follows the advice until there is nothing left to do. */
static void
recover (Chaos *c, GString *sequence)
{
  for (guint step = 0; step < MAX_STEPS; step++)
    {
      g_autoptr (TkeRotation) rotation = NULL;
      g_autoptr (GAsyncResult) advised = NULL, done = NULL;
      g_autoptr (GError) error = NULL;
      TkeRecoveryAction action;

      if (!emu_alive (c->f.emu))
        {
          c->kills++;
          restart (c, g_rand_int_range (c->rand, 0, 4) == 0);
        }
      rotation = make_rotation (c);
      if (rotation != NULL)
        {
          tke_rotation_advise_async (rotation, NULL, tke_test_async_done, &advised);
          tke_test_await (&advised, 0);
          action = tke_rotation_advise_finish (rotation, advised, &error);
        }
      if (rotation == NULL || error != NULL)
        {
          /* The service died under us (an armed crash): restart, ask again. */
          g_string_append (sequence, ">down");
          wait_dead (c);
          continue;
        }
      g_string_append_printf (sequence, ">%s", action_name (action));
      if (action == TKE_RECOVERY_ACTION_NONE)
        return;
      if (action == TKE_RECOVERY_ACTION_STOP)
        g_error ("the advice is STOP: %s", tke_rotation_get_advice_explanation (rotation));
      tke_rotation_recover_async (rotation, NULL, tke_test_async_done, &done);
      tke_test_await (&done, 0);
      if (!tke_rotation_recover_finish (rotation, done, &error))
        {
          g_string_append (sequence, "(failed)");
          wait_dead (c);
        }
    }
  g_error ("no end after %u recovery steps: %s", MAX_STEPS, sequence->str);
}

static void
iteration (Chaos *c, guint i)
{
  g_autofree char *vp = NULL;
  g_autoptr (TkeRotation) rotation = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) sequence = g_string_new (NULL);
  gboolean self_crash = g_rand_boolean (c->rand);
  gint64 start;

  vp = rot_load_commit (&c->f);
  if (self_crash)
    restart (c, TRUE);
  rotation = make_rotation (c);
  if (!self_crash && c->full_run_us > 0)
    c->kill_source = g_timeout_add ((guint) (g_rand_double (c->rand) * 1.2 * c->full_run_us / 1000),
                                    kill_now, c);
  g_string_append (sequence, self_crash ? "crash" : "kill");
  start = g_get_monotonic_time ();
  tke_rotation_run_async (rotation, NULL, tke_test_async_done, &result);
  tke_test_await (&result, 0);
  if (tke_rotation_run_finish (rotation, result, &error))
    {
      if (c->full_run_us == 0)
        c->full_run_us = g_get_monotonic_time () - start;
      g_string_append (sequence, "(done)");
    }
  g_clear_handle_id (&c->kill_source, g_source_remove);
  if (c->killed || self_crash)
    wait_dead (c);
  c->killed = FALSE;
  if (!emu_alive (c->f.emu))
    {
      emu_wait_exit (c->f.emu);
      c->kills++;
      restart (c, FALSE);
    }
  recover (c, sequence);

  c->keys_lost += rot_keys_lost (&c->f);
  rot_assert_done (&c->f, vp);
  g_hash_table_insert (
      c->histogram, g_strdup (sequence->str),
      GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (c->histogram, sequence->str)) + 1));
  g_test_message ("iteration %u: %s", i + 1, sequence->str);
}

static void
test_chaos (void)
{
  const char *count_text = g_getenv ("TKE_CHAOS_ITERATIONS");
  const char *seed_text = g_getenv ("TKE_CHAOS_SEED");
  guint iterations = count_text != NULL ? (guint) g_ascii_strtoull (count_text, NULL, 10) : 25;
  guint32 seed = seed_text != NULL ? (guint32) g_ascii_strtoull (seed_text, NULL, 10)
                                   : (guint32) g_get_real_time ();
  Chaos chaos = { 0 }, *c = &chaos;
  g_autofree char *journal_path = NULL;
  g_autoptr (GList) keys = NULL;
  gint64 started = g_get_monotonic_time ();

  c->rand = g_rand_new_with_seed (seed);
  c->histogram = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  rot_start (&c->f, N_KEYS, NULL);
  journal_path = g_build_filename (c->f.cli.top, "journal", NULL);
  c->journal = tke_journal_new (journal_path);

  for (guint i = 0; i < iterations; i++)
    iteration (c, i);

  printf ("# chaos: seed %u, %u iterations of %d keys, %u kills, keys lost %" G_GINT64_FORMAT
          ", %.1f s\n",
          seed, iterations, N_KEYS, c->kills, c->keys_lost,
          (g_get_monotonic_time () - started) / 1e6);
  keys = g_list_sort (g_hash_table_get_keys (c->histogram), (GCompareFunc) g_strcmp0);
  for (GList *l = keys; l != NULL; l = l->next)
    printf ("# advice %4u × %s\n", GPOINTER_TO_UINT (g_hash_table_lookup (c->histogram, l->data)),
            (char *) l->data);
  g_assert_cmpint (c->keys_lost, ==, 0);

  g_object_unref (c->journal);
  g_hash_table_unref (c->histogram);
  g_rand_free (c->rand);
  rot_stop (&c->f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/chaos/kill-during-rotation", test_chaos);
  return g_test_run ();
}
