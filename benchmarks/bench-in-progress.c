/* bench-in-progress.c: the cost of an InProgress, against GLib's peers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN §2 promises that creating, finishing and delivering one callback
 * costs a small multiple of a malloc, not a GObject; DESIGN §3 promises
 * that completions from another thread are batched behind one wake-up.
 * Each case is measured against the GLib way of doing the same thing, in
 * the same process and the same run, and reported as a ratio, so that the
 * figures survive a different machine or a busy one:
 *
 *  1a  new + connect + finish + unref; the callback runs inside finish
 *  1b  new + finish, then a late connect; delivered on the next dispatch
 *      peer: g_task_new + g_task_return_pointer + g_object_unref, the
 *      callback delivered from an idle source
 *  2   N futures finished on a worker thread, callbacks on the main loop
 *      peer: N g_main_context_invoke() calls from the worker
 *
 * Every case runs on a private GMainContext pushed as thread-default, so
 * nothing else in the process (or in GLib) competes for the loop.
 */
#include <stdlib.h>

#include "kaa-bench.h"

#define DEFAULT_OPS    100000
#define QUICK_OPS      10000

typedef enum
{
  SAMPLE_KAA_CONNECT_FIRST,
  SAMPLE_KAA_LATE_CONNECT,
  SAMPLE_GTASK,
  SAMPLE_KAA_THREAD,
  SAMPLE_INVOKE,
  N_SAMPLES
} SampleKind;

static const KaaBenchRow rows[] = {
  { "1a-connect-first", "new+connect+finish, callback inside finish",
    SAMPLE_KAA_CONNECT_FIRST, "GTask new+return_pointer+callback", SAMPLE_GTASK, 10, KAA_BENCH_NS },
  { "1b-late-connect", "new+finish+late connect, next dispatch",
    SAMPLE_KAA_LATE_CONNECT, "GTask new+return_pointer+callback", SAMPLE_GTASK, 10, KAA_BENCH_NS },
  { "2-worker-finish", "finish on a worker, callback on main loop",
    SAMPLE_KAA_THREAD, "g_main_context_invoke from the worker", SAMPLE_INVOKE, 3, KAA_BENCH_NS },
};

typedef struct
{
  GMainContext   *context;
  guint           n_ops;
  KaaInProgress **futures;   /* n_ops slots, reused by every run */
  guint           count;     /* callbacks seen; main thread only */
} Bench;

/* Handed to the worker of case 2. */
typedef struct
{
  Bench  *bench;
  gint64  start_ns;          /* written by the worker, read after join */
} Worker;

/* Iterates until @bench has seen all its callbacks. Blocking is safe:
 * whatever is still owed to us is either ready or on its way with a
 * wake-up. */
static void
drain (Bench *bench)
{
  while (bench->count < bench->n_ops)
    g_main_context_iteration (bench->context, TRUE);
}

static void
count_callback (KaaInProgress *self,
                gpointer       user_data)
{
  ((Bench *) user_data)->count++;
}

static void
count_task_callback (GObject      *source_object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  ((Bench *) user_data)->count++;
}

static gboolean
count_invoked (gpointer user_data)
{
  ((Bench *) user_data)->count++;
  return G_SOURCE_REMOVE;
}

/* Case 1a: DESIGN §2 makes these callbacks synchronous, so nothing may be
 * left for the loop afterwards. */
static gint64
run_kaa_connect_first (Bench *bench)
{
  gint64 start = kaa_bench_now_ns ();

  bench->count = 0;
  for (guint i = 0; i < bench->n_ops; i++)
    {
      KaaInProgress *future = kaa_in_progress_new ();

      kaa_in_progress_connect (future, count_callback, bench, NULL);
      kaa_in_progress_finish_pointer (future, NULL, NULL);
      kaa_in_progress_unref (future);
    }
  if (bench->count != bench->n_ops)
    kaa_bench_die ("case 1a: %u of %u callbacks ran inside finish", bench->count, bench->n_ops);
  return kaa_bench_now_ns () - start;
}

/* Case 1b: a connect after the finish must not call back inside connect;
 * the scheduler delivers on its next dispatch. The queued delivery holds
 * its own reference, so ours can go at once. */
static gint64
run_kaa_late_connect (Bench *bench)
{
  gint64 start = kaa_bench_now_ns ();

  bench->count = 0;
  for (guint i = 0; i < bench->n_ops; i++)
    {
      bench->futures[i] = kaa_in_progress_new ();
      kaa_in_progress_finish_pointer (bench->futures[i], NULL, NULL);
    }
  for (guint i = 0; i < bench->n_ops; i++)
    {
      kaa_in_progress_connect (bench->futures[i], count_callback, bench, NULL);
      kaa_in_progress_unref (g_steal_pointer (&bench->futures[i]));
    }
  if (bench->count != 0)
    kaa_bench_die ("case 1b: %u late callbacks ran inside connect", bench->count);
  drain (bench);
  return kaa_bench_now_ns () - start;
}

/* The peer of case 1. Outside a dispatch of its context, GTask always
 * completes from an idle source, which is what a late connect is. */
static gint64
run_gtask (Bench *bench)
{
  gint64 start = kaa_bench_now_ns ();

  bench->count = 0;
  for (guint i = 0; i < bench->n_ops; i++)
    {
      GTask *task = g_task_new (NULL, NULL, count_task_callback, bench);

      g_task_return_pointer (task, NULL, NULL);
      g_object_unref (task);
    }
  drain (bench);
  return kaa_bench_now_ns () - start;
}

static gpointer
kaa_worker (gpointer data)
{
  Worker *worker = data;
  Bench *bench = worker->bench;

  worker->start_ns = kaa_bench_now_ns ();
  for (guint i = 0; i < bench->n_ops; i++)
    kaa_in_progress_finish_int64 (bench->futures[i], i);
  return NULL;
}

/* Our context is not this thread's thread-default, so
 * g_main_context_invoke() never calls the function here: it attaches an
 * idle source to the context and wakes it, once per call. */
static gpointer
invoke_worker (gpointer data)
{
  Worker *worker = data;
  Bench *bench = worker->bench;

  worker->start_ns = kaa_bench_now_ns ();
  for (guint i = 0; i < bench->n_ops; i++)
    g_main_context_invoke (bench->context, count_invoked, bench);
  return NULL;
}

/* Runs @func on a worker and iterates until every callback arrived. The
 * clock starts when the worker starts, not when the thread is created. */
static gint64
run_with_worker (Bench       *bench,
                 GThreadFunc  func)
{
  Worker worker = { bench, 0 };
  GThread *thread;
  gint64 end;

  bench->count = 0;
  thread = g_thread_new ("bench-worker", func, &worker);
  drain (bench);
  end = kaa_bench_now_ns ();
  g_thread_join (thread);
  return end - worker.start_ns;
}

/* Case 2. Creating and connecting happen before the clock starts, as the
 * peer's work starts at the invoke; freeing happens after it stops. */
static gint64
run_kaa_thread (Bench *bench)
{
  gint64 elapsed;

  for (guint i = 0; i < bench->n_ops; i++)
    {
      bench->futures[i] = kaa_in_progress_new ();
      kaa_in_progress_connect (bench->futures[i], count_callback, bench, NULL);
    }
  elapsed = run_with_worker (bench, kaa_worker);
  for (guint i = 0; i < bench->n_ops; i++)
    g_clear_pointer (&bench->futures[i], kaa_in_progress_unref);
  return elapsed;
}

static gint64
run_invoke (Bench *bench)
{
  return run_with_worker (bench, invoke_worker);
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

  elapsed[SAMPLE_KAA_CONNECT_FIRST] = run_kaa_connect_first (bench);
  elapsed[SAMPLE_KAA_LATE_CONNECT] = run_kaa_late_connect (bench);
  elapsed[SAMPLE_GTASK] = run_gtask (bench);
  elapsed[SAMPLE_KAA_THREAD] = run_kaa_thread (bench);
  elapsed[SAMPLE_INVOKE] = run_invoke (bench);

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

  kaa_bench_init (&run, "in-progress",
                  "- libkaa InProgress against GTask and g_main_context_invoke",
                  DEFAULT_OPS, QUICK_OPS, &argc, &argv);
  bench.context = g_main_context_new ();
  bench.n_ops = run.n_ops;
  bench.futures = g_new0 (KaaInProgress *, bench.n_ops);
  g_main_context_push_thread_default (bench.context);

  kaa_bench_measure (&run, N_SAMPLES, run_round, &bench, stats);
  kaa_bench_report (&run, rows, G_N_ELEMENTS (rows), stats);

  g_main_context_pop_thread_default (bench.context);
  while (g_main_context_iteration (bench.context, FALSE))
    ;
  g_main_context_unref (bench.context);
  g_free (bench.futures);
  kaa_bench_clear (&run);
  return EXIT_SUCCESS;
}
