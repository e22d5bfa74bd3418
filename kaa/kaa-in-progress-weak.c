/* kaa-in-progress-weak.c: reaching an InProgress without owning it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A producer settles its InProgress from callbacks (a GSource's, a signal
 * handler, the sweep of a dying context) that may run while another
 * thread drops the last reference to it: the InProgress owns its
 * producer, not the other way round, so that work nobody holds any more
 * goes away. The weak link lets such a callback take a reference, or
 * learn that it is too late, without touching freed memory
 * (kaa-in-progress-private.h says how).
 *
 * The death watch uses one to cancel an InProgress whose producer the
 * context's sweep knows nothing of (issue 17 §1): a mortal tracked on
 * the owner context. It lives apart from the producer, with a reference
 * count of its own: the producer's release hook may run on any thread,
 * while the mortal may only be untracked on the owner. So the release
 * closes the watch's link and hands the untracking to the owner; the
 * sweep that races it finds the link closed. Whoever claims `tracked`
 * first, the release or the sweep, ends the tracking. The global default
 * context never dies, so what is made there needs no watch; and so does
 * an InProgress made on a thread that does not own its context, which is
 * the global default context's (that thread has none pushed).
 */
#include "config.h"

#include "kaa-in-progress-private.h"
#include "kaa-refcount-private.h"

#define LINK_RELEASED ((gint) 0x40000000)

void
kaa_weak_link_init (KaaWeakLink *link,
                      KaaInProgress *self)
{
  link->self = self;
  link->readers = 0;
}

KaaInProgress *
kaa_weak_link_ref (KaaWeakLink *link)
{
  KaaInProgress *self;
  gint readers = g_atomic_int_get (&link->readers);

  /* Enter, unless released: the release hook has not returned yet, so
   * the InProgress's memory stays while we are inside. */
  do
    {
      if (readers & LINK_RELEASED)
        return NULL;
    }
  while (!g_atomic_int_compare_and_exchange_full (&link->readers, readers, readers + 1,
                                                  &readers));
  self = kaa_in_progress_try_ref (link->self);
  /* Leave; a full barrier, so the release hook's wait sees it last. */
  g_atomic_int_add (&link->readers, -1);
  return self;
}

/* Any thread, once, from the release hook: no reader enters after it,
 * and the readers inside are waited for (they hold no lock and run no
 * callback in there, so they leave in a few instructions). */
void
kaa_weak_link_release (KaaWeakLink *link)
{
  g_atomic_int_or ((guint *) &link->readers, LINK_RELEASED);
  while (g_atomic_int_get (&link->readers) != LINK_RELEASED)
    g_thread_yield ();
}

/* ---------------------------------------------------------- death watch */

struct _KaaDeathWatch
{
  KaaWeakLink    link;        /* the InProgress, until the release */
  KaaMortal      mortal;      /* owner thread */
  KaaRunnable    untrack;     /* the release's, to the owner */
  KaaScheduler  *scheduler;   /* owned */
  KaaRefCount    ref_count;   /* the producer's, and the tracking's */
  gint           tracked;     /* atomic: the tracking is not ended yet */
};

static void
death_unref (KaaDeathWatch *death)
{
  if (!kaa_ref_count_dec (&death->ref_count))
    return;
  kaa_scheduler_unref (death->scheduler);
  g_free (death);
}

static gboolean
death_claim (KaaDeathWatch *death)
{
  return g_atomic_int_compare_and_exchange (&death->tracked, TRUE, FALSE);
}

/* The sweep, which untracked the mortal: cancels the InProgress unless
 * the release came first. */
static void
death_die (KaaMortal *mortal)
{
  KaaDeathWatch *death = G_STRUCT_MEMBER_P (mortal, -G_STRUCT_OFFSET (KaaDeathWatch, mortal));
  KaaInProgress *self;

  if (!death_claim (death))
    return;
  self = kaa_weak_link_ref (&death->link);
  if (self != NULL)
    {
      kaa_in_progress_cancel (self);
      kaa_in_progress_unref (self);
    }
  death_unref (death);
}

/* The owner, or the sweep (@discard), which may already have untracked
 * it: untracking twice does nothing. */
static void
death_untrack_run (KaaRunnable *runnable,
                   gboolean     discard)
{
  KaaDeathWatch *death = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (KaaDeathWatch, untrack));

  kaa_scheduler_untrack (death->scheduler, &death->mortal);
  death_unref (death);
}

KaaDeathWatch *
kaa_death_watch_new (KaaInProgress *self)
{
  KaaScheduler *scheduler = kaa_in_progress_get_scheduler (self);
  KaaDeathWatch *death;

  /* GLib never lets go of the global default context: what is made
   * there, as most of an application's work is, needs no watch. */
  if (!kaa_scheduler_is_owner (scheduler) ||
      kaa_scheduler_get_context (scheduler) == g_main_context_default ())
    return NULL;
  death = g_new0 (KaaDeathWatch, 1);
  kaa_ref_count_init (&death->ref_count);      /* the producer's */
  kaa_ref_count_inc (&death->ref_count);       /* the tracking's */
  kaa_weak_link_init (&death->link, self);
  death->scheduler = kaa_scheduler_ref (scheduler);
  death->tracked = TRUE;
  death->mortal.die = death_die;
  kaa_scheduler_track (scheduler, &death->mortal);
  return death;
}

void
kaa_death_watch_release (KaaDeathWatch *death)
{
  if (death == NULL)
    return;
  kaa_weak_link_release (&death->link);
  if (death_claim (death))
    {
      if (kaa_scheduler_is_owner (death->scheduler))
        {
          kaa_scheduler_untrack (death->scheduler, &death->mortal);
          death_unref (death);
        }
      else
        {
          death->untrack.run = death_untrack_run;
          kaa_scheduler_push_remote (death->scheduler, &death->untrack);
        }
    }
  death_unref (death);
}
