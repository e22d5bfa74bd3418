/* test-spawn-cache.c: each thread's spare stacks, coroutine and InProgress blocks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Issue #20: a thread keeps the last stacks and coroutine blocks it freed
 * (kaa-fiber-stack-cache.c, kaa-alloc-spare.c) and a spawn takes them
 * first. These tests try to break that: reuse must look like a fresh
 * allocation, stacks must go back to the shared pool when their thread
 * exits, the pool's counts must stay true, guards must still stop an
 * overflow on a reused stack, and a spawn from a finishing coroutine's
 * cleanup must not get the block that is being freed.
 */
#include "config.h"

#include "kaa-test-util.h"
#include "kaa-alloc-private.h"
#include "kaa-fiber-private.h"
#include "kaa-live-private.h"

#define KAA_TEST_AREA "spawn-cache"
#define ISSUE_REF     "issue #20"

#if defined (__SANITIZE_ADDRESS__)
# define TEST_ASAN 1
#elif defined (__has_feature)
# if __has_feature (address_sanitizer)
#  define TEST_ASAN 1
# endif
#endif
#ifndef TEST_ASAN
# define TEST_ASAN 0
#endif

typedef KaaTestFixture Fixture;

static void
body_returns_self (KaaCoroutine *co,
                   gpointer      data)
{
  *(gpointer *) data = co;
  kaa_coroutine_return_int64 (co, 7);
}

static void
body_yields_returns_self (KaaCoroutine *co,
                          gpointer      data)
{
  *(gpointer *) data = co;
  if (kaa_yield ())
    kaa_coroutine_return_int64 (co, 7);
}

static void
body_awaits_forever (KaaCoroutine *co,
                     gpointer      data)
{
  *(gpointer *) data = co;
  kaa_await (kaa_sleep (60000), NULL);
}

static gint64
run_to_end (Fixture       *f,
            KaaInProgress *ip)
{
  gint64 result;

  while (!kaa_in_progress_is_done (ip))
    g_main_context_iteration (f->context, TRUE);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  result = kaa_in_progress_get_int64 (ip);
  kaa_in_progress_unref (ip);
  return result;
}

/* ------------------------------------------------------------- reuse */

static void
test_reuse_is_fresh (Fixture       *f,
                     gconstpointer  data)
{
  gpointer first = NULL, second = NULL;
  KaaInProgress *ip;
  KaaStackPoolStats before, after;

  g_test_summary ("the block of a coroutine cancelled while suspended is the next "
                  "spawn's, zeroed: the new coroutine is not cancelled, runs its body "
                  "and returns; its stack is the one the first freed, from the "
                  "thread's cache (" ISSUE_REF ")");

  ip = kaa_coroutine_spawn (body_awaits_forever, &first, NULL);
  kaa_in_progress_cancel (ip);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_unref (ip);
  kaa_test_drain (f->context);

  kaa_stack_pool_get_stats_for_testing (&before);
  g_assert_cmpuint (before.n_cached, >=, 1);
  ip = kaa_coroutine_spawn (body_yields_returns_self, &second, NULL);
  kaa_stack_pool_get_stats_for_testing (&after);
  /* The stack came out of the cache, not the shared lists. */
  g_assert_cmpuint (after.n_cached, ==, before.n_cached - 1);
  g_assert_cmpuint (after.n_pooled, ==, before.n_pooled - 1);
  g_assert_cmpuint (after.n_live, ==, before.n_live + 1);
  g_assert_cmpint (run_to_end (f, ip), ==, 7);
  /* The same block: the test did exercise the cache. */
  g_assert_true (first == second);
}

/* -------------------------------------------------- threads that exit */

#define N_THREADS  6
#define N_SEQUENCE 200
#define N_BURST    40

static void
body_yields_once (KaaCoroutine *co,
                  gpointer      data)
{
  if (kaa_yield ())
    kaa_coroutine_return_int64 (co, 1);
}

/* A thread with its own context: coroutines one after another, then a
 * burst that overflows the cache, then it exits with a full cache. */
static gpointer
thread_spawns (gpointer data)
{
  GMainContext *context = g_main_context_new ();
  KaaInProgress *burst[N_BURST];
  gint64 sum = 0;

  g_main_context_push_thread_default (context);
  for (guint i = 0; i < N_SEQUENCE; i++)
    {
      KaaInProgress *ip = kaa_coroutine_spawn (body_yields_once, NULL, NULL);

      while (!kaa_in_progress_is_done (ip))
        g_main_context_iteration (context, TRUE);
      sum += kaa_in_progress_get_int64 (ip);
      kaa_in_progress_unref (ip);
    }
  for (guint i = 0; i < N_BURST; i++)
    burst[i] = kaa_coroutine_spawn (body_yields_once, NULL, NULL);
  for (guint i = 0; i < N_BURST; i++)
    {
      while (!kaa_in_progress_is_done (burst[i]))
        g_main_context_iteration (context, TRUE);
      sum += kaa_in_progress_get_int64 (burst[i]);
      kaa_in_progress_unref (burst[i]);
    }
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return GSIZE_TO_POINTER ((gsize) sum);
}

static void
test_threads_exit (Fixture       *f,
                   gconstpointer  data)
{
  GThread *threads[N_THREADS];
  KaaStackPoolStats before, after;

  g_test_summary ("threads that spawn coroutines on their own contexts and exit with "
                  "full caches give their stacks back to the shared pool: no stack "
                  "stays counted live or cached, and a trim can return their pages "
                  "(" ISSUE_REF ")");

  kaa_stack_pool_trim_for_testing ();
  kaa_stack_pool_get_stats_for_testing (&before);
  for (guint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("spawn-cache", thread_spawns, NULL);
  for (guint i = 0; i < N_THREADS; i++)
    g_assert_cmpuint (GPOINTER_TO_SIZE (g_thread_join (threads[i])), ==, N_SEQUENCE + N_BURST);

  kaa_stack_pool_get_stats_for_testing (&after);
  g_assert_cmpuint (after.n_live, ==, before.n_live);
  /* Only this thread's cache is left. */
  g_assert_cmpuint (after.n_cached, ==, before.n_cached);
  g_assert_cmpuint (after.n_pooled, >=, MAX (before.n_pooled, N_BURST));
  g_assert_cmpint (kaa_live_get (KAA_LIVE_STACK), ==, f->live[KAA_LIVE_STACK]);
  g_assert_cmpint (kaa_live_get (KAA_LIVE_COROUTINE), ==, f->live[KAA_LIVE_COROUTINE]);

  /* What the threads gave back is in the shared lists, where a trim
   * reaches it: at most the warm bound (256) keeps its pages. */
  kaa_stack_pool_trim_for_testing ();
  kaa_stack_pool_get_stats_for_testing (&after);
  g_assert_cmpuint (after.n_pooled - after.n_trimmed, <=, 256);
}

/* ---------------------------------------------------- the idle trim */

#define N_TRIM_BURST 800
/* The pool's warm bound, trim interval and batch (kaa-fiber-stack.c). */
#define WARM_BOUND   256
#define TRIM_USEC    G_USEC_PER_SEC
#define TRIM_BATCH   128
/* The pool's next batch, at most this much later (kaa-fiber-stack.c). */
#define TRIM_AGAIN_MSEC 25
/* After idle iterations that did not sleep, a loop's wake-ups that go by
 * before it looks at the clock again (kaa-scheduler-trim.c). */
#define TRIM_UNTIMED    63

static void
body_sleeps (KaaCoroutine *co,
             gpointer      data)
{
  kaa_await (kaa_sleep (GPOINTER_TO_UINT (data)), NULL);
  kaa_coroutine_return_int64 (co, 1);
}

/* Frees, one after the other, that once read the clock and trimmed. */
static void
spawn_some (Fixture *f)
{
  for (guint i = 0; i < 32; i++)
    g_assert_cmpint (run_to_end (f, kaa_coroutine_spawn (body_yields_once, NULL, NULL)), ==, 1);
}

/* A burst of @n coroutines alive together. With @sleep_msec they all
 * sleep that long before they end, and their loop, with nothing else to
 * do meanwhile, may run a trim batch while they hold their stacks. */
static void
run_burst (Fixture *f,
           guint    n,
           guint    sleep_msec)
{
  g_autofree KaaInProgress **burst = g_new (KaaInProgress *, n);

  for (guint i = 0; i < n; i++)
    burst[i] = sleep_msec > 0 ? kaa_coroutine_spawn (body_sleeps, GUINT_TO_POINTER (sleep_msec),
                                                     NULL)
                              : kaa_coroutine_spawn (body_yields_once, NULL, NULL);
  for (guint i = 0; i < n; i++)
    {
      while (!kaa_in_progress_is_done (burst[i]))
        g_main_context_iteration (f->context, TRUE);
      kaa_in_progress_unref (burst[i]);
    }
}

/* The pooled stacks of the shared lists that keep their pages. The
 * pool trims while they are past the warm bound; the threads' caches
 * count towards the bound too, so a trim may leave the lists under it. */
static guint
lists_untrimmed (const KaaStackPoolStats *stats)
{
  return stats->n_pooled - stats->n_cached - stats->n_trimmed;
}

/* Blocking iterations of a context with nothing to do, at most @n, while
 * a trim is pending: each sleeps until the pool's next batch. Returns
 * how many it took for the lists to be down to the warm bound. */
static guint
idle_until_trimmed (Fixture           *f,
                    guint              n,
                    KaaStackPoolStats *stats)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "an idle trim");
  guint i;

  for (i = 0; i < n && kaa_stack_pool_trim_is_pending (); i++)
    g_main_context_iteration (f->context, TRUE);
  kaa_test_watchdog_free (watchdog);
  kaa_stack_pool_get_stats_for_testing (stats);
  return i;
}

/* A burst past the warm bound; the trim interval, during which the
 * thread frees and drains its context without ever sleeping: no trim,
 * then a first batch once its loop sleeps, within the wake-ups that go
 * untimed after a drain. FALSE, the test skipped, if the burst was too
 * small to tell. */
static gboolean
burst_then_first_batch (Fixture           *f,
                        KaaStackPoolStats *before,
                        KaaStackPoolStats *stats)
{
  GSource *watchdog;

  /* The interval starts now: the burst is not trimmed while it ends. */
  kaa_stack_pool_trim_for_testing ();
  run_burst (f, N_TRIM_BURST, 0);
  kaa_stack_pool_get_stats_for_testing (before);
  if (lists_untrimmed (before) <= WARM_BOUND + TRIM_BATCH)
    {
      g_test_skip ("the burst left too few stacks in the shared pool");
      return FALSE;
    }
  g_usleep (TRIM_USEC + TRIM_USEC / 10);
  spawn_some (f);
  kaa_test_drain (f->context);
  kaa_stack_pool_get_stats_for_testing (stats);
  g_assert_cmpuint (stats->n_trimmed, ==, before->n_trimmed);

  watchdog = kaa_test_watchdog_new (f->context, "the first trim batch");
  for (guint i = 0; i <= TRIM_UNTIMED && stats->n_trimmed == before->n_trimmed; i++)
    {
      g_main_context_iteration (f->context, TRUE);
      kaa_stack_pool_get_stats_for_testing (stats);
    }
  kaa_test_watchdog_free (watchdog);
  g_assert_cmpuint (stats->n_trimmed, >, before->n_trimmed);
  return TRUE;
}

static void
test_idle_trim (Fixture       *f,
                gconstpointer  data)
{
  KaaStackPoolStats stats, before;

  g_test_summary ("after a burst of coroutines no free trims the pool, however long "
                  "after, nor does a loop that never sleeps: the loop trims when it "
                  "has nothing to do, a batch per wake-up, the next within moments, "
                  "until the pool is down to its warm bound (" ISSUE_REF ")");

  if (!burst_then_first_batch (f, &before, &stats))
    return;
  g_assert_cmpuint (stats.n_trimmed, <=, before.n_trimmed + TRIM_BATCH);

  /* Each batch its own wake-up, 25 ms apart, not a second: eight of them
   * cover the burst, twelve wake-ups leave room to spare. */
  g_assert_cmpuint (idle_until_trimmed (f, 12, &stats), >=,
                    (lists_untrimmed (&before) - WARM_BOUND) / TRIM_BATCH - 1);
  g_assert_cmpuint (lists_untrimmed (&stats), <=, WARM_BOUND);
  /* Done: no idle loop wakes for the pool any more. */
  g_assert_false (kaa_stack_pool_trim_is_pending ());
}

/* A batched trim goes on where its previous batch stopped. Between two
 * batches, a burst takes stacks from the free list, down past where the
 * last batch stopped, and gives them back: the next batches must neither
 * lose their place in a list that changed nor leave stacks untrimmed,
 * and the stacks handed out again work (a reused trimmed stack is fresh
 * pages). */
static void
test_trim_interleaved (Fixture       *f,
                       gconstpointer  data)
{
  KaaStackPoolStats stats, before;

  g_test_summary ("a batched trim of the stack pool keeps its place across bursts "
                  "that take and give back the stacks it was going through, and "
                  "ends with every stack past the warm bound trimmed (" ISSUE_REF ")");

  if (!burst_then_first_batch (f, &before, &stats))
    return;

  /* Past where the batch stopped, trimmed stacks included, and back; the
   * next batches come while the burst sleeps on those stacks. */
  for (guint round = 0; round < 3; round++)
    {
      run_burst (f, WARM_BOUND + 2 * TRIM_BATCH + 50 * round, 2 * TRIM_AGAIN_MSEC);
      kaa_stack_pool_get_stats_for_testing (&stats);
      g_assert_cmpuint (stats.n_trimmed, <=, stats.n_pooled);
    }
  idle_until_trimmed (f, 40, &stats);
  g_assert_false (kaa_stack_pool_trim_is_pending ());
  g_assert_cmpuint (lists_untrimmed (&stats), <=, WARM_BOUND);
  kaa_stack_pool_trim_for_testing ();
  kaa_stack_pool_get_stats_for_testing (&stats);
  g_assert_cmpuint (stats.n_pooled - stats.n_trimmed, <=, WARM_BOUND);
  run_burst (f, N_TRIM_BURST, 0);
}

/* A thread with its own context, where a burst of coroutines runs and
 * ends; it exits, and its cache goes back to the shared pool. */
static gpointer
thread_bursts (gpointer data)
{
  KaaTestFixture f = { 0 };

  f.context = g_main_context_new ();
  g_main_context_push_thread_default (f.context);
  run_burst (&f, N_TRIM_BURST, 0);
  g_main_context_pop_thread_default (f.context);
  g_main_context_unref (f.context);
  return NULL;
}

/* A thread whose loop idles while a trim is pending, at most @data
 * wake-ups; then its context goes, pending trim or not. */
static gpointer
thread_idles (gpointer data)
{
  KaaTestFixture f = { 0 };
  guint wakeups = GPOINTER_TO_UINT (data), i;
  GSource *watchdog;

  f.context = g_main_context_new ();
  g_main_context_push_thread_default (f.context);
  /* Its scheduler's source, which runs the trims, is attached now. */
  g_assert_cmpint (run_to_end (&f, kaa_coroutine_spawn (body_yields_once, NULL, NULL)), ==, 1);
  watchdog = kaa_test_watchdog_new (f.context, "an idle trim on a thread");
  for (i = 0; i < wakeups && kaa_stack_pool_trim_is_pending (); i++)
    g_main_context_iteration (f.context, TRUE);
  kaa_test_watchdog_free (watchdog);
  g_main_context_pop_thread_default (f.context);
  g_main_context_unref (f.context);
  return GUINT_TO_POINTER (i);
}

static void
test_trim_other_threads (Fixture       *f,
                         gconstpointer  data)
{
  GThread *idlers[3];
  KaaStackPoolStats before, stats;

  g_test_summary ("stacks a burst freed on a thread that then exited are trimmed by "
                  "the idle loops of other threads, three at once, one of whose "
                  "contexts goes away after a few wake-ups while the trim is still "
                  "under way; the thread that made the burst and this one never "
                  "iterate meanwhile (" ISSUE_REF ")");

  /* The interval starts now: the burst is not trimmed while it ends. */
  kaa_stack_pool_trim_for_testing ();
  g_thread_join (g_thread_new ("burst", thread_bursts, NULL));
  kaa_stack_pool_get_stats_for_testing (&before);
  if (lists_untrimmed (&before) <= WARM_BOUND + 2 * TRIM_BATCH)
    {
      g_test_skip ("the burst left too few stacks in the shared pool");
      return;
    }
  g_assert_true (kaa_stack_pool_trim_is_pending ());

  idlers[0] = g_thread_new ("idle", thread_idles, GUINT_TO_POINTER (2));
  idlers[1] = g_thread_new ("idle", thread_idles, GUINT_TO_POINTER (400));
  idlers[2] = g_thread_new ("idle", thread_idles, GUINT_TO_POINTER (400));
  for (guint i = 0; i < G_N_ELEMENTS (idlers); i++)
    g_thread_join (idlers[i]);

  kaa_stack_pool_get_stats_for_testing (&stats);
  g_assert_false (kaa_stack_pool_trim_is_pending ());
  g_assert_cmpuint (stats.n_trimmed, >, before.n_trimmed);
  g_assert_cmpuint (lists_untrimmed (&stats), <=, WARM_BOUND);
  g_assert_cmpuint (stats.n_live, ==, before.n_live);
  /* Trimmed stacks are handed out again as fresh pages. */
  run_burst (f, N_TRIM_BURST, 0);
}

/* ---------------------------------------------------- a dying context */

typedef struct
{
  gint spawned;
  gint destroyed;
} Chain;

#define CHAIN_LENGTH 4

static void chain_destroy (gpointer data);

static void
body_never_runs (KaaCoroutine *co,
                 gpointer      data)
{
  g_assert_not_reached ();
}

/* Runs in coroutine_unref() of a coroutine that never began (its context
 * was dying), before its block is given back: spawns the next one, which
 * must get another block. */
static void
chain_destroy (gpointer data)
{
  Chain *chain = data;
  KaaInProgress *next;

  chain->destroyed++;
  if (chain->spawned == CHAIN_LENGTH)
    return;
  chain->spawned++;
  next = kaa_coroutine_spawn (body_never_runs, chain, chain_destroy);
  g_assert_cmpint (kaa_in_progress_get_state (next), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_unref (next);
}

static void
body_spawns_in_sweep (KaaCoroutine *co,
                      gpointer      data)
{
  Chain *chain = data;
  KaaInProgress *stray;

  if (kaa_await (kaa_sleep (60000), NULL))
    return;
  /* Cancelled by the sweep of the dying context: what it spawns goes
   * with the context before it begins, and is freed at once. */
  chain->spawned++;
  stray = kaa_coroutine_spawn (body_never_runs, chain, chain_destroy);
  g_assert_cmpint (kaa_in_progress_get_state (stray), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_unref (stray);
}

static void
test_dying_context (Fixture       *f,
                    gconstpointer  data)
{
  Chain chain = { 0, 0 };
  gpointer cached = NULL;
  KaaInProgress *ip;

  g_test_summary ("a context dies with finished coroutines' blocks cached and a "
                  "coroutine suspended; in the sweep it spawns a chain of coroutines, "
                  "each from the destroy notify of the one before, run while that one "
                  "is being freed: each is freed exactly once and nothing leaks "
                  "(" ISSUE_REF ")");

  g_assert_cmpint (run_to_end (f, kaa_coroutine_spawn (body_returns_self, &cached, NULL)), ==, 7);
  ip = kaa_coroutine_spawn (body_spawns_in_sweep, &chain, NULL);
  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_unref (ip);
  g_assert_cmpint (chain.spawned, ==, CHAIN_LENGTH);
  g_assert_cmpint (chain.destroyed, ==, CHAIN_LENGTH);
  g_assert_cmpint (kaa_live_get (KAA_LIVE_COROUTINE), ==, f->live[KAA_LIVE_COROUTINE]);
}

/* ------------------------------------------- overflow on a reused stack */

static void
body_big_frames (KaaCoroutine *co,
                 gpointer      data)
{
  /* One frame of 96 KiB, more than the whole 64 KiB stack, then the
   * recursion: either way the first store out of bounds is in the guard
   * (256 KiB below a default stack). */
  volatile char big[96 * 1024];

  big[0] = 1;
  big[sizeof big - 1] = 1;
  kaa_coroutine_return_int64 (co, big[0] + kaa_test_recurse (0));
}

static const KaaCoroutineDef deep_def = {
  .name = "deep-on-cached-stack",
  .func = body_big_frames,
};

static void
test_overflow_on_cached_stack (Fixture       *f,
                               gconstpointer  data)
{
  g_test_summary ("a coroutine with a frame bigger than its stack, on a stack reused "
                  "from the thread's cache, faults in the guard and is reported by "
                  "name, as on a stack from the pool (" ISSUE_REF ")");

  if (g_test_subprocess ())
    {
      gpointer warm = NULL;
      KaaStackPoolStats before;
      KaaInProgress *ip;

      g_assert_cmpint (run_to_end (f, kaa_coroutine_spawn (body_returns_self, &warm, NULL)),
                       ==, 7);
      kaa_stack_pool_get_stats_for_testing (&before);
      g_assert_cmpuint (before.n_cached, >=, 1);
      g_test_message ("%u stacks cached before the deep one", before.n_cached);
      /* A stack of the default size comes from the cache when it holds
       * one; the body runs at once, on it. */
      ip = kaa_coroutine_spawn_def (&deep_def, NULL, NULL, NULL);
      kaa_in_progress_unref (ip);
      g_assert_not_reached ();
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*stack overflow in coroutine deep-on-cached-stack "
                             "(stack size 65536 bytes)*");
}

/* ------------------------------------------------ InProgress blocks */

static void
count_call (KaaInProgress *ip,
            gpointer       data)
{
  (*(guint *) data)++;
}

static void
test_in_progress_reuse_is_fresh (Fixture       *f,
                                 gconstpointer  data)
{
  KaaInProgress *first, *second;
  guint calls = 0;

  g_test_summary ("the block of an InProgress that was named, cancelled with a "
                  "cancellable, connected to and had its error seen is the next "
                  "InProgress's, and that one starts blank: pending, unnamed, without "
                  "the first one's callback, and its failure unseen, so that it warns "
                  "(" ISSUE_REF ")");

  first = kaa_in_progress_new ();
  kaa_in_progress_set_name (first, "spare-first");
  g_assert_nonnull (kaa_in_progress_get_cancellable (first));
  kaa_in_progress_connect (first, count_call, &calls, NULL);
  kaa_in_progress_cancel (first);
  g_assert_false (kaa_in_progress_get_error (first) == NULL);
  g_assert_cmpuint (calls, ==, 1);
  kaa_in_progress_unref (first);

  second = kaa_in_progress_new ();
  /* The same block: the test did exercise the spares. */
  g_assert_true (second == first);
  g_assert_cmpint (kaa_in_progress_get_state (second), ==, KAA_STATE_PENDING);
  g_assert_null (kaa_in_progress_get_name (second));
  kaa_in_progress_fail (second, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "spare"));
  /* The first one's callback is not this one's. */
  kaa_test_drain (f->context);
  g_assert_cmpuint (calls, ==, 1);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_WARNING, "*failed and nobody handled its error*");
  kaa_in_progress_unref (second);
  g_test_assert_expected_messages ();
}

#define N_HANDED 64

/* On the worker: drops the last reference of each. */
static void
unref_all (gpointer data)
{
  KaaInProgress **ips = data;

  for (guint i = 0; i < N_HANDED; i++)
    kaa_in_progress_unref (ips[i]);
}

/* On the worker: makes each, finished. */
static void
make_all (gpointer data)
{
  KaaInProgress **ips = data;

  for (guint i = 0; i < N_HANDED; i++)
    {
      ips[i] = kaa_in_progress_new ();
      kaa_in_progress_finish_int64 (ips[i], i);
    }
}

static void
test_in_progress_freed_elsewhere (Fixture       *f,
                                  gconstpointer  data)
{
  KaaInProgress *ips[N_HANDED];
  KaaTestWorker worker = { 0 };
  KaaInProgress *ip;

  g_test_summary ("InProgresses made on one thread and freed on another are kept by "
                  "the thread that frees them, which may exit with them: none is "
                  "counted live afterwards, nothing leaks, and both sides go on making "
                  "new ones (" ISSUE_REF ")");

  kaa_test_worker_start (&worker);
  for (guint i = 0; i < N_HANDED; i++)
    {
      ips[i] = kaa_in_progress_new ();
      kaa_in_progress_finish_int64 (ips[i], i);
    }
  kaa_test_worker_call (&worker, unref_all, ips);
  kaa_test_worker_call (&worker, make_all, ips);
  for (guint i = 0; i < N_HANDED; i++)
    {
      g_assert_cmpint (kaa_in_progress_get_int64 (ips[i]), ==, i);
      kaa_in_progress_unref (ips[i]);
    }
  kaa_test_worker_call (&worker, make_all, ips);
  kaa_test_worker_call (&worker, unref_all, ips);
  /* It exits holding spare blocks of both threads' making. */
  kaa_test_worker_kill (&worker);
  g_assert_cmpint (kaa_live_get (KAA_LIVE_IN_PROGRESS), ==, f->live[KAA_LIVE_IN_PROGRESS]);

  ip = kaa_in_progress_new ();
  kaa_in_progress_finish_int64 (ip, 5);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 5);
  kaa_in_progress_unref (ip);
}

/* ----------------------------------------------------------- surplus */

#define N_SURPLUS_BURST 300
/* The few each thread keeps of each kind, and what its loop gives back
 * per idle wake-up past them (kaa-alloc-private.h, kaa-alloc-spare.c). */
#define SPARE_BLOCKS       16
#define SURPLUS_TRIM_BATCH 4096

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Blocking iterations of a context with nothing to do but a tick every
 * 2 ms, at most @n, while the spares have a trim pending: they wake no
 * loop themselves. Returns how many it took. */
static guint
idle_until_spares_trimmed (Fixture *f,
                           guint    n)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "an idle trim of the spares");
  GSource *ticker = g_timeout_source_new (2);
  guint i;

  g_source_set_callback (ticker, tick, NULL, NULL);
  g_source_attach (ticker, f->context);
  for (i = 0; i < n && kaa_spare_trim_is_pending (); i++)
    g_main_context_iteration (f->context, TRUE);
  g_source_destroy (ticker);
  g_source_unref (ticker);
  kaa_test_watchdog_free (watchdog);
  return i;
}

static void
spawn_burst (KaaInProgress **burst,
             guint           n)
{
  for (guint i = 0; i < n; i++)
    burst[i] = kaa_coroutine_spawn (body_yields_once, NULL, NULL);
}

static void
finish_burst (Fixture        *f,
              KaaInProgress **burst,
              guint           n)
{
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (run_to_end (f, burst[i]), ==, 1);
}

static void
test_surplus_kept_then_trimmed (Fixture       *f,
                                gconstpointer  data)
{
  KaaInProgress *burst[N_SURPLUS_BURST];
  guint kept;

  g_test_summary ("the blocks of a burst of coroutines that end together on a thread "
                  "whose loop runs them are kept past the few, the next burst takes "
                  "them back as fresh blocks, and the loop, which they never wake, "
                  "gives them all to malloc() once it has slept with nothing to do "
                  "(" ISSUE_REF ")");

  /* This thread's loop has run the scheduler: it keeps a surplus. */
  g_assert_cmpint (run_to_end (f, kaa_coroutine_spawn (body_yields_once, NULL, NULL)), ==, 1);
  idle_until_spares_trimmed (f, TRIM_UNTIMED + 2);
  g_assert_false (kaa_spare_trim_is_pending ());
  g_assert_cmpuint (kaa_spare_get_surplus_for_testing (KAA_SPARE_COROUTINE), ==, 0);

  spawn_burst (burst, N_SURPLUS_BURST);
  finish_burst (f, burst, N_SURPLUS_BURST);
  kept = kaa_spare_get_surplus_for_testing (KAA_SPARE_COROUTINE);
  g_assert_cmpuint (kept, >=, N_SURPLUS_BURST - SPARE_BLOCKS);
  g_assert_cmpuint (kaa_spare_get_surplus_for_testing (KAA_SPARE_IN_PROGRESS), >=,
                    N_SURPLUS_BURST - SPARE_BLOCKS);
  g_assert_true (kaa_spare_trim_is_pending ());

  /* Taken back, the few first: each runs as a fresh coroutine would. */
  spawn_burst (burst, N_SURPLUS_BURST / 2);
  g_assert_cmpuint (kaa_spare_get_surplus_for_testing (KAA_SPARE_COROUTINE), <=,
                    kept - (N_SURPLUS_BURST / 2 - SPARE_BLOCKS));
  finish_burst (f, burst, N_SURPLUS_BURST / 2);

  /* Nothing else to do: the surplus wakes the loop for nothing. */
  g_assert_cmpint (kaa_test_next_wakeup_msec (f->context), ==, -1);
  g_assert_cmpuint (idle_until_spares_trimmed (f, TRIM_UNTIMED + 2), >=, 1);
  g_assert_false (kaa_spare_trim_is_pending ());
  g_assert_cmpuint (kaa_spare_get_surplus_for_testing (KAA_SPARE_COROUTINE), ==, 0);
  g_assert_cmpuint (kaa_spare_get_surplus_for_testing (KAA_SPARE_IN_PROGRESS), ==, 0);
  g_assert_cmpint (kaa_live_get (KAA_LIVE_COROUTINE), ==, f->live[KAA_LIVE_COROUTINE]);
}

static void
test_surplus_bounded (Fixture       *f,
                      gconstpointer  data)
{
  guint n = KAA_SPARE_SURPLUS_MAX + SPARE_BLOCKS + 100;
  g_autofree KaaInProgress **ips = g_new (KaaInProgress *, n);
  guint trims;

  g_test_summary ("a loop thread keeps at most KAA_SPARE_SURPLUS_MAX blocks of a kind "
                  "past the few, however large the burst, hands them out blank, and "
                  "gives them back to malloc() a batch per idle wake-up (" ISSUE_REF ")");

  g_assert_cmpint (run_to_end (f, kaa_coroutine_spawn (body_yields_once, NULL, NULL)), ==, 1);
  idle_until_spares_trimmed (f, TRIM_UNTIMED + 2);
  for (guint i = 0; i < n; i++)
    {
      ips[i] = kaa_in_progress_new ();
      kaa_in_progress_set_name (ips[i], "surplus");
      kaa_in_progress_finish_int64 (ips[i], i);
    }
  for (guint i = 0; i < n; i++)
    kaa_in_progress_unref (ips[i]);
  g_assert_cmpuint (kaa_spare_get_surplus_for_testing (KAA_SPARE_IN_PROGRESS), ==,
                    KAA_SPARE_SURPLUS_MAX);

  /* Past the few, from the surplus: blank, as a new block. */
  for (guint i = 0; i < 2 * SPARE_BLOCKS; i++)
    ips[i] = kaa_in_progress_new ();
  g_assert_cmpuint (kaa_spare_get_surplus_for_testing (KAA_SPARE_IN_PROGRESS), ==,
                    KAA_SPARE_SURPLUS_MAX - SPARE_BLOCKS);
  for (guint i = 0; i < 2 * SPARE_BLOCKS; i++)
    {
      g_assert_cmpint (kaa_in_progress_get_state (ips[i]), ==, KAA_STATE_PENDING);
      g_assert_null (kaa_in_progress_get_name (ips[i]));
      kaa_in_progress_unref (ips[i]);
    }
  trims = idle_until_spares_trimmed (f, TRIM_UNTIMED + KAA_SPARE_SURPLUS_MAX / SURPLUS_TRIM_BATCH + 1);
  g_assert_cmpuint (trims, >=, KAA_SPARE_SURPLUS_MAX / SURPLUS_TRIM_BATCH);
  g_assert_false (kaa_spare_trim_is_pending ());
  g_assert_cmpuint (kaa_spare_get_surplus_for_testing (KAA_SPARE_IN_PROGRESS), ==, 0);
}

#define N_WORKER_FREES 200

/* On the worker: makes and drops InProgresses, then says what it kept. */
static void
make_and_drop (gpointer data)
{
  KaaInProgress *ips[N_WORKER_FREES];

  for (guint i = 0; i < N_WORKER_FREES; i++)
    ips[i] = kaa_in_progress_new ();
  for (guint i = 0; i < N_WORKER_FREES; i++)
    kaa_in_progress_unref (ips[i]);
  *(guint *) data = kaa_spare_get_surplus_for_testing (KAA_SPARE_IN_PROGRESS);
}

static void
test_surplus_not_on_workers (Fixture       *f,
                             gconstpointer  data)
{
  KaaTestWorker worker = { 0 };
  guint kept = G_MAXUINT;

  g_test_summary ("a thread that runs no loop, which would never trim, keeps only the "
                  "few blocks it freed, not the surplus of a burst (" ISSUE_REF ")");

  kaa_test_worker_start (&worker);
  kaa_test_worker_call (&worker, make_and_drop, &kept);
  kaa_test_worker_kill (&worker);
  g_assert_cmpuint (kept, ==, 0);
}

/* --------------------------------------------- a use after the finish */

static void
test_use_after_finish (Fixture       *f,
                       gconstpointer  data)
{
  g_test_summary ("under AddressSanitizer a read of a finished coroutine's cached block "
                  "is reported, as a read of freed memory would be (" ISSUE_REF ")");

  if (!TEST_ASAN)
    {
      g_test_skip ("only AddressSanitizer sees it");
      return;
    }
  if (g_test_subprocess ())
    {
      KaaCoroutine *finished = NULL;

      g_assert_cmpint (run_to_end (f, kaa_coroutine_spawn (body_returns_self, &finished,
                                                           NULL)), ==, 7);
      /* The block is in this thread's cache now. */
      g_test_message ("%d", *(volatile gint *) finished);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*AddressSanitizer*");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("reuse-is-fresh", test_reuse_is_fresh);
  KAA_TEST_ADD ("threads-exit", test_threads_exit);
  KAA_TEST_ADD ("idle-trim", test_idle_trim);
  KAA_TEST_ADD ("trim-interleaved", test_trim_interleaved);
  KAA_TEST_ADD ("trim-other-threads", test_trim_other_threads);
  KAA_TEST_ADD ("dying-context", test_dying_context);
  KAA_TEST_ADD ("overflow-on-cached-stack", test_overflow_on_cached_stack);
  KAA_TEST_ADD ("use-after-finish", test_use_after_finish);
  KAA_TEST_ADD ("in-progress-reuse-is-fresh", test_in_progress_reuse_is_fresh);
  KAA_TEST_ADD ("in-progress-freed-elsewhere", test_in_progress_freed_elsewhere);
  KAA_TEST_ADD ("surplus-kept-then-trimmed", test_surplus_kept_then_trimmed);
  KAA_TEST_ADD ("surplus-bounded", test_surplus_bounded);
  KAA_TEST_ADD ("surplus-not-on-workers", test_surplus_not_on_workers);

  return g_test_run ();
}
