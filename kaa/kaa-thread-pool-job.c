/* kaa-thread-pool-job.c: a job's run, its result, and its settling
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * KaaThreadJob: the producer of a thread job's InProgress, made and
 * queued in kaa-thread-pool.c. Here a worker runs its function and keeps
 * the outcome in the job (kaa_thread_job_execute(), the
 * kaa_thread_job_return_*() calls), then hands it to its owner context
 * through the scheduler's inbox (kaa_thread_job_deliver()), so a burst of
 * completions costs one wake-up and callbacks and awaiting coroutines
 * resume on the owner thread, where job_complete() settles the
 * InProgress. Settling there also means the producer hooks (cancel,
 * pause, resume: owner thread) never race with the release of the job.
 * The job touches none of its pool's state.
 */
#include "config.h"

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
  kaa_outcome_clear (&job->outcome);
  kaa_thread_pool_unref (job->pool);
  /* The job lives in its InProgress's allocation: that reference goes
   * last, and the job is counted gone only after it, so that a job count
   * back where it was means the job's InProgress reference is gone too,
   * also when the last unref runs on a worker while another thread reads
   * the counts (the tests' leak accounting waits for the jobs, then
   * checks the InProgresses). */
  kaa_in_progress_unref (job->in_progress);
  kaa_live_add (KAA_LIVE_THREAD_JOB, -1);
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

  /* An error wins over a result set before it; without either, what
   * the function returned is the result, with no destroy. */
  if (error != NULL)
    {
      kaa_outcome_clear (&job->outcome);
      kaa_outcome_take_error (&job->outcome, error);
    }
  else if (job->outcome.kind == KAA_OUTCOME_NONE)
    kaa_outcome_take_pointer (&job->outcome, KAA_OUTCOME_POINTER, result, NULL);

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
  job->complete.run = job_complete;
  kaa_scheduler_push_remote_cached (kaa_in_progress_get_scheduler (job->in_progress),
                                    &job->complete, held);
}

/* Owner thread (or the owner context is gone, and this settles where
 * nobody listens any more). A result that arrives after a cancel is
 * dropped by the settle, through its destroy notify. */
static void
job_complete (KaaRunnable *runnable,
              gboolean     discard)
{
  KaaThreadJob *job = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (KaaThreadJob, complete));
  KaaInProgress *in_progress = job->in_progress;

  if (G_UNLIKELY (job->trace_ended != 0) && !discard)
    job_trace (job);
  /* On an InProgress that something else settled (not a cancel, which is
   * always quiet), a result is a second finish and earns its critical,
   * while an error is dropped quietly, as kaa_in_progress_try_fail()
   * always did here. */
  kaa_in_progress_settle_outcome (in_progress, &job->outcome, G_STRFUNC,
                                  job->outcome.kind == KAA_OUTCOME_ERROR);
  kaa_thread_job_unref (job);
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
  if (G_LIKELY (job->outcome.kind == KAA_OUTCOME_NONE))
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
  kaa_outcome_take_pointer (&job->outcome, KAA_OUTCOME_POINTER, result, destroy);
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
  kaa_outcome_set_boolean (&job->outcome, result);
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
  kaa_outcome_set_int64 (&job->outcome, result);
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
  kaa_outcome_set_double (&job->outcome, result);
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
  kaa_outcome_set_string (&job->outcome, result);
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
  kaa_outcome_set_object (&job->outcome, object);
}
