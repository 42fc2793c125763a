/* card-ceremony-fixture.h: the scene of the GUI card ceremony tests
 * (test-card-ceremonies, test-ceremony-walk) and the person in it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything is real: tke-emulator over HTTPS (demo instance, its two
 * key-file administrators), pcscd with the two virtual PIN-pad readers and
 * card images made with tke-card: two administrator cards (installed on
 * every unit at the start, signed by the demo administrators) and two key
 * part cards, one with two parts.  One scene for the whole test process:
 * the application is one per process.
 */

#pragma once

#include <tke.h>

#include "tke-load-wizard.h"
#include "tke-test-emulator.h"
#include "tke-test-gtk.h"
#include "tke-test-readers.h"
#include "tke-window.h"

G_BEGIN_DECLS

typedef struct
{
  const char *image;
  const char *pin;
  const char *parts[3]; /* key part descriptions; none for an admin card */
} Card;

extern const Card cards[4];
extern TkeApplication *app;
extern char *base_dir; /* the application's private home */
extern TkeReadersFixture readers;
extern Emu *emu;
extern TkeWindow *window;        /* open_and_log_in() opens it */
extern const Card *in_reader[3]; /* by reader number, 1 and 2 */
/* Set before card_ceremony_set_up(): the emulator starts in imprint mode
 * and no administrator is installed. */
extern gboolean card_ceremony_imprint;

/* ---- The scene ---- */

/* In main(): FALSE (a TAP skip is printed) without a display or outside
 * meson test.  Otherwise the emulator, the cards, the readers with
 * admin1.card and kpA.card, the card administrators on every unit, the
 * profile, GTK and the application. */
gboolean card_ceremony_set_up (int *argc, char ***argv, const char *tmpl);
/* The same with the emulator started with @emulator_args (NULL: the demo
 * instance with no KMS keys, as card_ceremony_set_up()). */
gboolean card_ceremony_set_up_with (int *argc,
                                    char ***argv,
                                    const char *tmpl,
                                    const char *const *emulator_args);
void card_ceremony_tear_down (void);

/* ---- The person's hands ---- */

const Card *card_named (const char *image);
/* Out, a moment, in, through the reader's control socket. */
void swap_card (guint reader, const Card *card);
/* Picked from @reader's Cards menu in the readers strip @bar (the
 * window's or a dialog's); waits until the reader holds it. */
void swap_in_strip (TkeReadersBar *bar, guint reader, const Card *card);
/* How a test swaps the card a prompt asks for. */
typedef void (*CardSwap) (guint reader, const Card *card);
/* The digits and OK pressed on the on-screen pad, once the reader waits. */
void type_pin (const char *pin);
/* The same on the pad of @prompt (a rotation dialog's, say). */
void type_pin_on (TkePinPrompt *prompt, const char *pin);
/* Wait condition: the pad args[0] has answered at least args[1] keys. */
gboolean replies_reach (gpointer data);
/* The person at reader 1 during a signing ceremony, until it ends. */
void sign_until_done (CardSwap swap);
/* What the last sign_until_done() took: PIN entries, and cards swapped in. */
extern guint n_pins_typed;
extern guint n_swaps;

/* ---- What the person reads ---- */

TkeLoadWizard *wizard (void);
TkePinPrompt *prompt (void);
gboolean pad_waits (gpointer data);
void wait_prompt (TkePinPromptState state, const char *title_part);
gboolean description_says (gpointer data);
gboolean wizard_ended (gpointer data);
gboolean pin_taken (gpointer data);
/* The administrator card the prompt's text @asked names, or NULL. */
const Card *admin_card_asked (const char *asked);

/* ---- The application ---- */

TkeCryptoUnit *unit_at (guint i);
/* Opens the window, logs in with the API key, selects the 3 units and
 * shows the Master keys page. */
void open_and_log_in (void);
void press_keys_button (const char *label);
/* Answers "go" in the ceremony's confirmation dialog. */
void confirm (const char *go);
void close_wizard (void);
/* On the result or error page: the header offers nothing that does not
 * apply (no Cancel, no insensitive button). */
void assert_wizard_header_finished (void);
/* Wait conditions: every unit's new (current) register in state @data. */
gboolean units_in_state (gpointer data);
gboolean current_in_state (gpointer data);

/* ---- Set-up ---- */

void make_cards (void);
/* The card's administrator, installed on every unit (threshold 2). */
void install_card_admin (const Card *card);
void write_profile (void);

G_END_DECLS
