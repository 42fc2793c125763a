/* test-client-protocol.c: the service client's refusals at the protocol
 * level (replays, bad signatures, thresholds), the token, TLS and
 * cancellation, against a real tke-emulator
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "client-fixture.h"
#include "tke-service-client-private.h"

/* Replay, a tampered sealed part and malformed JSON: below the CLI. */
static JsonObject *
send_command (Fixture *f, TkeCryptoUnit *unit, GBytes *command, GPtrArray *signers, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  tke_service_client_send_command_async (f->client, unit, command, signers, NULL, on_done, &result);
  wait_for (&result);
  return tke_service_client_send_command_finish (f->client, result, error);
}

static gint64
unit_counter (Fixture *f, TkeCryptoUnit *unit)
{
  g_autoptr (JsonObject) q = emu_query (f->emu, tke_crypto_unit_get_hsm_id (unit));

  return json_object_get_int_member (q, "counter");
}

static void
test_protocol_refusals (Fixture *f, gconstpointer user_data)
{
  const char *const args[] = { "--init", "demo", "--keys", "20", NULL };
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (TkeCryptoUnit) unit = NULL;
  g_autoptr (GPtrArray) signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GBytes) command = NULL;
  g_autoptr (JsonObject) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *pw1 = NULL, *before = NULL, *after = NULL;
  gint64 counter;

  fixture_start (f, args);
  install_demo_sigkeys (f);
  pw1 = demo_password (f, "admin1.sigkey");
  g_ptr_array_add (signers, file_signer (f, 1, pw1));
  instance = list_units (f);
  unit = g_list_model_get_item (tke_service_instance_get_units (instance), 0);

  /* Replay: the same signed bytes twice. */
  counter = unit_counter (f, unit);
  command = tke_service_client_build_command (f->emu->instance, tke_crypto_unit_get_hsm_id (unit),
                                              "clear_new", counter, 0, "{}");
  result = send_command (f, unit, command, signers, &error);
  g_assert_no_error (error);
  g_assert_cmpint (unit_counter (f, unit), ==, counter + 1);
  g_clear_pointer (&result, json_object_unref);
  before = units_state (f);
  result = send_command (f, unit, command, signers, &error);
  g_assert_null (result);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_REPLAY);
  g_assert_nonnull (strstr (error->message, "replayed or stale"));
  g_clear_error (&error);
  after = units_state (f);
  g_assert_cmpstr (before, ==, after);
  g_clear_pointer (&after, g_free);

  /* A tampered sealed key part. */
  {
    g_autoptr (TkeSecret) a = tke_secret_new_random (32, NULL);
    g_autoptr (TkeSecret) b = tke_secret_new_random (32, NULL);
    g_autoptr (GPtrArray) sealed = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
    g_autoptr (GAsyncResult) res = NULL;
    g_autoptr (GBytes) importer = NULL;
    g_autoptr (EVP_PKEY) key = NULL;
    g_autofree char *vp = NULL;
    TkeSecret *parts[] = { a, b };

    tke_service_client_generate_importer_key_async (f->client, unit, signers, NULL, on_done, &res);
    wait_for (&res);
    importer = tke_service_client_generate_importer_key_finish (f->client, res, &error);
    g_assert_no_error (error);
    key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (importer, NULL),
                                               g_bytes_get_size (importer), &error);
    g_assert_no_error (error);
    for (guint i = 0; i < 2; i++)
      {
        g_autoptr (GBytes) aad = tke_service_client_key_part_aad (unit, i + 1, 2);
        GBytes *part = tke_crypto_seal (key, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                                        parts[i], &error);
        g_assert_no_error (error);
        if (i == 1)
          {
            gsize size;
            guint8 *data = g_bytes_unref_to_data (part, &size);

            data[size - 1] ^= 0x01;
            part = g_bytes_new_take (data, size);
          }
        g_ptr_array_add (sealed, part);
      }
    before = units_state (f);
    g_clear_object (&res);
    g_ptr_array_add (signers, g_object_ref (signers->pdata[0]));
    tke_service_client_load_async (f->client, unit, sealed, signers, NULL, on_done, &res);
    wait_for (&res);
    vp = tke_service_client_load_finish (f->client, res, &error);
    g_assert_null (vp);
    g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
    g_assert_nonnull (strstr (error->message, "2"));
    g_clear_error (&error);
    after = units_state (f);
    g_assert_cmpstr (before, ==, after);
    g_clear_pointer (&after, g_free);
    g_clear_pointer (&before, g_free);
  }

  /* Malformed JSON to every endpoint that takes JSON. */
  {
    g_autofree char *hsm =
        g_strdup_printf ("/v1/tke/%s/hsms/%s", f->emu->instance, tke_crypto_unit_get_hsm_id (unit));
    g_autofree char *rotate = g_strdup_printf ("/v1/tke/%s/rotate", f->emu->instance);
    g_autoptr (GPtrArray) keys = NULL;
    g_autoptr (GAsyncResult) res = NULL;
    g_autofree char *wrap = NULL;
    g_autofree char *unwrap = NULL;
    g_autofree char *rotate_key = NULL;
    const char *paths[9] = { 0 };
    guint64 total = 0;

    tke_service_client_kms_list_keys_async (f->client, 0, 1, NULL, on_done, &res);
    wait_for (&res);
    keys = tke_service_client_kms_list_keys_finish (f->client, res, &total, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (total, ==, 20);
    wrap = g_strdup_printf ("/api/v2/keys/%s?action=wrap", ((TkeKmsKey *) keys->pdata[0])->id);
    unwrap = g_strdup_printf ("/api/v2/keys/%s?action=unwrap", ((TkeKmsKey *) keys->pdata[0])->id);
    rotate_key =
        g_strdup_printf ("/api/v2/keys/%s?action=rotate", ((TkeKmsKey *) keys->pdata[0])->id);
    paths[0] = hsm;
    paths[1] = rotate;
    paths[2] = "/api/v2/keys";
    paths[3] = wrap;
    paths[4] = unwrap;
    paths[5] = "/v1/grep11/generate";
    paths[6] = "/v1/grep11/rewrap";
    paths[7] = "/v1/grep11/check";
    paths[8] = rotate_key;

    before = units_state (f);
    for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
      {
        const char *body = "{\"request\": {\"command\": ";
        guint status = 0;
        g_autoptr (JsonNode) answer =
            emu_call (f->emu, "POST", paths[i], NULL, body, strlen (body), &status);
        g_autoptr (GError) mapped = NULL;

        g_test_message ("POST %s → %u", paths[i], status);
        g_assert_cmpuint (status, ==, 400);
        _tke_service_set_error_from_response (&mapped, status, answer);
        g_assert_error (mapped, TKE_ERROR, TKE_ERROR_INVALID_DATA);
        g_assert_cmpstr (
            json_object_get_string_member (
                json_object_get_object_member (json_node_get_object (answer), "error"), "code"),
            ==, "malformed_json");
        g_assert_cmpuint (strlen (mapped->message), >, 10);
      }
    after = units_state (f);
    g_assert_cmpstr (before, ==, after);
    g_clear_object (&res);
    g_clear_pointer (&keys, g_ptr_array_unref);
    tke_service_client_kms_list_keys_async (f->client, 0, 1, NULL, on_done, &res);
    wait_for (&res);
    keys = tke_service_client_kms_list_keys_finish (f->client, res, &total, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (total, ==, 20);
  }
}

/* ---- The token, TLS and cancellation ------------------------------------ */

static void
test_expired_token (Fixture *f, gconstpointer user_data)
{
  /* Long enough for a login and a command to run inside it under ASan on a
   * loaded machine; the wait below outlasts it. */
  const char *const args[] = { "--init", "imprint", "--token-ttl", "8", NULL };
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;

  fixture_start (f, args);
  fixture_login (f);
  g_usleep (9 * G_USEC_PER_SEC);
  {
    g_auto (Run) units = tke (f, NULL, "cryptounits", NULL);
    /* Ours, then the plug-in's words (issue 17). */
    assert_fails (
        units, 3,
        "The token has expired. Log in again.\nStatus code: 401\nMessage: Unauthorized\n");
  }
  tke_service_client_list_units_async (f->client, NULL, on_done, &result);
  wait_for (&result);
  instance = tke_service_client_list_units_finish (f->client, result, &error);
  g_assert_null (instance);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_AUTH_EXPIRED);
  {
    /* Logging in again takes the API key from the keyring. */
    g_auto (Run) again = tke (f, NULL, "login", NULL);
    g_auto (Run) units = tke (f, NULL, "cryptounits", NULL);
    assert_ok (again);
    g_assert_nonnull (strstr (again.out, "keyring"));
    assert_ok (units);
  }
}

static void
test_not_logged_in_and_tls (Fixture *f, gconstpointer user_data)
{
  const char *const args[] = { "--init", "imprint", NULL };
  g_autoptr (TkeServiceClient) wrong_ca = NULL;
  g_autoptr (TkeSecret) key = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  fixture_start (f, args);
  {
    g_auto (Run) units = tke (f, NULL, "cryptounits", NULL);
    assert_fails (units, 3, "No service endpoint is known");
  }
  {
    g_autofree char *bad_key = g_build_filename (f->cli.top, "badkey", NULL);
    g_auto (Run) run = { 0 };

    g_assert_true (g_file_set_contents (bad_key, "not-the-key\n", -1, NULL));
    run = tke (f, NULL, "login", "--endpoint", f->emu->url, "--ca-file", f->emu->ca_file,
               "--api-key-file", bad_key, "--unit-root", f->emu->unit_root_file, NULL);
    assert_fails (run, 3, "The API key is not valid.");
  }

  /* The system's CAs do not know the emulator's: TLS refuses, never skips. */
  wrong_ca = tke_service_client_new (f->emu->url, "/etc/ssl/certs/ca-certificates.crt");
  key = tke_secret_new_from_data ((const guint8 *) f->emu->api_key, strlen (f->emu->api_key));
  tke_service_client_login_async (wrong_ca, key, NULL, on_done, &result);
  wait_for (&result);
  g_assert_false (tke_service_client_login_finish (wrong_ca, result, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_TLS);
}

static gboolean
cancel_later (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (Fixture *f, gconstpointer user_data)
{
  const char *const args[] = { "--init", "imprint", "--latency-ms", "5000", NULL };
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  gint64 started;

  fixture_start (f, args);
  started = g_get_monotonic_time ();
  g_timeout_add (200, cancel_later, cancellable);
  tke_service_client_list_units_async (f->client, cancellable, on_done, &result);
  wait_for (&result);
  instance = tke_service_client_list_units_finish (f->client, result, &error);
  g_assert_null (instance);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* Aborted by the progress callback, not after the 5 s answer. */
  g_assert_cmpint (g_get_monotonic_time () - started, <, 3 * G_USEC_PER_SEC);
}

/* ---- Credentials in freed memory (issue 19) ----------------------------- */

/* Bytes outside OpenSSL's secure heap equal to @needle, in every writable
 * mapping of this process: freed or live, heap, stacks, libraries' data.
 * Read through /proc/self/mem, not by pointer: another thread (curl's, or
 * ASan's allocator) may unmap a region between reading the maps and
 * scanning it, and pread() then fails where a load would crash.  The
 * scratch buffer is a mapping of its own that the scan skips. */
#define SCAN_CHUNK (1 << 20)

static guint
count_copies_in (int mem,
                 unsigned long start,
                 unsigned long end,
                 guint8 *scratch,
                 const guint8 *needle,
                 gsize size)
{
  guint copies = 0;

  for (unsigned long at = start; at + size <= end; at += SCAN_CHUNK)
    {
      gsize want = MIN ((gsize) (end - at), (gsize) SCAN_CHUNK + size - 1);
      ssize_t n = pread (mem, scratch, want, (off_t) at);

      for (ssize_t i = 0; n > 0 && i + (ssize_t) size <= n && i < SCAN_CHUNK; i++)
        if (memcmp (scratch + i, needle, size) == 0 &&
            !CRYPTO_secure_allocated ((const void *) (at + (unsigned long) i)))
          copies++;
    }
  return copies;
}

static guint
count_copies (const guint8 *needle, gsize size)
{
  g_autofree char *maps = NULL;
  g_auto (GStrv) lines = NULL;
  gsize scratch_size = SCAN_CHUNK + size;
  guint8 *scratch;
  guint copies = 0;
  int mem;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  scratch = mmap (NULL, scratch_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  g_assert_true (scratch != MAP_FAILED);
  mem = open ("/proc/self/mem", O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (mem, >=, 0);
  lines = g_strsplit (maps, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      unsigned long start, end;
      char perms[5];

      /* Writable mappings only, not ASan's huge shadow ones. */
      if (sscanf (lines[i], "%lx-%lx %4s", &start, &end, perms) != 3 || perms[0] != 'r' ||
          perms[1] != 'w' || end - start > (1UL << 30) || strstr (lines[i], "[vvar]") != NULL)
        continue;
      copies += count_copies_in (mem, start, end, scratch, needle, size);
    }
  close (mem);
  explicit_bzero (scratch, scratch_size);
  munmap (scratch, scratch_size);
  return copies;
}

static TkeSecret *
read_secret_file (const char *path)
{
  g_autoptr (TkeSecret) secret = tke_secret_new (4096);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  g_assert_cmpint (fd, >=, 0);
  /* Straight into secure memory: no stdio or GLib buffer holds it. */
  n = read (fd, tke_secret_get_mutable_data (secret), 4096);
  close (fd);
  g_assert_cmpint (n, >, 0);
  return tke_secret_new_from_data (tke_secret_get_data (secret), (gsize) n);
}

static void
credential_copies_child (void)
{
  g_autoptr (TkeSecret) api_key = read_secret_file (g_getenv ("TKE_TEST_API_KEY_FILE"));
  g_autoptr (TkeServiceClient) client =
      tke_service_client_new (g_getenv ("TKE_TEST_ENDPOINT"), g_getenv ("TKE_TEST_CA_FILE"));
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (TkeSecret) token = NULL;
  guint key_copies, token_copies;

  tke_service_client_set_unit_root (client, g_getenv ("TKE_TEST_UNIT_ROOT"));
  tke_service_client_login_async (client, api_key, NULL, on_done, &result);
  wait_for (&result);
  g_assert_true (tke_service_client_login_finish (client, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  /* Requests with the token in their headers. */
  for (guint i = 0; i < 2; i++)
    {
      tke_service_client_list_units_async (client, NULL, on_done, &result);
      wait_for (&result);
      g_clear_object (&instance);
      instance = tke_service_client_list_units_finish (client, result, &error);
      g_assert_no_error (error);
      g_clear_object (&result);
    }

  token = tke_service_client_dup_token (client);
  g_assert_true (tke_secret_is_secure (token));
  /* The key without its trailing newline, if the file has one. */
  key_copies = count_copies (tke_secret_get_data (api_key), tke_secret_get_size (api_key) - 1);
  token_copies = count_copies (tke_secret_get_data (token), tke_secret_get_size (token));
  g_print ("copies outside the secure heap: API key %u, token %u\n", key_copies, token_copies);
  g_printerr ("# copies outside the secure heap: API key %u, token %u\n", key_copies, token_copies);
  g_assert_cmpuint (key_copies, ==, 0);
  g_assert_cmpuint (token_copies, ==, 0);
}

/* Issue 19: the login body, curl's header lists and a g_strndup() of the
 * token left 4 copies of the API key and 7 of the token in a ceremony's
 * core.  A child process that gets the key only through a read into
 * secure memory logs in and lists the units, then scans itself. */
static void
test_credential_copies (Fixture *f, gconstpointer user_data)
{
  const char *const args[] = { "--init", "imprint", NULL };
  g_autofree char *key_file = NULL;

  if (g_test_subprocess ())
    {
      credential_copies_child ();
      return;
    }
  fixture_start (f, args);
  key_file = g_build_filename (f->cli.top, "apikey", NULL);
  g_assert_true (g_file_set_contents_full (key_file, f->emu->api_key, -1,
                                           G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
  g_setenv ("TKE_TEST_API_KEY_FILE", key_file, TRUE);
  g_setenv ("TKE_TEST_ENDPOINT", f->emu->url, TRUE);
  g_setenv ("TKE_TEST_CA_FILE", f->emu->ca_file, TRUE);
  g_setenv ("TKE_TEST_UNIT_ROOT", f->emu->unit_root, TRUE);
  g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*API key 0, token 0*");
}

/* Issue 19: a .sigkey with a 300 kB enckey aborted tke (and the GUI): the
 * decryption took the secure heap.  Now the file is refused, with exit
 * status 1 and a message. */
static void
test_hostile_sigkey (Fixture *f, gconstpointer user_data)
{
  const char *const args[] = { "--init", "imprint", NULL };
  g_autofree char *path = NULL;
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (NULL);
  g_autoptr (TkeSecret) password = tke_secret_new_from_data ((const guint8 *) "pw-hostile", 10);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *huge = g_strnfill (600000, 'a');
  g_autofree char *text = NULL;

  fixture_start (f, args);
  g_assert_cmpint (g_mkdir_with_parents (f->cli.files, 0700), ==, 0);
  path = g_build_filename (f->cli.files, "1.sigkey", NULL);
  g_assert_true (tke_signature_key_file_create (path, "Hostile", key, password,
                                                TKE_KEY_FILE_KDF_SCRYPT, NULL));
  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  json_object_set_string_member (json_node_get_object (json_parser_get_root (parser)), "enckey",
                                 huge);
  text = json_to_string (json_parser_get_root (parser), FALSE);
  g_assert_true (
      g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
  {
    g_auto (Run) sel = tke (f, "pw-hostile\n", "sigkey-sel", "1", NULL);
    assert_fails (sel, 1, "too large");
  }
}

void
client_add_protocol_tests (void)
{
  add_client_test ("/client/protocol-refusals", test_protocol_refusals);
  add_client_test ("/client/expired-token", test_expired_token);
  add_client_test ("/client/not-logged-in-and-tls", test_not_logged_in_and_tls);
  add_client_test ("/client/cancel", test_cancel);
  add_client_test ("/client/credential-copies", test_credential_copies);
  add_client_test ("/client/hostile-sigkey", test_hostile_sigkey);
}
