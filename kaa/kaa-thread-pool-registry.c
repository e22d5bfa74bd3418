/* kaa-thread-pool-registry.c: a pool's life: made, named, found, stopped
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A pool is made and registered here, its references and settings live
 * here, and it is stopped here, by kaa_thread_pool_shutdown() or at
 * process exit. A job's way through it is elsewhere: submitted in
 * kaa-thread-pool.c, run by a worker in kaa-thread-pool-worker.c,
 * settled in kaa-thread-pool-job.c.
 *
 * Named pools live in one process-wide table, created on first use by
 * kaa_thread_pool_get() and kept until the process exits, so the pointer
 * it returns (transfer none) stays valid. The table is guarded by
 * registry_lock, which is never held while a pool's own lock is taken.
 *
 * The name rule (issue #22): a name taken by kaa_thread_pool_new() is
 * given back when the pool's last reference but the registry's goes, so
 * that the same code can make the same pool again. The pool itself moves
 * to the retired list and stays, idle, until exit: a pointer that
 * kaa_thread_pool_get() handed out for its name must stay valid, and
 * its workers leave on their own after the idle timeout.
 */
#include "config.h"

#include "kaa-i18n-private.h"

#include <stdlib.h>

#include "kaa-error.h"
#include "kaa-thread-pool-worker-private.h"

/* At process exit, how long running jobs get to see their cancellable and
 * return before the process exits around them. */
#define EXIT_JOIN_TIMEOUT_USEC (2 * G_USEC_PER_SEC)
#define DEFAULT_POOL_NAME "default"
/* Long enough that a bursty application keeps its threads, short enough
 * that an idle one gives them back. */
#define DEFAULT_IDLE_TIMEOUT_MSEC 10000

/* Name → pool, each holding one reference. Pools stay registered after
 * shutdown, so a pointer from kaa_thread_pool_get() stays valid. */
static GMutex      registry_lock;
static GHashTable *registry;
/* Pools from kaa_thread_pool_new() still holding their name (a set), and
 * those that gave it back, each holding the registry's reference. */
static GHashTable *owned_names;
static GPtrArray  *retired_pools;

static void pools_at_exit (void);

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

/* A new pool, not registered yet. */
static KaaThreadPool *
pool_create (const char *name,
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

/* Called by kaa_thread_pool_unref() when @pool is down to one reference:
 * a pool from kaa_thread_pool_new() then gives its name back, since that
 * one is the registry's. */
static void
pool_release_name (KaaThreadPool *pool)
{
  const char *name = kaa_thread_pool_get_name (pool);

  g_mutex_lock (&registry_lock);
  /* Not owned: a pool of kaa_thread_pool_get(), or one that already gave
   * its name back (another reference came and went since). */
  if (owned_names != NULL && g_hash_table_remove (owned_names, pool))
    {
      g_assert (g_hash_table_lookup (registry, name) == pool);
      g_hash_table_remove (registry, name);
      g_ptr_array_add (retired_pools, pool);
    }
  g_mutex_unlock (&registry_lock);
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
    pool_release_name (self);
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

      kaa_job_list_remove (&pool->parked, job);
      job->state = JOB_DONE;
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

/* Stops @pool: see kaa_thread_pool_shutdown(); @at_exit touches no
 * InProgress. Fires the cancellables of running jobs (whose checks
 * already fail) and, unless @at_exit, cancels their InProgresses too; then waits for the
 * workers, for at most until @deadline (-1 for no limit). */
static void
pool_stop (KaaThreadPool *pool,
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
  /* Running jobs blocked in a wait see the shutdown: their waits end. */
  kaa_in_progress_interrupt_waits ();

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

  pool_stop (self, FALSE, -1);
}

/* Under registry_lock. Takes @pool's creation reference: no unref may
 * run under the lock, since it may call pool_release_name(). */
static void
registry_add (KaaThreadPool *pool)
{
  if (registry == NULL)
    {
      registry = g_hash_table_new (g_str_hash, g_str_equal);
      owned_names = g_hash_table_new (NULL, NULL);
      retired_pools = g_ptr_array_new ();
      atexit (pools_at_exit);
    }
  g_hash_table_insert (registry, (gpointer) kaa_thread_pool_get_name (pool), pool);
}

/**
 * kaa_thread_pool_new:
 * @name: the pool's name, for [func@Kaa.ThreadPool.get] and thread names
 * @max_threads: how many jobs may run at once, 0 for the number of CPUs
 *   (at least 2)
 *
 * Creates a pool and registers it under @name. Its threads start when
 * jobs need them and leave after an idle timeout.
 *
 * The name belongs to the pool while it is in use: when the last
 * reference to it is dropped (each job holds one until it is done), the
 * name is free again, and the next `kaa_thread_pool_new()` with it makes
 * a new pool of the size it asks for. A pool made by
 * [func@Kaa.ThreadPool.get] keeps its name for the life of the process.
 * Taking a name still in use is a programming error: it logs a critical
 * and returns the existing pool.
 *
 * Returns: (transfer full): the pool
 * Since: 0.1
 */
KaaThreadPool *
kaa_thread_pool_new (const char *name,
                     guint       max_threads)
{
  KaaThreadPool *pool;

  g_return_val_if_fail (name != NULL, NULL);

  g_mutex_lock (&registry_lock);
  pool = registry != NULL ? g_hash_table_lookup (registry, name) : NULL;
  if (pool != NULL)
    g_critical (_("%s: a thread pool named %s already exists"), G_STRFUNC, name);
  else
    {
      pool = pool_create (name, max_threads);
      registry_add (pool);
      g_hash_table_add (owned_names, pool);
    }
  kaa_thread_pool_ref (pool);
  g_mutex_unlock (&registry_lock);
  return pool;
}

/**
 * kaa_thread_pool_get:
 * @name: a pool name, such as `"io"`
 *
 * Finds the pool registered under @name, creating it with the default
 * size on first use. Any thread. A pool it creates keeps its name for the
 * life of the process; one that [ctor@Kaa.ThreadPool.new] made holds it
 * only while in use.
 *
 * Returns: (transfer none): the pool; it lives as long as the process
 * Since: 0.1
 */
KaaThreadPool *
kaa_thread_pool_get (const char *name)
{
  KaaThreadPool *pool;

  g_return_val_if_fail (name != NULL, NULL);

  g_mutex_lock (&registry_lock);
  pool = registry != NULL ? g_hash_table_lookup (registry, name) : NULL;
  if (pool == NULL)
    {
      pool = pool_create (name, 0);
      registry_add (pool);
    }
  g_mutex_unlock (&registry_lock);
  return pool;
}

/**
 * kaa_thread_pool_get_default:
 *
 * The pool [func@Kaa.thread_run] uses, named `"default"`.
 *
 * Returns: (transfer none): the default pool
 * Since: 0.1
 */
KaaThreadPool *
kaa_thread_pool_get_default (void)
{
  static KaaThreadPool *default_pool;

  if (G_UNLIKELY (g_atomic_pointer_get (&default_pool) == NULL))
    g_atomic_pointer_set (&default_pool, kaa_thread_pool_get (DEFAULT_POOL_NAME));
  return g_atomic_pointer_get (&default_pool);
}

/* Process exit (atexit, installed with the first pool). Safe because it
 * runs no user code but the jobs themselves: it touches no InProgress
 * (so no callback or destroy notify runs after main() returned), leaves
 * queued jobs unrun, fires running jobs' cancellables and fails their
 * checks, and joins the workers; a job stuck in a call that no
 * cancellable reaches gets EXIT_JOIN_TIMEOUT_USEC, after which the
 * process exits around it as it would without libkaa. */
static void
pools_at_exit (void)
{
  gint64 deadline = g_get_monotonic_time () + EXIT_JOIN_TIMEOUT_USEC;
  GList *pools;

  g_mutex_lock (&registry_lock);
  pools = g_hash_table_get_values (registry);
  for (guint i = 0; i < retired_pools->len; i++)
    pools = g_list_prepend (pools, retired_pools->pdata[i]);
  g_mutex_unlock (&registry_lock);
  for (GList *l = pools; l != NULL; l = l->next)
    pool_stop (l->data, TRUE, deadline);
  g_list_free (pools);
}
