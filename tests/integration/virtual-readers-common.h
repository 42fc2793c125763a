/* virtual-readers-common.h: a PC/SC client session and a person at the virtual readers, for
 * test-virtual-readers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <reader.h>
#include <tke.h>

#include "card-unit-common.h"
#include "tke-test-readers.h"

extern TkeReadersFixture fixture;
/* The crypto unit whose root the cards of make_card() hold. */
extern CardTestUnit *card_unit;

typedef struct
{
  SCARDCONTEXT context;
  SCARDHANDLE card;
  DWORD verify_ioctl;
} Session;

/* APDUs; the status word is returned. */
guint transmit (Session *s, const guint8 *apdu, gsize size, guint8 *out, gsize *out_size);
/* A command chained when long, with GET RESPONSE: the answer's data. */
GBytes *command (Session *s,
                 guint8 cla,
                 guint8 ins,
                 guint8 p1,
                 guint8 p2,
                 const guint8 *data,
                 gsize size,
                 guint *sw);
DWORD feature_ioctl (Session *s, guint8 tag);
/* Connects to the card in READER (waiting for it) and selects the applet. */
void session_open (Session *s, guint reader);
void session_close (Session *s);

/* VERIFY_PIN_DIRECT for PIN reference P2 (verify_on_pad: 81). */
guint verify_on_pad_ref (Session *s, guint8 timeout, guint8 p2);
guint verify_on_pad (Session *s, guint8 timeout);
/* A person at READER: waits for the PIN prompt, then does ACTION. */
GThread *person (guint reader, const char *action);
/* The same, with a person at READER doing ACTION at the prompt. */
guint verify_ref_with (Session *s, guint reader, guint8 p2, const char *action);
guint verify_with (Session *s, guint reader, const char *action);

void make_card (const char *name, const char *pin, const char *zone_ca);
void make_card_without_root (const char *name, const char *pin, const char *zone_ca);
/* Out, seen out by pcscd, then NAME in. */
void insert (guint reader, const char *name);

/* The g_test_add() fixture of every test here: the scene it starts from.
 * pcscd runs with admin1.card in reader 1 and keyparts.card in reader 2;
 * the set-up puts back what a test before changed (a card swapped, pcscd
 * restarted), so a test need not restore the readers itself. */
typedef struct
{
  TkeReadersFixture *readers; /* the process's readers: pcscd is slow to start */
} Scene;

void scene_set_up (Scene *scene, gconstpointer data);
#define add_scene_test(path, func) g_test_add ((path), Scene, NULL, scene_set_up, (func), NULL)

/* test-virtual-readers-copy.c */
void add_copy_tests (void);
void add_export_tests (void);
/* test-virtual-readers-files.c */
void add_file_tests (void);
/* test-virtual-readers-blank.c */
void add_blank_tests (void);
