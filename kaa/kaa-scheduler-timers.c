/* kaa-scheduler-timers.c: the scheduler's timer heap
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every sleep, timeout, interval slot and progress throttle of a context
 * is a KaaTimer in one binary min-heap on its deadline, so a thousand
 * sleeps cost one GSource. The heap is the owner thread's; other threads
 * arm timers through the inbox. A paused timer leaves the heap frozen,
 * keeping the time it had left, and is tracked as a mortal meanwhile, so
 * that a context dying with it discards it like an armed one.
 */
#include "config.h"

#include "kaa-live-private.h"
#include "kaa-scheduler-impl-private.h"

static void
heap_swap (KaaScheduler *self,
           guint         a,
           guint         b)
{
  KaaTimer *t = self->heap[a];

  self->heap[a] = self->heap[b];
  self->heap[b] = t;
  self->heap[a]->index = a;
  self->heap[b]->index = b;
}

static void
heap_sift_up (KaaScheduler *self,
              guint         i)
{
  while (i > 1 && self->heap[i / 2]->deadline > self->heap[i]->deadline)
    {
      heap_swap (self, i, i / 2);
      i /= 2;
    }
}

static void
heap_sift_down (KaaScheduler *self,
                guint         i)
{
  for (;;)
    {
      guint smallest = i;
      guint l = 2 * i;
      guint r = l + 1;

      if (l <= self->heap_len && self->heap[l]->deadline < self->heap[smallest]->deadline)
        smallest = l;
      if (r <= self->heap_len && self->heap[r]->deadline < self->heap[smallest]->deadline)
        smallest = r;
      if (smallest == i)
        return;
      heap_swap (self, i, smallest);
      i = smallest;
    }
}

/* DESIGN §3: due timers fire earliest first until none is due or @budget
 * (µs since @now) is spent, the clock read as seldom as for the ready
 * queue; what is left is still due, so prepare makes the next iteration
 * at once, after the other sources had their turn. A million sleeps due
 * together then never hold one iteration. */
guint
kaa_scheduler_fire_timers (KaaScheduler *self,
                           gint64        now,
                           gint64        budget)
{
  KaaBudget spending;
  guint n = 0;

  kaa_budget_init (&spending, now, budget);
  while (self->heap_len > 0 && self->heap[1]->deadline <= now)
    {
      KaaTimer *timer = self->heap[1];

      kaa_scheduler_remove_timer (self, timer);
      timer->fire (timer, FALSE);
      n++;
      if (kaa_budget_spent (&spending))
        break;
    }
  return n;
}

static void
heap_insert (KaaScheduler *self,
             KaaTimer     *timer)
{
  if (self->heap_len + 1 >= self->heap_alloc)
    {
      self->heap_alloc = MAX (16, self->heap_alloc * 2);
      self->heap = g_renew (KaaTimer *, self->heap, self->heap_alloc);
    }
  timer->index = ++self->heap_len;
  self->heap[timer->index] = timer;
  heap_sift_up (self, timer->index);
  kaa_live_add (KAA_LIVE_TIMER, 1);
}

static void
timer_arm_run (KaaRunnable *runnable,
               gboolean     discard)
{
  KaaTimer *timer = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (KaaTimer, arm));

  if (discard)
    timer->fire (timer, TRUE);
  else
    heap_insert (timer->scheduler, timer);
}

/* Arms @timer to fire at @deadline (monotonic µs) on the owner thread.
 * From another thread the timer enters the heap on the owner's next
 * dispatch; it must not be armed again or removed before it fires. On a
 * scheduler whose context is gone, it is discarded: by the sweep on the
 * thread sweeping it, through the inbox from others. */
void
kaa_scheduler_add_timer (KaaScheduler *self,
                         KaaTimer     *timer,
                         gint64        deadline)
{
  g_assert (timer->index == 0);

  timer->deadline = deadline;
  timer->scheduler = self;
  /* Never fired here, inside its caller (a resume hook thawing it, say,
   * whose InProgress the settle would free under it). */
  if (kaa_scheduler_is_owner (self))
    heap_insert (self, timer);
  else
    {
      timer->arm.run = timer_arm_run;
      kaa_scheduler_push_remote (self, &timer->arm);
    }
}

gboolean
kaa_scheduler_remove_timer (KaaScheduler *self,
                            KaaTimer     *timer)
{
  guint i = timer->index;

  if (i == 0)
    {
      if (timer->frozen.next == NULL)
        return FALSE;
      kaa_scheduler_untrack (self, &timer->frozen);
      return TRUE;
    }
  g_assert (i <= self->heap_len && self->heap[i] == timer);

  kaa_live_add (KAA_LIVE_TIMER, -1);
  timer->index = 0;
  if (i != self->heap_len)
    {
      KaaTimer *moved = self->heap[self->heap_len];

      self->heap[i] = moved;
      moved->index = i;
      self->heap_len--;
      heap_sift_up (self, i);
      heap_sift_down (self, moved->index);
    }
  else
    self->heap_len--;
  return TRUE;
}

/* The context died while @timer was frozen: discarded as if armed. */
static void
timer_frozen_die (KaaMortal *mortal)
{
  KaaTimer *timer = G_STRUCT_MEMBER_P (mortal, -G_STRUCT_OFFSET (KaaTimer, frozen));

  timer->fire (timer, TRUE);
}

gboolean
kaa_scheduler_freeze_timer (KaaScheduler *self,
                            KaaTimer     *timer)
{
  gint64 left;

  if (timer->index == 0)
    return FALSE;
  left = MAX (timer->deadline - kaa_scheduler_get_time (self), 0);
  kaa_scheduler_remove_timer (self, timer);
  timer->deadline = left;
  timer->frozen.die = timer_frozen_die;
  kaa_scheduler_track (self, &timer->frozen);
  return TRUE;
}

gint64
kaa_scheduler_get_timer_left (KaaScheduler *self,
                              KaaTimer     *timer,
                              gboolean     *frozen)
{
  *frozen = timer->frozen.next != NULL;
  return *frozen ? timer->deadline : timer->deadline - kaa_scheduler_get_time (self);
}

gboolean
kaa_scheduler_thaw_timer (KaaScheduler *self,
                          KaaTimer     *timer)
{
  if (timer->frozen.next == NULL)
    return FALSE;
  kaa_scheduler_untrack (self, &timer->frozen);
  kaa_scheduler_add_timer (self, timer, kaa_scheduler_get_time (self) + timer->deadline);
  return TRUE;
}

gint64
kaa_scheduler_get_time (KaaScheduler *self)
{
  return g_get_monotonic_time ();
}

/* The context died: every armed timer is discarded, earliest first.
 * TRUE if there was any. */
gboolean
kaa_scheduler_discard_timers (KaaScheduler *self)
{
  gboolean any = FALSE;

  while (self->heap_len > 0)
    {
      KaaTimer *timer = self->heap[1];

      kaa_scheduler_remove_timer (self, timer);
      timer->fire (timer, TRUE);
      any = TRUE;
    }
  return any;
}
