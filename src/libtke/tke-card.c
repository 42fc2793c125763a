/* tke-card.c: a TKE smart card in a PIN-pad reader, through PC/SC
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The host side of data/doc/card-protocol.md: the TkeCard type, its
 * properties and signals.  The rest of the type lives in
 * tke-card-apdu.c (APDU transport), tke-card-pin-pad.c (the PIN pad),
 * tke-card-open.c (opening and waiting for a card) and
 * tke-card-commands.c (the card's commands).  Every blocking PC/SC call
 * runs in a GTask worker thread on the card's own SCARDCONTEXT, one
 * operation at a time (a mutex), so several cards work in parallel and the
 * caller's main loop never waits.
 *
 * PINs: there is no function here that takes a PIN.  A PIN is typed on the
 * reader's PIN pad (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT); the reader
 * formats it into the VERIFY APDU.  A reader without a PIN pad is refused.
 *
 * Cancellation: a GCancellable stops the wait for a reader or a card
 * (SCardCancel) and an operation that has not started.  It cannot stop a PIN
 * entry in progress: no PIN-pad reader lets the host abort it (there is no
 * FEATURE_ABORT; SCardCancel does not reach SCardControl).  The person
 * presses Cancel on the pad, or the pad times out (pin-timeout seconds), so
 * front ends say "press Cancel on the PIN pad" instead of offering a cancel
 * button that would do nothing.
 *
 * A PIN's scope: the card keeps a PIN verified until it is removed, reset
 * or SELECTed again, for every connection to it (card-protocol.md §4.1).
 * So what counts is who typed it, for what:
 *
 * - An operation takes a PIN as verified only if it was typed through the
 *   same TkeCard (the same connection) in that handle's current scope;
 *   what another handle verified (the Smart card tab describing the card,
 *   another ceremony) makes the person type the PIN again.
 * - Without a login, an operation's scope is the operation: a PIN typed
 *   for it is cleared on the card (SELECT) before its transaction ends.
 * - With a login (tke_card_verify_pin_async(), or a ceremony's
 *   #TkeCardSigner or #TkeCardKeyPartSource holding the card), the PIN
 *   holds for the handle's next operations until tke_card_log_out_async():
 *   that ends it at once for every operation not yet started on the
 *   handle, and the card is reset by an operation queued after the one
 *   running.  The ceremonies log their cards out when they end, however
 *   they end; the card is logged out too when this object is finalized.
 *
 * Opening a reader always makes a new connection of its own; it never
 * shares one whose PIN is verified.  The PIN and the operation it protects
 * run inside one SCardBeginTransaction, so no other program comes in
 * between.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <winscard.h>

#include "tke-card-private.h"
#include "tke-enum-types.h"
#include "tke-error.h"

#define DEFAULT_PIN_TIMEOUT 30

G_DEFINE_FINAL_TYPE (TkeCard, tke_card, G_TYPE_OBJECT)
G_DEFINE_BOXED_TYPE (TkeCardKeyPart,
                     tke_card_key_part,
                     tke_card_key_part_copy,
                     tke_card_key_part_free)

enum
{
  PROP_0,
  PROP_READER_NAME,
  PROP_READER_INDEX,
  PROP_PIN_TIMEOUT,
  PROP_WAITING_FOR_PIN,
  N_PROPS
};

enum
{
  SIGNAL_PIN_REQUESTED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/**
 * tke_card_key_part_copy:
 * @part: a key part
 *
 * Returns: (transfer full): a copy of @part
 */
TkeCardKeyPart *
tke_card_key_part_copy (const TkeCardKeyPart *part)
{
  TkeCardKeyPart *copy = g_new0 (TkeCardKeyPart, 1);

  copy->index = part->index;
  copy->check_value = g_strdup (part->check_value);
  copy->description = g_strdup (part->description);
  return copy;
}

/**
 * tke_card_key_part_free:
 * @part: (nullable): a key part
 *
 * Frees @part.
 */
void
tke_card_key_part_free (TkeCardKeyPart *part)
{
  if (part == NULL)
    return;
  g_free (part->check_value);
  g_free (part->description);
  g_free (part);
}

/**
 * tke_reader_default_prefix:
 * @reader_index: 1 or 2
 *
 * The name prefix that identifies reader 1 or 2 when the front end has
 * no configuration: `$TKE_READER1_PREFIX` / `$TKE_READER2_PREFIX` if set
 * (a physical reader), else the virtual readers' names.
 *
 * Returns: the prefix
 */
const char *
tke_reader_default_prefix (guint reader_index)
{
  const char *env = g_getenv (reader_index == 1 ? "TKE_READER1_PREFIX" : "TKE_READER2_PREFIX");

  if (env != NULL && *env != '\0')
    return env;
  return reader_index == 1 ? TKE_READER_1_DEFAULT_PREFIX : TKE_READER_2_DEFAULT_PREFIX;
}

/**
 * tke_card_pin_prompt:
 * @reader_index: 1 or 2
 * @entry: which PIN the pad asks for
 *
 * The text a front end shows while the PIN pad waits (translated).
 *
 * Returns: (transfer full): the prompt
 */
char *
tke_card_pin_prompt (guint reader_index, TkePinEntry entry)
{
  switch (entry)
    {
    case TKE_PIN_ENTRY_NEW:
      return g_strdup_printf (_ ("Enter the new PIN on the PIN pad of reader %u"), reader_index);
    case TKE_PIN_ENTRY_SECOND:
      return g_strdup_printf (_ ("Enter the CA card's PIN 2 on the PIN pad of reader %u"),
                              reader_index);
    case TKE_PIN_ENTRY_NEW_SECOND:
      return g_strdup_printf (_ ("Enter the new PIN 2 on the PIN pad of reader %u"), reader_index);
    case TKE_PIN_ENTRY_NEW_SECOND_AGAIN:
      return g_strdup_printf (_ ("Enter the new PIN 2 again on the PIN pad of reader %u"),
                              reader_index);
    case TKE_PIN_ENTRY_NEW_AGAIN:
      return g_strdup_printf (_ ("Enter the new PIN again on the PIN pad of reader %u"),
                              reader_index);
    case TKE_PIN_ENTRY_CURRENT:
    default:
      return g_strdup_printf (_ ("Enter the PIN on the PIN pad of reader %u"), reader_index);
    }
}

/* ---- Signals from worker threads, delivered on the owner's context ---- */

/* Runs FUNC in CONTEXT's thread, always later.  Not g_main_context_invoke():
 * it runs the function right here when this thread can acquire the context
 * (the global default, while its owner is not iterating), and a signal
 * handler would then run in the worker thread. */
void
_tke_card_dispatch (GMainContext *context, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  g_source_set_static_name (source, "[tke] card event");
  g_source_attach (source, context);
  g_source_unref (source);
}

/* Holds the card weakly: a late event must not keep a card alive, or its
 * finalization (which resets the card) would happen at a random moment. */
typedef struct
{
  GWeakRef card;
  gboolean waiting;
  TkePinEntry entry;
} PinEvent;

static void
pin_event_free (gpointer data)
{
  PinEvent *event = data;

  g_weak_ref_clear (&event->card);
  g_free (event);
}

static gboolean
deliver_pin_event (gpointer data)
{
  PinEvent *event = data;
  g_autoptr (TkeCard) self = g_weak_ref_get (&event->card);

  if (self == NULL)
    return G_SOURCE_REMOVE;
  if (event->waiting)
    g_signal_emit (self, signals[SIGNAL_PIN_REQUESTED], 0, event->entry);
  if (self->waiting_for_pin != event->waiting)
    {
      self->waiting_for_pin = event->waiting;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WAITING_FOR_PIN]);
    }
  return G_SOURCE_REMOVE;
}

void
_tke_card_post_pin_event (TkeCard *self, gboolean waiting, TkePinEntry entry)
{
  PinEvent *event = g_new0 (PinEvent, 1);

  g_weak_ref_init (&event->card, self);
  event->waiting = waiting;
  event->entry = entry;
  _tke_card_dispatch (self->context, deliver_pin_event, event, pin_event_free);
}

/* When we let go of the card, its verified PIN must not outlive us: SELECT
 * clears the card's security state (card-protocol.md §4.1).  Not a reset:
 * pcscd would power-cycle whatever card is in the reader, under the feet of
 * other handles, and a card swapped in meanwhile is not ours to touch.
 * No operation runs: each holds a reference. */
static void
forget_pin (TkeCard *self)
{
  g_autoptr (GError) error = NULL;

  /* A handle that only read the card (the readers strip, a list of key
   * parts), or whose PIN was cleared at the end of its scope, leaves the
   * card alone. */
  if (!self->pin_used || !_tke_card_still_ours (self))
    return;
  if (SCardBeginTransaction (self->handle) != SCARD_S_SUCCESS)
    return;
  _tke_card_select_applet (self, &error);
  SCardEndTransaction (self->handle, SCARD_LEAVE_CARD);
}

/* ---- GObject ---- */

static void
tke_card_finalize (GObject *object)
{
  TkeCard *self = TKE_CARD (object);

  if (self->handle != 0)
    {
      forget_pin (self);
      SCardDisconnect (self->handle, SCARD_LEAVE_CARD);
    }
  if (self->pcsc != 0)
    SCardReleaseContext (self->pcsc);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_clear (&self->lock);
  g_free (self->reader_name);
  g_free (self->serial);
  g_free (self->zone);
  g_free (self->zone_description);
  g_free (self->description);
  G_OBJECT_CLASS (tke_card_parent_class)->finalize (object);
}

static void
tke_card_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TkeCard *self = TKE_CARD (object);

  switch (prop_id)
    {
    case PROP_READER_NAME:
      g_value_set_string (value, self->reader_name);
      break;
    case PROP_READER_INDEX:
      g_value_set_uint (value, self->reader_index);
      break;
    case PROP_PIN_TIMEOUT:
      g_value_set_uint (value, (guint) self->pin_timeout);
      break;
    case PROP_WAITING_FOR_PIN:
      g_value_set_boolean (value, self->waiting_for_pin);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_card_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TkeCard *self = TKE_CARD (object);

  switch (prop_id)
    {
    case PROP_PIN_TIMEOUT:
      tke_card_set_pin_timeout (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_card_class_init (TkeCardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tke_card_finalize;
  object_class->get_property = tke_card_get_property;
  object_class->set_property = tke_card_set_property;

  /**
   * TkeCard:reader-name:
   *
   * The full PC/SC name of the card's reader.
   */
  properties[PROP_READER_NAME] = g_param_spec_string ("reader-name", NULL, NULL, NULL,
                                                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * TkeCard:reader-index:
   *
   * 1 or 2: how prompts and messages name the card's reader.
   */
  properties[PROP_READER_INDEX] = g_param_spec_uint ("reader-index", NULL, NULL, 0, 2, 0,
                                                     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * TkeCard:pin-timeout:
   *
   * Seconds the PIN pad waits for the PIN (bTimerOut; 0 = the reader's
   * default).  The only way besides Cancel on the pad to end a PIN entry.
   */
  properties[PROP_PIN_TIMEOUT] =
      g_param_spec_uint ("pin-timeout", NULL, NULL, 0, 255, DEFAULT_PIN_TIMEOUT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * TkeCard:waiting-for-pin:
   *
   * %TRUE while the PIN pad waits for the person to type.
   */
  properties[PROP_WAITING_FOR_PIN] = g_param_spec_boolean (
      "waiting-for-pin", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * TkeCard::pin-requested:
   * @card: the card
   * @entry: which PIN is asked for
   *
   * The PIN pad now waits for the PIN: show tke_card_pin_prompt().  A
   * front end cannot end the entry; the person presses Cancel on the pad.
   */
  signals[SIGNAL_PIN_REQUESTED] =
      g_signal_new ("pin-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, TKE_TYPE_PIN_ENTRY);
}

static void
tke_card_init (TkeCard *self)
{
  g_mutex_init (&self->lock);
  self->pin_timeout = DEFAULT_PIN_TIMEOUT;
}

/* ---- Accessors ---- */

/**
 * tke_card_get_reader_name:
 * @self: a card
 *
 * Returns: the full PC/SC name of the card's reader
 */
const char *
tke_card_get_reader_name (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), NULL);
  return self->reader_name;
}

/**
 * tke_card_get_reader_index:
 * @self: a card
 *
 * Returns: 1 or 2: how prompts and messages name the reader
 */
guint
tke_card_get_reader_index (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), 0);
  return self->reader_index;
}

/**
 * tke_card_get_pin_timeout:
 * @self: a card
 *
 * Returns: the value of #TkeCard:pin-timeout
 */
guint
tke_card_get_pin_timeout (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), 0);
  return (guint) g_atomic_int_get (&self->pin_timeout);
}

/**
 * tke_card_set_pin_timeout:
 * @self: a card
 * @seconds: how long the PIN pad waits (0: the reader's default; at most 255)
 *
 * Sets #TkeCard:pin-timeout for the next PIN entries.
 */
void
tke_card_set_pin_timeout (TkeCard *self, guint seconds)
{
  g_return_if_fail (TKE_IS_CARD (self));
  seconds = MIN (seconds, 255);
  if ((guint) g_atomic_int_get (&self->pin_timeout) == seconds)
    return;
  g_atomic_int_set (&self->pin_timeout, (gint) seconds);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PIN_TIMEOUT]);
}

/**
 * tke_card_get_waiting_for_pin:
 * @self: a card
 *
 * Returns: the value of #TkeCard:waiting-for-pin
 */
gboolean
tke_card_get_waiting_for_pin (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), FALSE);
  return self->waiting_for_pin;
}

/**
 * tke_card_get_serial:
 * @self: a card
 *
 * Returns: the card's serial number (16 hex digits)
 */
const char *
tke_card_get_serial (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), NULL);
  return self->serial;
}

/**
 * tke_card_get_card_type:
 * @self: a card
 *
 * Returns: whether it is a CA or an EP11 card
 */
TkeCardType
tke_card_get_card_type (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), TKE_CARD_TYPE_UNKNOWN);
  return self->card_type;
}

/**
 * tke_card_get_zone:
 * @self: a card
 *
 * Returns: (nullable): the card's zone id (16 hex digits)
 */
const char *
tke_card_get_zone (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), NULL);
  return self->zone;
}

/**
 * tke_card_get_zone_description:
 * @self: a card
 *
 * Returns: (nullable): the zone's description
 */
const char *
tke_card_get_zone_description (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), NULL);
  return self->zone_description;
}

/**
 * tke_card_get_description:
 * @self: a card
 *
 * Returns: (nullable): the card's description
 */
const char *
tke_card_get_description (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), NULL);
  return self->description;
}

/**
 * tke_card_get_pin_tries_left:
 * @self: a card
 *
 * The tries the PIN has left, as of the last card information or PIN entry.
 *
 * Returns: the tries left (0: blocked)
 */
guint
tke_card_get_pin_tries_left (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), 0);
  return self->pin_tries_left;
}

/**
 * tke_card_get_has_signature_key:
 * @self: a card
 *
 * Returns: %TRUE if the card holds a signature key
 */
gboolean
tke_card_get_has_signature_key (TkeCard *self)
{
  g_return_val_if_fail (TKE_IS_CARD (self), FALSE);
  return self->has_signature_key;
}
