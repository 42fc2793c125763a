/* tke-emu-gate.c: holds back the connections already served while new clients come in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The main loop dispatches every ready source of one priority in a round:
 * with 200 busy keep-alive connections a round was 200 requests (80 ms
 * under the load test), and each step of a new client (its accept, its
 * handshake's end, its first request) waited for the round in progress.
 * While the gate is closed, the input of a connection already served
 * reads nothing (it would block) and waits for a source that is ready
 * when the gate opens, so a round costs a few microseconds per busy
 * connection and the new client's steps follow one another.  The
 * listener decides when it closes, and for how long at most
 * (tke-emu-listener.c).
 *
 * A knock closes it from another thread: a connection waiting to be
 * accepted would otherwise wait for the round in progress, since the
 * accept runs between rounds.  The round then ends after the request in
 * progress; the listener answers the knock when it has accepted.
 */

#include "config.h"

#include "tke-emu-gate.h"

struct _TkeEmuGate
{
  gboolean closed;
  gint knocking;      /* atomic: set by any thread, cleared by the main one */
  GPtrArray *waiting; /* GSource, ready when the gate opens */
};

static void
gate_clear (gpointer data)
{
  TkeEmuGate *self = data;

  g_ptr_array_unref (self->waiting);
}

TkeEmuGate *
tke_emu_gate_new (void)
{
  TkeEmuGate *self = g_rc_box_new0 (TkeEmuGate);

  self->waiting = g_ptr_array_new_with_free_func ((GDestroyNotify) g_source_unref);
  return self;
}

TkeEmuGate *
tke_emu_gate_ref (TkeEmuGate *self)
{
  return g_rc_box_acquire (self);
}

void
tke_emu_gate_unref (TkeEmuGate *self)
{
  g_rc_box_release_full (self, gate_clear);
}

gboolean
tke_emu_gate_is_closed (TkeEmuGate *self)
{
  return self->closed || g_atomic_int_get (&self->knocking);
}

static void
release (TkeEmuGate *self)
{
  for (guint i = 0; i < self->waiting->len; i++)
    {
      GSource *source = g_ptr_array_index (self->waiting, i);

      if (!g_source_is_destroyed (source))
        g_source_set_ready_time (source, 0);
    }
  g_ptr_array_set_size (self->waiting, 0);
}

/* Opening it makes every source of tke_emu_gate_create_source() ready,
 * unless a knock is not answered yet. */
void
tke_emu_gate_set_closed (TkeEmuGate *self, gboolean closed)
{
  if (self->closed == closed)
    return;
  self->closed = closed;
  if (!tke_emu_gate_is_closed (self))
    release (self);
}

/* Closes the gate until tke_emu_gate_answer(); any thread. */
void
tke_emu_gate_knock (TkeEmuGate *self)
{
  g_atomic_int_set (&self->knocking, 1);
}

gboolean
tke_emu_gate_is_knocked (TkeEmuGate *self)
{
  return g_atomic_int_get (&self->knocking) != 0;
}

void
tke_emu_gate_answer (TkeEmuGate *self)
{
  g_atomic_int_set (&self->knocking, 0);
  if (!tke_emu_gate_is_closed (self))
    release (self);
}

/* A child of libsoup's own source, like the TLS stream's source it stands
 * for: its readiness wakes the parent, which reads again. */
static gboolean
gate_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  g_source_set_ready_time (source, -1);
  return callback != NULL ? callback (user_data) : G_SOURCE_CONTINUE;
}

/* libsoup's body stream wraps the source in g_pollable_source_new_full(),
 * which gives it a dummy callback: that needs a closure callback. */
static gboolean
gate_closure_callback (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs gate_funcs = {
  .dispatch = gate_dispatch,
  .closure_callback = gate_closure_callback,
};

/* A source that is ready once the gate is open (at once if it is). */
GSource *
tke_emu_gate_create_source (TkeEmuGate *self)
{
  GSource *source = g_source_new (&gate_funcs, sizeof (GSource));

  g_source_set_name (source, "tke-emu-gate");
  if (tke_emu_gate_is_closed (self))
    g_ptr_array_add (self->waiting, g_source_ref (source));
  else
    g_source_set_ready_time (source, 0);
  return source;
}
