/* fetcher-private.h: what the engine's three files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

#include "fetcher-backend.h"

G_BEGIN_DECLS

typedef struct _FetcherHistory FetcherHistory;

struct _FetcherDownload
{
  FetcherEngine *engine;     /* not a reference: the engine cancels us before it goes */
  guint          id;
  char          *url;
  char          *path;
  FetcherState   state;
  gboolean       paused;     /* paused by itself, apart from Pause all */
  guint          attempts;
  gint64         received;
  gint64         total;      /* -1 while unknown */
  char          *sha256;
  GError        *error;      /* why it failed, or the last attempt's failure */
  KaaInProgress *in_progress;
  gulong         progress_id; /* FetcherBackend's "row-changed" on progress */
};

struct _FetcherEngine
{
  GObject         parent_instance;
  FetcherConfig   config;
  char           *directory;
  SoupSession    *session;
  KaaSemaphore   *limit;
  KaaScope       *scope;      /* downloads and searches; Cancel all replaces it */
  GObject        *owner;      /* weak: each scope ends with it (a window) */
  gboolean        bound;      /* to an owner: once it is gone, the engine is closed */
  gboolean        paused_all;
  GPtrArray      *downloads;  /* FetcherDownload, in the order they were added */
  guint           next_id;
  FetcherHistory *history;
  gint64          last_attempt_at; /* monotonic */
};

/* fetcher-download.c */
KaaInProgress  *fetcher_download_start      (FetcherDownload *download);
void            fetcher_download_free       (FetcherDownload *download);
void            fetcher_engine_emit_changed (FetcherEngine   *engine,
                                             FetcherDownload *download);

/* fetcher-engine-backend.c */
void            fetcher_engine_backend_init    (FetcherBackendInterface *iface);
void            fetcher_engine_backend_changed (FetcherEngine           *engine,
                                                FetcherDownload         *download);

/* fetcher-history.c */
FetcherHistory *fetcher_history_open        (const char      *path,
                                             guint            throttle_usec,
                                             GError         **error);
void            fetcher_history_record      (FetcherHistory  *history,
                                             FetcherDownload *download);
KaaInProgress  *fetcher_history_search      (FetcherHistory  *history,
                                             const char      *text);
KaaInProgress  *fetcher_history_seed        (FetcherHistory  *history,
                                             guint            n_rows);
KaaInProgress  *fetcher_history_close       (FetcherHistory  *history);
void            fetcher_history_free        (FetcherHistory  *history);
void            fetcher_history_get_stats   (FetcherHistory  *history,
                                             FetcherStats    *stats);
GArray         *fetcher_history_dup_log     (FetcherHistory  *history);

G_END_DECLS
