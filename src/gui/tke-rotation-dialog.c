/* tke-rotation-dialog.c: the modal progress of a master key rotation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Shows what the service says, in its own words and order ("Master key
 * rotation started." …), with a bar of keys rewrapped.  It renders the
 * TkeRotationStatus objects that the rotation reports; it decides
 * nothing.  Whether stopping is safe is the rotation's call, passed in
 * with tke_rotation_dialog_set_cancel_safe(); the dialog cannot be closed
 * until the rotation ended.
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tke-pin-prompt.h"
#include "tke-readers-bar.h"
#include "tke-report-dialog.h"
#include "tke-rotation-dialog.h"

struct _TkeRotationDialog
{
  AdwWindow parent_instance;

  GPtrArray *messages;
  gboolean finished;
  /* Another ceremony in the dialog (the recovery-unit path): its own
   * words for the card step and the end, no key count. */
  char *card_headline;
  char *done_headline;
  char *stopped_headline; /* when it ended on an error; NULL: a rotation's words */
  char *progress_text;
  gboolean rewrap_over; /* the last status was past the rewrap */
  gboolean counted;     /* a key total was shown */
  char *report_id;      /* the ceremony's id in the record, once written */
  char *pad_path;       /* the virtual pad, for the report's card step */

  guint n_results;
  gint64 first_time; /* when the bar first moved, for the estimate */
  guint64 first_done;

  GtkScrolledWindow *scroller;
  GtkWidget *revealed; /* to scroll into view at the next frame */
  guint reveal_tick;
  guint reveal_frames;    /* run so far */
  guint reveal_steady;    /* frames the place stayed the same */
  double reveal_place[3]; /* its top and height, the content's height */
  GtkLabel *headline;
  GtkProgressBar *progress;
  TkePinPrompt *pin_prompt;
  GtkListBox *message_list;
  GtkWidget *results_heading;
  GtkListBox *results;
  GtkLabel *done_label;
  GtkLabel *error_label;
  GtkLabel *cancel_reason;
  GtkWidget *cancel_button;
  GtkWidget *report_button;
  TkeReadersBar *readers_bar;
};

/* 0.5 s at 60 frames a second */
#define REVEAL_MAX_FRAMES 30

G_DEFINE_FINAL_TYPE (TkeRotationDialog, tke_rotation_dialog, ADW_TYPE_WINDOW)

enum
{
  SIGNAL_CANCEL_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

TkeRotationDialog *
tke_rotation_dialog_new (GtkWindow *parent)
{
  return g_object_new (TKE_TYPE_ROTATION_DIALOG, "transient-for", parent, NULL);
}

static GtkWidget *
message_row (GDateTime *timestamp, const char *text)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  g_autofree char *time =
      timestamp != NULL ? g_date_time_format (timestamp, "%H:%M:%S") : g_strdup ("");
  GtkWidget *time_label = gtk_label_new (time);
  GtkWidget *text_label = gtk_label_new (text);

  gtk_widget_add_css_class (time_label, "dim-label");
  gtk_widget_add_css_class (time_label, "numeric");
  gtk_label_set_xalign (GTK_LABEL (text_label), 0);
  gtk_label_set_wrap (GTK_LABEL (text_label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (text_label), TRUE);
  gtk_widget_set_hexpand (text_label, TRUE);
  gtk_box_append (GTK_BOX (row), time_label);
  gtk_box_append (GTK_BOX (row), text_label);
  gtk_widget_set_margin_start (row, 12);
  gtk_widget_set_margin_end (row, 12);
  gtk_widget_set_margin_top (row, 4);
  gtk_widget_set_margin_bottom (row, 4);
  return row;
}

/* How long the rest takes at the pace seen so far: the service's real
 * pace with the real number of keys, or nothing before there is one. */
static char *
estimate_left (TkeRotationDialog *self, guint64 done, guint64 total)
{
  gint64 now = g_get_monotonic_time ();
  double seconds;
  guint64 left;

  if (self->first_time == 0 || done < self->first_done)
    {
      self->first_time = now;
      self->first_done = done;
      return NULL;
    }
  if (done >= total || done == self->first_done || now - self->first_time < G_USEC_PER_SEC)
    return NULL;
  seconds = (double) (now - self->first_time) / G_USEC_PER_SEC;
  left = (guint64) ((double) (total - done) * seconds / (double) (done - self->first_done)) + 1;
  if (left < 90)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "about %u second left",
                                         "about %u seconds left", (gulong) left),
                            (guint) left);
  left = (left + 30) / 60;
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "about %u minute left",
                                       "about %u minutes left", (gulong) MIN (left, G_MAXULONG)),
                          (guint) MIN (left, G_MAXUINT));
}

static void
show_progress (TkeRotationDialog *self, guint64 done, guint64 total)
{
  g_free (self->progress_text);
  if (total > 0)
    {
      self->counted = TRUE;
      g_autofree char *done_text = g_strdup_printf ("%" G_GUINT64_FORMAT, done);
      g_autofree char *total_text = g_strdup_printf ("%" G_GUINT64_FORMAT, total);
      g_autofree char *left = estimate_left (self, done, total);

      /* Translators: "1234 of 100000 keys rewrapped" */
      self->progress_text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s of %s key rewrapped",
                                                          "%s of %s keys rewrapped",
                                                          (gulong) MIN (total, G_MAXULONG)),
                                             done_text, total_text);
      if (left != NULL)
        {
          /* Translators: "1234 of 100000 keys rewrapped, about 2 minutes left" */
          g_autofree char *text = g_strdup_printf (_ ("%s, %s"), self->progress_text, left);

          g_free (self->progress_text);
          self->progress_text = g_steal_pointer (&text);
        }
      gtk_progress_bar_set_fraction (self->progress, (double) done / (double) total);
    }
  else if (self->rewrap_over)
    {
      /* A key storage with no keys: nothing to count, nothing left. */
      self->progress_text = g_strdup (_ ("No keys to rewrap"));
      gtk_progress_bar_set_fraction (self->progress, 1.0);
    }
  else
    {
      self->progress_text = g_strdup (_ ("Counting the keys…"));
      gtk_progress_bar_pulse (self->progress);
    }
  gtk_progress_bar_set_text (self->progress, self->progress_text);
}

static void
update_progress (TkeRotationDialog *self, TkeRotationStatus *status)
{
  TkeRotationState state = tke_rotation_status_get_state (status);

  self->rewrap_over = state == TKE_ROTATION_STATE_REWRAPPED || state == TKE_ROTATION_STATE_COMPLETE;
  show_progress (self, tke_rotation_status_get_keys_done (status),
                 tke_rotation_status_get_keys_total (status));
}

/* Scrolls the content so that self->revealed shows (its end, if it is
 * taller than the view: the PIN pad's keys, below the prompt's words).  A tick runs before the
 * frame's layout, and a widget just shown takes a few frames to reach its size: this runs until its
 * place and the content's height stay the same for two frames (a few frames, at most
 * REVEAL_MAX_FRAMES). */
static gboolean
reveal_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  TkeRotationDialog *self = TKE_ROTATION_DIALOG (widget);
  GtkWidget *content = gtk_scrolled_window_get_child (self->scroller);
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);
  graphene_rect_t bounds;
  double place[3] = { 0, 0, gtk_adjustment_get_upper (adjustment) };

  if (self->revealed != NULL && gtk_widget_get_visible (self->revealed) &&
      gtk_widget_compute_bounds (self->revealed, content, &bounds) && bounds.size.height > 0)
    {
      place[0] = bounds.origin.y;
      place[1] = bounds.size.height;
      gtk_adjustment_clamp_page (adjustment, place[0], place[0]);
      gtk_adjustment_clamp_page (adjustment, place[0] + place[1], place[0] + place[1]);
    }
  self->reveal_steady =
      memcmp (place, self->reveal_place, sizeof place) == 0 ? self->reveal_steady + 1 : 0;
  memcpy (self->reveal_place, place, sizeof place);
  if (self->reveal_steady < 2 && ++self->reveal_frames < REVEAL_MAX_FRAMES)
    return G_SOURCE_CONTINUE;
  self->reveal_tick = 0;
  return G_SOURCE_REMOVE;
}

/* What the dialog asks for, or how it ended, is never below the fold:
 * on a small screen the content scrolls to it. */
static void
reveal (TkeRotationDialog *self, GtkWidget *widget)
{
  self->revealed = widget;
  self->reveal_frames = 0;
  self->reveal_steady = 0;
  if (self->reveal_tick == 0)
    self->reveal_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self), reveal_tick, NULL, NULL);
}

/**
 * tke_rotation_dialog_update:
 *
 * Shows STATUS: the messages not shown yet are appended in order, the bar
 * follows the keys rewrapped.  A finished rotation (complete or failed)
 * lets the dialog be closed.
 */
void
tke_rotation_dialog_update (TkeRotationDialog *self, TkeRotationStatus *status)
{
  TkeRotationState state;
  guint n;

  g_return_if_fail (TKE_IS_ROTATION_DIALOG (self));
  g_return_if_fail (TKE_IS_ROTATION_STATUS (status));

  n = tke_rotation_status_get_n_messages (status);
  for (guint i = self->messages->len; i < n; i++)
    {
      GDateTime *timestamp = NULL;
      const char *text = tke_rotation_status_get_message (status, i, &timestamp);

      g_ptr_array_add (self->messages, g_strdup (text));
      gtk_list_box_append (self->message_list, message_row (timestamp, text));
    }
  update_progress (self, status);

  state = tke_rotation_status_get_state (status);
  if (state == TKE_ROTATION_STATE_FAILED)
    {
      g_autofree char *text = g_strdup_printf (
          _ ("The rotation stopped: %s"), tke_rotation_status_get_error_message (status) != NULL
                                              ? tke_rotation_status_get_error_message (status)
                                              : _ ("the service gave no reason"));
      gtk_label_set_text (self->error_label, text);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      reveal (self, GTK_WIDGET (self->error_label));
      gtk_label_set_text (
          self->headline,
          _ ("The rotation stopped. What happened and what is safe next are below."));
    }
  self->finished = state == TKE_ROTATION_STATE_COMPLETE || state == TKE_ROTATION_STATE_FAILED;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "rotation.close", self->finished);
  gtk_window_set_deletable (GTK_WINDOW (self), self->finished);
  if (self->finished)
    tke_rotation_dialog_set_cancel_safe (self, FALSE, NULL);
}

/**
 * tke_rotation_dialog_set_cancel_safe:
 * @reason: (nullable): why stopping is not offered now
 */
void
tke_rotation_dialog_set_cancel_safe (TkeRotationDialog *self, gboolean safe, const char *reason)
{
  g_return_if_fail (TKE_IS_ROTATION_DIALOG (self));

  /* Offered only while it would do something: a button that can never
   * be pressed only worries. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "rotation.cancel", safe && !self->finished);
  gtk_widget_set_visible (self->cancel_button, safe && !self->finished);
  gtk_label_set_text (self->cancel_reason, reason != NULL ? reason : "");
  gtk_widget_set_tooltip_text (self->cancel_button, reason);
}

/**
 * tke_rotation_dialog_allow_close:
 * @message: what the person does next
 *
 * The service's part is over (the keys are rewrapped); what is left needs
 * the person, so the dialog may close.
 */
void
tke_rotation_dialog_allow_close (TkeRotationDialog *self, const char *message)
{
  g_return_if_fail (TKE_IS_ROTATION_DIALOG (self));

  tke_rotation_dialog_set_cancel_safe (self, FALSE, message);
  self->finished = TRUE;
  gtk_widget_set_visible (self->cancel_button, FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "rotation.close", TRUE);
  gtk_window_set_deletable (GTK_WINDOW (self), TRUE);
}

/**
 * tke_rotation_dialog_add_message:
 * @text: a message of the service, as it arrived
 */
void
tke_rotation_dialog_add_message (TkeRotationDialog *self, const char *text)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();

  g_return_if_fail (TKE_IS_ROTATION_DIALOG (self));
  g_ptr_array_add (self->messages, g_strdup (text));
  gtk_list_box_append (self->message_list, message_row (now, text));
}

/* Only a changed text is set: the bar is told of every poll. */
void
tke_rotation_dialog_set_progress (TkeRotationDialog *self, guint64 done, guint64 total)
{
  g_return_if_fail (TKE_IS_ROTATION_DIALOG (self));
  show_progress (self, done, total);
}

/**
 * tke_rotation_dialog_get_readers_bar:
 *
 * Returns: (transfer none): the dialog's own readers strip, for
 *   tke_readers_bar_follow()
 */
TkeReadersBar *
tke_rotation_dialog_get_readers_bar (TkeRotationDialog *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_DIALOG (self), NULL);
  return self->readers_bar;
}

TkePinPrompt *
tke_rotation_dialog_get_pin_prompt (TkeRotationDialog *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_DIALOG (self), NULL);
  return self->pin_prompt;
}

/**
 * tke_rotation_dialog_set_virtual_pads:
 * @reader1_control: (nullable): reader 1's control socket, when the readers are virtual
 * @reader2_control: (nullable): reader 2's, for a second administrator's card
 */
void
tke_rotation_dialog_set_virtual_pads (TkeRotationDialog *self,
                                      const char *reader1_control,
                                      const char *reader2_control)
{
  g_return_if_fail (TKE_IS_ROTATION_DIALOG (self));
  g_free (self->pad_path);
  self->pad_path = g_strdup (reader1_control);
  tke_pin_prompt_set_virtual_pads (self->pin_prompt, reader1_control, reader2_control);
}

/**
 * tke_rotation_dialog_offer_report:
 * @self: the dialog
 * @ceremony_id: the ceremony's id in the ceremony record
 *
 * The ceremony's last record is written: "Ceremony Report" shows, next to
 * Close, and opens its report.  A later ceremony in the same dialog (set
 * immediate after an automatic rotation) replaces the earlier one.
 */
void
tke_rotation_dialog_offer_report (TkeRotationDialog *self, const char *ceremony_id)
{
  g_return_if_fail (TKE_IS_ROTATION_DIALOG (self));
  g_return_if_fail (ceremony_id != NULL);
  g_free (self->report_id);
  self->report_id = g_strdup (ceremony_id);
  gtk_widget_set_visible (self->report_button, TRUE);
}

const char *
tke_rotation_dialog_get_report_id (TkeRotationDialog *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_DIALOG (self), NULL);
  return self->report_id;
}

/**
 * tke_rotation_dialog_show_card_step:
 *
 * The rewrap is done; set immediate needs an administrator's signature:
 * the card prompt shows, and the headline says what happens now.
 */
/**
 * tke_rotation_dialog_set_ceremony:
 * @title: (nullable): the window's title; %NULL: the rotation's
 * @card_headline: (nullable): the headline while the card is asked for
 * @done_headline: (nullable): the headline when it ended well
 * @counts_keys: whether the key storage's rewrap is part of it
 *
 * Shows another ceremony's steps (the recovery-unit path) in the dialog;
 * %NULL keeps the rotation's words.
 */
void
tke_rotation_dialog_set_ceremony (TkeRotationDialog *self,
                                  const char *title,
                                  const char *card_headline,
                                  const char *done_headline,
                                  gboolean counts_keys)
{
  g_return_if_fail (TKE_IS_ROTATION_DIALOG (self));

  if (title != NULL)
    gtk_window_set_title (GTK_WINDOW (self), title);
  g_free (self->card_headline);
  self->card_headline = g_strdup (card_headline);
  g_free (self->done_headline);
  self->done_headline = g_strdup (done_headline);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), counts_keys);
  gtk_button_set_label (GTK_BUTTON (self->cancel_button),
                        counts_keys ? _ ("_Stop Rotation") : _ ("_Stop"));
  gtk_button_set_use_underline (GTK_BUTTON (self->cancel_button), TRUE);
}

/**
 * tke_rotation_dialog_set_stopped_headline:
 * @headline: (nullable): the headline when the ceremony ends on an error,
 *   for a ceremony that is not a rotation; %NULL for a rotation's words
 */
void
tke_rotation_dialog_set_stopped_headline (TkeRotationDialog *self, const char *headline)
{
  g_return_if_fail (TKE_IS_ROTATION_DIALOG (self));

  g_free (self->stopped_headline);
  self->stopped_headline = g_strdup (headline);
}

/* The dialog was made smaller (by the window manager, on a small screen,
 * or by the person): what was revealed stays in view. */
static void
on_page_size_changed (GtkAdjustment *adjustment, GParamSpec *pspec, TkeRotationDialog *self)
{
  if (self->revealed != NULL && gtk_widget_get_visible (self->revealed))
    reveal (self, self->revealed);
}

void
tke_rotation_dialog_show_card_step (TkeRotationDialog *self, gboolean shown)
{
  g_return_if_fail (TKE_IS_ROTATION_DIALOG (self));

  if (shown == gtk_widget_get_visible (GTK_WIDGET (self->pin_prompt)))
    return;
  gtk_widget_set_visible (GTK_WIDGET (self->pin_prompt), shown);
  if (shown)
    reveal (self, GTK_WIDGET (self->pin_prompt));
  if (shown)
    gtk_label_set_text (
        self->headline,
        self->card_headline != NULL
            ? self->card_headline
            : _ ("Every key is rewrapped. Set immediate now makes the new master key current on "
                 "every selected crypto unit; it needs the signature of an administrator card."));
}

/**
 * tke_rotation_dialog_add_unit_result:
 * @error_message: (nullable): why set immediate failed on the unit, or %NULL
 */
void
tke_rotation_dialog_add_unit_result (TkeRotationDialog *self,
                                     guint unit_number,
                                     const char *error_message)
{
  /* The person cancelled on the pad, let it time out, or stopped the
   * wait for the card: a choice or a pause, not a fault of the unit;
   * without the PIN nothing was signed or sent to it. */
  TkePinPromptState prompt = tke_pin_prompt_get_state (self->pin_prompt);
  gboolean not_sent = error_message != NULL && (prompt == TKE_PIN_PROMPT_CANCELLED ||
                                                prompt == TKE_PIN_PROMPT_WAITING_FOR_CARD ||
                                                prompt == TKE_PIN_PROMPT_CARD_FOUND);
  g_autofree char *title = g_strdup_printf (_ ("Crypto unit %u"), unit_number);
  g_autofree char *text =
      error_message == NULL ? g_strdup (_ ("Set immediate done: the new master key is current"))
      : not_sent
          ? g_strdup_printf (_ ("Not set yet: %s Nothing was sent to this unit."), error_message)
          : g_strdup_printf (_ ("Set immediate failed: %s"), error_message);
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *icon = gtk_image_new_from_icon_name (error_message == NULL ? "emblem-ok-symbolic"
                                                  : not_sent ? "media-playback-pause-symbolic"
                                                             : "dialog-error-symbolic");
  GtkWidget *unit = gtk_label_new (title);
  GtkWidget *label = gtk_label_new (text);

  g_return_if_fail (TKE_IS_ROTATION_DIALOG (self));

  if (!not_sent)
    gtk_widget_add_css_class (icon, error_message == NULL ? "success" : "error");
  gtk_widget_add_css_class (unit, "heading");
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (row), icon);
  gtk_box_append (GTK_BOX (row), unit);
  gtk_box_append (GTK_BOX (row), label);
  gtk_widget_set_margin_start (row, 12);
  gtk_widget_set_margin_end (row, 12);
  gtk_widget_set_margin_top (row, 8);
  gtk_widget_set_margin_bottom (row, 8);
  gtk_list_box_append (self->results, row);
  gtk_widget_set_visible (self->results_heading, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->results), TRUE);
  self->n_results++;
}

guint
tke_rotation_dialog_get_n_unit_results (TkeRotationDialog *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_DIALOG (self), 0);
  return self->n_results;
}

/**
 * tke_rotation_dialog_finish:
 * @error_message: (nullable): why the ceremony stopped; %NULL when it succeeded
 * @next: (nullable): what is safe next (the advisor's words), or a closing note
 *
 * The ceremony ended: the dialog says how and may be closed.
 */
void
tke_rotation_dialog_finish (TkeRotationDialog *self, const char *error_message, const char *next)
{
  g_return_if_fail (TKE_IS_ROTATION_DIALOG (self));

  if (error_message != NULL)
    {
      g_autofree char *text = next != NULL ? g_strdup_printf ("%s\n\n%s", error_message, next)
                                           : g_strdup (error_message);

      gtk_label_set_text (self->error_label, text);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      reveal (self, GTK_WIDGET (self->error_label));
    }
  else
    {
      gtk_label_set_text (self->done_label, next != NULL ? next : "");
      gtk_widget_set_visible (GTK_WIDGET (self->done_label), TRUE);
      reveal (self, GTK_WIDGET (self->done_label));
    }
  /* Ended well and never counted a key: the storage had none. */
  if (error_message == NULL && !self->counted)
    {
      self->rewrap_over = TRUE;
      show_progress (self, 0, 0);
    }
  /* The headline says how it ended, not what was under way. */
  if (error_message == NULL)
    gtk_label_set_text (self->headline, self->done_headline != NULL
                                            ? self->done_headline
                                            : _ ("The rotation is complete."));
  else if (self->stopped_headline != NULL)
    {
      /* Not red when the person chose it on the pad. */
      if (tke_pin_prompt_get_state (self->pin_prompt) == TKE_PIN_PROMPT_CANCELLED)
        gtk_widget_remove_css_class (GTK_WIDGET (self->error_label), "error");
      gtk_label_set_text (self->headline, self->stopped_headline);
    }
  else if (tke_pin_prompt_get_state (self->pin_prompt) == TKE_PIN_PROMPT_CANCELLED)
    {
      /* Not red: the person chose it, and the next step is offered. */
      gtk_widget_remove_css_class (GTK_WIDGET (self->error_label), "error");
      gtk_label_set_text (self->headline,
                          _ ("Set immediate was not sent: the PIN entry ended on the PIN pad. "
                             "The keys stay rewrapped; what is safe next is below."));
    }
  else
    gtk_label_set_text (self->headline,
                        _ ("The rotation stopped. What happened and what is safe next are below."));
  /* The prompt's last word (blocked, cancelled) stays; the pad goes.
   * "PIN accepted" is old news once the units' results are in, and a big
   * green tick over a failed set immediate would mislead. */
  tke_pin_prompt_set_virtual_pad (self->pin_prompt, NULL);
  if (error_message == NULL ||
      tke_pin_prompt_get_state (self->pin_prompt) == TKE_PIN_PROMPT_ACCEPTED)
    gtk_widget_set_visible (GTK_WIDGET (self->pin_prompt), FALSE);
  self->finished = TRUE;
  tke_rotation_dialog_set_cancel_safe (self, FALSE, NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "rotation.close", TRUE);
  gtk_window_set_deletable (GTK_WINDOW (self), TRUE);
}

const char *
tke_rotation_dialog_get_outcome (TkeRotationDialog *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_DIALOG (self), NULL);
  if (gtk_widget_get_visible (GTK_WIDGET (self->error_label)))
    return gtk_label_get_text (self->error_label);
  if (gtk_widget_get_visible (GTK_WIDGET (self->done_label)))
    return gtk_label_get_text (self->done_label);
  return NULL;
}

/* What the dialog says on top: under way, or how it ended. */
const char *
tke_rotation_dialog_get_headline (TkeRotationDialog *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_DIALOG (self), NULL);
  return gtk_label_get_text (self->headline);
}

guint
tke_rotation_dialog_get_n_messages (TkeRotationDialog *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_DIALOG (self), 0);
  return self->messages->len;
}

const char *
tke_rotation_dialog_get_message (TkeRotationDialog *self, guint index)
{
  g_return_val_if_fail (TKE_IS_ROTATION_DIALOG (self), NULL);
  g_return_val_if_fail (index < self->messages->len, NULL);
  return self->messages->pdata[index];
}

const char *
tke_rotation_dialog_get_progress_text (TkeRotationDialog *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_DIALOG (self), NULL);
  return self->progress_text;
}

gboolean
tke_rotation_dialog_get_finished (TkeRotationDialog *self)
{
  g_return_val_if_fail (TKE_IS_ROTATION_DIALOG (self), FALSE);
  return self->finished;
}

static void
cancel_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeRotationDialog *self = TKE_ROTATION_DIALOG (widget);

  tke_rotation_dialog_set_cancel_safe (self, FALSE, _ ("Stopping…"));
  g_signal_emit (self, signals[SIGNAL_CANCEL_REQUESTED], 0);
}

static void
close_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  gtk_window_destroy (GTK_WINDOW (widget));
}

static void
report_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeRotationDialog *self = TKE_ROTATION_DIALOG (widget);
  TkeReportDialog *dialog;

  if (self->report_id == NULL)
    return;
  dialog = tke_report_dialog_new (GTK_WINDOW (self), self->report_id);
  tke_report_dialog_set_virtual_pad (dialog, self->pad_path);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Escape and the window manager's close do nothing while keys are being
 * rewrapped: the dialog must stay until the service says how it ended. */
static gboolean
tke_rotation_dialog_close_request (GtkWindow *window)
{
  return !TKE_ROTATION_DIALOG (window)->finished;
}

static void
tke_rotation_dialog_dispose (GObject *object)
{
  TkeRotationDialog *self = TKE_ROTATION_DIALOG (object);

  if (self->reveal_tick != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->reveal_tick);
  self->reveal_tick = 0;
  self->revealed = NULL;
  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_ROTATION_DIALOG);
  g_clear_pointer (&self->messages, g_ptr_array_unref);
  g_clear_pointer (&self->progress_text, g_free);
  g_clear_pointer (&self->card_headline, g_free);
  g_clear_pointer (&self->done_headline, g_free);
  g_clear_pointer (&self->stopped_headline, g_free);
  g_clear_pointer (&self->report_id, g_free);
  g_clear_pointer (&self->pad_path, g_free);
  G_OBJECT_CLASS (tke_rotation_dialog_parent_class)->dispose (object);
}

static void
tke_rotation_dialog_class_init (TkeRotationDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_rotation_dialog_dispose;
  GTK_WINDOW_CLASS (klass)->close_request = tke_rotation_dialog_close_request;

  /**
   * TkeRotationDialog::cancel-requested:
   *
   * The person asked to stop while stopping was safe.
   */
  signals[SIGNAL_CANCEL_REQUESTED] =
      g_signal_new ("cancel-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/tke-rotation-dialog.ui");
  g_type_ensure (TKE_TYPE_PIN_PROMPT);
  g_type_ensure (TKE_TYPE_READERS_BAR);
  gtk_widget_class_bind_template_child (widget_class, TkeRotationDialog, scroller);
  gtk_widget_class_bind_template_child (widget_class, TkeRotationDialog, headline);
  gtk_widget_class_bind_template_child (widget_class, TkeRotationDialog, progress);
  gtk_widget_class_bind_template_child (widget_class, TkeRotationDialog, pin_prompt);
  gtk_widget_class_bind_template_child (widget_class, TkeRotationDialog, results_heading);
  gtk_widget_class_bind_template_child (widget_class, TkeRotationDialog, results);
  gtk_widget_class_bind_template_child (widget_class, TkeRotationDialog, done_label);
  gtk_widget_class_bind_template_child_full (widget_class, "messages", FALSE,
                                             G_STRUCT_OFFSET (TkeRotationDialog, message_list));
  gtk_widget_class_bind_template_child (widget_class, TkeRotationDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, TkeRotationDialog, cancel_reason);
  gtk_widget_class_bind_template_child (widget_class, TkeRotationDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, TkeRotationDialog, readers_bar);
  gtk_widget_class_bind_template_child (widget_class, TkeRotationDialog, report_button);
  gtk_widget_class_install_action (widget_class, "rotation.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "rotation.close", NULL, close_action);
  gtk_widget_class_install_action (widget_class, "rotation.report", NULL, report_action);
}

static void
tke_rotation_dialog_init (TkeRotationDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (gtk_scrolled_window_get_vadjustment (self->scroller),
                           "notify::page-size", G_CALLBACK (on_page_size_changed), self, 0);
  self->messages = g_ptr_array_new_with_free_func (g_free);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "rotation.close", FALSE);
  tke_rotation_dialog_set_cancel_safe (self, FALSE, NULL);
}
