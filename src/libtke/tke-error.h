/* tke-error.h: the TKE_ERROR domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <glib.h>

#include "tke-version-macros.h"

G_BEGIN_DECLS

/**
 * TKE_ERROR:
 *
 * The error domain of libtke; the codes are #TkeError.
 */
#define TKE_ERROR (tke_error_quark ())

/**
 * TkeError:
 * @TKE_ERROR_FAILED: an unexpected failure; the message says what
 * @TKE_ERROR_INVALID_ARGUMENT: a caller passed a value the operation cannot take
 * @TKE_ERROR_INVALID_DATA: input (a file, a response, a blob) is malformed
 * @TKE_ERROR_CRYPTO: the crypto library failed to carry out an operation
 * @TKE_ERROR_INTEGRITY: authenticated data did not verify: tampered, or the wrong key
 * @TKE_ERROR_INVALID_PASSWORD: a key file's password is wrong
 * @TKE_ERROR_AUTH_EXPIRED: the bearer token expired; log in again
 * @TKE_ERROR_UNAUTHORIZED: the service refused the credentials
 * @TKE_ERROR_NETWORK: the service could not be reached
 * @TKE_ERROR_TLS: the service's certificate did not verify
 * @TKE_ERROR_SERVICE: the service answered with an error
 * @TKE_ERROR_NOT_FOUND: the named unit, key or file does not exist
 * @TKE_ERROR_WRAPPING_KEY_MISMATCH: a blob is wrapped under another master key
 * @TKE_ERROR_MK_NOT_INITIALIZED: the unit has no current master key
 * @TKE_ERROR_ROTATION_IN_PROGRESS: refused while a master key rotation runs
 * @TKE_ERROR_PRECHECK_FAILED: a pre-check before a ceremony step failed
 * @TKE_ERROR_THRESHOLD_NOT_MET: fewer signatures than the threshold requires
 * @TKE_ERROR_REPLAY: a command reused a transaction counter
 * @TKE_ERROR_NO_READER: the smart card reader is not there
 * @TKE_ERROR_NO_CARD: no smart card in the reader
 * @TKE_ERROR_CARD_REMOVED: the card was removed during the operation
 * @TKE_ERROR_PIN_INCORRECT: the PIN entered on the PIN pad was wrong
 * @TKE_ERROR_PIN_BLOCKED: the card's PIN is blocked
 * @TKE_ERROR_PIN_TIMEOUT: nobody entered the PIN on the pad in time
 * @TKE_ERROR_PIN_CANCELLED: the PIN entry was cancelled on the pad
 * @TKE_ERROR_IO: a local file or socket could not be read or written
 * @TKE_ERROR_UNIT_NOT_AUTHENTIC: a crypto unit's answer, certificate chain or
 *   importer key does not verify against the pinned unit root; nothing from
 *   it was used
 * @TKE_ERROR_UNIT_ROOT_NOT_PINNED: no unit root is pinned in the profile, so
 *   no unit answer can be verified; log in and confirm the root
 * @TKE_ERROR_UNIT_ROOT_CHANGED: the service's unit root is not the pinned
 *   one; re-pinning is a separate, deliberate step
 * @TKE_ERROR_REPEATED_KEY_PART: two key parts of one load are the same part
 *   (the same value, file, card part or check value); the unit's
 *   `repeated_key_part`, and libtke's own check before anything is sent
 * @TKE_ERROR_WEAK_KEY: the key parts combine to a weak master key (all
 *   zero: a part is the XOR of the others); the unit's `weak_key`
 * @TKE_ERROR_KEY_STATE: a KMS key's state forbids the action (a suspended
 *   key cannot wrap, unwrap or rotate; enable it first); the service's
 *   `key_state`
 * @TKE_ERROR_COMMAND_EXPIRED: a signed command reached the unit after its
 *   end of life (`expires`); sign it again; the unit's `command_expired`
 * @TKE_ERROR_NOT_ALLOWED: the operation is not allowed in this state (an
 *   auto-mk-rotate that must not run again, PKCS#11 keystores); the message
 *   names the safe step
 * @TKE_ERROR_RECORD_TAMPERED: a ceremony record or report does not verify:
 *   a record was changed, dropped or reordered, or a signature is wrong;
 *   the message names the record
 *
 * Codes a caller can act on.  Messages are for people and translated.
 */
typedef enum
{
  TKE_ERROR_FAILED,
  TKE_ERROR_INVALID_ARGUMENT,
  TKE_ERROR_INVALID_DATA,
  TKE_ERROR_CRYPTO,
  TKE_ERROR_INTEGRITY,
  TKE_ERROR_INVALID_PASSWORD,
  TKE_ERROR_AUTH_EXPIRED,
  TKE_ERROR_UNAUTHORIZED,
  TKE_ERROR_NETWORK,
  TKE_ERROR_TLS,
  TKE_ERROR_SERVICE,
  TKE_ERROR_NOT_FOUND,
  TKE_ERROR_WRAPPING_KEY_MISMATCH,
  TKE_ERROR_MK_NOT_INITIALIZED,
  TKE_ERROR_ROTATION_IN_PROGRESS,
  TKE_ERROR_PRECHECK_FAILED,
  TKE_ERROR_THRESHOLD_NOT_MET,
  TKE_ERROR_REPLAY,
  TKE_ERROR_NO_READER,
  TKE_ERROR_NO_CARD,
  TKE_ERROR_CARD_REMOVED,
  TKE_ERROR_PIN_INCORRECT,
  TKE_ERROR_PIN_BLOCKED,
  TKE_ERROR_PIN_TIMEOUT,
  TKE_ERROR_PIN_CANCELLED,
  TKE_ERROR_IO,
  TKE_ERROR_UNIT_NOT_AUTHENTIC,
  TKE_ERROR_UNIT_ROOT_NOT_PINNED,
  TKE_ERROR_UNIT_ROOT_CHANGED,
  TKE_ERROR_REPEATED_KEY_PART,
  TKE_ERROR_WEAK_KEY,
  TKE_ERROR_KEY_STATE,
  TKE_ERROR_COMMAND_EXPIRED,
  TKE_ERROR_RECORD_TAMPERED,
  TKE_ERROR_NOT_ALLOWED,
} TkeError;

TKE_AVAILABLE_IN_ALL
GQuark tke_error_quark (void);

G_END_DECLS
