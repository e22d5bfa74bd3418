/* kaa-scheduler-main.c: kaa_main_*(), the main loop for programs
 * without one of their own
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "kaa-scheduler-impl-private.h"

/* Guards every scheduler's `loops`. */
static GMutex loops_lock;

/**
 * kaa_main_run:
 *
 * Runs a #GMainLoop on the calling thread's thread-default context until
 * [func@Kaa.main_quit] is called. Calls may nest; each quit ends the
 * innermost run. Plain g_main_loop_run() or g_application_run() work
 * just as well: libkaa needs no loop of its own.
 *
 * Since: 0.1
 */
void
kaa_main_run (void)
{
  KaaScheduler *self = kaa_scheduler_get_for_thread ();
  GMainLoop *loop = g_main_loop_new (self->context, FALSE);

  kaa_scheduler_ref (self);
  g_mutex_lock (&loops_lock);
  self->loops = g_slist_prepend (self->loops, loop);
  g_mutex_unlock (&loops_lock);

  g_main_loop_run (loop);

  g_mutex_lock (&loops_lock);
  self->loops = g_slist_remove (self->loops, loop);
  g_mutex_unlock (&loops_lock);
  g_main_loop_unref (loop);
  kaa_scheduler_unref (self);
}

/**
 * kaa_main_quit:
 *
 * Ends the innermost [func@Kaa.main_run] of the calling thread's
 * thread-default context. Safe to call from any thread: from a thread
 * without a thread-default context it ends the run on the global default
 * context. Does nothing when no run is in progress.
 *
 * Since: 0.1
 */
void
kaa_main_quit (void)
{
  KaaScheduler *self = kaa_scheduler_get_for_thread ();

  g_mutex_lock (&loops_lock);
  if (self->loops != NULL)
    g_main_loop_quit (self->loops->data);
  g_mutex_unlock (&loops_lock);
}

/**
 * kaa_main_step:
 * @may_block: whether to wait for something to do
 *
 * Runs one iteration of the calling thread's thread-default context, as
 * g_main_context_iteration() does.
 *
 * Returns: %TRUE if something was dispatched
 * Since: 0.1
 */
gboolean
kaa_main_step (gboolean may_block)
{
  return g_main_context_iteration (kaa_scheduler_get_context (kaa_scheduler_get_for_thread ()),
                                   may_block);
}

/**
 * kaa_main_get_budget:
 *
 * The time one dispatch of the scheduler may spend on ready work before
 * it lets the main loop run other sources, for the calling thread's
 * thread-default context.
 *
 * Returns: the budget in microseconds
 * Since: 0.1
 */
gint64
kaa_main_get_budget (void)
{
  return kaa_scheduler_get_budget (kaa_scheduler_get_for_thread ());
}

/**
 * kaa_main_set_budget:
 * @usec: the budget in microseconds, at least 1
 *
 * Sets the time one dispatch may spend on ready work (default 4 ms) for
 * the calling thread's thread-default context. When it is spent, the rest
 * waits for the next main-loop iteration, so input, drawing and timers
 * keep their latency however much work is ready.
 *
 * Since: 0.1
 */
void
kaa_main_set_budget (gint64 usec)
{
  g_return_if_fail (usec > 0);

  kaa_scheduler_set_budget (kaa_scheduler_get_for_thread (), usec);
}
