/* test-coroutine-many.c: many coroutines alive at once (DESIGN §4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A program of its own, in suite "slow": it maps a hundred thousand
 * stacks, which is quick natively but not under Valgrind.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define MANY 100000

/* TSan gives every fiber one of the 8128 slots it shares with threads and
 * dies past them (kaa-fiber.c detects it the same way): KAA_TEST_TSAN. */

/* True, with the test marked skipped, when @n_alive coroutines cannot all
 * be alive at once under this build. */
static gboolean
skip_too_many_fibers (guint n_alive)
{
  if (KAA_TEST_TSAN && n_alive > 8000)
    {
      g_autofree char *why = g_strdup_printf ("%u live coroutines: TSan stops "
                                              "at 8128 threads and fibers", n_alive);

      g_test_skip (why);
      return TRUE;
    }
  return FALSE;
}

typedef struct
{
  KaaInProgress *gate;
  guint          resumed;
} Crowd;

static void
body_waits_at_gate (KaaCoroutine *co,
                    gpointer      data)
{
  Crowd *crowd = data;

  if (kaa_await (kaa_in_progress_ref (crowd->gate), NULL))
    crowd->resumed++;
}

static void
test_many_suspended (Fixture       *f,
                     gconstpointer  data)
{
  Crowd crowd;
  KaaInProgress **ips;
  guint settled = 0;

  g_test_summary ("DESIGN §4, issue #3: 100 000 coroutines suspended at the same "
                  "time, each on a stack of its own with a guard region, all resume");
  if (skip_too_many_fibers (MANY))
    return;
  crowd = (Crowd) { kaa_in_progress_new (), 0 };
  ips = g_new (KaaInProgress *, MANY);

  for (guint i = 0; i < MANY; i++)
    {
      ips[i] = kaa_coroutine_spawn (body_waits_at_gate, &crowd, NULL);
      g_assert_false (kaa_in_progress_is_done (ips[i]));
    }
  kaa_in_progress_finish_pointer (crowd.gate, NULL, NULL);
  kaa_test_drain (f->context);

  g_assert_cmpuint (crowd.resumed, ==, MANY);
  for (guint i = 0; i < MANY; i++)
    {
      settled += kaa_in_progress_get_state (ips[i]) == KAA_STATE_FINISHED;
      kaa_in_progress_unref (ips[i]);
    }
  g_assert_cmpuint (settled, ==, MANY);
  kaa_in_progress_unref (crowd.gate);
  g_free (ips);
}

static void
body_chain (KaaCoroutine *co,
            gpointer      data)
{
  guint depth = GPOINTER_TO_UINT (data);
  gint64 below;

  if (depth == 0)
    {
      kaa_await (kaa_sleep (1), NULL);
      kaa_coroutine_return_int64 (co, 0);
      return;
    }
  below = kaa_await_int64 (kaa_coroutine_spawn (body_chain, GUINT_TO_POINTER (depth - 1), NULL),
                           NULL);
  kaa_coroutine_return_int64 (co, below + 1);
}

/* Runs the chain on a thread whose own stack is only 256 KiB. */
static gpointer
deep_chain_thread (gpointer data)
{
  GMainContext *context = g_main_context_new ();
  KaaInProgress *ip;
  gint64 *result = data;

  g_main_context_push_thread_default (context);
  ip = kaa_coroutine_spawn (body_chain, GUINT_TO_POINTER (MANY), NULL);
  if (kaa_in_progress_wait (ip, NULL))
    *result = kaa_in_progress_get_int64 (ip);
  kaa_in_progress_unref (ip);
  kaa_test_drain (context);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

/* Timeline: the outermost coroutine spawns the next, which spawns the
 * next ... each suspends in its await; the innermost awaits a sleep.
 * When it fires, each completion queues its parent on the scheduler,
 * which resumes them one after another from its dispatch loop: the
 * thread's stack never holds more than one of them, so 256 KiB do for a
 * chain that would need megabytes if completions resumed recursively. */
static void
test_deep_chain (Fixture       *f,
                 gconstpointer  data)
{
  pthread_attr_t attr;
  pthread_t thread;
  gint64 result = -1;

  g_test_summary ("DESIGN §4: a chain of 100 000 nested coroutines completing one "
                  "after another grows no stack: each resumes from the scheduler");
  if (skip_too_many_fibers (MANY))
    return;

  g_assert_cmpint (pthread_attr_init (&attr), ==, 0);
  g_assert_cmpint (pthread_attr_setstacksize (&attr, 256 * 1024), ==, 0);
  g_assert_cmpint (pthread_create (&thread, &attr, deep_chain_thread, &result), ==, 0);
  g_assert_cmpint (pthread_join (thread, NULL), ==, 0);
  pthread_attr_destroy (&attr);
  g_assert_cmpint (result, ==, MANY);
}

#define STATES 100000

typedef struct
{
  guint state;
  gsize rss_early;
  gsize rss_late;
} Machine;

static gsize
resident_bytes (void)
{
  g_autofree char *statm = NULL;
  unsigned long size = 0, resident = 0;

  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL));
  g_assert_cmpint (sscanf (statm, "%lu %lu", &size, &resident), ==, 2);
  return (gsize) resident * (gsize) sysconf (_SC_PAGESIZE);
}

/* One state: await a timer-finished future, then become the next state. */
static void
body_state (KaaCoroutine *co,
            gpointer      data)
{
  Machine *machine = data;

  if (!kaa_await (kaa_sleep (0), NULL))
    return;
  machine->state++;
  if (machine->state == STATES / 100)
    machine->rss_early = resident_bytes ();
  if (machine->state == STATES)
    {
      machine->rss_late = resident_bytes ();
      kaa_coroutine_return_int64 (co, machine->state);
      return;
    }
  kaa_coroutine_become (co, body_state, machine, NULL);
}

static void
test_state_machine (Fixture       *f,
                    gconstpointer  data)
{
  Machine machine = { 0, 0, 0 };
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_state, &machine, NULL);

  g_test_summary ("DESIGN §4: a 100 000-state asynchronous state machine, each state "
                  "awaiting a timer and becoming the next, runs in flat memory");

  g_assert_true (kaa_in_progress_wait (ip, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, STATES);
  g_test_message ("resident: %" G_GSIZE_FORMAT " KiB at state %d, %" G_GSIZE_FORMAT
                  " KiB at state %d", machine.rss_early / 1024, STATES / 100,
                  machine.rss_late / 1024, STATES);
#if defined (__SANITIZE_ADDRESS__)
  /* ASan's quarantine keeps freed memory resident on purpose; leaks are
   * LeakSanitizer's job in that build. */
#else
  /* A leak of even 64 bytes per state would add 6 MiB. */
  g_assert_cmpuint (machine.rss_late, <, machine.rss_early + 2 * 1024 * 1024);
#endif
}

#define SPINNERS   1000
#define BURN_USEC  50
#define TICK_MSEC  10
#define RUN_MSEC   300

typedef struct
{
  gboolean stop;
  guint    ticks;
} Spin;

static void
body_spins (KaaCoroutine *co,
            gpointer      data)
{
  Spin *spin = data;

  while (!spin->stop)
    {
      gint64 until = g_get_monotonic_time () + BURN_USEC;

      while (g_get_monotonic_time () < until)
        ;
      if (!kaa_yield ())
        return;
    }
}

static gboolean
count_tick (gpointer data)
{
  ((Spin *) data)->ticks++;
  return G_SOURCE_CONTINUE;
}

/* Timeline: 1000 coroutines each burn 50 µs per slice, 50 ms for a full
 * round; a 10 ms timeout runs beside them for 300 ms. With the budget,
 * each dispatch of slices stops after about 4 ms and the timeout comes
 * round close to every 10 ms; without it, once per 50 ms round. */
static void
test_budget_keeps_timer (Fixture       *f,
                         gconstpointer  data)
{
  Spin spin = { FALSE, 0 };
  g_autofree KaaInProgress **ips = g_new (KaaInProgress *, SPINNERS);
  GSource *timer = g_timeout_source_new (TICK_MSEC);
  gint64 end;

  g_test_summary ("DESIGN §3: the time budget keeps a 10 ms periodic timeout close "
                  "to its period while 1000 coroutines keep yielding");

  for (guint i = 0; i < SPINNERS; i++)
    ips[i] = kaa_coroutine_spawn (body_spins, &spin, NULL);
  g_source_set_callback (timer, count_tick, &spin, NULL);
  g_source_attach (timer, f->context);

  end = g_get_monotonic_time () + RUN_MSEC * 1000;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (f->context, TRUE);
  spin.stop = TRUE;
  g_source_destroy (timer);
  g_source_unref (timer);

  /* 30 periods; the budget gives about 20 to 30, no budget about 6. */
  g_test_message ("%u ticks of a %d ms timeout in %d ms", spin.ticks, TICK_MSEC, RUN_MSEC);
  g_assert_cmpuint (spin.ticks, >=, 12);
  for (guint i = 0; i < SPINNERS; i++)
    {
      while (!kaa_in_progress_is_done (ips[i]))
        g_main_context_iteration (f->context, TRUE);
      kaa_in_progress_unref (ips[i]);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/kaa/coroutine/many-suspended", Fixture, NULL,
              kaa_test_fixture_setup, test_many_suspended, kaa_test_fixture_teardown);
  g_test_add ("/kaa/coroutine/deep-chain", Fixture, NULL,
              kaa_test_fixture_setup, test_deep_chain, kaa_test_fixture_teardown);
  g_test_add ("/kaa/coroutine/state-machine", Fixture, NULL,
              kaa_test_fixture_setup, test_state_machine, kaa_test_fixture_teardown);
  g_test_add ("/kaa/coroutine/budget-keeps-timer", Fixture, NULL,
              kaa_test_fixture_setup, test_budget_keeps_timer, kaa_test_fixture_teardown);

  return g_test_run ();
}
