/* kaa-in-progress-pause.c: pausing and resuming an InProgress
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN §6: pause is a counter kept on the InProgress, on the owner
 * thread. Only the 0 → 1 and 1 → 0 transitions reach the producer, through
 * its pause and resume hooks, so nested pauses cost nothing below.
 */
#include "config.h"

#include "kaa-in-progress-impl-private.h"

/* Counts one pause unless @self is done; returns whether it counted, so
 * that a cascade resumes exactly what it paused. The state is read once:
 * a settle on another thread may land just after, and then the count
 * is still balanced by the resume, which a done InProgress accepts. */
static gboolean
in_progress_pause (KaaInProgress *self)
{
  if (in_progress_is_final (self))
    return FALSE;
  if (self->n_paused++ > 0)
    return TRUE;
  /* Hooks run on the owner thread only; a producer whose InProgress may
   * settle on another thread settles it through the owner instead (as
   * the thread pool does), so the producer cannot be released under us.
   * The hook may pause what it awaits in turn: flat at any depth. */
  kaa_in_progress_call_hook (self, FALSE);
  return TRUE;
}

/**
 * kaa_in_progress_pause:
 * @self: a [struct@Kaa.InProgress]
 *
 * Pauses what produces @self: a queued thread job is not started, a
 * running one waits at its next [method@Kaa.ThreadJob.check]. Pause is a
 * counter: each pause needs its own [method@Kaa.InProgress.resume].
 * Pausing something already done does nothing. Owner thread only.
 *
 * Since: 0.1
 */
void
kaa_in_progress_pause (KaaInProgress *self)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (kaa_scheduler_is_owner (self->scheduler));

  in_progress_pause (self);
}

/* The cascade's rule (DESIGN §6), for whatever awaits @self on someone's
 * behalf (a coroutine, a combinator): pause @self only while it is
 * pending, this thread owns it and the caller is its one awaiter. Returns
 * whether it paused, so the caller knows to resume it later: the answer
 * of the pause itself, since another thread may settle @self meanwhile. */
gboolean
kaa_in_progress_pause_for_awaiter (KaaInProgress *self)
{
  if (kaa_in_progress_get_awaiters (self) != 1 || !kaa_scheduler_is_owner (self->scheduler))
    return FALSE;
  return in_progress_pause (self);
}

/**
 * kaa_in_progress_resume:
 * @self: a paused [struct@Kaa.InProgress]
 *
 * Undoes one [method@Kaa.InProgress.pause]; the last one lets the
 * producer continue. A resume without a pause is a programming error:
 * it logs a critical and changes nothing. Owner thread only.
 *
 * Since: 0.1
 */
void
kaa_in_progress_resume (KaaInProgress *self)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (kaa_scheduler_is_owner (self->scheduler));
  g_return_if_fail (self->n_paused > 0);

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
