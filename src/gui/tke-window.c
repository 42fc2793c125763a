/* tke-window.c: the main window: header, tabs, readers strip, dialogs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window lays out the pages and opens the ceremony dialogs after the
 * confirmations.  It does not talk to the service or the cards: whoever
 * holds the libtke objects (the application) listens to ::log-in,
 * ::refresh and ::ceremony and drives the pages and dialogs it is given.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-administrators-page.h"
#include "tke-history-page.h"
#include "tke-imprint-page.h"
#include "tke-load-wizard.h"
#include "tke-login-dialog.h"
#include "tke-rotation-dialog.h"
#include "tke-thresholds-page.h"
#include "tke-window-private.h"

struct _TkeWindow
{
  AdwApplicationWindow parent_instance;

  GSettings *settings;
  TkeLoginState login_state;
  char *instance;
  char *endpoint;
  char *controls[2];
  GtkWindow *ceremony_window; /* weak */
  GListModel *units;

  AdwViewStack *stack;
  GtkLabel *login_label;
  GtkImage *login_icon;
  GtkRevealer *banner;
  AdwToastOverlay *toasts;
  TkeCryptoUnitsPage *units_page;
  TkeMasterKeysPage *keys_page;
  TkeRecoveryPage *recovery_page;
  TkeAdministratorsPage *admins_page;
  TkeThresholdsPage *thresholds_page;
  TkeImprintPage *imprint_page;
  TkeHistoryPage *history_page;
  TkeSmartCardPage *smart_card_page;
  TkeReadersBar *readers_bar;
  GtkWidget *menu_button;
  GtkWidget *login_button;
  GtkPopover *instance_popover;
  GtkLabel *instance_details;
  GMenu *demo_section;
  char *demo_faults_file;
};

G_DEFINE_FINAL_TYPE (TkeWindow, tke_window, ADW_TYPE_APPLICATION_WINDOW)

enum
{
  SIGNAL_LOG_IN,
  SIGNAL_REFRESH,
  SIGNAL_CEREMONY,
  SIGNAL_RECOVER,
  SIGNAL_AUTO,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

TkeWindow *
tke_window_new (TkeApplication *application)
{
  return g_object_new (TKE_TYPE_WINDOW, "application", application, NULL);
}

TkeCryptoUnitsPage *
tke_window_get_units_page (TkeWindow *self)
{
  return self->units_page;
}

TkeMasterKeysPage *
tke_window_get_master_keys_page (TkeWindow *self)
{
  return self->keys_page;
}

TkeAdministratorsPage *
tke_window_get_administrators_page (TkeWindow *self)
{
  return self->admins_page;
}

TkeThresholdsPage *
tke_window_get_thresholds_page (TkeWindow *self)
{
  return self->thresholds_page;
}

TkeImprintPage *
tke_window_get_imprint_page (TkeWindow *self)
{
  return self->imprint_page;
}

TkeHistoryPage *
tke_window_get_history_page (TkeWindow *self)
{
  return self->history_page;
}

/* Reader @reader's control socket, when the readers are virtual. */
const char *
tke_window_get_virtual_reader (TkeWindow *self, guint reader)
{
  g_return_val_if_fail (reader == 1 || reader == 2, NULL);
  return self->controls[reader - 1];
}

/* While a ceremony runs, no other is offered. */
void
tke_window_set_ceremony_busy (TkeWindow *self, gboolean busy)
{
  g_return_if_fail (TKE_IS_WINDOW (self));
  tke_master_keys_page_set_busy (self->keys_page, busy);
  tke_administrators_page_set_busy (self->admins_page, busy);
  tke_thresholds_page_set_busy (self->thresholds_page, busy);
  tke_imprint_page_set_busy (self->imprint_page, busy);
  tke_crypto_units_page_set_busy (self->units_page, busy);
}

/**
 * tke_window_get_smart_card_page:
 *
 * Returns: (transfer none): the Smart card tab
 */
TkeSmartCardPage *
tke_window_get_smart_card_page (TkeWindow *self)
{
  g_return_val_if_fail (TKE_IS_WINDOW (self), NULL);
  return self->smart_card_page;
}

TkeRecoveryPage *
tke_window_get_recovery_page (TkeWindow *self)
{
  return self->recovery_page;
}

TkeReadersBar *
tke_window_get_readers_bar (TkeWindow *self)
{
  return self->readers_bar;
}

void
tke_window_add_toast (TkeWindow *self, const char *text)
{
  g_return_if_fail (TKE_IS_WINDOW (self));
  adw_toast_overlay_add_toast (self->toasts, adw_toast_new (text));
}

/* ---- Login state and the expired-token banner ---- */

void
tke_window_set_login_state (TkeWindow *self, TkeLoginState state, const char *instance)
{
  g_autofree char *text = NULL;

  g_return_if_fail (TKE_IS_WINDOW (self));

  self->login_state = state;
  if (instance != self->instance) /* callers pass self->instance back */
    {
      g_free (self->instance);
      self->instance = g_strdup (instance);
    }
  switch (state)
    {
    case TKE_LOGIN_STATE_LOGGED_OUT:
      text = g_strdup (_ ("Not logged in"));
      break;
    case TKE_LOGIN_STATE_LOGGING_IN:
      text = g_strdup (_ ("Logging in…"));
      break;
    case TKE_LOGIN_STATE_LOGGED_IN:
      /* Translators: the service instance in the header bar */
      text = instance != NULL ? g_strdup_printf (_ ("Instance %s"), instance)
                              : g_strdup (_ ("Logged in"));
      break;
    case TKE_LOGIN_STATE_EXPIRED:
    default:
      text = g_strdup (_ ("Session expired"));
      break;
    }
  gtk_label_set_text (self->login_label, text);
  gtk_image_set_from_icon_name (self->login_icon,
                                state == TKE_LOGIN_STATE_LOGGED_IN ? "network-server-symbolic"
                                : state == TKE_LOGIN_STATE_EXPIRED ? "dialog-warning-symbolic"
                                                                   : "system-lock-screen-symbolic");
  /* The banner leaves the pages and any open ceremony alone: logging in
   * again continues where the ceremony waits. */
  gtk_revealer_set_reveal_child (self->banner, state == TKE_LOGIN_STATE_EXPIRED);
  if (state == TKE_LOGIN_STATE_LOGGED_OUT)
    tke_crypto_units_page_set_state (self->units_page, TKE_CRYPTO_UNITS_PAGE_NOT_LOGGED_IN, NULL);
}

TkeLoginState
tke_window_get_login_state (TkeWindow *self)
{
  g_return_val_if_fail (TKE_IS_WINDOW (self), TKE_LOGIN_STATE_LOGGED_OUT);
  return self->login_state;
}

gboolean
tke_window_get_banner_revealed (TkeWindow *self)
{
  g_return_val_if_fail (TKE_IS_WINDOW (self), FALSE);
  return gtk_revealer_get_reveal_child (self->banner);
}

const char *
tke_window_get_login_text (TkeWindow *self)
{
  g_return_val_if_fail (TKE_IS_WINDOW (self), NULL);
  return gtk_label_get_text (self->login_label);
}

void
tke_window_set_endpoint (TkeWindow *self, const char *endpoint)
{
  g_return_if_fail (TKE_IS_WINDOW (self));
  g_free (self->endpoint);
  self->endpoint = g_strdup (endpoint);
}

/* The window a dialog goes on top of: the open ceremony if there is one,
 * so that logging in again never hides or ends it. */
GtkWindow *
tke_window_get_ceremony_window (TkeWindow *self)
{
  g_return_val_if_fail (TKE_IS_WINDOW (self), NULL);
  return self->ceremony_window;
}

static GtkWindow *
top_window (TkeWindow *self)
{
  return self->ceremony_window != NULL ? self->ceremony_window : GTK_WINDOW (self);
}

static void
on_log_in (TkeLoginDialog *dialog, const char *api_key, TkeWindow *self)
{
  if (!g_signal_has_handler_pending (self, signals[SIGNAL_LOG_IN], 0, FALSE))
    {
      tke_login_dialog_set_error (
          dialog,
          _ ("No service is configured for this workstation. "
             "Start the demo (build-aux/demo) or set the service endpoint in your profile."));
      return;
    }
  tke_window_set_login_state (self, TKE_LOGIN_STATE_LOGGING_IN, self->instance);
  g_signal_emit (self, signals[SIGNAL_LOG_IN], 0, api_key, dialog);
}

static void
log_in_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeWindow *self = TKE_WINDOW (widget);
  TkeLoginDialog *dialog = tke_login_dialog_new (top_window (self), self->endpoint);

  g_signal_connect_object (dialog, "log-in", G_CALLBACK (on_log_in), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The header's instance button: logged in, it says where, and offers to
 * log in again; otherwise it is the way to log in. */
static void
instance_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeWindow *self = TKE_WINDOW (widget);
  g_autofree char *text = NULL;

  if (self->login_state != TKE_LOGIN_STATE_LOGGED_IN)
    {
      log_in_action (widget, "win.log-in", NULL);
      return;
    }
  /* Translators: "Logged in to service instance a1b2… at https://…" */
  text = g_strdup_printf (_ ("Logged in to service instance %s at %s."),
                          self->instance != NULL ? self->instance : "?",
                          self->endpoint != NULL ? self->endpoint : "?");
  gtk_label_set_text (self->instance_details, text);
  gtk_popover_popup (self->instance_popover);
}

GtkPopover *
tke_window_get_instance_popover (TkeWindow *self)
{
  g_return_val_if_fail (TKE_IS_WINDOW (self), NULL);
  return self->instance_popover;
}

static void
build_instance_popover (TkeWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *again = gtk_button_new_with_mnemonic (_ ("_Log In Again…"));

  self->instance_details = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->instance_details, TRUE);
  gtk_label_set_max_width_chars (self->instance_details, 40);
  gtk_label_set_xalign (self->instance_details, 0);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (again), "win.log-in");
  gtk_widget_set_halign (again, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->instance_details));
  gtk_box_append (GTK_BOX (box), again);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  self->instance_popover = GTK_POPOVER (gtk_popover_new ());
  gtk_popover_set_child (self->instance_popover, box);
  gtk_widget_set_parent (GTK_WIDGET (self->instance_popover), self->login_button);
  g_signal_connect_swapped (again, "clicked", G_CALLBACK (gtk_popover_popdown),
                            self->instance_popover);
}

/* ---- Units ---- */

void
tke_window_set_units (TkeWindow *self, GListModel *units)
{
  g_return_if_fail (TKE_IS_WINDOW (self));

  g_set_object (&self->units, units);
  tke_crypto_units_page_set_units (self->units_page, units);
  tke_master_keys_page_set_units (self->keys_page, units);
  tke_administrators_page_set_units (self->admins_page, units);
  tke_thresholds_page_set_units (self->thresholds_page, units);
  tke_imprint_page_set_units (self->imprint_page, units);
  if (units == NULL)
    return;
  if (g_list_model_get_n_items (units) == 0)
    tke_crypto_units_page_set_state (self->units_page, TKE_CRYPTO_UNITS_PAGE_NO_INSTANCES, NULL);
  else
    tke_crypto_units_page_set_state (self->units_page, TKE_CRYPTO_UNITS_PAGE_READY, NULL);
}

static void
on_refresh (TkeWindow *self)
{
  g_signal_emit (self, signals[SIGNAL_REFRESH], 0);
}

static void
refresh_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  on_refresh (TKE_WINDOW (widget));
}

static void
show_page_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  adw_view_stack_set_visible_child_name (TKE_WINDOW (widget)->stack,
                                         g_variant_get_string (parameter, NULL));
}

void
tke_window_set_virtual_readers (TkeWindow *self,
                                const char *reader1_control,
                                const char *reader2_control)
{
  g_return_if_fail (TKE_IS_WINDOW (self));

  g_free (self->controls[0]);
  g_free (self->controls[1]);
  self->controls[0] = g_strdup (reader1_control);
  self->controls[1] = g_strdup (reader2_control);
  tke_readers_bar_set_virtual (self->readers_bar, reader1_control != NULL);
  tke_smart_card_page_set_virtual_pads (self->smart_card_page, reader1_control, reader2_control);
}

/* ---- The demo ---- */

/* The emulator reads and removes this file when the next rotation starts
 * (tke-emulator --faults-file, data/doc/service-protocol.md §9). */
#define DEMO_FAIL_AFTER_KEYS 1000

static void
demo_fail_rotation_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeWindow *self = TKE_WINDOW (widget);
  g_autofree char *faults =
      g_strdup_printf ("[faults]\nfail-after-keys=%d\n", DEMO_FAIL_AFTER_KEYS);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  if (self->demo_faults_file == NULL)
    return;
  if (!g_file_set_contents (self->demo_faults_file, faults, -1, &error))
    {
      text = g_strdup_printf (_ ("The emulator’s fault could not be armed: %s"), error->message);
      tke_window_add_toast (self, text);
      return;
    }
  text = g_strdup_printf (
      _ ("The next rotation will stop after %d keys. Rotate, then follow the Recovery tab."),
      DEMO_FAIL_AFTER_KEYS);
  tke_window_add_toast (self, text);
}

/**
 * tke_window_set_demo:
 * @cards_dir: (nullable): the demo's card images, offered by the readers
 *   strip's "Cards" menus (needs tke_window_set_virtual_readers())
 * @faults_file: (nullable): the emulator's --faults-file, for the main
 *   menu's "Demo: Make the Next Rotation Fail"
 */
void
tke_window_set_demo (TkeWindow *self, const char *cards_dir, const char *faults_file)
{
  g_return_if_fail (TKE_IS_WINDOW (self));

  tke_readers_bar_set_card_switcher (self->readers_bar, cards_dir, self->controls[0],
                                     self->controls[1]);
  g_free (self->demo_faults_file);
  self->demo_faults_file = g_strdup (faults_file);
  g_menu_remove_all (self->demo_section);
  if (faults_file != NULL)
    g_menu_append (self->demo_section, _ ("Demo: Make the Next Rotation _Fail"),
                   "win.demo-fail-rotation");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.demo-fail-rotation", faults_file != NULL);
}

/* ---- Recovery ---- */

void
tke_window_set_recovery (TkeWindow *self, TkeRecoveryAction action, const char *explanation)
{
  tke_window_set_auto_recovery (self, action, explanation, FALSE);
}

/* @auto_path: the advice is tke_recovery_advise_auto_rotate()'s, about a
 * rotation auto-mk-rotate started: its Rotate means auto-mk-rotate again,
 * its Resume the plain Rotate; the rerun it forbids is not offered. */
void
tke_window_set_auto_recovery (TkeWindow *self,
                              TkeRecoveryAction action,
                              const char *explanation,
                              gboolean auto_path)
{
  g_return_if_fail (TKE_IS_WINDOW (self));

  tke_recovery_page_set_auto_path (self->recovery_page, auto_path);
  tke_master_keys_page_set_auto_advice (self->keys_page,
                                        auto_path ? action : TKE_RECOVERY_ACTION_NONE);
  tke_recovery_page_set_advice (self->recovery_page, action, explanation,
                                tke_master_keys_page_get_selected_units (self->keys_page));
  tke_master_keys_page_set_recovery (self->keys_page, action);
  adw_view_stack_page_set_visible (
      adw_view_stack_get_page (self->stack, GTK_WIDGET (self->recovery_page)),
      action != TKE_RECOVERY_ACTION_NONE);
  if (action != TKE_RECOVERY_ACTION_NONE)
    adw_view_stack_set_visible_child_name (self->stack, "recovery");
}

/* ---- Ceremonies ---- */

static GQuark
kind_quark (TkeCeremonyKind kind)
{
  g_autoptr (GEnumClass) kinds = g_type_class_ref (TKE_TYPE_CEREMONY_KIND);

  return g_quark_from_string (g_enum_get_value (kinds, kind)->value_nick);
}

void
_tke_window_no_service (TkeWindow *self, GtkWindow *dialog)
{
  const char *message = _ ("This workstation is not connected to a service, so the ceremony "
                           "cannot run.");

  if (TKE_IS_LOAD_WIZARD (dialog))
    tke_load_wizard_show_error (TKE_LOAD_WIZARD (dialog), message);
  else
    {
      gtk_window_destroy (dialog);
      tke_window_add_toast (self, message);
    }
}

void
_tke_window_present_ceremony (TkeWindow *self, GtkWindow *dialog)
{
  g_set_weak_pointer (&self->ceremony_window, dialog);
  gtk_window_present (dialog);
}

void
_tke_window_start_ceremony (TkeWindow *self,
                            TkeCeremonyKind kind,
                            GListModel *units,
                            GtkWindow *dialog)
{
  GQuark detail = kind_quark (kind);

  _tke_window_present_ceremony (self, dialog);
  /* A handler for every ceremony, or for this one (::ceremony::NICK). */
  if (!g_signal_has_handler_pending (self, signals[SIGNAL_CEREMONY], 0, FALSE) &&
      !g_signal_has_handler_pending (self, signals[SIGNAL_CEREMONY], detail, FALSE))
    {
      _tke_window_no_service (self, dialog);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_CEREMONY], detail, kind, units, dialog);
}

GtkWindow *
_tke_window_new_rotation_dialog (TkeWindow *self)
{
  TkeRotationDialog *dialog = tke_rotation_dialog_new (GTK_WINDOW (self));

  tke_rotation_dialog_set_virtual_pads (dialog, self->controls[0], self->controls[1]);
  tke_readers_bar_follow (tke_rotation_dialog_get_readers_bar (dialog), self->readers_bar);
  return GTK_WINDOW (dialog);
}

/* FALSE when no one runs the recovery-unit path (no service). */
gboolean
_tke_window_emit_auto (TkeWindow *self, TkeAutoKind kind, GtkWindow *dialog, guint n_admins)
{
  if (!g_signal_has_handler_pending (self, signals[SIGNAL_AUTO], 0, FALSE))
    return FALSE;
  g_signal_emit (self, signals[SIGNAL_AUTO], 0, (int) kind, dialog, n_admins);
  return TRUE;
}

GtkWindow *
_tke_window_ceremony_dialog (TkeWindow *self, TkeCeremonyKind kind)
{
  TkeLoadWizard *wizard;

  switch (kind)
    {
    case TKE_CEREMONY_ROTATE:
      return _tke_window_new_rotation_dialog (self);
    case TKE_CEREMONY_LOAD:
      wizard = tke_load_wizard_new (GTK_WINDOW (self), TKE_LOAD_WIZARD_LOAD);
      break;
    case TKE_CEREMONY_COMMIT:
      wizard = tke_load_wizard_new (GTK_WINDOW (self), TKE_LOAD_WIZARD_COMMIT);
      break;
    /* The other signing ceremonies: an administrator card and its PIN. */
    case TKE_CEREMONY_SET_IMMEDIATE:
      wizard = tke_load_wizard_new (GTK_WINDOW (self), TKE_LOAD_WIZARD_COMMIT);
      tke_load_wizard_set_heading (wizard, _ ("Set the New Master Key"));
      break;
    case TKE_CEREMONY_CLEAR_NEW:
      wizard = tke_load_wizard_new (GTK_WINDOW (self), TKE_LOAD_WIZARD_COMMIT);
      tke_load_wizard_set_heading (wizard, _ ("Clear the New Master Key Registers"));
      break;
    case TKE_CEREMONY_CLEAR_CURRENT:
      wizard = tke_load_wizard_new (GTK_WINDOW (self), TKE_LOAD_WIZARD_COMMIT);
      tke_load_wizard_set_heading (wizard, _ ("Clear the Current Master Key Registers"));
      break;
    /* Administrators and thresholds: the administrators' cards, if any. */
    case TKE_CEREMONY_ADD_ADMIN:
      wizard = tke_load_wizard_new (GTK_WINDOW (self), TKE_LOAD_WIZARD_COMMIT);
      tke_load_wizard_set_heading (wizard, _ ("Add an Administrator"));
      break;
    case TKE_CEREMONY_REMOVE_ADMIN:
      wizard = tke_load_wizard_new (GTK_WINDOW (self), TKE_LOAD_WIZARD_COMMIT);
      tke_load_wizard_set_heading (wizard, _ ("Remove an Administrator"));
      g_object_set_data_full (
          G_OBJECT (wizard), "tke-admin-ski",
          g_strdup (tke_administrators_page_get_selected_ski (self->admins_page)), g_free);
      break;
    case TKE_CEREMONY_SET_THRESHOLDS:
      {
        guint sig, rev;

        wizard = tke_load_wizard_new (GTK_WINDOW (self), TKE_LOAD_WIZARD_COMMIT);
        tke_load_wizard_set_heading (wizard, _ ("Set the Signature Thresholds"));
        tke_thresholds_page_get_chosen (self->thresholds_page, &sig, &rev);
        g_object_set_data (G_OBJECT (wizard), "tke-signature-threshold", GUINT_TO_POINTER (sig));
        g_object_set_data (G_OBJECT (wizard), "tke-revocation-threshold", GUINT_TO_POINTER (rev));
        break;
      }
    case TKE_CEREMONY_ZEROIZE:
      wizard = tke_load_wizard_new (GTK_WINDOW (self), TKE_LOAD_WIZARD_COMMIT);
      tke_load_wizard_set_heading (wizard, _ ("Zeroize the Crypto Units"));
      break;
    default:
      g_return_val_if_reached (NULL);
    }
  tke_load_wizard_set_virtual_pads (wizard, self->controls[0], self->controls[1]);
  /* The wizard is modal and covers the window's strip: it has its own,
   * with the demo's Cards menus, for the swaps it waits for. */
  tke_readers_bar_follow (tke_load_wizard_get_readers_bar (wizard), self->readers_bar);
  return GTK_WINDOW (wizard);
}

static void
on_ceremony_requested (TkeWindow *self, TkeCeremonyKind kind, GListModel *units)
{
  _tke_window_confirm_ceremony (self, kind, units);
}

static void
on_auto_requested (TkeWindow *self, int kind)
{
  _tke_window_confirm_auto (self, kind);
}

static void
on_failover_requested (TkeWindow *self)
{
  _tke_window_confirm_auto (self, TKE_AUTO_FAILOVER);
}

static void
on_recover (TkeWindow *self, int action)
{
  GtkWindow *dialog;

  /* After auto-mk-rotate: its own rerun while the key storage was not
   * touched, the plain Rotate once the delay was reached. */
  if (tke_recovery_page_get_auto_path (self->recovery_page))
    {
      if (action == TKE_RECOVERY_ACTION_ROTATE)
        {
          _tke_window_start_auto (self, TKE_AUTO_MK_ROTATE, 0);
          return;
        }
      if (action == TKE_RECOVERY_ACTION_RESUME_ROTATE)
        {
          _tke_window_start_ceremony (self, TKE_CEREMONY_ROTATE,
                                      tke_master_keys_page_get_selected_units (self->keys_page),
                                      _tke_window_new_rotation_dialog (self));
          return;
        }
    }
  switch ((TkeRecoveryAction) action)
    {
    case TKE_RECOVERY_ACTION_ROTATE:
    case TKE_RECOVERY_ACTION_RESUME_ROTATE:
    case TKE_RECOVERY_ACTION_SET_IMMEDIATE:
    case TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE:
      /* The advisor is asked again when it runs, and only its action is
       * carried out (tke_rotation_recover_async()). */
      dialog = _tke_window_new_rotation_dialog (self);
      _tke_window_present_ceremony (self, dialog);
      if (!g_signal_has_handler_pending (self, signals[SIGNAL_RECOVER], 0, FALSE))
        {
          _tke_window_no_service (self, dialog);
          return;
        }
      g_signal_emit (self, signals[SIGNAL_RECOVER], 0,
                     tke_master_keys_page_get_selected_units (self->keys_page), dialog);
      break;
    case TKE_RECOVERY_ACTION_NONE:
    case TKE_RECOVERY_ACTION_STOP:
    default:
      break;
    }
}

/* ---- Life cycle ---- */

static gboolean
get_last_page (GValue *value, GVariant *variant, gpointer user_data)
{
  g_value_set_string (value, g_variant_get_string (variant, NULL));
  return TRUE;
}

/* The recovery tab shows only while a rotation waits for recovery; the
 * next start opens on a tab that is always there. */
static GVariant *
set_last_page (const GValue *value, const GVariantType *type, gpointer user_data)
{
  const char *page = g_value_get_string (value);

  if (g_strcmp0 (page, "crypto-units") != 0 && g_strcmp0 (page, "master-keys") != 0)
    return NULL;
  return g_variant_new_string (page);
}

/* The window remembers its size and last tab; GSettings writes them out
 * when the window goes, so nothing is written on every resize. */
static void
bind_settings (TkeWindow *self)
{
  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "last-page", self->stack, "visible-child-name",
                                G_SETTINGS_BIND_DEFAULT, get_last_page, set_last_page, NULL, NULL);
}

static void
tke_window_dispose (GObject *object)
{
  TkeWindow *self = TKE_WINDOW (object);

  g_clear_weak_pointer (&self->ceremony_window);
  if (self->instance_popover != NULL)
    gtk_widget_unparent (GTK_WIDGET (self->instance_popover));
  self->instance_popover = NULL;
  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_WINDOW);
  g_clear_object (&self->settings);
  g_clear_object (&self->units);

  G_OBJECT_CLASS (tke_window_parent_class)->dispose (object);
}

static void
tke_window_finalize (GObject *object)
{
  TkeWindow *self = TKE_WINDOW (object);

  g_free (self->instance);
  g_free (self->endpoint);
  g_free (self->controls[0]);
  g_free (self->controls[1]);
  g_free (self->demo_faults_file);
  G_OBJECT_CLASS (tke_window_parent_class)->finalize (object);
}

static void
tke_window_class_init (TkeWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_window_dispose;
  object_class->finalize = tke_window_finalize;

  /**
   * TkeWindow::log-in:
   * @api_key: the key typed; pass it to libtke, keep no copy
   * @dialog: the #TkeLoginDialog: set its error, or destroy it when logged in
   */
  signals[SIGNAL_LOG_IN] =
      g_signal_new ("log-in", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, G_TYPE_STRING, GTK_TYPE_WINDOW);
  /**
   * TkeWindow::refresh:
   *
   * Read the crypto units again.
   */
  signals[SIGNAL_REFRESH] = g_signal_new ("refresh", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * TkeWindow::ceremony:
   * @kind: the #TkeCeremonyKind (its nick is the detail)
   * @units: the selected units (#TkeCryptoUnit) it runs on
   * @dialog: the #TkeLoadWizard, or for %TKE_CEREMONY_ROTATE the
   *   #TkeRotationDialog, to drive
   *
   * The person confirmed a ceremony; run it on @units and drive @dialog.
   */
  signals[SIGNAL_CEREMONY] = g_signal_new (
      "ceremony", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0, NULL, NULL,
      NULL, G_TYPE_NONE, 3, TKE_TYPE_CEREMONY_KIND, G_TYPE_LIST_MODEL, GTK_TYPE_WINDOW);
  /**
   * TkeWindow::recover:
   * @units: the selected units (#TkeCryptoUnit)
   * @dialog: the #TkeRotationDialog to drive
   *
   * The person pressed the Recovery tab's one safe action: ask the
   * advisor again and carry out its action.
   */
  signals[SIGNAL_RECOVER] =
      g_signal_new ("recover", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, G_TYPE_LIST_MODEL, GTK_TYPE_WINDOW);

  /**
   * TkeWindow::auto:
   * @kind: the #TkeAutoKind the person confirmed
   * @dialog: the rotation dialog that shows its steps
   * @n_admins: for auto-init, how many administrators the person chose
   *   (1 or 2); the other kinds take their units' thresholds
   *
   * Run the recovery-unit ceremony on every unit of the instance and
   * drive @dialog.
   */
  signals[SIGNAL_AUTO] =
      g_signal_new ("auto", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 3, G_TYPE_INT, GTK_TYPE_WINDOW, G_TYPE_UINT);

  g_type_ensure (TKE_TYPE_CRYPTO_UNITS_PAGE);
  g_type_ensure (TKE_TYPE_MASTER_KEYS_PAGE);
  g_type_ensure (TKE_TYPE_RECOVERY_PAGE);
  g_type_ensure (TKE_TYPE_ADMINISTRATORS_PAGE);
  g_type_ensure (TKE_TYPE_THRESHOLDS_PAGE);
  g_type_ensure (TKE_TYPE_IMPRINT_PAGE);
  g_type_ensure (TKE_TYPE_HISTORY_PAGE);
  g_type_ensure (TKE_TYPE_SMART_CARD_PAGE);
  g_type_ensure (TKE_TYPE_READERS_BAR);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/tke-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, login_label);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, login_icon);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, banner);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, toasts);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, units_page);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, keys_page);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, history_page);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, recovery_page);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, admins_page);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, thresholds_page);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, imprint_page);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, smart_card_page);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, readers_bar);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, demo_section);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, TkeWindow, login_button);
  gtk_widget_class_bind_template_callback (widget_class, on_refresh);
  gtk_widget_class_bind_template_callback (widget_class, on_ceremony_requested);
  gtk_widget_class_bind_template_callback (widget_class, on_recover);

  gtk_widget_class_install_action (widget_class, "win.log-in", NULL, log_in_action);
  gtk_widget_class_install_action (widget_class, "win.instance", NULL, instance_action);
  gtk_widget_class_install_action (widget_class, "win.refresh", NULL, refresh_action);
  gtk_widget_class_install_action (widget_class, "win.show-page", "s", show_page_action);
  gtk_widget_class_install_action (widget_class, "win.demo-fail-rotation", NULL,
                                   demo_fail_rotation_action);
  /* Ctrl+L, Ctrl+R and F5 are the application's accelerators
   * (tke-application.c), which the menus and the shortcuts window show. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_ALT_MASK, "win.show-page", "s",
                                       "crypto-units");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_ALT_MASK, "win.show-page", "s",
                                       "master-keys");
}

static void
tke_window_init (TkeWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  tke_smart_card_page_set_readers_bar (self->smart_card_page, self->readers_bar);
  g_signal_connect_object (self->keys_page, "auto-requested", G_CALLBACK (on_auto_requested), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->units_page, "failover-requested",
                           G_CALLBACK (on_failover_requested), self, G_CONNECT_SWAPPED);
  /* The recovery tab shows only while a rotation waits for recovery. */
  adw_view_stack_page_set_visible (
      adw_view_stack_get_page (self->stack, GTK_WIDGET (self->recovery_page)), FALSE);

  /* GTK 4.8's menu button passes its name to the toggle inside it only
   * through the tooltip, which screen readers read as a description. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (gtk_widget_get_first_child (self->menu_button)),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Main Menu"), -1);
  build_instance_popover (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.demo-fail-rotation", FALSE);
  self->settings = g_settings_new (APP_ID);
  bind_settings (self);
  tke_window_set_login_state (self, TKE_LOGIN_STATE_LOGGED_OUT, NULL);
}
