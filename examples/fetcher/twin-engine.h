/* twin-engine.h: the engine's downloads and search with GTask and callbacks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The GTask twin of fetcher-engine.h (issue 23), for docs/fetcher.md:
 * the same downloads (at most N at once, retries with backoff under a
 * deadline, a stall timer, progress, Cancel all) and the same
 * type-ahead search over the same SQLite table, with plain GIO async
 * calls, GCancellable and GTask, and no libkaa. It has no pause: see
 * docs/fetcher.md for what that would take.
 */
#pragma once

#include "fetcher-engine.h"

G_BEGIN_DECLS

typedef struct _TwinEngine TwinEngine;
typedef struct _TwinDownload TwinDownload;

TwinEngine   *twin_engine_new          (const char          *directory,
                                        const char          *database,
                                        const FetcherConfig *config,
                                        GError             **error);
void          twin_engine_free         (TwinEngine          *self);
TwinDownload *twin_engine_add          (TwinEngine          *self,
                                        const char          *url);
void          twin_engine_cancel_all   (TwinEngine          *self);
gboolean      twin_engine_is_quiet     (TwinEngine          *self);
void          twin_engine_search       (TwinEngine          *self,
                                        const char          *text,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
GPtrArray    *twin_engine_search_finish (TwinEngine         *self,
                                         GAsyncResult       *result,
                                         GError            **error);

FetcherState  twin_download_get_state  (TwinDownload        *self);
const char   *twin_download_get_sha256 (TwinDownload        *self);
guint         twin_download_get_attempts (TwinDownload      *self);
const GError *twin_download_get_error  (TwinDownload        *self);

G_END_DECLS
