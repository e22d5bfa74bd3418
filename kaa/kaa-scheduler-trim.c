/* kaa-scheduler-trim.c: what idle loops trim (stacks, spare blocks)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Past a burst of coroutines, the stack pool gives the pages of its
 * surplus stacks back to the kernel, a batch of madvise() at a time
 * (kaa-fiber-stack.c). The batches used to come from the free of a
 * stack, that is from whatever the program was doing: a timed cancel
 * right after a long chain unwound paid for them, and for the page faults
 * of the stacks they emptied (issue #20). They come from here instead,
 * when a loop that runs coroutines has slept with nothing to do; the pool
 * knows nothing of loops, and its one flag is all an idle iteration reads
 * while no trim is pending. The same wake-ups give the blocks a burst
 * left in the loop thread's spares back to malloc() (kaa-alloc-spare.c);
 * for those alone a loop sleeps as long as it would have.
 */
#include "config.h"

#include "kaa-alloc-private.h"
#include "kaa-fiber-private.h"
#include "kaa-scheduler-impl-private.h"

/* A loop that slept this long with nothing to do is idle. A non-blocking
 * iteration (a program draining its context between two steps of its
 * own) never sleeps that long, so it never pays for a batch. */
#define TRIM_IDLE_USEC 1000
/* Telling costs two clock reads, and a loop that never sleeps keeps a
 * trim pending for good: timing each of its idle iterations cost them 87
 * instructions more than the 985 of one with none pending. Once an idle
 * iteration did not sleep, this many more go untimed
 * (kaa_scheduler_trim_untimed(), inline in prepare), each sleeping at
 * most KAA_SCHEDULER_TRIM_POLL_MSEC: a loop that then goes to sleep
 * trims after at most that many wake-ups (1.6 s). */
#define TRIM_UNTIMED   63

/* Called when prepare found nothing to do, a trim pending and this
 * iteration timed (kaa_scheduler_trim_untimed() said no). For the stack
 * pool the loop sleeps at most until its next batch is due, and at least
 * TRIM_IDLE_USEC, so that check() can tell it slept. The spare blocks
 * wake nothing: they are a thread's own, and malloc() keeps what it is
 * given back too, so they wait for whatever wakes the loop next. */
void
kaa_scheduler_prepare_trim (KaaScheduler *self,
                            GSource      *source,
                            gint         *timeout)
{
  gint64 now = g_source_get_time (source);
  gint64 wait_usec;
  gint wait_msec;

  self->idle_since = now;
  if (!kaa_stack_pool_trim_is_pending ())
    return;
  wait_usec = MAX (kaa_stack_pool_get_next_trim () - now, TRIM_IDLE_USEC);
  wait_msec = (gint) MIN ((wait_usec + 999) / 1000, G_MAXINT);
  if (*timeout < 0 || wait_msec < *timeout)
    *timeout = wait_msec;
}

/* After the poll: a loop that slept since kaa_scheduler_prepare_trim()
 * runs the pool's batch, if its time has come, and one of its spares'. */
void
kaa_scheduler_check_trim (KaaScheduler *self)
{
  gint64 now = g_get_monotonic_time ();

  if (now - self->idle_since >= TRIM_IDLE_USEC)
    {
      kaa_stack_pool_trim_idle (now);
      kaa_spare_trim_idle ();
    }
  else
    self->trim_untimed = TRIM_UNTIMED;
  self->idle_since = 0;
}
