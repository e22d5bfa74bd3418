/* test-pool-names.c: the thread-pool name rule (issue #22)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A name taken by kaa_thread_pool_new() is in use while the pool has a
 * reference besides the registry's (a job holds one); then it is free for
 * the next kaa_thread_pool_new(). kaa_thread_pool_get() pools keep their
 * name for the life of the process, and a pointer it returned stays valid.
 * Each test uses its own names: the registry is process-wide.
 */
#include "config.h"

#include "kaa-test-util.h"

static gpointer
wait_for_gate (KaaThreadJob *job,
               gpointer      user_data,
               GError      **error)
{
  gint *gate = user_data;

  while (!g_atomic_int_get (gate) && kaa_thread_job_check (job))
    g_usleep (200);
  return NULL;
}

/* The bug of the issue: the second pool used to be the first, with its
 * size, and a critical. */
static void
test_name_freed_with_pool (void)
{
  KaaThreadPool *first = kaa_thread_pool_new ("names-again", 2);
  KaaThreadPool *second;

  g_assert_cmpuint (kaa_thread_pool_get_max_threads (first), ==, 2);
  kaa_thread_pool_unref (first);

  second = kaa_thread_pool_new ("names-again", 4);
  g_assert_cmpuint (kaa_thread_pool_get_max_threads (second), ==, 4);
  g_assert_true (kaa_thread_pool_get ("names-again") == second);
  kaa_thread_pool_shutdown (second);
  kaa_thread_pool_unref (second);
}

static void
test_name_in_use_while_held (void)
{
  KaaThreadPool *pool = kaa_thread_pool_new ("names-held", 2);
  KaaThreadPool *again;

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*already exists*");
  again = kaa_thread_pool_new ("names-held", 4);
  g_test_assert_expected_messages ();
  g_assert_true (again == pool);
  g_assert_cmpuint (kaa_thread_pool_get_max_threads (again), ==, 2);
  kaa_thread_pool_unref (again);
  kaa_thread_pool_unref (pool);
}

/* A job holds the pool, so the name stays taken until it is done. */
static void
test_name_in_use_while_job_runs (void)
{
  KaaThreadPool *pool = kaa_thread_pool_new ("names-job", 1);
  KaaThreadPool *again;
  KaaInProgress *ip;
  gint gate = 0;

  ip = kaa_thread_pool_run (pool, G_PRIORITY_DEFAULT, wait_for_gate, &gate, NULL);
  kaa_thread_pool_unref (pool);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*already exists*");
  again = kaa_thread_pool_new ("names-job", 3);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (kaa_thread_pool_get_max_threads (again), ==, 1);
  kaa_thread_pool_unref (again);

  g_atomic_int_set (&gate, 1);
  g_assert_true (kaa_in_progress_wait (ip, NULL));
  kaa_in_progress_unref (ip);

  /* The job lets go of its pool on the worker, after it settled. */
  for (gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
       kaa_thread_pool_get ("names-job") != NULL &&
       kaa_thread_pool_get_max_threads (kaa_thread_pool_get ("names-job")) == 1; )
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (1000);
    }
  g_assert_cmpuint (kaa_thread_pool_get_max_threads (kaa_thread_pool_get ("names-job")), !=, 1);
}

/* kaa_thread_pool_get() pools keep their name, and its pointer to a pool
 * of kaa_thread_pool_new() stays valid after that one gave its name back. */
static void
test_get_keeps_name_and_pointer (void)
{
  KaaThreadPool *kept = kaa_thread_pool_get ("names-get");
  KaaThreadPool *again;
  KaaThreadPool *made;
  KaaThreadPool *seen;

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*already exists*");
  again = kaa_thread_pool_new ("names-get", 3);
  g_test_assert_expected_messages ();
  g_assert_true (again == kept);
  kaa_thread_pool_unref (again);
  g_assert_true (kaa_thread_pool_get ("names-get") == kept);

  made = kaa_thread_pool_new ("names-made", 3);
  seen = kaa_thread_pool_get ("names-made");
  g_assert_true (seen == made);
  kaa_thread_pool_unref (made);
  /* Still there (ASan and Valgrind would see a use after free), and
   * still runs jobs. */
  g_assert_cmpuint (kaa_thread_pool_get_max_threads (seen), ==, 3);
  kaa_test_pool_still_works (seen);
  g_assert_true (kaa_thread_pool_get ("names-made") != seen);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kaa/pool-names/freed-with-pool", test_name_freed_with_pool);
  g_test_add_func ("/kaa/pool-names/in-use-while-held", test_name_in_use_while_held);
  g_test_add_func ("/kaa/pool-names/in-use-while-job-runs", test_name_in_use_while_job_runs);
  g_test_add_func ("/kaa/pool-names/get-keeps-name-and-pointer", test_get_keeps_name_and_pointer);
  return g_test_run ();
}
