/* fetcher-backend.c: the interface both engines implement
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fetcher-backend.h"

enum
{
  SIGNAL_ROW_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_INTERFACE (FetcherBackend, fetcher_backend, G_TYPE_OBJECT)

static void
fetcher_backend_default_init (FetcherBackendInterface *iface)
{
  /* A download was added, changed state or pause, or made progress (at
   * most about ten times a second each). */
  signals[SIGNAL_ROW_CHANGED] = g_signal_new ("row-changed", G_TYPE_FROM_INTERFACE (iface),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                              G_TYPE_NONE, 1, G_TYPE_UINT);
}

void
fetcher_backend_emit_row_changed (FetcherBackend *self,
                                  guint           id)
{
  g_signal_emit (self, signals[SIGNAL_ROW_CHANGED], 0, id);
}

#define IFACE(self) FETCHER_BACKEND_GET_IFACE (self)

const char *
fetcher_backend_get_name (FetcherBackend *self)
{
  return IFACE (self)->get_name (self);
}

/* FALSE: pause and resume fail, and the window greys their buttons out. */
gboolean
fetcher_backend_can_pause (FetcherBackend *self)
{
  return IFACE (self)->can_pause (self);
}

/* Starts a download of @url; its id, or 0 once the backend is closed. */
guint
fetcher_backend_add (FetcherBackend *self,
                     const char     *url)
{
  return IFACE (self)->add (self, url);
}

/* The number of downloads added, the ids being 1 to that. */
guint
fetcher_backend_get_n_rows (FetcherBackend *self)
{
  return IFACE (self)->get_n_rows (self);
}

gboolean
fetcher_backend_get_row (FetcherBackend *self,
                         guint           id,
                         FetcherRowInfo *info)
{
  return IFACE (self)->get_row (self, id, info);
}

/* FALSE for an unknown id, or when the backend cannot pause. */
gboolean
fetcher_backend_pause (FetcherBackend *self,
                       guint           id)
{
  return IFACE (self)->pause (self, id);
}

gboolean
fetcher_backend_resume (FetcherBackend *self,
                        guint           id)
{
  return IFACE (self)->resume (self, id);
}

/* FALSE for an unknown id. The libkaa engine returns with the download
 * ended; the twin's ends when its pending callback comes back. */
gboolean
fetcher_backend_cancel (FetcherBackend *self,
                        guint           id)
{
  return IFACE (self)->cancel (self, id);
}

void
fetcher_backend_pause_all (FetcherBackend *self)
{
  IFACE (self)->pause_all (self);
}

void
fetcher_backend_resume_all (FetcherBackend *self)
{
  IFACE (self)->resume_all (self);
}

void
fetcher_backend_cancel_all (FetcherBackend *self)
{
  IFACE (self)->cancel_all (self);
}

/* A type-ahead search of the history for URLs holding @text: it cancels
 * the search before it, whose callback gets G_IO_ERROR_CANCELLED. */
void
fetcher_backend_search_async (FetcherBackend      *self,
                              const char          *text,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  IFACE (self)->search_async (self, text, callback, user_data);
}

/* Returns: (transfer container): FetcherRecord, or NULL with @error set. */
GPtrArray *
fetcher_backend_search_finish (FetcherBackend  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  return IFACE (self)->search_finish (self, result, error);
}

/* When @owner (a window) goes, everything the backend started is
 * cancelled and it takes no more downloads. */
void
fetcher_backend_bind (FetcherBackend *self,
                      gpointer        owner)
{
  IFACE (self)->bind (self, owner);
}

void
fetcher_backend_get_stats (FetcherBackend      *self,
                           FetcherBackendStats *stats)
{
  IFACE (self)->get_stats (self, stats);
}

const char *
fetcher_state_name (FetcherState state)
{
  static const char * const names[] = {
    [FETCHER_STATE_QUEUED] = "queued",
    [FETCHER_STATE_RUNNING] = "running",
    [FETCHER_STATE_RETRYING] = "retrying",
    [FETCHER_STATE_DONE] = "done",
    [FETCHER_STATE_FAILED] = "failed",
    [FETCHER_STATE_CANCELLED] = "cancelled",
  };

  return names[state];
}
