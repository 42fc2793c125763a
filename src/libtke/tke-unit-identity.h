/* tke-unit-identity.h: crypto unit certificates, signed answers and the unit root
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__TKE_INSIDE__) && !defined(TKE_COMPILATION)
#error "Only <tke.h> can be included directly."
#endif

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "tke-version-macros.h"

G_BEGIN_DECLS

/**
 * TKE_UNIT_POINT_SIZE:
 *
 * The size of an uncompressed P-521 point (`04 ‖ X ‖ Y`): unit roots, device
 * keys and importer keys.
 */
#define TKE_UNIT_POINT_SIZE 133

/**
 * TKE_COMMAND_LIFETIME_SECONDS:
 *
 * How long a signed command stays valid after libtke built it: long enough
 * for a person to sign it with two smart cards on their PIN pads, short
 * enough that a command held back by a man in the middle dies quickly.  The
 * service refuses commands that live longer than 15 minutes.
 */
#define TKE_COMMAND_LIFETIME_SECONDS 600

/**
 * TKE_TYPE_UNIT_CERTIFICATE:
 *
 * The #GType of #TkeUnitCertificate.
 */
#define TKE_TYPE_UNIT_CERTIFICATE (tke_unit_certificate_get_type ())

/**
 * TkeUnitCertificate:
 *
 * A parsed unit certificate (service-protocol.md §10.2): the service
 * instance and crypto unit it names, the certified device key and the
 * issuer's SKI.  Opaque and reference-counted; one returned by
 * tke_unit_identity_verify_chain() or tke_unit_identity_verify_answer() has
 * verified, one from tke_unit_certificate_parse() has not.
 */
typedef struct _TkeUnitCertificate TkeUnitCertificate;

TKE_AVAILABLE_IN_ALL
GType tke_unit_certificate_get_type (void) G_GNUC_CONST;
TKE_AVAILABLE_IN_ALL
TkeUnitCertificate *tke_unit_certificate_parse (GBytes *data, GError **error);
TKE_AVAILABLE_IN_ALL
TkeUnitCertificate *tke_unit_certificate_ref (TkeUnitCertificate *self);
TKE_AVAILABLE_IN_ALL
void tke_unit_certificate_unref (TkeUnitCertificate *self);
TKE_AVAILABLE_IN_ALL
const char *tke_unit_certificate_get_instance_id (TkeUnitCertificate *self);
TKE_AVAILABLE_IN_ALL
const char *tke_unit_certificate_get_hsm_id (TkeUnitCertificate *self);
TKE_AVAILABLE_IN_ALL
GBytes *tke_unit_certificate_get_public_point (TkeUnitCertificate *self);
TKE_AVAILABLE_IN_ALL
GBytes *tke_unit_certificate_get_issuer_ski (TkeUnitCertificate *self);

TKE_AVAILABLE_IN_ALL
GBytes *tke_unit_certificate_build_body (const char *instance_id,
                                         const char *hsm_id,
                                         GBytes *subject_point,
                                         GBytes *issuer_ski,
                                         GError **error);
TKE_AVAILABLE_IN_ALL
GBytes *tke_importer_certificate_build_body (const char *instance_id,
                                             const char *hsm_id,
                                             GBytes *importer_point,
                                             GError **error);

TKE_AVAILABLE_IN_ALL
TkeUnitCertificate *
tke_unit_identity_verify_chain (GBytes *root_point, GPtrArray *chain, GError **error);
TKE_AVAILABLE_IN_ALL
JsonObject *tke_unit_identity_verify_answer (GBytes *root_point,
                                             JsonObject *response,
                                             const char *instance_id,
                                             const char *hsm_id,
                                             GBytes *request,
                                             TkeUnitCertificate **unit_certificate,
                                             GError **error);
TKE_AVAILABLE_IN_ALL
gboolean tke_unit_identity_verify_importer (TkeUnitCertificate *unit_certificate,
                                            const char *importer_hex,
                                            const char *importer_certificate,
                                            GError **error);
TKE_AVAILABLE_IN_ALL
GBytes *tke_unit_identity_accept_importer (GBytes *root_point,
                                           GPtrArray *unit_certificates,
                                           GBytes *importer_certificate,
                                           GError **error);

TKE_AVAILABLE_IN_ALL
GBytes *tke_unit_root_from_hex (const char *hex, GError **error);
TKE_AVAILABLE_IN_ALL
GBytes *tke_unit_root_load_file (const char *path, GError **error);
TKE_AVAILABLE_IN_ALL
char *tke_unit_root_fingerprint (GBytes *root_point);
TKE_AVAILABLE_IN_ALL
char *tke_unit_root_format_fingerprint (const char *fingerprint);

/**
 * TkeUnitRootDecision:
 * @TKE_UNIT_ROOT_REFUSED: the roots differ; refused, the error says how,
 *   with both fingerprints; nothing may be pinned
 * @TKE_UNIT_ROOT_PINNED: the service names the root already pinned
 * @TKE_UNIT_ROOT_GIVEN_MATCHES: none is pinned and the root a person gave
 *   (a file from the service's owner) is the service's: pin it
 * @TKE_UNIT_ROOT_ASK: first contact: none is pinned and none given; show
 *   the service's fingerprint and pin it only once a person confirmed it
 *
 * What tke_unit_root_decide() says to do with the root a service names.
 */
typedef enum
{
  TKE_UNIT_ROOT_REFUSED,
  TKE_UNIT_ROOT_PINNED,
  TKE_UNIT_ROOT_GIVEN_MATCHES,
  TKE_UNIT_ROOT_ASK,
} TkeUnitRootDecision;

TKE_AVAILABLE_IN_ALL
char *tke_unit_root_hex_fingerprint (const char *root_hex);
TKE_AVAILABLE_IN_ALL
TkeUnitRootDecision tke_unit_root_decide (const char *pinned_hex,
                                          const char *service_hex,
                                          const char *given_hex,
                                          GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TkeUnitCertificate, tke_unit_certificate_unref)

G_END_DECLS
