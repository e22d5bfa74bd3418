/* kaa-thread-pool-private.h: between the pool and its jobs (layer 4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "kaa-thread-pool.h"
#include "kaa-in-progress-private.h"
#include "kaa-refcount-private.h"

G_BEGIN_DECLS

/* Where a job is; under its pool's lock, which never sees JOB_INCOMING
 * (kaa_thread_pool_lock() queues what came in). */
typedef enum
{
  JOB_INCOMING,  /* submitted: on the pool's incoming stack */
  JOB_QUEUED,    /* in its priority's FIFO */
  JOB_PARKED,    /* paused before it started: in the parked list */
  JOB_RUNNING,   /* a worker runs it: in the running list */
  JOB_DONE,      /* ran, or will never run */
} KaaThreadJobState;

typedef enum
{
  JOB_RESULT_RETURNED,   /* the function's return value, no destroy */
  JOB_RESULT_POINTER,
  JOB_RESULT_BOOLEAN,
  JOB_RESULT_INT64,
  JOB_RESULT_DOUBLE,
  JOB_RESULT_STRING,
  JOB_RESULT_OBJECT,
} KaaThreadJobResult;

struct _KaaThreadJob
{
  KaaProducer        producer;      /* first: the InProgress's hooks */
  KaaRefCount        ref_count;
  KaaThreadPool     *pool;          /* owned */
  KaaInProgress     *in_progress;   /* owned */
  KaaThreadFunc      func;
  gpointer           user_data;
  GDestroyNotify     destroy;       /* NULL once called */
  gint               priority;
  guint64            seq;           /* FIFO order within a priority */

  /* Under the pool's lock. */
  KaaThreadJobState  state;
  KaaThreadJob      *prev;          /* FIFO, parked or running list */
  KaaThreadJob      *next;

  gint               paused;        /* atomic; written under the pool's lock */

  /* Written by the worker, read on the owner after the inbox handed the
   * job over (the inbox push is a full barrier). */
  KaaThreadJobResult result_kind;
  union
  {
    gpointer         v_pointer;
    gboolean         v_boolean;
    gint64           v_int64;
    gdouble          v_double;
  } result;
  GDestroyNotify     result_destroy;
  GError            *error;
  KaaRunnable        complete;
  KaaMortal          mortal;        /* owner thread: tracked if submitted there */
  /* Sysprof clock (ns), 0 without a capture: at submit (owner), then
   * when the worker began and ended it (worker; read on the owner after
   * the inbox handed the job over). */
  gint64             trace_queued;
  gint64             trace_started;
  gint64             trace_ended;
};

/* kaa-thread-pool-queue.c: the queued jobs of one priority, oldest
 * first, linked through the jobs' prev/next; and all of them. */
typedef struct
{
  gint          priority;
  KaaThreadJob *head;
  KaaThreadJob *tail;
} KaaJobBucket;

typedef struct
{
  KaaJobBucket *buckets;       /* highest priority first */
  guint         n_buckets;
  guint         buckets_alloc;
  guint64       next_seq;
} KaaJobQueue;

/* Appends a new @job to its priority's FIFO, numbering it. */
void          kaa_job_queue_push            (KaaJobQueue   *queue,
                                             KaaThreadJob  *job);
/* Puts back a job that left (a resumed one), in its place by number. */
void          kaa_job_queue_insert          (KaaJobQueue   *queue,
                                             KaaThreadJob  *job);
void          kaa_job_queue_remove          (KaaJobQueue   *queue,
                                             KaaThreadJob  *job);
void          kaa_job_queue_clear           (KaaJobQueue   *queue);

static inline gboolean
kaa_job_queue_is_empty (KaaJobQueue *queue)
{
  return queue->n_buckets == 0;
}

/* The oldest job of the highest priority, or NULL. */
static inline KaaThreadJob *
kaa_job_queue_peek (KaaJobQueue *queue)
{
  return queue->n_buckets > 0 ? queue->buckets[0].head : NULL;
}

/* A parked or running list, through the same prev/next. */
void          kaa_job_list_add              (KaaThreadJob **head,
                                             KaaThreadJob  *job);
void          kaa_job_list_remove           (KaaThreadJob **head,
                                             KaaThreadJob  *job);

/* A new pool, not registered (kaa-thread-pool-registry.c registers it). */
KaaThreadPool *kaa_thread_pool_create       (const char    *name,
                                             guint          max_threads) G_GNUC_WARN_UNUSED_RESULT;
/* Called by kaa_thread_pool_unref() when @pool is down to one reference:
 * a pool from kaa_thread_pool_new() then gives its name back, since that
 * one is the registry's (kaa-thread-pool-registry.c). */
void          kaa_thread_pool_release_name  (KaaThreadPool *pool);
/* Stops @pool: see kaa_thread_pool_shutdown(); @at_exit touches no
 * InProgress, and the workers are waited for until @deadline (monotonic
 * microseconds, -1 for no limit). */
void          kaa_thread_pool_stop          (KaaThreadPool *pool,
                                             gboolean       at_exit,
                                             gint64         deadline);

/* Lock order: a pool's lock is innermost; nothing that may call into an
 * InProgress (cancel, settle, callbacks) runs while it is held. Taking it
 * queues the jobs submitted since, so their state is one of the others. */
void          kaa_thread_pool_lock          (KaaThreadPool *pool);
void          kaa_thread_pool_unlock        (KaaThreadPool *pool);
/* With the lock held. */
void          kaa_thread_pool_unqueue_unlocked     (KaaThreadPool *pool,
                                                    KaaThreadJob  *job);
void          kaa_thread_pool_park_unlocked        (KaaThreadPool *pool,
                                                    KaaThreadJob  *job);
void          kaa_thread_pool_requeue_unlocked     (KaaThreadPool *pool,
                                                    KaaThreadJob  *job);
void          kaa_thread_pool_wake_checks_unlocked (KaaThreadPool *pool);
/* Any thread: TRUE once kaa_thread_pool_shutdown() (or process exit)
 * began; running jobs' checks fail from then on. */
gboolean      kaa_thread_pool_is_shut_down  (KaaThreadPool *pool);
/* Blocks in kaa_thread_job_check() while @job is paused. */
void          kaa_thread_pool_wait_paused   (KaaThreadPool *pool,
                                             KaaThreadJob  *job);
/* Any thread, about to block in kaa_in_progress_wait() on @job: FALSE,
 * with @error set, for a worker of @pool whose every other worker is
 * blocked the same way, as then no thread would ever run @job. After a
 * TRUE, kaa_thread_pool_unblock() follows when the wait is over. */
gboolean      kaa_thread_pool_block         (KaaThreadPool *pool,
                                             KaaThreadJob  *job,
                                             GError       **error);
void          kaa_thread_pool_unblock       (void);

KaaThreadJob *kaa_thread_job_new            (KaaThreadPool *pool,
                                             gint           priority,
                                             KaaThreadFunc  func,
                                             gpointer       user_data,
                                             GDestroyNotify destroy);
/* Gives back job memory that stayed unused for a decay period (see
 * kaa-block-cache-private.h), or all of it; any thread. */
void          kaa_thread_job_cache_decay    (gboolean       all);
/* For tests: how many job blocks are kept. */
guint         kaa_thread_job_cache_get_n_cached_for_testing (void);
KaaThreadJob *kaa_thread_job_ref            (KaaThreadJob  *job);
void          kaa_thread_job_unref          (KaaThreadJob  *job);
/* Worker thread: runs the function and keeps its outcome. */
void          kaa_thread_job_execute        (KaaThreadJob  *job);
/* Owner thread: the job is cancelled if its context dies. */
void          kaa_thread_job_track          (KaaThreadJob  *job);
/* Worker thread, after the pool let go of @job: hands the outcome, and
 * the caller's reference, to the owner context through its inbox; *@held
 * is the worker's reference on the last scheduler it delivered to. */
void          kaa_thread_job_deliver        (KaaThreadJob  *job,
                                             KaaScheduler **held);

G_END_DECLS
