/* test-pause-claimed.c: pause and resume of an InProgress whose cancel
 * another thread has claimed (DESIGN §6)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

static gpointer
cancel_thread (gpointer data)
{
  kaa_in_progress_cancel (data);
  return NULL;
}

/* A worker's cancel claims the timeout at once and leaves the cascade to
 * the owner's next dispatch. Until then a resume does not reach the
 * timeout's producer, but a pause does: pause, resume, pause ran the
 * timeout's pause hook twice, which paused the input twice for one
 * resume, and the input stayed paused for ever (found by the stress
 * test, issue #15). */
static void
test_pause_resume_pause_while_claimed (Fixture       *f,
                                       gconstpointer  data)
{
  g_autoptr(KaaInProgress) input = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) timeout = kaa_timeout (kaa_in_progress_ref (input), 60000, FALSE);
  GThread *thread;

  g_test_summary ("DESIGN §6: pause, resume and pause of a timeout whose cancel another "
                  "thread claimed leave its input with no pause of the timeout's");
  g_test_bug ("15");

  kaa_in_progress_pause (timeout);
  g_assert_true (kaa_in_progress_is_paused (input));

  thread = g_thread_new ("canceller", cancel_thread, timeout);
  g_thread_join (thread);
  g_assert_false (kaa_in_progress_is_done (timeout));   /* claimed, not yet cancelled */

  kaa_in_progress_resume (timeout);
  kaa_in_progress_pause (timeout);
  kaa_test_pump_until_done (f->context, timeout);
  kaa_in_progress_resume (timeout);
  kaa_test_drain (f->context);

  g_assert_cmpint (kaa_in_progress_get_state (timeout), ==, KAA_STATE_CANCELLED);
  g_assert_false (kaa_in_progress_is_paused (input));
  kaa_in_progress_cancel (input);
  kaa_test_drain (f->context);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/kaa/pause-claimed/pause-resume-pause", Fixture, NULL, kaa_test_fixture_setup,
              test_pause_resume_pause_while_claimed, kaa_test_fixture_teardown);

  return g_test_run ();
}
