/* fetcher-history.c: the download history in SQLite, on a libkaa thread pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every query is a thread-pool job, so nothing blocks the main loop.
 * Cancelling a job reaches SQLite two ways: its GCancellable calls
 * sqlite3_interrupt() on the job's connection, which stops a statement
 * at once, and the progress handler, which SQLite calls every
 * PROGRESS_STEPS instructions, stops one that started after the
 * interrupt (an interrupt with no statement running is lost). The same
 * handler reports how far a scan got and holds the job while it is
 * paused (kaa_thread_job_check() blocks then).
 *
 * Writes go through one connection, under a mutex; each search opens a
 * connection of its own, so that interrupting it cannot reach a write
 * or the next search (sqlite3_interrupt() stops every statement of a
 * connection). WAL lets the searches read while a write goes on.
 */
#include <sqlite3.h>

#include "fetcher-private.h"

#define PROGRESS_STEPS 1000   /* VM instructions between two progress calls */

/* What the jobs share; a job may outlive the history (a cancelled job
 * ends on its thread later), so it holds a reference. */
typedef struct
{
  char    *path;
  guint    throttle_usec;
  GMutex   write_lock;     /* one writer at a time on @writer */
  sqlite3 *writer;
  GMutex   log_lock;
  GArray  *log;            /* FetcherJobLog, under @log_lock */
  FetcherStats stats;      /* atomics */
} FetcherDb;

struct _FetcherHistory
{
  FetcherDb     *db;
  KaaThreadPool *pool;
  KaaChannel    *records;   /* FetcherRecord, to the writer coroutine */
  KaaInProgress *writer;
  GObject       *search_key; /* the searches' PASS_LAST state is this object's */
};

/* One job's data. */
typedef struct
{
  FetcherDb     *db;
  FetcherRecord *record;    /* to insert */
  char          *text;      /* to search for */
  guint          n_rows;    /* to seed */
  KaaThreadJob  *job;       /* while it runs, for the progress handler */
  sqlite3_stmt  *stmt;      /* the scan whose progress is reported */
  gint64         total;     /* rows in the table, for the progress */
  guint          log_index;
} Job;

static void
fetcher_db_free (FetcherDb *db)
{
  sqlite3_close (db->writer);
  g_mutex_clear (&db->write_lock);
  g_mutex_clear (&db->log_lock);
  for (guint i = 0; i < db->log->len; i++)
    g_free (g_array_index (db->log, FetcherJobLog, i).text);
  g_array_unref (db->log);
  g_free (db->path);
}

static void
job_free (gpointer data)
{
  Job *job = data;

  g_atomic_rc_box_release_full (job->db, (GDestroyNotify) fetcher_db_free);
  g_clear_pointer (&job->record, fetcher_record_free);
  g_free (job->text);
  g_free (job);
}

static Job *
job_new (FetcherHistory *history)
{
  Job *job = g_new0 (Job, 1);

  job->db = g_atomic_rc_box_acquire (history->db);
  return job;
}

void
fetcher_record_free (FetcherRecord *record)
{
  g_free (record->url);
  g_free (record->state);
  g_free (record->sha256);
  g_free (record);
}

static gboolean
sql_failed (sqlite3  *conn,
            int       rc,
            GError  **error)
{
  if (rc == SQLITE_INTERRUPT)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The query was interrupted");
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "SQLite: %s", sqlite3_errmsg (conn));
  return FALSE;
}

/* ------------------------------------------------------------ the log */

/* Notes that a job of @kind starts, for the tests' "no job ran after its
 * cancel": the time is taken before the job's check, so a job that got
 * past the check started before any cancel that it missed. */
static gboolean
job_begin (Job          *job,
           KaaThreadJob *thread_job,
           const char   *kind)
{
  FetcherJobLog entry = { 0 };

  entry.kind = kind;
  entry.text = g_strdup (job->text);
  entry.started_at = g_get_monotonic_time ();
  if (!kaa_thread_job_check (thread_job))
    {
      g_free (entry.text);
      return FALSE;
    }
  job->job = thread_job;
  g_atomic_int_inc (&job->db->stats.jobs_started);
  g_atomic_int_inc (&job->db->stats.jobs_running);
  g_mutex_lock (&job->db->log_lock);
  job->log_index = job->db->log->len;
  g_array_append_val (job->db->log, entry);
  g_mutex_unlock (&job->db->log_lock);
  return TRUE;
}

static void
job_end (Job *job,
         int  rc)
{
  FetcherJobLog *entry;

  if (rc == SQLITE_INTERRUPT)
    g_atomic_int_inc (&job->db->stats.interrupted);
  g_mutex_lock (&job->db->log_lock);
  entry = &g_array_index (job->db->log, FetcherJobLog, job->log_index);
  entry->ended_at = g_get_monotonic_time ();
  entry->interrupted = rc == SQLITE_INTERRUPT;
  g_mutex_unlock (&job->db->log_lock);
  g_atomic_int_dec_and_test (&job->db->stats.jobs_running);
}

/* ------------------------------------------------------- SQLite hooks */

static int
on_progress (void *data)
{
  Job *job = data;

  g_atomic_int_inc (&job->db->stats.progress_ticks);
  if (job->db->throttle_usec > 0)
    g_usleep (job->db->throttle_usec);
  if (job->stmt != NULL && job->total > 0)
    {
      gint64 seen = sqlite3_stmt_status (job->stmt, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0);

      kaa_thread_job_set_progress (job->job, MIN (seen, job->total), job->total);
    }
  /* Blocks while the job is paused; non-zero makes SQLite stop with
   * SQLITE_INTERRUPT once it is cancelled. */
  return kaa_thread_job_check (job->job) ? 0 : 1;
}

static void
interrupt_query (GCancellable *cancellable,
                 gpointer      conn)
{
  sqlite3_interrupt (conn);
}

/* Runs @job's statements on @conn with the hooks above in place; @run
 * returns an SQLite result code. */
static int
with_hooks (Job          *job,
            sqlite3      *conn,
            int         (*run) (Job *job, sqlite3 *conn, gpointer out),
            gpointer      out)
{
  GCancellable *cancellable = kaa_thread_job_get_cancellable (job->job);
  gulong handler;
  int rc;

  sqlite3_progress_handler (conn, PROGRESS_STEPS, on_progress, job);
  /* Disconnecting waits for a handler running on another thread, so the
   * connection is never interrupted after it was handed back. */
  handler = g_cancellable_connect (cancellable, G_CALLBACK (interrupt_query), conn, NULL);
  rc = run (job, conn, out);
  g_cancellable_disconnect (cancellable, handler);
  sqlite3_progress_handler (conn, 0, NULL, NULL);
  return rc;
}

/* ------------------------------------------------------------- writes */

static int
insert_rows (Job      *job,
             sqlite3  *conn,
             gpointer  out)
{
  FetcherRecord *record = job->record;
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (conn, "INSERT INTO downloads (url, state, bytes, sha256)"
                                 " VALUES (?1, ?2, ?3, ?4)", -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    return rc;
  sqlite3_bind_text (stmt, 1, record->url, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, record->state, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, record->bytes);
  sqlite3_bind_text (stmt, 4, record->sha256, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Fills the table with @n_rows made-up downloads in one statement: a
 * history big enough for the search to take its time. */
static int
seed_rows (Job      *job,
           sqlite3  *conn,
           gpointer  out)
{
  g_autofree char *sql = g_strdup_printf (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %u)"
    " INSERT INTO downloads (url, state, bytes, sha256)"
    " SELECT 'https://mirror.example/pub/' || i || '/archive-' || (i * 7919 %% 10007)"
    " || '.tar.xz', 'done', i * 1024, NULL FROM n", job->n_rows);

  return sqlite3_exec (conn, sql, NULL, NULL, NULL);
}

/* The writer's jobs: @user_data's rows go in under the write lock. */
static gpointer
write_job (KaaThreadJob *thread_job,
           gpointer      user_data,
           GError      **error)
{
  Job *job = user_data;
  int rc;

  if (!job_begin (job, thread_job, job->record != NULL ? "insert" : "seed"))
    return NULL;
  g_mutex_lock (&job->db->write_lock);
  rc = with_hooks (job, job->db->writer, job->record != NULL ? insert_rows : seed_rows, NULL);
  if (rc != SQLITE_OK)
    sql_failed (job->db->writer, rc, error);
  g_mutex_unlock (&job->db->write_lock);
  job_end (job, rc);
  return NULL;
}

/* ------------------------------------------------------------ searches */

static FetcherRecord *
record_from_row (sqlite3_stmt *stmt)
{
  FetcherRecord *record = g_new0 (FetcherRecord, 1);

  record->id = sqlite3_column_int64 (stmt, 0);
  record->url = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  record->state = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  record->bytes = sqlite3_column_int64 (stmt, 3);
  record->sha256 = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
  return record;
}

/* LIKE's wildcards in what the user typed stand for themselves. */
static char *
like_pattern (const char *text)
{
  GString *pattern = g_string_new ("%");

  for (const char *c = text; *c != '\0'; c++)
    {
      if (*c == '%' || *c == '_' || *c == '\\')
        g_string_append_c (pattern, '\\');
      g_string_append_c (pattern, *c);
    }
  g_string_append_c (pattern, '%');
  return g_string_free (pattern, FALSE);
}

static int
count_rows (Job     *job,
            sqlite3 *conn)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (conn, "SELECT count(*) FROM downloads", -1, &stmt, NULL);

  if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      job->total = sqlite3_column_int64 (stmt, 0);
      rc = SQLITE_OK;
    }
  sqlite3_finalize (stmt);
  return rc;
}

static int
search_rows (Job      *job,
             sqlite3  *conn,
             gpointer  out)
{
  GPtrArray *rows = out;
  g_autofree char *pattern = like_pattern (job->text);
  int rc = count_rows (job, conn);

  if (rc != SQLITE_OK)
    return rc;
  rc = sqlite3_prepare_v2 (conn, "SELECT id, url, state, bytes, sha256 FROM downloads"
                                 " WHERE url LIKE ?1 ESCAPE '\\' ORDER BY id",
                           -1, &job->stmt, NULL);
  if (rc != SQLITE_OK)
    return rc;
  sqlite3_bind_text (job->stmt, 1, pattern, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (job->stmt)) == SQLITE_ROW)
    g_ptr_array_add (rows, record_from_row (job->stmt));
  g_clear_pointer (&job->stmt, sqlite3_finalize);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* A search on a connection of its own (see the top of the file); the
 * job finishes with a GPtrArray of FetcherRecord. */
static gpointer
search_job (KaaThreadJob *thread_job,
            gpointer      user_data,
            GError      **error)
{
  Job *job = user_data;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) fetcher_record_free);
  sqlite3 *conn = NULL;
  int rc;

  if (!job_begin (job, thread_job, "search"))
    return NULL;
  rc = sqlite3_open_v2 (job->db->path, &conn, SQLITE_OPEN_READONLY, NULL);
  if (rc == SQLITE_OK)
    rc = with_hooks (job, conn, search_rows, rows);
  if (rc == SQLITE_OK)
    kaa_thread_job_return_pointer (thread_job, g_steal_pointer (&rows),
                                   (GDestroyNotify) g_ptr_array_unref);
  else
    sql_failed (conn, rc, error);
  sqlite3_close (conn);
  job_end (job, rc);
  return NULL;
}

typedef struct
{
  FetcherHistory *history;
  char           *text;
} SearchCall;

static void
search_call_free (gpointer data)
{
  SearchCall *call = data;

  g_free (call->text);
  g_free (call);
}

/* Type-ahead: each call cancels the one before it, which it sees through
 * KAA_POLICY_PASS_LAST. The cancel reaches that call's job: a queued job
 * never runs, a running query is interrupted. A scope per query would do
 * the same with more code; SINGLETON would hand the newest keystroke the
 * stale query's result. */
static void
search_body (KaaCoroutine *co,
             gpointer      user_data)
{
  SearchCall *call = user_data;
  KaaInProgress *last = kaa_coroutine_get_last (co);
  g_autoptr(KaaInProgress) query = NULL;
  g_autoptr(GError) error = NULL;
  Job *job;

  if (last != NULL)
    kaa_in_progress_cancel (last);
  job = job_new (call->history);
  job->text = g_strdup (call->text);
  query = kaa_thread_pool_run (call->history->pool, 0, search_job, job, job_free);
  if (!kaa_await_borrowed (query, &error))
    {
      if (!kaa_coroutine_is_cancelled (co))
        kaa_coroutine_throw (co, g_steal_pointer (&error));
      return;
    }
  kaa_coroutine_return_pointer (co, g_ptr_array_ref (kaa_in_progress_get_pointer (query)),
                                (GDestroyNotify) g_ptr_array_unref);
}

static const KaaCoroutineDef search_def = {
  .name = "fetcher-search",
  .func = search_body,
  .policy = KAA_POLICY_PASS_LAST,
};

/* The policy's state is kept per history, on an object of its own: kaa
 * holds the instance alive while a call runs, which would keep the
 * engine (and its downloads) alive past its owner's last unref. */
KaaInProgress *
fetcher_history_search (FetcherHistory *history,
                        const char     *text)
{
  SearchCall *call = g_new0 (SearchCall, 1);

  call->history = history;
  call->text = g_strdup (text);
  return kaa_coroutine_spawn_def (&search_def, history->search_key, call, search_call_free);
}

KaaInProgress *
fetcher_history_seed (FetcherHistory *history,
                      guint           n_rows)
{
  Job *job = job_new (history);

  job->n_rows = n_rows;
  return kaa_thread_pool_run (history->pool, 0, write_job, job, job_free);
}

/* ---------------------------------------------------------- the writer */

/* Writes the records one job at a time, in the order they came. It runs
 * outside the engine's scope, so that Cancel all, which ends downloads,
 * still lets their "cancelled" rows reach the history. */
static void
writer_body (KaaCoroutine *co,
             gpointer      user_data)
{
  FetcherHistory *history = user_data;
  FetcherRecord *record;

  /* Cancelled (the history is freed): no next record. Asking a closed
   * channel from a cancelled coroutine would also leave its receive's
   * "closed" error unseen, which libkaa warns about. */
  while (!kaa_coroutine_is_cancelled (co) &&
         kaa_channel_await_next (history->records, (gpointer *) &record, NULL))
    {
      g_autoptr(GError) error = NULL;
      Job *job = job_new (history);

      job->record = record;
      if (!kaa_await (kaa_thread_pool_run (history->pool, 0, write_job, job, job_free), &error)
          && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("fetcher history %s: %s", history->db->path, error->message);
      g_atomic_int_dec_and_test (&history->db->stats.rows_pending);
    }
}

void
fetcher_history_record (FetcherHistory  *history,
                        FetcherDownload *download)
{
  static const char * const states[] = {
    [FETCHER_STATE_DONE] = "done",
    [FETCHER_STATE_FAILED] = "failed",
    [FETCHER_STATE_CANCELLED] = "cancelled",
  };
  FetcherRecord *record = g_new0 (FetcherRecord, 1);

  g_return_if_fail (download->state >= FETCHER_STATE_DONE);
  record->url = g_strdup (download->url);
  record->state = g_strdup (states[download->state]);
  record->bytes = download->received;
  record->sha256 = g_strdup (download->sha256);
  /* Unbounded: a download's ending never waits for the disk. */
  g_atomic_int_inc (&history->db->stats.rows_pending);
  if (!kaa_channel_push (history->records, record, KAA_OVERFLOW_FAIL))
    g_atomic_int_dec_and_test (&history->db->stats.rows_pending);   /* closed */
}

/* ------------------------------------------------------ open and close */

/* Creates the table synchronously: it runs once, before the window shows. */
static gboolean
create_schema (FetcherDb  *db,
               GError    **error)
{
  int rc = sqlite3_open (db->path, &db->writer);

  if (rc == SQLITE_OK)
    rc = sqlite3_exec (db->writer,
                       "PRAGMA journal_mode = WAL;"
                       "CREATE TABLE IF NOT EXISTS downloads ("
                       "  id INTEGER PRIMARY KEY, url TEXT NOT NULL, state TEXT NOT NULL,"
                       "  bytes INTEGER NOT NULL, sha256 TEXT)", NULL, NULL, NULL);
  return rc == SQLITE_OK || sql_failed (db->writer, rc, error);
}

FetcherHistory *
fetcher_history_open (const char  *path,
                      guint        throttle_usec,
                      GError     **error)
{
  static gint serial;
  FetcherHistory *history = g_new0 (FetcherHistory, 1);
  g_autofree char *pool_name = NULL;

  history->db = g_atomic_rc_box_new0 (FetcherDb);
  history->db->path = g_strdup (path);
  history->db->throttle_usec = throttle_usec;
  g_mutex_init (&history->db->write_lock);
  g_mutex_init (&history->db->log_lock);
  history->db->log = g_array_new (FALSE, TRUE, sizeof (FetcherJobLog));
  if (!create_schema (history->db, error))
    {
      g_atomic_rc_box_release_full (history->db, (GDestroyNotify) fetcher_db_free);
      g_free (history);
      return NULL;
    }
  /* A name per history: a pool's name stays taken while a job of an
   * earlier engine still ends on it. */
  pool_name = g_strdup_printf ("fetcher-db-%d", g_atomic_int_add (&serial, 1));
  history->pool = kaa_thread_pool_new (pool_name, 2);
  history->records = kaa_channel_new_full (KAA_CHANNEL_UNBOUNDED,
                                           (GDestroyNotify) fetcher_record_free);
  history->writer = kaa_coroutine_spawn (writer_body, history, NULL);
  history->search_key = g_object_new (G_TYPE_OBJECT, NULL);
  return history;
}

/* No more records: the InProgress finishes once the last one is written. */
KaaInProgress *
fetcher_history_close (FetcherHistory *history)
{
  kaa_channel_close (history->records);
  return kaa_in_progress_ref (history->writer);
}

/* Records not written yet are dropped; call fetcher_history_close() and
 * wait first to keep them. */
void
fetcher_history_free (FetcherHistory *history)
{
  kaa_channel_close (history->records);
  kaa_in_progress_cancel (history->writer);
  kaa_in_progress_unref (history->writer);
  kaa_channel_unref (history->records);
  kaa_thread_pool_unref (history->pool);
  g_object_unref (history->search_key);
  g_atomic_rc_box_release_full (history->db, (GDestroyNotify) fetcher_db_free);
  g_free (history);
}

void
fetcher_history_get_stats (FetcherHistory *history,
                           FetcherStats   *stats)
{
  FetcherStats *live = &history->db->stats;

  stats->jobs_started = g_atomic_int_get (&live->jobs_started);
  stats->jobs_running = g_atomic_int_get (&live->jobs_running);
  stats->interrupted = g_atomic_int_get (&live->interrupted);
  stats->progress_ticks = g_atomic_int_get (&live->progress_ticks);
  stats->rows_pending = g_atomic_int_get (&live->rows_pending);
}

/* A copy of the job log, oldest first. */
GArray *
fetcher_history_dup_log (FetcherHistory *history)
{
  FetcherDb *db = history->db;
  GArray *copy = g_array_new (FALSE, TRUE, sizeof (FetcherJobLog));

  g_array_set_clear_func (copy, fetcher_job_log_clear);
  g_mutex_lock (&db->log_lock);
  for (guint i = 0; i < db->log->len; i++)
    {
      FetcherJobLog entry = g_array_index (db->log, FetcherJobLog, i);

      entry.text = g_strdup (entry.text);
      g_array_append_val (copy, entry);
    }
  g_mutex_unlock (&db->log_lock);
  return copy;
}

void
fetcher_job_log_clear (gpointer data)
{
  FetcherJobLog *entry = data;

  g_free (entry->text);
}
