/* tke-virtual-cards.c: the demo's card images, put in and taken out of the virtual readers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * With the virtual readers a person has no card to pick up: the demo
 * leaves its card images in a directory, and the readers strip offers
 * them.  A card goes in and out through the reader's control socket
 * (`status`, `remove`, `insert PATH`: data/doc/card-protocol.md §6), and
 * the strip learns of it from pcscd like of any real card.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <tke.h>

#include "tke-virtual-cards.h"

/* pcscd polls a reader every 400 ms and must see it empty before the next
 * card goes in, or it may miss the swap (card-protocol.md §6). */
#define SWAP_PAUSE_MS 1200

void
tke_virtual_card_image_free (TkeVirtualCardImage *image)
{
  if (image == NULL)
    return;
  g_free (image->path);
  g_free (image->description);
  g_free (image->type);
  g_free (image);
}

static gint
by_file_name (gconstpointer a, gconstpointer b)
{
  const TkeVirtualCardImage *x = *(TkeVirtualCardImage *const *) a;
  const TkeVirtualCardImage *y = *(TkeVirtualCardImage *const *) b;

  return g_utf8_collate (x->path, y->path);
}

/* The clear fields of an image (card-protocol.md §7) name the card;
 * nothing secret is read, and no chip key is needed. */
static TkeVirtualCardImage *
read_image (const char *dir, const char *name)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  TkeVirtualCardImage *image = g_new0 (TkeVirtualCardImage, 1);

  image->path = g_build_filename (dir, name, NULL);
  if (g_key_file_load_from_file (file, image->path, G_KEY_FILE_NONE, NULL))
    {
      image->description = g_key_file_get_string (file, "TKE Card", "Description", NULL);
      image->type = g_key_file_get_string (file, "TKE Card", "Type", NULL);
    }
  if (image->description == NULL || *image->description == '\0')
    {
      g_free (image->description);
      image->description = g_strdup (name);
    }
  return image;
}

/**
 * tke_virtual_cards_list:
 * @dir: the directory of card images (`*.card`)
 *
 * Returns: (transfer container): the images, by file name.
 */
GPtrArray *
tke_virtual_cards_list (const char *dir, GError **error)
{
  g_autoptr (GPtrArray) images =
      g_ptr_array_new_with_free_func ((GDestroyNotify) tke_virtual_card_image_free);
  g_autoptr (GDir) listing = g_dir_open (dir, 0, error);
  const char *name;

  if (listing == NULL)
    return NULL;
  while ((name = g_dir_read_name (listing)) != NULL)
    if (g_str_has_suffix (name, ".card"))
      g_ptr_array_add (images, read_image (dir, name));
  g_ptr_array_sort (images, by_file_name);
  return g_steal_pointer (&images);
}

/* ---- The swap, in a worker thread: it waits for pcscd ---- */

typedef struct
{
  char *control_path;
  char *image_path;
} Swap;

static void
swap_free (Swap *swap)
{
  g_free (swap->control_path);
  g_free (swap->image_path);
  g_free (swap);
}

/* One command, one answer line ("ok …" or "error MESSAGE"). */
static char *
command (GSocketConnection *connection,
         GDataInputStream *input,
         const char *line,
         GCancellable *cancellable,
         GError **error)
{
  g_autofree char *request = g_strconcat (line, "\n", NULL);
  g_autofree char *answer = NULL;
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  if (!g_output_stream_write_all (output, request, strlen (request), NULL, cancellable, error))
    return NULL;
  answer = g_data_input_stream_read_line_utf8 (input, NULL, cancellable, error);
  if (answer == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, TKE_ERROR, TKE_ERROR_IO,
                             _ ("The virtual reader closed the connection."));
      return NULL;
    }
  if (g_str_has_prefix (answer, "error "))
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_FAILED, answer + 6);
      return NULL;
    }
  return g_steal_pointer (&answer);
}

static gboolean
pause_for_pcscd (GCancellable *cancellable, GError **error)
{
  for (guint waited = 0; waited < SWAP_PAUSE_MS; waited += 50)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      g_usleep (50 * G_TIME_SPAN_MILLISECOND);
    }
  return TRUE;
}

static gboolean
swap_cards (Swap *swap, GCancellable *cancellable, GError **error)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (swap->control_path);
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GDataInputStream) input = NULL;
  g_autofree char *status = NULL;
  g_autofree char *insert = NULL;
  g_autofree char *answer = NULL;

  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), cancellable, error);
  if (connection == NULL)
    return FALSE;
  input = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (input), FALSE);

  if ((status = command (connection, input, "status", cancellable, error)) == NULL)
    return FALSE;
  if (strstr (status, "card=present") != NULL)
    {
      g_autofree char *removed = command (connection, input, "remove", cancellable, error);

      if (removed == NULL)
        return FALSE;
      if (swap->image_path == NULL)
        return TRUE;
      if (!pause_for_pcscd (cancellable, error))
        return FALSE;
    }
  if (swap->image_path == NULL)
    return TRUE;
  insert = g_strconcat ("insert ", swap->image_path, NULL);
  answer = command (connection, input, insert, cancellable, error);
  return answer != NULL;
}

static void
swap_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;

  if (swap_cards (task_data, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * tke_virtual_cards_swap_async:
 * @control_path: the reader's control socket
 * @image_path: (nullable): the card image to insert, or NULL to remove
 *   the card
 *
 * Takes the card out of the reader (if one is in), waits until pcscd can
 * have seen the reader empty, and puts the image in, as a person swaps
 * cards.
 */
void
tke_virtual_cards_swap_async (const char *control_path,
                              const char *image_path,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Swap *swap = g_new0 (Swap, 1);

  g_return_if_fail (control_path != NULL);
  swap->control_path = g_strdup (control_path);
  swap->image_path = g_strdup (image_path);
  g_task_set_source_tag (task, tke_virtual_cards_swap_async);
  g_task_set_task_data (task, swap, (GDestroyNotify) swap_free);
  g_task_run_in_thread (task, swap_thread);
}

gboolean
tke_virtual_cards_swap_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
