/* tke-card-files.c: a key part or the signature key between a card and a file
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Smart card tab's "Copy key part file" and "Copy signature key file"
 * (card-protocol.md §4.14).  The card opens and makes the files itself:
 * the host sends a file and its password and gets back what the card
 * keeps (an index and a VP, or a public key), or sends a password and
 * gets back the file, which it checks against the card before writing it.
 * No clear key is ever on the host.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/crypto.h>

#include "tke-card-private.h"
#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-pcsc-private.h"

#define POINT_SIZE 133
/* Both kinds of file are under 1.2 KiB; a card takes a 4 KiB chain. */
#define MAX_FILE_SIZE 3800
#define CARD_DESCRIPTION_MAX 32
#define INS_IMPORT_SIGNATURE_KEY_FILE 0x4A
#define INS_EXPORT_SIGNATURE_KEY_FILE 0x4C
#define INS_IMPORT_KEY_PART_FILE 0x5A
#define INS_EXPORT_KEY_PART_FILE 0x5C

typedef enum
{
  KIND_KEY_PART,
  KIND_SIGNATURE_KEY,
} FileKind;

typedef struct
{
  FileKind kind;
  gboolean import;
  char *path;
  gboolean replace;
  guint index;
  TkeSecret *password;
  GBytes *contents;  /* import: the file read */
  char *description; /* import: the key part file's */
  char *vp;          /* import: the key part file's */
} FileJob;

static void
file_job_free (gpointer data)
{
  FileJob *job = data;

  g_free (job->path);
  g_clear_pointer (&job->password, tke_secret_unref);
  g_clear_pointer (&job->contents, g_bytes_unref);
  g_free (job->description);
  g_free (job->vp);
  g_free (job);
}

/* The command's data: password length, password, then @rest; in secure
 * memory, since it holds the password. */
static TkeSecret *
request_with_password (const TkeSecret *password, GBytes *rest, GError **error)
{
  gsize password_size = tke_secret_get_size (password);
  gsize rest_size = rest != NULL ? g_bytes_get_size (rest) : 0;
  TkeSecret *request;
  guint8 *data;

  if (password_size == 0 || password_size > 255)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("A file's password for a card has 1 to 255 bytes."));
      return NULL;
    }
  if ((request = tke_secret_try_new (1 + password_size + rest_size, error)) == NULL)
    return NULL;
  data = tke_secret_get_mutable_data (request);
  data[0] = (guint8) password_size;
  memcpy (data + 1, tke_secret_get_data (password), password_size);
  if (rest_size > 0)
    memcpy (data + 1 + password_size, g_bytes_get_data (rest, NULL), rest_size);
  return request;
}

/* The card's refusals, in words. */
static void
file_refused (FileJob *job, guint sw, GError **error)
{
  gboolean part = job->kind == KIND_KEY_PART;

  if (sw == 0x6300)
    g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_PASSWORD,
                         _ ("Wrong password or damaged file: the card could not open the file. "
                            "Nothing was changed on the card."));
  else if (sw == 0x6A80 && job->import)
    g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                         part ? _ ("The card refused the file: it is damaged or is not a key part "
                                   "file. Nothing was changed on the card.")
                              : _ ("The card refused the file: it is damaged or does not hold a "
                                   "P-521 signature key. Nothing was changed on the card."));
  else if (sw == 0x6A89 && part)
    g_set_error_literal (error, TKE_ERROR, TKE_ERROR_NOT_ALLOWED,
                         _ ("The card already holds this key part (the same check value)."));
  else if (sw == 0x6A89)
    g_set_error_literal (error, TKE_ERROR, TKE_ERROR_NOT_ALLOWED,
                         _ ("The card already holds a signature key. A card holds one "
                            "signature key only."));
  else
    _tke_pcsc_check_status (sw, error);
}

/* Runs the job's command with @request; the answer, or NULL. */
static GByteArray *
send_request (TkeCard *self, FileJob *job, guint8 ins, guint8 p1, GError **error)
{
  g_autoptr (GByteArray) answer = g_byte_array_new ();
  g_autoptr (TkeSecret) request = NULL;
  guint sw = 0;

  request = request_with_password (job->password, job->import ? job->contents : NULL, error);
  if (request == NULL)
    return NULL;
  if (!_tke_card_command (self, 0x80, ins, p1, 0x00, tke_secret_get_data (request),
                          tke_secret_get_size (request), TRUE, answer, &sw, error))
    return NULL;
  if (sw != 0x9000)
    return file_refused (job, sw, error), NULL;
  return g_steal_pointer (&answer);
}

/* ---- Writing the exported file ---- */

static gboolean
write_failed (const char *path, int saved, GError **error)
{
  g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The file “%s” cannot be written: %s"), path,
               g_strerror (saved));
  return FALSE;
}

static gboolean
write_all (int fd, const guint8 *data, gsize size)
{
  while (size > 0)
    {
      gssize n = write (fd, data, size);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      size -= (gsize) n;
    }
  return fsync (fd) == 0;
}

/* Writes @contents to @path with mode 0600, all or nothing: a file beside
 * it, flushed, then renamed over @path (@replace) or linked to it, which
 * fails if @path exists, even if it appeared meanwhile. */
/* Says so at once when @path exists and may not be replaced, before a
 * PIN is typed for nothing; write_new_file() checks again. */
static gboolean
may_write (const char *path, gboolean replace, GError **error)
{
  if (replace || !g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The file “%s” exists already."), path);
  return FALSE;
}

static gboolean
write_new_file (const char *path, GBytes *contents, gboolean replace, GError **error)
{
  g_autofree char *tmp = g_strconcat (path, ".new-XXXXXX", NULL);
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (contents, &size);
  int fd, saved;
  gboolean written;

  if (!may_write (path, replace, error))
    return FALSE;
  if ((fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600)) < 0)
    return write_failed (path, errno, error);
  written = write_all (fd, data, size);
  saved = errno;
  if (close (fd) != 0 && written)
    {
      written = FALSE;
      saved = errno;
    }
  if (written && replace)
    written = g_rename (tmp, path) == 0;
  else if (written)
    written = link (tmp, path) == 0;
  if (!written)
    saved = errno;
  if (!replace || !written)
    g_unlink (tmp);
  if (written)
    return TRUE;
  if (saved == EEXIST)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("The file “%s” exists already."), path);
      return FALSE;
    }
  return write_failed (path, saved, error);
}

/* ---- The operations ---- */

/* The PIN on the pad now, for this command alone: the card takes a key
 * in or out only right after its PIN was verified (card-protocol.md
 * §4.14), so a PIN verified earlier, for another operation, is not enough. */
static gboolean
fresh_pin (TkeCard *self, GError **error)
{
  return _tke_card_pin_pad_entry (self, TKE_PIN_ENTRY_CURRENT, 0x20, 0x00, error);
}

static TkeCardKeyPart *
import_key_part (TkeCard *self, FileJob *job, GError **error)
{
  g_autoptr (GByteArray) answer = NULL;
  g_autofree char *vp = NULL;
  TkeCardKeyPart *part;

  if (!fresh_pin (self, error) ||
      (answer = send_request (self, job, INS_IMPORT_KEY_PART_FILE, 0x00, error)) == NULL)
    return NULL;
  if (answer->len != 1 + TKE_VP_SIZE || answer->data[0] == 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's answer to copying a key part file is malformed."));
      return NULL;
    }
  vp = tke_crypto_hex_encode (answer->data + 1, TKE_VP_SIZE);
  if (g_strcmp0 (vp, job->vp) != 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INTEGRITY,
                           _ ("The card stored a key part whose check value is not the file's."));
      return NULL;
    }
  part = g_new0 (TkeCardKeyPart, 1);
  part->index = answer->data[0];
  part->check_value = g_steal_pointer (&vp);
  part->description = g_strdup (job->description);
  return part;
}

static GBytes *
import_signature_key (TkeCard *self, FileJob *job, GError **error)
{
  g_autoptr (GByteArray) point = NULL;
  g_autoptr (TkePcscCardInfo) info = _tke_card_read_info (self, error);

  if (info == NULL)
    return NULL;
  /* Said before the PIN: a card holds one signature key. */
  if (info->has_signature_key)
    return file_refused (job, 0x6A89, error), NULL;
  if (!fresh_pin (self, error) ||
      (point = send_request (self, job, INS_IMPORT_SIGNATURE_KEY_FILE, 0x00, error)) == NULL)
    return NULL;
  if (point->len != POINT_SIZE || point->data[0] != 0x04)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's public key is malformed."));
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&point));
}

/* The check value of the card's part @index (KEY PART INFO). */
static char *
card_part_vp (TkeCard *self, guint index, GError **error)
{
  g_autoptr (GByteArray) info =
      _tke_card_command_ok (self, 0x80, 0x52, (guint8) index, 0x00, NULL, 0, TRUE, error);

  if (info == NULL)
    return NULL;
  if (info->len < 1 + TKE_VP_SIZE || info->data[0] != index)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's key part list is malformed."));
      return NULL;
    }
  return tke_crypto_hex_encode (info->data + 1, TKE_VP_SIZE);
}

static gboolean
not_the_cards (GError **error)
{
  g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INTEGRITY,
                       _ ("The file the card made does not hold the card's key. Nothing was "
                          "written."));
  return FALSE;
}

static TkeKeyPartFile *
export_key_part (TkeCard *self, FileJob *job, GError **error)
{
  g_autofree char *vp = NULL;
  g_autoptr (GByteArray) answer = NULL;
  g_autoptr (GBytes) contents = NULL;
  g_autoptr (TkeKeyPartFile) file = NULL;

  if ((vp = card_part_vp (self, job->index, error)) == NULL || !fresh_pin (self, error) ||
      (answer = send_request (self, job, INS_EXPORT_KEY_PART_FILE, (guint8) job->index, error)) ==
          NULL)
    return NULL;
  contents = g_byte_array_free_to_bytes (g_steal_pointer (&answer));
  if ((file = tke_key_part_file_new_from_bytes (job->path, contents, error)) == NULL)
    return NULL;
  if (g_strcmp0 (tke_key_part_file_get_vp (file), vp) != 0)
    return not_the_cards (error), NULL;
  if (!write_new_file (job->path, contents, job->replace, error))
    return NULL;
  return g_steal_pointer (&file);
}

static TkeSignatureKeyFile *
export_signature_key (TkeCard *self, FileJob *job, GError **error)
{
  g_autoptr (GByteArray) point = NULL;
  g_autoptr (GByteArray) answer = NULL;
  g_autoptr (GBytes) point_bytes = NULL;
  g_autoptr (GBytes) contents = NULL;
  g_autoptr (TkeSignatureKeyFile) file = NULL;
  g_autofree char *ski = NULL;

  point = _tke_card_command_ok (self, 0x80, 0x48, 0x00, 0x00, NULL, 0, TRUE, error);
  if (point == NULL || !fresh_pin (self, error) ||
      (answer = send_request (self, job, INS_EXPORT_SIGNATURE_KEY_FILE, 0x00, error)) == NULL)
    return NULL;
  if (point->len != POINT_SIZE || point->data[0] != 0x04)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                           _ ("The card's public key is malformed."));
      return NULL;
    }
  point_bytes = g_byte_array_free_to_bytes (g_steal_pointer (&point));
  ski = tke_card_public_key_ski (point_bytes);
  contents = g_byte_array_free_to_bytes (g_steal_pointer (&answer));
  if ((file = tke_signature_key_file_new_from_bytes (job->path, contents, error)) == NULL)
    return NULL;
  if (g_strcmp0 (tke_signature_key_file_get_ski (file), ski) != 0)
    return not_the_cards (error), NULL;
  if (!write_new_file (job->path, contents, job->replace, error))
    return NULL;
  return g_steal_pointer (&file);
}

/* The file at @path, read whole before the card is asked anything, so
 * that a missing, huge or malformed file gets a clear message. */
static GBytes *
read_file (const char *path, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GMappedFile) file = g_mapped_file_new (path, FALSE, &local_error);
  gsize size;

  if (file == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND, _ ("The file “%s” does not exist."),
                     path);
      else
        g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("“%s” cannot be read: %s"), path,
                     local_error->message);
      return NULL;
    }
  /* Mapped, not read: a huge file is refused by its size alone. */
  if ((size = g_mapped_file_get_length (file)) > MAX_FILE_SIZE)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA,
                   _ ("“%s” is too large to be a key file for a card."), path);
      return NULL;
    }
  return g_bytes_new (g_mapped_file_get_contents (file), size);
}

static gboolean
card_description_ok (const char *description, GError **error)
{
  if (strlen (description) <= CARD_DESCRIPTION_MAX)
    return TRUE;
  g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
               _ ("The key part's description “%s” is longer than a card takes (%d bytes)."),
               description, CARD_DESCRIPTION_MAX);
  return FALSE;
}

/* What is done before the card is locked: the file to copy onto the card
 * is read and checked (a missing, huge or malformed file never reaches
 * the card, and no PIN is asked for it); the file to write may be. */
static gboolean
prepare_job (FileJob *job, GError **error)
{
  g_autoptr (TkeKeyPartFile) part_file = NULL;
  g_autoptr (TkeSignatureKeyFile) key_file = NULL;

  if (!job->import)
    return may_write (job->path, job->replace, error);
  if ((job->contents = read_file (job->path, error)) == NULL)
    return FALSE;
  if (job->kind == KIND_SIGNATURE_KEY)
    return (key_file = tke_signature_key_file_new_from_bytes (job->path, job->contents, error)) !=
           NULL;
  if ((part_file = tke_key_part_file_new_from_bytes (job->path, job->contents, error)) == NULL ||
      !card_description_ok (tke_key_part_file_get_description (part_file), error))
    return FALSE;
  job->description = g_strdup (tke_key_part_file_get_description (part_file));
  job->vp = g_strdup (tke_key_part_file_get_vp (part_file));
  return TRUE;
}

static gpointer
run_job (TkeCard *self, gpointer data, GError **error)
{
  FileJob *job = data;

  /* Each job asks the PIN itself, right before the card's command. */
  if (job->kind == KIND_KEY_PART)
    return job->import ? (gpointer) import_key_part (self, job, error)
                       : (gpointer) export_key_part (self, job, error);
  return job->import ? (gpointer) import_signature_key (self, job, error)
                     : (gpointer) export_signature_key (self, job, error);
}

static void
file_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  FileJob *job = task_data;
  GError *error = NULL;
  gpointer result = NULL;

  if (prepare_job (job, &error))
    result = _tke_card_transact (source_object, cancellable, run_job, job, &error);
  /* The password is wiped as soon as the card is done with it, here: the
   * task's data may outlive the caller (a CLI that exits as soon as it has
   * the result, and OpenSSL's secure heap with it). */
  g_clear_pointer (&job->password, tke_secret_unref);
  if (result == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (job->kind == KIND_KEY_PART && job->import)
    g_task_return_pointer (task, result, (GDestroyNotify) tke_card_key_part_free);
  else if (job->kind == KIND_SIGNATURE_KEY && job->import)
    g_task_return_pointer (task, result, (GDestroyNotify) g_bytes_unref);
  else
    g_task_return_pointer (task, result, g_object_unref);
}

/* Refuses, before any APDU, what the card would refuse anyway. */
static gboolean
check_card (TkeCard *self, GError **error)
{
  if (self->card_type == TKE_CARD_TYPE_EP11)
    return TRUE;
  g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                       _ ("Only an EP11 card holds key parts and a signature key."));
  return FALSE;
}

/* Runs @job (taken) on the card in a thread, or refuses it at once. */
static void
run_file_job (TkeCard *self,
              FileJob *job,
              gpointer source_tag,
              GCancellable *cancellable,
              GAsyncReadyCallback callback,
              gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;

  if (!check_card (self, &error))
    {
      file_job_free (job);
      g_task_report_error (self, callback, user_data, source_tag, g_steal_pointer (&error));
      return;
    }
  task = _tke_card_task_new (self, source_tag, cancellable, callback, user_data);
  g_task_set_task_data (task, job, file_job_free);
  g_task_run_in_thread (task, file_thread);
}

static FileJob *
file_job_new (FileKind kind, gboolean import, const char *path, TkeSecret *password)
{
  FileJob *job = g_new0 (FileJob, 1);

  job->kind = kind;
  job->import = import;
  job->path = g_strdup (path);
  job->password = tke_secret_ref (password);
  return job;
}

/**
 * tke_card_import_key_part_file_async:
 * @self: an EP11 card
 * @path: a key part file (tke_key_part_file_create())
 * @password: the file's password
 * @cancellable: (nullable): checked before the PIN entry only
 * @callback: callback
 * @user_data: for @callback
 *
 * Copies the key part of a key part file onto the card, at its next free
 * index, with the file's description.  The card opens the file itself
 * with @password and checks the part against the file's check value: the
 * clear part never exists on this computer.  A wrong password or a
 * damaged file changes nothing on the card.  The PIN is typed on the pad
 * unless this handle's login holds it.
 */
void
tke_card_import_key_part_file_async (TkeCard *self,
                                     const char *path,
                                     TkeSecret *password,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  g_return_if_fail (path != NULL && password != NULL);

  run_file_job (self, file_job_new (KIND_KEY_PART, TRUE, path, password),
                tke_card_import_key_part_file_async, cancellable, callback, user_data);
}

/**
 * tke_card_import_key_part_file_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the part as the card now holds it (its index,
 *   check value and description), or %NULL
 */
TkeCardKeyPart *
tke_card_import_key_part_file_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * tke_card_export_key_part_file_async:
 * @self: an EP11 card
 * @index: the part's index on the card
 * @path: the key part file to write
 * @replace: write over @path if it exists
 * @password: the new file's password
 * @cancellable: (nullable): checked before the PIN entry only
 * @callback: callback
 * @user_data: for @callback
 *
 * Copies key part @index into a new key part file: the card encrypts the
 * part under @password (scrypt, AES-256-GCM) in the format
 * tke_key_part_file_load() reads.  The file is checked against the card's
 * check value, then written all at once with mode 0600; an existing file
 * is kept unless @replace (and then refused before the PIN is asked).
 */
void
tke_card_export_key_part_file_async (TkeCard *self,
                                     guint index,
                                     const char *path,
                                     gboolean replace,
                                     TkeSecret *password,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  FileJob *job;

  g_return_if_fail (TKE_IS_CARD (self));
  g_return_if_fail (path != NULL && password != NULL);

  if (index == 0 || index > 255)
    {
      g_task_report_new_error (self, callback, user_data, tke_card_export_key_part_file_async,
                               TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                               _ ("A key part index on a card is 1 to 255."));
      return;
    }
  job = file_job_new (KIND_KEY_PART, FALSE, path, password);
  job->index = index;
  job->replace = replace;
  run_file_job (self, job, tke_card_export_key_part_file_async, cancellable, callback, user_data);
}

/**
 * tke_card_export_key_part_file_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the file written, or %NULL
 */
TkeKeyPartFile *
tke_card_export_key_part_file_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * tke_card_import_signature_key_file_async:
 * @self: an EP11 card without a signature key
 * @path: a signature key file (`.sigkey`)
 * @password: the file's password
 * @cancellable: (nullable): checked before the PIN entry only
 * @callback: callback
 * @user_data: for @callback
 *
 * Copies the P-521 signature key of a signature key file onto the card,
 * which opens the file itself with @password.  A card holds one signature
 * key: one that has a key refuses, and a wrong password or a damaged
 * file changes nothing.  The PIN is typed on the pad unless this handle's
 * login holds it.
 */
void
tke_card_import_signature_key_file_async (TkeCard *self,
                                          const char *path,
                                          TkeSecret *password,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD (self));
  g_return_if_fail (path != NULL && password != NULL);

  run_file_job (self, file_job_new (KIND_SIGNATURE_KEY, TRUE, path, password),
                tke_card_import_signature_key_file_async, cancellable, callback, user_data);
}

/**
 * tke_card_import_signature_key_file_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the card's new public key (the 133-byte
 *   point), or %NULL
 */
GBytes *
tke_card_import_signature_key_file_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * tke_card_export_signature_key_file_async:
 * @self: an EP11 card with a signature key
 * @path: the signature key file to write
 * @replace: write over @path if it exists
 * @password: the new file's password
 * @cancellable: (nullable): checked before the PIN entry only
 * @callback: callback
 * @user_data: for @callback
 *
 * Copies the card's signature key into a new signature key file (scrypt
 * layout, %TKE_KEY_FILE_KDF_SCRYPT) that the card encrypts under
 * @password, recording the card's description as the administrator's
 * name.  The file is checked against the card's public key, then written
 * all at once with mode 0600; an existing file is kept unless @replace
 * (and then refused before the PIN is asked).
 */
void
tke_card_export_signature_key_file_async (TkeCard *self,
                                          const char *path,
                                          gboolean replace,
                                          TkeSecret *password,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  FileJob *job;

  g_return_if_fail (TKE_IS_CARD (self));
  g_return_if_fail (path != NULL && password != NULL);

  job = file_job_new (KIND_SIGNATURE_KEY, FALSE, path, password);
  job->replace = replace;
  run_file_job (self, job, tke_card_export_signature_key_file_async, cancellable, callback,
                user_data);
}

/**
 * tke_card_export_signature_key_file_finish:
 * @self: a card
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the file written, or %NULL
 */
TkeSignatureKeyFile *
tke_card_export_signature_key_file_finish (TkeCard *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
