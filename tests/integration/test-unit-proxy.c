/* test-unit-proxy.c: libtke and the tke CLI refuse what an intercepting
 * proxy forges, and a crypto unit certified by another root
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The proxy is a TLS server with a certificate from the emulator's own CA,
 * between libtke and the real emulator (unit-proxy.c).  Each forgery must be
 * refused with TKE_ERROR_UNIT_NOT_AUTHENTIC naming the unit, with nothing
 * sealed or signed and no state changed on the emulator (a direct, verified
 * query says so).
 */

#include "config.h"

#include <glib/gstdio.h>

#include "client-fixture.h"
#include "unit-proxy.h"

static const char *const demo_args[] = { "--init", "demo", "--keys", "20", NULL };

typedef struct
{
  Fixture f;
  Proxy *proxy;
  TkeServiceClient *client; /* through the proxy */
  GPtrArray *signers;
  TkeServiceInstance *instance; /* listed directly */
} ProxyFixture;

static TkeServiceClient *
logged_in_client (const char *url, const char *ca_file, const char *api_key, const char *root)
{
  TkeServiceClient *client = tke_service_client_new (url, ca_file);
  g_autoptr (TkeSecret) key = tke_secret_new_from_data ((const guint8 *) api_key, strlen (api_key));
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  tke_service_client_set_unit_root (client, root);
  tke_service_client_login_async (client, key, NULL, on_done, &result);
  wait_for (&result);
  g_assert_true (tke_service_client_login_finish (client, result, &error));
  g_assert_no_error (error);
  return client;
}

static void
proxy_fixture_set_up (ProxyFixture *p, gconstpointer data)
{
  g_autofree char *pw1 = NULL;

  fixture_start (&p->f, demo_args);
  install_demo_sigkeys (&p->f);
  pw1 = demo_password (&p->f, "admin1.sigkey");
  p->signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (p->signers, file_signer (&p->f, 1, pw1));
  p->instance = list_units (&p->f);
  p->proxy = proxy_start (p->f.emu);
  p->client = logged_in_client (proxy_get_url (p->proxy), p->f.emu->ca_file, p->f.emu->api_key,
                                p->f.emu->unit_root);
}

static void
proxy_fixture_tear_down (ProxyFixture *p, gconstpointer data)
{
  g_clear_object (&p->client);
  g_clear_pointer (&p->proxy, proxy_free);
  g_clear_pointer (&p->signers, g_ptr_array_unref);
  g_clear_object (&p->instance);
  fixture_stop (&p->f);
}

static TkeCryptoUnit *
unit_number (ProxyFixture *p, guint number)
{
  return g_list_model_get_item (tke_service_instance_get_units (p->instance), number - 1);
}

static void
assert_not_authentic (const GError *error, guint unit)
{
  g_autofree char *name = g_strdup_printf ("Crypto unit %u ", unit);

  g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC);
  g_assert_nonnull (strstr (error->message, name));
  g_assert_nonnull (strstr (error->message, "Nothing was sealed, signed or shown."));
}

static GError *
list_error (TkeServiceClient *client)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  GError *error = NULL;

  tke_service_client_list_units_async (client, NULL, on_done, &result);
  wait_for (&result);
  instance = tke_service_client_list_units_finish (client, result, &error);
  g_assert_null (instance);
  return error;
}

/* A signed command through the proxy: the client reads the counter with a
 * query first; its signers must never be asked. */
static GError *
clear_new_error (ProxyFixture *p, TkeCryptoUnit *unit)
{
  g_autoptr (GAsyncResult) result = NULL;
  GError *error = NULL;

  tke_service_client_clear_new_register_async (p->client, unit, p->signers, NULL, on_done, &result);
  wait_for (&result);
  g_assert_false (tke_service_client_clear_new_register_finish (p->client, result, &error));
  return error;
}

/* `tke ARGS… NULL` while the main context runs, so that the proxy in this
 * process serves the CLI's requests; @passwords (lines, or NULL) go in a
 * password file. */
static Run
tke_through_proxy (Fixture *f, const char *passwords, ...)
{
  g_autoptr (GSubprocessLauncher) launcher = tke_test_cli_launcher (
      &f->cli, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                   G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  const char *arg;
  Run run = { 0 };
  va_list ap;

  g_autofree char *password_file = NULL;

  g_ptr_array_add (argv, g_strdup (g_getenv ("TKE_CLI")));
  va_start (ap, passwords);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  if (passwords != NULL)
    {
      password_file = g_build_filename (f->cli.top, "passwords", NULL);
      g_assert_true (g_file_set_contents_full (password_file, passwords, -1,
                                               G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
      g_ptr_array_add (argv, g_strdup ("--password-file"));
      g_ptr_array_add (argv, g_strdup (password_file));
    }
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, "", NULL, on_done, &result);
  wait_for (&result);
  g_assert_true (
      g_subprocess_communicate_utf8_finish (process, result, &run.out, &run.err, &error));
  g_assert_no_error (error);
  g_subprocess_wait (process, NULL, NULL);
  run.status = g_subprocess_get_exit_status (process);
  if (password_file != NULL)
    g_unlink (password_file);
  g_test_message ("tke %s → %d\n%s%s", (char *) argv->pdata[1], run.status, run.out, run.err);
  return run;
}

/* The CLI logged in through the proxy (which passes everything while it
 * does), the three units selected, the first demo administrator's key
 * selected to sign. */
static void
cli_through_proxy (ProxyFixture *p, const char *pw1)
{
  g_autofree char *key_file = g_build_filename (p->f.cli.top, "apikey", NULL);
  g_autofree char *pw = g_strdup_printf ("%s\n", pw1);
  g_auto (Run) login = { 0 };
  g_auto (Run) add = { 0 };
  g_auto (Run) sel = { 0 };

  proxy_set_mode (p->proxy, PROXY_PASS);
  g_assert_true (g_file_set_contents (key_file, p->f.emu->api_key, -1, NULL));
  login = tke_through_proxy (&p->f, NULL, "login", "--endpoint", proxy_get_url (p->proxy),
                             "--ca-file", p->f.emu->ca_file, "--api-key-file", key_file,
                             "--unit-root", p->f.emu->unit_root_file, NULL);
  assert_ok (login);
  add = tke_through_proxy (&p->f, NULL, "cryptounit-add", "1", "2", "3", NULL);
  assert_ok (add);
  sel = tke_through_proxy (&p->f, pw, "sigkey-sel", "1", NULL);
  assert_ok (sel);
}

static void
assert_cli_not_authentic (Run *run, guint unit, const char *reason)
{
  g_autofree char *name =
      g_strdup_printf ("Crypto unit %u answered with a signature that does not verify", unit);

  assert_fails (*run, 1, name);
  assert_fails (*run, 1, "Nothing was sealed, signed or shown.");
  if (reason != NULL)
    assert_fails (*run, 1, reason);
}

static void
assert_new_registers_empty (Fixture *f)
{
  g_auto (GStrv) ids = emu_unit_ids (f->emu);

  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (JsonObject) q = emu_query (f->emu, ids[i]);

      g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Empty");
    }
}

/* (a) The proxy answers generate_importer_key with its own importer key,
 * an importer certificate by its own key, its own signature over the
 * answer and a certificate that claims the pinned root as its issuer. */
static void
test_swap_importer (ProxyFixture *p, gconstpointer user_data)
{
  g_autoptr (TkeCryptoUnit) unit = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) importer = NULL;
  g_autoptr (JsonObject) q = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (GListStore) one = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  g_auto (GStrv) ids = NULL;

  unit = unit_number (p, 1);
  proxy_set_mode (p->proxy, PROXY_SWAP_IMPORTER);
  tke_service_client_generate_importer_key_async (p->client, unit, p->signers, NULL, on_done,
                                                  &result);
  wait_for (&result);
  importer = tke_service_client_generate_importer_key_finish (p->client, result, &error);
  g_assert_null (importer);
  assert_not_authentic (error, 1);
  g_assert_nonnull (strstr (error->message, "does not verify"));
  g_assert_cmpuint (proxy_get_n_forged (p->proxy), ==, 1);
  g_clear_error (&error);

  /* A load ceremony through the proxy: refused at the importer key, so no
   * part is sealed and load is never sent. */
  g_list_store_append (one, unit);
  ceremony = tke_ceremony_new (p->client, TKE_CEREMONY_LOAD, G_LIST_MODEL (one));
  tke_ceremony_set_signers (ceremony, p->signers);
  tke_ceremony_set_n_key_parts (ceremony, 2);
  g_clear_object (&result);
  tke_ceremony_prepare_load_async (ceremony, NULL, on_done, &result);
  wait_for (&result);
  g_assert_false (tke_ceremony_prepare_load_finish (ceremony, result, &error));
  assert_not_authentic (error, 1);

  /* The unit itself: new register still Empty, its genuine importer key. */
  ids = emu_unit_ids (p->f.emu);
  q = emu_query (p->f.emu, ids[0]);
  g_assert_cmpstr (json_object_get_string_member (q, "new_mk_status"), ==, "Empty");
  g_assert_nonnull (json_object_get_string_member (q, "importer_key"));

  /* The same through the CLI: its load is refused at the importer key, so
   * no key part file is opened for it and load is never sent. */
  {
    g_autofree char *pw1 = demo_password (&p->f, "admin1.sigkey");
    g_autofree char *pw = g_strdup_printf ("%s\npart-pass-a\npart-pass-b\n", pw1);
    g_auto (Run) a = { 0 };
    g_auto (Run) b = { 0 };
    g_auto (Run) load = { 0 };
    guint forged = proxy_get_n_forged (p->proxy);

    cli_through_proxy (p, pw1);
    a = tke_through_proxy (&p->f, "part-pass-a\npart-pass-a\n", "mk-add", "--random",
                           "--description", "part a", NULL);
    b = tke_through_proxy (&p->f, "part-pass-b\npart-pass-b\n", "mk-add", "--random",
                           "--description", "part b", NULL);
    assert_ok (a);
    assert_ok (b);
    proxy_set_mode (p->proxy, PROXY_SWAP_IMPORTER);
    load = tke_through_proxy (&p->f, pw, "cryptounit-mk-load", "1", "2", NULL);
    assert_cli_not_authentic (&load, 1, "does not verify");
    g_assert_null (strstr (load.out, "Full Uncommitted"));
    g_assert_cmpuint (proxy_get_n_forged (p->proxy), >, forged);
  }
  assert_new_registers_empty (&p->f);
}

/* (b) A query answer with another current VP and new register state. */
static void
test_alter_query (ProxyFixture *p, gconstpointer user_data)
{
  g_autoptr (TkeCryptoUnit) unit = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  unit = unit_number (p, 1);
  before = units_state (&p->f);
  proxy_set_mode (p->proxy, PROXY_ALTER_QUERY);
  error = list_error (p->client);
  assert_not_authentic (error, 1);
  g_clear_error (&error);
  error = clear_new_error (p, unit);
  assert_not_authentic (error, 1);
  /* The unit the person sees keeps its verified state. */
  g_assert_cmpint (tke_crypto_unit_get_new_register_state (unit), ==, TKE_NEW_REGISTER_EMPTY);
  after = units_state (&p->f);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (proxy_get_n_forged (p->proxy), ==, 2);

  /* The same through the CLI: it logs in and pins through the proxy (the
   * root it names is genuine), then refuses the forged query answer. */
  {
    g_autofree char *key_file = g_build_filename (p->f.cli.top, "apikey", NULL);
    g_auto (Run) login = { 0 };
    g_auto (Run) mk = { 0 };

    g_assert_true (g_file_set_contents (key_file, p->f.emu->api_key, -1, NULL));
    login = tke_through_proxy (&p->f, NULL, "login", "--endpoint", proxy_get_url (p->proxy),
                               "--ca-file", p->f.emu->ca_file, "--api-key-file", key_file,
                               "--unit-root", p->f.emu->unit_root_file, NULL);
    assert_ok (login);
    mk = tke_through_proxy (&p->f, NULL, "cryptounits", NULL);
    assert_fails (mk, 1, "Crypto unit 1 answered with a signature that does not verify");
    g_assert_null (strstr (mk.out, "00112233445566778899AABBCCDDEEFF"));
  }
  after = units_state (&p->f);
  g_assert_cmpstr (after, ==, before);
}

/* (b') A command answer whose "result.state" (the unit's new state, which
 * spares the query after the command) says another VP and register state:
 * it is inside the signed bytes, so the answer is refused and the unit the
 * person sees keeps its verified state. */
static void
test_alter_state (ProxyFixture *p, gconstpointer user_data)
{
  g_autoptr (TkeCryptoUnit) unit = NULL;
  g_autoptr (GError) error = NULL;

  unit = unit_number (p, 1);
  proxy_set_mode (p->proxy, PROXY_ALTER_STATE);
  error = clear_new_error (p, unit);
  assert_not_authentic (error, 1);
  g_assert_cmpint (tke_crypto_unit_get_new_register_state (unit), ==, TKE_NEW_REGISTER_EMPTY);
  g_assert_cmpuint (proxy_get_n_forged (p->proxy), ==, 1);
}

/* (c) The first, genuinely signed query answer, replayed later. */
static void
test_replay (ProxyFixture *p, gconstpointer user_data)
{
  g_autoptr (TkeCryptoUnit) unit = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeServiceInstance) listed = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  unit = unit_number (p, 1);
  proxy_set_mode (p->proxy, PROXY_REPLAY);
  /* Recorded: every answer of the first listing passes. */
  tke_service_client_list_units_async (p->client, NULL, on_done, &result);
  wait_for (&result);
  listed = tke_service_client_list_units_finish (p->client, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (proxy_get_n_forged (p->proxy), ==, 0);
  before = units_state (&p->f);
  error = list_error (p->client);
  assert_not_authentic (error, 1);
  g_assert_nonnull (strstr (error->message, "replay"));
  g_clear_error (&error);
  error = clear_new_error (p, unit);
  assert_not_authentic (error, 1);
  after = units_state (&p->f);
  g_assert_cmpstr (after, ==, before);

  /* The same through the CLI: its first listing is recorded, the second
   * gets those answers again; a signed command reads its counter from a
   * replayed answer and is never signed. */
  {
    g_autofree char *pw1 = demo_password (&p->f, "admin1.sigkey");
    g_autofree char *pw = g_strdup_printf ("%s\n", pw1);
    g_auto (Run) first = { 0 };
    g_auto (Run) again = { 0 };
    g_auto (Run) clear = { 0 };

    cli_through_proxy (p, pw1);
    proxy_set_mode (p->proxy, PROXY_REPLAY);
    first = tke_through_proxy (&p->f, NULL, "cryptounits", NULL);
    assert_ok (first);
    again = tke_through_proxy (&p->f, NULL, "cryptounits", NULL);
    assert_cli_not_authentic (&again, 1, "replay");
    clear = tke_through_proxy (&p->f, pw, "cryptounit-mk-clrnew", "--yes", NULL);
    assert_cli_not_authentic (&clear, 1, "replay");
  }
  g_clear_pointer (&after, g_free);
  after = units_state (&p->f);
  g_assert_cmpstr (after, ==, before);
}

/* (d) Unit 1's genuine answer for a query of unit 2. */
static void
test_move (ProxyFixture *p, gconstpointer user_data)
{
  g_autoptr (TkeCryptoUnit) unit2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  unit2 = unit_number (p, 2);
  before = units_state (&p->f);
  proxy_set_mode (p->proxy, PROXY_MOVE);
  error = list_error (p->client);
  assert_not_authentic (error, 2);
  g_assert_nonnull (strstr (error->message, "another unit"));
  g_clear_error (&error);
  error = clear_new_error (p, unit2);
  assert_not_authentic (error, 2);
  after = units_state (&p->f);
  g_assert_cmpstr (after, ==, before);

  /* The same through the CLI: unit 1's answer for unit 2's query. */
  {
    g_autofree char *pw1 = demo_password (&p->f, "admin1.sigkey");
    g_auto (Run) units = { 0 };

    cli_through_proxy (p, pw1);
    proxy_set_mode (p->proxy, PROXY_MOVE);
    units = tke_through_proxy (&p->f, NULL, "cryptounits", NULL);
    assert_cli_not_authentic (&units, 2, "another unit");
  }
  g_clear_pointer (&after, g_free);
  after = units_state (&p->f);
  g_assert_cmpstr (after, ==, before);
}

/* A client without a pinned root sends no administrative command. */
static void
test_not_pinned (Fixture *f, gconstpointer user_data)
{
  g_autoptr (TkeServiceClient) client = NULL;
  g_autoptr (GError) error = NULL;

  client = logged_in_client (f->emu->url, f->emu->ca_file, f->emu->api_key, NULL);
  error = list_error (client);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_NOT_PINNED);
  g_assert_nonnull (strstr (error->message, "confirm the unit root"));
}

/* A second emulator, with a root of its own: libtke and tke login refuse
 * it with both fingerprints; re-pinning is a separate verb. */
static void
test_root_changed (Fixture *f, gconstpointer user_data)
{
  g_autofree char *dir2 = NULL;
  g_autofree char *state2 = NULL;
  g_autofree char *key_file = NULL;
  g_autoptr (Emu) emu2 = NULL;
  g_autoptr (TkeServiceClient) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *fp1 = NULL, *fp2 = NULL, *text1 = NULL, *text2 = NULL;

  dir2 = g_dir_make_tmp ("tke-root2-XXXXXX", NULL);
  state2 = g_build_filename (dir2, "state", NULL);
  emu2 = emu_start (state2, demo_args);
  g_assert_cmpstr (emu2->unit_root, !=, f->emu->unit_root);
  fp1 = tke_unit_root_fingerprint (f->emu->unit_root_point);
  fp2 = tke_unit_root_fingerprint (emu2->unit_root_point);
  text1 = tke_unit_root_format_fingerprint (fp1);
  text2 = tke_unit_root_format_fingerprint (fp2);

  client = logged_in_client (emu2->url, emu2->ca_file, emu2->api_key, f->emu->unit_root);
  error = list_error (client);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED);
  g_assert_nonnull (strstr (error->message, "Crypto unit 1 "));
  g_assert_nonnull (strstr (error->message, text1));
  g_assert_nonnull (strstr (error->message, text2));

  /* The CLI: first contact without a terminal and without --unit-root is
   * refused; --unit-root pins; another service's root is refused loudly. */
  key_file = g_build_filename (f->cli.top, "apikey2", NULL);
  g_assert_true (g_file_set_contents (key_file, emu2->api_key, -1, NULL));
  {
    g_autofree char *key1 = g_build_filename (f->cli.top, "apikey1", NULL);
    g_auto (Run) first = { 0 };

    g_assert_true (g_file_set_contents (key1, f->emu->api_key, -1, NULL));
    first = tke (f, NULL, "login", "--endpoint", f->emu->url, "--ca-file", f->emu->ca_file,
                 "--api-key-file", key1, NULL);
    assert_fails (first, 1, "--unit-root FILE");
  }
  fixture_login (f);
  {
    g_auto (Run) login2 = tke (f, NULL, "login", "--endpoint", emu2->url, "--ca-file",
                               emu2->ca_file, "--api-key-file", key_file, NULL);
    g_auto (Run) with_file =
        tke (f, NULL, "login", "--endpoint", emu2->url, "--ca-file", emu2->ca_file,
             "--api-key-file", key_file, "--unit-root", emu2->unit_root_file, NULL);

    assert_fails (login2, 1, "another unit root than the one pinned");
    g_assert_nonnull (strstr (login2.err, text1));
    g_assert_nonnull (strstr (login2.err, text2));
    /* A file does not re-pin either: that is unit-root-pin's. */
    assert_fails (with_file, 1, "another unit root than the one pinned");
  }
  {
    g_auto (Run) pin = tke (f, NULL, "unit-root-pin", emu2->unit_root_file, NULL);
    g_auto (Run) login2 = tke (f, NULL, "login", "--endpoint", emu2->url, "--ca-file",
                               emu2->ca_file, "--api-key-file", key_file, NULL);
    g_auto (Run) units = tke (f, NULL, "cryptounits", NULL);

    assert_ok (pin);
    g_assert_nonnull (strstr (pin.out, text1));
    g_assert_nonnull (strstr (pin.out, text2));
    assert_ok (login2);
    assert_ok (units);
  }
  emu_free (g_steal_pointer (&emu2));
  tke_test_remove_tree (dir2);
}

/* A command signed with an expires in the past is refused by the unit. */
static void
test_expired_command (Fixture *f, gconstpointer user_data)
{
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (TkeCryptoUnit) unit = NULL;
  g_autoptr (GPtrArray) signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GBytes) command = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) q = NULL;
  g_autofree char *pw1 = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_auto (GStrv) ids = NULL;

  install_demo_sigkeys (f);
  pw1 = demo_password (f, "admin1.sigkey");
  g_ptr_array_add (signers, file_signer (f, 1, pw1));
  instance = list_units (f);
  unit = g_list_model_get_item (tke_service_instance_get_units (instance), 0);
  ids = emu_unit_ids (f->emu);
  q = emu_query (f->emu, ids[0]);
  before = units_state (f);
  command = tke_service_client_build_command (
      f->emu->instance, tke_crypto_unit_get_hsm_id (unit), "clear_new",
      json_object_get_int_member (q, "counter"), g_get_real_time () / G_USEC_PER_SEC - 60, "{}");
  tke_service_client_send_command_async (f->client, unit, command, signers, NULL, on_done, &result);
  wait_for (&result);
  g_assert_null (tke_service_client_send_command_finish (f->client, result, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_COMMAND_EXPIRED);
  g_assert_nonnull (strstr (error->message, "expired"));
  after = units_state (f);
  g_assert_cmpstr (after, ==, before);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/unit-proxy/swap-importer", ProxyFixture, NULL, proxy_fixture_set_up,
              test_swap_importer, proxy_fixture_tear_down);
  g_test_add ("/unit-proxy/alter-query", ProxyFixture, NULL, proxy_fixture_set_up, test_alter_query,
              proxy_fixture_tear_down);
  g_test_add ("/unit-proxy/alter-state", ProxyFixture, NULL, proxy_fixture_set_up, test_alter_state,
              proxy_fixture_tear_down);
  g_test_add ("/unit-proxy/replay", ProxyFixture, NULL, proxy_fixture_set_up, test_replay,
              proxy_fixture_tear_down);
  g_test_add ("/unit-proxy/move", ProxyFixture, NULL, proxy_fixture_set_up, test_move,
              proxy_fixture_tear_down);
  g_test_add ("/unit-proxy/not-pinned", Fixture, demo_args, fixture_set_up, test_not_pinned,
              fixture_tear_down);
  g_test_add ("/unit-proxy/root-changed", Fixture, demo_args, fixture_set_up, test_root_changed,
              fixture_tear_down);
  g_test_add ("/unit-proxy/expired-command", Fixture, demo_args, fixture_set_up,
              test_expired_command, fixture_tear_down);
  return g_test_run ();
}
