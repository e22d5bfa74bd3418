/* twin-engine.h: the engine's downloads and search with GTask and callbacks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The GTask twin of fetcher-engine.h (issue 23), for docs/fetcher.md:
 * the same downloads (at most N at once, retries with backoff under a
 * deadline, a stall timer, progress, Cancel all) and the same
 * type-ahead search over the same SQLite table, with plain GIO async
 * calls, GCancellable and GTask, and no libkaa. Its history rows are
 * written by GTasks on a thread (g_task_run_in_thread()), one at a
 * time. It has no pause: see docs/fetcher.md for what that would take.
 * twin-backend.c puts it behind FetcherBackend, for the window.
 */
#pragma once

#include "fetcher-backend.h"

G_BEGIN_DECLS

typedef struct _TwinEngine TwinEngine;
typedef struct _TwinDownload TwinDownload;

typedef void (*TwinNotify) (TwinEngine *engine,
                            guint       id,
                            gpointer    data);

TwinEngine   *twin_engine_new          (const char          *directory,
                                        const char          *database,
                                        const FetcherConfig *config,
                                        GError             **error);
void          twin_engine_free         (TwinEngine          *self);
void          twin_engine_free_when_quiet (TwinEngine       *self);
guint         twin_engine_get_n_alive  (void);
void          twin_engine_set_notify   (TwinEngine          *self,
                                        TwinNotify           notify,
                                        gpointer             data);
TwinDownload *twin_engine_add          (TwinEngine          *self,
                                        const char          *url);
gboolean      twin_engine_cancel       (TwinEngine          *self,
                                        guint                id);
void          twin_engine_cancel_all   (TwinEngine          *self);
void          twin_engine_close        (TwinEngine          *self);
guint         twin_engine_get_n_downloads (TwinEngine       *self);
gboolean      twin_engine_get_row      (TwinEngine          *self,
                                        guint                id,
                                        FetcherRowInfo      *info);
void          twin_engine_get_stats    (TwinEngine          *self,
                                        FetcherBackendStats *stats);
gboolean      twin_engine_is_quiet     (TwinEngine          *self);
void          twin_engine_search       (TwinEngine          *self,
                                        const char          *text,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
GPtrArray    *twin_engine_search_finish (TwinEngine         *self,
                                         GAsyncResult       *result,
                                         GError            **error);

guint         twin_download_get_id     (TwinDownload        *self);
FetcherState  twin_download_get_state  (TwinDownload        *self);
const char   *twin_download_get_sha256 (TwinDownload        *self);
guint         twin_download_get_attempts (TwinDownload      *self);
const GError *twin_download_get_error  (TwinDownload        *self);

/* twin-backend.c: the twin behind FetcherBackend */
#define TWIN_TYPE_BACKEND (twin_backend_get_type ())
G_DECLARE_FINAL_TYPE (TwinBackend, twin_backend, TWIN, BACKEND, GObject)

FetcherBackend *twin_backend_new (const char          *directory,
                                  const char          *database,
                                  const FetcherConfig *config,
                                  GError             **error);

G_END_DECLS
