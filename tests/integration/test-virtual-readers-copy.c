/* test-virtual-readers-copy.c: IMPORT COPY only from a card of the same zone, through pcscd
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Part of test-virtual-readers (card-protocol.md §4.11): the host plays a
 * forged sending card against a real card in a virtual reader.
 */

#include <string.h>

#include "virtual-readers-common.h"

#define SERIAL_SIZE 8
#define ZONE_SIZE 8
#define POINT_SIZE 133

/* The host's forger: a key pair and a serial of its choosing. */
typedef struct
{
  EVP_PKEY *key;
  GBytes *point;
  guint8 serial[SERIAL_SIZE];
} Forger;

static void
forger_init (Forger *f)
{
  g_autoptr (GError) error = NULL;

  f->key = tke_crypto_ec_generate (&error);
  g_assert_no_error (error);
  f->point = tke_crypto_ec_public_point (f->key, &error);
  g_assert_no_error (error);
  g_assert_true (tke_crypto_random_bytes (f->serial, sizeof f->serial, &error));
}

static void
forger_clear (Forger *f)
{
  g_clear_pointer (&f->key, EVP_PKEY_free);
  g_clear_pointer (&f->point, g_bytes_unref);
}

static GBytes *
concat (const char *context,
        const guint8 *a,
        gsize a_size,
        const guint8 *b,
        gsize b_size,
        const guint8 *c,
        gsize c_size)
{
  GByteArray *m = g_byte_array_new ();

  g_byte_array_append (m, (const guint8 *) context, (guint) strlen (context));
  g_byte_array_append (m, a, (guint) a_size);
  g_byte_array_append (m, b, (guint) b_size);
  g_byte_array_append (m, c, (guint) c_size);
  return g_byte_array_free_to_bytes (m);
}

/* A copy of a 32-byte part the host chose, sealed to TARGET's transport key
 * and framed as EXPORT FOR COPY frames it, "from" SERIAL with POINT and
 * CERTIFICATE, signed with SIGNER. */
static GBytes *
forge_copy (GBytes *target_certificate,
            const guint8 *serial,
            GBytes *point,
            const guint8 *certificate,
            gsize certificate_size,
            EVP_PKEY *signer)
{
  g_autoptr (GError) error = NULL;
  const guint8 *target = g_bytes_get_data (target_certificate, NULL);
  const guint8 *zone = target + SERIAL_SIZE;
  g_autoptr (EVP_PKEY) target_key =
      tke_crypto_ec_public_key_from_point (zone + ZONE_SIZE, POINT_SIZE, &error);
  g_autoptr (TkeSecret) part = tke_secret_new_random (32, &error);
  const char *description = "Planted";
  guint8 item_and_size[2] = { 7, (guint8) strlen (description) };
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GByteArray) copy = g_byte_array_new ();
  guint8 n[2];

  g_assert_no_error (error);
  {
    g_autoptr (GByteArray) a = g_byte_array_new ();

    g_byte_array_append (a, serial, SERIAL_SIZE);
    g_byte_array_append (a, target, SERIAL_SIZE);
    g_byte_array_append (a, item_and_size, 1);
    g_byte_array_append (a, (const guint8 *) description, item_and_size[1]);
    aad = concat ("tke copy v1", a->data, a->len, NULL, 0, NULL, 0);
  }
  sealed = tke_crypto_seal (target_key, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad), part,
                            &error);
  g_assert_no_error (error);
  g_byte_array_append (copy, serial, SERIAL_SIZE);
  g_byte_array_append (copy, item_and_size, 2);
  g_byte_array_append (copy, (const guint8 *) description, item_and_size[1]);
  g_byte_array_append (copy, g_bytes_get_data (point, NULL), POINT_SIZE);
  n[0] = (guint8) certificate_size;
  g_byte_array_append (copy, n, 1);
  g_byte_array_append (copy, certificate, (guint) certificate_size);
  n[0] = (guint8) (g_bytes_get_size (sealed) >> 8);
  n[1] = (guint8) g_bytes_get_size (sealed);
  g_byte_array_append (copy, n, 2);
  g_byte_array_append (copy, g_bytes_get_data (sealed, NULL), (guint) g_bytes_get_size (sealed));
  message = concat ("tke copy sig v1", zone, ZONE_SIZE, copy->data, copy->len, NULL, 0);
  signature = tke_crypto_sign (signer, g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                               &error);
  g_assert_no_error (error);
  g_byte_array_append (copy, g_bytes_get_data (signature, NULL),
                       (guint) g_bytes_get_size (signature));
  return g_byte_array_free_to_bytes (g_steal_pointer (&copy));
}

static guint
import_copy (Session *s, GBytes *copy)
{
  g_autoptr (GBytes) answer = NULL;
  guint sw = 0;

  answer =
      command (s, 0x80, 0x66, 0, 0, g_bytes_get_data (copy, NULL), g_bytes_get_size (copy), &sw);
  return sw;
}

static gsize
key_part_count (Session *s)
{
  guint sw = 0;
  g_autoptr (GBytes) indexes = command (s, 0x80, 0x52, 0, 0, NULL, 0, &sw);

  g_assert_cmphex (sw, ==, 0x9000);
  return g_bytes_get_size (indexes);
}

/* Issue 12: after one PIN on the target card, the host could plant a key
 * part of its choosing (or its own signature key): IMPORT COPY opened
 * whatever was sealed to the target's public transport key.  It now takes a
 * copy only from a card whose transport key the zone's CA certified and
 * which signed the copy with it.  Through pcscd: a self-made sender, a
 * sender borrowing a genuine card's public certificate, a sender certified
 * by another zone's CA, and a tampered genuine copy are refused and plant
 * nothing; the genuine copy is stored. */
static void
test_import_copy_forged_sender (Scene *scene, gconstpointer user_data)
{
  Session target, source, other_ca;
  Forger forger;
  g_autoptr (GBytes) target_cert = NULL;
  g_autoptr (GBytes) source_cert = NULL;
  g_autoptr (GBytes) genuine = NULL;
  g_autoptr (GBytes) forged = NULL;
  g_autoptr (GBytes) self_cert = NULL;
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GBytes) other_zone_cert = NULL;
  g_autoptr (GByteArray) request = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  const guint8 *zone;
  const guint8 *c;
  guint8 *tampered;
  gsize size;
  guint sw = 0;

  forger_init (&forger);
  insert (1, "parts2.card");
  session_open (&target, 1);
  target_cert = command (&target, 0x80, 0x62, 0, 0, NULL, 0, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  zone = (const guint8 *) g_bytes_get_data (target_cert, NULL) + SERIAL_SIZE;
  g_assert_cmphex (verify_with (&target, 1, "keys 333333"), ==, 0x9000);
  g_assert_cmpuint (key_part_count (&target), ==, 0);

  /* A self-made sender: its own key, a "certificate" it signed itself. */
  message = concat ("tke zone cert v1", zone, ZONE_SIZE, forger.serial, SERIAL_SIZE,
                    g_bytes_get_data (forger.point, NULL), POINT_SIZE);
  self_cert = tke_crypto_sign (forger.key, g_bytes_get_data (message, NULL),
                               g_bytes_get_size (message), &error);
  g_assert_no_error (error);
  forged = forge_copy (target_cert, forger.serial, forger.point, g_bytes_get_data (self_cert, NULL),
                       g_bytes_get_size (self_cert), forger.key);
  g_assert_cmphex (import_copy (&target, forged), ==, 0x6984);
  g_clear_pointer (&forged, g_bytes_unref);

  /* A genuine card's public certificate (GET CERTIFICATE needs no PIN),
   * but the copy signed by the host. */
  session_open (&source, 2);
  source_cert = command (&source, 0x80, 0x62, 0, 0, NULL, 0, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  c = g_bytes_get_data (source_cert, &size);
  {
    g_autoptr (GBytes) source_point = g_bytes_new (c + SERIAL_SIZE + ZONE_SIZE, POINT_SIZE);
    gsize fixed = SERIAL_SIZE + ZONE_SIZE + POINT_SIZE;

    forged = forge_copy (target_cert, c, source_point, c + fixed, size - fixed, forger.key);
  }
  g_assert_cmphex (import_copy (&target, forged), ==, 0x6A80);
  g_clear_pointer (&forged, g_bytes_unref);

  /* The genuine copy, tampered with on its way, then as it is. */
  g_assert_cmphex (verify_with (&source, 2, "keys 222222"), ==, 0x9000);
  genuine = command (&source, 0x80, 0x64, 1, 0, g_bytes_get_data (target_cert, NULL),
                     g_bytes_get_size (target_cert), &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  session_close (&source);
  tampered = g_memdup2 (g_bytes_get_data (genuine, NULL), g_bytes_get_size (genuine));
  size = g_bytes_get_size (genuine);
  tampered[size - 160] ^= 0x01; /* in the sealed part */
  forged = g_bytes_new_take (tampered, size);
  g_assert_cmphex (import_copy (&target, forged), ==, 0x6A80);
  g_clear_pointer (&forged, g_bytes_unref);

  /* A sender certified by another zone's CA (both its PINs typed). */
  insert (2, "ca2.card");
  session_open (&other_ca, 2);
  g_assert_cmphex (verify_ref_with (&other_ca, 2, 0x81, "keys 444444"), ==, 0x9000);
  g_assert_cmphex (verify_ref_with (&other_ca, 2, 0x82, "keys 555555"), ==, 0x9000);
  g_byte_array_append (request, forger.serial, SERIAL_SIZE);
  g_byte_array_append (request, g_bytes_get_data (forger.point, NULL), POINT_SIZE);
  other_zone_cert = command (&other_ca, 0x80, 0x68, 0, 0, request->data, request->len, &sw);
  g_assert_cmphex (sw, ==, 0x9000);
  session_close (&other_ca);
  c = g_bytes_get_data (other_zone_cert, &size);
  {
    gsize fixed = ZONE_SIZE + POINT_SIZE + 1 + c[ZONE_SIZE + POINT_SIZE];

    forged =
        forge_copy (target_cert, forger.serial, forger.point, c + fixed, size - fixed, forger.key);
  }
  g_assert_cmphex (import_copy (&target, forged), ==, 0x6984);
  g_assert_cmpuint (key_part_count (&target), ==, 0); /* nothing planted */

  g_assert_cmphex (import_copy (&target, genuine), ==, 0x9000);
  g_assert_cmpuint (key_part_count (&target), ==, 1);
  session_close (&target);
  forger_clear (&forger);
}

void
add_copy_tests (void)
{
  add_scene_test ("/card/import-copy-forged-sender", test_import_copy_forged_sender);
}
