/* tke-virtual-pin-pad.c: the keys of a virtual PIN-pad reader, on screen
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Shown only with the virtual readers of the demo and the tests.  Each
 * key a person presses here goes at once to the reader's control socket
 * (`key D`, `clear`, `ok`, `cancel`: data/doc/card-protocol.md §6), as a
 * finger on the real pad would: the reader buffers the digits and hands
 * them to the card itself.  The application never holds the PIN; it
 * counts the presses to draw dots, no more.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tke-virtual-pin-pad.h"
#include "tke-widget-util.h"

struct _TkeVirtualPinPad
{
  GtkWidget parent_instance;

  char *control_path;
  char *next_control_path; /* the next reader's, once the last key is answered */
  gboolean switching;
  GCancellable *cancellable;
  GSocketConnection *connection;
  GDataInputStream *input;
  gboolean connecting;
  GQueue pending;   /* lines to send, in order */
  char *in_flight;  /* the line being sent; wiped when sent */
  gboolean waiting; /* a line was sent and its answer is not in yet */
  guint n_digits;   /* presses in this entry, for the dots only */
  guint n_replies;
  char *last_reply;

  GtkLabel *title_label;
  GtkLabel *dots_label;
  GtkLabel *status_label;

  GtkWidget *keyboard_root;     /* weak: the window whose keys work the pad */
  GtkEventController *keyboard; /* on keyboard_root while the pad is mapped */
};

G_DEFINE_FINAL_TYPE (TkeVirtualPinPad, tke_virtual_pin_pad, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_N_REPLIES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void pump (TkeVirtualPinPad *self);
static void switch_reader (TkeVirtualPinPad *self);

GtkWidget *
tke_virtual_pin_pad_new (void)
{
  return g_object_new (TKE_TYPE_VIRTUAL_PIN_PAD, NULL);
}

static void
wipe_line (char *line)
{
  if (line == NULL)
    return;
  memset (line, 0, strlen (line));
  g_free (line);
}

static void
show_dots (TkeVirtualPinPad *self)
{
  g_autoptr (GString) dots = g_string_new (NULL);

  for (guint i = 0; i < self->n_digits; i++)
    g_string_append (dots, "● ");
  gtk_label_set_text (self->dots_label, dots->len > 0 ? dots->str : " ");
}

static void
disconnect (TkeVirtualPinPad *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->input);
  g_clear_object (&self->connection);
  g_queue_clear_full (&self->pending, (GDestroyNotify) wipe_line);
  g_clear_pointer (&self->in_flight, wipe_line);
  self->connecting = FALSE;
  self->waiting = FALSE;
}

static void
fail (TkeVirtualPinPad *self, const char *message)
{
  g_autofree char *text =
      g_strdup_printf (_ ("The PIN pad could not reach the reader: %s"), message);

  gtk_label_set_text (self->status_label, text);
  disconnect (self);
}

/* What the reader answered to a key: "ok N" (digits so far), "ok", or
 * "error MESSAGE" (most often: the reader is not waiting for a PIN). */
static void
on_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeVirtualPinPad) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *reply = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                      result, NULL, &error);

  if (reply == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      fail (self, error != NULL ? error->message : _ ("the reader closed the connection"));
      return;
    }

  self->waiting = FALSE;
  if (g_str_has_prefix (reply, "ok "))
    self->n_digits = (guint) g_ascii_strtoull (reply + 3, NULL, 10);
  else if (g_str_equal (reply, "ok")) /* OK or Cancel: the entry is over */
    self->n_digits = 0;
  else if (g_str_has_prefix (reply, "error "))
    gtk_label_set_text (self->status_label, g_str_has_prefix (reply + 6, "reader") &&
                                                    strstr (reply, "not waiting") != NULL
                                                ? _ ("The reader is not waiting for a PIN now.")
                                                : reply + 6);
  show_dots (self);

  g_free (self->last_reply);
  self->last_reply = g_steal_pointer (&reply);
  self->n_replies++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_REPLIES]);
  pump (self);
}

static void
on_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeVirtualPinPad) self = user_data;
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&self->in_flight, wipe_line);
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail (self, error->message);
      return;
    }
  g_data_input_stream_read_line_async (self->input, G_PRIORITY_DEFAULT, self->cancellable, on_reply,
                                       g_object_ref (self));
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeVirtualPinPad) self = user_data;
  g_autoptr (GError) error = NULL;
  GSocketConnection *connection =
      g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);

  if (connection == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail (self, error->message);
      return;
    }
  self->connecting = FALSE;
  self->connection = connection;
  self->input = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (self->input), FALSE);
  pump (self);
}

/* Sends the next line once the previous one was answered, so the reader
 * sees the keys in the order they were pressed. */
static void
pump (TkeVirtualPinPad *self)
{
  if (self->switching && !self->waiting && self->in_flight == NULL)
    switch_reader (self);
  if (self->control_path == NULL || self->waiting || g_queue_is_empty (&self->pending))
    return;

  if (self->connection == NULL)
    {
      g_autoptr (GSocketClient) client = NULL;
      g_autoptr (GSocketAddress) address = NULL;

      if (self->connecting)
        return;
      self->connecting = TRUE;
      if (self->cancellable == NULL)
        self->cancellable = g_cancellable_new ();
      client = g_socket_client_new ();
      address = g_unix_socket_address_new (self->control_path);
      g_socket_client_connect_async (client, G_SOCKET_CONNECTABLE (address), self->cancellable,
                                     on_connected, g_object_ref (self));
      return;
    }

  self->in_flight = g_queue_pop_head (&self->pending);
  self->waiting = TRUE;
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (self->connection)),
                                   self->in_flight, strlen (self->in_flight), G_PRIORITY_DEFAULT,
                                   self->cancellable, on_written, g_object_ref (self));
}

static void
send_line (TkeVirtualPinPad *self, const char *command, const char *argument)
{
  if (self->control_path == NULL)
    {
      gtk_label_set_text (self->status_label,
                          _ ("No virtual reader is connected to this PIN pad."));
      return;
    }
  gtk_label_set_text (self->status_label, "");
  if (argument != NULL)
    g_queue_push_tail (&self->pending, g_strconcat (command, " ", argument, "\n", NULL));
  else
    g_queue_push_tail (&self->pending, g_strconcat (command, "\n", NULL));
  pump (self);
}

static void
key_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  const char *digit = g_variant_get_string (parameter, NULL);

  if (strlen (digit) == 1 && g_ascii_isdigit (digit[0]))
    send_line (TKE_VIRTUAL_PIN_PAD (widget), "key", digit);
}

static void
ok_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeVirtualPinPad *self = TKE_VIRTUAL_PIN_PAD (widget);

  send_line (self, "ok", NULL);
  self->n_digits = 0;
}

static void
cancel_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeVirtualPinPad *self = TKE_VIRTUAL_PIN_PAD (widget);

  send_line (self, "cancel", NULL);
  self->n_digits = 0;
}

static void
clear_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  send_line (TKE_VIRTUAL_PIN_PAD (widget), "clear", NULL);
}

/* ---- The keyboard, wherever the focus is ---- */

/* While the pad is on screen its window's keys go to it first: the digits
 * whatever has the focus, Enter for OK (not the focused key), Escape for
 * the pad's Cancel, Backspace for Clear.  Keys with Ctrl or Alt are the
 * window's shortcuts and pass. */
static gboolean
on_window_key (GtkEventControllerKey *controller,
               guint keyval,
               guint keycode,
               GdkModifierType state,
               TkeVirtualPinPad *self)
{
  char digit[2] = { '\0', '\0' };

  if ((state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK)) != 0 ||
      !gtk_widget_get_mapped (GTK_WIDGET (self)) || self->control_path == NULL)
    return FALSE;
  if (keyval >= GDK_KEY_0 && keyval <= GDK_KEY_9)
    digit[0] = (char) ('0' + (keyval - GDK_KEY_0));
  else if (keyval >= GDK_KEY_KP_0 && keyval <= GDK_KEY_KP_9)
    digit[0] = (char) ('0' + (keyval - GDK_KEY_KP_0));
  if (digit[0] != '\0')
    return gtk_widget_activate_action (GTK_WIDGET (self), "pad.key", "s", digit);
  switch (keyval)
    {
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
      return gtk_widget_activate_action (GTK_WIDGET (self), "pad.ok", NULL);
    case GDK_KEY_Escape:
      return gtk_widget_activate_action (GTK_WIDGET (self), "pad.cancel", NULL);
    case GDK_KEY_BackSpace:
      return gtk_widget_activate_action (GTK_WIDGET (self), "pad.clear", NULL);
    default:
      return FALSE;
    }
}

static void
release_keyboard (TkeVirtualPinPad *self)
{
  if (self->keyboard_root != NULL && self->keyboard != NULL)
    gtk_widget_remove_controller (self->keyboard_root, self->keyboard);
  self->keyboard = NULL;
  g_clear_weak_pointer (&self->keyboard_root);
}

static void
tke_virtual_pin_pad_map (GtkWidget *widget)
{
  TkeVirtualPinPad *self = TKE_VIRTUAL_PIN_PAD (widget);
  GtkWidget *root = GTK_WIDGET (gtk_widget_get_root (widget));

  GTK_WIDGET_CLASS (tke_virtual_pin_pad_parent_class)->map (widget);
  release_keyboard (self);
  if (root == NULL)
    return;
  self->keyboard = gtk_event_controller_key_new ();
  gtk_event_controller_set_name (self->keyboard, "tke-pin-pad-keyboard");
  gtk_event_controller_set_propagation_phase (self->keyboard, GTK_PHASE_CAPTURE);
  g_signal_connect_object (self->keyboard, "key-pressed", G_CALLBACK (on_window_key), self, 0);
  gtk_widget_add_controller (root, self->keyboard);
  g_set_weak_pointer (&self->keyboard_root, root);
}

static void
tke_virtual_pin_pad_unmap (GtkWidget *widget)
{
  release_keyboard (TKE_VIRTUAL_PIN_PAD (widget));
  GTK_WIDGET_CLASS (tke_virtual_pin_pad_parent_class)->unmap (widget);
}

void
tke_virtual_pin_pad_set_control_path (TkeVirtualPinPad *self, const char *control_path)
{
  g_return_if_fail (TKE_IS_VIRTUAL_PIN_PAD (self));

  if (!self->switching && g_strcmp0 (control_path, self->control_path) == 0)
    return;
  g_free (self->next_control_path);
  self->next_control_path = g_strdup (control_path);
  self->switching = TRUE;
  /* The reader's answer to the last key (the OK that ended its entry) is
   * still on its way: it is counted before the pad goes to the next
   * reader, whose keys wait in the queue until then. */
  if (self->waiting || self->in_flight != NULL)
    return;
  switch_reader (self);
}

static void
switch_reader (TkeVirtualPinPad *self)
{
  GQueue keys = G_QUEUE_INIT;

  self->switching = FALSE;
  if (g_strcmp0 (self->next_control_path, self->control_path) == 0)
    {
      g_clear_pointer (&self->next_control_path, g_free);
      return;
    }
  /* Keys pressed for the next reader since it asked go to it. */
  while (!g_queue_is_empty (&self->pending))
    g_queue_push_tail (&keys, g_queue_pop_head (&self->pending));
  disconnect (self);
  while (!g_queue_is_empty (&keys))
    g_queue_push_tail (&self->pending, g_queue_pop_head (&keys));
  g_free (self->control_path);
  self->control_path = g_steal_pointer (&self->next_control_path);
  self->n_digits = 0;
  show_dots (self);
  gtk_label_set_text (self->status_label, "");
}

/**
 * tke_virtual_pin_pad_set_reader:
 * @reader: the reader whose pad this is (1 or 2), or 0 when not known
 *
 * Names the reader in the pad's title: on a small screen the pad may be
 * all that shows of the prompt, and two readers may ask in turn.
 */
void
tke_virtual_pin_pad_set_reader (TkeVirtualPinPad *self, guint reader)
{
  g_autofree char *title = NULL;

  g_return_if_fail (TKE_IS_VIRTUAL_PIN_PAD (self));

  if (reader == 0)
    title = g_strdup (_ ("Virtual PIN pad"));
  else
    /* Translators: the on-screen keys of a reader, "Virtual PIN pad of reader 2" */
    title = g_strdup_printf (_ ("Virtual PIN pad of reader %u"), reader);
  gtk_label_set_text (self->title_label, title);
}

/**
 * tke_virtual_pin_pad_get_title:
 *
 * Returns: the pad's title, as shown
 */
const char *
tke_virtual_pin_pad_get_title (TkeVirtualPinPad *self)
{
  g_return_val_if_fail (TKE_IS_VIRTUAL_PIN_PAD (self), NULL);
  return gtk_label_get_text (self->title_label);
}

const char *
tke_virtual_pin_pad_get_control_path (TkeVirtualPinPad *self)
{
  g_return_val_if_fail (TKE_IS_VIRTUAL_PIN_PAD (self), NULL);
  return self->switching ? self->next_control_path : self->control_path;
}

guint
tke_virtual_pin_pad_get_n_replies (TkeVirtualPinPad *self)
{
  g_return_val_if_fail (TKE_IS_VIRTUAL_PIN_PAD (self), 0);
  return self->n_replies;
}

const char *
tke_virtual_pin_pad_get_last_reply (TkeVirtualPinPad *self)
{
  g_return_val_if_fail (TKE_IS_VIRTUAL_PIN_PAD (self), NULL);
  return self->last_reply;
}

static void
tke_virtual_pin_pad_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TkeVirtualPinPad *self = TKE_VIRTUAL_PIN_PAD (object);

  switch (prop_id)
    {
    case PROP_N_REPLIES:
      g_value_set_uint (value, self->n_replies);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_virtual_pin_pad_dispose (GObject *object)
{
  TkeVirtualPinPad *self = TKE_VIRTUAL_PIN_PAD (object);

  disconnect (self);
  release_keyboard (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_VIRTUAL_PIN_PAD);
  tke_widget_unparent_children (GTK_WIDGET (object));
  G_OBJECT_CLASS (tke_virtual_pin_pad_parent_class)->dispose (object);
}

static void
tke_virtual_pin_pad_finalize (GObject *object)
{
  TkeVirtualPinPad *self = TKE_VIRTUAL_PIN_PAD (object);

  g_free (self->control_path);
  g_free (self->next_control_path);
  g_free (self->last_reply);
  G_OBJECT_CLASS (tke_virtual_pin_pad_parent_class)->finalize (object);
}

static void
tke_virtual_pin_pad_class_init (TkeVirtualPinPadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const char digits[] = "0123456789";

  object_class->get_property = tke_virtual_pin_pad_get_property;
  object_class->dispose = tke_virtual_pin_pad_dispose;
  object_class->finalize = tke_virtual_pin_pad_finalize;
  widget_class->map = tke_virtual_pin_pad_map;
  widget_class->unmap = tke_virtual_pin_pad_unmap;

  properties[PROP_N_REPLIES] =
      g_param_spec_uint ("n-replies", NULL, NULL, 0, G_MAXUINT, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/tke-virtual-pin-pad.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeVirtualPinPad, title_label);
  gtk_widget_class_bind_template_child (widget_class, TkeVirtualPinPad, dots_label);
  gtk_widget_class_bind_template_child (widget_class, TkeVirtualPinPad, status_label);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);

  gtk_widget_class_install_action (widget_class, "pad.key", "s", key_action);
  gtk_widget_class_install_action (widget_class, "pad.ok", NULL, ok_action);
  gtk_widget_class_install_action (widget_class, "pad.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "pad.clear", NULL, clear_action);

  /* The keyboard works the pad too: digits, Enter for OK, Escape for
   * Cancel, Backspace for Clear. */
  for (guint i = 0; i < 10; i++)
    {
      char digit[2] = { digits[i], '\0' };
      gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0 + i, 0, "pad.key", "s", digit);
      gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_0 + i, 0, "pad.key", "s",
                                           digit);
    }
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, 0, "pad.ok", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, 0, "pad.ok", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "pad.cancel", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_BackSpace, 0, "pad.clear", NULL);
}

static void
tke_virtual_pin_pad_init (TkeVirtualPinPad *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_queue_init (&self->pending);
}
