/* tke-card.h: a TKE smart card in a PIN-pad reader, through PC/SC
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-key-part-file.h"
#include "tke-secret.h"
#include "tke-signature-key-file.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

/**
 * TKE_READER_1_DEFAULT_PREFIX:
 *
 * The name prefix of the virtual reader 1 (card-protocol.md §1); a physical
 * reader has another name, which the front end's configuration gives.
 */
#define TKE_READER_1_DEFAULT_PREFIX "TKE Virtual PIN Pad Reader 1"
/**
 * TKE_READER_2_DEFAULT_PREFIX:
 *
 * The name prefix of the virtual reader 2 (card-protocol.md §1).
 */
#define TKE_READER_2_DEFAULT_PREFIX "TKE Virtual PIN Pad Reader 2"

/**
 * TkeCardType:
 * @TKE_CARD_TYPE_UNKNOWN: not read yet
 * @TKE_CARD_TYPE_CA: a CA card: defines a zone, two PINs
 * @TKE_CARD_TYPE_EP11: an administrator and/or key part card of a zone
 * @TKE_CARD_TYPE_BLANK: a blank card (maybe enrolled in a zone already),
 *   to be initialized as a CA card or personalized as an EP11 card
 */
typedef enum
{
  TKE_CARD_TYPE_UNKNOWN,
  TKE_CARD_TYPE_CA,
  TKE_CARD_TYPE_EP11,
  TKE_CARD_TYPE_BLANK,
} TkeCardType;

/**
 * TkePinEntry:
 * @TKE_PIN_ENTRY_CURRENT: the card's PIN
 * @TKE_PIN_ENTRY_NEW: a new PIN, first entry
 * @TKE_PIN_ENTRY_NEW_AGAIN: the new PIN again (within 20 seconds)
 * @TKE_PIN_ENTRY_SECOND: a CA card's second PIN
 * @TKE_PIN_ENTRY_NEW_SECOND: a new CA card's second PIN, first entry
 * @TKE_PIN_ENTRY_NEW_SECOND_AGAIN: the new second PIN again (within 20 seconds)
 *
 * What the person is asked to type on the PIN pad.
 */
typedef enum
{
  TKE_PIN_ENTRY_CURRENT,
  TKE_PIN_ENTRY_NEW,
  TKE_PIN_ENTRY_NEW_AGAIN,
  TKE_PIN_ENTRY_SECOND,
  TKE_PIN_ENTRY_NEW_SECOND,
  TKE_PIN_ENTRY_NEW_SECOND_AGAIN,
} TkePinEntry;

/**
 * TkeCardPrompt:
 * @TKE_CARD_PROMPT_INSERT_CARD: waiting for a card in the reader
 * @TKE_CARD_PROMPT_ENTER_PIN: the PIN pad waits for the card's PIN
 *
 * What a card signer or key part source asks the person to do.
 */
typedef enum
{
  TKE_CARD_PROMPT_INSERT_CARD,
  TKE_CARD_PROMPT_ENTER_PIN,
} TkeCardPrompt;

/**
 * TkeCardKeyPart:
 * @index: the part's index on the card (1–85)
 * @check_value: its verification pattern, 64 hex digits
 * @description: as its owner named it
 *
 * A master key part on a card, as the card lists it.  The part's value
 * never leaves the card in clear.
 */
typedef struct
{
  guint index;
  char *check_value;
  char *description;
} TkeCardKeyPart;

#define TKE_TYPE_CARD_KEY_PART (tke_card_key_part_get_type ())
TKE_AVAILABLE_IN_ALL
GType tke_card_key_part_get_type (void) G_GNUC_CONST;
TKE_AVAILABLE_IN_ALL
TkeCardKeyPart *tke_card_key_part_copy (const TkeCardKeyPart *part);
TKE_AVAILABLE_IN_ALL
void tke_card_key_part_free (TkeCardKeyPart *part);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeCardKeyPart, tke_card_key_part_free)

#define TKE_TYPE_CARD (tke_card_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeCard, tke_card, TKE, CARD, GObject)

TKE_AVAILABLE_IN_ALL
const char *tke_reader_default_prefix (guint reader_index);
TKE_AVAILABLE_IN_ALL
char *tke_card_pin_prompt (guint reader_index, TkePinEntry entry);

TKE_AVAILABLE_IN_ALL
void tke_card_open_async (guint reader_index,
                          const char *reader_prefix,
                          gboolean wait_for_card,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data);
TKE_AVAILABLE_IN_ALL
TkeCard *tke_card_open_finish (GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_card_wait_removed_async (guint reader_index,
                                  const char *reader_prefix,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_card_wait_removed_finish (GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
const char *tke_card_get_reader_name (TkeCard *self);
TKE_AVAILABLE_IN_ALL
guint tke_card_get_reader_index (TkeCard *self);
TKE_AVAILABLE_IN_ALL
guint tke_card_get_pin_timeout (TkeCard *self);
TKE_AVAILABLE_IN_ALL
void tke_card_set_pin_timeout (TkeCard *self, guint seconds);
TKE_AVAILABLE_IN_ALL
gboolean tke_card_get_waiting_for_pin (TkeCard *self);

TKE_AVAILABLE_IN_ALL
const char *tke_card_get_serial (TkeCard *self);
TKE_AVAILABLE_IN_ALL
TkeCardType tke_card_get_card_type (TkeCard *self);
TKE_AVAILABLE_IN_ALL
const char *tke_card_get_zone (TkeCard *self);
TKE_AVAILABLE_IN_ALL
const char *tke_card_get_zone_description (TkeCard *self);
TKE_AVAILABLE_IN_ALL
const char *tke_card_get_description (TkeCard *self);
TKE_AVAILABLE_IN_ALL
guint tke_card_get_pin_tries_left (TkeCard *self);
TKE_AVAILABLE_IN_ALL
gboolean tke_card_get_has_signature_key (TkeCard *self);

TKE_AVAILABLE_IN_ALL
void tke_card_read_info_async (TkeCard *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_card_read_info_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_card_verify_pin_async (TkeCard *self,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_card_verify_pin_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_card_log_out_async (TkeCard *self, GAsyncReadyCallback callback, gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_card_log_out_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_card_get_public_key_async (TkeCard *self,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
TKE_AVAILABLE_IN_ALL
GBytes *tke_card_get_public_key_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_card_sign_async (TkeCard *self,
                          GBytes *data,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data);
TKE_AVAILABLE_IN_ALL
GBytes *tke_card_sign_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_card_list_key_parts_async (TkeCard *self,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
TKE_AVAILABLE_IN_ALL
GPtrArray *tke_card_list_key_parts_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_card_export_key_part_async (TkeCard *self,
                                     guint index,
                                     guint part_number,
                                     guint n_parts,
                                     const char *hsm_id,
                                     GPtrArray *unit_certificates,
                                     GBytes *importer_certificate,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
TKE_AVAILABLE_IN_ALL
GBytes *tke_card_export_key_part_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_card_generate_key_part_async (TkeCard *self,
                                       const char *description,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
TKE_AVAILABLE_IN_ALL
TkeCardKeyPart *
tke_card_generate_key_part_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_card_change_pin_async (TkeCard *self,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_card_change_pin_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_card_generate_signature_key_async (TkeCard *self,
                                            gboolean replace,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
TKE_AVAILABLE_IN_ALL
GBytes *
tke_card_generate_signature_key_finish (TkeCard *self, GAsyncResult *result, GError **error);

/* Key parts and the signature key between a card and a file: tke-card-files.c */
TKE_AVAILABLE_IN_ALL
void tke_card_import_key_part_file_async (TkeCard *self,
                                          const char *path,
                                          TkeSecret *password,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
TKE_AVAILABLE_IN_ALL
TkeCardKeyPart *
tke_card_import_key_part_file_finish (TkeCard *self, GAsyncResult *result, GError **error);
TKE_AVAILABLE_IN_ALL
void tke_card_export_key_part_file_async (TkeCard *self,
                                          guint index,
                                          const char *path,
                                          gboolean replace,
                                          TkeSecret *password,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
TKE_AVAILABLE_IN_ALL
TkeKeyPartFile *
tke_card_export_key_part_file_finish (TkeCard *self, GAsyncResult *result, GError **error);
TKE_AVAILABLE_IN_ALL
void tke_card_import_signature_key_file_async (TkeCard *self,
                                               const char *path,
                                               TkeSecret *password,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer user_data);
TKE_AVAILABLE_IN_ALL
GBytes *
tke_card_import_signature_key_file_finish (TkeCard *self, GAsyncResult *result, GError **error);
TKE_AVAILABLE_IN_ALL
void tke_card_export_signature_key_file_async (TkeCard *self,
                                               const char *path,
                                               gboolean replace,
                                               TkeSecret *password,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer user_data);
TKE_AVAILABLE_IN_ALL
TkeSignatureKeyFile *
tke_card_export_signature_key_file_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
char *tke_card_public_key_ski (GBytes *public_key);
TKE_AVAILABLE_IN_ALL
const char *tke_card_type_get_name (TkeCardType type);

TKE_AVAILABLE_IN_ALL
void tke_card_copy_to_async (TkeCard *self,
                             TkeCard *target,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
TKE_AVAILABLE_IN_ALL
guint tke_card_copy_to_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_card_unblock_async (TkeCard *self,
                             TkeCard *ca_card,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_card_unblock_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_card_back_up_ca_async (TkeCard *self,
                                TkeCard *blank,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_card_back_up_ca_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
gboolean tke_card_get_enrolled (TkeCard *self);

TKE_AVAILABLE_IN_ALL
void tke_card_initialize_ca_async (TkeCard *self,
                                   const char *zone_description,
                                   const char *description,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_card_initialize_ca_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_card_enroll_async (TkeCard *self,
                            TkeCard *ca_card,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_card_enroll_finish (TkeCard *self, GAsyncResult *result, GError **error);

TKE_AVAILABLE_IN_ALL
void tke_card_personalize_async (TkeCard *self,
                                 const char *description,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
TKE_AVAILABLE_IN_ALL
gboolean tke_card_personalize_finish (TkeCard *self, GAsyncResult *result, GError **error);

G_END_DECLS
