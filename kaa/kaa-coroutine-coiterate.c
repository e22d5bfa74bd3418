/* kaa-coroutine-coiterate.c: stackless time-sliced tasks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Twisted's coiterate/cooperate in C: a step function the scheduler calls
 * once per main-loop iteration until it says it is done, under the same
 * run queue and budget as coroutines, with an InProgress to wait for,
 * chain or cancel. No stack of its own: for very many small time-sliced
 * tasks, where a coroutine each would cost a stack each. Everything runs
 * on the owner thread of the task's InProgress.
 *
 * Paused (DESIGN §6), a task runs no step: the step due meanwhile is held,
 * out of every queue, and tracked on the scheduler so that the context's
 * death still cancels it; resuming queues it again.
 */
#include "config.h"

#include "kaa-coroutine.h"
#include "kaa-in-progress-private.h"
#include "kaa-refcount-private.h"

typedef struct
{
  KaaProducer    producer;
  KaaRefCount    ref_count;    /* the producer slot, a queued step */
  KaaRunnable    runnable;
  KaaMortal      mortal;       /* tracked while a step is held */
  KaaScheduler  *scheduler;    /* owned */
  KaaInProgress *in_progress;  /* owned while steps remain */
  KaaStepFunc    step;
  gpointer       user_data;
  GDestroyNotify destroy;
  gboolean       stepping;     /* inside step: a cancel defers the destroy */
  gboolean       paused;
  gboolean       held;         /* paused when its step came: it holds the step's reference */
} Coiteration;

static void
coiteration_unref (Coiteration *self)
{
  if (!kaa_ref_count_dec (&self->ref_count))
    return;
  g_assert (self->destroy == NULL);
  g_clear_pointer (&self->in_progress, kaa_in_progress_unref);
  kaa_scheduler_unref (self->scheduler);
  g_free (self);
}

/* The task is over: its data goes now, and no step runs again. */
static void
coiteration_end (Coiteration *self)
{
  GDestroyNotify destroy = g_steal_pointer (&self->destroy);

  self->step = NULL;
  if (destroy != NULL)
    destroy (self->user_data);
  g_clear_pointer (&self->in_progress, kaa_in_progress_unref);
}

static void
coiteration_run (KaaRunnable *runnable,
                 gboolean     discard)
{
  Coiteration *self = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (Coiteration, runnable));
  KaaInProgress *ip = self->in_progress;
  gboolean again = FALSE;

  if (self->paused && !discard && self->step != NULL && !kaa_in_progress_is_done (ip))
    {
      self->held = TRUE;   /* the reference stays with the held step */
      kaa_scheduler_track (self->scheduler, &self->mortal);
      return;
    }
  if (self->step != NULL && !discard && !kaa_in_progress_is_done (ip))
    {
      self->stepping = TRUE;
      again = self->step (ip, self->user_data);
      self->stepping = FALSE;
    }
  if (again && self->step != NULL && !kaa_in_progress_is_done (ip))
    {
      /* The reference travels on with the next step. */
      kaa_scheduler_push_slice (self->scheduler, &self->runnable);
      return;
    }
  if (self->step != NULL)
    {
      if (discard)
        kaa_in_progress_cancel (ip);
      else if (!kaa_in_progress_is_done (ip))
        kaa_in_progress_finish_pointer (ip, NULL, NULL);
      coiteration_end (self);
    }
  coiteration_unref (self);
}

/* Cancel takes effect at once: no step runs again and the data is
 * destroyed before cancel returns, unless the task cancels itself from
 * inside its step; then it goes when the step returns. */
static void
coiteration_cancel (KaaProducer   *producer,
                    KaaInProgress *in_progress)
{
  Coiteration *self = (Coiteration *) producer;

  if (!self->stepping && self->step != NULL)
    coiteration_end (self);
  if (self->held)
    {
      self->held = FALSE;
      kaa_scheduler_untrack (self->scheduler, &self->mortal);
      coiteration_unref (self);   /* the held step's */
    }
}

static void
coiteration_pause (KaaProducer   *producer,
                   KaaInProgress *in_progress)
{
  ((Coiteration *) producer)->paused = TRUE;
}

static void
coiteration_resume (KaaProducer   *producer,
                    KaaInProgress *in_progress)
{
  Coiteration *self = (Coiteration *) producer;

  self->paused = FALSE;
  if (!self->held)
    return;
  self->held = FALSE;
  kaa_scheduler_untrack (self->scheduler, &self->mortal);
  kaa_scheduler_push_slice (self->scheduler, &self->runnable);
}

/* The context died while a step was held. */
static void
coiteration_die (KaaMortal *mortal)
{
  Coiteration *self = G_STRUCT_MEMBER_P (mortal, -G_STRUCT_OFFSET (Coiteration, mortal));

  kaa_in_progress_cancel (self->in_progress);
}

static void
coiteration_release (KaaProducer *producer)
{
  coiteration_unref ((Coiteration *) producer);
}

static const KaaProducerOps coiteration_ops = {
  .cancel = coiteration_cancel,
  .pause = coiteration_pause,
  .resume = coiteration_resume,
  .release = coiteration_release,
  .kind = "coiteration",
};

/**
 * kaa_coiterate:
 * @step: (scope notified) (closure user_data) (destroy destroy): one slice of work
 * @user_data: data for @step
 * @destroy: (nullable): frees @user_data when the task is over
 *
 * Starts a stackless time-sliced task: from the next main-loop iteration
 * on, @step runs once per iteration, under the scheduler's budget, until
 * it returns %FALSE or settles the InProgress it is given; if it did not
 * settle it, the InProgress then finishes with %NULL. Cancelling the
 * InProgress stops the task at once: no step runs again and @destroy has
 * run when cancel returns. Paused, it runs no step until resumed.
 *
 * Returns: (transfer full): the InProgress of the task
 * Since: 0.1
 */
KaaInProgress *
kaa_coiterate (KaaStepFunc    step,
               gpointer       user_data,
               GDestroyNotify destroy)
{
  KaaInProgress *ip;
  Coiteration *self;

  kaa_return_failed_if_fail (step != NULL);

  ip = kaa_in_progress_new ();
  self = g_new0 (Coiteration, 1);
  kaa_ref_count_init (&self->ref_count);          /* the producer slot */
  kaa_ref_count_inc (&self->ref_count);           /* the queued step */
  self->producer.ops = &coiteration_ops;
  self->runnable.run = coiteration_run;
  self->mortal.die = coiteration_die;
  self->scheduler = kaa_scheduler_ref (kaa_in_progress_get_scheduler (ip));
  self->in_progress = kaa_in_progress_ref (ip);
  self->step = step;
  self->user_data = user_data;
  self->destroy = destroy;
  kaa_in_progress_set_producer (ip, &self->producer);

  if (kaa_scheduler_is_owner (self->scheduler))
    kaa_scheduler_push_slice (self->scheduler, &self->runnable);
  else
    kaa_scheduler_push_remote (self->scheduler, &self->runnable);
  return ip;
}
