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
 */
#include "config.h"

#include "kaa-alloc-private.h"
#include "kaa-live-private.h"
#include "kaa-refcount-private.h"
#include "kaa-scheduler-private.h"

/* Long enough to amortise a main-loop iteration, short enough to stay well
 * inside a 60 Hz frame (16.7 ms) with input and drawing still to come. */
#define DEFAULT_BUDGET_USEC 4000

struct _KaaScheduler
{
  /* Written once, or seldom: read by every thread on every push. */
  GMainContext    *context;   /* not owned; valid until dead */
  GSource         *source;    /* owned */
  GThread         *home;      /* the global default context's: the main thread */
  GThread         *runner;    /* atomic: the thread that last iterated it */
  GThread         *reaper;    /* atomic: the thread sweeping the dead context */
  gint             dead;      /* atomic, set under wake_lock */
  gint             swept;     /* atomic: the dead context's sweep is over */
  gint64           budget;    /* read and written with __atomic, relaxed */
  KAA_CACHE_LINE_PAD (pad_read_mostly);

  /* Each InProgress holds a reference, taken and dropped on the owner
   * thread: away from the lines other threads write. */
  KaaRefCount      ref_count;

  /* Owner thread only. */
  KaaRunnable     *ready_head;
  KaaRunnable     *ready_tail;
  KaaSlices       *idle_slices;  /* G_PRIORITY_DEFAULT_IDLE, in `slices` too */
  GSList          *slices;       /* owned KaaSlices, made on first use */
  gint64           poll_until;   /* __atomic, relaxed: see kaa_scheduler_expect_remote() */
  KaaMortal        mortals;   /* sentinel of a ring of tracked mortals */
  KaaTimer       **heap;      /* 1-based binary min-heap on deadline */
  guint            heap_len;
  guint            heap_alloc;
  KAA_CACHE_LINE_PAD (pad_owner);

  /* Atomic, written by other threads. */
  KaaRunnable     *inbox;     /* newest first */
  gint             woken;     /* a ready time of 0 is set on the source */
  gint             polling;   /* the owner polls the inbox: pushes need not wake it */
  KAA_CACHE_LINE_PAD (pad_remote);

  /* Under registry_lock: the kaa_main_run() loops, innermost first. */
  GSList          *loops;

  /* Other threads touch the context (to wake it) only under this lock,
   * after checking `dead`: GLib destroys the source, which sets `dead`
   * under the lock, before it frees the context, so the context is valid
   * while it is held. Order: wake_lock, then the context's own lock. */
  GMutex           wake_lock;
};

typedef struct
{
  GSource       source;
  KaaScheduler *scheduler;
} SchedulerSource;

/* The time slices of one GSource priority, run by a source of their own. */
struct _KaaSlices
{
  GSource       source;
  KaaScheduler *scheduler;
  KaaRunnable  *head;
  KaaRunnable  *tail;
};

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
/* The dead scheduler this thread sweeps, if any: see scheduler_sweep(). */
static KAA_THREAD_LOCAL KaaScheduler *tls_sweeping;
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

static void
queue_append (KaaRunnable **head,
              KaaRunnable **tail,
              KaaRunnable  *runnable)
{
  runnable->next = NULL;
  if (*tail != NULL)
    (*tail)->next = runnable;
  else
    *head = runnable;
  *tail = runnable;
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
  runnable->next = NULL;
  return runnable;
}

static void
discard_list (KaaRunnable *list)
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

      queue_append (&self->ready_head, &self->ready_tail, reversed);
      reversed = next;
    }
}

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
 * (µs since @now) is spent, the clock read as seldom as in
 * scheduler_run_queue(); what is left is still due, so prepare makes the
 * next iteration at once, after the other sources had their turn. A
 * million sleeps due together then never hold one iteration. */
static void
scheduler_fire_timers (KaaScheduler *self,
                       gint64        now,
                       gint64        budget)
{
  guint fired = 0;
  guint next_check = 1;

  while (self->heap_len > 0 && self->heap[1]->deadline <= now)
    {
      KaaTimer *timer = self->heap[1];
      gint64 elapsed, per_timer;

      kaa_scheduler_remove_timer (self, timer);
      timer->fire (timer, FALSE);
      if (++fired < next_check)
        continue;
      elapsed = g_get_monotonic_time () - now;
      if (elapsed >= budget)
        return;
      per_timer = elapsed / fired + 1;
      next_check = fired + (guint) CLAMP ((budget - elapsed) / (2 * per_timer), 1, 64);
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

static gboolean
scheduler_source_prepare (GSource *source,
                          gint    *timeout)
{
  KaaScheduler *self = ((SchedulerSource *) source)->scheduler;
  GThread *thread = scheduler_thread_self ();
  gint64 now, wait_usec;

  /* Every iteration prepares every source, so this sees whichever thread
   * runs the context now, whatever loop it uses. */
  if (G_UNLIKELY (g_atomic_pointer_get (&self->runner) != thread))
    g_atomic_pointer_set (&self->runner, thread);

  *timeout = -1;
  if (scheduler_has_work (self))
    {
      *timeout = 0;
      return TRUE;
    }
  if (G_UNLIKELY (__atomic_load_n (&self->poll_until, __ATOMIC_RELAXED) != 0) &&
      scheduler_poll_for_remote (self))
    {
      *timeout = 0;
      return scheduler_has_work (self);
    }
  if (self->heap_len == 0)
    return FALSE;

  now = g_source_get_time (source);
  wait_usec = self->heap[1]->deadline - now;
  if (wait_usec <= 0)
    {
      *timeout = 0;
      return TRUE;
    }
  /* Round up: waking a little late is harmless, a little early spins. */
  *timeout = (gint) MIN ((wait_usec + 999) / 1000, G_MAXINT);
  return FALSE;
}

static gboolean
scheduler_source_check (GSource *source)
{
  KaaScheduler *self = ((SchedulerSource *) source)->scheduler;

  return scheduler_has_work (self) ||
         (self->heap_len > 0 && self->heap[1]->deadline <= g_source_get_time (source));
}

/* Runs runnables until the queue is empty or @budget is spent.
 * Reading the clock costs as much as a small runnable, so it is read
 * only as often as the runnables seen so far say the budget could run
 * out: every runnable when they are slow, every 64 when they are tiny. */
static void
scheduler_run_queue (KaaRunnable **head,
                     KaaRunnable **tail,
                     gint64        start,
                     gint64        budget)
{
  KaaRunnable *runnable;
  guint ran = 0;
  guint next_check = 1;

  while ((runnable = queue_pop (head, tail)) != NULL)
    {
      gint64 elapsed, per_runnable;

      runnable->run (runnable, FALSE);
      if (++ran < next_check)
        continue;
      elapsed = g_get_monotonic_time () - start;
      if (elapsed >= budget)
        break;
      per_runnable = elapsed / ran + 1;
      next_check = ran + (guint) CLAMP ((budget - elapsed) / (2 * per_runnable), 1, 64);
    }
}

/* DESIGN §3: completions first, then due timers until the budget is
 * spent, then the ready queue until it is empty or the budget is spent
 * (at least one runnable, so timers never starve it). What yielded runs
 * from the time-slice source, in a later iteration. */
static gboolean
scheduler_source_dispatch (GSource     *source,
                           GSourceFunc  callback,
                           gpointer     user_data)
{
  KaaScheduler *self = ((SchedulerSource *) source)->scheduler;
  gint64 start = g_get_monotonic_time ();
  gint64 budget = __atomic_load_n (&self->budget, __ATOMIC_RELAXED);

  kaa_scheduler_ref (self);
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
  scheduler_fire_timers (self, start, budget);

  scheduler_run_queue (&self->ready_head, &self->ready_tail, start, budget);
  kaa_scheduler_unref (self);

  return G_SOURCE_CONTINUE;
}

static gboolean
scheduler_source_callback (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Time slices (what runs after a yield) live in a source of their own at
 * G_PRIORITY_DEFAULT_IDLE: below input and timers (G_PRIORITY_DEFAULT)
 * and below GTK's drawing (G_PRIORITY_HIGH_IDLE + 20), so however many
 * coroutines are busy, the loop still draws; completions and timers stay
 * in the scheduler's own source. */
static gboolean
slice_source_prepare (GSource *source,
                      gint    *timeout)
{
  *timeout = -1;
  return ((KaaSlices *) source)->head != NULL;
}

static gboolean
slice_source_check (GSource *source)
{
  return ((KaaSlices *) source)->head != NULL;
}

/* Runs the slices queued when the dispatch began, within the budget;
 * slices queued meanwhile wait for the next iteration, behind what the
 * budget left over. */
static gboolean
slice_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  KaaSlices *slices = (KaaSlices *) source;
  KaaScheduler *self = slices->scheduler;
  KaaRunnable *head = slices->head;
  KaaRunnable *tail = slices->tail;

  kaa_scheduler_ref (self);
  slices->head = slices->tail = NULL;
  scheduler_run_queue (&head, &tail, g_get_monotonic_time (),
                       __atomic_load_n (&self->budget, __ATOMIC_RELAXED));
  if (head != NULL)
    {
      tail->next = slices->head;
      if (slices->head == NULL)
        slices->tail = tail;
      slices->head = head;
    }
  kaa_scheduler_unref (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs slice_source_funcs = {
  .prepare = slice_source_prepare,
  .check = slice_source_check,
  .dispatch = slice_source_dispatch,
};

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
      discard_list (list);
      any = TRUE;
    }
  for (GSList *l = self->slices; l != NULL; l = l->next)
    {
      KaaSlices *slices = l->data;

      if (slices->head == NULL)
        continue;
      slices->tail = NULL;
      discard_list (g_steal_pointer (&slices->head));
      any = TRUE;
    }
  while (self->heap_len > 0)
    {
      KaaTimer *timer = self->heap[1];

      kaa_scheduler_remove_timer (self, timer);
      timer->fire (timer, TRUE);
      any = TRUE;
    }
  return any;
}

/* The dying context's thread, as its owner: discards whatever is queued
 * (the runnables and timers settle what they stand for) and lets every
 * tracked mortal die, until nothing is left, since each of those may
 * queue more. Pushes from other threads meanwhile wait in the inbox. */
static void
scheduler_sweep (KaaScheduler *self)
{
  KaaScheduler *outer = tls_sweeping;
  gboolean more;

  /* What the cleanups create (an await's sleep, say) belongs to the
   * dying context, as it would have had they run there, and goes with it. */
  tls_sweeping = self;
  do
    {
      more = scheduler_discard_queued (self);
      if (self->mortals.next != &self->mortals)
        {
          KaaMortal *mortal = self->mortals.next;

          kaa_scheduler_untrack (self, mortal);
          mortal->die (mortal);
          more = TRUE;
        }
    }
  while (more);
  tls_sweeping = outer;
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
  discard_list (g_atomic_pointer_exchange (&self->inbox, NULL));

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
 * default context when none is pushed). The last one found is cached per
 * thread, so this is one TLS read on the common path. While the thread
 * sweeps a dead context, it is that context's scheduler.
 *
 * Returns: (transfer none): the scheduler
 */
KaaScheduler *
kaa_scheduler_get_thread_default (void)
{
  GMainContext *context;
  TlsCache *cache = tls_cache_fast;

  if (G_UNLIKELY (tls_sweeping != NULL))
    return tls_sweeping;
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
  for (GSList *l = self->slices; l != NULL; l = l->next)
    {
      g_source_destroy (l->data);
      g_source_unref (l->data);
    }
  g_slist_free (self->slices);
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

/* Wakes the context through the source's ready time rather than
 * g_main_context_wakeup(): that one rejects a context whose last
 * reference is being dropped, while a source being detached just ignores
 * it. Dispatch clears the ready time again. */
void
kaa_scheduler_wakeup (KaaScheduler *self)
{
  if (g_atomic_int_get (&self->woken) || g_atomic_int_get (&self->dead))
    return;
  g_mutex_lock (&self->wake_lock);
  if (!g_atomic_int_get (&self->dead) && !g_atomic_int_get (&self->woken))
    {
      g_atomic_int_set (&self->woken, TRUE);
      g_source_set_ready_time (self->source, 0);
    }
  g_mutex_unlock (&self->wake_lock);
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
    queue_append (&self->ready_head, &self->ready_tail, runnable);
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

gboolean
kaa_scheduler_is_dead (KaaScheduler *self)
{
  return g_atomic_int_get (&self->dead);
}

static KaaSlices *
slices_new (KaaScheduler *self,
            gint          priority)
{
  KaaSlices *slices = (KaaSlices *) g_source_new (&slice_source_funcs, sizeof (KaaSlices));

  slices->scheduler = self;
  g_source_set_static_name (&slices->source, "[kaa] time slices");
  g_source_set_priority (&slices->source, priority);
  g_source_set_can_recurse (&slices->source, TRUE);
  /* A dead scheduler's context is gone; its pushes are discarded anyway. */
  if (!g_atomic_int_get (&self->dead))
    g_source_attach (&slices->source, self->context);
  self->slices = g_slist_prepend (self->slices, slices);
  return slices;
}

/* Owner thread: the time slices of @priority, made on first use; they
 * live as long as the scheduler. A program uses a handful of priorities,
 * so a list will do. */
KaaSlices *
kaa_scheduler_get_slices (KaaScheduler *self,
                          gint          priority)
{
  if (priority == G_PRIORITY_DEFAULT_IDLE && self->idle_slices != NULL)
    return self->idle_slices;
  for (GSList *l = self->slices; l != NULL; l = l->next)
    if (g_source_get_priority (l->data) == priority)
      return l->data;
  if (priority == G_PRIORITY_DEFAULT_IDLE)
    return self->idle_slices = slices_new (self, priority);
  return slices_new (self, priority);
}

/* Owner thread: a time slice, run at the priority of @slices in a later
 * main-loop iteration (see slice_source_dispatch). */
void
kaa_slices_push (KaaSlices   *slices,
                 KaaRunnable *runnable)
{
  if (G_UNLIKELY (g_atomic_int_get (&slices->scheduler->swept)))
    runnable->run (runnable, TRUE);
  else
    queue_append (&slices->head, &slices->tail, runnable);
}

void
kaa_scheduler_push_slice (KaaScheduler *self,
                          KaaRunnable  *runnable)
{
  kaa_slices_push (kaa_scheduler_get_slices (self, G_PRIORITY_DEFAULT_IDLE), runnable);
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

/* The caller holds a reference on @self, which the owner may drop as soon
 * as the CAS publishes @runnable. */
static void
scheduler_push_remote_held (KaaScheduler *self,
                            KaaRunnable  *runnable)
{
  KaaRunnable *head;

  /* Treiber push; the consumer takes the whole stack at once, so there is
   * no ABA hazard. The fence inside the CAS publishes the runnable's
   * contents before the owner can see it. */
  do
    {
      head = g_atomic_pointer_get (&self->inbox);
      runnable->next = head;
    }
  while (!g_atomic_pointer_compare_and_exchange (&self->inbox, head, runnable));

  /* A push racing with the context's destruction: the sweep takes the
   * inbox until it is over, and once more after setting `swept`; after
   * that, whoever pushes discards, so nothing is stranded. */
  if (G_UNLIKELY (g_atomic_int_get (&self->swept)))
    {
      discard_list (g_atomic_pointer_exchange (&self->inbox, NULL));
      return;
    }
  if (head == NULL && !g_atomic_int_get (&self->polling))
    kaa_scheduler_wakeup (self);
}

void
kaa_scheduler_push_remote (KaaScheduler *self,
                           KaaRunnable  *runnable)
{
  /* Once the CAS publishes @runnable, the owner may run it and drop what
   * kept this scheduler alive; the rest of the push needs it still. */
  kaa_scheduler_ref (self);
  scheduler_push_remote_held (self, runnable);
  kaa_scheduler_unref (self);
}

/* As kaa_scheduler_push_remote(), for a thread that pushes many runnables,
 * mostly to one scheduler: *@held keeps a reference on the last scheduler
 * pushed to, so that consecutive pushes take none on the reference count
 * the owner thread is using. Release it with g_clear_pointer (@held,
 * kaa_scheduler_unref) before the thread waits or leaves. */
void
kaa_scheduler_push_remote_cached (KaaScheduler  *self,
                                  KaaRunnable   *runnable,
                                  KaaScheduler **held)
{
  if (*held != self)
    {
      if (*held != NULL)
        kaa_scheduler_unref (*held);
      *held = kaa_scheduler_ref (self);
    }
  scheduler_push_remote_held (self, runnable);
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
 * scheduler whose context is gone, it is discarded: at once on the thread
 * sweeping it, through the inbox from others. */
void
kaa_scheduler_add_timer (KaaScheduler *self,
                         KaaTimer     *timer,
                         gint64        deadline)
{
  g_assert (timer->index == 0);

  timer->deadline = deadline;
  timer->scheduler = self;
  if (G_UNLIKELY (g_atomic_int_get (&self->dead) && kaa_scheduler_is_owner (self)))
    timer->fire (timer, TRUE);
  else if (kaa_scheduler_is_owner (self))
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
  KaaScheduler *self = kaa_scheduler_get_thread_default ();
  GMainLoop *loop = g_main_loop_new (self->context, FALSE);

  kaa_scheduler_ref (self);
  g_mutex_lock (&registry_lock);
  self->loops = g_slist_prepend (self->loops, loop);
  g_mutex_unlock (&registry_lock);

  g_main_loop_run (loop);

  g_mutex_lock (&registry_lock);
  self->loops = g_slist_remove (self->loops, loop);
  g_mutex_unlock (&registry_lock);
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
  KaaScheduler *self = kaa_scheduler_get_thread_default ();

  g_mutex_lock (&registry_lock);
  if (self->loops != NULL)
    g_main_loop_quit (self->loops->data);
  g_mutex_unlock (&registry_lock);
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
  return g_main_context_iteration (kaa_scheduler_get_context (kaa_scheduler_get_thread_default ()),
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
  return kaa_scheduler_get_budget (kaa_scheduler_get_thread_default ());
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

  kaa_scheduler_set_budget (kaa_scheduler_get_thread_default (), usec);
}
