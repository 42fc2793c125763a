/* tke-crypto-units-page.c: the Crypto units tab
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A table of the units libtke knows, with the columns administrators know
 * from the real tool, and the choice of the units the ceremonies act on.
 * The page renders TkeCryptoUnit objects and sets their "selected"
 * property; fetching them is the window's business.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-crypto-units-page.h"
#include "tke-prompted-signer.h"
#include "tke-unit-columns.h"

struct _TkeCryptoUnitsPage
{
  AdwBin parent_instance;

  GListModel *units;
  GtkMultiSelection *selection;
  TkeCryptoUnitsPageState state;
  char *refusal;

  GtkStack *stack;
  AdwStatusPage *status_page;
  GtkSpinner *spinner;
  GtkButton *status_button;
  GtkWidget *failover_button;
  GtkWidget *failover_button_short;
  gboolean busy;
  char *failover_reason;
  GtkColumnView *column_view;
  GtkRevealer *refusal_revealer;
  GtkLabel *refusal_label;
  GtkLabel *summary_label;
};

G_DEFINE_FINAL_TYPE (TkeCryptoUnitsPage, tke_crypto_units_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_REFRESH,
  SIGNAL_FAILOVER,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

GtkWidget *
tke_crypto_units_page_new (void)
{
  return g_object_new (TKE_TYPE_CRYPTO_UNITS_PAGE, NULL);
}

/* ---- Selection of units for the ceremonies ---- */

static void
show_refusal (TkeCryptoUnitsPage *self, const char *message)
{
  g_free (self->refusal);
  self->refusal = g_strdup (message);
  gtk_label_set_text (self->refusal_label, message != NULL ? message : "");
  gtk_revealer_set_reveal_child (self->refusal_revealer, message != NULL);
}

static void
on_refusal_dismissed (TkeCryptoUnitsPage *self)
{
  show_refusal (self, NULL);
}

/* The instance whose units are selected now, other than the units in SKIP. */
static const char *
selected_instance (TkeCryptoUnitsPage *self)
{
  guint n = self->units != NULL ? g_list_model_get_n_items (self->units) : 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (self->units, i);

      if (tke_crypto_unit_get_selected (unit))
        return tke_crypto_unit_get_instance_id (unit);
    }
  return NULL;
}

/**
 * tke_crypto_units_page_select_units:
 *
 * Selects or deselects UNITS for the ceremonies.  All selected units must
 * belong to one service instance (every unit of an instance holds the
 * same master key); a choice that mixes two is refused whole, with the
 * reason, and nothing changes.
 */
gboolean
tke_crypto_units_page_select_units (TkeCryptoUnitsPage *self,
                                    TkeCryptoUnit **units,
                                    guint n_units,
                                    gboolean selected,
                                    GError **error)
{
  const char *instance;

  g_return_val_if_fail (TKE_IS_CRYPTO_UNITS_PAGE (self), FALSE);

  instance = selected_instance (self);
  for (guint i = 0; selected && i < n_units; i++)
    {
      const char *other = tke_crypto_unit_get_instance_id (units[i]);

      if (instance == NULL)
        instance = other;
      else if (g_strcmp0 (instance, other) != 0)
        {
          g_set_error (error, TKE_ERROR, TKE_ERROR_INVALID_ARGUMENT,
                       _ ("Crypto unit %u belongs to service instance %s, but the units of "
                          "instance %s are selected. "
                          "All selected units must belong to one service instance, because they "
                          "must hold the same master key. "
                          "Remove the selected units first."),
                       tke_crypto_unit_get_number (units[i]), other, instance);
          show_refusal (self, (*error)->message);
          return FALSE;
        }
    }

  for (guint i = 0; i < n_units; i++)
    tke_crypto_unit_set_selected (units[i], selected);
  show_refusal (self, NULL);
  return TRUE;
}

const char *
tke_crypto_units_page_get_refusal (TkeCryptoUnitsPage *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNITS_PAGE (self), NULL);
  return self->refusal;
}

static GPtrArray *
highlighted_units (TkeCryptoUnitsPage *self)
{
  GPtrArray *units = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GtkBitset) rows = NULL;
  GtkBitsetIter iter;
  guint position;

  if (self->selection == NULL)
    return units;
  rows = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  for (gboolean more = gtk_bitset_iter_init_first (&iter, rows, &position); more;
       more = gtk_bitset_iter_next (&iter, &position))
    g_ptr_array_add (units, g_list_model_get_item (self->units, position));
  return units;
}

static void
change_selection (TkeCryptoUnitsPage *self, gboolean selected)
{
  g_autoptr (GPtrArray) units = highlighted_units (self);
  g_autoptr (GError) error = NULL;

  tke_crypto_units_page_select_units (self, (TkeCryptoUnit **) units->pdata, units->len, selected,
                                      &error);
}

static void
add_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  change_selection (TKE_CRYPTO_UNITS_PAGE (widget), TRUE);
}

static void
remove_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  change_selection (TKE_CRYPTO_UNITS_PAGE (widget), FALSE);
}

/* Every unit, when they all belong to one instance (the usual case: the
 * ceremonies act on all units of an instance). */
static void
select_all_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TkeCryptoUnitsPage *self = TKE_CRYPTO_UNITS_PAGE (widget);
  g_autoptr (GPtrArray) units = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;
  guint n = self->units != NULL ? g_list_model_get_n_items (self->units) : 0;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (units, g_list_model_get_item (self->units, i));
  tke_crypto_units_page_select_units (self, (TkeCryptoUnit **) units->pdata, units->len, TRUE,
                                      &error);
}

static void
refresh_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_REFRESH], 0);
}

/* failover-enable is offered only for an instance with recovery units,
 * and enabled as libtke allows it. */
static void
update_failover (TkeCryptoUnitsPage *self)
{
  gboolean recovery = FALSE;
  guint n = self->units != NULL ? g_list_model_get_n_items (self->units) : 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (self->units, i);

      recovery |= tke_crypto_unit_get_unit_type (unit) == TKE_CRYPTO_UNIT_TYPE_RECOVERY;
    }
  g_clear_pointer (&self->failover_reason, g_free);
  if (self->busy)
    self->failover_reason = g_strdup (_ ("A ceremony is in progress."));
  else if (self->units != NULL)
    self->failover_reason = tke_auto_ceremony_why_not (
        TKE_AUTO_FAILOVER, self->units, TKE_RECOVERY_ACTION_NONE, TKE_PROMPTED_SIGNERS_AT_ONCE);
  gtk_widget_set_visible (self->failover_button, recovery);
  gtk_widget_set_visible (self->failover_button_short, recovery);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "units.failover-enable",
                                 recovery && self->failover_reason == NULL);
  for (guint i = 0; i < 2; i++)
    gtk_widget_set_tooltip_text (i == 0 ? self->failover_button : self->failover_button_short,
                                 self->failover_reason != NULL
                                     ? self->failover_reason
                                     : _ ("Add failover crypto units; they get the "
                                          "administrators, thresholds and master key from a "
                                          "recovery unit"));
}

/**
 * tke_crypto_units_page_get_failover_reason:
 * @self: the page
 *
 * Returns: (nullable): why Failover enable is not offered, or %NULL
 */
const char *
tke_crypto_units_page_get_failover_reason (TkeCryptoUnitsPage *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNITS_PAGE (self), NULL);
  return self->failover_reason;
}

void
tke_crypto_units_page_set_busy (TkeCryptoUnitsPage *self, gboolean busy)
{
  g_return_if_fail (TKE_IS_CRYPTO_UNITS_PAGE (self));
  self->busy = busy;
  update_failover (self);
}

static void
failover_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_FAILOVER], 0);
}

static void
update_summary (TkeCryptoUnitsPage *self)
{
  guint n = self->units != NULL ? g_list_model_get_n_items (self->units) : 0;
  guint n_selected = 0;
  g_autofree char *text = NULL;
  g_autoptr (GtkBitset) rows = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (self->units, i);
      n_selected += tke_crypto_unit_get_selected (unit);
    }
  /* Translators: "2 of 3 crypto units selected" */
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u of %u crypto unit selected",
                                       "%u of %u crypto units selected", n),
                          n_selected, n);
  gtk_label_set_text (self->summary_label, text);

  rows = self->selection != NULL
             ? gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection))
             : NULL;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "units.add",
                                 rows != NULL && !gtk_bitset_is_empty (rows));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "units.remove",
                                 rows != NULL && !gtk_bitset_is_empty (rows));
  update_failover (self);
}

/* ---- Columns ---- */

static void
cell_instance (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  gtk_label_set_text (label, tke_crypto_unit_get_instance_id (unit));
  gtk_label_set_ellipsize (label, PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_set_tooltip_text (GTK_WIDGET (label), tke_crypto_unit_get_instance_id (unit));
}

static void
cell_administrators (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  GListModel *admins = tke_crypto_unit_get_administrators (unit);
  guint n = g_list_model_get_n_items (admins);
  g_autoptr (GString) names = g_string_new (NULL);
  g_autoptr (GString) tooltip = g_string_new (NULL);
  g_autofree char *text = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeAdministrator) admin = g_list_model_get_item (admins, i);

      g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", tke_administrator_get_name (admin));
      g_string_append_printf (tooltip, "%s%s  %.16s…", i > 0 ? "\n" : "",
                              tke_administrator_get_name (admin),
                              tke_administrator_get_ski (admin));
    }
  if (n == 0)
    text = g_strdup (_ ("None"));
  else
    text = g_strdup_printf ("%u: %s", n, names->str);
  gtk_label_set_text (label, text);
  gtk_label_set_ellipsize (label, PANGO_ELLIPSIZE_END);
  gtk_widget_set_tooltip_text (GTK_WIDGET (label), n > 0 ? tooltip->str : NULL);
}

static void
cell_signature_threshold (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  g_autofree char *text = g_strdup_printf ("%u", tke_crypto_unit_get_signature_threshold (unit));
  gtk_label_set_text (label, text);
}

static void
cell_revocation_threshold (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  g_autofree char *text = g_strdup_printf ("%u", tke_crypto_unit_get_revocation_threshold (unit));
  gtk_label_set_text (label, text);
}

static void
cell_imprint_mode (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  gboolean imprint = tke_crypto_unit_get_imprint_mode (unit);

  gtk_label_set_text (label, imprint ? _ ("Yes") : _ ("No"));
  if (imprint)
    gtk_widget_add_css_class (GTK_WIDGET (label), "warning");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (label), "warning");
  gtk_widget_set_tooltip_text (
      GTK_WIDGET (label),
      imprint
          ? _ ("In imprint mode: add administrators and set thresholds before loading a master key")
          : NULL);
}

/* The SELECTED column: a check button per unit that goes through the same
 * refusal as the buttons. */
static void
on_check_toggled (GtkCheckButton *check, GtkListItem *item)
{
  TkeCryptoUnitsPage *self = g_object_get_data (G_OBJECT (item), "tke-page");
  TkeCryptoUnit *unit = gtk_list_item_get_item (item);
  gboolean active = gtk_check_button_get_active (check);
  g_autoptr (GError) error = NULL;

  if (unit == NULL || active == tke_crypto_unit_get_selected (unit))
    return;
  if (!tke_crypto_units_page_select_units (self, &unit, 1, active, &error))
    gtk_check_button_set_active (check, tke_crypto_unit_get_selected (unit));
}

static void
on_selected_notify (TkeCryptoUnit *unit, GParamSpec *pspec, GtkCheckButton *check)
{
  gtk_check_button_set_active (check, tke_crypto_unit_get_selected (unit));
}

static void
selected_setup (GtkSignalListItemFactory *factory, GtkListItem *item, TkeCryptoUnitsPage *self)
{
  GtkWidget *check = gtk_check_button_new ();

  gtk_widget_set_halign (check, GTK_ALIGN_CENTER);
  g_object_set_data (G_OBJECT (item), "tke-page", self);
  g_signal_connect (check, "toggled", G_CALLBACK (on_check_toggled), item);
  gtk_list_item_set_child (item, check);
}

static void
selected_bind (GtkSignalListItemFactory *factory, GtkListItem *item, TkeCryptoUnitsPage *self)
{
  TkeCryptoUnit *unit = gtk_list_item_get_item (item);
  GtkWidget *check = gtk_list_item_get_child (item);
  g_autofree char *name =
      g_strdup_printf (_ ("Select crypto unit %u"), tke_crypto_unit_get_number (unit));
  gulong handler;

  gtk_check_button_set_active (GTK_CHECK_BUTTON (check), tke_crypto_unit_get_selected (unit));
  gtk_accessible_update_property (GTK_ACCESSIBLE (check), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  gtk_widget_set_tooltip_text (check, name);
  handler =
      g_signal_connect_object (unit, "notify::selected", G_CALLBACK (on_selected_notify), check, 0);
  g_object_set_data (G_OBJECT (item), "tke-handler", GSIZE_TO_POINTER (handler));
}

static void
selected_unbind (GtkSignalListItemFactory *factory, GtkListItem *item, TkeCryptoUnitsPage *self)
{
  gulong handler = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (item), "tke-handler"));

  if (handler != 0)
    g_signal_handler_disconnect (gtk_list_item_get_item (item), handler);
  g_object_set_data (G_OBJECT (item), "tke-handler", NULL);
}

static void
add_columns (TkeCryptoUnitsPage *self)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_autoptr (GtkColumnViewColumn) selected = NULL;
  struct
  {
    const char *title;
    TkeUnitCellFunc fill;
    gboolean expand;
  } columns[] = {
    { N_ ("SERVICE INSTANCE"), cell_instance, FALSE },
    { N_ ("CRYPTO UNIT NUM"), tke_unit_cell_number, FALSE },
    { NULL, NULL, FALSE }, /* SELECTED goes here */
    { N_ ("TYPE"), tke_unit_cell_type, FALSE },
    { N_ ("LOCATION"), tke_unit_cell_location, FALSE },
    { N_ ("ADMINISTRATORS"), cell_administrators, TRUE },
    { N_ ("SIGNATURE THR."), cell_signature_threshold, FALSE },
    { N_ ("REVOCATION THR."), cell_revocation_threshold, FALSE },
    { N_ ("IMPRINT MODE"), cell_imprint_mode, FALSE },
  };

  g_signal_connect (factory, "setup", G_CALLBACK (selected_setup), self);
  g_signal_connect (factory, "bind", G_CALLBACK (selected_bind), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (selected_unbind), self);

  for (guint i = 0; i < G_N_ELEMENTS (columns); i++)
    {
      g_autoptr (GtkColumnViewColumn) column = NULL;

      if (columns[i].title == NULL)
        column = gtk_column_view_column_new (_ ("SELECTED"), factory);
      else
        column =
            tke_unit_column_new (_ (columns[i].title), columns[i].fill, self, columns[i].expand);
      gtk_column_view_append_column (self->column_view, column);
    }
}

/* ---- States ---- */

typedef struct
{
  const char *icon;
  const char *title;
  const char *description;
  const char *button_label;
  const char *button_action;
} StateLook;

static const StateLook state_looks[] = {
  [TKE_CRYPTO_UNITS_PAGE_NOT_LOGGED_IN] = { "system-lock-screen-symbolic", N_ ("Not Logged In"),
                                            N_ ("Log in to the service with your API key to see "
                                                "the crypto units of your service instances."),
                                            N_ ("_Log In…"), "win.log-in" },
  [TKE_CRYPTO_UNITS_PAGE_LOADING] = { NULL, N_ ("Reading Crypto Units"),
                                      N_ ("Asking the service for the crypto units and their "
                                          "registers…"),
                                      NULL, NULL },
  [TKE_CRYPTO_UNITS_PAGE_NO_INSTANCES] = { "network-server-symbolic", N_ ("No Service Instances"),
                                           N_ ("This account has no service instance with crypto "
                                               "units. Create one, or log in with another API "
                                               "key."),
                                           N_ ("_Refresh"), "units.refresh" },
  [TKE_CRYPTO_UNITS_PAGE_NO_READERS] = { "media-removable-symbolic",
                                         N_ ("No Smart Card Readers Found"),
                                         N_ ("Connect the two PIN-pad smart card readers: reader 1 "
                                             "for administrator cards, reader 2 for key part "
                                             "cards."),
                                         N_ ("_Refresh"), "units.refresh" },
  [TKE_CRYPTO_UNITS_PAGE_ERROR] = { "dialog-error-symbolic", N_ ("Could Not Read the Crypto Units"),
                                    NULL, N_ ("_Try Again"), "units.refresh" },
};

void
tke_crypto_units_page_set_state (TkeCryptoUnitsPage *self,
                                 TkeCryptoUnitsPageState state,
                                 const char *message)
{
  const StateLook *look;

  g_return_if_fail (TKE_IS_CRYPTO_UNITS_PAGE (self));

  self->state = state;
  if (state == TKE_CRYPTO_UNITS_PAGE_READY)
    {
      gtk_spinner_stop (self->spinner);
      gtk_stack_set_visible_child_name (self->stack, "units");
      return;
    }

  look = &state_looks[state];
  adw_status_page_set_icon_name (self->status_page, look->icon);
  adw_status_page_set_title (self->status_page, _ (look->title));
  adw_status_page_set_description (self->status_page,
                                   message != NULL ? message : _ (look->description));
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), look->icon == NULL);
  if (look->icon == NULL)
    gtk_spinner_start (self->spinner);
  else
    gtk_spinner_stop (self->spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->status_button), look->button_label != NULL);
  if (look->button_label != NULL)
    {
      gtk_button_set_label (self->status_button, _ (look->button_label));
      gtk_button_set_use_underline (self->status_button, TRUE);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->status_button), look->button_action);
    }
  gtk_stack_set_visible_child_name (self->stack, "status");
}

TkeCryptoUnitsPageState
tke_crypto_units_page_get_state (TkeCryptoUnitsPage *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNITS_PAGE (self), TKE_CRYPTO_UNITS_PAGE_NOT_LOGGED_IN);
  return self->state;
}

/* ---- The model ---- */

static void
on_units_changed (TkeCryptoUnitsPage *self)
{
  update_summary (self);
}

static void
on_item_notify (GObject *unit, GParamSpec *pspec, TkeCryptoUnitsPage *self)
{
  update_summary (self);
}

static void
watch_items (
    TkeCryptoUnitsPage *self, GListModel *model, guint position, guint removed, guint added)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr (GObject) unit = g_list_model_get_item (model, i);

      g_signal_handlers_disconnect_by_func (unit, on_item_notify, self);
      g_signal_connect_object (unit, "notify", G_CALLBACK (on_item_notify), self, 0);
    }
  update_summary (self);
}

void
tke_crypto_units_page_set_units (TkeCryptoUnitsPage *self, GListModel *units)
{
  g_return_if_fail (TKE_IS_CRYPTO_UNITS_PAGE (self));
  g_return_if_fail (units == NULL || G_IS_LIST_MODEL (units));

  if (self->units != NULL)
    g_signal_handlers_disconnect_by_data (self->units, self);
  g_set_object (&self->units, units);
  g_clear_object (&self->selection);
  if (units != NULL)
    {
      self->selection = gtk_multi_selection_new (g_object_ref (units));
      g_signal_connect_swapped (self->selection, "selection-changed", G_CALLBACK (on_units_changed),
                                self);
      g_signal_connect_swapped (units, "items-changed", G_CALLBACK (watch_items), self);
      watch_items (self, units, 0, 0, g_list_model_get_n_items (units));
    }
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));
  update_summary (self);
}

GListModel *
tke_crypto_units_page_get_units (TkeCryptoUnitsPage *self)
{
  g_return_val_if_fail (TKE_IS_CRYPTO_UNITS_PAGE (self), NULL);
  return self->units;
}

static void
tke_crypto_units_page_dispose (GObject *object)
{
  TkeCryptoUnitsPage *self = TKE_CRYPTO_UNITS_PAGE (object);

  if (self->units != NULL)
    g_signal_handlers_disconnect_by_data (self->units, self);
  /* AdwBin unparents its child in its own dispose; the template's objects
   * must be gone from it first, or it unparents a finalized widget. */
  adw_bin_set_child (ADW_BIN (self), NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_CRYPTO_UNITS_PAGE);
  g_clear_object (&self->selection);
  g_clear_object (&self->units);
  g_clear_pointer (&self->refusal, g_free);
  g_clear_pointer (&self->failover_reason, g_free);

  G_OBJECT_CLASS (tke_crypto_units_page_parent_class)->dispose (object);
}

static void
tke_crypto_units_page_class_init (TkeCryptoUnitsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_crypto_units_page_dispose;

  /**
   * TkeCryptoUnitsPage::refresh:
   *
   * The person asked to read the units again.
   */
  signals[SIGNAL_REFRESH] = g_signal_new ("refresh", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * TkeCryptoUnitsPage::failover-requested:
   *
   * The person pressed Failover enable (libtke allowed it).
   */
  signals[SIGNAL_FAILOVER] = g_signal_new ("failover-requested", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/tke-crypto-units-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeCryptoUnitsPage, stack);
  gtk_widget_class_bind_template_child (widget_class, TkeCryptoUnitsPage, status_page);
  gtk_widget_class_bind_template_child (widget_class, TkeCryptoUnitsPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, TkeCryptoUnitsPage, status_button);
  gtk_widget_class_bind_template_child (widget_class, TkeCryptoUnitsPage, failover_button);
  gtk_widget_class_bind_template_child (widget_class, TkeCryptoUnitsPage, failover_button_short);
  gtk_widget_class_bind_template_child (widget_class, TkeCryptoUnitsPage, column_view);
  gtk_widget_class_bind_template_child (widget_class, TkeCryptoUnitsPage, refusal_revealer);
  gtk_widget_class_bind_template_child (widget_class, TkeCryptoUnitsPage, refusal_label);
  gtk_widget_class_bind_template_child (widget_class, TkeCryptoUnitsPage, summary_label);
  gtk_widget_class_bind_template_callback (widget_class, on_refusal_dismissed);

  gtk_widget_class_install_action (widget_class, "units.add", NULL, add_action);
  gtk_widget_class_install_action (widget_class, "units.remove", NULL, remove_action);
  gtk_widget_class_install_action (widget_class, "units.refresh", NULL, refresh_action);
  gtk_widget_class_install_action (widget_class, "units.failover-enable", NULL, failover_action);
  gtk_widget_class_install_action (widget_class, "units.select-all", NULL, select_all_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_a, GDK_CONTROL_MASK,
                                       "units.select-all", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "units.refresh", NULL);
}

static void
tke_crypto_units_page_init (TkeCryptoUnitsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  add_columns (self);
  tke_crypto_units_page_set_state (self, TKE_CRYPTO_UNITS_PAGE_NOT_LOGGED_IN, NULL);
  update_summary (self);
}
