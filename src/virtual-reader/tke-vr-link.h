/* tke-vr-link.h: the link between the pcscd driver and the card/keypad process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Stands in for the USB cable of a PIN-pad reader.  Frames in both
 * directions: 1 byte (request type, or reply status) ‖ 2 bytes length
 * (big-endian) ‖ payload.  One request, one reply, in order.
 */

#pragma once

/* Requests (driver → card process) */
#define TKE_LINK_PRESENCE 'P' /* reply payload: 1 byte, 1 = card present */
/* PRESENCE with this 1-byte payload: a client asks (SCardGetAttrib); only
 * pcscd's own polls (no payload) count towards reporting a removal. */
#define TKE_LINK_PRESENCE_PEEK 'q'
#define TKE_LINK_POWER_UP 'U' /* power up or reset; reply payload: the ATR */
#define TKE_LINK_POWER_DOWN 'D'
#define TKE_LINK_APDU 'T'   /* payload: C-APDU; reply payload: R-APDU */
#define TKE_LINK_KEYPAD 'K' /* payload: timeout s, min, max; reply payload: digits (ASCII) */

/* Reply status */
#define TKE_LINK_OK 0
#define TKE_LINK_NO_CARD 1
#define TKE_LINK_CANCELLED 2
#define TKE_LINK_TIMED_OUT 3
#define TKE_LINK_FAILED 4

#define TKE_LINK_MAX_PAYLOAD 8192
/* Digits a person can type before OK. */
#define TKE_LINK_MAX_DIGITS 16
