/* test-semaphore-threads.c: KaaSemaphore and KaaMutex across threads (DESIGN §9, issue #18 §3)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Threads blocking in acquire_wait, thread-pool jobs and coroutines
 * sharing one semaphore, a job's cancel reaching its blocked wait, and
 * the race between a release on one thread and a cancel of the waiter
 * it serves on another: whoever wins, the permit is held by exactly one
 * side.
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "semaphore-threads"
#define ISSUE "18"

#define PERMITS 3

typedef struct
{
  KaaSemaphore *sem;
  KaaMutex     *mutex;
  gint          in_flight;       /* atomic */
  gint          max_in_flight;   /* atomic */
  gint          rounds;
  gint          unguarded;       /* changed only under the mutex */
} Shared;

static void
enter (Shared *s)
{
  gint now = g_atomic_int_add (&s->in_flight, 1) + 1;
  gint max = g_atomic_int_get (&s->max_in_flight);

  g_assert_cmpint (now, <=, PERMITS);
  while (now > max && !g_atomic_int_compare_and_exchange_full (&s->max_in_flight, max, now, &max))
    ;
}

static void
leave (Shared *s)
{
  g_atomic_int_add (&s->in_flight, -1);
}

static gpointer
blocking_worker (gpointer data)
{
  Shared *s = data;

  for (gint i = 0; i < s->rounds; i++)
    {
      /* The lock-free path, against the line of the others. */
      if (kaa_semaphore_try_acquire (s->sem))
        {
          enter (s);
          leave (s);
          kaa_semaphore_release (s->sem);
        }
      g_assert_true (kaa_semaphore_acquire_wait (s->sem, NULL, NULL));
      enter (s);
      g_thread_yield ();
      leave (s);
      kaa_semaphore_release (s->sem);

      g_assert_true (kaa_mutex_lock_wait (s->mutex, NULL, NULL));
      s->unguarded++;
      kaa_mutex_unlock (s->mutex);
    }
  return NULL;
}

static void
test_blocking_threads (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (PERMITS);
  g_autoptr(KaaMutex) mutex = kaa_mutex_new ();
  Shared s = { sem, mutex, .rounds = KAA_TEST_TSAN ? 300 : 3000 };
  GThread *threads[6];

  g_test_summary ("DESIGN §9: threads blocking for permits never exceed the limit, "
                  "a KaaMutex excludes threads, and no permit leaks");
  g_test_bug (ISSUE);

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("kaa-sem-test", blocking_worker, &s);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_cmpint (s.unguarded, ==, s.rounds * (gint) G_N_ELEMENTS (threads));
  g_assert_cmpint (s.in_flight, ==, 0);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, PERMITS);
  g_assert_false (kaa_mutex_is_locked (mutex));
}

/* ----------------------------------------------- jobs and coroutines */

static gpointer
job_body (KaaThreadJob  *job,
          gpointer       data,
          GError       **error)
{
  Shared *s = data;

  if (!kaa_semaphore_acquire_wait (s->sem, kaa_thread_job_get_cancellable (job), error))
    return NULL;
  enter (s);
  g_usleep (200);
  leave (s);
  kaa_semaphore_release (s->sem);
  return NULL;
}

static void
coroutine_body (KaaCoroutine *co,
                gpointer      data)
{
  Shared *s = data;
  g_autoptr(KaaPermit) permit = kaa_semaphore_await (s->sem, NULL);

  if (permit == NULL)
    return;
  enter (s);
  kaa_await (kaa_sleep (1), NULL);
  leave (s);
}

static void
test_jobs_and_coroutines (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (PERMITS);
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (4);
  g_autoptr(GPtrArray) all =
    g_ptr_array_new_with_free_func ((GDestroyNotify) kaa_in_progress_unref);
  Shared s = { sem };
  GSource *watchdog = kaa_test_watchdog_new (f->context, "jobs and coroutines");

  g_test_summary ("DESIGN §9: thread-pool jobs blocking for permits and coroutines "
                  "awaiting them share one limit");
  g_test_bug (ISSUE);

  for (guint i = 0; i < 100; i++)
    {
      g_ptr_array_add (all, kaa_thread_pool_run (pool, 0, job_body, &s, NULL));
      g_ptr_array_add (all, kaa_coroutine_spawn (coroutine_body, &s, NULL));
    }
  for (guint i = 0; i < all->len; i++)
    while (!kaa_in_progress_is_done (g_ptr_array_index (all, i)))
      g_main_context_iteration (f->context, TRUE);
  kaa_test_watchdog_free (watchdog);
  for (guint i = 0; i < all->len; i++)
    g_assert_cmpint (kaa_in_progress_get_state (g_ptr_array_index (all, i)), ==,
                     KAA_STATE_FINISHED);
  g_assert_cmpint (s.max_in_flight, >=, 1);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, PERMITS);
}

static void
test_job_cancel (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  g_autoptr(KaaInProgress) job = NULL;
  Shared s = { sem };

  g_test_summary ("DESIGN §5, §9: a job blocked for a permit gives up when it is "
                  "cancelled, through its GCancellable, and holds nothing");
  g_test_bug (ISSUE);

  g_assert_true (kaa_semaphore_try_acquire (sem));
  job = kaa_thread_pool_run (pool, 0, job_body, &s, NULL);
  while (kaa_semaphore_get_n_waiting (sem) == 0)
    g_usleep (100);
  kaa_in_progress_cancel (job);
  while (kaa_semaphore_get_n_waiting (sem) != 0)
    g_usleep (100);
  kaa_semaphore_release (sem);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
  kaa_test_pool_still_works (pool);
}

static gpointer
acquire_wait_thread (gpointer data)
{
  return GINT_TO_POINTER (kaa_semaphore_acquire_wait (data, NULL, NULL));
}

static void
test_blocked_behind_paused (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  g_autoptr(KaaInProgress) paused = NULL;
  GThread *thread;

  g_test_summary ("DESIGN §9: a thread that comes to a line of paused waiters with "
                  "a permit free takes it at once, without a release");
  g_test_bug (ISSUE);

  g_assert_true (kaa_semaphore_try_acquire (sem));
  paused = kaa_semaphore_acquire (sem);
  kaa_in_progress_pause (paused);
  kaa_semaphore_release (sem);
  thread = g_thread_new ("kaa-sem-paused", acquire_wait_thread, sem);
  g_assert_true (GPOINTER_TO_INT (g_thread_join (thread)));
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 0);
  kaa_in_progress_cancel (paused);
  kaa_semaphore_release (sem);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
}

/* --------------------------------------------- release against cancel */

typedef struct
{
  KaaSemaphore *sem;
  gint          go;     /* atomic: the round to release in */
  gint          done;   /* atomic: the last round released */
  gint          rounds;
} Race;

static gpointer
releaser (gpointer data)
{
  Race *race = data;

  for (gint round = 1; round <= race->rounds; round++)
    {
      /* Not kaa_test_spin_until(), whose sleeps would lose every race. */
      while (g_atomic_int_get (&race->go) < round)
        g_thread_yield ();
      kaa_semaphore_release (race->sem);
      g_atomic_int_set (&race->done, round);
    }
  return NULL;
}

static void
test_release_races_cancel (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  Race race = { sem, .rounds = KAA_TEST_TSAN ? 200 : 2000 };
  GThread *thread = g_thread_new ("kaa-sem-race", releaser, &race);
  guint served = 0;

  g_test_summary ("DESIGN §9: a release on one thread racing a cancel of the waiter "
                  "on the owner thread leaves the permit with exactly one side");
  g_test_bug (ISSUE);

  for (gint round = 1; round <= race.rounds; round++)
    {
      g_autoptr(KaaInProgress) waiter = NULL;

      g_assert_true (kaa_semaphore_try_acquire (sem));   /* the releaser's */
      waiter = kaa_semaphore_acquire (sem);
      g_atomic_int_set (&race.go, round);
      /* A varying head start for the releaser, so that rounds fall on
       * either side of the race and into its window. */
      for (volatile gint spin = g_test_rand_int_range (0, 50000); spin > 0; spin--)
        ;
      kaa_in_progress_cancel (waiter);
      kaa_test_wait_for_round (&race.done, round);
      kaa_test_drain (f->context);
      if (kaa_in_progress_get_state (waiter) == KAA_STATE_FINISHED)
        {
          served++;
          kaa_semaphore_release (sem);
        }
      else
        g_assert_cmpint (kaa_in_progress_get_state (waiter), ==, KAA_STATE_CANCELLED);
      g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
      g_assert_cmpuint (kaa_semaphore_get_n_waiting (sem), ==, 0);
    }
  g_thread_join (thread);
  g_test_message ("served before the cancel in %u of %d rounds", served, race.rounds);
}

/* ---------------------------------------------- release against pause */

static void
release_batch (gpointer item)
{
  for (guint i = 0; i < KAA_TEST_RACE_BATCH; i++)
    kaa_semaphore_release (item);
}

static void
test_release_races_pause (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (KAA_TEST_RACE_BATCH);
  KaaTestSettler settler;
  guint batches = 80;

  g_test_summary ("DESIGN §2, §9: a release on one thread that serves a waiter while "
                  "the owner pauses and resumes it frees the waiter once, never under "
                  "its pause or resume hook");

  /*   main (holds every permit)            settler
   *   acquire x 256: waiters in line
   *   pause, resume the first not done     release x 256: each serves a waiter
   *   (skipped while paused: its resume      and frees it
   *    hands a permit out, here)
   *   the waiters' permits are the settler's to release next batch */
  for (guint i = 0; i < KAA_TEST_RACE_BATCH; i++)
    g_assert_true (kaa_semaphore_try_acquire (sem));
  kaa_test_settler_start (&settler, release_batch);
  for (guint batch = 0; batch < batches; batch++)
    {
      KaaInProgress *waiters[KAA_TEST_RACE_BATCH];

      for (guint i = 0; i < KAA_TEST_RACE_BATCH; i++)
        waiters[i] = kaa_semaphore_acquire (sem);
      kaa_test_settler_race (&settler, sem, waiters, KAA_TEST_RACE_BATCH);
      for (guint i = 0; i < KAA_TEST_RACE_BATCH; i++)
        {
          kaa_test_pump_until_done (f->context, waiters[i]);
          g_assert_true (kaa_in_progress_get_boolean (waiters[i]));
          kaa_in_progress_unref (waiters[i]);
        }
    }
  kaa_test_settler_stop (&settler);
  release_batch (sem);
  kaa_test_drain (f->context);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, KAA_TEST_RACE_BATCH);
  g_assert_cmpuint (kaa_semaphore_get_n_waiting (sem), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_bug_base ("issue #");

  KAA_TEST_ADD ("blocking-threads", test_blocking_threads);
  KAA_TEST_ADD ("jobs-and-coroutines", test_jobs_and_coroutines);
  KAA_TEST_ADD ("job-cancel", test_job_cancel);
  KAA_TEST_ADD ("blocked-behind-paused", test_blocked_behind_paused);
  KAA_TEST_ADD ("release-races-cancel", test_release_races_cancel);
  KAA_TEST_ADD ("release-races-pause", test_release_races_pause);
  return g_test_run ();
}
