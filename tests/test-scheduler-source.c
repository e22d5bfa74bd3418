/* test-scheduler-source.c: the scheduler's GSource and the slices' one
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Issue #20 made the scheduler's prepare a leaf for the idle case (the
 * same runner as before, nothing queued, polled for or armed) and its
 * other cases out of line, and the slices' dispatch read the clock only
 * for more than one slice. These tests try to break that: each case
 * prepare must not miss (a push from a foreign dispatch, a timer armed
 * outside any dispatch, a new runner thread, a poll for a remote push,
 * pushes racing from several threads), a dispatch of many slices, nested
 * iterations, and a context dying with work of every kind queued.
 *
 * A blocking iteration that should return at once is guarded by the
 * test watchdog (KAA_TEST_WATCHDOG_SEC): if prepare missed the work, the
 * iteration sleeps and the watchdog fails the test.
 */
#include "config.h"

#include <string.h>

#include "kaa-test-util.h"
#include "kaa-scheduler-private.h"

#define KAA_TEST_AREA "scheduler-source"

/* A runnable that counts its runs and discards, and where it ran. */
typedef struct
{
  KaaRunnable  runnable;   /* first */
  gint         runs;       /* atomic */
  gint         discards;   /* atomic */
  GThread     *thread;
} Item;

static void
item_run (KaaRunnable *runnable,
          gboolean     discard)
{
  Item *item = (Item *) runnable;

  if (discard)
    {
      g_atomic_int_inc (&item->discards);
      return;
    }
  item->thread = g_thread_self ();
  g_atomic_int_inc (&item->runs);
}

static void
item_init (Item *item)
{
  item->runnable.next = NULL;
  item->runnable.run = item_run;
  item->runs = item->discards = 0;
  item->thread = NULL;
}

typedef struct
{
  KaaTimer timer;   /* first */
  gint     fired;
  gint     discarded;
  gint64   at;
} Timer;

static void
timer_fire (KaaTimer *timer,
            gboolean  discard)
{
  Timer *t = (Timer *) timer;

  if (discard)
    t->discarded++;
  else
    {
      t->fired++;
      t->at = g_get_monotonic_time ();
    }
}

static void
timer_init (Timer *t)
{
  memset (t, 0, sizeof *t);
  t->timer.fire = timer_fire;
}

static guint
attach_idle (GMainContext *context,
             GSourceFunc   func,
             gpointer      data)
{
  GSource *idle = g_idle_source_new ();
  guint id;

  g_source_set_callback (idle, func, data, NULL);
  id = g_source_attach (idle, context);
  g_source_unref (idle);
  return id;
}

/* ------------------------------------------------- foreign dispatch */

typedef struct
{
  KaaScheduler *scheduler;
  Item          item;
} Push;

static gboolean
idle_push (gpointer data)
{
  Push *push = data;

  kaa_scheduler_push (push->scheduler, &push->item.runnable);
  return G_SOURCE_REMOVE;
}

static void
test_foreign_push (KaaTestFixture *f,
                   gconstpointer   data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "the run of a runnable pushed from an idle");
  Push push = { kaa_scheduler_get_thread_default () };

  g_test_summary ("Issue #20: a runnable pushed from another source's dispatch (a plain "
                  "idle) runs in the next iteration, which does not sleep first");

  /* Twice: once with the runner not yet known, once with it known. */
  for (guint round = 0; round < 2; round++)
    {
      item_init (&push.item);
      attach_idle (f->context, idle_push, &push);
      g_assert_true (g_main_context_iteration (f->context, TRUE));
      g_assert_cmpint (push.item.runs, ==, 0);
      /* Blocking: if prepare missed the queued runnable, this sleeps
       * until the watchdog. */
      g_assert_true (g_main_context_iteration (f->context, TRUE));
      g_assert_cmpint (push.item.runs, ==, 1);
      g_assert_true (push.item.thread == g_thread_self ());
    }
  kaa_test_watchdog_free (watchdog);
}

/* ------------------------------------------------------------ timers */

typedef struct
{
  KaaScheduler *scheduler;
  Timer         timer;
  gint64        deadline;
} Arm;

static gboolean
idle_arm (gpointer data)
{
  Arm *arm = data;

  arm->deadline = g_get_monotonic_time () + 20 * 1000;
  kaa_scheduler_add_timer (arm->scheduler, &arm->timer.timer, arm->deadline);
  return G_SOURCE_REMOVE;
}

static void
test_timer_from_idle (KaaTestFixture *f,
                      gconstpointer   data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "a timer armed from an idle");
  Arm arm = { kaa_scheduler_get_thread_default () };

  g_test_summary ("Issue #20: a timer armed from another source's dispatch wakes the "
                  "blocking iterations that follow when due, not before, and the context "
                  "is quiet after it");

  timer_init (&arm.timer);
  attach_idle (f->context, idle_arm, &arm);
  g_assert_true (g_main_context_iteration (f->context, TRUE));
  while (arm.timer.fired == 0)
    g_main_context_iteration (f->context, TRUE);
  g_assert_cmpint (arm.timer.fired, ==, 1);
  g_assert_cmpint (arm.timer.at, >=, arm.deadline);
  kaa_test_watchdog_free (watchdog);
  g_assert_cmpint (kaa_test_next_wakeup_msec (f->context), ==, -1);
}

typedef struct
{
  KaaRunnable   runnable;   /* first */
  KaaScheduler *scheduler;
  Timer         keep;
  Timer         drop;
  Timer         again;      /* re-armed from its own fire, `rounds` times */
  guint         rounds;
} Juggle;

static void
again_fire (KaaTimer *timer,
            gboolean  discard)
{
  Juggle *juggle = G_STRUCT_MEMBER_P (timer, -G_STRUCT_OFFSET (Juggle, again));

  timer_fire (timer, discard);
  if (!discard && juggle->again.fired < (gint) juggle->rounds)
    kaa_scheduler_add_timer (juggle->scheduler, timer, g_get_monotonic_time () + 1000);
}

static void
juggle_run (KaaRunnable *runnable,
            gboolean     discard)
{
  Juggle *juggle = (Juggle *) runnable;
  gint64 now = g_get_monotonic_time ();

  g_assert_false (discard);
  /* Inside the scheduler's dispatch: one armed, one taken back, one
   * that re-arms itself from the timers' dispatch. */
  kaa_scheduler_add_timer (juggle->scheduler, &juggle->keep.timer, now + 30 * 1000);
  g_assert_true (kaa_scheduler_remove_timer (juggle->scheduler, &juggle->drop.timer));
  kaa_scheduler_add_timer (juggle->scheduler, &juggle->again.timer, now + 1000);
}

static void
test_timers_in_dispatch (KaaTestFixture *f,
                         gconstpointer   data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "timers armed from a dispatch");
  Juggle juggle = { { NULL, juggle_run }, kaa_scheduler_get_thread_default () };

  g_test_summary ("Issue #20: timers armed, re-armed and disarmed from inside the "
                  "scheduler's dispatch fire (or not) as armed last");

  timer_init (&juggle.keep);
  timer_init (&juggle.drop);
  timer_init (&juggle.again);
  juggle.again.timer.fire = again_fire;
  juggle.rounds = 5;
  kaa_scheduler_add_timer (juggle.scheduler, &juggle.drop.timer, g_get_monotonic_time () + 5 * 1000);
  kaa_scheduler_push (juggle.scheduler, &juggle.runnable);
  while (juggle.keep.fired == 0 || juggle.again.fired < (gint) juggle.rounds)
    g_main_context_iteration (f->context, TRUE);
  g_assert_cmpint (juggle.keep.fired, ==, 1);
  g_assert_cmpint (juggle.again.fired, ==, (gint) juggle.rounds);
  g_assert_cmpint (juggle.drop.fired, ==, 0);
  kaa_test_watchdog_free (watchdog);
  g_assert_cmpint (kaa_test_next_wakeup_msec (f->context), ==, -1);
}

/* ------------------------------------------------------- remote race */

#define RACE_THREADS 4
#define RACE_ITEMS   3000

typedef struct
{
  KaaScheduler *scheduler;
  Item         *items;      /* RACE_ITEMS of this thread */
} Racer;

static gpointer
racer_main (gpointer data)
{
  Racer *racer = data;

  for (guint i = 0; i < RACE_ITEMS; i++)
    {
      kaa_scheduler_push_remote (racer->scheduler, &racer->items[i].runnable);
      /* Bursts and gaps, so that pushes meet the owner asleep, polling
       * its inbox and dispatching. */
      if (g_random_int_range (0, 64) == 0)
        g_usleep (g_random_int_range (0, 200));
      else if (g_random_int_range (0, 4) == 0)
        g_thread_yield ();
    }
  return NULL;
}

static gint
count_runs (Item *items,
            guint n)
{
  gint runs = 0;

  for (guint i = 0; i < n; i++)
    runs += g_atomic_int_get (&items[i].runs);
  return runs;
}

static void
test_remote_race (KaaTestFixture *f,
                  gconstpointer   data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "the remote pushes");
  g_autofree Item *items = g_new0 (Item, RACE_THREADS * RACE_ITEMS);
  Racer racers[RACE_THREADS];
  GThread *threads[RACE_THREADS];
  Push local = { kaa_scheduler_get_thread_default () };
  gint local_runs = 0;
  gboolean local_pending = FALSE;
  const gint total = RACE_THREADS * RACE_ITEMS;

  g_test_summary ("Issue #20: remote pushes from several threads racing the owner's "
                  "prepare, dispatch and sleep, with owner pushes from a foreign "
                  "dispatch meanwhile, each run once on the owner; then the context "
                  "is quiet");

  for (gint i = 0; i < total; i++)
    item_init (&items[i]);
  /* Known runner first: half of the test is prepare's leaf. */
  g_main_context_iteration (f->context, FALSE);
  for (guint t = 0; t < RACE_THREADS; t++)
    {
      racers[t].scheduler = local.scheduler;
      racers[t].items = items + t * RACE_ITEMS;
      threads[t] = g_thread_new ("racer", racer_main, &racers[t]);
    }
  while (count_runs (items, total) < total)
    {
      /* Now and then a push from a plain idle: its runnable shares the
       * ready queue with what the inbox brings. */
      if (!local_pending && g_random_int_range (0, 16) == 0)
        {
          item_init (&local.item);
          attach_idle (f->context, idle_push, &local);
          local_pending = TRUE;
        }
      g_main_context_iteration (f->context, TRUE);
      if (local_pending && local.item.runs == 1)
        {
          local_runs++;
          local_pending = FALSE;
        }
    }
  for (guint t = 0; t < RACE_THREADS; t++)
    g_thread_join (threads[t]);
  kaa_test_drain (f->context);
  if (local_pending)
    g_assert_cmpint (local.item.runs, ==, 1);
  for (gint i = 0; i < total; i++)
    {
      g_assert_cmpint (items[i].runs, ==, 1);
      g_assert_cmpint (items[i].discards, ==, 0);
      g_assert_true (items[i].thread == g_thread_self ());
    }
  kaa_test_watchdog_free (watchdog);
  /* The last wake-up cleared: nothing makes the context dispatch again. */
  g_assert_false (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpint (kaa_test_next_wakeup_msec (f->context), ==, -1);
  g_test_message ("%d local pushes among the remote ones", local_runs);
}

/* ----------------------------------------------------- runner moves */

typedef struct
{
  GMainContext *context;
  KaaScheduler *scheduler;
  gboolean      owner_before;
  gboolean      owner_after;
} Mover;

static gpointer
mover_main (gpointer data)
{
  Mover *mover = data;

  mover->owner_before = kaa_scheduler_is_owner (mover->scheduler);
  /* One iteration with nothing to do: prepare's idle case but for the
   * thread, which is new. */
  g_main_context_iteration (mover->context, FALSE);
  mover->owner_after = kaa_scheduler_is_owner (mover->scheduler);
  return NULL;
}

static void
test_runner_moves (KaaTestFixture *f,
                   gconstpointer   data)
{
  KaaScheduler *scheduler = kaa_scheduler_ref (kaa_scheduler_get_thread_default ());
  Mover mover = { f->context, scheduler };

  g_test_summary ("Issue #20: the thread that iterates a context becomes its owner at "
                  "its first iteration, even one with nothing to do, and the thread that "
                  "iterated it before stops being one");

  g_main_context_iteration (f->context, FALSE);
  g_main_context_iteration (f->context, FALSE);
  /* No longer thread-default here: ownership is the runner's alone. */
  g_main_context_pop_thread_default (f->context);
  g_assert_true (kaa_scheduler_is_owner (scheduler));

  g_thread_join (g_thread_new ("mover", mover_main, &mover));
  g_assert_false (mover.owner_before);
  g_assert_true (mover.owner_after);
  g_assert_false (kaa_scheduler_is_owner (scheduler));

  /* And back, again through an idle iteration. */
  g_main_context_iteration (f->context, FALSE);
  g_assert_true (kaa_scheduler_is_owner (scheduler));
  g_main_context_push_thread_default (f->context);
  kaa_scheduler_unref (scheduler);
}

/* ------------------------------------------------- poll for remote */

typedef struct
{
  KaaScheduler *scheduler;
  Item          item;
  guint         delay_usec;
} Late;

static gpointer
late_main (gpointer data)
{
  Late *late = data;

  g_usleep (late->delay_usec);
  kaa_scheduler_push_remote (late->scheduler, &late->item.runnable);
  return NULL;
}

static void
test_poll_for_remote (KaaTestFixture *f,
                      gconstpointer   data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "a remote push while polling");
  Late late = { kaa_scheduler_get_thread_default () };
  gint64 deadline;
  GThread *thread;

  g_test_summary ("Issue #20: while a remote push is expected the owner polls its inbox "
                  "and finds the push that did not wake it; once the expectation ends, "
                  "a remote push wakes a sleeping owner again");

  g_main_context_iteration (f->context, FALSE);
  item_init (&late.item);
  late.delay_usec = 5 * 1000;
  deadline = g_get_monotonic_time () + 200 * 1000;
  kaa_scheduler_expect_remote (late.scheduler, deadline);
  thread = g_thread_new ("late", late_main, &late);
  while (g_atomic_int_get (&late.item.runs) == 0)
    g_main_context_iteration (f->context, TRUE);
  g_thread_join (thread);

  /* Past the expectation: the next pushes must wake the context. */
  while (g_get_monotonic_time () <= deadline)
    g_usleep (deadline - g_get_monotonic_time () + 1000);
  kaa_test_drain (f->context);
  for (guint round = 0; round < 3; round++)
    {
      item_init (&late.item);
      late.delay_usec = 10 * 1000;
      thread = g_thread_new ("late", late_main, &late);
      while (g_atomic_int_get (&late.item.runs) == 0)
        g_main_context_iteration (f->context, TRUE);
      g_thread_join (thread);
    }
  kaa_test_watchdog_free (watchdog);
  g_assert_false (g_main_context_iteration (f->context, FALSE));
}

/* ------------------------------------------------------------ slices */

#define N_SLICES 10

static void
test_slices_one_dispatch (KaaTestFixture *f,
                          gconstpointer   data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  Item items[N_SLICES];

  g_test_summary ("Issue #20: slices queued together run in one dispatch within the "
                  "budget, measured from the iteration's start; a lone slice runs too");

  for (guint i = 0; i < N_SLICES; i++)
    {
      item_init (&items[i]);
      kaa_scheduler_push_slice (scheduler, &items[i].runnable);
    }
  /* Trivial slices, a budget of 4 ms: one dispatch takes them all, but
   * only if the budget's start is the iteration's. */
  g_assert_true (g_main_context_iteration (f->context, FALSE));
  for (guint i = 0; i < N_SLICES; i++)
    g_assert_cmpint (items[i].runs, ==, 1);

  item_init (&items[0]);
  kaa_scheduler_push_slice (scheduler, &items[0].runnable);
  g_assert_true (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpint (items[0].runs, ==, 1);
  g_assert_false (g_main_context_iteration (f->context, FALSE));
}

/* A slice that pushes to the ready queue and iterates the context
 * (nested) until that runnable ran: the scheduler's source dispatches
 * inside the slices' one. */
typedef struct
{
  KaaRunnable   runnable;   /* first */
  GMainContext *context;
  KaaScheduler *scheduler;
  Item          ready;
  Item          slice;
  gboolean      done;
} Nester;

static void
nester_run (KaaRunnable *runnable,
            gboolean     discard)
{
  Nester *nester = (Nester *) runnable;

  g_assert_false (discard);
  kaa_scheduler_push (nester->scheduler, &nester->ready.runnable);
  kaa_scheduler_push_slice (nester->scheduler, &nester->slice.runnable);
  /* Blocking: prepare must see the ready runnable. */
  while (nester->ready.runs == 0)
    g_main_context_iteration (nester->context, TRUE);
  nester->done = TRUE;
}

static void
test_nested_in_slice (KaaTestFixture *f,
                      gconstpointer   data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "a nested iteration in a slice");
  Nester nester = { { NULL, nester_run }, f->context, kaa_scheduler_get_thread_default () };

  g_test_summary ("Issue #20: a slice that iterates the context runs what it pushed to the "
                  "ready queue in the nested iterations, and its own next slice after it");

  item_init (&nester.ready);
  item_init (&nester.slice);
  kaa_scheduler_push_slice (nester.scheduler, &nester.runnable);
  while (!nester.done || nester.slice.runs == 0)
    g_main_context_iteration (f->context, TRUE);
  g_assert_cmpint (nester.ready.runs, ==, 1);
  g_assert_cmpint (nester.slice.runs, ==, 1);
  kaa_test_watchdog_free (watchdog);
  g_assert_false (g_main_context_iteration (f->context, FALSE));
}

/* A lone slice that iterates the context (nested) with nothing else
 * queued: the slices' source, still attached, is dispatched inside its
 * own dispatch with an empty queue, and gives itself back. */
typedef struct
{
  KaaRunnable   runnable;   /* first */
  GMainContext *context;
  guint         runs;
  gboolean      nested_dispatched;
} LoneNester;

static void
lone_nester_run (KaaRunnable *runnable,
                 gboolean     discard)
{
  LoneNester *nester = (LoneNester *) runnable;

  g_assert_false (discard);
  nester->runs++;
  nester->nested_dispatched = g_main_context_iteration (nester->context, FALSE);
  /* Given back: nothing is left to dispatch. */
  g_assert_false (g_main_context_iteration (nester->context, FALSE));
}

static void
test_nested_in_lone_slice (KaaTestFixture *f,
                           gconstpointer   data)
{
  LoneNester nester = { { NULL, lone_nester_run }, f->context };
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();

  g_test_summary ("Issue #20: a lone slice that iterates the context, with nothing else "
                  "queued, gets its slices' source dispatched with an empty queue, which "
                  "runs nothing and gives the source back; a slice queued later still runs");

  kaa_scheduler_push_slice (scheduler, &nester.runnable);
  g_assert_true (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpuint (nester.runs, ==, 1);
  g_assert_true (nester.nested_dispatched);
  g_assert_false (g_main_context_iteration (f->context, FALSE));

  kaa_scheduler_push_slice (scheduler, &nester.runnable);
  g_assert_true (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpuint (nester.runs, ==, 2);
  g_assert_false (g_main_context_iteration (f->context, FALSE));
}

/* --------------------------------------------------- wait on owner */

static gpointer
finisher_main (gpointer data)
{
  KaaInProgress *ip = data;

  g_usleep (5 * 1000);
  kaa_in_progress_finish_int64 (ip, 42);
  kaa_in_progress_unref (ip);
  return NULL;
}

typedef struct
{
  KaaInProgress *ip;
  gboolean       waited;
  GThread       *finisher;
} Waiter;

static gboolean
idle_wait (gpointer data)
{
  Waiter *waiter = data;
  g_autoptr (GError) error = NULL;

  waiter->finisher = g_thread_new ("finisher", finisher_main, kaa_in_progress_ref (waiter->ip));
  waiter->waited = kaa_in_progress_wait (waiter->ip, &error);
  g_assert_no_error (error);
  return G_SOURCE_REMOVE;
}

static void
test_wait_on_owner (KaaTestFixture *f,
                    gconstpointer   data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "a wait on the owner thread");
  Waiter waiter = { kaa_in_progress_new () };

  g_test_summary ("Issue #20: kaa_in_progress_wait() from an idle on the owner thread "
                  "iterates the context (nested) until another thread finishes the "
                  "InProgress");

  attach_idle (f->context, idle_wait, &waiter);
  while (!waiter.waited)
    g_main_context_iteration (f->context, TRUE);
  g_assert_cmpint (kaa_in_progress_get_int64 (waiter.ip), ==, 42);
  /* Its reference dropped before the leak accounting. */
  g_thread_join (waiter.finisher);
  kaa_in_progress_unref (waiter.ip);
  kaa_test_watchdog_free (watchdog);
}

/* ------------------------------------------------------ dying context */

static gpointer
remote_main (gpointer data)
{
  Push *push = data;

  kaa_scheduler_push_remote (push->scheduler, &push->item.runnable);
  return NULL;
}

static void
test_context_dies_queued (KaaTestFixture *f,
                          gconstpointer   data)
{
  KaaScheduler *scheduler = kaa_scheduler_ref (kaa_scheduler_get_thread_default ());
  Push remote = { scheduler };
  Item ready, slice;
  Timer timer;

  g_test_summary ("Issue #20: a context that dies with a ready runnable, a slice, an "
                  "armed timer and an inbox push queued discards each once and runs none");

  /* A runner known, the slices' source attached once already. */
  item_init (&slice);
  kaa_scheduler_push_slice (scheduler, &slice.runnable);
  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpint (slice.runs, ==, 1);

  item_init (&ready);
  item_init (&slice);
  item_init (&remote.item);
  timer_init (&timer);
  kaa_scheduler_push (scheduler, &ready.runnable);
  kaa_scheduler_push_slice (scheduler, &slice.runnable);
  kaa_scheduler_add_timer (scheduler, &timer.timer, g_get_monotonic_time () + G_USEC_PER_SEC);
  g_thread_join (g_thread_new ("remote", remote_main, &remote));

  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (ready.runs + slice.runs + remote.item.runs + timer.fired, ==, 0);
  g_assert_cmpint (ready.discards, ==, 1);
  g_assert_cmpint (slice.discards, ==, 1);
  g_assert_cmpint (remote.item.discards, ==, 1);
  g_assert_cmpint (timer.discarded, ==, 1);
  kaa_scheduler_unref (scheduler);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("foreign-push", test_foreign_push);
  KAA_TEST_ADD ("timer-from-idle", test_timer_from_idle);
  KAA_TEST_ADD ("timers-in-dispatch", test_timers_in_dispatch);
  KAA_TEST_ADD ("remote-race", test_remote_race);
  KAA_TEST_ADD ("runner-moves", test_runner_moves);
  KAA_TEST_ADD ("poll-for-remote", test_poll_for_remote);
  KAA_TEST_ADD ("slices-one-dispatch", test_slices_one_dispatch);
  KAA_TEST_ADD ("nested-in-slice", test_nested_in_slice);
  KAA_TEST_ADD ("nested-in-lone-slice", test_nested_in_lone_slice);
  KAA_TEST_ADD ("wait-on-owner", test_wait_on_owner);
  KAA_TEST_ADD ("context-dies-queued", test_context_dies_queued);

  return g_test_run ();
}
