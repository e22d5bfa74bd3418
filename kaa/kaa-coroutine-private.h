/* kaa-coroutine-private.h: the coroutine struct, for kaa-coroutine*.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "kaa-coroutine.h"
#include "kaa-fiber-private.h"
#include "kaa-in-progress-await-private.h"
#include "kaa-refcount-private.h"

G_BEGIN_DECLS

/* Where a coroutine is (owner thread). A suspension point sets it just
 * before it suspends; coroutine_switch() sets RUNNING on the way in.
 * Cancelled and paused are orthogonal to it. No two places hold at once:
 * a wake-up held by a pause is moot once cancelled (from then on the
 * coroutine never suspends again), and one that reaches a coroutine on
 * the call stack is dropped, paused or not: it notices at its next
 * suspension. */
typedef enum
{
  WHERE_NEW,        /* no fiber yet */
  WHERE_RUNNING,    /* its fiber is on the call stack */
  WHERE_LEAVING,    /* the same, cancelled: the cascade waits until the
                     * fiber finishes (coroutine_unwind()) */
  WHERE_YIELDED,    /* queued for a later slice by kaa_yield() */
  WHERE_SLEEPING,   /* its timer is armed: the next slot of its interval */
  WHERE_AWAITING,   /* suspended in an await, or queued to end one */
  WHERE_HELD,       /* woken while paused: runs once resumed (DESIGN §6) */
  WHERE_UNWINDING,  /* cancel walked down; waits for the way up */
  WHERE_DONE,       /* its fiber finished */
} KaaCoroutineWhere;

/* What its runnable's queued says. */
enum
{
  NOT_QUEUED,
  QUEUED_LOCAL,    /* by the owner thread: no reference of its own */
  QUEUED_REMOTE,   /* through the inbox: holds a reference */
};

struct _KaaCoroutine
{
  KaaProducer      producer;
  KaaRefCount      ref_count;
  KaaScheduler    *scheduler;       /* owned */
  KaaInProgress   *in_progress;     /* owned until the body is done */
  KaaInProgress   *last;            /* owned: PASS_LAST's predecessor */
  KaaMortal        mortal;          /* tracked while the fiber lives */
  KaaAdopter      *adopter;         /* owned: the scope it was started in */

  /* From the definition, for a start handed to the owner thread. */
  const char      *def_name;
  const char      *site_file;       /* static: where it was spawned, or NULL */
  gint             site_line;
  gsize            stack_size;
  gint             priority;

  /* Owner thread only. */
  KaaCoroutineFunc func;
  gpointer         user_data;
  GDestroyNotify   destroy;
  KaaCoroutineFunc next_func;       /* set by become */
  gpointer         next_data;
  GDestroyNotify   next_destroy;
  KaaAwaitLink     await;           /* .awaited owned while suspended in an await */
  gint64           slot;            /* monotonic µs of the current slot */
  KaaTimer         timer;           /* armed for the next slot */
  KaaOutcome       outcome;         /* what the body set: kaa-coroutine-return.c */

  /* Issue #20: what a yield and a resume touch, last, beside the fiber
   * that follows in the same allocation, so that with thousands of
   * coroutines queued each costs two lines, not six. */
  KaaSlices       *slices;          /* where a yield queues it */
  gint64           interval;        /* µs; 0: no fixed-rate schedule */
  KaaRunnable      runnable;
  gint             queued;          /* atomic: the runnable is in a queue */
  KaaCoroutineWhere where;
  /* Orthogonal to where it is. */
  gboolean         cancelled;
  gboolean         paused;          /* DESIGN §6: its InProgress is paused */
  KaaBatch        *batch;           /* the queue it was resumed from, if lent:
                                     * a yield may go on to the next one */
  KaaFiber        *fiber;
};

/* Its fiber is on the call stack, maybe under another coroutine's: it
 * cannot be resumed now. */
static inline gboolean
kaa_coroutine_on_stack (KaaCoroutine *self)
{
  return self->where == WHERE_RUNNING || self->where == WHERE_LEAVING;
}

/* kaa-coroutine-dump.c: its line in the live dump (issue 19). */
void kaa_coroutine_describe (KaaProducer   *producer,
                             KaaInProgress *in_progress,
                             KaaDumpNode   *node);

/* The running coroutine, or a critical naming @function and NULL. */
KaaCoroutine  *kaa_coroutine_current_or_warn (const char *function);
gboolean       kaa_coroutine_suspend_until   (KaaCoroutine  *self,
                                              KaaInProgress *awaited);

void           kaa_coroutine_start       (const KaaCoroutineDef *def,
                                          KaaInProgress         *in_progress,
                                          gpointer               user_data,
                                          GDestroyNotify         destroy,
                                          KaaInProgress         *last);
/* Spawns like kaa_coroutine_spawn_def() (no checks, no adoption of the
 * call itself): the coroutine carries @adopter (nullable), which adopts
 * what its body starts. */
KaaInProgress *kaa_coroutine_spawn_adopted (const KaaCoroutineDef *def,
                                            gpointer               instance,
                                            KaaAdopter            *adopter,
                                            gpointer               user_data,
                                            GDestroyNotify         destroy)
                                            G_GNUC_WARN_UNUSED_RESULT;
/* kaa-coroutine-spawn.c, for kaa_coroutine_start(): the adopter (not
 * referenced: the start takes its own)
 * and the spawn site of the call being spawned on this thread, if any. */
KaaAdopter    *kaa_coroutine_take_spawn    (const char           **file,
                                            gint                  *line);
/* kaa-coroutine-policy.c: a call of a definition with a policy. */
KaaInProgress *kaa_coroutine_policy_call (const KaaCoroutineDef *def,
                                          gpointer               instance,
                                          gpointer               user_data,
                                          GDestroyNotify         destroy) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
