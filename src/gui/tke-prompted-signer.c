/* tke-prompted-signer.c: an administrator card signer that shows its card and PIN steps
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A TkeSigner for the rotation dialog.  It wraps libtke's TkeCardSigner
 * and, before the first signature, waits for the card and has the PIN
 * typed on the pad, telling a TkePinPrompt each step: waiting for the
 * card, card found, enter the PIN, wrong PIN with the tries left (and the
 * pad waits again), blocked, cancelled on the pad.  Only then do the
 * signatures run, on the card whose PIN is verified.
 *
 * Why not let the card signer do it inside the service call: set
 * immediate is sent to every unit at once and is not cancellable once
 * sent, so the wait for the card would not be either.  Here the wait has
 * a cancellable of its own; stopping it is safe (nothing has been sent),
 * and a wrong PIN is asked again instead of failing every unit.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-prompted-signer.h"

struct _TkePromptedSigner
{
  GObject parent_instance;

  TkeCardSigner *inner;
  TkePinPrompt *prompt; /* weak, shared with the signers of the other reader */
  guint reader;
  GCancellable *cancellable;
  GQueue pending; /* GTask: signatures waiting for the PIN */
  GError *failure;
  gboolean unlocking;
  gboolean waiting_for_card;
  gboolean retrying;
  gboolean ready;
};

static void tke_prompted_signer_signer_init (TkeSignerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TkePromptedSigner,
                               tke_prompted_signer,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TKE_TYPE_SIGNER,
                                                      tke_prompted_signer_signer_init))

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
set_prompt (TkePromptedSigner *self, TkePinPromptState state, guint tries_left)
{
  TkeCard *card = tke_card_signer_get_card (self->inner);

  if (self->prompt != NULL && card != NULL)
    tke_pin_prompt_set_pin_timeout (self->prompt, tke_card_get_pin_timeout (card));
  if (self->prompt != NULL)
    tke_pin_prompt_set_state (self->prompt, state,
                              card != NULL ? tke_card_get_description (card) : NULL, tries_left);
}

static void
changed (TkePromptedSigner *self)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

/* ---- Waiting for the card, then the PIN ---- */

static void
delegated (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  GBytes *signature = tke_signer_sign_finish (TKE_SIGNER (source), result, &error);

  if (signature == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, signature, (GDestroyNotify) g_bytes_unref);
}

/* Takes the reference to TASK. */
static void
delegate (TkePromptedSigner *self, GTask *task)
{
  tke_signer_sign_async (TKE_SIGNER (self->inner), g_task_get_task_data (task),
                         g_task_get_cancellable (task), delegated, task);
}

static void
finish_all (TkePromptedSigner *self, GError *error)
{
  GTask *task;

  self->unlocking = FALSE;
  self->waiting_for_card = FALSE;
  g_clear_error (&self->failure);
  self->failure = error;
  self->ready = error == NULL;
  while ((task = g_queue_pop_head (&self->pending)) != NULL)
    {
      if (error != NULL)
        {
          g_task_return_error (task, g_error_copy (error));
          g_object_unref (task);
        }
      else
        delegate (self, task);
    }
  changed (self);
}

static void verify (TkePromptedSigner *self);

static void
on_tries_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkePromptedSigner) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!tke_card_read_info_finish (TKE_CARD (source), result, &error))
    {
      finish_all (self, g_steal_pointer (&error));
      return;
    }
  set_prompt (self, TKE_PIN_PROMPT_WRONG_PIN, tke_card_get_pin_tries_left (TKE_CARD (source)));
  self->retrying = TRUE;
  changed (self);
  verify (self);
}

static void
on_verified (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkePromptedSigner) self = user_data;
  GError *error = NULL;

  if (tke_card_verify_pin_finish (TKE_CARD (source), result, &error))
    {
      set_prompt (self, TKE_PIN_PROMPT_ACCEPTED, 0);
      finish_all (self, NULL);
      return;
    }
  if (g_error_matches (error, TKE_ERROR, TKE_ERROR_PIN_INCORRECT))
    {
      /* The card counted it: read how many tries are left, ask again. */
      g_error_free (error);
      tke_card_read_info_async (TKE_CARD (source), self->cancellable, on_tries_read,
                                g_object_ref (self));
      return;
    }
  if (g_error_matches (error, TKE_ERROR, TKE_ERROR_PIN_BLOCKED))
    set_prompt (self, TKE_PIN_PROMPT_BLOCKED, 0);
  else if (g_error_matches (error, TKE_ERROR, TKE_ERROR_PIN_CANCELLED) ||
           g_error_matches (error, TKE_ERROR, TKE_ERROR_PIN_TIMEOUT))
    set_prompt (self, TKE_PIN_PROMPT_CANCELLED, 0);
  finish_all (self, error);
}

static void
verify (TkePromptedSigner *self)
{
  TkeCard *card = tke_card_signer_get_card (self->inner);

  /* Checked before the entry starts only: a PIN pad is cancelled on the pad. */
  tke_card_verify_pin_async (card, self->cancellable, on_verified, g_object_ref (self));
}

static void
on_prepared (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkePromptedSigner) self = user_data;
  GError *error = NULL;

  if (!tke_card_signer_prepare_finish (TKE_CARD_SIGNER (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          /* Said per unit in the dialog: say what it means there. */
          g_error_free (error);
          error = g_error_new_literal (
              G_IO_ERROR, G_IO_ERROR_CANCELLED,
              _ ("Stopped while waiting for the administrator card; nothing was sent."));
        }
      finish_all (self, error);
      return;
    }
  self->waiting_for_card = FALSE;
  set_prompt (self, TKE_PIN_PROMPT_CARD_FOUND, 0);
  changed (self);
  verify (self);
}

/* The prompt is shared by the signers of both readers, who sign in turn:
 * it shows the reader of the one that asks now, and its pad types there.
 * Its state is left alone while it is this reader's ("Wrong PIN" stays). */
static void
take_prompt (TkePromptedSigner *self)
{
  if (self->prompt != NULL && tke_pin_prompt_get_reader (self->prompt) != self->reader)
    tke_pin_prompt_set_reader (self->prompt, self->reader, _ ("an administrator card"));
}

static void
on_inner_prompt (TkeCardSigner *inner,
                 TkeCardPrompt kind,
                 const char *text,
                 TkePromptedSigner *self)
{
  take_prompt (self);
  if (kind == TKE_CARD_PROMPT_INSERT_CARD)
    {
      self->waiting_for_card = TRUE;
      set_prompt (self, TKE_PIN_PROMPT_WAITING_FOR_CARD, 0);
    }
  else if (!self->retrying) /* after a wrong PIN, "Wrong PIN: N tries left" stays */
    set_prompt (self, TKE_PIN_PROMPT_ENTER_PIN, 0);
  changed (self);
}

static void
unlock (TkePromptedSigner *self)
{
  self->unlocking = TRUE;
  self->waiting_for_card = TRUE;
  self->retrying = FALSE;
  take_prompt (self);
  set_prompt (self, TKE_PIN_PROMPT_WAITING_FOR_CARD, 0);
  changed (self);
  tke_card_signer_prepare_async (self->inner, self->cancellable, on_prepared, g_object_ref (self));
}

/* ---- TkeSigner ---- */

static const char *
get_name (TkeSigner *signer)
{
  return tke_signer_get_name (TKE_SIGNER (TKE_PROMPTED_SIGNER (signer)->inner));
}

static const char *
get_ski (TkeSigner *signer)
{
  return tke_signer_get_ski (TKE_SIGNER (TKE_PROMPTED_SIGNER (signer)->inner));
}

static void
on_inner_public_key (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  GBytes *key = tke_signer_get_public_key_finish (TKE_SIGNER (source), result, &error);

  if (key == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, key, (GDestroyNotify) g_bytes_unref);
}

/* On the main context: reading the key may open the card, and the inner
 * signer then tells the prompt (a widget) to ask for it. */
static gboolean
get_public_key_on_main (gpointer data)
{
  GTask *task = data;
  TkePromptedSigner *self = g_task_get_source_object (task);

  tke_signer_get_public_key_async (TKE_SIGNER (self->inner), g_task_get_cancellable (task),
                                   on_inner_public_key, task);
  return G_SOURCE_REMOVE;
}

/* A ceremony may ask from a worker thread (the recovery-unit path); it gets
 * its answer there, as with sign_async(). */
static void
get_public_key_async (TkeSigner *signer,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  GTask *task = g_task_new (signer, cancellable, callback, user_data);

  g_task_set_source_tag (task, get_public_key_async);
  if (g_main_context_is_owner (g_main_context_default ()))
    get_public_key_on_main (task);
  else
    g_main_context_invoke (NULL, get_public_key_on_main, task);
}

static GBytes *
get_public_key_finish (TkeSigner *signer, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, signer), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* On the main context: the prompt is a widget. */
static gboolean
sign_on_main (gpointer data)
{
  GTask *task = data;
  TkePromptedSigner *self = g_task_get_source_object (task);

  if (self->ready)
    {
      delegate (self, task);
      return G_SOURCE_REMOVE;
    }
  if (self->failure != NULL)
    {
      g_task_return_error (task, g_error_copy (self->failure));
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    }
  g_queue_push_tail (&self->pending, task);
  if (!self->unlocking)
    unlock (self);
  return G_SOURCE_REMOVE;
}

/* A ceremony that signs from a worker thread (the recovery-unit path)
 * gets its answer there; the card and PIN steps run on the main context,
 * where the prompt is. */
static void
sign_async (TkeSigner *signer,
            GBytes *data,
            GCancellable *cancellable,
            GAsyncReadyCallback callback,
            gpointer user_data)
{
  TkePromptedSigner *self = TKE_PROMPTED_SIGNER (signer);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, sign_async);
  g_task_set_task_data (task, g_bytes_ref (data), (GDestroyNotify) g_bytes_unref);
  if (g_main_context_is_owner (g_main_context_default ()))
    sign_on_main (task);
  else
    g_main_context_invoke (NULL, sign_on_main, task);
}

static GBytes *
sign_finish (TkeSigner *signer, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, signer), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
tke_prompted_signer_signer_init (TkeSignerInterface *iface)
{
  iface->get_name = get_name;
  iface->get_ski = get_ski;
  iface->get_public_key_async = get_public_key_async;
  iface->get_public_key_finish = get_public_key_finish;
  iface->sign_async = sign_async;
  iface->sign_finish = sign_finish;
}

/* ---- Public ---- */

/**
 * tke_prompted_signer_new:
 * @card_signer: the administrator card signer (reader 1)
 * @prompt: (nullable): where the card and PIN steps are shown
 */
TkePromptedSigner *
tke_prompted_signer_new (TkeCardSigner *card_signer, TkePinPrompt *prompt)
{
  return tke_prompted_signer_new_for_reader (card_signer, 1, prompt);
}

/**
 * tke_prompted_signer_new_for_reader:
 * @card_signer: the administrator card signer of reader @reader
 * @reader: 1 or 2
 * @prompt: (nullable): where the card and PIN steps are shown; the
 *   signers of both readers may share it, as they sign in turn
 */
TkePromptedSigner *
tke_prompted_signer_new_for_reader (TkeCardSigner *card_signer, guint reader, TkePinPrompt *prompt)
{
  TkePromptedSigner *self = g_object_new (TKE_TYPE_PROMPTED_SIGNER, NULL);

  g_return_val_if_fail (reader == 1 || reader == 2, self);

  self->reader = reader;
  self->inner = g_object_ref (card_signer);
  g_set_weak_pointer (&self->prompt, prompt);
  g_signal_connect_object (card_signer, "prompt", G_CALLBACK (on_inner_prompt), self, 0);
  return self;
}

gboolean
tke_prompted_signer_get_active (TkePromptedSigner *self)
{
  g_return_val_if_fail (TKE_IS_PROMPTED_SIGNER (self), FALSE);
  return self->unlocking;
}

gboolean
tke_prompted_signer_get_cancellable_now (TkePromptedSigner *self)
{
  g_return_val_if_fail (TKE_IS_PROMPTED_SIGNER (self), FALSE);
  return self->unlocking && self->waiting_for_card;
}

void
tke_prompted_signer_cancel (TkePromptedSigner *self)
{
  g_return_if_fail (TKE_IS_PROMPTED_SIGNER (self));
  g_cancellable_cancel (self->cancellable);
}

static void
tke_prompted_signer_dispose (GObject *object)
{
  TkePromptedSigner *self = TKE_PROMPTED_SIGNER (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_weak_pointer (&self->prompt);
  G_OBJECT_CLASS (tke_prompted_signer_parent_class)->dispose (object);
}

static void
tke_prompted_signer_finalize (GObject *object)
{
  TkePromptedSigner *self = TKE_PROMPTED_SIGNER (object);

  g_assert (g_queue_is_empty (&self->pending)); /* each task holds a reference */
  g_clear_error (&self->failure);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->inner);
  G_OBJECT_CLASS (tke_prompted_signer_parent_class)->finalize (object);
}

static void
tke_prompted_signer_class_init (TkePromptedSignerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tke_prompted_signer_dispose;
  object_class->finalize = tke_prompted_signer_finalize;

  /**
   * TkePromptedSigner::changed:
   *
   * The card or PIN step changed: whether it runs, whether stopping is safe.
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
tke_prompted_signer_init (TkePromptedSigner *self)
{
  self->cancellable = g_cancellable_new ();
  g_queue_init (&self->pending);
}
