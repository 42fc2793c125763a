/* tke-rotation-status.h: what the service says of a master key rotation
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

/**
 * TkeRotationState:
 * @TKE_ROTATION_STATE_NONE: no rotation has been started (or the last one completed long ago)
 * @TKE_ROTATION_STATE_REWRAPPING: started; the key storage is being rewrapped
 * @TKE_ROTATION_STATE_REWRAPPED: every key is wrapped under the new key; the
 *   units wait for set immediate ("KMS CRK rewrap successful, waiting on
 *   cryptounit-mk-setimm.")
 * @TKE_ROTATION_STATE_COMPLETE: every unit was promoted ("Master key rotation successful.")
 * @TKE_ROTATION_STATE_FAILED: the service stopped the rotation; its error says why
 *
 * Where the service's master key rotation stands.
 */
typedef enum
{
  TKE_ROTATION_STATE_NONE,
  TKE_ROTATION_STATE_REWRAPPING,
  TKE_ROTATION_STATE_REWRAPPED,
  TKE_ROTATION_STATE_COMPLETE,
  TKE_ROTATION_STATE_FAILED,
} TkeRotationState;

/* The service's messages, exactly (DESIGN §1). */
/**
 * TKE_ROTATION_MESSAGE_STARTED:
 *
 * The service's message when a rotation starts, word for word.
 */
#define TKE_ROTATION_MESSAGE_STARTED "Master key rotation started."
/**
 * TKE_ROTATION_MESSAGE_REWRAPPED:
 *
 * The service's message when every key is rewrapped and the units wait for
 * set immediate, word for word.
 */
#define TKE_ROTATION_MESSAGE_REWRAPPED "KMS CRK rewrap successful, waiting on cryptounit-mk-setimm."
/**
 * TKE_ROTATION_MESSAGE_SUCCESSFUL:
 *
 * The service's message when every unit has the new master key, word for
 * word.
 */
#define TKE_ROTATION_MESSAGE_SUCCESSFUL "Master key rotation successful."

#define TKE_TYPE_ROTATION_STATUS (tke_rotation_status_get_type ())

TKE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TkeRotationStatus, tke_rotation_status, TKE, ROTATION_STATUS, GObject)

TKE_AVAILABLE_IN_ALL
TkeRotationStatus *tke_rotation_status_new (TkeRotationState state,
                                            const char *target_vp,
                                            guint64 keys_done,
                                            guint64 keys_total);
TKE_AVAILABLE_IN_ALL
TkeRotationState tke_rotation_status_get_state (TkeRotationStatus *self);
TKE_AVAILABLE_IN_ALL
const char *tke_rotation_status_get_target_vp (TkeRotationStatus *self);
TKE_AVAILABLE_IN_ALL
guint64 tke_rotation_status_get_keys_done (TkeRotationStatus *self);
TKE_AVAILABLE_IN_ALL
guint64 tke_rotation_status_get_keys_total (TkeRotationStatus *self);
TKE_AVAILABLE_IN_ALL
const char *tke_rotation_status_get_error_message (TkeRotationStatus *self);
TKE_AVAILABLE_IN_ALL
void tke_rotation_status_set_error_message (TkeRotationStatus *self, const char *message);
TKE_AVAILABLE_IN_ALL
void
tke_rotation_status_add_message (TkeRotationStatus *self, GDateTime *timestamp, const char *text);
TKE_AVAILABLE_IN_ALL
guint tke_rotation_status_get_n_messages (TkeRotationStatus *self);
TKE_AVAILABLE_IN_ALL
const char *
tke_rotation_status_get_message (TkeRotationStatus *self, guint index, GDateTime **timestamp);

G_END_DECLS
