/* tke-master-keys-page.c: the Master keys tab
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Both registers of every selected unit side by side, the values that
 * differ between units marked in words and colour, and the ceremony
 * buttons.  A button is enabled only when the registers allow its step
 * (DESIGN §1 and the pre-checks of §5); otherwise its tooltip says why.
 * While a rotation waits for recovery, only the advisor's one action is
 * offered.  The ceremonies themselves run elsewhere: the page emits
 * ::ceremony-requested.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tke-master-keys-page.h"
#include "tke-prompted-signer.h"
#include "tke-unit-columns.h"

typedef enum
{
  OP_LOAD,
  OP_COMMIT,
  OP_ROTATE,
  OP_SET_IMMEDIATE,
  OP_CLEAR_NEW,
  OP_CLEAR_CURRENT,
  N_OPS
} Op;

/* The page's buttons; each one's action is "keys." and its kind's nick. */
static const TkeCeremonyKind op_kinds[N_OPS] = {
  TKE_CEREMONY_LOAD,          TKE_CEREMONY_COMMIT,    TKE_CEREMONY_ROTATE,
  TKE_CEREMONY_SET_IMMEDIATE, TKE_CEREMONY_CLEAR_NEW, TKE_CEREMONY_CLEAR_CURRENT,
};

static char *
action_name (TkeCeremonyKind kind)
{
  g_autoptr (GEnumClass) kinds = g_type_class_ref (TKE_TYPE_CEREMONY_KIND);

  return g_strconcat ("keys.", g_enum_get_value (kinds, kind)->value_nick, NULL);
}

/* Which register fields of a unit differ from the other units'. */
typedef enum
{
  DIFFERS_NEW_STATE = 1 << 0,
  DIFFERS_NEW_VP = 1 << 1,
  DIFFERS_CURRENT_STATE = 1 << 2,
  DIFFERS_CURRENT_VP = 1 << 3,
} Differs;

struct _TkeMasterKeysPage
{
  AdwBin parent_instance;

  GListModel *units;
  GListStore *selected;
  GHashTable *differs; /* TkeCryptoUnit → Differs */
  TkeRecoveryAction recovery;
  gboolean busy;
  char *reasons[N_OPS];

  GtkStack *stack;
  GtkColumnView *column_view;
  GtkRevealer *notice_revealer;
  GtkLabel *notice_label;
  GtkRevealer *selection_revealer;
  GtkLabel *selection_label;
  GtkRevealer *hint_revealer;
  GtkLabel *hint_label;
  GtkWidget *buttons[N_OPS];

  /* The recovery-unit path (issue 16): auto-init, auto-mk-rotate,
   * auto-recover, by TkeAutoKind. */
  GtkWidget *auto_box;
  GtkWidget *auto_buttons[TKE_AUTO_FAILOVER];
  char *auto_reasons[TKE_AUTO_FAILOVER];
  TkeRecoveryAction auto_advice;

  /* Narrow: each register's state and VP folded into one column, so that
   * the table fits without scrolling sideways (at 800 px, in German too). */
  gboolean narrow;
  int wide_width; /* the wide table's natural width, last measured */
  guint relayout;
};

G_DEFINE_FINAL_TYPE (TkeMasterKeysPage, tke_master_keys_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_CEREMONY_REQUESTED,
  SIGNAL_AUTO_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void refresh (TkeMasterKeysPage *self);

GtkWidget *
tke_master_keys_page_new (void)
{
  return g_object_new (TKE_TYPE_MASTER_KEYS_PAGE, NULL);
}

/* ---- What differs between the units ---- */

typedef const char *(*FieldFunc) (TkeCryptoUnit *unit);

static const char *
field_new_state (TkeCryptoUnit *unit)
{
  return tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit));
}

static const char *
field_current_state (TkeCryptoUnit *unit)
{
  return tke_current_register_state_to_string (tke_crypto_unit_get_current_register_state (unit));
}

static const char *
field_new_vp (TkeCryptoUnit *unit)
{
  const char *vp = tke_crypto_unit_get_new_register_vp (unit);
  return vp != NULL ? vp : TKE_EMPTY_VP;
}

static const char *
field_current_vp (TkeCryptoUnit *unit)
{
  const char *vp = tke_crypto_unit_get_current_register_vp (unit);
  return vp != NULL ? vp : TKE_EMPTY_VP;
}

/* Marks with FLAG the units whose FIELD is not the value most units share.
 * With no clear majority (two units that disagree), every unit is marked:
 * the page cannot know which one is right, and must not pretend to. */
static void
mark_differences (TkeMasterKeysPage *self, FieldFunc field, Differs flag)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->selected));
  g_autoptr (GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  const char *majority = NULL;
  guint best = 0;
  gboolean tie = FALSE;
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (G_LIST_MODEL (self->selected), i);
      const char *v = field (unit);
      g_hash_table_insert (
          counts, (gpointer) v,
          GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, v)) + 1));
    }
  if (g_hash_table_size (counts) <= 1)
    return;

  g_hash_table_iter_init (&iter, counts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (GPOINTER_TO_UINT (value) > best)
        best = GPOINTER_TO_UINT (value), majority = key, tie = FALSE;
      else if (GPOINTER_TO_UINT (value) == best)
        tie = TRUE;
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (G_LIST_MODEL (self->selected), i);

      if (tie || g_strcmp0 (field (unit), majority) != 0)
        g_hash_table_insert (
            self->differs, unit,
            GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (self->differs, unit)) | flag));
    }
}

static Differs
differs_of (TkeMasterKeysPage *self, TkeCryptoUnit *unit)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (self->differs, unit));
}

static char *
describe_differences (Differs differs)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new ();

  if (differs & DIFFERS_NEW_STATE)
    g_ptr_array_add (parts, _ ("new state"));
  if (differs & DIFFERS_NEW_VP)
    g_ptr_array_add (parts, _ ("new VP"));
  if (differs & DIFFERS_CURRENT_STATE)
    g_ptr_array_add (parts, _ ("current state"));
  if (differs & DIFFERS_CURRENT_VP)
    g_ptr_array_add (parts, _ ("current VP"));
  g_ptr_array_add (parts, NULL);
  return g_strjoinv (", ", (char **) parts->pdata);
}

/* ---- Cells ---- */

static void
mark_cell (GtkLabel *label, gboolean differs)
{
  if (differs)
    gtk_widget_add_css_class (GTK_WIDGET (label), "tke-differs");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (label), "tke-differs");
}

static void
cell_unit (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  g_autofree char *text = g_strdup_printf ("%u", tke_crypto_unit_get_number (unit));

  gtk_label_set_text (label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (label), tke_crypto_unit_get_location (unit));
}

static void
cell_new_state (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  tke_unit_cell_new_state (unit, label, NULL);
  mark_cell (label, differs_of (user_data, unit) & DIFFERS_NEW_STATE);
}

static void
cell_new_vp (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  tke_unit_cell_new_vp (unit, label, NULL);
  mark_cell (label, differs_of (user_data, unit) & DIFFERS_NEW_VP);
}

static void
cell_current_state (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  tke_unit_cell_current_state (unit, label, NULL);
  mark_cell (label, differs_of (user_data, unit) & DIFFERS_CURRENT_STATE);
}

static void
cell_current_vp (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  tke_unit_cell_current_vp (unit, label, NULL);
  mark_cell (label, differs_of (user_data, unit) & DIFFERS_CURRENT_VP);
}

/* The marker in words, so that the difference never rests on colour alone. */
static void
cell_comparison (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  Differs differs = differs_of (user_data, unit);
  g_autofree char *what = describe_differences (differs);
  g_autofree char *text = NULL;

  if (differs == 0)
    text = g_strdup (_ ("Same as the others"));
  else
    text = g_strdup_printf (_ ("⚠ Differs: %s"), what);
  gtk_label_set_text (label, text);
  gtk_label_set_wrap (label, TRUE);
  gtk_label_set_max_width_chars (label, 18);
  mark_cell (label, differs != 0);
}

static void
cell_new_register (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  tke_unit_cell_register_folded (
      label, tke_new_register_state_to_string (tke_crypto_unit_get_new_register_state (unit)),
      tke_crypto_unit_get_new_register_vp (unit));
  mark_cell (label, differs_of (user_data, unit) & (DIFFERS_NEW_STATE | DIFFERS_NEW_VP));
}

static void
cell_current_register (TkeCryptoUnit *unit, GtkLabel *label, gpointer user_data)
{
  tke_unit_cell_register_folded (
      label,
      tke_current_register_state_to_string (tke_crypto_unit_get_current_register_state (unit)),
      tke_crypto_unit_get_current_register_vp (unit));
  mark_cell (label, differs_of (user_data, unit) & (DIFFERS_CURRENT_STATE | DIFFERS_CURRENT_VP));
}

typedef struct
{
  const char *title;
  TkeUnitCellFunc fill;
  gboolean expand;
} Column;

static const Column wide_columns[] = {
  { N_ ("CRYPTO UNIT NUM"), cell_unit, FALSE },
  { N_ ("NEW REGISTER"), cell_new_state, FALSE },
  { N_ ("NEW VERIFICATION PATTERN"), cell_new_vp, FALSE },
  { N_ ("CURRENT REGISTER"), cell_current_state, FALSE },
  { N_ ("CURRENT VERIFICATION PATTERN"), cell_current_vp, FALSE },
  { N_ ("COMPARISON"), cell_comparison, TRUE },
};

/* A narrow window: each register's state and VP in one column. */
static const Column narrow_columns[] = {
  /* Translators: the unit number column of the narrow Master keys table */
  { N_ ("UNIT"), cell_unit, FALSE },
  { N_ ("NEW REGISTER"), cell_new_register, FALSE },
  { N_ ("CURRENT REGISTER"), cell_current_register, FALSE },
  { N_ ("COMPARISON"), cell_comparison, TRUE },
};

static void
add_columns (TkeMasterKeysPage *self)
{
  const Column *columns = self->narrow ? narrow_columns : wide_columns;
  gsize n = self->narrow ? G_N_ELEMENTS (narrow_columns) : G_N_ELEMENTS (wide_columns);

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GtkColumnViewColumn) column =
          tke_unit_column_new (_ (columns[i].title), columns[i].fill, self, columns[i].expand);
      gtk_column_view_append_column (self->column_view, column);
    }
}

/* ---- The table's width ---- */

static gboolean
relayout (gpointer data)
{
  TkeMasterKeysPage *self = data;
  GListModel *columns = gtk_column_view_get_columns (self->column_view);

  self->relayout = 0;
  self->narrow = !self->narrow;
  while (g_list_model_get_n_items (columns) > 0)
    {
      g_autoptr (GtkColumnViewColumn) column = g_list_model_get_item (columns, 0);

      gtk_column_view_remove_column (self->column_view, column);
    }
  add_columns (self);
  return G_SOURCE_REMOVE;
}

/* Folds the table when its wide form would scroll sideways, and unfolds
 * it when the wide form fits again (the scrolled window's horizontal range
 * is the table's width, its page what shows). */
static void
on_table_width (TkeMasterKeysPage *self, GtkAdjustment *h)
{
  double shown = gtk_adjustment_get_page_size (h);
  gboolean narrow;

  if (shown <= 0)
    return;
  if (!self->narrow)
    self->wide_width = (int) gtk_adjustment_get_upper (h);
  narrow = self->wide_width > shown + 0.5;
  if (narrow != self->narrow && self->relayout == 0)
    self->relayout = g_idle_add (relayout, self);
}

/* ---- Which ceremony the registers allow ---- */

/* The next step of the ceremony is the suggested button: the first of
 * load, commit, rotate and set immediate that libtke allows now (they need
 * different register states, so at most one is).  Clearing never is. */
static gboolean
mark_next_step (TkeMasterKeysPage *self)
{
  gboolean marked = FALSE;

  for (Op op = 0; op < N_OPS; op++)
    {
      gboolean next = !marked && op <= OP_SET_IMMEDIATE && self->reasons[op] == NULL;

      if (next)
        gtk_widget_add_css_class (self->buttons[op], "suggested-action");
      else
        gtk_widget_remove_css_class (self->buttons[op], "suggested-action");
      marked |= next;
    }
  return marked;
}

static gboolean
any_new_register (TkeMasterKeysPage *self, TkeNewRegisterState state)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->selected)); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (G_LIST_MODEL (self->selected), i);

      if (tke_crypto_unit_get_new_register_state (unit) == state)
        return TRUE;
    }
  return FALSE;
}

/* No step offered: the person needs to read why, not hover for it.  The
 * step the new registers are at (DESIGN §1: a committed key waits for
 * Rotate, a loaded one for Commit, else Load), in libtke's sentence. */
static void
update_hint (TkeMasterKeysPage *self, gboolean marked)
{
  Op op = any_new_register (self, TKE_NEW_REGISTER_FULL_COMMITTED)     ? OP_ROTATE
          : any_new_register (self, TKE_NEW_REGISTER_FULL_UNCOMMITTED) ? OP_COMMIT
                                                                       : OP_LOAD;
  gboolean show = !marked && !self->busy && self->reasons[op] != NULL &&
                  g_list_model_get_n_items (G_LIST_MODEL (self->selected)) > 0;
  g_autofree char *text = NULL;

  if (show)
    {
      g_autofree char *label = g_strdup (gtk_button_get_label (GTK_BUTTON (self->buttons[op])));
      g_autoptr (GString) plain = g_string_new (label);

      g_string_replace (plain, "_", "", 0);
      g_string_replace (plain, "…", "", 0);
      g_strstrip (plain->str);
      /* Translators: "Rotate is not offered: <libtke's reason>"; %s is the button's label */
      text = g_strdup_printf (_ ("%s is not offered: %s"), plain->str, self->reasons[op]);
    }
  gtk_label_set_text (self->hint_label, text != NULL ? text : "");
  gtk_revealer_set_reveal_child (self->hint_revealer, show);
}

static const char *const auto_actions[TKE_AUTO_FAILOVER] = {
  "keys.auto-init",
  "keys.auto-rotate",
  "keys.auto-recover",
};

/* The units of the selected units' instance: the path works on all of
 * them. */
static GListStore *
instance_units (TkeMasterKeysPage *self)
{
  GListStore *units = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  guint n = self->units != NULL ? g_list_model_get_n_items (self->units) : 0;
  g_autoptr (TkeCryptoUnit) first = NULL;

  if (g_list_model_get_n_items (G_LIST_MODEL (self->selected)) == 0)
    return units;
  first = g_list_model_get_item (G_LIST_MODEL (self->selected), 0);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (self->units, i);

      if (g_strcmp0 (tke_crypto_unit_get_instance_id (unit),
                     tke_crypto_unit_get_instance_id (first)) == 0)
        g_list_store_append (units, unit);
    }
  return units;
}

static gboolean
has_recovery_unit (GListModel *units)
{
  for (guint i = 0; i < g_list_model_get_n_items (units); i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (units, i);

      if (tke_crypto_unit_get_unit_type (unit) == TKE_CRYPTO_UNIT_TYPE_RECOVERY)
        return TRUE;
    }
  return FALSE;
}

/* The recovery-unit path works on every unit of the instance, recovery
 * units included; libtke says what it allows.  The administrator cards
 * in reader 1 and reader 2 sign.  Initialize is shown while the instance is new,
 * Rotate once it has a key. */
static void
update_auto_actions (TkeMasterKeysPage *self)
{
  g_autoptr (GListStore) units = instance_units (self);
  gboolean shown = has_recovery_unit (G_LIST_MODEL (units));

  gtk_widget_set_visible (self->auto_box, shown);
  for (TkeAutoKind kind = TKE_AUTO_INIT; kind < TKE_AUTO_FAILOVER; kind++)
    {
      char *reason;

      if (self->busy)
        reason = g_strdup (_ ("A ceremony is in progress."));
      else if (!shown)
        reason = g_strdup (_ ("The service instance has no recovery crypto unit."));
      else
        reason = tke_auto_ceremony_why_not (kind, G_LIST_MODEL (units), self->auto_advice,
                                            TKE_PROMPTED_SIGNERS_AT_ONCE);
      g_free (self->auto_reasons[kind]);
      self->auto_reasons[kind] = reason;
      gtk_widget_action_set_enabled (GTK_WIDGET (self), auto_actions[kind], reason == NULL);
      gtk_widget_set_tooltip_text (self->auto_buttons[kind], reason);
    }
  gtk_widget_set_visible (self->auto_buttons[TKE_AUTO_INIT],
                          self->auto_reasons[TKE_AUTO_INIT] == NULL);
  gtk_widget_set_visible (self->auto_buttons[TKE_AUTO_MK_ROTATE],
                          self->auto_reasons[TKE_AUTO_INIT] != NULL);
}

/**
 * tke_master_keys_page_get_auto_reason:
 * @self: the page
 * @kind: %TKE_AUTO_INIT, %TKE_AUTO_MK_ROTATE or %TKE_AUTO_RECOVER
 *
 * Returns: (nullable): why libtke does not allow @kind now, or %NULL
 */
const char *
tke_master_keys_page_get_auto_reason (TkeMasterKeysPage *self, TkeAutoKind kind)
{
  g_return_val_if_fail (TKE_IS_MASTER_KEYS_PAGE (self), NULL);
  g_return_val_if_fail (kind < TKE_AUTO_FAILOVER, NULL);
  return self->auto_reasons[kind];
}

GtkWidget *
tke_master_keys_page_get_auto_button (TkeMasterKeysPage *self, TkeAutoKind kind)
{
  g_return_val_if_fail (TKE_IS_MASTER_KEYS_PAGE (self), NULL);
  g_return_val_if_fail (kind < TKE_AUTO_FAILOVER, NULL);
  return self->auto_buttons[kind];
}

/* The auto-mk-rotate advice while its rotation waits for recovery, so
 * that the forbidden rerun is not offered. */
void
tke_master_keys_page_set_auto_advice (TkeMasterKeysPage *self, TkeRecoveryAction advice)
{
  g_return_if_fail (TKE_IS_MASTER_KEYS_PAGE (self));
  self->auto_advice = advice;
  update_auto_actions (self);
}

static void
auto_action (GtkWidget *widget, const char *action, GVariant *parameter)
{
  for (TkeAutoKind kind = TKE_AUTO_INIT; kind < TKE_AUTO_FAILOVER; kind++)
    if (g_str_equal (action, auto_actions[kind]))
      g_signal_emit (widget, signals[SIGNAL_AUTO_REQUESTED], 0, (int) kind);
}

static void
update_actions (TkeMasterKeysPage *self)
{
  update_auto_actions (self);

  for (Op op = 0; op < N_OPS; op++)
    {
      g_autofree char *action = action_name (op_kinds[op]);
      char *reason;

      /* The page decides nothing itself: libtke's rules, as the CLI's. */
      if (self->busy)
        reason = g_strdup (_ ("A ceremony is in progress."));
      else
        reason = tke_ceremony_why_not (op_kinds[op], G_LIST_MODEL (self->selected), self->units,
                                       self->recovery);

      g_free (self->reasons[op]);
      self->reasons[op] = reason;
      gtk_widget_action_set_enabled (GTK_WIDGET (self), action, reason == NULL);
      gtk_widget_set_tooltip_text (self->buttons[op], reason);
    }
  update_hint (self, mark_next_step (self));
}

/* Load, commit and clearing work on any selection, but a rotation needs
 * every unit of the instance that holds the key (libtke's pre-check
 * 1): say so while the units can still be added, not only when Rotate is
 * refused. */
static void
update_selection_warning (TkeMasterKeysPage *self)
{
  g_autoptr (GPtrArray) selected = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  TkePrecheck check;

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->selected)); i++)
    g_ptr_array_add (selected, g_list_model_get_item (G_LIST_MODEL (self->selected), i));
  check = selected->len > 0 ? tke_precheck_rotation (self->units, selected, 0, &error)
                            : TKE_PRECHECK_NO_UNITS;
  if (check == TKE_PRECHECK_NOT_ALL_UNITS || check == TKE_PRECHECK_SEVERAL_INSTANCES)
    /* Translators: %s is the pre-check's sentence, e.g. "Crypto unit 3 of the service instance
     * is not selected. Select all operational units of the instance." */
    text = g_strdup_printf (_ ("A rotation needs every crypto unit of the instance. %s "
                               "Load and commit work on the units selected now."),
                            error->message);
  gtk_label_set_text (self->selection_label, text != NULL ? text : "");
  gtk_revealer_set_reveal_child (self->selection_revealer, text != NULL);
}

const char *
tke_master_keys_page_get_reason (TkeMasterKeysPage *self, TkeCeremonyKind kind)
{
  g_return_val_if_fail (TKE_IS_MASTER_KEYS_PAGE (self), NULL);

  for (Op op = 0; op < N_OPS; op++)
    if (op_kinds[op] == kind)
      return self->reasons[op];
  g_return_val_if_reached (NULL);
}

const char *
tke_master_keys_page_get_disabled_reason (TkeMasterKeysPage *self, const char *name)
{
  g_autoptr (GEnumClass) kinds = g_type_class_ref (TKE_TYPE_CEREMONY_KIND);
  GEnumValue *value = g_enum_get_value_by_nick (kinds, name);

  g_return_val_if_fail (value != NULL, NULL);
  return tke_master_keys_page_get_reason (self, value->value);
}

/* ---- Keeping up with the units ---- */

static void
update_notice (TkeMasterKeysPage *self)
{
  g_autoptr (GString) numbers = g_string_new (NULL);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->selected));
  guint n_differing = 0;
  g_autofree char *text = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TkeCryptoUnit) unit = g_list_model_get_item (G_LIST_MODEL (self->selected), i);

      if (differs_of (self, unit) != 0)
        {
          g_string_append_printf (numbers, "%s%u", numbers->len > 0 ? ", " : "",
                                  tke_crypto_unit_get_number (unit));
          n_differing++;
        }
    }
  if (n_differing > 0)
    /* Translators: "The registers of crypto unit 3 differ …" / "… of crypto units 1, 2 and 3 differ
     * …" */
    text = g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE,
                     "The registers of crypto unit %s differ from the other units'. "
                     "All units of an instance must hold the same keys: compare the verification "
                     "patterns before you go on.",
                     "The registers of crypto units %s differ from each other. "
                     "All units of an instance must hold the same keys: compare the verification "
                     "patterns before you go on.",
                     n_differing),
        numbers->str);
  gtk_label_set_text (self->notice_label, text != NULL ? text : "");
  gtk_revealer_set_reveal_child (self->notice_revealer, text != NULL);
}

static void
refresh (TkeMasterKeysPage *self)
{
  g_autoptr (GPtrArray) chosen = g_ptr_array_new_with_free_func (g_object_unref);
  guint n = self->units != NULL ? g_list_model_get_n_items (self->units) : 0;

  for (guint i = 0; i < n; i++)
    {
      TkeCryptoUnit *unit = g_list_model_get_item (self->units, i);

      if (tke_crypto_unit_get_selected (unit))
        g_ptr_array_add (chosen, unit);
      else
        g_object_unref (unit);
    }

  /* Every row is bound again: a change in one unit can change what
   * differs in another. */
  g_list_store_splice (self->selected, 0, g_list_model_get_n_items (G_LIST_MODEL (self->selected)),
                       NULL, 0);
  g_hash_table_remove_all (self->differs);
  for (guint i = 0; i < chosen->len; i++)
    g_list_store_append (self->selected, chosen->pdata[i]);
  mark_differences (self, field_new_state, DIFFERS_NEW_STATE);
  mark_differences (self, field_new_vp, DIFFERS_NEW_VP);
  mark_differences (self, field_current_state, DIFFERS_CURRENT_STATE);
  mark_differences (self, field_current_vp, DIFFERS_CURRENT_VP);
  g_list_store_splice (self->selected, 0, chosen->len, chosen->pdata, chosen->len);

  gtk_stack_set_visible_child_name (self->stack, chosen->len > 0 ? "keys" : "empty");
  update_notice (self);
  update_selection_warning (self);
  update_actions (self);
}

static gboolean
refresh_idle (gpointer data)
{
  TkeMasterKeysPage *self = data;

  g_object_set_data (G_OBJECT (self), "tke-refresh-source", NULL);
  refresh (self);
  return G_SOURCE_REMOVE;
}

static void
remove_source (gpointer id)
{
  g_source_remove (GPOINTER_TO_UINT (id));
}

/* Many properties change at once when the units are read again; one
 * refresh after them is enough. */
static void
queue_refresh (TkeMasterKeysPage *self)
{
  if (g_object_get_data (G_OBJECT (self), "tke-refresh-source") != NULL)
    return;
  g_object_set_data_full (G_OBJECT (self), "tke-refresh-source",
                          GUINT_TO_POINTER (g_idle_add_full (G_PRIORITY_HIGH_IDLE, refresh_idle,
                                                             g_object_ref (self), g_object_unref)),
                          remove_source);
}

static void
on_unit_notify (GObject *unit, GParamSpec *pspec, TkeMasterKeysPage *self)
{
  queue_refresh (self);
}

static void
on_units_changed (
    GListModel *units, guint position, guint removed, guint added, TkeMasterKeysPage *self)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr (GObject) unit = g_list_model_get_item (units, i);

      g_signal_handlers_disconnect_by_func (unit, on_unit_notify, self);
      g_signal_connect_object (unit, "notify", G_CALLBACK (on_unit_notify), self, 0);
    }
  refresh (self);
}

void
tke_master_keys_page_set_units (TkeMasterKeysPage *self, GListModel *units)
{
  g_return_if_fail (TKE_IS_MASTER_KEYS_PAGE (self));
  g_return_if_fail (units == NULL || G_IS_LIST_MODEL (units));

  if (self->units != NULL)
    g_signal_handlers_disconnect_by_data (self->units, self);
  g_set_object (&self->units, units);
  if (units != NULL)
    {
      g_signal_connect_object (units, "items-changed", G_CALLBACK (on_units_changed), self, 0);
      on_units_changed (units, 0, 0, g_list_model_get_n_items (units), self);
    }
  else
    refresh (self);
}

void
tke_master_keys_page_set_recovery (TkeMasterKeysPage *self, TkeRecoveryAction action)
{
  g_return_if_fail (TKE_IS_MASTER_KEYS_PAGE (self));
  self->recovery = action;
  update_actions (self);
}

void
tke_master_keys_page_set_busy (TkeMasterKeysPage *self, gboolean busy)
{
  g_return_if_fail (TKE_IS_MASTER_KEYS_PAGE (self));
  self->busy = busy;
  update_actions (self);
}

GListModel *
tke_master_keys_page_get_selected_units (TkeMasterKeysPage *self)
{
  g_return_val_if_fail (TKE_IS_MASTER_KEYS_PAGE (self), NULL);
  return G_LIST_MODEL (self->selected);
}

/**
 * tke_master_keys_page_get_suggested:
 * @self: the page
 *
 * Returns: the ceremony whose button is the suggested one (the next step
 *   libtke allows), or -1 if none is
 */
int
tke_master_keys_page_get_suggested (TkeMasterKeysPage *self)
{
  g_return_val_if_fail (TKE_IS_MASTER_KEYS_PAGE (self), -1);

  for (Op op = 0; op < N_OPS; op++)
    if (gtk_widget_has_css_class (self->buttons[op], "suggested-action"))
      return op_kinds[op];
  return -1;
}

/**
 * tke_master_keys_page_get_hint:
 * @self: the page
 *
 * Returns: (nullable): why the step the registers are at is not offered,
 *   while no step is and the page says so
 */
const char *
tke_master_keys_page_get_hint (TkeMasterKeysPage *self)
{
  g_return_val_if_fail (TKE_IS_MASTER_KEYS_PAGE (self), NULL);

  if (!gtk_revealer_get_reveal_child (self->hint_revealer))
    return NULL;
  return gtk_label_get_text (self->hint_label);
}

/**
 * tke_master_keys_page_get_selection_warning:
 * @self: the page
 *
 * Returns: (nullable): the warning that a rotation needs units not
 *   selected now, while it shows
 */
const char *
tke_master_keys_page_get_selection_warning (TkeMasterKeysPage *self)
{
  g_return_val_if_fail (TKE_IS_MASTER_KEYS_PAGE (self), NULL);

  if (!gtk_revealer_get_reveal_child (self->selection_revealer))
    return NULL;
  return gtk_label_get_text (self->selection_label);
}

/**
 * tke_master_keys_page_get_button:
 * @self: the page
 * @kind: one of the page's ceremonies
 *
 * Returns: (transfer none): the button of @kind
 */
GtkWidget *
tke_master_keys_page_get_button (TkeMasterKeysPage *self, TkeCeremonyKind kind)
{
  g_return_val_if_fail (TKE_IS_MASTER_KEYS_PAGE (self), NULL);

  for (Op op = 0; op < N_OPS; op++)
    if (op_kinds[op] == kind)
      return self->buttons[op];
  g_return_val_if_reached (NULL);
}

/* The ceremony goes out with the units it runs on: whoever runs it needs
 * nothing else from the page. */
static void
ceremony_action (GtkWidget *widget, const char *action, GVariant *parameter)
{
  TkeMasterKeysPage *self = TKE_MASTER_KEYS_PAGE (widget);

  for (Op op = 0; op < N_OPS; op++)
    {
      g_autofree char *name = action_name (op_kinds[op]);

      if (g_str_equal (name, action))
        g_signal_emit (self, signals[SIGNAL_CEREMONY_REQUESTED], 0, op_kinds[op], self->selected);
    }
}

static void
tke_master_keys_page_dispose (GObject *object)
{
  TkeMasterKeysPage *self = TKE_MASTER_KEYS_PAGE (object);

  g_object_set_data (object, "tke-refresh-source", NULL);
  g_clear_handle_id (&self->relayout, g_source_remove);
  if (self->units != NULL)
    g_signal_handlers_disconnect_by_data (self->units, self);
  /* AdwBin unparents its child in its own dispose; the template's objects
   * must be gone from it first, or it unparents a finalized widget. */
  adw_bin_set_child (ADW_BIN (self), NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), TKE_TYPE_MASTER_KEYS_PAGE);
  g_clear_object (&self->units);
  g_clear_object (&self->selected);
  g_clear_pointer (&self->differs, g_hash_table_unref);
  for (Op op = 0; op < N_OPS; op++)
    g_clear_pointer (&self->reasons[op], g_free);
  for (guint i = 0; i < G_N_ELEMENTS (self->auto_reasons); i++)
    g_clear_pointer (&self->auto_reasons[i], g_free);

  G_OBJECT_CLASS (tke_master_keys_page_parent_class)->dispose (object);
}

static void
tke_master_keys_page_class_init (TkeMasterKeysPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tke_master_keys_page_dispose;

  /**
   * TkeMasterKeysPage::ceremony-requested:
   * @kind: the #TkeCeremonyKind of the button pressed
   * @units: the selected units (#TkeCryptoUnit) it runs on
   *
   * The person pressed an enabled ceremony button.
   */
  signals[SIGNAL_CEREMONY_REQUESTED] =
      g_signal_new ("ceremony-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 2, TKE_TYPE_CEREMONY_KIND, G_TYPE_LIST_MODEL);

  /**
   * TkeMasterKeysPage::auto-requested:
   * @kind: the #TkeAutoKind of the recovery-unit button pressed
   *
   * The person pressed an enabled button of the recovery-unit path; it
   * runs on every unit of the instance.
   */
  signals[SIGNAL_AUTO_REQUESTED] =
      g_signal_new ("auto-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/tke-master-keys-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TkeMasterKeysPage, stack);
  gtk_widget_class_bind_template_child (widget_class, TkeMasterKeysPage, column_view);
  gtk_widget_class_bind_template_child (widget_class, TkeMasterKeysPage, notice_revealer);
  gtk_widget_class_bind_template_child (widget_class, TkeMasterKeysPage, notice_label);
  gtk_widget_class_bind_template_child (widget_class, TkeMasterKeysPage, selection_revealer);
  gtk_widget_class_bind_template_child (widget_class, TkeMasterKeysPage, selection_label);
  gtk_widget_class_bind_template_child (widget_class, TkeMasterKeysPage, hint_revealer);
  gtk_widget_class_bind_template_child (widget_class, TkeMasterKeysPage, hint_label);
  gtk_widget_class_bind_template_child_full (widget_class, "load_button", FALSE,
                                             G_STRUCT_OFFSET (TkeMasterKeysPage, buttons[OP_LOAD]));
  gtk_widget_class_bind_template_child_full (
      widget_class, "commit_button", FALSE,
      G_STRUCT_OFFSET (TkeMasterKeysPage, buttons[OP_COMMIT]));
  gtk_widget_class_bind_template_child_full (
      widget_class, "rotate_button", FALSE,
      G_STRUCT_OFFSET (TkeMasterKeysPage, buttons[OP_ROTATE]));
  gtk_widget_class_bind_template_child_full (
      widget_class, "set_immediate_button", FALSE,
      G_STRUCT_OFFSET (TkeMasterKeysPage, buttons[OP_SET_IMMEDIATE]));
  gtk_widget_class_bind_template_child_full (
      widget_class, "clear_new_button", FALSE,
      G_STRUCT_OFFSET (TkeMasterKeysPage, buttons[OP_CLEAR_NEW]));
  gtk_widget_class_bind_template_child_full (
      widget_class, "clear_current_button", FALSE,
      G_STRUCT_OFFSET (TkeMasterKeysPage, buttons[OP_CLEAR_CURRENT]));

  for (Op op = 0; op < N_OPS; op++)
    {
      g_autofree char *action = action_name (op_kinds[op]);
      gtk_widget_class_install_action (widget_class, action, NULL, ceremony_action);
    }
  gtk_widget_class_bind_template_child (widget_class, TkeMasterKeysPage, auto_box);
  gtk_widget_class_bind_template_child_full (
      widget_class, "auto_init_button", FALSE,
      G_STRUCT_OFFSET (TkeMasterKeysPage, auto_buttons[TKE_AUTO_INIT]));
  gtk_widget_class_bind_template_child_full (
      widget_class, "auto_rotate_button", FALSE,
      G_STRUCT_OFFSET (TkeMasterKeysPage, auto_buttons[TKE_AUTO_MK_ROTATE]));
  gtk_widget_class_bind_template_child_full (
      widget_class, "auto_recover_button", FALSE,
      G_STRUCT_OFFSET (TkeMasterKeysPage, auto_buttons[TKE_AUTO_RECOVER]));
  for (TkeAutoKind kind = TKE_AUTO_INIT; kind < TKE_AUTO_FAILOVER; kind++)
    gtk_widget_class_install_action (widget_class, auto_actions[kind], NULL, auto_action);
}

static void
tke_master_keys_page_init (TkeMasterKeysPage *self)
{
  g_autoptr (GtkNoSelection) model = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->selected = g_list_store_new (TKE_TYPE_CRYPTO_UNIT);
  self->differs = g_hash_table_new (NULL, NULL);
  model = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->selected)));
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (model));
  add_columns (self);
  g_signal_connect_object (gtk_scrollable_get_hadjustment (GTK_SCROLLABLE (self->column_view)),
                           "changed", G_CALLBACK (on_table_width), self, G_CONNECT_SWAPPED);
  refresh (self);
}
