/* tke-reader-monitor.c: smart card readers and cards coming and going
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A worker thread owns a PC/SC context and waits in SCardGetStatusChange
 * on every reader plus the "\\?PnP?\Notification" pseudo-reader, so that
 * readers plugged in or out and cards inserted or removed wake it.  It
 * posts what changed to the main context that was the thread default when
 * the monitor was made; the readers' list and the signals live there only.
 *
 * When pcscd goes away (SCARD_E_NO_SERVICE and friends), every reader is
 * reported gone and the worker tries to establish a context again, waiting
 * 250 ms, then twice as long up to 5 s, between tries.
 *
 * Dispose stops the worker with SCardCancel and joins it.  pcsc-lite drops
 * an SCardCancel that arrives before the wait begins, so a wait lasts at most
 * WAIT_SLICE_MS before the worker checks whether it must stop.
 */

#include "config.h"

#include <string.h>

#include <winscard.h>

#include "tke-card.h"
#include "tke-card-private.h"
#include "tke-reader-monitor.h"
#include "tke-reader-private.h"

#define PNP_NOTIFICATION "\\\\?PnP?\\Notification"
#define WAIT_SLICE_MS 2000
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000

/* Shared by the monitor and its worker thread. */
typedef struct
{
  gint ref_count;
  GMutex lock;
  GCond cond;
  gboolean stopping;
  gboolean have_pcsc;
  SCARDCONTEXT pcsc;
  GMainContext *context;
  GWeakRef monitor;
} Worker;

struct _TkeReaderMonitor
{
  GObject parent_instance;

  GListStore *readers;
  char *prefix[2];
  gboolean available;
  Worker *worker;
  GThread *thread;
};

G_DEFINE_FINAL_TYPE (TkeReaderMonitor, tke_reader_monitor, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_READER1_PREFIX,
  PROP_READER2_PREFIX,
  PROP_AVAILABLE,
  N_PROPS
};

enum
{
  SIGNAL_READER_ADDED,
  SIGNAL_READER_REMOVED,
  SIGNAL_CARD_INSERTED,
  SIGNAL_CARD_REMOVED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static Worker *
worker_ref (Worker *w)
{
  g_atomic_int_inc (&w->ref_count);
  return w;
}

static void
worker_unref (Worker *w)
{
  if (!g_atomic_int_dec_and_test (&w->ref_count))
    return;
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  g_weak_ref_clear (&w->monitor);
  g_main_context_unref (w->context);
  g_free (w);
}

static gboolean
worker_stopping (Worker *w)
{
  gboolean stopping;

  g_mutex_lock (&w->lock);
  stopping = w->stopping;
  g_mutex_unlock (&w->lock);
  return stopping;
}

/* ---- Events, delivered on the owner's context ---- */

typedef enum
{
  EVENT_ADDED,
  EVENT_REMOVED,
  EVENT_CARD,
  EVENT_AVAILABLE,
} EventKind;

typedef struct
{
  Worker *worker;
  EventKind kind;
  char *name;
  gboolean flag; /* card present, or service available */
  GBytes *atr;
} Event;

static void
event_free (gpointer data)
{
  Event *e = data;

  worker_unref (e->worker);
  g_free (e->name);
  g_clear_pointer (&e->atr, g_bytes_unref);
  g_free (e);
}

static guint
index_for_name (TkeReaderMonitor *self, const char *name)
{
  for (guint i = 0; i < 2; i++)
    if (self->prefix[i] != NULL && *self->prefix[i] != '\0' &&
        g_str_has_prefix (name, self->prefix[i]))
      return i + 1;
  return 0;
}

static TkeReader *
find_reader (TkeReaderMonitor *self, const char *name, guint *position)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->readers));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeReader) reader = g_list_model_get_item (G_LIST_MODEL (self->readers), i);

      if (g_strcmp0 (tke_reader_get_name (reader), name) == 0)
        {
          *position = i;
          return reader; /* the store keeps a reference */
        }
    }
  return NULL;
}

static void
set_card (TkeReaderMonitor *self, TkeReader *reader, gboolean present, GBytes *atr)
{
  if (_tke_reader_set_card (reader, present, atr))
    g_signal_emit (self, signals[present ? SIGNAL_CARD_INSERTED : SIGNAL_CARD_REMOVED], 0, reader);
}

static void
apply_event (TkeReaderMonitor *self, Event *e)
{
  guint position = 0;
  TkeReader *reader = e->name != NULL ? find_reader (self, e->name, &position) : NULL;

  switch (e->kind)
    {
    case EVENT_ADDED:
      if (reader == NULL)
        {
          g_autoptr (TkeReader) added = _tke_reader_new (e->name, index_for_name (self, e->name));

          g_list_store_append (self->readers, added);
          g_signal_emit (self, signals[SIGNAL_READER_ADDED], 0, added);
        }
      break;
    case EVENT_REMOVED:
      if (reader != NULL)
        {
          g_autoptr (TkeReader) removed = g_object_ref (reader);

          set_card (self, removed, FALSE, NULL);
          g_list_store_remove (self->readers, position);
          g_signal_emit (self, signals[SIGNAL_READER_REMOVED], 0, removed);
        }
      break;
    case EVENT_CARD:
      if (reader != NULL)
        set_card (self, reader, e->flag, e->atr);
      break;
    case EVENT_AVAILABLE:
      if (self->available != e->flag)
        {
          self->available = e->flag;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AVAILABLE]);
        }
      break;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
deliver_event (gpointer data)
{
  Event *e = data;
  g_autoptr (TkeReaderMonitor) self = g_weak_ref_get (&e->worker->monitor);

  if (self != NULL)
    apply_event (self, e);
  return G_SOURCE_REMOVE;
}

static void
post (Worker *w, EventKind kind, const char *name, gboolean flag, GBytes *atr)
{
  Event *e = g_new0 (Event, 1);

  e->worker = worker_ref (w);
  e->kind = kind;
  e->name = g_strdup (name);
  e->flag = flag;
  e->atr = atr != NULL ? g_bytes_ref (atr) : NULL;
  _tke_card_dispatch (w->context, deliver_event, e, event_free);
}

/* ---- The worker thread ---- */

/* What the worker knows of one reader. */
typedef struct
{
  DWORD state; /* the last dwEventState, without SCARD_STATE_CHANGED */
  gboolean present;
} Known;

static gboolean
service_lost (LONG rv)
{
  return rv == SCARD_E_NO_SERVICE || rv == SCARD_E_SERVICE_STOPPED || rv == SCARD_F_COMM_ERROR ||
         rv == SCARD_E_INVALID_HANDLE || rv == SCARD_E_NO_MEMORY;
}

/* Lists the readers and reports those added and removed since last time. */
static LONG
update_readers (Worker *w, GHashTable *known)
{
  char *names = NULL;
  DWORD size = SCARD_AUTOALLOCATE;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key;
  LONG rv = SCardListReaders (w->pcsc, NULL, (LPSTR) &names, &size);

  if (rv != SCARD_S_SUCCESS && rv != SCARD_E_NO_READERS_AVAILABLE)
    return rv;
  for (const char *n = names; rv == SCARD_S_SUCCESS && *n != '\0'; n += strlen (n) + 1)
    {
      g_hash_table_add (seen, g_strdup (n));
      if (!g_hash_table_contains (known, n))
        {
          g_hash_table_insert (known, g_strdup (n), g_new0 (Known, 1));
          post (w, EVENT_ADDED, n, FALSE, NULL);
        }
    }
  if (names != NULL)
    SCardFreeMemory (w->pcsc, names);
  g_hash_table_iter_init (&iter, known);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (seen, key))
      {
        post (w, EVENT_REMOVED, key, FALSE, NULL);
        g_hash_table_iter_remove (&iter);
      }
  return SCARD_S_SUCCESS;
}

static void
report_card_changes (Worker *w, GHashTable *known, SCARD_READERSTATE *states, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      Known *k = g_hash_table_lookup (known, states[i].szReader);
      gboolean present = (states[i].dwEventState & SCARD_STATE_PRESENT) != 0;

      if (k == NULL || (states[i].dwEventState & SCARD_STATE_CHANGED) == 0)
        continue;
      k->state = states[i].dwEventState & ~SCARD_STATE_CHANGED;
      if (present != k->present)
        {
          g_autoptr (GBytes) atr = present ? g_bytes_new (states[i].rgbAtr, states[i].cbAtr) : NULL;

          k->present = present;
          post (w, EVENT_CARD, states[i].szReader, present, atr);
        }
    }
}

/* Waits for changes until the service goes away or the monitor stops. */
static void
watch (Worker *w)
{
  g_autoptr (GHashTable) known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  DWORD pnp_state = SCARD_STATE_UNAWARE;
  GHashTableIter iter;
  gpointer key;

  while (!worker_stopping (w))
    {
      g_autoptr (GArray) states = g_array_new (FALSE, TRUE, sizeof (SCARD_READERSTATE));
      SCARD_READERSTATE pnp = { .szReader = PNP_NOTIFICATION, .dwCurrentState = pnp_state };
      gpointer value;
      LONG rv = update_readers (w, known);

      if (rv != SCARD_S_SUCCESS)
        break;
      g_hash_table_iter_init (&iter, known);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          SCARD_READERSTATE s = { .szReader = key, .dwCurrentState = ((Known *) value)->state };

          g_array_append_val (states, s);
        }
      g_array_append_val (states, pnp);
      rv = SCardGetStatusChange (w->pcsc, WAIT_SLICE_MS, (SCARD_READERSTATE *) states->data,
                                 states->len);
      if (service_lost (rv))
        break;
      if (rv != SCARD_S_SUCCESS)
        continue; /* timeout, cancelled, or a reader vanished: list again */
      report_card_changes (w, known, (SCARD_READERSTATE *) states->data, states->len - 1);
      pnp_state = g_array_index (states, SCARD_READERSTATE, states->len - 1).dwEventState &
                  ~SCARD_STATE_CHANGED;
    }
  /* The service is gone (or we stop): so are its readers. */
  g_hash_table_iter_init (&iter, known);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    post (w, EVENT_REMOVED, key, FALSE, NULL);
}

/* Sleeps unless the monitor stops first; returns FALSE if it stops. */
static gboolean
backoff (Worker *w, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * G_TIME_SPAN_MILLISECOND;
  gboolean stopping;

  g_mutex_lock (&w->lock);
  while (!w->stopping && g_cond_wait_until (&w->cond, &w->lock, end))
    ;
  stopping = w->stopping;
  g_mutex_unlock (&w->lock);
  return !stopping;
}

static gpointer
worker_thread (gpointer data)
{
  Worker *w = data;
  guint delay = BACKOFF_MIN_MS;
  gboolean available = FALSE;

  while (!worker_stopping (w))
    {
      SCARDCONTEXT pcsc = 0;
      LONG rv = SCardEstablishContext (SCARD_SCOPE_SYSTEM, NULL, NULL, &pcsc);

      if (rv != SCARD_S_SUCCESS)
        {
          if (!backoff (w, delay))
            break;
          delay = MIN (delay * 2, BACKOFF_MAX_MS);
          continue;
        }
      g_mutex_lock (&w->lock);
      w->pcsc = pcsc;
      w->have_pcsc = !w->stopping;
      g_mutex_unlock (&w->lock);
      if (!available)
        post (w, EVENT_AVAILABLE, NULL, available = TRUE, NULL);
      delay = BACKOFF_MIN_MS;
      watch (w);
      g_mutex_lock (&w->lock);
      w->have_pcsc = FALSE;
      g_mutex_unlock (&w->lock);
      SCardReleaseContext (pcsc);
      if (!worker_stopping (w))
        {
          post (w, EVENT_AVAILABLE, NULL, available = FALSE, NULL);
          backoff (w, delay);
        }
    }
  worker_unref (w);
  return NULL;
}

/* ---- GObject ---- */

static void
tke_reader_monitor_constructed (GObject *object)
{
  TkeReaderMonitor *self = TKE_READER_MONITOR (object);
  Worker *w = g_new0 (Worker, 1);

  G_OBJECT_CLASS (tke_reader_monitor_parent_class)->constructed (object);
  w->ref_count = 1;
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  g_weak_ref_init (&w->monitor, self);
  w->context = g_main_context_ref_thread_default ();
  self->worker = w;
  self->thread = g_thread_new ("tke-reader-monitor", worker_thread, worker_ref (w));
}

static void
tke_reader_monitor_dispose (GObject *object)
{
  TkeReaderMonitor *self = TKE_READER_MONITOR (object);

  if (self->thread != NULL)
    {
      Worker *w = self->worker;

      g_mutex_lock (&w->lock);
      w->stopping = TRUE;
      if (w->have_pcsc)
        SCardCancel (w->pcsc);
      g_cond_broadcast (&w->cond);
      g_mutex_unlock (&w->lock);
      g_thread_join (g_steal_pointer (&self->thread));
      g_weak_ref_set (&w->monitor, NULL);
      g_clear_pointer (&self->worker, worker_unref);
    }
  if (self->readers != NULL)
    g_list_store_remove_all (self->readers);
  G_OBJECT_CLASS (tke_reader_monitor_parent_class)->dispose (object);
}

static void
tke_reader_monitor_finalize (GObject *object)
{
  TkeReaderMonitor *self = TKE_READER_MONITOR (object);

  g_clear_object (&self->readers);
  g_free (self->prefix[0]);
  g_free (self->prefix[1]);
  G_OBJECT_CLASS (tke_reader_monitor_parent_class)->finalize (object);
}

static void
set_prefix (TkeReaderMonitor *self, guint index, const char *prefix)
{
  guint n;

  if (prefix == NULL)
    prefix = tke_reader_default_prefix (index);
  if (g_strcmp0 (self->prefix[index - 1], prefix) == 0)
    return;
  g_free (self->prefix[index - 1]);
  self->prefix[index - 1] = g_strdup (prefix);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->readers));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeReader) reader = g_list_model_get_item (G_LIST_MODEL (self->readers), i);

      _tke_reader_set_index (reader, index_for_name (self, tke_reader_get_name (reader)));
    }
  g_object_notify_by_pspec (G_OBJECT (self),
                            properties[index == 1 ? PROP_READER1_PREFIX : PROP_READER2_PREFIX]);
}

static void
tke_reader_monitor_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TkeReaderMonitor *self = TKE_READER_MONITOR (object);

  switch (prop_id)
    {
    case PROP_READER1_PREFIX:
      g_value_set_string (value, self->prefix[0]);
      break;
    case PROP_READER2_PREFIX:
      g_value_set_string (value, self->prefix[1]);
      break;
    case PROP_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_reader_monitor_set_property (GObject *object,
                                 guint prop_id,
                                 const GValue *value,
                                 GParamSpec *pspec)
{
  TkeReaderMonitor *self = TKE_READER_MONITOR (object);

  switch (prop_id)
    {
    case PROP_READER1_PREFIX:
      set_prefix (self, 1, g_value_get_string (value));
      break;
    case PROP_READER2_PREFIX:
      set_prefix (self, 2, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tke_reader_monitor_class_init (TkeReaderMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = tke_reader_monitor_constructed;
  object_class->dispose = tke_reader_monitor_dispose;
  object_class->finalize = tke_reader_monitor_finalize;
  object_class->get_property = tke_reader_monitor_get_property;
  object_class->set_property = tke_reader_monitor_set_property;

  /**
   * TkeReaderMonitor:reader1-prefix:
   *
   * Readers whose name starts with this are "reader 1" (index 1).  %NULL
   * means tke_reader_default_prefix(1).  Names differ across pcsc-lite
   * versions, so readers are matched by prefix, never by full name.
   */
  properties[PROP_READER1_PREFIX] = g_param_spec_string (
      "reader1-prefix", NULL, NULL, NULL,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * TkeReaderMonitor:reader2-prefix:
   *
   * Readers whose name starts with this are "reader 2" (index 2).  %NULL
   * means tke_reader_default_prefix(2).
   */
  properties[PROP_READER2_PREFIX] = g_param_spec_string (
      "reader2-prefix", NULL, NULL, NULL,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * TkeReaderMonitor:available:
   *
   * %TRUE while the PC/SC service (pcscd) answers.
   */
  properties[PROP_AVAILABLE] =
      g_param_spec_boolean ("available", NULL, NULL, FALSE,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * TkeReaderMonitor::reader-added:
   * @monitor: the monitor
   * @reader: the reader, already in the list
   */
  signals[SIGNAL_READER_ADDED] =
      g_signal_new ("reader-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, TKE_TYPE_READER);
  /**
   * TkeReaderMonitor::reader-removed:
   * @monitor: the monitor
   * @reader: the reader, no longer in the list
   *
   * Also emitted for every reader when pcscd goes away.
   */
  signals[SIGNAL_READER_REMOVED] =
      g_signal_new ("reader-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, TKE_TYPE_READER);
  /**
   * TkeReaderMonitor::card-inserted:
   * @monitor: the monitor
   * @reader: the reader
   *
   * Also emitted for a card already in a reader when the reader is first seen.
   */
  signals[SIGNAL_CARD_INSERTED] =
      g_signal_new ("card-inserted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, TKE_TYPE_READER);
  /**
   * TkeReaderMonitor::card-removed:
   * @monitor: the monitor
   * @reader: the reader
   */
  signals[SIGNAL_CARD_REMOVED] =
      g_signal_new ("card-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, TKE_TYPE_READER);
}

static void
tke_reader_monitor_init (TkeReaderMonitor *self)
{
  self->readers = g_list_store_new (TKE_TYPE_READER);
}

/**
 * tke_reader_monitor_new:
 * @reader1_prefix: (nullable): the name prefix of reader 1, %NULL for the default
 * @reader2_prefix: (nullable): the name prefix of reader 2, %NULL for the default
 *
 * Starts watching.  Signals and the readers' list change on the
 * thread-default main context of the caller.
 *
 * Returns: (transfer full): a new monitor
 */
TkeReaderMonitor *
tke_reader_monitor_new (const char *reader1_prefix, const char *reader2_prefix)
{
  return g_object_new (TKE_TYPE_READER_MONITOR, "reader1-prefix", reader1_prefix, "reader2-prefix",
                       reader2_prefix, NULL);
}

/**
 * tke_reader_monitor_get_readers:
 * @self: a monitor
 *
 * Returns: (transfer none): a #GListModel of #TkeReader
 */
GListModel *
tke_reader_monitor_get_readers (TkeReaderMonitor *self)
{
  g_return_val_if_fail (TKE_IS_READER_MONITOR (self), NULL);
  return G_LIST_MODEL (self->readers);
}

/**
 * tke_reader_monitor_get_reader:
 * @self: a monitor
 * @index: 1 or 2
 *
 * Returns: (transfer none) (nullable): the first reader with that index
 */
TkeReader *
tke_reader_monitor_get_reader (TkeReaderMonitor *self, guint index)
{
  guint n;

  g_return_val_if_fail (TKE_IS_READER_MONITOR (self), NULL);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->readers));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeReader) reader = g_list_model_get_item (G_LIST_MODEL (self->readers), i);

      if (tke_reader_get_index (reader) == index)
        return reader; /* the store keeps a reference */
    }
  return NULL;
}

/**
 * tke_reader_monitor_get_available:
 * @self: a monitor
 *
 * Returns: the value of #TkeReaderMonitor:available
 */
gboolean
tke_reader_monitor_get_available (TkeReaderMonitor *self)
{
  g_return_val_if_fail (TKE_IS_READER_MONITOR (self), FALSE);
  return self->available;
}

/**
 * tke_reader_monitor_get_reader1_prefix:
 * @self: a monitor
 *
 * Returns: (nullable): the value of #TkeReaderMonitor:reader1-prefix
 */
const char *
tke_reader_monitor_get_reader1_prefix (TkeReaderMonitor *self)
{
  g_return_val_if_fail (TKE_IS_READER_MONITOR (self), NULL);
  return self->prefix[0];
}

/**
 * tke_reader_monitor_set_reader1_prefix:
 * @self: a monitor
 * @prefix: (nullable): the name prefix of reader 1, %NULL for the default
 *
 * Sets #TkeReaderMonitor:reader1-prefix.
 */
void
tke_reader_monitor_set_reader1_prefix (TkeReaderMonitor *self, const char *prefix)
{
  g_return_if_fail (TKE_IS_READER_MONITOR (self));
  set_prefix (self, 1, prefix);
}

/**
 * tke_reader_monitor_get_reader2_prefix:
 * @self: a monitor
 *
 * Returns: (nullable): the value of #TkeReaderMonitor:reader2-prefix
 */
const char *
tke_reader_monitor_get_reader2_prefix (TkeReaderMonitor *self)
{
  g_return_val_if_fail (TKE_IS_READER_MONITOR (self), NULL);
  return self->prefix[1];
}

/**
 * tke_reader_monitor_set_reader2_prefix:
 * @self: a monitor
 * @prefix: (nullable): the name prefix of reader 2, %NULL for the default
 *
 * Sets #TkeReaderMonitor:reader2-prefix.
 */
void
tke_reader_monitor_set_reader2_prefix (TkeReaderMonitor *self, const char *prefix)
{
  g_return_if_fail (TKE_IS_READER_MONITOR (self));
  set_prefix (self, 2, prefix);
}
