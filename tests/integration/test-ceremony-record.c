/* test-ceremony-record.c: the ceremony record and its report, end to end
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A whole ceremony through the tke CLI against the real emulator (load,
 * commit, a rotation that fails on one unit, and its recovery) writes the
 * ceremony record; the report exported from it verifies offline, on a
 * "machine" with no profile, no keyring and no service; and any change to
 * it (a byte, a dropped or reordered record, a swapped signature) makes
 * verification fail and name the record.  Nothing secret is in either.
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "rotation-fixture.h"
#include "tke-test-util.h"

/* Known key parts and passwords, so that the scan can look for them. */
static const char part_a[] = "0f1e2d3c4b5a69788796a5b4c3d2e1f00123456789abcdeffedcba9876543210";
static const char part_b[] = "a5a5a5a55a5a5a5a0102030405060708f0e0d0c0b0a090807060504030201000";
static const char part_pw_a[] = "Part-Password-Alpha-1";
static const char part_pw_b[] = "Part-Password-Bravo-2";

static void
add_part (RotFixture *f, const char *value, const char *password, const char *description)
{
  g_autofree char *lines = g_strdup_printf ("%s\n%s\n%s\n", value, password, password);
  g_auto (RotRun) add = rot_tke (f, lines, "mk-add", "--value", "--description", description, NULL);

  rot_assert_ok (add);
}

static char *
trail_path (RotFixture *f)
{
  return g_build_filename (f->cli.top, "xdgstate", "tke", "audit", "trail.jsonl", NULL);
}

static TkeCeremonyReport *
report_from (const char *contents)
{
  g_autoptr (GBytes) bytes = g_bytes_new (contents, strlen (contents));
  g_autoptr (GError) error = NULL;
  TkeCeremonyReport *report = tke_ceremony_report_new_from_bytes (bytes, &error);

  g_assert_no_error (error);
  return report;
}

/* The report file as JSON, to change it the way a forger would. */
static JsonObject *
report_object (const char *contents)
{
  g_autoptr (JsonNode) node = json_from_string (contents, NULL);

  g_assert_nonnull (node);
  return json_object_ref (json_node_get_object (node));
}

static char *
object_text (JsonObject *object)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, object);
  return json_to_string (node, TRUE);
}

static void
assert_fails_naming (const char *contents, const char *expected)
{
  g_autoptr (TkeCeremonyReport) report = report_from (contents);
  g_autoptr (GError) error = NULL;

  g_assert_false (tke_ceremony_report_verify (report, NULL, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_RECORD_TAMPERED);
  g_test_message ("refused: %s", error->message);
  if (strstr (error->message, expected) == NULL)
    g_error ("expected “%s” in “%s”", expected, error->message);
}

/* Changes one character inside record @index's line, away from its seq. */
static char *
flip_in_record (const char *contents, guint index, const char *inside)
{
  g_autoptr (JsonObject) object = report_object (contents);
  JsonArray *records = json_object_get_array_member (object, "records");
  g_autofree char *line = g_strdup (json_array_get_string_element (records, index));
  char *at = strstr (line, inside);

  g_assert_nonnull (at);
  at[strlen (inside) - 1] = at[strlen (inside) - 1] == '0' ? '1' : '0';
  json_array_remove_element (records, index);
  /* json-glib has no insert: rebuild the array in order. */
  {
    JsonArray *rebuilt = json_array_new ();

    for (guint i = 0; i < json_array_get_length (records) + 1; i++)
      json_array_add_string_element (
          rebuilt,
          i == index ? line : json_array_get_string_element (records, i < index ? i : i - 1));
    json_object_set_array_member (object, "records", rebuilt);
  }
  return object_text (object);
}

static char *
drop_record (const char *contents, guint index)
{
  g_autoptr (JsonObject) object = report_object (contents);

  json_array_remove_element (json_object_get_array_member (object, "records"), index);
  return object_text (object);
}

static char *
swap_records (const char *contents, guint a, guint b)
{
  g_autoptr (JsonObject) object = report_object (contents);
  JsonArray *records = json_object_get_array_member (object, "records");
  JsonArray *rebuilt = json_array_new ();

  for (guint i = 0; i < json_array_get_length (records); i++)
    json_array_add_string_element (rebuilt, json_array_get_string_element (records, i == a   ? b
                                                                                    : i == b ? a
                                                                                             : i));
  json_object_set_array_member (object, "records", rebuilt);
  return object_text (object);
}

/* Another report's (genuine) signature in this one's place. */
static char *
swap_signature (const char *contents, const char *other)
{
  g_autoptr (JsonObject) object = report_object (contents);
  g_autoptr (JsonObject) donor = report_object (other);

  json_object_set_array_member (
      object, "signatures", json_array_ref (json_object_get_array_member (donor, "signatures")));
  return object_text (object);
}

/* How many units' states in the report have a command's signed answer as
 * evidence (its "result.state", issue 11), not a query's. */
static guint
n_command_evidence (const char *contents)
{
  g_autoptr (JsonObject) object = report_object (contents);
  JsonArray *records = json_object_get_array_member (object, "records");
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (records); i++)
    {
      g_autoptr (JsonNode) node =
          json_from_string (json_array_get_string_element (records, i), NULL);
      JsonObject *record = json_node_get_object (node);
      JsonArray *units = json_object_has_member (record, "units")
                             ? json_object_get_array_member (record, "units")
                             : NULL;

      for (guint j = 0; units != NULL && j < json_array_get_length (units); j++)
        {
          JsonObject *unit = json_array_get_object_element (units, j);
          JsonObject *evidence, *response;
          g_autofree guchar *answer = NULL;
          g_autofree char *text = NULL;
          gsize size = 0;

          if (!json_object_has_member (unit, "evidence"))
            continue;
          evidence = json_object_get_object_member (unit, "evidence");
          response = json_object_get_object_member (evidence, "response");
          answer = g_base64_decode (json_object_get_string_member (response, "answer"), &size);
          text = g_strndup ((const char *) answer, size);
          if (strstr (text, "\"command\":\"query\"") == NULL &&
              strstr (text, "\"state\":{") != NULL)
            n++;
        }
    }
  return n;
}

static char *
sha256_hex (const char *line)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, line, -1);
}

static void
replace_value (char *line, const char *member, const char *value)
{
  g_autofree char *key = g_strdup_printf ("\"%s\":\"", member);
  char *at = strstr (line, key);

  g_assert_nonnull (at);
  at += strlen (key);
  g_assert_cmpuint (strcspn (at, "\""), ==, strlen (value));
  memcpy (at, value, strlen (value));
}

/* A forger who holds a workstation key of their own: record @index (a
 * load's importer-key record) claims another importer key, one its unit
 * never certified, with its fingerprint; every record after it is chained
 * again, the summary lists the new hashes and the forger's key, and is
 * signed with it.  Only the unit's own evidence can tell. */
static char *
forge_importer_key (const char *contents, guint index)
{
  g_autoptr (JsonObject) object = report_object (contents);
  JsonArray *records = json_object_get_array_member (object, "records");
  g_autoptr (JsonNode) summary_node =
      json_from_string (json_object_get_string_member (object, "summary"), NULL);
  JsonObject *summary = json_node_get_object (summary_node);
  JsonArray *rebuilt = json_array_new ();
  JsonArray *hashes = json_array_new ();
  JsonArray *signatures = json_array_new ();
  JsonObject *signature = json_object_new ();
  g_autoptr (EVP_PKEY) forger = tke_crypto_ec_generate (NULL);
  g_autoptr (EVP_PKEY) claimed = tke_crypto_ec_generate (NULL);
  g_autoptr (GBytes) forger_point = tke_crypto_ec_public_point (forger, NULL);
  g_autoptr (GBytes) claimed_point = tke_crypto_ec_public_point (claimed, NULL);
  g_autofree char *forger_hex = tke_crypto_hex_encode (g_bytes_get_data (forger_point, NULL),
                                                       g_bytes_get_size (forger_point));
  g_autofree char *claimed_hex = tke_crypto_hex_encode (g_bytes_get_data (claimed_point, NULL),
                                                        g_bytes_get_size (claimed_point));
  g_autofree char *claimed_fingerprint = tke_unit_root_fingerprint (claimed_point);
  g_autofree char *prev_hash = NULL;
  g_autofree char *summary_text = NULL;
  g_autofree char *signed_bytes = NULL;
  g_autofree char *signature_base64 = NULL;
  g_autoptr (GBytes) signature_bytes = NULL;

  for (guint i = 0; i < json_array_get_length (records); i++)
    {
      g_autofree char *line = g_strdup (json_array_get_string_element (records, i));

      if (i == index)
        {
          char *importer = strstr (line, "\"importer_key\":{");

          g_assert_nonnull (importer);
          replace_value (importer, "key", claimed_hex);
          replace_value (importer, "fingerprint", claimed_fingerprint);
        }
      if (i > index)
        replace_value (line, "prev", prev_hash);
      g_free (prev_hash);
      prev_hash = sha256_hex (line);
      json_array_add_string_element (hashes, prev_hash);
      json_array_add_string_element (rebuilt, line);
    }
  json_object_set_array_member (object, "records", rebuilt);
  json_object_set_array_member (summary, "record_hashes", hashes);
  json_object_set_string_member (summary, "workstation_key", forger_hex);
  summary_text = json_to_string (summary_node, FALSE);
  signed_bytes = g_strconcat ("tke ceremony report v1\n", summary_text, NULL);
  signature_bytes =
      tke_crypto_sign (forger, (const guint8 *) signed_bytes, strlen (signed_bytes), NULL);
  g_assert_nonnull (signature_bytes);
  signature_base64 = g_base64_encode (g_bytes_get_data (signature_bytes, NULL),
                                      g_bytes_get_size (signature_bytes));
  json_object_set_string_member (signature, "role", "workstation");
  json_object_set_string_member (signature, "public_key", forger_hex);
  json_object_set_string_member (signature, "signature", signature_base64);
  json_array_add_object_element (signatures, signature);
  json_object_set_string_member (object, "summary", summary_text);
  json_object_set_array_member (object, "signatures", signatures);
  return object_text (object);
}

static guint
record_index_of (const char *contents, const char *needle)
{
  g_autoptr (JsonObject) object = report_object (contents);
  JsonArray *records = json_object_get_array_member (object, "records");

  for (guint i = 0; i < json_array_get_length (records); i++)
    if (strstr (json_array_get_string_element (records, i), needle) != NULL)
      return i;
  g_error ("no record holds “%s”", needle);
}

static void
assert_no_secret (const char *what, const char *text, RotFixture *f)
{
  g_autofree char *upper_a = g_ascii_strup (part_a, -1);
  g_autofree char *upper_b = g_ascii_strup (part_b, -1);
  const char *secrets[] = { part_a,    part_b, upper_a, upper_b,         part_pw_a,
                            part_pw_b, f->pw1, f->pw2,  f->emu->api_key, NULL };

  for (guint i = 0; secrets[i] != NULL; i++)
    if (strstr (text, secrets[i]) != NULL)
      g_error ("%s holds a secret (#%u)", what, i);
}

/* The load's own steps are records: each unit's importer key with the
 * unit's certificates (verified again by "report verify"), then each part
 * as sealed, by description and check value, after the importer keys and
 * before the loads. */
static void
assert_load_steps (const char *report)
{
  guint first_importer = record_index_of (report, "\"step\":\"importer-key\"");
  guint part_a_sealed = record_index_of (report, "\"step\":\"part-sealed\"");
  guint loaded = record_index_of (report, "loaded; new register verification pattern");

  g_assert_cmpuint (tke_test_count (report, "\\\"step\\\":\\\"importer-key\\\""), ==, 3);
  g_assert_cmpuint (tke_test_count (report, "\\\"step\\\":\\\"part-sealed\\\""), ==, 2);
  g_assert_cmpuint (tke_test_count (report, "\\\"importer_certificate\\\""), ==, 3);
  g_assert_cmpuint (first_importer, <, part_a_sealed);
  g_assert_cmpuint (part_a_sealed + 1, <, loaded);
  {
    g_autoptr (JsonObject) object = report_object (report);
    JsonArray *records = json_object_get_array_member (object, "records");
    g_autoptr (JsonNode) node =
        json_from_string (json_array_get_string_element (records, part_a_sealed), NULL);
    JsonObject *record = json_node_get_object (node);
    JsonObject *part =
        json_array_get_object_element (json_object_get_array_member (record, "key_parts"), 0);

    g_assert_cmpstr (json_object_get_string_member (part, "description"), ==, "part A");
    g_assert_cmpuint (strlen (json_object_get_string_member (part, "check_value")), >, 0);
  }
}

static char *
run_tool (const char *const *argv)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", argv[0], err);
  return g_steal_pointer (&out);
}

/* The report for people: exported as a PDF by the CLI, rendered to PNG
 * with pdftoppm (kept with the screenshots, to be looked at), and its
 * words read back with pdftotext: the header, the load's parts and
 * importer keys, the failed rotation marked, the advice, the signatures,
 * and no secret. */
static void
assert_pdf (RotFixture *f, const char *since)
{
  g_autofree char *pdf = g_build_filename (f->cli.top, "report.pdf", NULL);
  const char *shots = g_getenv ("TKE_SCREENSHOT_DIR");
  g_autofree char *png_base = NULL;
  g_autofree char *png = NULL;
  g_autofree char *text = NULL;
  g_auto (RotRun) export =
      rot_tke (f, NULL, "report", "export", "--since", since, "--pdf", pdf, NULL);

  rot_assert_ok (export);
  g_assert_nonnull (strstr (export.out, pdf));
  {
    const char *argv[] = { "pdftotext", "-layout", pdf, "-", NULL };

    text = run_tool (argv);
  }
  g_test_message ("the PDF's text: %zu bytes", strlen (text));
  for (const char *const *word =
           (const char *const[]){
               "Ceremony report", "Instance:", "Unit root fingerprint (SHA-256):",
               "Workstation key fingerprint (SHA-256):", "Signed by:",
               "Crypto units before and after", "Timeline: every record, in order",
               "SHA-256:", "part A", "part B", "check value", "importer key, fingerprint",
               "set immediate failed", "(a deviation)",
               "advice: remove-switched-then-set-immediate", "Signatures over the summary",
               "workstation", NULL };
       *word != NULL; word++)
    if (strstr (text, *word) == NULL)
      g_error ("the PDF does not say “%s”", *word);
  assert_no_secret ("the PDF", text, f);
  if (shots != NULL)
    g_mkdir_with_parents (shots, 0755);
  png_base = g_build_filename (shots != NULL ? shots : f->cli.top, "ceremony-report-pdf", NULL);
  {
    const char *argv[] = { "pdftoppm", "-png", "-r", "100",    "-f", "1",
                           "-l",       "2",    pdf,  png_base, NULL };
    g_autofree char *out = run_tool (argv);
  }
  /* pdftoppm numbers the pages: -1.png, or -01.png when there are ten or more. */
  png = g_strconcat (png_base, "-1.png", NULL);
  if (!g_file_test (png, G_FILE_TEST_EXISTS))
    {
      g_free (png);
      png = g_strconcat (png_base, "-01.png", NULL);
    }
  g_assert_true (g_file_test (png, G_FILE_TEST_EXISTS));
  g_test_message ("the PDF's first page: %s", png);
  {
    g_autofree char *contents = NULL;
    gsize size = 0;

    g_assert_true (g_file_get_contents (png, &contents, &size, NULL));
    g_assert_cmpuint (size, >, 8);
    g_assert_cmpmem (contents, 8, "\x89PNG\r\n\x1a\n", 8);
  }
}

static void
run_the_ceremony (RotFixture *f)
{
  g_autofree char *pw = g_strdup_printf ("%s\n", f->pw1);
  g_autofree char *both = g_strdup_printf ("%s\n%s\n", f->pw1, f->pw2);
  g_autofree char *load_lines = g_strdup_printf ("%s%s\n%s\n", pw, part_pw_a, part_pw_b);

  add_part (f, part_a, part_pw_a, "part A");
  add_part (f, part_b, part_pw_b, "part B");
  {
    g_auto (RotRun) load = rot_tke (f, load_lines, "cryptounit-mk-load", "1", "2", "--yes", NULL);
    g_auto (RotRun) commit = rot_tke (f, both, "cryptounit-mk-commit", "--yes", NULL);

    rot_assert_ok (load);
    rot_assert_ok (commit);
  }
  {
    /* The emulator refuses set immediate on unit 2: the rotation fails. */
    g_auto (RotRun) rotate = rot_tke (f, pw, "cryptounit-mk-rotate", "--yes", NULL);

    rot_assert_fails (rotate, 1, "Next: tke cryptounit-rm 1 3, then tke cryptounit-mk-setimm");
  }
  rot_restart (f, NULL);
  rot_cli_login (f);
  {
    g_auto (RotRun) rm = rot_tke (f, NULL, "cryptounit-rm", "1", "3", NULL);
    g_auto (RotRun) setimm = rot_tke (f, pw, "cryptounit-mk-setimm", "--yes", NULL);

    rot_assert_ok (rm);
    rot_assert_ok (setimm);
  }
}

static void
test_ceremony_record (void)
{
  const char *const faults[] = { "--fail-setimm-on", "2", NULL };
  RotFixture fixture = { 0 }, *f = &fixture;
  g_autofree char *report_file = NULL, *report = NULL, *trail = NULL, *path = NULL;
  g_autofree char *second_file = NULL, *second = NULL;
  g_autoptr (GDateTime) start = g_date_time_new_now_utc ();
  g_autofree char *since = g_date_time_format_iso8601 (start);

  rot_start (f, 50, faults);
  rot_cli_setup (f);
  run_the_ceremony (f);

  /* The workstation's own trail verifies. */
  path = trail_path (f);
  {
    g_autoptr (TkeAuditTrail) audit = tke_audit_trail_new (path);
    g_autoptr (GError) error = NULL;
    guint n = 0;

    g_assert_true (tke_audit_trail_verify (audit, &n, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (n, >, 10);
  }
  report_file = g_build_filename (f->cli.top, "report.json", NULL);
  {
    g_auto (RotRun) export =
        rot_tke (f, NULL, "report", "export", "--since", since, report_file, NULL);
    g_auto (RotRun) verify = rot_tke (f, NULL, "report", "verify", report_file, NULL);
    g_auto (RotRun) trusted = rot_tke (f, NULL, "report", "verify", "--unit-root",
                                       f->emu->unit_root_file, report_file, NULL);
    g_auto (RotRun) show = rot_tke (f, NULL, "report", "show", report_file, NULL);

    rot_assert_ok (export);
    rot_assert_ok (verify);
    g_assert_nonnull (strstr (verify.out, "The report verifies"));
    /* The units' states after a command are the command answers' own:
     * no query after it, and "report verify" checked them. */
    {
      g_autofree char *contents = NULL;

      g_assert_true (g_file_get_contents (report_file, &contents, NULL, NULL));
      g_assert_cmpuint (n_command_evidence (contents), >, 0);
    }
    rot_assert_ok (trusted);
    rot_assert_ok (show);
    /* The story, in order: the load's parts by check value, the service's
     * messages, the failure on unit 2 and the advice followed. */
    g_assert_nonnull (strstr (show.out, "part A"));
    g_assert_nonnull (strstr (show.out, "check value"));
    g_assert_nonnull (strstr (show.out, TKE_ROTATION_MESSAGE_STARTED));
    g_assert_nonnull (strstr (show.out, TKE_ROTATION_MESSAGE_REWRAPPED));
    g_assert_nonnull (strstr (show.out, "set immediate failed"));
    g_assert_nonnull (strstr (show.out, "advice: remove-switched-then-set-immediate"));
    g_assert_nonnull (strstr (show.out, "(signed by the unit)"));
    /* An Empty register is said to be empty, with no pattern: the
     * service's 64 zeros would be read aloud as if they were a key's. */
    g_assert_nonnull (strstr (show.out, "new Empty, current Valid"));
    g_assert_null (strstr (show.out, "00000000000000000000000000000000"));
    g_assert_nonnull (strstr (show.out, "importer key, fingerprint"));
    g_assert_nonnull (strstr (show.out, "(certified by the unit)"));
    g_assert_cmpuint (strstr (show.out, TKE_ROTATION_MESSAGE_STARTED) - show.out, <,
                      strstr (show.out, TKE_ROTATION_MESSAGE_REWRAPPED) - show.out);
  }
  g_assert_true (g_file_get_contents (report_file, &report, NULL, NULL));
  g_assert_true (g_file_get_contents (path, &trail, NULL, NULL));
  assert_load_steps (report);
  assert_pdf (f, since);

  /* Nothing secret in the trail or the report. */
  assert_no_secret ("the trail", trail, f);
  assert_no_secret ("the report", report, f);

  /* A second, genuine report, for the swapped signature. */
  second_file = g_build_filename (f->cli.top, "report-2.json", NULL);
  {
    g_autofree char *both = g_strdup_printf ("%s\n%s\n", f->pw1, f->pw2);
    g_auto (RotRun) export = rot_tke (f, both, "report", "export", "--sign", second_file, NULL);
    g_auto (RotRun) verify = rot_tke (f, NULL, "report", "verify", second_file, NULL);

    rot_assert_ok (export);
    rot_assert_ok (verify);
    g_assert_nonnull (strstr (verify.out, "Signed by: workstation, Admin One, Admin Two"));
    g_assert_true (g_file_get_contents (second_file, &second, NULL, NULL));
  }
  rot_kill (f);

  /* Offline: no service, no profile, no keyring. */
  {
    g_autoptr (GPtrArray) bare = g_ptr_array_new_with_free_func (g_free);
    g_autofree char *empty = g_build_filename (f->cli.top, "elsewhere", NULL);
    GPtrArray *saved = f->cli.env;

    g_ptr_array_add (bare, g_strdup_printf ("XDG_CONFIG_HOME=%s/config", empty));
    g_ptr_array_add (bare, g_strdup_printf ("XDG_DATA_HOME=%s/data", empty));
    g_ptr_array_add (bare, g_strdup_printf ("XDG_STATE_HOME=%s/state", empty));
    g_ptr_array_add (bare, g_strdup ("LANGUAGE=C"));
    g_ptr_array_add (bare, g_strdup ("LC_ALL=C.UTF-8"));
    f->cli.env = bare;
    {
      g_auto (RotRun) verify = rot_tke (f, NULL, "report", "verify", report_file, NULL);

      rot_assert_ok (verify);
    }
    f->cli.env = saved;
  }

  /* Every forgery is refused, naming the record. */
  {
    guint load_record = record_index_of (report, "\"key_parts\"");
    guint message_record = record_index_of (report, TKE_ROTATION_MESSAGE_REWRAPPED);
    g_autofree char *flipped = flip_in_record (report, message_record, "\"time\":\"20");
    g_autofree char *vp_flipped = flip_in_record (report, load_record, "\"vp\":\"");
    g_autofree char *dropped = drop_record (report, 3);
    g_autofree char *reordered = swap_records (report, 2, 3);
    g_autofree char *resigned = swap_signature (report, second);
    g_autoptr (JsonObject) object = report_object (report);
    g_autofree char *summary_changed = NULL;
    g_autofree char *expected = NULL;
    gint64 first_seq;

    {
      g_autoptr (JsonNode) summary =
          json_from_string (json_object_get_string_member (object, "summary"), NULL);

      first_seq = json_object_get_int_member (json_node_get_object (summary), "first_seq");
    }
    expected = g_strdup_printf ("Record %" G_GINT64_FORMAT ":", first_seq + message_record);
    assert_fails_naming (flipped, expected);
    g_free (expected);
    expected = g_strdup_printf ("Record %" G_GINT64_FORMAT ":", first_seq + load_record);
    assert_fails_naming (vp_flipped, expected);
    g_free (expected);
    expected = g_strdup_printf ("Record %" G_GINT64_FORMAT ": it is missing", first_seq + 3);
    assert_fails_naming (dropped, expected);
    g_free (expected);
    expected = g_strdup_printf ("Record %" G_GINT64_FORMAT ":", first_seq + 3);
    assert_fails_naming (reordered, expected);
    assert_fails_naming (resigned, "signature 1 (workstation)");
    {
      const char *text = json_object_get_string_member (object, "summary");
      g_autofree char *changed = g_strdup (text);
      char *at = strstr (changed, "\"created\":\"20");

      at[strlen ("\"created\":\"20")] ^= 1;
      json_object_set_string_member (object, "summary", changed);
      summary_changed = object_text (object);
    }
    assert_fails_naming (summary_changed, "signature 1 (workstation)");

    /* An importer key the unit never certified, in a report otherwise
     * whole (chained, hashed and signed again by the forger's own
     * workstation key): the unit's evidence names the record. */
    {
      guint importer_record = record_index_of (report, "\"step\":\"importer-key\"");
      g_autofree char *forged = forge_importer_key (report, importer_record);

      g_free (expected);
      expected = g_strdup_printf ("Record %" G_GINT64_FORMAT
                                  ": the importer key recorded is not the one its unit certified",
                                  first_seq + importer_record);
      assert_fails_naming (forged, expected);
      /* The same report, unforged but re-signed by the forger, verifies:
       * it is the importer key that fails, nothing else. */
      {
        g_autofree char *resigned_only = forge_importer_key (report, G_MAXUINT);
        g_autoptr (TkeCeremonyReport) whole = report_from (resigned_only);
        g_autoptr (GError) error = NULL;

        g_assert_true (tke_ceremony_report_verify (whole, NULL, &error));
        g_assert_no_error (error);
      }
    }
  }
  rot_stop (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ceremony-record/whole-ceremony", test_ceremony_record);
  return g_test_run ();
}
