/* kaa-stress-private.h: the interpreter's world and model (issue #7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Everything here belongs to the thread that runs the KaaStress (the
 * owner of its context), except the fields marked atomic, which thread
 * jobs and remote events write from worker threads.
 */
#pragma once

#include "kaa-stress.h"

G_BEGIN_DECLS

/* Looked up each time, under GLib's own lock: jobs fail with this domain
 * on the pool's workers while the main thread reads it, and
 * G_DEFINE_QUARK's cache is a plain static (TSan saw the race). */
#define STRESS_ERROR (g_quark_from_static_string ("kaa-stress-error-quark"))

typedef enum
{
  NODE_PLAIN,        /* kaa_in_progress_new(), finished by an operation */
  NODE_SLEEP,
  NODE_THREAD,
  NODE_COROUTINE,
  NODE_ANY,
  NODE_ANY_SUCCESS,
  NODE_ALL,
  NODE_ALL_SUCCESS,
  NODE_TIMEOUT,
  NODE_SHIELD,
  NODE_SCOPE,        /* a KaaScope over existing work, joined (issue 18) */
  NODE_ACQUIRE,      /* kaa_semaphore_acquire() (kaa-stress-limits.c) */
} NodeKind;

typedef enum
{
  DEF_PLAIN,
  DEF_INTERVAL,
  DEF_SYNCHRONIZED,
  DEF_SINGLETON,
  DEF_PASS_LAST,
  N_DEFS,
} DefIndex;

typedef struct _Node   Node;
typedef struct _Script Script;
typedef struct _Job    Job;

/* What a body did last, for the final check of its InProgress. */
typedef enum
{
  OUTCOME_NONE,          /* not started, or still running */
  OUTCOME_RETURNED,
  OUTCOME_THREW,
  OUTCOME_SAW_CANCEL,    /* an await or yield reported its own cancel */
  OUTCOME_BECAME,
} Outcome;

typedef enum
{
  STEP_YIELD,
  STEP_AWAIT_NEW,
  STEP_AWAIT_EXISTING,
  STEP_BECOME,
  STEP_THROW,
  STEP_SELF_CANCEL,
  STEP_CANCEL_ANCESTOR,    /* issue #15: a coroutine awaiting this one, or above */
  N_STEPS,
} StepKind;

#define MAX_STEPS 6
#define MAX_INPUTS 3
#define MAX_DEPTH 4
#define TRACE_LINES 256
#define TRACE_WIDTH 96

struct _Script
{
  KaaStress *stress;
  Node      *node;
  guint      depth;
  guint      generation;   /* tail calls before this body */
  guint      n_steps;
  StepKind   steps[MAX_STEPS];
  guint64    seeds[MAX_STEPS];
  gint64     value;          /* what it returns, plus what it awaited */
  gint       started;
  gint       cleaned;
  gint       destroyed;
  Outcome    outcome;
  gint64     returned;
  gint       thrown_code;
  gboolean   cancel_in_cleanup;  /* the cleanup cancels an ancestor (issue #15) */
  guint64    cleaned_at;         /* KaaStress.cleanups when it ran */
};

struct _Job
{
  KaaStress *stress;
  Node      *node;
  guint      n_checks;
  guint      spin_us;
  gboolean   fails;
  gint64     value;
  gint       destroyed;      /* atomic */
  gint       outcome;        /* atomic: an Outcome */
};

struct _Node
{
  KaaStress     *stress;
  guint          id;
  NodeKind       kind;
  KaaInProgress *ip;         /* owned */
  guint          depth;
  guint          world;      /* 0, or the context of its own it died with */
  gboolean       leafy;      /* awaits nothing that may await others */

  /* The model. */
  gint           paused;     /* our pauses minus our resumes */
  gboolean       may_cancel; /* a cancel could have reached it */
  gboolean       finish_sent;
  gboolean       remote;     /* a worker was sent to cancel or finish it */
  gboolean       remote_finish; /* ... and to finish it */
  KaaState       expect;     /* PENDING: not determined */
  gint64         expect_value;
  gboolean       value_known;

  /* NODE_COROUTINE */
  DefIndex       def;
  Script        *script;     /* the body now (after a become, the new one) */
  Node          *awaiting;
  Node          *prev_call;  /* the previous call of the same definition */
  gboolean       prev_pending;

  /* combinators, timeout, shield */
  guint          n_inputs;
  Node          *inputs[MAX_INPUTS];
  gboolean       cancel_input;
  GPtrArray     *parents;    /* Node*: what awaited it; a cancel may come from them */
  gint           watched;    /* the model's own callback ran */

  Job           *job;

  /* NODE_ACQUIRE */
  gboolean       served;     /* the model saw it finish with the permit */
};

/* A descendant's cancel of an ancestor whose cascade reaches it: the
 * descendant unwinds before the ancestor does, and the ancestor ends
 * CANCELLED (issue #15). */
typedef struct
{
  Node     *ancestor;
  Node     *descendant;
  Script   *ancestor_script;
  Script   *descendant_script;
} AncestorCancel;

/* A coroutine a thread-pool job spawns onto the owner's context: the
 * node gets its InProgress once the job has handed it over. */
typedef struct
{
  KaaStress     *stress;
  Node          *node;
  Script        *script;
  DefIndex       def;
  KaaInProgress *ip;         /* atomic; owned once set */
  GThread       *spawner;    /* atomic */
} Foreign;

typedef struct
{
  Node     *node;
  GThread  *owner;
  gulong    id;
  gint      called;          /* atomic */
  gint      destroyed;       /* atomic */
  gint      wrong_thread;    /* atomic */
  gboolean  disconnected;
  gint      called_at_disconnect;
} Callback;

struct _KaaStress
{
  KaaStressConfig config;
  KaaStressStats  stats;
  GMainContext   *context;
  GThread        *owner;
  KaaThreadPool  *remote;          /* "stress-ev": cancels and finishes */
  gint            remote_pending;   /* atomic */
  gint64          live[8];

  GPtrArray      *nodes;            /* Node*, this episode */
  GPtrArray      *scripts;          /* Script*, freed at episode end */
  GPtrArray      *jobs;             /* Job*, freed at episode end */
  GPtrArray      *callbacks;        /* Callback*, freed at episode end */
  GHashTable     *by_ip;            /* KaaInProgress* -> Node* */
  Node           *last_call[N_DEFS];
  guint           world;            /* where new nodes go: 0, or a dying context's */
  gboolean        no_policies;      /* new coroutines are plain or interval */
  guint           next_world;
  GArray         *ancestor_cancels; /* AncestorCancel, this episode */
  GPtrArray      *foreign;          /* Foreign*, not yet handed over */
  GPtrArray      *foreign_records;  /* Foreign*, freed at episode end */
  gint            foreign_pending;  /* atomic: spawning jobs not yet done */
  guint64         cleanups;
  guint           next_id;
  gboolean        settling;
  guint64         episode_ops;

  KaaSemaphore   *limit;            /* kaa-stress-limits.c */
  GPtrArray      *held;             /* Node*: served acquires, oldest first */

  /* The last operations, printed with a failure. */
  char            trace[TRACE_LINES][TRACE_WIDTH];
  guint           trace_next;
};

/* kaa-stress.c */
Node      *stress_node_new            (KaaStress      *self,
                                       KaaStressBytes *bytes,
                                       guint           depth,
                                       gboolean        top);
Node      *stress_pick_leafy          (KaaStress      *self,
                                       guint64         seed,
                                       Node           *except);
gboolean   stress_has_room            (KaaStress      *self);
void       stress_node_add_parent     (Node           *child,
                                       Node           *parent);
void       stress_mark_may_cancel     (Node           *node);
void       stress_predict_cascade     (Node           *node,
                                       GPtrArray      *beneath);
G_GNUC_PRINTF (2, 3)
void       stress_trace               (KaaStress      *self,
                                       const char     *format,
                                       ...);
void       stress_catch_fatal_logs    (KaaStress      *self);
G_GNUC_NORETURN G_GNUC_PRINTF (2, 3)
void       stress_fail                (KaaStress      *self,
                                       const char     *format,
                                       ...);

void       stress_register_foreign    (KaaStress      *self);

Node      *stress_node_alloc          (KaaStress      *self,
                                       NodeKind        kind,
                                       guint           depth);
void       stress_node_set_ip         (KaaStress      *self,
                                       Node           *node,
                                       KaaInProgress  *ip);

/* kaa-stress-limits.c */
void       stress_limits_init         (KaaStress      *self);
void       stress_limits_free         (KaaStress      *self);
void       stress_limits_op           (KaaStress      *self,
                                       KaaStressBytes *bytes,
                                       gboolean        room);
void       stress_limits_release_all  (KaaStress      *self);
void       stress_limits_check_node   (Node           *node);
void       stress_limits_check_settled (KaaStress     *self);

/* kaa-stress-check.c */
void       stress_settle              (KaaStress      *self);
void       stress_check_settled       (Node           *node);

/* kaa-stress-body.c */
extern const KaaCoroutineDef stress_defs[N_DEFS];
Script    *stress_script_new          (KaaStress      *self,
                                       KaaStressBytes *bytes,
                                       guint           depth);
void       stress_script_destroy      (gpointer        data);
Job       *stress_job_new             (KaaStress      *self,
                                       KaaStressBytes *bytes);
KaaInProgress *stress_job_run         (Job            *job);
void       stress_remote_event        (KaaStress      *self,
                                       Node           *node,
                                       gboolean        cancel,
                                       gint64          value);
void       stress_foreign_spawn       (KaaStress      *self,
                                       Foreign        *foreign);
void       stress_cancel_ancestor     (Script         *script,
                                       KaaCoroutine   *co,
                                       guint64         seed);
void       stress_check_await         (KaaStress      *self,
                                       Node           *child,
                                       gboolean        ok,
                                       const GError   *error);

/* kaa-stress-channel.c */
void       stress_channel_episode     (KaaStress      *self,
                                       KaaStressBytes *bytes);

G_END_DECLS
