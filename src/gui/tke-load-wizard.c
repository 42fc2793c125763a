/* tke-load-wizard.c: the guided Load and Commit ceremonies
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Load, in the seed's order: the administrator card in reader 1 and its
 * PIN on the pad (step 1.2) → the number of parts, 2 or 3 (1.3) → per
 * part, the key part card in reader 2 and its PIN (1.4), then the part
 * chosen from the card's list (description and check value, 1.5), and the
 * part's check value once loaded → the new register's state and VP.  Commit: one administrator card
 * and PIN per signature until the threshold is met → Full Committed.
 *
 * The wizard is the view of a ceremony: the ceremony object (libtke) does
 * every card and network step off the main loop and tells the wizard
 * what to show; the wizard reports what the person chose through its
 * signals.  Cancel stops network and card waits; a PIN entry is cancelled
 * on the pad, so Cancel is off while the pad waits.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tke-load-wizard.h"
#include "tke-report-dialog.h"
#include "tke-unit-columns.h"

struct _TkeLoadWizard
{
  AdwWindow parent_instance;

  TkeLoadWizardMode mode;
  guint n_parts;
  guint part;
  char *controls[2];
  GListModel *parts;
  char *step;
  char *result_text;
  char *summary;

  AdwWindowTitle *window_title;
  GtkWidget *cancel_button;
  GtkStack *stack;
  GtkToggleButton *three_parts;
  GtkLabel *step_label;
  TkePinPrompt *prompt;
  GtkWidget *parts_box;
  GtkListBox *parts_list;
  GtkLabel *loaded_label;
  GtkLabel *progress_label;
  GtkLabel *summary_label;
  AdwStatusPage *result_page;
  GtkLabel *result_vp;
  AdwStatusPage *error_page;
  TkeReadersBar *readers_bar;
  char *report_id;
};

G_DEFINE_FINAL_TYPE (TkeLoadWizard, tke_load_wizard, ADW_TYPE_WINDOW)

enum
{
  SIGNAL_PARTS_CHOSEN,
  SIGNAL_PART_CHOSEN,
  SIGNAL_CANCELLED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

TkeLoadWizard *
tke_load_wizard_new (GtkWindow *parent, TkeLoadWizardMode mode)
{
  TkeLoadWizard *self = g_object_new (TKE_TYPE_LOAD_WIZARD, "transient-for", parent, NULL);

  self->mode = mode;
  if (mode == TKE_LOAD_WIZARD_COMMIT)
    {
      gtk_window_set_title (GTK_WINDOW (self), _ ("Commit the New Master Key"));
      adw_window_title_set_title (self->window_title, _ ("Commit the New Master Key"));
      gtk_stack_set_visible_child_name (self->stack, "card");
    }
  return self;
}

TkeLoadWizardMode
tke_load_wizard_get_mode (TkeLoadWizard *self)
{
  g_return_val_if_fail (TKE_IS_LOAD_WIZARD (self), TKE_LOAD_WIZARD_LOAD);
  return self->mode;
}

guint
tke_load_wizard_get_n_parts (TkeLoadWizard *self)
{
  g_return_val_if_fail (TKE_IS_LOAD_WIZARD (self), 0);
  return self->n_parts;
}

/**
 * tke_load_wizard_get_readers_bar:
 *
 * Returns: (transfer none): the wizard's own readers strip: the window's
 *   strip is behind the wizard while it waits for a card
 *   (tke_readers_bar_follow()).
 */
TkeReadersBar *
tke_load_wizard_get_readers_bar (TkeLoadWizard *self)
{
  g_return_val_if_fail (TKE_IS_LOAD_WIZARD (self), NULL);
  return self->readers_bar;
}

TkePinPrompt *
tke_load_wizard_get_pin_prompt (TkeLoadWizard *self)
{
  g_return_val_if_fail (TKE_IS_LOAD_WIZARD (self), NULL);
  return self->prompt;
}

const char *
tke_load_wizard_get_step (TkeLoadWizard *self)
{
  g_return_val_if_fail (TKE_IS_LOAD_WIZARD (self), NULL);
  return self->step;
}

const char *
tke_load_wizard_get_page (TkeLoadWizard *self)
{
  g_return_val_if_fail (TKE_IS_LOAD_WIZARD (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}

const char *
tke_load_wizard_get_result_text (TkeLoadWizard *self)
{
  g_return_val_if_fail (TKE_IS_LOAD_WIZARD (self), NULL);
  return self->result_text;
}

/* The header offers Cancel only while there is a ceremony to cancel: on
 * the count and card pages.  The result and error pages end the
 * ceremony, and their own Done or Close is the one way on; the header
 * keeps the title and its "Done". */
static void
on_page_changed (TkeLoadWizard *self)
{
  const char *page = gtk_stack_get_visible_child_name (self->stack);
  gboolean finished = g_strcmp0 (page, "result") == 0 || g_strcmp0 (page, "error") == 0;

  gtk_widget_set_visible (self->cancel_button, !finished);
}

static void
set_step (TkeLoadWizard *self, char *step)
{
  g_free (self->step);
  self->step = step;
  gtk_label_set_text (self->step_label, step);
  adw_window_title_set_subtitle (self->window_title, step);
}

/**
 * tke_load_wizard_set_virtual_pads:
 *
 * With the virtual readers, the control sockets of reader 1 and 2: the
 * prompt then shows the on-screen pad of the reader it asks for.
 */
void
tke_load_wizard_set_virtual_pads (TkeLoadWizard *self,
                                  const char *reader1_control,
                                  const char *reader2_control)
{
  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));

  g_free (self->controls[0]);
  g_free (self->controls[1]);
  self->controls[0] = g_strdup (reader1_control);
  self->controls[1] = g_strdup (reader2_control);
}

static void
show_card_page (TkeLoadWizard *self, guint reader, const char *card_kind)
{
  gtk_widget_set_visible (GTK_WIDGET (self->prompt), TRUE);
  tke_pin_prompt_set_reader (self->prompt, reader, card_kind);
  tke_pin_prompt_set_virtual_pad (self->prompt, self->controls[reader - 1]);
  gtk_widget_set_visible (self->parts_box, FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.load-part", FALSE);
  gtk_label_set_text (self->progress_label, "");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.cancel", TRUE);
  gtk_stack_set_visible_child_name (self->stack, "card");
}

void
tke_load_wizard_show_admin_step (TkeLoadWizard *self, guint signature, guint n_signatures)
{
  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));

  if (self->mode == TKE_LOAD_WIZARD_COMMIT)
    /* Translators: "Administrator 1 of 2: one signature for every crypto unit" (each
     * administrator signs the commands of all selected units in turn) */
    set_step (self, g_strdup_printf (_ ("Administrator %u of %u: one signature for every crypto "
                                        "unit"),
                                     signature, n_signatures));
  else
    /* The number of parts comes after this card (the seed's step 1.3). */
    set_step (self, g_strdup (_ ("Step 1: the administrator's signature")));
  gtk_widget_set_visible (GTK_WIDGET (self->loaded_label), FALSE);
  show_card_page (self, 1, _ ("an administrator card"));
}

/* Add administrator: the new administrator's card, before any signature. */
void
tke_load_wizard_show_new_admin_step (TkeLoadWizard *self)
{
  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));

  set_step (self, g_strdup (_ ("The new administrator's card")));
  gtk_widget_set_visible (GTK_WIDGET (self->loaded_label), FALSE);
  show_card_page (self, 1, _ ("the new administrator's card"));
}

/**
 * tke_load_wizard_show_service_step:
 *
 * The administrators' signatures come from a signing service: the card
 * page says which, without a PIN prompt, while the ceremony runs.
 */
void
tke_load_wizard_show_service_step (TkeLoadWizard *self, guint n_signatures, const char *url)
{
  g_autofree char *progress = NULL;

  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));

  if (self->mode == TKE_LOAD_WIZARD_COMMIT)
    set_step (self, g_strdup_printf (
                        g_dngettext (GETTEXT_PACKAGE, "%u signature from the signing service",
                                     "%u signatures from the signing service", n_signatures),
                        n_signatures));
  else
    set_step (self, g_strdup (_ ("Step 1: the administrator's signature")));
  gtk_widget_set_visible (GTK_WIDGET (self->loaded_label), FALSE);
  show_card_page (self, 1, _ ("an administrator card"));
  gtk_widget_set_visible (GTK_WIDGET (self->prompt), FALSE);
  /* Translators: %s is the signing service's URL ($TKE_SIGNSERV_URL). */
  progress = g_strdup_printf (_ ("The signing service at %s signs each command."), url);
  gtk_label_set_text (self->progress_label, progress);
}

/**
 * tke_load_wizard_show_count_step:
 *
 * After the administrator's PIN: how many key parts (the seed's step
 * 1.3).  The wizard emits #TkeLoadWizard::parts-chosen on Continue.
 */
void
tke_load_wizard_show_count_step (TkeLoadWizard *self)
{
  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));

  set_step (self, g_strdup (_ ("Step 2: the number of key parts")));
  gtk_widget_set_visible (GTK_WIDGET (self->loaded_label), FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.cancel", TRUE);
  gtk_stack_set_visible_child_name (self->stack, "count");
}

void
tke_load_wizard_show_part_step (TkeLoadWizard *self, guint part)
{
  g_autofree char *kind = NULL;

  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));
  g_return_if_fail (part >= 1 && part <= self->n_parts);

  self->part = part;
  /* Translators: "Step 3 of 4: key part 1 of 2" */
  set_step (self, g_strdup_printf (_ ("Step %u of %u: key part %u of %u"), part + 2,
                                   self->n_parts + 2, part, self->n_parts));
  kind = g_strdup_printf (_ ("the card with key part %u"), part);
  show_card_page (self, 2, kind);
}

/* Cancel is offered for every wait but the PIN pad's: the pad's own
 * Cancel key ends that one, and the prompt says so. */
void
tke_load_wizard_set_pin_state (TkeLoadWizard *self,
                               TkePinPromptState state,
                               const char *card_description,
                               guint tries_left)
{
  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));

  g_debug ("wizard: PIN prompt state %d (%s)", state,
           card_description != NULL ? card_description : "");
  tke_pin_prompt_set_state (self->prompt, state, card_description, tries_left);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.cancel",
                                 state != TKE_PIN_PROMPT_ENTER_PIN);
}

static GtkWidget *
part_row (TkeKeyPartSource *part)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *title = gtk_label_new (tke_key_part_source_get_description (part));
  g_autofree char *check = tke_unit_format_vp (tke_key_part_source_get_check_value (part));
  g_autofree char *check_text = g_strdup_printf (_ ("Check value\n%s"), check);
  GtkWidget *subtitle = gtk_label_new (check_text);

  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_widget_add_css_class (title, "heading");
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_widget_add_css_class (subtitle, "monospace");
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_box_append (GTK_BOX (row), title);
  gtk_box_append (GTK_BOX (row), subtitle);
  gtk_widget_set_margin_start (row, 12);
  gtk_widget_set_margin_end (row, 12);
  gtk_widget_set_margin_top (row, 8);
  gtk_widget_set_margin_bottom (row, 8);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  tke_key_part_source_get_description (part), -1);
  return row;
}

/**
 * tke_load_wizard_set_card_parts:
 * @parts: the #TkeKeyPartSource objects on the card in reader 2
 */
void
tke_load_wizard_set_card_parts (TkeLoadWizard *self,
                                const char *card_description,
                                GListModel *parts)
{
  GtkWidget *child;

  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));

  g_set_object (&self->parts, parts);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->parts_list))) != NULL)
    gtk_list_box_remove (self->parts_list, child);
  for (guint i = 0; parts != NULL && i < g_list_model_get_n_items (parts); i++)
    {
      g_autoptr (TkeKeyPartSource) part = g_list_model_get_item (parts, i);
      gtk_list_box_append (self->parts_list, part_row (part));
    }
  gtk_list_box_select_row (self->parts_list, gtk_list_box_get_row_at_index (self->parts_list, 0));
  gtk_widget_set_visible (self->parts_box, parts != NULL && g_list_model_get_n_items (parts) > 0);
  /* "Load This Part" works only while the list is offered: pressed, it
   * stays off until the ceremony offers the next card's list. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.load-part",
                                 parts != NULL && g_list_model_get_n_items (parts) > 0);
  if (parts != NULL && g_list_model_get_n_items (parts) > 0)
    tke_pin_prompt_set_state (self->prompt, TKE_PIN_PROMPT_CHOOSE, card_description, 0);
}

void
tke_load_wizard_choose_part (TkeLoadWizard *self, guint index)
{
  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));
  gtk_list_box_select_row (self->parts_list,
                           gtk_list_box_get_row_at_index (self->parts_list, (int) index));
}

void
tke_load_wizard_show_part_loaded (TkeLoadWizard *self, guint part, const char *check_value)
{
  g_autofree char *groups = tke_unit_format_vp (check_value);
  g_autofree char *text =
      g_strdup_printf (_ ("Key part %u is sealed to every selected crypto unit; the units load "
                          "the parts together once all are in. Its check value:\n%s\nCompare it "
                          "with the value recorded for this part."),
                       part, groups);

  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));
  gtk_widget_set_visible (self->parts_box, FALSE);
  gtk_label_set_text (self->loaded_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->loaded_label), TRUE);
}

/**
 * tke_load_wizard_show_done:
 * @vp: (nullable): a verification pattern to read aloud, or %NULL
 *
 * The last page of any ceremony the wizard guides.
 */
void
tke_load_wizard_show_done (TkeLoadWizard *self,
                           const char *title,
                           const char *description,
                           const char *vp)
{
  g_autofree char *groups = vp != NULL ? tke_unit_format_vp (vp) : NULL;

  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));

  adw_status_page_set_title (self->result_page, title);
  adw_status_page_set_description (self->result_page, description);
  gtk_label_set_text (self->result_vp, groups != NULL ? groups : "");
  gtk_widget_set_visible (GTK_WIDGET (self->result_vp), groups != NULL);
  g_free (self->result_text);
  self->result_text = g_strdup_printf ("%s\n%s", title, groups != NULL ? groups : description);
  set_step (self, g_strdup (_ ("Done")));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.cancel", FALSE);
  gtk_stack_set_visible_child_name (self->stack, "result");
}

void
tke_load_wizard_show_result (TkeLoadWizard *self, const char *register_state, const char *vp)
{
  g_autofree char *title = NULL;

  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));

  /* Translators: "New register: Full Uncommitted" */
  title = g_strdup_printf (_ ("New register: %s"), register_state);
  tke_load_wizard_show_done (self, title,
                             self->mode == TKE_LOAD_WIZARD_LOAD
                                 ? _ ("Every selected crypto unit holds the new master key, not "
                                      "yet committed. Its verification pattern:")
                                 : _ ("The administrators' signatures met the threshold. The "
                                      "verification pattern of the committed key:"),
                             vp);
}

/**
 * tke_load_wizard_set_heading:
 *
 * The title of a signing ceremony other than Commit (Set immediate,
 * Clear new, Clear current).
 */
void
tke_load_wizard_set_heading (TkeLoadWizard *self, const char *title)
{
  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));

  gtk_window_set_title (GTK_WINDOW (self), title);
  adw_window_title_set_title (self->window_title, title);
}

/* What the ceremony does now, as libtke reports it ("Crypto unit 2:
 * sealing key part 1 of 2…"): the person sees it move. */
void
tke_load_wizard_set_progress (TkeLoadWizard *self, const char *message)
{
  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));
  gtk_label_set_text (self->progress_label, message != NULL ? message : "");
}

/**
 * tke_load_wizard_set_summary:
 * @summary: (nullable): libtke's summary of what is signed
 *   (tke_ceremony_get_summary()), or %NULL to hide it
 *
 * What the administrators sign, shown before the first PIN: the command
 * and each unit's verification pattern, to read aloud.
 */
void
tke_load_wizard_set_summary (TkeLoadWizard *self, const char *summary)
{
  const char *lines = summary != NULL ? strchr (summary, '\n') : NULL;
  g_autofree char *heading = NULL;
  g_autofree char *markup = NULL;

  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));
  g_free (self->summary);
  self->summary = g_strdup (summary);
  gtk_widget_set_visible (GTK_WIDGET (self->summary_label), summary != NULL);
  if (summary == NULL)
    return;
  /* The sentence as text, the units and their VPs in the digits' font. */
  heading = g_markup_escape_text (summary, lines != NULL ? lines - summary : -1);
  markup = lines != NULL ? g_markup_printf_escaped ("<tt>%s</tt>", lines + 1) : NULL;
  if (markup != NULL)
    {
      char *both = g_strdup_printf ("%s\n%s", heading, markup);

      g_free (markup);
      markup = both;
    }
  else
    markup = g_strdup (heading);
  gtk_label_set_markup (self->summary_label, markup);
}

const char *
tke_load_wizard_get_summary (TkeLoadWizard *self)
{
  g_return_val_if_fail (TKE_IS_LOAD_WIZARD (self), NULL);
  return self->summary;
}

const char *
tke_load_wizard_get_progress (TkeLoadWizard *self)
{
  g_return_val_if_fail (TKE_IS_LOAD_WIZARD (self), NULL);
  return gtk_label_get_text (self->progress_label);
}

void
tke_load_wizard_show_error (TkeLoadWizard *self, const char *message)
{
  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));

  adw_status_page_set_description (self->error_page, message);
  g_free (self->result_text);
  self->result_text = g_strdup (message);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.cancel", FALSE);
  gtk_stack_set_visible_child_name (self->stack, "error");
}

static void
continue_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeLoadWizard *self = TKE_LOAD_WIZARD (widget);

  /* Only from the count page, once: a second press (or one on the page
   * not shown) would start part 1 again while the first runs. */
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "count") != 0)
    return;
  self->n_parts = gtk_toggle_button_get_active (self->three_parts) ? 3 : 2;
  g_signal_emit (self, signals[SIGNAL_PARTS_CHOSEN], 0, self->n_parts);
}

static void
load_part_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeLoadWizard *self = TKE_LOAD_WIZARD (widget);
  GtkListBoxRow *row = gtk_list_box_get_selected_row (self->parts_list);
  g_autoptr (GObject) part = NULL;

  if (row == NULL || self->parts == NULL)
    return;
  part = g_list_model_get_item (self->parts, (guint) gtk_list_box_row_get_index (row));
  gtk_widget_action_set_enabled (widget, "wizard.load-part", FALSE);
  gtk_widget_set_visible (self->parts_box, FALSE);
  g_signal_emit (self, signals[SIGNAL_PART_CHOSEN], 0, self->part, part);
}

static void
cancel_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_CANCELLED], 0);
  gtk_window_destroy (GTK_WINDOW (widget));
}

/**
 * tke_load_wizard_offer_report:
 * @self: the wizard
 * @ceremony_id: its ceremony's id in the ceremony record
 *
 * Its last record is written: the result and error pages offer the
 * ceremony's report.
 */
void
tke_load_wizard_offer_report (TkeLoadWizard *self, const char *ceremony_id)
{
  g_return_if_fail (TKE_IS_LOAD_WIZARD (self));
  g_free (self->report_id);
  self->report_id = g_strdup (ceremony_id);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.report", ceremony_id != NULL);
}

const char *
tke_load_wizard_get_report_id (TkeLoadWizard *self)
{
  g_return_val_if_fail (TKE_IS_LOAD_WIZARD (self), NULL);
  return self->report_id;
}

static void
report_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeLoadWizard *self = TKE_LOAD_WIZARD (widget);
  TkeReportDialog *dialog;

  if (self->report_id == NULL)
    return;
  dialog = tke_report_dialog_new (GTK_WINDOW (self), self->report_id);
  tke_report_dialog_set_virtual_pad (dialog, self->controls[0]);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
close_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  gtk_window_destroy (GTK_WINDOW (widget));
}

/* Closing the window is Cancel, with the same limit during PIN entry. */
static gboolean
tke_load_wizard_close_request (GtkWindow *window)
{
  TkeLoadWizard *self = TKE_LOAD_WIZARD (window);
  const char *page = gtk_stack_get_visible_child_name (self->stack);

  if (g_str_equal (page, "result") || g_str_equal (page, "error"))
    return FALSE;
  if (tke_pin_prompt_get_state (self->prompt) == TKE_PIN_PROMPT_ENTER_PIN &&
      g_str_equal (page, "card"))
    return TRUE;
  g_signal_emit (self, signals[SIGNAL_CANCELLED], 0);
  return FALSE;
}

static void
tke_load_wizard_dispose (GObject *object)
{
  TkeLoadWizard *self = TKE_LOAD_WIZARD (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_LOAD_WIZARD);
  g_clear_object (&self->parts);
  G_OBJECT_CLASS (tke_load_wizard_parent_class)->dispose (object);
}

static void
tke_load_wizard_finalize (GObject *object)
{
  TkeLoadWizard *self = TKE_LOAD_WIZARD (object);

  g_free (self->controls[0]);
  g_free (self->controls[1]);
  g_free (self->step);
  g_free (self->result_text);
  g_free (self->summary);
  g_free (self->report_id);
  G_OBJECT_CLASS (tke_load_wizard_parent_class)->finalize (object);
}

static void
tke_load_wizard_class_init (TkeLoadWizardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_load_wizard_dispose;
  object_class->finalize = tke_load_wizard_finalize;
  GTK_WINDOW_CLASS (klass)->close_request = tke_load_wizard_close_request;

  /**
   * TkeLoadWizard::parts-chosen:
   * @n_parts: 2 or 3
   */
  signals[SIGNAL_PARTS_CHOSEN] =
      g_signal_new ("parts-chosen", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  /**
   * TkeLoadWizard::part-chosen:
   * @part: which part of the key (1-based)
   * @source: the #TkeKeyPartSource chosen from the card's list
   */
  signals[SIGNAL_PART_CHOSEN] =
      g_signal_new ("part-chosen", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_OBJECT);
  /**
   * TkeLoadWizard::cancelled:
   *
   * The person cancelled: stop the network and card waits.
   */
  signals[SIGNAL_CANCELLED] = g_signal_new ("cancelled", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  g_type_ensure (TKE_TYPE_PIN_PROMPT);
  g_type_ensure (TKE_TYPE_READERS_BAR);
  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/tke-load-wizard.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, window_title);
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, stack);
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, three_parts);
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, step_label);
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, prompt);
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, parts_box);
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, parts_list);
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, loaded_label);
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, progress_label);
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, summary_label);
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, result_page);
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, result_vp);
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, error_page);
  gtk_widget_class_bind_template_child (widget_class, TkeLoadWizard, readers_bar);

  gtk_widget_class_bind_template_callback (widget_class, on_page_changed);

  gtk_widget_class_install_action (widget_class, "wizard.continue", NULL, continue_action);
  gtk_widget_class_install_action (widget_class, "wizard.load-part", NULL, load_part_action);
  gtk_widget_class_install_action (widget_class, "wizard.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "wizard.close", NULL, close_action);
  gtk_widget_class_install_action (widget_class, "wizard.report", NULL, report_action);
}

static void
tke_load_wizard_init (TkeLoadWizard *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.report", FALSE);
  gtk_window_set_title (GTK_WINDOW (self), _ ("Load a New Master Key"));
  adw_window_title_set_title (self->window_title, _ ("Load a New Master Key"));
  self->n_parts = 2;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "wizard.load-part", FALSE);
}
