/* tke-instance-setup.c: setting an instance up from imprint mode, and the
 * rules on administrators and thresholds
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A new instance (or one zeroized) is in imprint mode: its units take
 * administrators without signatures, then the signature thresholds, which
 * take it out of imprint mode, then the first master key is loaded,
 * committed and set immediate.  Where a set-up stands is read from the
 * units alone (tke_instance_setup_get_step()), never remembered, so that
 * a front end that restarts resumes at the right step.  The limits on
 * administrators and thresholds the crypto units enforce are checked here
 * first, so that the GUI and the CLI refuse with the same sentence before
 * anything is signed.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-ceremony-rules.h"
#include "tke-error.h"
#include "tke-instance-setup.h"

static guint
n_admins (TkeCryptoUnit *unit)
{
  return g_list_model_get_n_items (tke_crypto_unit_get_administrators (unit));
}

static gboolean
has_admin (TkeCryptoUnit *unit, const char *ski)
{
  GListModel *admins = tke_crypto_unit_get_administrators (unit);

  for (guint i = 0; i < g_list_model_get_n_items (admins); i++)
    {
      g_autoptr (TkeAdministrator) admin = g_list_model_get_item (admins, i);

      if (g_ascii_strcasecmp (tke_administrator_get_ski (admin), ski) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Whether every unit has the administrators of the first (by SKI). */
static gboolean
same_admins (GListModel *units)
{
  g_autoptr (TkeCryptoUnit) first = g_list_model_get_item (units, 0);
  GListModel *admins;

  if (first == NULL)
    return TRUE;
  admins = tke_crypto_unit_get_administrators (first);
  for (guint i = 1; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (n_admins (unit) != n_admins (first))
        return FALSE;
      for (guint j = 0; j < g_list_model_get_n_items (admins); j++)
        {
          g_autoptr (TkeAdministrator) admin = g_list_model_get_item (admins, j);

          if (!has_admin (unit, tke_administrator_get_ski (admin)))
            return FALSE;
        }
    }
  return TRUE;
}

static void
set_description (char **description, char *text)
{
  if (description != NULL)
    *description = text;
  else
    g_free (text);
}

static TkeSetupStep
imprint_step (GListModel *units, char **description)
{
  guint n = g_list_model_get_n_items (units);
  guint fewest = G_MAXUINT;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      fewest = MIN (fewest, n_admins (unit));
    }
  if (fewest == 0 || !same_admins (units))
    {
      set_description (
          description,
          g_strdup (_ ("The crypto units are in imprint mode. Install the administrators: each "
                       "inserts their card in reader 1 and enters its PIN. No signatures are "
                       "needed yet.")));
      return TKE_SETUP_STEP_ADMINISTRATORS;
    }
  set_description (
      description,
      g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                    "%u administrator is installed on every crypto unit. Add more, "
                                    "or set the signature thresholds: that takes the units out of "
                                    "imprint mode.",
                                    "%u administrators are installed on every crypto unit. Add "
                                    "more, or set the signature thresholds: that takes the units "
                                    "out of imprint mode.",
                                    fewest),
                       fewest));
  return TKE_SETUP_STEP_THRESHOLDS;
}

static TkeSetupStep
register_step (GListModel *units, char **description)
{
  guint n = g_list_model_get_n_items (units);
  gboolean all_valid = TRUE, uncommitted = FALSE, committed = FALSE;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      TkeNewRegisterState state = tke_crypto_unit_get_new_register_state (unit);

      all_valid &= tke_crypto_unit_get_current_register_state (unit) == TKE_CURRENT_REGISTER_VALID;
      uncommitted |= state == TKE_NEW_REGISTER_FULL_UNCOMMITTED;
      committed |= state == TKE_NEW_REGISTER_FULL_COMMITTED;
    }
  if (all_valid)
    {
      set_description (description, g_strdup (_ ("Every selected crypto unit has a Valid current "
                                                 "master key: the instance is set up.")));
      return TKE_SETUP_STEP_DONE;
    }
  if (uncommitted)
    {
      set_description (description,
                       g_strdup (_ ("The first master key is loaded. Commit it: the administrators "
                                    "sign with their cards, as many as the signature threshold.")));
      return TKE_SETUP_STEP_COMMIT;
    }
  if (committed)
    {
      set_description (description,
                       g_strdup (_ ("The first master key is committed. Set it immediate: it "
                                    "becomes the current master key (first activation).")));
      return TKE_SETUP_STEP_SET_IMMEDIATE;
    }
  set_description (description,
                   g_strdup (_ ("The crypto units are out of imprint mode. Load the first master "
                                "key: 2 or 3 key parts from key part cards in reader 2.")));
  return TKE_SETUP_STEP_LOAD;
}

/**
 * tke_instance_setup_get_step:
 * @units: the selected units, freshly queried
 * @description: (out) (optional) (transfer full): what the step is, in
 *   words for the person who takes it
 *
 * Where the set-up of an instance stands: install administrators while
 * the units are in imprint mode and do not all have the same ones; set
 * the thresholds once they do (which leaves imprint mode; a units still
 * in it after a stop takes it again); then load, commit and set immediate
 * the first master key, as far as the registers show it done.  Nothing is
 * remembered: after a restart the same units give the same step.
 *
 * Returns: the step
 */
TkeSetupStep
tke_instance_setup_get_step (GListModel *units, char **description)
{
  guint n, n_imprint = 0;

  g_return_val_if_fail (G_IS_LIST_MODEL (units), TKE_SETUP_STEP_BLOCKED);

  if (description != NULL)
    *description = NULL;
  n = g_list_model_get_n_items (units);
  if (n == 0)
    {
      set_description (description,
                       g_strdup (_ ("Select crypto units on the Crypto units tab first.")));
      return TKE_SETUP_STEP_BLOCKED;
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (!tke_crypto_unit_get_reachable (unit))
        {
          set_description (description,
                           g_strdup_printf (_ ("Crypto unit %u cannot be reached. Refresh the "
                                               "crypto units."),
                                            tke_crypto_unit_get_number (unit)));
          return TKE_SETUP_STEP_BLOCKED;
        }
      n_imprint += tke_crypto_unit_get_imprint_mode (unit) ? 1 : 0;
    }
  if (n_imprint > 0)
    return imprint_step (units, description);
  return register_step (units, description);
}

/**
 * tke_instance_setup_check_thresholds:
 * @units: the selected units, freshly queried
 * @signature_threshold: the new signature threshold
 * @revocation_threshold: the new revocation threshold
 * @error: the reason, in the person's words
 *
 * The limits of the crypto units: each threshold is a number from 1 to 8,
 * and no more than the administrators installed on each unit.
 *
 * Returns: %TRUE if the units take these thresholds
 */
gboolean
tke_instance_setup_check_thresholds (GListModel *units,
                                     guint signature_threshold,
                                     guint revocation_threshold,
                                     GError **error)
{
  g_return_val_if_fail (G_IS_LIST_MODEL (units), FALSE);

  if (signature_threshold < 1 || signature_threshold > TKE_MAX_ADMINISTRATORS ||
      revocation_threshold < 1 || revocation_threshold > TKE_MAX_ADMINISTRATORS)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("Thresholds are numbers from 1 to 8."));
      return FALSE;
    }
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      guint admins = n_admins (unit);

      if (signature_threshold > admins || revocation_threshold > admins)
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                       g_dngettext (GETTEXT_PACKAGE,
                                    "Crypto unit %u has %u administrator: a threshold cannot be "
                                    "more than that.",
                                    "Crypto unit %u has %u administrators: a threshold cannot be "
                                    "more than that.",
                                    admins),
                       tke_crypto_unit_get_number (unit), admins);
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * tke_instance_setup_get_n_signers:
 * @kind: the ceremony
 * @units: the units the ceremony runs on
 * @new_signature_threshold: for %TKE_CEREMONY_SET_THRESHOLDS, the new
 *   signature threshold; otherwise ignored
 *
 * How many administrators must sign @kind, counting imprint mode: a unit
 * in imprint mode takes administrators and zeroizing without signatures,
 * and leaving it takes the new signature threshold's signatures; a unit
 * out of it takes what tke_ceremony_get_n_signers() says.
 *
 * Returns: the number of signers; 0 if no unit needs a signature
 */
guint
tke_instance_setup_get_n_signers (TkeCeremonyKind kind,
                                  GListModel *units,
                                  guint new_signature_threshold)
{
  guint n = 0;

  g_return_val_if_fail (G_IS_LIST_MODEL (units), 0);

  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      guint need;

      if (tke_crypto_unit_get_imprint_mode (unit))
        need = kind == TKE_CEREMONY_SET_THRESHOLDS ? new_signature_threshold : 0;
      else if (kind == TKE_CEREMONY_LOAD)
        need = 1;
      else
        need = tke_ceremony_get_n_signatures (kind, unit, 0);
      n = MAX (n, need);
    }
  return n;
}

/**
 * tke_instance_setup_leaves_imprint_mode:
 * @units: the units whose thresholds are set
 *
 * Whether setting the thresholds of @units takes any of them out of
 * imprint mode, which the person is told before it happens.
 *
 * Returns: %TRUE if a unit of @units is in imprint mode
 */
gboolean
tke_instance_setup_leaves_imprint_mode (GListModel *units)
{
  g_return_val_if_fail (G_IS_LIST_MODEL (units), FALSE);

  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (tke_crypto_unit_get_imprint_mode (unit))
        return TRUE;
    }
  return FALSE;
}

/**
 * tke_instance_setup_check_new_administrator:
 * @units: the selected units, freshly queried
 * @name: the administrator's name
 * @ski: (nullable): the SKI of its signature key (64 hex)
 * @error: the reason, in the person's words
 *
 * Whether @units take this administrator: a name of 1 to 30 characters,
 * not installed on every unit already, and room on each unit that lacks
 * it (8 administrators at most).  Units that have it already are passed
 * over (tke_instance_setup_units_lacking()).
 *
 * Returns: %TRUE if the administrator can be installed
 */
gboolean
tke_instance_setup_check_new_administrator (GListModel *units,
                                            const char *name,
                                            const char *ski,
                                            GError **error)
{
  g_autoptr (GListModel) lacking = NULL;

  g_return_val_if_fail (G_IS_LIST_MODEL (units), FALSE);

  if (name == NULL || *name == '\0' || g_utf8_strlen (name, -1) > TKE_MAX_ADMINISTRATOR_NAME)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("An administrator name is too long.  Names must be 30 characters "
                              "or less."));
      return FALSE;
    }
  if (ski == NULL)
    return TRUE;
  lacking = tke_instance_setup_units_lacking (units, ski);
  if (g_list_model_get_n_items (lacking) == 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("“%s” is already an administrator of every selected crypto unit."), name);
      return FALSE;
    }
  for (guint i = 0; i < g_list_model_get_n_items (lacking); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (lacking, i);

      if (n_admins (unit) >= TKE_MAX_ADMINISTRATORS)
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                       _ ("Crypto unit %u has 8 administrators, the most it holds. Remove one "
                          "first."),
                       tke_crypto_unit_get_number (unit));
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * tke_instance_setup_check_removal:
 * @units: the selected units, freshly queried
 * @ski: the SKI of the administrator to remove (64 hex)
 * @error: the reason, in the person's words
 *
 * Whether the administrator can be removed: it is installed on a selected
 * unit, and no unit would be left with fewer administrators than its
 * signature or revocation threshold.
 *
 * Returns: %TRUE if the administrator can be removed
 */
gboolean
tke_instance_setup_check_removal (GListModel *units, const char *ski, GError **error)
{
  gboolean found = FALSE;

  g_return_val_if_fail (G_IS_LIST_MODEL (units), FALSE);
  g_return_val_if_fail (ski != NULL, FALSE);

  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);
      guint left;

      if (!has_admin (unit, ski))
        continue;
      found = TRUE;
      left = n_admins (unit) - 1;
      if (left < tke_crypto_unit_get_signature_threshold (unit) ||
          left < tke_crypto_unit_get_revocation_threshold (unit))
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                       _ ("Crypto unit %u would be left with fewer administrators than its "
                          "signature thresholds. Lower the thresholds first."),
                       tke_crypto_unit_get_number (unit));
          return FALSE;
        }
    }
  if (!found)
    g_set_error_literal (error, TKE_ERROR, TKE_ERROR_NOT_FOUND,
                         _ ("That administrator is not installed on a selected crypto unit."));
  return found;
}

/**
 * tke_instance_setup_units_lacking:
 * @units: the selected units
 * @ski: the SKI of an administrator (64 hex)
 *
 * The units of @units on which the administrator is not installed: where
 * an Add administrator that stopped half-way goes on.
 *
 * Returns: (transfer full): a #GListModel of #TkeCryptoUnit
 */
GListModel *
tke_instance_setup_units_lacking (GListModel *units, const char *ski)
{
  GListStore *store = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);

  g_return_val_if_fail (G_IS_LIST_MODEL (units), G_LIST_MODEL (store));
  g_return_val_if_fail (ski != NULL, G_LIST_MODEL (store));

  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (!has_admin (unit, ski))
        g_list_store_append (store, unit);
    }
  return G_LIST_MODEL (store);
}
