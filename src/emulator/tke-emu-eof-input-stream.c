/* tke-emu-eof-input-stream.c: a client connection's input, as libsoup reads it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libsoup 3.2 (Debian 12) never closes a keep-alive connection that the
 * client closes between requests: the end of stream arrives before any
 * byte of the next request, when no one is listening for the message's
 * completion, and the connection stays in CLOSE-WAIT for ever (fixed
 * upstream in 3.3.0, commit d20c6601 "server: do not leak idle
 * connections closed by the client").  This stream reads the TLS
 * connection for libsoup and, when the stream ends before the first byte
 * of a request, gives one byte that starts no valid request first: libsoup
 * then takes it for a truncated request and closes the connection through
 * its normal path.  The client is gone, so nothing is answered to anyone;
 * with a fixed libsoup the outcome is the same.  Closing the stream closes
 * the whole connection.
 */

#include "config.h"

#include "tke-emu-eof-input-stream.h"

struct _TkeEmuEofInputStream
{
  GInputStream parent_instance;
  GIOStream *base;
  GInputStream *input;
  gboolean fresh;   /* no byte read since the request started */
  gboolean faked;   /* the byte was given */
  TkeEmuGate *gate; /* while it is closed, nothing is read */
};

static void pollable_iface_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TkeEmuEofInputStream,
                               tke_emu_eof_input_stream,
                               G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      pollable_iface_init))

/* Any byte that is not whitespace: libsoup skips blank lines before a request. */
#define NOT_A_REQUEST 'X'

/* The end of the stream, or a failure (the socket was shut down by a
 * time-out), before the first byte of a request: give the one byte.
 * @local is the read's error, passed on to @error otherwise. */
static gssize
account (
    TkeEmuEofInputStream *self, gssize n, GError *local, void *buffer, gsize count, GError **error)
{
  gboolean ended =
      n == 0 || (n < 0 && !g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK));

  if (n > 0)
    self->fresh = FALSE;
  else if (ended && count > 0 && self->fresh && !self->faked)
    {
      g_clear_error (&local);
      self->faked = TRUE;
      ((guint8 *) buffer)[0] = NOT_A_REQUEST;
      return 1;
    }
  else if (ended && self->faked)
    {
      /* Then the end of the stream, not an error: libsoup's line reader
       * would keep the byte to itself on an error. */
      g_clear_error (&local);
      return 0;
    }
  if (local != NULL)
    g_propagate_error (error, local);
  return n;
}

static gssize
read_fn (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable, GError **error)
{
  TkeEmuEofInputStream *self = TKE_EMU_EOF_INPUT_STREAM (stream);
  GError *local = NULL;
  gssize n = g_input_stream_read (self->input, buffer, count, cancellable, &local);

  return account (self, n, local, buffer, count, error);
}

static gboolean
close_fn (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  TkeEmuEofInputStream *self = TKE_EMU_EOF_INPUT_STREAM (stream);

  return g_io_stream_close (self->base, cancellable, error);
}

static gboolean
held_back (TkeEmuEofInputStream *self)
{
  return self->gate != NULL && tke_emu_gate_is_closed (self->gate);
}

static gboolean
can_poll (GPollableInputStream *stream)
{
  return TRUE;
}

static gboolean
is_readable (GPollableInputStream *stream)
{
  TkeEmuEofInputStream *self = TKE_EMU_EOF_INPUT_STREAM (stream);

  return !held_back (self) &&
         g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (self->input));
}

/* The TLS stream's own source: libsoup wraps it in a source of its own,
 * and the stream its callback is given is not used.  (Wrapping it here in
 * g_pollable_source_new_full() lost wake-ups: a request read with the end
 * of the handshake was never seen.) */
static GSource *
create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
  TkeEmuEofInputStream *self = TKE_EMU_EOF_INPUT_STREAM (stream);

  if (held_back (self))
    return tke_emu_gate_create_source (self->gate);
  return g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (self->input), cancellable);
}

static gssize
read_nonblocking (GPollableInputStream *stream, void *buffer, gsize count, GError **error)
{
  TkeEmuEofInputStream *self = TKE_EMU_EOF_INPUT_STREAM (stream);
  GError *local = NULL;
  gssize n;

  if (held_back (self))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "Held back for new clients");
      return -1;
    }
  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (self->input), buffer,
                                                count, NULL, &local);
  return account (self, n, local, buffer, count, error);
}

static void
pollable_iface_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = can_poll;
  iface->is_readable = is_readable;
  iface->create_source = create_source;
  iface->read_nonblocking = read_nonblocking;
}

static void
tke_emu_eof_input_stream_finalize (GObject *object)
{
  TkeEmuEofInputStream *self = TKE_EMU_EOF_INPUT_STREAM (object);

  g_clear_object (&self->base);
  g_clear_pointer (&self->gate, tke_emu_gate_unref);
  G_OBJECT_CLASS (tke_emu_eof_input_stream_parent_class)->finalize (object);
}

static void
tke_emu_eof_input_stream_class_init (TkeEmuEofInputStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  object_class->finalize = tke_emu_eof_input_stream_finalize;
  stream_class->read_fn = read_fn;
  stream_class->close_fn = close_fn;
}

static void
tke_emu_eof_input_stream_init (TkeEmuEofInputStream *self)
{
  self->fresh = TRUE;
}

/**
 * tke_emu_eof_input_stream_new:
 * @base: the client's connection (a #GTlsConnection); its input stream
 *   must be pollable
 *
 * Returns: (transfer full): the stream libsoup reads requests from
 */
TkeEmuEofInputStream *
tke_emu_eof_input_stream_new (GIOStream *base)
{
  TkeEmuEofInputStream *self = g_object_new (TKE_EMU_TYPE_EOF_INPUT_STREAM, NULL);

  self->base = g_object_ref (base);
  self->input = g_io_stream_get_input_stream (base);
  return self;
}

/**
 * tke_emu_eof_input_stream_start_request:
 * @self: a #TkeEmuEofInputStream
 *
 * The previous response is complete: an end of stream before the next
 * byte means the client closed the idle connection.
 */
void
tke_emu_eof_input_stream_start_request (TkeEmuEofInputStream *self)
{
  g_return_if_fail (TKE_EMU_IS_EOF_INPUT_STREAM (self));

  self->fresh = TRUE;
}

/**
 * tke_emu_eof_input_stream_set_gate:
 * @self: a #TkeEmuEofInputStream
 * @gate: (nullable): the listener's gate
 *
 * While @gate is closed the stream reads nothing and its source waits for
 * the gate to open (tke-emu-gate.c); without one it always reads.
 */
void
tke_emu_eof_input_stream_set_gate (TkeEmuEofInputStream *self, TkeEmuGate *gate)
{
  g_return_if_fail (TKE_EMU_IS_EOF_INPUT_STREAM (self));

  g_clear_pointer (&self->gate, tke_emu_gate_unref);
  if (gate != NULL)
    self->gate = tke_emu_gate_ref (gate);
}
