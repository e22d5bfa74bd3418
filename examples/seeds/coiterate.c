/* coiterate.c: the coiterate sum from "Making use of twisted coiterate"
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Sums the integers below 8 one per step, waiting a second after each,
 * and is cancelled after three seconds. In Python the steps are a
 * generator that coiterate consumes; here they are a coroutine, whose
 * g_autoptr cleanup plays the generator's GeneratorExit handler and
 * whose pending sleep the cancel takes down with it:
 *
 *   Adding 0 to result
 *   I was paused 1.00 seconds
 *   Adding 1 to result
 *   I was paused 1.00 seconds
 *   Adding 2 to result
 *   ---
 *   Early termination...
 */
#include "seed.h"

typedef struct
{
  gboolean finished;
} SumSteps;

static void
sum_steps_close (SumSteps *steps)
{
  if (steps->finished)
    return;
  seed_say ("---");
  seed_say ("Early termination...");
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SumSteps, sum_steps_close)

static void
sum_all_integers_until (KaaCoroutine *co,
                        gpointer      data)
{
  guint n = GPOINTER_TO_UINT (data);
  g_auto(SumSteps) steps = { FALSE };
  gint64 s = 0;

  for (guint i = 0; i < n; i++)
    {
      s += i;
      seed_say ("Adding %u to result", i);
      if (!kaa_await (kaa_sleep (seed_msec (1.0)), NULL))
        return;
      seed_say ("I was paused %.2f seconds", 1.0);
    }
  steps.finished = TRUE;
  kaa_coroutine_return_int64 (co, s);
}

static void
print_result (KaaInProgress *ip,
              gpointer       data)
{
  if (kaa_in_progress_get_state (ip) == KAA_STATE_FINISHED)
    seed_say ("Got result = %" G_GINT64_FORMAT, kaa_in_progress_get_int64 (ip));
}

int
main (void)
{
  g_autoptr(KaaInProgress) sum = NULL;

  seed_init ();
  seed_progress (3.0);
  seed_at (3.0, seed_cancel_and_quit, &sum);
  sum = kaa_coroutine_spawn (sum_all_integers_until, GUINT_TO_POINTER (8), NULL);
  kaa_in_progress_connect (sum, print_result, NULL, NULL);
  kaa_main_run ();
  return 0;
}
