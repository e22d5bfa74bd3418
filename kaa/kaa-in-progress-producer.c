/* kaa-in-progress-producer.c: InProgresses driven by the user's own code
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN §2: the producer interface is public, so that an InProgress
 * driven by the user's code (a network request, a child process, a
 * pipeline) pauses and cancels like the built-in ones. KaaProducerFuncs
 * is the public face of the private KaaProducerOps: one adapter, sharing
 * the allocation of its InProgress, forwards each hook and calls the
 * user's destroy notify where the private interface releases its
 * producer. Nothing else of the private interface shows, so that it can
 * change beneath.
 */
#include "config.h"

#include "kaa-in-progress-private.h"

typedef struct
{
  KaaProducer             producer;
  const KaaProducerFuncs *funcs;
  gpointer                user_data;
  GDestroyNotify          destroy;
  KaaDeathWatch          *death;   /* owned: its context's death cancels it */
} UserProducer;

static void
user_producer_cancel (KaaProducer   *producer,
                      KaaInProgress *in_progress)
{
  UserProducer *self = (UserProducer *) producer;

  if (self->funcs->cancel != NULL)
    self->funcs->cancel (in_progress, self->user_data);
}

static void
user_producer_pause (KaaProducer   *producer,
                     KaaInProgress *in_progress)
{
  UserProducer *self = (UserProducer *) producer;

  if (self->funcs->pause != NULL)
    self->funcs->pause (in_progress, self->user_data);
}

static void
user_producer_resume (KaaProducer   *producer,
                      KaaInProgress *in_progress)
{
  UserProducer *self = (UserProducer *) producer;

  if (self->funcs->resume != NULL)
    self->funcs->resume (in_progress, self->user_data);
}

/* The adapter's memory goes with the InProgress; only the user's data
 * goes here. */
static void
user_producer_release (KaaProducer *producer)
{
  UserProducer *self = (UserProducer *) producer;
  GDestroyNotify destroy = g_steal_pointer (&self->destroy);

  kaa_death_watch_release (g_steal_pointer (&self->death));
  if (destroy != NULL)
    destroy (g_steal_pointer (&self->user_data));
}

static const KaaProducerOps user_producer_ops = {
  .cancel = user_producer_cancel,
  .pause = user_producer_pause,
  .resume = user_producer_resume,
  .release = user_producer_release,
  .kind = "user producer",
};

/**
 * kaa_in_progress_new_full: (skip)
 * @funcs: the hooks that reach the work, valid while the InProgress lives
 * @user_data: data for the hooks
 * @destroy: (nullable): frees @user_data once the InProgress has settled
 *
 * Creates a pending InProgress, owned by the calling thread's
 * thread-default #GMainContext like [ctor@Kaa.InProgress.new], whose
 * cancel, pause and resume reach the user's own work through @funcs (see
 * [struct@Kaa.ProducerFuncs]). The work settles it with the finish and
 * fail functions, from any thread, as for any InProgress.
 *
 * @destroy runs exactly once, on whichever thread settles the
 * InProgress, after its final state is published and its callbacks ran
 * or were queued: no hook is called after it. Should a @pause or @resume
 * hook be running on the owner thread at that moment, @destroy waits for
 * it: the owner thread runs @destroy as soon as the hook returns. If the
 * InProgress is cancelled or settles while paused, @resume is not called:
 * @cancel and @destroy must cope with paused work. If its context dies
 * before it settles, it is cancelled as the context's other work is:
 * @cancel then runs on the thread that drops the context (DESIGN §3).
 *
 * C only: a table of function pointers cannot cross into language
 * bindings, which cancel through [method@Kaa.InProgress.get_cancellable].
 *
 * Returns: (transfer full): a new pending InProgress
 * Since: 0.2
 */
KaaInProgress *
kaa_in_progress_new_full (const KaaProducerFuncs *funcs,
                          gpointer                user_data,
                          GDestroyNotify          destroy)
{
  UserProducer *producer;
  KaaInProgress *self;

  if (funcs == NULL)
    {
      /* @user_data was handed over: it goes, as the destroy promised. */
      if (destroy != NULL)
        destroy (user_data);
    }
  kaa_return_failed_if_fail (funcs != NULL);

  self = kaa_in_progress_new_with_producer (sizeof *producer, (gpointer *) &producer);
  producer->producer.ops = &user_producer_ops;
  producer->funcs = funcs;
  producer->user_data = user_data;
  producer->destroy = destroy;
  kaa_in_progress_set_producer (self, &producer->producer);
  producer->death = kaa_death_watch_new (self);
  return self;
}
