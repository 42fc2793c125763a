/* test-virtual-readers-blank.c: a blank card becomes a CA card or an EP11
 * card through pcscd and the PIN pads (card-protocol.md §4.13)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Part of test-virtual-readers: the new PINs go through the PIN pad
 * (CHANGE REFERENCE DATA templates), and each refusal of the card is
 * checked with the card's state afterwards.
 */

#include <string.h>

#include <glib/gstdio.h>

#include "virtual-readers-common.h"

#define SERIAL_SIZE 8
#define POINT_SIZE 133

/* CHANGE REFERENCE DATA step P1 (1, 2) of PIN P2 on the pad. */
static guint
change_on_pad (Session *s, guint reader, guint8 p1, guint8 p2, const char *action)
{
  guint8 pvs[19 + 11] = { 20,   0x00, 0x82, 0x06, 0x00, 0x06, 0x06, 0x02, 0x00, 0x09,
                          0x04, 0x00, 0x00, 0x00, 0x00, 11,   0x00, 0x00, 0x00, 0x00,
                          0x24, p1,   p2,   0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
  GThread *t = person (reader, action);
  guint8 r[16];
  DWORD n = 0;

  g_assert_cmpint (SCardControl (s->card, s->verify_ioctl, pvs, sizeof pvs, r, sizeof r, &n), ==,
                   SCARD_S_SUCCESS);
  g_thread_join (t);
  g_assert_cmpuint (n, ==, 2);
  return (guint) r[0] << 8 | r[1];
}

static void
new_pin (Session *s, guint reader, guint8 p2, const char *keys)
{
  g_assert_cmphex (change_on_pad (s, reader, 1, p2, keys), ==, 0x9000);
  g_assert_cmphex (change_on_pad (s, reader, 2, p2, keys), ==, 0x9000);
}

/* GET CARD INFO: type, zone, descriptions, tries, what is verified. */
static GBytes *
card_info (Session *s)
{
  guint sw;
  GBytes *info = command (s, 0x80, 0xCA, 0, 0, NULL, 0, &sw);

  g_assert_cmphex (sw, ==, 0x9000);
  return info;
}

static guint8
card_type (Session *s)
{
  g_autoptr (GBytes) info = card_info (s);
  const guint8 *d = g_bytes_get_data (info, NULL);

  g_assert_cmpuint (d[0], ==, 0x01);
  g_assert_cmpuint (d[10], ==, 0x02); /* tag 02 after the 8-byte serial */
  return d[12];
}

static void
make_blank (const char *name)
{
  const char *args[] = { "create-blank", name, NULL };

  g_assert_cmpint (tke_readers_card (&fixture, "", args, NULL), ==, 0);
}

/* The image of the card NAME can no longer be written: a directory is
 * where it was.  Returns what it held, for mend_image(). */
static GBytes *
break_image (const char *name)
{
  g_autofree char *path = tke_readers_path (&fixture, name);
  g_autoptr (GError) error = NULL;
  char *image = NULL;
  gsize size = 0;

  g_assert_true (g_file_get_contents (path, &image, &size, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
  return g_bytes_new_take (image, size);
}

/* The image break_image() took back in its place: writable again. */
static void
mend_image (const char *name, GBytes *image)
{
  g_autofree char *path = tke_readers_path (&fixture, name);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_rmdir (path), ==, 0);
  g_assert_true (g_file_set_contents_full (path, g_bytes_get_data (image, NULL),
                                           (gssize) g_bytes_get_size (image),
                                           G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error));
  g_assert_no_error (error);
}

/* INITIALIZE CA's data: zone "New zone", card "New CA". */
static const guint8 initialize_request[] = { 8,   'N', 'e', 'w', ' ', 'z', 'o', 'n',
                                             'e', 'N', 'e', 'w', ' ', 'C', 'A' };

static void
test_initialize_ca (Scene *scene, gconstpointer data)
{
  static const guint8 no_zone[] = { 0, 'N', 'e', 'w', ' ', 'C', 'A' };
  g_autofree char *info = NULL;
  const char *args[] = { "info", "blank-ca.card", NULL };
  Session s;
  guint sw;

  make_blank ("blank-ca.card");
  insert (2, "blank-ca.card");
  session_open (&s, 2);
  g_assert_cmpuint (card_type (&s), ==, 0x00);
  /* Nothing to verify, nothing to do yet. */
  g_assert_cmphex (verify_with (&s, 2, "keys 121212"), ==, 0x6985);
  g_bytes_unref (
      command (&s, 0x80, 0x10, 0, 0, initialize_request, sizeof initialize_request, &sw));
  g_assert_cmphex (sw, ==, 0x6985);
  g_bytes_unref (command (&s, 0x80, 0x50, 0, 0, (const guint8 *) "Part", 4, &sw));
  g_assert_cmphex (sw, ==, 0x6986);
  /* The new PINs on the pad: two entries that differ are refused. */
  g_assert_cmphex (change_on_pad (&s, 2, 1, 0x81, "keys 121212"), ==, 0x9000);
  g_assert_cmphex (change_on_pad (&s, 2, 2, 0x81, "keys 121213"), ==, 0x6A80);
  new_pin (&s, 2, 0x81, "keys 121212");
  /* PIN 1 only: not yet. */
  g_bytes_unref (
      command (&s, 0x80, 0x10, 0, 0, initialize_request, sizeof initialize_request, &sw));
  g_assert_cmphex (sw, ==, 0x6985);
  new_pin (&s, 2, 0x82, "keys 343434");
  g_bytes_unref (command (&s, 0x80, 0x10, 0, 0, no_zone, sizeof no_zone, &sw));
  g_assert_cmphex (sw, ==, 0x6A80);
  g_bytes_unref (
      command (&s, 0x80, 0x10, 0, 0, initialize_request, sizeof initialize_request, &sw));
  g_assert_cmphex (sw, ==, 0x9000);
  g_assert_cmpuint (card_type (&s), ==, 0x01);
  /* Once: a CA card is not blank any more. */
  g_bytes_unref (
      command (&s, 0x80, 0x10, 0, 0, initialize_request, sizeof initialize_request, &sw));
  g_assert_cmphex (sw, ==, 0x6986);
  session_close (&s);

  /* After a reset the PINs typed are the card's. */
  session_open (&s, 2);
  g_assert_cmphex (verify_with (&s, 2, "keys 121212"), ==, 0x9000);
  g_assert_cmphex (verify_ref_with (&s, 2, 0x82, "keys 343434"), ==, 0x9000);
  session_close (&s);
  insert (2, "keyparts.card");
  g_assert_cmpint (tke_readers_card (&fixture, "", args, &info), ==, 0);
  g_assert_nonnull (strstr (info, "Type:             CA"));
  g_assert_nonnull (strstr (info, "Zone description: New zone"));
  g_assert_nonnull (strstr (info, "Description:      New CA"));
}

static void
test_enroll_and_personalize (Scene *scene, gconstpointer data)
{
  static const guint8 garbage[200] = { 0 };
  const char *ca_args[] = { "info", "ca.card", NULL };
  const char *args[] = { "info", "blank-ep11.card", NULL };
  g_autofree char *ca_info = NULL;
  g_autofree char *info = NULL;
  g_autofree char *zone_line = NULL;
  g_autoptr (GBytes) request = NULL;
  g_autoptr (GBytes) again = NULL;
  g_autoptr (GBytes) certificate = NULL;
  Session blank;
  Session ca;
  guint sw;

  make_blank ("blank-ep11.card");
  insert (1, "ca.card");
  insert (2, "blank-ep11.card");
  session_open (&blank, 2);
  session_open (&ca, 1);
  g_bytes_unref (command (&blank, 0x80, 0x16, 0, 0, (const guint8 *) "Admin", 5, &sw));
  g_assert_cmphex (sw, ==, 0x6985);
  request = command (&blank, 0x80, 0x12, 0, 0, NULL, 0, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  g_assert_cmpuint (g_bytes_get_size (request), ==, SERIAL_SIZE + POINT_SIZE);
  /* One transport key: the request does not change. */
  again = command (&blank, 0x80, 0x12, 0, 0, NULL, 0, &sw);
  g_assert_true (g_bytes_equal (request, again));
  g_bytes_unref (command (&blank, 0x80, 0x14, 0, 0, garbage, sizeof garbage, &sw));
  g_assert_cmphex (sw, ==, 0x6A80);

  /* The CA card certifies it with both of its PINs. */
  certificate = command (&ca, 0x80, 0x68, 0, 0, g_bytes_get_data (request, NULL),
                         g_bytes_get_size (request), &sw);
  g_assert_cmphex (sw, ==, 0x6982);
  g_clear_pointer (&certificate, g_bytes_unref);
  g_assert_cmphex (verify_with (&ca, 1, "keys 111111"), ==, 0x9000);
  g_assert_cmphex (verify_ref_with (&ca, 1, 0x82, "keys 222222"), ==, 0x9000);
  certificate = command (&ca, 0x80, 0x68, 0, 0, g_bytes_get_data (request, NULL),
                         g_bytes_get_size (request), &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  g_bytes_unref (command (&blank, 0x80, 0x14, 0, 0, g_bytes_get_data (certificate, NULL),
                          g_bytes_get_size (certificate), &sw));
  g_assert_cmphex (sw, ==, 0x9000);
  g_bytes_unref (command (&blank, 0x80, 0x14, 0, 0, g_bytes_get_data (certificate, NULL),
                          g_bytes_get_size (certificate), &sw));
  g_assert_cmphex (sw, ==, 0x6985);
  g_assert_cmpuint (card_type (&blank), ==, 0x00);

  /* Personalize: no PIN yet, then the PIN twice on the pad. */
  g_bytes_unref (command (&blank, 0x80, 0x16, 0, 0, (const guint8 *) "Admin", 5, &sw));
  g_assert_cmphex (sw, ==, 0x6985);
  new_pin (&blank, 2, 0x81, "keys 565656");
  /* A blank card on its way to EP11 has no PIN 2 once enrolled. */
  g_bytes_unref (command (&blank, 0x80, 0x16, 0, 0, (const guint8 *) "New admin card", 14, &sw));
  g_assert_cmphex (sw, ==, 0x9000);
  g_assert_cmpuint (card_type (&blank), ==, 0x02);
  /* An EP11 card's PIN is now changed only with the PIN. */
  session_close (&blank);
  session_open (&blank, 2);
  g_assert_cmphex (change_on_pad (&blank, 2, 1, 0x81, "keys 777777"), ==, 0x6982);
  g_assert_cmphex (verify_with (&blank, 2, "keys 565656"), ==, 0x9000);
  session_close (&blank);
  session_close (&ca);

  insert (1, "admin1.card");
  insert (2, "keyparts.card");
  g_assert_cmpint (tke_readers_card (&fixture, "", args, &info), ==, 0);
  g_assert_cmpint (tke_readers_card (&fixture, "", ca_args, &ca_info), ==, 0);
  g_assert_nonnull (strstr (info, "Type:             EP11"));
  g_assert_nonnull (strstr (info, "Description:      New admin card"));
  g_assert_nonnull (strstr (info, "Zone description: Zone A"));
  zone_line = g_strndup (strstr (ca_info, "Zone:"), strlen ("Zone:             ") + 16);
  g_assert_nonnull (strstr (info, zone_line));
}

/* The CA card backed up onto a blank card (card-protocol.md §4.15): only
 * with both CA PINs, only to a genuine blank card, and a tampered backup
 * leaves the blank card blank. */
static void
test_backup_ca (Scene *scene, gconstpointer data)
{
  const char *ca_args[] = { "info", "ca.card", NULL };
  const char *args[] = { "info", "blank-backup.card", NULL };
  g_autofree char *ca_info = NULL;
  g_autofree char *info = NULL;
  g_autofree char *zone_line = NULL;
  g_autoptr (GBytes) request = NULL;
  g_autoptr (GBytes) backup = NULL;
  g_autoptr (GByteArray) forged = NULL;
  Session blank;
  Session ca;
  guint sw;

  make_blank ("blank-backup.card");
  insert (1, "ca.card");
  insert (2, "blank-backup.card");
  session_open (&blank, 2);
  session_open (&ca, 1);
  request = command (&blank, 0x80, 0x70, 0, 0, NULL, 0, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  g_assert_cmpuint (g_bytes_get_size (request), ==, SERIAL_SIZE + POINT_SIZE + 32);

  /* Without both CA PINs, nothing. */
  g_bytes_unref (command (&ca, 0x80, 0x72, 0, 0, g_bytes_get_data (request, NULL),
                          g_bytes_get_size (request), &sw));
  g_assert_cmphex (sw, ==, 0x6982);
  g_assert_cmphex (verify_with (&ca, 1, "keys 111111"), ==, 0x9000);
  g_bytes_unref (command (&ca, 0x80, 0x72, 0, 0, g_bytes_get_data (request, NULL),
                          g_bytes_get_size (request), &sw));
  g_assert_cmphex (sw, ==, 0x6982);
  g_assert_cmphex (verify_ref_with (&ca, 1, 0x82, "keys 222222"), ==, 0x9000);

  /* A transport key the host chose, or a changed attestation: refused. */
  forged = g_byte_array_new ();
  g_byte_array_append (forged, g_bytes_get_data (request, NULL), g_bytes_get_size (request));
  forged->data[SERIAL_SIZE + 20] ^= 0x01;
  g_bytes_unref (command (&ca, 0x80, 0x72, 0, 0, forged->data, forged->len, &sw));
  g_assert_cmphex (sw, ==, 0x6A80);
  forged->data[SERIAL_SIZE + 20] ^= 0x01;
  forged->data[forged->len - 1] ^= 0x01;
  g_bytes_unref (command (&ca, 0x80, 0x72, 0, 0, forged->data, forged->len, &sw));
  g_assert_cmphex (sw, ==, 0x6A80);
  g_bytes_unref (command (&ca, 0x80, 0x72, 0, 0, forged->data, 10, &sw));
  g_assert_cmphex (sw, ==, 0x6700);

  backup = command (&ca, 0x80, 0x72, 0, 0, g_bytes_get_data (request, NULL),
                    g_bytes_get_size (request), &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  /* A changed byte of the sealed backup: refused, the card stays blank. */
  g_clear_pointer (&forged, g_byte_array_unref);
  forged = g_byte_array_new ();
  g_byte_array_append (forged, g_bytes_get_data (backup, NULL), g_bytes_get_size (backup));
  forged->data[forged->len - 5] ^= 0x80;
  g_bytes_unref (command (&blank, 0x80, 0x74, 0, 0, forged->data, forged->len, &sw));
  g_assert_cmphex (sw, ==, 0x6A80);
  g_assert_cmpuint (card_type (&blank), ==, 0x00);
  g_bytes_unref (command (&blank, 0x80, 0x74, 0, 0, g_bytes_get_data (backup, NULL),
                          g_bytes_get_size (backup), &sw));
  g_assert_cmphex (sw, ==, 0x9000);
  g_assert_cmpuint (card_type (&blank), ==, 0x01);
  /* Once: a CA card is not blank any more. */
  g_bytes_unref (command (&blank, 0x80, 0x74, 0, 0, g_bytes_get_data (backup, NULL),
                          g_bytes_get_size (backup), &sw));
  g_assert_cmphex (sw, ==, 0x6986);
  session_close (&blank);
  session_close (&ca);

  /* After a reset the backup takes the CA card's own PINs. */
  session_open (&blank, 2);
  g_assert_cmphex (verify_with (&blank, 2, "keys 111111"), ==, 0x9000);
  g_assert_cmphex (verify_ref_with (&blank, 2, 0x82, "keys 222222"), ==, 0x9000);
  session_close (&blank);

  insert (1, "admin1.card");
  insert (2, "keyparts.card");
  g_assert_cmpint (tke_readers_card (&fixture, "", args, &info), ==, 0);
  g_assert_cmpint (tke_readers_card (&fixture, "", ca_args, &ca_info), ==, 0);
  g_assert_nonnull (strstr (info, "Type:             CA"));
  g_assert_nonnull (strstr (info, "Zone description: Zone A"));
  zone_line = g_strndup (strstr (ca_info, "Zone:"), strlen ("Zone:             ") + 16);
  g_assert_nonnull (strstr (info, zone_line));
}

/* INSTALL CA BACKUP is all or nothing: when the card cannot write its
 * image (here: a directory where the image was), it answers 6F00 and is the
 * blank card it was, in memory too, not a CA card until the next reset;
 * once it can write again, the same backup installs. */
static void
test_backup_ca_unwritten (Scene *scene, gconstpointer data)
{
  g_autoptr (GBytes) image = NULL;
  g_autoptr (GBytes) request = NULL;
  g_autoptr (GBytes) again = NULL;
  g_autoptr (GBytes) backup = NULL;
  Session blank;
  Session ca;
  guint sw;

  make_blank ("blank-unwritten.card");
  insert (1, "ca.card");
  insert (2, "blank-unwritten.card");
  session_open (&blank, 2);
  session_open (&ca, 1);
  request = command (&blank, 0x80, 0x70, 0, 0, NULL, 0, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  g_assert_cmphex (verify_with (&ca, 1, "keys 111111"), ==, 0x9000);
  g_assert_cmphex (verify_ref_with (&ca, 1, 0x82, "keys 222222"), ==, 0x9000);
  backup = command (&ca, 0x80, 0x72, 0, 0, g_bytes_get_data (request, NULL),
                    g_bytes_get_size (request), &sw);
  g_assert_cmphex (sw, ==, 0x9000);

  image = break_image ("blank-unwritten.card");
  g_bytes_unref (command (&blank, 0x80, 0x74, 0, 0, g_bytes_get_data (backup, NULL),
                          g_bytes_get_size (backup), &sw));
  g_assert_cmphex (sw, ==, 0x6F00);
  /* Still blank: no PIN to verify, and it makes the same request. */
  g_assert_cmpuint (card_type (&blank), ==, 0x00);
  g_assert_cmphex (verify_with (&blank, 2, "keys 111111"), ==, 0x6985);
  again = command (&blank, 0x80, 0x70, 0, 0, NULL, 0, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  g_assert_true (g_bytes_equal (request, again));

  mend_image ("blank-unwritten.card", image);
  g_bytes_unref (command (&blank, 0x80, 0x74, 0, 0, g_bytes_get_data (backup, NULL),
                          g_bytes_get_size (backup), &sw));
  g_assert_cmphex (sw, ==, 0x9000);
  g_assert_cmpuint (card_type (&blank), ==, 0x01);
  session_close (&blank);
  session_close (&ca);

  /* After a reset, from its image: the CA card with the CA card's PINs. */
  session_open (&blank, 2);
  g_assert_cmpuint (card_type (&blank), ==, 0x01);
  g_assert_cmphex (verify_with (&blank, 2, "keys 111111"), ==, 0x9000);
  g_assert_cmphex (verify_ref_with (&blank, 2, 0x82, "keys 222222"), ==, 0x9000);
  session_close (&blank);
}

/* INITIALIZE CA is all or nothing: when the card cannot write its image,
 * it answers 6F00 and is the blank card it was, in memory too (its card
 * information the same, its tries a blank card's), not a CA card until the
 * next reset; once it can write again, it becomes the CA card. */
static void
test_initialize_ca_unwritten (Scene *scene, gconstpointer data)
{
  g_autoptr (GBytes) image = NULL;
  g_autoptr (GBytes) before = NULL;
  g_autoptr (GBytes) after = NULL;
  Session s;
  guint sw;

  make_blank ("initialize-unwritten.card");
  insert (2, "initialize-unwritten.card");
  session_open (&s, 2);
  new_pin (&s, 2, 0x81, "keys 121212");
  new_pin (&s, 2, 0x82, "keys 343434");
  before = card_info (&s);

  image = break_image ("initialize-unwritten.card");
  g_bytes_unref (
      command (&s, 0x80, 0x10, 0, 0, initialize_request, sizeof initialize_request, &sw));
  g_assert_cmphex (sw, ==, 0x6F00);
  after = card_info (&s);
  g_assert_true (g_bytes_equal (before, after));

  mend_image ("initialize-unwritten.card", image);
  g_bytes_unref (
      command (&s, 0x80, 0x10, 0, 0, initialize_request, sizeof initialize_request, &sw));
  g_assert_cmphex (sw, ==, 0x9000);
  g_assert_cmpuint (card_type (&s), ==, 0x01);
  session_close (&s);

  /* After a reset, from its image: the CA card with the PINs typed. */
  session_open (&s, 2);
  g_assert_cmpuint (card_type (&s), ==, 0x01);
  g_assert_cmphex (verify_with (&s, 2, "keys 121212"), ==, 0x9000);
  g_assert_cmphex (verify_ref_with (&s, 2, 0x82, "keys 343434"), ==, 0x9000);
  session_close (&s);
}

/* The CA card in CA's session (both PINs verified on reader 1) certifies
 * the blank card in BLANK's: CERTIFY CARD's answer, what ENROLL takes.
 * REQUEST, if not NULL, gets the blank card's enrolment request. */
static GBytes *
certify (Session *blank, Session *ca, GBytes **request)
{
  g_autoptr (GBytes) enrolment = NULL;
  GBytes *certificate;
  guint sw;

  enrolment = command (blank, 0x80, 0x12, 0, 0, NULL, 0, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  g_assert_cmphex (verify_with (ca, 1, "keys 111111"), ==, 0x9000);
  g_assert_cmphex (verify_ref_with (ca, 1, 0x82, "keys 222222"), ==, 0x9000);
  certificate = command (ca, 0x80, 0x68, 0, 0, g_bytes_get_data (enrolment, NULL),
                         g_bytes_get_size (enrolment), &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  if (request != NULL)
    *request = g_steal_pointer (&enrolment);
  return certificate;
}

/* ENROLL is all or nothing: when the card cannot write its image, it
 * answers 6F00 and is not in the zone, in memory too (no zone, the same
 * enrolment request, no certificate to give); once it can write again,
 * the same certificate enrolls it. */
static void
test_enroll_unwritten (Scene *scene, gconstpointer data)
{
  g_autoptr (GBytes) request = NULL;
  g_autoptr (GBytes) again = NULL;
  g_autoptr (GBytes) certificate = NULL;
  g_autoptr (GBytes) image = NULL;
  g_autoptr (GBytes) before = NULL;
  g_autoptr (GBytes) after = NULL;
  Session blank;
  Session ca;
  guint sw;

  make_blank ("enroll-unwritten.card");
  insert (1, "ca.card");
  insert (2, "enroll-unwritten.card");
  session_open (&blank, 2);
  session_open (&ca, 1);
  certificate = certify (&blank, &ca, &request);
  before = card_info (&blank);

  image = break_image ("enroll-unwritten.card");
  g_bytes_unref (command (&blank, 0x80, 0x14, 0, 0, g_bytes_get_data (certificate, NULL),
                          g_bytes_get_size (certificate), &sw));
  g_assert_cmphex (sw, ==, 0x6F00);
  after = card_info (&blank);
  g_assert_true (g_bytes_equal (before, after));
  again = command (&blank, 0x80, 0x12, 0, 0, NULL, 0, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  g_assert_true (g_bytes_equal (request, again));

  mend_image ("enroll-unwritten.card", image);
  g_bytes_unref (command (&blank, 0x80, 0x14, 0, 0, g_bytes_get_data (certificate, NULL),
                          g_bytes_get_size (certificate), &sw));
  g_assert_cmphex (sw, ==, 0x9000);
  session_close (&blank);
  session_close (&ca);

  /* After a reset, from its image: enrolled, once. */
  session_open (&blank, 2);
  g_clear_pointer (&after, g_bytes_unref);
  after = card_info (&blank);
  g_assert_false (g_bytes_equal (before, after));
  g_bytes_unref (command (&blank, 0x80, 0x12, 0, 0, NULL, 0, &sw));
  g_assert_cmphex (sw, ==, 0x6985);
  g_bytes_unref (command (&blank, 0x80, 0x14, 0, 0, g_bytes_get_data (certificate, NULL),
                          g_bytes_get_size (certificate), &sw));
  g_assert_cmphex (sw, ==, 0x6985);
  session_close (&blank);
}

/* PERSONALIZE is all or nothing: when the card cannot write its image, it
 * answers 6F00 and is the enrolled blank card it was, in memory too (type,
 * description, tries); once it can write again, it becomes the EP11 card. */
static void
test_personalize_unwritten (Scene *scene, gconstpointer data)
{
  static const char description[] = "New admin card";
  const char *args[] = { "info", "personalize-unwritten.card", NULL };
  g_autofree char *info = NULL;
  g_autoptr (GBytes) certificate = NULL;
  g_autoptr (GBytes) image = NULL;
  g_autoptr (GBytes) before = NULL;
  g_autoptr (GBytes) after = NULL;
  Session blank;
  Session ca;
  guint sw;

  make_blank ("personalize-unwritten.card");
  insert (1, "ca.card");
  insert (2, "personalize-unwritten.card");
  session_open (&blank, 2);
  session_open (&ca, 1);
  certificate = certify (&blank, &ca, NULL);
  g_bytes_unref (command (&blank, 0x80, 0x14, 0, 0, g_bytes_get_data (certificate, NULL),
                          g_bytes_get_size (certificate), &sw));
  g_assert_cmphex (sw, ==, 0x9000);
  session_close (&ca);
  new_pin (&blank, 2, 0x81, "keys 565656");
  before = card_info (&blank);

  image = break_image ("personalize-unwritten.card");
  g_bytes_unref (
      command (&blank, 0x80, 0x16, 0, 0, (const guint8 *) description, strlen (description), &sw));
  g_assert_cmphex (sw, ==, 0x6F00);
  after = card_info (&blank);
  g_assert_true (g_bytes_equal (before, after));

  mend_image ("personalize-unwritten.card", image);
  g_bytes_unref (
      command (&blank, 0x80, 0x16, 0, 0, (const guint8 *) description, strlen (description), &sw));
  g_assert_cmphex (sw, ==, 0x9000);
  g_assert_cmpuint (card_type (&blank), ==, 0x02);
  session_close (&blank);

  /* After a reset, from its image: the EP11 card with the PIN typed. */
  session_open (&blank, 2);
  g_assert_cmpuint (card_type (&blank), ==, 0x02);
  g_assert_cmphex (verify_with (&blank, 2, "keys 565656"), ==, 0x9000);
  session_close (&blank);
  insert (2, "keyparts.card");
  g_assert_cmpint (tke_readers_card (&fixture, "", args, &info), ==, 0);
  g_assert_nonnull (strstr (info, "Type:             EP11"));
  g_assert_nonnull (strstr (info, "Description:      New admin card"));
}

void
add_blank_tests (void)
{
  add_scene_test ("/card/blank/backup-ca-unwritten", test_backup_ca_unwritten);
  add_scene_test ("/card/blank/initialize-ca-unwritten", test_initialize_ca_unwritten);
  add_scene_test ("/card/blank/enroll-unwritten", test_enroll_unwritten);
  add_scene_test ("/card/blank/personalize-unwritten", test_personalize_unwritten);
  add_scene_test ("/card/blank/backup-ca", test_backup_ca);
  add_scene_test ("/card/blank/initialize-ca", test_initialize_ca);
  add_scene_test ("/card/blank/enroll-and-personalize", test_enroll_and_personalize);
}
