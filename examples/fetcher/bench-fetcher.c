/* bench-fetcher.c: the engine's figures for docs/fetcher.md
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-fetcher [--twin] [N [MIB [IN_FLIGHT]]]   default: 200 downloads of 1 MiB, 16 at once
 *
 * Against the tests' server (test-fetcher-server.h) on 127.0.0.1, in
 * this process on a thread of its own, so the CPU time counts both
 * ends. Prints the wall and CPU time of N downloads of MIB MiB with at
 * most IN_FLIGHT at once (each file checked against its SHA-256), then
 * the time Cancel all takes to end N slow downloads (the call returns
 * with every one unwound) and until the loop is quiet again. With
 * --twin, the same with the GTask twin (twin-engine.c), whose Cancel all
 * returns at once and whose downloads settle from their callbacks later.
 */
#include <stdlib.h>
#include <sys/resource.h>
#include <glib/gstdio.h>

#include "fetcher-engine.h"
#include "twin-engine.h"
#include "test-fetcher-server.h"

static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static gboolean
all_done (FetcherEngine *engine)
{
  GPtrArray *downloads = fetcher_engine_get_downloads (engine);

  for (guint i = 0; i < downloads->len; i++)
    if (!kaa_in_progress_is_done (fetcher_download_get_in_progress (
          g_ptr_array_index (downloads, i))))
      return FALSE;
  return TRUE;
}

static FetcherEngine *
engine_new (const char *dir,
            guint       in_flight)
{
  const FetcherConfig config = {
    .max_parallel = in_flight,
    .deadline_msec = 600000,
    .stall_msec = 60000,
    .backoff_msec = 100,
  };
  g_autofree char *db = g_build_filename (dir, "history.db", NULL);
  g_autoptr(GError) error = NULL;
  FetcherEngine *engine = fetcher_engine_new (dir, db, &config, &error);

  if (engine == NULL)
    g_error ("bench-fetcher: %s", error->message);
  return engine;
}

/* N downloads at once; FALSE if one ended otherwise than done and whole. */
static gboolean
run_downloads (TestServer *server,
               const char *dir,
               guint       n,
               guint       mib,
               guint       in_flight)
{
  g_autoptr(FetcherEngine) engine = engine_new (dir, in_flight);
  gint64 start = g_get_monotonic_time ();
  double cpu = cpu_seconds ();
  gboolean ok = TRUE;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *url = test_server_url (server, "/file/%u/%u", mib << 20, i);

      fetcher_engine_add (engine, url);
    }
  while (!all_done (engine))
    g_main_context_iteration (NULL, TRUE);
  g_print ("%u downloads of %u MiB, %u at once: wall %.2f s, CPU %.2f s\n", n, mib, in_flight,
           (g_get_monotonic_time () - start) / 1e6, cpu_seconds () - cpu);
  for (guint i = 0; i < n; i++)
    {
      FetcherDownload *d = g_ptr_array_index (fetcher_engine_get_downloads (engine), i);
      g_autofree char *want = test_server_sha256 ((gsize) mib << 20, i);

      ok &= g_strcmp0 (fetcher_download_get_sha256 (d), want) == 0;
    }
  return ok;
}

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* N slow downloads under way, then Cancel all: how long the call takes
 * (every download unwound when it returns), and until no history job
 * runs any more (the cancelled rows written). */
static void
run_cancel_all (TestServer *server,
                const char *dir,
                guint       n,
                guint       in_flight)
{
  g_autoptr(FetcherEngine) engine = engine_new (dir, in_flight);
  GSource *ticker = g_timeout_source_new (1);
  FetcherStats stats = { 0 };
  gint64 start, returned, quiet;
  gint64 wait_until = g_get_monotonic_time () + G_USEC_PER_SEC;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *url = test_server_url (server, "/slow/%u/%u", 64u << 20, i);

      fetcher_engine_add (engine, url);
    }
  while (g_get_monotonic_time () < wait_until)
    g_main_context_iteration (NULL, FALSE);
  start = g_get_monotonic_time ();
  fetcher_engine_cancel_all (engine);
  returned = g_get_monotonic_time ();
  g_source_set_callback (ticker, tick, NULL, NULL);
  g_source_attach (ticker, NULL);
  do
    {
      g_main_context_iteration (NULL, TRUE);
      fetcher_engine_get_stats (engine, &stats);
    }
  while (!all_done (engine) || stats.jobs_running > 0 || g_main_context_pending (NULL));
  quiet = g_get_monotonic_time ();
  g_source_destroy (ticker);
  g_source_unref (ticker);
  g_print ("Cancel all of %u downloads (%u running): returned after %.1f ms, "
           "quiet after %.1f ms\n", n, in_flight, (returned - start) / 1e3, (quiet - start) / 1e3);
}

static TwinEngine *
twin_new (const char *dir,
          guint       in_flight)
{
  const FetcherConfig config = {
    .max_parallel = in_flight,
    .deadline_msec = 600000,
    .stall_msec = 60000,
    .backoff_msec = 100,
  };
  g_autofree char *db = g_build_filename (dir, "history.db", NULL);

  return twin_engine_new (dir, db, &config, NULL);
}

static gboolean
twin_downloads (TestServer *server,
                const char *dir,
                guint       n,
                guint       mib,
                guint       in_flight)
{
  TwinEngine *twin = twin_new (dir, in_flight);
  g_autoptr(GPtrArray) downloads = g_ptr_array_new ();
  gint64 start = g_get_monotonic_time ();
  double cpu = cpu_seconds ();
  gboolean ok = TRUE;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *url = test_server_url (server, "/file/%u/%u", mib << 20, i);

      g_ptr_array_add (downloads, twin_engine_add (twin, url));
    }
  while (!twin_engine_is_quiet (twin))
    g_main_context_iteration (NULL, TRUE);
  g_print ("twin: %u downloads of %u MiB, %u at once: wall %.2f s, CPU %.2f s\n", n, mib,
           in_flight, (g_get_monotonic_time () - start) / 1e6, cpu_seconds () - cpu);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *want = test_server_sha256 ((gsize) mib << 20, i);

      ok &= g_strcmp0 (twin_download_get_sha256 (downloads->pdata[i]), want) == 0;
    }
  twin_engine_free (twin);
  return ok;
}

static void
twin_cancel_all (TestServer *server,
                 const char *dir,
                 guint       n,
                 guint       in_flight)
{
  TwinEngine *twin = twin_new (dir, in_flight);
  gint64 wait_until = g_get_monotonic_time () + G_USEC_PER_SEC;
  gint64 start, returned;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *url = test_server_url (server, "/slow/%u/%u", 64u << 20, i);

      (void) twin_engine_add (twin, url);
    }
  while (g_get_monotonic_time () < wait_until)
    g_main_context_iteration (NULL, FALSE);
  start = g_get_monotonic_time ();
  twin_engine_cancel_all (twin);
  returned = g_get_monotonic_time ();
  while (!twin_engine_is_quiet (twin) || g_main_context_pending (NULL))
    g_main_context_iteration (NULL, TRUE);
  g_print ("twin: Cancel all of %u downloads (%u running): returned after %.1f ms, "
           "quiet after %.1f ms\n", n, in_flight, (returned - start) / 1e3,
           (g_get_monotonic_time () - start) / 1e3);
  twin_engine_free (twin);
}

int
main (int   argc,
      char *argv[])
{
  gboolean twin = argc > 1 && g_strcmp0 (argv[1], "--twin") == 0;
  char **args = twin ? argv + 1 : argv;
  int n_args = twin ? argc - 1 : argc;
  guint n = n_args > 1 ? (guint) atoi (args[1]) : 200;
  guint mib = n_args > 2 ? (guint) atoi (args[2]) : 1;
  guint in_flight = n_args > 3 ? (guint) atoi (args[3]) : 16;
  g_autofree char *dir = g_dir_make_tmp ("kaa-fetcher-bench-XXXXXX", NULL);
  TestServer *server = test_server_start ();
  gboolean ok;

  ok = twin ? twin_downloads (server, dir, n, mib, in_flight)
            : run_downloads (server, dir, n, mib, in_flight);
  test_server_remove_scratch (dir);
  g_mkdir (dir, 0700);
  if (twin)
    twin_cancel_all (server, dir, n, in_flight);
  else
    run_cancel_all (server, dir, n, in_flight);
  test_server_remove_scratch (dir);
  test_server_stop (server);
  if (!ok)
    g_printerr ("bench-fetcher: a file did not match its SHA-256\n");
  return ok ? 0 : 1;
}
