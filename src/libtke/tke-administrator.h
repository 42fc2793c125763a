/* tke-administrator.h: an administrator installed in a crypto unit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <glib-object.h>

#include "tke-version-macros.h"

G_BEGIN_DECLS

#define TKE_TYPE_ADMINISTRATOR (tke_administrator_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeAdministrator, tke_administrator, TKE, ADMINISTRATOR, GObject)

/* The service's limits (DESIGN §1). */
/**
 * TKE_MAX_ADMINISTRATORS:
 *
 * The most administrators a crypto unit holds.
 */
#define TKE_MAX_ADMINISTRATORS 8
/**
 * TKE_MAX_ADMINISTRATOR_NAME:
 *
 * The longest administrator name a crypto unit takes, in characters.
 */
#define TKE_MAX_ADMINISTRATOR_NAME 30

TKE_AVAILABLE_IN_ALL
TkeAdministrator *tke_administrator_new (const char *name, const char *ski);
TKE_AVAILABLE_IN_ALL
const char *tke_administrator_get_name (TkeAdministrator *self);
TKE_AVAILABLE_IN_ALL
const char *tke_administrator_get_ski (TkeAdministrator *self);

G_END_DECLS
