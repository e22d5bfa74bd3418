/* test-scheduler.c: the per-GMainContext scheduler
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Drives the private scheduler API (runnables, timers, the inbox, the
 * budget) and the public kaa_main_* calls. Every test runs on a private
 * GMainContext pushed as thread-default and pumped by hand; worker threads
 * only appear where the inbox or a cross-thread timer is the subject.
 */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "kaa-test-util.h"
#include "kaa-scheduler-private.h"


typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "scheduler"

static void
busy_wait (gint64 usec)
{
  gint64 end = g_get_monotonic_time () + usec;

  while (g_get_monotonic_time () < end)
    ;
}

/* ------------------------------------------------------------ runnables */

typedef struct _Item Item;
typedef void (*ItemAction) (Item *item);

/* A runnable that logs its id when it runs and counts how it ended. */
struct _Item
{
  KaaRunnable   runnable;   /* first: an Item is its runnable */
  GArray       *log;        /* of guint; owner thread only */
  guint         id;
  gint          runs;       /* atomic where a test reads it across threads */
  gint          discards;   /* atomic */
  GThread      *thread;
  ItemAction    action;
  gpointer      data;
};

static void
item_run (KaaRunnable *runnable,
          gboolean     discard)
{
  Item *item = (Item *) runnable;

  if (discard)
    {
      /* A discarded list is taken apart first: nothing runs after it. */
      g_assert_null (kaa_runnable_get_queued_next (runnable));
      g_atomic_int_inc (&item->discards);
      return;
    }
  item->thread = g_thread_self ();
  g_atomic_int_inc (&item->runs);
  if (item->log != NULL)
    g_array_append_val (item->log, item->id);
  if (item->action != NULL)
    item->action (item);
}

static void
item_init (Item   *item,
           GArray *log,
           guint   id)
{
  memset (item, 0, sizeof *item);
  item->runnable.run = item_run;
  item->log = log;
  item->id = id;
}

static GArray *
log_new (void)
{
  return g_array_new (FALSE, FALSE, sizeof (guint));
}

static void
assert_log (GArray      *log,
            const guint *expected,
            guint        n_expected)
{
  g_assert_cmpmem (log->data, log->len * sizeof (guint), expected, n_expected * sizeof (guint));
}

/* ------------------------------------------------------------- identity */

static void
test_one_per_context (Fixture       *f,
                      gconstpointer  data)
{
  KaaScheduler *a = kaa_scheduler_get_for_context (f->context);
  KaaScheduler *b = kaa_scheduler_get_for_context (f->context);
  KaaScheduler *thread_default = kaa_scheduler_get_thread_default ();
  GMainContext *other = g_main_context_new ();
  KaaScheduler *c = kaa_scheduler_get_for_context (other);

  g_test_summary ("DESIGN §3: one scheduler per GMainContext; another context has its own");

  g_assert_nonnull (a);
  g_assert_true (a == b);
  g_assert_true (a == thread_default);
  g_assert_true (kaa_scheduler_get_context (a) == f->context);
  g_assert_true (kaa_scheduler_is_owner (a));

  g_assert_true (c != a);
  g_assert_true (kaa_scheduler_get_context (c) == other);

  kaa_scheduler_unref (c);
  g_main_context_unref (other);
  kaa_scheduler_unref (b);
  kaa_scheduler_unref (a);
}

static void
test_one_source (Fixture       *f,
                 gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  Item items[100];
  GSource *probe;
  GSource *source;
  guint probe_id;

  g_test_summary ("DESIGN §3: the scheduler is attached lazily as a single GSource, "
                  "named \"[kaa] scheduler\", however much work it has");

  /* Source ids count up per context from 1: the scheduler took 1. */
  source = g_main_context_find_source_by_id (f->context, 1);
  g_assert_nonnull (source);
  g_assert_cmpstr (g_source_get_name (source), ==, "[kaa] scheduler");

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      item_init (&items[i], NULL, i);
      kaa_scheduler_push (scheduler, &items[i].runnable);
    }
  g_assert_true (kaa_scheduler_get_for_context (f->context) == scheduler);
  kaa_scheduler_unref (scheduler);
  while (g_main_context_iteration (f->context, FALSE))
    ;
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    g_assert_cmpint (items[i].runs, ==, 1);

  /* Nothing else was attached meanwhile: the next id is 2. */
  probe = g_idle_source_new ();
  probe_id = g_source_attach (probe, f->context);
  g_assert_cmpuint (probe_id, ==, 2);
  g_source_destroy (probe);
  g_source_unref (probe);
}

/* ------------------------------------------------------------ run queue */

static void
test_fifo (Fixture       *f,
           gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  g_autoptr(GArray) log = log_new ();
  Item items[5];
  static const guint expected[] = { 0, 1, 2, 3, 4 };

  g_test_summary ("DESIGN §3: the run queue is first in, first out");

  /* One dispatch must run all five: under Valgrind on a loaded machine
   * the first runnable alone can outlast the default budget of 4 ms. */
  kaa_main_set_budget (G_USEC_PER_SEC);
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      item_init (&items[i], log, i);
      kaa_scheduler_push (scheduler, &items[i].runnable);
    }
  g_assert_cmpuint (log->len, ==, 0);

  g_assert_true (g_main_context_iteration (f->context, FALSE));
  assert_log (log, expected, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    g_assert_true (items[i].thread == g_thread_self ());
  g_assert_false (g_main_context_iteration (f->context, FALSE));
}

typedef struct
{
  KaaScheduler *scheduler;
  Item         *now;    /* pushed with push () */
  Item         *next;   /* pushed with push_slice () */
} PushPlan;

static void
push_both (Item *item)
{
  PushPlan *plan = item->data;

  kaa_scheduler_push_slice (plan->scheduler, &plan->next->runnable);
  kaa_scheduler_push (plan->scheduler, &plan->now->runnable);
}

static void
test_push_in_dispatch (Fixture       *f,
                       gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  g_autoptr(GArray) log = log_new ();
  Item first, now, next;
  PushPlan plan = { scheduler, &now, &next };
  static const guint after_one[] = { 1, 2 };
  static const guint after_two[] = { 1, 2, 3 };

  g_test_summary ("DESIGN §3: push () during a dispatch runs in that dispatch; "
                  "push_slice () waits for the next main-loop iteration "
                  "(\"NotFinished\" = next iteration)");

  /*   iteration 1: first → pushes now (same dispatch) and next (next one)
   *                now
   *   iteration 2: next */
  item_init (&first, log, 1);
  first.action = push_both;
  first.data = &plan;
  item_init (&now, log, 2);
  item_init (&next, log, 3);
  kaa_scheduler_push (scheduler, &first.runnable);

  g_assert_true (g_main_context_iteration (f->context, FALSE));
  assert_log (log, after_one, G_N_ELEMENTS (after_one));
  g_assert_cmpint (next.runs, ==, 0);

  g_assert_true (g_main_context_iteration (f->context, FALSE));
  assert_log (log, after_two, G_N_ELEMENTS (after_two));
  g_assert_false (g_main_context_iteration (f->context, FALSE));
}

static void
push_self_next (Item *item)
{
  /* A runnable that yields again, as a busy coroutine does. */
  if (item->runs < 3)
    kaa_scheduler_push_slice (item->data, &item->runnable);
}

static void
test_push_next_yield (Fixture       *f,
                      gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  Item item;

  g_test_summary ("DESIGN §3: a runnable that re-queues itself with push_slice () "
                  "runs once per main-loop iteration, never twice in one dispatch");

  item_init (&item, NULL, 0);
  item.action = push_self_next;
  item.data = scheduler;
  kaa_scheduler_push_slice (scheduler, &item.runnable);
  g_assert_cmpint (item.runs, ==, 0);

  for (gint i = 1; i <= 3; i++)
    {
      g_assert_true (g_main_context_iteration (f->context, FALSE));
      g_assert_cmpint (item.runs, ==, i);
    }
  g_assert_false (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpint (item.runs, ==, 3);
}

/* --------------------------------------------------------------- budget */

#define BUDGET_ITEMS 100

static void
busy_item (Item *item)
{
  busy_wait (200);
}

typedef struct
{
  Item *items;
  guint ran_at_dispatch[BUDGET_ITEMS * 2];
  guint n_dispatches;
} Observer;

static guint
count_runs (Item *items,
            guint n)
{
  guint ran = 0;

  for (guint i = 0; i < n; i++)
    ran += items[i].runs;
  return ran;
}

static gboolean
observer_dispatch (gpointer data)
{
  Observer *observer = data;

  if (observer->n_dispatches < G_N_ELEMENTS (observer->ran_at_dispatch))
    observer->ran_at_dispatch[observer->n_dispatches++] =
      count_runs (observer->items, BUDGET_ITEMS);
  return G_SOURCE_CONTINUE;
}

static void
test_budget (Fixture       *f,
             gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  g_autoptr(GArray) log = log_new ();
  g_autofree Item *items = g_new0 (Item, BUDGET_ITEMS);
  Observer observer = { items, { 0 }, 0 };
  GSource *idle;
  guint ran, iterations = 1;
  gboolean interleaved = FALSE;

  g_test_summary ("DESIGN §3: when the time budget of a dispatch is spent, the rest "
                  "of the ready work waits for later iterations, and other sources "
                  "of the context run in between");

  kaa_main_set_budget (1000);
  g_assert_cmpint (kaa_main_get_budget (), ==, 1000);
  g_assert_cmpint (kaa_scheduler_get_budget (scheduler), ==, 1000);

  /* An always-ready source of the same priority, attached after the
   * scheduler: it stands for input and drawing. */
  idle = g_idle_source_new ();
  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, observer_dispatch, &observer, NULL);
  g_source_attach (idle, f->context);

  /* 100 runnables of 200 µs each: 20 ms of work against a 1 ms budget. */
  for (guint i = 0; i < BUDGET_ITEMS; i++)
    {
      item_init (&items[i], log, i);
      items[i].action = busy_item;
      kaa_scheduler_push (scheduler, &items[i].runnable);
    }

  g_main_context_iteration (f->context, FALSE);
  ran = count_runs (items, BUDGET_ITEMS);
  g_test_message ("first dispatch ran %u of %u", ran, BUDGET_ITEMS);
  g_assert_cmpuint (ran, >=, 1);
  g_assert_cmpuint (ran, <, BUDGET_ITEMS);

  while (count_runs (items, BUDGET_ITEMS) < BUDGET_ITEMS)
    {
      g_assert_cmpuint (iterations, <, BUDGET_ITEMS);
      g_main_context_iteration (f->context, FALSE);
      iterations++;
    }
  g_assert_cmpuint (iterations, >, 1);

  /* Still first in, first out across the dispatches. */
  g_assert_cmpuint (log->len, ==, BUDGET_ITEMS);
  for (guint i = 0; i < BUDGET_ITEMS; i++)
    g_assert_cmpuint (g_array_index (log, guint, i), ==, i);

  for (guint i = 0; i < observer.n_dispatches; i++)
    if (observer.ran_at_dispatch[i] > 0 && observer.ran_at_dispatch[i] < BUDGET_ITEMS)
      interleaved = TRUE;
  g_assert_true (interleaved);

  g_source_destroy (idle);
  g_source_unref (idle);
}

static void
test_budget_default (Fixture       *f,
                     gconstpointer  data)
{
  GMainContext *other = g_main_context_new ();
  gint64 initial = kaa_main_get_budget ();

  g_test_summary ("DESIGN §3: the budget has a positive default of a few ms and is "
                  "set per context");

  g_test_message ("default budget: %" G_GINT64_FORMAT " µs", initial);
  g_assert_cmpint (initial, >, 0);
  /* "A few milliseconds": well below one 60 Hz frame. */
  g_assert_cmpint (initial, <, 16667);

  kaa_main_set_budget (initial * 2);
  g_assert_cmpint (kaa_main_get_budget (), ==, initial * 2);

  g_main_context_push_thread_default (other);
  g_assert_cmpint (kaa_main_get_budget (), ==, initial);
  g_main_context_pop_thread_default (other);
  g_main_context_unref (other);

  g_assert_cmpint (kaa_main_get_budget (), ==, initial * 2);
}

static void
test_budget_invalid (Fixture       *f,
                     gconstpointer  data)
{
  gint64 initial = kaa_main_get_budget ();

  g_test_summary ("DESIGN §8: kaa_main_set_budget () checks its argument; "
                  "a budget must be at least 1 µs");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*usec > 0*");
  kaa_main_set_budget (0);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*usec > 0*");
  kaa_main_set_budget (-5);
  g_test_assert_expected_messages ();

  g_assert_cmpint (kaa_main_get_budget (), ==, initial);
}

/* --------------------------------------------------------------- timers */

typedef struct _TimerItem
{
  KaaTimer  timer;      /* first: a TimerItem is its timer */
  GArray   *log;
  guint     id;
  gint      fires;      /* atomic */
  gint      discards;   /* atomic */
  gint64    fired_at;
  GThread  *thread;
  void    (*action) (struct _TimerItem *timer);
  gpointer  data;
} TimerItem;

static void
timer_item_fire (KaaTimer *timer,
                 gboolean  discard)
{
  TimerItem *item = (TimerItem *) timer;

  g_assert_cmpuint (timer->index, ==, 0);
  if (discard)
    {
      g_atomic_int_inc (&item->discards);
      return;
    }
  item->fired_at = g_get_monotonic_time ();
  item->thread = g_thread_self ();
  g_atomic_int_inc (&item->fires);
  if (item->log != NULL)
    g_array_append_val (item->log, item->id);
  if (item->action != NULL)
    item->action (item);
}

static void
timer_item_init (TimerItem *item,
                 GArray    *log,
                 guint      id)
{
  memset (item, 0, sizeof *item);
  item->timer.fire = timer_item_fire;
  item->log = log;
  item->id = id;
}

static void
test_timer_order (Fixture       *f,
                  gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  g_autoptr(GArray) log = log_new ();
  GSource *watchdog = kaa_test_watchdog_new (f->context, "timer expiry");
  TimerItem timers[3];
  static const guint expected[] = { 1, 2, 0 };
  static const gint64 delays_ms[] = { 30, 10, 20 };
  gint64 now = kaa_scheduler_get_time (scheduler);

  g_test_summary ("DESIGN §3: timers fire in deadline order, never before their "
                  "deadline, and a blocked main loop wakes up for them");

  for (guint i = 0; i < G_N_ELEMENTS (timers); i++)
    {
      timer_item_init (&timers[i], log, i);
      kaa_scheduler_add_timer (scheduler, &timers[i].timer, now + delays_ms[i] * 1000);
      g_assert_cmpuint (timers[i].timer.index, !=, 0);
    }

  while (log->len < G_N_ELEMENTS (timers))
    g_main_context_iteration (f->context, TRUE);

  assert_log (log, expected, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (timers); i++)
    {
      g_assert_cmpint (timers[i].fires, ==, 1);
      g_assert_cmpint (timers[i].fired_at, >=, timers[i].timer.deadline);
      g_assert_cmpuint (timers[i].timer.index, ==, 0);
    }
  kaa_test_watchdog_free (watchdog);
}

static void
test_timer_remove (Fixture       *f,
                   gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  g_autoptr(GArray) log = log_new ();
  TimerItem timers[4];
  static const guint expected[] = { 0, 3 };
  gint64 now = kaa_scheduler_get_time (scheduler);

  g_test_summary ("DESIGN §3: a removed timer never fires; removing one that is "
                  "not armed does nothing");

  for (guint i = 0; i < G_N_ELEMENTS (timers); i++)
    {
      timer_item_init (&timers[i], log, i);
      /* All due already: one dispatch fires whatever is still armed. */
      kaa_scheduler_add_timer (scheduler, &timers[i].timer, now - 100 + i);
    }
  kaa_scheduler_remove_timer (scheduler, &timers[1].timer);
  kaa_scheduler_remove_timer (scheduler, &timers[2].timer);
  g_assert_cmpuint (timers[1].timer.index, ==, 0);
  kaa_scheduler_remove_timer (scheduler, &timers[1].timer);

  g_assert_true (g_main_context_iteration (f->context, FALSE));
  assert_log (log, expected, G_N_ELEMENTS (expected));
  g_assert_cmpint (timers[1].fires + timers[1].discards, ==, 0);
  g_assert_cmpint (timers[2].fires + timers[2].discards, ==, 0);

  /* Fired timers are disarmed: removing them now is harmless too. */
  kaa_scheduler_remove_timer (scheduler, &timers[0].timer);
  g_assert_false (g_main_context_iteration (f->context, FALSE));
}

#define MANY_TIMERS 10000

static void
test_timer_many (Fixture       *f,
                 gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  g_autoptr(GArray) log = log_new ();
  g_autofree TimerItem *timers = g_new0 (TimerItem, MANY_TIMERS);
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
  gint64 now = kaa_scheduler_get_time (scheduler);
  guint removed = 0;

  g_test_summary ("DESIGN §3: one ordered structure holds every timer: ten thousand "
                  "due timers, some removed from the middle, fire in deadline "
                  "order, as many per dispatch as the budget allows");

  for (guint i = 0; i < MANY_TIMERS; i++)
    {
      timer_item_init (&timers[i], log, i);
      kaa_scheduler_add_timer (scheduler, &timers[i].timer,
                               now - g_rand_int_range (rand, 1, 10 * 1000 * 1000));
    }
  /* Removing every third, in an order unrelated to the heap's, exercises
   * the sift in both directions. */
  for (guint i = 0; i < MANY_TIMERS; i += 3)
    {
      kaa_scheduler_remove_timer (scheduler, &timers[(i * 7919) % MANY_TIMERS].timer);
      removed++;
    }

  g_assert_true (g_main_context_iteration (f->context, FALSE));
  while (log->len < MANY_TIMERS - removed)
    g_assert_true (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpuint (log->len, ==, MANY_TIMERS - removed);
  for (guint i = 1; i < log->len; i++)
    {
      TimerItem *prev = &timers[g_array_index (log, guint, i - 1)];
      TimerItem *cur = &timers[g_array_index (log, guint, i)];

      g_assert_cmpint (prev->timer.deadline, <=, cur->timer.deadline);
    }
  for (guint i = 0; i < MANY_TIMERS; i++)
    g_assert_cmpint (timers[i].fires, <=, 1);
  g_assert_false (g_main_context_iteration (f->context, FALSE));
}

typedef struct
{
  KaaScheduler *scheduler;
  TimerItem    *timer;
  gint64        delay_usec;
} RemoteTimer;

static gpointer
add_timer_thread (gpointer data)
{
  RemoteTimer *remote = data;

  kaa_scheduler_add_timer (remote->scheduler, &remote->timer->timer,
                           kaa_scheduler_get_time (remote->scheduler) + remote->delay_usec);
  return NULL;
}

static void
test_timer_remote (Fixture       *f,
                   gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  GSource *watchdog = kaa_test_watchdog_new (f->context, "a timer armed from another thread");
  TimerItem soon, due;
  RemoteTimer remote_soon = { scheduler, &soon, 5000 };
  RemoteTimer remote_due = { scheduler, &due, -1000 };
  GThread *worker;

  g_test_summary ("DESIGN §3: a timer armed from another thread goes through the "
                  "inbox and fires on the owner thread");

  /*   main                         worker
   *   iterate (blocks)             add_timer (+5 ms) → inbox, wake-up
   *   arm, then fire on main       exit */
  timer_item_init (&soon, NULL, 0);
  worker = g_thread_new ("add-timer", add_timer_thread, &remote_soon);
  while (g_atomic_int_get (&soon.fires) == 0)
    g_main_context_iteration (f->context, TRUE);
  g_thread_join (worker);
  g_assert_true (soon.thread == g_thread_self ());
  g_assert_cmpint (soon.fired_at, >=, soon.timer.deadline);

  /* One already due when it is armed: it still fires, on the owner. */
  timer_item_init (&due, NULL, 1);
  worker = g_thread_new ("add-timer", add_timer_thread, &remote_due);
  g_thread_join (worker);
  g_assert_cmpint (due.fires, ==, 0);
  while (g_atomic_int_get (&due.fires) == 0)
    g_main_context_iteration (f->context, TRUE);
  g_assert_true (due.thread == g_thread_self ());

  kaa_test_watchdog_free (watchdog);
}

/* ---------------------------------------------------------------- inbox */

#define INBOX_ITEMS 10000

typedef struct
{
  KaaScheduler *scheduler;
  Item         *items;
  guint         n_items;
  gint          go;   /* atomic */
} Producer;

static gpointer
producer_thread (gpointer data)
{
  Producer *producer = data;

  while (!g_atomic_int_get (&producer->go))
    g_thread_yield ();
  for (guint i = 0; i < producer->n_items; i++)
    kaa_scheduler_push_remote (producer->scheduler, &producer->items[i].runnable);
  return NULL;
}

static void
test_inbox_fifo (Fixture       *f,
                 gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  g_autoptr(GArray) log = log_new ();
  GSource *watchdog = kaa_test_watchdog_new (f->context, "delivery through the inbox");
  g_autofree Item *items = g_new0 (Item, 2 * INBOX_ITEMS);
  Producer producers[2];
  GThread *threads[2];
  guint next_expected[2] = { 0, INBOX_ITEMS };

  g_test_summary ("DESIGN §3: runnables pushed from other threads all run on the "
                  "owner thread, first in, first out per producer thread");

  for (guint p = 0; p < 2; p++)
    {
      producers[p] = (Producer) { scheduler, items + p * INBOX_ITEMS, INBOX_ITEMS, TRUE };
      for (guint i = 0; i < INBOX_ITEMS; i++)
        item_init (&producers[p].items[i], log, p * INBOX_ITEMS + i);
      threads[p] = g_thread_new ("producer", producer_thread, &producers[p]);
    }

  /* Drain while the producers are still pushing. */
  while (log->len < 2 * INBOX_ITEMS)
    g_main_context_iteration (f->context, TRUE);
  for (guint p = 0; p < 2; p++)
    g_thread_join (threads[p]);

  for (guint i = 0; i < log->len; i++)
    {
      guint id = g_array_index (log, guint, i);
      guint p = id / INBOX_ITEMS;

      g_assert_cmpuint (id, ==, next_expected[p]);
      next_expected[p]++;
    }
  for (guint i = 0; i < 2 * INBOX_ITEMS; i++)
    {
      g_assert_cmpint (items[i].runs, ==, 1);
      g_assert_true (items[i].thread == g_thread_self ());
    }
  g_assert_false (g_main_context_iteration (f->context, FALSE));
  kaa_test_watchdog_free (watchdog);
}

/* Tells the producer that the owner is about to block in poll. */
static gint owner_polling;
static gint wakeup_fd = -1;

static gint
recording_poll (GPollFD *ufds,
                guint    nfds,
                gint     timeout)
{
  /* A private context with no fd sources polls its wake-up fd only. */
  if (nfds == 1)
    wakeup_fd = ufds[0].fd;
  if (timeout != 0)
    g_atomic_int_set (&owner_polling, TRUE);
  return g_poll (ufds, nfds, timeout);
}

static gpointer
producer_when_polling (gpointer data)
{
  Producer *producer = data;

  while (!g_atomic_int_get (&owner_polling))
    g_thread_yield ();
  return producer_thread (producer);
}

static void
test_inbox_wakeup (Fixture       *f,
                   gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  GSource *watchdog = kaa_test_watchdog_new (f->context, "the inbox wake-up");
  g_autofree Item *items = g_new0 (Item, INBOX_ITEMS);
  Producer producer = { scheduler, items, INBOX_ITEMS, TRUE };
  GThread *thread;
  guint iterations = 0;

  g_test_summary ("DESIGN §3: a push into the inbox wakes an owner blocked in "
                  "g_main_context_iteration (ctx, TRUE), and one wake-up is "
                  "enough for a burst");

  /*   main                                 producer
   *   iteration (ctx, TRUE): poll blocks   sees the owner polling
   *                                        10 000 × push_remote
   *   woken; dispatches the burst */
  g_main_context_set_poll_func (f->context, recording_poll);
  g_atomic_int_set (&owner_polling, FALSE);
  for (guint i = 0; i < INBOX_ITEMS; i++)
    item_init (&items[i], NULL, i);
  thread = g_thread_new ("producer", producer_when_polling, &producer);

  g_assert_true (g_main_context_iteration (f->context, TRUE));
  g_assert_cmpint (count_runs (items, INBOX_ITEMS), >=, 1);
  while (count_runs (items, INBOX_ITEMS) < INBOX_ITEMS)
    {
      g_main_context_iteration (f->context, TRUE);
      iterations++;
    }
  g_thread_join (thread);
  g_test_message ("%u more iterations after the wake-up", iterations);

  g_main_context_set_poll_func (f->context, g_poll);
  kaa_test_watchdog_free (watchdog);
}

static gboolean
fd_is_eventfd (gint fd)
{
  g_autofree char *link = g_strdup_printf ("/proc/self/fd/%d", fd);
  g_autofree char *target = g_file_read_link (link, NULL);

  return target != NULL && strstr (target, "eventfd") != NULL;
}

/* The number of g_main_context_wakeup () calls since the last read: GLib
 * adds one to its eventfd per wake-up, and reading takes the sum. */
static guint64
take_wakeups (gint fd)
{
  guint64 count = 0;
  gssize n;

  do
    n = read (fd, &count, sizeof count);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      g_assert_cmpint (errno, ==, EAGAIN);
      return 0;
    }
  g_assert_cmpint (n, ==, sizeof count);
  return count;
}

static void
test_inbox_one_wakeup (Fixture       *f,
                       gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  g_autofree Item *items = g_new0 (Item, INBOX_ITEMS);
  Producer producer = { scheduler, items, INBOX_ITEMS, TRUE };
  GThread *thread;
  guint64 wakeups;

  g_test_summary ("DESIGN §3: completions from other threads arrive through one "
                  "queue and one wake-up: a burst of ten thousand pushes wakes "
                  "the owner once, and one dispatch takes them all");

  /* Learn the context's wake-up fd from one poll. */
  wakeup_fd = -1;
  g_main_context_set_poll_func (f->context, recording_poll);
  g_main_context_iteration (f->context, FALSE);
  g_main_context_set_poll_func (f->context, g_poll);
  g_assert_cmpint (wakeup_fd, >=, 0);
  if (!fd_is_eventfd (wakeup_fd))
    {
      g_test_skip ("GLib's wake-up is not an eventfd here; cannot count wake-ups");
      return;
    }
  take_wakeups (wakeup_fd);

  /* The owner does not iterate while the burst arrives. */
  for (guint i = 0; i < INBOX_ITEMS; i++)
    item_init (&items[i], NULL, i);
  thread = g_thread_new ("producer", producer_thread, &producer);
  g_thread_join (thread);

  wakeups = take_wakeups (wakeup_fd);
  g_assert_cmpuint (wakeups, ==, 1);

  /* The budget must not split what this checks. */
  kaa_main_set_budget ((gint64) G_USEC_PER_SEC * 3600);
  g_assert_true (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpuint (count_runs (items, INBOX_ITEMS), ==, INBOX_ITEMS);
  g_assert_false (g_main_context_iteration (f->context, FALSE));
}

/* ---------------------------------------------------- context destruction */

typedef struct
{
  KaaScheduler *scheduler;
  KaaRunnable  *runnable;
  TimerItem    *timer;
} RemotePush;

static gpointer
push_remote_thread (gpointer data)
{
  RemotePush *push = data;

  if (push->runnable != NULL)
    kaa_scheduler_push_remote (push->scheduler, push->runnable);
  if (push->timer != NULL)
    kaa_scheduler_add_timer (push->scheduler, &push->timer->timer,
                             kaa_scheduler_get_time (push->scheduler) +
                             (gint64) G_USEC_PER_SEC * 3600);
  return NULL;
}

static void
test_expect_remote (Fixture       *f,
                    gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  GSource *watchdog = kaa_test_watchdog_new (f->context, "a push after polling ended");
  Item items[2];
  RemotePush push = { scheduler, NULL, NULL };

  g_test_summary ("DESIGN §3: while the owner polls for an expected completion, a "
                  "push needs no wake-up, and none is lost when the push comes after "
                  "the polling time ran out but before the owner looked again");
  item_init (&items[0], NULL, 0);
  item_init (&items[1], NULL, 1);
  /* Polling is for the thread that iterates the context. */
  kaa_test_drain (f->context);

  /*   main                                  pusher
   *   expect_remote (now + 1 s)
   *                                         push A (owner polling: no wake-up)
   *   iteration (ctx, TRUE) until A ran: polls, never sleeps */
  kaa_scheduler_expect_remote (scheduler, g_get_monotonic_time () + G_USEC_PER_SEC);
  push.runnable = &items[0].runnable;
  g_thread_join (g_thread_new ("pusher", push_remote_thread, &push));
  while (count_runs (items, 1) < 1)
    g_main_context_iteration (f->context, TRUE);

  /*   expect_remote (now + 1 ms); sleep 5 ms
   *                                         push B (flag still set: no wake-up)
   *   iteration (ctx, TRUE): prepare sees the time ran out, clears the
   *   flag, finds B in the inbox and dispatches it instead of sleeping */
  while (g_main_context_iteration (f->context, FALSE))
    ;
  kaa_scheduler_expect_remote (scheduler, g_get_monotonic_time () + 1000);
  g_usleep (5000);
  push.runnable = &items[1].runnable;
  g_thread_join (g_thread_new ("pusher", push_remote_thread, &push));
  while (count_runs (items, 2) < 2)
    g_main_context_iteration (f->context, TRUE);

  kaa_test_watchdog_free (watchdog);
}

static void
test_context_death (Fixture       *f,
                    gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_ref (kaa_scheduler_get_thread_default ());
  Item ready, next, remote;
  TimerItem armed, remote_armed;
  RemotePush push = { scheduler, &remote.runnable, &remote_armed };
  GThread *worker;

  g_test_summary ("DESIGN §3: when its context goes away, everything still queued "
                  "in the scheduler (run queue, time slices, inbox, timers) is "
                  "discarded exactly once and never run");

  item_init (&ready, NULL, 0);
  item_init (&next, NULL, 1);
  item_init (&remote, NULL, 2);
  timer_item_init (&armed, NULL, 3);
  timer_item_init (&remote_armed, NULL, 4);

  kaa_scheduler_push (scheduler, &ready.runnable);
  kaa_scheduler_push_slice (scheduler, &next.runnable);
  kaa_scheduler_add_timer (scheduler, &armed.timer,
                           kaa_scheduler_get_time (scheduler) + (gint64) G_USEC_PER_SEC * 3600);
  worker = g_thread_new ("pusher", push_remote_thread, &push);
  g_thread_join (worker);
  /* The remote timer is still in the inbox, not in the heap. */
  g_assert_cmpuint (remote_armed.timer.index, ==, 0);

  kaa_test_fixture_kill_context (f);

  g_assert_cmpint (ready.runs, ==, 0);
  g_assert_cmpint (ready.discards, ==, 1);
  g_assert_cmpint (next.runs, ==, 0);
  g_assert_cmpint (next.discards, ==, 1);
  g_assert_cmpint (remote.runs, ==, 0);
  g_assert_cmpint (remote.discards, ==, 1);
  g_assert_cmpint (armed.fires, ==, 0);
  g_assert_cmpint (armed.discards, ==, 1);
  g_assert_cmpint (remote_armed.fires, ==, 0);
  g_assert_cmpint (remote_armed.discards, ==, 1);

  kaa_scheduler_unref (scheduler);
}

static void
test_context_death_late_push (Fixture       *f,
                              gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_ref (kaa_scheduler_get_thread_default ());
  Item late_remote, late_remote_thread, late_push, late_next;
  TimerItem late_remote_timer;
  RemotePush push = { scheduler, &late_remote_thread.runnable, &late_remote_timer };
  GThread *worker;

  g_test_summary ("DESIGN §3: after its context went away, anything pushed to the "
                  "scheduler, from any thread, is discarded at once");

  kaa_test_fixture_kill_context (f);

  item_init (&late_remote, NULL, 0);
  kaa_scheduler_push_remote (scheduler, &late_remote.runnable);
  g_assert_cmpint (late_remote.runs, ==, 0);
  g_assert_cmpint (late_remote.discards, ==, 1);

  item_init (&late_push, NULL, 1);
  kaa_scheduler_push (scheduler, &late_push.runnable);
  g_assert_cmpint (late_push.runs, ==, 0);
  g_assert_cmpint (late_push.discards, ==, 1);

  item_init (&late_next, NULL, 2);
  kaa_scheduler_push_slice (scheduler, &late_next.runnable);
  g_assert_cmpint (late_next.runs, ==, 0);
  g_assert_cmpint (late_next.discards, ==, 1);

  item_init (&late_remote_thread, NULL, 3);
  timer_item_init (&late_remote_timer, NULL, 4);
  worker = g_thread_new ("pusher", push_remote_thread, &push);
  g_thread_join (worker);
  g_assert_cmpint (late_remote_thread.runs, ==, 0);
  g_assert_cmpint (late_remote_thread.discards, ==, 1);
  g_assert_cmpint (late_remote_timer.fires, ==, 0);
  g_assert_cmpint (late_remote_timer.discards, ==, 1);

  kaa_scheduler_unref (scheduler);
}

static void
test_context_death_late_timer (Fixture       *f,
                               gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_ref (kaa_scheduler_get_thread_default ());
  TimerItem late;

  g_test_summary ("DESIGN §3: a timer armed on the owner thread after the context "
                  "went away is discarded at once, like a push; it must not stay "
                  "in a heap that nothing will ever fire");

  kaa_test_fixture_kill_context (f);

  timer_item_init (&late, NULL, 0);
  kaa_scheduler_add_timer (scheduler, &late.timer, kaa_scheduler_get_time (scheduler) - 1);
  g_assert_cmpint (late.fires, ==, 0);
  g_assert_cmpint (late.discards, ==, 1);
  g_assert_cmpuint (late.timer.index, ==, 0);

  kaa_scheduler_unref (scheduler);
}

#define DEATH_ROUNDS 2000

typedef struct
{
  KaaScheduler *target;   /* atomic pointer */
  gint          go;       /* atomic: round number released */
  gint          done;     /* atomic: round number finished */
  gint          discards; /* atomic */
  gint          runs;
  Item          item;     /* outlives both threads' use of it */
} DeathRace;

static void
death_race_run (KaaRunnable *runnable,
                gboolean     discard)
{
  DeathRace *race = ((Item *) runnable)->data;

  if (discard)
    g_atomic_int_inc (&race->discards);
  else
    race->runs++;
}

static gpointer
death_race_thread (gpointer data)
{
  DeathRace *race = data;

  for (gint i = 1; i <= DEATH_ROUNDS; i++)
    {
      /* Yield, not spin: under Valgrind only one thread runs at a time. */
      while (g_atomic_int_get (&race->go) != i)
        g_thread_yield ();
      kaa_scheduler_push_remote (g_atomic_pointer_get (&race->target), &race->item.runnable);
      g_atomic_int_set (&race->done, i);
    }
  return NULL;
}

static void
test_context_death_racing_push (Fixture       *f,
                                gconstpointer  data)
{
  DeathRace race = { NULL, 0, 0, 0, 0 };
  GThread *pusher;

  item_init (&race.item, NULL, 0);
  race.item.runnable.run = death_race_run;
  race.item.data = &race;

  g_test_summary ("DESIGN §3: a push_remote () racing with the destruction of the "
                  "owner context is either discarded by the destruction or right "
                  "away, and never touches the dying or freed context");

  /*   main, each round                      pusher, each round
   *   new context, its scheduler (ref)
   *   release the pusher ─────────────────► push_remote ()
   *   (a few ns of spin)                     │ races with
   *   g_main_context_unref () ◄──────────────┘
   *   wait for the push; unref scheduler */
  pusher = g_thread_new ("pusher", death_race_thread, &race);
  for (gint i = 1; i <= DEATH_ROUNDS; i++)
    {
      GMainContext *context = g_main_context_new ();
      KaaScheduler *scheduler = kaa_scheduler_get_for_context (context);

      g_atomic_pointer_set (&race.target, scheduler);
      g_atomic_int_set (&race.go, i);
      /* Vary the head start so the push lands all over the destruction. */
      for (volatile gint spin = 0; spin < (i % 64) * 8; spin++)
        ;
      g_main_context_unref (context);
      kaa_test_wait_for_round (&race.done, i);
      g_assert_cmpint (g_atomic_int_get (&race.discards), ==, i);
      kaa_scheduler_unref (scheduler);
    }
  g_thread_join (pusher);
  g_assert_cmpint (race.runs, ==, 0);
}

/* ------------------------------------------------------------ main loops */

static void
quit_loop (Item *item)
{
  g_main_loop_quit (item->data);
}

static void
timer_pushes_item (TimerItem *timer)
{
  Item *item = timer->data;

  kaa_scheduler_push (kaa_scheduler_get_thread_default (), &item->runnable);
}

/* Armed when the first item runs, not before the loop starts: on a slow
 * machine (Valgrind, a loaded CI) the loop may take longer than the
 * timer's 2 ms to reach its first dispatch, which then fires the timer
 * before the ready queue and logs 1 before 0. */
static void
arm_timer_item (Item *item)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  TimerItem *timer = item->data;

  kaa_scheduler_add_timer (scheduler, &timer->timer, kaa_scheduler_get_time (scheduler) + 2000);
}

static void
test_g_main_loop (Fixture       *f,
                  gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  GSource *watchdog = kaa_test_watchdog_new (f->context, "the timer inside g_main_loop_run ()");
  GMainLoop *loop = g_main_loop_new (f->context, FALSE);
  g_autoptr(GArray) log = log_new ();
  Item first, quit;
  TimerItem timer;
  static const guint expected[] = { 0, 1, 2 };

  g_test_summary ("DESIGN §3: the scheduler works inside a plain g_main_loop_run ()");

  /*   g_main_loop_run ─┐
   *     first: arms the timer
   *     (loop blocks until the timer is due)
   *     timer: pushes quit
   *     quit: g_main_loop_quit ()
   *   returns ◄────────┘ */
  item_init (&first, log, 0);
  timer_item_init (&timer, log, 1);
  timer.action = timer_pushes_item;
  timer.data = &quit;
  item_init (&quit, log, 2);
  quit.action = quit_loop;
  quit.data = loop;
  first.action = arm_timer_item;
  first.data = &timer;
  kaa_scheduler_push (scheduler, &first.runnable);

  g_main_loop_run (loop);

  assert_log (log, expected, G_N_ELEMENTS (expected));
  g_main_loop_unref (loop);
  kaa_test_watchdog_free (watchdog);
}

typedef struct
{
  KaaScheduler *scheduler;
  GMainLoop    *nested;
  Item         *inner;
  TimerItem    *timer;
} NestedPlan;

static void
run_nested_loop (Item *item)
{
  NestedPlan *plan = item->data;
  guint marker = 100;

  /* Pushed from inside this dispatch, but it can only run if the nested
   * loop dispatches the scheduler again. */
  kaa_scheduler_push (plan->scheduler, &plan->inner->runnable);
  kaa_scheduler_add_timer (plan->scheduler, &plan->timer->timer,
                           kaa_scheduler_get_time (plan->scheduler) + 1000);
  g_main_loop_run (plan->nested);
  g_array_append_val (item->log, marker);
}

static void
quit_nested_after_timer (Item *item)
{
  NestedPlan *plan = item->data;

  /* Keep the nested loop until the timer fired inside it too. */
  if (plan->timer->fires == 0)
    {
      kaa_scheduler_push_slice (plan->scheduler, &item->runnable);
      return;
    }
  g_main_loop_quit (plan->nested);
}

static void
test_nested_loop (Fixture       *f,
                  gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  GSource *watchdog = kaa_test_watchdog_new (f->context, "the nested loop");
  g_autoptr(GArray) log = log_new ();
  Item outer, inner;
  TimerItem timer;
  NestedPlan plan = { scheduler, g_main_loop_new (f->context, FALSE), &inner, &timer };
  guint n;

  g_test_summary ("DESIGN §3: a runnable may run a nested main loop, which keeps "
                  "dispatching the scheduler's other runnables and timers");

  /*   outer (1): push inner, arm timer, run nested loop ─┐
   *     nested: inner (2), re-queued until the timer     │
   *     nested: timer fires (3)                          │
   *     nested: inner (2) quits the nested loop          │
   *   outer: logs 100 ◄──────────────────────────────────┘ */
  item_init (&outer, log, 1);
  outer.action = run_nested_loop;
  outer.data = &plan;
  item_init (&inner, log, 2);
  inner.action = quit_nested_after_timer;
  inner.data = &plan;
  timer_item_init (&timer, log, 3);
  kaa_scheduler_push (scheduler, &outer.runnable);

  /* All of it happens inside the one outer dispatch. */
  g_assert_true (g_main_context_iteration (f->context, FALSE));

  n = log->len;
  g_assert_cmpuint (n, >=, 4);
  g_assert_cmpuint (g_array_index (log, guint, 0), ==, 1);
  for (guint i = 1; i < n - 3; i++)
    g_assert_cmpuint (g_array_index (log, guint, i), ==, 2);
  g_assert_cmpuint (g_array_index (log, guint, n - 3), ==, 3);
  g_assert_cmpuint (g_array_index (log, guint, n - 2), ==, 2);
  g_assert_cmpuint (g_array_index (log, guint, n - 1), ==, 100);
  g_assert_cmpint (outer.runs, ==, 1);
  g_assert_cmpint (timer.fires, ==, 1);
  g_assert_false (g_main_context_iteration (f->context, FALSE));

  g_main_loop_unref (plan.nested);
  kaa_test_watchdog_free (watchdog);
}

static void
main_quit_item (Item *item)
{
  kaa_main_quit ();
}

typedef struct
{
  KaaScheduler *scheduler;
  Item         *quit_inner;
  Item         *quit_outer;
} RunPlan;

static void
nested_main_run (Item *item)
{
  RunPlan *plan = item->data;
  guint marker = 100;

  kaa_scheduler_push (plan->scheduler, &plan->quit_inner->runnable);
  kaa_main_run ();
  g_array_append_val (item->log, marker);
  kaa_scheduler_push (plan->scheduler, &plan->quit_outer->runnable);
}

static void
test_main_run (Fixture       *f,
               gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  GSource *watchdog = kaa_test_watchdog_new (f->context, "kaa_main_quit ()");
  g_autoptr(GArray) log = log_new ();
  Item outer, quit_inner, quit_outer;
  RunPlan plan = { scheduler, &quit_inner, &quit_outer };
  static const guint expected[] = { 1, 2, 100, 3 };

  g_test_summary ("DESIGN §3: kaa_main_run () runs the thread-default context until "
                  "kaa_main_quit (); runs nest and each quit ends the innermost");

  /*   kaa_main_run ─┐
   *     outer: kaa_main_run ─┐
   *       quit_inner: kaa_main_quit ()
   *     outer: logs 100 ◄────┘, pushes quit_outer
   *     quit_outer: kaa_main_quit ()
   *   returns ◄─────┘ */
  item_init (&outer, log, 1);
  outer.action = nested_main_run;
  outer.data = &plan;
  item_init (&quit_inner, log, 2);
  quit_inner.action = main_quit_item;
  item_init (&quit_outer, log, 3);
  quit_outer.action = main_quit_item;

  /* Without a run in progress, quit does nothing. */
  kaa_main_quit ();

  kaa_scheduler_push (scheduler, &outer.runnable);
  kaa_main_run ();

  assert_log (log, expected, G_N_ELEMENTS (expected));
  kaa_test_watchdog_free (watchdog);
}

typedef struct
{
  GThread *thread;
  gint     quit_returned;   /* atomic */
} Quitter;

static gpointer
quit_thread (gpointer data)
{
  Quitter *quitter = data;

  kaa_main_quit ();
  g_atomic_int_set (&quitter->quit_returned, TRUE);
  return NULL;
}

static void
start_quit_thread (Item *item)
{
  Quitter *quitter = item->data;
  gint64 deadline = g_get_monotonic_time () + KAA_TEST_WATCHDOG_SEC * G_USEC_PER_SEC;

  quitter->thread = g_thread_new ("quitter", quit_thread, quitter);
  /* Hold this iteration until the quit has returned: the loop can only
   * end after it, which also orders the quitter's reads of the run list
   * before kaa_main_run () frees it (TSan cannot see GLib's mutexes). */
  while (!g_atomic_int_get (&quitter->quit_returned))
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
}

static void
test_main_quit_from_thread (void)
{
  GMainContext *global = g_main_context_default ();
  KaaScheduler *scheduler;
  GSource *watchdog;
  Quitter quitter = { NULL, FALSE };
  Item start;

  g_test_summary ("DESIGN §3: kaa_main_quit () is safe from any thread: from a "
                  "thread without a thread-default context it ends the run on "
                  "the global default context");

  /* This one runs on the global default context: a thread that has no
   * context of its own can only name that one. */
  g_assert_null (g_main_context_get_thread_default ());
  scheduler = kaa_scheduler_get_thread_default ();
  g_assert_true (kaa_scheduler_get_context (scheduler) == global);
  watchdog = kaa_test_watchdog_new (global, "kaa_main_quit () from another thread");

  /*   main                         quitter
   *   kaa_main_run ─┐
   *     start: spawns quitter  →   kaa_main_quit ()
   *     (waits for it to return)
   *   returns ◄─────┘ */
  item_init (&start, NULL, 0);
  start.action = start_quit_thread;
  start.data = &quitter;
  kaa_scheduler_push (scheduler, &start.runnable);
  kaa_main_run ();

  g_assert_nonnull (quitter.thread);
  g_thread_join (quitter.thread);
  g_assert_cmpint (start.runs, ==, 1);
  kaa_test_watchdog_free (watchdog);
  while (g_main_context_iteration (global, FALSE))
    ;
}

static void
test_main_step (Fixture       *f,
                gconstpointer  data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  GSource *watchdog = kaa_test_watchdog_new (f->context, "kaa_main_step (TRUE)");
  Item item;
  TimerItem timer;

  g_test_summary ("DESIGN §3: kaa_main_step () runs one iteration of the "
                  "thread-default context");

  g_assert_false (kaa_main_step (FALSE));

  item_init (&item, NULL, 0);
  kaa_scheduler_push (scheduler, &item.runnable);
  g_assert_true (kaa_main_step (FALSE));
  g_assert_cmpint (item.runs, ==, 1);
  g_assert_true (item.thread == g_thread_self ());
  g_assert_false (kaa_main_step (FALSE));

  /* May block: it waits for the timer. */
  timer_item_init (&timer, NULL, 1);
  kaa_scheduler_add_timer (scheduler, &timer.timer, kaa_scheduler_get_time (scheduler) + 5000);
  while (timer.fires == 0)
    kaa_main_step (TRUE);
  g_assert_cmpint (timer.fired_at, >=, timer.timer.deadline);

  kaa_test_watchdog_free (watchdog);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);


  KAA_TEST_ADD ("one-per-context", test_one_per_context);
  KAA_TEST_ADD ("one-source", test_one_source);
  KAA_TEST_ADD ("fifo", test_fifo);
  KAA_TEST_ADD ("push-in-dispatch", test_push_in_dispatch);
  KAA_TEST_ADD ("push-next-yield", test_push_next_yield);
  KAA_TEST_ADD ("budget", test_budget);
  KAA_TEST_ADD ("budget-default", test_budget_default);
  KAA_TEST_ADD ("budget-invalid", test_budget_invalid);
  KAA_TEST_ADD ("timer-order", test_timer_order);
  KAA_TEST_ADD ("timer-remove", test_timer_remove);
  KAA_TEST_ADD ("timer-many", test_timer_many);
  KAA_TEST_ADD ("timer-remote", test_timer_remote);
  KAA_TEST_ADD ("inbox-fifo", test_inbox_fifo);
  KAA_TEST_ADD ("inbox-wakeup", test_inbox_wakeup);
  KAA_TEST_ADD ("inbox-one-wakeup", test_inbox_one_wakeup);
  KAA_TEST_ADD ("expect-remote", test_expect_remote);
  KAA_TEST_ADD ("context-death", test_context_death);
  KAA_TEST_ADD ("context-death-late-push", test_context_death_late_push);
  KAA_TEST_ADD ("context-death-late-timer", test_context_death_late_timer);
  KAA_TEST_ADD ("context-death-racing-push", test_context_death_racing_push);
  KAA_TEST_ADD ("g-main-loop", test_g_main_loop);
  KAA_TEST_ADD ("nested-loop", test_nested_loop);
  KAA_TEST_ADD ("main-run", test_main_run);
  KAA_TEST_ADD ("main-step", test_main_step);
  g_test_add_func ("/kaa/scheduler/main-quit-from-thread", test_main_quit_from_thread);

  return g_test_run ();
}
