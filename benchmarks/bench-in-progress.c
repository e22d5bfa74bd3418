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
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <kaa/kaa.h>

#define DEFAULT_RUNS   7
#define DEFAULT_OPS    100000
#define QUICK_RUNS     2
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

/* One line of the report: a libkaa sample and the peer it is compared to. */
/* One line of the report: a libkaa sample, the peer it is compared to,
 * and the ratio (peer / libkaa) the project aims for. */
typedef struct
{
  const char *id;
  const char *what;
  SampleKind  kaa;
  const char *peer;
  SampleKind  peer_kind;
  gdouble     goal;
} Row;

static const Row rows[] = {
  { "1a-connect-first", "new+connect+finish, callback inside finish",
    SAMPLE_KAA_CONNECT_FIRST, "GTask new+return_pointer+callback", SAMPLE_GTASK, 10 },
  { "1b-late-connect", "new+finish+late connect, next dispatch",
    SAMPLE_KAA_LATE_CONNECT, "GTask new+return_pointer+callback", SAMPLE_GTASK, 10 },
  { "2-worker-finish", "finish on a worker, callback on main loop",
    SAMPLE_KAA_THREAD, "g_main_context_invoke from the worker", SAMPLE_INVOKE, 3 },
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

static gint64
now_ns (void)
{
  struct timespec ts;

  /* g_get_monotonic_time() has microsecond resolution, too coarse for
   * the short quick runs. */
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static void G_GNUC_NORETURN G_GNUC_PRINTF (1, 2)
die (const char *format,
     ...)
{
  va_list args;

  va_start (args, format);
  fputs ("bench-in-progress: ", stderr);
  vfprintf (stderr, format, args);
  fputc ('\n', stderr);
  va_end (args);
  exit (EXIT_FAILURE);
}

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
  gint64 start = now_ns ();

  bench->count = 0;
  for (guint i = 0; i < bench->n_ops; i++)
    {
      KaaInProgress *future = kaa_in_progress_new ();

      kaa_in_progress_connect (future, count_callback, bench, NULL);
      kaa_in_progress_finish_pointer (future, NULL, NULL);
      kaa_in_progress_unref (future);
    }
  if (bench->count != bench->n_ops)
    die ("case 1a: %u of %u callbacks ran inside finish", bench->count, bench->n_ops);
  return now_ns () - start;
}

/* Case 1b: a connect after the finish must not call back inside connect;
 * the scheduler delivers on its next dispatch. The queued delivery holds
 * its own reference, so ours can go at once. */
static gint64
run_kaa_late_connect (Bench *bench)
{
  gint64 start = now_ns ();

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
    die ("case 1b: %u late callbacks ran inside connect", bench->count);
  drain (bench);
  return now_ns () - start;
}

/* The peer of case 1. Outside a dispatch of its context, GTask always
 * completes from an idle source, which is what a late connect is. */
static gint64
run_gtask (Bench *bench)
{
  gint64 start = now_ns ();

  bench->count = 0;
  for (guint i = 0; i < bench->n_ops; i++)
    {
      GTask *task = g_task_new (NULL, NULL, count_task_callback, bench);

      g_task_return_pointer (task, NULL, NULL);
      g_object_unref (task);
    }
  drain (bench);
  return now_ns () - start;
}

static gpointer
kaa_worker (gpointer data)
{
  Worker *worker = data;
  Bench *bench = worker->bench;

  worker->start_ns = now_ns ();
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

  worker->start_ns = now_ns ();
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
  end = now_ns ();
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
run_round (Bench  *bench,
           gdouble ns_per_op[N_SAMPLES])
{
  gint64 elapsed[N_SAMPLES];

  elapsed[SAMPLE_KAA_CONNECT_FIRST] = run_kaa_connect_first (bench);
  elapsed[SAMPLE_KAA_LATE_CONNECT] = run_kaa_late_connect (bench);
  elapsed[SAMPLE_GTASK] = run_gtask (bench);
  elapsed[SAMPLE_KAA_THREAD] = run_kaa_thread (bench);
  elapsed[SAMPLE_INVOKE] = run_invoke (bench);

  for (guint s = 0; s < N_SAMPLES; s++)
    ns_per_op[s] = (gdouble) elapsed[s] / bench->n_ops;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  gdouble x = *(const gdouble *) a;
  gdouble y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

typedef struct
{
  gdouble median;
  gdouble min;
  gdouble max;
} Stats;

static Stats
stats_of (const gdouble *values,
          guint          n)
{
  g_autofree gdouble *sorted = g_memdup2 (values, n * sizeof (gdouble));
  Stats stats;

  qsort (sorted, n, sizeof (gdouble), compare_doubles);
  stats.min = sorted[0];
  stats.max = sorted[n - 1];
  stats.median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return stats;
}

/* The machine may be shared: the load is part of the result. */
static char *
dup_load_average (void)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &contents, NULL, NULL))
    return g_strdup ("unknown");
  fields = g_strsplit (g_strstrip (contents), " ", 4);
  if (g_strv_length (fields) < 3)
    return g_strdup ("unknown");
  return g_strjoin (" ", fields[0], fields[1], fields[2], NULL);
}

static void
print_table (Stats       stats[N_SAMPLES],
             guint       runs,
             guint       n_ops,
             const char *load)
{
  printf ("bench-in-progress: %u runs of %u operations, load average before: %s\n"
          "ns/op as median (min..max); ratio = peer median / libkaa median, higher is better\n\n",
          runs, n_ops, load);
  printf ("%-18s %-44s %-26s %-38s %-26s %-7s %s\n",
          "case", "libkaa", "ns/op", "peer", "ns/op", "ratio", "goal");
  for (guint r = 0; r < G_N_ELEMENTS (rows); r++)
    {
      Stats *kaa = &stats[rows[r].kaa];
      Stats *peer = &stats[rows[r].peer_kind];
      char kaa_cell[64], peer_cell[64];

      g_snprintf (kaa_cell, sizeof kaa_cell, "%.1f (%.1f..%.1f)",
                  kaa->median, kaa->min, kaa->max);
      g_snprintf (peer_cell, sizeof peer_cell, "%.1f (%.1f..%.1f)",
                  peer->median, peer->min, peer->max);
      printf ("%-18s %-44s %-26s %-38s %-26s %-7.2f >= %.0f\n",
              rows[r].id, rows[r].what, kaa_cell, rows[r].peer, peer_cell,
              peer->median / kaa->median, rows[r].goal);
    }
  fflush (stdout);
}

/* JSON Lines, appended, one object per case, in the schema that
 * tools/bench-report.py documents: the keys every benchmark writes
 * ("bench", "case", "kaa_ns", "peer", "peer_ns", "ratio", "runs",
 * "min_ns", "max_ns"), then the optional ones it reads. The strings are
 * our own constants, none of which needs escaping. */
static void
append_json (const char *path,
             Stats       stats[N_SAMPLES],
             guint       runs,
             guint       n_ops,
             gboolean    quick,
             const char *load)
{
  FILE *file = fopen (path, "a");

  if (file == NULL)
    die ("cannot open %s: %s", path, g_strerror (errno));
  for (guint r = 0; r < G_N_ELEMENTS (rows); r++)
    {
      Stats *kaa = &stats[rows[r].kaa];
      Stats *peer = &stats[rows[r].peer_kind];

      fprintf (file,
               "{\"bench\": \"in-progress\", \"case\": \"%s\", \"kaa_ns\": %.2f, "
               "\"peer\": \"%s\", \"peer_ns\": %.2f, \"ratio\": %.3f, \"runs\": %u, "
               "\"min_ns\": %.2f, \"max_ns\": %.2f, \"peer_min_ns\": %.2f, "
               "\"peer_max_ns\": %.2f, \"goal\": %.0f, \"n\": %u, \"quick\": %s, "
               "\"loadavg\": \"%s\", \"time\": %" G_GINT64_FORMAT ", "
               "\"what\": \"%s\"}\n",
               rows[r].id, kaa->median, rows[r].peer, peer->median,
               peer->median / kaa->median, runs, kaa->min, kaa->max,
               peer->min, peer->max, rows[r].goal, n_ops, quick ? "true" : "false",
               load, g_get_real_time () / G_USEC_PER_SEC, rows[r].what);
    }
  if (fclose (file) != 0)
    die ("cannot write %s: %s", path, g_strerror (errno));
}

int
main (int   argc,
      char *argv[])
{
  gint runs = DEFAULT_RUNS;
  gint n_ops = 0;
  gboolean quick = FALSE;
  g_autofree char *json_path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) options = NULL;
  const GOptionEntry entries[] = {
    { "runs", 'r', 0, G_OPTION_ARG_INT, &runs, "Measured runs (default 7)", "N" },
    { "ops", 'n', 0, G_OPTION_ARG_INT, &n_ops, "Operations per run (default 100000)", "N" },
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &quick, "Two small runs, for CI", NULL },
    { "json", 'j', 0, G_OPTION_ARG_FILENAME, &json_path,
      "Append the results as JSON Lines to PATH", "PATH" },
    G_OPTION_ENTRY_NULL
  };
  g_autofree gdouble *samples = NULL;
  g_autofree char *load = NULL;
  gdouble warmup[N_SAMPLES];
  Stats stats[N_SAMPLES];
  Bench bench = { 0 };

  options = g_option_context_new ("- libkaa InProgress against GTask and g_main_context_invoke");
  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    die ("%s", error->message);
  if (quick)
    {
      runs = QUICK_RUNS;
      if (n_ops == 0)
        n_ops = QUICK_OPS;
    }
  if (n_ops == 0)
    n_ops = DEFAULT_OPS;
  if (runs < 1 || n_ops < 1)
    die ("--runs and --ops must be at least 1");

  load = dup_load_average ();
  bench.context = g_main_context_new ();
  bench.n_ops = n_ops;
  bench.futures = g_new0 (KaaInProgress *, bench.n_ops);
  g_main_context_push_thread_default (bench.context);

  /* Page in the allocator's arenas, GTask's class and the scheduler. */
  run_round (&bench, warmup);

  samples = g_new (gdouble, (gsize) runs * N_SAMPLES);
  for (gint run = 0; run < runs; run++)
    {
      gdouble ns_per_op[N_SAMPLES];

      run_round (&bench, ns_per_op);
      for (guint s = 0; s < N_SAMPLES; s++)
        samples[s * runs + run] = ns_per_op[s];
    }
  for (guint s = 0; s < N_SAMPLES; s++)
    stats[s] = stats_of (&samples[s * runs], runs);

  print_table (stats, runs, bench.n_ops, load);
  if (json_path != NULL)
    append_json (json_path, stats, runs, bench.n_ops, quick, load);

  g_main_context_pop_thread_default (bench.context);
  while (g_main_context_iteration (bench.context, FALSE))
    ;
  g_main_context_unref (bench.context);
  g_free (bench.futures);
  return EXIT_SUCCESS;
}
