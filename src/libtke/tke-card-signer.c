/* tke-card-signer.c: an administrator's signature key on a card in reader 1
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A TkeSigner for the ceremonies.  It waits for an administrator card in
 * reader 1 (prompting for it), takes the administrator's name (the card's
 * description) and SKI (tke_crypto_ski() of the card's public key) from the
 * card, and signs on the card after the PIN is typed on the PIN pad.  The
 * card stays open, its PIN verified, until it is removed, the ceremony logs
 * the signer out (tke_card_signer_log_out()) or the signer is finalized,
 * so one ceremony asks for the PIN once, and the next one again.
 *
 * Once the SKI is known, only a card with that key signs: a ceremony that
 * announced this administrator never gets another one's signature.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tke-card-session-private.h"
#include "tke-card-signer.h"
#include "tke-crypto.h"
#include "tke-enum-types.h"
#include "tke-error.h"
#include "tke-signer.h"

#define READER_INDEX 1

/**
 * TkeCardSigner:
 *
 * A #TkeSigner with an administrator card in reader 1.
 *
 * It waits for the card (prompting for it with #TkeCardSigner::prompt), takes
 * the administrator's name (the card's description) and SKI from the card,
 * and signs on the card after the PIN is typed on the reader's PIN pad. The
 * card stays open, its PIN verified, until it is removed, the ceremony logs
 * the signer out (tke_card_signer_log_out()) or the signer is finalized, so
 * one ceremony asks for the PIN once, and the next one again. Once the SKI is known,
 * only a card with that key signs: a ceremony that announced this
 * administrator never gets another one's signature.
 */
struct _TkeCardSigner
{
  GObject parent_instance;

  TkeCardSession session;
  char *name;
  char *ski;
  char *card_serial; /* the card the administrator signs with, once read */
  char *card_zone;
  GBytes *public_key;
  EVP_PKEY *key;
  GPtrArray *group; /* signers that must use different cards; not owned */
  /* One signature at a time: a second handle on the card, opened while
   * the first waits for the PIN, would SELECT and clear that PIN. */
  gboolean signing;
  GQueue waiting; /* GTask of card_signer_sign_async */
};

static void tke_card_signer_signer_init (TkeSignerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TkeCardSigner,
                               tke_card_signer,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TKE_TYPE_SIGNER, tke_card_signer_signer_init))

enum
{
  SIGNAL_PROMPT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- Prepare: the card, its name and SKI ---- */

static gboolean
check_admin_card (TkeCardSigner *self, TkeCard *card, GError **error)
{
  if (tke_card_get_card_type (card) != TKE_CARD_TYPE_EP11)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("The card in reader %d is a CA card, not an administrator card."),
                   self->session.reader_index);
      return FALSE;
    }
  if (!tke_card_get_has_signature_key (card))
    {
      g_set_error (
          error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
          _ ("The card in reader %d has no signature key: it is not an administrator card."),
          self->session.reader_index);
      return FALSE;
    }
  return TRUE;
}

static char *
ski_of (GBytes *point, EVP_PKEY **key_out, GError **error)
{
  g_autoptr (EVP_PKEY) key = NULL;
  guint8 ski[TKE_SKI_SIZE];

  key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                             g_bytes_get_size (point), error);
  if (key == NULL || !tke_crypto_ski (key, ski, error))
    return NULL;
  *key_out = g_steal_pointer (&key);
  return tke_crypto_hex_encode (ski, sizeof ski);
}

/* Another signer of the group already signs with this key. */
static gboolean
taken_by_sibling (TkeCardSigner *self, const char *ski)
{
  for (guint i = 0; self->group != NULL && i < self->group->len; i++)
    {
      TkeCardSigner *other = g_ptr_array_index (self->group, i);

      if (other != self && g_strcmp0 (other->ski, ski) == 0)
        return TRUE;
    }
  return FALSE;
}

static void card_opened (GObject *source, GAsyncResult *result, gpointer user_data);

/* Not the card we want: have the person swap it, then look again. */
static void
ask_for_other_card (TkeCardSigner *self, GTask *task)
{
  g_autofree char *text = NULL;

  if (self->ski != NULL)
    text = g_strdup_printf (_ ("Insert the administrator card of %s in reader %d and enter its PIN "
                               "on the PIN pad"),
                            self->name, self->session.reader_index);
  else
    text = g_strdup_printf (_ ("Insert the next administrator card in reader %d and enter its PIN "
                               "on the PIN pad"),
                            self->session.reader_index);
  _tke_card_session_next_card_async (&self->session, text, g_task_get_cancellable (task),
                                     card_opened, task);
}

static void
got_public_key (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeCardSigner *self = g_task_get_source_object (task);
  TkeCard *card = TKE_CARD (source);
  GError *error = NULL;
  g_autoptr (GBytes) point = tke_card_get_public_key_finish (card, result, &error);
  g_autoptr (EVP_PKEY) key = NULL;
  g_autofree char *ski = point != NULL ? ski_of (point, &key, &error) : NULL;

  if (ski == NULL)
    {
      _tke_card_session_forget (&self->session);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if ((self->ski != NULL && g_strcmp0 (self->ski, ski) != 0) ||
      (self->ski == NULL && taken_by_sibling (self, ski)))
    {
      ask_for_other_card (self, task);
      return;
    }
  if (self->ski == NULL)
    {
      self->ski = g_steal_pointer (&ski);
      self->name = g_strdup (tke_card_get_description (card));
      self->card_serial = g_strdup (tke_card_get_serial (card));
      self->card_zone = g_strdup (tke_card_get_zone (card));
      self->public_key = g_bytes_ref (point);
      self->key = g_steal_pointer (&key);
    }
  g_task_return_pointer (task, g_object_ref (card), g_object_unref);
  g_object_unref (task);
}

static void
card_opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeCardSigner *self = g_task_get_source_object (task);
  GError *error = NULL;
  g_autoptr (TkeCard) card = _tke_card_session_open_finish (&self->session, result, &error);

  if (card == NULL || !check_admin_card (self, card, &error))
    {
      if (card != NULL)
        _tke_card_session_forget (&self->session);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  tke_card_get_public_key_async (card, g_task_get_cancellable (task), got_public_key, task);
}

/* Completes with the admin card (a TkeCard), its identity checked. */
static void
prepare (TkeCardSigner *self,
         GCancellable *cancellable,
         GAsyncReadyCallback callback,
         gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, prepare);
  _tke_card_session_open_async (&self->session, cancellable, card_opened, task);
}

/**
 * tke_card_signer_prepare_async:
 * @self: a card signer
 * @cancellable: (nullable): stops the wait for the card
 * @callback: callback
 * @user_data: for @callback
 *
 * Waits for the administrator card (emitting #TkeCardSigner::prompt with
 * %TKE_CARD_PROMPT_INSERT_CARD if it is not in the reader) and reads the
 * administrator's name and SKI.  Signing does this by itself; call it to
 * show who will sign before asking for the PIN.
 */
void
tke_card_signer_prepare_async (TkeCardSigner *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD_SIGNER (self));
  prepare (self, cancellable, callback, user_data);
}

/**
 * tke_card_signer_prepare_finish:
 * @self: a card signer
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: %TRUE once the administrator card was read, %FALSE with @error set
 */
gboolean
tke_card_signer_prepare_finish (TkeCardSigner *self, GAsyncResult *result, GError **error)
{
  g_autoptr (TkeCard) card = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  card = g_task_propagate_pointer (G_TASK (result), error);
  return card != NULL;
}

/* ---- TkeSigner ---- */

static const char *
card_signer_get_name (TkeSigner *signer)
{
  return TKE_CARD_SIGNER (signer)->name;
}

static const char *
card_signer_get_ski (TkeSigner *signer)
{
  return TKE_CARD_SIGNER (signer)->ski;
}

static void
prepared_for_public_key (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCardSigner *self = TKE_CARD_SIGNER (source);
  GError *error = NULL;

  if (!tke_card_signer_prepare_finish (self, result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_bytes_ref (self->public_key), (GDestroyNotify) g_bytes_unref);
}

static void
card_signer_get_public_key_async (TkeSigner *signer,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  TkeCardSigner *self = TKE_CARD_SIGNER (signer);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, card_signer_get_public_key_async);
  prepare (self, cancellable, prepared_for_public_key, task);
}

static GBytes *
card_signer_get_public_key_finish (TkeSigner *signer, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, signer), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void start_signing (GTask *task);

/* The next signature asked for while this one ran, if any. */
static void
sign_next (TkeCardSigner *self)
{
  GTask *next = g_queue_pop_head (&self->waiting);

  self->signing = FALSE;
  if (next != NULL)
    start_signing (next);
}

static void
signed_on_card (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCardSigner *self = g_task_get_source_object (task);
  GBytes *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (GBytes) signature = tke_card_sign_finish (TKE_CARD (source), result, &error);

  if (signature == NULL && g_error_matches (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED))
    _tke_card_session_forget (&self->session);
  /* The signature must be the announced administrator's. */
  if (signature != NULL &&
      !tke_crypto_verify (self->key, g_bytes_get_data (data, NULL), g_bytes_get_size (data),
                          g_bytes_get_data (signature, NULL), g_bytes_get_size (signature), &error))
    g_clear_pointer (&signature, g_bytes_unref);
  if (signature == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_steal_pointer (&signature), (GDestroyNotify) g_bytes_unref);
  sign_next (self);
}

static void
prepared_for_sign (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCardSigner *self = TKE_CARD_SIGNER (source);
  GError *error = NULL;
  g_autoptr (TkeCard) card = g_task_propagate_pointer (G_TASK (result), &error);

  if (card == NULL)
    {
      g_task_return_error (task, error);
      sign_next (self);
      return;
    }
  g_assert (self->key != NULL);
  tke_card_sign_async (card, g_task_get_task_data (task), g_task_get_cancellable (task),
                       signed_on_card, g_object_ref (task));
}

static void
card_signer_sign_async (TkeSigner *signer,
                        GBytes *data,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  TkeCardSigner *self = TKE_CARD_SIGNER (signer);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, card_signer_sign_async);
  g_task_set_task_data (task, g_bytes_ref (data), (GDestroyNotify) g_bytes_unref);
  if (self->signing)
    {
      g_queue_push_tail (&self->waiting, task);
      return;
    }
  start_signing (task);
}

/* Takes @task. */
static void
start_signing (GTask *task)
{
  TkeCardSigner *self = g_task_get_source_object (task);

  self->signing = TRUE;
  prepare (self, g_task_get_cancellable (task), prepared_for_sign, task);
}

static GBytes *
card_signer_sign_finish (TkeSigner *signer, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, signer), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
tke_card_signer_signer_init (TkeSignerInterface *iface)
{
  iface->get_name = card_signer_get_name;
  iface->get_ski = card_signer_get_ski;
  iface->get_public_key_async = card_signer_get_public_key_async;
  iface->get_public_key_finish = card_signer_get_public_key_finish;
  iface->sign_async = card_signer_sign_async;
  iface->sign_finish = card_signer_sign_finish;
}

/* ---- GObject ---- */

static void
tke_card_signer_finalize (GObject *object)
{
  TkeCardSigner *self = TKE_CARD_SIGNER (object);

  if (self->group != NULL)
    {
      g_ptr_array_remove (self->group, self);
      g_ptr_array_unref (self->group);
    }
  _tke_card_session_clear (&self->session);
  g_free (self->name);
  g_free (self->ski);
  g_free (self->card_serial);
  g_free (self->card_zone);
  g_clear_pointer (&self->public_key, g_bytes_unref);
  g_clear_pointer (&self->key, EVP_PKEY_free);
  G_OBJECT_CLASS (tke_card_signer_parent_class)->finalize (object);
}

static void
tke_card_signer_class_init (TkeCardSignerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tke_card_signer_finalize;

  /**
   * TkeCardSigner::prompt:
   * @signer: the signer
   * @kind: what the person must do
   * @message: the text to show or print, translated
   *
   * Emitted when the person must do something at reader 1:
   * %TKE_CARD_PROMPT_INSERT_CARD: "Insert the administrator card in reader
   * 1 and enter its PIN on the PIN pad"; %TKE_CARD_PROMPT_ENTER_PIN: "Enter
   * the PIN of the administrator card on the PIN pad of reader 1".  The
   * PIN entry cannot be cancelled from the host: only on the pad.
   */
  signals[SIGNAL_PROMPT] =
      g_signal_new ("prompt", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, TKE_TYPE_CARD_PROMPT, G_TYPE_STRING);
}

static void
tke_card_signer_init (TkeCardSigner *self)
{
}

/**
 * tke_card_signer_new:
 * @reader_prefix: (nullable): the name prefix of reader 1, %NULL for
 *   tke_reader_default_prefix(1)
 *
 * Creates a signer for whichever administrator card is put in reader 1.
 *
 * Returns: (transfer full): a signer for the administrator card in reader 1
 */
TkeCardSigner *
tke_card_signer_new (const char *reader_prefix)
{
  return tke_card_signer_new_for_reader (READER_INDEX, reader_prefix);
}

/**
 * tke_card_signer_new_for_reader:
 * @reader_index: 1 or 2
 * @reader_prefix: (nullable): the name prefix of that reader, %NULL for
 *   tke_reader_default_prefix(@reader_index)
 *
 * Creates a signer for whichever administrator card is put in the reader
 * numbered @reader_index: a second administrator's card in reader 2, say,
 * so that two sign each command without a card swapped between them.  Its
 * prompts and errors name that reader.
 *
 * Returns: (transfer full): a signer for the administrator card in that reader
 */
TkeCardSigner *
tke_card_signer_new_for_reader (guint reader_index, const char *reader_prefix)
{
  TkeCardSigner *self = g_object_new (TKE_TYPE_CARD_SIGNER, NULL);
  g_autofree char *insert = NULL;
  g_autofree char *pin = NULL;

  g_return_val_if_fail (reader_index == 1 || reader_index == 2, self);

  insert = g_strdup_printf (
      _ ("Insert the administrator card in reader %d and enter its PIN on the PIN pad"),
      reader_index);
  pin = g_strdup_printf (_ ("Enter the PIN of the administrator card on the PIN pad of reader %d"),
                         reader_index);
  _tke_card_session_init (&self->session, G_OBJECT (self), signals[SIGNAL_PROMPT], reader_index,
                          reader_prefix, insert, pin);
  return self;
}

/**
 * tke_card_signer_new_group:
 * @reader_prefix: (nullable): the name prefix of reader 1, %NULL for
 *   tke_reader_default_prefix(1)
 * @n_signers: how many administrators sign
 *
 * Signers for several administrators who take turns at reader 1, e.g. to
 * meet a signature threshold of 2: each takes a card whose key no other
 * signer of the group has taken, and when the card in the reader is not
 * the one it needs, it prompts ("Insert the next administrator card in
 * reader 1 …" or "Insert the administrator card of NAME in reader 1 …")
 * and waits until the person swaps the cards.
 *
 * Returns: (transfer full) (element-type TkeCardSigner): the signers
 */
GPtrArray *
tke_card_signer_new_group (const char *reader_prefix, guint n_signers)
{
  GPtrArray *signers = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *group = g_ptr_array_new ();

  for (guint i = 0; i < n_signers; i++)
    {
      TkeCardSigner *signer = tke_card_signer_new (reader_prefix);

      signer->group = g_ptr_array_ref (group);
      g_ptr_array_add (group, signer);
      g_ptr_array_add (signers, signer);
    }
  g_ptr_array_unref (group);
  return signers;
}

/**
 * tke_card_signer_new_for_readers:
 * @n_readers: 1 or 2
 *
 * Signers for one administrator card in each of the first @n_readers
 * readers, to meet a signature threshold of @n_readers without a card
 * swapped between commands that each take every signature.  No two take
 * the same key: a copy of reader 1's card in reader 2 (Copy smart card
 * makes such copies) is refused before its PIN, and reader 2's signer
 * prompts for the next administrator card there.
 *
 * Returns: (transfer full) (element-type TkeCardSigner): the signers,
 *   reader 1's first
 */
GPtrArray *
tke_card_signer_new_for_readers (guint n_readers)
{
  GPtrArray *signers = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *group = g_ptr_array_new ();

  g_return_val_if_fail (n_readers >= 1 && n_readers <= 2, signers);

  for (guint i = 0; i < n_readers; i++)
    {
      TkeCardSigner *signer = tke_card_signer_new_for_reader (i + 1, NULL);

      signer->group = g_ptr_array_ref (group);
      g_ptr_array_add (group, signer);
      g_ptr_array_add (signers, signer);
    }
  g_ptr_array_unref (group);
  return signers;
}

/**
 * tke_card_signer_get_card:
 * @self: a card signer
 *
 * The card the signer works with while it is open.
 *
 * Returns: (transfer none) (nullable): the open card, if any
 */
TkeCard *
tke_card_signer_get_card (TkeCardSigner *self)
{
  g_return_val_if_fail (TKE_IS_CARD_SIGNER (self), NULL);
  return self->session.card;
}

/**
 * tke_card_signer_get_card_serial:
 * @self: a card signer
 *
 * The serial number of the administrator's card, read when the card first
 * signed (or was prepared).  It stays known after the card is removed, so
 * the ceremony record can name the card that signed.
 *
 * Returns: (nullable): the serial number, or %NULL before the card was read
 */
const char *
tke_card_signer_get_card_serial (TkeCardSigner *self)
{
  g_return_val_if_fail (TKE_IS_CARD_SIGNER (self), NULL);
  return self->card_serial;
}

/**
 * tke_card_signer_get_card_zone:
 * @self: a card signer
 *
 * The zone of the administrator's card, as tke_card_signer_get_card_serial().
 *
 * Returns: (nullable): the zone, or %NULL before the card was read
 */
const char *
tke_card_signer_get_card_zone (TkeCardSigner *self)
{
  g_return_val_if_fail (TKE_IS_CARD_SIGNER (self), NULL);
  return self->card_zone;
}

/**
 * tke_card_signer_log_out:
 * @self: a card signer
 *
 * The ceremony ended: logs the administrator card out
 * (tke_card_log_out_async()) and lets go of it, so the PIN typed for this
 * ceremony signs nothing after it.  A later signature waits for the card
 * again and asks for its PIN; the administrator stays the same.
 * #TkeCeremony calls this for its signers when it ends.
 */
void
tke_card_signer_log_out (TkeCardSigner *self)
{
  g_return_if_fail (TKE_IS_CARD_SIGNER (self));
  _tke_card_session_log_out (&self->session);
}

/**
 * tke_card_signer_get_pin_timeout:
 * @self: a card signer
 *
 * Returns: how long the PIN pad waits, in seconds (0: the reader's default)
 */
guint
tke_card_signer_get_pin_timeout (TkeCardSigner *self)
{
  g_return_val_if_fail (TKE_IS_CARD_SIGNER (self), 0);
  return self->session.pin_timeout;
}

/**
 * tke_card_signer_set_pin_timeout:
 * @self: a card signer
 * @seconds: how long the PIN pad waits (0: the reader's default)
 *
 * Sets how long the PIN pad waits for the PIN.
 */
void
tke_card_signer_set_pin_timeout (TkeCardSigner *self, guint seconds)
{
  g_return_if_fail (TKE_IS_CARD_SIGNER (self));
  _tke_card_session_set_pin_timeout (&self->session, seconds);
}
