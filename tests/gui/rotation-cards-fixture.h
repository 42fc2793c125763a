/* rotation-cards-fixture.h: the rotation tests' emulator, readers, window
 * and the person's hands at the rotation dialog
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tke-application.h"
#include "tke-rotation-dialog.h"
#include "tke-test-emulator.h"
#include "tke-test-readers.h"
#include "tke-window.h"

G_BEGIN_DECLS

#define ADMIN_CARD "admin1.card"
#define ADMIN_PIN "100001"

typedef struct
{
  char *dir;
  Emu *emu;
  TkeWindow *window;
  char *vp;
} Fixture;

extern TkeApplication *app;
extern char *base_dir;
extern TkeReadersFixture readers;

char *card_public_key_hex (char **name);
char *prepare_service (Emu *emu);
void assert_rotated (Fixture *f);
void write_profile (Fixture *f);
gboolean units_shown (gpointer data);
void fixture_start (Fixture *f, const char *const *emulator_args);
void fixture_tear_down (Fixture *f, gconstpointer data);
TkeRotationDialog *rotation_dialog (void);
gboolean dialog_finished (gpointer data);
gboolean prompt_in_state (gpointer data);
gboolean rotate_offered (gpointer keys);
void click_rotate (Fixture *f);
void wait_for_reader_prompt (void);
gboolean replies_reach (gpointer data);
void press_on_pad (TkeRotationDialog *dialog, const char *keys, const char *last);
gboolean in_view (TkeRotationDialog *dialog, GtkWidget *widget);
gboolean shows_label_containing (GtkWidget *root, const char *text);
void make_cards (void);
void assert_dialog_report (TkeRotationDialog *dialog,
                           const char *kind,
                           const char *outcome,
                           const char *screenshot);

G_END_DECLS
