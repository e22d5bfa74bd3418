/* kaa-in-progress-adopt.c: handing new work to the scope it was started in
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Issue 18 §4: a task scope owns the coroutines and thread jobs started
 * in it, also those its members start. The thread pool and the coroutine
 * spawn hand each new InProgress here; only the coroutine layer knows
 * which coroutine runs, so it lends this layer a function to ask.
 */
#include "config.h"

#include "kaa-in-progress-private.h"

/* Set once, by the first coroutine that carries an adopter: until then
 * no coroutine can have one, and adopting costs a load and a branch. */
static KaaAdopter *(*current_adopter) (void);

void
kaa_in_progress_set_adopter_func (KaaAdopter *(*current) (void))
{
  g_atomic_pointer_set (&current_adopter, current);
}

void
kaa_in_progress_adopt (KaaInProgress *member)
{
  KaaAdopter *(*current) (void) = g_atomic_pointer_get (&current_adopter);
  KaaAdopter *adopter;

  if (G_LIKELY (current == NULL))
    return;
  adopter = current ();
  if (adopter != NULL)
    adopter->adopt (adopter, member);
}
