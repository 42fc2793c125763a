/* tke-cli-auto.c: the recovery-unit verbs of the tke CLI
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * auto-init, auto-mk-rotate, auto-recover (auto-mk-recover) and
 * failover-enable: libtke's TkeAutoCeremony does the work and names each
 * step; this file asks and prints.  TKE_AUTO_DELAY_MS (or --delay-ms)
 * shortens auto-mk-rotate's 30 s delay for tests.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>

#include "tke-cli-common.h"
#include "tke-cli-rotation.h"

static void
on_step (TkeAutoCeremony *ceremony, const char *text, gpointer user_data)
{
  g_print ("%s\n", text);
}

static void
print_auto_advice (TkeAutoCeremony *ceremony)
{
  if (tke_auto_ceremony_get_advice_explanation (ceremony) == NULL)
    return;
  g_printerr (_ ("Advice: %s\n"), tke_auto_ceremony_get_advice_explanation (ceremony));
  switch (tke_auto_ceremony_get_advice (ceremony))
    {
    case TKE_RECOVERY_ACTION_ROTATE:
      g_printerr (_ ("Next: tke auto-mk-rotate\n"));
      break;
    case TKE_RECOVERY_ACTION_RESUME_ROTATE:
      g_printerr (_ ("Next: tke cryptounit-mk-rotate (never tke auto-mk-rotate)\n"));
      break;
    case TKE_RECOVERY_ACTION_SET_IMMEDIATE:
    case TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE:
      g_printerr (_ ("Next: tke cryptounit-mk-setimm\n"));
      break;
    case TKE_RECOVERY_ACTION_NONE:
    case TKE_RECOVERY_ACTION_STOP:
    default:
      break;
    }
}

static int delay_ms = -1;

static guint
auto_delay (void)
{
  const char *env = g_getenv ("TKE_AUTO_DELAY_MS");

  if (delay_ms >= 0)
    return (guint) delay_ms;
  if (env != NULL)
    return (guint) strtoul (env, NULL, 10);
  return TKE_AUTO_DEFAULT_DELAY_MS;
}

static gboolean
run_auto (TkeCliContext *ctx, TkeAutoCeremony *ceremony, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (TkeAuditTrail) trail = tke_cli_open_audit_trail ();
  g_autoptr (GError) local_error = NULL;
  gboolean ok;

  /* No ceremony runs unrecorded. */
  if (!tke_audit_trail_begin_auto (trail, ceremony, error))
    return FALSE;
  g_signal_connect (ceremony, "step", G_CALLBACK (on_step), NULL);
  tke_auto_ceremony_set_delay (ceremony, auto_delay ());
  tke_auto_ceremony_run_async (ceremony, NULL, tke_cli_async_done, &result);
  tke_cli_wait (&result);
  ok = tke_auto_ceremony_run_finish (ceremony, result, &local_error);
  tke_audit_trail_end_auto (trail, ceremony, local_error);
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return ok;
}

static int
fail_auto (TkeAutoCeremony *ceremony, GError *error)
{
  int code = tke_cli_fail (error);

  print_auto_advice (ceremony);
  return code;
}

static gboolean
read_number (const char *prompt, int given, guint low, guint high, guint *value, GError **error)
{
  g_autofree char *line = NULL;
  guint64 number;

  if (given > 0)
    line = g_strdup_printf ("%d", given);
  else if ((line = tke_cli_read_line (prompt, error)) == NULL)
    return FALSE;
  if (!g_ascii_string_to_unsigned (line, 10, low, high, &number, NULL))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("Enter a number from %u to %u."), low, high);
      return FALSE;
    }
  *value = (guint) number;
  return TRUE;
}

static int
run_auto_init (int argc, char **argv)
{
  static int signature = 0, revocation = 0;
  const GOptionEntry entries[] = { { "signature", 0, 0, G_OPTION_ARG_INT, &signature,
                                     N_ ("The signature threshold"), N_ ("N") },
                                   { "revocation", 0, 0, G_OPTION_ARG_INT, &revocation,
                                     N_ ("The revocation threshold"), N_ ("N") },
                                   G_OPTION_ENTRY_NULL };
  BEGIN_VERB ("",
              _ ("Initialize the service instance with recovery crypto units: thresholds, the "
                 "selected signature keys as administrators, a random master key made in a "
                 "recovery unit and copied to every unit."),
              entries);
  g_autoptr (GPtrArray) signers = NULL;
  g_autoptr (TkeAutoCeremony) ceremony = NULL;
  guint sig, rev;

  if (!tke_cli_context_load_units (ctx, &error))
    return tke_cli_fail (error);
  g_print (_ ("ENTER SIGNATURE THRESHOLD VALUES\n"));
  if (!read_number (_ ("Enter the number of signatures to be required on commands sent to the "
                       "service instance.  This must be a number between 1 and 8.  To enforce "
                       "dual control, this must be at least 2:"),
                    signature, 1, 8, &sig, &error) ||
      !read_number (_ ("Enter the number of signatures to be required to remove an "
                       "administrator.  This must be a number between 1 and 8:"),
                    revocation, 1, 8, &rev, &error))
    return tke_cli_fail (error);
  if ((signers = tke_cli_make_signers (ctx, 8, &error)) == NULL)
    return tke_cli_fail (error);
  ceremony = tke_auto_ceremony_new (ctx->client, ctx->instance, TKE_AUTO_INIT);
  tke_auto_ceremony_set_signers (ceremony, signers);
  tke_auto_ceremony_set_thresholds (ceremony, sig, rev);
  if (!run_auto (ctx, ceremony, &error))
    return fail_auto (ceremony, error);
  g_print (_ ("OK\nThe selected service instance has been initialized.\n"));
  return TKE_EXIT_OK;
}

static int
run_auto_mk_rotate (int argc, char **argv)
{
  const GOptionEntry entries[] = { { "delay-ms", 0, 0, G_OPTION_ARG_INT, &delay_ms,
                                     N_ ("Wait this long before the rewrap (30000; or "
                                         "TKE_AUTO_DELAY_MS)"),
                                     N_ ("MS") },
                                   G_OPTION_ENTRY_NULL };
  BEGIN_VERB ("",
              _ ("Rotate to a random master key made in a recovery crypto unit. Not allowed when "
                 "the instance has PKCS#11 keystores."),
              entries);
  g_autoptr (GPtrArray) signers = NULL;
  g_autoptr (GListModel) units = NULL;
  g_autoptr (TkeAutoCeremony) ceremony = NULL;
  int code;

  if (!tke_cli_context_load_units (ctx, &error))
    return tke_cli_fail (error);
  tke_cli_warn_interrupted ();
  if (!tke_cli_confirm (ctx, _ ("A random master key will be made in a recovery crypto unit and "
                                "the key storage re-encrypted under it. Do you want to "
                                "continue?")))
    return TKE_EXIT_CANCELLED;
  if ((signers = tke_cli_make_signers (ctx, 8, &error)) == NULL)
    return tke_cli_fail (error);
  ceremony = tke_auto_ceremony_new (ctx->client, ctx->instance, TKE_AUTO_MK_ROTATE);
  tke_auto_ceremony_set_signers (ceremony, signers);
  if (!run_auto (ctx, ceremony, &error))
    return fail_auto (ceremony, error);
  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  code = tke_cli_rotate (ctx, units, signers, "auto-mk-rotate");
  /* Past "Delaying…": only cryptounit-mk-rotate or -setimm may go on. */
  if (code != TKE_EXIT_OK)
    g_printerr (_ ("Do not run tke auto-mk-rotate again until this rotation is complete.\n"));
  return code;
}

static int
run_auto_recover (int argc, char **argv)
{
  BEGIN_VERB ("",
              _ ("Copy the current master key from a recovery crypto unit to the units that lost "
                 "it (a replaced or zeroized unit)."),
              NULL);
  g_autoptr (GPtrArray) signers = NULL;
  g_autoptr (TkeAutoCeremony) ceremony = NULL;

  if (!tke_cli_context_load_units (ctx, &error))
    return tke_cli_fail (error);
  if ((signers = tke_cli_make_signers (ctx, 8, &error)) == NULL)
    return tke_cli_fail (error);
  ceremony = tke_auto_ceremony_new (ctx->client, ctx->instance, TKE_AUTO_RECOVER);
  tke_auto_ceremony_set_signers (ceremony, signers);
  if (!run_auto (ctx, ceremony, &error))
    return fail_auto (ceremony, error);
  g_print (_ ("OK\nThe master key was recovered.\n"));
  return TKE_EXIT_OK;
}

static int
run_failover_enable (int argc, char **argv)
{
  static int total = 0;
  const GOptionEntry entries[] = { { "total", 0, 0, G_OPTION_ARG_INT, &total,
                                     N_ ("The total number of failover crypto units (1 or 2)"),
                                     N_ ("N") },
                                   G_OPTION_ENTRY_NULL };
  BEGIN_VERB ("",
              _ ("Add failover crypto units; they get the administrators, thresholds and master "
                 "key from a recovery unit."),
              entries);
  g_autoptr (GPtrArray) signers = NULL;
  g_autoptr (TkeAutoCeremony) ceremony = NULL;
  guint n;

  if (!tke_cli_context_load_units (ctx, &error))
    return tke_cli_fail (error);
  if (!read_number (_ ("Enter the total number of failover crypto units you would like (max 2):"),
                    total, 1, 2, &n, &error))
    return tke_cli_fail (error);
  if (!tke_cli_confirm (ctx, _ ("Would you like to continue? [y/n]:")))
    return TKE_EXIT_CANCELLED;
  if ((signers = tke_cli_make_signers (ctx, 8, &error)) == NULL)
    return tke_cli_fail (error);
  ceremony = tke_auto_ceremony_new (ctx->client, ctx->instance, TKE_AUTO_FAILOVER);
  tke_auto_ceremony_set_signers (ceremony, signers);
  tke_auto_ceremony_set_failover_total (ceremony, n);
  if (!run_auto (ctx, ceremony, &error))
    return fail_auto (ceremony, error);
  g_print (_ ("OK\nFailover crypto units were added.\n"));
  return TKE_EXIT_OK;
}

/* ---- Control points ------------------------------------------------------ */

static const struct
{
  guint index;
  const char *name;
} known_points[] = {
  { TKE_CONTROL_POINT_EDDSA, "XCP_CPB_ALG_EC_25519" },
  { TKE_CONTROL_POINT_BTC, "XCP_CPB_BTC" },
  { TKE_CONTROL_POINT_ECDSA_OTHER, "XCP_CPB_ECDSA_OTHER" },
};

/* The plug-in's CONTROL POINTS table; @index < 0: the three it names. */
static void
print_control_points (TkeCliContext *ctx, GListModel *units, int index)
{
  g_autofree char *single = index >= 0 ? g_strdup_printf ("CONTROL POINT %d", index) : NULL;

  g_print ("\nCONTROL POINTS\nSERVICE INSTANCE: %s\n", tke_service_instance_get_id (ctx->instance));
  g_print ("%-18s", "CRYPTO UNIT NUM");
  if (single != NULL)
    g_print ("%-23s", single);
  else
    for (gsize k = 0; k < G_N_ELEMENTS (known_points); k++)
      g_print ("%-*s", (int) strlen (known_points[k].name) + 3, known_points[k].name);
  g_print ("\n");
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      g_autofree char *num = g_strdup_printf (
          "%u%s", tke_crypto_unit_get_number (unit),
          tke_crypto_unit_get_unit_type (unit) == TKE_CRYPTO_UNIT_TYPE_RECOVERY ? "*" : "");

      g_print ("%-18s", num);
      if (single != NULL)
        g_print ("%-23s",
                 tke_crypto_unit_has_control_point (unit, (guint) index) ? "Set" : "Not Set");
      else
        for (gsize k = 0; k < G_N_ELEMENTS (known_points); k++)
          g_print ("%-*s", (int) strlen (known_points[k].name) + 3,
                   tke_crypto_unit_has_control_point (unit, known_points[k].index) ? "Set"
                                                                                   : "Not Set");
      g_print ("\n");
    }
}

static int
change_control_point (TkeCliContext *ctx, GListModel *units, guint index, gboolean value)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) signers =
      tke_cli_make_signers (ctx, tke_crypto_units_get_signature_threshold (units), &error);
  g_autoptr (GListModel) after = NULL;

  if (signers == NULL)
    return tke_cli_fail (error);
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      g_autoptr (GAsyncResult) result = NULL;

      tke_service_client_set_control_point_async (ctx->client, unit, index, value, signers, NULL,
                                                  tke_cli_async_done, &result);
      tke_cli_wait (&result);
      if (!tke_service_client_set_control_point_finish (ctx->client, result, &error))
        return tke_cli_fail (error);
    }
  if ((after = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  print_control_points (ctx, after, (int) index);
  return tke_cli_ok ();
}

static int
run_cryptounit_cp (int argc, char **argv)
{
  BEGIN_VERB (_ ("[NUMBER [on|off]]"),
              _ ("Display the control points of the selected crypto units, or set (on) or "
                 "clear (off) the control point NUMBER on them."),
              NULL);
  g_autoptr (GListModel) units = NULL;
  guint64 index;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  if (argc < 2)
    {
      print_control_points (ctx, units, -1);
      return TKE_EXIT_OK;
    }
  if (!g_ascii_string_to_unsigned (argv[1], 10, 0, 127, &index, NULL) ||
      (argc > 2 && !g_str_equal (argv[2], "on") && !g_str_equal (argv[2], "off")))
    {
      g_printerr (_ ("Give a control point number from 0 to 127, then on or off.\n"));
      return TKE_EXIT_USAGE;
    }
  if (argc < 3)
    {
      print_control_points (ctx, units, (int) index);
      return TKE_EXIT_OK;
    }
  return change_control_point (ctx, units, (guint) index, g_str_equal (argv[2], "on"));
}

static int
enable_named (int argc, char **argv, guint index, const char *description)
{
  BEGIN_VERB ("", description, NULL);
  g_autoptr (GListModel) units = NULL;

  if ((units = tke_cli_context_load_selected (ctx, &error)) == NULL)
    return tke_cli_fail (error);
  return change_control_point (ctx, units, index, TRUE);
}

static int
run_cryptounit_cp_btc (int argc, char **argv)
{
  return enable_named (argc, argv, TKE_CONTROL_POINT_BTC,
                       _ ("Enable the BTC signature functions (control point 66) on the selected "
                          "crypto units."));
}

static int
run_cryptounit_cp_eddsa (int argc, char **argv)
{
  return enable_named (argc, argv, TKE_CONTROL_POINT_EDDSA,
                       _ ("Enable EdDSA (control point 55) on the selected crypto units."));
}

static int
run_cryptounit_cp_sig_other (int argc, char **argv)
{
  return enable_named (argc, argv, TKE_CONTROL_POINT_ECDSA_OTHER,
                       _ ("Enable non-ECDSA, non-EdDSA elliptic curve signature algorithms "
                          "(control point 67) on the selected crypto units."));
}

static const TkeCliVerb auto_verbs[] = {
  { "auto-init", N_ ("Initialize the instance with recovery crypto units"), run_auto_init },
  { "auto-mk-rotate", N_ ("Rotate to a random master key made in a recovery unit"),
    run_auto_mk_rotate },
  { "auto-recover", N_ ("Copy the master key from a recovery unit to units that lost it"),
    run_auto_recover },
  { "auto-mk-recover", N_ ("The same as auto-recover"), run_auto_recover },
  { "failover-enable", N_ ("Add failover crypto units"), run_failover_enable },
  { "cryptounit-cp", N_ ("Display or change a control point by number"), run_cryptounit_cp },
  { "cryptounit-cp-btc", N_ ("Enable the BTC signature functions"), run_cryptounit_cp_btc },
  { "cryptounit-cp-eddsa", N_ ("Enable EdDSA"), run_cryptounit_cp_eddsa },
  { "cryptounit-cp-sig-other", N_ ("Enable non-EC, non-Edwards DSA signature functions"),
    run_cryptounit_cp_sig_other },
};

const TkeCliVerbTable tke_cli_auto_verbs = { auto_verbs, G_N_ELEMENTS (auto_verbs) };
