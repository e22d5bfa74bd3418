/* kaa-in-progress-await.c: awaiting an InProgress on someone's behalf
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN §6, the one await link. A coroutine suspended in an await, each
 * input of kaa_any/kaa_all, the input of kaa_timeout and the source of
 * finish_from and shield await an InProgress for the one who awaits them;
 * each embeds a KaaAwaitLink, and this file is the only place that counts
 * awaiters. (A shield only ever detaches: it never cancels its source.)
 *
 * - Sharing. Several links may await one InProgress; the InProgress
 *   counts them (n_awaiters, atomic). A link counts once, at its start,
 *   and uncounts exactly once, whichever of cancel, detach or a release
 *   on another thread comes first.
 * - Pause only as the sole awaiter. Pausing the holder pauses what it
 *   awaits only while the link is its one awaiter, on the owner thread of
 *   the awaited, while it is pending: one caller pausing never freezes
 *   work that others still need. The link remembers whether it paused.
 * - Undo one's own pause. Resume undoes the link's own pause and nothing
 *   else: a pause that counted is the link's to resume, even when another
 *   thread settled the awaited meanwhile.
 * - Cancel only as the last awaiter. Cancelling the holder cancels what
 *   it awaits when the link was its last awaiter; otherwise the link only
 *   detaches, and the others go on. In the flat cascade
 *   (kaa-in-progress-cascade.c) a producer's cancel hook calls this: the
 *   cancel is only queued there, it has not run when the hook returns.
 * - Detach otherwise. Detaching uncounts, disconnects the callback when
 *   this is the owner thread of the awaited (a callback owned by another
 *   thread may still run, and its holder then finds nothing to do) and
 *   marks the awaited's error as seen: whoever gave up on it will not
 *   read it, and a failure later logs nothing.
 * - Cancel wins over pause. Cancelled or detached from, the awaited keeps
 *   no pause of the link's: the pause is undone after the cancel was
 *   requested, so a cancelled InProgress stays stopped, and a shared one
 *   goes on as before.
 */
#include "config.h"

#include "kaa-in-progress-await-private.h"
#include "kaa-in-progress-impl-private.h"

guint
kaa_in_progress_get_awaiters_for_testing (KaaInProgress *self)
{
  return (guint) g_atomic_int_get (&self->n_awaiters);
}

/* Uncounts the link, once; returns how many awaiters the awaited has
 * left, or G_MAXUINT when the link was not counted (any more). */
static guint
link_uncount (KaaAwaitLink *link)
{
  gint left;

  if (!g_atomic_int_compare_and_exchange (&link->counted, TRUE, FALSE))
    return G_MAXUINT;
  left = g_atomic_int_add (&link->awaited->n_awaiters, -1) - 1;
  g_assert (left >= 0);
  return (guint) left;
}

static gboolean
link_owns_awaited (KaaAwaitLink *link)
{
  return kaa_scheduler_is_owner (link->awaited->scheduler);
}

static void
link_disconnect (KaaAwaitLink *link)
{
  if (link->id != 0 && link_owns_awaited (link))
    kaa_in_progress_disconnect (link->awaited, link->id);
  link->id = 0;
}

void
kaa_await_link_count (KaaAwaitLink  *link,
                      KaaInProgress *awaited)
{
  link->awaited = awaited;
  link->id = 0;
  link->paused = FALSE;
  g_atomic_int_inc (&awaited->n_awaiters);
  g_atomic_int_set (&link->counted, TRUE);
}

void
kaa_await_link_connect (KaaAwaitLink          *link,
                        KaaInProgressCallback  callback,
                        gpointer               user_data,
                        GDestroyNotify         destroy)
{
  link->id = kaa_in_progress_connect (link->awaited, callback, user_data, destroy);
}

void
kaa_await_link_start (KaaAwaitLink          *link,
                      KaaInProgress         *awaited,
                      KaaInProgressCallback  callback,
                      gpointer               user_data,
                      GDestroyNotify         destroy)
{
  kaa_await_link_count (link, awaited);
  kaa_await_link_connect (link, callback, user_data, destroy);
}

void
kaa_await_link_pause (KaaAwaitLink *link)
{
  if (link->paused || !g_atomic_int_get (&link->counted))
    return;
  link->paused = kaa_in_progress_pause_for_awaiter (link->awaited);
}

void
kaa_await_link_resume (KaaAwaitLink *link)
{
  if (!link->paused)
    return;
  link->paused = FALSE;
  kaa_in_progress_resume (link->awaited);
}

/* The holder is being cancelled. Its own pause goes after the cancel
 * (cancel wins over pause); a link that had stopped awaiting already
 * cancels nothing. */
void
kaa_await_link_cancel (KaaAwaitLink *link)
{
  guint left;

  if (link->awaited == NULL)
    return;
  link_disconnect (link);
  left = link_uncount (link);
  if (left == 0)
    kaa_in_progress_cancel (link->awaited);
  else if (left != G_MAXUINT)
    kaa_in_progress_mark_error_seen (link->awaited);
  kaa_await_link_resume (link);
}

/* Any thread: from a release, the holder may be settled by another
 * thread. A pause can only be undone on the owner thread, which is
 * where it was made, or once the context is gone, when nobody owns it
 * and undoing it only counts (so that the pauses still balance). */
void
kaa_await_link_detach (KaaAwaitLink *link)
{
  if (link->awaited == NULL)
    return;
  link_uncount (link);
  kaa_in_progress_mark_error_seen (link->awaited);
  if (!link_owns_awaited (link))
    {
      if (kaa_scheduler_is_dead (link->awaited->scheduler))
        kaa_await_link_resume (link);
      return;
    }
  link_disconnect (link);
  kaa_await_link_resume (link);
}

/* Any thread, as _detach(): the cancel itself may be issued from
 * anywhere, and only the disconnect and the undoing of the link's own
 * pause wait for the owner thread (or a dead context). The callback is
 * disconnected before the cancel, so the holder does not hear of it. */
void
kaa_await_link_detach_cancelling (KaaAwaitLink *link)
{
  gboolean owner;

  if (link->awaited == NULL)
    return;
  owner = link_owns_awaited (link);
  if (owner)
    link_disconnect (link);
  if (link_uncount (link) == 0)
    kaa_in_progress_cancel (link->awaited);
  kaa_in_progress_mark_error_seen (link->awaited);
  if (owner || kaa_scheduler_is_dead (link->awaited->scheduler))
    kaa_await_link_resume (link);
}

void
kaa_await_link_abandon (KaaInProgress *awaited)
{
  KaaAwaitLink link = { NULL, };

  if (kaa_in_progress_is_done (awaited))
    return;
  kaa_await_link_count (&link, awaited);
  kaa_await_link_cancel (&link);
}
