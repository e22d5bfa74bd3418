/* kaa-thread-pool.c: a job's way into its pool, and back out on a cancel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * KaaThreadPool: a priority queue of jobs and the workers that run them.
 * This file is the side of the pool that the submitting and owner threads
 * see: a job is made and queued here (kaa_thread_run() down to
 * pool_submit_taking_lock()), and its InProgress's hooks (cancel, pause,
 * resume, on the owner thread) take it out of the queue or put it back.
 * A worker then runs it (kaa-thread-pool-worker.c) and hands it to its
 * owner, where it settles (kaa-thread-pool-job.c). A pool's life, from
 * creation to shutdown, is in kaa-thread-pool-registry.c, and its state in
 * kaa-thread-pool-worker-private.h.
 *
 * Threads: the pool's state lives under its one lock: the queued jobs
 * (kaa-thread-pool-queue.c), the list of jobs parked by a pause before
 * they started, the running list, and the idle workers. Each idle worker
 * sleeps on its own condition variable and is woken by the one submission
 * that picked it, so a burst of jobs wakes no thread twice. The lock is
 * never held while anything calls into an InProgress: cancel, settle and
 * callbacks happen after it is dropped.
 *
 * Submissions: a job first goes on a lock-free stack, the incoming list,
 * which whoever takes the lock moves into the queue. A submitter takes the
 * lock only when no awake worker is sure to look at that list (see
 * pool_submit_needs_lock()), so a flood of jobs into busy workers costs the
 * submitting thread one compare-and-swap per job, and it never fights the
 * workers for the lock.
 *
 * References: the InProgress's producer slot holds one on the job until
 * it settles; the pool holds one while the job is queued or running,
 * which the completion then takes to the owner. The job holds one on its
 * InProgress and one on its pool.
 */
#include "config.h"

#include "kaa-alloc-private.h"
#include "kaa-i18n-private.h"
#include "kaa-error.h"
#include "kaa-live-private.h"
#include "kaa-trace-private.h"
#include "kaa-thread-pool-block-cache-private.h"
#include "kaa-thread-pool-worker-private.h"

/* How long the owner context polls for completions after a submission
 * instead of sleeping (kaa_scheduler_expect_remote()): a trivial job's
 * round trip, with margin. */
#define OWNER_POLL_USEC 50

/* A job and its InProgress share one block, kept across bursts
 * (kaa-thread-pool-block-cache-private.h says why). */
static KaaBlockCache job_blocks = KAA_BLOCK_CACHE_INIT;

static void
job_block_free (gpointer block)
{
  kaa_block_cache_free (&job_blocks, block);
}

void
kaa_thread_job_cache_decay (gboolean all)
{
  kaa_block_cache_decay (&job_blocks, g_get_monotonic_time (), all);
}

guint
kaa_thread_job_cache_get_n_cached_for_testing (void)
{
  return kaa_block_cache_get_n_cached (&job_blocks);
}

/* Under the lock: moves the incoming jobs into the queue, oldest first,
 * so that their order of submission is their FIFO order. */
void
kaa_thread_pool_take_incoming_unlocked (KaaThreadPool *pool)
{
  KaaThreadJob *newest = g_atomic_pointer_exchange (&pool->incoming, NULL);
  KaaThreadJob *oldest = NULL;

  while (newest != NULL)
    {
      KaaThreadJob *next = newest->next;

      newest->next = oldest;
      oldest = newest;
      newest = next;
    }
  while (oldest != NULL)
    {
      KaaThreadJob *job = oldest;

      oldest = job->next;
      job->next = NULL;
      kaa_job_queue_push (&pool->queue, job);
    }
}

/* Lock order: a pool's lock is innermost; nothing that may call into an
 * InProgress (cancel, settle, callbacks) runs while it is held. Taking it
 * queues the jobs submitted since, so that a job's state says where it
 * is: never JOB_INCOMING. */
static void
pool_lock (KaaThreadPool *pool)
{
  g_mutex_lock (&pool->lock);
  kaa_thread_pool_take_incoming_unlocked (pool);
}

static void
pool_unlock (KaaThreadPool *pool)
{
  g_mutex_unlock (&pool->lock);
}

/* Under the lock: a job that has not started leaves the pool. */
static void
pool_unqueue_unlocked (KaaThreadPool *pool,
                       KaaThreadJob  *job)
{
  if (job->state == JOB_QUEUED)
    kaa_job_queue_remove (&pool->queue, job);
  else if (job->state == JOB_PARKED)
    kaa_job_list_remove (&pool->parked, job);
  job->state = JOB_DONE;
}

static void
pool_park_unlocked (KaaThreadPool *pool,
                    KaaThreadJob  *job)
{
  kaa_job_queue_remove (&pool->queue, job);
  kaa_job_list_add (&pool->parked, job);
  job->state = JOB_PARKED;
}

static void
pool_requeue_unlocked (KaaThreadPool *pool,
                       KaaThreadJob  *job)
{
  g_autoptr(GError) error = NULL;

  kaa_job_list_remove (&pool->parked, job);
  kaa_job_queue_insert (&pool->queue, job);
  if (!kaa_thread_pool_wake_unlocked (pool, &error))
    g_warning (_("Thread pool %s: cannot start a thread for a resumed job: %s"),
               pool->name, error->message);
}

/* Owner thread, with @in_progress already being cancelled: a job that has
 * not started leaves the pool now; a running one is woken from a paused
 * check (its check fails from the moment of the cancel, whatever thread
 * made it). */
static void
job_cancel (KaaProducer   *producer,
            KaaInProgress *in_progress)
{
  KaaThreadJob *job = (KaaThreadJob *) producer;
  gboolean dropped = FALSE;

  pool_lock (job->pool);
  if (job->state == JOB_QUEUED || job->state == JOB_PARKED)
    {
      pool_unqueue_unlocked (job->pool, job);
      dropped = TRUE;
    }
  else if (job->state == JOB_RUNNING)
    g_cond_broadcast (&job->pool->checks);
  pool_unlock (job->pool);

  if (dropped)
    kaa_thread_job_unref (job);
  else
    kaa_in_progress_interrupt_waits ();   /* a wait of the running job ends */
}

/* Owner thread: a queued job is parked, so that the jobs behind it go
 * ahead; a running one will wait in its next check. */
static void
job_pause (KaaProducer   *producer,
           KaaInProgress *in_progress)
{
  KaaThreadJob *job = (KaaThreadJob *) producer;

  pool_lock (job->pool);
  g_atomic_int_set (&job->paused, TRUE);
  if (job->state == JOB_QUEUED)
    pool_park_unlocked (job->pool, job);
  pool_unlock (job->pool);
}

/* Owner thread: a parked job goes back in the queue with its original
 * sequence number, so it keeps its place among its priority. */
static void
job_resume (KaaProducer   *producer,
            KaaInProgress *in_progress)
{
  KaaThreadJob *job = (KaaThreadJob *) producer;

  pool_lock (job->pool);
  g_atomic_int_set (&job->paused, FALSE);
  if (job->state == JOB_PARKED)
    pool_requeue_unlocked (job->pool, job);
  else if (job->state == JOB_RUNNING)
    g_cond_broadcast (&job->pool->checks);
  pool_unlock (job->pool);
}

/* Settled on the owner thread (or after its context's sweep, when it is
 * tracked no more): the context's death no longer concerns it. */
static void
job_release (KaaProducer *producer)
{
  KaaThreadJob *job = (KaaThreadJob *) producer;

  kaa_scheduler_untrack (kaa_in_progress_get_scheduler (job->in_progress), &job->mortal);
  kaa_thread_job_unref (job);
}

/* DESIGN §3: the owner context died: the job is cancelled like any other
 * (not started if queued, its checks fail if running). */
static void
job_die (KaaMortal *mortal)
{
  KaaThreadJob *job = G_STRUCT_MEMBER_P (mortal, -G_STRUCT_OFFSET (KaaThreadJob, mortal));

  kaa_in_progress_cancel (job->in_progress);
}

static gpointer
job_subject (KaaMortal *mortal)
{
  KaaThreadJob *job = G_STRUCT_MEMBER_P (mortal, -G_STRUCT_OFFSET (KaaThreadJob, mortal));

  return job->in_progress;
}

/* Owner thread, before the job is queued. */
static void
job_track (KaaThreadJob *job)
{
  job->mortal.die = job_die;
  job->mortal.subject = job_subject;
  kaa_scheduler_track (kaa_in_progress_get_scheduler (job->in_progress), &job->mortal);
}

static gboolean
job_block (KaaProducer    *producer,
           KaaInProgress  *in_progress,
           GError        **error)
{
  KaaThreadJob *job = (KaaThreadJob *) producer;

  return kaa_thread_pool_block (job->pool, job, error);
}

static void
job_unblock (KaaProducer   *producer,
             KaaInProgress *in_progress)
{
  kaa_thread_pool_unblock ();
}

/* Issue 19, for the live dump: the state is the pool's, under its lock. */
static void
job_describe (KaaProducer   *producer,
              KaaInProgress *in_progress,
              KaaDumpNode   *node)
{
  KaaThreadJob *job = (KaaThreadJob *) producer;
  const char *pool = kaa_thread_pool_get_name (job->pool);
  KaaThreadJobState state;

  pool_lock (job->pool);
  state = job->state;
  pool_unlock (job->pool);
  kaa_dump_node_set_kind (node, "job");
  kaa_dump_node_set_body (node, (gpointer) job->func);
  switch (state)
    {
    case JOB_QUEUED:
      kaa_dump_node_set_state (node, "queued in pool %s", pool);
      break;
    case JOB_PARKED:
      kaa_dump_node_set_state (node, "parked in pool %s", pool);
      break;
    case JOB_RUNNING:
      kaa_dump_node_set_state (node, "running in pool %s", pool);
      break;
    case JOB_DONE:
    default:
      kaa_dump_node_set_state (node, "done in pool %s", pool);
      break;
    }
}

static const KaaProducerOps job_ops = {
  .cancel = job_cancel,
  .pause = job_pause,
  .resume = job_resume,
  .release = job_release,
  .block = job_block,
  .unblock = job_unblock,
  .describe = job_describe,
  .kind = "thread job",
};

/* Returns the pool's reference; the InProgress gets its own. */
static KaaThreadJob *
job_new (KaaThreadPool *pool,
         gint           priority,
         KaaThreadFunc  func,
         gpointer       user_data,
         GDestroyNotify destroy)
{
  gsize size = kaa_in_progress_block_size (sizeof (KaaThreadJob));
  KaaThreadJob *job;
  KaaInProgress *in_progress =
    kaa_in_progress_new_in_block (kaa_block_cache_alloc0 (&job_blocks, size), job_block_free,
                                  (gpointer *) &job);

  kaa_live_add (KAA_LIVE_THREAD_JOB, 1);
  job->producer.ops = &job_ops;
  kaa_ref_count_init (&job->ref_count);
  job->pool = kaa_thread_pool_ref (pool);
  job->in_progress = in_progress;   /* and the memory of the job */
  job->func = func;
  job->user_data = user_data;
  job->destroy = destroy;
  job->priority = priority;
  if (kaa_trace_is_on ())
    job->trace_queued = kaa_trace_now ();
  kaa_in_progress_set_producer (job->in_progress, &job->producer);
  kaa_thread_job_ref (job);
  return job;
}

static void
pool_push_incoming (KaaThreadPool *pool,
                    KaaThreadJob  *job)
{
  KaaThreadJob *head;

  job->state = JOB_INCOMING;
  do
    {
      head = g_atomic_pointer_get (&pool->incoming);
      job->next = head;
    }
  while (!g_atomic_pointer_compare_and_exchange (&pool->incoming, head, job));
}

/* After a push: whether the submitter must take the lock. Not when no
 * worker sleeps and an awake one will read `incoming` before it sleeps: a
 * spinning one, or, with no room for another thread, a busy one. A
 * shutdown that began meanwhile, or a worker to join, needs the lock too. */
static gboolean
pool_submit_needs_lock (KaaThreadPool *pool)
{
  if (g_atomic_int_get (&pool->n_sleeping) > 0 ||
      g_atomic_int_get (&pool->shut_down) ||
      g_atomic_pointer_get (&pool->retired) != NULL)
    return TRUE;
  return g_atomic_int_get (&pool->n_spinning) == 0 &&
         (guint) g_atomic_int_get (&pool->n_threads) < pool->max_threads;
}

/* The slow way in, for the submitter that must take the lock itself (it
 * is not held on entry): queues what came in, wakes or starts a worker for
 * it and joins the ones that left. FALSE with @error when @job cannot run: the pool was shut
 * down, or has no thread and cannot start one; @job is then out of the
 * pool. */
static gboolean
pool_submit_taking_lock (KaaThreadPool *pool,
                         KaaThreadJob  *job,
                         GError       **error)
{
  g_autoptr(GError) thread_error = NULL;
  Worker *retired;
  gboolean ok = TRUE;

  pool_lock (pool);
  if (g_atomic_int_get (&pool->shut_down))
    {
      /* Each submitter that pushed after the shutdown took the queue gets
       * here and fails its own job. One that a worker took before, or the
       * shutdown took, settles that way. */
      if (job->state == JOB_QUEUED)
        {
          kaa_job_queue_remove (&pool->queue, job);
          job->state = JOB_DONE;
          ok = FALSE;
          g_set_error (error, KAA_ERROR, KAA_ERROR_FAILED,
                       _("Thread pool %s is shut down"), pool->name);
        }
    }
  else if (!kaa_thread_pool_wake_unlocked (pool, &thread_error))
    {
      /* No worker at all, so nobody took it. */
      g_assert (job->state == JOB_QUEUED);
      kaa_job_queue_remove (&pool->queue, job);
      job->state = JOB_DONE;
      ok = FALSE;
      g_set_error (error, KAA_ERROR, KAA_ERROR_FAILED,
                   _("Thread pool %s cannot start a thread: %s"),
                   pool->name, thread_error->message);
    }
  retired = g_atomic_pointer_exchange (&pool->retired, NULL);
  pool_unlock (pool);

  kaa_thread_pool_join_retired (retired);
  return ok;
}

static KaaInProgress *
pool_fail_job (KaaThreadJob *job,
               GError       *error)
{
  KaaInProgress *in_progress = kaa_in_progress_ref (job->in_progress);

  job->state = JOB_DONE;
  kaa_in_progress_try_fail (in_progress, error);
  kaa_thread_job_unref (job);
  return in_progress;
}

/**
 * kaa_thread_pool_run:
 * @self: a [struct@Kaa.ThreadPool]
 * @priority: higher runs first; FIFO within one priority
 * @func: (scope notified) (closure user_data) (destroy destroy): the blocking work
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data on the worker after @func
 *   returns, or when the job is dropped without running
 *
 * Queues @func as a job on @self. Its InProgress is owned by the calling
 * thread's thread-default context, where it settles and its callbacks
 * run, so it finishes only while that context is iterated (a
 * [method@Kaa.InProgress.wait] on the owner thread does that); cancelling
 * or pausing it reaches the job (see
 * [method@Kaa.ThreadJob.check]). A job cancelled before a worker took it
 * never runs. On a pool that was shut down, the InProgress fails.
 *
 * Returns: (transfer full): the job's InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_thread_pool_run (KaaThreadPool *self,
                     gint           priority,
                     KaaThreadFunc  func,
                     gpointer       user_data,
                     GDestroyNotify destroy)
{
  KaaThreadJob *job;
  KaaInProgress *in_progress;
  KaaScheduler *scheduler;
  GError *error = NULL;

  kaa_return_failed_if_fail (self != NULL);
  kaa_return_failed_if_fail (func != NULL);

  job = job_new (self, priority, func, user_data, destroy);
  if (g_atomic_int_get (&self->shut_down))
    return pool_fail_job (job, g_error_new (KAA_ERROR, KAA_ERROR_FAILED,
                                            _("Thread pool %s is shut down"), self->name));
  /* Everything the submitter needs from the job is read before a worker
   * may start on it. */
  in_progress = kaa_in_progress_ref (job->in_progress);
  scheduler = kaa_in_progress_get_scheduler (in_progress);
  /* A thread that does not own the job's context has none pushed, so the
   * job is the global default context's, which never dies: only the
   * owner's jobs need tracking (issue #17). */
  if (kaa_scheduler_is_owner (scheduler))
    {
      job_track (job);
      kaa_scheduler_expect_remote (scheduler, g_get_monotonic_time () + OWNER_POLL_USEC);
    }

  pool_push_incoming (self, job);
  if (pool_submit_needs_lock (self) && !pool_submit_taking_lock (self, job, &error))
    {
      kaa_in_progress_unref (in_progress);
      return pool_fail_job (job, error);
    }
  /* Started in a task scope: the scope owns it too (issue 18 §4). */
  kaa_in_progress_adopt (in_progress);
  return in_progress;
}

/**
 * kaa_thread_run:
 * @func: (scope notified) (closure user_data) (destroy destroy): the blocking work
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * Runs @func on the default pool at priority 0, as
 * [method@Kaa.ThreadPool.run] does.
 *
 * Returns: (transfer full): the job's InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_thread_run (KaaThreadFunc  func,
                gpointer       user_data,
                GDestroyNotify destroy)
{
  kaa_return_failed_if_fail (func != NULL);

  return kaa_thread_pool_run (kaa_thread_pool_get_default (), 0, func, user_data, destroy);
}

/**
 * kaa_thread_run_def: (skip)
 * @def: a static [struct@Kaa.ThreadDef]
 * @user_data: data for the definition's function
 * @destroy: (nullable): frees @user_data
 *
 * Runs the function of @def on its pool, at its priority, with its name
 * on the InProgress.
 *
 * C only: a [struct@Kaa.ThreadDef] holds a function pointer that bindings
 * cannot fill in; they use [method@Kaa.ThreadPool.run] on
 * [func@Kaa.ThreadPool.get].
 *
 * Returns: (transfer full): the job's InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_thread_run_def (const KaaThreadDef *def,
                    gpointer            user_data,
                    GDestroyNotify      destroy)
{
  KaaThreadPool *pool;
  KaaInProgress *in_progress;

  kaa_return_failed_if_fail (def != NULL);
  kaa_return_failed_if_fail (def->func != NULL);

  pool = def->pool != NULL ? kaa_thread_pool_get (def->pool) : kaa_thread_pool_get_default ();
  in_progress = kaa_thread_pool_run (pool, def->priority, def->func, user_data, destroy);
  /* Before a worker could log anything about it. */
  if (def->name != NULL && kaa_in_progress_get_name (in_progress) == NULL)
    kaa_in_progress_set_name (in_progress, def->name);
  return in_progress;
}
