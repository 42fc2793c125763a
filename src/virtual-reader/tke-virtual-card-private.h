/* tke-virtual-card-private.h: what the files of TkeVirtualCard share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * TkeVirtualCard spans tke-virtual-card.c (the type, chip key, new cards),
 * tke-virtual-card-image.c (the image file), tke-virtual-card-zone.c (CA,
 * certificates, unblocking, copies), tke-virtual-card-files.c (keys to and
 * from files), tke-virtual-card-applet.c (the APDU handlers),
 * tke-virtual-card-blank.c (a blank card's) and tke-virtual-card-backup.c
 * (a CA card's backup).
 */

#pragma once

#include "tke-virtual-card.h"

G_BEGIN_DECLS

#define CHALLENGE_SIZE 32

enum
{
  SW_OK = 0x9000,
  SW_WRONG_PASSWORD = 0x6300, /* a file's password: no tries counted */
  SW_WRONG_LENGTH = 0x6700,
  SW_SM_UNSUPPORTED = 0x6882,
  SW_CHAIN = 0x6883,
  SW_SECURITY = 0x6982,
  SW_BLOCKED = 0x6983,
  SW_OTHER_ZONE = 0x6984,
  SW_CONDITIONS = 0x6985,
  SW_NOT_ALLOWED = 0x6986,
  SW_BAD_DATA = 0x6A80,
  SW_NOT_FOUND = 0x6A82,
  SW_FULL = 0x6A84,
  SW_BAD_P1P2 = 0x6A86,
  SW_NO_KEY = 0x6A88,
  SW_EXISTS = 0x6A89,
  SW_BAD_INS = 0x6D00,
  SW_BAD_CLA = 0x6E00,
  SW_INTERNAL = 0x6F00,
};

typedef struct
{
  guint8 index;
  guint8 vp[TKE_VP_SIZE];
  TkeSecret *value;
  char *description;
} TkeVirtualCardPart;

struct _TkeVirtualCard
{
  GObject parent_instance;

  char *path;
  TkeSecret *chip_key;

  /* What the chip stores */
  guint8 serial[TKE_VIRTUAL_CARD_SERIAL_SIZE];
  guint8 type;
  guint8 zone[TKE_VIRTUAL_CARD_ZONE_SIZE];
  char *zone_description;
  char *description;
  TkeSecret *pin[2];
  guint8 tries[2];
  GBytes *zone_point;
  EVP_PKEY *zone_key;      /* CA: the zone's private key */
  EVP_PKEY *transport_key; /* EP11 */
  GBytes *certificate;     /* EP11: the CA's signature over the transport key */
  EVP_PKEY *signature_key; /* EP11 */
  GPtrArray *parts;        /* KeyPart, by ascending index */
  GBytes *unit_root;       /* EP11: the crypto units' root point; NULL on old cards */

  /* Only between tke_virtual_card_new_ep11() and the certificate */
  gboolean personalizing;

  /* Security state: lost on reset */
  gboolean selected;
  gboolean verified[2];
  gboolean unblock_grant;
  gboolean pin_fresh;     /* the command before this one verified the PIN (81) */
  gboolean pin_fresh_now; /* while a command runs: pin_fresh as it found it */
  TkeSecret *new_pin;
  guint8 new_pin_p2;
  gint64 new_pin_time;
  guint8 challenge[CHALLENGE_SIZE];
  gboolean have_challenge;
  GByteArray *chain;
  guint8 chain_header[3];
  GBytes *pending;
  gsize pending_offset;
};

typedef struct
{
  guint8 cla;
  guint8 ins;
  guint8 p1;
  guint8 p2;
  const guint8 *data;
  gsize size;
} TkeVirtualCardCommand;

/* tke-virtual-card.c */

void _tke_virtual_card_part_free (TkeVirtualCardPart *part);
guint8 _tke_virtual_card_max_tries (TkeVirtualCard *self);
/* The tries a PIN of a card of TYPE starts with. */
guint8 _tke_virtual_card_max_tries_of (guint8 type);

/* What a command that changes the card writes into the chip, staged whole
 * before any of it is the card's, as a card's EEPROM transaction does:
 * _tke_virtual_card_stage() copies the card's, the command changes the
 * copy, and _tke_virtual_card_commit() swaps it in and writes the image
 * once, or, when the image cannot be written, swaps it back out: all or
 * nothing, in memory as in the image.  (Key parts, the signature key and
 * the unit root are not in it: the commands that change one of them put
 * back what they changed.) */
typedef struct
{
  guint8 type;
  guint8 zone[TKE_VIRTUAL_CARD_ZONE_SIZE];
  char *zone_description;
  char *description;
  TkeSecret *pin[2];
  guint8 tries[2];
  GBytes *zone_point;
  EVP_PKEY *zone_key;
  EVP_PKEY *transport_key;
  GBytes *certificate;
  gboolean personalizing;
} TkeVirtualCardStaged;

void _tke_virtual_card_stage (TkeVirtualCard *self, TkeVirtualCardStaged *staged);
void _tke_virtual_card_staged_clear (TkeVirtualCardStaged *staged);
/* The staged card becomes one of TYPE, its PINs with all that type's tries. */
void _tke_virtual_card_stage_type (TkeVirtualCardStaged *staged, guint8 type);
/* A staged description (@field) replaced by SIZE bytes of TEXT. */
void _tke_virtual_card_stage_text (char **field, const guint8 *text, gsize size);
/* The staged card in place of the card, its image written; FALSE leaves
 * the card as it was.  Either way @staged then holds what is not the card's. */
gboolean
_tke_virtual_card_commit (TkeVirtualCard *self, TkeVirtualCardStaged *staged, GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TkeVirtualCardStaged, _tke_virtual_card_staged_clear)

/* tke-virtual-card-image.c */

gboolean _tke_virtual_card_save (TkeVirtualCard *self, GError **error);
/* 1–32 bytes of printable UTF-8. */
gboolean _tke_virtual_card_valid_description (const guint8 *text, gsize size);

/* tke-virtual-card-applet.c */

GBytes *_tke_virtual_card_sw (guint16 sw);
GBytes *_tke_virtual_card_respond (TkeVirtualCard *self, const guint8 *data, gsize size);
GBytes *_tke_virtual_card_respond_bytes (TkeVirtualCard *self, GBytes *data);
gboolean _tke_virtual_card_persist (TkeVirtualCard *self);
/* _tke_virtual_card_commit(), a failure said as _tke_virtual_card_persist() does. */
gboolean _tke_virtual_card_persist_staged (TkeVirtualCard *self, TkeVirtualCardStaged *staged);
void _tke_virtual_card_drop_chain (TkeVirtualCard *self);
TkeVirtualCardPart *
_tke_virtual_card_find_part (TkeVirtualCard *self, guint8 index, guint *position);
gboolean _tke_virtual_card_add_part (
    TkeVirtualCard *self, guint8 index, TkeSecret *value, const guint8 *description, gsize size);
EVP_PKEY *_tke_virtual_card_point_key (const guint8 *data, gsize size);

/* tke-virtual-card-zone.c: the zone's instructions */

GBytes *_tke_virtual_card_cmd_authorize_unblock (TkeVirtualCard *self,
                                                 const TkeVirtualCardCommand *c);
GBytes *_tke_virtual_card_cmd_reset_retry_counter (TkeVirtualCard *self,
                                                   const TkeVirtualCardCommand *c);
GBytes *_tke_virtual_card_cmd_get_certificate (TkeVirtualCard *self,
                                               const TkeVirtualCardCommand *c);
GBytes *_tke_virtual_card_cmd_export_for_copy (TkeVirtualCard *self,
                                               const TkeVirtualCardCommand *c);
GBytes *_tke_virtual_card_cmd_import_copy (TkeVirtualCard *self, const TkeVirtualCardCommand *c);
GBytes *_tke_virtual_card_cmd_certify_card (TkeVirtualCard *self, const TkeVirtualCardCommand *c);

/* tke-virtual-card-blank.c: a blank card's instructions */

GBytes *_tke_virtual_card_cmd_initialize_ca (TkeVirtualCard *self, const TkeVirtualCardCommand *c);
GBytes *_tke_virtual_card_cmd_enrolment_request (TkeVirtualCard *self,
                                                 const TkeVirtualCardCommand *c);
GBytes *_tke_virtual_card_cmd_enroll (TkeVirtualCard *self, const TkeVirtualCardCommand *c);
GBytes *_tke_virtual_card_cmd_personalize (TkeVirtualCard *self, const TkeVirtualCardCommand *c);

/* tke-virtual-card-backup.c: a CA card backed up onto a blank card */

GBytes *_tke_virtual_card_cmd_backup_request (TkeVirtualCard *self, const TkeVirtualCardCommand *c);
GBytes *_tke_virtual_card_cmd_export_ca_backup (TkeVirtualCard *self,
                                                const TkeVirtualCardCommand *c);
GBytes *_tke_virtual_card_cmd_install_ca_backup (TkeVirtualCard *self,
                                                 const TkeVirtualCardCommand *c);

/* tke-virtual-card-export.c */

GBytes *_tke_virtual_card_cmd_export_key_part (TkeVirtualCard *self,
                                               const TkeVirtualCardCommand *c);

/* tke-virtual-card-files.c: keys into and out of password-protected files */

GBytes *_tke_virtual_card_cmd_import_key_part_file (TkeVirtualCard *self,
                                                    const TkeVirtualCardCommand *c);
GBytes *_tke_virtual_card_cmd_export_key_part_file (TkeVirtualCard *self,
                                                    const TkeVirtualCardCommand *c);
GBytes *_tke_virtual_card_cmd_import_signature_key_file (TkeVirtualCard *self,
                                                         const TkeVirtualCardCommand *c);
GBytes *_tke_virtual_card_cmd_export_signature_key_file (TkeVirtualCard *self,
                                                         const TkeVirtualCardCommand *c);

G_END_DECLS
