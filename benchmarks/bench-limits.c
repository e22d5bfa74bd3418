/* bench-limits.c: KaaSemaphore against the GLib way of limiting
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN §9 (issue #18 §3). Each case is measured against what a GLib
 * program would write instead, in the same process and the same round:
 *
 *  1a  uncontended kaa_semaphore_try_acquire + release
 *  1b  uncontended kaa_semaphore_acquire (an InProgress, finished at
 *      once) + unref + release
 *      peer: g_mutex_lock + g_mutex_unlock
 *  2a  contended hand-off between main-loop callbacks: every waiter's
 *      callback releases, which serves the next waiter
 *  2b  contended hand-off between two coroutines taking turns with
 *      kaa_semaphore_await and a g_autoptr permit
 *      peer: an async lock made of a flag and a GQueue of waiting
 *      callbacks, each hand-off delivered from an idle source, as GLib
 *      delivers async results (never inside the call that released)
 *
 * Every case runs on a private GMainContext pushed as thread-default.
 */
#include <stdlib.h>

#include "kaa-bench.h"

#define DEFAULT_OPS    200000
#define QUICK_OPS      20000

typedef enum
{
  SAMPLE_KAA_TRY,
  SAMPLE_KAA_ACQUIRE,
  SAMPLE_GMUTEX,
  SAMPLE_KAA_HANDOFF_CALLBACK,
  SAMPLE_KAA_HANDOFF_COROUTINE,
  SAMPLE_GQUEUE_IDLE,
  N_SAMPLES
} SampleKind;

static const KaaBenchRow rows[] = {
  { "1a-try-acquire", "uncontended try_acquire+release",
    SAMPLE_KAA_TRY, "GMutex lock+unlock", SAMPLE_GMUTEX, 0, KAA_BENCH_NS },
  { "1b-acquire", "uncontended acquire (InProgress)+release",
    SAMPLE_KAA_ACQUIRE, "GMutex lock+unlock", SAMPLE_GMUTEX, 0, KAA_BENCH_NS },
  { "2a-handoff-callback", "hand-off to the next waiter's callback",
    SAMPLE_KAA_HANDOFF_CALLBACK, "GQueue of waiters + idle source", SAMPLE_GQUEUE_IDLE, 1,
    KAA_BENCH_NS },
  { "2b-handoff-coroutine", "hand-off between two coroutines",
    SAMPLE_KAA_HANDOFF_COROUTINE, "GQueue of waiters + idle source", SAMPLE_GQUEUE_IDLE, 1,
    KAA_BENCH_NS },
};

typedef struct
{
  GMainContext *context;
  guint         n_ops;
  KaaSemaphore *sem;
  guint         count;   /* hand-offs seen */
} Bench;

/* --------------------------------------------------------- uncontended */

static gint64
run_kaa_try (Bench *bench)
{
  gint64 start = kaa_bench_now_ns ();

  for (guint i = 0; i < bench->n_ops; i++)
    {
      if (!kaa_semaphore_try_acquire (bench->sem))
        kaa_bench_die ("case 1a: the semaphore was not free");
      kaa_semaphore_release (bench->sem);
    }
  return kaa_bench_now_ns () - start;
}

static gint64
run_kaa_acquire (Bench *bench)
{
  gint64 start = kaa_bench_now_ns ();

  for (guint i = 0; i < bench->n_ops; i++)
    {
      KaaInProgress *acquired = kaa_semaphore_acquire (bench->sem);

      if (!kaa_in_progress_is_done (acquired))
        kaa_bench_die ("case 1b: an uncontended acquire waited");
      kaa_in_progress_unref (acquired);
      kaa_semaphore_release (bench->sem);
    }
  return kaa_bench_now_ns () - start;
}

static gint64
run_gmutex (Bench *bench)
{
  static GMutex mutex;
  gint64 start = kaa_bench_now_ns ();

  for (guint i = 0; i < bench->n_ops; i++)
    {
      g_mutex_lock (&mutex);
      bench->count++;
      g_mutex_unlock (&mutex);
    }
  return kaa_bench_now_ns () - start;
}

/* ------------------------------------------------ hand-off, callbacks */

static void
served_then_release (KaaInProgress *acquired,
                     gpointer       data)
{
  Bench *bench = data;

  bench->count++;
  kaa_semaphore_release (bench->sem);
}

/* The line is built inside the measurement (a program pays for its
 * waiters too), then one release starts the chain: each served callback
 * releases, and the release loop serves the next in constant stack. */
static gint64
run_kaa_handoff_callback (Bench *bench)
{
  gint64 start = kaa_bench_now_ns ();

  bench->count = 0;
  if (!kaa_semaphore_try_acquire (bench->sem))
    kaa_bench_die ("case 2a: the semaphore was not free");
  for (guint i = 0; i < bench->n_ops; i++)
    {
      KaaInProgress *acquired = kaa_semaphore_acquire (bench->sem);

      kaa_in_progress_connect (acquired, served_then_release, bench, NULL);
      kaa_in_progress_unref (acquired);
    }
  kaa_semaphore_release (bench->sem);
  while (bench->count < bench->n_ops)
    g_main_context_iteration (bench->context, TRUE);
  return kaa_bench_now_ns () - start;
}

/* ----------------------------------------------- hand-off, coroutines */

static void
take_turns (KaaCoroutine *co,
            gpointer      data)
{
  Bench *bench = data;

  while (bench->count < bench->n_ops)
    {
      g_autoptr(KaaPermit) permit = kaa_semaphore_await (bench->sem, NULL);

      if (permit == NULL)
        kaa_bench_die ("case 2b: a coroutine lost its permit");
      bench->count++;
    }
}

static gint64
run_kaa_handoff_coroutine (Bench *bench)
{
  gint64 start = kaa_bench_now_ns ();
  KaaInProgress *a, *b;

  bench->count = 0;
  if (!kaa_semaphore_try_acquire (bench->sem))
    kaa_bench_die ("case 2b: the semaphore was not free");
  a = kaa_coroutine_spawn (take_turns, bench, NULL);
  b = kaa_coroutine_spawn (take_turns, bench, NULL);
  kaa_semaphore_release (bench->sem);
  while (!kaa_in_progress_is_done (a) || !kaa_in_progress_is_done (b))
    g_main_context_iteration (bench->context, TRUE);
  kaa_in_progress_unref (a);
  kaa_in_progress_unref (b);
  return kaa_bench_now_ns () - start;
}

/* ------------------------------------------------ the peer: GQueue lock */

typedef struct
{
  gboolean      held;
  GQueue        waiters;   /* GSourceFunc, oldest first */
  GMainContext *context;
} IdleLock;

typedef struct
{
  Bench    *bench;
  IdleLock *lock;
} Turn;

static Turn peer_turn;

static void
idle_lock_deliver (IdleLock    *lock,
                   GSourceFunc  func)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, &peer_turn, NULL);
  g_source_attach (source, lock->context);
  g_source_unref (source);
}

static void
idle_lock_acquire (IdleLock    *lock,
                   GSourceFunc  func)
{
  if (!lock->held)
    {
      lock->held = TRUE;
      idle_lock_deliver (lock, func);
    }
  else
    g_queue_push_tail (&lock->waiters, func);
}

static void
idle_lock_release (IdleLock *lock)
{
  GSourceFunc next = g_queue_pop_head (&lock->waiters);

  if (next != NULL)
    idle_lock_deliver (lock, next);
  else
    lock->held = FALSE;
}

/* Two such "tasks" take turns, as the coroutines of case 2b do. */
static gboolean
peer_task (gpointer data)
{
  Turn *turn = data;

  turn->bench->count++;
  idle_lock_release (turn->lock);
  if (turn->bench->count < turn->bench->n_ops)
    idle_lock_acquire (turn->lock, peer_task);
  return G_SOURCE_REMOVE;
}

static gint64
run_gqueue_idle (Bench *bench)
{
  IdleLock lock = { FALSE, G_QUEUE_INIT, bench->context };
  gint64 start = kaa_bench_now_ns ();

  bench->count = 0;
  peer_turn = (Turn) { bench, &lock };
  idle_lock_acquire (&lock, peer_task);
  idle_lock_acquire (&lock, peer_task);
  while (bench->count < bench->n_ops || lock.held)
    g_main_context_iteration (bench->context, TRUE);
  return kaa_bench_now_ns () - start;
}

/* One round of every sample, interleaved so that a change in the load of
 * the machine hits libkaa and its peer alike. */
static void
run_round (gpointer  data,
           guint     n_ops,
           gdouble  *ns_per_op)
{
  Bench *bench = data;
  gint64 elapsed[N_SAMPLES];

  elapsed[SAMPLE_KAA_TRY] = run_kaa_try (bench);
  elapsed[SAMPLE_KAA_ACQUIRE] = run_kaa_acquire (bench);
  elapsed[SAMPLE_GMUTEX] = run_gmutex (bench);
  elapsed[SAMPLE_KAA_HANDOFF_CALLBACK] = run_kaa_handoff_callback (bench);
  elapsed[SAMPLE_KAA_HANDOFF_COROUTINE] = run_kaa_handoff_coroutine (bench);
  elapsed[SAMPLE_GQUEUE_IDLE] = run_gqueue_idle (bench);

  for (guint s = 0; s < N_SAMPLES; s++)
    ns_per_op[s] = (gdouble) elapsed[s] / n_ops;
}

int
main (int   argc,
      char *argv[])
{
  KaaBench run = { 0 };
  KaaBenchStats stats[N_SAMPLES];
  Bench bench = { 0 };

  kaa_bench_init (&run, "limits",
                  "- KaaSemaphore against GMutex and a GQueue of idle callbacks",
                  DEFAULT_OPS, QUICK_OPS, &argc, &argv);
  bench.context = g_main_context_new ();
  bench.n_ops = run.n_ops;
  bench.sem = kaa_semaphore_new (1);
  g_main_context_push_thread_default (bench.context);

  kaa_bench_measure (&run, N_SAMPLES, run_round, &bench, stats);
  kaa_bench_report (&run, rows, G_N_ELEMENTS (rows), stats);

  g_main_context_pop_thread_default (bench.context);
  while (g_main_context_iteration (bench.context, FALSE))
    ;
  g_main_context_unref (bench.context);
  kaa_semaphore_unref (bench.sem);
  kaa_bench_clear (&run);
  return EXIT_SUCCESS;
}
