/* tke-rotation-status.c: what the service says of a master key rotation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An immutable-after-parse snapshot of the service's persistent rotation
 * state: the service client builds one from each status answer, and the
 * recovery advisor and both front ends read it.
 */

#include "config.h"

#include "tke-rotation-status.h"

typedef struct
{
  GDateTime *timestamp;
  char *text;
} Message;

/**
 * TkeRotationStatus:
 *
 * The state of the service's master key rotation, as the service reports it:
 * where the rotation stands, how far the rewrap of the key storage got, and
 * the service's messages in its own order.
 */
struct _TkeRotationStatus
{
  GObject parent_instance;

  TkeRotationState state;
  char *target_vp;
  guint64 keys_done;
  guint64 keys_total;
  char *error_message;
  GArray *messages;
};

G_DEFINE_FINAL_TYPE (TkeRotationStatus, tke_rotation_status, G_TYPE_OBJECT)

static void
message_clear (Message *message)
{
  g_clear_pointer (&message->timestamp, g_date_time_unref);
  g_clear_pointer (&message->text, g_free);
}

/**
 * tke_rotation_status_new: (constructor)
 * @state: where the rotation stands
 * @target_vp: (nullable): the VP of the key the storage is rewrapped to
 * @keys_done: keys already wrapped under the target key
 * @keys_total: keys in the storage
 *
 * Creates a status, as the service client does from the service's answer.
 *
 * Returns: (transfer full): a new status without messages
 */
TkeRotationStatus *
tke_rotation_status_new (TkeRotationState state,
                         const char *target_vp,
                         guint64 keys_done,
                         guint64 keys_total)
{
  TkeRotationStatus *self = g_object_new (TKE_TYPE_ROTATION_STATUS, NULL);

  self->state = state;
  self->target_vp = g_strdup (target_vp);
  self->keys_done = keys_done;
  self->keys_total = keys_total;

  return self;
}

/**
 * tke_rotation_status_get_state:
 * @self: a #TkeRotationStatus
 *
 * Where the rotation stands.
 *
 * Returns: the state
 */
TkeRotationState
tke_rotation_status_get_state (TkeRotationStatus *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_STATUS (self), TKE_ROTATION_STATE_NONE);
  return self->state;
}

/**
 * tke_rotation_status_get_target_vp:
 * @self: a #TkeRotationStatus
 *
 * The verification pattern of the new master key.
 *
 * Returns: (nullable): the VP of the key the storage is rewrapped to
 */
const char *
tke_rotation_status_get_target_vp (TkeRotationStatus *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_STATUS (self), NULL);
  return self->target_vp;
}

/**
 * tke_rotation_status_get_keys_done:
 * @self: a #TkeRotationStatus
 *
 * How many keys the rewrap has wrapped under the new master key.
 *
 * Returns: the keys done
 */
guint64
tke_rotation_status_get_keys_done (TkeRotationStatus *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_STATUS (self), 0);
  return self->keys_done;
}

/**
 * tke_rotation_status_get_keys_total:
 * @self: a #TkeRotationStatus
 *
 * How many keys the service's key storage holds.
 *
 * Returns: the keys in the storage
 */
guint64
tke_rotation_status_get_keys_total (TkeRotationStatus *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_STATUS (self), 0);
  return self->keys_total;
}

/**
 * tke_rotation_status_get_error_message:
 * @self: a #TkeRotationStatus
 *
 * Why the service stopped the rotation, when the state is
 * %TKE_ROTATION_STATE_FAILED.
 *
 * Returns: (nullable): the service's explanation of a failed rotation
 */
const char *
tke_rotation_status_get_error_message (TkeRotationStatus *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_STATUS (self), NULL);
  return self->error_message;
}

/**
 * tke_rotation_status_set_error_message:
 * @self: a #TkeRotationStatus
 * @message: (nullable): the service's explanation of a failed rotation
 *
 * Sets why the service stopped the rotation.
 */
void
tke_rotation_status_set_error_message (TkeRotationStatus *self, const char *message)
{
  g_return_if_fail (TKE_IS_ROTATION_STATUS (self));

  g_free (self->error_message);
  self->error_message = g_strdup (message);
}

/**
 * tke_rotation_status_add_message:
 * @self: a #TkeRotationStatus
 * @timestamp: when the service recorded it
 * @text: the message, e.g. %TKE_ROTATION_MESSAGE_STARTED
 *
 * Appends one of the service's messages.
 *
 * Messages are kept in the order they are added: the service's order.
 */
void
tke_rotation_status_add_message (TkeRotationStatus *self, GDateTime *timestamp, const char *text)
{
  Message message;

  g_return_if_fail (TKE_IS_ROTATION_STATUS (self));
  g_return_if_fail (timestamp != NULL);
  g_return_if_fail (text != NULL);

  message.timestamp = g_date_time_ref (timestamp);
  message.text = g_strdup (text);
  g_array_append_val (self->messages, message);
}

/**
 * tke_rotation_status_get_n_messages:
 * @self: a #TkeRotationStatus
 *
 * The number of the service's messages.
 *
 * Returns: the number of messages
 */
guint
tke_rotation_status_get_n_messages (TkeRotationStatus *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_STATUS (self), 0);
  return self->messages->len;
}

/**
 * tke_rotation_status_get_message:
 * @self: a #TkeRotationStatus
 * @index: 0 for the first message
 * @timestamp: (out) (optional) (transfer none): when it was recorded
 *
 * One of the service's messages, in the order the service recorded them.
 *
 * Returns: the message's text
 */
const char *
tke_rotation_status_get_message (TkeRotationStatus *self, guint index, GDateTime **timestamp)
{
  Message *message;

  g_return_val_if_fail (TKE_IS_ROTATION_STATUS (self), NULL);
  g_return_val_if_fail (index < self->messages->len, NULL);

  message = &g_array_index (self->messages, Message, index);
  if (timestamp != NULL)
    *timestamp = message->timestamp;
  return message->text;
}

static void
tke_rotation_status_finalize (GObject *object)
{
  TkeRotationStatus *self = TKE_ROTATION_STATUS (object);

  g_clear_pointer (&self->target_vp, g_free);
  g_clear_pointer (&self->error_message, g_free);
  g_clear_pointer (&self->messages, g_array_unref);

  G_OBJECT_CLASS (tke_rotation_status_parent_class)->finalize (object);
}

static void
tke_rotation_status_class_init (TkeRotationStatusClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tke_rotation_status_finalize;
}

static void
tke_rotation_status_init (TkeRotationStatus *self)
{
  self->messages = g_array_new (FALSE, FALSE, sizeof (Message));
  g_array_set_clear_func (self->messages, (GDestroyNotify) message_clear);
}
