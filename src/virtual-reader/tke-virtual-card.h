/* tke-virtual-card.h: the card applet of the virtual smart cards
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A card image file plus the applet that answers its APDUs
 * (data/doc/card-protocol.md).  Used by tke-virtual-readers (the card in a
 * virtual reader) and by tke-card (offline provisioning of images).
 */

#pragma once

#include <tke.h>

G_BEGIN_DECLS

#define TKE_VIRTUAL_CARD_SERIAL_SIZE 8
#define TKE_VIRTUAL_CARD_ZONE_SIZE 8
#define TKE_VIRTUAL_CARD_POINT_SIZE 133
#define TKE_VIRTUAL_CARD_MAX_PARTS 85
#define TKE_VIRTUAL_CARD_PIN_SIZE 6
#define TKE_VIRTUAL_CARD_DESCRIPTION_MAX 32

typedef enum
{
  TKE_VIRTUAL_CARD_TYPE_BLANK = 0,
  TKE_VIRTUAL_CARD_TYPE_CA = 1,
  TKE_VIRTUAL_CARD_TYPE_EP11 = 2,
} TkeVirtualCardType;

extern const guint8 tke_virtual_card_aid[8];

#define TKE_TYPE_VIRTUAL_CARD (tke_virtual_card_get_type ())
G_DECLARE_FINAL_TYPE (TkeVirtualCard, tke_virtual_card, TKE, VIRTUAL_CARD, GObject)

char *tke_virtual_card_default_chip_key_path (void);
TkeSecret *tke_virtual_card_load_chip_key (const char *path, gboolean create, GError **error);

TkeVirtualCard *tke_virtual_card_load (const char *path, TkeSecret *chip_key, GError **error);
TkeVirtualCard *tke_virtual_card_create_ca (const char *path,
                                            TkeSecret *chip_key,
                                            const char *zone_description,
                                            const char *description,
                                            const TkeSecret *pin1,
                                            const TkeSecret *pin2,
                                            GError **error);
TkeVirtualCard *tke_virtual_card_new_ep11 (const char *path,
                                           TkeSecret *chip_key,
                                           const char *description,
                                           const TkeSecret *pin,
                                           GError **error);
TkeVirtualCard *
tke_virtual_card_create_blank (const char *path, TkeSecret *chip_key, GError **error);
gboolean tke_virtual_card_install_unit_root (TkeVirtualCard *self, GBytes *point, GError **error);
gboolean tke_virtual_card_install_certificate (TkeVirtualCard *self,
                                               const guint8 *response,
                                               gsize size,
                                               GError **error);

const char *tke_virtual_card_get_path (TkeVirtualCard *self);
const guint8 *tke_virtual_card_get_serial (TkeVirtualCard *self);
GBytes *tke_virtual_card_get_transport_point (TkeVirtualCard *self);
const guint8 *tke_virtual_card_get_atr (gsize *size);

/* Power-on or reset: forgets the security state. */
void tke_virtual_card_reset (TkeVirtualCard *self);
/* One C-APDU in, one R-APDU out (data ‖ SW1 SW2).  The caller wipes the
 * C-APDU: a VERIFY carries a PIN. */
GBytes *tke_virtual_card_transmit (TkeVirtualCard *self, const guint8 *apdu, gsize size);

G_END_DECLS
