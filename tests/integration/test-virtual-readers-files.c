/* test-virtual-readers-files.c: the key file commands under hostile APDUs, through pcscd
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Part of test-virtual-readers (card-protocol.md §4.14): what a host that
 * is not libtke may send IMPORT/EXPORT KEY PART FILE and SIGNATURE KEY
 * FILE: no PIN, bad P1/P2, lengths that lie, truncated and hostile files,
 * a chain beyond 4 KiB, a wrong password.  Each gets its status word, the
 * card keeps what it had, and the reader still answers.
 */

#include <string.h>

#include <glib/gstdio.h>

#include "virtual-readers-common.h"

#define INS_IMPORT_SIGKEY 0x4A
#define INS_EXPORT_SIGKEY 0x4C
#define INS_IMPORT_PART 0x5A
#define INS_EXPORT_PART 0x5C
#define PASSWORD "file password"

static guint
send (Session *s, guint8 ins, guint8 p1, guint8 p2, const guint8 *data, gsize size)
{
  guint sw = 0;
  g_autoptr (GBytes) answer = command (s, 0x80, ins, p1, p2, data, size, &sw);

  if (sw != 0x9000)
    g_assert_cmpuint (g_bytes_get_size (answer), ==, 0);
  return sw;
}

/* <Lpw> <password> <file> */
static GBytes *
request (const char *password, const void *file, gsize size)
{
  GByteArray *r = g_byte_array_new ();
  guint8 length = (guint8) strlen (password);

  g_byte_array_append (r, &length, 1);
  g_byte_array_append (r, (const guint8 *) password, length);
  g_byte_array_append (r, file, (guint) size);
  return g_byte_array_free_to_bytes (r);
}

static guint
send_request (Session *s, guint8 ins, const char *password, const void *file, gsize size)
{
  g_autoptr (GBytes) req = request (password, file, size);

  return send (s, ins, 0, 0, g_bytes_get_data (req, NULL), g_bytes_get_size (req));
}

static GBytes *
part_indexes (Session *s)
{
  guint sw = 0;
  GBytes *indexes = command (s, 0x80, 0x52, 0, 0, NULL, 0, &sw);

  g_assert_cmphex (sw, ==, 0x9000);
  return indexes;
}

static char *
key_part_file (const char *description)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = tke_readers_path (&fixture, "raw.keypart");
  g_autoptr (TkeSecret) part = tke_secret_new_random (TKE_MASTER_KEY_SIZE, NULL);
  g_autoptr (TkeSecret) password =
      tke_secret_new_from_data ((const guint8 *) PASSWORD, strlen (PASSWORD));
  char *text = NULL;

  g_unlink (path);
  g_assert_true (tke_key_part_file_create (path, description, part, password, &error));
  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_assert_no_error (error);
  g_unlink (path);
  return text;
}

/* The PIN on reader 2's pad, as the command right before an export. */
static void
fresh_pin (Session *s)
{
  g_assert_cmphex (verify_with (s, 2, "keys 222222"), ==, 0x9000);
}

static void
test_key_files_refused (Scene *scene, gconstpointer user_data)
{
  Session parts = { 0 };
  Session admin = { 0 };
  g_autofree char *good = key_part_file ("Raw part");
  g_autofree char *long_description = key_part_file ("A description of forty-one characters..");
  g_autoptr (GString) hostile = NULL;
  g_autofree guint8 *chain = g_malloc0 (5000);
  g_autoptr (GBytes) before = NULL;
  g_autoptr (GBytes) after = NULL;
  static const guint8 lying[] = { 200, 'a', 'b', 'c' };
  static const guint8 empty_password[] = { 0, '{', '}' };
  gsize good_size = strlen (good);

  make_card ("rawfiles.card", "222222", "ca.card");
  insert (2, "rawfiles.card");
  session_open (&parts, 2);
  before = part_indexes (&parts);

  /* The PIN first, for every one of them. */
  g_assert_cmphex (send_request (&parts, INS_IMPORT_PART, PASSWORD, good, good_size), ==, 0x6982);
  g_assert_cmphex (send_request (&parts, INS_EXPORT_PART, PASSWORD, NULL, 0), ==, 0x6982);
  g_assert_cmphex (send_request (&parts, INS_IMPORT_SIGKEY, PASSWORD, good, good_size), ==, 0x6982);
  g_assert_cmphex (send_request (&parts, INS_EXPORT_SIGKEY, PASSWORD, NULL, 0), ==, 0x6982);
  g_assert_cmphex (verify_with (&parts, 2, "keys 222222"), ==, 0x9000);

  /* Parameters and lengths. */
  fresh_pin (&parts);
  g_assert_cmphex (send (&parts, INS_IMPORT_PART, 1, 0, lying, sizeof lying), ==, 0x6A86);
  fresh_pin (&parts);
  g_assert_cmphex (send (&parts, INS_EXPORT_PART, 0, 0, lying, sizeof lying), ==, 0x6A86);
  fresh_pin (&parts);
  g_assert_cmphex (send (&parts, INS_IMPORT_PART, 0, 0, NULL, 0), ==, 0x6700);
  fresh_pin (&parts);
  g_assert_cmphex (send (&parts, INS_IMPORT_PART, 0, 0, lying, sizeof lying), ==, 0x6700);
  fresh_pin (&parts);
  g_assert_cmphex (send (&parts, INS_IMPORT_PART, 0, 0, empty_password, sizeof empty_password), ==,
                   0x6700);
  fresh_pin (&parts);
  g_assert_cmphex (send_request (&parts, INS_IMPORT_PART, PASSWORD, NULL, 0), ==, 0x6700);
  fresh_pin (&parts);
  g_assert_cmphex (send (&parts, INS_EXPORT_PART, 1, 0, (const guint8 *) "\x01px", 3), ==, 0x6700);
  fresh_pin (&parts);
  g_assert_cmphex (send (&parts, INS_EXPORT_SIGKEY, 0, 0, lying, sizeof lying), ==, 0x6700);
  chain[0] = 10;
  fresh_pin (&parts);
  g_assert_cmphex (send (&parts, INS_IMPORT_PART, 0, 0, chain, 5000), ==, 0x6700);

  /* Files: truncated, not JSON, a huge scrypt, a description a card cannot take. */
  fresh_pin (&parts);
  g_assert_cmphex (send_request (&parts, INS_IMPORT_PART, PASSWORD, good, good_size / 2), ==,
                   0x6A80);
  fresh_pin (&parts);
  g_assert_cmphex (send_request (&parts, INS_IMPORT_PART, PASSWORD, "\xff\xfe{[", 4), ==, 0x6A80);
  hostile = g_string_new (good);
  g_assert_cmpuint (g_string_replace (hostile, "\"N\" : 32768", "\"N\" : 1099511627776", 1), ==, 1);
  fresh_pin (&parts);
  g_assert_cmphex (send_request (&parts, INS_IMPORT_PART, PASSWORD, hostile->str, hostile->len), ==,
                   0x6A80);
  fresh_pin (&parts);
  g_assert_cmphex (
      send_request (&parts, INS_IMPORT_PART, PASSWORD, long_description, strlen (long_description)),
      ==, 0x6A80);
  fresh_pin (&parts);
  g_assert_cmphex (send_request (&parts, INS_IMPORT_SIGKEY, PASSWORD, good, good_size), ==, 0x6A80);

  /* A wrong password; a part the card does not have; no signature key. */
  fresh_pin (&parts);
  g_assert_cmphex (send_request (&parts, INS_IMPORT_PART, "wrong", good, good_size), ==, 0x6300);
  fresh_pin (&parts);
  g_assert_cmphex (send (&parts, INS_EXPORT_PART, 99, 0, (const guint8 *) "\x01x", 2), ==, 0x6A82);
  fresh_pin (&parts);
  g_assert_cmphex (send_request (&parts, INS_EXPORT_SIGKEY, PASSWORD, NULL, 0), ==, 0x6A88);

  after = part_indexes (&parts);
  g_assert_true (g_bytes_equal (before, after));
  /* The right password: stored, once. */
  fresh_pin (&parts);
  g_assert_cmphex (send_request (&parts, INS_IMPORT_PART, PASSWORD, good, good_size), ==, 0x9000);
  fresh_pin (&parts);
  g_assert_cmphex (send_request (&parts, INS_IMPORT_PART, PASSWORD, good, good_size), ==, 0x6A89);
  g_clear_pointer (&after, g_bytes_unref);
  after = part_indexes (&parts);
  g_assert_cmpuint (g_bytes_get_size (after), ==, g_bytes_get_size (before) + 1);
  /* An export takes only a PIN verified by the command just before it:
   * not one verified for something else (here: the list just sent). */
  {
    guint8 index = ((const guint8 *) g_bytes_get_data (after, NULL))[g_bytes_get_size (after) - 1];

    g_assert_cmphex (send (&parts, INS_EXPORT_PART, index, 0, (const guint8 *) "\x01x", 2), ==,
                     0x6982);
    fresh_pin (&parts);
    g_bytes_unref (part_indexes (&parts));
    g_assert_cmphex (send (&parts, INS_EXPORT_PART, index, 0, (const guint8 *) "\x01x", 2), ==,
                     0x6982);
    fresh_pin (&parts);
    g_assert_cmphex (send (&parts, INS_EXPORT_PART, index, 0, (const guint8 *) "\x01x", 2), ==,
                     0x9000);
    /* Consumed: the next export needs the PIN again. */
    g_assert_cmphex (send (&parts, INS_EXPORT_PART, index, 0, (const guint8 *) "\x01x", 2), ==,
                     0x6982);
  }
  session_close (&parts);

  /* The administrator card has its key: a second is refused before anything else. */
  session_open (&admin, 1);
  g_assert_cmphex (verify_with (&admin, 1, "keys 123456"), ==, 0x9000);
  g_assert_cmphex (send_request (&admin, INS_IMPORT_SIGKEY, PASSWORD, good, good_size), ==, 0x6A89);
  /* Without a PIN typed for it, not even that is said. */
  g_assert_cmphex (send_request (&admin, INS_IMPORT_SIGKEY, PASSWORD, good, good_size), ==, 0x6982);
  session_close (&admin);
}

void
add_file_tests (void)
{
  add_scene_test ("/card/key-files-refused", test_key_files_refused);
}
