/* tke-precheck.c: the pre-checks before a master key rotation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Rotate must refuse before anything is touched when the units disagree,
 * and say which check failed in a sentence the administrator can act on
 * (DESIGN §5).  The functions here are pure: they look at freshly queried
 * TkeCryptoUnit objects only, so the unit tests walk every check, and the
 * same data gives `tke cryptounit-compare` its marks.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-error.h"
#include "tke-precheck.h"

static TkePrecheck
fail (GError **error, TkePrecheck check, char *message)
{
  g_set_error_literal (error, TKE_ERROR,
                       check == TKE_PRECHECK_TOKEN_EXPIRED ? TKE_ERROR_AUTH_EXPIRED
                                                           : TKE_ERROR_PRECHECK_FAILED,
                       message);
  g_free (message);
  return check;
}

static gboolean
is_selected (GPtrArray *selected, TkeCryptoUnit *unit)
{
  for (guint i = 0; i < selected->len; i++)
    if (g_strcmp0 (tke_crypto_unit_get_hsm_id (selected->pdata[i]),
                   tke_crypto_unit_get_hsm_id (unit)) == 0 &&
        g_strcmp0 (tke_crypto_unit_get_instance_id (selected->pdata[i]),
                   tke_crypto_unit_get_instance_id (unit)) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
has_admin (TkeCryptoUnit *unit, const char *ski)
{
  GListModel *admins = tke_crypto_unit_get_administrators (unit);

  for (guint i = 0; i < g_list_model_get_n_items (admins); i++)
    {
      g_autoptr (TkeAdministrator) admin = g_list_model_get_item (admins, i);

      if (g_strcmp0 (tke_administrator_get_ski (admin), ski) == 0)
        return TRUE;
    }
  return FALSE;
}

/**
 * tke_precheck_common_administrators:
 * @units: (element-type TkeCryptoUnit): the units
 *
 * The administrators every unit has, whose signatures all of @units accept.
 *
 * Returns: (transfer full) (element-type utf8): the SKIs installed in every unit
 */
GPtrArray *
tke_precheck_common_administrators (GPtrArray *units)
{
  GPtrArray *common = g_ptr_array_new_with_free_func (g_free);
  GListModel *first;

  if (units->len == 0)
    return common;
  first = tke_crypto_unit_get_administrators (units->pdata[0]);
  for (guint a = 0; a < g_list_model_get_n_items (first); a++)
    {
      g_autoptr (TkeAdministrator) admin = g_list_model_get_item (first, a);
      const char *ski = tke_administrator_get_ski (admin);
      gboolean everywhere = TRUE;

      for (guint u = 1; u < units->len && everywhere; u++)
        everywhere = has_admin (units->pdata[u], ski);
      if (everywhere)
        g_ptr_array_add (common, g_strdup (ski));
    }
  return common;
}

/**
 * tke_precheck_unit_takes_part:
 * @unit: a crypto unit of the service instance, freshly queried
 *
 * Whether a rotation of the instance must include @unit.  The documented
 * rule (the pre-checks of "Rotating master keys", DOCS
 * rotate-master-key-key-files.md and the troubleshooting pages) is that
 * *all* crypto units of the instance are selected; recovery units are
 * exempt only where they are "not applicable and can be ignored"
 * (instance-initialization-mode.md: instances set up with smart cards),
 * which means they hold no master key.  So every operational unit takes
 * part, and a recovery or failover unit does as soon as either register
 * holds a key, or its registers are unknown: a rotation without it would
 * leave it on the old key.
 *
 * Returns: %TRUE if a rotation must include @unit
 */
gboolean
tke_precheck_unit_takes_part (TkeCryptoUnit *unit)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (unit), TRUE);

  if (tke_crypto_unit_get_unit_type (unit) == TKE_CRYPTO_UNIT_TYPE_OPERATIONAL ||
      !tke_crypto_unit_get_reachable (unit))
    return TRUE;
  return tke_crypto_unit_get_current_register_state (unit) != TKE_CURRENT_REGISTER_EMPTY ||
         tke_crypto_unit_get_new_register_state (unit) != TKE_NEW_REGISTER_EMPTY;
}

static TkePrecheck
check_selection (GListModel *instance_units, GPtrArray *selected, GError **error)
{
  const char *instance = tke_crypto_unit_get_instance_id (selected->pdata[0]);

  for (guint i = 1; i < selected->len; i++)
    if (g_strcmp0 (tke_crypto_unit_get_instance_id (selected->pdata[i]), instance) != 0)
      return fail (error, TKE_PRECHECK_SEVERAL_INSTANCES,
                   g_strdup (_ ("The selected crypto units belong to more than one service "
                                "instance. Select the units of one instance only.")));
  for (guint i = 0; instance_units != NULL && i < g_list_model_get_n_items (instance_units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (instance_units, i);

      if (g_strcmp0 (tke_crypto_unit_get_instance_id (unit), instance) != 0 ||
          is_selected (selected, unit) || !tke_precheck_unit_takes_part (unit))
        continue;
      if (tke_crypto_unit_get_unit_type (unit) == TKE_CRYPTO_UNIT_TYPE_OPERATIONAL)
        return fail (error, TKE_PRECHECK_NOT_ALL_UNITS,
                     g_strdup_printf (_ ("Crypto unit %u of the service instance is not selected. "
                                         "Select all operational units of the instance."),
                                      tke_crypto_unit_get_number (unit)));
      return fail (
          error, TKE_PRECHECK_NOT_ALL_UNITS,
          g_strdup_printf (_ ("Crypto unit %u of the service instance is not selected. It "
                              "is a %s unit that holds the master key, and a rotation "
                              "without it would leave it on the old key: select it too."),
                           tke_crypto_unit_get_number (unit),
                           tke_crypto_unit_type_to_string (tke_crypto_unit_get_unit_type (unit))));
    }
  for (guint i = 0; i < selected->len; i++)
    if (!tke_crypto_unit_get_reachable (selected->pdata[i]))
      return fail (error, TKE_PRECHECK_UNREACHABLE,
                   g_strdup_printf (_ ("Crypto unit %u cannot be reached. Refresh when it is "
                                       "reachable again."),
                                    tke_crypto_unit_get_number (selected->pdata[i])));
  return TKE_PRECHECK_OK;
}

static TkePrecheck
check_configuration (GPtrArray *selected, GError **error)
{
  guint threshold = tke_crypto_unit_get_signature_threshold (selected->pdata[0]);
  g_autoptr (GPtrArray) common = NULL;

  for (guint i = 0; i < selected->len; i++)
    if (tke_crypto_unit_get_imprint_mode (selected->pdata[i]))
      return fail (error, TKE_PRECHECK_IMPRINT_MODE,
                   g_strdup_printf (_ ("Crypto unit %u is in imprint mode. Install administrators "
                                       "and set its thresholds first."),
                                    tke_crypto_unit_get_number (selected->pdata[i])));
  for (guint i = 1; i < selected->len; i++)
    if (tke_crypto_unit_get_signature_threshold (selected->pdata[i]) != threshold)
      return fail (error, TKE_PRECHECK_THRESHOLDS,
                   g_strdup_printf (_ ("Crypto unit %u has another signature threshold than crypto "
                                       "unit %u. Set the same thresholds on all units."),
                                    tke_crypto_unit_get_number (selected->pdata[i]),
                                    tke_crypto_unit_get_number (selected->pdata[0])));
  common = tke_precheck_common_administrators (selected);
  if (common->len < threshold)
    return fail (
        error, TKE_PRECHECK_ADMINISTRATORS,
        g_strdup_printf (_ ("Only %u administrators are installed in every selected crypto "
                            "unit, fewer than the signature threshold %u. Install the same "
                            "administrators in all units."),
                         common->len, threshold));
  return TKE_PRECHECK_OK;
}

static TkePrecheck
check_registers (GPtrArray *selected, GError **error)
{
  const char *current_vp = tke_crypto_unit_get_current_register_vp (selected->pdata[0]);
  const char *new_vp = tke_crypto_unit_get_new_register_vp (selected->pdata[0]);

  for (guint i = 0; i < selected->len; i++)
    {
      TkeCryptoUnit *unit = selected->pdata[i];

      if (tke_crypto_unit_get_current_register_state (unit) != TKE_CURRENT_REGISTER_VALID ||
          g_strcmp0 (tke_crypto_unit_get_current_register_vp (unit), current_vp) != 0)
        return fail (error, TKE_PRECHECK_CURRENT_REGISTER,
                     g_strdup_printf (_ ("The current master key register of crypto unit %u is not "
                                         "Valid with the same verification pattern as the others."),
                                      tke_crypto_unit_get_number (unit)));
    }
  for (guint i = 0; i < selected->len; i++)
    {
      TkeCryptoUnit *unit = selected->pdata[i];

      if (tke_crypto_unit_get_new_register_state (unit) != TKE_NEW_REGISTER_FULL_COMMITTED ||
          g_strcmp0 (tke_crypto_unit_get_new_register_vp (unit), new_vp) != 0 ||
          g_strcmp0 (new_vp, current_vp) == 0)
        return fail (
            error, TKE_PRECHECK_NEW_REGISTER,
            g_strdup_printf (_ ("The new master key register of crypto unit %u is not Full "
                                "Committed with the same new verification pattern as the "
                                "others. Load and commit the same new key on all units."),
                             tke_crypto_unit_get_number (unit)));
    }
  return TKE_PRECHECK_OK;
}

/**
 * tke_precheck_rotation:
 * @instance_units: (nullable): every unit of the service instance, to check
 *   that all operational ones are selected
 * @selected: (element-type TkeCryptoUnit): the selected units, freshly queried
 * @token_expiration: the login token's expiry (Unix seconds), or 0 if unknown
 * @error: the failed check's sentence, in %TKE_ERROR_PRECHECK_FAILED
 *   (%TKE_ERROR_AUTH_EXPIRED for the token)
 *
 * Runs the checks before a rotation, in the order of #TkePrecheck: nothing
 * is changed when one fails, and its sentence says what to do.
 *
 * Returns: %TKE_PRECHECK_OK, or the first check that failed
 */
TkePrecheck
tke_precheck_rotation (GListModel *instance_units,
                       GPtrArray *selected,
                       gint64 token_expiration,
                       GError **error)
{
  TkePrecheck check;

  g_return_val_if_fail (selected != NULL, TKE_PRECHECK_NO_UNITS);

  if (selected->len == 0)
    return fail (error, TKE_PRECHECK_NO_UNITS,
                 g_strdup (_ ("No crypto unit is selected. Select all units of the service "
                              "instance with “tke cryptounit-add”.")));
  if (token_expiration > 0 && token_expiration <= g_get_real_time () / G_USEC_PER_SEC)
    return fail (error, TKE_PRECHECK_TOKEN_EXPIRED,
                 g_strdup (_ ("The login token has expired. Log in again, then rotate.")));
  if ((check = check_selection (instance_units, selected, error)) != TKE_PRECHECK_OK ||
      (check = check_configuration (selected, error)) != TKE_PRECHECK_OK)
    return check;
  return check_registers (selected, error);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

static char *
admins_key (TkeCryptoUnit *unit)
{
  GListModel *admins = tke_crypto_unit_get_administrators (unit);
  g_autoptr (GPtrArray) skis = g_ptr_array_new ();

  for (guint i = 0; i < g_list_model_get_n_items (admins); i++)
    {
      g_autoptr (TkeAdministrator) admin = g_list_model_get_item (admins, i);

      g_ptr_array_add (skis, (gpointer) tke_administrator_get_ski (admin));
    }
  g_ptr_array_sort (skis, compare_strings);
  g_ptr_array_add (skis, NULL);
  return g_strjoinv (",", (char **) skis->pdata);
}

static char *
field_value (TkeCryptoUnit *unit, TkeCompareField field)
{
  switch (field)
    {
    case TKE_COMPARE_IMPRINT_MODE:
      return g_strdup (tke_crypto_unit_get_imprint_mode (unit) ? "1" : "0");
    case TKE_COMPARE_SIGNATURE_THRESHOLD:
      return g_strdup_printf ("%u", tke_crypto_unit_get_signature_threshold (unit));
    case TKE_COMPARE_REVOCATION_THRESHOLD:
      return g_strdup_printf ("%u", tke_crypto_unit_get_revocation_threshold (unit));
    case TKE_COMPARE_ADMINISTRATORS:
      return admins_key (unit);
    case TKE_COMPARE_CURRENT_REGISTER:
      return g_strdup_printf ("%d %s", tke_crypto_unit_get_current_register_state (unit),
                              tke_crypto_unit_get_current_register_vp (unit));
    case TKE_COMPARE_NEW_REGISTER:
    default:
      return g_strdup_printf ("%d %s", tke_crypto_unit_get_new_register_state (unit),
                              tke_crypto_unit_get_new_register_vp (unit));
    }
}

/* Whether unit @index's value is not the one most units hold.  With a tie
 * (e.g. 2 units that disagree) every unit is marked: no side is "right". */
static gboolean
field_differs (GPtrArray *units, guint index, TkeCompareField field)
{
  g_autofree char *mine = field_value (units->pdata[index], field);
  guint mine_count = 0, best_other = 0;

  for (guint i = 0; i < units->len; i++)
    {
      g_autofree char *value = field_value (units->pdata[i], field);
      guint count = 0;

      if (g_strcmp0 (value, mine) == 0)
        {
          mine_count++;
          continue;
        }
      for (guint j = 0; j < units->len; j++)
        {
          g_autofree char *other = field_value (units->pdata[j], field);

          count += g_strcmp0 (other, value) == 0;
        }
      best_other = MAX (best_other, count);
    }
  return best_other > 0 && mine_count <= best_other;
}

/**
 * tke_precheck_compare_unit:
 * @units: (element-type TkeCryptoUnit): the units to compare
 * @index: the unit of @units to report on
 *
 * Compares one unit with the others, so that a view can point at the values
 * that set it apart before a ceremony.
 *
 * Returns: the fields in which unit @index differs from most of the others
 */
TkeCompareField
tke_precheck_compare_unit (GPtrArray *units, guint index)
{
  static const TkeCompareField fields[] = {
    TKE_COMPARE_IMPRINT_MODE,   TKE_COMPARE_SIGNATURE_THRESHOLD, TKE_COMPARE_REVOCATION_THRESHOLD,
    TKE_COMPARE_ADMINISTRATORS, TKE_COMPARE_CURRENT_REGISTER,    TKE_COMPARE_NEW_REGISTER,
  };
  TkeCompareField differs = TKE_COMPARE_NONE;

  g_return_val_if_fail (units != NULL && index < units->len, TKE_COMPARE_NONE);

  for (gsize f = 0; f < G_N_ELEMENTS (fields); f++)
    if (field_differs (units, index, fields[f]))
      differs |= fields[f];
  return differs;
}
