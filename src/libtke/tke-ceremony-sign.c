/* tke-ceremony-sign.c: every command but load, signer by signer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Administrators taking turns at one reader sign best one after the
 * other, not unit after unit: every unit's command is prepared first (its
 * counter read and its expiry set: the bytes that are signed), then the
 * first signer signs every command, then the next signer, and only then
 * are the commands sent, unit by unit.  Commit over 3 units with 2
 * administrator cards is then 2 PINs and 1 card swap.
 *
 * What can go wrong, and what happens:
 * - a command would expire before it is sent (a slow second signer): it
 *   is never sent; the commands not sent yet are prepared and signed again,
 *   and the progress says so;
 * - a signer fails (a card pulled at the PIN pad, Cancel on the pad, a
 *   wrong card): nothing is sent, and the error says so.  A new run starts
 *   cleanly: signatures are not kept across runs, because a signed command
 *   is an authorization for as long as it lives, and the unit's counter may
 *   have moved in the meantime;
 * - a unit refuses a command whose counter moved since it was prepared
 *   (another workstation sent one): the ceremony stops at that unit, which
 *   is unchanged; run again, it goes on with the units not done.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-ceremony-private.h"
#include "tke-ceremony-rules.h"
#include "tke-crypto.h"
#include "tke-error.h"
#include "tke-service-client-private.h"
#include "tke-signer.h"
#include "tke-types.h"
#include "tke-unit-identity.h"

/* One unit's command, from its preparation to its sending. */
typedef struct
{
  TkeCryptoUnit *unit;
  GBytes *bytes; /* NULL: the unit has the change already */
  gint64 expires;
  guint n_signers;       /* how many of the signers sign it */
  GPtrArray *signatures; /* ski, base64, ski, base64, … */
} Command;

static void
command_free (Command *command)
{
  g_clear_object (&command->unit);
  g_clear_pointer (&command->bytes, g_bytes_unref);
  g_clear_pointer (&command->signatures, g_ptr_array_unref);
  g_free (command);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Command, command_free)

void
_tke_ceremony_set_command_lifetime (TkeCeremony *self, guint seconds)
{
  g_return_if_fail (TKE_IS_CEREMONY (self));
  self->command_lifetime = seconds;
}

/**
 * tke_ceremony_get_summary:
 * @self: a ceremony
 *
 * What the administrators sign, once every command is prepared
 * (#TkeCeremony::prepared): the command and, per crypto unit, the
 * verification pattern it names, in the groups in which it is read aloud.
 *
 * Returns: (nullable): the summary, or %NULL before the commands are prepared
 */
const char *
tke_ceremony_get_summary (TkeCeremony *self)
{
  g_return_val_if_fail (TKE_IS_CEREMONY (self), NULL);
  return self->summary;
}

static guint
lifetime_of (TkeCeremony *self)
{
  return self->command_lifetime != 0 ? self->command_lifetime : TKE_COMMAND_LIFETIME_SECONDS;
}

/* A command needs this much life left to be signed or sent: the sending
 * itself takes a moment, and the unit's clock may differ a little. */
static gint64
margin_of (TkeCeremony *self)
{
  return MIN (30, lifetime_of (self) / 4);
}

static gboolean
expires_soon (TkeCeremony *self, Command *command)
{
  return command->expires - g_get_real_time () / G_USEC_PER_SEC < margin_of (self);
}

/* How many of the signers sign @unit's command (DESIGN §1, the rules of
 * tke-ceremony-rules.c): every one for the threshold commands, the first
 * for the others, none in imprint mode (except leaving it). */
static guint
n_signers_for (TkeCeremony *self, TkeCryptoUnit *unit)
{
  if (tke_ceremony_get_n_signatures (self->kind, unit, 0) == 0)
    return 0;
  switch (self->kind)
    {
    case TKE_CEREMONY_COMMIT:
    case TKE_CEREMONY_ADD_ADMIN:
    case TKE_CEREMONY_REMOVE_ADMIN:
    case TKE_CEREMONY_SET_THRESHOLDS:
      return self->signers->len;
    case TKE_CEREMONY_LOAD:
    case TKE_CEREMONY_SET_IMMEDIATE:
    case TKE_CEREMONY_CLEAR_NEW:
    case TKE_CEREMONY_CLEAR_CURRENT:
    case TKE_CEREMONY_ZEROIZE:
    case TKE_CEREMONY_ROTATE:
    default:
      return MIN (self->signers->len, 1);
    }
}

/* ---- The command of each kind ---- */

static gboolean
check_new_register (TkeCryptoUnit *unit, TkeNewRegisterState wanted, GError **error)
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

static JsonNode *
thresholds_args (TkeCeremony *self)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "signature_threshold");
  json_builder_add_int_value (builder, self->signature_threshold);
  json_builder_set_member_name (builder, "revocation_threshold");
  json_builder_add_int_value (builder, self->revocation_threshold);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* The command's name and arguments for @unit, or FALSE with @error when
 * the unit does not allow it. */
static gboolean
command_for (
    TkeCeremony *self, TkeCryptoUnit *unit, const char **name, JsonNode **args, GError **error)
{
  const char *new_vp = tke_crypto_unit_get_new_register_vp (unit);
  g_autofree char *hex = NULL;

  switch (self->kind)
    {
    case TKE_CEREMONY_COMMIT:
      *name = "commit";
      *args = _tke_service_string_args ("new_mkvp", new_vp, NULL);
      return check_new_register (unit, TKE_NEW_REGISTER_FULL_UNCOMMITTED, error);
    case TKE_CEREMONY_SET_IMMEDIATE:
      *name = "set_immediate";
      *args = _tke_service_string_args ("new_mkvp", new_vp, NULL);
      return check_new_register (unit, TKE_NEW_REGISTER_FULL_COMMITTED, error);
    case TKE_CEREMONY_CLEAR_NEW:
      *name = "clear_new";
      break;
    case TKE_CEREMONY_CLEAR_CURRENT:
      *name = "clear_current";
      break;
    case TKE_CEREMONY_ADD_ADMIN:
      *name = "add_admin";
      hex = tke_crypto_hex_encode (g_bytes_get_data (self->admin_public_key, NULL),
                                   g_bytes_get_size (self->admin_public_key));
      *args = _tke_service_string_args ("name", self->admin_name, "public_key", hex, NULL);
      return TRUE;
    case TKE_CEREMONY_REMOVE_ADMIN:
      *name = "remove_admin";
      *args = _tke_service_string_args ("ski", self->admin_ski, NULL);
      return TRUE;
    case TKE_CEREMONY_SET_THRESHOLDS:
      *name = "set_thresholds";
      *args = thresholds_args (self);
      return TRUE;
    case TKE_CEREMONY_ZEROIZE:
      *name = "zeroize";
      break;
    case TKE_CEREMONY_LOAD:
    case TKE_CEREMONY_ROTATE:
    default:
      g_assert_not_reached ();
    }
  *args = _tke_service_string_args (NULL);
  return TRUE;
}

/* What the unit is doing when its command is sent. */
static void
progress_sending (TkeCeremony *self, TkeCryptoUnit *unit)
{
  switch (self->kind)
    {
    case TKE_CEREMONY_COMMIT:
      _tke_ceremony_progress_at (self, unit, _ ("committing the new master key register…"));
      break;
    case TKE_CEREMONY_SET_IMMEDIATE:
      _tke_ceremony_progress_at (self, unit, _ ("setting the new master key immediate…"));
      break;
    case TKE_CEREMONY_CLEAR_NEW:
      _tke_ceremony_progress_at (self, unit, _ ("clearing the new master key register…"));
      break;
    case TKE_CEREMONY_CLEAR_CURRENT:
      _tke_ceremony_progress_at (self, unit, _ ("clearing the current master key register…"));
      break;
    case TKE_CEREMONY_ADD_ADMIN:
      _tke_ceremony_progress_at (self, unit, _ ("installing administrator “%s”…"),
                                 self->admin_name);
      break;
    case TKE_CEREMONY_REMOVE_ADMIN:
      _tke_ceremony_progress_at (self, unit, _ ("removing administrator %.16s…"), self->admin_ski);
      break;
    case TKE_CEREMONY_SET_THRESHOLDS:
      _tke_ceremony_progress_at (self, unit,
                                 _ ("setting thresholds %u (signature) and %u (revocation)…"),
                                 self->signature_threshold, self->revocation_threshold);
      break;
    case TKE_CEREMONY_ZEROIZE:
      _tke_ceremony_progress_at (self, unit, _ ("zeroizing…"));
      break;
    case TKE_CEREMONY_LOAD:
    case TKE_CEREMONY_ROTATE:
    default:
      g_assert_not_reached ();
    }
}

/* ---- What is signed, said before the first PIN ---- */

static char *
summary_heading (TkeCeremony *self)
{
  switch (self->kind)
    {
    case TKE_CEREMONY_COMMIT:
      return g_strdup (_ ("Commit the new master key. The verification pattern of each crypto "
                          "unit's new register, to read aloud:"));
    case TKE_CEREMONY_SET_IMMEDIATE:
      return g_strdup (_ ("Set the new master key immediate. The verification pattern of each "
                          "crypto unit's new register, to read aloud:"));
    case TKE_CEREMONY_CLEAR_NEW:
      return g_strdup (_ ("Clear the new master key register of these crypto units:"));
    case TKE_CEREMONY_CLEAR_CURRENT:
      return g_strdup (_ ("Clear the current master key register of these crypto units:"));
    case TKE_CEREMONY_ADD_ADMIN:
      return g_strdup_printf (_ ("Install administrator “%s” on these crypto units:"),
                              self->admin_name);
    case TKE_CEREMONY_REMOVE_ADMIN:
      return g_strdup_printf (_ ("Remove administrator %.16s… from these crypto units:"),
                              self->admin_ski);
    case TKE_CEREMONY_SET_THRESHOLDS:
      return g_strdup_printf (_ ("Set thresholds %u (signature) and %u (revocation) on these "
                                 "crypto units:"),
                              self->signature_threshold, self->revocation_threshold);
    case TKE_CEREMONY_ZEROIZE:
    case TKE_CEREMONY_LOAD:
    case TKE_CEREMONY_ROTATE:
    default:
      return g_strdup (_ ("Zeroize these crypto units:"));
    }
}

/* "Crypto units 1, 2, 3:" for the units whose command names @vp (NULL:
 * the commands that name none), from @first on. */
static char *
units_naming (TkeCeremony *self, guint first, const char *vp)
{
  g_autoptr (GString) numbers = g_string_new (NULL);
  guint n = 0;

  for (guint i = first; i < self->prepared->len; i++)
    {
      Command *command = self->prepared->pdata[i];

      if (command->bytes == NULL ||
          (vp != NULL && g_strcmp0 (vp, tke_crypto_unit_get_new_register_vp (command->unit)) != 0))
        continue;
      g_string_append_printf (numbers, n++ == 0 ? "%u" : ", %u",
                              tke_crypto_unit_get_number (command->unit));
    }
  /* Translators: "Crypto units 1, 2, 3:" heads the units a summary line is for */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Crypto unit %s:", "Crypto units %s:", n),
                          numbers->str);
}

/* Is the same line said already, for a command before @i? */
static gboolean
said_before (TkeCeremony *self, guint i, gboolean with_vp)
{
  Command *command = self->prepared->pdata[i];

  for (guint j = 0; j < i; j++)
    {
      Command *other = self->prepared->pdata[j];

      if (other->bytes != NULL &&
          (!with_vp || g_strcmp0 (tke_crypto_unit_get_new_register_vp (other->unit),
                                  tke_crypto_unit_get_new_register_vp (command->unit)) == 0))
        return TRUE;
    }
  return FALSE;
}

/* The heading, then the units grouped by the VP their command names (one
 * group when all agree, as they should), each VP in the groups read
 * aloud, then the units that have the change already. */
static void
make_summary (TkeCeremony *self)
{
  g_autofree char *heading = summary_heading (self);
  g_autoptr (GString) text = g_string_new (heading);
  gboolean with_vp = self->kind == TKE_CEREMONY_COMMIT || self->kind == TKE_CEREMONY_SET_IMMEDIATE;

  for (guint i = 0; i < self->prepared->len; i++)
    {
      Command *command = self->prepared->pdata[i];
      const char *vp = with_vp ? tke_crypto_unit_get_new_register_vp (command->unit) : NULL;
      g_autofree char *units = NULL;
      g_autofree char *groups = NULL;

      if (command->bytes == NULL || said_before (self, i, with_vp))
        continue;
      units = units_naming (self, i, vp);
      g_string_append_printf (text, "\n%s", units);
      if (vp != NULL)
        {
          groups = tke_vp_format_groups (vp);
          g_string_append_printf (text, "\n%s", groups);
        }
    }
  for (guint i = 0; i < self->prepared->len; i++)
    {
      Command *command = self->prepared->pdata[i];

      if (command->bytes != NULL)
        continue;
      g_string_append_c (text, '\n');
      /* Translators: a line of the summary, "Crypto unit 2: done already" */
      g_string_append_printf (text, _ ("Crypto unit %u: done already"),
                              tke_crypto_unit_get_number (command->unit));
    }
  g_free (self->summary);
  self->summary = g_string_free (g_steal_pointer (&text), FALSE);
}

/* ---- Preparing: every unit's command, with its counter and expiry ---- */

static void prepare_next (GTask *task);
static void sign_next (GTask *task);
static void send_next (GTask *task);

static void
fail (GTask *task, GError *error)
{
  g_task_return_error (task, error);
  g_object_unref (task);
}

/* A failure before anything was sent: the error says so. */
static void
fail_unsent (GTask *task, GError *error, const char *who)
{
  TkeCeremony *self = g_task_get_source_object (task);
  g_autofree char *message = NULL;

  if (error->domain != TKE_ERROR)
    {
      fail (task, error);
      return;
    }
  message = self->n_done == 0
                ? g_strdup_printf (_ ("%s: %s Nothing was sent: no crypto unit was "
                                      "changed."),
                                   who, error->message)
                : g_strdup_printf (_ ("%s: %s Nothing more was sent."), who, error->message);
  g_free (error->message);
  error->message = g_steal_pointer (&message);
  fail (task, error);
}

/* Decides and builds @command from its unit's state and @counter, both
 * from the unit's verified answer to this run's fresh query; a unit that
 * has the change already keeps no bytes. */
static gboolean
prepare_unit (TkeCeremony *self, Command *command, gint64 counter, GError **error)
{
  TkeCryptoUnit *unit = command->unit;
  g_autoptr (JsonNode) args = NULL;
  g_autofree char *args_json = NULL;
  const char *name = NULL;

  /* Run again after it stopped half-way: the units that took the step
   * go by (tke_ceremony_unit_has_step_done()). */
  if (tke_ceremony_unit_has_step_done (self->kind, unit, G_LIST_MODEL (self->units)))
    return TRUE;
  if (!tke_crypto_unit_get_reachable (unit) || counter < 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_NETWORK,
                   _ ("Crypto unit %u does not answer. Try again later."),
                   tke_crypto_unit_get_number (unit));
      return FALSE;
    }
  if (!command_for (self, unit, &name, &args, error))
    return FALSE;
  command->n_signers = n_signers_for (self, unit);
  _tke_ceremony_progress_at (self, unit, _ ("preparing the command…"));
  args_json = json_to_string (args, FALSE);
  command->expires = g_get_real_time () / G_USEC_PER_SEC + lifetime_of (self);
  command->bytes = tke_service_client_build_command (tke_crypto_unit_get_instance_id (unit),
                                                     tke_crypto_unit_get_hsm_id (unit), name,
                                                     counter, command->expires, args_json);
  /* A lifetime shorter than the margin would prepare forever. */
  if (expires_soon (self, command))
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("Crypto unit %u: a command lives %u seconds, too short to be signed and "
                      "sent."),
                   tke_crypto_unit_get_number (unit), lifetime_of (self));
      return FALSE;
    }
  return TRUE;
}

/* The units not done are read (one verified query each, the only read
 * of a run); every decision and every command's counter comes from it. */
static void
on_units_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeCeremony *self = g_task_get_source_object (task);
  g_autoptr (GArray) counters = NULL;
  GError *error = NULL;

  if (!_tke_service_client_refresh_units_finish_counters (TKE_SERVICE_CLIENT (source), result,
                                                          &counters, &error))
    {
      fail (task, error);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  for (guint i = 0; i < counters->len; i++)
    {
      Command *command = g_new0 (Command, 1);

      command->unit = g_object_ref (_tke_ceremony_unit_at (self, self->n_done + i));
      command->signatures = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (self->prepared, command);
      if (!prepare_unit (self, command, g_array_index (counters, gint64, i), &error))
        {
          fail (task, error);
          return;
        }
    }
  make_summary (self);
  _tke_ceremony_emit_prepared (self);
  self->sign_signer = 0;
  self->sign_command = 0;
  sign_next (task);
}

/* Takes the reference to @task. */
static void
prepare_next (GTask *task)
{
  TkeCeremony *self = g_task_get_source_object (task);
  g_autoptr (GListStore) left = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  for (guint i = self->n_done; i < _tke_ceremony_n_units (self); i++)
    g_list_store_append (left, _tke_ceremony_unit_at (self, i));
  tke_service_client_refresh_units_async (self->client, G_LIST_MODEL (left),
                                          g_task_get_cancellable (task), on_units_read, task);
}

/* "10 minutes", or seconds for the tests' short lives. */
static char *
describe_lifetime (guint seconds)
{
  if (seconds % 60 == 0)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u minute", "%u minutes", seconds / 60),
                            seconds / 60);
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u second", "%u seconds", seconds),
                          seconds);
}

/* Drops the commands not sent yet and prepares them again. */
static void
prepare_again (GTask *task, Command *expiring)
{
  TkeCeremony *self = g_task_get_source_object (task);
  g_autofree char *lifetime = describe_lifetime (lifetime_of (self));
  g_autofree char *message = g_strdup_printf (
      _ ("The command for crypto unit %u would expire before it is sent (a command is valid for "
         "%s). It is not sent: the commands are prepared again, and every administrator signs "
         "them again."),
      tke_crypto_unit_get_number (expiring->unit), lifetime);

  _tke_ceremony_emit_progress (self, expiring->unit, message);
  g_ptr_array_set_size (self->prepared, 0);
  prepare_next (task);
}

/* ---- Signing: the first signer for every unit, then the next ---- */

static TkeSigner *
current_signer (TkeCeremony *self)
{
  return self->signers->pdata[self->sign_signer];
}

/* "Administrator 1 of 2 (name)" */
static char *
describe_signer (TkeCeremony *self)
{
  const char *name = tke_signer_get_name (current_signer (self));

  if (name == NULL)
    return g_strdup_printf (_ ("Administrator %u of %u"), self->sign_signer + 1,
                            self->signers->len);
  return g_strdup_printf (_ ("Administrator %u of %u (%s)"), self->sign_signer + 1,
                          self->signers->len, name);
}

static void
on_signed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeCeremony *self = g_task_get_source_object (task);
  Command *command = self->prepared->pdata[self->sign_command];
  TkeSigner *signer = TKE_SIGNER (source);
  g_autoptr (GBytes) signature = NULL;
  g_autofree char *who = NULL;
  GError *error = NULL;

  signature = tke_signer_sign_finish (signer, result, &error);
  who = describe_signer (self);
  if (signature == NULL && g_error_matches (error, TKE_ERROR, TKE_ERROR_PIN_INCORRECT))
    {
      /* A typo costs one try, not the signatures made so far: the card
       * counts it, and asks again (a blocked card is the end). */
      g_autofree char *message =
          g_strdup_printf (_ ("%s: %s The PIN is asked for again."), who, error->message);

      _tke_ceremony_emit_progress (self, command->unit, message);
      g_error_free (error);
      sign_next (task);
      return;
    }
  if (signature == NULL)
    {
      fail_unsent (task, error, who);
      return;
    }
  if (tke_signer_get_ski (signer) == NULL)
    {
      fail_unsent (task,
                   g_error_new_literal (TKE_ERROR, TKE_ERROR_FAILED,
                                        _ ("The signature key did not say its subject key "
                                           "identifier.")),
                   who);
      return;
    }
  g_ptr_array_add (command->signatures, g_ascii_strdown (tke_signer_get_ski (signer), -1));
  g_ptr_array_add (command->signatures, g_base64_encode (g_bytes_get_data (signature, NULL),
                                                         g_bytes_get_size (signature)));
  self->sign_command++;
  sign_next (task);
}

/* The next command the current signer signs, moving on to the next
 * signer after the last one; FALSE when every signature is in. */
static gboolean
find_next_signature (TkeCeremony *self)
{
  for (; self->sign_signer < self->signers->len; self->sign_signer++, self->sign_command = 0)
    for (; self->sign_command < self->prepared->len; self->sign_command++)
      {
        Command *command = self->prepared->pdata[self->sign_command];

        if (command->bytes != NULL && self->sign_signer < command->n_signers)
          return TRUE;
      }
  return FALSE;
}

/* Takes the reference to @task. */
static void
sign_next (GTask *task)
{
  TkeCeremony *self = g_task_get_source_object (task);
  g_autofree char *who = NULL;
  g_autofree char *message = NULL;
  Command *command;

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  if (!find_next_signature (self))
    {
      send_next (task);
      return;
    }
  command = self->prepared->pdata[self->sign_command];
  if (expires_soon (self, command))
    {
      prepare_again (task, command);
      return;
    }
  who = describe_signer (self);
  /* Translators: "Administrator 1 of 2 (Alice): signing for crypto unit 3" */
  message = g_strdup_printf (_ ("%s: signing for crypto unit %u"), who,
                             tke_crypto_unit_get_number (command->unit));
  _tke_ceremony_emit_progress (self, command->unit, message);
  tke_signer_sign_async (current_signer (self), command->bytes, g_task_get_cancellable (task),
                         on_signed, task);
}

/* ---- Sending, unit by unit ---- */

static void
on_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeCeremony *self = g_task_get_source_object (task);
  g_autoptr (Command) command = g_ptr_array_steal_index (self->prepared, 0);
  g_autoptr (JsonObject) object = NULL;
  GError *error = NULL;

  object = _tke_service_client_send_signed_finish (TKE_SERVICE_CLIENT (source), result, &error);
  if (object == NULL && g_error_matches (error, TKE_ERROR, TKE_ERROR_REPLAY))
    {
      /* The counter moved since the command was prepared: another
       * workstation's command came first.  The unit took nothing. */
      g_autofree char *message = g_strdup_printf (
          _ ("Crypto unit %u refused the command: its transaction counter moved after the command "
             "was prepared (another command reached it first). Crypto unit %u is unchanged; run "
             "the "
             "ceremony again: it goes on with the units not done."),
          tke_crypto_unit_get_number (command->unit), tke_crypto_unit_get_number (command->unit));

      g_free (error->message);
      error->message = g_steal_pointer (&message);
      fail (task, error);
      return;
    }
  if (object == NULL)
    {
      _tke_ceremony_fail_at (command->unit, task, error);
      g_object_unref (task);
      return;
    }
  _tke_ceremony_emit_unit_done (self, command->unit);
  self->n_done++;
  send_next (task);
}

/* Takes the reference to @task. */
static void
send_next (GTask *task)
{
  TkeCeremony *self = g_task_get_source_object (task);
  Command *command;

  if (self->prepared->len == 0)
    {
      /* Every unit has it: the final refresh (a Cancel now stops nothing). */
      _tke_ceremony_run_next_unit (task);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  command = self->prepared->pdata[0];
  if (command->bytes == NULL)
    {
      _tke_ceremony_progress_at (self, command->unit, _ ("done already."));
      _tke_ceremony_emit_unit_done (self, command->unit);
      g_ptr_array_remove_index (self->prepared, 0);
      self->n_done++;
      send_next (task);
      return;
    }
  /* Never an expired command: the unit would refuse it, or worse, a
   * clock behind ours would not. */
  if (expires_soon (self, command))
    {
      prepare_again (task, command);
      return;
    }
  progress_sending (self, command->unit);
  _tke_service_client_send_signed_async (self->client, command->unit, command->bytes,
                                         command->signatures, g_task_get_cancellable (task),
                                         on_sent, task);
}

void
_tke_ceremony_run_signed (GTask *task)
{
  TkeCeremony *self = g_task_get_source_object (task);

  g_clear_pointer (&self->prepared, g_ptr_array_unref);
  self->prepared = g_ptr_array_new_with_free_func ((GDestroyNotify) command_free);
  g_clear_pointer (&self->summary, g_free);
  prepare_next (task);
}
