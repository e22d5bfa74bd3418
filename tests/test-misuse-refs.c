/* test-misuse-refs.c: an unref too many is caught and named (DESIGN §2; issue #16)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run twice (tests/meson.build): once as is, where finalize leaves a
 * tombstone in the freed block and the check is a best effort, and once
 * with KAA_DEBUG=refs, where freed InProgresses are quarantined and a
 * late unref is always caught. Without the quarantine, a late use touches
 * freed memory, which ASan and Valgrind rightly report: those cases skip
 * themselves there.
 */
#include "config.h"

#include <string.h>

#include "kaa-test-util.h"
#include "kaa-thread-pool-block-cache-private.h"
#include "kaa-in-progress-private.h"
#include "kaa-thread-pool-private.h"
#include "kaa-live-private.h"

#if HAVE_VALGRIND
# include <valgrind/valgrind.h>
#else
# define RUNNING_ON_VALGRIND 0
#endif

#if defined (__SANITIZE_ADDRESS__) || defined (__SANITIZE_THREAD__)
# define UNDER_SANITIZER 1
#elif defined (__has_feature)
# if __has_feature (address_sanitizer) || __has_feature (thread_sanitizer)
#  define UNDER_SANITIZER 1
# endif
#endif
#ifndef UNDER_SANITIZER
# define UNDER_SANITIZER 0
#endif

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "misuse-refs"

static gboolean
quarantined (void)
{
  return (kaa_debug_flags & KAA_DEBUG_REFS) != 0;
}

/* Whether this run may touch an InProgress after its last unref. */
static gboolean
late_use_allowed (void)
{
  if (quarantined ())
    return TRUE;
  if (UNDER_SANITIZER || RUNNING_ON_VALGRIND)
    {
      g_test_skip ("a late use without KAA_DEBUG=refs touches freed memory");
      return FALSE;
    }
  return TRUE;
}

static void
never_called (KaaInProgress *ip,
              gpointer       data)
{
  g_assert_not_reached ();
}

static KaaInProgress *
finished_named (const char *name)
{
  KaaInProgress *ip = kaa_in_progress_new ();

  kaa_in_progress_set_static_name (ip, name);
  kaa_in_progress_finish_int64 (ip, 1);
  return ip;
}

static void
test_unref_too_many (Fixture      *f,
                     gconstpointer data)
{
  KaaInProgress *ip;

  g_test_summary ("An unref after the last one logs a critical naming the "
                  "InProgress, and corrupts nothing (DESIGN §2)");
  g_test_bug ("16");
  if (!late_use_allowed ())
    return;

  ip = finished_named ("test-download");
  kaa_in_progress_unref (ip);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_in_progress_unref: InProgress test-download (*) was already "
                         "freed: this is an unref too many*");
  kaa_in_progress_unref (ip);
  g_test_assert_expected_messages ();

  /* Still caught the second time: the check undid its own decrement. */
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_in_progress_unref: InProgress test-download (*) was already freed*");
  kaa_in_progress_unref (ip);
  g_test_assert_expected_messages ();
  kaa_test_still_works ();
}

static void
test_use_after_last_unref (Fixture      *f,
                           gconstpointer data)
{
  KaaInProgress *ip;

  g_test_summary ("A ref, a finish, a cancel or a getter after the last unref "
                  "logs a critical naming the InProgress (DESIGN §2)");
  g_test_bug ("16");
  if (!late_use_allowed ())
    return;

  ip = kaa_in_progress_new ();
  kaa_in_progress_set_static_name (ip, "test-late");
  kaa_in_progress_unref (ip);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_in_progress_ref: InProgress test-late (*) was already freed*");
  g_assert_true (kaa_in_progress_ref (ip) == ip);
  g_test_assert_expected_messages ();
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_in_progress_finish_int64: InProgress test-late (*) was already freed*");
  kaa_in_progress_finish_int64 (ip, 2);
  g_test_assert_expected_messages ();
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_in_progress_cancel: InProgress test-late (*) was already freed*");
  kaa_in_progress_cancel (ip);
  g_test_assert_expected_messages ();
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_in_progress_get_int64: InProgress test-late (*) was already freed*");
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 0);
  g_test_assert_expected_messages ();
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_in_progress_connect: InProgress test-late (*) was already freed*");
  g_assert_cmpuint (kaa_in_progress_connect (ip, never_called, NULL, NULL),
                    ==, 0);
  g_test_assert_expected_messages ();
  kaa_test_still_works ();
}

static gpointer
job_returns_seven (KaaThreadJob *job,
                   gpointer      data,
                   GError      **error)
{
  kaa_thread_job_return_int64 (job, 7);
  return NULL;
}

/* Drops @ip and waits until its memory is gone: the job holds a
 * reference of its own until it has returned on its worker. */
static void
unref_until_freed (Fixture       *f,
                   KaaInProgress *ip)
{
  gint64 deadline = g_get_monotonic_time () + KAA_TEST_WATCHDOG_SEC * G_USEC_PER_SEC;

  kaa_in_progress_unref (ip);
  while (kaa_live_get (KAA_LIVE_IN_PROGRESS) != f->live[KAA_LIVE_IN_PROGRESS])
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (f->context, FALSE);
      g_usleep (1000);
    }
}

static void
test_cached_block (Fixture      *f,
                   gconstpointer data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  guint cached_before = kaa_thread_job_cache_get_n_cached_for_testing ();
  KaaInProgress *ip;

  g_test_summary ("The block of a thread job is poisoned in the cache, so that "
                  "an unref after the last one is caught there too (DESIGN §2)");
  g_test_bug ("16");

  ip = kaa_thread_pool_run (pool, 0, job_returns_seven, NULL, NULL);
  g_assert_true (kaa_in_progress_wait (ip, NULL));
  unref_until_freed (f, ip);

  if (quarantined ())
    g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                           "*kaa_in_progress_unref: InProgress thread job (*) was already freed*");
  else if (kaa_thread_job_cache_get_n_cached_for_testing () > cached_before)
    g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                           "*kaa_in_progress_unref: InProgress * was already freed*"
                           "KAA_DEBUG=refs*");
  else
    {
      g_test_skip ("the block cache is bypassed in this build");
      return;
    }
  kaa_in_progress_unref (ip);
  g_test_assert_expected_messages ();
  {
    g_autoptr(KaaInProgress) again = kaa_thread_pool_run (pool, 0, job_returns_seven, NULL, NULL);

    g_assert_true (kaa_in_progress_wait (again, NULL));
    g_assert_cmpint (kaa_in_progress_get_int64 (again), ==, 7);
  }
}

static void
test_block_cache_poison (void)
{
  KaaBlockCache cache = KAA_BLOCK_CACHE_INIT;
  guint8 *block;

  g_test_summary ("A block waiting in a cache holds poison, not a plausible "
                  "stale object (DESIGN §2)");
  g_test_bug ("16");

  block = kaa_block_cache_alloc0 (&cache, 200);
  memset (block, 0x11, 200);
  kaa_block_cache_free (&cache, block);
  if (kaa_block_cache_get_n_cached (&cache) != 1)
    g_test_skip ("the block cache is bypassed in this build");
  else
    for (guint i = sizeof (gpointer); i < 200; i++)
      g_assert_cmphex (block[i], ==, KAA_BLOCK_CACHE_POISON);
  kaa_block_cache_decay (&cache, 0, TRUE);
  g_mutex_clear (&cache.lock);
}

static void
test_quarantine (Fixture      *f,
                 gconstpointer data)
{
  KaaInProgress *ip;

  g_test_summary ("With KAA_DEBUG=refs an unref after the last one is caught "
                  "and named even after thousands of other frees (DESIGN §2, §10)");
  g_test_bug ("16");
  if (!quarantined ())
    {
      g_test_skip ("needs KAA_DEBUG=refs");
      return;
    }

  ip = kaa_in_progress_new ();
  kaa_in_progress_set_name (ip, "test-quarantined");
  kaa_in_progress_unref (ip);
  /* Without the quarantine, malloc would hand the block out again. */
  for (guint i = 0; i < 1000; i++)
    {
      KaaInProgress *other = kaa_in_progress_new ();

      kaa_in_progress_set_name (other, "other");
      kaa_in_progress_unref (other);
    }
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_in_progress_unref: InProgress test-quarantined (*) was already freed*");
  kaa_in_progress_unref (ip);
  g_test_assert_expected_messages ();
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);


  KAA_TEST_ADD ("unref-too-many", test_unref_too_many);
  KAA_TEST_ADD ("use-after-last-unref", test_use_after_last_unref);
  KAA_TEST_ADD ("cached-block", test_cached_block);
  KAA_TEST_ADD ("quarantine", test_quarantine);
  g_test_add_func ("/kaa/misuse-refs/block-cache-poison", test_block_cache_poison);

  return g_test_run ();
}
