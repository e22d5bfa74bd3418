/* fetcher-download.c: one download, as a coroutine on the main loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A download waits for one of the engine's N permits, then makes
 * attempts inside a scope of its own whose deadline bounds every attempt
 * and backoff together. Each attempt awaits soup_session_send_async()
 * through kaa_async_ready() and streams the body into the file with
 * kaa_input_stream_read_bytes() and kaa_output_stream_write_all().
 *
 * Pause, resume and cancel are the InProgress's own: they travel down
 * to the permit's wait, the scope, the read and the timers, so a paused
 * download reads nothing (the server waits on TCP's window), its stall
 * timer and the deadline keep their time left, and a cancel unwinds it
 * with its cleanups run before fetcher_download_cancel() returns.
 */
#include <glib/gstdio.h>

#include "fetcher-private.h"

#define CHUNK_SIZE        (64 * 1024)
#define BACKOFF_MAX_MSEC  2000

G_DEFINE_QUARK (fetcher-error-quark, fetcher_error)

static void
set_state (FetcherDownload *d,
           FetcherState     state)
{
  d->state = state;
  fetcher_engine_emit_changed (d->engine, d);
}

/* The generic bridge: any g_*_async() call, awaited. */
static GInputStream *
send_request (FetcherDownload  *d,
              SoupMessage      *msg,
              GError          **error)
{
  SoupSession *session = d->engine->session;
  KaaInProgress *ip = kaa_in_progress_new ();
  g_autoptr(GAsyncResult) result = NULL;

  soup_session_send_async (session, msg, G_PRIORITY_DEFAULT, kaa_in_progress_get_cancellable (ip),
                           kaa_async_ready, kaa_async_data (ip));
  result = kaa_await_object (ip, error);
  if (result == NULL)
    return NULL;
  return soup_session_send_finish (session, result, error);
}

static GOutputStream *
open_output (FetcherDownload  *d,
             GError          **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (d->path);
  KaaInProgress *ip = kaa_in_progress_new ();
  g_autoptr(GAsyncResult) result = NULL;

  g_file_replace_async (file, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION, G_PRIORITY_DEFAULT,
                        kaa_in_progress_get_cancellable (ip), kaa_async_ready,
                        kaa_async_data (ip));
  result = kaa_await_object (ip, error);
  if (result == NULL)
    return NULL;
  return G_OUTPUT_STREAM (g_file_replace_finish (file, result, error));
}

static gboolean
close_output (GOutputStream  *out,
              GError        **error)
{
  KaaInProgress *ip = kaa_in_progress_new ();
  g_autoptr(GAsyncResult) result = NULL;

  g_output_stream_close_async (out, G_PRIORITY_DEFAULT, kaa_in_progress_get_cancellable (ip),
                               kaa_async_ready, kaa_async_data (ip));
  result = kaa_await_object (ip, error);
  return result != NULL && g_output_stream_close_finish (out, result, error);
}

/* Streams @body into @out a chunk at a time, hashing it and reporting
 * progress; a read that brings nothing for stall_msec fails with
 * G_IO_ERROR_TIMED_OUT, which the caller retries. */
static gboolean
copy_body (FetcherDownload  *d,
           GInputStream     *body,
           GOutputStream    *out,
           GChecksum        *sum,
           GError          **error)
{
  for (;;)
    {
      KaaInProgress *read = kaa_input_stream_read_bytes (body, CHUNK_SIZE);
      g_autoptr(GBytes) chunk = kaa_await_bytes (kaa_timeout (read, d->engine->config.stall_msec,
                                                              TRUE), error);
      gsize size;

      if (chunk == NULL)
        return FALSE;
      size = g_bytes_get_size (chunk);
      if (size == 0)
        return TRUE;
      if (!kaa_await (kaa_output_stream_write_all (out, chunk), error))
        return FALSE;
      g_checksum_update (sum, g_bytes_get_data (chunk, NULL), size);
      d->received += size;
      kaa_in_progress_set_progress (d->in_progress, d->received, MAX (d->total, 0));
    }
}

/* Checks the answer's status and learns the size; FALSE with *@fatal
 * set when retrying cannot help (a 4xx). */
static gboolean
check_response (FetcherDownload  *d,
                SoupMessage      *msg,
                gboolean         *fatal,
                GError          **error)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (msg);
  guint status = soup_message_get_status (msg);

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      *fatal = status >= 400 && status < 500;
      g_set_error (error, FETCHER_ERROR, FETCHER_ERROR_HTTP, "HTTP %u %s", status,
                   soup_message_get_reason_phrase (msg));
      return FALSE;
    }
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH)
    d->total = soup_message_headers_get_content_length (headers);
  return TRUE;
}

/* One attempt, from the request to the closed file; FALSE with *@fatal
 * set for what a retry cannot mend. */
static gboolean
attempt (FetcherDownload  *d,
         gboolean         *fatal,
         GError          **error)
{
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", d->url);
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GInputStream) body = NULL;
  g_autoptr(GOutputStream) out = NULL;

  *fatal = msg == NULL;
  if (msg == NULL)
    return g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "Not an http URL: %s", d->url), FALSE;
  d->received = 0;
  d->total = -1;
  if ((body = send_request (d, msg, error)) == NULL || !check_response (d, msg, fatal, error))
    return FALSE;
  if ((out = open_output (d, error)) == NULL)
    return *fatal = TRUE, FALSE;
  if (!copy_body (d, body, out, sum, error) || !close_output (out, error))
    return FALSE;
  if (d->total >= 0 && d->received != d->total)
    return g_set_error (error, FETCHER_ERROR, FETCHER_ERROR_TRUNCATED,
                        "The body ended after %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                        " bytes", d->received, d->total), FALSE;
  g_free (d->sha256);
  d->sha256 = g_strdup (g_checksum_get_string (sum));
  return TRUE;
}

/* The scope's one member: attempts with a growing pause between them,
 * until one succeeds, one fails for good, or the deadline cancels it. */
static void
attempts_body (KaaCoroutine *co,
               gpointer      user_data)
{
  FetcherDownload *d = user_data;
  guint backoff = d->engine->config.backoff_msec;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gboolean fatal = FALSE;

      d->attempts++;
      d->engine->last_attempt_at = g_get_monotonic_time ();
      set_state (d, FETCHER_STATE_RUNNING);
      if (attempt (d, &fatal, &error))
        return;
      if (kaa_coroutine_is_cancelled (co))
        return;                               /* the deadline, or a cancel */
      if (fatal)
        {
          kaa_coroutine_throw (co, g_steal_pointer (&error));
          return;
        }
      g_clear_error (&d->error);              /* shown if the deadline ends it */
      d->error = g_steal_pointer (&error);
      set_state (d, FETCHER_STATE_RETRYING);
      if (!kaa_await (kaa_sleep (backoff), NULL))
        return;
      backoff = MIN (backoff * 2, BACKOFF_MAX_MSEC);
    }
}

/* Runs the attempts under the deadline: one scope timeout instead of a
 * kaa_timeout() around each await, and time spent paused does not count. */
static gboolean
run_attempts (FetcherDownload  *d,
              GError          **error)
{
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(GError) local = NULL;
  guint deadline = d->engine->config.deadline_msec;

  kaa_scope_set_timeout (scope, deadline);
  kaa_scope_spawn (scope, attempts_body, d, NULL);
  if (kaa_await (kaa_scope_join (scope), &local))
    return TRUE;
  if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  g_set_error (error, FETCHER_ERROR, FETCHER_ERROR_GAVE_UP,
               "Gave up after %u attempts in %u ms: %s", d->attempts, deadline,
               d->error != NULL ? d->error->message : local->message);
  return FALSE;
}

/* Runs while the coroutine unwinds too (a cancel), so it never awaits:
 * the record goes to the history's writer through a channel. */
static void
settle (FetcherDownload *d,
        GError          *error)
{
  FetcherState state = FETCHER_STATE_DONE;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    state = FETCHER_STATE_CANCELLED;
  else if (error != NULL)
    state = FETCHER_STATE_FAILED;
  if (error != NULL)
    {
      g_clear_error (&d->error);
      d->error = g_error_copy (error);
      g_unlink (d->path);       /* no half file is left behind */
    }
  d->state = state;
  fetcher_history_record (d->engine->history, d);
  set_state (d, state);
}

static void
download_body (KaaCoroutine *co,
               gpointer      user_data)
{
  FetcherDownload *d = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KaaPermit) permit = NULL;

  d->in_progress = kaa_in_progress_ref (kaa_coroutine_get_in_progress (co));
  permit = kaa_semaphore_await (d->engine->limit, &error);
  if (permit != NULL)
    run_attempts (d, &error);
  settle (d, error);
  kaa_coroutine_return_int64 (co, d->state);
}   /* the permit goes back here, whatever happened */

/* Starts @download's coroutine; it runs up to its first wait. */
KaaInProgress *
fetcher_download_start (FetcherDownload *download)
{
  return kaa_coroutine_spawn (download_body, download, NULL);
}

void
fetcher_download_free (FetcherDownload *download)
{
  if (download->progress_id != 0)
    kaa_in_progress_disconnect_progress (download->in_progress, download->progress_id);
  g_clear_pointer (&download->in_progress, kaa_in_progress_unref);
  g_clear_error (&download->error);
  g_free (download->url);
  g_free (download->path);
  g_free (download->sha256);
  g_free (download);
}

/* ------------------------------------------------------------ controls */

void
fetcher_download_pause (FetcherDownload *self)
{
  if (self->paused || self->state >= FETCHER_STATE_DONE)
    return;
  self->paused = TRUE;
  kaa_in_progress_pause (self->in_progress);
  fetcher_engine_emit_changed (self->engine, self);
}

/* Every pause is undone, also one of a download that ended meanwhile:
 * pauses count, even on a settled InProgress. */
void
fetcher_download_resume (FetcherDownload *self)
{
  if (!self->paused)
    return;
  self->paused = FALSE;
  kaa_in_progress_resume (self->in_progress);
  fetcher_engine_emit_changed (self->engine, self);
}

void
fetcher_download_cancel (FetcherDownload *self)
{
  kaa_in_progress_cancel (self->in_progress);
}

guint
fetcher_download_get_id (FetcherDownload *self)
{
  return self->id;
}

const char *
fetcher_download_get_url (FetcherDownload *self)
{
  return self->url;
}

const char *
fetcher_download_get_path (FetcherDownload *self)
{
  return self->path;
}

FetcherState
fetcher_download_get_state (FetcherDownload *self)
{
  return self->state;
}

gboolean
fetcher_download_is_paused (FetcherDownload *self)
{
  /* An ended download is no longer paused, though its pause still counts
   * until resumed (a pause of a settled InProgress needs its resume). */
  return self->state < FETCHER_STATE_DONE && (self->paused || self->engine->paused_all);
}

guint
fetcher_download_get_attempts (FetcherDownload *self)
{
  return self->attempts;
}

gint64
fetcher_download_get_received (FetcherDownload *self)
{
  return self->received;
}

gint64
fetcher_download_get_total (FetcherDownload *self)
{
  return self->total;
}

const char *
fetcher_download_get_sha256 (FetcherDownload *self)
{
  return self->state == FETCHER_STATE_DONE ? self->sha256 : NULL;
}

const GError *
fetcher_download_get_error (FetcherDownload *self)
{
  return self->error;
}

KaaInProgress *
fetcher_download_get_in_progress (FetcherDownload *self)
{
  return self->in_progress;
}
