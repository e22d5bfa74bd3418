/* kaa-stress.h: the model-based operation interpreter (issue #7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One interpreter turns bytes into operations on libkaa: coroutine trees,
 * thread jobs, sleeps, combinators, callbacks, and cancel / pause /
 * resume / finish events from the main thread and from worker threads.
 * The bytes come from a seeded generator (tests/stress/test-stress.c) or
 * from libFuzzer (tests/fuzz/fuzz-stress.c), so a failure found by either
 * replays through the same code. A reference model predicts the outcome
 * of each InProgress where it is determined and checks the invariants of
 * DESIGN §2-§6 always; a broken one aborts with g_error() naming it.
 */
#pragma once

#include <kaa/kaa.h>

G_BEGIN_DECLS

/* Where the bytes come from: a buffer (read once; zeros and exhausted
 * after its end) or, without one, a splitmix64 generator. */
typedef struct
{
  const guint8 *data;
  gsize         len;
  gsize         pos;
  guint64       state;
  gboolean      exhausted;
} KaaStressBytes;

void     kaa_stress_bytes_init_seed   (KaaStressBytes *bytes,
                                       guint64         seed);
void     kaa_stress_bytes_init_buffer (KaaStressBytes *bytes,
                                       const guint8   *data,
                                       gsize           len);
guint8   kaa_stress_bytes_next        (KaaStressBytes *bytes);
guint64  kaa_stress_bytes_next64      (KaaStressBytes *bytes);

/* Operation kinds that need a behaviour of the library which is not
 * everywhere yet: a kind that is off maps to a pump, so that the same
 * bytes replay the same operations otherwise. */
typedef enum
{
  KAA_STRESS_ANCESTOR_CANCEL = 1 << 0,  /* a body or cleanup cancels an ancestor (#15) */
  KAA_STRESS_REPEATED_INPUTS = 1 << 1,  /* a group given one input twice (#15) */
  KAA_STRESS_CONTEXT_DEATH   = 1 << 2,  /* a context of its own dies mid-flight (#17) */
  KAA_STRESS_FOREIGN_SPAWN   = 1 << 3,  /* spawns from thread-pool jobs (#17) */
  /* With KAA_STRESS_CONTEXT_DEATH: work paused when its context dies,
   * and policy coroutines (a SYNCHRONIZED queue across contexts). */
  KAA_STRESS_DEATH_PAUSED    = 1 << 4,
  KAA_STRESS_DEATH_POLICIES  = 1 << 5,
  KAA_STRESS_SCOPES          = 1 << 6,  /* task scopes over existing work (#18) */
  KAA_STRESS_CHANNEL         = 1 << 7,  /* a channel episode (#18) */
  KAA_STRESS_LIMITS          = 1 << 8,  /* acquires of a KaaSemaphore (#18) */
} KaaStressFeatures;

#define KAA_STRESS_FEATURES_ALL 0x1ff
/* What the library of this tree does. */
#define KAA_STRESS_FEATURES_DEFAULT KAA_STRESS_FEATURES_ALL

typedef struct
{
  guint    features;        /* KaaStressFeatures */
  guint    max_nodes;       /* live InProgresses per episode (TSan: keep small) */
  guint    episode_ops;     /* operations before an episode settles and checks */
  const char *replay;       /* how to replay a failure, named in its message */
} KaaStressConfig;

typedef struct
{
  guint64 ops;
  guint64 episodes;
  guint64 nodes;
  guint64 coroutine_bodies;
  guint64 thread_jobs;
  guint64 cancels;
  guint64 remote_events;
  guint64 pauses;
  guint64 ancestor_cancels;
  guint64 repeated_inputs;
  guint64 deaths;
  guint64 foreign_spawns;
  guint64 scopes;
  guint64 channel_episodes;
  guint64 acquires;
} KaaStressStats;

typedef struct _KaaStress KaaStress;

/* KAA_STRESS_FEATURES: a comma-separated list of ancestor, repeated,
 * death, foreign, death-paused, death-policies, scopes, channel, limits, or all or
 * none; unset,
 * KAA_STRESS_FEATURES_DEFAULT. */
guint      kaa_stress_features_from_env (void);

/* Runs on the calling thread, on the global default context, which it
 * must be the one to run (thread-pool jobs spawn onto it, issue #17). */
KaaStress *kaa_stress_new        (const KaaStressConfig *config);
void       kaa_stress_free       (KaaStress             *self);

/* Interprets up to @max_ops operations from @bytes (all of them until the
 * buffer is exhausted when @max_ops is 0), settles and checks. */
void       kaa_stress_run        (KaaStress             *self,
                                  KaaStressBytes        *bytes,
                                  guint64                max_ops);
const KaaStressStats *kaa_stress_get_stats (KaaStress   *self);

G_END_DECLS
