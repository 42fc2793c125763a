/* tke-virtual-pin-pad.h: the keys of a virtual PIN-pad reader, on screen
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TKE_TYPE_VIRTUAL_PIN_PAD (tke_virtual_pin_pad_get_type ())

G_DECLARE_FINAL_TYPE (TkeVirtualPinPad, tke_virtual_pin_pad, TKE, VIRTUAL_PIN_PAD, GtkWidget)

GtkWidget *tke_virtual_pin_pad_new (void);
void tke_virtual_pin_pad_set_control_path (TkeVirtualPinPad *self, const char *control_path);
const char *tke_virtual_pin_pad_get_control_path (TkeVirtualPinPad *self);
void tke_virtual_pin_pad_set_reader (TkeVirtualPinPad *self, guint reader);
const char *tke_virtual_pin_pad_get_title (TkeVirtualPinPad *self);
guint tke_virtual_pin_pad_get_n_replies (TkeVirtualPinPad *self);
const char *tke_virtual_pin_pad_get_last_reply (TkeVirtualPinPad *self);

G_END_DECLS
