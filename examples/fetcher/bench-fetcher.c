/* bench-fetcher.c: the engines' figures for docs/fetcher.md
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-fetcher [--twin] [N [IN_FLIGHT]]   default: 200 downloads of 1 MiB, 16 at once
 *
 * Through FetcherBackend, on the libkaa engine or (--twin) the GTask
 * twin, against the tests' server in this process (bench-fetcher-common.h),
 * so the CPU time counts both ends. Prints the wall and CPU time of N
 * downloads of 1 MiB with at most IN_FLIGHT at once (each file checked
 * against its SHA-256), then how long Cancel all of N slow downloads
 * takes: until the call returned (libkaa's returns with every download
 * unwound, the twin's before any has stopped), until every download has
 * ended, and until their history rows are written and the loop is idle.
 */
#include "bench-fetcher-common.h"

static gboolean
run_downloads (Bench *bench)
{
  FetcherBackend *backend = bench_backend_new (bench);
  gint64 start = g_get_monotonic_time ();
  double cpu = bench_cpu_seconds ();
  gboolean ok;

  bench_add (bench, backend, "file", BENCH_FILE_SIZE);
  while (!bench_all_ended (backend))
    g_main_context_iteration (NULL, TRUE);
  g_print ("%s: %u downloads of 1 MiB, %u at once: wall %.2f s, CPU %.2f s\n",
           fetcher_backend_get_name (backend), bench->n, bench->in_flight,
           (g_get_monotonic_time () - start) / 1e6, bench_cpu_seconds () - cpu);
  ok = bench_check_files (bench, backend);
  bench_backend_free (backend);
  return ok;
}

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates until @done, a 1 ms ticker keeping the loop awake so the
 * time is taken when it happened; the time since @start, in ms. */
static double
iterate_until (FetcherBackend  *backend,
               gboolean       (*done) (FetcherBackend *backend),
               gint64           start)
{
  GSource *ticker = g_timeout_source_new (1);

  g_source_set_callback (ticker, tick, NULL, NULL);
  g_source_attach (ticker, NULL);
  while (!done (backend))
    g_main_context_iteration (NULL, TRUE);
  g_source_destroy (ticker);
  g_source_unref (ticker);
  return (g_get_monotonic_time () - start) / 1e3;
}

/* N slow downloads (64 MiB at 800 KiB/s) under way for a second, then
 * Cancel all. */
static void
run_cancel_all (Bench *bench)
{
  FetcherBackend *backend = bench_backend_new (bench);
  gint64 wait_until = g_get_monotonic_time () + G_USEC_PER_SEC;
  gint64 start, returned;
  double ended, written, idle;

  bench_add (bench, backend, "slow", 64u << 20);
  while (g_get_monotonic_time () < wait_until)
    g_main_context_iteration (NULL, FALSE);
  start = g_get_monotonic_time ();
  fetcher_backend_cancel_all (backend);
  returned = g_get_monotonic_time ();
  ended = iterate_until (backend, bench_all_ended, start);
  written = iterate_until (backend, bench_rows_written, start);
  while (g_main_context_pending (NULL))
    g_main_context_iteration (NULL, FALSE);
  idle = (g_get_monotonic_time () - start) / 1e3;
  g_print ("%s: Cancel all of %u downloads (%u running): returned after %.1f ms, "
           "all ended after %.1f ms, rows written after %.1f ms, idle after %.1f ms\n",
           fetcher_backend_get_name (backend), bench->n, bench->in_flight,
           (returned - start) / 1e3, ended, written, idle);
  bench_backend_free (backend);
}

int
main (int   argc,
      char *argv[])
{
  Bench bench = { 0 };
  gboolean ok;

  bench_init (&bench, argc, argv);
  ok = run_downloads (&bench);
  test_server_remove_scratch (bench.dir);
  run_cancel_all (&bench);
  bench_finish (&bench);
  return ok ? 0 : 1;
}
