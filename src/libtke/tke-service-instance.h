/* tke-service-instance.h: one service instance and its crypto units
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tke-crypto-unit.h"
#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_SERVICE_INSTANCE (tke_service_instance_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeServiceInstance, tke_service_instance, TKE, SERVICE_INSTANCE, GObject)

TKE_AVAILABLE_IN_ALL
TkeServiceInstance *tke_service_instance_new (const char *id);
TKE_AVAILABLE_IN_ALL
const char *tke_service_instance_get_id (TkeServiceInstance *self);
TKE_AVAILABLE_IN_ALL
GListModel *tke_service_instance_get_units (TkeServiceInstance *self);
TKE_AVAILABLE_IN_ALL
void tke_service_instance_add_unit (TkeServiceInstance *self, TkeCryptoUnit *unit);
TKE_AVAILABLE_IN_ALL
TkeCryptoUnit *tke_service_instance_find_unit (TkeServiceInstance *self, guint number);
TKE_AVAILABLE_IN_ALL
TkeCryptoUnit *tke_service_instance_find_unit_by_hsm_id (TkeServiceInstance *self,
                                                         const char *hsm_id);
TKE_AVAILABLE_IN_ALL
GPtrArray *tke_service_instance_get_selected_units (TkeServiceInstance *self);

G_END_DECLS
