/* kaa-in-progress-pause.c: pausing and resuming an InProgress
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN §6: pause is a counter kept on the InProgress, on the owner
 * thread. Only the 0 → 1 and 1 → 0 transitions of a pending InProgress
 * reach the producer, through its pause and resume hooks, so nested
 * pauses cost nothing below.
 *
 * Every pause counts, also on an InProgress that is done, so every resume
 * balances its pause: another thread may settle the InProgress between
 * the two, and the owner cannot know beforehand (issue #15).
 *
 * Once its context is gone, nobody owns an InProgress: any thread may
 * then pause and resume it, which only counts (issue #17). So the counter
 * is atomic, although the owner alone changes it while the context lives.
 */
#include "config.h"

#include "kaa-in-progress-impl-private.h"
#include "kaa-progress-private.h"

/* Counts one pause; the producer hears of the first one only while @self
 * is not done. A settle on another thread may land just after the state
 * is read: the producer then finds nothing left to pause. */
static void
in_progress_pause (KaaInProgress *self)
{
  /* The producer hears pause and resume strictly in turn: a resume that
   * came while a cancel had claimed @self left it paused (cancel wins),
   * and a pause after that must not reach it a second time. */
  if (g_atomic_int_add (&self->n_paused, 1) > 0 || in_progress_is_final (self) ||
      self->hook_paused)
    return;
  self->hook_paused = TRUE;
  kaa_progress_set_paused (self, TRUE);
  /* Hooks run on the owner thread only. Another thread may settle @self
   * meanwhile, but it cannot release the producer under the hook: the
   * hook borrows it (kaa_in_progress_borrow_producer()). The hook may
   * pause what it awaits in turn: flat at any depth. */
  kaa_in_progress_call_hook (self, FALSE);
}

/* Whether the calling thread may pause and resume @self: its owner; and,
 * once the context is gone, any thread, to count only: the sweep settled
 * what it produced, and no producer hears of it any more. */
static gboolean
in_progress_check_owner (KaaInProgress *self,
                         const char    *func,
                         gboolean      *counts_only)
{
  *counts_only = FALSE;
  if (kaa_scheduler_is_owner (self->scheduler))
    return TRUE;
  if (kaa_scheduler_is_dead (self->scheduler))
    {
      *counts_only = TRUE;
      return TRUE;
    }
  g_critical ("%s: InProgress %s (%p) belongs to a context this thread does not run: "
              "pause and resume it on the thread that runs its context",
              func, in_progress_name (self), self);
  return FALSE;
}

/* Takes one pause back; FALSE if there was none. */
static gboolean
in_progress_count_resume (KaaInProgress *self,
                          guint         *left)
{
  guint n;

  do
    {
      n = (guint) g_atomic_int_get (&self->n_paused);
      if (n == 0)
        return FALSE;
    }
  while (!g_atomic_int_compare_and_exchange (&self->n_paused, n, n - 1));
  *left = n - 1;
  return TRUE;
}

/**
 * kaa_in_progress_pause:
 * @self: a [struct@Kaa.InProgress]
 *
 * Pauses what produces @self: a queued thread job is not started, a
 * running one waits at its next [method@Kaa.ThreadJob.check]. Pause is a
 * counter: each pause needs its own [method@Kaa.InProgress.resume].
 *
 * Every pause counts, also one of an InProgress that is already done
 * (which reaches nothing below it), so every resume balances its pause
 * even when another thread settles @self in between. Owner thread only,
 * while the context lives; once it is gone (and its work cancelled), any
 * thread may pause and resume what is left of it, which only counts.
 *
 * Since: 0.1
 */
void
kaa_in_progress_pause (KaaInProgress *self)
{
  gboolean counts_only;

  g_return_if_fail (self != NULL);
  in_progress_return_if_freed (self);
  if (!in_progress_check_owner (self, G_STRFUNC, &counts_only))
    return;

  if (counts_only)
    g_atomic_int_inc (&self->n_paused);
  else
    in_progress_pause (self);
}

/* The cascade's rule (DESIGN §6), for the await link
 * (kaa-in-progress-await.c) only: pause @self only while it is
 * pending, this thread owns it and the caller is its one awaiter. Returns
 * whether it paused, so the caller knows to resume it later: a pause that
 * counted is the caller's to resume, even when another thread settles
 * @self meanwhile. */
gboolean
kaa_in_progress_pause_for_awaiter (KaaInProgress *self)
{
  if (g_atomic_int_get (&self->n_awaiters) != 1 || !kaa_scheduler_is_owner (self->scheduler) ||
      in_progress_is_final (self))
    return FALSE;
  in_progress_pause (self);
  return TRUE;
}

/**
 * kaa_in_progress_resume:
 * @self: a paused [struct@Kaa.InProgress]
 *
 * Undoes one [method@Kaa.InProgress.pause]; the last one lets the
 * producer continue, if @self is still pending. A resume without a pause
 * is a programming error, whether @self is done or not: it logs a
 * critical and changes nothing. On the threads it may be called from, see
 * [method@Kaa.InProgress.pause].
 *
 * Since: 0.1
 */
void
kaa_in_progress_resume (KaaInProgress *self)
{
  gboolean counts_only;
  guint left;

  g_return_if_fail (self != NULL);
  in_progress_return_if_freed (self);
  if (!in_progress_check_owner (self, G_STRFUNC, &counts_only))
    return;
  if (!in_progress_count_resume (self, &left))
    {
      g_critical ("%s: InProgress %s (%p) is not paused: each resume must undo a "
                  "kaa_in_progress_pause()", G_STRFUNC, in_progress_name (self), self);
      return;
    }

  /* Not once it is claimed: a cancel in progress (cancel wins over
   * pause) never lets its producer go on. */
  if (left > 0 || counts_only || !self->hook_paused || !kaa_in_progress_is_pending (self))
    return;
  self->hook_paused = FALSE;
  kaa_progress_set_paused (self, FALSE);
  kaa_in_progress_call_hook (self, TRUE);
}

/**
 * kaa_in_progress_is_paused:
 * @self: a [struct@Kaa.InProgress]
 *
 * Tells whether @self is paused.
 *
 * Returns: %TRUE while @self has more pauses than resumes
 * Since: 0.1
 */
gboolean
kaa_in_progress_is_paused (KaaInProgress *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  in_progress_return_val_if_freed (self, FALSE);

  return g_atomic_int_get (&self->n_paused) > 0;
}
