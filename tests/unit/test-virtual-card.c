/* test-virtual-card.c: every APDU handler of the virtual card applet on short and missing data
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The applet answers APDUs from any PC/SC client.  Each instruction gets a
 * case 1 APDU (no data, no Le), a case 2 APDU (Le only) and data fields of
 * every length up to 300 bytes (chained beyond 255), with every P1 the
 * applet knows: every answer must be a well-formed R-APDU, and instructions
 * that need data refuse it with 67 00.  Issue 19: EXPORT FOR COPY without
 * data computed c->data + 8 with c->data NULL (undefined behaviour that
 * clang's -fsanitize=pointer-overflow reports); every handler now indexes
 * the data only after checking its length.
 */

#include <string.h>

#include <glib/gstdio.h>
#include <tke.h>

#include "tke-virtual-card.h"

#define PIN "123456"

static const guint8 instructions[] = { 0x20, 0x24, 0x84, 0x2C, 0x2A, 0xCA, 0x2E, 0x46, 0x48,
                                       0x50, 0x52, 0x54, 0x56, 0x62, 0x64, 0x66, 0x68, 0xC0 };
static const guint8 p1s[] = { 0x00, 0x01, 0x02, 0x04, 0x9E };

typedef struct
{
  char *dir;
  TkeSecret *chip_key;
  TkeVirtualCard *card;
} Fixture;

static guint
send (TkeVirtualCard *card, const guint8 *apdu, gsize size)
{
  g_autoptr (GBytes) r = tke_virtual_card_transmit (card, apdu, size);
  gsize n = 0;
  const guint8 *data = g_bytes_get_data (r, &n);

  g_assert_cmpuint (n, >=, 2);
  g_assert_cmpuint (n, <=, 258);
  return (guint) data[n - 2] << 8 | data[n - 1];
}

static void
select_and_verify (TkeVirtualCard *card)
{
  guint8 select[5 + 8] = { 0x00, 0xA4, 0x04, 0x00, 8 };
  const guint8 verify[] = { 0x00, 0x20, 0x00, 0x81, 6, '1', '2', '3', '4', '5', '6' };

  memcpy (select + 5, tke_virtual_card_aid, 8);
  g_assert_cmphex (send (card, select, sizeof select), ==, 0x9000);
  g_assert_cmphex (send (card, verify, sizeof verify), ==, 0x9000);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSecret) pin = tke_secret_new_from_data ((const guint8 *) PIN, 6);
  g_autofree char *path = NULL;

  f->dir = g_dir_make_tmp ("tke-virtual-card-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (f->dir, "ep11.card", NULL);
  f->chip_key = tke_secret_new_random (32, &error);
  g_assert_no_error (error);
  f->card = tke_virtual_card_new_ep11 (path, f->chip_key, "unit test", pin, &error);
  g_assert_no_error (error);
  select_and_verify (f->card);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  g_clear_object (&f->card);
  g_clear_pointer (&f->chip_key, tke_secret_unref);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

/* EXPORT FOR COPY (64) and IMPORT COPY (66) need data. */
static void
test_no_data (Fixture *f, gconstpointer data)
{
  const guint8 export_copy[] = { 0x80, 0x64, 0x00, 0x00 };
  const guint8 export_copy_le[] = { 0x80, 0x64, 0x01, 0x00, 0x00 };
  const guint8 import_copy[] = { 0x80, 0x66, 0x00, 0x00 };

  g_assert_cmphex (send (f->card, export_copy, sizeof export_copy), ==, 0x6700);
  g_assert_cmphex (send (f->card, export_copy_le, sizeof export_copy_le), ==, 0x6700);
  g_assert_cmphex (send (f->card, import_copy, sizeof import_copy), ==, 0x6700);
}

/* Sends INS P1 with SIZE bytes of data (0: case 1 and case 2), chained. */
static void
send_sized (TkeVirtualCard *card, guint8 ins, guint8 p1, gsize size)
{
  g_autofree guint8 *data = g_malloc (MAX (size, 1));
  gsize offset = 0;

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 31 + 7);
  if (size == 0)
    {
      const guint8 case1[] = { 0x80, ins, p1, 0x81 };
      const guint8 case2[] = { 0x80, ins, p1, 0x81, 0x00 };

      send (card, case1, sizeof case1);
      send (card, case2, sizeof case2);
      return;
    }
  while (offset < size)
    {
      gsize piece = MIN (size - offset, 255);
      gboolean last = offset + piece == size;
      guint8 apdu[5 + 255 + 1] = { last ? 0x80 : 0x90, ins, p1, 0x81, (guint8) piece };

      memcpy (apdu + 5, data + offset, piece);
      apdu[5 + piece] = 0x00;
      if (send (card, apdu, 5 + piece + (last ? 1 : 0)) != 0x9000 && !last)
        return;
      offset += piece;
    }
}

static void
test_every_handler (Fixture *f, gconstpointer data)
{
  for (gsize i = 0; i < G_N_ELEMENTS (instructions); i++)
    for (gsize j = 0; j < G_N_ELEMENTS (p1s); j++)
      for (gsize size = 0; size <= 300; size += size < 16 ? 1 : 47)
        {
          send_sized (f->card, instructions[i], p1s[j], size);
          /* Keep the security state: a wrong PIN or a SELECT may reset it. */
          select_and_verify (f->card);
        }
}

/* GET CARD INFO has tag 0B (the unit root's fingerprint) of SIZE bytes. */
static gsize
fingerprint_size (TkeVirtualCard *card)
{
  const guint8 info[] = { 0x80, 0xCA, 0x00, 0x00, 0x00 };
  g_autoptr (GBytes) r = tke_virtual_card_transmit (card, info, sizeof info);
  gsize n;
  const guint8 *data = g_bytes_get_data (r, &n);

  for (gsize at = 0; at + 2 <= n - 2; at += 2 + data[at + 1])
    if (data[at] == 0x0B)
      return data[at + 1];
  return 0;
}

/* The unit root is set once, at personalization, and kept in the image;
 * a card loaded from its image never takes another. */
static void
test_unit_root_once (Fixture *f, gconstpointer data)
{
  const guint8 generate[] = { 0x80, 0x50, 0x00, 0x00, 1, 'p', 0x00 };
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) root = tke_crypto_ec_generate (&error);
  g_autoptr (GBytes) point = tke_crypto_ec_public_point (root, &error);
  g_autoptr (GBytes) not_a_point = g_bytes_new_static ("\x04 short", 7);
  g_autoptr (TkeVirtualCard) loaded = NULL;
  g_autofree char *path = g_build_filename (f->dir, "ep11.card", NULL);

  g_assert_cmpuint (fingerprint_size (f->card), ==, 0);
  g_assert_false (tke_virtual_card_install_unit_root (f->card, not_a_point, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (tke_virtual_card_install_unit_root (f->card, point, &error));
  g_assert_no_error (error);
  g_assert_false (tke_virtual_card_install_unit_root (f->card, point, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpuint (fingerprint_size (f->card), ==, TKE_SKI_SIZE);

  g_assert_cmphex (send (f->card, generate, sizeof generate), ==, 0x9000); /* writes the image */
  loaded = tke_virtual_card_load (path, f->chip_key, &error);
  g_assert_no_error (error);
  select_and_verify (loaded);
  g_assert_cmpuint (fingerprint_size (loaded), ==, TKE_SKI_SIZE);
  g_assert_false (tke_virtual_card_install_unit_root (loaded, point, &error));
  g_assert_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/virtual-card/no-data", Fixture, NULL, fixture_set_up, test_no_data,
              fixture_tear_down);
  g_test_add ("/virtual-card/every-handler", Fixture, NULL, fixture_set_up, test_every_handler,
              fixture_tear_down);
  g_test_add ("/virtual-card/unit-root-once", Fixture, NULL, fixture_set_up, test_unit_root_once,
              fixture_tear_down);
  return g_test_run ();
}
