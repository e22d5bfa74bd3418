/* kaa-thread-pool-job.c: one job on a thread pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * KaaThreadJob: the producer of a thread job's InProgress. The worker
 * runs the function and keeps its outcome in the job; the InProgress is
 * settled on its owner context, reached through the scheduler's inbox, so
 * a burst of completions costs one wake-up and callbacks and awaiting
 * coroutines resume on the owner thread. Settling there also means the
 * producer hooks (cancel, pause, resume: owner thread) never race with
 * the release of the job.
 *
 * References: the InProgress's producer slot holds one on the job until
 * it settles; the pool holds one while the job is queued or running,
 * which the completion then takes to the owner. The job holds one on its
 * InProgress and one on its pool.
 */
#include "config.h"

#include "kaa-alloc-private.h"
#include "kaa-i18n-private.h"
#include "kaa-live-private.h"
#include "kaa-trace-private.h"
#include "kaa-progress.h"
#include "kaa-thread-pool-private.h"

/**
 * KaaThreadJob:
 *
 * The job a [callback@Kaa.ThreadFunc] runs as, valid until the function
 * returns: it checks for cancel and pause, carries a #GCancellable and
 * progress, and takes the result.
 */

static void job_complete (KaaRunnable *runnable, gboolean discard);

/* A job and its InProgress share one block from the InProgress layer's
 * cache, kept across bursts. */
void
kaa_thread_job_cache_decay (gboolean all)
{
  kaa_block_cache_decay (kaa_in_progress_get_block_cache (), g_get_monotonic_time (), all);
}

guint
kaa_thread_job_cache_get_n_cached_for_testing (void)
{
  return kaa_block_cache_get_n_cached (kaa_in_progress_get_block_cache ());
}

static void
job_clear_result (KaaThreadJob *job)
{
  switch (job->result_kind)
    {
    case JOB_RESULT_POINTER:
      if (job->result_destroy != NULL)
        job->result_destroy (job->result.v_pointer);
      break;
    case JOB_RESULT_STRING:
      g_free (job->result.v_pointer);
      break;
    case JOB_RESULT_OBJECT:
      g_clear_object ((GObject **) &job->result.v_pointer);
      break;
    case JOB_RESULT_RETURNED:
    case JOB_RESULT_BOOLEAN:
    case JOB_RESULT_INT64:
    case JOB_RESULT_DOUBLE:
    default:
      break;
    }
  job->result_kind = JOB_RESULT_RETURNED;
  job->result.v_pointer = NULL;
}

KaaThreadJob *
kaa_thread_job_ref (KaaThreadJob *job)
{
  kaa_ref_count_inc (&job->ref_count);
  return job;
}

void
kaa_thread_job_unref (KaaThreadJob *job)
{
  if (!kaa_ref_count_dec (&job->ref_count))
    return;
  if (job->destroy != NULL)
    job->destroy (job->user_data);
  job_clear_result (job);
  g_clear_error (&job->error);
  kaa_thread_pool_unref (job->pool);
  kaa_live_add (KAA_LIVE_THREAD_JOB, -1);
  /* Last: the job lives in its InProgress's allocation. */
  kaa_in_progress_unref (job->in_progress);
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

  kaa_thread_pool_lock (job->pool);
  if (job->state == JOB_QUEUED || job->state == JOB_PARKED)
    {
      kaa_thread_pool_unqueue_unlocked (job->pool, job);
      dropped = TRUE;
    }
  else if (job->state == JOB_RUNNING)
    kaa_thread_pool_wake_checks_unlocked (job->pool);
  kaa_thread_pool_unlock (job->pool);

  if (dropped)
    kaa_thread_job_unref (job);
}

/* Owner thread: a queued job is parked, so that the jobs behind it go
 * ahead; a running one will wait in its next check. */
static void
job_pause (KaaProducer   *producer,
           KaaInProgress *in_progress)
{
  KaaThreadJob *job = (KaaThreadJob *) producer;

  kaa_thread_pool_lock (job->pool);
  g_atomic_int_set (&job->paused, TRUE);
  if (job->state == JOB_QUEUED)
    kaa_thread_pool_park_unlocked (job->pool, job);
  kaa_thread_pool_unlock (job->pool);
}

/* Owner thread: a parked job goes back in the queue with its original
 * sequence number, so it keeps its place among its priority. */
static void
job_resume (KaaProducer   *producer,
            KaaInProgress *in_progress)
{
  KaaThreadJob *job = (KaaThreadJob *) producer;

  kaa_thread_pool_lock (job->pool);
  g_atomic_int_set (&job->paused, FALSE);
  if (job->state == JOB_PARKED)
    kaa_thread_pool_requeue_unlocked (job->pool, job);
  else if (job->state == JOB_RUNNING)
    kaa_thread_pool_wake_checks_unlocked (job->pool);
  kaa_thread_pool_unlock (job->pool);
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
void
kaa_thread_job_track (KaaThreadJob *job)
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

  kaa_thread_pool_lock (job->pool);
  state = job->state;
  kaa_thread_pool_unlock (job->pool);
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
KaaThreadJob *
kaa_thread_job_new (KaaThreadPool *pool,
                    gint           priority,
                    KaaThreadFunc  func,
                    gpointer       user_data,
                    GDestroyNotify destroy)
{
  KaaThreadJob *job;
  KaaInProgress *in_progress =
    kaa_in_progress_new_with_producer (sizeof *job, TRUE, (gpointer *) &job);

  kaa_live_add (KAA_LIVE_THREAD_JOB, 1);
  job->producer.ops = &job_ops;
  kaa_ref_count_init (&job->ref_count);
  job->pool = kaa_thread_pool_ref (pool);
  job->in_progress = in_progress;   /* and the memory of the job */
  job->func = func;
  job->user_data = user_data;
  job->destroy = destroy;
  job->priority = priority;
  job->complete.run = job_complete;
  if (kaa_trace_is_on ())
    job->trace_queued = kaa_trace_now ();
  kaa_in_progress_set_producer (job->in_progress, &job->producer);
  kaa_thread_job_ref (job);
  return job;
}

/* Issue 19: how long the job waited in its pool, then how long it ran,
 * marked on the owner thread, which alone may read its name (a job is
 * often named after it was submitted). */
static G_NO_INLINE void
job_trace (KaaThreadJob *job)
{
  const char *name = kaa_in_progress_get_name (job->in_progress);
  const char *pool = kaa_thread_pool_get_name (job->pool);

  if (name == NULL)
    name = "(unnamed)";
  kaa_trace_mark_range (job->trace_queued, job->trace_started, "job queued",
                        "%s in pool %s", name, pool);
  kaa_trace_mark_range (job->trace_started, job->trace_ended, "job run",
                        "%s in pool %s", name, pool);
}

void
kaa_thread_job_execute (KaaThreadJob *job)
{
  GError *error = NULL;
  gpointer result;

  if (G_UNLIKELY (job->trace_queued != 0))
    job->trace_started = kaa_trace_now ();
  result = job->func (job, job->user_data, &error);
  if (G_UNLIKELY (job->trace_queued != 0))
    job->trace_ended = kaa_trace_now ();

  if (error != NULL)
    {
      job_clear_result (job);
      job->error = error;
    }
  else if (job->result_kind == JOB_RESULT_RETURNED)
    job->result.v_pointer = result;

  if (job->destroy != NULL)
    {
      job->destroy (job->user_data);
      job->destroy = NULL;
    }
}

void
kaa_thread_job_deliver (KaaThreadJob  *job,
                        KaaScheduler **held)
{
  kaa_scheduler_push_remote_cached (kaa_in_progress_get_scheduler (job->in_progress),
                                    &job->complete, held);
}

/* Owner thread (or the owner context is gone, and this settles where
 * nobody listens any more). A result that arrives after a cancel is
 * dropped by the finish call, through its destroy notify. */
static void
job_complete (KaaRunnable *runnable,
              gboolean     discard)
{
  KaaThreadJob *job = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (KaaThreadJob, complete));
  KaaInProgress *in_progress = job->in_progress;

  if (G_UNLIKELY (job->trace_ended != 0) && !discard)
    job_trace (job);
  if (job->error != NULL)
    kaa_in_progress_try_fail (in_progress, g_steal_pointer (&job->error));
  else
    switch (job->result_kind)
      {
      case JOB_RESULT_RETURNED:
        kaa_in_progress_finish_pointer (in_progress, job->result.v_pointer, NULL);
        break;
      case JOB_RESULT_POINTER:
        kaa_in_progress_finish_pointer (in_progress, job->result.v_pointer, job->result_destroy);
        job->result_kind = JOB_RESULT_RETURNED;
        break;
      case JOB_RESULT_BOOLEAN:
        kaa_in_progress_finish_boolean (in_progress, job->result.v_boolean);
        break;
      case JOB_RESULT_INT64:
        kaa_in_progress_finish_int64 (in_progress, job->result.v_int64);
        break;
      case JOB_RESULT_DOUBLE:
        kaa_in_progress_finish_double (in_progress, job->result.v_double);
        break;
      case JOB_RESULT_STRING:
        kaa_in_progress_finish_string (in_progress, job->result.v_pointer);
        break;
      case JOB_RESULT_OBJECT:
        kaa_in_progress_finish_object (in_progress, job->result.v_pointer);
        break;
      default:
        g_assert_not_reached ();
      }
  kaa_thread_job_unref (job);
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
    kaa_thread_pool_wait_paused (job->pool, job);
  return kaa_in_progress_is_pending (job->in_progress) &&
         !kaa_thread_pool_is_shut_down (job->pool);
}

/**
 * kaa_thread_job_get_cancellable:
 * @job: the running [struct@Kaa.ThreadJob]
 *
 * A #GCancellable for blocking GIO calls made by the job: it is cancelled
 * when the job's InProgress is (by its owner context) or its pool shuts
 * down.
 *
 * Returns: (transfer none): the cancellable
 * Since: 0.1
 */
GCancellable *
kaa_thread_job_get_cancellable (KaaThreadJob *job)
{
  g_return_val_if_fail (job != NULL, NULL);

  return kaa_in_progress_get_cancellable (job->in_progress);
}

/**
 * kaa_thread_job_set_progress:
 * @job: the running [struct@Kaa.ThreadJob]
 * @position: how far the job is, 0 or more
 * @total: the position at which it is done, or 0 if unknown
 *
 * Reports progress on the job's InProgress, with the rule of
 * [method@Kaa.InProgress.set_progress]: neither number is negative, and a
 * total of 0 means unknown. Its progress callbacks run on the owner
 * context, throttled. Cheap enough to call per item.
 *
 * Since: 0.1
 */
void
kaa_thread_job_set_progress (KaaThreadJob *job,
                             gint64        position,
                             gint64        total)
{
  g_return_if_fail (job != NULL);
  g_return_if_fail (position >= 0);
  g_return_if_fail (total >= 0);

  kaa_in_progress_set_progress (job->in_progress, position, total);
}

/* A second return is a programming error: the first result stays. */
static gboolean
job_may_return (KaaThreadJob *job,
                const char   *function)
{
  if (G_LIKELY (job->result_kind == JOB_RESULT_RETURNED))
    return TRUE;
  g_critical (_("%s: thread job %s already has a result; the new one is dropped"),
              function, kaa_in_progress_get_name (job->in_progress) != NULL
                        ? kaa_in_progress_get_name (job->in_progress) : "(unnamed)");
  return FALSE;
}

/**
 * kaa_thread_job_return_pointer: (skip)
 * @job: the running [struct@Kaa.ThreadJob]
 * @result: (nullable): the result
 * @destroy: (nullable): frees @result, also when it arrives after a cancel
 *
 * Sets the job's result; the function should then return %NULL.
 *
 * C only: language bindings cannot hand over a raw pointer and its destroy
 * notify; they use a typed form such as
 * [method@Kaa.ThreadJob.return_string].
 *
 * Since: 0.1
 */
void
kaa_thread_job_return_pointer (KaaThreadJob  *job,
                               gpointer       result,
                               GDestroyNotify destroy)
{
  g_return_if_fail (job != NULL);

  if (!job_may_return (job, G_STRFUNC))
    {
      if (destroy != NULL)
        destroy (result);
      return;
    }
  job->result_kind = JOB_RESULT_POINTER;
  job->result.v_pointer = result;
  job->result_destroy = destroy;
}

/**
 * kaa_thread_job_return_boolean:
 * @job: the running [struct@Kaa.ThreadJob]
 * @result: the result
 *
 * Sets the job's result, as [method@Kaa.ThreadJob.return_pointer] does.
 *
 * Since: 0.1
 */
void
kaa_thread_job_return_boolean (KaaThreadJob *job,
                               gboolean      result)
{
  g_return_if_fail (job != NULL);

  if (!job_may_return (job, G_STRFUNC))
    return;
  job->result_kind = JOB_RESULT_BOOLEAN;
  job->result.v_boolean = result;
}

/**
 * kaa_thread_job_return_int64:
 * @job: the running [struct@Kaa.ThreadJob]
 * @result: the result
 *
 * Sets the job's result, as [method@Kaa.ThreadJob.return_pointer] does.
 *
 * Since: 0.1
 */
void
kaa_thread_job_return_int64 (KaaThreadJob *job,
                             gint64        result)
{
  g_return_if_fail (job != NULL);

  if (!job_may_return (job, G_STRFUNC))
    return;
  job->result_kind = JOB_RESULT_INT64;
  job->result.v_int64 = result;
}

/**
 * kaa_thread_job_return_double:
 * @job: the running [struct@Kaa.ThreadJob]
 * @result: the result
 *
 * Sets the job's result, as [method@Kaa.ThreadJob.return_pointer] does.
 *
 * Since: 0.1
 */
void
kaa_thread_job_return_double (KaaThreadJob *job,
                              gdouble       result)
{
  g_return_if_fail (job != NULL);

  if (!job_may_return (job, G_STRFUNC))
    return;
  job->result_kind = JOB_RESULT_DOUBLE;
  job->result.v_double = result;
}

/**
 * kaa_thread_job_return_string:
 * @job: the running [struct@Kaa.ThreadJob]
 * @result: (nullable): the result, copied
 *
 * Sets the job's result, as [method@Kaa.ThreadJob.return_pointer] does.
 *
 * Since: 0.1
 */
void
kaa_thread_job_return_string (KaaThreadJob *job,
                              const char   *result)
{
  g_return_if_fail (job != NULL);

  if (!job_may_return (job, G_STRFUNC))
    return;
  job->result_kind = JOB_RESULT_STRING;
  job->result.v_pointer = g_strdup (result);
}

/**
 * kaa_thread_job_return_object:
 * @job: the running [struct@Kaa.ThreadJob]
 * @object: (type GObject) (nullable) (transfer none): the result
 *
 * Sets the job's result to a new reference to @object, as
 * [method@Kaa.ThreadJob.return_pointer] does.
 *
 * Since: 0.1
 */
void
kaa_thread_job_return_object (KaaThreadJob *job,
                              gpointer      object)
{
  g_return_if_fail (job != NULL);
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  if (!job_may_return (job, G_STRFUNC))
    return;
  job->result_kind = JOB_RESULT_OBJECT;
  job->result.v_pointer = object != NULL ? g_object_ref (object) : NULL;
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
