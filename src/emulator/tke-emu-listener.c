/* tke-emu-listener.c: accepting client connections, TLS, limits and time-outs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The emulator accepts its own connections and hands each to libsoup once
 * its TLS handshake is done (soup_server_accept_iostream), so that it can
 * bound what a client holds:
 *
 * - The handshake starts only when the client's whole first TLS record
 *   (its ClientHello) has arrived.  GLib runs a handshake in a thread of
 *   its small shared pool, and a silent client would hold one for as long
 *   as it is silent: 100 of them kept every new client waiting.
 * - A client has TKE_EMU_HANDSHAKE_TIMEOUT_S to complete the handshake, a
 *   request TKE_EMU_READ_TIMEOUT_S from its first byte to its answer, and
 *   a keep-alive connection is closed after TKE_EMU_IDLE_TIMEOUT_S without
 *   a request.
 * - There are never more connections than the file descriptor limit
 *   allows: at the limit the longest-silent connection is closed for the
 *   new one, and a failing accept (EMFILE) closes one and pauses briefly
 *   instead of spinning.
 *
 * A connection is closed by shutting its socket down: libsoup then sees
 * the end of the stream on its next read or write and releases the
 * connection through its own path (see tke-emu-eof-input-stream.c).
 */

#include "config.h"

#include <errno.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <poll.h>
#include <unistd.h>

#include "tke-emu-eof-input-stream.h"
#include "tke-emu-join-output-stream.h"
#include "tke-emu-server-private.h"

/* File descriptors kept free beyond those open at start (the database,
 * the rewrap worker's own connection, GLib's wake-ups, the faults file). */
#define TKE_EMU_FD_RESERVE 16
/* After accept fails (no descriptor free), accepting resumes after this. */
#define TKE_EMU_ACCEPT_PAUSE_MS 50
/* A new client's steps (accept, ClientHello, handshake, hand-over) run
 * before the requests of connections already served: otherwise each step
 * waits for a whole round of the busy connections' requests, and a fresh
 * client under load waited hundreds of milliseconds. */
#define TKE_EMU_NEW_CLIENT_PRIORITY G_PRIORITY_HIGH
/* A priority is not enough once a new client is handed to libsoup, whose
 * sources all have the default one: from its ClientHello to its first
 * answer the connections already served are held back (tke-emu-gate.c).
 * The gate closes for at most GATE_CLOSED_MAX_US at a time and then stays
 * open at least GATE_OPEN_MIN_US, so that a stream of new connections
 * never takes more than half of the service from the clients it serves;
 * a client counts as new for NEW_CLIENT_MAX_US at most (one that sends
 * half a request holds nothing back after that). */
#define GATE_CLOSED_MAX_US (20 * 1000)
#define GATE_OPEN_MIN_US (20 * 1000)
#define NEW_CLIENT_MAX_US (100 * 1000)
#define GATE_TICK_MS 5
/* The knock thread (tke-emu-gate.c) knocks at most this often, so that a
 * flood of connections cannot end every round at once. */
#define KNOCK_INTERVAL_MS 20
/* A TLS record is at most 16 KiB plus its 5-byte header (RFC 8446 §5.1). */
#define TLS_RECORD_MAX (5 + 16384)

typedef enum
{
  CLIENT_HELLO,     /* waiting for the whole ClientHello */
  CLIENT_HANDSHAKE, /* TLS handshake running */
  CLIENT_SERVING,   /* handed to libsoup */
} ClientState;

typedef struct
{
  TkeEmuListener *listener; /* NULL once the listener is gone */
  ClientState state;
  GSocketConnection *tcp;
  GTlsConnection *tls;
  TkeEmuEofInputStream *input;
  TkeEmuJoinOutputStream *output;
  GIOStream *stream; /* what libsoup reads and writes */
  GSocketAddress *remote;
  GSource *hello_watch;
  GCancellable *cancellable;
  gint64 since; /* accepted, request started or last answered (µs) */
  gboolean busy;
  gboolean closing;
  gboolean is_new;  /* from its ClientHello to its first answer */
  gint64 new_since; /* µs */
} Client;

struct _TkeEmuListener
{
  SoupServer *soup;
  GTlsCertificate *cert;
  GSocket *socket;
  GSource *accept_source;
  guint resume_id;
  guint sweep_id;
  GHashTable *clients; /* Client set */
  guint base_fds;
  gint64 handshake_us, read_us, idle_us;
  guint max_connections;
  TkeEmuGate *gate;
  guint n_new;            /* clients that are new */
  gint64 gate_closed_at;  /* µs, while closed */
  gint64 gate_open_until; /* µs: it stays open until then */
  guint gate_tick_id;
  GThread *knocker;  /* knocks when a connection waits to be accepted */
  GSource *answerer; /* the knocker makes it ready: it answers the knock */
  GCancellable *knocker_stop;
  GMutex knock_lock;
  GCond knock_answered;
};

static const char client_key[] = "tke-emu-client";

static GSocket *
client_socket (Client *c)
{
  return g_socket_connection_get_socket (c->tcp);
}

static gboolean gate_tick (gpointer data);

/* Closes or opens the gate for the new clients there are, within its
 * bounds, and keeps a tick while there are any. */
static void
gate_update (TkeEmuListener *self)
{
  gint64 now = g_get_monotonic_time ();
  gboolean closed = tke_emu_gate_is_closed (self->gate);

  if (closed && (self->n_new == 0 || now - self->gate_closed_at >= GATE_CLOSED_MAX_US))
    {
      tke_emu_gate_set_closed (self->gate, FALSE);
      if (self->n_new > 0)
        self->gate_open_until = now + GATE_OPEN_MIN_US;
    }
  else if (!closed && self->n_new > 0 && now >= self->gate_open_until)
    {
      tke_emu_gate_set_closed (self->gate, TRUE);
      self->gate_closed_at = now;
    }
  if (self->n_new > 0 && self->gate_tick_id == 0)
    self->gate_tick_id =
        g_timeout_add_full (TKE_EMU_NEW_CLIENT_PRIORITY, GATE_TICK_MS, gate_tick, self, NULL);
  else if (self->n_new == 0)
    g_clear_handle_id (&self->gate_tick_id, g_source_remove);
}

/* @c is no longer new: the gate holds it back from now on. */
static void
client_not_new (Client *c)
{
  if (!c->is_new)
    return;
  c->is_new = FALSE;
  if (c->input != NULL && c->listener != NULL)
    tke_emu_eof_input_stream_set_gate (c->input, c->listener->gate);
  if (c->listener != NULL)
    c->listener->n_new--;
}

static gboolean
gate_tick (gpointer data)
{
  TkeEmuListener *self = data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      Client *c = key;

      if (c->is_new && now - c->new_since >= NEW_CLIENT_MAX_US)
        client_not_new (c);
    }
  if (self->n_new == 0)
    self->gate_tick_id = 0;
  gate_update (self);
  return self->n_new > 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
client_free (Client *c)
{
  if (c->hello_watch != NULL)
    g_source_destroy (c->hello_watch);
  g_clear_pointer (&c->hello_watch, g_source_unref);
  if (c->remote != NULL)
    g_object_set_data (G_OBJECT (c->remote), client_key, NULL);
  g_clear_object (&c->remote);
  if (c->state != CLIENT_SERVING && c->tcp != NULL)
    g_io_stream_close (G_IO_STREAM (c->tcp), NULL, NULL);
  g_clear_object (&c->stream);
  g_clear_object (&c->input);
  g_clear_object (&c->output);
  g_clear_object (&c->tls);
  g_clear_object (&c->tcp);
  g_clear_object (&c->cancellable);
  g_free (c);
}

static void
client_remove (Client *c)
{
  if (c->listener != NULL && c->is_new)
    {
      client_not_new (c);
      gate_update (c->listener);
    }
  if (c->listener != NULL)
    g_hash_table_remove (c->listener->clients, c);
  client_free (c);
}

/* Closes @c; a handshake or libsoup finishes the closing on its own. */
static void
client_close (Client *c)
{
  if (c->closing)
    return;
  c->closing = TRUE;
  switch (c->state)
    {
    case CLIENT_HELLO:
      client_remove (c);
      break;
    case CLIENT_HANDSHAKE:
      g_cancellable_cancel (c->cancellable);
      g_socket_shutdown (client_socket (c), TRUE, TRUE, NULL);
      break;
    case CLIENT_SERVING:
      g_socket_shutdown (client_socket (c), TRUE, TRUE, NULL);
      break;
    }
}

/* The oldest client that is not in the middle of a request: one that never
 * spoke first, then the longest idle. */
static Client *
victim (TkeEmuListener *self)
{
  GHashTableIter iter;
  gpointer key;
  Client *best = NULL;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      Client *c = key;
      gboolean silent = c->state == CLIENT_HELLO;
      gboolean idle = c->state == CLIENT_SERVING && !c->busy;

      if (c->closing || !(silent || idle))
        continue;
      if (best == NULL || (silent && best->state != CLIENT_HELLO) ||
          (silent == (best->state == CLIENT_HELLO) && c->since < best->since))
        best = c;
    }
  return best;
}

static gboolean
evict_one (TkeEmuListener *self)
{
  Client *c = victim (self);

  if (c == NULL)
    return FALSE;
  g_debug ("Closing a silent or idle connection for a new one.");
  client_close (c);
  return TRUE;
}

static guint
count_open_fds (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  if (dir == NULL)
    return 64;
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* The file descriptor limit is read each time: it can change under a
 * running process (prlimit). */
static guint
connection_limit (TkeEmuListener *self)
{
  struct rlimit rl;
  guint limit = self->max_connections;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    {
      rlim_t used = self->base_fds + TKE_EMU_FD_RESERVE;

      limit = MIN (limit, rl.rlim_cur > used ? (guint) MIN (rl.rlim_cur - used, G_MAXUINT) : 1);
    }
  return limit;
}

static gboolean hand_over (gpointer data);

static void
handshake_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Client *c = user_data;
  g_autoptr (GError) error = NULL;

  if (!g_tls_connection_handshake_finish (c->tls, result, &error) || c->closing ||
      c->listener == NULL)
    {
      if (error != NULL)
        g_debug ("TLS handshake: %s", error->message);
      client_remove (c);
      return;
    }
  /* Not g_idle_add: an idle source never runs while requests keep the
   * main loop busy, and a new client waited for the load to end (10 s in
   * the load test). */
  g_idle_add_full (TKE_EMU_NEW_CLIENT_PRIORITY, hand_over, c, NULL);
}

static gboolean
hand_over (gpointer data)
{
  Client *c = data;
  g_autoptr (GSocketAddress) local = NULL;

  if (c->closing || c->listener == NULL)
    {
      client_remove (c);
      return G_SOURCE_REMOVE;
    }
  /* Time-outs from here on are the sweep's (a socket time-out would also
   * fire on an idle keep-alive connection). */
  g_socket_set_timeout (client_socket (c), 0);
  c->state = CLIENT_SERVING;
  c->since = g_get_monotonic_time ();
  c->input = tke_emu_eof_input_stream_new (G_IO_STREAM (c->tls));
  c->output = tke_emu_join_output_stream_new (g_io_stream_get_output_stream (G_IO_STREAM (c->tls)));
  c->stream = g_simple_io_stream_new (G_INPUT_STREAM (c->input), G_OUTPUT_STREAM (c->output));
  if (!c->is_new)
    tke_emu_eof_input_stream_set_gate (c->input, c->listener->gate);
  c->remote = g_socket_connection_get_remote_address (c->tcp, NULL);
  local = g_socket_connection_get_local_address (c->tcp, NULL);
  if (c->remote == NULL || local == NULL)
    {
      client_remove (c);
      return G_SOURCE_REMOVE;
    }
  /* libsoup gives back this address object with every request. */
  g_object_set_data (G_OBJECT (c->remote), client_key, c);
  soup_server_accept_iostream (c->listener->soup, c->stream, local, c->remote, NULL);
  return G_SOURCE_REMOVE;
}

static void
start_handshake (Client *c)
{
  static const char *const protocols[] = { "http/1.1", "http/1.0", NULL };
  g_autoptr (GError) error = NULL;
  GIOStream *tls;

  /* No database: the service asks for no client certificate, and with
   * the default one glib-networking read the system's CA bundle (220 kB of
   * PEM) again for every connection, 20 ms of a fresh client's handshake. */
  tls = g_initable_new (g_tls_backend_get_server_connection_type (g_tls_backend_get_default ()),
                        NULL, &error, "base-io-stream", c->tcp, "certificate", c->listener->cert,
                        "database", NULL, NULL);
  if (tls == NULL)
    {
      g_message ("TLS: %s", error->message);
      client_remove (c);
      return;
    }
  c->tls = G_TLS_CONNECTION (tls);
  g_object_set (tls, "require-close-notify", FALSE, "advertised-protocols", protocols, NULL);
  /* Bounds the handshake thread's blocking reads too. */
  g_socket_set_timeout (client_socket (c), (guint) (c->listener->handshake_us / G_USEC_PER_SEC));
  c->state = CLIENT_HANDSHAKE;
  c->is_new = TRUE;
  c->new_since = g_get_monotonic_time ();
  c->listener->n_new++;
  gate_update (c->listener);
  c->cancellable = g_cancellable_new ();
  g_tls_connection_handshake_async (c->tls, TKE_EMU_NEW_CLIENT_PRIORITY, c->cancellable,
                                    handshake_done, c);
}

static gboolean
hello_ready (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Client *c = user_data;
  g_autofree guint8 *buf = g_malloc (TLS_RECORD_MAX);
  GInputVector vector = { buf, TLS_RECORD_MAX };
  int flags = G_SOCKET_MSG_PEEK;
  gssize n;
  gsize need;

  n = g_socket_receive_message (socket, NULL, &vector, 1, NULL, NULL, &flags, NULL, NULL);
  if (n < 0 && condition == G_IO_IN)
    return G_SOURCE_CONTINUE; /* spurious wake-up */
  if (n <= 0 || buf[0] != 0x16 /* handshake record */)
    {
      g_clear_pointer (&c->hello_watch, g_source_unref);
      client_remove (c);
      return G_SOURCE_REMOVE;
    }
  if (n < 5)
    return G_SOURCE_CONTINUE;
  need = 5 + ((gsize) buf[3] << 8 | buf[4]);
  if ((gsize) n < need && n < TLS_RECORD_MAX)
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&c->hello_watch, g_source_unref);
  start_handshake (c);
  return G_SOURCE_REMOVE;
}

static void
add_client (TkeEmuListener *self, GSocket *socket)
{
  Client *c = g_new0 (Client, 1);

  g_socket_set_blocking (socket, FALSE);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  c->listener = self;
  c->state = CLIENT_HELLO;
  c->tcp = g_socket_connection_factory_create_connection (socket);
  c->since = g_get_monotonic_time ();
  c->hello_watch = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (c->hello_watch, G_SOURCE_FUNC (hello_ready), c, NULL);
  g_source_set_priority (c->hello_watch, TKE_EMU_NEW_CLIENT_PRIORITY);
  g_source_attach (c->hello_watch, NULL);
  g_hash_table_add (self->clients, c);
}

static gboolean incoming (GSocket *socket, GIOCondition condition, gpointer user_data);
static void answer_knock (TkeEmuListener *self);

static void
watch_accept (TkeEmuListener *self)
{
  self->accept_source = g_socket_create_source (self->socket, G_IO_IN, NULL);
  g_source_set_callback (self->accept_source, G_SOURCE_FUNC (incoming), self, NULL);
  g_source_set_priority (self->accept_source, TKE_EMU_NEW_CLIENT_PRIORITY);
  g_source_attach (self->accept_source, NULL);
}

static gboolean
resume_accept (gpointer data)
{
  TkeEmuListener *self = data;

  self->resume_id = 0;
  watch_accept (self);
  return G_SOURCE_REMOVE;
}

static gboolean
incoming (GSocket *listening, GIOCondition condition, gpointer user_data)
{
  TkeEmuListener *self = user_data;

  for (guint i = 0; i < 64; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GSocket) socket = g_socket_accept (listening, NULL, &error);

      if (socket == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      if (socket == NULL)
        {
          /* EMFILE and the like: free one and wait instead of spinning on a
           * listening socket that stays readable. */
          g_message ("Cannot accept a connection: %s", error->message);
          evict_one (self);
          g_clear_pointer (&self->accept_source, g_source_unref);
          self->resume_id = g_timeout_add (TKE_EMU_ACCEPT_PAUSE_MS, resume_accept, self);
          answer_knock (self);
          return G_SOURCE_REMOVE;
        }
      if (g_hash_table_size (self->clients) >= connection_limit (self) && !evict_one (self))
        {
          g_message ("Refusing a connection: %u connections are open and busy.",
                     g_hash_table_size (self->clients));
          g_socket_close (socket, NULL);
          continue;
        }
      add_client (self, socket);
    }
  answer_knock (self);
  return G_SOURCE_CONTINUE;
}

/* The accept ran: busy connections may read again (unless new clients
 * keep the gate closed), and the knock thread may knock again. */
static void
answer_knock (TkeEmuListener *self)
{
  g_mutex_lock (&self->knock_lock);
  tke_emu_gate_answer (self->gate);
  g_cond_signal (&self->knock_answered);
  g_mutex_unlock (&self->knock_lock);
}

/* The accept answers a knock, and so does this: a knock that came just
 * after the accept it stood for would otherwise hold every busy
 * connection back until the next connection. */
static gboolean
answer_ready (GSource *source, GSourceFunc callback, gpointer user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

static gboolean
answer_now (gpointer data)
{
  answer_knock (data);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs answer_funcs = {
  .dispatch = answer_ready,
};

/* Waits for a connection to accept (or the stop) and knocks, then for
 * the answer and KNOCK_INTERVAL_MS. */
static gpointer
knock_thread (gpointer data)
{
  TkeEmuListener *self = data;
  struct pollfd fds[2] = {
    { g_socket_get_fd (self->socket), POLLIN, 0 },
    { g_cancellable_get_fd (self->knocker_stop), POLLIN, 0 },
  };

  while (!g_cancellable_is_cancelled (self->knocker_stop))
    {
      if (poll (fds, 2, -1) < 0 || (fds[1].revents & POLLIN))
        continue;
      if (!(fds[0].revents & POLLIN))
        continue;
      g_mutex_lock (&self->knock_lock);
      tke_emu_gate_knock (self->gate);
      g_source_set_ready_time (self->answerer, 0);
      while (tke_emu_gate_is_knocked (self->gate) &&
             !g_cancellable_is_cancelled (self->knocker_stop))
        g_cond_wait (&self->knock_answered, &self->knock_lock);
      g_mutex_unlock (&self->knock_lock);
      poll (&fds[1], 1, KNOCK_INTERVAL_MS);
    }
  return NULL;
}

static gboolean
expired (TkeEmuListener *self, Client *c, gint64 now)
{
  switch (c->state)
    {
    case CLIENT_HELLO:
    case CLIENT_HANDSHAKE:
      return now - c->since > self->handshake_us;
    case CLIENT_SERVING:
      return now - c->since > (c->busy ? self->read_us : self->idle_us);
    }
  return FALSE;
}

/* Once a second: time-outs, and forgetting what libsoup has closed. */
static gboolean
sweep (gpointer data)
{
  TkeEmuListener *self = data;
  gint64 now = g_get_monotonic_time ();
  guint n = 0;
  g_autofree gpointer *all = g_hash_table_get_keys_as_array (self->clients, &n);

  for (guint i = 0; i < n; i++)
    {
      Client *c = all[i];

      if (c->state == CLIENT_SERVING && g_io_stream_is_closed (c->stream))
        client_remove (c);
      else if (!c->closing && expired (self, c, now))
        {
          g_debug ("Closing a connection that timed out.");
          client_close (c);
        }
    }
  return G_SOURCE_CONTINUE;
}

static Client *
client_of (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  return remote != NULL ? g_object_get_data (G_OBJECT (remote), client_key) : NULL;
}

static void
request_started (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  Client *c = client_of (msg);

  if (c == NULL)
    return;
  c->busy = TRUE;
  c->since = g_get_monotonic_time ();
}

static void
request_done (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  Client *c = client_of (msg);

  if (c == NULL)
    return;
  c->busy = FALSE;
  c->since = g_get_monotonic_time ();
  tke_emu_eof_input_stream_start_request (c->input);
  if (c->is_new)
    {
      client_not_new (c);
      gate_update (c->listener);
    }
}

TkeEmuListener *
_tke_emu_listener_new (SoupServer *soup, GTlsCertificate *cert, const TkeEmuFaults *config)
{
  TkeEmuListener *self = g_new0 (TkeEmuListener, 1);

  self->soup = g_object_ref (soup);
  self->cert = g_object_ref (cert);
  self->clients = g_hash_table_new (NULL, NULL);
  self->gate = tke_emu_gate_new ();
  g_mutex_init (&self->knock_lock);
  g_cond_init (&self->knock_answered);
  self->handshake_us = (gint64) TKE_EMU_HANDSHAKE_TIMEOUT_S * G_USEC_PER_SEC;
  self->read_us =
      (gint64) (config->read_timeout_s > 0 ? config->read_timeout_s : TKE_EMU_READ_TIMEOUT_S) *
          G_USEC_PER_SEC +
      (gint64) config->latency_ms * 1000;
  self->idle_us =
      (gint64) (config->idle_timeout_s > 0 ? config->idle_timeout_s : TKE_EMU_IDLE_TIMEOUT_S) *
      G_USEC_PER_SEC;
  self->max_connections =
      config->max_connections > 0 ? config->max_connections : TKE_EMU_MAX_CONNECTIONS;
  g_signal_connect (soup, "request-started", G_CALLBACK (request_started), self);
  g_signal_connect (soup, "request-finished", G_CALLBACK (request_done), self);
  g_signal_connect (soup, "request-aborted", G_CALLBACK (request_done), self);
  return self;
}

/* libsoup keeps a connection alive after a response only while it has a
 * listener of its own (request_finished() checks the server's listener
 * list), and soup_server_accept_iostream() adds none.  It gets one end of a
 * socket pair whose other end is closed at once: libsoup's accept on it
 * fails when it sees the end of stream, and it never accepts anything. */
static gboolean
add_keepalive_listener (TkeEmuListener *self, GError **error)
{
  g_autoptr (GSocket) socket = NULL;
  int fds[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "socketpair: %s",
                   g_strerror (errno));
      return FALSE;
    }
  close (fds[1]);
  socket = g_socket_new_from_fd (fds[0], error);
  if (socket == NULL)
    {
      close (fds[0]);
      return FALSE;
    }
  return soup_server_listen_socket (self->soup, socket, 0, error);
}

gboolean
_tke_emu_listener_listen (TkeEmuListener *self, guint port, GError **error)
{
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, (guint16) port);

  self->socket =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (self->socket == NULL)
    return FALSE;
  g_socket_set_blocking (self->socket, FALSE);
  g_socket_set_listen_backlog (self->socket, 128);
  if (!g_socket_bind (self->socket, address, TRUE, error) ||
      !g_socket_listen (self->socket, error) || !add_keepalive_listener (self, error))
    return FALSE;
  self->knocker_stop = g_cancellable_new ();
  if (g_cancellable_get_fd (self->knocker_stop) < 0)
    return g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "No descriptor left"), FALSE;
  self->answerer = g_source_new (&answer_funcs, sizeof (GSource));
  g_source_set_callback (self->answerer, answer_now, self, NULL);
  g_source_set_priority (self->answerer, TKE_EMU_NEW_CLIENT_PRIORITY);
  g_source_attach (self->answerer, NULL);
  self->knocker = g_thread_new ("knock", knock_thread, self);
  self->base_fds = count_open_fds ();
  watch_accept (self);
  self->sweep_id = g_timeout_add_seconds (1, sweep, self);
  return TRUE;
}

guint16
_tke_emu_listener_get_port (TkeEmuListener *self)
{
  g_autoptr (GSocketAddress) address =
      self->socket != NULL ? g_socket_get_local_address (self->socket, NULL) : NULL;

  return address != NULL ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)) : 0;
}

void
_tke_emu_listener_free (TkeEmuListener *self)
{
  GHashTableIter iter;
  gpointer key;

  if (self == NULL)
    return;
  if (self->accept_source != NULL)
    g_source_destroy (self->accept_source);
  g_clear_pointer (&self->accept_source, g_source_unref);
  g_clear_handle_id (&self->resume_id, g_source_remove);
  g_clear_handle_id (&self->sweep_id, g_source_remove);
  g_clear_handle_id (&self->gate_tick_id, g_source_remove);
  if (self->knocker != NULL)
    {
      g_cancellable_cancel (self->knocker_stop);
      g_mutex_lock (&self->knock_lock);
      g_cond_signal (&self->knock_answered);
      g_mutex_unlock (&self->knock_lock);
      g_thread_join (g_steal_pointer (&self->knocker));
    }
  if (self->answerer != NULL)
    g_source_destroy (self->answerer);
  g_clear_pointer (&self->answerer, g_source_unref);
  if (self->knocker_stop != NULL)
    g_cancellable_release_fd (self->knocker_stop);
  g_clear_object (&self->knocker_stop);
  g_signal_handlers_disconnect_by_data (self->soup, self);
  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      Client *c = key;

      g_hash_table_iter_steal (&iter);
      c->listener = NULL;
      if (c->state == CLIENT_HANDSHAKE)
        g_cancellable_cancel (c->cancellable); /* handshake_done frees it */
      else
        client_free (c);
    }
  g_hash_table_unref (self->clients);
  tke_emu_gate_set_closed (self->gate, FALSE);
  tke_emu_gate_answer (self->gate);
  g_clear_pointer (&self->gate, tke_emu_gate_unref);
  g_mutex_clear (&self->knock_lock);
  g_cond_clear (&self->knock_answered);
  if (self->socket != NULL)
    g_socket_close (self->socket, NULL);
  g_clear_object (&self->socket);
  g_clear_object (&self->cert);
  g_clear_object (&self->soup);
  g_free (self);
}
