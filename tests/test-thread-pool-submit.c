/* test-thread-pool-submit.c: the lock-free way jobs enter a pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A submission pushes its job on the pool's incoming stack and takes the
 * pool's lock only when no awake worker is sure to find it there. These
 * tests check what that must not cost: jobs that could run at once still
 * do, and a job that came in while the pool shut down is cancelled rather
 * than stranded. Both repeat their race many times; each round is bounded
 * by a watchdog, so a lost job fails the test instead of hanging it.
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "thread-pool/submit"

#define PARALLEL_ROUNDS 300
#define SHUTDOWN_ROUNDS 200
#define N_SUBMITTERS 3
#define MAX_SUBMITS 2000

/* ------------------------------------------------------- parallel start */

typedef struct
{
  gint second_started;   /* atomic */
} Pair;

/* Holds its worker until the second job started: fails the test (by the
 * spin's watchdog) unless the two run at once. */
static gpointer
first_func (KaaThreadJob *job,
            gpointer      user_data,
            GError      **error)
{
  Pair *pair = user_data;

  kaa_test_spin_until (&pair->second_started, 1);
  return NULL;
}

static gpointer
second_func (KaaThreadJob *job,
             gpointer      user_data,
             GError      **error)
{
  Pair *pair = user_data;

  g_atomic_int_set (&pair->second_started, 1);
  return NULL;
}

static void
test_parallel_start (Fixture       *f,
                     gconstpointer  data)
{
  g_test_summary ("Issue #4: two jobs submitted back to back on a pool of two run at "
                  "the same time, also when its one thread is spinning and takes both");
  for (guint round = 0; round < PARALLEL_ROUNDS; round++)
    {
      g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (2);
      g_autoptr(KaaInProgress) warm = kaa_thread_pool_run (pool, 0, kaa_test_job_nothing, NULL, NULL);
      g_autoptr(KaaInProgress) first = NULL;
      g_autoptr(KaaInProgress) second = NULL;
      Pair pair = { 0 };

      /* The pool's one thread has just finished a job, so it is spinning
       * and may take both jobs before the second submission looks; now
       * and then it has gone to sleep instead. */
      kaa_test_pump_until_done (f->context, warm);
      if (round % 10 == 9)
        g_usleep (200);
      first = kaa_thread_pool_run (pool, 0, first_func, &pair, NULL);
      second = kaa_thread_pool_run (pool, 0, second_func, &pair, NULL);
      kaa_test_pump_until_done (f->context, first);
      kaa_test_pump_until_done (f->context, second);
      kaa_thread_pool_shutdown (pool);
    }
}

/* ------------------------------------------------------ racing shutdown */

typedef struct
{
  KaaThreadPool *pool;
  GPtrArray     *jobs;      /* owned by the submitter until joined */
  gint          *go;        /* atomic */
} Submitter;

/* Submits until the pool refuses, then a few more; at most
 * MAX_SUBMITS, for a thread the shutdown is slow to reach (Valgrind runs
 * one thread at a time). */
static gpointer
submitter_main (gpointer data)
{
  Submitter *submitter = data;
  guint after = 0;

  kaa_test_spin_until (submitter->go, 1);
  for (guint n = 0; after < 8 && n < MAX_SUBMITS; n++)
    {
      KaaInProgress *ip = kaa_thread_pool_run (submitter->pool, 0, kaa_test_job_nothing, NULL, NULL);

      if (kaa_in_progress_get_state (ip) == KAA_STATE_FAILED ||
          kaa_thread_pool_get_n_threads (submitter->pool) == 0)
        after++;
      g_ptr_array_add (submitter->jobs, ip);
    }
  return NULL;
}

static void
assert_all_settled (GPtrArray *jobs)
{
  GMainContext *context = g_main_context_default ();
  GSource *watchdog;

  /* The submitters have no thread-default context: their jobs belong to
   * the global default one, which this thread iterates now. */
  g_assert_true (g_main_context_acquire (context));
  watchdog = kaa_test_watchdog_new (context, "a job submitted during shutdown");
  for (guint i = 0; i < jobs->len; i++)
    {
      KaaInProgress *ip = jobs->pdata[i];

      while (!kaa_in_progress_is_done (ip))
        g_main_context_iteration (context, TRUE);
      if (kaa_in_progress_get_state (ip) == KAA_STATE_FAILED)
        g_assert_error (kaa_in_progress_get_error (ip), KAA_ERROR, KAA_ERROR_FAILED);
    }
  kaa_test_watchdog_free (watchdog);
  /* A job cancelled while it ran is settled already; its worker's
   * completion, holding the last reference, may still be on its way. */
  kaa_test_drain (context);
  g_main_context_release (context);
}

static void
test_racing_shutdown (Fixture       *f,
                      gconstpointer  data)
{
  g_test_summary ("Issue #4: a job submitted while its pool shuts down never stays "
                  "pending: it runs, is cancelled or fails");
  for (guint round = 0; round < SHUTDOWN_ROUNDS; round++)
    {
      g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (2);
      Submitter submitters[N_SUBMITTERS];
      GThread *threads[N_SUBMITTERS];
      gint go = 0;

      for (guint i = 0; i < N_SUBMITTERS; i++)
        {
          submitters[i] = (Submitter) { pool, g_ptr_array_new_with_free_func ((GDestroyNotify) kaa_in_progress_unref), &go };
          threads[i] = g_thread_new ("submitter", submitter_main, &submitters[i]);
        }
      g_atomic_int_set (&go, 1);
      /* Somewhere in the submitters' stream. */
      g_usleep (round % 5 * 100);
      kaa_thread_pool_shutdown (pool);
      for (guint i = 0; i < N_SUBMITTERS; i++)
        {
          g_thread_join (threads[i]);
          assert_all_settled (submitters[i].jobs);
          g_ptr_array_unref (submitters[i].jobs);
        }
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("parallel-start", test_parallel_start);
  KAA_TEST_ADD ("racing-shutdown", test_racing_shutdown);

  return g_test_run ();
}
