/* tke-virtual-reader.c: one virtual PIN-pad reader: its card slot, keypad and sockets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The "cable" socket carries the driver's requests (tke-vr-link.h); the
 * control socket is where a test or the on-screen PIN pad acts like a person
 * at the reader (data/doc/card-protocol.md §6).  Both are served by plain
 * blocking threads: a pending PIN entry waits on a condition variable that
 * the control socket's `keys`, `cancel`, `timeout` and `remove` signal.
 */

#define _GNU_SOURCE
#include "config.h"

#include "tke-virtual-reader.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <openssl/crypto.h>

#include "tke-vr-link.h"

#define MAX_LINE 4096
#define DEFAULT_PROMPT_WAIT_MS 10000

typedef enum
{
  KEYPAD_NONE,
  KEYPAD_KEYS,
  KEYPAD_CANCELLED,
  KEYPAD_TIMED_OUT,
  KEYPAD_REMOVED,
} KeypadResult;

typedef enum
{
  MISBEHAVE_NONE,
  MISBEHAVE_ENDLESS,
  MISBEHAVE_FLOOD,
} Misbehaviour;

/* Tests: where a person pulls the card in the middle of a command. */
typedef enum
{
  PULL_NONE,
  PULL_BEFORE, /* the APDU never reaches the card */
  PULL_AFTER,  /* the card runs it; its answer is lost */
} PullMoment;

struct _TkeVirtualReader
{
  GObject parent_instance;

  guint number;
  char *link_path;
  char *control_path;
  int link_fd;
  int control_fd;
  TkeSecret *chip_key;

  GMutex lock;
  GCond changed;
  TkeVirtualCard *card;
  char *image;
  /* Presence polls that still answer "absent" after a removal, so that
   * pcscd sees every removal even when a card goes back in at once (and a
   * new card never stands in for the old one on open handles).  Two: after
   * a reset that failed because the card was gone, pcscd 1.9.9 misses the
   * first one. */
  guint removal_unseen;
  gboolean waiting;
  KeypadResult result;
  char digits[TKE_LINK_MAX_DIGITS];
  gsize n_digits;
  /* What the reader's firmware asked of this side since the start: PIN
   * entries on the keypad and APDUs to the card (the "counters" command),
   * so that a test sees a refused PIN-pad request reach neither. */
  guint64 keypad_entries;
  guint64 apdus;
  /* Tests: the card answers every APDU with 61 00 for ever, without data
   * (MISBEHAVE_ENDLESS) or with 256 bytes each time (MISBEHAVE_FLOOD). */
  Misbehaviour misbehaviour;
  /* Tests: the card is pulled, once, at the next APDU that starts with
   * PULL_CLA PULL_INS ("pull-on"). */
  PullMoment pull;
  guint8 pull_cla;
  guint8 pull_ins;
};

G_DEFINE_FINAL_TYPE (TkeVirtualReader, tke_virtual_reader, G_TYPE_OBJECT)

static void
tke_virtual_reader_finalize (GObject *object)
{
  TkeVirtualReader *self = TKE_VIRTUAL_READER (object);

  /* The serving threads hold a reference: this runs only if they never started. */
  g_free (self->link_path);
  g_free (self->control_path);
  g_clear_object (&self->card);
  g_free (self->image);
  g_clear_pointer (&self->chip_key, tke_secret_unref);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->changed);
  G_OBJECT_CLASS (tke_virtual_reader_parent_class)->finalize (object);
}

static void
tke_virtual_reader_class_init (TkeVirtualReaderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tke_virtual_reader_finalize;
}

static void
tke_virtual_reader_init (TkeVirtualReader *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->changed);
  self->link_fd = self->control_fd = -1;
}

static int
listen_unix (const char *path, GError **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof addr.sun_path)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("The socket path %s is too long; use a shorter state directory."), path);
      return -1;
    }
  strcpy (addr.sun_path, path);
  unlink (path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || chmod (path, 0600) < 0 ||
      listen (fd, 8) < 0)
    {
      int saved = errno;

      g_set_error (error, TKE_ERROR, TKE_ERROR_IO, _ ("Cannot listen on %s: %s"), path,
                   g_strerror (saved));
      if (fd >= 0)
        close (fd);
      return -1;
    }
  return fd;
}

static gboolean
io_all (int fd, guint8 *buffer, gsize size, gboolean writing)
{
  gsize done = 0;

  while (done < size)
    {
      ssize_t n = writing ? send (fd, buffer + done, size - done, MSG_NOSIGNAL)
                          : recv (fd, buffer + done, size - done, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      done += (gsize) n;
    }
  return TRUE;
}

/* ---- The driver's end ---- */

static guint8
wait_for_keys (TkeVirtualReader *self, guint timeout_s, guint8 *reply, gsize *size)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  guint8 status;

  self->waiting = TRUE;
  self->result = KEYPAD_NONE;
  g_cond_broadcast (&self->changed);
  while (self->result == KEYPAD_NONE)
    if (!g_cond_wait_until (&self->changed, &self->lock, deadline) && self->result == KEYPAD_NONE)
      self->result = KEYPAD_TIMED_OUT;
  self->waiting = FALSE;

  switch (self->result)
    {
    case KEYPAD_KEYS:
      memcpy (reply, self->digits, self->n_digits);
      *size = self->n_digits;
      status = TKE_LINK_OK;
      break;
    case KEYPAD_CANCELLED:
      status = TKE_LINK_CANCELLED;
      break;
    case KEYPAD_TIMED_OUT:
      status = TKE_LINK_TIMED_OUT;
      break;
    default:
      status = TKE_LINK_NO_CARD;
      break;
    }
  OPENSSL_cleanse (self->digits, sizeof self->digits);
  self->n_digits = 0;
  self->result = KEYPAD_NONE;
  return status;
}

/* The card out of the slot, with the lock held: what its chip did not
 * write to its image is gone. */
static void
pull_card (TkeVirtualReader *self)
{
  if (self->card != NULL)
    self->removal_unseen = 2;
  g_clear_object (&self->card);
  g_clear_pointer (&self->image, g_free);
  self->pull = PULL_NONE;
  if (self->waiting && self->result == KEYPAD_NONE)
    {
      self->result = KEYPAD_REMOVED;
      g_cond_broadcast (&self->changed);
    }
}

/* Is this the APDU "pull-on" waits for?  It fires once. */
static PullMoment
pull_now (TkeVirtualReader *self, const guint8 *apdu, gsize size)
{
  PullMoment moment = self->pull;

  if (moment == PULL_NONE || size < 4 || apdu[0] != self->pull_cla || apdu[1] != self->pull_ins)
    return PULL_NONE;
  self->pull = PULL_NONE;
  return moment;
}

/* A card that never stops answering 61 00 ("more data: 256 bytes"). */
static guint8
misbehave (TkeVirtualReader *self, guint8 *reply, gsize *reply_size)
{
  gsize data = self->misbehaviour == MISBEHAVE_FLOOD ? 256 : 0;

  memset (reply, 0xA5, data);
  reply[data] = 0x61;
  reply[data + 1] = 0x00;
  *reply_size = data + 2;
  return TKE_LINK_OK;
}

static guint8
handle_request (TkeVirtualReader *self,
                guint8 type,
                const guint8 *payload,
                gsize size,
                guint8 *reply,
                gsize *reply_size)
{
  g_autoptr (GBytes) response = NULL;
  const guint8 *atr;
  PullMoment pull;

  *reply_size = 0;
  if (type == TKE_LINK_PRESENCE)
    {
      reply[0] = self->card != NULL && self->removal_unseen == 0;
      if (self->removal_unseen > 0 && size == 0)
        self->removal_unseen--;
      *reply_size = 1;
      return TKE_LINK_OK;
    }
  if (self->card == NULL || self->removal_unseen)
    return TKE_LINK_NO_CARD;
  switch (type)
    {
    case TKE_LINK_POWER_UP:
      tke_virtual_card_reset (self->card);
      atr = tke_virtual_card_get_atr (reply_size);
      memcpy (reply, atr, *reply_size);
      return TKE_LINK_OK;
    case TKE_LINK_POWER_DOWN:
      tke_virtual_card_reset (self->card);
      return TKE_LINK_OK;
    case TKE_LINK_APDU:
      self->apdus++;
      if (self->misbehaviour != MISBEHAVE_NONE)
        return misbehave (self, reply, reply_size);
      pull = pull_now (self, payload, size);
      if (pull == PULL_BEFORE)
        {
          pull_card (self);
          return TKE_LINK_NO_CARD;
        }
      response = tke_virtual_card_transmit (self->card, payload, size);
      if (pull == PULL_AFTER)
        {
          pull_card (self);
          return TKE_LINK_NO_CARD;
        }
      *reply_size = g_bytes_get_size (response);
      memcpy (reply, g_bytes_get_data (response, NULL), *reply_size);
      return TKE_LINK_OK;
    case TKE_LINK_KEYPAD:
      if (size != 3 || payload[0] == 0)
        return TKE_LINK_FAILED;
      self->keypad_entries++;
      return wait_for_keys (self, payload[0], reply, reply_size);
    default:
      return TKE_LINK_FAILED;
    }
}

static void
serve_link (TkeVirtualReader *self, int fd)
{
  guint8 *payload = g_malloc (TKE_LINK_MAX_PAYLOAD);
  guint8 *reply = g_malloc (TKE_LINK_MAX_PAYLOAD);

  for (;;)
    {
      guint8 header[3];
      gsize size;
      gsize reply_size = 0;
      guint8 status;
      gboolean sent;

      if (!io_all (fd, header, 3, FALSE))
        break;
      size = (gsize) header[1] << 8 | header[2];
      if (size > TKE_LINK_MAX_PAYLOAD || !io_all (fd, payload, size, FALSE))
        break;
      g_mutex_lock (&self->lock);
      status = handle_request (self, header[0], payload, size, reply, &reply_size);
      g_mutex_unlock (&self->lock);
      /* A VERIFY carries the PIN, a keypad reply the digits. */
      OPENSSL_cleanse (payload, size);
      header[0] = status;
      header[1] = (guint8) (reply_size >> 8);
      header[2] = (guint8) reply_size;
      sent = io_all (fd, header, 3, TRUE) && io_all (fd, reply, reply_size, TRUE);
      OPENSSL_cleanse (reply, reply_size);
      if (!sent)
        break;
    }
  g_free (payload);
  g_free (reply);
}

static gpointer
link_thread (gpointer data)
{
  TkeVirtualReader *self = data;

  for (;;)
    {
      int fd = accept4 (self->link_fd, NULL, NULL, SOCK_CLOEXEC);

      if (fd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          break;
        }
      serve_link (self, fd);
      close (fd);
    }
  return NULL;
}

/* ---- The control socket ---- */

gboolean
tke_virtual_reader_insert (TkeVirtualReader *self, const char *image, GError **error)
{
  g_autoptr (TkeVirtualCard) card = NULL;
  g_autofree char *path = g_canonicalize_filename (image, NULL);
  gboolean inserted = FALSE;

  card = tke_virtual_card_load (path, self->chip_key, error);
  if (card == NULL)
    return FALSE;
  g_mutex_lock (&self->lock);
  if (self->card == NULL)
    {
      self->card = g_steal_pointer (&card);
      g_free (self->image);
      self->image = g_steal_pointer (&path);
      inserted = TRUE;
    }
  g_mutex_unlock (&self->lock);
  if (!inserted)
    g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                 _ ("Reader %u already holds a card; remove it first."), self->number);
  return inserted;
}

static char *
remove_card (TkeVirtualReader *self)
{
  g_mutex_lock (&self->lock);
  pull_card (self);
  g_mutex_unlock (&self->lock);
  return g_strdup ("ok");
}

static char *
press (TkeVirtualReader *self, KeypadResult result, const char *digits)
{
  char *answer;

  g_mutex_lock (&self->lock);
  if (!self->waiting || self->result != KEYPAD_NONE)
    answer = g_strdup_printf ("error reader %u is not waiting for a PIN", self->number);
  else
    {
      if (digits != NULL)
        {
          self->n_digits = strlen (digits);
          memcpy (self->digits, digits, self->n_digits);
        }
      self->result = result;
      g_cond_broadcast (&self->changed);
      answer = g_strdup ("ok");
    }
  g_mutex_unlock (&self->lock);
  return answer;
}

static char *
press_keys (TkeVirtualReader *self, const char *digits)
{
  gsize n = strlen (digits);

  if (n == 0 || n > TKE_LINK_MAX_DIGITS || strspn (digits, "0123456789") != n)
    return g_strdup_printf ("error keys takes 1 to %d digits", TKE_LINK_MAX_DIGITS);
  return press (self, KEYPAD_KEYS, digits);
}

/* One key, as a finger presses it: the digit joins the entry the reader
 * buffers, and nothing reaches the card before OK.  The on-screen PIN pad
 * sends these, so the application never holds a PIN it could keep. */
static char *
press_digit (TkeVirtualReader *self, const char *digit)
{
  char *answer;

  if (digit == NULL || strlen (digit) != 1 || !g_ascii_isdigit (digit[0]))
    return g_strdup ("error key takes one digit");
  g_mutex_lock (&self->lock);
  if (!self->waiting || self->result != KEYPAD_NONE)
    answer = g_strdup_printf ("error reader %u is not waiting for a PIN", self->number);
  else if (self->n_digits >= TKE_LINK_MAX_DIGITS)
    answer = g_strdup ("error the PIN pad takes no more digits");
  else
    {
      self->digits[self->n_digits++] = digit[0];
      answer = g_strdup_printf ("ok %" G_GSIZE_FORMAT, self->n_digits);
    }
  g_mutex_unlock (&self->lock);
  return answer;
}

/* The pad's Clear key: forget the digits typed so far in this entry. */
static char *
press_clear (TkeVirtualReader *self)
{
  char *answer;

  g_mutex_lock (&self->lock);
  if (!self->waiting || self->result != KEYPAD_NONE)
    answer = g_strdup_printf ("error reader %u is not waiting for a PIN", self->number);
  else
    {
      OPENSSL_cleanse (self->digits, sizeof self->digits);
      self->n_digits = 0;
      answer = g_strdup ("ok 0");
    }
  g_mutex_unlock (&self->lock);
  return answer;
}

static char *
wait_prompt (TkeVirtualReader *self, const char *argument)
{
  gint64 ms = argument != NULL ? g_ascii_strtoll (argument, NULL, 10) : DEFAULT_PROMPT_WAIT_MS;
  gint64 deadline = g_get_monotonic_time () + CLAMP (ms, 0, 600000) * 1000;
  gboolean prompt;

  g_mutex_lock (&self->lock);
  while (!(prompt = self->waiting && self->result == KEYPAD_NONE))
    if (!g_cond_wait_until (&self->changed, &self->lock, deadline))
      {
        prompt = self->waiting && self->result == KEYPAD_NONE;
        break;
      }
  g_mutex_unlock (&self->lock);
  return g_strdup (prompt ? "ok" : "error timeout");
}

static char *
status (TkeVirtualReader *self)
{
  char *answer;

  g_mutex_lock (&self->lock);
  answer = g_strdup_printf ("ok card=%s prompt=%s%s%s", self->card != NULL ? "present" : "absent",
                            self->waiting && self->result == KEYPAD_NONE ? "waiting" : "idle",
                            self->image != NULL ? " image=" : "",
                            self->image != NULL ? self->image : "");
  g_mutex_unlock (&self->lock);
  return answer;
}

static char *
counters (TkeVirtualReader *self)
{
  char *answer;

  g_mutex_lock (&self->lock);
  answer = g_strdup_printf ("ok keypad=%" G_GUINT64_FORMAT " apdus=%" G_GUINT64_FORMAT,
                            self->keypad_entries, self->apdus);
  g_mutex_unlock (&self->lock);
  return answer;
}

static char *
set_misbehaviour (TkeVirtualReader *self, const char *argument)
{
  Misbehaviour m;

  if (g_strcmp0 (argument, "none") == 0)
    m = MISBEHAVE_NONE;
  else if (g_strcmp0 (argument, "endless-get-response") == 0)
    m = MISBEHAVE_ENDLESS;
  else if (g_strcmp0 (argument, "endless-data") == 0)
    m = MISBEHAVE_FLOOD;
  else
    return g_strdup ("error misbehave takes none, endless-get-response or endless-data");
  g_mutex_lock (&self->lock);
  self->misbehaviour = m;
  g_mutex_unlock (&self->lock);
  return g_strdup ("ok");
}

/* "pull-on CLA INS before|after" (hex bytes), or "pull-on none". */
static char *
set_pull (TkeVirtualReader *self, const char *argument)
{
  g_auto (GStrv) words = g_strsplit (argument != NULL ? argument : "", " ", -1);
  PullMoment moment = PULL_NONE;
  guint8 header[2] = { 0, 0 };

  if (g_strv_length (words) == 1 && g_str_equal (words[0], "none"))
    moment = PULL_NONE;
  else if (g_strv_length (words) == 3 && strlen (words[0]) == 2 && strlen (words[1]) == 2 &&
           g_ascii_isxdigit (words[0][0]) && g_ascii_isxdigit (words[0][1]) &&
           g_ascii_isxdigit (words[1][0]) && g_ascii_isxdigit (words[1][1]) &&
           (g_str_equal (words[2], "before") || g_str_equal (words[2], "after")))
    {
      for (guint i = 0; i < 2; i++)
        header[i] =
            (guint8) (g_ascii_xdigit_value (words[i][0]) << 4 | g_ascii_xdigit_value (words[i][1]));
      moment = g_str_equal (words[2], "before") ? PULL_BEFORE : PULL_AFTER;
    }
  else
    return g_strdup ("error pull-on takes CLA INS before|after (hex bytes) or none");
  g_mutex_lock (&self->lock);
  self->pull = moment;
  self->pull_cla = header[0];
  self->pull_ins = header[1];
  g_mutex_unlock (&self->lock);
  return g_strdup ("ok");
}

static char *
run_command (TkeVirtualReader *self, char *line)
{
  char *argument = strchr (line, ' ');
  g_autoptr (GError) error = NULL;

  if (argument != NULL)
    *argument++ = '\0';
  if (g_str_equal (line, "insert") && argument != NULL)
    {
      if (!tke_virtual_reader_insert (self, argument, &error))
        return g_strdup_printf ("error %s", error->message);
      g_message ("Reader %u: card %s inserted", self->number, argument);
      return g_strdup ("ok");
    }
  if (g_str_equal (line, "remove"))
    return remove_card (self);
  if (g_str_equal (line, "keys") && argument != NULL)
    return press_keys (self, argument);
  if (g_str_equal (line, "key"))
    return press_digit (self, argument);
  if (g_str_equal (line, "ok"))
    return press (self, KEYPAD_KEYS, NULL);
  if (g_str_equal (line, "clear"))
    return press_clear (self);
  if (g_str_equal (line, "cancel"))
    return press (self, KEYPAD_CANCELLED, NULL);
  if (g_str_equal (line, "timeout"))
    return press (self, KEYPAD_TIMED_OUT, NULL);
  if (g_str_equal (line, "wait-prompt"))
    return wait_prompt (self, argument);
  if (g_str_equal (line, "status"))
    return status (self);
  if (g_str_equal (line, "counters"))
    return counters (self);
  if (g_str_equal (line, "misbehave"))
    return set_misbehaviour (self, argument);
  if (g_str_equal (line, "pull-on"))
    return set_pull (self, argument);
  return g_strdup ("error unknown command; try insert PATH, remove, keys DIGITS, key D, ok, "
                   "clear, cancel, timeout, wait-prompt [MS], status, counters, misbehave or "
                   "pull-on");
}

typedef struct
{
  TkeVirtualReader *reader;
  int fd;
} ControlClient;

static gpointer
control_client_thread (gpointer data)
{
  ControlClient *client = data;
  char line[MAX_LINE];
  gsize used = 0;

  for (;;)
    {
      guint8 c;
      g_autofree char *answer = NULL;
      g_autofree char *reply = NULL;

      if (!io_all (client->fd, &c, 1, FALSE))
        break;
      if (c != '\n')
        {
          if (used + 1 < sizeof line)
            line[used++] = (char) c;
          continue;
        }
      if (used > 0 && line[used - 1] == '\r')
        used--;
      line[used] = '\0';
      answer = run_command (client->reader, line);
      OPENSSL_cleanse (line, sizeof line); /* `keys` carried a PIN */
      used = 0;
      reply = g_strconcat (answer, "\n", NULL);
      if (!io_all (client->fd, (guint8 *) reply, strlen (reply), TRUE))
        break;
    }
  close (client->fd);
  g_object_unref (client->reader);
  g_free (client);
  return NULL;
}

static gpointer
control_thread (gpointer data)
{
  TkeVirtualReader *self = data;

  for (;;)
    {
      ControlClient *client;
      int fd = accept4 (self->control_fd, NULL, NULL, SOCK_CLOEXEC);

      if (fd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          break;
        }
      client = g_new0 (ControlClient, 1);
      client->reader = g_object_ref (self);
      client->fd = fd;
      g_thread_unref (g_thread_new ("tke-control-client", control_client_thread, client));
    }
  return NULL;
}

TkeVirtualReader *
tke_virtual_reader_new (guint number, const char *state_dir, TkeSecret *chip_key, GError **error)
{
  g_autoptr (TkeVirtualReader) self = g_object_new (TKE_TYPE_VIRTUAL_READER, NULL);
  g_autofree char *link_name = g_strdup_printf ("reader%u.link", number);
  g_autofree char *control_name = g_strdup_printf ("reader%u.ctl", number);

  self->number = number;
  self->chip_key = tke_secret_ref (chip_key);
  self->link_path = g_build_filename (state_dir, link_name, NULL);
  self->control_path = g_build_filename (state_dir, control_name, NULL);
  if ((self->link_fd = listen_unix (self->link_path, error)) < 0 ||
      (self->control_fd = listen_unix (self->control_path, error)) < 0)
    return NULL;
  /* The threads live as long as the process. */
  g_thread_unref (g_thread_new ("tke-reader-link", link_thread, g_object_ref (self)));
  g_thread_unref (g_thread_new ("tke-reader-control", control_thread, g_object_ref (self)));
  return g_steal_pointer (&self);
}

const char *
tke_virtual_reader_get_link_path (TkeVirtualReader *self)
{
  return self->link_path;
}

const char *
tke_virtual_reader_get_control_path (TkeVirtualReader *self)
{
  return self->control_path;
}

void
tke_virtual_reader_unlink (TkeVirtualReader *self)
{
  unlink (self->link_path);
  unlink (self->control_path);
}
