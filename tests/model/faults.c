/* faults.c: the model suite's rotations, with the faults injected into
 * them, the advice followed after each, and the steps through the tke CLI
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The faults: the rewrap failing after some keys ([faults] fail-after-keys),
 * set immediate failing on one unit (--fail-setimm-on), the service killed
 * with SIGKILL during the rewrap (--crash-after-keys), 20 % of the answers
 * HTTP 500 (--http-500-rate), and every token expiring during the rewrap
 * ([faults] expire-tokens-after-keys).  After each the walk logs in again
 * where it must and follows libtke's advice until the rotation is done.
 */

#include "config.h"

#include <string.h>
#include <unistd.h>

#include "model-private.h"

static const char *const all_messages[] = { TKE_ROTATION_MESSAGE_STARTED,
                                            TKE_ROTATION_MESSAGE_REWRAPPED,
                                            TKE_ROTATION_MESSAGE_SUCCESSFUL };

static void
on_message (TkeRotation *rotation, const char *text, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (text));
}

static TkeRotation *
new_rotation (Walk *w, GPtrArray *messages)
{
  g_autoptr (GPtrArray) units = g_ptr_array_new_with_free_func (g_object_unref);
  TkeRotation *rotation;

  for (guint i = 0; i < w->model.n_units; i++)
    if (w->model.units[i].selected)
      g_ptr_array_add (units, g_object_ref (unit_at (w, i)));
  rotation = tke_rotation_new (w->client, w->instance, units);
  tke_rotation_set_signers (rotation, w->signers);
  tke_rotation_set_poll_interval (rotation, 10);
  g_ptr_array_set_size (messages, 0);
  g_signal_connect (rotation, "message", G_CALLBACK (on_message), messages);
  return rotation;
}

/* Follows the advice after a failed rotation until it is done; with
 * @fresh, each round in a new TkeRotation (a new client or service). */
static void
recover (Walk *w, TkeRotation **rotation, GPtrArray *messages, gboolean fresh)
{
  for (guint round = 0; round < 6; round++)
    {
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (GError) error = NULL;
      TkeRecoveryAction before;

      if (fresh)
        {
          g_clear_object (rotation);
          *rotation = new_rotation (w, messages);
        }
      tke_rotation_recover_async (*rotation, NULL, on_done, &result);
      wait_for (&result);
      before = tke_rotation_has_advice (*rotation) ? tke_rotation_get_advice (*rotation)
                                                   : TKE_RECOVERY_ACTION_NONE;
      if (tke_rotation_recover_finish (*rotation, result, &error))
        {
          if (tke_rotation_get_advice (*rotation) == TKE_RECOVERY_ACTION_NONE)
            return;
          continue;
        }
      if (before == TKE_RECOVERY_ACTION_STOP)
        diverge (w, "the advice stops: %s", error->message);
      g_string_append_printf (w->steps, "      recovery round %u failed: %s\n", round,
                              error->message);
    }
  diverge (w, "the advice did not end the rotation");
}

/* ---- The tke CLI ---- */

void
cli_ensure (Walk *w)
{
  if (!w->cli_set_up)
    {
      rot_cli_setup (&w->f);
      w->cli_units = DEMO_UNITS; /* rot_cli_setup() selects units 1 to 3 */
    }
  else if (!w->cli_logged_in)
    rot_cli_login (&w->f);
  w->cli_set_up = w->cli_logged_in = TRUE;
  /* The failover units failover-enable added, into the CLI's selection. */
  for (; w->cli_units < w->model.n_units; w->cli_units++)
    {
      g_autofree char *num =
          g_strdup_printf ("%u", tke_crypto_unit_get_number (unit_at (w, w->cli_units)));
      g_auto (RotRun) add = rot_tke (&w->f, NULL, "cryptounit-add", num, NULL);

      if (add.status != 0)
        diverge (w, "tke cryptounit-add %s (%d): %s%s", num, add.status, add.out, add.err);
    }
}

/* A refused verb says libtke's reason and changes nothing; an allowed one
 * says OK. */
static void
cli_check (Walk *w, const char *verb, RotRun *run, gboolean allowed)
{
  if (allowed && run->status != 0)
    diverge (w, "tke %s failed (%d): %s%s", verb, run->status, run->out, run->err);
  if (!allowed && run->status == 0)
    diverge (w, "tke %s ran where the model refuses it:\n%s", verb, run->out);
  w->n_cli++;
}

/* Each part as a key part file (mk-add --value), then cryptounit-mk-load. */
void
cli_load (Walk *w, GPtrArray *parts, gboolean allowed)
{
  g_autoptr (GString) lines = g_string_new (NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_auto (RotRun) load = { 0 };

  cli_ensure (w);
  g_string_append_printf (lines, "%s\n", w->f.pw1);
  for (guint i = 0; i < parts->len; i++)
    {
      TkeSecret *value = TEST_PART (parts->pdata[i])->value;
      g_autofree char *hex = tke_crypto_hex_encode (tke_secret_get_data (value), 32);
      g_autofree char *input = g_strdup_printf ("%s\nmodelpart\nmodelpart\n", hex);
      g_autofree char *expected = g_strdup_printf ("KEYNUM %u:", w->next_keynum);
      g_auto (RotRun) add =
          rot_tke (&w->f, input, "mk-add", "--value", "--description", "model", NULL);

      if (add.status != 0 || strstr (add.out, expected) == NULL)
        diverge (w, "tke mk-add (%d): %s%s", add.status, add.out, add.err);
      g_ptr_array_add (argv, g_strdup_printf ("%u", w->next_keynum++));
      g_string_append (lines, "modelpart\n");
    }
  load = rot_tke (&w->f, lines->str, "cryptounit-mk-load", argv->pdata[0], argv->pdata[1],
                  argv->len > 2 ? argv->pdata[2] : "--yes", "--yes", NULL);
  cli_check (w, "cryptounit-mk-load", &load, allowed);
}

void
cli_register (Walk *w, TkeCeremonyKind kind, gboolean allowed)
{
  g_autofree char *both = g_strdup_printf ("%s\n%s\n", w->f.pw1, w->f.pw2);
  const char *verb = kind == TKE_CEREMONY_COMMIT ? "cryptounit-mk-commit" : "cryptounit-mk-setimm";
  g_auto (RotRun) run = { 0 };

  g_assert_true (kind == TKE_CEREMONY_COMMIT || kind == TKE_CEREMONY_SET_IMMEDIATE);
  cli_ensure (w);
  run = rot_tke (&w->f, both, verb, "--yes", NULL);
  cli_check (w, verb, &run, allowed);
}

/* A plain rotation through the tke CLI: the same messages in order on its
 * output, the keys rewrapped. */
static void
rotate_with_cli (Walk *w)
{
  g_autofree char *pw = g_strdup_printf ("%s\n", w->f.pw1);
  g_autofree char *done = g_strdup_printf ("Rewrapped %d of %d keys", N_KEYS, N_KEYS);
  g_auto (RotRun) rotate = { 0 };
  const char *at;

  cli_ensure (w);
  rotate = rot_tke (&w->f, pw, "cryptounit-mk-rotate", "--yes", NULL);
  if (rotate.status != 0)
    diverge (w, "tke cryptounit-mk-rotate failed (%d): %s%s", rotate.status, rotate.out,
             rotate.err);
  at = rotate.out;
  for (guint i = 0; i < 3; i++)
    {
      const char *found = strstr (at, all_messages[i]);

      if (found == NULL)
        diverge (w, "“%s” missing or out of order in the CLI's output:\n%s", all_messages[i],
                 rotate.out);
      at = found + strlen (all_messages[i]);
    }
  if (strstr (rotate.out, done) == NULL)
    diverge (w, "the CLI does not say “%s”:\n%s", done, rotate.out);
  w->n_cli++;
  w->n_cli_rotations++;
}

/* ---- Rotations ---- */

static void
arm (Walk *w, const char *key, guint keys)
{
  g_autofree char *text = g_strdup_printf ("[faults]\n%s=%u\n", key, keys);

  g_assert_true (g_file_set_contents (w->faults_file, text, -1, NULL));
}

/* Arms the fault of @s; returns whether the service was restarted. */
static void
inject (Walk *w, const Step *s)
{
  guint n = CLAMP (s->n, 1, N_KEYS - 1);

  w->n_faults++;
  w->n_faults_by_op[s->op]++;
  if (s->op == OP_ROTATE_FAIL_REWRAP)
    arm (w, "fail-after-keys", n);
  else if (s->op == OP_ROTATE_TOKEN_EXPIRY)
    arm (w, "expire-tokens-after-keys", n);
  else if (s->op == OP_ROTATE_FAIL_SETIMM)
    {
      g_autofree char *unit = g_strdup_printf ("%u", s->unit % w->model.n_units + 1);

      restart (w, "--fail-setimm-on", unit);
    }
  else if (s->op == OP_ROTATE_HTTP_500)
    restart (w, "--http-500-rate", "0.2");
  else
    {
      g_autofree char *keys = g_strdup_printf ("%u", n);

      restart (w, "--crash-after-keys", keys);
    }
}

/* A rotation the model refuses: refused before anything was sent, with an
 * advice that is no loop. */
static void
check_refused (Walk *w, TkeRotation *rotation, GPtrArray *messages, gboolean ok, GError *error)
{
  if (ok || !g_error_matches (error, TKE_ERROR, TKE_ERROR_PRECHECK_FAILED))
    diverge (w, "a rotation the model refuses: %s", ok ? "ran" : error->message);
  if (!tke_rotation_has_advice (rotation) ||
      tke_rotation_get_advice (rotation) != TKE_RECOVERY_ACTION_ROTATE || messages->len > 0)
    diverge (w, "a refused rotation advises %d and says %u messages",
             tke_rotation_get_advice (rotation), messages->len);
}

/* After a fault: a clean service, a new login where the token or the
 * service went, then the advice until the rotation is done. */
static gboolean
after_fault (Walk *w, const Step *s, TkeRotation **rotation, GPtrArray *messages, GError *error)
{
  gboolean fresh = s->op != OP_ROTATE_FAIL_REWRAP;

  g_string_append_printf (w->steps, "      failed as injected: %s\n", error->message);
  if (s->op == OP_ROTATE_TOKEN_EXPIRY)
    {
      if (!g_error_matches (error, TKE_ERROR, TKE_ERROR_AUTH_EXPIRED))
        diverge (w, "the token expired, libtke says: %s", error->message);
      /* Log in again, as the hint says; the service kept running. */
      connect_client (w);
      emu_login (w->f.emu);
      w->cli_logged_in = FALSE;
    }
  else if (fresh)
    restart (w, NULL, NULL);
  recover (w, rotation, messages, fresh);
  return fresh;
}

void
op_rotate (Walk *w, const Step *s)
{
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (TkeRotation) rotation = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gboolean allowed = check_allowed (w, TKE_CEREMONY_ROTATE, op_names[s->op]);
  gboolean ok, fresh = FALSE;

  if (allowed && s->op != OP_ROTATE)
    inject (w, s);
  if (allowed && s->op == OP_ROTATE && s->cli)
    {
      g_string_append (w->steps, "      through the tke CLI\n");
      rotate_with_cli (w);
      w->n_rotations++;
      model_rotated (w);
      return;
    }
  rotation = new_rotation (w, messages);
  tke_rotation_run_async (rotation, NULL, on_done, &result);
  wait_for (&result);
  ok = tke_rotation_run_finish (rotation, result, &error);
  if (!allowed)
    {
      check_refused (w, rotation, messages, ok, error);
      return;
    }
  w->n_rotations++;
  if (!ok && s->op == OP_ROTATE)
    diverge (w, "a rotation without a fault failed: %s", error->message);
  if (!ok)
    fresh = after_fault (w, s, &rotation, messages, error);
  else if (s->op == OP_ROTATE_FAIL_SETIMM || s->op == OP_ROTATE_TOKEN_EXPIRY)
    diverge (w, "%s: the rotation passed", op_names[s->op]);
  else if (s->op != OP_ROTATE)
    {
      /* The armed fault lay past the last key, or no answer was a 500:
       * nothing to recover. */
      if (s->op == OP_ROTATE_KILL || s->op == OP_ROTATE_HTTP_500)
        restart (w, NULL, NULL);
      unlink (w->faults_file);
    }
  if (s->op == OP_ROTATE_FAIL_SETIMM)
    {
      /* The advice deselected the units that had switched: select all again. */
      for (guint i = 0; i < w->model.n_units; i++)
        tke_crypto_unit_set_selected (unit_at (w, i), TRUE);
    }
  /* The messages of this rotation, in order, each once (a resumed rotation
   * in a new TkeRotation tells its whole story again). */
  if (messages->len != 3 && !(fresh && messages->len >= 3))
    diverge (w, "%u messages", messages->len);
  for (guint i = 0; i < 3; i++)
    if (g_strcmp0 (messages->pdata[messages->len - 3 + i], all_messages[i]) != 0)
      diverge (w, "message %u is “%s”", i + 1, (char *) messages->pdata[messages->len - 3 + i]);
  model_rotated (w);
}
