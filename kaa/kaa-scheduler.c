/* kaa-scheduler.c: the per-GMainContext scheduler
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * KaaScheduler: one per GMainContext, attached lazily as a single GSource
 * named "[kaa] scheduler". It runs *runnables* (small structs embedded in
 * whatever wants to run: an InProgress delivering callbacks, later a
 * coroutine) and fires *timers* from one binary heap, so a thousand sleeps
 * cost one GSource, not a thousand.
 *
 * Ownership: the run queues, the timer heap and the tracked mortals
 * belong to the one thread that owns the context (the one that runs it:
 * kaa_scheduler_is_owner()) and take no lock. Other threads reach the
 * scheduler only through the inbox, a lock-free stack that the owner takes
 * whole at the start of each dispatch; only the push that finds it empty
 * wakes the context, so a burst of completions costs one wake-up.
 *
 * Lifetime: the attached source holds one reference on the scheduler (as
 * its callback data); when the context goes away the source is destroyed
 * and the scheduler is marked dead. The thread that dropped the context
 * then sweeps it as its owner: whatever is queued, armed or tracked is
 * discarded, which settles it CANCELLED with its cleanups run (DESIGN §3).
 * What is pushed after the sweep is discarded by whoever pushes it.
 *
 * Beside this file: the timer heap (kaa-scheduler-timers.c), the time
 * slices (kaa-scheduler-slices.c) and kaa_main_*() (kaa-scheduler-main.c),
 * sharing the struct through kaa-scheduler-impl-private.h.
 */
#include "config.h"

#include "kaa-hot-private.h"
#include "kaa-alloc-private.h"
#include "kaa-fiber-private.h"
#include "kaa-live-private.h"
#include "kaa-refcount-private.h"
#include "kaa-scheduler-impl-private.h"

/* Long enough to amortise a main-loop iteration, short enough to stay well
 * inside a 60 Hz frame (16.7 ms) with input and drawing still to come. */
#define DEFAULT_BUDGET_USEC 4000

typedef struct
{
  GSource       source;
  KaaScheduler *scheduler;
} SchedulerSource;

/* Maps a GMainContext to its scheduler. Entries leave in
 * scheduler_source_detached(), before the context's memory can be reused. */
static GMutex      registry_lock;
static GHashTable *registry;

static GThread *main_thread;

typedef struct
{
  GMainContext *context;
  KaaScheduler *scheduler;   /* owned */
} TlsCache;

static void tls_cache_free (gpointer data);
/* The GPrivate only frees the cache when the thread exits; lookups read
 * the initial-exec copy, one %fs-relative load instead of a
 * pthread_getspecific() call. */
static GPrivate tls_cache = G_PRIVATE_INIT (tls_cache_free);
static KAA_THREAD_LOCAL TlsCache *tls_cache_fast;
/* The dead scheduler this thread sweeps, if any, and the thread-default
 * context and the source being dispatched when the sweep began: see
 * scheduler_sweep(). */
static KAA_THREAD_LOCAL KaaScheduler *tls_sweeping;
static KAA_THREAD_LOCAL GMainContext *tls_sweep_default;
static KAA_THREAD_LOCAL GSource      *tls_sweep_source;
static KAA_THREAD_LOCAL GThread  *tls_thread;

/* g_thread_self() is a pthread_getspecific() call; a thread's GThread
 * never changes, so the first answer is kept. Not inlined, so that no
 * caller keeps the TLS address of another thread across a fiber switch. */
static G_GNUC_NO_INLINE GThread *
scheduler_thread_self (void)
{
  if (G_UNLIKELY (tls_thread == NULL))
    tls_thread = g_thread_self ();
  return tls_thread;
}

/* The global default context has no thread it is thread-default in; the
 * thread that loaded the library (the process's main thread, in practice)
 * is taken as its home. */
__attribute__((constructor)) static void
scheduler_capture_main_thread (void)
{
  main_thread = g_thread_self ();
}

static KaaRunnable *
queue_pop (KaaRunnable **head,
           KaaRunnable **tail)
{
  KaaRunnable *runnable = *head;

  if (runnable == NULL)
    return NULL;
  *head = runnable->next;
  if (*head == NULL)
    *tail = NULL;
  /* runnable->next stays: see kaa_runnable_get_queued_next(). */
  return runnable;
}

void
kaa_scheduler_discard_list (KaaRunnable *list)
{
  while (list != NULL)
    {
      KaaRunnable *next = list->next;

      list->next = NULL;
      list->run (list, TRUE);
      list = next;
    }
}

/* Takes the whole inbox and appends it, oldest first, to the ready queue. */
static void
scheduler_take_inbox (KaaScheduler *self)
{
  KaaRunnable *list = g_atomic_pointer_exchange (&self->inbox, NULL);
  KaaRunnable *reversed = NULL;

  while (list != NULL)
    {
      KaaRunnable *next = list->next;

      list->next = reversed;
      reversed = list;
      list = next;
    }
  while (reversed != NULL)
    {
      KaaRunnable *next = reversed->next;

      kaa_runnable_queue_append (&self->ready_head, &self->ready_tail, reversed);
      reversed = next;
    }
}

static gboolean
scheduler_has_work (KaaScheduler *self)
{
  return self->ready_head != NULL ||
         g_atomic_pointer_get (&self->inbox) != NULL;
}

/* Owner thread, in prepare: TRUE while a completion from another thread
 * is expected (kaa_scheduler_expect_remote()), so that the context polls
 * instead of sleeping. Each poll yields the CPU first: on a machine with
 * few cores the worker that will push the completion may need this one. */
static gboolean
scheduler_poll_for_remote (KaaScheduler *self)
{
  if (g_get_monotonic_time () < __atomic_load_n (&self->poll_until, __ATOMIC_RELAXED))
    {
      g_thread_yield ();
      return TRUE;
    }
  __atomic_store_n (&self->poll_until, 0, __ATOMIC_RELAXED);
  /* Cleared before the inbox is read again (by the caller or by the next
   * check); a pusher pushes before it reads the flag, and both are full
   * barriers, so either it wakes the context or we see its runnable. */
  g_atomic_int_set (&self->polling, FALSE);
  return scheduler_has_work (self);
}

/* prepare, once it found nothing to do: while the stack pool or this
 * thread's spare blocks have a trim pending, this iteration is timed, so
 * that check can tell it slept, and for the pool it sleeps only as long
 * as the next batch allows (kaa-scheduler-trim.c). */
static inline void
scheduler_prepare_idle (KaaScheduler *self,
                        GSource      *source,
                        gint         *timeout)
{
  if (G_UNLIKELY (kaa_stack_pool_trim_is_pending () || kaa_spare_trim_is_pending ()) &&
      !kaa_scheduler_trim_untimed (self, timeout))
    kaa_scheduler_prepare_trim (self, source, timeout);
}

/* prepare's rarer cases, out of line so that an idle iteration's
 * prepare saves no registers and calls nothing. */
static G_GNUC_NO_INLINE gboolean
scheduler_prepare_slow (KaaScheduler *self,
                        GSource      *source,
                        gint         *timeout)
{
  GThread *thread = scheduler_thread_self ();
  gint64 wait_usec;

  /* Every iteration prepares every source, so this sees whichever thread
   * runs the context now, whatever loop it uses. */
  if (G_UNLIKELY (g_atomic_pointer_get (&self->runner) != thread))
    {
      g_atomic_pointer_set (&self->runner, thread);
      /* This thread's loop trims from now on: it may keep a burst's
       * blocks for the next (kaa-alloc-spare.c). */
      kaa_spare_keep_surplus ();
    }
  *timeout = -1;
  /* Set again below if this iteration may sleep. */
  self->idle_since = 0;
  if (scheduler_has_work (self))
    {
      *timeout = 0;
      return TRUE;
    }
  if (__atomic_load_n (&self->poll_until, __ATOMIC_RELAXED) != 0 &&
      scheduler_poll_for_remote (self))
    {
      *timeout = 0;
      return scheduler_has_work (self);
    }
  if (self->heap_len > 0)
    {
      wait_usec = kaa_scheduler_next_deadline (self) - g_source_get_time (source);
      if (wait_usec <= 0)
        {
          *timeout = 0;
          return TRUE;
        }
      /* Round up: waking a little late is harmless, a little early spins. */
      *timeout = (gint) MIN ((wait_usec + 999) / 1000, G_MAXINT);
    }
  scheduler_prepare_idle (self, source, timeout);
  return FALSE;
}

static KAA_HOT gboolean
scheduler_source_prepare (GSource *source,
                          gint    *timeout)
{
  KaaScheduler *self = ((SchedulerSource *) source)->scheduler;
  /* The TLS copy read here directly: nothing in prepare switches fibers. */
  GThread *thread = tls_thread;

  /* Nothing queued, polled for or armed, and the same thread as before:
   * the idle case, a leaf unless the stack pool has a trim pending. */
  if (G_LIKELY (thread != NULL && g_atomic_pointer_get (&self->runner) == thread &&
                self->ready_head == NULL && self->heap_len == 0 &&
                __atomic_load_n (&self->poll_until, __ATOMIC_RELAXED) == 0 &&
                g_atomic_pointer_get (&self->inbox) == NULL))
    {
      *timeout = -1;
      scheduler_prepare_idle (self, source, timeout);
      return FALSE;
    }
  return scheduler_prepare_slow (self, source, timeout);
}

static inline gboolean
scheduler_is_ready (KaaScheduler *self,
                    GSource      *source)
{
  /* The clock only when a timer is armed: an idle iteration reads none. */
  return scheduler_has_work (self) ||
         (self->heap_len > 0 &&
          kaa_scheduler_next_deadline (self) <= g_source_get_time (source));
}

/* Out of line, so that check stays a leaf in an idle iteration. */
static G_GNUC_NO_INLINE gboolean
scheduler_check_after_idle (KaaScheduler *self,
                            GSource      *source)
{
  kaa_scheduler_check_trim (self);
  return scheduler_is_ready (self, source);
}

static KAA_HOT gboolean
scheduler_source_check (GSource *source)
{
  KaaScheduler *self = ((SchedulerSource *) source)->scheduler;

  /* Set by kaa_scheduler_prepare_trim(): did the loop sleep? */
  if (G_UNLIKELY (self->idle_since != 0))
    return scheduler_check_after_idle (self, source);
  return scheduler_is_ready (self, source);
}

KAA_THREAD_LOCAL KaaBatch    *kaa_batch_lent;
KAA_THREAD_LOCAL KaaRunnable *kaa_batch_lent_to;
KAA_THREAD_LOCAL guint        kaa_batch_taken;

/* Runs runnables until the queue is empty or @budget (µs since @start)
 * is spent; at least one. */
KAA_HOT guint
kaa_scheduler_run_queue (KaaRunnable **head,
                         KaaRunnable **tail,
                         gint64        start,
                         gint64        budget)
{
  KaaBatch batch = { head, tail };
  KaaBatch *outer;
  KaaRunnable *runnable;

  /* One alone (a lone yielder, one completion): no budget, nothing to
   * go on to, nothing to lend; unless it queued more. */
  if (*head != NULL && (*head)->next == NULL)
    {
      kaa_runnable_run_alone (queue_pop (head, tail));
      if (*head == NULL)
        return 1;
      batch.n = 1;
    }
  kaa_budget_init (&batch.spending, start, budget);
  if (batch.n == 1 && kaa_budget_spent (&batch.spending))
    return 1;
  outer = kaa_batch_lent;
  while ((runnable = queue_pop (head, tail)) != NULL)
    {
      kaa_batch_lent = &batch;
      kaa_batch_lent_to = runnable;
      batch.counted = FALSE;
      runnable->run (runnable, FALSE);
      batch.n++;
      /* The last one needs no clock read. */
      if (*head == NULL || batch.spent ||
          (!batch.counted && kaa_budget_spent (&batch.spending)))
        break;
    }
  kaa_batch_lent = outer;
  kaa_batch_lent_to = NULL;
  return batch.n;
}

/* Issue 19: one Sysprof mark per dispatch that did anything. */
void
kaa_scheduler_trace_dispatch (gint64      begin,
                              const char *what,
                              guint       n_items,
                              gint64      start,
                              gint64      budget)
{
  if (n_items > 0)
    kaa_trace_mark (begin, what, "%u items, %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                    " us of budget", n_items, g_get_monotonic_time () - start, budget);
}

/* DESIGN §3: completions first, then due timers until the budget is
 * spent, then the ready queue until it is empty or the budget is spent
 * (at least one runnable, so timers never starve it). What yielded runs
 * from the time-slice source, in a later iteration. */
static KAA_HOT gboolean
scheduler_source_dispatch (GSource     *source,
                           GSourceFunc  callback,
                           gpointer     user_data)
{
  KaaScheduler *self = ((SchedulerSource *) source)->scheduler;
  gint64 start = g_get_monotonic_time ();
  gint64 budget = __atomic_load_n (&self->budget, __ATOMIC_RELAXED);
  gint64 begin = kaa_trace_is_on () ? kaa_trace_now () : 0;
  guint n;

  /* No reference on the scheduler is taken: the context outlives the
   * dispatch of its sources (GLib itself uses it after this returns),
   * and this source holds the scheduler as long as the context lives. */
  if (g_atomic_int_get (&self->woken))
    {
      /* Cleared before the inbox is read: a push from now on wakes again.
       * Under wake_lock, so that a wake-up in progress on another thread
       * (`woken` already set, the ready time not yet) finishes first: else
       * its ready time of 0 would outlive the flag, and the source would
       * dispatch in every iteration from then on. */
      g_mutex_lock (&self->wake_lock);
      g_source_set_ready_time (source, -1);
      g_atomic_int_set (&self->woken, FALSE);
      g_mutex_unlock (&self->wake_lock);
    }
  scheduler_take_inbox (self);
  n = kaa_scheduler_fire_timers (self, start, budget);

  n += kaa_scheduler_run_queue (&self->ready_head, &self->ready_tail, start, budget);
  if (G_UNLIKELY (begin != 0))
    kaa_scheduler_trace_dispatch (begin, "dispatch", n, start, budget);

  return G_SOURCE_CONTINUE;
}

static gboolean
scheduler_source_callback (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs scheduler_source_funcs = {
  .prepare = scheduler_source_prepare,
  .check = scheduler_source_check,
  .dispatch = scheduler_source_dispatch,
};

/* One round of the sweep: discards what is queued or armed; TRUE if
 * there was anything. */
static gboolean
scheduler_discard_queued (KaaScheduler *self)
{
  gboolean any = FALSE;

  scheduler_take_inbox (self);
  if (self->ready_head != NULL)
    {
      KaaRunnable *list = self->ready_head;

      self->ready_head = self->ready_tail = NULL;
      kaa_scheduler_discard_list (list);
      any = TRUE;
    }
  any = kaa_scheduler_discard_slices (self) || any;
  return kaa_scheduler_discard_timers (self) || any;
}

/* The dying context's thread, as its owner: discards whatever is queued
 * (the runnables and timers settle what they stand for) and lets every
 * tracked mortal die, until nothing is left, since each of those may
 * queue more. Pushes from other threads meanwhile wait in the inbox. */
static void
scheduler_sweep (KaaScheduler *self)
{
  KaaScheduler *outer = tls_sweeping;
  GMainContext *outer_default = tls_sweep_default;
  GSource *outer_source = tls_sweep_source;
  gboolean more;

  /* What the cleanups create (an await's sleep, say) belongs to the
   * dying context, as it would have had they run there, and goes with
   * it; unless a cleanup pushes a context of its own to create it on, or
   * iterates a live one (kaa_in_progress_wait()), whose sources' work
   * stays theirs. */
  tls_sweeping = self;
  tls_sweep_default = g_main_context_get_thread_default ();
  tls_sweep_source = g_main_current_source ();
  do
    {
      more = scheduler_discard_queued (self);
      if (self->mortals.next != &self->mortals)
        {
          KaaMortal *mortal = self->mortals.prev;

          kaa_scheduler_untrack (self, mortal);
          mortal->die (mortal);
          more = TRUE;
        }
    }
  while (more);
  tls_sweeping = outer;
  tls_sweep_default = outer_default;
  tls_sweep_source = outer_source;
}

/* Called when the source is destroyed, which happens when its context is
 * finalized: from now on nothing queued here can ever run. DESIGN §3: the
 * work goes with it, settled CANCELLED, its cleanups run here, on the
 * thread that drops the context (the only one certain to exist: the one
 * that last ran it may have exited). That thread is the owner until the
 * sweep is over; after it, nothing is, and what still arrives (a late
 * completion) is settled and delivered on the thread that sends it. */
static void
scheduler_source_detached (gpointer data)
{
  KaaScheduler *self = data;

  g_mutex_lock (&registry_lock);
  if (registry != NULL && g_hash_table_lookup (registry, self->context) == self)
    g_hash_table_remove (registry, self->context);
  g_mutex_unlock (&registry_lock);

  g_mutex_lock (&self->wake_lock);
  g_atomic_pointer_set (&self->reaper, scheduler_thread_self ());
  g_atomic_int_set (&self->dead, TRUE);
  g_mutex_unlock (&self->wake_lock);

  scheduler_sweep (self);
  g_atomic_int_set (&self->swept, TRUE);
  g_atomic_pointer_set (&self->reaper, NULL);
  /* A push that saw the sweep still running left its runnable here. */
  kaa_scheduler_discard_list (g_atomic_pointer_exchange (&self->inbox, NULL));

  kaa_scheduler_unref (self);
}

static KaaScheduler *
scheduler_new (GMainContext *context)
{
  KaaScheduler *self = g_new0 (KaaScheduler, 1);

  kaa_ref_count_init (&self->ref_count);
  g_mutex_init (&self->wake_lock);
  self->context = context;
  self->budget = DEFAULT_BUDGET_USEC;
  self->mortals.prev = self->mortals.next = &self->mortals;
  if (context == g_main_context_default ())
    self->home = main_thread;

  self->source = g_source_new (&scheduler_source_funcs, sizeof (SchedulerSource));
  ((SchedulerSource *) self->source)->scheduler = self;
  g_source_set_static_name (self->source, "[kaa] scheduler");
  g_source_set_can_recurse (self->source, TRUE);
  g_source_set_callback (self->source, scheduler_source_callback,
                         kaa_scheduler_ref (self), scheduler_source_detached);
  g_source_attach (self->source, context);

  return self;
}

/**
 * kaa_scheduler_get_for_context: (skip)
 * @context: a #GMainContext
 *
 * Finds or creates the scheduler of @context.
 *
 * Returns: (transfer full): the scheduler
 */
KaaScheduler *
kaa_scheduler_get_for_context (GMainContext *context)
{
  KaaScheduler *self;

  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    registry = g_hash_table_new (NULL, NULL);
  self = g_hash_table_lookup (registry, context);
  if (self == NULL)
    {
      /* The registry's entry is weak: the attached source keeps it alive. */
      self = scheduler_new (context);
      g_hash_table_insert (registry, context, self);
    }
  else
    kaa_scheduler_ref (self);
  g_mutex_unlock (&registry_lock);

  return self;
}

static void
tls_cache_free (gpointer data)
{
  TlsCache *cache = data;

  /* Runs on the exiting thread: a later lookup there makes a new one. */
  tls_cache_fast = NULL;
  g_clear_pointer (&cache->scheduler, kaa_scheduler_unref);
  g_free (cache);
}

/**
 * kaa_scheduler_get_thread_default: (skip)
 *
 * The scheduler of the calling thread's thread-default context (the global
 * default context when none is pushed), where new work belongs. The last
 * one found is cached per thread, so this is one TLS read on the common
 * path. While the thread sweeps a dead context, and runs the sweep's
 * cleanups rather than a source dispatched in a nested iteration, it is
 * that context's scheduler.
 *
 * Returns: (transfer none): the scheduler
 */
KaaScheduler *
kaa_scheduler_get_thread_default (void)
{
  if (G_UNLIKELY (tls_sweeping != NULL) &&
      g_main_context_get_thread_default () == tls_sweep_default &&
      g_main_current_source () == tls_sweep_source)
    return tls_sweeping;
  return kaa_scheduler_get_for_thread ();
}

/* The scheduler of the calling thread's thread-default context, never
 * the dead one it may be sweeping: what kaa_main_*() run, step and
 * quit, from a cleanup of the sweep too. */
KaaScheduler *
kaa_scheduler_get_for_thread (void)
{
  GMainContext *context;
  TlsCache *cache = tls_cache_fast;

  context = g_main_context_get_thread_default ();
  if (context == NULL)
    context = g_main_context_default ();
  if (G_LIKELY (cache != NULL && cache->context == context &&
                !g_atomic_int_get (&cache->scheduler->dead)))
    return cache->scheduler;

  if (cache == NULL)
    {
      cache = g_new0 (TlsCache, 1);
      g_private_set (&tls_cache, cache);
      tls_cache_fast = cache;
    }
  g_clear_pointer (&cache->scheduler, kaa_scheduler_unref);
  cache->context = context;
  cache->scheduler = kaa_scheduler_get_for_context (context);

  return cache->scheduler;
}

KaaScheduler *
kaa_scheduler_ref (KaaScheduler *self)
{
  kaa_ref_count_inc (&self->ref_count);
  return self;
}

void
kaa_scheduler_unref (KaaScheduler *self)
{
  if (!kaa_ref_count_dec (&self->ref_count))
    return;

  /* Only reachable once the source was destroyed: it held a reference. */
  g_assert (self->heap_len == 0);
  g_source_unref (self->source);
  kaa_scheduler_free_slices (self);
  g_free (self->heap);
  g_slist_free (self->loops);
  g_mutex_clear (&self->wake_lock);
  g_free (self);
}

GMainContext *
kaa_scheduler_get_context (KaaScheduler *self)
{
  return self->context;
}

/* DESIGN §2: a context has one owner thread, the one that runs it. Once
 * some thread has iterated it, that thread (`runner`, set in prepare,
 * which GLib calls with the context acquired) is the owner. A thread that
 * has the context pushed as its thread-default is an owner too: pushing
 * acquires the context, so no other thread can be iterating it meanwhile.
 * Before anyone ran it, the global default context belongs to the main
 * thread. So in the GLib hand-over pattern (push a context, create
 * sources, pop it, hand it to a worker that runs it) the creating thread
 * stops being an owner when it pops, and from then on reaches the
 * context's work through the inbox only.
 *
 * Cheap on purpose: the runner's own check is one TLS and one pointer
 * read; other threads add one thread-default lookup. g_main_context_
 * is_owner() would take the context's lock, which the running loop
 * contends, on every cross-thread settle; and between iterations the
 * thread that runs a loop does not hold the acquisition at all.
 *
 * While a dying context is swept (scheduler_source_detached()), the
 * thread that drops it is its owner; a dead one has none. */
gboolean
kaa_scheduler_is_owner (KaaScheduler *self)
{
  GThread *thread = scheduler_thread_self ();
  GThread *runner;

  if (G_UNLIKELY (g_atomic_int_get (&self->dead)))
    return g_atomic_pointer_get (&self->reaper) == thread;
  runner = g_atomic_pointer_get (&self->runner);
  if (G_LIKELY (runner == thread))
    return TRUE;
  if (runner == NULL && self->home == thread)
    return TRUE;
  return g_main_context_get_thread_default () == self->context;
}

/* While the dead context is swept, its thread queues as usual and the
 * sweep discards; after the sweep nothing would, so it is done at once. */
void
kaa_scheduler_push (KaaScheduler *self,
                    KaaRunnable  *runnable)
{
  if (G_UNLIKELY (g_atomic_int_get (&self->swept)))
    runnable->run (runnable, TRUE);
  else
    kaa_runnable_queue_append (&self->ready_head, &self->ready_tail, runnable);
}

void
kaa_scheduler_track (KaaScheduler *self,
                     KaaMortal    *mortal)
{
  if (G_UNLIKELY (g_atomic_int_get (&self->swept)))
    {
      mortal->next = mortal->prev = NULL;
      mortal->die (mortal);
      return;
    }
  mortal->next = &self->mortals;
  mortal->prev = self->mortals.prev;
  self->mortals.prev->next = mortal;
  self->mortals.prev = mortal;
}

void
kaa_scheduler_untrack (KaaScheduler *self,
                       KaaMortal    *mortal)
{
  if (mortal->next == NULL)
    return;
  mortal->prev->next = mortal->next;
  mortal->next->prev = mortal->prev;
  mortal->next = mortal->prev = NULL;
}

void
kaa_scheduler_foreach_subject (KaaScheduler *self,
                               void        (*func) (gpointer subject,
                                                    gpointer data),
                               gpointer      data)
{
  for (KaaMortal *m = self->mortals.next; m != &self->mortals; m = m->next)
    {
      gpointer subject = m->subject != NULL ? m->subject (m) : NULL;

      if (subject != NULL)
        func (subject, data);
    }
}

gboolean
kaa_scheduler_is_dead (KaaScheduler *self)
{
  return g_atomic_int_get (&self->dead);
}

/* Owner thread: a thread job was just submitted. Polling for its
 * completion instead of sleeping in poll() until a worker writes the
 * context's eventfd saves the owner thread's wake-up, most of a short
 * job's round trip (bench-thread-pool: from about 20 µs to 3 µs), for at
 * most @deadline - now of CPU. */
void
kaa_scheduler_expect_remote (KaaScheduler *self,
                             gint64        deadline)
{
  /* Only the thread that iterates the context: another one might be
   * asleep in poll() already, and would miss the pushes it skips. */
  if (g_atomic_pointer_get (&self->runner) != scheduler_thread_self ())
    return;
  if (deadline > __atomic_load_n (&self->poll_until, __ATOMIC_RELAXED))
    __atomic_store_n (&self->poll_until, deadline, __ATOMIC_RELAXED);
  /* Read first: the line is the one workers push on, and a store to it
   * on every submission would take it from them each time. Setting it
   * needs no ordering; only clearing it does. */
  if (!g_atomic_int_get (&self->polling))
    g_atomic_int_set (&self->polling, TRUE);
}

gint64
kaa_scheduler_get_budget (KaaScheduler *self)
{
  return __atomic_load_n (&self->budget, __ATOMIC_RELAXED);
}

void
kaa_scheduler_set_budget (KaaScheduler *self,
                          gint64        usec)
{
  __atomic_store_n (&self->budget, usec, __ATOMIC_RELAXED);
}
