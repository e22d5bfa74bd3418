/* seed.h: what the seed examples share: scaled time and timed output
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The seed programs keep the timings of the documents they come from (a
 * message a second, a pause at 3 s). KAA_EXAMPLE_SCALE shrinks them for
 * the test suite (0.05 makes a second 50 ms), and KAA_EXAMPLE_TIMES=1
 * prefixes every line with the seconds since the start, in the
 * program's own unscaled seconds, so that a test can check the timing.
 */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <kaa/kaa.h>

#include <unistd.h>

static gdouble seed_scale = 1.0;
static gint64  seed_start;
static gboolean seed_times;
static gboolean seed_bar_shown;

static inline void
seed_init (void)
{
  const char *scale = g_getenv ("KAA_EXAMPLE_SCALE");

  if (scale != NULL && g_ascii_strtod (scale, NULL) > 0)
    seed_scale = g_ascii_strtod (scale, NULL);
  seed_times = g_strcmp0 (g_getenv ("KAA_EXAMPLE_TIMES"), "1") == 0;
  seed_start = g_get_monotonic_time ();
}

/* @seconds of the program's time, in milliseconds of real time. */
static inline guint
seed_msec (gdouble seconds)
{
  return (guint) (seconds * 1000 * seed_scale + 0.5);
}

/* Seconds of the program's time since seed_init(). */
static inline gdouble
seed_elapsed (void)
{
  return (g_get_monotonic_time () - seed_start) / (G_USEC_PER_SEC * seed_scale);
}

static inline void G_GNUC_PRINTF (1, 2)
seed_say (const char *format,
          ...)
{
  va_list args;

  if (seed_bar_shown)
    {
      /* The line goes where the progress bar was; the bar comes back at
       * its next tick. */
      fputs ("\r\033[K", stderr);
      seed_bar_shown = FALSE;
    }
  if (seed_times)
    printf ("%.2f ", seed_elapsed ());
  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
}

/* g_auto(SeedFinally) finally = { "..." }: prints its line when the scope
 * is left, however it is left: the C form of the seeds' `finally:`. */
typedef struct
{
  const char *line;
} SeedFinally;

static inline void
seed_finally_run (SeedFinally *finally)
{
  if (finally->line != NULL)
    seed_say ("%s", finally->line);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SeedFinally, seed_finally_run)

/* Runs @func once, @seconds of program time after now. */
static inline void
seed_at (gdouble               seconds,
         KaaInProgressCallback func,
         gpointer              data)
{
  KaaInProgress *timer = kaa_sleep (seed_msec (seconds));

  kaa_in_progress_connect (timer, func, data, NULL);
  kaa_in_progress_unref (timer);
}

/* For seed_at(): cancels the InProgress that @data points to and ends
 * the program's main loop. */
static inline void
seed_cancel_and_quit (KaaInProgress *timer,
                      gpointer       data)
{
  kaa_in_progress_cancel (*(KaaInProgress **) data);
  kaa_main_quit ();
}

/* A progress bar on stderr for a program that runs about @total seconds,
 * when stderr is a terminal: a coroutine that runs ten times a second,
 * at a fixed rate, until the program ends. */
static void
seed_bar_body (KaaCoroutine *co,
               gpointer      data)
{
  gdouble total = *(gdouble *) data;

  do
    {
      gdouble done = MIN (seed_elapsed () / total, 1.0);
      int width = 30, filled = (int) (done * width + 0.5);

      fprintf (stderr, "\r[%.*s%*s] %4.1f / %.0f s", filled,
               "##############################", width - filled, "",
               seed_elapsed (), total);
      fflush (stderr);
      seed_bar_shown = TRUE;
    }
  while (kaa_yield ());
}

static inline void
seed_progress (gdouble total)
{
  static gdouble seed_total;
  static KaaCoroutineDef bar = {
    .name = "progress-bar",
    .func = seed_bar_body,
  };

  if (!isatty (STDERR_FILENO))
    return;
  seed_total = total;
  bar.interval = seed_msec (0.1) > 0 ? seed_msec (0.1) : 1;
  /* Never awaited; it ends with the program. */
  kaa_in_progress_unref (kaa_coroutine_spawn_def (&bar, NULL, &seed_total, NULL));
}
