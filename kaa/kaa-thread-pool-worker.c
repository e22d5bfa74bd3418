/* kaa-thread-pool-worker.c: the threads that run a pool's jobs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A worker's life, in worker_main(): take the next pending job under the
 * pool's lock, run it without the lock, hand it to its owner, and take the
 * next one in the same critical section that retired this one. With no job
 * it goes idle (worker_idle_unlocked()): it spins briefly, then sleeps on
 * its own condition variable until a submission picks it, and leaves after
 * the pool's idle timeout. Workers start lazily, from
 * kaa_thread_pool_wake_unlocked(), and a retired one is joined by whoever
 * next takes the lock from outside (kaa_thread_pool_join_retired()).
 *
 * A running job reaches its pool only from here: kaa_thread_job_check()
 * waits out a pause, and a kaa_in_progress_wait() on another job of the
 * same pool is counted (kaa_thread_pool_block()), so that a pool whose
 * every worker waits that way fails the wait instead of hanging.
 *
 * Threads: see kaa-thread-pool.c; the lock is never held while anything
 * calls into an InProgress.
 */
#include "config.h"

#include "kaa-i18n-private.h"
#include "kaa-error.h"
#include "kaa-thread-pool-worker-private.h"

/* How long a worker that ran out of jobs stays awake for the next one:
 * about two round trips of a job through the main loop. */
#define SPIN_USEC 50

typedef struct _Worker Worker;
struct _Worker
{
  KaaThreadPool *pool;
  GThread       *thread;
  GCond          cond;
  gint           woken;      /* atomic; written under the pool's lock */
  gboolean       sleeping;   /* under the pool's lock: in g_cond_wait */
  gboolean       slept;      /* worker thread: its last idle spell slept */
  Worker        *next_idle;  /* under the pool's lock */
  Worker        *next_retired;
  KaaScheduler  *held;       /* worker thread: see kaa_thread_job_deliver() */
  gboolean       blocked;    /* worker thread: counted in the pool's n_blocked */
};

/* The worker running on this thread, if any. */
static KAA_THREAD_LOCAL Worker *current_worker;

gboolean
kaa_thread_pool_block (KaaThreadPool *pool,
                       KaaThreadJob  *job,
                       GError       **error)
{
  Worker *worker = current_worker;
  gboolean deadlock = FALSE;

  /* Waits from elsewhere, or for another pool's jobs, leave this pool's
   * threads free to run @job; a finished job needs no thread. */
  if (worker == NULL || worker->pool != pool)
    return TRUE;
  g_mutex_lock (&pool->lock);
  if (job->state != JOB_DONE)
    {
      /* Every other worker waits for one of our jobs too: whichever
       * job they wait for, none of them will run it. */
      deadlock = pool->n_blocked + 1 >= pool->max_threads;
      if (!deadlock)
        {
          pool->n_blocked++;
          worker->blocked = TRUE;
        }
    }
  g_mutex_unlock (&pool->lock);
  if (deadlock)
    g_set_error (error, KAA_ERROR, KAA_ERROR_WAIT_NESTING,
                 _("A job of thread pool %s waits for another of its jobs while all %u "
                   "threads of the pool wait: the wait would never end"),
                 pool->name, pool->max_threads);
  return !deadlock;
}

void
kaa_thread_pool_unblock (void)
{
  Worker *worker = current_worker;

  if (worker == NULL || !worker->blocked)
    return;
  g_mutex_lock (&worker->pool->lock);
  worker->pool->n_blocked--;
  g_mutex_unlock (&worker->pool->lock);
  worker->blocked = FALSE;
}

/* Worker thread, in kaa_thread_job_check(): blocks while @job is paused,
 * until it is resumed or cancelled or the pool shuts down (the owner's
 * hooks broadcast `checks`). */
static void
worker_wait_paused (KaaThreadPool *pool,
                    KaaThreadJob  *job)
{
  g_mutex_lock (&pool->lock);
  while (g_atomic_int_get (&job->paused) && kaa_in_progress_is_pending (job->in_progress) &&
         !g_atomic_int_get (&pool->shut_down))
    g_cond_wait (&pool->checks, &pool->lock);
  g_mutex_unlock (&pool->lock);
}

/* A running job's blocking waits go on while this holds (see
 * kaa_in_progress_set_wait_guard()): what its checks ask, but without
 * holding a paused job, since a wait is no place to pause. */
static gboolean
worker_job_wanted (gpointer data)
{
  KaaThreadJob *job = data;

  return kaa_in_progress_is_pending (job->in_progress) &&
         !g_atomic_int_get (&job->pool->shut_down);
}

/**
 * kaa_thread_job_check:
 * @job: the running [struct@Kaa.ThreadJob]
 *
 * Call it often from a long job. Blocks while the job's InProgress is
 * paused. Worker thread of @job only.
 *
 * Returns: %TRUE to go on, %FALSE once the job was cancelled (from any
 *   thread, at once) or its pool is shutting down: return soon
 * Since: 0.1
 */
gboolean
kaa_thread_job_check (KaaThreadJob *job)
{
  g_return_val_if_fail (job != NULL, FALSE);

  if (G_UNLIKELY (g_atomic_int_get (&job->paused)))
    worker_wait_paused (job->pool, job);
  return kaa_in_progress_is_pending (job->in_progress) &&
         !g_atomic_int_get (&job->pool->shut_down);
}

/* Under the lock. */
void
kaa_thread_pool_wake_idle_unlocked (KaaThreadPool *pool)
{
  for (Worker *worker = pool->idle; worker != NULL; worker = worker->next_idle)
    {
      g_atomic_int_set (&worker->woken, TRUE);
      g_cond_signal (&worker->cond);
    }
  pool->idle = NULL;
}

gboolean
kaa_thread_pool_is_own_thread (KaaThreadPool *pool)
{
  return current_worker != NULL && current_worker->pool == pool;
}

static gpointer worker_main (gpointer data);

gboolean
kaa_thread_pool_wake_unlocked (KaaThreadPool *pool,
                    GError       **error)
{
  Worker *worker = pool->idle;

  if (worker != NULL)
    {
      pool->idle = worker->next_idle;
      g_atomic_int_set (&worker->woken, TRUE);
      /* A worker still spinning sees the flag: no futex wake needed. */
      if (worker->sleeping)
        g_cond_signal (&worker->cond);
      return TRUE;
    }
  if (pool->n_threads >= pool->max_threads)
    return TRUE;

  worker = g_new0 (Worker, 1);
  worker->pool = pool;
  g_cond_init (&worker->cond);
  worker->thread = g_thread_try_new (pool->thread_name, worker_main, worker, error);
  if (worker->thread == NULL)
    {
      g_cond_clear (&worker->cond);
      g_free (worker);
      return pool->n_threads > 0;
    }
  g_atomic_int_set (&pool->n_threads, pool->n_threads + 1);
  return TRUE;
}

/* Under the lock: the first queued job whose InProgress is still pending.
 * One cancelled from another thread, whose cancel the owner has not
 * carried out yet, is dropped here: it must never run. */
static KaaThreadJob *
pool_pop_unlocked (KaaThreadPool *pool)
{
  kaa_thread_pool_take_incoming_unlocked (pool);
  while (!kaa_job_queue_is_empty (&pool->queue))
    {
      KaaThreadJob *job = kaa_job_queue_peek (&pool->queue);

      kaa_job_queue_remove (&pool->queue, job);
      if (kaa_in_progress_is_pending (job->in_progress))
        {
          job->state = JOB_RUNNING;
          kaa_job_list_add (&pool->running, job);
          /* Jobs that came in without waking anyone: pass one on to an
           * idle worker, or a new one, as their submitter would have. */
          if (!kaa_job_queue_is_empty (&pool->queue))
            kaa_thread_pool_wake_unlocked (pool, NULL);
          return job;
        }
      job->state = JOB_DONE;
      /* The queue's reference. Dropped without the lock, as anything that
       * might reach an InProgress must be. */
      g_mutex_unlock (&pool->lock);
      kaa_thread_job_unref (job);
      g_mutex_lock (&pool->lock);
    }
  return NULL;
}

static void
idle_remove_unlocked (Worker *worker)
{
  for (Worker **link = &worker->pool->idle; *link != NULL; link = &(*link)->next_idle)
    if (*link == worker)
      {
        *link = worker->next_idle;
        return;
      }
}

static gboolean
pool_has_incoming (KaaThreadPool *pool)
{
  return g_atomic_pointer_get (&pool->incoming) != NULL;
}

/* Under the lock: TRUE when there is work nobody handed to @worker, which
 * is then no longer idle. */
static gboolean
worker_finds_work_unlocked (Worker *worker)
{
  if (!pool_has_incoming (worker->pool) && kaa_job_queue_is_empty (&worker->pool->queue))
    return FALSE;
  idle_remove_unlocked (worker);
  return TRUE;
}

/* Under the lock: sleeps until handed work; FALSE once idle too long. */
static gboolean
worker_idle_unlocked (Worker *worker)
{
  KaaThreadPool *pool = worker->pool;
  gint64 deadline = g_get_monotonic_time () +
                    (gint64) g_atomic_int_get (&pool->idle_timeout_msec) * 1000;

  g_atomic_int_set (&worker->woken, FALSE);
  worker->slept = FALSE;
  worker->next_idle = pool->idle;
  pool->idle = worker;
  g_atomic_int_inc (&pool->n_spinning);

  /* Spin a little before sleeping: an application that waits for one job
   * and then submits the next (the latency benchmark, a hashing loop) finds
   * its worker awake, which saves a futex wake-up and a context switch on
   * every job. Yielding keeps the spin from starving the thread that is
   * about to submit, on a machine with few cores. */
  g_mutex_unlock (&pool->lock);
  for (gint64 spin_end = g_get_monotonic_time () + SPIN_USEC;
       !g_atomic_int_get (&worker->woken) && !pool_has_incoming (pool) &&
       g_get_monotonic_time () < spin_end;)
    g_thread_yield ();
  g_mutex_lock (&pool->lock);
  g_atomic_int_add (&pool->n_spinning, -1);
  if (g_atomic_int_get (&worker->woken) || worker_finds_work_unlocked (worker))
    return TRUE;

  /* Counted as asleep before `incoming` is read again: a submitter pushes
   * before it reads the count, and all of these are sequentially
   * consistent, so either it sees us asleep and takes the lock to wake us,
   * or we see its job. */
  worker->sleeping = TRUE;
  worker->slept = TRUE;
  g_atomic_int_inc (&pool->n_sleeping);
  while (!g_atomic_int_get (&worker->woken) && !pool_has_incoming (pool))
    if (!g_cond_wait_until (&worker->cond, &pool->lock, deadline))
      break;
  g_atomic_int_add (&pool->n_sleeping, -1);
  worker->sleeping = FALSE;
  if (g_atomic_int_get (&worker->woken) || worker_finds_work_unlocked (worker))
    return TRUE;

  /* Timed out: nobody picked us, so we are still on the idle stack. */
  idle_remove_unlocked (worker);
  return FALSE;
}

/* Under the lock, with no job to run: waits to be handed one. FALSE when
 * the worker is to leave: the pool shut down, or it idled too long. */
static gboolean
worker_rest_unlocked (Worker *worker)
{
  KaaThreadPool *pool = worker->pool;

  if (g_atomic_int_get (&pool->shut_down) || !worker_idle_unlocked (worker))
    return FALSE;
  if (worker->slept)
    {
      /* After a quiet spell: job memory unused through a whole
       * decay period goes back to malloc. */
      g_mutex_unlock (&pool->lock);
      kaa_thread_job_cache_decay (FALSE);
      g_mutex_lock (&pool->lock);
    }
  return TRUE;
}

/* Under the lock, which it drops: the worker leaves, to be joined by the
 * next one who takes the lock from outside. */
static void
worker_retire (Worker *worker)
{
  KaaThreadPool *pool = worker->pool;

  g_assert (worker->held == NULL);
  g_atomic_int_set (&pool->n_threads, pool->n_threads - 1);
  worker->next_retired = pool->retired;
  g_atomic_pointer_set (&pool->retired, worker);
  g_cond_broadcast (&pool->exited);
  g_mutex_unlock (&pool->lock);
  /* Idle for the whole idle timeout (or shut down): the burst that job
   * memory was kept for is over. */
  kaa_thread_job_cache_decay (TRUE);
}

static gpointer
worker_main (gpointer data)
{
  Worker *worker = data;
  KaaThreadPool *pool = worker->pool;
  KaaThreadJob *job = NULL;

  current_worker = worker;
  /* One critical section per job: the one that retires a job also takes
   * the next. */
  g_mutex_lock (&pool->lock);
  for (;;)
    {
      KaaThreadJob *done = job;

      if (done != NULL)
        {
          kaa_job_list_remove (&pool->running, done);
          done->state = JOB_DONE;
        }
      job = g_atomic_int_get (&pool->shut_down) ? NULL : pool_pop_unlocked (pool);
      if (done != NULL)
        {
          g_mutex_unlock (&pool->lock);
          /* The worker is free again before the owner sees the result. */
          kaa_thread_job_deliver (done, &worker->held);
          if (job == NULL)
            {
              /* Out of work: no reference kept while idle. */
              g_clear_pointer (&worker->held, kaa_scheduler_unref);
              g_mutex_lock (&pool->lock);
              continue;
            }
        }
      else if (job == NULL)
        {
          if (!worker_rest_unlocked (worker))
            break;
          continue;
        }
      else
        g_mutex_unlock (&pool->lock);

      kaa_in_progress_set_wait_guard (worker_job_wanted, job, job->in_progress);
      kaa_thread_job_execute (job);
      kaa_in_progress_set_wait_guard (NULL, NULL, NULL);
      g_mutex_lock (&pool->lock);
    }
  worker_retire (worker);
  return NULL;
}

void
kaa_thread_pool_join_retired (Worker *worker)
{
  while (worker != NULL)
    {
      Worker *next = worker->next_retired;

      g_thread_join (worker->thread);
      g_cond_clear (&worker->cond);
      g_free (worker);
      worker = next;
    }
}
