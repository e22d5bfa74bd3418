/* twin-engine.c: the engine's downloads and search with GTask and callbacks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The GTask twin of fetcher-download.c and fetcher-history.c's search
 * (see twin-engine.h). Each step of a download is a callback that
 * finds its state in TwinDownload; every way out of a step goes through
 * attempt_failed() or settle(), which must undo by hand what libkaa's
 * cascade undoes in the other engine: the timers, the slot, the queue.
 * The history rows are written one GTask at a time, each queued behind
 * the one before it (write_next()).
 */
#include <sqlite3.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "twin-engine.h"

#define CHUNK_SIZE        (64 * 1024)
#define BACKOFF_MAX_MSEC  2000
#define PROGRESS_STEPS    1000
#define SAMPLE_USEC       (100 * G_TIME_SPAN_MILLISECOND)   /* rate samples, row updates */

static guint n_alive;          /* engines not freed yet, twin_engine_get_n_alive() */

struct _TwinEngine
{
  FetcherConfig  config;
  char          *directory;
  char          *database;
  SoupSession   *session;
  GQueue         line;       /* TwinDownload waiting for a slot */
  guint          running;    /* downloads holding a slot */
  GPtrArray     *downloads;
  guint          next_id;
  GCancellable  *search;     /* the newest search's */
  guint          searches;   /* search tasks not returned yet */
  sqlite3       *writer;     /* the history's, used by one write task at a time */
  GQueue         records;    /* FetcherRecord, to write */
  gboolean       writing;    /* a write task is out */
  gboolean       closed;     /* takes no more downloads */
  gboolean       free_when_quiet;
  guint          reap_id;
  gint64         last_attempt_at;
  TwinNotify     notify;
  gpointer       notify_data;
};

struct _TwinDownload
{
  TwinEngine    *engine;
  guint          id;
  char          *url;
  char          *path;
  FetcherState   state;
  gboolean       in_line;
  guint          attempts;
  guint          backoff;
  gint64         received;
  gint64         total;
  char          *sha256;
  GError        *error;
  GCancellable  *cancellable;  /* the download's: Cancel all and the deadline */
  GCancellable  *attempt;      /* this attempt's: the above, and the stall timer */
  gulong         attempt_link;
  guint          deadline_id;
  guint          stall_id;
  guint          backoff_id;
  gboolean       timed_out;
  gboolean       stalled;
  SoupMessage   *msg;
  GInputStream  *body;
  GOutputStream *out;
  GChecksum     *sum;
  GBytes        *chunk;        /* being written */
  gint64         sample_at;    /* the rate's last sample: when, and the bytes then */
  gint64         sample_received;
  double         rate;         /* bytes a second, smoothed */
};

static void start_attempt (TwinDownload *d);
static void read_next     (TwinDownload *d);
static void record        (TwinDownload *d);
static void check_quiet   (TwinEngine   *engine);

static void
notify_changed (TwinDownload *d)
{
  if (d->engine->notify != NULL)
    d->engine->notify (d->engine, d->id, d->engine->notify_data);
}

static void
attempt_clear (TwinDownload *d)
{
  if (d->attempt_link != 0)
    g_cancellable_disconnect (d->cancellable, d->attempt_link);
  d->attempt_link = 0;
  g_clear_handle_id (&d->stall_id, g_source_remove);
  g_clear_object (&d->attempt);
  g_clear_object (&d->msg);
  g_clear_object (&d->body);
  g_clear_object (&d->out);
  g_clear_pointer (&d->sum, g_checksum_free);
  g_clear_pointer (&d->chunk, g_bytes_unref);
}

static void
twin_download_free (gpointer data)
{
  TwinDownload *d = data;

  attempt_clear (d);
  g_clear_handle_id (&d->deadline_id, g_source_remove);
  g_clear_handle_id (&d->backoff_id, g_source_remove);
  g_clear_object (&d->cancellable);
  g_clear_error (&d->error);
  g_free (d->url);
  g_free (d->path);
  g_free (d->sha256);
  g_free (d);
}

static gboolean
on_deadline (gpointer data)
{
  TwinDownload *d = data;

  d->deadline_id = 0;
  d->timed_out = TRUE;
  g_cancellable_cancel (d->cancellable);
  return G_SOURCE_REMOVE;
}

static void
pump_line (TwinEngine *engine)
{
  while (engine->running < engine->config.max_parallel && !g_queue_is_empty (&engine->line))
    {
      TwinDownload *d = g_queue_pop_head (&engine->line);

      d->in_line = FALSE;
      engine->running++;
      d->deadline_id = g_timeout_add (engine->config.deadline_msec, on_deadline, d);
      start_attempt (d);
    }
}

/* The only way a download ends: the timers go, the slot goes back. */
static void
settle (TwinDownload *d,
        GError       *error)
{
  attempt_clear (d);
  g_clear_handle_id (&d->deadline_id, g_source_remove);
  g_clear_handle_id (&d->backoff_id, g_source_remove);
  d->state = FETCHER_STATE_DONE;
  if (error != NULL)
    {
      d->state = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                 ? FETCHER_STATE_CANCELLED : FETCHER_STATE_FAILED;
      g_clear_error (&d->error);
      d->error = error;
      g_unlink (d->path);
    }
  record (d);
  notify_changed (d);
  if (!d->in_line)
    {
      d->engine->running--;
      pump_line (d->engine);
    }
  check_quiet (d->engine);
}

static gboolean
on_backoff (gpointer data)
{
  TwinDownload *d = data;

  d->backoff_id = 0;
  start_attempt (d);
  return G_SOURCE_REMOVE;
}

/* Every failed step comes here: give up (deadline, cancel, 4xx, file),
 * or try again after a pause that doubles. */
static void
attempt_failed (TwinDownload *d,
                GError       *error,
                gboolean      fatal)
{
  gboolean stalled = d->stalled;

  attempt_clear (d);
  if (d->timed_out)
    {
      settle (d, g_error_new (FETCHER_ERROR, FETCHER_ERROR_GAVE_UP,
                              "Gave up after %u attempts in %u ms: %s", d->attempts,
                              d->engine->config.deadline_msec,
                              d->error != NULL ? d->error->message : error->message));
      g_error_free (error);
      return;
    }
  if (stalled && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_error (&error);
      error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "No data for too long");
    }
  if (fatal || g_cancellable_is_cancelled (d->cancellable))
    {
      settle (d, error);
      return;
    }
  g_clear_error (&d->error);
  d->error = error;
  d->state = FETCHER_STATE_RETRYING;
  notify_changed (d);
  d->backoff_id = g_timeout_add (d->backoff, on_backoff, d);
  d->backoff = MIN (d->backoff * 2, BACKOFF_MAX_MSEC);
}

static void
on_closed (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  TwinDownload *d = data;
  GError *error = NULL;

  if (!g_output_stream_close_finish (d->out, result, &error))
    {
      attempt_failed (d, error, FALSE);
      return;
    }
  if (d->total >= 0 && d->received != d->total)
    {
      attempt_failed (d, g_error_new (FETCHER_ERROR, FETCHER_ERROR_TRUNCATED,
                                      "The body ended after %" G_GINT64_FORMAT " of %"
                                      G_GINT64_FORMAT " bytes", d->received, d->total), FALSE);
      return;
    }
  g_free (d->sha256);
  d->sha256 = g_strdup (g_checksum_get_string (d->sum));
  settle (d, NULL);
}

/* The rate is the bytes of the last SAMPLE_USEC or more, smoothed; the
 * row is told at most that often too. */
static void
sample_rate (TwinDownload *d)
{
  gint64 now = g_get_monotonic_time ();
  double rate;

  if (now - d->sample_at < SAMPLE_USEC)
    return;
  rate = (d->received - d->sample_received) * (double) G_USEC_PER_SEC / (now - d->sample_at);
  d->rate = d->rate == 0 ? rate : (d->rate + rate) / 2;
  d->sample_at = now;
  d->sample_received = d->received;
  notify_changed (d);
}

static void
on_written (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  TwinDownload *d = data;
  GError *error = NULL;
  gsize size = g_bytes_get_size (d->chunk);

  if (!g_output_stream_write_all_finish (d->out, result, NULL, &error))
    {
      attempt_failed (d, error, FALSE);
      return;
    }
  g_checksum_update (d->sum, g_bytes_get_data (d->chunk, NULL), size);
  g_clear_pointer (&d->chunk, g_bytes_unref);
  d->received += size;
  sample_rate (d);
  read_next (d);
}

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  TwinDownload *d = data;
  GError *error = NULL;
  GBytes *bytes = g_input_stream_read_bytes_finish (d->body, result, &error);

  g_clear_handle_id (&d->stall_id, g_source_remove);
  if (bytes == NULL)
    {
      attempt_failed (d, error, FALSE);
      return;
    }
  if (g_bytes_get_size (bytes) == 0)
    {
      g_bytes_unref (bytes);
      g_output_stream_close_async (d->out, G_PRIORITY_DEFAULT, d->attempt, on_closed, d);
      return;
    }
  d->chunk = bytes;
  g_output_stream_write_all_async (d->out, g_bytes_get_data (bytes, NULL),
                                   g_bytes_get_size (bytes), G_PRIORITY_DEFAULT, d->attempt,
                                   on_written, d);
}

static gboolean
on_stall (gpointer data)
{
  TwinDownload *d = data;

  d->stall_id = 0;
  d->stalled = TRUE;
  g_cancellable_cancel (d->attempt);
  return G_SOURCE_REMOVE;
}

static void
read_next (TwinDownload *d)
{
  d->stall_id = g_timeout_add (d->engine->config.stall_msec, on_stall, d);
  g_input_stream_read_bytes_async (d->body, CHUNK_SIZE, G_PRIORITY_DEFAULT, d->attempt,
                                   on_read, d);
}

static void
on_opened (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  TwinDownload *d = data;
  GError *error = NULL;
  GFileOutputStream *out = g_file_replace_finish (G_FILE (source), result, &error);

  if (out == NULL)
    {
      attempt_failed (d, error, !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
      return;
    }
  d->out = G_OUTPUT_STREAM (out);
  d->sum = g_checksum_new (G_CHECKSUM_SHA256);
  read_next (d);
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  TwinDownload *d = data;
  GError *error = NULL;
  g_autoptr(GFile) file = NULL;
  SoupMessageHeaders *headers;
  guint status;

  d->body = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (d->body == NULL)
    {
      attempt_failed (d, error, FALSE);
      return;
    }
  status = soup_message_get_status (d->msg);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      attempt_failed (d, g_error_new (FETCHER_ERROR, FETCHER_ERROR_HTTP, "HTTP %u %s", status,
                                      soup_message_get_reason_phrase (d->msg)),
                      status >= 400 && status < 500);
      return;
    }
  headers = soup_message_get_response_headers (d->msg);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH)
    d->total = soup_message_headers_get_content_length (headers);
  file = g_file_new_for_path (d->path);
  g_file_replace_async (file, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION, G_PRIORITY_DEFAULT,
                        d->attempt, on_opened, d);
}

/* The download's cancellable (Cancel all, the deadline) cancels the
 * attempt's, which the stall timer cancels alone. */
static void
cancel_attempt (GCancellable *cancellable,
                gpointer      attempt)
{
  g_cancellable_cancel (attempt);
}

static void
start_attempt (TwinDownload *d)
{
  d->attempts++;
  d->engine->last_attempt_at = g_get_monotonic_time ();
  d->state = FETCHER_STATE_RUNNING;
  d->received = 0;
  d->total = -1;
  d->stalled = FALSE;
  d->rate = 0;
  d->sample_at = d->engine->last_attempt_at;
  d->sample_received = 0;
  notify_changed (d);
  d->msg = soup_message_new ("GET", d->url);
  if (d->msg == NULL)
    {
      settle (d, g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                              "Not an http URL: %s", d->url));
      return;
    }
  d->attempt = g_cancellable_new ();
  d->attempt_link = g_cancellable_connect (d->cancellable, G_CALLBACK (cancel_attempt),
                                           d->attempt, NULL);
  soup_session_send_async (d->engine->session, d->msg, G_PRIORITY_DEFAULT, d->attempt,
                           on_sent, d);
}

/* ------------------------------------------------------------ history */

typedef struct
{
  sqlite3       *conn;
  FetcherRecord *record;
} WriteData;

static void
write_data_free (gpointer data)
{
  WriteData *write = data;

  fetcher_record_free (write->record);
  g_free (write);
}

static void
write_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  WriteData *write = task_data;
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (write->conn, "INSERT INTO downloads (url, state, bytes, sha256)"
                                            " VALUES (?1, ?2, ?3, ?4)", -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    {
      sqlite3_bind_text (stmt, 1, write->record->url, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, write->record->state, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, write->record->bytes);
      sqlite3_bind_text (stmt, 4, write->record->sha256, -1, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
    }
  sqlite3_finalize (stmt);
  if (rc == SQLITE_DONE)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "SQLite: %s",
                             sqlite3_errmsg (write->conn));
}

static void write_next (TwinEngine *self);

static void
on_row_written (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  TwinEngine *self = data;
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("twin history %s: %s", self->database, error->message);
  self->writing = FALSE;
  write_next (self);
}

/* One write at a time, in the order the downloads ended. */
static void
write_next (TwinEngine *self)
{
  WriteData *write;
  GTask *task;

  if (self->writing || g_queue_is_empty (&self->records))
    {
      check_quiet (self);
      return;
    }
  write = g_new0 (WriteData, 1);
  write->conn = self->writer;
  write->record = g_queue_pop_head (&self->records);
  self->writing = TRUE;
  task = g_task_new (NULL, NULL, on_row_written, self);
  g_task_set_task_data (task, write, write_data_free);
  g_task_run_in_thread (task, write_thread);
  g_object_unref (task);
}

static void
record (TwinDownload *d)
{
  FetcherRecord *row = g_new0 (FetcherRecord, 1);

  row->url = g_strdup (d->url);
  row->state = g_strdup (fetcher_state_name (d->state));
  row->bytes = d->received;
  row->sha256 = d->state == FETCHER_STATE_DONE ? g_strdup (d->sha256) : NULL;
  g_queue_push_tail (&d->engine->records, row);
  write_next (d->engine);
}

/* Synchronously, once, before anything runs. */
static gboolean
open_history (TwinEngine  *self,
              GError     **error)
{
  int rc = sqlite3_open (self->database, &self->writer);

  if (rc == SQLITE_OK)
    rc = sqlite3_exec (self->writer,
                       "PRAGMA journal_mode = WAL;"
                       "CREATE TABLE IF NOT EXISTS downloads ("
                       "  id INTEGER PRIMARY KEY, url TEXT NOT NULL, state TEXT NOT NULL,"
                       "  bytes INTEGER NOT NULL, sha256 TEXT)", NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "SQLite: %s", sqlite3_errmsg (self->writer));
  return FALSE;
}

/* ------------------------------------------------------------- engine */

TwinEngine *
twin_engine_new (const char           *directory,
                 const char           *database,
                 const FetcherConfig  *config,
                 GError              **error)
{
  TwinEngine *self;

  if (g_mkdir_with_parents (directory, 0755) != 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Could not make %s: %s", directory, g_strerror (saved));
      return NULL;
    }
  self = g_new0 (TwinEngine, 1);
  n_alive++;
  self->config = *config;
  self->directory = g_strdup (directory);
  self->database = g_strdup (database);
  self->session = soup_session_new_with_options ("timeout", 0, "idle-timeout", 0,
                                                 "max-conns", 2 * config->max_parallel,
                                                 "max-conns-per-host", 2 * config->max_parallel,
                                                 NULL);
  g_queue_init (&self->line);
  g_queue_init (&self->records);
  self->downloads = g_ptr_array_new_with_free_func (twin_download_free);
  self->next_id = 1;
  if (!open_history (self, error))
    {
      twin_engine_free (self);
      return NULL;
    }
  return self;
}

/* Only once quiet (twin_engine_is_quiet()): a callback still to come
 * would find its download freed. */
void
twin_engine_free (TwinEngine *self)
{
  g_return_if_fail (twin_engine_is_quiet (self));
  g_clear_handle_id (&self->reap_id, g_source_remove);
  g_ptr_array_unref (self->downloads);
  g_clear_object (&self->search);
  g_object_unref (self->session);
  sqlite3_close (self->writer);
  g_free (self->directory);
  g_free (self->database);
  g_free (self);
  n_alive--;
}

/* Twins not freed yet: a program waits for those it let go of
 * (twin_engine_free_when_quiet()) before it returns. */
guint
twin_engine_get_n_alive (void)
{
  return n_alive;
}

static gboolean
reap (gpointer data)
{
  TwinEngine *self = data;

  self->reap_id = 0;
  twin_engine_free (self);
  return G_SOURCE_REMOVE;
}

/* Called where work ends: an engine let go of goes once quiet, from an
 * idle, when no callback of its own is on the stack any more. */
static void
check_quiet (TwinEngine *self)
{
  if (self->free_when_quiet && self->reap_id == 0 && twin_engine_is_quiet (self))
    self->reap_id = g_idle_add (reap, self);
}

/* Closes @self and frees it once its downloads have settled and its
 * rows are written; no call on it after this one. */
void
twin_engine_free_when_quiet (TwinEngine *self)
{
  twin_engine_close (self);
  self->notify = NULL;
  self->free_when_quiet = TRUE;
  check_quiet (self);
}

/* Called for every change of a download: added, a new state, or progress
 * (at most every SAMPLE_USEC). */
void
twin_engine_set_notify (TwinEngine *self,
                        TwinNotify  notify,
                        gpointer    data)
{
  self->notify = notify;
  self->notify_data = data;
}

TwinDownload *
twin_engine_add (TwinEngine *self,
                 const char *url)
{
  TwinDownload *d;
  g_autofree char *name = NULL;

  if (self->closed)
    return NULL;
  d = g_new0 (TwinDownload, 1);
  d->engine = self;
  d->id = self->next_id++;
  d->url = g_strdup (url);
  name = g_strdup_printf ("download-%u", d->id);
  d->path = g_build_filename (self->directory, name, NULL);
  d->total = -1;
  d->backoff = self->config.backoff_msec;
  d->cancellable = g_cancellable_new ();
  d->in_line = TRUE;
  g_ptr_array_add (self->downloads, d);
  g_queue_push_tail (&self->line, d);
  notify_changed (d);
  pump_line (self);
  return d;
}

/* Ends @d: at once in the line or in a backoff, else when its pending
 * callback comes back cancelled. */
static void
cancel_download (TwinDownload *d)
{
  if (d->state >= FETCHER_STATE_DONE)
    return;
  if (d->in_line)
    g_queue_remove (&d->engine->line, d);
  if (d->in_line || d->backoff_id != 0)
    settle (d, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled"));
  else
    g_cancellable_cancel (d->cancellable);
}

gboolean
twin_engine_cancel (TwinEngine *self,
                    guint       id)
{
  if (id == 0 || id > self->downloads->len)
    return FALSE;
  cancel_download (g_ptr_array_index (self->downloads, id - 1));
  return TRUE;
}

/* The line first, so that no slot freed below starts one of it; a
 * running download settles from its pending callback, later. */
void
twin_engine_cancel_all (TwinEngine *self)
{
  while (!g_queue_is_empty (&self->line))
    cancel_download (g_queue_peek_head (&self->line));
  for (guint i = 0; i < self->downloads->len; i++)
    cancel_download (g_ptr_array_index (self->downloads, i));
  if (self->search != NULL)
    g_cancellable_cancel (self->search);
}

/* Cancel all, and no more downloads. */
void
twin_engine_close (TwinEngine *self)
{
  self->closed = TRUE;
  twin_engine_cancel_all (self);
}

/* Every download settled, every row written, no search out. */
gboolean
twin_engine_is_quiet (TwinEngine *self)
{
  for (guint i = 0; i < self->downloads->len; i++)
    if (((TwinDownload *) g_ptr_array_index (self->downloads, i))->state < FETCHER_STATE_DONE)
      return FALSE;
  return !self->writing && g_queue_is_empty (&self->records) && self->searches == 0;
}

guint
twin_engine_get_n_downloads (TwinEngine *self)
{
  return self->downloads->len;
}

gboolean
twin_engine_get_row (TwinEngine     *self,
                     guint           id,
                     FetcherRowInfo *info)
{
  TwinDownload *d;
  gboolean running;

  if (id == 0 || id > self->downloads->len)
    return FALSE;
  d = g_ptr_array_index (self->downloads, id - 1);
  running = d->state == FETCHER_STATE_RUNNING && d->rate > 0;
  *info = (FetcherRowInfo) {
    .id = d->id, .url = d->url, .path = d->path, .state = d->state,
    .attempts = d->attempts, .received = d->received, .total = d->total,
    .rate = running ? d->rate : 0,
    .eta = running && d->total > 0 ? (d->total - d->received) / d->rate : -1,
    .sha256 = twin_download_get_sha256 (d), .error = d->error,
  };
  return TRUE;
}

void
twin_engine_get_stats (TwinEngine          *self,
                       FetcherBackendStats *stats)
{
  *stats = (FetcherBackendStats) {
    .jobs_running = self->writing + self->searches,
    .rows_pending = self->writing + self->records.length,
    .last_attempt_at = self->last_attempt_at,
  };
  for (guint i = 0; i < self->downloads->len; i++)
    stats->active += ((TwinDownload *) self->downloads->pdata[i])->state < FETCHER_STATE_DONE;
}

/* ------------------------------------------------------------- search */

typedef struct
{
  TwinEngine          *engine;
  char                *database;
  char                *pattern;
  GAsyncReadyCallback  callback;
  gpointer             user_data;
} SearchData;

static void
search_data_free (gpointer data)
{
  SearchData *search = data;

  g_free (search->database);
  g_free (search->pattern);
  g_free (search);
}

static int
on_search_progress (void *cancellable)
{
  return g_cancellable_is_cancelled (cancellable) ? 1 : 0;
}

static void
interrupt_query (GCancellable *cancellable,
                 gpointer      conn)
{
  sqlite3_interrupt (conn);
}

static int
search_rows (sqlite3      *conn,
             const char   *pattern,
             GPtrArray    *rows)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (conn, "SELECT id, url, state, bytes, sha256 FROM downloads"
                                     " WHERE url LIKE ?1 ESCAPE '\\' ORDER BY id", -1, &stmt, NULL);

  if (rc != SQLITE_OK)
    return rc;
  sqlite3_bind_text (stmt, 1, pattern, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      FetcherRecord *record = g_new0 (FetcherRecord, 1);

      record->id = sqlite3_column_int64 (stmt, 0);
      record->url = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      record->state = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      record->bytes = sqlite3_column_int64 (stmt, 3);
      record->sha256 = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      g_ptr_array_add (rows, record);
    }
  sqlite3_finalize (stmt);
  return rc;
}

static void
search_thread (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  SearchData *search = task_data;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) fetcher_record_free);
  sqlite3 *conn = NULL;
  int rc = sqlite3_open_v2 (search->database, &conn, SQLITE_OPEN_READONLY, NULL);

  if (rc == SQLITE_OK)
    {
      gulong handler = g_cancellable_connect (cancellable, G_CALLBACK (interrupt_query), conn,
                                              NULL);

      sqlite3_progress_handler (conn, PROGRESS_STEPS, on_search_progress, cancellable);
      rc = search_rows (conn, search->pattern, rows);
      g_cancellable_disconnect (cancellable, handler);
    }
  if (rc == SQLITE_DONE)
    g_task_return_pointer (task, g_steal_pointer (&rows), (GDestroyNotify) g_ptr_array_unref);
  else if (rc == SQLITE_INTERRUPT)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The query was interrupted");
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "SQLite: %s",
                             sqlite3_errmsg (conn));
  sqlite3_close (conn);
}

/* The engine counts its searches out, to be quiet only without one. */
static void
on_searched (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  SearchData *search = g_task_get_task_data (G_TASK (result));

  search->engine->searches--;
  search->callback (NULL, result, search->user_data);
  check_quiet (search->engine);
}

/* Type-ahead: each search cancels the one before it by hand. */
void
twin_engine_search (TwinEngine          *self,
                    const char          *text,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  SearchData *search = g_new0 (SearchData, 1);
  GString *pattern = g_string_new ("%");
  GTask *task;

  if (self->search != NULL)
    g_cancellable_cancel (self->search);
  g_clear_object (&self->search);
  self->search = g_cancellable_new ();
  for (const char *c = text; *c != '\0'; c++)
    {
      if (*c == '%' || *c == '_' || *c == '\\')
        g_string_append_c (pattern, '\\');
      g_string_append_c (pattern, *c);
    }
  g_string_append_c (pattern, '%');
  search->engine = self;
  search->database = g_strdup (self->database);
  search->pattern = g_string_free (pattern, FALSE);
  search->callback = callback;
  search->user_data = user_data;
  self->searches++;
  task = g_task_new (NULL, self->search, on_searched, NULL);
  g_task_set_source_tag (task, twin_engine_search);
  g_task_set_task_data (task, search, search_data_free);
  g_task_run_in_thread (task, search_thread);
  g_object_unref (task);
}

GPtrArray *
twin_engine_search_finish (TwinEngine    *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

guint
twin_download_get_id (TwinDownload *self)
{
  return self->id;
}

FetcherState
twin_download_get_state (TwinDownload *self)
{
  return self->state;
}

const char *
twin_download_get_sha256 (TwinDownload *self)
{
  return self->state == FETCHER_STATE_DONE ? self->sha256 : NULL;
}

guint
twin_download_get_attempts (TwinDownload *self)
{
  return self->attempts;
}

const GError *
twin_download_get_error (TwinDownload *self)
{
  return self->error;
}
