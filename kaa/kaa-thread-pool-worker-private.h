/* kaa-thread-pool-worker-private.h: between a pool and its workers (layer 4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * kaa-thread-pool.c submits, kaa-thread-pool-worker.c runs the threads,
 * kaa-thread-pool-registry.c makes and stops a pool; all three read the
 * pool's state, which lives here. kaa-thread-pool-job.c does not: a job
 * reaches its pool only through the worker that runs it.
 */
#pragma once

#include "kaa-alloc-private.h"
#include "kaa-thread-pool-private.h"

G_BEGIN_DECLS

/* One worker thread (kaa-thread-pool-worker.c). */
typedef struct _Worker Worker;

struct _KaaThreadPool
{
  /* Read by every submission; seldom written. */
  char          *name;
  char          *thread_name;
  guint          max_threads;
  guint          n_threads;          /* atomic reads; written under the lock */
  Worker        *retired;            /* the same; exited, not joined yet */
  gint           idle_timeout_msec;  /* atomic */
  gint           shut_down;          /* atomic; written under the lock */
  KAA_CACHE_LINE_PAD (pad_read_mostly);

  /* Taken and dropped by each job, mostly on its owner thread. */
  KaaRefCount    ref_count;
  KAA_CACHE_LINE_PAD (pad_ref_count);

  /* Atomic: submitted jobs not queued yet, newest first, linked through
   * `next`. Pushed by any thread, emptied under the lock. */
  KaaThreadJob  *incoming;
  /* Atomic, written under the lock: idle workers before and after they
   * went to sleep; the first kind still reads `incoming`. */
  gint           n_spinning;
  gint           n_sleeping;
  KAA_CACHE_LINE_PAD (pad_incoming);

  GMutex         lock;
  /* Under the lock. */
  KaaJobQueue    queue;
  KaaThreadJob  *parked;
  KaaThreadJob  *running;
  Worker        *idle;               /* most recently idle first */
  guint          n_blocked;          /* workers waiting for this pool's jobs */
  GCond          checks;             /* paused kaa_thread_job_check() calls */
  GCond          exited;             /* a worker left: for shutdown */
};

/* kaa-thread-pool.c, under the lock: moves the incoming jobs into the
 * queue. */
void     kaa_thread_pool_take_incoming_unlocked (KaaThreadPool *pool);

/* kaa-thread-pool-worker.c. Under the lock: hands queued work to an idle
 * worker, or starts one; FALSE, with @error set, when the pool has no
 * thread and cannot start one. */
gboolean kaa_thread_pool_wake_unlocked          (KaaThreadPool *pool,
                                                 GError       **error);
/* Under the lock: wakes every idle worker, to see the shutdown. */
void     kaa_thread_pool_wake_idle_unlocked     (KaaThreadPool *pool);
/* Without the lock: joins and frees the workers that left, linked from
 * @worker. */
void     kaa_thread_pool_join_retired           (Worker        *worker);
/* Any thread: TRUE on a worker thread of @pool. */
gboolean kaa_thread_pool_is_own_thread          (KaaThreadPool *pool);
/* Any thread, about to block in kaa_in_progress_wait() on @job: FALSE,
 * with @error set, for a worker of @pool whose every other worker is
 * blocked the same way, as then no thread would ever run @job. After a
 * TRUE, kaa_thread_pool_unblock() follows when the wait is over. */
gboolean kaa_thread_pool_block                  (KaaThreadPool *pool,
                                                 KaaThreadJob  *job,
                                                 GError       **error);
void     kaa_thread_pool_unblock                (void);

G_END_DECLS
