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
#include "kaa-in-progress-await-private.h"
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

/* Expects the critical a use of "test-late" after its last unref gives in
 * @function. */
static void
expect_freed (const char *function)
{
  g_autofree char *pattern = g_strdup_printf ("*%s: InProgress test-late (*) was already freed*",
                                              function);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, pattern);
}

static void
test_getters_after_last_unref (Fixture      *f,
                               gconstpointer data)
{
  KaaInProgress *ip;
  gint64 position = -1, total = -1;

  g_test_summary ("Every getter and setter called after the last unref logs a critical "
                  "naming the InProgress, and touches nothing (DESIGN §2)");
  if (!late_use_allowed ())
    return;

  ip = finished_named ("test-late");
  kaa_in_progress_unref (ip);

  expect_freed ("kaa_in_progress_is_done");
  /* Nothing will ever happen to it again: a loop waiting for it ends. */
  g_assert_true (kaa_in_progress_is_done (ip));
  expect_freed ("kaa_in_progress_get_name");
  g_assert_null (kaa_in_progress_get_name (ip));
  expect_freed ("kaa_in_progress_set_name");
  kaa_in_progress_set_name (ip, "renamed");
  expect_freed ("kaa_in_progress_get_context");
  g_assert_null (kaa_in_progress_get_context (ip));
  expect_freed ("kaa_in_progress_get_cancellable");
  g_assert_null (kaa_in_progress_get_cancellable (ip));
  expect_freed ("kaa_in_progress_is_paused");
  g_assert_false (kaa_in_progress_is_paused (ip));
  expect_freed ("kaa_in_progress_get_progress");
  g_assert_false (kaa_in_progress_get_progress (ip, &position, &total));
  g_assert_cmpint (position, ==, 0);
  g_assert_cmpint (total, ==, 0);
  expect_freed ("kaa_in_progress_set_progress");
  kaa_in_progress_set_progress (ip, 1, 2);
  expect_freed ("kaa_in_progress_get_fraction");
  g_assert_cmpfloat (kaa_in_progress_get_fraction (ip), ==, 0.0);
  expect_freed ("kaa_in_progress_connect_progress");
  g_assert_cmpuint (kaa_in_progress_connect_progress (ip, never_called, NULL, NULL),
                    ==, 0);
  expect_freed ("kaa_in_progress_set_progress_interval");
  kaa_in_progress_set_progress_interval (ip, 5);
  g_test_assert_expected_messages ();
  kaa_test_still_works ();
}

/* A block freed just now, whose tombstone names it: without the
 * quarantine, the next allocation takes the block back. */
static KaaInProgress *
freed_late (void)
{
  KaaInProgress *ip = finished_named ("test-late");

  kaa_in_progress_unref (ip);
  return ip;
}

static void
assert_invalid_argument (KaaInProgress *result)
{
  g_test_assert_expected_messages ();
  g_assert_error (kaa_in_progress_get_error (result), KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
  kaa_in_progress_unref (result);
}

/* Each takes the reference it is given: given a freed one, each must
 * neither count on it nor release it again, and must fail, not wait. */
static void
test_waiting_on_freed (Fixture      *f,
                       gconstpointer data)
{
  KaaInProgress *follower;
  KaaScope *scope;
  KaaInProgress *ip;

  g_test_summary ("What waits on an InProgress given after its last unref (timeout, "
                  "shield, any, finish_from, a scope) names it and fails at once");
  if (!late_use_allowed ())
    return;

  ip = freed_late ();
  expect_freed ("kaa_timeout");
  assert_invalid_argument (kaa_timeout (ip, 10, TRUE));

  ip = freed_late ();
  expect_freed ("kaa_in_progress_shield");
  assert_invalid_argument (kaa_in_progress_shield (ip));

  {
    KaaInProgress *inputs[2] = { kaa_in_progress_new (), freed_late () };

    expect_freed ("kaa_any");
    g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*kaa_any*inputs_are_valid*");
    /* The live input is released, as a rejected call must: the
     * fixture's teardown finds no InProgress left. */
    assert_invalid_argument (kaa_any (inputs, 2));
  }

  follower = kaa_in_progress_new ();
  ip = freed_late ();
  expect_freed ("kaa_in_progress_finish_from");
  kaa_in_progress_finish_from (follower, ip);
  g_test_assert_expected_messages ();
  g_assert_false (kaa_in_progress_is_done (follower));
  kaa_in_progress_cancel (follower);
  kaa_in_progress_unref (follower);

  scope = kaa_scope_new (0);
  ip = freed_late ();
  expect_freed ("kaa_scope_add");
  kaa_scope_add (scope, ip);
  g_test_assert_expected_messages ();
  kaa_scope_cancel (scope);
  kaa_scope_unref (scope);
  kaa_test_drain (f->context);
  kaa_test_still_works ();
}

static void
body_awaits_twice (KaaCoroutine *co,
                   gpointer      data)
{
  KaaInProgress *ip = finished_named ("test-late");
  g_autoptr(GError) error = NULL;

  g_assert_true (kaa_await (ip, NULL));
  /* The first await took the only reference and released it. */
  expect_freed ("kaa_await");
  g_assert_false (kaa_await (ip, &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  expect_freed ("kaa_await_borrowed");
  g_assert_false (kaa_await_borrowed (ip, &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
  *(gboolean *) data = TRUE;
}

static void
test_await_after_last_unref (Fixture      *f,
                             gconstpointer data)
{
  gboolean returned = FALSE;
  KaaInProgress *co;

  g_test_summary ("Awaiting an InProgress a first await took and released names it and "
                  "fails with KAA_ERROR_INVALID_ARGUMENT: it does not wait forever");
  if (!late_use_allowed ())
    return;

  co = kaa_coroutine_spawn (body_awaits_twice, &returned, NULL);
  kaa_test_pump_until_done (f->context, co);
  g_assert_true (returned);
  g_assert_true (kaa_in_progress_propagate (co, NULL));
  kaa_in_progress_unref (co);
}

static void
body_awaits_given (KaaCoroutine *co,
                   gpointer      data)
{
  g_assert_true (kaa_await (data, NULL));
}

static void
test_unref_while_awaited (Fixture      *f,
                          gconstpointer data)
{
  KaaInProgress *ip = kaa_in_progress_new ();
  KaaInProgress *nap;
  KaaInProgress *co;
  KaaInProgress *napper;

  g_test_summary ("An unref too many of an InProgress a coroutine awaits is named, and "
                  "the coroutine still gets it: its reference was given, not shared");

  kaa_in_progress_set_static_name (ip, "test-given");
  co = kaa_coroutine_spawn (body_awaits_given, ip, NULL);
  g_assert_cmpuint (kaa_in_progress_get_awaiters_for_testing (ip), ==, 1);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_in_progress_unref: InProgress test-given (*) lost its last "
                         "reference while something still awaits it*");
  kaa_in_progress_unref (ip);
  g_test_assert_expected_messages ();
  /* Still alive: the await holds the reference it was given. */
  kaa_in_progress_finish_int64 (ip, 3);
  kaa_test_pump_until_done (f->context, co);
  g_assert_true (kaa_in_progress_propagate (co, NULL));
  kaa_in_progress_unref (co);

  /* The sleep's timer holds a reference of its own: the unref too many
   * is found when the timer lets go of it, as it settles. Made only now:
   * the loop above, slow under Valgrind, must not have run it out. */
  nap = kaa_sleep (5);
  kaa_in_progress_set_static_name (nap, "test-nap");
  napper = kaa_coroutine_spawn (body_awaits_given, nap, NULL);
  kaa_in_progress_unref (nap);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*InProgress test-nap (*) lost its last reference while something "
                         "still awaits it*");
  kaa_test_pump_until_done (f->context, napper);
  g_test_assert_expected_messages ();
  g_assert_true (kaa_in_progress_propagate (napper, NULL));
  kaa_in_progress_unref (napper);

  /* A combinator awaits its inputs with the references it was given, as
   * a coroutine does: the same unref too many keeps it going. */
  {
    KaaInProgress *input = kaa_in_progress_new ();
    KaaInProgress *any;

    kaa_in_progress_set_static_name (input, "test-input");
    any = kaa_any (&input, 1);
    g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                           "*kaa_in_progress_unref: InProgress test-input (*) lost its last "
                           "reference while something still awaits it*");
    kaa_in_progress_unref (input);
    g_test_assert_expected_messages ();
    kaa_in_progress_finish_int64 (input, 4);
    kaa_test_pump_until_done (f->context, any);
    g_assert_cmpint (kaa_in_progress_get_int64 (any), ==, 0);
    kaa_in_progress_unref (any);
  }
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
  KAA_TEST_ADD ("getters-after-last-unref", test_getters_after_last_unref);
  KAA_TEST_ADD ("waiting-on-freed", test_waiting_on_freed);
  KAA_TEST_ADD ("await-after-last-unref", test_await_after_last_unref);
  KAA_TEST_ADD ("unref-while-awaited", test_unref_while_awaited);
  g_test_add_func ("/kaa/misuse-refs/block-cache-poison", test_block_cache_poison);

  return g_test_run ();
}
