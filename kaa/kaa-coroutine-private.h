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

struct _KaaCoroutine
{
  KaaProducer      producer;
  KaaRefCount      ref_count;
  KaaRunnable      runnable;
  gint             queued;          /* atomic: the runnable is in a queue */
  KaaScheduler    *scheduler;       /* owned */
  KaaSlices       *slices;          /* where a yield queues it */
  KaaInProgress   *in_progress;     /* owned until the body is done */
  KaaInProgress   *last;            /* owned: PASS_LAST's predecessor */
  KaaFiber        *fiber;
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
  gboolean         cancelled;
  gboolean         paused;          /* DESIGN §6: its InProgress is paused */
  gboolean         wake_held;       /* a wake-up came while paused */
  gboolean         running;         /* its fiber is on the call stack */
  gboolean         unwind_pending;  /* cancel walked down, not unwound yet */
  gboolean         unwind_held;     /* cancelled on the call stack: the
                                     * cascade waits until it is left */
  gboolean         await_woke;      /* the queued run ends an await */
  gint64           interval;        /* µs; 0: no fixed-rate schedule */
  gint64           slot;            /* monotonic µs of the current slot */
  KaaTimer         timer;           /* armed for the next slot */

  KaaOutcome       outcome;         /* what the body set: kaa-coroutine-return.c */
};

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
