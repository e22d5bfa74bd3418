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
 */
#include "config.h"

#include "kaa-in-progress-impl-private.h"

/* Counts one pause; the producer hears of the first one only while @self
 * is pending. A settle on another thread may land just after the state
 * is read: the producer then finds nothing left to pause. */
static void
in_progress_pause (KaaInProgress *self)
{
  /* Not once it is claimed, as for resume: a producer that a cancel or
   * a finish has claimed gets no pause it could not be resumed from. */
  if (self->n_paused++ > 0 || !kaa_in_progress_is_pending (self))
    return;
  /* Hooks run on the owner thread only; a producer whose InProgress may
   * settle on another thread settles it through the owner instead (as
   * the thread pool does), so the producer cannot be released under us.
   * The hook may pause what it awaits in turn: flat at any depth. */
  kaa_in_progress_call_hook (self, FALSE);
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
 * even when another thread settles @self in between. Owner thread only.
 *
 * Since: 0.1
 */
void
kaa_in_progress_pause (KaaInProgress *self)
{
  g_return_if_fail (self != NULL);
  in_progress_return_if_freed (self);
  g_return_if_fail (kaa_scheduler_is_owner (self->scheduler));

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
 * critical and changes nothing. Owner thread only.
 *
 * Since: 0.1
 */
void
kaa_in_progress_resume (KaaInProgress *self)
{
  g_return_if_fail (self != NULL);
  in_progress_return_if_freed (self);
  g_return_if_fail (kaa_scheduler_is_owner (self->scheduler));
  if (self->n_paused == 0)
    {
      g_critical ("%s: InProgress %s (%p) is not paused: each resume must undo a "
                  "kaa_in_progress_pause()", G_STRFUNC, in_progress_name (self), self);
      return;
    }

  /* Not once it is claimed: a cancel in progress (cancel wins over
   * pause) never lets its producer go on. */
  if (--self->n_paused > 0 || !kaa_in_progress_is_pending (self))
    return;
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

  return self->n_paused > 0;
}
