/* tke-crypto-unit.c: one crypto unit (an HSM domain) of a service instance
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the workstation knows of a unit: its identity, the administrators
 * and thresholds installed in it, and the state and verification pattern
 * of its two master key registers.  The service client fills it in; the
 * ceremonies, the recovery advisor and both front ends read it.
 */

#include "config.h"

#include "tke-crypto-unit-private.h"
#include "tke-crypto-unit.h"
#include <string.h>

#include "tke-enum-types.h"

/**
 * TkeCryptoUnit:
 *
 * A crypto unit (an HSM) of a service instance, as the service last reported
 * it: its identity, its administrators and thresholds, and the states and
 * verification patterns of its two master key registers.
 *
 * The properties notify when a query of the unit changes them, so that a
 * view bound to them shows the unit as it is.
 */
struct _TkeCryptoUnit
{
  GObject parent_instance;

  char *instance_id;
  char *hsm_id;
  guint number;
  TkeCryptoUnitType unit_type;
  char *location;

  gboolean selected;
  gboolean reachable;

  gboolean imprint_mode;
  guint signature_threshold;
  guint revocation_threshold;
  GListStore *administrators;

  TkeNewRegisterState new_state;
  char *new_vp;
  TkeCurrentRegisterState current_state;
  char *current_vp;

  /* The unit's last signed query answer: written by the worker that
   * verified it, read by whoever records the unit's state. */
  GMutex evidence_lock;
  char *evidence;
};

enum
{
  PROP_0,
  PROP_INSTANCE_ID,
  PROP_HSM_ID,
  PROP_NUMBER,
  PROP_UNIT_TYPE,
  PROP_LOCATION,
  PROP_SELECTED,
  PROP_REACHABLE,
  PROP_IMPRINT_MODE,
  PROP_SIGNATURE_THRESHOLD,
  PROP_REVOCATION_THRESHOLD,
  PROP_ADMINISTRATORS,
  PROP_NEW_REGISTER_STATE,
  PROP_NEW_REGISTER_VP,
  PROP_CURRENT_REGISTER_STATE,
  PROP_CURRENT_REGISTER_VP,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (TkeCryptoUnit, tke_crypto_unit, G_TYPE_OBJECT)

/**
 * tke_crypto_unit_new: (constructor)
 * @instance_id: the service instance the unit belongs to
 * @hsm_id: the service's identifier of the unit
 * @number: the CRYPTO UNIT NUM administrators refer to it by
 * @unit_type: operational, recovery or failover
 * @location: `[region].[zone].[module].[domain]`
 *
 * Creates a unit as the service lists it.
 *
 * Returns: (transfer full): a unit with empty registers, not selected
 */
TkeCryptoUnit *
tke_crypto_unit_new (const char *instance_id,
                     const char *hsm_id,
                     guint number,
                     TkeCryptoUnitType unit_type,
                     const char *location)
{
  return g_object_new (TKE_TYPE_CRYPTO_UNIT, "instance-id", instance_id, "hsm-id", hsm_id, "number",
                       number, "unit-type", unit_type, "location", location, NULL);
}

/**
 * tke_crypto_unit_get_instance_id:
 * @self: a #TkeCryptoUnit
 *
 * The service instance the unit belongs to.
 *
 * Returns: (transfer none): the instance id
 */
const char *
tke_crypto_unit_get_instance_id (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), NULL);
  return self->instance_id;
}

/**
 * tke_crypto_unit_get_hsm_id:
 * @self: a #TkeCryptoUnit
 *
 * The service's identifier of the unit.
 *
 * Returns: (transfer none): the HSM id
 */
const char *
tke_crypto_unit_get_hsm_id (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), NULL);
  return self->hsm_id;
}

/**
 * tke_crypto_unit_get_number:
 * @self: a #TkeCryptoUnit
 *
 * The CRYPTO UNIT NUM administrators refer to the unit by.
 *
 * Returns: the number
 */
guint
tke_crypto_unit_get_number (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), 0);
  return self->number;
}

/**
 * tke_crypto_unit_get_unit_type:
 * @self: a #TkeCryptoUnit
 *
 * The unit's role in its instance.
 *
 * Returns: the unit type
 */
TkeCryptoUnitType
tke_crypto_unit_get_unit_type (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), TKE_CRYPTO_UNIT_TYPE_OPERATIONAL);
  return self->unit_type;
}

/**
 * tke_crypto_unit_get_location:
 * @self: a #TkeCryptoUnit
 *
 * Where the unit is.
 *
 * Returns: (transfer none): `[region].[zone].[module].[domain]`
 */
const char *
tke_crypto_unit_get_location (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), NULL);
  return self->location;
}

/**
 * tke_crypto_unit_get_selected:
 * @self: a #TkeCryptoUnit
 *
 * Whether the unit is selected: the ceremonies work on the selected units.
 *
 * Returns: %TRUE if selected
 */
gboolean
tke_crypto_unit_get_selected (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), FALSE);
  return self->selected;
}

/**
 * tke_crypto_unit_set_selected:
 * @self: a #TkeCryptoUnit
 * @selected: whether to select the unit
 *
 * Selects the unit for the next ceremonies, or not.
 */
void
tke_crypto_unit_set_selected (TkeCryptoUnit *self, gboolean selected)
{
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (self));

  selected = !!selected;
  if (self->selected == selected)
    return;
  self->selected = selected;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED]);
}

/**
 * tke_crypto_unit_get_reachable:
 * @self: a #TkeCryptoUnit
 *
 * Whether the last query of the unit succeeded.
 *
 * Returns: %FALSE when the last query of the unit failed, so that its
 *   registers are not known
 */
gboolean
tke_crypto_unit_get_reachable (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), FALSE);
  return self->reachable;
}

/**
 * tke_crypto_unit_set_reachable:
 * @self: a #TkeCryptoUnit
 * @reachable: whether the last query of the unit succeeded
 *
 * Records the outcome of the last query of the unit.
 */
void
tke_crypto_unit_set_reachable (TkeCryptoUnit *self, gboolean reachable)
{
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (self));

  reachable = !!reachable;
  if (self->reachable == reachable)
    return;
  self->reachable = reachable;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REACHABLE]);
}

/**
 * tke_crypto_unit_get_imprint_mode:
 * @self: a #TkeCryptoUnit
 *
 * Whether the unit is still in imprint mode: no administrator's signature is
 * needed yet, until its thresholds are set.
 *
 * Returns: %TRUE in imprint mode
 */
gboolean
tke_crypto_unit_get_imprint_mode (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), FALSE);
  return self->imprint_mode;
}

/**
 * tke_crypto_unit_get_signature_threshold:
 * @self: a #TkeCryptoUnit
 *
 * How many administrators must sign most commands to the unit.
 *
 * Returns: the signature threshold, 0 to %TKE_MAX_ADMINISTRATORS
 */
guint
tke_crypto_unit_get_signature_threshold (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), 0);
  return self->signature_threshold;
}

/**
 * tke_crypto_units_get_signature_threshold:
 * @units: a #GListModel of #TkeCryptoUnit
 *
 * The number of administrators' signatures that satisfies every unit of
 * @units, the highest of their signature thresholds.
 *
 * Returns: that number, at least 1
 */
guint
tke_crypto_units_get_signature_threshold (GListModel *units)
{
  guint threshold = 1;

  g_return_val_if_fail (G_IS_LIST_MODEL (units), 1);

  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      threshold = MAX (threshold, unit->signature_threshold);
    }
  return threshold;
}

/**
 * tke_crypto_unit_get_revocation_threshold:
 * @self: a #TkeCryptoUnit
 *
 * How many administrators must sign the removal of an administrator.
 *
 * Returns: the revocation threshold, 0 to %TKE_MAX_ADMINISTRATORS
 */
guint
tke_crypto_unit_get_revocation_threshold (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), 0);
  return self->revocation_threshold;
}

/**
 * tke_crypto_unit_set_thresholds:
 * @self: a #TkeCryptoUnit
 * @imprint_mode: whether the unit is still in imprint mode (thresholds 0)
 * @signature_threshold: signatures most commands need, 0–8
 * @revocation_threshold: signatures removing an administrator needs, 0–8
 *
 * Records the unit's thresholds, as a query of the unit reports them.
 */
void
tke_crypto_unit_set_thresholds (TkeCryptoUnit *self,
                                gboolean imprint_mode,
                                guint signature_threshold,
                                guint revocation_threshold)
{
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (self));
  g_return_if_fail (signature_threshold <= TKE_MAX_ADMINISTRATORS);
  g_return_if_fail (revocation_threshold <= TKE_MAX_ADMINISTRATORS);

  g_object_freeze_notify (G_OBJECT (self));
  if (self->imprint_mode != !!imprint_mode)
    {
      self->imprint_mode = !!imprint_mode;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMPRINT_MODE]);
    }
  if (self->signature_threshold != signature_threshold)
    {
      self->signature_threshold = signature_threshold;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIGNATURE_THRESHOLD]);
    }
  if (self->revocation_threshold != revocation_threshold)
    {
      self->revocation_threshold = revocation_threshold;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REVOCATION_THRESHOLD]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * tke_crypto_unit_get_administrators:
 * @self: a #TkeCryptoUnit
 *
 * The administrators installed on the unit.
 *
 * Returns: (transfer none): a list model of #TkeAdministrator
 */
GListModel *
tke_crypto_unit_get_administrators (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), NULL);
  return G_LIST_MODEL (self->administrators);
}

/**
 * tke_crypto_unit_set_administrators:
 * @self: a #TkeCryptoUnit
 * @administrators: (element-type TkeAdministrator): the installed administrators
 *
 * Records the unit's administrators, as a query of the unit reports them.
 */
void
tke_crypto_unit_set_administrators (TkeCryptoUnit *self, GPtrArray *administrators)
{
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (self));
  g_return_if_fail (administrators != NULL);

  g_list_store_splice (self->administrators, 0,
                       g_list_model_get_n_items (G_LIST_MODEL (self->administrators)),
                       administrators->pdata, administrators->len);
}

/**
 * tke_crypto_unit_get_new_register_state:
 * @self: a #TkeCryptoUnit
 *
 * The state of the new master key register.
 *
 * Returns: the state
 */
TkeNewRegisterState
tke_crypto_unit_get_new_register_state (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), TKE_NEW_REGISTER_EMPTY);
  return self->new_state;
}

/**
 * tke_crypto_unit_get_new_register_vp:
 * @self: a #TkeCryptoUnit
 *
 * The verification pattern of the key in the new master key register.
 *
 * Returns: 64 hex digits; %TKE_EMPTY_VP when the register is empty
 */
const char *
tke_crypto_unit_get_new_register_vp (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), NULL);
  return self->new_vp;
}

/**
 * tke_crypto_unit_get_current_register_state:
 * @self: a #TkeCryptoUnit
 *
 * The state of the current master key register.
 *
 * Returns: the state
 */
TkeCurrentRegisterState
tke_crypto_unit_get_current_register_state (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), TKE_CURRENT_REGISTER_EMPTY);
  return self->current_state;
}

/**
 * tke_crypto_unit_get_current_register_vp:
 * @self: a #TkeCryptoUnit
 *
 * The verification pattern of the key in the current master key register.
 *
 * Returns: 64 hex digits; %TKE_EMPTY_VP when the register is empty
 */
const char *
tke_crypto_unit_get_current_register_vp (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), NULL);
  return self->current_vp;
}

static void
replace_vp (TkeCryptoUnit *self, char **slot, const char *vp, guint prop)
{
  if (g_strcmp0 (*slot, vp) == 0)
    return;
  g_free (*slot);
  *slot = g_ascii_strdown (vp, -1);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

/**
 * tke_crypto_unit_set_registers:
 * @self: a #TkeCryptoUnit
 * @new_state: the new master key register's state
 * @new_vp: its verification pattern, 64 hex digits
 * @current_state: the current master key register's state
 * @current_vp: its verification pattern, 64 hex digits
 *
 * Sets both registers at once, as one query of the unit reports them.
 */
void
tke_crypto_unit_set_registers (TkeCryptoUnit *self,
                               TkeNewRegisterState new_state,
                               const char *new_vp,
                               TkeCurrentRegisterState current_state,
                               const char *current_vp)
{
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (self));
  g_return_if_fail (new_vp != NULL && strlen (new_vp) == 64);
  g_return_if_fail (current_vp != NULL && strlen (current_vp) == 64);

  g_object_freeze_notify (G_OBJECT (self));
  if (self->new_state != new_state)
    {
      self->new_state = new_state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NEW_REGISTER_STATE]);
    }
  replace_vp (self, &self->new_vp, new_vp, PROP_NEW_REGISTER_VP);
  if (self->current_state != current_state)
    {
      self->current_state = current_state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_REGISTER_STATE]);
    }
  replace_vp (self, &self->current_vp, current_vp, PROP_CURRENT_REGISTER_VP);
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * tke_crypto_unit_dup_evidence:
 * @self: a crypto unit
 *
 * The unit's last signed answer to a query, as the service sent it: a JSON
 * object with the members "request" (the query's bytes, base64) and
 * "response" (the unit's "answer", "signature" and "certificates"; see
 * data/doc/service-protocol.md, section 10.4).  libtke verified it before it
 * kept it; anyone holding the unit root can verify it again, offline, which
 * is what the ceremony record does.
 *
 * Returns: (transfer full) (nullable): the answer's JSON, or %NULL before
 *   the first verified query
 */
char *
tke_crypto_unit_dup_evidence (TkeCryptoUnit *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (self), NULL);

  g_mutex_lock (&self->evidence_lock);
  char *evidence = g_strdup (self->evidence);
  g_mutex_unlock (&self->evidence_lock);
  return evidence;
}

/* Any thread: the worker that verified the answer keeps it. */
void
_tke_crypto_unit_set_evidence (TkeCryptoUnit *self, const char *evidence)
{
  g_return_if_fail (TKE_IS_CRYPTO_UNIT (self));

  g_mutex_lock (&self->evidence_lock);
  g_free (self->evidence);
  self->evidence = g_strdup (evidence);
  g_mutex_unlock (&self->evidence_lock);
}

static void
tke_crypto_unit_finalize (GObject *object)
{
  TkeCryptoUnit *self = TKE_CRYPTO_UNIT (object);

  g_clear_pointer (&self->instance_id, g_free);
  g_clear_pointer (&self->hsm_id, g_free);
  g_clear_pointer (&self->location, g_free);
  g_clear_pointer (&self->new_vp, g_free);
  g_clear_pointer (&self->current_vp, g_free);
  g_clear_object (&self->administrators);
  g_clear_pointer (&self->evidence, g_free);
  g_mutex_clear (&self->evidence_lock);

  G_OBJECT_CLASS (tke_crypto_unit_parent_class)->finalize (object);
}

static void
tke_crypto_unit_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TkeCryptoUnit *self = TKE_CRYPTO_UNIT (object);

  switch (prop_id)
    {
    case PROP_INSTANCE_ID:
      g_value_set_string (value, self->instance_id);
      break;
    case PROP_HSM_ID:
      g_value_set_string (value, self->hsm_id);
      break;
    case PROP_NUMBER:
      g_value_set_uint (value, self->number);
      break;
    case PROP_UNIT_TYPE:
      g_value_set_enum (value, self->unit_type);
      break;
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_SELECTED:
      g_value_set_boolean (value, self->selected);
      break;
    case PROP_REACHABLE:
      g_value_set_boolean (value, self->reachable);
      break;
    case PROP_IMPRINT_MODE:
      g_value_set_boolean (value, self->imprint_mode);
      break;
    case PROP_SIGNATURE_THRESHOLD:
      g_value_set_uint (value, self->signature_threshold);
      break;
    case PROP_REVOCATION_THRESHOLD:
      g_value_set_uint (value, self->revocation_threshold);
      break;
    case PROP_ADMINISTRATORS:
      g_value_set_object (value, self->administrators);
      break;
    case PROP_NEW_REGISTER_STATE:
      g_value_set_enum (value, self->new_state);
      break;
    case PROP_NEW_REGISTER_VP:
      g_value_set_string (value, self->new_vp);
      break;
    case PROP_CURRENT_REGISTER_STATE:
      g_value_set_enum (value, self->current_state);
      break;
    case PROP_CURRENT_REGISTER_VP:
      g_value_set_string (value, self->current_vp);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_crypto_unit_set_property (GObject *object,
                              guint prop_id,
                              const GValue *value,
                              GParamSpec *pspec)
{
  TkeCryptoUnit *self = TKE_CRYPTO_UNIT (object);

  switch (prop_id)
    {
    case PROP_INSTANCE_ID:
      self->instance_id = g_value_dup_string (value);
      break;
    case PROP_HSM_ID:
      self->hsm_id = g_value_dup_string (value);
      break;
    case PROP_NUMBER:
      self->number = g_value_get_uint (value);
      break;
    case PROP_UNIT_TYPE:
      self->unit_type = g_value_get_enum (value);
      break;
    case PROP_LOCATION:
      self->location = g_value_dup_string (value);
      break;
    case PROP_SELECTED:
      tke_crypto_unit_set_selected (self, g_value_get_boolean (value));
      break;
    case PROP_REACHABLE:
      tke_crypto_unit_set_reachable (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_crypto_unit_class_init (TkeCryptoUnitClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = tke_crypto_unit_finalize;
  object_class->get_property = tke_crypto_unit_get_property;
  object_class->set_property = tke_crypto_unit_set_property;

  /**
   * TkeCryptoUnit:instance-id:
   *
   * The service instance the unit belongs to.
   */
  properties[PROP_INSTANCE_ID] = g_param_spec_string ("instance-id", NULL, NULL, NULL, construct);
  /**
   * TkeCryptoUnit:hsm-id:
   *
   * The service's identifier of the unit.
   */
  properties[PROP_HSM_ID] = g_param_spec_string ("hsm-id", NULL, NULL, NULL, construct);
  /**
   * TkeCryptoUnit:number:
   *
   * The CRYPTO UNIT NUM administrators refer to the unit by.
   */
  properties[PROP_NUMBER] = g_param_spec_uint ("number", NULL, NULL, 0, G_MAXUINT, 0, construct);
  /**
   * TkeCryptoUnit:unit-type:
   *
   * The unit's role in its instance.
   */
  properties[PROP_UNIT_TYPE] =
      g_param_spec_enum ("unit-type", NULL, NULL, TKE_TYPE_CRYPTO_UNIT_TYPE,
                         TKE_CRYPTO_UNIT_TYPE_OPERATIONAL, construct);
  /**
   * TkeCryptoUnit:location:
   *
   * Where the unit is: `[region].[zone].[module].[domain]`.
   */
  properties[PROP_LOCATION] = g_param_spec_string ("location", NULL, NULL, NULL, construct);
  /**
   * TkeCryptoUnit:selected:
   *
   * Whether the ceremonies work on the unit.
   */
  properties[PROP_SELECTED] = g_param_spec_boolean ("selected", NULL, NULL, FALSE, rw);
  /**
   * TkeCryptoUnit:reachable:
   *
   * Whether the last query of the unit succeeded.
   */
  properties[PROP_REACHABLE] = g_param_spec_boolean ("reachable", NULL, NULL, TRUE, rw);
  /**
   * TkeCryptoUnit:imprint-mode:
   *
   * Whether the unit is still in imprint mode (its thresholds not set).
   */
  properties[PROP_IMPRINT_MODE] = g_param_spec_boolean ("imprint-mode", NULL, NULL, FALSE, ro);
  /**
   * TkeCryptoUnit:signature-threshold:
   *
   * How many administrators must sign most commands.
   */
  properties[PROP_SIGNATURE_THRESHOLD] =
      g_param_spec_uint ("signature-threshold", NULL, NULL, 0, TKE_MAX_ADMINISTRATORS, 0, ro);
  /**
   * TkeCryptoUnit:revocation-threshold:
   *
   * How many administrators must sign the removal of an administrator.
   */
  properties[PROP_REVOCATION_THRESHOLD] =
      g_param_spec_uint ("revocation-threshold", NULL, NULL, 0, TKE_MAX_ADMINISTRATORS, 0, ro);
  /**
   * TkeCryptoUnit:administrators:
   *
   * The installed administrators, a #GListModel of #TkeAdministrator.
   */
  properties[PROP_ADMINISTRATORS] =
      g_param_spec_object ("administrators", NULL, NULL, G_TYPE_LIST_MODEL, ro);
  /**
   * TkeCryptoUnit:new-register-state:
   *
   * The state of the new master key register.
   */
  properties[PROP_NEW_REGISTER_STATE] = g_param_spec_enum (
      "new-register-state", NULL, NULL, TKE_TYPE_NEW_REGISTER_STATE, TKE_NEW_REGISTER_EMPTY, ro);
  /**
   * TkeCryptoUnit:new-register-vp:
   *
   * The verification pattern of the new master key register, 64 hex digits.
   */
  properties[PROP_NEW_REGISTER_VP] =
      g_param_spec_string ("new-register-vp", NULL, NULL, TKE_EMPTY_VP, ro);
  /**
   * TkeCryptoUnit:current-register-state:
   *
   * The state of the current master key register.
   */
  properties[PROP_CURRENT_REGISTER_STATE] =
      g_param_spec_enum ("current-register-state", NULL, NULL, TKE_TYPE_CURRENT_REGISTER_STATE,
                         TKE_CURRENT_REGISTER_EMPTY, ro);
  /**
   * TkeCryptoUnit:current-register-vp:
   *
   * The verification pattern of the current master key register, 64 hex digits.
   */
  properties[PROP_CURRENT_REGISTER_VP] =
      g_param_spec_string ("current-register-vp", NULL, NULL, TKE_EMPTY_VP, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tke_crypto_unit_init (TkeCryptoUnit *self)
{
  self->reachable = TRUE;
  self->administrators = g_list_store_new (TKE_TYPE_ADMINISTRATOR);
  self->new_vp = g_strdup (TKE_EMPTY_VP);
  self->current_vp = g_strdup (TKE_EMPTY_VP);
  g_mutex_init (&self->evidence_lock);
}
