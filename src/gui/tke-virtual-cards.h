/* tke-virtual-cards.h: the demo's card images, put in and taken out of the virtual readers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * TkeVirtualCardImage:
 * @path: the image file (absolute)
 * @description: the card's description, or the file name when it has none
 * @type: "EP11", "CA", or NULL
 */
typedef struct
{
  char *path;
  char *description;
  char *type;
} TkeVirtualCardImage;

void tke_virtual_card_image_free (TkeVirtualCardImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeVirtualCardImage, tke_virtual_card_image_free)

GPtrArray *tke_virtual_cards_list (const char *dir, GError **error);

void tke_virtual_cards_swap_async (const char *control_path,
                                   const char *image_path,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean tke_virtual_cards_swap_finish (GAsyncResult *result, GError **error);

G_END_DECLS
