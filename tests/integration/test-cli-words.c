/* test-cli-words.c: the tke CLI says what the service's plug-in says
 * (research tke-domain.md §1.3): its prompts, the cryptounits header
 * block, `h`, the misspelled `cryptounit-mks`, with the real tke CLI
 * against a real tke-emulator
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "client-fixture.h"

#define assert_said(text, words)                                                                   \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if (strstr ((text), (words)) == NULL)                                                          \
      g_error ("expected “%s” in: %s", (words), (text));                                           \
  }                                                                                                \
  G_STMT_END

static void
test_help_and_hint (void)
{
  Fixture fixture = { 0 }, *f = &fixture;
  const char *const args[] = { "--init", "imprint", NULL };

  fixture_start (f, args);
  {
    g_auto (Run) help = tke (f, NULL, "help", NULL);
    g_auto (Run) h = tke (f, NULL, "h", NULL);
    g_auto (Run) h_verb = tke (f, NULL, "h", "cryptounits", NULL);
    assert_ok (help);
    assert_ok (h);
    assert_ok (h_verb);
    g_assert_cmpstr (h.out, ==, help.out);
    assert_said (help.out, "  h                            ");
    assert_said (h_verb.out, "List the crypto units of the service instance.");
  }
  {
    g_auto (Run) typo = tke (f, NULL, "cryptounit-mks", NULL);
    g_assert_cmpint (typo.status, ==, 2);
    g_assert_cmpstr (typo.err, ==,
                     "Unknown verb “cryptounit-mks”. Run “tke help” for the list.\n"
                     "Did you mean “tke cryptounit-mk” (the master key registers of the selected "
                     "crypto units) or “tke mks” (the master key part files on this "
                     "workstation)?\n");
  }
  fixture_stop (f);
}

static void
test_cryptounits_header (void)
{
  Fixture fixture = { 0 }, *f = &fixture;
  const char *const args[] = { "--init", "imprint", NULL };
  g_autofree char *header = NULL;

  fixture_start (f, args);
  fixture_login (f);
  header = g_strdup_printf ("API endpoint:      %s\n"
                            "Region:            us-south\n"
                            "User:              ServiceId-tke-emulator\n"
                            "Account:           -\n"
                            "Resource group:    -\n"
                            "\n"
                            "SERVICE INSTANCE: %s\n"
                            "CRYPTO UNIT NUM   SELECTED   TYPE           LOCATION\n",
                            f->emu->url, f->emu->instance);
  {
    g_auto (Run) units = tke (f, NULL, "cryptounits", NULL);
    assert_ok (units);
    g_assert_true (g_str_has_prefix (units.out, header));
  }
  fixture_stop (f);
}

/* Each prompt as the plug-in words it: asked on standard output (a line to
 * answer) or echoed to standard error (a password from --password-file). */
static void
test_prompts (void)
{
  Fixture fixture = { 0 }, *f = &fixture;
  const char *const args[] = { "--init", "imprint", NULL };
  g_autoptr (TkeSecret) p1 = tke_secret_new_random (32, NULL);
  g_autoptr (TkeSecret) p2 = tke_secret_new_random (32, NULL);
  g_autofree char *h1 = hex_of (p1), *h2 = hex_of (p2);
  g_autofree char *kp1 = g_strdup_printf ("%s\nkp-pass-1\nkp-pass-1\n", h1);
  g_autofree char *kp2 = g_strdup_printf ("%s\nkp-pass-2\nkp-pass-2\n", h2);

  fixture_start (f, args);
  fixture_login (f);
  {
    g_auto (Run) ask = tke (f, NULL, "cryptounit-add", NULL);
    g_auto (Run) add = tke (f, NULL, "cryptounit-add", "1", "2", "3", NULL);
    assert_said (ask.out, "Enter a list of CRYPTO UNIT NUM to add, separated by spaces:\n");
    assert_ok (add);
  }
  {
    g_auto (Run) ask = tke (f, NULL, "sigkey-add", NULL);
    g_auto (Run) add = tke (f, "password-one\npassword-one\n", "sigkey-add", "--name", "One", NULL);
    assert_said (ask.out, "Enter an administrator name to be associated with the signature key:\n");
    assert_ok (add);
    assert_said (add.err, "Enter a password to protect the signature key:\n"
                          "Re-enter the password to confirm:\n");
  }
  {
    g_auto (Run) ask = tke (f, NULL, "sigkey-sel", NULL);
    g_auto (Run) sel = tke (f, "password-one\n", "sigkey-sel", "1", NULL);
    assert_said (ask.out,
                 "Enter the KEYNUM values to select as current signature keys, separated by "
                 "spaces:\n");
    assert_ok (sel);
    assert_said (sel.err, "Enter the password for KEYNUM 1:\n");
  }
  {
    g_auto (Run) ask = tke (f, NULL, "cryptounit-admin-add", NULL);
    g_auto (Run) admin = tke (f, "password-one\n", "cryptounit-admin-add", "1", NULL);
    assert_said (ask.out,
                 "Enter the KEYNUM of the administrator signature key you wish to load:\n");
    assert_ok (admin);
    assert_said (admin.err, "Enter the password for the administrator signature key file:\n");
  }
  {
    g_auto (Run) ask = tke (f, NULL, "cryptounit-thrhld-set", NULL);
    g_auto (Run) ask_rev = tke (f, NULL, "cryptounit-thrhld-set", "--signature", "1", NULL);
    g_auto (Run) set = tke (f, "password-one\n", "cryptounit-thrhld-set", "--signature", "1",
                            "--revocation", "1", NULL);
    assert_said (ask.out, "Enter the new signature threshold value:\n");
    assert_said (ask_rev.out, "Enter the new revocation signature threshold value:\n");
    assert_ok (set);
    assert_said (set.err, "Enter the password for the signature key identified by: ");
  }
  {
    g_auto (Run) ask = tke (f, kp1, "mk-add", "--value", NULL);
    g_auto (Run) a = tke (f, kp1, "mk-add", "--value", "--description", "part one", NULL);
    g_auto (Run) b = tke (f, kp2, "mk-add", "--value", "--description", "part two", NULL);
    assert_said (ask.err, "Enter the key part value:\n");
    assert_said (ask.out, "Enter a description for the key part:\n");
    assert_ok (a);
    assert_ok (b);
    assert_said (a.err, "Enter a password to protect the key part:\n"
                        "Re-enter the password to confirm:\n");
  }
  {
    g_auto (Run) ask = tke (f, NULL, "cryptounit-mk-load", NULL);
    g_auto (Run) load =
        tke (f, "password-one\nkp-pass-1\nkp-pass-2\n", "cryptounit-mk-load", "1", "2", NULL);
    assert_said (ask.out, "Enter the KEYNUM values of the master key parts you wish to load.\n");
    assert_ok (load);
    assert_said (load.err, "Enter the password for the signature key identified by: ");
    assert_said (load.err,
                 "Enter the password for key file 1\nEnter the password for key file 2\n");
  }
  {
    g_auto (Run) commit = tke (f, "password-one\n", "cryptounit-mk-commit", NULL);
    g_auto (Run) no = tke (f, "password-one\n", "cryptounit-mk-setimm", NULL);
    assert_ok (commit);
    assert_said (commit.err, "Enter the password for the signature key identified by: ");
    /* No answer is no: nothing changes. */
    g_assert_cmpint (no.status, ==, 4);
    assert_said (no.out, "Do you want to continue? [y/n]\n");
  }
  fixture_stop (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli-words/help-and-hint", test_help_and_hint);
  g_test_add_func ("/cli-words/cryptounits-header", test_cryptounits_header);
  g_test_add_func ("/cli-words/prompts", test_prompts);
  return g_test_run ();
}
