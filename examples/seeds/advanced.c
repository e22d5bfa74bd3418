/* advanced.c: txcoroutine's advanced example, in C
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * root awaits level2, which awaits level3, which prints the seconds
 * passed and sleeps a second, forever. Pausing root at 3 s travels down
 * to level3's sleep, resuming it at 6 s brings everything back, and
 * cancelling it at 9 s unwinds the three levels, innermost first:
 *
 *   iterating: 0s passed
 *   iterating: 1s passed
 *   iterating: 2s passed
 *   iterating: 6s passed
 *   iterating: 7s passed
 *   iterating: 8s passed
 *   level3_process stopped; cleaning up...
 *   level2_process stopped; cleaning up...
 *   root_process stopped; cleaning up...
 */
#include <math.h>

#include "seed.h"

static void
level3_process (KaaCoroutine *co,
                gpointer      data)
{
  g_auto(SeedFinally) finally = { "level3_process stopped; cleaning up..." };
  gdouble base = seed_elapsed ();

  for (;;)
    {
      seed_say ("iterating: %.0fs passed", round (seed_elapsed () - base));
      if (!kaa_await (kaa_sleep (seed_msec (1.0)), NULL))
        return;
    }
}

static void
level2_process (KaaCoroutine *co,
                gpointer      data)
{
  g_auto(SeedFinally) finally = { "level2_process stopped; cleaning up..." };

  kaa_await (kaa_coroutine_spawn (level3_process, NULL, NULL), NULL);
}

static void
root_process (KaaCoroutine *co,
              gpointer      data)
{
  g_auto(SeedFinally) finally = { "root_process stopped; cleaning up..." };

  kaa_await (kaa_coroutine_spawn (level2_process, NULL, NULL), NULL);
}

static void
pause_proc (KaaInProgress *timer,
            gpointer       data)
{
  kaa_in_progress_pause (*(KaaInProgress **) data);
}

static void
resume_proc (KaaInProgress *timer,
             gpointer       data)
{
  kaa_in_progress_resume (*(KaaInProgress **) data);
}

int
main (void)
{
  g_autoptr(KaaInProgress) proc = NULL;

  seed_init ();
  seed_progress (9.0);
  /* Armed before the coroutines start, so that each comes just before
   * the sleep that ends at the same second. */
  seed_at (3.0, pause_proc, &proc);
  seed_at (6.0, resume_proc, &proc);
  seed_at (9.0, seed_cancel_and_quit, &proc);
  proc = kaa_coroutine_spawn (root_process, NULL, NULL);
  kaa_main_run ();
  return 0;
}
