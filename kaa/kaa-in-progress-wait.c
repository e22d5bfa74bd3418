/* kaa-in-progress-wait.c: waiting for an InProgress outside a coroutine
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * On the owner thread a wait iterates the owner context, so the
 * application keeps running around it; anywhere else it blocks on one
 * process-wide condition variable. Waiting is rare and short-lived next to
 * settling, so every settle pays only for reading FLAG_WAITERS, and the
 * broadcast wakes every blocked waiter to re-check its own InProgress.
 */
#include "config.h"

#include "kaa-i18n-private.h"
#include "kaa-error.h"
#include "kaa-fiber-private.h"
#include "kaa-in-progress-impl-private.h"

/* Beyond this, a callback waiting inside a callback waiting inside ...
 * is a recursion bug, and the C stack would be next. */
#define WAIT_MAX_DEPTH 32

static GMutex wait_lock;
static GCond  wait_cond;
static KAA_THREAD_LOCAL guint wait_depth;
/* What else ends this thread's blocking waits: see
 * kaa_in_progress_set_wait_guard(). */
static KAA_THREAD_LOCAL KaaWaitGuard wait_guard;
static KAA_THREAD_LOCAL gpointer     wait_guard_data;

/* The thread of a thread-pool job, around the job: while @guard returns
 * TRUE, a blocking wait goes on; once it returns FALSE (the job was
 * cancelled, its pool shuts down) the wait fails. Without it, a job
 * waiting for something only its owner's loop can settle would hold up
 * the pool's shutdown on that very owner thread for ever. @guarding is
 * the InProgress whose cancel ends the waits: marked so, its cancel
 * from any thread interrupts them at once (kaa_in_progress_cancel()),
 * not only once its owner carries the cancel out. NULL clears. */
void
kaa_in_progress_set_wait_guard (KaaWaitGuard   guard,
                                gpointer       data,
                                KaaInProgress *guarding)
{
  wait_guard = guard;
  wait_guard_data = data;
  if (guarding != NULL)
    g_atomic_int_or (&guarding->flags, FLAG_GUARDS_WAITS);
}

/* Any thread, after what a wait guard reads changed. */
void
kaa_in_progress_interrupt_waits (void)
{
  g_mutex_lock (&wait_lock);
  g_cond_broadcast (&wait_cond);
  g_mutex_unlock (&wait_lock);
}

/* Any thread, after @self's final state is published. */
void
kaa_in_progress_wake_waiters (KaaInProgress *self)
{
  g_mutex_lock (&wait_lock);
  g_cond_broadcast (&wait_cond);
  g_mutex_unlock (&wait_lock);
  kaa_scheduler_wakeup (self->scheduler);
}

static gboolean
wait_iterating (KaaInProgress *self,
                GMainContext  *context,
                GError       **error)
{
  KaaDelivery saved;

  if (wait_depth >= WAIT_MAX_DEPTH)
    {
      g_set_error (error, KAA_ERROR, KAA_ERROR_WAIT_NESTING,
                   _("Too many nested waits for InProgress %s (the limit is %d)"),
                   in_progress_name (self), WAIT_MAX_DEPTH);
      return FALSE;
    }
  wait_depth++;
  kaa_in_progress_delivery_save (&saved);
  while (!in_progress_is_final (self))
    g_main_context_iteration (context, TRUE);
  kaa_in_progress_delivery_restore (&saved);
  wait_depth--;
  return TRUE;
}

/* The producer may say that nothing would ever wake us (a thread-pool job
 * waiting for a job of its own pool that no thread is left to run). */
static gboolean
wait_blocking (KaaInProgress  *self,
               GError        **error)
{
  KaaProducer *producer = kaa_in_progress_get_inline_producer (self);
  /* Read before the wait: once @self settles, its producer is released
   * and may no longer be read (a released combinator's is poisoned). */
  gboolean blocks = producer != NULL && producer->ops->block != NULL;
  void (*unblock) (KaaProducer *, KaaInProgress *) = blocks ? producer->ops->unblock : NULL;
  gboolean done;

  if (blocks && !producer->ops->block (producer, self, error))
    return FALSE;
  g_mutex_lock (&wait_lock);
  while (!(done = in_progress_is_final (self)) &&
         (wait_guard == NULL || wait_guard (wait_guard_data)))
    g_cond_wait (&wait_cond, &wait_lock);
  g_mutex_unlock (&wait_lock);
  if (unblock != NULL)
    unblock (producer, self);
  if (!done)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                 _("The thread-pool job waiting for InProgress %s was cancelled"),
                 in_progress_name (self));
  return done;
}

/**
 * kaa_in_progress_wait:
 * @self: a [struct@Kaa.InProgress]
 * @error: return location for the error of @self
 *
 * Waits until @self is done. On the owner thread this iterates the owner
 * context, so its callbacks, timers and other sources keep running (waits
 * may nest, up to a limit: beyond it this fails with
 * `KAA_ERROR_WAIT_NESTING`); on any other thread it blocks. A thread-pool
 * job that waits for a job of its own pool while every other thread of
 * the pool does the same would block for ever: that wait fails with
 * `KAA_ERROR_WAIT_NESTING` instead, naming the pool. A job's wait also
 * ends when the job is cancelled or its pool shuts down, failing with
 * `G_IO_ERROR_CANCELLED`: a shutdown never waits on a job that waits in
 * turn for the loop of the thread shutting down.
 *
 * Not for coroutines: a coroutine that must wait suspends with
 * [func@Kaa.await] instead. A loop nested on a coroutine's stack would run
 * the whole application there, hold up every coroutine that its
 * dispatch started, and keep the body running after a cancel that must
 * return with it unwound. Called inside a coroutine, this logs a critical
 * and fails at once with `KAA_ERROR_IN_COROUTINE`, whether @self is done
 * or not, so that the mistake shows the first time the code runs.
 *
 * Returns: %TRUE if @self finished, %FALSE with @error set if it failed
 *   or was cancelled
 * Since: 0.1
 */
gboolean
kaa_in_progress_wait (KaaInProgress *self,
                      GError       **error)
{
  GMainContext *context;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  in_progress_return_val_if_freed (self, FALSE);
  /* Coroutines are the only code that runs on a fiber's stack; asking
   * the fiber layer keeps this layer from knowing coroutines. */
  if (G_UNLIKELY (kaa_fiber_get_current () != NULL))
    {
      g_critical ("%s: called inside a coroutine for InProgress %s (%p): a coroutine "
                  "suspends with kaa_await(), it never waits", G_STRFUNC,
                  in_progress_name (self), self);
      g_set_error (error, KAA_ERROR, KAA_ERROR_IN_COROUTINE,
                   _("A coroutine cannot wait for InProgress %s: it must await it"),
                   in_progress_name (self));
      return FALSE;
    }

  if (in_progress_is_final (self))
    return kaa_in_progress_propagate (self, error);

  /* Set before the state is read again: a settler publishes the state
   * before it reads the flag, so one of us sees the other. */
  g_atomic_int_or (&self->flags, FLAG_WAITERS);
  context = kaa_scheduler_get_context (self->scheduler);
  /* A dying context is never iterated, not even by the thread sweeping it. */
  if (kaa_scheduler_is_owner (self->scheduler) && !kaa_scheduler_is_dead (self->scheduler) &&
      g_main_context_acquire (context))
    {
      gboolean ok = wait_iterating (self, context, error);

      g_main_context_release (context);
      if (!ok)
        return FALSE;
    }
  else if (!wait_blocking (self, error))
    return FALSE;

  return kaa_in_progress_propagate (self, error);
}
