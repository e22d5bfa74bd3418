/* kaa-bench.c: what every benchmark program shares
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kaa-bench.h"

#define DEFAULT_RUNS 7
#define QUICK_RUNS   2

gint64
kaa_bench_now_ns (void)
{
  struct timespec ts;

  /* g_get_monotonic_time() has microsecond resolution, too coarse for
   * the short quick runs. */
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

void
kaa_bench_die (const char *format,
               ...)
{
  va_list args;

  va_start (args, format);
  fprintf (stderr, "%s: ", g_get_prgname ());
  vfprintf (stderr, format, args);
  fputc ('\n', stderr);
  va_end (args);
  exit (EXIT_FAILURE);
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

void
kaa_bench_init (KaaBench    *bench,
                const char  *name,
                const char  *summary,
                gint         default_ops,
                gint         quick_ops,
                int         *argc,
                char      ***argv)
{
  g_autoptr(GOptionContext) options = g_option_context_new (summary);
  g_autoptr(GError) error = NULL;
  const GOptionEntry entries[] = {
    { "runs", 'r', 0, G_OPTION_ARG_INT, &bench->runs, "Measured runs (default 7)", "N" },
    { "ops", 'n', 0, G_OPTION_ARG_INT, &bench->n_ops, "Operations per run", "N" },
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &bench->quick, "Two small runs, for CI", NULL },
    { "json", 'j', 0, G_OPTION_ARG_FILENAME, &bench->json_path,
      "Append the results as JSON Lines to PATH", "PATH" },
    G_OPTION_ENTRY_NULL
  };

  bench->name = name;
  bench->runs = DEFAULT_RUNS;
  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, argc, argv, &error))
    kaa_bench_die ("%s", error->message);
  if (bench->quick)
    {
      bench->runs = QUICK_RUNS;
      if (bench->n_ops == 0)
        bench->n_ops = quick_ops;
    }
  if (bench->n_ops == 0)
    bench->n_ops = default_ops;
  if (bench->runs < 1 || bench->n_ops < 1)
    kaa_bench_die ("--runs and --ops must be at least 1");
  bench->load = dup_load_average ();
}

void
kaa_bench_clear (KaaBench *bench)
{
  g_clear_pointer (&bench->json_path, g_free);
  g_clear_pointer (&bench->load, g_free);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  gdouble x = *(const gdouble *) a;
  gdouble y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

static KaaBenchStats
stats_of (const gdouble *values,
          guint          n)
{
  g_autofree gdouble *sorted = g_memdup2 (values, n * sizeof (gdouble));
  KaaBenchStats stats;

  qsort (sorted, n, sizeof (gdouble), compare_doubles);
  stats.min = sorted[0];
  stats.max = sorted[n - 1];
  stats.median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return stats;
}

/* A warm-up round pages in the allocator's arenas, the classes and the
 * scheduler; then each measured round gives one value per sample. */
void
kaa_bench_measure (KaaBench          *bench,
                   guint              n_samples,
                   KaaBenchRoundFunc  round,
                   gpointer           data,
                   KaaBenchStats     *stats)
{
  g_autofree gdouble *values = g_new (gdouble, n_samples);
  g_autofree gdouble *samples = g_new (gdouble, (gsize) bench->runs * n_samples);

  round (data, bench->n_ops, values);
  for (gint run = 0; run < bench->runs; run++)
    {
      round (data, bench->n_ops, values);
      for (guint s = 0; s < n_samples; s++)
        samples[s * bench->runs + run] = values[s];
    }
  for (guint s = 0; s < n_samples; s++)
    stats[s] = stats_of (&samples[s * bench->runs], bench->runs);
}

static void
print_table (KaaBench            *bench,
             const KaaBenchRow   *rows,
             guint                n_rows,
             const KaaBenchStats *stats)
{
  printf ("bench-%s: %d runs of %d operations, load average before: %s\n"
          "medians (min..max); ratio = peer median / libkaa median, higher is better\n\n",
          bench->name, bench->runs, bench->n_ops, bench->load);
  printf ("%-22s %-44s %-26s %-40s %-26s %-7s %s\n",
          "case", "libkaa", "ns/op or bytes", "peer", "ns/op or bytes", "ratio", "goal");
  for (guint r = 0; r < n_rows; r++)
    {
      const KaaBenchStats *kaa = &stats[rows[r].kaa_sample];
      const KaaBenchStats *peer = &stats[rows[r].peer_sample];
      char kaa_cell[64], peer_cell[64], goal[16] = "";

      g_snprintf (kaa_cell, sizeof kaa_cell, "%.1f (%.1f..%.1f)", kaa->median, kaa->min, kaa->max);
      g_snprintf (peer_cell, sizeof peer_cell, "%.1f (%.1f..%.1f)",
                  peer->median, peer->min, peer->max);
      if (rows[r].goal > 0)
        g_snprintf (goal, sizeof goal, ">= %g", rows[r].goal);
      printf ("%-22s %-44s %-26s %-40s %-26s %-7.2f %s\n", rows[r].id, rows[r].what,
              kaa_cell, rows[r].peer, peer_cell, peer->median / kaa->median, goal);
    }
  fflush (stdout);
}

/* JSON Lines, appended, one object per row: the keys every benchmark
 * writes, then the optional ones tools/bench-report.py reads. The
 * strings are our own constants, none of which needs escaping. */
static void
append_json (KaaBench            *bench,
             const KaaBenchRow   *rows,
             guint                n_rows,
             const KaaBenchStats *stats)
{
  FILE *file = fopen (bench->json_path, "a");

  if (file == NULL)
    kaa_bench_die ("cannot open %s: %s", bench->json_path, g_strerror (errno));
  for (guint r = 0; r < n_rows; r++)
    {
      const KaaBenchStats *kaa = &stats[rows[r].kaa_sample];
      const KaaBenchStats *peer = &stats[rows[r].peer_sample];
      const char *u = rows[r].unit == KAA_BENCH_BYTES ? "bytes" : "ns";

      fprintf (file,
               "{\"bench\": \"%s\", \"case\": \"%s\", \"kaa_%s\": %.2f, \"peer\": \"%s\", "
               "\"peer_%s\": %.2f, \"ratio\": %.3f, \"runs\": %d, \"min_%s\": %.2f, "
               "\"max_%s\": %.2f, \"peer_min_%s\": %.2f, \"peer_max_%s\": %.2f, "
               "\"goal\": %g, \"n\": %d, \"quick\": %s, \"loadavg\": \"%s\", "
               "\"time\": %" G_GINT64_FORMAT ", \"what\": \"%s\"}\n",
               bench->name, rows[r].id, u, kaa->median, rows[r].peer, u, peer->median,
               peer->median / kaa->median, bench->runs, u, kaa->min, u, kaa->max,
               u, peer->min, u, peer->max, rows[r].goal, bench->n_ops,
               bench->quick ? "true" : "false", bench->load,
               g_get_real_time () / G_USEC_PER_SEC, rows[r].what);
    }
  if (fclose (file) != 0)
    kaa_bench_die ("cannot write %s: %s", bench->json_path, g_strerror (errno));
}

void
kaa_bench_report (KaaBench            *bench,
                  const KaaBenchRow   *rows,
                  guint                n_rows,
                  const KaaBenchStats *stats)
{
  print_table (bench, rows, n_rows, stats);
  if (bench->json_path != NULL)
    append_json (bench, rows, n_rows, stats);
}

typedef struct
{
  guint count;
  guint target;
} Yields;

static void
body_yields (KaaCoroutine *co,
             gpointer      data)
{
  Yields *yields = data;

  while (yields->count < yields->target)
    {
      yields->count++;
      kaa_yield ();
    }
}

/* One yield and its resumption, with @n_coroutines runnable on @context,
 * the thread-default one: nanoseconds per yield, the spawns and their
 * first slices left out (bench-coroutine's and bench-loop's yield-N).
 * The context is iterated as the idles' peer iterates it, until an
 * iteration dispatches nothing: no check of the InProgresses between
 * iterations, which a main loop does not make either. */
gdouble
kaa_bench_run_yields (GMainContext *context,
                      guint         n_coroutines,
                      guint         n_ops)
{
  g_autofree KaaInProgress **ips = g_new (KaaInProgress *, n_coroutines);
  Yields yields = { 0, n_ops };
  gint64 start;

  for (guint i = 0; i < n_coroutines; i++)
    ips[i] = kaa_coroutine_spawn (body_yields, &yields, NULL);
  yields.count = 0;
  start = kaa_bench_now_ns ();
  while (g_main_context_iteration (context, FALSE))
    ;
  for (guint i = 0; i < n_coroutines; i++)
    {
      if (!kaa_in_progress_is_done (ips[i]))
        kaa_bench_die ("yield-%u: coroutine %u not done when its context went idle",
                       n_coroutines, i);
      kaa_in_progress_unref (ips[i]);
    }
  return (gdouble) (kaa_bench_now_ns () - start) / yields.count;
}
