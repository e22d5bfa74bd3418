/* kaa-test-util.c: what every test program needs around a private context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "kaa-test-util.h"
#include "kaa-fiber-private.h"
#include "kaa-live-private.h"

void
kaa_test_fixture_setup (KaaTestFixture *f,
                        gconstpointer   data)
{
  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
  for (guint i = 0; i < KAA_LIVE_N_KINDS; i++)
    f->live[i] = kaa_live_get (i);
}

/* Leak accounting (issue #7): a test ends with as many live coroutines,
 * InProgresses, stacks, thread jobs and armed timers as it began with. A
 * cancelled job may still be returning on its worker, holding its
 * InProgress: it gets a few seconds to do so. */
static void
assert_nothing_left (KaaTestFixture *f)
{
  static const char *const names[] = {
    "InProgress", "coroutine", "stack", "thread job", "armed timer"
  };
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (kaa_live_get (KAA_LIVE_THREAD_JOB) != f->live[KAA_LIVE_THREAD_JOB] &&
         g_get_monotonic_time () < deadline)
    g_usleep (1000);
  for (guint i = 0; i < KAA_LIVE_N_KINDS; i++)
    if (kaa_live_get (i) != f->live[i])
      g_error ("%s objects live: %" G_GINT64_FORMAT " after the test, %" G_GINT64_FORMAT " before",
               names[i], kaa_live_get (i), f->live[i]);
}

void
kaa_test_fixture_teardown (KaaTestFixture *f,
                           gconstpointer   data)
{
  /* A test that killed its context on purpose has already let go of it;
   * what the context held went with it (issue #17). */
  if (f->context == NULL)
    {
      assert_nothing_left (f);
      return;
    }
  kaa_test_drain (f->context);
  g_main_context_pop_thread_default (f->context);
  g_main_context_unref (f->context);
  assert_nothing_left (f);
}

/* For tests that must leave their context quiet: nothing ready, and no
 * timer armed that would ever wake it. */
void
kaa_test_fixture_teardown_quiet (KaaTestFixture *f,
                                 gconstpointer   data)
{
  kaa_test_drain (f->context);
  g_assert_cmpint (kaa_test_next_wakeup_msec (f->context), ==, -1);
  kaa_test_fixture_teardown (f, data);
}

void
kaa_test_fixture_kill_context (KaaTestFixture *f)
{
  g_main_context_pop_thread_default (f->context);
  g_clear_pointer (&f->context, g_main_context_unref);
}

/* Runs the context until nothing is ready; never blocks. */
void
kaa_test_drain (GMainContext *context)
{
  while (g_main_context_iteration (context, FALSE))
    ;
}

/* One non-blocking iteration done by hand, returning the poll timeout the
 * context asked for: -1 when nothing (no armed timer) would ever wake it.
 * The stack pool's trims are done first: while one is pending an idle
 * loop wakes for its batches (kaa-fiber-stack.c), whatever the context
 * holds, and the tests that asked for many stacks before would leave one
 * pending for those after them. */
gint
kaa_test_next_wakeup_msec (GMainContext *context)
{
  GPollFD fds[16];
  gint max_priority;
  gint timeout = -1;
  gint n_fds;

  kaa_stack_pool_trim_for_testing ();
  g_assert_true (g_main_context_acquire (context));
  g_main_context_prepare (context, &max_priority);
  n_fds = g_main_context_query (context, max_priority, &timeout, fds, G_N_ELEMENTS (fds));
  g_assert_cmpint (n_fds, <=, (gint) G_N_ELEMENTS (fds));
  if (g_main_context_check (context, max_priority, fds, n_fds))
    g_main_context_dispatch (context);
  g_main_context_release (context);
  return timeout;
}

/* Pumps the thread-default context for @msec through a kaa_sleep(). */
void
kaa_test_pump_for (guint msec)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KaaInProgress) pause = kaa_sleep (msec);

  g_assert_true (kaa_in_progress_wait (pause, &error));
  g_assert_no_error (error);
}

/* A coroutine that yields once, then returns 42. */
void
kaa_test_body_yield_then_return (KaaCoroutine *co,
                                 gpointer      data)
{
  if (kaa_yield ())
    kaa_coroutine_return_int64 (co, 42);
}

/* After a bad call: an ordinary coroutine still settles across one
 * main-loop iteration. Inside a coroutine it is awaited, outside it is
 * waited for. */
void
kaa_test_still_works (void)
{
  g_autoptr(GError) error = NULL;
  KaaInProgress *ip = kaa_coroutine_spawn (kaa_test_body_yield_then_return, NULL, NULL);
  gint64 result;

  if (kaa_coroutine_self () != NULL)
    result = kaa_await_int64 (ip, &error);
  else
    {
      g_assert_true (kaa_in_progress_wait (ip, &error));
      result = kaa_in_progress_get_int64 (ip);
      kaa_in_progress_unref (ip);
    }
  g_assert_no_error (error);
  g_assert_cmpint (result, ==, 42);
}

/* Waits for a racing thread to report @round done. Bounded, so that a
 * racer stuck (on a freed context, say) fails the test instead of hanging
 * it; yielding, so that it also progresses under Valgrind, where only one
 * thread runs at a time. */
void
kaa_test_wait_for_round (gint *done,
                         gint  round)
{
  gint64 deadline = g_get_monotonic_time () + KAA_TEST_WATCHDOG_SEC * G_USEC_PER_SEC;

  while (g_atomic_int_get (done) != round)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("round %d of a race did not finish within %d s: the racing "
                 "thread is stuck", round, KAA_TEST_WATCHDOG_SEC);
      g_thread_yield ();
    }
}

static gboolean
watchdog_fire (gpointer data)
{
  kaa_test_print_dump ();
  g_error ("watchdog: %s did not happen within %d s", (const char *) data,
           KAA_TEST_WATCHDOG_SEC);
  return G_SOURCE_REMOVE;
}

/* What every coroutine and job is doing, for a test that stopped
 * moving: its failure says where things stand, not only that it hung. */
void
kaa_test_print_dump (void)
{
  g_autofree char *dump = kaa_dump_to_string ();

  g_printerr ("%s", dump);
}

/* Guards a blocking iteration: a missing wake-up fails the test instead
 * of hanging it. */
GSource *
kaa_test_watchdog_new (GMainContext *context,
                       const char   *what)
{
  GSource *source = g_timeout_source_new_seconds (KAA_TEST_WATCHDOG_SEC);

  g_source_set_callback (source, watchdog_fire, (gpointer) what, NULL);
  g_source_attach (source, context);
  return source;
}

void
kaa_test_watchdog_free (GSource *source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

/* A pool with a name no other test of the process uses. */
KaaThreadPool *
kaa_test_pool_new (guint max_threads)
{
  static gint counter;
  g_autofree char *name = g_strdup_printf ("test-%d", g_atomic_int_add (&counter, 1));

  return kaa_thread_pool_new (name, max_threads);
}

/* Bounded spin on an atomic, from any thread: a missed event fails the
 * test instead of hanging it. */
void
kaa_test_spin_until (gint *flag,
                     gint  value)
{
  gint64 deadline = g_get_monotonic_time () + KAA_TEST_WATCHDOG_SEC * G_USEC_PER_SEC;

  while (g_atomic_int_get (flag) < value)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("watchdog: a flag did not reach %d within %d s", value, KAA_TEST_WATCHDOG_SEC);
      g_usleep (100);
    }
}

/* Far deeper than any stack; volatile so the compiler cannot prove the
 * recursion endless or bounded. */
static volatile guint recurse_limit = G_MAXUINT;

/* Recurses with 512-byte frames until the stack overflows. */
guint
kaa_test_recurse (guint depth)
{
  volatile char frame[512];

  if (depth >= recurse_limit)
    return 0;
  frame[0] = (char) depth;
  /* Not a tail call: the result is used after the call returns. */
  return kaa_test_recurse (depth + 1) + frame[0];
}

/* A job that does nothing. */
gpointer
kaa_test_job_nothing (KaaThreadJob *job,
                      gpointer      data,
                      GError      **error)
{
  return NULL;
}

/* A job that returns 6. */
gpointer
kaa_test_job_returns_six (KaaThreadJob *job,
                          gpointer      data,
                          GError      **error)
{
  kaa_thread_job_return_int64 (job, 6);
  return NULL;
}

/* After a bad call: @pool still runs a job to its end. */
void
kaa_test_pool_still_works (KaaThreadPool *pool)
{
  g_autoptr(KaaInProgress) ip = kaa_thread_pool_run (pool, 0, kaa_test_job_returns_six,
                                                     NULL, NULL);

  g_assert_true (kaa_in_progress_wait (ip, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 6);
}

/* Iterates @context until @ip is done, bounded. */
void
kaa_test_pump_until_done (GMainContext  *context,
                          KaaInProgress *ip)
{
  GSource *watchdog = kaa_test_watchdog_new (context, "a thread job");

  while (!kaa_in_progress_is_done (ip))
    g_main_context_iteration (context, TRUE);
  kaa_test_watchdog_free (watchdog);
}

/* For a consuming call (DESIGN §2) whose inputs the test still reads
 * afterwards: the caller keeps a reference of its own to each of @ips.
 * Returns @ips. */
KaaInProgress **
kaa_test_ref_all (KaaInProgress **ips,
                  guint           n_ips)
{
  for (guint i = 0; i < n_ips; i++)
    kaa_in_progress_ref (ips[i]);
  return ips;
}

/* Iterates @context without ever blocking, until @ip is done; bounded.
 * For an @ip that another thread settles, which no iteration of
 * @context would wake up for. */
void
kaa_test_poll_until_done (GMainContext  *context,
                          KaaInProgress *ip)
{
  gint64 deadline = g_get_monotonic_time () + KAA_TEST_WATCHDOG_SEC * G_USEC_PER_SEC;

  while (!kaa_in_progress_is_done (ip))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("watchdog: an InProgress did not settle within %d s", KAA_TEST_WATCHDOG_SEC);
      if (!g_main_context_iteration (context, FALSE))
        g_usleep (100);
    }
  kaa_test_drain (context);
}

/* ---------------------------------------------- a worker with a context */

typedef struct
{
  void     (*func) (gpointer data);
  gpointer   data;
  gint       done;   /* atomic */
} WorkerCall;

static gpointer
worker_main (gpointer data)
{
  KaaTestWorker *w = data;
  /* A copy: the starting thread clears the field after the join. */
  GMainContext *context = w->context;

  g_main_context_push_thread_default (context);
  g_atomic_int_set (&w->running, 1);
  while (!g_atomic_int_get (&w->quit))
    {
      WorkerCall *call = g_atomic_pointer_exchange (&w->call, NULL);

      if (call == NULL)
        {
          g_main_context_iteration (context, TRUE);
          continue;
        }
      call->func (call->data);
      g_atomic_int_set (&call->done, 1);
    }
  g_main_context_pop_thread_default (context);
  /* The last reference: the context dies here, on its own thread, once
   * the killer's wake-up is over (it writes the context's eventfd). */
  kaa_test_spin_until (&w->let_go, 1);
  g_main_context_unref (context);
  return NULL;
}

/* Starts a thread that runs a context of its own, thread-default there,
 * and returns once it runs it. */
void
kaa_test_worker_start (KaaTestWorker *w)
{
  *w = (KaaTestWorker) { g_main_context_new (), NULL, NULL, 0, 0, 0 };
  w->thread = g_thread_new ("kaa-test-worker", worker_main, w);
  kaa_test_spin_until (&w->running, 1);
}

/* Runs @func on the worker's thread, its context thread-default, between
 * two iterations, and waits for it. */
void
kaa_test_worker_call (KaaTestWorker *w,
                      void         (*func) (gpointer data),
                      gpointer       data)
{
  WorkerCall call = { func, data, 0 };

  g_atomic_pointer_set (&w->call, &call);
  g_main_context_wakeup (w->context);
  kaa_test_spin_until (&call.done, 1);
}

/* Stops the worker and joins it; its context dies on its thread. */
void
kaa_test_worker_kill (KaaTestWorker *w)
{
  g_atomic_int_set (&w->quit, 1);
  g_main_context_wakeup (w->context);
  g_atomic_int_set (&w->let_go, 1);
  g_thread_join (w->thread);
  w->context = NULL;
}

/* ------------------------------------- a settle racing pause and resume */

static gpointer
settler_main (gpointer data)
{
  KaaTestSettler *s = data;

  while (!g_atomic_int_get (&s->stop))
    {
      gpointer item = g_atomic_pointer_exchange (&s->item, NULL);

      if (item == NULL)
        {
          g_thread_yield ();
          continue;
        }
      s->settle (item);
      g_atomic_int_inc (&s->settled);
    }
  return NULL;
}

void
kaa_test_settler_start (KaaTestSettler *s,
                        void          (*settle) (gpointer item))
{
  *s = (KaaTestSettler) { NULL, settle, NULL, 0, 0, 0 };
  s->thread = g_thread_new ("kaa-test-settler", settler_main, s);
}

/* Hands @item to the settler, then pauses and resumes the first of @ips
 * (owned by this thread) that is not done, until all are or the settle
 * call has returned (what it did may have gone by a paused one): the
 * hooks run while the settler settles that same one. Returns once the
 * settle call has. */
void
kaa_test_settler_race (KaaTestSettler *s,
                       gpointer        item,
                       KaaInProgress **ips,
                       guint           n_ips)
{
  gint64 deadline = g_get_monotonic_time () + KAA_TEST_WATCHDOG_SEC * G_USEC_PER_SEC;
  guint first = 0;

  s->given++;
  g_atomic_pointer_set (&s->item, item);
  while (first < n_ips && g_atomic_int_get (&s->settled) < s->given)
    {
      if (kaa_in_progress_is_done (ips[first]))
        {
          first++;
          continue;
        }
      kaa_in_progress_pause (ips[first]);
      kaa_in_progress_resume (ips[first]);
      if (g_get_monotonic_time () > deadline)
        g_error ("watchdog: the settler did not settle within %d s", KAA_TEST_WATCHDOG_SEC);
    }
  /* Then the settler is done with @item and @ips. */
  while (g_atomic_int_get (&s->settled) < s->given)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("watchdog: the settler did not return within %d s", KAA_TEST_WATCHDOG_SEC);
      g_thread_yield ();
    }
}

void
kaa_test_settler_stop (KaaTestSettler *s)
{
  g_atomic_int_set (&s->stop, 1);
  g_thread_join (s->thread);
}

/* ------------------------------------------- a deep chain of coroutines */

typedef struct
{
  KaaTestDeep *deep;
  guint        level;
} DeepLevel;

static void
deep_level_cleanup (DeepLevel *level)
{
  level->deep->cleaned[level->deep->n_cleaned++] = level->level;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DeepLevel, deep_level_cleanup)

static const KaaCoroutineDef deep_def;

static void
body_deep (KaaCoroutine *co,
           gpointer      data)
{
  g_autoptr(DeepLevel) self = data;
  KaaInProgress *below;

  if (self->level == 0)
    below = kaa_in_progress_ref (self->deep->bottom);
  else
    {
      DeepLevel *next = g_new (DeepLevel, 1);

      next->deep = self->deep;
      next->level = self->level - 1;
      below = kaa_coroutine_spawn_def (&deep_def, NULL, next, g_free);
    }
  kaa_await (below, NULL);
}

/* Small stacks: a million of these are alive at once. */
static const KaaCoroutineDef deep_def = { .name = "deep", .func = body_deep,
                                          .stack_size = 16 * 1024 };

/* Spawns a chain of @depth coroutines: level N awaits level N-1, level 0
 * awaits @deep->bottom, a plain InProgress. Each level records itself in
 * @deep->cleaned when its cleanup runs. Returns the top level. */
KaaInProgress *
kaa_test_deep_new (KaaTestDeep *deep,
                   guint        depth)
{
  DeepLevel *top = g_new (DeepLevel, 1);

  deep->depth = depth;
  deep->cleaned = g_new (guint, depth);
  deep->n_cleaned = 0;
  deep->bottom = kaa_in_progress_new ();
  top->deep = deep;
  top->level = depth - 1;
  return kaa_coroutine_spawn_def (&deep_def, NULL, top, g_free);
}

/* Checks that every level of @deep was unwound once, innermost first. */
void
kaa_test_deep_assert_unwound (KaaTestDeep *deep)
{
  g_assert_cmpuint (deep->n_cleaned, ==, deep->depth);
  for (guint i = 0; i < deep->depth; i++)
    if (deep->cleaned[i] != i)
      g_error ("cleanup %u ran for level %u", i, deep->cleaned[i]);
}

void
kaa_test_deep_clear (KaaTestDeep *deep)
{
  g_clear_pointer (&deep->cleaned, g_free);
  g_clear_pointer (&deep->bottom, kaa_in_progress_unref);
}

void
kaa_test_finally_run (KaaTestFinally *finally)
{
  g_atomic_int_inc (finally->counter);
}
