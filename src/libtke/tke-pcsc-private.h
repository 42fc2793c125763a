/* tke-pcsc-private.h: PC/SC part 10 and ISO 7816-4 helpers of libtke's smart card layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pure functions (no PC/SC calls) so that the unit tests cover them: the
 * reader's feature list, the PIN_VERIFY_STRUCTURE we send, and what status
 * words and PC/SC return codes mean to a person.
 */

#pragma once

#include <glib.h>

#include "tke-card.h"

G_BEGIN_DECLS

/* CM_IOCTL_GET_FEATURE_REQUEST = SCARD_CTL_CODE (3400) in pcsc-lite. */
#define TKE_PCSC_IOCTL_GET_FEATURE_REQUEST 0x42000D48u

#define TKE_PCSC_FEATURE_VERIFY_PIN_DIRECT 0x06
#define TKE_PCSC_FEATURE_MODIFY_PIN_DIRECT 0x07
#define TKE_PCSC_FEATURE_IFD_PIN_PROPERTIES 0x0A
#define TKE_PCSC_FEATURE_GET_TLV_PROPERTIES 0x12

/* 19-byte header + the 11-byte APDU template of card-protocol.md §1.2. */
#define TKE_PCSC_VERIFY_STRUCTURE_SIZE 30

typedef struct
{
  guint32 verify_pin_direct;
  guint32 modify_pin_direct;
  guint32 ifd_pin_properties;
  guint32 get_tlv_properties;
} TkePcscFeatures;

gboolean
_tke_pcsc_parse_features (const guint8 *tlv, gsize size, TkePcscFeatures *features, GError **error);

void _tke_pcsc_build_verify_structure (guint8 timeout_seconds,
                                       guint8 ins,
                                       guint8 p1,
                                       guint8 p2,
                                       guint8 out[TKE_PCSC_VERIFY_STRUCTURE_SIZE]);

typedef struct
{
  char *serial;
  TkeCardType card_type;
  char *zone;
  char *zone_description;
  char *description;
  guint pin_tries_left;
  gboolean has_signature_key;
} TkePcscCardInfo;

void _tke_pcsc_card_info_free (TkePcscCardInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkePcscCardInfo, _tke_pcsc_card_info_free)

/* GET CARD INFO's answer; unknown tags are skipped. */
TkePcscCardInfo *_tke_pcsc_parse_card_info (const guint8 *data, gsize size, GError **error);
/* Text from the card: "?" unless valid UTF-8. */
char *_tke_pcsc_utf8_value (const guint8 *value, gsize size);

/* The answer to a PIN entry on the pad (VERIFY through VERIFY_PIN_DIRECT). */
gboolean _tke_pcsc_check_pin_status (guint sw, guint reader, GError **error);

/* The answer to any other command. */
gboolean _tke_pcsc_check_status (guint sw, GError **error);

/* A PC/SC return code other than SCARD_S_SUCCESS; RV is a LONG. */
void _tke_pcsc_set_error (glong rv, guint reader, GError **error);

G_END_DECLS
