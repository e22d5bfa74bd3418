/* kaa-gio-death.c: a bridge's InProgress dies with its context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A bridge's InProgress is settled by a GSource or a signal handler,
 * which the context's sweep knows nothing of (issue 17 §1): without this
 * an fd, child, Unix-signal or GObject-signal wait stayed PENDING for
 * ever when its context died. The death watch is a mortal tracked on the
 * owner context that cancels the InProgress in the sweep, as any queued
 * work is cancelled.
 *
 * It lives apart from the bridge, with a reference count of its own: the
 * bridge's release hook may run on any thread, while the mortal may only
 * be untracked on the owner. So the release closes the watch's own link
 * to the InProgress and hands the untracking to the owner; the sweep
 * that races it finds the link closed. Whoever claims `tracked` first,
 * the release or the sweep, is the one to end the tracking.
 *
 * A wait made on a thread that does not own its context is the global
 * default context's (that thread has none pushed), which never dies: it
 * needs no watch.
 */
#include "config.h"

#include "kaa-gio-private.h"
#include "kaa-refcount-private.h"

struct _KaaBridgeDeath
{
  KaaBridgeLink  link;        /* the InProgress, until the release */
  KaaMortal      mortal;      /* owner thread */
  KaaRunnable    untrack;     /* the release's, to the owner */
  KaaScheduler  *scheduler;   /* owned */
  KaaRefCount    ref_count;   /* the bridge's, and the tracking's */
  gint           tracked;     /* atomic: the tracking is not ended yet */
};

static void
death_unref (KaaBridgeDeath *death)
{
  if (!kaa_ref_count_dec (&death->ref_count))
    return;
  kaa_scheduler_unref (death->scheduler);
  g_free (death);
}

static gboolean
death_claim (KaaBridgeDeath *death)
{
  return g_atomic_int_compare_and_exchange (&death->tracked, TRUE, FALSE);
}

/* The sweep, which untracked the mortal: cancels the InProgress unless
 * the release came first. */
static void
death_die (KaaMortal *mortal)
{
  KaaBridgeDeath *death = G_STRUCT_MEMBER_P (mortal, -G_STRUCT_OFFSET (KaaBridgeDeath, mortal));
  KaaInProgress *self;

  if (!death_claim (death))
    return;
  self = kaa_bridge_link_ref (&death->link);
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
  KaaBridgeDeath *death = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (KaaBridgeDeath, untrack));

  kaa_scheduler_untrack (death->scheduler, &death->mortal);
  death_unref (death);
}

KaaBridgeDeath *
kaa_bridge_death_new (KaaInProgress *self)
{
  KaaScheduler *scheduler = kaa_in_progress_get_scheduler (self);
  KaaBridgeDeath *death;

  if (!kaa_scheduler_is_owner (scheduler))
    return NULL;
  death = g_new0 (KaaBridgeDeath, 1);
  kaa_ref_count_init (&death->ref_count);      /* the bridge's */
  kaa_ref_count_inc (&death->ref_count);       /* the tracking's */
  kaa_bridge_link_init (&death->link, self);
  death->scheduler = kaa_scheduler_ref (scheduler);
  death->tracked = TRUE;
  death->mortal.die = death_die;
  kaa_scheduler_track (scheduler, &death->mortal);
  return death;
}

void
kaa_bridge_death_release (KaaBridgeDeath *death)
{
  if (death == NULL)
    return;
  kaa_bridge_link_release (&death->link);
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
