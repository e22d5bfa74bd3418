/* kaa-thread-pool-private.h: a pool's jobs, as its files share them (layer 4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "kaa-thread-pool.h"
#include "kaa-in-progress-private.h"
#include "kaa-refcount-private.h"

G_BEGIN_DECLS

/* Where a job is; under its pool's lock, which never sees JOB_INCOMING
 * (pool_lock() in kaa-thread-pool.c queues what came in). */
typedef enum
{
  JOB_INCOMING,  /* submitted: on the pool's incoming stack */
  JOB_QUEUED,    /* in its priority's FIFO */
  JOB_PARKED,    /* paused before it started: in the parked list */
  JOB_RUNNING,   /* a worker runs it: in the running list */
  JOB_DONE,      /* ran, or will never run */
} KaaThreadJobState;

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
  KaaOutcome         outcome;       /* empty until a return or the end */
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

/* kaa-thread-pool.c: gives back job memory that stayed unused for a
 * decay period (see kaa-thread-pool-block-cache-private.h), or all of
 * it; any thread. */
void          kaa_thread_job_cache_decay    (gboolean       all);
/* For tests: how many job blocks are kept. */
guint         kaa_thread_job_cache_get_n_cached_for_testing (void);
/* kaa-thread-pool-job.c. */
KaaThreadJob *kaa_thread_job_ref            (KaaThreadJob  *job);
void          kaa_thread_job_unref          (KaaThreadJob  *job);
/* Worker thread: runs the function and keeps its outcome. */
void          kaa_thread_job_execute        (KaaThreadJob  *job);
/* Worker thread, after the pool let go of @job: hands the outcome, and
 * the caller's reference, to the owner context through its inbox; *@held
 * is the worker's reference on the last scheduler it delivered to. */
void          kaa_thread_job_deliver        (KaaThreadJob  *job,
                                             KaaScheduler **held);

G_END_DECLS
