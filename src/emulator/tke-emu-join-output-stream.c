/* tke-emu-join-output-stream.c: a client connection's output, as libsoup writes it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libsoup 3.2 writes an answer's headers and its body in two writes, so
 * every answer went out as two TLS records in two TCP segments: two
 * sends here, two wake-ups and two decryptions in the client (a tenth
 * of a RewrapKeyBlob on each side).  This stream holds a final answer's
 * header block and sends it with the first bytes of the body as one
 * record.  Nothing else is held: an informational answer (100 Continue)
 * goes out at once, since the client waits for it before it sends the
 * body, and libsoup flushes the stream when an answer's body ends
 * (closing the body stream flushes its base), which sends headers that
 * had no body.  Closing the stream sends what it holds and closes the
 * TLS output.
 */

#include "config.h"

#include <string.h>

#include "tke-emu-join-output-stream.h"

/* A header block larger than this is sent on its own; joined with the
 * body's first bytes it stays within one TLS record (16 KiB). */
#define HOLD_MAX 4096
#define RECORD_MAX 16384

struct _TkeEmuJoinOutputStream
{
  GOutputStream parent_instance;
  GOutputStream *base;
  guint8 held[RECORD_MAX];
  gsize held_len;
};

static void pollable_iface_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TkeEmuJoinOutputStream,
                               tke_emu_join_output_stream,
                               G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      pollable_iface_init))

/* The start of a final answer's header block ("HTTP/1.1 200 OK\r\n…"),
 * not of an informational one (1xx) or of a body. */
static gboolean
is_final_headers (const guint8 *data, gsize count)
{
  return count <= HOLD_MAX && count > 12 && memcmp (data, "HTTP/1.", 7) == 0 && data[8] == ' ' &&
         data[9] >= '2' && data[9] <= '5';
}

/* Writes what is held and up to its room of @data as one write: the
 * bytes of @data taken (0 when only held bytes went out), or -1. */
static gssize
write_joined (TkeEmuJoinOutputStream *self,
              const guint8 *data,
              gsize count,
              gboolean blocking,
              GCancellable *cancellable,
              GError **error)
{
  gsize take = MIN (count, sizeof self->held - self->held_len);
  gssize n;

  memcpy (self->held + self->held_len, data, take);
  n = g_pollable_stream_write (self->base, self->held, self->held_len + take, blocking, cancellable,
                               error);
  if (n < 0)
    return -1;
  if ((gsize) n < self->held_len)
    {
      /* Part of the held bytes went out: keep the rest, take nothing yet. */
      memmove (self->held, self->held + n, self->held_len - (gsize) n);
      self->held_len -= (gsize) n;
      return 0;
    }
  n -= (gssize) self->held_len;
  self->held_len = 0;
  return n;
}

static gssize
write_any (TkeEmuJoinOutputStream *self,
           const void *buffer,
           gsize count,
           gboolean blocking,
           GCancellable *cancellable,
           GError **error)
{
  if (count == 0)
    return 0;
  if (self->held_len == 0 && is_final_headers (buffer, count))
    {
      memcpy (self->held, buffer, count);
      self->held_len = count;
      return (gssize) count;
    }
  if (self->held_len == 0)
    return g_pollable_stream_write (self->base, buffer, count, blocking, cancellable, error);
  for (;;)
    {
      gssize n = write_joined (self, buffer, count, blocking, cancellable, error);

      if (n != 0)
        return n;
      if (!blocking)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "Operation would block");
          return -1;
        }
    }
}

/* Sends what is held (blocking). */
static gboolean
send_held (TkeEmuJoinOutputStream *self, GCancellable *cancellable, GError **error)
{
  gsize written = 0;
  gboolean ok = TRUE;

  if (self->held_len > 0)
    ok = g_output_stream_write_all (self->base, self->held, self->held_len, &written, cancellable,
                                    error);
  self->held_len = 0;
  return ok;
}

static gssize
write_fn (GOutputStream *stream,
          const void *buffer,
          gsize count,
          GCancellable *cancellable,
          GError **error)
{
  return write_any (TKE_EMU_JOIN_OUTPUT_STREAM (stream), buffer, count, TRUE, cancellable, error);
}

static gboolean
flush (GOutputStream *stream, GCancellable *cancellable, GError **error)
{
  TkeEmuJoinOutputStream *self = TKE_EMU_JOIN_OUTPUT_STREAM (stream);

  return send_held (self, cancellable, error) &&
         g_output_stream_flush (self->base, cancellable, error);
}

static gboolean
close_fn (GOutputStream *stream, GCancellable *cancellable, GError **error)
{
  TkeEmuJoinOutputStream *self = TKE_EMU_JOIN_OUTPUT_STREAM (stream);
  g_autoptr (GError) local = NULL;

  /* Held bytes a closing connection could not take are dropped with it. */
  send_held (self, cancellable, &local);
  return g_output_stream_close (self->base, cancellable, error);
}

static gboolean
can_poll (GPollableOutputStream *stream)
{
  return TRUE;
}

static gboolean
is_writable (GPollableOutputStream *stream)
{
  TkeEmuJoinOutputStream *self = TKE_EMU_JOIN_OUTPUT_STREAM (stream);

  return g_pollable_output_stream_is_writable (G_POLLABLE_OUTPUT_STREAM (self->base));
}

/* The TLS stream's own source, as the input side does
 * (tke-emu-eof-input-stream.c): libsoup wraps it in a source of its own. */
static GSource *
create_source (GPollableOutputStream *stream, GCancellable *cancellable)
{
  TkeEmuJoinOutputStream *self = TKE_EMU_JOIN_OUTPUT_STREAM (stream);

  return g_pollable_output_stream_create_source (G_POLLABLE_OUTPUT_STREAM (self->base),
                                                 cancellable);
}

static gssize
write_nonblocking (GPollableOutputStream *stream, const void *buffer, gsize count, GError **error)
{
  return write_any (TKE_EMU_JOIN_OUTPUT_STREAM (stream), buffer, count, FALSE, NULL, error);
}

static void
pollable_iface_init (GPollableOutputStreamInterface *iface)
{
  iface->can_poll = can_poll;
  iface->is_writable = is_writable;
  iface->create_source = create_source;
  iface->write_nonblocking = write_nonblocking;
}

static void
tke_emu_join_output_stream_finalize (GObject *object)
{
  TkeEmuJoinOutputStream *self = TKE_EMU_JOIN_OUTPUT_STREAM (object);

  g_clear_object (&self->base);
  G_OBJECT_CLASS (tke_emu_join_output_stream_parent_class)->finalize (object);
}

static void
tke_emu_join_output_stream_class_init (TkeEmuJoinOutputStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  object_class->finalize = tke_emu_join_output_stream_finalize;
  stream_class->write_fn = write_fn;
  stream_class->flush = flush;
  stream_class->close_fn = close_fn;
}

static void
tke_emu_join_output_stream_init (TkeEmuJoinOutputStream *self)
{
}

/**
 * tke_emu_join_output_stream_new:
 * @base: the client's TLS output stream; it must be pollable
 *
 * Returns: (transfer full): the stream libsoup writes answers to
 */
TkeEmuJoinOutputStream *
tke_emu_join_output_stream_new (GOutputStream *base)
{
  TkeEmuJoinOutputStream *self = g_object_new (TKE_EMU_TYPE_JOIN_OUTPUT_STREAM, NULL);

  self->base = g_object_ref (base);
  return self;
}
