/* twin-engine.c: the engine's downloads and search with GTask and callbacks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The GTask twin of fetcher-download.c and fetcher-history.c's search
 * (see twin-engine.h). Each step of a download is a callback that
 * finds its state in TwinDownload; every way out of a step goes through
 * attempt_failed() or settle(), which must undo by hand what libkaa's
 * cascade undoes in the other engine: the timers, the slot, the queue.
 */
#include <sqlite3.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "twin-engine.h"

#define CHUNK_SIZE        (64 * 1024)
#define BACKOFF_MAX_MSEC  2000
#define PROGRESS_STEPS    1000

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
};

static void start_attempt (TwinDownload *d);
static void read_next     (TwinDownload *d);

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
  if (d->in_line)
    return;
  d->engine->running--;
  pump_line (d->engine);
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
  d->state = FETCHER_STATE_RUNNING;
  d->received = 0;
  d->total = -1;
  d->stalled = FALSE;
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
  self->config = *config;
  self->directory = g_strdup (directory);
  self->database = g_strdup (database);
  self->session = soup_session_new_with_options ("timeout", 0, "idle-timeout", 0,
                                                 "max-conns", 2 * config->max_parallel,
                                                 "max-conns-per-host", 2 * config->max_parallel,
                                                 NULL);
  g_queue_init (&self->line);
  self->downloads = g_ptr_array_new_with_free_func (twin_download_free);
  self->next_id = 1;
  return self;
}

/* Only once quiet (twin_engine_is_quiet()): a callback still to come
 * would find its download freed. */
void
twin_engine_free (TwinEngine *self)
{
  g_return_if_fail (twin_engine_is_quiet (self));
  g_ptr_array_unref (self->downloads);
  g_clear_object (&self->search);
  g_object_unref (self->session);
  g_free (self->directory);
  g_free (self->database);
  g_free (self);
}

TwinDownload *
twin_engine_add (TwinEngine *self,
                 const char *url)
{
  TwinDownload *d = g_new0 (TwinDownload, 1);
  g_autofree char *name = NULL;

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
  pump_line (self);
  return d;
}

/* The line first, so that no slot freed below starts one of it; a
 * running download settles from its pending callback, later. */
void
twin_engine_cancel_all (TwinEngine *self)
{
  while (!g_queue_is_empty (&self->line))
    settle (g_queue_pop_head (&self->line),
            g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled"));
  for (guint i = 0; i < self->downloads->len; i++)
    {
      TwinDownload *d = g_ptr_array_index (self->downloads, i);

      if (d->state >= FETCHER_STATE_DONE)
        continue;
      if (d->backoff_id != 0)
        settle (d, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled"));
      else
        g_cancellable_cancel (d->cancellable);
    }
  if (self->search != NULL)
    g_cancellable_cancel (self->search);
}

gboolean
twin_engine_is_quiet (TwinEngine *self)
{
  for (guint i = 0; i < self->downloads->len; i++)
    if (((TwinDownload *) g_ptr_array_index (self->downloads, i))->state < FETCHER_STATE_DONE)
      return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------- search */

typedef struct
{
  char *database;
  char *pattern;
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
  search->database = g_strdup (self->database);
  search->pattern = g_string_free (pattern, FALSE);
  task = g_task_new (NULL, self->search, callback, user_data);
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
