/* test-card-layer-files.c: a key part or the signature key between a card and a file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Part of test-card-layer (see test-card-layer.c): the four commands of
 * card-protocol.md §4.14 through libtke, pcscd and the virtual readers.
 * Each test works on a fresh card of its own in reader 2, with one PIN
 * entry (a login) for all its operations.
 */

#define _GNU_SOURCE
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "card-layer-common.h"

#define FILES_PIN "246802"
#define FILE_PASSWORD "file password"
#define OTHER_PASSWORD "another password"

static TkeSecret *
password (const char *text)
{
  return tke_secret_new_from_data ((const guint8 *) text, strlen (text));
}

/* A new card of the zone, no key on it, in reader 2; its PIN verified. */
static TkeCard *
fresh_card (const char *name)
{
  const char *actions[] = { "keys " FILES_PIN, NULL };
  g_autoptr (GError) error = NULL;
  TkeCard *card;

  make_card (name, FILES_PIN);
  swap_card (2, name);
  card = open_card_ok (2);
  person_expect (2, actions);
  g_assert_true (verify (card, &error));
  g_assert_no_error (error);
  return card;
}

static GPtrArray *
list_parts (TkeCard *card)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *parts;

  tke_card_list_key_parts_async (card, NULL, tke_test_async_done, &result);
  parts = tke_card_list_key_parts_finish (card, tke_test_await (&result, 60), &error);
  g_assert_no_error (error);
  return parts;
}

static TkeCardKeyPart *
import_part (TkeCard *card, const char *path, const char *pass, GError **error)
{
  const char *actions[] = { "keys " FILES_PIN, NULL };
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeSecret) secret = password (pass);

  person_expect (2, actions);
  tke_card_import_key_part_file_async (card, path, secret, NULL, tke_test_async_done, &result);
  return tke_card_import_key_part_file_finish (card, tke_test_await (&result, 60), error);
}

static TkeKeyPartFile *
export_part (TkeCard *card,
             guint index,
             const char *path,
             gboolean replace,
             const char *pass,
             GError **error)
{
  const char *actions[] = { "keys " FILES_PIN, NULL };
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeSecret) secret = password (pass);

  /* An export asks the PIN again, for itself. */
  person_expect (2, actions);
  tke_card_export_key_part_file_async (card, index, path, replace, secret, NULL,
                                       tke_test_async_done, &result);
  return tke_card_export_key_part_file_finish (card, tke_test_await (&result, 60), error);
}

static GBytes *
import_sigkey (TkeCard *card, const char *path, const char *pass, GError **error)
{
  const char *actions[] = { "keys " FILES_PIN, NULL };
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeSecret) secret = password (pass);

  person_expect (2, actions);
  tke_card_import_signature_key_file_async (card, path, secret, NULL, tke_test_async_done, &result);
  return tke_card_import_signature_key_file_finish (card, tke_test_await (&result, 60), error);
}

static TkeSignatureKeyFile *
export_sigkey (TkeCard *card, const char *path, const char *pass, GError **error)
{
  const char *actions[] = { "keys " FILES_PIN, NULL };
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeSecret) secret = password (pass);

  person_expect (2, actions);
  tke_card_export_signature_key_file_async (card, path, FALSE, secret, NULL, tke_test_async_done,
                                            &result);
  return tke_card_export_signature_key_file_finish (card, tke_test_await (&result, 60), error);
}

static void
assert_mode_0600 (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
}

/* file → card → file: the VP kept, the new file opens with its own
 * password to the very part; an existing file is kept unless told. */
static void
test_key_part_round_trip (Scene *scene, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = fresh_card ("files-parts.card");
  g_autofree char *in = tke_readers_path (&fixture, "in.keypart");
  g_autofree char *out = tke_readers_path (&fixture, "out.keypart");
  g_autoptr (TkeSecret) part = tke_secret_new_random (TKE_MASTER_KEY_SIZE, NULL);
  g_autoptr (TkeSecret) in_password = password (FILE_PASSWORD);
  g_autoptr (TkeSecret) out_password = password (OTHER_PASSWORD);
  g_autoptr (TkeKeyPartFile) in_file = NULL;
  g_autoptr (TkeKeyPartFile) written = NULL;
  g_autoptr (TkeKeyPartFile) loaded = NULL;
  g_autoptr (TkeKeyPartFile) again = NULL;
  g_autoptr (TkeCardKeyPart) imported = NULL;
  g_autoptr (TkeCardKeyPart) twice = NULL;
  g_autoptr (TkeSecret) opened = NULL;
  g_autoptr (GPtrArray) parts = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  g_unlink (in);
  g_unlink (out);
  g_assert_true (tke_key_part_file_create (in, "From a file", part, in_password, &error));
  g_assert_no_error (error);
  in_file = tke_key_part_file_load (in, &error);
  g_assert_no_error (error);

  imported = import_part (card, in, FILE_PASSWORD, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (imported->index, ==, 1);
  g_assert_cmpstr (imported->check_value, ==, tke_key_part_file_get_vp (in_file));
  g_assert_cmpstr (imported->description, ==, "From a file");
  parts = list_parts (card);
  g_assert_cmpuint (parts->len, ==, 1);
  g_assert_cmpstr (((TkeCardKeyPart *) parts->pdata[0])->check_value, ==,
                   tke_key_part_file_get_vp (in_file));
  g_assert_cmpstr (((TkeCardKeyPart *) parts->pdata[0])->description, ==, "From a file");

  /* The same part again: refused, the card keeps one. */
  twice = import_part (card, in, FILE_PASSWORD, &error);
  g_assert_null (twice);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NOT_ALLOWED);
  g_clear_error (&error);

  written = export_part (card, 1, out, FALSE, OTHER_PASSWORD, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tke_key_part_file_get_vp (written), ==, tke_key_part_file_get_vp (in_file));
  assert_mode_0600 (out);
  loaded = tke_key_part_file_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tke_key_part_file_get_vp (loaded), ==, tke_key_part_file_get_vp (in_file));
  g_assert_cmpstr (tke_key_part_file_get_description (loaded), ==, "From a file");
  opened = tke_key_part_file_unlock (loaded, out_password, &error);
  g_assert_no_error (error);
  g_assert_true (tke_secret_equal (opened, part));
  g_clear_pointer (&opened, tke_secret_unref);
  g_assert_null (tke_key_part_file_unlock (loaded, in_password, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD);
  g_clear_error (&error);

  /* An existing file is kept, unless told to replace it. */
  g_assert_true (g_file_get_contents (out, &before, NULL, NULL));
  g_assert_null (export_part (card, 1, out, FALSE, OTHER_PASSWORD, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_IO);
  g_clear_error (&error);
  g_assert_true (g_file_get_contents (out, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, before);
  g_clear_pointer (&after, g_free);
  again = export_part (card, 1, out, TRUE, FILE_PASSWORD, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (out, &after, NULL, NULL));
  g_assert_cmpstr (after, !=, before);
  assert_mode_0600 (out);
  opened = tke_key_part_file_unlock (again, in_password, &error);
  g_assert_no_error (error);
  g_assert_true (tke_secret_equal (opened, part));

  /* No part 7: refused before the PIN is asked. */
  g_assert_null (export_part (card, 7, out, TRUE, FILE_PASSWORD, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND);
  g_assert_cmpuint (person.prompts, ==, 0);
}

static void
assert_card_unchanged (TkeCard *card, guint n_parts, gboolean signature_key)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) parts = list_parts (card);

  g_assert_cmpuint (parts->len, ==, n_parts);
  tke_card_read_info_async (card, NULL, tke_test_async_done, &result);
  g_assert_true (tke_card_read_info_finish (card, tke_test_await (&result, 60), &error));
  g_assert_no_error (error);
  g_assert_cmpint (tke_card_get_has_signature_key (card), ==, signature_key);
}

/* A signature key file → card → file: the card's key is the file's, and
 * the exported file signs what the card's public key verifies. */
static void
test_signature_key_round_trip (Scene *scene, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = fresh_card ("files-sigkey.card");
  g_autofree char *in = tke_readers_path (&fixture, "in.sigkey");
  g_autofree char *out = tke_readers_path (&fixture, "out.sigkey");
  g_autofree char *second = tke_readers_path (&fixture, "second.sigkey");
  g_autoptr (TkeSecret) in_password = password (FILE_PASSWORD);
  g_autoptr (TkeSecret) out_password = password (OTHER_PASSWORD);
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) other = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) card_key = NULL;
  g_autoptr (GBytes) expected = tke_crypto_ec_public_point (key, NULL);
  g_autoptr (GBytes) point = NULL;
  g_autoptr (GBytes) refused = NULL;
  g_autoptr (TkeSignatureKeyFile) written = NULL;
  g_autoptr (TkeSignatureKeyFile) loaded = NULL;
  g_autoptr (TkeFileSigner) file_signer = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GBytes) message = g_bytes_new_static ("a command to sign", 17);
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) card_signature = NULL;
  g_autofree char *ski = NULL;

  g_unlink (in);
  g_unlink (out);
  g_unlink (second);
  g_assert_true (
      tke_signature_key_file_create (in, "Ada", key, in_password, TKE_KEY_FILE_KDF_SCRYPT, &error));
  g_assert_true (tke_signature_key_file_create (second, "Bob", other, in_password,
                                                TKE_KEY_FILE_KDF_PBKDF2, &error));
  g_assert_no_error (error);

  point = import_sigkey (card, in, FILE_PASSWORD, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (point, expected));
  assert_card_unchanged (card, 0, TRUE);

  /* One signature key per card: the second is refused, the first kept. */
  refused = import_sigkey (card, second, FILE_PASSWORD, &error);
  g_assert_null (refused);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NOT_ALLOWED);
  g_assert_nonnull (strstr (error->message, "one signature key only"));
  g_clear_error (&error);

  /* The card signs with the file's key. */
  card_key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                                  g_bytes_get_size (point), &error);
  g_assert_no_error (error);
  card_signature = sign_on_card (card, message, &error);
  g_assert_no_error (error);
  g_assert_true (tke_crypto_verify (
      card_key, g_bytes_get_data (message, NULL), g_bytes_get_size (message),
      g_bytes_get_data (card_signature, NULL), g_bytes_get_size (card_signature), &error));

  written = export_sigkey (card, out, OTHER_PASSWORD, &error);
  g_assert_no_error (error);
  assert_mode_0600 (out);
  ski = tke_card_public_key_ski (point);
  g_assert_cmpstr (tke_signature_key_file_get_ski (written), ==, ski);
  g_assert_cmpint (tke_signature_key_file_get_kdf (written), ==, TKE_KEY_FILE_KDF_SCRYPT);
  g_assert_cmpstr (tke_signature_key_file_get_admin_name (written), ==, "files-sigkey.card");

  /* libtke's file signer signs with the exported file; the card's public key verifies. */
  loaded = tke_signature_key_file_load (out, &error);
  g_assert_no_error (error);
  file_signer = tke_file_signer_new (loaded, out_password);
  tke_signer_sign_async (TKE_SIGNER (file_signer), message, NULL, tke_test_async_done, &result);
  signature =
      tke_signer_sign_finish (TKE_SIGNER (file_signer), tke_test_await (&result, 60), &error);
  g_assert_no_error (error);
  g_assert_true (tke_crypto_verify (card_key, g_bytes_get_data (message, NULL),
                                    g_bytes_get_size (message), g_bytes_get_data (signature, NULL),
                                    g_bytes_get_size (signature), &error));
  g_assert_no_error (error);

  /* Nothing written over an existing file, refused before the PIN. */
  g_clear_object (&written);
  written = export_sigkey (card, out, OTHER_PASSWORD, &error);
  g_assert_null (written);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_IO);
  g_assert_cmpuint (person.prompts, ==, 0);
}

/* A wrong password changes nothing on the card, and says so. */
static void
test_wrong_password (Scene *scene, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = fresh_card ("files-wrong.card");
  g_autofree char *part_path = tke_readers_path (&fixture, "wrong.keypart");
  g_autofree char *key_path = tke_readers_path (&fixture, "wrong.sigkey");
  g_autoptr (TkeSecret) part = tke_secret_new_random (TKE_MASTER_KEY_SIZE, NULL);
  g_autoptr (TkeSecret) right = password (FILE_PASSWORD);
  g_autoptr (EVP_PKEY) key = tke_crypto_ec_generate (NULL);
  g_autoptr (TkeCardKeyPart) imported = NULL;

  g_unlink (part_path);
  g_unlink (key_path);
  g_assert_true (tke_key_part_file_create (part_path, "Part", part, right, &error));
  g_assert_true (
      tke_signature_key_file_create (key_path, NULL, key, right, TKE_KEY_FILE_KDF_SCRYPT, &error));
  g_assert_no_error (error);

  g_assert_null (import_part (card, part_path, OTHER_PASSWORD, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD);
  g_assert_nonnull (strstr (error->message, "Wrong password or damaged file"));
  g_clear_error (&error);
  g_assert_null (import_sigkey (card, key_path, OTHER_PASSWORD, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD);
  g_clear_error (&error);
  assert_card_unchanged (card, 0, FALSE);

  /* The right one still works: the wrong ones counted no tries. */
  imported = import_part (card, part_path, FILE_PASSWORD, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (imported->index, ==, 1);
  g_assert_cmpuint (person.prompts, ==, 1);
}

static void
write_text (const char *path, const char *text, gsize size)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, text, (gssize) size, &error));
  g_assert_no_error (error);
}

/* Hostile files: clear errors before the card, never a crash, nothing
 * stored; and a damaged ciphertext the card itself finds. */
static void
test_hostile_files (Scene *scene, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = fresh_card ("files-hostile.card");
  g_autofree char *good = tke_readers_path (&fixture, "good.keypart");
  g_autofree char *bad = tke_readers_path (&fixture, "bad.keypart");
  g_autofree char *missing = tke_readers_path (&fixture, "missing.keypart");
  g_autoptr (TkeSecret) part = tke_secret_new_random (TKE_MASTER_KEY_SIZE, NULL);
  g_autoptr (TkeSecret) right = password (FILE_PASSWORD);
  g_autofree char *text = NULL;
  g_autofree char *huge = g_malloc0 (1 << 20);
  g_autofree char *long_name = NULL;
  gsize size = 0;
  char *cipher;

  g_unlink (good);
  g_assert_true (tke_key_part_file_create (good, "Part", part, right, &error));
  g_assert_true (g_file_get_contents (good, &text, &size, &error));

  write_text (bad, text, size / 2); /* truncated */
  g_assert_null (import_part (card, bad, FILE_PASSWORD, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);
  write_text (bad, "{\"format\": \"tke-key-part\", \"version\": [", 40); /* bad JSON */
  g_assert_null (import_part (card, bad, FILE_PASSWORD, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);
  memset (huge, ' ', (1 << 20) - 1); /* 1 MiB */
  write_text (bad, huge, 1 << 20);
  g_assert_null (import_part (card, bad, FILE_PASSWORD, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_null (import_sigkey (card, bad, FILE_PASSWORD, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_null (import_part (card, missing, FILE_PASSWORD, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* A key part file is not a signature key file. */
  g_assert_null (import_sigkey (card, good, FILE_PASSWORD, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* A description longer than a card takes. */
  g_unlink (bad);
  long_name = g_strnfill (40, 'x');
  g_assert_true (tke_key_part_file_create (bad, long_name, part, right, &error));
  g_assert_null (import_part (card, bad, FILE_PASSWORD, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A flipped ciphertext digit: only the card, opening it, can tell. */
  cipher = strstr (text, "\"ciphertext\"");
  g_assert_nonnull (cipher);
  cipher = strchr (cipher + 13, '"') + 1;
  cipher[0] = cipher[0] == '0' ? '1' : '0';
  write_text (bad, text, size);
  g_assert_null (import_part (card, bad, FILE_PASSWORD, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "damaged"));
  g_clear_error (&error);

  assert_card_unchanged (card, 0, FALSE);
  g_assert_cmpuint (person.prompts, ==, 1);
}

/* ---- tke card-copy-file ---- */

static gpointer
pin_pad_person (gpointer data)
{
  GString *transcript = g_string_new (NULL);
  g_autoptr (GDataInputStream) out = g_data_input_stream_new (data);
  char *line;

  while ((line = g_data_input_stream_read_line (out, NULL, NULL, NULL)) != NULL)
    {
      g_string_append_printf (transcript, "%s\n", line);
      g_test_message ("tke: %s", line);
      if (strstr (line, "PIN pad") != NULL)
        {
          g_autofree char *ready = tke_readers_ctl (&fixture, 2, "wait-prompt 20000");
          g_autofree char *done = NULL;

          g_assert_cmpstr (ready, ==, "ok");
          done = tke_readers_ctl (&fixture, 2, "keys " FILES_PIN);
          g_assert_cmpstr (done, ==, "ok");
        }
      g_free (line);
    }
  return transcript;
}

/* Runs `tke card-copy-file ARGS… --password-file PASSWORDS`, typing the
 * PIN on reader 2's pad when asked; its exit status, its output in *OUT. */
static int
tke_copy (const char *passwords, char **out, const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *password_file = tke_readers_path (&fixture, "cli-passwords.txt");
  GThread *thread;
  va_list ap;

  write_text (password_file, passwords, strlen (passwords));
  g_ptr_array_add (argv, g_strdup (g_getenv ("TKE_CLI")));
  g_ptr_array_add (argv, g_strdup ("card-copy-file"));
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  g_ptr_array_add (argv, g_strdup ("--password-file"));
  g_ptr_array_add (argv, g_strdup (password_file));
  g_ptr_array_add (argv, NULL);
  process =
      g_subprocess_newv ((const char *const *) argv->pdata,
                         G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  g_assert_no_error (error);
  thread = g_thread_new ("person", pin_pad_person, g_subprocess_get_stdout_pipe (process));
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  *out = g_string_free (g_thread_join (thread), FALSE);
  g_unlink (password_file);
  if (!g_subprocess_get_if_exited (process))
    g_error ("tke card-copy-file was killed by signal %d; it said:\n%s",
             g_subprocess_get_term_sig (process), *out);
  return g_subprocess_get_exit_status (process);
}

static void
test_cli (Scene *scene, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *in = tke_readers_path (&fixture, "cli-in.keypart");
  g_autofree char *out = tke_readers_path (&fixture, "cli-out.keypart");
  g_autofree char *bad = tke_readers_path (&fixture, "cli-bad.keypart");
  g_autoptr (TkeSecret) part = tke_secret_new_random (TKE_MASTER_KEY_SIZE, NULL);
  g_autoptr (TkeSecret) in_password = password (FILE_PASSWORD);
  g_autoptr (TkeSecret) out_password = password (OTHER_PASSWORD);
  g_autoptr (TkeKeyPartFile) in_file = NULL;
  g_autoptr (TkeKeyPartFile) out_file = NULL;
  g_autoptr (TkeSecret) opened = NULL;
  g_autofree char *text = NULL;

  if (g_getenv ("TKE_CLI") == NULL)
    {
      g_test_skip ("TKE_CLI is not set");
      return;
    }
  make_card ("files-cli.card", FILES_PIN);
  swap_card (2, "files-cli.card");
  g_unlink (in);
  g_unlink (out);
  g_assert_true (tke_key_part_file_create (in, "By the CLI", part, in_password, &error));
  g_assert_no_error (error);
  in_file = tke_key_part_file_load (in, &error);

  g_assert_cmpint (tke_copy (FILE_PASSWORD "\n", &text, "--to-card", in, NULL), ==, 0);
  g_assert_nonnull (strstr (text, "copied to the card in reader 2, index 1"));
  g_clear_pointer (&text, g_free);

  g_assert_cmpint (
      tke_copy (OTHER_PASSWORD "\n" OTHER_PASSWORD "\n", &text, "--from-card", "1", out, NULL), ==,
      0);
  g_clear_pointer (&text, g_free);
  assert_mode_0600 (out);
  out_file = tke_key_part_file_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tke_key_part_file_get_vp (out_file), ==, tke_key_part_file_get_vp (in_file));
  opened = tke_key_part_file_unlock (out_file, out_password, &error);
  g_assert_no_error (error);
  g_assert_true (tke_secret_equal (opened, part));

  /* An existing file: refused before any PIN. */
  g_assert_cmpint (
      tke_copy (OTHER_PASSWORD "\n" OTHER_PASSWORD "\n", &text, "--from-card", "1", out, NULL), ==,
      1);
  g_assert_nonnull (strstr (text, "exists already"));
  g_assert_null (strstr (text, "PIN pad"));
  g_clear_pointer (&text, g_free);

  /* A wrong password, then a file that is neither kind. */
  g_assert_cmpint (tke_copy ("not the password\n", &text, "--to-card", in, NULL), ==, 1);
  g_assert_nonnull (strstr (text, "Wrong password or damaged file"));
  g_clear_pointer (&text, g_free);
  write_text (bad, "{}", 2);
  g_assert_cmpint (tke_copy (FILE_PASSWORD "\n", &text, "--to-card", bad, NULL), ==, 1);
  g_assert_nonnull (strstr (text, "neither a key part file nor a signature key file"));
  g_clear_pointer (&text, g_free);
  g_assert_cmpint (tke_copy ("", &text, "--from-card", "zero", out, NULL), ==, 2);
}

void
add_file_tests (void)
{
  add_scene_test ("/card-layer/files/key-part-round-trip", test_key_part_round_trip);
  add_scene_test ("/card-layer/files/signature-key-round-trip", test_signature_key_round_trip);
  add_scene_test ("/card-layer/files/wrong-password", test_wrong_password);
  add_scene_test ("/card-layer/files/hostile", test_hostile_files);
  add_scene_test ("/card-layer/files/cli", test_cli);
}
