/* test-virtual-readers.c: the virtual PIN-pad readers through real pcscd
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A PC/SC client like any other: features, PIN entry on the pad (driven
 * through the control sockets like a person at the reader), the card's
 * retry counter across restarts, concurrent readers, card events, and the
 * card's signature and sealed key part export checked with libtke's crypto.
 * The session and the person are in virtual-readers-common.c; copies between
 * cards in test-virtual-readers-copy.c.
 */

#define _GNU_SOURCE
#include <signal.h>
#include <string.h>

#include "virtual-readers-common.h"

/* ---- Tests ---- */

static void
test_pcsc_scan_lists_readers (Scene *scene, gconstpointer user_data)
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
test_features (Scene *scene, gconstpointer user_data)
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
test_verify (Scene *scene, gconstpointer user_data)
{
  Session s;

  session_open (&s, 1);
  g_assert_cmphex (verify_with (&s, 1, "keys 123456"), ==, 0x9000);
  session_close (&s);
}

static void
test_wrong_twice_then_right (Scene *scene, gconstpointer user_data)
{
  Session s;

  session_open (&s, 1);
  g_assert_cmphex (verify_with (&s, 1, "keys 654321"), ==, 0x63C2);
  g_assert_cmphex (verify_with (&s, 1, "keys 000000"), ==, 0x63C1);
  g_assert_cmphex (verify_with (&s, 1, "keys 123456"), ==, 0x9000);
  session_close (&s);
}

static void
test_timeout_cancel_length (Scene *scene, gconstpointer user_data)
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
test_concurrent (Scene *scene, gconstpointer user_data)
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
test_insert_remove_events (Scene *scene, gconstpointer user_data)
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
test_removed_during_pin_entry (Scene *scene, gconstpointer user_data)
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
}

/* A malformed PIN_VERIFY_STRUCTURE is refused by the reader, not passed on. */
static void
test_malformed_verify_structure (Scene *scene, gconstpointer user_data)
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
test_pin_pad_trusted_path (Scene *scene, gconstpointer user_data)
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

static void
test_sign (Scene *scene, gconstpointer user_data)
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
test_blocked_survives_restart (Scene *scene, gconstpointer user_data)
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
test_tke_card_through_reader (Scene *scene, gconstpointer user_data)
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

/* Issue 19: tke-card followed a card's 61 xx for ever too. */
static void
test_tke_card_endless_answer (Scene *scene, gconstpointer user_data)
{
  const char *list[] = { "--reader", "2", "list", NULL };
  const char *modes[] = { "misbehave endless-get-response", "misbehave endless-data" };

  for (gsize i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autofree char *set = tke_readers_ctl (&fixture, 2, modes[i]);
      g_autofree char *unset = NULL;
      g_autofree char *out = NULL;

      g_assert_cmpstr (set, ==, "ok");
      g_assert_cmpint (tke_readers_card (&fixture, NULL, list, &out), !=, 0);
      g_assert_nonnull (strstr (out, "does not end"));
      unset = tke_readers_ctl (&fixture, 2, "misbehave none");
      g_assert_cmpstr (unset, ==, "ok");
    }
}

/* The reader's pcscd dies: clients lose the service, the launcher says so. */
static void
test_pcscd_killed (Scene *scene, gconstpointer user_data)
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
    const char *noroot_part[] = { "gen-keypart", "--description", "Old part", "noroot.card", NULL };
    const char *ca2[] = { "create-ca", "--zone-description", "Zone B", "--description",
                          "CA B",      "ca2.card",           NULL };

    g_assert_cmpint (tke_readers_card (&fixture, "111111\n222222\n", ca, NULL), ==, 0);
    make_card ("admin1.card", "123456", "ca.card");
    make_card ("keyparts.card", "222222", "ca.card");
    g_assert_cmpint (tke_readers_card (&fixture, "123456\n", sig, NULL), ==, 0);
    g_assert_cmpint (tke_readers_card (&fixture, "222222\n", part, NULL), ==, 0);
    make_card ("parts2.card", "333333", "ca.card");
    make_card_without_root ("noroot.card", "666666", "ca.card");
    g_assert_cmpint (tke_readers_card (&fixture, "666666\n", noroot_part, NULL), ==, 0);
    g_assert_cmpint (tke_readers_card (&fixture, "444444\n555555\n", ca2, NULL), ==, 0);
  }
  add_scene_test ("/readers/pcsc-scan", test_pcsc_scan_lists_readers);
  add_scene_test ("/readers/features", test_features);
  add_scene_test ("/readers/verify", test_verify);
  add_scene_test ("/readers/wrong-twice-then-right", test_wrong_twice_then_right);
  add_scene_test ("/readers/timeout-cancel-length", test_timeout_cancel_length);
  add_scene_test ("/readers/concurrent", test_concurrent);
  add_scene_test ("/readers/insert-remove", test_insert_remove_events);
  add_scene_test ("/readers/removed-during-pin-entry", test_removed_during_pin_entry);
  add_scene_test ("/readers/malformed-verify-structure", test_malformed_verify_structure);
  add_scene_test ("/readers/pin-pad-trusted-path", test_pin_pad_trusted_path);
  add_scene_test ("/card/sign", test_sign);
  add_export_tests ();
  add_file_tests ();
  add_blank_tests ();
  add_copy_tests (); /* before blocked-survives-restart blocks the key part card */
  add_scene_test ("/card/blocked-survives-restart", test_blocked_survives_restart);
  add_scene_test ("/card/tke-card-through-reader", test_tke_card_through_reader);
  add_scene_test ("/card/tke-card-endless-answer", test_tke_card_endless_answer);
  add_scene_test ("/shutdown/pcscd-killed", test_pcscd_killed);
  status = g_test_run ();
  tke_readers_fixture_clear (&fixture);
  return status;
}
