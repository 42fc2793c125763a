/* tke-emu-error.c: the service's error codes and their HTTP statuses
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "tke-emu-error.h"

static const struct
{
  guint status;
  const char *code;
} errors[] = {
  { 400, "malformed_json" },
  { 400, "malformed_request" },
  { 400, "invalid_field" },
  { 400, "invalid_grant" },
  { 400, "invalid_parameter" },
  { 400, "missing_instance_header" },
  { 400, "invalid_blob" },
  { 400, "invalid_key_part" },
  { 401, "unauthorized" },
  { 401, "token_expired" },
  { 403, "unknown_signer" },
  { 403, "bad_signature" },
  { 403, "threshold_not_met" },
  { 403, "command_expired" },
  { 404, "not_found" },
  { 405, "method_not_allowed" },
  { 409, "replay" },
  { 409, "wrong_unit" },
  { 409, "imprint_mode" },
  { 409, "admin_exists" },
  { 409, "admin_limit" },
  { 409, "threshold_exceeds_admins" },
  { 409, "no_importer_key" },
  { 409, "register_not_empty" },
  { 409, "register_state" },
  { 409, "vp_mismatch" },
  { 409, "same_as_current" },
  { 409, "repeated_key_part" },
  { 409, "weak_key" },
  { 409, "rewrap_required" },
  { 409, "rotation_in_progress" },
  { 409, "precheck_imprint_mode" },
  { 409, "precheck_thresholds" },
  { 409, "precheck_admins" },
  { 409, "precheck_current_register" },
  { 409, "precheck_new_register" },
  { 409, "mk_not_initialized" },
  { 409, "new_mk_not_committed" },
  { 409, "wrapping_key_mismatch" },
  { 409, "key_state" },
  { 413, "payload_too_large" },
  { 403, "importer_not_authentic" },
  { 409, "wrong_unit_type" },
  { 409, "pkcs11_keystores" },
  { 409, "failover_limit" },
  { 500, "injected_fault" },
  { 500, "internal" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (errors) == TKE_EMU_ERROR_INTERNAL + 1);

/* The macro stringifies the name as written: clang-format must not put
 * spaces around the dashes ("tke - emu - error - quark" is another domain). */
// clang-format off
G_DEFINE_QUARK (tke-emu-error-quark, tke_emu_error)
// clang-format on

/* Any error from outside the service's domain (SQLite, OpenSSL) is an
 * internal error: the transaction that met it was rolled back. */
guint
tke_emu_error_status (const GError *error)
{
  if (error->domain != TKE_EMU_ERROR || error->code < 0 || error->code > TKE_EMU_ERROR_INTERNAL)
    return 500;
  return errors[error->code].status;
}

const char *
tke_emu_error_code (const GError *error)
{
  if (error->domain != TKE_EMU_ERROR || error->code < 0 || error->code > TKE_EMU_ERROR_INTERNAL)
    return "internal";
  return errors[error->code].code;
}
