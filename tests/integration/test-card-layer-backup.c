/* test-card-layer-backup.c: a card pulled in the middle of a CA card's
 * backup (card-protocol.md §4.15, §5)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Part of test-card-layer: tke_card_back_up_ca_async() with the blank card
 * pulled during INSTALL CA BACKUP, and the CA card pulled while it makes
 * or hands over its sealed backup.  The readers' "pull-on" pulls the card
 * at one given APDU: before the card sees it, or after it ran and before
 * its answer comes back.  Whatever the moment, the blank card is either
 * still blank (and takes a new backup) or a whole CA card of the zone,
 * never half of one; the CA card is as it was; and libtke says the card
 * was removed, from which reader.
 */

#include <string.h>

#include "card-layer-common.h"

#define CA_PINS "keys 111111", "keys 222222"

static void
ctl_ok (guint reader, const char *command)
{
  g_autofree char *answer = tke_readers_ctl (&fixture, reader, command);

  g_assert_cmpstr (answer, ==, "ok");
}

/* A copy of the suite's CA card, so that nothing here touches ca.card. */
static void
copy_image (const char *from, const char *to)
{
  g_autofree char *source = tke_readers_path (&fixture, from);
  g_autofree char *target = tke_readers_path (&fixture, to);
  g_autofree char *data = NULL;
  gsize size = 0;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_get_contents (source, &data, &size, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents_full (target, data, (gssize) size,
                                           G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error));
  g_assert_no_error (error);
}

static void
make_blank (const char *name)
{
  const char *args[] = { "create-blank", name, NULL };

  g_assert_cmpint (tke_readers_card (&fixture, "", args, NULL), ==, 0);
}

/* What the card image holds now (tke-card info offline). */
static char *
card_info (const char *name)
{
  const char *args[] = { "info", name, NULL };
  char *info = NULL;
  int status = tke_readers_card (&fixture, "", args, &info);

  if (status != 0)
    g_test_message ("tke-card info %s: %s", name, info);
  g_assert_cmpint (status, ==, 0);
  return info;
}

/* The line of INFO that starts with LABEL. */
static char *
info_line (const char *info, const char *label)
{
  const char *line = strstr (info, label);

  g_assert_nonnull (line);
  return g_strndup (line, strcspn (line, "\n"));
}

/* A whole CA card of the zone of CA_INFO: the same zone, descriptions and
 * PIN tries (the PINs themselves are tried by backing it up in turn). */
static void
assert_backup_of (const char *info, const char *ca_info)
{
  static const char *const labels[] = { "Zone:", "Zone description:", "Description:",
                                        "PIN tries left:" };

  g_assert_nonnull (strstr (info, "Type:             CA\n"));
  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    {
      g_autofree char *want = info_line (ca_info, labels[i]);
      g_autofree char *got = info_line (info, labels[i]);

      g_assert_cmpstr (got, ==, want);
    }
}

static void
assert_blank (const char *info)
{
  g_assert_nonnull (strstr (info, "Type:             blank\n"));
  g_assert_nonnull (strstr (info, "Zone:             0000000000000000\n"));
}

static gboolean
back_up (TkeCard *ca, TkeCard *blank, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  tke_card_back_up_ca_async (ca, blank, NULL, tke_test_async_done, &result);
  return tke_card_back_up_ca_finish (ca, tke_test_await (&result, 60), error);
}

/* CA_IMAGE in CA_READER backed up onto BLANK_IMAGE in the other reader,
 * both CA PINs typed on the CA card's pad. */
static gboolean
back_up_in_readers (guint ca_reader, const char *ca_image, const char *blank_image, GError **error)
{
  const char *actions[] = { CA_PINS, NULL };
  guint blank_reader = ca_reader == 1 ? 2 : 1;
  g_autoptr (TkeCard) ca = NULL;
  g_autoptr (TkeCard) blank = NULL;

  swap_card (ca_reader, ca_image);
  swap_card (blank_reader, blank_image);
  ca = open_card_ok (ca_reader);
  blank = open_card_ok (blank_reader);
  person_expect (ca_reader, actions);
  return back_up (ca, blank, error);
}

static void
assert_card_removed (const GError *error, guint reader)
{
  g_autofree char *message = g_strdup_printf ("The card was removed from reader %u.", reader);

  g_assert_error (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED);
  g_assert_cmpstr (error->message, ==, message);
}

/* The blank card pulled while it installed the backup: only the card can
 * say whether it did, and the message says how to find out. */
static void
assert_removed_installing (const GError *error, guint reader)
{
  g_autofree char *message = g_strdup_printf (
      "The card was removed from reader %u while it installed the backup. Put it back in: if it "
      "is still blank, back up the CA card again; if it is a CA card of the zone now, it is the "
      "whole backup.",
      reader);

  g_assert_error (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED);
  g_assert_cmpstr (error->message, ==, message);
}

/* The reader's pull went off: the card is out, nothing left armed. */
static void
assert_pulled (guint reader)
{
  g_autofree char *status = tke_readers_ctl (&fixture, reader, "status");

  g_assert_true (g_str_has_prefix (status, "ok card=absent"));
  ctl_ok (reader, "pull-on none");
}

/* The control socket's pull-on: refused when malformed, and the pull
 * fires once, at the APDU it names. */
static void
test_pull_on_syntax (Scene *scene, gconstpointer data)
{
  static const char *const bad[] = { "pull-on",
                                     "pull-on 80",
                                     "pull-on 80 74",
                                     "pull-on 80 74 now",
                                     "pull-on 8 74 before",
                                     "pull-on zz 74 after",
                                     "pull-on 80 74 after x" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *answer = tke_readers_ctl (&fixture, 2, bad[i]);

      g_assert_true (g_str_has_prefix (answer, "error pull-on takes"));
    }
  ctl_ok (2, "pull-on none");
}

/* (1) The blank card pulled during INSTALL CA BACKUP: after its first
 * chained piece (the card holds part of the chain), before its last piece
 * (the card never had it whole), and after it ran (the answer is lost).
 * The card is blank and takes the backup again, or it is the whole
 * backup, which works as a CA card: it backs itself up in turn. */
static void
test_target_pulled_during_install (Scene *scene, gconstpointer data)
{
  static const struct
  {
    const char *pull;
    gboolean installed;
  } moments[] = {
    { "pull-on 90 74 after", FALSE },
    { "pull-on 80 74 before", FALSE },
    { "pull-on 80 74 after", TRUE },
  };

  copy_image ("ca.card", "backup-ca.card");
  for (guint i = 0; i < G_N_ELEMENTS (moments); i++)
    {
      g_autofree char *blank_image = g_strdup_printf ("backup-target-%u.card", i);
      g_autofree char *second_image = g_strdup_printf ("backup-of-target-%u.card", i);
      g_autofree char *ca_before = card_info ("backup-ca.card");
      g_autofree char *blank_before = NULL;
      g_autofree char *blank_after = NULL;
      g_autofree char *ca_after = NULL;
      g_autofree char *again = NULL;
      const char *actions[] = { CA_PINS, NULL };
      g_autoptr (GError) error = NULL;
      g_autoptr (TkeCard) ca = NULL;
      g_autoptr (TkeCard) blank = NULL;

      g_test_message ("target pulled: %s", moments[i].pull);
      make_blank (blank_image);
      blank_before = card_info (blank_image);
      swap_card (1, "backup-ca.card");
      swap_card (2, blank_image);
      ca = open_card_ok (1);
      blank = open_card_ok (2);
      person_expect (1, actions);
      ctl_ok (2, moments[i].pull);
      g_assert_false (back_up (ca, blank, &error));
      assert_removed_installing (error, 2);
      g_clear_error (&error);
      assert_pulled (2);
      g_assert_cmpuint (person.prompts, ==, 2);
      g_clear_object (&blank);
      g_clear_object (&ca);

      blank_after = card_info (blank_image);
      ca_after = card_info ("backup-ca.card");
      g_assert_cmpstr (ca_after, ==, ca_before);
      if (!moments[i].installed)
        {
          /* Untouched: as blank as it came, and a new attempt works. */
          g_assert_cmpstr (blank_after, ==, blank_before);
          assert_blank (blank_after);
          g_assert_true (back_up_in_readers (1, "backup-ca.card", blank_image, &error));
          g_assert_no_error (error);
          g_clear_pointer (&blank_after, g_free);
          blank_after = card_info (blank_image);
        }
      else
        {
          /* Whole: a new attempt is refused before any PIN. */
          g_assert_false (back_up_in_readers (1, "backup-ca.card", blank_image, &error));
          g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
          g_assert_cmpstr (error->message, ==,
                           "The card in reader 2 is not blank: it is initialized already.");
          g_assert_cmpuint (person.prompts, ==, 0);
          g_clear_error (&error);
        }
      assert_backup_of (blank_after, ca_before);

      /* The backup holds the zone key and both PINs: it is a CA card. */
      make_blank (second_image);
      g_assert_true (back_up_in_readers (2, blank_image, second_image, &error));
      g_assert_no_error (error);
      again = card_info (second_image);
      assert_backup_of (again, ca_before);
    }
}

/* (2) The CA card pulled: at its second PIN entry, before EXPORT CA
 * BACKUP reaches it, after it sealed the backup (the answer is lost), and
 * while the host reads the sealed backup (GET RESPONSE).  The CA card is
 * as it was (type, zone, descriptions, PIN tries), the blank card is
 * still blank, and with both cards back in the backup works. */
static void
test_source_pulled (Scene *scene, gconstpointer data)
{
  static const char *const pulls[] = {
    NULL, /* at the second PIN prompt */
    "pull-on 80 72 before",
    "pull-on 80 72 after",
    "pull-on 00 C0 after",
  };

  copy_image ("ca.card", "backup-ca.card");
  for (guint i = 0; i < G_N_ELEMENTS (pulls); i++)
    {
      g_autofree char *blank_image = g_strdup_printf ("backup-source-%u.card", i);
      g_autofree char *ca_before = card_info ("backup-ca.card");
      g_autofree char *blank_before = NULL;
      g_autofree char *blank_after = NULL;
      g_autofree char *ca_after = NULL;
      const char *at_prompt[] = { "keys 111111", "remove", NULL };
      const char *actions[] = { CA_PINS, NULL };
      g_autoptr (GError) error = NULL;
      g_autoptr (TkeCard) ca = NULL;
      g_autoptr (TkeCard) blank = NULL;

      g_test_message ("source pulled: %s", pulls[i] != NULL ? pulls[i] : "at the PIN prompt");
      make_blank (blank_image);
      blank_before = card_info (blank_image);
      swap_card (1, "backup-ca.card");
      swap_card (2, blank_image);
      ca = open_card_ok (1);
      blank = open_card_ok (2);
      person_expect (1, pulls[i] != NULL ? actions : at_prompt);
      if (pulls[i] != NULL)
        ctl_ok (1, pulls[i]);
      g_assert_false (back_up (ca, blank, &error));
      assert_card_removed (error, 1);
      g_clear_error (&error);
      assert_pulled (1);
      g_assert_cmpuint (person.prompts, ==, 2);
      g_clear_object (&blank);
      g_clear_object (&ca);

      ca_after = card_info ("backup-ca.card");
      blank_after = card_info (blank_image);
      g_assert_cmpstr (ca_after, ==, ca_before);
      g_assert_cmpstr (blank_after, ==, blank_before);
      assert_blank (blank_after);

      /* Both cards back in: the backup is made. */
      g_assert_true (back_up_in_readers (1, "backup-ca.card", blank_image, &error));
      g_assert_no_error (error);
      g_clear_pointer (&blank_after, g_free);
      g_clear_pointer (&ca_after, g_free);
      blank_after = card_info (blank_image);
      ca_after = card_info ("backup-ca.card");
      assert_backup_of (blank_after, ca_before);
      g_assert_cmpstr (ca_after, ==, ca_before);
    }
}

void
add_backup_tests (void)
{
  add_scene_test ("/card-layer/backup/pull-on-syntax", test_pull_on_syntax);
  add_scene_test ("/card-layer/backup/target-pulled-during-install",
                  test_target_pulled_during_install);
  add_scene_test ("/card-layer/backup/source-pulled", test_source_pulled);
}
