/* test-fetcher-engine.c: the download manager's engine, without a display
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Against the SoupServer of test-fetcher-server.c: twenty downloads of
 * every kind, with pauses, resumes and cancels, checked byte for byte
 * (SHA-256) and in the history; a type-ahead search cancelled by the
 * next keystroke and by Cancel all, with no job running after its
 * cancel; and the engine dropped mid-work. The fixture checks that no
 * InProgress, coroutine, job or timer is left.
 */
#include <sqlite3.h>
#include <glib/gstdio.h>

#define KAA_TEST_AREA "fetcher"
#include "kaa-test-util.h"

#include "fetcher-engine.h"
#include "test-fetcher-server.h"

#define KIB 1024u

typedef struct
{
  TestServer    *server;
  char          *dir;
  char          *db_path;
  FetcherEngine *engine;
  guint          most_in_flight;
  gdouble        best_rate;
} Env;

typedef struct
{
  FetcherDownload *d;
  char            *url;
  gsize            size;
  guint            seed;
  FetcherState     state;     /* expected */
  gint             code;      /* expected FETCHER_ERROR code when FAILED */
  guint            attempts;  /* expected; 0: at least two */
} Expect;

/* Counts the downloads holding a permit at each change. */
static void
on_changed (FetcherEngine   *engine,
            FetcherDownload *changed,
            gpointer         data)
{
  Env *env = data;
  GPtrArray *downloads = fetcher_engine_get_downloads (engine);
  guint in_flight = 0;

  for (guint i = 0; i < downloads->len; i++)
    {
      FetcherState state = fetcher_download_get_state (g_ptr_array_index (downloads, i));

      in_flight += state == FETCHER_STATE_RUNNING || state == FETCHER_STATE_RETRYING;
    }
  env->most_in_flight = MAX (env->most_in_flight, in_flight);
}

static void
env_setup (Env   *env,
           guint  throttle_usec)
{
  FetcherConfig config = {
    .max_parallel = 4,
    .deadline_msec = 3000,
    .stall_msec = 400,
    .backoff_msec = 50,
    .search_throttle_usec = throttle_usec,
  };
  g_autoptr(GError) error = NULL;

  memset (env, 0, sizeof *env);
  env->server = test_server_start ();
  env->dir = g_dir_make_tmp ("kaa-fetcher-XXXXXX", &error);
  g_assert_no_error (error);
  env->db_path = g_build_filename (env->dir, "history.db", NULL);
  env->engine = fetcher_engine_new (env->dir, env->db_path, &config, &error);
  g_assert_no_error (error);
  g_signal_connect (env->engine, "changed", G_CALLBACK (on_changed), env);
}

static void
env_teardown (Env *env)
{
  g_autoptr(GDir) dir = g_dir_open (env->dir, 0, NULL);
  const char *name;

  g_clear_object (&env->engine);
  test_server_stop (env->server);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (env->dir, name, NULL);

      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (env->dir), ==, 0);
  g_free (env->db_path);
  g_free (env->dir);
}

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the test's context until @done says so, looking again at
 * least every 10 ms (what it looks at may change on another thread, a
 * job's log, without waking the context); the watchdog ends a test that
 * would wait forever. */
static void
pump_until (KaaTestFixture *f,
            gboolean      (*done) (gpointer data),
            gpointer        data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, G_STRLOC);
  GSource *ticker = g_timeout_source_new (10);

  g_source_set_callback (ticker, tick, NULL, NULL);
  g_source_attach (ticker, f->context);
  while (!done (data))
    g_main_context_iteration (f->context, TRUE);
  g_source_destroy (ticker);
  g_source_unref (ticker);
  kaa_test_watchdog_free (watchdog);
}

static gboolean
has_received (gpointer data)
{
  return fetcher_download_get_received (data) > 0;
}

static gboolean
all_settled (gpointer data)
{
  Env *env = data;
  GPtrArray *downloads = fetcher_engine_get_downloads (env->engine);

  for (guint i = 0; i < downloads->len; i++)
    {
      FetcherDownload *d = g_ptr_array_index (downloads, i);
      KaaInProgress *ip = fetcher_download_get_in_progress (d);

      if (fetcher_download_get_state (d) == FETCHER_STATE_RUNNING)
        env->best_rate = MAX (env->best_rate, kaa_in_progress_get_rate (ip));
      if (!kaa_in_progress_is_done (ip))
        return FALSE;
    }
  return TRUE;
}

static void
expect_add (Env          *env,
            Expect       *e,
            FetcherState  state,
            gint          code,
            guint         attempts,
            char         *url)
{
  e->url = url;
  e->state = state;
  e->code = code;
  e->attempts = attempts;
  e->d = fetcher_engine_add (env->engine, url);
  g_assert_nonnull (e->d);
}

/* Twenty downloads, the order they are added in: the kinds that must
 * succeed first, the ones that hold a permit until the deadline last. */
static guint
plan_downloads (Env    *env,
                Expect *e)
{
  TestServer *s = env->server;
  guint n = 0;

  for (guint i = 0; i < 8; i++, n++)
    expect_add (env, &e[n], FETCHER_STATE_DONE, 0, 1,
                test_server_url (s, "/file/%zu/%u", e[n].size = 256 * KIB, e[n].seed = n));
  /* 40 steps of 20 ms: time enough to pause, resume and cancel them. */
  for (guint i = 0; i < 5; i++, n++)
    expect_add (env, &e[n], FETCHER_STATE_DONE, 0, 1,
                test_server_url (s, "/slow/%zu/%u", e[n].size = 640 * KIB, e[n].seed = n));
  for (guint i = 0; i < 2; i++, n++)
    expect_add (env, &e[n], FETCHER_STATE_DONE, 0, 3,
                test_server_url (s, "/fail/2/%zu/%u", e[n].size = 128 * KIB, e[n].seed = n));
  for (guint i = 0; i < 2; i++, n++)
    expect_add (env, &e[n], FETCHER_STATE_DONE, 0, 2,
                test_server_url (s, "/truncated/%zu/%u", e[n].size = 128 * KIB, e[n].seed = n));
  expect_add (env, &e[n], FETCHER_STATE_FAILED, FETCHER_ERROR_HTTP, 1,
              test_server_url (s, "/missing"));
  n++;
  expect_add (env, &e[n], FETCHER_STATE_FAILED, FETCHER_ERROR_GAVE_UP, 0,
              test_server_url (s, "/fail/1000/%u/%u", 64 * KIB, n));
  n++;
  expect_add (env, &e[n], FETCHER_STATE_FAILED, FETCHER_ERROR_GAVE_UP, 0,
              test_server_url (s, "/stall/%u/%u", 256 * KIB, n));
  return n + 1;
}

/* Pauses two slow downloads once their bytes flow and checks that no
 * more arrive while paused; cancels a third, whose file goes at once. */
static void
pause_resume_cancel (KaaTestFixture *f,
                     Expect         *slow)
{
  gint64 received[2];

  for (guint i = 0; i < 2; i++)
    {
      pump_until (f, has_received, slow[i].d);
      fetcher_download_pause (slow[i].d);
      g_assert_true (fetcher_download_is_paused (slow[i].d));
      received[i] = fetcher_download_get_received (slow[i].d);
    }
  pump_until (f, has_received, slow[2].d);
  /* Cancel wins over pause: the download ends, and is not paused any more. */
  fetcher_download_pause (slow[2].d);
  fetcher_download_cancel (slow[2].d);
  slow[2].state = FETCHER_STATE_CANCELLED;
  /* The cancel returned with the download unwound: its file is gone. */
  g_assert_cmpint (fetcher_download_get_state (slow[2].d), ==, FETCHER_STATE_CANCELLED);
  g_assert_false (g_file_test (fetcher_download_get_path (slow[2].d), G_FILE_TEST_EXISTS));

  kaa_test_pump_for (300);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_cmpint (fetcher_download_get_received (slow[i].d), ==, received[i]);
      g_assert_false (kaa_in_progress_is_done (fetcher_download_get_in_progress (slow[i].d)));
      fetcher_download_resume (slow[i].d);
      g_assert_false (fetcher_download_is_paused (slow[i].d));
    }
}

static void
check_download (Expect *e)
{
  FetcherDownload *d = e->d;
  const char *path = fetcher_download_get_path (d);

  g_assert_cmpint (fetcher_download_get_state (d), ==, e->state);
  g_assert_false (fetcher_download_is_paused (d));
  if (e->attempts != 0)
    g_assert_cmpuint (fetcher_download_get_attempts (d), ==, e->attempts);
  else
    g_assert_cmpuint (fetcher_download_get_attempts (d), >=, 2);
  if (e->state == FETCHER_STATE_DONE)
    {
      g_autofree char *contents = NULL;
      g_autofree char *want = test_server_sha256 (e->size, e->seed);
      g_autofree char *have = NULL;
      gsize length = 0;

      g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
      g_assert_cmpuint (length, ==, e->size);
      have = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) contents, length);
      g_assert_cmpstr (have, ==, want);
      g_assert_cmpstr (fetcher_download_get_sha256 (d), ==, want);
      return;
    }
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  if (e->state == FETCHER_STATE_FAILED)
    g_assert_error ((GError *) fetcher_download_get_error (d), FETCHER_ERROR, e->code);
  else
    g_assert_cmpint (kaa_in_progress_get_state (fetcher_download_get_in_progress (d)), ==,
                     KAA_STATE_CANCELLED);
}

static const char *
state_name (FetcherState state)
{
  return state == FETCHER_STATE_DONE ? "done"
         : state == FETCHER_STATE_FAILED ? "failed" : "cancelled";
}

/* Reads the database behind the engine's back: one row per download,
 * with its end and its checksum. */
static void
check_history (Env    *env,
               Expect *expect,
               guint   n,
               gint64  other_rows)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_open_v2 (env->db_path, &db, SQLITE_OPEN_READONLY, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM downloads", -1, &stmt, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int64 (stmt, 0), ==, n + other_rows);
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT state, sha256 FROM downloads WHERE url = ?1",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  for (guint i = 0; i < n; i++)
    {
      sqlite3_bind_text (stmt, 1, expect[i].url, -1, SQLITE_STATIC);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
      g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==,
                       state_name (expect[i].state));
      g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 1), ==,
                       fetcher_download_get_sha256 (expect[i].d));
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
      sqlite3_reset (stmt);
    }
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

static void
close_engine (KaaTestFixture *f,
              Env            *env)
{
  g_autoptr(KaaInProgress) closed = fetcher_engine_close (env->engine);
  g_autoptr(GError) error = NULL;

  kaa_test_pump_until_done (f->context, closed);
  g_assert_true (kaa_in_progress_propagate (closed, &error));
  g_assert_no_error (error);
  g_assert_null (fetcher_engine_add (env->engine, "http://127.0.0.1:1/late"));
}

static void
test_downloads (KaaTestFixture *f,
                gconstpointer   data)
{
  Env env;
  Expect expect[20] = { { 0 } };
  guint n;

  env_setup (&env, 0);
  n = plan_downloads (&env, expect);
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (expect));
  pause_resume_cancel (f, &expect[8]);
  pump_until (f, all_settled, &env);
  g_assert_cmpuint (env.most_in_flight, ==, 4);
  g_assert_cmpfloat (env.best_rate, >, 0);
  for (guint i = 0; i < n; i++)
    check_download (&expect[i]);
  close_engine (f, &env);
  check_history (&env, expect, n, 0);
  env_teardown (&env);
  for (guint i = 0; i < n; i++)
    g_free (expect[i].url);
}

#define SEED_ROWS 50000

static void
seed (KaaTestFixture *f,
      Env            *env)
{
  g_autoptr(KaaInProgress) seeded = fetcher_engine_seed_history (env->engine, SEED_ROWS);

  kaa_test_pump_until_done (f->context, seeded);
  g_assert_true (kaa_in_progress_propagate (seeded, NULL));
}

/* How many seeded rows a search for "archive-PREFIX" finds, counted
 * here the way the seeding statement names them. */
static guint
expected_matches (const char *prefix)
{
  guint n = 0;

  for (guint i = 1; i <= SEED_ROWS; i++)
    {
      g_autofree char *number = g_strdup_printf ("%u", i * 7919 % 10007);

      n += g_str_has_prefix (number, prefix);
    }
  return n;
}

typedef struct
{
  FetcherEngine *engine;
  const char    *text;
} Started;

/* The search for @text got past its job's first check. */
static gboolean
search_started (gpointer data)
{
  Started *started = data;
  g_autoptr(GArray) log = fetcher_engine_dup_job_log (started->engine);

  for (guint i = 0; i < log->len; i++)
    if (g_strcmp0 (g_array_index (log, FetcherJobLog, i).text, started->text) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
no_job_running (gpointer data)
{
  FetcherStats stats;

  fetcher_engine_get_stats (data, &stats);
  return stats.jobs_running == 0;
}

/* Every search job began before its search was cancelled (the time is
 * taken after the cancelling call returned), and the last one, running
 * at Cancel all, was interrupted. */
static void
check_job_log (FetcherEngine *engine,
               const char    *const *texts,
               const gint64  *cancelled_at,
               guint          n)
{
  g_autoptr(GArray) log = fetcher_engine_dup_job_log (engine);
  gboolean last_ran = FALSE;

  for (guint i = 0; i < log->len; i++)
    {
      FetcherJobLog *entry = &g_array_index (log, FetcherJobLog, i);

      for (guint j = 0; j < n; j++)
        if (g_strcmp0 (entry->text, texts[j]) == 0)
          {
            g_assert_cmpint (entry->started_at, <, cancelled_at[j]);
            g_assert_cmpint (entry->ended_at, >=, entry->started_at);
            last_ran |= j == n - 1;
            if (j == n - 1)
              g_assert_true (entry->interrupted);
          }
    }
  g_assert_true (last_ran);
}

static void
check_fresh_search (KaaTestFixture *f,
                    Env            *env)
{
  g_autoptr(KaaInProgress) search = fetcher_engine_search (env->engine, "archive-77");
  GPtrArray *rows;

  kaa_test_pump_until_done (f->context, search);
  g_assert_true (kaa_in_progress_propagate (search, NULL));
  rows = kaa_in_progress_get_pointer (search);
  g_assert_cmpuint (rows->len, ==, expected_matches ("77"));
  g_assert_cmpuint (rows->len, >, 0);
}

/* Type-ahead: each keystroke's search cancels the one before; then
 * Cancel all while the last one's query runs, with downloads going. */
static void
test_search_cancel (KaaTestFixture *f,
                    gconstpointer   data)
{
  static const char *const texts[] = { "archive-1", "archive-12", "archive-123" };
  KaaInProgress *searches[G_N_ELEMENTS (texts)];
  gint64 cancelled_at[G_N_ELEMENTS (texts)];
  Expect expect[3] = { { 0 } };
  Started started;
  Env env;

  env_setup (&env, 500);
  seed (f, &env);
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    expect_add (&env, &expect[i], FETCHER_STATE_CANCELLED, 0, 1,
                test_server_url (env.server, "/slow/%u/%u", 640 * KIB, i));
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      searches[i] = fetcher_engine_search (env.engine, texts[i]);
      if (i > 0)
        cancelled_at[i - 1] = g_get_monotonic_time ();
    }
  started = (Started) { env.engine, texts[2] };
  pump_until (f, search_started, &started);
  fetcher_engine_cancel_all (env.engine);
  cancelled_at[2] = g_get_monotonic_time ();
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_assert_cmpint (kaa_in_progress_get_state (searches[i]), ==, KAA_STATE_CANCELLED);
      kaa_in_progress_unref (searches[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    check_download (&expect[i]);
  pump_until (f, no_job_running, env.engine);
  check_job_log (env.engine, texts, cancelled_at, G_N_ELEMENTS (texts));
  check_fresh_search (f, &env);
  close_engine (f, &env);
  check_history (&env, expect, G_N_ELEMENTS (expect), SEED_ROWS);
  env_teardown (&env);
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    g_free (expect[i].url);
}

/* What the window's close does: the engine goes mid-work, and with it
 * every download and search, at once. */
static void
test_drop_mid_work (KaaTestFixture *f,
                    gconstpointer   data)
{
  Expect expect[4] = { { 0 } };
  KaaInProgress *ips[G_N_ELEMENTS (expect) + 1];
  Started started;
  Env env;

  env_setup (&env, 500);
  seed (f, &env);
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    expect_add (&env, &expect[i], FETCHER_STATE_CANCELLED, 0, 1,
                test_server_url (env.server, "/slow/%u/%u", 640 * KIB, i));
  ips[G_N_ELEMENTS (expect)] = fetcher_engine_search (env.engine, "archive-5");
  started = (Started) { env.engine, "archive-5" };
  pump_until (f, search_started, &started);
  pump_until (f, has_received, expect[0].d);
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      ips[i] = kaa_in_progress_ref (fetcher_download_get_in_progress (expect[i].d));
      g_free (expect[i].url);
      expect[i].url = g_strdup (fetcher_download_get_path (expect[i].d));
    }
  g_clear_object (&env.engine);
  for (guint i = 0; i < G_N_ELEMENTS (ips); i++)
    {
      g_assert_cmpint (kaa_in_progress_get_state (ips[i]), ==, KAA_STATE_CANCELLED);
      kaa_in_progress_unref (ips[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      g_assert_false (g_file_test (expect[i].url, G_FILE_TEST_EXISTS));
      g_free (expect[i].url);
    }
  env_teardown (&env);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  KAA_TEST_ADD ("downloads", test_downloads);
  KAA_TEST_ADD ("search-cancel", test_search_cancel);
  KAA_TEST_ADD ("drop-mid-work", test_drop_mid_work);
  return g_test_run ();
}
