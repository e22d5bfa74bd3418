/* do-something.c: kaa.base's do_something and do_something_else, in C
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * do_something breaks a loop of expensive work into ten slices, giving
 * the main loop a turn after each (kaa's NotFinished), and returns 42. A
 * handler connected to its InProgress prints the result; then
 * do_something_else awaits another call of it:
 *
 *   do_something() finished with result: 42
 *   do_something_else() finished with result: TRUE
 */
#include "seed.h"

/* A tenth of a second of busy work, in program time. */
static void
do_something_expensive (void)
{
  gint64 end = g_get_monotonic_time () + seed_msec (0.1) * 1000;
  volatile guint64 sink = 0;

  while (g_get_monotonic_time () < end)
    sink++;
}

static void
do_something (KaaCoroutine *co,
              gpointer      data)
{
  for (guint i = 0; i < 10; i++)
    {
      do_something_expensive ();
      if (!kaa_yield ())
        return;
    }
  kaa_coroutine_return_int64 (co, 42);
}

static void
do_something_else (KaaCoroutine *co,
                   gpointer      data)
{
  g_autoptr(GError) error = NULL;
  gint64 result = kaa_await_int64 (kaa_coroutine_spawn (do_something, NULL, NULL), &error);

  if (error != NULL)
    {
      seed_say ("do_something failed");
      return;
    }
  kaa_coroutine_return_boolean (co, result != 0);
}

static void
else_done (KaaInProgress *ip,
           gpointer       data)
{
  seed_say ("do_something_else() finished with result: %s",
            kaa_in_progress_get_boolean (ip) ? "TRUE" : "FALSE");
  kaa_main_quit ();
}

static void
handle_result (KaaInProgress *ip,
               gpointer       data)
{
  KaaInProgress *next;

  seed_say ("do_something() finished with result: %" G_GINT64_FORMAT,
            kaa_in_progress_get_int64 (ip));
  next = kaa_coroutine_spawn (do_something_else, NULL, NULL);
  kaa_in_progress_connect (next, else_done, NULL, NULL);
  kaa_in_progress_unref (next);
}

int
main (void)
{
  KaaInProgress *ip;

  seed_init ();
  seed_progress (2.0);
  ip = kaa_coroutine_spawn (do_something, NULL, NULL);
  kaa_in_progress_connect (ip, handle_result, NULL, NULL);
  kaa_in_progress_unref (ip);
  kaa_main_run ();
  return 0;
}
