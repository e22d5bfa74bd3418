/* bench-fetcher-common.c: what the fetcher's two benches share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <sys/resource.h>
#include <glib/gstdio.h>

#include "bench-fetcher-common.h"
#include "twin-engine.h"

/* [--twin] [N [IN_FLIGHT]]; a scratch directory and the server. */
void
bench_init (Bench  *bench,
            int     argc,
            char  **argv)
{
  bench->twin = argc > 1 && g_strcmp0 (argv[1], "--twin") == 0;
  if (bench->twin)
    argc--, argv++;
  bench->n = argc > 1 ? (guint) atoi (argv[1]) : 200;
  bench->in_flight = argc > 2 ? (guint) atoi (argv[2]) : 16;
  bench->dir = g_dir_make_tmp ("kaa-fetcher-bench-XXXXXX", NULL);
  bench->server = test_server_start ();
}

void
bench_finish (Bench *bench)
{
  test_server_stop (bench->server);
  test_server_remove_scratch (bench->dir);
  g_free (bench->dir);
}

/* No deadline or stall that a loaded machine could reach. */
FetcherBackend *
bench_backend_new (Bench *bench)
{
  const FetcherConfig config = {
    .max_parallel = bench->in_flight,
    .deadline_msec = 600000,
    .stall_msec = 60000,
    .backoff_msec = 100,
  };
  g_autofree char *db = g_build_filename (bench->dir, "history.db", NULL);
  g_autoptr(GError) error = NULL;
  FetcherBackend *backend;

  g_mkdir_with_parents (bench->dir, 0700);
  backend = bench->twin ? twin_backend_new (bench->dir, db, &config, &error)
                        : (FetcherBackend *) fetcher_engine_new (bench->dir, db, &config, &error);
  if (backend == NULL)
    g_error ("bench-fetcher: %s", error->message);
  return backend;
}

/* N downloads of /KIND/SIZE/SEED, the seed being the index. */
void
bench_add (Bench          *bench,
           FetcherBackend *backend,
           const char     *kind,
           gsize           size)
{
  for (guint i = 0; i < bench->n; i++)
    {
      g_autofree char *url = test_server_url (bench->server, "/%s/%zu/%u", kind, size, i);

      fetcher_backend_add (backend, url);
    }
}

gboolean
bench_all_ended (FetcherBackend *backend)
{
  FetcherBackendStats stats;

  fetcher_backend_get_stats (backend, &stats);
  return stats.active == 0;
}

/* Every ended download's history row written, no history job running. */
gboolean
bench_rows_written (FetcherBackend *backend)
{
  FetcherBackendStats stats;

  fetcher_backend_get_stats (backend, &stats);
  return stats.rows_pending == 0 && stats.jobs_running == 0;
}

/* Every download done, with the server's SHA-256. */
gboolean
bench_check_files (Bench          *bench,
                   FetcherBackend *backend)
{
  gboolean ok = TRUE;

  for (guint i = 0; i < bench->n; i++)
    {
      g_autofree char *want = test_server_sha256 (BENCH_FILE_SIZE, i);
      FetcherRowInfo info;

      ok &= fetcher_backend_get_row (backend, i + 1, &info) &&
            g_strcmp0 (info.sha256, want) == 0;
    }
  if (!ok)
    g_printerr ("bench-fetcher: a file did not match its SHA-256\n");
  return ok;
}

/* Lets go of @backend, and waits for a twin to be freed: it goes once
 * its last callback came back. */
void
bench_backend_free (FetcherBackend *backend)
{
  g_object_unref (backend);
  while (twin_engine_get_n_alive () > 0)
    g_main_context_iteration (NULL, TRUE);
}

/* User and system time of the process, the server's thread included. */
double
bench_cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}
