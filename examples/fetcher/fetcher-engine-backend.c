/* fetcher-engine-backend.c: the libkaa engine behind FetcherBackend
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Thin: each call is one of the engine's, a download found by its id.
 * The progress a row shows comes from the download's InProgress
 * (kaa_in_progress_connect_progress(), at most ten calls a second), its
 * rate and ETA too; the search's InProgress is offered as a GIO
 * operation with kaa_in_progress_to_task().
 */
#include "fetcher-private.h"

static const char *
engine_get_name (FetcherBackend *backend)
{
  return "libkaa";
}

static gboolean
engine_can_pause (FetcherBackend *backend)
{
  return TRUE;
}

static guint
engine_add (FetcherBackend *backend,
            const char     *url)
{
  FetcherDownload *d = fetcher_engine_add (FETCHER_ENGINE (backend), url);

  return d != NULL ? d->id : 0;
}

static guint
engine_get_n_rows (FetcherBackend *backend)
{
  return FETCHER_ENGINE (backend)->downloads->len;
}

static gboolean
engine_get_row (FetcherBackend *backend,
                guint           id,
                FetcherRowInfo *info)
{
  FetcherDownload *d = fetcher_engine_find (FETCHER_ENGINE (backend), id);
  gboolean running;

  if (d == NULL)
    return FALSE;
  running = d->state == FETCHER_STATE_RUNNING && !fetcher_download_is_paused (d);
  *info = (FetcherRowInfo) {
    .id = d->id, .url = d->url, .path = d->path, .state = d->state,
    .paused = fetcher_download_is_paused (d), .attempts = d->attempts,
    .received = d->received, .total = d->total,
    .rate = running ? kaa_in_progress_get_rate (d->in_progress) : 0,
    .eta = running ? kaa_in_progress_get_eta (d->in_progress) : -1,
    .sha256 = d->state == FETCHER_STATE_DONE ? d->sha256 : NULL,
    .error = d->error,
  };
  return TRUE;
}

/* Pause, resume or cancel one: @control is the download's own. */
static gboolean
engine_control (FetcherBackend *backend,
                guint           id,
                void          (*control) (FetcherDownload *d))
{
  FetcherDownload *d = fetcher_engine_find (FETCHER_ENGINE (backend), id);

  if (d != NULL)
    control (d);
  return d != NULL;
}

static gboolean
engine_pause (FetcherBackend *backend,
              guint           id)
{
  return engine_control (backend, id, fetcher_download_pause);
}

static gboolean
engine_resume (FetcherBackend *backend,
               guint           id)
{
  return engine_control (backend, id, fetcher_download_resume);
}

static gboolean
engine_cancel (FetcherBackend *backend,
               guint           id)
{
  return engine_control (backend, id, fetcher_download_cancel);
}

static void
engine_pause_all (FetcherBackend *backend)
{
  fetcher_engine_pause_all (FETCHER_ENGINE (backend));
}

static void
engine_resume_all (FetcherBackend *backend)
{
  fetcher_engine_resume_all (FETCHER_ENGINE (backend));
}

static void
engine_cancel_all (FetcherBackend *backend)
{
  fetcher_engine_cancel_all (FETCHER_ENGINE (backend));
}

static void
engine_search_async (FetcherBackend      *backend,
                     const char          *text,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  FetcherEngine *self = FETCHER_ENGINE (backend);
  g_autoptr(KaaInProgress) search = NULL;

  if (self->scope != NULL)
    search = fetcher_engine_search (self, text);
  else
    {
      g_autoptr(GError) closed = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                                      "The fetcher is closed");

      search = kaa_in_progress_new_for_error (closed);
    }
  kaa_in_progress_to_task (search, self, NULL, callback, user_data, engine_search_async);
}

static GPtrArray *
engine_search_finish (FetcherBackend  *backend,
                      GAsyncResult    *result,
                      GError         **error)
{
  g_autoptr(KaaInProgress) search =
    kaa_in_progress_from_task (result, backend, engine_search_async, error);

  return search != NULL ? g_ptr_array_ref (kaa_in_progress_get_pointer (search)) : NULL;
}

static void
engine_bind (FetcherBackend *backend,
             gpointer        owner)
{
  fetcher_engine_bind (FETCHER_ENGINE (backend), owner);
}

static void
engine_get_stats (FetcherBackend      *backend,
                  FetcherBackendStats *stats)
{
  FetcherEngine *self = FETCHER_ENGINE (backend);
  FetcherStats history;

  fetcher_history_get_stats (self->history, &history);
  *stats = (FetcherBackendStats) {
    .jobs_running = history.jobs_running,
    .rows_pending = history.rows_pending,
    .last_attempt_at = self->last_attempt_at,
  };
  for (guint i = 0; i < self->downloads->len; i++)
    stats->active += ((FetcherDownload *) self->downloads->pdata[i])->state < FETCHER_STATE_DONE;
}

void
fetcher_engine_backend_init (FetcherBackendInterface *iface)
{
  iface->get_name = engine_get_name;
  iface->can_pause = engine_can_pause;
  iface->add = engine_add;
  iface->get_n_rows = engine_get_n_rows;
  iface->get_row = engine_get_row;
  iface->pause = engine_pause;
  iface->resume = engine_resume;
  iface->cancel = engine_cancel;
  iface->pause_all = engine_pause_all;
  iface->resume_all = engine_resume_all;
  iface->cancel_all = engine_cancel_all;
  iface->search_async = engine_search_async;
  iface->search_finish = engine_search_finish;
  iface->bind = engine_bind;
  iface->get_stats = engine_get_stats;
}

static void
on_download_progress (KaaInProgress *ip,
                      gpointer       data)
{
  FetcherDownload *d = data;

  fetcher_backend_emit_row_changed (FETCHER_BACKEND (d->engine), d->id);
}

/* A download was added or changed: its row too, and from now on each of
 * its progress reports. */
void
fetcher_engine_backend_changed (FetcherEngine   *engine,
                                FetcherDownload *d)
{
  if (d->progress_id == 0 && d->in_progress != NULL)
    d->progress_id = kaa_in_progress_connect_progress (d->in_progress, on_download_progress,
                                                       d, NULL);
  fetcher_backend_emit_row_changed (FETCHER_BACKEND (engine), d->id);
}
