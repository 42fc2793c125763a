/* tke-smart-card-files.c: the Smart card tab's copies between a card and files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * "Copy Key Part File to Card…", "Copy Key Part to File…" and the
 * signature key pair, on the card in reader 2: a file chooser, then the
 * file's password (typed here, as with the real tool; the card's PIN is
 * typed on the pad), then libtke's tke_card_*_file_async(), which has the
 * card open or make the file itself (card-protocol.md §4.14).
 */

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <tke.h>

#include "tke-smart-card-page-private.h"

#define MIN_NEW_PASSWORD 8

typedef struct
{
  TkeSmartCardPage *page;
  TkeSmartCardFileCopy kind;
  char *path;
  guint index;
  GtkEditable *password;
  GtkEditable *again; /* NULL unless the file is new */
} Copy;

static void
copy_free (Copy *copy)
{
  g_object_unref (copy->page);
  g_free (copy->path);
  g_free (copy);
}

static gboolean
to_card (TkeSmartCardFileCopy kind)
{
  return kind == TKE_SMART_CARD_FILE_COPY_PART_TO_CARD ||
         kind == TKE_SMART_CARD_FILE_COPY_SIGKEY_TO_CARD;
}

static gboolean
is_part (TkeSmartCardFileCopy kind)
{
  return kind == TKE_SMART_CARD_FILE_COPY_PART_TO_CARD ||
         kind == TKE_SMART_CARD_FILE_COPY_PART_TO_FILE;
}

static void
set_status (TkeSmartCardPage *self, const char *text)
{
  gtk_label_set_text (self->status_label, text);
}

/* ---- The operations' ends ---- */

static void
on_part_to_card_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSmartCardPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeCardKeyPart) part =
      tke_card_import_key_part_file_finish (TKE_CARD (source), result, &error);
  g_autofree char *check_value = part != NULL ? tke_vp_format_one_line (part->check_value) : NULL;
  g_autofree char *done =
      part != NULL ? g_strdup_printf (_ ("Key part %u “%s” copied onto the card in reader 2, "
                                         "check value %s."),
                                      part->index, part->description, check_value)
                   : NULL;

  _tke_smart_card_page_end (self, done, error);
}

static void
on_part_to_file_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSmartCardPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeKeyPartFile) file =
      tke_card_export_key_part_file_finish (TKE_CARD (source), result, &error);
  g_autofree char *check_value =
      file != NULL ? tke_vp_format_one_line (tke_key_part_file_get_vp (file)) : NULL;
  g_autofree char *done =
      file != NULL ? g_strdup_printf (_ ("Key part “%s” written to “%s”, check value %s."),
                                      tke_key_part_file_get_description (file),
                                      tke_key_part_file_get_path (file), check_value)
                   : NULL;

  _tke_smart_card_page_end (self, done, error);
}

static void
on_sigkey_to_card_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSmartCardPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) point =
      tke_card_import_signature_key_file_finish (TKE_CARD (source), result, &error);
  g_autofree char *ski = point != NULL ? tke_card_public_key_ski (point) : NULL;
  g_autofree char *groups = ski != NULL ? tke_vp_format_one_line (ski) : NULL;
  g_autofree char *done =
      ski != NULL ? g_strdup_printf (_ ("The card in reader 2 has the file's signature key, "
                                        "SKI %s."),
                                     groups)
                  : NULL;

  _tke_smart_card_page_end (self, done, error);
}

static void
on_sigkey_to_file_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TkeSmartCardPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TkeSignatureKeyFile) file =
      tke_card_export_signature_key_file_finish (TKE_CARD (source), result, &error);
  g_autofree char *ski =
      file != NULL ? tke_vp_format_one_line (tke_signature_key_file_get_ski (file)) : NULL;
  g_autofree char *done =
      file != NULL ? g_strdup_printf (_ ("The signature key of the card in reader 2 was written "
                                         "to “%s”, SKI %s."),
                                      tke_signature_key_file_get_path (file), ski)
                   : NULL;

  _tke_smart_card_page_end (self, done, error);
}

/* ---- The password, then the operation ---- */

static void
start (Copy *copy, TkeSecret *password)
{
  TkeSmartCardPage *self = copy->page;
  g_autofree char *what = NULL;

  switch (copy->kind)
    {
    case TKE_SMART_CARD_FILE_COPY_PART_TO_CARD:
      if (_tke_smart_card_page_begin (
              self, 2,
              _ ("Copying the key part file onto the card in reader 2: its PIN on the pad…")))
        tke_card_import_key_part_file_async (self->card[1], copy->path, password, self->cancellable,
                                             on_part_to_card_done, g_object_ref (self));
      break;
    case TKE_SMART_CARD_FILE_COPY_PART_TO_FILE:
      what = g_strdup_printf (_ ("Copying key part %u of the card in reader 2 into a file: its PIN "
                                 "on the pad…"),
                              copy->index);
      /* The file chooser asked before it let an existing file be chosen. */
      if (_tke_smart_card_page_begin (self, 2, what))
        tke_card_export_key_part_file_async (self->card[1], copy->index, copy->path, TRUE, password,
                                             self->cancellable, on_part_to_file_done,
                                             g_object_ref (self));
      break;
    case TKE_SMART_CARD_FILE_COPY_SIGKEY_TO_CARD:
      if (_tke_smart_card_page_begin (
              self, 2,
              _ ("Copying the signature key file onto the card in reader 2: its PIN on the pad…")))
        tke_card_import_signature_key_file_async (self->card[1], copy->path, password,
                                                  self->cancellable, on_sigkey_to_card_done,
                                                  g_object_ref (self));
      break;
    case TKE_SMART_CARD_FILE_COPY_SIGKEY_TO_FILE:
      if (_tke_smart_card_page_begin (self, 2,
                                      _ ("Copying the signature key of the card in reader 2 into a "
                                         "file: its PIN on the pad…")))
        tke_card_export_signature_key_file_async (self->card[1], copy->path, TRUE, password,
                                                  self->cancellable, on_sigkey_to_file_done,
                                                  g_object_ref (self));
      break;
    default:
      g_assert_not_reached ();
    }
}

static TkeSecret *
take_password (GtkEditable *entry)
{
  const char *text = gtk_editable_get_text (entry);
  TkeSecret *secret = tke_secret_new_from_data ((const guint8 *) text, strlen (text));

  gtk_editable_set_text (entry, "");
  return secret;
}

static void
on_password_response (AdwMessageDialog *dialog, const char *response, Copy *copy)
{
  g_autoptr (TkeSecret) password = take_password (copy->password);
  g_autoptr (TkeSecret) again = copy->again != NULL ? take_password (copy->again) : NULL;

  /* The entries are emptied now; the dialog closes itself once answered
   * (nothing here holds it: a reference kept for later could outlive
   * the window it is transient for). */
  g_clear_weak_pointer (&copy->page->password_dialog);
  if (!g_str_equal (response, "copy"))
    return;
  if (tke_secret_get_size (password) == 0)
    set_status (copy->page, _ ("The file's password cannot be empty. Nothing was copied."));
  else if (again != NULL && !tke_secret_equal (password, again))
    set_status (copy->page, _ ("The passwords do not match."));
  else if (again != NULL &&
           g_utf8_strlen ((const char *) tke_secret_get_data (password),
                          (gssize) tke_secret_get_size (password)) < MIN_NEW_PASSWORD)
    set_status (copy->page, _ ("A password has at least 8 characters."));
  else
    start (copy, password);
}

static GtkEditable *
password_row (GtkListBox *list, const char *title)
{
  GtkWidget *row = adw_password_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_list_box_append (list, row);
  return GTK_EDITABLE (row);
}

static GtkWindow *
parent_window (TkeSmartCardPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

/**
 * tke_smart_card_page_copy_file:
 * @kind: which copy
 * @path: the file: the one to copy onto the card, or the one to write
 *
 * Asks the file's password (a new one, twice, for a new file), then runs
 * the copy on the card in reader 2; what the file chooser of the buttons
 * does once a file is chosen.
 */
void
tke_smart_card_page_copy_file (TkeSmartCardPage *self, TkeSmartCardFileCopy kind, const char *path)
{
  g_autofree char *body = NULL;
  g_autofree char *name = NULL;
  GtkWidget *box;
  AdwMessageDialog *dialog;
  Copy *copy;

  g_return_if_fail (TKE_IS_SMART_CARD_PAGE (self));
  g_return_if_fail (path != NULL);

  name = g_filename_display_name (path);
  if (to_card (kind))
    body = g_strdup_printf (_ ("The card in reader 2 opens “%s” itself with this password. Then "
                               "enter the card's PIN on the PIN pad."),
                            name);
  else
    body = g_strdup_printf (_ ("The card in reader 2 encrypts its key into “%s” with this "
                               "password (at least 8 characters). Then enter the card's PIN on "
                               "the PIN pad.\n\nOut of the card, the key is only as safe as "
                               "this password and the places the file goes: keep the file "
                               "offline and the password apart from it."),
                            name);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (
      parent_window (self),
      to_card (kind) ? _ ("Password of the File") : _ ("New Password for the File"), body));
  box = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (box), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (box, "boxed-list");
  copy = g_new0 (Copy, 1);
  copy->page = g_object_ref (self);
  copy->kind = kind;
  copy->path = g_strdup (path);
  copy->index = (guint) gtk_spin_button_get_value_as_int (self->part_index_spin);
  copy->password = password_row (GTK_LIST_BOX (box), _ ("Password"));
  if (!to_card (kind))
    copy->again = password_row (GTK_LIST_BOX (box), _ ("The password again"));
  /* The question, with what is typed in it, goes with the window. */
  gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);
  adw_message_dialog_set_extra_child (dialog, box);
  adw_message_dialog_add_responses (dialog, "cancel", _ ("_Cancel"), "copy", _ ("C_opy"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "copy", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "copy");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_data (dialog, "response", G_CALLBACK (on_password_response), copy,
                         (GClosureNotify) (void (*) (void)) copy_free, 0);
  g_set_weak_pointer (&self->password_dialog, dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

/**
 * tke_smart_card_page_get_password_dialog:
 *
 * Returns: (nullable) (transfer none): the password question on screen,
 *   for tests
 */
AdwMessageDialog *
tke_smart_card_page_get_password_dialog (TkeSmartCardPage *self)
{
  g_return_val_if_fail (TKE_IS_SMART_CARD_PAGE (self), NULL);
  return self->password_dialog;
}

/* ---- The buttons: a file chooser first ---- */

typedef struct
{
  TkeSmartCardPage *page;
  TkeSmartCardFileCopy kind;
} Choice;

static void
on_file_chosen (GtkNativeDialog *chooser, int response, Choice *choice)
{
  g_autoptr (GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  gtk_native_dialog_destroy (chooser);
  if (file != NULL && (path = g_file_get_path (file)) == NULL)
    set_status (choice->page, _ ("Choose a file on this computer: the card copies only local "
                                 "files."));
  else if (path != NULL)
    tke_smart_card_page_copy_file (choice->page, choice->kind, path);
  g_object_unref (chooser);
}

static void
choice_free (Choice *choice)
{
  g_object_unref (choice->page);
  g_free (choice);
}

static void
choose_file (TkeSmartCardPage *self, TkeSmartCardFileCopy kind)
{
  static const char *const titles[] = {
    N_ ("Key Part File to Copy to the Card"),
    N_ ("Save the Card's Key Part As"),
    N_ ("Signature Key File to Copy to the Card"),
    N_ ("Save the Card's Signature Key As"),
  };
  GtkFileChooserNative *chooser;
  Choice *choice;

  if (self->card[1] == NULL)
    {
      g_autofree char *text = g_strdup_printf (_ ("Put a card in reader %u first."), 2);

      set_status (self, text);
      return;
    }
  chooser = gtk_file_chooser_native_new (_ (titles[kind]), parent_window (self),
                                         to_card (kind) ? GTK_FILE_CHOOSER_ACTION_OPEN
                                                        : GTK_FILE_CHOOSER_ACTION_SAVE,
                                         to_card (kind) ? _ ("C_opy") : _ ("_Save"), _ ("_Cancel"));
  if (!to_card (kind))
    {
      g_autofree char *name =
          is_part (kind)
              ? g_strdup_printf ("keypart-%d.keypart",
                                 gtk_spin_button_get_value_as_int (self->part_index_spin))
              : g_strdup ("signature-key.sigkey");

      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
    }
  choice = g_new0 (Choice, 1);
  choice->page = g_object_ref (self);
  choice->kind = kind;
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect_data (chooser, "response", G_CALLBACK (on_file_chosen), choice,
                         (GClosureNotify) (void (*) (void)) choice_free, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_part_file_to_card_clicked (TkeSmartCardPage *self)
{
  choose_file (self, TKE_SMART_CARD_FILE_COPY_PART_TO_CARD);
}

static void
on_part_to_file_clicked (TkeSmartCardPage *self)
{
  choose_file (self, TKE_SMART_CARD_FILE_COPY_PART_TO_FILE);
}

static void
on_sigkey_file_to_card_clicked (TkeSmartCardPage *self)
{
  choose_file (self, TKE_SMART_CARD_FILE_COPY_SIGKEY_TO_CARD);
}

static void
on_sigkey_to_file_clicked (TkeSmartCardPage *self)
{
  choose_file (self, TKE_SMART_CARD_FILE_COPY_SIGKEY_TO_FILE);
}

void
_tke_smart_card_page_files_dispose (TkeSmartCardPage *self)
{
  if (self->password_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->password_dialog));
  g_clear_weak_pointer (&self->password_dialog);
}

void
_tke_smart_card_page_files_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_child (widget_class, TkeSmartCardPage, part_index_spin);
  gtk_widget_class_bind_template_child_full (widget_class, "part_file_to_card_button", FALSE,
                                             G_STRUCT_OFFSET (TkeSmartCardPage, file_buttons[0]));
  gtk_widget_class_bind_template_child_full (widget_class, "part_to_file_button", FALSE,
                                             G_STRUCT_OFFSET (TkeSmartCardPage, file_buttons[1]));
  gtk_widget_class_bind_template_child_full (widget_class, "sigkey_file_to_card_button", FALSE,
                                             G_STRUCT_OFFSET (TkeSmartCardPage, file_buttons[2]));
  gtk_widget_class_bind_template_child_full (widget_class, "sigkey_to_file_button", FALSE,
                                             G_STRUCT_OFFSET (TkeSmartCardPage, file_buttons[3]));
  gtk_widget_class_bind_template_callback (widget_class, on_part_file_to_card_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_part_to_file_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_sigkey_file_to_card_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_sigkey_to_file_clicked);
}
