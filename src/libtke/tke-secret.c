/* tke-secret.c: key material that lives in OpenSSL's secure heap
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Master keys, key parts, private keys in PEM and derived keys are only
 * ever held in a TkeSecret.  The bytes sit in OpenSSL's secure heap
 * (mlock'ed, guarded, never swapped where the kernel allows it) and are
 * cleansed when the last reference goes away, so no copy of a key is left
 * behind in ordinary heap memory that a core dump or swap would show.
 */

#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <glib/gi18n-lib.h>

#include "tke-error.h"
#include "tke-secret.h"

/* Big enough for every key a ceremony holds at once (a few 32-byte keys
 * and P-521 private keys in PEM), small enough for RLIMIT_MEMLOCK. */
#define SECURE_HEAP_SIZE (256 * 1024)
#define SECURE_HEAP_MIN_ALLOCATION 16

/**
 * TkeSecret:
 *
 * Key material in secure memory.
 *
 * Master keys, key parts, private keys in PEM and derived keys are only ever
 * held in a #TkeSecret. The bytes sit in OpenSSL's secure heap (locked in
 * memory, never swapped where the kernel allows it) and are cleansed when the
 * last reference goes, so that no copy of a key stays behind in ordinary
 * memory that a core dump or swap would show.
 */
struct _TkeSecret
{
  guint8 *data;
  gsize size;
};

G_DEFINE_BOXED_TYPE (TkeSecret, tke_secret, tke_secret_ref, tke_secret_unref)

static void
ensure_secure_heap (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      /* Returns 0 when the heap cannot be made; OpenSSL then falls back
       * to its ordinary allocator, which still cleanses on free. */
      if (!CRYPTO_secure_malloc_initialized ())
        CRYPTO_secure_malloc_init (SECURE_HEAP_SIZE, SECURE_HEAP_MIN_ALLOCATION);
      g_once_init_leave (&initialized, 1);
    }
}

static void
tke_secret_free (TkeSecret *self)
{
  OPENSSL_secure_clear_free (self->data, self->size);
}

static TkeSecret *
secret_alloc (gsize size)
{
  TkeSecret *self;
  guint8 *data;

  ensure_secure_heap ();

  /* A secret larger than the whole heap could never be secure. */
  data = size <= SECURE_HEAP_SIZE ? OPENSSL_secure_zalloc (size) : NULL;
  if (data == NULL)
    return NULL;
  self = g_atomic_rc_box_new0 (TkeSecret);
  self->data = data;
  self->size = size;
  return self;
}

/**
 * tke_secret_new:
 * @size: the number of bytes, at least 1
 *
 * Creates a secret for code that fills it in place.
 *
 * Returns: (transfer full): a zero-filled secret of @size bytes
 */
TkeSecret *
tke_secret_new (gsize size)
{
  TkeSecret *self;

  g_return_val_if_fail (size > 0, NULL);

  self = secret_alloc (size);
  if (self != NULL)
    return self;
  g_message ("The secure heap has no room for %" G_GSIZE_FORMAT " bytes; using ordinary memory",
             size);
  self = g_atomic_rc_box_new0 (TkeSecret);
  self->data = OPENSSL_zalloc (size);
  if (self->data == NULL)
    g_error ("Out of memory allocating %" G_GSIZE_FORMAT " bytes", size);
  self->size = size;
  return self;
}

/**
 * tke_secret_try_new:
 * @size: the number of bytes
 * @error: return location for a #GError
 *
 * Like tke_secret_new(), but fails with %TKE_ERROR_CRYPTO when the secure
 * heap has no room for @size bytes, instead of falling back: for sizes
 * that come from input (a file, a request, an answer).
 *
 * Returns: (transfer full) (nullable): a zero-filled secret of @size bytes
 *   in the secure heap, or %NULL
 */
TkeSecret *
tke_secret_try_new (gsize size, GError **error)
{
  TkeSecret *self;

  if (size == 0)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                           _ ("A secret of no bytes was asked for."));
      return NULL;
    }
  self = secret_alloc (size);
  if (self == NULL)
    g_set_error (error, TKE_ERROR, TKE_ERROR_CRYPTO,
                 _ ("There is no room for %lu bytes of key material in the secure memory."),
                 (unsigned long) size);
  return self;
}

/**
 * tke_secret_new_from_data:
 * @data: (array length=size): bytes to copy into secure memory
 * @size: the number of bytes
 *
 * Copies @data into secure memory.
 *
 * The caller stays responsible for cleansing its own copy of @data.
 *
 * Returns: (transfer full): a new secret holding a copy of @data
 */
TkeSecret *
tke_secret_new_from_data (const guint8 *data, gsize size)
{
  TkeSecret *self;

  g_return_val_if_fail (data != NULL, NULL);

  self = tke_secret_new (size);
  memcpy (self->data, data, size);

  return self;
}

/**
 * tke_secret_try_new_from_data:
 * @data: (array length=size): bytes to copy into secure memory
 * @size: the number of bytes
 * @error: return location for a #GError
 *
 * Like tke_secret_new_from_data(), but fails as tke_secret_try_new() does.
 *
 * Returns: (transfer full) (nullable): a new secret holding a copy of @data
 */
TkeSecret *
tke_secret_try_new_from_data (const guint8 *data, gsize size, GError **error)
{
  TkeSecret *self;

  g_return_val_if_fail (data != NULL || size == 0, NULL);

  self = tke_secret_try_new (size, error);
  if (self != NULL)
    memcpy (self->data, data, size);
  return self;
}

/**
 * tke_secret_new_random:
 * @size: the number of bytes
 * @error: return location for a #GError
 *
 * Creates a secret from OpenSSL's random generator, for new keys.
 *
 * Returns: (transfer full): a secret of @size bytes from the DRBG, or %NULL
 */
TkeSecret *
tke_secret_new_random (gsize size, GError **error)
{
  g_autoptr (TkeSecret) self = tke_secret_try_new (size, error);

  if (self == NULL)
    return NULL;
  if (RAND_priv_bytes (self->data, (int) size) != 1)
    {
      g_set_error_literal (error, TKE_ERROR, TKE_ERROR_CRYPTO,
                           _ ("The random number generator failed."));
      return NULL;
    }

  return g_steal_pointer (&self);
}

/**
 * tke_secret_ref:
 * @self: a #TkeSecret
 *
 * Takes a reference.
 *
 * Returns: (transfer full): @self
 */
TkeSecret *
tke_secret_ref (TkeSecret *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_atomic_rc_box_acquire (self);
}

/**
 * tke_secret_unref:
 * @self: (transfer full): a #TkeSecret
 *
 * Drops a reference; the last one cleanses and frees the bytes.
 */
void
tke_secret_unref (TkeSecret *self)
{
  g_return_if_fail (self != NULL);

  g_atomic_rc_box_release_full (self, (GDestroyNotify) tke_secret_free);
}

/**
 * tke_secret_get_data:
 * @self: a #TkeSecret
 *
 * The secret's bytes, for the crypto functions that use them.
 *
 * Returns: (transfer none): the secret's bytes; never copy them to ordinary memory
 */
const guint8 *
tke_secret_get_data (const TkeSecret *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->data;
}

/**
 * tke_secret_get_mutable_data: (skip)
 * @self: a #TkeSecret
 *
 * For code that computes a secret in place (XOR of key parts, a KDF).
 *
 * Returns: (transfer none): the secret's bytes
 */
guint8 *
tke_secret_get_mutable_data (TkeSecret *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->data;
}

/**
 * tke_secret_get_size:
 * @self: a #TkeSecret
 *
 * The number of bytes of the secret.
 *
 * Returns: the size
 */
gsize
tke_secret_get_size (const TkeSecret *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->size;
}

/**
 * tke_secret_equal:
 * @a: a #TkeSecret
 * @b: a #TkeSecret
 *
 * Compares in constant time, so that timing says nothing about where two
 * keys differ.
 *
 * Returns: %TRUE if @a and @b hold the same bytes
 */
gboolean
tke_secret_equal (const TkeSecret *a, const TkeSecret *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  if (a->size != b->size)
    return FALSE;

  return CRYPTO_memcmp (a->data, b->data, a->size) == 0;
}

/**
 * tke_secret_is_secure:
 * @self: a #TkeSecret
 *
 * Whether OpenSSL could make its secure heap; if not (RLIMIT_MEMLOCK too
 * small) the bytes are in ordinary memory, still cleansed when freed.
 *
 * Returns: %TRUE if the bytes live in the secure heap (not a fallback)
 */
gboolean
tke_secret_is_secure (const TkeSecret *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return CRYPTO_secure_allocated (self->data) == 1;
}
