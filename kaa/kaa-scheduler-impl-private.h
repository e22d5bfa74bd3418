/* kaa-scheduler-impl-private.h: the scheduler's insides, shared by the
 * files of the scheduler (layer 2) only
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * kaa-scheduler.c holds the GSource, the queues and a context's life and
 * death; kaa-scheduler-remote.c the hand-off from other threads;
 * kaa-scheduler-timers.c the timer heap; kaa-scheduler-main.c the
 * kaa_main_*() loop.
 */
#pragma once

#include "kaa-alloc-private.h"
#include "kaa-fiber-private.h"
#include "kaa-refcount-private.h"
#include "kaa-trace-private.h"
#include "kaa-scheduler-private.h"

G_BEGIN_DECLS

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
  gint64           idle_since;  /* prepare's time when it may sleep to trim, else 0 */
  guint            trim_untimed; /* idle iterations left to go untimed (kaa-scheduler-trim.c) */
  KAA_CACHE_LINE_PAD (pad_owner);

  /* Atomic, written by other threads. */
  KaaRunnable     *inbox;     /* newest first */
  gint             woken;     /* a ready time of 0 is set on the source */
  gint             polling;   /* the owner polls the inbox: pushes need not wake it */
  KAA_CACHE_LINE_PAD (pad_remote);

  /* Under kaa-scheduler-main.c's lock: the kaa_main_run() loops,
   * innermost first. */
  GSList          *loops;

  /* Other threads touch the context (to wake it) only under this lock,
   * after checking `dead`: GLib destroys the source, which sets `dead`
   * under the lock, before it frees the context, so the context is valid
   * while it is held. Order: wake_lock, then the context's own lock. */
  GMutex           wake_lock;
};

/* Owner thread: the earliest armed deadline, G_MAXINT64 if none. */
static inline gint64
kaa_scheduler_next_deadline (KaaScheduler *self)
{
  return self->heap_len > 0 ? self->heap[1]->deadline : G_MAXINT64;
}

/* Owner thread: runs the runnables of a queue until it is empty or
 * @budget (µs since @start) is spent (kaa-scheduler.c); returns how
 * many ran, for the Sysprof marks. */
void     kaa_scheduler_trace_dispatch (gint64        begin,
                                       const char   *what,
                                       guint         n_items,
                                       gint64        start,
                                       gint64        budget);
guint    kaa_scheduler_run_queue      (KaaRunnable **head,
                                       KaaRunnable **tail,
                                       gint64        start,
                                       gint64        budget);
/* Runs each runnable of @list with discard set. */
void     kaa_scheduler_discard_list   (KaaRunnable  *list);

/* Owner thread (kaa-scheduler-slices.c). */
gboolean kaa_scheduler_discard_slices (KaaScheduler *self);
void     kaa_scheduler_free_slices    (KaaScheduler *self);

/* Owner thread (kaa-scheduler-timers.c). */
guint    kaa_scheduler_fire_timers    (KaaScheduler *self,
                                       gint64        now,
                                       gint64        budget);
gboolean kaa_scheduler_discard_timers (KaaScheduler *self);

/* Owner thread, from prepare and check (kaa-scheduler-trim.c). An idle
 * iteration left untimed sleeps at most this long while a trim is
 * pending. */
#define KAA_SCHEDULER_TRIM_POLL_MSEC 25

/* While a trim is pending: TRUE if this idle iteration goes untimed,
 * @timeout then at most KAA_SCHEDULER_TRIM_POLL_MSEC if the stack pool's
 * is (kaa-scheduler-trim.c). Inline, so that an idle prepare stays a leaf
 * in a loop that never sleeps. */
static inline gboolean
kaa_scheduler_trim_untimed (KaaScheduler *self,
                            gint         *timeout)
{
  if (self->trim_untimed == 0)
    return FALSE;
  self->trim_untimed--;
  if (kaa_stack_pool_trim_is_pending () &&
      (*timeout < 0 || KAA_SCHEDULER_TRIM_POLL_MSEC < *timeout))
    *timeout = KAA_SCHEDULER_TRIM_POLL_MSEC;
  return TRUE;
}

void     kaa_scheduler_prepare_trim   (KaaScheduler *self,
                                       GSource      *source,
                                       gint         *timeout);
void     kaa_scheduler_check_trim     (KaaScheduler *self);

G_END_DECLS
