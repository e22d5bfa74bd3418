/* test-fetcher-twin.c: the GTask twin of the engine, against the same server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The twin (twin-engine.c) must behave as the engine does for what it
 * has: files byte for byte, retries, deadlines, the stall timer, 4xx,
 * Cancel all, and a search that cancels the one before it. Without
 * this the figures of docs/fetcher.md would compare unlike things.
 */
#include <sqlite3.h>

#include "twin-engine.h"
#include "test-fetcher-server.h"

#define KIB 1024u

typedef struct
{
  TwinDownload *d;
  gsize         size;
  guint         seed;
  FetcherState  state;
  gint          code;      /* FETCHER_ERROR code when FAILED; -1 for G_IO_ERROR_CANCELLED */
  guint         attempts;  /* 0: at least two */
} Expect;

static void
iterate_until (gboolean (*done) (gpointer data),
               gpointer   data)
{
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

  while (!done (data))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static gboolean
first_settled (gpointer data)
{
  Expect *expect = data;

  for (guint i = 0; expect[i].d != NULL; i++)
    if (expect[i].state != FETCHER_STATE_CANCELLED &&
        twin_download_get_state (expect[i].d) < FETCHER_STATE_DONE)
      return FALSE;
  return TRUE;
}

static gboolean
quiet (gpointer engine)
{
  return twin_engine_is_quiet (engine);
}

static void
add (TwinEngine   *twin,
     TestServer   *server,
     Expect       *e,
     FetcherState  state,
     gint          code,
     guint         attempts,
     const char   *kind,
     gsize         size,
     guint         seed)
{
  g_autofree char *url = test_server_url (server, "/%s/%zu/%u", kind, size, seed);

  *e = (Expect) { twin_engine_add (twin, url), size, seed, state, code, attempts };
}

static void
check (Expect *e)
{
  g_assert_cmpint (twin_download_get_state (e->d), ==, e->state);
  if (e->state == FETCHER_STATE_CANCELLED)
    ;                            /* cancelled in line or under way */
  else if (e->attempts != 0)
    g_assert_cmpuint (twin_download_get_attempts (e->d), ==, e->attempts);
  else
    g_assert_cmpuint (twin_download_get_attempts (e->d), >=, 2);
  if (e->state == FETCHER_STATE_DONE)
    {
      g_autofree char *want = test_server_sha256 (e->size, e->seed);

      g_assert_cmpstr (twin_download_get_sha256 (e->d), ==, want);
    }
  else if (e->code >= 0)
    g_assert_error ((GError *) twin_download_get_error (e->d), FETCHER_ERROR, e->code);
  else
    g_assert_error ((GError *) twin_download_get_error (e->d), G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static const FetcherConfig config = {
  .max_parallel = 4,
  .deadline_msec = 3000,
  .stall_msec = 400,
  .backoff_msec = 50,
};

static void
test_twin_downloads (void)
{
  TestServer *server = test_server_start ();
  g_autofree char *dir = g_dir_make_tmp ("kaa-twin-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "history.db", NULL);
  TwinEngine *twin = twin_engine_new (dir, db, &config, NULL);
  Expect e[20] = { { 0 } };
  guint n = 0;

  for (guint i = 0; i < 6; i++, n++)
    add (twin, server, &e[n], FETCHER_STATE_DONE, 0, 1, "file", 256 * KIB, n);
  for (guint i = 0; i < 2; i++, n++)
    add (twin, server, &e[n], FETCHER_STATE_DONE, 0, 3, "fail/2", 128 * KIB, n);
  for (guint i = 0; i < 2; i++, n++)
    add (twin, server, &e[n], FETCHER_STATE_DONE, 0, 2, "truncated", 128 * KIB, n);
  add (twin, server, &e[n++], FETCHER_STATE_FAILED, FETCHER_ERROR_HTTP, 1, "missing", 0, 0);
  add (twin, server, &e[n++], FETCHER_STATE_FAILED, FETCHER_ERROR_GAVE_UP, 0, "fail/1000",
       64 * KIB, 0);
  add (twin, server, &e[n++], FETCHER_STATE_FAILED, FETCHER_ERROR_GAVE_UP, 0, "stall",
       256 * KIB, 0);
  iterate_until (first_settled, e);
  /* 64 MiB at 800 KiB/s, 6 of them with 4 slots: some under way, some
   * in line at Cancel all, well before their deadline. */
  for (guint i = 0; i < 6; i++, n++)
    add (twin, server, &e[n], FETCHER_STATE_CANCELLED, -1, 0, "slow", 64 * 1024 * KIB, n);
  while (twin_download_get_attempts (e[n - 6].d) == 0)
    g_main_context_iteration (NULL, TRUE);
  g_usleep (100 * 1000);
  g_main_context_iteration (NULL, FALSE);
  twin_engine_cancel_all (twin);
  iterate_until (quiet, twin);
  for (guint i = 0; i < n; i++)
    check (&e[i]);
  twin_engine_free (twin);
  g_assert_true (test_server_remove_scratch (dir));
  test_server_stop (server);
}

typedef struct
{
  GPtrArray      *rows;
  GError         *error;
  gboolean        done;
  FetcherBackend *backend;   /* the twin's callbacks have no source object */
} Result;

static void
on_search (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  Result *r = data;

  r->rows = twin_engine_search_finish (NULL, result, &r->error);
  r->done = TRUE;
}

static gboolean
result_done (gpointer data)
{
  return ((Result *) data)->done;
}

/* The same table and rows as the engine's seed. */
static void
make_history (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db,
    "CREATE TABLE IF NOT EXISTS downloads (id INTEGER PRIMARY KEY, url TEXT NOT NULL, state TEXT NOT NULL,"
    " bytes INTEGER NOT NULL, sha256 TEXT);"
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)"
    " INSERT INTO downloads (url, state, bytes, sha256)"
    " SELECT 'https://mirror.example/pub/' || i || '/archive-' || (i * 7919 % 10007)"
    " || '.tar.xz', 'done', i * 1024, NULL FROM n", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

static void
test_twin_search (void)
{
  g_autofree char *dir = g_dir_make_tmp ("kaa-twin-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "history.db", NULL);
  TwinEngine *twin = twin_engine_new (dir, db, &config, NULL);
  Result first = { 0 }, second = { 0 };
  guint want = 0;

  make_history (db);
  for (guint i = 1; i <= 50000; i++)
    {
      g_autofree char *number = g_strdup_printf ("%u", i * 7919 % 10007);

      want += g_str_has_prefix (number, "12");
    }
  twin_engine_search (twin, "archive-1", on_search, &first);
  twin_engine_search (twin, "archive-12", on_search, &second);
  iterate_until (result_done, &first);
  iterate_until (result_done, &second);
  g_assert_error (first.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (first.rows);
  g_assert_no_error (second.error);
  g_assert_cmpuint (second.rows->len, ==, want);
  g_clear_error (&first.error);
  g_ptr_array_unref (second.rows);
  twin_engine_free (twin);
  g_assert_true (test_server_remove_scratch (dir));
}

typedef struct
{
  FetcherBackend *backend;
  gboolean        rated;     /* a running row had a rate and an ETA */
  guint           changes;
} Watch;

static void
on_row_changed (FetcherBackend *backend,
                guint           id,
                gpointer        data)
{
  Watch *watch = data;
  FetcherRowInfo info;

  g_assert_true (fetcher_backend_get_row (backend, id, &info));
  watch->changes++;
  if (info.state == FETCHER_STATE_RUNNING && info.rate > 0 && info.eta >= 0)
    watch->rated = TRUE;
}

static gboolean
no_twin_alive (gpointer data)
{
  return twin_engine_get_n_alive () == 0;
}

static gboolean
backend_quiet (gpointer backend)
{
  FetcherBackendStats stats;

  fetcher_backend_get_stats (backend, &stats);
  return stats.active == 0 && stats.jobs_running == 0 && stats.rows_pending == 0;
}

static void
on_backend_search (GObject      *source,
                   GAsyncResult *result,
                   gpointer      data)
{
  Result *r = data;

  r->rows = fetcher_backend_search_finish (r->backend, result, &r->error);
  r->done = TRUE;
}

typedef struct
{
  TestServer     *server;
  char           *dir;
  FetcherBackend *backend;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *db = NULL;

  f->server = test_server_start ();
  f->dir = g_dir_make_tmp ("kaa-twin-XXXXXX", NULL);
  db = g_build_filename (f->dir, "history.db", NULL);
  f->backend = twin_backend_new (f->dir, db, &config, NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_object_unref (f->backend);
  iterate_until (no_twin_alive, NULL);     /* freed from an idle */
  g_assert_true (test_server_remove_scratch (f->dir));
  g_free (f->dir);
  test_server_stop (f->server);
}

static void
add_slow (Fixture *f,
          guint    n,
          gsize    size)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *url = test_server_url (f->server, "/slow/%zu/%u", size, i);

      g_assert_cmpuint (fetcher_backend_add (f->backend, url), !=, 0);
    }
}

/* The twin behind FetcherBackend: rows with a rate and an ETA while they
 * run, the server's SHA-256, a history row each written by its GTasks,
 * and no pause. */
static void
test_twin_backend (Fixture       *f,
                   gconstpointer  data)
{
  Watch watch = { f->backend };
  Result found = { .backend = f->backend };
  FetcherRowInfo info;

  g_signal_connect (f->backend, "row-changed", G_CALLBACK (on_row_changed), &watch);
  g_assert_false (fetcher_backend_can_pause (f->backend));
  add_slow (f, 3, 640 * KIB);
  g_assert_false (fetcher_backend_pause (f->backend, 1));
  iterate_until (backend_quiet, f->backend);
  g_assert_true (watch.rated);
  for (guint i = 1; i <= 3; i++)
    {
      g_autofree char *want = test_server_sha256 (640 * KIB, i - 1);

      g_assert_true (fetcher_backend_get_row (f->backend, i, &info));
      g_assert_cmpint (info.state, ==, FETCHER_STATE_DONE);
      g_assert_cmpstr (info.sha256, ==, want);
    }
  fetcher_backend_search_async (f->backend, "/slow/", on_backend_search, &found);
  iterate_until (result_done, &found);
  g_assert_no_error (found.error);
  g_assert_cmpuint (found.rows->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (((FetcherRecord *) found.rows->pdata[i])->state, ==, "done");
  g_ptr_array_unref (found.rows);
}

/* Its owner goes mid-work: the twin closes, takes no more downloads,
 * starts no attempt, and its live counters go to zero. */
static void
test_twin_close (Fixture       *f,
                 gconstpointer  data)
{
  GObject *owner = g_object_new (G_TYPE_OBJECT, NULL);
  FetcherBackendStats stats;
  FetcherRowInfo info;
  gint64 closed_at;

  fetcher_backend_bind (f->backend, owner);
  add_slow (f, 6, 64 * 1024 * KIB);
  while (!fetcher_backend_get_row (f->backend, 1, &info) || info.received == 0)
    g_main_context_iteration (NULL, TRUE);
  g_object_unref (owner);
  closed_at = g_get_monotonic_time ();
  g_assert_cmpuint (fetcher_backend_add (f->backend, "http://127.0.0.1:1/x"), ==, 0);
  iterate_until (backend_quiet, f->backend);
  fetcher_backend_get_stats (f->backend, &stats);
  g_assert_cmpint (stats.last_attempt_at, <, closed_at);
  for (guint i = 1; i <= 6; i++)
    {
      g_assert_true (fetcher_backend_get_row (f->backend, i, &info));
      g_assert_cmpint (info.state, ==, FETCHER_STATE_CANCELLED);
      g_assert_false (g_file_test (info.path, G_FILE_TEST_EXISTS));
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fetcher/twin/downloads", test_twin_downloads);
  g_test_add_func ("/fetcher/twin/search", test_twin_search);
  g_test_add ("/fetcher/twin/backend", Fixture, NULL, fixture_set_up, test_twin_backend,
              fixture_tear_down);
  g_test_add ("/fetcher/twin/close", Fixture, NULL, fixture_set_up, test_twin_close,
              fixture_tear_down);
  return g_test_run ();
}
