/* tke-setup-assistant.c: setting the instance up from imprint mode, step
 * by step
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The five steps of a new instance, with the one reached marked and its
 * button offered: add administrators, set the thresholds, load, commit,
 * set immediate.  The step is libtke's reading of the selected units
 * (tke_instance_setup_get_step()), never remembered here, so that after a
 * restart (or a ceremony that stopped) the assistant shows where the units
 * are.  Each button asks the window for the ceremony, as the tabs do.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-setup-assistant.h"
#include "tke-unit-selection.h"

#define N_ROWS 5

struct _TkeSetupAssistant
{
  AdwBin parent_instance;

  AdwActionRow *row_admins, *row_thresholds, *row_load, *row_commit, *row_setimm;
  GtkImage *icon_admins, *icon_thresholds, *icon_load, *icon_commit, *icon_setimm;
  GtkLabel *description_label;
  GtkButton *next_button;
  GtkButton *more_button;

  TkeUnitSelection *selection;
  TkeSetupStep step;
  char *description;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (TkeSetupAssistant, tke_setup_assistant, ADW_TYPE_BIN)

enum
{
  SIGNAL_CEREMONY_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Each row's step and the ceremony its button starts. */
static const struct
{
  TkeSetupStep step;
  TkeCeremonyKind kind;
  const char *button;
} steps[N_ROWS] = {
  { TKE_SETUP_STEP_ADMINISTRATORS, TKE_CEREMONY_ADD_ADMIN, N_ ("_Add Administrator…") },
  { TKE_SETUP_STEP_THRESHOLDS, TKE_CEREMONY_SET_THRESHOLDS, N_ ("_Set Signature Thresholds…") },
  { TKE_SETUP_STEP_LOAD, TKE_CEREMONY_LOAD, N_ ("_Load…") },
  { TKE_SETUP_STEP_COMMIT, TKE_CEREMONY_COMMIT, N_ ("_Commit…") },
  { TKE_SETUP_STEP_SET_IMMEDIATE, TKE_CEREMONY_SET_IMMEDIATE, N_ ("Set _Immediate…") },
};

static void
update (TkeSetupAssistant *self)
{
  GtkImage *icons[N_ROWS] = { self->icon_admins, self->icon_thresholds, self->icon_load,
                              self->icon_commit, self->icon_setimm };
  AdwActionRow *rows[N_ROWS] = { self->row_admins, self->row_thresholds, self->row_load,
                                 self->row_commit, self->row_setimm };
  gboolean offered = FALSE;

  g_clear_pointer (&self->description, g_free);
  self->step = tke_instance_setup_get_step (tke_unit_selection_get_selected (self->selection),
                                            &self->description);
  gtk_label_set_text (self->description_label, self->description);
  for (guint i = 0; i < N_ROWS; i++)
    {
      gboolean done = self->step != TKE_SETUP_STEP_BLOCKED && self->step > steps[i].step;
      gboolean current = self->step == steps[i].step;

      gtk_image_set_from_icon_name (icons[i], done      ? "object-select-symbolic"
                                              : current ? "go-next-symbolic"
                                                        : "radio-symbolic");
      adw_action_row_set_subtitle (rows[i], done      ? _ ("Done")
                                            : current ? _ ("The step reached")
                                                      : "");
      if (current)
        {
          gtk_button_set_label (self->next_button, _ (steps[i].button));
          offered = TRUE;
        }
    }
  gtk_widget_set_visible (GTK_WIDGET (self->next_button), offered);
  gtk_widget_set_sensitive (GTK_WIDGET (self->next_button), !self->busy);
  gtk_widget_set_visible (GTK_WIDGET (self->more_button), self->step == TKE_SETUP_STEP_THRESHOLDS);
  gtk_widget_set_sensitive (GTK_WIDGET (self->more_button), !self->busy);
}

static void
on_next_clicked (TkeSetupAssistant *self)
{
  for (guint i = 0; i < N_ROWS; i++)
    if (steps[i].step == self->step)
      g_signal_emit (self, signals[SIGNAL_CEREMONY_REQUESTED], 0, steps[i].kind,
                     tke_unit_selection_get_selected (self->selection));
}

static void
on_more_clicked (TkeSetupAssistant *self)
{
  g_signal_emit (self, signals[SIGNAL_CEREMONY_REQUESTED], 0, TKE_CEREMONY_ADD_ADMIN,
                 tke_unit_selection_get_selected (self->selection));
}

void
tke_setup_assistant_set_units (TkeSetupAssistant *self, GListModel *units)
{
  g_return_if_fail (TKE_IS_SETUP_ASSISTANT (self));
  tke_unit_selection_set_units (self->selection, units);
}

void
tke_setup_assistant_set_busy (TkeSetupAssistant *self, gboolean busy)
{
  g_return_if_fail (TKE_IS_SETUP_ASSISTANT (self));
  self->busy = busy;
  update (self);
}

TkeSetupStep
tke_setup_assistant_get_step (TkeSetupAssistant *self)
{
  g_return_val_if_fail (TKE_IS_SETUP_ASSISTANT (self), TKE_SETUP_STEP_BLOCKED);
  return self->step;
}

const char *
tke_setup_assistant_get_description (TkeSetupAssistant *self)
{
  g_return_val_if_fail (TKE_IS_SETUP_ASSISTANT (self), NULL);
  return self->description;
}

GtkWidget *
tke_setup_assistant_get_next_button (TkeSetupAssistant *self)
{
  g_return_val_if_fail (TKE_IS_SETUP_ASSISTANT (self), NULL);
  return GTK_WIDGET (self->next_button);
}

static void
tke_setup_assistant_dispose (GObject *object)
{
  TkeSetupAssistant *self = TKE_SETUP_ASSISTANT (object);

  g_clear_object (&self->selection);
  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_SETUP_ASSISTANT);
  G_OBJECT_CLASS (tke_setup_assistant_parent_class)->dispose (object);
}

static void
tke_setup_assistant_finalize (GObject *object)
{
  TkeSetupAssistant *self = TKE_SETUP_ASSISTANT (object);

  g_free (self->description);
  G_OBJECT_CLASS (tke_setup_assistant_parent_class)->finalize (object);
}

static void
tke_setup_assistant_class_init (TkeSetupAssistantClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_setup_assistant_dispose;
  object_class->finalize = tke_setup_assistant_finalize;

  /**
   * TkeSetupAssistant::ceremony-requested:
   * @kind: the ceremony of the step reached
   * @units: the selected units
   */
  signals[SIGNAL_CEREMONY_REQUESTED] =
      g_signal_new ("ceremony-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 2, TKE_TYPE_CEREMONY_KIND, G_TYPE_LIST_MODEL);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/dev/tke/TrustedKeyEntry/tke-setup-assistant.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, TkeSetupAssistant, name)
  BIND (row_admins);
  BIND (row_thresholds);
  BIND (row_load);
  BIND (row_commit);
  BIND (row_setimm);
  BIND (icon_admins);
  BIND (icon_thresholds);
  BIND (icon_load);
  BIND (icon_commit);
  BIND (icon_setimm);
  BIND (description_label);
  BIND (next_button);
  BIND (more_button);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_next_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_more_clicked);
}

static void
tke_setup_assistant_init (TkeSetupAssistant *self)
{
  self->selection = tke_unit_selection_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (self->selection, "changed", G_CALLBACK (update), self,
                           G_CONNECT_SWAPPED);
  update (self);
}
