/* model-private.h: the model suite's types, shared by its files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * model.c: the key part source, the reference model and the comparison;
 * walk.c: the operations, one step, a whole walk and main();
 * faults.c: the rotations (with their faults) and the tke CLI;
 * shrink.c: the shortest failing sequence and --replay;
 * cards.c: the administrator card, and the card pulled in a commit;
 * auto.c: auto-mk-rotate and auto-recover (the recovery-unit path);
 * failover.c: failover-enable, and auto-init of an instance in imprint mode.
 */

#pragma once

#include "../integration/rotation-fixture.h"

G_BEGIN_DECLS

#define N_KEYS 60
/* The demo's 3 units, and up to 2 failover units failover-enable adds. */
#define DEMO_UNITS 3
#define MAX_UNITS 5
#define N_BLOBS 4

/* ---- A key part held in the test, sealed with the real crypto ---- */

#define TEST_TYPE_PART (test_part_get_type ())
G_DECLARE_FINAL_TYPE (TestPart, test_part, TEST, PART, GObject)

struct _TestPart
{
  GObject parent_instance;
  TkeSecret *value;
  char *vp;
  char *description;
};

TestPart *test_part_new (TkeSecret *value, guint index);
char *vp_of (const TkeSecret *key);

/* ---- The model ---- */

typedef struct
{
  TkeNewRegisterState new_state;
  char *new_vp;
  TkeCurrentRegisterState current_state;
  char *current_vp;
  gboolean selected;
  TkeCryptoUnitType type; /* RECOVERY: no GREP11 calls (the demo's unit 3) */
  gboolean imprint;       /* thresholds 0: before auto-init */
} ModelUnit;

/* A GREP11 key blob the walk holds: under the key @vp names. */
typedef struct
{
  char *base64;
  char *check_value;
  char *vp;
} Blob;

typedef struct
{
  guint n_units; /* in crypto unit number order, as libtke lists them */
  ModelUnit units[MAX_UNITS];
  char *storage_vp; /* the key the keystore is wrapped under (NULL before auto-init) */
  guint n_keys;     /* root keys in the keystore */
} Model;

typedef enum
{
  OP_LOAD,
  OP_LOAD_REPEATED,
  OP_COMMIT,
  OP_CLEAR_NEW,
  OP_CLEAR_CURRENT,
  OP_ROTATE,
  OP_ROTATE_FAIL_REWRAP,
  OP_ROTATE_FAIL_SETIMM,
  OP_ROTATE_KILL,
  OP_ROTATE_HTTP_500,
  OP_ROTATE_TOKEN_EXPIRY,
  OP_SET_IMMEDIATE,
  OP_TOGGLE,
  OP_RESET_UNIT,
  OP_REWRAP_BLOB,
  OP_COMMIT_CARD_PULLED,
  OP_AUTO_MK_ROTATE,
  OP_FAILOVER_ENABLE,
  OP_AUTO_INIT,
  N_OPS
} Op;

extern const char *const op_names[N_OPS];
extern const char *const op_enum_names[N_OPS];

/* One step, with every choice made: replaying the same steps on a fresh
 * instance takes the same path (the key values differ, the model not). */
typedef struct
{
  Op op;
  guint n;      /* parts of a load; keys before a fault; failover units wanted */
  guint unit;   /* 0-based (modulo the units): toggle, reset, clear current, set immediate fault */
  gboolean cli; /* through the tke CLI (when every unit is selected) */
} Step;

typedef struct
{
  RotFixture f;
  GRand *rand;
  guint32 seed;
  GString *steps;     /* the story so far, for people */
  GArray *trail;      /* of Step: what ran so far, for the shrinker */
  gboolean replaying; /* a --replay child: a divergence exits 3 */
  gboolean imprint;   /* started with --init imprint: the first step is auto-init */
  char *faults_file;
  Model model;
  TkeServiceClient *client;
  TkeServiceInstance *instance;
  GPtrArray *signers;
  GHashTable *parts_by_vp; /* VP → GPtrArray of TkeSecret: the parts of each key loaded */
  GPtrArray *blobs;        /* of Blob */
  gboolean blobs_dirty;    /* a step that may change what they check against ran */
  guint n_steps, n_faults, n_rotations, n_refused, n_resets, n_blobs_rewrapped;
  guint n_auto_recovered; /* units given the key back by a recovery unit */
  guint n_failover_added; /* failover units failover-enable added */
  guint n_by_op[N_OPS];
  gint64 us_by_op[N_OPS];      /* time spent, compare included */
  guint n_faults_by_op[N_OPS]; /* faults injected, by rotation kind */
  gboolean cli_set_up, cli_logged_in;
  guint n_cli, n_cli_rotations;
  guint next_keynum; /* the CLI's next key part file */
  guint cli_units;   /* units 1 to this are in the CLI's selection */
  TkeSigner *card;   /* the administrator card in reader 1, or NULL */
  GBytes *card_point;
  char *card_name;
} Walk;

/* model.c */
void on_done (GObject *source, GAsyncResult *result, gpointer user_data);
void wait_for (GAsyncResult **result);
TkeCryptoUnit *unit_at (Walk *w, guint i);
GListStore *selected_units (Walk *w);
gboolean all_selected (Walk *w);
void refresh_all (Walk *w);
void compare (Walk *w);
gboolean model_allows (Walk *w, TkeCeremonyKind kind);
gboolean model_allows_blob_rewrap (Walk *w);
gboolean check_allowed (Walk *w, TkeCeremonyKind kind, const char *name);
void model_apply (Walk *w, TkeCeremonyKind kind);
void model_rotated (Walk *w);
void model_clear (Model *model);
void blob_free (Blob *blob);

#define diverge(w, ...) diverge_at ((w), g_strdup_printf (__VA_ARGS__))

/* shrink.c: a divergence; in a walk the sequence is shrunk first. */
G_NORETURN void diverge_at (Walk *w, char *what);
gboolean shrink_read_steps (const char *path, GArray *steps, GError **error);
int shrink_replay_main (const char *path);

/* walk.c */
void connect_client (Walk *w);
void restart (Walk *w, const char *fault, const char *value);
gboolean run_ceremony (Walk *w, TkeCeremony *ceremony, GError **error);
void op_register (Walk *w, TkeCeremonyKind kind, const char *name, gboolean cli);
void walk_init (Walk *w, guint32 seed, gboolean imprint);
void walk_run_step (Walk *w, const Step *s);
void walk_clear (Walk *w);
gboolean selftest_bug (void);

/* faults.c */
void op_rotate (Walk *w, const Step *s);
void cli_ensure (Walk *w);
void cli_load (Walk *w, GPtrArray *parts, gboolean allowed);
void cli_register (Walk *w, TkeCeremonyKind kind, gboolean allowed);

/* cards.c */
void cards_init (Walk *w);
void cards_clear (Walk *w);
void cards_stop (void);
void cards_add_admin (Walk *w, GListModel *units);
void op_commit_card_pulled (Walk *w, const Step *s);

/* auto.c */
gboolean model_allows_auto_rotate (Walk *w);
gboolean model_can_restore_key (Walk *w, guint u);
void op_auto_rotate (Walk *w, const Step *s);
void auto_recover_unit (Walk *w, guint u);
gboolean run_auto (Walk *w, TkeAutoCeremony *ceremony, GError **error);
gboolean check_auto_allowed (Walk *w, TkeAutoKind kind, gboolean allowed);
ModelUnit *recovery_unit (Walk *w);

/* failover.c */
void start_imprint (Walk *w);
gboolean model_allows_failover (Walk *w);
void op_failover_enable (Walk *w, const Step *s);
gboolean model_allows_auto_init (Walk *w);
void op_auto_init (Walk *w, const Step *s);
void compare_unit_list (Walk *w);

G_END_DECLS
