/* kaa-thread-pool.c: named pools of worker threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * KaaThreadPool: a priority queue of jobs and the workers that run them.
 * Workers start lazily, one per job that finds no idle worker, up to the
 * pool's size, and retire after an idle timeout; their loop is in
 * kaa-thread-pool-worker.c, the pool's state in
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
 * Completions do not touch the pool: a worker hands its job to the owner
 * context through the scheduler's inbox, which wakes that context once per
 * batch, and the job's InProgress is settled there (kaa-thread-pool-job.c).
 */
#include "config.h"

#include <string.h>

#include "kaa-alloc-private.h"
#include "kaa-i18n-private.h"
#include "kaa-error.h"
#include "kaa-thread-pool-worker-private.h"

/* Long enough that a bursty application keeps its threads, short enough
 * that an idle one gives them back. */
#define DEFAULT_IDLE_TIMEOUT_MSEC 10000
/* How long the owner context polls for completions after a submission
 * instead of sleeping (kaa_scheduler_expect_remote()): a trivial job's
 * round trip, with margin. */
#define OWNER_POLL_USEC 50

/**
 * KaaThreadPool:
 *
 * A named pool of worker threads that runs blocking functions as jobs,
 * higher priorities first, each returning a [struct@Kaa.InProgress]. Get
 * one with [func@Kaa.ThreadPool.get] or [ctor@Kaa.ThreadPool.new].
 * Reference-counted; every function is safe from any thread.
 */
G_DEFINE_BOXED_TYPE (KaaThreadPool, kaa_thread_pool,
                     kaa_thread_pool_ref, kaa_thread_pool_unref)

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

/* With every submitted job in the queue, so that a job's state says where
 * it is. */
void
kaa_thread_pool_lock (KaaThreadPool *pool)
{
  g_mutex_lock (&pool->lock);
  kaa_thread_pool_take_incoming_unlocked (pool);
}

void
kaa_thread_pool_unlock (KaaThreadPool *pool)
{
  g_mutex_unlock (&pool->lock);
}

gboolean
kaa_thread_pool_is_shut_down (KaaThreadPool *pool)
{
  return g_atomic_int_get (&pool->shut_down);
}

void
kaa_thread_pool_unqueue_unlocked (KaaThreadPool *pool,
                                  KaaThreadJob  *job)
{
  if (job->state == JOB_QUEUED)
    kaa_job_queue_remove (&pool->queue, job);
  else if (job->state == JOB_PARKED)
    kaa_job_list_remove (&pool->parked, job);
  job->state = JOB_DONE;
}

void
kaa_thread_pool_park_unlocked (KaaThreadPool *pool,
                               KaaThreadJob  *job)
{
  kaa_job_queue_remove (&pool->queue, job);
  kaa_job_list_add (&pool->parked, job);
  job->state = JOB_PARKED;
}

void
kaa_thread_pool_wake_checks_unlocked (KaaThreadPool *pool)
{
  g_cond_broadcast (&pool->checks);
}

void
kaa_thread_pool_wait_paused (KaaThreadPool *pool,
                             KaaThreadJob  *job)
{
  g_mutex_lock (&pool->lock);
  while (g_atomic_int_get (&job->paused) && kaa_in_progress_is_pending (job->in_progress) &&
         !g_atomic_int_get (&pool->shut_down))
    g_cond_wait (&pool->checks, &pool->lock);
  g_mutex_unlock (&pool->lock);
}



void
kaa_thread_pool_requeue_unlocked (KaaThreadPool *pool,
                                  KaaThreadJob  *job)
{
  g_autoptr(GError) error = NULL;

  kaa_job_list_remove (&pool->parked, job);
  kaa_job_queue_insert (&pool->queue, job);
  if (!kaa_thread_pool_wake_unlocked (pool, &error))
    g_warning (_("Thread pool %s: cannot start a thread for a resumed job: %s"),
               pool->name, error->message);
}


KaaThreadPool *
kaa_thread_pool_create (const char *name,
                        guint       max_threads)
{
  KaaThreadPool *pool = g_new0 (KaaThreadPool, 1);

  kaa_ref_count_init (&pool->ref_count);
  pool->name = g_strdup (name);
  pool->thread_name = g_strconcat ("kaa-", name, NULL);
  /* Linux keeps 15 characters of a thread's name. */
  if (strlen (pool->thread_name) > 15)
    pool->thread_name[15] = '\0';
  pool->max_threads = max_threads != 0 ? max_threads : MAX (2, g_get_num_processors ());
  pool->idle_timeout_msec = DEFAULT_IDLE_TIMEOUT_MSEC;
  g_mutex_init (&pool->lock);
  g_cond_init (&pool->checks);
  g_cond_init (&pool->exited);
  return pool;
}

static void
pool_free (KaaThreadPool *pool)
{
  g_assert (pool->n_threads == 0);

  kaa_thread_pool_join_retired (pool->retired);
  kaa_job_queue_clear (&pool->queue);
  g_cond_clear (&pool->checks);
  g_cond_clear (&pool->exited);
  g_mutex_clear (&pool->lock);
  g_free (pool->thread_name);
  g_free (pool->name);
  g_free (pool);
}

/**
 * kaa_thread_pool_ref:
 * @self: a [struct@Kaa.ThreadPool]
 *
 * Takes a reference. Any thread.
 *
 * Returns: (transfer full): @self
 * Since: 0.1
 */
KaaThreadPool *
kaa_thread_pool_ref (KaaThreadPool *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  kaa_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * kaa_thread_pool_unref:
 * @self: (transfer full): a [struct@Kaa.ThreadPool]
 *
 * Drops a reference. The registry keeps one for the life of the
 * process. When the last other one goes (jobs hold one each), a pool
 * made by [ctor@Kaa.ThreadPool.new] gives its name back: see there.
 *
 * Since: 0.1
 */
void
kaa_thread_pool_unref (KaaThreadPool *self)
{
  gint before;

  g_return_if_fail (self != NULL);

  before = kaa_ref_count_dec_checked (&self->ref_count);
  if (before == 1)
    pool_free (self);
  else if (before == 2)
    kaa_thread_pool_release_name (self);
}

/**
 * kaa_thread_pool_get_name:
 * @self: a [struct@Kaa.ThreadPool]
 *
 * Tells the name the pool is registered under.
 *
 * Returns: the name @self is registered under
 * Since: 0.1
 */
const char *
kaa_thread_pool_get_name (KaaThreadPool *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->name;
}

/**
 * kaa_thread_pool_get_max_threads:
 * @self: a [struct@Kaa.ThreadPool]
 *
 * Tells the size of the pool.
 *
 * Returns: how many jobs of @self may run at once
 * Since: 0.1
 */
guint
kaa_thread_pool_get_max_threads (KaaThreadPool *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->max_threads;
}

/**
 * kaa_thread_pool_get_n_threads:
 * @self: a [struct@Kaa.ThreadPool]
 *
 * Tells how many worker threads the pool has now.
 *
 * Returns: how many worker threads @self has now, busy or idle
 * Since: 0.1
 */
guint
kaa_thread_pool_get_n_threads (KaaThreadPool *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return (guint) g_atomic_int_get (&self->n_threads);
}

/**
 * kaa_thread_pool_set_idle_timeout:
 * @self: a [struct@Kaa.ThreadPool]
 * @msec: how long an idle worker waits for a job before it leaves
 *
 * Applies from each worker's next idle spell. The default is 10 s.
 *
 * Since: 0.1
 */
void
kaa_thread_pool_set_idle_timeout (KaaThreadPool *self,
                                  guint          msec)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (msec <= G_MAXINT);

  g_atomic_int_set (&self->idle_timeout_msec, (gint) msec);
}

/* Without the lock: cancels what the pool had not started. */
static void
pool_cancel_jobs (KaaThreadJob *list)
{
  while (list != NULL)
    {
      KaaThreadJob *job = list;

      list = job->next;
      job->next = NULL;
      kaa_in_progress_cancel (job->in_progress);
      kaa_thread_job_unref (job);
    }
}

/* Under the lock: takes every job that has not started out of the pool,
 * linked through `next`, keeping the queue's references. */
static KaaThreadJob *
pool_steal_queued_unlocked (KaaThreadPool *pool)
{
  KaaThreadJob *list = NULL;

  while (pool->parked != NULL)
    {
      KaaThreadJob *job = pool->parked;

      kaa_thread_pool_unqueue_unlocked (pool, job);
      job->next = list;
      list = job;
    }
  while (!kaa_job_queue_is_empty (&pool->queue))
    {
      KaaThreadJob *job = kaa_job_queue_peek (&pool->queue);

      kaa_job_queue_remove (&pool->queue, job);
      job->state = JOB_DONE;
      job->next = list;
      list = job;
    }
  return list;
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

  kaa_thread_pool_lock (pool);
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
  kaa_thread_pool_unlock (pool);

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

  job = kaa_thread_job_new (self, priority, func, user_data, destroy);
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
      kaa_thread_job_track (job);
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

/* Fires the cancellables of running jobs (whose checks already fail) and,
 * unless @at_exit, cancels their InProgresses too; then waits for the
 * workers, for at most until @deadline (-1 for no limit). */
void
kaa_thread_pool_stop (KaaThreadPool *pool,
                      gboolean       at_exit,
                      gint64         deadline)
{
  g_autoptr(GPtrArray) running =
    g_ptr_array_new_with_free_func ((GDestroyNotify) kaa_thread_job_unref);
  KaaThreadJob *queued = NULL;
  Worker *retired;

  /* Set before the incoming jobs are taken: a submitter that pushes later
   * sees it and fails its own job (pool_submit_taking_lock()). */
  g_mutex_lock (&pool->lock);
  g_atomic_int_set (&pool->shut_down, TRUE);
  kaa_thread_pool_take_incoming_unlocked (pool);
  /* At exit no InProgress is touched: no callback should run then, so
   * queued jobs just stay where they are, never to run. */
  if (!at_exit)
    queued = pool_steal_queued_unlocked (pool);
  for (KaaThreadJob *job = pool->running; job != NULL; job = job->next)
    g_ptr_array_add (running, kaa_thread_job_ref (job));
  kaa_thread_pool_wake_idle_unlocked (pool);
  g_cond_broadcast (&pool->checks);
  g_mutex_unlock (&pool->lock);

  pool_cancel_jobs (queued);
  for (guint i = 0; i < running->len; i++)
    {
      KaaThreadJob *job = running->pdata[i];

      g_cancellable_cancel (kaa_in_progress_get_cancellable (job->in_progress));
      if (!at_exit)
        kaa_in_progress_cancel (job->in_progress);
    }

  g_mutex_lock (&pool->lock);
  while (pool->n_threads > 0)
    if (deadline < 0)
      g_cond_wait (&pool->exited, &pool->lock);
    else if (!g_cond_wait_until (&pool->exited, &pool->lock, deadline))
      break;
  retired = g_atomic_pointer_exchange (&pool->retired, NULL);
  g_mutex_unlock (&pool->lock);
  kaa_thread_pool_join_retired (retired);
}

/**
 * kaa_thread_pool_shutdown:
 * @self: a [struct@Kaa.ThreadPool]
 *
 * Stops @self: queued jobs are cancelled without running, running jobs
 * are cancelled (their checks fail and their cancellables fire), and
 * this waits until every worker thread has been joined. Jobs submitted
 * afterwards fail. The pool stays registered under its name. Calling it
 * again does nothing more.
 *
 * Calling it from one of @self's own jobs is a programming error, since
 * it would wait for the very thread it runs on: it logs a critical and
 * returns at once, leaving @self running.
 *
 * Since: 0.1
 */
void
kaa_thread_pool_shutdown (KaaThreadPool *self)
{
  g_return_if_fail (self != NULL);

  if (kaa_thread_pool_is_own_thread (self))
    {
      g_critical ("%s: called from a job of thread pool %s, which would wait for its own "
                  "thread forever; shut the pool down from outside its jobs",
                  G_STRFUNC, self->name);
      return;
    }

  kaa_thread_pool_stop (self, FALSE, -1);
}
