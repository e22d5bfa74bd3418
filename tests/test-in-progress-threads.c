/* test-in-progress-threads.c: KaaInProgress across threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The main test thread owns a private GMainContext, pushed as
 * thread-default, so every InProgress created here belongs to it. Worker
 * threads finish, fail, cancel, connect and wait; the checks are that
 * callbacks run on the owner thread only, that waits block or iterate as
 * documented, and that a free-for-all of eight threads over a shared pool
 * leaves every InProgress in exactly one final state with every callback
 * called once and nothing leaked (the race's harness is
 * tests/stress/kaa-race.c).
 */
#include "config.h"

#include "kaa-test-util.h"
#include "stress/kaa-race.h"
#include "kaa-scheduler-private.h"
#include "kaa-in-progress-private.h"


typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "in-progress-threads"

/* For a call that blocks the main thread outside any main loop: a
 * missed wake-up fails the test instead of hanging it. Atomics, not a
 * GMutex: TSan cannot see GLib's futex-based locks. */
typedef struct
{
  gint        disarmed;   /* atomic */
  const char *what;
  GThread    *thread;
} Alarm;

static gpointer
alarm_thread (gpointer data)
{
  Alarm *alarm = data;
  gint64 deadline = g_get_monotonic_time () + KAA_TEST_WATCHDOG_SEC * G_USEC_PER_SEC;

  while (!g_atomic_int_get (&alarm->disarmed))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("watchdog: %s did not happen within %d s", alarm->what, KAA_TEST_WATCHDOG_SEC);
      g_usleep (1000);
    }
  return NULL;
}

static Alarm *
alarm_new (const char *what)
{
  Alarm *alarm = g_new0 (Alarm, 1);

  alarm->what = what;
  alarm->thread = g_thread_new ("alarm", alarm_thread, alarm);
  return alarm;
}

static void
alarm_free (Alarm *alarm)
{
  g_atomic_int_set (&alarm->disarmed, TRUE);
  g_thread_join (alarm->thread);
  g_free (alarm);
}

/* ------------------------------------------------------------ callbacks */

/* One callback's record: which thread ran it and in which order. */
typedef struct
{
  GString *log;
  char     tag;
  gint     calls;       /* atomic */
  gint     destroys;    /* atomic */
  GThread *thread;
  KaaState state;
} Rec;

static void
rec_cb (KaaInProgress *self,
        gpointer       data)
{
  Rec *rec = data;

  rec->thread = g_thread_self ();
  rec->state = kaa_in_progress_get_state (self);
  if (rec->log != NULL)
    g_string_append_c (rec->log, rec->tag);
  g_atomic_int_inc (&rec->calls);
}

static void
rec_destroy (gpointer data)
{
  g_atomic_int_inc (&((Rec *) data)->destroys);
}

typedef struct
{
  KaaInProgress *ip;
  Rec           *rec;       /* to connect, or NULL */
  gint64         value;
  guint          delay_ms;  /* before acting */
  gint          *wait_for;  /* atomic flag to see set first, or NULL */
  gint           done;      /* atomic */
} Job;

static gpointer
finish_thread (gpointer data)
{
  Job *job = data;

  if (job->wait_for != NULL)
    kaa_test_spin_until (job->wait_for, TRUE);
  g_usleep (job->delay_ms * 1000);
  g_atomic_int_set (&job->done, TRUE);
  kaa_in_progress_finish_int64 (job->ip, job->value);
  return NULL;
}

static gpointer
connect_thread (gpointer data)
{
  Job *job = data;

  kaa_in_progress_connect (job->ip, rec_cb, job->rec, rec_destroy);
  return NULL;
}

static void
test_callbacks_on_owner (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) pending = kaa_in_progress_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  Rec a = { log, 'a' }, b = { log, 'b' }, c = { log, 'c' };
  Rec late = { log, 'L' }, remote = { log, 'R' };
  Job finish = { ip, NULL, 42 };
  Job connect_late = { ip, &late };
  Job connect_remote = { pending, &remote };
  Job finish_pending = { pending, NULL, 7 };
  GThread *worker;

  g_test_summary ("DESIGN §2: callbacks of an InProgress finished or connected on "
                  "another thread run on the owner context's thread, in connect "
                  "order, never on the worker");

  /*   main                           worker
   *   connect a, b, c
   *                                  finish (42): queues delivery
   *   (join: nothing ran yet)
   *   iterate: a, b, c on main */
  kaa_in_progress_connect (ip, rec_cb, &a, rec_destroy);
  kaa_in_progress_connect (ip, rec_cb, &b, rec_destroy);
  kaa_in_progress_connect (ip, rec_cb, &c, rec_destroy);
  worker = g_thread_new ("finisher", finish_thread, &finish);
  g_thread_join (worker);

  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  g_assert_cmpstr (log->str, ==, "");
  g_assert_true (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpstr (log->str, ==, "abc");
  for (Rec *r = &a; r != NULL; r = r == &a ? &b : r == &b ? &c : NULL)
    {
      g_assert_true (r->thread == g_thread_self ());
      g_assert_cmpint (r->state, ==, KAA_STATE_FINISHED);
      g_assert_cmpint (r->calls, ==, 1);
      g_assert_cmpint (r->destroys, ==, 1);
    }

  /* A late connect from a worker: delivered on main, not inside connect. */
  worker = g_thread_new ("connector", connect_thread, &connect_late);
  g_thread_join (worker);
  g_assert_cmpint (late.calls, ==, 0);
  g_assert_true (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpint (late.calls, ==, 1);
  g_assert_true (late.thread == g_thread_self ());

  /* Connected and finished by two different workers. */
  worker = g_thread_new ("connector", connect_thread, &connect_remote);
  g_thread_join (worker);
  worker = g_thread_new ("finisher", finish_thread, &finish_pending);
  g_thread_join (worker);
  g_assert_cmpint (remote.calls, ==, 0);
  g_assert_true (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpint (remote.calls, ==, 1);
  g_assert_true (remote.thread == g_thread_self ());
  g_assert_cmpint (remote.destroys, ==, 1);
  g_assert_cmpstr (log->str, ==, "abcLR");
}

static void
test_second_finish_from_thread (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  Job first = { ip, NULL, 1 };
  Job second = { ip, NULL, 2 };
  GThread *worker;

  g_test_summary ("DESIGN §2: a second finish, from any thread, is a critical and "
                  "leaves the first result in place");

  worker = g_thread_new ("finisher", finish_thread, &first);
  g_thread_join (worker);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*already done*");
  worker = g_thread_new ("finisher", finish_thread, &second);
  g_thread_join (worker);
  g_test_assert_expected_messages ();

  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 1);
}

/* ----------------------------------------------------------------- wait */

typedef struct
{
  KaaInProgress *ip;
  gint           waiting;       /* atomic: about to call wait */
  gint           returned;      /* atomic */
  gboolean       ok;
  GError        *error;
  gint          *settled_flag;  /* must be set when wait returns */
  gboolean       settled_first;
  gint64         value;
} Waiter;

static gpointer
wait_thread (gpointer data)
{
  Waiter *waiter = data;

  g_atomic_int_set (&waiter->waiting, TRUE);
  waiter->ok = kaa_in_progress_wait (waiter->ip, &waiter->error);
  waiter->settled_first = waiter->settled_flag == NULL ||
                          g_atomic_int_get (waiter->settled_flag);
  if (waiter->ok)
    waiter->value = kaa_in_progress_get_int64 (waiter->ip);
  g_atomic_int_set (&waiter->returned, TRUE);
  return NULL;
}

static gpointer
fail_thread (gpointer data)
{
  Job *job = data;

  kaa_test_spin_until (job->wait_for, TRUE);
  g_usleep (job->delay_ms * 1000);
  g_atomic_int_set (&job->done, TRUE);
  kaa_in_progress_fail_literal (job->ip, KAA_ERROR, KAA_ERROR_FAILED, "worker failed");
  return NULL;
}

static gpointer
cancel_thread (gpointer data)
{
  Job *job = data;

  if (job->wait_for != NULL)
    kaa_test_spin_until (job->wait_for, TRUE);
  g_usleep (job->delay_ms * 1000);
  kaa_in_progress_cancel (job->ip);
  g_atomic_int_set (&job->done, TRUE);
  return NULL;
}

static void
test_wait_blocking (Fixture       *f,
                    gconstpointer  data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "the cancel from another thread");
  g_autoptr(KaaInProgress) by_worker = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) by_owner = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) failed = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) cancelled = kaa_in_progress_new ();
  Waiter w1 = { by_worker }, w2 = { by_owner }, w3 = { failed }, w4 = { cancelled };
  Job finisher = { by_worker, NULL, 11, 20, &w1.waiting };
  Job failer = { failed, NULL, 0, 20, &w3.waiting };
  Job canceller = { cancelled, NULL, 0, 20, &w4.waiting };
  gint owner_finished = FALSE;
  GThread *t1, *t2, *t3, *t4;

  g_test_summary ("DESIGN §2: kaa_in_progress_wait () on a thread other than the "
                  "owner blocks until the InProgress is done, whoever settles it");

  /* Settled by a third thread; the owner is not involved. */
  w1.settled_flag = &finisher.done;
  t1 = g_thread_new ("waiter", wait_thread, &w1);
  t2 = g_thread_new ("finisher", finish_thread, &finisher);
  g_thread_join (t2);
  g_thread_join (t1);
  g_assert_true (w1.ok);
  g_assert_no_error (w1.error);
  g_assert_true (w1.settled_first);
  g_assert_cmpint (w1.value, ==, 11);

  /* Settled by the owner. */
  w2.settled_flag = &owner_finished;
  t1 = g_thread_new ("waiter", wait_thread, &w2);
  kaa_test_spin_until (&w2.waiting, TRUE);
  g_usleep (20 * 1000);
  g_assert_false (g_atomic_int_get (&w2.returned));
  g_atomic_int_set (&owner_finished, TRUE);
  kaa_in_progress_finish_int64 (by_owner, 22);
  g_thread_join (t1);
  g_assert_true (w2.ok);
  g_assert_true (w2.settled_first);
  g_assert_cmpint (w2.value, ==, 22);

  /* A failure comes back as the error. */
  w3.settled_flag = &failer.done;
  t1 = g_thread_new ("waiter", wait_thread, &w3);
  t3 = g_thread_new ("failer", fail_thread, &failer);
  g_thread_join (t3);
  g_thread_join (t1);
  g_assert_false (w3.ok);
  g_assert_true (w3.settled_first);
  g_assert_error (w3.error, KAA_ERROR, KAA_ERROR_FAILED);
  g_clear_error (&w3.error);

  /* A cancel from a third thread is carried out by the owner: the waiter
   * stays blocked until the owner context runs. */
  t1 = g_thread_new ("waiter", wait_thread, &w4);
  t4 = g_thread_new ("canceller", cancel_thread, &canceller);
  g_thread_join (t4);
  g_assert_false (g_atomic_int_get (&w4.returned));
  while (!kaa_in_progress_is_done (cancelled))
    g_main_context_iteration (f->context, TRUE);
  g_thread_join (t1);
  g_assert_false (w4.ok);
  g_assert_error (w4.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&w4.error);

  kaa_test_watchdog_free (watchdog);
}

static gboolean
count_idle (gpointer data)
{
  (*(guint *) data)++;
  return G_SOURCE_CONTINUE;
}

static void
test_wait_owner_iterates (Fixture       *f,
                          gconstpointer  data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "the owner's wait");
  gint64 start = g_get_monotonic_time ();
  g_autoptr(KaaInProgress) sleep = kaa_sleep (20);
  g_autoptr(KaaInProgress) remote = kaa_in_progress_new ();
  g_autoptr(GError) error = NULL;
  Job finisher = { remote, NULL, 33, 20 };
  GSource *idle = g_idle_source_new ();
  Alarm *alarm = alarm_new ("the owner's wait");
  guint idles = 0;
  GThread *worker;

  g_test_summary ("DESIGN §2: kaa_in_progress_wait () on the owner thread iterates "
                  "the owner context: timers and other sources run meanwhile, and "
                  "a finish from another thread wakes it up");

  g_source_set_callback (idle, count_idle, &idles, NULL);
  /* At the timers' priority: when the sleep is due already at the first
   * iteration (Valgrind is that slow), the idle still runs beside it. */
  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_attach (idle, f->context);

  g_assert_true (kaa_in_progress_wait (sleep, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 20 * 1000);
  g_assert_cmpuint (idles, >, 0);
  g_source_destroy (idle);
  g_source_unref (idle);

  /* Nothing else can wake the owner: no source is ready and the watchdog
   * is far away. */
  worker = g_thread_new ("finisher", finish_thread, &finisher);
  g_assert_true (kaa_in_progress_wait (remote, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kaa_in_progress_get_int64 (remote), ==, 33);
  g_thread_join (worker);

  alarm_free (alarm);
  kaa_test_watchdog_free (watchdog);
}

/* -------------------------------------------------------- wait nesting */

#define WAIT_LIMIT 32

typedef struct
{
  guint   deepest;      /* deepest level whose wait succeeded */
  guint   failed_at;    /* level whose wait failed, 0 if none */
  GError *error;
  guint   unwound;      /* levels that returned */
} Nest;

typedef struct
{
  Nest          *nest;
  guint          depth;
  KaaInProgress *pending;
} Level;

static void nest_level (Nest *nest,
                        guint depth);

static void
nest_cb (KaaInProgress *trigger,
         gpointer       data)
{
  Level *level = data;

  nest_level (level->nest, level->depth + 1);
  kaa_in_progress_finish_int64 (level->pending, level->depth);
}

/* Level n waits for its own InProgress, which only a callback queued
 * before that wait settles, after it has descended to level n + 1. */
static void
nest_level (Nest *nest,
            guint depth)
{
  KaaInProgress *pending = kaa_in_progress_new ();
  KaaInProgress *trigger = kaa_in_progress_new ();
  Level level = { nest, depth, pending };
  GError *error = NULL;
  gulong id;

  kaa_in_progress_finish_int64 (trigger, 0);
  id = kaa_in_progress_connect (trigger, nest_cb, &level, NULL);

  if (kaa_in_progress_wait (pending, &error))
    {
      g_assert_cmpint (kaa_in_progress_get_int64 (pending), ==, depth);
      nest->deepest = MAX (nest->deepest, depth);
    }
  else
    {
      g_assert_cmpuint (nest->failed_at, ==, 0);
      nest->failed_at = depth;
      nest->error = error;
      /* The queued callback must not run on a Level that is gone. */
      kaa_in_progress_disconnect (trigger, id);
      g_assert_false (kaa_in_progress_is_done (pending));
    }
  nest->unwound++;
  kaa_in_progress_unref (trigger);
  kaa_in_progress_unref (pending);
}

static void
test_wait_nesting (Fixture       *f,
                   gconstpointer  data)
{
  Nest nest = { 0 };

  g_test_summary ("DESIGN §2: waits on the owner thread may nest up to a limit of "
                  "32; the next one fails with KAA_ERROR_WAIT_NESTING and "
                  "everything unwinds");

  nest_level (&nest, 1);

  g_assert_cmpuint (nest.failed_at, ==, WAIT_LIMIT + 1);
  g_assert_error (nest.error, KAA_ERROR, KAA_ERROR_WAIT_NESTING);
  g_assert_cmpuint (nest.deepest, ==, WAIT_LIMIT);
  g_assert_cmpuint (nest.unwound, ==, WAIT_LIMIT + 1);
  g_clear_error (&nest.error);

  /* The depth count unwound too: a plain wait works again. */
  {
    g_autoptr(KaaInProgress) sleep = kaa_sleep (1);

    g_assert_true (kaa_in_progress_wait (sleep, NULL));
  }
}

/* --------------------------------------------------------------- cancel */

static void
record_cancelled (GCancellable *cancellable,
                  gpointer      data)
{
  *(GThread **) data = g_thread_self ();
}

typedef struct
{
  KaaInProgress *ip;
  KaaState       state_after;
  gboolean       fresh_cancellable_cancelled;
} CancelProbe;

static gpointer
cancel_probe_thread (gpointer data)
{
  CancelProbe *probe = data;

  kaa_in_progress_cancel (probe->ip);
  probe->state_after = kaa_in_progress_get_state (probe->ip);
  probe->fresh_cancellable_cancelled =
    g_cancellable_is_cancelled (kaa_in_progress_get_cancellable (probe->ip));
  /* Cancelling again, from here, changes nothing. */
  kaa_in_progress_cancel (probe->ip);
  return NULL;
}

static void
test_cancel_from_thread (Fixture       *f,
                         gconstpointer  data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "the cancel from another thread");
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) blocked = kaa_in_progress_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  Rec rec = { log, 'x' }, rec_blocked = { log, 'y' };
  CancelProbe probe = { ip };
  Job canceller = { blocked, NULL, 0, 20 };
  GThread *signal_thread = NULL;
  GCancellable *cancellable = NULL;
  GThread *worker;

  g_test_summary ("DESIGN §2, §6: a cancel from another thread is carried out on the "
                  "owner context at its next dispatch: the InProgress becomes "
                  "CANCELLED there and its callbacks and cancellable fire there");

  kaa_in_progress_connect (ip, rec_cb, &rec, rec_destroy);

  /*   main                        worker
   *                               cancel: queued for the owner
   *                               state still reads PENDING
   *   (join)
   *   iterate: CANCELLED, callback, cancellable on main */
  worker = g_thread_new ("canceller", cancel_probe_thread, &probe);
  g_thread_join (worker);
  g_assert_cmpint (probe.state_after, ==, KAA_STATE_PENDING);
  g_assert_true (probe.fresh_cancellable_cancelled);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_PENDING);
  g_assert_cmpint (rec.calls, ==, 0);

  cancellable = kaa_in_progress_get_cancellable (ip);
  g_assert_true (g_cancellable_is_cancelled (cancellable));

  g_assert_true (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_error (kaa_in_progress_get_error (ip), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (rec.calls, ==, 1);
  g_assert_cmpint (rec.destroys, ==, 1);
  g_assert_cmpint (rec.state, ==, KAA_STATE_CANCELLED);
  g_assert_true (rec.thread == g_thread_self ());

  /* The owner blocked in its main loop is woken up for it; a cancellable
   * taken before the cancel is cancelled on the owner. */
  kaa_in_progress_connect (blocked, rec_cb, &rec_blocked, rec_destroy);
  cancellable = kaa_in_progress_get_cancellable (blocked);
  g_signal_connect (cancellable, "cancelled", G_CALLBACK (record_cancelled), &signal_thread);
  worker = g_thread_new ("canceller", cancel_thread, &canceller);
  while (!kaa_in_progress_is_done (blocked))
    g_main_context_iteration (f->context, TRUE);
  g_thread_join (worker);
  g_assert_cmpint (kaa_in_progress_get_state (blocked), ==, KAA_STATE_CANCELLED);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_assert_true (signal_thread == g_thread_self ());
  g_assert_cmpint (rec_blocked.calls, ==, 1);
  g_assert_true (rec_blocked.thread == g_thread_self ());
  g_assert_cmpstr (log->str, ==, "xy");

  kaa_test_watchdog_free (watchdog);
}

static void
test_owner_cancel_overtakes_remote (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_sleep (60 * 1000);
  g_autoptr(GString) log = g_string_new (NULL);
  Rec rec = { log, 'x' };
  Job canceller = { ip };
  GThread *worker;

  g_test_summary ("DESIGN §6: a cancel on the owner thread returns with the InProgress "
                  "cancelled and cleaned up, also when a cancel from another thread is "
                  "still on its way to the owner; that one then does nothing more");
  g_test_bug ("7");

  kaa_in_progress_connect (ip, rec_cb, &rec, rec_destroy);

  /*   main                        worker
   *                               cancel: queued for the owner
   *   (join)
   *   cancel: carried out now, timer gone, callback run
   *   iterate: the queued cancel finds it done */
  worker = g_thread_new ("canceller", cancel_thread, &canceller);
  g_thread_join (worker);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_PENDING);

  kaa_in_progress_cancel (ip);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (rec.calls, ==, 1);
  g_assert_cmpint (rec.destroys, ==, 1);

  /* And the sleep's timer went with the cancel. */
  kaa_test_drain (f->context);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (rec.calls, ==, 1);
  g_assert_cmpint (kaa_test_next_wakeup_msec (f->context), ==, -1);
  g_assert_cmpstr (log->str, ==, "x");
}

enum { PAUSE_RACE_N = 2000, PAUSE_RACE_ROUNDS = 10 };

typedef struct
{
  KaaInProgress *inputs[PAUSE_RACE_N];
  gint           go;         /* atomic */
  gint           finished;   /* atomic: how many inputs the worker finished */
} PauseRace;

static gpointer
pause_race_thread (gpointer data)
{
  PauseRace *race = data;

  while (!g_atomic_int_get (&race->go))
    ;
  for (guint i = 0; i < PAUSE_RACE_N; i++)
    {
      kaa_in_progress_finish_int64 (race->inputs[i], i);
      g_atomic_int_set (&race->finished, i + 1);
    }
  return NULL;
}

static void
test_pause_races_remote_finish (Fixture       *f,
                                gconstpointer  data)
{
  g_test_summary ("DESIGN §6: what a timeout pauses of its input it resumes exactly "
                  "once, also when another thread finishes the input while the pause "
                  "goes down: no resume without a pause");
  g_test_bug ("7");

  /*   main                            worker
   *   pause timeout i -> input i      finish input i   (in lockstep)
   *   drain: each timeout settles like its input and resumes what it paused */
  for (guint round = 0; round < PAUSE_RACE_ROUNDS; round++)
    {
      PauseRace *race = g_new0 (PauseRace, 1);
      KaaInProgress **timeouts = g_new (KaaInProgress *, PAUSE_RACE_N);
      GThread *worker;

      for (guint i = 0; i < PAUSE_RACE_N; i++)
        {
          race->inputs[i] = kaa_in_progress_new ();
          timeouts[i] = kaa_timeout (kaa_in_progress_ref (race->inputs[i]), 60 * 1000, FALSE);
        }
      worker = g_thread_new ("finisher", pause_race_thread, race);
      g_atomic_int_set (&race->go, TRUE);
      for (guint i = 0; i < PAUSE_RACE_N; i++)
        {
          /* Keep just behind the worker, where the race is. */
          while (g_atomic_int_get (&race->finished) + 1 < (gint) i)
            ;
          kaa_in_progress_pause (timeouts[i]);
        }
      g_thread_join (worker);
      kaa_test_drain (f->context);
      for (guint i = 0; i < PAUSE_RACE_N; i++)
        {
          g_assert_cmpint (kaa_in_progress_get_int64 (timeouts[i]), ==, i);
          g_assert_false (kaa_in_progress_is_paused (race->inputs[i]));
          kaa_in_progress_resume (timeouts[i]);
          kaa_in_progress_unref (timeouts[i]);
          kaa_in_progress_unref (race->inputs[i]);
        }
      g_free (timeouts);
      g_free (race);
    }
}

/* Enough for the settle to land inside a hook many times over. */
#define HOOK_RACE_BATCHES 80

/* A user producer's data, which its hooks check is still there. */
typedef struct
{
  gint  alive;
  gint *destroyed;   /* atomic */
} HookWork;

static void
hook_work_check (KaaInProgress *ip,
                 gpointer       data)
{
  HookWork *work = data;

  g_assert_true (work->alive);
}

static void
hook_work_destroy (gpointer data)
{
  HookWork *work = data;

  work->alive = FALSE;
  g_atomic_int_inc (work->destroyed);
  g_free (work);
}

static const KaaProducerFuncs hook_work_funcs = {
  .pause = hook_work_check,
  .resume = hook_work_check,
};

static void
hook_race_finish (gpointer item)
{
  KaaInProgress **ips = item;

  for (guint i = 0; i < KAA_TEST_RACE_BATCH; i++)
    kaa_in_progress_finish_int64 (ips[i], i);
}

static void
test_pause_races_remote_settle (Fixture       *f,
                                gconstpointer  data)
{
  KaaTestSettler settler;
  gint destroyed = 0;

  g_test_summary ("DESIGN §2, KaaProducerFuncs: a user producer's pause and resume "
                  "hooks may run while another thread finishes it; its destroy "
                  "notify runs once, and never under a hook");

  /*   main                                 settler
   *   new_full (work) x 256, handed over
   *   pause, resume the first not done     finish each in turn: destroy (work)
   *   (a hook running then keeps work: destroy runs when it returns) */
  kaa_test_settler_start (&settler, hook_race_finish);
  for (guint batch = 0; batch < HOOK_RACE_BATCHES; batch++)
    {
      KaaInProgress *ips[KAA_TEST_RACE_BATCH];

      for (guint i = 0; i < KAA_TEST_RACE_BATCH; i++)
        {
          HookWork *work = g_new0 (HookWork, 1);

          *work = (HookWork) { TRUE, &destroyed };
          ips[i] = kaa_in_progress_new_full (&hook_work_funcs, work, hook_work_destroy);
        }
      kaa_test_settler_race (&settler, ips, ips, KAA_TEST_RACE_BATCH);
      for (guint i = 0; i < KAA_TEST_RACE_BATCH; i++)
        {
          g_assert_cmpint (kaa_in_progress_get_int64 (ips[i]), ==, i);
          kaa_in_progress_unref (ips[i]);
        }
    }
  kaa_test_settler_stop (&settler);
  kaa_test_drain (f->context);
  g_assert_cmpint (g_atomic_int_get (&destroyed), ==, HOOK_RACE_BATCHES * KAA_TEST_RACE_BATCH);
}

typedef struct
{
  GMainContext  *context;
  GCancellable  *cancellable;
  gint           cancelled_seen;   /* atomic */
} CancellableWatch;

static gpointer
cancellable_watch_thread (gpointer data)
{
  CancellableWatch *watch = data;

  /* A worker that hands the cancellable to a blocking GIO call would see
   * it become cancelled: poll it the way such a call does. */
  while (!g_cancellable_is_cancelled (watch->cancellable))
    g_usleep (100);
  g_atomic_int_set (&watch->cancelled_seen, TRUE);
  g_main_context_wakeup (watch->context);
  return NULL;
}

static void
test_cancellable_from_thread (Fixture       *f,
                              gconstpointer  data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "the cancellable");
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  CancellableWatch watch = { f->context, NULL };
  Job canceller = { ip, NULL, 0, 5 };
  GThread *watcher, *worker;

  g_test_summary ("DESIGN §2, §6: the GCancellable of an InProgress is cancelled "
                  "when the InProgress is cancelled from another thread");

  /*   main (pumps)      watcher                  canceller
   *                     polls the cancellable    cancel ()
   *   carries it out    sees it cancelled */
  watch.cancellable = g_object_ref (kaa_in_progress_get_cancellable (ip));
  watcher = g_thread_new ("watcher", cancellable_watch_thread, &watch);
  worker = g_thread_new ("canceller", cancel_thread, &canceller);
  while (!g_atomic_int_get (&watch.cancelled_seen))
    g_main_context_iteration (f->context, TRUE);
  g_thread_join (watcher);
  g_thread_join (worker);

  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_true (kaa_in_progress_get_cancellable (ip) == watch.cancellable);
  g_object_unref (watch.cancellable);
  kaa_test_watchdog_free (watchdog);
}

/* ------------------------------------------------------- many finishes */

#define MANY 100000
#define BATCH 10000

typedef struct
{
  KaaInProgress **ips;
  guint           n;
  guint8         *calls;        /* owner thread only */
  gint            delivered;    /* atomic */
  gint            wrong_thread; /* atomic */
  GThread        *owner;
} Many;

typedef struct
{
  Many *many;
  guint index;
} ManyRef;

static void
many_cb (KaaInProgress *self,
         gpointer       data)
{
  Many *many = ((ManyRef *) data)->many;
  guint index = ((ManyRef *) data)->index;

  if (g_thread_self () != many->owner)
    g_atomic_int_inc (&many->wrong_thread);
  g_assert_cmpint (kaa_in_progress_get_int64 (self), ==, index);
  many->calls[index]++;
  g_atomic_int_inc (&many->delivered);
}

static gpointer
many_finish_thread (gpointer data)
{
  Many *many = data;

  for (guint i = 0; i < many->n; i++)
    kaa_in_progress_finish_int64 (many->ips[i], i);
  return NULL;
}

static void
many_prepare (Many    *many,
              ManyRef *refs,
              guint    n)
{
  many->ips = g_new (KaaInProgress *, n);
  many->n = n;
  many->calls = g_new0 (guint8, n);
  many->owner = g_thread_self ();
  for (guint i = 0; i < n; i++)
    {
      refs[i] = (ManyRef) { many, i };
      many->ips[i] = kaa_in_progress_new ();
      kaa_in_progress_connect (many->ips[i], many_cb, &refs[i], NULL);
    }
}

static void
many_check_and_free (Many *many)
{
  g_assert_cmpint (many->wrong_thread, ==, 0);
  g_assert_cmpint (many->delivered, ==, many->n);
  for (guint i = 0; i < many->n; i++)
    {
      g_assert_cmpuint (many->calls[i], ==, 1);
      kaa_in_progress_unref (many->ips[i]);
    }
  g_free (many->ips);
  g_free (many->calls);
}

static void
test_many_finishes (Fixture       *f,
                    gconstpointer  data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "delivery of the finishes");
  g_autofree ManyRef *refs = g_new (ManyRef, MANY);
  g_autofree ManyRef *batch_refs = g_new (ManyRef, BATCH);
  Many many = { 0 }, batch = { 0 };
  guint iterations = 0;
  GThread *worker;

  g_test_summary ("DESIGN §2, §3: a hundred thousand InProgress finished on a worker "
                  "deliver every callback once, on the owner thread, in batches: "
                  "what arrived before a dispatch began is all run by that dispatch");

  /*   main                                worker
   *   iterate (TRUE) … as they arrive     finish × 100 000 */
  many_prepare (&many, refs, MANY);
  worker = g_thread_new ("finisher", many_finish_thread, &many);
  while (g_atomic_int_get (&many.delivered) < MANY)
    {
      g_main_context_iteration (f->context, TRUE);
      iterations++;
    }
  g_thread_join (worker);
  g_test_message ("%u callbacks in %u iterations", MANY, iterations);
  many_check_and_free (&many);

  /* All finished before the owner looks: with the budget out of the way,
   * one dispatch delivers the lot. */
  many_prepare (&batch, batch_refs, BATCH);
  worker = g_thread_new ("finisher", many_finish_thread, &batch);
  g_thread_join (worker);
  g_assert_cmpint (batch.delivered, ==, 0);
  kaa_main_set_budget ((gint64) G_USEC_PER_SEC * 3600);
  g_assert_true (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpint (batch.delivered, ==, BATCH);
  many_check_and_free (&batch);
  g_assert_false (g_main_context_iteration (f->context, FALSE));

  kaa_test_watchdog_free (watchdog);
}

/* ------------------------------------------------------------ the race */

static void
test_race (Fixture       *f,
           gconstpointer  data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "the race's deliveries");

  g_test_summary ("DESIGN §2 \"Thread safety\": eight threads finish, fail, cancel, "
                  "connect and probe a shared pool of InProgress while the owner "
                  "pumps its context; each ends in exactly one final state, every "
                  "callback runs once on the owner, and nothing leaks");

  /*   owner (main)                     8 workers, 12 500 random ops each
   *   connect/disconnect, cancel,      finish_int64 / finish_pointer / fail
   *   probe, iterate the context       (each future claimed once), cancel,
   *                                    connect, get_state
   *   join; settle the rest; pump until every callback ran; check; unref */
  kaa_race_run (f->context);
  kaa_test_watchdog_free (watchdog);
}

/* ------------------------------------------------ connect versus settle */

#define PAIRS 50000

typedef struct
{
  KaaInProgress **ips;
  gint           *calls;         /* atomic, per InProgress */
  gint            arrived;       /* atomic: lock-step counter, 2 per pair */
  gint            wrong_thread;  /* atomic */
  gint            workers_left;  /* atomic */
  GThread        *owner;
  GMainContext   *context;
} Pairs;

typedef struct
{
  Pairs *pairs;
  guint  index;
} PairRef;

static void
pair_cb (KaaInProgress *self,
         gpointer       data)
{
  PairRef *ref = data;

  if (g_thread_self () != ref->pairs->owner)
    g_atomic_int_inc (&ref->pairs->wrong_thread);
  g_atomic_int_inc (&ref->pairs->calls[ref->index]);
}

/* Both racers reach pair @i before either acts on it, so the connect and
 * the settle of each InProgress overlap as closely as threads allow. */
static void
pairs_lock_step (Pairs *pairs,
                 guint  i)
{
  g_atomic_int_inc (&pairs->arrived);
  while (g_atomic_int_get (&pairs->arrived) < (gint) (2 * (i + 1)))
    g_thread_yield ();
}

static void
pairs_done (Pairs *pairs)
{
  if (g_atomic_int_dec_and_test (&pairs->workers_left))
    g_main_context_wakeup (pairs->context);
}

static gpointer
pairs_connect_thread (gpointer data)
{
  Pairs *pairs = ((PairRef *) data)->pairs;
  PairRef *refs = data;

  for (guint i = 0; i < PAIRS; i++)
    {
      pairs_lock_step (pairs, i);
      kaa_in_progress_connect (pairs->ips[i], pair_cb, &refs[i], NULL);
    }
  pairs_done (pairs);
  return NULL;
}

static gpointer
pairs_settle_thread (gpointer data)
{
  Pairs *pairs = data;

  for (guint i = 0; i < PAIRS; i++)
    {
      pairs_lock_step (pairs, i);
      if (i % 2 == 0)
        kaa_in_progress_finish_int64 (pairs->ips[i], i);
      else
        kaa_in_progress_cancel (pairs->ips[i]);
    }
  pairs_done (pairs);
  return NULL;
}

static void
test_connect_vs_settle (Fixture       *f,
                        gconstpointer  data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "the end of the connect/settle race");
  g_autofree KaaInProgress **ips = g_new (KaaInProgress *, PAIRS);
  g_autofree gint *calls = g_new0 (gint, PAIRS);
  g_autofree PairRef *refs = g_new (PairRef, PAIRS);
  Pairs pairs = { ips, calls, 0, 0, 2, g_thread_self (), f->context };
  GThread *connector, *settler;

  g_test_summary ("DESIGN §2: a callback connected from one thread while another "
                  "finishes or cancels the InProgress is called exactly once, on "
                  "the owner: neither side can strand it");

  /*   owner (pumps)         connector              settler
   *                         ── lock step on InProgress i ──
   *                         connect (i)            finish (i) or cancel (i)
   *   delivers …            … for 50 000 InProgress, one connect each */
  for (guint i = 0; i < PAIRS; i++)
    {
      ips[i] = kaa_in_progress_new ();
      refs[i] = (PairRef) { &pairs, i };
    }
  connector = g_thread_new ("connector", pairs_connect_thread, refs);
  settler = g_thread_new ("settler", pairs_settle_thread, &pairs);
  while (g_atomic_int_get (&pairs.workers_left) > 0)
    g_main_context_iteration (f->context, TRUE);
  g_thread_join (connector);
  g_thread_join (settler);

  /* Everything the workers did is queued by now: drain, then count. A
   * stranded callback is not waited for, it is simply missing. */
  while (g_main_context_iteration (f->context, FALSE))
    ;
  g_assert_cmpint (pairs.wrong_thread, ==, 0);
  for (guint i = 0; i < PAIRS; i++)
    {
      if (calls[i] != 1)
        g_error ("InProgress %u (%s): callback called %d times", i,
                 i % 2 == 0 ? "finished" : "cancelled", calls[i]);
      g_assert_cmpint (kaa_in_progress_get_state (ips[i]), ==,
                       i % 2 == 0 ? KAA_STATE_FINISHED : KAA_STATE_CANCELLED);
      kaa_in_progress_unref (ips[i]);
    }
  kaa_test_watchdog_free (watchdog);
}

/* ------------------------------------------------------ context death */

static void
test_context_death_pending_cancel (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  GCancellable *cancellable = kaa_in_progress_get_cancellable (ip);
  Job canceller = { ip };
  GThread *worker;

  g_test_summary ("DESIGN §2, §6: an InProgress cancelled from another thread whose "
                  "owner context goes away before carrying the cancel out still "
                  "ends CANCELLED, and its cancellable is cancelled");

  /*   main                            worker
   *                                   cancel: queued in the inbox
   *   (join; the context never runs)
   *   context unref: inbox discarded */
  worker = g_thread_new ("canceller", cancel_thread, &canceller);
  g_thread_join (worker);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_PENDING);

  kaa_test_fixture_kill_context (f);

  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_error (kaa_in_progress_get_error (ip), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
}

static void
test_context_death_pending_cancel_waiter (Fixture       *f,
                                          gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  Waiter waiter = { ip };
  Job canceller = { ip };
  GThread *waiting, *worker;

  g_test_summary ("DESIGN §2: a thread blocked in kaa_in_progress_wait () wakes up "
                  "when a cross-thread cancel settles the InProgress as its owner "
                  "context goes away");

  /*   main                 waiter                canceller
   *                        wait (blocks)
   *                                              cancel: queued in the inbox
   *   context unref: inbox discarded, CANCELLED
   *                        must return */
  waiting = g_thread_new ("waiter", wait_thread, &waiter);
  kaa_test_spin_until (&waiter.waiting, TRUE);
  g_usleep (20 * 1000);
  worker = g_thread_new ("canceller", cancel_thread, &canceller);
  g_thread_join (worker);

  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);

  /* Bounded: fails after KAA_TEST_WATCHDOG_SEC if the waiter is never woken. */
  kaa_test_spin_until (&waiter.returned, TRUE);
  g_thread_join (waiting);
  g_assert_false (waiter.ok);
  g_assert_error (waiter.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&waiter.error);
}

static void
test_context_death_settle_with_waiter (Fixture       *f,
                                       gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  Waiter waiter = { ip };
  GThread *waiting;

  g_test_summary ("DESIGN §2: every InProgress reaches a final state whether or not "
                  "anyone listens: settling one whose owner context is gone, while "
                  "another thread waits for it, wakes the waiter and touches no "
                  "freed context");

  /*   main                         waiter
   *   context unref
   *                                wait (blocks: no context to iterate)
   *   finish (5)
   *                                returns TRUE, 5 */
  kaa_test_fixture_kill_context (f);
  waiting = g_thread_new ("waiter", wait_thread, &waiter);
  kaa_test_spin_until (&waiter.waiting, TRUE);
  g_usleep (20 * 1000);

  kaa_in_progress_finish_int64 (ip, 5);
  g_thread_join (waiting);
  g_assert_true (waiter.ok);
  g_assert_cmpint (waiter.value, ==, 5);
}

static void
test_context_death_owner_wait (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(GError) error = NULL;
  Job finisher = { ip, NULL, 9, 20 };
  GThread *worker;
  Alarm *alarm;

  g_test_summary ("DESIGN §2: kaa_in_progress_wait () on the thread that created an "
                  "InProgress whose owner context is gone has no context to "
                  "iterate: it blocks until another thread settles it");

  kaa_test_fixture_kill_context (f);
  alarm = alarm_new ("the owner's wait after its context died");
  worker = g_thread_new ("finisher", finish_thread, &finisher);
  g_assert_true (kaa_in_progress_wait (ip, &error));
  alarm_free (alarm);
  g_assert_no_error (error);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 9);
  g_thread_join (worker);
}

#define DEATH_ROUNDS 2000

typedef struct
{
  KaaInProgress *target;   /* atomic pointer */
  gint           go;       /* atomic: round number released */
  gint           done;     /* atomic: round number finished */
} DeathRace;

static gpointer
death_race_thread (gpointer data)
{
  DeathRace *race = data;

  for (gint i = 1; i <= DEATH_ROUNDS; i++)
    {
      /* Yield, not spin: under Valgrind only one thread runs at a time. */
      while (g_atomic_int_get (&race->go) != i)
        g_thread_yield ();
      kaa_in_progress_finish_int64 (g_atomic_pointer_get (&race->target), i);
      g_atomic_int_set (&race->done, i);
    }
  return NULL;
}

static void
test_context_death_racing_finish (Fixture       *f,
                                  gconstpointer  data)
{
  DeathRace race = { NULL, 0, 0 };
  Rec rec = { NULL };
  GThread *finisher;

  g_test_summary ("DESIGN §2: any thread may finish an InProgress; a finish that "
                  "races with the destruction of the owner context settles it "
                  "and never touches the dying or freed context");

  /*   main, each round                      finisher, each round
   *   new context; InProgress + callback
   *   release the finisher ───────────────► finish (): queues the callback
   *   (a few ns of spin)                     │ races with
   *   g_main_context_unref () ◄──────────────┘
   *   wait for the finish; unref */
  kaa_test_fixture_kill_context (f);
  finisher = g_thread_new ("finisher", death_race_thread, &race);
  for (gint i = 1; i <= DEATH_ROUNDS; i++)
    {
      GMainContext *context = g_main_context_new ();
      KaaInProgress *ip;

      g_main_context_push_thread_default (context);
      ip = kaa_in_progress_new ();
      kaa_in_progress_connect (ip, rec_cb, &rec, rec_destroy);
      g_main_context_pop_thread_default (context);

      g_atomic_pointer_set (&race.target, ip);
      g_atomic_int_set (&race.go, i);
      for (volatile gint spin = 0; spin < (i % 64) * 8; spin++)
        ;
      g_main_context_unref (context);
      kaa_test_wait_for_round (&race.done, i);
      g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
      g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, i);
      kaa_in_progress_unref (ip);
      g_assert_cmpint (g_atomic_int_get (&rec.destroys), ==, i);
    }
  g_thread_join (finisher);
  /* Nobody ever iterated those contexts, yet every callback ran once
   * (DESIGN §3): on the thread that dropped the context, or, when the
   * finish came after that, on the finisher. */
  g_assert_cmpint (rec.calls, ==, DEATH_ROUNDS);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);


  KAA_TEST_ADD ("callbacks-on-owner", test_callbacks_on_owner);
  KAA_TEST_ADD ("second-finish-from-thread", test_second_finish_from_thread);
  KAA_TEST_ADD ("wait-blocking", test_wait_blocking);
  KAA_TEST_ADD ("wait-owner-iterates", test_wait_owner_iterates);
  KAA_TEST_ADD ("wait-nesting", test_wait_nesting);
  KAA_TEST_ADD ("cancel-from-thread", test_cancel_from_thread);
  KAA_TEST_ADD ("owner-cancel-overtakes-remote", test_owner_cancel_overtakes_remote);
  KAA_TEST_ADD ("pause-races-remote-finish", test_pause_races_remote_finish);
  KAA_TEST_ADD ("pause-races-remote-settle", test_pause_races_remote_settle);
  KAA_TEST_ADD ("cancellable-from-thread", test_cancellable_from_thread);
  KAA_TEST_ADD ("many-finishes", test_many_finishes);
  KAA_TEST_ADD ("race", test_race);
  KAA_TEST_ADD ("connect-vs-settle", test_connect_vs_settle);
  KAA_TEST_ADD ("context-death-pending-cancel", test_context_death_pending_cancel);
  KAA_TEST_ADD ("context-death-pending-cancel-waiter", test_context_death_pending_cancel_waiter);
  KAA_TEST_ADD ("context-death-settle-with-waiter", test_context_death_settle_with_waiter);
  KAA_TEST_ADD ("context-death-owner-wait", test_context_death_owner_wait);
  KAA_TEST_ADD ("context-death-racing-finish", test_context_death_racing_finish);

  return g_test_run ();
}
