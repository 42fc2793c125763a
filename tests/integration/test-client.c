/* test-client.c: libtke's service client and the tke CLI against a real
 * tke-emulator process (HTTPS verified against its CA file)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each test starts its own emulator on a temporary state directory and
 * runs the real `tke` binary with a temporary XDG_CONFIG_HOME,
 * XDG_DATA_HOME and TKE_FILES, the libsecret file backend and
 * --password-file; it asserts on the output and the exit status, and
 * re-queries the units to prove that a refused command changed nothing.
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "client-fixture.h"
#include "tke-service-client-private.h"

#define N_ROOT_KEYS 3000
#define IN_FLIGHT 8

/* ---- Initialization from imprint mode (issue 3, "Must show") ------------ */

typedef struct
{
  TkeServiceClient *client;
  guint started;
  guint done;
  guint failed;
} CreateState;

static void create_next (CreateState *state);

static void
on_created (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CreateState *state = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeKmsKey) key =
      tke_service_client_kms_create_key_finish (TKE_SERVICE_CLIENT (source), result, &error);

  if (key == NULL)
    {
      g_test_message ("create failed: %s", error->message);
      state->failed++;
    }
  state->done++;
  create_next (state);
}

static void
create_next (CreateState *state)
{
  g_autofree char *name = NULL;

  if (state->started >= N_ROOT_KEYS)
    return;
  name = g_strdup_printf ("root-%u", ++state->started);
  tke_service_client_kms_create_key_async (state->client, name, FALSE, NULL, on_created, state);
}

static void
test_initialization (Fixture *f, gconstpointer user_data)
{
  const char *const args[] = { "--init", "imprint", NULL };
  g_autoptr (TkeSecret) p1 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) p2 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) p3 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) p12 = NULL;
  g_autoptr (TkeSecret) mk = NULL;
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (GPtrArray) signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) keystore = NULL;
  g_autofree char *vp_hex = NULL;
  g_autofree char *vp_line = NULL;
  g_autofree char *keystore_path = NULL;
  g_autofree char *h1 = hex_of (p1), *h2 = hex_of (p2), *h3 = hex_of (p3);
  g_autofree char *pw = NULL;
  guint8 vp[TKE_VP_SIZE];
  gint64 started;
  CreateState create = { 0 };

  fixture_start (f, args);
  fixture_login (f);
  {
    g_auto (Run) run = tke (f, NULL, "cryptounits", NULL);
    assert_ok (run);
    g_assert_true (g_str_has_prefix (run.out, "API endpoint:      "));
    g_assert_nonnull (strstr (run.out, "\nResource group:    -\n\nSERVICE INSTANCE: "));
    g_assert_nonnull (strstr (run.out, "CRYPTO UNIT NUM   SELECTED   TYPE           LOCATION\n"));
    g_assert_nonnull (strstr (run.out, "1                 false      OPERATIONAL    [us-south]."));
    g_assert_nonnull (strstr (run.out, "3                 false      RECOVERY       [us-east]."));
  }
  {
    g_auto (Run) run = tke (f, NULL, "cryptounit-add", "1", "2", "3", NULL);
    assert_ok (run);
    g_assert_null (strstr (run.out, "false"));
  }

  /* Two administrators with signature key files. */
  {
    g_auto (Run) a =
        tke (f, "password-one\npassword-one\n", "sigkey-add", "--name", "Admin One", NULL);
    g_auto (Run) b =
        tke (f, "password-two\npassword-two\n", "sigkey-add", "--name", "Admin Two", NULL);
    g_auto (Run) list = tke (f, NULL, "sigkeys", NULL);
    assert_ok (a);
    assert_ok (b);
    assert_ok (list);
    g_assert_nonnull (strstr (list.out, "KEYNUM   DESCRIPTION   SUBJECT KEY IDENTIFIER"));
    g_assert_nonnull (strstr (list.out, "2        Admin Two     "));
  }
  {
    g_auto (Run) a = tke (f, "password-one\n", "cryptounit-admin-add", "1", NULL);
    g_auto (Run) b = tke (f, "password-two\n", "cryptounit-admin-add", "2", NULL);
    g_auto (Run) admins = tke (f, NULL, "cryptounit-admins", NULL);
    assert_ok (a);
    assert_ok (b);
    assert_ok (admins);
    g_assert_nonnull (strstr (admins.out, "ADMINISTRATORS FOR CRYPTO UNIT NUM 3"));
    g_assert_nonnull (strstr (admins.out, "Admin Two"));
  }
  {
    g_auto (Run) sel = tke (f, "password-one\npassword-two\n", "sigkey-sel", "1", "2", NULL);
    g_auto (Run) thr = tke (f, "password-one\npassword-two\n", "cryptounit-thrhld-set",
                            "--signature", "2", "--revocation", "2", NULL);
    g_auto (Run) show = tke (f, NULL, "cryptounit-thrhlds", NULL);
    assert_ok (sel);
    assert_ok (thr);
    assert_ok (show);
    g_assert_nonnull (strstr (show.out, "1                 2                     2                 "
                                        "     false"));
  }

  /* Three key part files with known values, loaded and committed. */
  pw = g_strdup_printf ("%s\nkp-pass-1\nkp-pass-1\n", h1);
  {
    g_auto (Run) a = tke (f, pw, "mk-add", "--value", "--description", "part one", NULL);
    assert_ok (a);
  }
  g_free (pw);
  pw = g_strdup_printf ("%s\nkp-pass-2\nkp-pass-2\n", h2);
  {
    g_auto (Run) b = tke (f, pw, "mk-add", "--value", "--description", "part two", NULL);
    assert_ok (b);
  }
  g_free (pw);
  pw = g_strdup_printf ("%s\nkp-pass-3\nkp-pass-3\n", h3);
  {
    g_auto (Run) c = tke (f, pw, "mk-add", "--value", "--description", "part three", NULL);
    g_auto (Run) mks = tke (f, NULL, "mks", NULL);
    assert_ok (c);
    assert_ok (mks);
    g_assert_nonnull (strstr (mks.out, "KEYNUM   DESCRIPTION   VERIFICATION PATTERN\n"));
    g_assert_nonnull (strstr (mks.out, "3        part three    "));
  }
  p12 = tke_crypto_xor (p1, p2, NULL);
  mk = tke_crypto_xor (p12, p3, NULL);
  tke_crypto_verification_pattern (mk, vp);
  vp_hex = tke_crypto_hex_encode (vp, sizeof vp);
  vp_line = g_strdup_printf ("%.32s\n", vp_hex);
  {
    g_auto (Run) load = tke (f, "password-one\nkp-pass-1\nkp-pass-2\nkp-pass-3\n",
                             "cryptounit-mk-load", "1", "2", "3", NULL);
    assert_ok (load);
    g_assert_nonnull (strstr (load.out, "Full Uncommitted   "));
    g_assert_nonnull (strstr (load.out, vp_line));
  }
  {
    g_auto (Run) commit = tke (f, "password-one\npassword-two\n", "cryptounit-mk-commit", NULL);
    assert_ok (commit);
    g_assert_nonnull (strstr (commit.out, "3                 Full Committed   "));
  }

  /* Set immediate (first activation) with the libtke ceremony. */
  instance = list_units (f);
  g_ptr_array_add (signers, file_signer (f, 1, "password-one"));
  ceremony = tke_ceremony_new (f->client, TKE_CEREMONY_SET_IMMEDIATE,
                               tke_service_instance_get_units (instance));
  tke_ceremony_set_signers (ceremony, signers);
  g_signal_connect (ceremony, "progress", G_CALLBACK (on_progress), messages);
  tke_ceremony_run_async (ceremony, NULL, on_done, &result);
  wait_for (&result);
  g_assert_true (tke_ceremony_run_finish (ceremony, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tke_ceremony_get_n_units_done (ceremony), ==, 3);
  /* Signer by signer: each unit's command prepared, signed, then sent. */
  g_assert_cmpuint (messages->len, ==, 9);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_nonnull (strstr (messages->pdata[i], "preparing the command"));
      g_assert_nonnull (strstr (messages->pdata[3 + i], "Administrator 1 of 1"));
      g_assert_nonnull (strstr (messages->pdata[6 + i], "setting the new master key immediate"));
    }
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (TkeCryptoUnit) unit =
          g_list_model_get_item (tke_service_instance_get_units (instance), i);

      /* The ceremony refreshed the units it was given. */
      g_assert_cmpint (tke_crypto_unit_get_current_register_state (unit), ==,
                       TKE_CURRENT_REGISTER_VALID);
      g_assert_cmpstr (tke_crypto_unit_get_current_register_vp (unit), ==, vp_hex);
      g_assert_cmpint (tke_crypto_unit_get_new_register_state (unit), ==, TKE_NEW_REGISTER_EMPTY);
    }
  {
    g_auto (Run) show = tke (f, NULL, "cryptounit-mk", NULL);
    g_autofree char *current = NULL;
    const char *table;
    guint n = 0;

    assert_ok (show);
    table = strstr (show.out, "CURRENT MASTER KEY REGISTER");
    g_assert_nonnull (table);
    for (const char *p = table; (p = strstr (p, "Valid    ")) != NULL; p++)
      n++;
    g_assert_cmpuint (n, ==, 3);
    current =
        g_strdup_printf ("Valid    %.32s\n                           %s\n", vp_hex, vp_hex + 32);
    g_assert_nonnull (strstr (table, current));
    g_assert_null (strstr (table, "Empty"));
    g_assert_nonnull (strstr (show.out, "1                 Empty    "
                                        "00000000000000000000000000000000\n"));
  }

  /* Then 3 000 root keys through the KMS API, a few requests in flight. */
  started = g_get_monotonic_time ();
  create.client = f->client;
  for (guint i = 0; i < IN_FLIGHT; i++)
    create_next (&create);
  while (create.done < N_ROOT_KEYS)
    g_main_context_iteration (NULL, TRUE);
  g_test_message ("%u root keys created in %.1f s", N_ROOT_KEYS,
                  (g_get_monotonic_time () - started) / 1e6);
  g_assert_cmpuint (create.failed, ==, 0);
  {
    g_auto (Run) keys = tke (f, NULL, "kms-keys", "--limit", "2", NULL);
    assert_ok (keys);
    g_assert_nonnull (strstr (keys.out, "2 of 3000 keys"));
  }
  keystore_path = g_strdup_printf ("/v1/tke/%s/keystore", f->emu->instance);
  keystore = emu_call_ok (f->emu, "GET", keystore_path, NULL, 200);
  g_assert_cmpint (json_object_get_int_member (keystore, "keys_total"), ==, N_ROOT_KEYS);
  g_assert_cmpint (json_object_get_int_member (keystore, "keys_ok"), ==, N_ROOT_KEYS);

  /* KMS get and delete through the client. */
  {
    g_autoptr (GAsyncResult) res = NULL;
    g_autoptr (GPtrArray) page = NULL;
    g_autoptr (TkeKmsKey) key = NULL;
    g_autofree char *id = NULL;
    guint64 total = 0;

    tke_service_client_kms_list_keys_async (f->client, 10, 5, NULL, on_done, &res);
    wait_for (&res);
    page = tke_service_client_kms_list_keys_finish (f->client, res, &total, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (page->len, ==, 5);
    g_assert_cmpuint (total, ==, N_ROOT_KEYS);
    id = g_strdup (((TkeKmsKey *) page->pdata[0])->id);
    g_clear_object (&res);
    tke_service_client_kms_get_key_async (f->client, id, NULL, on_done, &res);
    wait_for (&res);
    key = tke_service_client_kms_get_key_finish (f->client, res, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (key->id, ==, id);
    g_assert_cmpint (key->state, ==, 1);
    g_assert_false (key->extractable);
    g_clear_object (&res);
    tke_service_client_kms_delete_key_async (f->client, id, NULL, on_done, &res);
    wait_for (&res);
    g_assert_true (tke_service_client_kms_delete_key_finish (f->client, res, &error));
    g_assert_no_error (error);
    g_clear_object (&res);
    tke_service_client_kms_get_key_async (f->client, id, NULL, on_done, &res);
    wait_for (&res);
    g_clear_pointer (&key, tke_kms_key_free);
    key = tke_service_client_kms_get_key_finish (f->client, res, &error);
    g_assert_null (key);
    g_assert_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }

  /* RewrapKeyBlob: refused until a new key is committed, then the blob
   * comes back under the new key's WKID. */
  {
    g_autoptr (JsonObject) generated =
        emu_call_ok (f->emu, "POST", "/v1/grep11/generate", "{}", 200);
    g_autofree char *blob_file = g_build_filename (f->cli.top, "blob.b64", NULL);
    g_autofree char *out_file = g_build_filename (f->cli.top, "blob-new.b64", NULL);
    g_autoptr (TkeSecret) p4 = tke_secret_new_random (32, NULL);
    g_autoptr (TkeSecret) p5 = tke_secret_new_random (32, NULL);
    g_autoptr (TkeSecret) next = tke_crypto_xor (p4, p5, NULL);
    g_autofree char *h4 = hex_of (p4), *h5 = hex_of (p5);
    g_autofree char *pw4 = g_strdup_printf ("%s\nkp-pass-4\nkp-pass-4\n", h4);
    g_autofree char *pw5 = g_strdup_printf ("%s\nkp-pass-5\nkp-pass-5\n", h5);
    g_autofree char *text = NULL;
    g_autofree guchar *rewrapped = NULL;
    guint8 wkid[TKE_WKID_SIZE];
    gsize size = 0;

    g_assert_true (g_file_set_contents (
        blob_file, json_object_get_string_member (generated, "blob"), -1, NULL));
    {
      g_auto (Run) early = tke (f, NULL, "rewrap-blob", blob_file, NULL);
      assert_fails (early, 1, "Full Committed");
    }
    {
      g_auto (Run) a = tke (f, pw4, "mk-add", "--value", "--description", "next 1", NULL);
      g_auto (Run) b = tke (f, pw5, "mk-add", "--value", "--description", "next 2", NULL);
      g_auto (Run) load =
          tke (f, "password-one\nkp-pass-4\nkp-pass-5\n", "cryptounit-mk-load", "4", "5", NULL);
      g_auto (Run) commit = tke (f, "password-one\npassword-two\n", "cryptounit-mk-commit", NULL);
      g_auto (Run) rewrap = tke (f, NULL, "rewrap-blob", blob_file, "--output", out_file, NULL);
      assert_ok (a);
      assert_ok (b);
      assert_ok (load);
      assert_ok (commit);
      assert_ok (rewrap);
    }
    g_assert_true (g_file_get_contents (out_file, &text, NULL, NULL));
    rewrapped = g_base64_decode (g_strstrip (text), &size);
    g_assert_cmpuint (size, >, TKE_WKID_SIZE);
    tke_crypto_wkid (next, wkid);
    g_assert_cmpmem (rewrapped, TKE_WKID_SIZE, wkid, TKE_WKID_SIZE);
  }
}

/* ---- Refusals: each its own message, and no change ---------------------- */
static void
flip_ciphertext (const char *path)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *text = NULL;
  g_autofree char *hex = NULL;
  JsonObject *cipher;

  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  cipher = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                          "cipher");
  hex = g_strdup (json_object_get_string_member (cipher, "ciphertext"));
  hex[3] = hex[3] == 'a' ? 'b' : 'a';
  json_object_set_string_member (cipher, "ciphertext", hex);
  text = json_to_string (json_parser_get_root (parser), TRUE);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
test_refusals (Fixture *f, gconstpointer user_data)
{
  const char *const args[] = { "--init", "demo", "--keys", "20", NULL };
  g_autofree char *pw1 = NULL, *pw2 = NULL, *both = NULL, *before = NULL, *after = NULL;
  g_autofree char *passwords = NULL;
  g_autofree char *part_path = NULL;

  fixture_start (f, args);
  fixture_login (f);
  install_demo_sigkeys (f);
  pw1 = demo_password (f, "admin1.sigkey");
  pw2 = demo_password (f, "admin2.sigkey");
  both = g_strdup_printf ("%s\n%s\n", pw1, pw2);
  {
    g_auto (Run) add = tke (f, NULL, "cryptounit-add", "1", "2", NULL);
    g_auto (Run) sel = tke (f, both, "sigkey-sel", "1", "2", NULL);
    assert_ok (add);
    assert_ok (sel);
  }
  before = units_state (f);

  /* Unknown signer: a signature key that no unit has installed. */
  {
    g_auto (Run) add =
        tke (f, "outsider-pw\noutsider-pw\n", "sigkey-add", "--name", "Outsider", NULL);
    g_auto (Run) sel = tke (f, "outsider-pw\n", "sigkey-sel", "3", NULL);
    g_auto (Run) clear = tke (f, "outsider-pw\n", "cryptounit-mk-clrnew", "--yes", NULL);
    assert_ok (add);
    assert_ok (sel);
    assert_fails (clear, 1, "is not an administrator of crypto unit 1");
    g_assert_nonnull (strstr (clear.err, "FAILED"));
  }
  after = units_state (f);
  g_assert_cmpstr (before, ==, after);
  g_clear_pointer (&after, g_free);

  /* Wrong password of a signature key file: refused before anything is sent. */
  {
    g_auto (Run) sel = tke (f, "not-the-password\n", "sigkey-sel", "1", NULL);
    g_auto (Run) sel_ok = tke (f, both, "sigkey-sel", "1", "2", NULL);
    assert_fails (sel, 1, "Invalid password.");
    assert_ok (sel_ok);
  }

  /* Two key parts; a wrong key part password, then a tampered key part file. */
  {
    g_auto (Run) a = tke (f, "part-pass-a\npart-pass-a\n", "mk-add", "--random", "--description",
                          "part a", NULL);
    g_auto (Run) b = tke (f, "part-pass-b\npart-pass-b\n", "mk-add", "--random", "--description",
                          "part b", NULL);
    assert_ok (a);
    assert_ok (b);
  }
  passwords = g_strdup_printf ("%s\npart-pass-a\nwrong-pass-b\n", pw1);
  {
    g_auto (Run) load = tke (f, passwords, "cryptounit-mk-load", "1", "2", NULL);
    assert_fails (load, 1, "Invalid password.");
  }
  part_path = g_build_filename (f->cli.files, "2.keypart", NULL);
  flip_ciphertext (part_path);
  g_free (passwords);
  passwords = g_strdup_printf ("%s\npart-pass-a\npart-pass-b\n", pw1);
  {
    g_auto (Run) load = tke (f, passwords, "cryptounit-mk-load", "1", "2", NULL);
    assert_fails (load, 1, "is damaged or was altered");
  }
  after = units_state (f);
  g_assert_cmpstr (before, ==, after);
  g_clear_pointer (&after, g_free);

  /* One signature below a threshold of 2. */
  {
    g_auto (Run) c = tke (f, "part-pass-c\npart-pass-c\n", "mk-add", "--random", "--description",
                          "part c", NULL);
    g_autofree char *load_pw = g_strdup_printf ("%s\npart-pass-a\npart-pass-c\n", pw1);
    g_auto (Run) load = tke (f, load_pw, "cryptounit-mk-load", "1", "3", NULL);
    g_autofree char *one = g_strdup_printf ("%s\n", pw1);
    g_auto (Run) sel = tke (f, one, "sigkey-sel", "1", NULL);
    g_auto (Run) commit = { 0 };

    assert_ok (c);
    assert_ok (load);
    assert_ok (sel);
    g_clear_pointer (&before, g_free);
    before = units_state (f);
    commit = tke (f, one, "cryptounit-mk-commit", NULL);
    assert_fails (commit, 1, "needs 2 signatures from distinct administrators; 1 valid");
  }
  after = units_state (f);
  g_assert_cmpstr (before, ==, after);
  g_assert_nonnull (strstr (after, "\"new_mk_status\":\"Full Uncommitted\""));
  g_clear_pointer (&after, g_free);

  /* A destructive verb answered "no" (end of input) changes nothing. */
  {
    g_auto (Run) clear = tke (f, NULL, "cryptounit-mk-clrnew", NULL);
    g_assert_cmpint (clear.status, ==, 4);
  }
  after = units_state (f);
  g_assert_cmpstr (before, ==, after);
}

/* Load, one step at a time: a second seal while the first runs (the
 * wizard's "Load This Part" pressed twice) is refused and touches nothing
 * of the first, which goes on; so does the load after it. */
static void
test_one_seal_at_a_time (Fixture *f, gconstpointer user_data)
{
  const char *const args[] = { "--init", "demo", "--keys", "20", NULL };
  g_autoptr (TkeServiceInstance) instance = NULL;
  g_autoptr (GPtrArray) signers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (TkeCeremony) ceremony = NULL;
  g_autoptr (GAsyncResult) first = NULL;
  g_autoptr (GAsyncResult) second = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *pw1 = NULL;

  fixture_start (f, args);
  fixture_login (f);
  install_demo_sigkeys (f);
  pw1 = demo_password (f, "admin1.sigkey");
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("part%u.kp", i + 1);
      g_autofree char *path = g_build_filename (f->cli.files, name, NULL);
      g_autoptr (TkeSecret) part = tke_secret_new_random (32, NULL);
      g_autoptr (TkeSecret) password = tke_secret_new_from_data ((const guint8 *) "kp-pass", 7);
      TkeKeyPartFile *file;

      g_assert_true (tke_key_part_file_create (path, name, part, password, &error));
      g_assert_no_error (error);
      file = tke_key_part_file_load (path, &error);
      g_assert_no_error (error);
      g_assert_true (tke_key_part_file_set_password (file, password, &error));
      g_assert_no_error (error);
      g_ptr_array_add (files, file);
    }
  instance = list_units (f);
  g_ptr_array_add (signers, file_signer (f, 1, pw1));
  ceremony =
      tke_ceremony_new (f->client, TKE_CEREMONY_LOAD, tke_service_instance_get_units (instance));
  tke_ceremony_set_signers (ceremony, signers);
  tke_ceremony_set_n_key_parts (ceremony, 2);

  /* Part 1 twice, at once: the second is refused, the first seals. */
  tke_ceremony_seal_next_part_async (ceremony, files->pdata[0], NULL, on_done, &first);
  tke_ceremony_seal_next_part_async (ceremony, files->pdata[1], NULL, on_done, &second);
  wait_for (&second);
  g_assert_false (tke_ceremony_seal_next_part_finish (ceremony, second, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NOT_ALLOWED);
  g_clear_error (&error);
  g_assert_cmpuint (tke_ceremony_get_n_parts_sealed (ceremony), ==, 0);
  wait_for (&first);
  g_assert_true (tke_ceremony_seal_next_part_finish (ceremony, first, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tke_ceremony_get_n_parts_sealed (ceremony), ==, 1);

  /* A run while the second part seals is refused the same way. */
  g_clear_object (&first);
  g_clear_object (&second);
  tke_ceremony_seal_next_part_async (ceremony, files->pdata[1], NULL, on_done, &first);
  tke_ceremony_run_async (ceremony, NULL, on_done, &second);
  wait_for (&second);
  g_assert_false (tke_ceremony_run_finish (ceremony, second, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NOT_ALLOWED);
  g_clear_error (&error);
  wait_for (&first);
  g_assert_true (tke_ceremony_seal_next_part_finish (ceremony, first, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tke_ceremony_get_n_parts_sealed (ceremony), ==, 2);

  /* Free again: the load itself, from the two parts sealed once each. */
  tke_ceremony_run_async (ceremony, NULL, on_done, &result);
  wait_for (&result);
  g_assert_true (tke_ceremony_run_finish (ceremony, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tke_ceremony_get_n_units_done (ceremony), ==,
                    g_list_model_get_n_items (tke_service_instance_get_units (instance)));
  {
    g_autofree char *state = units_state (f);

    g_assert_nonnull (strstr (state, "\"new_mk_status\":\"Full Uncommitted\""));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("TKE_EMULATOR") == NULL || g_getenv ("TKE_CLI") == NULL)
    {
      g_test_skip ("TKE_EMULATOR and TKE_CLI must name the programs");
      return g_test_run ();
    }

  add_client_test ("/client/initialization", test_initialization);
  add_client_test ("/client/refusals", test_refusals);
  add_client_test ("/client/one-seal-at-a-time", test_one_seal_at_a_time);
  client_add_protocol_tests ();
  client_add_error_tests ();

  return g_test_run ();
}
