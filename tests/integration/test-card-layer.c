/* test-card-layer.c: libtke's smart card layer against real pcscd and the virtual PIN-pad readers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * TkeReaderMonitor, TkeCard, TkeCardSigner and TkeCardKeyPartSource, as a
 * front end uses them, with a "person" at the readers: when libtke says the
 * PIN pad waits, the test waits for the reader's prompt on its control
 * socket and types digits, presses Cancel, lets it time out, pulls the card,
 * or kills pcscd (card-layer-common.c).  TkeCardSigner and
 * TkeCardKeyPartSource are in test-card-layer-sources.c.  The launcher and
 * pcscd are tracked by process and stopped at the end of every run (and die
 * with the test if it aborts).
 */

#define _GNU_SOURCE
#include <signal.h>
#include <string.h>

#include <winscard.h>

#include "card-layer-common.h"

/* ---- TkeReaderMonitor ---- */

typedef struct
{
  guint inserted[3];
  guint removed[3];
  guint readers_added;
  guint readers_removed;
} MonitorLog;

static void
on_card_inserted (TkeReaderMonitor *monitor, TkeReader *reader, MonitorLog *log)
{
  g_assert_true (tke_reader_get_card_present (reader));
  g_assert_nonnull (tke_reader_get_atr (reader));
  log->inserted[tke_reader_get_index (reader)]++;
}

static void
on_card_removed (TkeReaderMonitor *monitor, TkeReader *reader, MonitorLog *log)
{
  g_assert_false (tke_reader_get_card_present (reader));
  log->removed[tke_reader_get_index (reader)]++;
}

static void
on_reader_added (TkeReaderMonitor *monitor, TkeReader *reader, MonitorLog *log)
{
  log->readers_added++;
}

static void
on_reader_removed (TkeReaderMonitor *monitor, TkeReader *reader, MonitorLog *log)
{
  log->readers_removed++;
}

static TkeReaderMonitor *
monitor_new (MonitorLog *log)
{
  TkeReaderMonitor *monitor = tke_reader_monitor_new (NULL, NULL);

  g_signal_connect (monitor, "card-inserted", G_CALLBACK (on_card_inserted), log);
  g_signal_connect (monitor, "card-removed", G_CALLBACK (on_card_removed), log);
  g_signal_connect (monitor, "reader-added", G_CALLBACK (on_reader_added), log);
  g_signal_connect (monitor, "reader-removed", G_CALLBACK (on_reader_removed), log);
  return monitor;
}

static gboolean
both_cards_present (TkeReaderMonitor *monitor)
{
  TkeReader *r1 = tke_reader_monitor_get_reader (monitor, 1);
  TkeReader *r2 = tke_reader_monitor_get_reader (monitor, 2);

  return r1 != NULL && r2 != NULL && tke_reader_get_card_present (r1) &&
         tke_reader_get_card_present (r2);
}

static void
iterate_until (gboolean (*condition) (gpointer), gpointer data, const char *what)
{
  guint guard = g_timeout_add_seconds (60, too_long, (gpointer) what);

  while (!condition (data))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (guard);
}

static gboolean
card_removed_from_2 (gpointer data)
{
  return ((MonitorLog *) data)->removed[2] == 1;
}

static gboolean
card_back_in_2 (gpointer data)
{
  return ((MonitorLog *) data)->inserted[2] == 2;
}

static void
test_monitor_readers_and_cards (Scene *scene, gconstpointer user_data)
{
  MonitorLog log = { 0 };
  g_autoptr (TkeReaderMonitor) monitor = monitor_new (&log);
  g_autofree char *removed = NULL;
  g_autofree char *path = tke_readers_path (&fixture, "keyparts.card");
  g_autofree char *insert = g_strconcat ("insert ", path, NULL);
  g_autofree char *inserted = NULL;
  TkeReader *r1;

  iterate_until ((gboolean (*) (gpointer)) both_cards_present, monitor, "readers");
  g_assert_true (tke_reader_monitor_get_available (monitor));
  g_assert_cmpuint (g_list_model_get_n_items (tke_reader_monitor_get_readers (monitor)), ==, 2);
  r1 = tke_reader_monitor_get_reader (monitor, 1);
  g_assert_true (g_str_has_prefix (tke_reader_get_name (r1), TKE_READER_1_DEFAULT_PREFIX));
  g_assert_cmpuint (log.readers_added, ==, 2);
  g_assert_cmpuint (log.inserted[1], ==, 1);
  g_assert_cmpuint (log.inserted[2], ==, 1);

  removed = tke_readers_ctl (&fixture, 2, "remove");
  g_assert_cmpstr (removed, ==, "ok");
  iterate_until (card_removed_from_2, &log, "card removed");
  g_assert_false (tke_reader_get_card_present (tke_reader_monitor_get_reader (monitor, 2)));
  g_assert_null (tke_reader_get_atr (tke_reader_monitor_get_reader (monitor, 2)));
  inserted = tke_readers_ctl (&fixture, 2, insert);
  g_assert_cmpstr (inserted, ==, "ok");
  iterate_until (card_back_in_2, &log, "card inserted");
  g_assert_cmpuint (log.removed[1], ==, 0);

  /* The reader numbers follow the prefixes, which a front end configures. */
  tke_reader_monitor_set_reader1_prefix (monitor, TKE_READER_2_DEFAULT_PREFIX);
  tke_reader_monitor_set_reader2_prefix (monitor, TKE_READER_1_DEFAULT_PREFIX);
  g_assert_true (g_str_has_prefix (tke_reader_get_name (tke_reader_monitor_get_reader (monitor, 1)),
                                   TKE_READER_2_DEFAULT_PREFIX));
}

/* ---- TkeCard ---- */

static void
test_card_info_and_key_parts (Scene *scene, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) admin = open_card_ok (1);
  g_autoptr (TkeCard) parts_card = open_card_ok (2);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) parts = NULL;
  const TkeCardKeyPart *part;

  g_assert_no_error (error);
  g_assert_cmpuint (strlen (tke_card_get_serial (admin)), ==, 16);
  g_assert_cmpint (tke_card_get_card_type (admin), ==, TKE_CARD_TYPE_EP11);
  g_assert_cmpstr (tke_card_get_description (admin), ==, "admin1.card");
  g_assert_cmpstr (tke_card_get_zone_description (admin), ==, "Zone A");
  g_assert_cmpuint (strlen (tke_card_get_zone (admin)), ==, 16);
  g_assert_true (tke_card_get_has_signature_key (admin));
  g_assert_cmpuint (tke_card_get_pin_tries_left (admin), ==, 3);
  g_assert_cmpuint (tke_card_get_reader_index (admin), ==, 1);
  g_assert_true (g_str_has_prefix (tke_card_get_reader_name (admin), TKE_READER_1_DEFAULT_PREFIX));

  g_assert_false (tke_card_get_has_signature_key (parts_card));
  g_assert_cmpstr (tke_card_get_zone (parts_card), ==, tke_card_get_zone (admin));
  tke_card_list_key_parts_async (parts_card, NULL, tke_test_async_done, &result);
  parts = tke_card_list_key_parts_finish (parts_card, tke_test_await (&result, 60), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (parts->len, ==, 2);
  part = g_ptr_array_index (parts, 0);
  g_assert_cmpuint (part->index, ==, 1);
  g_assert_cmpstr (part->description, ==, "MK part 1");
  g_assert_true (tke_vp_is_valid (part->check_value));
  part = g_ptr_array_index (parts, 1);
  g_assert_cmpuint (part->index, ==, 2);
  g_assert_cmpstr (part->description, ==, "MK part 2");
}

static guint64
apdus_seen (guint reader)
{
  g_autofree char *answer = tke_readers_ctl (&fixture, reader, "counters");
  const char *apdus = strstr (answer, "apdus=");

  g_assert_nonnull (apdus);
  return g_ascii_strtoull (apdus + 6, NULL, 10);
}

/* Issue 19: a card that answers 61 00 for ever (with or without data) kept
 * the GET RESPONSE loop running and its answer growing.  It now ends with a
 * clear error after a bounded number of rounds. */
static void
test_card_endless_get_response (Scene *scene, gconstpointer user_data)
{
  const char *modes[] = { "misbehave endless-get-response", "misbehave endless-data" };
  g_autoptr (TkeCard) card = open_card_ok (2);

  for (gsize i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (GPtrArray) parts = NULL;
      g_autofree char *set = tke_readers_ctl (&fixture, 2, modes[i]);
      g_autofree char *unset = NULL;
      guint64 before = apdus_seen (2);

      g_assert_cmpstr (set, ==, "ok");
      tke_card_list_key_parts_async (card, NULL, tke_test_async_done, &result);
      parts = tke_card_list_key_parts_finish (card, tke_test_await (&result, 60), &error);
      g_assert_null (parts);
      g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, "does not end"));
      /* The command, then at most 16 GET RESPONSE. */
      g_assert_cmpuint (apdus_seen (2) - before, <=, 1 + 16);
      unset = tke_readers_ctl (&fixture, 2, "misbehave none");
      g_assert_cmpstr (unset, ==, "ok");
      g_clear_object (&result);
      g_clear_error (&error);
      tke_card_list_key_parts_async (card, NULL, tke_test_async_done, &result);
      parts = tke_card_list_key_parts_finish (card, tke_test_await (&result, 60), &error);
      g_assert_no_error (error);
      g_assert_cmpuint (parts->len, ==, 2);
    }
}

static void
test_card_no_card_no_reader (Scene *scene, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  TkeCard *card;

  swap_card (2, NULL);
  g_assert_null (open_card (2, FALSE, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NO_CARD);
  g_clear_error (&error);

  tke_card_open_async (2, "No Such Reader", FALSE, NULL, tke_test_async_done, &result);
  card = tke_card_open_finish (tke_test_await (&result, 60), &error);
  g_assert_null (card);
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NO_READER);
}

/* A GCancellable ends a wait for a card (SCardCancel). */
static gboolean
cancel_later (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static void
test_card_wait_cancelled (Scene *scene, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  gint64 start;

  swap_card (2, NULL);
  start = g_get_monotonic_time ();
  tke_card_open_async (2, NULL, TRUE, cancellable, tke_test_async_done, &result);
  g_timeout_add (300, cancel_later, cancellable);
  g_assert_null (tke_card_open_finish (tke_test_await (&result, 60), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
}

/* Waiting for a card: it comes when the person inserts it. */
static gboolean
insert_later (gpointer data)
{
  g_autofree char *path = tke_readers_path (&fixture, data);
  g_autofree char *command = g_strconcat ("insert ", path, NULL);
  g_autofree char *answer = tke_readers_ctl (&fixture, 2, command);

  g_assert_cmpstr (answer, ==, "ok");
  return G_SOURCE_REMOVE;
}

static void
test_card_wait_for_insert (Scene *scene, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = NULL;

  swap_card (2, NULL);
  g_timeout_add (500, insert_later, (gpointer) "keyparts.card");
  card = open_card (2, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tke_card_get_description (card), ==, "keyparts.card");
}

static void
test_verify_right (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "keys " ADMIN_PIN, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = open_card_ok (1);

  person_expect (1, actions);
  g_assert_true (verify (card, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (person.prompts, ==, 1);
  /* Verified in this session: no second PIN entry. */
  g_assert_true (verify (card, &error));
  g_assert_cmpuint (person.prompts, ==, 1);
  g_assert_false (tke_card_get_waiting_for_pin (card));
}

static TkeCard *
open_plain (guint reader)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  TkeCard *card;

  tke_card_open_async (reader, NULL, FALSE, NULL, tke_test_async_done, &result);
  card = tke_card_open_finish (tke_test_await (&result, 60), &error);
  g_assert_no_error (error);
  return card;
}

typedef struct
{
  gboolean started;
  GAsyncResult *result; /* of an open started while the pad waits */
} StripRead;

static void
open_while_pad_waits (TkeCard *card, TkePinEntry entry, StripRead *read)
{
  if (!read->started)
    tke_card_open_async (1, NULL, FALSE, NULL, tke_test_async_done, &read->result);
  read->started = TRUE;
}

/* The known defect of the last stop: a second connection to a card (the
 * readers strip reading it, a key part source opening it) selected the
 * applet and so cleared the PIN another handle had verified, and the person
 * was asked for it again.  An open that begins while the PIN is typed, or
 * after, reads the card without selecting the applet again, so the PIN
 * holds for the handle that verified it.  But only for that one: a second
 * open never shares it (the Smart card tab kept such a shared handle open,
 * and a later ceremony signed without its PIN), and an operation through
 * the second handle has the PIN typed again. */
static void
test_second_open_keeps_pin (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "keys " ADMIN_PIN, "keys " ADMIN_PIN, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = open_card_ok (1);
  g_autoptr (TkeCard) strip = NULL;
  g_autoptr (TkeCard) racing = NULL;
  g_autoptr (GBytes) data = g_bytes_new_static ("command", 7);
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) signature2 = NULL;
  StripRead read = { FALSE, NULL };
  gulong id;

  person_expect (1, actions);
  id = g_signal_connect (card, "pin-requested", G_CALLBACK (open_while_pad_waits), &read);
  g_assert_true (verify (card, &error));
  g_assert_no_error (error);
  g_signal_handler_disconnect (card, id);
  g_assert_cmpuint (person.prompts, ==, 1);
  /* The open that began while the pad waited: a handle of its own, which
   * did not clear the PIN. */
  g_assert_true (read.started);
  racing = tke_card_open_finish (tke_test_await (&read.result, 60), &error);
  g_clear_object (&read.result);
  g_assert_no_error (error);
  g_assert_cmpstr (tke_card_get_serial (racing), ==, tke_card_get_serial (card));
  g_assert_true (racing != card);
  /* A read after the PIN: a handle of its own too. */
  strip = open_plain (1);
  g_assert_true (strip != card);
  g_assert_cmpstr (tke_card_get_description (strip), ==, "admin1.card");
  /* The PIN holds for the handle that verified it: no second entry. */
  signature = sign_on_card (card, data, &error);
  g_assert_no_error (error);
  g_assert_nonnull (signature);
  g_assert_cmpuint (person.prompts, ==, 1);
  /* Not for the other one: the card says "verified", the person types. */
  tke_card_set_pin_timeout (strip, 20);
  g_signal_connect (strip, "pin-requested", G_CALLBACK (on_pin_requested), NULL);
  signature2 = sign_on_card (strip, data, &error);
  g_assert_no_error (error);
  g_assert_nonnull (signature2);
  g_assert_cmpuint (person.prompts, ==, 2);
}

/* What the card itself says of its PIN, through a connection of the
 * test's own: VERIFY without data (card-protocol.md §4.2), 90 00 if it is
 * verified, 63 Cx if not. */
static guint
raw_verify_status (guint reader)
{
  static const BYTE query[] = { 0x00, 0x20, 0x00, 0x81 };
  const char *prefix = tke_reader_default_prefix (reader);
  SCARDCONTEXT context;
  SCARDHANDLE handle;
  DWORD protocol = 0;
  char *names = NULL;
  DWORD size = SCARD_AUTOALLOCATE;
  const char *name = NULL;
  BYTE response[8];
  DWORD n = sizeof response;

  g_assert_cmphex (SCardEstablishContext (SCARD_SCOPE_SYSTEM, NULL, NULL, &context), ==,
                   SCARD_S_SUCCESS);
  g_assert_cmphex (SCardListReaders (context, NULL, (LPSTR) &names, &size), ==, SCARD_S_SUCCESS);
  for (const char *r = names; *r != '\0' && name == NULL; r += strlen (r) + 1)
    if (g_str_has_prefix (r, prefix))
      name = r;
  g_assert_nonnull (name);
  g_assert_cmphex (SCardConnect (context, name, SCARD_SHARE_SHARED,
                                 SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &handle, &protocol),
                   ==, SCARD_S_SUCCESS);
  g_assert_cmphex (SCardTransmit (handle,
                                  protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1,
                                  query, sizeof query, NULL, response, &n),
                   ==, SCARD_S_SUCCESS);
  g_assert_cmpuint (n, ==, 2);
  SCardDisconnect (handle, SCARD_LEAVE_CARD);
  SCardFreeMemory (context, names);
  SCardReleaseContext (context);
  return (guint) response[0] << 8 | response[1];
}

/* A login ends with tke_card_log_out_async(): the handle's next operation
 * asks for the PIN again, and the card itself is reset, so no connection
 * finds it verified.  An operation without a login (the Smart card tab's)
 * types its own PIN each time and leaves nothing verified. */
static void
test_log_out (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "keys " ADMIN_PIN, "keys " ADMIN_PIN, "keys " ADMIN_PIN,
                            "keys " ADMIN_PIN, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = open_card_ok (1);
  g_autoptr (TkeCard) page = open_card_ok (1); /* a handle with no login, as the Smart card tab's */
  g_autoptr (GBytes) data = g_bytes_new_static ("command", 7);
  g_autoptr (GAsyncResult) result = NULL;

  person_expect (1, actions);
  g_assert_true (verify (card, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (person.prompts, ==, 1);
  tke_card_log_out_async (card, tke_test_async_done, &result);
  g_assert_true (tke_card_log_out_finish (card, tke_test_await (&result, 60), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  /* Reset on the card: VERIFY without data through pcscd says "not yet". */
  g_assert_cmphex (raw_verify_status (1) & 0xFFF0, ==, 0x63C0);
  /* The handle's next signature: the PIN again. */
  {
    g_autoptr (GBytes) signature = sign_on_card (card, data, &error);

    g_assert_no_error (error);
    g_assert_nonnull (signature);
  }
  g_assert_cmpuint (person.prompts, ==, 2);
  /* Without a login, one PIN per operation, and nothing left verified. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (GBytes) signature = sign_on_card (page, data, &error);

      g_assert_no_error (error);
      g_assert_nonnull (signature);
      g_assert_cmphex (raw_verify_status (1) & 0xFFF0, ==, 0x63C0);
    }
  g_assert_cmpuint (person.prompts, ==, 4);
}

static void
test_wrong_twice_then_right (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "keys 654321", "keys 000000", "keys " ADMIN_PIN, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = open_card_ok (1);

  person_expect (1, actions);
  g_assert_false (verify (card, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_PIN_INCORRECT);
  g_assert_cmpstr (error->message, ==, "Wrong PIN: 2 tries left");
  g_clear_error (&error);
  g_assert_false (verify (card, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_PIN_INCORRECT);
  g_assert_cmpstr (error->message, ==, "Wrong PIN: 1 try left");
  g_clear_error (&error);
  g_assert_true (verify (card, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (person.prompts, ==, 3);
}

static void
test_pin_pad_timeout_and_cancel (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "timeout", "none", "cancel", "keys " ADMIN_PIN, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = open_card_ok (1);

  person_expect (1, actions);
  g_assert_false (verify (card, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_PIN_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "reader 1"));
  g_clear_error (&error);

  /* Nobody types: the pad's own timer. */
  tke_card_set_pin_timeout (card, 1);
  g_assert_false (verify (card, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_PIN_TIMEOUT);
  g_clear_error (&error);
  tke_card_set_pin_timeout (card, 20);

  g_assert_false (verify (card, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_PIN_CANCELLED);
  g_clear_error (&error);

  /* None of these reached the card: its counter is still full. */
  g_assert_true (verify (card, &error));
  g_assert_no_error (error);
}

/* The host cannot stop a PIN entry: cancelling during it changes nothing. */
static void
test_cancellable_does_not_stop_pin_entry (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "keys " ADMIN_PIN, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = open_card_ok (1);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;

  person_expect (1, actions);
  person.cancel_on_prompt = cancellable;
  tke_card_verify_pin_async (card, cancellable, tke_test_async_done, &result);
  g_assert_true (tke_card_verify_pin_finish (card, tke_test_await (&result, 60), &error));
  g_assert_no_error (error);
  person.cancel_on_prompt = NULL;
  g_assert_true (g_cancellable_is_cancelled (cancellable));
}

static void
test_removed_during_signature (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "remove", NULL };
  const char *actions2[] = { "keys " ADMIN_PIN, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = open_card_ok (1);
  g_autoptr (TkeCard) card2 = NULL;
  g_autoptr (GBytes) data = g_bytes_new_static ("command", 7);

  /* Pulled while the pad waits for the PIN. */
  person_expect (1, actions);
  g_assert_null (sign_on_card (card, data, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED);
  g_assert_cmpstr (error->message, ==, "The card was removed from reader 1.");
  g_clear_error (&error);
  swap_card (1, "admin1.card");

  /* Pulled between the PIN and the signature. */
  card2 = open_card_ok (1);
  person_expect (1, actions2);
  g_assert_true (verify (card2, &error));
  swap_card (1, "admin1.card");
  g_assert_null (sign_on_card (card2, data, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED);
}

static void
test_blocked_survives_restart (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "keys 000001", "keys 000002", "keys 000003", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = NULL;
  g_autoptr (TkeCard) again = NULL;

  make_card ("blockme.card", "333333");
  swap_card (2, "blockme.card");
  card = open_card_ok (2);
  person_expect (2, actions);
  g_assert_false (verify (card, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_PIN_INCORRECT);
  g_clear_error (&error);
  g_assert_false (verify (card, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_PIN_INCORRECT);
  g_clear_error (&error);
  g_assert_false (verify (card, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_PIN_BLOCKED);
  g_clear_error (&error);
  /* Blocked: the pad is not even asked. */
  g_assert_false (verify (card, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_PIN_BLOCKED);
  g_clear_error (&error);
  g_assert_cmpuint (person.prompts, ==, 3);
  g_clear_object (&card);

  restart_readers ("admin1.card", "blockme.card");
  again = open_card_ok (2);
  g_assert_no_error (error);
  g_assert_cmpuint (tke_card_get_pin_tries_left (again), ==, 0);
  g_assert_false (verify (again, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_PIN_BLOCKED);
  g_assert_cmpuint (person.prompts, ==, 3);
  g_clear_object (&again);
}

static void
test_generate_key_part_and_change_pin (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "keys " PARTS_PIN, "keys " PARTS_PIN, "keys 135790", "keys 135790",
                            "keys 135790",     "keys 111111",     "keys 222222", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GAsyncResult) result2 = NULL;
  g_autoptr (GAsyncResult) result3 = NULL;
  g_autoptr (TkeCardKeyPart) part = NULL;

  make_card ("spare.card", PARTS_PIN);
  swap_card (2, "spare.card");
  card = open_card_ok (2);
  person_expect (2, actions);
  tke_card_generate_key_part_async (card, "made here", NULL, tke_test_async_done, &result);
  part = tke_card_generate_key_part_finish (card, tke_test_await (&result, 60), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (part->index, ==, 1);
  g_assert_true (tke_vp_is_valid (part->check_value));

  /* The current PIN again (the key part's PIN ended with its operation:
   * no login), then the new one twice. */
  tke_card_change_pin_async (card, NULL, tke_test_async_done, &result2);
  g_assert_true (tke_card_change_pin_finish (card, tke_test_await (&result2, 60), &error));
  g_assert_no_error (error);
  /* The tasks hold the card: let go of them, so that it is reset. */
  g_clear_object (&result);
  g_clear_object (&result2);
  g_clear_object (&card);
  card = open_card_ok (2);
  g_assert_true (verify (card, &error)); /* 135790 */
  g_assert_no_error (error);

  /* Two different entries change nothing. */
  tke_card_change_pin_async (card, NULL, tke_test_async_done, &result3);
  g_assert_false (tke_card_change_pin_finish (card, tke_test_await (&result3, 60), &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_PIN_INCORRECT);
  g_assert_cmpuint (person.prompts, ==, 7);
  g_clear_object (&result3);
  g_clear_object (&card);
}

/* ---- pcscd goes away ---- */

static gboolean
no_readers (gpointer data)
{
  return g_list_model_get_n_items (tke_reader_monitor_get_readers (data)) == 0 &&
         !tke_reader_monitor_get_available (data);
}

/* The monitor reports the readers gone, then finds them again. */
static void
test_monitor_survives_pcscd (Scene *scene, gconstpointer user_data)
{
  MonitorLog log = { 0 };
  g_autoptr (TkeReaderMonitor) monitor = monitor_new (&log);

  iterate_until ((gboolean (*) (gpointer)) both_cards_present, monitor, "readers");
  kill_pcscd ();
  iterate_until (no_readers, monitor, "readers gone");
  g_assert_cmpuint (log.readers_removed, ==, 2);
  g_assert_cmpuint (log.removed[1], ==, 1);
  tke_readers_fixture_start (&fixture, "admin1.card", "keyparts.card");
  iterate_until ((gboolean (*) (gpointer)) both_cards_present, monitor, "readers back");
  g_assert_true (tke_reader_monitor_get_available (monitor));
  g_assert_cmpuint (log.readers_added, ==, 4);
}

/* pcscd dies while the PIN pad waits: a clear error, no hang. */
static void
test_pcscd_killed_during_pin_entry (Scene *scene, gconstpointer user_data)
{
  const char *actions[] = { "kill-pcscd", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = open_card_ok (1);

  person_expect (1, actions);
  g_assert_false (verify (card, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NO_READER);
  g_assert_nonnull (strstr (error->message, "pcscd"));
  g_clear_object (&card);
}

/* pcscd dies while we wait for a card: a clear error, no hang. */
static gboolean
kill_later (gpointer data)
{
  kill_pcscd ();
  return G_SOURCE_REMOVE;
}

static void
test_pcscd_killed_during_card_wait (Scene *scene, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  swap_card (2, NULL);
  g_timeout_add (500, kill_later, NULL);
  g_assert_null (open_card (2, TRUE, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_NO_READER);
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
    const char *sig2[] = { "gen-sigkey", "admin2.card", NULL };
    const char *part1[] = { "gen-keypart", "--description", "MK part 1", "keyparts.card", NULL };
    const char *part2[] = { "gen-keypart", "--description", "MK part 2", "keyparts.card", NULL };

    g_assert_cmpint (tke_readers_card (&fixture, "111111\n222222\n", ca, NULL), ==, 0);
    make_card ("admin1.card", ADMIN_PIN);
    make_card ("keyparts.card", PARTS_PIN);
    make_card ("admin2.card", ADMIN2_PIN);
    g_assert_cmpint (tke_readers_card (&fixture, ADMIN_PIN "\n", sig, NULL), ==, 0);
    g_assert_cmpint (tke_readers_card (&fixture, ADMIN2_PIN "\n", sig2, NULL), ==, 0);
    {
      /* admin1's key on a second card, as Copy smart card makes it. */
      const char *copy[] = { "copy", "admin1.card", "admin1-copy.card", NULL };

      make_card ("admin1-copy.card", ADMIN_PIN);
      g_assert_cmpint (tke_readers_card (&fixture, ADMIN_PIN "\n" ADMIN_PIN "\n", copy, NULL), ==,
                       0);
    }
    g_assert_cmpint (tke_readers_card (&fixture, PARTS_PIN "\n", part1, NULL), ==, 0);
    g_assert_cmpint (tke_readers_card (&fixture, PARTS_PIN "\n", part2, NULL), ==, 0);
  }
  add_scene_test ("/card-layer/monitor/readers-and-cards", test_monitor_readers_and_cards);
  add_scene_test ("/card-layer/card/info-and-key-parts", test_card_info_and_key_parts);
  add_scene_test ("/card-layer/card/endless-get-response", test_card_endless_get_response);
  add_scene_test ("/card-layer/card/no-card-no-reader", test_card_no_card_no_reader);
  add_scene_test ("/card-layer/card/wait-cancelled", test_card_wait_cancelled);
  add_scene_test ("/card-layer/card/wait-for-insert", test_card_wait_for_insert);
  add_scene_test ("/card-layer/pin/right", test_verify_right);
  add_scene_test ("/card-layer/pin/wrong-twice-then-right", test_wrong_twice_then_right);
  add_scene_test ("/card-layer/pin/second-open-keeps-pin", test_second_open_keeps_pin);
  add_scene_test ("/card-layer/pin/log-out", test_log_out);
  add_scene_test ("/card-layer/pin/timeout-and-cancel", test_pin_pad_timeout_and_cancel);
  add_scene_test ("/card-layer/pin/cancellable-does-not-stop-entry",
                  test_cancellable_does_not_stop_pin_entry);
  add_scene_test ("/card-layer/pin/removed-during-signature", test_removed_during_signature);
  add_scene_test ("/card-layer/pin/blocked-survives-restart", test_blocked_survives_restart);
  add_scene_test ("/card-layer/card/generate-key-part-and-change-pin",
                  test_generate_key_part_and_change_pin);
  add_scene_test ("/card-layer/pcscd/monitor-survives", test_monitor_survives_pcscd);
  add_scene_test ("/card-layer/pcscd/killed-during-pin-entry", test_pcscd_killed_during_pin_entry);
  add_scene_test ("/card-layer/pcscd/killed-during-card-wait", test_pcscd_killed_during_card_wait);
  add_source_tests ();
  add_file_tests ();
  add_backup_tests ();
  status = g_test_run ();
  g_queue_clear_full (&person.actions, g_free);
  g_clear_pointer (&person.messages, g_ptr_array_unref);
  tke_readers_fixture_clear (&fixture);
  return status;
}
