/* verify-bench.c: what verifying the crypto units' signed answers costs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run: _build/…/tests/bench/verify-bench [--runs N]
 *
 * 1. Verifications per second of one real, signed query answer of the
 *    emulator (tke_unit_identity_verify_answer(): the unit certificate
 *    against the root, the answer's signature, its members), and of an
 *    importer certificate.
 * 2. A load (2 key parts) + commit over 3 units, then a rotation, through
 *    libtke against the real emulator over TLS, via a forwarding proxy that
 *    counts the signed answers: how many signatures the ceremony verifies
 *    and what that adds to its time.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "tke-test-emulator.h"
#include "unit-proxy.h"

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

/* One query answer as the client gets it, and its request. */
static JsonNode *
signed_query (Emu *emu, const char *hsm_id, GBytes **request)
{
  g_autofree char *cmd = emu_command_text (emu, hsm_id, "query", NULL, 0, 0);
  guint status = 0;
  JsonNode *node = emu_send (emu, hsm_id, cmd, NULL, &status);

  g_assert_cmpuint (status, ==, 200);
  *request = g_bytes_new (cmd, strlen (cmd));
  return node;
}

static double
bench_answers (Emu *emu, const char *hsm_id, guint runs, TkeUnitCertificate **cert)
{
  g_autoptr (GBytes) request = NULL;
  g_autoptr (JsonNode) node = signed_query (emu, hsm_id, &request);
  JsonObject *response = json_object_get_object_member (json_node_get_object (node), "response");
  double start = now_ms ();

  for (guint i = 0; i < runs; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) answer =
          tke_unit_identity_verify_answer (emu->unit_root_point, response, emu->instance, hsm_id,
                                           request, i == 0 ? cert : NULL, &error);

      g_assert_no_error (error);
    }
  return (now_ms () - start) / runs;
}

static double
bench_importer (TkeUnitCertificate *cert, JsonObject *imp, guint runs)
{
  double start = now_ms ();

  for (guint i = 0; i < runs; i++)
    g_assert_true (tke_unit_identity_verify_importer (
        cert, json_object_get_string_member (imp, "importer_key"),
        json_object_get_string_member (imp, "importer_certificate"), NULL));
  return (now_ms () - start) / runs;
}

static TkeKeyPartFile *
key_part (const char *dir, guint n, const TkeSecret *password)
{
  g_autofree char *name = g_strdup_printf ("%u.keypart", n);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (TkeSecret) part = tke_secret_new_random (32, NULL);
  g_autoptr (GError) error = NULL;
  TkeKeyPartFile *file;

  g_assert_true (tke_key_part_file_create (path, "bench part", part, password, &error));
  file = tke_key_part_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (tke_key_part_file_set_password (file, password, &error));
  return file;
}

static TkeSigner *
signer (Emu *emu, guint index)
{
  g_autofree char *file = g_strdup_printf ("admin%u.sigkey", index);
  g_autofree char *path = g_build_filename (emu->state_dir, file, NULL);
  g_autofree char *pw_path = g_build_filename (emu->state_dir, "demo-passwords.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (TkeSignatureKeyFile) key_file = tke_signature_key_file_load (path, NULL);
  g_autoptr (TkeSecret) password = NULL;
  const char *pw;

  g_assert_true (json_parser_load_from_file (parser, pw_path, NULL));
  pw = json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), file);
  password = tke_secret_new_from_data ((const guint8 *) pw, strlen (pw));
  return TKE_SIGNER (tke_file_signer_new (key_file, password));
}

static void
run_ceremony (TkeCeremony *ceremony)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  tke_ceremony_run_async (ceremony, NULL, on_done, &result);
  wait_for (&result);
  g_assert_true (tke_ceremony_run_finish (ceremony, result, &error));
}

static void
report (const char *what,
        Proxy *proxy,
        guint *last_answers,
        guint *last_importer,
        double ms,
        double answer_ms,
        double importer_ms)
{
  guint answers, importer;
  double verify;

  proxy_get_counts (proxy, &answers, &importer);
  answers -= *last_answers;
  importer -= *last_importer;
  *last_answers += answers;
  *last_importer += importer;
  verify = answers * answer_ms + importer * importer_ms;
  printf ("%-24s %8.1f ms  %3u signed answers (%u with an importer key): %3u signatures "
          "verified, %6.1f ms of it verifying (%.1f%%)\n",
          what, ms, answers, importer, 2 * answers + importer, verify, 100.0 * verify / ms);
}

int
main (int argc, char **argv)
{
  gint runs = 200;
  GOptionEntry entries[] = {
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Verifications to time (200)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- answer verification benchmark");
  g_autoptr (GError) error = NULL;
  g_autofree char *top = g_dir_make_tmp ("tke-vbench-XXXXXX", NULL);
  g_autofree char *state = g_build_filename (top, "state", NULL);
  g_autofree char *cmd = NULL;
  const char *args[] = { "--init", "demo", "--keys", "1000", NULL };
  g_autoptr (Emu) emu = NULL;
  g_autoptr (Proxy) proxy = NULL;
  g_autoptr (TkeServiceClient) client = NULL;
  g_autoptr (TkeSecret) api_key = NULL;
  g_autoptr (TkeSecret) kp_password = tke_secret_new_from_data ((const guint8 *) "bench", 5);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (GPtrArray) signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) units = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (TkeCeremony) load = NULL;
  g_autoptr (TkeCeremony) commit = NULL;
  g_autoptr (TkeRotation) rotation = NULL;
  g_autoptr (TkeJournal) journal = NULL;
  g_autoptr (TkeUnitCertificate) cert = NULL;
  g_autoptr (JsonObject) imp = NULL;
  g_autofree char *journal_path = NULL;
  g_auto (GStrv) ids = NULL;
  GListModel *model;
  double answer_ms, importer_ms, t0, t_load, t_commit, t_rotate;
  guint last_answers = 0, last_importer = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || runs < 1)
    {
      g_printerr ("verify-bench: %s\n", error != NULL ? error->message : "--runs N, N ≥ 1");
      return 2;
    }
  g_setenv ("TKE_EMULATOR", TKE_EMULATOR_PATH, FALSE);
  emu = emu_start (state, args);
  emu_login (emu);
  ids = emu_unit_ids (emu);

  /* 1. Verification rates. */
  answer_ms = bench_answers (emu, ids[0], (guint) runs, &cert);
  {
    g_autoptr (EVP_PKEY) a1 = emu_demo_admin (emu, 1);
    EVP_PKEY *one[] = { a1, NULL };

    imp = emu_command_ok (emu, ids[0], "generate_importer_key", NULL, one);
    emu_command_ok (emu, ids[0], "clear_new", NULL, one);
  }
  importer_ms = bench_importer (cert, imp, (guint) runs);
  printf ("signed answer (unit certificate + answer signature + members): %.2f ms, %.0f "
          "verifications/s\n",
          answer_ms, 1000.0 / answer_ms);
  printf ("importer certificate: %.2f ms, %.0f verifications/s\n", importer_ms,
          1000.0 / importer_ms);

  /* 2. A ceremony through a counting proxy. */
  proxy = proxy_start (emu);
  client = tke_service_client_new (proxy_get_url (proxy), emu->ca_file);
  tke_service_client_set_unit_root (client, emu->unit_root);
  api_key = tke_secret_new_from_data ((const guint8 *) emu->api_key, strlen (emu->api_key));
  tke_service_client_login_async (client, api_key, NULL, on_done, &result);
  wait_for (&result);
  g_assert_true (tke_service_client_login_finish (client, result, &error));
  g_clear_object (&result);
  t0 = now_ms ();
  tke_service_client_list_units_async (client, NULL, on_done, &result);
  wait_for (&result);
  instance = tke_service_client_list_units_finish (client, result, &error);
  g_assert_no_error (error);
  report ("list units", proxy, &last_answers, &last_importer, now_ms () - t0, answer_ms,
          importer_ms);
  model = tke_service_instance_get_units (instance);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (model, i);

      if (tke_crypto_unit_get_unit_type (unit) == TKE_CRYPTO_UNIT_TYPE_OPERATIONAL ||
          units->len < 3)
        g_ptr_array_add (units, g_object_ref (unit));
    }
  g_ptr_array_add (signers, signer (emu, 1));
  g_ptr_array_add (signers, signer (emu, 2));
  g_ptr_array_add (parts, key_part (top, 1, kp_password));
  g_ptr_array_add (parts, key_part (top, 2, kp_password));

  {
    g_autoptr (GListStore) store = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);

    for (guint i = 0; i < units->len; i++)
      g_list_store_append (store, units->pdata[i]);
    load = tke_ceremony_new (client, TKE_CEREMONY_LOAD, G_LIST_MODEL (store));
    commit = tke_ceremony_new (client, TKE_CEREMONY_COMMIT, G_LIST_MODEL (store));
  }
  tke_ceremony_set_signers (load, signers);
  tke_ceremony_set_n_key_parts (load, 2);
  tke_ceremony_set_key_parts (load, parts);
  tke_ceremony_set_signers (commit, signers);

  t0 = now_ms ();
  run_ceremony (load);
  t_load = now_ms () - t0;
  report ("load, 2 parts, 3 units", proxy, &last_answers, &last_importer, t_load, answer_ms,
          importer_ms);
  t0 = now_ms ();
  run_ceremony (commit);
  t_commit = now_ms () - t0;
  report ("commit, 3 units", proxy, &last_answers, &last_importer, t_commit, answer_ms,
          importer_ms);

  journal_path = g_build_filename (top, "journal", NULL);
  journal = tke_journal_new (journal_path);
  rotation = tke_rotation_new (client, instance, units);
  tke_rotation_set_signers (rotation, signers);
  tke_rotation_set_journal (rotation, journal);
  tke_rotation_set_poll_interval (rotation, 20);
  g_clear_object (&result);
  t0 = now_ms ();
  tke_rotation_run_async (rotation, NULL, on_done, &result);
  wait_for (&result);
  g_assert_true (tke_rotation_run_finish (rotation, result, &error));
  g_assert_no_error (error);
  t_rotate = now_ms () - t0;
  report ("rotate (1000 keys)", proxy, &last_answers, &last_importer, t_rotate, answer_ms,
          importer_ms);
  {
    guint answers, importer;

    proxy_get_counts (proxy, &answers, &importer);
    printf ("load + commit + rotate over 3 units: %u signed answers, %u signatures verified\n",
            answers, 2 * answers + importer);
  }

  emu_stop (emu);
  cmd = g_strdup_printf ("rm -rf '%s'", top);
  g_assert_cmpint (system (cmd), ==, 0);
  return 0;
}
