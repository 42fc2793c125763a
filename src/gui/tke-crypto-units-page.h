/* tke-crypto-units-page.h: the Crypto units tab
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>
#include <tke.h>

G_BEGIN_DECLS

/**
 * TkeCryptoUnitsPageState:
 * @TKE_CRYPTO_UNITS_PAGE_NOT_LOGGED_IN: no token: the page asks to log in
 * @TKE_CRYPTO_UNITS_PAGE_LOADING: the units are being fetched
 * @TKE_CRYPTO_UNITS_PAGE_NO_INSTANCES: the account has no service instance
 * @TKE_CRYPTO_UNITS_PAGE_NO_READERS: no smart card reader was found
 * @TKE_CRYPTO_UNITS_PAGE_ERROR: fetching failed; the message says why
 * @TKE_CRYPTO_UNITS_PAGE_READY: the table of units
 */
typedef enum
{
  TKE_CRYPTO_UNITS_PAGE_NOT_LOGGED_IN,
  TKE_CRYPTO_UNITS_PAGE_LOADING,
  TKE_CRYPTO_UNITS_PAGE_NO_INSTANCES,
  TKE_CRYPTO_UNITS_PAGE_NO_READERS,
  TKE_CRYPTO_UNITS_PAGE_ERROR,
  TKE_CRYPTO_UNITS_PAGE_READY,
} TkeCryptoUnitsPageState;

#define TKE_TYPE_CRYPTO_UNITS_PAGE (tke_crypto_units_page_get_type ())

G_DECLARE_FINAL_TYPE (TkeCryptoUnitsPage, tke_crypto_units_page, TKE, CRYPTO_UNITS_PAGE, AdwBin)

GtkWidget *tke_crypto_units_page_new (void);
void tke_crypto_units_page_set_units (TkeCryptoUnitsPage *self, GListModel *units);
GListModel *tke_crypto_units_page_get_units (TkeCryptoUnitsPage *self);
void tke_crypto_units_page_set_state (TkeCryptoUnitsPage *self,
                                      TkeCryptoUnitsPageState state,
                                      const char *message);
TkeCryptoUnitsPageState tke_crypto_units_page_get_state (TkeCryptoUnitsPage *self);
gboolean tke_crypto_units_page_select_units (TkeCryptoUnitsPage *self,
                                             TkeCryptoUnit **units,
                                             guint n_units,
                                             gboolean selected,
                                             GError **error);
const char *tke_crypto_units_page_get_refusal (TkeCryptoUnitsPage *self);
void tke_crypto_units_page_set_busy (TkeCryptoUnitsPage *self, gboolean busy);
const char *tke_crypto_units_page_get_failover_reason (TkeCryptoUnitsPage *self);

G_END_DECLS
