/* kaa-scheduler-private.h: the per-GMainContext scheduler (layer 2)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "kaa-scheduler.h"

G_BEGIN_DECLS

typedef struct _KaaScheduler KaaScheduler;
typedef struct _KaaRunnable  KaaRunnable;
typedef struct _KaaTimer     KaaTimer;
typedef struct _KaaSlices    KaaSlices;
typedef struct _KaaMortal    KaaMortal;

/* @discard is TRUE when the context went away and the runnable will never
 * run: release what it holds and do nothing else. */
typedef void (*KaaRunnableFunc) (KaaRunnable *runnable,
                                 gboolean     discard);
/* @discard as for KaaRunnableFunc: the context went away. */
typedef void (*KaaTimerFunc)    (KaaTimer    *timer,
                                 gboolean     discard);

/* Something the scheduler runs: embedded in its owner, linked through
 * @next, in at most one queue at a time. The scheduler never frees it. */
struct _KaaRunnable
{
  KaaRunnable    *next;
  KaaRunnableFunc run;
};

/* Owner thread: @runnable at the end of the queue @head .. @tail. */
static inline void
kaa_runnable_queue_append (KaaRunnable **head,
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

/* Inside @runnable's run function, called from a queue: the runnable
 * that queue runs next, or NULL (always NULL when discarding). It is
 * still queued, so alive; only to be looked at, to warm its memory while
 * this one runs (issue #20). */
static inline KaaRunnable *
kaa_runnable_get_queued_next (KaaRunnable *runnable)
{
  return runnable->next;
}

/* Work that lives on the scheduler outside its queues (a coroutine
 * suspended in an await): if the context dies while it is tracked, @die
 * runs on the thread that drops the context, which is the owner while it
 * sweeps, and must settle it. Linked by the scheduler; owner thread only. */
typedef void (*KaaMortalFunc)   (KaaMortal   *mortal);

struct _KaaMortal
{
  KaaMortal    *prev;
  KaaMortal    *next;
  KaaMortalFunc die;
  /* Nullable: the InProgress the mortal works for (not referenced), or
   * NULL. The live dump (issue 19) starts from these at no cost to the
   * tracked: coroutines and thread jobs are mortals anyway. */
  gpointer    (*subject) (KaaMortal *mortal);
};

/* An entry in the scheduler's timer heap. @index is 0 while the timer is
 * not in the heap. Armed from any thread (off the owner, through @arm and
 * the inbox); removed, frozen and thawed on the owner thread only. While
 * frozen (paused, DESIGN §6) it is out of the heap, @deadline holds the
 * microseconds it had left, and @frozen is tracked: a context that dies
 * meanwhile discards it like an armed one. */
struct _KaaTimer
{
  gint64       deadline;
  guint        index;
  KaaTimerFunc fire;
  KaaRunnable  arm;
  KaaScheduler *scheduler;
  KaaMortal    frozen;
};

KaaScheduler *kaa_scheduler_get_thread_default (void);
KaaScheduler *kaa_scheduler_get_for_thread     (void);
KaaScheduler *kaa_scheduler_get_for_context    (GMainContext *context);
KaaScheduler *kaa_scheduler_ref                (KaaScheduler *self);
void          kaa_scheduler_unref              (KaaScheduler *self);
GMainContext *kaa_scheduler_get_context        (KaaScheduler *self);
gboolean      kaa_scheduler_is_owner           (KaaScheduler *self);
/* Owner thread: tracks @mortal until untracked or the context dies. */
void          kaa_scheduler_track              (KaaScheduler *self,
                                                KaaMortal    *mortal);
/* Owner thread; does nothing for a mortal that is not tracked (any more). */
void          kaa_scheduler_untrack            (KaaScheduler *self,
                                                KaaMortal    *mortal);
/* Owner thread: calls @func with the subject of each tracked mortal
 * that has one, oldest first; @func must not track or untrack. */
void          kaa_scheduler_foreach_subject    (KaaScheduler *self,
                                                void        (*func) (gpointer subject,
                                                                     gpointer data),
                                                gpointer      data);
/* Any thread: TRUE once the context is gone (its sweep may still run). */
gboolean      kaa_scheduler_is_dead            (KaaScheduler *self);
/* Any thread: makes a blocked iteration of the context look again. */
void          kaa_scheduler_wakeup             (KaaScheduler *self);
/* Any thread: g_source_destroy() and g_source_unref() of a source
 * attached to the context, safe against the context dying meanwhile. */
void          kaa_scheduler_destroy_source     (KaaScheduler *self,
                                                GSource      *source);

/* Owner thread: run @runnable later in this dispatch, or in the next one. */
void          kaa_scheduler_push               (KaaScheduler *self,
                                                KaaRunnable  *runnable);
/* Owner thread: run @runnable as a time slice, at G_PRIORITY_DEFAULT_IDLE
 * in a later main-loop iteration, so that it never delays input, timers
 * or drawing. */
void          kaa_scheduler_push_slice         (KaaScheduler *self,
                                                KaaRunnable  *runnable);
/* Owner thread: the time slices of GSource @priority. They live as long
 * as the scheduler; a push queues a slice as kaa_scheduler_push_slice()
 * does, at that priority. */
KaaSlices    *kaa_scheduler_get_slices         (KaaScheduler *self,
                                                gint          priority);
void          kaa_slices_push_detached         (KaaSlices    *slices,
                                                KaaRunnable  *runnable);

/* The time slices of one GSource priority (kaa-scheduler-slices.c). Owner
 * thread only, like the ready queue. Here so that the push of every
 * yield is inline. */
struct _KaaSlices
{
  KaaScheduler *scheduler;
  gint          priority;
  KaaRunnable  *head;
  KaaRunnable  *tail;
  GSource      *source;   /* attached while the queue is not empty, or NULL */
};

/* Owner thread: a time slice, run at the priority of @slices in a later
 * main-loop iteration. While the source is attached the context is
 * neither dead nor swept (both give every source back first), so a
 * yield with others queued only appends; the rest is
 * kaa_slices_push_detached()'s. */
static inline void
kaa_slices_push (KaaSlices   *slices,
                 KaaRunnable *runnable)
{
  if (G_UNLIKELY (slices->source == NULL))
    kaa_slices_push_detached (slices, runnable);
  else
    kaa_runnable_queue_append (&slices->head, &slices->tail, runnable);
}

/* DESIGN §3: a dispatch's budget, spent item by item. Reading the clock
 * costs as much as a small item, so it is read only as often as the
 * items seen so far say the budget could run out: after every item when
 * they are slow, every 64 when they are tiny. */
typedef struct
{
  gint64 start;
  gint64 budget;       /* µs from @start */
  guint  done;
  guint  next_check;   /* the item count at which to read the clock */
} KaaBudget;

static inline void
kaa_budget_init (KaaBudget *self,
                 gint64     start,
                 gint64     budget)
{
  self->start = start;
  self->budget = budget;
  self->done = 0;
  self->next_check = 1;
}

/* After one more item: TRUE once the budget is spent. */
static inline gboolean
kaa_budget_spent (KaaBudget *self)
{
  gint64 elapsed, per_item;

  if (++self->done < self->next_check)
    return FALSE;
  elapsed = g_get_monotonic_time () - self->start;
  if (elapsed >= self->budget)
    return TRUE;
  per_item = elapsed / self->done + 1;
  self->next_check = self->done + (guint) CLAMP ((self->budget - elapsed) / (2 * per_item), 1, 64);
  return FALSE;
}

/* Owner thread, issue #20's symmetric transfer: the queue a dispatch is
 * running (kaa_scheduler_run_queue()), lent to what it runs so that a
 * coroutine that yields can go straight on to the next one queued. The
 * runnables it runs may take their successors off the queue themselves. */
typedef struct
{
  KaaRunnable **head;
  KaaRunnable **tail;
  KaaBudget     spending;
  guint         n;
  gboolean      counted;   /* the running item is counted in the budget */
  gboolean      spent;
} KaaBatch;

/* Set by the loop before each run: a batch is lent only to the runnable
 * it runs, never to code a dispatch nested in that run runs, nor after
 * the loop has moved on. */
extern KAA_THREAD_LOCAL KaaBatch    *kaa_batch_lent;
extern KAA_THREAD_LOCAL KaaRunnable *kaa_batch_lent_to;
extern KAA_THREAD_LOCAL guint        kaa_batch_taken;   /* for the tests */

/* Runs @runnable with no batch lent, so that it goes on to nothing
 * queued after it: a lone runnable (kaa_scheduler_run_queue(), the
 * slices' dispatch of a lone yield). */
static inline void
kaa_runnable_run_alone (KaaRunnable *runnable)
{
  kaa_batch_lent_to = NULL;
  runnable->run (runnable, FALSE);
}

/* From @runnable's run: the batch whose loop is running it just now,
 * else NULL; once per run. */
static inline KaaBatch *
kaa_batch_claim (KaaRunnable *runnable)
{
  if (kaa_batch_lent_to != runnable)
    return NULL;
  kaa_batch_lent_to = NULL;
  return kaa_batch_lent;
}

/* The item that claimed @batch is done: the next one queued if the
 * budget has room for it, else NULL. */
static inline KaaRunnable *
kaa_batch_peek_next (KaaBatch *batch)
{
  if (*batch->head == NULL || batch->spent)
    return NULL;
  if (!batch->counted)
    {
      batch->counted = TRUE;
      if (kaa_budget_spent (&batch->spending))
        {
          batch->spent = TRUE;
          return NULL;
        }
    }
  return *batch->head;
}

/* Takes the runnable kaa_batch_peek_next() returned off the queue: the
 * caller runs it in place of the loop. Its next stays, as the loop's
 * pop leaves it (kaa_runnable_get_queued_next()). */
static inline void
kaa_batch_take_next (KaaBatch *batch)
{
  KaaRunnable *runnable = *batch->head;

  *batch->head = runnable->next;
  if (*batch->head == NULL)
    *batch->tail = NULL;
  batch->n++;
  batch->counted = FALSE;
  kaa_batch_taken++;
}

/* Any thread: hand @runnable to the owner context through the inbox. */
void          kaa_scheduler_push_remote        (KaaScheduler *self,
                                                KaaRunnable  *runnable);
/* The same, keeping a reference on the last scheduler pushed to in
 * *@held (see kaa-scheduler.c); for a worker's stream of completions. */
void          kaa_scheduler_push_remote_cached (KaaScheduler  *self,
                                                KaaRunnable   *runnable,
                                                KaaScheduler **held);

/* Owner thread: a push_remote is expected before @deadline (monotonic
 * microseconds); until then iterations poll the inbox without blocking,
 * and pushes need not wake the context. Does nothing unless the caller
 * is the thread that last iterated the context. */
void          kaa_scheduler_expect_remote      (KaaScheduler *self,
                                                gint64        deadline);

void          kaa_scheduler_add_timer          (KaaScheduler *self,
                                                KaaTimer     *timer,
                                                gint64        deadline);
/* Owner thread: takes @timer back, armed or frozen; FALSE if it was
 * neither (not armed, fired, or still travelling through the inbox). */
gboolean      kaa_scheduler_remove_timer       (KaaScheduler *self,
                                                KaaTimer     *timer);
/* Owner thread: takes an armed @timer out of the heap, keeping the time
 * it had left; FALSE if it was not in the heap. */
gboolean      kaa_scheduler_freeze_timer       (KaaScheduler *self,
                                                KaaTimer     *timer);
/* Owner thread: arms a frozen @timer again for the time it had left;
 * FALSE if it was not frozen. */
/* Owner thread: µs until @timer fires, or, frozen, the time it keeps;
 * sets @frozen accordingly. For the live dump (issue 19). */
gint64        kaa_scheduler_get_timer_left     (KaaScheduler *self,
                                                KaaTimer     *timer,
                                                gboolean     *frozen);
gboolean      kaa_scheduler_thaw_timer         (KaaScheduler *self,
                                                KaaTimer     *timer);
gint64        kaa_scheduler_get_time           (KaaScheduler *self);

gint64        kaa_scheduler_get_budget         (KaaScheduler *self);
void          kaa_scheduler_set_budget         (KaaScheduler *self,
                                                gint64        usec);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KaaScheduler, kaa_scheduler_unref)

G_END_DECLS
