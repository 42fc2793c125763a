/* test-virtual-readers.c: the virtual PIN-pad readers through real pcscd
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A PC/SC client like any other: features, PIN entry on the pad (driven
 * through the control sockets like a person at the reader), the card's
 * retry counter across restarts, concurrent readers, card events, and the
 * card's signature and sealed key part export checked with libtke's crypto.
 */

#define _GNU_SOURCE
#include <signal.h>
#include <string.h>

#include <reader.h>
#include <tke.h>

#include "tke-readers-fixture.h"

static TkeReadersFixture fixture;
static const guint8 aid[] = { 0xF0, 0x54, 0x4B, 0x45, 0x43, 0x41, 0x52, 0x44 };

typedef struct
{
  SCARDCONTEXT context;
  SCARDHANDLE card;
  DWORD verify_ioctl;
} Session;

static guint
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

static DWORD
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

static void
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

static void
session_close (Session *s)
{
  SCardDisconnect (s->card, SCARD_RESET_CARD);
  SCardReleaseContext (s->context);
}

/* VERIFY_PIN_DIRECT with the structure card-protocol.md §1.2 recommends,
 * for PIN reference P2. */
static guint
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

static guint
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

static GThread *
person (guint reader, const char *action)
{
  Person *p = g_new0 (Person, 1);

  p->reader = reader;
  p->action = g_strdup (action);
  return g_thread_new ("person", person_thread, p);
}

static guint
verify_ref_with (Session *s, guint reader, guint8 p2, const char *action)
{
  GThread *t = person (reader, action);
  guint sw = verify_on_pad_ref (s, 20, p2);

  g_thread_join (t);
  return sw;
}

static guint
verify_with (Session *s, guint reader, const char *action)
{
  return verify_ref_with (s, reader, 0x81, action);
}

static void
make_card (const char *name, const char *pin, const char *zone_ca)
{
  g_autofree char *pins = g_strdup_printf ("111111\n222222\n%s\n", pin);
  const char *args[] = { "create", "--zone", zone_ca, "--description", name, name, NULL };
  g_autofree char *out = NULL;

  g_assert_cmpint (tke_readers_card (&fixture, pins, args, &out), ==, 0);
}

static void
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

/* ---- Tests ---- */

static void
test_pcsc_scan_lists_readers (void)
{
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "pcsc_scan", "-r", NULL };
  int status;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                NULL, &out, NULL, &status, &error);
  if (error != NULL)
    {
      g_test_skip ("pcsc_scan (pcsc-tools) is not installed");
      return;
    }
  g_assert_nonnull (strstr (out, "TKE Virtual PIN Pad Reader 1"));
  g_assert_nonnull (strstr (out, "TKE Virtual PIN Pad Reader 2"));
}

static void
test_features (void)
{
  Session s;
  guint8 buf[64];
  DWORD n = 0;
  DWORD tlv;

  session_open (&s, 1);
  g_assert_cmphex (s.verify_ioctl, ==, 0x42330006);
  g_assert_cmphex (feature_ioctl (&s, FEATURE_IFD_PIN_PROPERTIES), ==, 0x4233000A);
  tlv = feature_ioctl (&s, FEATURE_GET_TLV_PROPERTIES);
  g_assert_cmphex (tlv, ==, 0x42330012);
  g_assert_cmpint (SCardControl (s.card, 0x4233000A, NULL, 0, buf, sizeof buf, &n), ==,
                   SCARD_S_SUCCESS);
  g_assert_cmpuint (n, ==, 4);
  g_assert_cmpuint (buf[0] | buf[1], ==, 0); /* wLcdLayout: no display */
  g_assert_cmpint (SCardControl (s.card, tlv, NULL, 0, buf, sizeof buf, &n), ==, SCARD_S_SUCCESS);
  g_assert_nonnull (memchr (buf, PCSCv2_PART10_PROPERTY_bMinPINSize, n));
  session_close (&s);
}

static void
test_verify (void)
{
  Session s;

  session_open (&s, 1);
  g_assert_cmphex (verify_with (&s, 1, "keys 123456"), ==, 0x9000);
  session_close (&s);
}

static void
test_wrong_twice_then_right (void)
{
  Session s;

  session_open (&s, 1);
  g_assert_cmphex (verify_with (&s, 1, "keys 654321"), ==, 0x63C2);
  g_assert_cmphex (verify_with (&s, 1, "keys 000000"), ==, 0x63C1);
  g_assert_cmphex (verify_with (&s, 1, "keys 123456"), ==, 0x9000);
  session_close (&s);
}

static void
test_timeout_cancel_length (void)
{
  Session s;

  session_open (&s, 1);
  g_assert_cmphex (verify_with (&s, 1, "timeout"), ==, 0x6400);
  g_assert_cmphex (verify_with (&s, 1, "cancel"), ==, 0x6401);
  g_assert_cmphex (verify_with (&s, 1, "keys 1234567"), ==, 0x6403);
  /* Nobody types: the pad's own timer (1 s here). */
  g_assert_cmphex (verify_on_pad (&s, 1), ==, 0x6400);
  /* None of these reached the card: its counter is still full. */
  g_assert_cmphex (verify_with (&s, 1, "keys 123456"), ==, 0x9000);
  session_close (&s);
}

typedef struct
{
  Session *s;
  guint sw;
} PendingVerify;

static gpointer
pending_verify_thread (gpointer data)
{
  PendingVerify *v = data;

  v->sw = verify_on_pad (v->s, 20);
  return NULL;
}

static void
test_concurrent (void)
{
  Session s1, s2;
  PendingVerify v;
  GThread *t;
  g_autofree char *prompt = NULL;
  g_autofree char *typed = NULL;

  session_open (&s1, 1);
  session_open (&s2, 2);
  v.s = &s1;
  t = g_thread_new ("reader1", pending_verify_thread, &v);
  prompt = tke_readers_ctl (&fixture, 1, "wait-prompt 20000");
  g_assert_cmpstr (prompt, ==, "ok");
  /* Reader 1 is waiting for keys: reader 2 works all the same. */
  g_assert_cmphex (verify_with (&s2, 2, "keys 222222"), ==, 0x9000);
  typed = tke_readers_ctl (&fixture, 1, "keys 123456");
  g_assert_cmpstr (typed, ==, "ok");
  g_thread_join (t);
  g_assert_cmphex (v.sw, ==, 0x9000);
  session_close (&s1);
  session_close (&s2);
}

static void
test_insert_remove_events (void)
{
  SCARDCONTEXT context;
  g_autofree char *removed = NULL;
  g_autofree char *path = tke_readers_path (&fixture, "keyparts.card");
  g_autofree char *cmd = g_strconcat ("insert ", path, NULL);
  g_autofree char *inserted = NULL;
  g_autofree char *status = NULL;

  g_assert_cmpint (SCardEstablishContext (SCARD_SCOPE_SYSTEM, NULL, NULL, &context), ==,
                   SCARD_S_SUCCESS);
  tke_readers_wait_card (context, 2, TRUE);
  removed = tke_readers_ctl (&fixture, 2, "remove");
  g_assert_cmpstr (removed, ==, "ok");
  tke_readers_wait_card (context, 2, FALSE);
  status = tke_readers_ctl (&fixture, 2, "status");
  g_assert_true (g_str_has_prefix (status, "ok card=absent"));
  inserted = tke_readers_ctl (&fixture, 2, cmd);
  g_assert_cmpstr (inserted, ==, "ok");
  tke_readers_wait_card (context, 2, TRUE);
  SCardReleaseContext (context);
}

/* Pulling the card during PIN entry: a PC/SC error, as with libccid. */
static void
test_removed_during_pin_entry (void)
{
  Session s;
  guint8 pvs[19 + 11] = { 20,   0x00, 0x82, 0x06, 0x00, 0x06, 0x06, 0x02, 0x00, 0x09,
                          0x04, 0x00, 0x00, 0x00, 0x00, 11,   0x00, 0x00, 0x00, 0x00,
                          0x20, 0x00, 0x81, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
  guint8 r[16];
  DWORD n = 0;
  GThread *t;

  session_open (&s, 1);
  t = person (1, "remove");
  g_assert_cmpint (SCardControl (s.card, s.verify_ioctl, pvs, sizeof pvs, r, sizeof r, &n), ==,
                   SCARD_E_NOT_TRANSACTED);
  g_thread_join (t);
  session_close (&s);
  insert (1, "admin1.card");
}

/* A malformed PIN_VERIFY_STRUCTURE is refused by the reader, not passed on. */
static void
test_malformed_verify_structure (void)
{
  Session s;
  guint8 pvs[19 + 5] = { 5, 0, 0x82, 0, 0, 6, 6, 2,    0,    0,    0,    0,
                         0, 0, 0,    9, 0, 0, 0, 0x00, 0x20, 0x00, 0x81, 0x00 };
  guint8 r[16];
  DWORD n = 0;

  session_open (&s, 1);
  g_assert_cmpint (SCardControl (s.card, s.verify_ioctl, pvs, sizeof pvs, r, sizeof r, &n), ==,
                   SCARD_E_UNSUPPORTED_FEATURE);
  g_assert_cmpint (SCardControl (s.card, s.verify_ioctl, pvs, 10, r, sizeof r, &n), ==,
                   SCARD_E_UNSUPPORTED_FEATURE);
  session_close (&s);
}

/* What the reader's firmware asked of the card side so far: PIN entries on
 * the keypad and APDUs to the card (the control socket's "counters"). */
static void
counters (guint reader, guint64 *keypad, guint64 *apdus)
{
  g_autofree char *answer = tke_readers_ctl (&fixture, reader, "counters");

  g_assert_cmpint (
      sscanf (answer, "ok keypad=%" G_GUINT64_FORMAT " apdus=%" G_GUINT64_FORMAT, keypad, apdus),
      ==, 2);
}

/* A PIN_VERIFY_STRUCTURE (or, MODIFY, a PIN_MODIFY_STRUCTURE) around
 * TEMPLATE, with a 2 s timeout so that a keypad that did light up fails the
 * test quickly with 64 00 instead of blocking. */
static LONG
pin_pad_request (Session *s,
                 DWORD ioctl,
                 gboolean modify,
                 const guint8 *template,
                 gsize size,
                 guint8 *r,
                 DWORD *n)
{
  guint8 verify[19] = { 2,    0x00, 0x82, 0x06, 0x00, 0x06,          0x06, 0x02, 0x00, 0x09,
                        0x04, 0x00, 0x00, 0x00, 0x00, (guint8) size, 0x00, 0x00, 0x00 };
  /* bTimerOut, bTimerOut2, formats, bInsertionOffsetOld/New, wPINMaxExtraDigit,
   * bConfirmPIN, bEntryValidationCondition, bNumberMessage, wLangId,
   * bMsgIndex1-3, bTeoPrologue, ulDataLength */
  guint8 modify_header[24] = { 2,    0x00, 0x82, 0x06, 0x00,          0x00, 0x00, 0x06,
                               0x06, 0x01, 0x02, 0x00, 0x09,          0x04, 0x00, 0x00,
                               0x00, 0x00, 0x00, 0x00, (guint8) size, 0x00, 0x00, 0x00 };
  guint8 structure[64];
  gsize header = modify ? sizeof modify_header : sizeof verify;

  g_assert_cmpuint (header + size, <=, sizeof structure);
  memcpy (structure, modify ? modify_header : verify, header);
  memcpy (structure + header, template, size);
  *n = 0;
  return SCardControl (s->card, ioctl, structure, (DWORD) (header + size), r, 16, n);
}

/* Issue 12: the PIN pad is a trusted path.  No PC/SC client can have the
 * person type the PIN into another command: GENERATE KEY PART would store it
 * as the part's description, for the host to read back; SIGN or EXPORT
 * would answer data.  The reader refuses such a template with 6B 80 before
 * its keypad lights (no key wait starts, nothing reaches the card), and
 * answers a genuine VERIFY with SW1 SW2 only. */
static void
test_pin_pad_trusted_path (void)
{
  static const guint8 templates[][11] = {
    { 0x80, 0x50, 0x00, 0x00, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, /* GENERATE KEY PART */
    { 0x00, 0x2A, 0x9E, 0x9A, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, /* SIGN */
    { 0x80, 0x54, 0x01, 0x00, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, /* EXPORT KEY PART */
    { 0x80, 0x64, 0x01, 0x00, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, /* EXPORT FOR COPY */
    { 0x80, 0x20, 0x00, 0x81, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, /* VERIFY, CLA 80 */
    { 0x00, 0x20, 0x00, 0x01, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, /* another reference */
    { 0x00, 0x24, 0x00, 0x81, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, /* CHANGE, P1 00 */
  };
  Session s;
  guint64 keypad = 0, apdus = 0, keypad_after = 0, apdus_after = 0;
  g_autofree char *status = NULL;
  guint8 r[16];
  DWORD n = 0;

  session_open (&s, 1);
  /* The reader offers no MODIFY_PIN_DIRECT at all (§1.1). */
  g_assert_cmphex (feature_ioctl (&s, FEATURE_MODIFY_PIN_DIRECT), ==, 0);
  counters (1, &keypad, &apdus);
  for (gsize i = 0; i < G_N_ELEMENTS (templates); i++)
    {
      g_test_message ("template %02X %02X %02X %02X", templates[i][0], templates[i][1],
                      templates[i][2], templates[i][3]);
      g_assert_cmpint (
          pin_pad_request (&s, s.verify_ioctl, FALSE, templates[i], sizeof templates[i], r, &n), ==,
          SCARD_S_SUCCESS);
      g_assert_cmpuint (n, ==, 2);
      g_assert_cmphex ((guint) r[0] << 8 | r[1], ==, 0x6B80);
      /* Through MODIFY_PIN_DIRECT's IOCTL (libccid's value): refused too. */
      g_assert_cmpint (pin_pad_request (&s, SCARD_CTL_CODE (0x330000 + FEATURE_MODIFY_PIN_DIRECT),
                                        TRUE, templates[i], sizeof templates[i], r, &n),
                       ==, SCARD_E_UNSUPPORTED_FEATURE);
      status = tke_readers_ctl (&fixture, 1, "status");
      g_assert_nonnull (strstr (status, "prompt=idle"));
      g_clear_pointer (&status, g_free);
    }
  counters (1, &keypad_after, &apdus_after);
  g_assert_cmpuint (keypad_after, ==, keypad); /* the keypad never started */
  g_assert_cmpuint (apdus_after, ==, apdus);   /* and the card saw nothing */

  /* A genuine VERIFY still works: one keypad entry, SW1 SW2 only. */
  g_assert_cmphex (verify_with (&s, 1, "keys 123456"), ==, 0x9000);
  counters (1, &keypad_after, &apdus_after);
  g_assert_cmpuint (keypad_after, ==, keypad + 1);
  g_assert_cmpuint (apdus_after, ==, apdus + 1);
  session_close (&s);
}

static GBytes *
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

static void
test_sign (void)
{
  Session s;
  g_autoptr (GBytes) point = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (GError) error = NULL;
  guint8 message[600];
  guint sw;

  for (gsize i = 0; i < sizeof message; i++)
    message[i] = (guint8) (i * 7);
  session_open (&s, 1);
  signature = command (&s, 0x00, 0x2A, 0x9E, 0x9A, message, sizeof message, &sw);
  g_assert_cmphex (sw, ==, 0x6982); /* no PIN yet */
  g_clear_pointer (&signature, g_bytes_unref);
  g_assert_cmphex (verify_with (&s, 1, "keys 123456"), ==, 0x9000);
  point = command (&s, 0x80, 0x48, 0, 0, NULL, 0, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  g_assert_cmpuint (g_bytes_get_size (point), ==, 133);
  signature = command (&s, 0x00, 0x2A, 0x9E, 0x9A, message, sizeof message, &sw); /* chained */
  g_assert_cmphex (sw, ==, 0x9000);
  key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL), 133, &error);
  g_assert_no_error (error);
  g_assert_true (tke_crypto_verify (key, message, sizeof message,
                                    g_bytes_get_data (signature, NULL),
                                    g_bytes_get_size (signature), &error));
  g_assert_no_error (error);
  message[0] ^= 1;
  g_assert_false (tke_crypto_verify (key, message, sizeof message,
                                     g_bytes_get_data (signature, NULL),
                                     g_bytes_get_size (signature), NULL));
  session_close (&s);
}

static void
test_export_key_part (void)
{
  Session s;
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) importer = tke_crypto_ec_generate (&error);
  g_autoptr (GBytes) importer_point = tke_crypto_ec_public_point (importer, &error);
  g_autoptr (GByteArray) request = g_byte_array_new ();
  g_autoptr (GBytes) info = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (TkeSecret) part = NULL;
  const char *aad = "unit 1, new register, part 1";
  guint8 vp[TKE_VP_SIZE];
  guint8 *tampered;
  gsize size;
  guint sw;

  session_open (&s, 2);
  g_assert_cmphex (verify_with (&s, 2, "keys 222222"), ==, 0x9000);
  g_byte_array_append (request, g_bytes_get_data (importer_point, NULL), 133);
  g_byte_array_append (request, (const guint8 *) aad, (guint) strlen (aad));
  sealed = command (&s, 0x80, 0x54, 1, 0, request->data, request->len, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  info = command (&s, 0x80, 0x52, 1, 0, NULL, 0, &sw);
  g_assert_cmphex (sw, ==, 0x9000);

  part = tke_crypto_open (importer, (const guint8 *) aad, strlen (aad),
                          g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), &error);
  g_assert_no_error (error);
  tke_crypto_verification_pattern (part, vp);
  g_assert_cmpmem (vp, sizeof vp, (const guint8 *) g_bytes_get_data (info, NULL) + 1, TKE_VP_SIZE);
  g_assert_null (memmem (g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed),
                         tke_secret_get_data (part), tke_secret_get_size (part)));

  tampered = g_bytes_unref_to_data (g_steal_pointer (&sealed), &size);
  tampered[size - 20] ^= 0x01;
  g_assert_null (
      tke_crypto_open (importer, (const guint8 *) aad, strlen (aad), tampered, size, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_clear_error (&error);
  tampered[size - 20] ^= 0x01;
  g_assert_null (tke_crypto_open (importer, (const guint8 *) "unit 2", 6, tampered, size, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INTEGRITY);
  g_free (tampered);
  session_close (&s);
}

/* ---- IMPORT COPY only from a card of the same zone (card-protocol.md §4.11) ---- */

#define SERIAL_SIZE 8
#define ZONE_SIZE 8
#define POINT_SIZE 133

/* The host's forger: a key pair and a serial of its choosing. */
typedef struct
{
  EVP_PKEY *key;
  GBytes *point;
  guint8 serial[SERIAL_SIZE];
} Forger;

static void
forger_init (Forger *f)
{
  g_autoptr (GError) error = NULL;

  f->key = tke_crypto_ec_generate (&error);
  g_assert_no_error (error);
  f->point = tke_crypto_ec_public_point (f->key, &error);
  g_assert_no_error (error);
  g_assert_true (tke_crypto_random_bytes (f->serial, sizeof f->serial, &error));
}

static void
forger_clear (Forger *f)
{
  g_clear_pointer (&f->key, EVP_PKEY_free);
  g_clear_pointer (&f->point, g_bytes_unref);
}

static GBytes *
concat (const char *context,
        const guint8 *a,
        gsize a_size,
        const guint8 *b,
        gsize b_size,
        const guint8 *c,
        gsize c_size)
{
  GByteArray *m = g_byte_array_new ();

  g_byte_array_append (m, (const guint8 *) context, (guint) strlen (context));
  g_byte_array_append (m, a, (guint) a_size);
  g_byte_array_append (m, b, (guint) b_size);
  g_byte_array_append (m, c, (guint) c_size);
  return g_byte_array_free_to_bytes (m);
}

/* A copy of a 32-byte part the host chose, sealed to TARGET's transport key
 * and framed as EXPORT FOR COPY frames it, "from" SERIAL with POINT and
 * CERTIFICATE, signed with SIGNER. */
static GBytes *
forge_copy (GBytes *target_certificate,
            const guint8 *serial,
            GBytes *point,
            const guint8 *certificate,
            gsize certificate_size,
            EVP_PKEY *signer)
{
  g_autoptr (GError) error = NULL;
  const guint8 *target = g_bytes_get_data (target_certificate, NULL);
  const guint8 *zone = target + SERIAL_SIZE;
  g_autoptr (EVP_PKEY) target_key =
      tke_crypto_ec_public_key_from_point (zone + ZONE_SIZE, POINT_SIZE, &error);
  g_autoptr (TkeSecret) part = tke_secret_new_random (32, &error);
  const char *description = "Planted";
  guint8 item_and_size[2] = { 7, (guint8) strlen (description) };
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GByteArray) copy = g_byte_array_new ();
  guint8 n[2];

  g_assert_no_error (error);
  {
    g_autoptr (GByteArray) a = g_byte_array_new ();

    g_byte_array_append (a, serial, SERIAL_SIZE);
    g_byte_array_append (a, target, SERIAL_SIZE);
    g_byte_array_append (a, item_and_size, 1);
    g_byte_array_append (a, (const guint8 *) description, item_and_size[1]);
    aad = concat ("tke copy v1", a->data, a->len, NULL, 0, NULL, 0);
  }
  sealed = tke_crypto_seal (target_key, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad), part,
                            &error);
  g_assert_no_error (error);
  g_byte_array_append (copy, serial, SERIAL_SIZE);
  g_byte_array_append (copy, item_and_size, 2);
  g_byte_array_append (copy, (const guint8 *) description, item_and_size[1]);
  g_byte_array_append (copy, g_bytes_get_data (point, NULL), POINT_SIZE);
  n[0] = (guint8) certificate_size;
  g_byte_array_append (copy, n, 1);
  g_byte_array_append (copy, certificate, (guint) certificate_size);
  n[0] = (guint8) (g_bytes_get_size (sealed) >> 8);
  n[1] = (guint8) g_bytes_get_size (sealed);
  g_byte_array_append (copy, n, 2);
  g_byte_array_append (copy, g_bytes_get_data (sealed, NULL), (guint) g_bytes_get_size (sealed));
  message = concat ("tke copy sig v1", zone, ZONE_SIZE, copy->data, copy->len, NULL, 0);
  signature = tke_crypto_sign (signer, g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                               &error);
  g_assert_no_error (error);
  g_byte_array_append (copy, g_bytes_get_data (signature, NULL),
                       (guint) g_bytes_get_size (signature));
  return g_byte_array_free_to_bytes (g_steal_pointer (&copy));
}

static guint
import_copy (Session *s, GBytes *copy)
{
  g_autoptr (GBytes) answer = NULL;
  guint sw = 0;

  answer =
      command (s, 0x80, 0x66, 0, 0, g_bytes_get_data (copy, NULL), g_bytes_get_size (copy), &sw);
  return sw;
}

static gsize
key_part_count (Session *s)
{
  guint sw = 0;
  g_autoptr (GBytes) indexes = command (s, 0x80, 0x52, 0, 0, NULL, 0, &sw);

  g_assert_cmphex (sw, ==, 0x9000);
  return g_bytes_get_size (indexes);
}

/* Issue 12: after one PIN on the target card, the host could plant a key
 * part of its choosing (or its own signature key): IMPORT COPY opened
 * whatever was sealed to the target's public transport key.  It now takes a
 * copy only from a card whose transport key the zone's CA certified and
 * which signed the copy with it.  Through pcscd: a self-made sender, a
 * sender borrowing a genuine card's public certificate, a sender certified
 * by another zone's CA, and a tampered genuine copy are refused and plant
 * nothing; the genuine copy is stored. */
static void
test_import_copy_forged_sender (void)
{
  Session target, source, other_ca;
  Forger forger;
  g_autoptr (GBytes) target_cert = NULL;
  g_autoptr (GBytes) source_cert = NULL;
  g_autoptr (GBytes) genuine = NULL;
  g_autoptr (GBytes) forged = NULL;
  g_autoptr (GBytes) self_cert = NULL;
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GBytes) other_zone_cert = NULL;
  g_autoptr (GByteArray) request = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  const guint8 *zone;
  const guint8 *c;
  guint8 *tampered;
  gsize size;
  guint sw = 0;

  forger_init (&forger);
  insert (1, "parts2.card");
  session_open (&target, 1);
  target_cert = command (&target, 0x80, 0x62, 0, 0, NULL, 0, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  zone = (const guint8 *) g_bytes_get_data (target_cert, NULL) + SERIAL_SIZE;
  g_assert_cmphex (verify_with (&target, 1, "keys 333333"), ==, 0x9000);
  g_assert_cmpuint (key_part_count (&target), ==, 0);

  /* A self-made sender: its own key, a "certificate" it signed itself. */
  message = concat ("tke zone cert v1", zone, ZONE_SIZE, forger.serial, SERIAL_SIZE,
                    g_bytes_get_data (forger.point, NULL), POINT_SIZE);
  self_cert = tke_crypto_sign (forger.key, g_bytes_get_data (message, NULL),
                               g_bytes_get_size (message), &error);
  g_assert_no_error (error);
  forged = forge_copy (target_cert, forger.serial, forger.point, g_bytes_get_data (self_cert, NULL),
                       g_bytes_get_size (self_cert), forger.key);
  g_assert_cmphex (import_copy (&target, forged), ==, 0x6984);
  g_clear_pointer (&forged, g_bytes_unref);

  /* A genuine card's public certificate (GET CERTIFICATE needs no PIN),
   * but the copy signed by the host. */
  session_open (&source, 2);
  source_cert = command (&source, 0x80, 0x62, 0, 0, NULL, 0, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  c = g_bytes_get_data (source_cert, &size);
  {
    g_autoptr (GBytes) source_point = g_bytes_new (c + SERIAL_SIZE + ZONE_SIZE, POINT_SIZE);
    gsize fixed = SERIAL_SIZE + ZONE_SIZE + POINT_SIZE;

    forged = forge_copy (target_cert, c, source_point, c + fixed, size - fixed, forger.key);
  }
  g_assert_cmphex (import_copy (&target, forged), ==, 0x6A80);
  g_clear_pointer (&forged, g_bytes_unref);

  /* The genuine copy, tampered with on its way, then as it is. */
  g_assert_cmphex (verify_with (&source, 2, "keys 222222"), ==, 0x9000);
  genuine = command (&source, 0x80, 0x64, 1, 0, g_bytes_get_data (target_cert, NULL),
                     g_bytes_get_size (target_cert), &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  session_close (&source);
  tampered = g_memdup2 (g_bytes_get_data (genuine, NULL), g_bytes_get_size (genuine));
  size = g_bytes_get_size (genuine);
  tampered[size - 160] ^= 0x01; /* in the sealed part */
  forged = g_bytes_new_take (tampered, size);
  g_assert_cmphex (import_copy (&target, forged), ==, 0x6A80);
  g_clear_pointer (&forged, g_bytes_unref);

  /* A sender certified by another zone's CA (both its PINs typed). */
  insert (2, "ca2.card");
  session_open (&other_ca, 2);
  g_assert_cmphex (verify_ref_with (&other_ca, 2, 0x81, "keys 444444"), ==, 0x9000);
  g_assert_cmphex (verify_ref_with (&other_ca, 2, 0x82, "keys 555555"), ==, 0x9000);
  g_byte_array_append (request, forger.serial, SERIAL_SIZE);
  g_byte_array_append (request, g_bytes_get_data (forger.point, NULL), POINT_SIZE);
  other_zone_cert = command (&other_ca, 0x80, 0x68, 0, 0, request->data, request->len, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  session_close (&other_ca);
  c = g_bytes_get_data (other_zone_cert, &size);
  {
    gsize fixed = ZONE_SIZE + POINT_SIZE + 1 + c[ZONE_SIZE + POINT_SIZE];

    forged =
        forge_copy (target_cert, forger.serial, forger.point, c + fixed, size - fixed, forger.key);
  }
  g_assert_cmphex (import_copy (&target, forged), ==, 0x6984);
  g_assert_cmpuint (key_part_count (&target), ==, 0); /* nothing planted */

  g_assert_cmphex (import_copy (&target, genuine), ==, 0x9000);
  g_assert_cmpuint (key_part_count (&target), ==, 1);
  session_close (&target);
  forger_clear (&forger);
  insert (2, "keyparts.card");
  insert (1, "admin1.card");
}

static void
test_blocked_survives_restart (void)
{
  Session s;
  g_autofree char *out = NULL;
  const char *info[] = { "info", "blockme.card", NULL };

  make_card ("blockme.card", "333333", "ca.card");
  insert (2, "blockme.card");
  session_open (&s, 2);
  g_assert_cmphex (verify_with (&s, 2, "keys 000001"), ==, 0x63C2);
  g_assert_cmphex (verify_with (&s, 2, "keys 000002"), ==, 0x63C1);
  g_assert_cmphex (verify_with (&s, 2, "keys 000003"), ==, 0x6983);
  g_assert_cmphex (verify_with (&s, 2, "keys 333333"), ==, 0x6983);
  session_close (&s);

  tke_readers_fixture_stop (&fixture);
  tke_readers_fixture_start (&fixture, "admin1.card", "blockme.card");
  session_open (&s, 2);
  g_assert_cmphex (verify_with (&s, 2, "keys 333333"), ==, 0x6983);
  session_close (&s);
  g_assert_cmpint (tke_readers_card (&fixture, NULL, info, &out), ==, 0);
  g_assert_nonnull (strstr (out, "(blocked)"));
}

/* A person typing several PINs in turn, each when the pad asks. */
static gpointer
typist_thread (gpointer data)
{
  char **keys = data;

  for (char **k = keys; *k != NULL; k++)
    {
      g_autofree char *prompt = tke_readers_ctl (&fixture, 1, "wait-prompt 20000");
      g_autofree char *cmd = g_strconcat ("keys ", *k, NULL);
      g_autofree char *done = NULL;

      g_assert_cmpstr (prompt, ==, "ok");
      done = tke_readers_ctl (&fixture, 1, cmd);
      g_assert_cmpstr (done, ==, "ok");
    }
  g_strfreev (keys);
  return NULL;
}

static int
card_through_reader (const char *const *keys, const char *const *args, char **out)
{
  GThread *t = g_thread_new ("typist", typist_thread, g_strdupv ((char **) keys));
  int status = tke_readers_card (&fixture, NULL, args, out);

  g_thread_join (t);
  return status;
}

static void
test_tke_card_through_reader (void)
{
  const char *gen[] = { "--reader", "1", "gen-keypart", "--description", "via the pad", NULL };
  const char *change[] = { "--reader", "1", "change-pin", NULL };
  const char *list[] = { "--reader", "1", "list", NULL };
  const char *pin[] = { "123456", NULL };
  const char *pins[] = { "123456", "135790", "135790", NULL };
  const char *new_pin[] = { "135790", NULL };
  const char *none[] = { NULL };
  g_autofree char *out1 = NULL;
  g_autofree char *out2 = NULL;
  g_autofree char *out3 = NULL;
  g_autofree char *out4 = NULL;

  g_assert_cmpint (card_through_reader (pin, gen, &out1), ==, 0);
  g_assert_nonnull (strstr (out1, "Check value"));
  g_assert_cmpint (card_through_reader (pins, change, &out2), ==, 0);
  g_assert_cmpint (card_through_reader (new_pin, gen, &out3), ==, 0);
  g_assert_cmpint (card_through_reader (none, list, &out4), ==, 0);
  g_assert_nonnull (strstr (out4, "via the pad"));
}

/* The reader's pcscd dies: clients lose the service, the launcher says so. */
static void
test_pcscd_killed (void)
{
  SCARDCONTEXT context;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (kill (fixture.pcscd, SIGKILL), ==, 0);
  g_subprocess_wait (fixture.launcher, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (fixture.launcher));
  g_assert_cmpint (g_subprocess_get_exit_status (fixture.launcher), ==, 1);
  g_clear_object (&fixture.launcher);
  g_assert_cmpint (SCardEstablishContext (SCARD_SCOPE_SYSTEM, NULL, NULL, &context), ==,
                   SCARD_E_NO_SERVICE);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("TKE_VIRTUAL_READERS") == NULL)
    {
      g_print ("1..0 # SKIP run from meson test\n");
      return 0;
    }
  tke_readers_fixture_init (&fixture);
  {
    const char *ca[] = {
      "create-ca", "--zone-description", "Zone A", "--description", "CA A", "ca.card", NULL
    };
    const char *sig[] = { "gen-sigkey", "admin1.card", NULL };
    const char *part[] = { "gen-keypart", "--description", "MK part 1", "keyparts.card", NULL };
    const char *ca2[] = { "create-ca", "--zone-description", "Zone B", "--description",
                          "CA B",      "ca2.card",           NULL };

    g_assert_cmpint (tke_readers_card (&fixture, "111111\n222222\n", ca, NULL), ==, 0);
    make_card ("admin1.card", "123456", "ca.card");
    make_card ("keyparts.card", "222222", "ca.card");
    g_assert_cmpint (tke_readers_card (&fixture, "123456\n", sig, NULL), ==, 0);
    g_assert_cmpint (tke_readers_card (&fixture, "222222\n", part, NULL), ==, 0);
    make_card ("parts2.card", "333333", "ca.card");
    g_assert_cmpint (tke_readers_card (&fixture, "444444\n555555\n", ca2, NULL), ==, 0);
  }
  tke_readers_fixture_start (&fixture, "admin1.card", "keyparts.card");

  g_test_add_func ("/readers/pcsc-scan", test_pcsc_scan_lists_readers);
  g_test_add_func ("/readers/features", test_features);
  g_test_add_func ("/readers/verify", test_verify);
  g_test_add_func ("/readers/wrong-twice-then-right", test_wrong_twice_then_right);
  g_test_add_func ("/readers/timeout-cancel-length", test_timeout_cancel_length);
  g_test_add_func ("/readers/concurrent", test_concurrent);
  g_test_add_func ("/readers/insert-remove", test_insert_remove_events);
  g_test_add_func ("/readers/removed-during-pin-entry", test_removed_during_pin_entry);
  g_test_add_func ("/readers/malformed-verify-structure", test_malformed_verify_structure);
  g_test_add_func ("/readers/pin-pad-trusted-path", test_pin_pad_trusted_path);
  g_test_add_func ("/card/sign", test_sign);
  g_test_add_func ("/card/export-key-part", test_export_key_part);
  g_test_add_func ("/card/import-copy-forged-sender", test_import_copy_forged_sender);
  g_test_add_func ("/card/blocked-survives-restart", test_blocked_survives_restart);
  g_test_add_func ("/card/tke-card-through-reader", test_tke_card_through_reader);
  g_test_add_func ("/shutdown/pcscd-killed", test_pcscd_killed);
  status = g_test_run ();
  tke_readers_fixture_clear (&fixture);
  return status;
}
