/* fetcher-engine.h: the download manager's engine, which knows nothing of GTK
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Downloads over libsoup 3 into files, a SQLite history on a libkaa
 * thread pool, and a type-ahead search over it. The window (and the
 * tests, without a display) only drive it and follow its "changed"
 * signal and the InProgress of each download.
 */
#pragma once

#include <kaa/kaa.h>

G_BEGIN_DECLS

#define FETCHER_ERROR (fetcher_error_quark ())

typedef enum
{
  FETCHER_ERROR_HTTP,        /* the server answered with an error status */
  FETCHER_ERROR_TRUNCATED,   /* the body ended before its Content-Length */
  FETCHER_ERROR_GAVE_UP,     /* the deadline passed, retries included */
} FetcherError;

typedef enum
{
  FETCHER_STATE_QUEUED,      /* waiting for one of the N permits */
  FETCHER_STATE_RUNNING,
  FETCHER_STATE_RETRYING,    /* an attempt failed: backing off */
  FETCHER_STATE_DONE,
  FETCHER_STATE_FAILED,
  FETCHER_STATE_CANCELLED,
} FetcherState;

typedef struct
{
  guint max_parallel;         /* downloads at once: the semaphore's permits */
  guint deadline_msec;        /* per download, every attempt and backoff included */
  guint stall_msec;           /* a read without data for that long fails the attempt */
  guint backoff_msec;         /* the first pause between attempts, then doubled */
  guint search_throttle_usec; /* sleeps per SQLite progress tick: a slow disk, for
                               * the demo and the tests; 0 in real use */
} FetcherConfig;

/* What the history holds of one download. */
typedef struct
{
  gint64  id;
  char   *url;
  char   *state;      /* "done", "failed" or "cancelled" */
  gint64  bytes;
  char   *sha256;     /* NULL unless done */
} FetcherRecord;

/* Counters of the history's jobs, for the tests and the window's status line. */
typedef struct
{
  gint jobs_started;
  gint jobs_running;
  gint interrupted;        /* queries that ended with SQLITE_INTERRUPT */
  gint progress_ticks;     /* calls of the sqlite3_progress_handler */
  gint rows_pending;       /* records handed to the writer, not written yet */
} FetcherStats;

/* One history job that got past its first check, for the tests' "no job
 * ran after its cancel". */
typedef struct
{
  const char *kind;        /* "insert", "seed" or "search" */
  char       *text;        /* what a search looked for */
  gint64      started_at;  /* monotonic, taken before the check that let it run */
  gint64      ended_at;
  gboolean    interrupted; /* its query ended with SQLITE_INTERRUPT */
} FetcherJobLog;

typedef struct _FetcherDownload FetcherDownload;

#define FETCHER_TYPE_ENGINE (fetcher_engine_get_type ())
G_DECLARE_FINAL_TYPE (FetcherEngine, fetcher_engine, FETCHER, ENGINE, GObject)

GQuark           fetcher_error_quark         (void);
void             fetcher_record_free         (FetcherRecord *record);
void             fetcher_job_log_clear       (gpointer       entry);

FetcherEngine   *fetcher_engine_new          (const char          *directory,
                                              const char          *database,
                                              const FetcherConfig *config,
                                              GError             **error);
FetcherDownload *fetcher_engine_add          (FetcherEngine       *self,
                                              const char          *url);
GPtrArray       *fetcher_engine_get_downloads (FetcherEngine      *self);
FetcherDownload *fetcher_engine_find         (FetcherEngine       *self,
                                              guint                id);
void             fetcher_engine_pause_all    (FetcherEngine       *self);
void             fetcher_engine_resume_all   (FetcherEngine       *self);
gboolean         fetcher_engine_is_paused    (FetcherEngine       *self);
void             fetcher_engine_cancel_all   (FetcherEngine       *self);
KaaInProgress   *fetcher_engine_search       (FetcherEngine       *self,
                                              const char          *text);
KaaInProgress   *fetcher_engine_seed_history (FetcherEngine       *self,
                                              guint                n_rows);
KaaInProgress   *fetcher_engine_close        (FetcherEngine       *self);
KaaScope        *fetcher_engine_get_scope    (FetcherEngine       *self);
void             fetcher_engine_bind         (FetcherEngine       *self,
                                              gpointer             owner);
void             fetcher_engine_get_stats    (FetcherEngine       *self,
                                              FetcherStats        *stats);
GArray          *fetcher_engine_dup_job_log  (FetcherEngine       *self);

guint            fetcher_download_get_id       (FetcherDownload *self);
const char      *fetcher_download_get_url      (FetcherDownload *self);
const char      *fetcher_download_get_path     (FetcherDownload *self);
FetcherState     fetcher_download_get_state    (FetcherDownload *self);
gboolean         fetcher_download_is_paused    (FetcherDownload *self);
guint            fetcher_download_get_attempts (FetcherDownload *self);
gint64           fetcher_download_get_received (FetcherDownload *self);
gint64           fetcher_download_get_total    (FetcherDownload *self);
const char      *fetcher_download_get_sha256   (FetcherDownload *self);
const GError    *fetcher_download_get_error    (FetcherDownload *self);
KaaInProgress   *fetcher_download_get_in_progress (FetcherDownload *self);
void             fetcher_download_pause        (FetcherDownload *self);
void             fetcher_download_resume       (FetcherDownload *self);
void             fetcher_download_cancel       (FetcherDownload *self);

G_END_DECLS
