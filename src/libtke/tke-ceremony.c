/* tke-ceremony.c: one administrative ceremony over the selected units
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The domain logic the CLI and the GUI share: which signers sign what,
 * the importer key and the sealing of each part to each unit, the order of
 * the steps, and progress signals for both front ends to render.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-ceremony-rules.h"
#include "tke-ceremony.h"
#include "tke-error.h"
#include "tke-key-part-source.h"
#include "tke-signer.h"

/**
 * TkeCeremony:
 *
 * One administrative ceremony: one command (#TkeCeremonyKind) on every unit
 * of a list, one unit after the other, with the signers given.
 *
 * The ceremony refreshes the units before (to read the register VPs and the
 * imprint mode) and after (so that a view bound to them shows the result).
 * How many signatures a command takes: commit, add and remove administrator
 * and set thresholds use every signer; load uses the first signer for the
 * importer key and signer (i mod n) for part i; set immediate, clear and
 * zeroize use the first signer. A unit in imprint mode gets no signatures,
 * except for set thresholds. A failure stops the ceremony at that unit; the
 * units before it keep the change (tke_ceremony_get_n_units_done()).
 *
 * Load goes part by part, the way key part cards are handed over: an importer
 * key on every unit, then part 1 sealed to every unit, then part 2, and so on,
 * then the load on each unit, so that each key part card is inserted once. A
 * front end that guides the person part by part calls
 * tke_ceremony_prepare_load_async() and tke_ceremony_seal_next_part_async()
 * for each part, then tke_ceremony_run_async(), which does what is left.
 */
struct _TkeCeremony
{
  GObject parent_instance;

  TkeServiceClient *client;
  TkeCeremonyKind kind;
  GListStore *units;
  GPtrArray *signers;
  GPtrArray *parts;
  char *admin_name;
  GBytes *admin_public_key;
  char *admin_ski;
  guint signature_threshold;
  guint revocation_threshold;

  guint n_key_parts; /* 0: as many as parts */

  /* While running */
  guint n_done;
  guint cursor;         /* the unit a load step is at */
  GPtrArray *importers; /* GBytes, one per unit once prepared */
  guint n_parts_sealed;
  GPtrArray *sealed; /* per unit, a GPtrArray of GBytes (one per part) */
};

/* How far a load task goes. */
typedef enum
{
  LOAD_UNTIL_PREPARED,
  LOAD_UNTIL_NEXT_PART_SEALED,
  LOAD_ALL,
} LoadGoal;

enum
{
  SIGNAL_PROGRESS,
  SIGNAL_UNIT_DONE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TkeCeremony, tke_ceremony, G_TYPE_OBJECT)

/**
 * tke_ceremony_new: (constructor)
 * @client: a logged-in service client
 * @kind: the command
 * @units: a #GListModel of #TkeCryptoUnit, in the order to visit them
 *
 * Creates a ceremony; its arguments (signers, key parts, the new
 * administrator, thresholds) are set before it runs.
 *
 * Returns: (transfer full): a ceremony, ready to be given its arguments
 */
TkeCeremony *
tke_ceremony_new (TkeServiceClient *client, TkeCeremonyKind kind, GListModel *units)
{
  TkeCeremony *self;

  g_return_val_if_fail (TKE_IS_SERVICE_CLIENT (client), NULL);
  g_return_val_if_fail (G_IS_LIST_MODEL (units), NULL);

  self = g_object_new (TKE_TYPE_CEREMONY, NULL);
  self->client = g_object_ref (client);
  self->kind = kind;
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (GObject) unit = g_list_model_get_item (units, i);

      g_return_val_if_fail (TKE_IS_CRYPTO_UNIT (unit), self);
      g_list_store_append (self->units, unit);
      g_ptr_array_add (self->sealed,
                       g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref));
    }
  return self;
}

/**
 * tke_ceremony_get_kind:
 * @self: a ceremony
 *
 * The command the ceremony runs.
 *
 * Returns: the kind
 */
TkeCeremonyKind
tke_ceremony_get_kind (TkeCeremony *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY (self), TKE_CEREMONY_LOAD);
  return self->kind;
}

static GPtrArray *
ref_array (GPtrArray *array)
{
  GPtrArray *copy = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; array != NULL && i < array->len; i++)
    g_ptr_array_add (copy, g_object_ref (array->pdata[i]));
  return copy;
}

/**
 * tke_ceremony_set_signers:
 * @self: a ceremony
 * @signers: (element-type TkeSigner) (nullable): the signers
 *
 * Sets who signs the commands; see #TkeCeremony for how many each takes.
 */
void
tke_ceremony_set_signers (TkeCeremony *self, GPtrArray *signers)
{
  g_return_if_fail (TKE_IS_CEREMONY (self));
  g_ptr_array_unref (self->signers);
  self->signers = ref_array (signers);
}

/**
 * tke_ceremony_set_key_parts:
 * @self: a load ceremony
 * @parts: (element-type TkeKeyPartSource) (nullable): 2 or 3 key parts
 *
 * Sets the key parts a load ceremony loads, when they are all known before
 * it runs.
 */
void
tke_ceremony_set_key_parts (TkeCeremony *self, GPtrArray *parts)
{
  g_return_if_fail (TKE_IS_CEREMONY (self));
  g_ptr_array_unref (self->parts);
  self->parts = ref_array (parts);
}

/**
 * tke_ceremony_set_n_key_parts:
 * @self: a load ceremony
 * @n_parts: 2 or 3; 0 counts the parts given to tke_ceremony_set_key_parts()
 *
 * Sets how many parts the key of a load has.
 *
 * For a load whose parts come one by one
 * (tke_ceremony_seal_next_part_async()): each part is sealed with its
 * position "i of n", so n must be known before the first.
 */
void
tke_ceremony_set_n_key_parts (TkeCeremony *self, guint n_parts)
{
  g_return_if_fail (TKE_IS_CEREMONY (self));
  self->n_key_parts = n_parts;
}

/**
 * tke_ceremony_get_n_key_parts:
 * @self: a load ceremony
 *
 * How many parts the key of the load has.
 *
 * Returns: 2 or 3, or 0 when not known yet
 */
guint
tke_ceremony_get_n_key_parts (TkeCeremony *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY (self), 0);
  return self->n_key_parts != 0 ? self->n_key_parts : self->parts->len;
}

/**
 * tke_ceremony_get_n_parts_sealed:
 * @self: a load ceremony
 *
 * How many key parts tke_ceremony_seal_next_part_async() has sealed to every
 * unit so far.
 *
 * Returns: the number of parts sealed
 */
guint
tke_ceremony_get_n_parts_sealed (TkeCeremony *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY (self), 0);
  return self->n_parts_sealed;
}

/**
 * tke_ceremony_set_new_administrator:
 * @self: an add-administrator ceremony
 * @name: the administrator's name, at most %TKE_MAX_ADMINISTRATOR_NAME characters
 * @public_key: (nullable): the uncompressed P-521 public point of the signature key
 *
 * Sets the administrator a %TKE_CEREMONY_ADD_ADMIN ceremony installs.
 */
void
tke_ceremony_set_new_administrator (TkeCeremony *self, const char *name, GBytes *public_key)
{
  g_return_if_fail (TKE_IS_CEREMONY (self));
  g_free (self->admin_name);
  self->admin_name = g_strdup (name);
  g_clear_pointer (&self->admin_public_key, g_bytes_unref);
  if (public_key != NULL)
    self->admin_public_key = g_bytes_ref (public_key);
}

/**
 * tke_ceremony_set_administrator_ski:
 * @self: a remove-administrator ceremony
 * @ski: the SKI of the administrator (64 hex digits, any case)
 *
 * Sets the administrator a %TKE_CEREMONY_REMOVE_ADMIN ceremony removes.
 */
void
tke_ceremony_set_administrator_ski (TkeCeremony *self, const char *ski)
{
  g_return_if_fail (TKE_IS_CEREMONY (self));
  g_free (self->admin_ski);
  self->admin_ski = g_ascii_strdown (ski, -1);
}

/**
 * tke_ceremony_set_thresholds:
 * @self: a set-thresholds ceremony
 * @signature_threshold: signatures most commands will need, 1 to %TKE_MAX_ADMINISTRATORS
 * @revocation_threshold: signatures removing an administrator will need
 *
 * Sets the thresholds a %TKE_CEREMONY_SET_THRESHOLDS ceremony sets; it also
 * takes the units out of imprint mode.
 */
void
tke_ceremony_set_thresholds (TkeCeremony *self,
                             guint signature_threshold,
                             guint revocation_threshold)
{
  g_return_if_fail (TKE_IS_CEREMONY (self));
  self->signature_threshold = signature_threshold;
  self->revocation_threshold = revocation_threshold;
}

/**
 * tke_ceremony_get_n_units_done:
 * @self: a ceremony
 *
 * How many units the command was applied on; after a failure, the units
 * before the one that failed.
 *
 * Returns: the number of units done
 */
guint
tke_ceremony_get_n_units_done (TkeCeremony *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY (self), 0);
  return self->n_done;
}

/* ---- Running ------------------------------------------------------------ */

static guint
n_units (TkeCeremony *self)
{
  return g_list_model_get_n_items (G_LIST_MODEL (self->units));
}

static TkeCryptoUnit *
unit_at (TkeCeremony *self, guint position)
{
  g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (G_LIST_MODEL (self->units), position);
  return unit; /* the store keeps it alive */
}

static TkeCryptoUnit *
current_unit (TkeCeremony *self)
{
  return unit_at (self, self->n_done);
}

static void progress_at (TkeCeremony *self, TkeCryptoUnit *unit, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static void
progress_at (TkeCeremony *self, TkeCryptoUnit *unit, const char *format, ...)
{
  g_autofree char *what = NULL;
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  message = g_strdup_printf (_ ("Crypto unit %u: %s"), tke_crypto_unit_get_number (unit), what);
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, unit, message);
}

#define progress(self, ...) progress_at ((self), current_unit (self), __VA_ARGS__)

/* The signers of a command on @unit, by the rule of the header. */
static GPtrArray *
signers_for (TkeCeremony *self, TkeCryptoUnit *unit, guint n_first)
{
  GPtrArray *chosen = g_ptr_array_new_with_free_func (g_object_unref);

  if (tke_crypto_unit_get_imprint_mode (unit) && self->kind != TKE_CEREMONY_SET_THRESHOLDS)
    return chosen;
  if (self->signers->len == 0)
    return chosen;
  if (n_first == 0)
    {
      /* Every signer, in turn; every other unit in the reverse order, so
       * that the card that signed last for one unit signs first for the
       * next: with cards taking turns in one reader, (n - 1) swaps a unit
       * instead of n, and that card's PIN is still verified. */
      gboolean reverse = self->n_done % 2 == 1;

      for (guint i = 0; i < self->signers->len; i++)
        g_ptr_array_add (
            chosen, g_object_ref (self->signers->pdata[reverse ? self->signers->len - 1 - i : i]));
      return chosen;
    }
  for (guint i = 0; i < n_first; i++)
    g_ptr_array_add (chosen, g_object_ref (self->signers->pdata[i % self->signers->len]));
  return chosen;
}

/* Errors of the unit trust chain name the unit themselves. */
static gboolean
names_unit (const GError *error)
{
  return g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC) ||
         g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED) ||
         g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_NOT_PINNED);
}

/* Fails the task with a message naming @unit, keeping the error code. */
static void
fail_at (TkeCryptoUnit *unit, GTask *task, GError *error)
{
  if (unit != NULL && error->domain == TKE_ERROR && !names_unit (error))
    g_prefix_error (&error, _ ("Crypto unit %u: "), tke_crypto_unit_get_number (unit));
  g_task_return_error (task, error);
}

static void
fail_at_unit (TkeCeremony *self, GTask *task, GError *error)
{
  fail_at (current_unit (self), task, error);
}

static void run_next_unit (GTask *task);

static void
unit_done (GTask *task)
{
  TkeCeremony *self = g_task_get_source_object (task);

  g_signal_emit (self, signals[SIGNAL_UNIT_DONE], 0, current_unit (self));
  self->n_done++;
  run_next_unit (task);
}

static void
on_command_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCeremony *self = g_task_get_source_object (task);
  g_autoptr (JsonObject) object = NULL;
  GError *error = NULL;

  /* Every command's finish wraps the same task result; the generic one
   * suits them all here. */
  object = tke_service_client_send_command_finish (TKE_SERVICE_CLIENT (source), result, &error);
  if (object == NULL)
    {
      fail_at_unit (self, task, error);
      return;
    }
  unit_done (g_steal_pointer (&task));
}

/* ---- Load, part by part ---- */

static void load_step (GTask *task);

static gboolean
unit_unreachable (TkeCryptoUnit *unit, GError **error)
{
  if (tke_crypto_unit_get_reachable (unit))
    return FALSE;
  g_set_error (error, TKE_ERROR, TKE_ERROR_NETWORK,
               _ ("Crypto unit %u does not answer. Try again later."),
               tke_crypto_unit_get_number (unit));
  return TRUE;
}

static void prepare_next_unit (GTask *task);

static void
on_importer (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeCeremony *self = g_task_get_source_object (task);
  GError *error = NULL;
  GBytes *importer;

  importer =
      tke_service_client_generate_importer_key_finish (TKE_SERVICE_CLIENT (source), result, &error);
  if (importer == NULL)
    {
      fail_at (unit_at (self, self->cursor), task, error);
      g_object_unref (task);
      return;
    }
  g_ptr_array_add (self->importers, importer);
  self->cursor++;
  prepare_next_unit (task);
}

/* An importer key on each unit still without one.  Takes @task. */
static void
prepare_next_unit (GTask *task)
{
  TkeCeremony *self = g_task_get_source_object (task);
  TkeCryptoUnit *unit;
  g_autoptr (GPtrArray) signers = NULL;
  GError *error = NULL;

  self->cursor = self->importers->len;
  if (self->cursor >= n_units (self))
    {
      load_step (task);
      return;
    }
  unit = unit_at (self, self->cursor);
  if (unit_unreachable (unit, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  signers = signers_for (self, unit, 1);
  progress_at (self, unit, _ ("generating an importer key…"));
  tke_service_client_generate_importer_key_async (self->client, unit, signers,
                                                  g_task_get_cancellable (task), on_importer, task);
}

static void seal_for_next_unit (GTask *task);

static void
on_sealed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeCeremony *self = g_task_get_source_object (task);
  GError *error = NULL;
  GBytes *sealed;

  sealed = tke_key_part_source_seal_finish (TKE_KEY_PART_SOURCE (source), result, &error);
  if (sealed == NULL)
    {
      fail_at (unit_at (self, self->cursor), task, error);
      g_object_unref (task);
      return;
    }
  g_ptr_array_add (self->sealed->pdata[self->cursor], sealed);
  self->cursor++;
  seal_for_next_unit (task);
}

/* Part n_parts_sealed + 1 to every unit, one after the other: one card
 * insertion (and PIN) for all of them.  Takes @task. */
static void
seal_for_next_unit (GTask *task)
{
  TkeCeremony *self = g_task_get_source_object (task);
  guint part = self->n_parts_sealed;
  guint n_parts = tke_ceremony_get_n_key_parts (self);
  TkeKeyPartSource *source = self->parts->pdata[part];
  TkeCryptoUnit *unit;
  GPtrArray *unit_sealed;
  g_autoptr (GBytes) aad = NULL;

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  if (self->cursor >= n_units (self))
    {
      self->n_parts_sealed++;
      if (GPOINTER_TO_UINT (g_task_get_task_data (task)) == LOAD_UNTIL_NEXT_PART_SEALED)
        {
          g_task_return_boolean (task, TRUE);
          g_object_unref (task);
        }
      else
        load_step (task);
      return;
    }
  unit = unit_at (self, self->cursor);
  /* A part sealed before a failure is sealed again, never twice. */
  unit_sealed = self->sealed->pdata[self->cursor];
  g_ptr_array_set_size (unit_sealed, part);
  progress_at (self, unit, _ ("sealing key part %u of %u (%s)…"), part + 1, n_parts,
               tke_key_part_source_get_description (source));
  aad = tke_service_client_key_part_aad (unit, part + 1, n_parts);
  tke_key_part_source_seal_async (source, self->importers->pdata[self->cursor], aad,
                                  g_task_get_cancellable (task), on_sealed, task);
}

/* What the load still needs, as far as the task's goal.  Takes @task. */
static void
load_step (GTask *task)
{
  TkeCeremony *self = g_task_get_source_object (task);
  LoadGoal goal = GPOINTER_TO_UINT (g_task_get_task_data (task));
  GError *error = NULL;

  if (self->importers->len < n_units (self))
    {
      prepare_next_unit (task);
      return;
    }
  if (goal == LOAD_UNTIL_PREPARED)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  if (self->n_parts_sealed < self->parts->len)
    {
      self->cursor = 0;
      seal_for_next_unit (task);
      return;
    }
  if (goal == LOAD_UNTIL_NEXT_PART_SEALED)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  /* The cards' check values are known now: still nothing is loaded. */
  if (!tke_key_parts_check_distinct (self->parts, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  self->n_done = 0;
  run_next_unit (task);
}

static void
on_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCeremony *self = g_task_get_source_object (task);
  g_autofree char *vp = NULL;
  GError *error = NULL;

  vp = tke_service_client_load_finish (TKE_SERVICE_CLIENT (source), result, &error);
  if (vp == NULL)
    {
      fail_at_unit (self, task, error);
      return;
    }
  progress (self, _ ("loaded; new register verification pattern %s."), vp);
  unit_done (g_steal_pointer (&task));
}

static void
run_load (TkeCeremony *self, TkeCryptoUnit *unit, GTask *task)
{
  g_autoptr (GPtrArray) signers = signers_for (self, unit, self->parts->len);

  progress (self, _ ("loading %u key parts…"), self->parts->len);
  tke_service_client_load_async (self->client, unit, self->sealed->pdata[self->n_done], signers,
                                 g_task_get_cancellable (task), on_loaded, task);
}

static gboolean
check_new_register (TkeCeremony *self,
                    TkeCryptoUnit *unit,
                    TkeNewRegisterState wanted,
                    GError **error)
{
  TkeNewRegisterState state = tke_crypto_unit_get_new_register_state (unit);

  if (state == wanted)
    return TRUE;
  g_set_error (error, TKE_ERROR, TKE_ERROR_PRECHECK_FAILED,
               _ ("Crypto unit %u: the new master key register is “%s”, not “%s”."),
               tke_crypto_unit_get_number (unit), tke_new_register_state_to_string (state),
               tke_new_register_state_to_string (wanted));
  return FALSE;
}

/* Starts the command on the current unit; takes the reference to @task. */
static void
run_unit (TkeCeremony *self, TkeCryptoUnit *unit, GTask *task)
{
  GCancellable *cancellable = g_task_get_cancellable (task);
  const char *new_vp = tke_crypto_unit_get_new_register_vp (unit);
  g_autoptr (GPtrArray) all = signers_for (self, unit, 0);
  g_autoptr (GPtrArray) one = signers_for (self, unit, 1);
  GError *error = NULL;

  switch (self->kind)
    {
    case TKE_CEREMONY_LOAD:
      run_load (self, unit, task);
      return;
    case TKE_CEREMONY_COMMIT:
      if (!check_new_register (self, unit, TKE_NEW_REGISTER_FULL_UNCOMMITTED, &error))
        break;
      progress (self, _ ("committing the new master key register…"));
      tke_service_client_commit_async (self->client, unit, new_vp, all, cancellable,
                                       on_command_done, task);
      return;
    case TKE_CEREMONY_SET_IMMEDIATE:
      if (!check_new_register (self, unit, TKE_NEW_REGISTER_FULL_COMMITTED, &error))
        break;
      progress (self, _ ("setting the new master key immediate…"));
      tke_service_client_set_immediate_async (self->client, unit, new_vp, one, cancellable,
                                              on_command_done, task);
      return;
    case TKE_CEREMONY_CLEAR_NEW:
      progress (self, _ ("clearing the new master key register…"));
      tke_service_client_clear_new_register_async (self->client, unit, one, cancellable,
                                                   on_command_done, task);
      return;
    case TKE_CEREMONY_CLEAR_CURRENT:
      progress (self, _ ("clearing the current master key register…"));
      tke_service_client_clear_current_register_async (self->client, unit, one, cancellable,
                                                       on_command_done, task);
      return;
    case TKE_CEREMONY_ADD_ADMIN:
      progress (self, _ ("installing administrator “%s”…"), self->admin_name);
      tke_service_client_add_admin_async (self->client, unit, self->admin_name,
                                          self->admin_public_key, all, cancellable, on_command_done,
                                          task);
      return;
    case TKE_CEREMONY_REMOVE_ADMIN:
      progress (self, _ ("removing administrator %.16s…"), self->admin_ski);
      tke_service_client_remove_admin_async (self->client, unit, self->admin_ski, all, cancellable,
                                             on_command_done, task);
      return;
    case TKE_CEREMONY_SET_THRESHOLDS:
      progress (self, _ ("setting thresholds %u (signature) and %u (revocation)…"),
                self->signature_threshold, self->revocation_threshold);
      tke_service_client_set_thresholds_async (self->client, unit, self->signature_threshold,
                                               self->revocation_threshold, all, cancellable,
                                               on_command_done, task);
      return;
    case TKE_CEREMONY_ZEROIZE:
      progress (self, _ ("zeroizing…"));
      tke_service_client_zeroize_async (self->client, unit, one, cancellable, on_command_done,
                                        task);
      return;
    default:
      g_assert_not_reached ();
    }
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
on_final_refresh (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  /* The command is applied; a failing re-read is only a stale view. */
  if (!tke_service_client_refresh_units_finish (TKE_SERVICE_CLIENT (source), result, &error))
    g_debug ("Refreshing the units after the ceremony failed: %s", error->message);
  g_task_return_boolean (task, TRUE);
}

/* Takes the reference to @task. */
static void
run_next_unit (GTask *task)
{
  TkeCeremony *self = g_task_get_source_object (task);
  TkeCryptoUnit *unit;

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  if (self->n_done >= g_list_model_get_n_items (G_LIST_MODEL (self->units)))
    {
      tke_service_client_refresh_units_async (self->client, G_LIST_MODEL (self->units), NULL,
                                              on_final_refresh, task);
      return;
    }
  unit = current_unit (self);
  /* Run again after it stopped half-way: the units that took the step
   * go by (tke_ceremony_unit_has_step_done()). */
  if (tke_ceremony_unit_has_step_done (self->kind, unit, G_LIST_MODEL (self->units)))
    {
      progress (self, _ ("done already."));
      unit_done (task);
      return;
    }
  if (!tke_crypto_unit_get_reachable (unit))
    {
      g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_NETWORK,
                               _ ("Crypto unit %u does not answer. Try again later."),
                               tke_crypto_unit_get_number (unit));
      g_object_unref (task);
      return;
    }
  run_unit (self, unit, task);
}

static void
on_first_refresh (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCeremony *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!tke_service_client_refresh_units_finish (TKE_SERVICE_CLIENT (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (self->kind == TKE_CEREMONY_LOAD)
    load_step (g_steal_pointer (&task));
  else
    run_next_unit (g_steal_pointer (&task));
}

static gboolean
check_n_parts (TkeCeremony *self, GError **error)
{
  guint n_parts = tke_ceremony_get_n_key_parts (self);

  if (n_parts >= 2 && n_parts <= 3 && self->parts->len <= n_parts)
    return TRUE;
  g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                       _ ("A master key is loaded from 2 or 3 key parts."));
  return FALSE;
}

static gboolean
check_arguments (TkeCeremony *self, GError **error)
{
  if (g_list_model_get_n_items (G_LIST_MODEL (self->units)) == 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("No crypto unit is selected. Select the units of one service "
                              "instance first."));
      return FALSE;
    }
  if (self->kind == TKE_CEREMONY_LOAD && !check_n_parts (self, error))
    return FALSE;
  if (self->kind == TKE_CEREMONY_LOAD && self->parts->len != tke_ceremony_get_n_key_parts (self))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("Only %u of the %u key parts are given."), self->parts->len,
                   tke_ceremony_get_n_key_parts (self));
      return FALSE;
    }
  if (self->kind == TKE_CEREMONY_LOAD && !tke_key_parts_check_distinct (self->parts, error))
    return FALSE;
  if (self->kind == TKE_CEREMONY_ROTATE)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           "A rotation runs as a TkeRotation, not as a TkeCeremony.");
      return FALSE;
    }
  if (self->kind == TKE_CEREMONY_ADD_ADMIN &&
      (self->admin_name == NULL || self->admin_public_key == NULL))
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("The administrator to install has no name or key."));
      return FALSE;
    }
  if (self->kind == TKE_CEREMONY_REMOVE_ADMIN && self->admin_ski == NULL)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("The administrator to remove is not named."));
      return FALSE;
    }
  if (self->kind == TKE_CEREMONY_SET_THRESHOLDS &&
      (self->signature_threshold < 1 || self->signature_threshold > 8 ||
       self->revocation_threshold < 1 || self->revocation_threshold > 8))
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("Thresholds are numbers from 1 to 8."));
      return FALSE;
    }
  return TRUE;
}

/**
 * tke_ceremony_run_async:
 * @self: a ceremony with its arguments
 * @cancellable: (nullable): a #GCancellable; a PIN entry on a PIN pad is
 *   cancelled only on the pad
 * @callback: called when the ceremony ended
 * @user_data: data for @callback
 *
 * Runs the ceremony on every unit, one unit after the other; for a load
 * prepared with tke_ceremony_prepare_load_async(), what is left.
 */
void
tke_ceremony_run_async (TkeCeremony *self,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (TKE_IS_CEREMONY (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tke_ceremony_run_async);
  g_task_set_task_data (task, GUINT_TO_POINTER (LOAD_ALL), NULL);
  self->n_done = 0;
  if (!check_arguments (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  tke_service_client_refresh_units_async (self->client, G_LIST_MODEL (self->units), cancellable,
                                          on_first_refresh, g_steal_pointer (&task));
}

/**
 * tke_ceremony_run_finish:
 * @self: a ceremony
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes tke_ceremony_run_async().
 *
 * Returns: %TRUE if the command was applied on every unit
 */
gboolean
tke_ceremony_run_finish (TkeCeremony *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static GTask *
load_task_new (TkeCeremony *self,
               LoadGoal goal,
               gpointer source_tag,
               GCancellable *cancellable,
               GAsyncReadyCallback callback,
               gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, GUINT_TO_POINTER (goal), NULL);
  return task;
}

/**
 * tke_ceremony_prepare_load_async:
 * @self: a load ceremony with its signers and its number of key parts
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when every unit has an importer key
 * @user_data: data for @callback
 *
 * Refreshes the units and has an importer key generated on each (signed
 * by the first signer: an administrator card asks for its PIN here).
 */
void
tke_ceremony_prepare_load_async (TkeCeremony *self,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (TKE_IS_CEREMONY (self));
  g_return_if_fail (self->kind == TKE_CEREMONY_LOAD);

  task = load_task_new (self, LOAD_UNTIL_PREPARED, tke_ceremony_prepare_load_async, cancellable,
                        callback, user_data);
  if (n_units (self) == 0 || !check_n_parts (self, &error))
    {
      if (error == NULL)
        g_set_error_literal (
            &error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
            _ ("No crypto unit is selected. Select the units of one service instance first."));
      g_task_return_error (task, error);
      return;
    }
  tke_service_client_refresh_units_async (self->client, G_LIST_MODEL (self->units), cancellable,
                                          on_first_refresh, g_steal_pointer (&task));
}

/**
 * tke_ceremony_prepare_load_finish:
 * @self: a load ceremony
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes tke_ceremony_prepare_load_async().
 *
 * Returns: %TRUE if every unit has an importer key
 */
gboolean
tke_ceremony_prepare_load_finish (TkeCeremony *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * tke_ceremony_seal_next_part_async:
 * @self: a load ceremony
 * @part: the next key part (a key part card asks for its PIN here)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the part is sealed to every unit
 * @user_data: data for @callback
 *
 * Seals @part, as part "i of n", to the importer key of every unit.  A
 * failed seal can be tried again with the same or another source.
 */
void
tke_ceremony_seal_next_part_async (TkeCeremony *self,
                                   TkeKeyPartSource *part,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (TKE_IS_CEREMONY (self));
  g_return_if_fail (TKE_IS_KEY_PART_SOURCE (part));
  g_return_if_fail (self->kind == TKE_CEREMONY_LOAD);

  task = load_task_new (self, LOAD_UNTIL_NEXT_PART_SEALED, tke_ceremony_seal_next_part_async,
                        cancellable, callback, user_data);
  if (self->n_parts_sealed >= tke_ceremony_get_n_key_parts (self))
    {
      g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                               _ ("All %u key parts are sealed already."),
                               tke_ceremony_get_n_key_parts (self));
      return;
    }
  /* The part replaces one that failed to seal. */
  g_ptr_array_set_size (self->parts, self->n_parts_sealed);
  g_ptr_array_add (self->parts, g_object_ref (part));
  if (!tke_key_parts_check_distinct (self->parts, &error))
    {
      g_ptr_array_set_size (self->parts, self->n_parts_sealed);
      g_task_return_error (task, error);
      return;
    }
  load_step (g_steal_pointer (&task));
}

/**
 * tke_ceremony_seal_next_part_finish:
 * @self: a load ceremony
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes tke_ceremony_seal_next_part_async().
 *
 * Returns: %TRUE if the part is sealed to every unit
 */
gboolean
tke_ceremony_seal_next_part_finish (TkeCeremony *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
tke_ceremony_finalize (GObject *object)
{
  TkeCeremony *self = TKE_CEREMONY (object);

  g_clear_object (&self->client);
  g_clear_object (&self->units);
  g_clear_pointer (&self->signers, g_ptr_array_unref);
  g_clear_pointer (&self->parts, g_ptr_array_unref);
  g_clear_pointer (&self->admin_name, g_free);
  g_clear_pointer (&self->admin_public_key, g_bytes_unref);
  g_clear_pointer (&self->admin_ski, g_free);
  g_clear_pointer (&self->importers, g_ptr_array_unref);
  g_clear_pointer (&self->sealed, g_ptr_array_unref);

  G_OBJECT_CLASS (tke_ceremony_parent_class)->finalize (object);
}

static void
tke_ceremony_class_init (TkeCeremonyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tke_ceremony_finalize;

  /**
   * TkeCeremony::progress:
   * @self: the ceremony
   * @unit: the unit the step is for
   * @message: what happens now, for people
   *
   * Emitted, on the caller's main context, when a step starts.
   */
  signals[SIGNAL_PROGRESS] =
      g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, TKE_TYPE_CRYPTO_UNIT, G_TYPE_STRING);
  /**
   * TkeCeremony::unit-done:
   * @self: the ceremony
   * @unit: the unit on which the command was applied
   *
   * Emitted when the command was applied on @unit.
   */
  signals[SIGNAL_UNIT_DONE] =
      g_signal_new ("unit-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 1, TKE_TYPE_CRYPTO_UNIT);
}

static void
tke_ceremony_init (TkeCeremony *self)
{
  self->units = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  self->signers = g_ptr_array_new_with_free_func (g_object_unref);
  self->parts = g_ptr_array_new_with_free_func (g_object_unref);
  self->importers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  self->sealed = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
}
