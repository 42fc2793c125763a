/* tke-pin-prompt.c: "insert the card, enter the PIN on the PIN pad", live
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One prompt for every card step of a ceremony.  The card step's owner
 * (a libtke ceremony, through the window) sets the state as the reader
 * reports it; the prompt only says, in words, what the person must do
 * next.  The PIN is typed on the reader: a real PIN pad cannot be
 * cancelled from the host, so the prompt says where Cancel is instead of
 * offering a button that would do nothing.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-pin-prompt.h"
#include "tke-widget-util.h"
#include "tke-virtual-pin-pad.h"

struct _TkePinPrompt
{
  GtkWidget parent_instance;

  guint reader;
  char *card_kind;
  TkePinPromptState state;
  guint tries_left;  /* after a wrong PIN, until the PIN is taken */
  guint pin_timeout; /* seconds the reader waits for the PIN */
  guint seconds_left;
  guint countdown;
  gint64 countdown_start;

  GtkImage *icon;
  GtkSpinner *spinner;
  GtkLabel *title_label;
  GtkLabel *description_label;
  GtkWidget *cancel_note;
  GtkLabel *countdown_label;
  GtkWidget *pad;
  char *pad_paths[2]; /* both readers' pads, when the prompt serves both */
};

/* libtke's default (TkeCard:pin-timeout), until the owner says. */
#define DEFAULT_PIN_TIMEOUT 30

G_DEFINE_FINAL_TYPE (TkePinPrompt, tke_pin_prompt, GTK_TYPE_WIDGET)

GtkWidget *
tke_pin_prompt_new (void)
{
  return g_object_new (TKE_TYPE_PIN_PROMPT, NULL);
}

/**
 * tke_pin_prompt_set_reader:
 * @reader: 1 (administrator cards) or 2 (key part cards)
 * @card_kind: what to insert, e.g. _("an administrator card")
 */
void
tke_pin_prompt_set_reader (TkePinPrompt *self, guint reader, const char *card_kind)
{
  g_return_if_fail (TKE_IS_PIN_PROMPT (self));

  self->reader = reader;
  g_free (self->card_kind);
  self->card_kind = g_strdup (card_kind);
  tke_virtual_pin_pad_set_reader (TKE_VIRTUAL_PIN_PAD (self->pad), reader);
  /* The pad's keys go to the reader that asks now. */
  if (self->pad_paths[0] != NULL && reader >= 1 && reader <= 2)
    tke_virtual_pin_pad_set_control_path (TKE_VIRTUAL_PIN_PAD (self->pad),
                                          self->pad_paths[reader - 1]);
  tke_pin_prompt_set_state (self, TKE_PIN_PROMPT_WAITING_FOR_CARD, NULL, 0);
}

guint
tke_pin_prompt_get_reader (TkePinPrompt *self)
{
  g_return_val_if_fail (TKE_IS_PIN_PROMPT (self), 1);
  return self->reader;
}

static void
show (TkePinPrompt *self,
      const char *icon,
      gboolean spinning,
      const char *title,
      const char *description,
      const char *style)
{
  gtk_image_set_from_icon_name (self->icon, icon);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), spinning);
  gtk_spinner_set_spinning (self->spinner, spinning);
  gtk_label_set_text (self->title_label, title);
  gtk_label_set_text (self->description_label, description);
  gtk_widget_remove_css_class (GTK_WIDGET (self->title_label), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->title_label), "success");
  if (style != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->title_label), style);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description, -1);
}

/* After a wrong PIN the owner asks again at once: the pad waits, and the
 * title keeps saying how many tries are left. */
static gboolean
pad_waits (TkePinPromptState state)
{
  return state == TKE_PIN_PROMPT_ENTER_PIN || state == TKE_PIN_PROMPT_WRONG_PIN;
}

/* The on-screen pad, while the reader waits for its keys; the big icon
 * makes room for it then, so that the pad fits in a dialog unscrolled. */
static void
show_pad (TkePinPrompt *self)
{
  gboolean shown = pad_waits (self->state) &&
                   tke_virtual_pin_pad_get_control_path (TKE_VIRTUAL_PIN_PAD (self->pad)) != NULL;

  gtk_widget_set_visible (self->pad, shown);
  gtk_widget_set_visible (GTK_WIDGET (self->icon), !shown);
  /* The on-screen pad shows its own Cancel key: the note is for a real pad. */
  gtk_widget_set_visible (self->cancel_note, pad_waits (self->state) && !shown);
}

/* ---- The reader's time-out, counted down ---- */

static void
show_seconds_left (TkePinPrompt *self)
{
  g_autofree char *text = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE, "%u second left to type the PIN before the reader gives up",
                   "%u seconds left to type the PIN before the reader gives up",
                   self->seconds_left),
      self->seconds_left);

  gtk_label_set_text (self->countdown_label, text);
  if (self->seconds_left <= 10)
    gtk_widget_add_css_class (GTK_WIDGET (self->countdown_label), "warning");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->countdown_label), "warning");
}

/* From the clock, not by counting ticks: a busy main loop may run a tick
 * late, the reader's time runs on. */
static gboolean
on_countdown_tick (gpointer data)
{
  TkePinPrompt *self = data;
  gint64 elapsed = (g_get_monotonic_time () - self->countdown_start) / G_USEC_PER_SEC;

  self->seconds_left = elapsed >= self->pin_timeout ? 0 : self->pin_timeout - (guint) elapsed;
  show_seconds_left (self);
  if (self->seconds_left == 0)
    {
      self->countdown = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
stop_countdown (TkePinPrompt *self)
{
  g_clear_handle_id (&self->countdown, g_source_remove);
  gtk_widget_set_visible (GTK_WIDGET (self->countdown_label), FALSE);
}

/* The reader starts its clock when it asks for the PIN, as this does. */
static void
start_countdown (TkePinPrompt *self)
{
  stop_countdown (self);
  if (self->pin_timeout == 0)
    return;
  self->seconds_left = self->pin_timeout;
  self->countdown_start = g_get_monotonic_time ();
  show_seconds_left (self);
  gtk_widget_set_visible (GTK_WIDGET (self->countdown_label), TRUE);
  self->countdown = g_timeout_add (1000, on_countdown_tick, self);
}

/**
 * tke_pin_prompt_set_pin_timeout:
 * @seconds: how long the reader waits for the PIN (tke_card_get_pin_timeout()); 0 for no countdown
 *
 * The prompt counts these seconds down while the pad waits.
 */
void
tke_pin_prompt_set_pin_timeout (TkePinPrompt *self, guint seconds)
{
  g_return_if_fail (TKE_IS_PIN_PROMPT (self));
  self->pin_timeout = seconds;
}

/**
 * tke_pin_prompt_get_seconds_left:
 *
 * Returns: the seconds the countdown shows, or 0 when the pad does not wait
 */
guint
tke_pin_prompt_get_seconds_left (TkePinPrompt *self)
{
  g_return_val_if_fail (TKE_IS_PIN_PROMPT (self), 0);
  return self->countdown != 0 ? self->seconds_left : 0;
}

const char *
tke_pin_prompt_get_countdown_text (TkePinPrompt *self)
{
  g_return_val_if_fail (TKE_IS_PIN_PROMPT (self), NULL);
  return gtk_widget_get_visible (GTK_WIDGET (self->countdown_label))
             ? gtk_label_get_text (self->countdown_label)
             : NULL;
}

void
tke_pin_prompt_set_state (TkePinPrompt *self,
                          TkePinPromptState state,
                          const char *card_description,
                          guint tries_left)
{
  g_autofree char *title = NULL;
  g_autofree char *description = NULL;
  const char *kind;
  TkePinPromptState old_state;

  g_return_if_fail (TKE_IS_PIN_PROMPT (self));

  old_state = self->state;
  self->state = state;
  if (state == TKE_PIN_PROMPT_WRONG_PIN)
    self->tries_left = tries_left;
  else if (state != TKE_PIN_PROMPT_ENTER_PIN)
    self->tries_left = 0;
  kind = self->card_kind != NULL ? self->card_kind : _ ("the card");
  switch (state)
    {
    case TKE_PIN_PROMPT_WAITING_FOR_CARD:
      /* Translators: "Insert an administrator card in reader 1" */
      title = g_strdup_printf (_ ("Insert %s in reader %u"), kind, self->reader);
      /* The owner may say which card exactly ("the administrator card of …"). */
      description = card_description != NULL
                        ? g_strdup (card_description)
                        : g_strdup_printf (_ ("Waiting for a card in reader %u…"), self->reader);
      show (self, "media-removable-symbolic", TRUE, title, description, NULL);
      break;
    case TKE_PIN_PROMPT_CARD_FOUND:
      title = g_strdup_printf (_ ("Card found: “%s”"),
                               card_description != NULL ? card_description : "");
      description = g_strdup (_ ("Reading the card…"));
      show (self, "emblem-ok-symbolic", TRUE, title, description, NULL);
      break;
    case TKE_PIN_PROMPT_ENTER_PIN:
      title = g_strdup_printf (_ ("Enter the PIN on the PIN pad of reader %u"), self->reader);
      if (old_state == TKE_PIN_PROMPT_WRONG_PIN ||
          (old_state == TKE_PIN_PROMPT_ENTER_PIN && self->tries_left > 0))
        /* The pad asks again after a wrong PIN: keep saying so. */
        description = g_strdup_printf (
            g_dngettext (GETTEXT_PACKAGE,
                         "The PIN was wrong: %u try left before the card is blocked. Type the PIN "
                         "of “%s” again, then press OK on the reader.",
                         "The PIN was wrong: %u tries left before the card is blocked. Type the "
                         "PIN of “%s” again, then press OK on the reader.",
                         self->tries_left),
            self->tries_left, card_description != NULL ? card_description : kind);
      else
        description = g_strdup_printf (
            _ ("Type the 6-digit PIN of “%s” on the reader's keys, then press OK on the reader."),
            card_description != NULL ? card_description : kind);
      show (self, "input-dialpad-symbolic", FALSE, title, description, NULL);
      break;
    case TKE_PIN_PROMPT_ACCEPTED:
      show (self, "emblem-ok-symbolic", FALSE, _ ("PIN accepted"), "", "success");
      break;
    case TKE_PIN_PROMPT_WRONG_PIN:
      title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Wrong PIN: %u try left",
                                            "Wrong PIN: %u tries left", tries_left),
                               tries_left);
      description = g_strdup (
          _ ("Enter the PIN again on the PIN pad. After three wrong PINs the card is blocked."));
      show (self, "dialog-warning-symbolic", FALSE, title, description, "error");
      break;
    case TKE_PIN_PROMPT_BLOCKED:
      show (self, "action-unavailable-symbolic", FALSE, _ ("The card is blocked"),
            _ ("Three wrong PINs blocked it. Only its zone's CA card can unblock it (tke-card "
               "unblock). Take the card out of the reader."),
            "error");
      break;
    case TKE_PIN_PROMPT_CANCELLED:
      show (self, "process-stop-symbolic", FALSE, _ ("PIN entry cancelled"),
            _ ("The PIN entry was cancelled on the PIN pad, or nobody typed the PIN in time."),
            NULL);
      break;
    case TKE_PIN_PROMPT_WRONG_CARD:
      title = g_strdup_printf (_ ("This is not %s"), kind);
      description =
          g_strdup_printf (_ ("Take “%s” out of reader %u and insert %s."),
                           card_description != NULL ? card_description : "", self->reader, kind);
      show (self, "dialog-warning-symbolic", FALSE, title, description, "error");
      break;
    case TKE_PIN_PROMPT_CHOOSE:
      title = g_strdup_printf (_ ("Card found: “%s”"),
                               card_description != NULL ? card_description : "");
      show (self, "emblem-ok-symbolic", FALSE, title,
            _ ("Choose what to load from the card's list below."), NULL);
      break;
    case TKE_PIN_PROMPT_WORKING:
      title = g_strdup_printf (_ ("Card: “%s”"), card_description != NULL ? card_description : "");
      show (self, "emblem-ok-symbolic", TRUE, title,
            _ ("The card checks the PIN and does its work. Leave it in the reader."), NULL);
      break;
    default:
      g_return_if_reached ();
    }
  if (!pad_waits (state))
    stop_countdown (self);
  else if (state != old_state || self->countdown == 0)
    start_countdown (self);
  /* The pad's keys are shown only while the reader waits for them. */
  show_pad (self);
}

TkePinPromptState
tke_pin_prompt_get_state (TkePinPrompt *self)
{
  g_return_val_if_fail (TKE_IS_PIN_PROMPT (self), TKE_PIN_PROMPT_WAITING_FOR_CARD);
  return self->state;
}

const char *
tke_pin_prompt_get_title (TkePinPrompt *self)
{
  g_return_val_if_fail (TKE_IS_PIN_PROMPT (self), NULL);
  return gtk_label_get_text (self->title_label);
}

const char *
tke_pin_prompt_get_description (TkePinPrompt *self)
{
  g_return_val_if_fail (TKE_IS_PIN_PROMPT (self), NULL);
  return gtk_label_get_text (self->description_label);
}

void
tke_pin_prompt_set_virtual_pad (TkePinPrompt *self, const char *control_path)
{
  g_return_if_fail (TKE_IS_PIN_PROMPT (self));

  g_clear_pointer (&self->pad_paths[0], g_free);
  g_clear_pointer (&self->pad_paths[1], g_free);
  tke_virtual_pin_pad_set_control_path (TKE_VIRTUAL_PIN_PAD (self->pad), control_path);
  show_pad (self);
}

/* For a prompt that serves both readers in turn (two administrators who
 * sign each command): the pad follows tke_pin_prompt_set_reader(). */
void
tke_pin_prompt_set_virtual_pads (TkePinPrompt *self,
                                 const char *reader1_control,
                                 const char *reader2_control)
{
  g_return_if_fail (TKE_IS_PIN_PROMPT (self));

  tke_pin_prompt_set_virtual_pad (
      self, reader1_control != NULL && self->reader == 2 ? reader2_control : reader1_control);
  if (reader1_control == NULL)
    return;
  self->pad_paths[0] = g_strdup (reader1_control);
  self->pad_paths[1] = g_strdup (reader2_control);
}

GtkWidget *
tke_pin_prompt_get_pad (TkePinPrompt *self)
{
  g_return_val_if_fail (TKE_IS_PIN_PROMPT (self), NULL);
  return self->pad;
}

static void
tke_pin_prompt_dispose (GObject *object)
{
  g_clear_handle_id (&TKE_PIN_PROMPT (object)->countdown, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (object), TKE_TYPE_PIN_PROMPT);
  tke_widget_unparent_children (GTK_WIDGET (object));
  G_OBJECT_CLASS (tke_pin_prompt_parent_class)->dispose (object);
}

static void
tke_pin_prompt_finalize (GObject *object)
{
  TkePinPrompt *self = TKE_PIN_PROMPT (object);

  g_free (self->card_kind);
  g_free (self->pad_paths[0]);
  g_free (self->pad_paths[1]);
  G_OBJECT_CLASS (tke_pin_prompt_parent_class)->finalize (object);
}

static void
tke_pin_prompt_class_init (TkePinPromptClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_pin_prompt_dispose;
  object_class->finalize = tke_pin_prompt_finalize;

  g_type_ensure (TKE_TYPE_VIRTUAL_PIN_PAD);
  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/tke-pin-prompt.ui");
  gtk_widget_class_bind_template_child (widget_class, TkePinPrompt, icon);
  gtk_widget_class_bind_template_child (widget_class, TkePinPrompt, spinner);
  gtk_widget_class_bind_template_child (widget_class, TkePinPrompt, title_label);
  gtk_widget_class_bind_template_child (widget_class, TkePinPrompt, description_label);
  gtk_widget_class_bind_template_child (widget_class, TkePinPrompt, cancel_note);
  gtk_widget_class_bind_template_child (widget_class, TkePinPrompt, countdown_label);
  gtk_widget_class_bind_template_child (widget_class, TkePinPrompt, pad);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
tke_pin_prompt_init (TkePinPrompt *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->reader = 1;
  tke_virtual_pin_pad_set_reader (TKE_VIRTUAL_PIN_PAD (self->pad), self->reader);
  self->pin_timeout = DEFAULT_PIN_TIMEOUT;
  tke_pin_prompt_set_state (self, TKE_PIN_PROMPT_WAITING_FOR_CARD, NULL, 0);
}
