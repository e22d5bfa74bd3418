/* kaa-coroutine.c: stackful coroutines on the main loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * KaaCoroutine: a C function running on a fiber (layer 1), producing a
 * KaaInProgress (layer 3), resumed by the scheduler (layer 2). Everything
 * here runs on the owner thread of the coroutine's InProgress; the only
 * cross-thread entry is the completion of an awaited InProgress owned by
 * another context, which comes in through the scheduler's inbox.
 *
 * Life cycle: spawn runs the body at once until it first suspends. A
 * yield queues the coroutine for the next main-loop iteration (and in a
 * dispatch of slices goes straight on to the one queued next: one switch
 * per yield, coroutine_transfer()); an await
 * connects to what it awaits and queues the coroutine, later in the same
 * dispatch, when that settles. When the body returns (after its
 * g_autoptr cleanups ran) the fiber is finished, its stack goes back to
 * the pool and the InProgress settles with what the body set.
 *
 * Cancel (the InProgress's producer hooks, driven by the flat cascade of
 * kaa-in-progress-cascade.c): on the way down the coroutine is marked
 * cancelled and what it awaits is cancelled when it was the only
 * awaiter; on the way up, once that has unwound, the fiber is resumed,
 * so that cancel returns with every cleanup run, innermost first. A
 * coroutine on the call stack cannot be resumed: the cascade waits until
 * it has been left. From then on every await and yield in it returns at
 * once, and what the body sets is dropped.
 *
 * References: the InProgress's producer slot, the fiber while it is not
 * finished, an armed timer, a runnable queued from another thread and
 * each connected await callback hold one each. A runnable queued on the
 * owner thread holds none: it rides on the fiber's reference, which a
 * coroutine finishing while queued hands on to it. That keeps atomic
 * reference counting off the yield path, the hottest path there is.
 */
#include "config.h"

#include "kaa-hot-private.h"
#include "kaa-alloc-private.h"
#include "kaa-i18n-private.h"
#include "kaa-debug-private.h"
#include "kaa-live-private.h"
#include "kaa-trace-private.h"
#include "kaa-coroutine-private.h"
#include "kaa-error.h"

static KAA_THREAD_LOCAL KaaCoroutine *current;

/* Where a coroutine's fiber starts in its allocation, and its size. */
#define FIBER_OFFSET KAA_ALLOC_TAIL_OFFSET (sizeof (KaaCoroutine))
#define BLOCK_SIZE   (FIBER_OFFSET + kaa_fiber_struct_size ())
/* The hot fields and the fiber's first 32 bytes fit the 96 bytes
 * coroutine_warm_queued() loads. */
G_STATIC_ASSERT (FIBER_OFFSET - G_STRUCT_OFFSET (KaaCoroutine, slices) <= 64);

static KaaCoroutine *
coroutine_ref (KaaCoroutine *self)
{
  kaa_ref_count_inc (&self->ref_count);
  return self;
}

static void
coroutine_unref (KaaCoroutine *self)
{
  if (!kaa_ref_count_dec (&self->ref_count))
    return;

  g_assert (self->fiber == NULL);
  g_assert (self->await.awaited == NULL);
  kaa_outcome_clear (&self->outcome);
  if (self->destroy != NULL)
    self->destroy (self->user_data);
  if (self->next_destroy != NULL)
    self->next_destroy (self->next_data);
  g_clear_pointer (&self->in_progress, kaa_in_progress_unref);
  g_clear_pointer (&self->last, kaa_in_progress_unref);
  if (self->adopter != NULL)
    self->adopter->unref (self->adopter);
  kaa_scheduler_unref (self->scheduler);
  /* Last: a destroy notify above may spawn, and that spawn must not be
   * handed this block while it is still read (kaa-alloc-spare.c). */
  kaa_spare_free (KAA_SPARE_COROUTINE, self, BLOCK_SIZE);
  kaa_live_add (KAA_LIVE_COROUTINE, -1);
}

/* Settles the InProgress with what the body set. After a cancel the
 * InProgress is no longer pending and the outcome is dropped quietly. */
static void
coroutine_settle (KaaCoroutine *self)
{
  KaaInProgress *ip = g_steal_pointer (&self->in_progress);

  kaa_in_progress_settle_outcome (ip, &self->outcome, G_STRFUNC, FALSE);
  kaa_in_progress_unref (ip);
}

/* The fiber's function: the body, then each body it became, each frame
 * gone before the next starts, so a chain of tail calls runs flat. */
static void
coroutine_main (gpointer data)
{
  KaaCoroutine *self = data;

  while (self->func != NULL)
    {
      if (self->cancelled)
        {
          /* A cancelled coroutine starts no body: no other after a tail
           * call, nor its first when it was cancelled while a pause held
           * it back (kaa_coroutine_start). */
          if (self->destroy != NULL)
            self->destroy (self->user_data);
          self->func = NULL;
          self->destroy = NULL;
          break;
        }
      self->func (self, self->user_data);
      /* A tail call that hands its own data on (a state machine passing
       * its state along) moves it: the last body's destroy frees it. */
      if (self->destroy != NULL &&
          (self->next_func == NULL || self->next_data != self->user_data))
        self->destroy (self->user_data);
      self->func = g_steal_pointer (&self->next_func);
      self->user_data = g_steal_pointer (&self->next_data);
      self->destroy = g_steal_pointer (&self->next_destroy);
    }
}

/* The body is done: the stack goes back to the pool, the InProgress
 * settles, and the fiber's reference goes, unless a runnable queued on
 * the owner thread rides on it; that one drops it when it runs. Out of
 * line: coroutine_enter() saves no registers for it on a yield. */
static G_NO_INLINE void
coroutine_finished (KaaCoroutine *self)
{
  KaaInProgress *held = NULL;

  /* Cancelled while on the call stack: the cascade waited for this. */
  if (self->where == WHERE_LEAVING)
    held = kaa_in_progress_ref (self->in_progress);
  self->where = WHERE_DONE;
  kaa_scheduler_untrack (self->scheduler, &self->mortal);
  kaa_fiber_clear (g_steal_pointer (&self->fiber));
  coroutine_settle (self);
  if (held != NULL)
    {
      kaa_in_progress_unwound (held);
      kaa_in_progress_unref (held);
    }
  if (g_atomic_int_get (&self->queued) != QUEUED_LOCAL)
    coroutine_unref (self);
}

/* One slice: the coroutine's fiber runs until it suspends, saying where
 * it went (kaa_yield(), coroutine_suspend_until()), or ends. With a
 * @batch lent, its yield may go on to the coroutines queued after it
 * (coroutine_transfer()): returns the one that came back. */
/* On the way into @self's fiber, by a resume or a transfer. */
static inline void
coroutine_set_running (KaaCoroutine *self,
                       KaaBatch     *batch)
{
  current = self;
  self->where = WHERE_RUNNING;
  self->batch = batch;
}

static inline KaaCoroutine *
coroutine_switch (KaaCoroutine *self,
                  KaaBatch     *batch)
{
  KaaCoroutine *outer = current;
  KaaCoroutine *back;

  coroutine_set_running (self, batch);
  kaa_fiber_resume (self->fiber);
  back = current;
  current = outer;
  return back;
}

/* KAA_DEBUG=slow-slice=MS or a Sysprof capture: the slice is timed,
 * named in a warning if it took too long, and marked; no transfer blurs
 * whose slice it was. */
static G_NO_INLINE KaaCoroutine *
coroutine_switch_timed (KaaCoroutine *self)
{
  /* The body that runs now: one that returns clears it. */
  KaaCoroutineFunc func = self->func;
  const char *name = self->def_name != NULL ? self->def_name : "coroutine";
  gboolean slow = kaa_debug_slow_slice_us != 0;
  gint64 begin = kaa_trace_is_on () ? kaa_trace_now () : 0;
  KaaCoroutine *back;
  KaaDebugSpan span;
  gint64 us;

  if (slow)
    kaa_debug_span_begin (&span);
  back = coroutine_switch (self, NULL);
  if (begin != 0)
    kaa_trace_mark (begin, "coroutine slice", "%s, spawned at %s:%d", name,
                    self->site_file != NULL ? self->site_file : "?", self->site_line);
  if (slow && (us = kaa_debug_span_end (&span)) > kaa_debug_slow_slice_us)
    kaa_debug_report_slow ("coroutine", name, (gpointer) func,
                           self->site_file, self->site_line, us);
  return back;
}

/* Owner thread: runs the coroutine until it suspends or ends. The caller
 * must not touch @self afterwards unless it holds a reference. */
static KAA_HOT void
coroutine_enter (KaaCoroutine *self,
                 KaaBatch     *batch)
{
  KaaCoroutine *back;

  /* One load on the hottest path while nothing is switched on. */
  if (G_UNLIKELY (kaa_debug_timed))
    back = coroutine_switch_timed (self);
  else
    back = coroutine_switch (self, batch);
  if (kaa_fiber_is_finished (back->fiber))
    coroutine_finished (back);
}

/* DESIGN §3: a context going away takes its coroutines with it, on the
 * thread sweeping it. Each is cancelled as any other: it unwinds with its
 * cleanups run, whether it was queued, sleeping or suspended in an await,
 * and its InProgress settles CANCELLED, also when the body returns after
 * `if (!kaa_yield ()) return;`. */
static void
coroutine_kill (KaaCoroutine *self)
{
  coroutine_ref (self);
  if (self->in_progress != NULL && !kaa_in_progress_is_done (self->in_progress))
    kaa_in_progress_cancel (self->in_progress);
  if (self->fiber != NULL)
    {
      self->cancelled = TRUE;
      if (!kaa_coroutine_on_stack (self))
        coroutine_enter (self, NULL);
    }
  coroutine_unref (self);
}

/* The live dump finds coroutines through their mortal (issue 19). */
static gpointer
coroutine_subject (KaaMortal *mortal)
{
  KaaCoroutine *self = G_STRUCT_MEMBER_P (mortal, -G_STRUCT_OFFSET (KaaCoroutine, mortal));

  return self->in_progress;
}

static void
coroutine_die (KaaMortal *mortal)
{
  coroutine_kill (G_STRUCT_MEMBER_P (mortal, -G_STRUCT_OFFSET (KaaCoroutine, mortal)));
}

static KAA_HOT void
coroutine_wake (KaaCoroutine *self,
                gboolean      discard,
                KaaBatch     *batch)
{
  if (self->fiber == NULL)
    return;
  switch (self->where)
    {
    case WHERE_UNWINDING:
      /* Cancelled, waiting for what it awaited to unwind first: only the
       * cascade resumes it. */
      return;
    case WHERE_RUNNING:
    case WHERE_LEAVING:
      /* On the call stack: it notices at its next suspension. */
      if (discard)
        coroutine_kill (self);
      return;
    default:
      if (discard)
        coroutine_kill (self);
      else if (self->paused)
        self->where = WHERE_HELD;   /* DESIGN §6: with what it awaited */
      else
        coroutine_enter (self, batch);
      return;
    }
}

static void
coroutine_timer_fire (KaaTimer *timer,
                      gboolean  discard)
{
  KaaCoroutine *self = G_STRUCT_MEMBER_P (timer, -G_STRUCT_OFFSET (KaaCoroutine, timer));

  coroutine_wake (self, discard, NULL);
  coroutine_unref (self);   /* the timer's reference */
}

/* Owner thread: sleeps until @deadline, holding a reference. The timer
 * of a paused coroutine is frozen at once: it runs only while the
 * coroutine is not paused (DESIGN §6). */
static void
coroutine_arm (KaaCoroutine *self,
               gint64        deadline)
{
  self->slot = deadline;
  kaa_scheduler_add_timer (self->scheduler, &self->timer, deadline);
  if (self->paused)
    kaa_scheduler_freeze_timer (self->scheduler, &self->timer);
}

/* DESIGN §6: a paused coroutine's timer keeps the time it had left
 * (coroutine_pause() freezes it, keeping its reference), and the grid of
 * its slots shifts by the time it was paused, so that slices after a
 * resume are one interval apart, like those before (issue #15). */
static void
coroutine_thaw_timer (KaaCoroutine *self)
{
  if (kaa_scheduler_thaw_timer (self->scheduler, &self->timer))
    self->slot = self->timer.deadline;
}

/* Takes back the timer, armed or frozen, and drops its reference. */
static void
coroutine_disarm (KaaCoroutine *self)
{
  if (kaa_scheduler_remove_timer (self->scheduler, &self->timer))
    coroutine_unref (self);   /* the timer's reference */
}

static void coroutine_run (KaaRunnable *runnable, gboolean discard);

/* Issue #20: while this coroutine runs, the memory of the ones queued
 * after it is loaded: the stack top of the one after next (its fiber's
 * saved stack pointer was loaded one step earlier) and the hot fields,
 * with its fiber's first line, of the one after that, 96 bytes from its
 * `slices` on. With thousands runnable, each resume would otherwise wait
 * on misses; two ahead, not one, because one slice (20 to 40 ns) is
 * less than a miss that needs a page walk (yield-10000 in
 * docs/benchmarks.md). */
static inline void
coroutine_warm_queued (KaaRunnable *runnable)
{
  KaaRunnable *next = kaa_runnable_get_queued_next (runnable);
  KaaRunnable *after;
  const guint8 *hot;

  if (next == NULL || (after = kaa_runnable_get_queued_next (next)) == NULL)
    return;
  if (after->run == coroutine_run)
    kaa_fiber_warm ((KaaFiber *) ((guint8 *) after - G_STRUCT_OFFSET (KaaCoroutine, runnable) +
                                  FIBER_OFFSET));
  /* If it is no coroutine, three wasted prefetches. */
  after = kaa_runnable_get_queued_next (after);
  if (after == NULL)
    return;
  hot = (const guint8 *) after - G_STRUCT_OFFSET (KaaCoroutine, runnable) +
        G_STRUCT_OFFSET (KaaCoroutine, slices);
  __builtin_prefetch (hot);
  __builtin_prefetch (hot + 64);
  __builtin_prefetch (hot + 95);
}

static KAA_HOT void
coroutine_run (KaaRunnable *runnable,
               gboolean     discard)
{
  KaaCoroutine *self = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (KaaCoroutine, runnable));
  gint queued = g_atomic_int_get (&self->queued);
  KaaBatch *batch = kaa_batch_claim (runnable);

  coroutine_warm_queued (runnable);
  /* Only another thread's CAS from NOT_QUEUED races with this store, and
   * a release store is all that needs: no locked instruction. */
  __atomic_store_n (&self->queued, NOT_QUEUED, __ATOMIC_RELEASE);
  if (queued == QUEUED_LOCAL && self->fiber == NULL)
    {
      coroutine_unref (self);   /* the finished fiber's, handed on */
      return;
    }
  /* The end of an await: with an interval, the coroutine resumes one
   * interval after what it awaited settled; the timer holds a reference
   * of its own (the inbox's, from another thread). */
  if (self->where == WHERE_AWAITING && self->interval != 0 && !discard)
    {
      if (queued == QUEUED_LOCAL)
        coroutine_ref (self);
      self->where = WHERE_SLEEPING;
      coroutine_arm (self, kaa_scheduler_get_time (self->scheduler) + self->interval);
      return;
    }
  if (queued == QUEUED_REMOTE)
    {
      coroutine_wake (self, discard, batch);
      coroutine_unref (self);
    }
  else
    coroutine_wake (self, discard, batch);
}

/* Owner thread: queues the coroutine for the next main-loop iteration.
 * It is running, so nothing else can have queued it: an await wake-up
 * only comes while it is suspended in that await, and a stale one from a
 * cancelled await only after the cancel, from which on it never suspends
 * again. A plain store will do. */
static KAA_HOT void
coroutine_queue_yield (KaaCoroutine *self)
{
  /* Looked up at the first yield, not at the start: many coroutines
   * never yield (issue #20, spawn-await). */
  if (G_UNLIKELY (self->slices == NULL))
    self->slices = kaa_scheduler_get_slices (self->scheduler, self->priority != 0
                                                              ? self->priority
                                                              : G_PRIORITY_DEFAULT_IDLE);
  __atomic_store_n (&self->queued, QUEUED_LOCAL, __ATOMIC_RELAXED);
  kaa_slices_push (self->slices, &self->runnable);
}

#if KAA_FIBER_CAN_TRANSFER
/* Issue #20's symmetric transfer: a coroutine that yielded from a slice
 * of its queue's loop goes straight on to the coroutine queued next, one
 * switch instead of two, if that one is a plain yielded coroutine the
 * loop would resume as it is and the budget has room for it. What the
 * loop would do for it (coroutine_run(), coroutine_wake()) is done here;
 * the next suspend of the one it went on to returns to the loop. */
static gboolean
coroutine_transfer (KaaCoroutine *self)
{
  KaaBatch *batch = g_steal_pointer (&self->batch);
  KaaRunnable *runnable;
  KaaCoroutine *next;

  if (batch == NULL || (runnable = kaa_batch_peek_next (batch)) == NULL ||
      runnable->run != coroutine_run)
    return FALSE;
  next = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (KaaCoroutine, runnable));
  if (next->where != WHERE_YIELDED || next->paused || next->fiber == NULL ||
      g_atomic_int_get (&next->queued) != QUEUED_LOCAL || G_UNLIKELY (kaa_debug_timed))
    return FALSE;
  kaa_batch_take_next (batch);
  coroutine_warm_queued (runnable);
  __atomic_store_n (&next->queued, NOT_QUEUED, __ATOMIC_RELEASE);
  coroutine_set_running (next, batch);
  kaa_fiber_transfer (next->fiber);
  return TRUE;
}
#else
static gboolean
coroutine_transfer (KaaCoroutine *self)
{
  return FALSE;
}
#endif

/* Owner thread: queues a resumption later in this dispatch, unless the
 * coroutine is done or already queued. */
static void
coroutine_queue_local (KaaCoroutine *self)
{
  if (self->fiber != NULL &&
      g_atomic_int_compare_and_exchange (&self->queued, NOT_QUEUED, QUEUED_LOCAL))
    kaa_scheduler_push (self->scheduler, &self->runnable);
}

/* Any thread: queues the end of an await, later in this dispatch; off
 * the owner thread it goes through the inbox and holds a reference. */
static void
coroutine_queue_await (KaaCoroutine *self)
{
  if (kaa_scheduler_is_owner (self->scheduler))
    coroutine_queue_local (self);
  else if (g_atomic_int_compare_and_exchange (&self->queued, NOT_QUEUED, QUEUED_REMOTE))
    {
      coroutine_ref (self);
      kaa_scheduler_push_remote (self->scheduler, &self->runnable);
    }
}

static void
coroutine_pause (KaaProducer   *producer,
                 KaaInProgress *in_progress)
{
  KaaCoroutine *self = (KaaCoroutine *) producer;

  self->paused = TRUE;
  kaa_scheduler_freeze_timer (self->scheduler, &self->timer);
  /* Down to what it awaits, when it awaits it alone (DESIGN §6). */
  kaa_await_link_pause (&self->await);
}

/* A wake-up held while paused runs from the scheduler, never inside the
 * call to resume. */
static void
coroutine_resume_from_pause (KaaProducer   *producer,
                             KaaInProgress *in_progress)
{
  KaaCoroutine *self = (KaaCoroutine *) producer;

  self->paused = FALSE;
  kaa_await_link_resume (&self->await);
  coroutine_thaw_timer (self);
  if (self->where == WHERE_HELD)
    coroutine_queue_local (self);
}

/* The cascade's way down (kaa-in-progress-cascade.c): what the coroutine
 * awaits is cancelled (queued) when it was the last awaiter; the
 * coroutine itself unwinds in coroutine_unwind(), after that. */
static void
coroutine_cancel (KaaProducer   *producer,
                  KaaInProgress *in_progress)
{
  KaaCoroutine *self = (KaaCoroutine *) producer;

  self->cancelled = TRUE;
  /* Cancelled from its own call stack (by itself, or by a coroutine it
   * started and that is running on top of it): it cannot be resumed now,
   * and notices at its next suspension. */
  if (self->fiber == NULL || kaa_coroutine_on_stack (self))
    return;
  /* Suspended: no timer or held wake-up resumes it any more; it unwinds
   * in coroutine_unwind(), once what it awaits (or awaited and has not
   * resumed from yet) did. */
  self->where = WHERE_UNWINDING;
  coroutine_disarm (self);
  if (self->await.awaited != NULL)
    {
      kaa_await_link_cancel (&self->await);
      g_clear_pointer (&self->await.awaited, kaa_in_progress_unref);
    }
}

/* The way up: what it awaited has unwound, now its own cleanups run. A
 * coroutine on the call stack (running) is left first: its next
 * suspension returns at once, and coroutine_finished() reports it. */
static gboolean
coroutine_unwind (KaaProducer   *producer,
                  KaaInProgress *in_progress)
{
  KaaCoroutine *self = (KaaCoroutine *) producer;

  if (self->fiber == NULL)
    return TRUE;
  if (kaa_coroutine_on_stack (self))
    {
      self->where = WHERE_LEAVING;
      return FALSE;
    }
  coroutine_enter (self, NULL);
  return TRUE;
}

static void
coroutine_release (KaaProducer *producer)
{
  coroutine_unref ((KaaCoroutine *) producer);
}

static const KaaProducerOps coroutine_ops = {
  .cancel = coroutine_cancel,
  .pause = coroutine_pause,
  .resume = coroutine_resume_from_pause,
  .release = coroutine_release,
  .unwind = coroutine_unwind,
  .describe = kaa_coroutine_describe,
  .kind = "coroutine",
};

static KaaAdopter *
coroutine_current_adopter (void)
{
  return current != NULL ? current->adopter : NULL;
}

/* Owner thread: makes the fiber and runs the body until it first
 * suspends, unless a pause holds it back. */
static void
coroutine_begin (KaaCoroutine *self)
{
  KaaFiber *fiber;
  GError *error = NULL;
  const char *name = self->def_name != NULL ? self->def_name : "coroutine";

  /* Spawned by a cleanup in the sweep of its dying context: it goes with
   * the context before it begins, as one spawned there a moment earlier
   * would have. */
  if (G_UNLIKELY (kaa_scheduler_is_dead (self->scheduler)))
    {
      kaa_in_progress_cancel (self->in_progress);
      return;
    }
  if (self->interval != 0)
    self->slot = kaa_scheduler_get_time (self->scheduler);
  fiber = (gpointer) ((guint8 *) self + FIBER_OFFSET);   /* aligned: FIBER_OFFSET */
  if (!kaa_fiber_init (fiber, coroutine_main, self, self->stack_size, name, &error))
    {
      KaaInProgress *ip = g_steal_pointer (&self->in_progress);

      kaa_in_progress_fail (ip, error);
      kaa_in_progress_unref (ip);
      return;
    }
  self->fiber = fiber;
  kaa_fiber_name_after (fiber, self->def_name == NULL ? (KaaFiberCode) self->func : NULL);
  coroutine_ref (self);                           /* the fiber */
  self->mortal.die = coroutine_die;
  self->mortal.subject = coroutine_subject;
  kaa_scheduler_track (self->scheduler, &self->mortal);
  if (kaa_in_progress_is_paused (self->in_progress))
    {
      /* A queued call (SYNCHRONIZED) paused while it waited: its body
       * starts once resumed, like any wake-up held by a pause (DESIGN §6). */
      self->paused = TRUE;
      self->where = WHERE_HELD;
      return;
    }
  coroutine_enter (self, NULL);
}

/* The start, handed to the owner thread. Cancelled meanwhile, the body
 * never runs; on a dead context, the call is cancelled. */
static void
coroutine_begin_run (KaaRunnable *runnable,
                     gboolean     discard)
{
  KaaCoroutine *self = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (KaaCoroutine, runnable));

  self->runnable.run = coroutine_run;
  __atomic_store_n (&self->queued, NOT_QUEUED, __ATOMIC_RELEASE);
  if (discard)
    kaa_in_progress_cancel (self->in_progress);
  else if (kaa_in_progress_is_pending (self->in_progress))
    coroutine_begin (self);
  coroutine_unref (self);   /* the runnable's */
}

/* Runs a call of @def that settles @ip (which it references) until it
 * first suspends; @last (transfer full) is what get_last() returns. On a
 * thread that does not own @ip's context, the start goes to the owner
 * through the inbox (DESIGN §4), so the body, its first slice included,
 * runs only there. */
void
kaa_coroutine_start (const KaaCoroutineDef *def,
                     KaaInProgress         *ip,
                     gpointer               user_data,
                     GDestroyNotify         destroy,
                     KaaInProgress         *last)
{
  KaaCoroutine *self;

  if (def->name != NULL)
    kaa_in_progress_set_name (ip, def->name);
  else
    kaa_in_progress_set_static_name (ip, "coroutine");
  /* The fiber lives behind the coroutine, in the same allocation. */
  self = kaa_spare_alloc0 (KAA_SPARE_COROUTINE, BLOCK_SIZE);
  kaa_live_add (KAA_LIVE_COROUTINE, 1);
  kaa_ref_count_init (&self->ref_count);          /* the producer slot */
  self->producer.ops = &coroutine_ops;
  self->runnable.run = coroutine_run;
  self->timer.fire = coroutine_timer_fire;
  self->scheduler = kaa_scheduler_ref (kaa_in_progress_get_scheduler (ip));
  self->in_progress = kaa_in_progress_ref (ip);
  self->func = def->func;
  self->user_data = user_data;
  self->destroy = destroy;
  self->last = last;
  self->def_name = def->name;
  self->adopter = kaa_coroutine_take_spawn (&self->site_file, &self->site_line);
  self->stack_size = def->stack_size;
  self->priority = def->priority;
  self->interval = (gint64) def->interval * 1000;
  if (self->adopter != NULL)
    {
      self->adopter->ref (self->adopter);
      kaa_in_progress_set_adopter_func (coroutine_current_adopter);
    }
  kaa_in_progress_set_producer (ip, &self->producer);
  if (G_UNLIKELY (kaa_debug_get () & KAA_DEBUG_TRACK_ALL))
    kaa_in_progress_set_origin (ip, (gpointer) self->func, self->site_file, self->site_line);

  /* Spawned by a coroutine of the same context: that one runs on the
   * owner thread, which need not be looked up. */
  if ((current != NULL && current->scheduler == self->scheduler) ||
      kaa_scheduler_is_owner (self->scheduler))
    {
      coroutine_begin (self);
      return;
    }
  self->runnable.run = coroutine_begin_run;
  self->queued = QUEUED_REMOTE;
  kaa_scheduler_push_remote (self->scheduler, &coroutine_ref (self)->runnable);
}

/**
 * kaa_coroutine_self:
 *
 * Finds the coroutine whose body is running on the calling thread.
 *
 * Returns: (transfer none) (nullable): the coroutine running on the
 *   calling thread, or %NULL outside any coroutine
 * Since: 0.1
 */
KAA_HOT KaaCoroutine *
kaa_coroutine_self (void)
{
  return current;
}

KaaCoroutine *
kaa_coroutine_current_or_warn (const char *function)
{
  if (G_LIKELY (current != NULL))
    return current;
  g_critical (_("%s: not called from a coroutine"), function);
  return NULL;
}

/* Fixed-rate: the next slot is one interval after the current one; slots
 * that a slow body already missed are skipped, not bunched up. */
static gint64
coroutine_next_slot (KaaCoroutine *self)
{
  gint64 now = kaa_scheduler_get_time (self->scheduler);
  gint64 next = self->slot + self->interval;

  if (next <= now)
    next += ((now - next) / self->interval + 1) * self->interval;
  return next;
}

/* kaa_yield() of a coroutine with an interval: sleeps until its next
 * slot. Out of line, so that a plain yield saves no registers for it. */
static G_NO_INLINE gboolean
coroutine_sleep_slot (KaaCoroutine *self)
{
  coroutine_arm (coroutine_ref (self), coroutine_next_slot (self));
  /* The context went away while arming: nothing would resume us. */
  if (G_UNLIKELY (self->cancelled))
    return FALSE;
  self->where = WHERE_SLEEPING;
  kaa_fiber_suspend ();
  return !self->cancelled;
}

/**
 * kaa_yield: (skip)
 *
 * Suspends the calling coroutine until the next main-loop iteration,
 * giving everything else a turn (kaa's NotFinished), or, for a coroutine
 * defined with an interval, until its next time slot.
 *
 * C only: it suspends a coroutine body, which language bindings cannot
 * provide (see [callback@Kaa.CoroutineFunc]).
 *
 * Returns: %TRUE to go on, %FALSE once the coroutine is cancelled (then
 *   it does not suspend at all); outside a coroutine, a critical and %FALSE
 * Since: 0.1
 */
KAA_HOT gboolean
kaa_yield (void)
{
  KaaCoroutine *self = kaa_coroutine_current_or_warn (G_STRFUNC);

  if (self == NULL || self->cancelled)
    return FALSE;
  if (self->interval != 0)
    return coroutine_sleep_slot (self);
  coroutine_queue_yield (self);
  /* The context went away while queueing: nothing would resume us. */
  if (G_UNLIKELY (self->cancelled))
    return FALSE;
  self->where = WHERE_YIELDED;
  if (!coroutine_transfer (self))
    kaa_fiber_suspend ();
  return !self->cancelled;
}

static void
await_settled (KaaInProgress *awaited,
               gpointer       data)
{
  coroutine_queue_await (data);
}

static inline gboolean
coroutine_suspend_until (KaaCoroutine  *self,
                         KaaInProgress *awaited)
{
  kaa_await_link_start (&self->await, awaited, await_settled, coroutine_ref (self),
                        (GDestroyNotify) coroutine_unref);
  if (self->paused)
    kaa_await_link_pause (&self->await);
  self->where = WHERE_AWAITING;
  kaa_fiber_suspend ();
  if (self->await.awaited == NULL)
    return FALSE;
  kaa_await_link_detach (&self->await);
  self->await.awaited = NULL;
  return TRUE;
}

/* A Sysprof capture: the await is marked with what it awaited. */
static G_NO_INLINE gboolean
coroutine_suspend_until_traced (KaaCoroutine  *self,
                                KaaInProgress *awaited)
{
  const char *name = kaa_in_progress_get_name (awaited);
  /* Copied: @awaited may be gone when the await returns. */
  g_autofree char *what = g_strdup (name != NULL ? name : "(unnamed)");
  gint64 begin = kaa_trace_now ();
  gboolean awoke = coroutine_suspend_until (self, awaited);

  kaa_trace_mark (begin, "await", "%s awaited %s",
                  self->def_name != NULL ? self->def_name : "coroutine", what);
  return awoke;
}

/* Owner thread, on the coroutine's own stack (kaa-coroutine-await.c):
 * suspends until @awaited settles or the coroutine is cancelled. FALSE
 * if a cancel already unlinked and released @awaited meanwhile. */
gboolean
kaa_coroutine_suspend_until (KaaCoroutine  *self,
                             KaaInProgress *awaited)
{
  if (kaa_trace_is_on ())
    return coroutine_suspend_until_traced (self, awaited);
  return coroutine_suspend_until (self, awaited);
}
