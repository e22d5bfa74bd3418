/* bench-fetcher-common.h: what the fetcher's two benches share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both benches take [--twin] [N [IN_FLIGHT]], download N files of 1 MiB
 * from the tests' server (test-fetcher-server.h, on a thread of its own
 * in the same process) with at most IN_FLIGHT at once, and drive the
 * libkaa engine or the GTask twin through the same FetcherBackend.
 */
#pragma once

#include "fetcher-backend.h"
#include "test-fetcher-server.h"

G_BEGIN_DECLS

#define BENCH_FILE_SIZE (1u << 20)

typedef struct
{
  gboolean    twin;
  guint       n;           /* downloads, 200 */
  guint       in_flight;   /* at once, 16 */
  char       *dir;         /* a scratch directory, removed by bench_finish() */
  TestServer *server;
} Bench;

void            bench_init         (Bench          *bench,
                                    int             argc,
                                    char          **argv);
void            bench_finish       (Bench          *bench);
FetcherBackend *bench_backend_new  (Bench          *bench);
void            bench_add          (Bench          *bench,
                                    FetcherBackend *backend,
                                    const char     *kind,
                                    gsize           size);
gboolean        bench_all_ended    (FetcherBackend *backend);
gboolean        bench_rows_written (FetcherBackend *backend);
gboolean        bench_check_files  (Bench          *bench,
                                    FetcherBackend *backend);
void            bench_backend_free (FetcherBackend *backend);
double          bench_cpu_seconds  (void);

G_END_DECLS
