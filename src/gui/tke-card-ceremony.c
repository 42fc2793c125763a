/* tke-card-ceremony.c: a ceremony with smart cards, guided by the wizard
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The wizard is the view and libtke's TkeCeremony does the work, with
 * administrator cards in reader 1 (TkeCardSigner) and key part cards in
 * reader 2 (TkeCardKeyPartSource).  This object joins them: it turns the
 * cards' prompts and PIN errors into what the wizard shows, lists the key
 * parts of the card in reader 2 for the person to choose from, and moves
 * the load on part by part so that each key part card goes in once.
 *
 * A wrong PIN is not the end: the card says how many tries are left and
 * the same step asks again.  A signing ceremony that stopped at a unit
 * goes on from that unit; the units before it keep what was done.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-card-ceremony-private.h"
#include "tke-card-ceremony.h"
#include "tke-gui-record.h"

G_DEFINE_FINAL_TYPE (TkeCardCeremony, tke_card_ceremony, G_TYPE_OBJECT)

enum
{
  SIGNAL_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void run_signing (TkeCardCeremony *self);
static void prepare_load (TkeCardCeremony *self);
static void start_part (TkeCardCeremony *self, guint part);
static void seal_part (TkeCardCeremony *self);
static void open_part_card (TkeCardCeremony *self);
static void record_end (TkeCardCeremony *self, const GError *error);

static const GError *
cancelled_error (void)
{
  static GError *cancelled; /* one, never freed: it says only "cancelled" */

  if (cancelled == NULL)
    cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _ ("Cancelled."));
  return cancelled;
}
static void verify_part_card (TkeCardCeremony *self);
static void on_parts_listed (GObject *source, GAsyncResult *result, gpointer user_data);

/* ---- The end, good or bad ---- */

/* Once per ceremony, however it ends: whoever greyed out the other
 * ceremonies while this one ran gives them back here. */
static void
finish (TkeCardCeremony *self, gboolean success)
{
  g_cancellable_cancel (self->choosing);
  if (self->recording) /* stopped before its commands were sent (a load while sealing) */
    record_end (self, success ? NULL : cancelled_error ());
  if (self->finished)
    return;
  self->finished = TRUE;
  /* The PINs typed for this ceremony end with it, however it ended. */
  for (guint i = 0; self->signers != NULL && i < self->signers->len; i++)
    if (TKE_IS_CARD_SIGNER (self->signers->pdata[i]))
      tke_card_signer_log_out (self->signers->pdata[i]);
  if (self->part_card != NULL)
    tke_card_log_out_async (self->part_card, NULL, NULL);
  if (self->new_card != NULL)
    tke_card_log_out_async (self->new_card, NULL, NULL);
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0, success);
}

gboolean
_tke_card_ceremony_is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Unit by unit, so that nobody has to guess what a stop left half-done. */
static char *
describe_units (TkeCardCeremony *self)
{
  guint done =
      self->ceremony != NULL && self->running ? tke_ceremony_get_n_units_done (self->ceremony) : 0;

  return _tke_card_ceremony_describe_units (self->kind, G_LIST_MODEL (self->units), done);
}

void
_tke_card_ceremony_fail (TkeCardCeremony *self, const GError *error)
{
  g_autofree char *message = NULL;
  g_autofree char *units = describe_units (self);
  const char *next;

  if (g_error_matches (error, TKE_ERROR, TKE_ERROR_PIN_CANCELLED) ||
      g_error_matches (error, TKE_ERROR, TKE_ERROR_PIN_TIMEOUT))
    next = _ ("Start the ceremony again when the card holder is ready.");
  else if (g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC) ||
           g_error_matches (error, TKE_ERROR, TKE_ERROR_UNIT_ROOT_CHANGED))
    /* Starting again would only meet the same man in the middle. */
    next = _ ("Do not start again: tell your security officer. Someone may be between this "
              "workstation and the crypto units.");
  else if (self->kind == TKE_CEREMONY_LOAD)
    next = _ ("Start Load again: every key part is sealed and loaded again.");
  else
    next = _ ("Start the ceremony again: it goes on with the units not done.");
  message = g_strdup_printf ("%s\n\n%s\n\n%s", error->message, units, next);
  if (self->wizard != NULL)
    tke_load_wizard_show_error (self->wizard, message);
  record_end (self, error);
  finish (self, FALSE);
}

/* A wrong PIN: say how many tries are left and let @retry ask again. */
gboolean
_tke_card_ceremony_handle_pin_error (TkeCardCeremony *self,
                                     const GError *error,
                                     TkeCard *card,
                                     void (*retry) (TkeCardCeremony *self))
{
  const char *description = card != NULL ? tke_card_get_description (card) : NULL;

  if (g_error_matches (error, TKE_ERROR, TKE_ERROR_PIN_BLOCKED))
    {
      if (self->wizard != NULL)
        tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_BLOCKED, description, 0);
      return FALSE;
    }
  if (!g_error_matches (error, TKE_ERROR, TKE_ERROR_PIN_INCORRECT))
    return FALSE;
  if (self->wizard != NULL)
    tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_WRONG_PIN, description,
                                   card != NULL ? tke_card_get_pin_tries_left (card) : 0);
  retry (self);
  return TRUE;
}

/* ---- What the cards ask for ---- */

static void
on_progress (TkeCeremony *ceremony, TkeCryptoUnit *unit, const char *message, TkeCardCeremony *self)
{
  if (self->wizard != NULL)
    tke_load_wizard_set_progress (self->wizard, message);
}

/* Every unit's command is prepared: what is signed, before the first PIN. */
static void
on_prepared (TkeCeremony *ceremony, TkeCardCeremony *self)
{
  if (self->wizard != NULL)
    tke_load_wizard_set_summary (self->wizard, tke_ceremony_get_summary (ceremony));
}

/* The pad has the PIN: the prompt no longer asks for it while the card
 * checks it and signs (a wrong PIN comes back as an error). */
static void
on_waiting_for_pin (TkeCard *card, GParamSpec *pspec, TkeCardCeremony *self)
{
  if (tke_card_get_waiting_for_pin (card) || self->wizard == NULL)
    return;
  g_signal_handlers_disconnect_by_func (card, on_waiting_for_pin, self);
  g_set_object (&self->pin_typed, card);
  if (tke_pin_prompt_get_state (tke_load_wizard_get_pin_prompt (self->wizard)) ==
      TKE_PIN_PROMPT_ENTER_PIN)
    tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_WORKING,
                                   tke_card_get_description (card), 0);
}

/* @text: libtke's words for it, which name the card wanted */
void
_tke_card_ceremony_show_prompt (TkeCardCeremony *self,
                                TkeCardPrompt kind,
                                const char *text,
                                TkeCard *card)
{
  if (self->wizard == NULL)
    return;
  if (kind == TKE_CARD_PROMPT_INSERT_CARD)
    tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_WAITING_FOR_CARD, text, 0);
  else
    {
      /* The prompt counts down the reader's time for the PIN. */
      if (card != NULL)
        tke_pin_prompt_set_pin_timeout (tke_load_wizard_get_pin_prompt (self->wizard),
                                        tke_card_get_pin_timeout (card));
      tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_ENTER_PIN,
                                     card != NULL ? tke_card_get_description (card) : NULL, 0);
      if (card != NULL)
        {
          g_signal_handlers_disconnect_by_func (card, on_waiting_for_pin, self);
          g_signal_connect_object (card, "notify::waiting-for-pin", G_CALLBACK (on_waiting_for_pin),
                                   self, 0);
        }
    }
}

static void
on_signer_prompt (TkeCardSigner *signer,
                  TkeCardPrompt kind,
                  const char *text,
                  TkeCardCeremony *self)
{
  TkeCard *card;
  guint index;

  if (self->wizard == NULL || !g_ptr_array_find (self->signers, signer, &index))
    return;
  /* The next administrator's turn: a new step in the wizard. */
  if (index + 1 != self->active_signer && self->kind != TKE_CEREMONY_LOAD)
    {
      self->active_signer = index + 1;
      tke_load_wizard_show_admin_step (self->wizard, self->active_signer, self->signers->len);
    }
  card = tke_card_signer_get_card (signer);
  /* The card that took a PIN asks again: it was wrong, and libtke asks
   * again (signer by signer, the signatures made so far stay). */
  if (kind == TKE_CARD_PROMPT_ENTER_PIN && self->kind != TKE_CEREMONY_LOAD && card != NULL &&
      card == self->pin_typed)
    tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_WRONG_PIN,
                                   tke_card_get_description (card),
                                   tke_card_get_pin_tries_left (card));
  _tke_card_ceremony_show_prompt (self, kind, text, card);
}

static void
on_source_prompt (TkeCardKeyPartSource *source,
                  TkeCardPrompt kind,
                  const char *text,
                  TkeCardCeremony *self)
{
  _tke_card_ceremony_show_prompt (self, kind, text, tke_card_key_part_source_get_card (source));
}

static TkeCard *
active_signer_card (TkeCardCeremony *self)
{
  if (self->active_signer == 0 || self->active_signer > self->signers->len ||
      !TKE_IS_CARD_SIGNER (self->signers->pdata[self->active_signer - 1]))
    return NULL;
  return tke_card_signer_get_card (self->signers->pdata[self->active_signer - 1]);
}

static gboolean
make_signers (TkeCardCeremony *self, guint n_signers)
{
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&self->signers, g_ptr_array_unref);
  if (tke_service_signer_get_default_url () != NULL)
    {
      g_autoptr (TkeWorkstation) workstation = tke_workstation_new (NULL, NULL);

      /* No prompt for a token here: libtke names the file to fix. */
      self->signers = tke_service_signer_new_for_workstation (workstation, n_signers, TRUE, &error);
      if (self->signers == NULL)
        {
          self->signers = g_ptr_array_new ();
          _tke_card_ceremony_fail (self, error);
          return FALSE;
        }
      return TRUE;
    }
  /* In imprint mode nothing is signed: no card is asked for. */
  self->signers = n_signers > 0 ? tke_card_signer_new_group (NULL, n_signers)
                                : g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->signers->len; i++)
    g_signal_connect_object (self->signers->pdata[i], "prompt", G_CALLBACK (on_signer_prompt), self,
                             0);
  return TRUE;
}

static void
show_admin_step (TkeCardCeremony *self, guint n_signers)
{
  if (tke_service_signer_get_default_url () != NULL)
    tke_load_wizard_show_service_step (self->wizard, n_signers,
                                       tke_service_signer_get_default_url ());
  else
    tke_load_wizard_show_admin_step (self->wizard, 1, n_signers);
}

static void
new_ceremony (TkeCardCeremony *self)
{
  g_clear_object (&self->ceremony);
  self->ceremony = tke_ceremony_new (self->client, self->kind, G_LIST_MODEL (self->units));
  tke_ceremony_set_signers (self->ceremony, self->signers);
  if (self->kind == TKE_CEREMONY_ADD_ADMIN)
    tke_ceremony_set_new_administrator (self->ceremony, self->new_name, self->new_key);
  else if (self->kind == TKE_CEREMONY_REMOVE_ADMIN)
    tke_ceremony_set_administrator_ski (self->ceremony, self->admin_ski);
  else if (self->kind == TKE_CEREMONY_SET_THRESHOLDS)
    tke_ceremony_set_thresholds (self->ceremony, self->signature, self->revocation);
  g_signal_connect_object (self->ceremony, "progress", G_CALLBACK (on_progress), self, 0);
  g_signal_connect_object (self->ceremony, "prepared", G_CALLBACK (on_prepared), self, 0);
}

static TkeCryptoUnit *
first_unit (TkeCardCeremony *self)
{
  g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (G_LIST_MODEL (self->units), 0);
  return unit; /* the store keeps it */
}

/* ---- Commit, Set immediate, Clear: signatures from reader 1 ---- */

static void
show_signing_result (TkeCardCeremony *self)
{
  _tke_card_ceremony_show_result (self->wizard, self->kind, first_unit (self));
}

static void
record_end (TkeCardCeremony *self, const GError *error)
{
  if (!self->recording || self->trail == NULL || self->ceremony == NULL)
    return;
  self->recording = FALSE;
  tke_gui_record_end_ceremony (self->trail, self->ceremony, error, self->wizard);
}

typedef struct
{
  TkeCardCeremony *self;
  void (*next) (TkeCardCeremony *self);
} Recording;

static void
on_record_begin_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree Recording *recording = user_data;
  g_autoptr (TkeCardCeremony) self = recording->self;
  g_autoptr (GError) error = NULL;

  if (!tke_audit_trail_begin_finish (TKE_AUDIT_TRAIL (source), result, &error))
    {
      if (self->finished)
        return;
      if (_tke_card_ceremony_is_cancelled (error))
        finish (self, FALSE);
      else
        _tke_card_ceremony_fail (self, error);
      return;
    }
  self->recording = TRUE;
  if (self->finished) /* cancelled while the first record was written */
    record_end (self, cancelled_error ());
  else
    recording->next (self);
}

/* Every ceremony goes into the ceremony record, and its first step starts
 * once its first record is on disk (written off the main loop); one that
 * cannot be recorded does not start.  A load's record begins before its
 * importer keys, so that they and each sealed part are recorded. */
static void
record_then (TkeCardCeremony *self, void (*next) (TkeCardCeremony *self))
{
  Recording *recording = g_new0 (Recording, 1);

  if (self->trail == NULL)
    self->trail = tke_gui_record_open ();
  recording->self = g_object_ref (self);
  recording->next = next;
  tke_audit_trail_begin_ceremony_async (self->trail, self->ceremony, self->cancellable,
                                        on_record_begin_written, recording);
}

/* The units the ceremony has not reached: where a retry goes on. */
static void
drop_done_units (TkeCardCeremony *self)
{
  guint done = tke_ceremony_get_n_units_done (self->ceremony);

  if (done > 0)
    g_list_store_splice (self->units, 0, done, NULL, 0);
}

static void
on_signing_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeCardCeremony) self = user_data;
  g_autoptr (GError) error = NULL;

  gboolean ok = tke_ceremony_run_finish (TKE_CEREMONY (source), result, &error);

  record_end (self, error);
  if (!ok)
    {
      if (_tke_card_ceremony_is_cancelled (error))
        finish (self, FALSE);
      else if (!_tke_card_ceremony_handle_pin_error (self, error, active_signer_card (self),
                                                     run_signing))
        _tke_card_ceremony_fail (self, error);
      return;
    }
  if (self->wizard != NULL)
    show_signing_result (self);
  finish (self, TRUE);
}

static void
send_signed (TkeCardCeremony *self)
{
  self->running = TRUE;
  tke_ceremony_run_async (self->ceremony, self->cancellable, on_signing_done, g_object_ref (self));
}

static void
run_signing (TkeCardCeremony *self)
{
  if (self->ceremony != NULL)
    drop_done_units (self);
  new_ceremony (self);
  record_then (self, send_signed);
}

/* ---- Load: the administrator card, then part by part ---- */

static void
on_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeCardCeremony) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = tke_ceremony_run_finish (TKE_CEREMONY (source), result, &error);
  TkeCryptoUnit *unit;

  record_end (self, error);
  if (!ok)
    {
      if (_tke_card_ceremony_is_cancelled (error))
        finish (self, FALSE);
      else
        _tke_card_ceremony_fail (self, error);
      return;
    }
  unit = first_unit (self);
  if (self->wizard != NULL)
    tke_load_wizard_show_result (
        self->wizard,
        tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit)),
        tke_crypto_unit_get_new_register_vp (unit));
  finish (self, TRUE);
}

static void
on_part_sealed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeCardCeremony) self = user_data;
  g_autoptr (GError) error = NULL;
  TkeKeyPartSource *part = TKE_KEY_PART_SOURCE (self->sealing);

  self->sealing_now = FALSE;
  if (!tke_ceremony_seal_next_part_finish (TKE_CEREMONY (source), result, &error))
    {
      if (_tke_card_ceremony_is_cancelled (error))
        finish (self, FALSE);
      else if (!_tke_card_ceremony_handle_pin_error (
                   self, error, tke_card_key_part_source_get_card (self->sealing), seal_part))
        _tke_card_ceremony_fail (self, error);
      return;
    }
  g_ptr_array_add (self->used,
                   g_strdup_printf ("%s:%u", tke_card_key_part_source_get_serial (self->sealing),
                                    tke_card_key_part_source_get_index (self->sealing)));
  if (self->wizard == NULL)
    return;
  tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_ACCEPTED, NULL, 0);
  tke_load_wizard_show_part_loaded (self->wizard, self->part,
                                    tke_key_part_source_get_check_value (part));
  if (self->part < tke_ceremony_get_n_key_parts (self->ceremony))
    {
      start_part (self, self->part + 1);
      return;
    }
  /* Every part is sealed to every unit: the loads themselves. */
  self->running = TRUE;
  tke_ceremony_run_async (self->ceremony, self->cancellable, on_loaded, g_object_ref (self));
}

static void
seal_part (TkeCardCeremony *self)
{
  self->sealing_now = TRUE;
  tke_ceremony_seal_next_part_async (self->ceremony, TKE_KEY_PART_SOURCE (self->sealing),
                                     self->cancellable, on_part_sealed, g_object_ref (self));
}

static void
on_part_chosen (TkeLoadWizard *wizard, guint part, GObject *source, TkeCardCeremony *self)
{
  /* The wizard offers no choice while a part is sealed; a second choice
   * would replace the part being sealed (libtke refuses it too). */
  if (self->sealing_now)
    return;
  g_cancellable_cancel (self->choosing);
  g_set_object (&self->sealing, TKE_CARD_KEY_PART_SOURCE (source));
  g_signal_connect_object (source, "prompt", G_CALLBACK (on_source_prompt), self, 0);
  seal_part (self);
}

static void
on_part_card_removed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeCardCeremony) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!tke_card_wait_removed_finish (result, &error))
    return; /* a part was chosen, or the ceremony ended */
  if (self->wizard == NULL)
    return;
  /* Another card: back to waiting, with the list of the old one gone. */
  g_list_store_remove_all (self->offered);
  g_clear_object (&self->part_card);
  tke_load_wizard_set_card_parts (self->wizard, NULL, NULL);
  tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_WAITING_FOR_CARD, NULL, 0);
  open_part_card (self);
}

static void
wait_for_card_to_go (TkeCardCeremony *self)
{
  tke_card_wait_removed_async (2, NULL, self->choosing, on_part_card_removed, g_object_ref (self));
}

typedef struct
{
  TkeCardCeremony *self;
  TkeCard *card;
  GPtrArray *sources; /* to read, in the card's order */
  guint next;
} Offer;

static void
offer_free (Offer *offer)
{
  g_clear_object (&offer->self);
  g_clear_object (&offer->card);
  g_clear_pointer (&offer->sources, g_ptr_array_unref);
  g_free (offer);
}

static void read_next_offer (Offer *offer);

static void
on_part_card_pin_requested (TkeCard *card, TkePinEntry entry, TkeCardCeremony *self)
{
  _tke_card_ceremony_show_prompt (self, TKE_CARD_PROMPT_ENTER_PIN, NULL, card);
}

/* The card's PIN, then its list (the seed's steps 1.4 and 1.5), as the
 * real card lists its parts only after its PIN.  The PIN is verified
 * through this handle (a login), and the parts' sources work with this
 * very handle (tke_card_key_part_source_new_for_card()), so the part is
 * sealed without a second entry; the next part from the same card uses it
 * again while the card stays in.  No other connection gets this PIN, and
 * the ceremony's end logs the card out. */
static void
on_part_card_verified (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeCardCeremony) self = user_data;
  g_autoptr (GError) error = NULL;
  TkeCard *card = TKE_CARD (source);

  gboolean verified = tke_card_verify_pin_finish (card, result, &error);

  g_signal_handlers_disconnect_by_func (card, on_part_card_pin_requested, self);
  if (self->wizard == NULL || self->finished || _tke_card_ceremony_is_cancelled (error))
    return;
  if (!verified)
    {
      if (g_error_matches (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED) ||
          g_error_matches (error, TKE_ERROR, TKE_ERROR_NO_CARD))
        {
          /* Pulled at the PIN: another card, or the same again. */
          g_list_store_remove_all (self->offered);
          g_clear_object (&self->part_card);
          tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_WAITING_FOR_CARD, NULL, 0);
          open_part_card (self);
        }
      else if (!_tke_card_ceremony_handle_pin_error (self, error, card, verify_part_card))
        _tke_card_ceremony_fail (self, error);
      return;
    }
  tke_card_list_key_parts_async (card, self->choosing, on_parts_listed, g_object_ref (self));
}

static void
verify_part_card (TkeCardCeremony *self)
{
  g_signal_connect_object (self->part_card, "pin-requested",
                           G_CALLBACK (on_part_card_pin_requested), self, 0);
  tke_card_verify_pin_async (self->part_card, self->choosing, on_part_card_verified,
                             g_object_ref (self));
}

static void
on_offer_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Offer *offer = user_data;
  g_autoptr (GError) error = NULL;

  if (!tke_card_key_part_source_load_finish (TKE_CARD_KEY_PART_SOURCE (source), result, &error))
    {
      if (!_tke_card_ceremony_is_cancelled (error) && offer->self->wizard != NULL)
        {
          /* Pulled while being read: wait for it (or another) again. */
          tke_load_wizard_set_pin_state (offer->self->wizard, TKE_PIN_PROMPT_WAITING_FOR_CARD, NULL,
                                         0);
          open_part_card (offer->self);
        }
      offer_free (offer);
      return;
    }
  g_list_store_append (offer->self->offered, source);
  offer->next++;
  read_next_offer (offer);
}

static void
read_next_offer (Offer *offer)
{
  TkeCardCeremony *self = offer->self;

  if (offer->next < offer->sources->len)
    {
      tke_card_key_part_source_load_async (offer->sources->pdata[offer->next], self->choosing,
                                           on_offer_read, offer);
      return;
    }
  offer_free (offer);
  tke_load_wizard_set_card_parts (self->wizard, tke_card_get_description (self->part_card),
                                  G_LIST_MODEL (self->offered));
  wait_for_card_to_go (self);
}

static gboolean
part_used (TkeCardCeremony *self, const char *serial, guint index)
{
  g_autofree char *key = g_strdup_printf ("%s:%u", serial, index);

  for (guint i = 0; i < self->used->len; i++)
    if (g_str_equal (self->used->pdata[i], key))
      return TRUE;
  return FALSE;
}

static void
on_parts_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeCardCeremony) self = user_data;
  TkeCard *card = TKE_CARD (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) parts = tke_card_list_key_parts_finish (card, result, &error);
  Offer *offer;

  if (self->wizard == NULL || _tke_card_ceremony_is_cancelled (error))
    return;
  if (parts == NULL)
    {
      tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_WAITING_FOR_CARD, NULL, 0);
      open_part_card (self);
      return;
    }
  offer = g_new0 (Offer, 1);
  offer->self = g_object_ref (self);
  offer->card = g_object_ref (card);
  offer->sources = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < parts->len; i++)
    {
      const TkeCardKeyPart *part = parts->pdata[i];

      if (!part_used (self, tke_card_get_serial (card), part->index))
        g_ptr_array_add (offer->sources, tke_card_key_part_source_new_for_card (card, part->index));
    }
  if (offer->sources->len == 0)
    {
      /* Its parts are all in already: the routine swap to the next card,
       * not a mistake (a card of the wrong kind is one). */
      g_autofree char *next = g_strdup_printf (
          _ ("Every key part on “%s” is loaded. Take it out of reader 2 and insert the card with "
             "key part %u."),
          tke_card_get_description (card), self->part);

      tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_WAITING_FOR_CARD, next, 0);
      wait_for_card_to_go (self);
      offer_free (offer);
      return;
    }
  read_next_offer (offer);
}

static void
use_part_card (TkeCardCeremony *self, TkeCard *card)
{
  if (tke_card_get_card_type (card) != TKE_CARD_TYPE_EP11)
    {
      tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_WRONG_CARD,
                                     tke_card_get_description (card), 0);
      wait_for_card_to_go (self);
      return;
    }
  tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_CARD_FOUND,
                                 tke_card_get_description (card), 0);
  g_set_object (&self->part_card, card);
  verify_part_card (self);
}

static void
on_part_card_opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeCardCeremony) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = tke_card_open_finish (result, &error);

  if (self->wizard == NULL || _tke_card_ceremony_is_cancelled (error))
    return;
  if (card == NULL)
    {
      /* Pulled while it was read: wait again.  No reader at all is the end. */
      if (g_error_matches (error, TKE_ERROR, TKE_ERROR_NO_READER))
        _tke_card_ceremony_fail (self, error);
      else
        open_part_card (self);
      return;
    }
  use_part_card (self, card);
}

/* The card of the last part: still in (the same insertion), it is used
 * again with its login; gone, the reader is opened anew. */
static void
on_part_card_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeCardCeremony) self = user_data;
  g_autoptr (GError) error = NULL;
  TkeCard *card = TKE_CARD (source);
  gboolean still_in = tke_card_read_info_finish (card, result, &error);

  if (self->wizard == NULL || _tke_card_ceremony_is_cancelled (error))
    return;
  if (still_in && card == self->part_card)
    {
      use_part_card (self, card);
      return;
    }
  if (card == self->part_card)
    g_clear_object (&self->part_card);
  open_part_card (self);
}

static void
open_part_card (TkeCardCeremony *self)
{
  if (self->part_card != NULL)
    {
      tke_card_read_info_async (self->part_card, self->choosing, on_part_card_checked,
                                g_object_ref (self));
      return;
    }
  tke_card_open_async (2, NULL, TRUE, self->choosing, on_part_card_opened, g_object_ref (self));
}

static void
cancel_child (GCancellable *parent, GCancellable *child)
{
  g_cancellable_cancel (child);
}

static void
start_part (TkeCardCeremony *self, guint part)
{
  self->part = part;
  g_clear_object (&self->sealing);
  g_list_store_remove_all (self->offered);
  /* The card of the last part stays, with its login: the same card may
   * hold the next part (open_part_card()). */
  g_clear_object (&self->choosing);
  self->choosing = g_cancellable_new ();
  g_cancellable_connect (self->cancellable, G_CALLBACK (cancel_child),
                         g_object_ref (self->choosing), g_object_unref);
  tke_load_wizard_show_part_step (self->wizard, part);
  /* The last card's list goes: the next one shows after its PIN. */
  tke_load_wizard_set_card_parts (self->wizard, NULL, NULL);
  open_part_card (self);
}

static void
on_load_prepared (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeCardCeremony) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!tke_ceremony_prepare_load_finish (TKE_CEREMONY (source), result, &error))
    {
      if (_tke_card_ceremony_is_cancelled (error))
        finish (self, FALSE);
      else if (!_tke_card_ceremony_handle_pin_error (self, error, active_signer_card (self),
                                                     prepare_load))
        _tke_card_ceremony_fail (self, error);
      return;
    }
  if (self->wizard == NULL)
    return;
  tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_ACCEPTED, NULL, 0);
  tke_load_wizard_show_count_step (self->wizard);
}

/* The administrator's card signs an importer key on every unit; its PIN
 * stays verified for the loads at the end. */
static void
prepare_load (TkeCardCeremony *self)
{
  tke_ceremony_prepare_load_async (self->ceremony, self->cancellable, on_load_prepared,
                                   g_object_ref (self));
}

/* The seed's step 1.3, after the administrator's PIN: the parts are
 * sealed as "i of n", so n is set before the first. */
static void
on_parts_counted (TkeLoadWizard *wizard, guint n_parts, TkeCardCeremony *self)
{
  tke_ceremony_set_n_key_parts (self->ceremony, n_parts);
  start_part (self, 1);
}

/* ---- Life cycle ---- */

/* Cancel may come while nothing runs (the count page) or while only a
 * card is awaited (the part list): no callback would end the ceremony
 * then, so it ends here; the callbacks of what was cancelled find it
 * finished. */
static void
on_cancelled (TkeLoadWizard *wizard, TkeCardCeremony *self)
{
  g_cancellable_cancel (self->cancellable);
  finish (self, FALSE);
}

/* The wizard went without Cancel (its parent closed, say). */
static void
on_wizard_destroyed (TkeLoadWizard *wizard, TkeCardCeremony *self)
{
  g_cancellable_cancel (self->cancellable);
  finish (self, FALSE);
}

/* How many administrators sign, as libtke counts them (none in imprint
 * mode, the new threshold to leave it). */
void
_tke_card_ceremony_start_signing (TkeCardCeremony *self)
{
  guint n_signers =
      tke_instance_setup_get_n_signers (self->kind, G_LIST_MODEL (self->units), self->signature);

  if (!make_signers (self, n_signers))
    return;
  self->active_signer = 1;
  if (n_signers > 0)
    show_admin_step (self, n_signers);
  run_signing (self);
}

void
tke_card_ceremony_start (TkeCardCeremony *self)
{
  g_return_if_fail (TKE_IS_CARD_CEREMONY (self));
  g_return_if_fail (self->wizard != NULL);

  if (self->kind == TKE_CEREMONY_LOAD)
    {
      /* The administrator's card first (the seed's step 1.2); the wizard
       * asks for the number of parts after its PIN. */
      g_signal_connect_object (self->wizard, "parts-chosen", G_CALLBACK (on_parts_counted), self,
                               0);
      g_signal_connect_object (self->wizard, "part-chosen", G_CALLBACK (on_part_chosen), self, 0);
      if (!make_signers (self, 1))
        return;
      self->active_signer = 1;
      new_ceremony (self);
      /* Preparing (an importer key per unit) does not depend on the
       * number of parts; libtke only wants a valid one set. */
      tke_ceremony_set_n_key_parts (self->ceremony, 2);
      show_admin_step (self, 1);
      record_then (self, prepare_load);
      return;
    }
  if (self->kind == TKE_CEREMONY_ADD_ADMIN)
    {
      tke_load_wizard_show_new_admin_step (self->wizard);
      _tke_card_ceremony_open_new_admin_card (self);
      return;
    }
  _tke_card_ceremony_start_signing (self);
}

void
tke_card_ceremony_set_administrator_ski (TkeCardCeremony *self, const char *ski)
{
  g_return_if_fail (TKE_IS_CARD_CEREMONY (self));
  g_free (self->admin_ski);
  self->admin_ski = g_strdup (ski);
}

void
tke_card_ceremony_set_thresholds (TkeCardCeremony *self, guint signature, guint revocation)
{
  g_return_if_fail (TKE_IS_CARD_CEREMONY (self));
  self->signature = signature;
  self->revocation = revocation;
}

/**
 * tke_card_ceremony_new:
 * @units: the selected crypto units (copied)
 * @wizard: the wizard that shows it; the ceremony lives as long as it
 */
TkeCardCeremony *
tke_card_ceremony_new (TkeServiceClient *client,
                       TkeCeremonyKind kind,
                       GListModel *units,
                       TkeLoadWizard *wizard)
{
  TkeCardCeremony *self = g_object_new (TKE_TYPE_CARD_CEREMONY, NULL);

  self->client = g_object_ref (client);
  self->kind = kind;
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (GObject) unit = g_list_model_get_item (units, i);
      g_list_store_append (self->units, unit);
    }
  g_set_weak_pointer (&self->wizard, wizard);
  g_signal_connect_object (wizard, "cancelled", G_CALLBACK (on_cancelled), self, 0);
  g_signal_connect_object (wizard, "destroy", G_CALLBACK (on_wizard_destroyed), self, 0);
  return self;
}

static void
tke_card_ceremony_dispose (GObject *object)
{
  TkeCardCeremony *self = TKE_CARD_CEREMONY (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_weak_pointer (&self->wizard);
  g_clear_object (&self->ceremony);
  g_clear_object (&self->trail);
  g_clear_object (&self->sealing);
  g_clear_object (&self->part_card);
  g_clear_object (&self->pin_typed);
  g_clear_object (&self->new_card);
  g_clear_pointer (&self->signers, g_ptr_array_unref);
  G_OBJECT_CLASS (tke_card_ceremony_parent_class)->dispose (object);
}

static void
tke_card_ceremony_finalize (GObject *object)
{
  TkeCardCeremony *self = TKE_CARD_CEREMONY (object);

  g_clear_object (&self->client);
  g_clear_object (&self->units);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->choosing);
  g_clear_object (&self->offered);
  g_clear_pointer (&self->used, g_ptr_array_unref);
  g_clear_pointer (&self->new_key, g_bytes_unref);
  g_free (self->new_name);
  g_free (self->admin_ski);
  G_OBJECT_CLASS (tke_card_ceremony_parent_class)->finalize (object);
}

static void
tke_card_ceremony_class_init (TkeCardCeremonyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tke_card_ceremony_dispose;
  object_class->finalize = tke_card_ceremony_finalize;

  /**
   * TkeCardCeremony::finished:
   * @success: whether the command was applied on every unit
   */
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void
tke_card_ceremony_init (TkeCardCeremony *self)
{
  self->units = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  self->cancellable = g_cancellable_new ();
  self->choosing = g_cancellable_new ();
  self->used = g_ptr_array_new_with_free_func (g_free);
  self->offered = g_list_store_new (TKE_TYPE_CARD_KEY_PART_SOURCE);
}
