/* tke-card-key-part-source.c: a master key part on a card in reader 2
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A TkeKeyPartSource for the ceremonies.  Loading waits for a key part
 * card in reader 2 (prompting for it) and reads the part's description and
 * check value from the card's list; from then on the source belongs to that
 * card (its serial), so a load that swaps cards between parts cannot seal
 * the wrong one.  Sealing has the card seal the part to the unit's importer
 * key with the given associated data after the PIN is typed on the PIN pad;
 * the part never leaves the card in clear.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tke-card-key-part-source.h"
#include "tke-card-session-private.h"
#include "tke-enum-types.h"
#include "tke-error.h"
#include "tke-importer-proof-private.h"
#include "tke-key-part-source.h"

#define READER_INDEX 2

/**
 * TkeCardKeyPartSource:
 *
 * A #TkeKeyPartSource with a master key part on a card in reader 2.
 *
 * Loading waits for the card (prompting for it with
 * #TkeCardKeyPartSource::prompt) and reads the part's description and check
 * value from the card; from then on the source belongs to that card (its
 * serial), so that a load that swaps cards between parts cannot seal the
 * wrong one. Sealing has the card seal the part to the unit's importer key
 * after the PIN is typed on the PIN pad: the part never leaves the card in
 * clear.
 */
struct _TkeCardKeyPartSource
{
  GObject parent_instance;

  TkeCardSession session;
  guint index; /* 0: the card's only part, until loaded */
  char *serial;
  char *description;
  char *check_value;
  GPtrArray *group; /* sources that must take different parts; not owned */
};

static void tke_card_key_part_source_iface_init (TkeKeyPartSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TkeCardKeyPartSource,
                               tke_card_key_part_source,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TKE_TYPE_KEY_PART_SOURCE,
                                                      tke_card_key_part_source_iface_init))

enum
{
  SIGNAL_PROMPT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  TkeImporterProof *proof;
  guint part_number;
  guint n_parts;
} SealData;

static void
seal_data_free (gpointer data)
{
  SealData *d = data;

  g_clear_pointer (&d->proof, _tke_importer_proof_free);
  g_free (d);
}

/* ---- Load: the card, the part's description and check value ---- */

static const TkeCardKeyPart *
find_part (TkeCardKeyPartSource *self, GPtrArray *parts, GError **error)
{
  if (self->index == 0 && parts->len == 1)
    return g_ptr_array_index (parts, 0);
  if (self->index == 0)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("The card in reader %d holds %u key parts: say which one."), READER_INDEX,
                   parts->len);
      return NULL;
    }
  for (guint i = 0; i < parts->len; i++)
    {
      const TkeCardKeyPart *part = g_ptr_array_index (parts, i);

      if (part->index == self->index)
        return part;
    }
  g_set_error (error, TKE_ERROR, TKE_ERROR_NOT_FOUND,
               _ ("The card in reader %d holds no key part %u."), READER_INDEX, self->index);
  return NULL;
}

/* Another source of the group already takes this part of this card. */
static gboolean
taken_by_sibling (TkeCardKeyPartSource *self, const char *serial, guint index)
{
  for (guint i = 0; self->group != NULL && i < self->group->len; i++)
    {
      TkeCardKeyPartSource *other = g_ptr_array_index (self->group, i);

      if (other != self && other->index == index && g_strcmp0 (other->serial, serial) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
take_part (TkeCardKeyPartSource *self, TkeCard *card, const TkeCardKeyPart *part)
{
  self->index = part->index;
  self->serial = g_strdup (tke_card_get_serial (card));
  self->description = g_strdup (part->description);
  self->check_value = g_strdup (part->check_value);
}

static void card_opened (GObject *source, GAsyncResult *result, gpointer user_data);

static void
listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeCardKeyPartSource *self = g_task_get_source_object (task);
  TkeCard *card = TKE_CARD (source);
  GError *error = NULL;
  g_autoptr (GPtrArray) parts = tke_card_list_key_parts_finish (card, result, &error);
  const char *serial = tke_card_get_serial (card);
  const TkeCardKeyPart *part = NULL;
  g_autofree char *text = NULL;

  if (parts != NULL && self->serial != NULL && g_strcmp0 (self->serial, serial) != 0)
    text = g_strdup_printf (_ ("Insert the key part card with “%s” in reader %d"),
                            self->description, READER_INDEX);
  else if (parts != NULL && (part = find_part (self, parts, &error)) != NULL &&
           self->serial == NULL && taken_by_sibling (self, serial, part->index))
    text = g_strdup_printf (_ ("Insert the next key part card in reader %d"), READER_INDEX);
  if (text != NULL)
    {
      _tke_card_session_next_card_async (&self->session, text, g_task_get_cancellable (task),
                                         card_opened, task);
      return;
    }
  if (part != NULL && self->serial != NULL && g_strcmp0 (self->check_value, part->check_value) != 0)
    g_set_error (&error, TKE_ERROR, TKE_ERROR_INTEGRITY,
                 _ ("Key part %u on the card in reader %d changed since it was read."), part->index,
                 READER_INDEX);
  if (part == NULL || error != NULL)
    {
      _tke_card_session_forget (&self->session);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (self->serial == NULL)
    take_part (self, card, part);
  g_task_return_pointer (task, g_object_ref (card), g_object_unref);
  g_object_unref (task);
}

static void
card_opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TkeCardKeyPartSource *self = g_task_get_source_object (task);
  GError *error = NULL;
  g_autoptr (TkeCard) card = _tke_card_session_open_finish (&self->session, result, &error);

  if (card != NULL && tke_card_get_card_type (card) != TKE_CARD_TYPE_EP11)
    {
      _tke_card_session_forget (&self->session);
      g_set_error (&error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("The card in reader %d is a CA card, not a key part card."), READER_INDEX);
      g_clear_object (&card);
    }
  if (card == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  tke_card_list_key_parts_async (card, g_task_get_cancellable (task), listed, task);
}

/* Completes with the card (a TkeCard) that holds the part. */
static void
load (TkeCardKeyPartSource *self,
      GCancellable *cancellable,
      GAsyncReadyCallback callback,
      gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, load);
  _tke_card_session_open_async (&self->session, cancellable, card_opened, task);
}

/**
 * tke_card_key_part_source_load_async:
 * @self: a source
 * @cancellable: (nullable): stops the wait for the card
 * @callback: callback
 * @user_data: for @callback
 *
 * Waits for the key part card (emitting #TkeCardKeyPartSource::prompt with
 * %TKE_CARD_PROMPT_INSERT_CARD if it is not in the reader) and reads the
 * part's description and check value, so that its holder can confirm them
 * before the part is sealed.  No PIN is needed for this.
 */
void
tke_card_key_part_source_load_async (TkeCardKeyPartSource *self,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_return_if_fail (TKE_IS_CARD_KEY_PART_SOURCE (self));
  load (self, cancellable, callback, user_data);
}

/**
 * tke_card_key_part_source_load_finish:
 * @self: a source
 * @result: the result
 * @error: return location for a #GError
 *
 * Returns: %TRUE once the key part card was read, %FALSE with @error set
 */
gboolean
tke_card_key_part_source_load_finish (TkeCardKeyPartSource *self,
                                      GAsyncResult *result,
                                      GError **error)
{
  g_autoptr (TkeCard) card = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  card = g_task_propagate_pointer (G_TASK (result), error);
  return card != NULL;
}

/* ---- TkeKeyPartSource ---- */

static const char *
source_get_description (TkeKeyPartSource *source)
{
  return TKE_CARD_KEY_PART_SOURCE (source)->description;
}

static const char *
source_get_check_value (TkeKeyPartSource *source)
{
  return TKE_CARD_KEY_PART_SOURCE (source)->check_value;
}

static void
exported (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCardKeyPartSource *self = g_task_get_source_object (task);
  GError *error = NULL;
  GBytes *sealed = tke_card_export_key_part_finish (TKE_CARD (source), result, &error);

  if (sealed == NULL)
    {
      if (g_error_matches (error, TKE_ERROR, TKE_ERROR_CARD_REMOVED))
        _tke_card_session_forget (&self->session);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, sealed, (GDestroyNotify) g_bytes_unref);
}

static void
loaded_for_seal (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TkeCardKeyPartSource *self = TKE_CARD_KEY_PART_SOURCE (source);
  SealData *d = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (TkeCard) card = g_task_propagate_pointer (G_TASK (result), &error);

  if (card == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  tke_card_export_key_part_async (card, self->index, d->part_number, d->n_parts, d->proof->hsm_id,
                                  d->proof->unit_certificates, d->proof->importer_certificate,
                                  g_task_get_cancellable (task), exported, g_object_ref (task));
}

/* The card builds the associated data itself from the unit's verified
 * certificate; the ceremony's must be the same
 * "tke-keypart-v1|{hsm_id}|new|{i}|{n}", else the card cannot seal this. */
static gboolean
parse_associated_data (GBytes *associated_data, SealData *d, GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;
  guint64 i = 0, n = 0;
  gsize size = 0;
  const char *data = associated_data ? g_bytes_get_data (associated_data, &size) : NULL;

  if (data != NULL && memchr (data, '\0', size) == NULL)
    {
      text = g_strndup (data, size);
      fields = g_strsplit (text, "|", -1);
    }
  if (fields == NULL || g_strv_length (fields) != 5 ||
      g_strcmp0 (fields[0], "tke-keypart-v1") != 0 ||
      g_strcmp0 (fields[1], d->proof->hsm_id) != 0 || g_strcmp0 (fields[2], "new") != 0 ||
      !g_ascii_string_to_unsigned (fields[3], 10, 1, 255, &i, NULL) ||
      !g_ascii_string_to_unsigned (fields[4], 10, 1, 255, &n, NULL) || i > n)
    {
      g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                   _ ("A card seals a key part only as part i of n of a new master key for the "
                      "crypto unit whose importer key it is."));
      return FALSE;
    }
  d->part_number = (guint) i;
  d->n_parts = (guint) n;
  return TRUE;
}

static void
source_seal_async (TkeKeyPartSource *source,
                   GBytes *importer_public_key,
                   GBytes *associated_data,
                   GCancellable *cancellable,
                   GAsyncReadyCallback callback,
                   gpointer user_data)
{
  TkeCardKeyPartSource *self = TKE_CARD_KEY_PART_SOURCE (source);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  SealData *d = g_new0 (SealData, 1);
  GError *error = NULL;

  g_task_set_source_tag (task, source_seal_async);
  g_task_set_task_data (task, d, seal_data_free);
  d->proof = _tke_importer_proof_lookup (importer_public_key);
  if (d->proof == NULL)
    {
      g_task_return_new_error (task, TKE_ERROR, TKE_ERROR_UNIT_NOT_AUTHENTIC,
                               _ ("No crypto unit proved this importer key with a signed answer, "
                                  "so the card in reader %d does not seal a key part to it."),
                               READER_INDEX);
      return;
    }
  if (!parse_associated_data (associated_data, d, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  load (self, cancellable, loaded_for_seal, g_steal_pointer (&task));
}

static GBytes *
source_seal_finish (TkeKeyPartSource *source, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, source), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
tke_card_key_part_source_iface_init (TkeKeyPartSourceInterface *iface)
{
  iface->get_description = source_get_description;
  iface->get_check_value = source_get_check_value;
  iface->seal_async = source_seal_async;
  iface->seal_finish = source_seal_finish;
}

/* ---- GObject ---- */

static void
tke_card_key_part_source_finalize (GObject *object)
{
  TkeCardKeyPartSource *self = TKE_CARD_KEY_PART_SOURCE (object);

  if (self->group != NULL)
    {
      g_ptr_array_remove (self->group, self);
      g_ptr_array_unref (self->group);
    }
  _tke_card_session_clear (&self->session);
  g_free (self->serial);
  g_free (self->description);
  g_free (self->check_value);
  G_OBJECT_CLASS (tke_card_key_part_source_parent_class)->finalize (object);
}

static void
tke_card_key_part_source_class_init (TkeCardKeyPartSourceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tke_card_key_part_source_finalize;

  /**
   * TkeCardKeyPartSource::prompt:
   * @source: the source
   * @kind: what the person must do
   * @message: the text to show or print, translated
   *
   * Emitted when the person must do something at reader 2:
   * %TKE_CARD_PROMPT_INSERT_CARD: "Insert the key part card in reader 2";
   * %TKE_CARD_PROMPT_ENTER_PIN: "Enter the PIN of the key part card on the
   * PIN pad of reader 2".  The PIN entry cannot be cancelled from the host.
   */
  signals[SIGNAL_PROMPT] =
      g_signal_new ("prompt", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, TKE_TYPE_CARD_PROMPT, G_TYPE_STRING);
}

static void
tke_card_key_part_source_init (TkeCardKeyPartSource *self)
{
}

/**
 * tke_card_key_part_source_new:
 * @reader_prefix: (nullable): the name prefix of reader 2, %NULL for
 *   tke_reader_default_prefix(2)
 * @index: the part's index on the card (1–85), or 0 for the card's only part
 *
 * Creates a source for a part on whichever key part card is put in reader 2.
 *
 * Returns: (transfer full): a key part source for a card in reader 2
 */
TkeCardKeyPartSource *
tke_card_key_part_source_new (const char *reader_prefix, guint index)
{
  TkeCardKeyPartSource *self = g_object_new (TKE_TYPE_CARD_KEY_PART_SOURCE, NULL);
  g_autofree char *insert =
      g_strdup_printf (_ ("Insert the key part card in reader %d"), READER_INDEX);
  g_autofree char *pin = g_strdup_printf (
      _ ("Enter the PIN of the key part card on the PIN pad of reader %d"), READER_INDEX);

  self->index = index;
  _tke_card_session_init (&self->session, G_OBJECT (self), signals[SIGNAL_PROMPT], READER_INDEX,
                          reader_prefix, insert, pin);
  return self;
}

/**
 * tke_card_key_part_source_new_for_card:
 * @card: the key part card in reader 2, its PIN verified by the caller
 *   (tke_card_verify_pin_async())
 * @index: the part's index on the card (1–85)
 *
 * Creates a source for a part of @card that works with that very handle,
 * so the PIN the caller had typed before listing the parts seals the part
 * without a second entry.  The card's login stays the caller's: it ends
 * with tke_card_key_part_source_log_out() (a ceremony ending) or the
 * caller's tke_card_log_out_async(); a source merely dropped leaves it.
 * Removed, the card is waited for again and asks for its PIN.
 *
 * Returns: (transfer full): a key part source for a part of @card
 */
TkeCardKeyPartSource *
tke_card_key_part_source_new_for_card (TkeCard *card, guint index)
{
  TkeCardKeyPartSource *self;

  g_return_val_if_fail (TKE_IS_CARD (card), NULL);
  g_return_val_if_fail (tke_card_get_reader_index (card) == READER_INDEX, NULL);
  self = tke_card_key_part_source_new (NULL, index);
  _tke_card_session_lend (&self->session, card);
  return self;
}

/**
 * tke_card_key_part_source_log_out:
 * @self: a source
 *
 * The ceremony ended: logs the card out (tke_card_log_out_async()) and
 * lets go of it.  A later seal waits for the card again and asks for its
 * PIN.  #TkeCeremony calls this for its key parts when it ends.
 */
void
tke_card_key_part_source_log_out (TkeCardKeyPartSource *self)
{
  g_return_if_fail (TKE_IS_CARD_KEY_PART_SOURCE (self));
  _tke_card_session_log_out (&self->session);
}

/**
 * tke_card_key_part_source_new_group:
 * @reader_prefix: (nullable): the name prefix of reader 2, %NULL for
 *   tke_reader_default_prefix(2)
 * @indexes: (array length=n_sources): each part's index on its card, or 0
 *   for a card's only part
 * @n_sources: how many parts
 *
 * Key part sources for a load from several cards that take turns in
 * reader 2: no two sources take the same part of the same card; when the
 * card in the reader is not the one a source needs, it prompts ("Insert
 * the next key part card in reader 2" or "Insert the key part card with
 * “DESCRIPTION” in reader 2") and waits until the person swaps the cards.
 *
 * Returns: (transfer full) (element-type TkeCardKeyPartSource): the sources
 */
GPtrArray *
tke_card_key_part_source_new_group (const char *reader_prefix,
                                    const guint *indexes,
                                    guint n_sources)
{
  GPtrArray *sources = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *group = g_ptr_array_new ();

  for (guint i = 0; i < n_sources; i++)
    {
      TkeCardKeyPartSource *source = tke_card_key_part_source_new (reader_prefix, indexes[i]);

      source->group = g_ptr_array_ref (group);
      g_ptr_array_add (group, source);
      g_ptr_array_add (sources, source);
    }
  g_ptr_array_unref (group);
  return sources;
}

/**
 * tke_card_key_part_source_get_index:
 * @self: a source
 *
 * Returns: the part's index on its card
 */
guint
tke_card_key_part_source_get_index (TkeCardKeyPartSource *self)
{
  g_return_val_if_fail (TKE_IS_CARD_KEY_PART_SOURCE (self), 0);
  return self->index;
}

/**
 * tke_card_key_part_source_get_serial:
 * @self: a source
 *
 * The card the source belongs to once loaded.
 *
 * Returns: (nullable): the serial of the card that holds the part, once loaded
 */
const char *
tke_card_key_part_source_get_serial (TkeCardKeyPartSource *self)
{
  g_return_val_if_fail (TKE_IS_CARD_KEY_PART_SOURCE (self), NULL);
  return self->serial;
}

/**
 * tke_card_key_part_source_get_card:
 * @self: a source
 *
 * The card the source works with while it is open.
 *
 * Returns: (transfer none) (nullable): the open card, if any
 */
TkeCard *
tke_card_key_part_source_get_card (TkeCardKeyPartSource *self)
{
  g_return_val_if_fail (TKE_IS_CARD_KEY_PART_SOURCE (self), NULL);
  return self->session.card;
}

/**
 * tke_card_key_part_source_set_pin_timeout:
 * @self: a source
 * @seconds: how long the PIN pad waits (0: the reader's default)
 *
 * Sets the PIN pad time-out of the next PIN entries.
 */
void
tke_card_key_part_source_set_pin_timeout (TkeCardKeyPartSource *self, guint seconds)
{
  g_return_if_fail (TKE_IS_CARD_KEY_PART_SOURCE (self));
  _tke_card_session_set_pin_timeout (&self->session, seconds);
}
