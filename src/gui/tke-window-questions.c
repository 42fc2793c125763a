/* tke-window-questions.c: what the window asks before a ceremony starts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each question says what the ceremony does, and what cannot be undone,
 * before anything is sent; Cancel is the default and what Escape does.
 * The ceremonies of the Master keys, Administrators, Signature
 * thresholds and Imprint mode tabs, then the recovery-unit path's:
 * auto-init asks how many administrators (the card in reader 1, or the
 * cards in both readers); the other kinds take their units' thresholds,
 * which libtke reads.  Setting thresholds and removing an administrator
 * say their numbers and whom.
 */

#include "config.h"

#include <glib/gi18n.h>
#include <tke.h>

#include "tke-administrators-page.h"
#include "tke-thresholds-page.h"
#include "tke-window-private.h"

/* A question: its words (untranslated) and how its "go" answer looks. */
typedef struct
{
  const char *heading;
  const char *body; /* NULL: set when asked */
  const char *go;
  AdwResponseAppearance appearance;
} Question;

typedef struct
{
  TkeCeremonyKind kind;
  Question question;
} Confirmation;

static const Confirmation confirmations[] = {
  { TKE_CEREMONY_ROTATE,
    { N_ ("Rotate the Master Key?"),
      N_ ("The service re-encrypts its key storage from the current master key to the new one, "
          "then "
          "sets the new key "
          "on every selected crypto unit. The dialog shows how many keys are rewrapped as it "
          "goes.\n\n"
          "While it runs, keys can be listed, read and deleted, but creating or rotating keys, "
          "PKCS "
          "#11 and GREP11 calls are refused.\n\n"
          "Applications that keep key blobs of their own must have rewrapped them (RewrapKeyBlob) "
          "before this step: afterwards it is too late."),
      N_ ("_Rotate"), ADW_RESPONSE_SUGGESTED } },
  { TKE_CEREMONY_SET_IMMEDIATE,
    { N_ ("Set the New Master Key Now?"),
      N_ ("The committed new master key becomes the current one on the selected crypto units, and "
          "the new registers are emptied. This cannot be reversed: the key that is current now is "
          "gone from these units, and whatever is still wrapped under it cannot be used any "
          "more.\n\n"
          "Continue only when the service's key storage is wrapped under the new master key "
          "already (the rotation rewrapped every key, or the Recovery tab offers Set immediate), "
          "or "
          "when the service holds no keys yet."),
      N_ ("_Set Immediate"), ADW_RESPONSE_SUGGESTED } },
  { TKE_CEREMONY_CLEAR_NEW,
    { N_ ("Clear the New Master Key Registers?"),
      N_ ("The loaded new master key is erased from the selected crypto units. To use it, its "
          "parts "
          "must be loaded again."),
      N_ ("Clear _New"), ADW_RESPONSE_DESTRUCTIVE } },
  { TKE_CEREMONY_CLEAR_CURRENT,
    { N_ ("Clear the Current Master Key Registers?"),
      N_ ("The current register holds the key that wraps the service's key storage. Without it, no "
          "key can be used until a key "
          "with the same verification pattern is loaded and set again. Clear it only when the key "
          "storage is wrapped under another key."),
      N_ ("Clear C_urrent"), ADW_RESPONSE_DESTRUCTIVE } },
  { TKE_CEREMONY_ZEROIZE,
    { N_ ("Zeroize the Selected Crypto Units?"),
      N_ ("Zeroizing erases everything the selected crypto units hold: every administrator, both "
          "signature thresholds, and the new and current master key registers. The units return to "
          "imprint mode.\n\n"
          "This cannot be undone. Whatever is wrapped under the current master key cannot be used "
          "until the same key is loaded again from its key parts, and the units must be set up "
          "again."),
      N_ ("_Zeroize"), ADW_RESPONSE_DESTRUCTIVE } },
};

typedef struct
{
  TkeCeremonyKind kind;
  GListModel *units;
} Confirmed;

static void
confirmed_free (gpointer data)
{
  Confirmed *c = data;

  g_clear_object (&c->units);
  g_free (c);
}

static void
on_confirmed (AdwMessageDialog *dialog, const char *response, TkeWindow *self)
{
  Confirmed *c = g_object_get_data (G_OBJECT (dialog), "tke-confirmed");

  if (g_str_equal (response, "go"))
    _tke_window_start_ceremony (self, c->kind, c->units,
                                _tke_window_ceremony_dialog (self, c->kind));
}

/* A question before a ceremony: Cancel is the default and what Escape
 * does; "go" starts it.  Not yet presented. */
static AdwMessageDialog *
question_dialog_new (TkeWindow *self, const Question *q)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (
      GTK_WINDOW (self), _ (q->heading), q->body != NULL ? _ (q->body) : NULL));

  adw_message_dialog_add_responses (dialog, "cancel", _ ("_Cancel"), "go", _ (q->go), NULL);
  adw_message_dialog_set_response_appearance (dialog, "go", q->appearance);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  return dialog;
}

static AdwMessageDialog *
confirm (TkeWindow *self, const Confirmation *c, GListModel *units)
{
  AdwMessageDialog *dialog = question_dialog_new (self, &c->question);
  Confirmed *confirmed = g_new0 (Confirmed, 1);

  confirmed->kind = c->kind;
  confirmed->units = g_object_ref (units);
  g_object_set_data_full (G_OBJECT (dialog), "tke-confirmed", confirmed, confirmed_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_confirmed), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

/* What the new thresholds mean, said before they are set: leaving imprint
 * mode above all. */
static void
confirm_thresholds (TkeWindow *self, GListModel *units)
{
  g_autofree char *body = NULL;
  Confirmation c = { TKE_CEREMONY_SET_THRESHOLDS,
                     { N_ ("Set the Signature Thresholds?"), NULL, N_ ("_Set Thresholds"),
                       ADW_RESPONSE_SUGGESTED } };
  guint sig, rev;

  tke_thresholds_page_get_chosen (tke_window_get_thresholds_page (self), &sig, &rev);
  if (tke_instance_setup_leaves_imprint_mode (units))
    body = g_strdup_printf (
        _ ("This takes the selected crypto units out of imprint mode. From then on every command "
           "needs %u administrator signatures, removing an administrator needs %u, and "
           "administrators can no longer be added without signatures. Only zeroizing returns a "
           "unit to imprint mode.\n\nSetting the thresholds takes %u signatures now."),
        sig, rev, tke_instance_setup_get_n_signers (TKE_CEREMONY_SET_THRESHOLDS, units, sig));
  else
    body = g_strdup_printf (_ ("From then on every command needs %u administrator signatures, "
                               "and removing an administrator needs %u."),
                            sig, rev);
  adw_message_dialog_set_body (confirm (self, &c, units), body);
}

/* Whom, before the revocation threshold's signatures are collected. */
static void
confirm_removal (TkeWindow *self, GListModel *units)
{
  const char *ski =
      tke_administrators_page_get_selected_ski (tke_window_get_administrators_page (self));
  g_autofree char *groups = ski != NULL ? tke_vp_format_groups (ski) : NULL;
  g_autofree char *body = NULL;
  Confirmation c = { TKE_CEREMONY_REMOVE_ADMIN,
                     { N_ ("Remove the Administrator?"), NULL, N_ ("_Remove"),
                       ADW_RESPONSE_DESTRUCTIVE } };

  body = g_strdup_printf (_ ("The administrator with the signature key\n%s\nis removed from the "
                             "selected crypto units: its card signs nothing for them any more. "
                             "This takes %u signatures (the revocation threshold)."),
                          groups != NULL ? groups : "",
                          tke_instance_setup_get_n_signers (TKE_CEREMONY_REMOVE_ADMIN, units, 0));
  adw_message_dialog_set_body (confirm (self, &c, units), body);
}

void
_tke_window_confirm_ceremony (TkeWindow *self, TkeCeremonyKind kind, GListModel *units)
{
  if (kind == TKE_CEREMONY_SET_THRESHOLDS)
    {
      confirm_thresholds (self, units);
      return;
    }
  if (kind == TKE_CEREMONY_REMOVE_ADMIN)
    {
      confirm_removal (self, units);
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (confirmations); i++)
    if (confirmations[i].kind == kind)
      {
        confirm (self, &confirmations[i], units);
        return;
      }
  _tke_window_start_ceremony (self, kind, units, _tke_window_ceremony_dialog (self, kind));
}

/* Indexed by TkeAutoKind. */
static const Question auto_questions[] = {
  [TKE_AUTO_INIT] = { N_ ("Initialize with Recovery Units?"),
                      N_ ("The administrator card in reader 1 (and the one in reader 2, for two "
                          "administrators) "
                          "is installed on every crypto unit of the instance, recovery units "
                          "included. The "
                          "signature threshold is set to the number of administrators and the "
                          "revocation threshold "
                          "to 1, which ends imprint mode. Then a recovery unit makes a random "
                          "master key and copies "
                          "it to every other unit, sealed to each unit's certified importer key: "
                          "the key never "
                          "leaves the crypto units."),
                      N_ ("_Initialize"), ADW_RESPONSE_SUGGESTED },
  [TKE_AUTO_MK_ROTATE] = { N_ ("Rotate with Recovery Units?"),
                           N_ ("A recovery unit makes a random new master key and copies it into "
                               "every unit's new "
                               "register. After “Delaying 30 seconds…” the service re-encrypts its "
                               "key storage under "
                               "it, then the new key is set on every unit.\n\n"
                               "Once the delay was reached, a stopped rotation is finished with "
                               "Rotate, never by "
                               "rotating with recovery units again: the Recovery tab says so."),
                           N_ ("_Rotate"), ADW_RESPONSE_SUGGESTED },
  [TKE_AUTO_RECOVER] = { N_ ("Recover from a Recovery Unit?"),
                         N_ ("The current master key of a recovery unit is copied to every crypto "
                             "unit whose current "
                             "register is Empty (a replaced or zeroized unit), sealed to its "
                             "certified importer key; a "
                             "unit in imprint mode first gets the administrator cards that sign "
                             "and the thresholds."),
                         N_ ("_Recover"), ADW_RESPONSE_SUGGESTED },
  [TKE_AUTO_FAILOVER] = { N_ ("Enable Failover Crypto Units?"),
                          N_ ("The service adds failover crypto units to the instance, up to 2. "
                              "Each gets the "
                              "administrator cards that sign, the thresholds and the current "
                              "master key from a "
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
  AdwMessageDialog *dialog;

  g_return_if_fail ((guint) kind < G_N_ELEMENTS (auto_questions));
  dialog = question_dialog_new (self, &auto_questions[kind]);

  g_object_set_data (G_OBJECT (dialog), "tke-auto-kind", GINT_TO_POINTER (kind));
  /* How many administrators: the other ceremonies take the thresholds'. */
  if (kind == TKE_AUTO_INIT)
    adw_message_dialog_set_extra_child (
        dialog, gtk_check_button_new_with_mnemonic (
                    _ ("_Two administrators: the cards in reader 1 and reader 2")));
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_auto_confirmed), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}
