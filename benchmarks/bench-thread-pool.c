/* bench-thread-pool.c: thread jobs, against GTask and GThreadPool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two questions (issue #4): how long one trivial job takes from submit to
 * its callback on the main loop (latency: submit, wake a worker, run,
 * hand the result back, wake the loop), and how many trivial jobs per
 * second flow through when 100 000 are in flight at once (throughput: the
 * queue, the workers and the batched delivery). The peers are
 * g_task_run_in_thread(), which GTK applications use for this, and a bare
 * GThreadPool whose workers g_main_context_invoke() each result back.
 */
#include <stdlib.h>

#include "kaa-bench.h"

#define DEFAULT_OPS    100000
#define QUICK_OPS      10000
/* A round trip costs tens of microseconds: fewer of them keep a run short. */
#define ROUND_TRIP_DIVISOR 20

typedef enum
{
  SAMPLE_KAA_ROUND_TRIP,
  SAMPLE_GTASK_ROUND_TRIP,
  SAMPLE_POOL_ROUND_TRIP,
  SAMPLE_KAA_FLOOD,
  SAMPLE_GTASK_FLOOD,
  SAMPLE_POOL_FLOOD,
  N_SAMPLES
} SampleKind;

static const KaaBenchRow rows[] = {
  { "1a-round-trip", "one trivial job, submit to callback on the main loop",
    SAMPLE_KAA_ROUND_TRIP, "g_task_run_in_thread", SAMPLE_GTASK_ROUND_TRIP, 2, KAA_BENCH_NS },
  { "1b-round-trip", "one trivial job, submit to callback on the main loop",
    SAMPLE_KAA_ROUND_TRIP, "GThreadPool + g_main_context_invoke", SAMPLE_POOL_ROUND_TRIP, 0,
    KAA_BENCH_NS },
  { "2a-flood", "N trivial jobs in flight, per job",
    SAMPLE_KAA_FLOOD, "g_task_run_in_thread", SAMPLE_GTASK_FLOOD, 4, KAA_BENCH_NS },
  { "2b-flood", "N trivial jobs in flight, per job",
    SAMPLE_KAA_FLOOD, "GThreadPool + g_main_context_invoke", SAMPLE_POOL_FLOOD, 0, KAA_BENCH_NS },
};

typedef struct
{
  GMainContext   *context;
  KaaThreadPool  *kaa_pool;
  GThreadPool    *glib_pool;
  guint           count;     /* callbacks seen; main thread only */
} Bench;

static void
drain (Bench *bench,
       guint  n)
{
  while (bench->count < n)
    g_main_context_iteration (bench->context, TRUE);
}

static gpointer
trivial_job (KaaThreadJob *job,
             gpointer      user_data,
             GError      **error)
{
  return user_data;
}

static void
count_callback (KaaInProgress *self,
                gpointer       user_data)
{
  ((Bench *) user_data)->count++;
}

static void
trivial_task (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  g_task_return_pointer (task, task_data, NULL);
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

/* The GThreadPool peer's worker: a trivial job, then the result goes back
 * through the context's own cross-thread path. */
static void
glib_pool_func (gpointer data,
                gpointer user_data)
{
  Bench *bench = user_data;

  g_main_context_invoke (bench->context, count_invoked, bench);
}

static void
submit_kaa (Bench *bench)
{
  KaaInProgress *ip = kaa_thread_pool_run (bench->kaa_pool, 0, trivial_job, bench, NULL);

  kaa_in_progress_connect (ip, count_callback, bench, NULL);
  kaa_in_progress_unref (ip);
}

static void
submit_gtask (Bench *bench)
{
  GTask *task = g_task_new (NULL, NULL, count_task_callback, bench);

  g_task_set_task_data (task, bench, NULL);
  g_task_run_in_thread (task, trivial_task);
  g_object_unref (task);
}

static void
submit_glib_pool (Bench *bench)
{
  g_thread_pool_push (bench->glib_pool, bench, NULL);
}

/* Case 1: one at a time, each waited for on the main loop. */
static gint64
run_round_trip (Bench *bench,
                guint  n,
                void (*submit) (Bench *))
{
  gint64 start = kaa_bench_now_ns ();

  bench->count = 0;
  for (guint i = 0; i < n; i++)
    {
      submit (bench);
      drain (bench, i + 1);
    }
  return kaa_bench_now_ns () - start;
}

/* Case 2: all submitted, then all waited for. */
static gint64
run_flood (Bench *bench,
           guint  n,
           void (*submit) (Bench *))
{
  gint64 start = kaa_bench_now_ns ();

  bench->count = 0;
  for (guint i = 0; i < n; i++)
    submit (bench);
  drain (bench, n);
  return kaa_bench_now_ns () - start;
}

/* One round of every sample, interleaved so that a change in the load of
 * the machine affects libkaa and its peers alike. */
static void
run_round (gpointer  data,
           guint     n_ops,
           gdouble  *ns_per_op)
{
  Bench *bench = data;
  guint n_trips = MAX (1, n_ops / ROUND_TRIP_DIVISOR);

  ns_per_op[SAMPLE_KAA_ROUND_TRIP] = (gdouble) run_round_trip (bench, n_trips, submit_kaa) / n_trips;
  ns_per_op[SAMPLE_GTASK_ROUND_TRIP] = (gdouble) run_round_trip (bench, n_trips, submit_gtask) / n_trips;
  ns_per_op[SAMPLE_POOL_ROUND_TRIP] = (gdouble) run_round_trip (bench, n_trips, submit_glib_pool) / n_trips;
  ns_per_op[SAMPLE_KAA_FLOOD] = (gdouble) run_flood (bench, n_ops, submit_kaa) / n_ops;
  ns_per_op[SAMPLE_GTASK_FLOOD] = (gdouble) run_flood (bench, n_ops, submit_gtask) / n_ops;
  ns_per_op[SAMPLE_POOL_FLOOD] = (gdouble) run_flood (bench, n_ops, submit_glib_pool) / n_ops;
}

int
main (int   argc,
      char *argv[])
{
  KaaBench run = { 0 };
  KaaBenchStats stats[N_SAMPLES];
  Bench bench = { 0 };
  guint n_threads = MAX (2, g_get_num_processors ());

  kaa_bench_init (&run, "thread-pool",
                  "- libkaa thread jobs against GTask and GThreadPool",
                  DEFAULT_OPS, QUICK_OPS, &argc, &argv);
  bench.context = g_main_context_new ();
  g_main_context_push_thread_default (bench.context);
  /* The same number of workers for libkaa and the bare GThreadPool. */
  bench.kaa_pool = kaa_thread_pool_new ("bench", n_threads);
  bench.glib_pool = g_thread_pool_new (glib_pool_func, &bench, (gint) n_threads, FALSE, NULL);

  kaa_bench_measure (&run, N_SAMPLES, run_round, &bench, stats);
  kaa_bench_report (&run, rows, G_N_ELEMENTS (rows), stats);

  g_thread_pool_free (bench.glib_pool, FALSE, TRUE);
  kaa_thread_pool_shutdown (bench.kaa_pool);
  kaa_thread_pool_unref (bench.kaa_pool);
  g_main_context_pop_thread_default (bench.context);
  while (g_main_context_iteration (bench.context, FALSE))
    ;
  g_main_context_unref (bench.context);
  kaa_bench_clear (&run);
  return EXIT_SUCCESS;
}
