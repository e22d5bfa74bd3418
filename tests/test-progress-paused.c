/* test-progress-paused.c: rate and ETA leave paused time out (issue #22)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * No speed is asserted: the test brackets each step with clock readings
 * and checks the rate against the longest running time those allow, the
 * pause left out. Counting the pause, the rate would be at least 4 times
 * lower than that bound, whatever the load.
 */
#include "config.h"

#include "kaa-test-util.h"

#define PAUSE_USEC (400 * 1000)

/* Runs what set_progress() queued: the notification that updates the
 * rate. */
static void
notify_now (KaaInProgress *ip,
            gint64         position)
{
  kaa_in_progress_set_progress (ip, position, 1000);
  kaa_test_drain (g_main_context_default ());
}

static void
test_rate_without_pause (void)
{
  KaaInProgress *ip = kaa_in_progress_new ();
  gint64 start, paused, resumed, end, running;
  gdouble slowest, eta;

  kaa_in_progress_set_progress_interval (ip, 0);
  start = g_get_monotonic_time ();
  notify_now (ip, 0);
  kaa_in_progress_pause (ip);
  paused = g_get_monotonic_time ();
  g_usleep (PAUSE_USEC);
  resumed = g_get_monotonic_time ();
  kaa_in_progress_resume (ip);
  notify_now (ip, 100);
  end = g_get_monotonic_time ();

  /* The rate's interval is within [start, end] and the pause it leaves
   * out covers at least [paused, resumed]. */
  running = (end - start) - (resumed - paused);
  slowest = 100.0 * G_USEC_PER_SEC / running;
  g_test_message ("running %" G_GINT64_FORMAT " us of %" G_GINT64_FORMAT ", rate %.0f/s",
                  running, end - start, kaa_in_progress_get_rate (ip));
  g_assert_cmpfloat (kaa_in_progress_get_rate (ip), >=, slowest * 0.999);

  /* 900 left at that rate: at most the time 900 take at the slowest. */
  eta = kaa_in_progress_get_eta (ip);
  g_assert_cmpfloat (eta, >, 0);
  g_assert_cmpfloat (eta, <=, 900.0 / slowest * 1.001);

  kaa_in_progress_finish_pointer (ip, NULL, NULL);
  kaa_in_progress_unref (ip);
}

/* The rest of a pause begun by the caller: half of PAUSE_USEC, an update
 * to @position, the other half; then the resume. Returns when it was
 * resumed. */
static gint64
finish_pause_with_update (KaaInProgress *ip,
                          gint64         position)
{
  gint64 resumed;

  g_usleep (PAUSE_USEC / 2);
  notify_now (ip, position);
  g_usleep (PAUSE_USEC / 2);
  resumed = g_get_monotonic_time ();
  kaa_in_progress_resume (ip);
  return resumed;
}

/* A pause still going on when the rate is updated counts up to then, and
 * the rest of it after. */
static void
test_rate_during_pause (void)
{
  KaaInProgress *ip = kaa_in_progress_new ();
  gint64 start, paused, resumed, end, running;

  kaa_in_progress_set_progress_interval (ip, 0);
  start = g_get_monotonic_time ();
  notify_now (ip, 0);
  kaa_in_progress_pause (ip);
  paused = g_get_monotonic_time ();
  resumed = finish_pause_with_update (ip, 10);
  notify_now (ip, 110);
  end = g_get_monotonic_time ();

  /* The first step's 10 took at most paused - start of running time,
   * the second's 100 at most end - resumed; the smoothed rate lies
   * between the two steps' rates, so above 10 over the longer. */
  running = MAX (end - resumed, paused - start) + 1;
  g_assert_cmpfloat (kaa_in_progress_get_rate (ip), >=,
                     10.0 * G_USEC_PER_SEC / running * 0.999);
  kaa_in_progress_finish_pointer (ip, NULL, NULL);
  kaa_in_progress_unref (ip);
}

/* Two updates in one pause, the first the rate's start: the second comes
 * with no running time since the first, so it cannot rate anything, and
 * the pause between them must still be left out of the next rate. It was
 * counted as running: the first rate was 110 over half the pause, 549/s
 * for a step of 110 made in microseconds. (The same happened, now and
 * then, to rate-during-pause when its pause began in the microsecond of
 * its first update: 3 runs in 30 on a fast host.) */
static void
test_rate_two_updates_in_pause (void)
{
  KaaInProgress *ip = kaa_in_progress_new ();
  gint64 resumed, end;

  g_test_summary ("Issue 22: a pause's time stays out of the rate when the "
                  "rate is updated twice during it");
  kaa_in_progress_set_progress_interval (ip, 0);
  kaa_in_progress_pause (ip);
  notify_now (ip, 0);
  resumed = finish_pause_with_update (ip, 10);
  notify_now (ip, 110);
  end = g_get_monotonic_time ();

  /* Everything before the resume was paused: the 110 took at most
   * end - resumed of running time. */
  g_test_message ("running at most %" G_GINT64_FORMAT " us, rate %.0f/s",
                  end - resumed, kaa_in_progress_get_rate (ip));
  g_assert_cmpfloat (kaa_in_progress_get_rate (ip), >=,
                     110.0 * G_USEC_PER_SEC / (end - resumed + 1) * 0.999);
  kaa_in_progress_finish_pointer (ip, NULL, NULL);
  kaa_in_progress_unref (ip);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kaa/progress/rate-without-pause", test_rate_without_pause);
  g_test_add_func ("/kaa/progress/rate-during-pause", test_rate_during_pause);
  g_test_add_func ("/kaa/progress/rate-two-updates-in-pause", test_rate_two_updates_in_pause);
  return g_test_run ();
}
