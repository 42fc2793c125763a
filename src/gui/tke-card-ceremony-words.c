/* tke-card-ceremony-words.c: what a card ceremony left on the units, and
 * its last page, in words
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-card-ceremony-private.h"

/* What a ceremony that stopped left on one unit, in words. */
static const char *
unit_outcome (TkeCeremonyKind kind, gboolean done)
{
  if (!done)
    return kind == TKE_CEREMONY_LOAD ? _ ("nothing loaded; its new register is as it was before")
                                     : _ ("unchanged; the command was not applied");
  switch (kind)
    {
    case TKE_CEREMONY_LOAD:
      return _ ("the new master key is loaded (Full Uncommitted)");
    case TKE_CEREMONY_COMMIT:
      return _ ("committed (Full Committed)");
    case TKE_CEREMONY_SET_IMMEDIATE:
      return _ ("the new master key is current");
    case TKE_CEREMONY_CLEAR_NEW:
      return _ ("new register cleared");
    case TKE_CEREMONY_ADD_ADMIN:
      return _ ("the administrator is installed");
    case TKE_CEREMONY_REMOVE_ADMIN:
      return _ ("the administrator is removed");
    case TKE_CEREMONY_SET_THRESHOLDS:
      return _ ("the new thresholds are set");
    case TKE_CEREMONY_ZEROIZE:
      return _ ("zeroized: back in imprint mode");
    case TKE_CEREMONY_CLEAR_CURRENT:
    case TKE_CEREMONY_ROTATE:
    default:
      return _ ("current register cleared");
    }
}

/* Unit by unit, so that nobody has to guess what a stop left half-done:
 * every unit either has the command done or has nothing of it. */
char *
_tke_card_ceremony_describe_units (TkeCeremonyKind kind, GListModel *units, guint done)
{
  g_autoptr (GString) text = g_string_new (NULL);
  guint n = g_list_model_get_n_items (units);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      /* Translators: "Crypto unit 2: nothing loaded; …" */
      g_string_append_printf (text, _ ("Crypto unit %u: %s"), tke_crypto_unit_get_number (unit),
                              unit_outcome (kind, i < done));
      g_string_append_c (text, '\n');
    }
  g_string_append (text, done == 0 ? _ ("Nothing is half-done: no crypto unit was changed.")
                                   : _ ("Nothing is half-done: each crypto unit either has it "
                                        "done or was not changed."));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
show_setup_result (TkeLoadWizard *wizard, TkeCeremonyKind kind, TkeCryptoUnit *unit)
{
  g_autofree char *thresholds = NULL;

  switch (kind)
    {
    case TKE_CEREMONY_ADD_ADMIN:
      tke_load_wizard_show_done (wizard, _ ("Administrator installed"),
                                 _ ("The administrator is installed on every selected crypto "
                                    "unit. The Administrators tab lists it."),
                                 NULL);
      break;
    case TKE_CEREMONY_REMOVE_ADMIN:
      tke_load_wizard_show_done (
          wizard, _ ("Administrator removed"),
          _ ("The administrator is removed from every selected crypto unit. Its card signs "
             "nothing for these units any more."),
          NULL);
      break;
    case TKE_CEREMONY_SET_THRESHOLDS:
      thresholds = g_strdup_printf (
          _ ("Every selected crypto unit now needs %u signatures for a command and %u to "
             "remove an administrator. The units are out of imprint mode."),
          tke_crypto_unit_get_signature_threshold (unit),
          tke_crypto_unit_get_revocation_threshold (unit));
      tke_load_wizard_show_done (wizard, _ ("Signature thresholds set"), thresholds, NULL);
      break;
    case TKE_CEREMONY_ZEROIZE:
    default:
      tke_load_wizard_show_done (wizard, _ ("Crypto units zeroized"),
                                 _ ("The administrators, thresholds and both master key registers "
                                    "are erased: the units are in imprint mode."),
                                 NULL);
      break;
    }
}

void
_tke_card_ceremony_show_result (TkeLoadWizard *wizard, TkeCeremonyKind kind, TkeCryptoUnit *unit)
{
  switch (kind)
    {
    case TKE_CEREMONY_COMMIT:
      tke_load_wizard_show_result (
          wizard, tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit)),
          tke_crypto_unit_get_new_register_vp (unit));
      break;
    case TKE_CEREMONY_SET_IMMEDIATE:
      tke_load_wizard_show_done (wizard, _ ("Current register: Valid"),
                                 _ ("The new master key is the current one on every selected "
                                    "crypto unit, and the new registers are empty. "
                                    "The verification pattern of the current key:"),
                                 tke_crypto_unit_get_current_register_vp (unit));
      break;
    case TKE_CEREMONY_CLEAR_NEW:
      tke_load_wizard_show_done (
          wizard, _ ("New register: Empty"),
          _ ("The new master key register of every selected crypto unit is cleared."), NULL);
      break;
    case TKE_CEREMONY_CLEAR_CURRENT:
      tke_load_wizard_show_done (
          wizard, _ ("Current register: Empty"),
          _ ("The current master key register of every selected crypto unit is cleared."), NULL);
      break;
    case TKE_CEREMONY_ADD_ADMIN:
    case TKE_CEREMONY_REMOVE_ADMIN:
    case TKE_CEREMONY_SET_THRESHOLDS:
    case TKE_CEREMONY_ZEROIZE:
    case TKE_CEREMONY_LOAD:
    case TKE_CEREMONY_ROTATE:
    default:
      show_setup_result (wizard, kind, unit);
      break;
    }
}
