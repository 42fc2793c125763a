/* rotate-bench.c: keys per second of an end-to-end master key rotation
 * through tke-emulator, next to OpenSSL's raw AES-KWP unwrap+wrap rate
 * measured in the same run.  A benchmark, not a test.
 *
 * rotate-bench [--million] [--emulator PATH]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "tke-test-emulator.h"

static double
raw_kwp_rate (guint n)
{
  guint8 kek_old[32], kek_new[32], key[32], wrapped[40], out[40], back[40];
  EVP_CIPHER_CTX *enc_old = EVP_CIPHER_CTX_new (), *dec_old = EVP_CIPHER_CTX_new (),
                 *enc_new = EVP_CIPHER_CTX_new ();
  gint64 start;
  int len;

  tke_crypto_random_bytes (kek_old, 32, NULL);
  tke_crypto_random_bytes (kek_new, 32, NULL);
  tke_crypto_random_bytes (key, 32, NULL);
  EVP_EncryptInit_ex2 (enc_old, EVP_aes_256_wrap_pad (), kek_old, NULL, NULL);
  EVP_DecryptInit_ex2 (dec_old, EVP_aes_256_wrap_pad (), kek_old, NULL, NULL);
  EVP_EncryptInit_ex2 (enc_new, EVP_aes_256_wrap_pad (), kek_new, NULL, NULL);
  EVP_EncryptUpdate (enc_old, wrapped, &len, key, 32);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      if (EVP_DecryptUpdate (dec_old, back, &len, wrapped, 40) != 1 || len != 32 ||
          EVP_EncryptUpdate (enc_new, out, &len, back, 32) != 1)
        g_error ("KWP failed");
    }
  EVP_CIPHER_CTX_free (enc_old);
  EVP_CIPHER_CTX_free (dec_old);
  EVP_CIPHER_CTX_free (enc_new);
  return n / ((g_get_monotonic_time () - start) / 1e6);
}

static void
bench (guint n_keys)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("tke-bench-XXXXXX", &error);
  g_autofree char *dir = g_build_filename (tmp, "state", NULL);
  g_autofree char *keys = g_strdup_printf ("%u", n_keys);
  const char *args[] = { "--init", "demo", "--keys", keys, NULL };
  gint64 t0 = g_get_monotonic_time (), t_ready, t_start, t_rewrapped, t_done;
  g_autoptr (Emu) emu = NULL;
  g_autoptr (EVP_PKEY) a1 = NULL, a2 = NULL;
  g_auto (GStrv) units = NULL;
  g_autofree char *rotate = NULL, *vp_hex = NULL, *vp_args = NULL, *cmd = NULL;
  g_autoptr (JsonObject) st = NULL;

  g_assert_no_error (error);
  emu = emu_start (dir, args);
  t_ready = g_get_monotonic_time ();
  emu_login (emu);
  units = emu_unit_ids (emu);
  a1 = emu_demo_admin (emu, 1);
  a2 = emu_demo_admin (emu, 2);
  vp_hex = emu_commit_new_key (emu);
  vp_args = g_strdup_printf ("{\"new_mkvp\":\"%s\"}", vp_hex);

  rotate = g_strdup_printf ("/v1/tke/%s/rotate", emu->instance);
  t_start = g_get_monotonic_time ();
  st = emu_call_ok (emu, "POST", rotate, "{}", 202);
  g_clear_pointer (&st, json_object_unref);
  st = emu_wait_rotation (emu, "rewrapped");
  t_rewrapped = g_get_monotonic_time ();
  for (guint u = 0; units[u] != NULL; u++)
    {
      EVP_PKEY *one[] = { a2, NULL };
      g_autoptr (JsonObject) r = emu_command_ok (emu, units[u], "set_immediate", vp_args, one);
    }
  g_clear_pointer (&st, json_object_unref);
  st = emu_wait_rotation (emu, "complete");
  t_done = g_get_monotonic_time ();
  g_assert_cmpint (json_object_get_int_member (st, "keys_done"), ==, n_keys);

  printf ("%8u keys: setup %.2f s; rewrap %.3f s = %.0f keys/s; rotation end to end (rotate + set "
          "immediate on 3 units) "
          "%.3f s = %.0f keys/s\n",
          n_keys, (t_ready - t0) / 1e6, (t_rewrapped - t_start) / 1e6,
          n_keys / ((t_rewrapped - t_start) / 1e6), (t_done - t_start) / 1e6,
          n_keys / ((t_done - t_start) / 1e6));
  fflush (stdout);
  emu_stop (emu);
  cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  if (system (cmd) != 0)
    g_printerr ("cannot remove %s\n", tmp);
}

int
main (int argc, char **argv)
{
  gboolean million = FALSE;
  g_autofree char *emulator = NULL;
  GOptionEntry entries[] = {
    { "million", 0, 0, G_OPTION_ARG_NONE, &million, "Also rotate 1 000 000 keys", NULL },
    { "emulator", 0, 0, G_OPTION_ARG_FILENAME, &emulator, "The tke-emulator binary", "PATH" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- master key rotation benchmark");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (emulator != NULL)
    g_setenv ("TKE_EMULATOR", emulator, TRUE);
  if (g_getenv ("TKE_EMULATOR") == NULL)
    g_setenv ("TKE_EMULATOR", TKE_EMULATOR_PATH, TRUE);

  printf ("OpenSSL raw AES-KWP unwrap+wrap (AES-256, 32-byte keys, one thread): %.0f keys/s\n",
          raw_kwp_rate (1000000));
  printf ("Reference: the real service, about 60 s for 3 000 keys = 50 keys/s\n");
  bench (3000);
  bench (100000);
  if (million)
    bench (1000000);
  return 0;
}
