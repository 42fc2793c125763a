/* tke.h: the one public header of libtke
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define __TKE_INSIDE__

#include <glib-object.h>

#include "tke-version.h"
#include "tke-enum-types.h"
#include "tke-error.h"
#include "tke-types.h"
#include "tke-secret.h"
#include "tke-crypto.h"
#include "tke-administrator.h"
#include "tke-crypto-unit.h"
#include "tke-signer.h"
#include "tke-key-part-source.h"
#include "tke-signature-key-file.h"
#include "tke-rotation-status.h"
#include "tke-recovery.h"
#include "tke-service-instance.h"
#include "tke-service-client.h"
#include "tke-credentials.h"
#include "tke-file-signer.h"
#include "tke-service-signer.h"
#include "tke-key-part-file.h"
#include "tke-workstation.h"
#include "tke-ceremony.h"
#include "tke-card.h"
#include "tke-reader.h"
#include "tke-reader-monitor.h"
#include "tke-card-signer.h"
#include "tke-card-key-part-source.h"
#include "tke-precheck.h"
#include "tke-journal.h"
#include "tke-rotation.h"
#include "tke-auto-ceremony.h"
#include "tke-unit-identity.h"
#include "tke-ceremony-rules.h"
#include "tke-instance-setup.h"
#include "tke-audit-entry.h"
#include "tke-audit-trail.h"
#include "tke-ceremony-report.h"
#include "tke-ceremony-summary.h"

#undef __TKE_INSIDE__
