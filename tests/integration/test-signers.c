/* test-signers.c: libtke's ceremonies sign signer by signer (issue 14
 * item 6), and what happens when that goes wrong, against a real emulator
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Commit over the demo instance's three units with its two key-file
 * administrators: every unit's command is prepared, then administrator 1
 * signs them all, then administrator 2, then they are sent.  The failure
 * modes: a command that would expire while the second administrator is
 * slow (prepared and signed again, never sent), a signer that fails
 * (nothing sent; a new run starts cleanly), and a unit whose counter moved
 * between the preparation and the sending (refused, a clear error, safe to
 * run again).  Imprint-mode units take no signatures.  (The same with
 * administrator cards, a card pulled and Cancel on the pad: the
 * card-ceremony test.)
 */

#include "config.h"

#include <glib/gstdio.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "client-fixture.h"
#include "tke-ceremony-private.h"

typedef struct
{
  Fixture f;
  GPtrArray *progress; /* char * */
  guint n_prepared;    /* ::prepared emissions */
  guint progress_at_prepared;
  /* The slow or interfering person: at the progress line containing
   * @slow_at, sleep @sleep_seconds (once), or move @move_unit's counter. */
  const char *slow_at;
  guint sleep_seconds;
  const char *move_at;
  guint move_unit;
} Signers;

static const char *const demo_args[] = { "--init", "demo", "--keys", "0", NULL };

static void
signers_start (Signers *s, const char *const *args)
{
  memset (s, 0, sizeof *s);
  fixture_start (&s->f, args);
  s->progress = g_ptr_array_new_with_free_func (g_free);
}

static void
signers_stop (Signers *s)
{
  g_ptr_array_unref (s->progress);
  fixture_stop (&s->f);
}

static TkeFileSigner *
demo_signer (Signers *s, guint index, gboolean right_password)
{
  g_autofree char *file = g_strdup_printf ("admin%u.sigkey", index);
  g_autofree char *password = demo_password (&s->f, file);

  return file_signer (&s->f, index, right_password ? password : "not the password");
}

static GPtrArray *
demo_signers (Signers *s, gboolean second_right)
{
  GPtrArray *signers = g_ptr_array_new_with_free_func (g_object_unref);

  install_demo_sigkeys (&s->f);
  g_ptr_array_add (signers, demo_signer (s, 1, TRUE));
  g_ptr_array_add (signers, demo_signer (s, 2, second_right));
  return signers;
}

/* A new key of two parts loaded on every unit (Full Uncommitted), with the
 * demo administrators' signatures sent straight to the emulator. */
static void
load_new_key (Signers *s)
{
  g_autoptr (TkeSecret) p1 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) p2 = tke_secret_new_random (32, NULL);
  TkeSecret *parts[] = { p1, p2 };
  g_autoptr (EVP_PKEY) a1 = emu_demo_admin (s->f.emu, 1);
  g_auto (GStrv) units = emu_unit_ids (s->f.emu);

  for (guint u = 0; units[u] != NULL; u++)
    {
      EVP_PKEY *one[] = { a1, NULL }, *two[] = { a1, a1, NULL };
      g_autoptr (JsonObject) imp =
          emu_command_ok (s->f.emu, units[u], "generate_importer_key", NULL, one);
      g_autofree char *load = emu_load_args (
          units[u], json_object_get_string_member (imp, "importer_key"), parts, 2, FALSE);
      g_autoptr (JsonObject) loaded = emu_command_ok (s->f.emu, units[u], "load", load, two);
    }
}

static gint64
counter_of (Signers *s, guint index)
{
  g_auto (GStrv) units = emu_unit_ids (s->f.emu);
  g_autoptr (JsonObject) q = emu_query (s->f.emu, units[index]);

  return json_object_get_int_member (q, "counter");
}

static const char *
new_status_of (Signers *s, guint index)
{
  g_auto (GStrv) units = emu_unit_ids (s->f.emu);
  g_autoptr (JsonObject) q = emu_query (s->f.emu, units[index]);
  static char status[64];

  g_strlcpy (status, json_object_get_string_member (q, "new_mk_status"), sizeof status);
  return status;
}

/* Another workstation's command reaches the unit first: thresholds set to
 * what they are, which only moves the counter. */
static void
move_counter (Signers *s, guint index)
{
  g_auto (GStrv) units = emu_unit_ids (s->f.emu);
  g_autoptr (EVP_PKEY) a1 = emu_demo_admin (s->f.emu, 1);
  g_autoptr (EVP_PKEY) a2 = emu_demo_admin (s->f.emu, 2);
  EVP_PKEY *both[] = { a1, a2, NULL };
  g_autoptr (JsonObject) q = emu_query (s->f.emu, units[index]);
  g_autofree char *args = g_strdup_printf ("{\"signature_threshold\":%" G_GINT64_FORMAT
                                           ",\"revocation_threshold\":%" G_GINT64_FORMAT "}",
                                           json_object_get_int_member (q, "signature_threshold"),
                                           json_object_get_int_member (q, "revocation_threshold"));
  g_autoptr (JsonObject) answer =
      emu_command_ok (s->f.emu, units[index], "set_thresholds", args, both);

  g_test_message ("moved the counter of crypto unit %u", index + 1);
}

static void
on_ceremony_progress (TkeCeremony *ceremony, TkeCryptoUnit *unit, const char *message, Signers *s)
{
  g_test_message ("progress: %s", message);
  g_ptr_array_add (s->progress, g_strdup (message));
  if (s->slow_at != NULL && strstr (message, s->slow_at) != NULL)
    {
      /* The person at the reader takes their time: the clock runs on. */
      g_test_message ("the administrator is slow: %u s", s->sleep_seconds);
      g_usleep (s->sleep_seconds * G_USEC_PER_SEC);
      s->slow_at = NULL;
    }
  if (s->move_at != NULL && strstr (message, s->move_at) != NULL)
    {
      move_counter (s, s->move_unit);
      s->move_at = NULL;
    }
}

static void
on_prepared (TkeCeremony *ceremony, Signers *s)
{
  g_test_message ("prepared: %s", tke_ceremony_get_summary (ceremony));
  if (s->n_prepared++ == 0)
    s->progress_at_prepared = s->progress->len;
}

static TkeCeremony *
make_ceremony (Signers *s, TkeCeremonyKind kind, GPtrArray *signers, TkeServiceInstance **instance)
{
  TkeCeremony *ceremony;

  *instance = list_units (&s->f);
  ceremony = tke_ceremony_new (s->f.client, kind, tke_service_instance_get_units (*instance));
  tke_ceremony_set_signers (ceremony, signers);
  g_signal_connect (ceremony, "progress", G_CALLBACK (on_ceremony_progress), s);
  g_signal_connect (ceremony, "prepared", G_CALLBACK (on_prepared), s);
  return ceremony;
}

static gboolean
run (TkeCeremony *ceremony, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  tke_ceremony_run_async (ceremony, NULL, on_done, &result);
  wait_for (&result);
  return tke_ceremony_run_finish (ceremony, result, error);
}

static guint
count_progress (Signers *s, const char *part)
{
  guint n = 0;

  for (guint i = 0; i < s->progress->len; i++)
    if (strstr (s->progress->pdata[i], part) != NULL)
      n++;
  return n;
}

/* The index of the first progress line containing @part, or -1. */
static int
first_progress (Signers *s, const char *part)
{
  for (guint i = 0; i < s->progress->len; i++)
    if (strstr (s->progress->pdata[i], part) != NULL)
      return (int) i;
  return -1;
}

static int
last_progress (Signers *s, const char *part)
{
  for (guint i = s->progress->len; i > 0; i--)
    if (strstr (s->progress->pdata[i - 1], part) != NULL)
      return (int) i - 1;
  return -1;
}

static void
assert_all_committed (Signers *s)
{
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (new_status_of (s, i), ==, "Full Committed");
}

/* ---- The order ---- */

static void
test_order (void)
{
  Signers s;
  g_autoptr (GPtrArray) signers = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (GError) error = NULL;
  gint64 before[3];
  const char *summary;

  signers_start (&s, demo_args);
  signers = demo_signers (&s, TRUE);
  load_new_key (&s);
  for (guint i = 0; i < 3; i++)
    before[i] = counter_of (&s, i);
  ceremony = make_ceremony (&s, TKE_CEREMONY_COMMIT, signers, &instance);
  g_assert_true (run (ceremony, &error));
  g_assert_no_error (error);

  /* Prepared once, before any signature; the summary names each unit
   * with its VP in the groups read aloud. */
  g_assert_cmpuint (s.n_prepared, ==, 1);
  g_assert_cmpint (first_progress (&s, "signing for"), ==, (int) s.progress_at_prepared);
  summary = tke_ceremony_get_summary (ceremony);
  g_assert_nonnull (strstr (summary, "Commit the new master key"));
  {
    g_autoptr (TkeCryptoUnit) unit =
        g_list_model_get_item (tke_service_instance_get_units (instance), 0);
    g_autofree char *groups = tke_vp_format_groups (tke_crypto_unit_get_new_register_vp (unit));
    g_autofree char *lines = g_strdup_printf ("\nCrypto units 1, 2, 3:\n%s", groups);

    /* One VP on every unit: said once, for all three. */
    g_assert_nonnull (strstr (summary, lines));
  }
  /* Administrator 1 for every unit, then administrator 2, then sending. */
  g_assert_cmpuint (count_progress (&s, "Administrator 1 of 2 (Admin One): signing for"), ==, 3);
  g_assert_cmpuint (count_progress (&s, "Administrator 2 of 2 (Admin Two): signing for"), ==, 3);
  g_assert_cmpint (last_progress (&s, "Administrator 1 of 2"), <,
                   first_progress (&s, "Administrator 2 of 2"));
  g_assert_cmpint (last_progress (&s, "Administrator 2 of 2"), <,
                   first_progress (&s, "committing"));
  for (guint i = 1; i <= 3; i++)
    {
      g_autofree char *line =
          g_strdup_printf ("Administrator 2 of 2 (Admin Two): signing for crypto "
                           "unit %u",
                           i);
      g_assert_cmpint (first_progress (&s, line), >=, 0);
    }
  g_assert_cmpuint (tke_ceremony_get_n_units_done (ceremony), ==, 3);
  assert_all_committed (&s);
  /* One command per unit reached it. */
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (counter_of (&s, i), ==, before[i] + 1);
  signers_stop (&s);
}

/* ---- What it costs on the wire ---- */

static guint
lines_in (const char *path)
{
  g_autofree char *text = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  for (const char *c = text; *c != '\0'; c++)
    n += *c == '\n';
  return n;
}

/* Issue 11: one Commit over N = 3 units against the emulator (with
 * @extra_arg, or NULL), counted in the emulator's request log; the units
 * the ceremony saw end Full Committed. */
static guint
commit_requests (const char *extra_arg, guint *n_units)
{
  Signers s;
  g_autoptr (GPtrArray) signers = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("tke-signers-log-XXXXXX", NULL);
  g_autofree char *log = g_build_filename (dir, "requests.log", NULL);
  const char *const args[] = { "--init",        "demo", "--keys",  "0",
                               "--request-log", log,    extra_arg, NULL };
  GListModel *units;
  guint before, n;

  signers_start (&s, args);
  signers = demo_signers (&s, TRUE);
  load_new_key (&s);
  ceremony = make_ceremony (&s, TKE_CEREMONY_COMMIT, signers, &instance);
  units = tke_service_instance_get_units (instance);
  *n_units = g_list_model_get_n_items (units);
  g_assert_cmpuint (*n_units, ==, 3);
  before = lines_in (log);
  g_assert_cmpuint (before, >, 0); /* the log is written */
  g_assert_true (run (ceremony, &error));
  g_assert_no_error (error);
  n = lines_in (log) - before;
  g_test_message ("Commit over %u units: %u requests", *n_units, n);
  for (guint i = 0; i < *n_units; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      g_assert_cmpint (tke_crypto_unit_get_new_register_state (unit), ==,
                       TKE_NEW_REGISTER_FULL_COMMITTED);
    }
  assert_all_committed (&s);
  signers_stop (&s);
  g_unlink (log);
  g_rmdir (dir);
  return n;
}

/* It reads each unit once before (the verified query whose state it
 * decides on and whose counter the command carries) and sends one command
 * per unit, whose signed answer carries the unit's new state
 * ("result.state"): 2 N requests (was 3 N, with a query after each
 * command, and 4 N before that).  Issue 11's target was 1 + 2 N. */
static void
test_requests (void)
{
  guint n_units, n = commit_requests (NULL, &n_units);

  g_assert_cmpuint (n, ==, 2 * n_units);
}

/* The same Commit against an older service, whose command answers carry
 * no "result.state": each unit is read again after its command (3 N),
 * and the units' states are still the committed ones. */
static void
test_requests_old_service (void)
{
  guint n_units, n = commit_requests ("--no-answer-state", &n_units);

  g_assert_cmpuint (n, ==, 3 * n_units);
}

/* ---- A command that would expire ---- */

/* The second administrator is slow at @slow_at: the commands not sent are
 * prepared and signed again, none is sent expired (the unit would refuse
 * it with command_expired, and the ceremony would fail). */
static void
expire_at (const char *slow_at)
{
  Signers s;
  g_autoptr (GPtrArray) signers = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (GError) error = NULL;
  gint64 before[3];

  signers_start (&s, demo_args);
  signers = demo_signers (&s, TRUE);
  load_new_key (&s);
  for (guint i = 0; i < 3; i++)
    before[i] = counter_of (&s, i);
  ceremony = make_ceremony (&s, TKE_CEREMONY_COMMIT, signers, &instance);
  /* Commands live 8 s here (10 minutes in use); the slow signer takes 7,
   * leaving less than the 2 s margin a command needs to be sent. */
  _tke_ceremony_set_command_lifetime (ceremony, 8);
  s.slow_at = slow_at;
  s.sleep_seconds = 7;
  g_assert_true (run (ceremony, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (count_progress (&s, "would expire before it is sent"), ==, 1);
  g_assert_cmpuint (s.n_prepared, ==, 2);
  /* After the second preparation, both sign every unit again. */
  g_assert_cmpuint (count_progress (&s, "Administrator 1 of 2 (Admin One): signing for"), ==, 6);
  g_assert_cmpint (last_progress (&s, "would expire"), <,
                   last_progress (&s, "Administrator 1 of 2"));
  g_assert_cmpint (first_progress (&s, "committing"), >, last_progress (&s, "would expire"));
  assert_all_committed (&s);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (counter_of (&s, i), ==, before[i] + 1);
  signers_stop (&s);
}

/* Slow before the second signature for unit 2. */
static void
test_expired_while_signing (void)
{
  expire_at ("Administrator 2 of 2 (Admin Two): signing for crypto unit 1");
}

/* Slow at the very last signature: caught before the first is sent. */
static void
test_expired_before_sending (void)
{
  expire_at ("Administrator 2 of 2 (Admin Two): signing for crypto unit 3");
}

/* ---- A signer that fails ---- */

static void
test_signer_fails (void)
{
  Signers s;
  g_autoptr (GPtrArray) wrong = NULL;
  g_autoptr (GPtrArray) right = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (TkeServiceInstance) again = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (TkeCeremony) second = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  signers_start (&s, demo_args);
  wrong = demo_signers (&s, FALSE);
  load_new_key (&s);
  before = units_state (&s.f);
  ceremony = make_ceremony (&s, TKE_CEREMONY_COMMIT, wrong, &instance);
  g_assert_false (run (ceremony, &error));
  g_test_message ("signer failed: %s", error->message);
  g_assert_nonnull (strstr (error->message, "Administrator 2 of 2"));
  g_assert_nonnull (strstr (error->message, "Nothing was sent: no crypto unit was changed."));
  g_assert_cmpuint (tke_ceremony_get_n_units_done (ceremony), ==, 0);
  after = units_state (&s.f);
  g_assert_cmpstr (before, ==, after); /* counters included */

  /* Run again, it starts cleanly: administrator 1 signs every unit again
   * (the signatures of the failed run are not kept; see the file's
   * comment in tke-ceremony-sign.c). */
  g_ptr_array_set_size (s.progress, 0);
  right = demo_signers (&s, TRUE);
  second = make_ceremony (&s, TKE_CEREMONY_COMMIT, right, &again);
  g_clear_error (&error);
  g_assert_true (run (second, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_progress (&s, "Administrator 1 of 2 (Admin One): signing for"), ==, 3);
  assert_all_committed (&s);
  signers_stop (&s);
}

/* ---- A counter that moved ---- */

static void
test_counter_moved (void)
{
  Signers s;
  g_autoptr (GPtrArray) signers = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (TkeServiceInstance) again = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (TkeCeremony) second = NULL;
  g_autoptr (GError) error = NULL;

  signers_start (&s, demo_args);
  signers = demo_signers (&s, TRUE);
  load_new_key (&s);
  ceremony = make_ceremony (&s, TKE_CEREMONY_COMMIT, signers, &instance);
  /* Unit 2's counter moves once every command is signed. */
  s.move_at = "Administrator 2 of 2 (Admin Two): signing for crypto unit 3";
  s.move_unit = 1;
  g_assert_false (run (ceremony, &error));
  g_test_message ("counter moved: %s", error->message);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_REPLAY);
  g_assert_nonnull (strstr (error->message, "Crypto unit 2 refused the command: its transaction "
                                            "counter moved"));
  g_assert_nonnull (strstr (error->message, "Crypto unit 2 is unchanged"));
  g_assert_cmpuint (tke_ceremony_get_n_units_done (ceremony), ==, 1);
  g_assert_cmpstr (new_status_of (&s, 0), ==, "Full Committed");
  g_assert_cmpstr (new_status_of (&s, 1), ==, "Full Uncommitted");
  g_assert_cmpstr (new_status_of (&s, 2), ==, "Full Uncommitted");

  /* Safe to redo: unit 1 goes by, units 2 and 3 are committed. */
  g_ptr_array_set_size (s.progress, 0);
  second = make_ceremony (&s, TKE_CEREMONY_COMMIT, signers, &again);
  g_clear_error (&error);
  g_assert_true (run (second, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_progress (&s, "Crypto unit 1: done already"), ==, 1);
  g_assert_cmpuint (count_progress (&s, "signing for crypto unit 1"), ==, 0);
  g_assert_cmpuint (count_progress (&s, "Administrator 2 of 2 (Admin Two): signing for"), ==, 2);
  assert_all_committed (&s);
  signers_stop (&s);
}

/* ---- Imprint mode ---- */

static void
test_imprint_no_signatures (void)
{
  const char *const args[] = { "--init", "imprint", NULL };
  Signers s;
  g_autoptr (GPtrArray) none = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = EVP_EC_gen ("P-521");
  g_autofree char *hex = emu_point_hex (key);
  g_autoptr (GBytes) point = NULL;
  g_auto (GStrv) units = NULL;

  signers_start (&s, args);
  point = tke_crypto_hex_decode (hex, &error);
  g_assert_no_error (error);
  ceremony = make_ceremony (&s, TKE_CEREMONY_ADD_ADMIN, none, &instance);
  tke_ceremony_set_new_administrator (ceremony, "First", point);
  g_assert_true (run (ceremony, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (s.n_prepared, ==, 1);
  g_assert_cmpuint (count_progress (&s, "signing for"), ==, 0);
  g_assert_nonnull (strstr (tke_ceremony_get_summary (ceremony), "Install administrator “First”"));
  units = emu_unit_ids (s.f.emu);
  for (guint i = 0; units[i] != NULL; i++)
    {
      g_autofree char *text = emu_query_text (s.f.emu, units[i]);
      g_assert_nonnull (strstr (text, "First"));
    }
  signers_stop (&s);
}

/* ---- Cancel after a unit ---- */

typedef struct
{
  GCancellable *cancellable;
  guint cancel_after; /* units done */
  guint done;
} CancelAfter;

static void
cancel_on_unit_done (TkeCeremony *ceremony, TkeCryptoUnit *unit, CancelAfter *c)
{
  if (++c->done == c->cancel_after)
    g_cancellable_cancel (c->cancellable);
}

/* Cancel pressed after @after of the 3 units took the commit: after the
 * last one the ceremony says what was done (it was all done), not that it
 * was cancelled; before, it stops there and says cancelled. */
static void
cancel_after (guint after)
{
  Signers s;
  g_autoptr (GPtrArray) signers = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  CancelAfter c = { cancellable, after, 0 };
  gboolean ok;

  signers_start (&s, demo_args);
  signers = demo_signers (&s, TRUE);
  load_new_key (&s);
  ceremony = make_ceremony (&s, TKE_CEREMONY_COMMIT, signers, &instance);
  g_signal_connect (ceremony, "unit-done", G_CALLBACK (cancel_on_unit_done), &c);
  tke_ceremony_run_async (ceremony, cancellable, on_done, &result);
  wait_for (&result);
  ok = tke_ceremony_run_finish (ceremony, result, &error);
  g_assert_cmpuint (tke_ceremony_get_n_units_done (ceremony), ==, after);
  if (after == 3)
    {
      g_assert_no_error (error);
      g_assert_true (ok);
      assert_all_committed (&s);
    }
  else
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_false (ok);
      g_assert_cmpstr (new_status_of (&s, after), ==, "Full Uncommitted");
    }
  signers_stop (&s);
}

static void
test_cancel_after_last_unit (void)
{
  cancel_after (3);
}

static void
test_cancel_after_first_unit (void)
{
  cancel_after (1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("TKE_EMULATOR") == NULL)
    {
      g_print ("1..0 # SKIP run from meson test\n");
      return 0;
    }
  g_test_add_func ("/signers/order", test_order);
  g_test_add_func ("/signers/requests", test_requests);
  g_test_add_func ("/signers/requests-old-service", test_requests_old_service);
  g_test_add_func ("/signers/expired-while-signing", test_expired_while_signing);
  g_test_add_func ("/signers/expired-before-sending", test_expired_before_sending);
  g_test_add_func ("/signers/signer-fails", test_signer_fails);
  g_test_add_func ("/signers/counter-moved", test_counter_moved);
  g_test_add_func ("/signers/imprint-no-signatures", test_imprint_no_signatures);
  g_test_add_func ("/signers/cancel-after-last-unit", test_cancel_after_last_unit);
  g_test_add_func ("/signers/cancel-after-first-unit", test_cancel_after_first_unit);
  return g_test_run ();
}
