/* tke-test-readers.h: the virtual PIN-pad readers under a private pcscd (the
 * real launcher, pcscd and driver), and the tke-card tool on their cards
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <winscard.h>

typedef struct
{
  char *dir; /* temporary: cards, chip key, state */
  char *state_dir;
  GSubprocess *launcher;
  GPid pcscd; /* from the ready line */
} TkeReadersFixture;

/* Creates the temporary directory and points PCSCLITE_CSOCK_NAME and
 * TKE_CARD_CHIP_KEY at it.  Call before any PC/SC call. */
void tke_readers_fixture_init (TkeReadersFixture *f);
/* Starts tke-virtual-readers and waits for its ready line (it waits for
 * both readers with SCardGetStatusChange itself).  CARD1/CARD2 may be NULL. */
void tke_readers_fixture_start (TkeReadersFixture *f, const char *card1, const char *card2);
void tke_readers_fixture_stop (TkeReadersFixture *f);
void tke_readers_fixture_clear (TkeReadersFixture *f);

/* One control-socket command; returns the answer line without "\n". */
char *tke_readers_ctl (TkeReadersFixture *f, guint reader, const char *command);
/* Runs tke-card with PINS (one a line) as its PIN file; returns its exit status. */
int
tke_readers_card (TkeReadersFixture *f, const char *pins, const char *const *args, char **output);
char *tke_readers_path (TkeReadersFixture *f, const char *name);
/* TRUE when the card in @reader is the image @name (of the fixture's
 * directory), as the reader's control socket says. */
gboolean tke_readers_holds (TkeReadersFixture *f, guint reader, const char *name);

/* Waits with SCardGetStatusChange until the reader's card is present or absent. */
void tke_readers_wait_card (SCARDCONTEXT context, guint reader, gboolean present);
char *tke_readers_name (SCARDCONTEXT context, guint reader);
