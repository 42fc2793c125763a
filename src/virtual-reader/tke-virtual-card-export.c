/* tke-virtual-card-export.c: EXPORT KEY PART, only to a genuine crypto unit
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The card seals a key part only to an importer key that its unit's device
 * key certified, the unit's certificate chain ending at the unit root the
 * card was personalized with.  The card builds the associated data itself
 * from the verified unit id, so a host cannot have a part sealed to a key of
 * its own, nor to a genuine unit other than the one it names, nor as another
 * part number (card-protocol.md §4.9.1).
 */

#include "config.h"

#include "tke-virtual-card-private.h"

#include <string.h>

#define EXPORT_FORM_CERTIFIED 0x01
#define MAX_CHAIN_CERTIFICATES 4
#define IMPORTER_MAGIC_SIZE 16

typedef struct
{
  const guint8 *data;
  gsize size;
  gsize offset;
} Reader;

static gboolean
read_u8 (Reader *r, guint8 *value)
{
  if (r->offset + 1 > r->size)
    return FALSE;
  *value = r->data[r->offset++];
  return TRUE;
}

/* A 2-byte length, then that many bytes. */
static GBytes *
read_block (Reader *r)
{
  gsize size;
  GBytes *block;

  if (r->offset + 2 > r->size)
    return NULL;
  size = (gsize) r->data[r->offset] << 8 | r->data[r->offset + 1];
  r->offset += 2;
  if (size == 0 || r->offset + size > r->size)
    return NULL;
  block = g_bytes_new (r->data + r->offset, size);
  r->offset += size;
  return block;
}

typedef struct
{
  guint8 i;
  guint8 n;
  char *hsm_id; /* the unit the host names */
  GPtrArray *chain;
  GBytes *importer_certificate;
} ExportRequest;

static void
export_request_clear (ExportRequest *request)
{
  g_clear_pointer (&request->hsm_id, g_free);
  g_clear_pointer (&request->chain, g_ptr_array_unref);
  g_clear_pointer (&request->importer_certificate, g_bytes_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ExportRequest, export_request_clear)

static gboolean
parse_request (const guint8 *data, gsize size, ExportRequest *request)
{
  Reader r = { data, size, 0 };
  guint8 id_size, count;

  if (!read_u8 (&r, &request->i) || !read_u8 (&r, &request->n) || !read_u8 (&r, &id_size) ||
      id_size == 0 || r.offset + id_size > r.size)
    return FALSE;
  request->hsm_id = g_strndup ((const char *) r.data + r.offset, id_size);
  r.offset += id_size;
  if (strlen (request->hsm_id) != id_size || !read_u8 (&r, &count) || count == 0 ||
      count > MAX_CHAIN_CERTIFICATES)
    return FALSE;
  request->chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint k = 0; k < count; k++)
    {
      GBytes *cert = read_block (&r);

      if (cert == NULL)
        return FALSE;
      g_ptr_array_add (request->chain, cert);
    }
  request->importer_certificate = read_block (&r);
  return request->importer_certificate != NULL && r.offset == r.size;
}

/* The importer point, if @certificate is the importer certificate of
 * @unit's unit signed by its device key (unit-identity.md §3). */
static EVP_PKEY *
certified_importer (TkeUnitCertificate *unit, GBytes *certificate)
{
  const char *instance_id = tke_unit_certificate_get_instance_id (unit);
  const char *hsm_id = tke_unit_certificate_get_hsm_id (unit);
  gsize body_size = IMPORTER_MAGIC_SIZE + 2 + strlen (instance_id) + strlen (hsm_id) +
                    TKE_VIRTUAL_CARD_POINT_SIZE;
  g_autoptr (GBytes) point = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (EVP_PKEY) device = NULL;
  GBytes *device_point;
  gsize size;
  const guint8 *data = g_bytes_get_data (certificate, &size);

  if (size <= body_size)
    return NULL;
  point = g_bytes_new (data + body_size - TKE_VIRTUAL_CARD_POINT_SIZE, TKE_VIRTUAL_CARD_POINT_SIZE);
  body = tke_importer_certificate_build_body (instance_id, hsm_id, point, NULL);
  if (body == NULL || g_bytes_get_size (body) != body_size ||
      memcmp (g_bytes_get_data (body, NULL), data, body_size) != 0)
    return NULL;
  device_point = tke_unit_certificate_get_public_point (unit);
  device = _tke_virtual_card_point_key (g_bytes_get_data (device_point, NULL),
                                        g_bytes_get_size (device_point));
  if (device == NULL ||
      !tke_crypto_verify (device, data, body_size, data + body_size, size - body_size, NULL))
    return NULL;
  return _tke_virtual_card_point_key (g_bytes_get_data (point, NULL), TKE_VIRTUAL_CARD_POINT_SIZE);
}

/* EXPORT KEY PART `80 54 P1 01 Lc <request>` (chained): P1 the part's index.
 * The old form (P2 00, a host-given point and associated data) is refused. */
GBytes *
_tke_virtual_card_cmd_export_key_part (TkeVirtualCard *self, const TkeVirtualCardCommand *c)
{
  g_auto (ExportRequest) request = { 0 };
  g_autoptr (TkeUnitCertificate) unit = NULL;
  g_autoptr (EVP_PKEY) importer = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autofree char *aad = NULL;
  TkeVirtualCardPart *part;

  if (c->p2 != EXPORT_FORM_CERTIFIED)
    return _tke_virtual_card_sw (SW_BAD_P1P2);
  if (self->unit_root == NULL)
    return _tke_virtual_card_sw (SW_NO_KEY);
  if ((part = _tke_virtual_card_find_part (self, c->p1, NULL)) == NULL)
    return _tke_virtual_card_sw (SW_NOT_FOUND);
  if (!parse_request (c->data, c->size, &request))
    return _tke_virtual_card_sw (SW_WRONG_LENGTH);
  if (request.n == 0 || request.i == 0 || request.i > request.n)
    return _tke_virtual_card_sw (SW_BAD_DATA);
  unit = tke_unit_identity_verify_chain (self->unit_root, request.chain, NULL);
  if (unit == NULL || g_strcmp0 (tke_unit_certificate_get_hsm_id (unit), request.hsm_id) != 0 ||
      (importer = certified_importer (unit, request.importer_certificate)) == NULL)
    return _tke_virtual_card_sw (SW_BAD_DATA);
  aad = g_strdup_printf ("tke-keypart-v1|%s|new|%u|%u", tke_unit_certificate_get_hsm_id (unit),
                         request.i, request.n);
  sealed = tke_crypto_seal (importer, (const guint8 *) aad, strlen (aad), part->value, NULL);
  return _tke_virtual_card_respond_bytes (self, sealed);
}
