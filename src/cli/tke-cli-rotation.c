/* tke-cli-rotation.c: compare the units, rotate the master key, and set
 * immediate when (and only when) the recovery advice says so
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The decisions are libtke's (tke_precheck_rotation, tke_recovery_advise,
 * TkeRotation); this file prints them and the exact command to run next.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-cli-cards.h"
#include "tke-cli-common.h"
#include "tke-cli-rotation.h"

#define VP_SHOWN 16

/* ---- The journal and the advice ------------------------------------------ */

static char *
unit_numbers (GPtrArray *units)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < units->len; i++)
    g_string_append_printf (text, "%s%u", i ? " " : "",
                            tke_crypto_unit_get_number (units->pdata[i]));
  return g_string_free (text, FALSE);
}

static void
print_advice (TkeRotation *rotation)
{
  g_autofree char *switched = NULL;

  if (!tke_rotation_has_advice (rotation))
    return;
  g_printerr (_ ("Advice: %s\n"), tke_rotation_get_advice_explanation (rotation));
  switch (tke_rotation_get_advice (rotation))
    {
    case TKE_RECOVERY_ACTION_ROTATE:
    case TKE_RECOVERY_ACTION_RESUME_ROTATE:
      g_printerr (_ ("Next: tke cryptounit-mk-rotate\n"));
      break;
    case TKE_RECOVERY_ACTION_SET_IMMEDIATE:
      g_printerr (_ ("Next: tke cryptounit-mk-setimm\n"));
      break;
    case TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE:
      switched = unit_numbers (tke_rotation_get_switched_units (rotation));
      g_printerr (_ ("Next: tke cryptounit-rm %s, then tke cryptounit-mk-setimm\n"), switched);
      break;
    case TKE_RECOVERY_ACTION_STOP:
      g_printerr (_ ("Next: do nothing until you know why the crypto units differ "
                     "(tke cryptounit-compare).\n"));
      break;
    case TKE_RECOVERY_ACTION_NONE:
    default:
      break;
    }
}

/* With the token expired nothing can be read: libtke says where the
 * rotation resumes from what it saw last and from the journal. */
static void
print_resume_after_login (TkeRotationStatus *status)
{
  g_autoptr (TkeJournal) journal = tke_journal_new (NULL);
  g_autoptr (TkeJournalRecord) interrupted = tke_journal_find_interrupted (journal, NULL);

  switch (tke_ceremony_resume_action (status, interrupted))
    {
    case TKE_RECOVERY_ACTION_SET_IMMEDIATE:
      g_printerr (_ ("Next: tke login, then tke cryptounit-mk-setimm (the key storage is already "
                     "rewrapped)\n"));
      break;
    case TKE_RECOVERY_ACTION_RESUME_ROTATE:
      g_printerr (_ ("Next: tke login, then tke cryptounit-mk-rotate (it resumes)\n"));
      break;
    default:
      g_printerr (_ ("Next: tke login, then tke cryptounit-mk-rotate\n"));
      break;
    }
}

static int
fail_with_advice (TkeRotation *rotation, GError *error)
{
  int code = tke_cli_fail (error);

  if (g_error_matches (error, TKE_ERROR, TKE_ERROR_AUTH_EXPIRED))
    print_resume_after_login (tke_rotation_get_status (rotation));
  else
    print_advice (rotation);
  return code;
}

/* ---- Progress ------------------------------------------------------------ */

static void
on_message (TkeRotation *rotation, const char *text, gpointer user_data)
{
  g_print ("%s\n", text);
}

static void
on_progress (TkeRotation *rotation, guint64 done, guint64 total, gpointer user_data)
{
  guint64 *last = user_data;
  g_autofree char *done_text = g_strdup_printf ("%" G_GUINT64_FORMAT, done);
  g_autofree char *total_text = g_strdup_printf ("%" G_GUINT64_FORMAT, total);

  if (done == *last || total == 0)
    return;
  *last = done;
  g_print (_ ("Rewrapped %s of %s keys\n"), done_text, total_text);
}

static void
on_unit_done (TkeRotation *rotation, TkeCryptoUnit *unit, const GError *error, gpointer user_data)
{
  if (error == NULL)
    g_print (_ ("Crypto unit %u: set immediate OK\n"), tke_crypto_unit_get_number (unit));
  else
    g_print (_ ("Crypto unit %u: set immediate FAILED: %s\n"), tke_crypto_unit_get_number (unit),
             error->message);
}

static TkeRotation *
make_rotation (TkeCliContext *ctx, guint64 *last_progress)
{
  g_autoptr (GPtrArray) selected = tke_service_instance_get_selected_units (ctx->instance);
  g_autoptr (TkeJournal) journal = tke_journal_new (NULL);
  TkeRotation *rotation = tke_rotation_new (ctx->client, ctx->instance, selected);

  tke_rotation_set_journal (rotation, journal);
  g_signal_connect (rotation, "message", G_CALLBACK (on_message), NULL);
  g_signal_connect (rotation, "progress", G_CALLBACK (on_progress), last_progress);
  g_signal_connect (rotation, "unit-done", G_CALLBACK (on_unit_done), NULL);
  return rotation;
}

static void
print_tables (TkeCliContext *ctx, GListModel *units)
{
  g_print ("\n");
  tke_cli_print_register_tables (tke_service_instance_get_id (ctx->instance), units);
}

/* Set immediate takes one administrator's signature on each unit: a
 * signature key file, or a card in reader 1 with --cards. */
static gboolean use_cards;

static const GOptionEntry card_entries[] = {
  { "cards", 0, 0, G_OPTION_ARG_NONE, &use_cards,
    N_ ("Sign set immediate with an administrator card in reader 1"), NULL },
  { NULL }
};

static GPtrArray *
make_setimm_signers (TkeCliContext *ctx, GError **error)
{
  if (use_cards)
    return tke_cli_make_card_signers (1);
  return tke_cli_make_signers (ctx, 1, error);
}

/* ---- cryptounit-mk-rotate -------------------------------------------------- */

static int
run_mk_rotate (int argc, char **argv)
{
  BEGIN_VERB ("",
              _ ("Rotate the master key: re-encrypt the key storage under the committed new master "
                 "key, then set it immediate on every selected crypto unit."),
              card_entries);
  g_autoptr (GListModel) units = NULL;
  g_autoptr (GPtrArray) signers = NULL;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    {
      int code = tke_cli_fail (error);

      if (g_error_matches (error, TKE_ERROR, TKE_ERROR_AUTH_EXPIRED))
        print_resume_after_login (NULL);
      return code;
    }
  tke_cli_warn_interrupted ();
  if (!tke_cli_confirm (ctx, _ ("The key storage will be re-encrypted under the new master key, "
                                "which then becomes current on every selected crypto unit. "
                                "Do you want to continue?")))
    return TKE_EXIT_CANCELLED;
  if ((signers = make_setimm_signers (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  return tke_cli_rotate (ctx, units, signers, "rotate");
}

/* The rotation of the selected units, for cryptounit-mk-rotate and after
 * auto-mk-rotate's delay. */
int
tke_cli_rotate (TkeCliContext *ctx, GListModel *units, GPtrArray *signers, const char *kind)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeRotation) rotation = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeAuditTrail) trail = tke_cli_open_audit_trail ();
  guint64 last_progress = G_MAXUINT64;
  gboolean ok;

  rotation = make_rotation (ctx, &last_progress);
  tke_rotation_set_signers (rotation, signers);
  if (!tke_audit_trail_begin_rotation (trail, rotation, kind, &error))
    return tke_cli_fail (error);
  tke_rotation_run_async (rotation, NULL, tke_cli_async_done, &result);
  tke_cli_wait (&result);
  ok = tke_rotation_run_finish (rotation, result, &error);
  tke_audit_trail_end_rotation (trail, rotation, error);
  if (!ok)
    return fail_with_advice (rotation, error);
  print_tables (ctx, units);
  return tke_cli_ok ();
}

/* ---- cryptounit-mk-setimm -------------------------------------------------- */

static int
first_activation (TkeCliContext *ctx, GListModel *units)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCeremony) ceremony =
      tke_ceremony_new (ctx->client, TKE_CEREMONY_SET_IMMEDIATE, units);
  g_autoptr (GPtrArray) signers = NULL;

  if (!tke_cli_confirm (ctx, _ ("Set immediate: the committed new master key becomes the current "
                                "one. Do you want to continue?")))
    return TKE_EXIT_CANCELLED;
  if ((signers = make_setimm_signers (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  tke_ceremony_set_signers (ceremony, signers);
  if (!tke_cli_run_ceremony (ctx, ceremony, &error))
    return tke_cli_fail (error);
  print_tables (ctx, units);
  return tke_cli_ok ();
}

static int
refuse (TkeRotation *rotation)
{
  g_autofree char *switched = NULL;

  g_printerr (_ ("FAILED\nSet immediate is not safe now: %s\n"),
              tke_rotation_get_advice_explanation (rotation));
  switch (tke_rotation_get_advice (rotation))
    {
    case TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE:
      switched = unit_numbers (tke_rotation_get_switched_units (rotation));
      g_printerr (_ ("Crypto units %s already use the new master key. Remove them from the "
                     "selection first: tke cryptounit-rm %s\n"),
                  switched, switched);
      break;
    default:
      print_advice (rotation);
      break;
    }
  return TKE_EXIT_FAILED;
}

static int
run_mk_setimm (int argc, char **argv)
{
  BEGIN_VERB ("",
              _ ("Set immediate: make the committed new master key current on the selected crypto "
                 "units. Allowed after a rotation stopped once the key storage is rewrapped, and "
                 "on first activation; refused whenever the recovery advice forbids it."),
              card_entries);
  g_autoptr (GListModel) units = NULL;
  g_autoptr (GPtrArray) signers = NULL;
  g_autoptr (TkeRotation) rotation = NULL;
  g_autoptr (GAsyncResult) advised = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeAuditTrail) trail = tke_cli_open_audit_trail ();
  guint64 last_progress = G_MAXUINT64;
  TkeRecoveryAction action;
  gboolean ok;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  tke_cli_warn_interrupted ();
  rotation = make_rotation (ctx, &last_progress);
  tke_rotation_advise_async (rotation, NULL, tke_cli_async_done, &advised);
  tke_cli_wait (&advised);
  action = tke_rotation_advise_finish (rotation, advised, &error);
  if (error != NULL)
    return tke_cli_fail (error);
  if (action != TKE_RECOVERY_ACTION_SET_IMMEDIATE)
    {
      /* libtke's rule, the same the GUI's button follows. */
      if (tke_ceremony_is_first_activation (units, tke_service_instance_get_units (ctx->instance),
                                            NULL))
        return first_activation (ctx, units);
      return refuse (rotation);
    }
  g_print (_ ("Advice: %s\n"), tke_rotation_get_advice_explanation (rotation));
  if (!tke_cli_confirm (ctx, _ ("The key storage is already rewrapped to the new master key, so it "
                                "is safe to continue past this warning. Do you want to continue?")))
    return TKE_EXIT_CANCELLED;
  if ((signers = make_setimm_signers (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  tke_rotation_set_signers (rotation, signers);
  if (!tke_audit_trail_begin_rotation (trail, rotation, "recover", &error))
    return tke_cli_fail (error);
  tke_rotation_recover_async (rotation, NULL, tke_cli_async_done, &result);
  tke_cli_wait (&result);
  ok = tke_rotation_recover_finish (rotation, result, &error);
  tke_audit_trail_end_rotation (trail, rotation, error);
  if (!ok)
    return fail_with_advice (rotation, error);
  print_tables (ctx, units);
  return tke_cli_ok ();
}

/* ---- cryptounit-compare ---------------------------------------------------- */

static const char *
mark (TkeCompareField differs, TkeCompareField field)
{
  return (differs & field) ? "*" : " ";
}

static char *
register_text (const char *state, const char *vp)
{
  return g_strdup_printf ("%s %.*s…", state, VP_SHOWN, vp);
}

static void
print_compare_row (GPtrArray *units, guint i)
{
  TkeCryptoUnit *unit = units->pdata[i];
  TkeCompareField d = tke_precheck_compare_unit (units, i);
  g_autofree char *current = register_text (
      tke_current_register_state_to_string (tke_crypto_unit_get_current_register_state (unit)),
      tke_crypto_unit_get_current_register_vp (unit));
  g_autofree char *new_text = register_text (
      tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit)),
      tke_crypto_unit_get_new_register_vp (unit));
  g_autofree char *imprint =
      g_strdup_printf ("%s%s", tke_crypto_unit_get_imprint_mode (unit) ? "yes" : "no",
                       mark (d, TKE_COMPARE_IMPRINT_MODE));
  g_autofree char *sig = g_strdup_printf ("%u%s", tke_crypto_unit_get_signature_threshold (unit),
                                          mark (d, TKE_COMPARE_SIGNATURE_THRESHOLD));
  g_autofree char *rev = g_strdup_printf ("%u%s", tke_crypto_unit_get_revocation_threshold (unit),
                                          mark (d, TKE_COMPARE_REVOCATION_THRESHOLD));
  g_autofree char *admins =
      g_strdup_printf ("%u%s", g_list_model_get_n_items (tke_crypto_unit_get_administrators (unit)),
                       mark (d, TKE_COMPARE_ADMINISTRATORS));

  g_print ("%-9u%-9s%-6s%-6s%-8s%s%-36s%s%s\n", tke_crypto_unit_get_number (unit), imprint, sig,
           rev, admins, mark (d, TKE_COMPARE_CURRENT_REGISTER), current,
           mark (d, TKE_COMPARE_NEW_REGISTER), new_text);
}

static int
run_compare (int argc, char **argv)
{
  BEGIN_VERB ("",
              _ ("Compare the selected crypto units: imprint mode, thresholds, administrators and "
                 "master key registers, and run the rotation pre-checks. A * marks a value that "
                 "differs from the other units."),
              NULL);
  g_autoptr (GListModel) units = NULL;
  g_autoptr (GPtrArray) selected = NULL;
  g_autoptr (GPtrArray) common = NULL;
  g_autoptr (GError) check_error = NULL;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  selected = tke_service_instance_get_selected_units (ctx->instance);
  g_print ("SERVICE INSTANCE: %s\n", tke_service_instance_get_id (ctx->instance));
  g_print ("%-9s%-9s%-6s%-6s%-8s %-36s %s\n", "UNIT", "IMPRINT", "SIG", "REV", "ADMINS",
           "CURRENT MASTER KEY", "NEW MASTER KEY");
  for (guint i = 0; i < selected->len; i++)
    print_compare_row (selected, i);
  common = tke_precheck_common_administrators (selected);
  g_print (_ ("\nAdministrators installed in every selected unit: %u\n"), common->len);
  for (guint i = 0; i < common->len; i++)
    g_print ("  %s\n", (char *) common->pdata[i]);
  if (tke_precheck_rotation (tke_service_instance_get_units (ctx->instance), selected,
                             tke_service_client_get_token_expiration (ctx->client),
                             &check_error) == TKE_PRECHECK_OK)
    g_print (_ ("Rotation pre-checks: passed\n"));
  else
    {
      /* Scripts test the exit status before they rotate. */
      g_print (_ ("Rotation pre-checks: %s\n"), check_error->message);
      return TKE_EXIT_FAILED;
    }
  return TKE_EXIT_OK;
}

static const TkeCliVerb rotation_verbs[] = {
  { "cryptounit-compare", N_ ("Compare the selected crypto units and run the rotation pre-checks"),
    run_compare },
  { "cryptounit-mk-rotate", N_ ("Rotate the master key of the selected crypto units"),
    run_mk_rotate },
  { "cryptounit-mk-setimm", N_ ("Set immediate, when the recovery advice allows it"),
    run_mk_setimm },
};

const TkeCliVerbTable tke_cli_rotation_verbs = { rotation_verbs, G_N_ELEMENTS (rotation_verbs) };
