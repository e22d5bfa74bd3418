/* test-coroutine-where.c: where a coroutine is, beside cancelled and paused (issue 21 §4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A coroutine is in one place at a time (running, yielded, sleeping,
 * awaiting, held by a pause, unwinding, done) and, orthogonally,
 * cancelled and paused. Each test drives one combination of these that a
 * state machine could get wrong: a wake-up that comes while paused, then
 * a resume, a second pause or a cancel; a cancel from the coroutine's own
 * call stack; the end of an await with an interval while paused. The first
 * one pins down what made the downloads test of test-semaphore.c hang:
 * a cancel leaves nothing for a blocking iteration to wait for.
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "coroutine-where"
#define ISSUE "21"

typedef struct
{
  KaaInProgress *awaited;     /* transfer: the body awaits it */
  guint          slices;      /* times the body came back from a suspension */
  guint          cleanups;
  gint64         result;
  gboolean       yielded_false;
} Probe;

static void
probe_cleanup (Probe *probe)
{
  probe->cleanups++;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Probe, probe_cleanup)

/* Awaits probe->awaited, then yields once. */
static void
body_await_then_yield (KaaCoroutine *co,
                       gpointer      data)
{
  Probe *probe = data;
  g_autoptr(Probe) guard = probe;
  g_autoptr(GError) error = NULL;

  probe->result = kaa_await_int64 (g_steal_pointer (&probe->awaited), &error);
  if (error != NULL)
    return;
  probe->slices++;
  if (!kaa_yield ())
    {
      probe->yielded_false = TRUE;
      return;
    }
  probe->slices++;
}

static KaaInProgress *
spawn_awaiting (Fixture       *f,
                Probe         *probe,
                KaaInProgress *awaited)
{
  KaaInProgress *ip;

  probe->awaited = awaited;
  ip = kaa_coroutine_spawn (body_await_then_yield, probe, NULL);
  kaa_test_drain (f->context);
  g_assert_cmpuint (probe->slices, ==, 0);
  g_assert_false (kaa_in_progress_is_done (ip));
  return ip;
}

static void
test_cancel_leaves_loop_idle (Fixture       *f,
                              gconstpointer  data)
{
  Probe probe = { 0 };
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("A coroutine cancelled while it awaits a sleep is done when the cancel "
                  "returns, and leaves nothing to dispatch and no timer: a loop that "
                  "blocks afterwards must first see that it is done");
  g_test_bug (ISSUE);
  ip = spawn_awaiting (f, &probe, kaa_sleep (60 * 1000));
  g_assert_cmpint (kaa_test_next_wakeup_msec (f->context), >, 0);
  kaa_in_progress_cancel (ip);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpuint (probe.cleanups, ==, 1);
  g_assert_false (g_main_context_iteration (f->context, FALSE));
  /* Nothing would ever wake a blocking iteration now. */
  g_assert_cmpint (kaa_test_next_wakeup_msec (f->context), ==, -1);
}

/* The awaited InProgress settles while the coroutine is paused: the
 * wake-up is held. A resume queues it; a pause before it ran holds it
 * again; the next resume lets it run, once. */
static void
test_held_wake_resumed (Fixture       *f,
                        gconstpointer  data)
{
  Probe probe = { 0 };
  g_autoptr(KaaInProgress) awaited = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("DESIGN §6: a wake-up that comes while paused is held, survives a "
                  "resume and a second pause before it ran, and runs once resumed");
  g_test_bug (ISSUE);
  ip = spawn_awaiting (f, &probe, kaa_in_progress_ref (awaited));
  kaa_in_progress_pause (ip);
  kaa_in_progress_finish_int64 (awaited, 7);
  kaa_test_drain (f->context);
  g_assert_cmpuint (probe.slices, ==, 0);

  kaa_in_progress_resume (ip);
  g_assert_cmpuint (probe.slices, ==, 0);   /* from the scheduler, not inside resume */
  kaa_in_progress_pause (ip);
  kaa_test_drain (f->context);
  g_assert_cmpuint (probe.slices, ==, 0);

  kaa_in_progress_resume (ip);
  kaa_test_drain (f->context);
  g_assert_cmpuint (probe.slices, ==, 2);
  g_assert_cmpint (probe.result, ==, 7);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  g_assert_cmpuint (probe.cleanups, ==, 1);
}

/* A wake-up held by a pause, then a cancel: the coroutine unwinds at once
 * from where it was suspended, the held wake-up is gone with it, and a
 * late resume does nothing. @in_yield: held in its yield, else at the
 * end of its await. */
static void
held_wake_cancelled (Fixture  *f,
                     gboolean  in_yield)
{
  Probe probe = { 0 };
  g_autoptr(KaaInProgress) awaited = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) ip = NULL;

  ip = spawn_awaiting (f, &probe, kaa_in_progress_ref (awaited));
  kaa_in_progress_finish_int64 (awaited, 7);
  if (in_yield)
    {
      /* One iteration: the end of the await runs at the scheduler's
       * priority, the yield's slice is left for a later one. */
      g_assert_true (g_main_context_iteration (f->context, FALSE));
      g_assert_cmpuint (probe.slices, ==, 1);
    }
  kaa_in_progress_pause (ip);
  kaa_test_drain (f->context);
  g_assert_cmpuint (probe.slices, ==, in_yield ? 1 : 0);
  g_assert_false (kaa_in_progress_is_done (ip));

  kaa_in_progress_cancel (ip);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpuint (probe.cleanups, ==, 1);
  g_assert_true (probe.yielded_false == in_yield);
  kaa_in_progress_resume (ip);
  kaa_test_drain (f->context);
  g_assert_cmpuint (probe.slices, ==, in_yield ? 1 : 0);
  g_assert_cmpuint (probe.cleanups, ==, 1);
}

static void
test_held_wake_cancelled (Fixture       *f,
                          gconstpointer  data)
{
  g_test_summary ("DESIGN §6: a coroutine holding a wake-up because it is paused, at the "
                  "end of an await or in a yield, unwinds when cancelled, and a resume "
                  "after that runs nothing");
  g_test_bug (ISSUE);
  held_wake_cancelled (f, FALSE);
  held_wake_cancelled (f, TRUE);
}

typedef struct
{
  KaaInProgress *outer;       /* not owned */
  gboolean       outer_done_in_inner;
  gboolean       outer_yield;
  gboolean       outer_done_after_yield;
  guint          cleanups;
} Nested;

static void
body_cancel_outer (KaaCoroutine *co,
                   gpointer      data)
{
  Nested *n = data;

  kaa_in_progress_cancel (n->outer);
  /* Its fiber is under this one: the cascade waits until it is left. */
  n->outer_done_in_inner = kaa_in_progress_is_done (n->outer);
}

static void
nested_cleanup (Nested *n)
{
  n->cleanups++;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Nested, nested_cleanup)

static void
body_start_canceller (KaaCoroutine *co,
                      gpointer      data)
{
  Nested *n = data;
  g_autoptr(Nested) guard = n;

  n->outer = kaa_coroutine_get_in_progress (co);
  kaa_in_progress_unref (kaa_coroutine_spawn (body_cancel_outer, n, NULL));
  n->outer_yield = kaa_yield ();
  n->outer_done_after_yield = kaa_in_progress_is_done (n->outer);
}

static void
test_cancel_from_own_stack (Fixture       *f,
                            gconstpointer  data)
{
  Nested n = { 0 };
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("A coroutine cancelled by one running on top of it is not done until "
                  "its body returns: its next yield returns FALSE at once, and the "
                  "cancel settles it as its fiber finishes");
  g_test_bug (ISSUE);
  ip = kaa_coroutine_spawn (body_start_canceller, &n, NULL);
  g_assert_false (n.outer_done_in_inner);
  g_assert_false (n.outer_yield);
  g_assert_false (n.outer_done_after_yield);
  g_assert_cmpuint (n.cleanups, ==, 1);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
}

#define INTERVAL_MS 50

static const KaaCoroutineDef paced_def = {
  .name = "paced",
  .func = body_await_then_yield,
  .interval = INTERVAL_MS,
};

/* With an interval, an await ends one interval after what it awaited
 * settled; settled while paused, that timer is frozen until the resume. */
static void
test_interval_await_paused (Fixture       *f,
                            gconstpointer  data)
{
  Probe probe = { 0 };
  g_autoptr(KaaInProgress) awaited = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) ip = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §6: the end of an await of a coroutine with an interval, "
                  "settled while it is paused, waits for the resume, then resumes it");
  g_test_bug (ISSUE);
  probe.awaited = kaa_in_progress_ref (awaited);
  ip = kaa_coroutine_spawn_def (&paced_def, NULL, &probe, NULL);
  kaa_test_drain (f->context);
  kaa_in_progress_pause (ip);
  kaa_in_progress_finish_int64 (awaited, 9);
  kaa_test_pump_for (4 * INTERVAL_MS);
  g_assert_cmpuint (probe.slices, ==, 0);

  kaa_in_progress_resume (ip);
  g_assert_true (kaa_in_progress_wait (ip, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (probe.slices, ==, 2);
  g_assert_cmpint (probe.result, ==, 9);
  g_assert_cmpuint (probe.cleanups, ==, 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_bug_base ("issue #");

  KAA_TEST_ADD ("cancel-leaves-loop-idle", test_cancel_leaves_loop_idle);
  KAA_TEST_ADD ("held-wake-resumed", test_held_wake_resumed);
  KAA_TEST_ADD ("held-wake-cancelled", test_held_wake_cancelled);
  KAA_TEST_ADD ("cancel-from-own-stack", test_cancel_from_own_stack);
  KAA_TEST_ADD ("interval-await-paused", test_interval_await_paused);
  return g_test_run ();
}
