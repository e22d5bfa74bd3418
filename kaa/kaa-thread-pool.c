/* kaa-thread-pool.c: named pools of worker threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * KaaThreadPool: a priority queue of jobs and the workers that run them.
 * Workers start lazily, one per job that finds no idle worker, up to the
 * pool's size, and retire after an idle timeout.
 *
 * Threads: all the pool's state lives under its one lock: the queued
 * jobs (one FIFO per priority, in a short array sorted by priority, so
 * submitting and taking a job cost the same whatever the queue's length),
 * the list of jobs parked by a
 * pause before they started, the running list, and the idle workers. Each
 * idle worker sleeps on its own condition variable and is woken by the one
 * submission that picked it, so a burst of jobs wakes no thread twice. The
 * lock is never held while anything calls into an InProgress: cancel,
 * settle and callbacks happen after it is dropped.
 *
 * Completions do not touch the pool: a worker hands its job to the owner
 * context through the scheduler's inbox, which wakes that context once per
 * batch, and the job's InProgress is settled there (kaa-thread-pool-job.c).
 */
#include "config.h"

#include <string.h>

#include "kaa-i18n-private.h"
#include "kaa-error.h"
#include "kaa-thread-pool-private.h"

/* Long enough that a bursty application keeps its threads, short enough
 * that an idle one gives them back. */
#define DEFAULT_IDLE_TIMEOUT_MSEC 10000
/* How long a worker that ran out of jobs stays awake for the next one:
 * about two round trips of a job through the main loop. */
#define SPIN_USEC 50
/* How long the owner context polls for completions after a submission
 * instead of sleeping (kaa_scheduler_expect_remote()): a trivial job's
 * round trip, with margin. */
#define OWNER_POLL_USEC 50

/* The queued jobs of one priority, oldest first, linked through the
 * jobs' prev/next. */
typedef struct
{
  gint          priority;
  KaaThreadJob *head;
  KaaThreadJob *tail;
} Bucket;

typedef struct _Worker Worker;
struct _Worker
{
  KaaThreadPool *pool;
  GThread       *thread;
  GCond          cond;
  gint           woken;      /* atomic; written under the pool's lock */
  gboolean       sleeping;   /* under the pool's lock: in g_cond_wait */
  Worker        *next_idle;  /* under the pool's lock */
  Worker        *next_retired;
};

struct _KaaThreadPool
{
  KaaRefCount    ref_count;
  char          *name;
  char          *thread_name;
  guint          max_threads;
  gint           idle_timeout_msec;  /* atomic */
  gint           shut_down;          /* atomic; written under the lock */

  GMutex         lock;
  /* Under the lock. */
  Bucket        *buckets;            /* one FIFO per priority, highest first */
  guint          n_buckets;
  guint          buckets_alloc;
  guint64        next_seq;
  KaaThreadJob  *parked;
  KaaThreadJob  *running;
  Worker        *idle;               /* most recently idle first */
  Worker        *retired;            /* exited, not joined yet */
  guint          n_threads;
  GCond          checks;             /* paused kaa_thread_job_check() calls */
  GCond          exited;             /* a worker left: for shutdown */
};

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

/* Under the lock: the bucket of @priority, or where it would go. */
static guint
bucket_search (KaaThreadPool *pool,
               gint           priority,
               gboolean      *found)
{
  guint low = 0;
  guint high = pool->n_buckets;

  /* Few distinct priorities in practice, so this is a handful of steps. */
  while (low < high)
    {
      guint mid = (low + high) / 2;

      if (pool->buckets[mid].priority == priority)
        {
          *found = TRUE;
          return mid;
        }
      if (pool->buckets[mid].priority > priority)
        low = mid + 1;
      else
        high = mid;
    }
  *found = FALSE;
  return low;
}

static Bucket *
bucket_get (KaaThreadPool *pool,
            gint           priority)
{
  gboolean found;
  guint index = bucket_search (pool, priority, &found);

  if (found)
    return &pool->buckets[index];
  if (pool->n_buckets == pool->buckets_alloc)
    {
      pool->buckets_alloc = MAX (8, pool->buckets_alloc * 2);
      pool->buckets = g_renew (Bucket, pool->buckets, pool->buckets_alloc);
    }
  memmove (&pool->buckets[index + 1], &pool->buckets[index],
           (pool->n_buckets - index) * sizeof (Bucket));
  pool->n_buckets++;
  pool->buckets[index] = (Bucket) { priority, NULL, NULL };
  return &pool->buckets[index];
}

/* Appends @job to its priority's FIFO: O(log P) for P distinct
 * priorities, whatever the queue's length. A resumed job goes back to its
 * place by sequence number, found from the front, where old jobs are. */
static void
queue_insert (KaaThreadPool *pool,
              KaaThreadJob  *job)
{
  Bucket *bucket = bucket_get (pool, job->priority);
  KaaThreadJob *before = NULL;

  if (bucket->tail != NULL && bucket->tail->seq > job->seq)
    for (before = bucket->head; before->seq < job->seq; before = before->next)
      ;
  job->next = before;
  job->prev = before != NULL ? before->prev : bucket->tail;
  if (job->prev != NULL)
    job->prev->next = job;
  else
    bucket->head = job;
  if (before != NULL)
    before->prev = job;
  else
    bucket->tail = job;
  job->state = JOB_QUEUED;
}

static void
queue_remove (KaaThreadPool *pool,
              KaaThreadJob  *job)
{
  gboolean found;
  guint index = bucket_search (pool, job->priority, &found);
  Bucket *bucket = &pool->buckets[index];

  g_assert (found);
  if (job->prev != NULL)
    job->prev->next = job->next;
  else
    bucket->head = job->next;
  if (job->next != NULL)
    job->next->prev = job->prev;
  else
    bucket->tail = job->prev;
  job->prev = job->next = NULL;
  if (bucket->head == NULL)
    {
      pool->n_buckets--;
      memmove (&pool->buckets[index], &pool->buckets[index + 1],
               (pool->n_buckets - index) * sizeof (Bucket));
    }
}

static void
list_add (KaaThreadJob **head,
          KaaThreadJob  *job)
{
  job->prev = NULL;
  job->next = *head;
  if (*head != NULL)
    (*head)->prev = job;
  *head = job;
}

static void
list_remove (KaaThreadJob **head,
             KaaThreadJob  *job)
{
  if (job->prev != NULL)
    job->prev->next = job->next;
  else
    *head = job->next;
  if (job->next != NULL)
    job->next->prev = job->prev;
  job->prev = job->next = NULL;
}

void
kaa_thread_pool_lock (KaaThreadPool *pool)
{
  g_mutex_lock (&pool->lock);
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
    queue_remove (pool, job);
  else if (job->state == JOB_PARKED)
    list_remove (&pool->parked, job);
  job->state = JOB_DONE;
}

void
kaa_thread_pool_park_unlocked (KaaThreadPool *pool,
                               KaaThreadJob  *job)
{
  queue_remove (pool, job);
  list_add (&pool->parked, job);
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

static gpointer worker_main (gpointer data);

/* Under the lock: hands queued work to an idle worker, or starts one. */
static gboolean
pool_wake_unlocked (KaaThreadPool *pool,
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
  pool->n_threads++;
  return TRUE;
}

void
kaa_thread_pool_requeue_unlocked (KaaThreadPool *pool,
                                  KaaThreadJob  *job)
{
  g_autoptr(GError) error = NULL;

  list_remove (&pool->parked, job);
  queue_insert (pool, job);
  if (!pool_wake_unlocked (pool, &error))
    g_warning (_("Thread pool %s: cannot start a thread for a resumed job: %s"),
               pool->name, error->message);
}

/* Under the lock: the first queued job whose InProgress is still pending.
 * One cancelled from another thread, whose cancel the owner has not
 * carried out yet, is dropped here: it must never run. */
static KaaThreadJob *
pool_pop_unlocked (KaaThreadPool *pool)
{
  while (pool->n_buckets > 0)
    {
      KaaThreadJob *job = pool->buckets[0].head;

      queue_remove (pool, job);
      if (kaa_in_progress_is_pending (job->in_progress))
        {
          job->state = JOB_RUNNING;
          list_add (&pool->running, job);
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

/* Under the lock: sleeps until handed work; FALSE once idle too long. */
static gboolean
worker_idle_unlocked (Worker *worker)
{
  KaaThreadPool *pool = worker->pool;
  gint64 deadline = g_get_monotonic_time () +
                    (gint64) g_atomic_int_get (&pool->idle_timeout_msec) * 1000;

  g_atomic_int_set (&worker->woken, FALSE);
  worker->next_idle = pool->idle;
  pool->idle = worker;

  /* Spin a little before sleeping: an application that waits for one job
   * and then submits the next (the latency benchmark, a hashing loop) finds
   * its worker awake, which saves a futex wake-up and a context switch on
   * every job. Yielding keeps the spin from starving the thread that is
   * about to submit, on a machine with few cores. */
  g_mutex_unlock (&pool->lock);
  for (gint64 spin_end = g_get_monotonic_time () + SPIN_USEC;
       !g_atomic_int_get (&worker->woken) && g_get_monotonic_time () < spin_end;)
    g_thread_yield ();
  g_mutex_lock (&pool->lock);

  worker->sleeping = TRUE;
  while (!g_atomic_int_get (&worker->woken))
    if (!g_cond_wait_until (&worker->cond, &pool->lock, deadline))
      break;
  worker->sleeping = FALSE;
  if (g_atomic_int_get (&worker->woken))
    return TRUE;

  /* Timed out: nobody picked us, so we are still on the idle stack. */
  for (Worker **link = &pool->idle; *link != NULL; link = &(*link)->next_idle)
    if (*link == worker)
      {
        *link = worker->next_idle;
        break;
      }
  return FALSE;
}

static gpointer
worker_main (gpointer data)
{
  Worker *worker = data;
  KaaThreadPool *pool = worker->pool;
  KaaThreadJob *job = NULL;

  /* One critical section per job: the one that retires a job also takes
   * the next. */
  g_mutex_lock (&pool->lock);
  for (;;)
    {
      KaaThreadJob *done = job;

      if (done != NULL)
        {
          list_remove (&pool->running, done);
          done->state = JOB_DONE;
        }
      job = g_atomic_int_get (&pool->shut_down) ? NULL : pool_pop_unlocked (pool);
      if (done != NULL)
        {
          g_mutex_unlock (&pool->lock);
          /* The worker is free again before the owner sees the result. */
          kaa_thread_job_deliver (done);
          if (job == NULL)
            {
              g_mutex_lock (&pool->lock);
              continue;
            }
        }
      else if (job == NULL)
        {
          if (g_atomic_int_get (&pool->shut_down) || !worker_idle_unlocked (worker))
            break;
          continue;
        }
      else
        g_mutex_unlock (&pool->lock);

      kaa_thread_job_execute (job);
      g_mutex_lock (&pool->lock);
    }
  pool->n_threads--;
  worker->next_retired = pool->retired;
  pool->retired = worker;
  g_cond_broadcast (&pool->exited);
  g_mutex_unlock (&pool->lock);
  return NULL;
}

/* Joins workers that have left; without the lock. */
static void
join_retired (Worker *worker)
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

  join_retired (pool->retired);
  g_free (pool->buckets);
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
 * Drops a reference. The registry keeps one for the life of the process.
 *
 * Since: 0.1
 */
void
kaa_thread_pool_unref (KaaThreadPool *self)
{
  g_return_if_fail (self != NULL);

  if (kaa_ref_count_dec (&self->ref_count))
    pool_free (self);
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
  guint n;

  g_return_val_if_fail (self != NULL, 0);

  g_mutex_lock (&self->lock);
  n = self->n_threads;
  g_mutex_unlock (&self->lock);
  return n;
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

static KaaInProgress *
pool_fail_job (KaaThreadJob *job,
               GError       *error)
{
  KaaInProgress *in_progress = kaa_in_progress_ref (job->in_progress);

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
  KaaScheduler *scheduler;
  Worker *retired;
  GError *error = NULL;
  gboolean ok = TRUE;

  kaa_return_failed_if_fail (self != NULL);
  kaa_return_failed_if_fail (func != NULL);

  job = kaa_thread_job_new (self, priority, func, user_data, destroy);
  scheduler = kaa_in_progress_get_scheduler (job->in_progress);
  g_mutex_lock (&self->lock);
  if (g_atomic_int_get (&self->shut_down))
    {
      g_mutex_unlock (&self->lock);
      return pool_fail_job (job, g_error_new (KAA_ERROR, KAA_ERROR_FAILED,
                                              _("Thread pool %s is shut down"), self->name));
    }
  job->seq = self->next_seq++;
  queue_insert (self, job);
  if (!pool_wake_unlocked (self, &error))
    {
      queue_remove (self, job);
      job->state = JOB_DONE;
      ok = FALSE;
    }
  retired = g_steal_pointer (&self->retired);
  g_mutex_unlock (&self->lock);

  join_retired (retired);
  if (ok && kaa_scheduler_is_owner (scheduler))
    kaa_scheduler_expect_remote (scheduler, g_get_monotonic_time () + OWNER_POLL_USEC);
  if (!ok)
    return pool_fail_job (job, g_error_new (KAA_ERROR, KAA_ERROR_FAILED,
                                            _("Thread pool %s cannot start a thread: %s"),
                                            self->name, error->message));
  g_clear_error (&error);
  return kaa_in_progress_ref (job->in_progress);
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
  while (pool->n_buckets > 0)
    {
      KaaThreadJob *job = pool->buckets[0].head;

      queue_remove (pool, job);
      job->state = JOB_DONE;
      job->next = list;
      list = job;
    }
  return list;
}

/* Fires the cancellables of running jobs (whose checks already fail) and,
 * unless @at_exit, cancels their InProgresses too; then waits for the
 * workers, for at most until @deadline (-1 for no limit). */
void
kaa_thread_pool_stop (KaaThreadPool *pool,
                      gboolean       at_exit,
                      gint64         deadline)
{
  g_autoptr(GPtrArray) running = g_ptr_array_new_with_free_func ((GDestroyNotify) kaa_thread_job_unref);
  KaaThreadJob *queued = NULL;
  Worker *retired;

  g_mutex_lock (&pool->lock);
  g_atomic_int_set (&pool->shut_down, TRUE);
  /* At exit no InProgress is touched: no callback should run then, so
   * queued jobs just stay where they are, never to run. */
  if (!at_exit)
    queued = pool_steal_queued_unlocked (pool);
  for (KaaThreadJob *job = pool->running; job != NULL; job = job->next)
    g_ptr_array_add (running, kaa_thread_job_ref (job));
  for (Worker *worker = pool->idle; worker != NULL; worker = worker->next_idle)
    {
      g_atomic_int_set (&worker->woken, TRUE);
      g_cond_signal (&worker->cond);
    }
  pool->idle = NULL;
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
  retired = g_steal_pointer (&pool->retired);
  g_mutex_unlock (&pool->lock);
  join_retired (retired);
}

/**
 * kaa_thread_pool_shutdown:
 * @self: a [struct@Kaa.ThreadPool]
 *
 * Stops @self: queued jobs are cancelled without running, running jobs
 * are cancelled (their checks fail and their cancellables fire), and
 * this waits until every worker thread has been joined. Jobs submitted
 * afterwards fail. The pool stays registered under its name. Calling it
 * again does nothing more. Must not be called from one of @self's jobs.
 *
 * Since: 0.1
 */
void
kaa_thread_pool_shutdown (KaaThreadPool *self)
{
  g_return_if_fail (self != NULL);

  kaa_thread_pool_stop (self, FALSE, -1);
}
