/* virtual-readers-common.c: a PC/SC client session and a person at the virtual readers, for
 * test-virtual-readers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "virtual-readers-common.h"

TkeReadersFixture fixture;
static const guint8 aid[] = { 0xF0, 0x54, 0x4B, 0x45, 0x43, 0x41, 0x52, 0x44 };

guint
transmit (Session *s, const guint8 *apdu, gsize size, guint8 *out, gsize *out_size)
{
  guint8 r[300];
  DWORD n = sizeof r;

  g_assert_cmpint (SCardTransmit (s->card, SCARD_PCI_T1, apdu, (DWORD) size, NULL, r, &n), ==,
                   SCARD_S_SUCCESS);
  g_assert_cmpuint (n, >=, 2);
  if (out != NULL)
    {
      memcpy (out, r, n - 2);
      *out_size = n - 2;
    }
  return (guint) r[n - 2] << 8 | r[n - 1];
}

DWORD
feature_ioctl (Session *s, guint8 tag)
{
  guint8 buf[64];
  DWORD n = 0;

  g_assert_cmpint (
      SCardControl (s->card, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, buf, sizeof buf, &n), ==,
      SCARD_S_SUCCESS);
  g_assert_cmpuint (n % 6, ==, 0);
  for (DWORD i = 0; i < n; i += 6)
    if (buf[i] == tag)
      return (DWORD) buf[i + 2] << 24 | buf[i + 3] << 16 | buf[i + 4] << 8 | buf[i + 5];
  return 0;
}

void
session_open (Session *s, guint reader)
{
  g_autofree char *name = NULL;
  DWORD protocol = 0;
  guint8 select[5 + sizeof aid] = { 0x00, 0xA4, 0x04, 0x00, sizeof aid };

  g_assert_cmpint (SCardEstablishContext (SCARD_SCOPE_SYSTEM, NULL, NULL, &s->context), ==,
                   SCARD_S_SUCCESS);
  tke_readers_wait_card (s->context, reader, TRUE);
  name = tke_readers_name (s->context, reader);
  g_assert_cmpint (SCardConnect (s->context, name, SCARD_SHARE_SHARED,
                                 SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &s->card, &protocol),
                   ==, SCARD_S_SUCCESS);
  memcpy (select + 5, aid, sizeof aid);
  g_assert_cmphex (transmit (s, select, sizeof select, NULL, NULL), ==, 0x9000);
  s->verify_ioctl = feature_ioctl (s, FEATURE_VERIFY_PIN_DIRECT);
  g_assert_cmphex (s->verify_ioctl, !=, 0);
}

void
session_close (Session *s)
{
  SCardDisconnect (s->card, SCARD_RESET_CARD);
  SCardReleaseContext (s->context);
}

/* VERIFY_PIN_DIRECT with the structure card-protocol.md §1.2 recommends,
 * for PIN reference P2. */
guint
verify_on_pad_ref (Session *s, guint8 timeout, guint8 p2)
{
  guint8 pvs[19 + 11] = { timeout, 0x00, 0x82, 0x06, 0x00, 0x06, 0x06, 0x02, 0x00, 0x09,
                          0x04,    0x00, 0x00, 0x00, 0x00, 11,   0x00, 0x00, 0x00, 0x00,
                          0x20,    0x00, p2,   0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
  guint8 r[16];
  DWORD n = 0;

  g_assert_cmpint (SCardControl (s->card, s->verify_ioctl, pvs, sizeof pvs, r, sizeof r, &n), ==,
                   SCARD_S_SUCCESS);
  g_assert_cmpuint (n, ==, 2);
  return (guint) r[0] << 8 | r[1];
}

guint
verify_on_pad (Session *s, guint8 timeout)
{
  return verify_on_pad_ref (s, timeout, 0x81);
}

typedef struct
{
  guint reader;
  char *action;
} Person;

/* A person at the reader: waits for the PIN prompt, then acts. */
static gpointer
person_thread (gpointer data)
{
  Person *p = data;
  g_autofree char *prompt = tke_readers_ctl (&fixture, p->reader, "wait-prompt 20000");
  g_autofree char *done = NULL;

  g_assert_cmpstr (prompt, ==, "ok");
  done = tke_readers_ctl (&fixture, p->reader, p->action);
  g_assert_cmpstr (done, ==, "ok");
  g_free (p->action);
  g_free (p);
  return NULL;
}

GThread *
person (guint reader, const char *action)
{
  Person *p = g_new0 (Person, 1);

  p->reader = reader;
  p->action = g_strdup (action);
  return g_thread_new ("person", person_thread, p);
}

guint
verify_ref_with (Session *s, guint reader, guint8 p2, const char *action)
{
  GThread *t = person (reader, action);
  guint sw = verify_on_pad_ref (s, 20, p2);

  g_thread_join (t);
  return sw;
}

guint
verify_with (Session *s, guint reader, const char *action)
{
  return verify_ref_with (s, reader, 0x81, action);
}

CardTestUnit *card_unit;

/* As a card made before cards held a unit root. */
void
make_card_without_root (const char *name, const char *pin, const char *zone_ca)
{
  g_autofree char *pins = g_strdup_printf ("111111\n222222\n%s\n", pin);
  const char *args[] = { "create", "--zone", zone_ca, "--description", name, name, NULL };
  g_autofree char *out = NULL;

  g_assert_cmpint (tke_readers_card (&fixture, pins, args, &out), ==, 0);
}

/* The card holds the root of CARD_UNIT, the test's crypto unit "1". */
void
make_card (const char *name, const char *pin, const char *zone_ca)
{
  g_autofree char *pins = g_strdup_printf ("111111\n222222\n%s\n", pin);
  g_autofree char *root = tke_readers_path (&fixture, "unit-root.hex");
  const char *args[] = { "create",        "--zone", zone_ca, "--description", name, "--unit-root",
                         "unit-root.hex", name,     NULL };
  g_autofree char *out = NULL;

  if (card_unit == NULL)
    card_unit = card_test_unit_new (NULL, "1");
  card_test_unit_write_root (card_unit, root);
  g_assert_cmpint (tke_readers_card (&fixture, pins, args, &out), ==, 0);
}

void
insert (guint reader, const char *name)
{
  g_autofree char *path = tke_readers_path (&fixture, name);
  g_autofree char *removed = tke_readers_ctl (&fixture, reader, "remove");
  g_autofree char *cmd = g_strconcat ("insert ", path, NULL);
  g_autofree char *answer = NULL;
  SCARDCONTEXT context;

  /* Out, seen out by pcscd, then in: as a person swaps cards. */
  g_assert_cmpint (SCardEstablishContext (SCARD_SCOPE_SYSTEM, NULL, NULL, &context), ==,
                   SCARD_S_SUCCESS);
  tke_readers_wait_card (context, reader, FALSE);
  answer = tke_readers_ctl (&fixture, reader, cmd);
  g_assert_cmpstr (answer, ==, "ok");
  tke_readers_wait_card (context, reader, TRUE);
  SCardReleaseContext (context);
}

GBytes *
command (Session *s,
         guint8 cla,
         guint8 ins,
         guint8 p1,
         guint8 p2,
         const guint8 *data,
         gsize size,
         guint *sw)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  gsize offset = 0;

  do
    {
      gsize piece = MIN (size - offset, 255);
      gboolean last = offset + piece == size;
      guint8 apdu[262] = { last ? cla : cla | 0x10, ins, p1, p2, (guint8) piece };
      guint8 r[300];
      gsize n = 0;

      if (piece > 0)
        memcpy (apdu + 5, data + offset, piece);
      apdu[5 + piece] = 0;
      /* No data: header and Le only (a case 2 APDU). */
      *sw = transmit (s, apdu, piece == 0 ? 5 : 5 + piece + (last ? 1 : 0), r, &n);
      offset += piece;
      if (last)
        g_byte_array_append (out, r, (guint) n);
      while (last && (*sw >> 8) == 0x61)
        {
          static const guint8 get_response[] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };

          *sw = transmit (s, get_response, 5, r, &n);
          g_byte_array_append (out, r, (guint) n);
        }
      if (!last && *sw != 0x9000)
        break;
    }
  while (offset < size);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

void
scene_set_up (Scene *scene, gconstpointer data)
{
  static const char *const standard[] = { NULL, "admin1.card", "keyparts.card" };

  scene->readers = &fixture;
  if (fixture.launcher == NULL)
    tke_readers_fixture_start (&fixture, standard[1], standard[2]);
  for (guint reader = 1; reader <= 2; reader++)
    if (!tke_readers_holds (&fixture, reader, standard[reader]))
      insert (reader, standard[reader]);
}
