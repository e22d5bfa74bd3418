/* test-cascade.c: pause and cancel travelling through coroutines (DESIGN §6)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "cascade"

/* A chain of coroutines: level N awaits level N-1, level 0 awaits what
 * the test hands it. Each logs "<name>:got" or "<name>:cancelled" when its
 * await returns and "<name>:cleanup" from its g_autoptr cleanup. */
typedef struct
{
  GString       *log;
  KaaInProgress *bottom;   /* what level 0 awaits; owned by the test */
} Chain;

typedef struct
{
  Chain      *chain;
  const char *name;
  guint       level;
} Link;

static void
link_cleanup (Link *link)
{
  g_string_append_printf (link->chain->log, "%s:cleanup ", link->name);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Link, link_cleanup)

static const char *const names[] = { "c", "b", "a" };

static void body_link (KaaCoroutine *co,
                       gpointer      data);

static KaaInProgress *
link_spawn (Chain *chain,
            guint  level)
{
  Link *link = g_new0 (Link, 1);

  link->chain = chain;
  link->name = names[level];
  link->level = level;
  return kaa_coroutine_spawn (body_link, link, g_free);
}

static void
body_link (KaaCoroutine *co,
           gpointer      data)
{
  g_autoptr(Link) link = data;
  g_autoptr(GError) error = NULL;
  KaaInProgress *awaited = link->level == 0 ? kaa_in_progress_ref (link->chain->bottom)
                                            : link_spawn (link->chain, link->level - 1);

  if (kaa_await (awaited, &error))
    g_string_append_printf (link->chain->log, "%s:got ", link->name);
  else
    g_string_append_printf (link->chain->log, "%s:%s ", link->name,
                            g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                            ? "cancelled" : "failed");
}

static void
test_pause_holds_result (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) bottom = kaa_in_progress_new ();
  Chain chain = { log, bottom };
  g_autoptr(KaaInProgress) a = link_spawn (&chain, 2);

  g_test_summary ("DESIGN §6: a paused chain is not resumed when what it awaited "
                  "finishes; resume continues it from the scheduler, innermost first");

  kaa_in_progress_pause (a);
  g_assert_true (kaa_in_progress_is_paused (a));
  kaa_in_progress_finish_pointer (bottom, NULL, NULL);
  kaa_test_drain (f->context);
  /* c is not paused (only a was, and pause goes down to what a awaits, b,
   * and from b to c): each level holds its wake-up. */
  g_assert_cmpstr (log->str, ==, "");
  g_assert_false (kaa_in_progress_is_done (a));

  kaa_in_progress_resume (a);
  g_assert_cmpstr (log->str, ==, "");   /* never inside the call to resume */
  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, "c:got c:cleanup b:got b:cleanup a:got a:cleanup ");
  g_assert_true (kaa_in_progress_is_done (a));
}

static void
test_pause_freezes_sleep (Fixture       *f,
                          gconstpointer  data)
{
  /* Read before the sleep starts: spawning the chain takes milliseconds
   * under TSan on a loaded machine, and that time counts on the sleep. */
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) bottom = kaa_sleep (300);
  Chain chain = { log, bottom };
  g_autoptr(KaaInProgress) a = link_spawn (&chain, 2);

  g_test_summary ("DESIGN §6: pause travels down a → b → c → sleep, and the sleep "
                  "keeps its remaining time while paused");

  kaa_test_pump_for (30);
  kaa_in_progress_pause (a);
  g_assert_true (kaa_in_progress_is_paused (bottom));
  kaa_test_pump_for (200);
  g_assert_false (kaa_in_progress_is_done (bottom));
  g_assert_cmpstr (log->str, ==, "");

  kaa_in_progress_resume (a);
  g_assert_false (kaa_in_progress_is_paused (bottom));
  g_assert_true (kaa_in_progress_wait (a, NULL));
  g_assert_cmpstr (log->str, ==, "c:got c:cleanup b:got b:cleanup a:got a:cleanup ");
  /* 30 ms before the pause, 200 ms paused, the 270 ms left after it. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 490 * 1000);
}

static void
test_pause_counts (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) bottom = kaa_sleep (20);
  Chain chain = { log, bottom };
  g_autoptr(KaaInProgress) a = link_spawn (&chain, 1);

  g_test_summary ("DESIGN §6: two pauses need two resumes, and what lies beneath "
                  "is paused once");

  kaa_in_progress_pause (a);
  kaa_in_progress_pause (a);
  kaa_in_progress_resume (a);
  kaa_test_pump_for (60);
  g_assert_cmpstr (log->str, ==, "");
  g_assert_true (kaa_in_progress_is_paused (bottom));
  kaa_in_progress_resume (a);
  g_assert_false (kaa_in_progress_is_paused (bottom));
  g_assert_true (kaa_in_progress_wait (a, NULL));
  g_assert_cmpstr (log->str, ==, "c:got c:cleanup b:got b:cleanup ");
}

static void
test_cancel_while_paused (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) bottom = kaa_sleep (10000);
  Chain chain = { log, bottom };
  g_autoptr(KaaInProgress) a = link_spawn (&chain, 2);

  g_test_summary ("DESIGN §6: cancel wins over pause: a paused chain unwinds at once, "
                  "innermost first, and nothing beneath it stays paused or armed");

  kaa_in_progress_pause (a);
  kaa_in_progress_cancel (a);
  g_assert_cmpstr (log->str, ==,
                   "c:cancelled c:cleanup b:cancelled b:cleanup a:cancelled a:cleanup ");
  g_assert_cmpint (kaa_in_progress_get_state (bottom), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_test_next_wakeup_msec (f->context), ==, -1);
}

/* Pauses @top, which passes the pause down to @below, then cancels it. */
static void
assert_cancel_unpauses (KaaInProgress *top,
                        KaaInProgress *below)
{
  kaa_in_progress_pause (top);
  g_assert_true (kaa_in_progress_is_paused (below));
  kaa_in_progress_cancel (top);
  g_assert_cmpint (kaa_in_progress_get_state (below), ==, KAA_STATE_CANCELLED);
  g_assert_false (kaa_in_progress_is_paused (below));
  kaa_in_progress_resume (top);
}

static void
test_cancel_unpauses_beneath (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) bottom = kaa_sleep (10000);
  Chain chain = { log, bottom };
  g_autoptr(KaaInProgress) a = link_spawn (&chain, 0);
  g_autoptr(KaaInProgress) slept = kaa_sleep (10000);
  g_autoptr(KaaInProgress) any = kaa_any (kaa_test_ref_all (&slept, 1), 1);
  g_autoptr(KaaInProgress) input = kaa_sleep (10000);
  g_autoptr(KaaInProgress) timeout = kaa_timeout (kaa_in_progress_ref (input), 10000, FALSE);

  g_test_summary ("DESIGN §6: cancel wins over pause and leaves nothing beneath paused: "
                  "what a coroutine, a combinator or a timeout paused on its way down "
                  "is cancelled and no longer reads as paused");
  g_test_bug ("7");

  assert_cancel_unpauses (a, bottom);
  assert_cancel_unpauses (any, slept);
  assert_cancel_unpauses (timeout, input);
  g_assert_cmpstr (log->str, ==, "c:cancelled c:cleanup ");
}

static void
test_paused_shared_child (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) shared = kaa_sleep (20);
  Chain one = { log, shared };
  Chain two = { log, shared };
  g_autoptr(KaaInProgress) a = link_spawn (&one, 0);
  g_autoptr(KaaInProgress) b = link_spawn (&two, 0);

  g_test_summary ("DESIGN §6: pausing one of two awaiters leaves what they share "
                  "running for the other");

  kaa_in_progress_pause (a);
  g_assert_false (kaa_in_progress_is_paused (shared));
  kaa_test_pump_for (60);
  g_assert_true (kaa_in_progress_is_done (shared));
  g_assert_true (kaa_in_progress_is_done (b));
  g_assert_false (kaa_in_progress_is_done (a));
  kaa_in_progress_resume (a);
  kaa_test_drain (f->context);
  g_assert_true (kaa_in_progress_is_done (a));
  g_assert_cmpstr (log->str, ==, "c:got c:cleanup c:got c:cleanup ");
}

static void
body_spins (KaaCoroutine *co,
            gpointer      data)
{
  guint *slices = data;

  while (++*slices < 1000 && kaa_yield ())
    ;
}

static void
test_pause_stops_slices (Fixture       *f,
                         gconstpointer  data)
{
  guint slices = 0;
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_spins, &slices, NULL);

  g_test_summary ("DESIGN §6: a paused time-slicing coroutine runs no slice");

  g_main_context_iteration (f->context, FALSE);
  kaa_in_progress_pause (ip);
  for (guint i = 0; i < 10; i++)
    g_main_context_iteration (f->context, FALSE);
  g_assert_cmpuint (slices, ==, 2);
  kaa_in_progress_resume (ip);
  kaa_test_drain (f->context);
  g_assert_cmpuint (slices, ==, 1000);
}

/* The first body sleeps briefly, then becomes one that awaits a long
 * sleep: the pause must reach the new body's wait. */
static void
body_after_become (KaaCoroutine *co,
                   gpointer      data)
{
  KaaInProgress **wait = data;

  *wait = kaa_sleep (50);
  kaa_await (kaa_in_progress_ref (*wait), NULL);
}

static void
body_before_become (KaaCoroutine *co,
                    gpointer      data)
{
  kaa_await (kaa_sleep (1), NULL);
  kaa_coroutine_become (co, body_after_become, data, NULL);
}

static void
test_pause_after_become (Fixture       *f,
                         gconstpointer  data)
{
  KaaInProgress *wait = NULL;
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_before_become, &wait, NULL);

  g_test_summary ("DESIGN §6: after a tail call, pause and cancel reach the new "
                  "body's wait");

  while (wait == NULL)
    g_main_context_iteration (f->context, TRUE);
  kaa_in_progress_pause (ip);
  g_assert_true (kaa_in_progress_is_paused (wait));
  kaa_in_progress_cancel (ip);
  g_assert_cmpint (kaa_in_progress_get_state (wait), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_unref (wait);
}

static void
test_pause_through_combinator (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) one = kaa_sleep (20);
  g_autoptr(KaaInProgress) two = kaa_sleep (40);
  KaaInProgress *inputs[] = { kaa_in_progress_ref (one), kaa_in_progress_ref (two) };
  g_autoptr(KaaInProgress) both = kaa_all (inputs, G_N_ELEMENTS (inputs));
  Chain chain = { log, both };
  g_autoptr(KaaInProgress) a = link_spawn (&chain, 0);

  g_test_summary ("DESIGN §6: pause goes through a combinator to its inputs, and "
                  "resume brings them back");

  kaa_in_progress_pause (a);
  g_assert_true (kaa_in_progress_is_paused (both));
  g_assert_true (kaa_in_progress_is_paused (one));
  g_assert_true (kaa_in_progress_is_paused (two));
  kaa_test_pump_for (80);
  g_assert_false (kaa_in_progress_is_done (one));

  kaa_in_progress_resume (a);
  g_assert_false (kaa_in_progress_is_paused (one) || kaa_in_progress_is_paused (two));
  g_assert_true (kaa_in_progress_wait (a, NULL));
  g_assert_cmpstr (log->str, ==, "c:got c:cleanup ");
}

static void
test_cancel_combinator_shared_input (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) shared = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) own = kaa_in_progress_new ();
  KaaInProgress *inputs[] = { kaa_in_progress_ref (shared), kaa_in_progress_ref (own) };
  g_autoptr(KaaInProgress) race = kaa_any (inputs, G_N_ELEMENTS (inputs));
  Chain other = { log, shared };
  g_autoptr(KaaInProgress) waiter = link_spawn (&other, 0);

  g_test_summary ("DESIGN §6: cancelling a combinator cancels the inputs only it "
                  "awaits and detaches from those someone else awaits too");

  kaa_in_progress_cancel (race);
  g_assert_cmpint (kaa_in_progress_get_state (own), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (shared), ==, KAA_STATE_PENDING);
  kaa_in_progress_finish_pointer (shared, NULL, NULL);
  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, "c:got c:cleanup ");
}

static void
test_pause_freezes_timeout (Fixture       *f,
                            gconstpointer  data)
{
  /* Read before the timeout starts, as in test_pause_freezes_sleep. */
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) slow = kaa_sleep (2000);
  g_autoptr(KaaInProgress) deadline = kaa_timeout (kaa_in_progress_ref (slow), 300, TRUE);
  Chain chain = { log, deadline };
  g_autoptr(KaaInProgress) a = link_spawn (&chain, 0);

  g_test_summary ("DESIGN §6: a paused timeout keeps the time left to its deadline "
                  "and pauses its input");

  kaa_test_pump_for (20);
  kaa_in_progress_pause (a);
  g_assert_true (kaa_in_progress_is_paused (slow));
  kaa_test_pump_for (150);
  g_assert_false (kaa_in_progress_is_done (deadline));

  kaa_in_progress_resume (a);
  g_assert_true (kaa_in_progress_wait (a, NULL));
  g_assert_cmpstr (log->str, ==, "c:failed c:cleanup ");
  g_assert_error (kaa_in_progress_get_error (deadline), G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (kaa_in_progress_get_state (slow), ==, KAA_STATE_CANCELLED);
  /* 20 ms before the pause, 150 ms paused, the 280 ms left after it. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 450 * 1000);
}

static void
test_cancel_deep (Fixture       *f,
                  gconstpointer  data)
{
  KaaTestDeep deep;
  g_autoptr(KaaInProgress) ip = kaa_test_deep_new (&deep, 1000);

  g_test_summary ("DESIGN §6: cancelling the top of a 1000-deep chain returns with "
                  "every cleanup run, innermost first, without a main-loop iteration");

  g_assert_cmpuint (deep.n_cleaned, ==, 0);
  kaa_in_progress_cancel (ip);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (deep.bottom), ==, KAA_STATE_CANCELLED);
  kaa_test_deep_assert_unwound (&deep);

  /* A late finish of the cancelled bottom is dropped quietly. */
  kaa_in_progress_finish_pointer (deep.bottom, NULL, NULL);
  g_assert_cmpint (kaa_in_progress_get_state (deep.bottom), ==, KAA_STATE_CANCELLED);
  kaa_test_deep_clear (&deep);
}

static void
test_shield_stops_cascade (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) precious = kaa_sleep (10000);
  g_autoptr(KaaInProgress) shield = kaa_in_progress_shield (kaa_in_progress_ref (precious));
  Chain chain = { log, shield };
  g_autoptr(KaaInProgress) a = link_spawn (&chain, 1);

  g_test_summary ("DESIGN §6: a shield opts what it follows out of the cascade: "
                  "neither pause nor cancel reaches it");

  kaa_in_progress_pause (a);
  g_assert_false (kaa_in_progress_is_paused (precious));
  kaa_in_progress_cancel (a);
  g_assert_cmpstr (log->str, ==, "c:cancelled c:cleanup b:cancelled b:cleanup ");
  g_assert_cmpint (kaa_in_progress_get_state (precious), ==, KAA_STATE_PENDING);
  kaa_in_progress_cancel (precious);
}

static void
log_timed_out (KaaInProgress *ip,
               gpointer       data)
{
  g_string_append (data, "timeout ");
}

static void
test_timeout_cancels_coroutine (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) bottom = kaa_sleep (10000);
  Chain chain = { log, bottom };
  g_autoptr(KaaInProgress) a = link_spawn (&chain, 2);
  g_autoptr(KaaInProgress) deadline = kaa_timeout (kaa_in_progress_ref (a), 20, TRUE);

  g_test_summary ("DESIGN §6: a timeout that cancels its input unwinds a coroutine "
                  "chain, innermost first, before the timeout error is delivered");

  kaa_in_progress_connect (deadline, log_timed_out, log, NULL);
  g_assert_false (kaa_in_progress_wait (deadline, NULL));
  g_assert_error (kaa_in_progress_get_error (deadline), G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpstr (log->str, ==, "c:cancelled c:cleanup b:cancelled b:cleanup "
                                 "a:cancelled a:cleanup timeout ");
  g_assert_cmpint (kaa_in_progress_get_state (bottom), ==, KAA_STATE_CANCELLED);
}

/* A thread job that spins until it is cancelled, counting its checks. */
typedef struct
{
  gint checks;    /* atomic: checks that returned TRUE */
  gint stopped;   /* atomic: the job saw its cancel and returned */
} Spinner;

static gpointer
job_spins (KaaThreadJob  *job,
           gpointer       data,
           GError       **error)
{
  Spinner *spinner = data;

  while (kaa_thread_job_check (job))
    {
      g_atomic_int_inc (&spinner->checks);
      g_usleep (1000);
    }
  g_atomic_int_set (&spinner->stopped, TRUE);
  return NULL;
}

static void
body_awaits_job (KaaCoroutine *co,
                 gpointer      data)
{
  kaa_await (kaa_thread_run (job_spins, data, NULL), NULL);
}

static void
wait_for_checks (Spinner *spinner,
                 gint     at_least)
{
  while (g_atomic_int_get (&spinner->checks) < at_least)
    g_usleep (1000);
}

static void
test_thread_job_cascade (Fixture       *f,
                         gconstpointer  data)
{
  Spinner spinner = { 0, FALSE };
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_awaits_job, &spinner, NULL);
  gint paused_at;

  g_test_summary ("DESIGN §6: pause and cancel of a coroutine reach the thread job it "
                  "awaits: paused, the job waits in its check; cancelled, its check "
                  "fails and the coroutine is cancelled at once");

  wait_for_checks (&spinner, 3);
  kaa_in_progress_pause (ip);
  /* The job may be between a check and its increment once. */
  paused_at = g_atomic_int_get (&spinner.checks) + 1;
  g_usleep (30 * 1000);
  g_assert_cmpint (g_atomic_int_get (&spinner.checks), <=, paused_at);

  kaa_in_progress_resume (ip);
  wait_for_checks (&spinner, paused_at + 3);
  kaa_in_progress_cancel (ip);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  while (!g_atomic_int_get (&spinner.stopped))
    g_usleep (1000);
}

static gpointer
cancel_in_thread (gpointer data)
{
  kaa_in_progress_cancel (data);
  return NULL;
}

typedef struct
{
  GThread *owner;
  gint     wrong_thread;
} ThreadCheck;

static void
record_cleanup_thread (KaaInProgress *ip,
                       gpointer       data)
{
  ThreadCheck *check = data;

  if (g_thread_self () != check->owner)
    check->wrong_thread++;
}

static void
test_cancel_from_other_thread (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) bottom = kaa_sleep (10000);
  Chain chain = { log, bottom };
  g_autoptr(KaaInProgress) a = link_spawn (&chain, 2);
  ThreadCheck check = { g_thread_self (), 0 };

  g_test_summary ("DESIGN §6: a cancel from another thread unwinds the chain promptly "
                  "on the owner context, innermost first");

  kaa_in_progress_connect (a, record_cleanup_thread, &check, NULL);
  g_thread_join (g_thread_new ("canceller", cancel_in_thread, a));
  /* Carried out by the owner, at its next dispatch. */
  while (!kaa_in_progress_is_done (a))
    g_main_context_iteration (f->context, TRUE);
  g_assert_cmpint (kaa_in_progress_get_state (a), ==, KAA_STATE_CANCELLED);
  g_assert_cmpstr (log->str, ==,
                   "c:cancelled c:cleanup b:cancelled b:cleanup a:cancelled a:cleanup ");
  g_assert_cmpint (check.wrong_thread, ==, 0);
  g_assert_cmpint (kaa_in_progress_get_state (bottom), ==, KAA_STATE_CANCELLED);
}

static void
body_ticks (KaaCoroutine *co,
            gpointer      data)
{
  guint *ticks = data;

  while (++*ticks < 1000 && kaa_yield ())
    ;
}

static const KaaCoroutineDef ticker = {
  .name = "ticker",
  .func = body_ticks,
  .interval = 5,
};

static void
test_pause_interval (Fixture       *f,
                     gconstpointer  data)
{
  guint ticks = 0;
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn_def (&ticker, NULL, &ticks, NULL);
  guint paused_at;

  g_test_summary ("DESIGN §6: a paused interval coroutine runs no slice");

  kaa_test_pump_for (30);
  kaa_in_progress_pause (ip);
  paused_at = ticks;
  kaa_test_pump_for (50);
  g_assert_cmpuint (ticks, ==, paused_at);
  kaa_in_progress_resume (ip);
  kaa_test_pump_for (30);
  g_assert_cmpuint (ticks, >, paused_at);
  kaa_in_progress_cancel (ip);
}

static void
body_cancels_itself (KaaCoroutine *co,
                     gpointer      data)
{
  GString *log = data;
  g_autoptr(GError) error = NULL;

  kaa_in_progress_cancel (kaa_coroutine_get_in_progress (co));
  /* Still running: the cancel takes effect at the next suspension. */
  g_string_append (log, "still-running ");
  if (!kaa_await (kaa_sleep (10000), &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_string_append (log, "await-cancelled ");
  if (!kaa_yield ())
    g_string_append (log, "yield-false ");
}

static void
test_cancel_self (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_cancels_itself, log, NULL);

  g_test_summary ("DESIGN §6: a coroutine that cancels itself is cancelled when it "
                  "next suspends: that await, and every later one, returns at once");

  g_assert_cmpstr (log->str, ==, "still-running await-cancelled yield-false ");
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_test_next_wakeup_msec (f->context), ==, -1);
}

static void
test_pause_after_awaited_finished (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) bottom = kaa_in_progress_new ();
  Chain chain = { log, bottom };
  g_autoptr(KaaInProgress) a = link_spawn (&chain, 0);

  g_test_summary ("DESIGN §6: paused between the finish of what it awaits and its "
                  "resumption, a coroutine holds the result, and its resume does not "
                  "resume what is already done");

  /* Settled: the coroutine's wake-up is queued, not run yet. */
  kaa_in_progress_finish_pointer (bottom, NULL, NULL);
  kaa_in_progress_pause (a);
  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, "");
  kaa_in_progress_resume (a);
  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, "c:got c:cleanup ");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);


  KAA_TEST_ADD ("pause-holds-result", test_pause_holds_result);
  KAA_TEST_ADD ("pause-freezes-sleep", test_pause_freezes_sleep);
  KAA_TEST_ADD ("pause-counts", test_pause_counts);
  KAA_TEST_ADD ("cancel-while-paused", test_cancel_while_paused);
  KAA_TEST_ADD ("cancel-unpauses-beneath", test_cancel_unpauses_beneath);
  KAA_TEST_ADD ("paused-shared-child", test_paused_shared_child);
  KAA_TEST_ADD ("pause-stops-slices", test_pause_stops_slices);
  KAA_TEST_ADD ("pause-after-become", test_pause_after_become);
  KAA_TEST_ADD ("pause-through-combinator", test_pause_through_combinator);
  KAA_TEST_ADD ("cancel-combinator-shared-input", test_cancel_combinator_shared_input);
  KAA_TEST_ADD ("pause-freezes-timeout", test_pause_freezes_timeout);
  KAA_TEST_ADD ("cancel-deep", test_cancel_deep);
  KAA_TEST_ADD ("shield-stops-cascade", test_shield_stops_cascade);
  KAA_TEST_ADD ("timeout-cancels-coroutine", test_timeout_cancels_coroutine);
  KAA_TEST_ADD ("thread-job-cascade", test_thread_job_cascade);
  KAA_TEST_ADD ("cancel-from-other-thread", test_cancel_from_other_thread);
  KAA_TEST_ADD ("pause-interval", test_pause_interval);
  KAA_TEST_ADD ("cancel-self", test_cancel_self);
  KAA_TEST_ADD ("pause-after-awaited-finished", test_pause_after_awaited_finished);

  return g_test_run ();
}
