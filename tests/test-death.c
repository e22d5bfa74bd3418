/* test-death.c: what lives outside the queues when its context dies
 * (issue #17 §1)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A context that dies settles everything of it CANCELLED, also what was
 * paused (a frozen timer is in no heap), a SYNCHRONIZED call queued
 * behind a call of another context (it is in no queue of the context),
 * and the GIO bridges, which a GSource or a signal handler settles.
 * Afterwards the pauses still balance: nobody owns the context any more,
 * so any thread may resume, and the resume only counts.
 */
#include "config.h"

#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "death"

static void
ticker_body (KaaCoroutine *co,
             gpointer      data)
{
  g_auto(KaaTestFinally) cleanup = { data };

  while (kaa_yield ())
    ;
}

static const KaaCoroutineDef ticker_def = {
  .name = "ticker",
  .func = ticker_body,
  .interval = 50,
};

static void
assert_resumes_balance (KaaInProgress *ip)
{
  g_assert_true (kaa_in_progress_is_paused (ip));
  kaa_in_progress_resume (ip);
  g_assert_false (kaa_in_progress_is_paused (ip));
}

static void
test_paused_timers (Fixture       *f,
                    gconstpointer  data)
{
  gint cleaned = 0;
  KaaInProgress *input = kaa_in_progress_new ();
  KaaInProgress *sleep = kaa_sleep (60000);
  KaaInProgress *timeout = kaa_timeout (kaa_in_progress_ref (input), 60000, TRUE);
  KaaInProgress *ticker = kaa_coroutine_spawn_def (&ticker_def, NULL, &cleaned, NULL);

  g_test_summary ("DESIGN §3, §6: a paused sleep, a paused timeout and a paused interval "
                  "coroutine (their timers frozen, out of the heap) settle CANCELLED when "
                  "their context dies; the thread that paused them resumes them afterwards "
                  "without a critical");
  g_test_bug ("17");
  kaa_test_pump_for (60);   /* the ticker is between two slots */
  kaa_in_progress_pause (sleep);
  kaa_in_progress_pause (timeout);
  kaa_in_progress_pause (ticker);
  g_assert_true (kaa_in_progress_is_paused (input));

  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (sleep), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (timeout), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (input), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (ticker), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (cleaned, ==, 1);

  assert_resumes_balance (sleep);
  assert_resumes_balance (timeout);
  assert_resumes_balance (ticker);
  g_assert_false (kaa_in_progress_is_paused (input));
  kaa_in_progress_unref (input);
  kaa_in_progress_unref (sleep);
  kaa_in_progress_unref (timeout);
  kaa_in_progress_unref (ticker);
}

static gpointer
pause_twice_resume_twice (gpointer data)
{
  KaaInProgress *ip = data;

  kaa_in_progress_pause (ip);
  kaa_in_progress_pause (ip);
  kaa_in_progress_resume (ip);
  g_assert_true (kaa_in_progress_is_paused (ip));
  kaa_in_progress_resume (ip);
  return NULL;
}

static gboolean
step_forever (KaaInProgress *ip,
              gpointer       data)
{
  return TRUE;
}

static void
count_destroy (gpointer data)
{
  g_atomic_int_inc ((gint *) data);
}

static void
test_paused_coiterate (Fixture       *f,
                       gconstpointer  data)
{
  gint destroyed = 0;
  KaaInProgress *task = kaa_coiterate (step_forever, &destroyed, count_destroy);

  g_test_summary ("DESIGN §3, §6: a coiterate task paused with its step held, in no "
                  "queue, settles CANCELLED when its context dies, its data destroyed");
  g_test_bug ("17");
  kaa_in_progress_pause (task);
  kaa_test_drain (f->context);
  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (task), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (destroyed, ==, 1);
  kaa_in_progress_resume (task);
  kaa_in_progress_unref (task);
}

static void
test_pause_after_death (Fixture       *f,
                        gconstpointer  data)
{
  KaaInProgress *sleep = kaa_sleep (60000);
  GThread *threads[4];

  g_test_summary ("DESIGN §6: once its context is gone, any thread may pause and resume "
                  "what was of it, which only counts; an unbalanced resume stays a critical");
  g_test_bug ("17");
  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (sleep), ==, KAA_STATE_CANCELLED);

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("pauser", pause_twice_resume_twice, sleep);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_false (kaa_in_progress_is_paused (sleep));

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*is not paused*");
  kaa_in_progress_resume (sleep);
  g_test_assert_expected_messages ();
  g_assert_false (kaa_in_progress_is_paused (sleep));
  kaa_in_progress_unref (sleep);
}

static gpointer
finish_on_worker (gpointer data)
{
  kaa_in_progress_finish_int64 (data, 5);
  return NULL;
}

static void
test_link_pause_balances (Fixture       *f,
                          gconstpointer  data)
{
  GMainContext *main_context = g_main_context_default ();
  KaaInProgress *input = kaa_in_progress_new ();
  KaaInProgress *inputs[] = { kaa_in_progress_ref (input), kaa_in_progress_ref (input) };
  KaaInProgress *all;
  GError *error = NULL;

  g_test_summary ("DESIGN §6: a group of a living context paused its input, whose context "
                  "dies; a worker finishes the input afterwards, the group settles there "
                  "and takes its pause of the input back");
  g_test_bug ("17");
  g_main_context_iteration (f->context, FALSE);   /* this thread runs it: owns the input */
  g_main_context_pop_thread_default (f->context);
  all = kaa_all (inputs, G_N_ELEMENTS (inputs));
  g_main_context_push_thread_default (f->context);
  kaa_in_progress_pause (all);
  g_assert_true (kaa_in_progress_is_paused (input));
  kaa_test_fixture_kill_context (f);
  g_assert_false (kaa_in_progress_is_done (input));   /* made by hand: settled by hand */

  g_thread_join (g_thread_new ("finisher", finish_on_worker, input));
  g_assert_true (kaa_in_progress_is_done (all));
  g_assert_true (kaa_in_progress_propagate (all, &error));
  g_assert_no_error (error);
  g_assert_false (kaa_in_progress_is_paused (input));
  kaa_in_progress_resume (all);
  kaa_test_drain (main_context);
  kaa_in_progress_unref (all);
  kaa_in_progress_unref (input);
}

static void
test_groups_die (Fixture       *f,
                 gconstpointer  data)
{
  GMainContext *main_context = g_main_context_default ();
  KaaInProgress *shared, *alone, *other, *dying_all, *dying_any, *follower;
  KaaInProgress *all_inputs[2], *any_inputs[1];

  g_test_summary ("DESIGN §3, §6: a group and a follower of a dying context over inputs "
                  "of a living one settle CANCELLED with it; an input they alone awaited is "
                  "cancelled, one that something else awaits goes on");
  g_test_bug ("17");
  g_main_context_pop_thread_default (f->context);
  shared = kaa_in_progress_new ();
  alone = kaa_in_progress_new ();
  any_inputs[0] = kaa_in_progress_ref (shared);
  other = kaa_any (any_inputs, 1);
  g_main_context_push_thread_default (f->context);
  all_inputs[0] = kaa_in_progress_ref (shared);
  all_inputs[1] = kaa_in_progress_ref (alone);
  dying_all = kaa_all (all_inputs, 2);
  follower = kaa_in_progress_new ();
  kaa_in_progress_finish_from (follower, kaa_sleep (60000));
  dying_any = kaa_any_success (&(KaaInProgress *) { kaa_in_progress_ref (dying_all) }, 1);

  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (dying_all), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (dying_any), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (follower), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (alone), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (shared), ==, KAA_STATE_PENDING);
  kaa_in_progress_finish_int64 (shared, 3);
  kaa_test_pump_until_done (main_context, other);
  g_assert_cmpint (kaa_in_progress_get_state (other), ==, KAA_STATE_FINISHED);
  kaa_test_drain (main_context);

  kaa_in_progress_unref (shared);
  kaa_in_progress_unref (alone);
  kaa_in_progress_unref (other);
  kaa_in_progress_unref (dying_all);
  kaa_in_progress_unref (dying_any);
  kaa_in_progress_unref (follower);
}

static void
waiter_body (KaaCoroutine *co,
             gpointer      data)
{
  KaaInProgress *never = data;

  if (never != NULL)
    kaa_await (kaa_in_progress_ref (never), NULL);
  kaa_coroutine_return_int64 (co, 7);
}

static const KaaCoroutineDef synchronized_def = {
  .name = "synchronized-death",
  .func = waiter_body,
  .policy = KAA_POLICY_SYNCHRONIZED,
};

static void
test_synchronized_running (Fixture       *f,
                           gconstpointer  data)
{
  GMainContext *main_context = g_main_context_default ();
  KaaInProgress *never = kaa_in_progress_new ();
  KaaInProgress *first = kaa_coroutine_spawn_def (&synchronized_def, NULL, never, NULL);
  KaaInProgress *second;

  g_test_summary ("DESIGN §3, §4: a running SYNCHRONIZED call whose context dies settles "
                  "CANCELLED and the queue moves on: the next call, on another context, runs");
  g_test_bug ("17");
  g_main_context_pop_thread_default (f->context);
  second = kaa_coroutine_spawn_def (&synchronized_def, NULL, NULL, NULL);
  g_main_context_push_thread_default (f->context);
  g_assert_false (kaa_in_progress_is_done (second));

  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (first), ==, KAA_STATE_CANCELLED);
  kaa_test_pump_until_done (main_context, second);
  g_assert_cmpint (kaa_in_progress_get_int64 (second), ==, 7);
  kaa_test_drain (main_context);

  kaa_in_progress_unref (never);
  kaa_in_progress_unref (first);
  kaa_in_progress_unref (second);
}

static void
test_synchronized_queued (Fixture       *f,
                          gconstpointer  data)
{
  GMainContext *main_context = g_main_context_default ();
  KaaInProgress *never, *running, *queued, *later;
  gint freed = 0;

  g_test_summary ("DESIGN §3, §4: a SYNCHRONIZED call queued behind a call of a living "
                  "context settles CANCELLED when its own context dies, its data freed; "
                  "the queue goes on");
  g_test_bug ("17");
  g_main_context_pop_thread_default (f->context);
  never = kaa_in_progress_new ();
  running = kaa_coroutine_spawn_def (&synchronized_def, NULL, never, NULL);
  g_main_context_push_thread_default (f->context);
  queued = kaa_coroutine_spawn_def (&synchronized_def, NULL, &freed, count_destroy);
  g_assert_false (kaa_in_progress_is_done (queued));

  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (queued), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (freed, ==, 1);

  later = kaa_coroutine_spawn_def (&synchronized_def, NULL, NULL, NULL);
  g_assert_false (kaa_in_progress_is_done (later));
  kaa_in_progress_finish_int64 (never, 0);
  kaa_test_pump_until_done (main_context, later);
  g_assert_cmpint (kaa_in_progress_get_int64 (running), ==, 7);
  g_assert_cmpint (kaa_in_progress_get_int64 (later), ==, 7);
  kaa_test_drain (main_context);

  kaa_in_progress_unref (never);
  kaa_in_progress_unref (running);
  kaa_in_progress_unref (queued);
  kaa_in_progress_unref (later);
}

static void
test_bridges (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GCancellable) object = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                            G_SOCKET_PROTOCOL_UDP, &error);
  KaaInProgress *waits[6];
  int fds[2];

  g_test_summary ("DESIGN §3, §7: an fd, socket, child, Unix-signal and GObject-signal "
                  "wait, one of them paused, settle CANCELLED when their context dies; "
                  "what comes afterwards (the fd ready, the signal emitted) changes nothing");
  g_test_bug ("17");
  g_assert_no_error (error);
  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  waits[0] = kaa_io_wait (fds[0], G_IO_IN);
  waits[1] = kaa_socket_wait (socket, G_IO_IN);
  waits[2] = kaa_child_wait (getpid () + 1000000);
  waits[3] = kaa_unix_signal (SIGUSR2);
  waits[4] = kaa_in_progress_new_for_signal (object, "cancelled");
  waits[5] = kaa_io_wait (fds[0], G_IO_IN);
  kaa_in_progress_pause (waits[5]);
  kaa_test_drain (f->context);

  kaa_test_fixture_kill_context (f);
  for (guint i = 0; i < G_N_ELEMENTS (waits); i++)
    g_assert_cmpint (kaa_in_progress_get_state (waits[i]), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);
  g_cancellable_cancel (object);
  kaa_in_progress_resume (waits[5]);
  for (guint i = 0; i < G_N_ELEMENTS (waits); i++)
    {
      g_assert_cmpint (kaa_in_progress_get_state (waits[i]), ==, KAA_STATE_CANCELLED);
      kaa_in_progress_unref (waits[i]);
    }
  close (fds[0]);
  close (fds[1]);
}

#define RACES 300

static gpointer
unref_soon (gpointer data)
{
  g_usleep (g_random_int_range (0, 50));
  kaa_in_progress_unref (data);
  return NULL;
}

static void
test_bridge_release_races_death (Fixture       *f,
                                 gconstpointer  data)
{
  int fds[2];

  g_test_summary ("DESIGN §7: the last reference to a wait goes on a worker while its "
                  "context dies on this thread: the wait is settled or released once, "
                  "nothing is touched after it is freed, nothing leaks");
  g_test_bug ("17");
  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);   /* ready: the source may fire too */
  kaa_test_fixture_kill_context (f);
  for (guint i = 0; i < RACES; i++)
    {
      GMainContext *context = g_main_context_new ();
      GThread *worker;

      g_main_context_push_thread_default (context);
      worker = g_thread_new ("unref", unref_soon, kaa_io_wait (fds[0], G_IO_IN));
      g_main_context_iteration (context, FALSE);
      g_main_context_pop_thread_default (context);
      g_main_context_unref (context);
      g_thread_join (worker);
    }
  close (fds[0]);
  close (fds[1]);
}

typedef struct
{
  gint      cancels;    /* atomic */
  gint      destroys;   /* atomic */
  GThread  *cancelled_on;
} UserWork;

static void
user_cancel (KaaInProgress *ip,
             gpointer       data)
{
  UserWork *work = data;

  work->cancelled_on = g_thread_self ();
  g_atomic_int_inc (&work->cancels);
}

static void
user_destroy (gpointer data)
{
  g_atomic_int_inc (&((UserWork *) data)->destroys);
}

static const KaaProducerFuncs user_funcs = { .cancel = user_cancel };

static void
test_user_producer (Fixture       *f,
                    gconstpointer  data)
{
  UserWork work = { 0 };
  KaaInProgress *ip = kaa_in_progress_new_full (&user_funcs, &work, user_destroy);

  g_test_summary ("DESIGN §2, §3: an InProgress of the user's own producer is cancelled "
                  "when its context dies: its cancel hook runs once, on the thread that "
                  "drops the context, then its destroy notify");
  g_test_bug ("17");
  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (work.cancels, ==, 1);
  g_assert_true (work.cancelled_on == g_thread_self ());
  g_assert_cmpint (work.destroys, ==, 1);
  kaa_in_progress_unref (ip);
  g_assert_cmpint (work.destroys, ==, 1);
}

static gpointer
finish_soon (gpointer data)
{
  g_usleep (g_random_int_range (0, 50));
  kaa_in_progress_finish_int64 (data, 1);
  kaa_in_progress_unref (data);
  return NULL;
}

static void
test_user_producer_races_death (Fixture       *f,
                                gconstpointer  data)
{
  guint finished = 0;

  g_test_summary ("DESIGN §2, §3: a worker finishes a user producer's InProgress while "
                  "its context dies: it settles once, either way, its cancel hook runs "
                  "only if it was cancelled, and its destroy notify runs once");
  g_test_bug ("17");
  kaa_test_fixture_kill_context (f);
  for (guint i = 0; i < RACES; i++)
    {
      GMainContext *context = g_main_context_new ();
      UserWork work = { 0 };
      KaaInProgress *ip;
      GThread *worker;

      g_main_context_push_thread_default (context);
      ip = kaa_in_progress_new_full (&user_funcs, &work, user_destroy);
      worker = g_thread_new ("finish", finish_soon, kaa_in_progress_ref (ip));
      g_main_context_pop_thread_default (context);
      if (i % 2 == 1)
        g_usleep (g_random_int_range (0, 200));
      g_main_context_unref (context);
      g_thread_join (worker);
      if (kaa_in_progress_get_state (ip) == KAA_STATE_FINISHED)
        {
          finished++;
          g_assert_cmpint (work.cancels, ==, 0);
        }
      else
        {
          g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
          g_assert_cmpint (work.cancels, ==, 1);
        }
      g_assert_cmpint (work.destroys, ==, 1);
      kaa_in_progress_unref (ip);
    }
  g_test_message ("%u of %u finished before the death", finished, RACES);
}

static void
sleeper_body (KaaCoroutine *co,
              gpointer      data)
{
  g_auto(KaaTestFinally) cleanup = { data };

  kaa_await (kaa_sleep (60000), NULL);
}

/* Runs in the sweep of the dying context: a context of its own, with a
 * coroutine on it, dies in turn; then a coroutine spawned without a push
 * goes with the dying context before it begins. */
static void
nesting_body (KaaCoroutine *co,
              gpointer      data)
{
  gint *cleaned = data;
  GMainContext *inner;
  KaaInProgress *nested, *stray;

  if (kaa_await (kaa_sleep (60000), NULL))
    return;
  inner = g_main_context_new ();
  g_main_context_push_thread_default (inner);
  nested = kaa_coroutine_spawn (sleeper_body, cleaned, NULL);
  g_main_context_pop_thread_default (inner);
  g_assert_true (kaa_in_progress_get_context (nested) == inner);
  g_main_context_unref (inner);
  g_assert_cmpint (kaa_in_progress_get_state (nested), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_unref (nested);

  stray = kaa_coroutine_spawn (sleeper_body, cleaned, NULL);
  g_assert_true (kaa_in_progress_get_context (stray) ==
                 kaa_in_progress_get_context (kaa_coroutine_get_in_progress (co)));
  g_assert_cmpint (kaa_in_progress_get_state (stray), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_unref (stray);
}

static void
test_nested_death (Fixture       *f,
                   gconstpointer  data)
{
  gint cleaned = 0;
  KaaInProgress *ip = kaa_coroutine_spawn (nesting_body, &cleaned, NULL);

  g_test_summary ("DESIGN §3: a cleanup that runs in the sweep of a dying context makes "
                  "work on a context it pushed, which is that context's (and dies with "
                  "it there), and spawns without a push, which goes with the dying one "
                  "before its body begins");
  g_test_bug ("17");
  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (cleaned, ==, 1);
  kaa_in_progress_unref (ip);
}

/* ------------------------------------------------------ slices in sweep */

typedef struct
{
  GPtrArray     *tasks;      /* the InProgresses of the tasks cleanups started */
  KaaInProgress *awaited;    /* finished just before the context dies */
  guint          steps;      /* steps any of those tasks ran: none may */
  guint          destroyed;  /* their data freed */
  gint           cleaned;
} Late;

static gboolean
late_step (KaaInProgress *self,
           gpointer       data)
{
  ((Late *) data)->steps++;
  return TRUE;
}

static void
late_destroy (gpointer data)
{
  ((Late *) data)->destroyed++;
}

/* Unwinding in the sweep: a cleanup that queues a time slice (starts a
 * task) and yields once more. */
static void
late_unwind (Late *late)
{
  g_ptr_array_add (late->tasks, kaa_coiterate (late_step, late, late_destroy));
  g_assert_false (kaa_yield ());
}

static void
late_yielder_body (KaaCoroutine *co,
                   gpointer      data)
{
  Late *late = data;
  g_auto(KaaTestFinally) cleanup = { &late->cleaned };

  while (kaa_yield ())
    ;
  late_unwind (late);
}

static void
late_awaiter_body (KaaCoroutine *co,
                   gpointer      data)
{
  Late *late = data;
  g_auto(KaaTestFinally) cleanup = { &late->cleaned };

  /* Its wake-up is queued when the context dies: the sweep discards it
   * before the time slices, while their source is still attached. */
  if (kaa_await_borrowed (late->awaited, NULL))
    return;
  late_unwind (late);
}

static void
test_slices_in_sweep (Fixture       *f,
                      gconstpointer  data)
{
  enum { N_YIELDERS = 5, N_AWAITERS = 3 };
  Late late = { g_ptr_array_new_with_free_func ((GDestroyNotify) kaa_in_progress_unref),
                kaa_in_progress_new () };
  KaaInProgress *ips[N_YIELDERS + N_AWAITERS];

  g_test_summary ("DESIGN §3: cleanups run by the sweep of a dying context queue time "
                  "slices, before and after the sweep takes the queued ones, while "
                  "coroutines yield there: no slice runs, each task settles CANCELLED "
                  "and frees its data, every coroutine unwinds");
  for (guint i = 0; i < N_YIELDERS + N_AWAITERS; i++)
    ips[i] = kaa_coroutine_spawn (i < N_YIELDERS ? late_yielder_body : late_awaiter_body,
                                  &late, NULL);
  /* Two rounds of yields: the slices' source is attached and busy. */
  g_main_context_iteration (f->context, FALSE);
  g_main_context_iteration (f->context, FALSE);
  kaa_in_progress_finish_pointer (late.awaited, NULL, NULL);

  kaa_test_fixture_kill_context (f);
  for (guint i = 0; i < N_YIELDERS + N_AWAITERS; i++)
    {
      g_assert_cmpint (kaa_in_progress_get_state (ips[i]), ==, KAA_STATE_CANCELLED);
      kaa_in_progress_unref (ips[i]);
    }
  g_assert_cmpint (late.cleaned, ==, N_YIELDERS + N_AWAITERS);
  g_assert_cmpuint (late.tasks->len, ==, N_YIELDERS + N_AWAITERS);
  for (guint i = 0; i < late.tasks->len; i++)
    g_assert_cmpint (kaa_in_progress_get_state (g_ptr_array_index (late.tasks, i)), ==,
                     KAA_STATE_CANCELLED);
  g_assert_cmpuint (late.steps, ==, 0);
  g_assert_cmpuint (late.destroyed, ==, N_YIELDERS + N_AWAITERS);
  g_ptr_array_unref (late.tasks);
  kaa_in_progress_unref (late.awaited);
}

/* ------------------------------------------- the thread's API in a sweep */

typedef struct
{
  gint64         budget_seen;
  gboolean       idle_ran;
  KaaInProgress *main_nap;    /* on the global default context */
  gboolean       waited;
} InSweep;

static gboolean
mark_idle (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs in the sweep of the dying context, on a thread whose
 * thread-default context is the global default one again. */
static void
use_main_api (KaaInProgress *ip,
              gpointer       data)
{
  InSweep *in = data;

  kaa_main_set_budget (1234);
  in->budget_seen = kaa_main_get_budget ();
  g_idle_add (mark_idle, &in->idle_ran);
  while (!in->idle_ran && kaa_main_step (FALSE))
    ;
}

static void
test_main_api_in_sweep (Fixture       *f,
                        gconstpointer  data)
{
  InSweep in = { 0 };
  KaaInProgress *nap = kaa_sleep (60000);
  gint64 budget;

  g_main_context_push_thread_default (g_main_context_default ());
  budget = kaa_main_get_budget ();
  g_main_context_pop_thread_default (g_main_context_default ());

  g_test_summary ("kaa_main_set_budget(), _get_budget() and _step() called by a callback "
                  "in the sweep of a dying context act on the calling thread's "
                  "thread-default context, not on the dying one");
  g_assert_cmpint (budget, !=, 1234);
  kaa_in_progress_connect (nap, use_main_api, &in, NULL);
  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (nap), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (in.budget_seen, ==, 1234);
  g_assert_cmpint (kaa_main_get_budget (), ==, 1234);
  g_assert_true (in.idle_ran);
  kaa_main_set_budget (budget);
  kaa_in_progress_unref (nap);
}

typedef struct
{
  guint    ticks;
  guint    failures;
  gboolean stop;
} Ticks;

static void
napping_body (KaaCoroutine *co,
              gpointer      data)
{
  Ticks *ticks = data;

  while (!ticks->stop)
    {
      if (kaa_await (kaa_sleep (1), NULL))
        ticks->ticks++;
      else
        ticks->failures++;
    }
}

static void
wait_on_main (KaaInProgress *ip,
              gpointer       data)
{
  InSweep *in = data;

  in->waited = kaa_in_progress_wait (in->main_nap, NULL);
}

static void
test_nested_wait_in_sweep (Fixture       *f,
                           gconstpointer  data)
{
  InSweep in = { 0 };
  Ticks ticks = { 0 };
  KaaInProgress *nap = kaa_sleep (60000);
  KaaInProgress *napper;

  g_test_summary ("A callback in the sweep of a dying context that waits, iterating the "
                  "global default context, leaves that context's work its own: a "
                  "coroutine there keeps sleeping there, and nothing of it is cancelled");
  g_main_context_push_thread_default (g_main_context_default ());
  napper = kaa_coroutine_spawn (napping_body, &ticks, NULL);
  in.main_nap = kaa_sleep (30);
  g_main_context_pop_thread_default (g_main_context_default ());

  kaa_in_progress_connect (nap, wait_on_main, &in, NULL);
  kaa_test_fixture_kill_context (f);
  g_assert_true (in.waited);
  g_assert_cmpuint (ticks.failures, ==, 0);
  g_assert_cmpuint (ticks.ticks, >=, 2);

  ticks.stop = TRUE;
  kaa_test_pump_until_done (g_main_context_default (), napper);
  g_assert_cmpuint (ticks.failures, ==, 0);
  kaa_in_progress_unref (napper);
  kaa_in_progress_unref (in.main_nap);
  kaa_in_progress_unref (nap);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("paused-timers", test_paused_timers);
  KAA_TEST_ADD ("paused-coiterate", test_paused_coiterate);
  KAA_TEST_ADD ("slices-in-sweep", test_slices_in_sweep);
  KAA_TEST_ADD ("pause-after-death", test_pause_after_death);
  KAA_TEST_ADD ("link-pause-balances", test_link_pause_balances);
  KAA_TEST_ADD ("groups-die", test_groups_die);
  KAA_TEST_ADD ("synchronized-running", test_synchronized_running);
  KAA_TEST_ADD ("synchronized-queued", test_synchronized_queued);
  KAA_TEST_ADD ("bridges", test_bridges);
  KAA_TEST_ADD ("bridge-release-races-death", test_bridge_release_races_death);
  KAA_TEST_ADD ("nested-death", test_nested_death);
  KAA_TEST_ADD ("user-producer", test_user_producer);
  KAA_TEST_ADD ("user-producer-races-death", test_user_producer_races_death);
  KAA_TEST_ADD ("main-api-in-sweep", test_main_api_in_sweep);
  KAA_TEST_ADD ("nested-wait-in-sweep", test_nested_wait_in_sweep);

  return g_test_run ();
}
