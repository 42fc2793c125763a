/* tke-recovery-page.c: what to do after a failed rotation, and only that
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The advisor (libtke's tke_recovery_advise()) reads the registers of
 * every unit and the service's rotation state and names the one safe
 * action (DESIGN §5).  This page says it in plain words, shows the table
 * it was based on, and offers exactly that action: there is no other
 * button, so nobody can pick the one that loses the key storage.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-recovery-page.h"
#include "tke-unit-columns.h"

struct _TkeRecoveryPage
{
  AdwBin parent_instance;

  TkeRecoveryAction action;
  gboolean auto_path;
  GtkNoSelection *model;

  GtkLabel *title_label;
  GtkLabel *explanation_label;
  GtkColumnView *column_view;
  GtkButton *action_button;
};

G_DEFINE_FINAL_TYPE (TkeRecoveryPage, tke_recovery_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_RECOVER,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

GtkWidget *
tke_recovery_page_new (void)
{
  return g_object_new (TKE_TYPE_RECOVERY_PAGE, NULL);
}

/* After auto-mk-rotate (the service's three cases): Rotate is its own
 * rerun while the key storage is untouched, the plain Rotate once the
 * delay was reached, and never the other way round. */
static const char *
auto_title_for (TkeRecoveryAction action)
{
  switch (action)
    {
    case TKE_RECOVERY_ACTION_ROTATE:
      return _ ("Rotate with Recovery Units Again");
    case TKE_RECOVERY_ACTION_RESUME_ROTATE:
      return _ ("Finish the Rotation with Rotate");
    default:
      return NULL;
    }
}

static const char *
auto_button_for (TkeRecoveryAction action)
{
  switch (action)
    {
    case TKE_RECOVERY_ACTION_ROTATE:
      return _ ("_Rotate with Recovery Units Again");
    case TKE_RECOVERY_ACTION_RESUME_ROTATE:
      return _ ("_Rotate (Resume the Rewrap)");
    default:
      return NULL;
    }
}

static const char *
title_for (TkeRecoveryAction action)
{
  switch (action)
    {
    case TKE_RECOVERY_ACTION_ROTATE:
    case TKE_RECOVERY_ACTION_RESUME_ROTATE:
      return _ ("Run Rotate Again");
    case TKE_RECOVERY_ACTION_SET_IMMEDIATE:
      return _ ("Finish the Rotation with Set Immediate");
    case TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE:
      return _ ("Leave Out the Switched Units, Then Set Immediate");
    case TKE_RECOVERY_ACTION_STOP:
      return _ ("Do Not Change Anything Yet");
    case TKE_RECOVERY_ACTION_NONE:
    default:
      return _ ("No Rotation Needs Recovery");
    }
}

static const char *
button_for (TkeRecoveryAction action)
{
  switch (action)
    {
    case TKE_RECOVERY_ACTION_ROTATE:
    case TKE_RECOVERY_ACTION_RESUME_ROTATE:
      return _ ("_Rotate Again");
    case TKE_RECOVERY_ACTION_SET_IMMEDIATE:
      return _ ("_Set Immediate");
    case TKE_RECOVERY_ACTION_REMOVE_SWITCHED_THEN_SET_IMMEDIATE:
      return _ ("_Remove Switched Units and Set Immediate");
    case TKE_RECOVERY_ACTION_STOP:
    case TKE_RECOVERY_ACTION_NONE:
    default:
      return NULL;
    }
}

/**
 * tke_recovery_page_set_advice:
 * @action: the advisor's one safe action
 * @explanation: the advisor's reasons, in plain words
 * @units: the units the advice was computed from
 */
void
tke_recovery_page_set_advice (TkeRecoveryPage *self,
                              TkeRecoveryAction action,
                              const char *explanation,
                              GListModel *units)
{
  const char *button;

  g_return_if_fail (TKE_IS_RECOVERY_PAGE (self));

  self->action = action;
  gtk_label_set_text (self->title_label, self->auto_path && auto_title_for (action) != NULL
                                             ? auto_title_for (action)
                                             : title_for (action));
  gtk_label_set_text (self->explanation_label, explanation != NULL ? explanation : "");
  gtk_no_selection_set_model (self->model, units);

  button = self->auto_path && auto_button_for (action) != NULL ? auto_button_for (action)
                                                               : button_for (action);
  gtk_widget_set_visible (GTK_WIDGET (self->action_button), button != NULL);
  if (button != NULL)
    gtk_button_set_label (self->action_button, button);
}

/**
 * tke_recovery_page_set_auto_path:
 * @auto_path: the next advice is about a rotation auto-mk-rotate started
 */
void
tke_recovery_page_set_auto_path (TkeRecoveryPage *self, gboolean auto_path)
{
  g_return_if_fail (TKE_IS_RECOVERY_PAGE (self));
  self->auto_path = auto_path;
}

gboolean
tke_recovery_page_get_auto_path (TkeRecoveryPage *self)
{
  g_return_val_if_fail (TKE_IS_RECOVERY_PAGE (self), FALSE);
  return self->auto_path;
}

const char *
tke_recovery_page_get_button_label (TkeRecoveryPage *self)
{
  g_return_val_if_fail (TKE_IS_RECOVERY_PAGE (self), NULL);
  if (!gtk_widget_get_visible (GTK_WIDGET (self->action_button)))
    return NULL;
  return gtk_button_get_label (self->action_button);
}

const char *
tke_recovery_page_get_title (TkeRecoveryPage *self)
{
  g_return_val_if_fail (TKE_IS_RECOVERY_PAGE (self), NULL);
  return gtk_label_get_text (self->title_label);
}

TkeRecoveryAction
tke_recovery_page_get_action (TkeRecoveryPage *self)
{
  g_return_val_if_fail (TKE_IS_RECOVERY_PAGE (self), TKE_RECOVERY_ACTION_NONE);
  return self->action;
}

static void
run_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeRecoveryPage *self = TKE_RECOVERY_PAGE (widget);

  if (button_for (self->action) != NULL ||
      (self->auto_path && auto_button_for (self->action) != NULL))
    g_signal_emit (self, signals[SIGNAL_RECOVER], 0, self->action);
}

static void
add_columns (TkeRecoveryPage *self)
{
  struct
  {
    const char *title;
    TkeUnitCellFunc fill;
  } columns[] = {
    { N_ ("CRYPTO UNIT NUM"), tke_unit_cell_number },
    { N_ ("NEW REGISTER"), tke_unit_cell_new_state },
    { N_ ("NEW VERIFICATION PATTERN"), tke_unit_cell_new_vp },
    { N_ ("CURRENT REGISTER"), tke_unit_cell_current_state },
    { N_ ("CURRENT VERIFICATION PATTERN"), tke_unit_cell_current_vp },
  };

  for (guint i = 0; i < G_N_ELEMENTS (columns); i++)
    {
      g_autoptr (GtkColumnViewColumn) column =
          tke_unit_column_new (_ (columns[i].title), columns[i].fill, self, i == 4);
      gtk_column_view_append_column (self->column_view, column);
    }
}

static void
tke_recovery_page_dispose (GObject *object)
{
  TkeRecoveryPage *self = TKE_RECOVERY_PAGE (object);

  /* AdwBin unparents its child in its own dispose; the template's objects
   * must be gone from it first, or it unparents a finalized widget. */
  adw_bin_set_child (ADW_BIN (self), NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_RECOVERY_PAGE);
  g_clear_object (&self->model);
  G_OBJECT_CLASS (tke_recovery_page_parent_class)->dispose (object);
}

static void
tke_recovery_page_class_init (TkeRecoveryPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_recovery_page_dispose;

  /**
   * TkeRecoveryPage::recover:
   * @action: the #TkeRecoveryAction the person confirmed
   */
  signals[SIGNAL_RECOVER] = g_signal_new ("recover", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/tke-recovery-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeRecoveryPage, title_label);
  gtk_widget_class_bind_template_child (widget_class, TkeRecoveryPage, explanation_label);
  gtk_widget_class_bind_template_child (widget_class, TkeRecoveryPage, column_view);
  gtk_widget_class_bind_template_child (widget_class, TkeRecoveryPage, action_button);
  gtk_widget_class_install_action (widget_class, "recovery.run", NULL, run_action);
}

static void
tke_recovery_page_init (TkeRecoveryPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->model = gtk_no_selection_new (NULL);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->model));
  add_columns (self);
  tke_recovery_page_set_advice (self, TKE_RECOVERY_ACTION_NONE, NULL, NULL);
}
