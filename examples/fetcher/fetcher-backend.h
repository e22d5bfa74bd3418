/* fetcher-backend.h: what the window and D-Bus need of an engine
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One small interface, implemented by the libkaa engine (fetcher-engine.c,
 * fetcher-engine-backend.c) and by the GTask twin (twin-backend.c), so
 * that the window (kaa-fetcher, or kaa-fetcher --twin), its self-test,
 * the D-Bus interface and the benches run on either. Downloads are named
 * by their id, 1 for the first one added, then 2, 3 and so on; a
 * download stays listed after it ended.
 */
#pragma once

#include "fetcher-engine.h"

G_BEGIN_DECLS

/* One download as the backend sees it now. The strings and the error are
 * the backend's, valid until it next runs on the main loop. */
typedef struct
{
  guint         id;
  const char   *url;
  const char   *path;
  FetcherState  state;
  gboolean      paused;
  guint         attempts;
  gint64        received;
  gint64        total;      /* -1 while unknown */
  double        rate;       /* bytes a second, 0 while unknown */
  double        eta;        /* seconds left, -1 while unknown */
  const char   *sha256;     /* NULL unless done */
  const GError *error;      /* why it failed, or the last attempt's failure */
} FetcherRowInfo;

/* The live counters, for "nothing runs after close". */
typedef struct
{
  guint  active;            /* downloads not ended yet */
  guint  jobs_running;      /* history jobs (writes, searches) on their threads */
  guint  rows_pending;      /* ended downloads whose history row is not written yet */
  gint64 last_attempt_at;   /* monotonic: when the latest download attempt started */
} FetcherBackendStats;

#define FETCHER_TYPE_BACKEND (fetcher_backend_get_type ())
G_DECLARE_INTERFACE (FetcherBackend, fetcher_backend, FETCHER, BACKEND, GObject)

struct _FetcherBackendInterface
{
  GTypeInterface parent_iface;

  const char *(*get_name)      (FetcherBackend       *self);
  gboolean    (*can_pause)     (FetcherBackend       *self);
  guint       (*add)           (FetcherBackend       *self,
                                const char           *url);
  guint       (*get_n_rows)    (FetcherBackend       *self);
  gboolean    (*get_row)       (FetcherBackend       *self,
                                guint                 id,
                                FetcherRowInfo       *info);
  gboolean    (*pause)         (FetcherBackend       *self,
                                guint                 id);
  gboolean    (*resume)        (FetcherBackend       *self,
                                guint                 id);
  gboolean    (*cancel)        (FetcherBackend       *self,
                                guint                 id);
  void        (*pause_all)     (FetcherBackend       *self);
  void        (*resume_all)    (FetcherBackend       *self);
  void        (*cancel_all)    (FetcherBackend       *self);
  void        (*search_async)  (FetcherBackend       *self,
                                const char           *text,
                                GAsyncReadyCallback   callback,
                                gpointer              user_data);
  GPtrArray  *(*search_finish) (FetcherBackend       *self,
                                GAsyncResult         *result,
                                GError              **error);
  void        (*bind)          (FetcherBackend       *self,
                                gpointer              owner);
  void        (*get_stats)     (FetcherBackend       *self,
                                FetcherBackendStats  *stats);
};

const char *fetcher_backend_get_name      (FetcherBackend       *self);
gboolean    fetcher_backend_can_pause     (FetcherBackend       *self);
guint       fetcher_backend_add           (FetcherBackend       *self,
                                           const char           *url);
guint       fetcher_backend_get_n_rows    (FetcherBackend       *self);
gboolean    fetcher_backend_get_row       (FetcherBackend       *self,
                                           guint                 id,
                                           FetcherRowInfo       *info);
gboolean    fetcher_backend_pause         (FetcherBackend       *self,
                                           guint                 id);
gboolean    fetcher_backend_resume        (FetcherBackend       *self,
                                           guint                 id);
gboolean    fetcher_backend_cancel        (FetcherBackend       *self,
                                           guint                 id);
void        fetcher_backend_pause_all     (FetcherBackend       *self);
void        fetcher_backend_resume_all    (FetcherBackend       *self);
void        fetcher_backend_cancel_all    (FetcherBackend       *self);
void        fetcher_backend_search_async  (FetcherBackend       *self,
                                           const char           *text,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
GPtrArray  *fetcher_backend_search_finish (FetcherBackend       *self,
                                           GAsyncResult         *result,
                                           GError              **error);
void        fetcher_backend_bind          (FetcherBackend       *self,
                                           gpointer              owner);
void        fetcher_backend_get_stats     (FetcherBackend       *self,
                                           FetcherBackendStats  *stats);
void        fetcher_backend_emit_row_changed (FetcherBackend    *self,
                                              guint              id);
const char *fetcher_state_name            (FetcherState          state);

G_END_DECLS
