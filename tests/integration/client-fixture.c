/* client-fixture.c: the shared set-up of the client integration tests:
 * an emulator on a temporary state directory, the environment of the
 * real `tke` binary (temporary XDG dirs, TKE_FILES, the libsecret file
 * backend, --password-file) and a TkeServiceClient
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "client-fixture.h"

void
fixture_start (Fixture *f, const char *const *emu_args)
{
  g_autofree char *top = g_dir_make_tmp ("tke-client-XXXXXX", NULL);
  g_autofree char *state = NULL;
  g_autoptr (TkeSecret) api_key = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (top);
  tke_test_cli_init (&f->cli, top);
  state = g_build_filename (top, "state", NULL);
  f->emu = emu_start (state, emu_args);

  /* A C client next to the CLI, for what the CLI leaves to others. */
  f->client = tke_service_client_new (f->emu->url, f->emu->ca_file);
  tke_service_client_set_unit_root (f->client, f->emu->unit_root);
  api_key = tke_secret_new_from_data ((const guint8 *) f->emu->api_key, strlen (f->emu->api_key));
  tke_service_client_login_async (f->client, api_key, NULL, on_done, &result);
  wait_for (&result);
  g_assert_true (tke_service_client_login_finish (f->client, result, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (tke_service_client_get_instance_id (f->client), ==, f->emu->instance);
  emu_login (f->emu);
}

void
fixture_stop (Fixture *f)
{
  g_clear_object (&f->client);
  if (f->emu != NULL)
    emu_stop (f->emu);
  g_clear_pointer (&f->emu, emu_free);
  if (f->cli.top != NULL)
    tke_test_remove_tree (f->cli.top);
  tke_test_cli_clear (&f->cli);
}

void
fixture_set_up (Fixture *f, gconstpointer args)
{
  fixture_start (f, args);
}

void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  fixture_stop (f);
}

void
fixture_login (Fixture *f)
{
  tke_test_cli_login (&f->cli, f->emu);
}

/* Everything the units say of themselves, to compare before and after. */
char *
units_state (Fixture *f)
{
  g_auto (GStrv) ids = emu_unit_ids (f->emu);
  GString *state = g_string_new (NULL);

  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autofree char *text = emu_query_text (f->emu, ids[i]);
      g_string_append_printf (state, "%s\n", text);
    }
  return g_string_free (state, FALSE);
}

TkeServiceInstance *
list_units (Fixture *f)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  TkeServiceInstance *instance;

  tke_service_client_list_units_async (f->client, NULL, on_done, &result);
  wait_for (&result);
  instance = tke_service_client_list_units_finish (f->client, result, &error);
  g_assert_no_error (error);
  return instance;
}

TkeFileSigner *
file_signer (Fixture *f, guint keynum, const char *password)
{
  g_autofree char *name = g_strdup_printf ("%u.sigkey", keynum);
  g_autofree char *path = g_build_filename (f->cli.files, name, NULL);
  g_autoptr (TkeSignatureKeyFile) file = tke_signature_key_file_load (path, NULL);
  g_autoptr (TkeSecret) secret =
      tke_secret_new_from_data ((const guint8 *) password, strlen (password));

  g_assert_nonnull (file);
  return tke_file_signer_new (file, secret);
}

char *
hex_of (const TkeSecret *secret)
{
  return tke_crypto_hex_encode (tke_secret_get_data (secret), tke_secret_get_size (secret));
}

void
on_progress (TkeCeremony *ceremony, TkeCryptoUnit *unit, const char *message, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (message));
}
