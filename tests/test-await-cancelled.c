/* test-await-cancelled.c: what a cancelled coroutine awaits
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A coroutine that is cancelled returns from every await at once with
 * G_IO_ERROR_CANCELLED. What it was handed and will not wait for is its
 * to give up on, failure included: an InProgress that had failed already
 * is not reported later as a failure nobody handled (the warning a test
 * makes fatal).
 */
#include "config.h"

#define KAA_TEST_AREA "await-cancelled"
#include "kaa-test-util.h"

typedef struct
{
  KaaChannel *channel;
  gboolean    went_on;
  GError     *error;
} Waiter;

/* Cancelled in its first await; then awaits something that failed. */
static void
body_await_failed (KaaCoroutine *co,
                   gpointer      data)
{
  Waiter *w = data;
  KaaInProgress *failed = kaa_in_progress_new ();

  g_assert_false (kaa_await (kaa_sleep (60000), NULL));
  kaa_in_progress_fail (failed, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "failed"));
  w->went_on = kaa_await (failed, &w->error);
}

/* Cancelled in its first await; then reads a channel closed meanwhile. */
static void
body_await_next (KaaCoroutine *co,
                 gpointer      data)
{
  Waiter *w = data;
  gpointer item = NULL;

  g_assert_false (kaa_await (kaa_sleep (60000), NULL));
  w->went_on = kaa_channel_await_next (w->channel, &item, &w->error);
  g_assert_null (item);
}

static void
run_cancelled (KaaTestFixture   *f,
               KaaCoroutineFunc  body,
               Waiter           *w)
{
  KaaInProgress *ip = kaa_coroutine_spawn (body, w, NULL);

  kaa_in_progress_cancel (ip);
  while (!kaa_in_progress_is_done (ip))
    g_main_context_iteration (f->context, TRUE);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_unref (ip);
  g_assert_false (w->went_on);
  g_assert_error (w->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&w->error);
}

static void
test_failed (KaaTestFixture *f,
             gconstpointer   data)
{
  Waiter w = { NULL };

  g_test_summary ("A cancelled coroutine that awaits an InProgress that failed already "
                  "gets the cancel, and the failure it gave up on is not reported as "
                  "unhandled");
  run_cancelled (f, body_await_failed, &w);
}

static void
test_closed_channel (KaaTestFixture *f,
                     gconstpointer   data)
{
  Waiter w = { kaa_channel_new_full (KAA_CHANNEL_UNBOUNDED, g_free) };

  g_test_summary ("kaa_channel_await_next() in a cancelled coroutine on a closed "
                  "channel fails with the cancel, and leaves no unhandled failure");
  kaa_channel_close (w.channel);
  run_cancelled (f, body_await_next, &w);
  kaa_channel_unref (w.channel);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("failed", test_failed);
  KAA_TEST_ADD ("closed-channel", test_closed_channel);

  return g_test_run ();
}
