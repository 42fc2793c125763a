/* tke-card-ceremony-admin.c: Add administrator reads the name and the
 * public key from the new administrator's card in reader 1, after its PIN
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libtke checks the administrator (tke_instance_setup_check_new_administrator())
 * before anything is signed; units that have it already are passed over.
 * When signatures are needed, the card comes out of reader 1 first: the
 * signers' cards go into the same reader.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-card-ceremony-private.h"

/* ---- Add administrator: the new administrator's card in reader 1 ---- */

static void open_new_admin_card (TkeCardCeremony *self);

static void
on_new_card_removed_retry (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeCardCeremony) self = user_data;

  if (!tke_card_wait_removed_finish (result, NULL) || self->wizard == NULL || self->finished)
    return;
  open_new_admin_card (self);
}

static void
on_new_card_removed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeCardCeremony) self = user_data;

  if (!tke_card_wait_removed_finish (result, NULL) || self->wizard == NULL || self->finished)
    return;
  _tke_card_ceremony_start_signing (self);
}

static void
on_new_admin_key (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeCardCeremony) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) point = tke_card_get_public_key_finish (TKE_CARD (source), result, &error);
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (GListModel) lacking = NULL;
  g_autofree char *ski = NULL;
  guint8 ski_bytes[TKE_SKI_SIZE];

  if (self->wizard == NULL || _tke_card_ceremony_is_cancelled (error))
    return;
  if (point != NULL)
    key = tke_crypto_ec_public_key_from_point (g_bytes_get_data (point, NULL),
                                               g_bytes_get_size (point), &error);
  if (key == NULL || !tke_crypto_ski (key, ski_bytes, &error))
    {
      _tke_card_ceremony_fail (self, error);
      return;
    }
  ski = tke_crypto_hex_encode (ski_bytes, sizeof ski_bytes);
  g_free (self->new_name);
  self->new_name = g_strdup (tke_card_get_description (TKE_CARD (source)));
  if (!tke_instance_setup_check_new_administrator (G_LIST_MODEL (self->units), self->new_name, ski,
                                                   &error))
    {
      _tke_card_ceremony_fail (self, error);
      return;
    }
  g_clear_pointer (&self->new_key, g_bytes_unref);
  self->new_key = g_bytes_ref (point);
  /* Units that have it already (an earlier run that stopped) are passed over. */
  lacking = tke_instance_setup_units_lacking (G_LIST_MODEL (self->units), ski);
  g_list_store_remove_all (self->units);
  for (guint i = 0; i < g_list_model_get_n_items (lacking); i++)
    {
      g_autoptr (GObject) unit = g_list_model_get_item (lacking, i);
      g_list_store_append (self->units, unit);
    }
  tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_ACCEPTED, self->new_name, 0);
  if (tke_instance_setup_get_n_signers (self->kind, G_LIST_MODEL (self->units), 0) == 0)
    {
      _tke_card_ceremony_start_signing (self);
      return;
    }
  /* The signers' cards go into the same reader: this one comes out first. */
  tke_load_wizard_set_pin_state (
      self->wizard, TKE_PIN_PROMPT_WAITING_FOR_CARD,
      _ ("Take the new administrator's card out of reader 1: the administrators who sign insert "
         "theirs next."),
      0);
  tke_card_wait_removed_async (1, NULL, self->choosing, on_new_card_removed, g_object_ref (self));
}

static void
on_new_admin_pin_requested (TkeCard *card, TkePinEntry entry, TkeCardCeremony *self)
{
  _tke_card_ceremony_show_prompt (self, TKE_CARD_PROMPT_ENTER_PIN, NULL, card);
}

static void verify_new_admin_card (TkeCardCeremony *self);

static void
on_new_admin_verified (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeCardCeremony) self = user_data;
  g_autoptr (GError) error = NULL;
  TkeCard *card = TKE_CARD (source);
  gboolean verified = tke_card_verify_pin_finish (card, result, &error);

  g_signal_handlers_disconnect_by_func (card, on_new_admin_pin_requested, self);
  if (self->wizard == NULL || self->finished || _tke_card_ceremony_is_cancelled (error))
    return;
  if (verified)
    tke_card_get_public_key_async (card, self->choosing, on_new_admin_key, g_object_ref (self));
  else if (g_error_matches (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED) ||
           g_error_matches (error, TKE_ERROR, TKE_ERROR_NO_CARD))
    open_new_admin_card (self);
  else if (!_tke_card_ceremony_handle_pin_error (self, error, card, verify_new_admin_card))
    _tke_card_ceremony_fail (self, error);
}

static void
verify_new_admin_card (TkeCardCeremony *self)
{
  g_signal_connect_object (self->new_card, "pin-requested", G_CALLBACK (on_new_admin_pin_requested),
                           self, 0);
  tke_card_verify_pin_async (self->new_card, self->choosing, on_new_admin_verified,
                             g_object_ref (self));
}

static void
on_new_admin_card_opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeCardCeremony) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCard) card = tke_card_open_finish (result, &error);

  if (self->wizard == NULL || _tke_card_ceremony_is_cancelled (error))
    return;
  if (card == NULL)
    {
      if (g_error_matches (error, TKE_ERROR, TKE_ERROR_NO_READER))
        _tke_card_ceremony_fail (self, error);
      else
        open_new_admin_card (self);
      return;
    }
  if (tke_card_get_card_type (card) != TKE_CARD_TYPE_EP11 || !tke_card_get_has_signature_key (card))
    {
      tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_WRONG_CARD,
                                     tke_card_get_description (card), 0);
      tke_card_wait_removed_async (1, NULL, self->choosing, on_new_card_removed_retry,
                                   g_object_ref (self));
      return;
    }
  tke_load_wizard_set_pin_state (self->wizard, TKE_PIN_PROMPT_CARD_FOUND,
                                 tke_card_get_description (card), 0);
  g_set_object (&self->new_card, card);
  verify_new_admin_card (self);
}

void
_tke_card_ceremony_open_new_admin_card (TkeCardCeremony *self)
{
  open_new_admin_card (self);
}

static void
open_new_admin_card (TkeCardCeremony *self)
{
  tke_load_wizard_set_pin_state (
      self->wizard, TKE_PIN_PROMPT_WAITING_FOR_CARD,
      _ ("Insert the new administrator's card in reader 1 and enter its PIN on the PIN pad"), 0);
  tke_card_open_async (1, NULL, TRUE, self->choosing, on_new_admin_card_opened,
                       g_object_ref (self));
}
