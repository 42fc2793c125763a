/* tke-window-auto.c: the recovery-unit path's confirmations, before the
 * rotation dialog that runs it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each says what the ceremony does before anything starts, Cancel the
 * default.  auto-init asks how many administrators: the card in reader 1,
 * or the cards in both readers (signature threshold 2).  The other kinds
 * take their units' thresholds, which libtke reads.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-window-private.h"

typedef struct
{
  TkeAutoKind kind;
  const char *heading;
  const char *body;
  const char *go;
  AdwResponseAppearance appearance;
} AutoConfirmation;

static const AutoConfirmation auto_confirmations[] = {
  { TKE_AUTO_INIT, N_ ("Initialize with Recovery Units?"),
    N_ ("The administrator card in reader 1 (and the one in reader 2, for two administrators) "
        "is installed on every crypto unit of the instance, recovery units included. The "
        "signature threshold is set to the number of administrators and the revocation threshold "
        "to 1, which ends imprint mode. Then a recovery unit makes a random master key and copies "
        "it to every other unit, sealed to each unit's certified importer key: the key never "
        "leaves the crypto units."),
    N_ ("_Initialize"), ADW_RESPONSE_SUGGESTED },
  { TKE_AUTO_MK_ROTATE, N_ ("Rotate with Recovery Units?"),
    N_ ("A recovery unit makes a random new master key and copies it into every unit's new "
        "register. After “Delaying 30 seconds…” the service re-encrypts its key storage under "
        "it, then the new key is set on every unit.\n\n"
        "Once the delay was reached, a stopped rotation is finished with Rotate, never by "
        "rotating with recovery units again: the Recovery tab says so."),
    N_ ("_Rotate"), ADW_RESPONSE_SUGGESTED },
  { TKE_AUTO_RECOVER, N_ ("Recover from a Recovery Unit?"),
    N_ ("The current master key of a recovery unit is copied to every crypto unit whose current "
        "register is Empty (a replaced or zeroized unit), sealed to its certified importer key; a "
        "unit in imprint mode first gets the administrator cards that sign and the thresholds."),
    N_ ("_Recover"), ADW_RESPONSE_SUGGESTED },
  { TKE_AUTO_FAILOVER, N_ ("Enable Failover Crypto Units?"),
    N_ ("The service adds failover crypto units to the instance, up to 2. Each gets the "
        "administrator cards that sign, the thresholds and the current master key from a "
        "recovery unit."),
    N_ ("_Enable"), ADW_RESPONSE_SUGGESTED },
};

void
_tke_window_start_auto (TkeWindow *self, TkeAutoKind kind, guint n_admins)
{
  GtkWindow *dialog = _tke_window_new_rotation_dialog (self);

  _tke_window_present_ceremony (self, dialog);
  if (!_tke_window_emit_auto (self, kind, dialog, n_admins))
    _tke_window_no_service (self, dialog);
}

static void
on_auto_confirmed (AdwMessageDialog *dialog, const char *response, TkeWindow *self)
{
  GtkWidget *two = adw_message_dialog_get_extra_child (dialog);

  if (g_str_equal (response, "go"))
    _tke_window_start_auto (
        self, GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "tke-auto-kind")),
        two != NULL && gtk_check_button_get_active (GTK_CHECK_BUTTON (two)) ? 2 : 1);
}

void
_tke_window_confirm_auto (TkeWindow *self, TkeAutoKind kind)
{
  const AutoConfirmation *c;
  AdwMessageDialog *dialog;

  g_return_if_fail ((guint) kind < G_N_ELEMENTS (auto_confirmations));
  c = &auto_confirmations[kind];
  dialog = _tke_window_confirmation_dialog_new (self, c->heading, c->body, c->go, c->appearance);

  g_object_set_data (G_OBJECT (dialog), "tke-auto-kind", GINT_TO_POINTER (kind));
  /* How many administrators: the other ceremonies take the thresholds'. */
  if (kind == TKE_AUTO_INIT)
    adw_message_dialog_set_extra_child (
        dialog, gtk_check_button_new_with_mnemonic (
                    _ ("_Two administrators: the cards in reader 1 and reader 2")));
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_auto_confirmed), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}
