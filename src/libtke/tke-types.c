/* tke-types.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "tke-types.h"

static const char *const unit_types[] = { "OPERATIONAL", "RECOVERY", "FAILOVER" };
static const char *const new_states[] = { "Empty", "Full Uncommitted", "Full Committed" };
static const char *const current_states[] = { "Empty", "Valid" };

static gboolean
lookup (const char *const *names, guint n_names, const char *text, guint *index)
{
  for (guint i = 0; text != NULL && i < n_names; i++)
    if (g_ascii_strcasecmp (names[i], text) == 0)
      {
        *index = i;
        return TRUE;
      }
  return FALSE;
}

/**
 * tke_crypto_unit_type_to_string:
 * @type: a unit type
 *
 * The service's name of @type, not translated: administrators compare it
 * with the service's own output.
 *
 * Returns: "OPERATIONAL", "RECOVERY" or "FAILOVER"
 */
const char *
tke_crypto_unit_type_to_string (TkeCryptoUnitType type)
{
  g_return_val_if_fail (type <= TKE_CRYPTO_UNIT_TYPE_FAILOVER, NULL);
  return unit_types[type];
}

/**
 * tke_crypto_unit_type_from_string:
 * @text: "OPERATIONAL", "RECOVERY" or "FAILOVER", any case
 * @type: (out): the type
 *
 * Parses the service's name of a unit type.
 *
 * Returns: %FALSE if @text names no type
 */
gboolean
tke_crypto_unit_type_from_string (const char *text, TkeCryptoUnitType *type)
{
  guint index;

  if (!lookup (unit_types, G_N_ELEMENTS (unit_types), text, &index))
    return FALSE;
  *type = (TkeCryptoUnitType) index;
  return TRUE;
}

/**
 * tke_new_register_state_to_string:
 * @state: a register state
 *
 * The service's name of @state, not translated: the states are the units'
 * own words.
 *
 * Returns: "Empty", "Full Uncommitted" or "Full Committed"
 */
const char *
tke_new_register_state_to_string (TkeNewRegisterState state)
{
  g_return_val_if_fail (state <= TKE_NEW_REGISTER_FULL_COMMITTED, NULL);
  return new_states[state];
}

/**
 * tke_new_register_state_from_string:
 * @text: "Empty", "Full Uncommitted" or "Full Committed"
 * @state: (out): the state
 *
 * Parses the service's name of a new register state.
 *
 * Returns: %FALSE if @text names no state
 */
gboolean
tke_new_register_state_from_string (const char *text, TkeNewRegisterState *state)
{
  guint index;

  if (!lookup (new_states, G_N_ELEMENTS (new_states), text, &index))
    return FALSE;
  *state = (TkeNewRegisterState) index;
  return TRUE;
}

/**
 * tke_current_register_state_to_string:
 * @state: a register state
 *
 * The service's name of @state, not translated: the states are the units'
 * own words.
 *
 * Returns: "Empty" or "Valid"
 */
const char *
tke_current_register_state_to_string (TkeCurrentRegisterState state)
{
  g_return_val_if_fail (state <= TKE_CURRENT_REGISTER_VALID, NULL);
  return current_states[state];
}

/**
 * tke_current_register_state_from_string:
 * @text: "Empty" or "Valid"
 * @state: (out): the state
 *
 * Parses the service's name of a current register state.
 *
 * Returns: %FALSE if @text names no state
 */
gboolean
tke_current_register_state_from_string (const char *text, TkeCurrentRegisterState *state)
{
  guint index;

  if (!lookup (current_states, G_N_ELEMENTS (current_states), text, &index))
    return FALSE;
  *state = (TkeCurrentRegisterState) index;
  return TRUE;
}

/**
 * tke_vp_is_valid:
 * @vp: (nullable): a verification pattern
 *
 * Checks the form of a verification pattern (a SHA-256, as the service
 * writes it).
 *
 * Returns: %TRUE if @vp is 64 lowercase hexadecimal digits
 */
gboolean
tke_vp_is_valid (const char *vp)
{
  if (vp == NULL || strlen (vp) != 64)
    return FALSE;

  for (const char *c = vp; *c != '\0'; c++)
    if (!g_ascii_isxdigit (*c) || g_ascii_isupper (*c))
      return FALSE;

  return TRUE;
}

/**
 * tke_vp_format_groups:
 * @vp: a verification pattern of 64 hex digits
 *
 * Groups of four digits, eight groups a line, so that two people can read
 * a VP aloud to each other and compare it group by group.
 *
 * Returns: (transfer full): e.g. "d2e7 f8ab … 2003\nd4fd 42c1 … cff9"
 */
char *
tke_vp_format_groups (const char *vp)
{
  GString *out;

  g_return_val_if_fail (tke_vp_is_valid (vp), NULL);

  out = g_string_sized_new (80);
  for (guint i = 0; i < 16; i++)
    {
      if (i > 0)
        g_string_append_c (out, i == 8 ? '\n' : ' ');
      g_string_append_len (out, vp + 4 * i, 4);
    }

  return g_string_free (out, FALSE);
}

/**
 * tke_vp_format_one_line:
 * @hex: (nullable): 64 hex digits: a verification pattern, an SKI, a check
 *   value or a fingerprint
 *
 * The groups of tke_vp_format_groups() on one line, for a label or a
 * report that wraps between groups, never inside one.  Anything that is
 * not 64 lowercase hex digits is returned as it is, for the reader to see.
 *
 * Returns: (transfer full) (nullable): the groups, a copy of @hex, or
 *   %NULL for %NULL
 */
char *
tke_vp_format_one_line (const char *hex)
{
  char *groups;

  if (hex == NULL || !tke_vp_is_valid (hex))
    return g_strdup (hex);
  groups = tke_vp_format_groups (hex);
  g_strdelimit (groups, "\n", ' ');
  return groups;
}
