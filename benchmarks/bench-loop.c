/* bench-loop.c: what libkaa costs the main loop, and its floors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Issue #20's benchmarks. Each row is a ratio to plain GLib measured in
 * the same run (see kaa-bench.h):
 *
 *  idle-iteration  one g_main_context_iteration() with nothing to do, on
 *                  a context where coroutines have run and yielded (so
 *                  libkaa's sources are attached); peer: a bare context
 *  yield-N         one yield and resume with N coroutines runnable; peer:
 *                  N idle sources returning G_SOURCE_CONTINUE
 *  spawn-await     spawn an empty coroutine and await it, one after the
 *                  other, inside a coroutine; peer: a GTask whose
 *                  callback starts the next
 *
 * and the floors the design cannot go below, measured in the same run
 * (this program links the library's static copy to reach its fibers):
 *
 *  floor-yield-100  a bare fiber switch round trip plus one main-loop
 *                   iteration with one dispatch, shared by 100
 *  floor-spawn      the allocations of a spawn (its InProgress, its
 *                   coroutine, a stack from the cache) plus a bare
 *                   switch round trip
 *  floor-yield-1    one main-loop iteration whose one dispatch resumes a
 *                   bare fiber that suspends at once: what yield-1 costs
 *                   with no coroutine bookkeeping at all
 *  floor-yield-10000  the same with 10 000 bare fibers, each on a stack of
 *                   the pool, resumed in turn by one dispatch with the
 *                   look-ahead the time slices use: what yield-10000 costs
 *                   with no bookkeeping
 *
 * and, to tell whether a goal is below its floor, the floors themselves
 * against the idles (bare-fibers-1, bare-fibers-10000).
 *
 * KAA_BENCH_LOOP_ONLY=spawn measures only floor-spawn's samples;
 * KAA_BENCH_LOOP_ONLY=spawn-await only the spawn-await sample (the floor
 * then reads 0), so that an instruction count of two runs with different
 * --ops, divided by the difference, is that of one spawn + await;
 * KAA_BENCH_LOOP_ONLY=yield-1, yield-100, yield-10000, floor-yield-1 or
 * floor-yield-10000 only that row, for many quick runs of one case.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kaa-bench.h"
#include "kaa-coroutine-private.h"
#include "kaa-fiber-private.h"
#include "kaa-alloc-private.h"
#include "kaa-in-progress-impl-private.h"

#define DEFAULT_OPS 200000
#define QUICK_OPS   20000

enum
{
  S_ITER_KAA, S_ITER_BARE,
  S_YIELD_1, S_IDLE_1,
  S_YIELD_100, S_IDLE_100,
  S_YIELD_10000, S_IDLE_10000,
  S_SPAWN_AWAIT, S_GTASK_CHAIN,
  S_SWITCH, S_ALLOC,
  S_FLOOR_YIELD_100, S_FLOOR_SPAWN,
  S_FLOOR_YIELD_1, S_FLOOR_YIELD_10000,
  N_SAMPLES
};

static const KaaBenchRow rows[] = {
  { "idle-iteration", "idle iteration, libkaa's sources attached", S_ITER_KAA,
    "bare context", S_ITER_BARE, 1 / 1.10, KAA_BENCH_NS },
  { "loop-yield-1", "yield+resume, 1 runnable", S_YIELD_1,
    "1 idle returning CONTINUE", S_IDLE_1, 1.0, KAA_BENCH_NS },
  { "loop-yield-100", "yield+resume, 100 runnable", S_YIELD_100,
    "100 idles returning CONTINUE", S_IDLE_100, 2.0, KAA_BENCH_NS },
  { "loop-yield-10000", "yield+resume, 10 000 runnable", S_YIELD_10000,
    "10 000 idles returning CONTINUE", S_IDLE_10000, 1.0, KAA_BENCH_NS },
  { "spawn-await", "spawn + await, in sequence, in a coroutine", S_SPAWN_AWAIT,
    "GTask chain: each callback starts the next", S_GTASK_CHAIN, 0, KAA_BENCH_NS },
  { "floor-yield-100", "yield+resume, 100 runnable", S_YIELD_100,
    "floor: switch round trip + iteration / 100", S_FLOOR_YIELD_100, 0.5, KAA_BENCH_NS },
  { "floor-spawn", "spawn + await, in sequence, in a coroutine", S_SPAWN_AWAIT,
    "floor: allocations + switch round trip", S_FLOOR_SPAWN, 0.5, KAA_BENCH_NS },
  { "floor-yield-1", "yield+resume, 1 runnable", S_YIELD_1,
    "floor: a source resuming a bare fiber", S_FLOOR_YIELD_1, 0, KAA_BENCH_NS },
  { "floor-yield-10000", "yield+resume, 10 000 runnable", S_YIELD_10000,
    "floor: a source resuming 10 000 bare fibers", S_FLOOR_YIELD_10000, 0, KAA_BENCH_NS },
  { "bare-fibers-1", "a source resuming a bare fiber", S_FLOOR_YIELD_1,
    "1 idle returning CONTINUE", S_IDLE_1, 0, KAA_BENCH_NS },
  { "bare-fibers-10000", "a source resuming 10 000 bare fibers", S_FLOOR_YIELD_10000,
    "10 000 idles returning CONTINUE", S_IDLE_10000, 0, KAA_BENCH_NS },
  { "floor-switch", "bare fiber switch round trip", S_SWITCH,
    "one idle dispatch (iteration)", S_IDLE_1, 0, KAA_BENCH_NS },
  { "floor-alloc", "a spawn's allocations", S_ALLOC,
    "one idle dispatch (iteration)", S_IDLE_1, 0, KAA_BENCH_NS },
};

/* The row KAA_BENCH_LOOP_ONLY=spawn and spawn-await report: floor-spawn. */
#define SPAWN_ROW 6

/* The rows KAA_BENCH_LOOP_ONLY=yield-N (and floor-yield-N) reports, by
 * the N of each; against idles, or against the fiber source. */
static const struct
{
  const char *only;
  guint       n_coroutines;
  guint       row;
  gboolean    floor;
} yield_rows[] = {
  { "yield-1", 1, 1, FALSE },
  { "yield-100", 100, 2, FALSE },
  { "yield-10000", 10000, 3, FALSE },
  { "floor-yield-1", 1, 7, TRUE },
  { "floor-yield-10000", 10000, 8, TRUE },
};

typedef struct
{
  const char   *only;      /* KAA_BENCH_LOOP_ONLY, or NULL */
  gint          yield_row; /* its index in yield_rows, or -1 */
  GMainContext *context;   /* libkaa's: the thread-default one */
  GMainContext *bare;      /* nothing attached, ever */
  guint         count;
  guint         target;
} Bench;

/* ---------------------------------------------------- idle iteration */

static gdouble
run_iterations (GMainContext *context,
                guint         n_ops)
{
  gint64 start = kaa_bench_now_ns ();

  for (guint i = 0; i < n_ops; i++)
    g_main_context_iteration (context, FALSE);
  return (gdouble) (kaa_bench_now_ns () - start) / n_ops;
}

/* ------------------------------------------------------------ yield */

static gboolean
idle_continue (gpointer data)
{
  Bench *bench = data;

  return ++bench->count < bench->target ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* N idles that each stay attached until the count is reached: a task
 * per idle, one step per dispatch. Each ends at its next dispatch after
 * the target, as each coroutine above ends at its next resumption. */
static gdouble
run_idles (Bench *bench,
           guint  n_tasks,
           guint  n_ops)
{
  gint64 start;

  bench->count = 0;
  bench->target = n_ops;
  for (guint i = 0; i < n_tasks; i++)
    {
      GSource *idle = g_idle_source_new ();

      g_source_set_callback (idle, idle_continue, bench, NULL);
      g_source_attach (idle, bench->context);
      g_source_unref (idle);
    }
  start = kaa_bench_now_ns ();
  while (g_main_context_iteration (bench->context, FALSE))
    ;
  return (gdouble) (kaa_bench_now_ns () - start) / bench->count;
}

/* ------------------------------------------------------ spawn-await */

static void
body_empty (KaaCoroutine *co,
            gpointer      data)
{
}

static void
body_spawn_await (KaaCoroutine *co,
                  gpointer      data)
{
  Bench *bench = data;

  for (bench->count = 0; bench->count < bench->target; bench->count++)
    kaa_await (kaa_coroutine_spawn (body_empty, NULL, NULL), NULL);
}

static gdouble
run_spawn_await (Bench *bench,
                 guint  n_ops)
{
  KaaInProgress *ip;
  gint64 start = kaa_bench_now_ns ();

  bench->target = n_ops;
  ip = kaa_coroutine_spawn (body_spawn_await, bench, NULL);
  while (!kaa_in_progress_is_done (ip))
    g_main_context_iteration (bench->context, TRUE);
  kaa_in_progress_unref (ip);
  return (gdouble) (kaa_bench_now_ns () - start) / n_ops;
}

static void task_next (GObject *source, GAsyncResult *result, gpointer data);

static void
task_start (Bench *bench)
{
  GTask *task = g_task_new (NULL, NULL, task_next, bench);

  g_task_return_pointer (task, NULL, NULL);
  g_object_unref (task);
}

static void
task_next (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  Bench *bench = data;

  if (++bench->count < bench->target)
    task_start (bench);
}

static gdouble
run_gtask_chain (Bench *bench,
                 guint  n_ops)
{
  gint64 start = kaa_bench_now_ns ();

  bench->count = 0;
  bench->target = n_ops;
  task_start (bench);
  while (bench->count < bench->target)
    g_main_context_iteration (bench->context, TRUE);
  return (gdouble) (kaa_bench_now_ns () - start) / n_ops;
}

/* ----------------------------------------------------------- floors */

static void
fiber_bounce (gpointer data)
{
  for (;;)
    kaa_fiber_suspend ();
}

/* floor-yield-N's fibers: made for each measurement, as a coroutine's
 * would be, so that their stacks come from where the coroutines' came
 * from; they end when @stop is set and they are resumed. */
static void
fiber_bounce_until (gpointer data)
{
  const gboolean *stop = data;

  while (!*stop)
    kaa_fiber_suspend ();
}

/* floor-switch's fiber never finishes; it lives as long as the program. */
static KaaFiber *
floor_fiber (void)
{
  static KaaFiber *fiber;

  if (fiber == NULL)
    fiber = kaa_fiber_new (fiber_bounce, NULL, KAA_FIBER_DEFAULT_STACK_SIZE, "floor", NULL);
  if (fiber == NULL)
    kaa_bench_die ("cannot make a fiber");
  return fiber;
}

static gdouble
run_switch (guint n_ops)
{
  KaaFiber *fiber = floor_fiber ();
  gint64 start = kaa_bench_now_ns ();

  for (guint i = 0; i < n_ops; i++)
    kaa_fiber_resume (fiber);
  return (gdouble) (kaa_bench_now_ns () - start) / n_ops;
}

/* floor-yield-N's source: attached as the time slices' is (the idle
 * priority, recursion allowed, ready from its prepare, no callback), it
 * resumes each of its N fibers in each dispatch, warming
 * the stack of the one two ahead as the slices do (coroutine_warm_queued()
 * in kaa-coroutine.c). */
typedef struct
{
  GSource    source;
  Bench     *bench;
  KaaFiber **fibers;
  guint      n_fibers;
} FiberSource;

static gboolean
fiber_source_prepare (GSource *source,
                      gint    *timeout)
{
  *timeout = 0;
  return TRUE;
}

static gboolean
fiber_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  FiberSource *self = (FiberSource *) source;
  Bench *bench = self->bench;

  for (guint i = 0; i < self->n_fibers; i++)
    {
      if (i + 2 < self->n_fibers)
        kaa_fiber_warm (self->fibers[i + 2]);
      kaa_fiber_resume (self->fibers[i]);
    }
  bench->count += self->n_fibers;
  return bench->count < bench->target ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static GSourceFuncs fiber_source_funcs = {
  .prepare = fiber_source_prepare,
  .dispatch = fiber_source_dispatch,
};

static gdouble
run_fiber_source (Bench *bench,
                  guint  n_fibers,
                  guint  n_ops)
{
  GSource *source = g_source_new (&fiber_source_funcs, sizeof (FiberSource));
  FiberSource *self = (FiberSource *) source;
  g_autofree KaaFiber **fibers = g_new (KaaFiber *, n_fibers);
  gboolean stop = FALSE;
  gint64 start;
  gdouble ns;

  for (guint i = 0; i < n_fibers; i++)
    if ((fibers[i] = kaa_fiber_new (fiber_bounce_until, &stop, KAA_FIBER_DEFAULT_STACK_SIZE,
                                    "floor", NULL)) == NULL)
      kaa_bench_die ("cannot make fiber %u of %u", i, n_fibers);
  self->bench = bench;
  self->fibers = fibers;
  self->n_fibers = n_fibers;
  bench->count = 0;
  bench->target = n_ops;
  g_source_set_priority (source, G_PRIORITY_DEFAULT_IDLE);
  g_source_set_can_recurse (source, TRUE);
  g_source_attach (source, bench->context);
  g_source_unref (source);
  start = kaa_bench_now_ns ();
  while (g_main_context_iteration (bench->context, FALSE))
    ;
  ns = (gdouble) (kaa_bench_now_ns () - start) / bench->count;
  stop = TRUE;
  for (guint i = 0; i < n_fibers; i++)
    {
      kaa_fiber_resume (fibers[i]);
      kaa_fiber_free (fibers[i]);
    }
  return ns;
}

/* What a spawn allocates and frees: its InProgress, its coroutine (which
 * holds the fiber) and a stack, which the fiber layer's cache gives. */
static gdouble
run_alloc (guint n_ops)
{
  gsize ip_size = sizeof (KaaInProgress);
  gsize co_size = KAA_ALLOC_TAIL_OFFSET (sizeof (KaaCoroutine)) + kaa_fiber_struct_size ();
  gint64 start = kaa_bench_now_ns ();

  for (guint i = 0; i < n_ops; i++)
    {
      gpointer ip = g_malloc (ip_size);
      gpointer co = g_malloc (co_size);
      KaaStack *stack = kaa_stack_new (KAA_FIBER_DEFAULT_STACK_SIZE, NULL, NULL);

      /* Keeps the compiler from pairing the calls away. */
      __asm__ volatile ("" : : "r" (ip), "r" (co), "r" (stack) : "memory");
      kaa_stack_free (stack);
      g_free (co);
      g_free (ip);
    }
  return (gdouble) (kaa_bench_now_ns () - start) / n_ops;
}

/* ----------------------------------------------------------- rounds */

static void
run_round (gpointer  data,
           guint     n_ops,
           gdouble  *values)
{
  Bench *bench = data;

  if (bench->yield_row >= 0)
    {
      guint n = yield_rows[bench->yield_row].n_coroutines;
      guint row = yield_rows[bench->yield_row].row;

      memset (values, 0, N_SAMPLES * sizeof *values);
      values[rows[row].kaa_sample] = kaa_bench_run_yields (bench->context, n, MAX (n_ops, n));
      values[rows[row].peer_sample] = yield_rows[bench->yield_row].floor
                                      ? run_fiber_source (bench, n, MAX (n_ops, n))
                                      : run_idles (bench, n, MAX (n_ops, n));
      return;
    }
  if (bench->only != NULL)
    {
      gboolean floors = g_strcmp0 (bench->only, "spawn") == 0;

      memset (values, 0, N_SAMPLES * sizeof *values);
      values[S_SPAWN_AWAIT] = run_spawn_await (bench, n_ops);
      values[S_SWITCH] = floors ? run_switch (n_ops) : 0;
      values[S_ALLOC] = floors ? run_alloc (n_ops) : 0;
      values[S_FLOOR_SPAWN] = values[S_ALLOC] + values[S_SWITCH];
      return;
    }
  values[S_ITER_KAA] = run_iterations (bench->context, n_ops);
  values[S_ITER_BARE] = run_iterations (bench->bare, n_ops);
  values[S_YIELD_1] = kaa_bench_run_yields (bench->context, 1, n_ops);
  values[S_IDLE_1] = run_idles (bench, 1, n_ops);
  values[S_YIELD_100] = kaa_bench_run_yields (bench->context, 100, n_ops);
  values[S_IDLE_100] = run_idles (bench, 100, n_ops);
  values[S_YIELD_10000] = kaa_bench_run_yields (bench->context, 10000, MAX (n_ops, 10000));
  values[S_IDLE_10000] = run_idles (bench, 10000, MAX (n_ops, 10000));
  values[S_SPAWN_AWAIT] = run_spawn_await (bench, n_ops);
  values[S_GTASK_CHAIN] = run_gtask_chain (bench, n_ops);
  values[S_SWITCH] = run_switch (n_ops);
  values[S_ALLOC] = run_alloc (n_ops);
  values[S_FLOOR_YIELD_100] = values[S_SWITCH] + values[S_IDLE_1] / 100;
  values[S_FLOOR_SPAWN] = values[S_ALLOC] + values[S_SWITCH];
  values[S_FLOOR_YIELD_1] = run_fiber_source (bench, 1, n_ops);
  values[S_FLOOR_YIELD_10000] = run_fiber_source (bench, 10000, MAX (n_ops, 10000));
}

int
main (int   argc,
      char *argv[])
{
  KaaBench run = { 0 };
  KaaBenchStats stats[N_SAMPLES];
  Bench bench = { 0 };

  kaa_bench_init (&run, "loop", "- what libkaa costs the main loop, and its floors",
                  DEFAULT_OPS, QUICK_OPS, &argc, &argv);
  bench.context = g_main_context_new ();
  bench.bare = g_main_context_new ();
  g_main_context_push_thread_default (bench.context);
  /* Attaches what a program that uses coroutines has attached. */
  kaa_bench_run_yields (bench.context, 1, 2);

  bench.only = g_getenv ("KAA_BENCH_LOOP_ONLY");
  bench.yield_row = -1;
  for (guint i = 0; bench.only != NULL && i < G_N_ELEMENTS (yield_rows); i++)
    if (g_strcmp0 (bench.only, yield_rows[i].only) == 0)
      bench.yield_row = i;
  if (bench.only != NULL && bench.yield_row < 0 && g_strcmp0 (bench.only, "spawn") != 0 &&
      g_strcmp0 (bench.only, "spawn-await") != 0)
    kaa_bench_die ("KAA_BENCH_LOOP_ONLY is spawn, spawn-await, yield-1, yield-100, "
                   "yield-10000, floor-yield-1 or floor-yield-10000, not %s", bench.only);
  kaa_bench_measure (&run, N_SAMPLES, run_round, &bench, stats);
  if (bench.yield_row >= 0)
    kaa_bench_report (&run, &rows[yield_rows[bench.yield_row].row], 1, stats);
  else if (bench.only != NULL)
    kaa_bench_report (&run, &rows[SPAWN_ROW], 1, stats);
  else
    kaa_bench_report (&run, rows, G_N_ELEMENTS (rows), stats);

  g_main_context_pop_thread_default (bench.context);
  while (g_main_context_iteration (bench.context, FALSE))
    ;
  g_main_context_unref (bench.context);
  g_main_context_unref (bench.bare);
  kaa_bench_clear (&run);
  return EXIT_SUCCESS;
}
